"""Session 34, helper special2_34: special functions' higher derivatives.

References from mpmath at 60 digits (``mp.binomial`` and ``mp.diff`` of it).
"""
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp


# binom's far branch (n - k + 1 far below 0, k large against a negative n) where the value
# overflows: the derivative was nan in reverse mode (the exponent's two terms, of opposite
# signs, each met the infinite cotangent: inf - inf), -inf/inf in forward mode.
# mpmath (dps 60):
#   binom(-1000.5, 1e6 + 0.3) = 7.6178734e+3430, d/dk = -3.2932313e+3431,
#       d/dn = -1.9690098e+3431
#   binom(-200.25, 1e5 + 0.1) = 1.8456679e+623, d/dk = 2.9580739e+623, d/dn = -8.6321575e+623
#   binom(-30.5, 3.6e11 + 0.75) = -1.1943148e+309, d/dk = -3.7520505e+309, d/dn = 3.1469859e+310
#   binom(-30.5, 3.6e11 + 0.501) = -5.1818285e+306 (finite), d/dk = -5.3061758e+309,
#       d/dn = 5.4264363e+309
@pytest.mark.parametrize("n, k, dk, dn", [
    (-1000.5, 1e6 + 0.3, -np.inf, -np.inf),
    (-200.25, 1e5 + 0.1, np.inf, -np.inf),
    (-30.5, 3.6e11 + 0.75, -np.inf, np.inf),
    (-30.5, 3.6e11 + 0.501, -np.inf, np.inf),
])
def test_binom_far_overflowing_derivative_has_its_sign(n, k, dk, dn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert ft.grad(fsp.binom, 1)(n, k) == dk
        assert ft.grad(fsp.binom, 0)(n, k) == dn
        assert ft.jvp(lambda t: fsp.binom(n, t), (k,), (1.0,))[1] == dk
        assert ft.jvp(lambda t: fsp.binom(t, k), (n,), (1.0,))[1] == dn
        # both at once (vjp), and the forward mode with both tangents
        _, pull = ft.vjp(fsp.binom, n, k)
        assert tuple(float(v) for v in pull(1.0)) == (dn, dk)


def test_binom_far_finite_derivatives_unchanged():
    # (the far branch below the overflow: the formula's own derivatives; mpmath dps 60)
    #   binom(-30.5, 1000.3) = 6.0697028e+56, d/dk = -2.6069258e+57, d/dn = 4.7809207e+56
    #   binom(-12.3, 400.7) = 1.5213711e+8, d/dk = -1.4274263e+22, d/dn = 1.4274263e+22
    #   d2/dk2 binom(-30.5, 1000.3) = -6.1425503e+57, d2/dndk = 1.5285244e+58
    assert ft.grad(fsp.binom, 1)(-30.5, 1000.3) == pytest.approx(-2.6069258e+57, rel=1e-7)
    assert ft.grad(fsp.binom, 0)(-30.5, 1000.3) == pytest.approx(4.7809207e+56, rel=1e-7)
    assert ft.grad(fsp.binom, 1)(-12.3, 400.7) == pytest.approx(-1.4274263e+22, rel=1e-7)
    assert ft.grad(fsp.binom, 0)(-12.3, 400.7) == pytest.approx(1.4274263e+22, rel=1e-7)
    h = ft.hessian(fsp.binom, (0, 1))(-30.5, 1000.3)
    assert h[1][1] == pytest.approx(-6.1425503e+57, rel=1e-7)
    assert h[0][1] == pytest.approx(1.5285244e+58, rel=1e-7)


def test_binom_far_overflow_under_jit_and_vmap():
    # (jit: the mask's values unknown, the custom rule always; vmap: one element over)
    n = np.array([-1000.5, -30.5, -12.3])
    k = np.array([1e6 + 0.3, 1000.3, 400.7])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gn, gk = ft.jit(ft.vmap(ft.grad(fsp.binom, (0, 1))))(n, k)
    # mpmath values as in the tests above
    assert gk[0] == -np.inf and gn[0] == -np.inf
    np.testing.assert_allclose(gk[1:], [-2.6069258e+57, -1.4274263e+22], rtol=1e-7)
    np.testing.assert_allclose(gn[1:], [4.7809207e+56, 1.4274263e+22], rtol=1e-7)
