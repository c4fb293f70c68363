"""Session 40 (gammainc40): gammainc and its kin at large shapes on NumPy.

SciPy 1.17's gammainc loses accuracy below the centre for shapes of about 1e6 and more
(gammainc(1e6, 992000) 1.1e-8 relative off, gammainc(1e8, 1e8 - 8e4) 19 %), and its
gammaincinv follows (gammaincinv(1e6, 1e-12) 1.1e-11 off in x). The NumPy backend now takes
the generic code (Temme's uniform expansion there) for elements with a >= 1e5; other
elements keep SciPy's values. References: the power series of P summed in mpmath.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fs
from functrans.scipy import stats


def _ref_p(a, x, dps=40):
    """P(a, x) for x < a: x^a e^-x / Gamma(a + 1) sum_n x^n / ((a+1)...(a+n)), in mpmath."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(dps):
        a, x = mpmath.mpf(a), mpmath.mpf(x)
        total = term = mpmath.mpf(1)
        n = 0
        eps = mpmath.mpf(10) ** (-dps - 3)
        while term > eps * total:
            n += 1
            term = term * x / (a + n)
            total += term
        return +mpmath.exp(a * mpmath.log(x) - x - mpmath.loggamma(a + 1)) * total


def _density(a, x):
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        return mpmath.exp((a - 1) * mpmath.log(x) - x - mpmath.loggamma(a))


# (a, x) below the centre where SciPy 1.17 was off: 1.1e-8, 2.4e-6, 0.19, 7e-6 relative
_LOW_SIDE = [(1e6, 992000.0), (1e7, 1e7 - 20 * 1e7 ** 0.5), (1e8, 1e8 - 8e4),
             (1e6, 995246.0)]


@pytest.mark.parametrize("a, x", _LOW_SIDE)
def test_gammainc_large_shape_against_series(a, x):
    ref = float(_ref_p(a, x))
    got = float(fs.gammainc(np.float64(a), np.float64(x)))
    assert abs(got / ref - 1.0) < 1e-12
    # the complement near 1: absolutely close
    assert abs(float(fs.gammaincc(a, x)) - (1.0 - ref)) < 1e-15


def test_gamma_cdf_reported_call():
    ref = float(_ref_p(1e6, 995246.0))
    got = float(stats.gamma.cdf(995246.0, 1e6))
    assert abs(got / ref - 1.0) < 1e-12


def test_only_large_shape_elements_change():
    sc = pytest.importorskip("scipy.special")
    a = np.array([2.0, 5e4, 1e7, 1e7, 3.0])
    x = np.array([1.5, 5e4 - 500.0, 1e7 - 2e4, 1e7 + 3e4, 0.0])
    for ours, theirs in ((fs.gammainc, sc.gammainc), (fs.gammaincc, sc.gammaincc)):
        got = np.asarray(ours(a, x))
        keep = a < 1e5
        np.testing.assert_array_equal(got[keep], theirs(a, x)[keep])
    ref = float(_ref_p(1e7, 1e7 - 2e4))
    assert abs(float(np.asarray(fs.gammainc(a, x))[2]) / ref - 1.0) < 1e-12


def test_edges_at_large_shape_unchanged():
    a = np.array([1e7, 1e7, 1e7, np.inf, np.nan, 1e7])
    x = np.array([0.0, np.inf, np.nan, 5.0, 5.0, -1.0])
    p = np.asarray(fs.gammainc(a, x))
    q = np.asarray(fs.gammaincc(a, x))
    np.testing.assert_array_equal(p[:2], [0.0, 1.0])
    np.testing.assert_array_equal(q[:2], [1.0, 0.0])
    assert np.isnan(p[2]) and np.isnan(q[2]) and np.isnan(p[4]) and np.isnan(p[5])
    assert p[3] == 0.0 and q[3] == 1.0


def test_under_jit_and_vmap_the_values_are_fixed():
    # (the check is on the backend's concrete operands, so staged calls get it too)
    ref = float(_ref_p(1e8, 1e8 - 8e4))
    got = float(ft.jit(fs.gammainc)(1e8, 1e8 - 8e4))
    assert abs(got / ref - 1.0) < 1e-12
    xs = np.array([1e8 - 8e4, 1e8 - 8e4])
    got_v = np.asarray(ft.vmap(lambda x: fs.gammainc(1e8, x))(xs))
    assert np.all(np.abs(got_v / ref - 1.0) < 1e-12)


@pytest.mark.parametrize("a, y", [(1e6, 1e-12), (2e5, 1e-20), (1e8, 1e-3)])
def test_gammaincinv_large_shape(a, y):
    x = float(fs.gammaincinv(a, y))
    # the error in x: (P(x) - y) / P'(x)
    err = float((_ref_p(a, x) - y) / _density(a, x)) / x
    assert abs(err) < 1e-14
    # the same quantile as the generic code on array-api-strict
    xs = pytest.importorskip("array_api_strict")
    strict = float(stats.gamma.ppf(xs.asarray(y), xs.asarray(a)))
    assert abs(float(stats.gamma.ppf(y, a)) / strict - 1.0) < 1e-14


def test_gammainccinv_large_shape_is_the_complement():
    x_up = float(fs.gammainccinv(1e6, 1.0 - 1e-3))
    x_low = float(fs.gammaincinv(1e6, 1e-3))
    assert abs(x_up / x_low - 1.0) < 1e-14
    err = float((_ref_p(1e6, x_low) - 1e-3) / _density(1e6, x_low)) / x_low
    assert abs(err) < 1e-14


@pytest.mark.parametrize("a, x", _LOW_SIDE[:3])
def test_derivatives_at_large_shape(a, x):
    mpmath = pytest.importorskip("mpmath")
    ga, gx = ft.grad(fs.gammainc, argnums=(0, 1))(a, x)
    with mpmath.workdps(50):
        h = mpmath.mpf(a) * mpmath.mpf(10) ** -12
        fd_a = (_ref_p(a + h, x, 50) - _ref_p(a - h, x, 50)) / (2 * h)
    assert abs(float(ga) / float(fd_a) - 1.0) < 1e-12
    assert abs(float(gx) / float(_density(a, x)) - 1.0) < 1e-10
    gqa = ft.grad(fs.gammaincc, argnums=0)(a, x)
    assert abs(float(gqa) + float(ga)) <= 1e-15 * abs(float(ga))
