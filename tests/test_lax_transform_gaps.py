"""functrans.lax under transforms where it used to refuse: ``polygamma`` with an order ``m``
traced by ``jit``, ``bitcast_convert_type`` under ``vmap`` and ``jit`` (and its derivative),
and the list results of ``lax.linalg.lu``, ``schur``, ``hessenberg`` and ``tridiagonal`` (as
JAX's: a list, not a tuple, which matters for tree structures and ``out_axes``).

References are SciPy/NumPy values, NumPy's own bit views and finite differences
(``check_grads``); the comparisons with JAX 0.10 are skipped where JAX is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.testing import check_grads

# x below 0 (non-integer), near 0 and large; each order m = 0..4 at every x
_X = np.array([-2.5, -0.3, 0.2, 1.5, 7.0, 30.0])
_M = np.arange(5.0)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- polygamma with a traced order --------------------------------------------------------------


def test_polygamma_order_traced_by_jit_matches_scipy(backend):
    m = np.repeat(_M, _X.size)
    x = np.tile(_X, _M.size)
    got = ft.jit(lax.polygamma)(backend.asarray(m), backend.asarray(x))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), sps.polygamma(m.astype(int), x),
                               rtol=1e-12)
    # the same values as the concrete-order path, which computes each order by SciPy's
    np.testing.assert_allclose(backend.to_numpy(got),
                               backend.to_numpy(lax.polygamma(backend.asarray(m),
                                                              backend.asarray(x))),
                               rtol=1e-12)


def test_polygamma_traced_order_edges_and_dtype(backend):
    # nan for a negative or non-integral order (as the concrete path), whatever the branch
    m = backend.asarray([-1.0, 0.5, 2.5, 0.0, 1.0])
    x = backend.asarray([1.5, 1.5, 1.5, 1.0, 1.0])
    got = backend.to_numpy(ft.jit(lax.polygamma)(m, x))
    np.testing.assert_array_equal(np.isnan(got), [True, True, True, False, False])
    np.testing.assert_allclose(got[3:], [-np.euler_gamma, np.pi ** 2 / 6], rtol=1e-13)
    m32, x32 = backend.asarray([1.0, 3.0], "float32"), backend.asarray([0.5, 4.0], "float32")
    got32 = ft.jit(lax.polygamma)(m32, x32)
    assert backend.to_numpy(got32).dtype == np.float32
    np.testing.assert_allclose(backend.to_numpy(got32), sps.polygamma([1, 3], [0.5, 4.0]),
                               rtol=1e-6)


def test_polygamma_traced_order_derivative_in_x(backend):
    x = backend.asarray([-0.3, 0.7, 2.5])
    for order in (0.0, 1.0, 3.0):
        m = backend.asarray([order] * 3)

        def f(x, m=m):
            return ft.jit(lax.polygamma)(m, x)
        check_grads(f, (x,), order=1)
        # d/dx psi^(m) = psi^(m+1), from SciPy
        got = ft.jit(ft.grad(lambda x, m: lax.polygamma(m, x).sum()))(x, m)
        np.testing.assert_allclose(backend.to_numpy(got),
                                   sps.polygamma(int(order) + 1, [-0.3, 0.7, 2.5]), rtol=1e-9)


def test_polygamma_derivative_in_order_is_refused_as_jax():
    for wrap in (lambda f: f, ft.jit):
        with pytest.raises(ValueError, match="derivative with respect to the order m"):
            wrap(ft.grad(lambda m: lax.polygamma(m, 1.5)))(2.0)
    # stop_gradient on m: differentiable in x alone, zero in m (m is then a constant)
    g = ft.grad(lambda m, x: lax.polygamma(lax.stop_gradient(m), x), argnums=(0, 1))(2.0, 1.5)
    np.testing.assert_allclose([float(g[0]), float(g[1])], [0.0, sps.polygamma(3, 1.5)],
                               rtol=1e-12)


def test_polygamma_batched_traced_order(backend):
    # vmap inside jit: the members' orders are traced; in_axes on both operands
    m = backend.asarray(np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 1.0]]))
    x = backend.asarray(np.array([[0.5, 2.0, 7.0], [-1.5, 3.0, 0.25]]))
    got = ft.jit(ft.vmap(lax.polygamma, in_axes=(1, 0), out_axes=1))(m, x.T)
    want = sps.polygamma(np.array([[0, 1, 2], [3, 4, 1]]),
                         np.array([[0.5, 2.0, 7.0], [-1.5, 3.0, 0.25]]))
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12)


def test_polygamma_traced_order_matches_jax():
    jax = _jax()
    m = np.repeat(_M, 4)
    x = np.tile(np.array([0.2, 1.5, 7.0, 30.0]), _M.size)
    want = jax.jit(jax.lax.polygamma)(m, x)
    np.testing.assert_allclose(ft.jit(lax.polygamma)(m, x), want, rtol=1e-10)


# -- bitcast_convert_type under transforms -------------------------------------------------------


def test_bitcast_under_vmap_keeps_the_batch_axis(backend):
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    bx = backend.asarray(x)
    narrow = ft.vmap(lambda v: lax.bitcast_convert_type(v, "int32"), in_axes=1)(bx)
    assert tuple(narrow.shape) == (3, 2, 2)  # batch first, then the new trailing axis
    np.testing.assert_array_equal(backend.to_numpy(narrow),
                                  np.moveaxis(x.view(np.int32).reshape(2, 3, 2), 1, 0))
    kept = ft.vmap(lambda v: lax.bitcast_convert_type(v, "int32"), in_axes=1, out_axes=1)(bx)
    np.testing.assert_array_equal(backend.to_numpy(kept), x.view(np.int32).reshape(2, 3, 2))
    # to a wider dtype (the trailing axis consumed), under jit of vmap
    bits = backend.asarray(x.view(np.uint32).reshape(2, 3, 2), "uint32")
    wide = ft.jit(ft.vmap(lambda v: lax.bitcast_convert_type(v, "float64")))(bits)
    assert backend.is_own(wide)
    np.testing.assert_array_equal(backend.to_numpy(wide), x)
    # same width, batch of scalars
    same = ft.vmap(lambda v: lax.bitcast_convert_type(v, "uint64"))(backend.asarray(x[0]))
    np.testing.assert_array_equal(backend.to_numpy(same), x[0].view(np.uint64))


def test_bitcast_under_jit_and_errors(backend):
    x = np.array([1.5, -0.0, np.inf])
    got = ft.jit(lambda v: lax.bitcast_convert_type(v, "int64"))(backend.asarray(x))
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), x.view(np.int64))
    with pytest.raises(ValueError, match="last axis must have size 2"):
        ft.jit(lambda v: lax.bitcast_convert_type(v, "float64"))(
            backend.asarray(np.ones(3), "int32"))


def test_bitcast_derivatives():
    x = np.array([1.5, -2.0, 0.25])
    # an integer result carries no tangent: a function using it beside x differentiates
    f = lambda v: fnp.sum(lax.bitcast_convert_type(v, "int64") > 0) * v  # noqa: E731
    check_grads(f, (x,), order=1)
    # the same dtype is the identity, and so is its derivative
    check_grads(lambda v: lax.bitcast_convert_type(v, "float64") ** 2, (x,), order=2)
    # reading the bits as another floating dtype has no derivative: refused (JAX: zero)
    for transform in (ft.grad, lambda f: ft.jit(ft.grad(f))):
        with pytest.raises(ValueError, match="no derivative from float64 to float32"):
            transform(lambda v: fnp.sum(lax.bitcast_convert_type(v, "float32")))(x)
    # a derivative with respect to another argument is unaffected
    out, tan = ft.jvp(lambda a, v: a * lax.bitcast_convert_type(v, "int64")[0], (2.0, x),
                      (1.0, np.zeros_like(x)))
    assert float(tan) == float(x.view(np.int64)[0])


def test_bitcast_under_vmap_matches_jax():
    jax = _jax()
    x = np.linspace(-2.0, 3.0, 6).reshape(2, 3)
    for dt, axes in (("int32", 1), ("uint16", 0), ("int64", 1)):
        want = jax.vmap(lambda v: jax.lax.bitcast_convert_type(v, dt), in_axes=axes)(x)
        got = ft.vmap(lambda v: lax.bitcast_convert_type(v, dt), in_axes=axes)(x)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# -- lax.linalg result containers -------------------------------------------------------------

_A = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 0.5], [2.0, 0.5, 5.0]])
# (name, call, the container JAX 0.10 returns, how many results)
_CONTAINERS = [
    ("lu", lambda L, a: L.lu(a), list, 3),
    ("schur", lambda L, a: L.schur(a), list, 2),
    ("schur_t", lambda L, a: L.schur(a, compute_schur_vectors=False), list, 1),
    ("hessenberg", lambda L, a: L.hessenberg(a), list, 2),
    ("tridiagonal", lambda L, a: L.tridiagonal(a), list, 4),
    ("tridiagonal_upper", lambda L, a: L.tridiagonal(a, lower=False), list, 4),
    ("eig", lambda L, a: L.eig(a), list, 3),
    ("qr", lambda L, a: L.qr(a), tuple, 2),
    ("eigh", lambda L, a: L.eigh(a), tuple, 2),
    ("svd", lambda L, a: L.svd(a), tuple, 3),
    ("qdwh", lambda L, a: L.qdwh(a), tuple, 4),
]


@pytest.mark.parametrize("name,call,kind,n", _CONTAINERS, ids=[c[0] for c in _CONTAINERS])
def test_linalg_result_containers(name, call, kind, n):
    out = call(lax.linalg, _A)
    assert type(out) is kind and len(out) == n
    if name == "lu":  # and the values are still the factorization: x[perm] = L U
        lu, _, perm = out
        low = np.tril(lu, -1) + np.eye(3)
        np.testing.assert_allclose(low @ np.triu(lu), _A[perm], rtol=1e-13)


def test_linalg_list_results_under_vmap_and_out_axes(backend):
    a = backend.asarray(np.stack([_A, _A + np.eye(3)]))
    out = ft.vmap(lax.linalg.hessenberg, out_axes=[0, 1])(a)
    assert type(out) is list and tuple(out[1].shape) == (2, 2)
    for k in range(2):
        h, taus = lax.linalg.hessenberg(a[k, ...])
        np.testing.assert_allclose(backend.to_numpy(out[0])[k], backend.to_numpy(h),
                                   rtol=1e-13)
        np.testing.assert_allclose(backend.to_numpy(out[1])[:, k], backend.to_numpy(taus),
                                   rtol=1e-13)


def test_linalg_result_containers_match_jax():
    jax = _jax()
    for name, call, kind, n in _CONTAINERS:
        want = call(jax.lax.linalg, _A)
        assert type(want) is kind and len(want) == n, name
