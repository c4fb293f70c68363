"""Backends: the layer through which every primitive's ``impl`` reaches an array library.

A :class:`Backend` bundles the library's Array API namespace (``backend.xp``), the array
types it owns, the mapping between its dtypes and functrans's :class:`~functrans.dtypes.DType`,
and named *extras* that the standard lacks. Dispatch is a dictionary look-up on
``type(array)``; a backend module is imported the first time one of its arrays is seen, so
``import functrans`` never imports torch or CuPy.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib

from .. import dtypes as _dt
from ..errors import BackendMismatchError, UnsupportedBackendError


class Backend:
    """One array library as seen by functrans.

    Args:
        name: short name (``"numpy"``, ``"array_api_strict"``...).
        xp: the library's Array API namespace.
        array_types: the concrete types whose instances belong to this backend.
        dtypes: pairs ``(native dtype, functrans DType)``.
        extras: functions the standard lacks, by name (``"scatter_add"``, ``"erf"``...).
    """

    def __init__(self, name, xp, array_types, dtypes, extras=None):
        self.name = name
        self.xp = xp
        self.array_types = tuple(array_types)
        self._to_dtype = {}
        self._to_native = {}
        for native, dt in dtypes:
            self._to_dtype[native] = dt
            self._to_native.setdefault(dt, native)
            _dt.register_native(native, dt)
        self.extras = dict(extras or {})

    def __repr__(self):
        return f"<functrans backend {self.name!r}>"

    # -- dtypes --------------------------------------------------------------------------
    def dtype(self, x) -> _dt.DType:
        """The functrans dtype of one of this backend's arrays."""
        return self._to_dtype[x.dtype]

    def native_dtype(self, dtype):
        """This library's dtype object for a functrans dtype (or anything ``as_dtype`` takes)."""
        if dtype is None:
            return None
        d = dtype if isinstance(dtype, _dt.DType) else _dt.as_dtype(dtype)
        try:
            return self._to_native[d]
        except KeyError:
            raise UnsupportedBackendError(
                f"Backend {self.name!r} has no dtype {d.name}.") from None

    # -- creation --------------------------------------------------------------------------
    def asarray(self, value, dtype=None, device=None):
        kw = {}
        if dtype is not None:
            kw["dtype"] = self.native_dtype(dtype)
        if device is not None:
            kw["device"] = device
        return self.xp.asarray(value, **kw)

    def device(self, x):
        return getattr(x, "device", "cpu")

    def as_array(self, x):
        """``x`` as an array of this library (NumPy turns its scalars into 0-d arrays)."""
        return x

    # -- extras ----------------------------------------------------------------------------
    def extra(self, name: str):
        """The named extra function, or a clear error if this backend has none."""
        fn = self.extras.get(name)
        if fn is None:
            fn = _GENERIC_EXTRAS.get(name)
            if fn is None:
                raise UnsupportedBackendError(
                    f"Backend {self.name!r} does not provide {name!r}, and there is no "
                    f"generic fallback for it. Use another backend, or register an "
                    f"implementation with functrans.backends.register_extra({self.name!r}, "
                    f"{name!r}, fn).")
            fn = fn.__get__(self) if hasattr(fn, "__get__") else fn
        return fn


# Extras written once on top of the standard, used where a backend has no faster one.
# Each takes the backend as its first argument.
_GENERIC_EXTRAS: dict = {}

_by_type: dict[type, Backend] = {}
_by_name: dict[str, Backend] = {}
# Modules that register a backend, imported the first time an array of theirs is seen.
_lazy_modules = {
    "numpy": "functrans.backends.numpy_backend",
    "array_api_strict": "functrans.backends.array_api_strict_backend",
}


def register(backend: Backend) -> Backend:
    """Make ``backend`` the owner of its array types."""
    _by_name[backend.name] = backend
    for t in backend.array_types:
        _by_type[t] = backend
    return backend


def register_extra(backend_name: str, name: str, fn) -> None:
    """Add or replace a named extra of a registered backend."""
    get_backend(backend_name).extras[name] = fn


def get_backend(name: str) -> Backend:
    """The registered backend of this name (importing it if it is built in)."""
    b = _by_name.get(name)
    if b is None and name in _lazy_modules:
        importlib.import_module(_lazy_modules[name])
        b = _by_name.get(name)
    if b is None:
        raise UnsupportedBackendError(
            f"No backend named {name!r}; known: {sorted(set(_by_name) | set(_lazy_modules))}.")
    return b


def backend_of(x) -> Backend:
    """The backend owning array ``x`` (a dictionary hit after the first call per type)."""
    b = _by_type.get(type(x))
    if b is None:
        b = resolve_type(type(x))
    return b


def resolve_type(t: type) -> Backend:
    """Find (importing if needed) the backend of a type not yet in the cache."""
    for known, b in list(_by_type.items()):
        if issubclass(t, known):
            _by_type[t] = b
            return b
    root = t.__module__.split(".")[0]
    if root in _lazy_modules:
        importlib.import_module(_lazy_modules[root])
        if t in _by_type:
            return _by_type[t]
        return resolve_type(t) if any(issubclass(t, k) for k in _by_type) else _unsupported(t)
    return _unsupported(t)


def _unsupported(t):
    raise UnsupportedBackendError(
        f"Values of type {t.__module__}.{t.__qualname__} belong to no functrans backend. "
        f"Pass arrays of a supported library (numpy, array_api_strict, ...), or register one "
        f"with functrans.backends.register.")


def check_same_backend(b1: Backend, b2: Backend, what: str = "an operation"):
    if b1 is not b2:
        raise BackendMismatchError(
            f"{what} mixes arrays of backend {b1.name!r} and backend {b2.name!r}. functrans "
            f"never copies between libraries implicitly: convert one of them first (for "
            f"example {b1.name}'s asarray/from_dlpack on the other array).")


_default = contextvars.ContextVar("functrans.default_backend", default=None)


def default() -> Backend:
    """The backend used for Python scalars and creation functions without an array."""
    b = _default.get()
    return b if b is not None else get_backend("numpy")


class default_backend(contextlib.ContextDecorator):
    """Set the default backend: ``functrans.default_backend("array_api_strict")`` sets it for
    the current context; ``with functrans.default_backend("cupy"): ...`` sets it for a block."""

    def __init__(self, name: str):
        self._backend = get_backend(name)
        self._token = _default.set(self._backend)

    def __enter__(self):
        return self._backend

    def __exit__(self, *exc):
        _default.reset(self._token)
        return False
