"""``functrans.checkpoint_policies``: JAX's rematerialisation policies
(``jax.checkpoint_policies``), for ``functrans.checkpoint(f, policy=...)``.

A policy is a function ``policy(prim, *avals, **params) -> bool``: asked about each primitive
that the checkpointed function applies (``prim``, with the abstract values of its operands
and its parameters), it answers True where that primitive's results are to be kept from the
forward pass, False where the backward pass recomputes them. Functions taking names or other
policies return such a function; a policy of your own is any function of that form.

With ``nothing_saveable`` (or no policy) a checkpointed block keeps only its inputs; with
``everything_saveable`` it is differentiated as if it were not checkpointed; in between, the
backward pass's recomputation uses the kept results instead of running those primitives
again (``dots_saveable`` keeps the matrix products, ``save_only_these_names`` the values
labelled with :func:`functrans.ad_checkpoint.checkpoint_name`). Results and derivatives are
the same under every policy; only memory and compute differ.

Calls of ``custom_jvp``/``custom_vjp`` functions, nested checkpoints (which follow their own
policies) and callbacks are not asked about. Matrix products are ``matmul`` and ``tensordot``
here (JAX's ``dot_general``). There is no host memory to offload to: the offloading policies
keep on the device what JAX would move to the host.
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
    """Keep every result: the block is differentiated as if it were not checkpointed."""
    return True


def nothing_saveable(prim, *avals, **params):
    """Keep nothing: recompute everything from the block's inputs (checkpoint's default)."""
    return False


def dots_saveable(prim, *avals, **params):
    """Keep the results of matrix products (``matmul``, ``tensordot``)."""
    return _name(prim) in _DOTS


checkpoint_dots = dots_saveable


def dots_with_no_batch_dims_saveable(prim, *avals, **params):
    """Keep the results of matrix products without batch dimensions: ``matmul`` of operands
    of at most two dimensions, and ``tensordot`` (a contraction, never batched)."""
    name = _name(prim)
    if name == "matmul":
        return all(len(getattr(a, "shape", ())) <= 2 for a in avals)
    return name in _DOTS


checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


def _named(policy, name, names):
    policy.__name__ = policy.__qualname__ = f"{name}({', '.join(map(repr, names))})"
    return policy


def _check_names(who, names):
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"{who}: names are strings (those given to checkpoint_name); "
                            f"got {n!r}.")
    return frozenset(names)


def save_only_these_names(*names_which_can_be_saved):
    """A policy keeping the values labelled (``checkpoint_name``) with one of these names,
    and nothing else."""
    names = _check_names("save_only_these_names", names_which_can_be_saved)

    def policy(prim, *avals, **params):
        return _name(prim) == "name" and params.get("name") in names
    return _named(policy, "save_only_these_names", names_which_can_be_saved)


def save_any_names_but_these(*names_not_to_save):
    """A policy keeping the labelled values whose names are not listed, and nothing else."""
    names = _check_names("save_any_names_but_these", names_not_to_save)

    def policy(prim, *avals, **params):
        return _name(prim) == "name" and params.get("name") not in names
    return _named(policy, "save_any_names_but_these", names_not_to_save)


def save_anything_except_these_names(*names_not_to_save):
    """A policy keeping every result except the labelled values with these names (a value
    is still kept when the primitive that computed it is)."""
    names = _check_names("save_anything_except_these_names", names_not_to_save)

    def policy(prim, *avals, **params):
        return not (_name(prim) == "name" and params.get("name") in names)
    return _named(policy, "save_anything_except_these_names", names_not_to_save)


def save_from_both_policies(policy_1, policy_2):
    """A policy keeping what either policy keeps."""
    for p in (policy_1, policy_2):
        if not callable(p):
            raise TypeError(f"save_from_both_policies takes two policies (functions); got "
                            f"{p!r}.")

    def policy(prim, *avals, **params):
        return bool(policy_1(prim, *avals, **params) or policy_2(prim, *avals, **params))
    policy.__name__ = policy.__qualname__ = (
        f"save_from_both_policies({getattr(policy_1, '__name__', policy_1)}, "
        f"{getattr(policy_2, '__name__', policy_2)})")
    return policy


def offload_dot_with_no_batch_dims(offload_src, offload_dst):
    """JAX's policy moving the results of matrix products to another memory (``offload_src``
    to ``offload_dst``, device to host); here, with no host memory to move them to, they are
    kept where they are: :func:`dots_with_no_batch_dims_saveable`."""
    return dots_with_no_batch_dims_saveable


def save_and_offload_only_these_names(*, names_which_can_be_saved,
                                      names_which_can_be_offloaded, offload_src, offload_dst):
    """JAX's policy keeping some labelled values and offloading others to another memory;
    here, with nowhere to offload to, :func:`save_only_these_names` of both lists (the
    offloaded values are kept too)."""
    return save_only_these_names(*names_which_can_be_saved, *names_which_can_be_offloaded)
