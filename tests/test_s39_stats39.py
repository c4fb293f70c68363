"""Session 39 (stats39): accuracy of the t / F / incomplete beta paths left from session 38.

- special._inc_beta chooses the direct form (x's rounding taken back by the shift) over the
  subtraction 1 - I_y(b, a) where the subtraction errs far more, the shift's own error
  |shift| (a - 1) |d| / x counted (f.cdf at a tiny dfd; stdtr at a huge df stays on the
  subtraction); f.sf's eager direct form takes u back as its staged values did.
- t.cdf / stdtr / t.ppf: at df >= 100 eager transforms take the derivative in df from the
  series of special._t_tail_df_slope (no cancellation of betainc's shape slope against x's),
  the t slope from the density; jit keeps the plain forms.

References: mpmath at 50-60 digits (betainc; derivatives by mp.diff of the t cdf
I_x(df/2, 1/2)/2, x = df/(df + t^2); the quantile by findroot), pinned below."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats


def _rel(got, want):
    return abs(float(got) - want) / abs(want)


# -- 1. the incomplete beta function's choice of form --------------------------------------

def test_f_cdf_at_a_tiny_dfd_takes_the_direct_form():
    # (was 2.7e-10 off: the subtraction 1 - I_w(b, a) with I_w = 1 - 1.2e-7)
    assert _rel(stats.f.cdf(300., 1e4, 1e-8), 1.21202466363624553e-7) < 2e-15
    assert _rel(special.fdtr(1e4, 1e-8, 300.), 1.21202466363624553e-7) < 2e-15


@pytest.mark.parametrize("z, n, m, want", [(300., 3., 1e6, 1.0832360104768086603e-194),
                                           (3., 50., 1e6, 6.3318126199822597783e-12)])
def test_f_sf_eager_as_staged(z, n, m, want):
    # (eagerly the plain betainc at the rounded w: 2.8e-11 and 1.3e-11 off; staged 5e-15)
    eager = stats.f.sf(z, n, m)
    assert _rel(eager, want) < 2e-14
    assert _rel(ft.jit(stats.f.sf)(z, n, m), want) < 2e-14


def test_takes_complement_counts_the_shifts_error():
    # (the subtraction kept where the shift errs: a huge a with d = (1 - x) - y beside y)
    xp = np
    c = np.array([0.866, 1.0 - 1.2e-7, 1.0 - 1.2e-7, 0.3])
    shift = np.array([1e-5, 0.0, 1e-3, 0.0])
    x = np.array([1.0 - 2.2e-12, 1.0 - 3.3e-15, 1.0 - 3.3e-15, 0.9])
    y = np.array([2.25e-12, 3.3e-15, 3.3e-15, 0.1])
    a = np.array([5e11, 5e3, 5e3, 2.0])
    got = special._inc_beta_takes_complement(xp, c, shift, x, y, a)
    # d = (1 - x) - y: ~1e-16 beside a = 5e11 (the shift's error 5e-10), none at the second,
    # the third's shift error ~ 1e-3 * 5e3 * 1e-16 is below eps but c is 8e6 times 1 - c
    d = np.abs((1.0 - x) - y)
    err = np.abs(shift) * np.abs(a - 1) * d / x
    want = c < 64.0 * ((1.0 - c) + err / 2.0 ** -53)
    np.testing.assert_array_equal(got, want)
    assert got[0] and not got[1] and got[3]


@pytest.mark.parametrize("df, want", [(1e12, 0.933192798730984), (1e14, 0.9331927987311404)])
def test_stdtr_at_a_huge_df_keeps_the_subtraction(backend, df, want):
    # (the direct form's shift at a huge a loses a |d| ~ 1e-5 here: tail38's choice broke this)
    arr = backend.asarray(np.asarray([df]), "float64")
    got = backend.to_numpy(special.stdtr(arr, 1.5 + 0 * arr))
    np.testing.assert_allclose(np.asarray(got, dtype=float), [want], rtol=2e-15)


# -- 2. t's derivative in df at a large df -------------------------------------------------

# (t, df): (d/dt, d/d df) of the cdf, mpmath
_T_CDF = {(-6., 1e6): (6.0777407897395374022e-9, -3.3731078492270762417e-19),
          (-2., 1e8): (0.053990967458029938205, -1.349774175652555148e-17),
          (3., 3e4): (0.0044341382931888450914, 3.6948196786167744406e-11),
          (-0.5, 300.): (0.35164388573792569974, -6.1059162355904999878e-7),
          (-6., 1e8): (6.0759014268589706969e-9, -3.3721249091250076861e-23),
          (1e-3, 1e5): (0.39894108357439202431, 9.9735370624214587116e-15),
          # (the series' terms by E[Y^k] ~ k!/a^k too, not y^k alone: 4.7e-10 off with 9)
          (0.7, 150.): (0.31135032259248977763, 3.6094842542624742171e-6),
          (-1.2, 100.): (0.19331150436629131194, -0.000014137811294479248398)}


@pytest.mark.parametrize("point", list(_T_CDF))
def test_t_cdf_derivatives_at_a_large_df(point):
    # (before: d/d df 6.5e-8 off at (-6, 1e6), 1.2e-3 at (-6, 1e8); d/dt 2e-9 at 1e8)
    dt, dd = ft.grad(stats.t.cdf, (0, 1))(*point)
    want_t, want_d = _T_CDF[point]
    assert _rel(dt, want_t) < 5e-15
    assert _rel(dd, want_d) < 2e-14
    # the sf and forward mode alike
    ds = ft.jacfwd(stats.t.sf, (0, 1))(*point)
    assert _rel(-ds[0], want_t) < 5e-15 and _rel(-ds[1], want_d) < 2e-14


def test_t_cdf_derivatives_batched_on_each_backend(backend):
    pts = list(_T_CDF)
    t = backend.asarray(np.array([p[0] for p in pts]), "float64")
    d = backend.asarray(np.array([p[1] for p in pts]), "float64")
    dt, dd = ft.vmap(ft.grad(stats.t.cdf, (0, 1)))(t, d)
    dt, dd = (np.asarray(backend.to_numpy(v), dtype=float) for v in (dt, dd))
    np.testing.assert_allclose(dt, [_T_CDF[p][0] for p in pts], rtol=5e-15)
    np.testing.assert_allclose(dd, [_T_CDF[p][1] for p in pts], rtol=2e-14)


def test_t_cdf_second_derivative_in_df():
    h = ft.hessian(stats.t.cdf, (0, 1))(-6., 1e6)
    assert _rel(h[1][1], 6.7472086875185265261e-25) < 1e-13
    # (the mixed one from the density's df slope; the other order through the series)
    assert _rel(h[1][0], float(ft.grad(lambda d: ft.grad(stats.t.cdf)(-6., d))(1e6))) < 1e-10


def test_t_logcdf_df_slope_at_a_large_df():
    # log cdf's through the same stdtr: d/d df = (dF/d df) / F
    f = float(stats.t.cdf(-6., 1e6))
    g = ft.grad(stats.t.logcdf, 1)(-6., 1e6)
    assert _rel(g, -3.3731078492270762417e-19 / f) < 2e-14


# (q, df): (t, dt/dq, dt/d df), mpmath
_T_PPF = {(0.3, 1e6): (-0.52440067986020892095, 2.8761049714782799777,
                       1.6715221059258500827e-13),
          (0.99, 500.): (2.3338289553523045904, 37.845341839110161643,
                         -0.000015008136125484068819),
          (1e-4, 1e4): (-3.720395869117640213, 2528.9075179574419516,
                        1.3798413262558681764e-7)}


@pytest.mark.parametrize("point", list(_T_PPF))
def test_t_ppf_df_slope_at_a_large_df(point):
    # (before: 3.4e-9 off at (0.3, 1e6), eager and under vmap)
    want_t, want_q, want_d = _T_PPF[point]
    assert _rel(stats.t.ppf(*point), want_t) < 1e-14  # (betaincinv: 7.5e-15 at (1e-4, 1e4))
    gq, gd = ft.grad(stats.t.ppf, (0, 1))(*point)
    # (1 / pdf at the computed t: its error 7.5e-15 at (1e-4, 1e4) is 1e-13 in the density)
    assert _rel(gq, 1.0 / float(stats.t.pdf(stats.t.ppf(*point), point[1]))) < 4e-15
    assert _rel(gq, want_q) < 2e-13
    assert _rel(gd, want_d) < 5e-14  # (t itself 7.5e-15 off at (1e-4, 1e4))
    vq, vd = ft.vmap(ft.grad(stats.t.ppf, (0, 1)))(np.array([point[0]]), np.array([point[1]]))
    assert _rel(vd[0], gd) < 4e-15 and _rel(vq[0], gq) < 4e-15


def test_jit_keeps_the_plain_form():
    # (staged code computes every branch: the series, its terms read from the values, is
    # eager only; the plain form loses ~df eps)
    g = ft.jit(ft.grad(stats.t.cdf, (0, 1)))(np.float64(-2.), np.float64(1e6))
    assert _rel(g[1], float(ft.grad(stats.t.cdf, 1)(-2., 1e6))) < 1e-6
    assert _rel(g[0], float(ft.grad(stats.t.cdf, 0)(-2., 1e6))) < 1e-12


def test_series_lanes_only_where_they_apply():
    # below df 100, at t = 0, y above 1/5 and infinite df: the plain forms (values equal)
    t = np.array([-1., 0., -30., -1., 2.])
    d = np.array([50., 1e4, 1e3, math.inf, 1e3])
    g = ft.vmap(ft.grad(stats.t.cdf, (0, 1)))(t, d)
    for i in range(len(t)):
        one = ft.grad(stats.t.cdf, (0, 1))(t[i], d[i])
        assert np.isfinite(float(one[0]))
        np.testing.assert_allclose([float(g[0][i]), float(g[1][i])],
                                   [float(one[0]), float(one[1])], rtol=1e-15)
    # the median's slope is the density's (1/2 + t pdf(0)); df's there 0
    assert float(g[1][1]) == 0.0


def test_half_digamma_step_series():
    mpmath = pytest.importorskip("mpmath")
    for a in (50.0, 5e3, 5e7):
        inv = 1.0 / (a * a)
        got = 0.0
        for c in reversed(special._HALF_DIGAMMA_STEP):
            got = (got + c) * inv
        with mpmath.workdps(60):
            want = mpmath.digamma(a + 0.5) - mpmath.digamma(a) - 1 / (2 * mpmath.mpf(a))
        assert _rel(got, float(want)) < 1e-15


# -- 3. t.ppf where |t| overflows -----------------------------------------------------------

def test_t_ppf_overflowing_quantile_has_infinite_slopes():
    # t.ppf(1e-300, 0.5) = -(~1e600): -inf; dt/dq = 1/pdf(t) = +inf and dt/d df = +inf (the
    # quantile rises towards 0 as df grows: log|t| = (log df - log z)/2 falls), where reverse
    # mode gave nan in df (inf - inf over the formula's paths); isf the negatives
    assert float(stats.t.ppf(1e-300, 0.5)) == -math.inf
    for g in (ft.grad(stats.t.ppf, (0, 1)), ft.jacfwd(stats.t.ppf, (0, 1))):
        assert [float(v) for v in g(1e-300, 0.5)] == [math.inf, math.inf]
    assert [float(v) for v in ft.grad(stats.t.isf, (0, 1))(1e-300, 0.5)] == [-math.inf,
                                                                          -math.inf]
    vg = ft.vmap(ft.grad(stats.t.ppf, (0, 1)))(np.array([1e-300, 0.3]), np.array([0.5, 0.5]))
    assert float(vg[1][0]) == math.inf and np.isfinite(float(vg[1][1]))
    # a finite quantile beside it: the plain far-tail form, finite slope in df, positive
    with np.errstate(all="ignore"):
        t, (gq, gd) = stats.t.ppf(1e-150, 0.5), ft.grad(stats.t.ppf, (0, 1))(1e-150, 0.5)
    assert np.isfinite(float(t)) and float(gd) > 0.0 and float(gq) > 0.0


def test_overflow_log_slopes_are_the_formulas():
    mpmath = pytest.importorskip("mpmath")
    tf = 2e-300

    def log_t(d):
        h = d / 2
        return 0.5 * (mpmath.log(d) - (mpmath.log(tf) + mpmath.log(h)
                                       + mpmath.log(mpmath.beta(h, 0.5))) / h)

    def via(d_, tf_):
        h = d_ / 2
        log_z = (ft.numpy.log(tf_) + ft.numpy.log(h) + special.betaln(h, 0.5)) / h
        return stats._t_overflow_log(0.0 * d_, log_z, tf_, d_)
    for d in (0.5, 1.2, 3.0):
        with mpmath.workdps(40):
            want = float(mpmath.diff(log_t, mpmath.mpf(d)))
        gd, gtf = ft.grad(via, (0, 1))(d, tf)
        assert _rel(gd, want) < 1e-15
        assert _rel(gtf, -0.5 / (d / 2 * tf)) < 1e-15


def test_t_cdf_hessian_at_a_large_df_eager():
    # (mpmath; jit's plain form: 2.3e-4 off in the mixed, 2.4e-5 in df's)
    h = ft.hessian(stats.t.cdf, (0, 1))(1.7, 1e6)
    assert _rel(h[1][0], -3.696328921309499e-14) < 1e-13
    assert _rel(h[0][1], -3.696328921309499e-14) < 1e-9  # (d/dt of the series: 8e-11)
    assert _rel(h[1][1], -3.109732393512544e-19) < 1e-13
