"""``functrans.lax``: JAX's structured control flow, for code written against ``jax.lax``.

``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan`` and ``map`` with ``jax.lax``'s
signatures. Where the deciding value is concrete they are Python's own control flow, so eager
transforms differentiate them like any Python code; under ``jit`` and ``vmap`` they are staged
as primitives (see :mod:`functrans.control_flow`).

Beside them, the ``jax.lax`` operations that loops index with: ``dynamic_slice``,
``dynamic_update_slice`` (and their ``_in_dim``/``index`` forms), whose start indices may be
traced (a ``fori_loop``'s index under ``jit``), and ``select``, ``stop_gradient``. They are
written on :mod:`functrans.numpy`, so every transform applies.

The rest of ``jax.lax``'s operations (:mod:`functrans.lax_ops`): elementwise arithmetic,
functions, bits and comparisons with ``jax.lax``'s strict dtypes and shapes; shapes
(``pad``, ``broadcast_in_dim``, ``slice``...), reductions, sorting, cumulative operations,
``dot_general``; ``associative_scan``; ``custom_root`` and ``custom_linear_solve`` with
implicit differentiation; ``gather`` and the scatters; ``mulhi``, ``reduce_precision``,
``approx_max_k``, ``ragged_dot``, the special functions and the other helpers.

Convolutions and pooling (:mod:`functrans.convolution`): ``conv_general_dilated``, ``conv``,
``conv_with_general_padding``, ``conv_transpose``, ``conv_dimension_numbers`` and
``ConvDimensionNumbers``; ``reduce_window`` (the elementwise ``add``, ``mul``, ``max``,
``min`` as its fast computations, any other associative one, and pytrees of operands);
``conv_general_dilated_patches``, ``conv_general_dilated_local`` and the shape helpers
(``conv_shape_tuple``, ``padtype_to_pads``...).
"""

from __future__ import annotations

import builtins
import operator
import sys as _sys

import numpy as _np

from . import collectives as _collectives
from . import convolution as _convolution
from . import dtypes as _dt
from . import lax_ops as _lax_ops
from . import numpy as fnp
from .collectives import (all_gather, all_to_all, axis_index, axis_size, pmax,  # noqa: F401
                          pmean, pmin, ppermute, pshuffle, psum, psum_scatter, pswapaxes)
from .control_flow import cond, fori_loop, map, scan, switch, while_loop  # noqa: F401
from .convolution import (ConvDimensionNumbers, conv, conv_dimension_numbers,  # noqa: F401
                          conv_general_dilated, conv_transpose, conv_with_general_padding,
                          reduce_window)
from .convolution import (ConvGeneralDilatedDimensionNumbers,  # noqa: F401
                          conv_general_dilated_local, conv_general_dilated_patches,
                          conv_general_permutations, conv_general_shape_tuple,
                          conv_shape_tuple, conv_transpose_shape_tuple, padtype_to_pads,
                          reduce_window_shape_tuple)
from .lax_fft import FftType, fft  # noqa: F401
from .toplevel import composite  # noqa: F401
from .lax_ops import *  # noqa: F401,F403
from .numpy import stop_gradient  # noqa: F401

# reduce_window knows lax.add, lax.mul, lax.max and lax.min by identity: these are the strict
# ones of lax_ops.
for _f, _n in ((_lax_ops.add, "add"), (_lax_ops.mul, "mul"), (_lax_ops.max, "max"),
               (_lax_ops.min, "min")):
    _convolution._COMPUTATIONS.setdefault(_f, _n)
del _f, _n

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "stop_gradient",
           "select", "dynamic_slice", "dynamic_update_slice", "dynamic_slice_in_dim",
           "dynamic_update_slice_in_dim", "dynamic_index_in_dim",
           "dynamic_update_index_in_dim", "conv_general_dilated", "conv",
           "conv_with_general_padding", "conv_transpose", "conv_dimension_numbers",
           "ConvDimensionNumbers", "reduce_window", "conv_general_dilated_patches",
           "conv_general_dilated_local", "padtype_to_pads", "conv_shape_tuple",
           "conv_general_permutations", "conv_general_shape_tuple",
           "conv_transpose_shape_tuple", "reduce_window_shape_tuple",
           "ConvGeneralDilatedDimensionNumbers", "fft",
           "FftType", "composite"] + _lax_ops.__all__ + _collectives.__all__


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false``, elementwise (``jax.lax.select``): the
    three of one shape, ``pred`` boolean, or a boolean scalar choosing whole arrays
    (``functrans.numpy.where`` also broadcasts)."""
    if type(pred) is bool:
        pred = fnp.asarray(pred)
    shapes = {tuple(getattr(a, "shape", ())) for a in (on_true, on_false)}
    if getattr(pred, "shape", None) != ():
        shapes.add(tuple(getattr(pred, "shape", ())))
    if len(shapes) != 1:
        raise TypeError(f"select: pred, on_true and on_false must have one shape; got "
                        f"{[tuple(getattr(a, 'shape', ())) for a in (pred, on_true, on_false)]}"
                        f" (functrans.numpy.where broadcasts).")
    if not hasattr(pred, "dtype") or _dt.as_dtype(pred.dtype, strict=False) is not _dt.bool_:
        raise TypeError("select: pred must be a boolean array.")
    d1, d2 = getattr(on_true, "dtype", None), getattr(on_false, "dtype", None)
    if d1 is not None and d2 is not None and _dt.as_dtype(d1) is not _dt.as_dtype(d2):
        raise TypeError(f"lax.select requires arguments to have the same dtypes, got "
                        f"{_dt.as_dtype(d1).name}, {_dt.as_dtype(d2).name} "
                        f"(functrans.numpy.where promotes).")
    return fnp.where(pred, on_true, on_false)


def _starts(operand, start_indices, sizes, what, allow_negative=True):
    shape = tuple(operand.shape)
    starts = list(start_indices)
    if len(starts) != len(shape) or len(sizes) != len(shape):
        raise TypeError(f"{what}: operand has {len(shape)} axes, so it needs {len(shape)} start "
                        f"indices and sizes; got {len(starts)} and {len(sizes)}.")
    for k, (n, d) in enumerate(zip(sizes, shape)):
        if not 0 <= n <= d:
            raise ValueError(f"{what}: size {n} along axis {k} does not fit the operand's "
                             f"{d}.")
    negative = (list(allow_negative) if isinstance(allow_negative, (list, tuple))
                else [allow_negative] * len(shape))
    if len(negative) != len(shape):
        raise ValueError(f"{what}: allow_negative_indices has {len(negative)} entries for "
                         f"{len(shape)} axes.")
    # As in JAX, a negative start counts from the end of its axis (with
    # allow_negative_indices), then each start is clamped so that the slice lies within the
    # operand; an array start is widened to int64 first (an int8 or uint8 one cannot hold
    # the positions computed from it: arange(300, dtype=uint8) wraps).
    out, unclamped = [], []
    for s, n, d, neg in zip(starts, sizes, shape, negative):
        # (a NumPy integer scalar is a number, as beside any library: not a NumPy array; so
        # is a concrete 0-d NumPy integer array, such as lax.add(i, 1) makes of a loop's
        # Python counter, which would otherwise be refused beside another library's operand)
        if isinstance(s, _np.ndarray) and s.ndim == 0 and s.dtype.kind in "iu":
            s = int(s)
        if hasattr(s, "shape") and not isinstance(s, _np.integer):
            if tuple(s.shape) != ():
                raise TypeError(f"{what}: each start index must be a scalar; got one of shape "
                                f"{tuple(s.shape)}.")
            s = fnp.astype(s, fnp.int64)
            if neg:
                s = fnp.where(fnp.less(s, 0), fnp.add(s, d), s)
            unclamped.append(s)
            out.append(fnp.clip(s, 0, d - n))
            continue
        s = operator.index(s)
        if s < 0:
            if not neg:
                raise ValueError(f"{what}: start index {s} is out of bounds for an axis of "
                                 f"{d} with allow_negative_indices=False.")
            s += d
        unclamped.append(s)
        out.append(builtins.min(builtins.max(s, 0), d - n))
    checkify = _sys.modules.get("functrans.experimental.checkify")
    if checkify is not None and checkify.index_checks_running():
        # (a slice that is clamped: a checkify with index_checks reports it)
        checkify.slice_starts_check(what, operand, unclamped, sizes)
    return out


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    """``operand[s0:s0 + n0, s1:s1 + n1, ...]`` for start indices that may be traced
    (``jax.lax.dynamic_slice``): a negative start counts from the end of its axis (unless
    ``allow_negative_indices`` is false, for all axes or per axis), then each start is
    clamped so that the slice fits."""
    sizes = [operator.index(n) for n in slice_sizes]
    out = operand
    starts = _starts(operand, start_indices, sizes, "dynamic_slice", allow_negative_indices)
    for axis, (s, n) in enumerate(zip(starts, sizes)):
        if n == operand.shape[axis]:
            continue  # the whole axis (its start is clamped to 0)
        idx = fnp.arange(n, dtype=getattr(s, "dtype", fnp.int64), device=fnp.device(out))
        # (fnp's functions, not operators: a plain array on the left of a tracer is refused
        # by some libraries; take makes a new array, never a view of the operand)
        out = fnp.take(out, fnp.add(idx, s), axis=axis)
    return fnp.copy(out) if out is operand else out  # (the whole operand: a new array too)


def _update_of(operand, update, what):
    """``update`` in ``operand``'s dtype. JAX requires the two dtypes to be equal; here an
    update whose dtype NumPy casts to the operand's safely (int32 into float64) is converted,
    any other refused (a cast would drop an imaginary part, wrap an integer or round a float
    silently); a Python number takes the operand's dtype where it fits (300 does not fit
    int8, 2.5 no integer dtype)."""
    d = _dt.dtype_of(operand)
    if _lax_ops._is_py(update):
        if not _lax_ops._fits(update, d):
            raise TypeError(f"lax.{what}: the Python number {update!r} cannot take the "
                            f"operand's dtype {d.name}.")
        return fnp.asarray(update, dtype=operand.dtype, device=fnp.device(operand))
    if not hasattr(update, "dtype"):
        update = fnp.asarray(update)
    u = _dt.dtype_of(update)
    if u is d:
        return update
    try:
        safe = bool(_np.can_cast(_np.dtype(u.name), _np.dtype(d.name), casting="safe"))
    except TypeError:  # (bfloat16: no NumPy dtype)
        safe = False
    if not safe:
        raise TypeError(f"lax.{what} requires arguments to have the same dtypes, got "
                        f"{d.name}, {u.name}; convert the update with "
                        f"lax.convert_element_type(update, operand.dtype).")
    # (JAX refuses any other dtype; an update that converts exactly, as int32 into float64
    # does, is converted here instead)
    return fnp.astype(update, operand.dtype)


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    """``operand`` with ``update`` written at the (possibly traced) start indices, as a new
    array (``jax.lax.dynamic_update_slice``): a negative start counts from the end of its
    axis (unless ``allow_negative_indices`` is false), then each start is clamped so that
    the update fits."""
    update = _update_of(operand, update, "dynamic_update_slice")
    if update.ndim != operand.ndim:
        raise TypeError(f"dynamic_update_slice: update has {update.ndim} axes, operand "
                        f"{operand.ndim}.")
    sizes = tuple(update.shape)
    starts = _starts(operand, start_indices, sizes, "dynamic_update_slice",
                     allow_negative_indices)
    if 0 in sizes:  # an empty update writes nothing (and has no element to lay out)
        return fnp.copy(operand)
    # The update laid out over the operand's shape (read at the clamped offsets), and a mask
    # of where it lands: a where of the two, so both get their derivatives.
    placed, mask = update, None
    for axis, (s, n) in enumerate(zip(starts, sizes)):
        d = operand.shape[axis]
        pos = fnp.arange(d, dtype=getattr(s, "dtype", fnp.int64), device=fnp.device(operand))
        inside = fnp.logical_and(fnp.greater_equal(pos, s), fnp.less(pos, fnp.add(s, n)))
        placed = fnp.take(placed, fnp.clip(fnp.subtract(pos, s), 0, builtins.max(n - 1, 0)),
                          axis=axis)
        m = fnp.reshape(inside, (1,) * axis + (d,) + (1,) * (operand.ndim - axis - 1))
        mask = m if mask is None else fnp.logical_and(mask, m)
    if mask is None:  # a 0-d operand: the update replaces it
        return fnp.copy(update)  # (never the caller's update itself)
    return fnp.where(mask, placed, operand)


def dynamic_slice_in_dim(operand, start_index, slice_size=1, axis=0, *,
                         allow_negative_indices=True):
    """``dynamic_slice`` along one axis (``jax.lax.dynamic_slice_in_dim``)."""
    axis = axis % operand.ndim
    starts = [0] * operand.ndim
    starts[axis] = start_index
    sizes = list(operand.shape)
    sizes[axis] = slice_size
    return dynamic_slice(operand, starts, sizes, allow_negative_indices=allow_negative_indices)


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *,
                                allow_negative_indices=True):
    """``dynamic_update_slice`` along one axis (``jax.lax.dynamic_update_slice_in_dim``)."""
    axis = axis % operand.ndim
    starts = [0] * operand.ndim
    starts[axis] = start_index
    return dynamic_update_slice(operand, update, starts,
                                allow_negative_indices=allow_negative_indices)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *,
                         allow_negative_indices=True):
    """The slice at a (possibly traced) ``index`` along ``axis``, that axis kept with length 1
    or dropped (``jax.lax.dynamic_index_in_dim``)."""
    axis = axis % operand.ndim
    out = dynamic_slice_in_dim(operand, index, 1, axis,
                               allow_negative_indices=allow_negative_indices)
    return out if keepdims else fnp.squeeze(out, axis=axis)


def dynamic_update_index_in_dim(operand, update, index, axis, *,
                                allow_negative_indices=True):
    """``operand`` with the slice at ``index`` along ``axis`` replaced by ``update`` (which may
    lack that axis) (``jax.lax.dynamic_update_index_in_dim``)."""
    axis = axis % operand.ndim
    update = _update_of(operand, update, "dynamic_update_index_in_dim")
    if update.ndim == operand.ndim - 1:
        update = fnp.expand_dims(update, axis=axis)
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


# typed keys (functrans.random's) in the structural operations: applied to their words
from .numpy import _keys  # noqa: E402
_keys.wrap_table(globals(), "functrans.lax", _keys.LAX)


from ._naming import rehome as _rehome  # noqa: E402
_rehome(globals(), __name__)  # (its wrapped functions: pickle and the API reference)
