"""``functrans.scipy.cluster``: :mod:`functrans.scipy.cluster.vq` (``vq``)."""

from . import vq  # noqa: F401

__all__ = ["vq"]
