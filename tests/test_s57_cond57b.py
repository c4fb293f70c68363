"""Session 57, helper cond57b: lax.convert_element_type (and lax.div of complex numbers).

What was wrong, what now (each test failed before its fix, as noted):

* (``lax.div`` of complex operands at infinities / a zero denominator: cond57b made it XLA's
  (C99 Annex G recovery after Smith's method), but the regular case paid ~10 mask operations
  eagerly (0.8 -> 33 us at 16 elements) and ~100 staged ones under jit (2.1 -> 238 us): the
  lead left it out of session 57 (NumPy's divide, as before); this file keeps the guard that
  finite values and derivatives are NumPy's.)
* ``lax.convert_element_type`` to a narrower floating dtype warned "overflow encountered in
  cast" where a value rounds to infinity (``1e10`` to float16); XLA is silent, same values.
  Now those values become +-inf by a select. Before: the tests raised that RuntimeWarning.
"""

import math
import warnings

import numpy as np
import pytest

import functrans as ft
from functrans import lax

inf, nan = math.inf, math.nan
C = complex

def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    same = lambda u, v: np.where(np.isnan(u), np.isnan(v), (u == v) & (np.signbit(u) == np.signbit(v)))
    return bool(np.all(same(a.real, b.real) & same(a.imag, b.imag)))


def test_complex_div_finite_values_and_derivatives_unchanged():
    rng = np.random.default_rng(5)
    x = rng.normal(size=5) + 1j * rng.normal(size=5)
    y = rng.normal(size=5) + 1j * rng.normal(size=5)
    assert np.array_equal(lax.div(x, y), x / y)  # NumPy's divide, to the bit
    tx = rng.normal(size=5) + 1j * rng.normal(size=5)
    ty = rng.normal(size=5) + 1j * rng.normal(size=5)
    _, t = ft.jvp(lax.div, (x, y), (tx, ty))
    np.testing.assert_allclose(t, tx / y - x * ty / y ** 2, rtol=1e-13)  # d(x/y)

    def loss(p):  # |x / y|^2, real, of four real parameters
        q = lax.div(lax.complex(p[0], p[1]), lax.complex(p[2], p[3]))
        return lax.real(q) ** 2 + lax.imag(q) ** 2
    p = np.array([0.3, -1.2, 0.7, 0.4])
    g = np.asarray(ft.grad(loss)(p))
    # closed form: |x|^2 / |y|^2
    ax2, ay2 = p[0] ** 2 + p[1] ** 2, p[2] ** 2 + p[3] ** 2
    want = np.array([2 * p[0] / ay2, 2 * p[1] / ay2,
                     -2 * p[2] * ax2 / ay2 ** 2, -2 * p[3] * ax2 / ay2 ** 2])
    np.testing.assert_allclose(g, want, rtol=1e-13)
    h = np.asarray(ft.jit(ft.grad(ft.grad(lambda s: loss(p + s * np.eye(4)[2]))))(0.0))
    # d^2/dc^2 of |x|^2 / (c^2 + d^2)
    np.testing.assert_allclose(h, ax2 * (8 * p[2] ** 2 / ay2 ** 3 - 2 / ay2 ** 2), rtol=1e-12)


@pytest.mark.parametrize("x, dtype, want", [
    ([1e10, -1e10, 65519.99, 65520.0, -65520.0, 65504.0, nan, -inf, -0.0], np.float16,
     [inf, -inf, 65504.0, inf, -inf, 65504.0, nan, -inf, -0.0]),
    # float32's max + half an ulp is 2**128 - 2**103: from there on, inf
    ([2.0 ** 128 - 2.0 ** 103, 2.0 ** 128 - 2.0 ** 103 - 2.0 ** 75, -1e300, 1e-50],
     np.float32, [inf, 3.4028234663852886e38, -inf, 0.0]),
    (np.array([65535, 65519, 65520, 7], np.uint16), np.float16, [inf, 65504.0, inf, 7.0]),
    (np.array([70000, -70000, -5], np.int64), np.float16, [inf, -inf, -5.0]),
    (np.array([True, False]), np.float16, [1.0, 0.0]),
])
def test_convert_element_type_overflow_is_silent(x, dtype, want):
    x = np.asarray(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (lax.convert_element_type, ft.jit(lax.convert_element_type, static_argnums=1),
                  ft.vmap(lax.convert_element_type, in_axes=(0, None))):
            got = np.asarray(f(x, dtype))
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, np.asarray(want, dtype))
            assert np.array_equal(np.signbit(got), np.signbit(np.asarray(want, dtype)))


def test_convert_element_type_complex_overflow_and_derivative():
    x = np.array([C(1e300, 1e300), C(-1e300, nan), C(1, -1e300), C(-0.0, 3e38),
                  C(nan, -inf), C(0.5, -0.0)])
    want = [C(inf, inf), C(-inf, nan), C(1, -inf), C(-0.0, 3e38), C(nan, -inf), C(0.5, -0.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = np.asarray(lax.convert_element_type(x, np.complex64))
        gj = np.asarray(ft.jit(lambda v: lax.convert_element_type(v, np.complex64))(x))
    assert got.dtype == np.complex64
    assert _bits_equal(got, np.array(want, np.complex64)) and _bits_equal(gj, got)
    # the derivative between floating dtypes at finite, in-range points: the identity
    g = ft.grad(lambda v: lax.convert_element_type(
        lax.convert_element_type(v, np.float32), np.float64).sum())(np.array([1.5, -2.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0])
