"""Session 28 (helper gaps28): loose ends of session 27 (linear_call printed by make_jaxpr
and make_graph; more in the sections below). The checkify ones (an index of a mixed
basic/advanced index named on the caller's axis, nested checkify) are in test_checkify.py."""

import warnings

import numpy as np
import pytest

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

# -- jax_numpy_rank_promotion in the functions of several operands ------------------------------

_A, _B = np.linspace(0.1, 0.9, 3), np.linspace(0.2, 0.8, 6).reshape(2, 3)
_C = _A > 0.5
_RANK_CASES = {  # name -> (call on a (3,) and a (2, 3) operand, refused under 'raise')
    # refused: operands of different ranks broadcast together, as JAX refuses them
    "fmax": (lambda m: m.fmax(_A, _B), True),
    "fmin": (lambda m: m.fmin(_B, _A), True),
    "clip": (lambda m: m.clip(_B, _A, 0.9), True),
    "clip_max": (lambda m: m.clip(_A, None, _B), True),
    "linspace": (lambda m: m.linspace(_A, _B, 4), True),
    "geomspace": (lambda m: m.geomspace(_B, _A, 4), True),
    "logspace": (lambda m: m.logspace(_A, _B, 4), True),
    "maximum": (lambda m: m.maximum(_A, _B), True),
    # allowed, as in JAX: where and select broadcast freely; outer, array_equiv and the
    # spacing of linspace broadcast by definition (no promotion of the caller's)
    "where": (lambda m: m.where(_C, _A, _B), False),
    "select": (lambda m: m.select([_B > 0.5], [_A], 0.0), False),
    "add.outer": (lambda m: m.add.outer(_A, _B), False),
    "multiply.outer": (lambda m: m.multiply.outer(_B, 2.0), False),
    "array_equiv": (lambda m: m.array_equiv(_B, _A), False),
    "linspace_0d": (lambda m: m.linspace(m.asarray(0.0), m.asarray(1.0), 4), False),
    "linspace_same": (lambda m: m.linspace(_B, _B + 1, 4, axis=1), False),
}


def _refused(fn):
    try:
        fn()
    except ValueError as e:
        assert "rank" in str(e) or "Operands could not" in str(e), e
        return True
    return False


def test_rank_promotion_in_functions_of_several_operands():
    for name, (call, refused) in _RANK_CASES.items():
        with ft.numpy_rank_promotion("raise"):
            assert _refused(lambda: call(fnp)) is refused, name
            # on tracers too (user code under jit)
            assert _refused(lambda: ft.jit(lambda: call(fnp))()) is refused, name
        allowed = call(fnp)  # (and what it computes is unchanged)
        np.testing.assert_allclose(np.asarray(allowed, dtype=float),
                                   np.asarray(call(np), dtype=float), rtol=1e-14)
    with ft.numpy_rank_promotion("raise"):
        with pytest.raises(ValueError, match=r"fmax: operands of shapes \(3,\) and \(2, 3\)"):
            fnp.fmax(_A, _B)
        # (same ranks, and 0-d operands, are no rank promotion)
        np.testing.assert_array_equal(fnp.fmax(_B, np.float64(0.5)), np.fmax(_B, 0.5))
        np.testing.assert_array_equal(fnp.fmin(_B, _B[:1]), np.fmin(_B, _B[:1]))
        # deliberate differences: cov's y (more variables, stacked) and trapezoid's 1-d x
        # (the spacing along the axis) are NumPy's meanings, not broadcasting (JAX refuses)
        np.testing.assert_allclose(fnp.cov(_B, _A), np.cov(_B, _A), rtol=1e-13)
        np.testing.assert_allclose(fnp.trapezoid(_B, _A), np.trapezoid(_B, _A), rtol=1e-14)
    with ft.numpy_rank_promotion("warn"):
        with pytest.warns(UserWarning, match="fmin: broadcasting operands") as rec:
            fnp.fmin(_A, _B)
    assert rec[0].filename == __file__  # (the warning names the caller's line)


def test_rank_promotion_of_several_operands_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    for name, (call, refused) in _RANK_CASES.items():
        with jax.numpy_rank_promotion("raise"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert _refused(lambda: call(jnp)) is refused, name
