"""Session 52 (scipy52): fuzzing functrans.scipy's less-travelled modules.

Fixed:
- fftconvolve/oaconvolve's result dtype with mixed or float16 operands: SciPy transforms each
  operand in scipy.fft's working dtype (float64 for integers and booleans, float32 for
  float16) before combining them; functrans promoted first (float32 with an int16 kernel
  gave float32, SciPy float64; float16 stayed float16, 3.5e-3 off SciPy's float32 result).

Left: see the session report.
"""

import numpy as np
import pytest
import scipy.signal

from functrans.scipy import signal as fsig


@pytest.mark.parametrize("name", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("d1,d2", [("float32", "int16"), ("complex64", "bool"),
                                   ("float16", "float16"), ("float16", "int8"),
                                   ("float16", "complex64"), ("int8", "int8"),
                                   ("float32", "float32")])
def test_fft_convolutions_dtype_as_scipy(name, d1, d2):
    a = np.linspace(1.0, 2.0, 7).astype(d1)
    b = np.linspace(-1.0, 3.0, 4).astype(d2)
    got = np.asarray(getattr(fsig, name)(a, b))
    want = getattr(scipy.signal, name)(a, b)
    assert got.dtype == want.dtype
    # ours is exact in its dtype; SciPy's FFT rounds in the operands' working precision
    exact = np.convolve(a.astype(np.complex128), b.astype(np.complex128))
    if got.dtype.kind != "c":
        exact = exact.real
    tol = 50 * np.finfo(got.dtype).eps
    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)
