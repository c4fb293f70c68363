"""``functrans.experimental.jet``: Taylor-mode automatic differentiation, where
``jax.experimental.jet`` users look for it; ``jet`` is :func:`functrans.taylor.jet`."""

from ..taylor import jet  # noqa: F401

__all__ = ["jet"]
