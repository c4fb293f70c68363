"""Session 34 (lax34): functrans.lax compared with jax.lax 0.10.2 (x64).

Regressions from the comparison; JAX's value in a comment, the expected values derived."""

import numpy as np
import pytest

import functrans as ft
from functrans import lax


# -- dynamic_update_slice: the update's dtype ----------------------------------------------

def test_dynamic_update_slice_refuses_an_update_that_would_be_cast_lossily():
    # JAX: TypeError "requires arguments to have the same dtypes". functrans cast the update
    # to the operand's dtype: a complex update lost its imaginary part ([1, 0, 0]) and an
    # int64 300 into int8 wrapped to 44.
    x = np.zeros(3)
    with pytest.raises(TypeError, match="same dtypes, got float64, complex128"):
        lax.dynamic_update_slice(x, np.array([1 + 2j]), (0,))
    with pytest.raises(TypeError, match="same dtypes, got int8, int64"):
        lax.dynamic_update_slice(np.zeros(3, np.int8), np.array([300]), (0,))
    with pytest.raises(TypeError, match="float32, float64"):
        lax.dynamic_update_slice(np.zeros(3, np.float32), np.array([0.1]), (1,))
    with pytest.raises(TypeError, match="int32, float64"):
        lax.dynamic_update_index_in_dim(np.zeros(3, np.int32), np.array(2.5), 1, 0)
    with pytest.raises(TypeError, match="Python number 2.5"):
        lax.dynamic_update_slice(np.zeros((), np.int32), 2.5, ())
    with pytest.raises(TypeError, match="Python number 300"):
        lax.dynamic_update_index_in_dim(np.zeros(3, np.int8), 300, 0, 0)
    # jit and vmap see the same check
    with pytest.raises(TypeError, match="same dtypes"):
        ft.jit(lambda u: lax.dynamic_update_slice(x, u, (0,)))(np.array([1j]))
    # a cast that is exact (NumPy's "safe") is still made, as before (JAX refuses it):
    r = lax.dynamic_update_slice(x, np.array([7, 8], np.int32), (1,))
    assert r.dtype == np.float64
    np.testing.assert_array_equal(r, [0.0, 7.0, 8.0])
    assert x.tolist() == [0.0, 0.0, 0.0]  # (never written in place)


def test_dynamic_update_index_in_dim_takes_a_python_number():
    # JAX: dynamic_update_index_in_dim(x, 7., 1, 0) -> [0, 7, 0]; was AttributeError
    x = np.zeros(3)
    np.testing.assert_array_equal(lax.dynamic_update_index_in_dim(x, 7.0, 1, 0), [0, 7, 0])
    np.testing.assert_array_equal(lax.dynamic_update_index_in_dim(x, 7.0, -1, 0), [0, 0, 7])
    r = lax.dynamic_update_index_in_dim(np.zeros(3, np.int8), 5, 9, 0)  # (clamped to 2)
    assert r.dtype == np.int8 and r.tolist() == [0, 0, 5]
    g = ft.grad(lambda v: ft.numpy.sum(lax.dynamic_update_index_in_dim(x + v, v * 3.0, 1, 0)))
    assert float(g(2.0)) == 2.0 + 3.0  # two untouched entries, and 3 from the update
