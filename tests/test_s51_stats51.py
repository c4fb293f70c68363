"""Session 51, helper stats51: the distributions' slopes at huge shape parameters.

Fixed:
- t's log density's slope in df at a large df: its O(1/df^2) slope was the difference of
  O(1/df) terms (log(gamma((df+1)/2) / gamma(df/2)) against log(df) / 2, and (df + 1) / 2
  log1p(z^2 / df) against z^2 / 2): 0 at df = 1e20 (mpmath -5.4975e-40), 6.7e-9 relative off
  at 1e8, 4e-14 at 1e3. Now ``_log_gamma_half_ratio_excess`` (the ratio less log(df/2) / 2,
  by its asymptotic series from df = 50) and, where z^2 / df <= 1/4 and a derivative flows,
  ``z^2 / 2 + (df/2) log1pmx(z^2/df) + log1p(z^2/df) / 2`` (``_t_near_log_kernel``): within
  8 eps of mpmath from df = 50 to 1e300 (value, x, loc, scale and df slopes; ~1 but beside
  z^2 / df = 1/4, the plain form's own cancellation), 16 eps in the second derivatives
  (df, df) and (df, scale). The scale's slope at a huge df too (0 at 1e20, true 7.0: session
  50's form summed the cotangents df e - (df + 1) H, each ~df, in reverse mode). Cost:
  jit(vmap(grad)) of t.logpdf in (x, df) 136 -> 188 equations (the near form's series,
  staged whatever the values); eager ordinary df (< 50) computes neither series.
- f.logpdf's slope in the larger degree of freedom where one is above 64 and at least 8
  times the other: the deviance form's value with the slopes of the b-free form
  (``_F._logpdf_lopsided``): f.logpdf(1e300, 1e20, 3, 0.3, 0.7)'s dfn slope -3.0e-36 ->
  -7.5e-41 (mpmath), 2e21 eps off at (5, 1e20, 3), 831 eps at (2, 191, 3) -> 1; dfd's
  1.9e18 eps off at (5, 3, 1e20).
- beta.logcdf / logsf where I_x underflows and x (a + b) / (a + 1) > 0.3 (the series'
  domain), below the mean: a log-space continued fraction (``_log_betainc_fraction``):
  beta.logcdf(0.65, 1e20, 2, 0.3, 0.7) was -inf with nan slopes, now -6.93e19 within 8 eps.

Left: below df = 50 t's df slope keeps gammaln's difference (~100 eps at df = 49.9, as
before); gamma.ppf's second derivative in a at a = 1e6 (tests/test_s43_stats43.py, strict
xfail); beta.logcdf's x slope from betainc where the probability does not underflow, 2.7e-12
off at (3/7, 1e4, 1e4) (pdf / cdf: 5847.26554884403, got 5847.265548827985).
"""
import mpmath as mp
import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats

_G4 = (0, 1, 2, 3)


def _mp_t_logpdf(x, df, loc, s):
    z = (x - loc) / s
    return (mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2) - mp.log(df * mp.pi) / 2
            - (df + 1) / 2 * mp.log1p(z * z / df) - mp.log(s))


def _mp_value_and_slopes(f, args):
    out = [float(f(*args))]
    for i in range(len(args)):
        def g(t, i=i):
            a = list(args)
            a[i] = t
            return f(*a)
        h = max(abs(args[i]), 1) * mp.mpf(10) ** (-(mp.mp.dps // 3))
        out.append(float(mp.diff(g, args[i], h=h)))
    return out


def _ulps(got, want):
    # (in eps = 2^-52 of the reference's size)
    return [abs(g - w) / (abs(w) * 2.0 ** -52) if w else abs(g) for g, w in zip(got, want)]


@pytest.mark.parametrize("df", [50.0, 1e3, 1e8, 1e20, 1e200])
def test_t_logpdf_slopes_at_large_df(df):
    """Value and (x, df, loc, scale) slopes against mpmath (60 + 2 log10(df) digits), on both
    sides of z^2 / df = 1/4 and far out: within 8 eps (up to 7 in df just above 1/4, the
    plain form's own cancellation there, ~1 elsewhere; the df slope was 0 at 1e20 and
    1e200, 4.5e4 eps off at 1e8, 200 at 1e3; the scale's 0 at 1e20, 5e6 eps off at 1e8);
    eager, jit and a batch alike."""
    mp.mp.dps = int(60 + 2 * np.log10(df))
    g = ft.grad(lambda x, d, l, s: stats.t.logpdf(x, d, l, s), argnums=_G4)
    jg = ft.jit(g)
    xs = [0.3 + 0.7 * np.sqrt(k * df) for k in (1e-30, 0.2499, 0.2501, 4.0)] + [2.0, -5.0]
    for x in xs:
        want = _mp_value_and_slopes(_mp_t_logpdf, [mp.mpf(v) for v in (x, df, 0.3, 0.7)])
        got = [float(stats.t.logpdf(x, df, 0.3, 0.7))] + [float(t) for t in g(x, df, 0.3, 0.7)]
        assert max(_ulps(got, want)) <= 8, (x, got, want)
        assert [float(t) for t in jg(*map(np.float64, (x, df, 0.3, 0.7)))] == got[1:]
    b = ft.vmap(g, in_axes=(0, None, None, None))(np.array(xs), df, 0.3, 0.7)
    for k, x in enumerate(xs):
        assert [float(t[k]) for t in b] == [float(t) for t in g(x, df, 0.3, 0.7)]


def test_t_logpdf_huge_df_pinned():
    """The strict xfail of session 50 (tests/test_s50_stats50.py), and the scale's slope."""
    g = ft.grad(lambda d, s: stats.t.logpdf(2.0, d, 0.3, s), argnums=(0, 1))
    assert [float(t) for t in g(1e20, 0.7)] == [-5.4975010412328215e-40, 6.997084548104958]


def test_t_logpdf_second_derivatives_at_large_df():
    """(df, df) and (df, scale) against mpmath's differences: within 16 eps (were 0 and
    1.0 relative off at 1e20)."""
    f = lambda x, d, l, s: stats.t.logpdf(x, d, l, s)  # noqa: E731
    h = ft.grad(ft.grad(f, argnums=1), argnums=(1, 3))
    for df in (1e3, 1e20):
        mp.mp.dps = int(60 + 2 * np.log10(df))
        for x in (2.0, 0.3 + 0.7 * np.sqrt(0.2 * df)):
            a = [mp.mpf(v) for v in (x, df, 0.3, 0.7)]
            step = mp.mpf(10) ** (-(mp.mp.dps // 4))
            want = [float(mp.diff(lambda d: _mp_t_logpdf(a[0], d, a[2], a[3]), a[1], 2,
                                  h=a[1] * step)),
                    float(mp.diff(lambda d, s: _mp_t_logpdf(a[0], d, a[2], s), (a[1], a[3]),
                                  (1, 1), h=step))]
            got = [float(t) for t in h(x, df, 0.3, 0.7)]
            assert max(_ulps(got, want)) <= 16, (df, x, got, want)


def test_t_logpdf_cost():
    """jit(vmap(grad)) equations on ordinary points (tests/test_s49_stats49.py's 136 until
    session 51: the near form's series costs 52 when staged) and without derivatives (no
    near form: 73 -> 76)."""
    x, d = np.linspace(-3.0, 3.0, 8), np.linspace(1.0, 9.0, 8)
    f = ft.vmap(ft.grad(lambda x, d: stats.t.logpdf(x, d), argnums=(0, 1)))
    assert len(ft.make_jaxpr(f)(x, d).jaxpr.eqns) <= 188
    v = lambda x, d: stats.t.logpdf(x, d, 0.3, 0.7)  # noqa: E731
    assert len(ft.make_jaxpr(v)(x, d).jaxpr.eqns) <= 76


def _mp_f_logpdf(x, n, m, loc, s):
    z = (x - loc) / s
    hn, hm = n / 2, m / 2
    return (hn * mp.log(n / m) + (hn - 1) * mp.log(z) - (hn + hm) * mp.log1p(n * z / m)
            - (mp.loggamma(hn) + mp.loggamma(hm) - mp.loggamma(hn + hm)) - mp.log(s))


def test_f_logpdf_lopsided_dfs_slopes():
    """f.logpdf where one degree of freedom is above 64 and at least 8 times the other:
    value and (x, dfn, dfd, scale) slopes against mpmath (80 + 2 log10(df) digits) within
    32 eps (the larger df's slope was 2e21 eps off at (5, 1e20, 3), 1.2e4 at (1e3, 1e5,
    40), 831 at (2, 191, 3), 131 at (1.5, 160, 20); dfd's 6.5e7 at (0.31, 3, 1e8), 1.9e18 at
    (5, 3, 1e20)); eager, jit (to an ulp: f_logpdf_fix's pass) and a batch alike."""
    g = ft.grad(lambda x, n, m, s: stats.f.logpdf(x, n, m, 0.3, s), argnums=_G4)
    jg = ft.jit(g)
    cases = [(5.0, 1e20, 3.0), (1e3, 1e5, 40.0), (5.0, 3.0, 1e20), (0.31, 3.0, 1e8),
             (2.0, 191.0, 3.0), (1.5, 160.0, 20.0)]
    for x, n, m in cases:
        mp.mp.dps = int(80 + 2 * np.log10(max(n, m)))
        want = _mp_value_and_slopes(
            lambda x, n, m, s: _mp_f_logpdf(x, n, m, mp.mpf(0.3), s),
            [mp.mpf(v) for v in (x, n, m, 0.7)])
        got = [float(stats.f.logpdf(x, n, m, 0.3, 0.7))] + [float(t) for t in g(x, n, m, 0.7)]
        assert max(_ulps(got, want)) <= 32, (x, n, m, got, want)
        jitted = [float(t) for t in jg(*map(np.float64, (x, n, m, 0.7)))]
        np.testing.assert_allclose(jitted, got[1:], rtol=4e-16, atol=0)
    xs, ns, ms = (np.array(v) for v in zip(*cases))
    b = ft.vmap(g, in_axes=(0, 0, 0, None))(xs, ns, ms, 0.7)
    for k, (x, n, m) in enumerate(cases):
        assert [float(t[k]) for t in b] == [float(t) for t in g(x, n, m, 0.7)]


def test_f_logpdf_far_out_dfn_slope_pinned():
    """The strict xfail of session 50 (tests/test_s50_stats50b.py): -3.0e-36 there; the
    dfd slope where n z overflows (0 times the other quotient's -inf slope: nan) too."""
    g = ft.grad(lambda n, m: stats.f.logpdf(1e300, n, m, 0.3, 0.7), argnums=(0, 1))
    got = [float(t) for t in g(1e20, 3.0)]
    assert abs(got[0] / -7.5e-41 - 1) < 1e-15
    assert got[1] == pytest.approx(-344.88161385401142, rel=1e-15)


def _mp_log_betainc(x, a, b):
    # (x^a y^b / (a B(a, b)) 2F1(a + b, 1; a + 1; x))
    front = (a * mp.log(x) + b * mp.log1p(-x) - mp.log(a)
             - (mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)))
    return front + mp.log(mp.hyp2f1(a + b, 1, a + 1, x))


def test_beta_log_methods_where_the_series_stops():
    """beta.logcdf (logsf mirrored) where I_x underflows and x (a + b) / (a + 1) > 0.3: by the
    continued fraction (was -inf, nan slopes): value and (x, a, b) slopes against mpmath
    (2F1) within 8 eps; eager, jit and a batch alike."""
    g = ft.grad(lambda x, a, b: stats.beta.logcdf(x, a, b), argnums=(0, 1, 2))
    gs = ft.grad(lambda x, a, b: stats.beta.logsf(x, a, b), argnums=(0, 1, 2))
    jg = ft.jit(g)  # (once: its graph has ~15000 equations)
    cases = [(0.5, 1e20, 2.0), (0.5, 1e3, 2.0), (0.5, 1e5, 0.5), (0.6, 1e4, 100.0),
             (0.5, 2000.0, 1.0)]
    for x, a, b in cases:
        mp.mp.dps = 40 + int(2 * np.log10(max(a, b)))
        want = _mp_value_and_slopes(_mp_log_betainc, [mp.mpf(v) for v in (x, a, b)])
        got = [float(stats.beta.logcdf(x, a, b))] + [float(t) for t in g(x, a, b)]
        assert max(_ulps(got, want)) <= 8, (x, a, b, got, want)
        assert [float(t) for t in jg(*map(np.float64, (x, a, b)))] == got[1:]
        # (the mirror image: 1 - x exact here)
        mirror = [float(stats.beta.logsf(1.0 - x, b, a))] + [float(t) for t in gs(1.0 - x, b, a)]
        np.testing.assert_allclose(mirror, [got[0], -got[1], got[3], got[2]], rtol=4e-16)
    xs = np.array([0.1, 0.5, 0.9])
    bt = ft.vmap(g, in_axes=(0, None, None))(xs, 1e20, 2.0)
    for k, x in enumerate(xs):
        assert [float(t[k]) for t in bt] == [float(t) for t in g(x, 1e20, 2.0)]


def test_beta_logcdf_huge_a_pinned():
    """The strict xfail of session 50 (tests/test_s50_stats50b.py)."""
    assert float(stats.beta.logcdf(0.65, 1e20, 2.0, 0.3, 0.7)) == pytest.approx(
        -6.931471805599453e19, rel=1e-15)
