"""Reusing array memory when a graph is evaluated directly (with no transform above).

A fresh array of a few hundred KB costs first-touch page faults, and on some machines those
cost several times the arithmetic that fills it (an 800 KB product: about 60 µs into memory
already in use, about 450 µs into new memory on the machine the benchmarks ran on). Eager code
cannot avoid them: it does not know when a value dies. Graph evaluation does. So, for arrays of
at least ``MIN_BYTES``:

- an elementwise equation writes its result over an operand that dies there;
- the arrays of values that die are kept, across evaluations and up to ``SPARE_LIMIT`` bytes,
  and later equations with results of that shape and dtype are evaluated into them (``out=``);
  only as many of a shape and dtype are kept as were asked for (``_asked``): an array kept
  that nobody takes is memory the allocator cannot hand out again, so every array allocated
  instead is fresh memory, page faults included, until ``SPARE_LIMIT`` is reached (a jitted
  sparse product, which retires three arrays per call more than it takes, ran its first 42
  calls 2.5x slower than the rest that way);
- the arrays an evaluation returns are remembered (up to ``SPARE_LIMIT`` bytes too): once the
  caller has dropped one, a later evaluation takes it like a kept one. A loop that calls
  ``hvp`` and discards each result then runs in the same memory every time.

Eager reverse mode takes part too (functrans.reverse): grad's backward pass keeps the large
residuals and cotangents it used last and remembers the gradients it returns, and the NumPy
backend computes large matrix products and tanh slopes into kept arrays (:func:`take`).

Only an array computed inside the evaluation and held by nothing but the evaluation is ever
reused: never the caller's inputs, a constant, an output the caller still holds, an array a
view still looks into, or one someone else kept a reference to. Which holders there are is
read from reference counts, so reuse is off where those are not exact (a free-threaded
interpreter). Only backends whose ``overwritable``/``writer_into``
allow it take part (NumPy; the Array API has no ``out=``). :func:`release` frees what is kept.
"""

from __future__ import annotations

import math
import sys
import sysconfig
import threading

import numpy as np

from .backends import Backend
from .core import _by_type_get

MIN_BYTES = 1 << 16          # below this, allocation is cheap and reuse is not worth a check
SPARE_LIMIT = 64 << 20       # bytes of dead arrays kept for later evaluations
DEAD_PER_KEY = 2             # arrays an eager pass keeps per shape and dtype (see keep_dead)
LENT_PER_KEY = 8             # results remembered per shape and dtype (each miss reads them all)
ASKED_PER_KEY = 32           # the most arrays of a shape and dtype asked for and not given back

_spare: dict = {}            # (array type, shape, functrans dtype) -> [arrays nothing holds]
_spare_bytes = 0
_lent: dict = {}             # the same keys -> [arrays returned to callers, maybe dropped]
_lent_bytes = 0
_lent_lock = threading.Lock()  # finding a dropped one and taking it must be one step
_asked: dict = {}            # the same keys -> arrays asked for (taken or missed), less those
#                              kept since: a dead array is kept only against such a request

# Reference counts tell who holds an array only where the interpreter counts every holder
# exactly, which a free-threaded build does not promise (even with its GIL turned on).
ENABLED = not sysconfig.get_config_var("Py_GIL_DISABLED")


def release() -> None:
    """Drop the arrays kept for reuse by later graph evaluations."""
    global _spare_bytes, _lent_bytes
    _spare.clear()
    _asked.clear()
    _spare_bytes = 0
    with _lent_lock:
        _lent.clear()
        _lent_bytes = 0


def _holders(env, x) -> int:
    """The reference count of ``env[x]`` as seen from here."""
    return sys.getrefcount(env[x])


# What _holders reports for a value that only its dictionary holds, measured once, so that
# the comparison holds whatever the interpreter's own counting of temporaries.
_ENV_ONLY = _holders({0: object()}, 0)


def _big(aval) -> bool:
    return math.prod(aval.shape) * aval.dtype.bits >= 8 * MIN_BYTES


def would_reuse(graph, backends) -> bool:
    """Whether evaluating ``graph`` (inputs of these backends) would reuse memory: a backend
    that allows it, and a result large enough."""
    if not ENABLED or not any(type(b).overwritable is not Backend.overwritable
                              for b in backends):
        return False
    return any(_big(o.aval) for _, _, _, outputs in graph.eqns
               for o in (outputs if type(outputs) is list else (outputs,)))


# What evaluate_into may do with an equation (see reuse_kind): nothing (the caller binds),
# write an elementwise result with the namespace's function, or use the primitive's ``into``
# rule, which may (OVER) or may not write over an operand.
NONE, ELEMENTWISE, INTO, INTO_OVER = 0, 1, 2, 3


def reuse_kind(prim, params, outputs) -> int:
    """Which of the kinds above an equation is: it depends on the primitive, its parameters
    and the shapes of its results only, so a graph evaluated many times works it out once."""
    elementwise = prim.same_aval and prim.namespace_impl is not None and not params
    if not elementwise and prim.into is None:
        return NONE
    avals = [o.aval for o in outputs] if prim.multiple_results else [outputs.aval]
    if not all(_big(a) for a in avals):
        return NONE
    if elementwise:
        return ELEMENTWISE
    if getattr(prim.into, "may_overwrite", False) and not prim.multiple_results:
        return INTO_OVER
    return INTO


def evaluate_into(prim, inputs, params, outputs, env, dying, produced, kind=None):
    """The equation's result computed into reused memory, or None (then the caller binds
    as usual). ``dying`` are the variables no later equation reads; ``produced`` those
    computed in this evaluation; ``kind`` is ``reuse_kind`` of the equation (worked out
    here if not given)."""
    if kind is None:
        kind = reuse_kind(prim, params, outputs)
    if kind == NONE:
        return None
    elementwise = kind == ELEMENTWISE
    multiple = prim.multiple_results
    aval = outputs[0].aval if multiple else outputs.aval
    if kind != INTO:
        out = _write_over(prim, inputs, params, env, dying, produced, aval)
        if out is not None:
            return out
    vals = [env[x] if type(x) is Var else x for x in inputs]
    first = next((v for v in vals if type(v) not in _PY_SCALARS), None)
    if first is None:
        return None
    backend = _by_type_get(type(first))
    if backend is None or not _operands_match(
            vals, type(first), backend, aval.dtype if elementwise else None,
            aval.shape if elementwise and prim.namespace_impl in _EXACT else None):
        return None
    if elementwise:
        fn = backend.writer_into(prim.namespace_impl)
        if fn is None:
            return None
    bufs = _take(type(first), [o.aval for o in outputs] if multiple else [outputs.aval])
    if bufs is None:
        return None
    out = fn(*vals, out=bufs[0]) if elementwise else prim.into(backend, bufs, *vals, **params)
    if out is None:
        for b in bufs:
            give_back(b)
    return out


def _operands_match(vals, array_type, backend, dtype, shape=None) -> bool:
    """Whether every operand is a Python scalar or a C-ordered array of ``array_type`` (and,
    unless ``dtype`` is None, of that dtype): then writing with ``out=`` computes what the
    library computes without it. With ``shape`` (the result's, for an operation rounded
    exactly whatever the memory layout: see _EXACT), an operand may also be a broadcast view
    (a bias) whose other strides follow C order, beside a C-ordered operand of that shape:
    the library's own result is then C-ordered too."""
    anchored = loose = False
    for v in vals:
        if type(v) in _PY_SCALARS:
            continue
        if type(v) is not array_type or dtype is not None and backend.dtype(v) is not dtype:
            return False
        flags = getattr(v, "flags", None)
        if flags is None or flags.c_contiguous:
            anchored = anchored or shape is not None and tuple(v.shape) == shape
        # an operand of another memory order would give the library's own result another
        # order than the C-ordered array written into
        elif shape is not None and _c_broadcast(v.strides):
            loose = True
        else:
            return False
    return anchored or not loose


def _c_broadcast(strides) -> bool:
    """Strides of a broadcast view (some 0) whose others decrease, as C order's do."""
    if 0 not in strides:
        return False
    prev = None
    for s in strides:
        if s:
            if s < 0 or prev is not None and s >= prev:
                return False
            prev = s
    return True


# Operations whose results are correctly rounded, so the same to the bit whichever loop the
# library runs for the operands' memory layout (transcendental functions may take another
# path for strided operands).
_EXACT = frozenset(("add", "subtract", "multiply", "divide"))


def _write_over(prim, inputs, params, env, dying, produced, aval):
    """``prim(*inputs)`` written into the array of an operand that dies at this equation:
    one computed in this evaluation, held by nothing but ``env``, owning its memory, of the
    result's shape and dtype, with every other operand an array of the same library and
    dtype or a Python scalar (so that the library computes what it would without ``out=``)."""
    for x in inputs:
        if type(x) is not Var or x not in dying or x not in produced:
            continue
        if _holders(env, x) != _ENV_ONLY:
            continue
        buf = env[x]
        backend = _by_type_get(type(buf))
        if (backend is None or tuple(buf.shape) != aval.shape
                or backend.dtype(buf) is not aval.dtype or not backend.overwritable(buf)):
            continue
        fn = None
        if prim.namespace_impl is not None:
            fn = backend.writer_into(prim.namespace_impl)
            if fn is None:
                return None
        vals = [env[y] if type(y) is Var else y for y in inputs]
        if not _operands_match(vals, type(buf), backend, aval.dtype,
                               aval.shape if prim.namespace_impl in _EXACT else None):
            return None
        if fn is not None:
            return fn(*vals, out=buf)
        # An into rule that orders its work so that writing over an operand is safe (it
        # returns None where it cannot: then the next dying operand, or a kept array).
        out = prim.into(backend, [buf], *vals, **params)
        if out is not None:
            return out
    return None


def retire(env, x) -> None:
    """Keep the array of ``x``, which dies now, for reuse if nothing but ``env`` holds it
    (or, for a view, the array owning its memory, if the view is all that holds that) and an
    array of its shape and dtype has been asked for and not met since."""
    if _holders(env, x) != _ENV_ONLY:
        return
    buf = env[x]
    backend = _by_type_get(type(buf))
    if backend is None:
        return
    if not backend.overwritable(buf):
        buf = backend.sole_owner(buf)
        if buf is None or not backend.overwritable(buf):
            return
    # (kept only against a request for its shape and dtype not yet met: see _asked)
    if buf.nbytes >= MIN_BYTES and _asked.get(_key(buf, backend)):
        give_back(buf)


def lend(env, x) -> None:
    """``x`` is an output of the evaluation: remember its array (if it owns its memory), so
    that a later evaluation can take it once nothing else holds it."""
    remember(env[x])


def empty(backend, shape, dtype, like):
    """An array of ``shape`` and ``dtype`` (the library's) to fill, on ``like``'s device: one
    kept, or remembered (see :func:`remember`) and since dropped, where the backend takes
    part in reuse; else a new one. For results a primitive fills itself (a scan's stacked
    outputs), which would otherwise be new memory, page faults included, at every call."""
    shape = tuple(shape)
    if ENABLED and _by_type_get(np.ndarray) is backend:  # (only NumPy's arrays are kept)
        buf = _pop((np.ndarray, shape, backend.dtype(like)))
        if buf is not None:
            return buf
    return backend.xp.empty(shape, dtype=dtype, device=backend.device(like))


def remember(buf) -> None:
    """Remember ``buf``, a result given out, so that a later :func:`empty` or evaluation can
    take it back once nothing else holds it (if its backend takes part in reuse)."""
    global _lent_bytes
    backend = _by_type_get(type(buf))
    if backend is None or not backend.overwritable(buf) or buf.nbytes < MIN_BYTES:
        return
    key = (type(buf), tuple(buf.shape), backend.dtype(buf))  # (_key inline)
    with _lent_lock:
        lent = _lent.setdefault(key, [])
        for i in range(len(lent)):
            if lent[i] is buf:
                return
        while lent and (len(lent) >= LENT_PER_KEY or _lent_bytes + buf.nbytes > SPARE_LIMIT):
            _lent_bytes -= lent.pop(0).nbytes  # forget the oldest: it stays the caller's
        if _lent_bytes + buf.nbytes <= SPARE_LIMIT:
            lent.append(buf)
            _lent_bytes += buf.nbytes


def _free_index(arrays, only) -> int:
    """The index of the newest array that nothing but ``arrays`` holds, or -1 (the newest
    is the likeliest to be still in cache: writing into a cold array costs about twice as
    much as into one just used)."""
    for i in range(len(arrays) - 1, -1, -1):
        if sys.getrefcount(arrays[i]) == only:
            return i
    return -1


def _count_first(arrays) -> int:
    for i in range(len(arrays) - 1, -1, -1):
        return sys.getrefcount(arrays[i])  # the same expression as in _free_index


# What a remembered array's count reads when only the list of remembered arrays holds it.
_LIST_ONLY = _count_first([object()])


def _reclaim(key):
    """A remembered output of this key that its caller has dropped, or None."""
    global _lent_bytes
    with _lent_lock:
        lent = _lent.get(key)
        if not lent:
            return None
        i = _free_index(lent, _LIST_ONLY)
        if i < 0:
            return None
        buf = lent.pop(i)
        _lent_bytes -= buf.nbytes
    # Its flags are the caller's to change while they held it: read them again.
    return buf if _by_type_get(type(buf)).overwritable(buf) else None


def take(array_type, shape, dtype):
    """A kept array of this type, shape and (functrans) dtype, or a remembered one its caller
    has dropped; None where there is none (then the caller allocates as usual). For eager
    operations that can compute their result into given memory (a matrix product): a result
    in memory already in use costs no page faults."""
    global _spare_bytes
    if not ENABLED:
        return None
    # (_pop with _ask inline: eager passes call this for each large result, several times
    # per call of grad, and the frames were a tenth of the cost of reuse in Python)
    key = (array_type, shape, dtype)
    asked = _asked.get(key, 0)
    if asked < ASKED_PER_KEY:
        _asked[key] = asked + 1  # (a miss: the array that dies next may be kept for it)
    stack = _spare.get(key)
    if stack:
        try:
            buf = stack.pop()
        except IndexError:  # (another thread took the last one since)
            return None
        _spare_bytes -= buf.nbytes
        return buf
    return _reclaim(key) if _lent else None


def scratch(like):
    """An array of ``like``'s type, shape and dtype for a temporary inside one equation's
    ``into`` rule: a kept one, else a new one, which :func:`give_back` then keeps for the
    next evaluation."""
    backend = _by_type_get(type(like))
    buf = _pop(_key(like, backend))
    if buf is None:
        buf = backend.xp.empty(like.shape, dtype=like.dtype)
    return buf


def keep_dead(buf) -> None:
    """Keep ``buf``, an array that died in an eager pass (one nothing else holds), unless
    ``DEAD_PER_KEY`` of its shape and dtype are kept already: eager operations take only a
    few kinds of results from here, so that more would hold memory nobody takes."""
    global _spare_bytes
    # (_key and _give_back inline: an eager backward pass calls this for each large array
    # that dies, two frames each)
    key = (type(buf), tuple(buf.shape), _by_type_get(type(buf)).dtype(buf))
    stack = _spare.get(key)
    if stack is not None and len(stack) >= DEAD_PER_KEY:
        return
    nbytes = buf.nbytes
    if _spare_bytes + nbytes <= SPARE_LIMIT:
        asked = _asked.get(key, 0)
        if asked:
            _asked[key] = asked - 1
        stack = _spare.get(key)  # (read again, as _give_back does)
        if stack is None:
            _spare[key] = [buf]
        else:
            stack.append(buf)
        _spare_bytes += nbytes


def give_back(buf) -> None:
    """Keep ``buf`` (one nothing else holds: from :func:`scratch`, or a value that died) for
    later evaluations, if there is room."""
    _give_back(buf, _key(buf, _by_type_get(type(buf))))


def _give_back(buf, key) -> None:
    global _spare_bytes
    nbytes = buf.nbytes
    if _spare_bytes + nbytes <= SPARE_LIMIT:
        asked = _asked.get(key, 0)
        if asked:
            _asked[key] = asked - 1
        stack = _spare.get(key)  # (_keep inline)
        if stack is None:
            _spare[key] = [buf]
        else:
            stack.append(buf)
        _spare_bytes += nbytes


def _take(array_type, avals):
    """One kept array per abstract value, or None (taking nothing) if any is missing."""
    bufs = []
    for a in avals:
        buf = _pop((array_type, a.shape, a.dtype))
        if buf is None:
            for b in bufs:
                give_back(b)
            return None
        bufs.append(buf)
    return bufs


def _key(buf, backend):
    return (type(buf), tuple(buf.shape), backend.dtype(buf))


def _ask(key) -> None:
    _asked[key] = min(_asked.get(key, 0) + 1, ASKED_PER_KEY)


def _pop(key):
    global _spare_bytes
    _ask(key)
    stack = _spare.get(key)
    if not stack:
        return _reclaim(key) if _lent else None
    try:
        buf = stack.pop()
    except IndexError:  # (another thread took the last one since)
        return None
    _spare_bytes -= buf.nbytes
    return buf


from .graph import _PY_SCALARS, Var  # noqa: E402  (graph imports this module)
