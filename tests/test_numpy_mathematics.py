"""NumPy's elementwise names, nan-reductions and statistics (functrans/numpy/_mathematics.py,
and the NumPy parameters of round, var and std): values, dtypes and shapes against NumPy on
every backend, error cases, and vmap against a Python loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

RNG = np.random.default_rng(1234)
NAN, INF = np.nan, np.inf


def _conv(backend, v):
    if isinstance(v, np.ndarray):
        return backend.asarray(v, dtype=str(v.dtype))
    if isinstance(v, tuple):
        return tuple(_conv(backend, e) for e in v)
    return v


def check(backend, got, want, rtol=1e-13, atol=0.0, dtype=True):
    """``got`` (an array of ``backend``, or a tuple/list of them) equals NumPy's ``want``."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            check(backend, g, w, rtol, atol, dtype)
        return
    assert backend.is_own(got), type(got)
    g = backend.to_numpy(got)
    w = np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    if dtype:
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def run(backend, name, *args, np_fn=None, rtol=1e-13, atol=0.0, dtype=True, **kw):
    want = (np_fn or getattr(np, name))(*args, **kw)
    with np.errstate(all="ignore"):
        got = getattr(fnp, name)(*[_conv(backend, a) for a in args],
                                 **{k: _conv(backend, v) for k, v in kw.items()})
    check(backend, got, want, rtol, atol, dtype)

class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


# -- elementwise -------------------------------------------------------------------------------


SPECIAL = np.array([-2.5, -1.0, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 1.5, 2.5, 27.0, -8.0, 1e-300,
                    INF, -INF, NAN])
UNIT = np.array([-1.0, -0.7, -0.0, 0.0, 0.2, 0.99, 1.0, NAN])
INTS = np.array([-7, -3, -1, 0, 1, 2, 5, 100])

UNARY = ["absolute", "fabs", "degrees", "radians", "deg2rad", "rad2deg", "exp2", "cbrt",
         "sinc", "fix", "arcsinh", "arctan", "conjugate", "around"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32"])
def test_unary(backend, name, dtype):
    if dtype.startswith("int"):
        x = INTS.astype(dtype)
    else:
        x = SPECIAL.astype(dtype)
        if dtype == "float32":
            x = x[np.abs(x) != 1e-300]
    tol = 1e-6 if dtype == "float32" else 2e-15
    np_fn = np.conjugate if name == "conjugate" else None
    run(backend, name, x, np_fn=np_fn, rtol=tol, atol=1e-300)


@pytest.mark.parametrize("name", ["arccos", "arcsin", "arctanh"])
def test_unary_unit_domain(backend, name):
    run(backend, name, UNIT, rtol=1e-15)


def test_arccosh(backend):
    run(backend, "arccosh", np.array([1.0, 1.5, 10.0, INF, NAN]), rtol=1e-15)


def test_cbrt_exact_cubes(backend):
    x = np.array([27.0, -8.0, 64.0, -1e-9, 1e30, 0.001])
    check(backend, fnp.cbrt(backend.asarray(x)), np.cbrt(x), rtol=2.3e-16, atol=0)


def test_cbrt_tiny_values(backend):
    # (the Newton step's residual r**3 - |x| is subnormal there unless |x| is scaled first)
    x = np.array([1e-300, -2.0 ** -1000, 1e-295, 8e-303])
    if backend.name != "jax":  # (XLA flushes subnormal inputs to zero)
        x = np.concatenate([x, [1e-310, -3e-320, 5e-324]])
    check(backend, fnp.cbrt(backend.asarray(x)), np.cbrt(x), rtol=2.3e-16, atol=0)
    x32 = np.array([1e-33, -3e-30, 2.0 ** -100], dtype=np.float32)
    check(backend, fnp.cbrt(backend.asarray(x32, "float32")), np.cbrt(x32), rtol=1.2e-7,
          atol=0)


def test_sinc_derivatives_at_zero(backend):
    x = backend.asarray(np.array([0.0, 0.0]))
    f = lambda v: fnp.sum(fnp.sinc(v))  # noqa: E731
    g = ft.grad(f)(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 0.0])
    h = ft.grad(lambda v: fnp.sum(ft.grad(f)(v)))(x)
    np.testing.assert_allclose(backend.to_numpy(h), [-np.pi ** 2 / 3] * 2, rtol=1e-14)
    check_grads(fnp.sinc, (backend.asarray(np.array([0.0, 0.25, -1.3])),), order=2)


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_round_decimals(backend, decimals, dtype):
    if dtype == "int64":
        x = np.array([1250, 1350, -1250, -1350, 49, 51, -51, 150, 250, 5, -5, 15, 25, 0])
    else:
        x = np.array([1.255, 2.5, -0.5, 0.125, 1234.5678, -3.14159, 1e10 / 3, NAN, INF,
                      -0.0]).astype(dtype)
    want = np.round(x, decimals)
    rtol = 0
    if backend.name == "jax" and decimals and dtype != "int64":
        # XLA's CPU division of a vector is not correctly rounded (float32 [13, 13] / 10 is
        # 1.3000001, an ulp high; float64 12346 / 10 is 1234.6000000000001): NumPy's scaling
        # by 10**decimals and back lands an ulp or two away there
        rtol = 2 * np.finfo(dtype).eps
    check(backend, fnp.round(_conv(backend, x), decimals), want, rtol=rtol)
    check(backend, fnp.around(_conv(backend, x), decimals=decimals), want, rtol=rtol)


def test_round_bool_negative_decimals_is_an_error(backend):
    with pytest.raises(TypeError, match="round: booleans"):
        fnp.round(backend.asarray([True, False], dtype="bool"), -1)


BIN_X = np.array([-3.5, -2.0, -1.0, -0.0, 0.0, 0.5, 2.0, 3.5, 7.25, NAN, 1.0, -5.0])
BIN_Y = np.array([2.0, -2.0, 0.0, 1.5, -1.5, NAN, 0.5, -3.0, 2.0, 1.0, NAN, 3.0])


@pytest.mark.parametrize("name", ["arctan2", "power", "true_divide", "mod", "fmod", "fmax",
                                  "fmin", "heaviside", "logaddexp2", "float_power"])
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"),
                                    ("float64", "scalar"), ("int64", "int64")])
def test_binary(backend, name, dtypes):
    x = BIN_X.astype(dtypes[0]) if dtypes[0] != "int64" else np.array([-7, -3, 0, 2, 5, 9])
    if dtypes[1] == "scalar":
        y = 1.5
    elif dtypes[1] == "int64":
        y = np.array([2, -2, 3, 3, -4, 2])
    else:
        y = BIN_Y.astype(dtypes[1])
    if name == "power" and dtypes[0] == "int64":
        y = np.abs(y)
    tol = 1e-6 if dtypes[0] == "float32" else 1e-15
    if name == "power" and dtypes[0] == "float64" and dtypes[1] != "int64":
        x = np.abs(x)  # negative bases with fractional powers give NaN (fine) on every library
    if backend.name == "torch" and name in ("mod", "fmod") and dtypes == ("float64", "float64"):
        ok = np.isfinite(y) & (y != 0)   # torch's remainder by 0 or NaN follows other rules
        x, y = x[ok], y[ok]
    if backend.name == "torch" and name in ("mod", "fmod") and dtypes[0] == "float32":
        ok = np.isfinite(y) & (y != 0)
        x, y = x[ok], y[ok]
    run(backend, name, x, y, rtol=tol)


def test_binary_broadcasting(backend):
    x = RNG.uniform(-3, 3, (2, 1, 3))
    y = RNG.uniform(0.5, 2, (4, 1))
    for name in ("fmod", "fmax", "fmin", "logaddexp2", "heaviside", "float_power"):
        run(backend, name, x if name != "float_power" else np.abs(x), y, rtol=1e-14)


def test_logaddexp2_ties_and_infinities(backend):
    x = np.array([1.0, -INF, INF, 3.0, -1000.0, 1000.0])
    y = np.array([1.0, -INF, INF, -INF, -1000.0, 999.0])
    run(backend, "logaddexp2", x, y, rtol=1e-15)


def test_float_power_dtypes(backend):
    run(backend, "float_power", np.array([1, 2, 3]), np.array([2, 3, 4]))
    run(backend, "float_power", np.array([1.5, 2.0], dtype="float32"), 2)
    run(backend, "float_power", np.array([1.5, 2.0], dtype="float32"),
        np.array([2.0, 0.5], dtype="float32"))


def test_fmod_signs(backend):
    x = np.array([5.0, -5.0, 5.0, -5.0, -0.0, 0.0, 1e-20, -1e-20])
    y = np.array([3.0, 3.0, -3.0, -3.0, 2.0, -2.0, 1.0, 1.0])
    got = fnp.fmod(backend.asarray(x), backend.asarray(y))
    want = np.fmod(x, y)
    check(backend, got, want, rtol=0)
    np.testing.assert_array_equal(np.signbit(backend.to_numpy(got)), np.signbit(want))


def test_complex_sums_with_infinite_or_nan_parts(backend):
    # torch adds x + alpha * y with a complex product by alpha = 1: an infinite or NaN part of
    # y made its other part NaN ((1 + 0j) + inf j was nan + inf j)
    x = np.array([1 + 0j, 1 + 0j, 2 + 3j, 1 + 0j, -0.0 + 0j])
    y = np.array([complex(0, INF), complex(INF, 0), complex(-INF, 1), complex(1, NAN),
                  complex(0.0, -0.0)])
    X, Y = backend.asarray(x, "complex128"), backend.asarray(y, "complex128")
    R = backend.asarray(x.real)
    for name in ("add", "subtract"):
        for a, b, want in ((X, Y, getattr(np, name)(x, y)), (R, Y, getattr(np, name)(x.real, y)),
                           (Y, 1.5, getattr(np, name)(y, 1.5)),
                           (Y, R, getattr(np, name)(y, x.real))):
            got = backend.to_numpy(getattr(fnp, name)(a, b))
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got.imag), np.signbit(want.imag))
    # the tangent's sums too (mul_add: ta * b + a * tb)
    with np.errstate(invalid="ignore"):
        want = y * x + x * y
    X2 = backend.asarray(x, "complex128")
    _, t = ft.jvp(lambda a, b: a * b, (X, X2), (Y, Y))
    np.testing.assert_array_equal(backend.to_numpy(t), want)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "uint64"])
def test_integer_division_by_zero_is_numpys_zero(backend, dtype):
    # torch raised RuntimeError('ZeroDivisionError'); NumPy's result is 0 (with a warning)
    a, b = np.array([5, 7, 0, 9], dtype), np.array([0, 2, 0, 4], dtype)
    A, B = backend.asarray(a, dtype), backend.asarray(b, dtype)
    with np.errstate(divide="ignore"):
        for name in ("floor_divide", "remainder", "fmod", "divmod"):
            check(backend, getattr(fnp, name)(A, B), getattr(np, name)(a, b), rtol=0)
        check(backend, ft.jit(fnp.floor_divide)(A, B), np.floor_divide(a, b), rtol=0)
        check(backend, ft.vmap(fnp.remainder)(A, B), np.remainder(a, b), rtol=0)


# (array-api-strict refuses these on booleans, as the standard does)
@pytest.mark.backend_cases(keep=lambda backend_id, params: "strict" not in backend_id)
def test_boolean_arithmetic_and_products_as_numpy(backend):
    # torch has no boolean kernels for them (a raw NotImplementedError): NumPy's int8 results
    # (bool for the products)
    a, b = np.array([True, False, True, False]), np.array([True, True, False, False])
    A, B = backend.asarray(a, "bool"), backend.asarray(b, "bool")
    with np.errstate(divide="ignore"):
        for name in ("floor_divide", "remainder", "fmod", "divmod", "left_shift",
                     "right_shift", "power", "searchsorted", "matmul", "outer"):
            check(backend, getattr(fnp, name)(A, B), getattr(np, name)(a, b), rtol=0)
        m = np.ones((200, 200), bool)  # (sums past int8's range)
        check(backend, fnp.matmul(backend.asarray(m, "bool"), backend.asarray(m, "bool")),
              m @ m, rtol=0)
        check(backend, ft.vmap(fnp.power)(A, B), np.power(a, b), rtol=0)
        check(backend, fnp.power(A, True), np.power(a, True), rtol=0)  # (torch: a bool)


def test_complex_cumprod_and_vander_past_infinite_parts(backend):
    # torch's complex running product started from 1 * x[0] (inf + 0j became inf + nan j)
    # and differed from NumPy's plain products past an infinity
    x = np.array([[complex(INF, 0), 2 + 0j, 1 - 1j], [complex(0, INF), 1 + 1j, 0.5j]])
    X = backend.asarray(x, "complex128")
    with np.errstate(invalid="ignore"):
        for axis in (0, 1):
            np.testing.assert_array_equal(backend.to_numpy(fnp.cumprod(X, axis=axis)),
                                          np.cumprod(x, axis=axis))
        np.testing.assert_array_equal(backend.to_numpy(fnp.vander(X[0, :])), np.vander(x[0]))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_shifts_by_amounts_outside_the_word(backend, dtype):
    # NumPy's results (left: 0, right: the sign); array-api-strict refused negative amounts
    # (the standard leaves them undefined) with a ValueError naming the left shift
    a = np.array([1, 7, -8, 5, 1, -1], dtype)
    bits = np.iinfo(dtype).bits
    s = np.array([-1, -3, -1, bits, bits + 1, 3], dtype)
    A, S = backend.asarray(a, dtype), backend.asarray(s, dtype)
    for name in ("left_shift", "right_shift"):
        check(backend, getattr(fnp, name)(A, S), getattr(np, name)(a, s), rtol=0)
        check(backend, getattr(fnp, name)(A, -2), getattr(np, name)(a, np.asarray(-2, dtype)),
              rtol=0)
        check(backend, ft.jit(getattr(fnp, name))(A, S), getattr(np, name)(a, s), rtol=0)


def test_nan_to_num(backend):
    x = np.array([NAN, INF, -INF, 1.5, -0.0])
    run(backend, "nan_to_num", x)
    run(backend, "nan_to_num", x, nan=-1.0, posinf=9.0, neginf=-9.0)
    run(backend, "nan_to_num", x.astype("float32"))
    run(backend, "nan_to_num", np.array([1, 2]))
    run(backend, "nan_to_num", x, copy=False)
    if backend.name != "array_api_strict":
        c = np.array([complex(NAN, INF), complex(1, -INF)])
        run(backend, "nan_to_num", c)
    xb = backend.asarray(x)
    before = backend.to_numpy(xb).copy()
    fnp.nan_to_num(xb, copy=False)
    np.testing.assert_array_equal(backend.to_numpy(xb), before)  # never written to


def test_nan_to_num_derivative_is_zero_at_nan(backend):
    x = backend.asarray(np.array([NAN, 2.0, INF]))
    g = ft.grad(lambda v: fnp.sum(fnp.nan_to_num(v) * 3.0))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 3.0, 0.0])


def test_ldexp(backend):
    x = np.array([1.5, -2.0, 0.75, 3.0])
    e = np.array([2, -3, 10, 0])
    run(backend, "ldexp", x, e, rtol=0)
    run(backend, "ldexp", np.array([1, 2]), np.array([3, -1]), rtol=0)
    run(backend, "ldexp", x.astype("float32"), e, rtol=0)
    # a narrower float whose 2**x2 alone overflows or underflows its dtype, though the
    # result does not (computed in float64, rounded once)
    x32 = np.array([0.7, 1.5, 3.0e-39, 2.0e38, -1.0], np.float32)
    e32 = np.array([128, -149, 127, -250, 100])
    run(backend, "ldexp", x32, e32, rtol=0)
    for n in (128, -150, 200):
        got = fnp.ldexp(backend.asarray(x32, dtype="float32"), n)
        np.testing.assert_array_equal(backend.to_numpy(got), np.ldexp(x32, n))
        assert fnp.result_type(got) == fnp.float32
    with pytest.raises(TypeError, match="ldexp: the exponent"):
        fnp.ldexp(backend.asarray(x), backend.asarray(x))


def test_divmod_and_modf(backend):
    x = np.array([-3.5, -2.0, 0.0, 2.5, 7.25, -0.0])
    y = np.array([2.0, -1.5, 3.0, 1.0, -2.0, 1.0])
    run(backend, "divmod", x, y, rtol=1e-15)
    run(backend, "divmod", np.array([-7, 7, 9]), np.array([2, -2, 4]))
    got = fnp.modf(backend.asarray(x))
    want = np.modf(x)
    check(backend, got, want, rtol=0)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.signbit(backend.to_numpy(g)), np.signbit(w))
    check(backend, fnp.modf(backend.asarray(np.array([INF, -INF]))),
          np.modf(np.array([INF, -INF])))
    run(backend, "modf", np.array([3, -4]))


def test_fabs_refuses_complex():
    with pytest.raises(TypeError, match="fabs: complex"):
        fnp.fabs(np.array([1 + 1j]))


def test_amax_amin(backend):
    x = RNG.normal(size=(3, 4))
    for axis in (None, 0, 1, (0, 1), -1):
        run(backend, "amax", x, axis, rtol=0)
        run(backend, "amin", x, axis=axis, keepdims=True, rtol=0)
    run(backend, "amax", x, 0, initial=0.5, rtol=0)
    run(backend, "amin", x, 1, initial=-0.1, rtol=0)
    with pytest.raises(NotImplementedError, match="amax: out="):
        fnp.amax(backend.asarray(x), out=backend.asarray(x))

# -- cumulative ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "bool"])
def test_cumulative(backend, name, axis, dtype):
    x = RNG.uniform(-2, 2, (3, 4))
    if dtype == "bool":
        x = x > 0
    elif dtype.startswith("int"):
        x = np.round(x * 2).astype(dtype)
    else:
        x = x.astype(dtype)
        if name.startswith("nan"):
            x[0, 1] = x[2, 3] = NAN
    # float32 running sums pass near 0, where only an absolute tolerance holds
    f32 = dtype == "float32"
    run(backend, name, x, axis=axis, rtol=1e-5 if f32 else 1e-13, atol=1e-6 if f32 else 0.0)


def test_cumulative_dtype_and_0d(backend):
    x = np.array([[1, 2], [3, 4]], dtype="int32")
    run(backend, "cumsum", x, 1, "float64")
    run(backend, "cumprod", x, dtype="float32", rtol=0)
    run(backend, "cumsum", np.array(2.5))
    with pytest.raises(NotImplementedError, match="cumsum: out="):
        fnp.cumsum(backend.asarray(x), out=1)

# -- nan-reductions ---------------------------------------------------------------------------


def _with_nans(shape, dtype="float64", all_nan_row=False):
    x = RNG.uniform(-2, 2, shape)
    mask = RNG.uniform(size=shape) < 0.3
    x[mask] = NAN
    if all_nan_row:
        x[0] = NAN
    return x.astype(dtype)


AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("name", ["nansum", "nanprod", "nanmean", "nanvar", "nanstd",
                                  "nanmax", "nanmin"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_nan_reductions(backend, name, axis, keepdims):
    x = _with_nans((3, 4, 2), all_nan_row=True)
    with _quiet():
        run(backend, name, x, axis=axis, keepdims=keepdims, rtol=1e-13)


@pytest.mark.parametrize("name", ["nansum", "nanprod", "nanmean", "nanvar", "nanstd",
                                  "nanmax", "nanmin", "nanargmax", "nanargmin"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool"])
def test_nan_reductions_dtypes(backend, name, dtype):
    if dtype == "float32":
        x = _with_nans((3, 4), "float32")
        x[:, 0] = 1.0  # no all-NaN column
    else:
        x = RNG.integers(-3, 5, (3, 4)).astype(dtype)
    if name in ("nanmax", "nanmin", "nanargmax", "nanargmin") and dtype == "bool":
        return
    with _quiet():
        run(backend, name, x, axis=1, rtol=1e-5 if dtype == "float32" else 1e-13)


def test_nan_reductions_parameters(backend):
    x = _with_nans((4, 5))
    x[:, 0] = 1.0
    run(backend, "nanvar", x, 0, ddof=1)
    run(backend, "nanstd", x, axis=1, ddof=2)
    run(backend, "nanvar", x, axis=1, correction=1)
    run(backend, "nansum", x, 1, "float32", rtol=1e-6)
    run(backend, "nanmean", x, axis=0, dtype="float32", rtol=1e-6)
    run(backend, "nansum", x, initial=2.0)
    run(backend, "nanprod", x, axis=0, initial=3.0)
    with _quiet():
        run(backend, "nanvar", x, axis=0, ddof=4)  # dof <= 0 where a column has 4 values
    with pytest.raises(ValueError, match="ddof and correction"):
        fnp.nanvar(backend.asarray(x), ddof=1, correction=1)
    run(backend, "nanmax", x, axis=0, initial=1.0)  # more in tests/test_review_s21d.py
    # where= is supported (tests/test_reductions_where.py)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(
            backend.to_numpy(fnp.nansum(backend.asarray(x), where=backend.asarray(
                x > 0, dtype="bool"))), np.nansum(x, where=x > 0))


@pytest.mark.parametrize("name", ["nanargmax", "nanargmin"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nanarg(backend, name, axis):
    x = _with_nans((3, 4))
    x[:, 1] = 0.5
    x[1, :] = 0.25
    run(backend, name, x, axis=axis)
    run(backend, name, x, axis=axis, keepdims=True)


def test_nanarg_all_nan(backend):
    x = np.array([[NAN, NAN], [1.0, NAN]])
    with pytest.raises(ValueError, match="All-NaN slice"):
        fnp.nanargmax(backend.asarray(x), axis=1)
    # under a transform the values cannot be inspected: -1 marks the slice
    got = ft.vmap(lambda r: fnp.nanargmax(r))(backend.asarray(x))
    np.testing.assert_array_equal(backend.to_numpy(got), [-1, 0])


def test_nan_derivatives_are_finite(backend):
    x = backend.asarray(np.array([[1.0, NAN, 3.0], [NAN, NAN, NAN], [2.0, 5.0, NAN]]))
    for f in (fnp.nansum, fnp.nanmean, fnp.nanvar, fnp.nanstd, fnp.nanmax, fnp.nanmin,
              fnp.nanprod, fnp.nanmedian, lambda v, axis: fnp.nanquantile(v, 0.3, axis=axis),
              fnp.nancumsum, fnp.nancumprod):
        g = backend.to_numpy(ft.grad(lambda v: fnp.sum(fnp.nan_to_num(f(v, axis=1))
                                                       if f not in (fnp.nancumsum, fnp.nancumprod)
                                                       else f(v, axis=1)))(x))
        assert np.all(np.isfinite(g)), (f, g)
        np.testing.assert_array_equal(g[np.isnan(backend.to_numpy(x))], 0.0)

# -- statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_ptp_median(backend, axis, keepdims):
    x = RNG.normal(size=(4, 5))
    run(backend, "ptp", x, axis=axis, keepdims=keepdims)
    run(backend, "median", x, axis=axis, keepdims=keepdims)
    run(backend, "median", x[:3], axis=axis, keepdims=keepdims)
    run(backend, "median", RNG.integers(0, 9, (3, 4)), axis=axis, keepdims=keepdims)
    run(backend, "median", x.astype("float32"), axis=axis, keepdims=keepdims, rtol=1e-6)


def test_median_with_nan_and_empty(backend):
    x = RNG.normal(size=(3, 4))
    x[1, 2] = NAN
    run(backend, "median", x, axis=1)
    run(backend, "median", x)
    with _quiet():
        run(backend, "median", np.zeros((0, 3)), axis=0)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_average(backend, axis):
    x = RNG.normal(size=(3, 4))
    w = RNG.uniform(0.5, 2.0, (3, 4))
    run(backend, "average", x, axis=axis)
    run(backend, "average", x, axis=axis, weights=w)
    run(backend, "average", x, axis, w, True)
    run(backend, "average", x, axis=axis, weights=w, keepdims=True)
    run(backend, "average", x, axis=axis, returned=True, keepdims=True)


def test_average_weights_shapes_and_dtypes(backend):
    x = RNG.normal(size=(3, 4, 2))
    run(backend, "average", x, axis=1, weights=RNG.uniform(0.5, 2, 4))
    run(backend, "average", x, axis=(2, 0), weights=RNG.uniform(0.5, 2, (2, 3)))
    run(backend, "average", x, axis=(0, 2), weights=RNG.uniform(0.5, 2, (3, 2)))
    run(backend, "average", RNG.integers(0, 9, (3, 4)), axis=0,
        weights=RNG.integers(1, 4, (3, 4)))
    run(backend, "average", x.astype("float32"), axis=0,
        weights=RNG.uniform(0.5, 2, (3, 4, 2)).astype("float32"), rtol=1e-6)
    # float32 with integer weights: float32, the namespace's promotion (NumPy: float64)
    run(backend, "average", x.astype("float32"), axis=0,
        weights=RNG.integers(1, 4, (3, 4, 2)), rtol=1e-5, atol=1e-6, dtype=False)
    avg = fnp.average(backend.asarray(x, "float32"), axis=0,
                      weights=backend.asarray(RNG.integers(1, 4, (3, 4, 2)), "int64"))
    assert fnp.float32 == avg.dtype
    run(backend, "average", RNG.integers(0, 9, (3,)), returned=True)
    with pytest.raises(TypeError, match="axis must be specified"):
        fnp.average(backend.asarray(x), weights=backend.asarray(np.ones(4)))
    with pytest.raises(ValueError, match="shape of weights"):
        fnp.average(backend.asarray(x), axis=1, weights=backend.asarray(np.ones(3)))
    with pytest.raises(ZeroDivisionError, match="weights sum to zero"):
        fnp.average(backend.asarray(x), axis=1, weights=backend.asarray(np.zeros(4)))


METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.9, 1.0, [0.1, 0.5, 0.75],
                               np.array([[0.2, 0.6], [1.0, 0.0]])])
def test_quantile(backend, method, axis, q):
    x = RNG.normal(size=(5, 4, 3))
    qb = _conv(backend, q)
    for keepdims in (False, True):
        want = np.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
        got = fnp.quantile(backend.asarray(x), qb, axis=axis, method=method, keepdims=keepdims)
        check(backend, got, want, rtol=1e-14)
    qp = q * 100 if not isinstance(q, list) else [v * 100 for v in q]
    want = np.percentile(x, qp, axis=axis, method=method)
    got = fnp.percentile(backend.asarray(x), _conv(backend, qp), axis=axis, method=method)
    check(backend, got, want, rtol=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_quantile_dtypes(backend, method):
    xi = RNG.integers(-5, 9, (4, 6))
    run(backend, "quantile", xi, 0.3, axis=1, method=method)
    x32 = RNG.normal(size=(7,)).astype("float32")
    run(backend, "quantile", x32, 0.3, method=method, rtol=1e-6)
    run(backend, "quantile", x32, np.array([0.3, 0.8]), method=method, rtol=1e-6)
    xn = RNG.normal(size=(3, 5))
    xn[1, 2] = NAN
    run(backend, "quantile", xn, 0.4, axis=1, method=method)


@pytest.mark.parametrize("name", ["nanmedian", "nanquantile", "nanpercentile"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_nan_quantiles(backend, name, axis):
    x = _with_nans((4, 5, 3), all_nan_row=False)
    x[0, :, 0] = NAN  # an all-NaN slice for axis=1
    args = {"nanmedian": (), "nanquantile": ([0.1, 0.5, 0.77],),
            "nanpercentile": (33.0,)}[name]
    with _quiet():
        for keepdims in (False, True):
            run(backend, name, x, *args, axis=axis, keepdims=keepdims, rtol=1e-14)
        if name != "nanmedian":
            for method in METHODS[1:]:
                run(backend, name, x, *args, axis=axis, method=method, rtol=1e-14)


def test_quantile_errors(backend):
    x = backend.asarray(RNG.normal(size=(4,)))
    with pytest.raises(ValueError, match="Quantiles must be in the range"):
        fnp.quantile(x, 1.5)
    with pytest.raises(ValueError, match="Quantiles must be in the range"):
        fnp.quantile(x, backend.asarray(np.array([0.5, -0.1])))
    with pytest.raises(ValueError, match="Percentiles must be in the range"):
        fnp.percentile(x, [50, 101])
    with pytest.raises(ValueError, match="method='bogus' is not one of NumPy's"):
        fnp.quantile(x, 0.5, method="bogus")
    # weights= only with method="inverted_cdf", and NumPy's checks of them
    with pytest.raises(ValueError, match="Only method 'inverted_cdf' supports weights"):
        fnp.quantile(x, 0.5, weights=x)
    with pytest.raises(ValueError, match="Weights must be non-negative"):
        fnp.quantile(x, 0.5, weights=-x * x, method="inverted_cdf")
    with pytest.raises(ValueError, match="all zero"):
        fnp.nanpercentile(x, 50, weights=x * 0.0, method="inverted_cdf")
    with pytest.raises(TypeError, match="Axis must be specified"):
        fnp.quantile(backend.asarray(np.ones((2, 3))), 0.5, weights=backend.asarray(
            np.ones(3)), method="inverted_cdf")
    with pytest.raises(TypeError, match="real numbers"):
        fnp.quantile(np.array([1j, 2.0]), 0.5)
    # (median takes complex numbers, as NumPy's: tests/test_gaps_s26.py)
    np.testing.assert_array_equal(fnp.median(np.array([1j, 2.0])),
                                  np.median(np.array([1j, 2.0])))


def test_quantile_derivative_in_q(backend):
    x = backend.asarray(np.array([3.0, 1.0, 4.0, 1.5, 9.0]))
    check_grads(lambda q: fnp.quantile(x, q), (backend.asarray(np.array([0.3, 0.6])),),
                           order=1)
    g = ft.grad(lambda v: fnp.median(v))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [1.0, 0.0, 0.0, 0.0, 0.0])

# -- comparisons -------------------------------------------------------------------------------


def test_isclose_allclose(backend):
    a = np.array([1.0, 1.0 + 1e-9, 1e-9, INF, -INF, NAN, 0.0, 100.0])
    b = np.array([1.0, 1.0, 0.0, INF, INF, NAN, 1e-8, 100.001])
    run(backend, "isclose", a, b)
    run(backend, "isclose", a, b, equal_nan=True)
    run(backend, "isclose", a, b, rtol=1e-3, atol=0.0)
    run(backend, "isclose", a, 1.0)
    run(backend, "isclose", np.array([1, 2, 3]), np.array([1, 2, 4]))
    ab, bb = backend.asarray(a), backend.asarray(b)
    assert fnp.allclose(ab, ab, equal_nan=True) is True
    assert fnp.allclose(ab, ab) is False
    assert fnp.allclose(ab[:3], bb[:3]) is np.allclose(a[:3], b[:3])
    assert fnp.array_equal(ab, ab) is False
    assert fnp.array_equal(ab, ab, equal_nan=True) is True
    assert fnp.array_equal(ab[:2], ab[:3]) is False
    assert fnp.array_equiv(backend.asarray(np.ones((2, 3))), backend.asarray(np.ones(3)))
    assert fnp.array_equiv(backend.asarray(np.ones((2, 3))), backend.asarray(np.ones(2))) \
        is False
    # staged: a 0-d boolean array, as jax.numpy's (was a ConcretizationError)
    assert not bool(backend.to_numpy(ft.jit(lambda u, v: fnp.allclose(u, v))(ab, bb)))
    assert bool(backend.to_numpy(ft.jit(lambda u: fnp.array_equal(u, u, equal_nan=True))(ab)))

# -- interp, polyval, trapezoid, convolve, correlate --------------------------------------------


def test_interp(backend):
    xp = np.array([-1.0, 0.0, 0.5, 2.0, 3.0])
    fp = np.array([2.0, -1.0, 0.5, 4.0, 3.5])
    x = np.array([-2.0, -1.0, -0.3, 0.0, 0.25, 0.5, 1.7, 2.0, 3.0, 3.5, NAN])
    run(backend, "interp", x, xp, fp)
    run(backend, "interp", x, xp, fp, left=-9.0, right=9.0)
    run(backend, "interp", x.reshape(1, -1), xp, fp)
    run(backend, "interp", x, xp[:1], fp[:1])
    run(backend, "interp", x.astype("float32"), xp.astype("float32"), fp.astype("float32"))
    run(backend, "interp", np.array([-7.0, 0.1, 4.0, 370.0]), np.array([10.0, 350.0, 20.0]),
        np.array([1.0, 2.0, 3.0]), period=360.0, rtol=1e-13)
    if backend.name != "array_api_strict":
        run(backend, "interp", x, xp, fp * (1 + 1j))
    with pytest.raises(ValueError, match="period must be a non-zero"):
        fnp.interp(backend.asarray(x), backend.asarray(xp), backend.asarray(fp), period=0)
    with pytest.raises(ValueError, match="not of the same length"):
        fnp.interp(backend.asarray(x), backend.asarray(xp), backend.asarray(fp[:3]))


def test_polyval(backend):
    p = np.array([2.0, -1.0, 0.5, 3.0])
    x = RNG.normal(size=(2, 3))
    run(backend, "polyval", p, x)
    run(backend, "polyval", [1.0, 2.0], x)
    run(backend, "polyval", np.array([1, 2, 3]), np.array([1, -2]))
    run(backend, "polyval", p[:1], x)


def test_trapezoid(backend):
    y = RNG.normal(size=(3, 5))
    run(backend, "trapezoid", y)
    run(backend, "trapezoid", y, dx=0.5, axis=0)
    run(backend, "trapezoid", y, x=np.cumsum(RNG.uniform(0.1, 1, 5)))
    run(backend, "trapezoid", y, x=np.cumsum(RNG.uniform(0.1, 1, 3)), axis=0)
    run(backend, "trapezoid", y, np.cumsum(RNG.uniform(0.1, 1, (3, 5)), axis=1))
    run(backend, "trapezoid", RNG.integers(0, 5, (4,)))


@pytest.mark.parametrize("name", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_correlate(backend, name, mode):
    # Own seeded data (the module's RNG depends on the order tests run in), and an absolute
    # tolerance at rounding level: an entry is a sum of products of O(1) numbers, which may
    # cancel to a small value whose relative rounding error is large.
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 4, 6):
        for m in (1, 2, 3, 5):
            a, v = rng.normal(size=n), rng.normal(size=m)
            run(backend, name, a, v, mode=mode, atol=1e-14)
    run(backend, name, np.array([1, 2, 3]), np.array([0, 1]), mode=mode)
    if backend.name != "array_api_strict":
        run(backend, name, rng.normal(size=4) + 1j, rng.normal(size=3) - 2j, mode=mode,
            atol=1e-14)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_correlate_nonfinite_beside_the_ends(backend, mode):
    # NumPy sums only the products that exist: an output near an end of the longer operand
    # holds no term with a far entry of the shorter one, so an inf there must not make it NaN
    # (it did: the end rows multiplied zero padding by the inf).
    a, v = np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, np.inf])
    for name in ("convolve", "correlate"):
        run(backend, name, a, v, mode=mode)
        run(backend, name, v, a, mode=mode)
        run(backend, name, a, np.array([np.nan, 2.0, 0.5]), mode=mode)
    check_grads(lambda a, v: fnp.convolve(a, v, mode), (backend.asarray(a),
                backend.asarray(np.array([0.5, -2.0]))), order=2)


def test_convolve_errors(backend):
    a = backend.asarray(np.ones(3))
    with pytest.raises(ValueError, match="convolve: mode must be"):
        fnp.convolve(a, a, mode="circular")
    with pytest.raises(ValueError, match="correlate: v cannot be empty"):
        fnp.correlate(a, backend.asarray(np.ones(0)))
    with pytest.raises(ValueError, match="one-dimensional"):
        fnp.convolve(backend.asarray(np.ones((2, 2))), a)

# -- var/std ddof (the standard's functions with NumPy's parameter) ----------------------------


def test_var_std_ddof(backend):
    x = RNG.normal(size=(3, 4))
    xb = backend.asarray(x)
    for ddof in (0, 1, 2):
        check(backend, fnp.var(xb, axis=1, ddof=ddof), np.var(x, axis=1, ddof=ddof))
        check(backend, fnp.std(xb, ddof=ddof), np.std(x, ddof=ddof))
    check(backend, fnp.std(xb, correction=1), np.std(x, ddof=1))
    with pytest.raises(ValueError, match="not both"):
        fnp.var(xb, ddof=1, correction=1)

# -- vmap against a loop -----------------------------------------------------------------------


VMAPPED = {
    "nanmean": lambda v: fnp.nanmean(v),
    "nanvar": lambda v: fnp.nanvar(v, ddof=1),
    "median": lambda v: fnp.median(v),
    "nanquantile": lambda v: fnp.nanquantile(v, [0.2, 0.7]),
    "quantile_lower": lambda v: fnp.quantile(v, 0.4, method="lower"),
    "interp": lambda v: fnp.interp(v, fnp.sort(v), fnp.cumsum(v)),
    "convolve": lambda v: fnp.convolve(v, v[:3], mode="same"),
    "average": lambda v: fnp.average(v, weights=v * v),
    "fmax": lambda v: fnp.fmax(v, fnp.flip(v)),
    "sinc": fnp.sinc,
    "cumsum": fnp.cumsum,
    "nanargmin": fnp.nanargmin,
}


@pytest.mark.parametrize("name", sorted(VMAPPED))
def test_vmap_matches_loop(backend, name):
    f = VMAPPED[name]
    x = RNG.normal(size=(4, 6))
    if name.startswith("nan") or name == "fmax":
        x[0, 1] = x[2, 4] = x[3, 0] = NAN
    if name == "interp":
        x = np.abs(x) + 0.1
    xb = backend.asarray(x)
    got = ft.vmap(f)(xb)
    want = np.stack([backend.to_numpy(f(backend.asarray(r))) for r in x])
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13, equal_nan=True)


def test_jit_of_quantile_in_q(backend):
    x = backend.asarray(np.array([3.0, 1.0, 4.0, 1.5, 9.0]))
    q = backend.asarray(np.array([0.3, 0.95]))
    f = ft.jit(lambda v, q: fnp.quantile(v, q))
    np.testing.assert_allclose(backend.to_numpy(f(x, q)),
                               np.quantile(backend.to_numpy(x), backend.to_numpy(q)))


_ = math


# -- regressions from the adversarial review ----------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda x: fnp.degrees(x), lambda x: fnp.radians(x), lambda x: fnp.rad2deg(x),
    lambda x: fnp.deg2rad(x), lambda x: fnp.heaviside(x, 0.5), lambda x: fnp.heaviside(1.0, x),
    lambda x: fnp.fmod(x, 2.0), lambda x: fnp.fmod(3.0, x), lambda x: fnp.logaddexp2(x, 1.0),
    lambda x: fnp.logaddexp2(0.0, x), lambda x: fnp.ldexp(x, 2)])
def test_real_only_functions_refuse_complex(backend, call):
    # NumPy's ufuncs have no complex loop here; fmod used to drop the imaginary parts
    x = backend.asarray(np.array([1.5 + 2j, -3.0 - 1j]), dtype="complex128")
    with pytest.raises(TypeError, match="complex input is not supported"):
        call(x)


def test_fmod_heaviside_complex_python_scalar_refused(backend):
    x = backend.asarray(np.array([1.5, -3.0]))
    for f in (fnp.fmod, fnp.heaviside, fnp.logaddexp2):
        with pytest.raises(TypeError, match="complex input"):
            f(x, 1j)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 3)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("dtype, initial", [("float64", 0.5), ("int64", 0.5), ("int64", 2),
                                            ("int8", -3), ("float32", 1.25)])
def test_amax_amin_initial(backend, name, shape, axis, dtype, initial):
    # initial is cast to the array's dtype and fills empty slices (it used to raise on an
    # empty reduction and to promote integers to float64)
    a = RNG.integers(-4, 5, shape).astype(dtype)
    for keepdims in (False, True):
        run(backend, name, a, axis=axis, keepdims=keepdims, initial=initial)


def test_amax_initial_derivative_and_vmap(backend):
    x = backend.asarray(np.array([1.0, 3.0, 2.0]))
    g = ft.grad(lambda v: fnp.amax(v, initial=0.5))(x)
    check(backend, g, np.array([0.0, 1.0, 0.0]))
    g = ft.grad(lambda v: fnp.amax(v, initial=5.0))(x)
    check(backend, g, np.zeros(3))
    xs = backend.asarray(np.array([[1.0, 3.0, 2.0], [0.0, 1.0, 2.0]]))
    check(backend, ft.vmap(lambda v: fnp.amin(v, initial=0.5))(xs), np.array([0.5, 0.0]))


def test_python_data_goes_next_to_the_array_argument(backend):
    # Python scalars/lists beside an array were made on the default backend (NumPy), so
    # non-NumPy backends raised BackendMismatchError
    xp_ = backend.asarray(np.array([0.0, 1.0, 2.0]))
    fp = backend.asarray(np.array([0.0, 1.0, 4.0]))
    check(backend, fnp.interp(0.5, xp_, fp), np.interp(0.5, [0.0, 1, 2], [0.0, 1, 4]))
    check(backend, fnp.interp([0.5, 1.5], xp_, fp),
          np.interp([0.5, 1.5], [0.0, 1, 2], [0.0, 1, 4]))
    check(backend, fnp.interp(xp_, [0.0, 1.0, 2.0], [1.0, 2.0, 3.0]),
          np.interp([0.0, 1, 2], [0.0, 1, 2], [1.0, 2, 3]))
    check(backend, fnp.polyval(fp, 2.0), np.polyval([0.0, 1, 4], 2.0))
    check(backend, fnp.polyval(fp, [2.0, 1.0]), np.polyval([0.0, 1, 4], [2.0, 1.0]))
    check(backend, fnp.trapezoid([1.0, 2.0, 3.0], xp_), np.trapezoid([1.0, 2, 3], [0.0, 1, 2]))
    check(backend, fnp.convolve([1.0, 2.0], fp), np.convolve([1.0, 2], [0.0, 1, 4]))
    check(backend, fnp.correlate(fp, [1.0, 2.0]), np.correlate([0.0, 1, 4], [1.0, 2]))
    check(backend, fnp.average([1.0, 2.0, 3.0], weights=fp),
          np.average([1.0, 2, 3], weights=[0.0, 1, 4]))
    check(backend, fnp.isclose([0.0, 1.0, 2.5], xp_), np.isclose([0.0, 1, 2.5], [0.0, 1, 2]))
    assert fnp.array_equal([0.0, 1.0, 2.0], xp_) is True
    assert fnp.array_equiv([[0.0, 1.0, 2.0]], xp_) is True


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min", "std", "var", "all",
                                  "any", "argmax", "argmin", "count_nonzero", "sort",
                                  "argsort", "flip"])
def test_axis_may_be_positional_as_in_numpy(backend, name):
    """``np.sum(a, 0)``: NumPy's reductions (and sort, flip) take ``axis`` as their second
    positional parameter; the standard's keyword form keeps working."""
    a = np.asarray([[0.5, -2.0, 3.0], [1.5, 4.0, -1.0]])
    fn = getattr(fnp, name)
    for axis in (0, 1, -1):
        want = getattr(np, name)(a, axis)
        check(backend, fn(backend.asarray(a), axis), want, rtol=1e-13)
        check(backend, fn(backend.asarray(a), axis=axis), want, rtol=1e-13)


def test_mean_dtype(backend):
    a = np.asarray([[1, 2], [3, 5]])
    check(backend, fnp.mean(backend.asarray(a, "int64"), 0, dtype=fnp.float32),
          np.mean(a, 0, dtype=np.float32), rtol=1e-7)
    check(backend, fnp.mean(backend.asarray(a, "float32"), dtype=fnp.float64),
          np.mean(a.astype(np.float32), dtype=np.float64))
    # an integer dtype: summed in it, the quotient truncated into it, as NumPy's
    check(backend, fnp.mean(backend.asarray(a, "int64"), dtype=fnp.int32),
          np.mean(a, dtype=np.int32))
    f = np.asarray([[1.9, -2.7], [3.2, 5.6]])
    check(backend, fnp.mean(backend.asarray(f), 1, dtype=fnp.int16), np.mean(f, 1, dtype=np.int16))
    g = ft.grad(lambda x: fnp.mean(x, 1, dtype=fnp.float64)[0])(backend.asarray(a, "float64"))
    check(backend, g, np.asarray([[0.5, 0.5], [0.0, 0.0]]))


@pytest.mark.parametrize("dt", ["int8", "int16", "int64", "uint8"])
def test_fmod_of_integers_at_the_dtypes_limits(dt):
    # (|x| overflowed at the minimum: int8 -128 fmod 127 gave -126)
    info = np.iinfo(dt)
    vals = [v for v in (info.min, info.min + 1, -7, -1, 0, 1, 7, info.max)
            if info.min <= v <= info.max]
    a = np.array([x for x in vals for _ in vals], dtype=dt)
    b = np.array([y for _ in vals for y in vals], dtype=dt)
    with np.errstate(all="ignore"):
        expect = np.fmod(a, b)
    got = fnp.fmod(a, b)
    assert got.dtype == expect.dtype
    np.testing.assert_array_equal(got, expect)
