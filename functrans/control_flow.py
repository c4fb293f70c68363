"""Structured control flow: ``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan`` and
``map``, with ``jax.lax``'s signatures (the public names are in :mod:`functrans.lax`).

Eager first. functrans's transforms run a function on concrete values, so where the value
that decides — a predicate, a branch index, loop bounds — is concrete, these are Python's own
``if``, ``while`` and ``for``: only the chosen branch runs, and the transforms differentiate
what ran, to any order and in both modes (reverse mode through a ``while_loop`` included).

Where that value is abstract — staged by ``jit``, ``make_graph`` or ``checkpoint``, or one
value per member under ``vmap`` — the functions are staged into graphs (what they close over
becomes inputs, as in ``checkpoint``) and bound as one primitive, ``cond``, ``while`` or
``scan``, whose rules are below. While staging, ``scan`` and ``fori_loop`` with concrete
bounds are bound as a ``scan`` too, so that a loop of 10^4 steps is one equation of a jitted
graph rather than 10^4 copies of its body.

The rules reuse the public functions one level down: the JVP of a ``cond`` is a ``cond`` of
its branches' JVPs, a batched ``while`` is a ``while`` of the batched body that runs until
every member is done, the transpose of a ``cond``'s tangent map is a ``cond`` of the branches'
pullbacks. Under reverse mode with a staged decision (``jit(grad(f))``) a ``cond`` runs its
branches linearized once, abstractly, which also return the residuals of their tangent maps,
and records a linear ``cond_lin`` that reads them: the backward pass transposes the chosen
branch's tangent map without running the branch again (where that does not pay, a cond on
tangents alone or one batched eagerly, ``cond_lin``'s residuals are its inputs and the
backward pass recomputes the branch, as ``checkpoint`` does: _cond_reverse). A ``scan``
there runs its body linearized once too, so that the forward scan stacks the residuals of
every step and the backward scan only transposes the tangent map (``scan_lin``). A ``while_loop``'s
backward pass needs its number of steps, known only when it runs: its tangent map is an
``eager_lin`` whose transpose is an ``eager_call``, functions run (and differentiated)
eagerly when the graph is evaluated. A ``cond``, ``scan`` or ``while`` bound on tangents being
recorded for a backward pass (a custom rule's control flow on its tangents, a forward-mode
JVP's under ``vmap``) is linear in them: it is recorded the same way, by its JVP at zero
tangent operands (``_bind_cond``, ``_bind_scan``, ``_bind_while``).

A branch's (and a while loop's) operations on the tracers it closes over are recorded in its
graph, those tracers becoming inputs (``_stage(..., lift=True)``): a branch not taken then
computes nothing, and no nan of its reaches a derivative.
"""

from __future__ import annotations

import math
import operator
import sys

import numpy as _np

from . import buffers
from . import dtypes as _dt
from . import numpy as fnp
from .checkpointing import _WHY, _fresh, _restricted, _stage, _static
from .core import (_SCALAR_DTYPES, EvalInterpreter, ShapedArray, Tracer, _by_type_get,
                   _current, get_aval, primitive)
from .backends import backend_of
from .errors import ConcretizationError, is_nonnegative_int
from .graph import Graph, Var, _last_uses, eval_graph, prune
from .interpreters import (StagingInterpreter, StagingTracer, TangentRecorder,
                           with_constant_arguments)
from .reverse import backward, linearize_flat
from .numpy._base import _to_array
from .primitives._batching import batch_size, with_batch
from .primitives.structural import broadcast_p as _broadcast_p, full_like_p as _full_like_p
from .tree import _where_differ, tree_flatten, tree_map, tree_unflatten

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map"]

cond_p = primitive("cond", multiple_results=True)
cond_lin_p = primitive("cond_lin", multiple_results=True)
while_p = primitive("while", multiple_results=True)
scan_p = primitive("scan", multiple_results=True)
scan_lin_p = primitive("scan_lin", multiple_results=True)

_REASON = ("its functions are staged into graphs because the value deciding the control flow "
           "is abstract (under jit, make_graph, checkpoint, or differing between members "
           "under vmap)")
for _name in ("cond", "switch", "while_loop", "scan", "fori_loop"):
    _WHY[_name] = (_REASON, "", " Inside them, choose with functrans.lax.cond or "
                   "functrans.numpy.where rather than Python's if.")

# -- helpers -----------------------------------------------------------------------------------


def _concrete(x):
    """The concrete value of ``x`` (through forward-mode tracers), or None where it is
    abstract: staged, or one value per batch member."""
    if isinstance(x, Tracer):
        try:
            return x._concrete("a control-flow decision")
        except ConcretizationError:
            return None
    return x


# The number of live jet interpreters (functrans.taylor) that have met a comparison of curves
# (taylor keeps it): only while one is can a deciding value change right after t = 0, and only
# then is a concrete one looked at for that (cond, switch and their rules cost one global's
# test elsewhere).
_JET_STEPPING = 0


def _sides(index, c, to_branch):
    """The branches a concrete deciding value ``index`` (``c``, its value now) chooses under
    the jets beneath it: at t = 0 (``c``'s) first, then, where it is a comparison of curves
    that changes right after t = 0, the one for small t > 0 (sorted, no repeats; a list of
    one where it does not step)."""
    first = to_branch(c)
    if not isinstance(index, Tracer):
        return [first]
    from .taylor import decision_values
    return [first] + sorted({to_branch(v) for v in decision_values(index)} - {first})


def _merged_sides(index, ks, outs, what):
    """The results ``outs`` of the branches ``ks`` (the one at t = 0 first), one where
    ``index`` (normalized to a branch number) chooses it: a ``where`` per leaf, which under
    jet takes the value from the branch chosen at t = 0 and the coefficients from the one
    chosen for small t > 0."""
    leaves, trees = zip(*[tree_flatten(o) for o in outs])
    for k, tree in zip(ks[1:], trees[1:]):
        if tree != trees[0]:
            raise TypeError(
                f"{what}: its deciding value is a comparison of curves under jet that changes "
                f"right after t = 0, so both {_bname(what, ks[0])} (the value at t = 0) and "
                f"{_bname(what, k)} (the Taylor coefficients after) run and must return the "
                f"same tree structure; they return {trees[0]} and {tree}"
                f"{_where_differ(trees[0], tree, (_bname(what, ks[0]), _bname(what, k)))}.")
    merged = []
    for j, xs in enumerate(zip(*leaves)):
        avals = [(get_aval(x).shape, get_aval(x).dtype) for x in xs
                 if type(x) not in _SCALAR_DTYPES]
        if any(a != avals[0] for a in avals):
            raise TypeError(
                f"{what}: its deciding value is a comparison of curves under jet that changes "
                f"right after t = 0, so the branch chosen at t = 0 and the one after both run "
                f"and must return the same shapes and dtypes; output leaf {j} differs "
                f"({', '.join(f'{d.name}{list(s)}' for s, d in avals)}). Cast one of them "
                f"(functrans.numpy.astype).")
        out = xs[-1]
        for k, x in zip(ks[-2::-1], xs[-2::-1]):
            out = fnp.where(index == k, x, out)
        merged.append(out)
    return tree_unflatten(trees[0], merged)


def _all_concrete(xs) -> bool:
    return all(not isinstance(x, Tracer) or _concrete(x) is not None for x in xs)


def _staging() -> bool:
    """Whether a function is being staged into a graph (jit, make_graph, checkpoint) below the
    current interpreter; linearize's recording of tangents does not count."""
    interp = _current.get().interp
    while interp is not None:
        if isinstance(interp, StagingInterpreter) and type(interp) is not TangentRecorder:
            return True
        interp = interp.parent
    return False


def _recorded(tangents) -> bool:
    """Whether the tangents are being recorded for a backward pass (linearize)."""
    return any(type(t) is StagingTracer and type(t._interp) is TangentRecorder
               for t in tangents)


def _check_scalar(x, what):
    if type(x) in _SCALAR_DTYPES:
        return
    shape = getattr(x, "shape", None)
    if shape is None or isinstance(x, type):
        raise TypeError(f"{what} must be a scalar array or a Python number; got "
                        f"{type(x).__name__}.")
    if tuple(shape) != ():
        raise TypeError(f"{what} must be a scalar (shape ()); got shape {tuple(shape)}. Reduce "
                        f"it first (functrans.numpy.all or any), or choose elementwise with "
                        f"functrans.numpy.where.")


def _first_array(leaves):
    for x in leaves:
        if type(x) not in _SCALAR_DTYPES and type(x) is not ShapedArray:
            return x
    return None


def _carry_leaves(tree_value, what):
    """The leaves of a loop's initial value and its tree structure. Python ints, floats and
    complex numbers stay numbers (weakly typed, as in JAX): the first array the loop puts in
    their place gives their dtype, library and device. Python bools become bool arrays at
    once (on a number, ``~True`` would be -2)."""
    leaves, tree = tree_flatten(tree_value)
    like = None
    for i, x in enumerate(leaves):
        if type(x) is bool:
            like = like if like is not None else _loop_like(leaves)
            leaves[i] = _to_array(x, like=like)
        elif type(x) not in _SCALAR_DTYPES and _static(x):
            raise TypeError(f"{what}: {_leaf_name(tree_value, i)} of the carry is a "
                            f"{type(x).__name__}; a loop carries arrays and Python numbers "
                            f"only.")
    return leaves, tree


def _leaf_name(tree_value, i):
    """Leaf ``i`` of ``tree_value`` named by its place in it (``['velocity']``, ``[0]``), as
    the user wrote the tree."""
    import optree
    from .tree import NAMESPACE
    try:
        path = optree.tree_paths(tree_value, namespace=NAMESPACE)[i]
    except Exception:  # noqa: BLE001  (a name is a nicety: the index will do)
        return f"leaf {i}"
    return "leaf " + ("".join(f"[{k!r}]" for k in path) if path else "(the whole carry)")


def _loop_like(*groups):
    """An array or tracer whose library and device new arrays of a loop take: the first
    array of ``groups``, else the value being staged or linearized below, else None."""
    for g in groups:
        a = _first_array(g)
        if a is not None:
            return a
    interp = _current.get().interp
    while interp is not None:
        src = getattr(interp, "device_source", None)
        if src is not None:
            return src
        interp = interp.parent
    return None


def _arrays(leaves, like):
    """Python numbers among ``leaves`` made 0-d arrays (NumPy's dtypes) beside ``like``."""
    return [_to_array(x, like=like) if type(x) in _SCALAR_DTYPES else x for x in leaves]


_NUMPY_SCALARS = frozenset(t for t in _np.sctypeDict.values() if issubclass(t, _np.generic))


def _results(leaves, like, inputs, kept=()):
    """The leaves an eager loop returns: :func:`_arrays`'s, and NumPy scalars made 0-d arrays
    of their dtype (NumPy's operators give scalars for 0-d results: ``c + xs[i]``), as under
    ``jit``, except a leaf that is one of ``inputs`` (the initial value's leaves), which jit
    too returns as given. The Python numbers at the indices ``kept`` (carries no step
    changed, see :func:`_unchanged_numbers`) stay numbers: weakly typed, as JAX's."""
    out = [x if i in kept else _to_array(x, like=like) if type(x) in _SCALAR_DTYPES else x
           for i, x in enumerate(leaves)] if kept else _arrays(leaves, like)
    for i, x in enumerate(out):
        if type(x) in _NUMPY_SCALARS and not any(x is v for v in inputs):
            out[i] = _np.asarray(x)
    return out


def _no_numpy_scalars(out, operands):
    """A concrete ``cond``'s or ``switch``'s result with its NumPy scalars made 0-d arrays,
    as under ``jit`` (a leaf among ``operands`` as given, as jit returns it)."""
    t = type(out)
    if t in _NUMPY_SCALARS:
        return out if any(out is v for v in operands) else _np.asarray(out)
    if t not in _CONTAINERS:  # (an array, tracer or Python number: nothing to do)
        return out
    leaves, tree = tree_flatten(out)
    if not any(type(x) in _NUMPY_SCALARS for x in leaves):
        return out
    inputs = tree_flatten(operands)[0]
    return tree_unflatten(tree, [_np.asarray(x) if type(x) in _NUMPY_SCALARS and not any(
        x is v for v in inputs) else x for x in leaves])


_CONTAINERS = (tuple, list, dict)


# A weakly typed carry (a Python number) by the kind of its aval's dtype, and the order in
# which numbers widen when a step returns another kind (0 then 0.5: a float, as in JAX).
_WEAK_TYPE = {"i": int, "f": float, "c": complex}
_WIDTH = {int: 0, float: 1, complex: 2}


# Which Python numbers may stand for a value of which kind of dtype (weak typing).
_FITS = {bool: "b", int: "iufc", float: "fc", complex: "c"}


def _same_number(x, y):
    """Whether ``x`` and ``y`` are one Python number (-0.0 is not 0.0; a nan is a nan)."""
    return type(x) is type(y) and (x is y or repr(x) == repr(y))


def _unchanged_numbers(leaves):
    """The Python numbers among a loop's initial ``leaves`` by index: a loop that no step
    changes keeps them weakly typed (JAX's weak types; a functrans Python number), eagerly
    and staged alike. :func:`_drop_changed` keeps the record."""
    return {i: x for i, x in enumerate(leaves) if type(x) in _SCALAR_DTYPES}


def _drop_changed(numbers, leaves):
    for i in [i for i, x in numbers.items() if not _same_number(leaves[i], x)]:
        del numbers[i]


def _check_carry(value, tree, avals, what, like, prev=None):
    """The leaves of a new carry and their abstract values, checked against the carry's
    structure, shapes and dtypes (``prev``: the previous carry, for a quick check first). A
    Python number takes the carry's dtype where it fits; where the carry holds a Python
    number (a weak aval), an array of shape () whose dtype it fits takes its place."""
    leaves, t = tree_flatten(value)
    if t != tree:
        raise TypeError(f"{what} must return a value of the carry's structure, {tree}; got "
                        f"{t}{_where_differ(tree, t, ('the carry', 'the value'))}.")
    if prev is not None:  # the common case first: the previous carry's types again
        for x, p in zip(leaves, prev):
            if type(x) is not type(p) or (type(x) not in _SCALAR_DTYPES and (
                    x.dtype != p.dtype or x.shape != p.shape)):
                break
        else:
            return leaves, avals
    out, out_avals = [], []
    for i, (x, a) in enumerate(zip(leaves, avals)):
        if type(x) in _SCALAR_DTYPES:
            if a.weak_type and type(x) in _WIDTH:
                kind = _WEAK_TYPE[a.dtype.kind]
                if _WIDTH[type(x)] <= _WIDTH[kind]:  # stays a number of the carry's kind
                    out.append(kind(x))
                    out_avals.append(a)
                    continue
                # A wider kind (an int carry given a float): a strong array of that kind's
                # default dtype, as JAX promotes a weak carry (and as staged: _weak_carry).
                x = _to_array(x, like=like if like is not None else _loop_like(prev or ()))
                out.append(x)
                out_avals.append(get_aval(x))
                continue
            if a.shape != () or a.dtype.kind not in _FITS[type(x)]:
                raise TypeError(f"{what}: {_leaf_name(value, i)} of the carry is "
                                f"{a.str_short()}, but the function returned the Python "
                                f"{type(x).__name__} {x!r}.")
            x = _to_array(x, a.dtype, like if like is not None else _loop_like(prev or ()))
        elif _static(x):
            raise TypeError(f"{what}: {_leaf_name(value, i)} of the carry is {a.str_short()}, "
                            f"but the function returned a {type(x).__name__}.")
        else:
            b = get_aval(x)
            if a.weak_type and b.shape == () and b.dtype.kind in _FITS[_WEAK_TYPE[a.dtype.kind]]:
                a = b
            elif b.shape != a.shape or b.dtype is not a.dtype:
                raise TypeError(
                    f"{what} must keep the carry's shapes and dtypes: {_leaf_name(value, i)} is "
                    f"{a.str_short()} in the carry, {b.str_short()} as returned. Give the "
                    f"initial value the shape and dtype the loop produces (for example "
                    f"functrans.numpy.asarray(0.0, dtype=functrans.numpy.float32)), or cast "
                    f"in the function (functrans.numpy.astype).")
        out.append(x)
        out_avals.append(a)
    return out, out_avals


def _output_leaves(value, what, like):
    """The leaves of a branch's or a step's output: arrays, Python numbers made arrays."""
    leaves, tree = tree_flatten(value)
    out = []
    for i, x in enumerate(leaves):
        if type(x) in _SCALAR_DTYPES:
            x = _to_array(x, like=like)
        elif _static(x):
            raise TypeError(f"{what}: output leaf {i} is a {type(x).__name__}; the function "
                            f"must return arrays and Python numbers only.")
        out.append(x)
    return out, tree


def _stage_flat(fun, leaves, name, what, like=None, lift=False):
    """Stage ``fun(*leaves)`` (it returns a flat list): ``(graph, captured)``; the graph's
    inputs are the leaves, then what ``fun`` closes over (``captured``). ``lift``: operations
    on closed-over tracers are in the graph too (for code that may not run: a branch, a
    loop body that may run zero times), rather than done once before it."""
    leaves = list(leaves)
    in_tree = tree_flatten((tuple(leaves), {}))[1]
    graph, captured, _ = _stage(fun, leaves, in_tree, name, what, like=like, lift=lift)
    pruned = prune(graph)
    primal = graph.__dict__.get("primal")
    if primal is not None:
        # (its custom functions' equations in place of their calls, for _program: what runs
        # with no transform around, as jit's primal graph)
        pruned.primal = prune(primal)
    return pruned, captured


def _program(graph, args, defer=False):
    """A function evaluating ``graph`` on arguments like ``args`` with no transform around:
    compiled to Python as ``jit`` does (once per combination of the arguments' types), or
    the graph itself where ``jit`` would evaluate it equation by equation. A graph calling
    custom functions runs its ``primal`` form (their equations inline, see _stage_flat).
    ``defer``: the graph itself the first time, compiled from the second (as jit's own
    graph: compiling costs ~20 us an equation, more than evaluating a graph once)."""
    graph = graph.__dict__.get("primal", graph)
    programs = graph.__dict__.get("_programs")
    if programs is None:
        programs = graph._programs = {}
    key = tuple([type(a) for a in args])
    program = programs.get(key)
    if program is None or program is _FIRST_RUN:
        if defer and program is None:
            programs[key] = _FIRST_RUN
            return graph
        from .compiling import _NOT_COMPILED, _compile
        program = _compile(graph, args, _last_uses(graph))
        programs[key] = program = graph if program is _NOT_COMPILED else program
    return program


_FIRST_RUN = object()  # a graph's program not compiled yet: evaluated once (see _program)


def _run(graph, args, defer=False):
    """``graph(*args)``, through its compiled program where no transform is around
    (``defer``: see _program)."""
    if type(_current.get().interp) is not EvalInterpreter:
        return graph(*args)
    return _program(graph, args, defer)(*args)


def _out_avals(graph):
    return [o.aval if type(o) is Var else get_aval(o) for o in graph.outputs]


def _jvp_of(f, args, diff, d_tans):
    """``(outputs, output tangents)`` of the flat ``f`` at ``args``, differentiated in the
    arguments at positions ``diff`` only (with tangents ``d_tans``)."""
    from .api import jvp
    outs, tans = jvp(_restricted(f, args, diff), tuple(args[i] for i in diff), tuple(d_tans))
    return list(outs), list(tans)


def _floats(avals):
    return [j for j, a in enumerate(avals) if _dt.is_float(a.dtype)]


def _nones(n):
    return [None] * n


def _expand(mask, ndim):
    """A batch's mask (shape ``(B,)``) made to broadcast against values of ``ndim`` axes."""
    return mask if ndim <= 1 else fnp.reshape(mask, (mask.shape[0],) + (1,) * (ndim - 1))


# -- cond and switch ---------------------------------------------------------------------------


_NO_OPERAND = object()


def cond(pred, true_fun, false_fun, *operands, operand=_NO_OPERAND):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)`` (``jax.lax.cond``).

    ``pred`` is a scalar: a boolean, or a number (nonzero is true). Where it is concrete (no
    transform, or the eager ``grad``/``jvp``/``vjp``/``hessian``), this is Python's ``if``: only
    the chosen function runs. Where it is abstract — under ``jit``/``make_graph`` or when it
    differs between members under ``vmap`` — both functions are staged and must return the
    same tree structure, shapes and dtypes (a Python number takes the other branch's dtype);
    under ``vmap`` each member gets the branch its predicate chose, and the other branch is
    not evaluated on its values (so it cannot put a nan into the values or the derivatives)
    except under ``jit``, where every branch runs on every member and the results are
    selected, the rows of the members that do not take a branch adding nothing to the
    derivatives (unless the branches reduce over the batch: then every row counts, see
    docs/coming-from-jax.md). Staged, with the predicate on a device (a CUDA tensor, a CuPy
    array), both functions run and the result is selected, with no host read of the
    predicate, where both are small and can only compute (elementwise functions, reductions,
    reshapes...: see "Host reads on a GPU" in docs/backends.md); otherwise the predicate is
    read and only the chosen one runs. JAX's older spelling ``cond(pred, true_fun,
    false_fun, operand=x)`` passes ``x`` as the one operand.

    Example:
        >>> import functrans as ft, functrans.numpy as fnp, functrans.lax as lax
        >>> def soft_relu(x):  # log(1 + e^x), without overflow for large x
        ...     return lax.cond(x > 0, lambda x: x + fnp.log1p(fnp.exp(-x)),
        ...                     lambda x: fnp.log1p(fnp.exp(x)), x)
        >>> ft.jit(ft.grad(soft_relu))(fnp.asarray(-1.0)), ft.grad(soft_relu)(800.0)
        (array(0.26894142), array(1.))
    """
    if not callable(true_fun) or not callable(false_fun):
        raise TypeError("cond(pred, true_fun, false_fun, *operands): true_fun and false_fun "
                        "must be functions.")
    if operand is not _NO_OPERAND:
        if operands:
            raise TypeError("cond: pass the operands either positionally or as operand=, "
                            "not both.")
        operands = (operand,)
    _check_scalar(pred, "cond's predicate")
    c = _concrete(pred)
    if c is not None:
        if _JET_STEPPING and len(ks := _sides(pred, c, _truth)) > 1:
            p = pred if pred.dtype == fnp.bool else fnp.not_equal(pred, 0)
            return _merged_sides(fnp.astype(p, fnp.int32), ks,
                                 [(false_fun, true_fun)[k](*operands) for k in ks], "cond")
        return _no_numpy_scalars((true_fun if bool(c) else false_fun)(*operands), operands)
    p = pred if pred.dtype == fnp.bool else fnp.not_equal(pred, 0)
    return _switch(fnp.astype(p, fnp.int32), (false_fun, true_fun), operands, "cond")


def _truth(c):
    return int(bool(c))


def switch(index, branches, *operands):
    """``branches[index](*operands)`` (``jax.lax.switch``); ``index`` is an integer scalar,
    clamped to ``[0, len(branches) - 1]``. Concrete or abstract as for ``cond``."""
    try:
        branches = tuple(branches)
    except TypeError:
        raise TypeError(f"switch(index, branches, *operands): branches must be a sequence of "
                        f"functions; got {type(branches).__name__}.") from None
    if not branches:
        raise ValueError("switch needs at least one branch; got an empty sequence.")
    if not all(callable(b) for b in branches):
        raise TypeError("switch(index, branches, *operands): every branch must be a function.")
    _check_scalar(index, "switch's index")
    kind = "f" if type(index) is float else (
        "i" if type(index) in _SCALAR_DTYPES else get_aval(index).dtype.kind)
    if kind not in "iub":
        got = "a float" if type(index) is float else get_aval(index).dtype.name
        raise TypeError(f"switch's index must be an integer; got {got}.")
    n = len(branches)
    c = _concrete(index)
    if c is not None:
        if _JET_STEPPING and len(
                ks := _sides(index, c, lambda v: min(max(int(v), 0), n - 1))) > 1:
            return _merged_sides(fnp.clip(index, 0, n - 1), ks,
                                 [branches[k](*operands) for k in ks], "switch")
        return _no_numpy_scalars(branches[min(max(int(c), 0), n - 1)](*operands), operands)
    return _switch(fnp.clip(index, 0, n - 1), branches, operands, "switch")


def _switch(index, branches, operands, what):
    """``branches[index](*operands)`` for an index already in range: called directly where the
    index is concrete, else staged and bound as one ``cond``."""
    c = _concrete(index)
    if c is not None:
        if _JET_STEPPING and len(ks := _sides(index, c, int)) > 1:
            return _merged_sides(index, ks, [branches[k](*operands) for k in ks], what)
        return branches[int(c)](*operands)
    leaves, in_tree = tree_flatten((tuple(operands), {}))
    arrays = [x for x in leaves if not _static(x)]
    like = arrays[0] if arrays else index
    graphs, captured, trees = [], [], []
    for k, branch in enumerate(branches):
        box = []

        def flat(*args, branch=branch, box=box):
            out, tree = tree_flatten(branch(*args))
            box.append(tree)
            for i, x in enumerate(out):
                if type(x) not in _SCALAR_DTYPES and _static(x):
                    raise TypeError(f"{what}: output leaf {i} of {_bname(what, k)} is a "
                                    f"{type(x).__name__}; branches return arrays and numbers.")
            return out
        name = getattr(branch, "__name__", f"branch {k}")
        g, caps, _ = _stage(flat, leaves, in_tree, name, what, like=like, lift=True)
        g = prune(g)
        graphs.append(g)
        captured.append(list(caps))
        trees.append(box[0])
    for k in range(1, len(graphs)):
        if trees[k] != trees[0]:
            where = _where_differ(trees[0], trees[k], (_bname(what, 0), _bname(what, k)))
            raise TypeError(f"{what}: the branches must return the same tree structure; "
                            f"{_bname(what, 0)} returns {trees[0]}, {_bname(what, k)} returns "
                            f"{trees[k]}{where}.")
    return tree_unflatten(trees[0], _bind_staged(index, arrays, graphs, captured, what, like))


def _bind_staged(index, arrays, graphs, captured, what, like):
    """The cond of the staged branches ``graphs`` (inputs: the operands ``arrays``, then
    each its ``captured`` values) on ``index``: its flat outputs."""
    _unify_outputs(graphs, captured, what, like)
    spans, start = [], 0
    for caps in captured:
        spans.append((start, start + len(caps)))
        start += len(caps)
    return _bind_cond(index, *arrays, *[c for caps in captured for c in caps],
                      branches=tuple(graphs), n_ops=len(arrays), spans=tuple(spans))


def _switch_sparse(index, branches, operands, zeros_like_at, what):
    """``branches[index](*operands)`` for branches that return flat lists of arrays with
    None for symbolic zeros (a transposed cond's cotangents): entry j is None where every
    branch gives None (staged, the cond has no output there), else the chosen branch's
    value, a branch that gives None there returning zeros like its operand
    ``zeros_like_at(j)`` (a position) instead. The operands are arrays (or tracers)."""
    c = _concrete(index)
    if c is not None and not (_JET_STEPPING and len(_sides(index, c, int)) > 1):
        return list(branches[int(c)](*operands))
    if c is not None:  # (sides merged under jet: every entry dense, as _switch needs)
        def dense(branch):
            def f(*args):
                return [fnp.zeros_like(args[zeros_like_at(j)]) if o is None else o
                        for j, o in enumerate(branch(*args))]
            return f
        return _switch(index, [dense(b) for b in branches], operands, what)
    leaves = list(operands)
    in_tree = tree_flatten((tuple(leaves), {}))[1]
    like = leaves[0] if leaves else index
    graphs, captured, masks = [], [], []
    for k, branch in enumerate(branches):
        box = []

        def flat(*args, branch=branch, box=box):
            out = branch(*args)
            box.append([o is not None for o in out])
            return [o for o in out if o is not None]
        g, caps, _ = _stage(flat, leaves, in_tree, f"branch {k}", what, like=like, lift=True)
        graphs.append(prune(g))
        captured.append(list(caps))
        masks.append(box[0])
    n_out = len(masks[0])
    union = [any(m[j] for m in masks) for j in range(n_out)]
    if not any(union):
        return _nones(n_out)
    # Zeros where a branch has none: a full_like of the operand (what zeros_like stages)
    # appended to the branch's graph, whose inputs are the operands, then its captured
    # values, rather than the graph staged again (session 54: ~0.1-0.2 ms a branch at jit's
    # first call). (Not a broadcast 0-d zero, as a forward cond's slots are, see
    # _cond_partial: that would save the fill where the cotangent is summed with another,
    # but where it is a result, jvp's and vjp's primal outputs of a jitted gradient, the
    # caller would get a read-only view; jit copies its results out, they do not. jit makes
    # those its graph only adds to others broadcasts: summed_zeros_as_broadcasts.)
    for k, mask in enumerate(masks):
        if mask == union:
            continue
        g = graphs[k]
        got, eqns, outs = iter(g.outputs), list(g.eqns), []
        for j in range(n_out):
            if mask[j]:
                outs.append(next(got))
            elif union[j]:
                x = g.in_vars[zeros_like_at(j)]
                outs.append(Var(x.aval))
                eqns.append((_full_like_p, (x,), {"fill_value": 0}, outs[-1]))
        graphs[k] = Graph(g.in_vars, eqns, outs)
    outs = iter(_bind_staged(index, leaves, graphs, captured, what, like))
    return [next(outs) if u else None for u in union]


# The sums that may read a cond's output of zeros as a read-only broadcast (see below): each
# computes a new array from its operands (mul_add from two operands on: a product at least).
_SUMS = frozenset({"add", "add_any", "sub", "mul_add"})


def summed_zeros_as_broadcasts(graph, like):
    """``graph`` (jit's, see compiling._Entry) with the zeros that a cond's branch returns as
    a ``full_like(x, 0)`` of 64 KB or more (the operand whose cotangent only other branches
    give, see _switch_sparse) made a broadcast 0-d zero, where the graph only adds that
    output of the cond to others: the sum is a new array whichever operand is a view, so
    no caller sees the read-only view (the cond's impl returns it as it is, see _fresh's
    fills), and no pass fills an array of zeros at every call. A gradient of an operand read
    in one branch and outside the cond (jit(grad) of ``cond(...)(x) + g(x)``): the backward
    pass's mul_add of the two. Where the output leaves the graph, or meets anything else,
    the full_like stays (a result must be a writable array of its own: jit copies out what
    a graph returns, but jvp, vjp and vmap of a jitted function take a transform's values
    as they are). ``like``: a NumPy array (only NumPy's impl keeps the view), or None (the
    graph as it is)."""
    if type(like) is not _np.ndarray:
        return graph
    big = {o for e in graph.eqns if e[0] is cond_p for o in e[3] if buffers._big(o.aval)}
    if not big:
        return graph
    from .api import _param_vars
    summed, other = set(), big.intersection(graph.outputs)
    for prim, inputs, params, _ in graph.eqns:
        into = summed if prim.name in _SUMS and (prim.name != "mul_add"
                                                  or len(inputs) > 1) else other
        for a in inputs:
            if type(a) is Var and a in big:
                into.add(a)
        if params and prim is not cond_p:  # (a cond's: graphs and numbers)
            other.update(_param_vars(params))
    summed -= other
    if not summed:
        return graph
    backend = _by_type_get(_np.ndarray)
    zeros, eqns, changed = {}, [], False
    for eqn in graph.eqns:
        prim, inputs, params, outs = eqn
        if prim is cond_p:
            js = [j for j, o in enumerate(outs) if o in summed]
            if js:
                eqn = _with_broadcast_zeros(eqn, js, zeros, backend)
                changed = changed or eqn is not graph.eqns[len(eqns)]
        eqns.append(eqn)
    return Graph(graph.in_vars, eqns, graph.outputs) if changed else graph


def _with_broadcast_zeros(eqn, js, zeros, backend):
    """The cond equation ``eqn`` with its branches' ``full_like(x, 0)`` outputs at ``js``
    a broadcast of a 0-d zero (``zeros``: one per dtype, shared), passed in as one more
    captured value of each branch that has one (see summed_zeros_as_broadcasts)."""
    _, inputs, params, outs = eqn
    branches, n_ops, spans = params["branches"], params["n_ops"], params["spans"]
    new_branches, caps, changed = [], [], False
    for g, (s, e) in zip(branches, spans):
        made = {o: (inputs_, eq_params) for prim, inputs_, eq_params, o in g.eqns
                if prim is _full_like_p}
        in_vars, eqns, outputs, extra, zero_var = list(g.in_vars), list(g.eqns), \
            list(g.outputs), [], {}
        for j in js:
            o = outputs[j]
            m = made.get(o) if type(o) is Var else None
            if m is None or m[1].get("fill_value") != 0 or m[1].get("dtype") is not None:
                continue
            d = o.aval.dtype
            if d not in zeros:
                zeros[d] = _np.zeros((), dtype=backend.native_dtype(d))
            if d not in zero_var:
                zero_var[d] = Var(get_aval(zeros[d]))
                in_vars.append(zero_var[d])
                extra.append(zeros[d])
            outputs[j] = Var(o.aval)
            eqns.append((_broadcast_p, (zero_var[d],), {"shape": o.aval.shape, "dims": ()},
                         outputs[j]))
        if extra:
            changed = True
            g = prune(Graph(in_vars, eqns, outputs))
        new_branches.append(g)
        caps.append([*inputs[1 + n_ops + s:1 + n_ops + e], *extra])
    if not changed:
        return eqn
    new_spans, start = [], 0
    for c in caps:
        new_spans.append((start, start + len(c)))
        start += len(c)
    return (cond_p, (*inputs[:1 + n_ops], *[c for cs in caps for c in cs]),
            {**params, "branches": tuple(new_branches), "spans": tuple(new_spans)}, outs)


def _bind_cond(index, *args, branches, n_ops, spans):
    """``cond_p.bind``, except where some operands are tangents recorded for a backward pass
    (a custom JVP rule's ``cond`` on its tangents, or a forward-mode JVP ``cond`` whose
    tangents are recorded under an enclosing vmap): the ``cond`` is then linear in them and
    is recorded by its reverse-mode JVP at zero in their place (see _cond_reverse), its
    outputs that depend on them from the linear ``cond_lin``, the others from the forward
    ``cond``, which computes only those (and the residuals)."""
    rec = [i for i, a in enumerate(args) if _recorded((a,))]
    if not rec:
        return cond_p.bind(index, *args, branches=branches, n_ops=n_ops, spans=spans)
    n_out = len(branches[0].outputs)
    dep = _tangent_outputs(cond_p, (index, *args),
                           dict(branches=branches, n_ops=n_ops, spans=spans),
                           {1 + i for i in rec}, n_out)
    # The recorded operands replaced by zeros: the point of a map linear in them.
    rest = list(args)
    for i in rec:
        rest[i] = fnp.zeros_like(args[i])
    float_dep = [j for j in _floats(_out_avals(branches[0])) if j in dep]
    keep = [j for j in range(n_out) if j not in float_dep]
    return _cond_reverse(index, rest, rec, [args[i] for i in rec], branches, n_ops, spans,
                         keep, float_dep)


def _tangent_outputs(prim, args, params, rec, n_out):
    """The outputs of the equation ``prim(*args, **params)`` that depend on its operands at
    positions ``rec`` (tangents being recorded), after checking (as ``linear_transpose``
    does) that it is linear in them: a tangent map that is not is an error here as anywhere
    else, not silently linearized."""
    from .api import _INNER_LINEAR
    from .errors import MissingRuleError
    hits = [i in rec for i in range(len(args))]
    like = args[min(rec)]
    try:
        dep = _INNER_LINEAR[prim.name](args, params, hits, [True] * n_out,
                                       f"a {prim.name} applied to tangents", like)
    except TypeError as e:
        raise MissingRuleError(
            f"Reverse mode needs the tangent map linear in the tangents (a custom_jvp rule "
            f"may multiply them by values computed from the primals, add and select them), "
            f"and {str(e).split(' (use vjp')[0]}.") from None
    return {j for j, d in enumerate(dep) if d}


def _bname(what, k):
    """Branch ``k`` as the user wrote it: a cond's branches are (false_fun, true_fun)."""
    return ("false_fun", "true_fun")[k] if what == "cond" else f"branch {k}"


def _unify_outputs(graphs, captured, what, like):
    """Check that the branches' outputs agree in shape and dtype; a Python number output
    becomes an array of the dtype the other branches give there (or NumPy's for it), passed
    in as one more captured value."""
    n_out = len(graphs[0].outputs)
    for j in range(n_out):
        outs = [g.outputs[j] for g in graphs]
        typed = [(k, o.aval) for k, o in enumerate(outs) if type(o) is Var]
        if typed:
            k0, a0 = typed[0]
            for k, a in typed[1:]:
                if a.shape != a0.shape or a.dtype is not a0.dtype:
                    raise TypeError(
                        f"{what}: the branches must return the same shapes and dtypes; output "
                        f"leaf {j} is {a0.str_short()} in {_bname(what, k0)} and "
                        f"{a.str_short()} in {_bname(what, k)}. Cast one of them "
                        f"(functrans.numpy.astype).")
            dtype = a0.dtype
        else:
            dtype = None
        numbers = [o for o in outs if type(o) is not Var]
        if dtype is None:
            dtype = _to_array(numbers, like=like).dtype if len(numbers) > 1 else None
        for k, (g, o) in enumerate(zip(graphs, outs)):
            if type(o) is Var:
                continue
            if typed and (a0.shape != () or dtype.kind not in _FITS[type(o)]):
                raise TypeError(f"{what}: output leaf {j} is {a0.str_short()} in "
                                f"{_bname(what, k0)} but the Python {type(o).__name__} {o!r} in "
                                f"{_bname(what, k)}.")
            value = _to_array(o, dtype, like) if dtype is not None else _to_array(o, like=like)
            v = Var(get_aval(value))
            g.in_vars.append(v)
            g.outputs[j] = v
            captured[k].append(value)


def _branch_fn(branches, n_ops, spans, k):
    """Branch ``k`` as a function of all of a ``cond``'s operands after the index."""
    g, (s, e) = branches[k], spans[k]
    return lambda *args: g(*args[:n_ops], *args[n_ops + s:n_ops + e])


def _branch_fns(branches, n_ops, spans):
    return [_branch_fn(branches, n_ops, spans, k) for k in range(len(branches))]


def _cond_impl(backend, index, *args, branches, n_ops, spans):
    if (len(branches) > 1 and not isinstance(index, _HOST_INDEX) and _selectable(branches)
            and not _on_host(index)):
        return _cond_by_select(backend, index, args, branches, n_ops, spans)
    k = int(index)
    s, e = spans[k]
    ins = [*args[:n_ops], *args[n_ops + s:n_ops + e]]
    return _fresh(list(_run(branches[k], ins, True)), ins, frozenset(), True)


_HOST_INDEX = (int, _np.ndarray, _np.generic)  # (read at no cost: int(index))


def _on_host(x):
    from .primitives.special import _on_host
    return _on_host(x)


# A staged cond's index on a device (a CUDA tensor, a CuPy array, array-api-strict's device1)
# is not read on the host (a synchronisation, which also stalls the queue of work the host
# runs ahead) where every branch is small and can only compute: each branch runs and the
# outputs are selected by the index (the same values, bit for bit). Such branches hold only
# the primitives below and the elementwise functions of the namespace (no effect, no error
# that depends on values such as a gather's index bounds or a singular matrix, no
# data-dependent loop), nested conds of the same kind, and together at most
# _SELECT_MAX_EQNS equations and _SELECT_MAX_ELEMENTS elements of results: beyond that,
# computing every branch costs more launches and memory traffic than the one read.
_SELECT_SAFE = frozenset({
    "abs", "broadcast_in_dim", "concat", "convert_element_type", "eq", "ne", "lt", "le",
    "gt", "ge", "full_like", "iota", "isfinite", "isinf", "isnan", "signbit", "real", "imag",
    "reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and", "reduce_or",
    "reshape", "select", "slice", "stop_gradient", "transpose", "flip", "mul_add", "mul_sz",
    "relu", "sin_cos", "taken_rows", "taken_fill", "row_mask", "argmax", "argmin", "cumsum",
    "name", "tanh_slope"})
_SELECT_MAX_EQNS = 32
_SELECT_MAX_ELEMENTS = 1 << 22


def _selectable(branches):
    """Whether a staged cond with these branches may run them all and select (above); worked
    out once per branch tuple and kept on its first graph."""
    first = branches[0]
    ok = first.__dict__.get("_selectable")
    if ok is None:
        budget = [_SELECT_MAX_EQNS, _SELECT_MAX_ELEMENTS]
        ok = all(_select_safe(g, budget) for g in branches)
        first._selectable = ok
    return ok


def _select_safe(graph, budget):
    for prim, _inputs, params, outputs in graph.eqns:
        if prim is cond_p:
            if not all(_select_safe(g, budget) for g in params["branches"]):
                return False
        elif not (prim.name in _SELECT_SAFE
                  or (prim.same_aval and prim.namespace_impl is not None and not params)):
            return False
        budget[0] -= 1
        for o in (outputs if type(outputs) is list else (outputs,)):
            budget[1] -= math.prod(o.aval.shape)
        if budget[0] < 0 or budget[1] < 0:
            return False
    return True


def _cond_by_select(backend, index, args, branches, n_ops, spans):
    """Every branch of a staged cond run, each output then chosen by the index (read-free)."""
    xp = backend.xp
    outs = None
    for k in reversed(range(len(branches))):  # (the index is in range: switch clips it)
        s, e = spans[k]
        ins = [*args[:n_ops], *args[n_ops + s:n_ops + e]]
        res = list(_run(branches[k], ins, True))
        if outs is None:
            outs = _fresh(res, ins, frozenset())
        else:
            pick = index == k
            outs = [xp.where(pick, r, o) for r, o in zip(res, outs)]
    return outs


def _cond_jvp(primals, tangents, branches, n_ops, spans):
    index, args = primals[0], list(primals[1:])
    tans = tangents[1:]
    diff = [i for i, t in enumerate(tans) if t is not None]
    d_tans = [tans[i] for i in diff]
    avals = _out_avals(branches[0])
    out_float = _floats(avals)
    fns = _branch_fns(branches, n_ops, spans)
    k = _concrete(index)
    if k is not None:  # the chosen branch's own JVP
        if not _JET_STEPPING or len(ks := _sides(index, k, int)) == 1:
            outs, touts = _jvp_of(fns[int(k)], args, diff, d_tans)
            return outs, [touts[j] if j in out_float else None for j in range(len(outs))]
        # (an index that changes right after t = 0 under jet: both branches' JVPs, merged)
        res = []
        for kk in ks:
            outs, touts = _jvp_of(fns[kk], args, diff, d_tans)
            res.append(list(outs) + [fnp.zeros_like(outs[j]) if touts[j] is None
                                     else touts[j] for j in out_float])
        res = _merged_sides(index, ks, res, "cond")
        tangents_out = _nones(len(avals))
        for j, t in zip(out_float, res[len(avals):]):
            tangents_out[j] = t
        return res[:len(avals)], tangents_out
    n = len(args)
    if not _recorded(d_tans):  # forward mode: a cond over the branches' JVPs
        def jvp_branch(f):
            def g(*xs):
                outs, touts = _jvp_of(f, xs[:n], diff, xs[n:])
                return outs + [touts[j] for j in out_float]
            return g
        res = _switch(index, [jvp_branch(f) for f in fns], (*args, *d_tans), "cond")
        tangents_out = _nones(len(avals))
        for j, t in zip(out_float, res[len(avals):]):
            tangents_out[j] = t
        return res[:len(avals)], tangents_out
    # Reverse mode: a cond of the branches linearized, which computes the outputs and the
    # residuals of the chosen branch's tangent map, and the linear cond_lin of those maps.
    outs = _cond_reverse(index, args, diff, d_tans, branches, n_ops, spans,
                         range(len(avals)), out_float)
    tangents_out = _nones(len(avals))
    for j in out_float:
        tangents_out[j], outs[j] = outs[j]
    return outs, tangents_out


def _cond_reverse(index, args, diff, d_tans, branches, n_ops, spans, keep, out_float):
    """A cond's reverse-mode JVP (``d_tans``, recorded, the tangents of the operands at
    positions ``diff``): the outputs at ``keep`` from a forward cond and the tangents of the
    outputs at ``out_float`` from the linear ``cond_lin``. Returns one entry per output: the
    value, the tangent, or (the tangent, the value) where both are asked for.

    Staged with outputs to keep, the forward cond is one of the branches linearized
    (_cond_partial), which also returns the residuals that cond_lin reads. Otherwise — no
    output wanted (a cond on tangents alone, such as svd's: _bind_cond), or eagerly under
    vmap (branches staged anew at each call would be linearized anew) — cond_lin's
    residuals are the inputs, and it runs the chosen branch again: a cond call and the
    residuals' copies would cost more there than they save."""
    n_out = len(branches[0].outputs)
    part, outs, res = None, _nones(n_out), []
    if keep and _staging():
        part = _cond_partial(branches, n_ops, spans, tuple(diff), tuple(keep),
                             _loop_like(args, (index,)))
        operands = list(args[:n_ops])
        for (s, e), extra in zip(spans, part.extra):
            operands += args[n_ops + s:n_ops + e]
            operands += extra
        res = cond_p.bind(index, *operands, branches=part.fwd, n_ops=n_ops, spans=part.spans)
        for j, o in zip(keep, res):
            outs[j] = o
        res = [*res[len(keep):], *[outs[j] for j in part.out_res],
               *[x for extra in part.rextra for x in extra]]
    elif keep:
        value = cond_p.bind(index, *args, branches=branches, n_ops=n_ops, spans=spans)
        for j in keep:
            outs[j] = value[j]
    lin = cond_lin_p.bind(*d_tans, index, *res, *args, branches=branches, n_ops=n_ops,
                          spans=spans, diff=tuple(diff), out_float=tuple(out_float),
                          part=part)
    for j, t in zip(out_float, lin):
        outs[j] = t if outs[j] is None else (t, outs[j])
    return outs


def _uses_axis(graphs, name, seen=None):
    """Whether the staged ``graphs`` may apply a collective over the vmap axis ``name``
    (looking into the graphs in their equations' parameters; a Python function there, a
    custom rule's, may: it counts as a use)."""
    from .graph import Graph
    seen = set() if seen is None else seen
    for g in graphs:
        if id(g) in seen:
            continue
        seen.add(id(g))
        for prim, _, params, _ in g.eqns:
            if prim.collective and name in params.get("axis_name", ()):
                return True
            for v in params.values():
                subs = v if isinstance(v, (tuple, list)) else (v,)
                for sub in subs:
                    if isinstance(sub, Graph):
                        if _uses_axis((sub,), name, seen):
                            return True
                    elif callable(sub) and not isinstance(sub, type):
                        return True
    return False


def _path_name(batch_interp, graphs):
    """The vmap's name where the graphs use its collectives (a batch that must then run
    whole), else None: a named batch whose branches do not reduce over it takes the same
    paths as an unnamed one (each member only its own branch, so that a branch's nan for
    the members that do not take it cannot reach their derivatives)."""
    name = batch_interp.axis_name
    return name if name is not None and _uses_axis(graphs, name) else None


def _cond_batch(vals, dims, branches, n_ops, spans, batch_interp):
    index, args = vals[0], list(vals[1:])
    in_axes = tuple(dims[1:])
    size = batch_size(vals, dims)
    fns = _branch_fns(branches, n_ops, spans)
    n_out = len(branches[0].outputs)
    name = batch_interp.axis_name  # (collectives in the branches see the same members)
    whole = _path_name(batch_interp, branches)
    from .batching import vmap
    if dims[0] is None:  # one branch for the whole batch
        batched = [vmap(f, in_axes=in_axes, axis_size=size, axis_name=name) for f in fns]
        return _switch(index, batched, args, "cond"), [0] * n_out
    # A batch whose branches reduce over it runs whole (every member in every branch).
    chosen = _concrete(index) if whole is None else None
    if chosen is not None and _JET_STEPPING and isinstance(index, Tracer):
        from .taylor import decision_values
        if any(not bool(fnp.all(v == chosen)) for v in decision_values(index)):
            # Members whose branch changes right after t = 0 under jet: each member's cond
            # bound on its own, so that jet's rule sees its index (value and value after)
            return _member_by_member(cond_p, vals, dims, size,
                                     dict(branches=branches, n_ops=n_ops, spans=spans))
    if chosen is not None:
        return _cond_by_groups(chosen, fns, args, in_axes, n_out), [0] * n_out
    if size and not _staging() and whole is None:
        # vmap inside vmap: the index is concrete to the outer one
        return _member_by_member(cond_p, vals, dims, size,
                                 dict(branches=branches, n_ops=n_ops, spans=spans))
    # Abstract: every branch on the whole batch, then each member's result chosen. A branch
    # sees the floating operands of the members that do not take it through stop_gradient
    # (JAX's select-then-stop_gradient), so that its nan or inf there cannot reach the
    # derivatives (0 * inf in its transpose); under a checkify, see _taken_rows.
    checking = whole is None and _checkify_below()
    results = []
    for k, f in enumerate(fns):
        pick = index == k
        ops = _taken_rows(args, in_axes, pick, size, checking, whole is not None)

        def run(*a, f=f):
            return list(vmap(f, in_axes=in_axes, axis_size=size, axis_name=name)(*a))
        if checking:
            # the branch runs only where a member takes it (its checks would otherwise
            # report the members that do not: a nan of log in the branch not taken)
            avals = _out_avals(branches[k])
            like = index

            def skip(*a, avals=avals, like=like):
                return [fnp.zeros_like(like, shape=(size, *v.shape), dtype=v.dtype)
                        for v in avals]
            results.append(_switch(fnp.astype(fnp.any(pick), fnp.int32), [skip, run], ops,
                                   "cond"))
        else:
            results.append(run(*ops))
    out = results[-1]
    for k in range(len(results) - 2, -1, -1):
        out = [fnp.where(_expand(index == k, a.ndim), a, o) for a, o in zip(results[k], out)]
    return out, [0] * n_out


def _checkify_below():
    """Whether a checkify runs beneath the current interpreter (its automatic checks see the
    values of a batch's members that take no part in a result)."""
    ck = sys.modules.get("functrans.experimental.checkify")
    return ck is not None and ck.checking_below()


def _taken_rows(args, in_axes, pick, size, checking, whole=False):
    """The operands of a branch run on every member of a batch, ``pick`` (shape ``(size,)``)
    marking the members that take it, made such that the members that do not take it add
    nothing to the derivatives (a nan or inf of the branch on their rows would, as 0 * inf in
    its transpose):

    - a batched floating operand has a zero tangent on their rows (JAX's
      ``where(mask, x, stop_gradient(x))``, without its forward cost: see taken_rows_p);
    - where an operand *not* batched (the same for every member: a closed-over parameter) is
      differentiated, its tangent reaches every row, and a nan coefficient on a row of a
      member that does not take the branch would reach it (0 * nan, summed over the rows):
      there the batched operands' rows of those members are a member's that takes the
      branch (the first), in the differentiated run only (rows whose results are dropped),
      and the unbatched operand's tangent is cut when no member takes the branch. (JAX
      broadcasts such operands to the batch first: a copy per member, and batched
      arithmetic on them, where this keeps them whole.)

    ``whole`` (a batch whose branches reduce over it, run whole): the operands unchanged.
    Every member's row then counts (a taking member's result reads the others' rows
    through the collective), and a derivative through them is a true one (central
    differences'; JAX's, which masks them as above, is not).

    Where ``checking`` (a checkify beneath), every batched operand of the others is replaced
    by a member's that takes it (the first) in the values too, so that each row the branch
    computes is one a member takes, and the checks see no failure of a row whose result is
    dropped."""
    if whole:
        return list(args)
    out = list(args)
    sel = []  # the operands given to the custom function: (position, batch axis)
    for i, (x, d) in enumerate(zip(args, in_axes)):
        # (not tangents recorded for a backward pass: the branch is linear in those, and
        # the masking rule there would have no transpose)
        floating = _dt.is_float(get_aval(x).dtype) and not _recorded((x,))
        if d is None:
            if floating and not checking and type(x) not in _SCALAR_DTYPES:
                sel.append((i, None))
            continue
        if checking:
            ndim = len(get_aval(x).shape)
            mask = fnp.reshape(pick, tuple(size if a == d else 1 for a in range(ndim)))
            # (the index in range: mode='clip', no look at it on the host)
            x = out[i] = fnp.where(mask, x, fnp.take(x, fnp.reshape(fnp.argmax(pick), (1,)),
                                                     axis=d, mode="clip"))
        if floating:
            sel.append((i, d))
    if not any(d is not None for _, d in sel):
        return out  # nothing batched to mask (or nothing floating)
    if any(d is None for _, d in sel):
        # the other batched operands too (integers), for their rows to be a taking member's
        have = {i for i, _ in sel}
        sel += [(i, d) for i, d in enumerate(in_axes) if d is not None and i not in have
                and not _recorded((out[i],))]
    dims = tuple(d for _, d in sel)
    masked = _taken_tangents(dims, pick, *[out[i] for i, _ in sel])
    for (i, _), x in zip(sel, masked):
        out[i] = x
    return out


# -- taken_rows: a batch's rows of the members that take a branch, for the derivatives ----------

# ``taken_rows(pick, *xs, dims)`` is ``xs`` themselves (no operation: the identity on values,
# whatever runs around it), whose JVP makes the members that ``pick`` (shape ``(*lead, n)``:
# ``n`` members, after the leading axes of an outer vmap, which every operand has first too)
# leaves out add nothing to the derivatives (see _taken_rows): the tangents of their rows
# (along ``dims``) are zero, and where an operand not batched (``dims`` None) has a tangent,
# the batched operands' rows of those members are a picked member's, and the unbatched
# tangents are cut where no member is picked. One primitive rather than a custom_jvp
# function, and its rule a few primitives of its own (one ``row_mask`` per tangent, one
# ``taken_fill`` for the batched operands where an unbatched one is differentiated):
# a custom rule's checks and trees, and the broadcasts and selects of ``where``, cost more
# than a loop's step itself in a staged batched while's backward pass.
taken_rows_p = primitive("taken_rows", multiple_results=True)
taken_rows_p.def_impl(lambda backend, pick, *xs, dims: list(xs))
taken_rows_p.def_abstract_eval(lambda pick, *avals, dims: list(avals))

# ``taken_fill(pick, *xs, dims)``: the batched ``xs`` with the rows (along ``dims``) of the
# members ``pick`` leaves out replaced by the first picked member's (where none is picked,
# member 0's), those rows constants to the derivatives (``where(pick, x,
# stop_gradient(x[first]))``, in one pass per operand).
taken_fill_p = primitive("taken_fill", multiple_results=True)


def _taken_fill_impl(b, pick, *xs, dims):
    xp = b.xp
    lead, n = len(pick.shape) - 1, pick.shape[-1]
    if not n:
        return [b.copy(x) for x in xs]
    first = xp.argmax(xp.astype(pick, xp.int8), axis=-1, keepdims=True)
    src = xp.where(pick, xp.arange(n, dtype=first.dtype, device=b.device(pick)), first)
    out = []
    for x, d in zip(xs, dims):
        if lead:  # (an outer vmap's rows: each its own members)
            shape = [1] * len(x.shape)
            shape[:lead] = pick.shape[:lead]
            shape[d] = n
            out.append(xp.take_along_axis(x, xp.reshape(src, tuple(shape)), axis=d))
        else:
            out.append(xp.take(x, src, axis=d))
    return out


taken_fill_p.def_impl(_taken_fill_impl)
taken_fill_p.def_abstract_eval(lambda pick, *avals, dims: list(avals))
taken_fill_p.def_jvp(lambda primals, tangents, dims: (
    taken_fill_p.bind(*primals, dims=dims),
    [None if t is None else row_mask(t, primals[0], tuple(range(len(primals[0].shape) - 1))
                                     + (d,))
     for t, d in zip(tangents[1:], dims)]))


def _taken_fill_batch(args, bdims, dims):
    size = batch_size(args, bdims)
    out = taken_fill_p.bind(*[with_batch(a, d, size) for a, d in zip(args, bdims)],
                            dims=tuple(d + 1 for d in dims))
    return out, [0] * len(out)


taken_fill_p.def_batch(_taken_fill_batch)
# (on tangents recorded for a backward pass, the map its JVP says it is: the rows replaced
# are constants)
taken_fill_p.def_transpose(lambda cts, pick, *xs, dims: [None] + [
    None if ct is None else row_mask(ct, pick, tuple(range(len(pick.shape) - 1)) + (d,))
    for ct, d in zip(cts, dims)])

# ``row_mask(t, m, axes)``: ``where(m, t, 0)``, the boolean ``m``'s axes being ``t``'s axes
# ``axes`` (broadcast along the others): linear in ``t``, its own transpose.
row_mask_p = primitive("row_mask")


def _row_mask_impl(b, t, m, axes):
    xp = b.xp
    nd = len(t.shape)
    if tuple(axes) != tuple(range(nd - len(axes), nd)):  # (else NumPy's broadcast does it)
        shape = [1] * nd
        for a, k in zip(axes, m.shape):
            shape[a] = k
        m = xp.reshape(m, tuple(shape))
    return xp.where(m, t, xp.zeros((), dtype=t.dtype, device=b.device(t)))


def row_mask(t, m, axes):
    return row_mask_p.bind(t, m, axes=tuple(axes))


def _row_mask_batch(args, dims, axes):
    t, m = args
    if dims[0] is None:
        t = with_batch(t, None, m.shape[0])
    if dims[1] is None:
        return row_mask(t, m, tuple(a + 1 for a in axes)), 0
    return row_mask(t, m, (0,) + tuple(a + 1 for a in axes)), 0


row_mask_p.def_impl(_row_mask_impl)
row_mask_p.def_abstract_eval(lambda t, m, axes: t)
row_mask_p.def_jvp(lambda primals, tangents, axes: (
    row_mask(primals[0], primals[1], axes),
    None if tangents[0] is None else row_mask(tangents[0], primals[1], axes)))
row_mask_p.def_transpose(lambda ct, t, m, axes: [row_mask(ct, m, axes), None])
row_mask_p.def_batch(_row_mask_batch)


def _taken_rows_jvp(primals, tangents, dims):
    from .primitives.reductions import reduce_or_p
    pick, xs, ts = primals[0], primals[1:], tangents[1:]
    lead = len(pick.shape) - 1
    lax = tuple(range(lead))
    outs = list(xs)
    lone = pick.shape[lead] > 0 and any(d is None and t is not None for d, t in zip(dims, ts))
    if lone:
        some = reduce_or_p.bind(pick, axes=(lead,))
        rows = [i for i, d in enumerate(dims) if d is not None]
        if rows:
            for i, x in zip(rows, taken_fill_p.bind(pick, *[xs[i] for i in rows],
                                                    dims=tuple(dims[i] for i in rows))):
                outs[i] = x
    touts = [None if t is None
             else row_mask(t, pick, lax + (d,)) if d is not None
             else row_mask(t, some, lax) if lone else t
             for t, d in zip(ts, dims)]
    # (the operands again through the primitive, for the transforms beneath this one)
    return taken_rows_p.bind(pick, *outs, dims=dims), touts


def _taken_rows_batch(args, bdims, dims):
    # an outer vmap's axis: a leading one of every operand, pick's included
    size = batch_size(args, bdims)
    out = taken_rows_p.bind(*[with_batch(a, d, size) for a, d in zip(args, bdims)],
                            dims=tuple(None if d is None else d + 1 for d in dims))
    return out, [0] * len(out)


taken_rows_p.def_jvp(_taken_rows_jvp)
taken_rows_p.def_batch(_taken_rows_batch)
# (the identity, linear in ``xs``: in a loop or branch bound on tangents recorded for a
# backward pass, its transpose the identity too)
taken_rows_p.def_transpose(lambda cts, pick, *xs, dims: [None, *cts])


def _taken_tangents(dims, pick, *xs):
    return taken_rows_p.bind(pick, *xs, dims=tuple(dims))


def _cond_by_groups(chosen, fns, args, in_axes, n_out):
    """Each branch on the members that chose it only (a concrete batched index), the results
    put back in the members' order: no branch sees another's values."""
    from .batching import vmap
    order, pieces = [], [[] for _ in range(n_out)]
    for k, f in enumerate(fns):
        members = fnp.nonzero(chosen == k)[0]
        m = members.shape[0]
        if m == 0:
            continue
        sub = [a if d is None else _rows(a, members) for a, d in zip(args, in_axes)]
        outs = vmap(f, in_axes=in_axes, axis_size=m)(*sub)
        order.append(members)
        for j, o in enumerate(outs):
            pieces[j].append(o)
    if not order:  # an empty batch: the shapes from any branch
        return list(vmap(fns[0], in_axes=in_axes, axis_size=0)(*args))
    if len(order) == 1:
        return [p[0] for p in pieces]
    inverse = fnp.argsort(fnp.concat(order))
    return [_rows(fnp.concat(p, axis=0), inverse) for p in pieces]


def _rows(x, k):
    """``x``'s rows (leading axis) at the integer positions ``k``, known to be in range
    (from ``nonzero``, ``argsort``): the gather itself, without functrans.numpy's ``take``'s
    look at the indices on the host (two device reads per gather)."""
    from .primitives.indexing import gather
    return gather(x, (k,))


def _member_by_member(prim, vals, dims, size, params):
    """A batched ``prim`` whose deciding value is abstract only because it is one value per
    member of an enclosing vmap too (vmap inside vmap, nothing staged): bound once per member
    of this batch, so that the enclosing vmap's rule, which sees concrete values, runs each
    member's branch or steps on that member only (rather than every branch on every member,
    whose nan would reach the derivatives through the selection)."""
    bind = {cond_p: _bind_cond, while_p: _bind_while}.get(prim, prim.bind)
    rows = [bind(*[v if d is None else v[m, ...] for v, d in zip(vals, dims)], **params)
            for m in range(size)]
    n = len(rows[0])
    return [fnp.stack([r[j] for r in rows]) for j in range(n)], [0] * n


cond_p.def_impl(_cond_impl)
cond_p.def_abstract_eval(lambda index, *avals, branches, **_: _out_avals(branches[0]))
cond_p.def_jvp(_cond_jvp)
cond_p.def_batch(_cond_batch)
cond_p.batch_sees_interp = True

# -- cond under reverse mode: each branch linearized, its residuals kept -----------------------

# Under reverse mode with the index staged (jit), each branch is linearized once,
# abstractly (as a scan's body is): the forward cond runs the branches that also return the
# residuals their tangent maps read, and the linear cond_lin runs (its transpose:
# transposes) the chosen branch's tangent map on them, rather than running the branch again
# (JAX's partial evaluation of cond). The branches must return the same outputs, so the
# residuals go into shared places ("slots"), one per shape and dtype as many as one branch
# needs: a branch fills those it has no residual for with zeros. A residual that is one of
# the cond's own outputs is read there, not returned twice, and one that is only a
# rearrangement of the operands (a broadcast, a transpose: _RECOMPUTED) is recomputed by
# cond_lin rather than stored. Where that does not pay, cond_lin keeps the inputs as its
# residuals instead (see _cond_reverse).

_RECOMPUTED = frozenset({"broadcast_in_dim", "transpose", "reshape", "convert_element_type",
                         "full_like", "iota", "slice", "squeeze", "expand_dims"})


class _CondPartial:
    """A cond's branches linearized in the operands ``diff`` (see _cond_partial)."""
    __slots__ = ("fwd", "spans", "extra", "lins", "res_of", "tans_of", "out_res", "remat",
                 "rextra", "rext_of", "n_res")

    def __repr__(self):  # (a parameter of cond_lin, as printed in a graph)
        return f"<{self.n_res} residuals>"


def _cond_partial(branches, n_ops, spans, diff, keep, like):
    """The branches (graphs of the operands ``n_ops`` shared, then each its ``spans``'
    captured ones) linearized in the operands at positions ``diff`` (after the index):

    - ``fwd``: the forward cond's branches, returning the outputs at ``keep`` (an output
      not kept is not computed, but for what a residual needs), then the slots; their
      operands are the cond's, each branch's followed by ``extra[k]`` (what it captures
      beyond them: values custom rules close over), in ``spans``;
    - ``lins[k]``: branch k's tangent map (see _linearized), on its residuals, its operands
      and its tangents;
    - ``remat[k]``: a graph computing branch k's recomputed residuals from its operands and
      ``rextra[k]`` (None if none);
    - ``res_of[k]``: where each of branch k's residuals is: a position among cond_lin's
      ``n_res`` residual operands (the slots, then the cond's kept outputs ``out_res``, then
      every branch's ``rextra``, branch k's at ``rext_of[k]``), or ``-1 - i`` for
      ``remat[k]``'s output i;
    - ``tans_of[k]``: the positions in ``diff`` of branch k's tangents, in order.

    ``like``: an array or tracer whose library and device the zeros take. Cached on the
    first branch per choice of ``diff`` and ``keep``."""
    cache = branches[0].__dict__.setdefault("_partial", {})
    key = (branches, n_ops, spans, diff, keep)
    part = cache.get(key)
    if part is not None:
        return part
    n_out = len(branches[0].outputs)
    lins, per_branch, slot_avals, out_res, tans_of, remat = [], [], [], [], [], []
    for g, (s, e) in zip(branches, spans):
        mine = [(q, i if i < n_ops else i - s) for q, i in enumerate(diff)
                if (i < n_ops or s <= i - n_ops < e)
                and g.in_vars[i if i < n_ops else i - s].aval.dtype.kind in "fc"]
        tans_of.append(tuple(q for q, _ in mine))
        g_res, lin, extra = _linearized(g, 0, len(g.in_vars), (), tuple(p for _, p in mine),
                                        (), "a branch", "cond")
        lins.append(lin)
        # the residuals that are rearranged operands
        cheap = set(g_res.in_vars)
        for prim, inputs, _, eq_outs in g_res.eqns:
            if prim.name in _RECOMPUTED and all(type(a) is not Var or a in cheap
                                                for a in inputs):
                cheap.update(eq_outs if prim.multiple_results else (eq_outs,))
        # where each residual goes: ("out", j) for the output j, ("remat", i), or a slot
        where, used, first, again = [], set(), {}, []
        for o in g_res.outputs[n_out:]:
            if type(o) is Var and o in first:
                where.append(first[o])
                continue
            j = next((j for j in keep if g_res.outputs[j] is o), None) \
                if type(o) is Var else None
            if j is not None:
                w = ("out", j)
                if j not in out_res:
                    out_res.append(j)
            elif type(o) is Var and o in cheap:
                w = ("remat", len(again))
                again.append(o)
            else:
                a = o.aval if type(o) is Var else get_aval(o)
                slot = next((i for i, b in enumerate(slot_avals) if i not in used
                             and b.shape == a.shape and b.dtype == a.dtype), None)
                if slot is None:
                    slot = len(slot_avals)
                    slot_avals.append(ShapedArray(a.shape, a.dtype))
                used.add(slot)
                w = ("slot", slot)
            where.append(w)
            if type(o) is Var:
                first[o] = w
        remat.append(prune(Graph(g_res.in_vars, g_res.eqns, again)) if again else None)
        per_branch.append((g_res, extra, where))
    n_slots = len(slot_avals)
    fwd, new_spans, extras, res_of, start = [], [], [], [], 0
    rextra, rext_of, n_res = [], [], n_slots + len(out_res)
    for k, (g, (g_res, extra, where)) in enumerate(zip(branches, per_branch)):
        res_of.append(tuple(i if kind == "slot" else n_slots + out_res.index(i)
                            if kind == "out" else -1 - i for kind, i in where))
        rextra.append(tuple(extra) if remat[k] is not None else ())
        rext_of.append(tuple(range(n_res, n_res + len(rextra[k]))))
        n_res += len(rextra[k])

        # The forward branch: g_res's equations, returning the outputs at keep, then the
        # slots: g_res's residuals, or, for another branch's, zeros that are never read (but
        # by that branch's tangent map under a vmap, on the members that do not take it):
        # constants on like's device, which the cond's impl copies as it returns them; from
        # buffers.MIN_BYTES on, a broadcast 0-d zero instead, which it returns as it is (see
        # _fresh's fills), not a pass over the residual's size at every call (jit(grad) of
        # test_s54_cond54's mixed cond on 10^6 elements, its false branch: 5.0 -> 2.9 ms;
        # below that size, a copy costs less than the broadcast and its checks). Built from
        # g_res rather than staged again (~0.1 ms a branch at jit's first call).
        slot_at = _nones(n_slots)
        for t, (kind, i) in enumerate(where):
            if kind == "slot":
                slot_at[i] = n_out + t
        missing = [i for i in range(n_slots) if slot_at[i] is None]
        small = [i for i in missing if not buffers._big(slot_avals[i])]
        large = [i for i in missing if i not in small]
        dtypes = list(dict.fromkeys(slot_avals[i].dtype for i in large))
        zero_vars, zeros, fills = [], [], []
        if missing:
            zg, zeros = _stage_flat(lambda: [
                *[fnp.zeros(slot_avals[i].shape, dtype=slot_avals[i].dtype) for i in small],
                *[fnp.zeros((), dtype=d) for d in dtypes]], [], f"branch {k}", "cond",
                like=like)
            zero_vars, zeros = zg.in_vars, list(zeros)  # (its outputs: those inputs)
            for i, v in zip(small, zg.outputs):
                slot_at[i] = v
            scalar = dict(zip(dtypes, zg.outputs[len(small):]))
            for i in large:
                a = slot_avals[i]
                slot_at[i] = Var(a)
                fills.append((_broadcast_p, (scalar[a.dtype],), {"shape": a.shape, "dims": ()},
                              slot_at[i]))

        def picked(src, slot_at=slot_at):
            o = src.outputs
            return [o[j] for j in keep] + [o[p] if type(p) is int else p for p in slot_at]
        gf = prune(Graph(g_res.in_vars + zero_vars, [*g_res.eqns, *fills], picked(g_res)))
        primal = g_res.__dict__.get("primal")
        if primal is not None:  # (see _stage_flat)
            gf.primal = prune(Graph(gf.in_vars, [*primal.eqns, *fills], picked(primal)))
        caps = [*extra, *zeros]
        fwd.append(gf)
        extras.append(tuple(caps))
        n_caps = len(g.in_vars) - n_ops + len(caps)
        new_spans.append((start, start + n_caps))
        start += n_caps
    part = _CondPartial()
    part.fwd, part.spans, part.extra = tuple(fwd), tuple(new_spans), tuple(extras)
    part.lins, part.res_of, part.tans_of = tuple(lins), tuple(res_of), tuple(tans_of)
    part.remat, part.rextra, part.rext_of = tuple(remat), tuple(rextra), tuple(rext_of)
    part.out_res, part.n_res = tuple(out_res), n_res
    cache[key] = part
    return part


# -- cond_lin: a cond's tangent map, linear in the tangents ------------------------------------

# ``cond_lin(*tangents, index, *residuals, *operands)``: the tangents of the cond's floating
# outputs ``out_float`` from those of its operands at ``diff``. Without ``part``, there are
# no residuals: the chosen branch's tangent map is its JVP (its transpose, its VJP) at the
# operands, the branch run again. With ``part`` (_cond_partial), ``part.n_res`` residuals
# come first: the chosen branch's tangent map ``part.lins[index]`` runs on those of its own
# (``part.res_of[index]``), its operands and its tangents (``part.tans_of[index]``).


def _lin_values(ys, k, part, n_ops, spans):
    """Branch ``k``'s tangent map's residuals and operands, from cond_lin's residuals and
    operands ``ys`` (recomputing those of ``part.remat[k]``)."""
    s, e = spans[k]
    n_res = part.n_res
    ins = list(ys[n_res:n_res + n_ops]) + list(ys[n_res + n_ops + s:n_res + n_ops + e])
    again = () if part.remat[k] is None else part.remat[k](
        *ins, *[ys[p] for p in part.rext_of[k]])
    return [ys[p] if p >= 0 else again[-1 - p] for p in part.res_of[k]] + ins


def _cond_lin_forward(*xs, branches, n_ops, spans, diff, out_float, part):
    n_tan = len(diff)
    index, ops = xs[n_tan], xs[n_tan + 1:]
    n = len(ops)
    if part is None:
        def tangent_map(f):
            return lambda *ys: [t for j, t in enumerate(_jvp_of(f, ys[:n], diff, ys[n:])[1])
                                if j in out_float]
        fns = [tangent_map(f) for f in _branch_fns(branches, n_ops, spans)]
    else:
        like = _loop_like(ops, xs[:n_tan])
        device = fnp.device(like) if like is not None else None

        def tangent_map(k):
            lin = part.lins[k]

            def f(*ys):
                touts = _apply_lin(lin, _lin_values(ys, k, part, n_ops, spans),
                                   [ys[n + q] for q in part.tans_of[k]])
                avals = lin.outputs_avals
                return [fnp.zeros(avals[j].shape, dtype=avals[j].dtype, device=device)
                        if touts[j] is None else touts[j] for j in out_float]
            return f
        fns = [tangent_map(k) for k in range(len(branches))]
    return _switch(index, fns, (*ops, *xs[:n_tan]), "cond")


def _cond_lin_transpose(cts, *xs, branches, n_ops, spans, diff, out_float, part):
    n_tan = len(diff)
    index, ops = xs[n_tan], xs[n_tan + 1:]
    n = len(ops)
    n_res = 0 if part is None else part.n_res
    present = [p for p, c in enumerate(cts) if c is not None]
    # (only the tangent operands that some branch's outputs with a cotangent read get one:
    # the others' are zero whichever branch runs, a symbolic zero (None) rather than a
    # branch output of zeros that the backward pass then adds; session 52: svd's cond gave
    # t V's of zeros, +1 full_like and +1 add under jit(grad))
    read = _read_operands(branches, n_ops, spans, diff, [out_float[p] for p in present], part)
    if not present or not read:
        return _nones(len(xs))
    if part is None:
        sub = [diff[q] for q in read]

        def pullback(f):
            def g(*ys):
                def h(d):
                    full = list(ys[:n])
                    for i, x in zip(sub, d):
                        full[i] = x
                    outs = f(*full)
                    return [outs[out_float[p]] for p in present]
                # (None for a symbolic zero: see _switch_sparse)
                return backward(linearize_flat(h, [ys[i] for i in sub])[1], list(ys[n:]),
                                borrow=True)
            return g
        fns = [pullback(f) for f in _branch_fns(branches, n_ops, spans)]
    else:
        def pullback(k):
            lin = part.lins[k]

            def f(*ys):
                out_cts = _nones(len(lin.outputs))
                for p, c in zip(present, ys[n:]):
                    out_cts[out_float[p]] = c
                got = dict(zip(part.tans_of[k], _transpose_lin(
                    lin, _lin_values(ys, k, part, n_ops, spans), out_cts)))
                return [got.get(q) for q in read]
            return f
        fns = [pullback(k) for k in range(len(branches))]
    # (an operand's cotangent that is a symbolic zero in every branch is None, no output
    # of the cond; where only some branches have one, the others return zeros like the
    # operand whose cotangent it is, an operation of the branch)
    res = _switch_sparse(index, fns, (*ops, *[cts[p] for p in present]),
                         lambda j: n_res + diff[read[j]], "cond")
    out = _nones(len(xs))
    for q, c in zip(read, res):
        out[q] = c
    return out


def _read_operands(branches, n_ops, spans, diff, outs, part=None):
    """The positions ``q`` in ``diff`` (operand positions after the index) of the operands
    that some branch's outputs at ``outs`` read, through any equation (a conservative test:
    an operand read where its derivative vanishes counts as read): in the branches, or,
    with ``part``, in their tangent maps. One walk per branch, each variable marked with
    the bits of the operands it reads."""
    from .api import _eqn_outs, _param_vars
    found = 0
    for k, (g, (s, e)) in enumerate(zip(branches, spans)):
        marks = {}
        if part is None:
            for q, i in enumerate(diff):
                pos = i if i < n_ops else n_ops + i - n_ops - s if s <= i - n_ops < e else None
                if pos is not None and g.in_vars[pos] is not None:  # (else another branch's)
                    v = g.in_vars[pos]
                    marks[v] = marks.get(v, 0) | (1 << q)
        else:
            g, tans = part.lins[k], part.tans_of[k]
            for q, v in zip(tans, g.in_vars[len(g.in_vars) - len(tans):]):
                marks[v] = marks.get(v, 0) | (1 << q)
        if not marks:
            continue
        for prim, inputs, params, eq_outs in g.eqns:
            m = 0
            for a in inputs:
                if type(a) is Var:
                    m |= marks.get(a, 0)
            if params:
                for a in _param_vars(params):
                    m |= marks.get(a, 0)
            if m:
                for o in _eqn_outs(prim, eq_outs):
                    marks[o] = marks.get(o, 0) | m
        for j in outs:
            o = g.outputs[j]
            if type(o) is Var:
                found |= marks.get(o, 0)
    return [q for q in range(len(diff)) if found >> q & 1]


cond_lin_p.def_impl(lambda backend, *xs, **params: _cond_lin_forward(*xs, **params))
cond_lin_p.def_abstract_eval(
    lambda *avals, branches, out_float, **_: [_out_avals(branches[0])[j] for j in out_float])
cond_lin_p.def_jvp_inline(_cond_lin_forward)
cond_lin_p.def_transpose(_cond_lin_transpose)

# -- while_loop --------------------------------------------------------------------------------


def while_loop(cond_fun, body_fun, init_val):
    """Repeat ``val = body_fun(val)`` while ``cond_fun(val)``, from ``init_val``; returns the
    last ``val`` (``jax.lax.while_loop``).

    ``body_fun`` must keep the carry's tree structure, shapes and dtypes; Python numbers in
    ``init_val`` are weakly typed (they take the dtype the body gives them). With a concrete
    predicate this is Python's ``while``, and every transform differentiates it, reverse mode
    included (JAX cannot). Under ``jit`` it is one ``while`` equation: forward mode is staged
    with it; reverse mode's backward pass runs the loop eagerly when the graph runs (only then
    is its number of steps known), so a ``fori_loop`` or ``scan`` with known bounds is faster
    there. Under ``vmap`` the loop runs until every member's predicate is false, each member
    keeping its value from the step where its own became false. Under ``experimental.jet``
    a predicate that is a comparison of curves changing right after t = 0 is decided on each
    side: the value keeps the steps at t = 0, the Taylor coefficients take those for small
    t > 0 (the loop goes on wherever one side does, as a cond runs both branches).
    """
    if not callable(cond_fun) or not callable(body_fun):
        raise TypeError("while_loop(cond_fun, body_fun, init_val): cond_fun and body_fun must "
                        "be functions.")
    leaves, tree = _carry_leaves(init_val, "while_loop")
    caller = sys._getframe(1)
    cond_fun = with_constant_arguments(cond_fun, caller)
    body_fun = with_constant_arguments(body_fun, caller)
    start = leaves
    numbers = _unchanged_numbers(leaves)
    leaves = _while(cond_fun, body_fun, leaves, tree, "while_loop", numbers)
    _drop_changed(numbers, leaves)
    return tree_unflatten(tree, _results(leaves, _loop_like(leaves), start, numbers))


def _predicate(value, what):
    _check_scalar(value, what)
    return value


def _while(cond_fun, body_fun, leaves, tree, what, numbers=None):
    """The loop on flat leaves: in Python while the predicate is concrete, staged as one
    ``while`` from the first step where it is not. Python numbers may remain in the result.
    ``numbers`` (see :func:`_unchanged_numbers`) loses the carries a Python step changes."""
    avals = [get_aval(x) for x in leaves]
    splits = []
    while True:
        p = _predicate(cond_fun(tree_unflatten(tree, leaves)), f"{what}'s cond_fun result")
        c = _concrete(p)
        if c is None:
            leaves = _staged_while(cond_fun, body_fun, leaves, tree, what, p)
            break
        if _JET_STEPPING and len(_sides(p, c, _truth)) > 1:
            splits.append((p, leaves))  # (stops on one side of t = 0: see _unsplit)
        elif not bool(c):
            break
        leaves, avals = _check_carry(body_fun(tree_unflatten(tree, leaves)), tree, avals,
                                     f"{what}'s body_fun", None, prev=leaves)
        if numbers:
            _drop_changed(numbers, leaves)
    return _unsplit(splits, leaves)


def _unsplit(splits, leaves):
    """The carry of a loop whose predicate, a comparison of curves under jet, changed right
    after t = 0 at the steps ``splits`` (``(predicate, carry then)``, in order): there the
    loop went on (to ``leaves``) and the carry then is what it stops with, merged by a
    ``where`` per leaf, the innermost first. A loop is a cond repeated: each ``where`` takes
    the value from the side the predicate chose at t = 0 and the Taylor coefficients from the
    one it chose for small t > 0, so the number of steps is decided on each side of t = 0 as
    the comparisons are (the value keeps the steps at t = 0)."""
    for p, stop in reversed(splits):
        leaves = [x if x is s else fnp.where(p, x, s) for x, s in zip(leaves, stop)]
    return leaves


def _staged_while(cond_fun, body_fun, leaves, tree, what, pred):
    like = _loop_like(leaves, [pred])
    avals = [get_aval(x) for x in leaves]

    def body_flat(*xs):
        return _check_carry(body_fun(tree_unflatten(tree, xs)), tree, avals,
                            f"{what}'s body_fun", like)[0]
    leaves = _weak_carry(body_flat, leaves, like, getattr(body_fun, "__name__", "body_fun"),
                         what)
    n = len(leaves)

    def cond_flat(*xs):
        p = _predicate(cond_fun(tree_unflatten(tree, xs)), f"{what}'s cond_fun result")
        if type(p) in _SCALAR_DTYPES:
            return [_to_array(bool(p), like=like)]
        return [p if p.dtype == fnp.bool else fnp.not_equal(p, 0)]
    while True:  # (again without the numbers a step changes after all: at most once each)
        avals = [get_aval(x) for x in leaves]
        changed = {}
        body, arrays = _carry_arrays_only(body_flat, leaves, n, changed)
        bg, bc = _stage_flat(body, arrays, getattr(body_fun, "__name__", "body_fun"), what,
                             lift=True)
        if not changed:
            break
        leaves = [_typed_number(x, changed[i], like) if i in changed else x
                  for i, x in enumerate(leaves)]
    cond, _ = _carry_arrays_only(cond_flat, leaves, n)
    cg, cc = _stage_flat(cond, arrays, getattr(cond_fun, "__name__", "cond_fun"), what,
                         lift=True)
    outs = _bind_while(*cc, *bc, *arrays, cond=cg, body=bg, n_cc=len(cc), n_bc=len(bc))
    return _with_numbers(leaves, outs, n)


def _bind_while(*args, cond, body, n_cc, n_bc):
    """``while_p.bind``, except where some operands are tangents recorded for a backward pass:
    recorded by its reverse-mode JVP at zero tangent operands, as a scan is by ``_bind_scan``.
    The loop must be linear in them, and its predicate must not depend on them."""
    return _bind_by_jvp(while_p, _while_jvp, args,
                        dict(cond=cond, body=body, n_cc=n_cc, n_bc=n_bc),
                        len(args) - n_cc - n_bc)


def _bind_by_jvp(prim, jvp, args, params, n_out):
    """``prim.bind(*args, **params)``, or where some operands are recorded tangents, its
    ``jvp`` at zero in their place with them as the tangents: the outputs that depend on them
    from the tangent side (linear in them, checked), the others from the value side."""
    rec = {i for i, a in enumerate(args) if _recorded((a,))}
    if not rec:
        return prim.bind(*args, **params)
    dep = _tangent_outputs(prim, args, params, rec, n_out)
    rest = [fnp.zeros_like(a) if i in rec else a for i, a in enumerate(args)]
    tangents = [a if i in rec else None for i, a in enumerate(args)]
    outs, touts = jvp(rest, tangents, **params)
    return [t if j in dep and t is not None else o for j, (o, t) in enumerate(zip(outs, touts))]


def _weak_carry(step_flat, leaves, like, name, what):
    """The carry's Python numbers made arrays for staging, of the dtype a first step gives
    them (staged with the numbers as they are): what the eager loop does from its second
    step, as JAX's weak types do. A number the step returns unchanged stays a number (a
    weakly typed carry no step changes: the staged loop keeps it a constant, see
    :func:`_carry_arrays_only`)."""
    weak = [i for i, x in enumerate(leaves) if type(x) in _SCALAR_DTYPES]
    if not weak:
        return leaves
    graph, _ = _stage_flat(step_flat, leaves, name, what, like=like)
    out = list(leaves)
    for i in weak:
        o = graph.outputs[i]
        if type(o) is not Var and _same_number(o, leaves[i]):
            continue
        out[i] = _typed_number(leaves[i], o, like)
    return out


def _typed_number(x, o, like):
    """The carry's Python number ``x`` as an array of the type the step returned in its place
    (``o``: a graph output, a Var or a number of the wider kind, see _check_carry)."""
    if type(o) in _SCALAR_DTYPES:
        return _to_array(type(o)(x), like=like)
    return _to_array(x, (o.aval if type(o) is Var else o).dtype, like)


def _carry_arrays_only(step_flat, leaves, n_carry, changed=None):
    """``step_flat`` (its first ``n_carry`` inputs and outputs the carry) to be staged on the
    carry's arrays only, and those inputs: its Python numbers (in ``leaves``) put back as the
    constants they are, their outputs left out. Where the step returns another value for one
    of them, ``changed[i]`` receives that output (or its aval): the number is not a loop
    constant after all. ``changed`` None: a function of the carry (a predicate), its outputs
    as they are."""
    numbers = {i: x for i, x in enumerate(leaves[:n_carry]) if type(x) in _SCALAR_DTYPES}
    kept = [i for i in range(len(leaves)) if i not in numbers]

    def step(*xs):
        full = list(leaves)
        for i, x in zip(kept, xs):
            full[i] = x
        out = step_flat(*full)
        if changed is None:
            return out
        for i, x in numbers.items():
            if not _same_number(out[i], x):
                changed[i] = out[i] if type(out[i]) in _SCALAR_DTYPES else get_aval(out[i])
        return [o for j, o in enumerate(out) if j not in numbers]
    return step, [leaves[i] for i in kept]


def _with_numbers(leaves, outs, n_carry):
    """The carry outputs of a loop staged by :func:`_carry_arrays_only` with its constant
    Python numbers (among ``leaves``) put back in their places."""
    it = iter(outs)
    return [x if type(x) in _SCALAR_DTYPES else next(it) for x in leaves[:n_carry]]


def _while_loop_flat(args, cond, body, n_cc, n_bc):
    """The loop of a ``while`` equation, in Python (on values or on concrete tracers)."""
    cc, bc = args[:n_cc], args[n_cc:n_cc + n_bc]
    carry = list(args[n_cc + n_bc:])
    cc, bc = list(cc), list(bc)
    splits = []
    while True:
        p = _run(cond, carry + cc)[0]
        if _JET_STEPPING and isinstance(p, Tracer) and len(_sides(p, _concrete(p), _truth)) > 1:
            splits.append((p, carry))  # (see _unsplit)
        elif not bool(p):
            break
        carry = list(_run(body, carry + bc))
    return _unsplit(splits, carry)


def _while_impl(backend, *args, cond, body, n_cc, n_bc):
    cc, bc = list(args[:n_cc]), list(args[n_cc:n_cc + n_bc])
    carry = list(args[n_cc + n_bc:])
    test, step = _program(cond, carry + cc), _program(body, carry + bc)
    while bool(test(*carry, *cc)[0]):
        carry = list(step(*carry, *bc))
    return _fresh(carry, args, frozenset())


def _while_jvp(primals, tangents, cond, body, n_cc, n_bc):
    start = n_cc + n_bc
    nc = len(primals) - start
    if _all_concrete(primals):  # the loop itself, run under forward mode
        diff = [i for i, t in enumerate(tangents) if t is not None]
        outs, touts = _jvp_of(lambda *a: _while_loop_flat(a, cond, body, n_cc, n_bc),
                              primals, diff, [tangents[i] for i in diff])
        fl = set(_floats([get_aval(o) for o in outs]))
        return outs, [t if j in fl else None for j, t in enumerate(touts)]
    if _recorded(tangents):
        # Reverse mode with an abstract predicate: the number of steps is known only when the
        # loop runs, so the tangent map is an eager call, transposed into another, that
        # differentiate the loop (as a Python loop) with the values the graph then has.
        diff = [i for i, t in enumerate(tangents) if t is not None]
        outs = while_p.bind(*primals, cond=cond, body=body, n_cc=n_cc, n_bc=n_bc)
        avals = [get_aval(o) for o in outs]
        out_float = tuple(_floats(avals))
        lin = eager_lin_p.bind(
            *[tangents[i] for i in diff], *primals,
            fun=_WhileLoop(cond, body, n_cc, n_bc), diff=tuple(diff), out_float=out_float,
            out_avals=tuple(avals[j] for j in out_float))
        tangents_out = _nones(nc)
        for j, t in zip(out_float, lin):
            tangents_out[j] = t
        return outs, tangents_out
    # Forward mode: the loop carries the tangents of its floating-point values too.
    cc, bc, carry = primals[:n_cc], primals[n_cc:start], list(primals[start:])
    t_bc, t_carry = tangents[n_cc:start], tangents[start:]
    fl = _floats([get_aval(c) for c in carry])
    bd = [i for i, t in enumerate(t_bc) if t is not None]
    b_tans = [t_bc[i] for i in bd]
    tc0 = [fnp.zeros_like(carry[i]) if t_carry[i] is None else t_carry[i] for i in fl]

    def body_fn(xs):
        c, tc = xs[:nc], xs[nc:]

        def g(*d):
            cf, bf = list(c), list(bc)
            for i, x in zip(fl, d):
                cf[i] = x
            for i, x in zip(bd, d[len(fl):]):
                bf[i] = x
            return list(body(*cf, *bf))
        outs, touts = _jvp_of(g, [c[i] for i in fl] + [bc[i] for i in bd],
                              list(range(len(fl) + len(bd))), [*tc, *b_tans])
        return outs + [touts[i] for i in fl]
    leaves = carry + tc0
    res = _while(lambda xs: cond(*xs[:nc], *cc)[0], body_fn, leaves,
                 tree_flatten(leaves)[1], "while_loop")
    tangents_out = _nones(nc)
    for i, t in zip(fl, res[nc:]):
        tangents_out[i] = t
    return res[:nc], tangents_out


def _while_batch(vals, dims, cond, body, n_cc, n_bc, batch_interp):
    from .batching import vmap
    start = n_cc + n_bc
    size = batch_size(vals, dims)
    cc, bc = vals[:n_cc], vals[n_cc:start]
    carry = [with_batch(v, d, size)
             for v, d in zip(vals[start:], dims[start:])]
    nc = len(carry)
    name = batch_interp.axis_name
    whole = _path_name(batch_interp, (cond, body))  # steps whole if it reduces over the batch
    alive = vmap(lambda *a: cond(*a), in_axes=(0,) * nc + tuple(dims[:n_cc]), axis_size=size,
                 axis_name=name)
    step = vmap(lambda *a: body(*a), in_axes=(0,) * nc + tuple(dims[n_cc:start]),
                axis_size=size, axis_name=name)

    if (size and not _staging() and whole is None
            and _concrete(alive(*carry, *cc)[0]) is None):
        # vmap inside vmap: the predicates are abstract here but concrete to the outer vmap.
        return _member_by_member(while_p, vals, dims, size,
                                 dict(cond=cond, body=body, n_cc=n_cc, n_bc=n_bc))
    b_axes = tuple(dims[n_cc:start])
    checking = whole is None and _checkify_below()

    def body_fn(c):
        live = alive(*c, *cc)[0]
        m = _concrete(live) if whole is None else None
        if m is None:  # staged: the body on every member, the finished ones keep their value
            # (the finished members' rows add nothing to the derivatives: a step outside
            # their domain would, 0 * nan; under a checkify, their rows are a live member's,
            # so that the checks see no failure of a step whose result is dropped: see
            # _taken_rows)
            new = step(*_taken_rows([*c, *bc], (0,) * nc + b_axes, live, size, checking,
                                    whole is not None))
            return [fnp.where(_expand(live, x.ndim), x_new, x) for x_new, x in zip(new, c)]
        if bool(fnp.all(m)):
            return list(step(*c, *bc))
        # The body on the live members only (a finished member's value may be outside its
        # domain: no nan from it in the values or the derivatives), the rest kept.
        members, done = fnp.nonzero(m)[0], fnp.nonzero(fnp.logical_not(m))[0]
        sub = [_rows(x, members) for x in c]
        sub_b = [b if d is None else _rows(b, members) for b, d in zip(bc, b_axes)]
        new = vmap(lambda *a: body(*a), in_axes=(0,) * nc + b_axes,
                   axis_size=members.shape[0])(*sub, *sub_b)
        inverse = fnp.argsort(fnp.concat([members, done]))
        return [_rows(fnp.concat([x_new, _rows(x, done)], axis=0), inverse)
                for x_new, x in zip(new, c)]
    res = _while(lambda c: fnp.any(alive(*c, *cc)[0]), body_fn, carry,
                 tree_flatten(carry)[1], "while_loop")
    return res, [0] * nc


while_p.def_impl(_while_impl)
while_p.def_abstract_eval(lambda *avals, n_cc, n_bc, **_: list(avals[n_cc + n_bc:]))
while_p.def_jvp(_while_jvp)
while_p.def_batch(_while_batch)
while_p.batch_sees_interp = True

class _WhileLoop:
    """A ``while`` equation's loop as a function of its operands, run in Python (on values
    whose predicates are concrete: where an eager call runs it)."""

    def __init__(self, cond, body, n_cc, n_bc):
        self.cond, self.body, self.n_cc, self.n_bc = cond, body, n_cc, n_bc
        self.__name__ = "while_loop"

    def __call__(self, *args):
        return _while_loop_flat(args, self.cond, self.body, self.n_cc, self.n_bc)

# -- eager calls: a function run when the graph is evaluated, differentiated then --------------

# ``eager_call`` applies a Python function of flat arrays, returning a list, to its operands;
# it is staged as one equation and run, eagerly, when the graph is evaluated, with concrete
# values. Its derivatives are computed the same way: its JVP is an ``eager_lin`` (the
# function's JVP, linear in the tangents), whose transpose is an ``eager_call`` of the
# function's VJP. Under vmap both run once per member. This is what reverse mode of a
# while_loop with an abstract predicate uses: the backward pass needs the number of steps,
# known only when the loop runs.
eager_call_p = primitive("eager_call", multiple_results=True)
eager_lin_p = primitive("eager_lin", multiple_results=True)
# They run graphs (or Python functions) on their operands, whose own operations hold each to
# one library: operands of several libraries are accepted (see Primitive.mixed_operands).
for _p in (cond_p, cond_lin_p, while_p, scan_p, scan_lin_p, eager_call_p, eager_lin_p):
    _p.mixed_operands = True


def _eager_call_jvp(primals, tangents, fun, out_avals):
    diff = [i for i, t in enumerate(tangents) if t is not None]
    d_tans = [tangents[i] for i in diff]
    out_float = tuple(_floats(out_avals))
    if _all_concrete(primals):
        outs, touts = _jvp_of(fun, list(primals), diff, d_tans)
        return outs, [touts[j] if j in out_float else None for j in range(len(outs))]
    outs = eager_call_p.bind(*primals, fun=fun, out_avals=out_avals)
    lin = eager_lin_p.bind(*d_tans, *primals, fun=fun, diff=tuple(diff), out_float=out_float,
                           out_avals=tuple(out_avals[j] for j in out_float))
    tangents_out = _nones(len(out_avals))
    for j, t in zip(out_float, lin):
        tangents_out[j] = t
    return outs, tangents_out


class _PerMember:
    """An eager function applied to each member of a batch in turn (its batched operands
    hold the batch first), the results stacked: an eager call under vmap, run as one."""

    def __init__(self, fun, dims, size, out_avals):
        self.fun, self.dims, self.size, self.out_avals = fun, dims, size, out_avals
        self.__name__ = f"per_member({getattr(fun, '__name__', 'f')})"

    def __call__(self, *args):
        rows = [self.fun(*[a if d is None else a[m, ...] for a, d in zip(args, self.dims)])
                for m in range(self.size)]
        if rows:
            return [fnp.stack([r[j] for r in rows]) for j in range(len(self.out_avals))]
        like = _loop_like(args)
        device = fnp.device(like) if like is not None else None
        return [fnp.zeros((0,) + a.shape, dtype=a.dtype, device=device) for a in self.out_avals]


def _eager_call_batch(vals, dims, fun, out_avals):
    size = batch_size(vals, dims)
    outs = eager_call_p.bind(*vals, fun=_PerMember(fun, tuple(dims), size, out_avals),
                             out_avals=tuple(ShapedArray((size,) + a.shape, a.dtype)
                                             for a in out_avals))
    return outs, [0] * len(out_avals)


def _eager_lin_batch(vals, dims, **params):
    # Rare (forward mode of an eager call under vmap): one eager_lin per member.
    size = batch_size(vals, dims)
    if size:
        return _member_by_member(eager_lin_p, vals, dims, size, params)
    return _PerMember(None, dims, 0, params["out_avals"])(*vals), [0] * len(params["out_avals"])


class _LinearMap:
    """An ``eager_lin`` as a function of its operands (tangents, then primals): the JVP of
    ``fun`` at the primals, at the outputs ``out_float``."""

    def __init__(self, fun, diff, out_float):
        self.fun, self.diff, self.out_float = fun, diff, out_float
        self.__name__ = f"jvp({getattr(fun, '__name__', 'f')})"

    def __call__(self, *args):
        n = len(self.diff)
        touts = _jvp_of(self.fun, list(args[n:]), list(self.diff), list(args[:n]))[1]
        return [touts[j] for j in self.out_float]


class _Pullback:
    """The transpose of an ``eager_lin`` as a function of the primals, then the cotangents of
    the outputs ``present`` (of ``out_float``): the VJP of ``fun``."""

    def __init__(self, fun, diff, out_float, present, n_primals):
        self.fun, self.diff, self.out_float, self.present = fun, diff, out_float, present
        self.n = n_primals
        self.__name__ = f"vjp({getattr(fun, '__name__', 'f')})"

    def __call__(self, *args):
        from .api import vjp
        primals, cts = args[:self.n], args[self.n:]

        def h(*d):
            full = list(primals)
            for i, x in zip(self.diff, d):
                full[i] = x
            outs = self.fun(*full)
            return [outs[self.out_float[k]] for k in self.present]
        return list(vjp(h, *[primals[i] for i in self.diff])[1](list(cts)))


def _eager_lin_jvp(primals, tangents, fun, diff, out_float, out_avals):
    # eager_lin(t, p) is the eager function (t, p) -> J_fun(p) t: differentiated as one.
    return _eager_call_jvp(primals, tangents, _LinearMap(fun, diff, out_float), out_avals)


def _eager_lin_transpose(cts, *args, fun, diff, out_float, out_avals):
    present = [k for k, c in enumerate(cts) if c is not None]
    primals = args[len(diff):]
    if not present:
        return _nones(len(args))
    pullback = _Pullback(fun, diff, out_float, present, len(primals))
    ins = [*primals, *[cts[k] for k in present]]
    if _all_concrete(primals):
        res = pullback(*ins)
    else:
        res = eager_call_p.bind(*ins, fun=pullback,
                                out_avals=tuple(get_aval(primals[i]) for i in diff))
    return list(res) + _nones(len(primals))


eager_call_p.def_impl(
    lambda backend, *args, fun, out_avals: _fresh(list(fun(*args)), args, frozenset()))
eager_call_p.def_abstract_eval(lambda *avals, fun, out_avals: list(out_avals))
eager_call_p.def_jvp(_eager_call_jvp)
eager_call_p.def_batch(_eager_call_batch)
eager_lin_p.def_impl(lambda backend, *args, fun, diff, out_float, out_avals:
                     _LinearMap(fun, diff, out_float)(*args))
eager_lin_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))
eager_lin_p.def_jvp(_eager_lin_jvp)
eager_lin_p.def_transpose(_eager_lin_transpose)
eager_lin_p.def_batch(_eager_lin_batch)

# -- scan, fori_loop, map ----------------------------------------------------------------------


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``, from ``init``; returns
    ``(carry, ys)`` with the ``y`` of every step stacked along a new leading axis
    (``jax.lax.scan``).

    ``xs`` is a pytree of arrays of one leading length, or None with ``length`` given (``f``
    then gets ``None``); ``reverse=True`` runs from the last element to the first, each ``y``
    still stored at its element's index. ``f`` must keep the carry's tree structure, shapes
    and dtypes; a Python number in ``init`` takes the dtype the first step gives it (0.0
    beside float32 ``xs``: a float32 carry and ys, however many steps), as JAX's weak types
    do; one a step makes a number of a wider kind (the int 1 given ``c + 1.0``) is an array
    of that kind's default dtype from the first step, as JAX promotes it. Eagerly it is a Python loop; while staging (``jit``, ``make_graph``) it is one
    ``scan`` equation, however many steps. Every transform differentiates it, to any order.
    ``unroll`` (a bool or an int >= 0, as JAX's) and JAX's private ``_split_transpose`` (a
    bool: how XLA lays out the transposed loop) are accepted for compatibility and have no
    effect.
    """
    if not callable(f):
        raise TypeError("scan(f, init, xs): f must be a function.")
    # (checked though unused, so that code JAX refuses fails here too)
    if type(unroll) is not bool and not is_nonnegative_int(unroll):
        raise ValueError(f"scan's unroll must be a bool or an int >= 0; got {unroll!r}.")
    if type(_split_transpose) is not bool:
        raise TypeError(f"scan's _split_transpose must be a bool (it has no effect in "
                        f"functrans); got {_split_transpose!r}.")
    c_leaves, c_tree = _carry_leaves(init, "scan")
    f = with_constant_arguments(f, sys._getframe(1))
    x_leaves, x_tree = tree_flatten(xs)
    n = _leading_length(x_leaves, length, "scan")
    if n is None:
        raise ValueError("scan: with no xs, give the number of steps as length=.")
    if length is not None and n is length:
        if isinstance(n, Tracer):
            n = int(n)  # abstract: a ConcretizationError saying so
        try:
            n = operator.index(n)
        except TypeError:
            raise TypeError(f"scan: length must be an integer; got {length!r}.") from None
        if n < 0:
            raise ValueError(f"scan: length must not be negative; got {n}.")
    n = int(n)
    if _staging():
        return _staged_scan(f, c_leaves, c_tree, x_leaves, x_tree, n, reverse)
    avals = [get_aval(c) for c in c_leaves]
    numbers = _unchanged_numbers(c_leaves)
    carry, ys, y_tree, y_avals, first = c_leaves, [], None, None, None
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        x = tree_unflatten(x_tree, [leaf[i, ...] for leaf in x_leaves])
        new, y = _step_pair(f(tree_unflatten(c_tree, carry), x))
        like = _loop_like(carry, x_leaves)
        if not ys:
            first = (_typed_numbers(carry, new, c_tree, like), x)
        carry, avals = _check_carry(new, c_tree, avals, "scan's f (the carry it returns)", like,
                                    prev=carry)
        if numbers:
            _drop_changed(numbers, carry)
        y_leaves, tree = _output_leaves(y, "scan's f", like)
        if y_tree is None:
            y_tree, y_avals = tree, [get_aval(v) for v in y_leaves]
        elif tree != y_tree or any(get_aval(v) != a for v, a in zip(y_leaves, y_avals)):
            redone = _first_y_again(f, first, c_tree, tree, y_leaves, like) if len(ys) == 1 \
                else None
            if redone is None:
                raise TypeError(f"scan: f must return ys of one structure, shape and dtype at "
                                f"every step; got {y_tree} {[a.str_short() for a in y_avals]} "
                                f"and then {tree} {[get_aval(v).str_short() for v in y_leaves]}.")
            ys[0], y_avals = redone, [get_aval(v) for v in y_leaves]
        ys.append(y_leaves)
    if n == 1 and first[0] is not None:
        # one step: no second to compare with, so the first y as the carry's typed numbers
        # give it (0. beside float32 xs: float32 ys, as with more steps and as staged)
        redone = _first_y_again(f, first, c_tree, y_tree, None, _loop_like(carry, x_leaves))
        if redone is not None:
            ys[0], y_avals = redone, [get_aval(v) for v in redone]
    like = _loop_like(carry, x_leaves)
    if n == 0:  # the ys' shapes from a staging of f; the carry's numbers typed as staged
        box = [None]
        carry = _scan_weak_carry(f, c_leaves, c_tree, x_leaves, x_tree, like)
        _drop_changed(numbers, carry)
        g, _ = _scan_body(f, _arrays(carry, like), c_tree, x_leaves, x_tree, like, box)
        y_tree = box[0]
        stacked = _empty_stack(_out_avals(g)[len(c_leaves):], like)
    else:
        if reverse:
            ys.reverse()
        stacked = [fnp.stack([y[j] for y in ys]) for j in range(len(y_avals))]
    return tree_unflatten(c_tree, _results(carry, like, c_leaves, numbers)), \
        tree_unflatten(y_tree, stacked)


def _typed_numbers(carry, new, c_tree, like):
    """``carry`` with each Python number made an array of the dtype the step returned in its
    place (``new``: an array of shape (), or a number of a wider kind, see _check_carry), as
    the later steps have it; None if none is."""
    leaves, tree = tree_flatten(new)
    if tree != c_tree:
        return None  # (the check of the carry says so)
    out, changed = list(carry), False
    for i, (c, x) in enumerate(zip(carry, leaves)):
        if type(c) not in _WIDTH:
            continue
        if type(x) in _WIDTH:
            if _WIDTH[type(x)] > _WIDTH[type(c)]:
                out[i], changed = _to_array(type(x)(c), like=like), True
            continue
        if type(x) in _SCALAR_DTYPES or _static(x):
            continue
        a = get_aval(x)
        if a.shape == () and a.dtype.kind in _FITS[type(c)]:
            out[i], changed = _to_array(c, a.dtype, like), True
    return out if changed else None


def _first_y_again(f, first, c_tree, tree, y_leaves, like):
    """The first step's y again, from the carry with its Python numbers typed as that step
    typed them (``first``: that carry, or None, and the step's x), where the first y's
    dtypes differed from the second's only for want of that: as JAX's weak types would have
    given it (0. beside float32 xs: float32 ys throughout); ``y_leaves`` None (a single
    step): that y whatever its dtypes. None where that does not help."""
    typed, x = first
    if typed is None:
        return None
    y0 = _step_pair(f(tree_unflatten(c_tree, typed), x))[1]
    leaves, t0 = _output_leaves(y0, "scan's f", like)
    if t0 != tree or y_leaves is not None and any(
            get_aval(v) != get_aval(w) for v, w in zip(leaves, y_leaves)):
        return None
    return leaves


def _step_pair(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = (f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list))
               else f"an array of shape {tuple(out.shape)}" if hasattr(out, "shape")
               else f"a {type(out).__name__}")
        raise TypeError(f"scan: f must return a pair (carry, y); got {got}.")
    return out


def _empty_stack(avals, like):
    device = fnp.device(like) if like is not None else None
    return [fnp.zeros((0,) + a.shape, dtype=a.dtype, device=device) for a in avals]


def _scan_body(f, c_leaves, c_tree, x_leaves, x_tree, like, box, changed=None):
    """``f`` staged on the carry (arrays) and one element of each xs: its graph (inputs: the
    carry, the elements, then what ``f`` closes over; outputs: the new carry, then the ys)
    and the captured values. ``box[0]`` receives the tree of the ys. Python numbers in the
    carry are constants, left out of the graph's inputs and outputs (``changed``: see
    :func:`_carry_arrays_only`)."""
    avals = [get_aval(c) for c in c_leaves]
    nc = len(c_leaves)
    x_avals = [ShapedArray(tuple(x.shape[1:]), get_aval(x).dtype) for x in x_leaves]

    def body(*ls):
        new, y = _step_pair(f(tree_unflatten(c_tree, ls[:nc]), tree_unflatten(x_tree, ls[nc:])))
        carry = _check_carry(new, c_tree, avals, "scan's f (the carry it returns)", like)[0]
        y_leaves, tree = _output_leaves(y, "scan's f", like)
        box[0] = tree
        return carry + y_leaves
    inputs = c_leaves + x_avals
    if changed is not None:
        body, inputs = _carry_arrays_only(body, inputs, nc, changed)
    return _stage_flat(body, inputs, getattr(f, "__name__", "f"), "scan", like=like)


def _scan_weak_carry(f, c_leaves, c_tree, x_leaves, x_tree, like):
    """The carry's Python numbers made arrays of the dtype a first step of ``f`` gives them
    (see _weak_carry)."""
    nc = len(c_leaves)
    if not any(type(x) in _SCALAR_DTYPES for x in c_leaves):
        return c_leaves
    x_avals = [ShapedArray(tuple(x.shape[1:]), get_aval(x).dtype) for x in x_leaves]
    c_avals = [get_aval(c) for c in c_leaves]

    def step_flat(*ls):
        new, _ = _step_pair(f(tree_unflatten(c_tree, ls[:nc]), tree_unflatten(x_tree, ls[nc:])))
        return _check_carry(new, c_tree, c_avals, "scan's f (the carry it returns)", like)[0]
    return _weak_carry(step_flat, c_leaves + x_avals, like, getattr(f, "__name__", "f"),
                       "scan")[:nc]


def _staged_scan(f, c_leaves, c_tree, x_leaves, x_tree, n, reverse):
    like = _loop_like(c_leaves, x_leaves)
    box, nc = [None], len(c_leaves)
    c_leaves = _scan_weak_carry(f, c_leaves, c_tree, x_leaves, x_tree, like)
    while True:  # (again without the numbers a step changes after all: at most once each)
        changed = {}
        g, consts = _scan_body(f, c_leaves, c_tree, x_leaves, x_tree, like, box, changed)
        if not changed:
            break
        c_leaves = [_typed_number(x, changed[i], like) if i in changed else x
                    for i, x in enumerate(c_leaves)]
    arrays = [x for x in c_leaves if type(x) not in _SCALAR_DTYPES]
    k = len(arrays)
    outs = _bind_scan(*consts, *arrays, *x_leaves, body=g, n_consts=len(consts), n_carry=k,
                      length=n, reverse=bool(reverse))
    return tree_unflatten(c_tree, _with_numbers(c_leaves, outs[:k], nc)), \
        tree_unflatten(box[0], outs[k:])


def _bind_scan(*args, body, n_consts, n_carry, length, reverse):
    """``scan_p.bind``, except where some operands are tangents recorded for a backward pass
    (a forward-mode JVP scan whose tangents are recorded under an enclosing vmap, or a custom
    rule's scan over its tangents): the scan is then linear in them, and is recorded by its
    reverse-mode JVP at zero tangent operands (a scan of the other operands and a linear
    ``scan_lin``), as a cond is by ``_bind_cond``."""
    return _bind_by_jvp(scan_p, _scan_jvp, args,
                        dict(body=body, n_consts=n_consts, n_carry=n_carry, length=length,
                             reverse=reverse), len(body.outputs))


def _scan_loop(args, body, n_consts, n_carry, length, reverse):
    """The loop of a ``scan`` equation, in Python (on values or on tracers)."""
    consts = args[:n_consts]
    carry = list(args[n_consts:n_consts + n_carry])
    xs = args[n_consts + n_carry:]
    ys = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = _run(body, [*carry, *[x[i, ...] for x in xs], *consts])
        carry = list(outs[:n_carry])
        ys.append(outs[n_carry:])
    y_avals = _out_avals(body)[n_carry:]
    if not length:
        return carry + _empty_stack(y_avals, _first_array(args))
    if reverse:
        ys.reverse()
    return carry + [fnp.stack([y[j] for y in ys]) for j in range(len(y_avals))]


def _scan_impl(backend, *args, body, n_consts, n_carry, length, reverse):
    if not length:
        return _fresh(_scan_loop(args, body, n_consts, n_carry, length, reverse), args,
                      frozenset())
    # The loop on concrete arrays: the body's compiled program and the library's own unstack.
    # Large ys are written step by step into arrays made at the first step (while they are
    # in cache, and into memory taken back from earlier calls: no page faults); small ones
    # are stacked at the end.
    # (each array's own library: the operands may mix them, see Primitive.mixed_operands)
    consts = list(args[:n_consts])
    carry = list(args[n_consts:n_consts + n_carry])
    rows = [backend_of(x).xp.unstack(x, axis=0) for x in args[n_consts + n_carry:]]
    ys, bufs, run = None, None, None  # ys[j]: the j-th output's steps, where not buffered
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        ins = carry + [r[i] for r in rows] + consts
        if run is None:
            run = _program(body, ins)
        outs = run(*ins)
        carry = list(outs[:n_carry])
        if bufs is None:
            bufs = [buffers.empty(backend_of(y), (length,) + tuple(y.shape), y.dtype, y)
                    if length * _nbytes(y) >= buffers.MIN_BYTES else None
                    for y in outs[n_carry:]]
            ys = [[] for _ in bufs]
        for j, (buf, y) in enumerate(zip(bufs, outs[n_carry:])):
            if buf is None:
                ys[j].append(y)
            else:
                buf[i, ...] = y
    stacked = []
    for j, buf in enumerate(bufs):
        if buf is None:
            stacked.append(backend_of(ys[j][0]).xp.stack(ys[j][::-1] if reverse else ys[j]))
        else:
            buffers.remember(buf)  # taken back by a later scan once nobody holds it
            stacked.append(buf)
    return _fresh(carry + stacked, args, frozenset())


def _nbytes(y):
    n = getattr(y, "nbytes", None)
    if n is None:  # (the Array API has no nbytes)
        n = math.prod(y.shape) * max(get_aval(y).dtype.bits // 8, 1)
    return n


def _scan_abstract_eval(*avals, body, n_consts, n_carry, length, reverse):
    outs = _out_avals(body)
    return outs[:n_carry] + [ShapedArray((length,) + a.shape, a.dtype) for a in outs[n_carry:]]


def _scan_jvp(primals, tangents, body, n_consts, n_carry, length, reverse):
    diff = [i for i, t in enumerate(tangents) if t is not None]
    if _all_concrete(primals):  # the loop itself, run under forward mode
        outs, touts = _jvp_of(
            lambda *a: _scan_loop(a, body, n_consts, n_carry, length, reverse),
            primals, diff, [tangents[i] for i in diff])
        fl = set(_floats([get_aval(o) for o in outs]))
        return outs, [t if j in fl else None for j, t in enumerate(touts)]
    if _recorded(tangents):
        # Reverse mode: one scan of the body linearized, which computes the outputs and stacks
        # what its tangent map needs at each step (its residuals), and a linear scan_lin of
        # that map; its transpose runs the map's transpose at each step, in reverse order.
        start = n_consts + n_carry
        nx = len(primals) - start
        fl = tuple(_floats([v.aval for v in body.in_vars[:n_carry]]))
        xd = tuple(j for j in range(nx) if tangents[start + j] is not None)
        kd = tuple(i for i in range(n_consts) if tangents[i] is not None)
        with_res, lin, extra = _linearized(body, n_carry, nx, fl, xd, kd)
        # (with_res's own captures, which body did not have, are constants after body's)
        res = scan_p.bind(*primals[:n_consts], *extra, *primals[n_consts:], body=with_res,
                          n_consts=n_consts + len(extra), n_carry=n_carry, length=length,
                          reverse=reverse)
        n_out = len(body.outputs)
        outs, stacked = res[:n_out], res[n_out:]
        out_float = _floats([get_aval(o) for o in outs])
        lin_out = scan_lin_p.bind(
            *[tangents[i] for i in diff], *stacked, *primals[start:], *primals[:n_consts],
            lin=lin, n_consts=n_consts, n_carry=n_carry, length=length, reverse=reverse,
            diff=tuple(diff), fl=fl, xd=xd, kd=kd, out_float=tuple(out_float))
        tangents_out = _nones(n_out)
        for j, t in zip(out_float, lin_out):
            tangents_out[j] = t
        return outs, tangents_out
    # Forward mode: a scan whose carry and ys have tangents too.
    start = n_consts + n_carry
    consts, carry, xs = primals[:n_consts], list(primals[n_consts:start]), primals[start:]
    t_consts, t_carry, t_xs = tangents[:n_consts], tangents[n_consts:start], tangents[start:]
    nc, nx = len(carry), len(xs)
    fl = _floats([get_aval(c) for c in carry])
    xd = [i for i, t in enumerate(t_xs) if t is not None]
    kd = [i for i, t in enumerate(t_consts) if t is not None]
    k_tans = [t_consts[i] for i in kd]
    y_float = _floats(_out_avals(body)[nc:])
    tc0 = [fnp.zeros_like(carry[i]) if t_carry[i] is None else t_carry[i] for i in fl]

    def step(c_all, x_all):
        c, tc, x, tx = c_all[:nc], c_all[nc:], x_all[:nx], x_all[nx:]

        def g(*d):
            cf, xf, kf = list(c), list(x), list(consts)
            for i, v in zip(fl, d):
                cf[i] = v
            for i, v in zip(xd, d[len(fl):]):
                xf[i] = v
            for i, v in zip(kd, d[len(fl) + len(xd):]):
                kf[i] = v
            return list(body(*cf, *xf, *kf))
        primal_in = [c[i] for i in fl] + [x[i] for i in xd] + [consts[i] for i in kd]
        outs, touts = _jvp_of(g, primal_in, list(range(len(primal_in))), [*tc, *tx, *k_tans])
        return (outs[:nc] + [touts[i] for i in fl],
                outs[nc:] + [touts[nc + j] for j in y_float])
    c_out, ys = scan(step, carry + tc0, list(xs) + [t_xs[i] for i in xd], length=length,
                     reverse=reverse)
    n_y = len(ys) - len(y_float)
    tangents_out = _nones(nc + n_y)
    for i, t in zip(fl, c_out[nc:]):
        tangents_out[i] = t
    for j, t in zip(y_float, ys[n_y:]):
        tangents_out[nc + j] = t
    return c_out[:nc] + ys[:n_y], tangents_out


def _scan_batch(vals, dims, body, n_consts, n_carry, length, reverse, batch_interp):
    from .batching import vmap
    start = n_consts + n_carry
    size = batch_size(vals, dims)
    consts = vals[:n_consts]
    carry = [with_batch(v, d, size)
             for v, d in zip(vals[n_consts:start], dims[n_consts:start])]
    # Batched xs hold the batch first: the scanned axis goes first, the batch second.
    xs = [v if d is None else fnp.moveaxis(v, 0, 1) for v, d in zip(vals[start:], dims[start:])]
    x_axes = tuple(None if d is None else 0 for d in dims[start:])
    nc = len(carry)
    step = vmap(lambda *a: body(*a), in_axes=(0,) * nc + x_axes + tuple(dims[:n_consts]),
                axis_size=size, axis_name=batch_interp.axis_name)

    def f(c, x):
        outs = step(*c, *x, *consts)
        return outs[:nc], outs[nc:]
    c_out, ys = scan(f, carry, xs, length=length, reverse=reverse)
    outs = list(c_out) + [fnp.moveaxis(y, 0, 1) for y in ys]
    return outs, [0] * len(outs)


def _linearized(body, n_carry, nx, fl, xd, kd, name="scan's f", what="scan"):
    """``body`` (inputs: carry, xs elements, constants) linearized once, abstractly, in the
    floating-point carries ``fl``, the elements ``xd`` and the constants ``kd``:

    - ``with_res``: ``body`` that also returns its residuals (the values its tangent map
      reads that it computed, or took as its carry), which a scan stacks step by step;
    - ``extra``: the values ``with_res`` captures beyond ``body``'s inputs, its last inputs;
    - ``lin``: the tangent map, a linear graph whose inputs are those residuals, the xs
      elements, the constants, then the tangents, and whose outputs are the tangents of the
      body's outputs (None where zero).

    Cached per body and choice of differentiated inputs. (A cond's branch too: no carry, and
    every input read where it is; ``name`` and ``what`` for errors.)"""
    cache = body.__dict__.setdefault("_linearized", {})
    key = (fl, xd, kd)
    if key in cache:
        return cache[key]
    from .reverse import linearize_flat
    in_avals = [v.aval for v in body.in_vars]
    pos = list(fl) + [n_carry + j for j in xd] + [n_carry + nx + i for i in kd]
    box = {}

    def with_res(*ins):
        interp = _current.get().interp  # the staging of this function: its tracers are residuals

        def g(d):
            full = list(ins)
            for p, v in zip(pos, d):
                full[p] = v
            return list(body(*full))
        outs, graph = linearize_flat(g, [ins[p] for p in pos])
        inputs = {id(t): k for k, t in enumerate(ins)}
        stacked, where = [], {}
        for _, args, params, _ in graph.eqns:
            for x in [*args, *_param_tracers(params)]:
                if type(x) is StagingTracer and x._interp is interp and id(x) not in where:
                    k = inputs.get(id(x))
                    if k is None or k < n_carry:  # computed, or the carry: stacked
                        where[id(x)] = ("stacked", len(stacked))
                        stacked.append(x)
                    else:  # an element of xs or a constant: read where it is
                        where[id(x)] = ("input", k)
        box.update(graph=graph, where=where, n_res=len(stacked))
        return list(outs) + stacked
    # Its captures: values the rules of custom functions in body close over (body holds
    # the custom function as one equation, so they were not among its own constants).
    g_res, extra = _stage_flat(with_res, in_avals, name, what)
    graph, where, n_res = box["graph"], box["where"], box["n_res"]
    res_vars = [Var(a) for a in _out_avals(g_res)[len(body.outputs):]]
    x_vars = [Var(a) for a in in_avals[n_carry:]]  # the xs elements, then the constants
    tan_vars = [v for v in graph.in_vars if v is not None]
    own = {}
    for _, args, params, _ in graph.eqns:
        for x in [*args, *_param_tracers(params)]:
            w = where.get(id(x)) if type(x) is StagingTracer else None
            if w is not None:
                own[id(x)] = res_vars[w[1]] if w[0] == "stacked" else x_vars[w[1] - n_carry]
    eqns = [(prim, [own.get(id(x), x) if type(x) is StagingTracer else x for x in args],
             _map_params(params, lambda x: own.get(id(x), x) if type(x) is StagingTracer
                         else x), outs) for prim, args, params, outs in graph.eqns]
    lin = Graph(res_vars + x_vars + tan_vars, eqns, graph.outputs)
    lin.n_res = n_res
    # the equations whose parameters hold residuals (a custom_vjp's), bound at each step too
    lin.var_params = frozenset(k for k, (e, e0) in enumerate(zip(eqns, graph.eqns))
                               if e[2] is not e0[2])
    lin.outputs_avals = _out_avals(body)
    cache[key] = (g_res, lin, extra)
    return g_res, lin, extra

def _param_tracers(params):
    """The tracers inside an equation's parameters (a custom_vjp's residuals are one of its
    parameters, not an operand): residuals of the tangent map too."""
    found = []
    for v in params.values():
        if isinstance(v, Graph) or callable(v) or type(v) in (int, bool, str, float):
            continue
        found.extend(x for x in tree_flatten(v)[0] if type(x) is StagingTracer)
    return found


def _map_params(params, fn):
    """``params`` with ``fn`` applied to the leaves of the values that hold a tracer or a
    Var (the same dict where none does)."""
    new = None
    for k, v in params.items():
        if isinstance(v, Graph) or callable(v) or type(v) in (int, bool, str, float):
            continue
        leaves, tree = tree_flatten(v)
        if any(type(x) in (StagingTracer, Var) for x in leaves):
            new = dict(params) if new is None else new
            new[k] = tree_unflatten(tree, [fn(x) for x in leaves])
    return params if new is None else new

# -- scan_lin: a scan's tangent map, its residuals stacked by the forward scan -----------------


def _bound_lin(lin, values):
    """The equations of the tangent map with its residuals, xs elements and constants bound
    to ``values`` (in the operands and in the parameters that hold them)."""
    env = dict(zip(lin.in_vars[:len(values)], values))
    return [(prim, [env.get(x, x) if type(x) is Var else x for x in args],
             params if k not in lin.var_params else
             _map_params(params, lambda x: env.get(x, x) if type(x) is Var else x), outs)
            for k, (prim, args, params, outs) in enumerate(lin.eqns)]


def _apply_lin(lin, values, tangents):
    """The tangent map at one step: ``values`` are its residuals, xs elements and constants;
    returns the tangents of the body's outputs (None where zero)."""
    sub = Graph(lin.in_vars[len(values):], _bound_lin(lin, values),
                [o if o is not None else 0 for o in lin.outputs])
    outs = eval_graph(sub, list(tangents))
    return [None if o is None else r for o, r in zip(lin.outputs, outs)]


def _transpose_lin(lin, values, out_cts):
    """The transpose of the tangent map at one step: cotangents of its tangent inputs (None
    where zero) from those of the body's outputs."""
    return backward(Graph(lin.in_vars[len(values):], _bound_lin(lin, values), lin.outputs),
                    out_cts)


def _scan_lin_forward(*args, lin, n_consts, n_carry, length, reverse, diff, fl, xd, kd,
                      out_float):
    nt = len(fl) + len(xd) + len(kd)
    n_tan, n_res = len(diff), lin.n_res
    nx = len(lin.in_vars) - n_res - n_consts - nt
    d_tans = args[:n_tan]
    stacked = args[n_tan:n_tan + n_res]
    xs = args[n_tan + n_res:n_tan + n_res + nx]
    consts = args[n_tan + n_res + nx:]
    tan = dict(zip(diff, d_tans))
    avals = [v.aval for v in lin.in_vars[n_res + nx + n_consts:]]  # the tangent inputs
    like = _loop_like(consts, stacked, xs)
    device = fnp.device(like) if like is not None else None
    tc0 = [tan[n_consts + i] if n_consts + i in tan else
           fnp.zeros(a.shape, dtype=a.dtype, device=device) for i, a in zip(fl, avals)]
    k_tans = [tan[i] for i in kd]
    y_float = [j - n_carry for j in out_float if j >= n_carry]

    def dense(t, j):
        if t is not None:
            return t
        a = lin.outputs_avals[j]
        return fnp.zeros(a.shape, dtype=a.dtype, device=device)

    def step(tc, x_all):
        r, x, tx = x_all[:n_res], x_all[n_res:n_res + nx], x_all[n_res + nx:]
        touts = _apply_lin(lin, [*r, *x, *consts], [*tc, *tx, *k_tans])
        return ([dense(touts[i], i) for i in fl],
                [dense(touts[n_carry + j], n_carry + j) for j in y_float])
    start = n_consts + n_carry
    tc, tys = scan(step, tc0, [*stacked, *xs, *[tan[start + j] for j in xd]], length=length,
                   reverse=reverse)
    by_out = dict(zip(fl, tc))
    by_out.update((n_carry + j, t) for j, t in zip(y_float, tys))
    return [by_out[o] for o in out_float]


def _scan_lin_transpose(cts, *args, lin, n_consts, n_carry, length, reverse, diff, fl, xd,
                        kd, out_float):
    if all(c is None for c in cts):
        return _nones(len(args))
    nt = len(fl) + len(xd) + len(kd)
    n_tan, n_res = len(diff), lin.n_res
    nx = len(lin.in_vars) - n_res - n_consts - nt
    stacked = args[n_tan:n_tan + n_res]
    xs = args[n_tan + n_res:n_tan + n_res + nx]
    consts = args[n_tan + n_res + nx:]
    nf = len(fl)
    like = _loop_like(consts, stacked, xs)
    device = fnp.device(like) if like is not None else None
    given = dict(zip(out_float, cts))
    out_avals = lin.outputs_avals
    y_float = [j - n_carry for j in out_float if j >= n_carry]

    def zeros(a, lead=()):
        return fnp.zeros(lead + a.shape, dtype=a.dtype, device=device)
    ct_carry = [given[i] if given.get(i) is not None else zeros(out_avals[i]) for i in fl]
    ct_ys = [given[n_carry + j] if given.get(n_carry + j) is not None else
             zeros(out_avals[n_carry + j], (length,)) for j in y_float]
    t_avals = [v.aval for v in lin.in_vars[n_res + nx + n_consts:]]

    def step(carry, x_all):
        ct_next, ct_k = carry[:nf], carry[nf:]
        r, x, ct_y = x_all[:n_res], x_all[n_res:n_res + nx], x_all[n_res + nx:]
        out_cts = _nones(len(lin.outputs))
        for i, c in zip(fl, ct_next):
            out_cts[i] = c
        for j, c in zip(y_float, ct_y):
            out_cts[n_carry + j] = c
        g = _transpose_lin(lin, [*r, *x, *consts], out_cts)
        g = [zeros(a) if c is None else c for c, a in zip(g, t_avals)]
        return ([*g[:nf], *[a + b for a, b in zip(ct_k, g[nf + len(xd):])]],
                list(g[nf:nf + len(xd)]))
    init = ct_carry + [fnp.zeros_like(consts[i]) for i in kd]
    final, ct_xs = scan(step, init, [*stacked, *xs, *ct_ys], length=length,
                        reverse=not reverse)
    out = []
    for i in diff:
        if i < n_consts:
            out.append(final[nf + kd.index(i)])
        elif i < n_consts + n_carry:
            out.append(final[fl.index(i - n_consts)])
        else:
            out.append(ct_xs[xd.index(i - n_consts - n_carry)])
    return out + _nones(len(args) - len(diff))


def _scan_lin_abstract_eval(*avals, lin, n_carry, length, out_float, **_):
    return [a if o < n_carry else ShapedArray((length,) + a.shape, a.dtype)
            for o, a in ((o, lin.outputs_avals[o]) for o in out_float)]


scan_lin_p.def_impl(lambda backend, *args, **params: _scan_lin_forward(*args, **params))
scan_lin_p.def_abstract_eval(_scan_lin_abstract_eval)
scan_lin_p.def_jvp_inline(_scan_lin_forward)
scan_lin_p.def_transpose(_scan_lin_transpose)

scan_p.def_impl(_scan_impl)
scan_p.def_abstract_eval(_scan_abstract_eval)
scan_p.def_jvp(_scan_jvp)
scan_p.def_batch(_scan_batch)
scan_p.batch_sees_interp = True


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``, from ``init_val``
    (``jax.lax.fori_loop``).

    With concrete bounds this is a Python ``for`` loop (``i`` a Python int) and, while staging
    (``jit``), one ``scan`` equation (``i`` an integer array), differentiable in both modes
    under every transform. With abstract bounds it is a ``while_loop``, differentiable in
    reverse mode too (under ``jit`` as well, as ``while_loop`` is). ``unroll`` (None, a bool
    or an int >= 0, as JAX's) is accepted for compatibility and, as ``scan``'s, has no
    effect. Staged, ``i`` has the dtype of an array bound, else int64 (there are no weak
    types: cast it before adding it to a narrower integer carry).
    """
    if not (unroll is None or type(unroll) is bool or is_nonnegative_int(unroll)):
        raise ValueError(f"fori_loop's unroll must be None, a bool or an int >= 0; got "
                         f"{unroll!r}.")
    if not callable(body_fun):
        raise TypeError("fori_loop(lower, upper, body_fun, init_val): body_fun must be a "
                        "function.")
    for name, b in (("lower", lower), ("upper", upper)):
        _check_scalar(b, f"fori_loop's {name}")
        if type(b) is not int and not (type(b) not in _SCALAR_DTYPES
                                       and get_aval(b).dtype.kind in "iu"):
            raise TypeError(f"fori_loop's {name} must be an integer; got "
                            f"{repr(b) if type(b) in _SCALAR_DTYPES else get_aval(b).str_short()}.")
    # NumPy's integer scalars are numbers, as Python's are (not NumPy arrays in the loop)
    lower, upper = (int(b) if isinstance(b, _np.integer) else b for b in (lower, upper))
    lo, hi = _concrete(lower), _concrete(upper)
    if lo is not None and hi is not None:
        lo, hi = int(lo), int(hi)
        if not _staging():
            leaves, tree = _carry_leaves(init_val, "fori_loop")
            body_fun = with_constant_arguments(body_fun, sys._getframe(1))
            avals = [get_aval(x) for x in leaves]
            start = leaves
            numbers = _unchanged_numbers(leaves)
            if lo >= hi and numbers:
                # no step runs: the carry's Python numbers typed as a step would type them
                # (0.0 beside a float32 body: float32), as staged under jit and in JAX
                like = _loop_like(leaves)

                def step_flat(*ls):
                    return _check_carry(body_fun(lo, tree_unflatten(tree, ls)), tree, avals,
                                        "fori_loop's body_fun", like)[0]
                try:
                    leaves = _weak_carry(step_flat, leaves, like,
                                         getattr(body_fun, "__name__", "body_fun"),
                                         "fori_loop")
                except Exception:  # (a step at lo may fail, xs[lo] past the end: the loop
                    pass           # runs none, so the numbers stay as they are)
            for i in range(lo, hi):
                leaves, avals = _check_carry(body_fun(i, tree_unflatten(tree, leaves)), tree,
                                             avals, "fori_loop's body_fun", None, prev=leaves)
                if numbers:
                    _drop_changed(numbers, leaves)
            _drop_changed(numbers, leaves)
            return tree_unflatten(tree, _results(leaves, _loop_like(leaves), start, numbers))

        def step(carry, _):
            i, val = carry
            return (i + 1, _fori_step(body_fun, i, val)), None
        start = lower if type(lower) is not int else _to_array(
            lo, None if type(upper) is int else get_aval(upper).dtype,
            _loop_like(tree_flatten(init_val)[0]))
        (_, val), _ = scan(step, (start, init_val), length=max(hi - lo, 0))
        return val
    like = _loop_like([lower, upper], tree_flatten(init_val)[0])
    # a Python int lower bound takes an array upper bound's dtype (the index's, as in JAX)
    start = lower if type(lower) is not int else _to_array(
        lower, None if type(upper) is int else get_aval(upper).dtype, like)
    # fnp's functions, not operators: a plain array of a strict library refuses a tracer
    _, val = while_loop(lambda c: fnp.less(c[0], upper),
                        lambda c: (fnp.add(c[0], 1), _fori_step(body_fun, c[0], c[1])),
                        (start, init_val))
    return val


def _fori_step(body_fun, i, val):
    """``body_fun(i, val)`` for a staged ``fori_loop`` (``i`` an integer array), the carry
    checked, with a word on the index where it widened an integer carry."""
    leaves, tree = tree_flatten(val)
    try:
        new = _check_carry(body_fun(i, val), tree, [get_aval(x) for x in leaves],
                           "fori_loop's body_fun", _loop_like(leaves))[0]
    except TypeError as e:
        bits = _dt.dtype_of(i).bits
        # (an integer array times a Python float is float64: narrower float carries too)
        narrow = [x for x in leaves if type(x) not in _SCALAR_DTYPES and not _static(x)
                  and (_dt.dtype_of(x).kind in "iu" and _dt.dtype_of(x).bits < bits
                       or _dt.dtype_of(x).kind == "f" and _dt.dtype_of(x).bits < 64
                       or _dt.dtype_of(x).kind == "c" and _dt.dtype_of(x).bits < 128)]
        if not narrow:
            raise
        raise TypeError(f"{e} Staged (under jit, or with traced bounds), the loop index is an "
                        f"array of {get_aval(i).dtype.name}, not a Python int as it is "
                        f"eagerly (i * 0.5 is then float64): where it meets a narrower "
                        f"integer or float carry, cast it (for example "
                        f"functrans.numpy.astype(i, carry.dtype)).") from None
    return tree_unflatten(tree, new)


def _leading_length(x_leaves, length, what):
    """The leading length the leaves of ``xs`` share (``length`` where given, None where
    neither says one); an error naming ``what`` for a leaf with no leading axis or another
    length."""
    n = length
    for i, x in enumerate(x_leaves):
        if type(x) in _SCALAR_DTYPES or _static(x) or not tuple(x.shape):
            raise TypeError(f"{what}: every leaf of xs must be an array with a leading axis "
                            f"to {'scan' if what == 'scan' else 'map'} over; leaf {i} is "
                            f"{'a 0-d array' if hasattr(x, 'shape') else type(x).__name__}.")
        if n is None:
            n = x.shape[0]
        elif x.shape[0] != n:
            raise ValueError(f"{what}: the leaves of xs must all have the leading length "
                             f"{n}{' (length)' if length is not None else ''}; leaf {i} has "
                             f"shape {tuple(x.shape)}.")
    return n


def map(f, xs, *, batch_size=None):  # noqa: A001  (jax.lax.map's name)
    """``f`` applied to each ``xs[i]`` (``xs`` a pytree of arrays of one leading length), the
    results stacked (``jax.lax.map``): a ``scan`` with no carry. With ``batch_size``, the
    scan runs over batches of that many members, each batch through ``vmap(f)`` (and the
    remainder through one more), as in JAX: fewer steps, more memory per step.
    ``batch_size=0`` is one batch of every member, ``vmap(f)(xs)``, as JAX documents."""
    if not callable(f):
        raise TypeError(f"lax.map(f, xs): f must be a function; got {type(f).__name__}.")
    f = with_constant_arguments(f, sys._getframe(1))
    leaves, tree = tree_flatten(xs)
    if not leaves:
        raise ValueError("lax.map needs at least one array in xs (the length to map over).")
    # (checked here, with map's name: the batches below slice each leaf to the first's
    # length, so a longer leaf would otherwise be cut short without a word)
    n = _leading_length(leaves, None, "lax.map")
    if batch_size is None:
        return scan(lambda carry, x: (carry, f(x)), (), xs)[1]
    from .batching import vmap
    try:
        batch_size = operator.index(batch_size)
    except TypeError:
        raise TypeError(f"lax.map: batch_size must be an int >= 0 or None; got "
                        f"{batch_size!r}") from None
    if batch_size < 0:
        raise ValueError(f"lax.map: batch_size must be an int >= 0 (0: one batch of "
                         f"everything, as vmap); got {batch_size!r}")
    if n == 0:  # nothing to map: the empty results of one (empty) batch
        return vmap(f)(xs)
    full, rest = divmod(n, batch_size) if 0 < batch_size <= n else (0, n)
    outs = []
    if full:
        head = tree_unflatten(tree, [fnp.reshape(x[:full * batch_size],
                                                 (full, batch_size) + tuple(x.shape[1:]))
                                     for x in leaves])
        ys = scan(lambda carry, x: (carry, vmap(f)(x)), (), head)[1]
        outs.append(tree_map(lambda y: fnp.reshape(y, (full * batch_size,)
                                                   + tuple(y.shape[2:])), ys))
    if rest:
        outs.append(vmap(f)(tree_unflatten(tree, [x[full * batch_size:] for x in leaves])))
    if len(outs) == 1:
        return outs[0]
    return tree_map(lambda a, b: fnp.concat([a, b], axis=0), *outs)
