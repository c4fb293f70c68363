"""The IR: a function's evaluation trace as a list of equations over variables.

This is the seeds' Wengert list — ``v3 = mul v1 v2; v4 = sin v2; ...`` — built by the staging
interpreter, printed readably, and evaluated by :func:`eval_graph`. Reverse mode transposes the
linear graphs that ``linearize`` stages (see :mod:`functrans.reverse`).
"""

from __future__ import annotations

import math

from . import dtypes as _dt
from .core import EvalInterpreter, ShapedArray, _current, bind
from .dtypes import DType as _DType


# Primitives with an effect (a callback run for what it does): staged equations of theirs are
# never dropped by :func:`prune` for having no reader, nor merged with an equal one.
EFFECTFUL: set = set()

# Primitive -> ``f(params)``, the parameters as printed (make_graph, make_jaxpr), for a
# primitive whose parameters hold bookkeeping no reader needs (linear_call's trees and box).
PRINTED_PARAMS: dict = {}


class Var:
    """A variable of a graph; identity is what names it."""

    __slots__ = ("aval", "__weakref__")

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var<{self.aval.str_short()}>"


# An equation is the tuple ``(prim, inputs, params, outputs)``: ``outputs = prim(*inputs,
# **params)``. An input is a Var or a constant (a concrete array, a Python scalar, or a tracer
# of an enclosing transform); ``outputs`` is one Var, or a list of Vars for primitives with
# several results. A plain tuple because staging builds one per traced operation.


class Graph:
    """A staged function: ``outputs = eqns(in_vars)``. ``outputs`` holds Vars or constants.
    ``in_tree``/``out_tree`` (optree tree specs) describe the pytrees at the user's edge."""

    def __init__(self, in_vars, eqns, outputs, in_tree=None, out_tree=None, input_names=None):
        # (reverse.linearize_flat sets these attributes itself, without this frame)
        self.input_names = input_names
        self.in_vars = list(in_vars)
        self.eqns = eqns
        self.outputs = list(outputs)
        self.in_tree = in_tree
        self.out_tree = out_tree

    def __call__(self, *args):
        """Evaluate the graph on flat arguments (also under transforms)."""
        return eval_graph(self, args)

    def __str__(self):
        return format_graph(self, self.input_names)

    __repr__ = __str__


def eval_graph(graph: Graph, args, last=None) -> list:
    """Run each equation with ``bind``, so that evaluating a graph is itself transformable.

    A value is dropped after its last use, so that the memory of intermediates is reused as
    the evaluation goes rather than all held to the end. Evaluated directly (no transform
    above), large results are computed into the memory of values that died, where the
    library allows it (see :mod:`functrans.buffers`). ``last`` is ``_last_uses(graph)``,
    for callers that evaluate one graph many times.
    """
    if len(args) != len(graph.in_vars):
        raise TypeError(f"this graph takes {len(graph.in_vars)} inputs; got {len(args)}")
    env = dict(zip(graph.in_vars, args))
    if type(_current.get().interp) is EvalInterpreter and buffers.ENABLED:
        return _eval_reusing(graph, env, last)
    if last is None:
        last = _last_uses(graph)
    for i, (prim, inputs, params, outputs) in enumerate(graph.eqns):
        if prim in EFFECTFUL:
            out = _run_effect(prim, inputs, params, env)
        else:  # (no local list of the inputs: it would keep dying arrays alive past retire)
            out = bind(prim, *[env[x] if type(x) is Var else x for x in inputs], **params)
        if prim.multiple_results:
            env.update(zip(outputs, out))
        else:
            env[outputs] = out
        for x in last.get(i, ()):
            del env[x]
    return [env[x] if type(x) is Var else x for x in graph.outputs]


def _run_effect(prim, inputs, params, env):
    # (no traced operand: recorded by a jit around, not run)
    from .callbacks import _bind_effect
    return _bind_effect(prim, [env[x] if type(x) is Var else x for x in inputs], params)


def _eval_reusing(graph, env, last):
    """eval_graph at the bottom of the stack, with memory reuse, by the graph's plan."""
    steps, produced, lent = _plan(graph, last)
    evaluate_into, retire = buffers.evaluate_into, buffers.retire
    for prim, inputs, params, outputs, kind, dying, dies, multiple in steps:
        out = None
        if kind:
            if kind == _MATMUL_ADD:  # (params: what _fuse_matmul_add kept)
                out = _matmul_add(params, env, produced)
            else:
                out = evaluate_into(prim, inputs, params, outputs, env, dying, produced, kind)
        if out is None:
            if prim in EFFECTFUL:
                out = _run_effect(prim, inputs, params, env)
            else:
                out = bind(prim, *[env[x] if type(x) is Var else x for x in inputs], **params)
        if multiple:
            env.update(zip(outputs, out))
        else:
            env[outputs] = out
        for x, computed in dies:
            if computed:  # (only a value computed here may be reused: never an input's)
                retire(env, x)
            del env[x]
    for x in lent:
        buffers.lend(env, x)
    return [env[x] if type(x) is Var else x for x in graph.outputs]


def _plan(graph: Graph, last=None):
    """How to evaluate ``graph`` with memory reuse, worked out once per graph and kept on it
    for its next evaluations (made again should its equations, outputs, the size threshold
    or the caller's ``last`` have changed): one step per equation, ``(prim, inputs, params,
    outputs, reuse kind, dying variables, ((variable, computed here?) for each), several
    results?)``; the set of the variables the equations compute (the only values that may be
    reused; each is computed before any equation reads it); and the outputs to lend."""
    eqns = graph.eqns
    outputs = tuple(map(id, graph.outputs))  # (ids: a constant output may be an array)
    plan = getattr(graph, "_eval_plan", None)
    if (plan is not None and plan[2] is eqns and plan[3] == len(eqns)
            and plan[4] == outputs and plan[5] == buffers.MIN_BYTES and plan[6] is last):
        return plan[0], plan[1], plan[7]
    uses = _last_uses(graph) if last is None else last
    produced = set()
    for prim, _, _, out in eqns:
        if prim.multiple_results:
            produced.update(out)
        else:
            produced.add(out)
    produced = frozenset(produced)
    steps = []
    for i, (prim, inputs, params, out) in enumerate(eqns):
        dying = tuple(uses.get(i, ()))
        steps.append((prim, inputs, params, out, buffers.reuse_kind(prim, params, out), dying,
                      tuple((x, x in produced) for x in dying), prim.multiple_results))
    steps = _fuse_matmul_add(eqns, steps, produced)
    lent = tuple(dict.fromkeys(x for x in graph.outputs if type(x) is Var and x in produced))
    graph._eval_plan = (steps, produced, eqns, len(eqns), outputs, buffers.MIN_BYTES, last,
                        lent)
    return steps, produced, lent


_MATMUL_ADD = -1  # a step's reuse kind: a matrix product added into a sum, one BLAS call


def _fuse_matmul_add(eqns, steps, produced):
    """``steps`` with each product ``p = matmul(a, b)`` that the next equation adds to a sum
    ``s = add(acc, p)`` (and nothing else reads) made one step: ``a @ b`` added into
    ``acc``'s array by one BLAS call (gemm with beta = 1: numpy_backend.matmul_add_into,
    which gives the bits of the product and the add or declines) where, when it runs, only
    the evaluation holds ``acc``, which dies there and owns its memory. The weight of a
    recurrence in a staged gradient (``jit(grad(rnn))``) sums such products at every step,
    each a fresh array and a pass over it otherwise (eager reverse mode fuses them the same
    way: reverse._matmul_into)."""
    from .backends.numpy_backend import _GEMM_MAX_K
    from .primitives.elementwise import add_p
    from .primitives.linalg import matmul_p
    out, i, n = [], 0, len(steps)
    while i < n:
        if (steps[i][0] is matmul_p and i + 1 < n and steps[i + 1][0] is add_p
                and steps[i + 1][4]):  # (the sum is large enough to reuse memory for)
            _, (a, b), _, p = eqns[i]
            ins, s = eqns[i + 1][1], eqns[i + 1][3]
            dying = steps[i + 1][5]
            acc = ins[1] if ins[0] is p else ins[0]
            shape = p.aval.shape
            if (len(ins) == 2 and ins[0] is not ins[1] and p in ins and p in dying
                    and type(acc) is Var and acc in dying and acc in produced
                    and acc is not a and acc is not b and len(shape) == 2
                    and acc.aval.shape == shape == s.aval.shape
                    and acc.aval.dtype == p.aval.dtype == s.aval.dtype
                    and p.aval.dtype.name in ("float32", "float64")
                    and type(a) is Var and len(a.aval.shape) == 2
                    and 2 <= a.aval.shape[1] <= _GEMM_MAX_K):
                dies = steps[i][6] + tuple(d for d in steps[i + 1][6] if d[0] is not p)
                out.append((add_p, ins, (steps[i], steps[i + 1], acc, a, b, p), s,
                            _MATMUL_ADD, (), dies, False))
                i += 2
                continue
        out.append(steps[i])
        i += 1
    return out


def _matmul_add(fused, env, produced):
    """The sum of a step of ``_fuse_matmul_add``: ``a @ b`` added into ``acc``'s array where
    that is safe and gives the same bits, else the two equations as they would run."""
    first, second, acc, a, b, p = fused
    if buffers._holders(env, acc) == buffers._ENV_ONLY:  # (before a local holds it too)
        c = env[acc]
        x = env[a] if type(a) is Var else a
        y = env[b] if type(b) is Var else b
        if (type(c) is _ndarray and type(x) is _ndarray and type(y) is _ndarray
                and c.flags.owndata and _matmul_add_into(c, x, y)):
            return c
    for prim, inputs, params, outputs, kind, dying, _, _ in (first, second):
        out = None
        if kind:
            out = buffers.evaluate_into(prim, inputs, params, outputs, env, dying, produced,
                                        kind)
        if out is None:
            out = bind(prim, *[env[x] if type(x) is Var else x for x in inputs], **params)
        env[outputs] = out
    del env[p]  # (the product dies with the sum; the sum's own step stores it)
    return env.pop(second[3])


def _last_uses(graph: Graph) -> dict:
    """Equation index -> the variables no later equation or output reads."""
    done = {x for x in graph.outputs if type(x) is Var}
    last = {}
    for i in range(len(graph.eqns) - 1, -1, -1):
        for x in graph.eqns[i][1]:
            if type(x) is Var and x not in done:
                done.add(x)
                last.setdefault(i, []).append(x)
    return last


def _fmt_param(v):
    if isinstance(v, Graph):  # a control-flow primitive's branch or body, indented
        return format_graph(v).replace("\n", "\n    ")
    if isinstance(v, tuple) and v and all(isinstance(g, Graph) for g in v):
        return "(" + ", ".join(_fmt_param(g) for g in v) + ")"
    if isinstance(v, tuple) and any(isinstance(s, slice) for s in v):
        return "(" + ", ".join(f"{s.start}:{s.stop}:{s.step}" if isinstance(s, slice) else str(s)
                               for s in v) + ")"
    if isinstance(v, _DType):  # (callable, as fnp.float64(3) is, but named by .name)
        return v.name
    if callable(v):
        return getattr(v, "__name__", type(v).__name__)
    if isinstance(v, ShapedArray):
        return v.str_short()
    return repr(v) if isinstance(v, str) else str(v)


def format_graph(graph: Graph, input_names=None) -> str:
    """The evaluation trace, one equation per line, variables numbered v1, v2, ... in order of
    creation as in the seeds: inputs first, then each equation's results."""
    names = {}
    lines = []

    def name(x):
        if type(x) is Var:
            return names[x]
        if isinstance(x, (bool, int, float, complex)):
            return repr(x)
        aval = getattr(x, "shape", None)
        return f"const{tuple(aval) if aval is not None else ''}"

    def new(v):
        names[v] = f"v{len(names) + 1}"
        return names[v]

    width = 0
    rows = []
    for i, v in enumerate(graph.in_vars):
        label = input_names[i] if input_names else f"x{i + 1}"
        rows.append((f"{new(v)}: {v.aval.str_short()}", label))
    for prim, inputs, params, outputs in graph.eqns:
        outs = outputs if prim.multiple_results else [outputs]
        lhs = " ".join(f"{new(v)}: {v.aval.str_short()}" for v in outs)
        rhs = " ".join([prim.name] + [name(x) for x in inputs])
        if prim in PRINTED_PARAMS:
            params = PRINTED_PARAMS[prim](params)
        if params:
            rhs += "  [" + ", ".join(f"{k}={_fmt_param(v)}" for k, v in params.items()) + "]"
        rows.append((lhs, rhs))
    width = max((len(r[0]) for r in rows), default=0)
    for lhs, rhs in rows:
        lines.append(f"  {lhs.ljust(width)} = {rhs}")
    outs = ", ".join(name(x) for x in graph.outputs)
    return "\n".join(["graph {"] + lines + [f"  return {outs}", "}"])


def prune(graph: Graph) -> Graph:
    """The graph without the equations its outputs do not need, and with repeated equations
    (the same primitive, inputs and parameters) computed once.

    Differentiating a function eagerly computes values nobody reads: ``hvp`` discards the loss,
    its tangent and the gradient itself, and nested rules recompute the same products at each
    level. Staged, both are visible, and removing them removes whole passes over the arrays.
    """
    # Repeated equations first, forwards: an equation's inputs are renamed to the first
    # occurrence of what they repeat, so repeats of repeats are found too.
    alias, seen, eqns = {}, {}, []
    for eqn in graph.eqns:
        prim, inputs, params, outputs = eqn
        if alias:
            inputs = tuple(alias.get(x, x) if type(x) is Var else x for x in inputs)
            eqn = (prim, inputs, params, outputs)
        key = _eqn_key(prim, inputs, params)
        first = seen.get(key) if key is not None else None
        if first is None:
            if key is not None:
                seen[key] = outputs
            eqns.append(eqn)
        elif prim.multiple_results:
            alias.update(zip(outputs, first))
        else:
            alias[outputs] = first
    outs = [alias.get(x, x) if type(x) is Var else x for x in graph.outputs]
    # Then the dead ones, backwards from the outputs; a primitive with several results of
    # which one is read becomes the primitive computing that one, where there is one.
    live = {x for x in outs if type(x) is Var}
    kept, projected = [], False
    for eqn in reversed(eqns):
        prim, inputs, params, outputs = eqn
        if prim in EFFECTFUL:
            pass
        elif prim.multiple_results:
            read = [i for i, v in enumerate(outputs) if v in live]
            if not read:
                continue
            if len(read) == 1 and prim.project is not None:
                single = prim.project(read[0], **params)
                if single is not None:
                    eqn = (single[0], inputs, single[1], outputs[read[0]])
                    projected = True
        elif outputs not in live:
            continue
        live.update(x for x in inputs if type(x) is Var)
        kept.append(eqn)
    kept.reverse()
    kept = _fold_scales(kept, outs)
    pruned = Graph(graph.in_vars, kept, outs, graph.in_tree, graph.out_tree, graph.input_names)
    # A projected equation may repeat another (sin, beside a sin_cos read for its sin): once
    # more, to merge it (projected equations have one result, so this ends).
    return prune(pruned) if projected else pruned


def _fold_scales(eqns, outs):
    """``eqns`` with each ``neg z`` and ``z * c`` (``c`` a Python power of two) read by
    nothing but one operand of a mul_add folded into that term's coefficient: one pass over
    the array fewer, and bit for bit the same (see mul_add's ``coef``). Derivatives stage
    both (the cosine's tangent ``-sin``, ``x * x``'s ``2 x``) beside the product rule's sum."""
    scaled = {}
    for prim, inputs, params, outputs in eqns:
        name = prim.name
        if params or (name != "neg" and name != "mul"):
            continue
        if name == "neg":
            z, c = inputs[0], -1.0
        else:
            z, c = inputs
            if type(z) is not Var:
                z, c = c, z
            if type(c) not in (float, int) or not _coef_term(c):
                continue
        if type(z) is Var and z.aval == outputs.aval and _dt.is_inexact(z.aval.dtype):
            scaled[outputs] = (z, float(c))
    if not scaled:
        return eqns
    uses = {}
    for eqn in eqns:
        for x in eqn[1]:
            if type(x) is Var:
                uses[x] = uses.get(x, 0) + 1
    for x in outs:
        if type(x) is Var:
            uses[x] = uses.get(x, 0) + 2  # (an output is never folded away)
    folded, new = set(), []
    for eqn in eqns:
        prim, inputs, params, outputs = eqn
        if prim.name == "mul_add" and any(type(x) is Var and x in scaled for x in inputs):
            xs, n = list(inputs), len(inputs)
            coef = list(params.get("coef") or [1.0] * (n // 2 + 1))
            for i, x in enumerate(xs):
                # (a lone last term's index // 2 is its place in coef, after the pairs')
                while type(x) is Var and x in scaled and uses[x] == 1:
                    z, c = scaled[x]
                    if not _coef_term(coef[i // 2] * c):
                        break
                    coef[i // 2] *= c
                    folded.add(x)
                    xs[i] = x = z
            if xs != list(inputs):
                params = {k: v for k, v in params.items() if k != "coef"}
                if any(c != 1.0 for c in coef):
                    params["coef"] = tuple(coef)
                eqn = (prim, tuple(xs), params, outputs)
        new.append(eqn)
    if not folded:
        return eqns
    # (the folded equations' results are read nowhere now; their own inputs are read by the
    # mul_add, which comes later)
    return [e for e in new if e[0].multiple_results or e[3] not in folded]


def _coef_term(c):
    # A power of two (or its negative), by which c (a b) is (c a) b to the bit, barring
    # results in the subnormal range.
    return c != 0 and math.isfinite(c) and abs(math.frexp(c)[0]) == 0.5


def _eqn_key(prim, inputs, params):
    """A hashable identity of an equation, or None where one cannot be made. Variables and
    array constants count by identity; Python scalars, as operands or in parameters, by
    :func:`exact_key` (so 0.0 and -0.0, or 1 and 1.0, stay apart)."""
    if prim in EFFECTFUL:
        return None
    key = [prim]
    append = key.append
    for x in inputs:
        if type(x) is Var:
            append(x)
        elif type(x) in _PY_SCALARS:
            append((type(x), repr(x)))
        else:
            append(("const", id(x)))
    if params:
        append(tuple([(k, exact_key(v)) for k, v in sorted(params.items())]))
    key = tuple(key)
    try:
        hash(key)
    except TypeError:  # an unhashable parameter: the equation is kept as it is
        return None
    return key


_PY_SCALARS = (bool, int, float, complex)


def exact_key(value):
    """``value`` as a key that tells apart what ``==`` does not (0.0 and -0.0, 1 and 1.0 and
    True), inside tuples (namedtuples too), and frozensets. A container's key is its type
    and its items' keys, so that it equals no number's key, ``(int, "1")`` as a value
    included (whose items' keys are what the key of 1 is made of)."""
    t = type(value)
    if t in _PY_SCALARS:
        return (t, repr(value))
    if t is tuple:
        return (tuple, tuple([exact_key(v) for v in value]))
    if getattr(value, "shape", None) == () and hasattr(value, "dtype") and not isinstance(
            value, type):  # a NumPy scalar: np.float32(1.5) is not np.float64(1.5)
        return (t, repr(value))
    if isinstance(value, tuple):  # a namedtuple (== compares its items only, not exactly)
        return (t, tuple([exact_key(v) for v in value]))
    if t is frozenset:  # ({1} == {1.0}, {0.0} == {-0.0})
        return (t, frozenset([exact_key(v) for v in value]))
    return value


from . import buffers  # noqa: E402  (buffers reads Var from here)
from numpy import ndarray as _ndarray  # noqa: E402
from .backends.numpy_backend import matmul_add_into as _matmul_add_into  # noqa: E402


def read_vars(graph: Graph) -> set:
    """The variables some equation or output of ``graph`` reads."""
    read = {x for _, inputs, _, _ in graph.eqns for x in inputs if type(x) is Var}
    read.update(x for x in graph.outputs if type(x) is Var)
    return read
