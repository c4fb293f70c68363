"""Searching, sorting and set functions: argmax, argmin, nonzero, searchsorted,
count_nonzero, sort, argsort and the unique_* family.

``sort`` is differentiable (the tangent is gathered by the sorting permutation; at ties the
stable order decides which element the derivative reaches, as in JAX). The others return
integers or data-dependent shapes and carry no derivative; ``nonzero`` and ``unique_*`` need
concrete values (eager transforms).
"""

from __future__ import annotations

from builtins import max as builtins_max
from collections import namedtuple

from .. import dtypes as _dt
from ..primitives import elementwise as _ew
from ..primitives import indexing as _ix
from ..primitives import reductions as _red
from ..primitives import sorting as _so
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _no_out, _dtype, _normalize_axis, _promote_arrays,
                    _reduce, _shape, _to_array)


def _as_ordered(x):
    """``x`` with booleans as uint8 (False < True), which every library orders: NumPy sorts
    and compares booleans, while torch's argmax and array-api-strict's ordering functions
    refuse them."""
    return _st.convert_element_type(x, _dt.uint8) if _dtype(x) is _dt.bool_ else x


def _arg_reduction(prim, x, axis, keepdims):
    x = _as_ordered(_as_operand(x))
    shape = _shape(x)
    if axis is None:
        out = prim.bind(_st.reshape(x, (-1,)), axis=0)
        return _st.reshape(out, (1,) * len(shape)) if keepdims else out
    if not shape:  # NumPy's: a 0-d array's only axis is that of its one element (0 or -1)
        _normalize_axis(axis, 1)
        return prim.bind(_st.reshape(x, (1,)), axis=0)
    axis = _normalize_axis(axis, len(shape))
    out = prim.bind(x, axis=axis)
    if keepdims:
        out = _st.reshape(out, shape[:axis] + (1,) + shape[axis + 1:])
    return out


def argmax(a, axis=None, out=None, keepdims=False):
    """Index of the (first) maximum along ``axis`` (of the flattened array if ``None``)."""
    if out is not None:
        _no_out("argmax", out)
    return _arg_reduction(_red.argmax_p, a, axis, keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    """Index of the (first) minimum along ``axis`` (of the flattened array if ``None``)."""
    if out is not None:
        _no_out("argmin", out)
    return _arg_reduction(_red.argmin_p, a, axis, keepdims)


def _check_size(name, size, param="size", meaning="the static length of the result"):
    """A static, non-negative Python int given as ``param`` (JAX's ``size=``, ``length=``)."""
    import operator
    if isinstance(size, bool):
        raise TypeError(f"{name}: {param} must be an integer (not a bool)")
    try:
        size = operator.index(size)
    except TypeError:
        raise TypeError(f"{name}: {param} must be a Python integer ({meaning}); got "
                        f"{type(size).__name__}") from None
    if size < 0:
        raise ValueError(f"{name}: {param} must not be negative; got {size}")
    return size


def _nonzero_sized(x, size, fill_value, name):
    """``nonzero(x)`` as ``len(shape)`` int64 arrays of exactly ``size`` entries: the first
    ``size`` non-zero positions in row-major order, then ``fill_value`` (a number, or one per
    axis). Built from a stable sort, so the values need not be concrete (jit, vmap)."""
    from ._base import less, where
    from ._elementwise import floor_divide, remainder
    from ._statistics import _init_like
    from ._statistics import sum as _sum
    shape = _shape(x)
    size = _check_size(name, size)
    nd = len(shape)
    if fill_value is None:
        fills = (0,) * nd
    elif isinstance(fill_value, (tuple, list)):
        if len(fill_value) != nd:
            raise ValueError(f"{name}: fill_value has {len(fill_value)} entries; give a "
                             f"number or one per axis ({nd})")
        fills = tuple(fill_value)
    else:
        fills = (fill_value,) * nd
    for f in fills:
        if type(f) is not int and not (hasattr(f, "shape") and _shape(f) == ()
                                       and _dtype(f).kind in "iu"):
            raise TypeError(f"{name}: fill_value must be an integer (or a 0-d integer "
                            f"array), or one per axis; got {f!r}")
    n = 1
    for d in shape:
        n *= d
    mask = _ew.ne(x, False if _dtype(x).kind == "b" else 0)
    flat = _st.reshape(mask, (n,))
    # stable sort of "is zero": the non-zero positions first, each group in its order
    order = _st.convert_element_type(
        argsort(_st.convert_element_type(_ew.logical_not(flat), _dt.int8)), _dt.int64)
    if size <= n:
        order = order[:size]
    else:
        pad = _init_like(_st.convert_element_type(flat, _dt.int64), (size - n,), 0)
        order = _st.concat([order, pad], 0) if n else pad
    count = _sum(_st.convert_element_type(flat, _dt.int64))
    valid = less(_st.iota(order, size, _dt.int64), count)
    coords, rest = [], order
    for d in reversed(shape):
        coords.append(remainder(rest, builtins_max(d, 1)))
        rest = floor_divide(rest, builtins_max(d, 1))
    coords.reverse()
    return tuple(where(valid, c, f) for c, f in zip(coords, fills))


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements, one integer array per axis (needs concrete values).

    ``size`` (an extension of ``jax.numpy.nonzero``): each array has exactly ``size``
    entries, the first ``size`` non-zero positions followed by ``fill_value`` (0 unless
    given; a number, or a tuple with one per axis). Its result's shape is then known
    beforehand, so it also works under ``jit`` and ``vmap`` on traced values."""
    a = _as_operand(a)
    if not _shape(a):
        raise ValueError("nonzero is not defined for 0-d arrays; use reshape(x, (1,)) first")
    if size is not None:
        return _nonzero_sized(a, size, fill_value, "nonzero")
    if fill_value is not None:
        raise ValueError("nonzero: fill_value needs size (the length to fill up to)")
    return tuple(_ix.nonzero(a))


def count_nonzero(a, axis=None, keepdims=False):
    """Number of non-zero elements along ``axis`` (int64)."""
    a = _as_operand(a)
    nz = _ew.ne(a, False if _dtype(a).kind == "b" else 0)
    return _reduce(_red.reduce_sum, _st.convert_element_type(nz, _dt.int64), axis, keepdims)


_SEARCH_METHODS = ("scan", "scan_unrolled", "sort", "compare_all")


def _check_method(name, method):
    # jax.numpy's choice of algorithm: the answers are the same, so it changes nothing here
    if method not in _SEARCH_METHODS:
        raise ValueError(f"{name}: method must be one of {', '.join(map(repr, _SEARCH_METHODS))}"
                         f"; got {method!r}")


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Indices where the values ``v`` would be inserted into the sorted 1-d ``a``
    (``side`` and ``sorter`` may be positional, as NumPy's). jax.numpy's ``method`` (its
    algorithm) is accepted and changes nothing."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right'; got {side!r}")
    _check_method("searchsorted", method)
    a = _as_operand(a)
    if sorter is not None:
        from ._indexing import take
        a = take(a, sorter, axis=0)
    if type(v) in _SCALARS:
        v = _to_array(v, dtype=_dtype(a), like=a)
    v = _as_operand(v)
    (a, v), _ = _promote_arrays([a, v])
    return _so.searchsorted_p.bind(a, v, side=side)


def _no_order(name, order, kind=None):
    if kind is not None and (not isinstance(kind, str) or kind[:1].lower() not in "qmhs"
                             or not kind):
        raise ValueError(f"{name}: kind must be one of 'quicksort', 'mergesort', 'heapsort' "
                         f"or 'stable' (every sort here is stable); got {kind!r}")
    if order is not None:
        raise NotImplementedError(f"{name}(order=...) needs structured arrays, which "
                                  f"functrans does not have")


def sort(a, axis=-1, kind=None, order=None, *, descending=False, stable=True):
    """Sorted copy of ``a`` along ``axis`` (always stable; ``axis=None``: of the flattened
    array, as in NumPy). Differentiable: the derivative follows each element to its sorted
    position. NumPy's ``kind`` is accepted and changes nothing (every sort is stable);
    ``order`` (structured arrays) is not supported."""
    _no_order("sort", order, kind)
    a = _as_operand(a)
    if axis is None:
        a, axis = _st.reshape(a, (-1,)), 0
    if not _shape(a):  # a 0-d array has no axis to sort along: AxisError, as NumPy's
        _normalize_axis(axis, 0)
    out = _so.sort(_as_ordered(a), _normalize_axis(axis, len(_shape(a))), descending)
    return _st.convert_element_type(out, _dt.bool_) if _dtype(a) is _dt.bool_ else out


def argsort(a, axis=-1, kind=None, order=None, *, descending=False, stable=True,
            dtype=None):
    """Indices that sort ``a`` along ``axis`` (always stable; ``axis=None``: of the
    flattened array). NumPy's ``kind`` is accepted and changes nothing; ``order``
    (structured arrays) is not supported. ``dtype`` (jax.numpy's): the indices' integer
    dtype (int64 by default), which must hold every position along the axis."""
    _no_order("argsort", order, kind)
    a = _as_operand(a)
    if axis is None or not _shape(a):  # (NumPy's: a 0-d array as one element, axis 0 or -1)
        a, axis = _st.reshape(a, (-1,)), 0 if axis is None else axis
    axis = _normalize_axis(axis, len(_shape(a)))
    d = None if dtype is None else _index_dtype("argsort", dtype, _shape(a)[axis] - 1,
                                               f"an axis of length {_shape(a)[axis]}")
    out = _so.argsort(_as_ordered(a), axis, descending)
    return out if d is None or d is _dtype(out) else _st.convert_element_type(out, d)


def _index_dtype(name, dtype, largest, what):
    """jax.numpy's ``dtype=`` of an index result checked: an integer dtype holding
    ``largest`` (JAX's argsort wraps the positions around in one too narrow)."""
    d = _dt.as_dtype(dtype)
    if d.kind not in "iu":
        raise TypeError(f"{name}: dtype={d.name} for indices; pass an integer dtype")
    import numpy as _np  # (the dtype's limits only)
    if largest > _np.iinfo(_np.dtype(d.name)).max:
        raise ValueError(f"{name}: dtype={d.name} cannot hold the index {largest} of {what}; "
                         f"pass a wider integer dtype (e.g. numpy.min_scalar_type({largest}))")
    return d


UniqueAllResult = namedtuple("UniqueAllResult",
                             ["values", "indices", "inverse_indices", "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def unique_all(x, *, size=None, fill_value=None):
    """Unique values with the index of each one's first occurrence, the inverse indices (of
    ``x``'s shape) and counts. NaNs are distinct. The derivative of ``values`` is that of the
    first occurrence of each value. jax.numpy's ``size`` (and ``fill_value``) give exactly
    ``size`` values, as :func:`unique`'s, so that it works under ``jit`` and ``vmap``."""
    if size is not None:
        from ._mathematics import unique
        return UniqueAllResult(*unique(x, return_index=True, return_inverse=True,
                                       return_counts=True, equal_nan=False, size=size,
                                       fill_value=fill_value))
    if fill_value is not None:
        raise ValueError("unique_all: fill_value needs size (the number of values to fill "
                         "up to)")
    x = _as_operand(x)
    return UniqueAllResult(*_so.unique_all(x))


def unique_counts(x, *, size=None, fill_value=None):
    """Unique values and how often each occurs (``size``, ``fill_value``: as
    :func:`unique_all`'s)."""
    r = unique_all(x, size=size, fill_value=fill_value)
    return UniqueCountsResult(r.values, r.counts)


def unique_inverse(x, *, size=None, fill_value=None):
    """Unique values and, for each element of ``x``, the index of its value (``size``,
    ``fill_value``: as :func:`unique_all`'s)."""
    r = unique_all(x, size=size, fill_value=fill_value)
    return UniqueInverseResult(r.values, r.inverse_indices)


def unique_values(x, *, size=None, fill_value=None):
    """The unique values of ``x`` (sorted; ``size``, ``fill_value``: as
    :func:`unique_all`'s)."""
    return unique_all(x, size=size, fill_value=fill_value).values
