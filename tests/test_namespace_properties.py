"""On plain arrays functrans.numpy behaves like the Array API standard.

Property tests with hypothesis's Array API strategies over array-api-strict (a minimal,
strict implementation of the standard): for each function, arrays of drawn dtypes, shapes and
values (special values included) go through functrans.numpy and through array-api-strict,
and the results must agree in type, dtype, shape and value.
"""

from __future__ import annotations

import math

import array_api_strict as xp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.array_api import make_strategies_namespace

import functrans.numpy as fnp

xps = make_strategies_namespace(xp, api_version="2024.12")
ARRAY = type(xp.asarray(0))


def _np(x):
    return np.from_dlpack(x)


def _same(got, expected, rtol=1e-6, atol=0.0):
    assert type(got) is ARRAY, type(got)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert tuple(got.shape) == tuple(expected.shape)
    g, e = _np(got), _np(expected)
    if g.dtype.kind in "fc":
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, e)


def _arrays(dtypes, shape=None, **kw):
    shapes = xps.array_shapes(min_dims=0, max_dims=3, max_side=4) if shape is None else shape
    return dtypes.flatmap(lambda d: xps.arrays(d, shapes, **kw))


FLOAT_UNARY = ["acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp",
               "expm1", "log", "log1p", "log2", "log10", "sin", "sinh", "sqrt", "tan", "tanh",
               "isfinite", "isinf", "isnan", "signbit", "reciprocal"]
NUMERIC_UNARY = ["abs", "negative", "positive", "square", "sign", "floor", "ceil", "trunc",
                 "round"]


@pytest.mark.parametrize("name", FLOAT_UNARY)
@given(x=_arrays(xps.floating_dtypes()))
def test_float_unary(name, x):
    with np.errstate(all="ignore"):
        _same(getattr(fnp, name)(x), getattr(xp, name)(x), rtol=1e-5)


@pytest.mark.parametrize("name", NUMERIC_UNARY)
@given(x=_arrays(xps.floating_dtypes() | xps.integer_dtypes(),
                 elements={"min_value": -100, "max_value": 100}))
def test_numeric_unary(name, x):
    with np.errstate(all="ignore"):
        _same(getattr(fnp, name)(x), getattr(xp, name)(x))


@pytest.mark.parametrize("name", ["conj", "real", "imag", "abs", "exp", "sqrt", "sign"])
@given(x=_arrays(xps.complex_dtypes(), elements={"allow_nan": False,
                                                 "allow_infinity": False}))
def test_complex_unary(name, x):
    _same(getattr(fnp, name)(x), getattr(xp, name)(x), rtol=1e-5, atol=1e-6)


FLOAT_BINARY = ["add", "subtract", "multiply", "divide", "pow", "atan2", "hypot", "logaddexp",
                "copysign", "nextafter", "maximum", "minimum", "remainder", "floor_divide",
                "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
INT_BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "bitwise_and",
              "bitwise_or", "bitwise_xor", "equal", "less"]


def _promotable(d1, d2):
    try:
        xp.result_type(d1, d2)
        return True
    except TypeError:
        return False


def _promotable_dtypes(dtypes):
    return st.tuples(dtypes, dtypes).filter(lambda p: _promotable(*p))


@st.composite
def _pairs(draw, dtypes):
    d1, d2 = draw(_promotable_dtypes(dtypes))
    s1, s2 = draw(xps.mutually_broadcastable_shapes(2, max_dims=3, max_side=3)).input_shapes
    return draw(xps.arrays(d1, s1)), draw(xps.arrays(d2, s2))


@pytest.mark.parametrize("name", FLOAT_BINARY)
@given(pair=_pairs(xps.floating_dtypes()))
def test_float_binary_promotion_and_broadcasting(name, pair):
    x1, x2 = pair
    with np.errstate(all="ignore"):
        _same(getattr(fnp, name)(x1, x2), getattr(xp, name)(x1, x2), rtol=1e-5)


@pytest.mark.parametrize("name", INT_BINARY)
@given(pair=_pairs(xps.integer_dtypes() | xps.unsigned_integer_dtypes()))
def test_integer_binary_promotion_and_broadcasting(name, pair):
    x1, x2 = pair
    with np.errstate(all="ignore"):
        _same(getattr(fnp, name)(x1, x2), getattr(xp, name)(x1, x2))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor",
                                  "bitwise_and", "bitwise_xor", "equal"])
@given(pair=_pairs(st.just(xp.bool)))
def test_boolean_binary(name, pair):
    _same(getattr(fnp, name)(*pair), getattr(xp, name)(*pair))


@pytest.mark.parametrize("name", ["add", "multiply", "subtract", "divide", "pow", "maximum",
                                  "less", "equal", "atan2", "copysign", "hypot"])
@given(x=_arrays(xps.floating_dtypes()),
       s=st.floats(-10, 10) | st.integers(-5, 5))
def test_python_scalars_are_weak(name, x, s):
    with np.errstate(all="ignore"):
        _same(getattr(fnp, name)(x, s), getattr(xp, name)(x, s), rtol=1e-5)
        _same(getattr(fnp, name)(s, x), getattr(xp, name)(s, x), rtol=1e-5)


@given(x=_arrays(xps.integer_dtypes(), elements={"min_value": 0, "max_value": 7}),
       y=st.integers(0, 3))
def test_shifts_and_invert(x, y):
    s = xp.asarray(y, dtype=x.dtype)
    _same(fnp.bitwise_left_shift(x, s), xp.bitwise_left_shift(x, s))
    _same(fnp.bitwise_right_shift(x, s), xp.bitwise_right_shift(x, s))
    _same(fnp.bitwise_invert(x), xp.bitwise_invert(x))


REDUCTIONS = ["sum", "prod", "max", "min", "mean", "var", "std", "all", "any"]


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data())
def test_reductions(name, data):
    dtypes = xps.floating_dtypes() if name in ("mean", "var", "std") else (
        xps.floating_dtypes() | xps.integer_dtypes() | xps.unsigned_integer_dtypes() | st.just(xp.bool))
    if name in ("max", "min", "sum", "prod"):
        dtypes = xps.floating_dtypes() | xps.integer_dtypes() | xps.unsigned_integer_dtypes()
    d = data.draw(dtypes)
    if d == xp.bool:
        elements = {}
    elif d in (xp.uint8, xp.uint16, xp.uint32, xp.uint64):
        elements = {"min_value": 0, "max_value": 5}
    elif d in (xp.int8, xp.int16, xp.int32, xp.int64):
        elements = {"min_value": -5, "max_value": 5}
    else:
        elements = {"allow_nan": False, "allow_infinity": False, "min_value": -100,
                    "max_value": 100}
    x = data.draw(xps.arrays(d, xps.array_shapes(min_dims=1, max_dims=3, max_side=4),
                             elements=elements))
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdims = data.draw(st.booleans())
    with np.errstate(all="ignore"):
        _same(getattr(fnp, name)(x, axis=axis, keepdims=keepdims),
              getattr(xp, name)(x, axis=axis, keepdims=keepdims), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["argmax", "argmin", "cumulative_sum", "cumulative_prod",
                                  "sort", "argsort", "count_nonzero"])
@given(x=_arrays(xps.floating_dtypes() | xps.integer_dtypes(),
                 shape=xps.array_shapes(min_dims=1, max_dims=1, max_side=6),
                 elements={"allow_nan": False, "min_value": -5, "max_value": 5}))
def test_searching_and_cumulative(name, x):
    _same(getattr(fnp, name)(x), getattr(xp, name)(x), rtol=1e-5)


@given(x=_arrays(xps.floating_dtypes(),
                 shape=xps.array_shapes(min_dims=1, max_dims=1, max_side=8),
                 elements={"allow_nan": False, "min_value": -3, "max_value": 3}))
def test_unique_and_searchsorted(x):
    for name in ("unique_all", "unique_counts", "unique_inverse"):
        for g, e in zip(getattr(fnp, name)(x), getattr(xp, name)(x)):
            _same(g, e)
    _same(fnp.unique_values(x), xp.unique_values(x))
    s = xp.sort(x)
    _same(fnp.searchsorted(s, x, side="right"), xp.searchsorted(s, x, side="right"))


@given(dtypes=_promotable_dtypes(xps.scalar_dtypes()), data=st.data())
def test_result_type_and_can_cast(dtypes, data):
    assert fnp.result_type(*dtypes) == xp.result_type(*dtypes)
    for d in dtypes:
        target = data.draw(xps.scalar_dtypes())
        assert fnp.can_cast(d, target) == xp.can_cast(d, target), (d, target)


@pytest.mark.parametrize("kind", ["bool", "signed integer", "unsigned integer", "integral",
                                  "real floating", "complex floating", "numeric"])
def test_isdtype_and_info(kind):
    for d in (xp.bool, xp.int8, xp.uint16, xp.int64, xp.float32, xp.float64, xp.complex64):
        assert fnp.isdtype(d, kind) == xp.isdtype(d, kind)
    for d in (xp.float32, xp.float64):
        assert fnp.finfo(d).eps == xp.finfo(d).eps and fnp.finfo(d).bits == xp.finfo(d).bits
    for d in (xp.int8, xp.uint32, xp.int64):
        assert (fnp.iinfo(d).min, fnp.iinfo(d).max) == (xp.iinfo(d).min, xp.iinfo(d).max)
    info = fnp.__array_namespace_info__()
    assert set(info.dtypes(kind=kind)) == set(xp.__array_namespace_info__().dtypes(kind=kind))
    assert info.capabilities()["boolean indexing"]


@given(x=_arrays(xps.floating_dtypes(), shape=st.just((3, 4))), k=st.integers(-3, 3))
def test_manipulation(x, k):
    _same(fnp.tril(x, k=k), xp.tril(x, k=k))
    _same(fnp.triu(x, k=k), xp.triu(x, k=k))
    _same(fnp.roll(x, k, axis=1), xp.roll(x, k, axis=1))
    _same(fnp.roll(x, k), xp.roll(x, k))
    _same(fnp.flip(x, axis=0), xp.flip(x, axis=0))
    _same(fnp.moveaxis(x, 0, 1), xp.moveaxis(x, 0, 1))
    _same(fnp.tile(x, (2, 1)), xp.tile(x, (2, 1)))
    _same(fnp.repeat(x, 2, axis=1), xp.repeat(x, 2, axis=1))
    _same(fnp.repeat(x, xp.asarray([1, 0, 2]), axis=0), xp.repeat(x, xp.asarray([1, 0, 2]),
                                                                    axis=0))
    _same(fnp.diff(x, axis=0), xp.diff(x, axis=0))
    _same(fnp.clip(x, -1.0, 1.0), xp.clip(x, -1.0, 1.0))
    for g, e in zip(fnp.unstack(x, axis=1), xp.unstack(x, axis=1)):
        _same(g, e)
    idx = xp.asarray([2, 0, 2])
    _same(fnp.take(x, idx, axis=0), xp.take(x, idx, axis=0))
    _same(fnp.take_along_axis(x, xp.argsort(x, axis=1), axis=1),
          xp.take_along_axis(x, xp.argsort(x, axis=1), axis=1))
    _same(fnp.linalg.matrix_transpose(x), xp.linalg.matrix_transpose(x))
    _same(fnp.tensordot(x, x, axes=([1], [1])), xp.tensordot(x, x, axes=([1], [1])))
    _same(fnp.vecdot(x, x), xp.vecdot(x, x))


@given(n=st.integers(1, 5), data=st.data())
def test_linalg_values(n, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 100)))
    a = rng.normal(size=(n, n)) + n * np.eye(n)
    spd = a @ a.T
    A, S = xp.asarray(a), xp.asarray(spd)
    L = fnp.linalg
    tol = {"rtol": 1e-8, "atol": 1e-10}
    for name in ("det", "inv", "svdvals", "pinv", "matrix_rank", "eigvalsh", "cholesky"):
        arg = S if name in ("eigvalsh", "cholesky") else A
        _same(getattr(L, name)(arg), getattr(xp.linalg, name)(arg), **tol)
    for name in ("slogdet", "qr", "eigh", "svd"):
        arg = S if name == "eigh" else A
        for g, e in zip(getattr(L, name)(arg), getattr(xp.linalg, name)(arg)):
            _same(g, e, **tol)
    b = xp.asarray(rng.normal(size=(n,)))
    _same(L.solve(A, b), xp.linalg.solve(A, b), **tol)
    for o in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
        _same(L.matrix_norm(A, ord=o), xp.linalg.matrix_norm(A, ord=o), **tol)
    for o in (1, 2, 3, math.inf, -math.inf, 0):
        _same(L.vector_norm(b, ord=o), xp.linalg.vector_norm(b, ord=o), **tol)
    _same(L.matrix_power(A, 3), xp.linalg.matrix_power(A, 3), **tol)
    _same(L.matrix_power(A, 0), xp.linalg.matrix_power(A, 0), **tol)
    _same(L.trace(A, offset=1), xp.linalg.trace(A, offset=1), **tol)
    _same(L.diagonal(A, offset=-1), xp.linalg.diagonal(A, offset=-1), **tol)
    _same(L.outer(b, b), xp.linalg.outer(b, b), **tol)
    if n == 3:
        _same(L.cross(A, A[::-1, ...]), xp.linalg.cross(A, A[::-1, ...]), **tol)


def test_creation_default_dtypes():
    assert fnp.arange(3).dtype == np.int64 and fnp.arange(3.0).dtype == np.float64
    assert fnp.zeros((2,)).dtype == np.float64 and fnp.full((2,), True).dtype == np.bool_
    assert fnp.full((2,), 1).dtype == np.int64 and fnp.full((2,), 1j).dtype == np.complex128
    np.testing.assert_allclose(fnp.linspace(0, 1, 5), np.linspace(0, 1, 5))
    np.testing.assert_allclose(fnp.eye(3, 4, k=1), np.eye(3, 4, k=1))
    g = fnp.meshgrid(np.arange(2.0), np.arange(3.0))
    e = np.meshgrid(np.arange(2.0), np.arange(3.0))
    for a, b in zip(g, e):
        np.testing.assert_array_equal(a, b)
    assert fnp.empty_like(np.ones(3, dtype=np.float32)).dtype == np.float32
    x = np.ones(3)
    assert np.shares_memory(fnp.asarray(x), x) and not np.shares_memory(
        fnp.asarray(x, copy=True), x)
    assert type(fnp.asarray([xp.asarray(1.0), xp.asarray(2.0)])) is ARRAY


def test_missing_functions_raise_attribute_error():
    with pytest.raises(AttributeError, match="fft_magic"):
        fnp.fft_magic  # noqa: B018


def test_info_of_native_dtype_objects_and_arrays():
    """``fnp.finfo(x.dtype)`` with NumPy's dtype objects (which have a ``.shape`` too), their
    scalar types, arrays and tracers all name the same dtype."""
    import numpy as np
    import functrans as ft
    for d in (np.dtype("float32"), np.float32, np.zeros(2, np.float32), fnp.float32):
        assert fnp.finfo(d).eps == np.finfo(np.float32).eps
    assert fnp.iinfo(np.dtype("int16")).max == np.iinfo(np.int16).max
    assert fnp.result_type(np.dtype("float32"), np.float32) == fnp.float32
    seen = []
    ft.grad(lambda x: seen.append(fnp.finfo(x.dtype).eps) or fnp.sum(x))(np.ones(2))
    assert seen == [np.finfo(np.float64).eps]
