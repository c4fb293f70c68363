"""``functrans.scipy.interpolate``: ``RegularGridInterpolator`` (linear and nearest-neighbour
interpolation on a rectilinear grid), as ``jax.scipy.interpolate``'s, differentiable in the
values, the query points and the grid, on every backend.

One-dimensional linear interpolation is ``functrans.numpy.interp``.
"""

from __future__ import annotations

import itertools
import math

from .. import dtypes as _dt
from .. import numpy as fnp
from ..core import Tracer as _Tracer
from ..numpy._mathematics import _operand
from ..tree import register_pytree_node_class

__all__ = ["RegularGridInterpolator"]

_NAME = "functrans.scipy.interpolate.RegularGridInterpolator"
_METHODS = ("linear", "nearest")


def _check_method(method):
    if method not in _METHODS:
        if method in ("slinear", "cubic", "quintic", "pchip"):
            raise NotImplementedError(f"{_NAME}: method {method!r} is not supported; method "
                                      f"must be 'linear' or 'nearest', as JAX's")
        raise ValueError(f"{_NAME}: method must be 'linear' or 'nearest'; got {method!r}")
    return method


def _floating(a):
    a = _operand(a)
    if not hasattr(a, "shape"):
        a = fnp.asarray(a)
    if fnp.isdtype(a.dtype, ("integral", "bool")):
        a = fnp.astype(a, fnp.float64)
    return a


@register_pytree_node_class
class RegularGridInterpolator:
    """Interpolation of ``values`` given on the rectilinear grid ``points`` (a sequence of
    ``d`` strictly ascending 1-d arrays; ``values`` of shape ``(len(p1), ..., len(pd),
    ...)``), as ``jax.scipy.interpolate.RegularGridInterpolator``: calling it on query points
    ``xi`` of shape ``(..., d)`` (or a tuple of ``d`` arrays that broadcast together; a 1-d
    array holds points of ``d`` coordinates each, as SciPy reads it) gives the interpolated
    values, of shape ``xi.shape[:-1] + values.shape[d:]``.

    ``method`` is ``"linear"`` (the default; at least 2 points per axis) or ``"nearest"``
    (ties go to the lower grid point, as SciPy); a query point outside the grid along any
    axis gives ``fill_value`` (nan by default), or is extrapolated linearly (nearest: the
    edge value) when ``fill_value`` is None; a point with a nan coordinate gives nan (as
    SciPy's), and a nan or infinite point leaves the others' derivatives finite. It is a pytree (its grid, values and
    ``fill_value`` are its leaves; a number given as ``fill_value`` is kept as a 0-d array
    of the values' library and device), so it can be passed through ``jit``, ``vmap`` and
    ``grad``.

    Differences from SciPy's: ``bounds_error=False`` is the default and ``True`` raises
    NotImplementedError (as JAX's: out-of-grid points cannot be detected without reading
    the values); methods ``"slinear"``, ``"cubic"``, ``"quintic"`` and ``"pchip"`` raise
    NotImplementedError; descending grids are refused (ValueError, checked when the grid is
    not traced), as is a ``fill_value`` that is not a number; no ``solver`` or ``nu``.
    Differences from JAX's: the grid is checked (lengths, ascending order) as SciPy checks
    it."""

    def __init__(self, points, values, method="linear", bounds_error=False,
                 fill_value=math.nan):
        _check_method(method)
        if bounds_error:
            raise NotImplementedError(f"{_NAME}: bounds_error=True is not supported (as in "
                                      f"JAX); use bounds_error=False with a fill_value")
        values = _floating(values)
        grid = tuple(_floating(p) for p in points)
        if len(grid) > values.ndim:
            raise ValueError(f"{_NAME}: there are {len(grid)} point arrays, but values has "
                             f"{values.ndim} dimensions")
        for i, p in enumerate(grid):
            if p.ndim != 1:
                raise ValueError(f"{_NAME}: the points in dimension {i} must be 1-dimensional")
            if p.shape[0] != values.shape[i]:
                raise ValueError(f"{_NAME}: there are {p.shape[0]} points and "
                                 f"{values.shape[i]} values in dimension {i}")
            if p.shape[0] == 0:  # (was an IndexError from take at the first call)
                raise ValueError(f"{_NAME}: there are no points in dimension {i}; every "
                                 f"dimension needs at least one")
            if method == "linear" and p.shape[0] < 2:
                raise ValueError(f"{_NAME}: there are {p.shape[0]} points in dimension {i}, "
                                 f"but method 'linear' requires at least 2")
            if not isinstance(p, _Tracer) and p.shape[0] > 1 and not bool(
                    fnp.all(p[1:] > p[:-1])):
                raise ValueError(f"{_NAME}: the points in dimension {i} must be strictly "
                                 f"ascending")
        if fill_value is not None and not (isinstance(fill_value, (int, float, complex))
                                           or hasattr(fill_value, "dtype")):
            raise ValueError(f"{_NAME}: fill_value must be a number or None; got "
                             f"{fill_value!r}")
        if fill_value is not None and not hasattr(fill_value, "dtype"):
            # a number as a 0-d array of the values' library and device: a Python number
            # leaf would be differentiated (grad of the interpolator) as a NumPy value, which
            # does not mix with another library's values
            fill_value = fnp.asarray(fill_value, device=fnp.device(values))
        self.grid = grid
        self.values = values
        self.method = method
        self.bounds_error = bounds_error
        self.fill_value = fill_value

    def tree_flatten(self):
        return (self.grid, self.values, self.fill_value), (self.method, self.bounds_error)

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        obj.grid, obj.values, obj.fill_value = children
        obj.method, obj.bounds_error = aux
        return obj

    def _points(self, xi):
        d = len(self.grid)
        if isinstance(xi, tuple) and len(xi) == 1:
            xi = xi[0]  # (a one-tuple holds the points themselves, as SciPy reads it)
        if isinstance(xi, tuple):
            parts = [_floating(c) for c in xi]
            if len(parts) != d:
                raise ValueError(f"{_NAME}: the query points have {len(parts)} coordinate "
                                 f"arrays, but the grid has {d} dimensions")
            parts = fnp.broadcast_arrays(*parts)
            return fnp.stack(parts, axis=-1)
        xi = _floating(xi)
        if xi.ndim == 1 and xi.shape[0] % d == 0:
            # SciPy's and JAX's rule: a 1-d array is points of d coordinates each (one point
            # of a 2-d grid gives shape (1,), and values at n points of a 1-d grid, (n,))
            xi = fnp.reshape(xi, (-1, d))
        if xi.ndim == 0 or xi.shape[-1] != d:
            raise ValueError(f"{_NAME}: the query points have shape {tuple(xi.shape)}; their "
                             f"last axis must have the grid's {d} dimensions")
        return xi

    def __call__(self, xi, method=None):
        """The interpolated values at ``xi`` (``method`` overrides the constructor's)."""
        method = _check_method(self.method if method is None else method)
        grid, values = self.grid, self.values
        d = len(grid)
        xi = self._points(xi)
        lead = tuple(xi.shape[:-1])
        xi = fnp.reshape(xi, (-1, d))
        if method == "linear":
            for i, p in enumerate(grid):
                if p.shape[0] < 2:
                    raise ValueError(f"{_NAME}: there are {p.shape[0]} points in dimension "
                                     f"{i}, but method 'linear' requires at least 2")
        corners_per_axis, outside = [], None
        finite = fnp.isfinite(xi) if method == "linear" else None
        for k, g in enumerate(grid):
            x = xi[:, k]
            n = g.shape[0]
            if n == 1:
                idx = fnp.zeros_like(fnp.astype(x, fnp.int64))
                corners_per_axis.append([(idx, None)])
                t = None
            else:
                # linear: the weights of a point with a nan or infinite coordinate from a
                # point on the grid instead (its value is set below): its nan weights
                # times the zero cotangent of the value replaced made the derivatives in
                # the values nan at the corners it touched, for every other point too
                xw = x if finite is None else fnp.where(finite[:, k], x, g[0])
                idx = fnp.clip(fnp.searchsorted(fnp.stop_gradient(g),
                                                fnp.stop_gradient(xw)) - 1, 0, n - 2)
                lo, hi = fnp.take(g, idx), fnp.take(g, idx + 1)
                t = fnp.divide(fnp.subtract(xw, lo), fnp.subtract(hi, lo))
                if method == "linear":
                    corners_per_axis.append([(idx, 1.0 - t), (idx + 1, t)])
                else:
                    near = fnp.where(fnp.stop_gradient(t) <= 0.5, idx, idx + 1)
                    corners_per_axis.append([(near, None)])
            if self.fill_value is not None:
                out_k = fnp.logical_or(fnp.less(x, g[0]), fnp.greater(x, g[-1]))
                outside = out_k if outside is None else fnp.logical_or(outside, out_k)
        vshape = tuple(values.shape)
        trail = vshape[d:]
        flat = fnp.reshape(values, (math.prod(vshape[:d]),) + trail)
        strides = [1] * d
        for k in range(d - 2, -1, -1):
            strides[k] = strides[k + 1] * vshape[k + 1]
        result = None
        for corner in itertools.product(*corners_per_axis):
            lin, weight = None, None
            for (i, w), st in zip(corner, strides):
                term = i * st if st != 1 else i
                lin = term if lin is None else lin + term
                if w is not None:
                    weight = w if weight is None else fnp.multiply(weight, w)
            v = fnp.take(flat, lin, axis=0)
            if weight is not None:
                v = fnp.multiply(v, fnp.reshape(weight, (-1,) + (1,) * len(trail)))
            result = v if result is None else fnp.add(result, v)
        if self.fill_value is not None:
            fill = self.fill_value
            if not hasattr(fill, "dtype"):  # (a number put in by tree_unflatten)
                fill = fnp.asarray(fill, device=fnp.device(result))
            if not fnp.isdtype(result.dtype, "complex floating"):
                if fnp.isdtype(fill.dtype, "complex floating"):
                    result = fnp.astype(result, fnp.complex128 if _dt.as_dtype(result.dtype) is _dt.float64
                                        else fnp.complex64)
            fill = fnp.astype(fill, result.dtype)
            mask = fnp.reshape(outside, (-1,) + (1,) * len(trail))
            result = fnp.where(mask, fill, result)
        # a point with a nan coordinate gives nan, as SciPy's, even where another of its
        # coordinates is outside the grid; linear without a fill_value (extrapolating), an
        # infinite one too (as SciPy's: inf - inf in the weights)
        if finite is not None and self.fill_value is None:
            nan = fnp.logical_not(fnp.all(finite, axis=-1))
        else:
            nan = fnp.any(fnp.isnan(xi), axis=-1)
        result = fnp.where(fnp.reshape(nan, (-1,) + (1,) * len(trail)),
                           fnp.asarray(math.nan, dtype=result.dtype,
                                       device=fnp.device(result)), result)
        return fnp.reshape(result, lead + trail)
