"""``functrans.scipy.ndimage``: ``map_coordinates`` (interpolation of an n-dimensional
array at arbitrary coordinates: nearest-neighbour and linear, as ``jax.scipy.ndimage``'s, and
SciPy's B-splines of order 2 to 5), ``spline_filter`` and ``spline_filter1d``, differentiable
in the input and in the coordinates, on every backend.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator

import numpy as _np  # the spline prefilter's matrices, built on the host

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._mathematics import _operand
from .special import _concrete_behind, _maybe_nonfinite

__all__ = ["map_coordinates", "spline_filter", "spline_filter1d"]

# JAX's modes, and SciPy's names for the same boundary rules
_MODES = {"constant": "constant", "nearest": "nearest", "wrap": "wrap", "mirror": "mirror",
          "reflect": "reflect", "grid-constant": "constant", "grid-wrap": "wrap",
          "grid-mirror": "reflect"}


def _in_range(i, n, mode):
    """Grid index ``i`` (int64) of an axis of length ``n`` mapped into ``[0, n)`` by
    ``mode``, and where it is inside the data (``None``: everywhere)."""
    if mode == "nearest":
        return fnp.clip(i, 0, n - 1), None
    if mode == "wrap":
        return fnp.remainder(i, n), None
    if mode == "mirror":  # d c b | a b c d | c b a: period 2n - 2
        if n == 1:
            return fnp.zeros_like(i), None
        k = fnp.remainder(i, 2 * n - 2)
        return fnp.where(k >= n, 2 * n - 2 - k, k), None
    if mode == "reflect":  # d c b a | a b c d | d c b a: period 2n
        k = fnp.remainder(i, 2 * n)
        return fnp.where(k >= n, 2 * n - 1 - k, k), None
    return fnp.clip(i, 0, n - 1), (i >= 0) & (i < n)


def _round_half_away(x):
    return fnp.sign(x) * fnp.floor(fnp.abs(x) + 0.5)


# -- B-spline interpolation (orders 2 to 5), SciPy's ----------------------------------------

# the poles of the B-spline prefilters (Unser, Aldroubi and Eden, 1991)
_POLES = {
    2: (math.sqrt(8.0) - 3.0,),
    3: (math.sqrt(3.0) - 2.0,),
    4: (math.sqrt(664.0 - math.sqrt(438976.0)) + math.sqrt(304.0) - 19.0,
        math.sqrt(664.0 + math.sqrt(438976.0)) - math.sqrt(304.0) - 19.0),
    5: (math.sqrt(67.5 - math.sqrt(4436.25)) + math.sqrt(26.25) - 6.5,
        math.sqrt(67.5 + math.sqrt(4436.25)) - math.sqrt(26.25) - 6.5)}

# SciPy's modes for order > 1: how the prefilter starts its recursions (the extension of the
# samples it assumes), and how the interpolation extends the coefficients beyond the array
_SPLINE_MODES = ("constant", "grid-constant", "nearest", "mirror", "reflect", "grid-mirror",
                 "wrap", "grid-wrap")
_FILTER_START = {"constant": "mirror", "grid-constant": "mirror", "mirror": "mirror",
                 "wrap": "mirror", "grid-wrap": "wrap", "nearest": "reflect",
                 "reflect": "reflect", "grid-mirror": "reflect"}
_COEF_EXTENSION = {"constant": "mirror", "mirror": "mirror", "wrap": "mirror",
                   "reflect": "reflect", "grid-mirror": "reflect", "grid-wrap": "wrap",
                   "nearest": "clamp", "grid-constant": "cval"}
_NPAD = 12  # samples SciPy pads with before prefiltering for 'nearest' and 'grid-constant'


@functools.lru_cache(maxsize=64)
def _filter_matrix(n, order, start):
    """The ``n x n`` matrix of SciPy's in-place prefilter along an axis of ``n`` samples
    (the recursion run on the identity's columns at once, so the rounding is SciPy's)."""
    c = _np.eye(n)
    if n == 1:
        return c
    gain = 1.0
    for z in _POLES[order]:
        gain *= (1.0 - z) * (1.0 - 1.0 / z)
    c *= gain
    for z in _POLES[order]:
        if start == "mirror":  # whole-sample symmetric extension
            zn1 = z ** (n - 1)
            acc = c[0] + zn1 * c[n - 1]
            zi = z
            for i in range(1, n - 1):
                acc = acc + zi * (c[i] + zn1 * c[n - 1 - i])
                zi *= z
            c[0] = acc / (1.0 - zn1 * zn1)
        elif start == "wrap":  # periodic
            acc = c[0].copy()
            zi = z
            for i in range(1, n):
                acc = acc + zi * c[n - i]
                zi *= z
            c[0] = acc / (1.0 - zi)
        else:  # half-sample symmetric
            zn = z ** n
            first = c[0].copy()
            c[0] = c[0] + zn * c[n - 1]
            zi = z
            for i in range(1, n):  # (at i = n - 1 this reads the running sum, as SciPy's)
                c[0] = c[0] + zi * (c[i] + zn * c[n - 1 - i])
                zi *= z
            c[0] = c[0] * (z / (1.0 - zn * zn)) + first
        for i in range(1, n):
            c[i] = c[i] + z * c[i - 1]
        if start == "mirror":
            c[n - 1] = (z * c[n - 2] + c[n - 1]) * (z / (z * z - 1.0))
        elif start == "wrap":
            acc = c[n - 1].copy()
            zi = z
            for i in range(n - 1):
                acc = acc + zi * c[i]
                zi *= z
            c[n - 1] = acc * (z / (zi - 1.0))
        else:
            c[n - 1] = c[n - 1] * (z / (z - 1.0))
        for i in range(n - 2, -1, -1):
            c[i] = z * (c[i + 1] - c[i])
    c.flags.writeable = False
    return c


def _check_order(order, name, low):
    if isinstance(order, bool) or not isinstance(order, int):
        try:
            order = operator.index(order)
        except TypeError:
            raise TypeError(f"{name}: order must be an integer; got {order!r}") from None
    if not low <= order <= 5:
        raise ValueError(f"{name}: spline order must be between {low} and 5; got {order}")
    return order


def _check_spline_mode(mode, name):
    if mode not in _SPLINE_MODES:
        raise ValueError(f"{name}: mode must be one of {sorted(_SPLINE_MODES)}; got {mode!r}")


def _check_output(output, name):
    """SciPy's ``output``: here a float dtype only (functrans never writes into arrays)."""
    # (a dtype of any library: np.dtype("float32") has a shape too, and was refused as an
    # array)
    dt = _dt.float64 if output is None else _dt.as_dtype(output, strict=False)
    if dt is None:
        if hasattr(output, "shape"):
            raise TypeError(f"{name}: output must be a dtype (functrans returns a new array "
                            f"and never writes into one); got an array")
        raise TypeError(f"{name}: output must be float32 or float64; got {output!r}")
    if dt.name not in ("float32", "float64"):
        raise TypeError(f"{name}: output must be float32 or float64; got {dt.name}")
    return dt.name


def _filter_axis(x, order, axis, start):
    """``x`` (float64 or complex128) with the prefilter applied along ``axis``."""
    n = x.shape[axis]
    if n <= 1:
        return x
    f = fnp.asarray(_filter_matrix(n, order, start).tolist(), dtype=fnp.float64,
                    device=fnp.device(x))
    moved = fnp.moveaxis(x, axis, -1)
    return fnp.moveaxis(fnp.matmul(moved, fnp.matrix_transpose(f)), -1, axis)


def _filter_input(input, name):
    x = _operand(input)
    if not hasattr(x, "shape"):
        x = fnp.asarray(x)
    if fnp.isdtype(x.dtype, "bool"):
        raise TypeError(f"{name}: boolean input is not supported")
    cplx = fnp.isdtype(x.dtype, "complex floating")
    return fnp.astype(x, fnp.complex128 if cplx else fnp.float64), cplx


def _cast_out(y, out_dt, cplx):
    if cplx:
        return fnp.astype(y, "complex64" if out_dt == "float32" else "complex128")
    return fnp.astype(y, out_dt)


def spline_filter1d(input, order=3, axis=-1, output=_np.float64, mode="mirror"):
    """The coefficients of the B-spline of order ``order`` (2 to 5; 0 and 1 return the
    input) interpolating ``input`` along ``axis``, as ``scipy.ndimage.spline_filter1d``:
    SciPy's recursive prefilter, its start chosen by ``mode`` ('mirror', the default,
    'constant', 'grid-constant' and 'wrap' assume a whole-sample symmetric extension;
    'reflect', 'grid-mirror' and 'nearest' a half-sample symmetric one; 'grid-wrap' a
    periodic one). The result is ``output`` (float64 by default, or float32; complex input
    gives the complex dtype of that precision). Written as one product with an ``n x n``
    matrix per axis (built on the host, ``n`` the axis' length), so it is linear and
    differentiable on every backend. ``output`` may not be an array (nothing is written in
    place)."""
    name = "functrans.scipy.ndimage.spline_filter1d"
    order = _check_order(order, name, 0)
    _check_spline_mode(mode, name)
    out_dt = _check_output(output, name)
    x, cplx = _filter_input(input, name)
    if x.ndim == 0:
        return _cast_out(x, out_dt, cplx)
    ax = operator.index(axis)
    if not -x.ndim <= ax < x.ndim:
        raise ValueError(f"{name}: axis {ax} is out of bounds for an input of {x.ndim} "
                         f"dimensions")
    if order > 1:
        x = _filter_axis(x, order, ax % x.ndim, _FILTER_START[mode])
    return _cast_out(x, out_dt, cplx)


def spline_filter(input, order=3, output=_np.float64, mode="mirror"):
    """:func:`spline_filter1d` along every axis in turn (the multidimensional B-spline
    coefficients of ``input``), as ``scipy.ndimage.spline_filter`` (order 2 to 5)."""
    name = "functrans.scipy.ndimage.spline_filter"
    order = _check_order(order, name, 2)
    _check_spline_mode(mode, name)
    out_dt = _check_output(output, name)
    x, cplx = _filter_input(input, name)
    for ax in range(x.ndim):
        x = _filter_axis(x, order, ax, _FILTER_START[mode])
    return _cast_out(x, out_dt, cplx)


def _spline_weights(t, order):
    """The ``order + 1`` B-spline weights of the coefficients from ``start`` on, at the
    offset ``t`` of a coordinate from its nearest knot (SciPy's polynomials; the last weight
    makes the sum 1)."""
    y, z = t, 1.0 - t
    if order == 2:
        h = 0.5 - t
        w = [0.5 * h * h, 0.75 - t * t]
    elif order == 3:
        w = [z * z * z / 6.0, (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0,
             (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0]
    elif order == 4:
        sq = t * t
        p = 1.0 + t
        h = 0.5 - t
        hh = h * h
        w = [hh * hh / 24.0,
             p * (p * (p * (5.0 - p) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0,
             sq * (sq * 0.25 - 0.625) + 115.0 / 192.0,
             z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0]
    else:
        yy, zz = y * y, z * z
        p, q = y + 1.0, z + 1.0
        h = 1.0 - t
        hh = h * h
        w = [h * hh * hh / 120.0,
             p * (p * (p * (p * (p / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425,
             yy * (yy * (0.25 - y / 12.0) - 0.5) + 0.55,
             zz * (zz * (0.25 - z / 12.0) - 0.5) + 0.55,
             q * (q * (q * (q * (q / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425]
    last = 1.0 - w[0]
    for v in w[1:]:
        last = last - v
    return w + [last]


def _fold_coordinate(c, n, mode):
    """A coordinate outside ``[0, n - 1]`` brought inside by ``mode`` (SciPy's rules for
    'mirror', 'reflect'/'grid-mirror', 'wrap' and 'grid-wrap'), and where it lies outside
    for 'constant' (None otherwise)."""
    if mode == "constant":
        return c, (c < 0) | (c > n - 1)
    if n <= 1:
        return fnp.zeros_like(c), None
    if mode == "mirror":
        p = 2 * n - 2
        lo = p * fnp.trunc(-c / p) + c
        lo = fnp.where(lo <= 1 - n, lo + p, -lo)
        hi = c - p * fnp.trunc(c / p)
        hi = fnp.where(hi >= n, p - hi, hi)
    elif mode in ("reflect", "grid-mirror"):
        p = 2 * n
        lo = fnp.where(c < -p, p * fnp.trunc(-c / p) + c, c)
        lo = fnp.where(lo < -n, lo + p, -lo - 1)
        hi = c - p * fnp.trunc(c / p)
        hi = fnp.where(hi >= n, p - hi - 1, hi)
    elif mode == "wrap":
        p = n - 1
        lo = c + p * (fnp.trunc(-c / p) + 1)
        hi = c - p * fnp.trunc(c / p)
    else:  # grid-wrap
        lo = c + n * (fnp.trunc((-1 - c) / n) + 1)
        hi = c - n * fnp.trunc(c / n)
    return fnp.where(c < 0, lo, fnp.where(c > n - 1, hi, c)), None


def _extend_index(i, n, how):
    """Coefficient index ``i`` (int64) of an axis of ``n`` extended beyond it, and where it
    is inside (for 'cval': outside, the constant is read)."""
    if how == "clamp":
        return fnp.clip(i, 0, n - 1), None
    if how == "cval":
        return fnp.clip(i, 0, n - 1), (i >= 0) & (i < n)
    if how == "wrap":
        return fnp.remainder(i, n), None
    if n == 1:
        return fnp.zeros_like(i), None
    if how == "mirror":
        k = fnp.remainder(i, 2 * n - 2)
        return fnp.where(k >= n, 2 * n - 2 - k, k), None
    k = fnp.remainder(i, 2 * n)  # reflect
    return fnp.where(k >= n, 2 * n - 1 - k, k), None


def _spline_map(x, coords, order, mode, cval, prefilter):
    """``map_coordinates`` of order 2 to 5 (SciPy's), ``x`` float64 or complex128 and the
    coordinates float64 and broadcast."""
    npad = 0
    if prefilter:
        if mode in ("nearest", "grid-constant"):
            npad = _NPAD
            x = (fnp.pad(x, npad, mode="edge") if mode == "nearest" else
                 fnp.pad(x, npad, mode="constant", constant_values=cval))
        for ax in range(x.ndim):
            x = _filter_axis(x, order, ax, _FILTER_START[mode])
    shape = tuple(x.shape)
    how = _COEF_EXTENSION[mode]
    per_axis, outside = [], None
    for c, n in zip(coords, shape):
        c = c + npad if npad else c
        if mode not in ("nearest", "grid-constant"):
            c, out = _fold_coordinate(c, n, mode)
            if out is not None:
                outside = out if outside is None else outside | out
                c = fnp.where(out, fnp.zeros_like(c), c)  # (a safe value, not used)
        knot = fnp.floor(c) if order % 2 else fnp.floor(c + 0.5)
        start = fnp.astype(knot, fnp.int64) - order // 2
        weights = _spline_weights(fnp.subtract(c, knot), order)
        per_axis.append([(*_extend_index(start + k, n, how), w)
                         for k, w in enumerate(weights)])
    fill = fnp.asarray(cval, dtype=x.dtype, device=fnp.device(x))
    out = _weighted_corners(x, shape, per_axis, fill)
    if outside is not None:
        out = fnp.where(outside, fill, out)
    return out


def _weighted_corners(x, shape, per_axis, fill):
    """The sum over the corners of the interpolation stencil (one list of ``(index, valid,
    weight)`` per axis; ``valid`` None where every index is in range, ``weight`` None for 1)
    of ``x``'s value there (``fill`` where not valid) times the corner's weight."""
    flat = fnp.reshape(x, (-1,))
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    out = None
    for corner in itertools.product(*per_axis):
        lin, valid, weight = None, None, None
        for (i, v, w), st in zip(corner, strides):
            term = i * st if st != 1 else i
            lin = term if lin is None else lin + term
            if v is not None:
                valid = v if valid is None else valid & v
            if w is not None:
                weight = w if weight is None else fnp.multiply(weight, w)
        val = fnp.reshape(fnp.take(flat, fnp.reshape(lin, (-1,))), tuple(lin.shape))
        if valid is not None:
            val = fnp.where(valid, val, fill)
        if weight is not None:
            val = fnp.multiply(val, weight)
        out = val if out is None else fnp.add(out, val)
    return out


def _no_samples(x, coords, mode, cval, is_int, name):
    """``map_coordinates`` of an input with no samples along an axis: every coordinate lies
    outside it, so the constant modes give ``cval`` (SciPy's value); the others have nothing
    to read (SciPy reads uninitialised memory there)."""
    if mode not in ("constant", "grid-constant"):
        raise ValueError(f"{name}: the input has no samples along axis "
                         f"{tuple(x.shape).index(0)} (shape {tuple(x.shape)}), so mode "
                         f"{mode!r} has nothing to read; only 'constant' and 'grid-constant' "
                         f"(cval everywhere) are defined there")
    coords = [c if hasattr(c, "shape") else fnp.asarray(c, device=fnp.device(x))
              for c in coords]
    shape = fnp.broadcast_shapes(*[tuple(c.shape) for c in coords])
    if not is_int:
        return fnp.full(shape, cval, dtype=x.dtype, device=fnp.device(x))
    info = fnp.iinfo(x.dtype)
    v = _round_half_away(fnp.full(shape, cval, dtype=fnp.float64, device=fnp.device(x)))
    return fnp.astype(fnp.clip(v, float(info.min), float(info.max)), x.dtype)


def _known_nonfinite(coords):
    """Whether a coordinate is known to be nan or infinite (one host read each, through the
    eager transforms and vmap). Staged coordinates (jit) count as finite: the replacement
    below cost jit(grad) of an order-1 map of 1000 points 57 % (0.146 -> 0.23 ms) for
    every call; there a non-finite point keeps the plain path (nan values and, as JAX's,
    nan derivatives at the samples it touches; order 0 reads a sample)."""
    return any(_concrete_behind(c) is not None and _maybe_nonfinite(c) for c in coords)


def _finite_coordinates(coords, shape, mode):
    """The coordinates with their nan and infinite entries replaced by finite ones, where
    all of a point's are finite (None: mode 'nearest') and where one is nan (None: modes
    without a limit at infinity); :func:`_nonfinite_values` sets the value there. A
    non-finite coordinate's weights were nan, and its nan times the zero cotangent of the
    value replaced made the derivatives in the input nan at the samples it touched, for
    every other point too. 'nearest' takes an infinite coordinate to the edge it tends to."""
    safe, finite, nan = [], None, None
    nearest = mode == "nearest"
    constant = mode in ("constant", "grid-constant")
    for c, n in zip(coords, shape):
        fin = fnp.isfinite(c)
        # (constants of c's dtype: a float32 coordinate stays float32)
        repl = fnp.where(fnp.greater(c, 0.0), fnp.asarray(float(n - 1), dtype=c.dtype,
                                                          device=fnp.device(c)),
                         0.0) if nearest else 0.0
        safe.append(fnp.where(fin, c, repl))
        if not nearest:
            finite = fin if finite is None else fnp.logical_and(finite, fin)
        if nearest or constant:
            nan_k = fnp.isnan(c)
            nan = nan_k if nan is None else fnp.logical_or(nan, nan_k)
    return safe, finite, nan


def _nonfinite_values(out, finite, nan, cval):
    """``out`` with nan where a coordinate is nan, and where one is infinite (none nan) the
    limit: ``cval`` in the constant modes, nan in the periodic and mirrored ones (no
    limit); 'nearest' had its edge value from :func:`_finite_coordinates`."""
    if finite is None:  # nearest
        return fnp.where(nan, math.nan, out)
    if nan is None:  # no limit at infinity
        return fnp.where(finite, out, math.nan)
    dev = fnp.device(out)
    limit = fnp.where(nan, fnp.asarray(math.nan, dtype=out.dtype, device=dev),
                      fnp.asarray(cval, dtype=out.dtype, device=dev))
    return fnp.where(finite, out, limit)


def map_coordinates(input, coordinates, order, mode="constant", cval=0.0, prefilter=True):
    """The values of ``input`` at ``coordinates`` (one array of indices per axis of
    ``input``, all of one shape: the result's), by nearest-neighbour (``order=0``) or linear
    (``order=1``) interpolation, as ``jax.scipy.ndimage.map_coordinates``.

    ``mode`` says how the input extends beyond its edges: ``"constant"`` (``cval``
    outside, interpolated towards it: SciPy's ``"grid-constant"``), ``"nearest"``,
    ``"wrap"`` (periodic: SciPy's ``"grid-wrap"``), ``"mirror"``, ``"reflect"`` (SciPy's
    ``"grid-mirror"``); SciPy's ``"grid-*"`` names are accepted too. Differences from
    ``scipy.ndimage.map_coordinates`` for orders 0 and 1: ``order`` is required (as JAX's;
    ``output`` is not an argument); ``"constant"`` and ``"wrap"`` are JAX's (SciPy's
    ``"grid-constant"`` and ``"grid-wrap"``: SciPy's own ``"constant"`` does not
    interpolate towards ``cval`` and its ``"wrap"`` has period ``n - 1``). The coordinates
    broadcast together. Integer input gives integer output, rounded half away from zero,
    as both; boolean input is refused.
    Differences from JAX's, where SciPy's rule is followed: ``order=0`` takes the grid point
    ``floor(c + 0.5)`` (a coordinate half-way between two points goes up: -0.5 reads index
    0, where JAX rounds half away from zero to -1; in 'mirror' and 'reflect' the coordinate
    is folded into the array first, as SciPy's), and for integer input ``cval`` is used
    as given in the interpolation (JAX first casts it to the input's dtype: 1.5 becomes 1).
    The derivative in the coordinates is that of the linear interpolant (0 for
    ``order=0``, one-sided at the grid points). A nan coordinate gives nan, an infinite one
    the limit (``cval`` in the constant modes, the edge value for 'nearest', nan in the
    others), for every order; the other points' derivatives stay finite (JAX's are nan
    at the samples such a point touches; SciPy's values there vary by mode). Eagerly
    only: under jit such a point takes the plain path (JAX's behaviour; order 0 reads a
    sample), which costs nothing on finite coordinates.

    ``order`` 2 to 5 (beyond JAX, which stops at 1) is SciPy's B-spline interpolation,
    with SciPy's modes and values: the input is prefiltered (:func:`spline_filter` with
    ``mode``, after SciPy's padding by 12 samples for 'nearest' and 'grid-constant'; with
    ``prefilter=False`` the input is taken for the coefficients) and the spline of those
    coefficients evaluated, the coefficients extended beyond the array as SciPy does for
    each mode. Here every mode is SciPy's: 'constant' gives ``cval`` outside ``[0, n - 1]``
    without interpolating towards it (SciPy's, unlike ``order <= 1`` above: use
    'grid-constant' for that) and 'wrap' has period ``n - 1`` ('grid-wrap': ``n``). Computed
    in float64 (complex128) and cast to the input's dtype (integers rounded half away from
    zero and saturated), as SciPy's; differentiable in the input (the prefilter is one
    product with an ``n x n`` matrix per axis) and in the coordinates (the spline's
    derivative, continuous for order 2 and up).

    An input with no samples along an axis gives ``cval`` at every coordinate in the
    constant modes (all lie outside, SciPy's value) and a ValueError in the others."""
    name = "functrans.scipy.ndimage.map_coordinates"
    if isinstance(order, bool) or not isinstance(order, int):
        try:
            order = operator.index(order)
        except TypeError:
            raise TypeError(f"{name}: order must be an integer; got {order!r}") from None
    if not 0 <= order <= 5:
        raise ValueError(f"{name}: order must be between 0 and 5; got {order}")
    if order > 1:
        _check_spline_mode(mode, name)
    elif mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {sorted(_MODES)}; got {mode!r}")
    spline_mode, mode = mode, _MODES.get(mode)
    x = _operand(input)
    if not hasattr(x, "shape"):
        x = fnp.asarray(x)
    if x.ndim == 0:
        raise ValueError(f"{name}: the input must have at least one dimension")
    if fnp.isdtype(x.dtype, "bool"):
        raise TypeError(f"{name}: boolean input is not supported")
    if hasattr(coordinates, "shape"):
        coords = [coordinates[d, ...] for d in range(coordinates.shape[0])] if coordinates.ndim \
            else [coordinates]
    else:
        coords = [_operand(c) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(f"{name}: coordinates must give one array per axis of the input "
                         f"({x.ndim}); got {len(coords)}")
    is_int = fnp.isdtype(x.dtype, "integral")
    if 0 in tuple(x.shape):
        return _no_samples(x, coords, spline_mode, cval, is_int, name)
    if order > 1:
        cplx = fnp.isdtype(x.dtype, "complex floating")
        work = fnp.astype(x, fnp.complex128 if cplx else fnp.float64)
        coords = [fnp.asarray(c, device=fnp.device(x)) if not hasattr(c, "shape") else c
                  for c in coords]
        coords = fnp.broadcast_arrays(*[fnp.astype(c, fnp.float64) for c in coords])
        nonfinite = _known_nonfinite(coords)
        if nonfinite:
            coords, finite, nan = _finite_coordinates(coords, tuple(x.shape), spline_mode)
        out = _spline_map(work, coords, order, spline_mode, cval, prefilter)
        if nonfinite:
            out = _nonfinite_values(out, finite, nan, cval)
        if is_int:  # (the spline overshoots: SciPy saturates at the dtype's range)
            info = fnp.iinfo(x.dtype)
            return fnp.astype(fnp.clip(_round_half_away(out), float(info.min),
                                       float(info.max)), x.dtype)
        return fnp.astype(out, x.dtype)
    work = fnp.astype(x, fnp.float64) if is_int else x
    single = _dt.as_dtype(work.dtype) in (_dt.float32, _dt.complex64)
    real = fnp.float32 if single else fnp.float64
    coords = [fnp.asarray(c, device=fnp.device(x)) if not hasattr(c, "shape") else c
              for c in coords]
    coords = [fnp.astype(c, real) for c in coords]
    coords = fnp.broadcast_arrays(*coords)
    shape = tuple(x.shape)
    nonfinite = _known_nonfinite(coords)
    if nonfinite:
        coords, finite, nan = _finite_coordinates(coords, shape, mode)
    # per axis: a list of (index into [0, n), where valid or None, weight or None)
    per_axis = []
    for c, n in zip(coords, shape):
        if order == 0:
            if mode in ("mirror", "reflect"):
                # SciPy's order: the coordinate folded into the array first, then rounded (a
                # tie outside the array goes up in the folded coordinate, not the given one)
                c = _fold_coordinate(c, n, mode)[0]
            i = fnp.astype(fnp.floor(c + 0.5), fnp.int64)
            per_axis.append([(*_in_range(i, n, mode), None)])
        else:
            f = fnp.floor(c)
            i = fnp.astype(f, fnp.int64)
            w1 = fnp.subtract(c, f)
            per_axis.append([(*_in_range(i, n, mode), 1.0 - w1),
                             (*_in_range(i + 1, n, mode), w1)])
    fill = fnp.asarray(cval, dtype=work.dtype, device=fnp.device(x))
    out = _weighted_corners(work, shape, per_axis, fill)
    if nonfinite:
        out = _nonfinite_values(out, finite, nan, cval)
    if is_int:
        out = fnp.astype(_round_half_away(out), x.dtype)
    return out
