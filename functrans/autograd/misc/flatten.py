"""autograd's ``autograd.misc.flatten``: a pytree of arrays as one 1-d array, by
:func:`functrans.tree.ravel_pytree` (with autograd's return order)."""

from ...tree import ravel_pytree

__all__ = ["flatten", "flatten_func"]


def flatten(value):
    """``(flat, unflatten)``: the leaves of ``value`` (nested tuples, lists and dicts of arrays
    or numbers; dicts in the order of their sorted keys) raveled and concatenated into one
    1-d array, and the function rebuilding the structure from such an array. Both directions
    are differentiable.

    Difference from autograd: ``unflatten`` gives each leaf its original dtype back (an int
    leaf comes back an int array); autograd's gives the common dtype of the flat array.
    """
    flat, unravel = ravel_pytree(value)
    return flat, unravel


def flatten_func(func, example):
    """``(flat_func, unflatten, flat_example)``: ``func`` of a pytree shaped like ``example``
    as a function of one 1-d array (``flat_func(x, *args)`` returns ``func``'s output
    flattened as well)."""
    flat_example, unflatten = flatten(example)

    def flat_func(x, *args):
        return flatten(func(unflatten(x), *args))[0]
    return flat_func, unflatten, flat_example
