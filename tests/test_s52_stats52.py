"""Session 52 (stats52): derivatives of the gamma quantile at a large shape, of t's log
density in df below 50, of beta's log cdf where the probability is small.

- gammaincinv / gammainccinv (gamma.ppf / isf): their derivatives by dx/da = -(dP/da) /
  (dP/dx) at the root are differences of terms ~sqrt(a) times the result, and x - a taken
  from the rounded root loses eps sqrt(a): the second derivative in a was 8.6e-6 off at
  a = 1e6 (0.3; test_s43's strict xfail), 1e-11 at a = 300, 0.26 at 1e9, 1e4 (relative) at
  1e12; the slopes in q 7e-9 off at 1e12. Now, for a >= 50 with the root within 30 % of a,
  in Temme's variable eta (eta solved from y, its slopes from the expansion at fixed eta:
  primitives temme_series and gamma_inv_eta): every first and second derivative within
  1e-14 of mpmath (roots of the regularized incomplete gamma function by quadrature at 60
  digits) from a = 50 to 1e12, q from 1e-10 to 1 - 1e-6, eagerly, under jit and vmap.
- t.logpdf's slope in df below df = 50: its front log(Gamma((df+1)/2) / Gamma(df/2)) -
  log(df)/2 took the difference of gammaln there, whose slope (digamma's difference, ~1 /
  (2 df^2)) lost ~8 y^2 digamma(y) eps (y = df/2): 1e4 eps at (0.31, 49.9, 0.3, 0.7), 1 eps
  above 50; and the kernel (df + 1)/2 log1p(z^2/df) its ~2 df eps (97 at (1.5, 49.9)). Now
  the front is one primitive, lgamma_half_excess (series, or nine steps down with
  one-sign derivatives; any order), and the kernel's near form from df = 8: within 5 eps of
  mpmath (values too: the base's were up to 2.7e-14 off between 25 and 50).
- beta.logcdf / logsf where the probability is small but representable: log(betainc)'s x
  slope was betainc's, the density (a log x + b log1p(-x) - betaln(a, b), terms of the
  shapes' size) over I: 2.7e-12 off at (3/7, 1e4, 1e4) (I = 5.6e-92), its second
  derivative 1.1e-9; now the log forms (series, continued fraction) below I = 1e-45, not
  only where I underflows: 5e-16, 4e-16.

Left (strict xfails below, both fixed in session 53: tests/test_s53_stats53.py): near the
mean at large shapes betainc's x slope kept its density's plain logarithm (2.8e-12 at
(0.49, 1e4, 1e4), 5e-11 at (0.499, 1e6, 1e6); the deviance form cost ordinary cdf grads
12-25 %); at the median (q = 1/2) gamma.ppf's second derivative in a (~0.0395 / a^3) was
the difference of terms ~1 / a^2 (eta's slope's N cancels there): 4.8e-6 relative off at
a = 1e6, 3.6e-2 at 1e9; below a = 50 the former form (within 2.4e-12 off the median).

References: mpmath at 60 digits (tests' values computed once, see each test)."""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats

# (a, q, lower, (x, dx/da, dx/dq, d2x/da2, d2x/dadq, d2x/dq2)): the root of P(a, x) = q
# (lower) or Q(a, x) = q by Newton's method on mpmath's quadrature of the density (60
# digits), its derivatives from the implicit-function formulas there (no cancellation at
# that precision)
_ROOTS = [
    (300.0, 0.3, True, (290.6811624232179, 0.9848522397539818, 48.78171170693081,
                        2.5278672757253624e-05, 0.08307308846702231, -68.10199385406759)),
    (1e4, 1e-10, False, (10649.348144383395, 1.031803811008287, -160133414610.2429,
                         -1.589904336509502e-06, -7676238.0279714, 1.5659821566638028e+21)),
    (1e6, 0.01, True, (997675.1228599253, 0.9988368260118029, 37462.255400294765,
                       5.815870452074104e-10, 0.018760213257260287, -3268976.9728572993)),
    (1e9, 0.9, False, (999959473.9952701, 0.9999797368905666, -180183.60564428283,
                       1.0131554719712171e-14, -9.009423695169258e-05, -1315743.4642720607)),
    (1e12, 0.3, True, (999999475599.2456, 0.9999997377997436, 2876102.6537769767,
                       1.3110012817708366e-19, 1.4380518296323928e-06, -4337819.462485135)),
    (1e12, 0.999999, False, (999995246582.8895, 0.9999976232878456, -202087629976.3648,
                             1.1883560772027275e-18, -0.10104413519160683,
                             -1.941276331063694e+17)),
]


def _inverse(lower):
    return special.gammaincinv if lower else special.gammainccinv


def _all_derivatives(fn, a, q):
    g = ft.grad(fn, argnums=(0, 1))(a, q)
    h = ft.hessian(fn, argnums=(0, 1))(a, q)
    return np.array([fn(a, q), g[0], g[1], h[0][0], h[0][1], h[1][1]], dtype=float)


@pytest.mark.parametrize("a, q, lower, want", _ROOTS)
def test_gamma_inverse_derivatives_large_a(a, q, lower, want):
    got = _all_derivatives(_inverse(lower), a, q)
    np.testing.assert_allclose(got, want, rtol=5e-14)


def test_gamma_ppf_isf_large_a_through_stats():
    # (the distribution's quantiles: loc + scale x; the a slopes scaled)
    a, q, _, want = _ROOTS[2]
    h = ft.hessian(lambda a: stats.gamma.ppf(q, a, 0.3, 0.7))(a)
    np.testing.assert_allclose(float(h), 0.7 * want[3], rtol=5e-14)
    a, q, _, want = _ROOTS[3]
    h = ft.hessian(lambda a: stats.gamma.isf(q, a, 0.3, 0.7))(a)
    np.testing.assert_allclose(float(h), 0.7 * want[3], rtol=5e-14)
    g = ft.grad(ft.grad(lambda q: stats.gamma.isf(q, a)))(q)
    np.testing.assert_allclose(float(g), want[5], rtol=5e-14)


def test_gamma_inverse_large_a_jit_vmap_agree():
    # (jit and vmap take the same forms as eager: one array of large and ordinary shapes)
    a = np.array([r[0] for r in _ROOTS] + [3.0, 49.0])
    q = np.array([r[1] for r in _ROOTS] + [0.3, 0.7])

    def fn(a, q):
        return special.gammaincinv(a, q)
    hess = ft.hessian(fn, argnums=(0, 1))
    eager = np.array([[hess(ai, qi)[i][j] for i, j in ((0, 0), (0, 1), (1, 1))]
                      for ai, qi in zip(a, q)])
    for tr in (ft.vmap(hess), ft.jit(ft.vmap(hess))):
        h = tr(a, q)
        got = np.stack([np.asarray(h[i][j]) for i, j in ((0, 0), (0, 1), (1, 1))], axis=1)
        np.testing.assert_allclose(got, eager, rtol=1e-15)
    for i, (ai, qi, lower, want) in enumerate(_ROOTS):
        if lower:
            np.testing.assert_allclose(eager[i], np.array(want)[[3, 4, 5]], rtol=5e-14)


def test_gamma_inverse_third_derivative_large_a():
    # (the third derivative in a exists, through eta's rules: a central difference of the
    # second, whose own error is ~1e-15, at a = 1e6; relative step 1e-3)
    fn = lambda a: special.gammaincinv(a, 0.01)  # noqa: E731
    third = ft.grad(ft.grad(ft.grad(fn)))(1e6)
    second = ft.grad(ft.grad(fn))
    h = 1e3
    fd = (second(1e6 + h) - second(1e6 - h)) / (2.0 * h)
    np.testing.assert_allclose(float(third), fd, rtol=1e-5)
    assert np.isfinite(third) and third != 0.0


def test_gamma_inverse_continuous_at_the_switch():
    # (a = 50: the former form below, eta's from there; the second derivatives agree
    # across it to the former form's accuracy)
    fn = lambda a: special.gammaincinv(a, 0.2)  # noqa: E731
    below, at = ft.hessian(fn)(50.0 * (1 - 1e-15)), ft.hessian(fn)(50.0)
    np.testing.assert_allclose(float(at), float(below), rtol=1e-11)


def test_gamma_inverse_ordinary_shapes_unchanged():
    # (below a = 50, and outside 30 % of a, the former form: the same bits)
    from functrans.primitives.special import _temme_inverse_none
    a = np.array([0.3, 3.0, 30.0, 49.9, 60.0])
    q = np.array([0.3, 0.01, 0.9, 0.5, 1e-40])
    x = np.asarray(special.gammaincinv(a, q))
    assert _temme_inverse_none(a, q, x)


def test_gamma_ppf_second_derivative_at_the_median_huge_a():
    # (at the median the second derivative in a (16 / (405 a^3)) was the difference of eta's
    # terms ~1 / a^2: 3.6e-2 relative off at a = 1e9; session 53's series in 1/sqrt(a),
    # tests/test_s53_stats53.py)
    h = ft.hessian(lambda a: special.gammaincinv(a, 0.5))(1e9)
    # (mpmath, as _ROOTS)
    np.testing.assert_allclose(float(h), 3.9506172882774836e-29, rtol=2e-15)


# -- Student t's log density: its slope in df below df = 50 ----------------------------------
# (x, df, logpdf(x, df, 0.3, 0.7), d/d df, d2/d df2): mpmath's loggamma at 40 digits,
# differentiated by mpmath
_T_LOGPDF = [
    (0.31, 49.9, -0.5673773596356939, 0.00010042203430432426, -4.024124477812894e-06),
    (1.5, 49.9, -2.0236317877470436, -0.00014558695835535673, 5.257666209596708e-06),
    (0.31, 24.9, -0.5724071945885433, 0.00040305973428356797, -3.234832438594221e-05),
    (1.5, 30.0, -2.019119501825351, -0.00035230645534392515, 1.945982125065124e-05),
    (0.6, 10.0, -0.6873262837698749, 0.003307227430910857, -0.0006576114139031332),
]


@pytest.mark.parametrize("x, df, value, slope, second", _T_LOGPDF)
def test_t_logpdf_df_slope_below_50(x, df, value, slope, second):
    # (the front's slope, digamma's difference, lost ~8 y^2 digamma(y) eps below df = 50:
    # 1e4 eps at (0.31, 49.9); the plain kernel's ~2 df eps (97 at (1.5, 49.9)))
    f = lambda d: stats.t.logpdf(x, d, 0.3, 0.7)  # noqa: E731
    np.testing.assert_allclose(float(f(df)), value, rtol=1e-15)
    np.testing.assert_allclose(float(ft.grad(f)(df)), slope, rtol=2e-15)
    np.testing.assert_allclose(float(ft.grad(ft.grad(f))(df)), second, rtol=4e-15)


def test_t_logpdf_df_slope_continuous_at_50():
    f = ft.grad(lambda d: stats.t.logpdf(0.31, d, 0.3, 0.7))
    np.testing.assert_allclose(float(f(50.0 * (1 - 1e-15))), float(f(50.0)), rtol=4e-15)


def test_t_logpdf_df_jit_vmap_agree():
    x = np.array([r[0] for r in _T_LOGPDF])
    d = np.array([r[1] for r in _T_LOGPDF])
    g = ft.grad(lambda x, d: stats.t.logpdf(x, d, 0.3, 0.7), argnums=1)
    want = np.array([r[3] for r in _T_LOGPDF])
    for tr in (ft.vmap(g), ft.jit(ft.vmap(g))):
        np.testing.assert_allclose(np.asarray(tr(x, d)), want, rtol=2e-15)


# (y, (E, E', E'', E''')), E(y) = log(Gamma(y + 1/2) / Gamma(y)) - log(y) / 2: mpmath
_HALF_EXCESS = [
    (0.7, (-0.16790386456561618, 0.21669794282003205, -0.5462637880055254, 2.0415048647112584)),
    (3.3, (-0.037737602962046785, 0.011352205417500975, -0.006806717778848173,
           0.006102402576672183)),
    (9.99, (-0.012507304108480489, 0.0012509427667023935, -0.00025012802302545975,
            7.498961879628657e-05)),
    (12.45, (-0.010037466916481502, 0.0008057903462375368, -0.00012934042670346288,
             3.113312277446245e-05)),
    (1000.0, (-0.00012499999479166822, 1.249999843750078e-07, -2.499999375000469e-10,
              7.499996875003281e-13)),
]


def test_lgamma_half_excess_primitive():
    from functrans.primitives.special import lgamma_half_excess
    y = np.array([r[0] for r in _HALF_EXCESS])
    want = np.array([r[1] for r in _HALF_EXCESS])
    got = np.stack([np.asarray(lgamma_half_excess(y, n=n)) for n in range(4)], axis=1)
    np.testing.assert_allclose(got, want, rtol=2e-15)
    # (its derivatives are its next orders: grad of order 0 is order 1)
    g = ft.vmap(ft.grad(ft.grad(lambda t: lgamma_half_excess(t))))(y)
    np.testing.assert_allclose(np.asarray(g), want[:, 2], rtol=2e-15)


# -- beta.logcdf where the probability is small but representable ---------------------------


def test_beta_logcdf_slope_small_probability():
    # (I = 5.6e-92: log(I)'s x slope was betainc's, the density (its logarithm's terms
    # ~1e4 cancelling) over I, 2.7e-12 off, the second derivative 1.1e-9; now the continued
    # fraction's; mpmath's 2F1 at 50 digits)
    x, a = 3.0 / 7.0, 1e4
    f = lambda x, a, b: stats.beta.logcdf(x, a, b)  # noqa: E731
    np.testing.assert_allclose(float(f(x, a, a)), -210.12004221993044, rtol=2e-15)
    g = ft.grad(f, argnums=(0, 1, 2))(x, a, a)
    np.testing.assert_allclose(np.array(g, dtype=float), [5847.2655488440405,
                               -0.15452390069448443, 0.13385485186510482], rtol=4e-15)
    np.testing.assert_allclose(float(ft.grad(ft.grad(f))(x, a, a)), -84876.26867830972,
                               rtol=4e-15)
    # (logsf on the mirrored side: the same function)
    gs = ft.grad(lambda x: stats.beta.logsf(x, a, a))(1.0 - x)
    np.testing.assert_allclose(float(gs), -5847.2655488440405, rtol=4e-15)
    # (jit and vmap take the same form)
    xs = np.array([x, 0.3])
    want = ft.vmap(ft.grad(lambda x: f(x, a, a)))(xs)
    np.testing.assert_allclose(float(want[0]), 5847.2655488440405, rtol=4e-15)
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(lambda x: f(x, a, a))))(xs), want,
                               rtol=1e-15)


def test_beta_logcdf_slope_near_the_mean_large_shapes():
    # (near the mean at large shapes betainc's x slope, the density in logarithms, lost eps
    # times its terms: 2.8e-12 off; session 53's beta_log_density_fix, tests/test_s53_stats53.py)
    g = ft.grad(lambda x: stats.beta.logcdf(x, 1e4, 1e4))(0.49)
    np.testing.assert_allclose(float(g), 883.9509959887613, rtol=1e-13)
