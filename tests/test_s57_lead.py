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
