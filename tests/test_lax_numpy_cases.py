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
        except (TypeError, ValueError):
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


def _one_dtype(op):
    for d in (F64, C128, I64, B):
        if d in op.dtypes:
            return d


def test_table_on_every_backend(backend):
    """Every operation of the tables on the backend's arrays (its widest dtype), against
    NumPy: broadcasting, a 0-d and an empty operand."""
    rng = np.random.default_rng(1)
    bad = []
    for op in TABLE:
        d = _one_dtype(op)
        if op.shapes in ("kron", "outer", "polyval", "same", "nonscalar"):
            shape_sets = _shape_sets(op)[1:3]
        elif op.nargs == 1:
            shape_sets = [((3, 4),), ((),), ((0, 2),)]
        else:
            shape_sets = [((3, 1), (4,)), ((), (2, 3)), ((0, 3), (3,))]
        if backend.name == "torch" and d == "uint32" or d is None:
            continue
        fop, nop = getattr(fnp, op.name), _np_op(op)
        for shapes in shape_sets:
            args = [make(rng, s, d, op.domain) for s in shapes]
            want = _call(nop, args)
            xs = [backend.asarray(a, dtype=d) for a in args]
            try:
                got = _call(lambda *a: fop(*a, **op.kwargs), xs)
                # staged: the same values from the graph (array_equal/equiv and isrealobj
                # answer Python bools, which jit gives back as they are)
                staged = _call(ft.jit(lambda *a: fop(*a, **op.kwargs)), xs)
            except Exception as e:  # noqa: BLE001
                bad.append(f"{op!r}{shapes}: raised {type(e).__name__}: {e}"[:300])
                continue
            for g, w in zip(_leaves(staged), _leaves(want)):
                g = np.asarray(g) if isinstance(g, (bool, int, float)) else backend.to_numpy(g)
                m = mismatch(g, np.asarray(w), 1e-12)
                if m or g.dtype != np.asarray(w).dtype:
                    bad.append(f"{op!r}{shapes} under jit: {m or g.dtype}")
            for g, w in zip(_leaves(got), _leaves(want)):
                g = np.asarray(g) if isinstance(g, (bool, int, float)) else backend.to_numpy(g)
                w = np.asarray(w)
                if op.name not in ("array_equal", "array_equiv", "isrealobj") \
                        and not backend.is_own(_leaves(got)[0]):
                    bad.append(f"{op!r}{shapes}: result of type {type(_leaves(got)[0])}")
                if g.dtype != w.dtype:
                    bad.append(f"{op!r}{shapes}: dtype {g.dtype} != NumPy's {w.dtype}")
                m = mismatch(g, w, 1e-12)
                if m:
                    bad.append(f"{op!r}{shapes}: {m}")
    assert not bad, "\n".join(bad[:30])


# -- operators, on tracers (the arrays inside a transform) -----------------------------------

OPERATORS = [
    ("__add__", NUMBER, "default"), ("__sub__", NUMBER, "default"),
    ("__mul__", NUMBER, "default"), ("__eq__", NUMBER, "equal"), ("__ne__", NUMBER, "equal"),
    ("__lt__", DEFAULT, "equal"), ("__le__", DEFAULT, "equal"), ("__gt__", DEFAULT, "equal"),
    ("__ge__", DEFAULT, "equal"), ("__pos__", NUMBER, "default"),
    ("__neg__", NUMBER, "default"), ("__pow__", INEXACT, "pos"),
    ("__mod__", DEFAULT, "nonzero"), ("__floordiv__", DEFAULT, "nonzero"),
    ("__truediv__", NUMBER, "nonzero"), ("__abs__", NUMBER, "default"),
    ("__invert__", INTS + [B], "full"), ("__lshift__", INTS + [U8], "shift"),
    ("__rshift__", INTS + [U8], "shift"), ("__and__", INTS + [B], "full"),
    ("__or__", INTS + [B], "full"), ("__xor__", INTS + [B], "full"),
    ("__matmul__", NUMBER, "default"),
]
RIGHT_OPERATORS = [
    ("__radd__", NUMBER, "default"), ("__rsub__", NUMBER, "default"),
    ("__rmul__", NUMBER, "default"), ("__rpow__", INEXACT, "pos"),
    ("__rmod__", DEFAULT, "nonzero"), ("__rfloordiv__", DEFAULT, "nonzero"),
    ("__rtruediv__", NUMBER, "nonzero"), ("__rlshift__", INTS, "shift"),
    ("__rrshift__", INTS, "shift"), ("__rand__", INTS + [B], "full"),
    ("__ror__", INTS + [B], "full"), ("__rxor__", INTS + [B], "full"),
    ("__rmatmul__", NUMBER, "default"),
]


def _operator_fn(name):
    return getattr(operator, {"and": "and_", "or": "or_"}.get(name.strip("_"),
                                                              name.strip("_")))


def _operator_shapes(name):
    if "matmul" in name:
        return [((3, 4), (4, 2)), ((4,), (4,)), ((2, 3, 4), (4,)), ((0, 4), (4, 2))]
    if name in ("__pos__", "__neg__", "__abs__", "__invert__"):
        return [((3, 4),), ((),), ((0,),)]
    return [((3, 4), (3, 4)), ((3, 1), (4,)), ((), (2,)), ((0, 4), (4,)), ((3,), PY),
            ((), PY)]


@pytest.mark.parametrize("name,dtypes,domain", OPERATORS + RIGHT_OPERATORS,
                         ids=[o[0] for o in OPERATORS + RIGHT_OPERATORS])
def test_operators_on_tracers_vs_numpy(name, dtypes, domain):
    """``tracer <op> array`` (and ``array <op> tracer`` through the reflected method) inside
    ``jit``: NumPy's value, the documented dtype."""
    rng = np.random.default_rng(2)
    right = name.startswith("__r") and name not in ("__rshift__",)
    base = "__" + name[3:] if right else name
    bad = []
    for d in dtypes:
        for shapes in _operator_shapes(name):
            args = [make(rng, s, d, domain) for s in shapes]
            if len(args) == 1:
                f = _operator_fn(base)
                fn = lambda a: getattr(a, name)()  # noqa: E731
                want, got_f = _call(f, args), (lambda: ft.jit(fn)(args[0]))
            elif right:
                # the tracer is the right operand: ``b.__radd__(a)`` is ``a + b``
                want = _call(_operator_fn(base), args)
                a0 = args[0]
                got_f = (lambda: ft.jit(lambda b: getattr(b, name)(a0))(args[1])) \
                    if shapes[1] != PY else None
            else:
                want = _call(_operator_fn(base), args)
                if shapes[0] == PY:
                    continue
                a1 = args[1]
                got_f = (lambda: ft.jit(lambda a: getattr(a, name)(a1))(args[0])) \
                    if shapes[1] == PY else \
                    (lambda: ft.jit(lambda a, b: getattr(a, name)(b))(*args))
            if got_f is None:
                continue
            what = f"{name}({d}){shapes}"
            try:
                got = np.asarray(_call(lambda: got_f(), []))
            except Exception as e:  # noqa: BLE001
                bad.append(f"{what}: raised {type(e).__name__}: {e}"[:300])
                continue
            w = np.asarray(want)
            if got.dtype != w.dtype:
                bad.append(f"{what}: dtype {got.dtype} != NumPy's {w.dtype}")
            m = mismatch(got, w, tol_of(d))
            if m:
                bad.append(f"{what}: {m}")
    assert not bad, "\n".join(bad[:30])


def test_operators_refuse_builtin_containers():
    # as JAX's (testOperatorOverloadErrors): a dict or set operand is a TypeError
    def f(x):
        for other in ({1: 2}, {1, 2}):
            for op in (operator.add, operator.mul, operator.lt):
                with pytest.raises(TypeError):
                    op(x, other)
                with pytest.raises(TypeError):
                    op(other, x)
        return x
    ft.jit(f)(np.ones(2))


class _TakesOver:
    def __radd__(self, other):
        return "mine"


def test_operators_defer_to_a_foreign_types_reflected_method():
    # As JAX (testBinaryOperatorDefers): for a type functrans does not know that defines the
    # reflected method, the operator returns NotImplemented and that method runs; a type
    # without one is refused naming it (tests/test_gaps_s24.py covers every operator)
    from functrans.errors import UnsupportedBackendError

    def f(x):
        assert x + _TakesOver() == "mine"
        with pytest.raises(UnsupportedBackendError, match="object"):
            x + object()
        return x
    ft.jit(f)(np.ones(2))


# -- derivatives -----------------------------------------------------------------------------

DIFF_SHAPES = {1: [((2, 3),)], 2: [((2, 3), (3,))]}


@pytest.mark.parametrize("op", [op for op in TABLE if op.diff],
                         ids=[i for op, i in zip(TABLE, TABLE_IDS) if op.diff])
def test_table_derivatives(op):
    """JVP against central differences and VJP by the dot-product identity, to second order,
    in float64 (complex128 too where the table has it: as pairs of reals)."""
    rng = np.random.default_rng(3)
    fop = getattr(fnp, op.name)
    f = (lambda *a: fop(*a, **op.kwargs)) if op.kwargs else fop
    shapes = [((4,), (3,))] if op.shapes == "polyval" else \
        [((3,), (2,))] if op.shapes in ("kron", "outer") else \
        [((7,),)] if op.name in ("unwrap", "ediff1d") else DIFF_SHAPES[op.nargs]
    dom = "nonzero" if op.name in ("abs", "fabs", "sinc") else op.domain
    for d in (F64, C128):
        if d not in op.dtypes or (d == C128 and op.name in ("hypot",)):
            continue
        for sh in shapes:
            args = tuple(make(rng, s, d, dom) for s in sh)
            if op.name == "unwrap":
                args = (np.cumsum(rng.uniform(-3, 3, 7)),)
            check_grads(f, args, order=2)


# -- function cases: one body, run on NumPy (the reference), functrans and JAX ----------------

def _lib(name, mod, arr, jaxlike=False):
    # jaxlike: the case leaves out the calls jax.numpy refuses (each pinned in
    # test_where_functrans_and_jax_differ), for the side-by-side run
    return types.SimpleNamespace(name=name, np=mod, arr=arr, jaxlike=jaxlike)


NP = _lib("numpy", np, lambda x, dtype=None: np.asarray(x, dtype=dtype))


def _ft_on(backend):
    def arr(x, dtype=None):
        x = np.asarray(x)
        return backend.asarray(x, dtype=dtype or x.dtype)
    return _lib("functrans", fnp, arr)


FUNCS = {}


def fcase(*, grad=None, np_ref=True, dtypes=True, tol=1e-10, jax_dtypes=True, jax=True,
          jax_grad=None):
    """Register a function case. ``grad(m)``, when given, returns ``(f, args)`` for
    check_grads; ``np_ref=False`` when NumPy has no such call (the case checks a closed form
    itself); ``dtypes=False`` where functrans's dtype is checked in the case (documented
    difference); ``jax_grad``: why the derivatives are not compared with JAX's."""
    def deco(fn):
        FUNCS[fn.__name__] = types.SimpleNamespace(fn=fn, grad=grad, np_ref=np_ref,
                                                   dtypes=dtypes, tol=tol,
                                                   jax_dtypes=jax_dtypes, jax=jax,
                                                   jax_grad=jax_grad)
        return fn
    return deco


def _R(seed, *shape):
    return np.random.default_rng(seed).normal(size=shape)


def compare(got, want, tol, dtypes=True, to_np=np.asarray, what=""):
    lg = optree.tree_leaves(got, none_is_leaf=True)
    lw = optree.tree_leaves(want, none_is_leaf=True)
    assert len(lg) == len(lw), f"{what}: {len(lg)} results != {len(lw)}"
    for i, (g, w) in enumerate(zip(lg, lw)):
        g = np.asarray(g) if isinstance(g, (bool, int, float, complex)) else to_np(g)
        w = np.asarray(w)
        if dtypes:
            assert g.dtype == w.dtype, f"{what}[{i}]: dtype {g.dtype} != {w.dtype}"
        m = mismatch(g, w, max(tol, tol_of(g.dtype, w.dtype)))
        assert m is None, f"{what}[{i}]: {m}"


@fcase(grad=lambda m: (lambda x: m.np.clip(x, -0.5, 0.7), (np.array([-1.0, 0.1, 0.3, 2.0]),)))
def clip(m):
    x = m.arr(_R(0, 3, 4))
    xi = m.arr(np.arange(-3, 5))
    return [m.np.clip(x, -0.5, 0.7), m.np.clip(x, None, 0.2), m.np.clip(x, -0.1, None),
            m.np.clip(x, m.arr([-1.0, 0.0, 0.1, -0.2]), 0.5), m.np.clip(xi, 0, 3),
            m.np.clip(xi, -1.5, 2.5), m.np.clip(x, 1.0, 0.0)]


@fcase(grad=lambda m: (lambda x: m.np.round(x * x, 2) + x, (np.array([0.3, 1.7]),)))
def round_and_around(m):
    x = m.arr(np.array([0.5, 1.5, 2.5, -0.5, 1.2345, -2.675, 123.456, 1e-3]))
    xi = m.arr(np.array([15, 25, -35, 149, 151], dtype=np.int64))
    xc = m.arr(np.array([1.25 + 2.35j, -0.5 - 1.5j]))
    out = [m.np.round(x), m.np.round(x, 2), m.np.around(x, 1), m.np.round(x, -1),
           m.np.round(x, -2), m.np.round(xi), m.np.round(xc, 1), m.np.round(m.arr(np.float32(2.5)))]
    if not m.jaxlike:  # (jax.numpy refuses integers with decimals < 0: NotImplementedError)
        out += [m.np.round(xi, -1), m.np.round(xi, -2)]
    return out


_PAD_MODES = [("constant", {}), ("constant", {"constant_values": ((1.5, -2.0), (3.0, 4.0))}),
              ("edge", {}), ("linear_ramp", {}), ("linear_ramp", {"end_values": (1.0, -1.0)}),
              ("maximum", {}), ("mean", {}), ("median", {}), ("minimum", {}),
              ("maximum", {"stat_length": 2}), ("mean", {"stat_length": ((1, 2), (3, 1))}),
              ("reflect", {}), ("reflect", {"reflect_type": "odd"}), ("symmetric", {}),
              ("symmetric", {"reflect_type": "odd"}), ("wrap", {})]


@fcase(grad=lambda m: (lambda x: [m.np.pad(x, ((1, 2), (3, 1)), mode=md, **kw)
                                  for md, kw in _PAD_MODES if md != "median"],
                       (_R(1, 3, 4),)))
def pad_every_mode(m):
    x = m.arr(_R(1, 3, 4))
    out = [m.np.pad(x, ((1, 2), (3, 1)), mode=md, **kw) for md, kw in _PAD_MODES]
    out += [m.np.pad(x, 2, mode="reflect"), m.np.pad(x, (1, 3), mode="wrap"),
            m.np.pad(x, ((0, 0), (5, 5)), mode="reflect"),  # wider than the axis
            m.np.pad(x, ((4, 4), (0, 0)), mode="symmetric"),
            m.np.pad(x, ((7, 7), (0, 0)), mode="wrap"),
            m.np.pad(m.arr(np.arange(5)), 2, mode="linear_ramp", end_values=10),
            m.np.pad(m.arr(np.arange(5)), 2, mode="mean"),
            m.np.pad(m.arr(np.float64(3.0)), 0)]
    return out


@fcase(grad=lambda m: (lambda x: m.np.tile(x, (2, 1, 3)), (_R(2, 2, 3),)))
def tile(m):
    x = m.arr(_R(2, 2, 3))
    return [m.np.tile(x, 2), m.np.tile(x, (2, 1, 3)), m.np.tile(x, (1, 2)), m.np.tile(x, 0),
            m.np.tile(m.arr(np.float64(2.0)), 3), m.np.tile(x, ())]


@fcase(grad=lambda m: (lambda x: m.np.repeat(x, np.array([1, 0, 2]), axis=1), (_R(3, 2, 3),)))
def repeat(m):
    x = m.arr(_R(3, 2, 3))
    return [m.np.repeat(x, 2), m.np.repeat(x, 2, axis=0),
            m.np.repeat(x, np.array([1, 0, 2]), axis=1), m.np.repeat(x, np.array([3]), axis=-1),
            m.np.repeat(m.arr(np.float64(1.5)), 3), m.np.repeat(x, 0, axis=0)]


@fcase(np_ref=False)
def repeat_total_repeat_length(m):
    # jax.numpy's keyword (for jit): the result is cut or padded with the last element's
    # repeats to that length
    x = m.arr(np.array([[1.0, 2.0], [3.0, 4.0]]))
    got = [m.np.repeat(x, np.array([1, 2]), axis=0, total_repeat_length=3),
           m.np.repeat(x, np.array([2, 2]), axis=1, total_repeat_length=3),
           m.np.repeat(x, 2, axis=0, total_repeat_length=4)]
    want = [np.array([[1.0, 2.0], [3.0, 4.0], [3.0, 4.0]]),
            np.array([[1.0, 1.0, 2.0], [3.0, 3.0, 4.0]]), np.repeat(np.asarray(x), 2, axis=0)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)
    return got


@fcase(jax_dtypes=False,
       grad=lambda m: (lambda x: m.np.diff(x, n=2, axis=0, prepend=x[:1], append=1.0),
                       (_R(4, 4, 3),)))
def diff(m):
    x = m.arr(_R(4, 4, 3))
    xi = m.arr(np.array([1, 4, 9, 16], dtype=np.int32))
    return [m.np.diff(x), m.np.diff(x, n=2, axis=0), m.np.diff(x, n=0),
            m.np.diff(x, axis=0, prepend=0.0), m.np.diff(x, axis=1, append=m.arr(_R(5, 4, 2))),
            m.np.diff(x, n=3, axis=0, prepend=m.arr(_R(6, 1, 3)), append=2.0),
            m.np.diff(xi), m.np.diff(xi, prepend=0), m.np.diff(m.arr([True, False, False]))]


@fcase(grad=lambda m: (lambda x: m.np.ediff1d(x, to_begin=x[:2], to_end=3.0), (_R(7, 5),)))
def ediff1d(m):
    x = m.arr(_R(7, 2, 3))
    xi = m.arr(np.array([1, 5, 2], dtype=np.int32))
    out = [m.np.ediff1d(x), m.np.ediff1d(x, to_begin=-1.0),
           m.np.ediff1d(x, to_begin=m.arr([7.0]), to_end=m.arr([8.0, 9.0])),
           m.np.ediff1d(xi), m.np.ediff1d(xi, to_begin=0)]
    if not m.jaxlike:  # (jax.numpy refuses a list)
        out.append(m.np.ediff1d(x, to_end=[1.0, 2.0]))
    return out


@fcase(jax_dtypes=False, grad=lambda m: (lambda x: [m.np.cumsum(x, axis=1), m.np.cumprod(x, axis=0),
                                  m.np.cumprod(x)], (_R(8, 3, 4),)))
def cumsum_cumprod_dtypes(m):
    x = m.arr(_R(8, 3, 4))
    xi = m.arr(np.arange(1, 7, dtype=np.int32).reshape(2, 3))
    xb = m.arr(np.array([True, False, True]))
    return [m.np.cumsum(x), m.np.cumsum(x, axis=0), m.np.cumsum(x, axis=-1),
            m.np.cumprod(x, axis=1), m.np.cumsum(xi), m.np.cumsum(xi, axis=1, dtype=np.float32),
            m.np.cumprod(xi, dtype=np.float64), m.np.cumsum(xi, dtype=np.int8),
            m.np.cumsum(xb), m.np.cumprod(m.arr(np.zeros((0, 3))), axis=0)]


@fcase(grad=lambda m: (lambda y, x: [m.np.trapezoid(y, x), m.np.trapezoid(y, dx=0.5, axis=0)],
                       (_R(9, 3, 5), np.cumsum(np.abs(_R(10, 5))))))
def trapezoid(m):
    y = m.arr(_R(9, 3, 5))
    x = m.arr(np.cumsum(np.abs(_R(10, 5))))
    return [m.np.trapezoid(y), m.np.trapezoid(y, x), m.np.trapezoid(y, dx=0.3, axis=0),
            m.np.trapezoid(y, m.arr(np.cumsum(np.abs(_R(11, 3, 5)), axis=0)), axis=0),
            m.np.trapezoid(m.arr(np.arange(5)))]


@fcase(grad=lambda m: (lambda a, b: [m.np.cross(a, b), m.np.cross(a, b, axisa=0, axisb=0)],
                       (_R(12, 3, 3), _R(13, 3, 3))))
def cross(m):
    a, b = m.arr(_R(12, 4, 3)), m.arr(_R(13, 4, 3))
    a0 = m.arr(_R(12, 4, 3)[0])
    c, d = m.arr(_R(14, 3, 2)), m.arr(_R(15, 3, 2))
    return [m.np.cross(a, b), m.np.cross(a0, b), m.np.cross(c, d, axisa=0, axisb=0),
            m.np.cross(a, b, axisc=0), m.np.cross(c, d, axis=0),
            m.np.cross(m.arr(np.array([1, 2, 3])), m.arr(np.array([4, 5, 6])))]


@fcase(grad=lambda m: (lambda a, b: [m.np.kron(a, b), m.np.outer(a, b), m.np.inner(a, b)],
                       (_R(16, 2, 3), _R(17, 4, 3))))
def kron_outer_inner(m):
    a, b = m.arr(_R(16, 2, 3)), m.arr(_R(17, 4, 3))
    i = m.arr(np.array([[1, 2], [3, 4]], dtype=np.int32))
    a0, b1 = m.arr(_R(16, 2, 3)[0]), m.arr(_R(17, 4, 3)[1])
    return [m.np.kron(a, b), m.np.kron(a0, b), m.np.kron(i, a), m.np.outer(a, b),
            m.np.outer(i, i), m.np.inner(a, b), m.np.inner(a0, b1), m.np.inner(i, i),
            m.np.inner(m.arr(np.float64(2.0)), a)]


@fcase(grad=lambda m: (lambda a, b: [m.np.tensordot(a, b, axes=1),
                                     m.np.tensordot(a, b, axes=([0, 1], [1, 0]))],
                       (_R(18, 3, 4), _R(19, 4, 3))))
def tensordot_axes_forms(m):
    a, b = m.arr(_R(18, 2, 3, 4)), m.arr(_R(19, 3, 4, 5))
    c, d = m.arr(_R(20, 4, 3)), m.arr(_R(54, 4, 5))
    return [m.np.tensordot(a, b), m.np.tensordot(a, d, axes=1), m.np.tensordot(a, b, axes=0),
            m.np.tensordot(a, b, axes=([1, 2], [0, 1])),
            m.np.tensordot(a, c, axes=([2, 1], [0, 1])),
            m.np.tensordot(a, c, axes=(2, 0)), m.np.tensordot(a, b, axes=[[-1], [1]])]


@fcase(grad=lambda m: (lambda a, b, c: m.np.einsum("ij,jk,kl->il", a, b, c, optimize=True),
                       (_R(21, 2, 3), _R(22, 3, 4), _R(23, 4, 2))), tol=1e-9)
def einsum_paths(m):
    a, b, c = m.arr(_R(21, 2, 3)), m.arr(_R(22, 3, 4)), m.arr(_R(23, 4, 2))
    s = m.arr(_R(24, 3, 3))
    bt = m.arr(_R(25, 5, 2, 3))
    out = [m.np.einsum("ij,jk->ik", a, b), m.np.einsum("ii->", s), m.np.einsum("ii->i", s),
           m.np.einsum("ij->ji", a), m.np.einsum("i,i", m.arr(_R(55, 3)), m.arr(_R(56, 3))),
           m.np.einsum("bij,jk->bik", bt, b), m.np.einsum("...ij->...ji", bt),
           m.np.einsum("ij,jk,kl->il", a, b, c, optimize="greedy"),
           m.np.einsum("ij,jk,kl->il", a, b, c, optimize="optimal"),
           m.np.einsum("ij,jk,kl->il", a, b, c, optimize=False),
           m.np.einsum(a, [0, 1], b, [1, 2], [0, 2]), m.np.einsum("ij,ij->", a, a),
           m.np.einsum("i,j->ij", m.arr(_R(55, 3)), m.arr(_R(57, 2)))]
    if not m.jaxlike:  # (JAX's path is opt_einsum's, in its own form)
        path = m.np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")[0]
        out.append(np.asarray([len(p) for p in path[1:]]))
    return out


@fcase(grad=lambda m: (lambda x, y: m.np.where(x > 0, x * y, y), (_R(26, 3, 4), _R(27, 4))))
def where(m):
    x, y = m.arr(_R(26, 3, 4)), m.arr(_R(27, 4))
    return [m.np.where(x > 0, x, y), m.np.where(x > 0, 1.0, y), m.np.where(x > 0, 1, 0),
            m.np.where(m.arr(np.array([True, False, True, False])), x, 0.5),
            m.np.where(x > 0)[0], m.np.where(x > 0)[1]]


@fcase(grad=lambda m: (lambda x: m.np.select([x < -0.5, x > 0.5], [x * x, m.np.sin(x)], x),
                       (_R(28, 9),)))
def select(m):
    x = m.arr(_R(28, 9))
    return [m.np.select([x < -0.5, x > 0.5], [x * x, m.np.sin(x)], x),
            m.np.select([x < 0], [x]), m.np.select([x < 0, x < 1], [1.0, 2.0], default=3.0),
            m.np.select([x < 0, x > 0], [-1, 1])]


@fcase(grad=lambda m: (lambda x: m.np.piecewise(x, [x < 0, x > 1], [lambda v: v * v,
                                                                    lambda v: v ** 3, 0.5]),
                       (_R(29, 8),)))
def piecewise(m):
    x = m.arr(_R(29, 8))
    return [m.np.piecewise(x, [x < 0, x > 1], [lambda v: v * v, lambda v: v ** 3, 0.5]),
            m.np.piecewise(x, [x < 0], [-1.0, 1.0]), m.np.piecewise(x, [x < 0], [0.0]),
            m.np.piecewise(x, [x < 0, x >= 0], [lambda v, k: k * v, lambda v, k: v + k], k=3.0)]


@fcase(grad=lambda m: (lambda x, fp: m.np.interp(x, np.array([0.0, 1.0, 2.5, 3.0]), fp),
                       (np.array([-0.5, 0.3, 1.2, 2.7, 3.5]), _R(30, 4))))
def interp(m):
    xp = m.arr(np.array([0.0, 1.0, 2.5, 3.0]))
    fp = m.arr(_R(30, 4))
    x = m.arr(np.array([-0.5, 0.0, 0.3, 1.0, 2.7, 3.0, 3.5]))
    return [m.np.interp(x, xp, fp), m.np.interp(x, xp, fp, left=-9.0, right=9.0),
            m.np.interp(x, xp, fp, period=2.0), m.np.interp(2.0, xp, fp),
            m.np.interp(x, xp, m.arr(_R(31, 4) + 1j * _R(32, 4)))]


@fcase(grad=lambda m: (lambda p, x: m.np.polyval(p, x), (_R(33, 4), _R(34, 3))))
def polyval(m):
    p, x = m.arr(_R(33, 4)), m.arr(_R(34, 2, 3))
    pi = m.arr(np.array([2, -1, 3], dtype=np.int32))
    return [m.np.polyval(p, x), m.np.polyval(p, 2.0), m.np.polyval(pi, m.arr(np.arange(4))),
            m.np.polyval(m.arr(np.zeros(0)), x)]


@fcase(grad=lambda m: (lambda x: [m.np.roll(x, 2), m.np.roll(x, (1, -2), axis=(0, 1)),
                                  m.np.rot90(x, 3), m.np.flip(x, (0, 1))], (_R(35, 3, 4),)))
def roll_rot90_flip(m):
    x = m.arr(_R(35, 2, 3, 4))
    return [m.np.roll(x, 2), m.np.roll(x, -1, axis=1), m.np.roll(x, (1, 2), axis=(0, 2)),
            m.np.roll(x, 7, axis=-1), m.np.roll(x, (1, 1), axis=(1, 1)),
            m.np.roll(x, (1, 2), axis=0), m.np.roll(x, [1, 2]),  # (shift broadcast on axis)
            m.np.rot90(x), m.np.rot90(x, 2), m.np.rot90(x, -1, axes=(1, 2)),
            m.np.rot90(x, 5, axes=(2, 0)), m.np.flip(x), m.np.flip(x, 1),
            m.np.flip(x, (0, 2)), m.np.fliplr(x), m.np.flipud(x)]


@fcase(grad=lambda m: (lambda x: m.np.moveaxis(x, [0, 1], [-1, 0]), (_R(36, 2, 3, 4),)))
def moveaxis(m):
    x = m.arr(_R(36, 2, 3, 4))
    return [m.np.moveaxis(x, 0, -1), m.np.moveaxis(x, [0, 1], [-1, 0]),
            m.np.moveaxis(x, (2, 0), (0, 1)), m.np.swapaxes(x, 0, 2),
            m.np.moveaxis(x, -1, -1)]


@fcase(grad=lambda m: (lambda x: m.np.split(x, [1, 3], axis=1) + m.np.array_split(x, 3),
                       (_R(37, 4, 5),)))
def split_array_split(m):
    x = m.arr(_R(37, 4, 6))
    out = [m.np.split(x, 2), m.np.split(x, 3, axis=1), m.np.split(x, [1, 3], axis=1),
           m.np.array_split(x, 3), m.np.array_split(x, 4, axis=1),
           m.np.array_split(x, [1, 5], axis=-1), m.np.hsplit(x, 2), m.np.vsplit(x, [1]),
           m.np.dsplit(m.arr(_R(38, 2, 2, 4)), 2)]
    if not m.jaxlike:  # (indices out of order or past the end: empty pieces; JAX refuses)
        out.append(m.np.split(x, [2, 1, 9], axis=1))
    return out


@fcase(dtypes=False, grad=lambda m: (lambda a, b: [m.np.stack([a, b], axis=1),
                                                   m.np.concatenate([a, b], axis=None)],
                                     (_R(39, 2, 3), _R(40, 2, 3))))
def stack_concat_mixed_dtypes(m):
    f64, f32 = m.arr(_R(39, 2, 3)), m.arr(_R(40, 2, 3), np.float32)
    i32, b = m.arr(np.arange(6, dtype=np.int32).reshape(2, 3)), m.arr(np.ones((2, 3), bool))
    i8, u8 = m.arr(np.ones((2, 3), np.int8)), m.arr(np.ones((2, 3), np.uint8))
    out = [m.np.stack([f64, f32]), m.np.stack([f32, i32], axis=-1),
           m.np.concatenate([i32, b]), m.np.concatenate([i8, u8], axis=1),
           m.np.concatenate([f32, i32, b], axis=None), m.np.vstack([f32, f32]),
           m.np.hstack([i8, i8]), m.np.dstack([f64, i32]),
           m.np.column_stack([m.arr(np.arange(3, dtype=np.int32)), m.arr(np.ones(3, bool))]),
           m.np.stack([f32, f32], axis=2), m.np.concatenate([f64, m.arr(np.zeros((0, 3)))]),
           m.np.stack([i32, i32], dtype=np.float32)]
    if not m.jaxlike:  # (jax.numpy's concatenate has no casting)
        out.append(m.np.concatenate([i32, b], dtype=np.int8, casting="unsafe"))
    if m.name != "numpy":
        # documented: an integer array with a float array gives the float's dtype
        assert np.asarray(out[1]).dtype == np.float32
        assert np.asarray(out[4]).dtype == np.float32
    return out


@fcase(grad=lambda m: (lambda x, y: m.np.meshgrid(x, y, indexing="ij"), (_R(41, 3), _R(42, 2))))
def meshgrid(m):
    x, y, z = m.arr(_R(41, 3)), m.arr(_R(42, 2)), m.arr(np.arange(4))
    return [m.np.meshgrid(x, y), m.np.meshgrid(x, y, indexing="ij"),
            m.np.meshgrid(x, y, z, sparse=True), m.np.meshgrid(x, z, indexing="ij", sparse=True),
            m.np.meshgrid(x), m.np.meshgrid()]


@fcase(grad=lambda m: (lambda a, b: [m.np.linspace(a, b, 5), m.np.logspace(a, b, 4),
                                     m.np.geomspace(m.np.exp(a), m.np.exp(b), 4)],
                       (np.array([0.0, 1.0]), np.array([2.0, -1.0]))))
def linspace_logspace_geomspace(m):
    a, b = m.arr(np.array([0.0, 1.0])), m.arr(np.array([2.0, -1.0]))
    out = [m.np.linspace(0.0, 1.0, 5), m.np.linspace(0.0, 1.0, 5, endpoint=False),
           m.np.linspace(2, 10, 5, retstep=True), m.np.linspace(0.0, 1.0, 1),
           m.np.linspace(0.0, 1.0, 0), m.np.linspace(a, b, 4), m.np.linspace(a, b, 4, axis=1),
           m.np.linspace(0, 10, 4, dtype=np.int64), m.np.linspace(-3, 3, 4, dtype=np.int32),
           m.np.linspace(0.0, 1.0, 2, endpoint=False, retstep=True),
           m.np.logspace(0.0, 2.0, 3), m.np.logspace(0.0, 2.0, 4, endpoint=False),
           m.np.logspace(1.0, 3.0, 3, base=2.0), m.np.logspace(a, b, 3, base=3.0),
           m.np.geomspace(1.0, 1000.0, 4), m.np.geomspace(1.0, 1000.0, 3, endpoint=False),
           m.np.geomspace(-1.0, -100.0, 3), m.np.geomspace(1j, 1000j, 4),
           m.np.geomspace(2.0, 2.0, 3), m.np.geomspace(1, 256, 9, dtype=np.int64),
           m.np.geomspace(m.arr([1.0, 10.0]), m.arr([100.0, 1000.0]), 3, axis=1)]
    return out


@fcase()
def arange_dtypes(m):
    out = [m.np.arange(5), m.np.arange(2, 7), m.np.arange(0.0, 1.0, 0.25),
           m.np.arange(1, 2, 0.3), m.np.arange(5, dtype=np.float32),
           m.np.arange(10, 0, -3), m.np.arange(0), m.np.arange(3, 1),
           m.np.arange(0, 5, 2, dtype=np.int8), m.np.arange(1.5), m.np.arange(-2.5, 2.5)]
    return out


@fcase(jax_dtypes=False,
       grad=lambda m: (lambda x: [m.np.tril(x, -1), m.np.triu(x, 1), m.np.tril(x, 5)],
                       (_R(43, 3, 4),)))
def tri_tril_triu(m):
    x = m.arr(_R(43, 2, 3, 4))
    return [m.np.tri(3), m.np.tri(3, 5, 1), m.np.tri(4, 2, -1), m.np.tri(3, dtype=np.int32),
            m.np.tril(x), m.np.tril(x, -1), m.np.tril(x, 2), m.np.triu(x, -2),
            m.np.triu(x, 10), m.np.tril(m.arr(np.arange(12).reshape(3, 4)), 1)]


@fcase(grad=lambda m: (lambda x: [m.np.diag(x, 1), m.np.diagonal(x, -1), m.np.trace(x, 1)],
                       (_R(44, 3, 4),)))
def diag_diagonal_trace(m):
    x, v = m.arr(_R(44, 3, 4)), m.arr(_R(45, 3))
    x3 = m.arr(_R(46, 2, 3, 4))
    xi = m.arr(np.arange(12, dtype=np.int32).reshape(3, 4))
    return [m.np.diag(x), m.np.diag(x, 1), m.np.diag(x, -2), m.np.diag(x, 9), m.np.diag(v),
            m.np.diag(v, -1), m.np.diagonal(x), m.np.diagonal(x, 2),
            m.np.diagonal(x3, 1, 0, 2), m.np.diagonal(x3, -1, 2, 1), m.np.trace(x),
            m.np.trace(x, -1), m.np.trace(x3, 0, 1, 2), m.np.trace(xi), m.np.trace(xi, 1),
            m.np.trace(x, dtype=np.float32), m.np.diagflat(v, 1)]


@fcase()
def isclose_allclose(m):
    a = m.arr(np.array([1.0, np.nan, np.inf, -np.inf, 1e-9, 1.0, 0.0]))
    b = m.arr(np.array([1.0 + 1e-9, np.nan, np.inf, np.inf, 0.0, 1.1, 1e-300]))
    i = m.arr(np.array([1, 2, 3], dtype=np.int32))
    return [m.np.isclose(a, b), m.np.isclose(a, b, equal_nan=True),
            m.np.isclose(a, b, rtol=0.2), m.np.isclose(a, b, atol=1e-8),
            m.np.isclose(i, m.arr(np.array([1, 3, 3]))), m.np.isclose(i, 2.0000001),
            m.np.isclose(m.arr(np.array([1 + 1j, np.nan + 0j])), m.arr(np.array([1 + 1j, np.nan])),
                         equal_nan=True),
            bool(m.np.allclose(a[:2], b[:2], equal_nan=True)), bool(m.np.allclose(i, i)),
            bool(m.np.allclose(a, b))]


@fcase(grad=lambda m: (lambda x: m.np.nan_to_num(x * 2.0), (np.array([0.5, -1.0, 3.0]),)))
def nan_to_num(m):
    x = m.arr(np.array([np.nan, np.inf, -np.inf, 1.5, -0.0]))
    xc = m.arr(np.array([complex(np.nan, np.inf), complex(1, -np.inf)]))
    xf = m.arr(np.array([np.nan, np.inf, -np.inf]), np.float32)
    return [m.np.nan_to_num(x), m.np.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0),
            m.np.nan_to_num(xc), m.np.nan_to_num(xc, nan=2.0), m.np.nan_to_num(xf),
            m.np.nan_to_num(m.arr(np.arange(3)))]


@fcase(jax_dtypes=False)
def searchsorted_digitize(m):
    a = m.arr(np.array([1.0, 2.0, 2.0, 3.0, 5.0]))
    v = m.arr(np.array([[0.0, 2.0, 2.5], [5.0, 6.0, 1.0]]))
    unsorted = m.arr(np.array([3.0, 1.0, 2.0]))
    sorter = m.arr(np.array([1, 2, 0]))
    bins_dec = m.arr(np.array([5.0, 3.0, 2.0, 1.0]))
    return [m.np.searchsorted(a, v), m.np.searchsorted(a, v, side="right"),
            m.np.searchsorted(a, 2.0), m.np.searchsorted(unsorted, v, sorter=sorter),
            m.np.searchsorted(unsorted, v, side="right", sorter=sorter),
            m.np.digitize(v, a), m.np.digitize(v, a, right=True), m.np.digitize(v, bins_dec),
            m.np.digitize(v, bins_dec, right=True)]


@fcase(grad=lambda m: (lambda w: m.np.bincount(np.array([0, 1, 1, 3]), weights=w,
                                                minlength=5), (_R(47, 4),)))
def bincount(m):
    x = m.arr(np.array([0, 1, 1, 3, 2, 1, 7]))
    w = m.arr(_R(47, 7))
    return [m.np.bincount(x), m.np.bincount(x, weights=w), m.np.bincount(x, minlength=10),
            m.np.bincount(x, minlength=3), m.np.bincount(m.arr(np.zeros(0, np.int64))),
            m.np.bincount(m.arr(np.array([True, False, True])))]


@fcase(np_ref=False)
def bincount_length(m):
    # jax.numpy's ``length`` (a fixed size for jit): counts past it are dropped
    x = m.arr(np.array([0, 1, 1, 3, 2, 1, 7]))
    got = [m.np.bincount(x, length=4), m.np.bincount(x, length=9)]
    np.testing.assert_array_equal(np.asarray(got[0]), [1, 3, 1, 1])
    np.testing.assert_array_equal(np.asarray(got[1]), [1, 3, 1, 1, 0, 0, 0, 1, 0])
    return got


@fcase(grad=lambda m: (lambda x: m.np.unique(x), (np.array([3.0, 1.0, 2.0, 1.5]),)),
       jax_grad="JAX 0.10's unique has a zero derivative; functrans's is that of the "
                "elements selected (checked against finite differences)")
def unique_variants(m):
    x = m.arr(np.array([3.0, 1.0, 3.0, 2.0, 1.0, np.nan, np.nan]))
    r = m.arr(np.array([[1, 2], [0, 5], [1, 2], [0, 5], [0, 1]]))
    u = m.np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    out = [m.np.unique(x), list(u), m.np.unique(x, equal_nan=False),
           list(m.np.unique(r, axis=0, return_counts=True, return_inverse=True)),
           m.np.unique(r), m.np.unique_values(x), list(m.np.unique_counts(x)),
           list(m.np.unique_inverse(r)), list(m.np.unique_all(x))]
    return out


@fcase(grad=lambda m: (lambda x: [m.np.sort(x, axis=0), m.np.sort(x, axis=None)],
                       (_R(48, 3, 4),)))
def sort_argsort_stable_descending(m):
    x = m.arr(np.array([[3.0, 1.0, 2.0, 1.0], [np.nan, -1.0, 5.0, -1.0]]))
    xi = m.arr(np.array([2, 1, 2, 0, 1, 2]))
    out = [m.np.sort(x), m.np.sort(x, axis=0), m.np.sort(x, axis=None),
           m.np.argsort(x), m.np.argsort(x, axis=0), m.np.argsort(xi, stable=True),
           m.np.sort(xi, stable=True)]
    if not m.jaxlike:  # (NumPy's kind=; jax.numpy refuses it)
        out.append(m.np.argsort(xi, kind="stable"))
    if m.name != "numpy":
        # descending (the Array API's): stable keeps ties in order of appearance
        desc = [m.np.sort(x, descending=True), m.np.argsort(xi, stable=True, descending=True)]
    else:
        desc = [np.flip(np.sort(np.asarray(x)), -1),
                np.array([0, 2, 5, 1, 4, 3])]
    return out + desc


@fcase(np_ref=False, grad=lambda m: (lambda x: m.np.partition(x, 2), (_R(49, 6),)),
       jax_grad="the order within each side is unspecified, so are the Jacobian's rows")
def partition_argpartition(m):
    # the order within each side is unspecified (NumPy's and JAX's differ): the k-th
    # element and the two sides as sets are what both promise
    xn = np.array([[5.0, 1.0, 4.0, 2.0, 3.0, 0.0], [9.0, 7.0, 8.0, 6.0, 5.0, 4.0]])
    x = m.arr(xn)
    out = []
    for k in (0, 2, 5, -1):
        p = np.asarray(m.np.partition(x, k, axis=1))
        ip = np.asarray(m.np.argpartition(x, k, axis=1))
        s = np.sort(xn, axis=1)
        kk = k % 6
        for q in (p, np.take_along_axis(xn, ip, 1)):
            np.testing.assert_array_equal(q[:, kk], s[:, kk])
            np.testing.assert_array_equal(np.sort(q[:, :kk], 1), s[:, :kk])
            np.testing.assert_array_equal(np.sort(q[:, kk:], 1), s[:, kk:])
        out.append(p[:, kk])
    return out


@fcase()
def lexsort(m):
    a = m.arr(np.array([1, 5, 1, 4, 3, 4, 4]))
    b = m.arr(np.array([9, 4, 0, 4, 0, 2, 1]))
    c = m.arr(np.array([[3.0, 1.0, 2.0], [1.0, 1.0, 0.0]]))
    return [m.np.lexsort((b, a)), m.np.lexsort((a, b)), m.np.lexsort(c),
            m.np.lexsort(c, axis=0), m.np.lexsort((a,))]


@fcase(jax_dtypes=False,
       grad=lambda m: (lambda w: m.np.histogram(np.array([0.1, 0.5, 0.7, 2.0]), bins=3,
                                                 weights=w, density=True)[0], (_R(50, 4),)))
def histogram_edges(m):
    x = m.arr(np.array([0.1, 0.5, 0.5, 0.7, 2.0, 3.0, -1.0]))
    w = m.arr(np.abs(_R(50, 7)))
    return [list(m.np.histogram(x)), list(m.np.histogram(x, bins=3)),
            list(m.np.histogram(x, bins=m.arr([0.0, 0.5, 1.0, 3.0]))),
            list(m.np.histogram(x, bins=4, range=(0.0, 2.0))),
            list(m.np.histogram(x, bins=3, density=True)),
            list(m.np.histogram(x, bins=3, weights=w)),
            m.np.histogram_bin_edges(x, bins=5), m.np.histogram_bin_edges(x, 3, range=(-2, 2)),
            list(m.np.histogram(m.arr(np.array([1.0, 1.0])), bins=2))]


@fcase()
def gcd_lcm(m):
    a = m.arr(np.array([12, -18, 0, 7, 0, 21], dtype=np.int64))
    b = m.arr(np.array([8, 24, 5, -14, 0, 6], dtype=np.int64))
    s = m.arr(np.array([4, 6], dtype=np.int32))
    return [m.np.gcd(a, b), m.np.lcm(a, b), m.np.gcd(a, 6), m.np.lcm(s, m.arr(np.array([[3], [10]],
                                                                               dtype=np.int32))),
            m.np.gcd(m.arr(np.array([100], dtype=np.uint8)), m.arr(np.array([75], np.uint8)))]


@fcase(grad=lambda m: (lambda x: [m.np.frexp(x)[0], m.np.ldexp(x, np.array([1, -2, 3])),
                                  *m.np.modf(x), *m.np.divmod(x, 0.7)],
                       (np.array([0.3, -2.5, 7.25]),)))
def frexp_ldexp_modf_divmod(m):
    # (a subnormal, and modf's fractional part of inf: JAX 0.10 is off, pinned below)
    x = m.arr(np.array([0.0, -0.0, 1.0, -2.5, 1e-300 if m.jaxlike else 1e-310, 1e300,
                        7.0 if m.jaxlike else np.inf, np.nan, 0.75]))
    xf = m.arr(np.array([3.0, -0.1, 1e-30 if m.jaxlike else 1e-40], np.float32))
    e = m.arr(np.array([1, -2, 3, 0, 10, -1030, 1, 0, 2000], dtype=np.int32))
    a = m.arr(np.array([7.5, -7.5, 7.5, -7.5, 0.0]))
    b = m.arr(np.array([2.0, 2.0, -2.0, -2.0, 3.0]))
    ia, ib = m.arr(np.array([7, -7, 7, -7])), m.arr(np.array([2, 2, -2, -2]))
    return [list(m.np.frexp(x)), list(m.np.frexp(xf)), m.np.ldexp(x, e),
            m.np.ldexp(xf, m.arr(np.array([2, -3, 10], np.int32))), list(m.np.modf(x)),
            list(m.np.modf(xf)), list(m.np.divmod(a, b)), list(m.np.divmod(ia, ib)),
            list(m.np.divmod(a, 0.5))]


@fcase(jax_dtypes=False,
       grad=lambda m: (lambda x, y: [m.np.float_power(x, y), m.np.sinc(x), m.np.i0(x),
                                     m.np.heaviside(x - 1.0, y)],
                       (np.array([0.5, 1.5, 2.5]), np.array([0.3, -1.2, 2.0]))))
def float_power_heaviside_sinc_i0(m):
    x = m.arr(np.array([0.0, 0.5, -1.5, 2.0, 3.0]))
    xi = m.arr(np.array([2, 3, -1, 0, 4], dtype=np.int32))
    xf = m.arr(np.array([0.0, 0.5, 3.0], np.float32))
    return [m.np.float_power(xi, 2), m.np.float_power(m.np.abs(x), -0.5),
            m.np.float_power(xf, xf), m.np.float_power(m.arr(np.array([-8.0 + 0j])), 1 / 3),
            m.np.heaviside(x - 0.5, 0.5), m.np.heaviside(xi, 7), m.np.heaviside(x, x),
            m.np.sinc(x), m.np.sinc(xf), m.np.sinc(m.arr(np.array([0.0, 1e-12, 1e-5]))),
            m.np.i0(x), m.np.i0(xf), m.np.i0(m.arr(np.array([30.0, -700.0])))]


@fcase(grad=lambda m: (lambda x: m.np.unwrap(x, period=4.0), (np.array([0.0, 1.5, 3.9, 4.2,
                                                                         -3.5, 2.0]),)))
def unwrap(m):
    p = m.arr(np.cumsum(_R(51, 3, 10) * 2.5, axis=-1))
    return [m.np.unwrap(p), m.np.unwrap(p, axis=0), m.np.unwrap(p, discont=4.0),
            m.np.unwrap(p, period=4.0), m.np.unwrap(p, discont=1.0, period=3.0),
            m.np.unwrap(m.arr(np.array([0, 3, 7, 10, 14, 20]))),
            m.np.unwrap(m.arr(np.array([0, 3, 7, 10, 14, 20])), period=6)]


@fcase(grad=lambda m: (lambda x, y: [m.np.corrcoef(x), m.np.cov(x, y, ddof=0),
                                     m.np.cov(x, aweights=np.array([1.0, 2.0, 0.5, 1.0, 3.0]))],
                       (_R(52, 3, 5), _R(53, 5))), tol=1e-9)
def corrcoef_cov(m):
    x, y = m.arr(_R(52, 3, 5)), m.arr(_R(53, 5))
    fw = m.arr(np.array([1, 2, 1, 3, 1]))
    aw = m.arr(np.array([1.0, 0.5, 2.0, 1.0, 0.2]))
    return [m.np.cov(x), m.np.cov(x, rowvar=False), m.np.cov(x, bias=True),
            m.np.cov(x, ddof=2), m.np.cov(x, y), m.np.cov(x, fweights=fw),
            m.np.cov(x, aweights=aw), m.np.cov(x, fweights=fw, aweights=aw, ddof=0),
            m.np.cov(y), m.np.corrcoef(x), m.np.corrcoef(x, y), m.np.corrcoef(x.T, rowvar=False),
            m.np.cov(m.arr(np.arange(5)))]


@fcase(np_ref=False, jax_dtypes=False)  # (JAX's searchsorted/digitize: int32)
def jax_keywords(m):
    # jax.numpy's keywords: size/fill_value of the unique_* functions (fixed-size results,
    # unique's NaN handling of the Array API: each NaN its own value), search methods,
    # polyval's unroll, preferred_element_type of convolve/correlate, dstack's dtype
    xn = np.array([[3.0, 1.0, 3.0], [np.nan, 1.0, np.nan]])
    x = m.arr(xn)
    out = [list(m.np.unique_all(x, size=3)), list(m.np.unique_counts(x, size=6, fill_value=-1.0)),
           list(m.np.unique_inverse(x, size=8)), m.np.unique_values(x, size=2),
           m.np.searchsorted(m.arr(np.arange(4.0)), m.arr([0.5, 2.0]), side="right",
                             method="sort"),
           m.np.digitize(m.arr([0.5, 2.5]), m.arr(np.arange(4.0)), method="compare_all"),
           m.np.polyval(m.arr([1.0, -2.0, 3.0]), m.arr([0.5, 2.0]), unroll=2),
           m.np.convolve(m.arr(np.arange(4)), m.arr(np.arange(2)),
                         preferred_element_type=np.float64),
           m.np.correlate(m.arr([1.0, 2.0, 3.0]), m.arr([0.5, 1.0]), mode="full",
                          precision="highest"),
           m.np.dstack([m.arr(np.arange(2)), m.arr(np.arange(2))], dtype=np.float32),
           m.np.polymul(m.arr([0.0, 1.0, 2.0]), m.arr([0.0, 3.0]), trim_leading_zeros=False),
           list(m.np.polydiv(m.arr([1.0, 2.0, 3.0, 4.0]), m.arr([1.0, 1.0]),
                             trim_leading_zeros=False))]
    vals, idx, inv, cnt = (np.asarray(a) for a in out[0])
    np.testing.assert_array_equal(vals, [1.0, 3.0, np.nan])  # (NaNs distinct, cut at 3)
    np.testing.assert_array_equal(cnt, [2, 2, 1])
    v8, inv8 = (np.asarray(a) for a in out[2])
    np.testing.assert_array_equal(v8[inv8.reshape(xn.shape)], xn)
    np.testing.assert_array_equal(np.asarray(out[1][0]), [1.0, 3.0, np.nan, np.nan, -1.0, -1.0])
    np.testing.assert_array_equal(np.asarray(out[1][1]), [2, 2, 1, 1, 0, 0])
    np.testing.assert_array_equal(np.asarray(out[4]), np.searchsorted(np.arange(4.0), [0.5, 2.0],
                                                                      side="right"))
    np.testing.assert_array_equal(np.asarray(out[5]), np.digitize([0.5, 2.5], np.arange(4.0)))
    np.testing.assert_allclose(np.asarray(out[6]), np.polyval([1.0, -2.0, 3.0], [0.5, 2.0]))
    assert np.asarray(out[7]).dtype == np.float64
    np.testing.assert_array_equal(np.asarray(out[7]), np.convolve(np.arange(4), np.arange(2)))
    np.testing.assert_allclose(np.asarray(out[8]), np.correlate([1.0, 2.0, 3.0], [0.5, 1.0],
                                                                 "full"))
    assert np.asarray(out[9]).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(out[10]), np.convolve([0.0, 1.0, 2.0], [0.0, 3.0]))
    q, r = np.polydiv([1.0, 2.0, 3.0, 4.0], [1.0, 1.0])
    np.testing.assert_allclose(np.asarray(out[11][0]), q)
    np.testing.assert_allclose(np.asarray(out[11][1]), np.concatenate([np.zeros(3), r]),
                               atol=1e-14)  # (the whole remainder, as jax.numpy's)
    return out


FCASE_IDS = list(FUNCS)


@pytest.mark.parametrize("name", FCASE_IDS)
def test_function_vs_numpy(name, backend):
    c = FUNCS[name]
    if backend.id == "array_api_strict@device1" and name not in ("pad_every_mode", "clip",
                                                                  "unique_variants"):
        pytest.skip("(the second strict device: a few cases are enough)")
    got = _call(c.fn, [_ft_on(backend)])
    if c.np_ref:
        want = _call(c.fn, [NP])
        compare(got, want, c.tol, dtypes=c.dtypes, to_np=backend.to_numpy, what=name)


GRAD_IDS = [n for n, c in FUNCS.items() if c.grad]


@pytest.mark.parametrize("name", GRAD_IDS)
def test_function_derivatives(name):
    """First and second order, float64: JVP vs central differences, VJP by the dot-product
    identity."""
    f, args = FUNCS[name].grad(_lib("functrans", fnp, np.asarray))
    check_grads(f, args, order=2)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax, jnp


@pytest.mark.parametrize("name", FCASE_IDS)
def test_function_vs_jax(name):
    """The same case through jax.numpy (x64): values, and dtypes where JAX follows NumPy."""
    _, jnp = _jax()
    c = FUNCS[name]
    if not c.jax:
        pytest.skip("(the case pins a difference from JAX: see its test)")
    got = _call(c.fn, [_lib("functrans", fnp, lambda x, dtype=None: np.asarray(x, dtype),
                            jaxlike=True)])
    want = _call(c.fn, [_lib("jax", jnp, lambda x, dtype=None: jnp.asarray(x, dtype),
                             jaxlike=True)])
    compare(got, want, c.tol, dtypes=c.dtypes and c.jax_dtypes, what=name)


def test_where_functrans_and_jax_differ():
    """Pinned differences (docs/coming-from-jax.md): functrans gives NumPy's answer."""
    _, jnp = _jax()
    i32 = np.arange(1, 5, dtype=np.int32)
    pairs = [  # (functrans's, JAX's, NumPy's dtype)
        (fnp.diff(i32, prepend=0), jnp.diff(i32, prepend=0), np.int64),
        (fnp.cumsum(i32), jnp.cumsum(i32), np.int64),
        (fnp.tri(2), jnp.tri(2), np.float64),
        (fnp.searchsorted(i32, 2), jnp.searchsorted(i32, 2), np.int64),
        (fnp.histogram(i32, 2)[0], jnp.histogram(i32, 2)[0], np.int64),
        (fnp.float_power(i32, 2), jnp.float_power(i32, 2), np.float64),
    ]
    for mine, theirs, numpy_dtype in pairs:
        assert np.asarray(mine).dtype == numpy_dtype != np.asarray(theirs).dtype
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    # frexp of a subnormal: JAX 0.10's mantissa is off, functrans's is NumPy's
    x = np.array([1e-310, 5e-324])
    for a, b in zip(fnp.frexp(x), np.frexp(x)):
        np.testing.assert_array_equal(np.asarray(a), b)
    assert not np.array_equal(np.asarray(jnp.frexp(x)[0]), np.frexp(x)[0])
    # maximum/minimum of complex numbers with a NaN: NumPy's and functrans's propagate it
    z = np.array([complex(np.nan, 1.0), 2 + 1j])
    w = np.array([1 + 0j, complex(1.0, np.nan)])
    for name in ("maximum", "minimum"):
        mine, ref = getattr(fnp, name)(z, w), getattr(np, name)(z, w)
        assert np.isnan(mine).all() and np.isnan(ref).all()
        assert not np.isnan(np.asarray(getattr(jnp, name)(z, w))).all()
    # sign of a complex number with an infinite part: NumPy's limit (JAX: nan)
    z = np.array([complex(np.inf, 1.0), complex(2.0, -np.inf)])
    np.testing.assert_array_equal(fnp.sign(z), np.sign(z))
    np.testing.assert_array_equal(fnp.sign(z), [1, -1j])
    assert np.isnan(np.asarray(jnp.sign(z))).all()
    # an integer base to a 0-d exponent array of a wider integer type: NumPy's promotion
    # (JAX keeps the base's type for a concrete 0-d exponent, and overflows)
    b, e = np.array([4, 5], np.int8), np.asarray(4, np.int64)
    assert fnp.power(b, e).dtype == np.power(b, e).dtype == np.int64
    np.testing.assert_array_equal(fnp.power(b, e), [256, 625])
    assert jnp.power(b, e).dtype == np.int8
    # modf of infinities: NumPy's fractional part is a signed zero (JAX: nan)
    x = np.array([np.inf, -np.inf])
    for a, b in zip(fnp.modf(x), np.modf(x)):
        np.testing.assert_array_equal(np.asarray(a), b)
    assert np.isnan(np.asarray(jnp.modf(x)[0])).all()
    # what jax.numpy refuses and functrans takes, as NumPy does
    xi = np.array([15, 25, 149])
    np.testing.assert_array_equal(fnp.round(xi, -1), np.round(xi, -1))
    with pytest.raises(NotImplementedError):
        jnp.round(xi, -1)
    np.testing.assert_array_equal(fnp.split(np.arange(4.0), [3, 1])[1], np.zeros(0))
    with pytest.raises(ValueError):
        jnp.split(np.arange(4.0), [3, 1])
    np.testing.assert_array_equal(fnp.argsort(xi, kind="stable"), [0, 1, 2])
    with pytest.raises(TypeError):
        jnp.argsort(xi, kind="stable")


def test_operators_on_every_backend(backend):
    """The operators of tracers holding the backend's arrays (inside ``jit``), against
    NumPy's."""
    rng = np.random.default_rng(4)
    bad = []
    for name, dtypes, domain in OPERATORS + RIGHT_OPERATORS:
        d = F64 if F64 in dtypes else I64
        shapes = _operator_shapes(name)[0]
        args = [make(rng, s, d, domain) for s in shapes]
        right = name.startswith("__r") and name != "__rshift__"
        base = "__" + name[3:] if right else name
        want = np.asarray(_call(_operator_fn(base), args))
        xs = [backend.asarray(a, dtype=d) for a in args]
        if len(xs) == 1:
            f = lambda a: getattr(a, name)()  # noqa: E731
        elif right:
            x0 = xs[0]
            f = lambda b: getattr(b, name)(x0)  # noqa: E731
            xs = xs[1:]
        else:
            f = lambda a, b: getattr(a, name)(b)  # noqa: E731
        try:
            got = ft.jit(f)(*xs)
        except Exception as e:  # noqa: BLE001
            bad.append(f"{name}: raised {type(e).__name__}: {e}"[:300])
            continue
        g = backend.to_numpy(got)
        if g.dtype != want.dtype:
            bad.append(f"{name}: dtype {g.dtype} != NumPy's {want.dtype}")
        m = mismatch(g, want, 1e-12)
        if m:
            bad.append(f"{name}: {m}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", GRAD_IDS)
def test_function_derivatives_vs_jax(name):
    """The Jacobians of the same function through both libraries (forward mode; and the
    second derivative along a random direction)."""
    jax, jnp = _jax()
    if FUNCS[name].jax_grad:
        pytest.skip(FUNCS[name].jax_grad)
    f_ft, args = FUNCS[name].grad(_lib("functrans", fnp, np.asarray, jaxlike=True))
    f_jx, _ = FUNCS[name].grad(_lib("jax", jnp, jnp.asarray, jaxlike=True))
    argnums = tuple(range(len(args)))
    try:
        want = jax.jacfwd(f_jx, argnums)(*args)
    except jax.errors.ConcretizationTypeError:
        # (jax.numpy's unique, bincount and histogram need a static size under its
        # transforms; functrans differentiates them eagerly: checked in
        # test_function_derivatives)
        pytest.skip("JAX cannot trace this call without a static size")
    got = ft.jacfwd(f_ft, argnums)(*args)
    compare(got, want, 1e-9, dtypes=False, what=name)
    v = tuple(np.random.default_rng(5).normal(size=np.shape(a)) for a in args)

    def second(L, f):
        return L.jvp(lambda *a: L.jvp(f, a, v)[1], args, v)[1]
    compare(second(ft, f_ft), second(jax, f_jx), 1e-8, dtypes=False, what=name + " (2nd)")


@pytest.mark.parametrize("name", GRAD_IDS)
def test_function_under_jit_and_vmap(name):
    """The differentiable calls staged by ``jit`` give the eager values, and ``vmap`` over a
    stack of two inputs gives each member's."""
    f, args = FUNCS[name].grad(_lib("functrans", fnp, np.asarray))
    want = f(*args)
    if name == "unique_variants":  # (the result's size depends on the values: size= needed)
        from functrans.errors import ConcretizationError
        with pytest.raises(ConcretizationError, match="size"):
            ft.jit(f)(*args)
        return
    compare(ft.jit(f)(*args), want, 1e-12, what=name + " (jit)")
    stacked = tuple(np.stack([a, a * 0.5 + 0.25]) for a in args)
    got = ft.vmap(f)(*stacked)
    second = f(*(a * 0.5 + 0.25 for a in args))
    for i, w in enumerate((want, second)):
        compare(optree.tree_map(lambda x: np.asarray(x)[i], got), w, 1e-12,
                what=f"{name} (vmap member {i})")


def test_equality_predicates_under_jit_and_vmap(backend):
    """allclose, array_equal and array_equiv: Python bools of concrete values (NumPy's), 0-d
    boolean arrays of staged and batched ones (jax.numpy's), so they work under jit and
    vmap as JAX's."""
    x = backend.asarray([1.0, 2.0, np.nan])
    y = backend.asarray([1.0, 2.5, np.nan])
    fns = [lambda a, b: fnp.allclose(a, b, equal_nan=True),
           lambda a, b: fnp.array_equal(a, b, equal_nan=True), fnp.array_equiv]
    for f in fns:
        for a, b in ((x, x), (x, y)):
            want = f(a, b)
            assert type(want) is bool
            assert want == bool(f(backend.to_numpy(a), backend.to_numpy(b)))
            assert bool(backend.to_numpy(ft.jit(f)(a, b))) == want
        xs = backend.asarray(np.stack([backend.to_numpy(x), backend.to_numpy(y)]))
        got = backend.to_numpy(ft.vmap(f, in_axes=(None, 0))(x, xs))
        np.testing.assert_array_equal(got, [f(x, x), f(x, y)])
    assert ft.jit(fnp.array_equal)(x, backend.asarray([1.0])) is False  # (shapes differ)


# JAX 0.10's values that differ from NumPy's (functrans gives NumPy's; see the report)
_JAX_VALUE_DIFFERS = {}


def _jax_differs(name, dts):
    """Where JAX 0.10's values differ from NumPy's by design or by a bug, each pinned in
    test_where_functrans_and_jax_differ."""
    complex_ = any(_kind(d) == "c" for d in dts)
    return ((name in ("maximum", "minimum") and complex_)  # complex NaN not propagated
            or (name == "sign" and complex_)  # nan at an infinite part (NumPy: the limit)
            or (name in ("pow", "power") and len(set(dts)) > 1
                and all(_kind(d) in "iu" for d in dts)))  # (JAX keeps the base's type)


@pytest.mark.parametrize("op", TABLE, ids=TABLE_IDS)
def test_table_vs_jax(op):
    """The same operations through jax.numpy (x64): values agree (in the less precise of
    the two dtypes). Dtypes are checked against NumPy's, with functrans's documented
    promotion, in test_table_values_and_dtypes_vs_numpy (JAX's differ where it keeps
    narrower types: float_power of float32, exp of int32...)."""
    _, jnp = _jax()
    if op.name in _JAX_VALUE_DIFFERS:
        pytest.skip(_JAX_VALUE_DIFFERS[op.name])
    fop, jop = getattr(fnp, op.name), getattr(jnp, op.name, None)
    if jop is None:
        pytest.skip(f"jax.numpy 0.10 has no {op.name}")
    bad = []
    keep = {((3, 1), (1, 4)), ((2, 1, 4),), ((3, 4), PY), ((4,), ()), ((3,), (3, 4)),
            ((3,), (2,)), ((4,),)}
    for dts, shapes, args in _table_cases(op):
        if shapes not in keep or any(d in (F16, I8, U32) for d in dts):
            continue
        if _jax_differs(op.name, dts):
            continue
        what = f"{op!r}{tuple(dts)}{tuple(shapes)}"
        try:
            want = _call(lambda *a: jop(*a, **op.kwargs),
                         [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
        except (TypeError, ValueError, NotImplementedError):
            continue  # (what JAX refuses is checked against NumPy above)
        got = _call(lambda *a: fop(*a, **op.kwargs), args)
        for g, w in zip(_leaves(got), _leaves(want)):
            g, w = np.asarray(g), np.asarray(w)
            if w.dtype != g.dtype and w.dtype.kind in "fc" and g.dtype.kind in "fc":
                g = g.astype(np.promote_types(g.dtype, w.dtype))
            m = mismatch(g, w.astype(g.dtype) if g.dtype.kind in "fc" else w,
                         tol_of(*dts, g.dtype, w.dtype))
            if m:
                bad.append(f"{what}: {m}")
    assert not bad, "\n".join(bad[:20])


def test_geomspace_keeps_float32():
    # deliberate: NumPy's geomspace (alone of the three) widens float32 endpoints to float64;
    # functrans keeps float32 as linspace, logspace and jax.numpy's geomspace do
    a, b = np.float32(1.0), np.float32(100.0)
    for f in (fnp.linspace, fnp.logspace, fnp.geomspace):
        assert f(a, b, 3).dtype == np.float32
    assert np.geomspace(a, b, 3).dtype == np.float64
    np.testing.assert_allclose(fnp.geomspace(a, b, 3), [1.0, 10.0, 100.0], rtol=1e-6)


def test_abs_and_signbit_of_integers_and_booleans_on_every_backend(backend):
    # NumPy's answers on every library (torch has no boolean abs, array-api-strict no
    # integer signbit): abs of booleans is themselves, signbit of integers x < 0
    for data, d in (([-3, 0, 2], "int8"), ([True, False], "bool"), ([200, 0], "uint8"),
                    ([-0.0, 1.0, -2.0], "float64")):
        x, xn = backend.asarray(data, dtype=d), np.array(data, dtype=d)
        for f, ref in ((fnp.abs, np.abs), (fnp.signbit, np.signbit)):
            for g in (f(x), ft.jit(f)(x)):
                g = backend.to_numpy(g)
                assert g.dtype == ref(xn).dtype
                np.testing.assert_array_equal(g, ref(xn))
