"""functrans.experimental.sparse: JAX's BCOO format, checked against the dense computation in
NumPy, under every transform, and on every backend where the library and device matter."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError, IntegerInputError, TangentMismatchError
from functrans.experimental import sparse
from functrans.testing import check_grads

# a 3x4 matrix with 5 nonzeros (one row empty), and a vector and matrix to multiply it by
_X = np.array([[0.0, 1.5, 0.0, -2.0],
               [0.0, 0.0, 0.0, 0.0],
               [3.0, 0.0, 0.5, 1.0]])
_V = np.array([0.3, -1.2, 2.0, 0.7])
_B = np.array([[1.0, 0.5], [-0.5, 2.0], [0.25, 1.0], [2.0, -1.0]])
_U = np.array([1.0, -2.0, 0.5])


def _close(backend, got, want):
    assert backend.is_own(got), f"{type(got)} is no array of the inputs' library and device"
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13, atol=1e-13)


def test_layout_and_products_against_dense(backend):
    x, v, b, u = (backend.asarray(a) for a in (_X, _V, _B, _U))
    m = sparse.BCOO.fromdense(x)
    assert m.shape == (3, 4) and m.nse == 5 and m.ndim == 2 and m.n_batch == 0
    assert backend.is_own(m.data) and backend.is_own(m.indices)
    assert str(m.indices.dtype).endswith("int32")  # JAX's default index dtype
    np.testing.assert_array_equal(backend.to_numpy(m.indices),
                                  np.argwhere(_X != 0))  # row-major order
    _close(backend, m.todense(), _X)
    _close(backend, m @ v, _X @ _V)
    _close(backend, m @ b, _X @ _B)
    _close(backend, m.T @ u, _X.T @ _U)
    _close(backend, m.T.todense(), _X.T)
    _close(backend, (m * 2.0).todense(), 2 * _X)
    _close(backend, (m * x).todense(), _X * _X)  # stays sparse: the same entries
    _close(backend, (-m / 4.0).todense(), -_X / 4)
    _close(backend, m.sum(0).todense(), _X.sum(0))
    _close(backend, m.sum(1).todense(), _X.sum(1))
    _close(backend, m.sum(), _X.sum())
    dn = (((1,), (0,)), ((), ()))
    _close(backend, sparse.bcoo_dot_general(b.T, m.T, dimension_numbers=dn), _B.T @ _X.T)
    _close(backend, (m + x), 2 * _X)
    both = m + 2.0 * m.T.T - m
    assert isinstance(both, sparse.BCOO) and both.nse == 3 * m.nse  # (the entries of each)
    _close(backend, both.todense(), 2 * _X)
    if backend.name != "array_api_strict":  # (its operators refuse other types: x @ m)
        _close(backend, u @ m, _U @ _X)
        _close(backend, b.T @ m.T, _B.T @ _X.T)
    eye = sparse.eye(3, 4, k=1, dtype=m.dtype, device=m.data.device)
    assert backend.is_own(eye.data)
    _close(backend, eye.todense(), np.eye(3, 4, k=1))
    _close(backend, sparse.empty((2, 3), dtype=m.dtype, nse=2, device=m.data.device).todense(),
           np.zeros((2, 3)))


def test_transforms_keep_library_and_device(backend):
    x, v = backend.asarray(_X), backend.asarray(_V)
    m = sparse.BCOO.fromdense(x)
    g = ft.grad(lambda m: fnp.sum(fnp.sin(m @ v)))(m)
    assert isinstance(g, sparse.BCOO) and backend.is_own(g.data) and backend.is_own(g.indices)
    # the same indices, in a copy: writing into the gradient's must not rewrite m's
    assert g.indices is not m.indices
    np.testing.assert_array_equal(backend.to_numpy(g.indices), backend.to_numpy(m.indices))
    # the dense gradient is cos(Xv) v^T; the sparse one, its entries at the stored positions
    dense = np.outer(np.cos(_X @ _V), _V)
    _close(backend, g.data, dense[_X != 0])
    stacked = sparse.BCOO.fromdense(fnp.stack([x, 2 * x]), n_batch=1)
    _close(backend, ft.vmap(lambda m: m @ v)(stacked), [_X @ _V, 2 * _X @ _V])
    _close(backend, ft.jit(lambda m, v: (m.T * 3.0) @ (m @ v))(m, v), 3 * _X.T @ (_X @ _V))
    t = sparse.BCOO((fnp.ones_like(m.data), m.indices), shape=m.shape)
    _, ty = ft.jvp(lambda m: m * 2.0, (m,), (t,))
    _close(backend, ty.todense(), 2.0 * (_X != 0))
    sd = m.sum_duplicates()
    _close(backend, sd.todense(), _X)
    _close(backend, ft.jit(lambda x: sparse.BCOO.fromdense(x, nse=6).todense())(x), _X)


def test_duplicates_padding_and_negative_indices():
    data = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    # (1, 2) twice; (3, 0) and (0, 5) are outside (padding at index = shape); (-1, 0) is (2, 0)
    indices = np.array([[1, 2], [0, 0], [1, 2], [3, 0], [0, 5], [-1, 0]], dtype=np.int32)
    m = sparse.BCOO((data, indices), shape=(3, 4))
    want = np.zeros((3, 4))
    want[1, 2], want[0, 0], want[2, 0] = 1.0 + 4.0, 2.0, 32.0
    np.testing.assert_array_equal(m.todense(), want)
    np.testing.assert_array_equal(m @ _V, want @ _V)
    np.testing.assert_array_equal(_U @ m, _U @ want)
    np.testing.assert_array_equal(m.sum(0).todense(), want.sum(0))
    np.testing.assert_array_equal(m.sum(), want.sum())
    np.testing.assert_array_equal((m * _X).todense(), want * _X)
    np.testing.assert_array_equal(m.T.todense(), want.T)
    s = m.sum_duplicates()
    assert s.nse == 3  # one entry per position inside, sorted
    np.testing.assert_array_equal(s.indices, [[0, 0], [1, 2], [2, 0]])
    np.testing.assert_array_equal(s.data, [2.0, 5.0, 32.0])
    padded = m.sum_duplicates(nse=5)
    np.testing.assert_array_equal(padded.indices[3:], [[3, 4], [3, 4]])  # index = shape
    np.testing.assert_array_equal(padded.data[3:], [0.0, 0.0])
    np.testing.assert_array_equal(padded.todense(), want)
    zeros = sparse.BCOO((np.array([0.0, 1.0]), np.array([[0, 0], [1, 1]])), shape=(2, 2))
    assert zeros.sum_duplicates().nse == 1 and zeros.sum_duplicates(remove_zeros=False).nse == 2
    srt = m.sort_indices()
    np.testing.assert_array_equal(srt.data, [2.0, 1.0, 4.0, 32.0, 8.0, 16.0])  # outside last
    np.testing.assert_array_equal(srt.todense(), want)
    # fromdense: nse larger pads, smaller keeps the first nonzeros (row-major)
    np.testing.assert_array_equal(sparse.BCOO.fromdense(_X, nse=7).todense(), _X)
    np.testing.assert_array_equal(sparse.BCOO.fromdense(_X, nse=2).todense(),
                                  np.where(np.arange(12).reshape(3, 4) < 4, _X, 0))
    np.testing.assert_array_equal(sparse.BCOO.fromdense(np.float64(2.5)).todense(), 2.5)


def _m(data):
    return sparse.BCOO((data, np.argwhere(_X != 0).astype(np.int32)), shape=_X.shape)


def test_derivatives_against_dense_and_finite_differences():
    data = _X[_X != 0]

    def f(data, v):  # nonlinear in both: the product's JVP and transpose rules are all used
        m = _m(data)
        return fnp.sum(fnp.tanh(m @ v) * (m @ (m.T @ _U))) + fnp.sum((m * _X).sum(0).todense() ** 2)

    def dense_f(x, v):
        return fnp.sum(fnp.tanh(x @ v) * (x @ (x.T @ _U))) + fnp.sum(fnp.sum(x * _X, axis=0) ** 2)

    check_grads(f, (data, _V), order=2)
    gd, gv = ft.grad(f, argnums=(0, 1))(data, _V)
    gx, gv_dense = ft.grad(dense_f, argnums=(0, 1))(_X, _V)
    np.testing.assert_allclose(gd, np.asarray(gx)[_X != 0], rtol=1e-12)
    np.testing.assert_allclose(gv, gv_dense, rtol=1e-12)
    jf = ft.jacfwd(lambda d: _m(d) @ _V)(data)
    np.testing.assert_allclose(jf, ft.jacrev(lambda d: _m(d) @ _V)(data), rtol=1e-14)
    np.testing.assert_allclose(jf, _dense_jacobian(), rtol=1e-14)
    # grad with respect to the BCOO: a BCOO with the same indices
    g = ft.grad(lambda m: f(m.data, _V))(_m(data))
    np.testing.assert_allclose(g.data, gd, rtol=1e-14)
    # jacfwd/jacrev with respect to a BCOO: a BCOO batched over the output's shape, whose
    # dense form is the dense Jacobian on the stored positions
    dense_jac = ft.jacfwd(lambda x: fnp.tanh(x @ _V))(_X) * (_X != 0)
    for jac in (ft.jacfwd, ft.jacrev):
        j = jac(lambda m: fnp.tanh(m @ _V))(_m(data))
        assert isinstance(j, sparse.BCOO) and j.n_batch == 1 and j.shape == (3, 3, 4)
        np.testing.assert_allclose(j.todense(), dense_jac, rtol=1e-13, atol=1e-15)
    # jvp along a BCOO tangent that shares the primal's indices; vjp returns a BCOO
    m = _m(data)
    t = sparse.BCOO((np.ones_like(data), m.indices), shape=m.shape)
    y, ty = ft.jvp(lambda m: m @ _V, (m,), (t,))
    np.testing.assert_allclose(ty, (_X != 0) @ _V, rtol=1e-14)
    _, ty2 = ft.jvp(lambda m: m * 3.0, (m,), (t,))
    assert isinstance(ty2, sparse.BCOO)
    np.testing.assert_array_equal(ty2.indices, m.indices)  # (not zeros: todense works)
    np.testing.assert_array_equal(ty2.data, 3.0)
    (ct,) = ft.vjp(lambda m: m @ _V, m)[1](_U)
    assert ct.indices is not m.indices
    np.testing.assert_array_equal(ct.indices, m.indices)
    np.testing.assert_allclose(ct.todense(), np.outer(_U, _V) * (_X != 0), rtol=1e-14)
    # second derivatives through the dense operand and the data together
    h = ft.hessian(lambda d: fnp.sum(fnp.sin(_m(d) @ _V)))(data)
    rows, cols = np.nonzero(_X)
    z = _X @ _V
    want = -np.sin(z)[rows][:, None] * (rows[:, None] == rows[None, :]) \
        * _V[cols][:, None] * _V[cols][None, :]
    np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-14)
    # with respect to the BCOO: a tree of trees, as for any pytree; data by data is h
    hm = ft.hessian(lambda m: fnp.sum(fnp.sin(m @ _V)))(_m(data))
    np.testing.assert_allclose(hm.data.data, want, rtol=1e-12, atol=1e-14)


def _dense_jacobian():
    rows, cols = np.nonzero(_X)
    j = np.zeros((3, rows.size))
    j[rows, np.arange(rows.size)] = _V[cols]
    return j


def test_vmap_and_jit():
    data = _X[_X != 0]
    batch = np.stack([_V, 2 * _V + 1, -_V])
    np.testing.assert_allclose(ft.vmap(lambda v: _m(data) @ v)(batch), batch @ _X.T)
    # a stacked BCOO (n_batch=1) maps over its batch dimension; a returned one stacks
    scales = np.array([1.0, -2.0])
    out = ft.vmap(lambda s: _m(data) * s)(scales)
    assert isinstance(out, sparse.BCOO) and out.shape == (2, 3, 4) and out.n_batch == 1
    np.testing.assert_allclose(out.todense(), scales[:, None, None] * _X)
    np.testing.assert_allclose(out @ _V, [s * _X @ _V for s in scales])
    np.testing.assert_allclose(out.sum(0).todense(), scales.sum() * _X)
    np.testing.assert_allclose(ft.vmap(lambda m: m.T @ _U)(out), [s * _X.T @ _U for s in scales])
    loop = [ft.grad(lambda d: fnp.sum((_m(d) @ v) ** 2))(data) for v in batch]
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda d, v: fnp.sum((_m(d) @ v) ** 2)),
                                       in_axes=(None, 0))(data, batch), loop, rtol=1e-14)
    # dot batch dimensions: each sparse batch element times its own dense matrix
    bs = np.stack([_B, 2 * _B])
    got = sparse.bcoo_dot_general(out, bs, dimension_numbers=(((2,), (1,)), ((0,), (0,))))
    np.testing.assert_allclose(got, np.einsum("bij,bjk->bik", out.todense(), bs))
    # jit: a BCOO in and out, staged once; fromdense needs nse there
    calls = []

    @ft.jit
    def step(m, v):
        calls.append(1)
        return m * 2.0, m @ v
    r, y = step(_m(data), _V)
    step(_m(data + 1.0), _V)
    assert len(calls) == 1 and isinstance(r, sparse.BCOO)
    np.testing.assert_allclose(r.todense(), 2 * _X)
    np.testing.assert_allclose(y, _X @ _V)
    with pytest.raises(ConcretizationError, match="pass nse="):
        ft.jit(lambda x: sparse.BCOO.fromdense(x))(_X)
    with pytest.raises(ConcretizationError, match="pass nse="):
        ft.jit(lambda m: m.sum_duplicates())(_m(data))
    np.testing.assert_allclose(ft.jit(lambda m: m.sum_duplicates(nse=5).todense())(_m(data)), _X)


def test_higher_rank_and_batch_dimensions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4)) * (rng.random((2, 3, 4)) < 0.5)
    y = rng.normal(size=(4, 3, 5))
    m = sparse.BCOO.fromdense(x)
    for lc, rc in [((1,), (1,)), ((2,), (0,)), ((1, 2), (1, 0)), ((2, 1), (0, 1))]:
        np.testing.assert_allclose(
            sparse.bcoo_dot_general(m, y, dimension_numbers=((lc, rc), ((), ()))),
            np.tensordot(x, y, (lc, rc)), rtol=1e-13)
        np.testing.assert_allclose(
            sparse.bcoo_dot_general(y, m, dimension_numbers=((rc, lc), ((), ()))),
            np.tensordot(y, x, (rc, lc)), rtol=1e-13)
    s = sparse.BCOO.fromdense(x, n_batch=1)  # stored per batch element
    assert s.n_batch == 1 and s.data.shape[0] == 2
    z = rng.normal(size=(5, 4, 2))
    np.testing.assert_allclose(
        sparse.bcoo_dot_general(s, z, dimension_numbers=(((2,), (1,)), ((0,), (2,)))),
        np.einsum("bij,kjb->bik", x, z), rtol=1e-13)
    np.testing.assert_allclose(s.sum((0, 2)).todense(), x.sum((0, 2)), rtol=1e-13)
    np.testing.assert_allclose(s.sum(0).todense(), x.sum(0), rtol=1e-13)
    np.testing.assert_allclose(s.transpose((0, 2, 1)).todense(), x.transpose(0, 2, 1))
    np.testing.assert_allclose(s.sum_duplicates().todense(), x)
    np.testing.assert_allclose(s.sort_indices().todense(), x)


def test_extract_todense_and_scipy():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    m = sparse.BCOO.from_scipy_sparse(scipy_sparse.coo_array(_X))
    np.testing.assert_array_equal(m.todense(), _X)
    assert str(m.indices.dtype) == "int32"
    e = sparse.bcoo_extract(m, _X * 10.0)
    assert e.indices is m.indices
    np.testing.assert_array_equal(e.todense(), _X * 10.0)
    # JAX's bcoo_multiply_dense returns the product's data (m * x is the BCOO)
    np.testing.assert_array_equal(sparse.bcoo_multiply_dense(m, _X * 10.0),
                                  10.0 * _X[_X != 0] ** 2)
    np.testing.assert_array_equal(sparse.todense(m), _X)
    assert sparse.todense(_X) is _X
    # the derivative of extract is that of a gather: a scatter back to the positions
    g = ft.grad(lambda a: fnp.sum(sparse.bcoo_extract(m, a).data ** 2))(_X)
    np.testing.assert_array_equal(g, 2 * _X)


def test_errors():
    m = _m(_X[_X != 0])
    with pytest.raises(ValueError, match=r"dimension 1 of the sparse operand \(4\) and "
                                         r"dimension 0 of the dense one \(3\)"):
        m @ _U
    with pytest.raises(ValueError, match="right operand of a sparse matmul has at most 2"):
        m @ np.ones((2, 4, 3))  # (NumPy would broadcast the stack: refused, not reordered)
    with pytest.raises(ValueError, match="right operand of a sparse matmul has at most 2"):
        np.ones(2) @ sparse.BCOO.fromdense(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="must broadcast to the sparse array's shape"):
        m * np.ones((3, 5))
    with pytest.raises(TypeError, match="indices must be integers"):
        sparse.BCOO((np.ones(2), np.zeros((2, 2))), shape=(2, 2))
    with pytest.raises(ValueError, match=r"data must have shape \(2,\)"):
        sparse.BCOO((np.ones(3), np.zeros((2, 2), int)), shape=(2, 2))
    with pytest.raises(ValueError, match=r"data must have shape \(2, 2\) \(batch \+ \(nse,\) "
                                         r"\+ dense"):
        sparse.BCOO((np.ones(2), np.zeros((2, 2), int)), shape=(2, 2, 2))
    with pytest.raises(ValueError, match="give 0 batch and 2 sparse ones"):
        sparse.BCOO((np.ones(2), np.zeros((2, 2), int)), shape=(2,))
    with pytest.raises(ValueError, match=r"one shape and n_batch \(no broadcasting\)"):
        m * m.T  # (sparse * sparse: equal shapes only)
    with pytest.raises(ValueError, match="n_batch=1 and n_dense=2 must be non-negative"):
        sparse.BCOO.fromdense(_X, n_batch=1, n_dense=2)
    with pytest.raises(NotImplementedError, match="the 'bcoo' format and, for a matrix, "
                                                  "'bcsr' alone"):
        sparse.eye(3, sparse_format="csr")
    # a BCOO's indices are no input of grad, but an integer argument still is
    with pytest.raises(IntegerInputError):
        ft.grad(lambda m, k: m.sum() * k, argnums=(0, 1))(m, 2)
    with pytest.raises(ValueError, match="vmap over a BCOO maps its batch dimensions"):
        ft.vmap(lambda m: m @ _V)(m)  # (n_batch=0: mapping would split the entries)
    # a tangent with other indices is refused, not silently ignored
    t = sparse.BCOO((np.ones(m.nse), m.indices[::-1].copy()), shape=m.shape)
    with pytest.raises(TangentMismatchError, match="carries no derivative"):
        ft.jvp(lambda m: m @ _V, (m,), (t,))


def test_sparsify():
    m = sparse.BCOO.fromdense(_X)

    def f(a, v):
        return (fnp.dot(a, v), (2.0 * a).T @ _U, fnp.sum(a, axis=0), fnp.sum(a),
                a - a.T.T * 3.0, -a / 4.0 + _X, fnp.sin(a))
    outs = sparse.sparsify(f)(m, _V)
    kinds = [isinstance(o, sparse.BCOO) for o in outs]
    assert kinds == [False, False, True, False, True, False, False]
    for got, want in zip(outs, f(_X, _V)):
        got = got.todense() if isinstance(got, sparse.BCOO) else got
        np.testing.assert_allclose(got, want, rtol=1e-14)
    loss = sparse.sparsify(lambda a, v: fnp.sum(fnp.tanh(a @ v)))
    dense_loss = lambda x, v: fnp.sum(fnp.tanh(x @ v))  # noqa: E731
    g = ft.grad(lambda d, v: loss(_m(d), v), argnums=(0, 1))(_X[_X != 0], _V)
    gx, gv = ft.grad(dense_loss, argnums=(0, 1))(_X, _V)
    np.testing.assert_allclose(g[0], np.asarray(gx)[_X != 0], rtol=1e-13)
    np.testing.assert_allclose(g[1], gv, rtol=1e-13)
    np.testing.assert_allclose(ft.jit(sparse.sparsify(lambda a, v: a @ v))(m, _V), _X @ _V)


def test_same_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.experimental import sparse as jsparse
    data = np.array([1.0, 2.0, 4.0, 8.0, -1.0])
    indices = np.array([[1, 2], [0, 0], [1, 2], [3, 0], [-1, 3]], dtype=np.int32)
    ours = sparse.BCOO((data, indices), shape=(3, 4))
    theirs = jsparse.BCOO((data, indices), shape=(3, 4))
    np.testing.assert_array_equal(ours.todense(), theirs.todense())
    np.testing.assert_allclose(ours @ _B, theirs @ _B, rtol=1e-14)
    np.testing.assert_allclose(_U @ ours, jax.numpy.asarray(_U) @ theirs, rtol=1e-14)
    f = lambda m: (m @ _V) @ (m @ _V)  # noqa: E731
    g = ft.grad(f)(ours)
    jg = jax.grad(f, allow_int=True)(theirs)  # (JAX: float0 indices, and allow_int needed)
    np.testing.assert_allclose(g.data, jg.data, rtol=1e-14)
    np.testing.assert_array_equal(g.indices, indices)
    m = sparse.BCOO.fromdense(_X)
    jm = jsparse.BCOO.fromdense(_X)
    np.testing.assert_array_equal(m.indices, jm.indices)
    np.testing.assert_array_equal(m.data, jm.data)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(sparse, extraglobs={"np": np, "sparse": sparse},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
