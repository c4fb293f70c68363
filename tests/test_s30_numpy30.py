"""Session 30 (helper numpy30): functrans.numpy fuzzed against NumPy (values, dtypes, errors)
and JAX (derivatives) on NumPy arrays; each case here is a difference the fuzzing found."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

# -- a float `initial` of an integer reduction: NumPy's int(), then the dtype's range ----------
# (it was cast with wraparound: max(uint8 [3, 4], initial=-2.5) gave 254, max(int8,
# initial=255.9) -1, and nan/inf/1e300 gave 0 where NumPy raises)


@pytest.mark.parametrize("name", ["max", "min", "amax", "nanmax", "nanmin", "sum", "prod"])
@pytest.mark.parametrize("dtype,initial", [
    (np.uint8, -0.5), (np.uint8, 2.7), (np.uint8, 255.9), (np.int8, -2.5), (np.int8, 2.7),
    (np.int8, -128.9)])
def test_float_initial_of_integer_reduction_truncates(name, dtype, initial):
    x = np.array([3, 4, 2], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (NumPy's prod of uint8 may wrap: same on both)
        want = getattr(np, name)(x, initial=initial)
    got = getattr(fnp, name)(x, initial=initial)
    assert np.asarray(got).dtype == want.dtype
    assert np.asarray(got) == want


@pytest.mark.parametrize("dtype,initial,error", [
    (np.uint8, -2.5, OverflowError), (np.uint8, 256.0, OverflowError),
    (np.int8, 255.9, OverflowError), (np.int8, 1e300, OverflowError),
    (np.int8, float("inf"), OverflowError), (np.uint8, float("nan"), ValueError),
    (np.int8, 1 + 0j, TypeError)])
def test_float_initial_outside_integer_dtype_raises(dtype, initial, error):
    x = np.array([3, 4], dtype)
    for name in ("max", "min", "nanmax"):
        with pytest.raises(error):
            getattr(np, name)(x, initial=initial)  # (NumPy raises the same kind)
        with pytest.raises(error):
            getattr(fnp, name)(x, initial=initial)


# -- var/std of complex values with a real dtype= ----------------------------------------------
# NumPy's value there is neither spread (its mean drops the imaginary parts, its deviations
# keep them: var([1+2j, 3-1j, .5+.5j], dtype=float32) is 2.92, the true variance 2.67, the real
# parts' 1.17); functrans gave the real parts' 1.17 silently. Refused as JAX does.

@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_spread_of_complex_with_real_dtype_refused(name, dtype):
    x = np.array([1 + 2j, 3 - 1j, 0.5 + 0.5j])
    with pytest.raises(ValueError, match="complex dtype"):
        getattr(fnp, name)(x, dtype=dtype)


@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
def test_spread_of_complex_with_complex_or_no_dtype_is_numpys(name):
    x = np.array([1 + 2j, 3 - 1j, 0.5 + 0.5j])
    for dtype in (None, np.complex64, np.complex128):
        want = getattr(np, name)(x, dtype=dtype)
        got = np.asarray(getattr(fnp, name)(x, dtype=dtype))
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)


# -- reshape's order= (the function; the method had it) ----------------------------------------

@pytest.mark.parametrize("shape", [(-1,), (4, -1), (3, 2, 4), (2, -1, 3), 24, (1, 24, 1)])
def test_reshape_order_f_is_numpys(shape):
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(fnp.reshape(x, shape, order="F"),
                                  np.reshape(x, shape, order="F"))
    np.testing.assert_array_equal(fnp.reshape(x, shape, "F"), np.reshape(x, shape, "F"))
    np.testing.assert_array_equal(fnp.reshape(x, shape, "C"), np.reshape(x, shape, "C"))


def test_reshape_order_f_derivative_and_jit():
    x = np.arange(24.0).reshape(2, 3, 4)
    w = np.cos(np.arange(24.0)).reshape(4, 6)
    g = ft.grad(lambda x: fnp.sum(fnp.reshape(x, (4, 6), order="F") * w))(x)
    # the gradient of <reshape_F(x), w> is w put back by the inverse reshape
    np.testing.assert_array_equal(g, np.reshape(w, (2, 3, 4), order="F"))
    np.testing.assert_array_equal(ft.jit(lambda x: fnp.reshape(x, (6, 4), order="F"))(x),
                                  np.reshape(x, (6, 4), order="F"))
    check_grads(lambda x: fnp.reshape(x, (4, -1), order="F") ** 2, (x / 7,), order=2)


def test_reshape_order_a_and_k_refused():
    x = np.arange(6.0)
    with pytest.raises(NotImplementedError, match="'A'"):
        fnp.reshape(x, (2, 3), order="A")
    with pytest.raises(ValueError, match="order"):
        fnp.reshape(x, (2, 3), order="K")


# -- roll with a NumPy array of shifts/axes (ndarray has __index__, which raises unless 0-d) ---

@pytest.mark.parametrize("shift,axis", [
    (np.array([1, 2]), (0, 2)), (np.array([1, -2]), np.array([0, 2])), (np.array(3), None),
    (np.array(-3), 1), (np.array([1, 2]), None), ([np.int64(1)], [np.int64(2)])])
def test_roll_array_shifts(shift, axis):
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(fnp.roll(x, shift, axis=axis), np.roll(x, shift, axis=axis))


# -- ldexp of a Python bool mantissa beside an integer array wider than 8 bits -----------------
# (it raised NumPy's "boolean subtract is not supported" from inside the wide-exponent path)

def test_ldexp_python_bool_mantissa():
    e = np.array([1, 2, -3], np.int16)
    for m in (True, False):
        np.testing.assert_array_equal(fnp.ldexp(m, e), np.ldexp(m, e).astype(np.float64))


# -- copyto(tracer, python_scalar) under jvp/grad --------------------------------------------
# (it raised "cannot update JVPTracer in place: ... a transform nested inside": the scalar's
# full_like was a tracer of the transform outside, which only a plain array was lifted from)

@pytest.mark.parametrize("src", [2.0, 2, np.float64(2.0)])
def test_copyto_scalar_into_traced_array(src):
    x = np.arange(4.0) + 1

    def f(a):
        fnp.copyto(a, src)
        return fnp.sum(a * a)

    np.testing.assert_array_equal(ft.grad(f)(x), np.zeros(4))
    y, t = ft.jvp(f, (x,), (np.ones(4),))
    assert float(y) == 16.0 and float(t) == 0.0
    np.testing.assert_array_equal(ft.hessian(f)(x), np.zeros((4, 4)))


def test_copyto_traced_source_and_nested_refusal():
    x = np.arange(4.0)

    def f(a):
        fnp.copyto(a, 3 * a[::-1])
        return fnp.sum(a * a)
    np.testing.assert_allclose(ft.grad(f)(x), 18 * x)  # sum(9 a_rev^2)

    def outer(y):  # the written values belong to a transform nested inside a's: refused
        a = fnp.zeros(4) + y

        def inner(z):
            fnp.copyto(a, z)
            return fnp.sum(a)
        return ft.grad(inner)(y)
    with pytest.raises(TypeError, match="nested inside"):
        ft.grad(lambda y: fnp.sum(outer(y)))(x)


# -- full with an array-like fill value: broadcast, as NumPy's and JAX's -----------------------
# (a list raised UnsupportedBackendError "a value of type builtins.list", an array of shape (2,)
# a ShapeError about reshaping into ())

@pytest.mark.parametrize("shape,fill", [
    ((3,), [1, 2, 3]), ((2, 3), [1.0, 2, 3]), ((2, 2), np.array([1, 2])), ((2,), (1, 2)),
    ((2, 3), [[1], [2]]), ((3,), np.array(5.0)), ((2,), [True, False])])
def test_full_broadcasts_array_fill(shape, fill):
    got, want = fnp.full(shape, fill), np.full(shape, fill)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_full_array_fill_dtype_error_and_derivative():
    np.testing.assert_array_equal(fnp.full((2, 2), [1, 2], dtype=np.float32),
                                  np.full((2, 2), [1, 2], dtype=np.float32))
    with pytest.raises(ValueError):  # (NumPy's ValueError too)
        fnp.full((2, 3), [1, 2])
    w = np.arange(6.0).reshape(3, 2)
    g = ft.grad(lambda v: fnp.sum(fnp.full((3, 2), v) * w))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, w.sum(0))


# -- NumPy's positional side/sorter of searchsorted; sort kind checked; quantile's method ------

def test_searchsorted_positional_side_and_sorter():
    assert fnp.searchsorted([1, 2, 3], 2, "right") == np.searchsorted([1, 2, 3], 2, "right")
    a, s = np.array([3, 1, 2]), np.array([1, 2, 0])
    assert fnp.searchsorted(a, 2, "left", s) == np.searchsorted(a, 2, "left", s)


@pytest.mark.parametrize("kind", ["foo", "", 3])
def test_sort_kind_invalid_raises(kind):
    x = np.array([3.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="kind"):
        fnp.sort(x, kind=kind)
    with pytest.raises(ValueError, match="kind"):
        fnp.argsort(x, kind=kind)


def test_quantile_unknown_method_is_valueerror():
    # every NumPy method is implemented, so an unknown name is a bad argument (NumPy's and
    # JAX's ValueError), not a missing feature
    with pytest.raises(ValueError, match="method='bogus'"):
        fnp.quantile(np.arange(4.0), 0.5, method="bogus")
