"""Session 56 (stats56b): the gamma quantile's second derivative in its shape below a = 7.5.

- gammaincinv / gammainccinv (gamma.ppf / isf): near the median (1/4 <= y <= 3/4) from
  a = 2.5 to 7.5, d2x/da2 of the implicit-function form -(P_aa + 2 P_ax x' + P_xx x'^2) / P_x
  was ~eps absolute off, its terms ~1/(3a) cancelling to ~16/(405 a^3): 1.2e-12 relative
  at (6, 1/2), 2.1e-12 at (6.9, 1/2), 3.4e-13 at (4, 1/2); the series in 1/sqrt(a) used
  from a = 7 is asymptotic there (8.1e-13 at (7, 1/2), 2.3e-13 at 7.5). Now that form
  evaluated at the root in double-double from P's power series
  (incomplete_grads.gamma_quantile_d2, bound through the new primitive gamma_inverse_da
  where a later derivative may take it): 7.9e-15 at (6, 1/2), 5.5e-14 at (6.9, 1/2),
  7e-15 at (4, 1/2), 1.1e-13 at (7, 1/2); the series from a = 7.5. The third derivatives
  are the implicit form's (within 4e-8 of central differences of the Hessian; d3x/da3 at
  (6, 1/2) 3.4e-12 off mpmath, as before).

Left: relative to d2x/da2 the error grows where it crosses 0 (y ~ 0.504 at a = 6: its
absolute error stays ~2e-17); x's own rounding moves the form's value by up to ~1e-13 of
d2x/da2 at the median near a = 6.5 .. 7.5 (1.7e-13 at (6.5, 1/2)). gammaincinv's value at
a = 1e-3, y = 1/2 (a root of 5e-302) is 5.7e-13 relative off (SciPy's), and every
derivative with it; the implicit form's d2x/dady in the far tails ~3e-13 .. 6e-13
((6.9, 1 - 1e-6), gammainccinv at (10, 1e-10)), as before. The hessian in the region
costs ~1 ms more CPU per call (the double-double sums), see the report.

References: mpmath at 60 digits, the roots of P(a, x) = y (Q(a, x) = y) by Newton's
method and their derivatives by the implicit-function formulas (d^n P / da^n by mpmath's
diff).
"""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special


def _all_derivatives(fn, a, q):
    g = ft.grad(fn, argnums=(0, 1))(a, q)
    h = ft.hessian(fn, argnums=(0, 1))(a, q)
    return np.array([fn(a, q), g[0], g[1], h[0][0], h[0][1], h[1][1]], dtype=float)


# (a, q, mpmath's x, dx/da, dx/dq, d2x/da2, d2x/dadq, d2x/dq2) for P(a, x) = q, then
# Q(a, x) = q; d2x/da2 was 3.6e-13 .. 2.1e-12 relative off near the median at these (the
# series' at 7 and 7.25: 8.1e-13, 2.5e-13)
_LOWER = [
    (2.5, 0.5, (2.1757300955477636, 0.9959193767730197, 3.6486839448779316,
                0.003611616693067268, 0.8578102012704616, 4.1346688685876885)),
    (4.0, 0.5, (3.672060748850896, 0.9985375498676516, 4.766256370626405,
                0.0007875402918538374, 0.6583012513952292, 4.157703084787257)),
    (5.5, 0.45, (4.891531726802269, 0.9715012722967139, 5.504527772351466,
                 0.0029884366448726975, 0.5578800699797807, 2.4252818660563)),
    (6.9, 0.5, (6.569682319903043, 0.9995406703965908, 6.397328331284639,
                0.00013960666956044544, 0.4908920677713813, 4.171783337709138)),
    (7.0, 0.5, (6.6696370745497715, 0.9995543198292174, 6.446230913740544,
                0.00013344368044962104, 0.48717369552318707, 4.172045199632111)),
    (7.25, 0.55, (7.254003234675914, 1.0235620492391522, 6.831056815779823,
                  -0.0016245410669979655, 0.4820537998571855, 6.45852227996142)),
]
_UPPER = [
    (2.5, 0.5, (2.1757300955477636, 0.9959193767730197, -3.6486839448779316,
                0.003611616693067268, -0.8578102012704616, 4.1346688685876885)),
    (5.5, 0.45, (5.459938459427527, 1.0270281671289556, -5.925609753317597,
                 -0.0024221366029070755, -0.5583255900708031, 6.173361897059491)),
    (6.9, 0.5, (6.569682319903043, 0.9995406703965908, -6.397328331284639,
                0.00013960666956044544, -0.4908920677713813, 4.171783337709138)),
    (7.0, 0.5, (6.6696370745497715, 0.9995543198292174, -6.446230913740544,
                0.00013344368044962104, -0.48717369552318707, 4.172045199632111)),
    (7.25, 0.55, (6.595542507572417, 0.9756157994141554, -6.4093969578976875,
                  0.0018618344612087003, -0.48180908850818727, 2.152213229724237)),
]


@pytest.mark.parametrize("lower, a, q, want", [(True,) + c for c in _LOWER]
                         + [(False,) + c for c in _UPPER])
def test_gamma_inverse_second_derivative_near_median_below_7_5(lower, a, q, want):
    fn = special.gammaincinv if lower else special.gammainccinv
    got = _all_derivatives(fn, a, q)
    np.testing.assert_allclose(got[3], want[3], rtol=1.5e-13)
    np.testing.assert_allclose(np.delete(got, 3), np.delete(np.array(want), 3), rtol=2e-14)


def test_gamma_quantile_d2_regions_eager_vmap_jit():
    # (the double-double form from 2.5 to 7.5 near the median, the series from 7.5, the
    # implicit form elsewhere: each element its form eagerly, under vmap and under jit, for
    # both inverses)
    from functrans.backends.incomplete_grads import (gamma_quantile_low_region,
                                                     gamma_quantile_region)
    a = np.array([2.49, 2.5, 4.0, 7.49, 7.5, 6.0, 6.0])
    q = np.array([0.5, 0.5, 0.25, 0.75, 0.5, 0.2, 0.8])
    assert gamma_quantile_low_region(a, q).tolist() == [False, True, True, True, False, False,
                                                        False]
    assert gamma_quantile_region(a, q).tolist() == [False, False, False, False, True, False,
                                                    False]
    own = gamma_quantile_low_region(a, q) | gamma_quantile_region(a, q)
    for fn in (special.gammaincinv, special.gammainccinv):
        h = ft.hessian(fn)
        eager = np.array([float(h(ai, qi)) for ai, qi in zip(a, q)])
        for got in (ft.vmap(h)(a, q), ft.jit(ft.vmap(h))(a, q)):
            # (the implicit form's, at (6, 0.2) and (6, 0.8), differs by up to 5e-14
            # between one element and a batch, as before)
            np.testing.assert_allclose(np.asarray(got)[own], eager[own], rtol=1e-15)
            np.testing.assert_allclose(np.asarray(got), eager, rtol=1e-13)


@pytest.mark.parametrize("lower", [True, False])
def test_gamma_inverse_third_derivatives_central_differences(lower):
    # (the implicit form's third derivatives through gamma_inverse_da's rules: finite, and
    # central differences of the Hessian in a and in q agree)
    fn = special.gammaincinv if lower else special.gammainccinv
    hess = ft.hessian(fn, argnums=(0, 1))
    third = ft.jacfwd(hess, argnums=(0, 1))
    for a, q in [(2.5, 0.3), (6.0, 0.5), (7.2, 0.7)]:
        got = np.array(third(a, q), dtype=float)  # [i][j][k]: d3x / d_i d_j d_k
        assert np.isfinite(got).all()
        for k, (da, dq) in enumerate([(1e-4 * a, 0.0), (0.0, 1e-5)]):
            step = da + dq
            diff = (np.array(hess(a + da, q + dq), dtype=float)
                    - np.array(hess(a - da, q - dq), dtype=float)) / (2.0 * step)
            np.testing.assert_allclose(got[..., k], diff, rtol=2e-7,
                                       atol=1e-7 * np.abs(diff).max())


def test_gamma_inverse_third_derivative_in_a():
    # (mpmath: -1.1398317216633777e-4 at (6, 1/2), -0.01860056973585878 at (3, 0.3); the
    # implicit form's terms cancel ~1000x at the median: 3.4e-12 there, as before)
    g3 = ft.grad(ft.grad(ft.grad(special.gammaincinv)))
    np.testing.assert_allclose(float(g3(6.0, 0.5)), -1.1398317216633777e-4, rtol=1e-11)
    np.testing.assert_allclose(float(g3(3.0, 0.3)), -0.01860056973585878, rtol=1e-13)
