"""Reverse mode as linearize + transpose.

``linearize_flat`` runs the function under the JVP interpreter with a staging interpreter
beneath it: primal operations are forwarded below and evaluated eagerly, while every tangent
operation — all of them linear — is recorded in a graph whose constants are the residuals
(``cos(x)`` for ``sin``...). ``backward`` transposes that graph equation by equation in reverse
order; only linear primitives need transpose rules, and every derivative still comes from the
single JVP rule per primitive, so forward and reverse mode cannot disagree.
"""

from __future__ import annotations

import sys
import _weakref

import numpy as _np

from .backends import _by_type, backend_of as _backend_of
from .backends.numpy_backend import AtArray as _AtArray, backend as _NUMPY
from .backends.numpy_backend import _broadcast_in_dim as _np_broadcast

from . import buffers
from .core import (EVAL as _EVAL, PUSHED, EvalInterpreter, Tracer, _CurrentCell, _SCALAR_DTYPES,
                   _current, _get_ident, get_aval, is_concrete_array)
from .errors import MissingRuleError
from .graph import Graph, Var, eval_graph
from .interpreters import (ConstTracer, JVPInterpreter, JVPTracer, StagingTracer,
                           TangentRecorder, constant)

_new = object.__new__
_EVAL_PROCESS = EvalInterpreter.process  # (the evaluator's own, unwrapped: see backward)


def linearize_flat(fun, primals, with_aux=False, avals=None):
    """Linearize ``fun`` (flat list of values -> flat list of values) at ``primals``.

    Returns ``(primal_outputs, linear_graph)`` (and ``aux`` if ``with_aux``, in which case
    ``fun`` returns ``(outputs, aux_leaves)``). The linear graph has one input per primal
    (``None`` for integer or boolean primals, which carry no tangent) and one output per
    primal output: a Var, a constant tangent, or ``None`` for a symbolic zero. ``avals``: the
    primals' abstract values, where the caller has them already.
    """
    # TangentRecorder(current, primals) and JVPInterpreter(staging) without the frames of
    # their __init__ (one pair per linearize: per level of nested grads)
    staging = _new(TangentRecorder)
    staging.parent = _current.get().interp
    staging.active = True
    staging.eqns = []
    staging.device_source = primals[0] if primals else None
    jvp_interp = _new(JVPInterpreter)
    jvp_interp.parent = staging
    jvp_interp.active = True
    in_vars, in_tracers = [], []
    for p, aval in zip(primals, avals or map(get_aval, primals)):
        if aval.dtype.kind in "fc":  # (dtypes.is_float, inline: this runs per input)
            # Var(aval) and JVPTracer(jvp_interp, p, StagingTracer(staging, v)) without
            # the frames of their __init__ (as the interpreters make theirs)
            v = _new(Var)
            v.aval = aval
            in_vars.append(v)
            t = _new(StagingTracer)
            t._interp = staging
            t._var = v
            j = _new(JVPTracer)
            j._interp = jvp_interp
            j.primal = p
            j.tangent = t
            in_tracers.append(j)
        else:
            in_vars.append(None)
            in_tracers.append(p)
    # set_current(jvp_interp) and reset_current(token) inline (a frame each, and the
    # cell's __init__'s, per level of nested grads)
    PUSHED.append(None)
    cell = _new(_CurrentCell)
    cell.interp = cell.home = jvp_interp
    cell.thread = _get_ident()
    token = _current.set(cell)
    try:
        result = fun(in_tracers)
    finally:
        _current.reset(token)
        PUSHED.pop()
        jvp_interp.active = staging.active = False
        staging.device_source = None
    outs, aux = result if with_aux else (result, None)
    out_primals, out_atoms = [], []
    for o in outs:
        if type(o) is JVPTracer and o._interp is jvp_interp:
            out_primals.append(o.primal)
            t = o.tangent
            out_atoms.append(t._var if type(t) is StagingTracer and t._interp is staging else t)
        else:
            out_primals.append(o)
            out_atoms.append(None)
    # (Graph(in_vars, staging.eqns, out_atoms) without its __init__'s frame and copies of
    # the two lists, which are this function's own)
    graph = _new(Graph)
    graph.input_names = graph.in_tree = graph.out_tree = None
    graph.in_vars = in_vars
    graph.eqns = staging.eqns
    graph.outputs = out_atoms
    if with_aux:
        aux = [a.primal if type(a) is JVPTracer and a._interp is jvp_interp
               else constant(a.primal) if type(a) is ConstTracer else a for a in aux]
        fix = _AUX_FIX.get
        for i, a in enumerate(aux):
            f = fix(type(a))
            if f is not None:
                aux[i] = f(a)
        return out_primals, graph, aux
    return out_primals, graph


def aux_leaf(a):
    """A leaf of a transform's auxiliary output as the transform returns it: as the outputs
    are, a NumPy scalar (what NumPy computes from 0-d arrays) as a 0-d array and
    functrans.numpy's arrays with ``.at`` as plain NumPy arrays; anything else as it is."""
    f = _AUX_FIX.get(type(a))
    return a if f is None else f(a)


# The types of aux leaves that transforms convert (see aux_leaf): type -> conversion.
_AUX_FIX = {t: _np.asarray for t in _np.sctypeDict.values()
            if issubclass(t, (_np.number, _np.bool_))}
_AUX_FIX[_AtArray] = lambda a: a.view(_np.ndarray)


def forward(graph: Graph, tangents) -> list:
    """Evaluate a linear graph on input tangents (``None`` inputs take ``None``); returns the
    output tangents, ``None`` where they are symbolic zeros."""
    args = [t for v, t in zip(graph.in_vars, tangents) if v is not None]
    sub = Graph([v for v in graph.in_vars if v is not None], graph.eqns,
                [o if o is not None else 0 for o in graph.outputs])
    outs = eval_graph(sub, args)
    return [None if o is None else r for o, r in zip(graph.outputs, outs)]


class Fill:
    """A symbolic cotangent equal to ``value`` everywhere (grad's seed of ones): multiplying
    by it, summing or broadcasting it costs nothing, and only rules that need an array see
    one (see ``_fill_transpose``)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Pieces(list):
    """Cotangents of slices of one variable, ``(idx, ct)`` pairs, kept apart until the
    variable's cotangent is needed: slices that tile it become one concat instead of a
    zero-filled scatter and an add each. ``base``: the dense rest of its cotangent."""

    __slots__ = ("base",)

    def __init__(self, items, base=None):
        super().__init__(items)
        self.base = base


class _Sum:
    """A cotangent equal to a sum of products ``a1 b1 + a2 b2 + ... (+ rest)``, not yet
    computed: the transpose of a product hands each linear operand one product, and further
    cotangents reaching the same variable join the sum, so that the variable's cotangent
    costs one mul_add when its own equation (or the result) needs it instead of one
    operation per use. Under nested differentiation every operation saved here is a rule run
    at each level above. ``terms`` is flat, ``[a1, b1, a2, b2, ...]``; a product by a real
    Python scalar whose other factor is already in the sum by a scalar merges into that term
    (``a c1 + a c2 = a (c1 + c2)``: one cotangent reaching a variable through ``x * 2`` and
    ``x * 3``, or through two rules' constants, as nested derivatives do)."""

    __slots__ = ("terms", "rest")

    def __init__(self, a, b, rest=None):
        self.terms = [a, b]
        self.rest = rest

    def add_pair(self, a, b):
        terms = self.terms
        if type(a) in _REAL:
            a, b = b, a  # the scalar second
        if type(b) in _REAL:
            for i in range(0, len(terms), 2):
                if terms[i] is a and type(terms[i + 1]) in _REAL:
                    terms[i + 1] += b
                    return
        if len(terms) >= _MAX_TERMS:
            # Bounded, so that pending products keep few arrays alive.
            self.rest = self.value()
            terms.clear()
        terms += (a, b)

    def add_dense(self, ct):
        """Add a dense cotangent or a real Python scalar (a fill's value)."""
        r = self.rest
        if r is None:
            self.rest = ct
        elif type(r) in _REAL:
            # Two fills' values add in Python: bound, they would become an array of the
            # default library, not of the one being differentiated.
            self.rest = r + ct if type(ct) in _REAL else _add_p.bind(ct, r)
        else:
            self.rest = _add_p.bind(r, ct)

    def value(self, borrowed=()):
        t, rest = self.terms, self.rest
        if rest is None:
            if len(t) == 2:
                # (_product takes the factors out of the sum, which then holds the product)
                self.rest = rest = _product(t, borrowed)
                return rest
            # (mul_add_p.bind(*t) without bind's frame: one per sum, at every level above)
            return _current.get().interp.process(_mul_add_p, tuple(t), {})
        if not t:
            return rest
        return _current.get().interp.process(_mul_add_p, (*t, rest), {})


_MAX_PAIRS = 8
_MAX_TERMS = _MAX_PAIRS * 2
_REAL = frozenset((float, int))


def backward(graph: Graph, out_cts, consume: bool = False, template=None,
             borrow: bool = False) -> list:
    """Transpose a linear graph: the cotangents of its inputs given those of its outputs.

    A loop over the equations in reverse order, never recursion. Cotangents are popped once
    used and equations whose output cotangent is a symbolic zero (``None``) are skipped. With
    ``consume`` the equations are popped too, so residuals are freed as the pass goes. An
    output cotangent may be a :class:`Fill` (it then needs ``template``, an array whose
    backend and device a materialised fill takes). With ``borrow`` the output cotangents are
    the caller's arrays: one that reaches a result as it is (or a view of it) is copied, as a
    borrowed residual is, so that no result is (or views) an array the caller passed in.
    """
    env = _new(_Env)  # (_Env(template) without its __init__'s frame: once per pass)
    env.d = ct_env = {}
    env.template = template
    env.borrowed = borrowed = set()
    if borrow:  # (arrays only: a tracer is a value, never written into)
        for c in out_cts:
            if type(c) in _by_type:
                borrowed.add(id(c))
    pop, get = ct_env.pop, ct_env.get
    for v, ct in zip(graph.outputs, out_cts):
        if type(v) is Var and ct is not None:
            if get(v) is None:  # (the first cotangent of v: env.add's first case, inline)
                ct_env[v] = ct
            else:
                env.add(v, ct)
    eqns = graph.eqns
    if not ct_env:
        # No output depends linearly on an input (or every cotangent is a symbolic zero):
        # every input's cotangent is a symbolic zero, with no pass over the equations.
        if consume:
            eqns.clear()
        return [None] * len(graph.in_vars)
    # With consume the equations are popped as the pass goes, freeing their residuals; at
    # the bottom of the stack, large ones that die so are kept for reuse (see the loop's end).
    todo = eqns if consume else eqns[:]
    # The interpreter the pass binds its own products with (the current one throughout: the
    # rules it calls restore what they change), called without bind's frame.
    process = _current.get().interp.process
    retire = consume and _INPLACE and buffers.ENABLED and process.__self__ is _EVAL
    fuse = _INPLACE and process.__self__ is _EVAL  # (products added into a sum: _matmul_into)
    # (where the evaluator is current, a product's implementation by its first factor's
    # type: EvalInterpreter.process's first case inline, a frame less per product; not
    # where its method is wrapped, as benchmarks.account does to time its calls)
    mul_impl = (_mul_p._impls.get if process.__self__ is _EVAL
                and process.__func__ is _EVAL_PROCESS else None)
    # (the loop's globals as local names: it runs once per equation)
    Sum, Var_, Fill_, mul_p, matmul_p, host = _Sum, Var, Fill, _mul_p, _matmul_p, _HOST
    new, real, max_terms = _new, _REAL, _MAX_TERMS
    while todo:
        prim, inputs, params, outputs = todo.pop()
        if prim.multiple_results:
            cts = [env.dense(v, pop(v, None)) for v in outputs]
            if all(c is None for c in cts):
                continue
        else:
            cts = pop(outputs, None)
            if cts is None:
                continue
            tc = type(cts)
            if tc in _PENDING:  # (a sum, fill or pieces held back; one test passes a dense one)
                if tc is Sum:
                    t = cts.terms
                    if len(t) != 2 or cts.rest is not None:
                        # (_Sum.value's cases of more than one pair or a rest, inline: one
                        # mul_add bound through the pass's process, without value's frame;
                        # no name of the loop's left holding the rest)
                        if cts.rest is None:
                            cts = process(_mul_add_p, tuple(t), {})
                        elif t:
                            cts = process(_mul_add_p, (*t, cts.rest), {})
                        else:
                            cts = cts.rest
                    elif _INPLACE and (t[0].nbytes >= _ELIDE_BYTES if type(t[0]) in _HOST else
                                       type(t[1]) in _HOST and t[1].nbytes >= _ELIDE_BYTES):
                        # (a product's array factors have one shape: the first one's size tells,
                        # and only where it is no array is the second looked at)
                        # (this loop's names let go of earlier equations' residuals and
                        # cotangents, so that one only the sum holds can take the product)
                        a = b = x = c = res = None
                        if prim is _broadcast_p and type(t[1]) is float and t[1] == -1.0:
                            # (a subtracted broadcast, x - mean(x) or logits - max: its
                            # transpose sums first and leaves the sign pending on the sum)
                            _sum_then_negate(t, inputs, params, env, retire)
                            continue
                        cts = _product(t, borrowed)
                    else:  # (one product of small or abstract factors, the common case)
                        fn = None if mul_impl is None else mul_impl(type(t[0]))
                        if fn is not None and (type(t[1]) is type(t[0])
                                               or type(t[1]) in _SCALAR_DTYPES):
                            cts = fn(t[0], t[1])
                        else:
                            cts = process(mul_p, (t[0], t[1]), {})
                elif tc is Fill_:
                    rule = _FILL_RULES.get(prim)
                    res = rule(cts.value, inputs, params, env) if rule is not None else None
                    if res is not None:
                        for x, c in zip(inputs, res):
                            if c is not None and type(x) is Var:
                                if type(c) is _Product:
                                    env.add_product(x, c.a, c.b)
                                elif get(x) is None:  # (the first cotangent of x: no add frame)
                                    ct_env[x] = c
                                else:
                                    env.add(x, c)
                        continue
                    cts = env.materialize(cts, outputs.aval)
                elif tc is _Pieces:
                    cts = env.dense(outputs, cts)
            if prim in _INLINED:  # (the transposes written inline below: one test for all,
                # then one per primitive, the likeliest first)
                if prim is mul_p:
                    # The product of the cotangent with the residual partner, left pending.
                    a, b = inputs
                    if type(a) is Var_:
                        s = get(a)
                        if s is None:  # (the first cotangent of a: add_product inline,
                            s = new(Sum)    # and _Sum(cts, b) without its __init__'s frame)
                            s.terms = [cts, b]
                            s.rest = None
                            ct_env[a] = s
                        elif type(s) is Sum:
                            # (a sum pending there: add_product's case inline, and add_pair's
                            # last one where neither factor is a Python scalar)
                            pending = s.terms
                            if (len(pending) < max_terms and type(b) not in real
                                    and type(cts) not in real):
                                pending += (cts, b)
                            else:
                                s.add_pair(cts, b)
                        else:
                            env.add_product(a, cts, b)
                    elif type(b) is Var_:
                        s = get(b)
                        if type(s) is Sum:
                            pending = s.terms
                            if (len(pending) < max_terms and type(a) not in real
                                    and type(cts) not in real):
                                pending += (a, cts)
                            else:
                                s.add_pair(a, cts)
                        else:
                            env.add_product(b, a, cts)
                    continue
                if prim is _add_p:
                    # (the transpose rule inline: each linear operand takes the cotangent as it is)
                    for x in inputs:
                        if type(x) is Var:
                            if get(x) is None:
                                ct_env[x] = cts
                            else:
                                env.add(x, cts)
                    continue
                if prim is _sub_p:
                    # (the transpose rule inline: the second operand's cotangent is the first's
                    # times -1, left pending so that it joins a later sum as one more term)
                    x, y = inputs
                    if type(x) is Var:
                        if get(x) is None:
                            ct_env[x] = cts
                        else:
                            env.add(x, cts)
                    if type(y) is Var:
                        if y.aval.dtype.kind == "f":
                            env.add_product(y, cts, -1.0)
                        else:  # (complex: neg keeps the signs of zeros that a product may not)
                            env.add(y, _neg_p.bind(cts))
                    continue
                if prim is _mul_add_p and not params:  # (with coefficients: its rule)
                    # (the cotangent's test once for all pairs; one dictionary look-up each)
                    dense_ct = type(cts) not in real
                    pairs = iter(inputs)
                    for a, b in zip(pairs, pairs):  # (a lone last term is left out)
                        if type(a) is Var_:
                            s = get(a)
                            if s is None:  # (add_product's cases inline, as for mul)
                                s = new(Sum)
                                s.terms = [cts, b]
                                s.rest = None
                                ct_env[a] = s
                            elif type(s) is Sum:
                                pending = s.terms
                                if len(pending) < max_terms and dense_ct and type(b) not in real:
                                    pending += (cts, b)
                                else:
                                    s.add_pair(cts, b)
                            else:
                                env.add_product(a, cts, b)
                        elif type(b) is Var_:
                            s = get(b)
                            if s is None:
                                s = new(Sum)
                                s.terms = [a, cts]
                                s.rest = None
                                ct_env[b] = s
                            elif type(s) is Sum:
                                pending = s.terms
                                if len(pending) < max_terms and dense_ct and type(a) not in real:
                                    pending += (a, cts)
                                else:
                                    s.add_pair(a, cts)
                            else:
                                env.add_product(b, a, cts)
                    if len(inputs) % 2 and type(inputs[-1]) is Var:
                        env.add(inputs[-1], cts)
                    continue
                if prim is _slice_p:
                    x = inputs[0]
                    if type(x) is Var:
                        env.add_piece(x, params["idx"], cts)
                    continue
        if (prim is matmul_p and fuse  # (a first cotangent, the common case, goes on)
                and type(get(inputs[0] if type(inputs[0]) is Var_ else inputs[1])) in host
                and _matmul_into(cts, inputs, ct_env, borrowed)):
            res = _NO_CTS  # (added into the operand's cotangent already: see _matmul_into)
        else:
            rule = prim.transpose
            if rule is None:
                raise MissingRuleError(
                    f"Reverse mode reached {prim.name!r} in the linear part of the "
                    f"computation, but it has no transpose rule (it is not linear in its "
                    f"tangent inputs).")
            res = rule(cts, *inputs, **params) if params else rule(cts, *inputs)
        if borrowed and id(cts) in borrowed:
            # A view of a borrowed residual is borrowed too (copied if it is a result): the
            # listed rules' results may be views on any library; NumPy says which are, and
            # whether their memory may be the cotangent's (a view of a fresh array, as
            # NumPy's tensordot returns, is not: copying it would cost a copy per pass).
            views = prim in _VIEWS  # (a loop: no generator's frame)
            for c in res:
                if c is not None and (views or type(c) in _HOST and c.base is not None
                                      and _may_share_memory(c, cts)):
                    borrowed.add(id(c))
        for x, c in zip(inputs, res):
            if c is not None and type(x) is Var:
                if get(x) is None:  # the common case: the first cotangent of x
                    ct_env[x] = c
                else:
                    env.add(x, c)
        if retire:  # (the residuals of products die in _product, of these rules here)
            c = res = None
            # Keep for reuse (functrans.buffers) the large residuals among the inputs of this
            # consumed equation that nothing else holds (the list's and the loop's references
            # only): later large results of the pass, or of the next call, are then computed
            # into memory already in use.
            for x in inputs:
                if (type(x) is _ndarray and x.nbytes >= _ELIDE_BYTES
                        and _refcount(x) == _IN_LIST and _free(x, borrowed)):
                    buffers.keep_dead(x)
            x = None
            if (type(cts) is _ndarray and cts.nbytes >= _ELIDE_BYTES
                    and _refcount(cts) == _SOLE and _free(cts, borrowed)):
                buffers.keep_dead(cts)  # a cotangent this equation used last
    out = []
    for v in graph.in_vars:
        c = None if v is None else ct_env.get(v)
        if type(c) is Fill:
            c = env.materialize(c, v.aval, owned=True)
        elif type(c) is _Sum:
            c = c.value(env.borrowed)  # (env.dense's case, without its frame)
        elif type(c) is _Pieces:
            c = env.dense(v, c)
        elif c is not None and id(c) in env.borrowed:
            c = _copy(c)
        if retire and type(c) is _ndarray and c.nbytes >= buffers.MIN_BYTES:
            # Taken back by a later pass once the caller drops it: from the size at which
            # the NumPy backend computes large results into kept arrays (a gradient of
            # 64-256 KiB was never remembered, and was reused only where malloc happened to
            # hand its memory back)
            buffers.remember(c)
        out.append(c)
    return out


class _Env:
    """The cotangents of a backward pass by variable, dense, :class:`Fill` or
    :class:`_Pieces`; ``borrowed`` holds the ids of residuals passed on as cotangents (a fill
    of ones times a residual is the residual), copied if they reach the result."""

    __slots__ = ("d", "template", "borrowed")

    def __init__(self, template):
        self.d = {}
        self.template = template
        self.borrowed = set()

    def add(self, var, ct):
        d = self.d
        prev = d.get(var)
        if prev is None:
            d[var] = ct
            return
        tp = type(prev)
        if tp is _Sum and type(ct) is not Fill:
            prev.add_dense(ct)  # a b + ... + ct
            return
        if tp is not Fill and tp is not _Pieces and type(ct) is not Fill:
            if tp in _HOST and prev.nbytes >= _ELIDE_BYTES and _INPLACE:
                prev = None  # (the dictionary's reference the only one: see _add_into)
                d[var] = _add_into(d.pop(var), ct, self.borrowed)
            else:
                d[var] = _add_p.bind(prev, ct)
            return
        if tp is _Pieces:
            ct = self.dense(var, ct)
            prev.base = ct if prev.base is None else _add_p.bind(prev.base, ct)
            return
        if type(prev) is Fill and type(ct) is Fill:
            d[var] = Fill(prev.value + ct.value)
            return
        # A real fill added to a dense cotangent: one add of the scalar, rather than
        # materialising the fill (full_like and broadcast) and adding the arrays.
        fill, other = (prev, ct) if tp is Fill else (ct, prev)
        if (type(other) is not _Pieces and type(fill.value) in (int, float)
                and var.aval.dtype.kind == "f"):
            if type(other) is _Sum:
                other.add_dense(fill.value)
                d[var] = other
            else:
                d[var] = _add_p.bind(other, fill.value)
            return
        d[var] = _add_p.bind(self.dense(var, prev), self.dense(var, ct))

    def add_product(self, var, a, b):
        """Add the cotangent ``a * b`` to ``var``'s, joining a sum pending there."""
        d = self.d
        prev = d.get(var)
        if prev is None:
            s = d[var] = _new(_Sum)  # (_Sum(a, b) without its __init__'s frame)
            s.terms = [a, b]
            s.rest = None
            return
        tp = type(prev)
        if tp is _Sum:
            prev.add_pair(a, b)
        elif (tp is Fill and type(prev.value) in _REAL and var.aval.dtype.kind == "f"
              and type(a) not in _REAL):
            d[var] = _Sum(a, b, prev.value)  # a b + the fill's value: one mul_add (see add)
        elif tp is Fill or tp is _Pieces:
            self.add(var, _mul_p.bind(a, b))
        else:
            d[var] = _Sum(a, b, prev)  # prev + a b

    def add_piece(self, var, idx, ct):
        d = self.d
        prev = d.get(var)
        if prev is None:
            d[var] = _Pieces([(idx, ct)])
        elif type(prev) is _Pieces:
            prev.append((idx, ct))
        else:
            d[var] = _Pieces([(idx, ct)], self.dense(var, prev))

    def dense(self, var, ct):
        t = type(ct)
        if t is Fill:
            return self.materialize(ct, var.aval)
        if t is _Sum:
            return ct.value(self.borrowed)
        if t is _Pieces:
            j = _join(ct, var.aval.shape)
            return j if ct.base is None else _add_p.bind(ct.base, j)
        return ct

    def materialize(self, fill, aval, owned=False):
        t = self.template
        if t is None:
            raise ValueError("a Fill cotangent needs backward's template")
        if _by_type.get(type(t)) is _NUMPY and _current.get().interp is _EVAL:
            # NumPy with no transform above: the fill made directly (a new array for a
            # result, else a broadcast view of a 0-d one), as the operations bound below
            # make it, without binding three of them
            native = _NUMPY.native_dtype(aval.dtype)
            shape = tuple(aval.shape)
            if owned or shape == ():
                return _np.full(shape, fill.value, dtype=native)
            return _np_broadcast(_np.full((), fill.value, dtype=native), shape, ())
        dtype = aval.dtype if aval.dtype is not get_aval(t).dtype else None
        c = _full_like(_reshape(t, ()) if tuple(t.shape) != () else t, fill.value, dtype)
        shape = tuple(aval.shape)
        if shape == ():
            return c
        if owned:  # a result: a writable array rather than a broadcast view
            return _full_like(_broadcast(c, shape, ()), fill.value, dtype)
        return _broadcast(c, shape, ())


def _join(pieces, shape):
    """The dense cotangent of a variable from those of its slices: a concat where the slices
    tile it along one axis in order (a split, a roll), else scatters added up."""
    if len(pieces) > 1:
        axis = None
        for idx, _ in pieces:
            off = [a for a, ((lo, hi, st), n) in enumerate(zip(idx, shape))
                   if (lo, hi, st) != (0, n, 1)]
            if len(off) != 1 or idx[off[0]][2] != 1 or (axis is not None and off[0] != axis):
                axis = None
                break
            axis = off[0]
        if axis is not None:
            ordered = sorted(pieces, key=lambda p: p[0][axis][0])
            pos = 0
            for idx, _ in ordered:
                lo, hi, _st = idx[axis]
                if lo != pos:
                    break
                pos = max(hi, lo)
            else:
                if pos == shape[axis]:
                    return _concat([c for _, c in ordered], axis)
    total = None
    for idx, c in pieces:
        c = _scatter_slice(c, shape, idx)
        total = c if total is None else _add_p.bind(total, c)
    return total


# -- products and sums written into a dead operand -----------------------------------------
# NumPy reuses the buffer of a large temporary operand for the result of ``a * b`` written in
# Python (its "temporary elision"); a product bound as a primitive never qualifies, so a
# backward pass would allocate a new array for each cotangent times residual (the tanh
# slope...) and each accumulated sum. Here an operand that only this pass references (its
# reference count says so), that owns its memory and has the result's shape and dtype,
# takes the result instead: the same ufunc on the same values, one large allocation less,
# and memory that is already in cache. Only at the bottom of the interpreter stack, on NumPy
# arrays of at least NumPy's own threshold for elision; anything else is bound as before.

_ndarray = _np.ndarray
_may_share_memory = _np.may_share_memory  # (bounds only: cheap, never a false no)
# NumPy's arrays and functrans.numpy's (AtArray: what a creation function made, and all
# computed from one; a program starting from fnp.zeros has nothing else)
_HOST = frozenset((_ndarray, _AtArray))
_ELIDE_BYTES = 256 * 1024
_refcount = sys.getrefcount
_weakrefs = _weakref.getweakrefcount


def _own(a, borrowed):
    """``a`` owns its (writable) memory, is no residual passed on as a cotangent, and has no
    weak references: a weak reference is not counted, yet its holder (a WeakValueDictionary
    cache of constants...) still reaches the array while the pass keeps it alive."""
    f = a.flags
    if not f.owndata:
        return _own_wrapped(a, borrowed)
    return (f.writeable and not f.writebackifcopy and id(a) not in borrowed
            and not _weakrefs(a))


def _own_wrapped(a, borrowed):
    """Whether ``a``, an AtArray NumPy computed (a ufunc's result on functrans.numpy's arrays
    is a plain array NumPy wraps as an AtArray view), may take a result: its base a plain
    array held by ``a`` alone, and neither of them passed on or weakly referenced."""
    b = a.base
    if type(a) is not _AtArray or type(b) is not _ndarray or _refcount(b) != _SOLE_BASE:
        return False
    f, fb = a.flags, b.flags
    return (f.writeable and fb.owndata and fb.writeable and not fb.writebackifcopy
            and id(a) not in borrowed and id(b) not in borrowed
            and not _weakrefs(a) and not _weakrefs(b))


def _free(a, borrowed):
    """Whether ``a`` (a NumPy array only this pass holds) may be kept for reuse: it owns its
    memory, is writable, C-ordered (see buffers) and of floating point, and is neither a
    residual passed on as a cotangent nor weakly referenced."""
    f = a.flags
    return (f.owndata and f.writeable and f.c_contiguous and not f.writebackifcopy
            and a.dtype.kind in "fc" and id(a) not in borrowed and not _weakrefs(a))


def _kept_like(a):
    """A dead array kept by functrans.buffers with ``a``'s shape and dtype, or None."""
    b = _by_type.get(_ndarray)
    return None if b is None else buffers.take(_ndarray, a.shape, b.dtype(a))


def _product(terms, borrowed):
    """The product of the two factors in ``terms`` (which it empties, so that a factor only
    the list held is then held by this function's name alone: ``_refcount(a) == _SOLE``)."""
    b = terms.pop()
    a = terms.pop()
    ta, tb = type(a), type(b)
    # (the cheapest tests first: most products in small programs are of small arrays)
    big_a = ta in _HOST and a.nbytes >= _ELIDE_BYTES
    if ((big_a or tb in _HOST and b.nbytes >= _ELIDE_BYTES) and _INPLACE
            and _current.get().interp is _EVAL):
        if big_a:
            if tb in _HOST:
                if a.shape == b.shape and a.dtype == b.dtype:
                    if _refcount(a) == _SOLE and _own(a, borrowed):
                        return _np.multiply(a, b, out=a)
                    if _refcount(b) == _SOLE and _own(b, borrowed):
                        return _np.multiply(a, b, out=b)
                    if (ta is _ndarray and tb is _ndarray and a.flags.c_contiguous
                            and b.flags.c_contiguous):
                        # (both held elsewhere: into a kept dead array, where there is one)
                        buf = _kept_like(a)
                        if buf is not None:
                            return _np.multiply(a, b, out=buf)
            elif ((tb is float or tb is int) and _refcount(a) == _SOLE and _own(a, borrowed)
                    and _np.result_type(a, b) == a.dtype):
                return _np.multiply(a, b, out=a)  # (a rule's constant factor: x * 0.9)
        elif ((ta is float or ta is int) and tb in _HOST and b.nbytes >= _ELIDE_BYTES
                and _refcount(b) == _SOLE and _own(b, borrowed)
                and _np.result_type(b, a) == b.dtype):
            return _np.multiply(a, b, out=b)
    # (_mul_p.bind(a, b) without bind's frame: once per pending product, at every level)
    return _current.get().interp.process(_mul_p, (a, b), {})


def _add_into(a, b, borrowed):
    """``a + b``, written into ``a`` when only this call holds it (the caller passes the
    value it has just removed from its dictionary)."""
    if (type(a) in _HOST and a.nbytes >= _ELIDE_BYTES and type(b) in _HOST
            and a.shape == b.shape and a.dtype == b.dtype and _INPLACE
            and _current.get().interp is _EVAL and _refcount(a) == _SOLE and _own(a, borrowed)):
        return _np.add(a, b, out=a)
    return _add_p.bind(a, b)


def _matmul_into(ct, inputs, d, borrowed):
    """A matrix product's transpose added into the cotangent its linear operand has already
    (a weight used at every step of a recurrence), in one BLAS call where the NumPy backend
    can (numpy_backend.matmul_add_into: the bits of computing the product and adding it, one
    pass over the sum less). Only into an array this pass alone holds, as _add_into; returns
    whether it did (else nothing is written and the caller applies the transpose rule)."""
    x, y = inputs
    var = x if type(x) is Var else y
    prev = d.get(var)
    if type(prev) not in _HOST or prev.nbytes < _ELIDE_BYTES or type(ct) not in _HOST:
        return False
    other = y if var is x else x
    if type(other) not in _HOST or other.ndim != 2 or ct.ndim != 2:
        return False
    prev = d.pop(var)  # (held by this name alone now, if by nothing else: _refcount says)
    ok = _refcount(prev) == _SOLE and _own(prev, borrowed) and (
        _np_matmul_add_into(prev, ct, other.T) if var is x
        else _np_matmul_add_into(prev, other.T, ct))
    d[var] = prev
    return ok


_NO_CTS = (None, None)


def _sum_then_negate(terms, inputs, params, env, retire):
    """The transpose of a broadcast whose cotangent is a pending ``ct * -1.0`` (the second
    operand of a subtraction) on large arrays: ``ct`` summed over the broadcast axes, the
    product by -1 then left pending on the (small) sum for the operand's cotangent, where it
    joins the others' sum (negation is exact and rounding symmetric: the sum of the negated
    terms is the negated sum; a zero sum of zeros of both signs is +0 either way, so only
    the sign of such a zero may differ). One pass over the large array and its allocation
    less, as summing first by hand would be. ``terms`` is emptied, so that ``ct`` dies here
    (kept for reuse where the pass retires what it used last)."""
    ct = terms[0]
    terms.clear()
    (c,) = _broadcast_p.transpose(ct, *inputs, **params)
    borrowed = env.borrowed
    if borrowed and id(ct) in borrowed:
        borrowed.add(id(c))  # (a broadcast's transpose may be a view of its cotangent)
    x = inputs[0]
    if type(x) is Var:
        env.add_product(x, c, -1.0)
    c = None
    if (retire and type(ct) is _ndarray and _refcount(ct) == _SOLE
            and _free(ct, borrowed)):
        buffers.keep_dead(ct)


def _sole_count():
    a = _np.empty(0)
    return _refcount(a)  # one local variable's reference, as in _product and _add_into


def _in_list_count():
    inputs = [_np.empty(0)]
    for x in inputs:
        return _refcount(x)  # the list's reference and the loop's, as in backward's retiring


def _sole_base_count():
    a = _np.empty(0).view(_AtArray)
    b = a.base
    return _refcount(b)  # the view's reference and one local variable's, as in _own_wrapped


def _check_inplace():
    """Whether this interpreter counts references as _product and _add_into assume: each
    writes into an operand that nobody else holds, and never into one held elsewhere."""
    n = _ELIDE_BYTES // 8

    def data(x):
        return x.__array_interface__["data"][0]  # (no reference to x kept)

    def fresh(v):
        return _np.full(n, v)

    terms = [fresh(1.0), fresh(2.0)]
    at = data(terms[0])
    r = _product(terms, ())
    ok = data(r) == at and r[0] == 2.0
    a, b = fresh(1.0), fresh(2.0)
    r = _product([a, b], ())
    ok = ok and r is not a and r is not b and a[0] == 1.0 and b[0] == 2.0 and r[0] == 2.0
    r = _product([a, fresh(3.0)], ())  # the second factor unshared: it takes the product
    ok = ok and r is not a and a[0] == 1.0 and r[0] == 3.0
    terms = [fresh(1.0), 0.5]
    at = data(terms[0])
    r = _product(terms, ())
    ok = ok and data(r) == at and r[0] == 0.5
    r = _product([0.5, a], ())
    ok = ok and r is not a and a[0] == 1.0 and r[0] == 0.5
    d = {0: fresh(1.0)}
    at = data(d[0])
    r = _add_into(d.pop(0), b, ())
    ok = ok and data(r) == at and r[0] == 3.0 and b[0] == 2.0
    d = {0: a}
    r = _add_into(d.pop(0), b, ())
    ok = ok and r is not a and a[0] == 1.0 and r[0] == 3.0
    # AtArray views: of an array nothing else holds (written), of one held here (not)
    terms = [fresh(1.0).view(_AtArray), b]
    at = data(terms[0])
    r = _product(terms, ())
    ok = ok and data(r) == at and r[0] == 2.0
    v = a.view(_AtArray)
    r = _product([v, b], ())
    del v
    return ok and a[0] == 1.0 and r[0] == 2.0 and data(r) != data(a)


def _copy(x):
    b = _by_type.get(type(x))  # (backend_of's dictionary hit, inline)
    if b is not None:
        return b.copy(x)
    if isinstance(x, Tracer):  # (under an outer transform: a value, nothing to unshare)
        return x
    return _backend_of(x).copy(x)


def _memory_root(x):
    """The array that owns the memory ``x`` views (``x`` itself if it owns it): NumPy's and
    CuPy's ``base``, torch's ``_base``, through array-api-strict's wrapped NumPy array."""
    if type(x) is _ndarray and x.base is None:
        return x  # (the common case)
    inner = getattr(x, "_array", None)  # (array-api-strict's Array wraps a NumPy array)
    if type(inner) is _ndarray:
        x = inner
    while True:
        b = getattr(x, "base", None)
        if b is None:
            b = getattr(x, "_base", None)  # (torch's views)
        if b is None or not hasattr(b, "shape"):
            return x
        x = b


def unshared(outs, given):
    """``outs`` (concrete arrays or None) with each one that is, or views the memory of, an
    array among ``given`` (the caller's arguments) copied: a transform's result must not
    alias what the caller passed in (``g *= lr`` on it would rewrite the caller's array).
    A copy only for such pass-through results."""
    roots = {id(_memory_root(g)) for g in given if is_concrete_array(g)}
    if not roots:
        return outs
    return [_copy(o) if is_concrete_array(o) and id(_memory_root(o)) in roots else o
            for o in outs]


# -- cotangents that are a constant fill ------------------------------------------------------
# rule(value, inputs, params) -> one cotangent per input (a Fill, an array or None), or None
# when the rule needs the fill as an array.


def _fill_add(v, inputs, params, env):
    f = Fill(v)
    return [f, f]


def _fill_sub(v, inputs, params, env):
    return [Fill(v), Fill(-v)]


def _fill_neg(v, inputs, params, env):
    return [Fill(-v)]


class _Product:
    """A fill rule's cotangent ``a * b`` (a residual times the fill's value), not computed:
    the variable's cotangent takes it as a pending product (see :class:`_Sum`), so that a
    fill reaching a variable through ``c * y`` (a mean's ``1/n`` times a residual...) costs
    no operation of its own when other cotangents reach that variable too."""

    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


def _fill_mul(v, inputs, params, env):
    x, y = inputs
    lin, other = (0, y) if type(x) is Var else (1, x)
    if type(other) is Var:
        return None
    if type(other) in _REAL:
        c = Fill(v * other)
    elif v == 1:
        c = other  # ones times the residual: the residual itself (copied if it is a result)
        if not isinstance(other, Tracer):
            env.borrowed.add(id(other))
    elif type(v) in _REAL:
        c = _Product(other, v)  # pending: it joins the variable's other cotangents
    else:
        c = _mul_p.bind(other, v)
    return [c, None] if lin == 0 else [None, c]


def _fill_mul_add(v, inputs, params, env):
    # Each pair as a product (see _fill_mul); the lone last term takes the fill itself.
    if params:  # (coefficients: the transpose rule, on the materialised fill)
        return None
    n = len(inputs)
    res = [None] * n
    for i in range(0, n - 1, 2):
        # (_fill_mul's cases inline: a frame and a slice per pair, at every level above)
        x, y = inputs[i], inputs[i + 1]
        if type(x) is Var:
            lin, other = i, y
        elif type(y) is Var:
            lin, other = i + 1, x
        else:
            continue
        if type(other) is Var:
            return None
        if type(other) in _REAL:
            c = Fill(v * other)
        elif v == 1:
            c = other  # (the residual itself, copied if it is a result: see _fill_mul)
            if not isinstance(other, Tracer):
                env.borrowed.add(id(other))
        elif type(v) in _REAL:
            c = _Product(other, v)
        else:
            c = _mul_p.bind(other, v)
        res[lin] = c
    if n % 2:
        res[-1] = Fill(v)
    return res


def _fill_div(v, inputs, params, env):
    x, y = inputs
    if type(y) is Var or type(v) is complex or (type(y) in _REAL and y == 0):
        return None  # (a division by a zero scalar: as arrays, inf or nan as IEEE says)
    return [Fill(v / y) if type(y) in _REAL else _div_p.bind(v, y), None]


def _fill_same(v, inputs, params, env):
    return [Fill(v)]


def _fill_convert(v, inputs, params, env):
    real = inputs[0].aval.dtype.kind == "f" and params["dtype"].kind == "f"
    return [Fill(v)] if real and type(v) is not complex else None


def _fill_broadcast(v, inputs, params, env):
    x = inputs[0]
    n = 1
    for d in params["shape"]:
        n *= d
    return [Fill(v * (n // max(x.aval.size, 1)))] if x.aval.size else None


from .primitives.elementwise import add_p as _add_p  # noqa: E402
from .primitives.elementwise import mul_p as _mul_p, neg_p as _neg_p, sub_p as _sub_p  # noqa
from .primitives.elementwise import div_p as _div_p  # noqa: E402
from .primitives.elementwise import mul_add_p as _mul_add_p  # noqa: E402
from .primitives.linalg import matmul_p as _matmul_p  # noqa: E402
from .backends.numpy_backend import matmul_add_into as _np_matmul_add_into  # noqa: E402
from .primitives.reductions import reduce_sum_p as _reduce_sum_p  # noqa: E402
from .primitives.linalg import diag_embed_p as _diag_embed_p  # noqa: E402
from .primitives.structural import (broadcast_in_dim as _broadcast, broadcast_p as _broadcast_p,  # noqa
                                    concat as _concat, concat_p as _concat_p,
                                    convert_p as _convert_p, flip_p as _flip_p,
                                    scatter_slice_p as _scatter_slice_p,
                                    full_like as _full_like, reshape as _reshape,
                                    reshape_p as _reshape_p, scatter_slice as _scatter_slice,
                                    slice_p as _slice_p, transpose_p as _transpose_p)

# Their transposes may return views of (or the very) cotangent they get.
_VIEWS = {_add_p, _reshape_p, _transpose_p, _broadcast_p, _concat_p, _flip_p, _reduce_sum_p,
          _scatter_slice_p, _diag_embed_p}
# The kinds of cotangents backward holds back (see there), and the primitives whose
# transposes it writes inline.
_PENDING = frozenset((_Sum, Fill, _Pieces))
_INLINED = frozenset((_slice_p, _mul_p, _mul_add_p, _sub_p, _add_p))
_FILL_RULES = {_add_p: _fill_add, _sub_p: _fill_sub, _neg_p: _fill_neg, _mul_p: _fill_mul,
               _mul_add_p: _fill_mul_add, _div_p: _fill_div, _reduce_sum_p: _fill_same,
               _reshape_p: _fill_same, _transpose_p: _fill_same, _convert_p: _fill_convert,
               _broadcast_p: _fill_broadcast}

# The count of a value held by one name of a function (with getrefcount's own argument),
# and whether the functions above see the counts they expect: on CPython with its GIL, checked
# here on arrays held and not held elsewhere; on any other Python, or should the check not
# pass, every product and sum is bound as before.
_SOLE = _sole_count()
_SOLE_BASE = _sole_base_count()
_IN_LIST = _in_list_count()
_INPLACE = True
try:
    _INPLACE = (sys.implementation.name == "cpython"
                and getattr(sys, "_is_gil_enabled", lambda: True)() and _check_inplace())
except Exception:  # (a probe: any failure means "not in place")
    _INPLACE = False
