"""autograd's ``autograd.misc``: :func:`flatten`, the optimizers
(:mod:`functrans.autograd.misc.optimizers`), ``fixed_point``
(:mod:`functrans.autograd.misc.fixed_points`) and :func:`const_graph`
(:mod:`functrans.autograd.misc.tracers`)."""

from . import fixed_points, optimizers, tracers  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401
from .tracers import const_graph  # noqa: F401

__all__ = ["const_graph", "fixed_points", "flatten", "flatten_func", "optimizers", "tracers"]
