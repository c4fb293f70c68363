"""Session 47, helper fuzz47: what the fuzzers' new draws (numpy family more47: dtype classes,
mgrid / ogrid, c_ / s_, file I/O, ...) found. Pins mgrid / ogrid / r_ / c_ taking a NumPy
complex step (``np.complex64(3j)``: n points, as a Python ``3j``; functrans read it as a real
step and returned an empty int64 array), and the decision that a grid of several slices gives
a backwards slice length 0 (as a one-slice grid; NumPy refuses it, "negative dimensions").
"""
import numpy as np

import functrans.numpy as fnp


def test_grids_take_a_numpy_complex_step_as_a_number_of_points():
    # before: fnp.mgrid[0:1:np.complex64(3j)] gave array([], dtype=int64)
    want = np.array([0.0, 0.5, 1.0])
    for got in (fnp.mgrid[0:1:np.complex64(3j)], fnp.r_[0:1:np.complex64(3j)],
                fnp.mgrid[0:1:np.complex128(3j)]):
        np.testing.assert_array_equal(np.asarray(got), want)
    o = fnp.ogrid[0:1:np.complex64(3j), 0:2]
    np.testing.assert_array_equal(np.asarray(o[0]), want[:, None])
    np.testing.assert_array_equal(np.asarray(fnp.c_[0:1:np.complex64(2j)]), [[0.0], [1.0]])


def test_a_backwards_slice_among_several_gives_an_empty_axis():
    # (decision: NumPy's mgrid[1:0, 0:2] raises "negative dimensions are not allowed" where
    # its mgrid[1:0] and jax.numpy's mgrid[1:0, 0:2] give that axis length 0)
    g = fnp.mgrid[1:0, 0:2]
    assert g.shape == (2, 0, 2) and np.asarray(g).dtype == np.int64
    assert [np.shape(v) for v in fnp.ogrid[1:0, 0:2]] == [(0, 1), (1, 2)]
