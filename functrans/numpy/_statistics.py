"""Reductions and cumulative functions: sum, prod, mean, var, std, cumulative_sum,
cumulative_prod, all, any, diff. (max, min and mean live in :mod:`._base`.)

Summation dtypes follow the standard: booleans and signed integers sum in int64, unsigned
integers in uint64, floating point in its own dtype.
"""

from __future__ import annotations

import builtins
import math
import operator

from .. import dtypes as _dt
from ..core import INEXACT_TRACER_TYPES as _INEXACT_TRACERS
from ..errors import ShapeError
from ..primitives import elementwise as _ew
from ..primitives import reductions as _red
from ..primitives import structural as _st
from ._base import (_as_operand, _count, _dtype, _fill_outside, _initial_value,
                    _normalize_axes, _normalize_axis, _reduce, _shape, _where_mask, astype,
                    concat, mean, sqrt)


def _acc_dtype(x, dtype):
    if dtype is not None:
        return _dt.as_dtype(dtype)
    d = _dtype(x)
    if d.kind in "bi":
        return _dt.int64
    if d.kind == "u":
        return _dt.uint64
    return d


def sum(x, /, axis=None, *, dtype=None, keepdims=False, initial=None, where=None):
    """Sum over ``axis`` (all axes by default); NumPy's ``initial`` (added to every slice)
    and ``where`` (a boolean mask of the elements taking part)."""
    if dtype is None and type(x) in _INEXACT_TRACERS and initial is None and where is None:
        return _reduce(_red.reduce_sum, x, axis, keepdims)  # floating: its own dtype
    x = _as_operand(x)
    x = astype(x, _acc_dtype(x, dtype))
    x = _fill_outside(x, _where_mask(x, where, "sum"), 0)
    out = _reduce(_red.reduce_sum, x, axis, keepdims)
    return out if initial is None else _ew.add(out, _scalar_of(out, initial))


def prod(x, /, axis=None, *, dtype=None, keepdims=False, initial=None, where=None):
    """Product over ``axis`` (all axes by default); NumPy's ``initial`` (a factor of every
    slice) and ``where``. The derivative is exact where ``x`` has zeros (the products of the
    other elements, computed without division)."""
    x = _as_operand(x)
    x = astype(x, _acc_dtype(x, dtype))
    x = _fill_outside(x, _where_mask(x, where, "prod"), 1)
    out = _reduce(_red.reduce_prod, x, axis, keepdims)
    return out if initial is None else _ew.mul(out, _scalar_of(out, initial))


def _scalar_of(x, value):
    """``value`` (a number, or a 0-d array or tracer) as an array of ``x``'s shape, dtype
    and backend (NumPy casts ``initial`` to the result's dtype)."""
    return _st.broadcast_to(_initial_value(x, value), _shape(x))


def _correction(name, correction, ddof):
    if ddof is not None and correction is not None:
        raise ValueError(f"{name}: give either correction or its NumPy name ddof, not both")
    if ddof is not None:
        return ddof
    return 0.0 if correction is None else correction


def _stat_dtype(name, x, dtype):
    """``x`` in NumPy's ``dtype=`` of var/std (the dtype computed in, and the result's);
    integer dtypes, whose truncated arithmetic NumPy applies to the mean and the
    deviations, are refused."""
    x = _as_operand(x)
    if dtype is None:
        return x
    dt = _dt.as_dtype(dtype)
    if dt.kind not in "fc":
        raise TypeError(f"{name}: dtype must be a floating or complex dtype; got {dt.name} "
                        f"(NumPy's integer arithmetic would truncate the mean: compute in "
                        f"a float dtype and round the result)")
    return astype(x, dt)


def var(x, /, axis=None, *, correction=None, keepdims=False, ddof=None, where=None,
        dtype=None):
    """Variance over ``axis``: the mean squared deviation, with ``N - correction`` degrees
    of freedom (``correction`` 0 by default; where that is 0 or less, inf, or nan for a
    slice with no deviation, as NumPy's). ``ddof`` is NumPy's name for ``correction``
    (giving both is a ValueError); ``where``: NumPy's boolean mask of the elements taking
    part (N counts them in each slice); ``dtype``: NumPy's, the floating or complex dtype
    computed in (and of a complex dtype's result, as NumPy's)."""
    correction = _correction("var", correction, ddof)
    if dtype is not None:
        x = _stat_dtype("var", x, dtype)
        out = var(x, axis, correction=correction, keepdims=keepdims, where=where)
        return astype(out, _dtype(x))
    x = _as_operand(x)
    if _dtype(x).kind not in "fc":
        x = _st.convert_element_type(x, _dt.float64)
    half = _dtype(x)
    if half in _dt.HALF:  # in float32 and rounded back (as JAX, torch; NumPy's overflows)
        out = var(_st.convert_element_type(x, _dt.float32), axis, correction=correction,
                  keepdims=keepdims, where=where)
        return _st.convert_element_type(out, half)
    shape = _shape(x)
    axes = _normalize_axes(axis, len(shape))
    mask = _where_mask(x, where, "var")
    # excluded elements replaced first: a nan or inf there must not reach the derivative
    x = _fill_outside(x, mask, 0)
    m = mean(x, axis=axes, keepdims=True, where=mask)
    d = _ew.sub(x, _st.broadcast_to(m, shape))
    sq = _ew.real(_ew.mul(_ew.conj(d), d)) if _dtype(d).kind == "c" else _ew.mul(d, d)
    s = _reduce(_red.reduce_sum, _fill_outside(sq, mask, 0), axes, keepdims)
    if mask is not None:
        # N - correction per slice, at least 0 (as NumPy: nan or inf where it is 0)
        dof = _ew.sub(_count(s, mask, axes, keepdims), float(correction))
        return _ew.div(s, _ew.max_p.bind(dof, 0.0))
    dof = math.prod(shape[a] for a in axes) - correction
    # (no degrees of freedom: NumPy's s / 0, inf, or nan where s is 0, as the where= path)
    return _ew.div(s, float(builtins.max(dof, 0)))


def std(x, /, axis=None, *, correction=None, keepdims=False, ddof=None, where=None,
        dtype=None):
    """Standard deviation over ``axis`` (the derivative is infinite where it is 0, except
    over slices of one element, where it is identically 0 and so is its derivative);
    ``ddof`` is NumPy's name for ``correction`` (giving both is a ValueError); ``where``
    and ``dtype`` as in :func:`var`."""
    correction = _correction("std", correction, ddof)
    if dtype is not None:
        x = _stat_dtype("std", x, dtype)
        out = std(x, axis, correction=correction, keepdims=keepdims, where=where)
        return astype(out, _dtype(x))
    x = _as_operand(x)
    half = _dtype(x)
    if half in _dt.HALF:  # (the variance itself may be beyond float16's range)
        out = std(_st.convert_element_type(x, _dt.float32), axis, correction=correction,
                  keepdims=keepdims, where=where)
        return _st.convert_element_type(out, half)
    shape = _shape(x)
    if where is None and math.prod(shape[a] for a in _normalize_axes(axis, len(shape))) == 1:
        # one element per slice: the variance is identically 0 (with a zero derivative, as
        # autograd's), and sqrt's infinite slope there would make it nan
        return var(x, axis=axis, correction=correction, keepdims=keepdims)
    return sqrt(var(x, axis=axis, correction=correction, keepdims=keepdims, where=where))


def _cumulative(prim, x, axis, dtype, include_initial, initial):
    x = _as_operand(x)
    shape = _shape(x)
    if axis is None:
        if len(shape) != 1:
            raise ShapeError(f"axis is required for an array of shape {shape}")
        axis = 0
    axis = _normalize_axis(axis, len(shape))
    x = astype(x, _acc_dtype(x, dtype))
    out = prim.bind(x, axis=axis) if shape[axis] else x
    if include_initial:
        init_shape = shape[:axis] + (1,) + shape[axis + 1:]
        out = concat([_init_like(x, init_shape, initial), out], axis=axis)
    return out


def _init_like(x, shape, value):
    """An array of ``shape`` filled with ``value``, on ``x``'s backend."""
    flat = _st.reshape(x, (-1,))
    one = _st.iota(flat, 1)  # (int64: the standard's arange takes no bool)
    return _st.broadcast_to(_st.full_like(_st.reshape(one, ()), value, dtype=_dtype(x)), shape)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running sums along ``axis`` (optionally starting with 0). Linear."""
    return _cumulative(_red.cumsum_p, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running products along ``axis`` (optionally starting with 1). The derivative is exact
    where ``x`` has zeros (quadratic work in the length of the axis)."""
    return _cumulative(_red.cumprod_p, x, axis, dtype, include_initial, 1)


def _bool_reduce(prim, x, axis, keepdims, where, neutral, name):
    x = _as_operand(x)
    if _dtype(x).kind != "b":
        x = _ew.ne(x, 0)
    x = _fill_outside(x, _where_mask(x, where, name), neutral)
    return _reduce(lambda v, axes: prim.bind(v, axes=axes), x, axis, keepdims)


def all(x, /, axis=None, *, keepdims=False, where=None):
    """Whether every element along ``axis`` is true (non-zero); ``where``: NumPy's mask of
    the elements that count (True for a slice with none)."""
    return _bool_reduce(_red.reduce_and_p, x, axis, keepdims, where, True, "all")


def any(x, /, axis=None, *, keepdims=False, where=None):
    """Whether some element along ``axis`` is true (non-zero); ``where``: NumPy's mask of
    the elements that count (False for a slice with none)."""
    return _bool_reduce(_red.reduce_or_p, x, axis, keepdims, where, False, "any")


def diff(x, /, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``axis`` (``x[i+1] - x[i]``), with optional
    values prepended/appended first (a scalar is broadcast to one slice along ``axis``, as
    in NumPy). ``n`` and ``axis`` may be positional (NumPy's order). Linear."""
    x = _as_operand(x)
    axis = _normalize_axis(axis, len(_shape(x)))
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative; got n={n}")

    def edge(v):
        v = _as_operand(v)
        if _shape(v):
            return v
        one = list(_shape(x))
        one[axis] = 1
        return _st.broadcast_to(v, tuple(one))
    parts = [edge(p) if p is not x else p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat(parts, axis=axis)
    for _ in range(n):
        shape = _shape(x)
        m = shape[axis]
        if m == 0:
            break
        hi = [(0, d, 1) for d in shape]
        lo = [(0, d, 1) for d in shape]
        hi[axis] = (1, m, 1)
        lo[axis] = (0, m - 1, 1)
        a, b = _st.slice_(x, tuple(hi)), _st.slice_(x, tuple(lo))
        x = _ew.ne(a, b) if _dtype(x).kind == "b" else _ew.sub(a, b)
    return x
