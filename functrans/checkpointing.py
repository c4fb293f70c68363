"""Rematerialisation: ``checkpoint`` trades compute for memory in reverse mode.

Reverse mode keeps every intermediate the backward pass needs until the pass reaches it. A
function wrapped in :func:`checkpoint` keeps only its inputs: under ``grad``/``vjp`` its
outputs are computed without recording anything, and when the backward pass reaches it its
operations are run again, linearized, and their own backward pass runs at once. The peak
memory of a chain of checkpointed blocks is then about one block's intermediates plus the
blocks' inputs, for about one more forward pass of compute.

Each call first stages the function (as ``make_graph`` does), so that what it closes over —
arrays, and tracers of the transforms around the call (parameters being differentiated) —
becomes explicit inputs: the recomputation then replays the recorded operations on the saved
inputs instead of calling the function again.

Two primitives carry it. ``checkpoint_call`` is the call of the staged function: evaluated,
staged or batched it is just that. Its JVP rule is where the choice is made: in plain forward
mode (concrete tangents) it is the function's own JVP; when the tangents are being recorded
(the linearize inside ``grad``/``vjp``), it computes the outputs alone and records one
``checkpoint_lin`` equation, linear in the tangents, whose only residuals are the inputs. The
transpose of ``checkpoint_lin`` is the rematerialisation: a linearize and backward pass of the
staged function at the saved inputs.
"""

from __future__ import annotations

import functools

from . import dtypes as _dt
from .core import _SCALAR_DTYPES, _current, get_aval, primitive
from .errors import ConcretizationError
from .graph import Graph, Var
from .interpreters import StagingInterpreter, StagingTracer
from .tree import tree_flatten, tree_unflatten

checkpoint_call_p = primitive("checkpoint_call", multiple_results=True)
checkpoint_lin_p = primitive("checkpoint_lin", multiple_results=True)


def _restricted(fun, primals, diff, out_float=None):
    """The flat function ``fun`` of the arguments at positions ``diff`` only (the others fixed
    at ``primals``), returning its outputs (only those at positions ``out_float``, if given)."""
    def g(*xs):
        args = list(primals)
        for i, x in zip(diff, xs):
            args[i] = x
        outs = fun(*args)
        return list(outs) if out_float is None else [outs[i] for i in out_float]
    return g

# -- checkpoint_call: fun(*args) for a flat, staged fun ----------------------------------------


def _call_jvp(primals, tangents, fun):
    from .api import jvp
    diff = [i for i, t in enumerate(tangents) if t is not None]
    d_tans = [tangents[i] for i in diff]
    if not any(isinstance(t, StagingTracer) for t in d_tans):
        # Plain forward mode keeps nothing for later: the function's own JVP, one pass.
        outs, tans = jvp(_restricted(fun, primals, diff), tuple(primals[i] for i in diff),
                         tuple(d_tans))
        outs = list(outs)
        return outs, [t if _dt.is_float(get_aval(o).dtype) else None
                      for o, t in zip(outs, tans)]
    # Tangents being recorded (reverse mode): the outputs alone now, nothing of the function's
    # inside kept, and one linear equation whose residuals are the inputs.
    outs = fun(*primals)
    out_float = tuple(i for i, o in enumerate(outs) if _dt.is_float(get_aval(o).dtype))
    lin = checkpoint_lin_p.bind(
        *d_tans, fun=fun, primals=tuple(primals), diff=tuple(diff), out_float=out_float,
        out_avals=tuple(get_aval(outs[i]) for i in out_float))
    tans = [None] * len(outs)
    for i, t in zip(out_float, lin):
        tans[i] = t
    return outs, tans


def _call_batch(args, dims, fun):
    # The batched function, still checkpointed: a transform outside this vmap keeps
    # rematerialising it.
    from .batching import vmap
    from .primitives._batching import all_batched
    outs = checkpoint_call_p.bind(*all_batched(args, dims), fun=vmap(fun))
    return outs, [0] * len(outs)


checkpoint_call_p.def_impl(lambda backend, *args, fun: list(fun(*args)))
checkpoint_call_p.def_jvp(_call_jvp)
checkpoint_call_p.def_batch(_call_batch)
# Staged (make_graph, or the forward of a staged hvp): the function's own operations.
checkpoint_call_p.inline = lambda *args, fun: list(fun(*args))

# -- checkpoint_lin: the tangent map, with the inputs as its only residuals --------------------


def _lin_forward(*tangents, fun, primals, diff, out_float, out_avals):
    """The tangent map evaluated forward (linearize's ``f_jvp``, or under another transform):
    the function's JVP at the saved inputs, recomputing its primal."""
    from .api import jvp
    g = _restricted(fun, primals, diff, out_float)
    return list(jvp(g, tuple(primals[i] for i in diff), tuple(tangents))[1])


def _lin_transpose(cts, *tangents, fun, primals, diff, out_float, out_avals):
    """The rematerialisation: linearize the function again at its saved inputs, then run its
    backward pass on the cotangents of its outputs."""
    from .reverse import backward, linearize_flat
    if all(c is None for c in cts):
        return [None] * len(tangents)
    g = _restricted(fun, primals, diff, out_float)
    _, graph = linearize_flat(lambda xs: g(*xs), [primals[i] for i in diff])
    return backward(graph, list(cts), consume=True)


checkpoint_lin_p.def_impl(lambda backend, *tangents, **params: _lin_forward(*tangents,
                                                                           **params))
checkpoint_lin_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))
checkpoint_lin_p.def_transpose(_lin_transpose)
checkpoint_lin_p.def_jvp_inline(_lin_forward)

# -- the transform -----------------------------------------------------------------------------


def _stage(fun, leaves, in_tree, name):
    """Stage ``fun`` on the array leaves (Python scalars are passed as they are): a graph
    whose inputs are those leaves followed by everything the function closes over (captured
    arrays, tracers of enclosing transforms), and the captured values."""
    interp = StagingInterpreter(_current.get())
    args, in_vars = [], []
    for x in leaves:
        if type(x) in _SCALAR_DTYPES:
            args.append(x)
        else:
            t = interp.new_input(get_aval(x))
            in_vars.append(t.var)  # read now: item assignment re-points a tracer
            args.append(t)
    token = _current.set(interp)
    try:
        out = fun(*tree_unflatten(in_tree, args))
    except ConcretizationError as e:
        raise ConcretizationError(
            f"checkpoint of {name}: the function is staged to record what to recompute, "
            f"and {e}") from None
    finally:
        _current.reset(token)
        interp.active = False
    out_leaves, out_tree = tree_flatten(out)
    captured, slots, const_vars = [], {}, []

    def rename(x):
        if type(x) is Var or type(x) in _SCALAR_DTYPES:
            return x
        if type(x) is StagingTracer and x._interp is interp:
            return x.var
        i = slots.get(id(x))
        if i is None:
            i = slots[id(x)] = len(captured)
            captured.append(x)
            const_vars.append(Var(get_aval(x)))
        return const_vars[i]
    eqns = [(prim, [rename(x) for x in inputs], params, outputs)
            for prim, inputs, params, outputs in interp.eqns]
    outputs = [rename(x) for x in out_leaves]
    return Graph(in_vars + const_vars, eqns, outputs), captured, out_tree


def checkpoint(fun):
    """``fun`` rematerialised in reverse mode: its intermediates are not kept for the
    backward pass but recomputed when the pass reaches it (``jax.checkpoint``, also known as
    ``remat``).

    Values are unchanged, and so are all derivatives, to any order and under every
    transform; what changes is when the work is done. Under ``grad``/``vjp``/``jacrev`` only
    ``fun``'s inputs (and the arrays it closes over) are kept, and its operations run a second
    time during the backward pass. Wrap the blocks of a long computation to keep the peak
    memory of its gradient to about one block's intermediates.

    Each call stages ``fun`` (as ``make_graph`` does) to record the operations to replay, so
    ``fun`` runs once per call, under every transform, and it cannot branch in Python on the
    values of its array arguments (use ``functrans.numpy.where``); Python scalar arguments
    are passed as they are and may steer control flow.

    Example:
        >>> block = ft.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
        >>> ft.grad(lambda x: fnp.sum(block(block(x))))(fnp.asarray([0.5, 1.0]))
        array([0.62933451, 0.20593521])
    """
    if not callable(fun):
        raise TypeError(f"checkpoint expects a function; got {type(fun).__name__}.")
    name = getattr(fun, "__name__", repr(fun))

    @functools.wraps(fun)
    def checkpointed(*args):
        leaves, in_tree = tree_flatten(args)
        graph, captured, out_tree = _stage(fun, leaves, in_tree, name)
        arrays = [x for x in leaves if type(x) not in _SCALAR_DTYPES]
        outs = checkpoint_call_p.bind(*arrays, *captured, fun=graph)
        return tree_unflatten(out_tree, outs)
    return checkpointed


remat = checkpoint
