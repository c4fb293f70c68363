"""Session 57, helper cond57b: lax.div of complex numbers and lax.convert_element_type.

What was wrong, what now (each test failed before its fix, as noted):

* ``lax.div`` of complex operands was NumPy's divide, Smith's method with no special
  cases: ``(-1-1j) / (inf+inf j)`` was nan+nan j with a RuntimeWarning (JAX: -0+0j); about
  an eighth of random operands with infinities or NaNs differed from JAX. Now it is XLA's:
  Smith's method, and where both parts come out NaN, C99 Annex G's values for a zero
  denominator, an infinite numerator over a finite denominator, a finite numerator over an
  infinite one; silent. At finite operands with a nonzero denominator it is still NumPy's
  divide (the same primitive, so the same derivative rule). Checked against JAX on 200000
  random pairs from {0, -0, +-1, 2.5, -3, 0.5, 3, +-inf, nan, +-1e300, 1e-300, 1e308} in both
  parts: no difference at the non-finite and zero-denominator points except where XLA on the
  CPU flushes a subnormal Smith ratio to zero (in complex128 and complex64).
  (``functrans.numpy.divide`` stays NumPy's: same primitive, and NumPy's values are what it
  promises.) Before: the first test's values were nan+nan j and it raised the warning.
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

# (x, y, x / y as XLA gives it, complex128; complex64 the same here but the one noted)
_DIV_CASES = [
    (C(-1, -1), C(inf, inf), C(-0.0, 0.0)),    # finite / infinite: 0 * (x conj-units)
    (C(1, 2), C(inf, 0), C(0.0, 0.0)),
    (C(1, -2), C(-inf, 0), C(-0.0, 0.0)),
    (C(1e308, 1e308), C(inf, inf), C(nan, 0.0)),  # the sum 2e308 overflows: 0 * inf
    (C(-inf, nan), C(-3, 0), C(inf, nan)),     # infinite / finite, Smith both NaN
    (C(inf, inf), C(1, 2.5), C(inf, nan)),     # Smith's own value (not both NaN)
    (C(1, 1), C(0, 0), C(inf, inf)),           # / 0: copysign(inf, re y) * x
    (C(-1, 2), C(-0.0, 0), C(inf, -inf)),
    (C(3, inf), C(0, -0.0), C(inf, inf)),
    (C(nan, 1), C(0, 0), C(nan, inf)),
    (C(nan, nan), C(0, 0), C(nan, nan)),
    (C(inf, 0), C(inf, 1), C(nan, nan)),
]


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    same = lambda u, v: np.where(np.isnan(u), np.isnan(v), (u == v) & (np.signbit(u) == np.signbit(v)))
    return bool(np.all(same(a.real, b.real) & same(a.imag, b.imag)))


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_complex_div_special_values_are_xla_s_and_silent(dtype):
    cases = _DIV_CASES if dtype is np.complex128 else _DIV_CASES[:3] + _DIV_CASES[4:]
    x = np.array([c[0] for c in cases], dtype)
    y = np.array([c[1] for c in cases], dtype)
    want = np.array([c[2] for c in cases], dtype)
    x0, y0 = x.copy(), y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (lax.div, ft.jit(lax.div), ft.vmap(lax.div)):
            got = np.asarray(f(x, y))
            assert got.dtype == dtype
            assert _bits_equal(got, want), (f, got, want)
        # one special element among regular ones, and 0-d operands
        assert _bits_equal(lax.div(np.array([C(6, 8), C(-1, -1)], dtype),
                                   np.array([C(3, 4), C(inf, inf)], dtype)),
                           np.array([C(2, 0), C(-0.0, 0.0)], dtype))
        assert _bits_equal(lax.div(np.array(C(-1, -1)), np.array(C(inf, inf))), C(-0.0, 0.0))
    assert np.array_equal(x, x0, equal_nan=True) and np.array_equal(y, y0, equal_nan=True)


def test_complex_div_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    x = xps.asarray([C(-1, -1), C(6, 8)])
    y = xps.asarray([C(inf, inf), C(3, 4)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = np.asarray(lax.div(x, y))
    assert _bits_equal(got, np.array([C(-0.0, 0.0), C(2, 0)]))


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
