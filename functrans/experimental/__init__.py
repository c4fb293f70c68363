"""``functrans.experimental``: the names of ``jax.experimental`` that functrans has
(``io_callback``; ``experimental.ode.odeint``, which is :func:`functrans.ode.odeint`;
``experimental.jet.jet``, Taylor mode: :func:`functrans.taylor.jet`;
``experimental.checkify``, run-time checks as values; ``experimental.sparse``, the BCOO
sparse format)."""

from ..callbacks import io_callback  # noqa: F401
from . import checkify, jet, ode  # noqa: F401


def __getattr__(name):
    # sparse is imported on first use: until then grad and vjp look for no sparse arrays
    if name == "sparse":
        import importlib
        return importlib.import_module(".sparse", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["checkify", "io_callback", "jet", "ode", "sparse"]
