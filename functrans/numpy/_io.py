"""NumPy's names for reading, writing and printing arrays: ``fromiter``, ``frombuffer``,
``fromstring``, ``fromfile``, ``load``, ``save``, ``savez``, ``savez_compressed``,
``loadtxt``, ``savetxt``, ``array_repr``, ``array_str``, ``array2string``, ``printoptions``,
``get_printoptions``, ``set_printoptions``, and ``ndarray`` for ``isinstance`` checks.

Reading goes through NumPy on the host and gives an array of the default backend (as
``asarray`` of the NumPy result); writing and printing take a host copy of an array of any
backend. They are host operations, not traceable: a tracer is refused with the message of
``np.asarray`` (JAX refuses ``fromiter``/``fromfile`` altogether; here, where transforms are
eager, they read as NumPy's do).
"""

from __future__ import annotations

import numpy as _np

from ..toplevel import Array as ndarray
from ..toplevel import device_get as _host

__all__ = ["fromiter", "frombuffer", "fromstring", "fromfile", "load", "save", "savez",
           "savez_compressed", "loadtxt", "savetxt", "array_repr", "array_str", "array2string",
           "printoptions", "get_printoptions", "set_printoptions", "ndarray"]

# NumPy's own: they only change how NumPy prints, which is how arrays are printed here.
printoptions = _np.printoptions
get_printoptions = _np.get_printoptions
set_printoptions = _np.set_printoptions


def _device_array(a, dtype=None):
    from ._base import asarray
    return asarray(a) if dtype is None else asarray(a, dtype=dtype)


def _np_dtype(dtype):
    from ..dtypes import DType
    return _np.dtype(dtype.name) if isinstance(dtype, DType) else dtype


def fromiter(iter, dtype, count=-1, *, like=None):
    """``numpy.fromiter``: a 1-d array from an iterable of numbers, on the default backend
    (or that of ``like``)."""
    a = _np.fromiter(iter, dtype=_np_dtype(dtype), count=count)
    return _like(a, like)


def frombuffer(buffer, dtype=float, count=-1, offset=0, *, like=None):
    """``numpy.frombuffer``: a 1-d array read from a bytes-like object (copied: the result
    never shares the buffer's memory)."""
    a = _np.frombuffer(buffer, dtype=_np_dtype(dtype), count=count, offset=offset).copy()
    return _like(a, like)


def fromstring(string, dtype=float, count=-1, *, sep, like=None):
    """``numpy.fromstring`` in text mode: numbers separated by ``sep`` (NumPy's deprecated
    binary mode, ``sep=''``, is refused: use :func:`frombuffer`).

    A ``count`` larger than the number of values in ``string`` raises ValueError, as
    ``fromiter`` and ``frombuffer`` do (NumPy 2.4's ``fromstring`` fills the missing values
    with uninitialised memory)."""
    if sep == "":
        raise ValueError("fromstring: sep='' (binary mode) is not supported, as in NumPy 2 "
                         "where it is deprecated; use frombuffer for bytes.")
    dt = _np_dtype(dtype)
    try:
        a = _np.fromstring(string, dtype=dt, count=-1, sep=sep)
    except ValueError:  # unreadable data after the values: NumPy reads ``count`` before it
        return _like(_np.fromstring(string, dtype=dt, count=count, sep=sep), like)
    if count >= 0:
        if a.shape[0] < count:
            raise ValueError(f"fromstring: count={count} but the string holds only "
                             f"{a.shape[0]} values; pass count=-1 to read them all.")
        a = a[:count]
    return _like(a, like)


def fromfile(file, dtype=float, count=-1, sep="", offset=0, *, like=None):
    """``numpy.fromfile``: an array read from a file (binary, or text with ``sep``)."""
    return _like(_np.fromfile(file, dtype=_np_dtype(dtype), count=count, sep=sep,
                              offset=offset), like)


def _like(a, like):
    if like is None:
        return _device_array(a)
    from ..api import _concrete_backend
    b, dev = _concrete_backend(like)  # the host data copied to like's library and device
    return b.xp.asarray(a, dtype=b.native_dtype(_from_np(a.dtype)),
                        **({"device": dev} if dev else {}))


def _from_np(dtype):
    from ..dtypes import as_dtype
    return as_dtype(dtype)


def load(file, *args, **kwargs):
    """``numpy.load``: a ``.npy`` file's array as an array of the default backend; a ``.npz``
    archive or a pickle as NumPy returns it (``NpzFile``: its arrays are NumPy's)."""
    out = _np.load(file, *args, **kwargs)
    return _device_array(out) if isinstance(out, _np.ndarray) else out


def save(file, arr, allow_pickle=True, **kwargs):
    """``numpy.save`` of an array of any backend (a host copy)."""
    _np.save(file, _host(arr), allow_pickle=allow_pickle, **kwargs)


def savez(file, *args, **kwds):
    """``numpy.savez`` of arrays of any backend (host copies)."""
    _np.savez(file, *_host(list(args)), **_host(kwds))


def savez_compressed(file, *args, **kwds):
    """``numpy.savez_compressed`` of arrays of any backend (host copies)."""
    _np.savez_compressed(file, *_host(list(args)), **_host(kwds))


def loadtxt(fname, *args, **kwargs):
    """``numpy.loadtxt``, as an array of the default backend."""
    return _device_array(_np.loadtxt(fname, *args, **kwargs))


def savetxt(fname, X, *args, **kwargs):
    """``numpy.savetxt`` of an array of any backend (a host copy)."""
    _np.savetxt(fname, _host(X), *args, **kwargs)


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """``numpy.array_repr`` of a host copy of ``arr``."""
    return _np.array_repr(_np.asarray(_host(arr)), max_line_width, precision, suppress_small)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    """``numpy.array_str`` of a host copy of ``a``."""
    return _np.array_str(_np.asarray(_host(a)), max_line_width, precision, suppress_small)


def array2string(a, *args, **kwargs):
    """``numpy.array2string`` of a host copy of ``a``."""
    return _np.array2string(_np.asarray(_host(a)), *args, **kwargs)
