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
from ..core import Tracer as _Tracer
from ..interpreters import ConstTracer as _ConstTracer
from ..errors import ShapeError
from ..primitives import elementwise as _ew
from ..primitives import reductions as _red
from ..primitives import structural as _st
from ._base import (_no_out, _as_operand, _count, _dtype, _fill_outside, _initial_value,
                    _normalize_axes, _normalize_axis, _numpy_scalars_beside, _reduce, _shape,
                    _where_mask, astype, concat, sqrt)
from ._base import mean as _mean  # (var's and std's mean= parameter would hide the name)


def _acc_dtype(x, dtype, promote_integers=True):
    if dtype is not None:
        return _dt.as_dtype(dtype)
    d = _dtype(x)
    if not promote_integers and d.kind != "b":  # JAX's keyword: the input's own dtype
        return d
    if d.kind in "bi":
        return _dt.int64
    if d.kind == "u":
        return _dt.uint64
    return d


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
        promote_integers=True):
    """Sum over ``axis`` (all axes by default); NumPy's ``initial`` (added to every slice)
    and ``where`` (a boolean mask of the elements taking part). ``promote_integers`` (JAX's
    keyword, ignored when ``dtype`` is given): True sums booleans and signed integers in
    int64, unsigned ones in uint64 (NumPy's); False sums integers in their own dtype, which
    wraps around as NumPy's ``dtype=`` does (booleans still give int64)."""
    if out is not None:
        _no_out("sum", out)
    if dtype is None and type(a) in _INEXACT_TRACERS and initial is None and where is None:
        return _reduce(_red.reduce_sum, a, axis, keepdims)  # floating: its own dtype
    a = _as_operand(a)
    a = astype(a, _acc_dtype(a, dtype, promote_integers))
    a = _fill_outside(a, _where_mask(a, where, "sum"), 0)
    out = _reduce(_red.reduce_sum, a, axis, keepdims)
    return out if initial is None else _ew.add(out, _scalar_of(out, initial))


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers=True):
    """Product over ``axis`` (all axes by default); NumPy's ``initial`` (a factor of every
    slice) and ``where``; ``promote_integers`` as :func:`sum`'s. The derivative is exact
    where ``a`` has zeros (the products of the other elements, computed without division)."""
    if out is not None:
        _no_out("prod", out)
    a = _as_operand(a)
    a = astype(a, _acc_dtype(a, dtype, promote_integers))
    a = _fill_outside(a, _where_mask(a, where, "prod"), 1)
    out = _reduce(_red.reduce_prod, a, axis, keepdims)
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


def _stat_dtype(name, x, dtype, nan=False):
    """NumPy's ``dtype=`` of the mean/var/std family, nan-functions included (the one check
    of it): the dtype, or None. Every dtype is NumPy's to compute in (an integer or bool one
    by its truncating arithmetic: :func:`_exact_var`); the nan-functions (``nan``) refuse an
    integer or bool one for floating input, which holds the NaNs they skip, with NumPy's
    TypeError (a dtype that does not fit the input, no missing feature); var/std and their
    nan-forms refuse a real one for complex input, as JAX's (ValueError)."""
    if dtype is None:
        return None
    d = _dt.as_dtype(dtype)
    if d.kind != "c" and _dtype(x).kind == "c" and name.endswith(("var", "std")):
        # NumPy's result there is neither the real part's spread nor the complex one (its mean
        # drops the imaginary parts, its deviations keep them); JAX refuses it too
        to = "complex64" if d.name in ("float16", "float32") else "complex128"
        raise ValueError(f"{name}: dtype={d.name} for {_dtype(x).name} input: the spread of "
                         f"complex values needs a complex dtype (NumPy's result with a real "
                         f"one mixes the real parts' mean with complex deviations); pass no "
                         f"dtype (a real result), dtype={to}, or the real part (x.real)")
    if nan and d.kind not in "fc" and _dtype(x).kind in "fc":
        raise TypeError(f"{name}: dtype={d.name} for {_dtype(x).name} input: floating input "
                        f"needs a floating or complex dtype (as NumPy's: the NaNs skipped "
                        f"have no integer value); compute in a float dtype and round the "
                        f"result, or give integer input")
    return d


def _exact_sum(x, d, axes, keepdims, mask):
    """NumPy's sum in the integer or bool dtype ``d``: each element cast to ``d`` first
    (floats truncated), the sum wrapping around as ``d``'s does; bool's is a logical or."""
    x = astype(x, d)
    if d.kind == "b":
        return _bool_reduce(_red.reduce_or_p, x, axes, keepdims, mask, False, "sum")
    return _reduce(_red.reduce_sum, _fill_outside(x, mask, 0), axes, keepdims)


def _truncated(total, count, d):
    """NumPy's ``total / count`` into the integer or bool dtype ``d``: a true division (in
    float64), truncated toward 0 (count 0: nan, which casts as NumPy's does)."""
    q = _ew.div(astype(total, _dt.float64), count if type(count) is float
                else astype(count, _dt.float64))
    return astype(q, d)


def _exact_mean(x, d, axis, keepdims, where, name="mean"):
    """``mean(x, dtype=d)`` for an integer or bool ``d``, as NumPy's: summed in ``d``, the
    quotient truncated into it."""
    x = _as_operand(x)
    shape = _shape(x)
    axes = _normalize_axes(axis, len(shape))
    mask = _where_mask(x, where, name)
    total = _exact_sum(x, d, axes, keepdims, mask)
    if mask is None:
        return _truncated(total, float(math.prod(shape[a] for a in axes)), d)
    return _truncated(total, _count(astype(total, _dt.float64), mask, axes, keepdims), d)


def _exact_var(x, d, axis, keepdims, where, correction, name="var"):
    """``var(x, dtype=d)`` for an integer or bool ``d``, step by step as NumPy's: the mean
    truncated into ``d``, the deviations in the dtype ``x`` and ``d`` promote to, their
    squares summed in ``d``, the quotient truncated."""
    from ._base import multiply, subtract
    from ._elementwise import conj, real
    x = _as_operand(x)
    shape = _shape(x)
    axes = _normalize_axes(axis, len(shape))
    mask = _where_mask(x, where, name)
    m = _exact_mean(x, d, axes, True, mask, name)
    dev = subtract(x, m)
    sq = real(multiply(dev, conj(dev))) if _dtype(dev).kind == "c" else multiply(dev, dev)
    s = _exact_sum(sq, d, axes, keepdims, mask)
    if mask is None:
        n = float(math.prod(shape[a] for a in axes))
        return _truncated(s, builtins.max(n - correction, 0.0), d)
    dof = _ew.sub(_count(astype(s, _dt.float64), mask, axes, keepdims), float(correction))
    return _truncated(s, _ew.max_p.bind(dof, 0.0), d)


def _given_mean(name, x, given, axes):
    """The ``mean=`` given to var or std (or their nan versions), broadcast to ``x``'s shape:
    it must broadcast to the shape of the mean with ``keepdims=True``, as NumPy's."""
    from ..errors import ShapeError
    from ._base import _SCALARS, _to_array, broadcast_to
    shape = _shape(x)
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    m = _to_array(given, like=x) if type(given) in _SCALARS else _as_operand(given)
    try:
        m = broadcast_to(m, kept)
    except (ShapeError, ValueError) as e:
        raise ValueError(f"{name}: mean= must have the shape of the mean taken with "
                         f"keepdims=True, {kept} (or broadcast to it); got "
                         f"{_shape(m)}") from e
    return _st.broadcast_to(m, shape)


def var(a, axis=None, dtype=None, out=None, ddof=None, keepdims=False, *, where=None,
        mean=None, correction=None):
    """Variance over ``axis``: the mean squared deviation, with ``N - correction`` degrees
    of freedom (``correction`` 0 by default; where that is 0 or less, inf, or nan for a
    slice with no deviation, as NumPy's). ``ddof`` is NumPy's name for ``correction``
    (giving both is a ValueError); ``where``: NumPy's boolean mask of the elements taking
    part (N counts them in each slice); ``dtype``: NumPy's, the dtype computed in and of the
    result: floating or complex, or integer or bool with NumPy's arithmetic (the elements,
    mean and squared deviations cast into it, truncating; no derivative); ``mean``: NumPy's
    and jax.numpy's, the mean to take the deviations from (of the shape the mean has with
    ``keepdims=True``), which is then not computed (differentiable in it too)."""
    if out is not None:
        _no_out("var", out)
    correction = _correction("var", correction, ddof)
    d = _stat_dtype("var", a, dtype)
    if d is not None:
        if d.kind not in "fc":
            if mean is not None:
                raise NotImplementedError("var: mean= with an integer or bool dtype= is not "
                                          "supported; pass a floating dtype")
            return _exact_var(a, d, axis, keepdims, where, correction)
        out = var(astype(a, d), axis, correction=correction, keepdims=keepdims, where=where,
                  mean=mean)
        return astype(out, d)
    a = _as_operand(a)
    if _dtype(a).kind not in "fc":
        a = _st.convert_element_type(a, _dt.float64)
    half = _dtype(a)
    if half in _dt.HALF:  # in float32 and rounded back (as JAX, torch; NumPy's overflows)
        out = var(_st.convert_element_type(a, _dt.float32), axis, correction=correction,
                  keepdims=keepdims, where=where, mean=mean)
        return _st.convert_element_type(out, half)
    shape = _shape(a)
    axes = _normalize_axes(axis, len(shape))
    mask = _where_mask(a, where, "var")
    # excluded elements replaced first: a nan or inf there must not reach the derivative
    a = _fill_outside(a, mask, 0)
    if mean is not None:
        d = _ew.sub(a, _given_mean("var", a, mean, axes))
        return _from_deviations(d, shape, axes, keepdims, mask, correction, d)
    m = _mean(a, axis=axes, keepdims=True, where=mask)
    d = _ew.sub(a, _st.broadcast_to(m, shape))
    return _from_deviations(d, shape, axes, keepdims, mask, correction, a)


def _from_deviations(d, shape, axes, keepdims, mask, correction, moved):
    """The variance from the deviations ``d`` (var's last steps); ``moved``: what the slices
    depend on (the elements, or the deviations from a given mean)."""
    sq = _ew.real(_ew.mul(_ew.conj(d), d)) if _dtype(d).kind == "c" else _ew.mul(d, d)
    s = _reduce(_red.reduce_sum, _fill_outside(sq, mask, 0), axes, keepdims)
    if mask is not None:
        # N - correction per slice, at least 0 (as NumPy: nan or inf where it is 0)
        dof = _ew.sub(_count(s, mask, axes, keepdims), float(correction))
        if not _differentiated(moved):  # (the same values)
            return _ew.div(s, _ew.max_p.bind(dof, 0.0))
        none = _ew.le_p.bind(dof, 0.0)
        if not _may_hold(none):  # (the mask is known: no slice without degrees of freedom)
            return _ew.div(s, _ew.max_p.bind(dof, 0.0))
        fixed = _st.stop_gradient_p.bind(_ew.div(s, _ew.max_p.bind(dof, 0.0)))
        out = _ew.select_p.bind(none, fixed, _ew.div(s, _ew.select_p.bind(none, 1.0, dof)))
        return _ew.add(out, _no_dof_slope(none, moved, mask, axes, keepdims))
    dof = math.prod(shape[a] for a in axes) - correction
    if dof > 0:
        return _ew.div(s, float(dof))
    # (no degrees of freedom: NumPy's s / 0, inf, or nan where s is 0, as the where= path)
    if not _differentiated(moved):
        return _ew.div(s, 0.0)
    out = _st.stop_gradient_p.bind(_ew.div(s, 0.0))
    return _ew.add(out, _no_dof_slope(True, moved, None, axes, keepdims))


def _may_hold(mask):
    """False only where ``mask``'s values are known beneath the transforms (eager ones: the
    mask of a where= or of NaNs has no derivative) and all false; staged (jit): True."""
    from ..scipy.special import _may_hold
    return _may_hold(mask)


def _differentiated(x):
    """Whether ``x`` may carry a derivative (a tracer, not a constant inside a transform):
    elsewhere the terms that only shape derivatives are left out."""
    return isinstance(x, _Tracer) and not isinstance(x, _ConstTracer)


def _no_dof_slope(none, moved, mask, axes, keepdims):
    """0, with first and second derivatives NaN in the directions that move an element of
    a slice with no degrees of freedom (``none``; ``moved`` as in _from_deviations) and 0 in
    all others. The variance there is NumPy's nan or inf, whatever the elements are (its
    value is held fixed): s / 0 differentiated gave NaN in every direction in forward mode
    (also those of other slices' elements: jacfwd(var(x, axis=1, ddof=1)) at x of shape
    (2, 1) was NaN everywhere, the reverse mode NaN in the rows only), and nanvar 0."""
    y = _ew.sub(moved, _st.stop_gradient_p.bind(moved))  # 0, moved's tangent
    if _dtype(y).kind == "c":
        y = _ew.add(_ew.real(y), _ew.imag(y))
    y = _reduce(_red.reduce_sum, _fill_outside(y, mask, 0), axes, keepdims)
    hole = (_st.full_like(y, math.nan) if none is True
            else _ew.select_p.bind(none, _st.full_like(y, math.nan), _st.full_like(y, 0.0)))
    first = _ew.mul_sz(hole, y)  # (strong zeros: y's tangent 0 gives 0)
    return _ew.add(first, _ew.mul_sz(first, y))  # (the second derivatives)


def _degenerate(name, a, axis, where, correction, keepdims, given_mean):
    """Where std's slices have no degrees of freedom or (without a given mean) a single
    element: the variance there is NumPy's nan or inf, or identically 0, with the
    derivatives var gives it, which sqrt's infinite slope must not meet. True, False or a
    boolean array of the result's shape."""
    shape = _shape(a)
    axes = _normalize_axes(axis, len(shape))
    least = builtins.max(correction, 0 if given_mean else 1)
    mask = _where_mask(a, where, name)
    if mask is None:
        return math.prod(shape[ax] for ax in axes) <= least
    return _ew.le_p.bind(_count(_st.convert_element_type(mask, _dt.float64), mask, axes,
                                keepdims), float(least))


def std(a, axis=None, dtype=None, out=None, ddof=None, keepdims=False, *, where=None,
        mean=None, correction=None):
    """Standard deviation over ``axis`` (the derivative is infinite where it is 0, except
    over slices of one element, where it is identically 0 and so is its derivative);
    ``ddof`` is NumPy's name for ``correction`` (giving both is a ValueError); ``where``,
    ``dtype`` and ``mean`` as in :func:`var`."""
    if out is not None:
        _no_out("std", out)
    correction = _correction("std", correction, ddof)
    d = _stat_dtype("std", a, dtype)
    if d is not None:
        if d.kind not in "fc":  # NumPy's for a 0-d result (its arrays refuse sqrt's cast)
            if mean is not None:
                raise NotImplementedError("std: mean= with an integer or bool dtype= is not "
                                          "supported; pass a floating dtype")
            v = _exact_var(a, d, axis, keepdims, where, correction, "std")
            return astype(sqrt(astype(v, _dt.float64)), d)
        out = std(astype(a, d), axis, correction=correction, keepdims=keepdims, where=where,
                  mean=mean)
        return astype(out, d)
    a = _as_operand(a)
    half = _dtype(a)
    if half in _dt.HALF:  # (the variance itself may be beyond float16's range)
        out = std(_st.convert_element_type(a, _dt.float32), axis, correction=correction,
                  keepdims=keepdims, where=where, mean=mean)
        return _st.convert_element_type(out, half)
    v = var(a, axis=axis, correction=correction, keepdims=keepdims, where=where, mean=mean)
    odd = _degenerate("std", a, axis, where, correction, keepdims, mean is not None)
    if odd is False or odd is not True and not _differentiated(v):  # (the same values)
        return sqrt(v)
    # One element per slice: the variance is identically 0 (with a zero derivative, as
    # autograd's), and sqrt's infinite slope there would make it nan; no degrees of freedom:
    # nan or inf, with NaN derivatives in the slice's own directions only (var's). There
    # the square root has the variance's value: it is the variance.
    if odd is True:
        return v
    return _ew.select_p.bind(odd, v, sqrt(_ew.select_p.bind(odd, 1.0, v)))


def _cumulative(prim, x, axis, dtype, include_initial, initial):
    x = _as_operand(x)
    shape = _shape(x)
    if not shape:  # NumPy 2's: a 0-d array as its one element (JAX raises)
        x = _st.reshape(x, (1,))
        shape = (1,)
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


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """Running sums along ``axis`` (optionally starting with 0). Linear."""
    if out is not None:
        _no_out("cumulative_sum", out)
    return _cumulative(_red.cumsum_p, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """Running products along ``axis`` (optionally starting with 1). The derivative is exact
    where ``x`` has zeros (no division; O(n log n) work in the length n of the axis)."""
    if out is not None:
        _no_out("cumulative_prod", out)
    return _cumulative(_red.cumprod_p, x, axis, dtype, include_initial, 1)


def _bool_reduce(prim, x, axis, keepdims, where, neutral, name):
    x = _as_operand(x)
    if _dtype(x).kind != "b":
        x = _ew.ne(x, 0)
    x = _fill_outside(x, _where_mask(x, where, name), neutral)
    return _reduce(lambda v, axes: prim.bind(v, axes=axes), x, axis, keepdims)


def all(a, axis=None, out=None, keepdims=False, *, where=None):
    """Whether every element along ``axis`` is true (non-zero); ``where``: NumPy's mask of
    the elements that count (True for a slice with none)."""
    if out is not None:
        _no_out("all", out)
    return _bool_reduce(_red.reduce_and_p, a, axis, keepdims, where, True, "all")


def any(a, axis=None, out=None, keepdims=False, *, where=None):
    """Whether some element along ``axis`` is true (non-zero); ``where``: NumPy's mask of
    the elements that count (False for a slice with none)."""
    if out is not None:
        _no_out("any", out)
    return _bool_reduce(_red.reduce_or_p, a, axis, keepdims, where, False, "any")


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``axis`` (``x[i+1] - x[i]``), with optional
    values prepended/appended first (a scalar is broadcast to one slice along ``axis``, as
    in NumPy). ``n`` and ``axis`` may be positional (NumPy's order). Linear."""
    a = _as_operand(a)
    axis = _normalize_axis(axis, len(_shape(a)))
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order must be non-negative; got n={n}")
    if n == 0:  # a as it is, prepend and append ignored, as NumPy's and JAX's (was joined)
        return a

    def edge(v):
        v = _as_operand(_numpy_scalars_beside(v, a)[0])
        if _shape(v):
            return v
        one = list(_shape(a))
        one[axis] = 1
        return _st.broadcast_to(v, tuple(one))
    parts = [edge(p) if p is not a else p for p in (prepend, a, append) if p is not None]
    if len(parts) > 1:
        a = concat(parts, axis=axis)
    for _ in range(n):
        shape = _shape(a)
        m = shape[axis]
        if m == 0:
            break
        hi = [(0, d, 1) for d in shape]
        lo = [(0, d, 1) for d in shape]
        hi[axis] = (1, m, 1)
        lo[axis] = (0, m - 1, 1)
        upper, lower = _st.slice_(a, tuple(hi)), _st.slice_(a, tuple(lo))
        a = _ew.ne(upper, lower) if _dtype(a).kind == "b" else _ew.sub(upper, lower)
    return a
