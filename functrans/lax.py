"""``functrans.lax``: JAX's structured control flow, for code written against ``jax.lax``.

``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan`` and ``map`` with ``jax.lax``'s
signatures, and ``stop_gradient``. Where the deciding value is concrete they are Python's own
control flow, so eager transforms differentiate them like any Python code; under ``jit`` and
``vmap`` they are staged as primitives (see :mod:`functrans.control_flow`).
"""

from .control_flow import cond, fori_loop, map, scan, switch, while_loop  # noqa: F401
from .numpy import stop_gradient  # noqa: F401

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "stop_gradient"]
