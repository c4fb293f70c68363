"""NumPy's introspection and type names beyond the standard (``ndim``, ``shape``, ``size``,
``isscalar``, ``iscomplexobj``, ``promote_types``, ``issubdtype``, ``common_type``,
``min_scalar_type``, ``mintypecode``), NumPy's bitwise aliases and ``bitwise_count``, and
NumPy's ``asarray`` variants (``asanyarray``, ``ascontiguousarray``, ``asarray_chkfinite``,
``require``), with NumPy's semantics.

They work for every backend's arrays and for tracers. Dtypes are functrans.numpy's dtype
objects (``fnp.float64``...), which compare equal to NumPy's; a native dtype of any backend
(``torch.float32``), a name (``"int8"``) or a Python type (``float``) is accepted wherever a
dtype is. NumPy's abstract scalar classes (``floating``, ``integer``, ``number`` ...) are
exported as they are, for ``issubdtype``. Only ``min_scalar_type`` of a 0-d array and
``asarray_chkfinite`` look at values (see their docstrings).
"""

from __future__ import annotations

import math
import numbers

import numpy as _np  # NumPy's type rules and scalar classes, on dtype names only

from .. import dtypes as _dt
from ..core import Tracer
from ..errors import ConcretizationError
from ..primitives import structural as _st
from ._base import _ufunc_options
from ._base import (_dtype, _normalize_axes, _normalize_axis, _shape, add, astype, less,
                    subtract)
from ._creation import asarray
from ._dtypes import _to_dtype
from ._elementwise import (abs, bitwise_and, bitwise_invert, bitwise_left_shift,
                           bitwise_right_shift, isfinite)

__all__ = ["ndim", "shape", "size", "isscalar", "iscomplexobj", "isrealobj", "iterable",
           "promote_types", "issubdtype", "common_type", "min_scalar_type", "mintypecode",
           "bitwise_not", "invert", "left_shift", "right_shift", "bitwise_count",
           "asanyarray", "ascontiguousarray", "asarray_chkfinite", "require",
           # NumPy's abstract scalar classes (for issubdtype)
           "generic", "number", "integer", "signedinteger", "unsignedinteger", "inexact",
           "floating", "complexfloating", "character", "flexible"]

generic = _np.generic
number = _np.number
integer = _np.integer
signedinteger = _np.signedinteger
unsignedinteger = _np.unsignedinteger
inexact = _np.inexact
floating = _np.floating
complexfloating = _np.complexfloating
character, flexible = _np.character, _np.flexible  # (no functrans dtype is either)

bitwise_not = invert = bitwise_invert
left_shift = bitwise_left_shift
right_shift = bitwise_right_shift

# -- helpers -----------------------------------------------------------------------------------


def _is_array(a):
    """An array of a backend or a tracer (anything with a shape and a dtype, not a class)."""
    return isinstance(a, Tracer) or (hasattr(a, "shape") and hasattr(a, "dtype")
                                     and not isinstance(a, type))


def _array_shape(a):
    """The shape NumPy's ``asarray(a)`` would have, without making one for arrays."""
    if _is_array(a):
        return tuple(_shape(a))
    if isinstance(a, (list, tuple)):
        from ._reshaping import _conv
        return tuple(_shape(_conv(a)))
    return ()


def _np_dtype(d):
    return _np.dtype(d.name)


def _from_np(npd, name):
    d = _dt.BY_NAME.get(_np.dtype(npd).name)
    if d is None:
        raise NotImplementedError(f"{name}: NumPy's answer is {_np.dtype(npd).name}, which "
                                  f"functrans has no dtype for")
    return d


def _dtype_arg(x, name):
    """A functrans DType from a dtype-like argument (or an array's dtype)."""
    if _is_array(x):
        return _dtype(x)
    try:
        return _to_dtype(x)
    except TypeError as e:
        raise TypeError(f"{name}: {x!r} is not a data type functrans knows") from e

# -- shapes and kinds --------------------------------------------------------------------------


def ndim(a):
    """The number of dimensions of ``a`` (an array, a tracer, a nested sequence or a
    scalar: 0)."""
    return len(_array_shape(a))


def shape(a):
    """The shape of ``a`` (an array, a tracer, a nested sequence; ``()`` for a scalar), as a
    tuple of ints."""
    return _array_shape(a)


def size(a, axis=None):
    """The number of elements of ``a``, or along ``axis`` (an int or a tuple of ints: the
    product of their lengths)."""
    s = _array_shape(a)
    if axis is None:
        return math.prod(s)
    if isinstance(axis, (tuple, list)):
        return math.prod(s[i] for i in _normalize_axes(tuple(axis), len(s)))
    return s[_normalize_axis(axis, len(s))]


def isscalar(element):
    """Whether ``element`` is a scalar in NumPy's sense: a Python number, ``str``, ``bytes``,
    ``memoryview`` or a NumPy scalar (never an array, even a 0-d one, nor a tracer)."""
    return (isinstance(element, (_np.generic, numbers.Number, str, bytes, memoryview))
            and not isinstance(element, Tracer))


def iscomplexobj(x):
    """Whether ``x`` has a complex dtype (an array's dtype, or the dtype NumPy gives a
    Python value or nested sequence), whatever its values."""
    if _is_array(x):
        return _dtype(x).kind == "c"
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and _dtype(_asarray_like(x)).kind == "c"
    return isinstance(x, (complex, _np.complexfloating))


def _asarray_like(x):
    """A Python value or nested sequence as the array NumPy would make of it."""
    from ._reshaping import _conv
    return _conv(x)


def isrealobj(x):
    """Whether ``x`` does not have a complex dtype (``not iscomplexobj(x)``)."""
    return not iscomplexobj(x)


def iterable(y):
    """Whether ``iter(y)`` works (a 0-d array or tracer is not iterable)."""
    if _is_array(y) and not isinstance(y, _np.generic):
        return len(_shape(y)) > 0
    try:
        iter(y)
    except TypeError:
        return False
    return True

# -- dtypes ------------------------------------------------------------------------------------


def promote_types(a, b):
    """The smallest dtype to which both dtypes can be cast safely, by NumPy's rules (so
    ``promote_types(float32, int64)`` is float64, and int64 with uint64 is float64), as a
    functrans.numpy dtype."""
    d1, d2 = _dtype_arg(a, "promote_types"), _dtype_arg(b, "promote_types")
    if _dt.bfloat16 in (d1, d2):  # not NumPy's: JAX's and torch's rules (with float16: float32)
        return _dt.result_type(d1, d2)
    return _from_np(_np.promote_types(_np_dtype(d1), _np_dtype(d2)), "promote_types")


def _numpy_only_class(arg):
    """NumPy's scalar class for a dtype NumPy knows and functrans has none of (``'S'``,
    ``'U'``, ``object``, ``np.dtype('M8')``...): issubdtype answers as NumPy for those;
    None otherwise."""
    if arg is None or _is_array(arg):
        return None
    try:
        return _np.dtype(arg).type
    except (TypeError, ValueError):
        return None


def _scalar_class(arg, name):
    if isinstance(arg, type) and issubclass(arg, _np.generic):
        return arg
    try:
        d = _dtype_arg(arg, name)
    except TypeError:
        cls = _numpy_only_class(arg)
        if cls is None:
            raise
        return cls
    return _np_dtype(d).type


def _is_bfloat16(arg):
    """Whether a dtype argument of issubdtype (not one of NumPy's classes) is bfloat16."""
    if isinstance(arg, type) and issubclass(arg, _np.generic):
        return False
    try:
        return _dtype_arg(arg, "issubdtype") is _dt.bfloat16
    except TypeError:
        if _numpy_only_class(arg) is None:
            raise
        return False


def issubdtype(arg1, arg2):
    """Whether the dtype ``arg1`` is lower than or equal to ``arg2`` in NumPy's type
    hierarchy: ``arg2`` may be a dtype (then the test is equality of dtypes) or one of
    NumPy's abstract classes (``fnp.floating``, ``fnp.integer``, ``fnp.number`` ...), or for
    a typed random key's dtype ``functrans.dtypes.prng_key``/``extended``. A dtype that
    NumPy knows and functrans has no arrays of (``'S'``, ``'U'``, ``object``, datetimes) is
    placed in NumPy's hierarchy, as NumPy does (``issubdtype('S', character)`` is true)."""
    if isinstance(arg1, _dt.KeyDType) or isinstance(arg2, _dt.KeyDType):
        return _dt.issubdtype(arg1, arg2)
    if _is_bfloat16(arg1):
        # no NumPy class of its own: a floating type (as in JAX), equal to itself only
        if isinstance(arg2, type) and issubclass(arg2, _np.generic):
            return issubclass(_np.floating, arg2)
        return _is_bfloat16(arg2)
    if _is_bfloat16(arg2):
        return False
    return issubclass(_scalar_class(arg1, "issubdtype"), _scalar_class(arg2, "issubdtype"))


def common_type(*arrays):
    """The floating-point dtype NumPy's ``common_type`` gives arrays: the widest of their
    precisions (integers count as float64), complex if any is complex; float16 for no
    arrays, as NumPy (float16 with bfloat16, which NumPy lacks, is float32)."""
    out = None
    for a in arrays:
        if not _is_array(a):
            raise TypeError(f"common_type: expected arrays; got {type(a).__name__}")
        d = _dtype(a)
        if d.kind in "iu":
            d = _dt.float64
        elif d.kind not in "fc":
            raise TypeError("common_type: can't get common type for non-numeric array "
                            f"(dtype {d.name})")
        out = d if out is None else _dt.result_type(out, d)
    return _dt.float16 if out is None else out


def min_scalar_type(a, /):
    """For a scalar or 0-d array, the smallest dtype that holds its value (NumPy's rules:
    the smallest unsigned type for a non-negative integer); for an array of one or more
    dimensions, its own dtype.

    Differences from NumPy: a 0-d array's value is needed (concrete arrays and ``grad``/``jvp``
    tracers; under ``jit`` or ``vmap`` a ConcretizationError). A float that fits float16
    (1.0 included) gives float16, as in NumPy."""
    if _is_array(a) and not isinstance(a, _np.generic):
        if len(_shape(a)):
            return _dtype(a)
        kind = _dtype(a).kind
        conv = {"b": bool, "i": int, "u": int, "f": float, "c": complex}[kind]
        if isinstance(a, Tracer):
            from ._base import stop_gradient
            try:
                value = conv(stop_gradient(a))
            except ConcretizationError as e:
                raise ConcretizationError(
                    "min_scalar_type: the answer for a 0-d array depends on its value, which "
                    "is not available under jit or vmap") from e
        else:
            from ..backends import backend_of
            value = conv(_np.asarray(backend_of(a).to_numpy(a))[()])
        a = value
    elif not isinstance(a, (bool, int, float, complex, _np.generic)):
        raise TypeError(f"min_scalar_type: expected a number or an array; got "
                        f"{type(a).__name__}")
    return _from_np(_np.min_scalar_type(a), "min_scalar_type")


_BY_ELSIZE = "GDFgdfQqLlIiHhBb?"


def mintypecode(typechars, typeset="GDFgdf", default="d"):
    """NumPy's type character of the smallest type in ``typeset`` that the type characters
    (or arrays) ``typechars`` can be safely cast to: ``default`` when none of them is in
    ``typeset``; 'D' when both 'F' and 'd' are. A one-character string, as in NumPy."""
    codes = []
    for t in typechars:
        if isinstance(t, str) and t:
            codes.append(t)
        else:
            d = _dtype(t) if _is_array(t) else _dtype(_asarray_like(t))
            codes.append(_np_dtype(d).char)
    found = {c for c in codes if c in typeset}
    if not found:
        return default
    if "F" in found and "d" in found:
        return "D"
    return min(found, key=_BY_ELSIZE.index)

# -- bitwise -----------------------------------------------------------------------------------


_M1, _M2, _M4 = 0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F


def bitwise_count(x, /, out=None, where=None):
    """The number of 1-bits in the absolute value of each integer of ``x`` (uint8, as
    NumPy's ``bitwise_count``; booleans count as 0 or 1). Computed with shifts and masks on
    int64, in one vectorised chain."""
    if out is not None or where is not None:
        _ufunc_options("bitwise_count", out, where)
    from ._mathematics import _operand
    x = _operand(x)
    d = _dtype(x)
    if d.kind not in "biu":
        raise TypeError(f"bitwise_count: only integer and boolean inputs are supported; got "
                        f"{d.name}")
    v = astype(x, _dt.int64)
    if d.kind == "i":
        v = abs(v)  # int64's minimum stays negative: its one bit is counted below
    top = astype(less(v, 0), _dt.int64)  # bit 63 (uint64 values above int64's range)
    v = bitwise_and(v, 0x7FFFFFFFFFFFFFFF)
    v = subtract(v, bitwise_and(bitwise_right_shift(v, 1), _M1))
    v = add(bitwise_and(v, _M2), bitwise_and(bitwise_right_shift(v, 2), _M2))
    v = bitwise_and(add(v, bitwise_right_shift(v, 4)), _M4)
    v = add(v, bitwise_right_shift(v, 8))
    v = add(v, bitwise_right_shift(v, 16))
    v = add(v, bitwise_right_shift(v, 32))
    return astype(add(bitwise_and(v, 0x7F), top), _dt.uint8)

# -- asarray variants --------------------------------------------------------------------------


def _check_order(name, order, allowed=("C", "F", "A", "K")):
    if order is not None and (not isinstance(order, str) or order.upper() not in allowed):
        raise ValueError(f"{name}: order must be one of {', '.join(allowed)} or None; got "
                         f"{order!r}")


def _asarray(a, dtype, copy=None, device=None, like=None):
    # like=: Python data is made in like's library and device; arrays stay as they are
    return asarray(a, dtype=None if dtype is None else _to_dtype(dtype), copy=copy,
                   device=device, like=like)


def asanyarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """``a`` as an array (arrays and tracers as they are, cast to ``dtype`` if given);
    functrans has no array subclasses, so this is :func:`asarray`. ``order`` is checked and
    otherwise ignored (memory layout is the library's)."""
    _check_order("asanyarray", order)
    return _asarray(a, dtype, copy, device, like)


def ascontiguousarray(a, dtype=None, *, like=None):
    """``a`` as an array of at least one dimension (a scalar becomes shape ``(1,)``, as in
    NumPy), cast to ``dtype`` if given. Memory layout is the library's: otherwise this is
    :func:`asarray`."""
    out = _asarray(a, dtype, like=like)
    return _st.reshape(out, (1,)) if len(_shape(out)) == 0 else out


def asarray_chkfinite(a, dtype=None, order=None):
    """``a`` as an array (cast to ``dtype`` if given), with a ValueError if it is of a
    floating dtype and holds an infinity or a NaN.

    Difference from NumPy: the check needs the values. Under ``jit`` or ``vmap`` (no values)
    it is skipped and the array is returned unchecked; with values (plain arrays, ``grad``,
    ``jvp``) it is NumPy's."""
    _check_order("asarray_chkfinite", order)
    out = _asarray(a, dtype)
    if _dtype(out).kind in "fc":
        from ._statistics import all as _all
        try:
            finite = bool(_all(isfinite(out)))
        except ConcretizationError:
            finite = True
        if not finite:
            raise ValueError("asarray_chkfinite: array must not contain infs or NaNs")
    return out


_FLAGS = {"C": "C", "C_CONTIGUOUS": "C", "CONTIGUOUS": "C", "F": "F", "F_CONTIGUOUS": "F",
          "FORTRAN": "F", "A": "A", "ALIGNED": "A", "W": "W", "WRITEABLE": "W", "O": "O",
          "OWNDATA": "O", "E": "E", "ENSUREARRAY": "E"}


def require(a, dtype=None, requirements=None, *, like=None):
    """``a`` as an array of ``dtype`` meeting NumPy's ``requirements`` flags ('C', 'F',
    'A', 'W', 'O', 'E' or their long names). functrans arrays have no memory-layout or
    subclass to adjust, so the layout flags are checked ('C' with 'F' is a ValueError, an
    unknown flag a KeyError, as in NumPy) and otherwise met as they are; 'W' (writeable) and
    'O' (owns its data) give a copy."""
    if requirements is None:
        requirements = ()
    elif isinstance(requirements, str):
        requirements = (requirements,)
    flags = set()
    for r in requirements:
        key = r.upper()
        if key not in _FLAGS:
            raise KeyError(f"require: unknown requirement {r!r}; use one of "
                           f"{', '.join(_FLAGS)}")
        flags.add(_FLAGS[key])
    if "C" in flags and "F" in flags:
        raise ValueError('require: cannot specify both "C" and "F" order')
    return _asarray(a, dtype, copy=True if flags & {"W", "O"} else None, like=like)

