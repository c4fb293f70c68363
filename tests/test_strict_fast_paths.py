"""The fast paths for array-api-strict (tests/_strict_fast_paths.py, installed by conftest)
give its answers and keep its errors.

Each case runs three times: on the library as patched (twice: the second run takes the fast
paths the first one filled), then with the original functions put back. Results must agree
(dtype, device, shape, values), and so must errors (type and message): every refusal of
non-standard use (a dtype an operator does not take, arrays from two devices, a Python
scalar of the wrong kind or a NumPy scalar, bool arithmetic, an int out of range, a pair with
no promotion, a narrowing in-place operation, a dtype the device lacks, an index outside the
standard) is raised as before, also after the same operation has accepted other operands.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest

xp = pytest.importorskip("array_api_strict")
from array_api_strict._array_object import Array  # noqa: E402
from array_api_strict._dtypes import DType  # noqa: E402

ORIGINALS = vars(Array).get("_functrans_originals", {})
GLOBALS = vars(Array).get("_functrans_globals", {})
# What conftest patches on this version (its guards leave out what changed shape).
EXPECTED = ("_new", "_check_allowed_dtypes", "_promote_scalar", "_check_type_device",
            "_normalize_two_args", "device_supports_dtype", "dtype", "device",
            "__add__", "__mul__", "__rtruediv__", "where", "SupportsIndex")


@contextlib.contextmanager
def unpatched():
    """array-api-strict as installed: conftest's fast paths (these and DType/Device ``==``)
    taken out for the duration."""
    from array_api_strict._devices import Device
    methods = {n: vars(Array)[n] for n in ORIGINALS}
    eqs = {cls: vars(cls)["__eq__"] for cls in (DType, Device)}
    try:
        for name in methods:
            setattr(Array, name, ORIGINALS[name])
        for (module, name), (orig, _) in GLOBALS.items():
            setattr(sys.modules[module], name, orig)
        for cls, eq in eqs.items():
            cls.__eq__ = getattr(eq, "_functrans_fast", eq)
        yield
    finally:
        for cls, eq in eqs.items():
            cls.__eq__ = eq
        for name, attr in methods.items():
            setattr(Array, name, attr)
        for (module, name), (_, fast) in GLOBALS.items():
            setattr(sys.modules[module], name, fast)


D1 = xp.Device("device1")


def arr(data, dtype="float64", device=None):
    return xp.asarray(np.asarray(data, dtype=dtype), device=device)


def f64(device=None):
    return arr([1.5, -2.0, 4.0], device=device)


def i8():
    return arr([1, -2, 3], "int8")


def b():
    return arr([True, False, True], "bool")


# name -> a computation; the ones that must fail say so in their name ("refuse").
CASES = {
    "add": lambda: f64() + f64(),
    "add 0-d and 1-d": lambda: arr(2.0) + f64(),
    "add 1-d and 0-d float32 (no casting by value)": lambda: arr([1.0], "float32") + arr(2.0),
    "sub device1": lambda: f64(D1) - f64(D1),
    "mul python float": lambda: f64() * 3.0,
    "rmul python int": lambda: 3 * f64(),
    "rtruediv python float": lambda: 1.0 / f64(),
    "complex scalar makes complex": lambda: 1j * f64(),
    "int scalar on int8": lambda: i8() + 100,
    "0-d times 0-d (NumPy gives a scalar)": lambda: arr(2.0) * arr(3.0),
    "0-d float32 times python float": lambda: arr(2.0, "float32") * 0.1,
    "complex scalar on the no-float64 device": lambda: arr(
        [1.0], "float32", xp.Device("no_float64")) * 1j,
    "compare": lambda: f64() < f64(),
    "eq float32": lambda: arr([1.0], "float32") == arr([1.0], "float32"),
    "bool and": lambda: b() & b(),
    "bool scalar or": lambda: b() | True,
    "iadd": lambda: f64().__iadd__(f64()),
    "where": lambda: xp.where(b(), f64(), f64()),
    "where 0-d and 1-d on device1": lambda: xp.where(arr(True, "bool", D1), arr(1.0, device=D1),
                                                     f64(D1)),
    "where python scalar": lambda: xp.where(b(), f64(), 0.0),
    "numpy scalar result made 0-d": lambda: Array._new(np.float64(2.5), device=None),
    "float32 on device1": lambda: arr([1.0, 2.0], "float32", D1) * arr(2.0, "float32", D1),
    "index int, slice, ellipsis": lambda: arr([[1.0, 2.0]])[0, 1:][...],
    "index numpy int and 0-d array": lambda: f64()[np.int64(1)] + f64()[arr(2, "int64")],
    "index bool mask": lambda: f64()[b()],
    "refuse float index": lambda: f64()[0.5],
    "refuse bool index": lambda: f64()[True],
    "refuse list index": lambda: f64()[[0, 1]],
    "refuse flat indexing": lambda: arr([[1.0, 2.0]])[0],
    "refuse out-of-bounds slice": lambda: f64()[0:10],
    "refuse float & float": lambda: f64() & f64(),
    "refuse float ^ int scalar": lambda: f64() ^ 1,
    "refuse bool + bool": lambda: b() + b(),
    "refuse bool * int scalar": lambda: b() * 2,
    "refuse bool - bool scalar": lambda: b() - True,
    "refuse two devices": lambda: f64() + f64(D1),
    "refuse two devices reflected": lambda: f64().__radd__(f64(D1)),
    "refuse two devices where": lambda: xp.where(b(), f64(), f64(D1)),
    "refuse where on a float condition": lambda: xp.where(f64(), f64(), f64()),
    "refuse where on float and int": lambda: xp.where(b(), f64(), arr([1, 2, 3], "int64")),
    "refuse float scalar with int array": lambda: i8() * 2.5,
    "refuse complex scalar with int array": lambda: i8() + 1j,
    "refuse bool scalar with float array": lambda: f64() + True,
    "refuse int out of int8 range": lambda: i8() + 1000,
    "refuse int out of range reflected": lambda: 1000 - i8(),
    "refuse numpy scalar": lambda: f64() + np.float64(1.0),
    "numpy float64 reflected (the library takes it)": lambda: f64().__rmul__(np.float64(1.0)),
    "no answer for a numpy float32 reflected": lambda: f64().__rmul__(np.float32(1.0)),
    "refuse a list": lambda: f64() + [1.0, 2.0, 3.0],
    "refuse float + int array": lambda: f64() + arr([1, 2, 3], "int64"),
    "refuse int8 + uint64": lambda: i8() + arr([1, 2, 3], "uint64"),
    "refuse truediv of ints": lambda: i8() / i8(),
    "refuse narrowing iadd": lambda: arr([1.0], "float32").__iadd__(arr([1.0])),
    "refuse float64 where the device lacks it": lambda: arr([1.0], device=xp.Device("no_float64")),
    "refuse a dtype outside the standard": lambda: Array._new(np.zeros(2, "float16"), device=None),
}


def outcome(case):
    try:
        r = case()
    except Exception as e:  # (compared below: same type and message)
        return "error", type(e), str(e)
    if r is NotImplemented:
        return "NotImplemented",
    return ("array", repr(r.dtype), hash(r.dtype), r.dtype._canonical_name, r.device,
            r.shape, r.ndim, r.size, r._array.dtype, r._array.tobytes())


@pytest.mark.parametrize("name", list(CASES))
def test_same_as_array_api_strict(name):
    case = CASES[name]
    first, second = outcome(case), outcome(case)
    with unpatched():
        reference = outcome(case)
    assert first == reference, f"{name}: patched {first[:3]} vs original {reference[:3]}"
    assert second == reference, f"{name} (fast path): {second[:3]} vs {reference[:3]}"
    assert (reference[0] == "error") == name.startswith("refuse"), reference


def test_fast_paths_installed():
    """Says so (a skip) when a newer array-api-strict left a fast path out."""
    replaced = {name for _, name in GLOBALS}
    missing = [n for n in EXPECTED if n not in ORIGINALS and n not in replaced]
    if missing:
        pytest.skip(f"array-api-strict {xp.__version__} changed shape; not sped up: {missing}")
    with unpatched():
        assert vars(Array)["_new"] is ORIGINALS["_new"]
    assert vars(Array)["_new"] is not ORIGINALS["_new"]


def test_dtypes_stay_equal_and_distinct():
    """Arrays share one dtype wrapper per dtype now: it still equals, hashes and prints as
    the library's own dtype, and dtypes of different kinds and sizes stay apart."""
    a, c = f64(), arr([1.0], "float32")
    assert a.dtype == xp.float64 and hash(a.dtype) == hash(xp.float64)
    assert c.dtype == xp.float32 and c.dtype != a.dtype and (a + a).dtype == a.dtype
    assert {a.dtype: 1}[xp.float64] == 1 and repr(c.dtype) == repr(xp.float32)
    with pytest.warns(UserWarning, match="NumPy native dtype"):
        assert not a.dtype == np.float64
