"""Session 16 (helper "linalg"): derivative gaps found by the review (tests/test_review_s16.py).

det's derivative through the adjugate (right at singular matrices, second derivatives at every
matrix); qr's derivatives in every shape and mode; hessenberg's missing derivative at zero
columns below the subdiagonal (a jump: documented); the derivatives of hypot at infinities,
arcsin/arccos at +-1 in reverse-over-reverse, entr at 0; float_power(-inf, +-0.5);
fmax/fmin of another library's array and a NumPy scalar. Values and derivatives against
closed forms and finite differences, and against JAX (x64) where it is installed.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
import functrans.scipy.special as fss
from functrans.testing import check_grads

try:
    import jax
    import jax.numpy as jnp
    import jax.scipy.special as jss
    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover
    jax = None

needs_jax = pytest.mark.skipif(jax is None, reason="JAX (the reference) is not installed")


def _np(backend, x):
    return np.asarray(backend.to_numpy(x))


def _cofactors(a):
    """The cofactor matrix (adj(a)^T) by its definition: signed minors."""
    n = a.shape[0]
    c = np.empty_like(a)
    for i, j in itertools.product(range(n), range(n)):
        minor = np.delete(np.delete(a, i, 0), j, 1)
        c[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


_RNG = np.random.default_rng(16)
_RANK3 = _RNG.normal(size=(4, 3)) @ _RNG.normal(size=(3, 4))      # rank n-1, no zero pivot
_RANK2 = _RNG.normal(size=(4, 2)) @ _RNG.normal(size=(2, 4))      # rank n-2
_MATRICES = {
    "rank_n-1_exact": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),
    "rank_n-1_zero_first_pivot": np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 1.0], [0.0, 5.0, 4.0]]),
    "rank_n-1": _RANK3,
    "rank_n-2": _RANK2,
    "rank_n-2_exact": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]),
    "zero": np.zeros((3, 3)),
    "identity": np.eye(4),
    "generic": _RNG.normal(size=(4, 4)),
}


@pytest.mark.parametrize("name", sorted(_MATRICES))
def test_det_derivative_is_the_cofactor_matrix(backend, name):
    a = _MATRICES[name]
    g = _np(backend, ft.grad(fnp.linalg.det)(backend.asarray(a)))
    np.testing.assert_allclose(g, _cofactors(a), atol=1e-12 * max(1.0, np.abs(a).max() ** 3))
    # forward mode: tr(adj(a) v)
    v = _RNG.normal(size=a.shape)
    _, t = ft.jvp(fnp.linalg.det, (backend.asarray(a),), (backend.asarray(v),))
    np.testing.assert_allclose(_np(backend, t), np.sum(_cofactors(a) * v), atol=1e-11)


@pytest.mark.parametrize("name", sorted(_MATRICES))
def test_det_second_derivatives_at_singular_matrices_and_the_identity(backend, name):
    check_grads(fnp.linalg.det, (backend.asarray(_MATRICES[name]),), order=2)


def test_det_hessian_closed_form_at_the_identity_and_a_singular_matrix():
    # d2 det[H, K] at I: tr(H) tr(K) - tr(HK); at diag(1, 1, 0): only the minors through the
    # last row and column survive.
    n = 3
    h = np.asarray(ft.hessian(fnp.linalg.det)(np.eye(n))).reshape(n * n, n * n)
    want = np.zeros((n, n, n, n))
    for i, j, k, l in itertools.product(range(n), repeat=4):
        want[i, j, k, l] = (i == j) * (k == l) - (i == l) * (j == k)
    np.testing.assert_allclose(h, want.reshape(n * n, n * n), atol=1e-13)
    # det(diag(1, 1, 0) + E) to second order: the 2x2 minors containing entry (2, 2)
    d = np.diag([1.0, 1.0, 0.0])
    hd = np.asarray(ft.hessian(fnp.linalg.det)(d))
    eps = 1e-4
    for (i, j), (k, l) in [((2, 2), (0, 0)), ((2, 0), (0, 2)), ((1, 1), (0, 0)), ((2, 1), (1, 2))]:
        e1, e2 = np.zeros((3, 3)), np.zeros((3, 3))
        e1[i, j], e2[k, l] = eps, eps
        fd = (np.linalg.det(d + e1 + e2) - np.linalg.det(d + e1) - np.linalg.det(d + e2)
              + np.linalg.det(d)) / eps ** 2
        np.testing.assert_allclose(hd[i, j, k, l], fd, atol=1e-8)


def test_det_derivatives_batched_and_complex(backend):
    a = np.stack([_MATRICES["rank_n-1_exact"], np.eye(3), _RNG.normal(size=(3, 3))])
    g = _np(backend, ft.grad(lambda x: fnp.sum(fnp.linalg.det(x)))(backend.asarray(a)))
    np.testing.assert_allclose(g, np.stack([_cofactors(m) for m in a]), atol=1e-12)
    gv = _np(backend, ft.vmap(ft.grad(fnp.linalg.det))(backend.asarray(a)))
    np.testing.assert_allclose(gv, g, atol=1e-12)
    # complex: det is holomorphic, d det = tr(adj(a) v)
    c = _MATRICES["rank_n-1_exact"] * (1 + 0.5j) + 1j * np.outer([1.0, 2.0, 0.0], [1, 2, 3])
    v = _RNG.normal(size=(3, 3)) + 1j * _RNG.normal(size=(3, 3))
    _, t = ft.jvp(fnp.linalg.det, (backend.asarray(c, dtype="complex128"),),
                  (backend.asarray(v, dtype="complex128"),))
    np.testing.assert_allclose(_np(backend, t), np.sum(_cofactors(c) * v), atol=1e-11)


def test_det_third_derivative_at_a_generic_matrix():
    check_grads(fnp.linalg.det, (_MATRICES["generic"],), order=3)


@needs_jax
@pytest.mark.parametrize("name", sorted(_MATRICES))
def test_det_derivatives_match_jax(name):
    a = _MATRICES[name]
    np.testing.assert_allclose(np.asarray(ft.grad(fnp.linalg.det)(a)),
                               np.asarray(jax.grad(jnp.linalg.det)(a)), atol=1e-12)
    if name in ("identity", "generic", "zero"):  # (JAX's second derivative is right there)
        np.testing.assert_allclose(np.asarray(ft.hessian(fnp.linalg.det)(a)),
                                   np.asarray(jax.hessian(jnp.linalg.det)(a)), atol=1e-12)


@needs_jax
def test_slogdet_at_a_singular_matrix():
    a = _MATRICES["rank_n-1_exact"]
    sign, logabs = fnp.linalg.slogdet(a)
    jsign, jlog = jnp.linalg.slogdet(a)
    assert float(sign) == float(jsign) == 0.0 and float(logabs) == float(jlog) == -math.inf
    # no derivative there: since session 30 the limit of inv(a)^T = adj(a)^T / det(a) as
    # det(a) -> 0 from above (inf with the cofactors' signs, nan where they are 0, up to the
    # rounding of the adjugate; tests/test_s30_gaps30.py); it raised before. JAX's are
    # infinite too where its LU gives a value, with the sign of its zero pivot.
    g = np.asarray(ft.grad(lambda x: fnp.linalg.slogdet(x)[1])(a))
    jg = np.asarray(jax.grad(lambda x: jnp.linalg.slogdet(x)[1])(a))
    assert not np.isfinite(g).any()
    c = _cofactors(a)
    assert np.isinf(jg).any()
    assert np.isinf(g[np.isinf(jg)]).all()
    np.testing.assert_array_equal(np.sign(g[c != 0]), np.sign(c[c != 0]))


# -- small edge cases -------------------------------------------------------------------------


@pytest.mark.parametrize("x, y, want", [
    (math.inf, 1.0, (1.0, 0.0)), (-math.inf, 1.0, (-1.0, 0.0)), (1.0, -math.inf, (0.0, -1.0)),
    (-math.inf, 0.0, (-1.0, 0.0)), (3.0, 4.0, (0.6, 0.8))])
def test_hypot_derivative_at_infinities_is_the_limit(backend, x, y, want):
    xa, ya = backend.asarray(x), backend.asarray(y)
    g = ft.grad(fnp.hypot, argnums=(0, 1))(xa, ya)
    assert [float(_np(backend, v)) for v in g] == pytest.approx(want, abs=1e-15)
    # a Python number beside the traced operand
    assert float(_np(backend, ft.grad(fnp.hypot)(xa, y))) == pytest.approx(want[0], abs=1e-15)
    # both infinite: no limit (the ratio depends on the direction)
    gi = ft.grad(fnp.hypot, argnums=(0, 1))(backend.asarray(math.inf), backend.asarray(math.inf))
    assert all(math.isnan(float(_np(backend, v))) for v in gi)


@pytest.mark.parametrize("fn, sign", [("arcsin", 1.0), ("arccos", -1.0)])
@pytest.mark.parametrize("x", [1.0, -1.0])
def test_arcsin_arccos_second_derivative_at_the_ends_agrees_in_every_mode(backend, fn, sign, x):
    f = getattr(fnp, fn)
    xa = backend.asarray(x)
    want = sign * x * math.inf              # the limit of +-x / (1 - x^2)^(3/2)
    assert float(_np(backend, ft.grad(ft.grad(f))(xa))) == want       # reverse over reverse
    assert float(_np(backend, ft.jacfwd(ft.grad(f))(xa))) == want     # forward over reverse
    assert float(_np(backend, ft.jacrev(ft.jacfwd(f))(xa))) == want
    assert float(_np(backend, ft.grad(f)(xa))) == sign * math.inf
    # inside the interval: the closed forms, to the third order
    for v in (0.3, -0.7, 0.0):
        va = backend.asarray(v)
        assert float(_np(backend, ft.grad(ft.grad(f))(va))) == pytest.approx(
            sign * v / (1 - v * v) ** 1.5, rel=1e-14, abs=1e-15)
        check_grads(f, (va,), order=3)


@needs_jax
@pytest.mark.parametrize("x", [1.0, -1.0, 0.5])
def test_arcsin_second_derivative_matches_jax(x):
    assert float(ft.grad(ft.grad(fnp.arcsin))(x)) == pytest.approx(
        float(jax.grad(jax.grad(jnp.arcsin))(x)), rel=1e-14)


def test_float_power_of_minus_infinity_is_cs_pow(backend):
    x = backend.asarray(np.array([-np.inf, 4.0, -4.0, np.inf, 0.0]))
    with np.errstate(invalid="ignore", divide="ignore"):
        for e in (0.5, -0.5, 0.7, 2.0, -3.0):
            want = np.float_power(np.array([-np.inf, 4.0, -4.0, np.inf, 0.0]), e)
            np.testing.assert_array_equal(_np(backend, fnp.float_power(x, e)), want)
    assert float(fnp.float_power(-math.inf, 0.5)) == math.inf
    assert float(fnp.float_power(-math.inf, -0.5)) == 0.0
    assert float(ft.grad(lambda v: fnp.float_power(v, 0.5))(4.0)) == 0.25


def test_fmax_fmin_take_a_numpy_scalar_beside_another_library(backend):
    x = backend.asarray(np.array([1.0, 2.0, np.nan]))
    for fn, want in [(fnp.fmax, [1.5, 2.0, 1.5]), (fnp.fmin, [1.0, 1.5, 1.5])]:
        for s in (np.float64(1.5), np.float32(1.5)):
            np.testing.assert_array_equal(_np(backend, fn(x, s)), want)
            np.testing.assert_array_equal(_np(backend, fn(s, x)), want)
        g = ft.grad(lambda v: fnp.sum(fn(v, np.float64(1.5))))(x)
        np.testing.assert_array_equal(_np(backend, g), [0.0, 1.0, 0.0] if fn is fnp.fmax
                                      else [1.0, 0.0, 0.0])


def test_entr_derivative_at_zero_is_the_one_sided_limit(backend):
    z = backend.asarray(0.0)
    assert float(_np(backend, fss.entr(z))) == 0.0
    assert float(_np(backend, ft.grad(fss.entr)(z))) == math.inf        # -log(0) - 1
    assert float(_np(backend, ft.grad(ft.grad(fss.entr))(z))) == -math.inf   # -1/0
    x = backend.asarray(np.array([0.0, 0.5, 2.0, -1.0]))
    g = _np(backend, ft.vmap(ft.grad(fss.entr))(x))
    np.testing.assert_allclose(g, [math.inf, -math.log(0.5) - 1, -math.log(2.0) - 1, 0.0])
    np.testing.assert_array_equal(_np(backend, fss.entr(x)), [0.0, -0.5 * math.log(0.5),
                                                              -2.0 * math.log(2.0), -math.inf])
    check_grads(fss.entr, (backend.asarray(0.3),), order=2)


@needs_jax
def test_entr_derivatives_at_zero_match_jax():
    for f, jf in [(ft.grad(fss.entr), jax.grad(jss.entr)),
                  (ft.grad(ft.grad(fss.entr)), jax.grad(jax.grad(jss.entr)))]:
        assert float(f(0.0)) == float(jf(0.0))


# -- qr: every shape and mode ------------------------------------------------------------------

_QR_SHAPES = [((4, 2), "complete"), ((2, 4), "reduced"), ((2, 4), "complete"), ((2, 4), "r"),
              ((5, 3), "complete"), ((2, 3, 4), "complete"), ((2, 4, 3), "complete")]


def _qr_fn(mode):
    if mode == "r":
        return lambda x: fnp.linalg.qr(x, mode="r")
    return lambda x: tuple(fnp.linalg.qr(x, mode=mode))


@pytest.mark.parametrize("shape, mode", _QR_SHAPES)
def test_qr_derivatives_in_every_shape_and_mode(backend, shape, mode):
    rng = np.random.default_rng(sum(shape))
    a = backend.asarray(rng.normal(size=shape))
    check_grads(_qr_fn(mode), (a,), order=2)


@pytest.mark.parametrize("shape, mode", [((4, 2), "complete"), ((2, 4), "complete")])
def test_qr_complex_derivatives(shape, mode):
    rng = np.random.default_rng(3)
    a = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    v = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    (q, r), (dq, dr) = ft.jvp(_qr_fn(mode), (a,), (v,))
    # central differences of NumPy's factorization (check_grads covers real values only)
    e = 1e-6
    (qp, rp), (qm, rm) = np.linalg.qr(a + e * v, mode=mode), np.linalg.qr(a - e * v, mode=mode)
    np.testing.assert_allclose(np.asarray(dq), (qp - qm) / (2 * e), atol=1e-8)
    np.testing.assert_allclose(np.asarray(dr), (rp - rm) / (2 * e), atol=1e-8)
    # the factorization's identities hold to first order: d(QR) = dx, Q^H dQ skew
    q, r, dq, dr = map(np.asarray, (q, r, dq, dr))
    np.testing.assert_allclose(dq @ r + q @ dr, v, atol=1e-12)
    s = q.conj().T @ dq
    np.testing.assert_allclose(s, -s.conj().T, atol=1e-12)
    np.testing.assert_allclose(np.tril(dr, -1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.diagonal(dr).imag, 0.0, atol=1e-12)


@needs_jax
@pytest.mark.parametrize("shape, mode", _QR_SHAPES)
@pytest.mark.parametrize("cplx", [False, True])
def test_qr_derivatives_match_jax(shape, mode, cplx):
    rng = np.random.default_rng(7)
    a, v = rng.normal(size=shape), rng.normal(size=shape)
    if cplx:
        a, v = a + 1j * rng.normal(size=shape), v + 1j * rng.normal(size=shape)
    jf = ((lambda x: jnp.linalg.qr(x, mode="r")) if mode == "r"
          else (lambda x: tuple(jnp.linalg.qr(x, mode=mode))))
    _, t = ft.jvp(_qr_fn(mode), (a,), (v,))
    _, jt = jax.jvp(jf, (a,), (v,))
    for got, want in zip(jax.tree_util.tree_leaves(t), jax.tree_util.tree_leaves(jt)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-12)


# -- hessenberg at a zero column below the subdiagonal: no derivative exists -------------------


def test_hessenberg_jumps_where_a_column_below_the_subdiagonal_is_zero(backend):
    a = np.triu(np.arange(1.0, 17.0).reshape(4, 4))
    a[1, 0] = 2.0                       # already Hessenberg: every reflector is the identity
    e = np.zeros((4, 4))
    e[3, 0] = 1e-9
    h0 = _np(backend, fsl.hessenberg(backend.asarray(a)))
    hp = _np(backend, fsl.hessenberg(backend.asarray(a + e)))
    np.testing.assert_allclose(h0, scipy.linalg.hessenberg(a), atol=1e-12)
    np.testing.assert_allclose(hp, scipy.linalg.hessenberg(a + e), atol=1e-7)
    assert np.abs(hp - h0).max() > 1.0      # a jump of order 1 for a step of 1e-9
    # reverse mode: nan (no derivative), not a finite wrong value
    g = _np(backend, ft.grad(lambda x: fnp.sum(fsl.hessenberg(x)))(backend.asarray(a)))
    assert np.all(np.isnan(g))
    # forward mode along a perturbation that keeps the Hessenberg pattern: H = a + t v
    v = np.triu(np.ones((4, 4)), -1)
    _, t = ft.jvp(fsl.hessenberg, (backend.asarray(a),), (backend.asarray(v),))
    np.testing.assert_allclose(_np(backend, t), v, atol=1e-12)
    # and away from such matrices, the derivatives are right
    rng = np.random.default_rng(5)
    check_grads(fsl.hessenberg, (backend.asarray(rng.normal(size=(4, 4))),), order=2)


class _OtherLibrary:
    """A backend seen under another name: the adjugate's generic (QR) path on its arrays."""

    def __init__(self, b):
        self._b = b
        self.name = "another"

    def __getattr__(self, attr):
        return getattr(self._b, attr)


@pytest.mark.parametrize("name", sorted(_MATRICES))
def test_adjugate_generic_path(backend, name):
    from functrans.backends import backend_of
    from functrans.primitives import linalg as L
    a = _MATRICES[name]
    x = backend.asarray(a)
    adj = _np(backend, L._adjugate_impl(_OtherLibrary(backend_of(x)), x))
    np.testing.assert_allclose(adj, _cofactors(a).T, atol=1e-12 * max(1.0, np.abs(a).max() ** 3))
    # near a singular matrix: one factorization, the tiny pivot cancels (within rounding of
    # the adjugate's own size, not cond(x) times it)
    v = _RNG.normal(size=a.shape)
    y = backend.asarray(a + 1e-7 * v)
    got = _np(backend, L._adjugate_impl(_OtherLibrary(backend_of(y)), y))
    np.testing.assert_allclose(got, _cofactors(a + 1e-7 * v).T,
                               atol=1e-12 * max(1.0, np.abs(a).max() ** 3))
