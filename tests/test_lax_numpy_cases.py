"""functrans.numpy against NumPy and jax.numpy (x64), following the topics of JAX's
tests/lax_numpy_test.py and lax_numpy_operators_test.py, restated here for functrans.

Two kinds of cases:

- Operation tables (the elementwise one-to-one and compound operations, the bitwise ones and
  the operators, left and right): each operation over dtypes (bool, signed and unsigned
  integers, float16/32/64, complex64/128) and shapes (0-d, Python scalars, empty,
  broadcasting), values and result dtypes against NumPy, with functrans's documented
  promotion (docs/api/numpy.md: an integer array with a float array gives the float's dtype;
  the floating functions give float64 for every integer dtype). The differentiable ones are
  checked to second order by central differences in float64 (functrans.testing).
- Function cases, each written once against a namespace ``m`` (``m.np`` is ``numpy``,
  ``functrans.numpy`` or ``jax.numpy``, ``m.arr`` makes an input array of that library):
  NumPy's own answer is the reference in CI, on every backend (numpy, array-api-strict,
  torch); JAX's, where it is installed, is compared with functrans's side by side.

Where functrans deliberately differs from NumPy or JAX the case pins it and says so
(docs/coming-from-jax.md).
"""

from __future__ import annotations

import operator
import types
import warnings

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

# -- dtypes and data -------------------------------------------------------------------------

B, I8, I16, I32, I64 = "bool", "int8", "int16", "int32", "int64"
U8, U32, F16, F32, F64, C64, C128 = "uint8", "uint32", "float16", "float32", "float64", \
    "complex64", "complex128"
INTS = [I8, I32, I64]
UINTS = [U8, U32]
FLOATS = [F16, F32, F64]
COMPLEX = [C64, C128]
DEFAULT = FLOATS + INTS
INEXACT = FLOATS + COMPLEX
NUMBER = FLOATS + COMPLEX + INTS + UINTS
REAL = FLOATS + INTS + UINTS
ALL = NUMBER + [B]

PY = "py"  # a Python scalar of the dtype's kind
UNARY_SHAPES = [(), PY, (4,), (3, 4), (2, 1, 4), (0,), (0, 4)]
BINARY_SHAPES = [((), ()), ((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 1, 4), (4,)),
                 ((4,), ()), ((0, 4), (1, 4)), ((3, 0), ()), ((3, 4), PY), (PY, (4,))]
# mixed dtypes: pairs where NumPy's and the documented rule agree, and pairs where they do not
MIXED = [(I8, U8), (I32, U32), (B, I32), (F32, F64), (F32, C128), (I8, I64), (U8, F32),
         (I32, F32), (I64, C64), (I16, F16), (B, F64)]


def _kind(dtype):
    return np.dtype(dtype).kind


def make(rng, shape, dtype, domain):
    """Data for one argument: a NumPy array (or a Python scalar for shape PY)."""
    sh = () if shape == PY else shape
    k = _kind(dtype)
    if k == "b":
        x = rng.random(sh) < 0.5
    elif k in "iu":
        lo, hi = {"pos": (1, 6), "nonzero": (1, 6), "shift": (0, 8), "small": (0, 2),
                  "full": (-100, 100)}.get(domain, (-5, 6))
        if k == "u" or domain in ("pos", "shift", "small"):
            lo = max(lo, 0 if domain != "pos" and domain != "nonzero" else 1)
        x = rng.integers(lo, hi, size=sh)
        if domain == "nonzero" and k == "i":
            x = x * rng.choice([-1, 1], size=sh)
    else:
        if domain == "pos":
            x = rng.uniform(0.5, 3.0, sh)
        elif domain == "small":
            x = rng.uniform(-0.9, 0.9, sh)
        elif domain == "smallpos":
            x = rng.uniform(0.01, 0.5, sh)
        elif domain == "nonzero":
            x = rng.uniform(0.5, 3.0, sh) * rng.choice([-1, 1], size=sh)
        elif domain == "ge1":
            x = rng.uniform(1.1, 3.0, sh)
        else:
            x = rng.normal(size=sh) * 2
            if domain == "special" and np.size(x):
                flat = x.reshape(-1)
                for i, v in zip(range(0, flat.size, 3), (np.nan, np.inf, -np.inf, 0.0, -0.0)):
                    flat[i] = v
            elif domain == "equal" and np.size(x):
                x = np.round(x)
        if k == "c":
            y = rng.normal(size=sh) * (0.3 if domain in ("small", "smallpos") else 1.0)
            x = x + 1j * y
    x = np.asarray(x).astype(dtype)
    if shape == PY:
        return x.item()
    return x


def tol_of(*dtypes):
    worst = 1e-12
    for d in dtypes:
        worst = max(worst, {F16: 2e-3, F32: 2e-5, C64: 2e-5}.get(str(d), 1e-12))
    return worst


def mismatch(got, want, tol):
    """None when ``got`` matches ``want`` (shape, values, NaNs), else a short description."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if want.dtype == bool or want.dtype.kind in "iu":
        ok = np.array_equal(got, want)
    else:
        g = got.astype(complex if got.dtype.kind == "c" or want.dtype.kind == "c" else float)
        w = want.astype(g.dtype)
        with np.errstate(all="ignore"):
            ok = np.allclose(g, w, rtol=tol, atol=tol, equal_nan=True) and np.array_equal(
                np.isinf(g) & (g.real > 0), np.isinf(w) & (w.real > 0))
    if ok:
        return None
    return f"values {np.array2string(got.ravel()[:6], precision=6)} != " \
           f"{np.array2string(want.ravel()[:6], precision=6)}"


def assert_close(got, want, tol, what=""):
    m = mismatch(got, want, tol)
    assert m is None, f"{what}: {m}"


def documented_dtype(np_dtype, in_dtypes, inexact):
    """The result dtype functrans documents, from NumPy's."""
    np_dtype = np.dtype(np_dtype)
    kinds = [_kind(d) for d in in_dtypes]
    floats = [np.dtype(d) for d in in_dtypes if _kind(d) in "fc"]
    if np_dtype.kind in "fc" and floats and any(k in "biu" for k in kinds):
        # an integer with a float: the float's dtype (complex if either is)
        widest = floats[0]
        for f in floats[1:]:
            widest = np.promote_types(widest, f)
        if np_dtype.kind == "c" and widest.kind == "f":
            widest = np.promote_types(widest, np.complex64)
        return widest
    if inexact and np_dtype in (np.float16, np.float32) and all(k in "biu" for k in kinds):
        return np.dtype(np.float64)  # the floating functions of integers give float64
    return np_dtype


# -- the operation tables --------------------------------------------------------------------

class Op:
    def __init__(self, name, nargs, dtypes, domain="default", diff=False, inexact=False,
                 alias=None, kwargs=None, np_name=None, shapes=None, mixed=True):
        self.name, self.nargs, self.dtypes, self.domain = name, nargs, dtypes, domain
        self.diff, self.inexact, self.kwargs = diff, inexact, kwargs or {}
        self.np_name = np_name or alias or name
        self.shapes = shapes
        self.mixed = mixed

    def __repr__(self):
        return self.name + ("_" + "_".join(f"{k}{v}" for k, v in self.kwargs.items())
                            if self.kwargs else "")


ONE_TO_ONE = [
    Op("abs", 1, ALL, diff=True), Op("add", 2, ALL, diff=True),
    Op("ceil", 1, FLOATS + INTS + UINTS), Op("conj", 1, NUMBER, diff=True),
    Op("equal", 2, ALL, "equal"), Op("exp", 1, NUMBER, diff=True, inexact=True),
    Op("fabs", 1, FLOATS, diff=True),
    Op("float_power", 2, INEXACT, "pos", diff=True),
    Op("floor", 1, FLOATS + INTS + UINTS),
    Op("greater", 2, ALL, "equal"), Op("greater_equal", 2, ALL, "equal"),
    Op("i0", 1, FLOATS, diff=True), Op("ldexp", 2, [I32, I64], "shift"),
    Op("less", 2, ALL, "equal"), Op("less_equal", 2, ALL, "equal"),
    Op("log", 1, NUMBER, "pos", diff=True, inexact=True),
    Op("logical_and", 2, ALL), Op("logical_not", 1, ALL), Op("logical_or", 2, ALL),
    Op("logical_xor", 2, ALL),
    Op("maximum", 2, ALL, "special"), Op("minimum", 2, ALL, "special"),
    Op("multiply", 2, ALL, diff=True), Op("negative", 1, NUMBER, diff=True),
    Op("nextafter", 2, FLOATS), Op("not_equal", 2, ALL, "equal"),
    Op("array_equal", 2, NUMBER, "equal", shapes="same"),
    Op("array_equiv", 2, NUMBER, "equal"),
    Op("reciprocal", 1, INEXACT, "nonzero", diff=True), Op("subtract", 2, NUMBER, diff=True),
    Op("signbit", 1, DEFAULT + [B], "special"),
    Op("trunc", 1, FLOATS + INTS + UINTS, "special"),
    Op("sin", 1, NUMBER, diff=True, inexact=True), Op("cos", 1, NUMBER, diff=True, inexact=True),
    Op("tan", 1, INEXACT, "small", diff=True, inexact=True),
    Op("sinh", 1, NUMBER, diff=True, inexact=True), Op("cosh", 1, NUMBER, diff=True, inexact=True),
    Op("tanh", 1, NUMBER, diff=True, inexact=True),
    Op("arcsin", 1, NUMBER, "small", diff=True, inexact=True),
    Op("arccos", 1, NUMBER, "small", diff=True, inexact=True),
    Op("arctan", 1, NUMBER, "small", diff=True, inexact=True),
    Op("arctan2", 2, FLOATS, "nonzero", diff=True, inexact=True),
    Op("arcsinh", 1, NUMBER, diff=True, inexact=True),
    Op("arccosh", 1, INEXACT, "ge1", diff=True, inexact=True),
    Op("arctanh", 1, NUMBER, "small", diff=True, inexact=True),
    Op("asin", 1, INEXACT, "small", alias="arcsin", inexact=True),
    Op("acos", 1, INEXACT, "small", alias="arccos", inexact=True),
    Op("atan", 1, INEXACT, "small", alias="arctan", inexact=True),
    Op("atan2", 2, FLOATS, "nonzero", alias="arctan2", inexact=True),
    Op("asinh", 1, INEXACT, alias="arcsinh", inexact=True),
    Op("acosh", 1, INEXACT, "ge1", alias="arccosh", inexact=True),
    Op("atanh", 1, INEXACT, "small", alias="arctanh", inexact=True),
]

COMPOUND = [
    Op("angle", 1, NUMBER, inexact=True),
    Op("angle", 1, NUMBER, inexact=True, kwargs={"deg": True}),
    Op("atleast_1d", 1, DEFAULT), Op("atleast_2d", 1, DEFAULT), Op("atleast_3d", 1, DEFAULT),
    Op("cbrt", 1, DEFAULT, "special", inexact=True),
    Op("conjugate", 1, NUMBER, diff=True), Op("deg2rad", 1, FLOATS, diff=True),
    Op("divide", 2, NUMBER, "nonzero", diff=True, inexact=True),
    Op("divmod", 2, INTS + FLOATS, "nonzero"),
    Op("exp2", 1, NUMBER, diff=True, inexact=True),
    Op("expm1", 1, NUMBER, "smallpos", diff=True, inexact=True),
    Op("fix", 1, FLOATS + INTS + UINTS),
    Op("floor_divide", 2, DEFAULT + UINTS, "nonzero"),
    Op("fmin", 2, NUMBER, "special"), Op("fmax", 2, NUMBER, "special"),
    Op("fmod", 2, DEFAULT, "nonzero"),
    Op("heaviside", 2, DEFAULT, "equal", inexact=True),
    Op("hypot", 2, REAL, "nonzero", diff=True, inexact=True),
    Op("kron", 2, NUMBER, shapes="kron"), Op("outer", 2, NUMBER, shapes="outer"),
    Op("imag", 1, NUMBER), Op("iscomplex", 1, NUMBER), Op("isfinite", 1, INEXACT, "special"),
    Op("isinf", 1, INEXACT, "special"), Op("isnan", 1, INEXACT, "special"),
    Op("isneginf", 1, FLOATS, "special"), Op("isposinf", 1, FLOATS, "special"),
    Op("isreal", 1, NUMBER), Op("isrealobj", 1, NUMBER),
    Op("log2", 1, NUMBER, "pos", diff=True, inexact=True),
    Op("log10", 1, NUMBER, "pos", diff=True, inexact=True),
    Op("log1p", 1, NUMBER, "smallpos", diff=True, inexact=True),
    Op("logaddexp", 2, FLOATS, diff=True, inexact=True),
    Op("logaddexp2", 2, FLOATS, diff=True, inexact=True),
    Op("polyval", 2, [d for d in NUMBER if d not in (I8, U8)], shapes="polyval", diff=True),
    Op("positive", 1, NUMBER, diff=True),
    Op("pow", 2, NUMBER, "pos", diff=True, alias="power"),
    Op("power", 2, NUMBER, "pos", diff=True),
    Op("rad2deg", 1, FLOATS, diff=True), Op("ravel", 1, ALL, diff=True),
    Op("real", 1, NUMBER), Op("remainder", 2, DEFAULT, "nonzero"),
    Op("mod", 2, DEFAULT, "nonzero"), Op("modf", 1, FLOATS + INTS + UINTS, inexact=True),
    Op("rint", 1, INEXACT + INTS + UINTS, "special", inexact=True),
    Op("sign", 1, NUMBER, "special"), Op("copysign", 2, DEFAULT + UINTS, "special", inexact=True),
    Op("sinc", 1, [d for d in NUMBER], diff=True, inexact=True),
    Op("square", 1, NUMBER, diff=True), Op("sqrt", 1, NUMBER, "pos", diff=True, inexact=True),
    Op("transpose", 1, ALL, diff=True),
    Op("true_divide", 2, ALL, "nonzero", diff=True, inexact=True),
    Op("ediff1d", 1, [I32, F64], diff=True),
    Op("unwrap", 1, FLOATS, shapes="nonscalar", diff=True, inexact=True),
    Op("isclose", 2, [d for d in ALL], "smallpos"),
    Op("gcd", 2, INTS + UINTS), Op("lcm", 2, INTS + UINTS),
]

BITWISE = [
    Op("bitwise_and", 2, INTS + UINTS + [B], "full"),
    Op("bitwise_invert", 1, INTS + UINTS + [B], "full", alias="bitwise_not"),
    Op("bitwise_not", 1, INTS + UINTS + [B], "full"),
    Op("invert", 1, INTS + UINTS + [B], "full"),
    Op("bitwise_or", 2, INTS + UINTS + [B], "full"),
    Op("bitwise_xor", 2, INTS + UINTS + [B], "full"),
    Op("bitwise_count", 1, INTS + UINTS, "full"),
    Op("left_shift", 2, INTS + UINTS, "shift"), Op("right_shift", 2, INTS + UINTS, "shift"),
    Op("bitwise_left_shift", 2, INTS + UINTS, "shift", alias="left_shift"),
    Op("bitwise_right_shift", 2, INTS + UINTS, "shift", alias="right_shift"),
]

TABLE = ONE_TO_ONE + COMPOUND + BITWISE
_ids = [f"{op!r}" for op in TABLE]
TABLE_IDS = [f"{i}_{n}" if _ids.count(n) > 1 else n for i, n in enumerate(_ids)]

_MIXED_OK = {"kron", "outer", "polyval", "array_equal", "array_equiv"}  # (any pair)


def _shape_sets(op):
    if op.nargs == 1:
        if op.shapes == "nonscalar":
            return [((4,),), ((3, 4),), ((2, 3, 4),)]
        return [(s,) for s in UNARY_SHAPES]
    if op.shapes == "same":
        return [((), ()), ((3, 4), (3, 4)), ((3, 4), (4,)), ((0,), (0,))]
    if op.shapes == "kron":
        return [((), ()), ((3,), (2,)), ((2, 3), (3, 2)), ((2, 1, 3), (4,)), ((0,), (2,))]
    if op.shapes == "outer":
        return [((), ()), ((3,), (4,)), ((2, 3), (4,)), ((0,), (3,))]
    if op.shapes == "polyval":
        return [((4,), ()), ((3,), (3, 4)), ((1,), (2,)), ((4,), PY)]
    return BINARY_SHAPES


def _np_op(op):
    f = getattr(np, op.np_name)
    return (lambda *a: f(*a, **op.kwargs)) if op.kwargs else f


def _call(f, args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args)


def _leaves(out):
    return list(out) if isinstance(out, tuple) else [out]


def _dtype_sets(op):
    if op.nargs == 1:
        return [(d,) for d in op.dtypes]
    same = [(d, d) for d in op.dtypes]
    if not op.mixed:
        return same
    mixed = [p for p in MIXED if p[0] in op.dtypes and p[1] in op.dtypes]
    return same + mixed + [(b, a) for a, b in mixed[:2]]


def _table_cases(op, seed=0):
    rng = np.random.default_rng(seed)
    for dts in _dtype_sets(op):
        for shapes in _shape_sets(op):
            if PY in shapes and any(_kind(d) in "iu" and d not in (I64,) for d in dts
                                    if d) and len(set(dts)) > 1:
                continue
            args = [make(rng, s, d, op.domain) for s, d in zip(shapes, dts)]
            if op.name in ("ldexp",) and PY in shapes:
                continue
            yield dts, shapes, args


def _in_dtypes(dts, shapes):
    # a Python scalar takes the other operand's dtype (NumPy's weak scalars)
    return [d for d, s in zip(dts, shapes) if s != PY] or list(dts)


@pytest.mark.parametrize("op", TABLE, ids=TABLE_IDS)
def test_table_values_and_dtypes_vs_numpy(op):
    fop, nop = getattr(fnp, op.name), _np_op(op)
    if op.kwargs:
        fop = (lambda g: lambda *a: g(*a, **op.kwargs))(fop)
    bad = []
    for dts, shapes, args in _table_cases(op):
        what = f"{op!r}{tuple(dts)}{tuple(shapes)}"
        try:
            want = _call(nop, args)
        except (TypeError, ValueError) as e:
            with pytest.raises((TypeError, ValueError)):
                _call(fop, args)
            continue
        try:
            got = _call(fop, args)
        except Exception as e:  # noqa: BLE001 (collected, reported together)
            bad.append(f"{what}: raised {type(e).__name__}: {e}")
            continue
        for i, (g, w) in enumerate(zip(_leaves(got), _leaves(want))):
            w, g = np.asarray(w), np.asarray(g)
            exp = documented_dtype(w.dtype, _in_dtypes(dts, shapes), op.inexact)
            if g.dtype != exp:
                bad.append(f"{what}: dtype {g.dtype}, documented {exp} (NumPy {w.dtype})")
            if w.dtype != exp and exp.kind in "fc":
                # the reference computed in the documented dtype
                wide = [np.asarray(a).astype(exp) if not isinstance(a, (int, float, complex))
                        else a for a in args]
                w = np.asarray(_leaves(_call(nop, wide))[i])
            m = mismatch(g, w, tol_of(*dts, exp))
            if m:
                bad.append(f"{what}: {m}")
    assert not bad, "\n".join(bad[:20])
