"""Session 31 (statsgrad31): functrans.scipy.stats values at extreme parameters and the
derivatives of the distributions; each test fails before its fix. References: mpmath (50
digits) from the definitions, or closed forms derived here."""

import math

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.stats as fst

mp.mp.dps = 50


def _rel(a, b):
    return abs(float(a) - float(b)) / abs(float(b))


# -- beta.logpdf and binom.logpmf where both shapes / both counts are large --------------------

def _beta_logpdf(z, a, b):
    z, a, b = mp.mpf(z), mp.mpf(a), mp.mpf(b)
    return ((a - 1) * mp.log(z) + (b - 1) * mp.log1p(-z)
            - (mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)))


@pytest.mark.parametrize("z, a, b", [(0.5, 1e14, 1e14), (0.5, 1e8, 1e8), (0.4, 1e6, 2e6),
                                     (0.2, 1e15, 4e15), (0.3, 30.0, 70.0), (0.5, 10.0, 10.0),
                                     (1e-5, 1e3, 1e3), (0.9, 1e10, 3.0), (1e-3, 2.0, 1e12)])
def test_beta_logpdf_large_shapes(z, a, b):
    # the first was 16.234375 (true 16.2388778885935...): betaln(a, b) alone is ~1e-16 a off
    assert _rel(fst.beta.logpdf(z, a, b), _beta_logpdf(z, a, b)) < 5e-15


def test_beta_logpdf_large_shapes_derivatives():
    from scipy.special import digamma, polygamma
    z, a, b = 0.3, 20.0, 50.0
    assert _rel(ft.grad(lambda v: fst.beta.logpdf(v, a, b))(z), (a - 1) / z - (b - 1) / (1 - z)) < 1e-14
    assert _rel(ft.grad(lambda v: fst.beta.logpdf(z, v, b))(a),
                math.log(z) - digamma(a) + digamma(a + b)) < 1e-12
    assert _rel(ft.hessian(lambda v: fst.beta.logpdf(z, v, b))(a),
                polygamma(1, a + b) - polygamma(1, a)) < 1e-12
    assert _rel(ft.hessian(lambda v: fst.beta.logpdf(v, a, b))(z),
                -(a - 1) / z ** 2 - (b - 1) / (1 - z) ** 2) < 1e-13
    # d/da at a = b = 1e14, z = 1/2: log(1/2) + psi(2a) - psi(a) = 1/(4a) + O(a^-2)
    g = ft.grad(lambda v: fst.beta.logpdf(0.5, v, 1e14))(1e14)
    assert _rel(g, 0.25e-14) < 1e-6
    # the density's end: -inf, as before
    assert float(fst.beta.logpdf(0.0, 20.0, 30.0)) == -math.inf


def _binom_logpmf(k, n, p):
    k, n, p = mp.mpf(k), mp.mpf(n), mp.mpf(p)
    return (mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
            + k * mp.log(p) + (n - k) * mp.log1p(-p))


@pytest.mark.parametrize("k, n, p", [(5e8, 1e9, 0.5), (4e14, 1e15, 0.4), (1e5, 1e9, 1e-4),
                                     (999999999995, 1e12, 1 - 1e-12), (30, 100, 0.3),
                                     (10, 20, 0.5), (12, 25, 1e-3), (12, 25, 1 - 1e-12)])
def test_binom_logpmf_large_counts(k, n, p):
    # the first was 1.57e-7 relative off in the log (1.3e-7 in pmf)
    ref = _binom_logpmf(k, n, p)
    assert _rel(fst.binom.logpmf(k, n, p), ref) < 5e-15
    assert _rel(fst.binom.pmf(k, n, p), mp.exp(ref)) < 5e-14
    # d/dp = k / p - (n - k) / (1 - p); d2/dp2 = -k / p^2 - (n - k) / (1 - p)^2
    g = k / p - (n - k) / (1 - p)
    assert abs(float(ft.grad(lambda q: fst.binom.logpmf(k, n, q))(p)) - g) <= 1e-12 * (
        k / p + (n - k) / (1 - p))
    h = -k / p ** 2 - (n - k) / (1 - p) ** 2
    assert _rel(ft.hessian(lambda q: fst.binom.logpmf(k, n, q))(p), h) < 1e-12


def _betabinom_logpmf(k, n, a, b):
    k, n, a, b = (mp.mpf(v) for v in (k, n, a, b))

    def lb(x, y):
        return mp.loggamma(x) + mp.loggamma(y) - mp.loggamma(x + y)
    return (mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
            + lb(k + a, n - k + b) - lb(a, b))


@pytest.mark.parametrize("k, n, a, b, tol", [
    (5, 10, 1e14, 1e14, 5e-15), (5, 10, 1e8, 1e8, 5e-15), (3, 10, 1e6, 3e6, 5e-15),
    (50, 100, 1e10, 1e10, 5e-15), (5e5, 1e6, 1e12, 1e12, 5e-15), (0, 10, 20.0, 30.0, 5e-15),
    # ((40, 100, 10, 10): the plain form since session 32, its terms ~81 < 200, 1.95e-14
    # absolute, stats._PLAIN_MAX_TERMS)
    (10, 10, 20.0, 30.0, 5e-15), (40, 100, 10.0, 10.0, 1e-14), (2e3, 1e4, 15.0, 40.0, 5e-14),
    (5e8, 1e9, 1e10, 1e10, 5e-11)])
def test_betabinom_logpmf_large_shapes(k, n, a, b, tol):
    # the first was -1.39245 (true -1.40204): betaln(k + a, n - k + b) - betaln(a, b)
    # cancelled
    assert _rel(fst.betabinom.logpmf(k, n, a, b), _betabinom_logpmf(k, n, a, b)) < tol


def test_betabinom_logpmf_large_shapes_derivatives():
    mp.mp.dps = 30
    try:
        for k, n, a, b in [(40, 100, 10.0, 12.0), (5, 10, 1e8, 1e8)]:
            def f(v):
                return fst.betabinom.logpmf(k, n, v[0], v[1])
            v = ft.numpy.array([a, b])
            g, h = ft.grad(f)(v), ft.hessian(f)(v)
            assert _rel(g[0], mp.diff(lambda u: _betabinom_logpmf(k, n, u, b), a)) < 1e-13
            assert _rel(g[1], mp.diff(lambda u: _betabinom_logpmf(k, n, a, u), b)) < 1e-13
            assert _rel(h[0, 0], mp.diff(lambda u: _betabinom_logpmf(k, n, u, b), a, 2)) < 1e-13
            assert _rel(h[0, 1], mp.diff(lambda u: mp.diff(
                lambda w: _betabinom_logpmf(k, n, u, w), b), a)) < 1e-13
    finally:
        mp.mp.dps = 50


# -- betabinom.cdf / sf in bounded memory ---------------------------------------------------------

def _betabinom_sums(k, n, a, b):
    masses = [mp.exp(_betabinom_logpmf(i, n, a, b)) for i in range(n + 1)]
    return sum(masses[:k + 1]), sum(masses[k + 1:])


def test_betabinom_cdf_bounded_memory(monkeypatch):
    import tracemalloc
    # was elements x (max(n) + 1) at once: 200 x 2001 float64, 3.2 MB a temporary (a
    # MemoryError at n = 1e5 over 40,960 points)
    monkeypatch.setattr(type(fst.betabinom), "_CHUNK", 1 << 13, raising=False)
    k = np.linspace(0.0, 2000.0, 200)
    fst.betabinom.cdf(k[:3], 2000.0, 2.0, 3.0)  # (warm)
    tracemalloc.start()
    try:
        out = np.asarray(fst.betabinom.cdf(k, 2000.0, 2.0, 3.0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2e6
    assert np.all(np.diff(out) >= 0) and out[-1] == 1.0


@pytest.mark.parametrize("n, a, b", [(10, 2.0, 3.0), (10, 0.3, 0.7), (3, 1e14, 1e14),
                                     (200, 0.5, 0.5), (7, 30.0, 40.0)])
def test_betabinom_cdf_sf_values(n, a, b):
    for k in sorted({0, n // 3, n // 2, n - 1, n}):
        c, s = _betabinom_sums(k, n, a, b)
        assert _rel(fst.betabinom.cdf(k, n, a, b), c) < 1e-13
        if s:
            assert _rel(fst.betabinom.sf(k, n, a, b), s) < 1e-13
        else:
            assert float(fst.betabinom.sf(k, n, a, b)) == 0.0


def test_betabinom_cdf_blocks_and_derivatives(monkeypatch):
    # blocks of 3 terms (the masses by their ratios inside a block) give the same values
    # and derivatives; each against the sum of masses in mpmath
    k = np.array([0.0, 3.0, 7.0, 9.0, 10.0, -1.0, 12.0])
    full = np.asarray(fst.betabinom.cdf(k, [[10.0], [4.0], [0.0]], 2.0, 3.0))
    g = float(ft.grad(lambda v: fst.betabinom.cdf(3.0, 10.0, v, 3.0))(2.0))
    h = float(ft.hessian(lambda v: fst.betabinom.sf(3.0, 10.0, 2.0, v))(3.0))
    monkeypatch.setattr(type(fst.betabinom), "_BLOCK", 3, raising=False)
    np.testing.assert_allclose(fst.betabinom.cdf(k, [[10.0], [4.0], [0.0]], 2.0, 3.0), full,
                               rtol=1e-14)
    mp.mp.dps = 30
    try:
        for v in (g, float(ft.grad(lambda v: fst.betabinom.cdf(3.0, 10.0, v, 3.0))(2.0))):
            assert _rel(v, mp.diff(lambda u: _betabinom_sums(3, 10, u, 3.0)[0], 2.0)) < 1e-12
        for v in (h, float(ft.hessian(lambda v: fst.betabinom.sf(3.0, 10.0, 2.0, v))(3.0))):
            assert _rel(v, mp.diff(lambda u: _betabinom_sums(3, 10, 2.0, u)[1], 3.0, 2)) < 1e-11
    finally:
        mp.mp.dps = 50


# -- sem: SciPy's small samples and ddof >= n -----------------------------------------------------

def test_sem_small_samples_and_large_ddof():
    nan, inf = math.nan, math.inf
    # (SciPy 1.17: nan for fewer than two values; the sum of squares over max(n - ddof, 0))
    cases = [([1.0], {"ddof": 0}, nan),                               # was 0.0
             ([1.0, nan], {"ddof": 0, "nan_policy": "omit"}, nan),    # was 0.0
             ([1.0, 2.0, nan], {"ddof": 2, "nan_policy": "omit"}, inf),  # was nan
             ([1.0, 2.0, 3.0, nan], {"ddof": 3, "nan_policy": "omit"}, inf),  # was nan
             ([1.0, 1.0, nan], {"ddof": 2, "nan_policy": "omit"}, nan),
             ([1.0, 2.0], {"ddof": 3}, inf), ([nan], {"nan_policy": "omit"}, nan)]
    for a, kw, want in cases:
        got = float(fst.sem(np.array(a), **kw))
        assert (math.isnan(got) and math.isnan(want)) or got == want, (a, kw, got)
    a = np.array([[1.0, nan, 3.0, 4.0], [2.0, 5.0, nan, nan], [nan, 7.0, nan, nan]])
    out = np.asarray(fst.sem(a, axis=1, nan_policy="omit"))
    np.testing.assert_allclose(out[:2], [math.sqrt(7 / 3) / math.sqrt(3), 1.5], rtol=1e-14)
    assert math.isnan(out[2])
    # d/da_i of sqrt(ss / ((n - 1) n)) is (a_i - mean) / ((n - 1) n sem); 0 at the nans
    g = np.asarray(ft.grad(lambda x: ft.numpy.sum(fst.sem(x, axis=1, nan_policy="omit")))(a))
    s0 = math.sqrt(7 / 3) / math.sqrt(3)
    want = np.array([[(1 - 8 / 3) / (6 * s0), 0.0, (3 - 8 / 3) / (6 * s0), (4 - 8 / 3) / (6 * s0)],
                     [-1.5 / (2 * 1.5), 1.5 / (2 * 1.5), 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(g, want, rtol=1e-13, atol=1e-15)
