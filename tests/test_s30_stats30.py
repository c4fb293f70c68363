"""Session 30 (stats30): functrans.scipy.stats and functrans.random checked against SciPy and
mpmath at extreme parameters; each test fails before its fix. The references are computed
here with mpmath (50 digits) from the definitions."""

import math

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.random as fr
import functrans.scipy.stats as fst

mp.mp.dps = 50


def _rel(a, b):
    return abs(float(a) - float(b)) / abs(float(b))


# -- binom / nbinom / betabinom: log C(n, k) for a large n --------------------------------------

def _binom_pmf(k, n, p):
    k, n, p = mp.mpf(k), mp.mpf(n), mp.mpf(p)
    return mp.exp(mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
                  + k * mp.log(p) + (n - k) * mp.log1p(-p))


def _nbinom_pmf(k, n, p):
    k, n, p = mp.mpf(k), mp.mpf(n), mp.mpf(p)
    return mp.exp(mp.loggamma(k + n) - mp.loggamma(n) - mp.loggamma(k + 1)
                  + n * mp.log(p) + k * mp.log1p(-p))


@pytest.mark.parametrize("k, n, p", [(5, 1e15, 3e-15), (5, 1e12, 1e-12), (2, 1e9, 1e-9),
                                     (999999999995, 1e12, 1 - 1e-12), (3, 7, 0.3),
                                     (0, 7, 0.3), (7, 7, 0.3)])
def test_binom_pmf_large_n(k, n, p):
    # was 0.0020 for the first (true 0.1008): gammaln(n + 1) - gammaln(n - k + 1) cancelled
    assert _rel(fst.binom.pmf(k, n, p), _binom_pmf(k, n, p)) < 1e-12


@pytest.mark.parametrize("k, n, p", [(2, 1e10, 0.9999999999), (5, 1e12, 1 - 1e-12),
                                     (0, 1e-10, 0.3), (3, 1e-10, 0.3), (3, 2.5, 0.3),
                                     (1e6, 0.5, 1e-6)])
def test_nbinom_pmf_large_n(k, n, p):
    # was 0.0030761 for the second (true 0.0030654)
    ref = _nbinom_pmf(k, n, p)
    assert _rel(fst.nbinom.pmf(k, n, p), ref) < 1e-12
    assert _rel(fst.nbinom.logpmf(k, n, p), mp.log(ref)) < 1e-12


def test_nbinom_and_binom_derivative_in_p_large_n():
    # d/dp logpmf: k / p - (n - k) / (1 - p) (binom); n / p - k / (1 - p) (nbinom)
    k, n, p = 5.0, 1e12, 1e-12
    g = float(ft.grad(lambda q: fst.binom.logpmf(k, n, q))(p))
    assert _rel(g, k / p - (n - k) / (1 - p)) < 1e-9
    k, n, p = 4.0, 1e10, 0.9999999999
    g = float(ft.grad(lambda q: fst.nbinom.logpmf(k, n, q))(p))
    assert _rel(g, n / p - k / (1 - p)) < 1e-9
    # in n (a real parameter of nbinom): digamma(k + n) - digamma(n) + log p
    g = float(ft.grad(lambda m: fst.nbinom.logpmf(k, m, p))(n))
    ref = mp.digamma(k + n) - mp.digamma(n) + mp.log(p)
    assert abs(g - float(ref)) < 1e-12 * abs(float(mp.log(p))) + 1e-15


# -- random.truncated_normal where the tail's probability underflows ----------------------------

def _ks_pvalue(x, cdf):
    from scipy import stats as st
    return st.kstest(np.asarray(x, dtype=np.float64).ravel(), cdf).pvalue


@pytest.mark.parametrize("lo, hi, dtype", [(40.0, np.inf, np.float64),
                                           (-np.inf, -40.0, np.float64),
                                           (40.0, 40.5, np.float64),
                                           (100.0, np.inf, np.float64),
                                           (14.0, np.inf, np.float32),
                                           (-np.inf, -20.0, np.float32)])
def test_truncated_normal_far_tail(lo, hi, dtype):
    # every draw was +-1.8e308 (float32: +-3.4e38): ndtr(-lower) underflows to 0
    from scipy import stats as st
    x = np.asarray(fr.truncated_normal(fr.PRNGKey(0), lo, hi, (2000,), dtype=dtype))
    assert x.dtype == dtype
    assert np.all((x > lo) & (x < hi))
    assert _ks_pvalue(x, st.truncnorm(lo, hi).cdf) > 1e-3


def test_truncated_normal_far_tail_gradient():
    # d/dlower E[x] for x ~ N(0, 1) truncated to (L, inf): E[x] = pdf(L) / sf(L); the
    # sample mean's derivative (the same draws) agrees to the Monte Carlo error
    def mean(L):
        return mp.npdf(L) / mp.ncdf(-L)
    for L in (40.0, -40.0):
        lo_hi = (lambda v: (v, np.inf)) if L > 0 else (lambda v: (-np.inf, v))
        g = ft.grad(lambda v: fr.truncated_normal(fr.PRNGKey(0), *lo_hi(v), (4000,)).mean())(L)
        ref = float(mp.diff(mean, abs(L)))
        assert np.isfinite(float(g)) and abs(float(g) - ref) < 1e-3


# -- gennorm.ppf at the median for a small beta ---------------------------------------------------

@pytest.mark.parametrize("beta", [1e-10, 1e-3, 0.01, 2.0])
def test_gennorm_median_small_beta(beta):
    # was nan for beta = 1e-3 and 1e-10 (0 * inf: 1 / pdf(0) overflows); SciPy gives loc
    assert float(fst.gennorm.ppf(0.5, beta)) == 0.0
    assert float(fst.gennorm.isf(0.5, beta)) == 0.0
    assert float(fst.gennorm.ppf(0.5, beta, 1.5, 2.0)) == 1.5


# -- betaincinv: SciPy's nan for a tiny y (beta.ppf, f.ppf) ---------------------------------------

def _beta_cdf(x, a, b):
    return mp.betainc(a, b, 0, x, regularized=True)


@pytest.mark.parametrize("q, a, b", [(1e-120, 3.0, 3.0), (1e-300, 3.0, 100.0),
                                     (1e-140, 5.0, 0.1), (1e-200, 2.0, 10.0)])
def test_beta_ppf_tiny_q(q, a, b):
    # SciPy's betaincinv (and so beta.ppf) gave nan; the root is x ~ (q a B(a, b))^(1/a)
    x = float(fst.beta.ppf(q, a, b))
    assert 0.0 < x < 1e-20
    assert abs(float(_beta_cdf(x, a, b) / q) - 1.0) < 1e-11
    # the derivative in q: 1 / pdf(x)
    g = float(ft.grad(lambda v: fst.beta.ppf(v, a, b))(q))
    assert _rel(g, 1.0 / (x ** (a - 1) * (1 - x) ** (b - 1) / float(mp.beta(a, b)))) < 1e-10


def test_f_isf_tiny_q():
    # f.isf(1e-120, 6, 6) was nan (betaincinv(3, 3, 1e-120)); sf(x) = I_(m/(m + n x))(m/2, n/2)
    x = float(fst.f.isf(1e-120, 6.0, 6.0))
    sf = _beta_cdf(mp.mpf(6) / (6 + 6 * mp.mpf(x)), 3, 3)
    assert abs(float(sf / mp.mpf(1e-120)) - 1.0) < 1e-10


# -- f: sf for a small n x / m, isf where the root rounds or underflows --------------------------

def _f_sf(x, n, m):
    x, n, m = mp.mpf(x), mp.mpf(n), mp.mpf(m)
    return mp.betainc(m / 2, n / 2, 0, m / (m + n * x), regularized=True)


@pytest.mark.parametrize("x, n, m", [(1e-12, 0.0143, 23.9), (1e-6, 0.0143, 23.9),
                                     (1e30, 3.0, 7.5), (0.5, 3.0, 7.5), (1e3, 50.0, 0.5)])
def test_f_sf_small_and_large_x(x, n, m):
    # the first was 0.2 % off (m / (n x + m) rounded near 1)
    assert _rel(fst.f.sf(x, n, m), _f_sf(x, n, m)) < 1e-13


def test_f_sf_derivative_small_x():
    x, n, m = 1e-6, 0.0143, 23.9
    assert _rel(ft.grad(lambda v: fst.f.sf(v, n, m))(x), -fst.f.pdf(x, n, m)) < 1e-12
    ref = mp.diff(lambda v: _f_sf(x, v, m), n)
    assert _rel(ft.grad(lambda v: fst.f.sf(x, v, m))(n), ref) < 1e-8


def test_f_isf_root_near_one_and_beyond_the_floats():
    # 5 digits were lost here (the root w = 1 - 5e-13 and x from 1 - w)
    q, n, m = 0.1654845001366817, 0.014295623759211536, 23.91168736266554
    x = float(fst.f.isf(q, n, m))
    assert abs(float(_f_sf(x, n, m) / q) - 1.0) < 1e-12
    # the true x is beyond the largest float: was a finite 2.8e306 (w stopped at 2.2e-308)
    assert float(fst.f.isf(4.7539123744968125e-81, 0.8708712995871722,
                           0.054021411472652284)) == math.inf
    # a root below the smallest normal float, x finite: x = 1e306 for n = 1, m = 1e-3
    q = _f_sf(1e306, 1.0, 1e-3)
    assert _rel(fst.f.isf(float(q), 1.0, 1e-3), 1e306) < 1e-9
    # and an x in the subnormal range (3.76e-323 by mpmath); was 8.8e-306
    x = float(fst.f.isf(0.8141095080355026, 0.004495386870459054, 1.7801119527946712))
    assert 3e-323 <= x <= 5e-323


# -- truncnorm.ppf where the target probability is subnormal --------------------------------------

@pytest.mark.parametrize("q, a, b", [(1e-300, -math.inf, -10.0), (1e-300, -50.0, -10.0),
                                     (1e-250, -math.inf, -20.0)])
def test_truncnorm_ppf_subnormal_target(q, a, b):
    # was -38.44939 for the first (true -38.45615): ndtri(q ndtr(b)) of a subnormal number
    target = mp.log(mp.ncdf(b) * q + mp.ncdf(a) * (1 - mp.mpf(q)))
    ref = mp.findroot(lambda x: mp.log(mp.ncdf(x)) - target, -38)
    assert _rel(fst.truncnorm.ppf(q, a, b), ref) < 1e-14
    assert _rel(fst.truncnorm.isf(q, -b, -a), -ref) < 1e-14
    # dx/dq = 1 / pdf(x) (was nan: ndtri's infinite slope at the unused subnormal target)
    g = float(ft.grad(lambda v: fst.truncnorm.ppf(v, a, b))(q))
    assert _rel(g, 1.0 / float(fst.truncnorm.pdf(float(ref), a, b))) < 1e-10


# -- poisson.logpmf for a large mean ---------------------------------------------------------------

def _poisson_logpmf(k, mu):
    k, mu = mp.mpf(k), mp.mpf(mu)
    return k * mp.log(mu) - mu - mp.loggamma(k + 1)


@pytest.mark.parametrize("k, mu", [(1e16, 1e16), (1e10, 1e10), (1e10 + 1e5, 1e10),
                                   (1e6, 1e6), (30, 29.5), (10, 2.5), (9, 2.5), (5, 3.0),
                                   (12, 1e5), (1e5, 12), (20, 1e-300)])
def test_poisson_logpmf_large_mean(k, mu):
    # the first was 0.0 (true -19.34), the second lost 1e-6 relative (-12.43185 vs -12.43186)
    assert _rel(fst.poisson.logpmf(k, mu), _poisson_logpmf(k, mu)) < 1e-14


def test_poisson_logpmf_derivatives_large_mean():
    # d/dmu logpmf = k / mu - 1, d2 = -k / mu^2
    for k, mu in [(1e10 + 1e5, 1e10), (30.0, 29.5)]:
        f = lambda m: fst.poisson.logpmf(k, m)
        assert _rel(ft.grad(f)(mu), (k - mu) / mu) < 1e-10
        assert _rel(ft.grad(ft.grad(f))(mu), -k / mu ** 2) < 1e-10


@pytest.mark.parametrize("x, a", [(1e10, 1e10), (1e14, 1e14), (50.0, 11.0), (2.0, 30.0),
                                  (7.0, 10.5), (3.0, 0.5), (1e-300, 20.0)])
def test_gamma_chi2_logpdf_large_shape(x, a):
    # gamma.logpdf(1e14, 1e14) was -17.0 (true -17.0370); chi2's -17.5 (true -17.3836)
    xm, am = mp.mpf(x), mp.mpf(a)
    ref = (am - 1) * mp.log(xm) - xm - mp.loggamma(am)
    assert _rel(fst.gamma.logpdf(x, a), ref) < 1e-14
    ref = (am / 2 - 1) * mp.log(xm) - xm / 2 - am / 2 * mp.log(2) - mp.loggamma(am / 2)
    assert _rel(fst.chi2.logpdf(x, a), ref) < 1e-14
    # d/da gamma.logpdf = log x - digamma(a)
    assert _rel(ft.grad(lambda v: fst.gamma.logpdf(x, v))(a), mp.log(xm) - mp.digamma(am)) < 1e-11
