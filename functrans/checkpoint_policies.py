"""``functrans.checkpoint_policies``: the names of JAX's rematerialisation policies
(``jax.checkpoint_policies``), for ``functrans.checkpoint(f, policy=...)``.

Each is a function ``policy(primitive, *avals, **params) -> bool`` answering, as JAX's
does, whether a result of that primitive would be saved (functions taking names or other
policies return such a function). functrans's ``checkpoint`` accepts any of them and saves
nothing whatever the policy says: a checkpointed block keeps only its inputs and recomputes
the rest in the backward pass (``nothing_saveable``). Results and derivatives are the same
under every policy; only memory and compute differ from JAX's for policies that save more.
"""

from __future__ import annotations

__all__ = ["checkpoint_dots", "checkpoint_dots_with_no_batch_dims", "dots_saveable",
           "dots_with_no_batch_dims_saveable", "everything_saveable", "nothing_saveable",
           "offload_dot_with_no_batch_dims", "save_and_offload_only_these_names",
           "save_any_names_but_these", "save_anything_except_these_names",
           "save_from_both_policies", "save_only_these_names"]

_DOTS = {"matmul", "dot_general", "vecdot", "tensordot", "einsum"}


def _name(prim):
    return getattr(prim, "name", str(prim))


def everything_saveable(prim, *avals, **params):
    """Save every result (no recomputation in JAX)."""
    return True


def nothing_saveable(prim, *avals, **params):
    """Save nothing: recompute everything (what functrans always does)."""
    return False


def dots_saveable(prim, *avals, **params):
    """Save the results of matrix products."""
    return _name(prim) in _DOTS


checkpoint_dots = dots_saveable


def dots_with_no_batch_dims_saveable(prim, *avals, **params):
    """Save the results of matrix products between 2-d operands (no batch dimensions)."""
    return _name(prim) in _DOTS and all(len(getattr(a, "shape", ())) <= 2 for a in avals)


checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


def _names_policy(doc, keep):
    def policy(prim, *avals, name=None, **params):
        return _name(prim) == "name" and keep(name)
    policy.__doc__ = doc
    return policy


def save_only_these_names(*names_which_can_be_saved):
    """A policy saving the values named (``checkpoint_name``) in ``names_which_can_be_saved``."""
    names = set(names_which_can_be_saved)
    return _names_policy("Saves the named values listed.", lambda n: n in names)


def save_any_names_but_these(*names_not_to_save):
    """A policy saving every named value except those listed."""
    names = set(names_not_to_save)
    return _names_policy("Saves the named values not listed.", lambda n: n not in names)


def save_anything_except_these_names(*names_not_to_save):
    """A policy saving everything except the values with the names listed."""
    names = set(names_not_to_save)

    def policy(prim, *avals, name=None, **params):
        return not (_name(prim) == "name" and name in names)
    return policy


def save_from_both_policies(policy_1, policy_2):
    """A policy saving what either policy saves."""
    def policy(prim, *avals, **params):
        return bool(policy_1(prim, *avals, **params) or policy_2(prim, *avals, **params))
    return policy


def offload_dot_with_no_batch_dims(offload_src, offload_dst):
    """JAX's policy moving matrix products' results to another memory (``offload_src`` to
    ``offload_dst``); here as :func:`dots_with_no_batch_dims_saveable`."""
    return dots_with_no_batch_dims_saveable


def save_and_offload_only_these_names(*, names_which_can_be_saved,
                                      names_which_can_be_offloaded, offload_src, offload_dst):
    """JAX's policy saving some named values and offloading others; here as
    :func:`save_only_these_names` of both lists."""
    return save_only_these_names(*names_which_can_be_saved, *names_which_can_be_offloaded)
