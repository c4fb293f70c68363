"""``functrans.numpy.fft``: the Array API's fft extension (with NumPy's ``fft2``/``ifft2``/
``rfft2``/``irfft2`` too), differentiable on every backend.

Each transform is linear, so its derivative is the transform of the tangent and its
transpose another transform (see :mod:`functrans.primitives.fft`). ``n``/``s`` pad the input
with zeros or truncate it along the transformed axes, as NumPy does; ``norm`` is
``"backward"`` (the default; NumPy's ``None`` means the same), ``"ortho"`` or ``"forward"``.
Real input to a complex transform is made complex first; results are complex64 for float32,
float16, bfloat16 or complex64 input and complex128 otherwise (integers count as float64), as
NumPy 2 gives (half-precision input is transformed in float32; ``irfft``/``hfft`` of real
half-precision input give its dtype back, as NumPy's).
"""

from __future__ import annotations

import operator

import numpy as _np

from .. import dtypes as _dt
from ..errors import AxisError
from ..primitives import fft as _fft
from ..primitives import structural as _st
from ._base import _dtype, _no_out, _shape
from ._base import concat as _concat, divide as _divide
from ._mathematics import _operand  # array_likes (lists) as arrays, as NumPy takes them

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft",
           "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift", "fft2", "ifft2",
           "rfft2", "irfft2"]

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _norm(norm, name):
    norm = "backward" if norm is None else norm
    if norm not in _NORMS:
        raise ValueError(f"fft.{name}: norm must be one of {_NORMS} (or None); got {norm!r}")
    return norm


def _complex(x):
    d = _dtype(x)
    if d.kind == "c":
        return x
    if d.kind not in "fiub":
        raise TypeError(f"fft: the input must be numeric; got {d.name}")
    return _st.convert_element_type(x, _dt._COMPLEX_OF_FLOAT.get(d, _dt.complex128))


def _real(x, name):
    d = _dtype(x)
    if d.kind == "c":
        raise TypeError(f"fft.{name}: the input must be real; got {d.name} (use fft.fft for "
                        f"complex input)")
    if d in _dt.HALF:  # no transforms in half precision (NumPy's are in float32 too)
        return _st.convert_element_type(x, _dt.float32)
    if d.kind == "f":
        return x
    return _st.convert_element_type(x, _dt.float64)


def _index(v, what, name, hint=""):
    if isinstance(v, bool):
        raise TypeError(f"fft.{name}: {what} must be an integer; got {v!r}{hint}")
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"fft.{name}: {what} must be an integer; got {v!r}{hint}") from None


def _axis(axis, nd, name):
    hint = f" (for several axes use fft.{name}n)" if name in ("fft", "ifft", "rfft",
                                                              "irfft") else ""
    a = _index(axis, "axis", name, hint)
    if not -nd <= a < nd:
        raise AxisError(f"fft.{name}: axis {axis} is out of range for an array of "
                        f"{nd} dimensions", a, nd)
    return a % nd


def _fit(x, axis, n):
    """``x`` truncated or zero-padded at the end of ``axis`` to length ``n``."""
    shape = _shape(x)
    have = shape[axis]
    if n == have:
        return x
    if n < have:
        return _st.slice_(x, tuple((0, n if a == axis else d, 1) for a, d in enumerate(shape)))
    new = tuple(n if a == axis else d for a, d in enumerate(shape))
    return _st.scatter_slice(x, new, tuple((0, d, 1) for d in shape))


def _length(n, default, name):
    if n is None:
        return default
    n = _index(n, "the number of data points", name)
    if n < 1:
        raise ValueError(f"fft.{name}: invalid number of data points ({n}); it must be >= 1")
    return n


def _one(n, name):
    """A one-dimensional transform's ``n`` as ``s`` (where -1 is not allowed, as NumPy)."""
    return None if n is None else [_length(n, None, name)]


def _is_index(v):
    if isinstance(v, bool):
        return False
    try:
        operator.index(v)
    except TypeError:
        return False
    return True


def _sequence(v, what, name):
    """``v`` as a list, or a clear error where it is not a sequence (a lone integer)."""
    try:
        return list(v)
    except TypeError:
        hint = ""
        if _is_index(v) and name not in ("fftshift", "ifftshift"):
            one = {"fftn": "fft", "ifftn": "ifft", "rfftn": "rfft", "irfftn": "irfft",
                   "fft2": "fft", "ifft2": "ifft", "rfft2": "rfft", "irfft2": "irfft"}[name]
            hint = f" (for one axis: ({v},), or fft.{one} with " + (
                "n" if what == "s" else "axis") + ")"
        kind = ("an integer or a sequence of integers" if name in ("fftshift", "ifftshift")
                else "a sequence of integers")
        raise TypeError(f"fft.{name}: {what} must be {kind}; got {v!r}{hint}") from None


def _shape_and_axes(x, s, axes, name, last_default=None):
    """NumPy's rules for ``s`` and ``axes``: axes default to the last ``len(s)`` (or all);
    ``s`` to the input's lengths (the last one to ``last_default(length)`` if given); an
    entry -1 of ``s`` is the input's length along that axis (also for the last axis of the
    real inverse transforms, as NumPy)."""
    nd = len(_shape(x))
    if s is not None:
        s = _sequence(s, "s", name)
    if axes is None:
        if s is not None and len(s) > nd:  # (the negative first axis wrapped: a silent
            raise AxisError(                # transform of other axes, fftn(ones(3), s=(2, 2)))
                f"fft.{name}: s has {len(s)} entries but the input has {nd} dimensions "
                f"(without axes, s names the last len(s) axes); give fewer entries or axes",
                nd - len(s), nd)
        axes = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    else:
        axes = [_axis(a, nd, name) for a in _sequence(axes, "axes", name)]
    # (a repeated axis is transformed once per repetition, as NumPy's; s's entries and
    # their defaults are the input's lengths: see _one_axis_at_a_time)
    if s is None:
        s = [_shape(x)[a] for a in axes]
        if last_default is not None and axes:
            s[-1] = last_default(s[-1])
    else:
        s = list(s)
        if len(s) != len(axes):
            raise ValueError(f"fft.{name}: s and axes must have the same length; got "
                             f"{len(s)} and {len(axes)}")
        # -1 keeps the input's length along that axis (NumPy 2, the Array API; None too,
        # NumPy 2's deprecated spelling of it)
        s = [_shape(x)[a] if n is None or _index(n, "s", name) == -1 else n
             for a, n in zip(axes, s)]
    s = [_length(n, None, name) for n in s]
    return s, axes


def _c2c(x, n, axis, norm, inverse, name):
    x = _complex(_operand(x))
    ax = _axis(axis, len(_shape(x)), name)
    # (an empty axis is checked here too, as NumPy does: torch's own error was a RuntimeError)
    x = _fit(x, ax, _length(_shape(x)[ax] if n is None else n, None, name))
    return _fft.fft(x, (ax,), inverse, _norm(norm, name))


def _repeated(axes):
    return len(set(axes)) != len(axes)


def _one_axis_at_a_time(x, s, axes, first, inverse, norm):
    """NumPy's n-dimensional transform over ``axes`` with an axis named more than once:
    one-dimensional transforms, each after fitting its axis to its entry of ``s`` (so a
    repeated axis is cut or padded again between its transforms). ``first`` is "fft",
    "rfft" (the last axis first, then the others from the last back) or "irfft" (the
    others in order, then the last)."""
    pairs = list(zip(axes, s))
    if first == "irfft":
        for a, n in pairs[:-1]:
            x = _fft.fft(_fit(x, a, n), (a,), True, norm)
        a, n = pairs[-1]
        return _fft.irfft(_fit(x, a, n // 2 + 1), (a,), n, norm)
    if first == "rfft":
        a, n = pairs.pop()
        x = _fft.rfft(_fit(x, a, n), (a,), norm)
    for a, n in reversed(pairs):
        x = _fft.fft(_fit(x, a, n), (a,), inverse, norm)
    return x


def _c2c_n(x, s, axes, norm, inverse, name):
    x = _operand(x)
    s, axes = _shape_and_axes(x, s, axes, name)
    _norm(norm, name)
    if not axes:
        return x  # no axis to transform: the input as it is, as NumPy
    x = _complex(x)
    if _repeated(axes):
        return _one_axis_at_a_time(x, s, axes, "fft", inverse, _norm(norm, name))
    for a, n in zip(axes, s):
        x = _fit(x, a, n)
    return _fft.fft(x, axes, inverse, _norm(norm, name))


def fft(a, n=None, axis=-1, norm=None, out=None):
    """The one-dimensional discrete Fourier transform along ``axis``."""
    if out is not None:
        _no_out("fft.fft", out)
    return _c2c(a, n, axis, norm, False, "fft")


def ifft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of :func:`fft` along ``axis``."""
    if out is not None:
        _no_out("fft.ifft", out)
    return _c2c(a, n, axis, norm, True, "ifft")


def fftn(a, s=None, axes=None, norm=None, out=None):
    """The n-dimensional discrete Fourier transform over ``axes`` (all by default)."""
    if out is not None:
        _no_out("fft.fftn", out)
    return _c2c_n(a, s, axes, norm, False, "fftn")


def ifftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of :func:`fftn`."""
    if out is not None:
        _no_out("fft.ifftn", out)
    return _c2c_n(a, s, axes, norm, True, "ifftn")


def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """:func:`fftn` over the last two axes."""
    if out is not None:
        _no_out("fft.fft2", out)
    return _c2c_n(a, s, axes, norm, False, "fft2")


def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """:func:`ifftn` over the last two axes."""
    if out is not None:
        _no_out("fft.ifft2", out)
    return _c2c_n(a, s, axes, norm, True, "ifft2")


def _r2c(x, s, axes, norm, name):
    x = _real(_operand(x), name)
    s, axes = _shape_and_axes(x, s, axes, name)
    if not axes:
        raise ValueError(f"fft.{name}: at least one axis must be transformed")
    if _repeated(axes):
        return _one_axis_at_a_time(x, s, axes, "rfft", False, _norm(norm, name))
    for a, n in zip(axes, s):
        x = _fit(x, a, n)
    return _fft.rfft(x, axes, _norm(norm, name))


def _c2r(x, s, axes, norm, name):
    x = _operand(x)
    # a real half-precision input gives its dtype back from a transform over one axis, as
    # NumPy's irfft (which irfftn and irfft2 then are); over more axes (one of them named
    # twice too) NumPy's inverse c2c steps give complex64 first, so float32 (computed in
    # float32 either way)
    half = _dtype(x) if _dtype(x) in _dt.HALF else None
    x = _complex(x)
    s, axes = _shape_and_axes(x, s, axes, name, last_default=lambda m: 2 * (m - 1))
    if not axes:
        raise ValueError(f"fft.{name}: at least one axis must be transformed")
    if len(axes) > 1:
        half = None
    if _repeated(axes):
        out = _one_axis_at_a_time(x, s, axes, "irfft", True, _norm(norm, name))
        return out if half is None else _st.convert_element_type(out, half)
    for a, n in zip(axes[:-1], s[:-1]):
        x = _fit(x, a, n)
    n = s[-1]
    x = _fit(x, axes[-1], n // 2 + 1)  # the half spectrum an output of length n reads
    out = _fft.irfft(x, axes, n, _norm(norm, name))
    return out if half is None else _st.convert_element_type(out, half)


def rfft(a, n=None, axis=-1, norm=None, out=None):
    """The discrete Fourier transform of real input along ``axis``: the ``n // 2 + 1``
    non-negative frequencies."""
    if out is not None:
        _no_out("fft.rfft", out)
    return _r2c(a, _one(n, "rfft"), [axis], norm, "rfft")


def irfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of :func:`rfft`: real output of length ``n`` (default ``2 * (m - 1)``
    for ``m`` input frequencies). As NumPy, the imaginary parts of the zero (and, for even
    ``n``, the last) frequency are ignored."""
    if out is not None:
        _no_out("fft.irfft", out)
    return _c2r(a, _one(n, "irfft"), [axis], norm, "irfft")


def rfftn(a, s=None, axes=None, norm=None, out=None):
    """The n-dimensional transform of real input (the half spectrum along the last axis)."""
    if out is not None:
        _no_out("fft.rfftn", out)
    return _r2c(a, s, axes, norm, "rfftn")


def irfftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of :func:`rfftn`."""
    if out is not None:
        _no_out("fft.irfftn", out)
    return _c2r(a, s, axes, norm, "irfftn")


def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """:func:`rfftn` over the last two axes."""
    if out is not None:
        _no_out("fft.rfft2", out)
    return _r2c(a, s, axes, norm, "rfft2")


def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """:func:`irfftn` over the last two axes."""
    if out is not None:
        _no_out("fft.irfft2", out)
    return _c2r(a, s, axes, norm, "irfft2")


def hfft(a, n=None, axis=-1, norm=None, out=None):
    """The transform of a signal with Hermitian symmetry given by its first half (a real
    spectrum of length ``n``, default ``2 * (m - 1)``)."""
    if out is not None:
        _no_out("fft.hfft", out)
    from ._elementwise import conj
    norm = _SWAPPED[_norm(norm, "hfft")]
    a = _operand(a)
    out = _c2r(conj(_complex(a)), _one(n, "hfft"), [axis], norm, "hfft")
    return _st.convert_element_type(out, _dtype(a)) if _dtype(a) in _dt.HALF else out


def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of :func:`hfft`: the first half of the (Hermitian) spectrum of a real
    signal."""
    if out is not None:
        _no_out("fft.ihfft", out)
    from ._elementwise import conj
    norm = _SWAPPED[_norm(norm, "ihfft")]
    return conj(_r2c(a, _one(n, "ihfft"), [axis], norm, "ihfft"))


def _freq_dtype(dtype):
    d = _dt.float64 if dtype is None else _dt.as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"fft: frequencies need a real floating dtype; got {d.name}")
    return d


def _counts(lo, hi, d, dtype, device):
    """``arange(lo, hi)``: on ``d``'s library and device where ``d`` is an array or a tracer
    (made on the default library, it would not divide by ``d`` of another one)."""
    from ._base import add, astype
    from ._creation import arange
    if device is None and not isinstance(d, (int, float, complex, _np.generic)):
        return add(astype(_st.iota(d, hi - lo), dtype), lo)
    return arange(lo, hi, dtype=dtype, device=device)


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of :func:`fft` for ``n`` points ``d`` apart: ``[0, 1, ...,
    -(n // 2), ..., -1] / (n d)``. An array ``d`` (or a tracer) gives them on its library."""
    n = _length(n, None, "fftfreq")
    dt = _freq_dtype(dtype)
    pos = _counts(0, (n - 1) // 2 + 1, d, dt, device)
    neg = _counts(-(n // 2), 0, d, dt, device)
    return _as_requested(_divide(_concat([pos, neg]), n * d), dtype, dt)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of :func:`rfft`: ``[0, 1, ..., n // 2] / (n d)``."""
    n = _length(n, None, "rfftfreq")
    dt = _freq_dtype(dtype)
    return _as_requested(_divide(_counts(0, n // 2 + 1, d, dt, device), n * d), dtype, dt)


def _as_requested(freqs, dtype, dt):
    """``freqs`` in the ``dtype`` asked for: an array ``d`` of a wider dtype promotes the
    quotient (float32 counts / a float64 ``d``), but an explicit ``dtype`` is the result's
    (the Array API's; JAX's)."""
    if dtype is None or _dtype(freqs) == dt:
        return freqs
    return _st.convert_element_type(freqs, dt)


def _shift(x, axes, sign, name):
    from ._manipulation import roll
    x = _operand(x)
    nd = len(_shape(x))
    if axes is None:
        axes = tuple(range(nd))
    elif _is_index(axes):  # one axis: an int or a NumPy integer, as NumPy takes it
        axes = (axes,)
    axes = tuple(_axis(a, nd, name) for a in _sequence(axes, "axes", name))
    if not axes:
        return x
    shifts = tuple(sign * (_shape(x)[a] // 2) for a in axes)
    return roll(x, shifts, axis=axes)


def fftshift(x, axes=None):
    """The zero frequency moved to the centre (a roll by ``n // 2`` along ``axes``, all by
    default). A 0-d array (or ``axes=()``) comes back as it is: a shift over no axis moves
    nothing (as jax.numpy; NumPy 2.x raises inside ``np.roll`` for a 0-d array)."""
    return _shift(x, axes, 1, "fftshift")


def ifftshift(x, axes=None):
    """The inverse of :func:`fftshift`."""
    return _shift(x, axes, -1, "ifftshift")

