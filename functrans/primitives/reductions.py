"""Reductions over explicit axes (a sorted tuple of non-negative ints; the axes are removed)."""

from __future__ import annotations

from ..core import ShapedArray, get_aval, primitive
from .elementwise import div, eq, mul
from .structural import broadcast_in_dim, convert_element_type


def _reduced_aval(x, axes):
    return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)


def _kept(ndim, axes):
    return tuple(i for i in range(ndim) if i not in axes)


def _expand_back(y, shape, axes):
    """Broadcast a reduced result back to the operand's shape."""
    return broadcast_in_dim(y, shape, _kept(len(shape), axes))


reduce_sum_p = primitive("reduce_sum")
reduce_sum_p.def_impl(lambda b, x, axes: b.xp.sum(x, axis=axes))
reduce_sum_p.def_abstract_eval(_reduced_aval)
reduce_sum_p.def_jvp(lambda p, t, axes: (reduce_sum(p[0], axes), reduce_sum(t[0], axes)))
reduce_sum_p.def_transpose(lambda ct, x, axes: [_expand_back(ct, x.aval.shape, axes)])


def _reduce_chooser_jvp(prim):
    # The tangent is averaged over the positions that attain the result (ties share it
    # equally, as in JAX).
    def jvp(primals, tangents, axes):
        x, = primals
        out = prim.bind(x, axes=axes)
        mask = convert_element_type(eq(x, _expand_back(out, x.shape, axes)),
                                    get_aval(x).dtype)
        t = div(reduce_sum(mul(tangents[0], mask), axes), reduce_sum(mask, axes))
        return out, t
    return jvp


reduce_max_p = primitive("reduce_max")
reduce_max_p.def_impl(lambda b, x, axes: b.xp.max(x, axis=axes))
reduce_max_p.def_abstract_eval(_reduced_aval)
reduce_max_p.def_jvp(_reduce_chooser_jvp(reduce_max_p))

reduce_min_p = primitive("reduce_min")
reduce_min_p.def_impl(lambda b, x, axes: b.xp.min(x, axis=axes))
reduce_min_p.def_abstract_eval(_reduced_aval)
reduce_min_p.def_jvp(_reduce_chooser_jvp(reduce_min_p))


def reduce_sum(x, axes):
    return reduce_sum_p.bind(x, axes=tuple(axes))


def reduce_max(x, axes):
    return reduce_max_p.bind(x, axes=tuple(axes))


def reduce_min(x, axes):
    return reduce_min_p.bind(x, axes=tuple(axes))
