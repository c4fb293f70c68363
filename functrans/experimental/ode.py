"""``functrans.experimental.ode``: where ``jax.experimental.ode`` users look for ``odeint``, so
that a program ported by swapping its imports keeps working; it is :func:`functrans.ode.odeint`."""

from ..ode import odeint  # noqa: F401

__all__ = ["odeint"]
