"""Reusing a staged derivative when the function's own trace repeats.

``hvp`` on large inputs stages forward-over-reverse of ``f`` to a graph and prunes it, every
call: tracing ``f`` through four interpreters and a backward pass costs several times what
tracing ``f`` alone does. Everything that staged graph depends on is in ``f``'s own trace —
which primitives it binds, with which parameters, on which of its inputs, earlier results,
Python scalars and captured arrays (by position, shape and dtype) — because the transforms
only ever see those. So each call traces ``f`` alone (cheaply), and where that trace equals
the one a cached graph was built from, runs that graph on this call's inputs and captured
arrays; otherwise it stages as before and caches the result.

The key is always taken from the very execution of ``f`` that built the graph (a
:class:`Recorder` sits between ``f`` and the transforms), so a function whose trace changes
from call to call (a global flag, a counter) can only miss, never get another trace's graph.
Traces that are not fully described by what is recorded are never cached: ``custom_jvp`` and
``custom_vjp`` functions (their rules are not in the trace), parameters that cannot be compared,
tracers of an enclosing transform, and graphs with constants that are not ``f``'s captured
arrays. Captured arrays become inputs of the cached graph, so it holds none of them, and the
current ones are used (an array replaced or changed in place between calls is seen).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from .core import (Interpreter, Tracer, _current, _slot_names, get_aval, reset_current,
                   set_current)
from .graph import _PY_SCALARS, Graph, Var, exact_key
from .interpreters import JVPTracer, StagingTracer
from .tree import tree_flatten

CACHE_SIZE = 32  # staged graphs kept (each a few dozen equations, no arrays)
ENABLED = True   # False: stage on every call, as if nothing were cached (read by hvp)

_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()
_local = threading.local()  # .likes: see note_traced_like; .writable: see writable_likes


def note_traced_like() -> None:
    """Called by functrans.numpy's ``zeros_like``, ``ones_like``... of a forward-mode tracer
    under a :class:`Recorder`, which give the staging's tracer (in the trace, so cacheable):
    ``y[i] = v`` into it then fails (``v`` is the caller's level's), and hvp stages again
    with :func:`writable_likes` on."""
    _local.likes = getattr(_local, "likes", 0) + 1


def traced_likes() -> int:
    return getattr(_local, "likes", 0)


def writable_likes() -> bool:
    """Whether ``zeros_like``... under a :class:`Recorder` give a constant of the caller's
    level, into which its values can be written, and make the trace uncacheable."""
    return getattr(_local, "writable", False)


_writers: OrderedDict = OrderedDict()  # keys of traces that write into a *_like of an input


def note_writes_into_likes(key) -> None:
    if key is None:
        return
    with _lock:
        _writers[key] = True
        _writers.move_to_end(key)
        while len(_writers) > CACHE_SIZE:
            _writers.popitem(last=False)


def writes_into_likes(key) -> bool:
    """Whether hvp found the function whose own trace has this key writing into a
    ``zeros_like``... of its input (then it stages with :func:`writable_likes` on at once)."""
    if key is None:
        return False
    with _lock:
        return key in _writers


class writing_likes:
    """Context manager: :func:`writable_likes` on, in this thread."""

    def __enter__(self):
        self.before = writable_likes()
        _local.writable = True

    def __exit__(self, *exc):
        _local.writable = self.before


class Recorder(Interpreter):
    """Passes each primitive bound on it to the interpreter below, unchanged, and writes down
    what was bound: the trace of the function running above it."""

    __slots__ = ("numbers", "held", "entries", "consts", "const_numbers", "cacheable")

    def __init__(self, parent, inputs):
        super().__init__(parent)
        self.held = []             # what numbered values are made of stays alive: ids stay unique
        self.numbers = {}          # identity (see _identity) -> value number
        self.entries = []
        self.consts = []           # captured arrays, in order of first use
        self.const_numbers = {}
        self.cacheable = True
        for x in inputs:
            self._number(x)

    def _number(self, x):
        ident, parts = _identity(x)
        n = len(self.held)  # a fresh number, even for a value numbered before
        self.held.append(parts)
        self.numbers[ident] = n
        return n

    def _operand(self, x):
        n = self.numbers.get(_identity(x)[0])
        if n is not None:
            return n
        if type(x) in _PY_SCALARS:
            return exact_key(x)
        if isinstance(x, Tracer):  # an enclosing transform's value: not described here
            self.cacheable = False
            return ("tracer",)
        j = self.const_numbers.get(id(x))
        if j is None:
            j = self.const_numbers[id(x)] = len(self.consts)
            self.consts.append(x)
        aval = get_aval(x)
        return ("const", j, type(x), aval.shape, aval.dtype)

    def process(self, prim, args, params):
        if prim.inline is not None or prim.jvp_inline is not None:
            self.cacheable = False  # a custom rule: not in the trace
        operands = tuple([self._operand(a) for a in args])
        described = ()
        if params:  # (most primitives have none)
            try:
                described = tuple((k, exact_key(v)) for k, v in sorted(params.items()))
                hash(described)
            except TypeError:
                self.cacheable = False
                described = None
        out = self.parent.process(prim, args, params)
        results = (tuple([self._number(o) for o in out]) if prim.multiple_results
                   else (self._number(out),))
        self.entries.append((prim, described, operands, results))
        return out

    def key(self, outputs, context):
        """The hashable description of the trace, or None if it cannot be cached."""
        if not self.cacheable:
            return None
        outs = tuple(self._operand(o) for o in outputs)
        if not self.cacheable:
            return None
        return (context, tuple(self.entries), outs)


def _identity(x):
    """``(key, parts)``: what value ``x`` stands for, by object identity. A tracer is the
    objects its slots hold, not the tracer object: item assignment (``y[m] = 0``) re-points a
    tracer at a new value by copying the new tracer's slots into it, and a copy is another
    object for the same value."""
    t = type(x)
    if t is StagingTracer:  # the common cases first: a Var is keyed by its identity
        return x._var, x._var
    if t is JVPTracer:
        p, d = x.primal, x.tangent
        return (id(p), id(d)), (p, d)
    if isinstance(x, Tracer):
        parts = tuple([getattr(x, n) for n in _slot_names(t)])
        return tuple([id(v) for v in parts]), parts
    return id(x), x


def recording(fun, sink):
    """``fun`` run with a :class:`Recorder` above the current interpreter; the recorder and
    ``fun``'s flat outputs are appended to ``sink`` as ``(recorder, outputs)``."""

    @functools.wraps(fun)  # errors name the user's function, not this wrapper
    def recorded(*args):
        leaves = tree_flatten(args)[0]
        rec = Recorder(_current.get().interp, leaves)
        token = set_current(rec)
        try:
            out = fun(*args)
        finally:
            reset_current(token)
            rec.active = False
        sink.append((rec, tree_flatten(out)[0]))
        return out

    return recorded


def lookup(key):
    if key is None:
        return None
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
        return entry


def store(key, graph, consts):
    """Cache ``graph`` (whose constants must all be among ``consts``, the recorded captured
    arrays) under ``key``, with those constants turned into trailing inputs; returns False
    (caching nothing) where a constant is not one of them."""
    if key is None:
        return False
    slot = {id(c): i for i, c in enumerate(consts)}
    const_vars = [Var(get_aval(c)) for c in consts]

    def rename(x):
        if type(x) is Var or type(x) in _PY_SCALARS:
            return x
        i = slot.get(id(x))
        if i is None:
            raise LookupError
        return const_vars[i]

    try:
        eqns = [(prim, tuple(rename(x) for x in inputs), params, outputs)
                for prim, inputs, params, outputs in graph.eqns]
        outputs = [rename(x) for x in graph.outputs]
    except LookupError:
        return False
    cached = Graph(list(graph.in_vars) + const_vars, eqns, outputs, graph.in_tree,
                   graph.out_tree)
    with _lock:
        _cache[key] = cached
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return True


def clear() -> None:
    """Forget every cached graph."""
    with _lock:
        _cache.clear()
        _writers.clear()
