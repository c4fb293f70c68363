"""Data type functions: can_cast, finfo, iinfo, isdtype, result_type, and the inspection
namespace ``__array_namespace_info__``."""

from __future__ import annotations

import math

import numpy as _np

from .. import dtypes as _dt
from ..backends import default as _default_backend
from ..core import _SCALAR_DTYPES, get_aval

_SCALARS = _SCALAR_DTYPES


def _as_dt(x):
    """A functrans DType from a dtype, an array or a tracer."""
    d = _dt.as_dtype(x, strict=False)  # first: a NumPy dtype object has a .shape too
    if d is not None:
        return d
    if hasattr(x, "shape") and not isinstance(x, type):
        return get_aval(x).dtype
    return _to_dtype(x)


def _to_dtype(obj):
    """``dtypes.as_dtype``, also for native dtype objects it does not recognise by identity
    (array-api-strict makes a new dtype object per array): by the name they print as."""
    d = _dt.as_dtype(obj, strict=False)
    if d is None:
        d = _dt.BY_NAME.get(str(obj).rsplit(".", 1)[-1])
    return d if d is not None else _dt.as_dtype(obj)


# The standard's promotion lattice, without cross-kind promotion (can_cast follows it).
def _lattice_promote(a, b):
    if a is b:
        return a
    if (a.kind == "b") != (b.kind == "b"):
        return None
    if (a.kind in "fc") != (b.kind in "fc"):
        return None
    try:
        return _dt.result_type(a, b)
    except TypeError:
        return None


_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")


def can_cast(from_, to, casting="safe"):
    """Whether ``from_`` (a dtype or array) can be cast to ``to``: with ``casting="safe"``
    (the default) by the standard's type promotion rules (no cross-kind casts: int to float
    is ``False``, where NumPy and JAX say ``True``); ``"no"``/``"equiv"`` only to itself,
    ``"same_kind"`` as NumPy's (bfloat16 a float), ``"unsafe"`` always."""
    if casting not in _CASTINGS:
        raise ValueError(f"can_cast: casting must be one of {_CASTINGS}; got {casting!r}")
    f, t = _as_dt(from_), _to_dtype(to)
    if casting == "safe":
        return _lattice_promote(f, t) is t
    if casting == "same_kind":
        as_np = [_np.dtype("float32" if d is _dt.bfloat16 else d.name) for d in (f, t)]
        return bool(_np.can_cast(as_np[0], as_np[1], casting="same_kind"))
    return casting == "unsafe" or f is t


def result_type(*arrays_and_dtypes):
    """The dtype the standard's promotion rules give for these arrays, dtypes and Python
    scalars (scalars are weak: they take the arrays' dtype where their kind allows)."""
    dts = [_as_dt(a) for a in arrays_and_dtypes if type(a) not in _SCALARS]
    scalars = [a for a in arrays_and_dtypes if type(a) in _SCALARS]
    if not dts:
        if not scalars:
            raise ValueError("result_type needs at least one array or dtype")
        return get_aval(scalars[0]).dtype if len(scalars) == 1 else _dt.result_type(
            *[get_aval(s).dtype for s in scalars])
    out = _dt.result_type(*dts)
    for s in scalars:
        out = _dt.scalar_result(out, s)
    return out


class _BinaryFormat:
    """The machine limits of a binary floating-point format with ``nmant`` stored mantissa
    bits and ``nexp`` exponent bits, named as NumPy's ``finfo`` names them."""

    def __init__(self, nmant, nexp):
        self.nmant, self.nexp = nmant, nexp
        self.maxexp = 2 ** (nexp - 1)
        self.minexp = 2 - self.maxexp
        self.machep, self.negep = -nmant, -nmant - 1
        self.eps, self.epsneg = 2.0 ** -nmant, 2.0 ** (-nmant - 1)
        self.max = (2.0 - self.eps) * 2.0 ** (self.maxexp - 1)
        self.min = -self.max
        self.smallest_normal = 2.0 ** self.minexp
        self.smallest_subnormal = 2.0 ** (self.minexp - nmant)
        self.precision = int(-math.log10(self.eps))
        # 10**-precision in the format itself, as NumPy's finfo (and ml_dtypes', which JAX
        # gives) have it: bfloat16's is 0.010009765625, not 0.01 (torch's)
        mant, exp = math.frexp(10.0 ** -self.precision)
        self.resolution = math.ldexp(round(mant * 2.0 ** (nmant + 1)), exp - nmant - 1)


def _bfloat16_info():
    # (NumPy has no bfloat16 to ask: 8 exponent bits as float32's, 7 stored mantissa bits)
    return _BinaryFormat(7, 8)


class finfo_object:
    """Machine limits of a floating-point dtype (as returned by :func:`finfo`)."""

    def __init__(self, dtype):
        d = _dt.real_dtype(dtype)
        info = _bfloat16_info() if d is _dt.bfloat16 else _np.finfo(d.name)
        self.bits = d.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.smallest_normal = float(info.smallest_normal)
        # NumPy's and JAX's other names, which ported code reads (numpyro clamps
        # probabilities to [tiny, 1 - eps])
        self.tiny = self.smallest_normal
        self.smallest_subnormal = float(info.smallest_subnormal)
        self.epsneg = float(info.epsneg)
        self.resolution = float(info.resolution)
        self.precision = int(info.precision)
        self.nmant, self.nexp = int(info.nmant), int(info.nexp)
        self.iexp = self.nexp  # (NumPy's second name for it)
        self.machep, self.negep = int(info.machep), int(info.negep)
        self.minexp, self.maxexp = int(info.minexp), int(info.maxexp)
        self.dtype = d

    def __repr__(self):
        return f"finfo(bits={self.bits}, eps={self.eps}, dtype={self.dtype.name})"


class iinfo_object:
    """Limits of an integer dtype (as returned by :func:`iinfo`)."""

    def __init__(self, dtype):
        info = _np.iinfo(dtype.name)
        self.bits = dtype.bits
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = dtype
        self.kind = info.kind  # 'i' or 'u', as NumPy's and JAX's iinfo

    def __repr__(self):
        return f"iinfo(bits={self.bits}, min={self.min}, max={self.max}, dtype={self.dtype.name})"


def finfo(dtype):
    """Limits of a floating-point dtype (or of an array's dtype): ``bits``, ``eps``, ``max``,
    ``min``, ``smallest_normal``, ``dtype`` (real for complex input), and NumPy's other
    attributes (``tiny``, ``smallest_subnormal``, ``epsneg``, ``resolution``, ``precision``,
    ``nmant``, ``nexp`` (``iexp``), ``machep``, ``negep``, ``minexp``, ``maxexp``), with
    JAX's values (``resolution`` in the dtype: bfloat16's is 0.010009765625)."""
    d = _as_dt(dtype)
    if d.kind not in "fc":
        raise ValueError(f"finfo needs a floating-point dtype; got {d.name}")
    return finfo_object(d)


def iinfo(int_type):
    """Limits of an integer dtype (or of an array's dtype): ``bits``, ``max``, ``min``,
    ``dtype``, ``kind`` (``'i'`` or ``'u'``)."""
    d = _as_dt(int_type)
    if d.kind not in "iu":
        raise ValueError(f"iinfo needs an integer dtype; got {d.name}")
    return iinfo_object(d)


_KINDS = {
    "bool": "b",
    "signed integer": "i",
    "unsigned integer": "u",
    "integral": "iu",
    "real floating": "f",
    "complex floating": "c",
    "numeric": "iufc",
}


def isdtype(dtype, kind):
    """Whether ``dtype`` is of ``kind``: a dtype, one of the standard's kind names ("bool",
    "signed integer", "unsigned integer", "integral", "real floating", "complex floating",
    "numeric"), or a tuple of those."""
    d = _to_dtype(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(d, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; use one of {list(_KINDS)}")
        return d.kind in _KINDS[kind]
    return d is _to_dtype(kind)


class _Info:
    """The inspection namespace of the Array API (``__array_namespace_info__()``)."""

    def capabilities(self):
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": None}

    def default_device(self):
        b = _default_backend()
        return b.device(b.xp.asarray(0))

    def devices(self):
        return [self.default_device()]

    def default_dtypes(self, *, device=None):
        return {"real floating": _dt.float64, "complex floating": _dt.complex128,
                "integral": _dt.int64, "indexing": _dt.int64}

    def dtypes(self, *, device=None, kind=None):
        # the standard's dtypes (float16 and bfloat16 are beyond it, and not on every library)
        out = {d.name: d for d in _dt.STANDARD}
        if kind is not None:
            out = {n: d for n, d in out.items() if isdtype(d, kind)}
        return out


def __array_namespace_info__():
    """The Array API inspection namespace: capabilities, default device and dtypes."""
    return _Info()
