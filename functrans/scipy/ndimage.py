"""``functrans.scipy.ndimage``: ``map_coordinates`` (nearest-neighbour and linear
interpolation of an n-dimensional array at arbitrary coordinates), as
``jax.scipy.ndimage``'s, differentiable in the input and (linear) in the coordinates, on every
backend.
"""

from __future__ import annotations

import itertools
import operator

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._mathematics import _operand

__all__ = ["map_coordinates"]

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


def map_coordinates(input, coordinates, order, mode="constant", cval=0.0):
    """The values of ``input`` at ``coordinates`` (one array of indices per axis of
    ``input``, all of one shape: the result's), by nearest-neighbour (``order=0``) or linear
    (``order=1``) interpolation, as ``jax.scipy.ndimage.map_coordinates``.

    ``mode`` says how the input extends beyond its edges: ``"constant"`` (``cval``
    outside, interpolated towards it: SciPy's ``"grid-constant"``), ``"nearest"``,
    ``"wrap"`` (periodic: SciPy's ``"grid-wrap"``), ``"mirror"``, ``"reflect"`` (SciPy's
    ``"grid-mirror"``); SciPy's ``"grid-*"`` names are accepted too. Differences from
    ``scipy.ndimage.map_coordinates``: ``order`` is required and only 0 and 1 are supported
    (no spline filtering: ``prefilter`` and ``output`` are not arguments); ``"constant"``
    and ``"wrap"`` are JAX's (SciPy's ``"grid-constant"`` and ``"grid-wrap"``: SciPy's own
    ``"constant"`` does not interpolate towards ``cval`` and its ``"wrap"`` has period
    ``n - 1``). The coordinates broadcast together. Integer input gives integer output,
    rounded half away from zero, as both; boolean input is refused.
    Differences from JAX's, where SciPy's rule is followed: ``order=0`` takes the grid point
    ``floor(c + 0.5)`` (a coordinate half-way between two points goes up: -0.5 reads index
    0, where JAX rounds half away from zero to -1), and for integer input ``cval`` is used
    as given in the interpolation (JAX first casts it to the input's dtype: 1.5 becomes 1).
    The derivative in the coordinates is that of the linear interpolant (0 for
    ``order=0``, one-sided at the grid points)."""
    name = "functrans.scipy.ndimage.map_coordinates"
    if isinstance(order, bool) or not isinstance(order, int):
        try:
            order = operator.index(order)
        except TypeError:
            raise TypeError(f"{name}: order must be an integer; got {order!r}") from None
    if order not in (0, 1):
        if 2 <= order <= 5:
            raise NotImplementedError(f"{name}: order={order} (spline interpolation) is not "
                                      f"supported; order must be 0 or 1, as JAX's")
        raise ValueError(f"{name}: order must be 0 or 1; got {order}")
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {sorted(_MODES)}; got {mode!r}")
    mode = _MODES[mode]
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
    work = fnp.astype(x, fnp.float64) if is_int else x
    single = _dt.as_dtype(work.dtype) in (_dt.float32, _dt.complex64)
    real = fnp.float32 if single else fnp.float64
    coords = [fnp.asarray(c, device=fnp.device(x)) if not hasattr(c, "shape") else c
              for c in coords]
    coords = [fnp.astype(c, real) for c in coords]
    coords = fnp.broadcast_arrays(*coords)
    shape = tuple(x.shape)
    # per axis: a list of (index into [0, n), where valid or None, weight or None)
    per_axis = []
    for c, n in zip(coords, shape):
        if order == 0:
            i = fnp.astype(fnp.floor(c + 0.5), fnp.int64)
            per_axis.append([(*_in_range(i, n, mode), None)])
        else:
            f = fnp.floor(c)
            i = fnp.astype(f, fnp.int64)
            w1 = fnp.subtract(c, f)
            per_axis.append([(*_in_range(i, n, mode), 1.0 - w1),
                             (*_in_range(i + 1, n, mode), w1)])
    flat = fnp.reshape(work, (-1,))
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
            val = fnp.where(valid, val, fnp.asarray(cval, dtype=work.dtype,
                                                    device=fnp.device(x)))
        if weight is not None:
            val = fnp.multiply(val, weight)
        out = val if out is None else fnp.add(out, val)
    if is_int:
        out = fnp.astype(_round_half_away(out), x.dtype)
    return out
