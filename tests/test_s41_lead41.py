"""Session 41, the lead: fixes found while merging the helpers' work."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax.linalg as lax_linalg


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
def test_staged_hessenberg_keeps_single_precision(dtype):
    # (scilinalg41 found it: special._nan_slope's zero term was where() of two Python
    # floats, float64, so jit(lax.linalg.hessenberg) of a float32 matrix gave float64)
    rng = np.random.default_rng(41)
    x = rng.standard_normal((4, 4)).astype(dtype)
    eager = lax_linalg.hessenberg(x)
    staged = ft.jit(lax_linalg.hessenberg)(x)
    for e, s in zip(eager, staged):
        assert s.dtype == e.dtype == dtype
        np.testing.assert_allclose(s, e, rtol=1e-5, atol=1e-5)
