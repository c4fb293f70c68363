"""Session 29 (helper gaps29): loose ends of session 28: hyp1f1's derivatives in a and b to
any order, and more in the sections below."""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fs
from functrans.testing import check_grads

# -- hyp1f1's higher derivatives in a and b ----------------------------------------------------

# (a, b, x): positive and negative parameters, both signs of x (the series at x and through
# Kummer's transformation), a = 0 (d/da of a series that stops after its first term)
_HYP_POINTS = [(0.5, 1.5, 2.0), (1.3, 2.7, -3.0), (-2.0, 1.5, 0.7), (2.0, 0.3, -20.0),
               (3.0, 5.0, 30.0), (-3.3, -1.5, 2.0), (0.0, 1.0, 3.0)]


def _hyp1f1_reference(orders):
    """d^orders hyp1f1 at _HYP_POINTS, by mpmath (30 digits) or central differences of SciPy's
    hyp1f1 (second order only)."""
    try:
        import mpmath
    except ImportError:
        mpmath = None
    if mpmath is not None:
        with mpmath.workdps(30):
            return np.array([float(mpmath.diff(mpmath.hyp1f1, p, orders))
                             for p in _HYP_POINTS])
    import scipy.special as ss
    if sum(orders) != 2:
        pytest.skip("mpmath is needed beyond the second order")
    out = []
    for p in _HYP_POINTS:
        p = np.array(p)
        i, j = [k for k in range(3) for _ in range(orders[k])]
        h = 1e-4 * np.maximum(1.0, np.abs(p))
        ei, ej = np.eye(3)[i] * h[i], np.eye(3)[j] * h[j]
        f = lambda q: ss.hyp1f1(*q)  # noqa: E731
        out.append((f(p + ei + ej) - f(p + ei - ej) - f(p - ei + ej) + f(p - ei - ej))
                   / (4 * h[i] * h[j]))
    return np.array(out)


def test_hyp1f1_hessian_in_a_b_x():
    A, B, X = (np.array(c) for c in zip(*_HYP_POINTS))
    H = ft.vmap(ft.hessian(fs.hyp1f1, argnums=(0, 1, 2)))(A, B, X)
    for r in range(3):
        for c in range(3):
            orders = tuple(int(k == r) + int(k == c) for k in range(3))
            want = _hyp1f1_reference(orders)
            np.testing.assert_allclose(np.asarray(H[r][c]), want, rtol=1e-11,
                                       err_msg=f"d^2 hyp1f1 / d{'abx'[r]} d{'abx'[c]}")


@pytest.mark.parametrize("orders", [(3, 0, 0), (0, 3, 0), (1, 1, 1), (0, 2, 1), (2, 1, 0)])
def test_hyp1f1_third_derivatives(orders):
    pytest.importorskip("mpmath")
    f = fs.hyp1f1
    for k in (2, 1, 0):  # innermost: the last argument wanted
        for _ in range(orders[k]):
            f = ft.grad(f, argnums=k)
    A, B, X = (np.array(c) for c in zip(*_HYP_POINTS))
    got = ft.vmap(f)(A, B, X)
    np.testing.assert_allclose(np.asarray(got), _hyp1f1_reference(orders), rtol=1e-11)


def test_hyp1f1_second_order_transforms_and_refusal():
    # the JVP and VJP of the derivative in a and b, against central differences, and under jit
    a, b, x = np.array([0.5, 1.3]), np.array([1.5, 2.7]), np.array([2.0, -3.0])
    check_grads(ft.grad(fs.hyp1f1, argnums=1), (a[0], b[0], x[0]), order=1, rtol=1e-6)
    d2 = ft.jit(ft.vmap(ft.grad(ft.grad(fs.hyp1f1, argnums=0), argnums=1)))(a, b, x)
    np.testing.assert_allclose(np.asarray(d2),
                               np.asarray(ft.vmap(ft.hessian(fs.hyp1f1, argnums=(0, 1)))(
                                   a, b, x)[0][1]), rtol=1e-14)
    # float32 operands: computed in float64, rounded
    d32 = ft.grad(ft.grad(fs.hyp1f1))(np.float32(0.5), np.float32(1.5), np.float32(2.0))
    assert d32.dtype == np.float32
    assert float(d32) == pytest.approx(float(ft.grad(ft.grad(fs.hyp1f1))(0.5, 1.5, 2.0)),
                                       rel=1e-6)
    # where both series cancel too much: refused, at the second order too, naming the orders
    # (here the first order is accurate: within 1e-12 of mpmath's)
    ga, gb = ft.grad(fs.hyp1f1, argnums=(0, 1))(-33.75, -28.95, 25.0)
    assert float(ga) == pytest.approx(-358810584141786.25, rel=1e-12)
    assert float(gb) == pytest.approx(-5284663463956004.4, rel=1e-12)
    with pytest.raises(NotImplementedError, match=r"order 2 in a, 0 in b.*cancels too much"):
        ft.hessian(fs.hyp1f1, argnums=(0, 1))(-33.75, -28.95, 25.0)
