"""The public transforms: jvp, vjp, grad, value_and_grad, jacfwd, jacrev, hessian, hvp,
linearize and make_graph. Arguments and results are pytrees; Python scalars become 0-d
float64 arrays of the library of the arrays beside them (of the default backend where there
are none); results are plain arrays of the inputs' library.
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as _np

from . import dtypes as _dt
from . import numpy as fnp
from .backends import _by_type, _registry_hooks, backend_of, default as _default_backend
from .backends.numpy_backend import plain as _plain_numpy
from .batching import _leaf_path, _positive_chunk, _torch_spellings, _vmap, pmap, vmap
from . import trace_cache
from .core import (_SCALAR_DTYPES, EvalInterpreter, ShapedArray, Tracer, _current, get_aval,
                   reset_current, set_current)
from .errors import (ArgnumsError, BackendMismatchError, ComplexDerivativeError,
                     ConcretizationError, DerivativeDroppedError, IntegerInputError,
                     NonScalarOutputError, TangentMismatchError, UnsupportedBackendError,
                     check_function)
from .graph import Graph, Var, eval_graph, prune
from .primitives import structural as _st
from .numpy._base import CALL_PLACE as _CALL_PLACE, _concrete_value, _place_of
from .interpreters import (ConstTracer, JVPInterpreter, JVPTracer, StagingInterpreter,
                           StagingTracer, constant)
from .reverse import Fill, aux_leaf, backward, forward, linearize_flat, unshared
from .tree import _SEQ_SPECS, _where_differ as _differ, tree_flatten, tree_map, tree_unflatten

__all__ = ["jvp", "vjp", "grad", "value_and_grad", "jacfwd", "jacrev", "hessian", "hvp",
           "linearize", "make_graph", "vmap", "pmap", "linear_transpose", "eval_shape",
           "ShapeDtypeStruct", "elementwise_grad", "jacobian"]

# -- inputs ----------------------------------------------------------------------------------


def _as_input(x):
    """A transform input: Python scalars become 0-d arrays of the default backend (floats as
    float64); arrays and tracers are taken as they are (never copied, never written to)."""
    if type(x) in _by_type:
        return x
    if type(x) in _SCALAR_DTYPES:
        return _default_backend().asarray(x, dtype=_dt.float64 if type(x) is float else None)
    if isinstance(x, Tracer):
        return x
    if not hasattr(x, "shape") and not hasattr(x, "__array_namespace__"):
        # (an object that is no array at all: most often a container of arrays whose class
        # is not registered as a pytree node)
        raise UnsupportedBackendError(
            f"Values of type {type(x).__name__} belong to no functrans backend: a transform's "
            f"input leaf is one, which is neither an array nor a Python number, and "
            f"transforms differentiate (and map) arrays. If it holds arrays, "
            f"register its class as a pytree node (functrans.tree.register_pytree_node, "
            f"register_dataclass); otherwise leave its argument out of argnums, or close "
            f"over it.")
    backend_of(x)  # a clear error for values no backend owns
    return x


def _as_inputs(leaves, args=(), skip=()):
    """``leaves`` as transform inputs, in place (see _as_input), with Python scalars made in
    the library and on the device of the first array among them, or else among the leaves
    of ``args`` (the arguments, but those at the positions ``skip``), as JAX's Python
    scalars join the arrays: a float beside torch tensors is a float64 tensor (a NumPy array
    there met them as a mixing error), of the default backend where no array is given."""
    if len(leaves) == 1 and not args:  # (one leaf: no array beside it)
        x = leaves[0]
        if type(x) not in _by_type:
            leaves[0] = _as_input(x)
        return leaves
    scalars = like = None
    for i, x in enumerate(leaves):
        t = type(x)
        if t in _by_type:
            if like is None:
                like = x
        elif t in _SCALAR_DTYPES:
            if scalars is None:
                scalars = [i]
            else:
                scalars.append(i)
        else:
            leaves[i] = x = _as_input(x)  # (an array of a library not met before: now known)
            if like is None:
                like = x
    if scalars is None:
        return leaves
    if like is None:
        for j, a in enumerate(args):
            if j not in skip:
                like = next((b for b in tree_flatten(a)[0] if _is_array(b)), None)
                if like is not None:
                    break
    for i in scalars:
        x = leaves[i]
        leaves[i] = _as_input(x if like is None else _scalar_like(x, like))
    return leaves


def _is_array(x):
    """Whether ``x`` is an array of a backend (or a tracer)."""
    t = type(x)
    if t in _by_type:
        return True
    if t in _SCALAR_DTYPES:
        return False
    if isinstance(x, Tracer):
        return True
    if not hasattr(x, "__array_namespace__") and not hasattr(x, "shape"):
        return False  # (a torch tensor has a shape but no __array_namespace__)
    try:
        backend_of(x)
    except Exception:  # noqa: BLE001  (another object with that method: not one of ours)
        return False
    return True


def _arrays(tree):
    """Transform results as arrays of their library (NumPy scalars become 0-d arrays)."""
    leaves, t = tree_flatten(tree)
    return tree_unflatten(t, _array_leaves(leaves))


def _array_leaves(leaves):
    """:func:`_arrays` on leaves not yet in their tree (no flattening back)."""
    get = _RETURNED_AS_IS.get
    for x in leaves:
        if not get(type(x)):
            return [x if get(type(x)) else _as_array(x) for x in leaves]
    return leaves


# Types of leaves that transforms return as they are (tracers, Python scalars, arrays whose
# backend's as_array keeps them), learned per type on first sight: one look-up per result.
# Forgotten when the backends registry changes.
_RETURNED_AS_IS: dict = {}
_registry_hooks.append(_RETURNED_AS_IS.clear)
# Types of leaves that their backend's as_array converts (NumPy scalars): that as_array.
_CONVERTED_BY: dict = {}
_registry_hooks.append(_CONVERTED_BY.clear)


def _as_array(x):
    t = type(x)
    convert = _CONVERTED_BY.get(t)
    if convert is not None:
        return convert(x)
    if t is ConstTracer:  # the transform returns: a constant made inside is a plain array
        x = constant(x.primal)  # (or a constant of a forward mode still running)
        t = type(x)
        if t is ConstTracer:
            return x
    if isinstance(x, Tracer) or t in _SCALAR_DTYPES:
        _RETURNED_AS_IS[t] = True
        return x
    b = backend_of(x)
    y = b.as_array(x)
    if t in _by_type:
        _RETURNED_AS_IS[t] = y is x
        if y is not x:
            _CONVERTED_BY[t] = b.as_array
    return y


def _argnums_tuple(argnums, nargs, what):
    if type(argnums) is int and -nargs <= argnums < nargs:  # the common case, first
        return True, (argnums % nargs,)
    try:
        nums, single = (operator.index(argnums),), True  # an int (a NumPy integer too)
    except TypeError:
        single = False
        try:
            if isinstance(argnums, str):
                raise TypeError
            nums = tuple(operator.index(i) for i in argnums)
        except TypeError:
            raise TypeError(f"{what}: argnums must be an int or a tuple of ints; got "
                            f"{argnums!r}.") from None
    for i in nums:
        if not -nargs <= i < nargs:
            raise ArgnumsError(f"{what}: argnums {argnums!r} is out of range for a function "
                               f"called with {nargs} positional argument(s).")
    if not nums:
        raise ArgnumsError(f"{what}: argnums is empty; name at least one argument to "
                           f"differentiate.")
    nums = tuple(i % nargs for i in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{what}: argnums {argnums!r} names an argument more than once; "
                         f"list each argument once.")
    return single, nums


def _split_args(f, args, kwargs, argnums):
    """Flatten the differentiated arguments; return the leaves, their tree, a flat
    function of those leaves that calls ``f`` with the other arguments fixed, and whether
    each differentiated argument is one leaf (the tree is then the tuple of the leaves)."""
    n = len(argnums)
    diff = (args[argnums[0]],) if n == 1 else tuple(args[i] for i in argnums)
    leaves, tree = tree_flatten(diff)
    for x in leaves:
        # (a tracer, an inner grad's input, is taken as it is: see _as_input)
        if type(x) not in _by_type and not isinstance(x, Tracer):
            _as_inputs(leaves, args if len(args) > 1 else (), argnums)
            break
    if not leaves:
        like = next((b for b in tree_flatten((args, kwargs))[0] if _is_array(b)), None)
        if like is not None:
            return [], tree, _placed_beside(f, args, kwargs, like), False
    if tree is not _SEQ_SPECS.get((tuple, n)):
        def call(flat):
            new = list(args)
            for i, v in zip(argnums, tree_unflatten(tree, flat)):
                new[i] = v
            return f(*new, **kwargs)
        return leaves, tree, call, False
    # Each differentiated argument is a leaf: the leaves take their places as they are, with
    # no tree rebuilt per call (a frame and a tuple less at every level of nested grads).
    if len(args) == 1 and not kwargs:
        def call(flat):
            return f(flat[0])
    else:
        def call(flat):
            new = list(args)
            for i, v in zip(argnums, flat):
                new[i] = v
            return f(*new, **kwargs)
    return leaves, tree, call, True


def _placed_beside(f, args, kwargs, like):
    """``f`` of ``args`` (none differentiated) with the constants it creates placed beside
    ``like`` (see functrans.numpy._base.CALL_PLACE)."""
    def call(flat):
        token = _CALL_PLACE.set(like)
        try:
            return f(*args, **kwargs)
        finally:
            _CALL_PLACE.reset(token)
    return call


def _const_output(o, like, what, i):
    """An output leaf that is no tracer (a constant) as an array of the inputs' library (see
    _scalar_like); a clear error for a value that is no array (a string, an object)."""
    if type(o) not in _by_type and type(o) not in _SCALAR_DTYPES and (
            not hasattr(o, "shape") or isinstance(o, type)):
        raise TypeError(f"{what}: output leaf {i} is a {type(o).__name__}; a transformed "
                        f"function returns arrays and Python numbers (in any pytree, None "
                        f"for nothing). Return other values outside the transformed function "
                        f"(or, from a derivative's function, as auxiliary data: has_aux=True).")
    return _as_input(_scalar_like(o, like))


def _fname(f):
    return getattr(f, "__name__", type(f).__name__)


class _NameOf:
    """``"<transform> of <the function's name>"`` for messages, made when one needs it."""
    __slots__ = ("what", "fun")

    def __init__(self, what, fun):
        self.what, self.fun = what, fun

    def __str__(self):
        return f"{self.what} of {_fname(self.fun)}"


def _linearize_tree(call, leaves, has_aux, what, in_tree=None, fun=None):
    """Linearize ``call`` (flat input leaves -> a pytree, or ``(pytree, aux)`` with
    ``has_aux``) at ``leaves``. Returns ``(out_leaves, out_tree, linear_graph, aux)``.
    With ``in_tree``, ``call`` takes the arguments: ``call(*in_tree.unflatten(leaves))``.
    ``what`` names the transform in messages, followed by ``of <fun's name>`` if ``fun`` is
    given (made only for a message)."""
    box = []
    like = leaves[0] if leaves else None
    # (the arguments as they are where they are a tuple of leaves: no tree rebuilt per call)
    splat = in_tree is not None and in_tree is _SEQ_SPECS.get((tuple, len(leaves)))

    def flat(xs):
        out = call(xs) if in_tree is None else call(*xs) if splat else \
            call(*tree_unflatten(in_tree, xs))
        if has_aux:
            out, aux = _aux_pair(out, what if fun is None else _NameOf(what, fun))
        o_leaves, o_tree = tree_flatten(out)
        box.append(o_tree)
        # Constant outputs in the inputs' library and device, as the others are.
        for i, o in enumerate(o_leaves):
            if not isinstance(o, Tracer):
                o_leaves[i] = _const_output(o, like, what if fun is None else
                                            _NameOf(what, fun), i)
        if has_aux:
            a_leaves, a_tree = tree_flatten(aux)
            box.append(a_tree)
            return o_leaves, a_leaves
        return o_leaves
    if has_aux:
        outs, graph, aux = linearize_flat(flat, leaves, with_aux=True)
        return outs, box[0], graph, tree_unflatten(box[1], aux)
    outs, graph = linearize_flat(flat, leaves)
    return outs, box[0], graph, None

# -- forward mode ------------------------------------------------------------------------------


def jvp(fun, primals, tangents, has_aux=False, **kwargs):
    """Forward mode: ``(fun(*primals), J(primals) @ tangents)`` in one pass.

    Args:
        fun: function of ``len(primals)`` arguments (pytrees of arrays) returning a pytree.
        primals, tangents: tuples (or lists) of the same tree structure; each tangent leaf
            has its primal's shape and dtype.
        has_aux: ``fun`` returns ``(output, aux)``; aux is returned undifferentiated.

    Returns:
        ``(primal_out, tangent_out)`` (and ``aux``).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.jvp(fnp.sin, (0.0,), (1.0,))
        (array(0.), array(1.))
    """
    check_function(fun, "jvp")
    if kwargs:
        _torch_spellings("jvp", kwargs)
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(fun, primals, tangents): primals and tangents must be tuples or "
                        f"lists of arguments; got {type(primals).__name__} and "
                        f"{type(tangents).__name__}. For one argument write (x,) and (t,).")
    if type(primals) is not type(tangents):  # as JAX: their trees differ at the root
        raise TangentMismatchError(
            f"jvp: primals and tangents must be containers of one type, as their trees must "
            f"match; got a {type(primals).__name__} and a {type(tangents).__name__}. Pass "
            f"two tuples: jvp(f, (x,), (t,)).")
    p_leaves, p_tree = tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    if p_tree is not t_tree and p_tree != t_tree:
        raise TangentMismatchError(
            f"jvp: tangents must have the same tree structure as primals; got primals "
            f"{p_tree} and tangents {t_tree}"
            f"{_differ(p_tree, t_tree, ('primals', 'tangents'))}.")
    p_leaves = _as_inputs(p_leaves)
    interp = JVPInterpreter(_current.get().interp)
    interp.device_source = p_leaves[0] if p_leaves else None
    ins = []
    name = _Leaves("jvp", "tangent", tuple(tangents), "tangents")
    structural = _structural_mask(p_tree, p_leaves) if _STRUCTURAL_LEAVES else None
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        pa = get_aval(p)
        if not _dt.is_float(pa.dtype):
            if structural is None or not structural[i] or t is not p:
                _integer_tangent(t, pa, name, i, p)  # carries none: checked, unused
            ins.append(p)
            continue
        ins.append(JVPTracer(interp, p, _check_like(t, pa, name, i, p)))
    token = set_current(interp)
    try:
        out = fun(*tree_unflatten(p_tree, ins))
    finally:
        reset_current(token)
        interp.active = False
        interp.device_source = None  # (a caller's array: not kept alive by leaked tracers)
    if has_aux:
        out, aux = _aux_pair(out, f"jvp of {_fname(fun)}")
    out_leaves, out_tree = tree_flatten(out)
    primals_out, tangents_out = [], []
    for o in out_leaves:
        if type(o) is JVPTracer and o._interp is interp:
            primals_out.append(o.primal)
            tangents_out.append(o.tangent)
        else:
            o = o if isinstance(o, Tracer) else _const_output(
                o, p_leaves[0] if p_leaves else None, f"jvp of {_fname(fun)}", len(primals_out))
            primals_out.append(o)
            tangents_out.append(fnp.zeros_like(o))
    if _STRUCTURAL_LEAVES:  # a sparse output's tangent: the same indices
        tangents_out = _keep_structural(tangents_out, primals_out,
                                        _structural_mask(out_tree, out_leaves))
    res = (tree_unflatten(out_tree, _array_leaves(primals_out)),
           tree_unflatten(out_tree, _array_leaves(unshared(tangents_out, t_leaves))))
    if has_aux:
        return res + (_strip(aux, interp),)
    return res


def _unconst(tree):
    """``tree`` with its constant tracers as plain arrays (or constants of the forward mode or
    vmap now running), its leaves as :func:`aux_leaf` gives them (a NumPy scalar from a
    constant's computation as a 0-d array, as grad's aux)."""
    leaves, t = tree_flatten(tree)
    return tree_unflatten(t, [aux_leaf(_plain_numpy(constant(x.primal))) if type(x) is ConstTracer
                              else aux_leaf(_plain_numpy(x)) for x in leaves])


def _strip(tree, interp):
    """Replace this interpreter's tracers in ``tree`` by their primal values (and constant
    tracers by plain arrays, or constants of a forward mode still running)."""
    leaves, t = tree_flatten(tree)
    leaves = [x.primal if type(x) is JVPTracer and x._interp is interp
              else constant(x.primal) if type(x) is ConstTracer else x for x in leaves]
    return tree_unflatten(t, [aux_leaf(x) for x in leaves])


def linearize(fun, *primals, has_aux=False):
    """Linearize ``fun`` at ``primals``: returns ``(fun(*primals), f_jvp)`` where
    ``f_jvp(*tangents)`` evaluates the Jacobian-vector product from the recorded linear graph
    without recomputing the primal. With ``has_aux``, ``fun`` returns ``(output, aux)`` and
    ``linearize`` returns ``(output, f_jvp, aux)``.

    Example:
        >>> y, f_jvp = ft.linearize(fnp.sin, 0.0)
        >>> f_jvp(2.0)
        array(2.)
    """
    check_function(fun, "linearize")
    leaves, in_tree = tree_flatten(primals)
    leaves = _as_inputs(leaves)
    outs, out_tree, graph, aux = _linearize_tree(
        lambda xs: fun(*tree_unflatten(in_tree, xs)), leaves, has_aux, "linearize", None, fun)
    avals = [get_aval(p) for p in leaves]

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tangents)
        if t_tree != in_tree:
            raise TangentMismatchError(f"linearize: tangents must have the structure of the "
                                       f"primals, {in_tree}; got {t_tree}.")
        name = _Leaves("linearize", "tangent", tangents, "tangents")
        t_leaves = [_check_like(t, a, name, i, p) if _dt.is_float(a.dtype)
                    else _integer_tangent(t, a, name, i, p)
                    for i, (t, a, p) in enumerate(zip(t_leaves, avals, leaves))]
        res = unshared(forward(graph, t_leaves), t_leaves)
        return _arrays(tree_unflatten(out_tree, [fnp.zeros_like(o) if r is None else r
                                                 for o, r in zip(outs, res)]))
    out = _arrays(tree_unflatten(out_tree, outs))
    return (out, f_jvp, aux) if has_aux else (out, f_jvp)


class _Leaves:
    """Names leaf ``i`` of the (co)tangents a transform was given, for its messages:
    ``jvp: tangent 1 (tangents[0]['w'])``. The path is worked out only when an error needs it."""
    __slots__ = ("transform", "kind", "tree", "root")

    def __init__(self, transform, kind, tree, root):
        self.transform, self.kind, self.tree, self.root = transform, kind, tree, root

    def __call__(self, i):
        return f"{self.transform}: {self.kind} {i} ({_leaf_path(self.tree, i, self.root)})"

    @property
    def whose(self):  # the value a leaf is the (co)tangent of
        return "output" if self.kind == "cotangent" else "primal"


def _check_like(t, aval, name, i, like):
    """A (co)tangent of a floating (or complex) value: an array of its shape and dtype, or a
    Python number made into one. As JAX, a dtype that differs is refused (no silent
    casts); Python floats are weakly typed (they take the value's precision), but a Python
    int or bool is an integer, never a floating tangent."""
    if type(t) in _SCALAR_DTYPES:
        if type(t) in (int, bool) or (type(t) is complex and aval.dtype.kind != "c"):
            raise TangentMismatchError(
                f"{name(i)} is the Python {type(t).__name__} {t!r}, but its {name.whose} has "
                f"dtype {aval.dtype.name}, and the {name.kind} of a {aval.dtype.name} value "
                f"has that dtype too; pass {_float_literal(t)} or an array of dtype "
                f"{aval.dtype.name}.")
        t = _scalar_like(t, like, aval.dtype)  # made next to ``like``
    ta = _leaf_aval(t, name, i)
    if ta.shape != aval.shape:
        raise TangentMismatchError(
            f"{name(i)} has shape {ta.shape} and dtype {ta.dtype.name}, but it must match "
            f"its {name.whose}'s shape {aval.shape} and dtype {aval.dtype.name}.")
    if ta.dtype is not aval.dtype:
        raise TangentMismatchError(
            f"{name(i)} has dtype {ta.dtype.name}, but its {name.whose} has dtype "
            f"{aval.dtype.name}; as in JAX, the {name.kind} of a {aval.dtype.name} value must "
            f"be {aval.dtype.name} too (no implicit cast): pass it as "
            f"astype(t, {aval.dtype.name}).")
    _check_place(t, like, name, i)
    return t


def _same_aval_as_traced(c, o):
    """Whether the cotangent ``c`` has the shape and dtype of the output ``o`` where one of
    them is a tracer (an outer transform's value) and the other one too or an array of a
    known library: :func:`_check_like` would take it as it is (its _check_place has
    nothing to compare there)."""
    if isinstance(c, Tracer):
        c_shape, c_dtype = c.shape, c.dtype
    else:
        bc = _by_type.get(type(c))
        if bc is None or not isinstance(o, Tracer):  # (two arrays: _check_like's case)
            return False
        c_shape, c_dtype = c.shape, bc.dtype(c)
    if isinstance(o, Tracer):
        o_shape, o_dtype = o.shape, o.dtype
    else:
        bo = _by_type.get(type(o))
        if bo is None:
            return False
        o_shape, o_dtype = o.shape, bo.dtype(o)
    return c_dtype is o_dtype and tuple(c_shape) == tuple(o_shape)


def _float_literal(t):
    return repr(float(t.real) if type(t) is complex else float(t))


def _leaf_aval(t, name, i):
    """The abstract value of a tangent or cotangent leaf, with an error naming it where it is
    no array (rather than an AttributeError from deep inside)."""
    if type(t) in _by_type or type(t) in _SCALAR_DTYPES or isinstance(t, Tracer) or (
            hasattr(t, "shape") and not isinstance(t, type)):
        try:
            return get_aval(t)
        except UnsupportedBackendError:
            if not _is_float0(t):
                raise
            raise TangentMismatchError(
                f"{name(i)} has JAX's dtype float0, which stands for the tangent of an "
                f"integer or boolean value; this one belongs to a floating value: give an "
                f"array of its dtype.") from None
    raise TangentMismatchError(
        f"{name(i)} is a {type(t).__name__}; tangents and cotangents are arrays (or Python "
        f"numbers) of the shape and dtype of their {name.whose}.")


def _is_float0(t):
    # JAX's float0 arrays are NumPy arrays of a structured dtype no backend has.
    return type(t) is _np.ndarray and t.dtype == _dt.float0


def _integer_tangent(t, aval, name, i, like):
    """The tangent (or cotangent) of a value of integer or boolean dtype, which carries none.
    A tangent is JAX's float0 zeros or, as no library but NumPy has float0, zeros of any dtype
    of the value's shape; a nonzero one is refused, as JAX refuses every other tangent (its
    values would be silently dropped). A cotangent of an integer output may hold anything of
    its shape (JAX ignores its values too). Returns ``t``, or zeros like ``like`` (the value)
    where ``t`` is not an array of its type and dtype."""
    float0 = _is_float0(t)
    shape = tuple(t.shape) if float0 else _leaf_aval(t, name, i).shape
    if shape != aval.shape:
        raise TangentMismatchError(
            f"{name(i)} has shape {shape}, but its {name.whose} (of dtype {aval.dtype.name}, "
            f"which carries no derivative) has shape {aval.shape}.")
    if not float0 and name.kind == "tangent" and not _all_zero(t):
        got = (f"the Python {type(t).__name__} {t!r}" if type(t) in _SCALAR_DTYPES
               else f"nonzero (of dtype {get_aval(t).dtype.name})")
        raise TangentMismatchError(
            f"{name(i)} is {got}, but its primal has dtype "
            f"{aval.dtype.name}, which carries no derivative, so the tangent would be "
            f"ignored. JAX takes only float0 tangents there: pass "
            f"numpy.zeros({aval.shape}, functrans.dtypes.float0) (NumPy primals) or zeros of "
            f"the primal's shape, or make this input a float to differentiate along it.")
    if not float0 and (type(t) is type(like) or isinstance(t, Tracer)) and \
            get_aval(t).dtype is aval.dtype:
        return t
    return fnp.zeros_like(like)


def _all_zero(t):
    """Whether the (co)tangent ``t`` holds only zeros; True where its values are not known
    (staged under jit), which is then taken unchecked."""
    if type(t) in _SCALAR_DTYPES:
        return t == 0
    while isinstance(t, Tracer):  # a JVP tracer's value, a batch tracer's values
        t = getattr(t, "primal", None) if type(t) is JVPTracer else getattr(t, "val", None)
        if t is None:
            return True
    b = _by_type.get(type(t))
    return True if b is None else not _np.any(b.to_numpy(t))


def _check_place(t, like, name, i):
    """A tangent or cotangent of another library or device than its primal (or output) is
    refused, as mixed operands are: it would come back as the gradient of an input of
    another library, or fail inside the backward pass."""
    bt, bl = _by_type.get(type(t)), _by_type.get(type(like))
    if bt is None or bl is None:  # a tracer (a transform around this one)
        return
    if bt is not bl:
        raise BackendMismatchError(
            f"{name(i)} is a {bt.name} array, but it belongs to a {bl.name} array. "
            f"functrans never copies between libraries implicitly: make it with "
            f"{bl.name}'s own functions (or convert it with from_dlpack).")
    if bt.devices and bt.device(t) != bl.device(like):
        raise BackendMismatchError(
            f"{name(i)} is on device {bt.device(t)!r}, but it belongs to an array on "
            f"{bl.device(like)!r}; move it there first (x.to_device(...)).")

# -- reverse mode ------------------------------------------------------------------------------


def vjp(fun, *primals, has_aux=False, reduce_axes=()):
    """Reverse mode: ``(fun(*primals), vjp_fun)`` where ``vjp_fun(cotangent)`` returns the
    tuple of cotangents of the primals, one reverse pass each. With ``has_aux=True``,
    ``fun`` returns ``(output, aux)`` and ``vjp`` returns ``(output, vjp_fun, aux)``;
    ``reduce_axes`` must be ``()`` (JAX's named mapped axes do not exist here).

    Example:
        >>> y, vjp_fun = ft.vjp(lambda x: x * x, 3.0)
        >>> vjp_fun(1.0)
        (array(6.),)
    """
    check_function(fun, "vjp")
    if reduce_axes:
        _no_reduce_axes(reduce_axes, "vjp")
    leaves, in_tree = tree_flatten(primals)
    for p in leaves:
        # (a tracer, an outer transform's value, is taken as it is: see _as_input)
        if type(p) not in _by_type and not isinstance(p, Tracer):
            _as_inputs(leaves)
            break
    outs, out_tree, graph, aux = _linearize_tree(fun, leaves, has_aux, "vjp", in_tree, fun)
    structural = _structural_mask(in_tree, leaves) if _STRUCTURAL_LEAVES else None
    # Outputs of integer or boolean dtype take JAX's float0 cotangents, or zeros.
    exact = None
    for i, o in enumerate(outs):
        bo = _by_type.get(type(o))  # (an array's dtype without building its aval; a
        # tracer's, an outer transform's value, by its own dtype attribute)
        if (bo.dtype(o) if bo is not None else o.dtype if isinstance(o, Tracer)
                else get_aval(o).dtype).kind not in "fc":
            if exact is None:
                exact = [False] * len(outs)
            exact[i] = True

    def vjp_fun(cotangent, *more):
        if more:
            raise TypeError(
                f"the function vjp returned for {_fname(fun)} takes one cotangent, of the "
                f"structure of the output ({out_tree}), but was called with {1 + len(more)} "
                f"arguments. For a function returning a tuple, pass a tuple: "
                f"vjp_fun((ct1, ct2)).")
        ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree:
            raise TangentMismatchError(
                f"vjp: the cotangent must have the tree structure of the output, {out_tree}; "
                f"got {ct_tree}{_differ(out_tree, ct_tree, ('output', 'cotangent'))}.")
        name = None  # (names the leaves in messages: made where a check needs it)
        for i, (c, o) in enumerate(zip(ct_leaves, outs)):
            t = type(c)  # the common case first: an array like the output
            b = _by_type.get(t) if t is type(o) else None
            if exact is not None and exact[i]:
                name = name or _Leaves("vjp", "cotangent", cotangent, "cotangent")
                ct_leaves[i] = _integer_tangent(c, get_aval(o), name, i, o)
            elif b is not None and c.shape == o.shape and c.dtype == o.dtype:
                if b.devices:
                    name = name or _Leaves("vjp", "cotangent", cotangent, "cotangent")
                    _check_place(c, o, name, i)
            elif not (b is None and _same_aval_as_traced(c, o)):
                # (a traced cotangent or output, an outer transform's value, of the other's
                # shape and dtype is taken as it is, without _check_like's frames)
                name = name or _Leaves("vjp", "cotangent", cotangent, "cotangent")
                ct_leaves[i] = _check_like(c, get_aval(o), name, i, o)
        cts = backward(graph, ct_leaves, borrow=True)
        cts = _instantiate(cts, leaves)
        if structural is not None:
            _keep_structural(cts, leaves, structural)
        return tree_unflatten(in_tree, _array_leaves(cts))
    out = tree_unflatten(out_tree, _array_leaves(outs))
    if has_aux:
        return out, vjp_fun, aux
    return out, vjp_fun


# Value-free primitives: their outputs depend on an operand's shape and dtype, not its values.
_VALUE_FREE = frozenset({"full_like", "iota"})
# Linear primitives with operands that must not depend on the inputs (the coefficients).
_COEFFICIENTS = {"div": (1,), "solve": (0,), "triangular_solve": (0,), "select": (0,),
                 "row_mask": (1,), "taken_rows": (0,), "taken_fill": (0,),
                 "sylvester": (0, 1), "softmax_tangent": (1, 2),
                 "spectral_tangent": (1, 2, 3, 4)}
# The tangent maps of linearize/vjp: linear in their first len(diff) operands (the tangents);
# the others are residuals (the point they were linearized at), coefficients too.
_RESIDUAL_LIN = frozenset({"checkpoint_lin", "cond_lin", "custom_vjp_lin", "eager_lin",
                           "scan_lin"})


def _product_pairs(name, n_operands):
    """How many leading operand pairs ``(x[2i], x[2i+1])`` of primitive ``name`` (with
    ``n_operands`` operands) are multiplied together: a product is linear in either factor
    alone, never in both (``mul``, ``mul_sz``, ``matmul``, ``tensordot``, each term of
    ``mul_add``)."""
    return {"mul": 1, "mul_sz": 1, "matmul": 1, "tensordot": 1, "strong_product": 1,
            "mul_add": n_operands // 2}.get(name, 0)


def _coefficient_operands(prim, params, n_operands):
    """Positions of the operands of ``prim`` (a primitive with a transpose rule) that are
    coefficients of its linear map rather than operands it is linear in: a divisor, the
    matrix of a solve, a predicate, the point a tangent map was linearized at. The primitive
    is linear jointly in the other operands (but for its products: see _product_pairs).
    Integer and boolean operands (indices) are never linear operands either."""
    fixed = _COEFFICIENTS.get(prim.name, ())
    if prim.name == "spectral_tangent":
        if params.get("projected"):
            return tuple(range(1, n_operands - 1))   # (P, the last operand, is linear in t)
        return tuple(range(1, n_operands))   # (the point, and a weighted map's weights)
    if prim.name == "adjugate_derivative":   # (linear in its last direction alone)
        return tuple(range(n_operands - 1))
    if prim.name == "linear_call":  # (its residual_args' leaves come first)
        return tuple(range(params["res_tree"].num_leaves))
    if prim.name in _RESIDUAL_LIN:
        fixed = tuple(fixed) + tuple(range(len(params["diff"]), n_operands))
    return fixed


def _param_vars(params):
    """Graph variables held in an equation's parameters (residuals kept as parameters), at
    any depth of their pytrees; a staging tracer held there (a custom_vjp function's
    residuals, bound as parameters by its jvp rule) stands for its variable."""
    out = []
    for v in params.values():
        if type(v) is Var or type(v) is StagingTracer:
            leaves = (v,)
        elif isinstance(v, (tuple, list, dict)):
            leaves = tree_flatten(v)[0]
        else:
            continue
        out += [a._var if type(a) is StagingTracer else a for a in leaves
                if type(a) is Var or type(a) is StagingTracer]
    return out


def _eqn_outs(prim, outs):
    return outs if prim.multiple_results else [outs]


def _needed(graph, live_out=None, with_vars=False):
    """``(needed, live_in)``: which equations of ``graph`` reach its outputs marked in
    ``live_out`` (all, if None), and which of its inputs they read (and, ``with_vars``, the
    set of variables read). Inside a ``scan`` or a ``cond`` only the parts computing a
    needed result count."""
    outs = graph.outputs
    live = {o for o, keep in zip(outs, live_out or [True] * len(outs))
            if keep and type(o) is Var}
    needed = [False] * len(graph.eqns)
    for k in range(len(graph.eqns) - 1, -1, -1):
        prim, inputs, params, eq_outs = graph.eqns[k]
        lo = [o in live for o in _eqn_outs(prim, eq_outs)]
        if not any(lo):
            continue
        needed[k] = True
        rule = _LIVE_INPUTS.get(prim.name)
        li = rule(inputs, params, lo) if rule is not None else [True] * len(inputs)
        live.update(a for a, keep in zip(inputs, li) if keep and type(a) is Var)
        live.update(_param_vars(params))
    if with_vars:
        return needed, [v in live for v in graph.in_vars], live
    return needed, [v in live for v in graph.in_vars]


def _scan_body_live(params, lo):
    """The ``scan`` body's outputs needed for its results ``lo``: the ys asked for, and the
    carries they (or the final carry asked for) read, to a fixed point."""
    body, nc = params["body"], params["n_carry"]
    live_c, ys = list(lo[:nc]), list(lo[nc:])
    while True:
        _, li = _needed(body, live_c + ys)
        new = [a or b for a, b in zip(live_c, li[:nc])]
        if new == live_c:
            return live_c + ys, li
        live_c = new


def _scan_live_inputs(inputs, params, lo):
    nk, nc = params["n_consts"], params["n_carry"]
    live_body, li = _scan_body_live(params, lo)
    nx = len(inputs) - nk - nc
    # body inputs: carry, x, consts; the equation's: consts, carry, xs
    return li[nc + nx:] + live_body[:nc] + li[nc:nc + nx]


def _cond_live_inputs(inputs, params, lo):
    n_ops = params["n_ops"]
    li = [True] + [False] * (len(inputs) - 1)
    for g, (s, e) in zip(params["branches"], params["spans"]):
        _, gl = _needed(g, lo)
        for j, keep in enumerate(gl[:n_ops]):
            li[1 + j] = li[1 + j] or keep
        for j, keep in enumerate(gl[n_ops:]):
            li[1 + n_ops + s + j] = li[1 + n_ops + s + j] or keep
    return li


_LIVE_INPUTS = {"scan": _scan_live_inputs, "cond": _cond_live_inputs}


def _check_linear(graph, name, like=None):
    """Raise unless every equation of ``graph`` that depends on its inputs is linear in them:
    a primitive with a transpose rule, inexact results, coefficients (divisors, the matrix of
    a solve, a select's predicate, one factor of each product) independent of the inputs.
    Control flow, checkpointed and custom-derivative functions are looked into: their graphs
    must be linear in the operands that depend on the inputs (see :func:`linear_transpose`)."""
    _linear_walk(graph, [v is not None for v in graph.in_vars], None,
                 f"linear_transpose of {name}: equation ", like)


def _linear_walk(graph, dep_in, live_out, prefix, like):
    """Check ``graph`` linear in its inputs marked ``dep_in`` (as far as its outputs marked
    ``live_out`` need); return which outputs depend on them. ``prefix`` starts the name of
    an equation in a message ("... equation 3 (scan): its body's equation ")."""
    dep = {v for v, d in zip(graph.in_vars, dep_in) if d and v is not None}
    # Only equations that reach an output count: a non-linear value computed and dropped
    # (the primal half of a grad inside the function) does not make the function non-linear.
    needed, _, live = _needed(graph, live_out, with_vars=True)
    for k, (prim, inputs, params, outs) in enumerate(graph.eqns, 1):
        hits = [type(a) is Var and a in dep for a in inputs]
        hidden = any(a in dep for a in _param_vars(params))
        if not needed[k - 1] or not (any(hits) or hidden) or prim.name in _VALUE_FREE:
            continue
        where = f"{prefix}{k} ({prim.name})"
        outs = _eqn_outs(prim, outs)
        inner = _INNER_LINEAR.get(prim.name)
        if inner is not None and not hidden:
            lo = [o in live for o in outs]
            out_dep = inner(inputs, params, hits, lo, where, like)
        else:
            _check_linear_eqn(prim, inputs, params, hits, hidden, where)
            out_dep = [True] * len(outs)
        for o, d in zip(outs, out_dep):
            if not d:
                continue
            if not _dt.is_inexact(o.aval.dtype):
                raise TypeError(f"{where} gives a {o.aval.dtype.name} result from values "
                                f"that depend on the inputs: the function is not linear.")
            dep.add(o)
    return [type(o) is Var and o in dep for o in graph.outputs]


def _check_linear_eqn(prim, inputs, params, hits, hidden, where):
    """Raise unless the (primitive) equation is linear in its operands marked ``hits``."""
    if prim.transpose is None:
        raise TypeError(f"{where} is not linear in the function's inputs, so the function "
                        f"has no transpose. linear_transpose needs a linear function (use "
                        f"vjp for the transposed derivative of a non-linear one).")
    pairs = _product_pairs(prim.name, len(inputs))
    both = [i for i in range(pairs) if hits[2 * i] and hits[2 * i + 1]]
    fixed = [i for i in _coefficient_operands(prim, params, len(inputs)) if hits[i]]
    if both or fixed or hidden:
        what = ("multiplies two values that both depend on the inputs" if both else
                "uses a value that depends on the inputs as a coefficient (a divisor, "
                "the matrix of a solve, a predicate or the point a tangent map was "
                "linearized at)")
        raise TypeError(f"{where} {what}: the function is not linear, so it has no "
                        f"transpose (use vjp for the transposed derivative).")


# Equations holding a function (a graph, or Python staged here): linear when that function
# is linear in the operands that depend on the inputs. Each rule returns which results do.

def _scan_linear(inputs, params, hits, lo, where, like):
    # The body is linear jointly in its carries, its xs and the consts that depend on the
    # inputs (one linear map per step, composed), so a const is a linear operand like the
    # others: what is refused is a product of two of them, or one as a divisor.
    nk, nc, body = params["n_consts"], params["n_carry"], params["body"]
    dk, dc, dx = hits[:nk], hits[nk:nk + nc], hits[nk + nc:]
    live_body, _ = _scan_body_live(params, lo)
    while True:  # a carry depends on the inputs if its first value or a later one does
        out = _linear_walk(body, dc + dx + dk, live_body, f"{where}: its body's equation ",
                           like)
        new = [a or b for a, b in zip(dc, out[:nc])]
        if new == dc:
            return dc + out[nc:]
        dc = new


def _cond_linear(inputs, params, hits, lo, where, like):
    if hits[0]:
        raise TypeError(f"{where}: its index (predicate) depends on the inputs, so which "
                        f"branch runs does: the function is not linear.")
    n_ops, out = params["n_ops"], None
    for k, (g, (s, e)) in enumerate(zip(params["branches"], params["spans"])):
        d = hits[1:1 + n_ops] + hits[1 + n_ops + s:1 + n_ops + e]
        o = _linear_walk(g, d, lo, f"{where}: its branch {k}'s equation ", like)
        out = o if out is None else [a or b for a, b in zip(out, o)]
    return out


def _while_linear(inputs, params, hits, lo, where, like):
    n_cc, n_bc = params["n_cc"], params["n_bc"]
    cc, bc, dc = hits[:n_cc], hits[n_cc:n_cc + n_bc], hits[n_cc + n_bc:]
    body, cond = params["body"], params["cond"]
    while True:
        out = _linear_walk(body, dc + bc, None, f"{where}: its body's equation ", like)
        new = [a or b for a, b in zip(dc, out)]
        if new == dc:
            break
        dc = new
    if _depends(cond, dc + cc)[0]:
        src = next((f"{k} ({p.name})" for k, (p, _, _, o) in enumerate(cond.eqns, 1)
                    if cond.outputs[0] in _eqn_outs(p, o)), None)
        raise TypeError(f"{where}: its predicate depends on the inputs"
                        f"{f' (its cond_fun equation {src})' if src else ''}, so the number "
                        f"of steps does: the function is not linear (a while_loop is linear "
                        f"when its steps are counted by values that do not depend on them).")
    return dc


def _depends(graph, dep_in):
    """Which outputs of ``graph`` read (through any equation) its inputs marked ``dep_in``."""
    dep = {v for v, d in zip(graph.in_vars, dep_in) if d and v is not None}
    for prim, inputs, params, outs in graph.eqns:
        if any(type(a) is Var and a in dep for a in inputs) or any(
                a in dep for a in _param_vars(params)):
            dep.update(_eqn_outs(prim, outs))
    return [type(o) is Var and o in dep for o in graph.outputs]


def _checkpoint_linear(inputs, params, hits, lo, where, like):
    return _linear_walk(params["fun"], hits, lo, f"{where}: its function's equation ", like)


def _custom_linear(inputs, params, hits, lo, where, like):
    # Linear when the primal function is (its derivative rule is what vjp transposes).
    graph = _stage_inline(inputs, params, where, like)
    return _linear_walk(graph, [h for a, h in zip(inputs, hits) if type(a) is Var], lo,
                        f"{where}: its function's equation ", like)


def _stage_inline(inputs, params, where, like):
    """The Python function of a custom-derivative equation staged on its operands' shapes
    (its operands that are constants of the graph stay constants)."""
    from .custom import custom_jvp_call_p, custom_vjp_call_p
    prim = custom_jvp_call_p if "rule" in params else custom_vjp_call_p
    interp = StagingInterpreter(_current.get().interp, [like] if like is not None else [])
    args = [interp.new_input(a.aval) if type(a) is Var else a for a in inputs]
    token = set_current(interp)
    try:
        outs = prim.inline(*args, **params)
    except ConcretizationError as e:
        raise TypeError(f"{where}: its function cannot be staged to check that it is linear "
                        f"({e})") from None
    finally:
        reset_current(token)
        interp.active = False
        interp.device_source = None
    outs = [o._var if type(o) is StagingTracer and o._interp is interp
            else o.primal if type(o) is ConstTracer else o for o in outs]
    return Graph([a._var for a in args if type(a) is StagingTracer and a._interp is interp],
                 interp.eqns, outs)


def _eager_linear(inputs, params, hits, lo, where, like):
    raise TypeError(f"{where} runs a Python function ({getattr(params['fun'], '__name__', '?')}"
                    f") when the graph is evaluated, which has no graph to check: "
                    f"linear_transpose cannot tell whether it is linear in the inputs.")


def _rows_linear(inputs, params, hits, lo, where, like):
    # (control_flow's taken_rows and taken_fill: result i from operand i + 1 alone, the
    # first operand, the members' mask, a coefficient)
    if hits[0]:
        raise TypeError(f"{where} uses a value that depends on the inputs as a coefficient "
                        f"(its mask): the function is not linear.")
    return list(hits[1:])


_INNER_LINEAR = {"scan": _scan_linear, "cond": _cond_linear, "while": _while_linear,
                 "checkpoint_call": _checkpoint_linear, "custom_jvp_call": _custom_linear,
                 "custom_vjp_call": _custom_linear, "eager_call": _eager_linear,
                 "taken_rows": _rows_linear, "taken_fill": _rows_linear}


def linear_transpose(fun, *primals):
    """The transpose of a linear function: ``linear_transpose(f, *primals)`` returns
    ``f_t`` with ``f_t(cotangent) == (A^T cotangent, ...)`` where ``f(x) = A x``, a tuple
    with one cotangent per primal (as ``vjp_fun``). ``primals`` give the inputs' shapes,
    dtypes and library (their values are not used); they are real or complex floating arrays
    or pytrees of them, or ``ShapeDtypeStruct``s (arrays of the default backend, as JAX's).

    ``f`` is staged once and checked to be linear: every operation on its inputs must have a
    transpose (no ``sin``, no comparisons, no product of two input-dependent values, no
    input-dependent divisor); otherwise TypeError names the first offending operation. A
    function that adds a constant (affine) is transposed as its linear part, as in JAX.

    Control flow is looked into (as JAX transposes it): a ``scan``, ``fori_loop`` or ``map``
    is linear when its body is linear in the carries, xs and closed-over values that depend
    on the inputs (a product of two of them, or one as a divisor, is refused; the loop's
    counter and constants are coefficients); a ``cond``/``switch`` when its index does not
    depend on the inputs and every branch is linear; a ``while_loop`` when its predicate
    does not depend on them (the number of steps is fixed by other values) and its body is
    linear. Checkpointed, jitted and ``custom_jvp``/``custom_vjp`` functions are linear when
    their own function is (the transpose then uses their derivative rule, as ``vjp`` does).
    A refusal names the outer equation and the inner operation ("equation 1 (scan): its
    body's equation 2 (sin) ..."). Functions run eagerly when a graph is evaluated (the
    backward pass of a ``while_loop`` with an abstract predicate) cannot be looked into and
    are refused.

    Example:
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        >>> f_t = ft.linear_transpose(lambda x: a @ x, np.zeros(2))
        >>> f_t(np.ones(3))
        (array([ 9., 12.]),)
    """
    check_function(fun, "linear_transpose")
    name = _fname(fun)
    leaves, in_tree = tree_flatten(primals)
    # A ShapeDtypeStruct (as JAX's) stands for an array of the default backend.
    leaves = [_shaped_zeros(x) if type(x) is ShapedArray else _as_input(x) for x in leaves]
    for i, x in enumerate(leaves):
        if not _dt.is_inexact(get_aval(x).dtype):
            raise TypeError(f"linear_transpose of {name}: input {i} is "
                            f"{get_aval(x).dtype.name}; a linear map acts on real or complex "
                            f"floating arrays. Pass floats (or close over the integer).")
    graph = make_graph(lambda *a: fun(*tree_unflatten(in_tree, a)))(*leaves)
    _check_linear(graph, name, leaves[0] if leaves else None)
    # Linear, so its vjp at any point is its transpose: at zeros, which cannot overflow.
    zeros = [fnp.zeros_like(x) for x in leaves]
    _, vjp_fun = vjp(lambda *a: fun(*tree_unflatten(in_tree, a)), *zeros)

    @functools.wraps(fun)
    def transposed(cotangent):
        try:
            cts = vjp_fun(cotangent)
        except TangentMismatchError as e:  # (vjp's words, which the caller never called)
            msg = e.message.removeprefix("vjp: ").removeprefix("vjp's pullback: ")
            raise TangentMismatchError(f"linear_transpose of {name}: {msg}") from None
        return tree_unflatten(in_tree, list(cts))
    return transposed


def _shaped_zeros(a):
    b = _default_backend()
    return b.xp.zeros(a.shape, dtype=b.native_dtype(a.dtype))


def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes of ``fun(*args, **kwargs)`` without computing it: a pytree of
    :class:`ShapedArray` (``.shape``, ``.dtype``) of the result's structure. Arguments are
    arrays, Python numbers or ShapedArrays (``ft.ShapeDtypeStruct(shape, dtype)``); ``fun``
    is staged once, like ``jit`` does, so it must not need its inputs' values.

    Example:
        >>> ft.eval_shape(lambda x: fnp.stack([x, x]), ft.ShapeDtypeStruct((3,), "float32"))
        ShapedArray(f32[2,3])
    """
    check_function(fun, "eval_shape")
    leaves, tree = tree_flatten((args, kwargs))
    arrays = [x for x in leaves if type(x) is not ShapedArray]
    interp = StagingInterpreter(_current.get().interp, [_as_input(x) for x in arrays][:1])
    tracers = [interp.new_input(x if type(x) is ShapedArray else get_aval(_as_input(x)))
               for x in leaves]
    token = set_current(interp)
    try:
        a, kw = tree_unflatten(tree, tracers)
        out = fun(*a, **kw)
    finally:
        reset_current(token)
        interp.active = False
        interp.device_source = None
    return tree_map(lambda o: ShapedArray(tuple(get_aval(o).shape), get_aval(o).dtype), out)


def ShapeDtypeStruct(shape, dtype):
    """An input known by its shape and dtype only (for :func:`eval_shape`), as JAX's:
    ``dtype`` is a functrans.numpy dtype, a library's dtype or a name such as ``"float32"``."""
    return ShapedArray(tuple(int(n) for n in shape), _dt.as_dtype(dtype))


def _instantiate(cts, primals):
    """Symbolic zero cotangents (None) as zeros like their primals."""
    for i, c in enumerate(cts):
        if c is None:
            p = primals[i]
            # (an array of a known library: the primitive itself, as functrans.numpy's
            # zeros_like binds it, without its checks and NumPy's view with .at, which the
            # transforms take off again)
            cts[i] = _st.zeros_like(p) if type(p) in _by_type else fnp.zeros_like(p)
    return cts


# Pytree classes some of whose integer leaves are structure rather than values (a sparse
# array's indices): class -> whether each of its children is structural. grad and vjp return
# such a leaf as it is (so the gradient of a sparse array is one with the same indices; JAX's
# needs allow_int and gives float0 indices), jacfwd and jacrev once per output element; jvp
# accepts the primal's own leaf as its tangent and gives the output's back as its tangent.
# Empty unless a module registering a class (functrans.experimental.sparse) is imported;
# then one look-up per call, by tree structure.
_STRUCTURAL_LEAVES: dict = {}
_STRUCTURAL_MASKS: dict = {}  # treedef -> per leaf, whether it is structural (None: none)


def _structural_mask(treedef, leaves):
    """Per leaf of the tree ``treedef`` (of ``leaves``), whether it is structural; None when
    no leaf is."""
    try:
        return _STRUCTURAL_MASKS[treedef]
    except KeyError:
        cache = True
    except TypeError:  # (a tree whose node data cannot be hashed: not cached)
        cache = False
    nodes, _ = tree_flatten(treedef.unflatten(leaves),
                            is_leaf=lambda x: type(x) in _STRUCTURAL_LEAVES)
    mask = []
    for node in nodes:
        mask.extend(_STRUCTURAL_LEAVES.get(type(node), (False,)))
    # (a registered node whose children are not leaves themselves: nothing is structural)
    mask = mask if any(mask) and len(mask) == len(leaves) else None
    if cache:
        if len(_STRUCTURAL_MASKS) > 4096:
            _STRUCTURAL_MASKS.clear()
        _STRUCTURAL_MASKS[treedef] = mask
    return mask


def _keep_structural(cts, primals, mask):
    """Cotangents with the structural leaves replaced by (unshared copies of) the primal
    ones: writing into a gradient's indices must not rewrite the caller's."""
    if mask is not None:
        for i, m in enumerate(mask):
            if m:
                cts[i] = unshared([primals[i]], [primals[i]])[0]
    return cts


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False,
                   reduce_axes=()):
    """Function returning ``(fun(*args), gradient)``; see [`grad`][functrans.grad].

    Example:
        >>> ft.value_and_grad(lambda x: x ** 3)(2.0)
        (array(8.), array(12.))
    """
    check_function(fun, "value_and_grad")
    if reduce_axes:
        _no_reduce_axes(reduce_axes, "value_and_grad")
    return functools.wraps(fun)(_value_and_grad(fun, argnums, has_aux, holomorphic,
                                                allow_int, "value_and_grad"))


def _no_reduce_axes(reduce_axes, what):
    if tuple(reduce_axes) != ():
        raise NotImplementedError(f"{what}: reduce_axes={reduce_axes!r} names mapped axes "
                                  f"(JAX's pmap/shard_map axes), which functrans does not "
                                  f"have; only () is accepted.")


def _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int=False, what="grad",
                    value=True):
    """The function returning ``(fun(*args), gradient)`` (``((out, aux), gradient)`` with
    ``has_aux``); with ``value=False`` the gradient alone (``(gradient, aux)``), which is
    grad's function itself: no second layer of calls."""
    name = f"{what} of {_fname(fun)}"  # errors name the transform the user called
    # (a non-negative int argnums, as _argnums_tuple gives it wherever it is in range)
    one = (argnums,) if type(argnums) is int and argnums >= 0 else None

    def value_and_grad_fun(*args, **kwargs):
        if one is not None and argnums < len(args):
            single, nums = True, one
        else:
            single, nums = _argnums_tuple(argnums, len(args), name)
        leaves, tree, call, leaf_args = _split_args(fun, args, kwargs, nums)
        # (one leaf, the common case, without a comprehension's frame)
        avals = [get_aval(leaves[0])] if len(leaves) == 1 else [get_aval(x) for x in leaves]
        structural = _structural_mask(tree, leaves) if _STRUCTURAL_LEAVES else None
        for i, a in enumerate(avals):
            d = a.dtype
            if d.kind not in "fc":  # (dtypes.is_float, inline: this runs per leaf)
                if allow_int or (structural is not None and structural[i]):
                    continue  # its gradient: zeros of its own dtype (JAX: float0)
                raise IntegerInputError(
                    f"{name}: input {i} of the differentiated arguments (argnums="
                    f"{argnums}) has dtype {d.name}; gradients need floating-point inputs. "
                    f"Pass a float (1.0, not 1), cast with astype, leave the argument out "
                    f"of argnums, or pass allow_int=True for zero gradients there.")
            if holomorphic:  # (an input is checked only against holomorphic=True)
                _check_complex(name, f"input {i}", d, holomorphic, forbid=False)
        box = []

        def flat(xs):
            out = call(xs)
            aux = None
            if has_aux:
                out, aux = _aux_pair(out, name)
            a = _output_aval(out, name, has_aux)
            if a.shape != ():
                raise NonScalarOutputError(
                    f"{name} needs a scalar output (shape ()), but the function "
                    f"returned shape {a.shape}. Use jacrev (or jacfwd) for the Jacobian, vjp "
                    f"for a vector-Jacobian product, or reduce the output (for example with "
                    f"sum) first.")
            if a.dtype.kind not in "fc":  # (dtypes.is_float, inline)
                raise NonScalarOutputError(
                    f"{name} needs a floating-point output, but the function returned "
                    f"dtype {a.dtype.name}: an integer or boolean output has no derivative.")
            if holomorphic or a.dtype.kind == "c":  # (nothing to check otherwise)
                _check_complex(name, "the output", a.dtype, holomorphic)
            if has_aux:
                a_leaves, a_tree = tree_flatten(aux)
                box.append(a_tree)
                return [out], a_leaves
            return [out]
        if has_aux:
            (out,), graph, aux = linearize_flat(flat, leaves, with_aux=True, avals=avals)
        else:
            (out,), graph = linearize_flat(flat, leaves, avals=avals)
        if type(out) in _SCALAR_DTYPES:
            # A constant output in the inputs' library and device, as jvp/vjp/linearize do.
            out = _as_input(_scalar_like(out, leaves[0] if leaves else None))
        # A symbolic seed of ones: the first products by it cost nothing.
        cts = backward(graph, [_ONES], consume=True, template=out)
        grads = _instantiate(cts, leaves)
        if structural is not None:
            _keep_structural(grads, leaves, structural)
        grads = _array_leaves(grads)
        if leaf_args and single:  # (the tree is the tuple of the one leaf)
            g = grads[0]
        else:
            grads = tree_unflatten(tree, grads)
            g = grads[0] if single else grads
        if not value:
            return (g, tree_unflatten(box[0], aux)) if has_aux else g
        if not _RETURNED_AS_IS.get(type(out)):
            out = _as_array(out)
        if has_aux:
            return (out, tree_unflatten(box[0], aux)), g
        return out, g
    return value_and_grad_fun


# grad's seed, the output's cotangent: a symbolic fill of ones (never changed by a pass)
_ONES = Fill(1.0)


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    """The gradient of a scalar-valued function, by one reverse pass.

    Args:
        fun: function returning a real scalar (and, with ``has_aux``, a pair
            ``(scalar, aux)``).
        argnums: which positional argument(s) to differentiate: an int, or a tuple of ints
            (then the gradient is a tuple).
        has_aux: return ``(gradient, aux)``.
        holomorphic: ``fun`` is holomorphic, with complex inputs and a complex output
            (without it a complex output is an error, as in JAX).
        allow_int: differentiate with respect to integer (or boolean) arguments too, whose
            gradients are zeros of their own dtype (JAX's are ``float0``); without it they
            are an error.
        reduce_axes: only ``()`` (JAX's named mapped axes do not exist here).

    Example:
        >>> ft.grad(ft.grad(fnp.sin))(0.0)
        array(-0.)
    """
    check_function(fun, "grad")
    if reduce_axes:
        _no_reduce_axes(reduce_axes, "grad")
    return functools.wraps(fun)(_value_and_grad(fun, argnums, has_aux, holomorphic,
                                                allow_int, value=False))


def elementwise_grad(fun, argnums=0, has_aux=False):
    """autograd's ``elementwise_grad``: the sum of the rows of the Jacobian of an
    array-valued ``fun`` (one reverse pass, the output's cotangent all ones), which is the
    derivative of each output element with respect to its own input element when ``fun``
    acts elementwise: ``elementwise_grad(fnp.tanh)(x)`` is ``1 - tanh(x)**2``.
    ``argnums`` and ``has_aux`` are [`grad`][functrans.grad]'s.

    Example:
        >>> ft.elementwise_grad(fnp.sin)(np.array([0.0, np.pi]))
        array([ 1., -1.])
    """
    check_function(fun, "elementwise_grad")

    @functools.wraps(fun)  # (errors name fun and elementwise_grad, not grad of summed)
    def summed(*args, **kwargs):
        out = fun(*args, **kwargs)
        out, aux = _aux_pair(out, "elementwise_grad") if has_aux else (out, None)
        if not (isinstance(out, Tracer) or hasattr(out, "shape") or type(out) in _SCALAR_DTYPES):
            raise TypeError(f"elementwise_grad of {_fname(fun)}: the function must return "
                            f"one array; got {type(out).__name__}. Use vjp with a cotangent "
                            f"of ones for a pytree of outputs.")
        total = fnp.sum(fnp.asarray(out)) if type(out) in _SCALAR_DTYPES else fnp.sum(out)
        return (total, aux) if has_aux else total
    return functools.wraps(fun)(_value_and_grad(summed, argnums, has_aux, False,
                                                what="elementwise_grad", value=False))


def _aux_pair(out, what):
    """``(output, aux)`` from what a function with ``has_aux=True`` returned."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        got = (f"an array of shape {tuple(out.shape)}" if isinstance(out, Tracer) or
               type(out) in _by_type else f"a {type(out).__name__}" + (
                   f" of {len(out)} items" if isinstance(out, (tuple, list)) else ""))
        raise TypeError(f"{what} with has_aux=True: the function must return a pair (output, "
                        f"aux); got {got}.")
    return out


def _output_aval(out, what, has_aux):
    """The abstract value of a function's single output, with an error that says what came
    back where the output is not an array (a forgotten ``has_aux``, most often)."""
    if isinstance(out, Tracer):
        return out.aval
    if type(out) not in _SCALAR_DTYPES and not hasattr(out, "shape"):
        hint = ("" if has_aux else " If it returns (output, auxiliary data), pass "
                "has_aux=True.")
        raise NonScalarOutputError(f"{what} needs a scalar array output, but the function "
                                   f"returned a {type(out).__name__}.{hint}")
    return get_aval(_as_input(out))


def _check_complex(what, where, dtype, holomorphic, forbid=True):
    """Complex values where a whole derivative needs a convention (``forbid``: a complex
    output of reverse mode, a complex input of forward mode) only with ``holomorphic=True``,
    which in turn needs complex values everywhere (as in JAX)."""
    if forbid and dtype.kind == "c" and not holomorphic:
        raise ComplexDerivativeError(
            f"{what}: {where} is complex ({dtype.name}). Pass holomorphic=True if the "
            f"function is holomorphic; otherwise use jvp/vjp, or differentiate real and "
            f"imaginary parts separately.")
    if holomorphic and dtype.kind != "c":
        raise ComplexDerivativeError(
            f"{what} with holomorphic=True: {where} has dtype {dtype.name}; holomorphic "
            f"differentiation needs complex inputs and outputs.")

# -- Jacobians ---------------------------------------------------------------------------------


def _basis(x):
    """The standard basis of ``x``'s space stacked along a new leading axis: the identity of
    size ``x.size`` reshaped to ``(x.size,) + x.shape``, made on the backend and device of the
    concrete value behind ``x``."""
    aval = get_aval(x)
    n = aval.size
    b, dev = _concrete_backend(x)
    eye = b.xp.eye(n, dtype=b.native_dtype(aval.dtype), **({"device": dev} if dev else {}))
    return b.xp.reshape(eye, (n,) + tuple(aval.shape))


def _concrete_backend(x):
    """The backend and device of the concrete array behind ``x`` (through any tracers)."""
    x = _concrete_value(x)
    return (_default_backend(), None) if x is None else _place_of(x)


def _scalar_like(o, like, dtype=None):
    """A Python scalar as a 0-d array of the library and device of ``like`` (an input that may
    be traced), so that constants a function returns come back in the inputs' library rather
    than the default backend's; of ``dtype``, else the scalar's own type's; anything else
    unchanged."""
    if type(o) not in _SCALAR_DTYPES or like is None:
        return o
    b, dev = _concrete_backend(like)
    if dtype is None:
        dtype = {bool: _dt.bool_, int: _dt.int64, float: _dt.float64,
                 complex: _dt.complex128}[type(o)]
    # (the backend's asarray: NumPy's own there, not array-api-compat's wrapper)
    return b.asarray(o, dtype, dev or None)


def _batched_map(f, basis, chunk_size):
    """``vmap(f)(*basis)`` (``basis``: a list of arrays with one leading axis of basis
    vectors, ``f`` taking one argument per array), or in chunks of ``chunk_size`` basis
    vectors, concatenated, to bound the memory of very large Jacobians. (``f``'s batched
    function is made here at every call: without vmap's checks and ``functools.wraps``,
    and a flat tuple of arguments takes the pytrees' short path.)"""
    batched = _vmap(f, 0, 0, None, (), wrap=False)
    n = basis[0].shape[0]
    if chunk_size is None or chunk_size >= n:
        return batched(*basis)
    # Stops clipped to n: the standard leaves out-of-bounds slice stops unspecified.
    parts = [batched(*[b[i:min(i + chunk_size, n), ...] for b in basis])
             for i in range(0, n, chunk_size)]
    leaves = [tree_flatten(p)[0] for p in parts]
    tree = tree_flatten(parts[0])[1]
    return tree_unflatten(tree, [fnp.concat([p[k] for p in leaves], axis=0)
                                 for k in range(len(leaves[0]))])


def _block(stacked, out_shape, in_shape, rows_are_outputs):
    """A Jacobian block ``out_shape + in_shape`` from results stacked over a basis: one per
    output element (jacrev) or one per input element (jacfwd)."""
    out_shape, in_shape = tuple(out_shape), tuple(in_shape)
    if rows_are_outputs:
        return fnp.reshape(stacked, out_shape + in_shape)
    n = 1
    for d in in_shape:
        n *= d
    s = fnp.reshape(stacked, (n, -1))
    return fnp.reshape(fnp.permute_dims(s, (1, 0)), out_shape + in_shape)


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False, *, chunk_size=None, **kwargs):
    """The Jacobian by forward mode: the JVPs along every basis vector of the inputs, computed
    in one batched pass (``vmap`` of ``jvp``; the primal is computed once). The result has,
    for every output leaf and every input leaf, a block of shape ``out.shape + in.shape``.

    Args:
        fun: function of pytrees of arrays returning a pytree of arrays (and, with
            ``has_aux``, a pair ``(output, aux)``).
        argnums: which positional argument(s) to differentiate: an int, or a tuple of ints
            (then each block is a tuple, one entry per argument).
        has_aux: return ``(jacobian, aux)``.
        holomorphic: ``fun`` is holomorphic, with complex inputs and outputs (without it a
            complex input is an error: forward mode of a non-holomorphic function of complex
            values has no single Jacobian).
        chunk_size: the most basis vectors (of all differentiated inputs together) sent
            through one batched pass; ``None`` sends them all at once. A smaller value
            bounds the memory of a large Jacobian at the cost of more passes; the result is
            the same.

    Example:
        >>> ft.jacfwd(lambda x: x * x)(fnp.asarray([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    check_function(fun, "jacfwd")
    if kwargs:
        _torch_spellings("jacfwd", kwargs)
    return _jacobian(fun, argnums, has_aux, "fwd", chunk_size, holomorphic)


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, *,
           chunk_size=None, **kwargs):
    """The Jacobian by reverse mode: ``fun`` is linearized once, and the reverse pass runs
    batched over every basis vector of an output (``vmap`` of the transpose). Same result
    layout as [`jacfwd`][functrans.jacfwd].

    Args:
        fun: function of pytrees of arrays returning a pytree of arrays (and, with
            ``has_aux``, a pair ``(output, aux)``).
        argnums: which positional argument(s) to differentiate: an int, or a tuple of ints.
        has_aux: return ``(jacobian, aux)``.
        holomorphic: ``fun`` is holomorphic, with complex inputs and outputs (without it a
            complex output is an error).
        allow_int: differentiate with respect to integer (or boolean) arguments too, whose
            blocks are zeros of their own dtype (JAX's are ``float0``).
        chunk_size: the most basis vectors (of one output leaf) sent through one batched
            reverse pass; ``None`` sends them all at once. A smaller value bounds the memory
            of a large Jacobian at the cost of more passes; the result is the same.

    Example:
        >>> ft.jacrev(lambda x: x * x)(fnp.asarray([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    check_function(fun, "jacrev")
    if kwargs:
        _torch_spellings("jacrev", kwargs)
    return _jacobian(fun, argnums, has_aux, "rev", chunk_size, holomorphic, allow_int)


def _tangent_map(call, leaves, has_aux, box, name="jacfwd"):
    """The function ``*tangents -> tangents of call's outputs`` at ``leaves`` (one tangent per
    input). The primal outputs and aux, the same for every tangent, go to ``box``."""
    def tangent_map(*tangents):
        interp = JVPInterpreter(_current.get().interp)
        interp.device_source = leaves[0] if leaves else None
        ins = [JVPTracer(interp, x, t) for x, t in zip(leaves, tangents)]
        token = set_current(interp)
        try:
            out = call(ins)
        finally:
            reset_current(token)
            interp.active = False
            interp.device_source = None
        aux = None
        if has_aux:
            out, aux = _aux_pair(out, name)
        o_leaves, o_tree = tree_flatten(out)
        primals, tangents_out = [], []
        for o in o_leaves:
            if type(o) is JVPTracer and o._interp is interp:
                primals.append(o.primal)
                tangents_out.append(o.tangent)
            else:
                o = o if isinstance(o, Tracer) else _const_output(
                    o, leaves[0] if leaves else None, name, len(primals))
                primals.append(o)
                tangents_out.append(fnp.zeros_like(o))
        box[:] = [primals, o_tree, _strip(aux, interp) if has_aux else None]
        return tangents_out
    return tangent_map


def _joint_basis(leaves):
    """The standard basis of the space of all ``leaves`` together (N = their total size):
    for each leaf, an array ``(N,) + leaf.shape`` holding its columns of the N x N identity."""
    avals = [get_aval(x) for x in leaves]
    total = sum(a.size for a in avals)
    bases, offset = [], 0
    for x, a in zip(leaves, avals):
        b, dev = _concrete_backend(x)
        cols = b.xp.eye(total, a.size, k=-offset, dtype=b.native_dtype(a.dtype),
                        **({"device": dev} if dev else {}))
        bases.append(b.xp.reshape(cols, (total,) + tuple(a.shape)))
        offset += a.size
    return bases


def _jacobian(fun, argnums, has_aux, mode, chunk_size, holomorphic, allow_int=False,
              what=None):
    name = f"{what or 'jac' + mode} of {_fname(fun)}"  # hessian's errors say hessian
    if chunk_size is not None:  # (checked here: a bad one must not wait for a large input)
        chunk_size = _positive_chunk(chunk_size, name)

    @functools.wraps(fun)
    def jac_fun(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), name)
        leaves, in_tree, call, _ = _split_args(fun, args, kwargs, nums)
        structural = _structural_mask(in_tree, leaves) if _STRUCTURAL_LEAVES else None
        for i, x in enumerate(leaves):
            if not _dt.is_float(get_aval(x).dtype):
                if allow_int or (structural is not None and structural[i]):
                    continue  # its block: zeros of its own dtype (structural: itself)
                raise IntegerInputError(
                    f"{name}: input {i} has dtype {get_aval(x).dtype.name}; "
                    f"Jacobians need floating-point inputs" + (
                        " (jacrev(allow_int=True) gives zero blocks for integer inputs)."
                        if mode == "rev" else "."))
            # Complex inputs need holomorphic=True in forward mode only (as in JAX).
            _check_complex(name, f"input {i}", get_aval(x).dtype,
                           holomorphic, forbid=mode == "fwd")
        in_avals = [get_aval(x) for x in leaves]
        if mode == "fwd":
            # One batched pass over the basis of all inputs together.
            box = []
            tmap = _tangent_map(call, leaves, has_aux, box, name)
            if sum(a.size for a in in_avals):
                cols = _batched_map(tmap, _joint_basis(leaves), chunk_size)
            else:  # nothing to differentiate: evaluate once for the outputs' structure
                tmap(*[fnp.zeros_like(x) for x in leaves])
                cols = None
            outs, out_tree, aux = box
            # (kept aside under jacfwd's vmap: constant tracers of it are plain arrays here)
            outs, aux = _unconst(outs), _unconst(aux)
            out_avals = [get_aval(o) for o in outs]
            for i, a in enumerate(out_avals):
                _check_complex(name, f"output {i}", a.dtype, holomorphic,
                               forbid=False)
            blocks, offset = [[None] * len(leaves) for _ in outs], 0
            for j, a in enumerate(in_avals):
                if a.size:
                    for i in range(len(outs)):
                        part = cols[i][offset:offset + a.size, ...]
                        blocks[i][j] = _block(part, out_avals[i].shape, a.shape, False)
                offset += a.size
        else:
            outs, out_tree, graph, aux = _linearize_tree(call, leaves, has_aux,
                                                         name)
            out_avals = [get_aval(o) for o in outs]
            for i, a in enumerate(out_avals):
                if not _dt.is_float(a.dtype):  # (as JAX: no reverse pass from it)
                    raise NonScalarOutputError(
                        f"{name}: output {i} has dtype {a.dtype.name}; reverse mode "
                        f"needs floating-point outputs (an integer or boolean output has no "
                        f"derivative). Return it as auxiliary data (has_aux=True), or use "
                        f"jacfwd, whose block for it is zeros.")
                _check_complex(name, f"output {i}", a.dtype, holomorphic)
            blocks = []
            for i, o in enumerate(outs):
                if out_avals[i].size == 0:
                    blocks.append([None] * len(leaves))
                    continue

                def row(ct, i=i):
                    cts = [None] * len(outs)
                    cts[i] = ct
                    return _instantiate(backward(graph, cts), leaves)
                rows = _batched_map(row, [_basis(o)], chunk_size)
                blocks.append([_block(rows[j], out_avals[i].shape, in_avals[j].shape, True)
                               for j in range(len(leaves))])
        for i in range(len(outs)):
            for j in range(len(leaves)):
                if structural is not None and structural[j]:
                    # a sparse input's indices, once per output element: the block is a
                    # sparse array batched over the output's shape
                    shape = tuple(out_avals[i].shape) + tuple(get_aval(leaves[j]).shape)
                    blocks[i][j] = fnp.asarray(fnp.broadcast_to(leaves[j], shape), copy=True)
                elif blocks[i][j] is None:  # an empty input or output
                    # (of the dtype a nonempty block has: the output's tangent's in forward
                    # mode, the input's cotangent's in reverse mode, as JAX's)
                    blocks[i][j] = _zeros_block(outs[i], leaves[j], mode == "fwd")
        per_out = []
        for i in range(len(outs)):
            tree = tree_unflatten(in_tree, blocks[i])
            per_out.append(tree[0] if single else tree)
        jac = _arrays(tree_unflatten(out_tree, per_out))
        if has_aux:
            return jac, aux
        return jac
    return jac_fun


def _zeros_block(out, x, out_dtype=False):
    b, dev = _concrete_backend(x)
    shape = tuple(get_aval(out).shape) + tuple(get_aval(x).shape)
    dtype = get_aval(out if out_dtype else x).dtype
    return b.xp.zeros(shape, dtype=b.native_dtype(dtype),
                      **({"device": dev} if dev else {}))


def jacobian(fun, argnums=0, has_aux=False, holomorphic=False, *, chunk_size=None):
    """autograd's and JAX's name for :func:`jacrev` (the Jacobian by reverse passes, one per
    output element)."""
    return jacrev(fun, argnums, has_aux, holomorphic, chunk_size=chunk_size)


def hessian(fun, argnums=0, has_aux=False, holomorphic=False, *, chunk_size=None):
    """The Hessian, as ``jacfwd(jacrev(fun))`` (forward-over-reverse): two batched passes.

    Args:
        fun: function returning a real scalar (and, with ``has_aux``, a pair
            ``(scalar, aux)``).
        argnums: which positional argument(s) to differentiate: an int, or a tuple of ints
            (then the Hessian is a nested tuple of blocks).
        has_aux: return ``(hessian, aux)``.
        holomorphic: passed to both passes (see [`jacfwd`][functrans.jacfwd]).
        chunk_size: passed to both [`jacfwd`][functrans.jacfwd] and
            [`jacrev`][functrans.jacrev]: the most basis vectors per batched pass (``None``:
            all at once).

    Example:
        >>> ft.hessian(lambda x: fnp.sum(x ** 3))(fnp.asarray([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    check_function(fun, "hessian")
    inner = _jacobian(fun, argnums, has_aux, "rev", chunk_size, holomorphic, what="hessian")
    return _jacobian(inner, argnums, has_aux, "fwd", chunk_size, holomorphic, what="hessian")


def hvp(fun, primals, tangents):
    """Hessian-vector product ``H(primals) @ tangents`` of a scalar function, by forward mode
    over reverse mode: the Hessian is never formed, and the cost is a small multiple of one
    gradient.

    On large inputs (``2**14`` elements or more) the computation is first staged to a graph
    and pruned to what ``H v`` needs, then run (see :func:`make_graph`); a function whose
    Python control flow needs concrete values runs eagerly instead. The staged graph is
    reused by later calls where ``fun``'s own trace repeats: each call traces ``fun`` once by
    itself to check (twice when its trace is new), and arrays ``fun`` captures are read
    afresh each call (see :mod:`functrans.trace_cache`; ``functrans.trace_cache.ENABLED =
    False`` turns this off); a function that writes into a ``zeros_like`` (``ones_like``...)
    of its input is staged anew each call, and one that writes a traced value into an array
    made from no input (``y = zeros(n); y[0] = x[0]``) runs eagerly, as it cannot be staged.
    On NumPy, the run computes large intermediates into the memory of ones that died, and
    keeps up to 64 MiB of such arrays, and its result once you drop it, for the next call
    (:func:`functrans.buffers.release` frees them).

    Example:
        >>> ft.hvp(lambda x: fnp.sum(x ** 3), (fnp.asarray([1.0, 2.0]),),
        ...        (fnp.asarray([1.0, 0.0]),))
        array([6., 0.])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("hvp(fun, primals, tangents): primals and tangents must be tuples; "
                        "for one argument write (x,) and (v,).")
    primals, tangents = tuple(primals), tuple(tangents)
    nums, k = tuple(range(len(primals))), len(primals)

    def hessian_times(*args):
        return jvp(grad(fun, argnums=nums), args[:k], args[k:])[1]

    if sum(math.prod(get_aval(x).shape) for x in tree_flatten(primals)[0]) < _HVP_STAGE_SIZE:
        out = hessian_times(*primals, *tangents)
    else:
        # Eagerly, forward-over-reverse also computes the loss, its tangent and the gradient,
        # which an hvp discards, and holds every intermediate to the end. Staged, pruned to
        # what H v needs and run freeing each array after its last use, it makes a third
        # fewer passes over memory. A function whose Python control flow needs concrete
        # values cannot be staged and runs eagerly instead (what it printed while being
        # staged, it prints again); so does one that writes a traced value into an array it
        # made from no traced value (y = zeros(n); y[0] = x[0]), which a staging cannot hold
        # (as under jit) but forward-over-reverse can.
        try:
            out = _staged_hvp(fun, primals, tangents, nums)
        except (ConcretizationError, DerivativeDroppedError):
            out = hessian_times(*primals, *tangents)
    return out[0] if k == 1 else out


def _staged_hvp(fun, primals, tangents, nums):
    """H v by a staged, pruned graph: the cached one where ``fun``'s trace is one seen before
    (see :mod:`functrans.trace_cache`), else a new one (then cached)."""
    k = len(primals)
    leaves, in_tree = tree_flatten(primals + tangents)
    leaves = [_as_input(x) for x in leaves]
    # Under another transform, or switched off: no cache (and fun runs once, as before).
    top = type(_current.get().interp) is EvalInterpreter and trace_cache.ENABLED
    if top:
        avals = [get_aval(x) for x in leaves]
        context = (k, in_tree, tuple((type(x), a.shape, a.dtype)
                                     for x, a in zip(leaves, avals)), _default_backend().name)
        rec, outs = _trace_alone(fun, primals)
        alone_key = rec.key(outs, context)
        graph = trace_cache.lookup(alone_key)
        if graph is not None:
            return tree_unflatten(graph.out_tree, eval_graph(graph, leaves + rec.consts))
    sink = []
    recorded = trace_cache.recording(fun, sink)

    def hessian_times(*args):
        return jvp(grad(recorded, argnums=nums), args[:k], args[k:])[1]

    def stage():
        return prune(make_graph(hessian_times)(*primals, *tangents))

    def stage_writable():
        # ``y = zeros_like(x); y[0] = x[0]``: the zeros were the staging's, which the write
        # cannot change; staged with them as arrays of fun's level instead (never cached)
        sink.clear()
        with trace_cache.writing_likes():
            return stage()

    if top and trace_cache.writes_into_likes(alone_key):
        graph = stage_writable()  # (this trace did so before: at once)
    else:
        likes = trace_cache.traced_likes()
        try:
            graph = stage()
        except TypeError:
            if trace_cache.traced_likes() == likes:
                raise
            graph = stage_writable()
            if top:
                trace_cache.note_writes_into_likes(alone_key)
    if top and len(sink) == 1:
        rec, outs = sink[0]
        trace_cache.store(rec.key(outs, context), graph, rec.consts)
    return tree_unflatten(graph.out_tree, eval_graph(graph, leaves))


def _trace_alone(fun, primals):
    """Run ``fun`` once, abstractly and with no transform, under a
    :class:`trace_cache.Recorder`. (Inside ``hvp`` it sees forward-mode tracers instead;
    where that changed what it binds, its traces would simply never match.)"""
    primal_leaves, primal_tree = tree_flatten(primals)
    stage = StagingInterpreter(_current.get().interp, primal_leaves)
    tracers = [stage.new_input(get_aval(_as_input(x))) for x in primal_leaves]
    sink = []
    token = set_current(stage)
    try:
        trace_cache.recording(fun, sink)(*tree_unflatten(primal_tree, tracers))
    finally:
        reset_current(token)
        stage.active = False
        stage.device_source = None
    return sink[0]


# Inputs of at least this many elements in all make hvp stage its computation: below it the
# passes over memory that staging saves cost less than staging itself (which is about one more
# eager pass of Python work: about 1.7x the time of an eager hvp on 8 elements, half of it on
# 10^5).
_HVP_STAGE_SIZE = 1 << 14

# -- staging -------------------------------------------------------------------------------------


def make_graph(fun, static_argnums=()):
    """Stage ``fun`` to the IR: ``make_graph(f)(*args)`` returns a :class:`Graph` — the
    evaluation trace of ``f`` for arguments of these shapes and dtypes — which prints as a
    numbered list of equations and can be evaluated by calling it on flat arguments.
    The arguments at ``static_argnums`` (an int or a tuple) are not inputs: their values are
    used as they are while staging (Python numbers appear in the graph as constants).

    Example:
        >>> print(ft.make_graph(lambda x, y: fnp.sin(x) * y)(1.0, 2.0))
        graph {
          v1: f64[] = x1
          v2: f64[] = x2
          v3: f64[] = sin v1
          v4: f64[] = mul v3 v2
          return v4
        }
    """
    check_function(fun, "make_graph")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def staged(*args, **kwargs):
        dyn = [i for i in range(len(args)) if i not in static]
        leaves, tree = tree_flatten(tuple(args[i] for i in dyn))
        leaves = [_as_input(x) for x in leaves]
        interp = StagingInterpreter(_current.get().interp, leaves)
        tracers = [interp.new_input(get_aval(x)) for x in leaves]
        # Read the input variables now: ``x[i] = v`` inside ``fun`` rebinds an argument's
        # tracer to a new variable, and the graph's inputs must stay the originals.
        in_vars = [t._var for t in tracers]
        new = list(args)
        for i, v in zip(dyn, tree_unflatten(tree, tracers)):
            new[i] = v
        token = set_current(interp)
        try:
            out = fun(*new, **kwargs)
        finally:
            reset_current(token)
            interp.active = False
            interp.device_source = None
        o_leaves, o_tree = tree_flatten(out)
        outs = [o._var if type(o) is StagingTracer and o._interp is interp
                else o.primal if type(o) is ConstTracer else o for o in o_leaves]
        names = _arg_names(fun, args, dyn, tree, leaves)
        return Graph(in_vars, interp.eqns, outs, tree, o_tree, names)
    return staged


def _arg_names(fun, args, dyn, tree, leaves):
    """x1, x2, ... as in the seeds when every argument is a single array."""
    if len(leaves) == len(dyn):
        return [f"x{i + 1}" for i in range(len(leaves))]
    return None

