"""gmres: NaN second derivatives at an exact Krylov breakdown (session 57).

What was wrong: gmres's Arnoldi step normalised each new vector by ``vector_norm(w)``; when the
Krylov space is exhausted (``b``'s size reached, or an invariant subspace) ``w`` can be exactly
0, and the norm's derivative at 0 is NaN (its cone point). A second derivative of a solve
differentiates the iterations, so the NaN went through ``pinv(H)`` into the result:
``hessian`` of ``sum(gmres(A + t I, b, M=m))`` gave NaN (on some CPUs only, where rounding made
the last vector exactly 0: tests/test_review_s15c.py's gmres case). What now: the norms of the
cycle (of the residual and of each new vector) are guarded, the same values with 0 derivatives
at an exact zero. The cases below make the zero exact whatever the rounding (``b`` in an
invariant subspace of ``A``), so they failed (NaN) before the fix on every machine.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.scipy.sparse import linalg as fsl

# b = e1 and A e1 = 2 e1: the first Arnoldi vector is e1 exactly and A e1 - 2 e1 = 0 exactly
_A = np.array([[2.0, 0.0, 0.0], [0.0, 4.0, 1.0], [0.0, 1.0, 3.0]])
_B = np.array([1.0, 0.0, 0.0])


@pytest.mark.parametrize("precond", [None, "jacobi"])
def test_gmres_second_derivative_at_an_exact_breakdown(backend, precond):
    A, b = backend.asarray(_A), backend.asarray(_B)
    eye = backend.asarray(np.eye(3))
    m = None if precond is None else backend.asarray(np.diag(1 / np.diag(_A)))

    def f(t):
        # (fnp.add: array-api-strict's operators refuse a tracer on the right)
        return fnp.sum(fsl.gmres(fnp.add(A, t * eye), b, tol=1e-13, M=m)[0])
    t = backend.asarray(0.3)  # (on the backend: a Python float's seed would be NumPy's)
    # sum((A + tI)⁻¹ e1) = 1/(2 + t): derivatives -1/(2 + t)², 2/(2 + t)³
    np.testing.assert_allclose(float(f(t)), 1 / 2.3, rtol=1e-12)
    np.testing.assert_allclose(float(ft.grad(f)(t)), -1 / 2.3 ** 2, rtol=1e-10)
    want = 2 / 2.3 ** 3
    np.testing.assert_allclose(float(ft.hessian(f)(t)), want, rtol=1e-10)
    np.testing.assert_allclose(float(ft.jit(ft.hessian(f))(t)), want, rtol=1e-10)


def test_gmres_second_derivative_in_b_at_an_exact_breakdown():
    # d²/ds² of sum(gmres(A + s I, s b)) with b in A's invariant subspace: x = s/(2+s) e1,
    # second derivative -4/(2+s)³; the jvp of a jvp in (A, b) together
    def f(s):
        return fnp.sum(fsl.gmres(_A + s * np.eye(3), s * _B, tol=1e-13)[0])
    s = 0.7
    np.testing.assert_allclose(float(ft.jit(ft.grad(ft.grad(f)))(s)), -4 / (2 + s) ** 3,
                               rtol=1e-10)


def test_gmres_values_unchanged_at_ordinary_points():
    # the guard is a where on an exact zero: away from it, the same iterates as SciPy's solve
    rng = np.random.default_rng(57)
    a = rng.standard_normal((5, 5)) + 5 * np.eye(5)
    b = rng.standard_normal(5)
    x = np.asarray(fsl.gmres(a, b, tol=1e-13)[0])
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-11)
    g = ft.grad(lambda bb: fnp.sum(fsl.gmres(a, bb, tol=1e-13)[0]))(b)
    np.testing.assert_allclose(np.asarray(g), np.linalg.solve(a.T, np.ones(5)), rtol=1e-10)


def test_gmres_second_derivative_at_an_exact_breakdown_under_vmap():
    # a batch of t (each an exact breakdown): the guard's where is per batch element
    def f(t):
        return fnp.sum(fsl.gmres(_A + t * np.eye(3), _B, tol=1e-13)[0])
    ts = np.array([0.1, 0.3, 1.5])
    want = 2 / (2 + ts) ** 3
    np.testing.assert_allclose(np.asarray(ft.vmap(ft.hessian(f))(ts)), want, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(ft.jit(ft.vmap(ft.hessian(f)))(ts)), want, rtol=1e-10)
