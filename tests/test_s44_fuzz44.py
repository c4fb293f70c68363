"""Session 44, helper fuzz44: what the fuzzers' fresh seeds found in functrans.numpy,
functrans.scipy (linalg, interpolate, signal, ...), functrans.nn and functrans.random, pinned
against NumPy / SciPy (and central differences, mpmath where named).
"""
import numpy as np
import pytest

import functrans.scipy.linalg as fsl


def test_companion_refuses_booleans_as_scipy():
    # (SciPy 1.17: TypeError, the boolean negative; ours returned a float64 matrix)
    with pytest.raises(TypeError, match="companion: the coefficients a are booleans"):
        fsl.companion(np.array([True, False, True]))
    with pytest.raises(TypeError, match="booleans"):
        fsl.companion(np.array([[True, True], [True, False]]))
    np.testing.assert_array_equal(fsl.companion(np.array([1, 2, 3], dtype=np.int16)),
                                  [[-2.0, -3.0], [1.0, 0.0]])
