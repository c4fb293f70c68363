"""Session 32 (numpy32): functrans.numpy against NumPy 2 and jax.numpy: error classes,
keywords, leftovers.

- An axis out of range raises ``functrans.errors.AxisError``, a ShapeError that is also
  NumPy's ``numpy.exceptions.AxisError`` (so a ValueError and an IndexError), as NumPy
  raises: code written for NumPy catches it (was a plain ShapeError, or a ValueError for
  ufunc methods, partition and apply_along_axis on 0-d arrays).
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
