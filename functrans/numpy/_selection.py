"""NumPy's set, partition, selection and put/place functions beyond the standard (``isin``,
``intersect1d``, ``partition``, ``lexsort``, ``choose``, ``piecewise``, ``apply_along_axis``,
``fill_diagonal``, ``put``, ``place`` ...), with NumPy's semantics, built on the namespace's
differentiable functions.

The set functions other than ``isin`` (``intersect1d``, ``union1d``, ``setdiff1d``,
``setxor1d``), ``extract`` and ``trim_zeros`` return arrays whose shapes depend on the values:
they need concrete values (plain arrays and the eager transforms ``grad``, ``jvp``, ``vjp``);
under ``jit`` they raise a ConcretizationError, unless given jax.numpy's ``size=`` (the length
of the result, padded with ``fill_value``). The others keep static shapes.

The in-place functions (``fill_diagonal``, ``put``, ``put_along_axis``, ``place``,
``putmask``, ``copyto``) return None and change their first argument as NumPy does: a plain
array is written through its own ``__setitem__``; a tracer is rebound to the updated value
exactly as ``x[key] = value`` rebinds it (see ``Tracer.__setitem__``), so NumPy code that
mutates an array runs unchanged under ``grad``, ``jit`` and ``vmap``, the derivative flowing
both to the written values and to the untouched entries. With JAX's keyword ``inplace=False``
(``fill_diagonal``, ``put``, ``place``, ``put_along_axis``) they instead return the updated
array and leave the input alone.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as _np  # dtype rules and concrete *index* values only, never the data

from .. import dtypes as _dt
from ..backends import backend_of, check_same_backend
from ..core import Tracer, _take_slots
from ..errors import AxisError, BatchingError, ConcretizationError
from ..interpreters import SAME_LAYOUT_TRACERS, ConstTracer, _encloses
from ..primitives import indexing as _ix
from ..primitives import structural as _st
from ._base import _initial_value
from ._base import asarray as _asarray
from ._base import (_NUMPY_SCALARS, _SCALARS, _dtype, _first_array, _normalize_axes,
                    _normalize_axis, _promote_arrays, _shape, _to_array, astype, broadcast_shapes,
                    broadcast_to, concat, equal, expand_dims, greater_equal, less, maximum,
                    minimum, not_equal, where)
from ._creation import zeros_like as _zeros_like
from ._elementwise import isnan as _isnan
from ._elementwise import logical_and as _logical_and
from ._elementwise import logical_not
from ._elementwise import remainder as _remainder
from ._indexing import _mode_name, _setitem, take, take_along_axis
from ._mathematics import unique as _unique
from ._reshaping import _concrete_true, _conv, _host_index, _index_array, _nd, _slice_axis
from ._reshaping import concatenate as _concatenate
from ._searching import _check_size
from ._searching import argsort as _argsort
from ._searching import nonzero as _nonzero
from ._searching import searchsorted as _searchsorted
from ._searching import sort as _sort
from ._statistics import any as _any
from ._statistics import cumulative_sum as _cumsum

__all__ = [
    "isin", "intersect1d", "union1d", "setdiff1d", "setxor1d", "partition", "argpartition",
    "lexsort", "choose", "piecewise", "extract", "apply_along_axis", "apply_over_axes", "ix_",
    "trim_zeros", "fill_diagonal", "put_along_axis", "put", "place", "putmask", "copyto",
]

# -- helpers -----------------------------------------------------------------------------------


def _flat(x):
    return _st.reshape(x, (math.prod(_shape(x)),))


def _mask_indices(mask):
    """The positions (int64) where the 1-d ``mask`` is true (needs concrete values)."""
    return astype(_ix.nonzero(mask)[0], _dt.int64)


def _where_true(x, mask):
    """``x[mask]`` for 1-d ``x`` and ``mask`` (needs concrete values; differentiable)."""
    return take(x, _mask_indices(mask), axis=0)


def _neighbours_differ(s):
    """For a sorted 1-d ``s`` of length n >= 1: ``s[1:] != s[:-1]`` (length n - 1)."""
    n = _shape(s)[0]
    return not_equal(_slice_axis(s, 0, 1, n), _slice_axis(s, 0, 0, n - 1))


def _true_like(x, n):
    """A boolean array of ``n`` True next to ``x``."""
    return _st.full_like(_st.iota(x, n), True, dtype=_dt.bool_)

# -- sets --------------------------------------------------------------------------------------


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None,
         method="auto"):
    """Elementwise, whether each entry of ``element`` occurs in ``test_elements`` (flattened);
    a boolean array of ``element``'s shape (the opposite with ``invert``). NaN is never found
    (NaN != NaN), as in NumPy. Built from a sort of ``test_elements`` and a binary search (a
    broadcast comparison for complex values), so shapes are static and it works under ``jit``
    and ``vmap``. ``kind`` ('sort', 'table' or None) and ``assume_unique`` only choose an
    algorithm in NumPy; here they do not change the computation ('table' still needs integer
    or boolean inputs, as in NumPy); nor does ``method`` (jax.numpy's choice of algorithm:
    'auto', 'compare_all', 'binary_search' or 'sort')."""
    if method not in ("auto", "compare_all", "binary_search", "sort"):
        raise ValueError(f"isin: method={method!r} is not one of 'auto', 'compare_all', "
                         f"'binary_search', 'sort'")
    if kind not in (None, "sort", "table"):
        raise ValueError(f"isin: invalid kind: {kind!r}. Please use None, 'sort' or 'table'.")
    like = _first_array([element, test_elements])
    el = _conv(element, like)
    te = _conv(test_elements, like)
    if kind == "table" and (_dtype(el).kind not in "iub" or _dtype(te).kind not in "iub"):
        raise ValueError("isin: the 'table' method is only supported for boolean or integer "
                         "arrays. Please select 'sort' or None for kind.")
    (el, te), dt = _promote_arrays([el, te])
    shape = _shape(el)
    t = _flat(te)
    m = _shape(t)[0]
    if m == 0 or math.prod(shape) == 0:
        found = _st.full_like(el, False, dtype=_dt.bool_)
    elif dt.kind == "c":  # no order on complex numbers: compare with every test element
        found = _any(equal(expand_dims(el, -1), t), axis=-1)
    else:
        if dt.kind == "b":
            el, t = astype(el, _dt.int8), astype(t, _dt.int8)
        s = _sort(t)
        pos = minimum(_searchsorted(s, _flat(el)), m - 1)
        found = _st.reshape(equal(take(s, pos, axis=0), _flat(el)), shape)
    return logical_not(found) if invert else found


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None,
                fill_value=None):
    """The sorted values found in both ``ar1`` and ``ar2`` (flattened); with
    ``return_indices`` also the index (int64) of each in the flattened ``ar1`` and ``ar2``
    (of its first occurrence unless ``assume_unique``). NaN is in no intersection. Needs
    concrete values; the derivative of the values is that of their (first) occurrence in
    ``ar1``.

    ``size`` (jax.numpy's keyword): exactly ``size`` values, the first ``size`` of the
    intersection followed by ``fill_value`` (by default its smallest value, with that
    value's derivative; 0 if the intersection is empty); the fillers' indices are
    ``ar1.size`` and ``ar2.size`` (out of range, as jax.numpy's). The shape is then known
    beforehand, so it works under ``jit`` and ``vmap``."""
    like = _first_array([ar1, ar2])
    a, b = _conv(ar1, like), _conv(ar2, like)
    if size is not None:
        return _intersect1d_sized(a, b, assume_unique, return_indices,
                                  _check_size("intersect1d", size), fill_value)
    _no_fill_without_size(fill_value, "intersect1d")
    if not assume_unique:
        if return_indices:
            a, ia = _unique(a, return_index=True)
            b, ib = _unique(b, return_index=True)
        else:
            a, b = _unique(a), _unique(b)
    else:
        a, b = _flat(a), _flat(b)
    aux = _concatenate([a, b])
    n1 = _shape(a)[0]
    n = _shape(aux)[0]
    if return_indices:
        order = _argsort(aux)
        aux = take(aux, order, axis=0)
    else:
        aux = _sort(aux)
    if n < 2:  # nothing can occur twice
        out = _slice_axis(aux, 0, 0, 0)
        if not return_indices:
            return out
        none = astype(_slice_axis(order, 0, 0, 0), _dt.int64)
        return out, none, none
    mask = equal(_slice_axis(aux, 0, 1, n), _slice_axis(aux, 0, 0, n - 1))
    hits = _mask_indices(mask)
    out = take(_slice_axis(aux, 0, 0, n - 1), hits, axis=0)
    if not return_indices:
        return out
    i1 = take(_slice_axis(order, 0, 0, n - 1), hits, axis=0)
    i2 = take(_slice_axis(order, 0, 1, n), hits, axis=0) - n1
    if not assume_unique:
        i1, i2 = take(ia, i1, axis=0), take(ib, i2, axis=0)
    return out, astype(i1, _dt.int64), astype(i2, _dt.int64)


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted unique values found in either ``ar1`` or ``ar2`` (flattened; NaNs merged
    into one, as ``unique`` does). Needs concrete values; the derivative of each value is
    that of its first occurrence (in ``ar1`` where it occurs there).

    ``size`` (jax.numpy's keyword): exactly ``size`` values, the first ``size`` of the
    union followed by ``fill_value`` (by default its smallest value, with that value's
    derivative, as ``unique(..., size=)``; both arrays empty need a ``fill_value``). The
    shape is then known beforehand, so it works under ``jit`` and ``vmap``."""
    like = _first_array([ar1, ar2])
    both = _concatenate([_conv(ar1, like), _conv(ar2, like)], axis=None)
    if size is not None:
        size = _check_size("union1d", size)
        if _shape(both)[0] == 0 and fill_value is None and size:
            raise ValueError("union1d: size= with both arrays empty needs a fill_value (there "
                             "is no smallest value to fill with)")
        _, s, first = _groups(both, True)
        return _first_kept(s, first, size, fill_value, True)[0]
    _no_fill_without_size(fill_value, "union1d")
    return _unique(both)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The unique values of ``ar1`` that are not in ``ar2`` (sorted; with ``assume_unique``
    the flattened ``ar1`` in its order, less those values). NaN is never removed. Needs
    concrete values; the derivative flows to the kept entries of ``ar1``.

    ``size`` (jax.numpy's keyword): exactly ``size`` values, the first ``size`` of the
    difference followed by ``fill_value`` (0 by default, as jax.numpy). The shape is then
    known beforehand, so it works under ``jit`` and ``vmap``."""
    like = _first_array([ar1, ar2])
    a, b = _conv(ar1, like), _conv(ar2, like)
    if size is not None:
        size = _check_size("setdiff1d", size)
        if assume_unique:
            c = _flat(a)
            keep = isin(c, b, invert=True)
        else:
            _, c, first = _groups(_flat(a), True)
            keep = _logical_and(first, isin(c, b, invert=True))
        return _first_kept(c, keep, size, fill_value, False)[0]
    _no_fill_without_size(fill_value, "setdiff1d")
    a, b = (_flat(a), b) if assume_unique else (_unique(a), _unique(b))
    return _where_true(a, isin(a, b, invert=True))


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted values found in exactly one of ``ar1`` and ``ar2`` (each taken unique
    unless ``assume_unique``; NaNs never match, so a NaN in each is kept twice, as in NumPy).
    Needs concrete values; the derivative flows to the kept entries.

    ``size`` (jax.numpy's keyword): exactly ``size`` values, the first ``size`` of the
    result followed by ``fill_value`` (by default its smallest value, with that value's
    derivative; 0 if the result is empty). The shape is then known beforehand, so it works
    under ``jit`` and ``vmap``."""
    like = _first_array([ar1, ar2])
    a, b = _conv(ar1, like), _conv(ar2, like)
    if size is not None:
        return _setxor1d_sized(a, b, assume_unique, _check_size("setxor1d", size), fill_value)
    _no_fill_without_size(fill_value, "setxor1d")
    if not assume_unique:
        a, b = _unique(a), _unique(b)
    aux = _concatenate([a, b], axis=None)
    n = _shape(aux)[0]
    if n == 0:
        return aux
    aux = _sort(aux)
    flag = concat([_true_like(aux, 1), _neighbours_differ(aux), _true_like(aux, 1)])
    keep = _logical_and(_slice_axis(flag, 0, 1, n + 1), _slice_axis(flag, 0, 0, n))
    return _where_true(aux, keep)


# -- the set functions with size= (static shapes: jit, vmap) ----------------------------------


def _no_fill_without_size(fill_value, name):
    if fill_value is not None:
        raise TypeError(f"{name}: fill_value= needs size= (the length to fill up to)")


def _groups(x, dedup):
    """For a 1-d ``x``: a stable sort order ``perm``, the sorted values ``x[perm]``
    (differentiable) and a mask of the first entry of each run of equal values (NaNs one
    run, as ``unique`` merges them), all True without ``dedup``. Static shapes: the first of
    each run is the first occurrence in ``x``, which is how ``unique`` picks it."""
    n = _shape(x)[0]
    perm = _argsort(x, stable=True)
    s = take(x, perm, axis=0)
    if not dedup or n < 2:
        return perm, s, _true_like(s, n)
    new = _neighbours_differ(s)
    if _dtype(s).kind in "fc":
        nan = _isnan(s)
        both = _logical_and(_slice_axis(nan, 0, 1, n), _slice_axis(nan, 0, 0, n - 1))
        new = _logical_and(new, logical_not(both))
    return perm, s, concat([_true_like(s, 1), new])


def _first_kept(c, keep, size, fill_value, smallest):
    """The entries of the 1-d ``c`` where ``keep``, the first ``size`` of them, followed by
    ``fill_value`` (by default the first kept entry where ``smallest``, else 0; 0 when none
    is kept); also their positions in ``c`` (``len(c)`` for the fillers) and the mask of
    the kept ones among the ``size``."""
    n = _shape(c)[0]
    if n == 0 or size == 0:
        idx = _st.full_like(_st.iota(c, size, _dt.int64), n)
        zero = _initial_value(c, 0 if fill_value is None else fill_value, "fill_value")
        return (_st.broadcast_to(zero, (size,)), idx,
                _st.full_like(idx, False, dtype=_dt.bool_))
    pos = _nonzero(keep, size=size, fill_value=n)[0]
    kept = less(pos, n)
    vals = take(c, where(kept, pos, 0), axis=0)
    if fill_value is not None:
        fill = _initial_value(vals, fill_value, "fill_value")
    else:
        zero = _initial_value(vals, 0, "fill_value")
        fill = where(_slice_axis(kept, 0, 0, 1), _slice_axis(vals, 0, 0, 1), zero) \
            if smallest else zero
    return where(kept, vals, fill), pos, kept


def _intersect1d_sized(a, b, assume_unique, return_indices, size, fill_value):
    (a, b), _ = _promote_arrays([_flat(a), _flat(b)])
    na, nb = _shape(a)[0], _shape(b)[0]
    pa, sa, fa = _groups(a, not assume_unique)
    keep_a = _logical_and(fa, isin(sa, b)) if nb else _st.full_like(fa, False)
    vals, pos_a, kept = _first_kept(sa, keep_a, size, fill_value, True)
    if not return_indices:
        return vals
    if not (na and nb and size):
        idx = _st.full_like(pos_a, 0)
        return vals, idx + na, idx + nb
    # the kept runs of b are the same values, in the same (sorted) order
    pb, sb, fb = _groups(b, not assume_unique)
    pos_b = _nonzero(_logical_and(fb, isin(sb, a)), size=size, fill_value=nb)[0]
    i1 = where(kept, take(pa, where(kept, pos_a, 0), axis=0), na)
    i2 = where(kept, take(pb, where(kept, pos_b, 0), axis=0), nb)
    return vals, astype(i1, _dt.int64), astype(i2, _dt.int64)


def _setxor1d_sized(a, b, assume_unique, size, fill_value):
    (a, b), _ = _promote_arrays([_flat(a), _flat(b)])
    _, sa, fa = _groups(a, not assume_unique)
    _, sb, fb = _groups(b, not assume_unique)
    c = concat([sa, sb])
    keep = concat([_logical_and(fa, isin(sa, b, invert=True)),
                   _logical_and(fb, isin(sb, a, invert=True))])
    if _shape(c)[0]:  # sorted, the kept entries first (two stable sorts: by value, by kept)
        o = _argsort(c, stable=True)
        o = take(o, _argsort(astype(logical_not(take(keep, o, axis=0)), _dt.int8),
                             stable=True), axis=0)
        c, keep = take(c, o, axis=0), take(keep, o, axis=0)
    return _first_kept(c, keep, size, fill_value, True)[0]

# -- partitions and sorting --------------------------------------------------------------------


def _kth(kth, n, name):
    if isinstance(kth, Tracer):
        raise TypeError(f"{name}: kth must be static (Python integers or a concrete integer "
                        f"array), not a traced value")
    ks = _np.atleast_1d(_host_index(kth, name, "kth"))
    if ks.dtype.kind not in "iu":
        raise TypeError(f"{name}: kth must be integers; got {ks.dtype}")
    if ks.ndim > 1:
        raise ValueError(f"{name}: kth array must have dimension <= 1")
    for k in ks.tolist() if n is not None else ():
        if not -n <= k < n:
            raise ValueError(f"{name}: kth(={k}) out of bounds ({n})")


def _partition_args(a, kth, axis, kind, order, name):
    if kind != "introselect":
        raise ValueError(f"{name}: kind must be 'introselect'; got {kind!r}")
    if order is not None:
        raise ValueError(f"{name}: order= is for structured arrays, which functrans does not "
                         f"have (NumPy: cannot specify order when the array has no fields)")
    a = _conv(a)
    if axis is None:
        a, axis = _flat(a), 0
    if _nd(a) == 0:
        raise AxisError(f"{name}: axis {axis} is out of bounds for array of dimension 0", axis,
                        0)
    axis = _normalize_axis(operator.index(axis), _nd(a))
    # (an empty array has nothing to select: NumPy checks no kth there, as here)
    _kth(kth, _shape(a)[axis] if math.prod(_shape(a)) else None, name)
    return a, axis


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """A copy of ``a`` rearranged along ``axis`` (the flattened array if None) so that the
    element at each position in ``kth`` is the one a sort would put there, every element
    before it is no greater and every one after it no smaller (NaNs last). This returns the
    fully sorted array, which satisfies that contract (NumPy's order within the parts is
    unspecified). Differentiable: the derivative follows each element to its place."""
    a, axis = _partition_args(a, kth, axis, kind, order, "partition")
    return _sort(a, axis=axis)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """The indices (int64) that would partition ``a`` along ``axis`` as ``partition`` does:
    here those of a stable sort, which satisfy NumPy's contract."""
    a, axis = _partition_args(a, kth, axis, kind, order, "argpartition")
    return _argsort(a, axis=axis)


def lexsort(keys, axis=-1):
    """The indices (int64) that sort by several keys along ``axis``: by the last key first,
    ties broken by the key before it, and so on (stably); ``keys`` is a sequence of arrays of
    one shape, or a 2-d array whose rows are the keys."""
    if isinstance(keys, (list, tuple)):
        like = _first_array(list(keys))
        keys = [_conv(k, like) for k in keys]
    else:
        k = _conv(keys)
        if _nd(k) == 0:
            raise TypeError("lexsort: need sequence of keys with len > 0 in lexsort")
        keys = [_st.reshape(_slice_axis(k, 0, i, i + 1), _shape(k)[1:])
                for i in range(_shape(k)[0])]
    if not keys:
        raise TypeError("lexsort: need sequence of keys with len > 0 in lexsort")
    shape = _shape(keys[0])
    for k in keys[1:]:
        if _shape(k) != shape:
            raise ValueError("lexsort: all keys need to be the same shape")
    if not shape:
        return _st.full_like(keys[0], 0, dtype=_dt.int64)
    axis = _normalize_axis(operator.index(axis), len(shape))
    order = _argsort(keys[0], axis=axis)
    for k in keys[1:]:
        order = take_along_axis(order, _argsort(take_along_axis(k, order, axis=axis),
                                                axis=axis), axis=axis)
    return order

# -- selection ---------------------------------------------------------------------------------


def choose(a, choices, out=None, mode="raise"):
    """Elementwise, the entry of ``choices[a]`` (``a``, the choices and their entries
    broadcast together): ``choices`` is a sequence of arrays or an array whose first axis
    enumerates them. ``mode`` handles ``a`` outside ``[0, n)``: 'raise' (a ValueError,
    checked only where ``a`` is concrete), 'wrap' (modulo n) or 'clip'. The dtype is the
    choices' common one. Differentiable in the choices. ``out=`` is not supported."""
    if out is not None:
        raise NotImplementedError("choose: out= is not supported; use the returned array")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: clipmode must be one of 'clip', 'raise', or 'wrap'; got "
                         f"{mode!r}")
    if isinstance(choices, (list, tuple)):
        like = _first_array([a] + list(choices))
        cs = [c if type(c) in _SCALARS else _conv(c, like) for c in choices]
        if builtins.all(type(c) in _SCALARS for c in cs):
            cs = [_conv(c, like) for c in cs]
        cs, target = _promote_arrays(cs)
        cs = [_to_array(_wrapped(c, target), dtype=target, like=like)
              if type(c) in _SCALARS else c for c in cs]
    else:
        arr = _conv(choices, a)
        if _nd(arr) == 0:
            raise ValueError("choose: choices must be a sequence or an array of at least 1 "
                             "dimension")
        cs = [_st.reshape(_slice_axis(arr, 0, i, i + 1), _shape(arr)[1:])
              for i in range(_shape(arr)[0])]
    n = len(cs)
    if n == 0:
        raise ValueError("choose: choices must not be empty")
    idx = _conv(a, cs[0])
    if _dtype(idx).kind not in "iub":
        raise TypeError(f"choose: a must hold integers; got {_dtype(idx).name}")
    idx = astype(idx, _dt.int64)
    shape = broadcast_shapes(_shape(idx), *[_shape(c) for c in cs])
    idx = broadcast_to(idx, shape)
    if mode == "wrap":
        idx = _remainder(idx, n)
    elif mode == "clip":
        idx = maximum(minimum(idx, n - 1), 0)
    elif math.prod(shape) and _concrete_true(_any(less(idx, 0)) | _any(greater_equal(idx, n))):
        raise ValueError("choose: invalid entry in choice array")
    stacked = concat([_st.reshape(broadcast_to(c, shape), (1,) + shape) for c in cs], axis=0)
    out = take_along_axis(stacked, _st.reshape(idx, (1,) + shape), axis=0)
    return _st.reshape(out, shape)


def _wrapped(c, dtype):
    """A Python int ``c`` as the integer ``dtype`` holds it when cast (modulo 2**bits, as
    NumPy's and jax.numpy's choose cast the choices: ``choose(0, [300, int8 array])`` is
    44); anything else unchanged."""
    dt = _np.dtype(dtype) if not isinstance(dtype, _np.dtype) else dtype
    if type(c) is not int or dt.kind not in "iu":
        return c
    if not -(1 << 63) <= c < (1 << 64):  # (NumPy converts it to a C integer first)
        raise OverflowError(f"choose: Python integer {c} is out of the range of int64 and "
                            f"uint64, so it has no {dt.name} value (NumPy's OverflowError); "
                            f"reduce it modulo 2**{8 * dt.itemsize} first")
    bits = 8 * dt.itemsize
    c %= 1 << bits
    return c - (1 << bits) if dt.kind == "i" and c >> (bits - 1) else c


def _cond_list(condlist, x):
    nd = _nd(x)
    if type(condlist) is bool or type(condlist) in (_np.bool_,):
        return [condlist]
    if isinstance(condlist, (list, tuple)):
        if not condlist:
            return []
        first = condlist[0]
        if not (isinstance(first, (list, tuple)) or isinstance(first, Tracer)
                or hasattr(first, "shape")) and nd != 0:
            return [condlist]
        return list(condlist)
    c = _conv(condlist, x)
    if _nd(c) == 0 or (_nd(c) == 1 and nd != 0):
        return [c]
    return [_st.reshape(_slice_axis(c, 0, i, i + 1), _shape(c)[1:])
            for i in range(_shape(c)[0])]


def piecewise(x, condlist, funclist, *args, **kw):
    """``x`` evaluated piece by piece: where ``condlist[i]`` holds, ``funclist[i]`` (a
    function, called on those entries with ``*args, **kw``, or a constant); with one more
    function than conditions, the last serves where no condition holds; elsewhere 0. Later
    conditions win; the result has ``x``'s dtype (values are cast to it, as in NumPy).
    Differentiable in ``x`` (and in traced constants).

    Where the conditions are concrete (plain arrays, ``grad``, ``jvp``, ``vjp``) each function
    receives exactly the selected entries, as in NumPy. Where they are not (under ``jit``, or
    batched by ``vmap``) each function is evaluated on the whole ``x`` and its result
    selected, which gives the same values for elementwise functions."""
    # (a NumPy scalar x goes to the library of the conditions' arrays, as a number would)
    x = _conv(x, _first_array(condlist) if type(x) in _NUMPY_SCALARS else None)
    funclist = list(funclist)
    conds = [_conv(c, x) for c in _cond_list(condlist, x)]
    conds = [c if _dtype(c).kind == "b" else not_equal(c, 0) for c in conds]
    n, n2 = len(conds), len(funclist)
    if n == n2 - 1:
        other = logical_not(_any(_st.concat([_st.reshape(c, (1,) + _shape(c)) for c in conds],
                                            0), axis=0)) if n else \
            _st.full_like(x, True, dtype=_dt.bool_)
        conds.append(other)
        n += 1
    elif n != n2:
        raise ValueError(f"piecewise: with {n} condition(s), either {n} or {n + 1} functions "
                         f"are expected")
    shape, dt = _shape(x), _dtype(x)
    for c in conds:
        if _shape(c) != shape:
            raise ValueError(f"piecewise: a condition of shape {_shape(c)} does not match x "
                             f"of shape {shape}")
    y = _zeros_like(x)
    try:
        hits = [_mask_indices(_flat(c)) for c in conds]
    except (ConcretizationError, BatchingError):
        hits = None
    flat_x = _flat(x)
    if hits is None:  # abstract conditions: evaluate every function on x, then select
        for c, f in zip(conds, funclist):
            v = f(x, *args, **kw) if callable(f) else f
            v = v if type(v) in _SCALARS else astype(_conv(v, x), dt)
            y = where(c, v, y)
        return astype(y, dt)
    y = _flat(y)
    for h, f in zip(hits, funclist):
        k = _shape(h)[0]
        if not callable(f):
            y = _setitem(y, h, f if type(f) in _SCALARS else _conv(f, x))
        elif k:
            vals = take(flat_x, h, axis=0)
            if not shape:
                vals = _st.reshape(vals, ())  # a 0-d x gives its function a 0-d array
            v = f(vals, *args, **kw)
            y = _setitem(y, h, v if type(v) in _SCALARS else _conv(v, x))
    return _st.reshape(y, shape)


def extract(condition, arr, *, size=None, fill_value=0):
    """The entries of the flattened ``arr`` where the flattened ``condition`` is non-zero (a
    1-d array). Needs concrete values; differentiable in ``arr``.

    ``size`` (jax.numpy's keyword): exactly ``size`` entries, the first ``size`` selected
    ones followed by ``fill_value`` (0 by default, in ``arr``'s dtype). The shape is then
    known beforehand, so it works under ``jit`` and ``vmap``."""
    if size is not None:
        from ._reshaping import _compress_sized
        return _compress_sized(_flat(_conv(condition, _conv(arr))), arr, None, size,
                               fill_value, "extract")
    a = _conv(arr)
    c = _flat(_conv(condition, a))
    return take(_flat(a), _mask_indices(c), axis=0)


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d(slice, *args, **kwargs)`` for every 1-d slice of ``arr`` along ``axis``,
    assembled: each result (a scalar or an array of a common shape R) takes the place of the
    slice, so the result has shape ``arr.shape[:axis] + R + arr.shape[axis+1:]`` and the
    dtype of the first result. Calls ``func1d`` once per slice in a Python loop, as NumPy
    does (so it works for any ``func1d``); for a vectorised version use ``functrans.vmap``.
    Differentiable as ``func1d`` is."""
    a = _conv(arr)
    nd = _nd(a)
    if nd == 0:
        raise AxisError("apply_along_axis: axis 0 is out of bounds for array of dimension 0",
                        0, 0)
    axis = _normalize_axis(operator.index(axis), nd)
    shape = _shape(a)
    outer = shape[:axis] + shape[axis + 1:]
    if 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    moved = _st.transpose(a, tuple(i for i in range(nd) if i != axis) + (axis,))
    rows = _st.reshape(moved, (math.prod(outer), shape[axis]))
    results, first = [], None
    for i in range(math.prod(outer)):
        r = func1d(_st.reshape(_slice_axis(rows, 0, i, i + 1), (shape[axis],)), *args, **kwargs)
        r = _conv(r, a)
        if first is None:
            first = r
        elif _shape(r) != _shape(first):
            raise ValueError(f"apply_along_axis: func1d returned shapes {_shape(first)} and "
                             f"{_shape(r)}; they must agree")
        results.append(_st.reshape(astype(r, _dtype(first)), (1,) + _shape(r)))
    res_shape = _shape(first)
    out = _st.reshape(results[0] if len(results) == 1 else concat(results, axis=0),
                      outer + res_shape)
    no, nr = len(outer), len(res_shape)
    perm = tuple(range(axis)) + tuple(range(no, no + nr)) + tuple(range(axis, no))
    return _st.transpose(out, perm) if perm != tuple(range(no + nr)) else out


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` applied for each axis in ``axes`` in turn, each result the next
    input; a result with one dimension fewer gets it back (length 1) at ``axis``. ``func``
    must keep the number of dimensions (or drop the one axis): else a ValueError."""
    val = _conv(a)
    n = _nd(val)
    axes = (axes,) if hasattr(axes, "__index__") else tuple(axes)
    for ax in axes:
        ax = operator.index(ax)
        if ax < 0:
            ax = n + ax
        res = _conv(func(val, ax), val)
        if _nd(res) == _nd(val):
            val = res
        else:
            res = expand_dims(res, axis=ax)
            if _nd(res) != _nd(val):
                raise ValueError("apply_over_axes: function is not returning an array of "
                                 "the correct shape")
            val = res
    return val


def ix_(*args):
    """Open-mesh index arrays from 1-d sequences: the k-th of the N results has the k-th
    sequence along axis k and length-1 axes elsewhere (boolean sequences become the indices
    of their true entries, which needs concrete values). A tuple of arrays; ``x[ix_(r, c)]``
    selects the cross product."""
    like = _first_array(list(args))
    out, nd = [], len(args)
    for k, v in enumerate(args):
        if isinstance(v, (list, tuple)) and len(v) == 0:  # NumPy: an empty index is intp
            v = _to_array([], dtype=_dt.int64, like=like)
        else:
            v = _conv(v, like)
        if _nd(v) != 1:
            raise ValueError("ix_: Cross index must be 1 dimensional")
        if _dtype(v).kind == "b":
            v = _mask_indices(v)
        out.append(_st.reshape(v, (1,) * k + (_shape(v)[0],) + (1,) * (nd - k - 1)))
    return tuple(out)


def trim_zeros(filt, trim="fb", axis=None):
    """``filt`` without its leading ('f' in ``trim``) and/or trailing ('b') zeros along
    ``axis`` (every axis when None): the smallest box (on those sides) that holds every
    non-zero entry; an all-zero input becomes empty. Needs concrete values (the result's
    shape depends on them); differentiable in the kept entries. A list or tuple input gives
    an array (NumPy returns a sequence of its type)."""
    if not isinstance(trim, str) or trim.lower() not in ("fb", "bf", "f", "b"):
        raise ValueError(f"trim_zeros: unexpected character(s) in `trim`: {trim!r}")
    trim = trim.lower()
    a = _conv(filt)
    nd = _nd(a)
    axes = tuple(range(nd)) if axis is None else _normalize_axes(axis, nd)
    if not axes:
        return a
    nz = not_equal(a, False if _dtype(a).kind == "b" else 0)
    starts, stops = [], []
    for ax in range(nd):
        others = tuple(i for i in range(nd) if i != ax)
        line = _any(nz, axis=others) if others else nz
        hit = _host(_mask_indices(line))
        if hit.size == 0:
            starts, stops = [0] * nd, [0] * nd
            break
        starts.append(int(hit[0]) if "f" in trim else 0)
        stops.append(int(hit[-1]) + 1 if "b" in trim else _shape(a)[ax])
    idx = tuple((starts[ax], builtins.max(starts[ax], stops[ax]), 1) if ax in axes
                else (0, _shape(a)[ax], 1) for ax in range(nd))
    return _st.slice_(a, idx)

# -- in-place functions ------------------------------------------------------------------------


def _store(a, new, name, inplace):
    """Write ``new`` into ``a`` (NumPy's in-place semantics), or return it (``inplace=False``)."""
    if not inplace:
        return new
    if type(a) is ConstTracer and type(new) in SAME_LAYOUT_TRACERS and _encloses(
            new._interp, a._interp):
        # (an array made inside the transform, zeros(3), given forward or reverse mode's
        # values (of its transform or an enclosing one): it becomes their tracer, as in
        # y[...] = new; vmap's and jit's values are refused below)
        a[...] = new
        return None
    if isinstance(a, Tracer):
        if type(new) is not type(a) or new._interp is not a._interp:
            fix = ("Use functrans.numpy.where(mask, values, a), a new array," if name in (
                "copyto", "putmask") else "Pass inplace=False to get a new array")
            if type(a) is ConstTracer:   # (made inside the transform from no traced value)
                raise TypeError(
                    f"{name}: the array to update was made inside a transform (a constant: "
                    f"{a!r}) and the values written are traced by another one ({new!r}: "
                    f"vmap's batch, jit's staging, or a transform nested inside): it cannot "
                    f"hold them. {fix} instead, or start the array from a traced value "
                    f"(functrans.numpy.asarray(x, copy=True)) and update that.")
            raise TypeError(
                f"{name}: cannot update {a!r} in place: the updated array belongs to a "
                f"transform nested inside the one that made this array (the values written "
                f"are a tracer of that inner transform), and this array outlives it. {fix} "
                f"instead.")
        _take_slots(a, new)
        return None
    if isinstance(new, Tracer):
        raise TypeError(f"{name}: cannot write traced values into the plain array {type(a)} "
                        f"(it cannot hold a derivative); pass inplace=False to get a new "
                        f"array, or make the array an input of the transform")
    # (the destination's own __setitem__ would convert another library's array silently, as
    # NumPy's does, or fail with that library's error, as torch's does)
    b = backend_of(a)
    check_same_backend(b, backend_of(new), name)
    if not b.writable:
        raise TypeError(_not_writable(name, b))
    a[...] = new
    return None


def _not_writable(name, b):
    fix = ("use where(mask, values, a), a new array" if name in ("copyto", "putmask") else
           "pass inplace=False and use the result")
    return (f"{name}: {b.name} arrays cannot be written in place, which this NumPy-style "
            f"in-place update needs on an array outside any transform; {fix} instead")


def _unchanged(a, inplace):
    """Nothing to write: None, or (``inplace=False``) a copy of ``a``."""
    return None if inplace else _asarray(a, copy=True)


def _host(x):
    """The concrete integer values of ``x`` (an index array or an eager tracer of one) as a
    NumPy array on the host."""
    if isinstance(x, Tracer):
        x = x._concrete("trim_zeros")
    return _np.asarray(backend_of(x).to_numpy(x))


def _target(a, name):
    if isinstance(a, (list, tuple)) or type(a) in _SCALARS:
        raise TypeError(f"{name}: the array to modify must be an array (or a tracer), not "
                        f"{type(a).__name__}")
    return a


def _python_ints_fit(v, dt):
    """NumPy's OverflowError for Python integers (a scalar, or in a list or tuple) outside the
    integer dtype ``dt`` of the array written: NumPy converts them to that dtype first, so
    they are an error, not a value that wraps around."""
    if dt.kind not in "iu" or not (type(v) is int or isinstance(v, (list, tuple))):
        return
    info = _np.iinfo(_np.dtype(dt.name))
    stack = [v]
    while stack:
        u = stack.pop()
        if isinstance(u, (list, tuple)):
            stack.extend(u)
        elif type(u) is int and not info.min <= u <= info.max:
            raise OverflowError(f"Python integer {u} out of bounds for {dt.name}")


def _safe_values(name, v, dt):
    """NumPy's check in ``putmask`` and ``place``: an array of values must cast to the
    array's dtype safely (Python and NumPy scalars and lists are converted to it instead)."""
    if type(v) in _SCALARS or isinstance(v, (list, tuple, _np.generic)):
        return
    vd = _dtype(_conv(v))
    if not _np.can_cast(_np.dtype(vd.name), _np.dtype(dt.name), "safe"):
        raise TypeError(f"{name}: Cannot cast array data from dtype('{vd.name}') to "
                        f"dtype('{dt.name}') according to the rule 'safe'")


def _cyclic(v, count, like, dt):
    """The first ``count`` entries of the flattened ``v`` repeated cyclically, in ``dt``."""
    v = _flat(astype(_conv(v, like), dt))
    m = _shape(v)[0]
    if m == count:
        return v
    idx = _remainder(_st.iota(v, count), m)
    return take(v, idx, axis=0)


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """Fill the main diagonal of ``a`` (at least 2-d; all axes of one length beyond 2-d)
    with ``val`` (a scalar, or values used in order and repeated cyclically). For a tall
    matrix, ``wrap=True`` continues the diagonal every ``ncols + 1`` rows, as NumPy does.
    Modifies ``a`` and returns None; with ``inplace=False`` (JAX's keyword) returns the
    filled array instead. Differentiable in ``a``'s other entries and in ``val``."""
    _target(a, "fill_diagonal")
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError("fill_diagonal: array must be at least 2-d")
    if len(shape) == 2:
        step = shape[1] + 1
        end = math.prod(shape) if wrap else builtins.min(shape[1] * shape[1], math.prod(shape))
    else:
        if len(set(shape)) != 1:
            raise ValueError("fill_diagonal: All dimensions of input must be of equal length")
        step = 1 + builtins.sum(math.prod(shape[:i + 1]) for i in range(len(shape) - 1))
        end = math.prod(shape)
    _python_ints_fit(val, _dtype(a))
    pos = list(range(0, end, step))
    flat = _flat(a)
    if pos:
        p = _index_array(a, pos)
        if type(val) in _SCALARS:
            flat = _setitem(flat, p, val)
        else:
            flat = _setitem(flat, p, _cyclic(val, len(pos), a, _dtype(a)))
    return _store(a, _st.reshape(flat, shape), "fill_diagonal", inplace)


def put(a, ind, v, mode="raise", *, inplace=True):
    """Set the entries of the flattened ``a`` at the indices ``ind`` to ``v`` (its values in
    order, repeated cyclically; a repeated index keeps the last). ``mode``: 'raise' (an
    IndexError for an index outside ``[-n, n)``, checked where ``ind`` is concrete), 'wrap'
    or 'clip' (negative indices clip to 0). Modifies ``a`` and returns None; with
    ``inplace=False`` returns the new array. Differentiable in ``a`` and ``v``."""
    _target(a, "put")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"put: clipmode must be one of 'clip', 'raise', or 'wrap'; got "
                         f"{mode!r}")
    shape = _shape(a)
    n = math.prod(shape)
    if isinstance(ind, (list, tuple)) and not ind:
        return _unchanged(a, inplace)
    idx = _conv(ind, a)
    if _dtype(idx).kind not in "iu":
        raise TypeError(f"put: indices must be integers; got {_dtype(idx).name}")
    idx = _flat(astype(idx, _dt.int64))
    k = _shape(idx)[0]
    _python_ints_fit(v, _dtype(a))
    vv = v if type(v) in _SCALARS else _flat(_conv(v, a))
    if k == 0 or (type(vv) not in _SCALARS and _shape(vv)[0] == 0):
        return _unchanged(a, inplace)  # nothing to write (NumPy: also for empty ``v``)
    if n == 0:
        raise IndexError("put: cannot replace elements of an empty array")
    if mode == "wrap":
        idx = _remainder(idx, n)
    elif mode == "clip":
        idx = maximum(minimum(idx, n - 1), 0)
    elif _concrete_true(_any(less(idx, -n)) | _any(greater_equal(idx, n))):
        raise IndexError(f"put: index out of range for array of size {n}")
    else:
        idx = where(less(idx, 0), idx + n, idx)
    vals = vv if type(vv) in _SCALARS else _cyclic(vv, k, a, _dtype(a))
    new = _st.reshape(_setitem(_flat(a), idx, vals), shape)
    return _store(a, new, "put", inplace)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """Set the entries of ``arr`` at ``indices`` along ``axis`` (matched position by position
    along the other axes, which broadcast, as in ``take_along_axis``; ``axis=None`` indexes
    the flattened array with 1-d ``indices``) to ``values`` (broadcast to the indices'
    shape; a repeated index keeps the last). Modifies ``arr`` and returns None; with
    ``inplace=False`` returns the new array. Differentiable in ``arr`` and ``values``.

    ``mode`` says what an index outside ``[-n, n)`` does: None or 'raise' (NumPy's: an
    IndexError, checked where the indices are concrete; also 'promise_in_bounds'), 'drop'
    or 'fill' (jax.numpy's default: that value is not written) or 'clip' (a negative index
    counts from the end first, then the index is clipped to ``[0, n - 1]``, as JAX's)."""
    mode = _mode_name(mode)
    if mode not in (None, "raise", "drop", "fill", "clip", "promise_in_bounds"):
        raise ValueError(f"put_along_axis: mode must be None, 'raise', 'drop', 'fill', 'clip' "
                         f"or 'promise_in_bounds'; got {mode!r}")
    _target(arr, "put_along_axis")
    shape = _shape(arr)
    idx = _conv(indices, arr)
    if _dtype(idx).kind not in "iu":
        raise IndexError("put_along_axis: `indices` must be an integer array")
    work = arr
    if axis is None:
        if _nd(idx) != 1:
            raise ValueError("put_along_axis: when axis=None, `indices` must have a single "
                             "dimension.")
        work, axis = _flat(arr), 0
    nd = _nd(work)
    if _nd(idx) != nd:
        raise ValueError(f"put_along_axis: `indices` and `arr` must have the same number of "
                         f"dimensions ({_nd(idx)} and {nd})")
    axis = _normalize_axis(operator.index(axis), nd)
    ws, js = list(_shape(work)), list(_shape(idx))
    other = broadcast_shapes(tuple(js[:axis] + [1] + js[axis + 1:]),
                             tuple(ws[:axis] + [1] + ws[axis + 1:]))
    if tuple(other[:axis] + other[axis + 1:]) != tuple(ws[:axis] + ws[axis + 1:]):
        raise ValueError(f"put_along_axis: indices of shape {_shape(idx)} do not broadcast "
                         f"against the array of shape {_shape(work)} along the other axes")
    # (checked here: the flat positions ``_setitem`` computes from several index arrays would
    # wrap an index outside the axis onto another row, as ``x[i, j] = v`` on a tracer does)
    n_ax = ws[axis]
    if _dtype(idx).kind == "u":  # (past int64's range: out of range, not negative)
        idx = minimum(idx, n_ax)
    idx = astype(idx, _dt.int64)
    drop = mode in ("drop", "fill")
    if drop or mode == "clip":
        if mode == "clip" and n_ax == 0 and math.prod(_shape(idx)):
            raise IndexError("put_along_axis: cannot put into an empty axis")
        idx = where(less(idx, 0), idx + n_ax, idx)
        if drop:  # out of range: written to a slot past the end, cut off below
            idx = where(less(idx, 0) | greater_equal(idx, n_ax), n_ax, idx)
            pad = list(ws)
            pad[axis] = 1
            work = _concatenate([work, _st.broadcast_to(_initial_value(work, 0),
                                                        tuple(pad))], axis=axis)
            ws = list(_shape(work))
        else:
            idx = maximum(minimum(idx, n_ax - 1), 0)
    elif math.prod(_shape(idx)) and _concrete_true(_any(less(idx, -n_ax))
                                                   | _any(greater_equal(idx, n_ax))):
        raise IndexError(f"put_along_axis: index out of bounds for axis {axis} with size "
                         f"{n_ax}")
    else:
        idx = where(less(idx, 0), idx + n_ax, idx)
    key = []
    for d in range(nd):
        if d == axis:
            key.append(idx)
        else:
            r = _st.iota(work, ws[d])
            key.append(_st.reshape(r, tuple(ws[d] if i == d else 1 for i in range(nd))))
    bshape = broadcast_shapes(*[_shape(k) for k in key])
    key = tuple(broadcast_to(k, bshape) for k in key)
    _python_ints_fit(values, _dtype(arr))
    vals = values if type(values) in _SCALARS else broadcast_to(
        astype(_conv(values, arr), _dtype(arr)), bshape)
    new = _setitem(work, key, vals)
    if drop:
        new = _st.slice_(new, tuple((0, d - (i == axis), 1) for i, d in enumerate(ws)))
    return _store(arr, _st.reshape(new, shape), "put_along_axis", inplace)


def place(arr, mask, vals, *, inplace=True):
    """Set the entries of ``arr`` where ``mask`` (of ``arr``'s size) is true to the values of
    ``vals`` in order, repeated cyclically. Static shapes (a cumulative count picks each
    value), so it also works under ``jit`` and ``vmap``. Modifies ``arr`` and returns None;
    with ``inplace=False`` returns the new array. Differentiable in ``arr`` and ``vals``."""
    _target(arr, "place")
    shape = _shape(arr)
    m = _flat(_conv(mask, arr))
    n = math.prod(shape)
    if _shape(m)[0] != n:
        raise ValueError("place: mask and data must be the same size")
    m = m if _dtype(m).kind == "b" else not_equal(m, 0)
    _python_ints_fit(vals, _dtype(arr))
    _safe_values("place", vals, _dtype(arr))
    v = _flat(astype(_conv(vals, arr), _dtype(arr)))
    k = _shape(v)[0]
    flat = _flat(arr)
    if k == 0:
        if n and _concrete_true(_any(m)):
            raise ValueError("place: Cannot insert from an empty array!")
        return _unchanged(arr, inplace)
    if n == 0:
        return _unchanged(arr, inplace)
    count = _cumsum(astype(m, _dt.int64)) - 1
    src = take(v, _remainder(maximum(count, 0), k), axis=0)
    new = _st.reshape(where(m, src, flat), shape)
    return _store(arr, new, "place", inplace)


def putmask(a, /, mask, values):
    """Set the entries of ``a`` where ``mask`` (of ``a``'s size) is true: entry ``i`` (in the
    flattened order) becomes ``values.flat[i % len(values)]``. Modifies ``a`` and returns
    None. Differentiable in ``a`` and ``values``."""
    _target(a, "putmask")
    shape = _shape(a)
    n = math.prod(shape)
    m = _flat(_conv(mask, a))
    if _shape(m)[0] != n:
        raise ValueError("putmask: mask and data must be the same size")
    m = m if _dtype(m).kind == "b" else not_equal(m, 0)
    _python_ints_fit(values, _dtype(a))
    _safe_values("putmask", values, _dtype(a))
    if type(values) in _SCALARS:
        return _store(a, _st.reshape(where(m, values, _flat(a)), shape), "putmask", True)
    v = _flat(_conv(values, a))
    if _shape(v)[0] == 0 or n == 0:
        return _unchanged(a, True)
    src = _cyclic(v, n, a, _dtype(a))
    return _store(a, _st.reshape(where(m, src, _flat(a)), shape), "putmask", True)


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def copyto(dst, src, casting="same_kind", where=True):
    """Copy ``src`` (broadcast to ``dst``'s shape) into ``dst`` where ``where`` is true
    (broadcast too), casting to ``dst``'s dtype when ``casting`` ('no', 'equiv', 'safe',
    'same_kind', 'unsafe') allows, else a TypeError, as in NumPy (Python scalars are weak:
    only their kind counts). Modifies ``dst`` and returns None. Differentiable in ``dst``'s
    kept entries and in ``src``."""
    _target(dst, "copyto")
    if casting not in ("no", "equiv", "safe", "same_kind", "unsafe"):
        raise ValueError(f"copyto: casting must be one of 'no', 'equiv', 'safe', 'same_kind',"
                         f" or 'unsafe'; got {casting!r}")
    dt = _dtype(dst)
    shape = _shape(dst)
    if type(src) in _SCALARS:
        kind = {bool: "b", int: "i", float: "f", complex: "c"}[type(src)]
        if casting != "unsafe" and _KIND_RANK[kind] > _KIND_RANK[dt.kind]:
            raise TypeError(f"copyto: Cannot cast scalar from dtype('{_np.dtype(type(src))}') "
                            f"to dtype('{dt.name}') according to the rule '{casting}'")
        _python_ints_fit(src, dt)
        s = src
    else:
        s = _conv(src, dst)
        sd = _dtype(s)
        if not _np.can_cast(_np.dtype(sd.name), _np.dtype(dt.name), casting):
            raise TypeError(f"copyto: Cannot cast array data from dtype('{sd.name}') to "
                            f"dtype('{dt.name}') according to the rule '{casting}'")
        s = broadcast_to(astype(s, dt), shape)
    if where is True:
        new = broadcast_to(s, shape) if type(s) not in _SCALARS else \
            _st.full_like(dst, s)
    else:
        w = _conv(where, dst)
        if _dtype(w).kind != "b":
            raise TypeError("copyto: where must be a boolean array")
        w = broadcast_to(w, shape)
        new = _where(w, s, dst)
    if isinstance(dst, Tracer) and (type(new) is not type(dst) or new._interp is not dst._interp):
        # a constant (a plain array, or a tracer of a transform outside dst's: full_like of a
        # Python scalar is one) lifted into dst's transform; an inner one is still refused
        new = _where(_st.full_like(dst, True, dtype=_dt.bool_), new, dst)
    return _store(dst, new, "copyto", True)


_where = where
