"""Reductions over explicit axes (a sorted tuple of non-negative ints; the axes are removed)."""

from __future__ import annotations

import functools

from ..backends import complex_order as _co
from ..core import EVAL as _EVAL, ShapedArray, _current_get, primitive
from ._batching import all_batched, axes_rule
from .elementwise import mul, mul_sz
from .structural import broadcast_in_dim, broadcast_p


def _reduced_aval(x, axes, keepdims=False):
    # (one per shape, axes and dtype: linearize records the same few at every step; avals
    # are never changed, so one object serves every equation)
    try:
        return _REDUCED_AVALS[x.shape, axes, keepdims, x.dtype]
    except KeyError:
        out = ShapedArray(_reduced_shape(x.shape, axes, keepdims), x.dtype)
        if len(_REDUCED_AVALS) < 4096:
            _REDUCED_AVALS[x.shape, axes, keepdims, x.dtype] = out
        return out
    except TypeError:  # (a shape or axes given as a list)
        return ShapedArray(_reduced_shape(x.shape, axes, keepdims), x.dtype)


_REDUCED_AVALS: dict = {}


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)



def _kept(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


# (for the transpose of a sum, repeated with the same axes at every step)
_kept_cached = functools.lru_cache(maxsize=4096)(_kept)


def _expand_back(y, shape, axes):
    """Broadcast a reduced result back to the operand's shape."""
    return broadcast_in_dim(y, shape, _kept(len(shape), axes))


def _keepdims(keepdims):
    return _KEEPDIMS if keepdims else _NO_PARAMS  # (left out when False, as bound by most)


_KEEPDIMS, _NO_PARAMS = {"keepdims": True}, {}  # (only ever unpacked into a bind's keywords)


def _sum_jvp(p, t, axes, keepdims=False):
    kw = _KEEPDIMS if keepdims else _NO_PARAMS
    return reduce_sum_p.bind(p[0], axes=axes, **kw), reduce_sum_p.bind(t[0], axes=axes, **kw)


def _sum_transpose(ct, x, axes, keepdims=False):
    shape = x.aval.shape
    n = len(shape)
    # (with keepdims the summed axes are there, of length 1: broadcast in place)
    dims = _all_axes(n) if keepdims else _kept_cached(n, axes)
    # At the bottom of the stack, an array of a library seen before: its implementation
    # directly, as the evaluator would call it (a frame less each for bind and the evaluator)
    fn = _broadcast_impls_get(type(ct))
    if fn is not None and _current_get().interp is _EVAL:
        return [fn(ct, shape=shape, dims=dims)]
    return [broadcast_p.bind(ct, shape=shape, dims=dims)]


_broadcast_impls_get = broadcast_p._impls.get


_all_axes = functools.lru_cache(maxsize=64)(lambda n: tuple(range(n)))

# ``keepdims=True`` (a parameter only when true): the summed axes stay, of length 1, as
# NumPy's keepdims, so that ``sum(x, axis, keepdims=True)`` is one operation rather than a
# sum and a reshape (and its derivatives one each, rather than two).
reduce_sum_p = primitive("reduce_sum")
# ``dtype=x.dtype``: libraries widen small integers when they accumulate (int32 -> int64);
# a primitive's result has its operand's dtype (functrans.numpy chooses the accumulator).
reduce_sum_p.def_impl(lambda b, x, axes, keepdims=False: b.xp.sum(x, axis=axes, dtype=x.dtype,
                                                                  keepdims=keepdims))
reduce_sum_p.def_abstract_eval(_reduced_aval)
reduce_sum_p.def_jvp(_sum_jvp)
reduce_sum_p.def_transpose(_sum_transpose)
reduce_sum_p.def_batch(axes_rule(reduce_sum_p, "axes", many=True))


def _chooser_weights_impl(b, x, out, axes):
    xp = b.xp
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    mask = xp.astype(x == xp.reshape(out, kept), x.dtype)
    count = xp.sum(mask, axis=axes, keepdims=True)
    # (a count of 0, where ``out`` is NaN, divides by 1; ``where``, not ``maximum``, which
    # the standard and torch refuse for complex dtypes)
    return mask / xp.where(count == 0, xp.ones_like(count), count)


# The weights of the positions of ``x`` that attain ``out`` (its max or min over ``axes``):
# 1/k at each of the k tied positions, 0 elsewhere (all 0 where ``out`` is NaN, attained
# nowhere: the derivative 0 that maximum's rule gives a NaN result). One primitive rather
# than broadcast, eq, convert, sum and a division of the tangent, each bound (and transposed)
# on its own: the tangent of a max is then a product and a sum. Piecewise constant: no derivative.
chooser_weights_p = primitive("chooser_weights")
chooser_weights_p.def_impl(_chooser_weights_impl)
chooser_weights_p.def_abstract_eval(lambda x, out, axes: ShapedArray(x.shape, x.dtype))
chooser_weights_p.def_jvp(lambda p, t, axes: (chooser_weights_p.bind(*p, axes=axes), None))
chooser_weights_p.def_batch(lambda a, d, axes: (
    chooser_weights_p.bind(*all_batched(a, d), axes=tuple(i + 1 for i in axes)), 0))


def _reduce_chooser_jvp(prim):
    # The tangent is averaged over the positions that attain the result (ties share it
    # equally, as in JAX).
    def jvp(primals, tangents, axes, keepdims=False):
        x, = primals
        kw = _KEEPDIMS if keepdims else _NO_PARAMS
        out = prim.bind(x, axes=axes, **kw)
        w = chooser_weights_p.bind(x, out, axes=axes)
        return out, reduce_sum_p.bind(mul(tangents[0], w), axes=axes, **kw)
    return jvp


def _nonempty(name, shape, axes):
    """NumPy's ValueError for an extreme over no elements, on every backend (torch's is an
    IndexError of its own words) and while staging."""
    if any(shape[a] == 0 for a in axes):
        hint = ("pass initial= (a value every slice includes)" if "arg" not in name else
                "an empty slice has no position of its extreme")
        raise ValueError(f"zero-size array to reduction operation {name} which has no "
                         f"identity (axis of length 0 in shape {tuple(shape)}): {hint}")


def _extreme_impl(name, fn):
    def impl(b, x, axes, keepdims=False):
        _nonempty(name, x.shape, axes)
        if not b.orders_complex and b.dtype(x).kind == "c":  # (NumPy's order, see there)
            return _co.extreme(b.xp, x, axes, keepdims, name == "maximum")
        return fn(b.xp)(x, axis=axes, keepdims=keepdims)
    return impl


def _extreme_aval(name):
    def aval(x, axes, keepdims=False):
        _nonempty(name, x.shape, axes)
        return _reduced_aval(x, axes, keepdims)
    return aval


reduce_max_p = primitive("reduce_max")
reduce_max_p.def_impl(_extreme_impl("maximum", lambda xp: xp.max))
reduce_max_p.def_abstract_eval(_extreme_aval("maximum"))
reduce_max_p.def_jvp(_reduce_chooser_jvp(reduce_max_p))
reduce_max_p.def_batch(axes_rule(reduce_max_p, "axes", many=True))

reduce_min_p = primitive("reduce_min")
reduce_min_p.def_impl(_extreme_impl("minimum", lambda xp: xp.min))
reduce_min_p.def_abstract_eval(_extreme_aval("minimum"))
reduce_min_p.def_jvp(_reduce_chooser_jvp(reduce_min_p))
reduce_min_p.def_batch(axes_rule(reduce_min_p, "axes", many=True))


def reduce_sum(x, axes, keepdims=False):
    return reduce_sum_p.bind(x, axes=tuple(axes), **_keepdims(keepdims))


def reduce_max(x, axes, keepdims=False):
    return reduce_max_p.bind(x, axes=tuple(axes), **_keepdims(keepdims))


def reduce_min(x, axes, keepdims=False):
    return reduce_min_p.bind(x, axes=tuple(axes), **_keepdims(keepdims))


# -- products -----------------------------------------------------------------------------------


def _to_last(x, axis):
    """Move ``axis`` to the end; returns the moved array and the inverse permutation."""
    n = len(x.shape)
    perm = tuple(i for i in range(n) if i != axis) + (axis,)
    inv = [0] * n
    for i, p in enumerate(perm):
        inv[p] = i
    return transpose(x, perm), tuple(inv)


def _last_slice(x, start, stop):
    idx = tuple((0, d, 1) for d in x.shape[:-1]) + ((start, stop, 1),)
    return slice_(x, idx)


def _exclusive_cumprod(x, reverse=False):
    """Products of the elements strictly before (after, if ``reverse``) each position along
    the last axis, without division (exact where there are zeros)."""
    n = x.shape[-1]
    one = full_like(_last_slice(x, 0, 1), 1)
    if reverse:
        return flip(_exclusive_cumprod(flip(x, (len(x.shape) - 1,))), (len(x.shape) - 1,))
    return cumprod(concat([one, _last_slice(x, 0, n - 1)], len(x.shape) - 1), len(x.shape) - 1)


def _prod_jvp(primals, tangents, axes):
    x, = primals
    t, = tangents
    out = reduce_prod(x, axes)
    shape = tuple(x.shape)
    kept = _kept(len(shape), axes)
    perm = kept + tuple(axes)
    n = 1
    for a in axes:
        n *= shape[a]
    if n == 0:
        return out, None
    flat_shape = tuple(shape[i] for i in kept) + (n,)
    xr = reshape(transpose(x, perm), flat_shape)
    tr = reshape(transpose(t, perm), flat_shape)
    # d prod = sum_k t_k prod_{j != k} x_j, the products taken from both sides.
    others = mul(_exclusive_cumprod(xr), _exclusive_cumprod(xr, reverse=True))
    # (strong zero: a zero tangent entry beside an infinite product of the others adds 0)
    return out, reduce_sum(mul_sz(others, tr), (len(flat_shape) - 1,))


reduce_prod_p = primitive("reduce_prod")
reduce_prod_p.def_impl(lambda b, x, axes: b.xp.prod(x, axis=axes, dtype=x.dtype))
reduce_prod_p.def_abstract_eval(_reduced_aval)
reduce_prod_p.def_jvp(_prod_jvp)
reduce_prod_p.def_batch(axes_rule(reduce_prod_p, "axes", many=True))


def reduce_prod(x, axes):
    return reduce_prod_p.bind(x, axes=tuple(axes))

# -- cumulative sums and products (along one axis) ------------------------------------------------


def _cumsum_transpose(ct, x, axis):
    return [flip(cumsum(flip(ct, (axis,)), axis), (axis,))]


cumsum_p = primitive("cumsum")
cumsum_p.same_aval = True
cumsum_p.def_impl(lambda b, x, axis: b.xp.cumulative_sum(x, axis=axis, dtype=x.dtype))
cumsum_p.def_abstract_eval(lambda x, axis: x)
cumsum_p.def_jvp(lambda p, t, axis: (cumsum(p[0], axis), cumsum(t[0], axis)))
cumsum_p.def_transpose(_cumsum_transpose)
cumsum_p.def_batch(axes_rule(cumsum_p, "axis", many=False))


def _cumprod_jvp(primals, tangents, axis):
    # y_i = y_{i-1} x_i, so dy_i = x_i dy_{i-1} + y_{i-1} t_i: a first-order linear recurrence,
    # solved by doubling. After the step with shift s, h_i is the recurrence over the window
    # (i - 2s, i] started from 0 and a_i the product of x over (i - s, i]; the next step adds
    # the window before: h_i += a_i h_{i-s} (zero below s), a_i *= a_{i-s}. log2(n) steps of
    # O(n) work and memory (the n x n Jacobian's products were O(n^2): 75 GiB at n = 1e5), no
    # division (exact where x has zeros), and linear in t. Products with the tangent have a
    # strong zero: where x has an inf, a zero tangent entry adds 0, not inf * 0 = nan.
    x, = primals
    t, = tangents
    out = cumprod(x, axis)
    n = x.shape[axis]
    if n == 0:
        return out, None
    xl, inv = _to_last(x, axis)
    tl, _ = _to_last(t, axis)
    last = len(xl.shape) - 1
    shape = tuple(xl.shape)
    h = mul_sz(_exclusive_cumprod(xl), tl)  # y_{i-1} t_i
    a = xl
    s = 1
    while s < n:
        idx = tuple((0, d, 1) for d in shape[:-1]) + ((s, n, 1),)
        h = add(h, mul_sz(a, scatter_slice(_last_slice(h, 0, n - s), shape, idx)))
        if 2 * s < n:
            a = mul(a, concat([full_like(_last_slice(a, 0, s), 1), _last_slice(a, 0, n - s)],
                              last))
        s *= 2
    return out, transpose(h, inv)


cumprod_p = primitive("cumprod")
cumprod_p.same_aval = True
cumprod_p.def_impl(lambda b, x, axis: b.xp.cumulative_prod(x, axis=axis, dtype=x.dtype))
cumprod_p.def_abstract_eval(lambda x, axis: x)
cumprod_p.def_jvp(_cumprod_jvp)
cumprod_p.def_batch(axes_rule(cumprod_p, "axis", many=False))


def cumsum(x, axis):
    return cumsum_p.bind(x, axis=axis)


def cumprod(x, axis):
    return cumprod_p.bind(x, axis=axis)

# -- index- and boolean-valued reductions: no derivative ----------------------------------------


def _index_reduction(name, fn):
    p = primitive(name)

    def impl(b, x, axis):
        _nonempty(name, x.shape, range(len(x.shape)) if axis is None else (axis,))
        if not b.orders_complex and b.dtype(x).kind == "c":  # (NumPy's order, see there)
            return _co.argextreme(b.xp, x, axis, name == "argmax")
        return fn(b.xp)(x, axis=axis)

    def aval(x, axis):
        _nonempty(name, x.shape, range(len(x.shape)) if axis is None else (axis,))
        return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i != axis), _dt.int64)
    p.def_impl(impl)
    p.def_abstract_eval(aval)
    p.def_jvp(lambda primals, tangents, axis: (p.bind(primals[0], axis=axis), None))
    p.def_batch(axes_rule(p, "axis", many=False))
    return p


argmax_p = _index_reduction("argmax", lambda xp: xp.argmax)
argmin_p = _index_reduction("argmin", lambda xp: xp.argmin)


def _bool_reduction(name, fn):
    p = primitive(name)
    p.def_impl(lambda b, x, axes: fn(b.xp)(x, axis=axes))
    p.def_abstract_eval(lambda x, axes: ShapedArray(
        tuple(d for i, d in enumerate(x.shape) if i not in axes), _dt.bool_))
    p.def_jvp(lambda primals, tangents, axes: (p.bind(primals[0], axes=axes), None))
    p.def_batch(axes_rule(p, "axes", many=True))
    return p


reduce_and_p = _bool_reduction("reduce_and", lambda xp: xp.all)
reduce_or_p = _bool_reduction("reduce_or", lambda xp: xp.any)


from .. import dtypes as _dt  # noqa: E402
from .elementwise import add  # noqa: E402
from .structural import (concat, flip, full_like, reshape, scatter_slice, slice_,  # noqa: E402
                         transpose)
