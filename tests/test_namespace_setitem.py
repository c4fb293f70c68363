"""Item assignment on tracers: ``x[key] = value`` inside transforms.

A tracer is updated functionally (a ``where`` over the old value and the scattered new one)
and the tracer object is rebound to the result, so the name sees the change as with NumPy
and the derivative flows to both the old value and the assigned one. Checked against finite
differences (check_grads runs the same function on plain arrays, where NumPy/the library
assigns in place), to second order, on every backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Tracer
from functrans.errors import DerivativeDroppedError, FunctransError
from functrans.testing import check_grads

X = np.array([[0.3, -0.5, 0.9, 0.25], [0.2, 0.1, -0.7, 0.5], [1.0, 0.35, 0.15, -0.1]])
V = np.array([0.4, -0.3, 0.8, 0.6, -0.2, 0.7, 0.1, -0.9])


def _rows(v):
    return fnp.reshape(v, (2, 4))


# key -> the value assigned, as a function of (x, v); ``x`` itself is (3, 4).
CASES = {
    "int": ((1, ...), lambda x, v: fnp.sin(v[:4])),
    "int_int": ((2, 1), lambda x, v: v[0] * v[1]),
    "slice": ((0, slice(1, None)), lambda x, v: fnp.exp(v[:3])),
    "negative_step": ((slice(None, None, -2), slice(None, None, -1)), lambda x, v: _rows(v)),
    "ellipsis_none": ((Ellipsis, None, 2), lambda x, v: fnp.reshape(v[:3], (3, 1))),
    "python_scalar": ((slice(None), 2), lambda x, v: 3.0),
    "zero_d_tracer": ((slice(1, None), slice(None, 2)), lambda x, v: v[0] * v[2]),
    "broadcast_row": ((slice(None, 2), ...), lambda x, v: v[:4] ** 2),
    "leading_ones": ((0, ...), lambda x, v: fnp.reshape(v[:4], (1, 4))),
    "whole": (Ellipsis, lambda x, v: x * v[0]),
    "empty": ((slice(2, 2), ...), lambda x, v: v[0]),
    "mask_scalar": ("mask", lambda x, v: 0.5 * v[0]),
    "mask_python_scalar": ("mask", lambda x, v: -1.0),
    "mask_elementwise": ("mask", lambda x, v: fnp.exp(x[x > 0.22]) * v[0]),
    "mask_rows": ("rowmask", lambda x, v: fnp.tanh(v[4:])),
    "int_array": (([0, 2], [1, 3]), lambda x, v: x[1, :2] * v[:2]),
    "int_array_repeated": (([0, 2, 0], [1, 3, 1]), lambda x, v: v[:3]),
    "int_array_rows": (([2, 0], ...), lambda x, v: _rows(v)),
    "int_array_mixed": ((slice(1, None), [0, 2]), lambda x, v: fnp.sin(v[:2])),
}
# Keys that plain array-api-strict arrays refuse in assignment (integer arrays, None: the
# standard leaves them unspecified), so there the finite differences cannot run: compared
# with NumPy instead.
NOT_ON_STRICT = {"int_array", "int_array_repeated", "int_array_rows", "int_array_mixed",
                 "ellipsis_none"}


def _key(x, key, backend):
    if key == "mask":
        return x > 0.22
    if key == "rowmask":
        return backend.asarray([True, False, True], dtype="bool")
    return key


def _update(name, backend):
    key, value = CASES[name]

    def f(x, v):
        y = fnp.asarray(x, copy=True)   # on plain arrays: a writable copy
        y[_key(x, key, backend)] = value(x, v)
        return y * x                    # x is still needed: its old value was not changed
    return f


@pytest.mark.parametrize("name", sorted(CASES))
def test_setitem_matches_finite_differences(backend, name):
    if backend.name == "array_api_strict" and name in NOT_ON_STRICT:
        pytest.skip("plain array-api-strict arrays refuse this key in assignment; see "
                    "test_setitem_on_array_api_strict_beyond_its_own")
    if backend.name == "torch" and name == "negative_step":
        pytest.skip("plain torch tensors refuse negative slice steps (the finite differences "
                    "run on them)")
    x, v = backend.asarray(X), backend.asarray(V)
    f = _update(name, backend)
    out = f(x, v)
    assert backend.is_own(out)
    check_grads(f, (x, v), order=2)


def _leaves(t):
    return [a for b in t for a in _leaves(b)] if isinstance(t, tuple) else [t]


@pytest.mark.parametrize("name", sorted(NOT_ON_STRICT))
def test_setitem_on_array_api_strict_beyond_its_own(name):
    pytest.importorskip("array_api_strict")
    from tests.conftest import BackendCase
    strict, numpy = BackendCase("array_api_strict"), BackendCase("numpy")

    def loss(name, b):
        f = _update(name, b)
        return lambda x, v: fnp.sum(fnp.sin(f(x, v)))
    for transform in (lambda g: ft.grad(g, argnums=(0, 1)),
                      lambda g: ft.hessian(g, argnums=(0, 1))):
        got = transform(loss(name, strict))(strict.asarray(X), strict.asarray(V))
        ref = transform(loss(name, numpy))(X, V)
        for g, r in zip(_leaves(got), _leaves(ref)):
            np.testing.assert_allclose(strict.to_numpy(g), r, rtol=1e-12, atol=1e-12)
    check_grads(_update(name, numpy), (X, V), order=2)


def test_setitem_repeated_indices_take_the_last_value():
    def f(v):
        y = fnp.zeros(3) + 0.0 * v[0]
        y[[0, 2, 0]] = v
        return y
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f(v), [3.0, 0.0, 2.0])
    np.testing.assert_array_equal(ft.jacfwd(f)(v), [[0, 0, 1], [0, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(ft.jacrev(f)(v), [[0, 0, 1], [0, 0, 0], [0, 1, 0]])


def test_setitem_under_jvp_vjp_and_grad_by_hand():
    def f(x):
        x = x * 1.0
        x[1] = x[0] * x[2]      # reads the values before the assignment
        x[0] = 2.0
        return x
    x = np.array([1.5, -2.0, 3.0])
    out, t = ft.jvp(f, (x,), (np.array([1.0, 10.0, 100.0]),))
    np.testing.assert_allclose(out, [2.0, 4.5, 3.0])
    np.testing.assert_allclose(t, [0.0, 1.0 * 3.0 + 1.5 * 100.0, 100.0])
    out, pull = ft.vjp(f, x)
    np.testing.assert_allclose(pull(np.array([1.0, 1.0, 1.0]))[0], [3.0, 0.0, 2.5])
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(f(x)))(x), [3.0, 0.0, 2.5])


def test_setitem_in_nested_grad():
    def f(x):
        y = fnp.zeros(2)
        y = y + 0.0 * x          # a tracer of x's transform
        y[0] = x ** 3
        y[1] = fnp.sin(x)
        return fnp.sum(y)
    for x in (0.7, -1.3):
        np.testing.assert_allclose(ft.grad(f)(x), 3 * x ** 2 + np.cos(x))
        np.testing.assert_allclose(ft.grad(ft.grad(f))(x), 6 * x - np.sin(x))
        np.testing.assert_allclose(ft.grad(ft.grad(ft.grad(f)))(x), 6 - np.cos(x))


def test_setitem_outer_tracer_from_inner_function():
    # Assigning a value of the *outer* transform into an outer tracer, from inside an inner
    # transform, is fine: the result belongs to the outer transform.
    def f(x):
        y = x * 1.0

        def g(z):
            y[0] = x[1] * 2.0
            return z * z
        ft.grad(g)(1.0)
        return fnp.sum(y * y)
    x = np.array([1.0, 2.0])
    # y = [2 x1, x1]: sum(y * y) = 5 x1^2
    np.testing.assert_allclose(ft.grad(f)(x), [0.0, 10 * 2.0])


def test_setitem_into_outer_tracer_of_an_inner_value_is_an_error():
    def f(x):
        def g(y):
            x[1:] = y * x[0]
            return y
        return ft.grad(g)(2.0) * fnp.sum(x)
    with pytest.raises(TypeError, match="nested inside") as e:
        ft.grad(f)(np.ones(3))
    assert "functrans.numpy.where" in str(e.value)


def test_writing_a_tracer_into_a_plain_array_still_raises():
    def scalar(x):
        y = np.zeros(3)
        y[0] = x
        return fnp.sum(y)

    def slab(x):
        y = np.zeros(3)
        y[:2] = x[:2]
        return fnp.sum(y)
    for f, x in ((scalar, 1.0), (slab, np.ones(3))):
        # NumPy 2 wraps the error in a ValueError whose cause is ours.
        with pytest.raises((FunctransError, ValueError)) as info:
            ft.grad(f)(x)
        err = info.value
        assert isinstance(err, FunctransError) or isinstance(err.__cause__, FunctransError)
    with pytest.raises((DerivativeDroppedError, ValueError)):
        ft.grad(scalar)(1.0)


def test_setitem_dtype_is_kept():
    def f(x, v):
        y = fnp.asarray(x, copy=True)
        y[0] = v                 # a float64 value into a float32 array: cast, as NumPy does
        return y
    x32 = np.ones(3, dtype=np.float32)
    out, t = ft.jvp(f, (x32, 2.0), (np.ones(3, dtype=np.float32), 1.0))
    assert out.dtype == np.float32 and t.dtype == np.float32
    np.testing.assert_array_equal(t, [1.0, 1.0, 1.0])
    g = ft.grad(lambda x, v: fnp.sum(f(x, v)), argnums=(0, 1))(x32, 2.0)
    assert g[0].dtype == np.float32
    np.testing.assert_array_equal(g[0], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(g[1], 1.0)


def test_setitem_aliasing_semantics():
    def f(x):
        alias = x                 # the same object: sees the assignment
        view = x[:2]              # a slice is not a view: keeps its value
        copy = fnp.asarray(x, copy=True)
        copy[2] = 0.0             # does not change x
        x[0] = 5.0
        assert alias is x and isinstance(x, Tracer)
        return alias, view, copy
    x = np.array([1.0, 2.0, 3.0])
    (alias, view, copy), _ = ft.jvp(lambda x: f(x * 1.0), (x,), (np.ones(3),))
    np.testing.assert_array_equal(alias, [5.0, 2.0, 3.0])
    np.testing.assert_array_equal(view, [1.0, 2.0])
    np.testing.assert_array_equal(copy, [1.0, 2.0, 0.0])


def test_asarray_copy_of_a_tracer_is_a_new_tracer():
    def f(x):
        c = fnp.asarray(x, copy=True)
        assert c is not x and isinstance(c, type(x))  # (a NumPy copy has .at)
        for same in (fnp.asarray(x), fnp.asarray(x, copy=False)):  # (a NumPy array: a view)
            assert same is x or (isinstance(x, np.ndarray) and np.shares_memory(same, x))
        return c * x
    check_grads(f, (X,), order=2)


def test_setitem_while_staging():
    def f(x):
        y = x * 1.0
        y[0, 1:] = fnp.sin(x[1, :3])
        y[y > 0.5] = 0.0          # a mask with one value: a where, no concrete value needed
        y[[2, 0], 0] = x[1, :2]
        return y
    graph = ft.make_graph(f)(X)
    np.testing.assert_allclose(graph(X)[0], f(np.array(X)))
    assert "scatter" in str(graph)


def test_setitem_on_an_argument_while_staging():
    def f(x):
        x[0] = 1.0
        return x * 2.0
    graph = ft.make_graph(f)(np.ones(3))
    np.testing.assert_allclose(graph(np.full(3, 3.0))[0], [2.0, 6.0, 6.0])


def test_setitem_under_vmap():
    def f(x, v):
        y = fnp.asarray(x, copy=True)
        y[1:, 0] = v
        y[y > 0.5] = -1.0
        y[[0, 0], [2, 2]] = v
        return y
    rng = np.random.default_rng(0)
    xs, vs = rng.random((5, 3, 3)), rng.random((5, 2))
    np.testing.assert_allclose(ft.vmap(f)(xs, vs), np.stack([f(a, b) for a, b in zip(xs, vs)]))
    np.testing.assert_allclose(ft.vmap(f, in_axes=(0, None))(xs, vs[0]),
                               np.stack([f(a, vs[0]) for a in xs]))


def test_augmented_assignment_and_array_api_extra_at(backend):
    xpx = pytest.importorskip("array_api_extra")

    def f(x, v):
        y = fnp.asarray(x, copy=True)
        y[1:, ...] += v[:4] * x[0, ...]      # x[1:] = x[1:] + ... through __setitem__
        y[0, ...] *= 2.0
        y = xpx.at(y)[2, 1:].set(fnp.sin(v[:3]))
        y = xpx.at(y, (0, ...)).add(v[4:])
        return y * x
    check_grads(f, (backend.asarray(X), backend.asarray(V)), order=2)


@pytest.mark.parametrize("rows,cols", [([0], [3]), ([0], [-4]), ([2], [0]), ([-3], [1])])
def test_several_index_arrays_check_each_axis(rows, cols):
    """Each index array is checked against its own axis (the flat position alone would land
    on another element: x[0, 3] of a (2, 3) array is x[1, 0])."""
    x = np.arange(6.0).reshape(2, 3)
    r, c = np.array(rows), np.array(cols)
    with pytest.raises(IndexError, match="out of bounds for axis"):
        ft.jvp(lambda v: v[r, c], (x,), (np.ones((2, 3)),))

    def write(v):
        v = v * 1.0
        v[r, c] = 5.0
        return v
    with pytest.raises(IndexError, match="out of bounds for axis"):
        ft.grad(lambda v: fnp.sum(write(v)))(x)
    # in range, negative ones included: NumPy's elements
    ok = (np.array([1, -1]), np.array([2, -3]))
    np.testing.assert_array_equal(ft.jvp(lambda v: v[ok], (x,), (x,))[1], x[ok])
