"""A toy array library and its functrans backend.

``FakeArray`` wraps a NumPy array; ``xp`` is its Array API namespace (every function of
array-api-compat's NumPy namespace, unwrapping arguments and wrapping results). It has no
extras of its own, so functrans uses its generic ones (scatter_add, erf...). The backend is
created by :func:`make_backend`, which the package's entry point names: importing this module
registers nothing.
"""

import types

import array_api_compat.numpy as _np_xp
import numpy as np

DEVICE = "fake_device"


def _unwrap(obj):
    if type(obj) is FakeArray:
        return obj._a
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, slice):
        return slice(_unwrap(obj.start), _unwrap(obj.stop), _unwrap(obj.step))
    return obj


def _wrap(obj):
    if isinstance(obj, (np.ndarray, np.generic)):
        return FakeArray(np.asarray(obj))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple results
        return type(obj)(*(_wrap(o) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_wrap(o) for o in obj)
    return obj


class FakeArray:
    __slots__ = ("_a",)
    __array_priority__ = 10

    def __init__(self, a):
        self._a = a

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    device = property(lambda self: DEVICE)
    T = property(lambda self: FakeArray(self._a.T))
    mT = property(lambda self: FakeArray(np.swapaxes(self._a, -1, -2)))

    def __array_namespace__(self, api_version=None):
        return xp

    def __repr__(self):
        return f"FakeArray({self._a!r})"

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def to_device(self, device, stream=None):
        return self

    def numpy(self):
        return self._a


def _operator(name):
    def op(self, *args):
        out = getattr(self._a, name)(*_unwrap(args))
        return NotImplemented if out is NotImplemented else _wrap(out)
    op.__name__ = name
    return op


for _name in ("add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow "
              "rpow matmul rmatmul and rand or ror xor rxor lshift rlshift rshift rrshift "
              "lt le gt ge eq ne neg pos abs invert").split():
    setattr(FakeArray, f"__{_name}__", _operator(f"__{_name}__"))
FakeArray.__hash__ = None


def _function(fn):
    def call(*args, **kwargs):
        if kwargs.get("device") == DEVICE:
            kwargs["device"] = None
        return _wrap(fn(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))
    call.__name__ = getattr(fn, "__name__", "function")
    return call


class _Namespace(types.ModuleType):
    def __getattr__(self, name):
        obj = getattr(_np_xp, name)
        if callable(obj) and not isinstance(obj, type):
            obj = _function(obj)
        setattr(self, name, obj)
        return obj


xp = _Namespace("functrans_fake_backend.xp", "The Array API namespace of FakeArray.")


def asarray(data, dtype=None):
    return FakeArray(np.asarray(data, dtype=dtype))


def make_backend():
    """The functrans backend of FakeArray (what the entry point loads)."""
    from functrans import dtypes
    from functrans.backends import Backend

    class FakeBackend(Backend):
        def to_numpy(self, x):
            return np.asarray(x._a)

    names = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
             "uint64", "float32", "float64", "complex64", "complex128")
    return FakeBackend("fake", xp, [FakeArray],
                       [(np.dtype(n), dtypes.BY_NAME[n]) for n in names])
