"""functrans.scipy.sparse.linalg: cg, bicgstab, gmres against NumPy's dense solve (values on
every backend, implicit derivatives, jit with a starting guess, vmap, pytrees, errors)."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.scipy.sparse import linalg as sl
from functrans.testing import check_grads

N = 5
_rng = np.random.default_rng(0)
_Q = _rng.normal(size=(N, N))
SPD = _Q @ _Q.T + N * np.eye(N)  # for cg
GEN = _rng.normal(size=(N, N)) + N * np.eye(N)  # for bicgstab, gmres
B = _rng.normal(size=N)
SOLVERS = {"cg": (sl.cg, SPD), "bicgstab": (sl.bicgstab, GEN), "gmres": (sl.gmres, GEN)}


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_values(backend, name):
    solver, A = SOLVERS[name]
    a, b = backend.asarray(A), backend.asarray(B)
    x, info = solver(a, b, tol=1e-12)
    assert backend.is_own(x)
    assert info is None if name != "gmres" else int(info) == 0  # (JAX's)
    np.testing.assert_allclose(backend.to_numpy(x), np.linalg.solve(A, B), rtol=1e-10,
                               atol=1e-12)
    # a function for A, a diagonal preconditioner, a starting guess
    x = solver(lambda v: fnp.matmul(a, v), b, b, tol=1e-12,
               M=backend.asarray(np.diag(1 / np.diag(A))))[0]
    np.testing.assert_allclose(backend.to_numpy(x), np.linalg.solve(A, B), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_implicit_derivatives(name):
    solver, A = SOLVERS[name]

    def f(a, b):
        if name == "cg":  # every perturbation keeps cg's matrix symmetric
            a = (a + fnp.matrix_transpose(a)) / 2
        return solver(a, b, tol=1e-13)[0]
    check_grads(f, (A, B), order=2, atol=1e-6, rtol=1e-6)
    # the same as the dense solve's, under jit too, with a starting guess as an argument
    g = ft.jit(ft.grad(lambda a, b, x0: fnp.sum(solver(a, b, x0, tol=1e-13)[0] ** 2),
                       argnums=(0, 1)))(A, B, B)
    ref = ft.grad(lambda a, b: fnp.sum(fnp.linalg.solve(a, b) ** 2), argnums=(0, 1))(A, B)
    np.testing.assert_allclose(g[0], ref[0], atol=1e-10)
    np.testing.assert_allclose(g[1], ref[1], atol=1e-10)
    bs = _rng.normal(size=(3, N))
    xs = ft.vmap(lambda b: solver(A, b, tol=1e-12)[0])(bs)
    np.testing.assert_allclose(xs, np.linalg.solve(A, bs.T).T, atol=1e-10)


def test_pytrees_restarts_and_breakdown():
    x, _ = sl.cg(lambda t: {"a": 2 * t["a"], "b": 3 * t["b"]},
                 {"a": np.ones(2), "b": np.ones(3)})
    np.testing.assert_allclose(x["a"], 0.5)
    np.testing.assert_allclose(x["b"], 1 / 3)
    x = sl.gmres(GEN, B, restart=2, tol=1e-12)[0]
    np.testing.assert_allclose(x, np.linalg.solve(GEN, B), atol=1e-10)
    # an invariant subspace found in one step: no nan from the breakdown
    np.testing.assert_allclose(sl.gmres(np.diag([1.0, 2.0, 3.0]), np.array([1.0, 0, 0]))[0],
                               [1.0, 0.0, 0.0])
    np.testing.assert_allclose(sl.bicgstab(np.diag([1.0, 2.0]), np.array([1.0, 0.0]))[0],
                               [1.0, 0.0])
    # maxiter bounds the work: one cg step is not the solution
    one = sl.cg(SPD, B, maxiter=1)[0]
    assert np.abs(one - np.linalg.solve(SPD, B)).max() > 1e-6


def test_errors():
    with pytest.raises(TypeError, match="2-d array or a function"):
        sl.cg(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="same tree structure"):
        sl.cg(SPD, B, (B,))
    with pytest.raises(ValueError, match="same shapes"):
        sl.bicgstab(GEN, B, np.ones(2))
    with pytest.raises(ValueError, match="solve_method"):
        sl.gmres(GEN, B, solve_method="qr")
