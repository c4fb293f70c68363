"""Pytrees, through optree: nested tuples, lists, dicts, namedtuples, None, and classes
registered with :func:`register_pytree_node` (or ``optree.register_pytree_node`` with
``namespace="functrans"``)."""

import builtins
import functools
import math

import optree

NAMESPACE = "functrans"


try:  # optree's C flattening itself: tree_flatten is on every transform's path
    _flatten = optree._C.flatten

    def tree_flatten(tree):
        return _flatten(tree, None, False, NAMESPACE)
    tree_flatten([1, (2,)])  # the signature of this optree version
except Exception:  # pragma: no cover  (an optree without it, or another signature)
    def tree_flatten(tree):
        return optree.tree_flatten(tree, namespace=NAMESPACE)


def tree_unflatten(treedef, leaves):
    return treedef.unflatten(leaves)


def tree_map(f, tree, *rest):
    return optree.tree_map(f, tree, *rest, namespace=NAMESPACE)


def tree_structure(tree):
    return optree.tree_structure(tree, namespace=NAMESPACE)


def register_pytree_node(cls, flatten, unflatten):
    """Register ``cls`` as a pytree node: ``flatten(obj) -> (children, aux)`` and
    ``unflatten(aux, children) -> obj``."""
    return optree.register_pytree_node(
        cls, lambda o: flatten(o), lambda aux, ch: unflatten(aux, ch), namespace=NAMESPACE)


def tree_leaves(tree):
    """The leaves of ``tree`` in flattening order."""
    return optree.tree_leaves(tree, namespace=NAMESPACE)


def tree_map_with_path(f, tree, *rest):
    """``tree_map`` with each leaf's path (a tuple of keys/indices) as ``f``'s first
    argument."""
    return optree.tree_map_with_path(f, tree, *rest, namespace=NAMESPACE)


def tree_reduce(f, tree, *initial):
    """``functools.reduce(f, tree_leaves(tree), *initial)``."""
    return functools.reduce(f, tree_leaves(tree), *initial)


def tree_all(tree):
    """Whether every leaf is true (``bool(leaf)``: concrete leaves only)."""
    return builtins.all(tree_leaves(tree))


def ravel_pytree(tree):
    """Flatten a pytree of arrays into one 1-d array: ``(flat, unravel)`` with
    ``unravel(flat)`` rebuilding a pytree of the original structure, shapes and dtypes (as
    ``jax.flatten_util.ravel_pytree``). ``flat`` has the leaves' promoted dtype and their
    library; both directions are differentiable, so a function of a pytree becomes a function
    of a vector (for ``jacfwd``/``hessian`` as matrices, or ``scipy.optimize``)."""
    from . import numpy as fnp
    leaves, treedef = tree_flatten(tree)
    leaves = [fnp.asarray(x) if type(x) in (bool, int, float, complex) else x for x in leaves]
    shapes = [tuple(x.shape) for x in leaves]
    dtypes = [x.dtype for x in leaves]
    sizes = [math.prod(s) for s in shapes]
    if not leaves:
        flat = fnp.zeros((0,))
    else:
        dtype = fnp.result_type(*dtypes)
        flat = fnp.concat([fnp.reshape(fnp.astype(x, dtype), (-1,)) for x in leaves])
    total = builtins.sum(sizes)

    def unravel(vector):
        vshape = tuple(getattr(vector, "shape", ()))
        if vshape != (total,):
            raise ValueError(f"unravel: expected a 1-d array of {total} elements (the "
                             f"flattened pytree); got shape {vshape}.")
        out, start = [], 0
        for shape, dtype, size in zip(shapes, dtypes, sizes):
            piece = vector[start:start + size]
            if fnp.isdtype(piece.dtype, "complex floating") and \
                    not fnp.isdtype(dtype, "complex floating"):
                piece = fnp.real(piece)
            out.append(fnp.reshape(fnp.astype(piece, dtype), shape))
            start += size
        return tree_unflatten(treedef, out)
    return flat, unravel


# JAX's short names (``jax.tree.map`` ...): ``ft.tree.map`` and the others.
flatten, unflatten, structure = tree_flatten, tree_unflatten, tree_structure
map, leaves, map_with_path = tree_map, tree_leaves, tree_map_with_path
reduce, all = tree_reduce, tree_all
