"""NumPy backend: the default, and the one used when every input is a Python scalar."""

import array_api_compat.numpy as _xp
import numpy as np

from .. import dtypes as _dt
from . import Backend, register

_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128")
_pairs = []
for _n in _NAMES:
    _pairs.append((np.dtype(_n), _dt.BY_NAME[_n]))
    _pairs.append((np.dtype(_n).type, _dt.BY_NAME[_n]))  # np.float64 the scalar type

# NumPy scalars (np.float64(1.0), the result of a full reduction) behave as 0-d arrays.
_types = [np.ndarray] + [np.dtype(n).type for n in _NAMES]


def _scatter_add(x, index, values):
    out = np.array(x, copy=True)
    np.add.at(out, index, values)
    return out


class NumPyBackend(Backend):
    def as_array(self, x):
        # A reduction to 0-d gives a NumPy scalar; transforms return arrays, as JAX does.
        return np.asarray(x) if isinstance(x, np.generic) else x


backend = register(NumPyBackend("numpy", _xp, _types, _pairs,
                                extras={"scatter_add": _scatter_add}))
