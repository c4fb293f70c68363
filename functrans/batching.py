"""Vectorising map: ``vmap`` and its interpreter.

A batch tracer stands for a whole batch of values of one shape; it holds them stacked along
a leading axis. When a primitive meets one, the interpreter calls the primitive's batching
rule (see :mod:`functrans.primitives._batching`), which applies the primitive once to the
stacked arrays. Operands that are not batched (constants, values closed over) are broadcast
only where a rule needs it, and a primitive with no batched operand goes to the interpreter
below untouched, so work that does not depend on the batch runs once.
"""

from __future__ import annotations

import contextvars
import functools
import operator

import optree

from .backends.numpy_backend import plain as _plain_numpy
from .dtypes import _by_id, dtype_of
from .core import (_SCALAR_DTYPES, Interpreter, ShapedArray, Tracer, _current_get, _get_ident,
                   _own_cell, get_aval, reset_current, set_current, switch_current)
from .interpreters import CONSTANT_INTERPRETERS, ConstTracer, constant
from .errors import (BatchingError, ConcretizationError, FunctransError, MissingRuleError,
                     check_function, is_nonnegative_int)
from .tree import NAMESPACE, tree_flatten, tree_unflatten

__all__ = ["vmap", "pmap"]

_by_id_get = _by_id.get


_CUSTOM_CALLS = ("custom_jvp_call", "custom_vjp_call")


class BatchTracer(Tracer):
    """A batch of values: ``val`` holds them along its leading axis."""

    __slots__ = ("val",)

    def __init__(self, interp, val):
        self._interp = interp
        self.val = val

    @property
    def aval(self):
        a = get_aval(self.val)
        return ShapedArray(a.shape[1:], a.dtype)

    @property
    def shape(self):
        return tuple(self.val.shape[1:])

    @property
    def dtype(self):
        # (the batch's dtype without the aval of the batch member built: asked at every
        # functrans.numpy call; dtype_of maps a native dtype by one look-up)
        d = _by_id_get(id(self.val.dtype))
        return d if d is not None else dtype_of(self.val)

    def _concrete(self, what):
        raise ConcretizationError(
            f"{what} needs one concrete value, but under vmap this tracer "
            f"({self.aval.str_short()}) stands for a whole batch of values, which may differ. "
            f"Python control flow cannot take a different branch per batch member: use "
            f"functrans.numpy.where(condition, a, b) to choose elementwise, functrans.lax "
            f"(cond, while_loop) for control flow per member, or move the condition outside "
            f"vmap."
            # NumPy calls float() when a batched scalar is written into a plain array.
            + (" If it came from writing this value into a plain array (y[i] = x with y "
               "from zeros or an unmapped argument), build y with where, stack or concat "
               "instead: a plain array cannot hold a batch."
               if what in ("float()", "int()", "complex()") else ""))


class BatchInterpreter(Interpreter):
    """``axis_name``: the vmap's name for collectives (functrans.collectives), or None;
    ``axis_size``: its number of members; ``like``: a mapped argument (for the library and
    device of arrays the collectives create), or None."""

    __slots__ = ("axis_name", "axis_size", "like")

    def __init__(self, parent, axis_name=None, axis_size=None, like=None):
        self.parent = parent
        self.active = True
        self.axis_name = axis_name
        self.axis_size = axis_size
        self.like = like

    def process(self, prim, args, params):
        n = len(args)
        if n == 1:  # (the common cases unrolled, as forward mode's)
            a = args[0]
            if type(a) is BatchTracer and a._interp is self:
                vals, dims = [a.val], [0]
            else:
                vals = dims = None
        elif n == 2:
            a, b = args
            own_a = type(a) is BatchTracer and a._interp is self
            own_b = type(b) is BatchTracer and b._interp is self
            if own_a or own_b:  # (the rule gets a constant's array, as forward mode's)
                vals = [a.val if own_a else a.primal if type(a) is ConstTracer else a,
                        b.val if own_b else b.primal if type(b) is ConstTracer else b]
                dims = [0 if own_a else None, 0 if own_b else None]
            else:
                vals = dims = None
        else:
            vals = dims = None
            consts = False
            i = 0
            for a in args:
                t = type(a)
                if t is BatchTracer and a._interp is self:
                    if vals is None:
                        vals = list(args)
                        dims = [None] * len(args)
                    vals[i] = a.val
                    dims[i] = 0
                elif t is ConstTracer:
                    consts = True
                i += 1
            if consts and vals is not None:  # (a constant's array to the rule)
                vals = [a.primal if type(a) is ConstTracer else a for a in vals]
        if vals is None:
            # Nothing batched: the parent handles it once for the whole batch; except a
            # collective over this vmap's name (psum of a constant is size × it).
            if prim.name in _CUSTOM_CALLS:
                # A custom function whose arguments are not batched may still close over
                # this vmap's values: its rules, run beneath, would not reach them. Then it
                # is batched as a whole, its arguments broadcast (as JAX does always).
                try:
                    return self.parent.process(prim, args, params)
                except FunctransError as e:
                    size = self._own_leak_size(e)
                    if size is None or all(type(a) in _SCALAR_DTYPES for a in args):
                        raise
                from .primitives._batching import with_batch
                vals = [a if type(a) in _SCALAR_DTYPES else with_batch(a, None, size)
                        for a in args]
                dims = [None if type(a) in _SCALAR_DTYPES else 0 for a in args]
            elif (self.axis_name is None or not prim.collective
                    or self.axis_name not in params["axis_name"]):
                return self.parent.process(prim, args, params)
            else:
                vals, dims = list(args), [None] * len(args)
        rule = prim.batch
        if rule is None:
            if prim.jvp_inline is not None:  # defined by traceable operations: run those
                return self._inline(prim, args, params)
            raise MissingRuleError(f"primitive {prim.name!r} has no batching rule, so vmap "
                                   f"cannot apply it to a batch")
        if prim.batch_sees_interp:
            params = dict(params, batch_interp=self)
        cell = _current_get()  # (core.switch_current, inline)
        if cell.thread != _get_ident():
            cell = _own_cell(cell)
        previous = cell.interp
        cell.interp = self.parent
        try:
            out, out_dim = rule(vals, dims, **params)
        finally:
            cell.interp = previous
        if prim.multiple_results:
            return [o if d is None else BatchTracer(self, o) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(self, out)

    def _own_leak_size(self, e):
        """The batch size where ``e`` (or what caused it) reports one of this vmap's tracers
        reaching an operation beneath it, else None."""
        while e is not None:
            t = getattr(e, "tracer", None)
            if type(t) is BatchTracer and t._interp is self:
                return t.val.shape[0]
            e = e.__cause__ or e.__context__
        return None

    def _inline(self, prim, args, params):
        cell, previous = switch_current(self)
        try:
            return prim.jvp_inline(*args, **params)
        finally:
            cell.interp = previous


def _plain(x):
    """An output as the plain array it is (a constant tracer's array, or one of a transform
    still running; an AtArray as a NumPy array)."""
    if type(x) is ConstTracer:
        x = constant(x.primal)
    return _plain_numpy(x)


class _AdoptingBatchInterpreter(BatchInterpreter):
    """The batch of a user's function that a custom primitive's batching rule re-runs under
    a vmap of its own (custom_jvp, custom_vjp): values the function closes over from the vmaps
    that met the primitive (``adopted``) are batches of the same members along the same
    axis, so they are taken as this interpreter's own rather than as leaked tracers (JAX
    re-enters the same batch trace for this)."""

    __slots__ = ("adopted",)

    def __init__(self, parent, adopted, axis_name=None, axis_size=None, like=None):
        super().__init__(parent, axis_name, axis_size, like)
        self.adopted = adopted

    def process(self, prim, args, params):
        adopted = self.adopted
        if any(type(a) is BatchTracer and a._interp in adopted for a in args):
            args = tuple(BatchTracer(self, a.val)
                         if type(a) is BatchTracer and a._interp in adopted else a
                         for a in args)
        return BatchInterpreter.process(self, prim, args, params)


CONSTANT_INTERPRETERS.update((BatchInterpreter, _AdoptingBatchInterpreter))


def vmap_within(batch_interp, fun, in_axes=0, out_axes=0):
    """``vmap(fun, in_axes, out_axes)`` for a batching rule of ``batch_interp``: ``fun`` may
    close over that interpreter's tracers (see _AdoptingBatchInterpreter)."""
    adopted = (batch_interp,) + getattr(batch_interp, "adopted", ())
    # The same members as batch_interp's: collectives over its name are this vmap's.
    return _vmap(fun, in_axes, out_axes, None, adopted, batch_interp.axis_name)


# -- vmap --------------------------------------------------------------------------------------


# The name of the innermost running vmap(..., randomness="error"), whose function must not
# draw from NumPy's global random state (functrans.numpy.random asks refuse_random_draw).
_NO_RANDOM = contextvars.ContextVar("functrans_vmap_no_random", default=None)
# The running vmaps with randomness="different", outermost first: (interpreter, batch size).
_DIFFERENT = contextvars.ContextVar("functrans_vmap_different", default=())


def different_random_levels():
    """The running ``vmap(..., randomness="different")`` levels, outermost first, as pairs
    (interpreter, batch size): a draw inside is made once per member of each."""
    return _DIFFERENT.get()


def batched_sample(value, levels):
    """``value`` (an array of shape ``sizes + sample_shape``, one sample per member of the
    ``levels``) as the batch tracers of those levels (the outermost's innermost)."""
    for interp, _ in levels:
        value = BatchTracer(interp, value)
    return value


def refuse_random_draw(what):
    """Raise if a vmap with ``randomness="error"`` is running: ``what`` (a sampler of
    functrans.numpy.random) would give every batch member the same numbers."""
    name = _NO_RANDOM.get()
    if name is not None:
        raise BatchingError(
            f"vmap of {name} (randomness='error'): functrans.numpy.random.{what} was called "
            f"inside it, and would give every batch member the same numbers. Draw outside and "
            f"pass the sample in, use randomness='same' if one draw for the whole batch is "
            f"meant, or draw with keys mapped over the batch (vmap(f)(functrans.random.split("
            f"key, n))) for different numbers per member.")


class _Unmapped:
    """Stands for ``None`` in ``in_axes``/``out_axes`` while broadcasting them over the
    argument trees (where ``None`` would otherwise be an empty subtree)."""

    def __repr__(self):
        return "None"


_UNMAPPED = _Unmapped()


def _axes_leaves(axes, tree, what, name, n_leaves=None, treedef=None):
    """One axis (or _UNMAPPED) per leaf of ``tree``: ``axes`` is an int, None, or a tree
    prefix of ``tree`` with ints and Nones at its leaves. ``n_leaves``: ``tree``'s number of
    leaves, where the caller has it (one int or None for all then costs no tree walk);
    ``treedef``: its structure, likewise."""
    if n_leaves is not None and (type(axes) is int or axes is None):
        return [_UNMAPPED if axes is None else axes] * n_leaves
    marked = optree.tree_map(lambda a: _UNMAPPED if a is None else a, axes, none_is_leaf=True,
                             namespace=NAMESPACE)
    try:
        full = optree.tree_broadcast_prefix(marked, tree, namespace=NAMESPACE)
    except ValueError as e:
        hint = ("one int or None per argument (a tuple as long as the positional arguments)"
                if what == "in_axes" else "one int or None per output (a tuple for a tuple "
                "of outputs)")
        # optree's message goes on to print the whole tree, array contents included: keep its
        # reason, and show the structure with * for each array.
        reason = str(e).split(";")[0].split(", got ")[0].rstrip(".")
        spec = repr(optree.tree_structure(tree, namespace=NAMESPACE))
        spec = spec[len("PyTreeSpec("):-1] if spec.startswith("PyTreeSpec(") else spec
        from .tree import _first_difference, keystr, tree_structure
        found = _first_difference(tree_structure(marked), tree)
        if found is not None:
            reason += f" at {keystr(found[0]) or 'the root'}"
        raise BatchingError(f"vmap of {name}: {what} {axes!r} does not match the structure of "
                            f"the {'arguments' if what == 'in_axes' else 'outputs'}, {spec} "
                            f"({reason}). Give {hint}, or a tree prefix of them.") from None
    # Read per leaf of ``tree``, by key: the broadcast keeps the prefix's nodes, and a dict
    # given for an OrderedDict or defaultdict (which optree takes as its prefix) orders its
    # keys otherwise (its leaves in that order gave one argument's axis to another).
    if treedef is None:
        treedef = optree.tree_structure(tree, namespace=NAMESPACE)
    leaves = treedef.flatten_up_to(full)
    for a in leaves:
        if a is not _UNMAPPED and type(a) is not int:
            raise BatchingError(f"vmap of {name}: {what} entries must be ints or None; got "
                                f"{a!r}.")
    return leaves


def _leaf_path(tree, i, root):
    """Leaf ``i`` of ``tree`` named as the user wrote it (``args[1]['x']``), for messages."""
    try:
        path = optree.tree_paths(tree, namespace=NAMESPACE)[i]
    except Exception:  # noqa: BLE001  (a name is a nicety: the index will do)
        return f"leaf {i}"
    return root + "".join(f"[{k!r}]" for k in path) if path else f"the whole {root}"


def _arg_path(args, kwargs, i, n_pos):
    return (_leaf_path(args, i, "args") if i < n_pos
            else _leaf_path(kwargs, i - n_pos, "kwargs"))


def _move_axis(x, src, dst):
    if src == dst:
        return x
    from . import numpy as fnp  # (only where it is needed: an import statement runs
    return fnp.moveaxis(x, src, dst)  # importlib's Python on every call)


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None, *,
         chunk_size=None, randomness="same", **kwargs):
    """Vectorise ``fun`` over an axis of its arguments: ``vmap(f)(xs)`` is ``f`` applied to each
    ``xs[i]``, stacked — computed by running ``f`` once on the whole arrays.

    Args:
        fun: function of pytrees of arrays.
        in_axes: the mapped axis of each positional argument: an int (every argument), None
            (not mapped: the same value for every batch member), or a tuple with one entry per
            argument, each an int, None or a tree prefix of that argument. Negative axes count
            from the end. Keyword arguments are always mapped over their axis 0.
        out_axes: where the batch axis goes in each output (int, None or a tree prefix of the
            output); None requires that output not to depend on the batch.
        axis_name: a name (any hashable, usually a string) for the batch axis, which the
            collectives of :mod:`functrans.lax` (``psum``, ``pmean``, ``all_gather``,
            ``axis_index``...) inside ``fun`` refer to: ``psum(x, axis_name)`` is the sum
            of ``x`` over the batch members.
        axis_size: the batch size, needed only when no argument is mapped.
        spmd_axis_name: accepted for JAX's signature; it places the batch on a device mesh
            in JAX, and has no effect here (one device; values are the same).
        chunk_size: (torch.func's keyword) run ``fun`` on at most this many batch members
            at a time and concatenate the results: the same values, with the memory of a
            chunk instead of the whole batch. ``None`` runs the whole batch at once. Not with
            ``axis_name`` (a collective would see one chunk only).
        randomness: (torch.func's keyword) what draws from NumPy's global random state
            (:mod:`functrans.numpy.random`) inside ``fun`` do: ``"same"`` (the default; one
            draw serves every member, as the module documents), ``"different"`` (each
            member draws its own, in member order), or ``"error"`` (refuse them). With
            :mod:`functrans.random`'s keys the choice is explicit instead: map ``fun`` over
            ``split(key, n)`` for different numbers, pass one key unmapped for the same.

    Returns:
        A function taking the same arguments as ``fun``, with the batch axis in the mapped
        ones, and returning ``fun``'s outputs stacked along ``out_axes``.

    Raises:
        BatchingError: mapped axes of different sizes, axes out of range, ``in_axes`` or
            ``out_axes`` that do not fit the arguments or outputs, or an operation whose
            result shape depends on the values (boolean masks, ``nonzero``, ``unique_*``).
        ConcretizationError: Python control flow (``if``, ``while``, ``float()``) on a
            batched value; use ``functrans.numpy.where``.

    Composes with every other transform in both orders (``vmap(grad(f))``,
    ``grad(lambda x: sum(vmap(f)(x)))``, ``jacfwd(vmap(f))``, nested ``vmap``).

    Example:
        >>> import functrans as ft, functrans.numpy as fnp
        >>> ft.vmap(lambda x, y: fnp.vecdot(x, y), in_axes=(0, None))(
        ...     fnp.asarray([[1.0, 2.0], [3.0, 4.0]]), fnp.asarray([1.0, 1.0]))
        array([3., 7.])
    """
    check_function(fun, "vmap")
    if kwargs:
        _torch_spellings("vmap", kwargs)
    if axis_name is not None:
        try:
            hash(axis_name)
        except TypeError:
            raise BatchingError(f"vmap: axis_name must be hashable (a string, usually); got "
                                f"{axis_name!r}.") from None
    if randomness not in ("same", "different", "error"):
        raise ValueError(f"vmap: randomness must be 'same', 'different' or 'error'; got "
                         f"{randomness!r}.")
    if chunk_size is not None:
        chunk_size = _positive_chunk(chunk_size, "vmap")
        if axis_name is not None:
            raise BatchingError("vmap: chunk_size cannot be used with axis_name: a collective "
                                "over the axis would see one chunk of the batch only.")
    batched = _vmap(fun, in_axes, out_axes, axis_size, (), axis_name, randomness)
    if chunk_size is None:
        return batched
    return _chunked(batched, fun, in_axes, out_axes, chunk_size, axis_size, randomness)


# torch.func's names for vmap's and the other transforms' arguments, and what to write here
_TORCH_SPELLINGS = {
    "in_dims": "in_axes (JAX's name for torch.func's in_dims; same meaning)",
    "out_dims": "out_axes (JAX's name for torch.func's out_dims; same meaning)",
    "strict": "nothing: jvp's outputs that do not depend on the inputs get zero tangents",
    "_preallocate_and_copy": "nothing: the Jacobian is assembled the same way either way",
    "randomness": "nothing here: draws of functrans.numpy.random inside the Jacobian's "
                  "batched pass are made once, the same for every basis vector (torch.func's "
                  "'same'); vmap takes randomness='same', 'different' or 'error'",
}


def _torch_spellings(what, kwargs):
    """A TypeError for keyword arguments ``what`` does not take, naming torch.func's
    spellings' equivalents here."""
    name = next(iter(kwargs))
    hint = _TORCH_SPELLINGS.get(name)
    if hint is not None:
        raise TypeError(f"{what}() got torch.func's keyword argument {name!r}; functrans "
                        f"takes {hint}.")
    raise TypeError(f"{what}() got an unexpected keyword argument {name!r}.")


def _positive_chunk(chunk_size, what):
    """``chunk_size`` as an int, or a ValueError unless it is a positive integer (not a
    bool)."""
    try:
        ok = type(chunk_size) is not bool and operator.index(chunk_size) >= 1
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{what}: chunk_size must be a positive int or None; got "
                         f"{chunk_size!r}.")
    return operator.index(chunk_size)


def _chunked(batched, fun, in_axes, out_axes, chunk_size, axis_size, randomness):
    """``batched`` (vmap of ``fun``) run on ``chunk_size`` batch members at a time, the
    results concatenated along their ``out_axes`` (outputs with out_axes None: the first
    chunk's, which do not depend on the batch). With nothing mapped, ``axis_size`` members
    are made in chunks by vmaps of the chunks' sizes."""
    name = getattr(fun, "__name__", type(fun).__name__)

    @functools.wraps(fun)
    def run(*args, **kwargs):
        axes = tuple(in_axes) if isinstance(in_axes, list) else in_axes
        if isinstance(axes, tuple) and len(axes) != len(args):
            return batched(*args, **kwargs)  # (its error)
        leaves, tree = tree_flatten(args)
        axes_l = _axes_leaves(axes, args, "in_axes", name, len(leaves), tree)
        k_leaves, k_tree = tree_flatten(kwargs)
        n_pos = len(leaves)
        leaves, axes_l = leaves + k_leaves, axes_l + [0] * len(k_leaves)
        mapped = [(x, ax) for x, ax in zip(leaves, axes_l) if ax is not _UNMAPPED]
        if not all(hasattr(x, "shape") and type(x) not in _SCALAR_DTYPES
                   and -len(x.shape) <= ax < len(x.shape) for x, ax in mapped):
            return batched(*args, **kwargs)  # (its error)
        sizes = {x.shape[ax] for x, ax in mapped}
        if not mapped and isinstance(axis_size, int) and axis_size > chunk_size:
            n = axis_size
            run_chunk = {m: _vmap(fun, in_axes, out_axes, m, (), None, randomness)
                         for m in {chunk_size, n % chunk_size} if m}
        elif len(sizes) != 1 or next(iter(sizes)) <= chunk_size:
            return batched(*args, **kwargs)  # one chunk, or batched's error
        else:
            n, run_chunk = sizes.pop(), None
        parts = []
        for start in range(0, n, chunk_size):
            piece = slice(start, min(start + chunk_size, n))
            ins = [x if ax is _UNMAPPED else x[(slice(None),) * (ax % len(x.shape)) + (piece, ...)]
                   for x, ax in zip(leaves, axes_l)]
            call = batched if run_chunk is None else run_chunk[piece.stop - piece.start]
            parts.append(call(*tree_unflatten(tree, ins[:n_pos]),
                              **tree_unflatten(k_tree, ins[n_pos:])))
        from .numpy import concat
        first, o_tree = tree_flatten(parts[0])
        o_axes = _axes_leaves(out_axes, parts[0], "out_axes", name, None, o_tree)
        flat = [tree_flatten(p)[0] for p in parts]
        out = [o if ax is _UNMAPPED else concat([p[j] for p in flat], axis=ax)
               for j, (o, ax) in enumerate(zip(first, o_axes))]
        return tree_unflatten(o_tree, out)
    return run


def _vmap(fun, in_axes, out_axes, axis_size, adopted, axis_name=None, randomness="same",
          wrap=True):
    """The batched function of :func:`vmap`, its arguments checked; ``wrap=False`` leaves
    out ``functools.wraps`` (the Jacobians' internal maps, made at every call)."""
    name = getattr(fun, "__name__", type(fun).__name__)
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    elif isinstance(in_axes, dict):  # (a prefix of the tuple of arguments, never of a dict)
        raise BatchingError(f"vmap of {name}: in_axes must be an int, None or a tuple with one "
                            f"entry per positional argument; got a dict. For a dict argument, "
                            f"put the dict in the tuple: in_axes=({in_axes!r},).")
    if axis_size is not None:
        if not is_nonnegative_int(axis_size):
            raise BatchingError(f"vmap of {name}: axis_size must be a non-negative int (the "
                                f"batch size); got {axis_size!r}.")
        axis_size = operator.index(axis_size)

    def batched(*args, **kwargs):
        axes = in_axes
        if isinstance(axes, tuple) and len(axes) != len(args):
            raise BatchingError(
                f"vmap of {name}: in_axes has {len(axes)} entries but the function was called "
                f"with {len(args)} positional argument(s); give one entry per argument.")
        leaves, tree = tree_flatten(args)
        axes_l = _axes_leaves(axes, args, "in_axes", name, len(leaves), tree)
        k_leaves, k_tree = tree_flatten(kwargs)
        n_pos = len(leaves)
        leaves = leaves + k_leaves
        axes_l = axes_l + [0] * len(k_leaves)
        size, sizes = axis_size, []
        for i, (x, ax) in enumerate(zip(leaves, axes_l)):
            if ax is _UNMAPPED:
                continue
            if type(x) in _SCALAR_DTYPES or not hasattr(x, "shape"):
                raise BatchingError(
                    f"vmap of {name}: argument leaf {i} is a {type(x).__name__}, which has no "
                    f"axis {ax} to map over; " + (
                        "mark it unmapped with None in in_axes." if i < n_pos else
                        "it is a keyword argument, and keyword arguments are always mapped "
                        "over axis 0: pass it positionally with None in in_axes, or close "
                        "over it."))
            nd = len(x.shape)
            if not -nd <= ax < nd:
                raise BatchingError(
                    f"vmap of {name}: in_axes {ax} is out of range for argument leaf {i} "
                    f"({_arg_path(args, kwargs, i, n_pos)}) of shape {tuple(x.shape)}.")
            sizes.append((i, tuple(x.shape), ax % nd, x.shape[ax]))
        if sizes:
            distinct = {s[3] for s in sizes}
            if len(distinct) > 1 or (size is not None and size not in distinct):
                desc = ", ".join(f"leaf {i} (shape {s}) axis {a} has size {n}"
                                 for i, s, a, n in sizes)
                where = ", ".join(f"{_arg_path(args, kwargs, i, n_pos)} is leaf {i}"
                                  for i, *_ in sizes)
                raise BatchingError(
                    f"vmap of {name}: the mapped axes must all have the same size, but {desc}"
                    + (f" and axis_size is {size}" if size is not None else "")
                    + f" ({where})"
                    + ". Map over axes of equal length, or mark the argument unmapped with "
                      "None in in_axes" + (
                          "." if all(i < n_pos for i, *_ in sizes) else
                          " (keyword arguments, always mapped over axis 0, are the leaves "
                          f"from {n_pos} on: pass an unmapped one positionally)."))
            size = sizes[0][3]
        elif size is None:
            raise BatchingError(f"vmap of {name}: no argument is mapped (every in_axes is "
                                f"None), so the batch size is unknown; pass axis_size.")
        like = leaves[sizes[0][0]] if sizes else None
        interp = (_AdoptingBatchInterpreter(_current_get().interp, adopted, axis_name, size, like)
                  if adopted else BatchInterpreter(_current_get().interp, axis_name, size, like))
        ins = list(leaves)
        for i, _, ax, _ in sizes:
            ins[i] = BatchTracer(interp, _move_axis(leaves[i], ax, 0))
        token = set_current(interp)
        if randomness == "error":
            rtoken = _NO_RANDOM.set(name)
        elif randomness == "different":
            rtoken = _DIFFERENT.set(_DIFFERENT.get() + ((interp, size),))
        else:
            rtoken = None
        try:
            out = fun(*tree_unflatten(tree, ins[:n_pos]), **tree_unflatten(k_tree, ins[n_pos:]))
        finally:
            if rtoken is not None:
                rtoken.var.reset(rtoken)
            reset_current(token)
            interp.active = False
            interp.like = None  # not kept alive by a leaked tracer
        o_leaves, o_tree = tree_flatten(out)
        o_axes = _axes_leaves(out_axes, out, "out_axes", name, len(o_leaves), o_tree)
        res = []
        for j, (o, ax) in enumerate(zip(o_leaves, o_axes)):
            mapped = type(o) is BatchTracer and (o._interp is interp or o._interp in adopted)
            if ax is _UNMAPPED:
                if mapped:
                    raise BatchingError(
                        f"vmap of {name}: output leaf {j} ({_leaf_path(out, j, 'output')}) "
                        f"depends on the batch, but out_axes is None for it; give it an axis "
                        f"in out_axes.")
                res.append(_plain(o))
                continue
            v = o.val if mapped else _broadcast_out(
                o, size, leaves[sizes[0][0]] if sizes else None, name, j)
            nd = len(v.shape)
            if not -nd <= ax < nd:
                raise BatchingError(
                    f"vmap of {name}: out_axes {ax} is out of range for output leaf {j} "
                    f"({_leaf_path(out, j, 'output')}), which has {nd - 1} dimension(s) "
                    f"before batching.")
            v = _move_axis(v, 0, ax % nd)
            res.append(_plain(v))
        # an output that passes a mapped argument through (vmap of an identity, of a
        # tangent map or pullback: NumPy's and torch's views) is copied, as jit's results and
        # jvp's tangents are: writing into it must not change the caller's array
        return tree_unflatten(o_tree, _own_memory(res, leaves))
    return functools.wraps(fun)(batched) if wrap else batched


def _own_memory(res, leaves):
    """``res`` with the outputs that are, or view, a given array copied (:func:`unshared`),
    after the common case's quick check: NumPy arrays owning their memory, none given."""
    for o in res:
        if type(o) is not _ndarray or o.base is not None:
            return _unshared(res, leaves)
        for g in leaves:
            if g is o:
                return _unshared(res, leaves)
    return res


def _broadcast_out(o, size, like, name="fun", j=0):
    """An output that does not depend on the batch, repeated for every batch member. A
    Python scalar becomes an array of the library and device of ``like`` (a mapped input),
    as the batched outputs are, rather than of the default backend."""
    from . import numpy as fnp
    from .api import _const_output
    o = fnp.asarray(_const_output(o, like, f"vmap of {name}", j))
    return fnp.broadcast_to(fnp.expand_dims(o, axis=0), (size,) + tuple(o.shape))


def pmap(fun, axis_name=None, *, in_axes=0, out_axes=0, static_broadcasted_argnums=(),
         devices=None, backend=None, axis_size=None, donate_argnums=()):
    """``jax.pmap``'s signature, run on one device: ``jit(vmap(fun, in_axes, out_axes,
    axis_name))``, so the collectives over ``axis_name`` see every member.

    Each member is a row of the mapped arguments, as each device's shard is in JAX; the values
    are those JAX computes with one device per member (JAX itself refuses more members than it
    has devices). ``static_broadcasted_argnums`` are passed whole to every member and are
    static to the ``jit`` (hashable). ``devices`` and ``backend`` must be None: there is no
    placement of members on devices here (put the arguments on a device with
    ``functrans.device_put`` or choose the library with ``functrans.default_backend``).
    ``axis_size`` is :func:`vmap`'s; ``donate_argnums`` is accepted and has no effect."""
    from .compiling import jit
    if devices is not None or backend is not None:
        raise NotImplementedError(
            "pmap: devices= and backend= are not supported (functrans runs every member on "
            "the device of the arguments); leave them None and move the arguments with "
            "functrans.device_put.")
    static = (static_broadcasted_argnums,) if isinstance(static_broadcasted_argnums, int) \
        else tuple(static_broadcasted_argnums)
    if not static:
        return jit(vmap(fun, in_axes, out_axes, axis_name=axis_name, axis_size=axis_size))
    compiled = {}

    @functools.wraps(fun)
    def mapped(*args, **kwargs):
        n = len(args)
        pos = tuple(sorted(i % n for i in static if -n <= i < n))
        f = compiled.get((n, pos))
        if f is None:
            axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * n
            if len(axes) == n - len(pos):  # (JAX's: entries for the mapped arguments only)
                it = iter(axes)
                axes = tuple(None if i in pos else next(it) for i in range(n))
            if len(axes) != n:
                raise BatchingError(f"pmap of {getattr(fun, '__name__', 'fun')}: in_axes has "
                                    f"{len(axes)} entries for {n} positional arguments.")
            axes = tuple(None if i in pos else a for i, a in enumerate(axes))
            f = compiled[(n, pos)] = jit(vmap(fun, axes, out_axes, axis_name=axis_name,
                                              axis_size=axis_size), static_argnums=pos)
        return f(*args, **kwargs)
    return mapped


from numpy import ndarray as _ndarray  # noqa: E402

from .reverse import unshared as _unshared  # noqa: E402
