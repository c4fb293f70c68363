"""Gather and scatter-add: integer-array indexing and its transpose.

- ``gather(x, *idx)``: ``x[idx0, idx1, ...]`` over the leading ``len(idx)`` axes; the index
  arrays have equal shapes (or are Python ints) and the result has shape
  ``idx.shape + x.shape[len(idx):]``. Linear in ``x``; its transpose is ``scatter_add``.
- ``take_along_axis(x, idx, axis)``: as the standard's function, with ``idx`` of ``x``'s
  rank and equal shape outside ``axis``. Its transpose is ``scatter_along_axis``.
- ``nonzero(x)``: indices of the non-zero elements. The shape of its results depends on the
  values, so it needs a concrete operand (eager transforms).

Negative indices count from the end. Scatter-add goes through the backend's
``scatter_add`` extra (with a generic fallback on the standard in functrans.backends).
"""

from __future__ import annotations

import math

from ..core import _SCALAR_DTYPES, ShapedArray, primitive
from ..errors import ConcretizationError, ShapeError
from ._batching import all_batched, batch_size, not_batchable, with_batch


def _idx_shape(idx):
    shapes = [tuple(i.shape) for i in idx if type(i) not in _SCALAR_DTYPES]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"gather/scatter primitives need index arrays of equal shapes; "
                         f"got {shapes}")
    return shapes[0] if shapes else ()


def _normalized(b, idx, dims, shape, device, strict=None):
    """Index arrays of one shape with negative entries wrapped (Python ints become arrays on
    ``device``, the indexed data's). ``strict`` (the operand's shape): an entry out of range
    raises (a gather's) rather than being clamped."""
    xp = b.xp
    out = []
    for i, n in zip(idx, dims):
        if type(i) in _SCALAR_DTYPES:
            i = int(i) % n if n else int(i)
            out.append(xp.full(shape, i, dtype=xp.int64, device=device))
        else:
            # int64 before adding n: in a narrow index dtype i + n overflows (NumPy raises,
            # torch wraps around to a wrong index).
            i = xp.astype(i, xp.int64, copy=False)
            if math.prod(i.shape) >= _IN_RANGE_CHECK_SIZE and _in_range(b, i, n):
                out.append(i)  # (all in [0, n): the passes below would change nothing)
                continue
            i = xp.where(i < 0, i + n, i)
            if (len(idx) > 1 or b.index_wraps) and n:
                # The components are flattened into one row index: one out of its range would
                # land in another row (under vmap, another member's); a library whose take
                # wraps (CuPy) would read another element. A gather's raises as a single
                # index array's does (functrans.numpy checks concrete indices before; this
                # is a staged one's); a scatter's is clamped.
                if strict is not None and bool(xp.any((i < 0) | (i >= n))):
                    raise _out_of_bounds(b, idx, strict)
                i = xp.clip(i, 0, n - 1)
            else:
                # below -n: n, out of range for take (which would count i + n < 0 from the
                # end again: a staged index's error, made in _gather_impl, not another element)
                i = xp.where(i < 0, n, i)
            out.append(i)
    return out


# From this many indices on, one look at their least and greatest saves the passes that wrap
# and clamp them (an eager gather of 200k indices spent most of its time there); below it,
# those passes cost less than the look.
_IN_RANGE_CHECK_SIZE = 4096


def _in_range(b, i, n):
    """Whether every entry of the index array ``i`` is in [0, n): its least and greatest
    read on the host together (one synchronisation on a device, not two)."""
    if not n:
        return False
    xp = b.xp
    low, high = (int(v) for v in b.to_numpy(xp.stack([xp.min(i), xp.max(i)])))
    return low >= 0 and high < n


def _flat_index(b, idx, dims, shape, device, strict=None):
    flat = None
    for i, n in zip(_normalized(b, idx, dims, shape, device, strict), dims):
        flat = i if flat is None else flat * n + i
    return flat

# -- gather ---------------------------------------------------------------------------------------


def _gather_impl(b, x, *idx):
    xp = b.xp
    k = len(idx)
    lead, rest = tuple(x.shape[:k]), tuple(x.shape[k:])
    shape = _idx_shape(idx)
    flat = _flat_index(b, idx, lead, shape, b.device(x), strict=tuple(x.shape))
    xr = xp.reshape(x, (math.prod(lead),) + rest)
    try:
        out = xp.take(xr, xp.reshape(flat, (-1,)), axis=0)
    except IndexError:  # (torch's says neither index nor size)
        raise _out_of_bounds(b, idx, tuple(x.shape)) from None
    return xp.reshape(out, shape + rest)


def _out_of_bounds(b, idx, shape):
    """The IndexError for an index array with an entry outside [-n, n), found as a gather
    runs: eagerly functrans.numpy checks indices before, so this is a staged one's (the
    gather sees the array with its indexed axes moved first, not the axis numbers written)."""
    import numpy as np
    for k, (i, n) in enumerate(zip(idx, shape)):
        v = np.asarray(i) if type(i) in _SCALAR_DTYPES else b.to_numpy(i)
        bad = v[(v < -n) | (v >= n)]
        if bad.size:
            which = f"integer index {k} of {len(idx)}, " if len(idx) > 1 else ""
            return IndexError(
                f"index {int(bad.flat[0])} is out of bounds for an axis of size {n} ({which}"
                f"the array indexed, its integer-indexed axes first, having shape "
                f"{tuple(shape)}). The index was traced (under jit), so it is checked as the "
                f"staged function runs, and refused as NumPy refuses it (JAX clamps it "
                f"silently). To clamp, write x.at[i].get(mode='clip'); for a fill value "
                f"where it is out of range, x.at[i].get(mode='fill', fill_value=...) (or "
                f"functrans.numpy.take(x, i, axis=..., mode='clip' or 'fill')).")
    return IndexError(f"gather: an index is out of bounds for shape {tuple(shape)}")


def _gather_aval(x, *idx):
    k = len(idx)
    if k > len(x.shape):
        raise ShapeError(f"gather: {k} index arrays for an array of shape {x.shape}")
    shapes = [i.shape for i in idx if not i.weak_type]
    if any(s != shapes[0] for s in shapes):
        raise ShapeError(f"gather needs index arrays of equal shapes; got {shapes}")
    return ShapedArray((shapes[0] if shapes else ()) + tuple(x.shape[k:]), x.dtype)


def _gather_transpose(ct, x, *idx):
    return [scatter_add(ct, idx, x.aval.shape)] + [None] * len(idx)


gather_p = primitive("gather")
gather_p.host_indices = 1
gather_p.def_impl(_gather_impl)
gather_p.def_abstract_eval(_gather_aval)
gather_p.def_jvp(lambda p, t: (gather(p[0], p[1:]), None if t[0] is None
                                else gather(t[0], p[1:])))
gather_p.def_transpose(_gather_transpose)


def gather(x, idx):
    return gather_p.bind(x, *idx)


def _index_shape(idx, dims):
    """The unbatched shape of the index arrays."""
    for i, d in zip(idx, dims):
        if type(i) not in _SCALAR_DTYPES:
            return tuple(i.shape[1:]) if d is not None else tuple(i.shape)
    return ()


def _batch_index(like, size, ishape):
    """0..size-1 along a leading axis, broadcast to (size,) + ishape: the index of each batch
    member in a batched operand's leading axis."""
    from .structural import broadcast_in_dim, iota
    return broadcast_in_dim(iota(like, size), (size,) + ishape, (0,))


def _gather_batch(args, dims):
    x, idx = args[0], args[1:]
    size = batch_size(args, dims)
    idx = [with_batch(i, d, size) for i, d in zip(idx, dims[1:])]
    if dims[0] is None:  # only the indices are batched: their batch axis leads the result
        return gather(x, idx), 0
    # x batched: pick each member's own slice with one more (leading) index array.
    return gather(x, [_batch_index(x, size, _index_shape(args[1:], dims[1:]))] + idx), 0


gather_p.def_batch(_gather_batch)

# -- scatter_add: zeros of ``shape`` with ``v`` added at ``idx`` (the transpose of gather) ------


def _scatter_add_impl(b, v, *idx, shape):
    xp = b.xp
    k = len(idx)
    lead, rest = tuple(shape[:k]), tuple(shape[k:])
    ishape = tuple(v.shape[:len(v.shape) - len(rest)])
    flat = xp.reshape(_flat_index(b, idx, lead, ishape, b.device(v)), (-1,))
    zeros = xp.zeros((math.prod(lead),) + rest, dtype=v.dtype, device=b.device(v))
    vals = xp.reshape(v, (flat.shape[0],) + rest)
    return xp.reshape(b.extra("scatter_add")(zeros, flat, vals, axis=0), shape)


scatter_add_p = primitive("scatter_add")
scatter_add_p.host_indices = 1
scatter_add_p.def_impl(_scatter_add_impl)
scatter_add_p.def_abstract_eval(lambda v, *idx, shape: ShapedArray(shape, v.dtype))
scatter_add_p.def_jvp(lambda p, t, shape: (scatter_add(p[0], p[1:], shape),
                                           None if t[0] is None
                                           else scatter_add(t[0], p[1:], shape)))
scatter_add_p.def_transpose(lambda ct, v, *idx, shape: [gather(ct, idx)] + [None] * len(idx))


def scatter_add(v, idx, shape):
    return scatter_add_p.bind(v, *idx, shape=tuple(shape))


def _scatter_add_batch(args, dims, shape):
    v, idx = args[0], args[1:]
    size = batch_size(args, dims)
    ishape = _index_shape(idx, dims[1:])
    idx = [with_batch(i, d, size) for i, d in zip(idx, dims[1:])]
    v = with_batch(v, dims[0], size)
    return scatter_add(v, [_batch_index(v, size, ishape)] + idx, (size,) + shape), 0


scatter_add_p.def_batch(_scatter_add_batch)


# -- take_along_axis and its transpose -----------------------------------------------------------


def _take_along_impl(b, x, idx, axis):
    n = x.shape[axis]
    idx = b.xp.astype(idx, b.xp.int64, copy=False)  # as in _normalized (torch wants int64)
    if math.prod(idx.shape) < _IN_RANGE_CHECK_SIZE or not _in_range(b, idx, n):
        idx = b.xp.where(idx < 0, idx + n, idx)
        if b.index_wraps and n:  # (as in _normalized)
            idx = b.xp.clip(idx, 0, n - 1)
    return b.xp.take_along_axis(x, idx, axis=axis)


def _along_aval(x, idx, axis):
    if len(x.shape) != len(idx.shape) or any(
            a != c for i, (a, c) in enumerate(zip(x.shape, idx.shape)) if i != axis):
        raise ShapeError(f"take_along_axis primitive needs indices of the array's rank and "
                         f"shape outside axis {axis}; got {x.shape} and {idx.shape}")
    return ShapedArray(tuple(idx.shape), x.dtype)


take_along_axis_p = primitive("take_along_axis")
take_along_axis_p.host_indices = 1
take_along_axis_p.def_impl(_take_along_impl)
take_along_axis_p.def_abstract_eval(_along_aval)
take_along_axis_p.def_jvp(
    lambda p, t, axis: (take_along_axis(p[0], p[1], axis),
                        None if t[0] is None else take_along_axis(t[0], p[1], axis)))
take_along_axis_p.def_transpose(
    lambda ct, x, idx, axis: [scatter_along_axis(ct, idx, axis, x.aval.shape), None])


def take_along_axis(x, idx, axis):
    return take_along_axis_p.bind(x, idx, axis=axis)


take_along_axis_p.def_batch(
    lambda a, d, axis: (take_along_axis(*all_batched(a, d), axis + 1), 0))


def _scatter_along_impl(b, v, idx, axis, shape):
    # Flatten: the position of element (i_0, ..., idx[i], ..., i_n) in the flat result.
    xp = b.xp
    dev = b.device(v)
    ishape = tuple(idx.shape)
    flat = None
    for d in range(len(shape)):
        if d == axis:
            i = xp.astype(idx, xp.int64, copy=False)
            if math.prod(ishape) < _IN_RANGE_CHECK_SIZE or not _in_range(b, i, shape[d]):
                i = xp.where(i < 0, i + shape[d], i)
                if b.index_wraps and shape[d]:  # (flattened: out of range is another row)
                    i = xp.clip(i, 0, shape[d] - 1)
        else:
            r = [1] * len(shape)
            r[d] = ishape[d]
            i = xp.reshape(xp.arange(ishape[d], dtype=xp.int64, device=dev), tuple(r))
        flat = i if flat is None else flat * shape[d] + i
    flat = xp.reshape(xp.broadcast_to(flat, ishape), (-1,))
    zeros = xp.zeros((math.prod(shape),), dtype=v.dtype, device=dev)
    out = b.extra("scatter_add")(zeros, flat, xp.reshape(v, (-1,)), axis=0)
    return xp.reshape(out, shape)


scatter_along_axis_p = primitive("scatter_along_axis")
scatter_along_axis_p.host_indices = 1
scatter_along_axis_p.def_impl(_scatter_along_impl)
scatter_along_axis_p.def_abstract_eval(
    lambda v, idx, axis, shape: ShapedArray(shape, v.dtype))
scatter_along_axis_p.def_jvp(
    lambda p, t, axis, shape: (scatter_along_axis(p[0], p[1], axis, shape),
                               None if t[0] is None
                               else scatter_along_axis(t[0], p[1], axis, shape)))
scatter_along_axis_p.def_transpose(
    lambda ct, v, idx, axis, shape: [take_along_axis(ct, idx, axis), None])


def scatter_along_axis(v, idx, axis, shape):
    """Zeros of ``shape`` with ``v`` added at ``idx`` along ``axis``."""
    return scatter_along_axis_p.bind(v, idx, axis=axis, shape=tuple(shape))


scatter_along_axis_p.def_batch(lambda a, d, axis, shape: (scatter_along_axis(
    *all_batched(a, d), axis + 1, (batch_size(a, d),) + shape), 0))

# -- nonzero: data-dependent shapes ---------------------------------------------------------------


def data_dependent(name, instead="use functrans.numpy.where with a fixed shape instead"):
    """abstract_eval of a primitive whose result shape depends on the values."""
    def aval(*avals, **params):
        raise ConcretizationError(
            f"{name} returns arrays whose shapes depend on the values of its operand, so it "
            f"needs a concrete value, but it was called on an abstract tracer (the function "
            f"is being staged into a graph). Use it under eager transforms (grad, jvp, vjp), "
            f"or {instead}.")
    return aval


nonzero_p = primitive("nonzero", multiple_results=True)
nonzero_p.def_impl(lambda b, x: list(b.xp.nonzero(x)))
nonzero_p.def_abstract_eval(data_dependent(
    "nonzero (or indexing with a boolean mask)",
    "give the number of results as size= (nonzero, argwhere, flatnonzero: size=n, as in "
    "jax.numpy), or use functrans.numpy.where with a fixed shape instead"))
nonzero_p.def_jvp(lambda p, t: (nonzero(p[0]), [None] * len(p[0].shape)))
nonzero_p.def_batch(not_batchable(nonzero_p, "the number of non-zero elements differs from "
                                 "one batch member to the next, so the results have no common "
                                 "shape. Use functrans.numpy.where with a fixed shape instead, "
                                 "or loop in Python.",
                                 users="behind nonzero, argwhere-like code and indexing "
                                       "with a boolean mask x[mask]"))


def nonzero(x):
    return nonzero_p.bind(x)


