"""User-defined derivative rules: ``custom_jvp`` and ``custom_vjp``, and ``stop_gradient``.

Both are primitives whose parameters carry the user's functions. Evaluated, they call the
function. Under forward mode, ``custom_jvp`` calls the user's JVP rule; ``custom_vjp`` runs
``fwd`` and emits a linear primitive whose transpose is the user's ``bwd``. Under staging
(``make_graph``) they are inlined, except a custom_vjp function applied to the tangents that
reverse mode records (inside a custom_jvp rule), which stays one equation transposed by bwd.

With ``symbolic_zeros=True`` (JAX's option) the rules see which values take part in the
differentiation: a zero tangent reaches a custom JVP rule as a :class:`SymbolicZero` (no
array), custom_vjp's fwd gets :class:`CustomVJPPrimal` leaves (``value``, ``perturbed``) and
its bwd a SymbolicZero for each zero output cotangent. Any rule may return a SymbolicZero (or,
from bwd, None) for a zero result; it is never materialised beyond what the caller needs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import operator

import optree

from . import dtypes as _dt
from .core import (_SCALAR_DTYPES, ShapedArray, Tracer, _by_type_get, current_interpreter,
                   get_aval, primitive)
from .errors import CustomRuleError, UnexpectedTracerError
from .interpreters import CONSTANT_INTERPRETERS, ConstTracer, TangentRecorder, fixed_values
from .tree import NAMESPACE, _where_differ, tree_flatten, tree_map, tree_unflatten


def _zeros_like(x):
    from .numpy import zeros_like
    return zeros_like(x)


# -- symbolic zeros ------------------------------------------------------------------------


class SymbolicZero:
    """A zero tangent or cotangent that is not an array (``jax.custom_derivatives.
    SymbolicZero``): what rules defined with ``symbolic_zeros=True`` are given for a value
    that takes no part in the differentiation, and what any rule may return for a zero
    result. It has the tangent's ``aval``, ``shape``, ``dtype`` (``functrans.float0`` for an
    integer or boolean value, as in JAX), ``ndim`` and ``size``, and no arithmetic: test
    ``type(t) is SymbolicZero`` and skip the term, or make zeros of ``t.shape``/``t.dtype``.

    Example:
        >>> @ft.custom_jvp
        ... def f(x, y):
        ...     return x * y
        >>> @functools.partial(f.defjvp, symbolic_zeros=True)
        ... def f_jvp(primals, tangents):
        ...     (x, y), (tx, ty) = primals, tangents
        ...     terms = [t * o for t, o in ((tx, y), (ty, x)) if type(t) is not SymbolicZero]
        ...     return f(x, y), sum(terms[1:], terms[0])
        >>> ft.grad(f)(2.0, 3.0)
        array(3.)
    """

    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    @staticmethod
    def from_primal_value(value):
        """The symbolic zero tangent of ``value`` (an array, tracer or Python number)."""
        return SymbolicZero(_tangent_aval(get_aval(value)))

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: len(self.aval.shape))
    size = property(lambda self: self.aval.size)

    def __repr__(self):
        d = self.aval.dtype
        name = "float0" if d is _dt.float0 else d.short
        return f"SymbolicZero({name}[{','.join(map(str, self.aval.shape))}])"

    def _no_arithmetic(self, *_):
        raise TypeError(
            "A SymbolicZero (a zero tangent or cotangent given to a rule defined with "
            "symbolic_zeros=True) is not an array and takes no arithmetic: test "
            "`type(t) is SymbolicZero` and leave out its term, or make zeros with "
            "functrans.numpy.zeros(t.shape, dtype=t.dtype).")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = \
        __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = __rpow__ = _no_arithmetic

    def __array__(self, *_, **__):
        self._no_arithmetic()

    def __bool__(self):
        self._no_arithmetic()


def _tangent_aval(aval):
    """The abstract value of the tangents of values of ``aval``: itself for floating point,
    of dtype ``float0`` for integers and booleans (as JAX's)."""
    if aval.dtype.kind in "fc":
        return ShapedArray(tuple(aval.shape), aval.dtype)
    return ShapedArray(tuple(aval.shape), _dt.float0)


def zero_from_primal(value, symbolic_zeros=False):
    """The zero tangent of each leaf of the pytree ``value`` (``jax.custom_derivatives.
    zero_from_primal``): a :class:`SymbolicZero` with ``symbolic_zeros=True``, else an array
    of zeros like the leaf (of its dtype: functrans gives integer values' zero tangents in
    their own dtype, where JAX's are ``float0`` arrays)."""
    if symbolic_zeros:
        return tree_map(SymbolicZero.from_primal_value, value)
    return tree_map(_zeros_like, value)


@dataclasses.dataclass(slots=True)
class CustomVJPPrimal:
    """A leaf of the arguments of a custom_vjp's fwd rule defined with ``symbolic_zeros=True``
    (``jax.custom_derivatives.CustomVJPPrimal``): ``value`` is the argument's value,
    ``perturbed`` whether it is being differentiated (False: its cotangent is never read, so
    fwd may skip the residuals only it needs)."""

    value: object
    perturbed: bool


def custom_vjp_primal_tree_values(tree):
    """``tree`` (fwd's arguments under ``symbolic_zeros=True``) with each
    :class:`CustomVJPPrimal` leaf replaced by its ``value``."""
    def value(leaf):
        if type(leaf) is not CustomVJPPrimal:
            raise TypeError(f"custom_vjp_primal_tree_values expects a tree of CustomVJPPrimal "
                            f"leaves (what fwd is given with symbolic_zeros=True); got a "
                            f"{type(leaf).__name__} leaf.")
        return leaf.value
    return tree_map(value, tree)


def _is_zero(t):
    return t is None or type(t) is SymbolicZero


# -- custom_jvp ----------------------------------------------------------------------------

custom_jvp_call_p = primitive("custom_jvp_call", multiple_results=True)


def _custom_jvp_impl(backend, *args, fun, rule, in_tree, out_box, symbolic_zeros=False):
    return _call_flat(fun, args, in_tree, out_box)


def _custom_jvp_jvp(primals, tangents, fun, rule, in_tree, out_box, symbolic_zeros=False):
    # (symbolic_zeros: a zero tangent reaches the rule as a SymbolicZero, else as zeros)
    tangents = [t if t is not None else SymbolicZero.from_primal_value(p) if symbolic_zeros
                else _zeros_like(p) for p, t in zip(primals, tangents)]
    # (a plain tangent beside a traced primal, vmap of jvp: a constant, see _lift_plain)
    ps, ts, lifted = _lift_plain(primals, tangents)
    res = _run_rule(rule, (tuple(tree_unflatten(in_tree, ps)),
                           tuple(tree_unflatten(in_tree, ts))), fun, "custom_jvp")
    if lifted:
        res = fixed_values(res)
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise CustomRuleError(f"The custom JVP rule of {_name(fun)} must return a pair "
                              f"(primal_out, tangent_out); got {type(res).__name__}.")
    p_out, t_out = res
    p_leaves, p_tree = tree_flatten(p_out)
    t_leaves, t_tree = tree_flatten(t_out)
    if p_tree != t_tree:
        raise CustomRuleError(f"The custom JVP rule of {_name(fun)} returned primal and "
                              f"tangent outputs of different structures: {p_tree} vs {t_tree}.")
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        pa = get_aval(p)
        if pa.dtype.kind in "biu":
            t_leaves[i] = _integer_tangent_out(t, pa, i, fun)
            continue
        ta = t.aval if type(t) is SymbolicZero else get_aval(t)
        if pa.shape != ta.shape:
            raise CustomRuleError(
                f"The custom JVP rule of {_name(fun)}: tangent output {i} has shape "
                f"{ta.shape} but its primal has shape {pa.shape}.")
        if (type(t) not in _SCALAR_DTYPES and type(t) is not SymbolicZero
                and pa.dtype.kind in "fc" and ta.dtype is not pa.dtype):
            raise CustomRuleError(
                f"The custom JVP rule of {_name(fun)}: tangent output {i} has dtype "
                f"{ta.dtype.name} but its primal has dtype {pa.dtype.name}; cast the tangent "
                f"(astype) to the primal's dtype.")
    out_box[:] = [p_tree]
    # A Python-number result is a constant, as everywhere else: it carries no tangent; nor
    # does a result whose tangent the rule gave as a SymbolicZero.
    t_leaves = [None if type(p) in _SCALAR_DTYPES or type(t) is SymbolicZero else t
                for p, t in zip(p_leaves, t_leaves)]
    return p_leaves, t_leaves


def _integer_tangent_out(t, aval, i, fun):
    """The tangent a JVP rule gave for an output of integer or boolean dtype, which carries
    none: JAX's float0 zeros, a SymbolicZero or zeros of the output's shape, made None (a
    symbolic zero). A nonzero one is refused: passed on, it would reach a float computed from
    that output (``astype``) and change a derivative silently, where JAX refuses it."""
    from .api import _all_zero, _is_float0
    if type(t) is SymbolicZero:
        return None
    shape = tuple(t.shape) if _is_float0(t) else get_aval(t).shape
    if shape != aval.shape:
        raise CustomRuleError(
            f"The custom JVP rule of {_name(fun)}: tangent output {i} has shape {shape} but "
            f"its primal has shape {aval.shape}.")
    if not _is_float0(t) and not _all_zero(t):
        raise CustomRuleError(
            f"The custom JVP rule of {_name(fun)}: tangent output {i} is nonzero, but its "
            f"primal has dtype {aval.dtype.name}, which carries no derivative. Return zeros "
            f"there (numpy.zeros({aval.shape}, functrans.dtypes.float0), as JAX wants, or "
            f"zeros of any dtype).")
    return None


custom_jvp_call_p.def_impl(_custom_jvp_impl)
custom_jvp_call_p.def_jvp(_custom_jvp_jvp)


def _inline_custom_jvp(*args, fun, rule, in_tree, out_box, symbolic_zeros=False):
    return _call_flat(fun, args, in_tree, out_box)


custom_jvp_call_p.inline = _inline_custom_jvp


def _batched_in_axes(args, in_tree):
    """in_axes for the user's functions called on ``all_batched(args)``: every array leaf
    carries the batch, but a Python scalar stays a scalar (it has no axis to map over)."""
    return tuple(tree_unflatten(in_tree, [None if type(a) in _SCALAR_DTYPES else 0
                                          for a in args]))


def _custom_jvp_batch(args, dims, fun, rule, in_tree, out_box, batch_interp,
                      symbolic_zeros=False):
    # Batch the function and its rule as wholes (each a vmap over every argument), so that a
    # transform applied outside this vmap still meets the user's rule. (Their vmaps take the
    # batch's tracers they close over as their own.)
    from .batching import vmap_within
    from .primitives._batching import all_batched
    axes = _batched_in_axes(args, in_tree)
    if symbolic_zeros:
        rule = _batched_rule_symbolic(batch_interp, rule, axes, in_tree)
        extra = {"symbolic_zeros": True}
    else:
        rule = vmap_within(batch_interp, rule, in_axes=(axes, axes))
        extra = {}
    with _leaks_named(fun, "custom_jvp"):
        outs = custom_jvp_call_p.bind(*all_batched(args, dims),
                                      fun=vmap_within(batch_interp, fun, in_axes=axes),
                                      rule=rule, in_tree=in_tree, out_box=out_box, **extra)
    return outs, [0] * len(outs)


def _batched_rule_symbolic(batch_interp, rule, axes, in_tree):
    """A JVP rule taking SymbolicZero tangents, batched: the symbolic zeros are no arrays to
    map over, so each member gets its own (of a member's shape) and the others are mapped;
    a SymbolicZero the rule returns is made zeros in the member (vmap's results are arrays)."""
    from .batching import vmap_within

    def batched(primals, tangents):
        t_leaves = tree_flatten(tangents)[0]
        zero = [type(t) is SymbolicZero for t in t_leaves]
        leaf_axes = [None if type(a) in _SCALAR_DTYPES else 0
                     for a in tree_flatten(primals)[0]]

        def member(ps, nonzero):
            it = iter(nonzero)
            p_leaves = tree_flatten(ps)[0]
            ts = [SymbolicZero.from_primal_value(p) if z else next(it)
                  for p, z in zip(p_leaves, zero)]
            res = rule(ps, tree_unflatten(in_tree, ts))
            if not (isinstance(res, (tuple, list)) and len(res) == 2):
                return res  # (not a pair: _custom_jvp_jvp says so)
            p_out, t_out = res
            p_leaves, p_tree = tree_flatten(p_out)
            t_leaves, t_tree = tree_flatten(t_out)
            if p_tree != t_tree:
                return res  # (_custom_jvp_jvp says so)
            return p_out, tree_unflatten(t_tree, [
                _zeros_like(p) if type(t) is SymbolicZero else t
                for p, t in zip(p_leaves, t_leaves)])
        nonzero = [t for t, z in zip(t_leaves, zero) if not z]
        nz_axes = [a for a, z in zip(leaf_axes, zero) if not z]
        return vmap_within(batch_interp, member, in_axes=(axes, nz_axes))(primals, nonzero)
    return batched


@contextlib.contextmanager
def _leaks_named(fun, kind):
    """A vmap's or jit's tracer leaking from a batched custom function: say what it means."""
    from .interpreters import JVPTracer
    try:
        yield
    except UnexpectedTracerError as e:
        if type(getattr(e, "tracer", None)) in (type(None), JVPTracer):
            raise
        raise _leak_error(e, fun, kind) from e


custom_jvp_call_p.def_batch(_custom_jvp_batch)
custom_jvp_call_p.batch_sees_interp = True


def _call_flat(fun, args, in_tree, out_box):
    out = fun(*tree_unflatten(in_tree, list(args)))
    leaves, tree = tree_flatten(out)
    out_box[:] = [tree]
    return leaves


def _name(f):
    return getattr(f, "__name__", repr(f))


def _signature(fun):
    try:
        return inspect.signature(fun)
    except (TypeError, ValueError):  # a builtin without one: positional arguments only
        return None


def _resolve(fun, sig, args, kwargs, what):
    """The call's arguments as one positional tuple, by ``fun``'s signature ``sig``: keyword
    arguments by position and left-out arguments with their defaults (as JAX does), so that
    the rules always see every argument."""
    if sig is None:
        if kwargs:
            raise TypeError(f"{what} {_name(fun)} takes no keyword arguments.")
        return tuple(args)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{what} {_name(fun)}: {e}") from None
    bound.apply_defaults()
    # A keyword-only argument left to its default (a functools.partial's keyword) is the
    # function's own business, as in JAX: the rules do not see it either.
    given = sorted(k for k in bound.kwargs if k in kwargs)
    if given:
        raise TypeError(f"{what} {_name(fun)}: keyword-only arguments {given} cannot be "
                        f"passed to the rules by position; make them positional (or close "
                        f"over them).")
    return tuple(bound.args)


def _split_nondiff(args, nondiff_argnums, what, fun):
    """``(nondiff values, the other args, merge)``: ``merge(other)`` puts the full argument
    tuple back together."""
    n = len(args)
    for i in nondiff_argnums:
        if not -n <= i < n:
            raise TypeError(f"{what} {_name(fun)}: nondiff_argnums {nondiff_argnums} is out "
                            f"of range for a call with {n} argument(s).")
    nums = sorted({i % n for i in nondiff_argnums})
    if len(nums) != len(nondiff_argnums):  # the rules would get fewer than they were told
        raise TypeError(f"{what} {_name(fun)}: nondiff_argnums {nondiff_argnums} names an "
                        f"argument more than once (for a call with {n} argument(s)); list "
                        f"each once.")
    fixed = fixed_values(tuple(args[i] for i in nums))  # (constants: their arrays)
    if any(isinstance(x, Tracer) for x in tree_flatten(fixed)[0]):
        raise CustomRuleError(
            f"{what} {_name(fun)}: an argument named in nondiff_argnums {nondiff_argnums} is "
            f"a value being transformed (differentiated or batched); those arguments must be "
            f"fixed values (functions, flags, counts). Pass it as an ordinary argument instead "
            f"(its cotangent may be None).")
    rest = tuple(a for i, a in enumerate(args) if i not in nums)

    def merge(other):
        full, it, jt = [], iter(fixed), iter(other)
        for i in range(n):
            full.append(next(it) if i in nums else next(jt))
        return tuple(full)
    return fixed, rest, merge


def _argnums(nums, what, fun):
    """``nondiff_argnums`` as a tuple of ints, checked where it is given."""
    try:
        if isinstance(nums, (str, bytes)):
            raise TypeError
        return tuple(operator.index(i) for i in nums)
    except TypeError:
        raise TypeError(f"{what} of {_name(fun)}: nondiff_argnums must be a tuple of ints "
                        f"(argument positions); got {nums!r}.") from None


def _with_argnames(nums, names, what, fun, sig):
    """``nondiff_argnums`` joined with the positions of the parameters ``nondiff_argnames``
    names (JAX's ``nondiff_argnames``: the union, in order of position)."""
    if isinstance(names, str):
        names = (names,)
    try:
        names = tuple(names)
    except TypeError:
        raise TypeError(f"{what} of {_name(fun)}: nondiff_argnames must be a string or a "
                        f"tuple of strings (parameter names); got {names!r}.") from None
    if not names:
        return nums
    params = list(sig.parameters.values()) if sig is not None else []
    positions = {p.name: i for i, p in enumerate(params)
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
    found = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{what} of {_name(fun)}: nondiff_argnames must hold strings "
                            f"(parameter names); got {name!r}.")
        if name not in positions:
            raise ValueError(f"{what} of {_name(fun)}: nondiff_argnames names {name!r}, "
                             f"which is not one of its positional parameters "
                             f"{list(positions)}; name those, or use nondiff_argnums.")
        found.append(positions[name])
    return tuple(sorted(set(nums) | set(found)))


def _check_rule(rule, what, fun):
    """A rule given to defjvp/defjvps/defvjp must be a function (checked where it is given,
    not where it is first called, under some transform)."""
    if not callable(rule):
        raise TypeError(f"{what} of custom function {_name(fun)} expects a function; got "
                        f"{type(rule).__name__}.")


def _symbolic_zeros_flag(symbolic_zeros, what, fun):
    """``symbolic_zeros`` as a bool, checked where it is given."""
    if not isinstance(symbolic_zeros, (bool, int)) or isinstance(symbolic_zeros, float):
        raise TypeError(f"{what} of custom function {_name(fun)}: symbolic_zeros must be True "
                        f"or False; got {symbolic_zeros!r}.")
    return bool(symbolic_zeros)


class custom_jvp:
    """A function with a user-defined JVP rule.

    Example:
        >>> @ft.custom_jvp
        ... def log1pexp(x):
        ...     return fnp.log(1.0 + fnp.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))
        >>> ft.grad(log1pexp)(100.0)
        array(1.)

    The rule takes ``(primals, tangents)`` tuples and returns ``(primal_out, tangent_out)``;
    it must be linear in the tangents. Higher derivatives differentiate the rule itself.

    ``nondiff_argnums`` names arguments that are not differentiated (a function, a flag, a
    count): the rule then takes them first, ``rule(*nondiff, primals, tangents)``, and
    ``primals``/``tangents`` hold the others. Keyword arguments are passed by position.
    ``nondiff_argnames`` names such parameters by name instead (JAX's; joined with
    ``nondiff_argnums``, in order of position).

    ``defjvp(rule, symbolic_zeros=True)`` gives the rule a :class:`SymbolicZero` for each
    tangent that is zero (its argument is not being differentiated) instead of an array of
    zeros.
    """

    def __init__(self, fun, nondiff_argnums=(), nondiff_argnames=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._sig = _signature(fun)
        self.nondiff_argnums = _with_argnames(_argnums(nondiff_argnums, "custom_jvp", fun),
                                              nondiff_argnames, "custom_jvp", fun, self._sig)
        self.jvp_rule = None
        self.symbolic_zeros = False

    def defjvp(self, rule, symbolic_zeros=False):
        """Define the JVP rule ``rule(primals, tangents) -> (primal_out, tangent_out)``
        (usable as a decorator). With ``symbolic_zeros=True`` a tangent that is zero (its
        argument is not being differentiated) is given as a :class:`SymbolicZero` rather
        than an array of zeros, so the rule can skip its term; any rule may return a
        SymbolicZero as the tangent of an output."""
        _check_rule(rule, "defjvp", self.fun)
        self.symbolic_zeros = _symbolic_zeros_flag(symbolic_zeros, "defjvp", self.fun)
        self.jvp_rule = rule
        return rule

    def defjvps(self, *jvps):
        """One rule per argument, ``jvp_i(tangent_i, primal_out, *primals)``, each giving
        that argument's part of the output tangent (``None``: the output does not depend on
        it); the parts are added. Not with ``nondiff_argnums`` (as in JAX): use ``defjvp``."""
        if self.nondiff_argnums:
            raise TypeError(f"custom_jvp function {_name(self.fun)}: defjvps cannot be used "
                            f"with nondiff_argnums (as in JAX); define the rule with defjvp.")
        for f in jvps:
            if f is not None:
                _check_rule(f, "defjvps", self.fun)

        def rule(primals, tangents):
            if len(jvps) != len(primals):  # zip would drop the others' derivatives
                raise CustomRuleError(
                    f"custom_jvp function {_name(self.fun)}: defjvps was given {len(jvps)} "
                    f"rule(s) but the function is called with {len(primals)} argument(s); "
                    f"give one per argument, None for one the output does not depend on.")
            # Through the custom function itself (as JAX), so that the derivative of the
            # rule, at the next order, meets this rule again rather than ``fun``'s own.
            out = self(*primals)
            total = None
            for f, t in zip(jvps, tangents):
                if f is None:
                    continue
                part = f(t, out, *primals)
                total = part if total is None else tree_map(lambda a, b: a + b, total, part)
            return out, (tree_map(_zeros_like, out) if total is None else total)
        self.jvp_rule = rule
        self.symbolic_zeros = False
        return rule

    def __call__(self, *args, **kwargs):
        if self.jvp_rule is None:
            raise CustomRuleError(f"custom_jvp function {_name(self.fun)} has no JVP rule; "
                                  f"define one with @{_name(self.fun)}.defjvp.")
        args = _resolve(self.fun, self._sig, args, kwargs, "custom_jvp function")
        fun, rule = self.fun, self.jvp_rule
        if self.nondiff_argnums:
            fixed, args, merge = _split_nondiff(args, self.nondiff_argnums,
                                                "custom_jvp function", fun)
            fun = functools.wraps(self.fun)(lambda *a, _f=self.fun: _f(*merge(a)))
            rule = functools.partial(self.jvp_rule, *fixed)
        leaves, in_tree = tree_flatten(args)
        out_box = []
        outs = custom_jvp_call_p.bind(*leaves, fun=fun, rule=rule, in_tree=in_tree,
                                      out_box=out_box,
                                      **({"symbolic_zeros": True} if self.symbolic_zeros
                                         else {}))
        return tree_unflatten(out_box[0], outs)


# -- custom_vjp ----------------------------------------------------------------------------

custom_vjp_call_p = primitive("custom_vjp_call", multiple_results=True)


def _custom_vjp_impl(backend, *args, fun, fwd, bwd, in_tree, out_box, symbolic_zeros=False):
    out = _call_flat(fun, args, in_tree, out_box)
    # Evaluated: no transform owns an argument, so a value being differentiated in the
    # result came from a closure.
    _check_closure(out, (), fun)
    return out


def _interp_chain(interp):
    chain = set()
    while interp is not None:
        chain.add(interp)
        interp = interp.parent
    return chain


def _differentiated_outside(x, chain):
    """Whether ``x`` is (or holds, through batches and primals) a value being differentiated
    by a transform outside ``chain`` (the interpreters the call's own values belong to)."""
    from .batching import BatchTracer
    from .interpreters import JVPTracer
    while isinstance(x, Tracer):
        if x._interp in chain:
            return False
        if type(x) is JVPTracer:
            return True
        x = x.val if type(x) is BatchTracer else None
    return False


def _check_closure(leaves, chain, fun):
    """Refuse (as JAX's CustomVJPException does) a custom_vjp function whose results depend
    on a value being differentiated that is not one of its arguments: its bwd gives
    cotangents for the arguments only, so the derivative with respect to the closed-over
    value would silently come from differentiating the function's own code, ignoring the
    rule (a gradient clipped by bwd would not be clipped for it)."""
    if any(_differentiated_outside(x, chain) for x in leaves):
        raise _closure_error(fun)


def _closure_error(fun, kind="custom_vjp"):
    return CustomRuleError(
        f"Differentiation of {kind} function {_name(fun)} with respect to a closed-over "
        f"value: its result depends on a value being differentiated that is not one of its "
        f"arguments, and its rule only gives derivatives for the arguments (as JAX, which "
        f"raises). Pass that value as an argument (functrans.closure_convert turns what a "
        f"function closes over into arguments), or wrap it in functrans.stop_gradient if no "
        f"derivative should flow through it.")


def _run_rule(rule, args, fun, kind):
    """The user's rule (fwd, or a custom JVP rule) run beneath the transform that met the
    call: a value of that transform it closes over cannot reach the operations there, which
    report a leaked tracer; say what that means here."""
    try:
        return rule(*args)
    except UnexpectedTracerError as e:
        raise _leak_error(e, fun, kind) from e


def _leak_error(e, fun, kind):
    """What a leaked tracer met while running a custom function's rules means: a value being
    differentiated that is not an argument, or (a vmap's or jit's tracer) a value of a
    transform applied inside the one that handles the call."""
    from .interpreters import JVPTracer
    t = getattr(e, "tracer", None)
    if t is None or type(t) is JVPTracer:
        return _closure_error(fun, kind)
    return CustomRuleError(
        f"{kind} function {_name(fun)} (or its rule) closes over a value of a vmap or jit "
        f"applied inside the transform that handles the call ({type(t).__name__}): its "
        f"rules run beneath that transform, where the value cannot be reached (JAX takes "
        f"this). Pass that value as an argument (functrans.closure_convert turns what a "
        f"function closes over into arguments).")


def _processing_interp(args):
    """The interpreter handling a primitive bound on ``args``: the innermost (highest) one
    that owns an argument, or None when no argument is a tracer."""
    best, depth = None, -1
    for a in args:
        if isinstance(a, Tracer):
            d, i = 0, a._interp
            while i is not None:
                d, i = d + 1, i.parent
            if d > depth:
                best, depth = a._interp, d
    return best


def _custom_vjp_jvp(primals, tangents, fun, fwd, bwd, in_tree, out_box, symbolic_zeros=False):
    # (symbolic_zeros: fwd sees which arguments are being differentiated)
    fwd_args = ([CustomVJPPrimal(p, t is not None) for p, t in zip(primals, tangents)]
                if symbolic_zeros else list(primals))
    res = _run_rule(fwd, tree_unflatten(in_tree, fwd_args), fun, "custom_vjp")
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise CustomRuleError(f"The fwd rule of custom_vjp function {_name(fun)} must return "
                              f"(output, residuals); got {type(res).__name__}.")
    out, residuals = res
    out_leaves, out_tree = tree_flatten(out)
    # (the rule runs beneath this JVP interpreter: values of it or above are closed over)
    _check_closure(out_leaves, _interp_chain(current_interpreter()), fun)
    out_box[:] = [out_tree]
    # A Python scalar's zero tangent stays a scalar: an array would be of the default
    # backend, which the other tangents' library cannot meet.
    tangents = [(type(p)(0) if type(p) in _SCALAR_DTYPES else _zeros_like(p)) if t is None
                else t for p, t in zip(primals, tangents)]
    # The residuals' arrays are operands (after the tangents), so that a transform beneath
    # (jit's staging) sees them as values of its own; other leaves stay in the parameters.
    res_leaves, res_tree = tree_flatten(residuals)
    dynamic = tuple(isinstance(r, Tracer) or hasattr(r, "shape") for r in res_leaves)
    lin = custom_vjp_lin_p.bind(
        *tangents, *[r for r, d in zip(res_leaves, dynamic) if d], bwd=bwd,
        diff=tuple(range(len(tangents))), res_tree=res_tree, res_dynamic=dynamic,
        res_static=tuple(r for r, d in zip(res_leaves, dynamic) if not d), in_tree=in_tree,
        out_tree=out_tree, out_avals=tuple(get_aval(o) for o in out_leaves), name=_name(fun),
        in_avals=tuple(get_aval(t) for t in tangents),
        **({"symbolic_zeros": True} if symbolic_zeros else {}))
    return out_leaves, lin


custom_vjp_call_p.def_impl(_custom_vjp_impl)
custom_vjp_call_p.def_jvp(_custom_vjp_jvp)


def _inline_custom_vjp(*args, fun, fwd, bwd, in_tree, out_box, symbolic_zeros=False):
    from .interpreters import TangentRecorder
    interp = _processing_interp(args)
    if type(interp) is TangentRecorder:
        return _record_tangent_map(interp, args, fun, fwd, bwd, in_tree, out_box,
                                   symbolic_zeros)
    out = _call_flat(fun, args, in_tree, out_box)
    _check_closure(out, _interp_chain(interp), fun)
    return out


custom_vjp_call_p.inline = _inline_custom_vjp


# -- a custom_vjp function applied to tangents --------------------------------------------
# Inside a custom_jvp rule run by reverse mode, the tangents are values of the staging that
# records the linear map to be transposed. The rule is linear in them, so a custom_vjp
# function applied to them is a linear map whose transpose is its bwd (what vjp and
# linear_transpose of the same jvp use): it is recorded as one equation evaluated by the
# function itself and transposed by bwd, with residuals from fwd at zero tangents (any point
# gives the same transpose of a linear map), instead of being inlined (which transposed the
# function's own code and ignored bwd: a gradient clipped by bwd came out unclipped).
custom_vjp_tangent_p = primitive("custom_vjp_tangent", multiple_results=True)


def _record_tangent_map(recorder, args, fun, fwd, bwd, in_tree, out_box, symbolic_zeros):
    from .api import _concrete_value
    from .interpreters import StagingTracer
    linear = [type(a) is StagingTracer and a._interp is recorder for a in args]
    like = recorder.device_source
    if like is None or _concrete_value(like) is None:
        like = next((a for a, lin in zip(args, linear)
                     if not lin and type(a) not in _SCALAR_DTYPES), None)
    at = [_zeros_like_aval(None, get_aval(a), like) if lin else a
          for a, lin in zip(args, linear)]
    if symbolic_zeros:  # (the tangents are what is differentiated here)
        at = [CustomVJPPrimal(a, lin) for a, lin in zip(at, linear)]
    res = fwd(*tree_unflatten(in_tree, at))
    if not (isinstance(res, (tuple, list)) and len(res) == 2):
        raise CustomRuleError(f"The fwd rule of custom_vjp function {_name(fun)} must return "
                              f"(output, residuals); got {type(res).__name__}.")
    out0, residuals = res
    out_leaves, out_tree = tree_flatten(out0)
    out_box[:] = [out_tree]
    res_leaves, res_tree = tree_flatten(residuals)
    dynamic = tuple(isinstance(r, Tracer) or hasattr(r, "shape") for r in res_leaves)
    return custom_vjp_tangent_p.bind(
        *args, *[r for r, d in zip(res_leaves, dynamic) if d], fun=fun, bwd=bwd,
        n_args=len(args), res_tree=res_tree, res_dynamic=dynamic,
        res_static=tuple(r for r, d in zip(res_leaves, dynamic) if not d), in_tree=in_tree,
        out_tree=out_tree, out_avals=tuple(get_aval(o) for o in out_leaves), name=_name(fun),
        in_avals=tuple(get_aval(a) for a in args),
        **({"symbolic_zeros": True} if symbolic_zeros else {}))


def _tangent_map_call(*operands, fun, n_args, in_tree, **_):
    return _call_flat(fun, operands[:n_args], in_tree, [])


def _tangent_map_transpose(cts, *operands, fun, bwd, n_args, res_tree, res_dynamic,
                           res_static, in_tree, out_tree, out_avals, name, in_avals,
                           symbolic_zeros=False):
    from .graph import Var
    args = operands[:n_args]
    _, residuals = _split_lin_operands(operands, range(n_args), res_tree, res_dynamic,
                                       res_static)
    cts = _bwd_cotangents(cts, out_avals, symbolic_zeros)
    out = _apply_bwd(bwd, residuals, tree_unflatten(out_tree, cts), in_tree, name, in_avals)
    return ([c if type(a) is Var else None for c, a in zip(out, args)]
            + [None] * (len(operands) - n_args))


custom_vjp_tangent_p.def_impl(lambda backend, *operands, **params:
                              _tangent_map_call(*operands, **params))
custom_vjp_tangent_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))
custom_vjp_tangent_p.def_transpose(_tangent_map_transpose)
custom_vjp_tangent_p.def_jvp_inline(_tangent_map_call)


def _custom_vjp_batch(args, dims, fun, fwd, bwd, in_tree, out_box, batch_interp,
                      symbolic_zeros=False):
    from .batching import vmap_within
    from .primitives._batching import all_batched
    axes = _batched_in_axes(args, in_tree)
    # Residuals that are not arrays (a Python float saved for bwd) are one value for the whole
    # batch: kept aside rather than stacked by vmap into an array of the default backend
    # (which another backend's cotangents cannot meet, and which loses weak typing).
    box = []

    def fwd_member(*a):
        pair = fwd(*a)
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            return pair  # not (output, residuals): _custom_vjp_jvp says so
        out, res = pair
        leaves, tree = tree_flatten(res)
        const = [not (isinstance(r, Tracer) or hasattr(r, "shape")) for r in leaves]
        box[:] = [tree, const, [r for r, c in zip(leaves, const) if c]]
        return out, [r for r, c in zip(leaves, const) if not c]

    def bwd_member(arrays, cts):
        tree, const, values = box
        arrays, values = iter(arrays), iter(values)
        return bwd(tree_unflatten(tree, [next(values) if c else next(arrays) for c in const]),
                   cts)

    if symbolic_zeros:
        batched_fwd, batched_bwd = _batched_symbolic(batch_interp, fwd_member, bwd_member,
                                                     args)
    else:
        batched_fwd = vmap_within(batch_interp, fwd_member, in_axes=axes)
        batched_bwd = vmap_within(batch_interp, bwd_member)
    zeros = [type(a)(0) if type(a) in _SCALAR_DTYPES else None for a in args]

    def bwd_(res, cts):
        # A Python scalar argument has no batch axis, so its cotangent (which nothing reads,
        # but forward mode pairs with the argument's zero tangent) must not get one.
        out = batched_bwd(res, cts)
        leaves = _bwd_leaves(out, in_tree, len(zeros)) if isinstance(out, tuple) else None
        if leaves is None:
            return out  # a wrong structure: _apply_bwd says so
        # (None, a zero cotangent, stays None: _apply_bwd makes the zeros.)
        return tuple(tree_unflatten(in_tree, [c if z is None else z
                                              for c, z in zip(leaves, zeros)]))

    with _leaks_named(fun, "custom_vjp"):
        outs = custom_vjp_call_p.bind(*all_batched(args, dims),
                                      fun=vmap_within(batch_interp, fun, in_axes=axes),
                                      fwd=batched_fwd, bwd=bwd_, in_tree=in_tree,
                                      out_box=out_box,
                                      **({"symbolic_zeros": True} if symbolic_zeros else {}))
    return outs, [0] * len(outs)


def _batched_symbolic(batch_interp, fwd_member, bwd_member, args):
    """custom_vjp's fwd and bwd under ``symbolic_zeros``, batched: CustomVJPPrimal leaves and
    SymbolicZero cotangents are no arrays to map over, so the values are mapped and each
    member gets its own wrappers (of a member's shape); a SymbolicZero that bwd returns
    becomes None (a zero cotangent) in the member."""
    from .batching import vmap_within
    leaf_axes = tuple(None if type(a) in _SCALAR_DTYPES else 0 for a in args)

    def batched_fwd(*wrapped):
        leaves, tree = tree_flatten(wrapped)  # (CustomVJPPrimal leaves)
        flags = [w.perturbed for w in leaves]

        def member(*values):
            return fwd_member(*tree_unflatten(tree, [CustomVJPPrimal(v, f)
                                                     for v, f in zip(values, flags)]))
        return vmap_within(batch_interp, member, in_axes=leaf_axes)(*[w.value
                                                                      for w in leaves])

    def batched_bwd(res, cts):
        leaves, tree = tree_flatten(cts)
        zero = [type(c) is SymbolicZero for c in leaves]

        def member(r, nonzero):
            it = iter(nonzero)
            full = [SymbolicZero(ShapedArray(tuple(c.shape[1:]), c.dtype)) if z else next(it)
                    for c, z in zip(leaves, zero)]
            out = bwd_member(r, tree_unflatten(tree, full))
            if isinstance(out, (tuple, list)):
                out = tree_map(lambda c: None if type(c) is SymbolicZero else c, out)
            return out
        return vmap_within(batch_interp, member)(res, [c for c, z in zip(leaves, zero)
                                                       if not z])
    return batched_fwd, batched_bwd


custom_vjp_call_p.def_batch(_custom_vjp_batch)
custom_vjp_call_p.batch_sees_interp = True


def _bwd_leaves(res, in_tree, n):
    """One cotangent per argument leaf (``None``: zero) from what ``bwd`` returned, or None
    where its structure does not fit the arguments'. A ``None`` may stand for a whole
    argument or subtree (as in JAX); the arguments' own ``None`` take none."""
    slots = [None] * n
    fits = [True]

    def visit(c, d):
        if c is not None:
            if type(d) is int:
                slots[d] = c
            else:  # one value where the argument has a subtree (or its own None)
                fits[0] = False
    try:
        optree.tree_map(visit, res, tree_unflatten(in_tree, list(range(n))),
                        is_leaf=lambda x: x is None, namespace=NAMESPACE)
    except (ValueError, TypeError):
        return None
    return slots if fits[0] else None


def _lift_plain(residuals, cts):
    """``bwd``'s residuals and cotangents (or a JVP rule's primals and tangents), with
    their plain arrays held as constants of the running transform
    (:func:`functrans.interpreters.constant`) where others are tracers: under ``vmap`` or
    ``jit`` of a gradient, the cotangent can be a plain array (one that does not depend on
    the batched or staged values) beside a traced residual, or the other way round, and
    array-api-strict's operators refuse a tracer on their right (``ct * r`` raised
    TypeError), as JAX's, where both are tracers, do not. Also returns whether any leaf was
    lifted. (Beneath linearize, a custom JVP rule gets plain primals and the tangents
    recorded for the backward pass: grad of a custom_jvp function on array-api-strict,
    ``cos(x) * t``; the constants of the recorder then stay constants, see
    ``EvalInterpreter._with_constants``.)"""
    interp = current_interpreter()
    if type(interp) not in CONSTANT_INTERPRETERS and type(interp) is not TangentRecorder:
        return residuals, cts, False
    r_leaves, r_tree = tree_flatten(residuals)
    c_leaves, c_tree = tree_flatten(cts)
    leaves = r_leaves + c_leaves
    if not any(isinstance(x, Tracer) for x in leaves):
        return residuals, cts, False
    lifted = [ConstTracer(interp, x) if _by_type_get(type(x)) is not None else x
              for x in leaves]
    if all(a is b for a, b in zip(lifted, leaves)):
        return residuals, cts, False
    n = len(r_leaves)
    return tree_unflatten(r_tree, lifted[:n]), tree_unflatten(c_tree, lifted[n:]), True


def _apply_bwd(bwd, residuals, cts, in_tree, name, in_avals):
    """The user's ``bwd`` on the cotangents ``cts`` (a pytree): one cotangent per argument
    leaf, each of its argument's shape; ``None`` stands for zeros (as in JAX)."""
    residuals, cts, lifted = _lift_plain(residuals, cts)
    res = bwd(residuals, cts)
    if lifted:  # (what bwd computed from the constants alone: plain arrays again)
        res = fixed_values(res)
    if type(res) is list:  # (JAX takes a list too)
        res = tuple(res)
    if not isinstance(res, tuple):
        raise CustomRuleError(f"The bwd rule of custom_vjp function {name} must return a tuple "
                              f"with one cotangent per argument; got {type(res).__name__}.")
    leaves = _bwd_leaves(res, in_tree, len(in_avals))
    if leaves is None:
        names = ("arguments", "cotangents")
        raise CustomRuleError(f"The bwd rule of custom_vjp function {name} returned "
                              f"cotangents of structure {tree_flatten(res)[1]}; the arguments "
                              f"have {in_tree}"
                              f"{_where_differ(in_tree, tree_flatten(res)[1], names)}.")
    like = next((c for c in tree_flatten(cts)[0] if not _is_zero(c)), None)
    out = []
    for i, (c, a) in enumerate(zip(leaves, in_avals)):
        if type(c) is SymbolicZero and tuple(c.shape) != tuple(a.shape):
            raise CustomRuleError(
                f"The bwd rule of custom_vjp function {name} returned a SymbolicZero of shape "
                f"{tuple(c.shape)} for argument leaf {i}, which has shape {tuple(a.shape)}; "
                f"return None there instead.")
        if _is_zero(c):
            c = _zeros_like_aval(None, a, like)
        elif type(c) not in _SCALAR_DTYPES and tuple(get_aval(c).shape) != tuple(a.shape):
            raise CustomRuleError(
                f"The bwd rule of custom_vjp function {name} returned a cotangent of shape "
                f"{tuple(get_aval(c).shape)} for argument leaf {i}, which has shape "
                f"{tuple(a.shape)}; each cotangent must have its argument's shape.")
        out.append(c)
    return out


# The tangent map of a custom_vjp function: linear in the input tangents, with the user's
# bwd as its transpose. Under plain forward mode it is evaluated as the transpose of bwd (a
# vjp of the linear map ct -> bwd(residuals, ct)), so jvp uses the user's rule too.
custom_vjp_lin_p = primitive("custom_vjp_lin", multiple_results=True)


def _split_lin_operands(operands, diff, res_tree, res_dynamic, res_static):
    """The tangents and the residuals' pytree from custom_vjp_lin's operands."""
    n = len(diff)
    arrays, static = iter(operands[n:]), iter(res_static)
    residuals = tree_unflatten(res_tree, [next(arrays) if d else next(static)
                                          for d in res_dynamic])
    return operands[:n], residuals


def _transposed_bwd(backend, operands, bwd, diff, res_tree, res_dynamic, res_static, in_tree,
                    out_tree, out_avals, name, in_avals, symbolic_zeros=False):
    """The tangent map of a custom_vjp function: the transpose of the linear map
    ``ct -> bwd(residuals, ct)``, obtained as its own vjp (exact, since it is linear)."""
    from .api import vjp
    tangents, residuals = _split_lin_operands(operands, diff, res_tree, res_dynamic,
                                              res_static)
    # The point the linear map is differentiated at, on the tangents' device (a GPU's, not
    # the default one). Any point gives the same transpose of a linear map; ones rather than
    # zeros, so that a bwd whose code stops early on a zero cotangent (an iterative solver
    # checking its residual) still runs the way it does on a real one.
    like = _array_tangent(tangents)
    ct0 = [_ones_like_aval(a, like) if like is not None
           else backend.xp.ones(a.shape, dtype=backend.native_dtype(a.dtype))
           for a in out_avals]
    at_ct0, transpose_of_bwd = vjp(
        lambda *cts: _apply_bwd(bwd, residuals, tree_unflatten(out_tree, list(cts)), in_tree,
                                name, in_avals), *ct0)
    # (a Python int's zero tangent meets bwd's floating cotangent of that input: as a float)
    tangents = [float(t) if type(t) in (int, bool) else t for t in tangents]
    out = list(transpose_of_bwd(tangents))
    # bwd must be linear in the cotangent (not a gradient clip, JAX's own example): else its
    # "transpose", the vjp at ct0, depends on that arbitrary point and forward mode would be
    # silently wrong (zero, for a clip below one). Checked where bwd(ct0) is concrete: with
    # the tangents where they are (plain jvp), else (vmap's, jacfwd's) with ones.
    if not any(isinstance(v, Tracer) for v in at_ct0):
        if any(isinstance(v, Tracer) for v in (*tangents, *out)):
            w = [1.0 if type(a) in _SCALAR_DTYPES else _ones_like_aval(get_aval(a), a)
                 for a in at_ct0]
            _check_linear_bwd(at_ct0, w, ct0, list(transpose_of_bwd(w)), name)
        else:
            _check_linear_bwd(at_ct0, tangents, ct0, out, name)
    return out


def _check_linear_bwd(at_ct0, tangents, ct0, transposed, name):
    """Raise unless <B ct0, t> = <ct0, B^T t>, as for the linear map B that bwd must be."""
    import numpy as np
    from .backends import backend_of
    vals = [*at_ct0, *tangents, *ct0, *transposed]
    if any(isinstance(v, Tracer) for v in vals):
        return
    host = [np.asarray(v) if type(v) in _SCALAR_DTYPES or isinstance(v, (np.ndarray, np.generic))
            else np.asarray(backend_of(v).to_numpy(v)) for v in vals]
    n, m = len(at_ct0), len(tangents)
    b_c, t, c, bt_t = host[:n], host[n:n + m], host[n + m:n + m + len(ct0)], host[n + m + len(ct0):]
    lhs = sum(np.sum(x * y) for x, y in zip(b_c, t))
    rhs = sum(np.sum(x * y) for x, y in zip(c, bt_t))
    scale = (sum(np.sum(np.abs(x) * np.abs(y)) for x, y in zip(b_c, t))
             + sum(np.sum(np.abs(x) * np.abs(y)) for x, y in zip(c, bt_t)))
    kinds = [x.dtype for x in host if x.dtype.kind in "fc"]
    eps = max((np.finfo(d).eps for d in kinds), default=np.finfo(np.float64).eps)
    # (loose enough for a bwd solving iteratively to a tolerance; a clip is off by O(1))
    if abs(lhs - rhs) > max(np.sqrt(eps), 1e-6) * scale + np.finfo(np.float64).tiny:
        raise CustomRuleError(
            f"The bwd rule of custom_vjp function {name} is not linear in its cotangent (a "
            f"gradient-clipping rule, say), so forward mode (jvp, jacfwd, hessian...) cannot "
            f"use its transpose (JAX refuses forward mode of any custom_vjp function). "
            f"Differentiate it in reverse mode only, or give the function a custom_jvp rule "
            f"for forward mode.")


def _custom_vjp_lin_impl(backend, *operands, **params):
    # The starting cotangents live on the tangents' backend (the impl's), not the default one.
    return _transposed_bwd(backend, operands, **params)


def _custom_vjp_lin_jvp_inline(*operands, **params):
    # Forward mode through the tangent map itself: differentiates with respect to the
    # tangents and to any residuals that are tracers of the same transform.
    from .api import _concrete_backend
    from .backends import default
    like = _array_tangent(operands[:len(params["diff"])])
    return _transposed_bwd(_concrete_backend(like)[0] if like is not None else default(),
                           operands, **params)


def _array_tangent(tangents):
    """The first tangent that is not a Python scalar (the zero tangent of a Python-scalar
    argument has no library or device), or None."""
    return next((t for t in tangents if type(t) not in _SCALAR_DTYPES), None)


def _custom_vjp_lin_transpose(cts, *operands, bwd, diff, res_tree, res_dynamic, res_static,
                              in_tree, out_tree, out_avals, name, in_avals,
                              symbolic_zeros=False):
    tangents, residuals = _split_lin_operands(operands, diff, res_tree, res_dynamic,
                                              res_static)
    cts = _bwd_cotangents(cts, out_avals, symbolic_zeros)
    out = _apply_bwd(bwd, residuals, tree_unflatten(out_tree, cts), in_tree, name, in_avals)
    return list(out) + [None] * (len(operands) - len(tangents))


def _bwd_cotangents(cts, out_avals, symbolic_zeros):
    """The output cotangents as bwd gets them: a zero one (None) as a SymbolicZero under
    ``symbolic_zeros``, else as zeros on the backend and device of a present one."""
    if symbolic_zeros:
        return [SymbolicZero(_tangent_aval(a)) if c is None else c
                for c, a in zip(cts, out_avals)]
    present = next(c for c in cts if c is not None)
    return [_zeros_like_aval(c, a, present) for c, a in zip(cts, out_avals)]


def _zeros_like_aval(ct, aval, like):
    """``ct``, or zeros of ``aval`` on the backend and device of the cotangent ``like``."""
    if ct is not None:
        return ct
    from .api import _concrete_backend
    b, dev = _concrete_backend(like)
    return b.xp.zeros(aval.shape, dtype=b.native_dtype(aval.dtype),
                      **({"device": dev} if dev is not None else {}))


def _ones_like_aval(aval, like):
    """Ones of ``aval`` on the backend and device of the array ``like``."""
    from .api import _concrete_backend
    b, dev = _concrete_backend(like)
    return b.xp.ones(aval.shape, dtype=b.native_dtype(aval.dtype),
                     **({"device": dev} if dev is not None else {}))


def _custom_vjp_lin_aval(*avals, out_avals, **_):
    return list(out_avals)


custom_vjp_lin_p.def_impl(_custom_vjp_lin_impl)
custom_vjp_lin_p.def_abstract_eval(_custom_vjp_lin_aval)
custom_vjp_lin_p.def_transpose(_custom_vjp_lin_transpose)
custom_vjp_lin_p.def_jvp_inline(_custom_vjp_lin_jvp_inline)


class custom_vjp:
    """A function with a user-defined VJP rule.

    Example:
        >>> @ft.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> def fwd(x):
        ...     return x, None
        >>> def bwd(res, g):
        ...     return (fnp.clip(g, -1.0, 1.0),)
        >>> clip_gradient.defvjp(fwd, bwd)

    ``fwd(*args)`` returns ``(output, residuals)``; ``bwd(residuals, cotangent)`` returns a
    tuple with one cotangent per argument (``None`` for a zero one). Forward mode (``jvp``)
    uses the transpose of ``bwd``, so the custom rule is honoured there too; a ``bwd`` that
    is not linear in the cotangent (a gradient clip) has none, and forward mode raises
    CustomRuleError.

    ``nondiff_argnums`` names arguments that are not differentiated: ``fwd`` still takes every
    argument, ``bwd`` takes them first, ``bwd(*nondiff, residuals, cotangent)``, and returns
    cotangents for the others only. Keyword arguments are passed by position.
    ``nondiff_argnames`` names such parameters by name instead (JAX's; joined with
    ``nondiff_argnums``, in order of position).

    Values being differentiated must be arguments: a function whose result depends on one it
    closes over raises CustomRuleError under ``grad``/``jvp`` (as JAX's CustomVJPException),
    since ``bwd`` gives no cotangent for it. Applied to tangents inside a ``custom_jvp`` rule,
    reverse mode transposes the function by ``bwd``.

    ``defvjp(fwd, bwd, symbolic_zeros=True)``: fwd's argument leaves are
    :class:`CustomVJPPrimal` (``value``, ``perturbed``) and bwd gets a :class:`SymbolicZero`
    for each output cotangent that is zero.
    """

    def __init__(self, fun, nondiff_argnums=(), nondiff_argnames=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._sig = _signature(fun)
        self.nondiff_argnums = _with_argnames(_argnums(nondiff_argnums, "custom_vjp", fun),
                                              nondiff_argnames, "custom_vjp", fun, self._sig)
        self.fwd = self.bwd = None
        self.symbolic_zeros = False

    def defvjp(self, fwd, bwd, symbolic_zeros=False):
        """Define the rules: ``fwd(*args) -> (output, residuals)`` and
        ``bwd(residuals, cotangent) -> one cotangent per argument``. With
        ``symbolic_zeros=True`` each leaf of fwd's arguments is a :class:`CustomVJPPrimal`
        (``value``, ``perturbed``: whether that argument is being differentiated), and bwd
        gets a :class:`SymbolicZero` for each output cotangent that is zero; bwd may return
        None or a SymbolicZero for a zero cotangent in either mode."""
        _check_rule(fwd, "defvjp's fwd", self.fun)
        _check_rule(bwd, "defvjp's bwd", self.fun)
        self.symbolic_zeros = _symbolic_zeros_flag(symbolic_zeros, "defvjp", self.fun)
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise CustomRuleError(f"custom_vjp function {_name(self.fun)} has no rule; define "
                                  f"one with {_name(self.fun)}.defvjp(fwd, bwd).")
        args = _resolve(self.fun, self._sig, args, kwargs, "custom_vjp function")
        fun, fwd, bwd = self.fun, self.fwd, self.bwd
        if self.nondiff_argnums:
            fixed, args, merge = _split_nondiff(args, self.nondiff_argnums,
                                                "custom_vjp function", fun)
            fun = functools.wraps(self.fun)(lambda *a, _f=self.fun: _f(*merge(a)))
            fwd = functools.wraps(self.fwd)(lambda *a, _f=self.fwd: _f(*merge(a)))
            bwd = functools.partial(self.bwd, *fixed)
        leaves, in_tree = tree_flatten(args)
        out_box = []
        outs = custom_vjp_call_p.bind(*leaves, fun=fun, fwd=fwd, bwd=bwd, in_tree=in_tree,
                                      out_box=out_box,
                                      **({"symbolic_zeros": True} if self.symbolic_zeros
                                         else {}))
        return tree_unflatten(out_box[0], outs)


def closure_convert(fun, *example_args):
    """``(converted, consts)`` with ``converted(*args, *consts) == fun(*args)``, where
    ``consts`` are the values of enclosing transforms (tracers) that ``fun`` closes over
    (``jax.closure_convert``). A function given to a higher-order rule (the integrand of an
    ``odeint``, a solver inside a ``custom_vjp``) must take the values being differentiated
    as arguments: converted, it does, and those values get their cotangents.

    ``fun`` is staged once on the example arguments' shapes and dtypes (so its Python
    control flow must not depend on their values; Python numbers are taken as 0-d arrays);
    a call with other non-array arguments (strings, flags) than the example's stages it
    again. Where ``fun`` closes over no tracer, ``consts`` is empty and ``converted`` is
    ``fun`` itself.
    """
    return _closure_convert(fun, example_args, False)


def _closure_convert(fun, example_args, replay):
    """:func:`closure_convert`; with ``replay``, ``converted`` replays the staged graph
    also where ``fun`` closes over no tracer (``fun`` itself may hold tracers that are gone
    by the time it is called: fwd_and_bwd's backward pass)."""
    from .checkpointing import _stage, _static
    from .graph import eval_graph
    name = _name(fun)
    leaves, in_tree = tree_flatten((example_args, {}))
    leaves = _numbers_as_arrays(leaves)
    graph, captured, rebuild = _stage(fun, leaves, in_tree, name, "closure_convert")
    consts = [c for c in captured if isinstance(c, Tracer)]
    if not consts and not replay:
        return fun, []
    slot = {id(c): i for i, c in enumerate(consts)}
    staged = {(in_tree, _staged_for(leaves)): (graph, captured, rebuild)}
    n = len(consts)

    def converted(*args):
        if len(args) < n:
            raise TypeError(f"closure_convert of {name}: the converted function takes the "
                            f"arguments, then the {n} hoisted values; got {len(args)} "
                            f"arguments.")
        args, given = args[:len(args) - n], args[len(args) - n:]
        xs, tree = tree_flatten((args, {}))
        xs = _numbers_as_arrays(xs)
        key = (tree, _staged_for(xs))
        found = staged.get(key)
        if found is None:  # other static arguments, or shapes or dtypes: staged again
            # (a graph staged for other shapes would run on these unchecked: broadcasting
            # where the function would have refused, a result of the wrong shape)
            found = _stage(fun, xs, tree, name, "closure_convert")
            if any(isinstance(c, Tracer) and id(c) not in slot for c in found[1]):
                raise TypeError(f"closure_convert of {name}: called with arguments of other "
                                f"shapes, dtypes or static values than the example "
                                f"arguments', the function closes over values of a "
                                f"transform that it did not close over with those. Convert "
                                f"it with example arguments like the ones it is called "
                                f"with.")
            staged[key] = found
        g, cap, rb = found
        inputs = [x for x in xs if not _static(x)]
        inputs += [given[slot[id(c)]] if id(c) in slot else c for c in cap]
        return rb(eval_graph(g, inputs))
    converted.__name__ = f"closure_converted_{name}"
    return converted, consts


def _staged_for(leaves):
    """What a staged graph of closure_convert's is valid for: the static leaves' values, the
    array leaves' shapes and dtypes."""
    from .checkpointing import _static
    from .graph import exact_key
    return tuple((i, type(x), exact_key(x)) if _static(x) else
                 (i, tuple(get_aval(x).shape), get_aval(x).dtype) for i, x in enumerate(leaves))


def _numbers_as_arrays(leaves):
    # Python numbers as 0-d arrays (traced, as JAX traces them), not staged constants: the
    # converted function takes other numbers at each call (an integrator's times...)
    from .api import _as_input
    return [_as_input(x) if type(x) in (int, float, complex) else x for x in leaves]
