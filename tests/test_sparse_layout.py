"""functrans.experimental.sparse's layouts: the positions a product reads and writes, kept per
concrete indices array (and recomputed when the array is written in place), and under jit a
cond between indices all in range (read as they are) and the others (wrapped and masked).
Values against the dense computation; no timings."""

import gc

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.experimental import sparse
from functrans.testing import check_grads

_V = np.array([0.3, -1.2, 2.0, 0.7])
_U = np.array([1.0, -2.0, 0.5])
_D = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
# (1, 2) twice; (3, 0) and (0, 5) outside; (-1, 0) is (2, 0)
_MIXED = np.array([[1, 2], [0, 0], [1, 2], [3, 0], [0, 5], [-1, 0]], dtype=np.int32)
_IN_RANGE = np.array([[1, 2], [0, 0], [1, 2], [2, 3], [0, 1], [2, 0]], dtype=np.int32)


def _dense(data, indices, shape=(3, 4)):
    out = np.zeros(shape)
    for d, i in zip(data, indices):
        if all(-n <= k < n for k, n in zip(i, shape)):
            out[tuple(i)] += d
    return out


def _writable(backend, a):
    if backend.name == "numpy":
        return np.array(a)
    return backend.asarray(a, dtype=str(a.dtype))


def test_a_write_into_the_indices_is_seen(backend):
    # the layout is kept with the indices array; writing into it must not leave a stale one
    idx = _writable(backend, np.array([[0, 1], [1, 0]], dtype=np.int32))
    m = sparse.BCOO((backend.asarray([1.0, 2.0]), idx), shape=(2, 2))
    x = backend.asarray([1.0, 10.0])
    np.testing.assert_array_equal(backend.to_numpy(m @ x), [10.0, 2.0])
    idx[0, 1] = 0
    got = m @ x
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), [1.0, 2.0])
    np.testing.assert_array_equal(backend.to_numpy(m.todense()), [[1.0, 0.0], [2.0, 0.0]])


def test_layouts_go_with_their_indices():
    from functrans.experimental.sparse import _LAYOUTS
    idx = _IN_RANGE.copy()
    m = sparse.BCOO((_D, idx), shape=(3, 4))
    m @ _V, m.todense()
    assert id(idx) in _LAYOUTS and len(_LAYOUTS[id(idx)][2]) == 2  # (one per use)
    key = id(idx)
    del m, idx
    gc.collect()
    assert key not in _LAYOUTS


@pytest.mark.parametrize("indices", [_IN_RANGE, _MIXED], ids=["in_range", "mixed"])
def test_eager_and_jit_agree_with_dense(indices):
    want = _dense(_D, indices)
    m = sparse.BCOO((_D, indices), shape=(3, 4))
    for run in (lambda f, *a: f(*a), lambda f, *a: ft.jit(f)(*a)):
        np.testing.assert_allclose(run(lambda m, v: m @ v, m, _V), want @ _V, rtol=1e-14)
        np.testing.assert_allclose(run(lambda m, u: (m.T @ u), m, _U), want.T @ _U, rtol=1e-14)
        np.testing.assert_allclose(run(lambda m: m.todense(), m), want, rtol=1e-14)
        a = np.arange(12.0).reshape(3, 4)
        got = run(lambda m, a: sparse.bcoo_extract(m, a).data, m, a)
        inside = [all(-n <= k < n for k, n in zip(i, (3, 4))) for i in indices]
        np.testing.assert_array_equal(
            got, [a[tuple(i)] if ok else 0.0 for i, ok in zip(indices, inside)])


@pytest.mark.parametrize("indices", [_IN_RANGE, _MIXED], ids=["in_range", "mixed"])
def test_derivatives_under_jit(indices):
    # the indices traced (an argument of jit) or concrete (closed over): both branches and
    # the kept layout, to second order
    def f(data, v, idx):
        m = sparse.BCOO((data, idx), shape=(3, 4))
        return fnp.sum(fnp.sin(m @ v)) + fnp.sum(_U @ m.todense() ** 2)
    traced = ft.jit(f)
    check_grads(lambda d, v: traced(d, v, indices), (_D / 10, _V), order=2)
    check_grads(ft.jit(lambda d, v: f(d, v, indices)), (_D / 10, _V), order=2)
    want = ft.grad(lambda x, v: fnp.sum(fnp.sin(x @ v)), argnums=(0, 1))(
        _dense(_D / 10, indices), _V)
    g = ft.jit(ft.grad(lambda m, v: fnp.sum(fnp.sin(m @ v)), argnums=(0, 1)))(
        sparse.BCOO((_D / 10, indices), shape=(3, 4)), _V)
    inside = np.array([all(-n <= k < n for k, n in zip(i, (3, 4))) for i in indices])
    rows, cols = indices[:, 0] % 3, indices[:, 1] % 4
    np.testing.assert_allclose(g[0].data, np.where(inside, want[0][rows, cols], 0.0),
                               rtol=1e-14)
    np.testing.assert_allclose(g[1], want[1], rtol=1e-14)


def test_vmap_of_jit_with_members_in_and_out_of_range():
    # vmap after staging batches the cond: the in-range branch runs on every member and must
    # neither raise nor write elsewhere for the member whose indices are not all in range
    st = sparse.BCOO((np.stack([_D, -_D]), np.stack([_IN_RANGE, _MIXED])), shape=(2, 3, 4))
    want = np.stack([_dense(_D, _IN_RANGE), _dense(-_D, _MIXED)])
    f = ft.jit(lambda m, v: m @ v)
    np.testing.assert_allclose(ft.vmap(f, in_axes=(0, None))(st, _V), want @ _V, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.vmap(lambda m, v: m @ v, in_axes=(0, None)))(st, _V),
                               want @ _V, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.jit(lambda m: m.todense()))(st), want, rtol=1e-14)
    np.testing.assert_allclose(st @ _V, want @ _V, rtol=1e-14)  # (n_batch=1 eagerly)


def test_empty_dimension_and_no_entries():
    z = sparse.BCOO((np.ones(2), np.zeros((2, 2), np.int32)), shape=(0, 3))
    assert (z @ np.ones(3)).shape == (0,)
    np.testing.assert_array_equal(np.ones(0) @ z, np.zeros(3))
    e = sparse.empty((3, 4), nse=0)
    np.testing.assert_array_equal(e @ _V, np.zeros(3))
    np.testing.assert_array_equal(ft.jit(lambda m, v: m @ v)(e, _V), np.zeros(3))


def test_bcsr_coordinates_kept_and_writes_seen():
    indices, indptr = np.array([1, 0, 1], np.int32), np.array([0, 1, 3], np.int32)
    m = sparse.BCSR((np.array([2.0, 3.0, 4.0]), indices, indptr), shape=(2, 2))
    x = np.array([1.0, 10.0])
    np.testing.assert_array_equal(m @ x, [20.0, 43.0])
    assert m.to_bcoo().indices is m.to_bcoo().indices  # (kept: the BCOO's layouts serve)
    indptr[1] = 2  # row 0 now holds two entries
    np.testing.assert_array_equal(m @ x, [23.0, 40.0])
    indices[0] = 0
    np.testing.assert_array_equal(m @ x, [5.0, 40.0])
    other = sparse.BCSR((m.data, indices, np.array([0, 0, 3], np.int32)), shape=(2, 2))
    np.testing.assert_array_equal(other @ x, [0.0, 45.0])  # (same indices, other indptr)


def test_batch_members_side_by_side():
    # n_batch=1: the members' entries in one gather and one scatter-add, each member's
    # outside entries in its own spare slot; eager (kept layout) and jit (both branches)
    st = sparse.BCOO((np.stack([_D, -_D]), np.stack([_IN_RANGE, _MIXED])), shape=(2, 3, 4))
    dense = np.stack([_dense(_D, _IN_RANGE), _dense(-_D, _MIXED)])
    vs = np.stack([_V, 2 * _V])
    dn = (((2,), (1,)), ((0,), (0,)))
    for run in (lambda f, *a: f(*a), lambda f, *a: ft.jit(f)(*a)):
        np.testing.assert_allclose(run(lambda m, v: m @ v, st, _V), dense @ _V, rtol=1e-14)
        np.testing.assert_allclose(
            run(lambda m, v: sparse.bcoo_dot_general(m, v, dimension_numbers=dn), st, vs),
            np.einsum("bij,bj->bi", dense, vs), rtol=1e-14)
        both_in = sparse.BCOO((st.data, np.stack([_IN_RANGE, _IN_RANGE[::-1]])),
                              shape=(2, 3, 4))
        np.testing.assert_allclose(run(lambda m, v: m @ v, both_in, _V), both_in.todense() @ _V,
                                   rtol=1e-14)
    check_grads(lambda d, v: fnp.sum(fnp.sin(sparse.bcoo_dot_general(
        sparse.BCOO((d, st.indices), shape=st.shape), v, dimension_numbers=dn))),
        (st.data / 10, vs), order=2)
