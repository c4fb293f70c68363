"""``functrans.scipy.signal``: SciPy's direct convolutions and correlations and its
short-time Fourier analysis, differentiable, on every backend.

``convolve``, ``correlate`` (n-d), ``convolve2d`` and ``correlate2d``, with
``scipy.signal``'s signatures, modes and result dtypes, computed with
:func:`functrans.lax.conv_general_dilated` (one stack of shifted slices and one matrix
product; the smaller operand is taken as the kernel); ``detrend``, ``stft``, ``istft``,
``welch`` and ``csd`` with SciPy 1.17's signatures, defaults and values, built on
functrans.numpy and functrans.numpy.fft (any window of ``get_window``: SciPy's names and
tuples with parameters, or any window as an array); the windows themselves in
:mod:`functrans.scipy.signal.windows`.
"""

from __future__ import annotations

import math
import warnings

import numpy as _np  # NumPy's dtype promotion only, never the data

from ... import numpy as fnp
from ...convolution import conv_general_dilated
from . import windows
from .windows import get_window

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "oaconvolve",
           "detrend", "stft", "istft", "welch", "csd", "get_window", "windows"]

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


def _empty_shape(s1, s2, mode, what):
    """The shape of the convolution of operands of shapes ``s1`` and ``s2`` when one has no
    elements (every entry an empty sum: 0), by SciPy's n-d rule: per axis ``a + b - 1``
    ('full'), ``a`` ('same') or ``|a - b| + 1`` ('valid')."""
    if mode == "valid":
        _valid_swap(s1, s2, what)
    shape = tuple(a + b - 1 if mode == "full" else a if mode == "same" else abs(a - b) + 1
                  for a, b in zip(s1, s2))
    if any(n < 0 for n in shape):
        raise ValueError(f"{what}: in1 and in2 both have length 0 along an axis, where their "
                         f"'full' convolution would have length -1; got shapes {s1} and "
                         f"{s2}.")
    return shape


def _empty_or_scalar(in1, in2, mode, what):
    if in1.ndim != in2.ndim:
        raise ValueError(f"{what}: in1 and in2 must have the same number of dimensions; got "
                         f"{in1.ndim} and {in2.ndim}.")
    if in1.ndim == 0:
        return fnp.multiply(in1, in2)
    if 0 in tuple(in1.shape) + tuple(in2.shape):
        return fnp.zeros(_empty_shape(tuple(in1.shape), tuple(in2.shape), mode, what),
                         dtype=fnp.result_type(in1), device=fnp.device(in1))
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


def _check_precision(precision, what):
    from ...convolution import _not_supported
    _not_supported(f"scipy.signal.{what}", precision, None)


def _check_method(method, what):
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"{what}: method must be 'auto', 'direct' or 'fft'; got "
                         f"{method!r}.")


def convolve(in1, in2, mode="full", method="auto", precision=None, *, axes=None,
             dot_axes=None):
    """The n-d convolution of ``in1`` and ``in2`` (``scipy.signal.convolve``), 'full',
    'valid' (one operand at least as large as the other along every axis) or 'same' (the
    size of ``in1``, centred on the full result). The result's dtype is the operands'
    common dtype (integers stay integers). An operand with no elements gives zeros (empty
    sums) of the mode's shape, ``a + b - 1``, ``a`` or ``|a - b| + 1`` per axis (SciPy's
    n-d rule; its 1-d convolve raises); both empty along an axis in 'full' mode: ValueError.

    ``method`` is accepted ('auto', 'direct', 'fft'); the computation is always direct
    (exact, where SciPy's 'fft' rounds). ``precision`` (``jax.scipy.signal``'s keyword) is
    checked and has no effect: every backend computes at the operands' precision.

    ``axes`` and ``dot_axes`` (keyword only) are ``autograd.scipy.signal.convolve``'s
    extension, for convolutional networks: ``axes=(axes1, axes2)`` pairs the axes of
    ``in1`` and ``in2`` convolved together, ``dot_axes=(d1, d2)`` pairs axes summed over (a
    tensor product, as the input channels of a layer); the result's axes are the other
    axes of ``in1``, then those of ``in2``, then the convolved ones."""
    what = "convolve"
    _check_method(method, what)
    _check_mode(mode, what)
    _check_precision(precision, what)
    in1, in2 = _operands(in1, in2, what)
    if axes is not None or dot_axes is not None:
        return _convolve_axes(in1, in2, axes, dot_axes, mode, what)
    special = _empty_or_scalar(in1, in2, mode, what)
    if special is not None:
        return special
    return _convolve(in1, in2, mode, what)


def _axis_list(axs, ndim, what, name):
    out = []
    for a in axs:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{what}: {name} has axis {a} out of range for {ndim} dimensions.")
        out.append(a % ndim)
    return out


def _convolve_axes(A, B, axes, dot_axes, mode, what):
    """autograd's ``convolve(A, B, axes, dot_axes, mode)``: one batched
    ``conv_general_dilated`` (the rest of A as output features, the rest of B as the batch,
    the dot axes as the input features)."""
    if axes is None:
        if A.ndim != B.ndim:
            raise ValueError(f"{what}: without axes, in1 and in2 must have the same number of "
                             f"dimensions; got {A.ndim} and {B.ndim}.")
        axes = (range(A.ndim), range(B.ndim))
    if dot_axes is None:
        dot_axes = ((), ())
    if len(axes) != 2 or len(dot_axes) != 2:
        raise ValueError(f"{what}: axes and dot_axes are pairs (axes of in1, axes of in2).")
    ca, cb = (_axis_list(a, x.ndim, what, "axes") for a, x in zip(axes, (A, B)))
    da, db = (_axis_list(a, x.ndim, what, "dot_axes") for a, x in zip(dot_axes, (A, B)))
    if len(ca) != len(cb) or len(da) != len(db):
        raise ValueError(f"{what}: axes and dot_axes must pair as many axes of in1 as of in2; "
                         f"got {axes!r} and {dot_axes!r}.")
    if len(set(ca + da)) != len(ca + da) or len(set(cb + db)) != len(cb + db):
        raise ValueError(f"{what}: an axis appears twice in axes and dot_axes.")
    for i, j in zip(da, db):
        if A.shape[i] != B.shape[j]:
            raise ValueError(f"{what}: dot axes {i} of in1 and {j} of in2 differ in length: "
                             f"{A.shape[i]} and {B.shape[j]}.")
    ia = [i for i in range(A.ndim) if i not in ca and i not in da]
    ib = [i for i in range(B.ndim) if i not in cb and i not in db]
    sa, sb = [A.shape[i] for i in ca], [B.shape[i] for i in cb]
    out_ignore = tuple(A.shape[i] for i in ia) + tuple(B.shape[i] for i in ib)
    ranges = _full_range(mode, sa, sb, what)
    if mode == "valid":
        _valid_swap(sa, sb, what)
    nd = len(ca)
    D = math.prod(A.shape[i] for i in da)
    NA, NB = math.prod(A.shape[i] for i in ia), math.prod(B.shape[i] for i in ib)
    if 0 in tuple(A.shape) + tuple(B.shape) or 0 in [r[1] for r in ranges]:
        return fnp.zeros(out_ignore + tuple(r[1] for r in ranges), dtype=fnp.result_type(A),
                         device=fnp.device(A))
    # the operand with the smaller convolved extent as the kernel (output features, input
    # features D, its convolved axes flipped), the other as the image (batch, features D): a
    # cross-correlation with the flipped kernel. The convolution commutes, so the choice only
    # sets the cost (the kernel's extent is the number of window slices), as in autograd's
    # convolutional networks, where in1 is the larger image.
    a_kernel = math.prod(sa) <= math.prod(sb)
    kA, kB = (A, B) if a_kernel else (B, A)
    ik, dk, ck, nk, sk = (ia, da, ca, NA, sa) if a_kernel else (ib, db, cb, NB, sb)
    ix, dx, cx, nx, sx = (ib, db, cb, NB, sb) if a_kernel else (ia, da, ca, NA, sa)
    k = fnp.reshape(fnp.permute_dims(kA, tuple(ik + dk + ck)), (nk, D, *sk))
    if nd:
        k = fnp.flip(k, axis=tuple(range(2, 2 + nd)))
    x = fnp.reshape(fnp.permute_dims(kB, tuple(ix + dx + cx)), (nx, D, *sx))
    pads = [(a - 1 - start, length - b + start) for a, b, (start, length)
            in zip(sk, sx, ranges)]
    y = conv_general_dilated(x, k, (1,) * nd, pads)  # (batch: x's, features: k's, out...)
    if a_kernel:
        y = fnp.permute_dims(y, (1, 0) + tuple(range(2, 2 + nd)))
    return fnp.reshape(y, out_ignore + tuple(y.shape[2:]))


def correlate(in1, in2, mode="full", method="auto", precision=None):
    """The n-d cross-correlation of ``in1`` and ``in2`` (``scipy.signal.correlate``):
    ``z[k] = sum_l in1[l] conj(in2[l - k])``, the lag ``k`` over 'full', 'valid' or 'same'
    (as in :func:`convolve`); it is ``convolve(in1, conj(in2) reversed)``. ``method`` and
    ``precision`` as in :func:`convolve`."""
    what = "correlate"
    _check_method(method, what)
    _check_mode(mode, what)
    _check_precision(precision, what)
    in1, in2 = _operands(in1, in2, what)
    special = _empty_or_scalar(in1, in2, mode, what)
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
        return fnp.zeros(_empty_shape(s1, s2, mode, what), dtype=fnp.result_type(in1),
                         device=fnp.device(in1))
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


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """The 2-d convolution of ``in1`` and ``in2`` (``scipy.signal.convolve2d``), 'full',
    'valid' or 'same' (the size of ``in1``), ``in1`` extended beyond its edges by
    ``boundary``: 'fill' (with ``fillvalue``), 'wrap' (periodic) or 'symm' (mirrored, the
    edge repeated). ``precision`` as in :func:`convolve`."""
    _check_precision(precision, "convolve2d")
    return _two_d(in1, in2, mode, boundary, fillvalue, "convolve2d", False)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, precision=None):
    """The 2-d cross-correlation of ``in1`` and ``in2`` (``scipy.signal.correlate2d``),
    ``in2`` conjugated; modes, boundaries and ``precision`` as in :func:`convolve2d`."""
    _check_precision(precision, "correlate2d")
    return _two_d(in1, in2, mode, boundary, fillvalue, "correlate2d", True)


def _fft_working_dtype(a):
    """The dtype scipy.fft transforms ``a`` in: float64 for booleans and integers, float32
    for float16, else its own."""
    dt = _np.dtype(fnp.result_type(a).name)
    if dt.kind in "biu":
        return _np.dtype("float64")
    return _np.dtype("float32") if dt == _np.float16 else dt


def _inexact_operands(in1, in2, what):
    """The operands in the dtype of SciPy's FFT convolutions: each operand's scipy.fft working
    dtype, then their common one (float32 with an integer kernel is float64, float16 float32:
    promoting first kept float32 and float16, SciPy's float64 and float32)."""
    in1, in2 = fnp.asarray(in1), fnp.asarray(in2)
    dt = _np.result_type(*(_fft_working_dtype(a) for a in (in1, in2)))
    return tuple(a if fnp.result_type(a).name == dt.name else fnp.astype(a, dt.name)
                 for a in (in1, in2))


def _convolve_along(in1, in2, axes, mode, what):
    """``in1`` and ``in2`` convolved along ``axes`` only, the other axes paired element by
    element (equal lengths, or 1 broadcast): one grouped ``conv_general_dilated``, a group
    per pair."""
    nd = in1.ndim
    rest = [a for a in range(nd) if a not in axes]
    outer = []
    for a in rest:
        m, k = in1.shape[a], in2.shape[a]
        if m != k and 1 not in (m, k):
            raise ValueError(f"{what}: in1 and in2 must have equal lengths (or 1) along the "
                             f"axes not convolved; got shapes {tuple(in1.shape)} and "
                             f"{tuple(in2.shape)} with axes {tuple(axes)}.")
        outer.append(max(m, k))
    s1, s2 = [in1.shape[a] for a in axes], [in2.shape[a] for a in axes]
    ranges = _full_range(mode, s1, s2, what)
    if mode == "valid":
        _valid_swap(s1, s2, what)
    order = tuple(rest) + tuple(axes)
    a = fnp.permute_dims(in1, order)
    b = fnp.permute_dims(in2, order)
    a = fnp.broadcast_to(a, tuple(outer) + tuple(s1))
    b = fnp.broadcast_to(b, tuple(outer) + tuple(s2))
    g = math.prod(outer)
    out_conv = tuple(r[1] for r in ranges)
    if 0 in s1 + s2:
        out_conv = _empty_shape(tuple(s1), tuple(s2), mode, what)
    if g == 0 or 0 in s1 + s2 or 0 in out_conv:
        y = fnp.zeros(tuple(outer) + out_conv, dtype=fnp.result_type(in1),
                      device=fnp.device(in1))
    else:
        # the operand with fewer elements as the kernel (the convolution commutes)
        if math.prod(s2) > math.prod(s1):
            a, b, s1, s2 = b, a, s2, s1
        k = len(axes)
        x = fnp.reshape(a, (1, g) + tuple(s1))
        w = fnp.flip(fnp.reshape(b, (g, 1) + tuple(s2)), axis=tuple(range(2, 2 + k)))
        pads = [(kn - 1 - st, ln - m + st) for m, kn, (st, ln) in zip(s1, s2, ranges)]
        y = conv_general_dilated(x, w, (1,) * k, pads, feature_group_count=g)
        y = fnp.reshape(y, tuple(outer) + out_conv)
    if mode == "same":  # SciPy's 'same' is in1's shape, a broadcast axis cut at its centre
        keep = tuple(slice((n - in1.shape[a]) // 2, (n - in1.shape[a]) // 2 + in1.shape[a])
                     for a, n in zip(rest, outer))
        y = y[keep + (Ellipsis,)]
    return fnp.permute_dims(y, tuple(int(i) for i in _np.argsort(order)))


def _fft_like(name):
    def f(in1, in2, mode="full", axes=None):
        what = name
        _check_mode(mode, what)
        in1, in2 = _inexact_operands(in1, in2, what)
        if in1.ndim != in2.ndim:
            raise ValueError(f"{what}: in1 and in2 must have the same number of dimensions; "
                             f"got {in1.ndim} and {in2.ndim}.")
        if in1.ndim == 0:
            return convolve(in1, in2, mode=mode)
        if axes is None:
            axs = list(range(in1.ndim))
        else:
            axs = (axes,) if isinstance(axes, int) else tuple(axes)
            axs = _axis_list(axs, in1.ndim, what, "axes")
            if len(set(axs)) != len(axs):
                raise ValueError(f"{what}: axes has a repeated axis: {tuple(axes)}.")
            if not axs:
                raise ValueError(f"{what}: axes, when given, must name at least one axis.")
        if mode == "valid" and in1.ndim == in2.ndim and 0 not in in1.shape + in2.shape:
            # SciPy broadcasts along an axis where either operand has length 1 (the same
            # values as convolving there) and leaves such axes out of 'valid' mode's
            # which-is-larger check: (1, 5) with (2, 3) is (2, 3), not an error
            axs = [a for a in axs if in1.shape[a] != 1 and in2.shape[a] != 1]
        if sorted(axs) == list(range(in1.ndim)):
            return convolve(in1, in2, mode=mode)
        return _convolve_along(in1, in2, sorted(axs), mode, what)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``scipy.signal.{name}``: the convolution of ``in1`` and ``in2`` along "
                 f"``axes`` (all by default; along the others they pair element by element, "
                 f"equal lengths or 1 broadcast), 'full', 'valid' or 'same' as in "
                 f":func:`convolve`, computed directly (exact, where SciPy's FFT rounds). "
                 f"The result's dtype is SciPy's: each operand's scipy.fft working dtype "
                 f"(float64 for integers and booleans, float32 for float16), then their "
                 f"common one.")
    return f


fftconvolve = _fft_like("fftconvolve")
oaconvolve = _fft_like("oaconvolve")


# -- detrend, windows, stft, istft, welch, csd ----------------------------------------------------


def _float_kind(x):
    """float64 or complex128 for integer, boolean or float16 input; float32, float64,
    complex64 and complex128 as they are (SciPy's dtypes for detrend)."""
    name = fnp.result_type(x).name
    if name in ("float32", "float64", "complex64", "complex128"):
        return x
    return fnp.astype(x, "float64")


def _static_ints(v, name, what):
    from ...core import Tracer
    if isinstance(v, Tracer):
        raise TypeError(f"{name}: {what} must be static (Python integers or a concrete "
                        f"array), not a traced value")
    if hasattr(v, "shape") and not isinstance(v, _np.ndarray):
        from ...backends import backend_of
        v = backend_of(v).to_numpy(v)
    arr = _np.atleast_1d(_np.asarray(v))
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"{name}: {what} must be integers")
    return [int(i) for i in arr]


def detrend(data, axis=-1, type="linear", bp=0, overwrite_data=False):
    """Remove the least-squares line (``type='linear'``, the default, or 'l') or the mean
    ('constant' or 'c') from ``data`` along ``axis``, as ``scipy.signal.detrend``; with
    ``type='linear'`` the breakpoints ``bp`` (integers, static) split the axis into pieces
    each fitted separately. The result is float32, float64 or complex as the input
    (integers give float64, as SciPy's). The line is removed through centred sums, ``d -
    mean(d) - slope (t - mean(t))`` (SciPy's least-squares solve gives the same to
    rounding). ``overwrite_data`` has no effect (the input is never modified).
    Differentiable in ``data``."""
    name = "detrend"
    if type not in ("linear", "l", "constant", "c"):
        raise ValueError(f"{name}: Trend type must be 'linear' or 'constant'; got {type!r}.")
    data = fnp.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"{name}: data must have at least one dimension")
    ax = _axis_list([axis], data.ndim, name, "axis")[0]
    if type in ("constant", "c"):
        if not fnp.isdtype(data.dtype, ("real floating", "complex floating")):
            data = fnp.astype(data, "float64")
        return fnp.subtract(data, fnp.mean(data, axis=ax, keepdims=True))
    data = _float_kind(data)
    n = data.shape[ax]
    if n == 0:  # (nothing to fit: no samples along the axis)
        return data
    cuts = sorted(set([0, n] + _static_ints(bp, name, "bp")))
    if cuts[0] < 0 or cuts[-1] > n:
        raise ValueError(f"{name}: Breakpoints must be non-negative and less than length of "
                         f"data along given axis ({n}); got {bp!r}.")
    x = fnp.moveaxis(data, ax, -1)
    real_dt = "float32" if fnp.result_type(x).name in ("float32", "complex64") else "float64"
    pieces = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        d = x[..., lo:hi]
        m = hi - lo
        dc = fnp.subtract(d, fnp.mean(d, axis=-1, keepdims=True))
        if m > 1:
            t = [(i + 1.0) / m for i in range(m)]
            tm = sum(t) / m
            tc = fnp.asarray([v - tm for v in t], dtype=real_dt, device=fnp.device(x))
            slope = fnp.divide(fnp.sum(fnp.multiply(dc, tc), axis=-1, keepdims=True),
                               sum((v - tm) ** 2 for v in t))
            dc = fnp.subtract(dc, fnp.multiply(slope, tc))
        pieces.append(dc)
    out = pieces[0] if len(pieces) == 1 else fnp.concat(pieces, axis=-1)
    return fnp.moveaxis(out, -1, ax)


def _window(window, nperseg, like, name, input_length=None, default_nperseg=256):
    """SciPy's choice of the window and the segment length: ``(win, nperseg, host)`` with
    ``win`` an array next to ``like`` and ``host`` its values on the host (None when the
    window is traced: an array, or a tuple with a traced parameter)."""
    from ...core import Tracer
    from ...backends import backend_of
    if nperseg is not None:
        nperseg = int(nperseg)
        if nperseg < 1:
            raise ValueError(f"{name}: nperseg must be a positive integer; got {nperseg}.")
    if isinstance(window, (str, tuple)):
        if nperseg is None:
            nperseg = default_nperseg
        if input_length is not None and nperseg > input_length:
            warnings.warn(f"{name}: nperseg = {nperseg} is greater than the input length = "
                          f"{input_length}, using nperseg = {input_length}", UserWarning,
                          stacklevel=3)
            nperseg = input_length
        try:
            win = windows.get_window(window, nperseg)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        if isinstance(win, Tracer):
            host = None
        else:
            host = _np.asarray(backend_of(win).to_numpy(win))
            win = fnp.asarray(host.tolist(), dtype="float64", device=fnp.device(like))
        return win, nperseg, host
    win = fnp.asarray(window)
    if win.ndim != 1:
        raise ValueError(f"{name}: window must be 1-D; got shape {tuple(win.shape)}.")
    if input_length is not None and input_length < win.shape[0]:
        raise ValueError(f"{name}: the window (length {win.shape[0]}) is longer than the "
                         f"input signal ({input_length}).")
    if nperseg is None:
        nperseg = win.shape[0]
    elif nperseg != win.shape[0]:
        raise ValueError(f"{name}: the value specified for nperseg ({nperseg}) is different "
                         f"from the length of the window ({win.shape[0]}).")
    host = None
    if not isinstance(win, Tracer):
        host = _np.asarray(backend_of(win).to_numpy(win))
    if fnp.isdtype(win.dtype, "complex floating"):
        return win, nperseg, host
    return fnp.astype(win, "float64"), nperseg, host


def _lengths(nperseg, noverlap, nfft, name):
    if nfft is None:
        nfft = nperseg
    elif int(nfft) < nperseg:
        raise ValueError(f"{name}: nfft ({nfft}) must be greater than or equal to nperseg "
                         f"({nperseg}).")
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    if noverlap >= nperseg:
        raise ValueError(f"{name}: noverlap ({noverlap}) must be less than nperseg "
                         f"({nperseg}).")
    return nperseg, noverlap, int(nfft)


def _is_complex(x):
    return fnp.isdtype(fnp.result_type(x), "complex floating")


def _as_working(x):
    """float64 or complex128 (the computation's precision)."""
    return fnp.astype(x, "complex128" if _is_complex(x) else "float64")


def _out_dtype(*xs):
    """SciPy's result dtype: the inputs' with complex64, as complex."""
    single = all(fnp.result_type(x).name in ("float32", "complex64", "float16", "int8",
                                                "uint8", "int16", "uint16", "bool")
                 for x in xs)
    return "complex64" if single and all(fnp.result_type(x).name in ("float32", "complex64")
                                         for x in xs) else "complex128"


def _real_of(dtype):
    return "float32" if dtype == "complex64" else "float64"


def _detrend_func(detrend_, name, each=False):
    """The detrending of the segments (``(..., nseg, nperseg)``); a callable ``detrend_``
    gets each segment (``each``: SciPy's welch/csd) or all of them at once (its stft)."""
    if detrend_ is False or detrend_ is None:
        return lambda d: d
    if callable(detrend_) and not each:
        return detrend_
    if callable(detrend_):
        def per_segment(d):  # (d: (..., nseg, nperseg)) called on each segment, as SciPy
            return fnp.stack([detrend_(d[..., k, :]) for k in range(d.shape[-2])], axis=-2)
        return per_segment
    if detrend_ in ("constant", "c", "linear", "l"):
        return lambda d: detrend(d, axis=-1, type=detrend_)
    raise ValueError(f"{name}: detrend must be 'constant', 'linear', False or a callable; got "
                     f"{detrend_!r}.")


def _segments_fft(x, win, nperseg, nstep, nfft, detrend_func, onesided):
    """The windowed, detrended segments of the last axis of ``x`` (starting every ``nstep``
    samples) and their FFTs: shape ``(..., nseg, nfreq)``."""
    n = x.shape[-1]
    nseg = (n - nperseg) // nstep + 1
    idx = [s * nstep + k for s in range(nseg) for k in range(nperseg)]
    idx = fnp.asarray(idx, dtype="int64", device=fnp.device(x))
    seg = fnp.reshape(fnp.take(x, idx, axis=-1), tuple(x.shape[:-1]) + (nseg, nperseg))
    seg = fnp.multiply(detrend_func(seg), win)
    if onesided:
        return fnp.fft.rfft(fnp.real(seg) if _is_complex(seg) else seg, n=nfft, axis=-1)
    return fnp.fft.fft(seg, n=nfft, axis=-1)


def _freqs(nfft, fs, onesided, like):
    dev = fnp.device(like)
    if onesided:
        return fnp.fft.rfftfreq(nfft, 1.0 / fs, device=dev)
    return fnp.fft.fftfreq(nfft, 1.0 / fs, device=dev)


def _median_bias(n):
    """SciPy's bias of the median of ``n`` chi-squared(2) periodograms."""
    return 1.0 + sum(1.0 / (2 * k + 1) - 1.0 / (2 * k) for k in range(1, (n - 1) // 2 + 1))


def csd(x, y, fs=1.0, window="hann_periodic", nperseg=None, noverlap=None, nfft=None,
        detrend="constant", return_onesided=True, scaling="density", axis=-1,
        average="mean"):
    """The cross power spectral density of ``x`` and ``y`` by Welch's method, as
    ``scipy.signal.csd`` (SciPy 1.17): the mean (or, ``average='median'``, the bias-corrected
    median of the real and imaginary parts) over the segments of ``conj(X) Y`` scaled by
    ``scaling`` ('density': ``1 / (fs sum(win**2))``, 'spectrum': ``1 / sum(win)**2``), the
    one-sided spectra doubled but at 0 (and Nyquist). Returns ``(f, Pxy)``: the frequencies
    (float64, of the input's library) and the spectra with the frequencies on ``axis``.
    ``window``: a name or a tuple with parameters, as :func:`get_window` takes them
    ('hann', the default, periodic; ``('tukey', 0.25)``, ``('kaiser', beta)``...), or an
    array; ``detrend``
    'constant', 'linear', False or a callable, called on each segment (shape
    ``(..., nperseg)``) as SciPy's. Differences:
    computed in float64 (complex128) and cast to SciPy's dtype (complex64 for float32
    input); a complex ``y`` also gives two-sided spectra. As SciPy's, a complex window with
    one-sided spectra (real input) and a number ``fs`` that is not positive are ValueErrors.
    Differentiable in ``x``, ``y`` and an array window (or a window's traced parameters)."""
    return _csd(x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                scaling, axis, average, "csd")


def _csd(x, y, fs, window, nperseg, noverlap, nfft, detrend_, return_onesided, scaling,
         axis, average, name):
    same = y is x
    x = fnp.asarray(x)
    y = x if same else fnp.asarray(y, like=x) if not hasattr(y, "shape") else y
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{name}: x and y must have at least one dimension")
    ax_x = _axis_list([axis], x.ndim, name, "axis")[0]
    ax_y = _axis_list([axis], y.ndim, name, "axis")[0]
    out_dt = _out_dtype(x) if same else _out_dtype(x, y)
    xm, ym = fnp.moveaxis(x, ax_x, -1), fnp.moveaxis(y, ax_y, -1)
    try:
        outer = fnp.broadcast_shapes(tuple(xm.shape[:-1]), tuple(ym.shape[:-1]))
    except ValueError as e:
        raise ValueError(f"{name}: x and y cannot be broadcast together.") from e
    if scaling not in ("density", "spectrum"):
        raise ValueError(f"{name}: scaling must be 'density' or 'spectrum'; got "
                         f"{scaling!r}.")
    if average not in ("mean", "median"):
        raise ValueError(f"{name}: average must be 'median' or 'mean'; got {average!r}.")
    if 0 in tuple(x.shape) or 0 in tuple(y.shape):
        length = min(xm.shape[-1], ym.shape[-1])
        empty = fnp.zeros(outer + (length,), dtype="float64", device=fnp.device(x))
        empty = fnp.moveaxis(empty, -1, ax_x if ax_x < len(outer) + 1 else -1)
        return empty, empty
    n = max(xm.shape[-1], ym.shape[-1])
    win, nperseg, _ = _window(window, nperseg, x, name, input_length=n)
    if nperseg > n:
        raise ValueError(f"{name}: the window (length {nperseg}) is longer than the input "
                         f"signal ({n}).")
    nperseg, noverlap, nfft = _lengths(nperseg, noverlap, nfft, name)
    nstep = nperseg - noverlap
    onesided = bool(return_onesided) and not _is_complex(x) and not _is_complex(y)
    if onesided and _is_complex(win):
        # (the windowed segments are complex: their spectra are not Hermitian, so folding
        # them onto the non-negative frequencies gave a wrong density)
        raise ValueError(f"{name}: one-sided spectra are not defined for a complex window; "
                         f"pass return_onesided=False.")
    if isinstance(fs, (int, float)) and not fs > 0:
        raise ValueError(f"{name}: the sampling frequency fs must be positive; got {fs}.")
    xm, ym = _as_working(xm), _as_working(ym)
    pads = [(0, 0)] * (xm.ndim - 1)
    if xm.shape[-1] < n:
        xm = fnp.pad(xm, pads + [(0, n - xm.shape[-1])])
    pads = [(0, 0)] * (ym.ndim - 1)
    if ym.shape[-1] < n:
        ym = fnp.pad(ym, pads + [(0, n - ym.shape[-1])])
    dfun = _detrend_func(detrend_, name, each=True)
    fx = _segments_fft(xm, win, nperseg, nstep, nfft, dfun, onesided)
    fy = fx if same else _segments_fft(ym, win, nperseg, nstep, nfft, dfun, onesided)
    wsum = fnp.sum(win) if scaling == "spectrum" else None
    scale = (fnp.divide(1.0, fnp.real(fnp.multiply(wsum, wsum))) if scaling == "spectrum"
             else fnp.divide(1.0, fnp.multiply(fs, fnp.real(fnp.sum(fnp.multiply(
                 win, fnp.conj(win)))))))
    if same:
        p = fnp.multiply(fnp.real(fnp.multiply(fnp.conj(fx), fx)), scale)
    else:
        p = fnp.multiply(fnp.multiply(fnp.conj(fx), fy), scale)
    if onesided:
        nf = p.shape[-1]
        stop = nf - 1 if nfft % 2 == 0 else nf
        factor = [1.0] + [2.0] * (stop - 1) + [1.0] * (nf - stop)
        p = fnp.multiply(p, fnp.asarray(factor, dtype="float64", device=fnp.device(x)))
    nseg = p.shape[-2]
    if nseg > 1:
        if average == "median":
            bias = _median_bias(nseg)
            if same:
                p = fnp.median(p, axis=-2) / bias
            else:
                p = fnp.add(fnp.median(fnp.real(p), axis=-2),
                            fnp.multiply(fnp.median(fnp.imag(p), axis=-2), 1j)) / bias
        else:
            p = fnp.mean(p, axis=-2)
    else:
        p = p[..., 0, :]
    p = fnp.moveaxis(p, -1, _axis_list([axis], p.ndim, name, "axis")[0])
    p = fnp.astype(p, _real_of(out_dt) if same else out_dt)
    return _freqs(nfft, fs, onesided, x), p


def welch(x, fs=1.0, window="hann_periodic", nperseg=None, noverlap=None, nfft=None,
          detrend="constant", return_onesided=True, scaling="density", axis=-1,
          average="mean"):
    """The power spectral density of ``x`` by Welch's method (the average of the modified
    periodograms of overlapping segments), as ``scipy.signal.welch`` (SciPy 1.17):
    :func:`csd` of ``x`` with itself, real. Returns ``(f, Pxx)``; float32 input gives
    float32 spectra, as SciPy's. Differences as :func:`csd`'s. Differentiable in ``x``
    (and an array window)."""
    return _csd(x, x, fs, window, nperseg, noverlap, nfft, detrend, return_onesided,
                scaling, axis, average, "welch")


def _extend(x, n, boundary, name):
    """``x`` extended by ``n`` samples at both ends of its last axis (SciPy's 'zeros',
    'constant' (the edge value), 'even' (mirrored about the edge sample) or 'odd' (the
    mirror image reflected through the edge value))."""
    if n == 0:
        return x
    pads = [(0, 0)] * (x.ndim - 1) + [(n, n)]
    if boundary == "zeros":
        return fnp.pad(x, pads)
    if boundary == "constant":
        return fnp.pad(x, pads, mode="edge")
    if n >= x.shape[-1]:
        raise ValueError(f"{name}: the extension length {n} is too big for the boundary "
                         f"{boundary!r}: it must be less than the signal's length "
                         f"{x.shape[-1]}.")
    ev = fnp.pad(x, pads, mode="reflect")
    if boundary == "even":
        return ev
    first, last = x[..., :1], x[..., -1:]
    left = fnp.subtract(fnp.multiply(2.0, first), ev[..., :n])
    right = fnp.subtract(fnp.multiply(2.0, last), ev[..., -n:])
    return fnp.concat([left, x, right], axis=-1)


def stft(x, fs=1.0, window="hann_periodic", nperseg=256, noverlap=None, nfft=None,
         detrend=False, return_onesided=True, boundary="zeros", padded=True, axis=-1,
         scaling="spectrum"):
    """The short-time Fourier transform of ``x`` along ``axis``, as ``scipy.signal.stft``
    (SciPy 1.17): ``x`` extended by ``nperseg // 2`` samples at each end (``boundary``
    'zeros', 'even', 'odd', 'constant' or None) and zero-padded to whole segments
    (``padded``), each segment detrended (``detrend``: False, 'constant', 'linear' or a
    callable), windowed and transformed (``rfft`` for real input when
    ``return_onesided``), scaled by ``1 / sum(win)`` ('spectrum') or ``1 / sqrt(fs
    sum(win**2))`` ('psd'). Returns ``(f, t, Zxx)``, ``Zxx`` with the frequencies on
    ``axis`` and the segments last; complex64 for float32 input, else complex128.
    ``window`` as in :func:`csd`. Differentiable in ``x`` (and an array window)."""
    name = "stft"
    if scaling == "psd":
        scaling = "density"
    elif scaling != "spectrum":
        raise ValueError(f"{name}: scaling must be 'spectrum' or 'psd'; got {scaling!r}.")
    if boundary not in ("zeros", "even", "odd", "constant", None):
        raise ValueError(f"{name}: Unknown boundary option {boundary!r}, must be one of: "
                         f"'even', 'odd', 'constant', 'zeros', None.")
    x = fnp.asarray(x)
    if x.ndim == 0:
        raise ValueError(f"{name}: x must have at least one dimension")
    ax = _axis_list([axis], x.ndim, name, "axis")[0]
    out_dt = _out_dtype(x)
    xm = fnp.moveaxis(x, ax, -1)
    if 0 in tuple(x.shape):
        e = fnp.zeros(tuple(x.shape), dtype="float64", device=fnp.device(x))
        return e, e, e
    win, nperseg, _ = _window(window, nperseg, x, name, input_length=xm.shape[-1])
    nperseg, noverlap, nfft = _lengths(nperseg, noverlap, nfft, name)
    nstep = nperseg - noverlap
    xm = _as_working(xm)
    if boundary is not None:
        xm = _extend(xm, nperseg // 2, boundary, name)
    if padded:
        nadd = (-(xm.shape[-1] - nperseg) % nstep) % nperseg
        if nadd:
            xm = fnp.pad(xm, [(0, 0)] * (xm.ndim - 1) + [(0, nadd)])
    onesided = bool(return_onesided) and not _is_complex(x)
    if return_onesided and not onesided:
        warnings.warn("stft: Input data is complex, switching to return_onesided=False",
                      UserWarning, stacklevel=2)
    z = _segments_fft(xm, win, nperseg, nstep, nfft, _detrend_func(detrend, name), onesided)
    if scaling == "spectrum":
        scale = fnp.divide(1.0, fnp.sum(win))
    else:
        scale = fnp.divide(1.0, fnp.sqrt(fnp.multiply(fs, fnp.real(fnp.sum(fnp.multiply(
            win, fnp.conj(win)))))))
    z = fnp.multiply(z, scale)  # (..., nseg, nfreq)
    z = fnp.moveaxis(z, -1, ax if ax < x.ndim - 1 else -2)
    nseg = z.shape[-1]
    t = [(nperseg / 2 + i * nstep) / fs for i in range(nseg)]
    if boundary is not None:
        t = [v - (nperseg / 2) / fs for v in t]
    times = fnp.asarray(t, dtype="float64", device=fnp.device(x))
    return _freqs(nfft, fs, onesided, x), times, fnp.astype(z, out_dt)


def _overlap_add(segs, nstep):
    """``sum_i`` of the segments (``(..., nseg, m)``) placed ``nstep`` apart: shape ``(...,
    m + (nseg - 1) nstep)``, by ``ceil(m / nstep)`` shifted sums of blocks."""
    nseg, m = segs.shape[-2], segs.shape[-1]
    r = -(-m // nstep)
    lead = [(0, 0)] * (segs.ndim - 2)
    if r * nstep > m:
        segs = fnp.pad(segs, lead + [(0, 0), (0, r * nstep - m)])
    blocks = fnp.reshape(segs, tuple(segs.shape[:-1]) + (r, nstep))
    total = None
    for j in range(r):
        part = fnp.pad(blocks[..., j, :], lead + [(j, r - 1 - j), (0, 0)])
        total = part if total is None else fnp.add(total, part)
    out = fnp.reshape(total, tuple(total.shape[:-2]) + ((nseg + r - 1) * nstep,))
    return out[..., : m + (nseg - 1) * nstep]


def istft(Zxx, fs=1.0, window="hann_periodic", nperseg=None, noverlap=None, nfft=None,
          input_onesided=True, boundary=True, time_axis=-1, freq_axis=-2,
          scaling="spectrum"):
    """The inverse short-time Fourier transform, as ``scipy.signal.istft`` (SciPy 1.17):
    each segment's inverse FFT (``irfft`` when ``input_onesided``) cut to ``nperseg``,
    rescaled ('spectrum': by ``sum(win)``, 'psd': ``sqrt(fs sum(win**2))``), windowed and
    overlap-added, divided by the overlap-added squared window where it exceeds 1e-10 (a
    UserWarning when it does not everywhere: the NOLA condition fails), the ``nperseg //
    2`` samples of each end dropped when ``boundary``. Returns ``(t, x)``, the time axis of
    ``x`` where ``time_axis`` was; ``t`` is ``arange(x.shape[0]) / fs`` as SciPy's (the
    length of the first axis). float32 for complex64 input with ``input_onesided``.
    ``window`` as in :func:`csd`. Differentiable in ``Zxx`` (and an array window)."""
    name = "istft"
    Z = fnp.asarray(Zxx)
    if Z.ndim < 2:
        raise ValueError(f"{name}: Input stft must be at least 2d!")
    fa, ta = _axis_list([freq_axis, time_axis], Z.ndim, name, "freq_axis/time_axis")
    if fa == ta:
        raise ValueError(f"{name}: Must specify differing time and frequency axes!")
    if scaling not in ("spectrum", "psd"):
        raise ValueError(f"{name}: scaling must be 'spectrum' or 'psd'; got {scaling!r}.")
    single = fnp.result_type(Z).name in ("complex64", "float32")
    nseg = Z.shape[ta]
    n_default = 2 * (Z.shape[fa] - 1) if input_onesided else Z.shape[fa]
    if nperseg is None:
        nperseg = n_default
    else:
        nperseg = int(nperseg)
        if nperseg < 1:
            raise ValueError(f"{name}: nperseg must be a positive integer; got {nperseg}.")
    if nfft is None:
        nfft = nperseg if (input_onesided and nperseg == n_default + 1) else n_default
        if nfft < nperseg:  # (was fft.irfft's "invalid number of data points (0)", or a
            # broadcasting error; SciPy's result there is not an inverse)
            raise ValueError(f"{name}: the STFT's {Z.shape[fa]} frequencies give segments "
                             f"of {nfft} samples, fewer than nperseg ({nperseg}); pass the "
                             f"nfft the STFT was computed with.")
    elif int(nfft) < nperseg:
        raise ValueError(f"{name}: nfft ({nfft}) must be greater than or equal to nperseg "
                         f"({nperseg}).")
    nfft = int(nfft)
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    if noverlap >= nperseg:
        raise ValueError(f"{name}: noverlap ({noverlap}) must be less than nperseg "
                         f"({nperseg}).")
    nstep = nperseg - noverlap
    outer = [i for i in range(Z.ndim) if i not in (fa, ta)]
    Z = fnp.permute_dims(fnp.astype(Z, "complex128"), tuple(outer + [fa, ta]))
    win, _, host = _window(window, nperseg, Z, name)
    if input_onesided:
        xs = fnp.fft.irfft(Z, n=nfft, axis=-2)
    else:
        xs = fnp.fft.ifft(Z, n=nfft, axis=-2)
    xs = fnp.matrix_transpose(xs[..., :nperseg, :])  # (..., nseg, nperseg)
    if scaling == "spectrum":
        xs = fnp.multiply(xs, fnp.sum(win))
    else:
        xs = fnp.multiply(xs, fnp.sqrt(fnp.multiply(fs, fnp.sum(fnp.multiply(win, win)))))
    x = _overlap_add(fnp.multiply(xs, win), nstep)
    w2 = fnp.multiply(win, win)
    norm = _overlap_add(fnp.broadcast_to(w2, (nseg, nperseg)), nstep)
    if host is not None:
        hw2 = _np.asarray(host) * _np.asarray(host)
        hnorm = _np.zeros(nperseg + (nseg - 1) * nstep, dtype=hw2.dtype)
        for i in range(nseg):
            hnorm[i * nstep: i * nstep + nperseg] += hw2
    if boundary:
        h = nperseg // 2
        x = x[..., h:-h] if h else x[..., 0:0]
        norm = norm[..., h:-h] if h else norm[..., 0:0]
        if host is not None:
            hnorm = hnorm[h:-h] if h else hnorm[0:0]
    if host is not None and not _np.all(_np.abs(hnorm) > 1e-10):
        warnings.warn("istft: NOLA condition failed, STFT may not be invertible."
                      + ("" if boundary else " Possibly due to missing boundary"),
                      UserWarning, stacklevel=2)
    x = fnp.divide(x, fnp.where(fnp.abs(norm) > 1e-10, norm, 1.0))
    if input_onesided:
        x = fnp.real(x)
        x = fnp.astype(x, "float32" if single else "float64")
    else:
        x = fnp.astype(x, "complex64" if single else "complex128")
    if x.ndim > 1 and ta != Z.ndim - 1:
        tpos = ta - 1 if fa < ta else ta
        x = fnp.moveaxis(x, -1, tpos)
    times = fnp.divide(fnp.astype(fnp.arange(x.shape[0], device=fnp.device(x)), "float64"), fs)
    return times, x
