"""``make_jaxpr``: a function's staged program, printed as JAX prints a jaxpr.

It is :func:`functrans.make_graph`'s graph seen through JAX's names: a :class:`ClosedJaxpr`
holding a :class:`Jaxpr` (``constvars``, ``invars``, ``eqns``, ``outvars``) and the
constants' values (``consts``); each :class:`JaxprEqn` has ``primitive`` (with ``.name``),
``params``, ``invars`` and ``outvars``. The primitives are functrans's own (``mul``,
``reduce_sum``, ``custom_jvp_call``...), so the text differs from JAX's where the
operations do.
"""

from __future__ import annotations

import functools

from . import dtypes as _dt
from .core import _SCALAR_DTYPES, ShapedArray, get_aval
from .graph import PRINTED_PARAMS, Graph, Var
from .primitives.elementwise import _array_aval, _bool_aval, select_p
from .tree import tree_flatten, tree_unflatten

__all__ = ["make_jaxpr", "eval_jaxpr", "ClosedJaxpr", "Jaxpr", "JaxprEqn", "Literal"]

# Abstract evaluations of the elementwise primitives, whose operands promote together.
_PROMOTING_EVALS = (_array_aval, _bool_aval)

_WIDTH = 80  # a jaxpr longer than this is printed one equation per line, as JAX does


class Literal:
    """A Python number used as an operand of an equation (``2.0:f64[]``)."""

    __slots__ = ("val", "aval")

    def __init__(self, val, aval=None):
        self.val = val
        self.aval = get_aval(val) if aval is None else aval

    def __repr__(self):
        return f"Literal({self.val!r})"


class JaxprEqn:
    """One equation: ``outvars = primitive[params] invars``."""

    __slots__ = ("primitive", "invars", "outvars", "params")

    def __init__(self, primitive, invars, outvars, params):
        self.primitive = primitive
        self.invars = invars
        self.outvars = outvars
        self.params = params

    def __repr__(self):
        return _Printer().eqn(self)


class Jaxpr:
    """A staged program: ``constvars``, ``invars``, ``eqns`` and ``outvars`` (graph
    variables with an ``aval``, or :class:`Literal`)."""

    __slots__ = ("constvars", "invars", "eqns", "outvars")

    def __init__(self, constvars, invars, eqns, outvars):
        self.constvars = constvars
        self.invars = invars
        self.eqns = eqns
        self.outvars = outvars

    def __str__(self):
        return _Printer().jaxpr(self)

    __repr__ = __str__

    def pretty_print(self, **_):
        return str(self)


class ClosedJaxpr:
    """A :class:`Jaxpr` with the values of its constants (``jax.core.ClosedJaxpr``):
    ``jaxpr``, ``consts``, ``in_avals``, ``out_avals``, ``eqns``; ``graph`` is the
    functrans :class:`~functrans.graph.Graph` it was read from (callable on the flat
    inputs)."""

    __slots__ = ("jaxpr", "consts", "graph")

    def __init__(self, jaxpr, consts, graph=None):
        self.jaxpr = jaxpr
        self.consts = consts
        self.graph = graph

    @property
    def in_avals(self):
        return [v.aval for v in self.jaxpr.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.jaxpr.outvars]

    @property
    def eqns(self):
        return self.jaxpr.eqns

    @property
    def literals(self):
        return self.consts

    def __str__(self):
        return str(self.jaxpr)

    __repr__ = __str__

    def pretty_print(self, **_):
        return str(self)


def _letters(n):
    s = ""
    while not s or n:
        n, i = divmod(n, 26)
        s = chr(97 + i) + s
    return s


class _Printer:
    def __init__(self):
        self.names = {}

    def name(self, v):
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = _letters(len(self.names))
        return n

    def operand(self, x):
        if type(x) is Literal:
            val = x.val
            if type(val) in (int, float) and x.aval.dtype.kind in "fc":
                val = float(val)  # 2 in a float32 multiply is 2.0:f32[], as JAX prints
            return f"{val!r}:{x.aval.str_short()}"
        return self.name(x)

    def binder(self, v):
        return f"{self.name(v)}:{v.aval.str_short()}"

    def param(self, v):
        if isinstance(v, Graph):
            v = _to_jaxpr(v)[0]
        if isinstance(v, Jaxpr):
            return _Printer().jaxpr(v)
        if isinstance(v, ClosedJaxpr):
            return _Printer().jaxpr(v.jaxpr)
        if isinstance(v, tuple) and v and all(isinstance(g, Graph) for g in v):
            return "(" + ", ".join(self.param(g) for g in v) + ")"
        if isinstance(v, ShapedArray):
            return v.str_short()
        if isinstance(v, _dt.DType):
            return v.name
        if callable(v) and not isinstance(v, type):
            return getattr(v, "__name__", type(v).__name__)
        if isinstance(v, tuple) and any(isinstance(s, slice) for s in v):
            return "(" + ", ".join(f"{s.start}:{s.stop}:{s.step}" if isinstance(s, slice)
                                   else str(s) for s in v) + ")"
        return str(v)

    def eqn(self, e):
        ins = " ".join(self.operand(x) for x in e.invars)
        head = e.primitive.name
        shown = PRINTED_PARAMS.get(e.primitive)
        params = shown(e.params) if shown is not None else e.params
        if params:
            head += "[" + " ".join(f"{k}={self.param(v)}" for k, v in
                                   sorted(params.items())) + "]"
        rhs = f"{head} {ins}" if ins else head
        if not e.outvars:
            return rhs
        return f"{' '.join(self.binder(v) for v in e.outvars)} = {rhs}"

    def jaxpr(self, j):
        consts = " ".join(self.binder(v) for v in j.constvars)
        ins = " ".join(self.binder(v) for v in j.invars)
        head = f"{{ lambda {consts}; {ins}. let"
        eqns = [self.eqn(e) for e in j.eqns]
        outs = "(" + "".join(self.operand(x) + ", " for x in j.outvars).rstrip() + ")"
        if len(j.outvars) > 1:
            outs = outs.replace(",)", ")")
        one_line = f"{head} {' '.join(eqns)}{' ' if eqns else ''}in {outs} }}"
        if len(one_line) <= _WIDTH and len(eqns) <= 1 and "\n" not in one_line:
            return one_line
        body = "\n".join("    " + e.replace("\n", "\n    ") for e in eqns)
        return f"{head}\n{body}\n  in {outs} }}" if eqns else f"{head}\n  in {outs} }}"


def _to_jaxpr(graph):
    """``(Jaxpr, consts)`` for a graph: its array constants become constvars."""
    constvars, consts, seen = [], [], {}

    def operand(x):
        if type(x) is Var:
            return x
        if type(x) in _SCALAR_DTYPES:
            return Literal(x)
        v = seen.get(id(x))
        if v is None:
            v = seen[id(x)] = Var(get_aval(x))
            constvars.append(v)
            consts.append(x)
        return v
    eqns = []
    for prim, inputs, params, outputs in graph.eqns:
        outs = list(outputs) if prim.multiple_results else [outputs]
        ins = [operand(x) for x in inputs]
        if prim.abstract_eval in _PROMOTING_EVALS:
            _weak_literals(ins, 0)
        elif prim is select_p:  # the predicate does not promote with the branches
            _weak_literals(ins, 1)
        eqns.append(JaxprEqn(prim, ins, outs, dict(params)))
    outvars = [operand(x) for x in graph.outputs]
    return Jaxpr(constvars, list(graph.in_vars), eqns, outvars), consts


def _weak_literals(ins, start):
    """Give the Python-number operands of an elementwise equation the dtype they take
    there (weak typing: ``x * 2`` with float32 ``x`` multiplies by a float32 2)."""
    arrays = [x.aval for x in ins[start:] if type(x) is not Literal]
    if not arrays:
        return
    d = arrays[0].dtype
    for i, x in enumerate(ins):
        if i >= start and type(x) is Literal and type(x.val) in _SCALAR_DTYPES:
            ins[i] = Literal(x.val, ShapedArray((), _dt.scalar_result(d, x.val), True))


def eval_jaxpr(jaxpr, consts, *args, propagate_source_info=True):
    """The outputs (a list) of the :class:`Jaxpr` ``jaxpr`` on the inputs ``args``, with
    ``consts`` the values of its ``constvars`` (``jax.core.eval_jaxpr``).

    Each equation is applied with ``bind``, so that the evaluation works under every
    transform (``grad``, ``vmap``, ``jit``...) of its inputs and constants.
    ``propagate_source_info`` is accepted and has no effect (functrans keeps no source
    information). Differences from JAX's: a :class:`ClosedJaxpr` is refused (pass its
    ``.jaxpr`` and ``.consts``), as are lists of the wrong length (JAX's is unchecked)."""
    if not isinstance(jaxpr, Jaxpr):
        hint = (": pass closed.jaxpr and closed.consts" if isinstance(jaxpr, ClosedJaxpr)
                else "")
        raise TypeError(f"eval_jaxpr: jaxpr must be a Jaxpr (the .jaxpr of make_jaxpr's "
                        f"result); got {type(jaxpr).__name__}{hint}")
    consts = list(consts)
    if len(consts) != len(jaxpr.constvars):
        raise TypeError(f"eval_jaxpr: the jaxpr has {len(jaxpr.constvars)} constvars; got "
                        f"{len(consts)} consts")
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"eval_jaxpr: the jaxpr takes {len(jaxpr.invars)} inputs; got "
                        f"{len(args)}")
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(v):
        return v.val if type(v) is Literal else env[v]
    for eqn in jaxpr.eqns:
        prim = eqn.primitive
        out = prim.bind(*[read(v) for v in eqn.invars], **eqn.params)
        if prim.multiple_results:
            env.update(zip(eqn.outvars, out))
        else:
            env[eqn.outvars[0]] = out
    return [read(v) for v in jaxpr.outvars]


def make_jaxpr(fun, static_argnums=(), axis_env=None, return_shape=False,
               abstracted_axes=None):
    """``make_jaxpr(f)(*args, **kwargs)``: the program ``f`` stages to for arguments of
    these shapes and dtypes, as a :class:`ClosedJaxpr` that prints like JAX's
    (``jax.make_jaxpr``).

    The equations are functrans's primitives (what ``jit`` would run), including those of
    every transform inside ``f`` (``make_jaxpr(grad(f))`` shows the gradient's operations).
    Array constants (closed-over arrays) are ``constvars`` with their values in ``consts``;
    Python numbers are literals. Keyword arguments are traced too; ``static_argnums``
    arguments are passed as they are. ``return_shape=True`` returns ``(jaxpr, shapes)``
    with a ``ShapeDtypeStruct`` pytree of the result. ``axis_env`` and ``abstracted_axes``
    (named and symbolic axes) are not supported (stage ``vmap(f, axis_name=...)`` for a
    function with collectives).

    Example:
        >>> print(ft.make_jaxpr(fnp.sin)(fnp.ones(3)))
        { lambda ; a:f64[3]. let b:f64[3] = sin a in (b,) }
    """
    if axis_env is not None:
        raise NotImplementedError(
            "make_jaxpr: axis_env is not supported: a collective (psum, all_gather...) is "
            "staged only inside a functrans.vmap or pmap with that axis_name, which "
            "evaluates it over the batch; make_jaxpr(vmap(f, axis_name=...)) shows that "
            "batched program instead.")
    if abstracted_axes is not None:
        raise NotImplementedError("make_jaxpr: abstracted_axes (symbolic shapes) is not "
                                  "supported.")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def jaxpr_maker(*args, **kwargs):
        from .api import make_graph
        n = len(args)
        nums = {i % n if i < 0 else i for i in static if -n <= i < n}
        dyn = [i for i in range(n) if i not in nums]
        leaves, tree = tree_flatten((tuple(args[i] for i in dyn), kwargs))

        def flat(*xs):
            a, kw = tree_unflatten(tree, list(xs))
            full = list(args)
            for i, v in zip(dyn, a):
                full[i] = v
            return fun(*full, **kw)
        graph = make_graph(flat)(*leaves)
        jaxpr, consts = _to_jaxpr(graph)
        closed = ClosedJaxpr(jaxpr, consts, graph)
        if not return_shape:
            return closed
        shapes = [ShapedArray(tuple(get_aval(o).shape) if type(o) is not Var else o.aval.shape,
                              (o.aval if type(o) is Var else get_aval(o)).dtype)
                  for o in graph.outputs]
        return closed, tree_unflatten(graph.out_tree, shapes)
    return jaxpr_maker
