"""The core of functrans: primitives, ``bind``, the interpreter stack, tracers and abstract values.

How an operation flows: ``functrans.numpy.sin(x)`` calls ``sin_p.bind(x)``, which hands the
primitive to the *current interpreter* (held in a context variable, so each thread and async
task has its own). Each transformation pushes a fresh interpreter whose parent is the one that
was current. An interpreter owns its tracers by identity: if none of the arguments is one of
its own tracers it forwards the primitive to its parent untouched; otherwise it applies the
primitive's rule for its transformation (JVP, staging...) with its parent as the current
interpreter, so the rule's own operations land one level down. The bottom interpreter
evaluates: it calls the primitive's ``impl`` on concrete arrays through their backend.
"""

from __future__ import annotations

import contextvars
import dis as _dis
import functools
import operator
import sys as _sys
import _thread
import weakref

from . import dtypes as _dt
from .backends import _by_type, _registry_hooks as _backends_registry_hooks, backend_of, \
    resolve_type
from .backends import default as default_backend_
from .array_methods import NumPyArrayMethods
from .errors import (BackendMismatchError, MissingRuleError, TracerArrayConversionError,
                     UnexpectedTracerError, UnsupportedBackendError)

# -- abstract values -----------------------------------------------------------------------


class ShapedArray:
    """The abstract value of an array: its shape and dtype. ``weak_type`` marks a Python
    scalar, which takes the dtype of the array it meets (Array API promotion)."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = shape
        self.dtype = dtype
        self.weak_type = weak_type

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __eq__(self, other):
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype is other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def str_short(self):
        return f"{self.dtype.short}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        return f"ShapedArray({self.str_short()}{', weak' if self.weak_type else ''})"


_new = object.__new__
_dtype_by_id = _dt._by_id.get
_AVALS: dict = {}  # (shape, id of a registered native dtype) -> ShapedArray (see get_aval)
_avals_get = _AVALS.get

_SCALAR_DTYPES = {bool: _dt.bool_, int: _dt.int64, float: _dt.float64, complex: _dt.complex128}
_REAL_NUMBERS = frozenset((bool, int, float))
_NOT_OPERANDS = (type(Ellipsis), type(None), slice)

# Opcodes during which a C-level container's subscript runs (len() asked of its index there
# is that library's indexing, never the user's len(); functrans's own __getitem__ runs in
# a frame of its own). Python 3.14 writes x[i] as BINARY_OP with NB_SUBSCR.
_SUBSCRIPT_OPS = frozenset(_dis.opmap[n] for n in ("BINARY_SUBSCR", "STORE_SUBSCR",
                                                    "DELETE_SUBSCR") if n in _dis.opmap)
try:
    _NB_SUBSCR = [n for n, _ in _dis._nb_ops].index("NB_SUBSCR")
except (AttributeError, ValueError):
    _NB_SUBSCR = None


def _in_foreign_subscript(frame):
    code, i = frame.f_code.co_code, frame.f_lasti
    if not 0 <= i < len(code):
        return False
    op = code[i]
    return op in _SUBSCRIPT_OPS or (_NB_SUBSCR is not None
                                    and op == _dis.opmap.get("BINARY_OP")
                                    and code[i + 1] == _NB_SUBSCR)


def get_aval(x) -> ShapedArray:
    """The abstract value of a tracer, an array of any backend, or a Python scalar."""
    t = type(x)
    b = _by_type.get(t)
    if b is not None:  # an array of a known backend: the common case, first
        # One abstract value per shape and native dtype (avals are never changed): a
        # residual's, met again at every step. Keyed by the id of a native dtype the backends
        # registered (alive as long as the registry), so an id is never another dtype's.
        d = x.dtype
        key = (x.shape, id(d))
        try:  # (free in Python 3.11+ while nothing is raised)
            a = _avals_get(key)
        except TypeError:  # (a shape that is no tuple, of a library outside the standard)
            a = key = None
        if a is not None:
            return a
        # (ShapedArray(shape, dtype) without its __init__'s frame, the dtype by the id of
        # the native one: what b.dtype(x) gives, or its error)
        a = _new(ShapedArray)
        a.shape = tuple(x.shape)
        d = _dtype_by_id(id(d))
        a.weak_type = False
        if d is None:
            a.dtype = b.dtype(x)
        else:
            a.dtype = d
            if key is not None and len(_AVALS) < 4096:
                _AVALS[key] = a
        return a
    a = _WEAK_AVALS_GET(t)
    if a is not None:  # a Python scalar (one shared aval per type: avals are never changed)
        return a
    if t is _JVPTracer:
        # Forward mode's tracer (nested derivatives: an inner grad's input, a residual of
        # reverse mode under hessian) stands for the value at the bottom of its primals:
        # that one's aval, without JVPTracer.aval's frame (as it does, inline)
        x = x.primal
        while type(x) is _JVPTracer:
            x = x.primal
        return get_aval(x)
    if isinstance(x, Tracer):
        return x.aval
    return ShapedArray(tuple(x.shape), backend_of(x).dtype(x))


_WEAK_AVALS = {t: ShapedArray((), d, weak_type=True) for t, d in _SCALAR_DTYPES.items()}
_WEAK_AVALS_GET = _WEAK_AVALS.get


# Tracer types whose values are always floating point (a JVP tracer only ever wraps a value
# that carries a derivative): functrans.numpy then skips its dtype check on the hot path.
INEXACT_TRACER_TYPES: set = set()

# Array type -> its backend's floating-point native dtypes (Backend.inexact_natives), for
# functrans.numpy's fast paths: set by Primitive.impl_for before it caches an implementation
# under the type, and never removed, so a type found among a primitive's implementations is
# a key here.
INEXACT_NATIVES: dict = {}


def eval_jaxpr(jaxpr, consts, *args, propagate_source_info=True):
    """The outputs of a :class:`~functrans.jaxpr.Jaxpr` (``jax.core.eval_jaxpr``): see
    :func:`functrans.jaxpr.eval_jaxpr`."""
    from .jaxpr import eval_jaxpr as _eval_jaxpr
    return _eval_jaxpr(jaxpr, consts, *args, propagate_source_info=propagate_source_info)


# -- primitives ----------------------------------------------------------------------------


# Every primitive, to clear their caches when the backends registry changes.
_primitives: weakref.WeakSet = weakref.WeakSet()


class Primitive:
    """A named operation with its rules kept together.

    - ``impl(backend, *args, **params)``: evaluate on concrete arrays through a backend.
    - ``abstract_eval(*avals, **params)``: the :class:`ShapedArray` of the result(s).
    - ``jvp(primals, tangents, **params)``: ``(primal_out, tangent_out)``, written with
      ``bind``-ing functions so that it can itself be differentiated. A tangent is ``None``
      when it is a symbolic zero; a rule returns ``None`` for a zero output tangent.
    - ``transpose(cotangent, *args, **params)``: for primitives linear in some arguments. The
      linear arguments arrive as :class:`Var` (with an ``aval``), the others as values; it
      returns one cotangent (or ``None``) per argument.
    - ``jvp_from_output(tangents, out, **params)``, optional: the output tangent from the
      operands' tangents and the result alone, for functions whose derivative is one of
      their value (``exp``, ``tanh``, ``sqrt``). A checkpoint's recomputation uses it for a
      kept result, so that the operands themselves need not be recomputed.
    - ``batch``: reserved for ``vmap``.

    Primitives are shape-strict: array operands have equal shapes and dtypes, and axes are
    explicit. Python scalars are accepted as weakly typed constants. Broadcasting and
    promotion live in :mod:`functrans.numpy`.
    """

    __slots__ = ("name", "impl", "abstract_eval", "jvp", "transpose", "batch",
                 "multiple_results", "same_aval", "inline", "jvp_inline", "namespace_impl",
                 "into", "project", "value_free", "batch_sees_interp", "collective",
                 "jvp_from_output", "host_indices", "mixed_operands", "_impls",
                 "_broadcasting", "__weakref__")

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results
        self.impl = self.abstract_eval = self.jvp = self.transpose = self.batch = None
        # True when the output's abstract value is that of the first array operand
        # (elementwise with no dtype change): lets staging skip abstract_eval.
        self.same_aval = False
        # For primitives that wrap a user function (custom_jvp, custom_vjp): a function
        # staging calls instead of recording the primitive, i.e. it inlines the user function.
        self.inline = None
        # Forward mode by running a Python function of traceable operations on the JVP
        # tracers themselves (so that values captured in params are differentiated too).
        self.jvp_inline = None
        # When set, ``impl`` is the backend namespace's function of this name, called with
        # the operands as they are: evaluation then calls it with no Python frame between.
        self.namespace_impl = None
        # Optional ``into(backend, outs, *args, **params)``: evaluates into the given arrays,
        # one per result, and returns the result(s), or None where the backend cannot; used
        # by graph evaluation to reuse memory (see functrans.buffers).
        self.into = None
        # For primitives with several results: ``project(i, **params)`` gives ``(primitive,
        # params)`` computing result ``i`` alone, or None; a staged graph that reads only
        # that result uses it (sin_cos read for its cos is cos).
        self.project = None
        # The result depends on the operands' shapes and dtypes only, never on their values
        # (full_like): recorded for a backward pass, it is a constant (see TangentRecorder).
        self.value_free = False
        # The batching rule takes the batch interpreter too (``batch_interp=``): the rules of
        # primitives that re-run a user's function under vmap, which may close over the
        # batch's own tracers.
        self.batch_sees_interp = False
        # A collective over a vmap's named axis (functrans.collectives): the vmap of that name
        # applies its batching rule even to operands it does not batch.
        self.collective = False
        # Optional: the tangent written from the result instead of the operands (see the
        # class docstring); never used by forward mode itself, which runs ``jvp``.
        self.jvp_from_output = None
        # Operands from this position on are positions (gather's index arrays): NumPy integer
        # or boolean ones beside another library's data are made in that library, as the
        # namespace does for them outside a transform (see place_host_indices).
        self.host_indices = None
        # The implementation runs graphs on the operands (cond, while, scan): they may belong
        # to several libraries, as the same Python code may mix them outside jit; the graphs'
        # own primitives hold each operation to one library.
        self.mixed_operands = False
        # backend -> callable(*args, **params), filled on first use; also array type ->
        # the same callable for the types the backend owns, so that functrans.numpy's fast
        # paths find it with one look-up (cleared when the backends registry changes)
        self._impls = {}
        # array type -> the same callable, for the types whose backend's implementation is
        # its Array API namespace's function, which broadcasts operands of unequal shapes as
        # functrans.numpy would (the standard's rule): its binary fast path then skips the
        # shape test (cleared with _impls)
        self._broadcasting = {}
        _primitives.add(self)

    def __repr__(self):
        return self.name

    def bind(self, *args, **params):
        return _current_get().interp.process(self, args, params)

    # Decorators to attach rules right below the primitive's declaration.
    def def_impl(self, f):
        """``f(backend, *args, **params)`` evaluates the primitive on concrete arrays."""
        self.impl = f
        self.namespace_impl = None
        self._impls.clear()
        self._broadcasting.clear()
        return f

    def def_namespace_impl(self, name: str):
        """The primitive is the backend namespace's function ``name`` (``xp.sin``...)."""
        self.namespace_impl = name
        self.impl = lambda backend, *args, **params: getattr(backend.xp, name)(*args, **params)
        self._impls.clear()
        self._broadcasting.clear()

    def impl_for(self, backend):
        """The callable that evaluates this primitive on ``backend`` (cached per backend)."""
        fn = self._impls.get(backend)
        if fn is None:
            if self.impl is None:
                raise MissingRuleError(f"primitive {self.name!r} has no implementation")
            fn = backend.impls.get(self.name)
            broadcasts = fn is None and self.namespace_impl is not None
            if fn is None:
                fn = (getattr(backend.xp, self.namespace_impl) if self.namespace_impl
                      else functools.partial(self.impl, backend))
            self._impls[backend] = fn
            # (getattr: a stand-in backend of a test may lack the table)
            by_type = getattr(backend, "type_impls", _NO_TYPE_IMPLS).get(self.name)
            for t in backend.array_types:
                if _by_type.get(t) is backend:
                    INEXACT_NATIVES[t] = backend.inexact_natives  # (first: see there)
                    f = fn if by_type is None else by_type.get(t, fn)
                    self._impls[t] = f
                    if broadcasts:
                        self._broadcasting[t] = f
        return fn

    def def_abstract_eval(self, f):
        self.abstract_eval = f
        return f

    def def_jvp(self, f):
        self.jvp = f
        return f

    def def_jvp_inline(self, f):
        """Forward mode evaluates ``f(*args, **params)`` on the JVP tracers instead of a rule."""
        self.jvp = None
        self.jvp_inline = f
        return f

    def def_jvp_from_output(self, f):
        """``f(tangents, out, **params)``: the output tangent from the operands' tangents
        (``None`` for symbolic zeros; at least one is not) and the result ``out`` alone. It
        must agree with ``jvp`` everywhere, to every order when differentiated."""
        self.jvp_from_output = f
        return f

    def def_transpose(self, f):
        self.transpose = f
        return f

    def def_batch(self, f):
        self.batch = f
        return f


# Every primitive ever declared, by name: lets the tests check that each has all its rules.
registry: dict[str, Primitive] = {}


def primitive(name: str, multiple_results: bool = False) -> Primitive:
    if name in registry:
        raise ValueError(f"primitive {name!r} is declared twice")
    p = registry[name] = Primitive(name, multiple_results)
    return p


# -- interpreters --------------------------------------------------------------------------


class Interpreter:
    """Base of every interpreter. ``parent`` is the interpreter below; ``active`` turns false
    when the owning transform returns, so a leaked tracer can be reported."""

    __slots__ = ("parent", "active", "__weakref__")

    def __init__(self, parent: Interpreter | None):
        self.parent = parent
        self.active = True

    def process(self, prim: Primitive, args: tuple, params: dict):
        raise NotImplementedError


_by_type_get = _by_type.get


_NO_TYPE_IMPLS = {}  # (Primitive.impl_for: a backend without per-type implementations)


def _forget_impls():
    """Clear every primitive's cached implementations (the backends registry changed, so a
    cached array type may now belong to another backend)."""
    for prim in list(_primitives):
        prim._impls.clear()
        prim._broadcasting.clear()


_backends_registry_hooks.append(_forget_impls)
_backends_registry_hooks.append(_AVALS.clear)  # (a dtype registered anew: ids start over)


class EvalInterpreter(Interpreter):
    """The bottom of every stack: calls the primitive's ``impl`` on concrete arrays."""

    __slots__ = ()

    def process(self, prim, args, params):
        # Fastest path: the implementation cached under the first operand's array type (see
        # Primitive.impl_for: only types their backend owns are keys), with one operand or
        # a second of the same type or a Python scalar. One look-up, no backend in between.
        n = len(args)
        if n == 1 or n == 2:
            t = type(args[0])
            fn = prim._impls.get(t)
            if fn is not None:
                if n == 1 or type(args[1]) is t or type(args[1]) in _SCALAR_DTYPES:
                    return fn(*args, **params) if params else fn(*args)
            elif n == 2 and t in _REAL_NUMBERS and prim.host_indices is None:
                # A real Python number first (2 * x, 1 - x in scalar code and rules): by the
                # second operand's type, the implementation the backend's look-up below
                # would reach, or an operand type's own (Backend.type_impls), which takes a
                # real number on either side (a complex one: the look-up below)
                fn = prim._impls.get(type(args[1]))
                if fn is not None:
                    return fn(*args, **params) if params else fn(*args)
        elif n:  # (several operands, mul_add's sums: the same where they are all so)
            t = type(args[0])
            fn = prim._impls.get(t)
            if fn is None and t in _REAL_NUMBERS and prim.host_indices is None:
                for a in args:  # (a real Python number first: by the first array's type)
                    if type(a) not in _SCALAR_DTYPES:
                        t = type(a)
                        fn = prim._impls.get(t)
                        break
            if fn is not None:
                for a in args:
                    if type(a) is not t and type(a) not in _SCALAR_DTYPES:
                        break
                else:
                    return fn(*args, **params) if params else fn(*args)
        # Operands of one backend (and Python scalars) otherwise; _backend for the rest.
        t0 = type(args[0]) if n else None
        backend = _by_type_get(t0)
        if backend is not None and n > 1:
            if n == 2:
                t = type(args[1])
                if _by_type_get(t) is not backend and t not in _SCALAR_DTYPES:
                    backend = None
            else:  # several operands (mul_add, select...): the first's type needs no look-up
                for a in args:
                    t = type(a)
                    if t is not t0 and _by_type_get(t) is not backend and \
                            t not in _SCALAR_DTYPES:
                        backend = None
                        break
        if backend is None:
            if prim.host_indices is not None:
                args = place_host_indices(prim, args)
            backend = self._backend(prim, args)
            if backend is None:  # constants held as tracers among the operands
                return self._with_constants(prim, args, params)
            if backend is _REDISPATCH:  # (see _foreign_cell_leak)
                return _current_get().interp.process(prim, args, params)
        fn = prim._impls.get(backend)
        if fn is None:
            fn = prim.impl_for(backend)
        # Without keywords NumPy's ufuncs take their fast calling path.
        return fn(*args, **params) if params else fn(*args)

    def _backend(self, prim, args):
        """The one backend of the operands (the default one if all are Python scalars);
        errors for leaked tracers and mixed backends."""
        backend = None
        for a in args:
            b = _by_type_get(type(a))
            if b is None:
                if type(a) in _SCALAR_DTYPES:
                    continue
                if type(a) is _ConstTracer:
                    return None
                if isinstance(a, Tracer):
                    if _foreign_cell_leak(a):
                        return _REDISPATCH
                    _leaked(prim, a)
                b = resolve_type(type(a), a)
            if backend is None:
                backend = b
            elif b is not backend and not prim.mixed_operands:
                _mixed(prim, backend, b)
        return default_backend_() if backend is None else backend


    def _with_constants(self, prim, args, params):
        """Evaluate with the constants held as tracers (functrans.interpreters.ConstTracer)
        unwrapped. Where user code under forward mode, vmap or a staging called the
        operation (that interpreter current: the operation reached here by being forwarded,
        not from a rule, which runs with the interpreter below current), the result is such a
        constant again, so that constants stay in functrans.numpy's namespace until the
        transform returns."""
        # The implementation runs with the evaluator current, as a rule runs with the
        # interpreter below: what it computes (a solver's or a loop's body, given the
        # constants' values) is plain, not constants that functrans's own code would meet
        # with plain arrays.
        cell, interp = switch_current(self)
        try:
            out = self.process(prim, tuple([a.primal if type(a) is _ConstTracer else a
                                            for a in args]), params)
        finally:
            cell.interp = interp
        if type(interp) not in _CONSTANT_INTERPRETERS and not any(
                type(a) is _ConstTracer and a._interp is interp for a in args):
            return out  # (the latter: a custom rule's plain operands, custom._lift_plain)
        if prim.multiple_results:
            return [_ConstTracer(interp, o) if _by_type_get(type(o)) is not None else o
                    for o in out]
        return _ConstTracer(interp, out) if _by_type_get(type(out)) is not None else out


def place_host_indices(prim, args):
    """``args`` with the NumPy integer and boolean arrays among the index operands of ``prim``
    (from ``prim.host_indices`` on) made in the library, and on the device, of its first
    other array operand: NumPy index arrays passed through jit or vmap reach the primitive
    as such, where outside a transform functrans.numpy converted them already."""
    import numpy as np
    k = prim.host_indices
    target = None
    for a in args[:k]:
        if type(a) in _SCALAR_DTYPES or isinstance(a, (np.ndarray, Tracer)):
            continue
        target = a
        break
    if target is None:
        return args
    out = list(args)
    b = dev = None
    for i in range(k, len(args)):
        a = args[i]
        if isinstance(a, np.ndarray) and a.dtype.kind in "biu":
            if b is None:
                b = backend_of(target)
                dev = b.device(target)
            out[i] = b.asarray(np.asarray(a), device=dev)
    return tuple(out)


def is_concrete_array(x) -> bool:
    """Whether ``x`` is an array of a backend, not a tracer (one whose type the dispatch table
    has not met yet included: a program's first call may hand over a torch tensor)."""
    if type(x) in _by_type:
        return True
    if isinstance(x, Tracer) or not hasattr(x, "shape"):
        return False
    try:
        backend_of(x)
    except (UnsupportedBackendError, TypeError):
        return False
    return True


_REDISPATCH = object()  # (EvalInterpreter._backend's answer: bind the operation again)


def _foreign_cell_leak(tracer) -> bool:
    """Whether a tracer of a running transform reached the evaluator through a cell that
    another thread switches in place (a context copied inside that transform, entered by
    this thread): the operation may have read a rule's switch of that thread's. This thread
    then takes a cell of its own, holding the interpreter the transform pushed, and the
    caller binds the operation again from there (see _CurrentCell)."""
    cell = _current_get()
    if cell.thread is None or cell.thread == _get_ident():
        return False
    interp = getattr(tracer, "_interp", None)
    if interp is None or not interp.active:
        return False
    _own_cell(cell)
    return True


def _leaked(prim, tracer):
    err = UnexpectedTracerError(
        f"A tracer ({tracer!r}) reached {prim.name!r} after the transform that created it "
        f"had returned (or from a transform that is not an enclosing one). A transform's "
        f"tracers are only valid inside the function being transformed; return the values "
        f"you need from it instead of storing them in globals, lists or attributes.")
    err.tracer = tracer  # (custom.py tells a custom rule's closure which kind it was)
    raise err


def _mixed(prim, b1, b2):
    raise BackendMismatchError(
        f"{prim.name!r} got arrays of two backends, {b1.name!r} and {b2.name!r}. functrans "
        f"never copies between libraries or devices implicitly: convert one of them first "
        f"(for example with the target library's asarray or from_dlpack)."
        + _creation_hint(b1.name, b2.name))


def _creation_hint(n1, n2):
    """Where one side is the default backend's: the likely cause (a creation function run
    outside a transform) and its fixes."""
    from .backends import default as _default
    d = _default().name
    if d not in (n1, n2):
        return ""
    other = n2 if n1 == d else n1
    return (f" If the {d} array came from a functrans.numpy creation function called outside "
            f"a transform (arange, zeros, ones, full, eye, asarray of numbers...) or from a "
            f"functrans.numpy.random draw, which make arrays of the default backend ({d}), "
            f"create it beside the other with like=x (or device=x.device), or make {other!r} "
            f"the default: functrans.default_backend({other!r}).")


EVAL = EvalInterpreter(None)


class _CurrentCell:
    """Where a context holds its current interpreter (``interp``): the context variable
    ``_current`` holds one of these, and ``bind`` reads ``_current.get().interp``.

    A transform's push makes a fresh cell with a context-variable ``set``
    (:func:`set_current`), so each thread and async task keeps its own stack as before. The
    switch around each rule (to the interpreter below while the rule runs) instead stores into
    the cell in place (:func:`switch_current`), an attribute store where a ``set``/``reset``
    pair costs about 2,300 instructions. That is safe because such a switch is synchronous
    (no task can run until it is undone) and only ever done by ``thread``, the thread that
    made the cell. A context copied while the cell is current (an asyncio task,
    ``asyncio.to_thread``, ``contextvars.copy_context()``) shares the object: another thread
    running in the copy takes a cell of its own, holding ``home`` (the interpreter the cell
    was made with), the first time it would switch it (:func:`_own_cell`) or one of the
    transform's tracers reaches the evaluator through it (which a switch of the cell's
    thread, read meanwhile, can cause: the operation is then bound again, from the new
    cell; :func:`_foreign_cell_leak`). The default cell, shared by every fresh context, has
    no thread, so it is never switched in place."""

    __slots__ = ("interp", "thread", "home")

    def __init__(self, interp, thread):
        self.interp = self.home = interp
        self.thread = thread


_DEFAULT_CELL = _CurrentCell(EVAL, None)
_current: contextvars.ContextVar[_CurrentCell] = contextvars.ContextVar(
    "functrans.interpreter", default=_DEFAULT_CELL)
_current_get = _current.get  # (bind's: one attribute look-up less per operation)
_get_ident = _thread.get_ident


def current_interpreter() -> Interpreter:
    return _current_get().interp


# One entry per set_current not yet undone by its reset_current, in any thread: while it is
# empty no transform runs anywhere, and functrans.numpy's fast paths skip reading the context
# variable (a list, whose append and pop are atomic, where a count's ``+= 1`` is not). A
# context copied inside a transform and entered after it returned still holds the spent
# interpreter; the fast paths then evaluate plain arrays' operations directly, as it would
# have forwarded them to the evaluator (or wrapped the result in a tracer of its own, which
# could only be reported as leaked: checkify's).
PUSHED: list = []


def set_current(interp: Interpreter):
    """Make ``interp`` current (a transform's push: this context's own, until
    :func:`reset_current` with the token returned)."""
    PUSHED.append(None)
    return _current.set(_CurrentCell(interp, _get_ident()))


def reset_current(token) -> None:
    _current.reset(token)
    PUSHED.pop()  # (after: a reset refused leaves the entry, costing only the fast paths)


def _own_cell(cell):
    """A cell of this thread's for the current context, in place of ``cell`` (another
    thread's, or the shared default) and holding its ``home`` (not ``interp``, which that
    thread may have switched for a moment): kept for the rest of the context's life (a
    transform's reset_current in this context drops it with what that transform pushed)."""
    own = _CurrentCell(cell.home, _get_ident())
    _current.set(own)
    return own


def switch_current(interp: Interpreter):
    """Make ``interp`` current in place for a synchronous stretch (a rule's run): returns
    ``(cell, previous)``; undo with ``cell.interp = previous`` in a ``finally``. The hot
    paths (JVPInterpreter.process, BatchInterpreter.process) write the same inline."""
    cell = _current_get()
    if cell.thread != _get_ident():
        cell = _own_cell(cell)
    previous = cell.interp
    cell.interp = interp
    return cell, previous


def bind(prim: Primitive, *args, **params):
    return _current_get().interp.process(prim, args, params)


# -- tracers -------------------------------------------------------------------------------


class Tracer(NumPyArrayMethods):
    """An array-like standing for a value inside a transform.

    Implements the Array API array object: arithmetic (also reflected and in-place, which
    rebinds the name and never writes to an array), comparisons, ``@``, indexing and item
    assignment (which rebinds this tracer to the updated value), ``shape``,
    ``dtype``, ``ndim``, ``size``, ``T``, ``mT``, ``device`` and ``__array_namespace__``;
    and NumPy's array methods (``x.sum()``, ``x.reshape(2, 3)``: functrans/array_methods.py).
    Each interpreter defines its subclass with ``aval`` and ``_concrete()``.
    """

    # (__weakref__: weak references to arrays, as to JAX's tracers and NumPy's arrays, work
    # on tracers and constants; 8 bytes a tracer)
    __slots__ = ("_interp", "__weakref__")
    # NumPy must hand `ndarray * tracer` to the tracer instead of building an object array.
    __array_ufunc__ = None
    __array_priority__ = 1000

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    def _concrete(self, what: str):
        """The concrete value behind this tracer, or a ConcretizationError."""
        raise NotImplementedError

    # -- array attributes --
    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def ndim(self):
        return len(self.aval.shape)

    @property
    def size(self):
        return self.aval.size

    @property
    def device(self):
        return _fnp.device(self)

    @property
    def T(self):
        # NumPy's (and JAX's): all axes reversed, whatever the rank (the standard defines
        # only the 2-D case).
        return _fnp.permute_dims(self, tuple(range(len(self.aval.shape) - 1, -1, -1)))

    @property
    def mT(self):
        return _fnp.matrix_transpose(self)

    def __array_namespace__(self, api_version=None):
        return _fnp

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        if _in_foreign_subscript(_sys._getframe(1)):
            # Another library's indexing (a plain torch tensor's ``table[i]``) asking whether
            # the index is a sequence of indices (torch's heuristic warns, then iterates the
            # tracer): it is one index. Declining sends torch to ``__torch_function__``.
            raise TypeError("a tracer used as an index is one array, not a sequence of "
                            "indices")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        return f"{type(self).__name__}<{self.aval.str_short()}>"

    # -- conversions: fine where the value is concrete, an error where it is abstract --
    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(
            f"A tracer {self.aval.str_short()} was converted to a NumPy array, which would "
            f"lose its derivative. Use functrans.numpy (or x.__array_namespace__()) instead "
            f"of numpy functions inside transformed functions, or return the value and "
            f"convert it outside the transform."
            + (" If it came from indexing a plain array with a traced index (x[i] with x a "
               "NumPy or array-api-strict array and i traced), write "
               "functrans.numpy.take(x, i, axis=0) instead."
               if self.aval.dtype.kind in "iub" else ""))

    def __float__(self):
        return float(self._concrete("float()"))

    def __int__(self):
        return int(self._concrete("int()"))

    def __complex__(self):
        return complex(self._concrete("complex()"))

    def __bool__(self):
        return bool(self._concrete("bool() (an `if`, `while`, `and`, `or` on an array)"))

    def __index__(self):
        return operator.index(self._concrete("an index"))

    def item(self, *args):
        # NumPy's item(): the only element, or the one at a flat index or an index tuple
        if args:
            i = args[0] if len(args) == 1 else args
            v = self[tuple(i)] if isinstance(i, tuple) else _fnp.reshape(self, (-1,))[i]
            return v.item()
        return self._concrete("item()").item()

    def tolist(self):
        return self._concrete("tolist()").tolist()

    def __hash__(self):
        return id(self)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # torch hands here its calls that have a tracer among their arguments. A plain
        # tensor indexed at traced positions (a table lookup, as JAX code writes it) is
        # indexed as a tracer is. torch's other functions cannot trace: a TypeError, which
        # torch's operators turn into NotImplemented, so `tensor * tracer` reaches __rmul__.
        import torch
        if func is torch.Tensor.__getitem__ and not kwargs:
            return _fnp._getitem(*args)
        if func is torch.Tensor.__setitem__:
            raise TypeError(
                "A functrans tracer cannot be written into a plain torch tensor (t[i] = x "
                "inside a transform): build the array with functrans.numpy's functions "
                "instead (stack, concat, where).")
        name = getattr(func, "__name__", None) or repr(func)
        owner = "Tensor." if "Tensor" in (getattr(func, "__qualname__", "") or "") else ""
        raise TypeError(
            f"torch.{owner}{name} got a functrans tracer; torch's own functions cannot be "
            f"traced. "
            f"Use functrans.numpy's functions (or x.__array_namespace__()) inside "
            f"transformed functions.")

    def __dlpack__(self, *a, **k):
        raise TracerArrayConversionError("A tracer cannot be exported with DLPack; return "
                                         "the value from the transform first.")

    # -- operators, all through functrans.numpy --
    def __neg__(self): return _fnp.negative(self)
    def __pos__(self): return _fnp.positive(self)
    def __abs__(self): return _fnp.abs(self)
    def __invert__(self): return _fnp.bitwise_invert(self)
    # (the operators with ``self`` first are made below, after functrans.numpy)
    def __radd__(self, o): return _fnp.add(o, self)
    def __rsub__(self, o): return _fnp.subtract(o, self)
    def __rmul__(self, o): return _fnp.multiply(o, self)
    def __rtruediv__(self, o): return _fnp.divide(o, self)
    def __rfloordiv__(self, o): return _fnp.floor_divide(o, self)
    def __rmod__(self, o): return _fnp.remainder(o, self)
    def __rdivmod__(self, o): return _fnp.divmod(o, self)
    def __rpow__(self, o): return _fnp.pow(o, self)
    def __rmatmul__(self, o): return _fnp.matmul(o, self)
    def __rand__(self, o): return _fnp.bitwise_and(o, self)
    def __ror__(self, o): return _fnp.bitwise_or(o, self)
    def __rxor__(self, o): return _fnp.bitwise_xor(o, self)
    def __rlshift__(self, o): return _fnp.bitwise_left_shift(o, self)
    def __rrshift__(self, o): return _fnp.bitwise_right_shift(o, self)
    # (== and != are made below, with the operators: see _equality)

    def __getitem__(self, key): return _fnp._getitem(self, key)

    def __setitem__(self, key, value):
        # ``x[key] = value`` computes the updated array functionally and rebinds this tracer
        # object to it, so the name ``x`` (and any other reference to this object) sees the
        # change as with NumPy, while no array is ever written to. Views are not shared: a
        # slice taken earlier keeps its old value (the Array API leaves this unspecified).
        new = _fnp._setitem(self, key, value)
        if type(new) is not type(self) or new._interp is not self._interp:
            raise TypeError(
                f"Cannot assign to {self!r} in place: the updated array belongs to a "
                f"transform nested inside the one that made this array (the value assigned "
                f"is a tracer of that inner transform), and this array outlives it. Build a "
                f"new array instead of assigning, e.g. y = functrans.numpy.where(mask, value, "
                f"x), or with concat/stack, and use y inside the inner function.")
        _take_slots(self, new)

    def __copy__(self):
        # A new tracer object for the same value: later item assignment to one of them does
        # not change the other (asarray(x, copy=True) relies on this).
        new = object.__new__(type(self))
        _take_slots(new, self)
        return new

    def to_device(self, device, stream=None):
        if device != self.device:
            raise BackendMismatchError(
                f"Cannot move a tracer from device {self.device!r} to {device!r} inside a "
                f"transform; move the inputs before calling it.")
        return self


def _slot_names(cls) -> tuple:
    """Every instance attribute slot of ``cls`` and its bases (cached per class)."""
    names = _SLOTS.get(cls)
    if names is None:
        names = []
        for c in cls.__mro__:
            slots = c.__dict__.get("__slots__", ())
            for n in ((slots,) if isinstance(slots, str) else slots):
                if n not in ("__weakref__", "__dict__") and n not in names:
                    names.append(n)
        names = _SLOTS[cls] = tuple(names)
    return names


_SLOTS: dict = {}


def _take_slots(dst: Tracer, src: Tracer) -> None:
    """Make ``dst`` stand for the same value as ``src`` (a tracer of the same type and
    interpreter): copies every slot, whatever the subclass (JVP, staging, batching...)."""
    for n in _slot_names(type(src)):
        object.__setattr__(dst, n, getattr(src, n))
    d = getattr(src, "__dict__", None)
    if d is not None:
        dst.__dict__.update(d)


def concrete_behind(v, report_batch=False):
    """The concrete array behind the JVP and batch tracers around ``v`` (``v`` itself if it
    is one), or None where there is none (staged: jit). With ``report_batch``, the pair
    (that array or None, whether a batch tracer was among them): that array then holds the
    batch axis where that tracer puts it (or none), not at ``v``'s axes, so arrays behind
    the batch tracers of different values must not be combined elementwise."""
    batched = False
    while isinstance(v, Tracer):
        nxt = getattr(v, "primal", None)
        if nxt is None:  # (a batch tracer's array is its val; a staged value has neither)
            nxt = getattr(v, "val", None)
            batched = batched or nxt is not None
        v = nxt
        if v is None:
            break
    return (v, batched) if report_batch else v


# functrans.numpy defines the operators above; it imports this module first.
from . import numpy as _fnp  # noqa: E402
from .interpreters import ConstTracer as _ConstTracer  # noqa: E402
from .interpreters import JVPTracer as _JVPTracer  # noqa: E402
from .interpreters import CONSTANT_INTERPRETERS as _CONSTANT_INTERPRETERS  # noqa: E402

# The namespace's binary functions take (x1, x2) and so serve directly as the forward
# operators: one Python frame less on the hottest path of user code.


def _defers(o, reflected: str) -> bool:
    """Whether ``o`` (a value no backend takes) has its own ``reflected`` operator, which
    Python is then to call (``tracer + o`` as ``o.__radd__(tracer)``), as NumPy's arrays
    let it. NumPy's arrays and scalars that functrans refuses keep the clear error (theirs
    would only convert the tracer)."""
    m = getattr(type(o), reflected, None)
    if m is None or m is getattr(object, reflected, None):
        return False
    import numpy
    return not isinstance(o, (numpy.ndarray, numpy.generic))


def _deferring(fn, reflected: str):
    """The operator method calling ``fn(self, o)``: NotImplemented where ``o`` is of a type
    no backend takes that defines ``reflected`` (see _defers)."""
    def op(self, o):
        try:  # (free in Python 3.11+ while nothing is raised)
            return fn(self, o)
        except UnsupportedBackendError:
            if _defers(o, reflected):
                return NotImplemented
            raise
    op.__name__ = op.__qualname__ = f"__{fn.__name__}__"
    return op


def _equality(fn, name: str):
    """The ``==`` or ``!=`` method (``name``) calling ``fn(self, o)``. Beside what is never an
    operand (``...``, None, a slice: what a library's indexing code compares the parts of an
    index with) it falls back to Python's identity; beside a value of no backend with its
    own ``name`` method, to that (see _defers)."""
    def op(self, o):
        if type(o) in _NOT_OPERANDS:
            return NotImplemented
        try:  # (free in Python 3.11+ while nothing is raised)
            return fn(self, o)
        except UnsupportedBackendError:
            if _defers(o, name):
                return NotImplemented
            raise
    op.__name__ = op.__qualname__ = name
    return op


# (made here, as the other operators: they need functrans.numpy, imported above)
Tracer.__eq__ = _equality(_fnp.equal, "__eq__")
Tracer.__ne__ = _equality(_fnp.not_equal, "__ne__")

# Each operator with another operand: functrans.numpy's binary function, deferring (above)
# to an unknown operand's reflected operator; the most frequent are such functions
# themselves, made to defer, without the frame of _deferring.
from .numpy._base import _OPERATOR_METHODS as _FAST_OPERATORS  # noqa: E402
for _op, _fn, _refl in (
        ("add", _fnp.add, "radd"), ("sub", _fnp.subtract, "rsub"),
        ("mul", _fnp.multiply, "rmul"), ("truediv", _fnp.divide, "rtruediv"),
        ("floordiv", _fnp.floor_divide, "rfloordiv"), ("mod", _fnp.remainder, "rmod"),
        ("divmod", _fnp.divmod, "rdivmod"), ("pow", _fnp.pow, "rpow"),
        ("matmul", _fnp.matmul, "rmatmul"), ("and", _fnp.bitwise_and, "rand"),
        ("or", _fnp.bitwise_or, "ror"), ("xor", _fnp.bitwise_xor, "rxor"),
        ("lshift", _fnp.bitwise_left_shift, "rlshift"),
        ("rshift", _fnp.bitwise_right_shift, "rrshift"),
        ("lt", _fnp.less, "gt"), ("le", _fnp.less_equal, "ge"), ("gt", _fnp.greater, "lt"),
        ("ge", _fnp.greater_equal, "le")):
    _m = _FAST_OPERATORS.get(_op) or _deferring(_fn, f"__{_refl}__")
    _m.__name__ = _m.__qualname__ = f"__{_op}__"
    setattr(Tracer, f"__{_op}__", _m)
    if _refl.startswith("r") and _op != "divmod":
        # In-place operators rebind the name to a new value: tracers are immutable.
        setattr(Tracer, f"__i{_op}__", _m)
