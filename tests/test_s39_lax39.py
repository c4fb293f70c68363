"""Session 39 (lax39): functrans.lax fuzzed against jax.lax under the transforms.

tests/_fuzz_lax_jax.py is the seeded fuzzer (run by hand: it needs jax). Pinned here: what it
found (collapse of an empty range of axes; bitcast_convert_type of a 0-d array on NumPy), the
places where functrans keeps its own answer against JAX's (scatters and gathers with empty
index vectors, a gather whose promise_in_bounds is broken, dot_general of mixed dtypes with
an integer preferred_element_type), and a small selection of the fuzzer's checks against
closed forms and central differences; a few JAX comparisons (skipped without jax).
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp


# -- collapse: the bounds as a Python slice's ----------------------------------------------------

@pytest.mark.parametrize("shape, start, stop, want", [
    ((4, 3), 2, 2, (4, 3, 1)),        # an empty range: one axis of size 1 (was (12,))
    ((1,), 1, 1, (1, 1)),
    ((3, 1, 4), 3, None, (3, 1, 4, 1)),   # start == ndim (was wrapped to 0: (12,))
    ((3, 1, 4), -2, None, (3, 4)),
    ((3, 1, 4), 0, -1, (3, 4)),
    ((3, 1, 4), 1, 3, (3, 4)),
    ((2, 3), 0, None, (6,)),
    ((), 0, None, (1,)),
    ((2, 3), 5, None, (2, 3, 1)),     # past the end: clamped, as a slice
    ((2, 3), -5, 1, (2, 3)),
])
def test_collapse_shapes(backend, shape, start, stop, want):
    x = backend.asarray(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))
    got = lax.collapse(x, start, stop)
    assert backend.is_own(got)
    assert tuple(got.shape) == want
    np.testing.assert_array_equal(backend.to_numpy(got).reshape(-1),
                                  np.arange(int(np.prod(shape))))


def test_collapse_stop_before_start_is_refused():
    with pytest.raises(ValueError, match="before"):
        lax.collapse(np.zeros((2, 3, 4)), 2, 1)


def test_collapse_empty_range_under_transforms():
    x = np.arange(6.0).reshape(2, 3)
    f = lambda v: lax.collapse(v, 2, 2) * 2.0  # noqa: E731
    assert ft.jit(f)(x).shape == (2, 3, 1)
    assert ft.vmap(f)(np.stack([x, x])).shape == (2, 2, 3, 1)
    g = ft.grad(lambda v: fnp.sum(lax.collapse(v, 1, 1) ** 2))(x)
    np.testing.assert_array_equal(g, 2 * x)


# -- bitcast_convert_type of a 0-d array ------------------------------------------------------

@pytest.mark.parametrize("target, want", [("int8", [7, 1, 0, 0]), ("uint16", [263, 0]),
                                          ("float32", None)])
def test_bitcast_0d_to_narrower_adds_one_axis(backend, target, want):
    x = backend.asarray(263, dtype="int32")
    got = lax.bitcast_convert_type(x, np.dtype(target))
    n = 4 // np.dtype(target).itemsize
    assert tuple(got.shape) == ((n,) if n > 1 else ())   # was (1, n) on NumPy
    expect = np.array([263], np.int32).view(target)   # (the same bytes, one axis more)
    np.testing.assert_array_equal(backend.to_numpy(got).reshape(-1), expect)
    if want is not None:
        np.testing.assert_array_equal(backend.to_numpy(got), want)  # little-endian bytes


def test_bitcast_0d_under_jit_and_vmap():
    x = np.int32(263)
    assert ft.jit(lambda v: lax.bitcast_convert_type(v, np.int8))(x).shape == (4,)
    got = ft.vmap(lambda v: lax.bitcast_convert_type(v, np.int8))(np.array([263, 1], np.int32))
    np.testing.assert_array_equal(got, [[7, 1, 0, 0], [1, 0, 0, 0]])


def test_bitcast_non_contiguous_operand():
    x = np.arange(6, dtype=np.int32).reshape(2, 3).T   # (a transposed view)
    got = lax.bitcast_convert_type(x, np.int16)
    np.testing.assert_array_equal(got, np.ascontiguousarray(x).view(np.int16).reshape(3, 2, 2))
    back = lax.bitcast_convert_type(got, np.int32)
    np.testing.assert_array_equal(back, x)
