"""Derivatives of the incomplete gamma function in its shape parameter ``a``: the extra
``gammainc_da`` against high-precision references (mpmath) over a wide grid, the derivatives
of gammainc, gammaincc, their inverses, the gamma and chi2 distributions and the gamma
sampler (implicit reparameterisation), on every backend; vmap and jit."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.special as ss
import scipy.stats as st

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr
import functrans.scipy.special as fsp
import functrans.scipy.stats as fst
from functrans.primitives.special import gammainc_da
from functrans.testing import check_grads

# a from 1e-3 to 1e4 (both sides of the Stirling switch at 10), x from 1e-300 to beyond 1e4:
# both sides of x = a + 1, and the tails where P or Q is far below 1
A = [1e-3, 0.05, 0.7, 3.0, 9.9, 10.0, 45.0, 600.0, 1e4]
X = [1e-300, 1e-20, 1e-3, 0.3, 1.0, 2.5, 11.0, 40.0, 46.5, 120.0, 590.0, 650.0, 700.0,
     9800.0, 1e4, 10250.0]
SMALL = [(1e-3, 0.5), (0.7, 1e-20), (3.0, 40.0), (45.0, 46.5), (1e4, 9800.0), (600.0, 700.0)]


@functools.lru_cache(maxsize=None)
def _references():
    """d^n P / da^n (n = 1, 2) by mpmath at 40 digits (differentiating the smaller of P and
    Q), with the size of the two terms of the second derivative (P'' = P (l'' + l'^2), l
    = log P: the scale of its rounding near its zeros)."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    aa, xx = (v.ravel() for v in np.meshgrid(A, X))
    d1, d2, scale = [], [], []
    for a, x in zip(aa, xx):
        a_, x_ = mp.mpf(a), mp.mpf(x)

        def lower(s):
            return mp.gammainc(s, 0, x_, regularized=True)

        def upper(s):
            return mp.gammainc(s, x_, mp.inf, regularized=True)
        p = lower(a_)
        f, sign = (lower, 1) if p < 0.5 else (upper, -1)
        v, v1, v2 = list(mp.diffs(f, a_, 2))
        d1.append(float(sign * v1))
        d2.append(float(sign * v2))
        scale.append(float(abs(v2) + v1 * v1 / v) if v != 0 else 0.0)
    return aa, xx, np.array(d1), np.array(d2), np.array(scale)


def _key(backend, seed):
    return backend.asarray(np.asarray(fr.key(seed)), dtype="uint32")


def _np(backend, out):
    assert backend.is_own(out)
    return backend.to_numpy(out)


@pytest.mark.parametrize("n", [1, 2])
def test_gammainc_da_values(backend, n):
    aa, xx, d1, d2, scale = _references()
    if backend.name == "array_api_strict":  # (slow there: every other point)
        aa, xx, d1, d2, scale = aa[::2], xx[::2], d1[::2], d2[::2], scale[::2]
    got = _np(backend, gammainc_da(backend.asarray(aa), backend.asarray(xx), n=n))
    ref = d1 if n == 1 else d2
    norm = np.abs(ref) if n == 1 else np.maximum(np.abs(ref), 1e-2 * scale)
    ok = norm > 1e-290  # (below: the reference is subnormal or underflows)
    err = np.abs(got - ref)[ok] / norm[ok]
    assert err.max() < 1e-12, (err.max(), aa[ok][err.argmax()], xx[ok][err.argmax()])
    # where the derivative underflows it is 0 or subnormal, never nan
    assert np.all(np.isfinite(got)) and np.all(np.abs(got[~ok]) < 1e-280)
    # signs: P decreases in a
    if n == 1:
        assert np.all(got <= 0.0)


def test_gammainc_da_float32(backend):
    aa, xx, d1, _, _ = _references()
    got = gammainc_da(backend.asarray(aa, dtype="float32"), backend.asarray(xx, dtype="float32"),
                      n=1)
    assert fnp.result_type(got) is fnp.float32
    g = _np(backend, got).astype(np.float64)
    a32, x32 = aa.astype(np.float32), xx.astype(np.float32)
    # the float32 operands are other numbers: compare where they are exact and the result is
    # a normal float32
    exact = (a32 == aa) & (x32 == xx) & (np.abs(d1) > 1e-37)
    np.testing.assert_allclose(g[exact], d1[exact], rtol=1e-6)


def test_gammainc_da_edges(backend):
    a = backend.asarray([2.0, 0.5, 2.0, -1.0, 0.0, np.nan, 2.0])
    x = backend.asarray([0.0, 0.0, np.inf, 1.0, 1.0, 1.0, -1.0])
    for n in (1, 2):
        got = _np(backend, gammainc_da(a, x, n=n))
        np.testing.assert_array_equal(got[:3], 0.0)
        assert np.all(np.isnan(got[3:]))


def test_gammainc_da_is_dP_da_of_scipy(backend):
    """Without mpmath: against Richardson-extrapolated central differences of SciPy."""
    a = np.array([0.3, 2.5, 7.0, 30.0, 200.0])
    x = np.array([0.2, 3.0, 5.0, 33.0, 180.0])

    def cd(h):
        return (ss.gammainc(a + h, x) - ss.gammainc(a - h, x)) / (2 * h)
    h = 1e-3 * a
    ref = (4 * cd(h / 2) - cd(h)) / 3
    got = _np(backend, gammainc_da(backend.asarray(a), backend.asarray(x), n=1))
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_gammainc_gammaincc_shape_gradients(backend):
    a, x = map(np.array, zip(*SMALL))
    aa, xx = backend.asarray(a), backend.asarray(x)
    want = _np(backend, gammainc_da(aa, xx, n=1))
    g = _np(backend, ft.grad(lambda s: fnp.sum(fsp.gammainc(s, xx)))(aa))
    np.testing.assert_array_equal(g, want)
    g = _np(backend, ft.grad(lambda s: fnp.sum(fsp.gammaincc(s, xx)))(aa))
    np.testing.assert_array_equal(g, -want)
    h = _np(backend, ft.vmap(ft.hessian(lambda s, v: fsp.gammainc(s, v)))(aa, xx))
    np.testing.assert_array_equal(h, _np(backend, gammainc_da(aa, xx, n=2)))
    # the mixed derivative: d/dx dP/da = density (log x - digamma(a))
    m = _np(backend, ft.vmap(ft.grad(ft.grad(lambda s, v: fsp.gammainc(s, v)), argnums=1))(
        aa, xx))
    np.testing.assert_allclose(m, st.gamma.pdf(x, a) * (np.log(x) - ss.digamma(a)),
                               rtol=1e-12)


@pytest.mark.parametrize("upper", [False, True])
def test_inverse_shape_gradients(backend, upper):
    a = np.array([0.05, 0.8, 3.0, 40.0, 900.0])
    y = np.array([0.3, 1e-12, 0.97, 0.5, 1e-3])
    inv, fwd = ((fsp.gammainccinv, ss.gammainccinv) if upper
                else (fsp.gammaincinv, ss.gammaincinv))
    g = _np(backend, ft.grad(lambda s: fnp.sum(inv(s, backend.asarray(y))))(backend.asarray(a)))

    def cd(h):
        return (fwd(a + h, y) - fwd(a - h, y)) / (2 * h)
    h = 1e-3 * a
    np.testing.assert_allclose(g, (4 * cd(h / 2) - cd(h)) / 3, rtol=1e-7)
    # x(a, y) with P(a, x) = y: the composition's derivative in a vanishes
    d = _np(backend, ft.grad(lambda s: fnp.sum(
        (fsp.gammaincc if upper else fsp.gammainc)(s, inv(s, backend.asarray(y)))))(
            backend.asarray(a)))
    np.testing.assert_allclose(d, 0.0, atol=1e-12)


def test_check_grads(backend):
    strict = backend.name == "array_api_strict"  # (slow there: one element, first order)
    a = backend.asarray([0.4, 2.5, 25.0][2 if strict else 0:])
    x = backend.asarray([0.3, 4.0, 21.0][2 if strict else 0:])
    y = backend.asarray([0.2, 0.6, 0.9][2 if strict else 0:])
    order = 1 if strict else 2
    check_grads(lambda s, v: fsp.gammainc(s, v), (a, x), order=order)
    check_grads(lambda s, v: fsp.gammaincc(s, v), (a, x * 2.0), order=order)
    check_grads(lambda s: gammainc_da(s, x, n=1), (a,), order=1)
    check_grads(lambda v: gammainc_da(a, v, n=2), (x,), order=order)
    if not strict:  # (the root finders are slow there)
        check_grads(lambda s, q: fsp.gammaincinv(s, q), (a, y), order=2)
        check_grads(lambda s, q: fsp.gammainccinv(s, q), (a, y), order=2)


def test_third_derivative_raises(backend):
    f = ft.grad(ft.grad(lambda s: fsp.gammainc(s, 2.0)))
    assert np.isfinite(_np(backend, f(backend.asarray(1.5))))
    with pytest.raises(NotImplementedError, match="third derivative with respect to the shape"):
        ft.grad(f)(backend.asarray(1.5))
    if backend.name == "array_api_strict":
        return
    # the third derivative in x after two in a is there
    g = ft.grad(lambda v: ft.grad(ft.grad(lambda s: fsp.gammainc(s, v)))(backend.asarray(1.5)))
    check_grads(g, (backend.asarray(2.0),), order=1, modes="fwd")


def test_vmap_and_jit(backend):
    a, x = map(np.array, zip(*SMALL))
    aa, xx = backend.asarray(a), backend.asarray(x)
    d = ft.grad(lambda s, v: fsp.gammaincc(s, v))
    want = np.array([_np(backend, d(backend.asarray(ai), backend.asarray(xi)))
                     for ai, xi in zip(a, x)])
    np.testing.assert_allclose(_np(backend, ft.vmap(d)(aa, xx)), want, rtol=1e-14)
    np.testing.assert_allclose(_np(backend, ft.jit(ft.vmap(d))(aa, xx)), want, rtol=1e-14)
    np.testing.assert_allclose(_np(backend, ft.jit(lambda s, v: gammainc_da(s, v, n=1))(aa, xx)),
                               -want, rtol=1e-14)


# -- the gamma and chi2 distributions ----------------------------------------------------------

def _richardson(f, p, rel=1e-3):
    def cd(h):
        return (f(p + h) - f(p - h)) / (2 * h)
    h = rel * p
    return (4 * cd(h / 2) - cd(h)) / 3


@pytest.mark.parametrize("dist,scale", [("gamma", 1.0), ("chi2", 3.0)])
def test_distribution_shape_gradients(backend, dist, scale):
    f, ref = getattr(fst, dist), getattr(st, dist)
    shape = np.array([0.4, 2.0, 3.0]) * scale
    x = np.array([0.5, 1.5, 7.0]) * scale
    q = np.array([1e-5, 0.5, 0.99])
    for m, pts in (("cdf", x), ("sf", x), ("logcdf", x), ("logsf", x), ("ppf", q),
                   ("isf", q)):
        if not hasattr(f, m):
            continue
        g = _np(backend, ft.grad(lambda s: fnp.sum(getattr(f, m)(backend.asarray(pts), s, 0.0,
                                                                 1.3)))(backend.asarray(shape)))
        want = _richardson(lambda s: getattr(ref, m)(pts, s, 0.0, 1.3), shape, 1e-4)
        np.testing.assert_allclose(g, want, rtol=1e-7, err_msg=f"{dist}.{m}")


# -- the gamma sampler: implicit reparameterisation --------------------------------------------

def test_gamma_sample_derivative_keeps_the_quantile(backend):
    """dz/da at our samples is the derivative of the quantile gammaincinv(a, u) at the fixed
    u = P(a, z) (and so for the second derivative)."""
    k = _key(backend, 7)
    a = np.array([0.05, 0.6, 1.0, 4.0, 70.0])
    z = _np(backend, fr.gamma(k, backend.asarray(a)))
    u = ss.gammainc(a, z)
    g = _np(backend, ft.jvp(lambda s: fr.gamma(k, s), (backend.asarray(a),),
                            (backend.asarray(np.ones_like(a)),))[1])
    np.testing.assert_allclose(g, _richardson(lambda s: ss.gammaincinv(s, u), a), rtol=1e-7)
    ones = backend.asarray(np.ones_like(a))

    def first(s):
        return ft.jvp(lambda t: fr.gamma(k, t), (s,), (ones,))[1]
    h2 = _np(backend, ft.jvp(first, (backend.asarray(a),), (ones,))[1])
    h = 1e-3 * a
    fd2 = (ss.gammaincinv(a + h, u) - 2 * z + ss.gammaincinv(a - h, u)) / (h * h)
    np.testing.assert_allclose(h2, fd2, rtol=1e-4)
    # loggamma: d log z / da = (dz/da) / z, also where z underflows
    lg = _np(backend, ft.jvp(lambda s: fr.loggamma(k, s), (backend.asarray(a),),
                             (backend.asarray(np.ones_like(a)),))[1])
    np.testing.assert_allclose(lg, g / z, rtol=1e-12)
    tiny = backend.asarray([1e-3, 2e-3])
    lz = _np(backend, fr.loggamma(k, tiny))
    d = _np(backend, ft.jvp(lambda s: fr.loggamma(k, s), (tiny,),
                            (backend.asarray([1.0, 1.0]),))[1])
    assert np.all(np.isfinite(d)) and np.all(np.sign(d) == -np.sign(lz))


def test_gamma_sample_matches_jax_formula(backend):
    if backend.name != "numpy":
        pytest.skip("the formula, once (JAX's reference is NumPy's)")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax._src.lax.special import random_gamma_grad
    k = _key(backend, 11)
    a = np.array([0.02, 0.3, 1.0, 4.0, 50.0])
    z = _np(backend, fr.gamma(k, backend.asarray(a)))
    g = _np(backend, ft.jvp(lambda s: fr.gamma(k, s), (backend.asarray(a),),
                            (backend.asarray(np.ones_like(a)),))[1])
    np.testing.assert_allclose(g, np.asarray(random_gamma_grad(a, z)), rtol=1e-11)


def test_gamma_mean_derivative_monte_carlo(backend):
    """d/da E[z] = 1 (scale 1), d/da E[chi2(df)] = 1, d/da E[beta(a, b)] = b / (a + b)^2:
    the mean of the samples' derivatives, within a few standard errors."""
    k = _key(backend, 1)
    n = 4000 if backend.name == "array_api_strict" else 20000
    for a0 in (0.3, 5.0):
        d = _np(backend, ft.grad(lambda s: fnp.mean(fr.gamma(k, s, (n,))))(backend.asarray(a0)))
        assert abs(d - 1.0) < 0.03, (a0, d)
    d = _np(backend, ft.grad(lambda s: fnp.mean(fr.chisquare(k, s, (n,))))(
        backend.asarray(3.0)))
    assert abs(d - 1.0) < 0.03
    g = ft.grad(lambda s, t: fnp.mean(fr.beta(k, s, t, (n,))), argnums=(0, 1))(
        backend.asarray(2.0), backend.asarray(3.0))
    np.testing.assert_allclose([_np(backend, v) for v in g], [3.0 / 25.0, -2.0 / 25.0],
                               atol=0.01)
