"""``functrans.scipy.sparse``: ``jax.scipy.sparse``'s iterative solvers
(:mod:`functrans.scipy.sparse.linalg`: ``cg``, ``bicgstab``, ``gmres``)."""

from . import linalg  # noqa: F401

__all__ = ["linalg"]
