"""Session 29 (helper gaps29): loose ends of session 28: hyp1f1's derivatives in a and b to
any order; sparse's bcoo_update_layout and dense dimensions where they were refused; more in
the sections below."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fs
from functrans.experimental import sparse
from functrans.testing import check_grads

# -- hyp1f1's higher derivatives in a and b ----------------------------------------------------

# (a, b, x): positive and negative parameters, both signs of x (the series at x and through
# Kummer's transformation), a = 0 (d/da of a series that stops after its first term)
_HYP_POINTS = [(0.5, 1.5, 2.0), (1.3, 2.7, -3.0), (-2.0, 1.5, 0.7), (2.0, 0.3, -20.0),
               (3.0, 5.0, 30.0), (-3.3, -1.5, 2.0), (0.0, 1.0, 3.0)]


def _hyp1f1_reference(orders):
    """d^orders hyp1f1 at _HYP_POINTS, by mpmath (30 digits) or central differences of SciPy's
    hyp1f1 (second order only)."""
    try:
        import mpmath
    except ImportError:
        mpmath = None
    if mpmath is not None:
        with mpmath.workdps(30):
            return np.array([float(mpmath.diff(mpmath.hyp1f1, p, orders))
                             for p in _HYP_POINTS])
    import scipy.special as ss
    if sum(orders) != 2:
        pytest.skip("mpmath is needed beyond the second order")
    out = []
    for p in _HYP_POINTS:
        p = np.array(p)
        i, j = [k for k in range(3) for _ in range(orders[k])]
        h = 1e-4 * np.maximum(1.0, np.abs(p))
        ei, ej = np.eye(3)[i] * h[i], np.eye(3)[j] * h[j]
        f = lambda q: ss.hyp1f1(*q)  # noqa: E731
        out.append((f(p + ei + ej) - f(p + ei - ej) - f(p - ei + ej) + f(p - ei - ej))
                   / (4 * h[i] * h[j]))
    return np.array(out)


def test_hyp1f1_hessian_in_a_b_x():
    A, B, X = (np.array(c) for c in zip(*_HYP_POINTS))
    H = ft.vmap(ft.hessian(fs.hyp1f1, argnums=(0, 1, 2)))(A, B, X)
    for r in range(3):
        for c in range(3):
            orders = tuple(int(k == r) + int(k == c) for k in range(3))
            want = _hyp1f1_reference(orders)
            np.testing.assert_allclose(np.asarray(H[r][c]), want, rtol=1e-11,
                                       err_msg=f"d^2 hyp1f1 / d{'abx'[r]} d{'abx'[c]}")


@pytest.mark.parametrize("orders", [(3, 0, 0), (0, 3, 0), (1, 1, 1), (0, 2, 1), (2, 1, 0)])
def test_hyp1f1_third_derivatives(orders):
    pytest.importorskip("mpmath")
    f = fs.hyp1f1
    for k in (2, 1, 0):  # innermost: the last argument wanted
        for _ in range(orders[k]):
            f = ft.grad(f, argnums=k)
    A, B, X = (np.array(c) for c in zip(*_HYP_POINTS))
    got = ft.vmap(f)(A, B, X)
    np.testing.assert_allclose(np.asarray(got), _hyp1f1_reference(orders), rtol=1e-11)


def test_hyp1f1_second_order_transforms_and_refusal():
    # the JVP and VJP of the derivative in a and b, against central differences, and under jit
    a, b, x = np.array([0.5, 1.3]), np.array([1.5, 2.7]), np.array([2.0, -3.0])
    check_grads(ft.grad(fs.hyp1f1, argnums=1), (a[0], b[0], x[0]), order=1, rtol=1e-6)
    d2 = ft.jit(ft.vmap(ft.grad(ft.grad(fs.hyp1f1, argnums=0), argnums=1)))(a, b, x)
    np.testing.assert_allclose(np.asarray(d2),
                               np.asarray(ft.vmap(ft.hessian(fs.hyp1f1, argnums=(0, 1)))(
                                   a, b, x)[0][1]), rtol=1e-14)
    # float32 operands: computed in float64, rounded
    d32 = ft.grad(ft.grad(fs.hyp1f1))(np.float32(0.5), np.float32(1.5), np.float32(2.0))
    assert d32.dtype == np.float32
    assert float(d32) == pytest.approx(float(ft.grad(ft.grad(fs.hyp1f1))(0.5, 1.5, 2.0)),
                                       rel=1e-6)
    # where both series cancel too much: refused, at the second order too, naming the orders
    # (here the first order is accurate: within 1e-12 of mpmath's)
    ga, gb = ft.grad(fs.hyp1f1, argnums=(0, 1))(-33.75, -28.95, 25.0)
    assert float(ga) == pytest.approx(-358810584141786.25, rel=1e-12)
    assert float(gb) == pytest.approx(-5284663463956004.4, rel=1e-12)
    with pytest.raises(NotImplementedError, match=r"order 2 in a, 0 in b.*cancels too much"):
        ft.hessian(fs.hyp1f1, argnums=(0, 1))(-33.75, -28.95, 25.0)


# -- sparse: bcoo_update_layout, and dense dimensions in concatenate, reshape, broadcast_in_dim
# and sparse-sparse products ------------------------------------------------------------------

_RNG = np.random.default_rng(29)
_X4 = _RNG.normal(size=(2, 3, 4, 2)) * (_RNG.random((2, 3, 4, 2)) < 0.4)
_LAYOUTS = [(nb, nd) for nb in range(5) for nd in range(5) if nb + nd <= 4]


def _dense_of(m):
    return np.asarray(m.todense())


@pytest.mark.parametrize("start", _LAYOUTS)
def test_bcoo_update_layout_every_layout(start):
    m = sparse.BCOO.fromdense(_X4, n_batch=start[0], n_dense=start[1])
    for nb, nd in _LAYOUTS:
        out = sparse.bcoo_update_layout(m, n_batch=nb, n_dense=nd, on_inefficient=None)
        assert (out.n_batch, out.n_dense, out.shape) == (nb, nd, _X4.shape)
        np.testing.assert_array_equal(_dense_of(out), _X4)
    assert sparse.bcoo_update_layout(m) is m


def test_bcoo_update_layout_efficiency_errors_derivatives_and_transforms():
    m = sparse.BCOO.fromdense(_X4)
    with pytest.raises(sparse.SparseEfficiencyError, match=r"n_dense from 0 to 1 stores the "
                                                           r"dimensions \(2,\)"):
        sparse.bcoo_update_layout(m, n_dense=1)
    with pytest.warns(sparse.SparseEfficiencyWarning, match="n_batch from 0 to 2"):
        sparse.bcoo_update_layout(m, n_batch=2, on_inefficient="warn")
    with pytest.raises(ValueError, match="add up to at most"):
        sparse.bcoo_update_layout(m, n_batch=3, n_dense=2)
    with pytest.raises(ValueError, match="on_inefficient='loud'"):
        sparse.bcoo_update_layout(m, n_batch=1, on_inefficient="loud")
    # a size-1 dimension made batch or dense stores nothing more: no error
    one = sparse.BCOO.fromdense(_X4[:1, :, :, :1])
    assert sparse.bcoo_update_layout(one, n_batch=1, n_dense=1).nse == one.nse
    # negative and out-of-range indices keep their meaning through every change
    data = np.array([1.0, 2.0, 4.0, 8.0])
    idx = np.array([[0, -1, 1], [1, 0, 3], [2, 0, 0], [-2, 2, -1]], dtype=np.int32)
    odd = sparse.BCOO((data, idx), shape=(2, 3, 2))
    for nb, nd in [(1, 0), (0, 1), (2, 1), (1, 1), (0, 2)]:
        np.testing.assert_array_equal(
            _dense_of(sparse.bcoo_update_layout(odd, n_batch=nb, n_dense=nd,
                                                on_inefficient=None)), _dense_of(odd))
    # linear in data: derivatives through every direction of change, under jit and vmap

    def f(d, nb, nd):
        mm = sparse.BCOO((d, m.indices), shape=m.shape)
        out = sparse.bcoo_update_layout(mm, n_batch=nb, n_dense=nd, on_inefficient=None)
        return fnp.sin(out.todense()) * out.data.sum()
    for nb, nd in [(2, 1), (0, 2)]:
        check_grads(lambda d: f(d, nb, nd), (m.data,), order=2)
        np.testing.assert_allclose(np.asarray(ft.jit(lambda d: f(d, nb, nd))(m.data)),
                                   np.asarray(f(m.data, nb, nd)), rtol=1e-14)
    back = sparse.BCOO.fromdense(_X4, n_batch=2, n_dense=1)
    check_grads(lambda d: sparse.bcoo_update_layout(
        sparse.BCOO((d, back.indices), shape=back.shape), n_batch=0, n_dense=0).todense(),
        (back.data,), order=1)
    stacked = sparse.BCOO.fromdense(_X4, n_batch=1)
    got = ft.vmap(lambda mm: sparse.bcoo_update_layout(mm, n_dense=1, on_inefficient=None)
                  .todense())(stacked)
    np.testing.assert_array_equal(np.asarray(got), _X4)


@pytest.mark.parametrize("layout", [(0, 1), (1, 1), (0, 2), (1, 2)])
def test_dense_dimensions_concatenate_reshape_broadcast(layout):
    nb, nd = layout
    a, b = _X4, _RNG.normal(size=_X4.shape) * (_RNG.random(_X4.shape) < 0.4)
    ma, mb = (sparse.BCOO.fromdense(v, n_batch=nb, n_dense=nd) for v in (a, b))
    for dim in range(4):  # batch, sparse and dense dimensions
        out = sparse.bcoo_concatenate([ma, mb], dimension=dim)
        assert (out.n_batch, out.n_dense) == layout
        np.testing.assert_array_equal(_dense_of(out), np.concatenate([a, b], axis=dim))
    # (each kind among itself: new sizes of 1 between sparse and dense ones are sparse)
    reshapes = {1: [(2, 12, 2), (2, 3, 4, 1, 2), (2, 3, 2, 2, 2)],
                2: [(2, 3, 8), (2, 3, 1, 2, 4), (2, 3, 2, 2, 2)]}[nd]
    for new in reshapes:
        out = sparse.bcoo_reshape(ma, new_sizes=new)
        assert out.n_batch == nb and math.prod(out.shape[len(new) - out.n_dense:]) == \
            math.prod(a.shape[4 - nd:])
        np.testing.assert_array_equal(_dense_of(out), a.reshape(new))
    with pytest.raises(NotImplementedError, match="the dense dimensions .* reshape among"):
        sparse.bcoo_reshape(ma, new_sizes=(2, 4, 6) if nd == 1 else (2, 6, 4))
    y = a[:, :1]  # (2, 1, 4, 2): the sparse dimension of size 1 grows
    my = sparse.BCOO.fromdense(y, n_batch=nb, n_dense=nd)
    for shape, dims in [((5, 2, 1, 4, 2), (1, 2, 3, 4)), ((2, 3, 4, 2), (0, 1, 2, 3)),
                        ((2, 1, 4, 6, 2), (0, 1, 2, 4)), ((2, 1, 4, 2, 3), (0, 1, 2, 3))]:
        out = sparse.bcoo_broadcast_in_dim(my, shape=shape, broadcast_dimensions=dims)
        want = np.broadcast_to(np.expand_dims(y, [k for k in range(len(shape))
                                                  if k not in dims]), shape)
        np.testing.assert_array_equal(_dense_of(out), want)
    # derivatives in data, under jit

    def g(d):
        m = sparse.BCOO((d, ma.indices), shape=ma.shape)
        c = sparse.bcoo_concatenate([m, mb], dimension=3)
        r = sparse.bcoo_reshape(c, new_sizes=(2, 12, 4) if nd == 1 else (2, 3, 16))
        return fnp.tanh(r.todense()) * fnp.sum(d)
    check_grads(g, (ma.data,), order=2)
    np.testing.assert_allclose(np.asarray(ft.jit(g)(ma.data)), np.asarray(g(ma.data)),
                               rtol=1e-14)


def test_dense_dimensions_sparse_sparse_products():
    a = _X4[0]  # (3, 4, 2)
    b = _RNG.normal(size=(3, 4, 2)) * (_RNG.random((3, 4, 2)) < 0.5)
    for nda, ndb in [(1, 1), (1, 0), (0, 2), (2, 2)]:
        ma, mb = sparse.BCOO.fromdense(a, n_dense=nda), sparse.BCOO.fromdense(b, n_dense=ndb)
        np.testing.assert_allclose(_dense_of(ma * mb), a * b, rtol=1e-15)
        got = sparse.bcoo_dot_general(ma, mb, dimension_numbers=(((2,), (2,)), ((), ())))
        np.testing.assert_allclose(_dense_of(got), np.tensordot(a, b, ((2,), (2,))),
                                   rtol=1e-13)
    # batched, blockwise product; derivatives in both operands' data, under jit and vmap
    ma = sparse.BCOO.fromdense(_X4, n_batch=1, n_dense=1)
    mb = sparse.BCOO.fromdense(_X4[::-1], n_batch=1, n_dense=1)
    np.testing.assert_allclose(_dense_of(ma * mb), _X4 * _X4[::-1], rtol=1e-15)

    def h(da, db):
        pa = sparse.BCOO((da, ma.indices), shape=ma.shape)
        pb = sparse.BCOO((db, mb.indices), shape=mb.shape)
        return fnp.sum(fnp.sin((pa * pb).todense()))
    check_grads(h, (ma.data, mb.data), order=2)
    np.testing.assert_allclose(float(ft.jit(h)(ma.data, mb.data)), float(h(ma.data, mb.data)),
                               rtol=1e-14)
    got = ft.vmap(lambda p, q: (p * q).todense())(ma, mb)
    np.testing.assert_allclose(np.asarray(got), _X4 * _X4[::-1], rtol=1e-15)


# -- jit's kept arrays: as many as are asked for -----------------------------------------------

def test_evaluation_keeps_only_arrays_that_are_asked_for():
    """A jitted sparse product retires more large arrays per call than it takes: those kept
    beyond what later equations ask for held memory the allocator could not hand out again,
    so every call's other arrays were fresh memory (page faults) until the kept ones reached
    SPARE_LIMIT (42 calls, 2.5x slower). The kept bytes now stop growing after the first
    call."""
    from functrans import buffers
    if not buffers.ENABLED:
        pytest.skip("no reuse on this interpreter")
    n, nnz = 2000, 20000  # (arrays of 80 and 160 KB: above MIN_BYTES)
    idx = _RNG.integers(0, n, (nnz, 2)).astype(np.int32)
    m = sparse.BCOO((_RNG.normal(size=nnz), idx), shape=(n, n))
    x = _RNG.normal(size=n)
    f = ft.jit(lambda m, x: m @ x)
    want = np.bincount(idx[:, 0], m.data * x[idx[:, 1]], minlength=n)
    buffers.release()
    kept = []
    for _ in range(6):
        np.testing.assert_allclose(np.asarray(f(m, x)), want, rtol=1e-12, atol=1e-12)
        kept.append(buffers._spare_bytes)
    assert kept[1] == kept[-1] and kept[-1] <= 4 * nnz * 8, kept
    buffers.release()


# -- indexing: the caller's axis named past inserted axes and masks ---------------------------

@pytest.mark.parametrize("key", [(None, Ellipsis, None, 7), (np.ones((2, 3), bool), None, 9),
                                 (None, True, 1, 5, np.array([0, 3])),
                                 (None, slice(None), np.array([1]), None, np.array([-5]))],
                         ids=["none-ellipsis", "mask-none", "0d-mask", "none-between"])
def test_advanced_index_errors_name_numpys_axis(key):
    x = np.zeros((2, 3, 4))
    with pytest.raises(IndexError) as want:
        x[key]
    with pytest.raises(IndexError, match=str(want.value)):
        fnp.asarray(x)[key]


# -- batched BCSR ------------------------------------------------------------------------------

def test_batched_bcsr_layout_products_derivatives_and_transforms():
    x = _RNG.normal(size=(3, 4, 5)) * (_RNG.random((3, 4, 5)) < 0.4)
    m = sparse.BCSR.fromdense(x, n_batch=1)
    assert (m.n_batch, m.shape, m.data.shape, m.indptr.shape) == (1, x.shape, (3, m.nse),
                                                                  (3, 5))
    # JAX's layout: each matrix's entries row by row, padded to the largest count
    counts = (x != 0).sum(axis=(1, 2))
    assert m.nse == counts.max()
    np.testing.assert_array_equal(np.asarray(m.indptr)[:, -1], counts)
    np.testing.assert_array_equal(np.asarray(m.indptr)[:, 1:] - np.asarray(m.indptr)[:, :-1],
                                  (x != 0).sum(axis=2))
    np.testing.assert_array_equal(np.asarray(m.todense()), x)
    np.testing.assert_array_equal(np.asarray(m.to_bcoo().todense()), x)
    np.testing.assert_array_equal(np.asarray(m.T.todense()), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(
        np.asarray(sparse.BCSR.from_bcoo(sparse.BCOO.fromdense(x, n_batch=1)).todense()), x)
    v = _RNG.normal(size=5)
    np.testing.assert_allclose(np.asarray(m @ v), x @ v, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(ft.jit(lambda a, v: a @ v)(m, v)), x @ v, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(ft.vmap(lambda a: a @ v)(m)), x @ v, rtol=1e-13)
    g = ft.grad(lambda a: fnp.sum(fnp.sin(a @ v)))(m)
    assert isinstance(g, sparse.BCSR) and g.shape == m.shape
    check_grads(lambda d: fnp.sin(sparse.BCSR((d, m.indices, m.indptr), shape=m.shape) @ v),
                (m.data,), order=2)
    two = sparse.BCSR.fromdense(x.reshape(3, 1, 4, 5), n_batch=2)
    np.testing.assert_array_equal(np.asarray(two.todense()), x.reshape(3, 1, 4, 5))
    with pytest.raises(ValueError, match=r"indptr must have shape batch \+ \(rows \+ 1,\) = "
                                         r"\(3, 5\)"):
        sparse.BCSR((m.data, m.indices, m.indptr[:2]), shape=m.shape)
    # (dense dimensions: since session 30, tests/test_s30_gaps30.py)
    np.testing.assert_array_equal(
        np.asarray(sparse.BCSR.fromdense(x, n_dense=1).todense()), x)
    # the constructors' sparse_format="bcsr"
    e = sparse.eye(3, 4, k=1, sparse_format="bcsr")
    assert isinstance(e, sparse.BCSR)
    np.testing.assert_array_equal(np.asarray(e.todense()), np.eye(3, 4, k=1))
    np.testing.assert_array_equal(np.asarray(e.indptr), [0, 1, 2, 3])
    z = sparse.empty((2, 3), nse=2, sparse_format="bcsr")
    assert isinstance(z, sparse.BCSR) and z.nse == 2
    np.testing.assert_array_equal(np.asarray(z.todense()), np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="for a matrix, 'bcsr'"):
        sparse.empty((2, 2, 2), sparse_format="bcsr")


# -- multivariate_normal(allow_singular=True) --------------------------------------------------

def test_multivariate_normal_allow_singular_values_and_derivatives():
    import scipy.stats as st
    from functrans.scipy import stats as fst
    mvn = fst.multivariate_normal
    a = _RNG.normal(size=(4, 2))
    cov = a @ a.T  # rank 2
    mu = _RNG.normal(size=4)
    on = mu + _RNG.normal(size=(5, 2)) @ a.T  # on mu + the range of cov
    off = on + _RNG.normal(size=(5, 4))
    for c in (cov, cov + np.eye(4), np.array([1.0, 0.0, 2.0, 0.0]), 2.0):
        for x in (on, off):
            np.testing.assert_allclose(np.asarray(mvn.logpdf(x, mu, c, allow_singular=True)),
                                       st.multivariate_normal.logpdf(x, mu, c, True),
                                       rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(mvn.pdf(off, mu, cov, True)), np.zeros(5))
    np.testing.assert_allclose(np.asarray(ft.jit(lambda x: mvn.logpdf(x, mu, cov, True))(on)),
                               st.multivariate_normal.logpdf(on, mu, cov, True), rtol=1e-12)
    got = ft.vmap(lambda m: mvn.logpdf(on[0], m, cov, True))(np.stack([mu, on[1]]))
    np.testing.assert_allclose(np.asarray(got), [st.multivariate_normal.logpdf(
        on[0], m, cov, True) for m in (mu, on[1])], rtol=1e-12)
    # derivatives: in x and mean (a nonsingular cov: every direction), and along the
    # directions that stay in the support (x on the range, cov keeping its range and rank)
    check_grads(lambda x, m: mvn.logpdf(x, m, cov + np.eye(4), allow_singular=True),
                (off, mu), order=2)
    h = 1e-5
    tx = _RNG.normal(size=(5, 2)) @ a.T
    _, jx = ft.jvp(lambda x: mvn.logpdf(x, mu, cov, allow_singular=True), (on,), (tx,))
    fd = (st.multivariate_normal.logpdf(on + h * tx, mu, cov, True)
          - st.multivariate_normal.logpdf(on - h * tx, mu, cov, True)) / (2 * h)
    np.testing.assert_allclose(np.asarray(jx), fd, rtol=1e-6)
    s = _RNG.normal(size=(2, 2))
    tc = a @ (s + s.T) @ a.T
    _, jc = ft.jvp(lambda c: mvn.logpdf(on, mu, c, allow_singular=True), (cov,), (tc,))
    fd = (st.multivariate_normal.logpdf(on, mu, cov + h * tc, True)
          - st.multivariate_normal.logpdf(on, mu, cov - h * tc, True)) / (2 * h)
    np.testing.assert_allclose(np.asarray(jc), fd, rtol=1e-6)
    g = ft.grad(lambda c: fnp.sum(mvn.logpdf(on, mu, c, allow_singular=True)))(cov)
    np.testing.assert_allclose(np.sum(np.asarray(g) * tc), np.sum(jc), rtol=1e-10)
    # not positive semi-definite: nan (SciPy raises ValueError)
    assert np.isnan(np.asarray(mvn.logpdf(on, mu, -cov, allow_singular=True))).all()


# -- gammainc's third derivative in a (x < a + 1) ----------------------------------------------

def test_gammainc_third_derivative_in_a():
    mpmath = pytest.importorskip("mpmath")
    f3 = ft.grad(ft.grad(ft.grad(fs.gammainc)))
    # small and large shapes, x from far below a + 1 to just below it (Stirling's forms of
    # the prefactor for a >= 10: 1e-13 up to a = 1e5)
    pts = [(0.05, 0.03), (0.5, 0.3), (2.0, 1.5), (7.0, 7.2), (30.0, 15.0), (1e3, 900.0),
           (1e4, 9990.0), (1e5, 99000.0)]
    a, x = (np.array(c) for c in zip(*pts))
    with mpmath.workdps(40):
        want = [float(mpmath.diff(lambda t: mpmath.gammainc(t, 0, xi, regularized=True),
                                  ai, 3)) for ai, xi in pts]
        mixed = float(mpmath.diff(lambda t, y: mpmath.gammainc(t, 0, y, regularized=True),
                                  (2.0, 1.5), (3, 1)))
    np.testing.assert_allclose(np.asarray(ft.vmap(f3)(a, x)), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ft.jit(ft.vmap(f3))(a, x)), want, rtol=1e-12)
    # gammaincc's is the negated one; a fourth derivative mixing in x (closed form in x)
    assert float(ft.grad(ft.grad(ft.grad(fs.gammaincc)))(2.0, 1.5)) == pytest.approx(
        -want[2], rel=1e-13)
    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fs.gammainc, 1))))
    assert float(d4(2.0, 1.5)) == pytest.approx(mixed, rel=1e-12)
    # the JVP of the second derivative against central differences of it
    check_grads(lambda a_, x_: ft.grad(ft.grad(fs.gammainc))(a_, x_),
                (np.array(2.0), np.array(1.5)), order=1, modes=("fwd",))
    # edges: 0 at x = 0 (a > 1), as the lower orders'; the primitive's nan for invalid
    # arguments (the namespace gives those their values without it)
    assert float(f3(2.0, 0.0)) == 0.0
    from functrans.primitives import special as sp_prims
    assert np.isnan(np.asarray(sp_prims.gammainc_da(np.array([2.0]), np.array([-1.0]), n=3))
                    ).all()
    # (x >= a + 1: from session 30, tests/test_s30_gaps30.py)
    with pytest.raises(NotImplementedError, match="fourth derivative"):
        ft.grad(f3)(2.0, 1.5)
