"""Session 53 (stats53): the gamma quantile's derivatives near the median at a large shape,
the beta density at large shapes, t's log density kernel beyond z^2/df = 1/4.

- gammaincinv / gammainccinv (gamma.ppf / isf) where a >= 50 and 1/4 <= q <= 3/4: the eta
  form (session 52) cancels near the median (d2x/da2 = 16/(405 a^3) there from terms
  ~1/a^2), and eta solved from q carries an absolute error ~eps/sqrt(a) that every
  derivative vanishing with the normal quantile z takes up as eps/|z|: d2x/da2 was 2e-11
  off at (300, 1/2), 4.8e-6 at (1e6, 1/2), 3.6e-2 at (1e9, 1/2), 1.2e3 (relative) at
  (1e12, 1/2), 1.5e-12 at (1e12, 0.5001); d2x/dq2 2.9e-10 at (1e12, 1/2). Now x - a is a
  series in 1/sqrt(a) whose coefficients are polynomials in z = ndtri(q) (a Cornish-Fisher
  expansion, its rows derived at first use from the quantile's differential equation:
  incomplete_grads, "the inverses near the median"; the primitive gamma_quantile_series):
  every first and second derivative within 1e-15 of mpmath from a = 50 to 1e12.
- betainc's x slope (the beta density, also beta.logcdf's slope over I and betaincinv's /
  beta.ppf's q slope, its inverse) at large shapes: its logarithm (a-1) log x + (b-1)
  log1p(-x) - betaln(a, b) lost eps times its terms: 2.8e-12 off at (0.49, 1e4, 1e4), 5e-11
  at (0.499, 1e6, 1e6), beta.ppf's q slope 1.1e-10 at (1e6, 1e6, 0.6). Now its value is the
  deviance form's where the terms reach stats' _PLAIN_MAX_TERMS (primitive
  beta_log_density_fix, at evaluation, p s = x (a + b) - a by Dekker's exact product; the
  derivatives the plain form's): within 4 eps; ordinary shapes pay one comparison.
- t's log density kernel's df slope K_d beyond z^2/df = 1/4: the plain form's terms cancel
  up to ~30x (K_d 8.7 eps off at (200, 0.3 d), 13 at (3, 0.6 d); t.logpdf's df slope 9.2
  eps at (2.2, 20, 0.3, 0.7), 7.9 at (1.9, 12, 0.3, 0.7)); now the near form's series, 12
  terms, up to z^2/df = 0.6 (K_d within 1.5 eps; those slopes 2.9 and 0.6 eps; beyond 0.6
  the plain form cancels less than ~7x, within ~3.5 eps: 17 terms to 1 had cost eager grad
  in df of t.logpdf over 1e4 points +5-8 %, 12 to 0.6 cost ~+3 %). With a slope in the
  scale stats' near/plain pair keeps its 1/4 (there the plain form's slope in df is within
  1 eps at (2.2, 20, 0.3, 0.7)).

Also: on NumPy the gamma inverses' forms at a large a (temme_series, gamma_inv_eta,
gamma_quantile_series) run on their own elements only (grad of gammaincinv over 1e4
points, a in 10^[2, 8]: 71.8 -> 61.6 ms); stdtr's density at 0 only where some t may be 0.

Left: beta.logcdf's x slope below the mean at large shapes is bounded by I's own value (the
backend's betainc): 2.5e-14 off at (0.49, 1e4, 1e4), 2e-13 at (0.499, 1e6, 1e6), 4e-13 at
(0.45, 1e5, 1.2e5) (its second derivative 8.7e-12 there); below a = 50 gamma.ppf's median
keeps the implicit-function form (within 2.4e-12, session 52's figure); t.logcdf over 1e5
points is still ~2x SciPy's time (_inc_beta computes betainc and its complement, and the
deviance log density, on every element).

References: mpmath (values computed once): at 60 digits the roots of the regularized
incomplete gamma function by Newton's method on the quadrature of the density, their
derivatives from the implicit-function formulas there; at 50 the beta density (its
logarithm with mpmath's beta function); at 40 t's kernel's closed forms and loggamma."""

from fractions import Fraction

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats
from .test_s52_stats52 import _all_derivatives, _inverse

# (a, q, lower, (x, dx/da, dx/dq, d2x/da2, d2x/dadq, d2x/dq2)): the root of P(a, x) = q
# (lower) or Q(a, x) = q
_MEDIAN_ROOTS = [
    (50.0, 0.5, True, (49.66706461799423, 0.9999919830850547, 17.655531074668914,
                       3.229958282124064e-07, 0.17793702711267834, 4.186595318012624)),
    (300.0, 0.5, True, (299.66673259043927, 0.9999997799868413, 43.38792985547034,
                        1.4685365860249007e-09, 0.07240705237269782, 4.188427578314656)),
    (1e6, 0.500001, True, (999999.6691733142, 1.0000000012532946, 2506.6277914276952,
                           -6.266179280103797e-16, 0.0012533143810194507, 4.204539705749509)),
    (1e9, 0.5, True, (999999999.6666666, 1.0, 79266.54593670728, 3.9506172882774836e-29,
                      3.963327298376658e-05, 4.188790204677793)),
    (1e12, 0.5, True, (999999999999.6666, 1.0, 2506628.274630513, 3.950617283954944e-38,
                       1.2533141373157439e-06, 4.188790204786282)),
    (1e12, 0.5001, True, (1000000000250.3295, 1.0000000001253315, 2506628.3537974446,
                          -6.266570752203839e-23, 1.2533141766897702e-06, 1579.1499007538673)),
    (1e12, 0.5, False, (999999999999.6666, 1.0, -2506628.274630513, 3.950617283954944e-38,
                        -1.2533141373157439e-06, 4.188790204786282)),
    (1e6, 0.6, False, (999746.3410072785, 0.9998733264240078, -2587.939007881105,
                       6.33368124300077e-11, -0.001294188579283921, -1692.5948321533597)),
    (2e4, 0.25, True, (19904.43192475991, 0.9976152969035674, 443.6154281817315,
                       5.961866412958945e-08, 0.01112593514055722, -934.9923253620137)),
]


# (_inverse, _all_derivatives: test_s52_stats52's)


@pytest.mark.parametrize("a, q, lower, want", _MEDIAN_ROOTS)
def test_gamma_inverse_derivatives_near_the_median(a, q, lower, want):
    got = _all_derivatives(_inverse(lower), a, q)
    np.testing.assert_allclose(got, want, rtol=2e-15)


def test_gamma_inverse_median_jit_vmap_agree():
    # (jit and vmap take the same forms as eager: the series, eta's form, the former one)
    a = np.array([r[0] for r in _MEDIAN_ROOTS if r[2]] + [1e6, 3.0, 49.0])
    q = np.array([r[1] for r in _MEDIAN_ROOTS if r[2]] + [0.01, 0.5, 0.6])
    hess = ft.hessian(special.gammaincinv, argnums=(0, 1))
    pairs = ((0, 0), (0, 1), (1, 1))
    eager = np.array([[hess(ai, qi)[i][j] for i, j in pairs] for ai, qi in zip(a, q)])
    for tr in (ft.vmap(hess), ft.jit(ft.vmap(hess))):
        h = tr(a, q)
        got = np.stack([np.asarray(h[i][j]) for i, j in pairs], axis=1)
        np.testing.assert_allclose(got, eager, rtol=1e-15)
    want = np.array([np.array(r[3])[[3, 4, 5]] for r in _MEDIAN_ROOTS if r[2]])
    np.testing.assert_allclose(eager[:len(want)], want, rtol=2e-15)


def test_gamma_ppf_isf_near_the_median_through_stats():
    # (loc + scale x: the a slopes scaled, the q slopes too)
    a, q, _, want = _MEDIAN_ROOTS[3]
    h = ft.hessian(lambda a: stats.gamma.ppf(q, a, 0.3, 0.7))(a)
    np.testing.assert_allclose(float(h), 0.7 * want[3], rtol=2e-15)
    g = ft.grad(ft.grad(lambda q: stats.gamma.isf(q, a)))(1.0 - q)
    np.testing.assert_allclose(float(g), want[5], rtol=2e-15)


def test_gamma_inverse_median_third_derivative():
    # (the third derivative in a through the series' rule: a central difference of the
    # second at a = 1e4, relative step 1e-3; the series' d^3/da^3 at the median,
    # -48/(405 a^4) - ..., against the median's own 1/a series, mpmath-free)
    fn = lambda a: special.gammaincinv(a, 0.5)  # noqa: E731
    third = float(ft.grad(ft.grad(ft.grad(fn)))(1e4))
    second = ft.grad(ft.grad(fn))
    fd = (float(second(1e4 + 10.0)) - float(second(1e4 - 10.0))) / 20.0
    np.testing.assert_allclose(third, fd, rtol=1e-5)
    # x - a = -1/3 + 8/(405 a) + 184/(25515 a^2) + 2248/(3444525 a^3)
    #         - 19006408/(15345358875 a^4) + ...
    a = 1e4
    want = (-6 * 8 / 405 / a ** 4 - 24 * 184 / 25515 / a ** 5 - 60 * 2248 / 3444525 / a ** 6
            + 120 * 19006408 / 15345358875 / a ** 7)
    np.testing.assert_allclose(third, want, rtol=1e-14)


def test_gamma_quantile_series_coefficients():
    # (the rows against exact fractions: d_0 = (z^2 - 1)/3, d_1 = (z^3 - 7 z)/36,
    # d_2 = 8/405 - 7 z^2/810 - z^4/270 (Cornish-Fisher); the median's series
    # -1/3 + 8/(405 a) + 184/(25515 a^2) + 2248/(3444525 a^3) - 19006408/(15345358875 a^4)
    # (Temme's eps_k through exact fractions))
    from functrans.backends.incomplete_grads import _gamma_quantile_coefficients
    rows = _gamma_quantile_coefficients()
    exact = {0: [Fraction(-1, 3), 0, Fraction(1, 3)],
             1: [0, Fraction(-7, 36), 0, Fraction(1, 36)],
             2: [Fraction(8, 405), 0, Fraction(-7, 810), 0, Fraction(-1, 270)]}
    for n, row in exact.items():
        np.testing.assert_allclose(rows[n + 1], [float(c) for c in row], rtol=1e-15,
                                   atol=1e-17)
    median = [rows[n + 1][0] for n in (4, 6, 8)]
    np.testing.assert_allclose(median, [184 / 25515, 2248 / 3444525,
                                        -19006408 / 15345358875], rtol=1e-14)


def test_gamma_inverse_continuous_at_the_series_edge():
    # (q = 1/4: the series from there, eta's form below; they agree to ~1e-15)
    fn = ft.hessian(special.gammaincinv, argnums=(0, 1))
    at, below = fn(2e4, 0.25), fn(2e4, np.nextafter(0.25, 0.0))
    for i, j in ((0, 0), (0, 1), (1, 1)):
        np.testing.assert_allclose(float(at[i][j]), float(below[i][j]), rtol=1e-13)


# -- betainc's x slope (the beta density) at large shapes -------------------------------------
# (x, a, b, the density x^(a-1) (1-x)^(b-1) / B(a, b), its x slope): mpmath at 50 digits
_BETA_DENSITY = [
    (0.49, 1e4, 1e4, 2.065845922535694, 1653.172739450534),
    (0.499, 1e6, 1e6, 20.66690010267759, 165335.6968290074),
    (0.45, 1e5, 1.2e5, 0.038912188777527834, 157.20524266121205),
    (0.7, 3e3, 1e3, 1.0180242210211143e-09, 9.714859709172927e-07),
]


@pytest.mark.parametrize("x, a, b, density, slope", _BETA_DENSITY)
def test_betainc_x_slope_large_shapes(x, a, b, density, slope):
    # (its logarithm's plain terms, ~1e4 at 1e4, lost eps times them: 2.8e-12 off at
    # (0.49, 1e4, 1e4), 5e-11 at (0.499, 1e6, 1e6), 2.5e-11 at (0.45, 1e5, 1.2e5); now the
    # deviance form's value, beta_log_density_fix)
    f = lambda x: special.betainc(a, b, x)  # noqa: E731
    np.testing.assert_allclose(float(ft.grad(f)(x)), density, rtol=4e-15)
    # (the second derivative: the density times the plain log slope (a-1)/x - (b-1)/(1-x),
    # whose terms cancel ~50x at (0.45, 1e5, 1.2e5))
    np.testing.assert_allclose(float(ft.grad(ft.grad(f))(x)), slope, rtol=2e-14)


def test_beta_logcdf_slope_above_the_mean_large_shapes():
    # (log I's x slope, the density over I: 2.8e-12 off at (0.51, 1e4, 1e4), now 4e-16;
    # below the mean the value of I itself (the backend's betainc, 2.5e-14 off at
    # (0.49, 1e4, 1e4)) bounds it: tests/test_s52_stats52.py)
    g = ft.grad(lambda x: stats.beta.logcdf(x, 1e4, 1e4))(0.51)
    np.testing.assert_allclose(float(g), 2.070685236788051, rtol=2e-15)


def test_betainc_x_slope_large_shapes_jit_vmap():
    x = np.array([r[0] for r in _BETA_DENSITY] + [0.3])
    a = np.array([r[1] for r in _BETA_DENSITY] + [2.5])
    b = np.array([r[2] for r in _BETA_DENSITY] + [7.0])
    g = ft.grad(lambda a, b, x: special.betainc(a, b, x), argnums=2)
    want = np.array([r[3] for r in _BETA_DENSITY])
    for tr in (ft.vmap(g), ft.jit(ft.vmap(g))):
        got = np.asarray(tr(a, b, x))
        np.testing.assert_allclose(got[:-1], want, rtol=4e-15)
        np.testing.assert_allclose(got[-1], float(g(2.5, 7.0, 0.3)), rtol=1e-15)


def test_beta_log_density_fix_ordinary_shapes_untouched():
    # (where the plain terms stay below stats' _PLAIN_MAX_TERMS the plain value itself: the
    # same array, no other work)
    from functrans.primitives import special as Sp
    a, b, x = np.array([2.5, 30.0, 100.0]), np.array([7.0, 40.0, 90.0]), np.array([0.3, 0.4, 0.5])
    plain = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
    assert Sp.beta_log_density_fix(a, b, x, plain) is plain


def test_beta_ppf_q_slope_large_shapes():
    # (betaincinv's slope in q, 1 / the density at the root, the same logarithm: 2.4e-12 off
    # at (1e4, 1e4, 0.3), 1.1e-10 at (1e6, 1e6, 0.6); mpmath's density at the returned root)
    for a, b, q, x, want in [(1e4, 1e4, 0.3, 0.4981459474048402, 0.010168584246525536),
                             (1e6, 1e6, 0.6, 0.5000895717377885, 0.0009151294398718822),
                             (3e3, 1e3, 0.2, 0.7442501927914924, 0.02470296994236108)]:
        f = lambda q: special.betaincinv(a, b, q)  # noqa: E731
        assert float(f(q)) == x
        np.testing.assert_allclose(float(ft.grad(f)(q)), want, rtol=2e-15)
        g = ft.grad(lambda q: stats.beta.ppf(q, a, b, 0.3, 0.7))(q)
        np.testing.assert_allclose(float(g), 0.7 * want, rtol=2e-15)


def test_beta_log_density_fix_rules():
    # (the tangent is the plain value's; the value the deviance form's at large shapes)
    from functrans.primitives import special as Sp
    a, b, x = np.array([1e4, 2.5]), np.array([1e4, 7.0]), np.array([0.49, 0.3])
    plain = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - np.asarray(special.betaln(a, b))
    out, t = ft.jvp(lambda p: Sp.beta_log_density_fix(a, b, x, p), (plain,),
                    (np.array([1.0, 2.0]),))
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    # (log of mpmath's density at (0.49, 1e4, 1e4); the plain value's 2.8e-12 off)
    np.testing.assert_allclose(np.asarray(out)[0], np.log(2.065845922535694), rtol=0,
                               atol=1e-15)
    assert np.asarray(out)[1] == plain[1]


# -- t's log density kernel: its df slope beyond z^2/df = 1/4 ---------------------------------
# (d, zz, K_d): K = (d + 1)/2 log1p(zz/d), K_d by mpmath's closed form (40 digits); zz/d in
# (1/4, 0.6]
_T_KERNEL_BAND = [
    (200.0, 60.0, 0.015220593772207065),
    (3.0, 1.7999999999999998, -0.014998185377132225),
    (20.0, 5.2, 0.007222527148359982),
    (1e4, 6000.0, 0.04748306462286778),
]


@pytest.mark.parametrize("path", ["numpy", "array_api_strict"])
def test_t_log_kernel_df_slope_band(path):
    # (the plain form's terms cancelled up to ~30x there: 8.7 eps off at (200, 0.3 d), 13 at
    # (3, 0.6 d), 7.6 at (20, 0.26 d); now the near form's series to v = 0.6, within 1.5 eps;
    # both paths (NumPy's in place, the generic one) the same bits)
    from functrans.primitives import special as Sp
    d = np.array([r[0] for r in _T_KERNEL_BAND])
    zz = np.array([r[1] for r in _T_KERNEL_BAND])
    want = np.array([r[2] for r in _T_KERNEL_BAND])
    if path == "array_api_strict":
        xp = pytest.importorskip("array_api_strict")
        got = np.asarray(Sp.t_log_kernel(xp.asarray(d), xp.asarray(zz), part="d"))
        np.testing.assert_array_equal(got, np.asarray(Sp.t_log_kernel(d, zz, part="d")))
    else:
        got = np.asarray(Sp.t_log_kernel(d, zz, part="d"))
    assert np.all(np.abs(got - want) <= 1.5 * 2.0 ** -52 * np.abs(want)), got / want - 1


def test_t_logpdf_df_slope_beyond_a_quarter():
    # (t.logpdf's df slope at (2.2, 20, 0.3, 0.7), z^2/df = 0.37: 9.2 eps off, now 2.9;
    # (1.9, 12, 0.3, 0.7), 0.44: 7.9 -> 0.6; mpmath's loggamma differentiated, 40 digits)
    for x, df, want in [(2.2, 20.0, -0.014853836996179828), (1.9, 12.0, -0.014685610611044361)]:
        g = ft.grad(lambda d: stats.t.logpdf(x, d, 0.3, 0.7))(df)
        np.testing.assert_allclose(float(g), want, rtol=3.5 * 2.0 ** -52)
