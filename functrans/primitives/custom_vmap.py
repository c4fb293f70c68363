"""The primitive of ``functrans.custom_batching.custom_vmap`` functions: ``custom_vmap_call``.

Its parameters carry the user's function (``fun``), its vmap rule (``rule``), the arguments'
tree (``in_tree``) and a box receiving the results' tree (``out_box``). Evaluated it calls
``fun``; staged it is one equation (its abstract value from staging ``fun``); its batching
rule calls the user's rule; its JVP is a ``custom_vmap_call`` of ``fun``'s JVP whose rule is
the rule's JVP (forward mode), or ``fun``'s own JVP where the tangents are being recorded
for a backward pass.
"""

from __future__ import annotations

from ..core import _SCALAR_DTYPES, ShapedArray, get_aval, primitive
from ..custom import _call_flat
from ..errors import BatchingError, CustomRuleError
from ..tree import tree_flatten, tree_structure, tree_unflatten


def _name(f):
    return getattr(f, "__name__", type(f).__name__)


custom_vmap_call_p = primitive("custom_vmap_call", multiple_results=True)


def _impl(backend, *args, fun, rule, in_tree, out_box):
    return _call_flat(fun, args, in_tree, out_box)


def _abstract_eval(*avals, fun, rule, in_tree, out_box):
    from ..api import eval_shape
    outs = eval_shape(lambda *xs: _call_flat(fun, xs, in_tree, out_box), *avals)
    return [ShapedArray(o.shape, o.dtype) for o in outs]


def _batch(args, dims, fun, rule, in_tree, out_box):
    from ._batching import batch_size
    size = batch_size(args, dims)
    in_batched = list(tree_unflatten(in_tree, [d is not None for d in dims]))
    res = rule(size, in_batched, *tree_unflatten(in_tree, list(args)))
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise CustomRuleError(f"The vmap rule of custom_vmap function {_name(fun)} must "
                              f"return a pair (outputs, out_batched); got "
                              f"{type(res).__name__}.")
    out, out_batched = res
    leaves, out_tree = tree_flatten(out)
    b_leaves, b_tree = tree_flatten(out_batched)
    if b_tree != out_tree:
        raise CustomRuleError(
            f"The vmap rule of custom_vmap function {_name(fun)}: out_batched must have the "
            f"structure of the outputs ({out_tree}, one bool per array); got {b_tree}.")
    for i, (o, b) in enumerate(zip(leaves, b_leaves)):
        if b is not True and b is not False:
            raise CustomRuleError(f"The vmap rule of custom_vmap function {_name(fun)}: "
                                  f"out_batched holds {b!r}; each entry must be a bool.")
        if b and (type(o) in _SCALAR_DTYPES or not o.shape or o.shape[0] != size):
            raise BatchingError(
                f"The vmap rule of custom_vmap function {_name(fun)}: output {i} is marked "
                f"batched but its shape {tuple(getattr(o, 'shape', ()))} does not lead with "
                f"the batch size {size}.")
    out_box[:] = [out_tree]
    return leaves, [0 if b else None for b in b_leaves]


def _jvp(primals, tangents, fun, rule, in_tree, out_box):
    from .. import numpy as fnp
    from ..api import jvp
    from ..interpreters import StagingTracer
    diff = [i for i, t in enumerate(tangents) if t is not None]
    tans = [tangents[i] for i in diff]

    def at(ps, ds):
        full = list(ps)
        for i, d in zip(diff, ds):
            full[i] = d
        return full

    if any(isinstance(t, StagingTracer) for t in tans):
        # Tangents being recorded for a backward pass: the function's own JVP (a transform
        # outside this one batches its operations, not the rule).
        outs, touts = jvp(lambda *ds: _call_flat(fun, at(primals, ds), in_tree, out_box),
                          tuple(primals[i] for i in diff), tuple(tans))
        return list(outs), [t if _carries(o) else None for o, t in zip(outs, touts)]
    # Forward mode: a custom_vmap call of the function's JVP, whose vmap rule is the JVP of
    # the rule, so that a vmap outside this jvp still meets the user's rule.
    n, k = len(primals), len(diff)

    def jfun(*xs):
        ps, ts = xs[:n], xs[n:]
        outs, touts = jvp(lambda *ds: _call_flat(fun, at(ps, ds), in_tree, out_box),
                          tuple(ps[i] for i in diff), tuple(ts))
        return list(outs) + list(touts)

    def jrule(axis_size, in_batched, *xs):
        ps, ts = list(xs[:n]), list(xs[n:])
        bp, bt = list(in_batched[:n]), list(in_batched[n:])
        for j, i in enumerate(diff):  # a primal and its tangent batched alike
            if bt[j] and not bp[i]:
                ps[i] = fnp.broadcast_to(fnp.expand_dims(ps[i], axis=0),
                                         (axis_size,) + tuple(ps[i].shape))
                bp[i] = True
            elif bp[i] and not bt[j]:
                ts[j] = fnp.broadcast_to(fnp.expand_dims(ts[j], axis=0),
                                         (axis_size,) + tuple(ts[j].shape))
        box = []

        def batched(*ds):
            out, ob = rule(axis_size, tree_unflatten(in_tree, bp),
                           *tree_unflatten(in_tree, at(ps, ds)))
            leaves, tree = tree_flatten(out)
            box[:] = [tree_flatten(ob)[0], tree]
            return leaves
        outs, touts = jvp(batched, tuple(ps[i] for i in diff), tuple(ts))
        ob, tree = box
        out_box[:] = [tree]
        return list(outs) + list(touts), list(ob) + list(ob)

    flat_in = tree_structure(tuple(range(n + k)))
    inner_box = []
    res = custom_vmap_call_p.bind(*primals, *tans, fun=jfun, rule=_flat_rule(jrule, n + k),
                                  in_tree=flat_in, out_box=inner_box)
    m = len(res) // 2
    outs, touts = res[:m], res[m:]
    return list(outs), [t if _carries(o) else None for o, t in zip(outs, touts)]


def _flat_rule(rule, count):
    """``rule(axis_size, in_batched, *xs)`` for a call whose arguments are ``count`` flat
    leaves (in_batched arrives as a tuple of bools)."""
    def flat(axis_size, in_batched, *xs):
        return rule(axis_size, tuple(in_batched), *xs)
    return flat


def _carries(o):
    from .. import dtypes as _dt
    return type(o) not in _SCALAR_DTYPES and _dt.is_float(get_aval(o).dtype)


custom_vmap_call_p.def_impl(_impl)
custom_vmap_call_p.def_abstract_eval(_abstract_eval)
custom_vmap_call_p.def_batch(_batch)
custom_vmap_call_p.def_jvp(_jvp)


