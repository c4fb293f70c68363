"""``functrans.ad_checkpoint``: ``jax.ad_checkpoint``'s names — ``checkpoint`` (``remat``),
``checkpoint_name`` and ``checkpoint_policies``.

``checkpoint_name(x, name)`` labels a value for the name-based policies
(``save_only_these_names``...). functrans's ``checkpoint`` recomputes everything inside
whatever the policy says (see :mod:`functrans.checkpoint_policies`), so the label changes no
value or derivative: it returns ``x`` itself (a pytree), as JAX's does apart from the label.
"""

from __future__ import annotations

from . import checkpoint_policies  # noqa: F401
from .toplevel import checkpoint

remat = checkpoint

__all__ = ["checkpoint", "remat", "checkpoint_name", "checkpoint_policies"]


def checkpoint_name(x, name):
    """``x`` (any pytree), labelled ``name`` for JAX's name-based checkpoint policies; here the
    identity (nothing is saved by name: every checkpointed value is recomputed)."""
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a string; got {name!r}")
    return x
