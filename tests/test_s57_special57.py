"""Session 57 (special57): special-function fixes, each test failing before its fix.

1. entr, xlogy, rel_entr, kl_div at subnormal operands: the product rule's x (t / x) (or
   x (t / y)) overflowed, t / x = inf, so the JVP was +-inf where the slope is finite and
   grad (which forms (ct x) / x) was right: jvp(entr)(5e-324) gave -inf (right: 743.44),
   jvp of xlogy(x, x) +inf (right: -743.44), rel_entr's slope in x +inf (right: -742.52).
   Now entr and xlogy's core are primitives (entr_positive, x_log_y) whose rules form
   -(log x + 1) t and (x / y) t, and rel_entr / kl_div have a rule of their own (slopes
   log(x / y) + 1 and -x / y; kl: log(x / y) and (y - x) / y, which also keeps the digits
   near x = y, where the old slope in x was 5e-10 relative off). scipy.stats' own xlogy
   (_xlogy_weak) had the same overflow (jvp of gamma.logpdf at 5e-324): x_log_y too.
2. stdtrit(df, p) for p < 1e-300 and df ~2000..1e7 was t.ppf's value, whose betaincinv
   works in the few bits of a subnormal p: 1.7 % off at (2000, 5e-324) (-46.0141, mpmath
   -46.8194), its slope in df inf. Now Newton's method on t.logcdf(t) = log p from the tail
   series' large-df start, derivatives by the implicit function theorem.
3. grad of stdtr in df at (5e-324, 3) was nan with a warning (betainc's inf shape slope at a
   stand-in met a zero cotangent); at t = 0 and df = 5e-324 too (df / 2 underflowed in the
   density at 0). Now within 1e-14 of mpmath for df in [5e-324, 1e-5], silent, jit, vmap.
4. yn(n, x) for n past the recurrence's 200000 steps was nan (yn(300000, 1e6)); now Debye's
   expansions with a short recurrence through the turning point.
Every test here but the guards named so fails before its fix (checked on the session's base
commit 4d6ec2cf).
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

mp.mp.dps = 50

SUBNORMALS = [5e-324, 1e-320, 1e-310, 2.2250738585072014e-308]


def _jvp(f, x):
    return float(ft.jvp(f, (x,), (1.0,))[1])


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


# -- 1. entr / xlogy / rel_entr / kl_div slopes at subnormal operands ---------------------------


@pytest.mark.parametrize("x", SUBNORMALS)
def test_entr_and_xlogy_slopes_at_subnormals(x):
    want = float(mp.log(mp.mpf(x)) + 1)
    assert _quiet(_jvp, fsp.entr, x) == pytest.approx(-want, rel=1e-15)
    assert float(_quiet(ft.grad(fsp.entr), x)) == pytest.approx(-want, rel=1e-15)
    xx = lambda v: fsp.xlogy(v, v)  # noqa: E731
    assert _quiet(_jvp, xx, x) == pytest.approx(want, rel=1e-15)
    assert float(_quiet(ft.grad(xx), x)) == pytest.approx(want, rel=1e-15)
    # the slope in y alone, x / y, where t / y overflows: 1e-310 / x
    in_y = lambda y: fsp.xlogy(1e-310, y)  # noqa: E731
    assert _quiet(_jvp, in_y, x) == pytest.approx(float(mp.mpf(1e-310) / x), rel=1e-15)


@pytest.mark.parametrize("x", SUBNORMALS)
def test_rel_entr_and_kl_div_slopes_at_subnormals(x):
    y = 0.4
    log_q = mp.log(mp.mpf(x) / y)
    for f, want in ((fsp.rel_entr, log_q + 1), (fsp.kl_div, log_q)):
        g = lambda v: f(v, y)  # noqa: E731
        assert _quiet(_jvp, g, x) == pytest.approx(float(want), rel=1e-15)
        assert float(_quiet(ft.grad(g), x)) == pytest.approx(float(want), rel=1e-15)
    # the slope in y at the smallest normal y: -x / y = -1.8e307, finite (was -inf)
    t = _quiet(_jvp, lambda v: fsp.rel_entr(y, v), 2.2250738585072014e-308)
    assert t == pytest.approx(-y / 2.2250738585072014e-308, rel=1e-15)
    t = _quiet(_jvp, lambda v: fsp.kl_div(y, v), 2.2250738585072014e-308)
    assert t == pytest.approx(1.0 - y / 2.2250738585072014e-308, rel=1e-15)


def test_kl_div_slopes_keep_their_digits_near_x_equal_y():
    x, y = 1.0, 1.0 + 2.0 ** -30
    gx, gy = ft.grad(fsp.kl_div, argnums=(0, 1))(x, y)
    mx, my = mp.mpf(x), mp.mpf(y)
    assert float(gx) == pytest.approx(float(mp.log(mx / my)), rel=1e-14)  # (was 5e-10 off)
    assert float(gy) == pytest.approx(float(1 - mx / my), rel=1e-14)


@pytest.mark.parametrize("x", [0.3, 1.0, 2.5, 7.0, 1e-300, 1e300])
def test_entr_xlogy_derivatives_at_ordinary_points(x):
    mx = mp.mpf(x)
    d1, d2, d3 = -(mp.log(mx) + 1), -1 / mx, 1 / mx ** 2
    g1 = ft.grad(fsp.entr)
    g2 = ft.grad(g1)
    assert float(g1(x)) == pytest.approx(float(d1), rel=1e-15)
    assert float(g2(x)) == pytest.approx(float(d2), rel=1e-15)
    if x < 1e300:
        assert float(ft.grad(g2)(x)) == pytest.approx(float(d3), rel=1e-14)
    assert _jvp(fsp.entr, x) == float(g1(x))
    xy = ft.grad(ft.grad(fsp.xlogy, 1), 0)(x, 0.7)  # 1 / y
    assert float(xy) == pytest.approx(1 / 0.7, rel=1e-15)
    yy = ft.grad(ft.grad(fsp.xlogy, 1), 1)(0.7, x)  # -0.7 / y^2
    assert float(yy) == pytest.approx(float(-0.7 / mx ** 2), rel=1e-14)


def test_entr_at_zero_and_below_unchanged():
    # (a guard: these held before and must still hold)
    assert _jvp(fsp.entr, 0.0) == math.inf
    assert _jvp(fsp.entr, -1.0) == 0.0
    assert _jvp(fsp.entr, math.nan) == 1.0  # (the nan passed through: where(x != x, x, .))
    assert float(fsp.entr(-1.0)) == -math.inf
    # xlogy's ends: x == 0 (0 slope in y), y == 0 (-inf in x)
    assert float(ft.grad(fsp.xlogy, 1)(0.0, 0.5)) == 0.0
    assert float(ft.grad(fsp.xlogy, 0)(0.0, 0.0)) == -math.inf


def test_subnormal_slopes_under_vmap_jit_and_array_api_strict():
    xs = np.array([5e-324, 1e-310, 0.3, 2.5])
    want = -(np.log(xs) + 1)
    want[0] = 743.4400719213812
    jv = ft.jit(ft.vmap(lambda v: ft.jvp(fsp.entr, (v,), (1.0,))[1]))
    np.testing.assert_allclose(_quiet(jv, xs), want, rtol=1e-15)
    np.testing.assert_allclose(_quiet(ft.vmap(ft.grad(fsp.entr)), xs), want, rtol=1e-15)
    xx = ft.jit(ft.vmap(lambda v: ft.jvp(lambda u: fsp.xlogy(u, u), (v,), (1.0,))[1]))
    np.testing.assert_allclose(_quiet(xx, xs), -want, rtol=1e-15)
    xp = pytest.importorskip("array_api_strict")
    a = xp.asarray(xs)
    t = ft.jvp(fsp.entr, (a,), (xp.ones_like(a),))[1]
    np.testing.assert_allclose(np.asarray(t), want, rtol=1e-15)
    t = ft.jvp(lambda v: fsp.rel_entr(v, xp.asarray(0.4)), (a,), (xp.ones_like(a),))[1]
    want = [float(mp.log(mp.mpf(v) / 0.4) + 1) for v in xs]
    np.testing.assert_allclose(np.asarray(t), want, rtol=1e-14)


def test_float32_subnormal_slopes():
    x = np.array([1e-45, 1e-40, 0.3], np.float32)
    t = ft.jvp(fsp.entr, (x,), (np.ones_like(x),))[1]
    assert t.dtype == np.float32
    want = -(np.log(x.astype(np.float64)) + 1)
    np.testing.assert_allclose(t, want, rtol=1e-6)
    t = ft.jvp(lambda v: fsp.xlogy(v, v), (x,), (np.ones_like(x),))[1]
    np.testing.assert_allclose(t, -want, rtol=1e-6)


# -- 2. stdtrit at p below 1e-300 for df above ~2000 ---------------------------------------------


def _t_cdf(df, t):
    df, t = mp.mpf(df), mp.mpf(t)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2


def _t_quantile(df, p, start):
    return mp.findroot(lambda t: mp.log(_t_cdf(df, t)) - mp.log(mp.mpf(p)), mp.mpf(start))


@pytest.mark.parametrize("df,p", [(2000.0, 5e-324), (2500.0, 1e-320), (1e5, 5e-324)])
def test_stdtrit_tiny_p_large_df(df, p):
    # (was -46.0141 at (2000, 5e-324), 1.7 % off mpmath's -46.8194; SciPy's 6e-4 off)
    got = _quiet(fsp.stdtrit, df, p)
    want = _t_quantile(df, p, float(got))
    assert float(got) == pytest.approx(float(want), rel=2e-15)
    # the slope in df by the implicit function theorem (was inf at (2000, 5e-324))
    g = float(_quiet(ft.grad(fsp.stdtrit, 0), df, p))
    lc = lambda d, t: mp.log(_t_cdf(d, t))  # noqa: E731
    dd = -mp.diff(lambda d: lc(d, want), df) / mp.diff(lambda t: lc(df, t), want)
    assert g == pytest.approx(float(dd), rel=1e-11)


def test_stdtrit_tiny_p_second_derivative_jit_vmap():
    df, p = 2000.0, 1e-301
    h = float(_quiet(ft.grad(ft.grad(fsp.stdtrit, 0), 0), df, p))
    assert h == pytest.approx(-4.89856535905543e-06, rel=1e-11)   # (mpmath diff, order 2)
    dfs = np.array([1500.0, 2000.0, 1e5, 5.0, 1e8])
    ps = np.array([5e-324, 5e-324, 1e-310, 0.3, 5e-324])
    want = [-50.23882271242654, -46.81940451283663, -37.79711413718864,
            -0.5594296444693604, -38.46754801827401]
    np.testing.assert_allclose(_quiet(ft.jit(ft.vmap(fsp.stdtrit)), dfs, ps), want, rtol=2e-15)
    g = _quiet(ft.jit(ft.vmap(ft.grad(fsp.stdtrit, 0))), dfs, ps)
    np.testing.assert_allclose(g[:3], [0.009607298721, 0.004864070974, 1.344510957e-06],
                               rtol=1e-9)
    # (ordinary p under jit: unchanged, and silent)
    np.testing.assert_allclose(_quiet(ft.jit(fsp.stdtrit), dfs, np.full(5, 0.3)),
                               [float(fsp.stdtrit(d, 0.3)) for d in dfs], rtol=1e-15)


# -- 3. stdtr's slope in df as df -> 0+ ---------------------------------------------------------


def _t_cdf_slope_df(df, t):
    # d/d(df) of stdtr by mpmath, with a step relative to df and digits for it
    def f(d):
        x = d / (d + mp.mpf(t) ** 2)
        tail = mp.betainc(d / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2
        return tail if t < 0 else 1 - tail
    with mp.workdps(int(60 - math.log10(df))):
        return mp.diff(f, mp.mpf(df), h=mp.mpf(df) * mp.mpf(10) ** -20)


@pytest.mark.parametrize("df", [5e-324, 1e-320, 1e-310, 1e-300, 1e-200, 1e-20, 1e-5])
@pytest.mark.parametrize("t", [3.0, -3.0, 100.0])
def test_stdtr_slope_in_df_near_zero(df, t):
    # (grad at (5e-324, 3) was (nan, 0) with a warning: betainc's inf shape slope at the
    # far tail's stand-in met a zero cotangent; the value 0.5 + 2.2e-16, an ulp off)
    g = _quiet(ft.grad(fsp.stdtr, argnums=(0, 1)), df, t)
    want = _t_cdf_slope_df(df, t)
    assert float(g[0]) == pytest.approx(float(want), rel=1e-14)
    assert float(_quiet(_jvp, lambda d: fsp.stdtr(d, t), df)) == pytest.approx(
        float(want), rel=1e-14)
    if df < 1e-250:
        assert float(fsp.stdtr(df, t)) == 0.5


def test_stdtr_near_zero_df_under_jit_vmap_and_at_t_zero():
    d = np.array([5e-324, 1e-310, 1e-300, 1e-5, 3.0])
    t = np.array([3.0, -3.0, 0.5, 100.0, 2.0])
    want = [float(_t_cdf_slope_df(a, b)) for a, b in zip(d, t)]
    np.testing.assert_allclose(_quiet(ft.jit(ft.vmap(ft.grad(fsp.stdtr, 0))), d, t), want,
                               rtol=1e-14)
    # at t = 0 the value is 1/2 for every df: slope 0 in df (was nan: d / 2 underflowed to 0
    # in the density at 0), the density sqrt(df) / 2 in t (was 0)
    gd, gt = _quiet(ft.grad(fsp.stdtr, argnums=(0, 1)), 5e-324, 0.0)
    assert float(gd) == 0.0
    assert float(gt) == pytest.approx(math.sqrt(5e-324) / 2, rel=1e-15)


# -- 4. yn past the recurrence's 200000 steps ---------------------------------------------------

# (references: mpmath's recurrence from bessely(0, x), bessely(1, x) at 40 digits, n steps)
_YN_REF = [
    (300000, 300000.0, -0.01157336223846073943),
    (300000, 299900.0, -0.053793913289222763978),
    (250000, 250500.0, 0.0062756462524833439249),
    (1000000, 1000000.0, -0.0077475900216173438949),
    (1000000, 1001000.0, -0.0025402219589120820307),
    (1000000, 999000.0, -34021698622.477628277),
]


@pytest.mark.parametrize("n,x,want", _YN_REF)
def test_yn_large_order_near_turning_point(n, x, want):
    # (nan before: the concrete recurrence stops at 200000 steps)
    got = float(_quiet(fsp.yn, n, x))
    assert got == pytest.approx(want, rel=1e-12)


def test_yn_large_order_far_and_derivatives():
    # the brief's case, x = 3.3 n: the phase n (tan b - b) ~ 5.7e5 rounds (SciPy 1.7e-10)
    assert float(_quiet(fsp.yn, 300000, 1e6)) == pytest.approx(8.6672882195927973e-05,
                                                                rel=2e-9)
    # d/dx = (Y_(n-1) - Y_(n+1)) / 2 by the same forms
    g = float(_quiet(ft.grad(lambda t: fsp.yn(300000, t)), 300100.0))
    assert g == pytest.approx(0.00013072563171447951333, rel=1e-12)
    # arrays mixing orders on both sides of the bound, array-api-strict
    got = fsp.yn(np.array([300000.0, 5.0, 250000.0]), np.array([300000.0, 3.0, 250500.0]))
    np.testing.assert_allclose(got, [-0.01157336223846073943, float(mp.bessely(5, 3)),
                                     0.0062756462524833439249], rtol=1e-12)
    xp = pytest.importorskip("array_api_strict")
    got = fsp.yn(300000, xp.asarray([300000.0, 299900.0]))
    np.testing.assert_allclose(np.asarray(got), [-0.01157336223846073943,
                                                 -0.053793913289222763978], rtol=1e-12)


def test_stats_xlogy_slope_at_subnormal():
    # (scipy.stats' own xlogy, _xlogy_weak: the same overflow; jvp of gamma.logpdf(x, a) in x
    # at 5e-324 with a - 1 = 2**-52 was inf with a warning, grad (a - 1) / x = 4.49e307)
    st = pytest.importorskip("functrans.scipy.stats")
    a = 1.0 + 2.0 ** -52
    want = float(mp.mpf(2.0 ** -52) / mp.mpf(5e-324) - 1)
    t = _quiet(_jvp, lambda x: st.gamma.logpdf(x, a), 5e-324)
    assert t == pytest.approx(want, rel=1e-15)
    assert float(_quiet(ft.grad(lambda x: st.gamma.logpdf(x, a)), 5e-324)) == pytest.approx(
        want, rel=1e-15)
