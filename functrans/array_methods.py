"""NumPy's array methods on tracers (``x.sum()``, ``x.reshape(2, 3)``, ``x.astype(...)``).

Code written for NumPy calls methods as often as functions, so a tracer offers NumPy's
methods with NumPy's signatures, each one a call of the function of the same name in
:mod:`functrans.numpy` (the Array API array object itself has none of them). The methods
that change an array in place (``sort``, ``partition``, ``fill``, ``put``) rebind the tracer
to the new value, like item assignment does: no array is ever written to.
"""

from __future__ import annotations

import operator
import sys

import numpy

from . import core, dtypes


def _fnp():
    return core._fnp


def _dtype(x):
    from .numpy._base import _dtype
    return _dtype(x)


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"{name}(out=...) is not supported on a tracer: arrays inside a "
                        f"transform are immutable, so use the returned array instead.")


def _where(where):
    return None if where is True else where


def _shape_args(shape, name):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        try:  # a NumPy integer is a 1-d shape, as an int is
            return (operator.index(shape[0]),)
        except TypeError:
            return tuple(shape[0])
    if not shape:
        raise TypeError(f"{name}() needs a shape")
    return shape


def _axes_args(axes):
    """``transpose()``, ``transpose(1, 0)`` and ``transpose((1, 0))`` alike."""
    if not axes or (len(axes) == 1 and axes[0] is None):
        return None
    if len(axes) == 1 and not isinstance(axes[0], int):
        try:
            return (operator.index(axes[0]),)
        except TypeError:
            return tuple(axes[0])
    return axes


def _order(order, name):
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"{name}: order must be one of 'C', 'F', 'A', 'K'; got {order!r}")
    return "F" if order == "F" else "C"


def _rebind(x, new):
    """Make the tracer ``x`` stand for ``new`` (NumPy's in-place method on an immutable
    value), as item assignment does: a value that does not depend on ``x`` (a constant, a
    tracer of an outer transform) is lifted into ``x``'s transform; one of a transform
    nested inside ``x``'s is refused by ``__setitem__``."""
    if type(new) is type(x) and new._interp is x._interp:
        core._take_slots(x, new)
    else:
        x[...] = new


def _with_at(y):
    """A plain NumPy result of an update of a plain array as one with ``.at`` again (so
    that updates chain: ``x.at[0].set(1.0).at[1].add(2.0)``)."""
    from .backends.numpy_backend import with_at
    return with_at(y)


_AT_MODES = (None, "promise_in_bounds", "clip", "drop", "fill")


def _default_fill(dt):
    """jax.numpy's fill for out-of-range reads: NaN for inexact dtypes, the most negative
    value for signed integers, the largest for unsigned ones, True for booleans."""
    if dt.kind in "fc":
        return numpy.nan
    if dt.kind == "b":
        return True
    info = numpy.iinfo(dt.name)
    return int(info.min if dt.kind == "i" else info.max)


class _IndexUpdate:
    """``x.at[idx]``: jax.numpy's functional updates of ``x`` at ``idx``; each returns a new
    array and leaves ``x`` unchanged. Repeated indices accumulate for ``add``, ``multiply``,
    ``min`` and ``max`` (each one applies, as ``numpy.add.at``); for ``set`` the last wins.
    Out-of-range integer indices follow ``mode``, as in jax.numpy: None (the default)
    clamps them for ``get`` and drops their updates otherwise, eagerly and under ``jit`` or
    ``vmap`` alike; 'clip' clamps them into range, 'drop' and 'fill' skip out-of-range
    updates, and a ``get`` gives ``fill_value`` there (NaN for inexact dtypes);
    'promise_in_bounds' checks nothing (an out-of-range concrete index raises IndexError,
    as plain indexing ``x[i]`` does: NumPy's rule, not jax.numpy's clamp)."""

    __slots__ = ("x", "idx")

    def __init__(self, x, idx):
        self.x, self.idx = x, idx

    def _in_bounds(self, mode, name, fill_value=None):
        """``(update, crop)``: an update whose indices are all in range, and what turns its
        result into this one's (None: nothing). 'clip' clamps each integer index into its
        axis; 'drop'/'fill' send an out-of-range one to a slot appended to its axis (holding
        the fill value), which the update may write and ``crop`` removes, so every
        operation (set, add, apply...) skips it without a rule of its own."""
        if mode not in _AT_MODES:
            raise ValueError(f"x.at[...].{name}(mode={mode!r}): mode must be one of None, "
                             f"'promise_in_bounds', 'clip', 'drop' or 'fill' (jax.numpy's "
                             f"modes)")
        if mode is None:  # jax.numpy's defaults: reads clamp, writes drop
            mode = "clip" if name == "get" else "drop"
        if mode == "promise_in_bounds" or self._concretely_in_range():
            return self, None
        fnp, x = _fnp(), self.x
        shape = tuple(x.shape)
        key = self.idx if isinstance(self.idx, tuple) else (self.idx,)
        # (a list index made on x's library and device: the gathers below mix them)
        from .numpy._indexing import _no_numbers  # ([] is integer positions, as NumPy's)
        key = [fnp.asarray(k, device=fnp.device(x), dtype="int64" if _no_numbers(k) else None)
               if isinstance(k, list) else k for k in key]

        def width(k):  # the axes of x an entry indexes
            if k is None or k is Ellipsis or type(k) is bool:
                return 0
            if hasattr(k, "dtype") and _dtype(k).kind == "b":
                return len(k.shape)
            return 1
        widths = [width(k) for k in key]
        rest = len(shape) - sum(widths)
        new_key, padded, axis, checking = [], [], 0, None
        for k, w in zip(key, widths):
            if k is Ellipsis:
                axis += max(rest, 0)
            elif w == 1 and not isinstance(k, slice) and not (
                    hasattr(k, "dtype") and _dtype(k).kind == "b"):  # (a 1-d mask)
                n = shape[axis] if axis < len(shape) else 0
                if checking is None:  # (no checkify runs unless its module was imported)
                    checkify = sys.modules.get("functrans.experimental.checkify")
                    checking = checkify is not None and checkify.index_checks_running()
                if checking:  # (a checkify with index_checks reports the index first)
                    checkify.index_bounds_check("gather" if name == "get" else "scatter",
                                                shape, k, n, axis, x)
                k = self._bounded_index(k, n, mode == "clip")
                if mode != "clip":
                    padded.append(axis)
            new_key.append(k)
            axis += w
        if not padded:
            return _IndexUpdate(x, tuple(new_key)), None
        fill = 0 if fill_value is None and name != "get" else fill_value
        if fill is None:
            fill = _default_fill(_dtype(x))
        xp = fnp.pad(x, [(0, 1 if a in padded else 0) for a in range(len(shape))],
                     constant_values=fill)
        crop = tuple(slice(0, n) if a in padded else slice(None) for a, n in enumerate(shape))
        return _IndexUpdate(xp, tuple(new_key)), (lambda y: y[crop])

    def _concretely_in_range(self):
        """Whether every integer index is concrete and in range (then no mode changes
        anything, and the update skips the padding the modes need)."""
        shape = tuple(self.x.shape)
        key = self.idx if isinstance(self.idx, tuple) else (self.idx,)
        if any(k is Ellipsis or k is None or isinstance(k, list) for k in key) or \
                len(key) > len(shape):
            return False  # (axes not counted here: the general path handles them)
        for k, n in zip(key, shape):
            if isinstance(k, slice) or type(k) is bool:
                return False
            if isinstance(k, numpy.ndarray):
                if k.dtype.kind not in "iu" or (k.size and not (-n <= k.min() and
                                                                k.max() < n)):
                    return False
            elif not hasattr(k, "shape"):
                try:
                    k = operator.index(k)
                except TypeError:
                    return False
                if not -n <= k < n:
                    return False
            elif not core.is_concrete_array(k) or _dtype(k).kind not in "iu" or (
                    k.size and not bool(_fnp().all((k >= -n) & (k < n)))):
                return False
        return True

    @staticmethod
    def _bounded_index(k, n, clip):
        """The integer index ``k`` into an axis of size ``n``, negative ones counted from the
        end, then clamped into range (``clip``) or sent to ``n`` where out of range."""
        fnp = _fnp()
        if not hasattr(k, "shape"):
            k = operator.index(k)
            if clip:
                return min(max(k + n if k < 0 else k, 0), max(n - 1, 0))
            return k % n if -n <= k < n else n
        if _dtype(k).kind not in "iu":
            return k  # not an integer index: indexing says what is wrong
        k = fnp.where(k < 0, k + n, k)
        if clip:
            return fnp.clip(k, 0, max(n - 1, 0))
        return fnp.where((k >= 0) & (k < n), k, n)

    def get(self, *, mode=None, indices_are_sorted=False, unique_indices=False,
            fill_value=None):
        upd, _ = self._in_bounds(mode, "get", fill_value)
        if isinstance(upd.x, core.Tracer):
            return upd.x[upd.idx]
        from .numpy._indexing import _getitem  # a plain array (an AtArray): traced indices
        return _with_at(_getitem(upd.x, upd.idx))

    def set(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        upd, crop = self._in_bounds(mode, "set")
        x, idx = upd.x, upd.idx
        from .numpy._indexing import _setitem  # (functional: x is never written to)
        y = _setitem(x, idx, values)
        if not isinstance(x, core.Tracer):
            y = _with_at(y)
        return y if crop is None else crop(y)

    def apply(self, func, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``func`` (a unary ufunc) applied at ``idx``: as often as a position is indexed,
        as jax.numpy's and ``numpy.sin.at``. Traced indices (under ``jit`` or ``vmap``) need
        ``unique_indices=True``, the caller's promise that no position repeats: repeats
        cannot be counted there, and applying ``func`` once would silently differ."""
        upd, crop = self._in_bounds(mode, "apply")
        fnp, x, idx = _fnp(), upd.x, upd.idx
        shape = tuple(x.shape)
        try:  # the flat positions, where the indices are concrete
            ps = numpy.arange(int(numpy.prod(shape))).reshape(shape)[idx].reshape(-1)
        except Exception:
            ps = None
        if ps is None and not unique_indices:
            raise NotImplementedError(
                "x.at[idx].apply(func) with traced indices: a position indexed twice would "
                "need func applied twice, which cannot be counted without the index values. "
                "Pass unique_indices=True if no position repeats, or use concrete indices.")
        if ps is None or numpy.unique(ps).size == ps.size:
            y = upd.set(func(x[idx]), mode="promise_in_bounds")  # (upd's are in range)
        else:
            uniq, counts = numpy.unique(ps, return_counts=True)
            flat = fnp.reshape(x, (-1,))
            for k in range(1, int(counts.max()) + 1):  # k-th visit of each position
                sel = uniq[counts >= k]
                flat = _IndexUpdate(flat, sel).set(func(flat[sel]), mode="promise_in_bounds")
            y = _with_at(fnp.reshape(flat, shape))
        return y if crop is None else crop(y)

    def _scatter(self, fn, name, values, mode):
        upd, crop = self._in_bounds(mode, name)
        y = upd._scatter_plain(fn, name, values)
        return _with_at(y if crop is None else crop(y))

    def _scatter_plain(self, fn, name, values):
        x = self.x
        if x.dtype.kind in "iub":  # jax.numpy's rule: computed in the promoted dtype, the
            fnp = _fnp()           # result cast back (int x, float values: no truncation
            to = fnp.result_type(x, values)  # of the values first)
            if name == "divide":  # but a true division's quotient is kept, as jax.numpy's
                if dtypes.as_dtype(to).kind in "iub":  # (and NumPy's int / int: float64)
                    to = dtypes.float64
                return fn.at(fnp.astype(x, to), self.idx, values, inplace=False)
            if dtypes.as_dtype(to) is not x.dtype:
                new = fn.at(fnp.astype(x, to), self.idx, values, inplace=False)
                return fnp.astype(new, x.dtype)
        return fn.at(x, self.idx, values, inplace=False)

    def add(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        return self._scatter(_fnp().add, "add", values, mode)

    def subtract(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        return self._scatter(_fnp().subtract, "subtract", values, mode)

    def multiply(self, values, *, mode=None, indices_are_sorted=False,
                 unique_indices=False):
        return self._scatter(_fnp().multiply, "multiply", values, mode)

    mul = multiply

    def divide(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        return self._scatter(_fnp().divide, "divide", values, mode)

    def power(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        return self._scatter(_fnp().power, "power", values, mode)

    def min(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        return self._scatter(_fnp().minimum, "min", values, mode)

    def max(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        return self._scatter(_fnp().maximum, "max", values, mode)


class _AtHelper:
    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __getitem__(self, idx):
        return _IndexUpdate(self.x, idx)


class NumPyArrayMethods:
    """The methods of ``numpy.ndarray`` that compute (no buffers, strides or flags)."""

    __slots__ = ()

    # -- reductions --
    def sum(self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True,
            promote_integers=True):
        _no_out(out, "sum")
        return _fnp().sum(self, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                          where=_where(where), promote_integers=promote_integers)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True,
             promote_integers=True):
        _no_out(out, "prod")
        return _fnp().prod(self, axis=axis, dtype=dtype, keepdims=keepdims, initial=initial,
                           where=_where(where), promote_integers=promote_integers)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
        _no_out(out, "mean")
        return _fnp().mean(self, axis=axis, dtype=dtype, keepdims=keepdims,
                           where=_where(where))

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True):
        _no_out(out, "var")
        x = self if dtype is None else _fnp().astype(self, dtype)
        return _fnp().var(x, axis=axis, ddof=ddof, keepdims=keepdims, where=_where(where))

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True):
        _no_out(out, "std")
        x = self if dtype is None else _fnp().astype(self, dtype)
        return _fnp().std(x, axis=axis, ddof=ddof, keepdims=keepdims, where=_where(where))

    def max(self, axis=None, out=None, keepdims=False, initial=None, where=True):
        _no_out(out, "max")
        return _fnp().max(self, axis=axis, keepdims=keepdims, initial=initial,
                          where=_where(where))

    def min(self, axis=None, out=None, keepdims=False, initial=None, where=True):
        _no_out(out, "min")
        return _fnp().min(self, axis=axis, keepdims=keepdims, initial=initial,
                          where=_where(where))

    def all(self, axis=None, out=None, keepdims=False, *, where=True):
        _no_out(out, "all")
        return _fnp().all(self, axis=axis, keepdims=keepdims, where=_where(where))

    def any(self, axis=None, out=None, keepdims=False, *, where=True):
        _no_out(out, "any")
        return _fnp().any(self, axis=axis, keepdims=keepdims, where=_where(where))

    def argmax(self, axis=None, out=None, *, keepdims=False):
        _no_out(out, "argmax")
        return _fnp().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        _no_out(out, "argmin")
        return _fnp().argmin(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return _fnp().cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return _fnp().cumprod(self, axis=axis, dtype=dtype, out=out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return _fnp().trace(self, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype,
                            out=out)

    # -- shape --
    def reshape(self, *shape, order="C", copy=None):
        shape = _shape_args(shape, "reshape")
        if order == "K":
            raise ValueError("reshape: order 'K' is not permitted for reshaping (NumPy's "
                             "rule); use 'C', 'F' or 'A'")
        fnp = _fnp()
        if _order(order, "reshape") == "F":  # C order on the axes reversed, both ways
            x = fnp.permute_dims(self, tuple(range(self.ndim))[::-1])
            y = fnp.reshape(x, tuple(shape)[::-1])
            return fnp.permute_dims(y, tuple(range(y.ndim))[::-1])
        return fnp.reshape(self, shape, copy=copy)

    def ravel(self, order="C"):
        return _fnp().ravel(self, order=_order(order, "ravel"))

    def flatten(self, order="C"):
        return _fnp().ravel(self, order=_order(order, "flatten"))

    def transpose(self, *axes):
        return _fnp().transpose(self, _axes_args(axes))

    def swapaxes(self, axis1, axis2):
        return _fnp().swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return _fnp().squeeze(self, axis=axis)

    def repeat(self, repeats, axis=None, *, total_repeat_length=None):
        return _fnp().repeat(self, repeats, axis=axis, total_repeat_length=total_repeat_length)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _fnp().diagonal(self, offset=offset, axis1=axis1, axis2=axis2)

    # -- values --
    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        _order(order, "astype")
        fnp = _fnp()
        if casting != "unsafe":  # dtype rules only: NumPy's own answer
            to = dtypes.as_dtype(dtype)
            if not numpy.can_cast(self.dtype.name, to.name, casting=casting):
                raise TypeError(f"astype: cannot cast {self.dtype.name} to {to.name} "
                                f"according to the rule {casting!r}")
        return fnp.astype(self, dtype, copy=copy)

    def copy(self, order="C"):
        _order(order, "copy")
        return _fnp().copy(self)

    def clip(self, min=None, max=None, out=None):
        _no_out(out, "clip")
        return _fnp().clip(self, min, max)

    def round(self, decimals=0, out=None):
        _no_out(out, "round")
        return _fnp().round(self, decimals=decimals)

    def conj(self):
        # (NumPy's method keeps a boolean array as it is; the function gives int8)
        return self if self.dtype.kind == "b" else _fnp().conj(self)

    conjugate = conj

    @property
    def real(self):
        return _fnp().real(self)

    @property
    def imag(self):
        return _fnp().imag(self)

    @property
    def itemsize(self):
        return self.dtype.bits // 8 if self.dtype.kind != "b" else 1

    @property
    def nbytes(self):
        return self.size * self.itemsize

    def dot(self, b, out=None):
        return _fnp().dot(self, b, out=out)

    def nonzero(self):
        return _fnp().nonzero(self)

    def searchsorted(self, v, side="left", sorter=None):
        return _fnp().searchsorted(self, v, side=side, sorter=sorter)

    def argsort(self, axis=-1, kind=None, order=None, *, stable=None, descending=False):
        if order is not None:
            raise NotImplementedError("argsort(order=...) needs structured arrays, which "
                                      "functrans does not have")
        return _fnp().argsort(self, axis=axis, stable=True, descending=descending)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        return _fnp().argpartition(self, kth, axis=axis, kind=kind, order=order)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return _fnp().take(self, indices, axis=axis, out=out, mode=mode)

    def compress(self, condition, axis=None, out=None):
        return _fnp().compress(condition, self, axis=axis, out=out)

    def choose(self, choices, out=None, mode="raise"):
        return _fnp().choose(self, choices, out=out, mode=mode)

    @property
    def at(self):
        """jax.numpy's ``x.at[idx].set(v)`` / ``.add(v)`` / ``.multiply`` / ``.divide`` /
        ``.power`` / ``.min`` / ``.max`` / ``.apply(f)`` / ``.get()``: new arrays, ``x``
        unchanged (a tracer's only: a NumPy array has no ``at``; outside transforms use
        ``functrans.numpy.add.at(x, idx, v, inplace=False)`` or item assignment on a
        copy)."""
        return _AtHelper(self)

    # -- in place: the tracer is rebound to the new value --
    def sort(self, axis=-1, kind=None, order=None, *, stable=None):
        if order is not None:
            raise NotImplementedError("sort(order=...) needs structured arrays, which "
                                      "functrans does not have")
        # (an axis, as NumPy's: axis=None would flatten the array it sorts in place)
        _rebind(self, _fnp().sort(self, axis=operator.index(axis)))

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        _rebind(self, _fnp().partition(self, kth, axis=operator.index(axis), kind=kind,
                                       order=order))

    def fill(self, value):
        self[...] = value

    def put(self, indices, values, mode="raise"):
        _rebind(self, _fnp().put(self, indices, values, mode=mode, inplace=False))
