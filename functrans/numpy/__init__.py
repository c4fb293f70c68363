"""functrans.numpy: an Array API namespace that works on plain arrays and on tracers.

``import functrans.numpy as fnp``; inside a transform, ``x.__array_namespace__()`` is this
module, so code written as ``xp = array_namespace(x); xp.sin(x)`` is differentiable unchanged.
A function this namespace lacks raises AttributeError naming it; nothing falls back silently
to NumPy.
"""

from ..dtypes import (bool_ as bool, complex64, complex128, float32, float64,  # noqa: F401
                      int8, int16, int32, int64, uint8, uint16, uint32, uint64)
from ._base import *  # noqa: F401,F403
from ._base import _getitem, broadcast_shapes  # noqa: F401

__array_api_version__ = "2024.12"

e = 2.718281828459045
pi = 3.141592653589793
inf = float("inf")
nan = float("nan")
newaxis = None


def __getattr__(name):
    raise AttributeError(
        f"functrans.numpy has no function {name!r}. It implements the Array API standard "
        f"({__array_api_version__}) and never falls back to NumPy silently; if {name!r} is "
        f"part of the standard, please report it as missing.")
