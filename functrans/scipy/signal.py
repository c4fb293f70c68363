"""``functrans.scipy.signal``: SciPy's direct convolutions and correlations, differentiable,
on every backend.

``convolve``, ``correlate`` (n-d), ``convolve2d`` and ``correlate2d``, with
``scipy.signal``'s signatures, modes and result dtypes, computed with
:func:`functrans.lax.conv_general_dilated` (one stack of shifted slices and one matrix
product; the smaller operand is taken as the kernel).
"""

from __future__ import annotations

import math

import numpy as _np  # NumPy's dtype promotion only, never the data

from .. import numpy as fnp
from ..convolution import conv_general_dilated

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d"]

_MODES = ("full", "valid", "same")


def _check_mode(mode, what):
    if mode not in _MODES:
        raise ValueError(f"{what}: mode must be 'full', 'valid' or 'same'; got {mode!r}.")


def _operands(in1, in2, what):
    in1, in2 = fnp.asarray(in1), fnp.asarray(in2)
    # NumPy's promotion (SciPy's result dtype: float32 with int64 is float64)
    dt = _np.result_type(*(_np.dtype(fnp.result_type(a).name) for a in (in1, in2))).name
    if dt == "bool":
        raise TypeError(f"{what}: boolean inputs are not supported.")
    in1, in2 = (a if fnp.result_type(a).name == dt else fnp.astype(a, dt) for a in (in1, in2))
    return in1, in2


def _valid_swap(s1, s2, what):
    """Whether 'valid' mode takes ``in2`` as the larger operand (SciPy's rule)."""
    if all(a >= b for a, b in zip(s1, s2)):
        return False
    if all(b >= a for a, b in zip(s1, s2)):
        return True
    raise ValueError(f"{what}: for 'valid' mode, one input must be at least as large as the "
                     f"other in every dimension; got shapes {s1} and {s2}.")


def _full_range(mode, s1, s2, what):
    """The part of the full convolution that ``mode`` keeps: ``(start, length)`` per axis."""
    out = []
    for a, b in zip(s1, s2):
        n = a + b - 1
        if mode == "full":
            length = n
        elif mode == "same":
            length = a
        else:
            length = abs(a - b) + 1
        out.append(((n - length) // 2, length))
    return out


def _conv_nd(image, kernel, ranges, flip_kernel=True):
    """``sum_k image[i - k] kernel[k]`` (a convolution, or a correlation when
    ``flip_kernel`` is False) over the full-convolution index ranges ``ranges``."""
    nd = image.ndim
    k = fnp.flip(kernel) if flip_kernel and nd else kernel
    pads = []
    for m, kn, (start, length) in zip(image.shape, kernel.shape, ranges):
        lo = kn - 1 - start
        pads.append((lo, length - m + start))
    shape1 = (1, 1) + tuple(image.shape)
    y = conv_general_dilated(fnp.reshape(image, shape1), fnp.reshape(k, (1, 1) + tuple(
        kernel.shape)), (1,) * nd, pads)
    return fnp.reshape(y, tuple(y.shape[2:]))


def _empty_or_scalar(in1, in2, what):
    if in1.ndim != in2.ndim:
        raise ValueError(f"{what}: in1 and in2 must have the same number of dimensions; got "
                         f"{in1.ndim} and {in2.ndim}.")
    if in1.ndim == 0:
        return fnp.multiply(in1, in2)
    if 0 in tuple(in1.shape) + tuple(in2.shape):
        return fnp.zeros((0,), dtype=fnp.result_type(in1), device=fnp.device(in1))
    return None


def _convolve(in1, in2, mode, what):
    _check_mode(mode, what)
    s1, s2 = tuple(in1.shape), tuple(in2.shape)
    ranges = _full_range(mode, s1, s2, what)
    if mode == "valid":
        _valid_swap(s1, s2, what)
    # convolution commutes: the operand with fewer elements is the kernel
    if math.prod(s2) > math.prod(s1) or (mode == "valid" and any(b > a for a, b in
                                                                zip(s1, s2))):
        in1, in2 = in2, in1
    return _conv_nd(in1, in2, ranges)


def _check_method(method, what):
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"{what}: method must be 'auto', 'direct' or 'fft'; got "
                         f"{method!r}.")


def convolve(in1, in2, mode="full", method="auto"):
    """The n-d convolution of ``in1`` and ``in2`` (``scipy.signal.convolve``), 'full',
    'valid' (one operand at least as large as the other along every axis) or 'same' (the
    size of ``in1``, centred on the full result). The result's dtype is the operands'
    common dtype (integers stay integers).

    ``method`` is accepted ('auto', 'direct', 'fft'); the computation is always direct
    (exact, where SciPy's 'fft' rounds)."""
    what = "convolve"
    _check_method(method, what)
    _check_mode(mode, what)
    in1, in2 = _operands(in1, in2, what)
    special = _empty_or_scalar(in1, in2, what)
    if special is not None:
        return special
    return _convolve(in1, in2, mode, what)


def correlate(in1, in2, mode="full", method="auto"):
    """The n-d cross-correlation of ``in1`` and ``in2`` (``scipy.signal.correlate``):
    ``z[k] = sum_l in1[l] conj(in2[l - k])``, the lag ``k`` over 'full', 'valid' or 'same'
    (as in :func:`convolve`); it is ``convolve(in1, conj(in2) reversed)``. ``method`` as in
    :func:`convolve`."""
    what = "correlate"
    _check_method(method, what)
    _check_mode(mode, what)
    in1, in2 = _operands(in1, in2, what)
    special = _empty_or_scalar(in1, in2, what)
    if special is not None:
        if in1.ndim == 0:
            return fnp.multiply(in1, fnp.conj(in2))
        return special
    k = fnp.flip(fnp.conj(in2) if fnp.isdtype(in2.dtype, "complex floating") else in2)
    return _convolve(in1, k, mode, what)


_BOUNDARIES = {"fill": "constant", "pad": "constant", "wrap": "wrap", "circular": "wrap",
               "symm": "symmetric", "symmetric": "symmetric"}


def _two_d(in1, in2, mode, boundary, fillvalue, what, correlate_):
    _check_mode(mode, what)
    if boundary not in _BOUNDARIES:
        raise ValueError(f"{what}: boundary must be 'fill', 'wrap' or 'symm'; got "
                         f"{boundary!r}.")
    in1, in2 = _operands(in1, in2, what)
    if not in1.ndim == in2.ndim == 2:
        raise ValueError(f"{what}: in1 and in2 must both be 2-d arrays; got {in1.ndim} and "
                         f"{in2.ndim} dimensions.")
    if hasattr(fillvalue, "shape") and tuple(fillvalue.shape) not in ((), (1,)):
        raise ValueError(f"{what}: fillvalue must be a scalar.")
    if (boundary in ("fill", "pad") and isinstance(fillvalue, complex)
            and not fnp.isdtype(in1.dtype, "complex floating")
            and (type(fillvalue) is complex or fillvalue.imag != 0)):
        # (SciPy's error: a complex fill value is not dropped to its real part silently)
        raise ValueError(f"{what}: could not cast the complex fillvalue {fillvalue!r} to the "
                         f"output type {fnp.result_type(in1).name}.")
    s1, s2 = tuple(in1.shape), tuple(in2.shape)
    swapped = mode == "valid" and _valid_swap(s1, s2, what)
    if swapped:
        in1, in2 = in2, in1
        s1, s2 = s2, s1
    if correlate_ and fnp.isdtype(in2.dtype, "complex floating"):
        in2 = fnp.conj(in2)
    if 0 in tuple(in1.shape) + tuple(in2.shape):
        return fnp.zeros((0, 0) if mode == "valid" else s1 if mode == "same" else
                         tuple(a + b - 1 if a and b else 0 for a, b in zip(s1, s2)),
                         dtype=fnp.result_type(in1), device=fnp.device(in1))
    ranges = _full_range(mode, s1, s2, what)
    if correlate_ and mode == "same":  # SciPy centres a 2-d correlation half a step later
        ranges = [(b // 2, a) for a, b in zip(s1, s2)]
    # the image extended by the boundary rule by what the kept range reaches beyond it
    ext = [(max(b - 1 - st, 0), max(st + ln - a, 0)) for a, b, (st, ln) in
           zip(s1, s2, ranges)]
    if any(lo or hi for lo, hi in ext) and not (boundary in ("fill", "pad")
                                                 and _is_zero(fillvalue)):
        kw = {}
        mode_np = _BOUNDARIES[boundary]
        if mode_np == "constant":
            fv = fillvalue
            if not fnp.isdtype(in1.dtype, "complex floating") and isinstance(fv, complex):
                fv = fv.real
            kw["constant_values"] = fv
        in1 = fnp.pad(in1, ext, mode=mode_np, **kw)
        ranges = [(st + lo, ln) for (st, ln), (lo, _) in zip(ranges, ext)]
    out = _conv_nd(in1, in2, ranges, flip_kernel=not correlate_)
    if swapped and correlate_:
        out = fnp.flip(out)
    return out


def _is_zero(v):
    return isinstance(v, (int, float, complex)) and v == 0


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """The 2-d convolution of ``in1`` and ``in2`` (``scipy.signal.convolve2d``), 'full',
    'valid' or 'same' (the size of ``in1``), ``in1`` extended beyond its edges by
    ``boundary``: 'fill' (with ``fillvalue``), 'wrap' (periodic) or 'symm' (mirrored, the
    edge repeated)."""
    return _two_d(in1, in2, mode, boundary, fillvalue, "convolve2d", False)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """The 2-d cross-correlation of ``in1`` and ``in2`` (``scipy.signal.correlate2d``),
    ``in2`` conjugated; modes and boundaries as in :func:`convolve2d`."""
    return _two_d(in1, in2, mode, boundary, fillvalue, "correlate2d", True)
