"""``functrans.experimental``: the names of ``jax.experimental`` that functrans has."""

from .callbacks import io_callback  # noqa: F401

__all__ = ["io_callback"]
