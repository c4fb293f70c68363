"""The IR: a function's evaluation trace as a list of equations over variables.

This is the seeds' Wengert list — ``v3 = mul v1 v2; v4 = sin v2; ...`` — built by the staging
interpreter, printed readably, and evaluated by :func:`eval_graph`. Reverse mode transposes the
linear graphs that ``linearize`` stages (see :mod:`functrans.reverse`).
"""

from __future__ import annotations

from .core import ShapedArray, bind


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


def eval_graph(graph: Graph, args) -> list:
    """Run each equation with ``bind``, so that evaluating a graph is itself transformable."""
    if len(args) != len(graph.in_vars):
        raise TypeError(f"this graph takes {len(graph.in_vars)} inputs; got {len(args)}")
    env = dict(zip(graph.in_vars, args))
    for prim, inputs, params, outputs in graph.eqns:
        out = bind(prim, *[env[x] if type(x) is Var else x for x in inputs], **params)
        if prim.multiple_results:
            env.update(zip(outputs, out))
        else:
            env[outputs] = out
    return [env[x] if type(x) is Var else x for x in graph.outputs]


def _fmt_param(v):
    if isinstance(v, tuple) and any(isinstance(s, slice) for s in v):
        return "(" + ", ".join(f"{s.start}:{s.stop}:{s.step}" if isinstance(s, slice) else str(s)
                               for s in v) + ")"
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
        if params:
            rhs += "  [" + ", ".join(f"{k}={_fmt_param(v)}" for k, v in params.items()) + "]"
        rows.append((lhs, rhs))
    width = max((len(r[0]) for r in rows), default=0)
    for lhs, rhs in rows:
        lines.append(f"  {lhs.ljust(width)} = {rhs}")
    outs = ", ".join(name(x) for x in graph.outputs)
    return "\n".join(["graph {"] + lines + [f"  return {outs}", "}"])
