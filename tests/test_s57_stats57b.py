"""Session 57 (stats57b): log_ndtr's slope at -inf, Gumbel's log tails at the far infinity.

- log_ndtr's lower-tail slope sqrt(2/pi) / erfcx(-x / sqrt 2) was sqrt(2/pi) / 0 at x = -inf:
  the right inf, with a 'divide by zero' RuntimeWarning, and its derivative 0 / 0 (nan,
  'invalid'); so grad(norm.logcdf, (0, 1, 2))(-inf, 0, 1) and grad(norm.logsf, ...)(inf, 0,
  1) warned, grad(grad(log_ndtr))(-inf) too. The slope is now -x below x = -1e8 (its -1/x term
  under half an ulp there; the second derivative -1). And the primitive's own value,
  log(erfcx(inf) / 2) = log(0), warned under jit (eager log_ndtr is under errstate): erfcx / 2
  has a floor of 1e-310 before the log, under every finite x's value. Each test below fails
  before (the RuntimeWarning as an error; grad(grad) was the warning, then nan).
- gumbel_r.logsf (and so gumbel_l.logcdf) at z = -inf: the upper-tail form -z - exp(-z) / 2
  was inf - inf under the where, and the log1mexp form's slope 0 * inf: grad warned ('invalid
  value encountered in subtract') in every grad / vmap(grad) at gumbel_r.logsf(-inf) /
  gumbel_l.logcdf(inf). Each form now sees its own elements only (the far form's z held at
  20, the log1mexp form's clipped to [-40, 20], where it is exactly 0 below); the limits 0.
- f.cdf / f.sf at large shapes (a + b = (dfn + dfd) / 2 >= 1000): u = n x / (n x + m) is
  rounded (~1.5 eps), which I_u's conditioning multiplies (~2000 at the median of (1e5, 1e5));
  now the values take the first-order term density(u) (U - u) (stats._f_rounding_term: U - u
  from error-free products and sums; eager, vmap, and jit through the primitive
  f_rounding_fix). And below x = 1/2 where I < 1/4 SciPy's betainc was itself up to ~2e-13
  off at such shapes: special._inc_beta_large_shapes takes Boost's betaincc(b, a, fl(1 - x))
  plus the density over [1 - fl(1 - x), x] there (x >= (a + b) 2^-27). Sweep of F (dfn, dfd
  in 10 .. 1e6, 7 quantiles, 848 values, mpmath): worst cdf 5.0e-13 -> 1.7e-13, sf 3.4e-13 ->
  1.65e-13, values over 3e-14: 37 -> 10 (cdf), 37 -> 13 (sf). The points below were 8.1e-14 ..
  5.0e-13 off before (special.bdtr's 1.6e-13), each now within 3e-15; the derivatives are
  unchanged (the form's).
- exp_sq's slope 2 c x exp(c x^2) (c < 0) was inf * 0 at x = +-inf: every second derivative
  of ndtr / erf / erfc / log_ndtr / norm.cdf there warned ('invalid value') and was nan
  (grad(grad(log_ndtr))(inf) a silent nan under log_ndtr's errstate): x is held at +-1e10
  in that product (y is 0 beyond |x| ~ 40), the limits 0. Fails before (the warning).
"""

import warnings

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats
from functrans.scipy.stats import _f_rounding_term


@pytest.fixture(autouse=True)
def _warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _close(got, want, rtol):
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=rtol, atol=0)


# (x, phi(x) / Phi(x), -s (x + s): mpmath at 80 digits; below -1e8 the asymptotic -x - 1/x and
# -1 + 1/x^2, exact to double there)
_SLOPES = [(-3.0, 3.2830986549304365069, -0.92944081321473188314),
           (-40.0, 40.024968847207263723, -0.99937733162140861123),
           (-1e4, 10000.000099999998, -0.9999999900000006),
           (-99999999.0, 99999999.00000001, -0.9999999999999999),
           (-100000001.0, 100000001.00000001, -1.0),
           (-1e20, 1e20, -1.0)]


def test_log_ndtr_slope_at_minus_inf_silent():
    assert ft.grad(special.log_ndtr)(-np.inf) == np.inf
    assert ft.grad(ft.grad(special.log_ndtr))(-np.inf) == -1.0
    assert ft.jit(ft.grad(special.log_ndtr))(-np.inf) == np.inf
    x = np.array([-np.inf, -3.0, 2.0])
    got = ft.vmap(ft.grad(special.log_ndtr))(x)
    assert got[0] == np.inf and got[2] > 0
    _close(got[1], 3.2830986549304365069, 1e-15)
    got = ft.jit(ft.vmap(ft.grad(ft.grad(special.log_ndtr))))(x)
    assert got[0] == -1.0
    _close(got[1], -0.92944081321473188314, 1e-15)


@pytest.mark.parametrize("x, s, s2", _SLOPES)
def test_log_ndtr_slopes_both_sides_of_the_far_bound(x, s, s2):
    _close(ft.grad(special.log_ndtr)(x), s, 2e-16 * 4)
    _close(ft.grad(ft.grad(special.log_ndtr))(x), s2, 2e-15)
    # JVP against central differences of the slope (the second derivative's sign and size)
    h = abs(x) * 1e-6
    g = ft.grad(special.log_ndtr)
    _close((g(x + h) - g(x - h)) / (2 * h), s2, 1e-5)


def test_log_ndtr_value_under_jit_at_minus_inf_silent():
    x = np.array([-np.inf, -3.0, -40.0, 0.5])
    got = ft.jit(special.log_ndtr)(x)
    assert got[0] == -np.inf
    _close(got[1:], [-6.6077262215103495433, -804.60844201375378817, -0.36894641528865639307],
           2e-15)
    import array_api_strict as xs
    got = ft.jit(special.log_ndtr)(xs.asarray([-np.inf, -3.0]))
    assert float(got[0]) == -np.inf


@pytest.mark.parametrize("dist, x, want", [
    (stats.norm.logcdf, -np.inf, (np.inf, -np.inf, np.inf)),
    (stats.norm.logsf, np.inf, (-np.inf, np.inf, np.inf)),
    (stats.gumbel_r.logsf, -np.inf, (0.0, 0.0, 0.0)),
    (stats.gumbel_l.logcdf, np.inf, (0.0, 0.0, 0.0)),
])
def test_log_tails_at_infinity_silent(dist, x, want):
    got = ft.grad(dist, argnums=(0, 1, 2))(x, 0.0, 1.0)
    assert [float(g) for g in got] == list(want)
    got = ft.vmap(ft.grad(dist, argnums=(0, 1, 2)), in_axes=(0, None, None))(
        np.array([x, 0.5]), 0.0, 1.0)
    assert [float(g[0]) for g in got] == list(want)
    assert all(np.isfinite(g[1]) for g in got)


def test_gumbel_log_tails_unchanged():
    # gumbel_r.logsf = log(1 - exp(-exp(-z))), its slope -exp(-z - exp(-z)) / (1 - exp(-exp(-z)))
    z = np.array([-45.0, -6.0, -1.0, 0.5, 19.0, 21.0, 300.0])
    e = np.exp(-z)
    with np.errstate(divide="ignore"):   # (each form where it is accurate)
        want = np.where(e > np.log(2.0), np.log1p(-np.exp(-e)), np.log(-np.expm1(-e)))
    want[-2:] = -z[-2:] - 0.5 * e[-2:]
    _close(stats.gumbel_r.logsf(z), want, 2e-15)
    slope = -np.exp(-z - e) / -np.expm1(-e)
    slope[-2:] = -1.0 + 0.5 * e[-2:]
    _close(ft.vmap(ft.grad(stats.gumbel_r.logsf))(z), slope, 4e-15)
    _close(ft.vmap(ft.grad(stats.gumbel_l.logcdf))(-z), -slope, 4e-15)


# (x, dfn, dfd, cdf, sf: mpmath, the continued fraction at 45 digits at the exact U; the
# errors before)
_F_LARGE_SHAPES = [
    (0.9605645352702292, 1e5, 1e5, 1.000000000000351622e-10, None),         # 8.1e-14
    (0.977039094221724, 3e5, 3e5, 1.0000000000000398022e-10, None),         # 3.3e-13
    (0.9814144080722065, 3e5, 1e6, 9.9999999999941837064e-11, None),        # 5.0e-13
    (1.018870248913801, 3e5, 1e6, None, 1.0000000827401306587e-10),         # sf 3.4e-13
    (1.0334937657001713, 3e5, 1e5, None, 1.0000000827405610189e-10),        # sf 2.1e-13
]


@pytest.mark.parametrize("x, n, m, cdf, sf", _F_LARGE_SHAPES)
def test_f_large_shapes_values(x, n, m, cdf, sf):
    method, want = (stats.f.cdf, cdf) if cdf is not None else (stats.f.sf, sf)
    xs = np.array([x, 1.3])
    for got in (method(x, n, m), ft.jit(method)(x, n, m),
                ft.vmap(method)(xs, np.array([n, 5.0]), np.array([m, 7.0]))[0]):
        assert abs(float(got) / want - 1.0) < 3e-15
    # (the derivative in x is the density: the form's, unchanged)
    np.testing.assert_allclose(ft.grad(method)(x, n, m),
                               (1.0 if cdf is not None else -1.0) * stats.f.pdf(x, n, m),
                               rtol=1e-12)


def test_f_rounding_term_is_the_shift():
    # I(U) - I(u) at (0.99590, 1e6, 1e6), u the rounded quotient: mpmath 1.51368587489825e-15
    x, n, m = 0.9959009239493007, 1e6, 1e6
    nz = n * x
    u, w = nz / (nz + m), m / (nz + m)
    got = _f_rounding_term(np, *(np.array(v) for v in (n / 2, m / 2, u, w, n, x, m)))
    np.testing.assert_allclose(got, 1.51368587489825e-15, rtol=1e-9)
    # (small shapes: none)
    assert _f_rounding_term(np, *(np.array(v) for v in (2.5, 3.5, 0.4, 0.6, 5.0, 1.0,
                                                        7.0))) == 0.0


def test_bdtr_large_n_lower_tail():
    # I_{1-p}(n - k, k + 1) below 1/2: SciPy's betainc 1.6e-13 off, mpmath 1.0093425631892488e-10
    got = special.bdtr(179141.0, 200000, 0.9)
    assert abs(got / 1.009342563189248834e-10 - 1.0) < 3e-15


def test_second_derivatives_of_the_normal_tails_at_infinity():
    # exp_sq's slope 2 c x y was inf * 0 at x = +-inf (c < 0): nan and 'invalid value' in every
    # second derivative of ndtr / erf / erfc / log_ndtr there (grad(grad(log_ndtr))(inf) was a
    # silent nan); the limits are 0 (log_ndtr at -inf: -1)
    x = np.array([-np.inf, -2.0, 0.5, np.inf])
    for fn, inner in [(special.ndtr, [0.0, 0.10798193302637613, -0.17603266338214976, 0.0]),
                      (special.erf, [0.0, 0.08266794, -0.87878258, 0.0]),
                      (special.log_ndtr, [-1.0, -0.8857209, -0.51382456, 0.0])]:
        got = ft.jit(ft.vmap(ft.grad(ft.grad(fn))))(x)
        np.testing.assert_allclose(got, inner, rtol=1e-7, atol=0)
        assert ft.grad(ft.grad(fn))(np.inf) == 0.0
    # the finite ones against closed forms: ndtr'' = -x phi(x), erf'' = -4 x exp(-x^2) / sqrt(pi)
    z = np.array([-30.0, -2.0, 0.5, 8.0])
    np.testing.assert_allclose(ft.vmap(ft.grad(ft.grad(special.ndtr)))(z),
                               -z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.grad(ft.grad(special.erf)))(z),
                               -4 * z * np.exp(-z * z) / np.sqrt(np.pi), rtol=1e-14)
