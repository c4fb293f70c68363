"""NumPy's remaining everyday names: its dtype aliases (``double``, ``intc``, ``int_`` ...) and
``dtype``, the constant ``euler_gamma``, floating-point error control (``errstate``,
``seterr``, ``geterr``), index iteration (``ndindex``, ``ndenumerate``), bit packing
(``packbits``, ``unpackbits``), integer formatting (``binary_repr``, ``base_repr``),
``asfortranarray``, the memory-overlap checks ``may_share_memory``/``shares_memory``,
``row_stack`` and the index builders ``s_``/``index_exp``, with NumPy's semantics.

The dtype aliases are functrans's own :class:`~functrans.dtypes.DType` objects, chosen as
NumPy 2 defines them on 64-bit Linux (``int_``, ``intp``, ``long`` are ``int64``; ``intc``
is ``int32``...), so they are accepted wherever a dtype is; ``half`` is ``float16``.
``longdouble`` has no functrans dtype and is absent.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import math
import operator

import numpy as _np  # floating-point error state (numpy backend) and dtype names only

from .. import dtypes as _dt
from ..backends import backend_of
from ..core import Tracer
from ..primitives import structural as _st
from ._base import (_SCALARS, _dtype, _normalize_axis, _shape, astype, concat,
                    multiply, not_equal)
from ._elementwise import bitwise_and, bitwise_left_shift, bitwise_right_shift
from ._reshaping import vstack
from ._statistics import sum as _sum

__all__ = [
    # dtype names (NumPy's meaning on 64-bit Linux), dtype(), constants
    "bool_", "int_", "intp", "uint", "intc", "uintc", "long", "ulong", "longlong",
    "ulonglong", "byte", "ubyte", "short", "ushort", "half", "single", "double", "csingle",
    "cdouble", "dtype", "euler_gamma",
    # floating-point errors, iteration, bits, formatting, layout, memory
    "errstate", "seterr", "geterr", "ndindex", "ndenumerate", "packbits", "unpackbits",
    "binary_repr", "base_repr", "asfortranarray", "may_share_memory", "shares_memory",
    "row_stack",
    # index expressions
    "s_", "index_exp",
]

# -- dtype names -------------------------------------------------------------------------------

bool_ = _dt.bool_
int_ = intp = long = longlong = _dt.int64
uint = ulong = ulonglong = _dt.uint64
intc, uintc = _dt.int32, _dt.uint32
byte, ubyte = _dt.int8, _dt.uint8
short, ushort = _dt.int16, _dt.uint16
half, single, double = _dt.float16, _dt.float32, _dt.float64
csingle, cdouble = _dt.complex64, _dt.complex128

euler_gamma = 0.5772156649015329


def dtype(dtype, align=False, copy=False):
    """The data type named by ``dtype``, as NumPy's ``dtype(obj)`` reads it: a functrans
    dtype, a NumPy dtype or scalar type (``np.float32``), a Python type (``float`` is
    float64, ``int`` int64), a name or type code (``"float64"``, ``"f8"``, ``"double"``,
    ``"i4"``, ``"?"``), ``None`` (float64) or another library's dtype (``torch.int32``).

    Difference from NumPy: it returns functrans's dtype object (one per name, equal to
    NumPy's: ``fnp.dtype("f8") == np.float64``), not a ``numpy.dtype``, and only for the
    dtypes functrans has (bool, the integers, float16/32/64, complex64/128, and bfloat16
    by name or as torch's); others (``longdouble``, strings, structured dtypes) and arrays
    are a TypeError. ``align`` and
    ``copy`` are accepted and change nothing (they concern structured dtypes)."""
    obj = dtype
    if isinstance(obj, _dt.DType):
        return obj
    if obj is None:
        return _dt.float64
    if isinstance(obj, str) and obj in _dt.BY_NAME:  # (NumPy does not know "bfloat16")
        return _dt.BY_NAME[obj]
    if isinstance(obj, (str, type, _np.dtype)):
        try:
            name = _np.dtype(obj).name
        except TypeError as e:
            raise TypeError(f"dtype: data type {obj!r} not understood") from e
        found = _dt.BY_NAME.get(name)
    elif isinstance(obj, (Tracer, _np.ndarray)) or hasattr(obj, "__array_namespace__") or (
            hasattr(obj, "shape") and hasattr(obj, "dtype")):
        raise TypeError("dtype: cannot make a data type from an array; use its .dtype")
    else:
        found = _dt.as_dtype(obj, strict=False)
    if found is None:
        raise TypeError(f"dtype: {obj!r} is not a data type functrans has; it has "
                        f"{', '.join(_dt.BY_NAME)} (no longdouble, strings or "
                        f"structured dtypes)")
    return found

# -- floating-point error handling -------------------------------------------------------------


class errstate(contextlib.ContextDecorator):
    """NumPy's floating-point error handling, as a context manager or decorator:
    ``errstate(all=..., divide=..., over=..., under=..., invalid=..., call=...)`` with the
    actions ``'ignore'``, ``'warn'``, ``'raise'``, ``'call'``, ``'print'``, ``'log'``.

    It delegates to ``numpy.errstate``, so it governs what NumPy computes inside the block:
    the numpy backend's arrays, and array-api-strict's (which computes with NumPy), in
    plain calls, eager transforms and compiled graphs run inside it. It has no effect on
    the other libraries (torch, CuPy), which do not signal floating-point errors this way,
    nor on a graph staged inside the block and run after it."""

    def __init__(self, **kwargs):
        unknown = set(kwargs) - {"all", "divide", "over", "under", "invalid", "call"}
        if unknown:
            raise TypeError(f"errstate: unexpected keyword argument(s) {sorted(unknown)}; "
                            f"use all, divide, over, under, invalid or call")
        _np.errstate(**kwargs)  # NumPy checks the actions now, as it does
        self._kwargs = kwargs
        self._active = []

    def __enter__(self):
        ctx = _np.errstate(**self._kwargs)  # a new one per entry: re-entrant and reusable
        ctx.__enter__()
        self._active.append(ctx)
        return self

    def __exit__(self, *exc):
        return self._active.pop().__exit__(*exc)


def seterr(all=None, divide=None, over=None, under=None, invalid=None):
    """Set how NumPy treats floating-point errors (see :class:`errstate`) and return the
    previous settings; delegates to ``numpy.seterr``, so it has effect on what NumPy
    computes only (the numpy and array-api-strict backends)."""
    return _np.seterr(all=all, divide=divide, over=over, under=under, invalid=invalid)


def geterr():
    """How NumPy currently treats floating-point errors (a dict with the keys ``divide``,
    ``over``, ``under``, ``invalid``); delegates to ``numpy.geterr`` (the numpy backend's
    setting)."""
    return _np.geterr()

# -- index iteration ---------------------------------------------------------------------------


class ndindex:
    """An iterator over the index tuples of an array of the given shape, in C order
    (the last index fastest): ``ndindex(2, 3)`` or ``ndindex((2, 3))``. Shapes only: it
    never touches array data."""

    def __init__(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], tuple):
            shape = shape[0]
        shape = tuple(operator.index(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ValueError(f"ndindex: negative dimensions are not allowed; got {shape}")
        self._it = itertools.product(*(range(d) for d in shape))

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)


class ndenumerate:
    """An iterator of ``(index, element)`` pairs over an array (or a tracer, or a Python
    sequence, made an array first) in C order, ``index`` a tuple of ints and ``element``
    ``arr[index]``: for a NumPy array a NumPy scalar, as NumPy gives; for the other
    libraries their 0-d array; for a tracer a 0-d tracer (differentiable: each element is
    one indexing operation, so prefer whole-array functions in traced code)."""

    def __init__(self, arr):
        from ._reshaping import _conv
        self._arr = _conv(arr)
        self._it = ndindex(*_shape(self._arr))

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self._it)
        return index, self._arr[index]

# -- bits --------------------------------------------------------------------------------------


def _bit_shifts(like, bitorder, name):
    """The shifts of the 8 bits of a byte in ``bitorder`` (uint8, next to ``like``): 7..0
    for 'big' (most significant bit first), 0..7 for 'little'."""
    if not isinstance(bitorder, str):
        raise TypeError(f"{name}: bitorder must be a str ('big' or 'little'); got "
                        f"{type(bitorder).__name__}")
    if bitorder not in ("big", "little"):
        raise ValueError(f"{name}: 'order' must be either 'little' or 'big'; got "
                         f"{bitorder!r}")
    up = _st.iota(like, 8, _dt.uint8)
    if bitorder == "little":
        return up
    return _st.flip(up, (0,))


def _zero_bytes(shifts, shape):
    """uint8 zeros of ``shape``, next to the uint8 ``shifts``."""
    one = _st.reshape(_st.slice_(shifts, ((0, 1, 1),)), (1,) * len(shape))
    return _st.full_like(_st.broadcast_to(one, shape), 0)


def _bits_axis(a, axis):
    """``a`` with the axis to (un)pack last (flattened for None; a 0-d array counts as
    1-d, as in NumPy), with the permutation that puts it back."""
    if len(_shape(a)) == 0:
        a = _st.reshape(a, (1,))
    if axis is None:
        return _st.reshape(a, (math.prod(_shape(a)),)), None
    nd = len(_shape(a))
    ax = _normalize_axis(operator.index(axis), nd)
    perm = tuple(i for i in range(nd) if i != ax) + (ax,)
    back = tuple(range(ax)) + (nd - 1,) + tuple(range(ax, nd - 1))
    return _st.transpose(a, perm), back


def packbits(a, axis=None, bitorder="big"):
    """Pack the elements of an integer or boolean array into bits of uint8 bytes (an element
    is a 1 bit where it is non-zero), 8 to a byte along ``axis`` (the flattened array for
    None), the last byte padded with 0 bits; ``bitorder`` 'big' puts the first element in
    the most significant bit, 'little' in the least. No derivative (uint8 result)."""
    from ._reshaping import _conv
    a = _conv(a)
    if _dtype(a).kind not in "biu":
        raise TypeError(f"packbits: expected an input array of integer or boolean data type; "
                        f"got {_dtype(a).name}")
    shifts = _bit_shifts(a, bitorder, "packbits")
    a, back = _bits_axis(a, axis)
    bits = astype(not_equal(a, 0) if _dtype(a).kind != "b" else a, _dt.uint8)
    lead, n = _shape(bits)[:-1], _shape(bits)[-1]
    m = -(-n // 8)
    if 8 * m != n:
        bits = concat([bits, _zero_bytes(shifts, lead + (8 * m - n,))], axis=-1)
    bits = _st.reshape(bits, lead + (m, 8))
    weights = bitwise_left_shift(_st.full_like(shifts, 1), shifts)
    out = astype(_sum(multiply(bits, weights), axis=-1), _dt.uint8)
    return out if back is None else _st.transpose(out, back)


def unpackbits(a, axis=None, count=None, bitorder="big"):
    """Unpack the uint8 array ``a`` into its bits (uint8 zeros and ones), each byte into 8
    along ``axis`` (the flattened array for None), most significant bit first for
    ``bitorder`` 'big', least first for 'little'; ``count`` keeps that many bits along the
    axis (more pads with zeros; a negative one drops that many from the end). No
    derivative. (For an input with no bytes along the axis, the padding is zeros here;
    NumPy returns uninitialised memory there.)"""
    from ._reshaping import _conv
    a = _conv(a)
    if _dtype(a).kind != "u" or _dtype(a).bits != 8:
        raise TypeError(f"unpackbits: expected an input array of unsigned byte data type "
                        f"(uint8); got {_dtype(a).name}")
    shifts = _bit_shifts(a, bitorder, "unpackbits")
    a, back = _bits_axis(a, axis)
    lead, n = _shape(a)[:-1], _shape(a)[-1]
    bits = bitwise_and(bitwise_right_shift(_st.reshape(a, lead + (n, 1)), shifts), 1)
    bits = astype(_st.reshape(bits, lead + (8 * n,)), _dt.uint8)
    if count is not None:
        count = operator.index(count)
        keep = count if count >= 0 else 8 * n + count
        if keep < 0:
            raise ValueError(f"unpackbits: -count larger than number of elements ({-count} "
                             f"> {8 * n})")
        if keep <= 8 * n:
            bits = _st.slice_(bits, tuple((0, d, 1) for d in lead) + ((0, keep, 1),))
        else:
            bits = concat([bits, _zero_bytes(shifts, lead + (keep - 8 * n,))], axis=-1)
    return bits if back is None else _st.transpose(bits, back)

# -- formatting --------------------------------------------------------------------------------


def binary_repr(num, width=None):
    """The binary digits of the integer ``num`` as a str. Without ``width`` a negative
    number gets a minus sign; with it, a negative number is written in two's complement on
    ``width`` bits, and a non-negative one padded with zeros to ``width``; a ``width`` too
    small for the number is a ValueError, as in NumPy. Python code on a Python integer (or
    anything with ``__index__``, a concrete 0-d integer array too)."""
    num = operator.index(num)
    if num == 0:
        return "0" * (width or 1)
    if num > 0:
        digits, needed = bin(num)[2:], num.bit_length()
    else:
        if width is None:
            return "-" + bin(-num)[2:]
        needed = (-num - 1).bit_length() + 1  # the fewest bits holding num in two's complement
    if width is None:
        return digits
    if width < needed:
        raise ValueError(f"binary_repr: insufficient bit width={width} provided for "
                         f"binwidth={needed}")
    if num > 0:
        return digits.rjust(width, "0")
    return bin((1 << width) + num)[2:]


_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def base_repr(number, base=2, padding=0):
    """The digits of ``number`` in ``base`` (2 to 36; letters for digits above 9) as a str,
    with ``padding`` zeros written before them and a minus sign before those for a negative
    number. Python code on a Python number (a float is truncated to an integer first, as
    NumPy's arithmetic on it gives)."""
    if base > len(_DIGITS):
        raise ValueError("base_repr: bases greater than 36 not handled in base_repr.")
    if base < 2:
        raise ValueError("base_repr: bases less than 2 not handled in base_repr.")
    n = abs(int(number))
    digits = ""
    while n:
        n, d = divmod(n, base)
        digits = _DIGITS[d] + digits
    out = "0" * padding + digits
    if not digits and not padding:  # (NumPy writes nothing for 0 with a negative padding)
        out = "0"
    return "-" + out if number < 0 else out

# -- layout and memory -------------------------------------------------------------------------


def asfortranarray(a, dtype=None, *, like=None):
    """``a`` as an array of at least one dimension (a scalar becomes shape ``(1,)``, as in
    NumPy), cast to ``dtype`` if given. Memory layout is the library's business: this is
    :func:`ascontiguousarray` (the values and shape are NumPy's; the strides are not
    Fortran's). Differentiable."""
    from ._introspection import ascontiguousarray
    return ascontiguousarray(a, dtype=dtype, like=like)


def _byte_bounds(t):
    """The first and one-past-last byte address a torch tensor's elements occupy."""
    size = t.element_size()
    lo = hi = t.storage_offset() * size
    for n, s in zip(t.shape, t.stride()):
        if s < 0:
            lo += (n - 1) * s * size
        else:
            hi += (n - 1) * s * size
    base = t.untyped_storage().data_ptr()
    return base + lo, base + hi + size


def _byte_starts(t):
    """The byte address of every element of a torch tensor (a sorted NumPy array, from the
    shape and strides only)."""
    size = t.element_size()
    start = t.untyped_storage().data_ptr() + t.storage_offset() * size
    offs = _np.zeros((), dtype=_np.int64)
    for n, s in zip(t.shape, t.stride()):
        offs = offs[..., None] + _np.arange(n, dtype=_np.int64) * (s * size)
    return _np.sort(offs.reshape(-1) + start)


def _torch_overlap(name, a, b, exact):
    if a.numel() == 0 or b.numel() == 0:
        return False
    (la, ha), (lb, hb) = _byte_bounds(a), _byte_bounds(b)
    if ha <= lb or hb <= la:
        return False
    if not exact:
        if name == "shares_memory":  # bounds alone cannot tell: NumPy's answer
            raise _np.exceptions.TooHardError("shares_memory: exceeded max_work (the bounds "
                                              "overlap; use max_work=-1 for the exact check)")
        return True
    sa, sb = _byte_starts(a), _byte_starts(b)
    # some element [s, s + size_b) of b meets an element [r, r + size_a) of a: the last a
    # element starting before s + size_b ends after s
    i = _np.searchsorted(sa, sb + b.element_size(), side="left")
    has = i > 0
    return bool(_np.any(sa[_np.maximum(i - 1, 0)][has] + a.element_size() > sb[has]))


def _cupy_overlap(name, a, b, exact):
    # CuPy's may_share_memory takes max_work=None (the bounds) alone and its shares_memory
    # None (exact) or the names "MAY_SHARE_BOUNDS"/"MAY_SHARE_EXACT": NotImplementedError for
    # NumPy's -1 and 0
    import cupy
    if exact:
        return bool(cupy.shares_memory(a, b))
    if not cupy.may_share_memory(a, b):
        return False
    if name == "shares_memory":  # (as NumPy and the torch branch above)
        raise _np.exceptions.TooHardError("shares_memory: exceeded max_work (the bounds "
                                          "overlap; use max_work=-1 for the exact check)")
    return True


def _overlap(name, a, b, exact):
    if isinstance(a, Tracer) or isinstance(b, Tracer):
        return False  # tracers are values: they share memory with nothing
    if type(a) in _SCALARS or type(b) in _SCALARS or isinstance(a, (list, tuple)) \
            or isinstance(b, (list, tuple)):
        return False  # made into new arrays, as NumPy does
    ba, bb = backend_of(a), backend_of(b)
    if ba.name != bb.name:
        return False
    if ba.name == "torch":
        return _torch_overlap(name, a, b, exact)
    if ba.name == "cupy":
        return _cupy_overlap(name, a, b, exact)
    try:
        lib = importlib.import_module(ba.name)
    except ImportError:
        lib = None
    fn = getattr(lib, name, None)
    if fn is None:
        raise NotImplementedError(f"{name}: the library {ba.name!r} has no way to tell "
                                  f"whether two of its arrays share memory; functrans "
                                  f"supports numpy, torch and cupy arrays here")
    return bool(fn(a, b, max_work=-1 if exact else 0))


def may_share_memory(a, b, /, max_work=0):
    """Whether the arrays ``a`` and ``b`` might share memory: by default (``max_work=0``
    or None) whether their memory bounds overlap, so True does not prove they share an
    element; ``max_work=-1`` checks exactly. NumPy's and CuPy's own function for their
    arrays; for torch tensors the same checks from their storage, offsets and strides.

    Differences from NumPy: False for a tracer (traced values share memory with nothing),
    for Python data and for arrays of two libraries; a NotImplementedError for libraries
    that expose no memory (array-api-strict); other positive ``max_work`` limits are not
    supported (ValueError)."""
    if max_work not in (0, -1, None):
        raise ValueError(f"may_share_memory: max_work must be 0 or None (bounds) or -1 "
                         f"(exact); got {max_work!r}")
    return _overlap("may_share_memory", a, b, max_work == -1)


def shares_memory(a, b, /, max_work=-1):
    """Whether the arrays ``a`` and ``b`` share memory (an element in common), checked
    exactly (``max_work=-1`` or None; with ``max_work=0`` only the bounds are checked, and
    where they overlap NumPy's TooHardError is raised, as NumPy does). NumPy's and CuPy's own function for their arrays; for torch
    tensors the same from their storage, offsets and strides (the exact check lists their
    elements' addresses: time and memory of the order of their sizes).

    Differences from NumPy: False for a tracer, for Python data and for arrays of two
    libraries; a NotImplementedError for libraries that expose no memory
    (array-api-strict); other positive ``max_work`` limits are not supported
    (ValueError)."""
    if max_work not in (0, -1, None):
        raise ValueError(f"shares_memory: max_work must be -1 or None (exact) or 0 "
                         f"(bounds); got {max_work!r}")
    return _overlap("shares_memory", a, b, max_work != 0)


row_stack = vstack


# -- index expressions -------------------------------------------------------------------------


class _IndexExpression:
    """Slice syntax turned into index objects: ``s_[1:3, ::2]`` is the tuple
    ``(slice(1, 3, None), slice(None, None, 2))`` and ``s_[::2]`` the lone slice; ``index_exp``
    always gives a tuple (``index_exp[::2]`` is ``(slice(None, None, 2),)``), as NumPy's
    ``s_`` and ``index_exp``. Nothing is computed: the result indexes any array, tracers
    included."""

    __slots__ = ("_maybe_tuple",)

    def __init__(self, maybe_tuple):
        self._maybe_tuple = maybe_tuple

    def __getitem__(self, item):
        if self._maybe_tuple or isinstance(item, tuple):
            return item
        return (item,)

    def __repr__(self):
        return "s_" if self._maybe_tuple else "index_exp"


s_ = _IndexExpression(True)
index_exp = _IndexExpression(False)
