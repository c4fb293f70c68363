"""Session 42 (sweepa42): fixes found by the NumPy, lax, convolution and FFT fuzzers on fresh
seeds (tests/_fuzz_numpy_jax.py, _fuzz_lax_jax.py, _fuzz_conv_jax.py, _fuzz_fft_jax.py),
checked against NumPy/SciPy computed here, central differences and the dot-product identity.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _cd(f, x, v, h=1e-6):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


# -- an ellipsis between two array indices separates them (NumPy's placement) ---------------

ELLIPSIS_KEYS = [
    (slice(None), [0, -1], Ellipsis, 1),          # the ellipsis stands for no axis here
    (slice(None), [0, 1], Ellipsis, [1, 0]),
    (slice(None), 0, Ellipsis, [0, 1]),
    (slice(None), None, [0, 1], Ellipsis, 1),
    (slice(None), [0, 1], Ellipsis, None, 1),
    (slice(None), [0, 1], 1, Ellipsis),           # adjacent: their place kept
    (Ellipsis, [0, 1], 1),
    (slice(None), True, [0, 1], Ellipsis, 1),
    (slice(None), np.array([True, False, True]), Ellipsis, 1),
]


@pytest.mark.parametrize("key", ELLIPSIS_KEYS, ids=repr)
def test_ellipsis_between_array_indices(key):
    x = np.arange(18.0).reshape(3, 3, 2)
    want = x[key]
    got = ft.jit(lambda a: a[key])(x)
    assert got.shape == want.shape and np.array_equal(got, want)
    y, t = ft.jvp(lambda a: a[key], (x,), (2 * x,))
    assert np.array_equal(y, want) and np.array_equal(t, 2 * want)
    # the update writes where NumPy's does (the value in NumPy's result layout)
    v = 100 + np.arange(want.size, dtype=float).reshape(want.shape)
    w = x.copy()
    w[key] = v
    assert np.array_equal(ft.jit(lambda a: a.at[key].set(v))(x), w)
    u = np.arange(want.size, dtype=float).reshape(want.shape) - 3
    (g,) = ft.vjp(lambda a: a[key], x)[1](u)
    want_g = np.zeros_like(x)
    np.add.at(want_g, key, u)
    assert np.array_equal(g, want_g)


def test_ellipsis_between_square_update_not_transposed(backend):
    # a square selection: the old placement transposed the value silently
    x = np.arange(27.0).reshape(3, 3, 3)
    key = (slice(None), [0, 2, 1], Ellipsis, 1)
    v = np.arange(9.0).reshape(3, 3) * 10
    w = x.copy()
    w[key] = v
    got = backend.to_numpy(ft.jit(lambda a, b: a.at[key].set(b))(backend.asarray(x),
                                                                 backend.asarray(v)))
    assert np.array_equal(got, w)
    assert np.array_equal(backend.to_numpy(ft.jit(lambda a: a[key])(backend.asarray(x))),
                          x[key])
