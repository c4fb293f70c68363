"""``functrans.experimental``: the names of ``jax.experimental`` that functrans has
(``io_callback``; ``experimental.ode.odeint``, which is :func:`functrans.ode.odeint`;
``experimental.jet.jet``, Taylor mode: :func:`functrans.taylor.jet`)."""

from ..callbacks import io_callback  # noqa: F401
from . import jet, ode  # noqa: F401

__all__ = ["io_callback", "jet", "ode"]
