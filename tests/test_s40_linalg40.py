"""Session 40, linalg40: linear-algebra derivatives that leaked across the matrices of a stack.

- eigh(x)[0] and svd(x)[1]: their tangents are spectral_tangent's (projected=True), so a
  function of the values alone has eigvalsh's / svdvals' second derivatives (was nan between
  the matrices of a stack beside a tied matrix: eigh's 1 / (w_j - w_i) times a zero).
- cond (2, -2, None): a custom_jvp ratio whose tangent is spectral_tangent's weighted map.
- vector_norm (2, p >= 2) at a zero slice: nan only in the directions that move it; _larfg
  (hessenberg's reflectors) has its own nan slope at an identity reflector.
- qr of a square matrix: dQ = Q O, dR = triu(Q^H dx - O R), no 1 / R_nn cancellation (a
  rank-deficient matrix's first derivative was 0.5 off, its second 1e15), and a real square
  matrix's last zero R_kk is differentiable.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from tests.test_s39_linalg39 import _NESTINGS, _PLAIN, _STACK, _TIED  # noqa: F401 (the same cases)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg


def _block(h, n_out, b, c, d):
    """Output matrix b, first derivative's matrix c, second's d (stacks of 2 matrices)."""
    return h[(b,) + (slice(None),) * (n_out - 1) + (c, slice(None), slice(None), d)]


def _assert_other_blocks_zero(h, n_out, own=((0, 0, 0), (1, 1, 1))):
    for b in range(2):
        for c in range(2):
            for d in range(2):
                if (b, c, d) not in own:
                    np.testing.assert_array_equal(_block(h, n_out, b, c, d), 0.0,
                                                  err_msg=str((b, c, d)))


def _same(a, b, rtol=1e-12, atol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    fin = np.isfinite(a)
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=atol)


# -- 1. eigh's and svd's values: eigvalsh's and svdvals' second derivatives ------------------


_VALUE_OUTPUTS = {
    "eigh": (lambda x: la.eigh(x)[0], la.eigvalsh),
    "svd": (lambda x: la.svd(x)[1], la.svdvals),
    "svd thin": (lambda x: la.svd(x, full_matrices=False)[1], la.svdvals),
}


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", sorted(_VALUE_OUTPUTS))
def test_values_output_has_the_values_second_derivatives(name, nesting):
    f, values = _VALUE_OUTPUTS[name]
    h = np.asarray(_NESTINGS[nesting](f)(_STACK))
    # the other matrices' blocks exactly 0 (eigh: 54 nan in fwd(rev), 36 in fwd(fwd))
    _assert_other_blocks_zero(h, 2)
    _same(h, _NESTINGS[nesting](values)(_STACK), rtol=0, atol=0)


@pytest.mark.parametrize("shape", [(2, 4, 3), (2, 3, 4)])
def test_rectangular_svd_values_as_svdvals(shape):
    x = np.random.default_rng(4).normal(size=shape)
    for nest in ("fwd(rev)", "rev(fwd)"):
        _same(_NESTINGS[nest](lambda a: la.svd(a, full_matrices=False)[1])(x),
              _NESTINGS[nest](la.svdvals)(x), rtol=1e-13, atol=1e-13)


def test_complex_eigh_and_svd_values_as_eigvalsh_and_svdvals():
    im = np.stack([np.zeros((3, 3)), np.array([[0, 1, 0], [-1, 0, 0.5], [0, -0.5, 0.0]])])
    z = np.stack([_STACK, im])

    def of(fn):
        return lambda p: fn(p[0] + 1j * p[1])
    for nest in ("fwd(rev)", "rev(fwd)"):
        n = _NESTINGS[nest]
        _same(n(of(lambda a: la.eigh(a)[0]))(z), n(of(la.eigvalsh))(z), rtol=0, atol=0)
        _same(n(of(lambda a: la.svd(a)[1]))(z), n(of(la.svdvals))(z), rtol=0, atol=0)


def test_eigh_and_svd_first_derivatives_unchanged_and_transposed_right():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(2, 4, 4))
    x = a + np.swapaxes(a, -1, -2)
    t = rng.normal(size=x.shape)
    t = t + np.swapaxes(t, -1, -2)
    pair = lambda m: tuple(la.eigh(m))                                   # noqa: E731
    (w, v), (dw, dv) = ft.jvp(pair, (x,), (t,))
    # dw = diag(V^T t V)
    np.testing.assert_allclose(dw, np.einsum("bij,bik,bkj->bj", v, t, v), rtol=1e-12,
                               atol=1e-12)
    # the dot-product identity through both outputs (the values' map transposes to t, not
    # to P: P's products then get V's cotangent alone)
    cw, cv = rng.normal(size=dw.shape), rng.normal(size=dv.shape)
    _, vjp = ft.vjp(pair, x)
    (ct,) = vjp((cw, cv))
    np.testing.assert_allclose(np.sum(ct * t), np.sum(cw * dw) + np.sum(cv * dv), rtol=1e-11)
    (ct,) = vjp((cw, np.zeros_like(cv)))
    np.testing.assert_allclose(np.sum(ct * t), np.sum(cw * dw), rtol=1e-11)
    y = rng.normal(size=(2, 4, 3))
    ty = rng.normal(size=y.shape)
    thin = lambda m: tuple(la.svd(m, full_matrices=False))               # noqa: E731
    outs, tans = ft.jvp(thin, (y,), (ty,))
    cts = [rng.normal(size=o.shape) for o in outs]
    (ct,) = ft.vjp(thin, y)[1](tuple(cts))
    np.testing.assert_allclose(np.sum(ct * ty), sum(np.sum(c * d) for c, d in zip(cts, tans)),
                               rtol=1e-11)
    np.testing.assert_allclose(tans[1], np.einsum("bij,bik,bjk->bj", outs[0], ty, outs[2]),
                               rtol=1e-12, atol=1e-12)


def test_eigh_values_hessian_under_jit_and_vmap():
    f = lambda x: la.eigh(x)[0]                                          # noqa: E731
    eager = np.asarray(ft.jacfwd(ft.jacrev(f))(_STACK))
    # (staged, the spectral form is taken nowhere, as eigvalsh's tie masks: at ties JAX's
    # nan; away from them jit = eager)
    plain = _STACK + np.diag([0.0, 0.5, 0.0])
    _same(ft.jit(ft.jacfwd(ft.jacrev(f)))(plain), ft.jacfwd(ft.jacrev(f))(plain), rtol=1e-13,
          atol=1e-13)
    one = ft.vmap(ft.jacfwd(ft.jacrev(f)))(_STACK)
    for i in range(2):
        _same(np.asarray(one)[i], _block(eager, 2, i, i, i), rtol=1e-13, atol=1e-13)


def test_values_hessian_on_backends(backend):
    x = backend.asarray(_STACK)
    for f in (lambda a: la.eigh(a)[0], lambda a: la.svd(a)[1]):
        h = ft.jacfwd(ft.jacrev(f))(x)
        assert backend.is_own(h)
        h = np.asarray(backend.to_numpy(h))
        _assert_other_blocks_zero(h, 2)
        want = np.asarray(ft.jacfwd(ft.jacrev(f))(_STACK))
        np.testing.assert_allclose(_block(h, 2, 1, 1, 1), _block(want, 2, 1, 1, 1),
                                   rtol=1e-12, atol=1e-13)


def test_the_sum_over_a_tied_cluster_through_eigh():
    # w_0 + w_1 = tr(x) - w_2 at diag(1, 1, 2): its Hessian is -d^2 w_2, finite (JAX: nan)
    def pair_sum(fn):
        def f(x):
            w = fn(x)
            return w[0] + w[1]
        return f
    f = pair_sum(lambda x: la.eigh(x)[0])
    want = np.asarray(ft.jacfwd(ft.jacrev(pair_sum(la.eigvalsh)))(_TIED))
    assert np.all(np.isfinite(want))
    for nest in ("fwd(rev)", "rev(rev)"):
        np.testing.assert_allclose(_NESTINGS[nest](f)(_TIED), want, rtol=1e-13, atol=1e-13)


# -- 2. cond ---------------------------------------------------------------------------------


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("p", [None, -2])
def test_cond_at_a_tied_matrix_leaves_the_others_alone(p, nesting):
    f = lambda x: la.cond(x, p)                                          # noqa: E731
    h = np.asarray(_NESTINGS[nesting](f)(_STACK))
    # was nan in fwd(rev) and rev(rev) (18 entries: matrix 1's cond by matrix 0 twice)
    _assert_other_blocks_zero(h, 1)
    alone = np.asarray(_NESTINGS[nesting](f)(_PLAIN[None]))
    np.testing.assert_allclose(_block(h, 1, 1, 1, 1), alone[0, 0, :, :, 0], rtol=1e-12,
                               atol=1e-13)
    # the tied matrix's own block: s_min (p None) or s_max ... of a tied pair, a kink: not
    # finite where the direction splits the tie, never a finite wrong value there
    own = _block(h, 1, 0, 0, 0)
    assert not np.all(np.isfinite(own))


@pytest.mark.parametrize("stack", ["singular", "zero"])
def test_cond_at_singular_and_zero_matrices_leaves_the_others_alone(stack):
    other = np.array([[1.0, 2.0], [3.0, 4.0]])
    first = np.diag([1.0, 0.0]) if stack == "singular" else np.zeros((2, 2))
    x = np.stack([first, other])
    for p in (None, -2):
        f = lambda a: la.cond(a, p)                                      # noqa: E731
        np.testing.assert_array_equal(f(x)[0], 0.0 if (p, stack) == (-2, "singular")
                                      else np.inf)
        for nest in ("fwd(rev)", "rev(rev)"):
            h = np.asarray(_NESTINGS[nest](f)(x))
            _assert_other_blocks_zero(h, 1)
            alone = np.asarray(_NESTINGS[nest](f)(other[None]))
            np.testing.assert_allclose(_block(h, 1, 1, 1, 1), alone[0, 0, :, :, 0],
                                       rtol=1e-12)


def test_cond_values_and_derivatives_as_before():
    rng = np.random.default_rng(11)
    for shape in ((3, 3, 3), (2, 4, 3), (2, 3, 4), (2, 1, 3)):
        x = rng.normal(size=shape)
        s = np.linalg.svd(x, compute_uv=False)
        np.testing.assert_array_equal(la.cond(x), s[..., 0] / s[..., -1])
        np.testing.assert_array_equal(la.cond(x, -2), s[..., -1] / s[..., 0])
        for p in (None, -2):
            f = lambda a: la.cond(a, p)                                  # noqa: E731
            # first derivative: central differences; Hessian: symmetric, fwd(rev) = rev(rev)
            v = rng.normal(size=shape)
            _, d = ft.jvp(f, (x,), (v,))
            eps = 1e-6
            fd = (np.asarray(f(x + eps * v)) - np.asarray(f(x - eps * v))) / (2 * eps)
            np.testing.assert_allclose(d, fd, rtol=1e-6, atol=1e-8)
            h1 = np.asarray(ft.jacfwd(ft.jacrev(f))(x))
            h2 = np.asarray(ft.jacrev(ft.jacrev(f))(x))
            np.testing.assert_allclose(h1, h2, rtol=1e-10, atol=1e-12)
            _, d2 = ft.jvp(lambda a: ft.jvp(f, (a,), (v,))[1], (x,), (v,))
            fd2 = (np.asarray(f(x + 1e-4 * v)) - 2 * np.asarray(f(x))
                   + np.asarray(f(x - 1e-4 * v))) / 1e-8
            np.testing.assert_allclose(d2, fd2, rtol=1e-4, atol=1e-5)


def test_cond_hessian_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(12)
    x, v = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3, 3))
    for p in (None, -2):   # (a Hessian-vector product: JAX's full Hessian is slow to trace)
        got = ft.jvp(ft.grad(lambda a: fnp.sum(la.cond(a, p))), (x,), (v,))[1]
        want = jax.jvp(jax.grad(lambda a: jax.numpy.sum(jax.numpy.linalg.cond(a, p))), (x,),
                       (v,))[1]
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-9, atol=1e-10)


def test_cond_under_jit_and_vmap():
    f = lambda x: la.cond(x)                                             # noqa: E731
    plain = _STACK + np.diag([0.0, 0.5, 0.0])   # (no tie: jit = eager; at ties see eigh's)
    _same(ft.jit(ft.jacfwd(ft.jacrev(f)))(plain), ft.jacfwd(ft.jacrev(f))(plain), rtol=1e-13,
          atol=1e-13)
    h = np.asarray(ft.vmap(ft.jacfwd(ft.jacrev(f)))(_STACK))
    np.testing.assert_allclose(h[1], ft.jacfwd(ft.jacrev(f))(_PLAIN), rtol=1e-12, atol=1e-13)
    g = np.asarray(ft.vmap(ft.grad(f))(_STACK))
    np.testing.assert_allclose(g, np.asarray(ft.jacrev(f)(_STACK))[[0, 1], [0, 1]],
                               rtol=1e-14)


def test_cond_hessian_on_backends(backend):
    x = backend.asarray(_STACK)
    h = ft.jacfwd(ft.jacrev(la.cond))(x)
    assert backend.is_own(h)
    h = np.asarray(backend.to_numpy(h))
    _assert_other_blocks_zero(h, 1)


def test_weighted_spectral_map_transposes_to_its_embedding():
    from functrans.primitives import linalg as pl
    rng = np.random.default_rng(13)
    x = rng.normal(size=(2, 4, 3))
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    h = rng.normal(size=s.shape)
    t, c = rng.normal(size=x.shape), rng.normal(size=s.shape)
    d = pl.spectral_tangent(t, x, u, s, vh, h, kind="svd_diag", weighted=True)
    np.testing.assert_allclose(d, h * np.einsum("bij,bik,bjk->bj", u, t, vh), rtol=1e-12)
    e = pl.spectral_tangent(c, x, u, s, vh, h, kind="svd_embed", weighted=True)
    np.testing.assert_allclose(np.sum(e * t), np.sum(c * d), rtol=1e-12)


# -- 3. vector_norm at a zero slice, _larfg's identity reflector --------------------------------


_ROWS = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.0]])


@pytest.mark.parametrize("ord", [2, None, 3, 2.5])
def test_vector_norm_zero_row_leaves_the_other_rows_alone(ord):
    f = lambda x: la.vector_norm(x, axis=1, ord=ord)                     # noqa: E731
    p = 2.0 if ord is None else float(ord)
    r = _ROWS[1]
    slope = np.abs(r) ** (p - 1) * np.sign(r) / np.sum(np.abs(r) ** p) ** (1 - 1 / p)
    for jac in (ft.jacfwd, ft.jacrev):
        j = np.asarray(jac(f)(_ROWS))
        # the zero row's own derivative: none (a cone point), nan as JAX's and the p < 2
        # norms' at a zero; the other row's entries exactly 0 (were nan in jacfwd's [0, 1]
        # and jacrev's [1, 0], as JAX's)
        assert np.all(np.isnan(j[0, 0]))
        np.testing.assert_array_equal(j[0, 1], 0.0)
        np.testing.assert_array_equal(j[1, 0], 0.0)
        np.testing.assert_allclose(j[1, 1], slope, rtol=1e-14)
    alone = np.asarray(ft.jacfwd(ft.jacrev(lambda v: la.vector_norm(v, ord=ord)))(r))
    for nest in sorted(_NESTINGS):
        h = np.asarray(_NESTINGS[nest](f)(_ROWS))      # (out row, row, col, row, col)
        assert np.all(np.isnan(h[0, 0, :, 0, :]))
        for a, b, c in [(0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0)]:
            np.testing.assert_array_equal(h[a, b, :, c, :], 0.0, err_msg=str((nest, a, b, c)))
        np.testing.assert_allclose(h[1, 1, :, 1, :], alone, rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(f(_ROWS), [0.0, np.linalg.norm(r, ord=p)])


def test_vector_norm_zero_slice_keepdims_complex_jit_vmap():
    f = lambda x: la.vector_norm(x, axis=1, keepdims=True)               # noqa: E731
    j = np.asarray(ft.jacrev(f)(_ROWS))
    assert np.all(np.isnan(j[0, 0, 0])) and np.all(j[1, 0, 0] == 0) and np.all(j[0, 0, 1] == 0)
    g = lambda x: la.vector_norm(x, axis=1)                              # noqa: E731
    # staged (jit): the plain form, as JAX's (the zero-slice form cost every jit call 2.6x):
    # there the zero row's nan reaches the other row's columns; the other row's own block is
    # eager's, and without a zero row jit is eager exactly
    hj = np.asarray(ft.jit(ft.jacfwd(ft.jacrev(g)))(_ROWS))
    he = np.asarray(ft.jacfwd(ft.jacrev(g))(_ROWS))
    np.testing.assert_allclose(hj[1, 1, :, 1, :], he[1, 1, :, 1, :], rtol=1e-15)
    _same(ft.jit(ft.jacfwd(ft.jacrev(g)))(_ROWS + 1.0), ft.jacfwd(ft.jacrev(g))(_ROWS + 1.0),
          rtol=0, atol=0)
    v = np.asarray(ft.vmap(ft.grad(lambda r: la.vector_norm(r)))(_ROWS))
    assert np.all(np.isnan(v[0]))
    np.testing.assert_allclose(v[1], _ROWS[1] / np.linalg.norm(_ROWS[1]))
    z = np.stack([np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[0.0, 0.0], [1.0, 0.0]])])
    jz = np.asarray(ft.jacrev(lambda p: la.vector_norm(p[0] + 1j * p[1], axis=1))(z))
    assert np.all(np.isnan(jz[0, :, 0]))
    np.testing.assert_array_equal(jz[1, :, 0], 0.0)
    np.testing.assert_array_equal(jz[0, :, 1], 0.0)
    np.testing.assert_allclose(jz[1, :, 1], [[1 / 6 ** 0.5, 2 / 6 ** 0.5],
                                             [1 / 6 ** 0.5, 0.0]], rtol=1e-14)
    # no zero slice: the plain form (no nan anywhere)
    assert np.all(np.isfinite(ft.jacfwd(ft.jacrev(g))(_ROWS + 1.0)))


def test_vector_norm_zero_row_on_backends(backend):
    x = backend.asarray(_ROWS)
    j = ft.jacfwd(lambda a: la.vector_norm(a, axis=1))(x)
    assert backend.is_own(j)
    j = np.asarray(backend.to_numpy(j))
    assert np.all(np.isnan(j[0, 0]))
    np.testing.assert_array_equal(j[0, 1], 0.0)
    np.testing.assert_array_equal(j[1, 0], 0.0)


def test_hessenberg_identity_reflector_has_no_derivative_along_the_jump():
    a = np.triu(np.arange(1.0, 17.0).reshape(4, 4))
    a[1, 0] = 2.0                       # every reflector the identity
    jump = np.zeros((4, 4))
    jump[3, 0] = 1.0                    # moves the column below the subdiagonal: H jumps
    _, t = ft.jvp(fsl.hessenberg, (a,), (jump,))
    assert np.any(np.isnan(np.asarray(t)))    # (was finite: the identity's own slope)
    keep = np.triu(np.ones((4, 4)), -1)
    _, t = ft.jvp(fsl.hessenberg, (a,), (keep,))
    np.testing.assert_allclose(t, keep, atol=1e-12)
    g = ft.grad(lambda x: fnp.sum(fsl.hessenberg(x)))(a)
    assert np.all(np.isnan(np.asarray(g)))


# -- 4. qr at rank deficiency ---------------------------------------------------------------------


def _qr_fd(x, k, v, h):
    return (np.linalg.qr(x + h * v)[k] - np.linalg.qr(x - h * v)[k]) / (2 * h)


def _qr_fd2(x, k, v, h):
    return (np.linalg.qr(x + h * v)[k] - 2 * np.linalg.qr(x)[k]
            + np.linalg.qr(x - h * v)[k]) / h ** 2


@pytest.mark.parametrize("x", [
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],   # rank 2, R_33 ~ 6e-16
    [[3.0, 6.0], [4.0, 8.0]],                              # rank 1, R_22 exactly 0
    [[3.0, 6.0, 1.0], [4.0, 8.0, 2.0]],                    # wide, R_22 exactly 0
], ids=["rounded", "exact", "wide"])
def test_qr_derivatives_at_a_rank_deficient_square_block(x):
    x = np.array(x)
    rng = np.random.default_rng(21)
    for k in (0, 1):
        f = lambda a: la.qr(a)[k]                                        # noqa: E731
        for _ in range(3):
            v = rng.normal(size=x.shape)
            _, d = ft.jvp(f, (x,), (v,))
            # first derivative: Q was 0.5 off (JAX's is too)
            np.testing.assert_allclose(d, _qr_fd(x, k, v, 1e-6), atol=1e-8)
            _, d2 = ft.jvp(lambda a: ft.jvp(f, (a,), (v,))[1], (x,), (v,))
            # second derivative: Q was 1e15 off, R 0.5 (JAX's too)
            np.testing.assert_allclose(d2, _qr_fd2(x, k, v, 1e-4), atol=2e-5)
        j = np.asarray(ft.jacfwd(f)(x))
        np.testing.assert_allclose(j, np.asarray(ft.jacrev(f)(x)), atol=1e-12)


def test_qr_jax_is_off_at_the_rounded_rank_deficient_matrix():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    v = np.random.default_rng(22).normal(size=x.shape)
    fd = _qr_fd(x, 0, v, 1e-6)
    _, got = ft.jvp(lambda a: la.qr(a)[0], (x,), (v,))
    _, want = jax.jvp(lambda a: jax.numpy.linalg.qr(a)[0], (x,), (v,))
    np.testing.assert_allclose(got, fd, atol=1e-8)
    assert np.abs(np.asarray(want) - fd).max() > 1e-3   # (JAX's cancellation; ours is exact)


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
def test_qr_rank_deficient_in_a_stack(nesting):
    plain = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    jumps = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [2.0, 4.0, 7.0]])   # R_22 = 0, a jump
    x = np.stack([jumps, plain])
    for k in (0, 1):
        f = lambda a: la.qr(a)[k]                                        # noqa: E731
        h = np.asarray(_NESTINGS[nesting](f)(x))       # (2, 3, 3, 2, 3, 3, 2, 3, 3)
        alone = np.asarray(_NESTINGS[nesting](f)(plain[None]))
        for b in range(2):
            for c in range(2):
                for d in range(2):
                    block = h[b, :, :, c, :, :, d]
                    if (b, c, d) == (0, 0, 0):
                        assert np.all(np.isnan(block))   # no derivative: nan, as before
                    elif (b, c, d) == (1, 1, 1):
                        np.testing.assert_allclose(block, alone[0, :, :, 0, :, :, 0],
                                                   rtol=1e-12, atol=1e-13)
                    else:
                        np.testing.assert_array_equal(block, 0.0)


def test_qr_complex_square_last_zero_keeps_its_nan():
    # a complex x's R_kk = 0 has no derivative (the last reflector's phase jumps): nan in
    # the directions that move it, as before; the real one is differentiable (above)
    x = np.array([[3.0, 6.0], [4.0, 8.0]]) + 0j
    _, t = ft.jvp(lambda a: la.qr(a)[1], (x,), (np.ones((2, 2)) + 0j,))
    assert np.any(np.isnan(np.asarray(t)))
