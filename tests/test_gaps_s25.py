"""Session 25 (helper gaps25): gaps closed (plain data beside traced values in the user's
functions of reductions and loops, ...)."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.testing import check_grads

# -- the user's plain data meets traced values inside reduce_window / reduce / loops ---------
# (array-api-strict's arrays refuse a tracer on their right: the plain value is handed to the
# user's function as a constant of the running transform, so operators work either way)

_X = np.array([[1.0, 5.0, 2.0, -1.5], [3.0, 0.25, 4.0, 2.5], [-2.0, 6.0, 0.5, 1.0]])


def _max_by_operators(a, b):
    return fnp.where(b > a, b, a)


def _add_left(a, b):
    return a + b


def _add_right(a, b):
    return b + a


def _windows(x, k):
    """NumPy's sliding (k, k) windows of a 2-d x, VALID, stride 1: shape (r, c, k, k)."""
    return np.lib.stride_tricks.sliding_window_view(x, (k, k))


def _transforms(f, x):
    """f's value eagerly and under jit, grad and jvp (the latter two's derivative)."""
    return {"eager": f(x), "jit": ft.jit(f)(x), "grad": ft.grad(f)(x),
            "jvp": ft.jvp(f, (x,), (fnp.ones_like(x),))}


@pytest.mark.parametrize("computation", [_max_by_operators, _add_left, _add_right])
def test_reduce_window_computation_by_operators_under_transforms(backend, computation):
    x = backend.asarray(_X)
    is_max = computation is _max_by_operators
    init = backend.asarray(-np.inf if is_max else 0.5)  # plain, beside a traced operand

    def f(x):
        y = lax.reduce_window(x, init, computation, (2, 2), (1, 1), "VALID")
        return fnp.sum(y * y)

    w = _windows(_X, 2)
    want_y = w.max(axis=(2, 3)) if is_max else w.sum(axis=(2, 3)) + 0.5
    want = np.sum(want_y ** 2)
    # d/dx: 2 y at each window's argmax (max), at every element of the window (sum)
    want_g = np.zeros_like(_X)
    for i in range(want_y.shape[0]):
        for j in range(want_y.shape[1]):
            win = _X[i:i + 2, j:j + 2]
            if is_max:
                a, b = np.unravel_index(np.argmax(win), win.shape)
                want_g[i + a, j + b] += 2 * want_y[i, j]
            else:
                want_g[i:i + 2, j:j + 2] += 2 * want_y[i, j]
    got = _transforms(f, x)
    for k in ("eager", "jit"):
        np.testing.assert_allclose(backend.to_numpy(got[k]), want, rtol=1e-12)
    g = got["grad"]
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), want_g, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(got["jvp"][1]), want_g.sum(), rtol=1e-12)
    # vmap over the rows of x (1-d windows of 2)
    rows = ft.vmap(lambda r: lax.reduce_window(r, init, computation, (2,), (1,), "VALID"))(x)
    wr = np.lib.stride_tricks.sliding_window_view(_X, 2, axis=1)
    np.testing.assert_allclose(backend.to_numpy(rows),
                               wr.max(-1) if is_max else wr.sum(-1) + 0.5, rtol=1e-12)


def test_reduce_window_and_reduce_traced_init_plain_operand(backend):
    x = backend.asarray(_X)  # plain; the init is what is differentiated
    for f, n_uses in (
            (lambda i: fnp.sum(lax.reduce_window(x, i, _add_right, (2, 2), (1, 1), "VALID")),
             2 * 3),  # folded into each of the 2 x 3 windows once
            (lambda i: fnp.sum(lax.reduce(x, i, _add_left, (0,))), 4),
            (lambda i: fnp.sum(lax.reduce(x, i, _add_right, (1,))), 3)):
        i0 = backend.asarray(0.75)
        g = ft.grad(f)(i0)
        np.testing.assert_allclose(backend.to_numpy(g), n_uses, rtol=1e-12)
    # the operand traced, the init plain, the computation adding the init on the left
    g = ft.grad(lambda x: fnp.sum(lax.reduce(x, backend.asarray(0.0), _add_right, (0,))))(x)
    np.testing.assert_allclose(backend.to_numpy(g), np.ones_like(_X), rtol=1e-12)


@pytest.mark.parametrize("carry_first", [True, False])
def test_scan_carry_from_plain_data_beside_traced_xs(backend, carry_first):
    xs = backend.asarray(_X)
    c0 = backend.asarray(np.array([0.5, -1.0, 2.0, 0.0]))  # plain: the user's data

    def step(c, x):
        new = c + x if carry_first else x + c
        return new, x * c if carry_first else c * x

    def f(xs):
        c, ys = lax.scan(step, c0, xs)
        return fnp.sum(c * c) + fnp.sum(ys)

    # reference: c_k = c0 + x_0 + ... + x_{k-1}
    cs = np.concatenate([[np.array([0.5, -1.0, 2.0, 0.0])], np.cumsum(_X, axis=0) +
                         np.array([0.5, -1.0, 2.0, 0.0])])
    want = np.sum(cs[-1] ** 2) + np.sum(_X * cs[:-1])
    got = _transforms(f, xs)
    for k in ("eager", "jit"):
        np.testing.assert_allclose(backend.to_numpy(got[k]), want, rtol=1e-12)
    assert backend.is_own(got["grad"])
    check_grads(f, (xs,), order=1, modes=("rev",))
    # the other way round: the carry traced (its start differentiated), xs plain
    gc = ft.grad(lambda c: fnp.sum(lax.scan(step, c, xs)[0]))(c0)
    np.testing.assert_allclose(backend.to_numpy(gc), np.ones(4), rtol=1e-12)
    # vmap over the rows: a scalar carry from plain data, each row's elements the xs
    rows = ft.vmap(lambda r: lax.scan(step, backend.asarray(1.0), r)[0])(xs)
    np.testing.assert_allclose(backend.to_numpy(rows), 1.0 + _X.sum(axis=1), rtol=1e-12)
    # lax.map: the plain elements beside a traced scale
    gm = ft.grad(lambda s: fnp.sum(lax.map(lambda r: r * s if carry_first else s * r, xs)))(
        backend.asarray(2.0))
    np.testing.assert_allclose(backend.to_numpy(gm), _X.sum(), rtol=1e-12)


def test_fori_and_while_carry_from_plain_data(backend):
    x = backend.asarray(_X[0])
    z = backend.asarray(np.zeros(4))

    def by_fori(x):
        return fnp.sum(lax.fori_loop(0, 3, lambda i, c: c + x * c + x, z))

    def by_while(x):
        return fnp.sum(lax.while_loop(lambda s: s[0] < 3,
                                      lambda s: (s[0] + 1, x + s[1] * x + s[1]), (0, z))[1])
    c = np.zeros(4)
    for _ in range(3):
        c = c + _X[0] * c + _X[0]
    for f in (by_fori, by_while):
        got = _transforms(f, x)
        for k in ("eager", "jit"):
            np.testing.assert_allclose(backend.to_numpy(got[k]), c.sum(), rtol=1e-12)
        # d/dx of c3 = (1 + x)^3 - 1, elementwise
        np.testing.assert_allclose(backend.to_numpy(got["grad"]), 3 * (1 + _X[0]) ** 2,
                                   rtol=1e-12)
        v = ft.vmap(f)(backend.asarray(_X))
        np.testing.assert_allclose(backend.to_numpy(v), ((1 + _X) ** 3 - 1).sum(axis=1),
                                   rtol=1e-12)
