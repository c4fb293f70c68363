"""``functrans.typing``: ``jax.typing``'s annotation types, for code written with them.

- ``ArrayLike``: what functrans's functions take as an array: an array of any backend or a
  value being transformed (:class:`functrans.Array`), a NumPy array or scalar, or a Python
  ``bool``, ``int``, ``float`` or ``complex``;
- ``DTypeLike``: what they take as a dtype: a name (``"float32"``), a NumPy dtype or scalar
  type, or an object with a ``dtype`` attribute (a functrans dtype, an array).
"""

from __future__ import annotations

from typing import Any, Protocol, Union

import numpy as np

from .toplevel import Array

__all__ = ["ArrayLike", "DTypeLike", "SupportsDType"]


class SupportsDType(Protocol):
    """Anything with a ``dtype`` attribute."""

    @property
    def dtype(self) -> Any:
        ...


ArrayLike = Union[Array, np.ndarray, np.generic, bool, int, float, complex]
DTypeLike = Union[str, type, np.dtype, SupportsDType]
