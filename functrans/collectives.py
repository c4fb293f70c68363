"""Collective operations over the named axis of a ``vmap``: ``psum``, ``pmean``, ``pmax``,
``pmin``, ``all_gather``, ``psum_scatter``, ``ppermute``, ``pshuffle``, ``all_to_all``,
``pswapaxes``, ``axis_index``, ``axis_size``, with ``jax.lax``'s signatures.

``vmap(f, axis_name="i")`` names its batch axis; inside ``f`` a collective over ``"i"`` sees
every member of the batch at once (``psum(x, "i")`` is the sum of ``x`` over the members, the
same value in each). Each collective is a primitive whose ``axis_name`` parameter says which
vmap it belongs to. Interpreters above that vmap apply their rules as to any primitive
(forward mode, staging by ``jit``); a vmap of another name maps it over its own batch (the
axis parameters shift by one); the vmap of that name evaluates it across its batch axis
(:class:`functrans.batching.BatchInterpreter` hands it the collective even when the value is
not batched: ``psum(1.0, "i")`` is the batch size). With no vmap of that name around, the
collective raises ``NameError``, as JAX's does.

Derivatives follow JAX's: the linear collectives transpose to one another (``psum`` to
``psum``, ``all_gather`` to ``psum_scatter``, ``ppermute`` to the inverse permutation,
``all_to_all`` to the swapped one), so ``vmap(grad(f))`` of a member function that reads
``psum(x)`` differentiates the sum over the members, as JAX's. ``pmax``/``pmin`` differentiate
(JAX's raise): the tangent of the member(s) holding the extreme, ties sharing it equally.
"""

from __future__ import annotations

import operator

import optree

from . import dtypes as _dt
from .core import ShapedArray, _current, primitive
from .tree import NAMESPACE

__all__ = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
           "pshuffle", "all_to_all", "pswapaxes", "axis_index", "axis_size"]


# -- the named axes in scope ---------------------------------------------------------------


def _names(axis_name, what):
    """``axis_name`` as a tuple of names (JAX accepts one name or a tuple of them)."""
    names = tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)
    if not names:
        raise ValueError(f"{what}: axis_name is empty; give the axis_name of an enclosing "
                         f"vmap (or a tuple of them).")
    for n in names:
        try:
            hash(n)
        except TypeError:
            raise TypeError(f"{what}: axis names must be hashable (a string, usually); got "
                            f"{n!r}.") from None
    return names


def _bound_names():
    from .batching import BatchInterpreter
    out, interp = [], _current.get().interp
    while interp is not None:
        if isinstance(interp, BatchInterpreter) and interp.axis_name is not None:
            out.append(interp.axis_name)
        interp = interp.parent
    return out


def axis_env(interp):
    """``(name, size)`` of each named vmap in the stack from ``interp`` down (what a staged
    graph with collectives depends on beside its inputs: ``jit`` keys its cache on it)."""
    from .batching import BatchInterpreter
    out = ()
    while interp is not None:
        if isinstance(interp, BatchInterpreter) and interp.axis_name is not None:
            out += ((interp.axis_name, interp.axis_size),)
        interp = interp.parent
    return out


def _unbound(name, what):
    bound = _bound_names()
    return NameError(
        f"unbound axis name: {name!r} ({what}). A collective needs an enclosing "
        f"functrans.vmap(..., axis_name={name!r}) (or pmap) to reduce over; "
        + (f"the axis names in scope here are {bound}." if bound else
           "no vmap with an axis_name is active here."))


def _axis_interp(name, what):
    """The innermost vmap named ``name`` around the current call."""
    from .batching import BatchInterpreter
    interp = _current.get().interp
    while interp is not None:
        if isinstance(interp, BatchInterpreter) and interp.axis_name == name:
            return interp
        interp = interp.parent
    raise _unbound(name, what)


def axis_size(axis_name):
    """The number of members of the vmap named ``axis_name`` (a Python int); for a tuple of
    names, the product of their sizes."""
    size = 1
    for n in _names(axis_name, "axis_size"):
        size *= _axis_interp(n, "axis_size").axis_size
    return size


def _no_groups(axis_index_groups, what):
    if axis_index_groups is not None:
        raise NotImplementedError(f"{what}: axis_index_groups is not supported (it splits a "
                                  f"vmap's members into groups); reduce over the whole axis, "
                                  f"or reshape the batch into a nested vmap with two names.")


def _tree_map(f, x):
    return optree.tree_map(f, x, namespace=NAMESPACE)


def _is_key(v):
    t = type(v)
    return t.__name__ == "KeyArray" and t.__module__ == "functrans.random"


def _no_keys(x, what):
    """Typed random keys have no arithmetic: a reduction of them is refused (JAX's too);
    all_gather, ppermute and all_to_all move them as they are."""
    for leaf in optree.tree_leaves(x, is_leaf=_is_key, namespace=NAMESPACE):
        if _is_key(leaf):
            raise TypeError(f"{what} of typed random keys (dtype key<fry>): keys have no "
                            f"arithmetic; reduce their functrans.random.key_data if needed.")


def _matches(interp, names):
    return interp.axis_name in names


def _raise_unbound_impl(prim):
    # Reached when a graph staged under a vmap of that name runs without it.
    def impl(backend, *args, axis_name, **params):
        raise NameError(f"unbound axis name: {axis_name[0] if len(axis_name) == 1 else axis_name!r} "
                        f"({prim.name}): a collective needs an enclosing functrans.vmap "
                        f"with that axis_name.")
    return impl


def _collective(name):
    """A collective primitive: its batching rule sees the vmap (to compare names), the vmap
    of its name applies that rule even to operands it does not batch, and evaluating it with
    no such vmap around raises NameError."""
    p = primitive(name)
    p.def_impl(_raise_unbound_impl(p))
    p.batch_sees_interp = True
    p.collective = True
    return p


def _linear_jvp(p):
    """The JVP of a collective linear in its operand: the same collective of the tangent."""
    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        return p.bind(x, **params), None if t is None else p.bind(t, **params)
    return jvp


def _check_abstract(prim):
    """An abstract evaluation (staging, e.g. by jit) checks the name is bound right away."""
    def check(axis_name):
        for n in axis_name:
            _axis_interp(n, prim.name)
    return check


def _batched_full(x, d, size):
    """``x`` with the members along axis 0 (broadcast where it is the same for all)."""
    from . import numpy as fnp
    if d is not None:
        return x
    x = fnp.asarray(x)
    return fnp.broadcast_to(fnp.expand_dims(x, axis=0), (size,) + tuple(x.shape))


# -- psum, pmax, pmin: reductions over the members -------------------------------------------


def _reduction(name, reduce_batched, reduce_unbatched):
    p = _collective(name)
    check = _check_abstract(p)

    @p.def_abstract_eval
    def _abstract(aval, *, axis_name):
        check(axis_name)
        return aval

    def rule(vals, dims, *, batch_interp, axis_name):
        (x,), (d,) = vals, dims
        if not _matches(batch_interp, axis_name):  # another vmap's batch: mapped over
            return p.bind(x, axis_name=axis_name), 0
        out = (reduce_batched(x) if d is not None
               else reduce_unbatched(x, batch_interp.axis_size))
        rest = tuple(n for n in axis_name if n != batch_interp.axis_name)
        if rest:  # the other names are vmaps further down: bound there
            out = p.bind(out, axis_name=rest)
        return out, None

    p.def_batch(rule)
    return p


def _sum0(x):
    from . import numpy as fnp
    return fnp.sum(x, axis=0, dtype=x.dtype)


def _scaled(x, n):
    from . import numpy as fnp
    # (a Python number stays one: weakly typed, as JAX's psum of a constant)
    return x * n if type(x) in (bool, int, float, complex) else fnp.multiply(x, n)


def _max0(x):
    from . import numpy as fnp
    return fnp.max(x, axis=0)


def _min0(x):
    from . import numpy as fnp
    return fnp.min(x, axis=0)


psum_p = _reduction("psum", _sum0, _scaled)
pmax_p = _reduction("pmax", _max0, lambda x, n: x)
pmin_p = _reduction("pmin", _min0, lambda x, n: x)


psum_p.def_jvp(_linear_jvp(psum_p))


@psum_p.def_transpose
def _psum_transpose(ct, x, *, axis_name):
    # Each member's input reaches every member's output: the cotangents are summed back.
    return [None if ct is None else psum_p.bind(ct, axis_name=axis_name)]


def _extreme_jvp(p):
    def jvp(primals, tangents, *, axis_name):
        from . import numpy as fnp
        (x,), (t,) = primals, tangents
        out = p.bind(x, axis_name=axis_name)
        if t is None:
            return out, None
        # The tangent of the member(s) holding the extreme; tied members share it equally.
        at = fnp.asarray(x == out, dtype=t.dtype)
        count = psum_p.bind(at, axis_name=axis_name)
        return out, psum_p.bind(t * at, axis_name=axis_name) / count
    return jvp


pmax_p.def_jvp(_extreme_jvp(pmax_p))
pmin_p.def_jvp(_extreme_jvp(pmin_p))


def _reduce_api(p, what):
    def api(x, axis_name, *, axis_index_groups=None):
        _no_groups(axis_index_groups, what)
        _no_keys(x, what)
        names = _names(axis_name, what)
        for n in names:
            _axis_interp(n, what)
        return _tree_map(lambda v: p.bind(v, axis_name=names), x)
    return api


def _bool_to_int(v):
    """JAX sums booleans as int32 counts (a bool ``psum`` would be a logical or)."""
    from . import numpy as fnp
    from .core import get_aval
    if isinstance(v, bool):
        return fnp.asarray(v, dtype=_dt.int32)
    if type(v) not in (int, float, complex) and get_aval(v).dtype == _dt.bool_:
        return fnp.astype(v, _dt.int32)
    return v


def psum(x, axis_name, *, axis_index_groups=None):
    _no_groups(axis_index_groups, "psum")
    _no_keys(x, "psum")
    names = _names(axis_name, "psum")
    for n in names:
        _axis_interp(n, "psum")
    return _tree_map(lambda v: psum_p.bind(_bool_to_int(v), axis_name=names), x)


psum.__name__ = psum.__qualname__ = "psum"
psum.__doc__ = """The sum of ``x`` (a pytree of arrays) over the members of the vmap(s) named
``axis_name`` (one name or a tuple of names): the same value in every member. A value that
is the same in every member is multiplied by the number of members. Booleans are counted
(an int32 result, as JAX's)."""

pmax = _reduce_api(pmax_p, "pmax")
pmax.__name__ = pmax.__qualname__ = "pmax"
pmax.__doc__ = """The maximum of ``x`` over the members of the vmap(s) named ``axis_name``.
Differentiable (JAX's is not): the derivative goes to the member(s) holding the maximum, ties
sharing it equally."""

pmin = _reduce_api(pmin_p, "pmin")
pmin.__name__ = pmin.__qualname__ = "pmin"
pmin.__doc__ = """The minimum of ``x`` over the members of the vmap(s) named ``axis_name``.
Differentiable as :func:`pmax`."""


def pmean(x, axis_name, *, axis_index_groups=None):
    """The mean of ``x`` over the members of the vmap(s) named ``axis_name``. Integers and
    booleans give a floating mean of their width, as JAX's: float64 for int64, float32 for
    narrower ones (NumPy's division would give float64)."""
    _no_groups(axis_index_groups, "pmean")
    _no_keys(x, "pmean")
    names = _names(axis_name, "pmean")
    n = axis_size(names)

    def mean(v):
        from . import numpy as fnp
        s = psum_p.bind(_bool_to_int(v), axis_name=names)
        if type(s) in (int, float, complex):
            return s / n
        d = _dt.as_dtype(s.dtype)
        if not _dt.is_float(d):  # (complex is float here) the float of the integer's width
            s = fnp.astype(s, fnp.float64 if d.bits == 64 else fnp.float32)
        return fnp.true_divide(s, n)
    return _tree_map(mean, x)


# -- axis_index ------------------------------------------------------------------------------


axis_index_p = _collective("axis_index")
axis_index_p.def_abstract_eval(
    lambda *, axis_name: (_check_abstract(axis_index_p)(axis_name),
                          ShapedArray((), _dt.int32))[1])


# (no operands, so no tangents: the rule is there for completeness)
axis_index_p.def_jvp(lambda primals, tangents, *, axis_name:
                     (axis_index_p.bind(axis_name=axis_name), None))


def _axis_index_rule(vals, dims, *, batch_interp, axis_name):
    from . import numpy as fnp
    from .api import _concrete_backend
    like = batch_interp.like
    if like is None:  # no mapped argument (axis_size given): the default backend
        return fnp.arange(batch_interp.axis_size, dtype=fnp.int32), 0
    b, dev = _concrete_backend(like)
    return b.xp.arange(batch_interp.axis_size, dtype=b.native_dtype(_dt.int32),
                       **({"device": dev} if dev else {})), 0


axis_index_p.def_batch(_axis_index_rule)


def axis_index(axis_name):
    """Each member's index along the vmap named ``axis_name`` (an int32 scalar in each); for a
    tuple of names, the index in their product, the first name varying slowest."""
    names = _names(axis_name, "axis_index")
    out = None
    for n in names:
        i = axis_index_p.bind(axis_name=(n,))
        out = i if out is None else out * _axis_interp(n, "axis_index").axis_size + i
    return out


# -- all_gather and psum_scatter -------------------------------------------------------------


def _as_array(v, name):
    """``v`` as an array; a Python scalar in the library and on the device of the vmap's
    mapped arguments (not the default backend's)."""
    from . import numpy as fnp
    from .api import _scalar_like
    if hasattr(v, "shape"):
        return v
    return fnp.asarray(_scalar_like(v, _axis_interp(name, "collective").like))


def _single(names, what):
    if len(names) != 1:
        raise NotImplementedError(f"{what} over several axis names {names} is not supported; "
                                  f"apply it to one name at a time.")
    return names[0]


all_gather_p = _collective("all_gather")


@all_gather_p.def_abstract_eval
def _all_gather_abstract(aval, *, axis_name, axis, tiled, size):
    _check_abstract(all_gather_p)(axis_name)
    shape = list(aval.shape)
    if tiled:
        shape[axis] *= size
    else:
        shape.insert(axis, size)
    return ShapedArray(tuple(shape), aval.dtype)


def _gathered(x, axis, tiled):
    """The members (axis 0 of ``x``) laid along ``axis`` of one member's value."""
    from . import numpy as fnp
    out = fnp.moveaxis(x, 0, axis)
    if tiled:
        shape = tuple(out.shape)
        out = fnp.reshape(out, shape[:axis] + (shape[axis] * shape[axis + 1],)
                          + shape[axis + 2:])
    return out


@all_gather_p.def_batch
def _all_gather_rule(vals, dims, *, batch_interp, axis_name, axis, tiled, size):
    (x,), (d,) = vals, dims
    if not _matches(batch_interp, axis_name):
        return all_gather_p.bind(x, axis_name=axis_name, axis=axis + 1, tiled=tiled,
                                 size=size), 0
    return _gathered(_batched_full(x, d, size), axis, tiled), None


all_gather_p.def_jvp(_linear_jvp(all_gather_p))


@all_gather_p.def_transpose
def _all_gather_transpose(ct, x, *, axis_name, axis, tiled, size):
    return [None if ct is None else psum_scatter_p.bind(
        ct, axis_name=axis_name, scatter_dimension=axis, tiled=tiled, size=size)]


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False, to="varying"):
    """Every member's ``x`` (a pytree), stacked along a new ``axis`` (or concatenated along
    ``axis`` when ``tiled``), the same in every member of the vmap named ``axis_name``."""
    _no_groups(axis_index_groups, "all_gather")
    name = _single(_names(axis_name, "all_gather"), "all_gather")
    size = _axis_interp(name, "all_gather").axis_size

    def gather(v):
        v = _as_array(v, name)
        nd = len(v.shape)
        if tiled and nd == 0:
            raise ValueError("all_gather(tiled=True) needs at least one axis to concatenate "
                             "along; a scalar has none (use tiled=False).")
        bound = nd if tiled else nd + 1
        if not -bound <= axis < bound:
            raise ValueError(f"all_gather: axis {axis} is out of range for a value of "
                             f"{nd} dimension(s).")
        return all_gather_p.bind(v, axis_name=(name,), axis=operator.index(axis) % bound,
                                 tiled=bool(tiled), size=size)
    return _tree_map(gather, x)


psum_scatter_p = _collective("psum_scatter")


@psum_scatter_p.def_abstract_eval
def _psum_scatter_abstract(aval, *, axis_name, scatter_dimension, tiled, size):
    _check_abstract(psum_scatter_p)(axis_name)
    shape = list(aval.shape)
    if tiled:
        shape[scatter_dimension] //= size
    else:
        del shape[scatter_dimension]
    return ShapedArray(tuple(shape), aval.dtype)


@psum_scatter_p.def_batch
def _psum_scatter_rule(vals, dims, *, batch_interp, axis_name, scatter_dimension, tiled, size):
    from . import numpy as fnp
    (x,), (d,) = vals, dims
    if not _matches(batch_interp, axis_name):
        return psum_scatter_p.bind(x, axis_name=axis_name,
                                   scatter_dimension=scatter_dimension + 1, tiled=tiled,
                                   size=size), 0
    total = _sum0(x) if d is not None else _scaled(x, size)
    dim = scatter_dimension
    if tiled:  # the axis as (member, chunk)
        shape = tuple(total.shape)
        total = fnp.reshape(total, shape[:dim] + (size, shape[dim] // size) + shape[dim + 1:])
    return fnp.moveaxis(total, dim, 0), 0


psum_scatter_p.def_jvp(_linear_jvp(psum_scatter_p))


@psum_scatter_p.def_transpose
def _psum_scatter_transpose(ct, x, *, axis_name, scatter_dimension, tiled, size):
    return [None if ct is None else all_gather_p.bind(
        ct, axis_name=axis_name, axis=scatter_dimension, tiled=tiled, size=size)]


def psum_scatter(x, axis_name, *, scatter_dimension=0, axis_index_groups=None, tiled=False):
    """The sum over the members of the vmap named ``axis_name``, scattered: member ``i`` gets
    entry ``i`` of the sum along ``scatter_dimension`` (whose length must be the number of
    members), or its ``i``-th block when ``tiled``."""
    _no_groups(axis_index_groups, "psum_scatter")
    _no_keys(x, "psum_scatter")
    name = _single(_names(axis_name, "psum_scatter"), "psum_scatter")
    size = _axis_interp(name, "psum_scatter").axis_size

    def scatter(v):
        v = _as_array(v, name)
        nd = len(v.shape)
        if not -nd <= scatter_dimension < nd:
            raise ValueError(f"psum_scatter: scatter_dimension {scatter_dimension} is out of "
                             f"range for a value of {nd} dimension(s).")
        dim = operator.index(scatter_dimension) % nd
        n = v.shape[dim]
        if (n % size if tiled else n != size):
            raise ValueError(
                f"psum_scatter: axis {dim} of the value has length {n}, which must "
                + (f"be a multiple of the number of members, {size} (tiled=True)."
                   if tiled else f"equal the number of members, {size} (or use tiled=True "
                   f"to scatter blocks)."))
        return psum_scatter_p.bind(v, axis_name=(name,), scatter_dimension=dim,
                                   tiled=bool(tiled), size=size)
    return _tree_map(scatter, x)


# -- ppermute, pshuffle ----------------------------------------------------------------------


ppermute_p = _collective("ppermute")


@ppermute_p.def_abstract_eval
def _ppermute_abstract(aval, *, axis_name, perm):
    _check_abstract(ppermute_p)(axis_name)
    return aval


@ppermute_p.def_batch
def _ppermute_rule(vals, dims, *, batch_interp, axis_name, perm):
    from . import numpy as fnp
    (x,), (d,) = vals, dims
    if not _matches(batch_interp, axis_name):
        return ppermute_p.bind(x, axis_name=axis_name, perm=perm), 0
    size = batch_interp.axis_size
    x = _batched_full(x, d, size)
    source = dict((dst, src) for src, dst in perm)
    index = [source.get(i, 0) for i in range(size)]
    moved = fnp.take(x, fnp.asarray(index, device=fnp.device(x)), axis=0)
    if len(source) == size:
        return moved, 0
    # Members that no pair sends to get zeros.
    keep = fnp.asarray([i in source for i in range(size)], device=fnp.device(x))
    keep = fnp.reshape(keep, (size,) + (1,) * (len(x.shape) - 1))
    return fnp.where(keep, moved, fnp.zeros_like(moved)), 0


ppermute_p.def_jvp(_linear_jvp(ppermute_p))


@ppermute_p.def_transpose
def _ppermute_transpose(ct, x, *, axis_name, perm):
    inverse = tuple((dst, src) for src, dst in perm)
    return [None if ct is None else ppermute_p.bind(ct, axis_name=axis_name, perm=inverse)]


def ppermute(x, axis_name, perm):
    """Send each member's ``x`` (a pytree) along the pairs ``perm`` of (source, destination)
    member indices of the vmap named ``axis_name``; a member no pair sends to gets zeros."""
    name = _single(_names(axis_name, "ppermute"), "ppermute")
    size = _axis_interp(name, "ppermute").axis_size
    try:
        pairs = tuple((operator.index(s), operator.index(t)) for s, t in perm)
    except (TypeError, ValueError):
        raise TypeError(f"ppermute: perm must be a sequence of (source, destination) pairs "
                        f"of member indices; got {perm!r}.") from None
    srcs, dsts = [s for s, _ in pairs], [t for _, t in pairs]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(f"ppermute: perm {perm!r} sends from or to a member twice; each "
                         f"member may appear at most once as a source and once as a "
                         f"destination.")
    if any(not 0 <= i < size for i in srcs + dsts):
        raise ValueError(f"ppermute: perm {perm!r} names a member outside 0..{size - 1} "
                         f"(the vmap named {name!r} has {size} members).")
    return _tree_map(lambda v: ppermute_p.bind(v, axis_name=(name,), perm=pairs), x)


def pshuffle(x, axis_name, perm):
    """Member ``i`` gets the ``x`` of member ``perm[i]`` (``perm`` a permutation of the
    vmap's member indices)."""
    name = _single(_names(axis_name, "pshuffle"), "pshuffle")
    size = _axis_interp(name, "pshuffle").axis_size
    perm = [operator.index(p) for p in perm]
    if sorted(perm) != list(range(size)):
        raise ValueError(f"pshuffle: perm {perm!r} is not a permutation of the {size} members "
                         f"of the vmap named {name!r}.")
    return ppermute(x, axis_name, [(src, dst) for dst, src in enumerate(perm)])


# -- all_to_all, pswapaxes -------------------------------------------------------------------


all_to_all_p = _collective("all_to_all")


@all_to_all_p.def_abstract_eval
def _all_to_all_abstract(aval, *, axis_name, split_axis, concat_axis, tiled, size):
    _check_abstract(all_to_all_p)(axis_name)
    shape = list(aval.shape)
    if tiled:
        shape[split_axis] //= size
        shape[concat_axis] *= size
    else:
        del shape[split_axis]
        shape.insert(concat_axis, size)
    return ShapedArray(tuple(shape), aval.dtype)


@all_to_all_p.def_batch
def _all_to_all_rule(vals, dims, *, batch_interp, axis_name, split_axis, concat_axis, tiled,
                     size):
    from . import numpy as fnp
    (x,), (d,) = vals, dims
    if not _matches(batch_interp, axis_name):
        return all_to_all_p.bind(x, axis_name=axis_name, split_axis=split_axis + 1,
                                 concat_axis=concat_axis + 1, tiled=tiled, size=size), 0
    x = _batched_full(x, d, size)  # (sender j, ...member's axes...)
    s = split_axis + 1
    if tiled:  # the split axis as (receiver i, block)
        shape = tuple(x.shape)
        x = fnp.reshape(x, shape[:s] + (size, shape[s] // size) + shape[s + 1:])
        x = fnp.moveaxis(x, s, 0)  # (receiver i, sender j, ...blocks...)
        # the senders' blocks one after another along the concatenation axis
        x = fnp.moveaxis(x, 1, concat_axis + 1)
        shape = tuple(x.shape)
        c = concat_axis + 1
        return fnp.reshape(x, shape[:c] + (shape[c] * shape[c + 1],) + shape[c + 2:]), 0
    x = fnp.moveaxis(x, s, 0)  # (receiver i, sender j, ...the other axes...)
    return fnp.moveaxis(x, 1, concat_axis + 1), 0


all_to_all_p.def_jvp(_linear_jvp(all_to_all_p))


@all_to_all_p.def_transpose
def _all_to_all_transpose(ct, x, *, axis_name, split_axis, concat_axis, tiled, size):
    return [None if ct is None else all_to_all_p.bind(
        ct, axis_name=axis_name, split_axis=concat_axis, concat_axis=split_axis, tiled=tiled,
        size=size)]


def all_to_all(x, axis_name, split_axis, concat_axis, *, axis_index_groups=None, tiled=False):
    """Member ``i`` receives block ``i`` of every member's ``x`` along ``split_axis`` (whose
    length is the number of members, or a multiple of it when ``tiled``), the senders' blocks
    stacked along a new ``concat_axis`` (concatenated along ``concat_axis`` when ``tiled``)."""
    _no_groups(axis_index_groups, "all_to_all")
    name = _single(_names(axis_name, "all_to_all"), "all_to_all")
    size = _axis_interp(name, "all_to_all").axis_size

    def exchange(v):
        v = _as_array(v, name)
        nd = len(v.shape)
        if not -nd <= split_axis < nd or not -nd <= concat_axis < nd:
            raise ValueError(f"all_to_all: split_axis {split_axis} or concat_axis "
                             f"{concat_axis} is out of range for a value of {nd} "
                             f"dimension(s).")
        s, c = operator.index(split_axis) % nd, operator.index(concat_axis) % nd
        n = v.shape[s]
        if (n % size if tiled else n != size):
            raise ValueError(
                f"all_to_all: split axis {s} has length {n}, which must "
                + (f"be a multiple of the number of members, {size} (tiled=True)."
                   if tiled else f"equal the number of members, {size} (or use tiled=True)."))
        return all_to_all_p.bind(v, axis_name=(name,), split_axis=s, concat_axis=c,
                                 tiled=bool(tiled), size=size)
    return _tree_map(exchange, x)


def pswapaxes(x, axis_name, axis, *, axis_index_groups=None):
    """Swap the vmap's member axis with ``axis`` of ``x`` (whose length is the number of
    members): ``all_to_all(x, axis_name, axis, axis)``."""
    return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)
