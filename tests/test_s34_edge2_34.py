"""Session 34, values and derivatives at edge points compared with SciPy / NumPy and JAX 0.10.2
(x64) (helper edge2_34): scipy.linalg.lu_solve at a zero pivot, nn.log_softmax at +inf, and the
sweep of scipy.linalg and fft at edge inputs.

Expected values are derived by hand (the formula is in a comment by each) or from NumPy /
SciPy; the JAX value is quoted in a comment where functrans deliberately differs."""

import math

import numpy as np
import pytest
import scipy.linalg as sl

import functrans as ft
import functrans.scipy.linalg as fsl

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning",
                                        "ignore::scipy.linalg.LinAlgWarning")


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


# -- scipy.linalg.lu_solve with a zero on U's diagonal -----------------------------------------

# LAPACK's getrs (SciPy's lu_solve) does not check U: it divides by the zero pivot, inf and
# then nan from 0 * inf in the substitution (SciPy warns in lu_factor only). It raised
# LinAlgError here. a = [[1, 2], [2, 4]]: rows swapped, L = [[1, 0], [.5, 1]], U = [[2, 4],
# [0, 0]]; b = [1, -2]: y = [-2, 2], x1 = 2 / 0 = inf, x0 = (-2 - 4 inf) / 2 = -inf (JAX 0.10.2
# the same). The packed factors below: x = [nan, inf, .5] (x0 = (1 - 0 inf) / 1).
_P3 = np.array([0, 1, 2], dtype=np.int32)
_LU_CASES = [
    (None, [[1.0, 2.0], [2.0, 4.0]], [1.0, -2.0]),
    (_P3[:2], [[1.0, 0.0], [0.0, 0.0]], [1.0, 1.0]),
    (_P3, [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]], [1.0, 1.0, 1.0]),
    (_P3, [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]], np.ones((3, 2))),
    (_P3, [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]], [1.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("piv, a, b", _LU_CASES)
def test_lu_solve_divides_by_a_zero_pivot_as_scipy(backend, piv, a, b):
    for trans in (0, 1, 2):
        if piv is None:
            want = sl.lu_solve(sl.lu_factor(a), b, trans=trans)
            got = fsl.lu_solve(fsl.lu_factor(_arr(backend, a)), _arr(backend, b), trans=trans)
        else:
            want = sl.lu_solve((np.asarray(a), piv), b, trans=trans)
            got = fsl.lu_solve((_arr(backend, a), backend.asarray(piv, dtype="int32")), _arr(backend, b),
                               trans=trans)
        np.testing.assert_array_equal(_np(backend, got), want)
    if piv is None:
        np.testing.assert_array_equal(want, [-math.inf, math.inf])


def test_lu_solve_derivatives_at_a_zero_pivot():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    b = np.array([1.0, -2.0])
    # in b: x = U^-1 L^-1 P b is linear, d x / d b = the same solve of the unit vectors:
    # column 0 (b = e0: Pb = e1, y = [0, 1], x = [-inf, inf]), column 1 (Pb = e0, y = [1,
    # -.5], x1 = -inf, x0 = (1 + inf) / 2 = inf); the second derivative 0 (JAX the same)
    want = np.array([[-math.inf, math.inf], [math.inf, -math.inf]])
    f = lambda v: fsl.lu_solve(fsl.lu_factor(a), v)  # noqa: E731
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_array_equal(jac(f)(b), want)
    np.testing.assert_array_equal(ft.hessian(lambda v: f(v)[0])(b), 0.0)
    # in the matrix (through lu_factor, or the packed factors directly): no derivative at a
    # singular U, nan in every mode. Reverse mode gave +-inf (-ct x^T) where forward mode gave
    # nan (0 * inf). (JAX 0.10.2: nan through lu_factor; +-inf/nan mixed in reverse mode on
    # the packed factors, nan in forward mode.)
    lu, piv = fsl.lu_factor(a)
    for jac in (ft.jacfwd, ft.jacrev):
        assert np.isnan(jac(lambda m: fsl.lu_solve(fsl.lu_factor(m), b))(a)).all()
        assert np.isnan(jac(lambda m: fsl.lu_solve((m, piv), b))(lu)).all()
    assert np.isnan(ft.grad(lambda m: fsl.lu_solve(fsl.lu_factor(m), b)[1])(a)).all()
    # a stack: the regular matrix keeps its derivative (d x = -A^-1 dA x), the singular one nan
    s = np.stack([a, [[3.0, 1.0], [1.0, 2.0]]])
    inv = np.linalg.inv(s[1])
    x1 = inv @ b
    want1 = -np.einsum("ij,k->ijk", inv, x1)   # d x_i / d A_jk = -inv_ij x_k
    for jac in (ft.jacfwd, ft.jacrev):
        j = jac(lambda m: fsl.lu_solve(fsl.lu_factor(m), b))(s)   # (2, 2, 2, 2, 2)
        assert np.isnan(j[0, :, 0]).all()
        np.testing.assert_allclose(j[1, :, 1], want1, rtol=1e-14, atol=1e-15)
        # between the blocks: 0 (session 35; they were nan, 0 * inf: forward mode gave the
        # singular one's outputs nan in every direction, reverse mode its inputs)
        np.testing.assert_array_equal(j[0, :, 1], 0.0)
        np.testing.assert_array_equal(j[1, :, 0], 0.0)
    np.testing.assert_allclose(fsl.lu_solve(fsl.lu_factor(s), b)[1], x1, rtol=1e-15)


# -- nn.log_softmax / scipy.special.log_softmax with +inf in a slice ---------------------------

# The values stay SciPy's: x - lse with lse = inf, nan at the +inf entry (inf - inf) and -inf
# at the finite ones (their limit as that entry grows: x_i - x_max -> -inf). (JAX 0.10.2:
# nan everywhere.) No derivative there: nan in every mode, as JAX. Forward mode gave nan
# (exp(inf) times a 0 tangent), reverse mode finite rows for the finite entries ([nan, 1, 0]
# for d out[1] / dx, the Jacobian's I - 1 softmax^T with the softmax's finite entries 0).
@pytest.mark.parametrize("name", ["nn", "special"])
def test_log_softmax_with_plus_inf(backend, name):
    import functrans.nn as fnn
    import functrans.scipy.special as fss
    f = fnn.log_softmax if name == "nn" else (lambda v: fss.log_softmax(v, axis=-1))
    x = _arr(backend, [math.inf, 0.0, 1.0])
    want = [math.nan, -math.inf, -math.inf]
    np.testing.assert_array_equal(_np(backend, f(x)), want)
    from scipy.special import log_softmax as sp_log_softmax
    np.testing.assert_array_equal(want, sp_log_softmax([math.inf, 0.0, 1.0]))
    for jac in (ft.jacfwd, ft.jacrev):
        assert np.isnan(_np(backend, jac(f)(x))).all(), jac
    assert np.isnan(_np(backend, ft.grad(lambda v: f(v)[1])(x))).all()
    assert np.isnan(_np(backend, ft.jit(ft.jacrev(f))(x))).all()   # (staged: no value seen)
    assert np.isnan(_np(backend, ft.hessian(lambda v: f(v)[2])(x))).all()


def test_log_softmax_finite_rows_and_masked_unchanged():
    import functrans.nn as fnn
    import functrans.scipy.special as fss
    # a finite slice beside one with +inf keeps its derivative: I - 1 softmax^T
    x = np.array([[math.inf, 0.0, 1.0], [2.0, 0.0, 1.0]])
    s = np.exp(x[1]) / np.exp(x[1]).sum()
    want = np.eye(3) - s[None, :]
    for jac in (ft.jacfwd, ft.jacrev):
        for f in (fnn.log_softmax, lambda v: fss.log_softmax(v, axis=1)):
            j = jac(f)(x)
            np.testing.assert_allclose(j[1, :, 1], want, rtol=1e-14, atol=1e-16)
            assert np.isnan(j[0, :, 0]).all()
    # with where: a +inf left out does not count (the kept entries' log_softmax, finite)
    m = np.array([False, True, True])
    xs = np.array([math.inf, 0.0, 1.0])
    s = np.exp(xs[1:]) / np.exp(xs[1:]).sum()
    np.testing.assert_allclose(fnn.log_softmax(xs, where=m)[1:], np.log(s), rtol=1e-15)
    for jac in (ft.jacfwd, ft.jacrev):
        j = jac(lambda v: fnn.log_softmax(v, where=m))(xs)
        np.testing.assert_allclose(j[1:, 1:], np.eye(2) - s[None, :], rtol=1e-14)
        np.testing.assert_array_equal(j[0], 0.0)
        np.testing.assert_array_equal(j[:, 0], 0.0)
    # a kept +inf: nan for the kept outputs in the kept inputs in both modes; the left-out
    # entry's row and column 0 in both (session 35; its input was nan in forward mode,
    # exp(inf) * 0, and its output in reverse mode, 0 times the nan slope)
    k = np.array([True, True, False])
    jf, jr = (jac(lambda v: fnn.log_softmax(v, where=k))(xs) for jac in (ft.jacfwd, ft.jacrev))
    assert np.isnan(jf[:2, :2]).all() and np.isnan(jr[:2, :2]).all()
    for j in (jf, jr):
        np.testing.assert_array_equal(j[2], 0.0)
        np.testing.assert_array_equal(j[:, 2], 0.0)


# -- scipy.linalg.sqrtm: derivative at a singular matrix ---------------------------------------

# S S = A: S dS + dS S = dA. With a zero eigenvalue of A (so of S) the equation has no solution
# for most dA (the scalar sqrt's infinite slope at 0): nan. It was SciPy's Sylvester solver's
# perturbed solution, finite and huge (2.5e291 at A = 0, dA = ones). (JAX 0.10.2 has no
# derivative of sqrtm at all.) A regular A keeps dS_ij = dA_ij / (s_i + s_j) (A diagonal).
def test_sqrtm_derivative_at_a_singular_matrix():
    t = np.arange(9.0).reshape(3, 3) / 10
    for a in (np.zeros((3, 3)), np.diag([0.0, 4.0, 9.0])):
        for got in (ft.jvp(fsl.sqrtm, (a,), (t,))[1], ft.jacrev(fsl.sqrtm)(a),
                    ft.jvp(fsl.sqrtm, (a + 0j,), (t + 0j,))[1]):
            assert np.isnan(got).all()
    s = np.array([1.0, 2.0, 3.0])
    want = t / (s[:, None] + s[None, :])
    stack = np.stack([np.zeros((3, 3)), np.diag(s * s)])
    got = ft.jvp(fsl.sqrtm, (stack,), (np.stack([t, t]),))[1]
    assert np.isnan(got[0]).all()
    np.testing.assert_allclose(got[1], want, rtol=1e-14)
    np.testing.assert_array_equal(fsl.sqrtm(stack)[0], 0.0)
