"""``functrans.scipy.spatial``: :mod:`functrans.scipy.spatial.transform` (``Rotation``)."""

from . import transform  # noqa: F401

__all__ = ["transform"]
