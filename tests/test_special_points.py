"""Derivatives at special points: infinities, the origin, the ends of domains, Python-number
operands next to float32 arrays. Each case was found wrong (or less accurate than it should
be) by a sweep against JAX and the closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

INF = np.inf


@pytest.mark.parametrize("f", [
    lambda x: fnp.atan2(x, 1.0), lambda x: fnp.atan2(1.0, x), lambda x: fnp.hypot(x, 1.0),
    lambda x: fnp.hypot(2.0, x), lambda x: fnp.logaddexp(x, 1.0),
    lambda x: fnp.logaddexp(1.0, x)], ids=["atan2-x", "atan2-y", "hypot-x", "hypot-y",
                                           "logaddexp-x", "logaddexp-y"])
def test_python_number_operands_keep_float32(backend, f):
    x = backend.asarray(0.5, dtype="float32")
    f32 = backend.backend.native_dtype("float32")
    assert ft.grad(f)(x).dtype == f32
    assert ft.jvp(f, (x,), (backend.asarray(1.0, dtype="float32"),))[1].dtype == f32
    assert ft.hessian(f)(x).dtype == f32


def _grad2(f, x, y):
    return [float(g) for g in ft.grad(f, argnums=(0, 1))(np.asarray(x), np.asarray(y))]


def test_logaddexp_at_infinities():
    f = fnp.logaddexp
    assert _grad2(f, 1.0, INF) == [0.0, 1.0]    # the +inf argument takes all the weight
    assert _grad2(f, INF, -INF) == [1.0, 0.0]
    assert _grad2(f, -INF, 1.0) == [0.0, 1.0]
    assert _grad2(f, INF, INF) == [0.5, 0.5]    # the same infinity: shared, as at a tie
    assert _grad2(f, -INF, -INF) == [0.5, 0.5]
    assert _grad2(f, 0.3, 0.3) == [0.5, 0.5]
    for v, expected in (([0.3, 0.3], 0.25), ([-INF, -INF], 0.0)):
        hs = [ft.hessian(lambda v: f(v[0], v[1]))(np.asarray(v)),
              ft.jacrev(ft.jacrev(lambda v: f(v[0], v[1])))(np.asarray(v))]
        for h in hs:  # forward-over-reverse and reverse-over-reverse agree
            np.testing.assert_allclose(h, [[expected, -expected], [-expected, expected]])


def test_hypot_at_the_origin():
    f = lambda v: fnp.hypot(v[0], v[1])  # noqa: E731
    zero = np.zeros(2)
    np.testing.assert_array_equal(ft.grad(f)(zero), [0.0, 0.0])
    for h in (ft.hessian(f)(zero), ft.jacrev(ft.jacrev(f))(zero)):
        np.testing.assert_array_equal(h, np.zeros((2, 2)))
    np.testing.assert_allclose(ft.grad(f)(np.asarray([3.0, 4.0])), [0.6, 0.8], rtol=1e-15)


@pytest.mark.parametrize("name,deriv", [
    ("asin", lambda x: 1 / np.sqrt((1 - x) * (1 + x))),
    ("acos", lambda x: -1 / np.sqrt((1 - x) * (1 + x))),
    ("atanh", lambda x: 1 / ((1 - x) * (1 + x)))])
def test_inverse_functions_near_the_ends_of_their_domains(name, deriv):
    f = getattr(fnp, name)
    for x in (1 - 1e-8, -1 + 1e-8, 1 - 2.0 ** -40):  # 1 - x is exact there
        np.testing.assert_allclose(ft.grad(f)(x), deriv(x), rtol=1e-14)
    x32 = np.asarray(0.999, np.float32)
    np.testing.assert_allclose(ft.grad(f)(x32), deriv(np.float64(x32)), rtol=1e-6)
