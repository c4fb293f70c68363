"""``functrans.example_libraries``: the small example libraries JAX ships under
``jax.example_libraries``, written for functrans: :mod:`~functrans.example_libraries.optimizers`
(``(init_fun, update_fun, get_params)`` optimizers over pytrees of parameters) and
:mod:`~functrans.example_libraries.stax` (``(init_fun, apply_fun)`` neural-network layers and
their combinators). As JAX's, they are examples: small, readable, enough for a tutorial or
a test; they run on every backend and under every transform.
"""

from . import optimizers, stax  # noqa: F401

__all__ = ["optimizers", "stax"]
