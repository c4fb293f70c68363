"""``functrans.experimental``: the names of ``jax.experimental`` that functrans has
(``io_callback``; ``experimental.ode.odeint``, which is :func:`functrans.ode.odeint`;
``experimental.jet.jet``, Taylor mode: :func:`functrans.taylor.jet`;
``experimental.checkify``, run-time checks as values)."""

from ..callbacks import io_callback  # noqa: F401
from . import checkify, jet, ode  # noqa: F401

__all__ = ["checkify", "io_callback", "jet", "ode"]
