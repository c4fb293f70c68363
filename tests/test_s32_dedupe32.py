"""Session 32 (dedupe32): one implementation of the large-shape log beta density, and where
the stats log densities switch to their deviance (saddle-point) forms.

The references are mpmath's at 60 digits, at the float inputs as given (mpmath is not in the
test extra, so they are written out; the expression is beside each group)."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backends import generic, get_backend
from functrans.scipy import special as fsp
from functrans.scipy import stats as fst


def _close(got, ref, tol):
    """|got - ref| <= tol * max(1, |ref|): a relative error of the density (of the log-density
    for large values)."""
    got = float(got)
    assert abs(got - ref) <= tol * max(1.0, abs(ref)), (got, ref, abs(got - ref))


# (a - 1) log x + (b - 1) log1p(-x) - (loggamma(a) + loggamma(b) - loggamma(a + b))
_BETA = [
    (0.5, 144.0, 144.0, 2.6048208336119250379), (0.45, 144.0, 144.0, 1.1676228065612195901),
    (0.3, 144.0, 144.0, -22.327713528091296622), (0.5, 145.0, 145.0, 2.6082870415884112685),
    (0.45, 145.0, 145.0, 1.161038678684204384), (0.3, 145.0, 145.0, -22.498600707259588166),
    (0.4, 20.0, 30.0, 1.7453537971547068927), (0.4, 300.0, 400.0, 1.8980983241293508765),
    (5e-30, 5.0, 1e30, 67.337250609209826456),
]


def test_plain_form_limit_sits_between_the_pinned_shapes():
    # a log1p(b/a) + b log1p(a/b) = 2 a log 2: 199.6 at 144, 201.0 at 145
    def deviance(a, b):
        mask = fst._deviance_where(np.array(True), np.float64(a), np.float64(b))
        return mask is not None and bool(mask)
    assert not deviance(144.0, 144.0)
    assert deviance(145.0, 145.0)
    assert not deviance(20.0, 30.0)
    assert deviance(5.0, 1e30)
    assert not deviance(np.inf, 3.0)
    # (elementwise, with the mask given)
    mask = fst._deviance_where(np.array([True, True, False]), np.array([145.0, 20.0, 145.0]),
                               np.array([145.0, 30.0, 145.0]))
    assert mask.tolist() == [True, False, False]


@pytest.mark.parametrize("x, a, b, ref", _BETA)
def test_beta_logpdf_on_both_sides_of_the_limit(x, a, b, ref):
    _close(fst.beta.logpdf(x, a, b), ref, 1e-13)
    _close(fst.beta.logpdf(np.array([x, x]), a, b)[1], ref, 1e-13)


# the same expression, at 400 digits; the old saddle-point form (binomial terms in 1 - x
# rounded to the grid near 1) gave -1053.93, -41358.36 and -1.7435338714476867e+299
@pytest.mark.parametrize("x, a, b, ref", [
    (0.9999999999999999, 1e20, 1e4, -16.198040086142879257),
    (1 - 3e-16, 1e20, 1e5, -43207.403636938340405),
    (0.3, 1e300, 1e300, -1.74353387144777783e+299)])
def test_beta_logpdf_silently_wrong_before(x, a, b, ref):
    _close(fst.beta.logpdf(x, a, b), ref, 1e-14)


def test_beta_logpdf_jit_and_vmap_take_the_same_forms():
    xs = np.array([0.3, 0.45, 0.5])
    for a in (144.0, 145.0, 1e14):
        eager = np.asarray(fst.beta.logpdf(xs, a, a))
        np.testing.assert_allclose(np.asarray(ft.jit(fst.beta.logpdf)(xs, a, a)), eager,
                                   rtol=1e-15, atol=0)
        np.testing.assert_allclose(np.asarray(ft.vmap(fst.beta.logpdf, (0, None, None))(
            xs, a, a)), eager, rtol=1e-15, atol=0)


def test_beta_logpdf_derivatives_on_the_deviance_form():
    x, a, b = 0.4, 300.0, 400.0
    f = fst.beta.logpdf
    # (a-1)/x - (b-1)/(1-x); log x - digamma(a) + digamma(a+b); log1p(-x) - digamma(b)
    # + digamma(a+b)
    gx, ga, gb = ft.grad(f, argnums=(0, 1, 2))(x, a, b)
    _close(gx, 82.499999999999933895, 1e-13)
    _close(ga, -0.068039734677665821954, 1e-12)
    _close(gb, 0.049326229220161562084, 1e-12)
    # trigamma(a+b) - trigamma(a); trigamma(a+b); -(a-1)/x^2 - (b-1)/(1-x)^2
    _close(ft.grad(ft.grad(f, 1), 1)(x, a, b), -0.0019093027390715330277, 1e-14)
    _close(ft.grad(ft.grad(f, 1), 2)(x, a, b), 0.0014295923226431447217, 1e-14)
    _close(ft.grad(ft.grad(f, 0), 0)(x, a, b), -2977.0833333333332079, 1e-13)
    # forward and reverse mode agree
    _, t = ft.jvp(lambda a: f(x, a, b), (a,), (1.0,))
    _close(t, float(ga), 1e-15)


# loggamma(n+1) - loggamma(k+1) - loggamma(n-k+1) + k log p + (n-k) log1p(-p)
@pytest.mark.parametrize("k, n, p, ref", [
    (143.0, 286.0, 0.5, -3.0546613821476960711), (130.0, 286.0, 0.45, -3.0624521150166327859),
    (144.0, 288.0, 0.5, -3.058139646524020892), (130.0, 288.0, 0.45, -3.0545242590075815471),
    (4e14, 1e15, 0.4, -17.474768552839942763)])
def test_binom_logpmf_on_both_sides_of_the_limit(k, n, p, ref):
    _close(fst.binom.logpmf(k, n, p), ref, 1e-13)


# loggamma(n+1) - loggamma(k+1) - loggamma(n-k+1) + lbeta(k+a, n-k+b) - lbeta(a, b)
@pytest.mark.parametrize("k, n, ref", [
    (44.0, 88.0, -2.6500041056165125706), (30.0, 88.0, -5.7619664715577363398),
    (45.0, 90.0, -2.6646436141911240297), (30.0, 90.0, -6.1432903706243313314)])
def test_betabinom_logpmf_on_both_sides_of_the_limit(k, n, ref):
    _close(fst.betabinom.logpmf(k, n, 100.0, 100.0), ref, 1e-13)


def test_one_log_beta_front_for_the_backends_and_the_namespace():
    # special's (functrans.numpy, differentiable) is generic's (the backends' betainc
    # prefactor) called on the namespace: the same numbers on plain arrays
    a = np.array([0.5, 3.0, 20.0, 1e4, 1e14, 1e300])
    b = np.array([2.0, 1e30, 30.0, 1e4, 3e14, 0.25])
    x = np.array([0.3, 1e-29, 0.4, 0.5, 0.25, 0.999])
    y = 1.0 - x
    lx, ly = np.log(x), np.log1p(-x)
    ours = np.asarray(fsp._log_beta_front(a, b, x, y, lx, ly))
    const = generic._beta_front_const(get_backend("numpy"), a, b)
    theirs = generic._log_beta_front(np, a, b, x, y, lx, ly, const)
    np.testing.assert_array_equal(ours, theirs)
    # and it is differentiable: d/dx log(x^a y^b) = a/x - b/y
    g = ft.grad(lambda t: fsp._log_beta_front(20.0, 30.0, t, 1.0 - t, fnp.log(t),
                                              fnp.log1p(-t)))(0.4)
    _close(g, 20.0 / 0.4 - 30.0 / 0.6, 1e-14)
