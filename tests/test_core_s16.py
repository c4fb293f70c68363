"""Core fixes of session 16: custom_linear_solve's solvers under transforms (closing over jit
values or values being differentiated, as JAX allows; aux values of both solvers under
reverse-over-reverse), effects replayed inside another staging."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _system(symmetric):
    rng = np.random.default_rng(3)
    m = rng.standard_normal((3, 3))
    a = m @ m.T + 3 * np.eye(3)
    if not symmetric:
        a = a + np.triu(np.ones((3, 3)), 1)
    return a, rng.standard_normal(3)


def test_custom_linear_solve_whose_solvers_close_over_jit_values():
    # A user's solve and transpose_solve reading a jit argument (here a factor that is 1):
    # jit records the solve's rules to replay them, so what the solvers read must become an
    # input of the recorded call (it raised CustomRuleError, then UnexpectedTracerError).
    a, b = _system(symmetric=False)

    def f(bb, d):
        def solve(mv, r):
            return fnp.linalg.solve(a, r) * (d / d)

        def transpose_solve(vm, r):
            return fnp.linalg.solve(a.T, r) * (d / d)
        x = ft.lax.custom_linear_solve(lambda v: a @ v, bb, solve,
                                       transpose_solve=transpose_solve)
        return fnp.sum(x * d)
    d = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(ft.jit(ft.grad(f))(b, d)), np.linalg.solve(a.T, d),
                               rtol=1e-12)
    # with respect to d: the solvers are not differentiated (JAX's rule), so d's part in them
    # is dropped and the derivative is that of sum(x * d) with x = A⁻¹ b
    np.testing.assert_allclose(np.asarray(ft.jit(ft.grad(f, argnums=1))(b, d)),
                               np.linalg.solve(a, b), rtol=1e-12)
    # the same without jit (it raised CustomRuleError: the solvers close over d)
    np.testing.assert_allclose(np.asarray(ft.grad(f, argnums=1)(b, d)),
                               np.linalg.solve(a, b), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ft.grad(f)(b, d)), np.linalg.solve(a.T, d),
                               rtol=1e-12)


def test_a_solver_that_needs_concrete_values_still_runs_under_grad():
    # A Python loop on values cannot be staged: it runs as it is outside jit.
    a, b = _system(symmetric=True)

    def jacobi(mv, r):
        x = fnp.zeros_like(r)
        while True:   # a Python loop on values
            x_new = x + (r - mv(x)) / np.diag(a)
            if float(fnp.max(fnp.abs(x_new - x))) < 1e-15:
                return x_new
            x = x_new

    def f(bb):
        return fnp.sum(ft.lax.custom_linear_solve(lambda v: a @ v, bb, jacobi,
                                                  symmetric=True) ** 2)
    x = np.linalg.solve(a, b)
    np.testing.assert_allclose(np.asarray(ft.grad(f)(b)), 2 * np.linalg.solve(a, x),
                               rtol=1e-10)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("symmetric", [False, True])
def test_custom_linear_solve_with_aux_to_second_order(jit, symmetric):
    # Both solvers return (x, aux) with has_aux: reverse over reverse transposes the
    # transposed solve, which must drop their aux values (not treat them as part of x).
    a, b = _system(symmetric)
    t = 0.3

    def f(bb, t):
        mat = a + t * np.eye(3)

        def solve(mv, r):   # a dense solve of the operator's own matrix
            return fnp.linalg.solve(ft.jacfwd(mv)(r), r), fnp.sum(r)
        x, aux = ft.lax.custom_linear_solve(
            lambda v: mat @ v, bb, solve, has_aux=True,
            **({"symmetric": True} if symmetric else {"transpose_solve": solve}))
        return fnp.sum(x ** 2)
    wrap = ft.jit if jit else (lambda g: g)
    inv = np.linalg.inv(a + t * np.eye(3))
    x = inv @ b
    np.testing.assert_allclose(wrap(ft.grad(f))(b, t), 2 * inv.T @ x, rtol=1e-10)
    np.testing.assert_allclose(wrap(ft.grad(f, argnums=1))(b, t), -2 * x @ inv.T @ x,
                               rtol=1e-10)
    np.testing.assert_allclose(wrap(ft.jacrev(ft.jacrev(f)))(b, t), 2 * inv.T @ inv,
                               rtol=1e-10)
    # d²/dt² sum(x²) with x = (A + tI)⁻¹ b: 2|x'|² + 2 x·x'', x' = -inv x, x'' = 2 inv² x
    x1, x2 = -inv @ x, 2 * inv @ inv @ x
    np.testing.assert_allclose(wrap(ft.jacrev(ft.grad(f, 1), 1))(b, t),
                               2 * x1 @ x1 + 2 * x @ x2, rtol=1e-10)


def test_effects_without_arguments_inside_a_nested_jit_run_at_every_call():
    # A jitted function's recorded debug.print / io_callback with no array argument, replayed
    # inside another staging (an outer jit, make_jaxpr), ran once while that staging ran and
    # was lost from its program; it must be recorded there too.
    seen = []

    @ft.jit
    def inner(x):
        ft.debug.callback(lambda: seen.append("debug"))
        ft.experimental.io_callback(lambda: seen.append("io"), None)
        return x * 2

    outer = ft.jit(lambda x: inner(x) + 1)
    outer(np.ones(2))
    assert seen == ["debug", "io"]
    outer(np.ones(2))
    outer(np.ones(2))
    assert seen == ["debug", "io"] * 3
    seen.clear()
    text = str(ft.make_jaxpr(inner)(np.ones(2)))
    assert seen == []                      # staged, not run
    assert "debug_callback" in text and "io_callback" in text
    ft.jit(ft.grad(lambda x: fnp.sum(inner(x))))(np.ones(2))
    assert seen == ["debug", "io"]


def test_negative_is_a_unary_ufunc_with_at(backend):
    # jax.numpy's one unary ufunc: negative.at negates once per time a position is named
    # (NumPy's unbuffered rule: named twice, negated twice), at concrete or traced indices
    a = np.arange(1.0, 6.0)
    idx = np.array([0, 2, 2, 4, 4, 4])
    want = a.copy()
    np.negative.at(want, idx)
    x, i = backend.asarray(a), backend.asarray(idx, dtype="int64")
    got = fnp.negative.at(x, i, inplace=False)
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(x), a)        # not written
    got = ft.jit(lambda x, i: fnp.negative.at(x, i, inplace=False))(x, i)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    w = np.arange(5.0) + 0.5
    g = ft.grad(lambda x: fnp.sum(fnp.negative.at(x, i, inplace=False) * backend.asarray(w)))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), np.where(want < 0, -w, w))
    rows = ft.vmap(lambda j: fnp.negative.at(x, j, inplace=False))(
        backend.asarray(np.array([[0, 0], [1, 3]]), dtype="int64"))
    np.testing.assert_array_equal(backend.to_numpy(rows), [a, a * [1, -1, 1, -1, 1]])
    assert fnp.negative.identity is None and (fnp.negative.nin, fnp.negative.nout) == (1, 1)
    with pytest.raises(ValueError, match="only supported for binary functions"):
        fnp.negative.reduce(x)
    with pytest.raises(TypeError, match="takes no values"):
        fnp.negative.at(x, i, x, inplace=False)


def test_negative_at_in_place_on_numpy_and_tracers():
    a = np.arange(1.0, 6.0)
    fnp.negative.at(a, [1, 1, 3])
    np.testing.assert_array_equal(a, [1.0, 2.0, 3.0, -4.0, 5.0])

    def f(x):
        y = x * 1.0
        fnp.negative.at(y, np.array([0, 4, 4, 4]))   # the tracer is rebound
        return fnp.sum(y * np.arange(5.0))
    np.testing.assert_array_equal(ft.grad(f)(np.ones(5)), [0.0, 1.0, 2.0, 3.0, -4.0])
