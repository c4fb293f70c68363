"""autograd's ``autograd.misc``: :func:`flatten`, the optimizers
(:mod:`functrans.autograd.misc.optimizers`) and ``fixed_point``
(:mod:`functrans.autograd.misc.fixed_points`)."""

from . import fixed_points, optimizers  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401

__all__ = ["fixed_points", "flatten", "flatten_func", "optimizers"]
