"""Session 56 (special56): scipy.special's yn at large orders, ...

(filled in at the end of the session)
"""

import functools
import time
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sc

import functrans as ft
import functrans.scipy.special as fsp


@functools.lru_cache(maxsize=None)
def _mp_yn_run(n, x):
    """Y_(n-2..n+2)(x) by the upward recurrence in 40 digits from mpmath's Y_0, Y_1 (mpmath's
    own bessely takes minutes at n = 20000)."""
    with mp.workdps(40):
        x = mp.mpf(x)
        a, b = mp.bessely(0, x), mp.bessely(1, x)
        out = {}
        for k in range(1, n + 2):
            a, b = b, 2 * k / x * b - a
            if k + 1 >= n - 2:
                out[k + 1] = b
        return out


@pytest.mark.parametrize("n, x", [(20000, 3e4), (20000, 2e4), (20000, 1.98e4), (5000, 5e4),
                                  (5000, 4950.0), (12000, 1.2e5)])
def test_yn_large_order_values_and_slopes(n, x):
    y = _mp_yn_run(n, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fsp.yn(n, x)
        d1 = ft.grad(lambda t: fsp.yn(n, t))(x)
        d2 = ft.grad(ft.grad(lambda t: fsp.yn(n, t)))(x)
    assert abs(got - float(y[n])) <= 1e-13 * abs(float(y[n]))
    slope = float((y[n - 1] - y[n + 1]) / 2)
    curve = float((y[n - 2] - 2 * y[n] + y[n + 2]) / 4)
    assert abs(d1 - slope) <= 1e-13 * max(abs(slope), abs(float(y[n])) / x)
    # (near the turning point x = n, Y'' ~ Y n^(-2/3): its own size there, as a difference of
    # differences, is well below)
    assert abs(d2 - curve) <= 1e-13 * max(abs(curve), abs(float(y[n])) / x ** (2 / 3))
    # (jvp against central differences)
    h = 1e-5 * x ** (1 / 3)
    fd = (fsp.yn(n, x + h) - fsp.yn(n, x - h)) / (2 * h)
    assert abs(ft.jvp(lambda t: fsp.yn(n, t), (x,), (1.0,))[1] - fd) <= 1e-7 * abs(slope)


def test_yn_large_order_arrays_and_overflow_slope():
    x = np.array([3e4, 2e4, 1.5e4, 1e5])
    t = time.perf_counter()
    got = fsp.yn(20000, x)
    assert time.perf_counter() - t < 2.0
    want = [float(_mp_yn_run(20000, float(v))[20000]) for v in x[[0, 1, 3]]]
    np.testing.assert_allclose(got[[0, 1, 3]], want, rtol=1e-13)
    assert got[2] == -np.inf
    np.testing.assert_allclose(fsp.yn(np.array([20000, 3, -7]), np.array([3e4, 5.0, 3.0])),
                               [want[0], sc.yn(3, 5.0), sc.yn(-7, 3.0)], rtol=1e-13)
    # (where the value overflowed, its slope is +inf (rising from -inf), not 0 or nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ft.grad(lambda t: fsp.yn(2000, t))(10.0) == np.inf
        assert ft.grad(lambda t: fsp.yn(1500, t))(400.0) == np.inf   # (sure, at once)
        assert ft.grad(lambda t: fsp.yn(1000, t))(100.0) == np.inf   # (the recurrence's)
