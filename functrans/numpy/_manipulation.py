"""Array manipulation beyond :mod:`._base`: moveaxis, repeat, roll, tile, unstack, and NumPy's
wider ``squeeze`` and ``expand_dims`` (exported by :mod:`._reshaping`). All are composed of
the linear structural primitives (or a gather), so they are differentiable."""

from __future__ import annotations

import builtins
import operator

import numpy as _np

from .. import dtypes as _dt
from ..core import Tracer
from ..interpreters import ConstTracer
from ..errors import ConcretizationError, ShapeError
from ..primitives import elementwise as _ew
from ..primitives import indexing as _ix
from ..primitives import reductions as _red
from ..primitives import sorting as _so
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _dtype, _normalize_axis, _shape,
                    _to_array, reshape)


def moveaxis(a, source, destination):
    """Move axes ``source`` to positions ``destination`` (ints or tuples of ints)."""
    a = _as_operand(a)
    nd = len(_shape(a))
    # (one axis: an int or NumPy integer, as NumPy takes; else a sequence of them)
    src = (source,) if hasattr(source, "__index__") else tuple(source)
    dst = (destination,) if hasattr(destination, "__index__") else tuple(destination)
    if len(src) != len(dst):
        raise ShapeError("moveaxis: source and destination need the same number of axes")
    src = [_normalize_axis(i, nd) for i in src]
    dst = [_normalize_axis(i, nd) for i in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _st.transpose(a, tuple(order))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element of ``a`` ``repeats`` times along ``axis`` (the flattened array if
    ``None``). ``repeats`` is an int or an integer array, whose sum is the result's length:
    its values must be concrete, unless ``total_repeat_length`` (JAX's) gives that length,
    which lets a traced ``repeats`` through ``jit`` and ``vmap``: the repeated elements are
    cut at that length, or the last one repeated up to it."""
    a = _as_operand(a)
    if total_repeat_length is not None:
        total_repeat_length = operator.index(total_repeat_length)
        if total_repeat_length < 0:
            raise ValueError(f"repeat: total_repeat_length must not be negative; got "
                             f"{total_repeat_length}")
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    shape = _shape(a)
    nd = len(shape)
    axis = _normalize_axis(axis, nd)
    n = shape[axis]
    if isinstance(repeats, (float, complex)) or (
            hasattr(repeats, "shape") and _dtype(repeats).kind not in "iub"):
        got = repr(repeats) if isinstance(repeats, (float, complex)) else \
            f"an array of dtype {_dtype(repeats).name}"
        raise TypeError(f"repeat: repeats are integer counts; got {got} (write "
                        f"fnp.astype(repeats, int) if they are whole numbers)")
    if total_repeat_length is None and (
            isinstance(repeats, int) or (hasattr(repeats, "shape") and _shape(repeats) == ()
                                         and not isinstance(repeats, Tracer))):
        r = int(repeats)
        if r < 0:
            raise ValueError(f"repeat: repeats may not be negative; got {r}")
        big = shape[:axis + 1] + (r,) + shape[axis + 1:]
        y = _st.broadcast_in_dim(a, big, tuple(range(axis + 1)) + tuple(range(axis + 2, nd + 1)))
        return _st.reshape(y, shape[:axis] + (n * r,) + shape[axis + 1:])
    if type(repeats) in _SCALARS or isinstance(repeats, (list, tuple)):
        repeats = _to_array(list(repeats) if not isinstance(repeats, int) else repeats,
                            like=a)
    if _dtype(repeats).kind == "b":  # (counts of 0 and 1, as NumPy casts them)
        repeats = _st.convert_element_type(repeats, _dt.int64)
    if _shape(repeats) in ((), (1,)):  # (one count for all: NumPy broadcasts shape (1,))
        repeats = _st.broadcast_to(_st.reshape(repeats, ()), (n,))
    elif _shape(repeats) != (n,):
        raise ValueError(f"repeat: repeats of shape {_shape(repeats)} for axis {axis} of "
                         f"length {n}: give one count per element, shape ({n},), or one "
                         f"count for all")
    if n and (not isinstance(repeats, Tracer) or type(repeats) is ConstTracer) \
            and int(_red.reduce_min(repeats, (0,))) < 0:  # (traced counts: not inspected)
        raise ValueError("repeat: repeats may not be negative")
    # Position j of the result reads element searchsorted(cumsum(repeats), j, 'right').
    ends = _red.cumsum(repeats, 0)
    if total_repeat_length is not None:
        total = total_repeat_length
        if n == 0 and total:
            raise ValueError(f"repeat: nothing to repeat up to total_repeat_length {total} "
                             f"(axis {axis} has length 0)")
    else:
        try:
            total = int(_red.reduce_sum(repeats, (0,))) if n else 0
        except ConcretizationError as e:
            raise ConcretizationError(
                f"repeat: the result's length is sum(repeats), a value, which traced repeats "
                f"(under jit, or a batch under vmap) do not have: give the length as "
                f"total_repeat_length, or pass concrete repeats. {e.message}") from e
    pos = _st.iota(repeats, total, _dt.int64)
    pos = pos if _dtype(ends) is _dt.int64 else _st.convert_element_type(pos, _dtype(ends))
    idx = _so.searchsorted_p.bind(ends, pos, side="right")
    if total_repeat_length is not None and n:  # past sum(repeats): the last element again
        idx = _ew.minimum(idx, _st.full_like(idx, n - 1))
    perm = (axis,) + tuple(i for i in range(nd) if i != axis)
    out = _ix.gather(_st.transpose(a, perm), (idx,))
    back = tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, nd))
    return _st.transpose(out, back)


def roll(a, shift, axis=None):
    """Shift elements along ``axis`` cyclically (the flattened array if ``None``)."""
    a = _as_operand(a)
    # An integer of any kind (NumPy's too) is one shift or axis; else a sequence of them.
    if isinstance(shift, Tracer) and not _shape(shift):  # (a traced shift: by a take below)
        shifts = (shift,)
    else:
        shifts = ((operator.index(shift),) if hasattr(shift, "__index__")
                  and not getattr(shift, "ndim", 0) else tuple(shift))
    if axis is None:
        shape = _shape(a)
        if len(shifts) > 1:  # (NumPy: every shift applies to the flattened array)
            shifts = (builtins.sum(operator.index(s) for s in shifts),)
        if len(shape) == 1:  # already flat: no reshapes around the roll
            return roll(a, shifts[0], axis=0)
        return reshape(roll(reshape(a, (-1,)), shifts[0], axis=0), shape)
    axes = ((operator.index(axis),) if hasattr(axis, "__index__")
            and not getattr(axis, "ndim", 0) else tuple(axis))
    # shift and axis broadcast together, as NumPy's (an axis named twice rolls by the sum)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    elif len(axes) == 1 and len(shifts) > 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(axes)} axes: give one shift "
                         f"per axis, or one of either for all")
    for s, ax in zip(shifts, axes):
        shape = _shape(a)
        ax = _normalize_axis(ax, len(shape))
        n = shape[ax]
        if n == 0:
            continue
        if isinstance(s, Tracer):  # (under jit or vmap, as JAX's): out[i] = x[(i - s) % n]
            from . import arange, remainder, subtract, take
            s = _st.convert_element_type(s, _dt.int64)
            a = take(a, remainder(subtract(arange(n, dtype=_dt.int64), s), n), axis=ax)
            continue
        s = int(s) % n
        if s == 0:
            continue
        a = _st.roll(a, s, ax)
    return a


def tile(A, reps):
    """Repeat the whole of ``A`` ``reps[i]`` times along each axis (an int: along the
    last axis, as NumPy's ``tile``)."""
    A = _as_operand(A)
    # (``reps`` and ``repeats`` also by keyword, as NumPy's)
    reps = ((int(reps),) if isinstance(reps, (int, _np.integer)) else
            tuple(int(r) for r in reps))
    shape = _shape(A)
    nd = max(len(shape), len(reps))
    shape = (1,) * (nd - len(shape)) + shape
    reps = (1,) * (nd - len(reps)) + reps
    A = _st.reshape(A, shape)
    big = tuple(v for pair in zip(reps, shape) for v in pair)
    y = _st.broadcast_in_dim(A, big, tuple(range(1, 2 * nd, 2)))
    return _st.reshape(y, tuple(r * d for r, d in zip(reps, shape)))


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple of arrays."""
    x = _as_operand(x)
    shape = _shape(x)
    axis = _normalize_axis(axis, len(shape))
    rest = shape[:axis] + shape[axis + 1:]
    out = []
    for i in range(shape[axis]):
        idx = [(0, d, 1) for d in shape]
        idx[axis] = (i, i + 1, 1)
        out.append(_st.reshape(_st.slice_(x, tuple(idx)), rest))
    return tuple(out)
