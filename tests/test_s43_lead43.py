"""Session 43, the lead: ``nn.gelu(x, approximate=False)`` is ``x * ndtr(x)``.

As ``0.5 x erfc(-x / sqrt 2)`` (JAX's form) the value carried the rounding of ``x / sqrt 2``
amplified by ``x^2``: 1500 ulp in the far left tail (``gelu(-36.2)``), 400 near -20; the slope
as much. ndtr's left tail is erfcx times an exponential of x itself (session 42), so both now
stay within a few ulp of mpmath.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn

mp = pytest.importorskip("mpmath")


def _ulp(got, want):
    want = np.asarray(want)
    return np.abs(np.asarray(got) - want) / np.spacing(np.maximum(np.abs(want), 1e-300))


def _gelu(v):
    return fnn.gelu(v, approximate=False)


X = np.array([-37.5, -36.212, -30.0, -25.3, -19.88, -12.0, -6.5, -4.711, -2.0, 0.6, 3.0, 9.0])


def _reference():
    with mp.workdps(50):
        vals = [float(mp.mpf(v) * mp.ncdf(v)) for v in X]
        slopes = [float(mp.ncdf(v) + v * mp.npdf(v)) for v in X]
    return np.array(vals), np.array(slopes)


def test_exact_gelu_value_within_a_few_ulp_in_the_tails():
    vals, _ = _reference()
    tails = (X <= -5.0) | (X > 0)
    for got in (_gelu(X), ft.jit(_gelu)(X)):
        err = _ulp(got, vals)
        assert err[tails].max() <= 8
        assert err.max() <= 40   # (ndtr on (-4.95, 0): up to 36 ulp, see test_s43_elem43)


def test_exact_gelu_slope_within_a_few_ulp_in_the_tails():
    _, slopes = _reference()
    assert _ulp(ft.vmap(ft.grad(_gelu))(X), slopes).max() <= 8
    assert _ulp(ft.jit(ft.vmap(ft.grad(_gelu)))(X), slopes).max() <= 8
    assert _ulp(ft.vmap(ft.jacfwd(_gelu))(X), slopes).max() <= 8


def test_exact_gelu_ends_unchanged():
    x = np.array([-np.inf, np.inf, 0.0, -0.0])
    out = _gelu(x)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0.0 and out[3] == 0.0
    assert np.asarray(_gelu(np.float32(-20.0))).dtype == np.float32


def test_ndtr_of_a_functrans_numpy_array():
    # (session 42's ndtr took a NumPy array subclass, such as functrans.numpy's results, for
    # a scalar and reshaped it to one element: ValueError for every array of two or more)
    import functrans.numpy as fnp
    import functrans.scipy.special as fsp
    x = fnp.asarray(np.array([-30.0, -1.0, 2.0]))
    assert type(x) is not np.ndarray
    np.testing.assert_array_equal(np.asarray(fsp.ndtr(x)), np.asarray(fsp.ndtr(np.asarray(x))))
    np.testing.assert_array_equal(np.asarray(fsp.log_ndtr(x)),
                                  np.asarray(fsp.log_ndtr(np.asarray(x))))
