"""Searching, sorting and set functions: argmax, argmin, nonzero, searchsorted,
count_nonzero, sort, argsort and the unique_* family.

``sort`` is differentiable (the tangent is gathered by the sorting permutation; at ties the
stable order decides which element the derivative reaches, as in JAX). The others return
integers or data-dependent shapes and carry no derivative; ``nonzero`` and ``unique_*`` need
concrete values (eager transforms).
"""

from __future__ import annotations

from collections import namedtuple

from .. import dtypes as _dt
from ..primitives import elementwise as _ew
from ..primitives import indexing as _ix
from ..primitives import reductions as _red
from ..primitives import sorting as _so
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _dtype, _normalize_axis, _promote_arrays,
                    _reduce, _shape, _to_array)


def _arg_reduction(prim, x, axis, keepdims):
    x = _as_operand(x)
    shape = _shape(x)
    if axis is None:
        out = prim.bind(_st.reshape(x, (-1,)), axis=0)
        return _st.reshape(out, (1,) * len(shape)) if keepdims else out
    axis = _normalize_axis(axis, len(shape))
    out = prim.bind(x, axis=axis)
    if keepdims:
        out = _st.reshape(out, shape[:axis] + (1,) + shape[axis + 1:])
    return out


def argmax(x, /, axis=None, *, keepdims=False):
    """Index of the (first) maximum along ``axis`` (of the flattened array if ``None``)."""
    return _arg_reduction(_red.argmax_p, x, axis, keepdims)


def argmin(x, /, axis=None, *, keepdims=False):
    """Index of the (first) minimum along ``axis`` (of the flattened array if ``None``)."""
    return _arg_reduction(_red.argmin_p, x, axis, keepdims)


def nonzero(x, /):
    """Indices of the non-zero elements, one integer array per axis (needs concrete values)."""
    x = _as_operand(x)
    if not _shape(x):
        raise ValueError("nonzero is not defined for 0-d arrays; use reshape(x, (1,)) first")
    return tuple(_ix.nonzero(x))


def count_nonzero(x, /, axis=None, *, keepdims=False):
    """Number of non-zero elements along ``axis`` (int64)."""
    x = _as_operand(x)
    nz = _ew.ne(x, False if _dtype(x).kind == "b" else 0)
    return _reduce(_red.reduce_sum, _st.convert_element_type(nz, _dt.int64), axis, keepdims)


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    """Indices where the values ``x2`` would be inserted into the sorted 1-d ``x1``."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right'; got {side!r}")
    x1 = _as_operand(x1)
    if sorter is not None:
        from ._indexing import take
        x1 = take(x1, sorter, axis=0)
    if type(x2) in _SCALARS:
        x2 = _to_array(x2, dtype=_dtype(x1), like=x1)
    x2 = _as_operand(x2)
    (x1, x2), _ = _promote_arrays([x1, x2])
    return _so.searchsorted_p.bind(x1, x2, side=side)


def _no_order(name, order):
    if order is not None:
        raise NotImplementedError(f"{name}(order=...) needs structured arrays, which "
                                  f"functrans does not have")


def sort(x, /, axis=-1, kind=None, order=None, *, descending=False, stable=True):
    """Sorted copy of ``x`` along ``axis`` (always stable; ``axis=None``: of the flattened
    array, as in NumPy). Differentiable: the derivative follows each element to its sorted
    position. NumPy's ``kind`` is accepted and changes nothing (every sort is stable);
    ``order`` (structured arrays) is not supported."""
    _no_order("sort", order)
    x = _as_operand(x)
    if axis is None:
        x, axis = _st.reshape(x, (-1,)), 0
    if not _shape(x):
        return x
    return _so.sort(x, _normalize_axis(axis, len(_shape(x))), descending)


def argsort(x, /, axis=-1, kind=None, order=None, *, descending=False, stable=True):
    """Indices that sort ``x`` along ``axis`` (always stable; ``axis=None``: of the
    flattened array). NumPy's ``kind`` is accepted and changes nothing; ``order``
    (structured arrays) is not supported."""
    _no_order("argsort", order)
    x = _as_operand(x)
    if axis is None:
        x, axis = _st.reshape(x, (-1,)), 0
    if not _shape(x):
        return _st.full_like(x, 0, dtype=_dt.int64)
    return _so.argsort(x, _normalize_axis(axis, len(_shape(x))), descending)


UniqueAllResult = namedtuple("UniqueAllResult",
                             ["values", "indices", "inverse_indices", "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def unique_all(x, /):
    """Unique values with the index of each one's first occurrence, the inverse indices (of
    ``x``'s shape) and counts. NaNs are distinct. The derivative of ``values`` is that of the
    first occurrence of each value."""
    x = _as_operand(x)
    return UniqueAllResult(*_so.unique_all(x))


def unique_counts(x, /):
    """Unique values and how often each occurs."""
    r = unique_all(x)
    return UniqueCountsResult(r.values, r.counts)


def unique_inverse(x, /):
    """Unique values and, for each element of ``x``, the index of its value."""
    r = unique_all(x)
    return UniqueInverseResult(r.values, r.inverse_indices)


def unique_values(x, /):
    """The unique values of ``x`` (sorted)."""
    return unique_all(x).values
