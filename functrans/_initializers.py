"""``functrans.nn.initializers``: ``jax.nn.initializers``' weight initializers, drawing from
:mod:`functrans.random` keys, on every backend.

Each initializer is a function ``init(key, shape, dtype=...)`` returning an array of
``shape`` on the key's library and device; the factories (``normal(stddev)``,
``variance_scaling(scale, mode, distribution)``, ``glorot_uniform()``...) take JAX's
arguments and return such a function. The distributions and scale conventions are JAX's
(``fan_in``/``fan_out`` from ``in_axis``, ``out_axis`` and ``batch_axis``, the other axes a
convolution's receptive field; the truncated normal of ``variance_scaling`` cut at two
standard deviations and rescaled to the requested variance); the values are not JAX's,
since :mod:`functrans.random`'s normal samples are not bitwise JAX's (its uniforms are).

Differences from JAX: the default dtype is float64 (JAX's is float32 unless x64 is on); no
``out_sharding`` argument. Complex dtypes are taken where JAX takes them (``zeros``, ``ones``,
``constant``, ``normal``, ``variance_scaling`` and the schemes built on it, ``orthogonal``
and ``delta_orthogonal``), with JAX's distributions (a disk for ``"uniform"``, a
modulus-truncated complex normal, Haar unitary matrices). Every initializer takes float16
and bfloat16 (bfloat16 on a key of a library that has it, such as torch).
"""

from __future__ import annotations

import math
import operator
import sys as _sys
from typing import Protocol

import numpy as _np

from . import dtypes as _dt
from . import numpy as fnp
from . import random as _random
from .core import Tracer as _Tracer

# ``import functrans.nn.initializers`` finds this module (functrans.nn is a module, not a
# package: it exposes this one as its attribute ``initializers``)
_sys.modules.setdefault(__name__.rpartition(".")[0] + ".nn.initializers", _sys.modules[__name__])

__all__ = ["Initializer", "zeros", "ones", "constant", "uniform", "normal",
           "truncated_normal", "variance_scaling", "glorot_uniform", "glorot_normal",
           "xavier_uniform", "xavier_normal", "lecun_uniform", "lecun_normal", "he_uniform",
           "he_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "delta_orthogonal"]

# the standard deviation of a standard normal truncated to (-2, 2)
_TRUNCATED_STD = 0.87962566103423978


class Initializer(Protocol):
    """The type of an initializer: ``init(key, shape, dtype=None) -> array``."""

    def __call__(self, key, shape, dtype=None):
        ...


def _shape(shape, name):
    if isinstance(shape, bool):
        raise TypeError(f"functrans.nn.initializers.{name}: shape must be an int or a tuple "
                        f"of ints; got {shape!r}")
    try:
        return (operator.index(shape),)
    except TypeError:
        pass
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"functrans.nn.initializers.{name}: shape must be an int or a tuple "
                        f"of ints; got {shape!r}") from None


def _dtype(dtype, name, complex_ok=False):
    d = _dt.float64 if dtype is None else _dt.as_dtype(dtype)
    if complex_ok and d.kind == "c":
        return d
    if d.kind != "f":
        raise TypeError(f"functrans.nn.initializers.{name}: dtype must be a real floating "
                        f"dtype (float16, bfloat16, float32 or float64); got {d} (complex "
                        f"ones are taken by zeros, ones, constant, normal, variance_scaling "
                        f"and the schemes built on it, orthogonal and delta_orthogonal; not "
                        f"by uniform and truncated_normal, as JAX)")
    # (float16 and bfloat16: functrans.random draws every distribution in them; bfloat16
    # needs a key of a library that has it, such as torch)
    return d


def _scaled(x, scale, d):
    """``x * scale`` in ``x``'s dtype ``d``, as JAX's (which makes the scale an array of
    ``d``): a number (NumPy's too) weakly typed, an array or tracer cast to ``d``'s real type
    (complex scales: to ``d``); a float64 array scale made float32 weights float64."""
    if isinstance(scale, _np.generic):
        scale = scale.item()
    if isinstance(scale, (int, float, complex)):
        return x * scale
    rd = {_dt.complex64: _dt.float32, _dt.complex128: _dt.float64}.get(d, d)
    complex_scale = _dt.as_dtype(scale.dtype).kind == "c"
    # (fnp.multiply: a concrete array's own * may refuse a tracer, array-api-strict's does)
    return fnp.multiply(x, fnp.astype(scale, d if complex_scale else rd))


def _device(key):
    if key is None:
        return None
    if isinstance(key, _random.KeyArray):  # a typed key: its data's library and device
        key = _random.key_data(key)
    return fnp.device(key)


def zeros(key, shape, dtype=None):
    """An array of zeros (``key`` is only used for its library and device, and may be
    None)."""
    return fnp.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype, "zeros", True),
                     device=_device(key))


def ones(key, shape, dtype=None):
    """An array of ones (``key`` is only used for its library and device, and may be
    None)."""
    return fnp.ones(_shape(shape, "ones"), dtype=_dtype(dtype, "ones", True),
                    device=_device(key))


def constant(value, dtype=None):
    """An initializer filling arrays with ``value`` (a number, or an array that broadcasts
    to the shape)."""
    default = dtype

    def init(key, shape, dtype=default):
        d = _dtype(dtype, "constant", True)
        shape = _shape(shape, "constant")
        if hasattr(value, "shape"):
            return fnp.broadcast_to(fnp.astype(value, d), shape) * fnp.ones(
                shape, dtype=d, device=fnp.device(value))
        return fnp.full(shape, value, dtype=d, device=_device(key))
    return init


def uniform(scale=1e-2, dtype=None):
    """An initializer drawing uniformly from ``[0, scale)``."""
    default = dtype

    def init(key, shape, dtype=default):
        d = _dtype(dtype, "uniform")
        return _scaled(_random.uniform(key, _shape(shape, "uniform"), d), scale, d)
    return init


def normal(stddev=1e-2, dtype=None):
    """An initializer drawing from a normal distribution of mean 0 and standard deviation
    ``stddev``."""
    default = dtype

    def init(key, shape, dtype=default):
        d = _dtype(dtype, "normal", True)
        return _scaled(_random.normal(key, _shape(shape, "normal"), d), stddev, d)
    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """An initializer drawing ``stddev`` times a standard normal truncated to ``(lower,
    upper)`` (``stddev`` is that of the untruncated distribution: the samples' standard
    deviation is smaller, as in JAX)."""
    default = dtype

    def init(key, shape, dtype=default):
        d = _dtype(dtype, "truncated_normal")
        return _scaled(_random.truncated_normal(key, lower, upper,
                                                _shape(shape, "truncated_normal"), d), stddev, d)
    return init


def _size(shape, axes):
    if isinstance(axes, int):
        return shape[axes]
    return math.prod(shape[a] for a in axes)


def _fans(shape, in_axis, out_axis, batch_axis, name):
    """``(fan_in, fan_out)``: the input and output sizes times the receptive field's (the
    product of the axes that are none of in, out and batch)."""
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"functrans.nn.initializers.{name}: the fans of a "
                         f"{len(shape)}-dimensional shape {shape} need an explicit in_axis "
                         f"(the default -2 needs at least 2 dimensions)")
    try:
        in_size = _size(shape, in_axis)
        out_size = _size(shape, out_axis)
        batch_size = _size(shape, batch_axis)
    except IndexError:
        raise ValueError(f"functrans.nn.initializers.{name}: in_axis={in_axis}, "
                         f"out_axis={out_axis} or batch_axis={batch_axis} is out of range "
                         f"for shape {shape}") from None
    if math.prod(shape) == 0:
        return 0, 0  # (an empty array: no fan to divide by)
    receptive = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive, out_size * receptive


_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=None):
    """An initializer whose samples have mean 0 and variance ``scale / n``, ``n`` the fan
    chosen by ``mode`` (``"fan_in"``, ``"fan_out"``, ``"fan_avg"``: their mean,
    ``"fan_geo_avg"``: their geometric mean), drawn from ``distribution``:
    ``"truncated_normal"`` (a normal cut at two standard deviations, rescaled so its
    variance is ``scale / n``), ``"normal"`` or ``"uniform"`` (on ``[-a, a)``,
    ``a = sqrt(3 scale / n)``)."""
    if mode not in _MODES:
        raise ValueError(f"functrans.nn.initializers.variance_scaling: mode must be one of "
                         f"{_MODES}; got {mode!r}")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"functrans.nn.initializers.variance_scaling: distribution must be "
                         f"one of {_DISTRIBUTIONS}; got {distribution!r}")
    # a scale being differentiated or staged: an array (no host check; JAX's form, whose
    # derivative in it JAX gives too; a negative one gives nan, as JAX)
    traced = isinstance(scale, _Tracer)
    try:
        ok = traced or (not isinstance(scale, bool) and float(scale) >= 0)
    except (TypeError, ValueError):
        ok = False
    if not ok:  # (JAX takes a negative scale and returns nan)
        raise ValueError(f"functrans.nn.initializers.variance_scaling: scale must be a "
                         f"number >= 0 (the variance is scale / fan); got {scale!r}")
    default = dtype

    def init(key, shape, dtype=default):
        name = "variance_scaling"
        d = _dtype(dtype, name, True)
        shape = _shape(shape, name)
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis, name)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
             "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
        # a zero fan means an empty array (JAX divides by zero)
        if traced:
            return _traced_scale(key, shape, d, distribution, scale / n if n else scale * 0.0)
        variance = scale / n if n else 0.0
        if d.kind == "c":
            if distribution == "truncated_normal":
                return _complex_disk(key, shape, d, 2.0) * (
                    math.sqrt(variance) / _COMPLEX_TRUNCATED_STD)
            if distribution == "uniform":
                return _complex_disk(key, shape, d, None) * math.sqrt(variance)
        if distribution == "truncated_normal":
            return _random.truncated_normal(key, -2.0, 2.0, shape, d) * (
                math.sqrt(variance) / _TRUNCATED_STD)
        if distribution == "normal":
            return _random.normal(key, shape, d) * math.sqrt(variance)
        return _random.uniform(key, shape, d, -1.0, 1.0) * math.sqrt(3.0 * variance)
    return init


def _traced_scale(key, shape, d, distribution, variance):
    """:func:`variance_scaling`'s draw for a traced ``variance``: the samples times its root
    (its multiple), that factor in ``d``'s real type as JAX's."""
    rd = {_dt.complex64: _dt.float32, _dt.complex128: _dt.float64}.get(d, d)
    if d.kind == "c":
        upper, c = (2.0, 1.0 / _COMPLEX_TRUNCATED_STD) if distribution == "truncated_normal" \
            else (None, 1.0)
        z = (_complex_disk(key, shape, d, upper) if distribution != "normal"
             else _random.normal(key, shape, d))
    elif distribution == "truncated_normal":
        z, c = _random.truncated_normal(key, -2.0, 2.0, shape, d), 1.0 / _TRUNCATED_STD
    elif distribution == "normal":
        z, c = _random.normal(key, shape, d), 1.0
    else:
        z, c = _random.uniform(key, shape, d, -1.0, 1.0), math.sqrt(3.0)
    return fnp.multiply(z, fnp.astype(fnp.sqrt(variance) * c, rd))


# the standard deviation of a complex standard normal whose modulus is cut at 2
_COMPLEX_TRUNCATED_STD = math.sqrt(1.0 - 5.0 * math.exp(-4.0)) / math.sqrt(1.0 - math.exp(-4.0))


def _complex_disk(key, shape, d, upper):
    """Complex samples ``r exp(i theta)`` with a uniform angle (as JAX): ``upper=None``,
    uniform on the disk of radius sqrt(2) (variance 1); else a complex normal of variance 1
    whose modulus is cut at ``upper``."""
    rd = _dt.float64 if d is _dt.complex128 else _dt.float32
    ks = _random.split(key)
    u = _random.uniform(ks[0, ...], shape, rd)
    if upper is None:
        r = fnp.sqrt(u * 2.0)
    else:  # r**2 is an exponential truncated to (0, upper**2)
        r = fnp.sqrt(-fnp.log1p(-(u * (1.0 - math.exp(-upper ** 2)))))
    theta = _random.uniform(ks[1, ...], shape, rd) * (2.0 * math.pi)
    return fnp.astype(r, d) * fnp.exp(fnp.astype(theta, d) * 1j)


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot (Xavier) uniform: ``variance_scaling(1.0, "fan_avg", "uniform")``."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot (Xavier) normal: ``variance_scaling(1.0, "fan_avg", "truncated_normal")``."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis,
                            batch_axis, dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun uniform: ``variance_scaling(1.0, "fan_in", "uniform")``."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun normal: ``variance_scaling(1.0, "fan_in", "truncated_normal")``."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis,
                            batch_axis, dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He (Kaiming) uniform: ``variance_scaling(2.0, "fan_in", "uniform")``."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He (Kaiming) normal: ``variance_scaling(2.0, "fan_in", "truncated_normal")``."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis,
                            batch_axis, dtype)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """An initializer of (scaled) random orthogonal matrices: the array seen as a matrix
    whose columns run along ``column_axis`` (the other axes flattened into rows) has
    orthonormal columns (more rows than columns) or rows, times ``scale``; Haar
    distributed (:func:`functrans.random.orthogonal`; unitary for a complex dtype)."""
    default = dtype

    def init(key, shape, dtype=default):
        d = _dtype(dtype, "orthogonal", True)
        shape = _shape(shape, "orthogonal")
        if len(shape) < 2:
            raise ValueError(f"functrans.nn.initializers.orthogonal: the shape must have at "
                             f"least 2 dimensions; got {shape}")
        if not -len(shape) <= column_axis < len(shape):
            raise ValueError(f"functrans.nn.initializers.orthogonal: column_axis "
                             f"{column_axis} is out of range for shape {shape}")
        if 0 in shape:
            return fnp.zeros(shape, dtype=d, device=_device(key))
        ax = column_axis % len(shape)
        n_cols = shape[ax]
        n_rows = math.prod(shape) // n_cols
        q = _random.orthogonal(key, n_rows, (), d, n_cols)
        rest = shape[:ax] + shape[ax + 1:]
        q = fnp.moveaxis(fnp.reshape(q, rest + (n_cols,)), -1, ax)
        return _scaled(q, scale, d)
    return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """An initializer of delta-orthogonal convolution kernels (Xiao et al. 2018): zero
    except at the centre of the spatial axes (the leading 1, 2 or 3 of a 3-, 4- or 5-d
    shape; the centre index ``(k - 1) // 2``), where it is an :func:`orthogonal` matrix of
    the last two axes (``shape[-2] <= shape[-1]``)."""
    default = dtype

    def init(key, shape, dtype=default):
        d = _dtype(dtype, "delta_orthogonal", True)
        shape = _shape(shape, "delta_orthogonal")
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"functrans.nn.initializers.delta_orthogonal: the shape must "
                             f"have 3, 4 or 5 dimensions; got {shape}")
        if shape[-1] < shape[-2]:
            raise ValueError(f"functrans.nn.initializers.delta_orthogonal: the input size "
                             f"shape[-2] = {shape[-2]} must be at most the output size "
                             f"shape[-1] = {shape[-1]}")
        m = orthogonal(scale, column_axis, d)(key, shape[-2:])
        spatial = shape[:-2]
        m = fnp.reshape(m, (1,) * len(spatial) + shape[-2:])
        pads = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in spatial] + [(0, 0), (0, 0)]
        return fnp.pad(m, pads)
    return init
