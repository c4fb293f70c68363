"""Session 38, linalg38: linear-algebra edge cases left from session 37. vector_norm's
derivatives at zeros stay within their own slice (ord 0 < p < 2, p != 1, and p < 0, in every
nesting of forward and reverse mode, under jit and vmap); lu_factor keeps the signs of zeros
as LAPACK does; expm in single precision with its own Pade degree; expm's non-finite
diagonals under jit."""

import math
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg


def _same(a, b, rtol=1e-14):
    """Equal NaN patterns, the rest to rounding (the eager gate reads all rows at once: a
    batch with a zero takes the masked form, one without the plain one)."""
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol, atol=1e-16)


def _np(backend, x):
    assert backend.is_own(x), type(x)
    return np.asarray(backend.to_numpy(x))


# -- vector_norm: a slice's derivatives depend only on that slice ----------------------------

_NESTINGS = {
    "rev(fwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
    "fwd(rev)": lambda f: ft.jacfwd(ft.jacrev(f)),
    "fwd(fwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "rev(rev)": lambda f: ft.jacrev(ft.jacrev(f)),
}

# rows of 3 with zeros (a zero beside non-zeros, two zeros, a slice summing to 0) and one
# without any
_ROWS = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [0.0, 1.0, -1.0], [0.0, 0.0, -1.0],
                  [1.0, -2.0, 0.0]])


def _expected_nans(v, p, order):
    """The entries of one slice's derivatives (first: (j,), second: (j, k)) that are
    undefined at its zeros, for |x|**p summed: p < 0: those that move a zero (and, second,
    two zeros); 0 < p < 1: those that move a zero; 1 < p < 2: the second one that moves one
    zero twice."""
    z = v == 0
    if order == 1:
        return z if p < 1 else np.zeros_like(z)
    if p < 0:
        return z[:, None] & z[None, :]
    if p < 1:
        return z[:, None] | z[None, :]
    return np.diag(z)


def _second_own(p, row):
    """The Hessian of the norm of one row alone, by mpmath at the points where it is
    defined (central differences of the closed-form gradient)."""
    mpmath = pytest.importorskip("mpmath")
    if p < 0 and (row == 0).any():
        # the norm is 0 wherever a zero stays 0, and ~ |x0| near it: 0 where defined
        return np.zeros((3, 3))
    with mpmath.workdps(40):
        def grad(x):
            s = sum(abs(t) ** p for t in x)
            n = s ** (1 / mpmath.mpf(p))
            return [n / s * abs(t) ** (p - 1) * mpmath.sign(t) if t != 0 else mpmath.mpf(0)
                    for t in x]
        x0 = [mpmath.mpf(float(t)) for t in row]
        h = mpmath.mpf(10) ** -15
        out = np.zeros((3, 3))
        for k in range(3):
            up = list(x0)
            dn = list(x0)
            up[k] += h
            dn[k] -= h
            gu, gd = grad(up), grad(dn)
            for j in range(3):
                out[j, k] = float((gu[j] - gd[j]) / (2 * h))
        return out


@pytest.mark.parametrize("p", [0.5, 0.3, -1.0, -0.5, -2.0, 1.5])
@pytest.mark.parametrize("nest", sorted(_NESTINGS))
def test_vector_norm_zero_stays_in_its_slice(p, nest):
    # jacrev(jacfwd(vector_norm(ord=0.5, axis=1))) at [[0, 1, 2], [1, 2, 3]] was NaN at
    # d out0 / d x1k d x00 (session 37); ord=-1's hessian NaN at d out1 / d x00^2; 1.5's NaN
    # in the zero's row or column of every slice (or everywhere, fwd(fwd))
    f = lambda x: la.vector_norm(x, ord=p, axis=1)
    h = np.asarray(_NESTINGS[nest](f)(_ROWS))
    n = _ROWS.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                block = h[i, j, :, k, :]
                if j == i and k == i:
                    want = _expected_nans(_ROWS[i], p, 2)
                    np.testing.assert_array_equal(np.isnan(block), want, err_msg=f"{i}")
                else:  # another slice: exactly 0
                    assert np.array_equal(block, np.zeros_like(block)), (i, j, k, block)
    # the defined second derivatives of the own slices (the same in every nesting)
    for i in (0, 1, 4):
        block = h[i, i, :, i, :]
        want = _second_own(p, _ROWS[i])
        ok = ~np.isnan(block)
        np.testing.assert_allclose(block[ok], want[ok], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("p", [0.5, -1.0, 1.5])
def test_vector_norm_zero_first_derivatives(p):
    f = lambda x: la.vector_norm(x, ord=p, axis=1)
    for jac in (ft.jacfwd, ft.jacrev):
        j = np.asarray(jac(f)(_ROWS))
        for i in range(_ROWS.shape[0]):
            for k in range(_ROWS.shape[0]):
                if k != i:
                    assert np.array_equal(j[i, k], np.zeros(3))
            np.testing.assert_array_equal(np.isnan(j[i, i]), _expected_nans(_ROWS[i], p, 1))


@pytest.mark.parametrize("p", [0.5, -1.0, 1.5])
def test_vector_norm_zero_jit_vmap_same(p):
    f = lambda x: la.vector_norm(x, ord=p, axis=1)
    hess = ft.jacrev(ft.jacfwd(f))
    eager = np.asarray(hess(_ROWS))
    _same(ft.jit(hess)(_ROWS), eager)
    # per row under vmap: each row's own block
    row_hess = ft.vmap(ft.hessian(lambda r: la.vector_norm(r, ord=p)))
    per_row = np.asarray(row_hess(_ROWS))
    for i in range(_ROWS.shape[0]):
        _same(per_row[i], eager[i, i, :, i, :])
    _same(ft.jit(row_hess)(_ROWS), per_row)


def test_vector_norm_values_unchanged_at_zeros():
    # the eager no-zero gate and the masked form give NumPy's values (also with inf, nan)
    x = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [0.0, np.inf, 1.0], [0.0, 1.0, np.nan],
                  [0.0, 0.0, 0.0], [-0.0, 3.0, -4.0]])
    for p in (0.5, 0.3, -1.0, -0.5, 1.5, 1.2):
        want = np.linalg.norm(x, ord=p, axis=1)
        for f in (lambda v: la.vector_norm(v, ord=p, axis=1),
                  ft.jit(lambda v: la.vector_norm(v, ord=p, axis=1))):
            np.testing.assert_allclose(np.asarray(f(x)), want, rtol=1e-15)
        kept = np.asarray(la.vector_norm(x, ord=p, axis=1, keepdims=True))
        np.testing.assert_allclose(kept, want[:, None], rtol=1e-15)


def test_vector_norm_complex_zero_stays_in_its_slice():
    x = np.array([[0.0, 1.0 + 1.0j, 2.0], [1.0j, 2.0, 3.0 - 1.0j]])
    f = lambda v: la.vector_norm(v, ord=0.5, axis=1)
    np.testing.assert_allclose(np.asarray(f(x)), np.linalg.norm(x, ord=0.5, axis=1),
                               rtol=1e-15)
    # as a function of the real and imaginary parts
    g = lambda re, im: f(re + 1j * im)
    h = ft.jacrev(ft.jacfwd(g, argnums=(0, 1)), argnums=(0, 1))(x.real, x.imag)
    for a in range(2):
        for b in range(2):
            blk = np.asarray(h[a][b])   # (out, row, col, row, col)
            assert np.array_equal(blk[0, 1], np.zeros_like(blk[0, 1]))
            assert np.array_equal(blk[0, :, :, 1], np.zeros_like(blk[0, :, :, 1]))
            assert np.array_equal(blk[1, 0], np.zeros_like(blk[1, 0]))
            assert np.array_equal(blk[1, :, :, 0], np.zeros_like(blk[1, :, :, 0]))
    # slice 0's zero x00: NaN with every element of its slice, finite between the others
    rr = np.asarray(h[0][0])[0, 0, :, 0, :]
    assert np.isnan(rr[0]).all() and np.isnan(rr[:, 0]).all()
    assert np.isfinite(rr[1:, 1:]).all()


def test_vector_norm_zero_backends(backend):
    x = backend.asarray(_ROWS[:2])
    f = lambda v: la.vector_norm(v, ord=0.5, axis=1)
    h = _np(backend, ft.jacrev(ft.jacfwd(f))(x))
    want = np.asarray(ft.jacrev(ft.jacfwd(f))(_ROWS[:2]))
    _same(h, want)
    assert np.array_equal(h[0, 1], np.zeros((3, 2, 3)))
    assert np.isnan(h[0, 0, 0, 0, 0])


# -- lu_factor: the signs of zeros ----------------------------------------------------------


_SIGNED_ZEROS = [
    [[-0.0, 1.0], [0.0, 2.0]],          # a -0.0 zero pivot (session 37)
    [[0.0, -0.0], [-1.0, 0.0]],         # U[1, 1] = -0 - (-0 * 0): was +0, LAPACK's -0
    [[1.0, 1.0], [-0.0, -0.0]],         # -0 - (-0 * 1)
    [[-0.0, -0.0], [0.0, -0.0]],
    [[-0.0, -3.0], [0.0, -0.0]],
    [[-0.0, 0.0, 1.0], [0.0, -0.0, 2.0], [0.0, 0.0, 3.0]],
]


@pytest.mark.parametrize("m", _SIGNED_ZEROS, ids=str)
def test_lu_factor_signed_zeros_as_lapack(m):
    sl = pytest.importorskip("scipy.linalg")
    a = np.array(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu, piv = fsl.lu_factor(a)
        want_lu, want_piv = sl.lu_factor(a)
        np.testing.assert_array_equal(np.asarray(piv), want_piv)
        np.testing.assert_array_equal(np.asarray(lu), want_lu)
        np.testing.assert_array_equal(np.signbit(np.asarray(lu)), np.signbit(want_lu))
        b = np.arange(1.0, a.shape[0] + 1)
        for trans in (0, 1):
            np.testing.assert_array_equal(np.asarray(fsl.lu_solve((lu, piv), b, trans=trans)),
                                          sl.lu_solve((want_lu, want_piv), b, trans=trans))


def test_lu_factor_signed_zeros_fuzz():
    # 2 x 2 and 3 x 3 matrices of signed zeros and small integers: the same pivots, and the
    # same zeros with the same signs where the values agree (542 of 1200 lu_solve results
    # differed before, by the signs of infinities)
    sl = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(38)
    vals = np.array([-0.0, 0.0, 1.0, -1.0, 2.0, -3.0])
    for size in (2, 3):
        for _ in range(30):
            a = rng.choice(vals, size=(size, size), p=[0.3, 0.3, 0.1, 0.1, 0.1, 0.1])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lu, piv = (np.asarray(t) for t in fsl.lu_factor(a))
                want_lu, want_piv = sl.lu_factor(a)
            np.testing.assert_array_equal(piv, want_piv)
            same = lu == want_lu
            assert np.array_equal(np.signbit(lu[same]), np.signbit(want_lu[same])), a.tolist()


def test_lu_factor_signed_zero_grad_unchanged():
    # the +0 added to the update carries no derivative: grad as before through a regular LU
    a = np.array([[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [2.0, -1.0, 5.0]])
    f = lambda x: fnp.sum(fsl.lu_factor(x)[0] ** 2)
    g = np.asarray(ft.grad(f)(a))
    e = 1e-6
    fd = np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            d = np.zeros_like(a)
            d[i, j] = e
            fd[i, j] = (float(f(a + d)) - float(f(a - d))) / (2 * e)
    np.testing.assert_allclose(g, fd, rtol=1e-7)


# -- expm: single precision with its own approximant ------------------------------------------


def _expm_reference(a, dps=40):
    mpmath = pytest.importorskip("mpmath")
    complex_ = np.iscomplexobj(a)
    with mpmath.workdps(dps):
        e = mpmath.expm(mpmath.matrix(np.asarray(a, dtype=complex if complex_ else float)
                                      .tolist()))
        return np.array(e.tolist(), dtype=complex if complex_ else float)


def test_expm_float32_one_by_one_correctly_rounded():
    # [13/13] at float64's theta: 4e-6 relative off (SciPy 2e-8); a 1 x 1 is exp of its entry
    a = np.float32([[-19.747396]])
    got = np.asarray(fsl.expm(a))
    assert got.dtype == np.float32
    want = _expm_reference(a)
    assert abs(float(got[0, 0]) - want[0, 0]) / want[0, 0] < 6e-8
    np.testing.assert_array_equal(np.asarray(ft.jit(fsl.expm)(a)), got)
    # a 1 x 1 with max_squarings keeps JAX's general path (nan past the limit)
    assert np.isnan(np.asarray(fsl.expm(np.array([[1e6]]), max_squarings=4))).all()
    # non-finite 1 x 1: SciPy's exp of the entry, also under jit
    for v, w in ((np.inf, np.inf), (-np.inf, 0.0)):
        assert np.asarray(ft.jit(fsl.expm)(np.array([[v]])))[0, 0] == w
    # the derivative is exp's
    g = ft.grad(lambda x: fsl.expm(x)[0, 0])(np.array([[0.7]]))
    np.testing.assert_allclose(np.asarray(g), [[math.exp(0.7)]], rtol=1e-15)


def test_expm_float32_pade7_accuracy():
    # 20 float32 and 6 complex64 matrices of 2 x 2 to 5 x 5 and norms to ~40, vs mpmath:
    # the [7/7] approximant at float32's theta: worst 5.3e-6 of the largest entry (the
    # [13/13] at float64's: 1.6e-5; SciPy's 2.5e-5)
    rng = np.random.default_rng(3)
    mats = [(rng.normal(size=(n, n)) * sc).astype(np.float32)
            for n in (2, 3, 5) for sc in (0.5, 2.0, 6.0, 15.0)][:10]
    mats += [np.float32([[-1.0, 1e4, 0.0], [0.0, -2.0, 1e4], [0.0, 0.0, -3.0]]),
             np.float32([[0.0, 1e6], [0.0, -1.0]])]
    mats += [((rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))) * sc)
             .astype(np.complex64) for sc in (1.0, 5.0)]
    worst = 0.0
    for a in mats:
        got = np.asarray(fsl.expm(a))
        assert got.dtype == a.dtype
        want = _expm_reference(a)
        worst = max(worst, np.abs(got - want).max() / np.abs(want).max())
    assert worst < 1e-5, worst


def test_expm_float32_squarings_single_theta():
    # expm_squarings in single precision counts with [7/7]'s theta 3.925 (float64: 4.25)
    from functrans.primitives import linalg as L
    for x, s32, s64 in ((3.9, 0, 0), (4.0, 1, 0), (4.3, 1, 1), (19.747396, 3, 3)):
        assert float(L.expm_squarings(np.float32([[x]]))) == s32
        assert float(L.expm_squarings(np.array([[x]]))) == s64


def test_expm_float32_derivative():
    a = np.array([[0.3, -1.2, 0.4], [0.5, 0.1, 2.0], [-0.7, 0.2, -0.4]], dtype=np.float32)
    e = np.array([[0.2, 0.1, -0.3], [0.0, 0.5, 0.1], [0.4, -0.2, 0.3]], dtype=np.float32)
    _, t = ft.jvp(fsl.expm, (a,), (e,))
    assert np.asarray(t).dtype == np.float32
    n = 3
    a64, e64 = a.astype(float), e.astype(float)
    want = _expm_reference(np.block([[a64, e64], [np.zeros((n, n)), a64]]))[:n, n:]
    np.testing.assert_allclose(np.asarray(t), want, rtol=2e-5, atol=2e-6)


# -- expm: -inf on the diagonal ----------------------------------------------------------------


def _expm_limit(a, big=1e12):
    """expm with each -inf replaced by -big, at 80 digits: the limit to O(1/big)."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(80):
        m = mpmath.matrix([[mpmath.mpf(-big) if v == -np.inf else mpmath.mpf(float(v))
                            for v in row] for row in a.tolist()])
        return np.array(mpmath.expm(m, method="pade").tolist(), dtype=float)


_NEG_INF = {
    "upper 2x2": np.array([[-np.inf, 1.0], [0.0, 1.0]]),        # was nan; SciPy nan too
    "full 2x2": np.array([[-np.inf, 1.0], [1.0, 0.0]]),
    "last 2x2": np.array([[0.3, 1.0], [2.0, -np.inf]]),
    "middle 3x3": np.array([[1.0, 2.0, 0.5], [0.3, -np.inf, 1.0], [0.2, 0.1, 0.5]]),
    "two 3x3": np.array([[-np.inf, 2.0, 1.0], [0.0, -np.inf, 3.0], [0.0, 0.0, 1.0]]),
}


@pytest.mark.parametrize("name", sorted(_NEG_INF))
def test_expm_negative_infinite_diagonal_limit(name):
    a = _NEG_INF[name]
    got = np.asarray(fsl.expm(a))
    np.testing.assert_allclose(got, _expm_limit(a), atol=1e-10)
    drop = np.isneginf(np.diag(a))
    assert np.all(got[drop] == 0) and np.all(got[:, drop] == 0)
    # the derivative: 0 in the dropped rows and columns, the reduced matrix's elsewhere
    j = np.asarray(ft.jacfwd(fsl.expm)(a))
    assert np.isfinite(j).all()
    assert np.all(j[drop] == 0) and np.all(j[:, drop] == 0)
    assert np.all(j[:, :, drop] == 0) and np.all(j[:, :, :, drop] == 0)
    keep = np.flatnonzero(~drop)
    sub = np.ix_(keep, keep, keep, keep)
    np.testing.assert_allclose(j[sub], np.asarray(ft.jacfwd(fsl.expm)(a[np.ix_(keep, keep)])),
                               rtol=1e-13, atol=1e-15)


def test_expm_negative_infinite_in_a_stack():
    ordinary = np.array([[0.5, 1.0, 0.0], [0.2, 0.3, 0.1], [0.0, 1.0, -1.0]])
    s = np.stack([_NEG_INF["middle 3x3"], ordinary])
    np.testing.assert_array_equal(np.asarray(fsl.expm(s))[1], np.asarray(fsl.expm(ordinary)))
    j = np.asarray(ft.jacfwd(fsl.expm)(s))
    assert np.isfinite(j).all()
    np.testing.assert_array_equal(j[1, :, :, 1], np.asarray(ft.jacfwd(fsl.expm)(ordinary)))
    assert np.all(j[1, :, :, 0] == 0) and np.all(j[0, :, :, 1] == 0)


def test_expm_negative_infinite_other_nonfinite_stays_nan():
    # a +inf or nan off the diagonal beside the -inf: no limit taken (nan, as before)
    for a in (np.array([[-np.inf, np.inf], [0.0, 1.0]]),
              np.array([[-np.inf, 1.0], [np.nan, 1.0]]),
              np.array([[1.0, np.inf], [0.0, -np.inf]])):
        assert np.isnan(np.asarray(fsl.expm(a))).any()
