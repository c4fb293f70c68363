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
