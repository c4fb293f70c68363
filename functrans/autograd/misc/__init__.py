"""autograd's ``autograd.misc``: :func:`flatten` and the optimizers
(:mod:`functrans.autograd.misc.optimizers`)."""

from . import optimizers  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401

__all__ = ["flatten", "flatten_func", "optimizers"]
