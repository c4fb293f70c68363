"""``functrans.ad_checkpoint``: ``jax.ad_checkpoint``'s names — ``checkpoint`` (``remat``),
``checkpoint_name`` and ``checkpoint_policies``.

``checkpoint_name(x, name)`` labels a value for the name-based policies
(``save_only_these_names``, ``save_any_names_but_these``...): inside a function given to
``checkpoint(f, policy=...)``, a labelled value the policy saves is kept from the forward
pass instead of being recomputed by the backward pass. The label changes no value or
derivative, and outside ``checkpoint`` it has no effect at all.
"""

from __future__ import annotations

from . import checkpoint_policies  # noqa: F401
from .checkpointing import _static, name_p
from .toplevel import checkpoint
from .tree import tree_map

remat = checkpoint

__all__ = ["checkpoint", "remat", "checkpoint_name", "checkpoint_policies"]


def checkpoint_name(x, name):
    """``x`` (any pytree of arrays), labelled ``name`` for the name-based policies of
    :mod:`functrans.checkpoint_policies`; the same values (leaves that are not arrays, such
    as Python numbers, are returned as they are).

    Example:
        >>> from functrans.ad_checkpoint import checkpoint_name
        >>> def f(x):
        ...     h = checkpoint_name(fnp.sin(x), "h")  # kept by the policy below
        ...     return fnp.sum(fnp.exp(h))
        >>> policy = ft.checkpoint_policies.save_only_these_names("h")
        >>> ft.grad(ft.checkpoint(f, policy=policy))(fnp.asarray([0.0, 1.0]))
        array([1.        , 1.25338077])
    """
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a string; got {name!r}")
    return tree_map(lambda leaf: leaf if _static(leaf) else name_p.bind(leaf, name=name), x)
