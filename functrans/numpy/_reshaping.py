"""NumPy's joining, splitting, reshaping, padding and creation functions beyond the standard
(``concatenate``, ``hstack``, ``split``, ``transpose``, ``pad`` ...), with NumPy's semantics,
built on the namespace's differentiable functions.

Shapes, axes, split points, pad widths and the ``obj`` of ``delete``/``insert`` are static
(Python values or concrete index arrays); the data itself is never pulled to the host, except
by ``argwhere``, ``flatnonzero`` and ``compress``, whose result shapes depend on the values.
Arrays made here (index arrays, fill values) live on the input's device and library.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as _np  # dtype rules and concrete *index* values only, never the data

from .. import dtypes as _dt
from ..backends import backend_of
from ..core import Tracer
from ..errors import ShapeError, UnsupportedBackendError
from ..primitives import indexing as _ix
from ..primitives import structural as _st
from ._base import (_NOT_ARRAY_OR_NP_SCALAR, _NUMPY_SCALARS, _SCALARS, _dtype, _first_array, _normalize_axis,
                    _numpy_scalars_beside, _shape, _unstacked, _to_array, add, astype,
                    broadcast_shapes, broadcast_to, concat, device, divide, expand_dims,
                    greater_equal, less, multiply, subtract, where)
from ._base import _getitem as _basic_getitem
from . import _base, _promotion
from ._base import pow as _pow
from ._creation import _check_integer_range, _with_at, asarray as _asarray
from ._creation import eye as _eye
from ._creation import tril as _tril
from ._elementwise import clip as _clip
from ._elementwise import floor_divide as _floor_divide
from ._elementwise import log10 as _log10
from ._elementwise import logical_or as _logical_or
from ._elementwise import remainder as _remainder
from ._elementwise import sign as _sign
from ._indexing import take as _take
from ._statistics import any as _any

__all__ = [
    "concatenate", "hstack", "vstack", "dstack", "column_stack", "transpose", "swapaxes",
    "ravel", "atleast_1d", "atleast_2d", "atleast_3d", "split", "array_split", "hsplit",
    "vsplit", "dsplit", "copy", "array", "identity", "fliplr", "flipud", "rot90", "append",
    "delete", "insert", "rollaxis", "block", "pad", "logspace", "geomspace", "tri",
    "argwhere", "flatnonzero", "unravel_index", "ravel_multi_index", "select", "compress",
    "resize", "tril_indices", "triu_indices", "tril_indices_from", "triu_indices_from",
    "diag_indices", "diag_indices_from", "indices", "r_", "c_", "mgrid", "ogrid",
]

# -- helpers -----------------------------------------------------------------------------------


def _is_plain(a):
    """A Python scalar or a (nested) list/tuple: to be made into an array."""
    return type(a) in _SCALARS or isinstance(a, (list, tuple))


def _make(like, value, dtype=None):
    """An array of Python values ``value`` next to ``like`` (of the default backend if
    ``like`` is None)."""
    return _to_array(value, dtype=dtype, like=like)


def _conv(a, like=None):
    """``a`` as an array: arrays and tracers as they are; Python scalars and nested sequences
    next to ``like`` (else next to an array they hold, else of the default backend). A
    sequence holding arrays or tracers is stacked (differentiably), its entries cast to their
    common dtype as NumPy does (Python numbers in it count as int64/float64 arrays). A NumPy
    scalar beside another library's ``like`` becomes a 0-d array of it (a number, as in
    :func:`_numpy_scalars_beside`)."""
    if type(a) in _NUMPY_SCALARS and like is not None:
        return _numpy_scalars_beside(a, like)[0]
    if not _is_plain(a):
        return a
    if isinstance(a, (list, tuple)):
        inner = _first_array(a)
        if inner is not None and (type(inner) not in _NUMPY_SCALARS
                                  or like is None or type(like) in _NUMPY_SCALARS):
            # (numbers only, NumPy scalars among them, beside another array: Python data
            # made next to it below, of the dtype NumPy gives the list)
            parts = [_conv(o, inner) for o in a]
            dt = _np_common(parts)
            s = _shape(parts[0])
            for p in parts[1:]:
                if _shape(p) != s:
                    raise ValueError(f"setting an array element with a sequence: the "
                                     f"entries have shapes {s} and {_shape(p)}")
            parts = [_st.reshape(astype(p, dt), (1,) + s) for p in parts]
            return parts[0] if len(parts) == 1 else _st.concat(parts, 0)
    return _make(like, a)


def _convs(seq):
    seq = list(seq)
    like = _first_array(seq)
    return [_conv(a, like) for a in seq]


def _nd(x):
    return len(_shape(x))


def _cast_value(value, dt, like):
    """``value`` (a Python scalar, sequence, array or tracer) as an array of dtype ``dt``."""
    return astype(_conv(value, like), dt)


def _check_static(obj, name, what):
    if isinstance(obj, Tracer):
        raise TypeError(f"{name}: {what} must be static (Python integers or a concrete index "
                        f"array), not a traced value")


def _host_index(obj, name, what="obj"):
    """Concrete integer (or boolean) index values as a NumPy array on the host."""
    _check_static(obj, name, what)
    if isinstance(obj, (list, tuple)) or type(obj) in _SCALARS \
            or isinstance(obj, (_np.ndarray, _np.generic)):
        try:
            return _np.asarray(obj)
        except Exception as e:  # a list holding tracers...
            raise TypeError(f"{name}: {what} must hold static integers") from e
    return _np.asarray(backend_of(obj).to_numpy(obj))


def _index_array(like, ints):
    """The Python integers ``ints`` as an int64 array next to ``like`` (an arithmetic
    progression is made from an iota there, without a host-to-device copy)."""
    ints = [int(i) for i in ints]
    n = len(ints)
    step = ints[1] - ints[0] if n > 1 else 1
    if builtins.all(ints[i] == ints[0] + i * step for i in range(n)):
        idx = _st.iota(like, n)
        if step != 1:
            idx = multiply(idx, step)
        return add(idx, ints[0]) if n and ints[0] else idx
    return _asarray(ints, dtype=_dt.int64, device=device(like))


def _runs(idx):
    """``idx`` as runs ``(start, step, length)`` of arithmetic progressions (greedy)."""
    runs, i, n = [], 0, len(idx)
    while i < n:
        if i + 1 == n:
            runs.append((idx[i], 1, 1))
            break
        d = idx[i + 1] - idx[i]
        j = i + 1
        while j + 1 < n and idx[j + 1] - idx[j] == d:
            j += 1
        runs.append((idx[i], d, j - i + 1))
        i = j + 1
    return runs


def _select_along(x, axis, idx, max_runs=8):
    """``take(x, idx, axis)`` for static Python integers ``idx`` (all in range): a few strided
    slices (and broadcasts for repeats) joined, or one gather when the pattern is irregular."""
    shape = _shape(x)
    n = shape[axis]
    if list(idx) == list(range(n)):
        return x
    runs = _runs(list(idx))
    if not runs:
        full = [(0, d, 1) for d in shape]
        full[axis] = (0, 0, 1)
        return _st.slice_(x, tuple(full))
    if len(runs) > max_runs:
        return _take(x, _index_array(x, idx), axis=axis)
    pieces = []
    for start, step, length in runs:
        sl = [(0, d, 1) for d in shape]
        if step == 0:
            sl[axis] = (start, start + 1, 1)
            piece = _st.slice_(x, tuple(sl))
            big = list(shape)
            big[axis] = length
            piece = _st.broadcast_in_dim(piece, tuple(big), tuple(range(len(shape))))
        else:
            last = start + step * (length - 1)  # the stop stays within the axis
            sl[axis] = (start, last + (1 if step > 0 else -1), step)
            piece = _st.slice_(x, tuple(sl)) if (start, step, length) != (0, 1, n) else x
        pieces.append(piece)
    return pieces[0] if len(pieces) == 1 else _st.concat(pieces, axis)


def _slice_axis(x, axis, start, stop):
    sl = [(0, d, 1) for d in _shape(x)]
    sl[axis] = (start, builtins.max(start, stop), 1)
    return _st.slice_(x, tuple(sl))


def _check_order(name, order, allowed=("C", "F", "A", "K")):
    if order not in allowed:
        raise ValueError(f"{name}: order must be one of {', '.join(map(repr, allowed))}; got "
                         f"{order!r}")


_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")


def _np_common(items):
    """The common dtype of arrays/tracers and Python scalars (weak), by the namespace's one
    promotion rule (an integer with a float array gives the float's dtype, as in JAX, where
    NumPy widens int32 with float32 to float64)."""
    from ._dtypes import result_type
    return result_type(*items)


def _join_cast(arrays, dtype, casting, name):
    """The arrays cast to ``dtype`` (their common dtype if None), checked against NumPy's
    ``casting`` rule."""
    if casting not in _CASTINGS:
        raise ValueError(f"{name}: casting must be one of {', '.join(map(repr, _CASTINGS))}; "
                         f"got {casting!r}")
    if dtype is None:
        target = _np_common(arrays)
    else:
        target = _dt.as_dtype(dtype)
    for a in arrays:
        src = _dtype(a)
        if not _np.can_cast(_np.dtype(src.name), _np.dtype(target.name), casting):
            raise TypeError(f"{name}: cannot cast array data from {src.name} to {target.name} "
                            f"according to the rule {casting!r}")
    return [astype(a, target) for a in arrays]

# -- joining -----------------------------------------------------------------------------------


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join a sequence of arrays along an existing axis (``axis=None`` flattens them first).

    As NumPy's; ``out=`` is not supported (functrans returns new arrays)."""
    if out is not None:
        raise NotImplementedError("concatenate: out= is not supported; use the returned array")
    arrays = _convs(_unstacked(arrays))
    if not arrays:
        raise ValueError("concatenate: need at least one array to concatenate")
    if axis is not None and builtins.any(_nd(a) == 0 for a in arrays):
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    try:
        arrays = _join_cast(arrays, dtype, casting, "concatenate")
    except UnsupportedBackendError as e:  # typed keys (functrans.random's): on their words
        from ._base import _typed_keys
        if dtype is not None and not isinstance(dtype, _dt.KeyDType):
            raise TypeError(f"concatenate: typed keys cannot be cast to {dtype!r}") from None
        return _typed_keys(e, "concatenate", lambda *ws: concat(ws, axis=axis), arrays)
    if axis is not None:
        nd = _nd(arrays[0])
        for a in arrays[1:]:
            if _nd(a) != nd:
                raise ValueError(f"concatenate: all the input arrays must have the same number "
                                 f"of dimensions; got {nd} and {_nd(a)}")
    out = concat(arrays, axis=axis)
    return out


def _atleast(arys, n):
    dev = _first_array(arys)
    out = []
    for a in arys:
        a = _conv(a, dev)
        s = _shape(a)
        if len(s) < n:
            if n == 3 and len(s) == 2:
                s = s + (1,)
            elif n == 3 and len(s) == 1:
                s = (1,) + s + (1,)
            else:
                s = (1,) * (n - len(s)) + s
            a = _st.reshape(a, s)
        out.append(a)
    return out


def _atleast_result(out):
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys):
    """Each input as an array of at least one dimension (0-d becomes shape ``(1,)``): one
    array for one input, a tuple of them for several."""
    return _atleast_result(_atleast(arys, 1))


def atleast_2d(*arys):
    """Each input as an array of at least two dimensions (``(n,)`` becomes ``(1, n)``): one
    array for one input, a tuple of them for several."""
    return _atleast_result(_atleast(arys, 2))


def atleast_3d(*arys):
    """Each input as an array of at least three dimensions (``(n,)`` becomes ``(1, n, 1)``,
    ``(m, n)`` becomes ``(m, n, 1)``): one array for one input, a tuple for several."""
    return _atleast_result(_atleast(arys, 3))


def _as_sequence(tup, name):
    if not isinstance(tup, (list, tuple)):
        if isinstance(tup, Tracer) or hasattr(tup, "shape"):
            return _unstacked(tup) if _shape(tup) else [tup]
        raise TypeError(f"{name}: arrays to stack must be passed as a sequence (list or "
                        f"tuple); got {type(tup).__name__}")
    return list(tup)


def hstack(tup, *, dtype=None, casting="same_kind"):
    """Join arrays horizontally: along the first axis for 1-d inputs, else the second
    (0-d inputs become 1-d first)."""
    arrs = _atleast(_as_sequence(tup, "hstack"), 1)
    axis = 0 if arrs and _nd(arrs[0]) == 1 else 1
    return concatenate(arrs, axis, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Join arrays vertically (along the first axis), 1-d inputs ``(n,)`` as rows
    ``(1, n)``."""
    return concatenate(_atleast(_as_sequence(tup, "vstack"), 2), 0, dtype=dtype,
                       casting=casting)


def dstack(tup, *, dtype=None, casting="same_kind"):
    """Join arrays along the third axis (depth), after making each at least 3-d as
    :func:`atleast_3d` does (``dtype`` and ``casting`` as :func:`concatenate`'s)."""
    return concatenate(_atleast(_as_sequence(tup, "dstack"), 3), 2, dtype=dtype,
                       casting=casting)


def column_stack(tup):
    """Join 1-d arrays as the columns of a 2-d array (2-d inputs are joined as they are,
    along the second axis)."""
    arrs = _convs(_as_sequence(tup, "column_stack"))
    cols = []
    for a in arrs:
        s = _shape(a)
        if len(s) < 2:
            a = _st.reshape(a, (math.prod(s), 1))
        cols.append(a)
    return concatenate(cols, 1)

# -- axes --------------------------------------------------------------------------------------


def transpose(a, axes=None):
    """The array with its axes permuted: reversed when ``axes`` is None, else axis ``i`` of
    the result is axis ``axes[i]`` of ``a`` (negative axes count from the end)."""
    a = _conv(a)
    nd = _nd(a)
    if axes is None:
        return _st.transpose(a, tuple(range(nd))[::-1])
    axes = (axes,) if hasattr(axes, "__index__") else tuple(axes)
    if len(axes) != nd:
        raise ValueError(f"transpose: axes don't match array: {len(axes)} axes for an array "
                         f"of {nd} dimensions")
    axes = tuple(_normalize_axis(operator.index(x), nd) for x in axes)
    if len(set(axes)) != nd:
        raise ValueError(f"transpose: repeated axis in {axes}")
    return _st.transpose(a, axes)


def swapaxes(a, axis1, axis2):
    """The array with axes ``axis1`` and ``axis2`` interchanged."""
    a = _conv(a)
    nd = _nd(a)
    i, j = _normalize_axis(operator.index(axis1), nd), _normalize_axis(operator.index(axis2), nd)
    perm = list(range(nd))
    perm[i], perm[j] = perm[j], perm[i]
    return _st.transpose(a, tuple(perm))


def rollaxis(a, axis, start=0):
    """The array with ``axis`` moved to lie before position ``start`` (the older form of
    :func:`moveaxis`)."""
    a = _conv(a)
    n = _nd(a)
    axis = _normalize_axis(operator.index(axis), n)
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise ShapeError(f"rollaxis: 'start' arg requires {-n} <= start < {n + 1}")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    perm = [i for i in range(n) if i != axis]
    perm.insert(start, axis)
    return _st.transpose(a, tuple(perm))


def ravel(a, order="C"):
    """The elements of ``a`` as a 1-d array, in row-major (``order='C'``) or column-major
    (``'F'``) order. ``'A'`` and ``'K'`` (memory order) are not supported: functrans arrays
    have no memory layout of their own."""
    if order not in ("C", "F"):
        if order in ("A", "K"):
            raise NotImplementedError(f"ravel: order={order!r} (memory order) is not "
                                      f"supported; use 'C' or 'F'")
        raise ValueError(f"ravel: order must be one of 'C', 'F', 'A' or 'K'; got {order!r}")
    a = _conv(a)
    if order == "F":
        a = _st.transpose(a, tuple(range(_nd(a)))[::-1])
    return _st.reshape(a, (math.prod(_shape(a)),))


def fliplr(m):
    """The array with the order of its columns (axis 1) reversed; at least 2-d."""
    m = _conv(m)
    if _nd(m) < 2:
        raise ValueError("fliplr: input must be >= 2-d")
    return _st.flip(m, (1,))


def flipud(m):
    """The array with the order of its rows (axis 0) reversed; at least 1-d."""
    m = _conv(m)
    if _nd(m) < 1:
        raise ValueError("flipud: input must be >= 1-d")
    return _st.flip(m, (0,))


def rot90(m, k=1, axes=(0, 1)):
    """The array rotated by 90 degrees ``k`` times in the plane of ``axes``, from the first
    axis toward the second."""
    m = _conv(m)
    nd = _nd(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2")
    if axes[0] == axes[1] or builtins.abs(axes[0] - axes[1]) == nd:
        raise ValueError("rot90: axes must be different")
    if not (-nd <= axes[0] < nd and -nd <= axes[1] < nd):
        raise ValueError(f"rot90: axes={axes} out of range for an array of ndim={nd}")
    a0, a1 = axes[0] % nd, axes[1] % nd
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return _st.flip(m, tuple(sorted((a0, a1))))
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return _st.transpose(_st.flip(m, (a1,)), tuple(perm))
    return _st.flip(_st.transpose(m, tuple(perm)), (a1,))

# -- splitting ---------------------------------------------------------------------------------


def _split(ary, ios, axis, name, equal):
    _check_static(ios, name, "indices_or_sections")
    ary = _conv(ary)
    shape = _shape(ary)
    axis = _normalize_axis(operator.index(axis), len(shape))
    n = shape[axis]
    try:
        points = [operator.index(i) for i in ios]
        bounds = [0] + points + [n]
    except TypeError:  # not a sequence: a number of sections
        if hasattr(ios, "__len__"):
            raise
        sections = int(ios)
        if sections <= 0:
            raise ValueError(f"{name}: number sections must be larger than 0") from None
        if equal and n % sections:
            raise ValueError(f"{name}: array split does not result in an equal division "
                             f"({n} elements into {sections} sections)") from None
        each, extra = divmod(n, sections)
        bounds = [0]
        for i in range(sections):
            bounds.append(bounds[-1] + each + (1 if i < extra else 0))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        start, stop, _ = slice(lo, hi).indices(n)
        out.append(_slice_axis(ary, axis, start, stop))
    return out


def split(ary, indices_or_sections, axis=0):
    """A list of sub-arrays of ``ary`` along ``axis``: ``indices_or_sections`` equal parts
    (an integer, which must divide the axis length) or the parts between the given indices
    (Python slicing rules: out-of-range or decreasing indices give empty parts)."""
    return _split(ary, indices_or_sections, axis, "split", True)


def array_split(ary, indices_or_sections, axis=0):
    """As :func:`split`, but an integer number of sections need not divide the axis length:
    the first ``length % sections`` parts get one element more."""
    return _split(ary, indices_or_sections, axis, "array_split", False)


def hsplit(ary, indices_or_sections):
    """:func:`split` along the second axis (the first for 1-d arrays)."""
    ary = _conv(ary)
    if _nd(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(ary, indices_or_sections, 1 if _nd(ary) > 1 else 0, "hsplit", True)


def vsplit(ary, indices_or_sections):
    """:func:`split` along the first axis, for arrays of at least 2 dimensions."""
    ary = _conv(ary)
    if _nd(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(ary, indices_or_sections, 0, "vsplit", True)


def dsplit(ary, indices_or_sections):
    """:func:`split` along the third axis, for arrays of at least 3 dimensions."""
    ary = _conv(ary)
    if _nd(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(ary, indices_or_sections, 2, "dsplit", True)

# -- creation from data ------------------------------------------------------------------------


@_with_at
def copy(a, order="K", subok=False):
    """A copy of ``a`` (a new array; a tracer's copy is a new tracer). ``order`` is checked
    but the layout is the library's; ``subok`` has no effect (no subclasses here)."""
    _check_order("copy", order)
    return _conv(a) if _is_plain(a) else _asarray(a, copy=True)


@_with_at
def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, ndmax=0,
          like=None, device=None):
    """An array from ``object`` (an array, tracer, Python scalar or nested sequence, which may
    hold tracers: then differentiable in them), copied unless ``copy`` is None or False, cast
    to ``dtype`` and with at least ``ndmin`` dimensions (leading axes of length 1).

    ``copy=False`` raises ValueError where a copy is needed (a sequence or a change of dtype),
    as in NumPy. ``device`` (JAX's ``jnp.array`` has it; NumPy's ``array`` does not) puts
    the array there, as :func:`asarray`'s does; ``like`` (NumPy's) makes Python data in
    that array's library and device (arrays stay where they are). ``ndmax`` is not
    supported; ``order`` and ``subok`` have no effect on the values."""
    if like is not None and device is None and _is_plain(object) and \
            _first_array([object]) is None:
        object = _asarray(object, dtype=dtype, like=like)
        dtype = None
    if ndmax:
        raise NotImplementedError("array: ndmax= (object arrays) is not supported")
    _check_order("array", order if order is not None else "K")
    if device is not None:
        # (asarray's copy has array's meaning: always, only where needed, or never)
        out = _asarray(object, dtype=dtype, device=device, copy=copy)
    elif copy is False:
        if _is_plain(object):
            raise ValueError("array: unable to avoid a copy while creating an array from a "
                             "Python sequence or scalar (copy=False)")
        if dtype is not None and _dt.as_dtype(dtype) is not _dtype(object):
            raise ValueError("array: unable to avoid a copy while casting to another dtype "
                             "(copy=False)")
        out = object
    elif _is_plain(object):
        if dtype is not None:
            _check_integer_range(object, dtype, "array")
        out = _conv(object)
        if dtype is not None:
            out = astype(out, dtype) if _first_array([object]) is not None else _make(
                None, object, _dt.as_dtype(dtype))
    else:
        out = object if dtype is None else astype(object, dtype)
        if out is object and copy:
            out = _asarray(object, copy=True)
    ndmin = operator.index(ndmin)
    s = _shape(out)
    if len(s) < ndmin:
        out = _st.reshape(out, (1,) * (ndmin - len(s)) + s)
    return out


@_with_at
def identity(n, dtype=None, *, like=None):
    """The ``n`` by ``n`` identity matrix (float64 unless ``dtype`` is given), of the default
    backend (or of ``like``'s library and device)."""
    return _eye(operator.index(n), dtype=_dt.float64 if dtype is None else _dt.as_dtype(dtype),
                like=like)


@_with_at
def tri(N, M=None, k=0, dtype=float, *, like=None):
    """An ``N`` by ``M`` array with ones at and below diagonal ``k`` and zeros elsewhere
    (float64 by default), of the default backend (or of ``like``'s library and device). A
    negative ``N`` or ``M`` counts as 0 (an empty array), as in NumPy."""
    N = operator.index(N)
    M = N if M is None else operator.index(M)
    N, M = builtins.max(N, 0), builtins.max(M, 0)  # (negative sizes: empty, as NumPy's)
    from ._creation import ones
    dtype = _dt.float64 if dtype is None else _dt.as_dtype(dtype)  # (None: NumPy's default)
    return _tril(ones((N, M), dtype=dtype, like=like), k=operator.index(k))

# -- append, delete, insert, block -------------------------------------------------------------


def append(arr, values, axis=None):
    """``arr`` with ``values`` appended along ``axis`` (both flattened if ``axis`` is None;
    otherwise ``values`` must have ``arr``'s number of dimensions). The result has the common
    dtype of both (a Python number counts as a 0-d array, as in NumPy)."""
    dev = _first_array([arr, values])
    arr, values = _conv(arr, dev), _conv(values, dev)
    if axis is None:
        arr = _st.reshape(arr, (math.prod(_shape(arr)),))
        values = _st.reshape(values, (math.prod(_shape(values)),))
        axis = 0
    return concatenate([arr, values], axis)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """``arr`` without the entries at ``obj`` along ``axis`` (of the flattened array if None).

    ``obj`` is an integer, a slice, a sequence of integers (repeats allowed) or a boolean
    mask as long as the axis; arrays must be concrete (the result's shape depends on them).
    ``assume_unique_indices`` (jax.numpy's promise that ``obj`` repeats no index, for a
    faster path under ``jit``) is accepted and changes nothing."""
    arr = _conv(arr)
    if axis is None:
        arr = _st.reshape(arr, (math.prod(_shape(arr)),))
        axis = 0
    shape = _shape(arr)
    axis = _normalize_axis(operator.index(axis), len(shape))
    n = shape[axis]
    if isinstance(obj, slice):
        drop = set(range(*obj.indices(n)))
    else:
        idx = _host_index(obj, "delete")
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise ValueError(f"delete: boolean array argument obj to delete must be one "
                                 f"dimensional and match the axis length of {n}")
            drop = {int(i) for i in _np.flatnonzero(idx)}
        else:
            if idx.dtype.kind not in "iu" and idx.size:
                raise IndexError("delete: arrays used as indices must be of integer (or "
                                 "boolean) type")
            drop = set()
            for i in idx.reshape(-1).tolist():
                i = int(i)
                if not -n <= i < n:
                    raise IndexError(f"delete: index {i} is out of bounds for axis {axis} "
                                     f"with size {n}")
                drop.add(i % n)
    return _select_along(arr, axis, [i for i in range(n) if i not in drop])


def insert(arr, obj, values, axis=None):
    """``arr`` with ``values`` inserted before the indices ``obj`` along ``axis`` (of the
    flattened array if None), with NumPy's rules: a scalar index inserts ``values`` as a
    block (its first axis along ``axis``), a sequence of indices inserts one slice per index
    (``values`` broadcast to them), a slice stands for its indices. ``values`` is cast to
    ``arr``'s dtype. ``obj`` must be static (boolean ``obj`` is refused)."""
    arr = _conv(arr)
    if axis is None:
        arr = _st.reshape(arr, (math.prod(_shape(arr)),))
        axis = 0
    shape = _shape(arr)
    nd = len(shape)
    axis = _normalize_axis(operator.index(axis), nd)
    n = shape[axis]
    if isinstance(obj, slice):
        idx = _np.arange(*obj.indices(n))
    else:
        idx = _host_index(obj, "insert")
        if idx.dtype == bool:
            raise TypeError("insert: a boolean obj is not supported (NumPy treats it as "
                            "integers); pass integer indices")
        if idx.ndim > 1:
            raise ValueError("insert: index array argument obj to insert must be one "
                             "dimensional or scalar")
        if idx.size == 0 and not isinstance(obj, _np.ndarray):
            idx = idx.astype(_np.int64)
        if idx.dtype.kind not in "iu":
            raise IndexError("insert: arrays used as indices must be of integer type")
    ints = [int(i) for i in idx.reshape(-1).tolist()]
    for i in ints:
        if not -n <= i <= n:
            raise IndexError(f"insert: index {i} is out of bounds for axis {axis} with size "
                             f"{n}")
    dt = _dtype(arr)
    v = _cast_value(values, dt, arr)
    if len(ints) == 1:
        index = ints[0] + n if ints[0] < 0 else ints[0]
        vs = _shape(v)
        if len(vs) < nd:
            v = _st.reshape(v, (1,) * (nd - len(vs)) + vs)
        if idx.ndim == 0:
            from ._manipulation import moveaxis
            v = moveaxis(v, 0, axis)
        numnew = _shape(v)[axis]
        target = shape[:axis] + (numnew,) + shape[axis + 1:]
        v = _assign_broadcast(v, target)
        return _st.concat([_slice_axis(arr, axis, 0, index), v,
                           _slice_axis(arr, axis, index, n)], axis)
    pos = [i + n if i < 0 else i for i in ints]
    numnew = len(pos)
    order = sorted(range(numnew), key=lambda i: pos[i])
    new = list(pos)
    for rank, i in enumerate(order):
        new[i] += rank
    total = n + numnew
    source = [None] * total
    for i, p in enumerate(new):
        source[p] = n + i
    old = iter(range(n))
    source = [next(old) if s is None else s for s in source]
    target = shape[:axis] + (numnew,) + shape[axis + 1:]
    v = _assign_broadcast(v, target)
    return _select_along(_st.concat([arr, v], axis), axis, source)


def _assign_broadcast(v, target):
    """``v`` broadcast to ``target`` as NumPy's assignment ``new[...] = v`` does: leading
    axes of length 1 beyond ``target``'s dimensions are dropped first."""
    vs = _shape(v)
    extra = len(vs) - len(target)
    if extra > 0:
        if not builtins.all(d == 1 for d in vs[:extra]):
            raise ValueError(f"insert: could not broadcast the values of shape {vs} into "
                             f"shape {target}")
        v = _st.reshape(v, vs[extra:])
    return broadcast_to(v, target)


def _block_where(index):
    return "arrays" + "".join(f"[{i}]" for i in index)


def block(arrays):
    """An array assembled from nested lists of blocks: the innermost lists are joined along
    the last axis, the next level along the second-to-last, and so on; every block is first
    given the result's number of dimensions (leading axes of length 1). Tuples are refused
    (only lists arrange blocks), as in NumPy."""
    leaves = []

    def check(a, index):
        if type(a) is tuple:
            raise TypeError(f"block: {_block_where(index)} is a tuple. Only lists can be used "
                            f"to arrange blocks, and block does not allow implicit conversion "
                            f"from tuple to ndarray.")
        if type(a) is list:
            if not a:
                raise ValueError(f"block: list at {_block_where(index)} cannot be empty")
            found = [check(x, index + [i]) for i, x in enumerate(a)]
            for f in found[1:]:
                if f[0] != found[0][0]:
                    raise ValueError(f"block: list depths are mismatched: "
                                     f"{_block_where(found[0][2])} is at depth {found[0][0]} "
                                     f"but {_block_where(f[2])} is at depth {f[0]}")
            return found[0][0], builtins.max(f[1] for f in found), found[0][2]
        leaves.append(a)
        return len(index), (len(_shape(a)) if not _is_plain(a) else _np.ndim(a)), index

    list_nd, arr_nd, _ = check(arrays, [])
    result_nd = builtins.max(list_nd, arr_nd)
    dev = _first_array(leaves)

    def build(a, depth):
        if depth == list_nd:
            a = _conv(a, dev)
            s = _shape(a)
            return _st.reshape(a, (1,) * (result_nd - len(s)) + s) if len(s) < result_nd else a
        parts = [build(x, depth + 1) for x in a]
        return concatenate(parts, axis=depth - list_nd)

    out = build(arrays, 0)
    return _asarray(out, copy=True) if list_nd == 0 else out

# -- pad ---------------------------------------------------------------------------------------

_PAD_KWARGS = {
    "constant": ("constant_values",), "empty": (), "edge": (), "wrap": (),
    "reflect": ("reflect_type",), "symmetric": ("reflect_type",),
    "linear_ramp": ("end_values",), "maximum": ("stat_length",), "minimum": ("stat_length",),
    "mean": ("stat_length",), "median": ("stat_length",),
}
_KIND_TYPE = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def _pairs(values, nd, what, as_index=False):
    """NumPy's reading of a pad parameter: one ``(before, after)`` pair per axis, from a
    single value, one pair for all axes, or anything broadcastable to ``(nd, 2)``."""
    a = _np.asarray(values)
    if as_index:
        a = _np.round(a).astype(_np.int64)
    if a.ndim < 3 and a.size == 1:
        pair = (a.reshape(-1)[0].item(),) * 2
        pairs = [pair] * nd
    elif a.ndim < 3 and a.size == 2 and a.shape != (2, 1):
        flat = a.reshape(-1)
        pairs = [(flat[0].item(), flat[1].item())] * nd
    else:
        try:
            pairs = [tuple(p) for p in _np.broadcast_to(a, (nd, 2)).tolist()]
        except ValueError:
            raise ValueError(f"pad: {what} of shape {a.shape} cannot be broadcast to "
                             f"({nd}, 2)") from None
    if as_index and builtins.any(v < 0 for p in pairs for v in p):
        raise ValueError(f"pad: {what} can't contain negative values")
    return pairs


def _traced_pairs(v, nd, what):
    """As :func:`_pairs` for an array or tracer: 0-d arrays (differentiable) per axis/side."""
    s = _shape(v)
    size = math.prod(s)
    if len(s) < 3 and size == 1:
        f = _st.reshape(v, ())
        return [(f, f)] * nd
    if len(s) < 3 and size == 2 and s != (2, 1):
        f = _st.reshape(v, (2,))
        return [(_basic_getitem(f, 0), _basic_getitem(f, 1))] * nd
    try:
        b = broadcast_to(v, (nd, 2))
    except ShapeError:
        raise ValueError(f"pad: {what} of shape {s} cannot be broadcast to ({nd}, 2)") from None
    return [(_basic_getitem(b, (i, 0)), _basic_getitem(b, (i, 1))) for i in range(nd)]


def _filled(like, value, shape, dt):
    """An array of ``shape`` and dtype ``dt`` next to ``like``, holding ``value`` (a Python
    number, cast as NumPy's assignment does, or a 0-d array/tracer)."""
    if type(value) in _SCALARS:
        c = _st.reshape(_st.full_like(_st.iota(like, 1), _KIND_TYPE[dt.kind](value), dtype=dt),
                        ())
    else:
        c = _st.reshape(astype(value, dt), ())
    return _st.broadcast_in_dim(c, tuple(shape), ())


def _pad_source(mode, n, before, after):
    """For each position of a padded axis, the position of the original it copies."""
    out = []
    for p in range(-before, n + after):
        if mode == "edge" or (n == 1 and mode in ("reflect", "symmetric")):
            j = builtins.min(builtins.max(p, 0), n - 1)
        elif mode == "wrap":
            j = p % n
        elif mode == "reflect":
            m = p % (2 * n - 2)
            j = m if m < n else 2 * n - 2 - m
        else:  # symmetric
            m = p % (2 * n)
            j = m if m < n else 2 * n - 1 - m
        out.append(j)
    return out


def _odd_terms(mode, n, before, after):
    """For ``reflect_type='odd'``: each padded position as ``sign * x[src] + c_last *
    x[n - 1] + c_first * x[0]`` (the odd extension repeated with its period)."""
    period = 2 * n - 2 if mode == "reflect" else 2 * n
    sgn, c_last, c_first = [], [], []
    for p in range(-before, n + after):
        q, r = divmod(p, period)
        if r < n:
            s, cl = 1.0, 0.0
        else:
            s, cl = -1.0, 2.0
        sgn.append(s)
        c_last.append(cl + 2.0 * q)
        c_first.append(-2.0 * q)
    return sgn, c_last, c_first


def pad(array, pad_width, mode="constant", **kwargs):
    """``array`` padded by ``pad_width`` (an int, a ``(before, after)`` pair, one pair per
    axis, or a dict ``{axis: width or pair}``) in NumPy's modes: 'constant' (with
    ``constant_values``: numbers, pairs, one pair per axis, or an array/tracer, which the
    derivative reaches), 'edge', 'reflect' and 'symmetric' (``reflect_type`` 'even' or
    'odd'), 'wrap' (pads longer than the axis repeat as in NumPy), 'empty' (zeros here:
    NumPy leaves those values undefined), 'linear_ramp' (``end_values`` as for
    ``constant_values``, also an array/tracer) and the statistics 'maximum', 'minimum',
    'mean', 'median' of the first/last ``stat_length`` values along each axis (all of them by
    default; integer arrays get the mean and median rounded, as in NumPy). The derivative
    flows to ``array`` (and to traced constant or end values).

    Not supported (NotImplementedError): a callable mode. A zero ``stat_length`` for 'mean'
    or 'median' of an integer array is a ValueError (NumPy writes an undefined integer)."""
    x = _conv(array)
    shape = _shape(x)
    nd = len(shape)
    if isinstance(pad_width, dict):
        seq = [(0, 0)] * nd
        for ax, w in pad_width.items():
            ax = _normalize_axis(operator.index(ax), nd)
            if isinstance(w, int):
                seq[ax] = (w, w)
            elif isinstance(w, tuple) and len(w) == 2 and builtins.all(
                    isinstance(v, int) for v in w):
                seq[ax] = w
            else:
                raise TypeError(f"pad: a dict pad_width maps an axis to an int or a pair of "
                                f"ints; got {w!r} for axis {ax}")
        pad_width = seq
    pw = _host_index(pad_width, "pad", "pad_width")
    if pw.dtype.kind != "i":
        raise TypeError("pad: `pad_width` must be of integral type")
    widths = _pairs(pw, nd, "pad_width", as_index=True)
    if callable(mode):
        raise NotImplementedError("pad: a callable mode is not supported")
    if mode not in _PAD_KWARGS:
        raise ValueError(f"pad: mode '{mode}' is not supported")
    extra = set(kwargs) - set(_PAD_KWARGS[mode])
    if extra:
        raise ValueError(f"pad: unsupported keyword arguments for mode '{mode}': {extra}")
    dt = _dtype(x)
    new_shape = tuple(d + b + a for d, (b, a) in zip(shape, widths))
    if mode in ("constant", "empty"):
        values = kwargs.get("constant_values", 0) if mode == "constant" else 0
        from ._creation import _has_array
        if (_is_plain(values) and not _has_array(values)) \
                or isinstance(values, (_np.ndarray, _np.generic)):
            pairs = _pairs(values, nd, "constant_values")
            if builtins.all(v == 0 for p in pairs for v in p):
                # zeros around: the array placed into zeros of the padded shape
                idx = tuple((b, b + d, 1) for d, (b, _) in zip(shape, widths))
                return _st.scatter_slice(x, new_shape, idx) if new_shape != shape else x
        else:
            pairs = _traced_pairs(_conv(values, x), nd, "constant_values")
        for axis, (b, a) in enumerate(widths):
            if not (b or a):
                continue
            cur = list(_shape(x))
            pieces = []
            if b:
                cur[axis] = b
                pieces.append(_filled(x, pairs[axis][0], cur, dt))
            pieces.append(x)
            if a:
                cur[axis] = a
                pieces.append(_filled(x, pairs[axis][1], cur, dt))
            x = _st.concat(pieces, axis)
        return x
    for axis, (b, a) in enumerate(widths):
        if shape[axis] == 0 and (b or a):
            raise ValueError(f"pad: can't extend empty axis {axis} using modes other than "
                             f"'constant' or 'empty'")
    if math.prod(shape) == 0:
        return _st.reshape(x, new_shape)
    if mode == "linear_ramp":
        return _pad_linear_ramp(x, widths, kwargs.get("end_values", 0), nd, dt)
    if mode in ("maximum", "minimum", "mean", "median"):
        return _pad_stat(x, widths, mode, kwargs.get("stat_length"), nd, dt)
    odd = False
    if mode in ("reflect", "symmetric"):
        rtype = kwargs.get("reflect_type", "even")
        if rtype not in ("even", "odd"):
            raise ValueError(f"pad: reflect_type must be 'even' or 'odd'; got {rtype!r}")
        odd = rtype == "odd"
    for axis, (b, a) in enumerate(widths):
        if not (b or a):
            continue
        n = shape[axis]
        src = _pad_source(mode, n, b, a)
        y = _select_along(x, axis, src)
        if odd and n > 1:
            y = _odd_pad(x, y, axis, mode, n, b, a, dt)
        x = y
    return x


def _wide(dt):
    """The dtype NumPy computes ramps and means of ``dt`` in (float64 or complex128)."""
    return _dt.complex128 if dt.kind == "c" else _dt.float64


def _to_pad_dtype(v, dt):
    """A float mean or median as ``dt`` (rounded half to even first for integers, as
    NumPy does)."""
    if dt.kind in "iu":
        from ._elementwise import round as _round
        v = _round(v)
    return astype(v, dt)


def _pad_linear_ramp(x, widths, end_values, nd, dt):
    """Mode 'linear_ramp': along each axis in turn, the values step linearly from the end
    value (at the outer edge) towards the edge value of the array (not reaching it)."""
    from ._creation import _has_array
    if (_is_plain(end_values) and not _has_array(end_values)) \
            or isinstance(end_values, (_np.ndarray, _np.generic)):
        ends = _pairs(end_values, nd, "end_values")
    else:
        ends = _traced_pairs(_conv(end_values, x), nd, "end_values")
    wide = _wide(dt)
    for axis, (b, a) in enumerate(widths):
        if not (b or a):
            continue
        n = _shape(x)[axis]
        before = _ramp(x, axis, b, ends[axis][0], 0, wide, dt, nd)
        after = _ramp(x, axis, a, ends[axis][1], n - 1, wide, dt, nd)
        if after is not None:
            after = _st.flip(after, (axis,))
        x = _st.concat([p for p in (before, x, after) if p is not None], axis)
    return x


def _ramp(x, axis, width, end, at, wide, dt, nd):
    """``width`` values stepping from ``end`` towards ``x``'s edge value at position ``at``
    of ``axis`` (NumPy's ``linspace(end, edge, width, endpoint=False)``), or None."""
    if not width:
        return None
    edge = astype(_slice_axis(x, axis, at, at + 1), wide)
    if type(end) not in _SCALARS:
        end = astype(end, wide)
    shape = [1] * nd
    shape[axis] = width
    p = _st.reshape(astype(_st.iota(x, width), wide), tuple(shape))
    ramp = add(multiply(p, divide(subtract(edge, end), float(width))), end)
    if dt.kind in "iu":  # NumPy's linspace floors for an integer dtype
        from ._elementwise import floor as _floor
        ramp = _floor(ramp)
    return astype(ramp, dt)


def _pad_stat(x, widths, mode, stat_length, nd, dt):
    """Modes 'maximum', 'minimum', 'mean' and 'median': along each axis in turn, the
    statistic of the first (last) ``stat_length`` values (all by default) fills the pad
    before (after) them."""
    lengths = ([(None, None)] * nd if stat_length is None
               else _pairs(_host_index(stat_length, "pad", "stat_length"), nd, "stat_length",
                           as_index=True))
    for axis, ((b, a), (lb, la)) in enumerate(zip(widths, lengths)):
        n = _shape(x)[axis]
        lb = n if lb is None or lb > n else lb
        la = n if la is None or la > n else la
        if (lb == 0 or la == 0) and mode in ("maximum", "minimum"):
            raise ValueError("pad: stat_length of 0 yields no value for padding")
        if not (b or a):
            continue
        if (lb == 0 or la == 0) and dt.kind in "iub":
            raise ValueError(f"pad: stat_length of 0 gives a NaN {mode}, which an array of "
                             f"dtype {dt.name} cannot hold")
        pieces = []
        if b:
            pieces.append(_pad_statistic(_slice_axis(x, axis, 0, lb), axis, mode, dt, b))
        pieces.append(x)
        if a:
            pieces.append(_pad_statistic(_slice_axis(x, axis, n - la, n), axis, mode, dt, a))
        x = _st.concat(pieces, axis)
    return x


def _pad_statistic(chunk, axis, mode, dt, width):
    from ._base import max as _max, mean as _mean, min as _min
    if mode == "maximum":
        v = _max(chunk, axis=axis, keepdims=True)
    elif mode == "minimum":
        v = _min(chunk, axis=axis, keepdims=True)
    else:
        if dt.kind not in "fc":
            chunk = astype(chunk, _dt.float64)
        if mode == "mean":
            v = _mean(chunk, axis=axis, keepdims=True)
        else:
            from ._mathematics import median as _median
            v = _median(chunk, axis=axis, keepdims=True)
        v = _to_pad_dtype(v, dt)
    shape = list(_shape(v))
    shape[axis] = width
    return _st.broadcast_to(v, tuple(shape))


def _odd_pad(x, y, axis, mode, n, b, a, dt):
    """The odd reflection from the even one ``y``: ``sign * y + c_last * last + c_first *
    first`` with static coefficients along ``axis``."""
    sgn, c_last, c_first = _odd_terms(mode, n, b, a)
    nd = len(_shape(x))
    cshape = [1] * nd
    cshape[axis] = len(sgn)
    fdt = dt if dt.kind in "fc" else _dt.float64

    def coef(v):
        return _st.reshape(_make(x, v, fdt), tuple(cshape))
    first = _slice_axis(x, axis, 0, 1)
    last = _slice_axis(x, axis, n - 1, n)
    out = add(add(multiply(coef(sgn), y), multiply(coef(c_last), last)),
              multiply(coef(c_first), first))
    return astype(out, dt)

# -- sequences ---------------------------------------------------------------------------------


def _linspace(start, stop, num, endpoint, axis, name):
    """NumPy's linspace on arrays (broadcast together; the samples along a new axis 0,
    moved to ``axis``): differentiable in ``start`` and ``stop``."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"{name}: number of samples, {num}, must be non-negative")
    dev = _first_array([start, stop])
    s0, s1 = _conv(start, dev), _conv(stop, dev)
    dt = _np_common(_weak_scalars((start, stop), (s0, s1)) + [float(num)])
    start, stop = astype(s0, dt), astype(s1, dt)
    if _base._PROMOTION_CHECKS:  # (endpoints broadcast together, as a binary function's)
        _promotion.check_ranks(name, start, stop)
    shape = broadcast_shapes(_shape(start), _shape(stop))
    start, stop = broadcast_to(start, shape), broadcast_to(stop, shape)
    div = num - 1 if endpoint else num
    delta = subtract(stop, start)
    steps = _st.reshape(astype(_st.iota(start, num), dt), (num,) + (1,) * len(shape))
    # (the endpoints given the samples' axis: no rank promotion of the caller's to refuse)
    delta, first = _st.reshape(delta, (1,) + shape), _st.reshape(start, (1,) + shape)
    y = multiply(steps, divide(delta, float(div)) if div > 0 else delta)
    y = add(y, first)
    if endpoint and num > 1:
        y = _st.concat([_slice_axis(y, 0, 0, num - 1), _st.reshape(stop, (1,) + shape)], 0)
    return y, start, stop, dt


def _weak_scalars(given, converted):
    """The endpoints for the result dtype: Python numbers as given (weak: a float32
    ``start`` with ``stop=8.0`` stays float32, as NumPy's linspace/logspace and jax.numpy
    give), everything else converted."""
    return [g if type(g) in _SCALARS else c for g, c in zip(given, converted)]


def _move_from_0(y, axis):
    nd = _nd(y)
    axis = _normalize_axis(operator.index(axis), nd)
    if axis == 0:
        return y
    perm = list(range(1, nd))
    perm.insert(axis, 0)
    return _st.transpose(y, tuple(perm))


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``num`` numbers spaced evenly on a log scale: ``base ** linspace(start, stop)``,
    along ``axis`` (start, stop and base broadcast together). Differentiable in ``start``,
    ``stop`` and an array ``base``."""
    if type(base) in _SCALARS:
        y, _, _, _ = _linspace(start, stop, num, endpoint, 0, "logspace")
        y = _move_from_0(y, axis)
        out = _pow(base, y)
    else:
        dev = _first_array([start, stop, base])
        start, stop, base = _conv(start, dev), _conv(stop, dev), _conv(base, dev)
        if _base._PROMOTION_CHECKS:
            _promotion.check_ranks("logspace", start, stop, base)
        nd = builtins.max(_nd(start), _nd(stop), _nd(base))
        start, stop, base = (_st.reshape(v, (1,) * (nd - _nd(v)) + _shape(v))
                             for v in (start, stop, base))
        y, _, _, _ = _linspace(start, stop, num, endpoint, 0, "logspace")
        y = _move_from_0(y, axis)
        ax = _normalize_axis(operator.index(axis), _nd(y))
        out = _pow(expand_dims(base, axis=ax), y)
    return out if dtype is None else astype(out, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop`` (a geometric
    progression; both negative gives negative numbers), the endpoints exact. Differentiable
    in ``start`` and ``stop``. A zero endpoint is refused (ValueError) when given as a
    Python number or NumPy value; array or tracer endpoints are not inspected (a zero gives
    nan/inf there). Complex endpoints follow NumPy's: the points lie on the logarithmic
    spiral from ``start`` to ``stop`` (the principal logarithm). float32 endpoints give
    float32, as ``linspace`` and ``logspace`` do and as in jax.numpy (NumPy's ``geomspace``
    alone gives float64 there)."""
    for v in (start, stop):
        if (_is_plain(v) or isinstance(v, (_np.ndarray, _np.generic))) \
                and not isinstance(v, Tracer):
            try:
                zero = bool(_np.any(_np.asarray(v) == 0))
            except Exception:
                zero = False
            if zero:
                raise ValueError("geomspace: geometric sequence cannot include zero")
    num = operator.index(num)
    dev = _first_array([start, stop])
    s0, s1 = _conv(start, dev), _conv(stop, dev)
    dt = _np_common(_weak_scalars((start, stop), (s0, s1)) + [float(num)])
    s0, s1 = astype(s0, dt), astype(s1, dt)
    if _base._PROMOTION_CHECKS:
        _promotion.check_ranks("geomspace", s0, s1)
    shape = broadcast_shapes(_shape(s0), _shape(s1))
    s0, s1 = broadcast_to(s0, shape), broadcast_to(s1, shape)
    out_sign = _sign(s0)
    s0 = divide(s0, out_sign)
    s1 = divide(s1, out_sign)
    y, _, _, _ = _linspace(_log10(s0), _log10(s1), num, endpoint, 0, "geomspace")
    res = _pow(10.0, y)
    if num > 0:
        pieces = [_st.reshape(s0, (1,) + shape)]
        if num > 1:
            pieces.append(_slice_axis(res, 0, 1, num - 1 if endpoint else num))
            if endpoint:
                pieces.append(_st.reshape(s1, (1,) + shape))
        res = _st.concat(pieces, 0) if len(pieces) > 1 else pieces[0]
    res = multiply(res, _st.reshape(out_sign, (1,) + shape))
    res = _move_from_0(res, axis)
    return res if dtype is None else astype(res, dtype)

# -- indices -----------------------------------------------------------------------------------


def argwhere(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements of ``a``, one row per element (shape
    ``(count, a.ndim)``, int64). Needs concrete values: the result's shape depends on
    them, unless ``size`` (``jax.numpy``'s extension) fixes the number of rows: the first
    ``size`` positions, then rows of ``fill_value`` (0 unless given; a number or one per
    axis), which also works on traced values (``jit``, ``vmap``)."""
    a = _conv(a)
    if _nd(a) == 0:
        r = argwhere(_st.reshape(a, (1,)), size=size,
                     fill_value=fill_value if size is not None else None)
        return _slice_axis(r, 1, 0, 0)
    if size is not None:
        from ._searching import _nonzero_sized
        idx = _nonzero_sized(a, size, fill_value, "argwhere")
    elif fill_value is not None:
        raise ValueError("argwhere: fill_value needs size (the number of rows to fill up to)")
    else:
        idx = _ix.nonzero(a)
    cols = [_st.reshape(astype(i, _dt.int64), (_shape(i)[0], 1)) for i in idx]
    return cols[0] if len(cols) == 1 else _st.concat(cols, 1)


def flatnonzero(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements of the flattened ``a`` (int64). Needs concrete
    values: the result's shape depends on them, unless ``size`` (``jax.numpy``'s extension)
    fixes the length: the first ``size`` indices, then ``fill_value`` (0 unless given), which
    also works on traced values."""
    a = _conv(a)
    flat = _st.reshape(a, (math.prod(_shape(a)),))
    if size is not None:
        from ._searching import _nonzero_sized
        return _nonzero_sized(flat, size, fill_value, "flatnonzero")[0]
    if fill_value is not None:
        raise ValueError("flatnonzero: fill_value needs size (the length to fill up to)")
    return astype(_ix.nonzero(flat)[0], _dt.int64)


def _dims(shape, name):
    shape = (operator.index(shape),) if hasattr(shape, "__index__") else tuple(
        operator.index(d) for d in shape)
    if builtins.any(d < 0 for d in shape):
        raise ValueError(f"{name}: dimensions must be non-negative")
    return shape


def _int_operand(v, dev, name):
    v = _conv(v, dev)
    if _dtype(v).kind not in "iu":
        raise TypeError(f"{name}: only integer indices are permitted; got {_dtype(v).name}")
    return v


def _concrete_true(flag):
    """Whether a boolean check on a concrete array holds (tracers are not inspected)."""
    if isinstance(flag, Tracer):
        return False
    return bool(_np.asarray(backend_of(flag).to_numpy(flag)))


def unravel_index(indices, shape, order="C"):
    """The coordinates in an array of ``shape`` of the flat ``indices`` (a tuple of int64
    arrays, one per axis; 0-d arrays for a Python int). Row-major (``order='C'``) or
    column-major ('F'). Out-of-range indices raise ValueError for concrete values; for
    tracers they are not checked."""
    _check_order("unravel_index", order, ("C", "F"))
    shape = _dims(shape, "unravel_index")
    size = math.prod(shape)
    idx = _int_operand(indices, None, "unravel_index")
    if math.prod(_shape(idx)) and _concrete_true(
            _any(_logical_or(less(idx, 0), greater_equal(idx, size)))):
        raise ValueError(f"unravel_index: index out of bounds for an array with size {size}")
    idx = astype(idx, _dt.int64)
    out = []
    for d in (reversed(shape) if order == "C" else shape):
        d = builtins.max(d, 1)
        out.append(_remainder(idx, d))
        idx = _floor_divide(idx, d)
    return tuple(reversed(out)) if order == "C" else tuple(out)


_MODES = ("raise", "wrap", "clip")


def ravel_multi_index(multi_index, dims, mode="raise", order="C", *, dtype=None):
    """The flat indices, in an array of shape ``dims``, of the coordinates ``multi_index``
    (one integer array per axis, broadcast together), int64 (or jax.numpy's ``dtype``, an
    integer dtype that holds every flat index). ``mode`` ('raise', 'wrap' or 'clip', or one
    per axis) handles out-of-range coordinates; 'raise' checks concrete values only (tracers
    are not inspected)."""
    _check_order("ravel_multi_index", order, ("C", "F"))
    dims = _dims(dims, "ravel_multi_index")
    if dtype is not None:
        from ._searching import _index_dtype
        d = _index_dtype("ravel_multi_index", dtype, builtins.max(math.prod(dims) - 1, 0),
                         f"an array of shape {tuple(dims)}")
        out = ravel_multi_index(multi_index, dims, mode, order)
        return out if d is _dt.int64 else astype(out, d)
    modes = (mode,) * len(dims) if isinstance(mode, str) else tuple(mode)
    if len(modes) != len(dims):
        raise ValueError("ravel_multi_index: mode must be one string or one per dimension")
    for m in modes:
        if m not in _MODES:
            raise ValueError(f"ravel_multi_index: clipmode must be one of 'raise', 'wrap' "
                             f"or 'clip'; got {m!r}")
    multi_index = list(multi_index)
    if len(multi_index) != len(dims):
        raise ValueError(f"ravel_multi_index: parameter multi_index must be a sequence of "
                         f"length {len(dims)}")
    dev = _first_array(multi_index)
    coords = [astype(_int_operand(v, dev, "ravel_multi_index"), _dt.int64)
              for v in multi_index]
    bshape = broadcast_shapes(*[_shape(c) for c in coords])
    coords = [broadcast_to(c, bshape) for c in coords]
    strides = []
    acc = 1
    for d in (reversed(dims) if order == "C" else dims):
        strides.append(acc)
        acc *= d
    if order == "C":
        strides = strides[::-1]
    total = None
    for c, d, m, s in zip(coords, dims, modes, strides):
        if m == "wrap":
            c = _remainder(c, builtins.max(d, 1))
        elif m == "clip":
            c = _clip(c, 0, builtins.max(d - 1, 0))
        elif math.prod(bshape) and _concrete_true(
                _any(_logical_or(less(c, 0), greater_equal(c, d)))):
            raise ValueError("ravel_multi_index: invalid entry in coordinates array")
        term = multiply(c, s) if s != 1 else c
        total = term if total is None else add(total, term)
    return total


def select(condlist, choicelist, default=0):
    """Elementwise, the entry of the first ``choicelist`` array whose condition in
    ``condlist`` (boolean arrays) holds, else ``default``; everything broadcast together.
    The dtype is the common dtype of the choices and default (Python numbers weakly typed,
    as in NumPy). The derivative flows to the choices and the default."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select: select with an empty condition list is not possible")
    dev = _first_array(condlist + choicelist + [default])

    def conv(c):
        return c if type(c) in (int, float, complex) else _conv(c, dev)
    choices = [conv(c) for c in choicelist] + [conv(default)]
    if builtins.all(type(c) in _SCALARS for c in choices):
        choices[-1] = _conv(choices[-1], dev)
    conds = [_conv(c, dev) for c in condlist]
    for i, c in enumerate(conds):
        if _dtype(c).kind != "b":
            raise TypeError(f"select: invalid entry {i} in condlist: should be boolean ndarray")
    dt = _np_common(choices)
    shape = broadcast_shapes(*[_shape(c) for c in conds + choices if type(c) not in _SCALARS])
    result = _conv(choices[-1], dev)
    result = broadcast_to(astype(result, dt), shape)
    for c, v in zip(conds[::-1], choices[-2::-1]):
        result = where(c, v, result)
    return broadcast_to(astype(result, dt), shape)


def compress(condition, a, axis=None, out=None, *, size=None, fill_value=0):
    """The slices of ``a`` along ``axis`` (of the flattened array if None) where the 1-d
    ``condition`` is true; ``condition`` may be shorter than the axis (the rest is left out)
    or longer with only false entries beyond it. Needs concrete values: the result's shape
    depends on them. ``out=`` is not supported.

    ``size`` (jax.numpy's keyword): exactly ``size`` slices, the first ``size`` selected
    ones followed by slices of ``fill_value`` (0 by default, in ``a``'s dtype). The shape is
    then known beforehand, so it works under ``jit`` and ``vmap``."""
    if out is not None:
        raise NotImplementedError("compress: out= is not supported; use the returned array")
    if size is not None:
        return _compress_sized(condition, a, axis, size, fill_value, "compress")
    a = _conv(a)
    cond = _conv(condition, a)
    if _nd(cond) != 1:
        raise ValueError("compress: condition must be a 1-d array")
    if axis is None:
        a = _st.reshape(a, (math.prod(_shape(a)),))
        axis = 0
    axis = _normalize_axis(operator.index(axis), _nd(a))
    n, k = _shape(a)[axis], _shape(cond)[0]
    if k > n:
        beyond = _ix.nonzero(_slice_axis(cond, 0, n, k))[0]
        if _shape(beyond)[0]:
            raise IndexError(f"compress: condition is true beyond the axis length {n} (axis "
                             f"{axis})")
        cond = _slice_axis(cond, 0, 0, n)
    idx = _ix.nonzero(cond)[0]
    return _take(a, idx, axis=axis)


def _compress_sized(condition, a, axis, size, fill_value, name):
    from ._searching import nonzero
    from ._searching import _check_size
    size = _check_size(name, size)
    a = _conv(a)
    cond = _conv(condition, a)
    if _nd(cond) != 1:
        raise ValueError(f"{name}: condition must be a 1-d array")
    if axis is None:
        a = _st.reshape(a, (math.prod(_shape(a)),))
        axis = 0
    axis = _normalize_axis(operator.index(axis), _nd(a))
    n, k = _shape(a)[axis], _shape(cond)[0]
    cond = _base.not_equal(cond, False if _dtype(cond).kind == "b" else 0)
    if k > n:
        if _concrete_true(_any(_slice_axis(cond, 0, n, k))):
            raise IndexError(f"{name}: condition is true beyond the axis length {n} (axis "
                             f"{axis})")
        cond = _slice_axis(cond, 0, 0, n)
    fill = _base._initial_value(a, fill_value, "fill_value")
    shape = _shape(a)[:axis] + (size,) + _shape(a)[axis + 1:]
    if n == 0 or k == 0 or size == 0:
        return _st.broadcast_to(fill, shape)
    idx = nonzero(cond, size=size, fill_value=n)[0]
    kept = _base.less(idx, n)
    got = _take(a, _base.where(kept, idx, 0), axis=axis)
    kept = _st.reshape(kept, tuple(size if i == axis else 1 for i in range(_nd(a))))
    return _base.where(kept, got, fill)


def resize(a, new_shape):
    """An array of ``new_shape`` filled with the elements of ``a`` (flattened) repeated as
    often as needed; zeros if ``a`` or the result is empty."""
    shape = (operator.index(new_shape),) if hasattr(new_shape, "__index__") else tuple(
        operator.index(d) for d in new_shape)
    if builtins.any(d < 0 for d in shape):
        raise ValueError("resize: all elements of `new_shape` must be non-negative")
    a = _conv(a)
    size = math.prod(_shape(a))
    new_size = math.prod(shape)
    if size == 0 or new_size == 0:
        return _filled(a, 0, shape, _dtype(a))
    flat = _st.reshape(a, (size,))
    reps = -(-new_size // size)
    if reps > 1:
        flat = _st.reshape(_st.broadcast_in_dim(flat, (reps, size), (1,)), (reps * size,))
    return _st.reshape(_slice_axis(flat, 0, 0, new_size), shape)


def _tri_indices(name, n, k, m, lower, like=None):
    n = operator.index(n)
    m = n if m is None else operator.index(m)
    k = operator.index(k)
    mask = _np.arange(m)[None, :] - _np.arange(n)[:, None]
    rows, cols = _np.nonzero(mask <= k if lower else mask >= k)  # static index values
    return tuple(_make(like, v.tolist(), _dt.int64) for v in (rows, cols))


def tril_indices(n, k=0, m=None):
    """The (row, column) indices of the lower triangle (diagonal ``k`` and below) of an
    ``(n, m)`` array (``m`` defaults to ``n``), as two int64 arrays of the default
    backend, row by row."""
    return _tri_indices("tril_indices", n, k, m, True)


def triu_indices(n, k=0, m=None):
    """The (row, column) indices of the upper triangle (diagonal ``k`` and above) of an
    ``(n, m)`` array, as two int64 arrays of the default backend, row by row."""
    return _tri_indices("triu_indices", n, k, m, False)


def _matrix_shape(arr, name):
    s = _shape(_conv(arr))
    if len(s) != 2:
        raise ValueError(f"{name}: input array must be 2-d")
    return s


def tril_indices_from(arr, k=0):
    """:func:`tril_indices` for the shape of the 2-d ``arr`` (the indices live next to
    ``arr``)."""
    n, m = _matrix_shape(arr, "tril_indices_from")
    return _tri_indices("tril_indices_from", n, k, m, True, _conv(arr))


def triu_indices_from(arr, k=0):
    """:func:`triu_indices` for the shape of the 2-d ``arr`` (the indices live next to
    ``arr``)."""
    n, m = _matrix_shape(arr, "triu_indices_from")
    return _tri_indices("triu_indices_from", n, k, m, False, _conv(arr))


def diag_indices(n, ndim=2):
    """The indices of the main diagonal of an array of ``ndim`` axes of length ``n``: a tuple
    of ``ndim`` copies of ``arange(n)`` (int64, default backend)."""
    n, ndim = operator.index(n), operator.index(ndim)
    idx = _make(None, list(range(n)), _dt.int64)
    return (idx,) * ndim


def diag_indices_from(arr):
    """:func:`diag_indices` for ``arr`` (at least 2-d, all axes of one length; the indices
    live next to ``arr``)."""
    a = _conv(arr)
    s = _shape(a)
    if len(s) < 2:
        raise ValueError("diag_indices_from: input array must be at least 2-d")
    if len(set(s)) != 1:
        raise ValueError("diag_indices_from: All dimensions of input must be of equal length")
    idx = _st.iota(a, s[0])
    return (idx,) * len(s)


def indices(dimensions, dtype=int, sparse=False):
    """The grid of indices of an array of shape ``dimensions``: one array per axis, holding
    each position's index along it, stacked into shape ``(len(dimensions), *dimensions)``;
    with ``sparse``, a tuple of arrays of shape ``(1, ..., n_i, ..., 1)`` instead. Default
    backend; ``dtype`` int gives int64."""
    dims = tuple(operator.index(d) for d in dimensions)
    dt = _dt.int64 if dtype is int else _dt.as_dtype(dtype)
    if dt.kind == "b" and builtins.any(d > 2 for d in dims):
        raise TypeError("indices: a boolean grid holds the indices 0 and 1 only (as NumPy, "
                        "which allows dtype=bool for axes of length at most 2)")
    nd = len(dims)
    out = []
    for i, d in enumerate(dims):
        v = astype(_make(None, list(range(d)), _dt.int64), dt)
        shape = [1] * nd
        shape[i] = d
        v = _st.reshape(v, tuple(shape))
        out.append(v if sparse else _st.broadcast_to(v, dims))
    if sparse:
        return tuple(out)
    if not out:
        return _make(None, [], dt)
    return _st.concat([_st.reshape(v, (1,) + dims) for v in out], 0)


# -- index tricks: r_, c_, mgrid, ogrid ----------------------------------------------------------


def _slice_values(sl, like=None):
    """The values of ``start:stop:step`` (a complex step ``nj``, a Python or NumPy complex
    number: n points, stop included), in the library and on the device of ``like`` where
    given."""
    from ._creation import linspace
    start = 0 if sl.start is None else sl.start
    step = 1 if sl.step is None else sl.step
    if isinstance(step, (complex, _np.complexfloating)):  # (np.complex64 is no complex)
        if like is None:
            return linspace(start, sl.stop, int(abs(step)))
        vals = _np.linspace(start, sl.stop, int(abs(step)))
    else:
        vals = _np.arange(start, sl.stop, step)
    return _to_array(vals.tolist(), dtype=_dt.float64 if vals.dtype.kind == "f" else _dt.int64,
                     like=like)


class _Concatenator:
    """NumPy's ``r_`` and ``c_``: ``r_[a, b, 0:3, 5]`` joins arrays, numbers and slices
    (``start:stop:step``, or ``start:stop:nj`` for n points) along the first axis; ``c_``
    along the last (1-d pieces become columns). A leading string ``'axis'``,
    ``'axis,ndmin'`` or ``'axis,ndmin,trans1d'`` chooses the axis, the least number of
    dimensions, and where a piece of fewer dimensions puts its own axes among the ``ndmin``
    (NumPy's rule: its axes start at position ``trans1d``, the added length-1 axes fill the
    others; -1, ``r_``'s default, puts them last, ``c_``'s 0 first, so that a 1-d piece is
    a column). A number is not moved: it is a piece of ``ndmin`` length-1 axes."""

    def __init__(self, axis, ndmin, trans1d, name):
        self.axis, self.ndmin, self.trans1d, self.name = axis, ndmin, trans1d, name

    def __getitem__(self, key):
        from ._base import reshape
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if key and isinstance(key[0], str):
            spec = key[0].split(",")
            if spec[0] in ("r", "c"):
                raise NotImplementedError(f"{self.name}: the matrix directives 'r' and 'c' "
                                          f"are not supported")
            try:
                if len(spec) > 3:
                    raise ValueError
                nums = [int(s) for s in spec]
            except ValueError:
                raise ValueError(f"{self.name}: unknown directive {key[0]!r}; a leading string "
                                 f"is 'axis', 'axis,ndmin' or 'axis,ndmin,trans1d' (integers)"
                                 ) from None
            axis = nums[0]
            if len(nums) > 1:
                ndmin = nums[1]
            if len(nums) > 2:
                trans1d = nums[2]
            key = key[1:]
        pieces, kinds = [], []
        # numbers and ranges join the arrays' library and device (NumPy scalars too)
        like = _first_array([k for k in key if not isinstance(k, slice)])
        if type(like) in _NOT_ARRAY_OR_NP_SCALAR:
            like = None
        for k in key:
            if isinstance(k, slice):
                a = _slice_values(k, like)
                if ndmin > 1 and trans1d != -1:  # NumPy moves a range's axis alone
                    a = _range_to_ndmin(a, ndmin, trans1d, self.name)
            elif like is not None and (_is_plain(k) or type(k) in _NUMPY_SCALARS):
                a = _conv(k, like)
            else:
                a = _asarray(k)
            # NumPy's rule: a Python number does not up-cast the arrays (r_[int8, 1] is int8)
            kinds.append(k if type(k) in (bool, int, float, complex) else a)
            if a.ndim < ndmin:
                a = _to_ndmin(a, ndmin, trans1d if a.ndim else -1, self.name)
            pieces.append(a)
        if not pieces:
            return _asarray([])
        if ndmin <= 1:
            pieces = [reshape(a, (1,)) if a.ndim == 0 else a for a in pieces]
        from ._dtypes import result_type
        to = result_type(*kinds)
        pieces = [a if a.dtype == to else astype(a, to) for a in pieces]
        return concatenate(pieces, axis=axis)

    def __len__(self):
        return 0


def _range_to_ndmin(a, ndmin, trans1d, name):
    """A range's values (1-d) of ``r_``/``c_`` as ``ndmin`` dimensions, its axis at
    ``trans1d`` (NumPy's rule for a slice, a swap of the last axis with that one)."""
    from ._base import reshape
    if not -ndmin <= trans1d < ndmin:
        raise ValueError(f"{name}: the directive's third number {trans1d} is no axis of "
                         f"{ndmin} dimensions (a range's axis goes there)")
    shape = [1] * ndmin
    shape[trans1d] = a.shape[0]
    return reshape(a, tuple(shape))


def _to_ndmin(a, ndmin, trans1d, name):
    """``a`` (of fewer than ``ndmin`` dimensions) with length-1 axes added up to ``ndmin``:
    by NumPy's r_/c_ rule, its own axes from position ``trans1d`` on (-1: last; another
    negative number counts from the end as NumPy's list slicing does)."""
    from ._base import reshape
    nd = a.ndim
    k = ndmin - nd  # the number of added axes, which come first before the permutation
    if trans1d == -1 or 0 <= trans1d <= k:  # (the piece's axes from position trans1d on)
        start = k if trans1d == -1 else trans1d
        return reshape(a, (1,) * start + tuple(a.shape) + (1,) * (k - start))
    shape = (1,) * k + tuple(a.shape)
    if trans1d != -1:
        k1 = trans1d + k + 1 if trans1d < 0 else trans1d
        axes = list(range(ndmin))
        perm = axes[:k1] + axes[k:] + axes[k1:k]
        if sorted(perm) != axes:
            raise ValueError(f"{name}: the directive's third number {trans1d} does not place "
                             f"the axes of a {nd}-d piece among {ndmin} dimensions (0 to {k} "
                             f"puts them from that position on, -1 last)")
        # a permutation that keeps the piece's own axes in order: a reshape
        shape = tuple(shape[i] for i in perm)
    return reshape(a, shape)


r_ = _Concatenator(0, 1, -1, "r_")
c_ = _Concatenator(-1, 2, 0, "c_")


class _Grid:
    """NumPy's ``mgrid`` (dense coordinate arrays, stacked) and ``ogrid`` (open: one
    broadcastable array per axis): ``mgrid[0:2, 0:3]``, ``mgrid[-1:1:5j]``."""

    def __init__(self, sparse, name):
        self.sparse, self.name = sparse, name

    def __getitem__(self, key):
        from ._base import reshape, stack
        from ._creation import meshgrid
        single = not isinstance(key, tuple)
        if single:
            key = (key,)
        if not all(isinstance(k, slice) for k in key):
            raise TypeError(f"{self.name}: index with slices (start:stop:step)")
        vals = [_slice_values(k) for k in key]
        if single:
            return vals[0]
        if builtins.any(v.dtype != vals[0].dtype for v in vals):
            vals = [astype(v, _dt.float64) for v in vals]
        n = len(vals)
        if self.sparse:
            return tuple(reshape(v, tuple(-1 if i == j else 1 for j in range(n)))
                         for i, v in enumerate(vals))
        return stack(meshgrid(*vals, indexing="ij"), axis=0)


mgrid = _Grid(False, "mgrid")
ogrid = _Grid(True, "ogrid")
