"""Session 33, lead: cumprod's derivative in O(n log n) work and O(n) memory per step.

The rule used to build the n x n Jacobian of products (75 GiB for the gradient of a cumulative
product of 1e5 numbers); it now solves dy_i = x_i dy_{i-1} + y_{i-1} t_i by doubling."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _exact_jacobian(x):
    # d y_i / d x_k = prod_{j <= i, j != k} x_j for k <= i, by direct products (no division)
    n = len(x)
    return np.array([[np.prod(np.delete(x[:i + 1], k)) if k <= i else 0.0 for k in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_cumprod_jacobian_is_the_products_of_the_other_entries(backend, n):
    rng = np.random.default_rng(n)
    x = rng.uniform(-1.5, 1.5, n)
    if n > 3:
        x[2] = 0.0  # a zero: no division anywhere
    want = _exact_jacobian(x)
    xb = backend.asarray(x)
    for jac in (ft.jacrev, ft.jacfwd):
        got = backend.to_numpy(jac(fnp.cumprod)(xb))
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_cumprod_gradient_of_a_long_sequence():
    # sum_i y_i has gradient g_k = sum_{i >= k} y_i / x_k (no zeros here): 1e5 entries,
    # where the Jacobian's products would need 75 GiB.
    x = np.random.default_rng(0).uniform(0.99, 1.01, 100_000)
    g = ft.grad(lambda v: fnp.sum(fnp.cumprod(v)))(x)
    y = np.cumprod(x)
    want = np.cumsum(y[::-1])[::-1] / x
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_cumprod_along_an_axis_second_order_and_vmap():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 1.5, (3, 5))

    def f(v):
        return fnp.sum(fnp.cumprod(v, axis=0) ** 2)

    g = ft.grad(f)
    eps = 1e-5
    h = ft.hessian(f)(x).reshape(15, 15)
    basis = np.eye(15).reshape(15, 3, 5)
    fd = np.stack([(g(x + eps * e) - g(x - eps * e)).ravel() / (2 * eps) for e in basis])
    np.testing.assert_allclose(h, fd, rtol=1e-7, atol=1e-8)
    rows = ft.vmap(ft.grad(lambda v: fnp.sum(fnp.cumprod(v))))(x)
    for r, xr in zip(rows, x):
        np.testing.assert_allclose(r, _exact_jacobian(xr).sum(axis=0), rtol=1e-13)


def test_cumprod_complex_jvp():
    x = np.array([1 + 2j, -0.5 + 1j, 2 - 1j, 0.3j])
    t = np.array([0.1 - 0.2j, 1j, -1.0, 0.5 + 0.5j])
    _, tan = ft.jvp(fnp.cumprod, (x,), (t,))
    want = np.array([sum(t[k] * np.prod(np.delete(x[:i + 1], k)) for k in range(i + 1))
                     for i in range(4)])
    np.testing.assert_allclose(tan, want, rtol=1e-14)
