"""Creation functions. Without an array argument they make arrays of the default backend
(``functrans.default_backend``); ``*_like`` functions follow their template, tracers included
(their results carry no derivative)."""

from __future__ import annotations

import builtins
import functools
import operator

import numpy as _np

from .. import dtypes as _dt
from .. import backends as _fb
from ..backends import backend_of, default as _default_backend
from ..backends.numpy_backend import with_at as _with_at_view
from ..core import Tracer, _current
from ..interpreters import ConstTracer as _ConstTracer, JVPTracer as _JVPTracer
from ..interpreters import constant as _constant
from ..primitives import structural as _st
from ._base import (_NUMPY_SCALARS, _SCALARS, _as_operand, _concrete_value, _creation_place, _data_place,
                    _dtype,
                    _first_array, _place_of, _python_dtype, _shape,
                    _to_array, _user_data, astype,
                    broadcast_to, reshape)
from ._base import asarray as _asarray_base


def _with_at(make):
    """``make`` (a creation function) returning its new NumPy arrays as
    :class:`~functrans.backends.numpy_backend.AtArray`: NumPy arrays with jax.numpy's ``.at``,
    so that JAX code building an array (``fnp.zeros(3).at[0].set(x)``) runs as it is, called
    plainly or under any transform."""
    @functools.wraps(make)
    def with_at(*args, **kwargs):
        out = make(*args, **kwargs)
        # (an array passed in and given back stays itself)
        return out if args and out is args[0] else _with_at_view(out)
    return with_at


def _place(device, like=None):
    """``(backend, device)`` that create an array asked for on ``device``: the backend whose
    library the device object belongs to (an array_api_strict or torch device...); without
    a device, that of the array ``like`` (NumPy's keyword: the library to create in), else
    inside a transform, the library and device of the values it transforms, else the
    default backend (see _creation_place)."""
    if device is None and like is not None:
        c = _concrete_value(like)
        if c is None or not hasattr(c, "shape"):
            raise TypeError(f"like= must be an array (whose library and device the new "
                            f"array takes); got {type(like).__name__}")
        return _place_of(c)
    if device is None:
        return _creation_place()
    if isinstance(device, str):
        return _default_backend(), device
    return _fb.backend_of_device(device) or _default_backend(), device


_ORDERS = (None, "C", "F", "A", "K")


def _order(order, what):
    """NumPy's memory ``order``: accepted and ignored (the backend lays arrays out; nothing
    in functrans depends on it), but checked as NumPy checks it."""
    if order not in _ORDERS:
        raise ValueError(f"{what}: order must be one of 'C', 'F', 'A', 'K'; got {order!r}")


def _kw(b, dtype, device):
    kw = {}
    if dtype is not None:
        kw["dtype"] = b.native_dtype(dtype)
    if device is not None:
        kw["device"] = device
    return kw


_INF = float("inf")


def _check_integer_range(x, dtype, name):
    """For a Python int or float ``x`` made an array of the integer ``dtype``: a clear error
    where it has no value of that dtype (out of range, NaN, an infinity), which NumPy, JAX
    and torch refuse as well, each in its own words (NumPy's speaks of a "Python integer"
    for a float). A NumPy scalar or an array of another dtype is cast instead, as NumPy
    casts it (out of range: an undefined value, with NumPy's RuntimeWarning)."""
    t = type(x)
    if t is not int and t is not float or t is int and 0 <= x < 128:  # (fits them all)
        return
    try:
        to = _dt.as_dtype(dtype)
    except TypeError:
        return  # (the caller's own error)
    if to.kind not in "iu":
        return
    if x != x or x in (_INF, -_INF):
        raise ValueError(f"{name}: {x!r} has no value of {to.name} (an integer type), as in "
                         f"NumPy and JAX; replace it first (fnp.nan_to_num), or cast a float "
                         f"array with astype (an undefined value)")
    lo, hi = (0, 2 ** to.bits - 1) if to.kind == "u" else (-2 ** (to.bits - 1),
                                                             2 ** (to.bits - 1) - 1)
    if not lo <= int(x) <= hi:
        raise OverflowError(
            f"{name}: {x!r} is out of the range of {to.name} ({lo} to {hi}); "
            f"NumPy and JAX refuse a Python number out of range too. Clip it first "
            f"(fnp.clip) or wrap it (x % 2**{to.bits}); a NumPy scalar or an array of "
            f"another dtype is cast as NumPy casts it (out of range: an undefined value)")


def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """An array from ``a``. ``dtype`` may be positional and NumPy's ``order`` is accepted
    (and ignored), as in ``np.asarray(x, np.float32)``.

    Arrays and tracers are returned as they are (cast to ``dtype`` if given; copied when
    ``copy=True``), except that a NumPy array comes back as a view of the same memory that
    has jax.numpy's ``.at``; Python scalars and nested sequences become arrays of the default backend,
    and a sequence holding arrays or tracers is stacked into one array of their library
    (differentiable in the tracers).
    """
    _order(order, "asarray")
    if isinstance(a, _np.generic) or (isinstance(a, (list, tuple)) and _has_array(a)
                                      and _only_numbers(a)):
        # NumPy scalars are numbers of their dtype: made where Python numbers are made (on
        # ``device``, in a transform's library), not NumPy arrays
        arr = _np.asarray(a)
        if dtype is None:
            dtype = _dt.dtype_of(arr)
        elif arr.dtype.kind in "fciu":
            to = _dt.as_dtype(dtype)
            if to.kind in "iu" and _dt.dtype_of(arr) is not to:
                # a NumPy number cast to an integer type as NumPy casts it (np.int32(
                # np.float64(3e9)): an undefined value with a RuntimeWarning), not refused
                # as the Python number it would become
                arr = arr.astype(to.name)
        data, a = a, arr.tolist()
        if isinstance(data, (list, tuple)) and device is None and like is None \
                and copy is not False:
            # placed as the list the caller gave would be (beside another library's array
            # among the caller's operands, that library's): the place is found by identity
            b, device = _data_place(data)
            return _with_at_view(_user_data(b.asarray(a, dtype=dtype, device=device), data))
    if isinstance(a, (list, tuple)) and _has_array(a):
        from ._base import _copy_needed, _to_array, stack
        if copy is False:
            _copy_needed("a sequence of arrays")
        like = _first_array(a)  # numbers join the arrays' library and device
        out = stack([_to_array(o, like=like) if _only_numbers(o) else asarray(o) for o in a],
                    axis=0)
        return out if dtype is None else astype(out, dtype)
    if copy and not isinstance(a, Tracer) and type(a) not in _SCALARS \
            and not isinstance(a, (list, tuple)):
        b = backend_of(a)
        return _with_at_view(b.xp.asarray(a, copy=True, **_kw(b, dtype, device)))
    if dtype is None and (type(a) in _SCALARS or isinstance(a, (list, tuple))):
        dtype = _python_dtype(a)  # NumPy's, on every backend (torch's own is float32)
    elif dtype is not None:
        _check_integer_range(a, dtype, "asarray")
    if (device is not None or like is not None) and (type(a) in _SCALARS
                                                     or isinstance(a, (list, tuple))):
        b, device = _place(device, like)
        return _with_at_view(b.asarray(a, dtype=dtype, device=device))
    if like is not None and device is None and not isinstance(a, Tracer):
        moved = _into_like(a, dtype, like)
        if moved is not None:
            return moved
    # A NumPy array comes back as a view with ``.at`` (no copy: writes to either show in
    # both, as with NumPy's asarray), so that jax.numpy's ``asarray(x).at[i].set(v)`` works.
    return _with_at_view(_asarray_base(a, dtype=dtype, device=device, copy=copy))


def _into_like(obj, dtype, like):
    """A NumPy array ``obj`` made in the library of ``like`` (another library's array: NumPy's
    ``like=`` asks for that explicitly), None where ``obj`` is already of that library; an
    array of a third library is refused (no implicit copies between libraries or devices)."""
    b, device = _place(None, like)
    src = backend_of(obj)
    if src is b:
        return None
    if src.name != "numpy":
        from ..errors import BackendMismatchError
        raise BackendMismatchError(
            f"asarray: like= asks for an array of {b.name!r}, but the given array belongs to "
            f"{src.name!r}; functrans copies between libraries only from NumPy data. Convert "
            f"it explicitly (for example with {b.name}'s from_dlpack or asarray).")
    return b.asarray(obj, dtype=dtype, device=device)


def _only_numbers(obj):
    if isinstance(obj, (list, tuple)):
        return builtins.all(_only_numbers(o) for o in obj)
    return type(obj) in _SCALARS or isinstance(obj, _np.generic)


def _has_array(obj):
    if isinstance(obj, (list, tuple)):
        return builtins.any(_has_array(o) for o in obj)
    return type(obj) not in _SCALARS


@_with_at
def arange(start, stop=None, step=1, dtype=None, *, device=None, like=None):
    """Evenly spaced values in ``[start, stop)``; integers give int64, floats float64.
    Bounds given as 0-d arrays make the result in their library and on their device (as
    ``like=`` would), and count as the numbers they hold."""
    bounds = (start, stop, step)
    if device is None and like is None:
        like = next((v for v in bounds if hasattr(v, "shape") and not isinstance(v, Tracer)
                     and type(v) not in _NUMPY_SCALARS), None)
    b, device = _place(device, like)
    if any(hasattr(v, "shape") for v in bounds):
        start, stop, step = (_bound(v) for v in bounds)
    if stop is None:
        start, stop = 0, start
    if dtype is None and builtins.any(type(v) is float for v in (start, stop, step)):
        dtype = _dt.float64
    return b.xp.arange(start, stop, step, **_kw(b, dtype, device))


def _bound(v):
    """An arange bound given as an array: the Python number it holds."""
    if not hasattr(v, "shape") or isinstance(v, Tracer):
        return v  # (a traced one: the library asks it for its number, as before)
    c = v
    if tuple(c.shape) != ():
        raise ValueError(f"arange: a bound given as an array must be 0-d; got shape "
                         f"{tuple(c.shape)}")
    dt = _dt.dtype_of(c)
    if dt.kind in "iub":
        return int(c)
    if dt.kind == "c":
        raise TypeError("arange: complex bounds are not supported")
    return float(c)


def _dims(shape):
    """``shape`` with each traced size made an int: a concrete one gives its value, an abstract
    one (staged under jit) raises the ConcretizationError that says what to do, where the
    array library would only say it wants integers."""
    from ..core import Tracer
    if isinstance(shape, Tracer):
        return operator.index(shape)
    if isinstance(shape, (tuple, list)) and any(isinstance(d, Tracer) for d in shape):
        return tuple(operator.index(d) for d in shape)
    return shape


@_with_at
def empty(shape, dtype=None, order="C", *, device=None, like=None):
    """An uninitialised array (float64 by default)."""
    _order(order, "empty")
    b, device = _place(device, like)
    return b.xp.empty(_dims(shape), **_kw(b, dtype or _dt.float64, device))


@_with_at
def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """An uninitialised array like ``prototype`` (zeros for a tracer), or of NumPy's ``shape``
    (zeros)."""
    _order(order, "empty_like")
    if shape is not None:
        return zeros_like(prototype, dtype, shape=shape, device=device)
    if isinstance(prototype, (list, tuple)):
        prototype = asarray(prototype)
    if isinstance(prototype, Tracer):
        return _filled(prototype, 0, None if dtype is None else _dt.as_dtype(dtype))
    b = backend_of(prototype)
    return b.xp.empty_like(prototype, **_kw(b, dtype, device))


def _filled(x, fill_value, dtype):
    """``fill_value`` with the shape and dtype (or ``dtype``) of ``x``. Where ``x`` is a
    forward-mode tracer (grad's, hessian's...) under vmap or jit, the primitive's result is
    that vmap's or jit's tracer, into which ``y[i] = v`` (``v`` traced by the caller's level)
    cannot write: an array where ``x``'s values are instead, a constant of the level running
    (as ``zeros(x.shape)`` gives)."""
    out = _st.full_like(x, fill_value, dtype=dtype)
    if type(x) is not _JVPTracer or not isinstance(out, Tracer) or type(out) is _ConstTracer:
        return out
    from .. import trace_cache
    rec = _current.get().interp
    if type(rec) is trace_cache.Recorder:
        # hvp's recorded trace: a fresh array there would be a constant of the staged graph
        # that is not among the function's captured arrays, and never let it be reused; so
        # only where hvp stages again after an item write into ``out`` failed, uncached
        if not trace_cache.writable_likes():
            trace_cache.note_traced_like()
            return out
        rec.cacheable = False
    c = _concrete_value(x)
    b, device = _creation_place() if c is None else _place_of(c)
    # (a constant, not a plain array, also for functrans's own code, which meets tracers
    # with it: array-api-strict's operators refuse a tracer on their right)
    arr = _with_at_view(b.xp.full(_shape(x), fill_value, **_kw(b, dtype or _dtype(x), device)))
    return _ConstTracer(x._interp, arr) if type(rec) is trace_cache.Recorder else _constant(arr)


def _cast_as_numpy(value, dtype):
    """A Python fill value that ``dtype`` cannot hold as it is, cast as NumPy casts it, on
    every backend (torch refuses such values): a float or complex one for an integer or
    boolean dtype (truncated; nan and inf give what NumPy's cast gives, with its
    RuntimeWarning), a complex one for a real dtype (its real part, with NumPy's
    ComplexWarning), a float beyond float16's range for a narrower float or complex dtype
    (inf, with NumPy's overflow warning, where it is beyond the dtype's)."""
    t = type(value)
    if t is float:
        if not (dtype.kind in "biu" or (abs(value) > 65504.0 and (
                dtype.kind == "f" and _dt.itemsize_bits(dtype) < 64
                or dtype.kind == "c" and _dt.itemsize_bits(dtype) < 128))):
            return value
    elif t is not complex or dtype.kind not in "biuf":
        return value
    # (bfloat16, which NumPy lacks, has float32's range)
    return _np.array(value).astype("float32" if dtype.name == "bfloat16" else dtype.name).item()


def _like(x, fill_value, dtype, shape, device):
    """``fill_value`` with the shape (or ``shape``), dtype (or ``dtype``), library and device
    (or ``device``) of ``x``; no derivative."""
    x = _as_operand(x)
    dt = None if dtype is None else _dt.as_dtype(dtype)
    fill_value = _cast_as_numpy(fill_value, dt or _dtype(x))
    if shape is None:
        out = _filled(x, fill_value, dt)
    else:
        shape = (tuple(operator.index(d) for d in shape) if isinstance(shape, (tuple, list))
                 else (operator.index(shape),))
        out = broadcast_to(_to_array(fill_value, dtype=dt or _dtype(x), like=x), shape)
    return out if device is None else asarray(out, device=device)


@_with_at
def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros with the shape (and dtype, unless given) of ``a``, or NumPy's ``shape``; no
    derivative."""
    _order(order, "zeros_like")
    if shape is None and device is None:
        return _filled(_as_operand(a), 0, None if dtype is None else _dt.as_dtype(dtype))
    return _like(a, 0, dtype, shape, device)


@_with_at
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones with the shape (and dtype, unless given) of ``a``, or NumPy's ``shape``; no
    derivative."""
    _order(order, "ones_like")
    if shape is None and device is None:
        return _filled(_as_operand(a), 1, None if dtype is None else _dt.as_dtype(dtype))
    return _like(a, 1, dtype, shape, device)


@_with_at
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *,
              device=None):
    """``fill_value`` with the shape (and dtype, unless given) of ``a``, or NumPy's
    ``shape``; no derivative in ``a`` (a traced 0-d ``fill_value`` keeps its own)."""
    _order(order, "full_like")
    a = _as_operand(a)
    if isinstance(fill_value, _np.generic):  # a NumPy scalar is a number: x's place
        fill_value = fill_value.item()
    if type(fill_value) not in _SCALARS:  # a 0-d array or tracer: broadcast
        out = _fresh(broadcast_to(astype(fill_value, dtype or _dtype(a)),
                                  _shape(a) if shape is None else shape))
        return out if device is None else asarray(out, device=device)
    return _like(a, fill_value, dtype, shape, device)


def _fresh(out):
    """A broadcast plain array copied into an array of its own, as ``full`` makes one: the
    broadcast is a view of the value (read-only on NumPy and array-api-strict, and on torch
    writing one element would write them all, and the caller's value). Tracers are values,
    never views."""
    return out if isinstance(out, Tracer) else backend_of(out).copy(out)


@_with_at
def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """An array of ``shape`` filled with ``fill_value`` (its dtype follows the Python type of
    the value: bool, int64, float64 or complex128). An array value (a tracer, or a list as
    NumPy's) is broadcast to ``shape`` (differentiably), and its dtype kept."""
    _order(order, "full")
    shape = (int(shape),) if isinstance(shape, (int, _np.integer)) else tuple(shape)
    if isinstance(fill_value, _np.generic):  # a number of its dtype, made where full makes
        dtype = _dt.dtype_of(fill_value) if dtype is None else dtype
        fill_value = fill_value.item()
    if isinstance(fill_value, (list, tuple)):  # (NumPy's array-like: a row, broadcast)
        fill_value = asarray(fill_value, device=device, like=like)
    if isinstance(fill_value, Tracer) or (type(fill_value) not in _SCALARS
                                          and hasattr(fill_value, "shape")):
        v = fill_value if dtype is None else astype(fill_value, dtype)
        out = _fresh(broadcast_to(v, shape))
        return out if device is None else asarray(out, device=device)
    if type(fill_value) not in _SCALARS:
        backend_of(fill_value)  # (a str, an object(): the error for a value of no backend)
    b, device = _place(device, like)
    if dtype is None:
        dtype = {bool: _dt.bool_, int: _dt.int64, float: _dt.float64,
                 complex: _dt.complex128}[type(fill_value)]
        if dtype is _dt.int64:  # (past int64: NumPy's uint64, or a clear OverflowError)
            dtype = _python_dtype(fill_value)
    else:
        fill_value = _cast_as_numpy(fill_value, _dt.as_dtype(dtype))
    return b.xp.full(shape, fill_value, **_kw(b, dtype, device))


@_with_at
def zeros(shape, dtype=None, order="C", *, device=None, like=None):
    """Zeros of ``shape`` (float64 by default); ``dtype`` may be positional and NumPy's
    ``order`` is accepted (and ignored), as in ``np.zeros(3, np.float32)``."""
    _order(order, "zeros")
    b, device = _place(device, like)
    return b.xp.zeros(_dims(shape), **_kw(b, dtype or _dt.float64, device))


@_with_at
def ones(shape, dtype=None, order="C", *, device=None, like=None):
    """Ones of ``shape`` (float64 by default)."""
    _order(order, "ones")
    b, device = _place(device, like)
    return b.xp.ones(_dims(shape), **_kw(b, dtype or _dt.float64, device))


@_with_at
def eye(N, M=None, k=0, dtype=None, order="C", *, device=None, like=None):
    """A 2-d array with ones on diagonal ``k`` and zeros elsewhere (float64 by default);
    NumPy's positional ``k`` and ``dtype`` (``np.eye(3, 3, 1)``)."""
    _order(order, "eye")
    b, device = _place(device, like)
    return b.xp.eye(N, M, k=k, **_kw(b, dtype or _dt.float64, device))


def from_dlpack(x, /, *, device=None, copy=None):
    """An array of the default backend sharing memory with a DLPack-capable ``x``."""
    if isinstance(x, Tracer):
        return x
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an array of a library that supports DLPack "
                        f"(one with __dlpack__); got {type(x).__module__}."
                        f"{type(x).__qualname__}")
    b = _default_backend()
    kw = {} if device is None else {"device": device}
    if copy is not None:
        kw["copy"] = copy
    return b.xp.from_dlpack(x, **kw)


@_with_at
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``num`` (50 by default, as NumPy's) evenly spaced values from ``start`` to ``stop``.
    Endpoints given as 0-d arrays (or tracers: differentiable) give an array of their
    library; NumPy's array endpoints (broadcast together, the samples along ``axis``),
    ``retstep`` (also return the spacing) and positional ``endpoint``/``dtype`` work as
    there."""
    if isinstance(start, _np.generic) or isinstance(stop, _np.generic):
        # NumPy scalars are numbers (made on ``device``); a floating one sets the dtype,
        # as NumPy's result type of the endpoints (functrans's dtypes: ml_dtypes' bfloat16
        # is of NumPy's kind 'V', and linspace of two bfloat16 scalars was float64)
        inexact = [d for d in (_dt.dtype_of(v) for v in (start, stop)
                               if isinstance(v, _np.generic)) if d.kind in "fc"]
        if dtype is None and inexact:
            dtype = _dt.result_type(*inexact)
        start, stop = (v.item() if isinstance(v, _np.generic) else v for v in (start, stop))
    if retstep or axis != 0 or _not_0d(start) or _not_0d(stop):
        return _linspace_numpy(start, stop, num, endpoint, retstep, dtype, axis)
    if type(start) not in _SCALARS or type(stop) not in _SCALARS:
        from ._base import add, multiply, subtract
        like = start if type(start) not in _SCALARS else stop
        d = dtype or (_dt.float64 if _dtype(like).kind not in "fc" else _dtype(like))
        steps = astype(_st.iota(like, num), d)
        div = (num - 1 if endpoint else num) or 1
        frac = multiply(steps, 1.0 / div)
        return add(astype(asarray(start), d), multiply(frac, subtract(stop, start)))
    b, device = _place(device)
    if dtype is None:
        dtype = _dt.complex128 if complex in (type(start), type(stop)) else _dt.float64
    return b.xp.linspace(start, stop, num, endpoint=endpoint, **_kw(b, dtype, device))


def _not_0d(v):
    if type(v) in _SCALARS:
        return False
    return bool(_shape(v)) if hasattr(v, "shape") else True


def _linspace_numpy(start, stop, num, endpoint, retstep, dtype, axis):
    from ._base import divide
    from ._reshaping import _linspace, _move_from_0
    y, a, b, dt = _linspace(start, stop, num, endpoint, 0, "linspace")
    y = _move_from_0(y, axis)
    if dtype is not None:
        y = astype(y, dtype)
    if not retstep:
        return y
    div = num - 1 if endpoint else num
    from ._base import subtract
    step = divide(subtract(b, a), float(div)) if div > 0 else \
        _st.full_like(a, float("nan"))
    return y, step


def meshgrid(*arrays, indexing="xy", sparse=False, copy=True):
    """Coordinate matrices from 1-d arrays (``indexing`` "xy" or "ij"). NumPy's
    ``sparse=True`` gives each array with length 1 along the other axes (they broadcast
    to the grid); ``copy`` is accepted (the results never share memory with the inputs
    in a way that matters: nothing is written to)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij'; got {indexing!r}")
    arrays = [_as_operand(a) for a in arrays]
    sizes = [builtins.max(_size(a), 0) for a in arrays]
    if indexing == "xy" and len(arrays) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    n = len(arrays)
    for i, a in enumerate(arrays):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        a = reshape(a, (-1,))
        shape = tuple(s if j == pos else 1 for j, s in enumerate(sizes)) if sparse \
            else tuple(sizes)
        out.append(_with_at_view(_st.broadcast_in_dim(a, shape, (pos,))))
    return out


def _size(a):
    size = 1
    for d in _shape(a):
        size *= d
    return size


def tril(m, k=0):
    """The lower triangle of the (stack of) matrices ``m``: elements above diagonal ``k``
    are zeroed (``k`` may be positional, as in NumPy; a 1-d ``m`` is taken as the rows of
    a square matrix, as NumPy does). Linear."""
    return _st.tri(_matrix(m, "tril"), k, True)


def _matrix(x, what):
    x = _as_operand(x)
    nd = len(_shape(x))
    if nd == 1:
        n = _shape(x)[0]
        return _st.broadcast_to(x, (n, n))
    if nd == 0:
        raise ValueError(f"{what}: a 0-d array has no triangle; give at least 1 dimension")
    return x


def triu(m, k=0):
    """The upper triangle of ``m``: elements below diagonal ``k`` are zeroed (``k`` may be
    positional, as in NumPy; a 1-d ``m`` as in :func:`tril`). Linear."""
    return _st.tri(_matrix(m, "triu"), k, False)
