"""``functrans.config``: the options JAX programs set with ``jax.config.update``, and the
context managers that set them for a block (``enable_x64``, ``debug_nans``, ``debug_infs``,
``default_matmul_precision``, ``default_device``).

What each option does here (an option functrans does not know is an error naming the ones
it does, never silently ignored):

- ``jax_enable_x64``: functrans's defaults are NumPy's, 64-bit already (Python floats and
  creation functions give float64, integers int64), so ``True`` changes nothing. ``False``
  (JAX's default: float32/int32 defaults) is refused with an error: functrans has no 32-bit
  default mode, and pretending to have one would give float64 where the program expects
  float32. Cast explicitly (``astype(fnp.float32)``, ``dtype=`` arguments) instead.
- ``jax_platform_name`` / ``jax_platforms``: ``"cpu"`` makes NumPy the default backend,
  ``"gpu"``/``"cuda"``/``"rocm"`` CuPy (an error where CuPy or a GPU is missing); a backend's
  own name (``"torch"``, ``"array_api_strict"``) is accepted too. ``jax_platforms`` is a
  comma-separated list: the first one available is used, as JAX uses its first platform.
  This sets :class:`functrans.default_backend` (what Python numbers and creation functions
  without an array are made on) for the current thread; arrays keep their own library.
- ``jax_debug_nans`` / ``jax_debug_infs``: when on, every primitive evaluated on concrete
  arrays checks its floating-point results and raises ``FloatingPointError`` naming the
  primitive at the first NaN (inf); inside a jitted function too (the compiled graph calls
  the checking implementations). Turning them on or off swaps the primitives'
  implementations and forgets compiled graphs, so that the check costs nothing at all while
  off. The setting is process-wide (not per thread). Not checked: an operator applied
  outside every transform to arrays of the library itself (``a * b`` or ``a[i]`` on two NumPy
  arrays is NumPy's own operation, which functrans never sees); the ``functrans.numpy``
  functions (``fnp.multiply(a, b)``), operators on traced values and everything in a jitted
  function are checked.
- ``jax_default_matmul_precision``: accepted (``None``, ``"default"``, ``"high"``,
  ``"highest"``, ``"bfloat16"``, ``"tensorfloat32"``, ``"float32"``, ``"fastest"`` and the
  ``functrans.lax.Precision`` members) and recorded; matrix products always run at the full
  precision of their dtype here (what JAX calls ``"highest"``, and what JAX does on CPU).
- ``jax_default_device``: as :func:`default_device`.
- ``jax_disable_jit``: as :func:`functrans.disable_jit` (for the current thread).
- ``jax_numpy_rank_promotion``: ``"allow"`` (the default), ``"warn"`` or ``"raise"``: what a
  ``functrans.numpy`` binary elementwise function (``add``, ``multiply``, operators on
  tracers...) does when user code gives it operands of different ranks (neither 0-d) to
  broadcast: nothing, a ``UserWarning``, or a ``ValueError`` naming the shapes. For a block:
  :func:`numpy_rank_promotion`.
- ``jax_numpy_dtype_promotion``: ``"standard"`` (the default) or ``"strict"``: under
  ``"strict"`` implicit promotion between different dtypes in ``functrans.numpy``'s
  elementwise functions and those that promote their operands (``where``, ``concat``,
  ``stack``, ``matmul``...) raises :class:`functrans.dtypes.TypePromotionError`; a Python
  number still meets an array of its own kind or a wider one (JAX's strict lattice: an int
  any number dtype, a float floating and complex ones). For a block:
  :func:`numpy_dtype_promotion`. Both checks apply to calls from user code (functrans's own
  derivative rules promote as they need), and cost nothing while the options are at their
  defaults.
- ``jax_softmax_custom_jvp``: accepted and recorded (a bool). JAX chooses with it between two
  ways of differentiating ``nn.softmax`` (its custom JVP rule, or through the subtraction of
  the maximum); functrans's ``softmax`` has one derivative rule, the exact one either way.
"""

from __future__ import annotations

import contextlib
import contextvars

from . import backends as _backends
from . import buffers as _buffers
from . import core as _core

__all__ = ["config", "enable_x64", "debug_nans", "debug_infs", "default_matmul_precision",
           "default_device", "numpy_rank_promotion", "numpy_dtype_promotion"]

_MATMUL_PRECISIONS = (None, "default", "high", "highest", "bfloat16", "tensorfloat32",
                      "float32", "fastest", "bfloat16_3x", "tensorfloat32_3x", "ANY_F8_ANY_F8_F32",
                      "ANY_F8_ANY_F8_F32_FAST_ACCUM", "F16_F16_F16", "F16_F16_F32",
                      "BF16_BF16_BF16", "BF16_BF16_F32", "BF16_BF16_F32_X3", "BF16_BF16_F32_X6",
                      "TF32_TF32_F32", "TF32_TF32_F32_X3", "F32_F32_F32", "F64_F64_F64")
_PLATFORMS = {"cpu": "numpy", "gpu": "cupy", "cuda": "cupy", "rocm": "cupy"}

# -- jax_debug_nans / jax_debug_infs -------------------------------------------------------------

_checks = {"nans": False, "infs": False}
_original_impl_for = _core.Primitive.impl_for
_buffers_enabled = None  # buffers.ENABLED as it was before checking started


def _check_result(prim, backend, out):
    xp = backend.xp
    for o in (out if prim.multiple_results else (out,)):
        if not hasattr(o, "shape") or not hasattr(o, "dtype"):
            continue
        try:
            kind = backend.dtype(o).kind
        except Exception:  # not an array of this backend (a Python value): nothing to check
            continue
        if kind not in "fc":
            continue
        if _checks["nans"] and bool(xp.any(xp.isnan(o))):
            raise FloatingPointError(f"invalid value (nan) encountered in {prim.name} "
                                     f"(functrans.config jax_debug_nans is on)")
        if _checks["infs"] and bool(xp.any(xp.isinf(o))):
            raise FloatingPointError(f"invalid value (inf) encountered in {prim.name} "
                                     f"(functrans.config jax_debug_infs is on)")


def _checking(prim, backend, fn):
    def checked(*args, **params):
        out = fn(*args, **params)
        if _checks["nans"] or _checks["infs"]:  # (a graph compiled while checking was on)
            _check_result(prim, backend, out)
        return out
    checked._functrans_checked = True
    return checked


def _checked_impl_for(self, backend):
    fn = self._impls.get(backend)
    if fn is not None and getattr(fn, "_functrans_checked", False):
        return fn
    fn = _original_impl_for(self, backend)  # fills the cache for the backend's array types
    wrapped = _checking(self, backend, fn)
    by_type = getattr(backend, "type_impls", {}).get(self.name) or {}
    for table in (self._impls, self._broadcasting):
        for k, v in list(table.items()):
            if v is fn:
                table[k] = wrapped
            elif by_type.get(k) is v:  # (an operand type's own implementation: checked too)
                table[k] = _checking(self, backend, v)
    return wrapped


def _set_check(kind, on):
    global _buffers_enabled
    on = _as_bool(on, f"jax_debug_{kind}")
    was_any = _checks["nans"] or _checks["infs"]
    _checks[kind] = on
    now_any = _checks["nans"] or _checks["infs"]
    if was_any == now_any:
        return
    if now_any:
        _core.Primitive.impl_for = _checked_impl_for
        # (graph evaluation that writes into reused memory bypasses the implementations)
        _buffers_enabled, _buffers.ENABLED = _buffers.ENABLED, False
    else:
        _core.Primitive.impl_for = _original_impl_for
        if _buffers_enabled is not None:
            _buffers.ENABLED = _buffers_enabled
    _core._forget_impls()
    from .toplevel import clear_caches
    clear_caches()


# -- the options ---------------------------------------------------------------------------------


def _as_bool(value, name):
    if not isinstance(value, (bool, int)) or isinstance(value, float):
        raise TypeError(f"functrans.config: {name} takes a bool; got {value!r}.")
    return bool(value)


def _set_x64(value):
    if not _as_bool(value, "jax_enable_x64"):
        raise NotImplementedError(
            "functrans.config: jax_enable_x64=False is not supported. functrans's default "
            "dtypes are NumPy's (float64, int64): there is no 32-bit default mode to switch "
            "to, and functrans will not pretend to have one. Create float32 arrays explicitly "
            "(dtype=fnp.float32, x.astype(fnp.float32)).")


def _platform_backend(name, what):
    if not isinstance(name, str):
        raise TypeError(f"functrans.config: {what} takes a string; got {name!r}.")
    key = name.strip().lower()
    target = _PLATFORMS.get(key, key)
    if key == "tpu":
        raise _backends.UnsupportedBackendError(
            f"functrans.config: {what}={name!r}: functrans has no TPU backend; use 'cpu' "
            f"(NumPy) or 'gpu' (CuPy).")
    try:
        b = _backends.get_backend(target)
    except _backends.UnsupportedBackendError as e:
        raise _backends.UnsupportedBackendError(
            f"functrans.config: {what}={name!r} needs the {target!r} backend, which is not "
            f"available here ('cpu' is NumPy, 'gpu'/'cuda'/'rocm' CuPy).") from e
    if target == "cupy":
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no GPU")
        except Exception as e:
            raise _backends.UnsupportedBackendError(
                f"functrans.config: {what}={name!r}: CuPy is installed but no GPU is usable "
                f"({e}).") from None
    return b


def _set_platform_name(value):
    if value is None or value == "":
        _backends._default.set(None)
        return
    _backends._default.set(_platform_backend(value, "jax_platform_name"))


def _set_platforms(value):
    if value is None or value == "":
        _backends._default.set(None)
        return
    if not isinstance(value, str):
        raise TypeError(f"functrans.config: jax_platforms takes a comma-separated string; "
                        f"got {value!r}.")
    errors = []
    for name in value.split(","):
        try:
            b = _platform_backend(name, "jax_platforms")
        except (_backends.UnsupportedBackendError, TypeError) as e:
            errors.append(str(e))
            continue
        _backends._default.set(b)
        return
    raise _backends.UnsupportedBackendError(
        f"functrans.config: none of jax_platforms={value!r} is available: "
        + " ".join(errors))


def _set_precision(value):
    from .lax_ops import Precision
    if isinstance(value, Precision):
        return
    if value not in _MATMUL_PRECISIONS:
        raise ValueError(f"functrans.config: jax_default_matmul_precision must be one of "
                         f"{[p for p in _MATMUL_PRECISIONS]} or a functrans.lax.Precision; "
                         f"got {value!r}.")


def _set_default_device(value):
    _backends._default.set(None if value is None else _device_backend(value))


def _device_backend(device):
    """The backend whose default device is ``device`` (a device object of an array library,
    a platform name or a backend name)."""
    if isinstance(device, str):
        return _platform_backend(device, "default_device")
    b = _backends.backend_of_device(device)
    if b is None:
        raise ValueError(f"default_device: {device!r} is not a device of a known backend.")
    default = b.xp.__array_namespace_info__().default_device()
    if device != default:
        raise NotImplementedError(
            f"default_device: {device!r} is not the {b.name!r} library's default device "
            f"({default!r}); functrans's default backend creates arrays on its library's "
            f"default device only. Create the arrays there with device= (or "
            f"functrans.device_put), or change the library's own default device.")
    return b


def _set_promotion(kind, value):
    from .numpy import _promotion
    _promotion.set_process_mode(kind, value)


def _set_disable_jit(value):
    from .compiling import _jit_disabled
    _jit_disabled.set(_as_bool(value, "jax_disable_jit"))


# name -> (setter, default)
_OPTIONS = {
    "jax_enable_x64": (_set_x64, True),
    "jax_platform_name": (_set_platform_name, ""),
    "jax_platforms": (_set_platforms, None),
    "jax_debug_nans": (lambda v: _set_check("nans", v), False),
    "jax_debug_infs": (lambda v: _set_check("infs", v), False),
    "jax_default_matmul_precision": (_set_precision, None),
    "jax_default_device": (_set_default_device, None),
    "jax_disable_jit": (_set_disable_jit, False),
    "jax_numpy_rank_promotion": (lambda v: _set_promotion("rank", v), "allow"),
    "jax_numpy_dtype_promotion": (lambda v: _set_promotion("dtype", v), "standard"),
    "jax_softmax_custom_jvp": (lambda v: _as_bool(v, "jax_softmax_custom_jvp"), False),
}
# (read back as the mode in force in this thread: a block's, else the process-wide one)
_PROMOTION_OPTIONS = {"jax_numpy_rank_promotion": "rank", "jax_numpy_dtype_promotion": "dtype"}


_BOOL_OPTIONS = ("jax_enable_x64", "jax_debug_nans", "jax_debug_infs", "jax_disable_jit",
                 "jax_softmax_custom_jvp")
# Options that set the default backend, which is per thread (a context variable): their
# values are read back per thread too (another thread sees the defaults, as it sees the
# default backend).
_PER_THREAD = ("jax_platform_name", "jax_platforms", "jax_default_device")
_thread_values = contextvars.ContextVar("functrans.config.thread_values", default=None)


class Config:
    """The options JAX programs set (``jax.config``): ``config.update(name, value)`` sets
    one, ``config.jax_enable_x64`` (any option's name) reads it, ``config.values`` holds
    the process-wide values (``jax_platform_name``, ``jax_platforms`` and
    ``jax_default_device`` set the current thread's default backend, and are read back
    per thread by name). See :mod:`functrans.config` for what each one does here."""

    def __init__(self):
        object.__setattr__(self, "values", {k: d for k, (_, d) in _OPTIONS.items()})

    def update(self, name, value):
        """Set the option ``name`` (``"jax_enable_x64"``...) to ``value``."""
        entry = _OPTIONS.get(name)
        if entry is None:
            raise AttributeError(
                f"functrans.config.update: unknown option {name!r}; functrans knows "
                f"{sorted(_OPTIONS)} (see the functrans.config module for what each does).")
        entry[0](value)
        if name in _BOOL_OPTIONS:  # (read back as the bool it means, as JAX's)
            value = bool(value)
        if name in _PER_THREAD:
            _thread_values.set(dict(_thread_values.get() or {}, **{name: value}))
            return
        self.values[name] = value

    def read(self, name):
        """The value of the option ``name``."""
        return getattr(self, name)

    def __getattr__(self, name):
        values = object.__getattribute__(self, "values")
        if name in values:
            if name in _PER_THREAD:
                return (_thread_values.get() or {}).get(name, values[name])
            if name == "jax_disable_jit":
                from .compiling import _jit_disabled
                return _jit_disabled.get()
            if name in _PROMOTION_OPTIONS:
                from .numpy import _promotion
                return _promotion.mode(_PROMOTION_OPTIONS[name])
            return values[name]
        raise AttributeError(f"functrans.config has no option {name!r}; it knows "
                             f"{sorted(_OPTIONS)}.")

    def __setattr__(self, name, value):
        raise AttributeError("functrans.config: set options with config.update(name, value).")

    def __repr__(self):
        return f"functrans.config({ {k: getattr(self, k) for k in self.values}!r})"


config = Config()


@contextlib.contextmanager
def _setting(name, value):
    old = getattr(config, name)
    config.update(name, value)
    try:
        yield
    finally:
        config.update(name, old)


def enable_x64(new_val=True):
    """A context manager setting ``jax_enable_x64`` for a block (``jax.enable_x64``):
    ``True`` changes nothing (functrans is 64-bit by default), ``False`` is refused (see
    :mod:`functrans.config`)."""
    return _setting("jax_enable_x64", new_val)


def debug_nans(new_val=True):
    """A context manager turning ``jax_debug_nans`` on (or off) for a block
    (``jax.debug_nans``): a primitive whose result holds a NaN raises ``FloatingPointError``
    naming it. Process-wide while the block runs."""
    return _setting("jax_debug_nans", new_val)


def debug_infs(new_val=True):
    """As :func:`debug_nans`, for infinities (``jax.debug_infs``)."""
    return _setting("jax_debug_infs", new_val)


def default_matmul_precision(new_val):
    """A context manager setting ``jax_default_matmul_precision`` for a block; matrix
    products run at their dtype's full precision whatever it says (see
    :mod:`functrans.config`)."""
    return _setting("jax_default_matmul_precision", new_val)


@contextlib.contextmanager
def default_device(device):
    """A context manager making ``device``'s library the default backend for a block
    (``jax.default_device``): ``device`` is a platform name (``"cpu"``, ``"gpu"``), a
    backend's name, or a device object that is its library's default device (another
    device of a library is refused: the default backend creates arrays on its library's
    default device only). ``None`` leaves the default as it is."""
    if device is None:
        yield
        return
    token = _backends._default.set(_device_backend(device))
    try:
        yield
    finally:
        _backends._default.reset(token)


def numpy_rank_promotion(new_val):
    """A context manager setting ``jax_numpy_rank_promotion`` for a block, in this thread
    (``jax.numpy_rank_promotion``): ``"allow"``, ``"warn"`` or ``"raise"`` what
    ``functrans.numpy``'s binary elementwise functions do when user code broadcasts operands
    of different ranks (see :mod:`functrans.config`).

    Example:
        >>> with ft.numpy_rank_promotion("raise"):
        ...     fnp.add(np.ones((2, 3)), np.ones((2, 3)))  # same rank: fine
        array([[2., 2., 2.],
               [2., 2., 2.]])
    """
    from .numpy import _promotion
    return _promotion.block_mode("rank", new_val)


def numpy_dtype_promotion(new_val):
    """A context manager setting ``jax_numpy_dtype_promotion`` for a block, in this thread
    (``jax.numpy_dtype_promotion``): under ``"strict"`` implicit promotion between different
    dtypes raises :class:`functrans.dtypes.TypePromotionError` (see :mod:`functrans.config`).

    Example:
        >>> with ft.numpy_dtype_promotion("strict"):
        ...     fnp.multiply(np.ones(2, dtype=np.float32), 2.0)  # a Python float: weak
        array([2., 2.], dtype=float32)
    """
    from .numpy import _promotion
    return _promotion.block_mode("dtype", new_val)
