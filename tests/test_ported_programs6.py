"""Programs written for JAX's session-15 features (collectives over named vmap axes and pmap,
typed keys, jax.scipy.sparse.linalg, gather/scatter, pure_callback, make_jaxpr, checkpoint
policies, custom_gradient, custom_vmap), run with the imports swapped to functrans (round 6;
see test_ported_programs.py to 5) and checked against an independent reference (closed forms,
NumPy/SciPy, ``check_grads``, values pinned from JAX 0.10 runs) and, where it is installed,
against JAX itself.

First the regression found while porting them: ``jax.lax.linalg`` (cholesky, triangular_solve,
eigh, qr, svd, lu, lu_pivots_to_permutation, tridiagonal_solve with JAX's signatures and result
orders); then the gaps found in other modules, as strict xfails; then the programs.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.special as sps

import functrans as ft
import functrans.lax as lax
import functrans.numpy as jnp
import functrans.scipy.sparse.linalg as spl
from functrans.testing import check_grads

from ._ported import _jax, close

R = np.random.RandomState(0)
A4 = R.randn(2, 4, 4) + 4 * np.eye(4)
B43 = R.randn(2, 4, 3)
X5 = np.linspace(0, 1, 5)
K5 = np.exp(-(X5[:, None] - X5[None]) ** 2) + 0.1 * np.eye(5)


# -- regressions: jax.lax.linalg ----------------------------------------------------------------


def test_lax_linalg_cholesky_and_triangular_solve_in_a_gp(backend):
    """A GP's data-fit term by jax.lax.linalg, as GP code writes it."""
    k, y = backend.asarray(K5), backend.asarray(np.sin(X5))
    L = lax.linalg.cholesky(k)
    assert backend.is_own(L)
    np.testing.assert_allclose(backend.to_numpy(L), np.linalg.cholesky(K5), atol=1e-12)
    a = lax.linalg.triangular_solve(L, y, left_side=True, lower=True)     # vector b
    np.testing.assert_allclose(backend.to_numpy(a), sla.solve_triangular(
        np.linalg.cholesky(K5), np.sin(X5), lower=True), atol=1e-12)

    def fit(k):
        L = lax.linalg.cholesky(k)
        a = lax.linalg.triangular_solve(L, y[:, None], left_side=True, lower=True)
        return jnp.sum(a ** 2) + 2 * jnp.sum(jnp.log(jnp.diagonal(L)))
    check_grads(fit, (k,), order=1)
    # symmetrize_input=False reads the lower triangle only
    junk = K5 + 0.3 * np.triu(R.randn(5, 5), 1)
    np.testing.assert_allclose(backend.to_numpy(lax.linalg.cholesky(
        backend.asarray(junk), symmetrize_input=False)), np.linalg.cholesky(K5), atol=1e-12)
    # the other decompositions give arrays of the input's library (and device)
    t = lax.linalg.tridiagonal_solve(k[0, ...], k[1, ...], k[2, ...], k[:, :2])
    d = np.diag(K5[1]) + np.diag(K5[2, :-1], 1) + np.diag(K5[0, 1:], -1)
    assert backend.is_own(t) and backend.is_own(lax.linalg.lu(k)[2])
    np.testing.assert_allclose(backend.to_numpy(t), np.linalg.solve(d, K5[:, :2]), atol=1e-12)


@pytest.mark.parametrize("left_side", [True, False])
def test_lax_linalg_triangular_solve_flags(left_side):
    b = B43 if left_side else np.swapaxes(B43, -1, -2)
    for lower in (True, False):
        for transpose_a in (True, False):
            for unit in (True, False):
                x = lax.linalg.triangular_solve(A4, b, left_side=left_side, lower=lower,
                                                transpose_a=transpose_a, unit_diagonal=unit)
                t = np.tril(A4) if lower else np.triu(A4)
                if unit:
                    t = t - t * np.eye(4) + np.eye(4)
                if transpose_a:
                    t = np.swapaxes(t, -1, -2)
                got = t @ x if left_side else x @ t
                np.testing.assert_allclose(got, b, atol=1e-12)
    c = R.randn(4, 4) + 1j * R.randn(4, 4) + 4 * np.eye(4)
    bc = R.randn(4, 2) + 1j * R.randn(4, 2)
    x = lax.linalg.triangular_solve(c, bc if left_side else bc.T, left_side=left_side,
                                    lower=True, transpose_a=True, conjugate_a=True)
    t = np.tril(c).conj().T
    np.testing.assert_allclose(t @ x if left_side else x @ t, bc if left_side else bc.T,
                               atol=1e-12)


def test_lax_linalg_decompositions():
    import functrans.lax.linalg as L2
    assert L2 is lax.linalg
    v, w = lax.linalg.eigh(K5)                    # JAX's order: vectors first
    np.testing.assert_allclose(w, np.linalg.eigvalsh(K5), atol=1e-12)
    np.testing.assert_allclose(K5 @ v, v * w, atol=1e-12)
    q, r = lax.linalg.qr(A4[0, :, :3])
    assert q.shape == (4, 4) and r.shape == (4, 3)
    q, r = lax.linalg.qr(A4[0, :, :3], full_matrices=False)
    assert q.shape == (4, 3) and np.allclose(q @ r, A4[0, :, :3])
    u, s, vh = lax.linalg.svd(A4[0, :3], full_matrices=False)
    np.testing.assert_allclose((u * s) @ vh, A4[0, :3], atol=1e-12)
    np.testing.assert_allclose(lax.linalg.svd(A4[0], compute_uv=False),
                               np.linalg.svd(A4[0], compute_uv=False), atol=1e-12)
    lu, piv, perm = lax.linalg.lu(A4)
    ref_lu, ref_piv = sla.lu_factor(A4[1])
    np.testing.assert_allclose(lu[1], ref_lu, atol=1e-12)
    assert piv.dtype == np.int32 and perm.dtype == np.int32 and piv[1].tolist() == ref_piv.tolist()
    low = np.tril(lu, -1) + np.eye(4)
    np.testing.assert_allclose(np.take_along_axis(A4, perm[..., None], 1), low @ np.triu(lu),
                               atol=1e-12)
    assert lax.linalg.lu_pivots_to_permutation(piv, 6).shape == (2, 6)
    dl, d, du = np.array([0.0, 1.0, 2.0, 3.0]), np.arange(5.0, 9.0), np.array([.5, .2, .1, 0])
    dense = np.diag(d) + np.diag(du[:-1], 1) + np.diag(dl[1:], -1)
    np.testing.assert_allclose(lax.linalg.tridiagonal_solve(dl, d, du, B43[0]),
                               np.linalg.solve(dense, B43[0]), atol=1e-12)
    # column pivoting (session 28; tests/test_gaps_s28.py): x[:, p] = q @ r
    q, r, p = lax.linalg.qr(A4[0], pivoting=True)
    np.testing.assert_allclose(q @ r, A4[0][:, p], atol=1e-12)
    # under jit and vmap
    f = ft.jit(lambda a, b: lax.linalg.triangular_solve(a, b, left_side=True, lower=True))
    np.testing.assert_allclose(f(A4, B43), ft.vmap(f)(A4, B43), atol=1e-14)


def test_lax_linalg_against_jax():
    jax = _jax()
    jl = jax.lax.linalg
    c = R.randn(4, 4) + 1j * R.randn(4, 4) + 4 * np.eye(4)
    for kw in ({"left_side": True, "lower": False, "conjugate_a": True},
               {"lower": True, "transpose_a": True, "conjugate_a": True, "unit_diagonal": True}):
        close(jl.triangular_solve(c, c[:2].T if kw.get("left_side") else c[:2], **kw),
              lax.linalg.triangular_solve(c, c[:2].T if kw.get("left_side") else c[:2], **kw))
    close(jl.lu(A4), lax.linalg.lu(A4))



def test_bicgstab_complex_system():
    """bicgstab's scalars start complex for a complex system (they started real: while_loop
    refused the carry's dtype change)."""
    a = np.array([[4.0, 1 - 1j], [1 + 1j, 3.0]])
    b = np.array([1.0 + 0j, 2j])
    x, _ = spl.bicgstab(a, b, tol=1e-14, atol=0.0)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), atol=1e-13)
    x = ft.jit(lambda b: spl.bicgstab(a.real, b, tol=1e-14, atol=0.0)[0])(b)
    np.testing.assert_allclose(x, np.linalg.solve(a.real, b), atol=1e-13)
    g = ft.grad(lambda s: jnp.real(jnp.sum(spl.bicgstab(a + s * np.eye(2), b, tol=1e-14,
                                                        atol=0.0)[0])))(0.3)
    ainv = np.linalg.inv(a + 0.3 * np.eye(2))
    np.testing.assert_allclose(g, np.real(np.sum(-ainv @ ainv @ b)), rtol=1e-10)

# -- gaps in other modules (strict xfails; see the report) --------------------------------------


# (fixed: pmap takes in_axes for the mapped arguments only, as JAX)
def test_pmap_in_axes_counts_only_dynamic_arguments():
    f = ft.pmap(lambda x, w, k: x * w * k, in_axes=(0, None), static_broadcasted_argnums=(2,))
    np.testing.assert_allclose(f(np.ones((3, 2)), np.ones(2), 2), 2 * np.ones((3, 2)))


# (fixed: functrans.ad_checkpoint.checkpoint_name)
def test_checkpoint_name_exists():
    from functrans.ad_checkpoint import checkpoint_name   # jax.ad_checkpoint.checkpoint_name

    pol = ft.checkpoint_policies.save_only_these_names("h")
    f = ft.checkpoint(lambda x: jnp.sum(jnp.cos(checkpoint_name(jnp.sin(x), "h"))), policy=pol)
    np.testing.assert_allclose(ft.grad(f)(np.ones(2)), -np.sin(np.sin(1.0)) * np.cos(1.0))


# (fixed: gmres reports 0, or -1 for a nan, as JAX)
def test_gmres_info_is_zero_as_jax():
    _, info = spl.gmres(np.array([[4.0, 1.0], [1.0, 3.0]]), np.ones(2))
    assert info is not None and int(info) == 0


# (fixed: the built-in ufuncs have identity and reduceat)
def test_builtin_ufunc_identity_and_reduceat():
    assert jnp.add.identity == 0 and jnp.multiply.identity == 1
    np.testing.assert_allclose(jnp.maximum.reduceat(np.arange(4.0), np.array([0, 2])), [1, 3])


def test_stack_typed_keys():
    ks = ft.random.split(ft.random.key(0), 3)
    assert jnp.stack([ks[0], ks[2]]).shape == (2,)
    assert jnp.concatenate([ks, ks]).shape == (6,)


def test_eval_jaxpr():
    j = ft.make_jaxpr(jnp.sin)(np.ones(3))
    np.testing.assert_allclose(ft.core.eval_jaxpr(j.jaxpr, j.consts, np.ones(3))[0],
                               np.sin(np.ones(3)))
    # with constants and literals, under grad, vmap and jit
    j = ft.make_jaxpr(lambda x: jnp.sin(x) * np.arange(3.0) + 2.0)(np.ones(3))
    f = lambda x: ft.core.eval_jaxpr(j.jaxpr, j.consts, x)[0]  # noqa: E731
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(ft.grad(lambda x: f(x).sum())(x), np.cos(x) * np.arange(3.0))
    np.testing.assert_allclose(ft.vmap(f)(np.stack([x, x]))[1], np.sin(x) * np.arange(3) + 2)
    np.testing.assert_allclose(ft.jit(f)(x), np.sin(x) * np.arange(3.0) + 2.0)
    with pytest.raises(TypeError, match="constvars"):
        ft.core.eval_jaxpr(j.jaxpr, [], x)


def test_flatten_util():
    from functrans.flatten_util import ravel_pytree
    flat, unravel = ravel_pytree({"a": np.ones(2), "b": (np.zeros(1),)})
    np.testing.assert_array_equal(flat, [1.0, 1.0, 0.0])
    assert unravel(flat)["b"][0].shape == (1,)


# -- the programs -------------------------------------------------------------------------------


def _ls_loss(p, x, y):
    return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)


@partial(ft.pmap, axis_name="batch")
def _dp_update(p, x, y):
    """A data-parallel step: each shard's gradient, averaged with pmean."""
    loss, g = ft.value_and_grad(_ls_loss)(p, x, y)
    g = lax.pmean(g, axis_name="batch")
    return ft.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g), lax.pmean(loss, "batch")


def test_pmap_data_parallel_training():
    r = np.random.RandomState(1)
    x, y = r.randn(2, 5, 3), r.randn(2, 5, 2)
    w, b = r.randn(3, 2), np.zeros(2)
    rp = {"w": np.stack([w, w]), "b": np.stack([b, b])}
    for _ in range(3):
        rp, loss = _dp_update(rp, x, y)
        X, Y = x.reshape(10, 3), y.reshape(10, 2)                 # the full batch, by hand
        res = X @ w + b - Y
        np.testing.assert_allclose(loss, [np.mean(res ** 2)] * 2, atol=1e-12)
        w, b = w - 0.1 * 2 * X.T @ res / res.size, b - 0.1 * 2 * res.sum(0) / res.size
        np.testing.assert_allclose(rp["w"], np.stack([w, w]), atol=1e-12)


def _bn(x, gamma, beta):
    mean = lax.pmean(x, "b")
    var = lax.pmean((x - mean) ** 2, "b")
    return (x - mean) * lax.rsqrt(var + 1e-5) * gamma + beta   # (a tracer on the left of a
    #                                      plain array: array-api-strict refuses the other order)


def test_batch_norm_over_named_axis(backend):
    h, g, be = (backend.asarray(v) for v in (R.randn(6, 3), 1.3 + R.rand(3), R.randn(3)))
    out = ft.vmap(_bn, in_axes=(0, None, None), axis_name="b")(h, g, be)
    hn = backend.to_numpy(h)
    ref = (backend.to_numpy(g) * (hn - hn.mean(0)) / np.sqrt(hn.var(0) + 1e-5)
           + backend.to_numpy(be))
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), ref, atol=1e-12)
    check_grads(lambda h, g: jnp.sum(jnp.tanh(ft.vmap(_bn, in_axes=(0, None, None),
                                                      axis_name="b")(h, g, be))),
                (h, g), order=1)


def _ring_allreduce(x):
    n = lax.psum(1, "r")
    perm = [(i, (i + 1) % n) for i in range(n)]
    acc = x
    for _ in range(n - 1):
        x = lax.ppermute(x, "r", perm)
        acc = acc + x
    return acc


def test_ring_allreduce_with_ppermute():
    xs = np.arange(12.0).reshape(4, 3) ** 1.5
    np.testing.assert_allclose(ft.pmap(_ring_allreduce, axis_name="r")(xs),
                               np.broadcast_to(xs.sum(0), xs.shape), atol=1e-12)
    g = ft.grad(lambda xs: jnp.sum(jnp.sin(ft.vmap(_ring_allreduce, axis_name="r")(xs))))(xs)
    np.testing.assert_allclose(g, np.broadcast_to(4 * np.cos(xs.sum(0)), xs.shape), atol=1e-12)


def test_dp_sgd_clipped_per_example_gradients():
    r = np.random.RandomState(3)
    x, y, w = r.randn(8, 4), np.sign(r.randn(8)), r.randn(4)

    def loss(w, x, y):
        return jnp.log1p(jnp.exp(-y * jnp.dot(x, w)))

    def clipped(w, x, y, c=0.5):
        g = ft.grad(loss)(w, x, y)
        g = g / jnp.maximum(1.0, jnp.linalg.norm(g) / c)
        return lax.psum(g, "ex") / lax.psum(1.0, "ex")
    got = ft.vmap(clipped, in_axes=(None, 0, 0), axis_name="ex")(w, x, y)
    pe = (-y * sps.expit(-y * (x @ w)))[:, None] * x                # per-example, closed form
    pe = pe / np.maximum(1.0, np.linalg.norm(pe, axis=1, keepdims=True) / 0.5)
    np.testing.assert_allclose(got, np.broadcast_to(pe.mean(0), (8, 4)), atol=1e-12)


def _key_step(carry, _):
    key, w = carry
    key, sub = ft.random.split(key)
    x = ft.random.normal(sub, (4, 3))
    y = x @ jnp.asarray(np.array([1.0, -2.0, 0.5]))
    loss = lambda w: jnp.mean((x @ w - y) ** 2)  # noqa: E731
    return (key, w - 0.1 * ft.grad(loss)(w)), loss(w)


def test_typed_key_training_loop_through_scan_and_jit():
    (k, w), losses = ft.jit(lambda k, w: lax.scan(_key_step, (k, w), None, length=4))(
        ft.random.key(42), np.zeros(3))
    # pinned from JAX 0.10 (jax.random.key(42), x64)
    np.testing.assert_allclose(w, [0.816437596885262, -0.9148005093270345, 0.10831093137654377],
                               rtol=1e-12)
    np.testing.assert_allclose(losses, [6.869771156613927, 1.0951132736076583,
                                        1.4726436146313175, 1.8750651418342226], rtol=1e-12)
    assert ft.random.key_data(k).tolist() == [2852371275, 1535037118]
    carry = (ft.random.key(42), np.zeros(3))       # the same loop in Python, eagerly
    for _ in range(4):
        carry, _ = _key_step(carry, None)
    np.testing.assert_allclose(carry[1], w, atol=1e-13)


def _rbf(ls, x):
    d = x[:, None] - x[None, :]
    return jnp.exp(-0.5 * d ** 2 / ls ** 2) + 0.1 * jnp.eye(x.shape[0])


def _gp_fit(ls, x, y):
    k = _rbf(ls, x)
    alpha, _ = spl.cg(lambda v: k @ v, y, tol=1e-14, atol=0.0, maxiter=200)
    return 0.5 * y @ alpha


def test_gp_solve_with_cg_and_its_gradient():
    x = np.linspace(0, 3, 7)
    y = np.sin(x)
    k = np.exp(-0.5 * (x[:, None] - x) ** 2 / 0.49) + 0.1 * np.eye(7)
    a = np.linalg.solve(k, y)
    np.testing.assert_allclose(_gp_fit(0.7, x, y), 0.5 * y @ a, rtol=1e-10)
    dk = (k - 0.1 * np.eye(7)) * (x[:, None] - x) ** 2 / 0.7 ** 3
    np.testing.assert_allclose(ft.grad(_gp_fit)(0.7, x, y), -0.5 * a @ dk @ a, rtol=1e-8)
    np.testing.assert_allclose(ft.jit(ft.grad(_gp_fit, 2))(0.7, x, y), a, rtol=1e-8)


def test_implicit_layer_with_gmres_and_poisson_with_bicgstab(backend):
    W = backend.asarray(R.randn(5, 5) * 0.15)
    x = backend.asarray(R.randn(5))

    def layer(W, x):     # z = W z + x, matrix-free
        return spl.gmres(lambda z: z - jnp.matmul(W, z), x, tol=1e-13, atol=0.0, restart=6)[0]
    Wn, xn = backend.to_numpy(W), backend.to_numpy(x)
    m = np.eye(5) - Wn
    z = np.linalg.solve(m, xn)
    got = layer(W, x)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), z, atol=1e-10)
    gW = ft.grad(lambda W: jnp.sum(layer(W, x) ** 2))(W)
    np.testing.assert_allclose(backend.to_numpy(gW), np.outer(np.linalg.solve(m.T, 2 * z), z),
                               atol=1e-9)

    def poisson(f):
        def lap(u):
            up = jnp.pad(u, 1)
            return 2 * u - up[:-2] - up[2:]
        return spl.bicgstab(lap, f, tol=1e-13, atol=0.0, maxiter=100)[0]
    f = np.sin(np.linspace(0, 3, 8))
    T = 2 * np.eye(8) - np.eye(8, k=1) - np.eye(8, k=-1)
    np.testing.assert_allclose(poisson(f), np.linalg.solve(T, f), atol=1e-10)
    np.testing.assert_allclose(ft.grad(lambda f: jnp.sum(poisson(f) ** 3))(f),
                               np.linalg.solve(T, 3 * np.linalg.solve(T, f) ** 2), atol=1e-9)


def test_sparse_matvec_and_embeddings_by_scatter_and_gather():
    rows, cols = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 2, 1, 0, 1, 2])
    data, x = np.arange(1.0, 7.0), np.array([0.5, -1.0, 2.0])
    dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=(0,))

    def spmv(data, x):
        return lax.scatter_add(jnp.zeros(3), rows[:, None], data * jnp.take(x, cols), dn)
    import scipy.sparse as ss
    S = ss.csr_matrix((data, (rows, cols)), shape=(3, 3))
    np.testing.assert_allclose(spmv(data, x), S @ x, atol=1e-14)
    np.testing.assert_allclose(ft.ops.segment_sum(data * x[cols], rows, num_segments=3), S @ x)
    gd, gx = ft.grad(lambda d, x: jnp.sum(spmv(d, x) ** 2), (0, 1))(data, x)
    r = 2 * (S @ x)
    np.testing.assert_allclose(gx, S.T @ r, atol=1e-12)
    np.testing.assert_allclose(gd, r[rows] * x[cols], atol=1e-12)
    table, ids = np.arange(12.0).reshape(4, 3), np.array([3, 0, 3])
    gdn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
                                     start_index_map=(0,))

    def embed(t, ids):
        return lax.gather(t, ids[:, None], gdn, slice_sizes=(1, 3))
    np.testing.assert_allclose(ft.jit(embed)(table, ids), table[ids])
    ref = np.zeros_like(table)
    np.add.at(ref, ids, np.cos(table[ids]))
    np.testing.assert_allclose(ft.grad(lambda t: jnp.sum(jnp.sin(embed(t, ids))))(table), ref,
                               atol=1e-14)


@ft.custom_jvp
def _kv(v, x):
    return ft.pure_callback(lambda v, x: np.asarray(sps.kv(v, x), dtype=x.dtype),
                            ft.ShapeDtypeStruct(jnp.shape(x), jnp.result_type(x)), v, x,
                            vmap_method="broadcast_all")


@_kv.defjvp
def _kv_jvp(primals, tangents):
    v, x = primals
    return _kv(v, x), -0.5 * (_kv(v - 1, x) + _kv(v + 1, x)) * tangents[1]


def test_pure_callback_around_scipy_with_custom_jvp():
    x = np.array([0.3, 1.0, 2.5])
    matern = lambda x: x ** 1.5 * _kv(1.5, x)  # noqa: E731
    np.testing.assert_allclose(ft.jit(matern)(x), x ** 1.5 * sps.kv(1.5, x), rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(ft.grad(matern))(x),
                               1.5 * x ** 0.5 * sps.kv(1.5, x) + x ** 1.5 * sps.kvp(1.5, x),
                               rtol=1e-12)
    np.testing.assert_allclose(ft.grad(ft.grad(lambda t: _kv(0.5, t)))(1.2),
                               sps.kvp(0.5, 1.2, n=2), rtol=1e-12)


def test_make_jaxpr_inspection():
    jx = ft.make_jaxpr(lambda x, y: jnp.sum(jnp.sin(x) * y))(np.ones(3), np.ones(3))
    assert [e.primitive.name for e in jx.jaxpr.eqns] == ["sin", "mul", "reduce_sum"]
    assert [v.aval.shape for v in jx.jaxpr.invars] == [(3,), (3,)]
    assert jx.out_avals[0].shape == () and jx.jaxpr.eqns[-1].params["axes"] == (0,)
    text = str(ft.make_jaxpr(ft.grad(lambda x: jnp.sum(jnp.sin(x))))(np.ones(3)))
    assert "cos" in text and text.startswith("{ lambda")


def test_checkpoint_policies_in_a_deep_mlp():
    ws, x = R.randn(4, 3, 3) * 0.5, R.randn(2, 3)

    def mlp(ws, x, policy):
        for w in ws:
            x = ft.checkpoint(lambda w, x: jnp.tanh(x @ w), policy=policy)(w, x)
        return jnp.sum(x ** 2)
    cp = ft.checkpoint_policies
    ref = ft.grad(lambda ws: mlp(ws, x, None))(list(ws))
    for pol in (cp.nothing_saveable, cp.everything_saveable, cp.dots_saveable,
                cp.dots_with_no_batch_dims_saveable):
        close(ft.grad(mlp)(list(ws), x, pol), ref, tol=1e-13)

    @partial(ft.checkpoint, policy=cp.dots_with_no_batch_dims_saveable)
    def body(x, w):
        return jnp.tanh(x @ w), None
    close(ft.jit(ft.grad(lambda ws: jnp.sum(lax.scan(body, x, ws)[0] ** 2)))(ws),
          np.stack(ref), tol=1e-13)
    check_grads(lambda w: mlp([w, w], x, cp.nothing_saveable), (ws[0],), order=2)


def test_custom_gradient_clipping_and_custom_vmap():
    @ft.custom_gradient
    def clip_gradient(x):
        return x, lambda g: (jnp.clip(g, -1.0, 1.0),)
    x = np.array([0.5, -3.0, 2.0])
    np.testing.assert_allclose(ft.grad(lambda x: jnp.sum(clip_gradient(x) ** 3))(x),
                               np.clip(3 * x ** 2, -1, 1))

    @ft.custom_batching.custom_vmap
    def total(x):
        return jnp.sum(x)

    @total.def_vmap
    def _(axis_size, in_batched, xs):
        calls.append(in_batched)
        return jnp.sum(xs, axis=1) if in_batched[0] else \
            jnp.broadcast_to(jnp.sum(xs), (axis_size,)), True
    calls = []
    np.testing.assert_allclose(ft.jit(ft.vmap(total))(np.arange(6.0).reshape(3, 2)), [1, 5, 9])
    assert calls == [[True]]


@dataclasses.dataclass
class _State:
    w: object
    step: object
    lr: float = dataclasses.field(default=0.1, metadata=dict(static=True))


ft.tree_util.register_dataclass(_State)


def test_dataclass_train_state_through_jit():
    @ft.jit
    def update(s):
        g = ft.grad(lambda w: jnp.sum(w ** 2))(s.w)
        return _State(s.w - s.lr * g, s.step + 1, s.lr)
    s = _State(np.ones(2), np.array(0))
    for _ in range(3):
        s = update(s)
    np.testing.assert_allclose(s.w, 0.8 ** 3 * np.ones(2))
    assert int(s.step) == 3


def test_programs_against_jax():
    """The ring all-reduce above, the same source run by JAX (pmap on one CPU device is
    refused by JAX for several members, so its vmap stands in), differentiated."""
    jax = _jax()
    jj = jax.numpy
    xs = np.arange(12.0).reshape(4, 3) ** 1.5

    def ring(psum, ppermute, np_):
        def f(x):
            n = psum(1, "r")
            acc = x
            for _ in range(n - 1):
                x = ppermute(x, "r", [(i, (i + 1) % n) for i in range(n)])
                acc = acc + x
            return np_.sin(acc) * x
        return f
    close(jax.grad(lambda a: jj.sum(jax.vmap(ring(jax.lax.psum, jax.lax.ppermute, jj),
                                             axis_name="r")(a)))(xs),
          ft.grad(lambda a: jnp.sum(ft.vmap(ring(lax.psum, lax.ppermute, jnp),
                                            axis_name="r")(a)))(xs))
