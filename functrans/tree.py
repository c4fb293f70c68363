"""Pytrees, through optree: nested tuples, lists, dicts, namedtuples, None, and classes
registered with :func:`register_pytree_node` (or ``optree.register_pytree_node`` with
``namespace="functrans"``)."""

import optree

NAMESPACE = "functrans"


def tree_flatten(tree):
    return optree.tree_flatten(tree, namespace=NAMESPACE)


def tree_unflatten(treedef, leaves):
    return optree.tree_unflatten(treedef, leaves)


def tree_map(f, tree, *rest):
    return optree.tree_map(f, tree, *rest, namespace=NAMESPACE)


def tree_structure(tree):
    return optree.tree_structure(tree, namespace=NAMESPACE)


def register_pytree_node(cls, flatten, unflatten):
    """Register ``cls`` as a pytree node: ``flatten(obj) -> (children, aux)`` and
    ``unflatten(aux, children) -> obj``."""
    return optree.register_pytree_node(
        cls, lambda o: flatten(o), lambda aux, ch: unflatten(aux, ch), namespace=NAMESPACE)
