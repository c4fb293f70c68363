"""functrans.experimental.sparse's products of two BCOOs and its structural operations
(concatenate, slice, dynamic_slice, reshape, squeeze): values against the dense computation
in NumPy, derivatives with respect to data numerically, jit and vmap, errors, and results in
the inputs' library."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.experimental import sparse
from functrans.testing import check_grads

_RNG = np.random.default_rng(7)
_X = _RNG.normal(size=(2, 3, 4)) * (_RNG.random((2, 3, 4)) < 0.5)
_Y = _RNG.normal(size=(2, 4, 5)) * (_RNG.random((2, 4, 5)) < 0.5)
# entries at a repeated position, outside the array, and at a negative index
_MIXED = sparse.BCOO((np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
                      np.array([[0, 1], [-1, 0], [5, 0], [1, -3], [0, 1]], np.int32)),
                     shape=(3, 4))
_MIXED_DENSE = np.array([[0.0, 6.0, 0.0, 0.0], [0.0, 4.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]])


def _close(backend, got, want):
    got = got.todense() if isinstance(got, sparse.BCOO) else got
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13, atol=1e-14)


def test_mixed_fixture_is_what_it_says():
    np.testing.assert_array_equal(_MIXED.todense(), _MIXED_DENSE)


def test_sparse_sparse_products_on_every_backend(backend):
    x, y = backend.asarray(_X[0]), backend.asarray(_Y[0])
    a, b = sparse.BCOO.fromdense(x), sparse.BCOO.fromdense(y)
    c = a @ b
    # one entry per pair, or per position where there are fewer (JAX 0.10's nse, checked
    # there: its sparse products and slices compile for seconds, too long for this suite)
    assert isinstance(c, sparse.BCOO) and c.nse == min(a.nse * b.nse, 15)
    assert backend.is_own(c.data) and backend.is_own(c.indices)
    _close(backend, c, _X[0] @ _Y[0])
    _close(backend, a.T @ a, _X[0].T @ _X[0])
    _close(backend, a * sparse.BCOO.fromdense(backend.xp.flip(x, axis=0)), _X[0] * _X[0][::-1])
    _close(backend, (a * a).sum_duplicates(), _X[0] ** 2)
    s = sparse.BCOO.fromdense(backend.asarray(_X), n_batch=1)
    t = sparse.BCOO.fromdense(backend.asarray(_Y), n_batch=1)
    dn = (((2,), (1,)), ((0,), (0,)))
    got = sparse.bcoo_dot_general(s, t, dimension_numbers=dn)
    assert got.n_batch == 1 and got.shape == (2, 3, 5)
    _close(backend, got, np.einsum("bij,bjk->bik", _X, _Y))
    _close(backend, s @ b, _X @ _Y[0])  # (the left operand's batch dimensions in front)


def test_sparse_sparse_product_shapes_and_odd_indices():
    full = sparse.bcoo_dot_general(sparse.BCOO.fromdense(_X), sparse.BCOO.fromdense(_Y),
                                   dimension_numbers=(((0, 2), (0, 1)), ((), ())))
    np.testing.assert_allclose(full.todense(), np.tensordot(_X, _Y, ((0, 2), (0, 1))),
                               rtol=1e-13)
    vec = sparse.BCOO.fromdense(_X[0, 0])
    dot = sparse.bcoo_dot_general(vec, vec, dimension_numbers=(((0,), (0,)), ((), ())))
    assert dot.shape == () and isinstance(dot, sparse.BCOO)
    np.testing.assert_allclose(dot.todense(), _X[0, 0] @ _X[0, 0], rtol=1e-13)
    # entries outside the array match nothing; repeated and negative ones count
    np.testing.assert_allclose((_MIXED.T @ _MIXED).todense(), _MIXED_DENSE.T @ _MIXED_DENSE)
    np.testing.assert_allclose((_MIXED @ _MIXED.T).todense(), _MIXED_DENSE @ _MIXED_DENSE.T)
    sq = _MIXED * _MIXED
    assert sq.nse == 25  # (one entry per pair, as JAX's)
    np.testing.assert_allclose(sq.todense(), _MIXED_DENSE ** 2)  # ((1 + 5)**2 at (0, 1))
    # with preferred_element_type and under sparsify
    p = sparse.bcoo_dot_general(_MIXED.T, _MIXED, dimension_numbers=(((1,), (0,)), ((), ())),
                                preferred_element_type=np.float32)
    assert p.dtype == np.float32
    f = sparse.sparsify(lambda a, b: (a @ b) * 2.0)
    out = f(sparse.BCOO.fromdense(_X[0]), sparse.BCOO.fromdense(_Y[0]))
    assert isinstance(out, sparse.BCOO)
    np.testing.assert_allclose(out.todense(), 2 * _X[0] @ _Y[0], rtol=1e-13)


def test_sparse_sparse_derivatives_jit_and_vmap():
    a, b = sparse.BCOO.fromdense(_X[0]), sparse.BCOO.fromdense(_Y[0])

    def f(da, db):
        left = sparse.BCOO((da, a.indices), shape=a.shape)
        right = sparse.BCOO((db, b.indices), shape=b.shape)
        return fnp.sum(fnp.sin((left @ right).todense())) + fnp.sum((left * left).data)
    check_grads(f, (a.data, b.data), order=2)
    check_grads(ft.jit(f), (a.data, b.data), order=1)
    g = ft.grad(lambda a: fnp.sum((a @ b).todense() ** 2))(a)
    dense = ft.grad(lambda x: fnp.sum((x @ _Y[0]) ** 2))(_X[0])
    np.testing.assert_allclose(g.data, np.asarray(dense)[_X[0] != 0], rtol=1e-13)
    np.testing.assert_allclose(ft.jit(lambda a, b: (a @ b).todense())(a, b), _X[0] @ _Y[0],
                               rtol=1e-13)
    stacked = sparse.BCOO.fromdense(_X, n_batch=1)
    np.testing.assert_allclose(ft.vmap(lambda s: (s @ b).todense())(stacked), _X @ _Y[0],
                               rtol=1e-13)


def test_sparse_sparse_errors():
    a = sparse.BCOO.fromdense(_X[0])
    with pytest.raises(ValueError, match=r"dimension 1 of the sparse operand \(4\) and "
                                         r"dimension 0 of the other sparse one \(3\)"):
        a @ a
    s = sparse.BCOO.fromdense(_X, n_batch=1)
    with pytest.raises(NotImplementedError, match="right operand must have n_batch=0"):
        sparse.bcoo_dot_general(a.T, s, dimension_numbers=(((1,), (1,)), ((), ())))
    with pytest.raises(NotImplementedError, match="exactly each operand's n_batch"):
        sparse.bcoo_dot_general(s, sparse.BCOO.fromdense(_Y), dimension_numbers=(
            ((2,), (1,)), ((0,), (0,))))
    with pytest.raises(ValueError, match="one shape and n_batch"):
        s * sparse.BCOO.fromdense(_X)
    with pytest.raises(TypeError, match="both operands must be BCOOs"):
        sparse.bcoo_multiply_sparse(a, _X[0])


@pytest.mark.parametrize("n_batch", [0, 1])
def test_structural_operations_against_dense(n_batch):
    a = sparse.BCOO.fromdense(_X, n_batch=n_batch)
    for dim in range(3):
        other = _X[:1] if dim == 0 else 2.0 * _X
        got = sparse.bcoo_concatenate([a, sparse.BCOO.fromdense(other, n_batch=n_batch)],
                                      dimension=dim)
        assert got.n_batch == n_batch
        np.testing.assert_array_equal(got.todense(), np.concatenate([_X, other], axis=dim))
    s = sparse.bcoo_slice(a, start_indices=(1, 0, 1), limit_indices=(2, 3, 4),
                          strides=(1, 2, 2))
    assert s.shape == (1, 2, 2) and s.nse == min(a.nse, 4) and s.n_batch == n_batch
    np.testing.assert_array_equal(s.todense(), _X[1:2, 0:3:2, 1:4:2])
    for starts in [(1, -2, 3), (0, 1, 1), (5, 5, 5)]:  # (negative and clamped starts)
        d = sparse.bcoo_dynamic_slice(a, starts, (1, 2, 2))
        np.testing.assert_array_equal(d.todense(), lax.dynamic_slice(_X, starts, (1, 2, 2)))
    for new in [(2, 12), (2, 3, 2, 2), (2, 4, 3)]:
        r = sparse.bcoo_reshape(a, new_sizes=new)
        assert r.nse == a.nse and r.n_batch == n_batch
        np.testing.assert_array_equal(r.todense(), _X.reshape(new))
    sq = sparse.bcoo_squeeze(sparse.bcoo_slice(a, start_indices=(1, 0, 2),
                                               limit_indices=(2, 3, 3)), dimensions=(0, -1))
    assert sq.shape == (3,)
    np.testing.assert_array_equal(sq.todense(), _X[1, :, 2])


def test_structural_operations_with_odd_indices():
    m, w = _MIXED, _MIXED_DENSE
    for dim in (0, 1):  # an entry outside an operand must not land in its neighbour
        np.testing.assert_array_equal(sparse.bcoo_concatenate([m, 2.0 * m], dimension=dim)
                                      .todense(), np.concatenate([w, 2 * w], axis=dim))
    np.testing.assert_array_equal(
        sparse.bcoo_slice(m, start_indices=(1, 0), limit_indices=(3, 4), strides=(1, 3))
        .todense(), w[1:3, 0:4:3])
    np.testing.assert_array_equal(sparse.bcoo_reshape(m, new_sizes=(6, 2)).todense(),
                                  w.reshape(6, 2))
    np.testing.assert_array_equal(sparse.bcoo_reshape(m, new_sizes=(2, 6), dimensions=(1, 0))
                                  .todense(), w.T.reshape(2, 6))
    col = sparse.BCOO((np.array([1.0, 2.0, 4.0]), np.array([[0, 0], [1, -1], [2, 3]])),
                      shape=(3, 1))  # (index 3 along the size-1 dimension: outside)
    np.testing.assert_array_equal(sparse.bcoo_squeeze(col, dimensions=(1,)).todense(),
                                  [1.0, 2.0, 0.0])
    one = sparse.BCOO((np.array([1.0, 2.0]), np.array([[0], [1]])), shape=(1,))
    np.testing.assert_array_equal(sparse.bcoo_squeeze(one, dimensions=(0,)).todense(), 1.0)


def test_structural_operations_on_every_backend(backend):
    a = sparse.BCOO.fromdense(backend.asarray(_X[0]))
    for got, want in [
            (sparse.bcoo_concatenate([a, a], dimension=1), np.concatenate([_X[0]] * 2, 1)),
            (sparse.bcoo_slice(a, start_indices=(1, 1), limit_indices=(3, 4)), _X[0][1:, 1:]),
            (sparse.bcoo_dynamic_slice(a, (1, 2), (2, 2)), _X[0][1:, 2:]),
            (sparse.bcoo_reshape(a, new_sizes=(4, 3)), _X[0].reshape(4, 3)),
            (sparse.bcoo_squeeze(sparse.bcoo_reshape(a, new_sizes=(1, 12)), dimensions=(0,)),
             _X[0].reshape(12))]:
        assert backend.is_own(got.data) and backend.is_own(got.indices)
        _close(backend, got, want)


def test_structural_derivatives_jit_and_vmap():
    m = _MIXED

    def f(d, start):
        a = sparse.BCOO((d, m.indices), shape=m.shape)
        joined = sparse.bcoo_concatenate([a, 2.0 * a], dimension=1)
        part = sparse.bcoo_dynamic_slice(joined, (0, start), (3, 5))
        flat = sparse.bcoo_reshape(sparse.bcoo_slice(part, start_indices=(0, 1),
                                                     limit_indices=(3, 5)), new_sizes=(1, 12))
        return fnp.sum(fnp.sin(sparse.bcoo_squeeze(flat, dimensions=(0,)).todense()))
    check_grads(lambda d: f(d, 2), (m.data,), order=2)
    jf = ft.jit(f)
    check_grads(lambda d: jf(d, 2), (m.data,), order=1)
    np.testing.assert_allclose(jf(m.data, 2), f(m.data, 2), rtol=1e-14)
    np.testing.assert_allclose(jf(m.data, 1), f(m.data, 1), rtol=1e-14)  # (traced start)
    stacked = sparse.BCOO.fromdense(_X, n_batch=1)
    np.testing.assert_array_equal(
        ft.vmap(lambda s: sparse.bcoo_slice(s, start_indices=(1, 0), limit_indices=(3, 3))
                .todense())(stacked), _X[:, 1:, :3])
    np.testing.assert_array_equal(
        ft.vmap(lambda s: sparse.bcoo_reshape(s, new_sizes=(6, 2)).todense())(stacked),
        _X.reshape(2, 6, 2))


def test_structural_errors():
    a = sparse.BCOO.fromdense(_X[0])
    with pytest.raises(ValueError, match=r"same shape but along dimension 0; got \(3, 4\)"):
        sparse.bcoo_concatenate([a, a.T], dimension=0)
    with pytest.raises(TypeError, match="sequence of BCOOs"):
        sparse.bcoo_concatenate([a, _X[0]], dimension=0)
    with pytest.raises(ValueError, match=r"slice 1:5:1 must have 0 <= start <= limit <= size"):
        sparse.bcoo_slice(a, start_indices=(0, 1), limit_indices=(3, 5))
    with pytest.raises(ValueError, match="need 2 entries each"):
        sparse.bcoo_slice(a, start_indices=(0,), limit_indices=(3,))
    with pytest.raises(ValueError, match="size 5 along axis 1 does not fit"):
        sparse.bcoo_dynamic_slice(a, (0, 0), (1, 5))
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(3, 4\)"):
        sparse.bcoo_reshape(a, new_sizes=(5, 2))
    with pytest.raises(NotImplementedError, match="leading new sizes must multiply to 2"):
        sparse.bcoo_reshape(sparse.BCOO.fromdense(_X, n_batch=1), new_sizes=(3, 8))
    with pytest.raises(ValueError, match="dimensions of size 1"):
        sparse.bcoo_squeeze(a, dimensions=(0,))



# dense dimensions: (2, 3, 4) sparse-and-batch positions, each holding a block of 2 values
_XD = _RNG.normal(size=(2, 3, 4, 2)) * (_RNG.random((2, 3, 4, 1)) < 0.5)


@pytest.mark.parametrize("n_batch", [0, 1])
def test_dense_dimensions_against_dense(n_batch):
    a = sparse.BCOO.fromdense(_XD, n_batch=n_batch, n_dense=1)
    assert a.n_dense == 1 and a.n_batch == n_batch and a.shape == _XD.shape
    assert a.data.shape == a.indices.shape[:-1] + (2,)
    np.testing.assert_array_equal(a.todense(), _XD)
    assert a.nse == max(np.count_nonzero(_XD[i].any(-1)) for i in range(2)) if n_batch else \
        np.count_nonzero(_XD.any(-1))  # (an entry per nonzero block, as in JAX)
    v, w = _RNG.normal(size=4), _RNG.normal(size=(5, 3))
    np.testing.assert_allclose(sparse.bcoo_dot_general(a, v, dimension_numbers=(
        ((2,), (0,)), ((), ()))), np.tensordot(_XD, v, ((2,), (0,))), rtol=1e-13)
    np.testing.assert_allclose(sparse.bcoo_dot_general(w, a, dimension_numbers=(
        ((1,), (1,)), ((), ()))), np.tensordot(w, _XD, ((1,), (1,))), rtol=1e-13)
    np.testing.assert_allclose((a * _XD).todense(), _XD ** 2, rtol=1e-14)
    np.testing.assert_array_equal((2.0 * a + a).todense(), 3 * _XD)
    np.testing.assert_array_equal(a.transpose((0, 2, 1, 3)).todense(), _XD.transpose(0, 2, 1, 3))
    for axes in [(3,), (1,), (0,), (0, 3), (2, 3)]:
        s = a.sum(axes)
        np.testing.assert_allclose(s.todense(), _XD.sum(axes), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(a.sum(), _XD.sum(), rtol=1e-14)
    np.testing.assert_array_equal(a.sum_duplicates().todense(), _XD)
    np.testing.assert_array_equal(a.sort_indices().todense(), _XD)
    picked = sparse.bcoo_extract(a, _XD * 10.0)
    np.testing.assert_array_equal(picked.todense(), _XD * 10.0)
    # slices and squeezes along every kind of dimension
    s = sparse.bcoo_slice(a, start_indices=(1, 0, 1, 1), limit_indices=(2, 3, 4, 2),
                          strides=(1, 2, 2, 1))
    assert s.n_dense == 1 and s.n_batch == n_batch
    np.testing.assert_array_equal(s.todense(), _XD[1:2, 0:3:2, 1:4:2, 1:2])
    d = sparse.bcoo_dynamic_slice(a, (1, -2, 3, 1), (1, 2, 2, 1))
    np.testing.assert_array_equal(d.todense(), lax.dynamic_slice(_XD, (1, -2, 3, 1), (1, 2, 2, 1)))
    traced = ft.jit(lambda a, i: sparse.bcoo_dynamic_slice(a, (i, 1, i, i), (1, 2, 2, 1))
                    .todense())(a, 1)
    np.testing.assert_array_equal(traced, _XD[1:2, 1:3, 1:3, 1:2])
    q = sparse.bcoo_squeeze(s, dimensions=(0, 3))
    assert q.shape == (2, 2) and q.n_dense == 0
    np.testing.assert_array_equal(q.todense(), _XD[1, 0:3:2, 1:4:2, 1])


def test_dense_dimensions_on_every_backend_and_transforms(backend):
    x = backend.asarray(_XD[0])
    a = sparse.BCOO.fromdense(x, n_dense=1)
    assert backend.is_own(a.data) and backend.is_own(a.indices)
    _close(backend, a, _XD[0])
    v = backend.asarray(_RNG.normal(size=4))
    got = sparse.bcoo_dot_general(a, v, dimension_numbers=(((1,), (0,)), ((), ())))
    _close(backend, got, np.tensordot(_XD[0], backend.to_numpy(v), ((1,), (0,))))
    _close(backend, ft.jit(lambda m: m.todense())(a), _XD[0])
    stacked = sparse.BCOO.fromdense(backend.asarray(_XD), n_batch=1, n_dense=1)
    _close(backend, ft.vmap(lambda m: m.sum(1).todense())(stacked), _XD.sum(2))


@pytest.mark.parametrize("n_batch", [0, 1])
def test_contracting_dense_dimensions(n_batch):
    a = sparse.BCOO.fromdense(_XD, n_batch=n_batch, n_dense=1)
    y = _RNG.normal(size=(4, 2, 5))
    for lc, rc in [((3,), (1,)), ((2, 3), (0, 1)), ((3, 2), (1, 0))]:
        got = sparse.bcoo_dot_general(a, y, dimension_numbers=((lc, rc), ((), ())))
        np.testing.assert_allclose(got, np.tensordot(_XD, y, (lc, rc)), rtol=1e-13)
    if n_batch:
        z = _RNG.normal(size=(2, 2, 7))
        got = sparse.bcoo_dot_general(a, z, dimension_numbers=(((3,), (1,)), ((0,), (0,))))
        np.testing.assert_allclose(got, np.einsum("bijk,bkl->bijl", _XD, z), rtol=1e-13)
    # a matrix whose rows are stored whole (n_dense=1): @ contracts its dense dimension
    rows = sparse.BCOO.fromdense(_XD[0, :, 0], n_dense=1)
    v = _RNG.normal(size=2)
    np.testing.assert_allclose(rows @ v, _XD[0, :, 0] @ v, rtol=1e-13)
    np.testing.assert_allclose(ft.jit(lambda m, v: m @ v)(rows, v), _XD[0, :, 0] @ v,
                               rtol=1e-13)
    check_grads(lambda d, v: fnp.sum(fnp.sin(sparse.BCOO((d, rows.indices),
                                                         shape=rows.shape) @ v)),
                (rows.data, v), order=2)


def test_dense_dimensions_derivatives_and_errors():
    a = sparse.BCOO.fromdense(_XD[0], n_dense=1)
    v = _RNG.normal(size=4)

    def f(d, v):
        m = sparse.BCOO((d, a.indices), shape=a.shape)
        y = sparse.bcoo_dot_general(m, v, dimension_numbers=(((1,), (0,)), ((), ())))
        return fnp.sum(fnp.sin(y)) + fnp.sum(m.sum(2).todense() ** 2)
    check_grads(f, (a.data, v), order=2)
    check_grads(ft.jit(f), (a.data, v), order=1)
    g = ft.grad(lambda m: fnp.sum(m.todense() ** 2))(a)
    assert isinstance(g, sparse.BCOO) and g.data.shape == a.data.shape
    np.testing.assert_allclose(g.data, 2 * a.data)
    with pytest.raises(NotImplementedError, match="each kind can only be permuted among"):
        a.T
    # (refused before session 29; more in tests/test_gaps_s29.py)
    w = _RNG.normal(size=(2, 5))
    np.testing.assert_allclose((a @ sparse.BCOO.fromdense(w)).todense(), _XD[0] @ w,
                               rtol=1e-13)
    np.testing.assert_array_equal(sparse.bcoo_concatenate([a, a], dimension=0).todense(),
                                  np.concatenate([_XD[0], _XD[0]]))
    np.testing.assert_array_equal(sparse.bcoo_reshape(a, new_sizes=(12, 2)).todense(),
                                  _XD[0].reshape(12, 2))


# -- BCSR ---------------------------------------------------------------------------------------

_M = np.array([[0.0, 1.5, 0.0, -2.0, 0.0],
               [0.0, 0.0, 0.0, 0.0, 0.0],
               [3.0, 0.0, 0.5, 1.0, 0.0],
               [0.0, 0.0, 0.0, 0.0, 4.0]])


def test_bcsr_layout_products_and_conversions(backend):
    x = backend.asarray(_M)
    m = sparse.BCSR.fromdense(x)
    assert m.shape == (4, 5) and m.nse == 6
    assert all(backend.is_own(a) for a in (m.data, m.indices, m.indptr))
    np.testing.assert_array_equal(backend.to_numpy(m.indptr), [0, 2, 2, 5, 6])  # (SciPy's)
    np.testing.assert_array_equal(backend.to_numpy(m.indices), [1, 3, 0, 2, 3, 4])
    _close(backend, m.todense(), _M)
    v, u = backend.asarray(np.arange(5.0)), backend.asarray(np.arange(4.0))
    _close(backend, m @ v, _M @ np.arange(5.0))
    assert isinstance(m.T, sparse.BCOO)  # (a BCOO, as the docs say)
    _close(backend, m.T @ u, _M.T @ np.arange(4.0))
    _close(backend, (m * 2.0).todense(), 2 * _M)
    _close(backend, (-m).todense(), -_M)
    _close(backend, m @ sparse.BCSR.fromdense(backend.asarray(_M.T)), _M @ _M.T)
    b = m.to_bcoo()
    assert isinstance(b, sparse.BCOO)
    _close(backend, b, _M)
    back = sparse.BCSR.from_bcoo(b.T.T)
    np.testing.assert_array_equal(backend.to_numpy(back.indptr), [0, 2, 2, 5, 6])
    padded = sparse.BCSR.fromdense(x, nse=8)
    np.testing.assert_array_equal(backend.to_numpy(padded.indptr), [0, 2, 2, 5, 6])
    _close(backend, padded.todense(), _M)


def test_bcsr_from_bcoo_sorts_and_pads():
    b = sparse.BCOO((np.array([1.0, 2.0, 3.0, 4.0]), np.array([[2, 1], [0, 0], [9, 9], [-1, 0]])),
                    shape=(3, 2))
    m = sparse.BCSR.from_bcoo(b)
    np.testing.assert_array_equal(m.indptr, [0, 1, 1, 3])  # (outside entries last: padding)
    np.testing.assert_array_equal(m.todense(), b.todense())
    scipy_sparse = pytest.importorskip("scipy.sparse")
    s = sparse.BCSR.from_scipy_sparse(scipy_sparse.csr_array(_M))
    np.testing.assert_array_equal(s.todense(), _M)
    assert str(s.indptr.dtype) == "int32"


def test_bcsr_transforms():
    m = sparse.BCSR.fromdense(_M)
    v = np.arange(5.0) / 5
    check_grads(lambda d, v: fnp.sum(fnp.sin(sparse.BCSR((d, m.indices, m.indptr),
                                                         shape=m.shape) @ v)),
                (m.data, v), order=2)
    g = ft.grad(lambda m: fnp.sum(fnp.sin(m @ v)))(m)
    assert isinstance(g, sparse.BCSR) and g.indices is not m.indices
    np.testing.assert_array_equal(g.indptr, m.indptr)
    dense = ft.grad(lambda x: fnp.sum(fnp.sin(x @ v)))(_M)
    np.testing.assert_allclose(g.data, np.asarray(dense)[_M != 0], rtol=1e-13)
    np.testing.assert_allclose(ft.jit(lambda m, v: m @ v)(m, v), _M @ v, rtol=1e-14)
    np.testing.assert_array_equal(
        ft.jit(lambda x: sparse.BCSR.fromdense(x, nse=7).todense())(_M), _M)


def test_bcsr_errors():
    with pytest.raises(ValueError,
                       match=r"indptr must have shape batch \+ \(rows \+ 1,\) = \(3,\)"):
        sparse.BCSR((np.ones(2), np.zeros(2, np.int32), np.zeros(2, np.int32)), shape=(2, 2))
    # (a ValueError since session 30, as JAX's; three dimensions are fine with n_dense=1)
    with pytest.raises(ValueError, match="a matrix"):
        sparse.BCSR.fromdense(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="indices must be integers"):
        sparse.BCSR((np.ones(2), np.zeros(2), np.zeros(3, np.int32)), shape=(2, 2))
    with pytest.raises(NotImplementedError, match="two sparse dimensions"):
        sparse.BCSR.from_bcoo(sparse.BCOO.fromdense(np.ones((2, 2)), n_batch=1))


@pytest.mark.parametrize("n_batch", [0, 1, 2])
def test_broadcast_in_dim_against_dense(n_batch):
    x = _X[:, :1, :3]  # (2, 1, 3)
    a = sparse.BCOO.fromdense(x, n_batch=n_batch)
    for shape, dims in [((2, 4, 3), (0, 1, 2)), ((5, 2, 1, 3), (1, 2, 3)),
                        ((2, 4, 3, 2), (0, 1, 2)), ((2, 5, 4, 3), (0, 2, 3))]:
        b = sparse.bcoo_broadcast_in_dim(a, shape=shape, broadcast_dimensions=dims)
        np.testing.assert_array_equal(b.todense(), lax.broadcast_in_dim(x, shape, dims))
    # new leading dimensions are batch ones, as in JAX (the same nse)
    b = sparse.bcoo_broadcast_in_dim(a, shape=(5, 2, 1, 3), broadcast_dimensions=(1, 2, 3))
    assert b.n_batch == n_batch + 1 and b.nse == a.nse


def test_broadcast_in_dim_odd_indices_derivatives_and_errors(backend):
    # an entry outside a dimension of size 1 stays outside when it grows
    m = sparse.BCOO((backend.asarray([1.0, 2.0, 4.0]), backend.asarray([[0, 0], [1, -1], [0, 3]],
                                                                    dtype="int32")),
                    shape=(2, 1))
    b = sparse.bcoo_broadcast_in_dim(m, shape=(2, 3), broadcast_dimensions=(0, 1))
    assert backend.is_own(b.data) and backend.is_own(b.indices)
    _close(backend, b, [[1.0] * 3, [2.0] * 3])
    if backend.name != "numpy":
        return
    d0 = np.array([1.0, 2.0, 4.0])

    def f(d):
        s = sparse.BCOO((d, m.indices), shape=(2, 1))
        return fnp.sum(fnp.sin(sparse.bcoo_broadcast_in_dim(
            s, shape=(3, 2, 4), broadcast_dimensions=(1, 2)).todense()))
    check_grads(f, (d0,), order=2)
    np.testing.assert_allclose(ft.jit(f)(d0), f(d0), rtol=1e-14)
    with pytest.raises(ValueError, match="same size or growing from 1"):
        sparse.bcoo_broadcast_in_dim(m, shape=(3, 3), broadcast_dimensions=(0, 1))
    with pytest.raises(ValueError, match="one increasing dimension"):
        sparse.bcoo_broadcast_in_dim(m, shape=(2, 3), broadcast_dimensions=(1, 0))
