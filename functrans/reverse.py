"""Reverse mode as linearize + transpose.

``linearize_flat`` runs the function under the JVP interpreter with a staging interpreter
beneath it: primal operations are forwarded below and evaluated eagerly, while every tangent
operation — all of them linear — is recorded in a graph whose constants are the residuals
(``cos(x)`` for ``sin``...). ``backward`` transposes that graph equation by equation in reverse
order; only linear primitives need transpose rules, and every derivative still comes from the
single JVP rule per primitive, so forward and reverse mode cannot disagree.
"""

from __future__ import annotations

from . import dtypes as _dt
from .core import _current, get_aval
from .errors import MissingRuleError
from .graph import Graph, Var, eval_graph
from .interpreters import JVPInterpreter, JVPTracer, StagingInterpreter, StagingTracer


def linearize_flat(fun, primals, with_aux=False):
    """Linearize ``fun`` (flat list of values -> flat list of values) at ``primals``.

    Returns ``(primal_outputs, linear_graph)`` (and ``aux`` if ``with_aux``, in which case
    ``fun`` returns ``(outputs, aux_leaves)``). The linear graph has one input per primal
    (``None`` for integer or boolean primals, which carry no tangent) and one output per
    primal output: a Var, a constant tangent, or ``None`` for a symbolic zero.
    """
    staging = StagingInterpreter(_current.get())
    jvp_interp = JVPInterpreter(staging)
    in_vars, in_tracers = [], []
    for p in primals:
        aval = get_aval(p)
        if _dt.is_float(aval.dtype):
            t = staging.new_input(aval)
            in_vars.append(t.var)
            in_tracers.append(JVPTracer(jvp_interp, p, t))
        else:
            in_vars.append(None)
            in_tracers.append(p)
    token = _current.set(jvp_interp)
    try:
        result = fun(in_tracers)
    finally:
        _current.reset(token)
        jvp_interp.active = staging.active = False
    outs, aux = result if with_aux else (result, None)
    out_primals, out_atoms = [], []
    for o in outs:
        if type(o) is JVPTracer and o._interp is jvp_interp:
            out_primals.append(o.primal)
            t = o.tangent
            out_atoms.append(t.var if type(t) is StagingTracer and t._interp is staging else t)
        else:
            out_primals.append(o)
            out_atoms.append(None)
    graph = Graph(in_vars, staging.eqns, out_atoms)
    if with_aux:
        aux = [a.primal if type(a) is JVPTracer and a._interp is jvp_interp else a
               for a in aux]
        return out_primals, graph, aux
    return out_primals, graph


def forward(graph: Graph, tangents) -> list:
    """Evaluate a linear graph on input tangents (``None`` inputs take ``None``); returns the
    output tangents, ``None`` where they are symbolic zeros."""
    args = [t for v, t in zip(graph.in_vars, tangents) if v is not None]
    sub = Graph([v for v in graph.in_vars if v is not None], graph.eqns,
                [o if o is not None else 0 for o in graph.outputs])
    outs = eval_graph(sub, args)
    return [None if o is None else r for o, r in zip(graph.outputs, outs)]


def backward(graph: Graph, out_cts, consume: bool = False) -> list:
    """Transpose a linear graph: the cotangents of its inputs given those of its outputs.

    A loop over the equations in reverse order, never recursion. Cotangents are popped once
    used and equations whose output cotangent is a symbolic zero (``None``) are skipped. With
    ``consume`` the equations are popped too, so residuals are freed as the pass goes.
    """
    ct_env: dict = {}
    for v, ct in zip(graph.outputs, out_cts):
        if type(v) is Var and ct is not None:
            _accumulate(ct_env, v, ct)
    eqns = graph.eqns
    pop = ct_env.pop
    for i in range(len(eqns) - 1, -1, -1):
        prim, inputs, params, outputs = eqns.pop() if consume else eqns[i]
        if prim.multiple_results:
            cts = [pop(v, None) for v in outputs]
            if all(c is None for c in cts):
                continue
        else:
            cts = pop(outputs, None)
            if cts is None:
                continue
        rule = prim.transpose
        if rule is None:
            raise MissingRuleError(
                f"Reverse mode reached {prim.name!r} in the linear part of the computation, "
                f"but it has no transpose rule (it is not linear in its tangent inputs).")
        for x, c in zip(inputs, rule(cts, *inputs, **params)):
            if c is not None and type(x) is Var:
                prev = ct_env.get(x)
                ct_env[x] = c if prev is None else _add_p.bind(prev, c)
    return [None if v is None else ct_env.get(v) for v in graph.in_vars]


def _accumulate(env, var, ct):
    prev = env.get(var)
    env[var] = ct if prev is None else _add_p.bind(prev, ct)


from .primitives.elementwise import add_p as _add_p  # noqa: E402
