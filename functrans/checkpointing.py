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

A ``policy`` (JAX's ``jax.checkpoint_policies``) chooses results to keep as well. It is asked
about each primitive the staged function applies, ``policy(prim, *input_avals, **params)``;
the forward pass then keeps the results it marks saveable (those the recomputation reads),
and ``checkpoint_lin`` carries them as more residuals. The recomputation (:class:`_Plan`)
replays the staged equations with those values in place: an equation whose results are kept
and whose operands carry no tangent is not run, nor is what only it needed. One whose
operands carry tangents needs a tangent too. Where its primitive's derivative is written
from its result (``jvp_from_output``: ``exp``, ``tanh``, ``sqrt``, ``expm1``, ``tan``,
``relu``), or its tangent reads no value at all (a sum, a reshape), that tangent comes from
the kept value and the operands' tangents alone, as in JAX: the operands are then needed for
their tangents only, and an equation needed so is replaced by its JVP rule staged with its
primal result pruned away (:class:`_TangentRule`; a product's tangent ``dx @ W + x @ dW``
without ``x @ W``), so keeping ``tanh(x @ W)`` does not recompute ``x @ W``. Otherwise the
equation goes through its JVP rule, whose evaluation of the primitive on the same operands
is answered with the kept value (:class:`_Reuse`), and its operands are recomputed.
``name`` (``checkpoint_name``) labels a value for the name-based policies.
"""

from __future__ import annotations

import functools
import threading
import types
from collections import OrderedDict

import numpy as _np

from . import dtypes as _dt
from .backends import backend_of
from .core import (_SCALAR_DTYPES, Interpreter, Primitive, ShapedArray, Tracer, _by_type_get,
                   _current, bind, get_aval, primitive, reset_current, set_current,
                   switch_current)
from .errors import ConcretizationError, CustomRuleError, check_function
from .graph import EFFECTFUL, Graph, Var, _last_uses, eval_graph, exact_key, prune, read_vars
from .interpreters import (CONSTANT_INTERPRETERS, ConstTracer, JVPInterpreter, JVPTracer,
                           StagingInterpreter, StagingTracer)
from .tree import tree_flatten, tree_unflatten

checkpoint_call_p = primitive("checkpoint_call", multiple_results=True)
checkpoint_lin_p = primitive("checkpoint_lin", multiple_results=True)

# -- name: checkpoint_name's label, the identity otherwise --------------------------------------
# Its tangent is the operand's own (no equation on the tangent side); a recomputation reads
# through it (see _Plan).
name_p = primitive("name")
name_p.same_aval = True
name_p.def_impl(lambda backend, x, name: x)
name_p.def_abstract_eval(lambda x, name: x)
name_p.def_jvp(lambda p, t, name: (name_p.bind(p[0], name=name), t[0]))
name_p.def_transpose(lambda ct, x, name: [ct])
name_p.def_batch(lambda args, dims, name: (name_p.bind(args[0], name=name), dims[0]))


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


def _call_jvp(primals, tangents, fun, policy=None):
    from .api import jvp
    diff = [i for i, t in enumerate(tangents) if t is not None]
    d_tans = [tangents[i] for i in diff]
    if not any(isinstance(t, StagingTracer) for t in d_tans):
        # Plain forward mode keeps nothing for later: the function's own JVP, one pass.
        outs, tans = jvp(_restricted(fun, primals, diff), tuple(primals[i] for i in diff),
                         tuple(d_tans))
        outs = list(outs)
        return outs, [t if _carries(o) else None for o, t in zip(outs, tans)]
    # Tangents being recorded (reverse mode): the outputs alone now, nothing of the function's
    # inside kept (but what a policy saves), and one linear equation whose residuals are the
    # inputs (and the saved values).
    out_float = tuple(i for i, o in enumerate(fun.outputs)
                      if type(o) is Var and _dt.is_float(o.aval.dtype))
    plan = _plan(fun, policy, tuple(diff), out_float) if policy is not None else None
    if plan is not None and plan.everything:
        # Every result saveable: no rematerialisation at all, the function's own JVP (the
        # linearize around keeps what its rules need, as without checkpoint).
        outs, tans = jvp(_restricted(fun, primals, diff), tuple(primals[i] for i in diff),
                         tuple(d_tans))
        outs = list(outs)
        return outs, [t if _carries(o) else None for o, t in zip(outs, tans)]
    # (the saved values are computed as further outputs of the same evaluation)
    ext, last = (fun, None) if plan is None or not plan.keep else plan.ext
    if _has_custom(fun) and any(isinstance(p, Tracer) for p in primals):
        # The primal outputs as the function's JVP computes them: a custom_vjp's fwd (a
        # custom_jvp rule's primal output), not the custom call, is what the transforms
        # around this one differentiate, as without checkpoint. The linear graph is dropped.
        from .reverse import linearize_flat
        g = _restricted(ext, primals, diff)
        outs = linearize_flat(lambda xs: g(*xs), [primals[i] for i in diff])[0]
    else:
        outs = eval_graph(ext, primals, last)
    kept = outs[len(fun.outputs):]
    del outs[len(fun.outputs):]
    out_float = tuple(i for i, o in enumerate(outs) if _carries(o))
    if plan is not None and not set(out_float) <= set(plan.out_float):
        plan, kept = None, []  # (an output the plan did not expect: recompute everything)
    # The inputs are operands, not parameters: where the tangents are staged by something
    # other than linearize (make_graph of a jvp), the inputs may be its tracers too.
    lin = checkpoint_lin_p.bind(
        *d_tans, *primals, *kept, fun=fun, n_tan=len(d_tans), diff=tuple(diff),
        out_float=out_float, out_avals=tuple(get_aval(outs[i]) for i in out_float),
        **({} if plan is None else {"plan": plan}))
    tans = [None] * len(outs)
    for i, t in zip(out_float, lin):
        tans[i] = t
    return outs, tans


def _has_custom(graph):
    """Whether ``graph`` calls a custom_jvp/custom_vjp function (nested checkpoints too)."""
    for prim, _, params, _ in graph.eqns:
        if prim is custom_jvp_call_p or prim is custom_vjp_call_p or (
                prim is checkpoint_call_p and _has_custom(params["fun"])):
            return True
    return False


def _carries(o):
    """Whether an output carries a tangent (a Python scalar output is a constant)."""
    return type(o) not in _SCALAR_DTYPES and _dt.is_float(get_aval(o).dtype)


def _call_batch(args, dims, fun, batch_interp, policy=None):
    # The batched function, staged again and still checkpointed (a transform outside this
    # vmap keeps rematerialising it). Unbatched operands stay unbatched (no broadcast of
    # the weights to the batch), and outputs that do not depend on the batch stay so.
    from .batching import BatchInterpreter, BatchTracer
    out_dims = []

    def batched(*xs):
        # the same members as batch_interp's (collectives over its name are this one's)
        interp = BatchInterpreter(_current.get().interp, batch_interp.axis_name,
                                  batch_interp.axis_size, batch_interp.like)
        ins = [x if d is None else BatchTracer(interp, x) for x, d in zip(xs, dims)]
        token = set_current(interp)
        try:
            outs = fun(*ins)
        finally:
            reset_current(token)
            interp.active = False
        res = []
        for o in outs:
            mapped = type(o) is BatchTracer and o._interp is interp
            out_dims.append(0 if mapped else None)
            res.append(o.val if mapped else o)
        return res
    leaves, in_tree = tree_flatten((tuple(args), {}))
    graph, captured, _ = _stage(batched, leaves, in_tree, "a batched checkpoint")
    if policy is not None:
        graph = _intern(graph, _library(list(args) + captured))
    outs = checkpoint_call_p.bind(*args, *captured, fun=graph,
                                  **({} if policy is None else {"policy": policy}))
    return outs, out_dims


checkpoint_call_p.def_impl(lambda backend, *args, fun, policy=None: list(fun(*args)))
checkpoint_call_p.def_jvp(_call_jvp)
checkpoint_call_p.def_batch(_call_batch)
checkpoint_call_p.batch_sees_interp = True
# Staged (make_graph, or the forward of a staged hvp): the function's own operations.
checkpoint_call_p.inline = lambda *args, fun, policy=None: list(fun(*args))

# -- policies: what the forward pass keeps, and the recomputation that reads it ----------------

# what the recomputation does with an equation (see _Plan, _plan)
_LOAD, _REUSE, _RUN, _FROM_OUT, _TANGENT, _LINEAR = range(6)


class _Plan:
    """The recomputation of a staged function under a policy. ``eqns`` holds
    ``(action, prim, inputs, params, outputs)`` in order, where the action is ``_RUN`` (bind
    it), ``_REUSE`` (bind it, its primitive's own evaluation on the same operands answered
    with the kept results: the operands carry tangents, which its JVP rule still gives),
    ``_LOAD`` (the kept results stand for it; nothing it reads is recomputed for it),
    ``_FROM_OUT`` (a kept result with its tangent by the primitive's ``jvp_from_output``:
    of its operands only their tangents are read), ``_LINEAR`` (kept results whose tangents
    read no value, a sum's or a reshape's: likewise) or ``_TANGENT`` (only the tangents of
    its results are read, by those two: computed by a :class:`_TangentRule`, which reads
    only some of the operands' values, in place of ``params``). ``keep`` lists the
    variables whose values the forward pass keeps, ``outputs`` the function's outputs (read
    through ``name``), ``last`` the variables no later equation reads, by equation index,
    ``ext`` (where something is kept) the forward pass's graph, whose outputs are followed
    by the kept values, and its last uses. Built once per staged graph (of every call that
    stages the same one: see :func:`_intern`), policy and differentiated inputs."""

    __slots__ = ("in_vars", "eqns", "outputs", "keep", "last", "out_float", "policy",
                 "everything", "ext")

    def __repr__(self):  # (shown in printed graphs)
        return f"plan(saving {len(self.keep)})"

    def replay(self, args, kept, reuse, out_float):
        """The function's outputs at ``out_float`` (some of the plan's) from its inputs
        ``args`` and the kept values, under the transforms current (linearize), ``reuse``
        beneath them."""
        env = dict(zip(self.in_vars, args))
        tans = {}  # the values needed for their tangent only: their tangents (None: zero)
        saved = dict(zip(self.keep, kept))
        interp = _current.get().interp
        last = self.last
        for k, (action, prim, inputs, params, outs) in enumerate(self.eqns):
            many = prim.multiple_results
            if action == _LOAD:
                for o in (outs if many else (outs,)):
                    if o in saved:
                        env[o] = saved[o]
            elif action == _FROM_OUT:
                env[outs] = _from_output(interp, prim, params, saved[outs],
                                         [_tangent_of(x, env, tans, interp) for x in inputs])
            elif action == _TANGENT:
                out = _tangent_only(interp, params, inputs, env, tans)
                tans.update(zip(outs if many else (outs,), out))
            elif action == _LINEAR:
                ys = [saved[o] for o in outs] if many else [saved[outs]]
                out = [y if t is None else JVPTracer(interp, y, t) for y, t in zip(
                    ys, _tangent_only(interp, params, inputs, env, tans))]
                if many:
                    env.update(zip(outs, out))
                else:
                    env[outs] = out[0]
            else:
                vals = [env[x] if type(x) is Var else x for x in inputs]
                if action == _REUSE:
                    reuse.arm(prim, params, [_primal_of(v, interp) for v in vals],
                              [saved[o] for o in outs] if many else [saved[outs]])
                    try:
                        out = bind(prim, *vals, **params)
                    finally:
                        reuse.arm(None, None, None, None)
                elif prim in EFFECTFUL:
                    from .callbacks import _bind_effect
                    out = _bind_effect(prim, vals, params)
                else:
                    out = bind(prim, *vals, **params)
                del vals
                if many:
                    env.update(zip(outs, out))
                else:
                    env[outs] = out
            for x in last.get(k, ()):
                env.pop(x, None)
                tans.pop(x, None)
        return [env[self.outputs[i]] if type(self.outputs[i]) is Var else self.outputs[i]
                for i in out_float]


def _tangent_of(x, env, tans, interp):
    """The tangent of the operand ``x`` under the linearize ``interp`` (None for none)."""
    if type(x) is not Var:
        return None
    v = env.get(x)
    if v is None:
        return tans.get(x)
    return v.tangent if type(v) is JVPTracer and v._interp is interp else None


def _from_output(interp, prim, params, y, tangents):
    """The kept result ``y`` of ``prim``, with the tangent its ``jvp_from_output`` gives."""
    if all(t is None for t in tangents):
        return y
    cell, previous = switch_current(interp.parent)  # (where JVP rules run: see JVPInterpreter)
    try:
        t = prim.jvp_from_output(tangents, y, **params)
    finally:
        cell.interp = previous
    return y if t is None else JVPTracer(interp, y, t)


def _tangent_only(interp, rule, inputs, env, tans):
    """The tangents of an equation's results by its :class:`_TangentRule` (None for each
    where no operand carries one), its primal result not computed."""
    ts = [_tangent_of(x, env, tans, interp) if r else None for x, r in zip(inputs, rule.read)]
    if all(t is None for t in ts):
        return [None] * len(rule.outs)
    have = tuple(t is not None for t in ts)
    if have != rule.read:
        fewer = rule.fewer.get(have, False)
        if fewer is False:
            fewer = _rule_for(*rule.eqn, have)
            if fewer is not None and any(r and not q for r, q in zip(fewer.primal,
                                                                   rule.primal)):
                fewer = None
            rule.fewer[have] = fewer
        if fewer is not None:
            rule = fewer
    args = [_primal_of(env[x], interp) if r else None
            for x, r in zip(inputs, rule.primal) if type(x) is Var]
    for x, m, r, t in zip(inputs, rule.tangent, rule.read, ts):
        if m:  # (a zero where one read that could carry a tangent has none: stop_gradient)
            args.append(t if t is not None or not r else _zeros(interp, x.aval))
    cell, previous = switch_current(interp.parent)
    try:
        out = iter(eval_graph(rule.graph, args))
    finally:
        cell.interp = previous
    return [next(out) if m else None for m in rule.outs]


def _zeros(interp, aval):
    from .api import _concrete_backend
    b, device = _concrete_backend(interp.parent.device_source)
    return b.xp.zeros(aval.shape, dtype=b.native_dtype(aval.dtype),
                      **({"device": device} if device is not None else {}))


def _primal_of(v, interp):
    """What a JVP rule of ``interp`` receives for the operand ``v``."""
    t = type(v)
    if (t is JVPTracer and v._interp is interp) or t is ConstTracer:
        return v.primal
    return v


class _Reuse(Interpreter):
    """Beneath the linearize of a recomputation: while armed with an equation, answers the
    evaluation of its primitive on its operands (its JVP rule's primal result) with the kept
    results; a primitive computing several results at once, one of them the kept one
    (``sin_cos`` for ``sin``), computes only the others where its ``project`` allows.
    Everything else is passed to the interpreter below."""

    __slots__ = ("prim", "params", "operands", "values")

    def __init__(self, parent):
        super().__init__(parent)
        self.prim = None

    def arm(self, prim, params, operands, values):
        self.prim, self.params, self.operands, self.values = prim, params, operands, values

    def process(self, prim, args, params):
        want = self.prim
        if want is not None and len(args) == len(self.operands) and all(
                (a.primal if type(a) is ConstTracer else a) is b
                for a, b in zip(args, self.operands)):
            if prim is want and _same_params(params, self.params):
                return list(self.values) if prim.multiple_results else self.values[0]
            if prim.multiple_results and prim.project is not None and len(self.values) == 1:
                out = self._projected(prim, args, params)
                if out is not None:
                    return out
        return self.parent.process(prim, args, params)

    def _projected(self, prim, args, params):
        n = len(prim.abstract_eval(*[get_aval(a) for a in args], **params))
        parts = [prim.project(i, **params) for i in range(n)]
        hit = [i for i, q in enumerate(parts)
               if q is not None and q[0] is self.prim and _same_params(q[1], self.params)]
        if not hit or any(q is None for i, q in enumerate(parts) if i != hit[0]):
            return None
        return [self.values[0] if i == hit[0] else self.parent.process(q[0], args, q[1])
                for i, q in enumerate(parts)]


def _same_params(p, q):
    if p is q:
        return True
    if p.keys() != q.keys():
        return False
    for k, v in p.items():
        w = q[k]
        if v is w:
            continue
        try:
            if type(v) is not type(w) or not bool(exact_key(v) == exact_key(w)):
                return False
        except (TypeError, ValueError):  # (arrays of several elements)
            return False
    return True


def _ask(policy, prim, inputs, params):
    """The policy's answer for one equation: True to keep its results."""
    avals = [x.aval if type(x) is Var else get_aval(x) for x in inputs]
    answer = policy(prim, *avals, **params)
    if type(answer) is bool:
        return answer
    if isinstance(answer, _np.bool_):
        return bool(answer)
    name = getattr(policy, "__name__", None) or type(policy).__name__
    raise TypeError(
        f"checkpoint: the policy {name!r} returned {answer!r} (of type "
        f"{type(answer).__name__}) for the primitive {prim.name!r}; a policy answers True "
        f"(keep that primitive's results for the backward pass) or False (recompute them). "
        f"Return a bool, as the functions of functrans.checkpoint_policies do, e.g. "
        f"lambda prim, *avals, **params: prim.name == 'matmul'.")


class _TangentRule:
    """An equation's JVP rule staged with its result's primal pruned away: ``graph`` maps the
    operands' primals, then their tangents (those expected to carry one, marked in
    ``tangent``; one flag per operand), to the tangents of the results marked in ``outs``;
    ``primal`` and ``read`` mark the primals and the tangents it reads. ``fewer``: the
    rules staged for fewer tangents than planned (an operand under ``stop_gradient``), by
    the operands that have one, or None where such a rule reads a primal this one does not
    (then the missing tangents are zeros)."""

    __slots__ = ("graph", "primal", "tangent", "read", "outs", "eqn", "fewer")


def _opaque(param):
    """Whether an equation's parameter is a graph or a function (control flow, user rules):
    such rules may tell a backward pass's recording from a staging, so they are not staged
    apart from the recomputation."""
    if isinstance(param, (tuple, list)):
        return any(_opaque(v) for v in param)
    return isinstance(param, Graph) or (callable(param) and not isinstance(param, type))


def _tangent_rule(prim, inputs, params, dep):
    """The :class:`_TangentRule` of an equation, differentiated in its operands in ``dep``,
    or None where its rule cannot be staged on abstract values. For results needed for
    their tangents alone (the operand of a rule written from a kept output) or whose values
    are kept: reading no primal result (a product's tangent is ``dx @ W + x @ dW``), it
    spares the recomputation the primitive itself."""
    from .api import _param_vars
    if (prim.jvp is None or prim in _KEPT or prim in EFFECTFUL or _param_vars(params)
            or any(_opaque(v) for v in params.values())
            or any(type(x) is not Var and type(x) not in _SCALAR_DTYPES for x in inputs)):
        return None
    sig = tuple(x.aval if type(x) is Var else x for x in inputs)
    diff = tuple(type(x) is Var and x in dep and _dt.is_float(x.aval.dtype) for x in inputs)
    return _rule_for(prim, sig, params, diff)


class _Signature:
    """An equation's primitive, operands (abstract values, or Python numbers), parameters
    and differentiated operands, as a key of the cache of staged rules."""

    __slots__ = ("eqn", "key")

    def __init__(self, eqn, key):
        self.eqn, self.key = eqn, key

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return self.key == other.key


def _rule_for(prim, sig, params, diff):
    """:func:`_staged_rule`, cached where the parameters are hashable (a checkpointed
    function is staged again at each call, and so is its plan)."""
    key = (prim, tuple(s if type(s) is ShapedArray else exact_key(s) for s in sig),
           tuple(sorted((k, exact_key(v)) for k, v in params.items())), diff)
    try:
        hash(key)
    except TypeError:
        return _staged_rule(prim, sig, params, diff)
    return _cached_rule(_Signature((prim, sig, params, diff), key))


@functools.lru_cache(maxsize=1024)
def _cached_rule(signature):
    return _staged_rule(*signature.eqn)


def _staged_rule(prim, sig, params, diff):
    staging = StagingInterpreter(_current.get().interp)
    jvp_interp = JVPInterpreter(staging)
    primal, tangent, args = [], [], []
    for s, d in zip(sig, diff):
        if type(s) is not ShapedArray:  # (a Python number: a constant of the rule)
            primal.append(None)
            tangent.append(None)
            args.append(s)
            continue
        p = staging.new_input(s)
        primal.append(p._var)
        if d:
            t = staging.new_input(s)
            tangent.append(t._var)
            args.append(JVPTracer(jvp_interp, p, t))
        else:
            tangent.append(None)
            args.append(p)
    token = set_current(jvp_interp)
    try:
        out = bind(prim, *args, **params)
    except Exception:  # (a rule needing concrete values: the equation is run whole instead)
        return None
    finally:
        reset_current(token)
        jvp_interp.active = staging.active = False
    outs, tans = (out if prim.multiple_results else [out]), []
    for o in outs:
        t = o.tangent if type(o) is JVPTracer and o._interp is jvp_interp else None
        if t is not None and not (type(t) is StagingTracer and t._interp is staging):
            return None  # (a constant tangent: left to the whole rule)
        tans.append(t)
    graph = prune(Graph([v for v in primal + tangent if v is not None], staging.eqns,
                        [t._var for t in tans if t is not None]))
    if any(type(x) is not Var and type(x) not in _SCALAR_DTYPES
           for _, ins, _, _ in graph.eqns for x in ins):
        return None  # (an array the rule made, of some library: left to the whole rule)
    read = read_vars(graph)
    rule = _TangentRule()
    rule.graph = graph
    rule.primal = tuple(v is not None and v in read for v in primal)
    rule.tangent = tuple(v is not None for v in tangent)
    rule.read = tuple(v is not None and v in read for v in tangent)
    rule.outs = tuple(t is not None for t in tans)
    rule.eqn, rule.fewer = (prim, sig, params), {}
    return rule


def _plan(fun, policy, diff, out_float):
    """The :class:`_Plan` of the staged function ``fun`` under ``policy``, differentiated in
    its inputs at ``diff``, for its outputs at ``out_float``: cached on ``fun``, which
    :func:`_intern` makes the same object for every call staging the same graph (at most
    ``PLANS_PER_GRAPH`` plans, the least recently used dropped first)."""
    cache = fun.__dict__.get("_plans")
    if cache is None:
        cache = fun.__dict__.setdefault("_plans", OrderedDict())
    key = (id(policy), diff, out_float)  # (the plan keeps the policy alive: ids stay unique)
    with _cache_lock:
        plan = cache.get(key)
        if plan is not None:
            cache.move_to_end(key)
            return plan
    plan = _build_plan(fun, policy, diff, out_float)
    with _cache_lock:
        cache[key] = plan
        while len(cache) > max(PLANS_PER_GRAPH, 1):
            cache.popitem(last=False)
    return plan


def _build_plan(fun, policy, diff, out_float):
    """The :class:`_Plan` (see :func:`_plan`), built: the policy asked about each
    equation, the recomputation chosen equation by equation."""
    from .api import _param_vars
    # name is the identity: read through it; a kept name keeps the value it labels.
    alias, eqns, save, everything = {}, [], set(), True
    for prim, inputs, params, outs in fun.eqns:
        inputs = [alias.get(x, x) if type(x) is Var else x for x in inputs]
        if prim is name_p:
            alias[outs] = inputs[0]
            if _ask(policy, prim, inputs, params):
                if type(inputs[0]) is Var:
                    save.add(inputs[0])
            else:
                everything = False
            continue
        eqns.append((prim, inputs, params, outs))
        # (calls of custom rules and nested checkpoints decide for themselves; callbacks run
        # again, as without a policy)
        if prim in _KEPT or prim in EFFECTFUL:
            continue
        if _ask(policy, prim, inputs, params):
            save.update(outs if prim.multiple_results else (outs,))
        else:
            everything = False
    outputs = [alias.get(x, x) if type(x) is Var else x for x in fun.outputs]
    dep = {fun.in_vars[i] for i in diff}  # the values carrying tangents
    for prim, inputs, params, outs in eqns:
        if any(type(x) is Var and x in dep for x in inputs) or any(
                v in dep for v in _param_vars(params)):
            dep.update(outs if prim.multiple_results else (outs,))
    # Walking back from the outputs: ``live`` values are needed whole (primal and tangent),
    # ``tlive`` ones for their tangent only (read by a rule written from a kept output, or
    # by a tangent that reads no value).
    live = {outputs[i] for i in out_float if type(outputs[i]) is Var}
    tlive = set()
    steps, keep = [], []
    for prim, inputs, params, outs in reversed(eqns):
        many = prim.multiple_results
        results = outs if many else (outs,)
        whole = prim in EFFECTFUL or any(o in live for o in results)
        if not whole and not any(o in tlive for o in results):
            continue  # nothing the recomputation returns reads it
        tangents = any(type(x) is Var and x in dep for x in inputs) and any(
            _dt.is_float(o.aval.dtype) for o in results)
        if not whole and not tangents:
            continue  # only its tangent is read, and it has none
        if any(o in save for o in results):
            if not tangents:  # the kept values stand for it
                steps.append((_LOAD, prim, inputs, params, outs))
                keep += [o for o in results if o in live]
                continue
            if prim.jvp_from_output is not None and not many and not _param_vars(params):
                # its tangent from the kept value: of its operands, only their tangents
                steps.append((_FROM_OUT, prim, inputs, params, outs))
                keep += results
                tlive.update(x for x in inputs if type(x) is Var and x in dep)
                continue
            rule = _tangent_rule(prim, inputs, params, dep)
            if rule is not None and not any(rule.primal):
                # a tangent that reads no value (a sum, a reshape): likewise; the kept
                # value itself only where it is read
                if whole:
                    steps.append((_LINEAR, prim, inputs, rule, outs))
                    keep += results
                else:
                    steps.append((_TANGENT, prim, inputs, rule, outs))
                tlive.update(x for x, r in zip(inputs, rule.read) if r)
                continue
            steps.append((_REUSE, prim, inputs, params, outs))
            keep += results
        else:
            rule = None if whole else _tangent_rule(prim, inputs, params, dep)
            if rule is not None:  # its tangent alone, from the operands the rule reads
                steps.append((_TANGENT, prim, inputs, rule, outs))
                live.update(x for x, r in zip(inputs, rule.primal) if r)
                tlive.update(x for x, r in zip(inputs, rule.read) if r)
                continue
            steps.append((_RUN, prim, inputs, params, outs))
        live.update(x for x in inputs if type(x) is Var)
        live.update(_param_vars(params))
    steps.reverse()
    plan = _Plan()
    plan.in_vars, plan.eqns, plan.outputs = fun.in_vars, steps, outputs
    plan.keep = keep[::-1]
    plan.out_float, plan.policy, plan.everything = out_float, policy, everything
    # the variables read for the last time at each step (a kept value too, once read)
    done = {outputs[i] for i in out_float if type(outputs[i]) is Var}
    plan.last = {}
    for k in range(len(steps) - 1, -1, -1):
        action, _, inputs, params, outs = steps[k]
        reads = [] if action == _LOAD else [x for x in inputs if type(x) is Var]
        for x in reads + [v for v in (outs if steps[k][1].multiple_results else (outs,))
                          if v not in done]:
            if x not in done:
                done.add(x)
                plan.last.setdefault(k, []).append(x)
    if plan.keep:
        ext = Graph(fun.in_vars, fun.eqns, fun.outputs + plan.keep)
        plan.ext = ext, _last_uses(ext)
    return plan

# -- checkpoint_lin: the tangent map, with the inputs as its only residuals --------------------


def _lin_forward(*args, fun, n_tan, diff, out_float, out_avals, plan=None):
    """The tangent map evaluated forward (linearize's ``f_jvp``, or under another transform):
    the function's JVP at the saved inputs, recomputing its primal."""
    from .api import jvp
    tangents, primals = args[:n_tan], args[n_tan:n_tan + len(fun.in_vars)]
    g = _restricted(fun, primals, diff, out_float)
    return list(jvp(g, tuple(primals[i] for i in diff), tuple(tangents))[1])


def _lin_transpose(cts, *args, fun, n_tan, diff, out_float, out_avals, plan=None):
    """The rematerialisation: linearize the function again at its saved inputs (with the
    values a policy kept in place: see :class:`_Plan`), then run its backward pass on the
    cotangents of its outputs."""
    from .reverse import backward, linearize_flat
    n_in = len(fun.in_vars)
    primals, kept = args[n_tan:n_tan + n_in], args[n_tan + n_in:]
    present = [k for k, c in enumerate(cts) if c is not None]
    if not present:
        return [None] * len(args)
    n, m = len(diff), len(kept)

    def pullback(*xs):  # the differentiated inputs, the kept values, the cotangents present
        if not kept:  # (nothing kept: every equation runs again)
            g = _restricted(fun, primals, diff, out_float)
            _, graph = linearize_flat(lambda ys: g(*ys), list(xs[:n]))
        else:
            def g(ys):
                args = list(primals)
                for i, y in zip(diff, ys):
                    args[i] = y
                return plan.replay(args, xs[n:n + m], reuse, out_float)
            reuse = _Reuse(_current.get().interp)
            token = set_current(reuse)
            try:
                _, graph = linearize_flat(g, list(xs[:n]))
            finally:
                reset_current(token)
                reuse.active = False
        full = [None] * len(cts)
        for k, c in zip(present, xs[n + m:]):
            full[k] = c
        return backward(graph, full, consume=True)
    xs = [primals[i] for i in diff] + list(kept) + [cts[k] for k in present]
    if any(isinstance(x, Tracer) for x in (*xs, *primals)):
        # Under a transform of the backward pass itself (grad of grad): the pullback is
        # checkpointed in turn (under the same policy), so that level keeps only its inputs
        # too (and what the policy saves).
        res = checkpoint(pullback, None if plan is None else plan.policy)(*xs)
    else:
        res = pullback(*xs)
    return list(res) + [None] * (len(primals) + m)


checkpoint_lin_p.def_impl(lambda backend, *tangents, **params: _lin_forward(*tangents,
                                                                           **params))
checkpoint_lin_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))
checkpoint_lin_p.def_transpose(_lin_transpose)
checkpoint_lin_p.def_jvp_inline(_lin_forward)

# -- the transform -----------------------------------------------------------------------------


class _Staging(StagingInterpreter):
    """Staging that keeps calls of user rules (custom_jvp, custom_vjp) and of nested
    checkpoints as equations instead of inlining them: replayed under a transform, their
    rules (and the inner rematerialisation) apply as they would without checkpoint.
    ``transform`` names the caller (checkpoint, jit) in errors."""

    __slots__ = ("transform", "inlined", "lifted")

    def __init__(self, parent, inputs, transform, lift=False):
        super().__init__(parent, inputs)
        self.transform = transform
        # The first result Var of each kept custom call -> (the equations of its function,
        # staged inline, and its results): jit evaluates those where no transform is around.
        self.inlined = {}
        # With ``lift``, operations on values of enclosing transforms (tracers the function
        # closes over) are recorded too, those values becoming inputs of the graph, instead
        # of being left to the transform below: id(value) -> (its tracer here, the value).
        # The branches of a staged cond need it: what a branch computes must run only when
        # the branch is taken (sqrt of a closed-over negative x must not reach a gradient).
        self.lifted = {} if lift else None

    def process(self, prim, args, params):
        if self.lifted is not None:
            args = self._lift(args)
        if prim not in _KEPT or not any(type(a) is StagingTracer and a._interp is self
                                        for a in args):
            return super().process(prim, args, params)
        return self._kept(prim, args, params)

    def _lift(self, args):
        out = None
        for i, a in enumerate(args):
            if isinstance(a, Tracer) and type(a) is not ConstTracer and not (
                    type(a) is StagingTracer and a._interp is self):
                entry = self.lifted.get(id(a))
                if entry is None:
                    entry = self.lifted[id(a)] = (self.new_input(a.aval), a)
                if out is None:
                    out = list(args)
                out[i] = entry[0]
        return args if out is None else tuple(out)

    def _kept(self, prim, args, params):
        """Record the call of a user rule or a nested checkpoint as one equation."""
        inputs = [a._var if type(a) is StagingTracer and a._interp is self
                  else a.primal if type(a) is ConstTracer else a for a in args]
        if prim is checkpoint_call_p:
            outs = params["fun"].outputs
        else:
            saved, self.eqns = self.eqns, []
            try:  # the inlined call, only for the shapes of its results
                outs = prim.inline(*args, **params)
                scratch = self.eqns
            finally:
                self.eqns = saved
            _check_closure(self, prim, params, inputs, scratch, outs)
            if any(type(a) is StagingTracer and a._interp is self and a._var is not v
                   for a, v in zip(args, inputs)):
                fun = params["fun"]
                raise TypeError(
                    f"{prim.name.removesuffix('_call')} function "
                    f"{getattr(fun, '__name__', fun)!r}, called inside a function given to "
                    f"{self.transform}, assigns into one of its array arguments (x[...] = v): "
                    f"the recorded call could not replay that change. Assign into a copy "
                    f"(fnp.asarray(x, copy=True)) and return it.")
        out_vars = [Var(o.aval if type(o) is Var else get_aval(o)) for o in outs]
        if prim is not checkpoint_call_p and out_vars:
            self.inlined[out_vars[0]] = (scratch, outs)
        self.eqns.append((prim, inputs, params, out_vars))
        # A Python-scalar result stays one (weakly typed, concrete), as without checkpoint.
        return [o if type(o) in _SCALAR_DTYPES else StagingTracer(self, v)
                for o, v in zip(outs, out_vars)]


def _check_closure(interp, prim, params, inputs, scratch, outs):
    """Refuse a custom function that reads a value of the checkpointed function other than
    its arguments (a closure): the recorded call would meet that value's tracer when
    replayed, after staging has ended."""
    known = {x for x in inputs if type(x) is Var}
    for _, ins, _, outputs in scratch:
        if any(type(x) is Var and x not in known for x in ins):
            break
        known.update(outputs if type(outputs) is list else [outputs])
    else:
        if not any(type(o) is StagingTracer and o._interp is interp and o._var not in known
                   for o in outs):
            return
    fun, transform = params["fun"], interp.transform
    raise CustomRuleError(
        f"{prim.name.removesuffix('_call')} function {getattr(fun, '__name__', fun)!r}, "
        f"called inside a function given to {transform}, closes over a value of that "
        f"function (an argument or an intermediate) instead of taking it as an argument: "
        f"{transform} records the call to replay it with its rule, and a closed-over value "
        f"cannot be replayed. Pass the value to it as an argument.")


CONSTANT_INTERPRETERS.add(_Staging)  # (jit's: constants made inside are tracers too)


def _static(x):
    """Whether an argument leaf is passed as it is rather than traced: Python numbers, and
    anything that is not an array (a string, a mode flag...)."""
    return type(x) in _SCALAR_DTYPES or not (
        isinstance(x, Tracer)
        # a dtype (np.float32, np.dtype('f4')) has a shape attribute but is no array
        or (not isinstance(x, type) and hasattr(x, "shape") and hasattr(x, "dtype")))


def _stage(fun, leaves, in_tree, name, transform="checkpoint", check_output=None, like=None,
           lift=False):
    """Stage ``fun`` on the array leaves of ``(args, kwargs)`` (others are passed as they
    are): a graph whose inputs are those leaves followed by everything the function closes
    over (captured arrays, tracers of enclosing transforms), and the captured values.
    A leaf may also be a :class:`ShapedArray` (an input known by its shape and dtype only);
    ``like``, an array or tracer, then gives the device of the staged values.
    ``transform`` names the caller in errors; ``check_output(leaf, name)`` is called on each
    result leaf that is neither an array nor a Python number. ``lift``: record operations on
    the tracers ``fun`` closes over too (see ``_Staging``)."""
    why = _WHY[transform]
    source = [like] if like is not None else [
        x for x in leaves if not _static(x) and type(x) is not ShapedArray][:1]
    interp = _Staging(_current.get().interp, source, transform, lift)
    args, in_vars, tracers = [], [], []
    for x in leaves:
        if _static(x):
            args.append(x)
        else:
            t = interp.new_input(x if type(x) is ShapedArray else get_aval(x))
            in_vars.append(t._var)  # read now: item assignment re-points a tracer
            tracers.append(t)
            args.append(t)
    token = set_current(interp)
    try:
        a, kw = tree_unflatten(in_tree, args)
        out = fun(*a, **kw)
    except ConcretizationError as e:
        raise ConcretizationError(f"{transform} of {name}: {why[0]}, and {e.message}"
                                  f"{why[2]}") from None
    finally:
        reset_current(token)
        interp.active = False
        interp.device_source = None  # a caller's array: not kept alive with the graph
    if any(t._var is not v for t, v in zip(tracers, in_vars)):
        # x[i] = v on an argument: without checkpoint the caller's array (or tracer) would
        # change too, which a replayed graph cannot do.
        raise TypeError(f"{transform} of {name}: the function assigns into one of its "
                        f"array arguments (x[...] = v), which the caller would not see{why[1]}. "
                        f"Assign into a copy instead (fnp.asarray(x, copy=True)), and return "
                        f"it.")
    out_leaves, out_tree = tree_flatten(out)
    captured, slots, const_vars = [], {}, []
    for tracer, value in (interp.lifted or {}).values():  # closed-over tracers, lifted
        slots[id(value)] = len(captured)
        captured.append(value)
        const_vars.append(tracer._var)

    def rename(x):
        if type(x) is Var or type(x) in _SCALAR_DTYPES:
            return x
        if type(x) is StagingTracer and x._interp is interp:
            return x._var
        if type(x) is ConstTracer:  # (a result made inside: the graph keeps the array)
            x = x.primal
        i = slots.get(id(x))
        if i is None:
            i = slots[id(x)] = len(captured)
            captured.append(x)
            const_vars.append(Var(get_aval(x)))
        return const_vars[i]
    eqns = [(prim, [rename(x) for x in inputs], params, outputs)
            for prim, inputs, params, outputs in interp.eqns]
    # Outputs that are neither arrays nor Python numbers (a string, a flag passed through)
    # are returned as they are, outside the graph.
    kept = [i for i, x in enumerate(out_leaves) if type(x) in _SCALAR_DTYPES or not _static(x)]
    if check_output is not None:
        for i, x in enumerate(out_leaves):
            if x is not None and i not in kept:
                check_output(x, name)
    outputs = [rename(out_leaves[i]) for i in kept]
    graph = Graph(in_vars, eqns, outputs)
    # Only where it calls a custom function does the graph without calls differ from it.
    primal = _primal_graph(interp, rename, outputs) if _has_custom(graph) else None
    graph.in_vars += const_vars  # (after the primal graph's constants have their inputs too)
    if primal is not None:
        graph.primal = Graph(graph.in_vars, *primal)
    interp.inlined = {}  # (its tracers refer back to the interpreter: no cycle left)
    interp.lifted = None
    for i in kept:
        out_leaves[i] = None  # (rebuild fills these in; it should not keep the tracers)

    def rebuild(outs):
        leaves = list(out_leaves)
        for i, o in zip(kept, outs):
            leaves[i] = o
        return out_tree.unflatten(leaves)
    return graph, captured, rebuild


def _primal_graph(interp, rename, outputs):
    """The staged equations with each kept custom call replaced by the equations of its
    function (staged inline when the call was recorded): what the call computes where no
    transform is around, with what the function closes over as constants of the graph."""
    alias, eqns = {}, []

    def expand(recorded):
        for eqn in recorded:
            prim, inputs, params, outs = eqn
            if prim is checkpoint_call_p:  # its own primal graph, inlined with fresh names
                results = _inline_primal(params["fun"], inputs, eqns)
            else:
                found = interp.inlined.get(outs[0]) if prim.multiple_results and outs else None
                if found is None:
                    eqns.append(eqn)
                    continue
                scratch, results = found
                expand(scratch)
                results = [o._var if type(o) is StagingTracer and o._interp is interp else o
                           for o in results]
            alias.update(zip(outs, results))

    def resolve(x):
        while type(x) is Var and x in alias:
            x = alias[x]
        return rename(x)

    expand(interp.eqns)
    eqns = [(prim, [resolve(x) for x in inputs], params, outs)
            for prim, inputs, params, outs in eqns]
    return eqns, [resolve(x) for x in outputs]


def _inline_primal(graph, operands, out):
    """Append the equations of ``graph``'s primal graph (``graph`` itself where it calls no
    custom function) to ``out``, its inputs standing for ``operands``, under fresh variables
    (a graph may be inlined more than once); returns its outputs, renamed."""
    env = dict(zip(graph.in_vars, operands))

    def get(x):
        return env.get(x, x) if type(x) is Var else x
    src = getattr(graph, "primal", graph)
    for prim, inputs, params, outs in src.eqns:
        ins = [get(x) for x in inputs]
        if prim is checkpoint_call_p:
            env.update(zip(outs, _inline_primal(params["fun"], ins, out)))
            continue
        if prim.multiple_results:
            new = [Var(o.aval) for o in outs]
            env.update(zip(outs, new))
        else:
            new = env[outs] = Var(outs.aval)
        out.append((prim, ins, params, new))
    return [get(x) for x in src.outputs]


def _fresh(outs, arguments, captured_ids, fills=False):
    """``outs`` with a copy in place of every array that is, or views the memory of, an
    argument, one the graph keeps (made while staging, or closed over), or an earlier output:
    the graph cannot tell ``return x`` from ``return fnp.asarray(x, copy=True)``, nor two
    equal ``zeros_like`` that pruning made one, and NumPy's and torch's reshape, flip and
    slices are views, so results are always arrays of their own (0-d arrays, not NumPy
    scalars), which the caller may write into.

    ``fills`` (a cond's results, inside a graph): a read-only NumPy view of one element
    (every stride 0: a broadcast) is returned as it is, whatever it views; no one can write
    into it, and a copy is a pass over the whole array (a cond's residual slots of zeros,
    see control_flow._cond_partial). Where such a result leaves the graph, the caller's own
    _fresh copies it (its memory is an argument's or a constant's there too)."""
    seen = None  # the ids of earlier outputs' memory (captured_ids: see _kept_ids)
    arg_roots = None
    for i, o in enumerate(outs):
        backend = _by_type_get(type(o))
        if backend is None:
            if type(o) in _SCALAR_DTYPES or isinstance(o, Tracer):
                continue
            backend = backend_of(o)
        k = root = id(o)
        if type(o) is not _np.ndarray or o.base is not None:
            root = id(_memory_root(o))
            if fills and type(o) is _np.ndarray and o.ndim and not o.flags.writeable \
                    and not any(o.strides):  # (a broadcast of one element: see above)
                if seen is None:
                    seen = set()
                seen.add(root)  # (a later output in its memory is copied)
                continue
        dup = k in captured_ids or (seen is not None and root in seen)
        if not dup:
            if root == k:  # (its own memory: only the argument itself shares it)
                for a in arguments:  # (few: compared directly rather than put in a set)
                    if a is o:
                        dup = True
                        break
            else:  # a view: of an argument's memory, or of one the graph keeps?
                if arg_roots is None:
                    arg_roots = {id(_memory_root(a)) for a in arguments
                                 if _by_type_get(type(a)) is not None}
                dup = root in arg_roots or root in captured_ids
        if dup:
            o = outs[i] = backend.copy(o)
            if not o.shape:  # (a NumPy scalar argument or constant: a 0-d array too)
                outs[i] = backend.as_array(o)
        else:
            if not o.shape:  # a NumPy scalar from a reduction: a 0-d array
                o = outs[i] = backend.as_array(o)
                root = id(o)
            if seen is None:
                seen = set()
            seen.add(root)
    return outs


def _kept_ids(captured):
    """The ids of the arrays a graph keeps and of the memory they view, for :func:`_fresh`."""
    return frozenset([*map(id, captured), *(id(_memory_root(c)) for c in captured
                                            if _by_type_get(type(c)) is not None)])


# What each staging caller does, for its errors: (why it stages, why an assignment into an
# argument cannot be replayed, what to do about control flow on values).
_WHY = {
    "checkpoint": ("the function is staged to record what to recompute", "", ""),
    "jit": ("the function is staged once per signature of its arguments (shapes, dtypes, "
            "Python numbers and other non-array values), and later calls run the graph",
            " when the graph runs again",
            " A value that steers control flow can be passed as a Python number or made "
            "static (static_argnums), or the control flow written with functrans.lax (cond, "
            "while_loop, fori_loop, scan); otherwise call the function without jit."),
    "closure_convert": ("the function is staged on its example arguments' shapes to find "
                        "the values it closes over", "",
                        " Use functrans.lax (cond, while_loop, fori_loop, scan) for control "
                        "flow on values, or pass the closed-over values as arguments."),
}


# -- reusing plans: one graph object per staged structure ---------------------------------------
# Each call stages the function again: what it closes over is read afresh (an array rebound
# or changed in place between calls is seen). Only what is derived from the graph's structure
# is reused: a call staging a graph equal to a cached one in everything evaluation reads
# (input shapes, dtypes and weak types, the primitives, how they are wired, their parameters,
# the Python numbers) gets the cached graph object itself, and with it the plans cached on it
# (see _plan), the rematerialisation's choices under a policy. The graph holds no data: the
# arrays it reads are its inputs, passed at each call. The interpreters around the call do not
# enter: a plan only reads the graph and the policy, and applies under any transform.
CACHE_SIZE = 128      # staged graphs kept (0: stage and plan at every call, caching nothing)
PLANS_PER_GRAPH = 8   # plans kept per graph (policies, differentiated inputs)

_graphs: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
_ATOMS = frozenset((int, float, complex, bool, str, bytes, type(None), type(Ellipsis)))
_BY_IDENTITY = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                functools.partial, Primitive, _dt.DType, type)


class _Uncacheable(Exception):
    pass


def _signature(graph):
    """A hashable description of ``graph``, equal for two graphs only where evaluating them
    on the same inputs does the same: input and result shapes, dtypes and weak types, each
    equation's primitive, operands (by position, or the Python number) and parameters, the
    outputs. Raises :class:`_Uncacheable` where the graph holds something not described so
    (an array, a variable or a tracer in an equation or its parameters, a custom function's
    primal graph, a parameter of an unknown kind)."""
    if type(graph) is not Graph or set(vars(graph)) - _GRAPH_FIELDS or (
            graph.in_tree is not None or graph.out_tree is not None):
        raise _Uncacheable
    num = {}

    def number(v):
        num[v] = len(num)
        a = v.aval
        return a.shape, a.dtype, a.weak_type

    def operand(x):
        if type(x) is Var:
            return num[x]  # (a KeyError, a variable from elsewhere, is uncacheable too)
        if type(x) in _SCALAR_DTYPES:
            return type(x), repr(x)
        raise _Uncacheable
    ins = tuple([number(v) for v in graph.in_vars])
    eqns = []
    for prim, inputs, params, outs in graph.eqns:
        key = (prim, tuple([operand(x) for x in inputs]),
               tuple([(k, _param_key(v)) for k, v in sorted(params.items())]),
               tuple([number(o) for o in outs]) if prim.multiple_results else number(outs))
        eqns.append(key)
    return ins, tuple(eqns), tuple([operand(x) for x in graph.outputs])


_GRAPH_FIELDS = frozenset(("input_names", "in_vars", "eqns", "outputs", "in_tree", "out_tree",
                           "_plans", "_programs"))


def _param_key(v):
    """An equation parameter as part of a :func:`_signature` (functions, primitives and
    dtypes by identity: the key holds them, so no other object takes their id)."""
    t = type(v)
    if t in _ATOMS:
        return t, repr(v)
    if t is tuple or t is list:
        return t, tuple([_param_key(x) for x in v])
    if t is dict:
        try:
            return t, tuple(sorted((k, _param_key(x)) for k, x in v.items()))
        except TypeError:  # (keys that do not sort)
            raise _Uncacheable from None
    if t is slice:
        return t, _param_key(v.start), _param_key(v.stop), _param_key(v.step)
    if t is Graph:  # a nested graph (a nested checkpoint's, a branch of cond...)
        return t, _signature(v)
    if t is _np.dtype or isinstance(v, _BY_IDENTITY):
        return t, v
    raise _Uncacheable


def _intern(graph, library):
    """The cached graph of ``graph``'s signature for arrays of ``library`` (the type of the
    concrete arrays), or ``graph`` itself, now cached (the least recently used dropped past
    ``CACHE_SIZE``); ``graph`` where it cannot be described."""
    if CACHE_SIZE <= 0:
        return graph
    try:
        key = (library, _signature(graph))
        with _cache_lock:
            hit = _graphs.get(key)
            if hit is not None:
                _graphs.move_to_end(key)
                return hit
            _graphs[key] = graph
    except (_Uncacheable, KeyError, TypeError):  # (TypeError: a parameter not hashable)
        return graph
    with _cache_lock:
        while len(_graphs) > CACHE_SIZE:
            _graphs.popitem(last=False)
    return graph


def _library(values):
    """The backend (else the type) of the concrete array behind the first of ``values`` that
    has one: NumPy's arrays and functrans.numpy's AtArray (made by fnp.zeros, fnp.eye...)
    share their plans."""
    from .numpy._base import _concrete_value
    for v in values:
        c = _concrete_value(v)
        if c is not None:
            t = type(c)
            return _by_type_get(t) or t
    return None


def clear_cache():
    """Forget every cached graph and plan (``functrans.checkpointing.clear_cache()``)."""
    with _cache_lock:
        _graphs.clear()


def checkpoint(fun, policy=None):
    """``fun`` rematerialised in reverse mode: its intermediates are not kept for the
    backward pass but recomputed when the pass reaches it (``jax.checkpoint``, also known as
    ``remat``).

    Values are unchanged, and so are all derivatives, to any order and under every
    transform; what changes is when the work is done. Under ``grad``/``vjp``/``jacrev`` only
    ``fun``'s inputs (and the arrays it closes over) are kept, and its operations run a second
    time during the backward pass. Wrap the blocks of a long computation to keep the peak
    memory of its gradient to about one block's intermediates; under a transform of the
    backward pass itself (``grad`` of ``grad``) the block's pullback is checkpointed in turn.

    ``policy`` (see :mod:`functrans.checkpoint_policies`), a function
    ``policy(prim, *input_avals, **params) -> bool``, keeps more: the results of the
    primitives it answers True for are kept from the forward pass, and the recomputation
    uses them instead of running those primitives again (nor what only they needed). A
    kept value whose derivative is written from it (``tanh``, ``exp``, ``sqrt``...) spares
    its operands' recomputation too: keeping ``tanh(x @ W)`` does not run ``x @ W`` again.

    Each call stages ``fun`` (as ``make_graph`` does) to record the operations to replay, so
    ``fun`` runs once per call, under every transform, and it cannot branch in Python on the
    values of its array arguments (use ``functrans.numpy.where``); Python numbers and other
    non-array arguments (strings, flags) are passed as they are and may steer control flow.
    Keyword arguments are handled like positional ones. What ``fun`` closes over is read at
    every call; with a policy, what is derived from the staged operations alone (the
    policy's answers, which results to keep and what to recompute) is reused by later calls
    that stage the same operations on the same shapes and dtypes, so a policy should answer
    from its arguments only (``functrans.clear_caches()`` forgets those plans).

    Example:
        >>> block = ft.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
        >>> ft.grad(lambda x: fnp.sum(block(block(x))))(fnp.asarray([0.5, 1.0]))
        array([0.62933451, 0.20593521])
        >>> keep = ft.checkpoint(lambda x: fnp.sin(x @ x),  # x @ x kept, not recomputed
        ...                      policy=ft.checkpoint_policies.dots_saveable)
        >>> ft.grad(lambda x: fnp.sum(keep(x)))(fnp.asarray([[0.5, 1.0], [0.0, 2.0]]))
        array([[ 0.16776881, -2.00285904],
               [ 2.8152688 , -3.4157181 ]])
    """
    check_function(fun, "checkpoint")
    if policy is not None and not callable(policy):
        raise TypeError(f"checkpoint: policy must be None or a function (see "
                        f"functrans.checkpoint_policies); got {policy!r}.")
    name = getattr(fun, "__name__", repr(fun))
    extra = {} if policy is None else {"policy": policy}

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        leaves, in_tree = tree_flatten((args, kwargs))
        graph, captured, rebuild = _stage(fun, leaves, in_tree, name)
        arrays = [x for x in leaves if not _static(x)]
        operands = _read_operands(graph, arrays + captured)
        if policy is not None:  # (without a policy there is no plan to reuse)
            graph = _intern(graph, _library(operands))
        outs = checkpoint_call_p.bind(*operands, fun=graph, **extra)
        return rebuild(_fresh(list(outs), arrays, _kept_ids(captured)))
    return checkpointed


remat = checkpoint


def _vars_in(values, found):
    """Add to ``found`` the graph variables among ``values`` (equation parameters: residuals
    kept as parameters, at any depth of tuples, lists and dicts; a staging tracer stands for
    its variable), as ``api._param_vars`` finds them, without flattening every tuple."""
    for v in values:
        t = type(v)
        if t is Var:
            found.add(v)
        elif t is StagingTracer:
            found.add(v._var)
        elif t is tuple or t is list:
            if v and type(v[0]) not in _ATOMS or any(type(e) not in _ATOMS for e in v):
                _vars_in(v, found)
        elif t is dict:
            _vars_in(v.values(), found)


def _read_operands(graph, operands):
    """The operands of the staged ``graph`` that it reads, its inputs narrowed to those (in
    place): an argument the function never reads is no input of the call, so that no
    transform keeps it (reverse mode would keep it as a residual of the backward pass, for
    nothing; its cotangent is a zero, as for any argument the output does not depend on)."""
    read = read_vars(graph)
    primal = getattr(graph, "primal", None)
    if primal is not None:
        read |= read_vars(primal)
    if all(v in read for v in graph.in_vars):
        return operands
    for g in (graph,) if primal is None else (graph, primal):
        for _, _, params, _ in g.eqns:
            if params:
                _vars_in(params.values(), read)
    used = [i for i, v in enumerate(graph.in_vars) if v in read]
    if len(used) == len(operands):
        return operands
    graph.in_vars = [graph.in_vars[i] for i in used]
    if primal is not None:
        primal.in_vars = list(graph.in_vars)
    return [operands[i] for i in used]

from .custom import custom_jvp_call_p, custom_vjp_call_p  # noqa: E402
from .reverse import _memory_root  # noqa: E402

_KEPT = {checkpoint_call_p, custom_jvp_call_p, custom_vjp_call_p}
