"""Session 28 (helper gaps28): loose ends of session 27 (linear_call printed by make_jaxpr
and make_graph; more in the sections below). The checkify ones (an index of a mixed
basic/advanced index named on the caller's axis, nested checkify) are in test_checkify.py."""

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans.custom_derivatives import linear_call
from functrans.jaxpr import eval_jaxpr

a = fnp.asarray

# -- linear_call as make_jaxpr and make_graph print it -----------------------------------------


def _scale(r, x):
    return x * r


def _scale_t(r, ct):
    return ct * r


def test_linear_call_prints_like_any_equation():
    # its functions by name and JAX's num_res; not its trees nor the box its results' tree
    # is written to (whose repr changed once the call had run)
    def f(x):
        return fnp.sin(linear_call(_scale, _scale_t, 2.0, x))
    x = np.ones(3)
    assert str(ft.make_jaxpr(f)(x)) == (
        "{ lambda ; a:f64[3]. let\n"
        "    b:f64[3] = linear_call[fun=_scale num_res=1 transpose=_scale_t] 2.0:f64[] a\n"
        "    c:f64[3] = sin b\n"
        "  in (c,) }")
    closed = ft.make_jaxpr(ft.grad(lambda x: fnp.sum(f(x))))(x)
    assert str(closed) == (
        "{ lambda ; a:f64[3]. let\n"
        "    b:f64[3] = linear_call[fun=_scale num_res=1 transpose=_scale_t] 2.0:f64[] a\n"
        "    c:f64[3] d:f64[3] = sin_cos b\n"
        "    e:f64[] = reduce_sum[axes=(0,)] c\n"
        "    f:f64[3] = linear_call[fun=_scale_t num_res=1 transpose=_scale] 2.0:f64[] d\n"
        "  in (f,) }")
    # the equation keeps every parameter: evaluating the jaxpr runs the call
    (g,) = eval_jaxpr(closed.jaxpr, closed.consts, x)
    np.testing.assert_allclose(np.asarray(g), 2.0 * np.cos(2.0 * x), rtol=1e-15)
    graph = str(ft.make_graph(f)(x))
    assert "v2: f64[3] = linear_call 2.0 v1  [fun=_scale, transpose=_scale_t, num_res=1]" in \
        graph
    assert "PyTreeSpec" not in graph
    # pytrees of residuals and linear arguments: num_res counts the residual leaves
    text = str(ft.make_jaxpr(lambda x: linear_call(
        lambda r, x: {"y": x[0] * r[0] + x[1] * r[1]},
        lambda r, t: (t["y"] * r[0], t["y"] * r[1]), (2.0, x), (x, x)))(x))
    assert "linear_call[fun=<lambda> num_res=2 transpose=<lambda>] 2.0:f64[] a a a" in text
    assert "PyTreeSpec" not in text and "box" not in text
