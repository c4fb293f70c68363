"""Session 41, linalg41: eigh's eigenvectors' second derivatives that leaked across a stack.

- eigh(x)[1]'s tangent, where w may hold a tie (eager values, vmap), is spectral_tangent's
  "vecs" map V (F * P) (transpose "vecs_embed"), its second derivatives written out with
  strong_product: products with a strong zero per matrix (and per entry on a tangent, as
  mul_sz), so the matrices of a stack that a tangent or cotangent does not move get exactly 0
  (was nan: V's infinite derivative at a tied matrix times 0 in the products of eigh's rule).
- eigh's values' spectral map and eigvalsh's tie masks also under jit: jit's results of
  every nesting equal the eager ones at a stack with a tied matrix (was nan between them).
"""

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.primitives.linalg as pl
from tests.test_s39_linalg39 import _NESTINGS, _PLAIN, _STACK, _TIED

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg


def _outer2(v):
    return v[..., :, None] * v[..., None, :]


def _vectors_of(x):
    return la.eigh(x)[1]


_VECTOR_OUTPUTS = {
    "v2": lambda x: _vectors_of(x)[..., 2],
    "V": _vectors_of,
    "v2 v2^T": lambda x: _outer2(_vectors_of(x)[..., 2]),
}
# (Not a product of the tied cluster's own vectors, V[:, :2] V[:, :2]^T: their first
# derivatives along the tied matrix are infinite, and the user's product of one with the
# other direction's zero derivative is nan, outside eigh's rules, as JAX's.)


def _cross_blocks(h, n_out):
    """The blocks of a stack's second derivative that couple different matrices."""
    out = []
    for b, c, d in itertools.product(range(2), repeat=3):
        if (b, c, d) not in ((0, 0, 0), (1, 1, 1)):
            idx = (b,) + (slice(None),) * (n_out - 1) + (c, slice(None), slice(None), d)
            out.append(((b, c, d), h[idx]))
    return out


def _own_block(h, n_out, k):
    return h[(k,) + (slice(None),) * (n_out - 1) + (k, slice(None), slice(None), k)]


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", sorted(_VECTOR_OUTPUTS))
def test_eigenvector_outputs_leave_the_other_matrices_alone(name, nesting):
    f = _VECTOR_OUTPUTS[name]
    h = np.asarray(_NESTINGS[nesting](f)(_STACK))
    n_out = h.ndim - 6
    # exactly 0 (was nan: 54 to 2592 entries, by nesting and output)
    for key, block in _cross_blocks(h, n_out):
        np.testing.assert_array_equal(block, 0.0, err_msg=str(key))
    alone = np.asarray(_NESTINGS[nesting](f)(_PLAIN[None]))
    np.testing.assert_allclose(_own_block(h, n_out, 1), _own_block(alone, n_out, 0),
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("nesting", ["fwd(fwd)", "rev(fwd)"])
def test_the_briefs_product_of_a_vector_and_a_value(nesting):
    f = lambda x: la.eigh(x)[1][..., 2] * la.eigh(x)[0][..., 2:3]        # noqa: E731
    h = np.asarray(_NESTINGS[nesting](f)(_STACK))
    for key, block in _cross_blocks(h, 2):
        np.testing.assert_array_equal(block, 0.0, err_msg=str(key))
    # (fwd(rev) and rev(rev) keep JAX's nan where the values' cotangent, sum(u * v2), depends
    # on x: see test_values_cotangent_that_depends_on_x_keeps_its_nan)


def test_values_cotangent_that_depends_on_x_keeps_its_nan():
    # sum(w^2) = |sym(x)|_F^2 at x = 0: the eigenvalues' cotangent 2 w is 0 there, as the
    # other matrices' cotangent in a stack is, but its divided differences (2 w_j - 2 w_i) /
    # (w_j - w_i) = 2 are not 0: a strong zero would give a silently wrong Hessian
    h = np.asarray(ft.hessian(lambda x: fnp.sum(la.eigh(x)[0] ** 2))(np.zeros((2, 2))))
    assert np.isnan(h[0, 1, 0, 1]) and np.isnan(h[1, 0, 0, 1])
    assert h[0, 0, 0, 0] == 2.0 and h[1, 1, 1, 1] == 2.0


def _fd2(g, x, a, b, step=1e-4):
    return (g(x + step * a + step * b) - g(x + step * a - step * b)
            - g(x - step * a + step * b) + g(x - step * a - step * b)) / (4 * step * step)


_SMOOTH_AT_THE_TIE = {
    # functions of the simple eigenvalue's eigenvector, smooth at diag(1, 1, 2)
    "v2 v2^T": (lambda x: _outer2(la.eigh(x)[1][..., 2]),
                lambda x: (lambda v: np.outer(v, v))(np.linalg.eigh(x)[1][:, 2])),
    "w2 v2 v2^T": (lambda x: _outer2(la.eigh(x)[1][..., 2]) * la.eigh(x)[0][..., 2],
                   lambda x: (lambda w, v: np.outer(v[:, 2], v[:, 2]) * w[2])(
                       *np.linalg.eigh(x))),
}


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", sorted(_SMOOTH_AT_THE_TIE))
def test_tied_matrix_own_second_derivatives_match_central_differences(name, nesting):
    # every finite entry right (the strong zeros are per matrix in transposes: a zero entry
    # of a cotangent there was a cancellation standing for a finite limit, 0.25, not 0)
    f, g = _SMOOTH_AT_THE_TIE[name]
    h = np.asarray(_NESTINGS[nesting](f)(_TIED))
    finite = 0
    for i, j, k, m in itertools.product(range(3), repeat=4):
        got = h[..., i, j, k, m]
        if not np.all(np.isfinite(got)):
            continue
        finite += 1
        a = np.zeros((3, 3))
        a[i, j] += 0.5
        a[j, i] += 0.5
        b = np.zeros((3, 3))
        b[k, m] += 0.5
        b[m, k] += 0.5
        np.testing.assert_allclose(got, _fd2(g, _TIED, a, b), atol=2e-6,
                                   err_msg=str((i, j, k, m)))
    assert finite >= (63 if nesting.startswith("fwd") else 0)


def _hc(p):
    z = p[0] + 1j * p[1]
    return (z + fnp.conj(fnp.swapaxes(z, -1, -2))) / 2


_FORCED = {
    "V": (lambda x: la.eigh(x)[1], False),
    "v1 w2": (lambda x: la.eigh(x)[1][..., 1] * la.eigh(x)[0][..., 2:3], False),
    "complex projector": (lambda p: (lambda v: fnp.real(v[..., :, :2] @ fnp.conj(
        fnp.swapaxes(v[..., :, :2], -1, -2))))(la.eigh(_hc(p))[1]), True),
    "complex |V|^2 w": (lambda p: fnp.abs(la.eigh(_hc(p))[1]) ** 2
                        * la.eigh(_hc(p))[0][..., None, :], True),
}


@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(fwd)", "rev(rev)"])
@pytest.mark.parametrize("name", sorted(_FORCED))
def test_vecs_map_equals_the_plain_rule_away_from_ties(name, nesting, monkeypatch):
    f, cplx = _FORCED[name]
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 2, 3, 3) if cplx else (2, 3, 3))
    if not cplx:
        x = (x + np.swapaxes(x, -1, -2)) / 2
    want = np.asarray(_NESTINGS[nesting](f)(x))
    monkeypatch.setattr(pl, "_may_tie", lambda w, zero=False, staged=False: True)
    got = np.asarray(_NESTINGS[nesting](f)(x))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_vecs_map_third_derivative_equals_the_plain_rule(monkeypatch):
    rng = np.random.default_rng(6)
    a = rng.normal(size=(2, 3, 3))
    x = (a + np.swapaxes(a, -1, -2)) / 2
    f = lambda m: la.eigh(m)[1][..., 1] * la.eigh(m)[0][..., 2:3]        # noqa: E731
    nest = lambda g: ft.jacfwd(ft.jacrev(ft.jacrev(g)))                   # noqa: E731
    want = np.asarray(nest(f)(x))
    monkeypatch.setattr(pl, "_may_tie", lambda w, zero=False, staged=False: True)
    np.testing.assert_allclose(np.asarray(nest(f)(x)), want, rtol=1e-12,
                               atol=1e-12 * np.abs(want).max())


def test_vecs_map_first_order_and_transpose_at_a_tied_stack():
    rng = np.random.default_rng(7)
    t = rng.normal(size=_STACK.shape)
    t = t + np.swapaxes(t, -1, -2)
    t[0] = np.diag([0.1, 0.3, 0.5])   # (splits the tie in the order it has: V stays I)
    pair = lambda m: tuple(la.eigh(m))                                   # noqa: E731
    (w, v), (dw, dv) = ft.jvp(pair, (_STACK,), (t,))
    # (session 42: the tied columns nan, not 0: a direction that splits the tie moves them
    # by an amount the first-order data do not hold; see test_s42_linalg42)
    assert np.all(np.isnan(dv[0][:, :2]))
    np.testing.assert_array_equal(dv[0][:, 2], 0.0)
    # (the plain matrix as alone, by eigh's plain rule; LAPACK's sign of its second
    # column flips at that very matrix, so central differences do not apply there)
    np.testing.assert_allclose(dv[1], ft.jvp(lambda m: la.eigh(m)[1], (_PLAIN,), (t[1],))[1],
                               rtol=1e-13, atol=1e-14)
    cw, cv = rng.normal(size=dw.shape), rng.normal(size=dv.shape)
    cv[0, :, :2] = 0.0   # (the tied cluster's vectors: no derivative across it)
    (ct,) = ft.vjp(pair, _STACK)[1]((cw, cv))
    assert np.all(np.isfinite(ct))
    np.testing.assert_allclose(np.sum(ct * t), np.sum(cw * dw) + np.sum(cv[1] * dv[1])
                               + np.sum(cv[0, :, 2] * dv[0, :, 2]), rtol=1e-12)


def test_vmap_of_the_hessian_as_each_matrix_alone():
    f = _VECTOR_OUTPUTS["v2"]
    got = np.asarray(ft.vmap(ft.jacfwd(ft.jacrev(f)))(_STACK))
    for k in range(2):
        want = np.asarray(ft.jacfwd(ft.jacrev(f))(_STACK[k]))
        np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[k][fin], want[fin], rtol=1e-13, atol=1e-14)


def test_eigenvectors_on_backends(backend):
    x = backend.asarray(_STACK)
    h = ft.jacfwd(ft.jacrev(_VECTOR_OUTPUTS["v2"]))(x)
    assert backend.is_own(h)
    h = np.asarray(backend.to_numpy(h))
    for key, block in _cross_blocks(h, 2):
        np.testing.assert_array_equal(block, 0.0, err_msg=str(key))
    want = np.asarray(ft.jacfwd(ft.jacrev(_VECTOR_OUTPUTS["v2"]))(_STACK))
    np.testing.assert_allclose(_own_block(h, 2, 1), _own_block(want, 2, 1), rtol=1e-12,
                               atol=1e-13)


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", ["eigh", "eigvalsh"])
def test_values_under_jit_as_eagerly(name, nesting):
    f = (lambda x: la.eigh(x)[0]) if name == "eigh" else la.eigvalsh
    g = _NESTINGS[nesting](f)
    got = np.asarray(ft.jit(g)(_STACK))
    want = np.asarray(g(_STACK))
    # (jit gave nan between the matrices: 108 entries in fwd(rev), 324 in rev(fwd))
    np.testing.assert_array_equal(got, want)
    for key, block in _cross_blocks(got, 2):
        np.testing.assert_array_equal(block, 0.0, err_msg=str(key))


def test_jit_grad_of_eigh_as_eagerly():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(3, 5, 5))
    x = a + np.swapaxes(a, -1, -2)
    wt = rng.normal(size=5)
    f = ft.grad(lambda m: fnp.sum(la.eigh(m)[0] * wt) + fnp.sum(la.eigh(m)[1][..., 2] ** 3))
    np.testing.assert_allclose(ft.jit(f)(x), f(x), rtol=1e-13, atol=1e-14)


def test_matches_jax_away_from_ties(monkeypatch):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    rng = np.random.default_rng(9)
    a = rng.normal(size=(2, 3, 3))
    x = (a + np.swapaxes(a, -1, -2)) / 2
    monkeypatch.setattr(pl, "_may_tie", lambda w, zero=False, staged=False: True)
    got = np.asarray(ft.jacfwd(ft.jacrev(lambda m: _outer2(la.eigh(m)[1][..., 1])))(x))
    want = np.asarray(jax.jacfwd(jax.jacrev(
        lambda m: (lambda v: v[..., :, None] * v[..., None, :])(jnp.linalg.eigh(
            (m + jnp.swapaxes(m, -1, -2)) / 2)[1][..., 1])))(jnp.asarray(x)))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


# -- strong_product ------------------------------------------------------------------------


def test_strong_product_zero_per_matrix():
    inf = np.inf
    a = np.array([[[inf, 1.0], [2.0, 3.0]], [[inf, 1.0], [2.0, 3.0]]])
    b = np.array([[[0.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    out = np.asarray(pl.matmul_sz(a, b))
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1], a[1] @ b[1])
    np.testing.assert_array_equal(np.asarray(pl.matmul_sz(b, a))[0], 0.0)
    out = np.asarray(pl.mul_szm(a, np.ones_like(a), b))   # (gated by b)
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1], a[1])
    # per entry forward (as mul_sz), per matrix in the transpose
    f = np.array([[0.0, inf], [-inf, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(np.asarray(pl._gap_mul(f, y)), 0.0)
    _, back = ft.vjp(lambda m: pl._gap_mul(f, m), y)
    (ct,) = back(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert np.isnan(ct[0, 1]) and np.isnan(ct[1, 0])
    (ct,) = back(np.zeros((2, 2)))
    np.testing.assert_array_equal(ct, 0.0)


def test_strong_product_is_the_plain_product_for_finite_operands(backend):
    rng = np.random.default_rng(10)
    a, b, t = (backend.asarray(rng.normal(size=(2, 3, 3))) for _ in range(3))
    for fn, plain in [(pl.matmul_sz, lambda p, q: p @ q),
                      (lambda p, q: pl.mul_szm(p, q, q), lambda p, q: p * q),
                      (pl._gap_mul, lambda p, q: p * q)]:
        got = fn(a, b)
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), backend.to_numpy(plain(a, b)),
                                   rtol=1e-15)
        jv = ft.jvp(lambda q: fn(a, q), (b,), (t,))[1]
        np.testing.assert_allclose(backend.to_numpy(jv), backend.to_numpy(plain(a, t)),
                                   rtol=1e-15)
        (ct,) = ft.vjp(lambda q: fn(a, q), b)[1](t)
        lhs = np.sum(backend.to_numpy(ct) * backend.to_numpy(t))
        rhs = np.sum(backend.to_numpy(plain(a, t)) * backend.to_numpy(t))
        np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
        got = ft.vmap(fn)(a, b)
        np.testing.assert_allclose(backend.to_numpy(got), backend.to_numpy(plain(a, b)),
                                   rtol=1e-15)


def test_strong_product_under_jet():
    from functrans.experimental.jet import jet
    rng = np.random.default_rng(11)
    a, b, da, db = rng.normal(size=(4, 2, 3, 3))
    got = jet(pl.matmul_sz, (a, b), ((da, da * 0.5), (db, -db)))
    want = jet(lambda p, q: p @ q, (a, b), ((da, da * 0.5), (db, -db)))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    for g, w in zip(got[1], want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14)
