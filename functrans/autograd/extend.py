"""autograd's API for new differentiable functions: ``primitive`` and its derivative rules
(``defvjp``, ``defjvp`` and their ``_argnum``/``_argnums`` forms, ``def_linear``), mapped
onto functrans's :class:`~functrans.custom_vjp` and :class:`~functrans.custom_jvp`; and
autograd's vector spaces (:func:`vspace`, :class:`VSpace`) and :class:`Box` for the code
that uses them.

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

``vspace(x)`` gives the vector space of an array or pytree of arrays (``zeros()``,
``ones()``, ``randn()``, ``size``, ``shape``, ``dtype``, ``inner_prod``...).
``isinstance(x, Box)`` tells whether ``x`` is a functrans tracer. autograd's internals
with no meaning in functrans raise a ``NotImplementedError`` that names what to use:
``VSpace.register`` and ``Box.register`` (new differentiable types are pytrees:
:func:`functrans.register_pytree_node`), ``SparseObject``, ``JVPNode``, ``VJPNode`` and
``register_notrace``.
"""

from __future__ import annotations

import functools

from ..custom import custom_jvp, custom_vjp
from ..errors import MissingRuleError
from .. import numpy as fnp
from ..core import Tracer, get_aval
from ..interpreters import JVPTracer, StagingTracer, TangentRecorder
from ..tree import tree_flatten, tree_map, tree_unflatten
from . import tracer as _tracer
from .tracer import Box

__all__ = ["primitive", "notrace_primitive", "defvjp", "defjvp", "defvjp_argnum",
           "defvjp_argnums", "defjvp_argnum", "defjvp_argnums", "def_linear", "vspace",
           "VSpace", "ArrayVSpace", "ContainerVSpace", "Box"]


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


# -- vector spaces ---------------------------------------------------------------------------

def _is_array_leaf(x):
    return isinstance(x, Tracer) or type(x) in _PY_SCALARS or (
        hasattr(x, "shape") and hasattr(x, "dtype"))


_PY_SCALARS = (bool, int, float, complex)


def vspace(value):
    """The vector space of ``value`` (an array, a Python number, or a tuple/list/dict or
    other pytree of them, plain or traced): an :class:`ArrayVSpace` or a
    :class:`ContainerVSpace`, with autograd's attributes and methods (``shape``, ``dtype``,
    ``size``, ``zeros()``, ``ones()``, ``randn()``, ``standard_basis()``, ``add``,
    ``scalar_mul``, ``inner_prod``, ``covector``). New arrays are of ``value``'s library and
    device.

    Difference from autograd: no ``VSpace.register`` of new types: a pytree (a class
    registered with :func:`functrans.register_pytree_node`) has the vector space of its
    leaves; any other object is a ``TypeError``."""
    leaves, treedef = tree_flatten(value)
    bad = [leaf for leaf in leaves if not _is_array_leaf(leaf)]
    if bad:
        raise TypeError(
            f"vspace: no vector space for a value of type {type(bad[0]).__name__} "
            f"({'in ' + type(value).__name__ if bad[0] is not value else 'the value'}). "
            f"functrans's vector spaces are those of arrays, Python numbers and pytrees of "
            f"them; register a class with functrans.register_pytree_node to give it the "
            f"vector space of its array leaves.")
    if len(leaves) == 1 and leaves[0] is value:
        return ArrayVSpace(value)
    return ContainerVSpace(value)


class VSpace:
    """autograd's vector-space base class: the operations autograd code calls on
    ``vspace(x)``. Concrete spaces are :class:`ArrayVSpace` and :class:`ContainerVSpace`;
    subclasses implement ``zeros``, ``ones``, ``randn``, ``standard_basis`` and the
    underscored ``_add``, ``_scalar_mul``, ``_inner_prod``, ``_covector``.

    Difference from autograd: ``VSpace.register(type)`` raises a ``NotImplementedError``:
    functrans differentiates pytrees of arrays only, so a new differentiable type is
    registered with :func:`functrans.register_pytree_node` instead (:func:`vspace` then
    works on it). ``mut_add`` does not mutate (it is ``add``)."""

    iscomplex = False

    def __init__(self, value):
        pass

    def zeros(self):
        raise NotImplementedError(f"{type(self).__name__}.zeros")

    def ones(self):
        raise NotImplementedError(f"{type(self).__name__}.ones")

    def standard_basis(self):
        raise NotImplementedError(f"{type(self).__name__}.standard_basis")

    def randn(self):
        raise NotImplementedError(f"{type(self).__name__}.randn")

    def add(self, x, y):
        """``x + y``."""
        return self._add(x, y)

    def mut_add(self, x, y):
        """``x + y`` (``x`` of None counts as zero); nothing is mutated."""
        return self._add(self.zeros() if x is None else x, y)

    def scalar_mul(self, x, a):
        """``x * a`` for a scalar ``a``."""
        return self._scalar_mul(x, a)

    def inner_prod(self, x, y):
        """The real inner product of ``x`` and ``y`` (``Re sum(conj(x) * y)``)."""
        return self._inner_prod(x, y)

    def covector(self, x):
        """``x`` as a covector: its complex conjugate (``x`` itself when real)."""
        return self._covector(x)

    def _add(self, x, y):
        return fnp.add(x, y)

    def _scalar_mul(self, x, a):
        return fnp.multiply(x, a)

    def _inner_prod(self, x, y):
        raise NotImplementedError(f"{type(self).__name__}._inner_prod")

    def _covector(self, x):
        return x

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def _key(self):
        return self.__dict__

    def __repr__(self):
        return f"{type(self).__name__}({self._describe()})"

    def _describe(self):
        return ""

    @classmethod
    def register(cls, value_type, vspace_maker=None):
        name = getattr(value_type, "__name__", repr(value_type))
        raise NotImplementedError(
            f"{cls.__name__}.register({name}): functrans has no registry of vector spaces; it "
            f"differentiates pytrees of arrays. Register {name} with "
            f"functrans.register_pytree_node (its array leaves are its coordinates; vspace() "
            f"and every transform then work on it). A type whose vectors change structure "
            f"(autograd's rkhs example: a dict that grows new keys) cannot be differentiated "
            f"by functrans; represent it with arrays of fixed shape.")


class ArrayVSpace(VSpace):
    """The vector space of an array (or Python number) of one shape and dtype:
    ``vspace(x)`` for an array ``x``.

    ``shape`` (a tuple), ``dtype`` (a functrans dtype, equal to NumPy's of the same name),
    ``ndim``, ``size`` (twice the number of elements for complex dtypes, the real
    dimension, as in autograd), ``iscomplex``. New arrays are of ``x``'s library and device
    (the default backend's for a Python number); ``randn`` draws from NumPy's global random
    state, as autograd's does. Two spaces are equal when their shapes and dtypes are."""

    def __init__(self, value):
        from ..api import _concrete_backend
        aval = get_aval(value)
        self.shape = tuple(aval.shape)
        self.dtype = aval.dtype
        self.iscomplex = aval.dtype.kind == "c"
        self._backend, self._device = _concrete_backend(value)

    def _key(self):
        return (self.shape, self.dtype)

    def _describe(self):
        return f"shape={self.shape}, dtype={self.dtype}"

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return 2 * n if self.iscomplex else n

    @property
    def ndim(self):
        return len(self.shape)

    def _new(self, data):
        """An array of this space's library, device and dtype from NumPy ``data``."""
        import numpy as onp
        b = self._backend
        kw = {"device": self._device} if self._device is not None else {}
        out = b.xp.asarray(onp.asarray(data).tolist() if b.name != "numpy" else data,
                           dtype=b.native_dtype(self.dtype), **kw)
        return fnp.asarray(out)

    def zeros(self):
        import numpy as onp
        return self._new(onp.zeros(self.shape))

    def ones(self):
        import numpy as onp
        one = onp.ones(self.shape)
        return self._new(one + 1j * one if self.iscomplex else one)

    def randn(self):
        import numpy as onp
        draw = onp.random.randn(*self.shape)
        if self.iscomplex:
            draw = draw + 1j * onp.random.randn(*self.shape)
        return self._new(draw)

    def standard_basis(self):
        """The unit vectors, one per element (and ``1j`` times each for complex dtypes)."""
        import numpy as onp
        for index in onp.ndindex(*self.shape):
            for unit in ((1.0, 1.0j) if self.iscomplex else (1.0,)):
                e = onp.zeros(self.shape, dtype=complex if self.iscomplex else float)
                e[index] = unit
                yield self._new(e)

    def _inner_prod(self, x, y):
        if self.iscomplex:
            return fnp.real(fnp.sum(fnp.multiply(fnp.conj(x), y)))
        return fnp.sum(fnp.multiply(x, y))

    def _covector(self, x):
        return fnp.conj(x) if self.iscomplex else x


class ContainerVSpace(VSpace):
    """The vector space of a tuple, list, dict or other pytree of arrays: the product of
    its leaves' :class:`ArrayVSpace` s. ``shape`` is the container with each array replaced
    by its space (autograd's ``ContainerVSpace.shape``); ``size`` is the sum of the leaves';
    ``iscomplex`` is False (as autograd's: ask the leaves' spaces in ``shape``).
    ``zeros()``, ``ones()``, ``randn()`` build containers of the same structure."""

    def __init__(self, value):
        leaves, self._treedef = tree_flatten(value)
        self._spaces = tuple(ArrayVSpace(leaf) for leaf in leaves)

    def _key(self):
        return (self._treedef, self._spaces)

    def _describe(self):
        return repr(self.shape)

    @property
    def shape(self):
        return tree_unflatten(self._treedef, list(self._spaces))

    @property
    def size(self):
        return sum(s.size for s in self._spaces)

    def _build(self, parts):
        return tree_unflatten(self._treedef, list(parts))

    def zeros(self):
        return self._build(s.zeros() for s in self._spaces)

    def ones(self):
        return self._build(s.ones() for s in self._spaces)

    def randn(self):
        return self._build(s.randn() for s in self._spaces)

    def standard_basis(self):
        for i, space in enumerate(self._spaces):
            for unit in space.standard_basis():
                yield self._build(unit if j == i else s.zeros()
                                  for j, s in enumerate(self._spaces))

    def _leaves(self, x):
        return tree_flatten(x)[0]

    def _add(self, x, y):
        return self._build(s._add(a, b) for s, a, b in
                           zip(self._spaces, self._leaves(x), self._leaves(y)))

    def _scalar_mul(self, x, a):
        return self._build(s._scalar_mul(v, a) for s, v in zip(self._spaces, self._leaves(x)))

    def _inner_prod(self, x, y):
        total = 0.0
        for s, a, b in zip(self._spaces, self._leaves(x), self._leaves(y)):
            total = fnp.add(total, s._inner_prod(a, b))
        return total

    def _covector(self, x):
        return self._build(s._covector(v) for s, v in zip(self._spaces, self._leaves(x)))


def _internal(name, advice):
    class Unsupported:
        def __init__(self, *args, **kwargs):
            raise NotImplementedError(
                f"functrans.autograd.extend.{name}: an internal of autograd's tracing with no "
                f"counterpart in functrans. {advice}")
    Unsupported.__name__ = Unsupported.__qualname__ = name
    Unsupported.__doc__ = (f"autograd's ``{name}``; not available in functrans (constructing "
                           f"one raises a NotImplementedError): {advice}")
    return Unsupported


SparseObject = _internal(
    "SparseObject", "Cotangents are arrays (or pytrees of arrays): return one from the VJP "
    "rule, e.g. functrans.numpy.zeros_like(x).at[idx].add(g) for a scattered update.")
register_notrace = _tracer.register_notrace
JVPNode = _internal(
    "JVPNode", "Forward mode is functrans.jvp (or make_jvp here); new rules are defjvp.")
VJPNode = _internal(
    "VJPNode", "Reverse mode is functrans.vjp (or make_vjp here); new rules are defvjp.")
