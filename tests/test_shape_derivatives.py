"""Derivatives of the incomplete gamma function in its shape parameter ``a`` and of the
incomplete beta function in its shapes ``a``, ``b``: the extras ``gammainc_da`` and
``betainc_dab`` against high-precision references (mpmath) over wide grids, the derivatives
of gammainc, gammaincc, betainc, their inverses, the gamma, chi2, beta, t and f
distributions and the samplers (implicit reparameterisation), on every backend; vmap and
jit."""

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
from functrans.primitives.special import betainc_dab, gammainc_da
from functrans.testing import check_grads

from ._betainc_reference import ROWS as BETA_ROWS
from ._betainc_reference import reference_row

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
    return backend.asarray(np.asarray(fr.PRNGKey(seed)), dtype="uint32")


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
    # (SciPy's pdf loses about eps a log x: at a = 1e4, x = 9800 the reference is 6e-12 off
    # mpmath's -1.080605207816483e-5, which the value here matches to 1e-15 since session 30)
    np.testing.assert_allclose(m, st.gamma.pdf(x, a) * (np.log(x) - ss.digamma(a)),
                               rtol=2e-11)


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


def test_third_derivative(backend):
    # (x >= a + 1: refused until session 30, which carried the continued fraction's
    # log-derivatives to the third; below it since session 29, tests/test_gaps_s29.py);
    # against central differences of SciPy's values; the fourth is refused by name
    f = ft.grad(ft.grad(lambda s: fsp.gammainc(s, 3.0)))
    assert np.isfinite(_np(backend, f(backend.asarray(1.5))))
    g, h = (lambda s: ss.gammainc(s, 3.0)), 1e-3
    fd3 = (g(1.5 + 2 * h) - 2 * g(1.5 + h) + 2 * g(1.5 - h) - g(1.5 - 2 * h)) / (2 * h ** 3)
    np.testing.assert_allclose(_np(backend, ft.grad(f)(backend.asarray(1.5))), fd3, rtol=1e-5)
    with pytest.raises(NotImplementedError, match="fourth derivative with respect to the shape"):
        ft.grad(ft.grad(f))(backend.asarray(1.5))
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


# -- the incomplete beta function: derivatives in a and b ------------------------------------
# BETA_ROWS (tests/_betainc_reference.py, mpmath at 40 digits): a and b from 1e-3 to 1e4 on
# both sides of the split x = (a + 1) / (a + b + 2) and of the Stirling switch, x from 1e-300
# to 1 - 1e-10, the tails where I or 1 - I is far below 1, the centre of large shapes, and
# small shapes where I is close to 1 (the power series' side).

_BETA_ORDERS = [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]


def _beta_table(backend):
    rows = np.array(BETA_ROWS)
    if backend.name == "array_api_strict":  # (slow there: every eighth row)
        rows = rows[::8]
    return rows


def _beta_norm(rows, i, j):
    """|reference| for the first derivatives; for the second, at least the size of its terms
    |I_i I_j / I| (I the smaller of I and 1 - I): a second derivative may vanish."""
    k = _BETA_ORDERS.index((i, j))
    ref = rows[:, 4 + k]
    if i + j == 1:
        return ref, np.abs(ref)
    gi = rows[:, 4] if i >= 1 else rows[:, 5]
    gj = rows[:, 5] if j >= 1 else rows[:, 4]
    small = rows[:, 3]
    with np.errstate(all="ignore"):
        terms = np.where(small > 0.0, np.abs(gi * gj / np.where(small > 0.0, small, 1.0)), 0.0)
    return ref, np.maximum(np.abs(ref), terms)


@pytest.mark.parametrize("order", _BETA_ORDERS)
def test_betainc_dab_values(backend, order):
    rows = _beta_table(backend)
    i, j = order
    a, b, x = (backend.asarray(rows[:, k]) for k in range(3))
    got = _np(backend, betainc_dab(a, b, x, i=i, j=j))
    ref, norm = _beta_norm(rows, i, j)
    ok = norm > 1e-290  # (below: the reference is subnormal or underflows)
    err = np.abs(got - ref)[ok] / norm[ok]
    tol = 1e-12 if i + j == 1 else 3e-12
    assert err.max() < tol, (err.max(), rows[ok][err.argmax(), :3])
    assert np.all(np.isfinite(got)) and np.all(np.abs(got[~ok]) < 1e-280)
    # I decreases in a and increases in b
    if order == (1, 0):
        assert np.all(got <= 0.0)
    if order == (0, 1):
        assert np.all(got >= 0.0)


def test_betainc_reference_rows_are_mpmath():
    pytest.importorskip("mpmath")
    for k in (0, 61, 150):  # (a few rows: the whole table takes minutes)
        np.testing.assert_allclose(reference_row(*BETA_ROWS[k][:3]), BETA_ROWS[k], rtol=1e-15)


def test_betainc_dab_float32(backend):
    rows = _beta_table(backend)
    a32, b32, x32 = (rows[:, k].astype(np.float32) for k in range(3))
    got = betainc_dab(*(backend.asarray(v, dtype="float32") for v in (a32, b32, x32)), i=1, j=0)
    assert fnp.result_type(got) is fnp.float32
    g = _np(backend, got).astype(np.float64)
    exact = ((a32 == rows[:, 0]) & (b32 == rows[:, 1]) & (x32 == rows[:, 2])
             & (np.abs(rows[:, 4]) > 1e-37) & (np.abs(rows[:, 4]) < 1e37))
    np.testing.assert_allclose(g[exact], rows[exact, 4], rtol=1e-6)


def test_betainc_dab_edges(backend):
    a = backend.asarray([2.0, 0.5, 2.0, -1.0, 0.0, np.nan, 2.0, 2.0, np.inf])
    b = backend.asarray([3.0, 0.5, 0.3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    x = backend.asarray([0.0, 0.0, 1.0, 0.5, 0.5, 0.5, -0.5, 1.5, 0.5])
    for i, j in _BETA_ORDERS:
        got = _np(backend, betainc_dab(a, b, x, i=i, j=j))
        np.testing.assert_array_equal(got[:3], 0.0)
        assert np.all(np.isnan(got[3:]))
    with pytest.raises(ValueError, match="orders"):
        betainc_dab(a, b, x, i=3, j=1)


def test_betainc_dab_is_dI_of_scipy(backend):
    """Without mpmath: against Richardson-extrapolated central differences of SciPy."""
    a = np.array([0.3, 2.5, 7.0, 30.0, 200.0, 0.8])
    b = np.array([1.5, 0.4, 7.0, 45.0, 150.0, 0.02])
    x = np.array([0.2, 0.9, 0.5, 0.45, 0.55, 0.3])
    aa, bb, xx = backend.asarray(a), backend.asarray(b), backend.asarray(x)
    ref_a = _richardson(lambda s: ss.betainc(s, b, x), a)
    ref_b = _richardson(lambda s: ss.betainc(a, s, x), b)
    np.testing.assert_allclose(_np(backend, betainc_dab(aa, bb, xx, i=1, j=0)), ref_a, rtol=1e-8)
    np.testing.assert_allclose(_np(backend, betainc_dab(aa, bb, xx, i=0, j=1)), ref_b, rtol=1e-8)


def test_betainc_shape_gradients(backend):
    rows = np.array(BETA_ROWS)[[20, 57, 100, 145]]
    a, b, x = (backend.asarray(rows[:, k]) for k in range(3))
    g = ft.grad(lambda s, t: fnp.sum(fsp.betainc(s, t, x)), argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(_np(backend, g[0]), _np(backend, betainc_dab(a, b, x, i=1, j=0)))
    np.testing.assert_array_equal(_np(backend, g[1]), _np(backend, betainc_dab(a, b, x, i=0, j=1)))
    if backend.name == "array_api_strict":  # (slow there)
        return
    h = ft.vmap(ft.hessian(lambda s, t, v: fsp.betainc(s, t, v), argnums=(0, 1)))(a, b, x)
    for (p, q), (i, j) in (((0, 0), (2, 0)), ((0, 1), (1, 1)), ((1, 0), (1, 1)), ((1, 1), (0, 2))):
        np.testing.assert_array_equal(_np(backend, h[p][q]),
                                      _np(backend, betainc_dab(a, b, x, i=i, j=j)))
    # the mixed derivatives: d/dx dI/da = density (log x - digamma(a) + digamma(a + b)), and
    # d/dx dI/db = density (log(1 - x) - digamma(b) + digamma(a + b))
    an, bn, xn = rows[:, 0], rows[:, 1], rows[:, 2]
    dens = st.beta.pdf(xn, an, bn)
    for argnum, want in ((0, np.log(xn) - ss.digamma(an) + ss.digamma(an + bn)),
                         (1, np.log1p(-xn) - ss.digamma(bn) + ss.digamma(an + bn))):
        m = _np(backend, ft.vmap(ft.grad(ft.grad(lambda s, t, v: fsp.betainc(s, t, v),
                                                 argnums=argnum), argnums=2))(a, b, x))
        np.testing.assert_allclose(m, dens * want, rtol=1e-10, atol=1e-300)


def test_betaincinv_shape_gradients(backend):
    a = np.array([0.05, 0.8, 3.0, 40.0, 900.0])
    b = np.array([2.0, 0.3, 3.0, 25.0, 1.5])
    y = np.array([0.3, 1e-8, 0.97, 0.5, 1e-3])
    aa, bb, yy = backend.asarray(a), backend.asarray(b), backend.asarray(y)
    ga, gb = ft.grad(lambda s, t: fnp.sum(fsp.betaincinv(s, t, yy)), argnums=(0, 1))(aa, bb)
    np.testing.assert_allclose(_np(backend, ga),
                               _richardson(lambda s: ss.betaincinv(s, b, y), a), rtol=1e-7)
    np.testing.assert_allclose(_np(backend, gb),
                               _richardson(lambda s: ss.betaincinv(a, s, y), b), rtol=1e-7)
    # x(a, b, y) with I_x(a, b) = y: the composition's derivatives in a and b vanish
    d = ft.grad(lambda s, t: fnp.sum(fsp.betainc(s, t, fsp.betaincinv(s, t, yy))),
                argnums=(0, 1))(aa, bb)
    for v in d:
        np.testing.assert_allclose(_np(backend, v), 0.0, atol=1e-12)


def test_beta_check_grads(backend):
    strict = backend.name == "array_api_strict"  # (slow there: one element, first order)
    a = backend.asarray([0.4, 2.5, 25.0][2 if strict else 0:])
    b = backend.asarray([1.3, 0.7, 30.0][2 if strict else 0:])
    x = backend.asarray([0.3, 0.8, 0.42][2 if strict else 0:])
    y = backend.asarray([0.2, 0.6, 0.9][2 if strict else 0:])
    order = 1 if strict else 2
    check_grads(lambda s, t, v: fsp.betainc(s, t, v), (a, b, x), order=order)
    check_grads(lambda v: betainc_dab(a, b, v, i=1, j=1), (x,), order=order)
    if strict:
        return
    check_grads(lambda s, t: betainc_dab(s, t, x, i=1, j=0), (a, b), order=1)
    if backend.name == "numpy":  # (SciPy's root finder: the generic one is slow)
        check_grads(lambda s, t, q: fsp.betaincinv(s, t, q), (a, b, y), order=2)


def test_beta_fourth_derivative_raises(backend):
    # (the third is there since session 35: tests/test_s35_betainc3_35.py)
    f = ft.grad(ft.grad(ft.grad(lambda s: fsp.betainc(s, 2.0, 0.3))))
    assert np.isfinite(_np(backend, f(backend.asarray(1.5))))
    with pytest.raises(NotImplementedError, match="betainc: the fourth derivative with respect "
                                                  "to the shape parameters"):
        ft.grad(f)(backend.asarray(1.5))
    with pytest.raises(NotImplementedError, match="betainc: the fourth derivative"):
        ft.jvp(ft.grad(ft.hessian(lambda t: fsp.betaincinv(1.5, t, 0.3))),
               (backend.asarray(2.0),), (backend.asarray(1.0),))
    if backend.name == "array_api_strict":
        return
    # the third derivative in x after two in the shapes is there
    g = ft.grad(lambda v: ft.grad(ft.grad(lambda s: fsp.betainc(s, 2.0, v)))(
        backend.asarray(1.5)))
    check_grads(g, (backend.asarray(0.3),), order=1, modes="fwd")


def test_beta_vmap_and_jit(backend):
    rows = np.array(BETA_ROWS)[[3, 40, 77, 120, 151]]
    a, b, x = rows[:, 0], rows[:, 1], rows[:, 2]
    aa, bb, xx = backend.asarray(a), backend.asarray(b), backend.asarray(x)
    d = ft.grad(lambda s, t, v: fsp.betainc(s, t, v), argnums=1)
    want = np.array([_np(backend, d(*(backend.asarray(v) for v in r))) for r in rows[:, :3]])
    np.testing.assert_allclose(_np(backend, ft.vmap(d)(aa, bb, xx)), want, rtol=1e-14)
    np.testing.assert_allclose(_np(backend, ft.jit(ft.vmap(d))(aa, bb, xx)), want, rtol=1e-14)
    np.testing.assert_allclose(
        _np(backend, ft.jit(lambda s, t, v: betainc_dab(s, t, v, i=0, j=1))(aa, bb, xx)),
        want, rtol=1e-14)


# -- the beta, t and f distributions ----------------------------------------------------------

@pytest.mark.parametrize("dist", ["beta", "t", "f"])
def test_beta_family_shape_gradients(backend, dist):
    f, ref = getattr(fst, dist), getattr(st, dist)
    if dist == "t":
        shapes = [np.array([0.7, 3.0, 12.0])]
        x = np.array([-2.5, 0.4, 1.5])
    else:
        shapes = [np.array([0.6, 2.0, 7.5]), np.array([3.0, 0.9, 12.0])]
        x = np.array([0.3, 0.55, 0.8]) if dist == "beta" else np.array([0.3, 1.2, 4.0])
    q = np.array([1e-3, 0.3, 0.9])  # (SciPy's quantiles, differenced, lose digits far out)
    strict = backend.name == "array_api_strict"  # (slow there: cdf and isf in one shape)
    methods = (("cdf", x), ("isf", q)) if strict else (("cdf", x), ("sf", x), ("ppf", q),
                                                         ("isf", q))
    for m, pts in methods:
        for k in range(1 if strict else len(shapes)):
            def ours(s, k=k, m=m, pts=pts):
                sh = [backend.asarray(v) for v in shapes]
                sh[k] = s
                return fnp.sum(getattr(f, m)(backend.asarray(pts), *sh, 0.1, 1.3))

            def theirs(s, k=k, m=m, pts=pts):
                sh = list(shapes)
                sh[k] = s
                return getattr(ref, m)(pts, *sh, 0.1, 1.3)
            g = _np(backend, ft.grad(ours)(backend.asarray(shapes[k])))
            # (quantiles: also an absolute 1e-11, SciPy's own quantiles being accurate to
            # about that where they are tiny and a shape small)
            np.testing.assert_allclose(g, _richardson(theirs, shapes[k], 1e-4), rtol=2e-7,
                                       atol=1e-11 if m in ("ppf", "isf") else 0.0,
                                       err_msg=f"{dist}.{m} in shape {k}")


def test_t_ppf_median_shape_derivative(backend):
    """At q = 1/2 the quantile is 0 for every df: its derivatives in df vanish (were nan)."""
    d = backend.asarray(2.5)
    np.testing.assert_array_equal(_np(backend, ft.grad(lambda s: fst.t.ppf(0.5, s))(d)), 0.0)
    np.testing.assert_array_equal(_np(backend, ft.hessian(lambda s: fst.t.isf(0.5, s))(d)), 0.0)


def test_binom_count_derivative_raises(backend):
    n = backend.asarray(5.0)
    for m in ("cdf", "sf"):
        with pytest.raises(NotImplementedError, match=f"binom.{m}: the derivative with respect "
                                                       f"to the number of trials"):
            ft.grad(lambda v: getattr(fst.binom, m)(2.0, v, 0.3))(n)
    g = _np(backend, ft.grad(lambda p: fst.binom.cdf(2.0, 5.0, p))(backend.asarray(0.3)))
    np.testing.assert_allclose(g, -30.0 * 0.3 ** 2 * 0.7 ** 2, rtol=1e-12)


def test_t_sample_df_derivative_monte_carlo(backend):
    """d/d df E[t^2] = d/d df (df / (df - 2)) = -2 / (df - 2)^2 (the t sampler moves with df
    through its gamma sample's implicit reparameterisation)."""
    k = _key(backend, 3)
    n = 4000 if backend.name == "array_api_strict" else 20000
    d = _np(backend, ft.grad(lambda s: fnp.mean(fr.t(k, s, (n,)) ** 2))(backend.asarray(10.0)))
    assert abs(d + 2.0 / 64.0) < (0.008 if n < 20000 else 0.004), d
