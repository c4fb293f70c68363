"""Session 30 (helper gaps30): missing derivative orders and options in special functions and
linear algebra (see the sections below)."""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fs
from functrans.testing import check_grads

# -- gammainc's third derivative in a where x >= a + 1 -----------------------------------------

# (a, x) from just past a + 1 to far in the tail (P''' far below 1e-200), small and large a;
# x up to a + 1 + sqrt(a)/2 comes from P's series, beyond from Q's continued fraction
_GAMMA_FAR = [(0.01, 1.5), (0.05, 2.0), (0.5, 1.5), (0.5, 30.0), (2.0, 5.0), (2.0, 40.0),
              (7.0, 20.0), (30.0, 31.0), (30.0, 45.0), (100.0, 101.0), (100.0, 130.0),
              (1e3, 1001.0), (1e3, 1100.0), (1e4, 10001.0), (1e4, 10100.0), (1e5, 101000.0),
              (0.3, 500.0), (3.0, 700.0)]


def test_gammainc_third_derivative_past_a_plus_1():
    mpmath = pytest.importorskip("mpmath")
    a, x = (np.array(c) for c in zip(*_GAMMA_FAR))
    with mpmath.workdps(40):  # (-Q''' = P''': Q has no cancellation out here)
        want = [-float(mpmath.diff(lambda t: mpmath.gammainc(t, xi, mpmath.inf,
                                                             regularized=True), ai, 3))
                for ai, xi in _GAMMA_FAR]
    f3 = ft.grad(ft.grad(ft.grad(fs.gammainc)))
    np.testing.assert_allclose(np.asarray(ft.vmap(f3)(a, x)), want, rtol=1e-12)
    # gammaincc's is the negated one; by jvp of the Hessian; and x = a + 1 exactly (where
    # the fraction's third log-derivative alone would lose 1e-10 relative at a = 1e4)
    assert float(ft.grad(ft.grad(ft.grad(fs.gammaincc)))(2.0, 5.0)) == pytest.approx(
        -want[4], rel=1e-13)
    _, t3 = ft.jvp(ft.hessian(lambda s: fs.gammainc(s, 40.0)), (2.0,), (1.0,))
    assert float(t3) == pytest.approx(want[5], rel=1e-13)
    # mixed with x: the JVP in x of the third derivative in a against central differences
    check_grads(lambda v: f3(2.0, v), (np.array(5.0),), order=1, modes=("fwd",))
    # the fourth in a is still refused by name
    with pytest.raises(NotImplementedError, match="gammainc: the fourth derivative"):
        ft.grad(f3)(2.0, 5.0)


# -- scipy.linalg.eigh: type 2 and 3, subset_by_index / subset_by_value, driver ----------------

def _sym_pair(seed, n=4, complex_=False):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    m = rng.normal(size=(n, n))
    if complex_:
        a = a + 1j * rng.normal(size=(n, n))
        m = m + 1j * rng.normal(size=(n, n))
    return a + a.conj().T, m @ m.conj().T + n * np.eye(n)


def _same_vectors(v, want):
    """Columns equal up to a unit factor each (LAPACK's choice of phase)."""
    v = np.asarray(v)
    phase = np.sum(v.conj() * want, axis=-2)
    phase = phase / np.abs(phase)
    np.testing.assert_allclose(v * phase[..., None, :], want, atol=1e-12)


@pytest.mark.parametrize("complex_", [False, True])
def test_eigh_generalized_types_and_subsets_match_scipy(complex_):
    sl = pytest.importorskip("scipy.linalg")
    import functrans.scipy.linalg as fsl
    a, b = _sym_pair(0, complex_=complex_)
    for kind in (1, 2, 3):
        for kw in ({}, {"subset_by_index": [1, 2]}, {"subset_by_value": [-1.0, 3.0]},
                   {"subset_by_value": [-20.0, 2.0], "lower": False}):
            w, v = fsl.eigh(a, b, type=kind, **kw)
            want_w, want_v = sl.eigh(a, b, type=kind, **kw)
            np.testing.assert_allclose(np.asarray(w), want_w, rtol=1e-12, atol=1e-13)
            _same_vectors(v, want_v)
    # the standard problem's subsets, batched (subset_by_value keeping two of each stack
    # member, from different positions), eigvalsh
    stack = np.stack([a, a + 1.0])
    bounds = [-4.0, 0.0] if complex_ else [-3.0, 1.0]
    for kw in ({"subset_by_index": [0, 2]}, {"subset_by_value": bounds}):
        w, v = fsl.eigh(stack, **kw)
        want_w, want_v = sl.eigh(stack, **kw)
        np.testing.assert_allclose(np.asarray(w), want_w, rtol=1e-12, atol=1e-13)
        _same_vectors(v, want_v)
        np.testing.assert_allclose(np.asarray(fsl.eigvalsh(stack, **kw)), want_w, rtol=1e-12,
                                   atol=1e-13)


def test_eigh_generalized_types_and_subsets_derivatives():
    import functrans.numpy as fnp
    import functrans.scipy.linalg as fsl
    a, b = _sym_pair(1)

    def f(kind, kw):
        def g(a_, b_):  # (sign-invariant in the vectors)
            w, v = fsl.eigh(a_, b_, type=kind, **kw)
            return fnp.sum(w ** 2) + fnp.sum((v * v) ** 2)
        return g

    for kind, kw in ((2, {}), (3, {"subset_by_index": [1, 3]}),
                     (2, {"subset_by_value": [-30.0, 3.0]})):
        check_grads(f(kind, kw), (a, b), order=2)
    # jit with subset_by_index; subset_by_value needs values (not under jit)
    w = ft.jit(lambda x: fsl.eigh(x, b, type=3, subset_by_index=[2, 3], eigvals_only=True))(a)
    np.testing.assert_allclose(np.asarray(w), np.asarray(fsl.eigh(a, b, type=3)[0])[2:],
                               rtol=1e-13)
    with pytest.raises(ft.errors.ConcretizationError, match="subset_by_value needs concrete"):
        ft.jit(lambda x: fsl.eigh(x, subset_by_value=[0.0, 1.0]))(a)


def test_eigh_argument_errors():
    import functrans.scipy.linalg as fsl
    a, b = _sym_pair(2)
    cases = [({"subset_by_index": [3, 1]}, "subset_by_index .3, 1. is not valid"),
             ({"subset_by_index": [0, 4]}, r"in \[0, 3\]"),
             ({"subset_by_value": [2.0, 1.0]}, "lo < hi"),
             ({"subset_by_index": [0, 1], "subset_by_value": [0, 1]}, "either"),
             ({"driver": "gv"}, "generalized problems"),
             ({"driver": "evx", "b": b}, "standard problems"),
             ({"driver": "ev", "subset_by_index": [0, 1]}, "cannot compute subsets"),
             ({"driver": "x"}, "unknown"),
             ({"type": 4, "b": b}, "1, 2 and 3")]
    for kw, match in cases:
        with pytest.raises(ValueError, match=match):
            fsl.eigh(a, **kw)
    stack = np.stack([a, a + 1.0])
    with pytest.raises(ValueError, match="needs as many in each"):
        fsl.eigh(stack, subset_by_value=[-3.0, 1.5])
    # accepted: a subset driver, type without b (ignored, as SciPy)
    w = fsl.eigh(a, driver="evr", subset_by_index=[0, 1], type=4, eigvals_only=True)
    np.testing.assert_allclose(np.asarray(w), np.linalg.eigvalsh(a)[:2], rtol=1e-13)


def test_lax_eigh_and_svd_subset_by_index():
    import functrans.numpy as fnp
    from functrans import lax
    rng = np.random.default_rng(3)
    a = rng.normal(size=(2, 5, 5))
    a = a + np.swapaxes(a, -1, -2)
    v, w = lax.linalg.eigh(a, subset_by_index=(1, 4))  # (JAX's half-open range)
    want_w, want_v = np.linalg.eigh(a)
    np.testing.assert_allclose(np.asarray(w), want_w[..., 1:4], rtol=1e-13)
    _same_vectors(v, want_v[..., :, 1:4])
    check_grads(lambda x: fnp.sum(lax.linalg.eigh(x, subset_by_index=(3, 5))[1] ** 4), (a,),
                order=2)
    x = rng.normal(size=(4, 6))
    u, s, vh = lax.linalg.svd(x, full_matrices=False, subset_by_index=(1, 3))
    want_u, want_s, want_vh = np.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose(np.asarray(s), want_s[1:3], rtol=1e-13)
    np.testing.assert_allclose(np.asarray(u) @ np.diag(np.asarray(s)) @ np.asarray(vh),
                               want_u[:, 1:3] @ np.diag(want_s[1:3]) @ want_vh[1:3], atol=1e-13)
    np.testing.assert_allclose(np.asarray(lax.linalg.svd(x, compute_uv=False, full_matrices=False,
                                                         subset_by_index=(0, 2))), want_s[:2],
                               rtol=1e-13)
    assert [t.shape for t in lax.linalg.svd(x, subset_by_index=(0, 4))] == [(4, 4), (4,), (6, 6)]
    check_grads(lambda y: fnp.sum(lax.linalg.svd(y, full_matrices=False,
                                                 subset_by_index=(1, 3))[1] ** 3), (x,), order=2)
    with pytest.raises(ValueError, match="full_matrices and subset_by_index"):
        lax.linalg.svd(x, subset_by_index=(1, 3))
    with pytest.raises(ValueError, match="0 <= start <= end <= 5"):
        lax.linalg.eigh(a, subset_by_index=(3, 6))


# -- slogdet's derivative at a singular matrix -------------------------------------------------

def test_slogdet_derivative_at_singular_matrices(backend):
    import functrans.numpy as fnp

    def logabs(x):
        return fnp.sum(fnp.linalg.slogdet(x)[1])

    def grad_np(x):
        with np.errstate(invalid="ignore"):  # (inf * 0 in the transposed products)
            return np.asarray(backend.to_numpy(ft.grad(logabs)(backend.asarray(x))))

    inf, nan = np.inf, np.nan
    # adj(x)^T * inf: the limit of inv(x)^T as det(x) -> 0 from above; these cofactors are
    # exact (a rank-1 PSD matrix, a zero row, the zero matrix: all nan)
    cases = [(np.array([[1.0, 2.0], [2.0, 4.0]]), [[inf, -inf], [-inf, inf]]),
             (np.array([[1.0, 2.0], [0.0, 0.0]]), [[nan, nan], [-inf, inf]]),
             (np.zeros((2, 2)), [[nan, nan], [nan, nan]]),
             (np.diag([2.0, 1.0, 0.0]), [[nan] * 3, [nan] * 3, [nan, nan, inf]])]
    for x, want in cases:
        np.testing.assert_array_equal(grad_np(x), want)
        with np.errstate(invalid="ignore"):
            jf = ft.jacfwd(logabs)(backend.asarray(x))
        np.testing.assert_array_equal(np.asarray(backend.to_numpy(jf)), want)
    # a stack: the regular member's derivative inv(x)^T as before, the singular one's limit
    stack = np.stack([np.diag([2.0, 4.0]), cases[0][0]])
    np.testing.assert_array_equal(grad_np(stack), [[[0.5, 0.0], [0.0, 0.25]], cases[0][1]])
    # the tangent: tr(adj(x) dx) * inf (+-inf by the first-order change of det, nan without)
    x = backend.asarray(cases[0][0])
    with np.errstate(invalid="ignore"):
        t = [float(backend.to_numpy(ft.jvp(logabs, (backend.asarray(p),),
                                           (backend.asarray(d),))[1]))
             for p, d in ((cases[0][0], np.eye(2)), (cases[0][0], -np.eye(2)),
                          (cases[1][0], np.array([[1.0, 0.0], [0.0, 0.0]])))]
    assert t[0] == inf and t[1] == -inf and np.isnan(t[2])
    # the sign has derivative 0; no finite second derivative
    s = ft.jacfwd(lambda y: fnp.linalg.slogdet(y)[0])(x)
    np.testing.assert_array_equal(np.asarray(backend.to_numpy(s)), np.zeros((2, 2)))
    with np.errstate(invalid="ignore"):
        h = np.asarray(backend.to_numpy(ft.hessian(logabs)(x)))
    assert not np.isfinite(h).any()
    if backend.name == "numpy":
        # complex: the limit's phase is undefined, nan (as JAX's)
        xc = np.array([[1 + 1j, 2.0], [1 + 1j, 2.0]])
        with np.errstate(invalid="ignore"):
            gc = np.asarray(ft.grad(logabs)(xc))
            ts, tl = ft.jvp(lambda y: tuple(fnp.linalg.slogdet(y)), (xc,), (np.ones((2, 2), complex),))[1]
        assert np.isnan(gc.real).all() and np.isnan(gc.imag).all()
        assert np.isnan(complex(ts)) and np.isnan(float(tl))
        # (jit and vmap gave LinAlgError here until session 31: tests/test_s31_transfuzz31.py)
        np.testing.assert_array_equal(ft.jit(ft.grad(logabs))(cases[0][0]), cases[0][1])


# -- BCSR with dense dimensions ----------------------------------------------------------------

def _blocks():
    x = np.arange(24.0).reshape(3, 4, 2)
    x[0, 1] = 0.0  # (an entry whose block is all zero: not stored)
    x[2] = 0.0     # (an empty row)
    x[1, 2, 0] = 0.0
    return x


def test_bcsr_dense_dimensions_values():
    from functrans.experimental import sparse
    x = _blocks()
    m = sparse.BCSR.fromdense(x, n_dense=1)
    assert (m.shape, m.n_batch, m.n_dense, m.nse, m.ndim) == ((3, 4, 2), 0, 1, 7, 3)
    assert repr(m) == "BCSR(float64[3, 4, 2], nse=7, n_dense=1)"
    # JAX's layout (rows sorted, columns within a row ascending), independently: each
    # stored block is a column with a nonzero in that row
    rows, cols = np.nonzero(np.any(x != 0, axis=-1))
    np.testing.assert_array_equal(np.asarray(m.indices), cols)
    np.testing.assert_array_equal(np.asarray(m.indptr), np.searchsorted(rows, np.arange(4)))
    np.testing.assert_array_equal(np.asarray(m.data), x[rows, cols])
    np.testing.assert_array_equal(np.asarray(m.todense()), x)
    np.testing.assert_array_equal(np.asarray(m.to_bcoo().todense()), x)
    np.testing.assert_array_equal(
        np.asarray(sparse.BCSR.from_bcoo(sparse.BCOO.fromdense(x, n_dense=1)).todense()), x)
    # products: `@` contracts the last (dense) dimension; the columns by bcoo_dot_general
    v, w = np.array([1.0, -2.0]), np.arange(1.0, 5.0)
    np.testing.assert_allclose(np.asarray(m @ v), x @ v, rtol=1e-15)
    np.testing.assert_allclose(
        np.asarray(sparse.bcoo_dot_general(m.to_bcoo(), w,
                                           dimension_numbers=(((1,), (0,)), ((), ())))),
        np.einsum("ijk,j->ik", x, w), rtol=1e-15)
    np.testing.assert_array_equal(np.asarray(m.T.todense()), x.transpose(1, 0, 2))
    np.testing.assert_array_equal(np.asarray((-(m * 2.0)).todense()), -2.0 * x)
    # a batch of them; jit and vmap
    xb = np.stack([x, x[::-1]])
    mb = sparse.BCSR.fromdense(xb, n_batch=1, n_dense=1)
    assert (mb.n_batch, mb.n_dense, mb.data.shape) == (1, 1, (2, 7, 2))
    np.testing.assert_array_equal(np.asarray(mb.todense()), xb)
    np.testing.assert_array_equal(np.asarray(ft.vmap(lambda a: a.todense())(mb)), xb)
    np.testing.assert_allclose(np.asarray(ft.jit(lambda a, u: a @ u)(m, v)), x @ v, rtol=1e-15)
    np.testing.assert_array_equal(
        np.asarray(ft.jit(lambda y: sparse.BCSR.fromdense(y, nse=7, n_dense=1).todense())(x)), x)
    with pytest.raises(ValueError, match=r"data must have shape batch \+ \(nse,\) \+ dense"):
        sparse.BCSR((m.data[:, :1], m.indices, m.indptr), shape=m.shape)
    with pytest.raises(ValueError, match="the shape must be batch"):
        sparse.BCSR((m.data, m.indices, m.indptr), shape=(3, 4))


def test_bcsr_dense_dimensions_derivatives():
    import functrans.numpy as fnp
    from functrans.experimental import sparse
    x = _blocks()
    m = sparse.BCSR.fromdense(x, n_dense=1)
    v = np.array([0.5, -1.5])

    def f(d):
        a = sparse.BCSR((d, m.indices, m.indptr), shape=m.shape)
        return fnp.sin(a @ v) + fnp.sum(a.todense() ** 2, axis=-1)

    check_grads(f, (np.asarray(m.data),), order=2)
    # grad with respect to the BCSR itself: a BCSR with the same indices; its data the
    # dense gradient at the stored entries (d/dx sum(sin(x @ v)) = cos(x @ v) v)
    g = ft.grad(lambda a: fnp.sum(fnp.sin(a @ v)))(m)
    assert isinstance(g, sparse.BCSR) and g.n_dense == 1
    np.testing.assert_array_equal(np.asarray(g.indices), np.asarray(m.indices))
    dense_g = np.cos(x @ v)[..., None] * v
    rows, cols = np.nonzero(np.any(x != 0, axis=-1))
    np.testing.assert_allclose(np.asarray(g.data), dense_g[rows, cols], rtol=1e-14)
    # through fromdense (a fixed nse): the stored blocks' gradient, 0 elsewhere
    h = ft.grad(lambda y: fnp.sum(sparse.BCSR.fromdense(y, nse=7, n_dense=1).todense() ** 3))
    stored = np.any(x != 0, axis=-1)[..., None]
    np.testing.assert_allclose(np.asarray(h(x)), np.where(stored, 3 * x ** 2, 0.0), rtol=1e-15)
