"""Session 34 (misc34): NumPy's products (dot, inner, outer, vdot, kron, tensordot, einsum)
take a Python int beside a uint64 operand (it was a TypeError: uint64 with int64 has no
promotion): the int takes the unsigned dtype, as in ``multiply`` and ``jax.numpy``; a
Python number otherwise still counts as an array of its default dtype, as NumPy's products
do. ``lax.map(batch_size=0)`` is one batch of everything (JAX documents it so);
``lax.scan`` accepts JAX's private ``_split_transpose``. A Python-number carry that a loop
turns into a float stays accepted, as JAX 0.10's weak types do (checked there by hand)."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as fl
import functrans.numpy as fnp

# one value beyond 2**53, so that a float64 detour (NumPy's products) would round it
U = np.array([1, 7, 2 ** 63 + 1], dtype=np.uint64)


def _exact(a, v):
    """a * v in uint64 arithmetic (wrapping), by NumPy's own uint64 multiply."""
    with np.errstate(over="ignore"):
        return np.multiply(a, np.uint64(v))


@pytest.mark.parametrize("name, call, expect", [
    ("dot", lambda a, v: fnp.dot(a, v), lambda a, v: _exact(a, v)),
    ("dot reversed", lambda a, v: fnp.dot(v, a), lambda a, v: _exact(a, v)),
    ("inner", lambda a, v: fnp.inner(a, v), lambda a, v: _exact(a, v)),
    ("outer", lambda a, v: fnp.outer(a, v), lambda a, v: _exact(a, v)[:, None]),
    ("kron", lambda a, v: fnp.kron(v, a), lambda a, v: _exact(a, v)),
    ("tensordot", lambda a, v: fnp.tensordot(a, v, 0), lambda a, v: _exact(a, v)),
    ("einsum", lambda a, v: fnp.einsum("i,->i", a, v), lambda a, v: _exact(a, v)),
    ("vdot", lambda a, v: fnp.vdot(a[:1], v), lambda a, v: _exact(a[:1], v)[0]),
    ("preferred uint64", lambda a, v: fnp.dot(a, v, preferred_element_type=np.uint64),
     lambda a, v: _exact(a, v)),
])
@pytest.mark.parametrize("v", [3, 2 ** 64 - 1])
def test_products_of_uint64_with_a_python_int_stay_uint64_and_exact(name, call, expect, v):
    out = call(U, v)
    assert out.dtype == np.uint64
    np.testing.assert_array_equal(out, expect(U, v))


def test_products_of_uint64_with_an_int_out_of_its_range_raise_as_multiply():
    for v in (-1, 2 ** 64):
        with pytest.raises(OverflowError, match="out of bounds for uint64"):
            fnp.dot(U, v)
        with pytest.raises(OverflowError, match="out of bounds for uint64"):
            fnp.outer(v, U)
    with pytest.raises(OverflowError):
        fnp.multiply(U, -1)  # (the same refusal)


def test_products_of_uint64_with_an_int_under_jit_and_vmap():
    np.testing.assert_array_equal(ft.jit(lambda a: fnp.dot(a, 3))(U), _exact(U, 3))
    np.testing.assert_array_equal(ft.vmap(lambda a: fnp.kron(a, 3))(U), _exact(U, 3))


def test_python_numbers_in_products_keep_counting_as_default_dtype_arrays():
    # (deliberate, documented in coming-from-jax.md: a Python float is float64 as in NumPy's
    # products; a Python int is an int64 array, which beside float32 is float32 in
    # functrans's promotion, as for an actual int64 array)
    x = np.array([1.5, -2.0], dtype=np.float32)
    for f in (fnp.dot, fnp.inner, fnp.outer, fnp.kron):
        assert f(x, 2.5).dtype == np.float64 == np.asarray(np.dot(x, 2.5)).dtype
        assert f(x, 2).dtype == f(x, np.array(2, dtype=np.int64)).dtype == np.float32
    np.testing.assert_array_equal(fnp.dot(np.int8([1, 2]), 300), np.dot(np.int8([1, 2]), 300))


def test_map_batch_size_zero_is_one_batch_of_everything():
    xs = np.arange(10.0).reshape(5, 2)
    calls = []

    def f(r):
        calls.append(r.shape)
        return r * fnp.sum(r)
    out = fl.map(f, xs, batch_size=0)
    np.testing.assert_allclose(out, xs * xs.sum(1, keepdims=True))
    assert len(calls) == 1  # one traced call of f through vmap, as vmap(f)(xs)
    np.testing.assert_allclose(ft.jit(lambda x: fl.map(fnp.sin, x, batch_size=0))(xs),
                               np.sin(xs))
    g = ft.grad(lambda x: fnp.sum(fl.map(fnp.sin, x, batch_size=0)))(xs)
    np.testing.assert_allclose(g, np.cos(xs))
    assert fl.map(fnp.sin, np.zeros((0, 3)), batch_size=0).shape == (0, 3)


def test_map_batch_size_that_is_not_an_int_ge_0_is_refused():
    with pytest.raises(ValueError, match="batch_size must be an int >= 0"):
        fl.map(fnp.sin, np.ones(3), batch_size=-1)
    with pytest.raises(TypeError, match="batch_size must be an int >= 0 or None"):
        fl.map(fnp.sin, np.ones(3), batch_size=1.5)  # (as JAX: TypeError)


@pytest.mark.parametrize("split", [False, True])
def test_scan_takes_the_private_split_transpose(split):
    xs = np.array([1.0, 2.0, 3.0])

    def f(a):
        return fl.scan(lambda c, x: (c * x, c), a, xs, _split_transpose=split)

    c, ys = f(2.0)
    assert float(c) == 12.0
    np.testing.assert_array_equal(ys, [2.0, 2.0, 4.0])
    assert float(ft.grad(lambda a: f(a)[0])(2.0)) == 6.0  # d(6 a)/da
    assert float(ft.jit(lambda a: f(a)[0])(2.0)) == 12.0


def test_scan_split_transpose_must_be_a_bool():
    with pytest.raises(TypeError, match="_split_transpose must be a bool"):
        fl.scan(lambda c, x: (c, x), 0.0, np.ones(2), _split_transpose="yes")


@pytest.mark.parametrize("staged", [False, True])
def test_a_python_int_carry_that_becomes_a_float_is_accepted_as_in_jax(staged):
    # JAX 0.10 (x64): while_loop(c < 3, c + 0.5, 0) -> 3.0 float64, fori_loop(0, 3, c + 0.5,
    # 0) -> 1.5, scan(c + 0.5) over 3 steps from 0 -> 1.5 (weak types widen); a carry of a
    # strong int64 returned as a float is a TypeError in both
    run = ft.jit if staged else (lambda f: f)
    w = run(lambda: fl.while_loop(lambda c: c < 3, lambda c: c + 0.5, 0))()
    f = run(lambda: fl.fori_loop(0, 3, lambda i, c: c + 0.5, 0))()
    s = run(lambda: fl.scan(lambda c, x: (c + 0.5, x), 0, np.arange(3.0))[0])()
    for r, want in ((w, 3.0), (f, 1.5), (s, 1.5)):
        assert float(r) == want and np.asarray(r).dtype == np.float64
    with pytest.raises(TypeError, match="keep the carry's shapes and dtypes"):
        run(lambda: fl.while_loop(lambda c: c < 3, lambda c: c + 0.5, np.int64(0)))()
