"""Indexing beyond basic slicing: integer arrays, boolean masks, ``take`` and
``take_along_axis``, all differentiable (a gather, whose transpose is a scatter-add).

Boolean masks need concrete values (the result's shape depends on them): they work on plain
arrays and in eager transforms (``grad``, ``jvp``, ``vjp``), and raise a ConcretizationError
while staging a graph.
"""

from __future__ import annotations

import builtins
import math
import operator
import sys

import numpy as _np

from .. import dtypes as _dt
from ..core import Tracer
from ..interpreters import ConstTracer
from ..errors import ShapeError
from ..primitives import elementwise as _ew
from ..backends import backend_of
from ..primitives import indexing as _ix
from ..primitives import reductions as _red
from ..primitives import sorting as _so
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _basic_index, _concrete_value, _dtype,
                    _normalize_axis, _place_of, _shape, _to_array, broadcast_shapes,
                    broadcast_to, device, maximum, minimum, where)
from ._base import _getitem as _basic_getitem


def _is_array_index(k):
    return isinstance(k, Tracer) or (hasattr(k, "shape") and hasattr(k, "dtype")) \
        or isinstance(k, list)


def _getitem(x, key):
    """``x[key]`` on tracers: integers, slices, ``None``, ``...``, integer arrays (broadcast
    together, NumPy's placement of the indexed axes) and boolean masks."""
    if not isinstance(key, tuple):
        key = (key,)
    # a tuple inside the index is a sequence of integers, as in NumPy: x[(0, 1), (3, 2)]
    key = tuple(builtins.list(k) if type(k) is tuple else k for k in key)
    for k in key:
        if not (k is None or k is Ellipsis or isinstance(k, slice) or _is_array_index(k)
                or hasattr(k, "__index__")):
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and integer or boolean "
                f"arrays are valid indices; got {type(k).__name__} {k!r}" + (
                    " (round it and convert it with int() first)"
                    if isinstance(k, (float, _np.floating)) else ""))
    if not builtins.any(_is_array_index(k) or type(k) is bool for k in key):
        return _basic_getitem(x, key)
    return _advanced(x, key)


def _advanced(x, key):
    key = [_as_index(x, k) for k in key]
    ndim = len(_shape(x))
    consumed = builtins.sum(
        len(_shape(k)) if _is_array_index(k) and _dtype(k).kind == "b"
        else (0 if k is None or k is Ellipsis else 1) for k in key)
    if builtins.sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for an array of shape {_shape(x)}")
    # ``place``: the position in ``key`` each expanded entry comes from. NumPy decides where
    # the indexed axes go by positions in the key: an ellipsis between two array indices
    # separates them even where it stands for no axis (x[:, [0, 1], ..., 1] of a 3-d x)
    expanded, place = [], []
    for p, k in enumerate(key):
        if k is Ellipsis:
            expanded.extend([slice(None)] * (ndim - consumed))
            place.extend([p] * (ndim - consumed))
        else:
            expanded.append(k)
            place.append(p)
    if not builtins.any(k is Ellipsis for k in key):
        expanded.extend([slice(None)] * (ndim - consumed))
        place.extend([len(key)] * (ndim - consumed))
    # None inserts an axis of length 1; a mask becomes one index array per axis it covers.
    # ``source``: the axis of the caller's array each entry indexes (None: an inserted one),
    # which messages and checkify's reports name; ``axis`` counts the axes of ``x`` (inserted
    # ones too), ``user_axis`` the caller's.
    user_shape = _shape(x)
    entries, source, axis, user_axis, entry_place, p_last = [], [], 0, 0, [], None
    for k, p in zip(expanded, place):
        entry_place.extend([p_last] * (len(entries) - len(entry_place)))  # (the previous k's)
        p_last = p
        if k is None:
            shape = list(_shape(x))
            shape.insert(axis, 1)
            x = _st.reshape(x, tuple(shape))
            entries.append(slice(None))
            source.append(None)
            axis += 1
        elif _is_array_index(k) and _dtype(k).kind == "b":
            ms = _shape(k)
            xs = _shape(x)[axis:axis + len(ms)]
            if ms != xs:
                raise IndexError(f"boolean index of shape {ms} does not match the indexed "
                                 f"axes of shape {xs}")
            if not ms:  # a 0-d mask adds an axis of length 1 (True) or 0 (False)
                shape = list(_shape(x))
                shape.insert(axis, 1)
                x = _st.reshape(x, tuple(shape))
                entries.append(_ix.nonzero(_st.reshape(k, (1,)))[0])
                source.append(None)
                axis += 1
                continue
            entries.extend(_ix.nonzero(k))
            source.extend(range(user_axis, user_axis + len(ms)))
            axis += len(ms)
            user_axis += len(ms)
        else:
            if _is_array_index(k) and _dtype(k).kind not in "iu":
                raise IndexError(f"arrays used as indices must be of integer or boolean "
                                 f"dtype; got {_dtype(k).name}")
            entries.append(k)
            source.append(user_axis)
            axis += 1
            user_axis += 1
    entry_place.extend([p_last] * (len(entries) - len(entry_place)))
    shape = _shape(x)
    adv = [i for i, k in enumerate(entries) if not isinstance(k, slice)]
    if not builtins.any(_is_array_index(entries[i]) for i in adv):
        return _basic_getitem(x, tuple(entries))
    # 1. the slices, keeping every axis
    basic = tuple(k if isinstance(k, slice) else slice(None) for k in entries)
    x = _basic_getitem(x, basic)
    shape = _shape(x)
    # 2. the integer indices, broadcast together
    idx, checking = [], _index_checks_running()
    shapes = [_shape(entries[i]) for i in adv if _is_array_index(entries[i])]
    try:
        b_shape = broadcast_shapes(*shapes)
    except ShapeError:  # (NumPy's IndexError)
        raise IndexError(f"shape mismatch: indexing arrays could not be broadcast together "
                         f"with shapes {' '.join(map(str, shapes))}") from None
    selects = math.prod(b_shape) > 0  # (nothing selected: no array index is checked, NumPy)
    for i in adv:
        k = entries[i]
        n = shape[i]
        if checking:  # (reported on the caller's axis, not the gather's operand's below)
            k = _recorded_index(k, n, user_shape, source[i], x)
        elif not _is_array_index(k):
            k = int(k)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {source[i]} with size "
                                 f"{n}")
        elif selects:
            _check_bounds(k, n, f"axis {source[i]}", "index")
        idx.append(k)
    idx = [_st.broadcast_to(k, b_shape) if _is_array_index(k) else k for k in idx]
    rest = [i for i in range(len(shape)) if i not in adv]
    out = _ix.gather(_st.transpose(x, tuple(adv) + tuple(rest)), idx)
    # 3. NumPy's placement: indices adjacent in the key keep their place, others go first.
    adv_places = sorted({entry_place[i] for i in adv})
    if adv == list(range(adv[0], adv[-1] + 1)) and adv[0] > 0 and \
            adv_places == list(range(adv_places[0], adv_places[-1] + 1)):
        nb, p = len(b_shape), adv[0]
        perm = (tuple(range(nb, nb + p)) + tuple(range(nb))
                + tuple(range(nb + p, len(_shape(out)))))
        out = _st.transpose(out, perm)
    return out


def take(a, indices, axis=None, out=None, mode="raise", unique_indices=False,
         indices_are_sorted=False, *, fill_value=None):
    """Elements of ``a`` at the integer ``indices`` along ``axis`` (NumPy's ``take``, which
    the standard's ``take(x, indices, axis=...)`` calls are a case of): with ``axis=None``
    the flattened ``a``. ``mode`` says what an index outside ``[-n, n)`` does: 'raise' (an
    IndexError, checked only where the indices are concrete values; under a transform they
    are not inspected), 'wrap' (taken modulo ``n``) or 'clip' (clipped to ``[0, n - 1]``, so
    negative indices give the first element, as in NumPy). Differentiable in ``a``; the
    derivative of repeated indices accumulates. ``out=`` is not supported.

    ``mode='fill'`` with ``fill_value`` is ``jax.numpy``'s: an index outside ``[-n, n)``
    gives ``fill_value`` (unless given: NaN for floating ``a``, the smallest value for
    signed integers, the largest for unsigned ones, True for booleans), and no derivative
    reaches ``a`` from it. NumPy's default mode, 'raise', stays the default (JAX's is
    'fill'). ``unique_indices`` and ``indices_are_sorted`` (jax.numpy's promises, for XLA)
    are accepted and change nothing."""
    if out is not None:
        raise NotImplementedError("take: out= is not supported (functrans arrays are never "
                                  "written in place); use the returned array")
    if mode not in ("raise", "wrap", "clip", "fill"):
        raise ValueError(f"take: mode must be 'raise', 'wrap', 'clip' or 'fill'; got "
                         f"{mode!r}")
    if fill_value is not None and mode != "fill":
        raise ValueError(f"take: fill_value applies only with mode='fill' (got mode="
                         f"{mode!r})")
    if isinstance(a, (list, tuple)):
        from ._creation import asarray
        a = asarray(a)
    x = _as_operand(a)
    if isinstance(indices, (list, tuple)) or type(indices) in _SCALARS:
        if type(indices) is bool or type(indices) is float or (
                type(indices) not in _SCALARS and _has_float(indices)):
            raise IndexError("take: indices must be integers")
        indices = _to_array(indices, like=x, dtype=_dt.int64 if _no_numbers(indices) else None)
    indices = _host_index(indices, x)
    if _dtype(indices).kind not in "iu":  # NumPy's TypeError (no 'same_kind' cast to intp)
        raise TypeError(f"take: indices must be integers; got {_dtype(indices).name}")
    if axis is None:
        x = _st.reshape(x, (math.prod(_shape(x)),))
        axis = 0
    nd = len(_shape(x))
    if nd == 0:  # NumPy takes from a 0-d array as from one of shape (1,)
        axis = _normalize_axis(operator.index(axis), 1)
        x, nd = _st.reshape(x, (1,)), 1
    axis = _normalize_axis(operator.index(axis), nd)
    n = _shape(x)[axis]
    size = math.prod(_shape(indices))
    if n == 0 and size and mode in ("wrap", "clip") and \
            math.prod(_shape(x)[:axis] + _shape(x)[axis + 1:]):
        # (NumPy's error only where the result has elements: an empty result is returned;
        # 'fill' fills every position, as jax.numpy's)
        raise IndexError("take: cannot do a non-empty take from an empty axis")
    # NumPy's 'raise' reads the indices once per element of the axes before ``axis``: none
    # when one of those is empty (take(zeros((0, 3)), 5, axis=1) is empty, no error), and
    # the result is empty then, whatever the indices
    reads = size and math.prod(_shape(x)[:axis])
    if mode != "raise" and _dtype(indices) is not _dt.int64:
        # in int64 (NumPy's intp): n, or n - 1, need not fit a narrow index dtype
        indices = _st.convert_element_type(indices, _dt.int64)
    inside = None
    if n == 0 and (mode != "raise" or not reads):
        # an empty axis: nothing to read, so one zero slot to gather from (the result is
        # empty for 'wrap'/'clip', checked above; all fill for 'fill', as jax.numpy's)
        shape1 = _shape(x)[:axis] + (1,) + _shape(x)[axis + 1:]
        x = _st.scatter_slice(x, shape1, tuple((0, 0 if a == axis else d, 1)
                                               for a, d in enumerate(_shape(x))))
        n, empty_axis = 1, True
    else:
        empty_axis = False
    if mode == "wrap":
        from ._elementwise import remainder
        indices = remainder(indices, n) if n else indices
    elif mode == "clip":
        indices = maximum(minimum(indices, builtins.max(n - 1, 0)), 0)
    elif mode == "fill":
        from ._base import greater_equal, less
        from ._elementwise import logical_and
        inside = logical_and(greater_equal(indices, -n), less(indices, n))
        if empty_axis:
            inside = logical_and(inside, False)
        # in range for the gather; the filled positions are replaced below
        indices = where(inside, indices, 0)
    elif not reads:  # (any index in range gives the same empty result)
        indices = indices * 0
    elif _index_checks_running():  # (reported on the caller's axis, not the gather's)
        indices = _recorded_index(indices, n, _shape(x), axis, x)
    else:
        _check_bounds(indices, n, f"axis {axis}", "take: index")
        # (negative indices are gather's to count from the end, in a dtype that holds n)
    perm = (axis,) + tuple(i for i in range(nd) if i != axis)
    out = _ix.gather(_st.transpose(x, perm), (indices,))
    ni = len(_shape(indices))
    # result axes: indices' axes, then x's other axes; put the indices' axes at ``axis``
    back = (tuple(range(ni, ni + axis)) + tuple(range(ni))
            + tuple(range(ni + axis, ni + nd - 1)))
    out = _st.transpose(out, back)
    if inside is not None:
        out = _fill_outside(out, inside, axis, nd, fill_value)
    return out


def _fill_outside(out, inside, axis, nd, fill_value):
    """``out`` (``take``'s result, the indices' axes at ``axis``) with ``fill_value`` where
    ``inside`` (of the indices' shape) is false."""
    mask = _st.reshape(inside, (1,) * axis + _shape(inside) + (1,) * (nd - 1 - axis))
    return where(mask, out, _fill_scalar(out, fill_value))


def _fill_scalar(out, fill_value):
    """``fill_value`` as a 0-d array of ``out``'s dtype and backend; None: jax.numpy's
    default (NaN for floating dtypes, the smallest signed or largest unsigned integer, True
    for booleans)."""
    dt = _dtype(out)
    if fill_value is None:
        if dt.kind == "b":
            fill_value = True
        elif dt.kind in "iu":
            info = _np.iinfo(_np.dtype(dt.name))  # (the dtype's limits only)
            fill_value = int(info.min if dt.kind == "i" else info.max)
        else:
            fill_value = float("nan")
    return _to_array(fill_value, dtype=dt, like=out)


def _has_float(seq):
    for v in seq:
        if isinstance(v, (list, tuple)):
            if _has_float(v):
                return True
        elif type(v) in (float, complex, bool):
            return True
    return False


def _mode_name(mode):
    """A ``jax.lax.GatherScatterMode`` (JAX's or functrans.lax's) as its string name."""
    if type(mode).__name__ == "GatherScatterMode":
        return {"CLIP": "clip", "FILL_OR_DROP": "fill",
                "PROMISE_IN_BOUNDS": "promise_in_bounds"}.get(mode.name, mode.name)
    return mode


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None, *,
                    wrap_negative_indices=None):
    """Elements of ``arr`` at ``indices`` along ``axis``, matched position by position along
    the other axes (which broadcast). ``axis`` may be positional, as NumPy's
    (``take_along_axis(x, i, 1)``); ``axis=None`` takes from the flattened ``x`` with 1-d
    ``indices``. Differentiable in ``x``.

    ``mode`` says what an index outside ``[-n, n)`` does: None or 'raise' (NumPy's: an
    IndexError, checked where the indices are concrete), 'clip' (jax.numpy's: a negative
    index counts from the end first, then the index is clipped to ``[0, n - 1]``), 'fill'
    (jax.numpy's default: ``fill_value`` there, unless given NaN for floating ``x``, the
    smallest value for signed integers, the largest for unsigned ones, True for booleans;
    no derivative reaches ``x`` from it) or 'promise_in_bounds' (checked as 'raise').
    A ``fill_value`` without a mode means 'fill', as in JAX. ``wrap_negative_indices=False``
    (JAX's) makes negative indices out of range too."""
    mode = _mode_name(mode)
    if mode is None and fill_value is not None:
        mode = "fill"
    if mode not in (None, "raise", "clip", "fill", "promise_in_bounds"):
        raise ValueError(f"take_along_axis: mode must be None, 'raise', 'clip', 'fill' or "
                         f"'promise_in_bounds'; got {mode!r}")
    if fill_value is not None and mode != "fill":
        raise ValueError(f"take_along_axis: fill_value applies only with mode='fill' (got "
                         f"mode={mode!r})")
    arr = _as_operand(arr)
    indices = _host_index(indices, arr)
    if _dtype(indices).kind not in "iu":  # (was truncated: 1.7 took position 1)
        raise IndexError(f"take_along_axis: indices must be an integer array; got "
                         f"{_dtype(indices).name}")
    if axis is None:
        if len(_shape(indices)) != 1:
            raise ShapeError(f"take_along_axis: with axis=None the indices must be 1-d; got "
                             f"shape {_shape(indices)}")
        arr, axis = _st.reshape(arr, (math.prod(_shape(arr)),)), 0
    nd = len(_shape(arr))
    if len(_shape(indices)) != nd:
        raise ShapeError(f"take_along_axis: indices must have the array's rank {nd}; got "
                         f"shape {_shape(indices)}")
    axis = _normalize_axis(axis, nd)
    xs, js = list(_shape(arr)), list(_shape(indices))
    n = xs[axis]
    inside = None
    if mode in ("clip", "fill") or wrap_negative_indices is False:
        from ._base import greater_equal, less
        from ._elementwise import logical_and
        if _dtype(indices).kind == "u":  # (past int64's range: out of range, not negative)
            indices = minimum(indices, n)
        if _dtype(indices) is not _dt.int64:  # (n need not fit a narrow index dtype)
            indices = _st.convert_element_type(indices, _dt.int64)
        lo = 0 if wrap_negative_indices is False else -n
        if mode == "clip":
            if n == 0 and math.prod(js):
                raise IndexError("take_along_axis: cannot do a non-empty take from an empty "
                                 "axis")
            if lo:
                indices = where(less(indices, 0), indices + n, indices)
            indices = maximum(minimum(indices, builtins.max(n - 1, 0)), 0)
        elif mode == "fill":
            inside = logical_and(greater_equal(indices, lo), less(indices, n))
            indices = where(inside, indices, 0)
    if mode != "clip" and mode != "fill":
        # (checked here, on the caller's axis: the library's message would count a vmap's)
        _check_bounds(indices, n, f"axis {axis}", "take_along_axis: index",
                      negative=wrap_negative_indices is not False)
        if wrap_negative_indices is False:  # (traced ones: out of range, not from the end)
            indices = where(less(indices, 0), n, indices)
    other = broadcast_shapes(tuple(xs[:axis] + [1] + xs[axis + 1:]),
                             tuple(js[:axis] + [1] + js[axis + 1:]))
    xt = tuple(other[:axis]) + (n,) + tuple(other[axis + 1:])
    jt = tuple(other[:axis]) + (js[axis],) + tuple(other[axis + 1:])
    indices = _st.broadcast_to(indices, jt)
    if inside is not None and n == 0:  # nothing to gather from: every entry is filled
        return _st.broadcast_to(_fill_scalar(arr, fill_value), jt)
    out = _ix.take_along_axis(_st.broadcast_to(arr, xt), indices, axis)
    if inside is not None:
        out = where(inside, out, _fill_scalar(out, fill_value))
    return out


# -- item assignment: x[key] = value, computed functionally -------------------------------------


def _setitem(x, key, value):
    """The array that ``x[key] = value`` would leave in ``x``, as a new array (``x`` itself is
    never written to): ``value``, cast to ``x``'s dtype and broadcast to the shape of
    ``x[key]``, at the positions ``key`` selects, and ``x`` elsewhere. It is a ``where`` over
    ``x`` and the scattered value, so the derivative flows to both. Repeated integer indices
    take the last value, as NumPy does. ``Tracer.__setitem__`` rebinds the tracer to it."""
    shape = _shape(x)
    dt = _dtype(x)
    value = _cast_value(x, value, dt)
    vshape = ()
    if type(value) not in _SCALARS:
        vshape = _strip_ones(_shape(value))
        value = _st.reshape(value, vshape)
    tkey = tuple(_as_index(x, k) for k in (key if isinstance(key, tuple) else (key,)))
    # A mask over the leading axes with one value for every selected element: a plain where,
    # which needs no concrete mask (so it also works while staging a graph).
    if len(tkey) == 1 and _is_array_index(tkey[0]) and _dtype(tkey[0]).kind == "b":
        ms = _shape(tkey[0])
        rest = shape[len(ms):]
        if ms and ms == shape[:len(ms)] and _broadcasts(vshape, rest):
            mask = _st.reshape(tkey[0], ms + (1,) * len(rest))
            return where(mask, value, x)
    if not builtins.any(_is_array_index(k) for k in tkey):
        # Basic indexing: the transpose of the slice places the value (and marks the hits).
        idx, out_shape = _basic_index(shape, tkey)
        hit = _st.scatter_slice(_st.slice_(_st.full_like(x, True, dtype=_dt.bool_), idx),
                                shape, idx)
        if not vshape:
            return where(hit, value, x)
        placed = _st.scatter_slice(_st.reshape(broadcast_to(value, out_shape),
                                               _st_slice_shape(idx)), shape, idx)
        return _ew.select(hit, placed, x)
    # Anything else: the flat position of every selected element, by indexing an iota.
    n = math.prod(shape)
    pos = _getitem(_st.reshape(_st.iota(x, n), shape), tkey)
    p = _st.reshape(pos, (math.prod(_shape(pos)),))
    hit = _ew.ne_p.bind(_ix.scatter_add(_st.full_like(p, 1), (p,), (n,)), 0)
    flat = _st.reshape(x, (n,))
    if not vshape:
        return _st.reshape(where(hit, value, flat), shape)
    vals = _st.reshape(broadcast_to(value, _shape(pos)), _shape(p))
    if builtins.any(_is_array_index(k) and _dtype(k).kind in "iu" for k in tkey):
        # Repeated positions: keep only the last value for each (a scatter-add would sum them).
        # Sorting (stably) brings equal positions together; all but the last of a run get 0.
        order = _so.argsort(p, 0)
        p = _ix.gather(p, (order,))
        vals = _ix.gather(vals, (order,))
        if _shape(p)[0] > 1:
            last = _st.concat([_ew.ne_p.bind(_st.slice_(p, ((1, _shape(p)[0], 1),)),
                                             _st.slice_(p, ((0, _shape(p)[0] - 1, 1),))),
                               _st.full_like(_st.slice_(p, ((0, 1, 1),)), True,
                                             dtype=_dt.bool_)], 0)
            vals = _ew.select(last, vals, _st.full_like(vals, 0))
    if _dtype(vals).kind == "b":  # (no library adds booleans: placed as 0/1, each once)
        placed = _ew.ne_p.bind(_ix.scatter_add(_st.convert_element_type(vals, _dt.uint8),
                                               (p,), (n,)), 0)
    else:
        placed = _ix.scatter_add(vals, (p,), (n,))
    return _st.reshape(_ew.select(hit, placed, flat), shape)


def _on_host(x):
    from ..primitives.special import _on_host
    return _on_host(x)


def _check_bounds(k, n, where, what, negative=True):
    """NumPy's IndexError for an integer index array with an entry outside [-n, n) (outside
    [0, n) when not ``negative``), checked where the indices are concrete (under a transform
    they are values of the graph)."""
    from ..batching import BatchTracer
    checkify = sys.modules.get("functrans.experimental.checkify")
    CheckifyTracer = checkify.CheckifyTracer if checkify is not None else BatchTracer
    # Under vmap the members' indices are concrete: check them, as the gather that follows
    # indexes the members' rows flattened together, where an out-of-range index would read
    # another member's element instead of failing. Under checkify too (its tracers hold the
    # values themselves), and a constant made inside a transform (its value is held).
    while type(k) is BatchTracer or type(k) is CheckifyTracer or type(k) is ConstTracer:
        k = k.primal if type(k) is ConstTracer else k.val
    if isinstance(k, Tracer) or not math.prod(_shape(k)):
        return
    axes = tuple(range(len(_shape(k))))
    from ..core import EVAL, reset_current, set_current
    token = set_current(EVAL)  # (plain values: plain results, whatever runs above)
    try:
        lo = _red.reduce_min(k, axes) if axes else k
        hi = _red.reduce_max(k, axes) if axes else k
    finally:
        reset_current(token)
    b = backend_of(lo)
    if lo is hi or isinstance(lo, (_np.ndarray, _np.generic)) or _on_host(lo):
        lo, hi = int(b.to_numpy(lo)), int(b.to_numpy(hi))
    else:  # (on a device the least and greatest read together: one synchronisation)
        lo, hi = (int(v) for v in b.to_numpy(b.xp.stack([lo, hi])))
    bad = lo if lo < (-n if negative else 0) else (hi if hi >= n else None)
    if bad is not None and not _index_checks_running():
        raise IndexError(f"{what} {bad} is out of bounds for {where} with size {n}")


def _recorded_index(k, n, shape, axis, like):
    """The integer index ``k`` (a number or an array) into axis ``axis`` (of size ``n``) of
    an array of ``shape``, under a checkify with index_checks: an entry outside ``[-n, n)``
    is recorded in its error, and ``k`` comes back clamped into range, which is what JAX's
    checkify reads, so the function runs on to its error value (and the gather it feeds
    records nothing a second time, in its own operand's coordinates)."""
    checkify = sys.modules["functrans.experimental.checkify"]
    checkify.index_bounds_check("gather", shape, k, n, axis, like)
    if not n:
        return k  # (nothing to clamp into: the gather's own check reports it)
    if not _is_array_index(k):
        k = operator.index(k)
        return builtins.min(builtins.max(k, -n), n - 1)
    from ._elementwise import clip
    if _dtype(k) is not _dt.int64:  # (n - 1 need not fit a narrow index dtype)
        k = _st.convert_element_type(k, _dt.int64)
    return clip(k, -n, n - 1)


def _index_checks_running():
    """Whether a checkify with index_checks runs: the gather that follows then records the
    out-of-bounds index in its error (and reads a clamped one) instead of this raising."""
    checkify = sys.modules.get("functrans.experimental.checkify")
    return checkify is not None and checkify.index_checks_running()


def _as_index(x, k):
    """A list or Python bool index as an array on the device (and library) of ``x``; a NumPy
    index array beside another library's array as :func:`_host_index` makes it."""
    if isinstance(k, _np.integer):  # NumPy's integer scalars index as Python's ints do
        return operator.index(k)
    if isinstance(k, _np.bool_):
        k = bool(k)
    if isinstance(k, list) or type(k) is bool:
        from ._creation import asarray
        return asarray(k, device=device(x), dtype=_dt.int64 if _no_numbers(k) else None)
    if type(k) is ConstTracer and isinstance(k.primal, _np.ndarray):
        # positions fixed inside the transform (fnp.asarray(np_idx)): as the NumPy array
        # held, so indexing another library's array with them works as with np_idx itself
        held = _host_index(k.primal, x)
        return k if held is k.primal else held
    return _host_index(k, x)


def _no_numbers(k):
    """Whether the list or tuple ``k`` holds only (nested) empty sequences: as an index
    NumPy takes it as integer positions (``x[[]]``, ``take(x, [])``), not floats."""
    return type(k) in (list, tuple) and builtins.all(_no_numbers(o) for o in k)


def _host_index(k, x):
    """NumPy integer or boolean arrays used as indices of another library's array (JAX code's
    usual ``x[np_rows, np_cols]``, index tables built with NumPy once) are taken as lists
    are, made in ``x``'s library on its device, as torch and CuPy index with them: positions
    are no data that the rule against mixing libraries guards, and plain torch code doing
    this must not fail only once it is differentiated."""
    if not (isinstance(k, (_np.ndarray, _np.integer, _np.bool_)) and k.dtype.kind in "biu"):
        return k
    c = _concrete_value(x)
    if c is None or isinstance(c, _np.ndarray):
        return k
    b, dev = _place_of(c)
    return b.asarray(k, device=dev)


def _strip_ones(s):
    """NumPy lets a value have extra leading axes of length 1 in ``x[key] = value``."""
    i = 0
    while i < len(s) and s[i] == 1:
        i += 1
    return s[i:]


def _broadcasts(vshape, shape):
    return len(vshape) <= len(shape) and builtins.all(
        a in (1, b) for a, b in zip(vshape[::-1], shape[::-1]))


def _cast_value(x, value, dt):
    """``value`` converted to ``x``'s dtype: a Python scalar of its kind (weakly typed, so the
    result keeps ``x``'s dtype), or an array (a tracer stays differentiable)."""
    if type(value) in _SCALARS:
        return {"b": bool, "i": int, "u": int, "f": float, "c": complex}[dt.kind](value)
    if isinstance(value, (list, tuple)):
        from ._creation import asarray
        return asarray(value, dtype=dt, device=device(x))
    return value if _dtype(value) is dt else _st.convert_element_type(value, dt)


def _st_slice_shape(idx):
    return tuple(len(range(a, b, c)) for a, b, c in idx)


_ = _dt
