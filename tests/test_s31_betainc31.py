"""Session 31 (betainc31): the generic regularized incomplete beta function (torch and
array-api-strict) at huge and tiny shapes, against mpmath (50 digits) and the limiting
distributions; the NumPy backend (SciPy) where SciPy gives the same."""

import math

import numpy as np
import pytest

import functrans.scipy.special as sp

# mpmath.betainc(a, b, 0, x, regularized=True) at 50 digits, x the float64 given
_HUGE_A = {1e8: 0.033894854606697285, 1e12: 0.03389572641707378, 1e16: 0.03508790834895208}
# stdtr(df, 1.5) = 1 - I_y(1/2, df/2) / 2 with y = 2.25 / (df + 2.25) (mpmath, 50 digits);
# from df = 1e16 on the normal limit ndtr(1.5) (closer than 1e-16)
_NDTR_15 = 0.9331927987311419
_STDTR = {1e12: 0.933192798730984, 1e14: 0.9331927987311404, 1e16: _NDTR_15,
          1e17: _NDTR_15, 1e300: _NDTR_15}
# F(3, d) at 0.3 = I_u(3/2, d/2), u = 0.9 / (0.9 + d); the limit chi2(3).cdf(0.9) = P(3/2, 0.45)
# (mpmath 0.17457219095833926; at d = 1e20 mpmath's betainc 0.17457219095833923)
_FDTR = {1e20: 0.17457219095833923, 1e300: 0.17457219095833926}


def _values(backend, fn, *cols):
    out = fn(*[backend.asarray(np.asarray(c, dtype=np.float64), "float64") for c in cols])
    assert backend.is_own(out)
    return np.asarray(backend.to_numpy(out), dtype=np.float64)


def test_stdtr_and_betainc_at_huge_a(backend):
    """The values at a huge shape (on torch/strict 110.16 for the first, stdtr 0.5 at df 1e16
    and 2.73 from 1e17, fdtr 0.80 at dfd 1e300: lgamma differences of size 1e17 in the
    prefactor, and the continued fraction losing eps * a next to x = 1)."""
    a = list(_HUGE_A)
    got = _values(backend, lambda a: sp.betainc(a, 0.5 + 0 * a, a / (a + 2.25)), a)
    np.testing.assert_allclose(got, list(_HUGE_A.values()), rtol=1e-13)
    df = list(_STDTR)
    got = _values(backend, lambda d: sp.stdtr(d, 1.5 + 0 * d), df)
    np.testing.assert_allclose(got, list(_STDTR.values()), rtol=2e-15)
    # (SciPy: nan at dfd = 1e300)
    d = [1e20] if backend.name == "numpy" else list(_FDTR)
    got = _values(backend, lambda d: sp.fdtr(3.0 + 0 * d, d, 0.3 + 0 * d), d)
    np.testing.assert_allclose(got, [_FDTR[v] for v in d], rtol=1e-14)


def test_betainc_within_0_1_over_the_whole_range(backend):
    """Shapes over a log grid from 1e-3 to 1e300 (both orders), x near 0 and 1, at the mean
    and a few standard deviations off: every value finite and in [0, 1], and
    I_x(a, b) + I_(1-x)(b, a) = 1 (x and 1 - x exact)."""
    grid = [1e-3, 0.3, 7.0, 150.0, 5e3, 1e6, 1e12, 1e300]
    a, b, x = [], [], []
    for p in grid:
        for q in grid:
            mean = p / (p + q)
            sd = math.sqrt(p * q / (p + q) ** 3) if p + q < 1e200 else 0.0
            for v in (1e-300, 0.25, 0.75, 1.0 - 2.0 ** -40, mean, mean - 3 * sd, mean + 2 * sd):
                if 0.0 < v < 1.0:
                    # (a value of x whose complement is exact: within [1/4, 3/4] or a power
                    # of two below 1/4 is not needed, only 1 - (1 - v) == v)
                    v = 1.0 - (1.0 - v)
                    a.append(p)
                    b.append(q)
                    x.append(v)
    got = _values(backend, sp.betainc, a, b, x)
    assert np.all(np.isfinite(got)) and np.all((got >= 0.0) & (got <= 1.0))
    y = [1.0 - v for v in x]
    comp = _values(backend, sp.betainc, b, a, y)
    np.testing.assert_allclose(got + comp, 1.0, rtol=0, atol=5e-13)


@pytest.mark.parametrize("a", [2e3, 1e6, 1e10, 1e14])
def test_betainc_both_shapes_large(backend, a):
    """Both shapes large (Gauss-Legendre quadrature of the density): I_(1/2)(a, a) = 1/2
    exactly, and the lower tail 30 standard deviations below the mean against mpmath."""
    got = _values(backend, sp.betainc, [a], [a], [0.5])
    np.testing.assert_allclose(got, 0.5, rtol=2e-14)
    if a == 2e3:
        sd = math.sqrt(a * a / (2 * a) ** 3)
        got = _values(backend, sp.betainc, [a], [a], [0.5 - 30 * sd])
        # mpmath.betainc at 50 digits
        np.testing.assert_allclose(got, 5.330815991049521e-224, rtol=1e-12)


def test_betainc_against_mpmath_at_moderate_shapes(backend):
    """Shapes from 1e-8 to 300, x from 1e-5 to 1 - 1e-6: within 1e-13 of mpmath (the
    continued fraction's prefactor now in a form without the cancellation of lgamma terms,
    and ``1 - I`` from the power series where a shape <= 1 makes I close to 1:
    fdtr(3, 1e-8, 0.3) was 1.5e-8 off, betainc(100, 100, 0.5) 1.1e-13)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    shapes = [1e-8, 0.01, 0.5, 3.0, 40.0, 300.0]
    xs = [1e-5, 0.1, 0.5, 0.8, 1.0 - 1e-6]
    a, b, x = zip(*[(p, q, v) for p in shapes for q in shapes for v in xs])
    got = _values(backend, sp.betainc, a, b, x)
    want = np.array([float(mp.betainc(p, q, 0, mp.mpf(v), regularized=True))
                     for p, q, v in zip(a, b, x)])
    tiny = want < 1e-300  # (underflow: compared as 0)
    np.testing.assert_allclose(got[~tiny], want[~tiny], rtol=1e-13)
    assert np.all(got[tiny] < 1e-290)
    got = _values(backend, lambda d, x: sp.fdtr(3.0 + 0 * d, d, x), [1e-8, 100.0], [0.3, 0.3])
    # (mpmath's at the exact u = 0.9 / (0.9 + 1e-8), as SciPy's fdtr; 8.850806910282568e-08,
    # pinned before, was the value at the rounded u: 2.2e-10 off, x I'/I ~ 5e6 times its
    # rounding, which special._inc_beta now takes back by the precise 1 - u)
    np.testing.assert_allclose(got, [8.850806912244275e-08, 0.17467646550139668], rtol=1e-14)


def test_betaincinv_at_large_shapes(backend):
    """betaincinv (which shares the prefactor and methods) converges at large shapes: its
    result put back into betainc gives the probability."""
    a = [1e8, 3.0]
    b = [1e8, 1e12]
    y = [0.2, 0.7]
    x = _values(backend, sp.betaincinv, a, b, y)
    assert np.all((x > 0.0) & (x < 1.0))
    back = _values(backend, sp.betainc, a, b, x)
    np.testing.assert_allclose(back, y, rtol=1e-12)
