"""``functrans.flatten_util``: ``jax.flatten_util``'s ``ravel_pytree`` (also
``functrans.tree.ravel_pytree``)."""

from .tree import ravel_pytree

__all__ = ["ravel_pytree"]
