"""Session 39 (elem39): under/overflow and cancellation in elementwise derivatives.

- div with a constant numerator, c / y: its tangent was ty (-out / y), where out / y = c / y^2
  under- or overflows while ty is as large or small as y (the tangent of 1/cosh(x) at 400 was
  -0, true -3.83e-174; of 1/exp(-x), inf, true 5.2e173). Now (ty / y) (-out). In reverse mode
  the cotangent of y itself, -c / y^2, is out of range there: grad keeps -0 / inf.
- hypot's second derivative: its slope v / r differentiated through div's rule gave
  dv (1 - (v / r)^2) / r, all rounding where the other operand is small beside v
  (d2/dx2 hypot(x, 1e-10) at 3 was 0, true 3.7e-22). Now the closed form other^2 / r^3
  (hypot_ratio's rule).
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from tests._reference import max_rel_err as _rel, mpmath_or_skip as _mp


# -- div with a constant numerator: the tangent in range --------------------------------------

def test_reciprocal_tangent_where_the_slope_coefficient_underflows(backend):
    x = backend.asarray([400.0, 300.0, 2.0])
    out, t = ft.jvp(lambda v: 1 / fnp.cosh(v), (x,), (backend.asarray([1.0, 1.0, 1.0]),))
    assert backend.is_own(t)
    xs = np.array([400.0, 300.0, 2.0])
    want = -np.tanh(xs) / np.cosh(xs)   # -sech tanh, in range at 400 (-3.83e-174)
    assert _rel(backend.to_numpy(t), want) < 1e-14
    assert backend.to_numpy(t)[0] < -3.8e-174


def test_reciprocal_tangent_where_the_slope_coefficient_overflows(backend):
    x = backend.asarray([400.0, 1.5])
    _, t = ft.jvp(lambda v: 1 / fnp.exp(-v), (x,), (backend.asarray([1.0, 1.0]),))
    assert _rel(backend.to_numpy(t), np.exp([400.0, 1.5])) < 1e-14


def test_constant_over_y_tangent_against_mpmath():
    mpmath = _mp()
    cases = [(3.0, 400.0), (-2.5, 350.0), (1e-300, 1.0), (7.0, -30.0)]
    for c, x0 in cases:
        _, t = ft.jvp(lambda v: c / fnp.cosh(v), (x0,), (1.0,))
        with mpmath.workdps(50):
            want = -mpmath.mpf(c) * mpmath.sinh(x0) / mpmath.cosh(x0) ** 2
        assert _rel(t, float(want)) < 1e-14, (c, x0, t, want)


def test_division_second_order_unchanged():
    # (tx / y - ty x / y^2 both ways; second order through the rewritten rule)
    f = lambda v: 2.5 / (1.0 + v * v)
    x0 = 0.7
    g2 = ft.grad(ft.grad(f))(x0)
    want = 2.5 * (6 * x0 * x0 - 2) / (1 + x0 * x0) ** 3
    assert _rel(g2, want) < 1e-14
    _, t2 = ft.jvp(ft.grad(f), (x0,), (1.0,))
    assert _rel(t2, want) < 1e-14


# -- hypot's second derivative in closed form --------------------------------------------------

def _hypot_hessian(x, y):
    r = math.hypot(x, y)
    return np.array([[y * y, -x * y], [-x * y, x * x]]) / r ** 3


def test_hypot_second_derivative_beside_a_small_operand():
    g2 = ft.grad(ft.grad(lambda v: fnp.hypot(v, 1e-10)))(3.0)
    assert _rel(g2, 1e-20 / 27.0) < 1e-14
    _, t2 = ft.jvp(ft.grad(lambda v: fnp.hypot(v, 1e-10)), (3.0,), (1.0,))
    assert _rel(t2, 1e-20 / 27.0) < 1e-14
    # (the small operand's own slot: 1/r - y^2/r^3, no cancellation either way)
    g2y = ft.grad(ft.grad(lambda v: fnp.hypot(1e-10, v)))(3.0)
    assert _rel(g2y, 1e-20 / 27.0) < 1e-14


@pytest.mark.parametrize("point", [(3.0, 1e-10), (1e-12, -2.0), (3.0, 4.0), (-1e8, 1e-3)])
def test_hypot_hessian_both_traced(backend, point):
    xy = backend.asarray(list(point))
    h = ft.hessian(lambda v: fnp.hypot(v[0], v[1]))(xy)
    assert backend.is_own(h)
    assert _rel(backend.to_numpy(h), _hypot_hessian(*point)) < 1e-13


def test_hypot_second_derivatives_against_mpmath():
    mpmath = _mp()
    for x0, y0 in [(3.0, 1e-10), (2.0, 1e-200), (1e150, 3.0), (-0.5, 0.25)]:
        with mpmath.workdps(50):
            x, y = mpmath.mpf(x0), mpmath.mpf(y0)
            want = y * y / mpmath.hypot(x, y) ** 3
        got = ft.grad(ft.grad(lambda v: fnp.hypot(v, y0)))(x0)
        assert _rel(got, float(want)) < 1e-14, (x0, y0, got, want)


def test_hypot_third_derivative_against_finite_differences():
    f2 = ft.grad(ft.grad(lambda v: fnp.hypot(v, 0.8)))
    g3 = ft.grad(f2)(0.6)
    h = 1e-5
    want = (f2(0.6 + h) - f2(0.6 - h)) / (2 * h)
    assert abs(g3 - want) < 1e-8
    assert abs(g3 - (-3 * 0.6 * 0.64)) < 1e-12   # d/dx y^2 / r^3 = -3 x y^2 / r^5, r = 1


def test_hypot_limits_kept():
    # at +-inf beside a finite operand: slope sign(x), second derivative 0; at the origin 0
    for x0 in (np.inf, -np.inf):
        assert ft.grad(lambda v: fnp.hypot(v, 2.0))(x0) == np.sign(x0)
        assert ft.grad(ft.grad(lambda v: fnp.hypot(v, 2.0)))(x0) == 0.0
        h = ft.hessian(lambda v: fnp.hypot(v[0], v[1]))(np.array([x0, 2.0]))
        assert np.all(np.asarray(h) == 0.0)
    g = ft.grad(lambda v: fnp.hypot(v[0], v[1]))(np.zeros(2))
    assert np.all(np.asarray(g) == 0.0)
    h = ft.hessian(lambda v: fnp.hypot(v[0], v[1]))(np.zeros(2))
    assert np.all(np.asarray(h) == 0.0)


def test_hypot_second_derivative_under_vmap_and_jit():
    xs = np.array([3.0, -2.0, 0.5])
    f = ft.grad(ft.grad(lambda v: fnp.hypot(v, 1e-10)))
    want = 1e-20 / np.abs(xs) ** 3
    assert _rel(ft.vmap(f)(xs), want) < 1e-14
    assert _rel(ft.jit(ft.vmap(f))(xs), want) < 1e-14
