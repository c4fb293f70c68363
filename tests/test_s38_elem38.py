"""Session 38 (elem38): the tails of softmax / log_softmax / logsumexp and of elementwise
special functions' derivatives, against closed forms and mpmath.

- softmax and log_softmax beside a dominant entry (share p near 1): their Jacobians formed
  1 - p by cancellation (d log_softmax(x)_0 / dx_0 at [40, 0] was 0, true -4.2e-18 off the
  diagonal's 1 - p = 4.2e-18).
- logsumexp of a slice with +inf: the one-sided limit (1/k on the k entries at +inf, 0
  elsewhere) in forward and reverse mode alike (jacfwd was nan throughout).
- expit'' near 0, erfcx' and erfcx'' for large x, ndtr' in both tails (the density from x
  itself: exp_sq), ndtri' and erfinv' through exp_sq.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.nn as nn
import functrans.scipy.special as fsp
from functrans.primitives import special as psp
from tests._reference import max_rel_err as _rel, mpmath_or_skip as _mp


# -- logsumexp at +inf: the one-sided limit in every mode --------------------------------------

_INF_CASES = [
    ([1.0, np.inf, 2.0, 3.0], [0.0, 1.0, 0.0, 0.0]),
    ([np.inf, 1.0], [1.0, 0.0]),
    ([np.inf, np.inf, 0.0], [0.5, 0.5, 0.0]),
    ([np.inf, -np.inf], [1.0, 0.0]),
    ([-5.0, np.inf, 700.0], [0.0, 1.0, 0.0]),
]


@pytest.mark.parametrize("x, want", _INF_CASES)
def test_logsumexp_posinf_slope_is_the_limit(x, want):
    x = np.array(x)
    assert fsp.logsumexp(x) == np.inf
    for tr in (ft.jacfwd, ft.jacrev, ft.grad):
        np.testing.assert_array_equal(tr(fsp.logsumexp)(x), want)
        np.testing.assert_array_equal(tr(nn.logsumexp)(x), want)
    np.testing.assert_array_equal(ft.hessian(fsp.logsumexp)(x), np.zeros((x.size, x.size)))


def test_logsumexp_posinf_rows_and_batches():
    x = np.array([[1.0, np.inf, 2.0], [0.0, 1.0, 2.0], [np.inf, np.inf, -np.inf]])
    mp = _mp()
    with mp.workdps(50):
        e = [mp.exp(v) for v in (0, 1, 2)]
        soft = [float(v / sum(e)) for v in e]
    want = np.array([[0.0, 1.0, 0.0], soft, [0.5, 0.5, 0.0]])
    f = lambda v: fsp.logsumexp(v, axis=1)
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.logsumexp))(x), want, rtol=1e-15)
    for tr in (ft.jacfwd, ft.jacrev):
        jac = tr(f)(x)
        for i in range(3):
            np.testing.assert_allclose(jac[i, i], want[i], rtol=1e-15)
            assert not np.delete(jac[i], i, axis=0).any()
    # the slices without +inf keep their values and derivatives to the bit
    np.testing.assert_array_equal(f(x)[1], fsp.logsumexp(x[1]))
    np.testing.assert_array_equal(ft.jacrev(f)(x)[1, 1], ft.grad(fsp.logsumexp)(x[1]))


def test_logsumexp_posinf_backends(backend):
    x = backend.asarray(np.array([1.0, np.inf, 2.0]))
    g = ft.grad(fsp.logsumexp)(x)
    assert backend.is_own(g)
    np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(ft.jacfwd(fsp.logsumexp)(x)), [0.0, 1.0, 0.0])


def test_logsumexp_nan_and_minus_inf_unchanged():
    # nan slices stay nan (value and derivative); all -inf: -inf with derivative 0
    x = np.array([np.nan, 1.0])
    assert np.isnan(fsp.logsumexp(x)) and np.isnan(ft.grad(fsp.logsumexp)(x)).all()
    y = np.array([-np.inf, -np.inf])
    assert fsp.logsumexp(y) == -np.inf
    np.testing.assert_array_equal(ft.jacfwd(fsp.logsumexp)(y), [0.0, 0.0])
    np.testing.assert_array_equal(ft.grad(fsp.logsumexp)(y), [0.0, 0.0])


# -- expit ---------------------------------------------------------------------------------------

def _expit_derivs(x):
    """expit' , expit'', expit''' at x (mpmath, closed forms in s = expit' and tanh(x/2))."""
    mp = _mp()
    with mp.workdps(50):
        x = mp.mpf(float(x))
        y = 1 / (1 + mp.exp(-x))
        s = y * (1 - y)
        th = mp.tanh(x / 2)
        return float(s), float(-s * th), float(s * th * th - s * (1 - th * th) / 2)


@pytest.mark.parametrize("x", [1e-8, -1e-8, 1e-300, 1e-3, 0.5, -3.0, 20.0, -40.0, 300.0])
def test_expit_second_and_third_derivatives(x):
    d1, d2, d3 = _expit_derivs(x)
    g1 = ft.grad(fsp.expit)
    g2 = ft.grad(g1)
    g3 = ft.grad(g2)
    assert _rel(g1(x), d1) < 1e-15
    assert _rel(g2(x), d2) < 2e-15
    assert _rel(g3(x), d3) < 4e-15
    assert g2(x) == ft.jit(g2)(x)
    assert ft.grad(ft.grad(nn.sigmoid))(x) == g2(x)


def test_expit_second_derivative_float32_near_zero():
    for x in (1e-8, -3e-5, 0.01):
        d2 = _expit_derivs(np.float32(x))[1]
        got = ft.grad(ft.grad(fsp.expit))(np.float32(x))
        assert got.dtype == np.float32
        assert _rel(got, d2) < 3e-7, (x, got, d2)


# -- erfcx ---------------------------------------------------------------------------------------

def _erfcx_derivs(x, n):
    mp = _mp()
    with mp.workdps(60):
        x = mp.mpf(float(x))
        return float(mp.diff(lambda t: mp.exp(t * t) * mp.erfc(t), x, n))


def test_erfcx_derivatives_moderate_x():
    # (the plain 2 x erfcx - 2/sqrt(pi): relative eps 2 x^2 for large x, kept for its cost)
    g1 = ft.grad(fsp.erfcx)
    g2 = ft.grad(g1)
    for x in (-5.0, 0.0, 1.0, 4.0):
        assert _rel(g1(x), _erfcx_derivs(x, 1)) < 5e-14, x
        assert _rel(g2(x), _erfcx_derivs(x, 2)) < 5e-12, x


# -- ndtr, exp_sq, ndtri, erfinv -----------------------------------------------------------------

@pytest.mark.parametrize("x", [-37.5, -20.3, -8.1, -1.3, 0.7, 8.1, 20.3, 37.5])
def test_ndtr_slopes_in_the_tails(x):
    mp = _mp()
    with mp.workdps(50):
        xm = mp.mpf(x)
        d1, d2 = float(mp.npdf(xm)), float(-xm * mp.npdf(xm))
    g1 = ft.grad(fsp.ndtr)
    assert _rel(g1(x), d1) < 3e-16
    assert _rel(ft.grad(g1)(x), d2) < 4e-16
    assert _rel(ft.jit(g1)(x), d1) < 3e-16
    # log_ndtr's slope phi / ndtr in its middle and upper branches
    if x > -20.0:
        with mp.workdps(50):
            want = float(mp.npdf(xm) / mp.ncdf(xm))
        assert _rel(ft.grad(fsp.log_ndtr)(x), want) < 5e-15  # (ndtr(x)'s own error)


def test_ndtr_values_unchanged_and_edges():
    x = np.concatenate([np.linspace(-38.0, 38.0, 761), [np.inf, -np.inf, 0.0, -0.0]])
    # (session 42: below -4.95 erfcx(z) exp(-x^2/2) / 2, within a few ulp, where erfc of the
    # rounded z was eps z^2 off: tests/test_s42_elem42.py; session 44 likewise from z = 0.7,
    # x below -0.99, with erfcx's polynomial: tests/test_s44_elem44.py)
    kept = ~(x * -np.sqrt(0.5) >= 0.7)
    np.testing.assert_array_equal(fsp.ndtr(x)[kept], 0.5 * fsp.erfc(x[kept] * -np.sqrt(0.5)))
    mp = _mp()
    with mp.workdps(50):
        want = [float(mp.ncdf(mp.mpf(v))) for v in x[~kept]]
    assert _rel(fsp.ndtr(x)[~kept], want) < 8 * 2.0 ** -52
    g = ft.grad(fsp.ndtr)
    assert g(np.inf) == 0.0 and g(-np.inf) == 0.0 and g(1e200) == 0.0
    assert np.isnan(g(np.nan))
    assert ft.grad(fsp.ndtr)(np.float32(2.0)).dtype == np.float32


def test_ndtr_slope_backends(backend):
    x = backend.asarray(np.array([-20.3, 0.5, 20.3]))
    g = ft.vmap(ft.grad(fsp.ndtr))(x)
    assert backend.is_own(g)
    mp = _mp()
    with mp.workdps(50):
        want = [float(mp.npdf(mp.mpf(v))) for v in (-20.3, 0.5, 20.3)]
    assert _rel(backend.to_numpy(g), want) < 3e-16


@pytest.mark.parametrize("c", [-1.0, -0.5, 0.5, 1.0])
def test_exp_sq_values_and_slope(c):
    mp = _mp()
    xs = np.array([0.0, 0.3, -1.0000001, 4.3, -9.1, 20.3, 26.53, 37.9])
    got = psp.exp_sq(xs, c)
    g = ft.vmap(ft.grad(lambda v: psp.exp_sq(v, c)))(xs)
    with mp.workdps(50):
        want = [float(mp.exp(c * mp.mpf(float(v)) ** 2)) for v in xs]
        slope = [float(2 * c * mp.mpf(float(v)) * mp.exp(c * mp.mpf(float(v)) ** 2))
                 for v in xs]
    finite = np.isfinite(want) & (np.abs(want) > 1e-300)
    assert _rel(got[finite], np.array(want)[finite]) < 3e-16
    assert _rel(g[finite], np.array(slope)[finite]) < 5e-16
    edge = psp.exp_sq(np.array([np.inf, -np.inf, np.nan, 1e200, 70.0]), c)
    big = np.inf if c > 0 else 0.0
    np.testing.assert_array_equal(edge[[0, 1, 3, 4]], big)
    assert np.isnan(edge[2])


def test_exp_sq_float32():
    mp = _mp()
    xs = np.array([0.5, 3.3, 9.1, 12.7], dtype=np.float32)
    got = psp.exp_sq(xs, -0.5)
    assert got.dtype == np.float32
    with mp.workdps(30):
        want = [float(mp.exp(-mp.mpf(float(v)) ** 2 / 2)) for v in xs]
    assert _rel(got, want) < 1.2e-7  # (plain exp(-x*x/2) in float32: 1.8e-6 at 9.1)
