"""The transformation interpreters: forward mode (JVP) and staging (building a Graph).

Reverse mode needs no interpreter of its own: it is the JVP interpreter stacked on a staging
interpreter that records the tangent side (see :mod:`functrans.reverse`).
"""

from __future__ import annotations

from .core import (EVAL, INEXACT_TRACER_TYPES, Interpreter, Tracer, _SCALAR_DTYPES,
                   _by_type_get, _current_get, _get_ident, _own_cell, get_aval, switch_current)
from .dtypes import _by_id, dtype_of
from .errors import ConcretizationError, DerivativeDroppedError, MissingRuleError
from .graph import Var

_new = object.__new__

# -- forward mode --------------------------------------------------------------------------


class PairTracer(Tracer):
    """A value (``primal``) and what a transform carries with it (``tangent``): the layout
    and the array-like surface forward mode's tracers and jet's share. A float taken out of
    one would carry on without what it carries: refused, in the words of ``_DROPPED``."""

    __slots__ = ("primal", "tangent")
    _DROPPED = ""

    def __init__(self, interp, primal, tangent):
        self._interp = interp
        self.primal = primal
        self.tangent = tangent

    # Cheaper than building an aval: these are on the hot path of functrans.numpy.
    @property
    def shape(self):
        return self.primal.shape

    @property
    def dtype(self):
        try:  # (free in Python 3.11+ while nothing is raised: fewer bytecodes than .get)
            return _by_id[id(self.primal.dtype)]
        except KeyError:
            return dtype_of(self.primal)

    def _concrete(self, what):
        p = self.primal
        return p._concrete(what) if isinstance(p, Tracer) else p

    # bool(), int() and indexing are fine (Python control flow has no derivative)
    def _dropped(self, what):
        raise DerivativeDroppedError(what + self._DROPPED)

    def __float__(self):
        self._dropped("float()")

    def __complex__(self):
        self._dropped("complex()")

    def item(self, *args):
        self._dropped("item()")

    def tolist(self):
        self._dropped("tolist()")


class JVPTracer(PairTracer):
    """A (primal, tangent) pair. The tangent is never a symbolic zero: a value whose tangent
    is zero is simply not wrapped; and only floating-point values are ever wrapped."""

    __slots__ = ()
    _DROPPED = (
        " of a value being differentiated would drop its derivative silently "
        "(NumPy does this when a tracer is written into a NumPy array, e.g. y[0] = x). "
        "Keep the computation in functrans.numpy (build arrays with stack/concat/where), "
        "or write float(functrans.stop_gradient(x)) if dropping the derivative is "
        "intended.")

    @property
    def aval(self):
        p = self.primal
        while type(p) is JVPTracer:  # nested forward modes: no frame per level
            p = p.primal
        return get_aval(p)


INEXACT_TRACER_TYPES.add(JVPTracer)

# Tracer types with JVPTracer's slots (primal, tangent), into which a constant assigned one
# of their values turns (ConstTracer.__setitem__): forward mode's, and jet's
# (functrans.taylor.JetTracer, whose ``tangent`` holds its Taylor coefficients).
SAME_LAYOUT_TRACERS: set = {JVPTracer}


class ConstTracer(JVPTracer):
    """A constant made inside forward mode, vmap or a staging (jit, make_jaxpr, checkpoint...):
    a creation function's array; under forward mode also a comparison's or ``argmax``'s
    result, anything with no derivative. Held as a tracer so that its namespace is
    functrans.numpy, as its neighbours' is: third-party code that asks
    ``array_api_compat.array_namespace(tracer, constant)`` then finds one namespace (JAX's
    constants are JAX arrays for the same reason). Its tangent is a symbolic zero (None).

    No interpreter owns one (they test ``type(x) is JVPTracer``...), so each takes it for the
    constant it is; the evaluator unwraps it and, while user code under one of
    CONSTANT_INTERPRETERS is running, wraps the result again
    (:meth:`EvalInterpreter._with_constants`): constants stay constants, and keep their value
    (Python control flow on one works under jit too). A staging records the array it holds,
    never the tracer, so graphs (and jit's caches) hold plain arrays. ``_interp`` is the
    interpreter it was made under (item assignment of one of its JVP tracers turns it into
    that tracer: the classes share their layout). Transforms return plain arrays
    (``api._as_array``, ``batching._plain``, ``checkpointing._stage``)."""

    __slots__ = ()

    def __init__(self, interp, value):
        self._interp = interp
        self.primal = value
        self.tangent = None

    def _concrete(self, what):
        return self.primal

    # Nothing to drop: a constant converts like the array it holds.
    def __float__(self):
        return float(self.primal)

    def __complex__(self):
        return complex(self.primal)

    def item(self, *args):
        return self._host().item(*args)

    def tolist(self):
        return self._host().tolist()

    def _host(self):
        # (array-api-strict's arrays have neither item nor tolist: through NumPy)
        p = self.primal
        if hasattr(p, "item") and hasattr(p, "tolist"):
            return p
        from .backends import backend_of
        return backend_of(p).to_numpy(p)

    def __array__(self, dtype=None, copy=None):
        import numpy as np
        if copy:  # (np.array(c) asks for one: its array may be the user's, from asarray)
            return np.array(self.primal, dtype=dtype, copy=True)
        return np.asarray(self.primal, dtype=dtype, copy=copy)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # NumPy's ufuncs on a constant (np.exp(c), ndarray * c): functrans.numpy's function of
        # that name, so the result stays a constant; NumPy's on the arrays otherwise (out=,
        # dtype=, ufunc.reduce...), as for the plain array the constant holds.
        from . import numpy as fnp
        fn = getattr(fnp, ufunc.__name__, None) if method == "__call__" else None
        if fn is not None and not kwargs:
            return fn(*inputs)
        _refuse_writes(f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else
                                                     f".{method}"),
                       method == "at" and type(inputs[0]) is ConstTracer, kwargs)
        import numpy as np
        inputs = [np.asarray(a) if type(a) is ConstTracer else a for a in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        # NumPy's functions on a constant (np.concatenate([c, x]), np.linalg.norm(c),
        # np.result_type(c)), as __array_ufunc__: functrans.numpy's function of that name,
        # whose array results are constants; NumPy's on the arrays where functrans.numpy has
        # none or cannot take the arguments, as on the plain array the constant holds.
        # Called from functrans's own code: NumPy's on the arrays, as before constants were
        # tracers (that code is written for plain arrays).
        import sys
        name = func.__name__
        if name in _NUMPY_QUERIES:
            return _numpy_query(func, args, kwargs)
        mod = func.__module__
        fn = None
        if not functrans_frame(sys._getframe(1)):
            from . import numpy as fnp
            ns = fnp if mod == "numpy" else \
                getattr(fnp, mod[6:], None) if mod.startswith("numpy.") else None
            fn = getattr(ns, name, None)
        if fn is not None and _accepts(fn, args, kwargs):
            try:
                out = fn(*args, **kwargs)
            except NotImplementedError:  # (an option functrans.numpy lacks)
                if _has_tracer((args, kwargs)):
                    raise
            else:
                return _as_constant_results(out)
        _refuse_writes(f"numpy.{name}", name in _NUMPY_IN_PLACE and bool(args)
                       and type(args[0]) is ConstTracer, kwargs)
        return func(*_held_arrays(args), **_held_arrays(kwargs))

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # torch's own functions on a constant that holds a tensor (torch.exp(c), c @ W in
        # torch code): torch's on the tensors, the tensors they return constants again (a
        # constant's values have no derivative, so any function of constants alone is one).
        # Refused where a value being transformed is among the arguments (torch would drop
        # its derivative or fail on it) and in place (the tensor may be the caller's).
        kwargs = kwargs or {}
        name = getattr(func, "__name__", repr(func))
        method = bool(args) and type(args[0]) is not ConstTracer and \
            name not in _TENSOR_INDEXING and getattr(func, "__objclass__", None) is not None
        if method or (args and type(args[0]) is not ConstTracer
                      and func in _torch_operators()):
            # A method of a plain tensor given a constant: an operator (t * c, t == c;
            # t ** c and t // c, which torch writes in Python) is then the constant's
            # reflected one, functrans.numpy's, as c * t and ndarray * c are (torch's
            # operator then returns NotImplemented to Python); the methods that spell an
            # operator (t.mul(c), t.eq(c)) likewise
            if name.startswith("__") or not method:
                return NotImplemented
            op = _TENSOR_OPERATOR_METHODS.get(name)
            if op is not None and len(args) == 2 and not kwargs:
                from . import numpy as fnp
                return getattr(fnp, op)(*args)
        if name in _TENSOR_INDEXING and _has_tracer((args, kwargs)):
            # t[c, i] with i traced: indexed as a tracer index is (Tracer's), the constants
            # as the arrays they hold (NumPy positions index a tensor as plain ones do)
            return super().__torch_function__(func, types, _held_arrays(args), kwargs)
        if _has_tracer((args, kwargs)):
            raise TypeError(
                f"torch.{name} was given a value being transformed (a tracer) beside a "
                f"constant: torch's functions cannot carry its derivative or batch. Use "
                f"functrans.numpy (or x.__array_namespace__(), what array_api_compat's "
                f"array_namespace returns) for computations on transformed values.")
        in_place = name.endswith("_") and not name.endswith("__")
        _refuse_writes(f"torch.{name}", in_place and not method, kwargs)
        out = func(*_held_arrays(args), **_held_arrays(kwargs))
        if method and in_place:  # (t.mul_(c), t.copy_(c): into the plain tensor, t itself)
            return out
        return out if name in _CONVERSIONS else _as_constant_results(out)

    def __reduce__(self):
        # pickled as the array it holds; unpickled under a transform it is a constant of
        # that transform, elsewhere the plain array (the interpreter is not data)
        return constant, (self.primal,)

    def __round__(self, ndigits=None):
        # A 0-d constant as NumPy's scalars (functrans.numpy's reductions give 0-d arrays
        # where NumPy's give scalars): round(c) an int, round(c, n) a constant of c's dtype.
        if self.primal.shape:
            raise TypeError(f"round() of an array of shape {tuple(self.primal.shape)} (NumPy's "
                            f"arrays refuse it too): write functrans.numpy.round(c, decimals)")
        if ndigits is None:
            return round(self.item())
        from . import numpy as fnp
        return fnp.round(self, ndigits)

    def view(self, *args, **kwargs):
        """The held array's ``view`` (NumPy's: another dtype or array type over the same
        data; torch's: another shape), a constant."""
        p = self.primal
        if not hasattr(p, "view"):
            self.__getattr__("view")
        return constant(p.view(*args, **kwargs))

    def __getattr__(self, name):
        # Names nothing else defines: NumPy's ``flags`` and ``strides`` of the array held
        # (read-only information); for the rest of ndarray's (c.base, c.tobytes), what to do.
        if name.startswith("__") or name in ("primal", "tangent", "_interp"):
            raise AttributeError(name)
        p = self.primal
        if name in ("flags", "strides") and hasattr(p, name):
            return getattr(p, name)
        held = f"{type(p).__module__.split('.')[0]} {type(p).__name__}"
        why = f"which has no {name!r}" if not hasattr(p, name) else \
            f"whose {name!r} it does not pass on"
        raise AttributeError(
            f"{name!r}: a constant made inside a transform is a tracer holding its array "
            f"(a {held}, {why}), with the Array API's attributes and NumPy's common "
            f"methods. Use functrans.numpy's functions, or np.asarray(c) for a NumPy array "
            f"of its values (no longer a constant of the transform).")

    def __deepcopy__(self, memo):
        # the array copied, the interpreter shared (a copy of the whole stack is no constant
        # of the running transform)
        import copy
        return ConstTracer(self._interp, copy.deepcopy(self.primal, memo))

    def __dlpack__(self, *args, **kwargs):
        return self.primal.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self.primal.__dlpack_device__()

    def __format__(self, spec):
        return format(self.primal, spec)

    def __str__(self):
        return str(self.primal)

    def __repr__(self):
        return f"ConstTracer({self.primal!r})"

    # (== and != as Tracer's: c == None is False, as for JAX's arrays)

    def __hash__(self):
        # as its value's (NumPy's integer scalars key dicts: lookup[argmax(x)]); a 0-d array
        # as the scalar NumPy would have returned (fnp.sum gives 0-d arrays where np.sum
        # gives scalars); other arrays, which have none, by identity as tracers are
        try:
            return hash(self.primal)
        except TypeError:
            return hash(self.item()) if not self.primal.shape else id(self)

    def __setitem__(self, key, value):
        from . import numpy as fnp
        new = fnp._setitem(self, key, value)
        if not isinstance(new, Tracer):  # (under an interpreter that keeps no constants)
            self.primal = new
        elif type(new) is ConstTracer:
            self.primal = new.primal
        elif type(new) in SAME_LAYOUT_TRACERS and _encloses(new._interp, self._interp):
            # A traced value written in: from now on this object is that tracer (the
            # classes share their layout, so the object itself changes class). Its forward
            # mode's (or jet's) or one enclosing it (then the constant outlives none of its
            # values).
            object.__setattr__(self, "__class__", type(new))
            self._interp, self.primal, self.tangent = new._interp, new.primal, new.tangent
        else:
            raise DerivativeDroppedError(
                f"y[idx] = value, with y an array made inside a transform (a constant) and "
                f"value traced by another one ({new!r}: vmap's batch, jit's staging, or a "
                f"transform nested inside): y cannot hold it. Write y = y.at[idx].set(value) "
                f"(JAX's functional update), or start y from a traced value "
                f"(y = functrans.numpy.asarray(x, copy=True)) and assign into that.")


# NumPy's functions on constants that answer about dtypes or memory: NumPy's answer
# (np.result_type(c) is a numpy.dtype, as for the array held), not functrans.numpy's.
_NUMPY_QUERIES = frozenset(("result_type", "can_cast", "min_scalar_type", "common_type",
                            "shares_memory", "may_share_memory"))
# torch's functions that convert their argument to a tensor: the tensor held, as np.asarray
# gives a constant's array
_CONVERSIONS = frozenset(("as_tensor", "asarray", "tensor", "from_numpy", "numpy", "tolist",
                          "item"))
_SIGNATURES: dict = {}
# a plain tensor indexed by constants (t[c], t[c] = v): torch's, with the arrays held
_TENSOR_INDEXING = frozenset(("__getitem__", "__setitem__"))
_TORCH_OPERATORS: list = []


def _torch_operators():
    """torch.Tensor's binary operators (some are Python functions named after the method
    they call: ``Tensor.__pow__`` is ``pow``)."""
    if not _TORCH_OPERATORS:
        import torch
        _TORCH_OPERATORS.append(frozenset(
            getattr(torch.Tensor, f"__{r}{n}__") for n in (
                "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and",
                "or", "xor", "lshift", "rshift") for r in ("", "r")
            if hasattr(torch.Tensor, f"__{r}{n}__")))
    return _TORCH_OPERATORS[0]


# torch.Tensor's methods that spell an operator, and functrans.numpy's function of that
# operator (t.mul(c) is t * c)
_TENSOR_OPERATOR_METHODS = {
    "mul": "multiply", "multiply": "multiply", "add": "add", "sub": "subtract",
    "subtract": "subtract", "div": "divide", "divide": "divide", "true_divide": "divide",
    "floor_divide": "floor_divide", "remainder": "remainder", "pow": "pow",
    "matmul": "matmul", "eq": "equal", "ne": "not_equal", "not_equal": "not_equal",
    "lt": "less", "less": "less", "le": "less_equal", "less_equal": "less_equal",
    "gt": "greater", "greater": "greater", "ge": "greater_equal",
    "greater_equal": "greater_equal", "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor",
    "bitwise_left_shift": "bitwise_left_shift", "bitwise_right_shift": "bitwise_right_shift"}


# NumPy's functions that write into their first argument (functrans.numpy's rebind a
# constant to the updated value instead; NumPy's would write into the array it holds)
_NUMPY_IN_PLACE = frozenset(("copyto", "put", "place", "putmask", "fill_diagonal",
                             "put_along_axis"))


def _refuse_writes(what, in_place, kwargs):
    """A TypeError where ``what`` would write into a constant's array: in place, or into
    ``out=``. (The array may be the caller's, which functrans never changes; a constant
    changes by item assignment, which rebinds it.)"""
    if in_place or _has_constant(kwargs.get("out")):
        raise TypeError(
            f"{what} would write into the array of a constant made inside a transform (it "
            f"may be the caller's, which functrans never changes). Compute a new value "
            f"without out= (c = f(c, ...)), or write c[idx] = value or "
            f"c = c.at[idx].set(value), which update the constant itself.")


def _numpy_query(func, args, kwargs):
    # (a value being transformed stands for its dtype: NumPy's promotion of arrays
    # depends on their dtypes only)
    import numpy as np

    def plain(a):
        if type(a) is ConstTracer:
            p = a.primal
            if isinstance(p, (np.ndarray, np.generic)):
                return p
            from .backends import backend_of
            return backend_of(p).to_numpy(p)
        if isinstance(a, Tracer):
            return np.dtype(a.dtype)
        if type(a) in (list, tuple):
            return type(a)(plain(b) for b in a)
        return a
    return func(*[plain(a) for a in args], **{k: plain(v) for k, v in kwargs.items()})


def _accepts(fn, args, kwargs):
    """Whether ``fn``'s signature takes these arguments (NumPy's out=, casting=... that
    functrans.numpy's function lacks send the call to NumPy)."""
    import inspect
    sig = _SIGNATURES.get(fn)
    if sig is None:
        try:
            sig = _SIGNATURES[fn] = inspect.signature(fn)
        except (TypeError, ValueError):
            return True
    try:
        sig.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _held_arrays(tree):
    """``tree`` (arguments: lists, tuples, dicts) with its constants as the arrays held."""
    t = type(tree)
    if t is ConstTracer:
        return tree.primal
    if t is list or t is tuple:
        return t([_held_arrays(a) for a in tree])
    if t is dict:
        return {k: _held_arrays(v) for k, v in tree.items()}
    return tree


def _has_tracer(tree):
    """Whether a tracer other than a constant is in ``tree`` (lists, tuples, dicts)."""
    t = type(tree)
    if t is list or t is tuple:
        return any(_has_tracer(a) for a in tree)
    if t is dict:
        return any(_has_tracer(a) for a in tree.values())
    return t is not ConstTracer and isinstance(tree, Tracer)


def _has_constant(tree):
    t = type(tree)
    if t is list or t is tuple:
        return any(_has_constant(a) for a in tree)
    return t is ConstTracer


def _as_constant_results(out):
    """A result (an array, or a tuple or list of them: NamedTuples too) with its plain
    arrays as constants (under a transform that keeps them)."""
    if isinstance(out, (tuple, list)):
        vals = [constant(o) for o in out]
        t = type(out)
        if t is tuple or t is list:
            return t(vals)
        return t(*vals) if hasattr(t, "_fields") else t(vals)  # (NamedTuple; torch's)
    return constant(out)


def _encloses(outer, interp):
    """Whether ``outer`` is ``interp`` or an interpreter below it (one whose values a
    function running under ``interp`` may close over)."""
    while interp is not None:
        if interp is outer:
            return True
        interp = interp.parent
    return False


def functrans_frame(frame):
    """Whether ``frame`` runs functrans's own code, which is written for plain arrays (user
    code's calls are the ones that get constants)."""
    return frame.f_globals.get("__name__", "").startswith("functrans.")


def constant(value):
    """``value`` as a :class:`ConstTracer` where user code runs under forward mode, vmap or a
    staging (the current interpreter is one of CONSTANT_INTERPRETERS) and ``value`` is a
    plain array (of a backend's array or scalar type); else as it is. Outside transforms,
    and for tracers, Python scalars and typed random keys, a no-op."""
    interp = _current_get().interp
    if type(interp) in CONSTANT_INTERPRETERS and _by_type_get(type(value)) is not None:
        return ConstTracer(interp, value)
    return value


def with_constant_arguments(fn, caller):
    """``fn``, a function of the user's that functrans calls (a loop's body, a reduction's
    computation), taking the plain arrays among its arguments' leaves as constants
    (:func:`constant`) where user code (``caller``, its frame) called the functrans function
    that calls ``fn``, under forward mode, vmap or a staging; else ``fn`` itself. Its
    arguments mix the user's plain data (a carry's initial value, an ``init_value``) with
    traced values; as constants, operators between them work whichever side the plain array
    is on (array-api-strict's refuse a tracer on their right), as JAX's values there are
    all tracers."""
    if type(_current_get().interp) not in CONSTANT_INTERPRETERS or functrans_frame(caller):
        return fn
    from functools import wraps
    from .tree import tree_map

    @wraps(fn)
    def with_constants(*args):
        return fn(*[tree_map(constant, a) for a in args])
    return with_constants


def fixed_values(tree):
    """``tree`` with its constant tracers as the arrays they hold: values a transform takes
    as fixed (jit's static arguments, custom rules' nondiff_argnums) rather than traced."""
    from .tree import tree_flatten, tree_unflatten
    leaves, t = tree_flatten(tree)
    if not any(type(x) is ConstTracer for x in leaves):
        return tree
    return tree_unflatten(t, [x.primal if type(x) is ConstTracer else x for x in leaves])


# Interpreters under which user code's constants are ConstTracers (vmap's join in batching,
# the stagings': StagingInterpreter here, jit's in checkpointing).
CONSTANT_INTERPRETERS: set = set()


class JVPInterpreter(Interpreter):
    """Carries (primal, tangent) pairs through each primitive's ``jvp`` rule.

    ``device_source`` (set by forward mode's transforms, unset under linearize, whose staging
    has one): one of the values being differentiated, whose library and device the arrays
    created inside take (see functrans.numpy's creation functions)."""

    __slots__ = ("device_source",)

    def process(self, prim, args, params):
        if len(args) == 2:  # the common case, unrolled (this is the hottest loop there is)
            a, b = args
            # (a constant's array to the rule: the levels below need not unwrap it again
            # for each operation there, nor reverse mode's graph hold it; one branch per
            # case of ownership, so that no flag is stored and tested again)
            if type(a) is JVPTracer and a._interp is self:
                if type(b) is JVPTracer and b._interp is self:
                    primals = [a.primal, b.primal]
                    tangents = [a.tangent, b.tangent]
                else:
                    primals = [a.primal, b.primal if type(b) is ConstTracer else b]
                    tangents = [a.tangent, None]
            elif type(b) is JVPTracer and b._interp is self:
                primals = [a.primal if type(a) is ConstTracer else a, b.primal]
                tangents = [None, b.tangent]
            else:
                return self.parent.process(prim, args, params)
        elif len(args) == 1:  # (sin, exp...)
            a = args[0]
            if type(a) is not JVPTracer or a._interp is not self:
                return self.parent.process(prim, args, params)
            primals = [a.primal]
            tangents = [a.tangent]
        else:
            # (one pass, with a counter rather than enumerate's pairs; a constant's array
            # taken out in the same pass)
            primals = list(args)
            tangents = [None] * len(args)
            mine = False
            i = 0
            for a in args:
                t = type(a)
                if t is JVPTracer:
                    if a._interp is self:
                        primals[i] = a.primal
                        tangents[i] = a.tangent
                        mine = True
                elif t is ConstTracer:
                    primals[i] = a.primal
                i += 1
            if not mine:  # nothing of ours: forward untouched
                return self.parent.process(prim, args, params)
        rule = prim.jvp
        if rule is None:
            return self._inline(prim, args, params)
        # The rule runs with the interpreter below current (core.switch_current, inline: an
        # attribute store in this context's cell, not a context-variable set per operation).
        cell = _current_get()
        if cell.thread != _get_ident():
            cell = _own_cell(cell)
        previous = cell.interp
        cell.interp = self.parent
        try:
            out, tan = rule(primals, tangents, **params) if params else rule(primals, tangents)
        finally:
            cell.interp = previous
        if prim.multiple_results:
            # (a loop making each JVPTracer without the frame of its __init__, as below)
            results = []
            for o, t in zip(out, tan):
                if t is None:
                    results.append(
                        ConstTracer(self, o.primal if type(o) is ConstTracer else o)
                        if type(o) is ConstTracer or _by_type_get(type(o)) is not None else o)
                else:
                    r = _new(JVPTracer)
                    r._interp = self
                    r.primal = o
                    r.tangent = t
                    results.append(r)
            return results
        if tan is None:  # no derivative (a comparison, argmax...): a constant
            if _by_type_get(type(out)) is None:  # (a tracer, a number, typed keys)
                if type(out) is not ConstTracer:
                    return out
                # a constant of the forward mode beneath (its rule ran there) is one of
                # this level too: made here, so that this level's tracers may be written
                # into it (y = zeros_like(x); y[0] = x[0] under hessian)
                out = out.primal
            t = _new(ConstTracer)
            t._interp = self
            t.primal = out
            t.tangent = None
            return t
        # JVPTracer(self, out, tan) without the Python frame of __init__ (one per operation).
        t = _new(JVPTracer)
        t._interp = self
        t.primal = out
        t.tangent = tan
        return t

    def _inline(self, prim, args, params):
        if prim.jvp_inline is None:
            raise MissingRuleError(f"primitive {prim.name!r} has no JVP rule")
        cell, previous = switch_current(self)
        try:
            return prim.jvp_inline(*args, **params)
        finally:
            cell.interp = previous


CONSTANT_INTERPRETERS.add(JVPInterpreter)

# -- staging -------------------------------------------------------------------------------


class StagingTracer(Tracer):
    """An abstract value standing for a variable of the graph being built."""

    __slots__ = ("_var",)

    def __init__(self, interp, var):
        self._interp = interp
        self._var = var

    @property
    def aval(self):
        return self._var.aval

    def _concrete(self, what):
        raise ConcretizationError(
            f"{what} needs a concrete value, but this tracer ({self.aval.str_short()}) is "
            f"abstract: the function is being staged into a graph, which records only shapes "
            f"and dtypes. Use functrans.numpy.where for elementwise choices and "
            f"functrans.lax (cond, while_loop, fori_loop, scan) for control flow instead of "
            f"Python's, or apply an eager transform (grad, jvp, vjp) instead.")


class StagingInterpreter(Interpreter):
    """Records every primitive applied to its tracers as an equation of a graph. Values that
    are not its own tracers are constants of the graph (the residuals, in linearize)."""

    __slots__ = ("eqns", "device_source")
    value_free_constants = False  # (see TangentRecorder)

    def __init__(self, parent, inputs=()):
        self.parent = parent  # (Interpreter.__init__, inline: one of these per linearize)
        self.active = True
        self.eqns = []
        # One of the values being staged (the first), whose device the staged values have:
        # ``x.device`` of a staged value is that device, so that code creating arrays with
        # ``device=x.device`` records them where the graph will run. Cleared by whoever
        # ends the staging, so that the graph does not keep a caller's array alive.
        self.device_source = inputs[0] if inputs else None

    def new_input(self, aval) -> StagingTracer:
        return StagingTracer(self, Var(aval))

    def process(self, prim, args, params):
        if len(args) == 2:  # the common case, unrolled
            a, b = args
            # (a constant held as a tracer is recorded as the array it holds; one branch
            # per case of ownership, so that no flag is stored and tested again)
            if type(a) is StagingTracer and a._interp is self:
                own = a
                inputs = [a._var, b._var if type(b) is StagingTracer and b._interp is self
                          else b.primal if type(b) is ConstTracer else b]
            elif type(b) is StagingTracer and b._interp is self:
                own = b
                inputs = [a.primal if type(a) is ConstTracer else a, b._var]
            else:
                # Nothing of ours (linearize's primal operations): where the evaluator is
                # below, its first case inline (EvalInterpreter.process), without its frame.
                t = type(a)
                if self.parent is EVAL and (type(b) is t or type(b) in _SCALAR_DTYPES):
                    fn = prim._impls.get(t)
                    if fn is not None:
                        return fn(a, b, **params) if params else fn(a, b)
                return self.parent.process(prim, args, params)
        elif len(args) == 1:
            own = args[0]
            if type(own) is not StagingTracer or own._interp is not self:
                if self.parent is EVAL:  # (as above)
                    fn = prim._impls.get(type(own))
                    if fn is not None:
                        return fn(own, **params) if params else fn(own)
                return self.parent.process(prim, args, params)
            inputs = [own._var]
        else:
            if self.parent is EVAL and args:
                # (as above: operands of the first one's array type and Python scalars,
                # which are no tracers, evaluated here in one pass)
                t = type(args[0])
                fn = prim._impls.get(t)
                if fn is not None:
                    for a in args:
                        if type(a) is not t and type(a) not in _SCALAR_DTYPES:
                            break
                    else:
                        return fn(*args, **params) if params else fn(*args)
            for own in args:  # the first tracer of ours, if any
                if type(own) is StagingTracer and own._interp is self:
                    break
            else:
                return self.parent.process(prim, args, params)
            # (a loop rather than a list comprehension, which costs a frame of its own)
            inputs = list(args)
            i = 0
            for a in args:
                t = type(a)
                if t is StagingTracer:
                    if a._interp is self:
                        inputs[i] = a._var
                elif t is ConstTracer:
                    inputs[i] = a.primal
                i += 1
        if prim.inline is not None:
            return prim.inline(*args, **params)  # runs with this interpreter current
        if prim.same_aval:
            out_aval = own._var.aval
        else:
            if len(inputs) == 2:  # (the common cases without a comprehension's frame)
                x, y = inputs
                out_aval = prim.abstract_eval(x.aval if type(x) is Var else get_aval(x),
                                              y.aval if type(y) is Var else get_aval(y),
                                              **params)
            elif len(inputs) == 1:  # (a broadcast, a sum: own is the operand)
                out_aval = prim.abstract_eval(own._var.aval, **params)
            else:
                out_aval = prim.abstract_eval(
                    *[x.aval if type(x) is Var else get_aval(x) for x in inputs], **params)
            if prim.value_free and self.value_free_constants:
                return self._constant(prim, out_aval, params)
        if prim.multiple_results:
            outs = [Var(a) for a in out_aval]
            self.eqns.append((prim, inputs, params, outs))
            return [StagingTracer(self, v) for v in outs]
        # Var(out_aval) and StagingTracer(self, out) without the frames of their __init__.
        out = _new(Var)
        out.aval = out_aval
        self.eqns.append((prim, inputs, params, out))
        t = _new(StagingTracer)
        t._interp = self
        t._var = out
        return t


# User code staged by jit, make_graph, make_jaxpr, eval_shape, checkpoint makes constants
# held as tracers too (as JAX's omnistaging does); not the TangentRecorder, under which only
# rules run.
CONSTANT_INTERPRETERS.add(StagingInterpreter)


class TangentRecorder(StagingInterpreter):
    """The staging beneath linearize's JVP interpreter, which records the tangent side only:
    rules that must know whether their tangents are being recorded for a backward pass (the
    control-flow primitives) look for its tracers.

    A value-free operation on a tangent (``ones_like(dt)`` in a custom rule) is evaluated
    into a constant rather than recorded, as in JAX: it may then be a coefficient of the
    linear map (the denominator of ``dt / ones_like(dt)``), as the transpose needs."""

    __slots__ = ()
    value_free_constants = True

    def _constant(self, prim, aval, params):
        from .api import _concrete_backend
        b, device = _concrete_backend(self.device_source)
        like = b.xp.zeros(aval.shape, dtype=b.native_dtype(aval.dtype),
                          **({"device": device} if device is not None else {}))
        return prim.impl_for(b)(like, **params)
