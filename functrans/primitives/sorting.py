"""Sorting, searching and set primitives.

``sort`` is differentiable: its tangent is the input tangent gathered by the sorting
permutation (at ties the permutation of a stable sort decides which element the derivative
goes to, as in JAX). ``argsort``, ``searchsorted`` are integer-valued (no derivative).
``unique_all`` has data-dependent shapes: it needs concrete values (eager transforms); the
tangent of its ``values`` is the input tangent at the first occurrence of each value.
Complex numbers are ordered as NumPy orders them on every backend (where the library's own
functions refuse them: :mod:`functrans.backends.complex_order`).
"""

from __future__ import annotations

from .. import dtypes as _dt
from ..backends import complex_order as _co
from ..core import ShapedArray, primitive
from .indexing import data_dependent, gather, take_along_axis
from ._batching import axes_rule, not_batchable, with_batch
from .structural import concat, convert_element_type, reshape, slice_


def _sort_jvp(primals, tangents, axis, descending):
    x, = primals
    t, = tangents
    out = sort(x, axis, descending)
    return out, take_along_axis(t, argsort(x, axis, descending), axis)


def _orders_here(b, x):
    """Whether the library orders ``x`` itself (else: NumPy's complex order, written on the
    standard in functrans.backends.complex_order)."""
    return b.orders_complex or b.dtype(x).kind != "c"


def _sort_impl(b, x, axis, descending):
    if _orders_here(b, x):
        return b.xp.sort(x, axis=axis, descending=descending, stable=True)
    return _co.sort(b.xp, x, axis, descending)


def _argsort_impl(b, x, axis, descending):
    if _orders_here(b, x):
        return b.xp.argsort(x, axis=axis, descending=descending, stable=True)
    return _co.argsort(b.xp, x, axis, descending)


sort_p = primitive("sort")
sort_p.same_aval = True
sort_p.def_impl(_sort_impl)
sort_p.def_abstract_eval(lambda x, axis, descending: x)
sort_p.def_jvp(_sort_jvp)
sort_p.def_batch(axes_rule(sort_p, "axis", many=False))

argsort_p = primitive("argsort")
argsort_p.def_impl(_argsort_impl)
argsort_p.def_abstract_eval(lambda x, axis, descending: ShapedArray(x.shape, _dt.int64))
argsort_p.def_jvp(lambda p, t, axis, descending: (argsort(p[0], axis, descending), None))
argsort_p.def_batch(axes_rule(argsort_p, "axis", many=False))


def sort(x, axis, descending=False):
    return sort_p.bind(x, axis=axis, descending=descending)


def argsort(x, axis, descending=False):
    return argsort_p.bind(x, axis=axis, descending=descending)


def searchsorted_impl(b, x1, x2, side, native=None):
    """The primitive on backend ``b`` (``native``: the library's own function, if not the
    namespace's)."""
    if _orders_here(b, x1):
        return (native or b.xp.searchsorted)(x1, x2, side=side)
    return _co.searchsorted(b.xp, x1, x2, side)


searchsorted_p = primitive("searchsorted")
searchsorted_p.def_impl(searchsorted_impl)
searchsorted_p.def_abstract_eval(lambda x1, x2, side: ShapedArray(x2.shape, _dt.int64))
searchsorted_p.def_jvp(lambda p, t, side: (searchsorted_p.bind(*p, side=side), None))


def _searchsorted_batch(args, dims, side):
    x1, x2 = args
    if dims[0] is None:  # one sorted sequence: the batch is just more values to look up
        return searchsorted_p.bind(x1, x2, side=side), 0
    # A sorted sequence per batch member (the standard's searchsorted takes a 1-D one): one
    # search each. Integer-valued, so this costs no derivative bookkeeping.
    size, n = x1.shape
    x2 = with_batch(x2, dims[1], size)
    rest = tuple(x2.shape[1:])
    if size == 0:  # no search to run (and nothing to concatenate): an empty result
        return convert_element_type(x2, _dt.int64), 0
    outs = []
    for i in range(size):
        row = reshape(slice_(x1, ((i, i + 1, 1), (0, n, 1))), (n,))
        vals = slice_(x2, ((i, i + 1, 1),) + tuple((0, k, 1) for k in rest))
        outs.append(searchsorted_p.bind(row, vals, side=side))
    return concat(outs, 0), 0


searchsorted_p.def_batch(_searchsorted_batch)


def _unique_impl(b, x):
    try:
        r = b.xp.unique_all(x)
    except NotImplementedError:  # torch: written on the standard instead
        return _generic_unique_all(b, x)
    return [r.values, r.indices, r.inverse_indices, r.counts]


def _generic_unique_all(b, x):
    """unique_all from sort, comparisons of neighbours and cumulative sums (NaNs distinct)."""
    xp = b.xp
    flat = xp.reshape(x, (-1,))
    n = flat.shape[0]
    order = _argsort_impl(b, flat, 0, False)
    s = xp.take(flat, order)
    if n == 0:
        empty = xp.astype(order, xp.int64)
        return [s, empty, xp.reshape(empty, x.shape), empty]
    first = xp.ones((1,), dtype=xp.bool, device=b.device(x))
    new = xp.concat([first, s[1:] != s[:-1]])
    starts = xp.nonzero(new)[0]
    group = xp.cumulative_sum(xp.astype(new, xp.int64)) - 1
    ends = xp.concat([starts[1:], xp.asarray([n], dtype=starts.dtype, device=b.device(x))])
    inverse = xp.take(group, xp.argsort(order, stable=True))
    return [xp.take(s, starts), xp.astype(xp.take(order, starts), xp.int64),
            xp.reshape(inverse, x.shape), xp.astype(ends - starts, xp.int64)]


def _unique_jvp(primals, tangents):
    x, = primals
    t, = tangents
    values, indices, inverse, counts = unique_all(x)
    n = 1
    for d in x.shape:
        n *= d
    return [values, indices, inverse, counts], [gather(reshape(t, (n,)), (indices,)),
                                                 None, None, None]


unique_all_p = primitive("unique_all", multiple_results=True)
unique_all_p.def_impl(_unique_impl)
unique_all_p.def_abstract_eval(data_dependent(
    "unique_all (and the other unique_* functions)",
    "give the number of results as size= (unique(x, size=n, fill_value=...), as in jax.numpy)"))
unique_all_p.def_jvp(_unique_jvp)
unique_all_p.def_batch(not_batchable(
    unique_all_p, "the number of unique values differs from one batch member to the next, so "
    "the results have no common shape; loop in Python instead.",
    users="behind unique_values, unique_counts, unique_inverse and unique_all"))


def unique_all(x):
    return unique_all_p.bind(x)
