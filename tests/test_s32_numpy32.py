"""Session 32 (numpy32): functrans.numpy against NumPy 2 and jax.numpy: error classes,
keywords, leftovers.

- An axis out of range raises ``functrans.errors.AxisError``, a ShapeError that is also
  NumPy's ``numpy.exceptions.AxisError`` (so a ValueError and an IndexError), as NumPy
  raises: code written for NumPy catches it (was a plain ShapeError, or a ValueError for
  ufunc methods, partition and apply_along_axis on 0-d arrays).
- fnp.linalg.LinAlgError (NumPy's class, which every backend raises).
- jax.numpy's size=/fill_value= on union1d, intersect1d, setdiff1d, setxor1d, compress and
  extract (static shapes: jit, vmap); expected values from NumPy's unsized results, the
  fillers' defaults as jax.numpy's (smallest value, 0 for setdiff1d and empty results).
- choose(a, [int8 array, 300]) wraps 300 to 44 as NumPy and jax.numpy (was OverflowError).
- stack(arrays, axis) by position; linspace/moveaxis/take_along_axis/can_cast/matrix_power
  arguments by keyword; take/delete/isin accept jax.numpy's hints.
"""
import pickle

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import AxisError, ShapeError

X = np.arange(6.0).reshape(2, 3) + 1


@pytest.mark.parametrize("call", [
    lambda: fnp.sum(X, axis=2), lambda: fnp.sum(X, axis=(0, -3)), lambda: fnp.cumsum(X, axis=2),
    lambda: fnp.fft.fft(X, axis=2), lambda: fnp.fft.fftn(X, axes=(0, 2)),
    lambda: fnp.fft.fftshift(X, axes=-3), lambda: fnp.unique(X, axis=2),
    lambda: fnp.apply_along_axis(fnp.sum, 2, X), lambda: fnp.apply_along_axis(fnp.sum, 0, 1.0),
    lambda: fnp.add.reduce(X, axis=2), lambda: fnp.add.accumulate(X, axis=-3),
    lambda: fnp.add.reduce(X, axis=(0, 2)), lambda: fnp.partition(1.0, 0),
    lambda: fnp.moveaxis(X, 5, 0), lambda: fnp.expand_dims(X, 3), lambda: fnp.stack([X, X], axis=3),
    lambda: fnp.take(X, [0], axis=2), lambda: fnp.linalg.norm(X, axis=2),
    lambda: fnp.linalg.vector_norm(X, axis=(0, 2)), lambda: fnp.median(X, axis=2),
    lambda: fnp.argmax(X, axis=-3), lambda: fnp.swapaxes(X, 0, 2), lambda: fnp.roll(X, 1, 2),
    lambda: ft.jit(lambda x: fnp.sum(x, axis=1))(np.ones(3)),
    lambda: ft.vmap(lambda x: fnp.sum(x, axis=1))(X),
])
def test_axis_out_of_range_is_numpys_axiserror(call):
    with pytest.raises(np.exceptions.AxisError, match="out of") as info:
        call()
    e = info.value
    assert isinstance(e, AxisError) and isinstance(e, ShapeError)  # (functrans's own too)
    assert isinstance(e, IndexError) and isinstance(e, ValueError)  # (as NumPy's)
    assert "\n(See " in str(e) and "axiserror" in str(e)


def test_axiserror_keeps_axis_ndim_and_pickles():
    with pytest.raises(AxisError) as info:
        fnp.sum(X, axis=-5)
    assert (info.value.axis, info.value.ndim) == (-5, 2)
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is AxisError and str(again) == str(info.value)


def test_linalg_linalgerror_is_numpys():
    # fnp.linalg.LinAlgError was missing; it is NumPy's class, which every backend raises
    # (the torch backend a subclass of it).
    assert fnp.linalg.LinAlgError is np.linalg.LinAlgError
    with pytest.raises(fnp.linalg.LinAlgError, match="[Ss]ingular"):
        fnp.linalg.inv(np.zeros((2, 2)))
    with pytest.raises(fnp.linalg.LinAlgError):
        ft.grad(lambda a: fnp.sum(fnp.linalg.inv(a)))(np.zeros((2, 2)))


# -- size= / fill_value= on the set functions (jax.numpy's keywords) --------------------------

A = np.array([5.0, 3.0, 3.0, 1.0, 7.0])
B = np.array([3.0, 4.0, 7.0, 9.0])


@pytest.mark.parametrize("name, size, default", [
    ("union1d", 8, "smallest"), ("intersect1d", 4, "smallest"), ("setdiff1d", 4, 0.0),
    ("setxor1d", 7, "smallest"), ("union1d", 3, None), ("setxor1d", 0, None)])
def test_set_functions_take_size_and_fill_value(name, size, default):
    want = getattr(np, name)(A, B)
    k = min(size, want.size)
    fill = want[0] if default == "smallest" else default
    for fv, pad in ((None, fill), (-2.0, -2.0)):
        got = getattr(fnp, name)(A, B, size=size, fill_value=fv)
        assert got.shape == (size,) and got.dtype == want.dtype
        np.testing.assert_array_equal(got[:k], want[:k])
        np.testing.assert_array_equal(got[k:], np.full(size - k, pad))
        # the same under jit (static shape) as eagerly
        jitted = ft.jit(lambda a, b: getattr(fnp, name)(a, b, size=size, fill_value=fv))
        np.testing.assert_array_equal(jitted(A, B), got)


def test_set_functions_size_edge_cases():
    # empty results fill with 0 by default (as jax.numpy); assume_unique keeps ar1's order
    np.testing.assert_array_equal(fnp.intersect1d([1, 2], [5], size=2), [0, 0])
    np.testing.assert_array_equal(fnp.setxor1d([2.0, 2.0], [2.0], size=2), [0.0, 0.0])
    np.testing.assert_array_equal(fnp.setdiff1d(np.zeros(0), [1.0], size=2, fill_value=3), [3, 3])
    np.testing.assert_array_equal(fnp.setdiff1d([5, 1, 3], [3], assume_unique=True, size=3),
                                  [5, 1, 0])
    # NaNs: as NumPy (one NaN in a union, none in an intersection, each side's in a xor)
    n = np.nan
    x, y = np.array([n, 1.0, n]), np.array([n, 2.0])
    np.testing.assert_array_equal(fnp.union1d(x, y, size=3), np.union1d(x, y))
    np.testing.assert_array_equal(fnp.setxor1d(x, y, size=4), np.setxor1d(x, y))
    np.testing.assert_array_equal(fnp.intersect1d(x, y, size=1, fill_value=7), [7.0])
    # int values: the fill value is cast to their dtype (NumPy's full)
    got = fnp.union1d(np.array([1, 2]), np.array([2]), size=3, fill_value=9)
    assert got.dtype == np.int64 and got.tolist() == [1, 2, 9]
    with pytest.raises(ValueError, match="fill_value"):
        fnp.union1d(np.zeros(0), np.zeros(0), size=2)
    with pytest.raises(TypeError, match="needs size"):
        fnp.setdiff1d(A, B, fill_value=0.0)
    with pytest.raises(ValueError, match="must not be negative"):
        fnp.setxor1d(A, B, size=-1)


def test_intersect1d_size_return_indices():
    a = np.array([[5, 3, 3], [1, 7, 7]])
    b = np.array([7, 3, 4, 9])
    v, i1, i2 = fnp.intersect1d(a, b, return_indices=True, size=4)
    rv, r1, r2 = np.intersect1d(a, b, return_indices=True)
    np.testing.assert_array_equal(v, [3, 7, 3, 3])
    np.testing.assert_array_equal(i1, list(r1) + [6, 6])  # fillers: ar1.size, ar2.size
    np.testing.assert_array_equal(i2, list(r2) + [4, 4])
    assert i1.dtype == i2.dtype == np.int64


def test_set_functions_size_derivatives_and_vmap():
    # The derivative of each value is that of its first occurrence in ar1; default fillers
    # carry the smallest value's. Weights w = 0, 1, 2... on the sized results:
    # union [1 3 4 5 7 9 1 1]: d/dA[3] (=1) gets w0 + w6 + w7 = 13, A[1] (first 3) w1...
    w = {"union1d": (8, [3, 1, 0, 13, 4]), "setdiff1d": (4, [1, 0, 0, 0, 0]),
         "setxor1d": (8, [2, 0, 0, 22, 0]), "intersect1d": (4, [0, 5, 0, 0, 1])}
    for name, (size, want) in w.items():
        g = ft.grad(lambda x: fnp.sum(getattr(fnp, name)(x, B, size=size)
                                      * fnp.arange(size)))(A)
        np.testing.assert_array_equal(g, want, err_msg=name)
    rows = np.stack([A, A + 1])
    for name in w:
        got = ft.vmap(lambda x: getattr(fnp, name)(x, B, size=5, fill_value=-1.0))(rows)
        for r, row in zip(got, rows):
            np.testing.assert_array_equal(r, getattr(fnp, name)(row, B, size=5,
                                                                fill_value=-1.0))


def test_choose_wraps_python_ints_as_numpy():
    # choose(a, [int8 array, 300]) raised OverflowError; NumPy and jax.numpy cast the
    # choices, wrapping: 300 -> 44 in int8, -1 -> 255 in uint8
    a = np.array([0, 1])
    for arr, c in ((np.array([1, 2], np.int8), 300), (np.array([1, 2], np.uint8), -1),
                   (np.array([1, 2], np.int16), -40000)):
        want = np.choose(a, [arr, c])
        got = fnp.choose(a, [arr, c])
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# -- keywords and positional arguments as NumPy / jax.numpy take them -------------------------

def test_arguments_numpy_passes_by_position_or_keyword():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fnp.stack([x, x], 1), np.stack([x, x], 1))
    with pytest.raises(NotImplementedError, match="out="):
        fnp.stack([x, x], 0, np.empty((2, 2, 3)))
    np.testing.assert_array_equal(fnp.linspace(start=0, stop=1, num=3), [0, 0.5, 1])
    np.testing.assert_array_equal(fnp.moveaxis(x, source=0, destination=1), x.T)
    np.testing.assert_array_equal(fnp.take_along_axis(x, indices=np.array([[2], [0]]), axis=1),
                                  [[2.0], [3.0]])
    assert fnp.can_cast(from_=np.int8, to=np.int16) is True
    np.testing.assert_array_equal(fnp.linalg.matrix_power(x[:, :2], n=2),
                                  np.linalg.matrix_power(x[:, :2], 2))
    # jax.numpy's hints, accepted (they change nothing)
    np.testing.assert_array_equal(fnp.take(x, [2, 0], unique_indices=True,
                                           indices_are_sorted=False), [2.0, 0.0])
    np.testing.assert_array_equal(fnp.delete(x, [1], axis=1, assume_unique_indices=True),
                                  np.delete(x, [1], axis=1))
    np.testing.assert_array_equal(fnp.isin(x, [1.0, 5.0], method="sort"), np.isin(x, [1, 5]))
    with pytest.raises(ValueError, match="method"):
        fnp.isin(x, [1.0], method="fast")


def test_compress_and_extract_take_size():
    x = np.arange(6.0).reshape(2, 3)
    c = np.array([True, False, True])
    got = fnp.compress(c, x, axis=1, size=3, fill_value=-1)
    np.testing.assert_array_equal(got, np.concatenate([np.compress(c, x, axis=1),
                                                       np.full((2, 1), -1.0)], axis=1))
    np.testing.assert_array_equal(fnp.compress([False, True], x, axis=0, size=2),
                                  [[3, 4, 5], [0, 0, 0]])
    np.testing.assert_array_equal(fnp.compress([1, 0, 2], x, axis=1, size=1), [[0.0], [3.0]])
    np.testing.assert_array_equal(fnp.extract(x > 2, x, size=5, fill_value=-1),
                                  [3, 4, 5, -1, -1])
    got = fnp.compress(c, np.arange(3), size=3, fill_value=9.5)  # cast to a's dtype
    assert got.dtype == np.int64 and got.tolist() == [0, 2, 9]
    jitted = ft.jit(lambda cond, v: fnp.compress(cond, v, axis=1, size=2))
    np.testing.assert_array_equal(jitted(np.array([False, True, True]), x), x[:, 1:])
    got = ft.vmap(lambda cond, v: fnp.extract(cond, v, size=2))(x > 1, x)
    np.testing.assert_array_equal(got, [[2, 0], [3, 4]])
    # the derivative reaches the selected entries only (fillers are constants)
    g = ft.grad(lambda v: fnp.sum(fnp.compress(c, v, size=4, fill_value=2.0)
                                  * fnp.arange(4)))(np.arange(3.0))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
