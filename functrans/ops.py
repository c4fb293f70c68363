"""``functrans.ops``: ``jax.ops``'s segment reductions, for graph networks and ragged batches.

    import functrans.ops as fops
    agg = fops.segment_sum(messages, receivers, num_segments=n_nodes)

``segment_sum``, ``segment_prod``, ``segment_max`` and ``segment_min`` with ``jax.ops``'s
signatures, written on :mod:`functrans.numpy`'s scatter updates (``add.at`` ...), so they run
on every backend and every transform applies.
"""

from __future__ import annotations

from . import dtypes as _dt
from . import numpy as fnp
from .core import Tracer
from .numpy._indexing import _host_index
from .primitives import indexing as _ix
from .primitives import structural as _st

__all__ = ["segment_sum", "segment_prod", "segment_max", "segment_min"]

_MODES = (None, "fill", "drop", "promise_in_bounds", "clip")


def _prepare(data, segment_ids, num_segments, mode, what):
    if not hasattr(data, "shape") or type(data) in (bool, int, float, complex):
        data = fnp.asarray(data)
    ids = segment_ids
    if not hasattr(ids, "shape") or type(ids) in (bool, int, float, complex):
        ids = fnp.asarray(ids)
    ids = _host_index(ids, data)  # (NumPy ids beside another library's data: positions)
    mode = getattr(mode, "name", mode)
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in _MODES:
        raise ValueError(f"{what}: mode must be one of 'fill', 'drop', 'promise_in_bounds', "
                         f"'clip' or None; got {mode!r}.")
    if not _dt.dtype_of(ids).kind in "iu":
        raise TypeError(f"{what}: segment_ids must be integers; got {ids.dtype}.")
    if ids.ndim < 1 or tuple(data.shape[:ids.ndim]) != tuple(ids.shape):
        raise ValueError(f"{what}: segment_ids' shape {tuple(ids.shape)} must be the leading "
                         f"dimensions of data's shape {tuple(data.shape)}.")
    if num_segments is None:
        if isinstance(ids, Tracer):
            raise ValueError(f"{what}: num_segments is needed when segment_ids are traced "
                             f"(under jit or vmap); the result's shape depends on it.")
        num_segments = int(fnp.max(ids)) + 1 if ids.size else 0
    num_segments = int(num_segments)
    if num_segments < 0:
        raise ValueError(f"{what}: num_segments must be non-negative; got {num_segments}.")
    ids = fnp.astype(ids, _dt.int64)
    if mode == "clip":
        ids = fnp.clip(ids, 0, max(num_segments - 1, 0))
    else:  # out of range (negative included): into one extra segment, dropped at the end
        ids = fnp.where((ids >= 0) & (ids < num_segments), ids, num_segments)
    shape = (num_segments + 1,) + tuple(data.shape[ids.ndim:])
    return data, ids, num_segments, shape


def segment_sum(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None):
    """The sums of ``data``'s slices by segment (``jax.ops.segment_sum``): ``out[k]`` sums the
    ``data[i]`` with ``segment_ids[i] == k``, shape ``(num_segments,) + data.shape[k:]`` for
    ``segment_ids`` of ``k`` dimensions (the leading ones of ``data``). Ids out of range are
    dropped (``mode='clip'`` clamps them instead); an empty segment sums to 0.
    ``num_segments=None`` takes ``max(segment_ids) + 1`` (concrete ids only: the shape
    depends on it). ``indices_are_sorted``, ``unique_indices`` and ``bucket_size`` are
    accepted and ignored. Boolean ``data`` is a TypeError, as in ``jax.ops``. Linear in
    ``data``, differentiable in it under every transform (traced ids too)."""
    data, ids, n, shape = _prepare(data, segment_ids, num_segments, mode, "segment_sum")
    _no_bool(data, "segment_sum")
    out = _ix.scatter_add(data, (ids,), shape)
    return out[:n, ...]


def _no_bool(data, what):
    if _dt.dtype_of(data).kind == "b":
        raise TypeError(f"{what}: data must be numbers, not booleans (as in jax.ops); cast "
                        f"them first (data.astype(int)), or use segment_max/segment_min "
                        f"for a logical or/and.")


def _extremal(data, segment_ids, num_segments, mode, what, reduce, fill):
    # One masked reduction over the entries, (entries, segments) wide: every backend, traced
    # ids and every transform; the memory is entries x segments x the slices' size.
    data, ids, n, shape = _prepare(data, segment_ids, num_segments, mode, what)
    dtype = _dt.dtype_of(data)
    kind = dtype.kind
    if kind == "b" and reduce is fnp.prod:
        _no_bool(data, what)
    if kind in "iu" and fill not in (0, 1):
        info = fnp.iinfo(_dt.dtype_of(data))
        fill = info.min if fill < 0 else info.max
    elif kind == "b":
        fill = fill > 0
    elif kind == "c" and reduce is not fnp.prod:
        # the identity of the lexicographic max (min): -inf - inf j (+inf + inf j), not JAX's
        # -inf + 0j, which beats -inf - 1j and made the maximum of [-inf - 1j] -inf + 0j
        fill = complex(fill, fill)
    k = ids.ndim
    flat_ids = fnp.reshape(ids, (-1,))
    rest = tuple(data.shape[k:])
    flat = fnp.reshape(data, (flat_ids.shape[0],) + rest)
    mask = flat_ids[:, None] == _st.iota(flat_ids, n)  # (entries, segments)
    mask = fnp.reshape(mask, tuple(mask.shape) + (1,) * len(rest))
    if flat_ids.shape[0] == 0:  # no entries: every segment is empty, the identity element
        empty = fnp.broadcast_to(flat[:, None, ...], (0, n) + rest)
        return reduce(empty, axis=0, initial=fill, **(
            {"dtype": dtype} if reduce is fnp.prod else {}))
    picked = fnp.where(mask, flat[:, None, ...], fnp.full_like(flat[:1, None, ...], fill))
    if reduce is fnp.prod:  # in data's dtype (NumPy's prod promotes small integers)
        return reduce(picked, axis=0, dtype=dtype)
    return reduce(picked, axis=0)


def segment_prod(data, segment_ids, num_segments=None, indices_are_sorted=False,
                 unique_indices=False, bucket_size=None, mode=None):
    """The products of ``data``'s slices by segment (``jax.ops.segment_prod``); an empty
    segment gives 1; the products are in ``data``'s dtype (integers wrap around, as in
    JAX). As :func:`segment_sum` otherwise; computed as one masked reduction
    (memory: entries x segments x the slices' size)."""
    return _extremal(data, segment_ids, num_segments, mode, "segment_prod", fnp.prod, 1)


def segment_max(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None):
    """The maxima of ``data``'s slices by segment (``jax.ops.segment_max``); an empty segment
    gives ``-inf`` (the dtype's least integer for integers, ``-inf - inf j`` for complex
    numbers, ordered lexicographically). As :func:`segment_sum`
    otherwise; computed as one masked reduction (memory: entries x segments x the slices'
    size), whose derivative shares ties equally."""
    return _extremal(data, segment_ids, num_segments, mode, "segment_max", fnp.max,
                     -fnp.inf)


def segment_min(data, segment_ids, num_segments=None, indices_are_sorted=False,
                unique_indices=False, bucket_size=None, mode=None):
    """The minima of ``data``'s slices by segment (``jax.ops.segment_min``); an empty segment
    gives ``inf`` (the dtype's greatest integer for integers, ``inf + inf j`` for complex
    numbers). As :func:`segment_sum`
    otherwise; computed as one masked reduction (memory: entries x segments x the slices'
    size), whose derivative shares ties equally."""
    return _extremal(data, segment_ids, num_segments, mode, "segment_min", fnp.min,
                     fnp.inf)
