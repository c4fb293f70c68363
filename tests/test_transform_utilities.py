"""linear_transpose, eval_shape/ShapeDtypeStruct, elementwise_grad, jacobian, and the pytree
utilities (ft.tree's leaves/map_with_path/reduce/all, ravel_pytree)."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import ShapedArray


# -- linear_transpose --------------------------------------------------------------------------


def test_linear_transpose_of_a_matrix_product_is_the_transposed_product(backend):
    a_np = np.random.default_rng(0).normal(size=(3, 4))
    a = backend.asarray(a_np)
    f_t = ft.linear_transpose(lambda x: fnp.matmul(a, x), backend.asarray(np.zeros(4)))
    ct = np.arange(3.0)
    (out,) = f_t(backend.asarray(ct))
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), a_np.T @ ct, rtol=1e-13)


def test_linear_transpose_satisfies_the_dot_product_identity(backend):
    """<u, f(v)> = <f_t(u), v> for a linear map of a pytree (several primitives)."""
    rng = np.random.default_rng(1)
    w = backend.asarray(rng.normal(size=(3, 3)))

    def f(tree):
        x, y = tree["x"], tree["y"]
        z = fnp.concat([fnp.flip(x), 2.0 * y[:, 0]]) + fnp.cumulative_sum(fnp.tile(x, 2)[:7])
        return {"z": z, "m": fnp.matmul(w, y) - fnp.sum(y, axis=0) / 3.0 + x[:3, None]}

    v_np = {"x": rng.normal(size=4), "y": rng.normal(size=(3, 2))}
    u_np = {"z": rng.normal(size=7), "m": rng.normal(size=(3, 2))}
    as_b = lambda t: {k: backend.asarray(a) for k, a in t.items()}  # noqa: E731
    v, u = as_b(v_np), as_b(u_np)
    fv = f(v)
    (ftu,) = ft.linear_transpose(f, v)(u)
    lhs = sum(float(np.sum(u_np[k] * backend.to_numpy(fv[k]))) for k in u_np)
    rhs = sum(float(np.sum(backend.to_numpy(ftu[k]) * v_np[k])) for k in v_np)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
    assert all(backend.is_own(leaf) for leaf in ftu.values())


def test_linear_transpose_of_a_jvp_is_the_vjp():
    """The tangent map of a non-linear function is linear: its transpose is the pullback."""
    x = np.array([0.3, 0.7, -1.2])

    def f(y):
        return fnp.sin(y) * y + fnp.exp(y[::-1])

    def tangent_map(v):
        return ft.jvp(f, (x,), (v,))[1]

    ct = np.array([1.0, -2.0, 0.5])
    (got,) = ft.linear_transpose(tangent_map, x)(ct)
    expected = ft.vjp(f, x)[1](ct)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_linear_transpose_of_complex_and_several_inputs():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))

    def f(x, y):
        return a @ x + 1j * y

    x0 = np.zeros(2, complex)
    ct = np.array([1.0 - 1j, 2.0 + 0.5j])
    tx, ty = ft.linear_transpose(f, x0, x0)(ct)
    # JAX's convention: the transpose (not the adjoint) of the linear map
    np.testing.assert_allclose(tx, a.T @ ct, rtol=1e-13)
    np.testing.assert_allclose(ty, 1j * ct, rtol=1e-13)


def test_linear_transpose_ignores_the_primal_values():
    f_t = ft.linear_transpose(lambda x: 3.0 * x, np.array([np.inf, np.nan]))
    np.testing.assert_array_equal(f_t(np.ones(2))[0], [3.0, 3.0])


def test_linear_transpose_inside_jit_and_grad():
    a = np.array([[1.0, 2.0], [3.0, 5.0]])

    def g(x, ct):
        return ft.linear_transpose(lambda v: a @ (v * x), x)(ct)[0]

    x = np.array([2.0, -1.0])
    ct = np.array([1.0, 1.0])
    np.testing.assert_allclose(ft.jit(g)(x, ct), (a.T @ ct) * x)
    # d/dx sum((A^T ct) * x) = A^T ct
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(g(x, ct)))(x), a.T @ ct)


@pytest.mark.parametrize("fun,match", [
    (fnp.sin, r"equation 1 \(sin\) is not linear"),
    (lambda v: v * v, "multiplies two values that both depend"),
    (lambda v: 1.0 / v, "as a coefficient"),
    (lambda v: fnp.where(v > 0, v, 0.0), r"\(gt\) is not linear"),
    (lambda v: fnp.linalg.solve(fnp.eye(2) + v[:, None], v), "as a coefficient"),
    (lambda v: fnp.astype(v, fnp.int64) * 1.0, "int64 result"),
])
def test_linear_transpose_refuses_non_linear_functions(fun, match):
    with pytest.raises(TypeError, match=match):
        ft.linear_transpose(fun, np.zeros(2))


def test_linear_transpose_refuses_integer_inputs_and_checks_cotangents():
    with pytest.raises(TypeError, match="input 0 is int64"):
        ft.linear_transpose(lambda v: v * 2, np.arange(3))
    f_t = ft.linear_transpose(lambda v: 2.0 * v, np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        f_t(np.ones(4))
    with pytest.raises(ValueError, match="tree structure"):
        f_t((np.ones(3),))


# -- eval_shape --------------------------------------------------------------------------------


def test_eval_shape_of_pytrees_and_keywords():
    def f(x, y, *, scale):
        return {"s": fnp.sum(x * scale), "p": (x[:, None] * y, fnp.astype(y, fnp.float32))}

    out = ft.eval_shape(f, np.ones(3), np.ones(4), scale=2.0)
    assert out["s"] == ShapedArray((), fnp.float64)
    assert out["p"][0] == ShapedArray((3, 4), fnp.float64)
    assert out["p"][1] == ShapedArray((4,), fnp.float32)


def test_eval_shape_computes_nothing():
    """Huge shapes cost nothing: only shapes are propagated."""
    big = ft.ShapeDtypeStruct((10**6, 10**6), "float32")
    out = ft.eval_shape(lambda a, b: fnp.tanh(a @ b).T, big, big)
    assert out.shape == (10**6, 10**6) and out.dtype is fnp.float32


def test_shape_dtype_struct_accepts_library_dtypes_and_names(backend):
    for d in ("float64", np.float64, fnp.float64, backend.float_dtype):
        assert ft.ShapeDtypeStruct([2, 3], d) == ShapedArray((2, 3), fnp.float64)
    with pytest.raises(TypeError, match="not a data type"):
        ft.ShapeDtypeStruct((2,), "float13")


def test_eval_shape_refuses_value_dependence():
    with pytest.raises(ft.errors.ConcretizationError):
        ft.eval_shape(lambda x: x if x[0] > 0 else -x, np.ones(2))


# -- elementwise_grad, jacobian ----------------------------------------------------------------


def test_elementwise_grad_of_elementwise_functions(backend):
    x_np = np.linspace(-2.0, 2.0, 7)
    x = backend.asarray(x_np)
    g = ft.elementwise_grad(fnp.tanh)(x)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), 1 - np.tanh(x_np) ** 2, rtol=1e-13)
    # second derivative of the soft ReLU log(1 + e^x): the logistic density
    softplus = ft.elementwise_grad(ft.elementwise_grad(lambda t: fnp.log1p(fnp.exp(t))))
    s = 1 / (1 + np.exp(-x_np))
    np.testing.assert_allclose(backend.to_numpy(softplus(x)), s * (1 - s), rtol=1e-12)


def test_elementwise_grad_sums_jacobian_rows_with_argnums_and_aux():
    a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])

    def f(x, y):
        return a @ x * y, "aux"

    x, y = np.array([1.0, -1.0]), 2.0
    gx, gy = ft.elementwise_grad(f, argnums=(0, 1), has_aux=True)(x, y)[0]
    np.testing.assert_allclose(gx, a.sum(axis=0) * y)
    np.testing.assert_allclose(gy, np.sum(a @ x))
    assert ft.elementwise_grad(f, has_aux=True)(x, y)[1] == "aux"
    with pytest.raises(TypeError, match="must return one array"):
        ft.elementwise_grad(lambda x: (x, x))(x)


def test_jacobian_is_jacrev():
    x = np.array([0.5, 1.5, -0.5])
    f = lambda x: fnp.sin(x) * x[0]  # noqa: E731
    np.testing.assert_allclose(ft.jacobian(f)(x), ft.jacrev(f)(x))
    np.testing.assert_allclose(ft.jacobian(f)(x), ft.jacfwd(f)(x))


# -- pytree utilities --------------------------------------------------------------------------


def test_tree_utilities():
    t = {"a": 1, "b": (2, [3, None])}
    assert ft.tree.leaves(t) == [1, 2, 3]
    assert ft.tree.map(lambda v: v * 10, t) == {"a": 10, "b": (20, [30, None])}
    paths = ft.tree.map_with_path(lambda p, v: p, t)
    assert paths == {"a": ("a",), "b": (("b", 0), [("b", 1, 0), None])}
    assert ft.tree.reduce(lambda s, v: s + v, t) == 6
    assert ft.tree.reduce(lambda s, v: s + v, t, 100) == 106
    assert ft.tree.all({"x": True, "y": [1, 2]}) and not ft.tree.all([True, 0])
    leaves, spec = ft.tree.flatten(t)
    assert ft.tree.unflatten(spec, leaves) == t and ft.tree.structure(t) == spec


def test_ravel_pytree_round_trip_and_dtypes(backend):
    tree = {"w": backend.asarray(np.arange(6.0).reshape(2, 3)),
            "b": (backend.asarray(np.array([7.0]), dtype="float32"),
                  backend.asarray(np.array([[1, 2]]), dtype="int64"))}
    flat, unravel = ft.tree.ravel_pytree(tree)
    assert backend.is_own(flat) and tuple(flat.shape) == (9,)
    # dict keys in sorted order, as JAX: b before w
    np.testing.assert_array_equal(backend.to_numpy(flat), [7, 1, 2, 0, 1, 2, 3, 4, 5])
    assert backend.to_numpy(flat).dtype == np.float64
    back = unravel(flat)
    assert backend.to_numpy(back["b"][0]).dtype == np.float32
    assert backend.to_numpy(back["b"][1]).dtype == np.int64
    for got, want in zip(ft.tree.leaves(back), ft.tree.leaves(tree)):
        assert backend.is_own(got)
        np.testing.assert_array_equal(backend.to_numpy(got), backend.to_numpy(want))
    with pytest.raises(ValueError, match="1-d array of 9 elements"):
        unravel(flat[:4])


def test_ravel_pytree_is_differentiable_both_ways():
    params = {"W": np.array([[0.5, -1.0], [2.0, 0.3]]), "c": np.array([0.1, 0.2])}
    x = np.array([1.0, 2.0])

    def loss(p):
        return fnp.sum(fnp.tanh(p["W"] @ x + p["c"]) ** 2)

    flat, unravel = ft.tree.ravel_pytree(params)
    g_flat = ft.grad(lambda v: loss(unravel(v)))(flat)
    g_tree = ft.grad(loss)(params)
    np.testing.assert_allclose(g_flat, ft.tree.ravel_pytree(g_tree)[0], rtol=1e-13)
    # the Hessian of a pytree function as one matrix
    h = ft.hessian(lambda v: loss(unravel(v)))(flat)
    assert h.shape == (6, 6)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    # ravel itself differentiates: d/dW sum(ravel(p)^2) = 2 W
    g = ft.grad(lambda p: fnp.sum(ft.tree.ravel_pytree(p)[0] ** 2))(params)
    np.testing.assert_allclose(g["W"], 2 * params["W"])


def test_ravel_pytree_of_complex_and_empty_trees():
    flat, unravel = ft.tree.ravel_pytree([np.array([1.0, 2.0]), np.array([1j])])
    assert flat.dtype == np.complex128
    back = unravel(flat + 1j)
    assert back[0].dtype == np.float64  # a real leaf takes the real part back
    np.testing.assert_array_equal(back[0], [1.0, 2.0])
    flat, unravel = ft.tree.ravel_pytree({})
    assert flat.shape == (0,) and unravel(flat) == {}
