"""Session 57, lead: hyp2f1 of a polynomial at x = +-inf.

Where ``a`` or ``b`` is a non-positive integer, 2F1(a, b; c; x) is a polynomial of degree n (the
one nearer 0), and its value at x = +-inf is a limit: 1 for n = 0, else +-inf by the sign of the
leading term (a)_n (b)_n / (c)_n / n! x**n; its k-th derivative there is +-inf for k < n,
n! times that coefficient for k = n, 0 beyond. functrans gave nan for all of them (and 0 for
their derivatives); SciPy gives inf with a wrong sign in places (-inf for hyp2f1(-2, -3, 3.5,
-inf), whose value there is +inf), JAX nan. Now the primitive takes infinite x for polynomials,
so its derivative rule's shifted polynomials give every order's limit. Referee: the exact
leading coefficient (mpmath's rising factorials).
"""

import itertools
import math
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

mpmath = pytest.importorskip("mpmath")


def _pole(q):
    return q <= 0 and q == int(q)


def _limit(a, b, c, sign, k):
    n = int(min(-a if _pole(a) else math.inf, -b if _pole(b) else math.inf))
    lead = mpmath.rf(a, n) * mpmath.rf(b, n) / mpmath.rf(c, n) / mpmath.factorial(n)
    if k > n:
        return 0.0
    if k == n:
        return float(mpmath.factorial(n) * lead)
    return float(mpmath.sign(lead)) * sign ** (n - k) * math.inf


CASES = [(a, b, c) for a, b, c in itertools.product(
    [0.0, -1.0, -2.0, -3.0, -7.0, 0.59, -2.5], [-1.0, -3.0, 0.59, -0.5, 2.0],
    [3.998, 3.5, -0.5, -2.5, -3.0, -7.0, 1e-3])
    if (_pole(a) or _pole(b))
    and not (_pole(c) and -c < min(-a if _pole(a) else math.inf, -b if _pole(b) else math.inf))]


def test_polynomial_limits_and_their_derivatives_at_infinity():
    a, b, c = (np.array(v) for v in zip(*CASES))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for sign in (1, -1):
            x = np.full(a.shape, sign * math.inf)
            f = lambda a, b, c, x: fsp.hyp2f1(a, b, c, x)  # noqa: E731
            for k in range(4):
                got = np.asarray(f(a, b, c, x) if k == 0 else ft.vmap(f)(a, b, c, x))
                want = np.array([_limit(*case, sign, k) for case in CASES])
                np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=f"order {k}")
                f = ft.grad(f, argnums=3)


def test_scipy_sign_case_and_other_backends():
    strict = pytest.importorskip("array_api_strict")
    for xp in (np, strict):
        a, b, c, x = (xp.asarray(v) for v in ([-2.0, -1.0, 0.5, -3.0], [-3.0, 0.59, 1.5, 2.0],
                                                 [3.5, 3.998, 3.0, -0.5],
                                                 [-math.inf, math.inf, -math.inf, -math.inf]))
        got = np.asarray(fsp.hyp2f1(a, b, c, x))
        # not a polynomial (0.5, 1.5): nan as before
        np.testing.assert_array_equal(got, [math.inf, -math.inf, math.nan, -math.inf])
        slope = np.asarray(ft.vmap(ft.grad(fsp.hyp2f1, argnums=3))(a, b, c, x))
        np.testing.assert_allclose(slope, [-math.inf, -0.59 / 3.998, 0.0, math.inf], rtol=1e-15)
        curv = np.asarray(ft.jit(ft.vmap(ft.grad(ft.grad(fsp.hyp2f1, argnums=3), argnums=3)))(
            a, b, c, x))
        np.testing.assert_allclose(curv, [2 * 6 / (3.5 * 4.5), 0.0, 0.0, -math.inf],
                                   rtol=1e-15)
    # float32 in, float32 out; finite x unchanged
    assert fsp.hyp2f1(np.float32(-2), np.float32(-3), np.float32(3.5),
                      np.float32(-math.inf)).dtype == np.float32
    pts = np.linspace(-3.0, 0.9, 7)
    np.testing.assert_allclose(fsp.hyp2f1(0.5, 1.5, 3.0, pts),
                               [float(mpmath.hyp2f1(0.5, 1.5, 3.0, p)) for p in pts], rtol=1e-13)


def test_legendre_polynomials_at_infinity():
    """lpmv(0, n, x), the Legendre polynomial P_n, at x = +-inf: its limit (1 for degree 0,
    inf at +inf, (-1)**n inf at -inf) and its derivatives' (+-inf below order n, n! times the
    leading coefficient at n, 0 beyond), through hyp2f1's polynomial limits; was nan (SciPy: 1
    for degree 0, nan for lpmv(0, 3, -inf)). The product with m's coefficient and power (1 for
    m = 0) is left out where m is known to be 0: its zero slope met the infinite ones (0 * inf
    warned in the backward pass)."""
    from numpy.polynomial import legendre

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for v in [0.0, 1.0, 2.0, 3.0, 6.0, -1.0, -4.0]:
            n = int(v if v >= 0 else -v - 1)
            lead = legendre.leg2poly([0] * n + [1])[n]
            for sign in (1, -1):
                f = lambda x, v=v: fsp.lpmv(0.0, v, x)  # noqa: E731
                for k in range(4):
                    got = float(f(sign * math.inf))
                    want = (0.0 if k > n else math.factorial(n) * lead if k == n
                            else sign ** (n - k) * math.inf)
                    assert got == pytest.approx(want, rel=1e-13), (v, sign, k)
                    f = ft.grad(f)
        x = np.array([math.inf, -math.inf, 0.5, 2.0])
        np.testing.assert_allclose(ft.vmap(ft.grad(lambda x: fsp.lpmv(0.0, 3.0, x)))(x),
                                   [math.inf, math.inf, 0.375, 28.5], rtol=1e-15)
    # float32 kept; m != 0 and a non-integer degree still nan beyond [-1, 1]
    assert fsp.lpmv(np.float32(0), np.float32(0), np.float32(-math.inf)) == np.float32(1.0)
    assert np.isnan(fsp.lpmv(1.0, 2.0, math.inf)) and np.isnan(fsp.lpmv(0.0, 2.5, math.inf))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_log_softmax_low_precision_infinite_maximum_under_grad(dtype):
    """grad of log_softmax (functrans.nn's and scipy.special's) of float32 / float16 input
    holding +inf raised CustomRuleError: the concrete path's nan / -inf fill was a where of two
    Python numbers (float64), the custom rule's primal float64 beside a float32 tangent. Now in
    the input's dtype, the values as float64's (SciPy's nan, -inf), nan derivatives there."""
    import functrans.nn as fnn

    x = np.array([[math.inf, 1.0, 2.0], [1.0, 2.0, 3.0]], dtype)
    want64 = fsp.log_softmax(x.astype(np.float64), axis=1)
    for f in (fnn.log_softmax, lambda v, axis=-1: fsp.log_softmax(v, axis=axis)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = f(x, axis=1)
            rows = ft.vmap(ft.grad(lambda r: f(r)[2]))(x)
        assert out.dtype == dtype and rows.dtype == dtype
        np.testing.assert_allclose(out.astype(np.float64), want64, rtol=2e-3)
        assert np.isnan(rows[0]).all() and np.isfinite(rows[1]).all()
        # the finite row's slope: softmax's, e_2 - softmax(row)
        soft = np.exp(want64[1])
        np.testing.assert_allclose(rows[1].astype(np.float64), np.eye(3)[2] - soft, atol=2e-3)
