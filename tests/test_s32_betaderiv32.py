"""Session 32 (betaderiv32): derivatives of the incomplete beta function and of the stats
distributions at their support ends.

mpmath is not among the test extras: the references are hard-coded, each with the mpmath
expression that gave it (mp.dps = 50)."""
import math

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fs
from functrans.scipy import stats


# d/dx betainc(a, b, x) = x^(a-1) (1-x)^(b-1) / B(a, b):
# mp.power(x, a-1) * mp.power(1-x, b-1) / mp.beta(a, b)
_DENSITY = [(0.068, 2390.45, 1.4e-6, 34044.161511444623054),
            (0.5, 3e4, 2e-5, 11992.183758103563764),
            (7.0, 1e6, 3e-6, 50410.389712956972219)]


@pytest.mark.parametrize("a, b, x, ref", _DENSITY)
def test_betainc_slope_in_x_at_a_large_shape(a, b, x, ref):
    # before: log B(a, b) as an lgamma difference, eps lgamma(b) off: 2.7e-12, 1.3e-11 and
    # 3.8e-10 relative
    got = float(ft.grad(fs.betainc, argnums=2)(a, b, x))
    assert abs(got / ref - 1.0) < 1e-13


# d/d(dfn or dfd) of f.cdf(x, dfn, dfd) = betainc(dfn/2, dfd/2, dfn x / (dfn x + dfd)):
# mp.diff(lambda v: mp.betainc(n/2, m/2, 0, n x / (n x + m), regularized=True), v) with v
# the argument k (1: dfn, 2: dfd)
_F_CASES = [(19.192648749539057, 4780.906731296413, 0.1360071835747379, 1,
             -1.9582997428304454864e-9),
            (0.7856880541531596, 11.16145845176644, 4853.873898387163, 2,
             -6.6094087124610032395e-9),
            (2.3142087002401452, 1092.7152508281142, 3.631075754479607, 1,
             8.0078090607555366395e-9)]


@pytest.mark.parametrize("x, n, m, k, ref", _F_CASES)
@pytest.mark.parametrize("method, sign", [("cdf", 1.0), ("sf", -1.0)])
def test_f_cdf_sf_degrees_of_freedom_derivative(x, n, m, k, ref, method, sign):
    # before: forward 2.6e-7, reverse 2.1e-7 off at the first (and apart: the cancelling
    # terms summed in other orders; u = n x / (n x + m) near 1 whose derivative cancels and
    # whose 1 - u the density saw rounded), 1.6e-8 .. 2.5e-8 elsewhere. The derivative is
    # 1e-4 of its terms here: 1e-9 is the terms' rounding.
    def f(v):
        args = [x, n, m]
        args[k] = v
        return getattr(stats.f, method)(*args)

    v = (x, n, m)[k]
    fwd, rev = float(ft.jacfwd(f)(v)), float(ft.jacrev(f)(v))
    assert abs(fwd / (sign * ref) - 1.0) < 1e-9
    assert abs(rev / (sign * ref) - 1.0) < 1e-9
    assert abs(fwd / rev - 1.0) < 1e-11


def test_f_cdf_values_unchanged_by_the_derivative_form():
    # the values stay betainc(n/2, m/2, u)'s (sf: its own choice), under a transform too
    x = np.array([19.192648749539057, 0.3, 2.0, 0.0, np.inf])
    n, m = 4780.906731296413, 0.1360071835747379
    plain = stats.f.cdf(x, n, m)
    traced = ft.vmap(lambda v: stats.f.cdf(v, n, m))(x)
    np.testing.assert_array_equal(plain, traced)
    val, _ = ft.jvp(lambda nn: stats.f.sf(x, nn, m), (n,), (1.0,))
    np.testing.assert_array_equal(val, stats.f.sf(x, n, m))


def test_f_cdf_sf_mixed_sides_match_one_by_one_and_jit():
    # elements on both sides of u = 15/16 in one call (one betainc with the shapes selected
    # per element), eager and under jit, against one element at a time
    n, m = 20.0, 3.0
    x = np.array([0.1, 1.0, 3.0, 50.0, 2000.0])   # u = 20 x / (20 x + 3): 0.4 .. 0.99992
    for method in ("cdf", "sf"):
        def f(nn, xs=x, method=method):
            return getattr(stats.f, method)(xs, nn, m)
        single = np.array([float(ft.grad(lambda nn: f(nn, np.array([v]))[0])(n)) for v in x])
        np.testing.assert_allclose(ft.jacfwd(f)(n), single, rtol=1e-12, atol=0)
        np.testing.assert_allclose(ft.jit(ft.jacrev(f))(n), single, rtol=1e-12, atol=0)


# d^(i+j)/da^i db^j I_x(a, b) for a >> b, x close to 1 (below the mean-side split): mpmath
# mp.diff(lambda a, b: 1 - mp.betainc(b, a, 0, 1 - x, regularized=True), (a, b), (i, j))
# (the first of (1, 0) also = session 31's quadrature reference)
_NEAR_ONE = [
    ((1e8, 50.0, 0.9999993939343128),
     (-1.0490084367698749909e-8, 0.019090225665333940338, 1.217542036760067031e-15,
      -2.1233409702592198716e-9, 0.0036780884983021671154)),
    ((109523.51571630385, 3.010050276460514, 0.999903895281876),
     (-1.4487739303463366441e-7, 0.0027882175061331897221, 1.1265205762911595341e-11,
      -2.0675380286516025359e-7, 0.0035632587777739913211)),
]
_ORDERS = ((1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def test_betainc_dab_large_ratio_near_one_every_order():
    # before: 7.4e-10 (first, (1, 0)) and up to 3.7e-12 relative (the fraction losing
    # eps / (1 - x) a step); now the complement's series
    from functrans import backends
    bk = backends.get_backend("numpy")
    for (a, b, x), refs in _NEAR_ONE:
        for (i, j), ref in zip(_ORDERS, refs):
            got = bk.extra("betainc_dab")(i, j, np.array([a]), np.array([b]), np.array([x]))[0]
            assert abs(got / ref - 1.0) < 2e-12, (a, b, x, i, j, got, ref)


def test_betainc_dab_series_region_mixed_with_others_and_backends():
    # one call with elements in the complement's series, the fraction, the small-shape
    # series and the edges, against one at a time; the same through grad on torch and strict
    from functrans import backends
    bk = backends.get_backend("numpy")
    a = np.array([1e8, 3.0, 0.3, 1e8, 2.0, 1e4])
    b = np.array([50.0, 4.0, 1e6, 50.0, 3.0, 1e8])
    x = np.array([0.9999993939343128, 0.3, 1.6693050029231261e-06, 1.0, 0.0,
                  0.00010248962603427267])
    for i, j in ((1, 0), (1, 1)):
        whole = bk.extra("betainc_dab")(i, j, a, b, x)
        single = [bk.extra("betainc_dab")(i, j, a[k:k + 1], b[k:k + 1], x[k:k + 1])[0]
                  for k in range(a.size)]
        np.testing.assert_allclose(whole, single, rtol=1e-14, atol=0)
    (a0, b0, x0), refs = _NEAR_ONE[0]
    for mod in ("torch", "array_api_strict"):
        lib = pytest.importorskip(mod)
        conv = ((lambda v: lib.tensor(v, dtype=lib.float64)) if mod == "torch"
                else (lambda v: lib.asarray(v, dtype=lib.float64)))
        g = ft.grad(fs.betainc, argnums=(0, 1))(conv(a0), conv(b0), conv(x0))
        assert abs(float(g[0]) / refs[0] - 1.0) < 1e-13
        assert abs(float(g[1]) / refs[1] - 1.0) < 1e-13


_TN_Z = math.erf(2.0 / math.sqrt(2.0)) / 2.0 - math.erf(-1.0 / math.sqrt(2.0)) / 2.0
# (name, function of x, the end, the one-sided second derivative from inside: pdf' for cdf,
# -pdf' for sf, pdf' - pdf^2 for logcdf at the upper end, -pdf' - pdf^2 for logsf at the
# lower, each by hand from the density)
_END_SECOND = [
    ("gamma.cdf a=1", lambda x: stats.gamma.cdf(x, 1.0), 0.0, -1.0),   # e^-x
    ("gamma.sf a=1", lambda x: stats.gamma.sf(x, 1.0), 0.0, 1.0),
    ("beta.cdf(1, 3) at 0", lambda x: stats.beta.cdf(x, 1.0, 3.0), 0.0, -6.0),  # 3 (1-x)^2
    ("beta.cdf(3, 1) at 1", lambda x: stats.beta.cdf(x, 3.0, 1.0), 1.0, 6.0),   # 3 x^2
    ("pareto.cdf b=2", lambda x: stats.pareto.cdf(x, 2.0), 1.0, -6.0),  # 2 x^-3
    ("chi2.cdf df=2", lambda x: stats.chi2.cdf(x, 2.0), 0.0, -0.25),   # e^(-x/2) / 2
    ("weibull_min.cdf c=1", lambda x: stats.weibull_min.cdf(x, 1.0), 0.0, -1.0),
    ("gamma.cdf a=1 loc=2 scale=3", lambda x: stats.gamma.cdf(x, 1.0, 2.0, 3.0), 2.0, -1.0 / 9.0),
    ("beta.logcdf(3, 1) at 1", lambda x: stats.beta.logcdf(x, 3.0, 1.0), 1.0, 6.0 - 9.0),
    ("beta.logsf(1, 3) at 0", lambda x: stats.beta.logsf(x, 1.0, 3.0), 0.0, 6.0 - 9.0),
    # phi(z) / Z on [-1, 2]: pdf' = -z phi(z) / Z = phi(1) / Z at z = -1
    ("truncnorm.cdf(-1, 2) at -1", lambda x: stats.truncnorm.cdf(x, -1.0, 2.0), -1.0,
     math.exp(-0.5) / math.sqrt(2.0 * math.pi) / _TN_Z),
    # a density 0 at the end with a zero one-sided limit: stays 0 (not nan)
    ("gamma.cdf a=3", lambda x: stats.gamma.cdf(x, 3.0), 0.0, 0.0),
]


@pytest.mark.parametrize("name, f, end, ref", _END_SECOND, ids=[c[0] for c in _END_SECOND])
def test_second_derivative_at_a_support_end_is_one_sided(name, f, end, ref):
    # before: 0 at every end (the slope's density was taken at the constant end)
    for h in (ft.hessian(f), ft.jacrev(ft.jacrev(f)), ft.jacfwd(ft.jacfwd(f)),
              ft.grad(ft.grad(f))):
        got = float(h(end))
        assert abs(got - ref) <= 1e-13 * max(1.0, abs(ref)), (name, got, ref)


def test_end_values_and_first_derivatives_unchanged():
    x = np.array([0.0, 0.5, 2.0])
    np.testing.assert_array_equal(stats.gamma.cdf(x, 1.0),
                                  ft.vmap(lambda v: stats.gamma.cdf(v, 1.0))(x))
    assert float(ft.grad(stats.gamma.cdf)(0.0, 1.0)) == 1.0
    assert abs(float(ft.grad(stats.beta.logcdf)(1.0, 3.0, 1.0)) - 3.0) < 1e-15
    assert float(ft.jit(ft.grad(ft.grad(stats.gamma.cdf)))(0.0, 1.0)) == -1.0
