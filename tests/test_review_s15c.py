"""Review of session 15's later additions (ufunc/frompyfunc methods, scipy.stats tails,
scipy.signal's Welch estimates): regressions for the problems found, each against a
NumPy/SciPy reference."""

import numpy as np
import pytest
import scipy.signal
import scipy.stats

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.signal as fsig
import functrans.scipy.stats as fstats


def _affine(x, y):
    return x * y + 1.0


def _at_reference(a, index, b):
    """NumPy's unbuffered ``a[index] = f(a[index], b)``, one element at a time."""
    a = a.copy()
    pos = np.arange(a.size).reshape(a.shape)[index].reshape(-1)
    vals = np.broadcast_to(b, np.shape(pos)).reshape(-1) if np.ndim(b) else [b] * pos.size
    flat = a.reshape(-1)
    for p, v in zip(pos, vals):
        flat[p] = _affine(flat[p], v)
    return flat.reshape(a.shape)


# -- functrans.numpy.ufunc.at / reduceat ---------------------------------------------------------


def test_ufunc_at_takes_a_tuple_of_index_arrays(backend):
    # A tuple (rows, cols) was stacked into one 2-d index of the first axis: in range, a
    # silently different update (JAX and NumPy index one element per pair).
    u = fnp.frompyfunc(_affine, 2, 1)
    a = np.arange(9.0).reshape(3, 3)
    rows, cols = np.array([0, 2, 0, -1]), np.array([1, 2, 1, 0])
    b = np.array([2.0, 3.0, 4.0, 5.0])
    out = u.at(backend.asarray(a), (backend.asarray(rows, "int64"), backend.asarray(cols, "int64")),
               backend.asarray(b), inplace=False)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), _at_reference(a, (rows, cols), b))
    # a slice, and under jit with traced indices
    np.testing.assert_allclose(backend.to_numpy(u.at(backend.asarray(a), slice(1, 3), 2.0)),
                               _at_reference(a, slice(1, 3), 2.0))
    got = ft.jit(lambda a, i, j: u.at(a, (i, j), 2.0))(backend.asarray(a), backend.asarray(rows, "int64"),
                                                        backend.asarray(cols, "int64"))
    np.testing.assert_allclose(backend.to_numpy(got), _at_reference(a, (rows, cols), 2.0))


def test_ufunc_at_derivative_with_tuple_indices():
    u = fnp.frompyfunc(_affine, 2, 1)
    rows, cols = np.array([0, 0, 1]), np.array([1, 1, 0])
    g = ft.grad(lambda a: fnp.sum(u.at(a, (rows, cols), 3.0) ** 2))(np.arange(4.0).reshape(2, 2))
    # a[0, 1] -> 3 (3 a + 1) + 1 = 9 a + 4; a[1, 0] -> 3 a + 1; others unchanged
    a = np.arange(4.0).reshape(2, 2)
    want = 2 * np.array([[a[0, 0], 9 * (9 * a[0, 1] + 4)], [3 * (3 * a[1, 0] + 1), a[1, 1]]])
    np.testing.assert_allclose(np.asarray(g), want)


def test_ufunc_reduceat_empty_indices_and_axis_none():
    u = fnp.frompyfunc(_affine, 2, 1)
    a = np.ones((2, 3))
    out = u.reduceat(a, [], axis=1)
    assert tuple(out.shape) == np.add.reduceat(a, [], axis=1).shape == (2, 0)
    with pytest.raises(ValueError, match="axis"):
        u.reduceat(a, [0, 1], axis=None)


# -- scipy.stats.beta: survival function and log-CDF at a tiny x --------------------------------


def test_beta_tails_at_a_tiny_x(backend):
    # 1 - 1e-20 rounds to 1: sf(1e-20, 0.01, 20) was 1 (SciPy: 0.346) and logcdf -inf
    # (SciPy: -0.425); logcdf(1e-10) had lost 8 digits.
    x = np.array([1e-30, 1e-20, 1e-10, 0.3, 0.999])
    for method in ("sf", "logsf", "logcdf"):
        got = getattr(fstats.beta, method)(backend.asarray(x), 0.01, 20.0)
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got),
                                   getattr(scipy.stats.beta, method)(x, 0.01, 20.0),
                                   rtol=1e-12, err_msg=method)
    # and the derivatives there are finite (the density over the probability)
    d = ft.grad(lambda z: fstats.beta.logsf(z, 0.01, 20.0))(backend.asarray(1e-20))
    want = -scipy.stats.beta.pdf(1e-20, 0.01, 20.0) / scipy.stats.beta.sf(1e-20, 0.01, 20.0)
    np.testing.assert_allclose(backend.to_numpy(d), want, rtol=1e-10)


# -- scipy.signal.welch / csd: a callable detrend ------------------------------------------------


def test_welch_callable_detrend_gets_each_segment():
    # SciPy calls it once per segment (shape (..., nperseg)); all segments at once gave a
    # function like ``s - mean(s)`` the mean over every segment.
    x = np.random.default_rng(0).standard_normal((2, 48))
    f, p = fsig.welch(x, nperseg=16, detrend=lambda s: s - fnp.mean(s))
    f0, p0 = scipy.signal.welch(x, nperseg=16, detrend=lambda s: s - s.mean())
    np.testing.assert_allclose(np.asarray(p), p0, rtol=1e-12, atol=1e-15)
    # stft (SciPy's older helper) passes all segments at once, unchanged
    z = fsig.stft(x[0], nperseg=16, detrend=lambda s: s - fnp.mean(s))[2]
    z0 = scipy.signal.stft(x[0], nperseg=16, detrend=lambda s: s - s.mean())[2]
    np.testing.assert_allclose(np.asarray(z), z0, rtol=1e-12, atol=1e-15)


# -- scipy.sparse.linalg: a preconditioner built from values being differentiated ----------------


def _spd(n=3):
    rng = np.random.default_rng(3)
    b = rng.standard_normal((n, n))
    return b @ b.T + n * np.eye(n), rng.standard_normal(n)


@pytest.mark.parametrize("solver", ["cg", "gmres"])
def test_solver_derivative_with_a_preconditioner_of_the_differentiated_value(backend, solver):
    # M closing over t (a Jacobi preconditioner of A + t I) raised CustomRuleError, and a
    # matrix M being differentiated too; JAX drops the preconditioner's tangents (the
    # solution does not depend on it).
    from functrans.scipy.sparse import linalg as fsl
    a, b = _spd()
    A, bb = backend.asarray(a), backend.asarray(b)
    dA = backend.asarray(np.diag(a))

    def loss(t):
        x, _ = getattr(fsl, solver)(lambda v: fnp.add(fnp.matmul(A, v), fnp.multiply(t, v)),
                                    bb, tol=1e-13,
                                    M=lambda v: fnp.divide(v, fnp.add(dA, t)))
        return fnp.sum(x * x)
    t0 = 0.3
    x = np.linalg.solve(a + t0 * np.eye(3), b)
    want = -2 * x @ np.linalg.solve(a + t0 * np.eye(3), x)  # d/dt |(A + tI)^-1 b|^2
    g = ft.grad(loss)(backend.asarray(t0))
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-9)
    gm = ft.grad(lambda m: fnp.sum(getattr(fsl, solver)(A, bb, tol=1e-13, M=m)[0]))(
        backend.asarray(np.diag(1 / np.diag(a))))
    np.testing.assert_array_equal(backend.to_numpy(gm), np.zeros((3, 3)))


# (fixed in lax_ops.custom_linear_solve: under jit the solve is staged once and what it closes
# over (the preconditioner) becomes an explicit input without derivative)
@pytest.mark.parametrize("solver", ["cg", "bicgstab", "gmres"])
def test_solver_with_a_traced_preconditioner_under_jit_and_grad(solver):
    from functrans.scipy.sparse import linalg as fsl
    solve = getattr(fsl, solver)
    a, b = _spd()
    m = np.diag(1 / np.diag(a))
    g = ft.jit(ft.grad(lambda bb, mm: fnp.sum(solve(a, bb, tol=1e-13, M=mm)[0])))(b, m)
    np.testing.assert_allclose(np.asarray(g), np.linalg.solve(a.T, np.ones(3)), rtol=1e-9)
    # second order in a parameter of A, the preconditioner still a jit value: d²/dt² of
    # sum((A + tI)⁻¹ b) = 2 1ᵀ(A + tI)⁻³ b
    h = ft.jit(ft.hessian(lambda t, mm: fnp.sum(
        solve(a + t * np.eye(3), b, tol=1e-13, M=mm)[0])))(0.3, m)
    inv = np.linalg.inv(a + 0.3 * np.eye(3))
    np.testing.assert_allclose(float(h), 2 * np.sum(inv @ inv @ inv @ b), rtol=1e-8)


# (fixed in _elementwise.py: each result cast back to the array's dtype)
def test_builtin_at_of_booleans_at_traced_indices_keeps_bool():
    a, b, i = np.array([True, False, True]), np.array([True, True]), np.array([0, 0])
    want = a.copy()
    np.left_shift.at(want, i, b)
    got = ft.jit(lambda a, i, b: fnp.left_shift.at(a, i, b, inplace=False))(a, i, b)
    assert np.asarray(got).dtype == np.bool_
    np.testing.assert_array_equal(np.asarray(got), want)


# -- scipy.special.hyp2f1 (generic version): c a non-positive integer, a polynomial --------------


def test_hyp2f1_polynomial_with_a_negative_integer_c(backend):
    # The transformations (to 1 - x, Pfaff's) assume c is not a non-positive integer: the
    # generic version gave 0, or other wrong values, for these polynomials (torch,
    # array-api-strict); the values are the terms up to the first zero (SciPy, mpmath).
    import scipy.special

    import functrans.scipy.special as fsp
    a = np.array([7.6364562436003744, -3.0, 1.75, -4.0, -2.0, 2.5])
    b = np.array([-2.0, 2.0, -4.0, -0.0, 3.0, -4.0])
    c = np.array([-7.0, -4.0, -5.0, -1.0, -4.0, -7.0])
    x = np.array([-1.03, -2.07, 0.91, -4.83, -0.5, 0.6])
    def terms(a, b, c, x):  # the terminating sum, m the integer among a, b that is >= c
        m, p = (a, b) if (a <= 0 and a == int(a) and a >= c and (a >= b or b > 0
                                                                   or b != int(b) or b < c)) else (b, a)
        total, term = 1.0, 1.0
        for k in range(int(-m)):
            term *= (m + k) * (p + k) / ((c + k) * (k + 1.0)) * x
            total += term
        return total
    want = np.array([terms(*v) for v in zip(a, b, c, x)])
    np.testing.assert_allclose(want, scipy.special.hyp2f1(a, b, c, x),
                               rtol=1e-12)
    got = fsp.hyp2f1(*(backend.asarray(v) for v in (a, b, c, x)))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12)


def test_hyp2f1_derivative_of_the_constant_polynomial(backend):
    # a = 0 (or b = 0) with c a negative integer: 2F1 = 1, slope 0; the slope a b / c
    # 2F1(a + 1, b + 1; c + 1; x) multiplied 0 by SciPy's inf at that pole (nan on NumPy).
    import functrans.scipy.special as fsp
    for a, want in ((0.0, 0.0), (-0.0, 0.0), (-2.0, 2.5)):  # (-2, 3; -4; x) = 1 + 1.5x + x^2
        g = ft.grad(lambda x: fsp.hyp2f1(backend.asarray(a), backend.asarray(3.0),
                                         backend.asarray(-4.0), x))(backend.asarray(0.5))
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-13)


def test_ufunc_reduce_over_a_tuple_of_axes():
    # A tuple axis raised "'<=' not supported between 'int' and 'tuple'"; NumPy folds over
    # several axes (C order) where the ufunc has an identity, else refuses.
    def f(x, y):
        return x * 0.5 + y * y - 1.0
    u = fnp.frompyfunc(f, 2, 1, identity=0)
    ref = np.frompyfunc(f, 2, 1, identity=0)
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    for axis in ((0, 2), (-1,)):
        for keepdims in (False, True):
            want = np.asarray(ref.reduce(a, axis=axis, keepdims=keepdims), dtype=float)
            got = np.asarray(u.reduce(a, axis=axis, keepdims=keepdims))
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-13)
    with pytest.raises(ValueError, match="reorderable"):
        fnp.frompyfunc(f, 2, 1).reduce(a, axis=(0, 1))
