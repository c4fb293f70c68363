"""``jit``: stage a function once per signature of its arguments, then run the cached graph.

The first call with arguments of given shapes, dtypes and devices (and given values of its
Python numbers and other non-array arguments) stages the function to a graph, as
``make_graph`` does, removes the equations its outputs do not need and those that repeat
(``graph.prune``), and keeps it. Later calls with the same signature skip the Python of the
function and of every transform inside it (``jit(grad(f))`` replays the gradient's
operations without tracing, linearizing or transposing anything) and evaluate the graph,
dropping each intermediate at its last use. From the second call on, the graph runs as one
generated Python function calling each primitive's implementation directly; a NumPy graph
with large arrays is instead evaluated by ``eval_graph``, which computes large results into
the memory of values that died in this or an earlier call (see :mod:`functrans.buffers`).
The arrays the function closes over are copied when it is staged (``_snapshot``), and every
result array is one of its own (``checkpointing._fresh``). A call whose arguments are passed
by position and are arrays, Python numbers, or tuples, lists, string-keyed dicts and Nones of
them is keyed without flattening a tree (``_array_keys``, ``_tree_keys``) and, with no
transform around, runs its compiled graph from the jitted function itself (``_Entry.call``).
Python numbers are static either way: keyed by their exact value, so that each new value
stages again (JAX traces them as weakly typed scalars instead, and compiles once for two
floats; here a number may steer Python control flow).

Staging is the one of ``checkpoint``: calls of ``custom_jvp``/``custom_vjp`` functions and
nested checkpoints stay calls, so a transform applied around the jitted function
(``grad(jit(f))``, ``vmap(jit(f))``) meets them with their rules; the graph is then evaluated
one primitive at a time under that transform.
"""

from __future__ import annotations

import contextvars
import enum
import functools
import inspect
import operator
import re
import threading
import types
import warnings
import weakref
from collections import OrderedDict

import numpy as _np
import optree

from . import buffers
from . import dtypes as _dt
from .backends import backend_of
from .backends import _default, default as default_backend_
from .checkpointing import _fresh, _kept_ids, _stage, _static
from .control_flow import summed_zeros_as_broadcasts
from .collectives import axis_env
from .core import (_SCALAR_DTYPES, EvalInterpreter, ShapedArray, Tracer, _by_type_get, _current,
                   _mixed, place_host_indices)
from .interpreters import fixed_values
from .graph import (_PY_SCALARS, Graph, Var, _last_uses, eval_graph, exact_key, format_graph,
                    prune, read_vars)
from .errors import RestagingWarning, check_function
from .numpy import _base as _fnp_base, device
from .numpy._promotion import mode as _promotion_mode
from .tree import _REGISTERED, NAMESPACE, tree_flatten

CACHE_SIZE = 64  # graphs kept per jitted function; the least recently used goes first
# Set by functrans.disable_jit(): jitted functions then call the function itself.
_jit_disabled = contextvars.ContextVar("functrans_jit_disabled", default=False)
_jit_disabled_get = _jit_disabled.get
_default_get = _default.get
_current_get = _current.get

# Staging this many times for arguments that differ only in the values of Python numbers
# warns (once per function): each value stages again.
RESTAGE_WARNING = 8
# Graphs of up to this many equations become one Python function (compiling it takes about
# 20 µs an equation); larger ones are evaluated equation by equation.
CODEGEN_LIMIT = 1_000_000
# Every jitted function, for functrans.clear_caches().
_JITTED: weakref.WeakSet = weakref.WeakSet()


class _Entry:
    """A cached graph and what a call needs besides it."""

    __slots__ = ("graph", "primal", "captured", "captured_ids", "rebuild", "last",
                 "primal_last", "program", "single")

    def __init__(self, staged, captured, rebuild, name, like=None):
        # Two graphs with the same inputs: ``graph`` keeps custom_jvp/custom_vjp calls as
        # calls, for transforms around the jitted function to use their rules; ``primal``
        # has the equations of their functions instead, staged once like the rest (what
        # they close over copied with it), for calls with no transform around.
        graph = prune(staged)
        primal = prune(staged.primal) if hasattr(staged, "primal") else graph
        # Only the closed-over arrays a pruned graph still reads are kept (and copied).
        n_args = len(graph.in_vars) - len(captured)
        read = read_vars(graph) | read_vars(primal)
        kept = [i for i, v in enumerate(graph.in_vars[n_args:]) if v in read]
        in_vars = graph.in_vars[:n_args] + [graph.in_vars[n_args + i] for i in kept]
        # (a cond's zeros that the graph only adds to others: broadcasts, see there)
        self.graph = summed_zeros_as_broadcasts(Graph(in_vars, graph.eqns, graph.outputs), like)
        self.primal = Graph(in_vars, self.graph.eqns, self.graph.outputs) if primal is graph \
            else summed_zeros_as_broadcasts(Graph(in_vars, primal.eqns, primal.outputs), like)
        self.captured = _snapshot([captured[i] for i in kept], name)
        self.captured_ids = _kept_ids(self.captured)
        self.rebuild = rebuild
        self.last = _last_uses(self.graph)
        self.primal_last = _last_uses(self.primal)
        self.program = None  # compiled at the second call with no transform around it
        # Whether the result is the graph's one output as it is (no tuple, no static leaf).
        mark = object()
        self.single = len(self.primal.outputs) == 1 and rebuild([mark]) is mark

    def run(self, arrays, traced):
        """The outputs for these array arguments (``traced``: whether one is a tracer)."""
        inputs = arrays + self.captured if self.captured else arrays
        if type(_current.get().interp) is EvalInterpreter and not traced:
            program = self.program
            if program is _FIRST_RUN:  # a second call: worth compiling
                program = self.program = _compile(self.primal, inputs, self.primal_last)
            elif program is None:  # the first: evaluated (a graph used once is not compiled)
                self.program = _FIRST_RUN
            if type(program) is types.FunctionType:
                outs = program(*inputs)
            else:
                outs = eval_graph(self.primal, inputs, self.primal_last)
        else:  # under a transform: each primitive through it
            outs = eval_graph(self.graph, inputs, self.last)
        return self.rebuild(_fresh(outs, arrays, self.captured_ids))

    def call(self, args):
        """``run(list(args), False)`` where the graph is compiled, no transform is around
        and ``args`` (a tuple) are all arrays: the same results, in fewer steps where the
        result is one array."""
        captured = self.captured
        outs = self.program(*args, *captured) if captured else self.program(*args)
        if self.single:  # (checks of _fresh's for one NumPy result, inline)
            o = outs[0]
            t = type(o)
            if t is _np.ndarray:
                if o.base is None and id(o) not in self.captured_ids:
                    for a in args:
                        if a is o:
                            break
                    else:
                        return o  # (its own memory, which nothing else holds)
            elif isinstance(o, _np.generic) and _by_type_get(t) is not None:
                return _np.asarray(o)  # a NumPy scalar: a fresh 0-d array, as _fresh makes
        return self.rebuild(_fresh(outs, args, self.captured_ids))


class Lowered:
    """A jitted function staged for given arguments, ahead of its calls
    (``jit(f).lower(*args)``, as ``jax.jit``'s): ``compile()`` gives the :class:`Compiled`
    callable, ``as_text()`` the staged graph as text (functrans's graph printer);
    ``in_tree``, ``out_tree`` and ``out_info`` (a pytree of ``ShapeDtypeStruct``) describe
    its arguments and results. functrans has no compiler below its graphs: there is no
    compiler IR and no cost or memory analysis (NotImplementedError)."""

    def __init__(self, name, entry, key, in_tree, signature):
        self._name, self._entry, self._key, self._signature = name, entry, key, signature
        self.in_tree = in_tree
        avals = [v.aval if type(v) is Var else v for v in entry.primal.outputs]
        self.out_info = entry.rebuild(avals)
        self.out_tree = tree_flatten(self.out_info)[1]

    def as_text(self, dialect=None, **kwargs):
        """The staged graph (what a call runs), one equation per line."""
        if dialect is not None:
            raise NotImplementedError(
                f"as_text: functrans has no compiler dialects (got dialect={dialect!r}); "
                f"as_text() prints the staged graph, make_jaxpr(f)(*args) the jaxpr.")
        return format_graph(self._entry.primal)

    def compile(self, compiler_options=None):
        """The :class:`Compiled` callable (nothing more to compile: graphs run as they are,
        a large one as generated Python from its second call)."""
        if compiler_options:
            raise NotImplementedError("compile: functrans has no compiler options (got "
                                      f"{sorted(compiler_options)}); call compile().")
        return Compiled(self)

    def compiler_ir(self, dialect=None):
        raise NotImplementedError(
            "compiler_ir: functrans stages to its own graphs, with no XLA/StableHLO below "
            "them; as_text() prints the graph, make_jaxpr(f)(*args) gives the jaxpr.")

    def cost_analysis(self):
        raise NotImplementedError("cost_analysis: functrans has no compiler to estimate "
                                  "costs; as_text() lists the operations.")

    def __repr__(self):
        return f"<Lowered jit of {self._name}>"


class Traced:
    """``jit(f).trace(*args)`` (``jax.jit``'s): ``jaxpr``, the staged program as a
    ``ClosedJaxpr`` (the arrays the function closes over are its constants), ``out_info``,
    and ``lower()``."""

    def __init__(self, lowered):
        self._lowered = lowered
        self.out_info = lowered.out_info

    @property
    def jaxpr(self):
        from .jaxpr import ClosedJaxpr, Jaxpr, _to_jaxpr
        entry = self._lowered._entry
        g = entry.primal
        jx, consts = _to_jaxpr(g)
        k = len(g.in_vars) - len(entry.captured)
        return ClosedJaxpr(Jaxpr(list(g.in_vars[k:]) + jx.constvars, jx.invars[:k], jx.eqns,
                                 jx.outvars), list(entry.captured) + consts)

    def lower(self):
        return self._lowered


class Compiled:
    """The callable of a :class:`Lowered` (``jit(f).lower(*args).compile()``): runs the
    staged graph for arguments of the shapes, dtypes and devices it was lowered for, given
    without the static arguments (fixed when lowering, as in JAX), and raises TypeError
    naming the first difference for any others. It runs outside transforms (call the jitted
    function itself inside them)."""

    def __init__(self, lowered):
        self._lowered = lowered
        self.in_tree, self.out_tree = lowered.in_tree, lowered.out_tree
        self.out_info = lowered.out_info

    def __call__(self, *args, **kwargs):
        low = self._lowered
        key, _, in_tree, arrays, traced = low._signature(args, kwargs)
        if traced:
            raise TypeError(
                f"jit of {low._name}: a compiled function runs on arrays, not on values being "
                f"transformed (grad, vmap...); call the jitted function itself inside "
                f"transforms.")
        if key != low._key and _modes_left_out(key) != _modes_left_out(low._key):
            raise TypeError(f"jit of {low._name}: the compiled function was lowered for "
                            f"other arguments: {_difference(low._key, key)}. Lower it again "
                            f"for these (jit(f).lower(*args).compile()), or call the jitted "
                            f"function, which stages once per signature.")
        return low._entry.run(arrays, False)

    def as_text(self):
        return self._lowered.as_text()

    def cost_analysis(self):
        return self._lowered.cost_analysis()

    def memory_analysis(self):
        raise NotImplementedError("memory_analysis: functrans has no compiler to analyse "
                                  "memory; as_text() lists the operations.")

    def runtime_executable(self):
        raise NotImplementedError("runtime_executable: there is no executable below the "
                                  "staged graph; call the Compiled object itself.")

    def __repr__(self):
        return f"<Compiled jit of {self._lowered._name}>"


def _difference(old, new):
    """Words for the first difference of two jit signatures (see ``signature`` in jit)."""
    tree, new_tree = _structure(old[0]), _structure(new[0])
    if (type(old[0]) is tuple and type(new[0]) is tuple and old[0] != new[0]
            and tree == new_tree):  # (_tree_keys's structures: a dict's key order)
        return (f"dictionaries with their keys in another order (lowered: "
                f"{_token_orders(old[0])}; called: {_token_orders(new[0])}); results keep "
                f"the arguments' key order, so it is part of the signature: pass the keys "
                f"in the order lowered")
    if tree != new_tree:
        return (f"arguments of structure {tree}, called with {new_tree} (static arguments "
                f"are left out of a compiled function's call)")
    if old[2] != new[2]:
        return "another default backend (functrans.default_backend)"
    # (after the dicts' key orders, if any: _tree_keys's structure holds them)
    start = 4 if type(old[0]) is not tuple and _has_dict(tree) else 3
    if start == 4 and old[3] != new[3]:
        return (f"dictionaries with their keys in another order (lowered: "
                f"{_key_orders(old[3])}; called: {_key_orders(new[3])}); results keep the "
                f"arguments' key order, so it is part of the signature: pass the keys in "
                f"the order lowered")
    for i, (a, b) in enumerate(zip(old[start:], new[start:])):
        if a != b:
            return f"leaf {i} of the arguments was {_describe(a)}, is {_describe(b)}"
    return "another signature"


def _key_orders(orders):
    """The key orders in ``_dict_orders``'s nesting (a dict's keys are the tuple that holds no
    tuple), in words."""
    found = []

    def walk(o):
        if type(o) is not tuple:
            return
        if o and not any(type(k) is tuple for k in o):
            found.append(list(o))
            return
        for v in o:
            walk(v)
    walk(orders)
    return ", ".join(map(str, found))


def _token_orders(tokens):
    """The key orders of the dicts in a structure ``_tree_keys`` wrote, in words (a dict's
    token is followed by its keys)."""
    return ", ".join(str(list(tokens[i + 1])) for i, t in enumerate(tokens) if t is dict)


def _describe(k):
    if type(k) is tuple and len(k) == 4 and isinstance(k[0], type):
        t, shape, dtype, dev = k
        d = getattr(dtype, "name", None) or str(dtype)
        where = f" on {dev}" if dev is not None else ""
        return f"a {t.__module__.split('.')[0]} array of shape {tuple(shape)} and dtype {d}{where}"
    if type(k) is tuple and len(k) == 2 and k[0] in _SCALAR_DTYPES:
        return f"the Python {k[0].__name__} {k[1]}"
    return repr(k)


def _context():
    """What a staging depends on besides the arguments, where a promotion mode of
    functrans.numpy may be set (``numpy_dtype_promotion("strict")``,
    ``numpy_rank_promotion("raise")``...): the default backend (what Python numbers and
    creation functions make arrays on) and both modes, whose checks run while the function
    is staged only, so that a graph staged under one mode is never run under another (as
    JAX keys its traces by them). The default backend alone where both are at their
    defaults (as the callers read it inline while no mode is set anywhere: a block opened
    in another thread stages nothing again here)."""
    modes = (_promotion_mode("rank"), _promotion_mode("dtype"))
    return _default_get() if modes == _DEFAULT_MODES else (_default_get(), *modes)


_DEFAULT_MODES = ("allow", "standard")


def _modes_left_out(key):
    """A signature with the promotion modes (see ``_context``) left out: a compiled
    function runs what was staged, whatever the modes of its call (as JAX's)."""
    return key[:2] + (key[2][0],) + key[3:] if type(key[2]) is tuple else key


def _shaped_zeros(a):
    b = default_backend_()
    return b.xp.zeros(a.shape, dtype=b.native_dtype(a.dtype))


def _count_restaging(restaged, key, name):
    """Count a staging under its signature with the values of Python numbers left out, and
    warn once where numbers alone keep making new signatures."""
    if restaged.get("warned"):
        return
    masked = tuple(k[0] if type(k) is tuple and len(k) == 2 and k[0] in _SCALAR_DTYPES else k
                   for k in key)
    if masked == key:
        return
    if len(restaged) > 4 * CACHE_SIZE:
        restaged.clear()
    n = restaged[masked] = restaged.get(masked, 0) + 1
    if n >= RESTAGE_WARNING:
        restaged["warned"] = True
        warnings.warn(
            f"jit of {name} has been staged {n} times for new values of a Python number "
            f"argument: numbers are part of a jitted function's signature. Pass a number "
            f"that changes from call to call as an array (fnp.asarray(value)).",
            RestagingWarning, stacklevel=3)


def _snapshot(captured, name):
    """Copies of the arrays a staged graph closes over (and those made while staging), as
    jax.jit does: a later change in place to the caller's array is not seen, by any
    operation (what was computed from it while staging cannot be recomputed)."""
    out = []
    for c in captured:
        if not isinstance(c, Tracer) and type(c) not in _SCALAR_DTYPES:
            if getattr(c, "requires_grad", False):  # a torch tensor in autograd's graph
                raise TypeError(
                    f"jit of {name}: the function closes over a tensor that requires grad "
                    f"(a parameter?). A staged graph keeps a copy of what it closes over, "
                    f"so its gradient would never reach the tensor: pass it as an argument.")
            c = backend_of(c).copy(c)
        out.append(c)
    return out


_DICT_TREES: dict = {}  # tree spec -> whether it holds a dict (equal specs share the answer)


def _has_dict(tree) -> bool:
    found = _DICT_TREES.get(tree)
    if found is None:
        if len(_DICT_TREES) > 1024:
            _DICT_TREES.clear()
        # (the tree of (args, kwargs) always holds the kwargs dict, often empty)
        found = _DICT_TREES[tree] = re.search(r"\{(?!\})", str(tree)) is not None
    return found


def _dict_orders(obj) -> tuple:
    """The order of the keys of every dict in ``obj`` (also inside registered pytree
    nodes), depth first."""
    if isinstance(obj, dict):
        out, children = [tuple(obj)], obj.values()
    elif isinstance(obj, (list, tuple)):
        out, children = [], obj
    else:
        if obj is None or type(obj) in _SCALAR_DTYPES or _by_type_get(type(obj)) is not None:
            return ()
        try:
            children = optree.tree_flatten_one_level(obj, namespace=NAMESPACE)[0]
        except ValueError:  # a leaf
            return ()
        out = []
    for v in children:  # (the common leaves inline: no frame each)
        t = type(v)
        out.append(() if v is None or t in _SCALAR_DTYPES or _by_type_get(t) is not None
                   else _dict_orders(v))
    return tuple(out)


_POSITIONAL_SPECS: dict = {}  # n -> the structure of ((n leaves), {}): n arrays, no keywords


def _positional_spec(n):
    spec = _POSITIONAL_SPECS.get(n)
    if spec is None:
        spec = tree_flatten(((0.0,) * n, {}))[1]
        if len(_POSITIONAL_SPECS) < 64:
            _POSITIONAL_SPECS[n] = spec
    return spec


def _structure(k):
    """The arguments' structure in a signature: its tree spec, the count of a call's
    positional arrays or the tokens of ``_tree_keys`` (see ``_array_keys``)."""
    if type(k) is int:
        return _positional_spec(k)
    if type(k) is tuple and k and k[0] is _TREE:
        return _TREE_SPECS.get(k, "another structure")
    return k


def _array_keys(args, static):
    """The signature of a call whose arguments are passed by position and are arrays of
    known backends, Python numbers, or tuples, lists, string-keyed dicts and Nones of them
    (the commonest calls), and the arrays among them in flattening order, as
    ``(keys, arrays)``; None for any other call.

    Such a signature starts with the number of arguments where all are arrays, with the
    structure ``_tree_keys`` writes otherwise, where other calls have the tree spec of
    ``(args, kwargs)``: a call takes this form or the other by its arguments' types only, so
    one signature is never cached under two keys, and an int or a short tuple is hashed and
    compared in a few nanoseconds where a tree spec takes half a microsecond, and flattening
    one more."""
    if _REGISTERED is None:  # pragma: no cover  (an optree without its registry: no short path)
        return None
    keys = [len(args), static, _context() if _fnp_base._PROMOTION_CHECKS else _default_get()]
    for x in args:
        t = type(x)
        b = _by_type_get(t)
        # (an array type registered as a pytree node would not be a leaf)
        if b is None or t in _REGISTERED or (NAMESPACE, t) in _REGISTERED:
            return _tree_keys(args, static)
        keys.append((t, x.shape, x.dtype, b.device(x) if b.devices else None))
    return keys, args


class _Tree:
    """The first item of a structure ``_tree_keys`` writes (equal to no tree spec or int)."""

    __slots__ = ()

    def __repr__(self):
        return "<pytree>"


_TREE = _Tree()
_TREE_SPECS: dict = {}   # a structure _tree_keys wrote -> its tree spec (for error messages)
_DICT_ORDERS: dict = {}  # a dict's keys, in order -> the order its flattening reads them


def _tree_keys(args, static):
    """``_array_keys`` for arguments with Python numbers or containers among them.

    The structure is written depth first as tokens: ``0`` for a leaf, None for None, the
    type and the length of a tuple or list, ``dict`` and its keys (in the order the caller
    made them: results keep it) for a dict, each container's items after it; the number of
    items a token states makes the sequence read back one way only. Leaves follow in the
    order of ``tree_flatten`` (a dict's by the order optree reads its keys): an array by its
    type, shape, dtype and device, a Python number by its type and exact value (static, as
    in the general path: ``exact_key``)."""
    tokens = [_TREE]
    keys = [None, static, _context() if _fnp_base._PROMOTION_CHECKS else _default_get()]
    arrays = []
    if not _walk(args, tokens, keys, arrays, 0):
        return None
    keys[0] = tuple(tokens)
    return keys, arrays


def _walk(items, tokens, keys, arrays, depth):
    """Write the tokens and leaf keys of ``items`` (see ``_tree_keys``); False where one is
    none of the kinds ``_tree_keys`` knows (the general path then keys the call)."""
    if depth > 32:
        return False
    for x in items:
        t = type(x)
        b = _by_type_get(t)
        if b is not None or t in _SCALAR_DTYPES:
            # (a leaf type registered as a pytree node would not be a leaf)
            if t in _REGISTERED or (NAMESPACE, t) in _REGISTERED:
                return False
            tokens.append(0)
            if b is None:
                keys.append((t, repr(x)))  # (exact_key's: 1, 1.0, True, 0.0, -0.0 apart)
                continue
            keys.append((t, x.shape, x.dtype, b.device(x) if b.devices else None))
            arrays.append(x)
        elif t is tuple or t is list:
            tokens.append(t)
            tokens.append(len(x))
            if not _walk(x, tokens, keys, arrays, depth + 1):
                return False
        elif t is dict:
            order = tuple(x)
            tokens.append(dict)
            tokens.append(order)
            found = _DICT_ORDERS.get(order)
            if found is None:
                found = _dict_read_order(order)
                if found is None:
                    return False
            if not _walk(map(x.__getitem__, found), tokens, keys, arrays, depth + 1):
                return False
        elif x is None:
            tokens.append(None)
        else:
            return False
    return True


def _dict_read_order(order):
    """The order ``tree_flatten`` reads a dict with these keys in (None unless all are
    strings): asked of optree itself, once per order."""
    if not all(type(k) is str for k in order):
        return None
    leaves = optree.tree_flatten(dict(zip(order, range(len(order)))), namespace=NAMESPACE)[0]
    found = tuple(order[i] for i in leaves)
    if len(_DICT_ORDERS) > 1024:
        _DICT_ORDERS.clear()
    _DICT_ORDERS[order] = found
    return found


_NOT_COMPILED = object()  # _compile's answer where eval_graph is better
_FIRST_RUN = object()     # an entry evaluated once (graphs used once are never compiled)


def _compile(graph, values, last):
    """``graph`` as one Python function of its inputs that calls each primitive's
    implementation, resolved now for the backends of ``values``, with no interpreter or
    dispatch in between, and deletes each value after its last use. ``_NOT_COMPILED`` where
    evaluation should go through ``eval_graph``: graphs with arrays large enough for it to
    reuse their memory (NumPy), and very large graphs."""
    if len(graph.eqns) > CODEGEN_LIMIT:
        return _NOT_COMPILED
    backends = {}
    for v, x in zip(graph.in_vars, values):
        if type(x) not in _SCALAR_DTYPES:
            backends[v] = backend_of(x)
    if buffers.would_reuse(graph, backends.values()):
        return _NOT_COMPILED
    names, scope = {}, {}

    def name(x):
        if type(x) is Var:
            return names[x]
        k = f"k{len(scope)}"  # a constant: by reference, so that its type and value stay
        scope[k] = x
        return k

    def new(v):
        names[v] = n = f"a{len(names)}"
        return n
    args = ", ".join(new(v) for v in graph.in_vars)
    lines = []
    read = read_vars(graph)
    for i, (prim, inputs, params, outputs) in enumerate(graph.eqns):
        backend = host = None
        for j, x in enumerate(inputs):
            b = backends.get(x) if type(x) is Var else (
                None if type(x) in _SCALAR_DTYPES else backend_of(x))
            if b is None:
                continue
            if prim.host_indices is not None and j >= prim.host_indices and b.name == "numpy":
                host = b  # NumPy positions: placed beside the data when called
                continue
            if backend is None:
                backend = b
            elif b is not backend and not prim.mixed_operands:
                _mixed(prim, backend, b)
        if backend is None:
            backend = default_backend_() if host is None else host
        fn = f"f{i}"
        scope[fn] = prim.impl_for(backend)
        if host is not None and backend is not host:
            scope[fn] = functools.partial(_with_host_indices, prim, scope[fn])
        call = f"{fn}({', '.join(name(x) for x in inputs)}"
        if params:
            scope[f"p{i}"] = params
            call += f"{', ' if inputs else ''}**p{i}"
        call += ")"
        outs = outputs if prim.multiple_results else [outputs]
        for o in outs:
            backends[o] = backend
        if prim.multiple_results:
            lhs = "".join(new(o) + ", " for o in outs) if outs else "_"
            unused = [names[o] for o in outs if o not in read]
        else:
            lhs, unused = new(outputs), []
        lines.append(f"    {lhs} = {call}")
        dead = unused + [names[x] for x in last.get(i, ())]
        if dead:
            lines.append(f"    del {', '.join(dead)}")
    lines.append(f"    return [{', '.join(name(x) for x in graph.outputs)}]")
    source = f"def program({args}):\n" + "\n".join(lines) + "\n"
    exec(compile(source, "<functrans.jit>", "exec"), scope)
    return scope["program"]


def _with_host_indices(prim, impl, *args, **params):
    return impl(*place_host_indices(prim, args), **params)


def _other_key(x, name):
    """What the staged graph depends on in an argument leaf that is not an array of a known
    backend: a Python number, a tracer, an array of a library not seen yet, a static value."""
    t = type(x)
    if t in _SCALAR_DTYPES:
        return exact_key(x)  # by value: 1, 1.0 and True, 0.0 and -0.0 stay apart
    if isinstance(x, Tracer):  # a transform around the call: the graph is of its aval
        aval = x.aval
        return (Tracer, aval.shape, aval.dtype, device(x))
    if not _static(x):
        return (t, tuple(x.shape), x.dtype, backend_of(x).device(x))
    if not _by_value(x):
        raise TypeError(
            f"jit of {name}: an argument of type {t.__name__} is neither an array, a pytree "
            f"of arrays, nor a value compared by its contents (a number, a string, a dtype, "
            f"a function): the staged graph would keep using what this object held when it "
            f"was staged. Register its class as a pytree node (ft.register_pytree_node) so "
            f"that its arrays are arguments, or, if it never changes, name it in "
            f"static_argnums.")
    return (t, exact_key(x))


def _by_value(x) -> bool:
    """Whether ``x`` can stand in a signature: hashable, and hashed by what it holds (str,
    bytes, numbers, devices...), or one of the objects that are their identity (functions,
    classes, enum members, dtypes). An object hashed by identity may change what it holds
    and still compare equal."""
    t = type(x)
    if t.__hash__ is None:
        return False
    if t.__hash__ is not object.__hash__:
        try:
            hash(x)
        except TypeError:  # a tuple-like holding something unhashable
            return False
        return True
    return (isinstance(x, (type, enum.Enum, types.FunctionType, types.BuiltinFunctionType,
                           types.MethodType))
            or _dt.as_dtype(x, strict=False) is not None)


def _check_output(x, name):
    """A leaf of the jitted function's result that is not an array or a Python number must
    be a plain value: anything else (an object, a closure) may hold the staging's tracers."""
    if type(x) in (str, bytes) or isinstance(x, enum.Enum) or _dt.as_dtype(
            x, strict=False) is not None:
        return
    raise TypeError(
        f"jit of {name}: the function returned a value of type {type(x).__name__}, which is "
        f"neither an array, a pytree of arrays, a number nor a string: a staged function's "
        f"results are what the graph computes, and such an object would be the one made "
        f"while staging, holding its tracers. Register its class as a pytree node "
        f"(ft.register_pytree_node), or return arrays.")


def _static_spec(fun, static_argnums, static_argnames, kind="static"):
    """The positions and names of the static arguments (each given either way, as JAX
    does, where the signature relates them); ``kind="donate"`` for the donated ones."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else static_argnums
    names = (static_argnames,) if isinstance(static_argnames, str) else static_argnames
    try:
        nums = tuple(operator.index(i) for i in nums)
        names = tuple(names)
    except TypeError:
        raise TypeError(f"jit: {kind}_argnums must be an int or ints, {kind}_argnames a "
                        f"string or strings; got {static_argnums!r} and "
                        f"{static_argnames!r}.") from None
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"jit: {kind}_argnames must be strings; got {static_argnames!r}.")
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # a builtin or callable without a signature
        return frozenset(nums), frozenset(names)
    positional = [p.name for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    for i in nums:
        if not has_varargs and not -len(positional) <= i < len(positional):
            raise ValueError(f"jit: {kind}_argnums {i} is out of range for a function of "
                             f"{len(positional)} positional argument(s).")
    # A negative position counts from the end of each call's positional arguments, as in
    # jax.jit (not from the signature's: the two differ where defaulted arguments are left
    # out), so it names no parameter here.
    nums = set(nums)
    names = set(names)
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        known = {p.name for p in params if p.kind is not p.POSITIONAL_ONLY}
        for n in names:
            if n not in known:
                raise ValueError(f"jit: {kind}_argnames {n!r} is not a parameter of the "
                                 f"function (it has {sorted(known)}).")
    for i in list(nums):
        if 0 <= i < len(positional) and params[i].kind is not params[i].POSITIONAL_ONLY:
            names.add(positional[i])
    for n in list(names):
        if n in positional:
            nums.add(positional.index(n))
    return frozenset(nums), frozenset(names)


def jit(fun, static_argnums=(), static_argnames=(), *, donate_argnums=(), donate_argnames=(),
        keep_unused=False, inline=False):
    """``fun`` staged once per signature of its arguments and replayed from then on
    (``jax.jit``).

    The first call with arguments of given shapes, dtypes and devices stages ``fun`` to a
    graph — with every transform inside it: ``jit(grad(f))`` records the gradient's
    operations — drops what its outputs do not need and what repeats, and caches it; later
    calls with the same signature run that graph without calling ``fun``. The default
    backend and the promotion modes (``numpy_dtype_promotion``, ``numpy_rank_promotion``)
    in force are part of the signature: their checks run while ``fun`` is staged. Results and
    derivatives are those of ``fun`` itself, and the jitted function can be transformed
    again (``grad(jit(f))``, ``vmap(jit(f))``).

    As with ``jax.jit``:

    - ``fun`` must be a function of its arguments: Python side effects (printing, appending
      to a list) happen while it is staged only, and the graph keeps a copy of the arrays
      it reads from outside (globals, closures) as they were then: later changes to them,
      in place or by rebinding the name, are not seen. Pass values that change as
      arguments (a closed-over torch tensor that requires grad is an error for that reason).
    - Python control flow cannot depend on the values of array arguments (use
      ``functrans.numpy.where``). Python numbers, strings, dtypes, functions and other
      values compared by their contents are static: they may steer control flow, and each
      new value stages again (pass a number that changes at every call as an array).
      ``static_argnums``/``static_argnames`` make whole arguments static (they must be
      hashable). Other objects are refused: register their class as a pytree node.
    - Results are arrays, Python numbers and strings (in any pytree), and each array is one
      of its own: never an argument, a closed-over array or another result.
    - Under a transform around the jitted function (``grad(jit(f))``), the
      ``custom_jvp``/``custom_vjp`` functions inside ``fun`` are called with their rules at
      every call (unlike jax.jit, which stages the rules too), and read what they close over
      then; with no transform around, their staged equations run like the rest.
    - Assigning into an argument (``x[i] = v``) is an error, since the caller's array would
      not change; ``x += 1`` rebinds the name ``x`` inside the function, as under every
      transform.

    Args:
        fun: the function to stage.
        static_argnums: positions of arguments passed as they are (hashable, not arrays).
            A negative one counts from the end of each call's positional arguments, as in
            ``jax.jit``: with ``def f(x, n=2, m=3)`` and ``static_argnums=-1``, ``f(x, 5)``
            makes ``n`` static and ``f(x, 5, 7)`` makes ``m`` static.
        static_argnames: names of keyword arguments passed as they are.
        donate_argnums, donate_argnames, keep_unused, inline: accepted for code written for
            ``jax.jit``, with no effect: a caller's arrays are never consumed or written
            (the memory functrans reuses is its own intermediates'), unused arguments cost
            nothing, and a jitted function called inside another one's staging is staged
            into it.

    The jitted function has ``clear_cache()`` and ``cache_size()``.

    Example:
        >>> f = ft.jit(ft.grad(lambda x: fnp.sum(fnp.sin(x) ** 2)))
        >>> f(fnp.asarray([0.5, 1.0]))
        array([0.84147098, 0.90929743])
    """
    check_function(fun, "jit")
    static_nums, static_names = _static_spec(fun, static_argnums, static_argnames)
    if donate_argnums != () or donate_argnames != ():
        # No effect here (see above), but checked as JAX checks them, so that code written
        # for jax.jit fails here where it would there.
        d_nums, d_names = _static_spec(fun, donate_argnums, donate_argnames, "donate")
        both = sorted(d_nums & static_nums) or sorted(d_names & static_names)
        if both:
            raise ValueError(f"jit: argument {both[0]!r} is both static and donated; a static "
                             f"argument is no array to donate: leave it out of "
                             f"donate_argnums/donate_argnames.")
    del donate_argnums, donate_argnames, keep_unused, inline  # no effect here (see above)
    name = getattr(fun, "__name__", repr(fun))
    cache: OrderedDict = OrderedDict()
    lock = threading.Lock()
    restaged: dict = {}  # the signature without its numbers' values -> stagings

    positions: dict = {}  # n -> (the static positions, the others) in a call of n arguments

    def split(args, kwargs):
        """(the traced arguments with static ones taken out, the static ones, a function of
        the traced ones)."""
        n = len(args)
        found = positions.get(n)
        if found is None:
            pos = tuple(sorted({i % n if i < 0 else i for i in static_nums if -n <= i < n}))
            found = (pos, tuple([i for i in range(n) if i not in pos]))
            if len(positions) < 64:
                positions[n] = found
        pos, dyn = found
        if not (kwargs and static_names):
            # Static Python numbers, strings and None by position (the common case): what
            # the general path below makes of them, with no tree or check to go through.
            static = []
            for i in pos:
                v = args[i]
                t = type(v)
                if t in _PY_SCALARS:
                    static.append((t, (t, repr(v))))  # (exact_key's, inline)
                elif t is str or v is None:
                    static.append((t, v))
                else:
                    break
            else:
                dyn_args = []
                for i in dyn:
                    dyn_args.append(args[i])

                def call(*a, **kw):
                    full, it = [], iter(a)
                    for i in range(n):
                        full.append(args[i] if i in pos else next(it))
                    return fun(*full, **kw)
                return tuple(dyn_args), dict(kwargs), (pos, (), tuple(static)), call
        names = [k for k in static_names if k in kwargs]
        # (a constant made inside an enclosing transform is a fixed value: its array)
        args = tuple(fixed_values(a) if i in pos else a for i, a in enumerate(args))
        kwargs = {k: fixed_values(v) if k in names else v for k, v in kwargs.items()}
        static = tuple(args[i] for i in pos) + tuple(kwargs[k] for k in names)
        for j, v in enumerate(static):
            try:
                hash(v)
            except TypeError:
                neg = [i for i in static_nums if i < 0 and j < len(pos) and i % n == pos[j]]
                where = (f" (static_argnums {neg[0]} counts from the end of the call's {n} "
                         f"positional argument(s), as in jax.jit: here it is argument "
                         f"{pos[j]})" if neg else "")
                raise TypeError(
                    f"jit of {name}: a static argument (static_argnums/static_argnames) "
                    f"must be hashable; got {type(v).__name__}{where}. Pass arrays as "
                    f"ordinary arguments, and a tuple instead of a list.") from None
            if any(isinstance(leaf, Tracer) for leaf in tree_flatten(v)[0]):
                raise TypeError(
                    f"jit of {name}: a static argument (static_argnums/static_argnames) is "
                    f"a value being transformed (a tracer of grad, vmap...), which has no "
                    f"fixed value to stage for. Pass it as an ordinary argument.")
        # Compared exactly (0.0 and -0.0, 1 and 1.0, float32 and float64 stay apart), not
        # by ==.
        static = tuple((type(v), exact_key(v)) for v in static)
        dyn_args = tuple(a for i, a in enumerate(args) if i not in pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in names}

        def call(*a, **kw):
            full, it = [], iter(a)
            for i in range(n):
                full.append(args[i] if i in pos else next(it))
            return fun(*full, **kw, **{k: kwargs[k] for k in names})
        return dyn_args, dyn_kwargs, (pos, tuple(names), static), call

    def signature(args, kwargs, static, short=True):
        """(the cache key of these traced arguments, their leaves and tree, the arrays among
        them, whether one is a tracer). ``short=False``: ``_array_keys`` has said None."""
        found = None if kwargs or not short else _array_keys(args, static)
        if found is not None:  # by position, of known kinds: see _array_keys
            keys = found[0]
            cur = _current.get().interp
            if type(cur) is not EvalInterpreter:
                env = axis_env(cur)
                if env:
                    keys.append(env)
            if type(keys[0]) is int:  # arrays only: no tree to flatten
                return tuple(keys), list(args), _positional_spec(len(args)), list(args), False
            leaves, in_tree = tree_flatten((args, kwargs))
            arrays = [x for x in leaves if type(x) not in _SCALAR_DTYPES]
            if len(arrays) == len(found[1]) and all(map(operator.is_, arrays, found[1])):
                if len(_TREE_SPECS) > 1024:
                    _TREE_SPECS.clear()
                _TREE_SPECS[keys[0]] = in_tree
                return tuple(keys), leaves, in_tree, arrays, False
            # (never expected: the flattening read the arrays in another order than
            # _tree_keys; the general key below is then the only one staged for)
        leaves, in_tree = tree_flatten((args, kwargs))
        # (the default backend as set, None for NumPy's: what Python numbers are made on)
        context = _context() if _fnp_base._PROMOTION_CHECKS else _default_get()
        keys, arrays, traced = [in_tree, static, context], [], False
        try:
            has_dict = _DICT_TREES.get(in_tree)
        except Exception as e:  # (a structure's static part compared with == (an array?))
            raise ValueError(
                f"jit of {name}: the static part of the arguments' structure (the aux data of "
                f"a registered pytree node, the meta fields of a dataclass) could not be "
                f"compared with a previous call's ({type(e).__name__}: {e}). Static data must "
                f"be hashable and compare with == to a bool: make arrays data fields, or "
                f"convert them (a tuple of numbers).") from e
        if has_dict is None:
            has_dict = _has_dict(in_tree)
        if has_dict:  # equal tree specs, but the function sees the keys' order
            keys.append(_dict_orders((args, kwargs)))
        for x in leaves:
            t = type(x)
            b = _by_type_get(t)
            if b is not None:  # an array of a known backend: the common case first
                keys.append((t, x.shape, x.dtype, b.device(x) if b.devices else None))
                arrays.append(x)
            else:
                keys.append(_other_key(x, name))
                if not (t in _SCALAR_DTYPES or _static(x)):
                    arrays.append(x)
                    traced = traced or isinstance(x, Tracer)
        cur = _current.get().interp
        if type(cur) is not EvalInterpreter:  # under transforms: the named vmaps' sizes too
            env = axis_env(cur)  # (a collective's result depends on them)
            if env:
                keys.append(env)
        return tuple(keys), leaves, in_tree, arrays, traced

    def staged(key, call, leaves, in_tree, traced):
        """(the cached entry for ``key``, staged now if there is none; ``traced``, true too
        where the graph closes over a value of a transform around the call)."""
        entry = cache.get(key)
        if entry is not None:
            try:
                cache.move_to_end(key)
            except KeyError:  # dropped by another thread meanwhile: it is still usable
                pass
            return entry, traced
        _count_restaging(restaged, key, name)
        graph, captured, rebuild = _stage(call, leaves, in_tree, name, "jit", _check_output)
        entry = _Entry(graph, captured, rebuild, name,
                       next((x for x in leaves if type(x) is _np.ndarray), None))
        # A value of a transform around this call (a closure over its tracer) is this
        # call's only: such a graph is used once, not kept.
        if any(isinstance(c, Tracer) for c in captured):
            traced = True
        else:
            with lock:
                cache[key] = entry
                while len(cache) > CACHE_SIZE:
                    cache.popitem(last=False)
        return entry, traced

    @functools.wraps(fun)
    def jitted(*args, **kwargs):
        if _jit_disabled_get():  # inside functrans.disable_jit(): the plain function
            return fun(*args, **kwargs)
        if static_nums or static_names:
            args, kwargs, static, call = split(args, kwargs)
        else:
            static, call = None, fun
        short = True  # (whether signature() should try _array_keys: not tried yet)
        if not kwargs and type(_current_get().interp) is EvalInterpreter:
            # The commonest call (arrays by position, no transform around) at its shortest:
            # the signature signature() makes for it, and the compiled graph run directly.
            found = _array_keys(args, static)
            short = found is not None
            if short:
                key = tuple(found[0])
                entry = cache.get(key)
                if entry is not None:
                    try:
                        cache.move_to_end(key)
                    except KeyError:  # dropped by another thread meanwhile: still usable
                        pass
                    arrays = found[1]
                    if type(entry.program) is types.FunctionType:
                        return entry.call(arrays)
                    return entry.run(list(arrays), False)
        key, leaves, in_tree, arrays, traced = signature(args, kwargs, static, short)
        entry, traced = staged(key, call, leaves, in_tree, traced)
        return entry.run(arrays, traced)

    def lower(*args, **kwargs):
        """The function staged for these arguments, ahead of its calls (``jax.jit``'s
        ``lower``): a :class:`Lowered` whose ``compile()`` gives the callable that runs the
        staged graph for arguments of these shapes, dtypes and devices (and these static
        values, which it then no longer takes) and whose ``as_text()`` prints the graph. A
        ``ShapeDtypeStruct`` stands for an array of the default backend."""
        leaves, tree = tree_flatten((args, kwargs))
        if any(type(x) is ShapedArray for x in leaves):
            args, kwargs = tree.unflatten([_shaped_zeros(x) if type(x) is ShapedArray else x
                                           for x in leaves])
        if static_nums or static_names:
            args, kwargs, static, call = split(args, kwargs)
        else:
            static, call = None, fun
        key, leaves, in_tree, arrays, traced = signature(args, kwargs, static)
        if traced:
            raise TypeError(
                f"jit of {name}: lower() was given values being transformed (tracers of "
                f"grad, vmap...); a lowered function is staged for arrays, and runs outside "
                f"transforms. Lower with arrays or ShapeDtypeStructs, and call the jitted "
                f"function itself inside transforms.")
        entry, traced = staged(key, call, leaves, in_tree, traced)
        if traced:
            raise TypeError(
                f"jit of {name}: the function closes over a value being transformed, so its "
                f"graph holds for this call only; lower() needs a function of its arguments "
                f"and of plain arrays.")
        return Lowered(name, entry, key, in_tree, lambda a, kw: signature(a, kw, static))

    def trace(*args, **kwargs):
        """``lower(*args, **kwargs)`` seen as ``jax.jit``'s ``trace``: a :class:`Traced`
        with the staged program as a ``jaxpr`` and ``lower()``."""
        return Traced(lower(*args, **kwargs))

    def clear_cache():
        """Forget every staged graph of this function."""
        with lock:
            cache.clear()

    jitted.clear_cache = clear_cache
    jitted.lower = lower
    jitted.trace = trace
    jitted.cache_size = lambda: len(cache)
    _JITTED.add(jitted)
    return jitted
