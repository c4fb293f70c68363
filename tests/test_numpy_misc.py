"""NumPy's remaining everyday names (functrans/numpy/_misc.py: the dtype aliases, dtype,
euler_gamma, errstate/seterr/geterr, ndindex, ndenumerate, packbits, unpackbits,
binary_repr, base_repr, asfortranarray, may_share_memory, shares_memory, row_stack),
unique(axis=k) for n-d arrays, and the fixes to digitize (NaN), bincount (minlength=None)
and polyint (m=0): values, dtypes and shapes against NumPy on every backend, error cases,
transforms, and vmap against a Python loop."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BatchingError, ConcretizationError
from .test_numpy_mathematics import check

RNG = np.random.default_rng(20261111)
NAN, INF = np.nan, np.inf


def _own(backend, v):
    return backend.asarray(v, dtype=str(np.asarray(v).dtype))

# -- dtype names, dtype(), euler_gamma ---------------------------------------------------------


ALIASES = ["bool_", "int_", "intp", "uint", "intc", "uintc", "long", "ulong", "longlong",
           "ulonglong", "byte", "ubyte", "short", "ushort", "single", "double", "csingle",
           "cdouble"]


@pytest.mark.parametrize("name", ALIASES)
def test_dtype_aliases_are_numpys(name):
    d = getattr(fnp, name)
    want = np.dtype(getattr(np, name))
    assert isinstance(d, type(fnp.float64))
    assert d.name == ("bool" if want.name == "bool" else want.name)
    assert d == want and d is fnp.dtype(getattr(np, name)) and d is fnp.dtype(name)


def test_unsupported_float_names_are_absent():
    for name in ("longdouble", "clongdouble", "float_", "complex32"):
        assert not hasattr(fnp, name)
    assert fnp.half is fnp.float16 == np.half


def test_arange_of_0d_array_bounds(backend):
    # 0-d arrays as bounds count as their numbers and make the result in their library and
    # on their device (a torch or array-api-strict bound gave a NumPy array)
    n, h = backend.asarray(4, "int64"), backend.asarray(0.5)
    check(backend, fnp.arange(n), np.arange(4))
    check(backend, fnp.arange(h, n), np.arange(0.5, 4))
    check(backend, fnp.arange(1, n, h), np.arange(1, 4, 0.5))
    with pytest.raises(ValueError, match="must be 0-d"):
        fnp.arange(backend.asarray([1.0, 2.0]))
    from functrans.errors import TracerArrayConversionError
    with pytest.raises((ConcretizationError, TracerArrayConversionError)):
        ft.jit(fnp.arange)(n)  # (a traced bound: its value is needed)


@pytest.mark.parametrize("name", ALIASES)
def test_dtype_aliases_work_where_dtypes_are_accepted(backend, name):
    d = getattr(fnp, name)
    nd = np.dtype(getattr(np, name))
    x = backend.asarray([1.0, 0.0, 1.0])
    check(backend, fnp.astype(x, d), np.array([1.0, 0.0, 1.0]).astype(nd))
    check(backend, fnp.zeros(2, dtype=d, device=fnp.device(x)), np.zeros(2, dtype=nd))
    check(backend, fnp.asarray(x, dtype=d), np.array([1.0, 0.0, 1.0], dtype=nd))
    if nd.kind != "b":
        check(backend, fnp.arange(3, dtype=d, device=fnp.device(x)), np.arange(3, dtype=nd))
    if nd.kind in "fc":
        assert fnp.finfo(d).eps == np.finfo(nd).eps
    elif nd.kind in "iu":
        assert (fnp.iinfo(d).min, fnp.iinfo(d).max) == (np.iinfo(nd).min, np.iinfo(nd).max)
    if nd.kind in "iufc" and nd.itemsize >= 4:
        check(backend, fnp.sum(x, dtype=d), np.sum(np.array([1.0, 0.0, 1.0]), dtype=nd))


@pytest.mark.parametrize("obj", [
    "float64", "f8", "<f8", "d", "double", "float", "float32", "f4", "single", "int", "i4",
    "int8", "u2", "uint64", "?", "bool", "b1", "complex", "c8", "complex128", "long",
    "intp", "uint", float, int, bool, complex, np.float32, np.int16, np.uint8, np.bool_,
    np.complex64, np.dtype("int32"), np.dtype(">i8"), None])
def test_dtype_matches_numpy(obj):
    want = np.dtype(obj)
    got = fnp.dtype(obj)
    assert got == want and got.name == ("bool" if want.name == "bool" else want.name)


def test_dtype_of_other_libraries_and_functrans_dtypes(backend):
    x = backend.asarray([1.0], dtype="int16")
    assert fnp.dtype(x.dtype) is fnp.int16
    assert fnp.dtype(fnp.complex64) is fnp.complex64
    assert fnp.dtype(fnp.dtype("f4"), align=True, copy=True) is fnp.float32


@pytest.mark.parametrize("obj,match", [
    ("f16", "not a data type functrans has"), (np.longdouble, "no longdouble"),
    ("xyz", "not understood"), ("U5", "not a data type functrans has"),
    ([("a", "f8")], "not a data type functrans has"), (3, "not a data type"),
    (np.zeros(2), "from an array")])
def test_dtype_errors(obj, match):
    with pytest.raises(TypeError, match=match):
        fnp.dtype(obj)


def test_dtype_of_arrays_and_tracers_is_refused(backend):
    x = backend.asarray([1.0])
    with pytest.raises(TypeError, match="from an array"):
        fnp.dtype(x)

    def f(t):
        fnp.dtype(t)
        return t
    with pytest.raises(TypeError, match="from an array"):
        ft.grad(lambda t: fnp.sum(f(t)))(x)


def test_euler_gamma():
    assert fnp.euler_gamma == np.euler_gamma

# -- errstate, seterr, geterr ------------------------------------------------------------------


def test_errstate_governs_numpy():
    x = np.ones(2)
    before = fnp.geterr()
    with fnp.errstate(divide="raise"):
        assert fnp.geterr()["divide"] == "raise"
        with pytest.raises(FloatingPointError):
            fnp.divide(x, 0.0)
        with fnp.errstate(divide="ignore"):
            np.testing.assert_array_equal(fnp.divide(x, 0.0), [INF, INF])
        with pytest.raises(FloatingPointError):
            fnp.log(fnp.zeros(1))
    assert fnp.geterr() == before
    with fnp.errstate(all="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fnp.sqrt(-x)


def test_errstate_as_decorator_and_reused():
    state = fnp.errstate(invalid="raise")

    @state
    def f(x):
        return fnp.sqrt(x)
    with pytest.raises(FloatingPointError):
        f(-np.ones(1))
    with pytest.raises(FloatingPointError):  # the same object, twice and nested
        with state:
            with state:
                pass
            fnp.sqrt(-np.ones(1))
    assert fnp.geterr()["invalid"] != "raise"


def test_errstate_under_a_transform():
    with fnp.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            ft.grad(lambda x: fnp.sum(fnp.log(x)))(np.zeros(2))


def test_errstate_has_no_effect_on_other_libraries(backend):
    x = backend.asarray([1.0, 2.0])
    with fnp.errstate(all="raise"):
        if backend.name in ("numpy", "array_api_strict"):  # strict computes with NumPy
            with pytest.raises(FloatingPointError):
                fnp.divide(x, 0.0)
        else:
            check(backend, fnp.divide(x, 0.0), np.array([INF, INF]))


def test_errstate_errors():
    with pytest.raises(TypeError, match="unexpected keyword"):
        fnp.errstate(divid="raise")
    with pytest.raises(ValueError, match="invalid error mode"):
        with fnp.errstate(divide="loud"):
            pass


def test_seterr_geterr_round_trip():
    old = fnp.seterr(over="raise", under="warn")
    try:
        assert old == np.geterr() | {"over": old["over"], "under": old["under"]}
        assert fnp.geterr()["over"] == "raise" and np.geterr()["under"] == "warn"
    finally:
        fnp.seterr(**old)
    assert fnp.geterr() == old == np.geterr()

# -- ndindex, ndenumerate ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0, 3), (1, 2, 1, 2)])
def test_ndindex(shape):
    assert list(fnp.ndindex(*shape)) == list(np.ndindex(*shape))
    assert list(fnp.ndindex(shape)) == list(np.ndindex(shape))
    it = fnp.ndindex(*shape)
    assert iter(it) is it


def test_ndindex_errors():
    with pytest.raises(ValueError, match="negative dimensions"):
        fnp.ndindex(2, -1)
    with pytest.raises(TypeError):
        fnp.ndindex(2.5)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 0), (2, 1, 2)])
def test_ndenumerate(backend, shape):
    a = RNG.normal(size=shape)
    got = list(fnp.ndenumerate(backend.asarray(a)))
    want = list(np.ndenumerate(a))
    assert [i for i, _ in got] == [i for i, _ in want]
    for (_, g), (_, w) in zip(got, want):
        if backend.name == "numpy":
            assert type(g) is type(w) and g == w  # NumPy's scalars, as NumPy gives
        else:
            check(backend, g, np.asarray(w))


def test_ndenumerate_of_a_list_and_a_tracer(backend):
    assert [(i, float(v)) for i, v in fnp.ndenumerate([[1.0, 2.0]])] == \
        [((0, 0), 1.0), ((0, 1), 2.0)]
    x = backend.asarray([[1.0, 2.0], [3.0, 4.0]])

    def f(x):
        return sum(v * v * (i + 2 * j) for (i, j), v in fnp.ndenumerate(x))
    g = ft.grad(f)(x)
    check(backend, g, 2 * np.array([[1.0, 2.0], [3.0, 4.0]]) * np.array([[0, 2], [1, 3]]))
    check(backend, ft.jit(f)(x), np.asarray(f(np.array([[1.0, 2.0], [3.0, 4.0]]))))

# -- packbits, unpackbits ----------------------------------------------------------------------


PACK_INPUTS = [
    RNG.integers(0, 2, 9).astype(np.uint8), RNG.integers(-3, 3, (3, 10)),
    RNG.integers(0, 2, (2, 3, 4)).astype(bool), RNG.integers(0, 2, (4, 8)).astype(np.int8),
    np.array(5), np.zeros((2, 0), np.uint16), RNG.integers(0, 3, (17,)).astype(np.uint32)]


@pytest.mark.parametrize("bitorder", ["big", "little"])
@pytest.mark.parametrize("i", range(len(PACK_INPUTS)))
def test_packbits(backend, i, bitorder):
    a = PACK_INPUTS[i]
    for axis in [None] + list(range(-max(a.ndim, 1), max(a.ndim, 1))):
        want = np.packbits(a, axis=axis, bitorder=bitorder)
        check(backend, fnp.packbits(_own(backend, a), axis=axis, bitorder=bitorder), want)


UNPACK_INPUTS = [RNG.integers(0, 256, 3).astype(np.uint8),
                 RNG.integers(0, 256, (2, 3)).astype(np.uint8),
                 RNG.integers(0, 256, (2, 1, 2)).astype(np.uint8),
                 np.array(77, np.uint8), np.zeros((0, 2), np.uint8)]


@pytest.mark.parametrize("bitorder", ["big", "little"])
@pytest.mark.parametrize("i", range(len(UNPACK_INPUTS)))
def test_unpackbits(backend, i, bitorder):
    a = UNPACK_INPUTS[i]
    for axis in [None] + list(range(-max(a.ndim, 1), max(a.ndim, 1))):
        n = 8 * (a.size if axis is None else (a.shape[axis] if a.ndim else 1))
        for count in (None, 0, 3, n, n + 5, -1, -n):
            try:
                want = np.unpackbits(a, axis=axis, count=count, bitorder=bitorder)
            except ValueError:
                with pytest.raises(ValueError, match="-count larger"):
                    fnp.unpackbits(_own(backend, a), axis=axis, count=count)
                continue
            if n == 0 and count:  # NumPy's padding of no bits is uninitialised memory
                want = np.zeros_like(want)
            got = fnp.unpackbits(_own(backend, a), axis=axis, count=count, bitorder=bitorder)
            check(backend, got, want)


def test_packbits_round_trip(backend):
    a = RNG.integers(0, 2, (3, 13)).astype(np.uint8)
    x = _own(backend, a)
    check(backend, fnp.unpackbits(fnp.packbits(x, axis=1), axis=1, count=13), a)
    check(_NumPyCase(), fnp.packbits([1, 0, 1]), np.packbits([1, 0, 1]))  # default library


def test_packbits_errors(backend):
    with pytest.raises(TypeError, match="integer or boolean"):
        fnp.packbits(backend.asarray([1.5]))
    with pytest.raises(TypeError, match="unsigned byte"):
        fnp.unpackbits(backend.asarray([1, 2], dtype="int64"))
    with pytest.raises(ValueError, match="'little' or 'big'"):
        fnp.packbits(backend.asarray([1], dtype="uint8"), bitorder="middle")
    with pytest.raises(ValueError, match="'little' or 'big'"):
        fnp.unpackbits(backend.asarray([1], dtype="uint8"), bitorder="BIG")
    with pytest.raises(TypeError, match="bitorder must be a str"):
        fnp.unpackbits(backend.asarray([1], dtype="uint8"), bitorder=None)
    with pytest.raises(ValueError, match="-count larger"):
        fnp.unpackbits(backend.asarray([1, 2], dtype="uint8"), count=-17)
    with pytest.raises(TypeError):
        fnp.unpackbits(backend.asarray([1], dtype="uint8"), count=2.0)
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.packbits(backend.asarray([[1, 0]], dtype="uint8"), axis=2)


def test_packbits_under_jit_and_vmap(backend):
    a = RNG.integers(0, 2, (4, 11)).astype(np.uint8)
    x = _own(backend, a)
    check(backend, ft.jit(lambda v: fnp.packbits(v, axis=-1, bitorder="little"))(x),
          np.packbits(a, axis=-1, bitorder="little"))
    check(backend, ft.vmap(fnp.packbits)(x), np.stack([np.packbits(r) for r in a]))
    b = np.packbits(a, axis=1)
    check(backend, ft.vmap(lambda r: fnp.unpackbits(r, count=11), in_axes=1, out_axes=1)(
        _own(backend, b.T.copy())), np.stack([np.unpackbits(r, count=11) for r in b], 1))

# -- binary_repr, base_repr --------------------------------------------------------------------


@pytest.mark.parametrize("num", [0, 1, 2, 5, 127, 128, 255, 2**40 + 3, -1, -2, -5, -8, -9,
                                 -128, -129, np.int8(-3), np.uint16(7), np.array(6)])
def test_binary_repr(num):
    for width in (None, 0, 1, 3, 4, 8, 9, 16, 64):
        try:
            want = np.binary_repr(num, width)
        except ValueError:
            with pytest.raises(ValueError, match="insufficient bit width"):
                fnp.binary_repr(num, width)
            continue
        assert fnp.binary_repr(num, width) == want, (num, width)


def test_binary_repr_needs_an_integer():
    with pytest.raises(TypeError):
        fnp.binary_repr(3.0)


@pytest.mark.parametrize("number", [0, 1, 7, 35, 36, 255, 10**12, -1, -7, -255, 3.0,
                                    np.int64(35)])
def test_base_repr(number):
    for base in (2, 3, 8, 10, 16, 36):
        for padding in (0, 1, 3, -1):
            assert fnp.base_repr(number, base, padding) == np.base_repr(number, base, padding)


def test_base_repr_errors():
    with pytest.raises(ValueError, match="greater than 36"):
        fnp.base_repr(5, 37)
    with pytest.raises(ValueError, match="less than 2"):
        fnp.base_repr(5, 1)

# -- asfortranarray, row_stack ---------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0)])
def test_asfortranarray(backend, shape):
    a = RNG.normal(size=shape)
    x = backend.asarray(a)
    check(backend, fnp.asfortranarray(x), np.asfortranarray(a))
    check(backend, fnp.asfortranarray(x, dtype=fnp.single), np.asfortranarray(a, "f4"))
    check(backend, fnp.asfortranarray(x, dtype="int32"), np.asfortranarray(a, np.int32))


def test_asfortranarray_python_data_and_like():
    check(_NumPyCase(), fnp.asfortranarray(3.0), np.asfortranarray(3.0))
    check(_NumPyCase(), fnp.asfortranarray([[1, 2]]), np.asfortranarray([[1, 2]]))
    # like=: Python data made in that array's library (it was refused)
    import array_api_strict as xs
    out = fnp.asfortranarray([1.0], like=xs.zeros(1))
    assert isinstance(out, type(xs.zeros(1))) and out.shape == (1,)


class _NumPyCase:
    name = "numpy"

    def is_own(self, x):
        return isinstance(x, np.ndarray)

    def to_numpy(self, x):
        return np.asarray(x)


def test_row_stack_is_vstack(backend):
    assert fnp.row_stack is fnp.vstack
    a, b = RNG.normal(size=3), RNG.normal(size=(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        want = np.row_stack((a, b))
    check(backend, fnp.row_stack((backend.asarray(a), backend.asarray(b))), want)

# -- may_share_memory, shares_memory -----------------------------------------------------------


VIEW_PAIRS = [lambda x, m: (x, x), lambda x, m: (x, x[2:]), lambda x, m: (x[:6], x[6:]),
              lambda x, m: (x[::2], x[1::2]), lambda x, m: (x[:5], x[4:]),
              lambda x, m: (m[:, :2], m[:, 2:]), lambda x, m: (m[0], m[:, 0]),
              lambda x, m: (m[1], m[:, 0]), lambda x, m: (m.T, x),
              lambda x, m: (x[::-1], x[:1]), lambda x, m: (x[:0], x)]


def _views(x, i):
    """The i-th pair of views of a 1-d array of 12 elements (and its (3, 4) reshaping)."""
    return VIEW_PAIRS[i](x, x.reshape(3, 4))


@pytest.mark.parametrize("i", range(11))
def test_memory_overlap_matches_numpy(backend, i):
    a = np.arange(12.0)
    want_pair = _views(a, i)
    if backend.name == "array_api_strict":
        x = backend.asarray(a)
        with pytest.raises(NotImplementedError, match="array_api_strict"):
            fnp.may_share_memory(x, x)
        with pytest.raises(NotImplementedError, match="array_api_strict"):
            fnp.shares_memory(x, x)
        return
    if backend.name == "numpy":
        got_pair = want_pair
    elif i == 9:
        pytest.skip("torch has no views with negative strides")
    else:
        import torch
        got_pair = _views(torch.arange(12.0, dtype=torch.float64), i)
    for mw in (0, -1, None):
        for name in ("may_share_memory", "shares_memory"):
            try:
                want = getattr(np, name)(*want_pair, max_work=mw)
            except np.exceptions.TooHardError:
                with pytest.raises(np.exceptions.TooHardError, match="max_work"):
                    getattr(fnp, name)(*got_pair, max_work=mw)
                continue
            assert getattr(fnp, name)(*got_pair, max_work=mw) is want, (name, mw)
    assert fnp.may_share_memory(*got_pair) == np.may_share_memory(*want_pair)
    assert fnp.shares_memory(*got_pair) == np.shares_memory(*want_pair)


def test_memory_overlap_of_separate_arrays_tracers_and_python_data(backend):
    x, y = backend.asarray([1.0, 2.0]), backend.asarray([1.0, 2.0])
    assert fnp.may_share_memory(x, 1.0) is False and fnp.shares_memory([1.0], x) is False
    assert fnp.may_share_memory(x, np.zeros(2)) is False
    if backend.name in ("numpy", "torch", "cupy"):  # (the libraries that can tell)
        assert fnp.may_share_memory(x, y) is False and fnp.shares_memory(x, y) is False
    seen = []

    def f(t):
        seen.append((fnp.may_share_memory(t, t), fnp.shares_memory(t, x)))
        return fnp.sum(t)
    ft.grad(f)(x)
    assert seen == [(False, False)]


def test_memory_overlap_errors():
    with pytest.raises(ValueError, match="max_work"):
        fnp.may_share_memory(np.zeros(1), np.zeros(1), max_work=10)
    with pytest.raises(ValueError, match="max_work"):
        fnp.shares_memory(np.zeros(1), np.zeros(1), max_work=5)

# -- unique(axis=k) ----------------------------------------------------------------------------


def _dup_rows(shape, kind):
    """An array with repeated slices along every axis (drawn from few values)."""
    a = RNG.integers(0, 2, shape)
    if kind == "float":
        a = a.astype(float) * 1.5
    elif kind == "bool":
        a = a.astype(bool)
    elif kind == "int32":
        a = a.astype(np.int32)
    return a


UNIQUE_INPUTS = [
    _dup_rows((6, 2), "float"), _dup_rows((5, 3), "int"), _dup_rows((3, 4, 2), "float"),
    _dup_rows((2, 3, 5), "int32"), _dup_rows((4, 3), "bool"), _dup_rows((7, 1), "float"),
    np.array([[1.0, NAN], [1.0, NAN], [0.0, 2.0], [NAN, 1.0], [NAN, 0.0], [-0.0, 2.0],
              [INF, -INF], [INF, -INF]]),
    np.array([[-0.0, 1.0], [0.0, 1.0], [2.0, -1.0]]),
    np.empty((3, 0)), np.empty((0, 3)), np.empty((2, 0, 3)), np.empty((0, 0)),
]


@pytest.mark.parametrize("i", range(len(UNIQUE_INPUTS)))
def test_unique_axis_matches_numpy(backend, i):
    a = UNIQUE_INPUTS[i]
    x = _own(backend, a)
    for axis in range(-a.ndim, a.ndim):
        for flags in itertools.product((False, True), repeat=3):
            for equal_nan in (True, False):
                want = np.unique(a, *flags, axis=axis, equal_nan=equal_nan)
                got = fnp.unique(x, *flags, axis=axis, equal_nan=equal_nan)
                check(backend, got, want)


def test_unique_axis_of_complex(backend):
    if backend.name == "torch":
        pytest.skip("torch does not sort complex numbers")
    a = (RNG.integers(0, 2, (5, 2)) + 1j * RNG.integers(0, 2, (5, 2)))
    for axis in (0, 1):
        check(backend, fnp.unique(_own(backend, a), True, True, True, axis=axis),
              np.unique(a, True, True, True, axis=axis))


@pytest.mark.parametrize("a", [np.array([3.0, NAN, 1.0, NAN, 3.0, -0.0, 0.0]),
                               np.array([2, 1, 2, 0])])
def test_unique_axis_of_1d_is_the_flat_unique(backend, a):
    for axis in (0, -1):
        for equal_nan in (True, False):
            check(backend, fnp.unique(_own(backend, a), True, True, True, axis=axis,
                                      equal_nan=equal_nan),
                  np.unique(a, True, True, True, axis=axis, equal_nan=equal_nan))


def test_unique_axis_errors(backend):
    x = backend.asarray(np.ones((2, 3)))
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.unique(x, axis=2)
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.unique(backend.asarray(3.0), axis=0)
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.unique(backend.asarray([1.0, 2.0]), axis=1)
    with pytest.raises(TypeError):
        fnp.unique(x, axis=0.5)


def test_unique_axis_derivative_reaches_first_occurrences(backend):
    a = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0], [3.0, 1.0], [0.0, 5.0]])
    x = backend.asarray(a)
    w = backend.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def f(x):
        return fnp.sum(fnp.unique(x, axis=0) * w)
    # unique rows sorted: [0, 5] (first at 1), [1, 2] (first at 0), [3, 1] (at 3)
    check(backend, ft.grad(f)(x), np.array([[3.0, 4.0], [1.0, 2.0], [0, 0], [5.0, 6.0],
                                            [0, 0]]))
    _, t = ft.jvp(lambda x: fnp.unique(x, axis=1), (fnp.matrix_transpose(x),),
                  (fnp.matrix_transpose(x) * 2.0,))
    check(backend, t, 2 * np.unique(a.T, axis=1))


def test_unique_axis_under_jit_and_vmap(backend):
    x = backend.asarray(np.ones((2, 3)))
    with pytest.raises(ConcretizationError, match="jit of"):
        ft.jit(lambda v: fnp.unique(v, axis=0))(x)
    with pytest.raises(BatchingError):
        ft.vmap(lambda v: fnp.unique(v, axis=0))(backend.asarray(np.ones((2, 2, 3))))

# -- digitize with NaN -------------------------------------------------------------------------


DIGITIZE_X = np.array([-1.0, 1.0, NAN, 3.0, 5.0, INF, -INF, 2.0, 0.0])
DIGITIZE_BINS = [  # the NaN placements NumPy's searches answer on sorted data
    [0.0, 2.0, NAN], [0.0, 2.0, NAN, NAN], [0.0, 2.0, INF, NAN], [NAN, 2.0, 0.0],
    [NAN, NAN, 2.0, 0.0], [NAN, INF, 2.0, 2.0, 0.0], [NAN, NAN], [NAN], [],
    [1.0, 1.0, 1.0], [0.0, 1.0, 2.0], [3.0, 2.0, 1.0], [2.0, 2.0, 0.0, 0.0], [-INF, 0.0, INF]]


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("bins", DIGITIZE_BINS, ids=str)
def test_digitize_nan(backend, bins, right):
    b = np.array(bins)
    want = np.digitize(DIGITIZE_X, b, right=right)
    check(backend, fnp.digitize(backend.asarray(DIGITIZE_X), backend.asarray(b), right=right),
          want)
    for dt in ("float32",):
        check(backend, fnp.digitize(backend.asarray(DIGITIZE_X, dt), backend.asarray(b, dt),
                                    right=right),
              np.digitize(DIGITIZE_X.astype(dt), b.astype(dt), right=right))
    # integer x, float bins
    xi = np.array([-2, 0, 1, 2, 7])
    check(backend, fnp.digitize(_own(backend, xi), backend.asarray(b), right=right),
          np.digitize(xi, b, right=right))
    # under jit (the direction chosen from the values) and with x traced
    f = ft.jit(lambda x, b: fnp.digitize(x, b, right=right))
    check(backend, f(backend.asarray(DIGITIZE_X), backend.asarray(b)), want)


@pytest.mark.parametrize("right", [False, True])
def test_digitize_nan_in_x_with_integer_bins(backend, right):
    for b in ([0, 2, 4], [4, 2, 0], [3]):
        b = np.array(b)
        check(backend, fnp.digitize(backend.asarray(DIGITIZE_X), _own(backend, b),
                                    right=right), np.digitize(DIGITIZE_X, b, right=right))


@pytest.mark.parametrize("bins", [[0.0, NAN, 2.0], [2.0, NAN, 0.0], [2.0, 0.0, NAN],
                                  [0.0, 0.0, NAN], [1.0, NAN], [0.0, NAN, NAN, 1.0],
                                  [0.0, 1.0, NAN, 2.0]], ids=str)
def test_digitize_refuses_nan_edges_numpy_searches_unsorted(backend, bins):
    np.digitize(DIGITIZE_X, bins)  # NumPy answers (from a search of unsorted data)
    with pytest.raises(ValueError, match="NaN edges are supported"):
        fnp.digitize(backend.asarray(DIGITIZE_X), backend.asarray(bins))


def test_digitize_non_monotonic_bins(backend):
    for bins in ([NAN, 0.0, 2.0], [1.0, 3.0, 2.0]):
        with pytest.raises(ValueError):
            np.digitize(DIGITIZE_X, bins)
        with pytest.raises(ValueError, match="monotonically"):
            fnp.digitize(backend.asarray(DIGITIZE_X), backend.asarray(bins))


def test_digitize_vmap_matches_a_loop(backend):
    xs = RNG.uniform(-1, 4, (3, 5))
    xs[1, 2] = NAN
    b = np.array([0.0, 1.0, 2.5, NAN])
    got = ft.vmap(lambda x: fnp.digitize(x, backend.asarray(b), right=True))(
        backend.asarray(xs))
    check(backend, got, np.stack([np.digitize(r, b, right=True) for r in xs]))

# -- bincount(minlength), polyint(m=0) ---------------------------------------------------------


def test_bincount_minlength(backend):
    x = backend.asarray([1, 2, 2], dtype="int64")
    with pytest.raises(TypeError, match="use 0 instead of None"):
        np.bincount(np.array([1, 2, 2]), minlength=None)
    with pytest.raises(TypeError, match="use 0 instead of None for minlength"):
        fnp.bincount(x, minlength=None)
    with pytest.raises(TypeError, match="integer is required"):
        fnp.bincount(x, minlength=True)
    with pytest.raises(TypeError):
        fnp.bincount(x, minlength=2.0)
    for ml in (0, 2, 5, np.int64(4)):
        check(backend, fnp.bincount(x, minlength=ml), np.bincount([1, 2, 2], minlength=ml))


@pytest.mark.parametrize("p", [3.0, 3, np.float64(2.5), np.array(4.0), [], [2.0, 1.0],
                               np.array([1, 2, 3]), np.ones((2, 3)),
                               np.array([[1, 2]], np.int32)], ids=repr)
@pytest.mark.parametrize("k", [None, 5.0, [1.0, 2.0]], ids=repr)
def test_polyint_m0_is_numpys(backend, p, k):
    arg = _own(backend, p) if isinstance(p, np.ndarray) else p
    want = np.polyint(p, 0, k)
    got = fnp.polyint(arg, 0, k)
    if isinstance(p, np.ndarray):
        check(backend, got, want)
        assert got is arg  # NumPy returns the array itself
    else:
        assert fnp.isdtype(fnp.result_type(got), "numeric")
        np.testing.assert_array_equal(np.asarray(got), want)
        assert np.asarray(got).dtype == want.dtype


def test_polyint_of_0d_needs_m0(backend):
    for m in (1, 2):
        with pytest.raises(TypeError):
            np.polyint(np.array(3.0), m)
        with pytest.raises(TypeError, match="0-d"):
            fnp.polyint(backend.asarray(3.0), m)
    with pytest.raises(ValueError, match="one-dimensional"):
        fnp.polyint(backend.asarray(3.0), 0, k=backend.asarray([[1.0]]))
    with pytest.raises(ValueError, match="length 1 or at least m"):
        fnp.polyint(backend.asarray([3.0]), 3, k=backend.asarray([1.0, 2.0]))


def test_numpy_dtype_spellings_and_numpy_scalars():
    # NumPy's other dtype spellings are accepted wherever a dtype is; a NumPy scalar given to
    # asarray becomes a 0-d array, as numpy.asarray makes it
    assert fnp.astype(np.ones(2), "f8").dtype == np.float64
    assert fnp.astype(np.ones(2), "float").dtype == np.float64
    assert fnp.zeros(2, dtype="i4").dtype == np.int32
    assert fnp.asarray([1, 2], dtype="<u2").dtype == np.uint16
    assert fnp.astype(np.ones(2), "f2").dtype == np.float16
    with pytest.raises(TypeError, match="'longdouble' is not a data type functrans knows"):
        fnp.astype(np.ones(2), "longdouble")
    a = fnp.asarray(np.float64(2.5))
    assert isinstance(a, np.ndarray) and a.shape == () and a == 2.5
    assert fnp.asarray(np.float32(1.5), copy=True).dtype == np.float32


@pytest.mark.parametrize("name", ["bool", "int8", "uint16", "int32", "int64", "float32",
                                  "float64", "complex64", "complex128"])
def test_numpy_takes_functrans_dtypes(name):
    """Plain NumPy arrays (what functrans gives outside transforms) meet fnp's dtypes in
    NumPy's own calls: np.zeros(2, dtype=fnp.float32), x.astype(fnp.int8), np.dtype(...)."""
    dt = getattr(fnp, name)
    assert np.dtype(dt) == np.dtype(name)
    assert np.zeros(2, dtype=dt).dtype == np.dtype(name)
    assert fnp.ones(3).astype(dt).dtype == np.dtype(name)
