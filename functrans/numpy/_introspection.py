"""NumPy's names beyond the standard (being written)."""

from __future__ import annotations

__all__: list[str] = []
