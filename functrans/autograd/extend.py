"""autograd's API for new differentiable functions: ``primitive`` and its derivative rules
(``defvjp``, ``defjvp`` and their ``_argnum``/``_argnums`` forms, ``def_linear``), mapped
onto functrans's :class:`~functrans.custom_vjp` and :class:`~functrans.custom_jvp`.

A ``@primitive`` function is called like the function it wraps. Called on values that are
being differentiated (under ``grad``, ``jvp`` ...), it runs its body on the plain values
(as autograd does: the body may use NumPy or SciPy directly) and differentiates with the
rules registered for it; only its positional arguments are differentiated (as in autograd:
keyword arguments are constants). At every order of differentiation the body again sees
plain values and the rules are what gets differentiated, so rules written with
``functrans.numpy`` give higher derivatives too.

Rules, as autograd's:

- ``defvjp(f, maker_0, maker_1, ..., argnums=None)``: ``maker_i(ans, *args, **kwargs)``
  returns ``vjp(g)``, the cotangent of argument ``i`` given the output's cotangent ``g``;
  ``None`` for an argument whose derivative is zero.
- ``defjvp(f, jvp_0, jvp_1, ..., argnums=None)``: ``jvp_i(g, ans, *args, **kwargs)`` is the
  output's tangent due to a tangent ``g`` of argument ``i`` (``None``: zero; ``"same"``: ``f``
  itself with ``g`` in place of argument ``i``, for functions linear in it).
- ``defvjp_argnum(f, maker)``: ``maker(argnum, ans, args, kwargs)`` returns the ``vjp``.
- ``defvjp_argnums(f, maker)``: ``maker(argnums, ans, args, kwargs)`` returns a ``vjp`` giving
  the tuple of cotangents of the arguments ``argnums``.
- ``defjvp_argnum(f, jvp)``: ``jvp(argnum, g, ans, args, kwargs)``;
  ``defjvp_argnums(f, jvp)``: ``jvp(argnums, gs, ans, args, kwargs)``.
- ``def_linear(f)``: ``f`` is linear in each of its arguments.

Reverse mode (``grad``, ``make_vjp``, ``jacobian`` ...) uses the VJP rule where there is one,
else the transpose of the JVP rule; forward mode (``make_jvp``, ``deriv``) uses the JVP rule
where there is one, else the transpose of the VJP rule (so either kind of rule gives both
modes, where autograd needs each). A primitive differentiated with respect to an argument
with no rule raises :class:`functrans.errors.MissingRuleError` (a NotImplementedError) when
its derivative is needed.
"""

from __future__ import annotations

import functools

from ..custom import custom_jvp, custom_vjp
from ..errors import MissingRuleError
from ..core import Tracer
from ..interpreters import JVPTracer, StagingTracer, TangentRecorder
from ..tree import tree_flatten, tree_map

__all__ = ["primitive", "notrace_primitive", "defvjp", "defjvp", "defvjp_argnum",
           "defvjp_argnums", "defjvp_argnum", "defjvp_argnums", "def_linear"]


def _name(f):
    return getattr(f, "__name__", repr(f))


def _traced(x):
    """Whether ``x`` (a pytree) holds a value being differentiated."""
    return any(type(leaf) is JVPTracer for leaf in tree_flatten(x)[0])


def _recording(x):
    """Whether the tangents of ``x``'s differentiated leaves are being recorded (reverse
    mode: grad, vjp) rather than computed (forward mode)."""
    return any(type(leaf) is JVPTracer and isinstance(leaf.tangent, StagingTracer)
               for leaf in tree_flatten(x)[0])


def _plain(x):
    """``x`` with every differentiated leaf replaced by its value (all levels)."""
    def strip(leaf):
        while type(leaf) is JVPTracer:
            leaf = leaf.primal
        return leaf
    return tree_map(strip, x)


def _subval(args, i, v):
    out = list(args)
    out[i] = v
    return tuple(out)


class _Rules:
    """The derivative rules of one primitive."""

    def __init__(self):
        self.vjp_one = {}       # argnum -> maker(ans, *args, **kwargs) or None (zero)
        self.vjp_argnum = None  # maker(argnum, ans, args, kwargs)
        self.vjp_argnums = None  # maker(argnums, ans, args, kwargs)
        self.jvp_one = {}       # argnum -> jvp(g, ans, *args, **kwargs) or None (zero)
        self.jvp_argnum = None  # jvp(argnum, g, ans, args, kwargs)
        self.jvp_argnums = None  # jvp(argnums, gs, ans, args, kwargs)

    def has_vjp(self, i):
        return self.vjp_argnums is not None or self.vjp_argnum is not None or i in self.vjp_one

    def has_jvp(self, i):
        return self.jvp_argnums is not None or self.jvp_argnum is not None or i in self.jvp_one


def _missing(fun, kind, i):
    return MissingRuleError(
        f"The {kind} of autograd primitive {_name(fun)} with respect to argument {i} is not "
        f"defined; register one with functrans.autograd.extend.defvjp({_name(fun)}, ...) (or "
        f"defjvp), or do not differentiate that argument.")


def primitive(f_raw):
    """Make ``f_raw`` a primitive: a function whose derivatives come from rules registered
    with ``defvjp``/``defjvp`` (and their forms), not from differentiating its body. The body
    always sees plain values (NumPy arrays for NumPy inputs). See the module's docstring."""
    rules = _Rules()

    @functools.wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        dyn = tuple(i for i, a in enumerate(args) if _traced(a))
        if not dyn:
            return _run_body(f_raw, args, kwargs)
        if _traced(kwargs):
            names = [k for k, v in kwargs.items() if _traced(v)]
            raise TypeError(
                f"autograd primitive {_name(f_raw)}: the keyword argument(s) {names} are "
                f"being differentiated along with positional ones, but a primitive's keyword "
                f"arguments are constants to its rules (as in autograd). Pass them "
                f"positionally and register a rule for them, or do not differentiate them.")
        return _call(f_wrapped, f_raw, rules, dyn, args, kwargs)
    f_wrapped.fun = f_raw
    f_wrapped._autograd_rules = rules
    return f_wrapped


def _run_body(f_raw, args, kwargs):
    """``f_raw(*args, **kwargs)``; where it fails on a value of another transform (``vmap``,
    ``jit``: the body then sees their tracers, not plain arrays), the error says so."""
    try:
        return f_raw(*args, **kwargs)
    except TypeError as e:
        leaves = tree_flatten((args, kwargs))[0]
        if any(type(leaf) is StagingTracer and isinstance(leaf._interp, TangentRecorder)
               for leaf in leaves):
            # A JVP rule calling the primitive on its tangent ('same', def_linear) being
            # transposed for reverse mode: the body sees the recorded tangent.
            raise MissingRuleError(
                f"Reverse mode (grad, make_vjp, jacobian...) of autograd primitive "
                f"{_name(f_raw)}: it has a JVP rule that calls {_name(f_raw)} on the tangent "
                f"('same' or def_linear) and no VJP rule, so its body must be transposed, "
                f"which needs a body written with functrans.numpy; this one failed on the "
                f"recorded tangent ({type(e).__name__}). Register a VJP rule with "
                f"defvjp (autograd itself needs one for reverse mode), or write the body with "
                f"functrans.numpy.") from e
        if any(isinstance(leaf, Tracer) for leaf in leaves):
            e.add_note(
                f"(functrans.autograd: primitive {_name(f_raw)} was called under vmap, jit or "
                f"another transform that is not differentiation; its body then receives "
                f"that transform's values, which NumPy and SciPy functions cannot take. "
                f"Write the body with functrans.numpy, or call it outside that transform.)")
        raise


def _rules(fun, what):
    rules = getattr(fun, "_autograd_rules", None)
    if rules is None:
        raise TypeError(f"{what}: {_name(fun)} is not a primitive; decorate it with "
                        f"@functrans.autograd.extend.primitive first.")
    return rules


def _call(f_wrapped, f_raw, rules, dyn, args, kwargs):
    def merge(d):
        full = list(args)
        for i, v in zip(dyn, d):
            full[i] = v
        return tuple(full)

    def body(*d):
        # The value, from plain inputs (the body may be NumPy code).
        return _run_body(f_raw, _plain(merge(d)), _plain(kwargs))

    body.__name__ = _name(f_raw)
    dargs = tuple(args[i] for i in dyn)
    use_jvp = all(rules.has_jvp(i) for i in dyn) and (
        not all(rules.has_vjp(i) for i in dyn) or not _recording(dargs))
    if use_jvp:
        fn = custom_jvp(body)

        @fn.defjvp
        def rule(primals, tangents):
            full = merge(primals)
            ans = f_wrapped(*full, **kwargs)  # one level down: the rules again
            return ans, _jvp_total(f_wrapped, rules, dyn, ans, full, kwargs, tangents)
    else:
        fn = custom_vjp(body)

        def fwd(*d):
            full = merge(d)
            ans = f_wrapped(*full, **kwargs)
            return ans, (ans, d)

        def bwd(res, g):
            ans, d = res
            return _vjp_all(f_wrapped, rules, dyn, ans, merge(d), kwargs, g)
        fn.defvjp(fwd, bwd)
    return fn(*dargs)


def _add(a, b):
    if a is None:
        return b
    return tree_map(lambda x, y: x + y, a, b)


def _jvp_total(fun, rules, dyn, ans, args, kwargs, tangents):
    if rules.jvp_argnums is not None:
        return rules.jvp_argnums(dyn, tuple(tangents), ans, args, kwargs)
    total = None
    for i, g in zip(dyn, tangents):
        if rules.jvp_argnum is not None:
            part = rules.jvp_argnum(i, g, ans, args, kwargs)
        elif i in rules.jvp_one:
            rule = rules.jvp_one[i]
            if rule is None:
                continue
            part = rule(g, ans, *args, **kwargs)
        else:
            raise _missing(fun, "JVP", i)
        total = _add(total, part)
    if total is None:
        total = tree_map(lambda a: a * 0, ans)
    return total


def _vjp_all(fun, rules, dyn, ans, args, kwargs, g):
    if rules.vjp_argnums is not None:
        cts = rules.vjp_argnums(dyn, ans, args, kwargs)(g)
        return tuple(cts)
    out = []
    for i in dyn:
        if rules.vjp_argnum is not None:
            out.append(rules.vjp_argnum(i, ans, args, kwargs)(g))
        elif i in rules.vjp_one:
            maker = rules.vjp_one[i]
            out.append(None if maker is None else maker(ans, *args, **kwargs)(g))
        else:
            raise _missing(fun, "VJP", i)
    return tuple(out)


def _check_argnums(argnums, n, what):
    if argnums is None:
        return tuple(range(n))
    argnums = tuple(argnums)
    if len(argnums) != n:
        raise TypeError(f"{what}: {n} rule(s) for {len(argnums)} argnums {argnums}; give "
                        f"one rule per argument number.")
    return argnums


def defvjp(fun, *vjpmakers, argnums=None):
    """Register VJP makers of primitive ``fun``, one per argument (``argnums``: which
    arguments they are for; default ``0, 1, ...``); ``None`` for a zero derivative."""
    rules = _rules(fun, "defvjp")
    for i, maker in zip(_check_argnums(argnums, len(vjpmakers), "defvjp"), vjpmakers):
        if maker is not None and not callable(maker):
            raise TypeError(f"defvjp: the rule for argument {i} of {_name(fun)} must be a "
                            f"function (or None); got {type(maker).__name__}.")
        rules.vjp_one[i] = maker


def defvjp_argnum(fun, vjpmaker):
    """Register one VJP maker ``vjpmaker(argnum, ans, args, kwargs)`` for every argument."""
    _rules(fun, "defvjp_argnum").vjp_argnum = vjpmaker


def defvjp_argnums(fun, vjpmaker):
    """Register one joint VJP maker ``vjpmaker(argnums, ans, args, kwargs)`` whose ``vjp(g)``
    returns the cotangents of all the arguments ``argnums`` at once."""
    _rules(fun, "defvjp_argnums").vjp_argnums = vjpmaker


def defjvp(fun, *jvpfuns, argnums=None):
    """Register JVP rules of primitive ``fun``, one per argument: ``jvp(g, ans, *args,
    **kwargs)``, ``None`` (zero) or ``"same"`` (``fun`` is linear in that argument)."""
    rules = _rules(fun, "defjvp")
    for i, rule in zip(_check_argnums(argnums, len(jvpfuns), "defjvp"), jvpfuns):
        if isinstance(rule, str):
            if rule != "same":
                raise ValueError(f"defjvp: the rule for argument {i} of {_name(fun)} may be a "
                                 f"function, None or 'same'; got {rule!r}.")
            rule = _same(fun, i)
        elif rule is not None and not callable(rule):
            raise TypeError(f"defjvp: the rule for argument {i} of {_name(fun)} must be a "
                            f"function, None or 'same'; got {type(rule).__name__}.")
        rules.jvp_one[i] = rule


def _same(fun, i):
    def linear_in_arg(g, ans, *args, **kwargs):
        return fun(*_subval(args, i, g), **kwargs)
    return linear_in_arg


def defjvp_argnum(fun, jvpfun):
    """Register one JVP rule ``jvpfun(argnum, g, ans, args, kwargs)`` for every argument."""
    _rules(fun, "defjvp_argnum").jvp_argnum = jvpfun


def defjvp_argnums(fun, jvpfun):
    """Register one joint JVP rule ``jvpfun(argnums, gs, ans, args, kwargs)`` giving the
    output's tangent for the tangents ``gs`` of the arguments ``argnums``."""
    _rules(fun, "defjvp_argnums").jvp_argnums = jvpfun


def def_linear(fun):
    """Declare primitive ``fun`` linear in each positional argument separately (as
    ``np.dot`` or ``np.tensordot`` are): its JVP is ``fun`` with the tangent in place of the
    argument, and reverse mode transposes that, which needs ``fun``'s body written with
    ``functrans.numpy`` (a NumPy body needs a ``defvjp`` rule for reverse mode, as in
    autograd: without one it is a MissingRuleError)."""
    def jvp(argnum, g, ans, args, kwargs):
        return fun(*_subval(args, argnum, g), **kwargs)
    defjvp_argnum(fun, jvp)


def notrace_primitive(f_raw):
    """``f_raw`` called on plain values and giving a constant: nothing differentiates
    through it (for functions of values whose derivative is zero or not wanted, such as
    shape or sign computations)."""
    @functools.wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        return f_raw(*_plain(args), **_plain(kwargs))
    return f_wrapped
