"""functrans.scipy: SciPy's names, differentiable, on every backend.

Only :mod:`functrans.scipy.special` so far (``import functrans.scipy.special as fsp``).
"""

from . import special  # noqa: F401

__all__ = ["special"]
