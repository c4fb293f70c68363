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
    (10, 10, 20.0, 30.0, 5e-15), (40, 100, 10.0, 10.0, 5e-15), (2e3, 1e4, 15.0, 40.0, 5e-14),
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
