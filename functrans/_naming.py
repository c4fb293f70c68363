"""Public functions found where their ``__module__`` and ``__qualname__`` say."""

from __future__ import annotations

import sys
import types


def _found(fn) -> bool:
    obj = sys.modules.get(fn.__module__)
    for part in fn.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return obj is fn


def rehome(namespace: dict, module: str) -> None:
    """Give each public function of ``namespace`` (a module's globals) that its
    ``__module__`` and ``__qualname__`` do not lead back to (a wrapper made by a factory or
    a decorator applied in the namespace: ``functools.wraps`` copies the wrapped function's
    names) ``module`` and its name there, so that pickle (which looks a function up by
    those names and refuses another object) and the API reference find it, as NumPy's and
    JAX's functions are found in ``numpy`` and ``jax.numpy``."""
    for name, fn in list(namespace.items()):
        if name.startswith("_") or not isinstance(fn, types.FunctionType) or _found(fn):
            continue
        # (its own name where the namespace has it under that too: conj, not conjugate)
        fn.__module__ = module
        fn.__qualname__ = fn.__name__ if namespace.get(fn.__name__) is fn else name
