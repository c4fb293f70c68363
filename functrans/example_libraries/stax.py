"""``functrans.example_libraries.stax``: ``jax.example_libraries.stax`` for functrans, a
small neural-network library of layers and combinators, on every backend.

A layer is a pair of functions ``(init_fun, apply_fun)``:

- ``init_fun(rng, input_shape)`` returns ``(output_shape, params)``: the shape of the
  layer's output for inputs of ``input_shape`` (a tuple; a list of tuples for layers taking
  several inputs) and its parameters (a pytree of arrays, drawn from the
  :mod:`functrans.random` key ``rng``, made on the key's library and device);
- ``apply_fun(params, inputs, **kwargs)`` applies the layer; ``rng=key`` is the key of the
  layers that draw (``Dropout``).

Layers: ``Dense``, ``GeneralConv`` (``Conv``, NHWC/HWIO), ``GeneralConvTranspose``
(``ConvTranspose``, ``Conv1DTranspose``), ``BatchNorm``, the elementwise ``Tanh``, ``Relu``,
``Exp``, ``LogSoftmax``, ``Softmax``, ``Softplus``, ``Sigmoid``, ``Elu``, ``LeakyRelu``,
``Selu``, ``Gelu`` (and ``elementwise(fun, **kwargs)``), the pools ``MaxPool``, ``SumPool``,
``AvgPool`` (``window_shape``, ``strides``, ``padding`` and ``spec``, the input's layout as
``"NHWC"``), ``Flatten``, ``Identity``, ``FanOut(n)``, ``FanInSum``, ``FanInConcat(axis)``,
``Dropout(rate, mode)``; combinators ``serial``, ``parallel`` and ``shape_dependent``.
Initializers are those of :mod:`functrans.nn.initializers` (float64 by default).

As in JAX, ``Dropout``'s ``rate`` is the probability of *keeping* an entry (kept entries are
divided by it), and ``AvgPool`` divides by the number of entries of the window that are not
padding. Differences from JAX: ``Dropout(mode="test")`` needs no key; ``BatchNorm`` takes
negative axes; ``parallel``'s ``init_fun`` returns a pair of tuples (JAX: a ``zip``).
"""

from __future__ import annotations

import functools
import math
import operator

from .. import lax
from .. import numpy as fnp
from .. import random
from ..nn import (elu, gelu, leaky_relu, log_softmax, relu, selu, sigmoid, softmax,
                   softplus, standardize)
from ..nn.initializers import glorot_normal, normal, ones, zeros

__all__ = ["Dense", "GeneralConv", "Conv", "GeneralConvTranspose", "Conv1DTranspose",
           "ConvTranspose", "BatchNorm", "elementwise", "Tanh", "Relu", "Exp", "LogSoftmax",
           "Softmax", "Softplus", "Sigmoid", "Elu", "LeakyRelu", "Selu", "Gelu", "MaxPool",
           "SumPool", "AvgPool", "Flatten", "Identity", "FanOut", "FanInSum", "FanInConcat",
           "Dropout", "serial", "parallel", "shape_dependent", "glorot", "randn",
           "logsoftmax", "glorot_normal", "normal", "ones", "zeros", "relu", "log_softmax",
           "softmax", "softplus", "sigmoid", "elu", "leaky_relu", "selu", "gelu",
           "standardize"]

# JAX's older names
glorot = glorot_normal
randn = normal
logsoftmax = log_softmax


def _split(rng, num=2):
    """``num`` keys from ``rng``, as a list (indexed: arrays of some libraries cannot be
    iterated)."""
    keys = random.split(rng, num)
    return [keys[k, ...] for k in range(num)]


def Dense(out_dim, W_init=glorot_normal(), b_init=normal()):
    """A fully connected layer ``inputs @ W + b`` over the last axis, ``W`` of shape
    ``(input_shape[-1], out_dim)`` from ``W_init``, ``b`` of shape ``(out_dim,)`` from
    ``b_init``."""
    def init_fun(rng, input_shape):
        k1, k2 = _split(rng)
        params = W_init(k1, (input_shape[-1], out_dim)), b_init(k2, (out_dim,))
        return tuple(input_shape[:-1]) + (out_dim,), params

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        return fnp.add(fnp.dot(inputs, W), b)
    return init_fun, apply_fun


def _kernel_shape(rhs_spec, lhs_spec, input_shape, out_chan, filter_shape):
    spatial = iter(filter_shape)
    return tuple(out_chan if c == "O" else input_shape[lhs_spec.index("C")] if c == "I"
                 else next(spatial) for c in rhs_spec)


def _conv_layer(transpose, dimension_numbers, out_chan, filter_shape, strides, padding,
                W_init, b_init):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    filter_shape = tuple(filter_shape)
    one = (1,) * len(filter_shape)
    strides = tuple(strides) if strides else one
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))
    shape_of = lax.conv_transpose_shape_tuple if transpose else lax.conv_general_shape_tuple

    def init_fun(rng, input_shape):
        kernel_shape = _kernel_shape(rhs_spec, lhs_spec, input_shape, out_chan, filter_shape)
        output_shape = tuple(shape_of(input_shape, kernel_shape, strides, padding,
                                      dimension_numbers))
        bias_shape = tuple(out_chan if c == "C" else 1 for c in out_spec)
        k1, k2 = _split(rng)
        return output_shape, (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        if transpose:
            out = lax.conv_transpose(inputs, W, strides, padding,
                                     dimension_numbers=dimension_numbers)
        else:
            out = lax.conv_general_dilated(inputs, W, strides, padding, one, one,
                                           dimension_numbers=dimension_numbers)
        return fnp.add(out, b)
    return init_fun, apply_fun


def GeneralConv(dimension_numbers, out_chan, filter_shape, strides=None, padding="VALID",
                W_init=None, b_init=normal(1e-6)):
    """A convolution layer (``functrans.lax.conv_general_dilated`` plus a bias per output
    channel) with ``out_chan`` output channels, a kernel of spatial shape ``filter_shape``,
    ``dimension_numbers`` the layouts ``(lhs_spec, rhs_spec, out_spec)`` (such as
    ``("NHWC", "HWIO", "NHWC")``), ``strides`` (1 by default) and ``padding`` (``"VALID"``,
    ``"SAME"``, ``"SAME_LOWER"`` or explicit pairs). ``W_init`` defaults to
    ``glorot_normal`` over the kernel's input and output axes."""
    return _conv_layer(False, dimension_numbers, out_chan, filter_shape, strides, padding,
                       W_init, b_init)


Conv = functools.partial(GeneralConv, ("NHWC", "HWIO", "NHWC"))
Conv.__doc__ = "A 2-d :func:`GeneralConv` with layouts NHWC (input, output) and HWIO (kernel)."


def GeneralConvTranspose(dimension_numbers, out_chan, filter_shape, strides=None,
                         padding="VALID", W_init=None, b_init=normal(1e-6)):
    """A transposed-convolution layer (``functrans.lax.conv_transpose`` plus a bias per
    output channel); arguments as :func:`GeneralConv`'s."""
    return _conv_layer(True, dimension_numbers, out_chan, filter_shape, strides, padding,
                       W_init, b_init)


Conv1DTranspose = functools.partial(GeneralConvTranspose, ("NHC", "HIO", "NHC"))
Conv1DTranspose.__doc__ = "A 1-d :func:`GeneralConvTranspose` (layouts NHC, HIO)."
ConvTranspose = functools.partial(GeneralConvTranspose, ("NHWC", "HWIO", "NHWC"))
ConvTranspose.__doc__ = "A 2-d :func:`GeneralConvTranspose` (layouts NHWC, HWIO)."


def _axes(axis):
    try:
        return (operator.index(axis),)
    except TypeError:
        return tuple(operator.index(a) for a in axis)


def BatchNorm(axis=(0, 1, 2), epsilon=1e-5, center=True, scale=True, beta_init=zeros,
              gamma_init=ones):
    """Batch normalisation: the inputs standardised over ``axis`` (``functrans.nn.standardize``
    with ``epsilon``), times ``gamma`` (if ``scale``) plus ``beta`` (if ``center``), both of
    the shape of the other axes (``()`` when not used)."""
    axis = _axes(axis)

    def normalised(ndim):
        for a in axis:
            if not -ndim <= a < ndim:
                raise ValueError(f"BatchNorm: axis {a} is out of range for inputs of "
                                 f"{ndim} dimensions")
        return tuple(sorted({a % ndim for a in axis}))

    def init_fun(rng, input_shape):
        ax = normalised(len(input_shape))
        shape = tuple(d for i, d in enumerate(input_shape) if i not in ax)
        k1, k2 = _split(rng)
        beta = beta_init(k1, shape) if center else ()
        gamma = gamma_init(k2, shape) if scale else ()
        return tuple(input_shape), (beta, gamma)

    def apply_fun(params, x, **kwargs):
        beta, gamma = params
        ax = normalised(len(x.shape))
        # the parameters with the normalised axes put back as length 1
        kept = tuple(1 if i in ax else n for i, n in enumerate(x.shape))
        z = standardize(x, ax, epsilon=epsilon)
        # (functions, not operators: a plain array of array-api-strict refuses a tracer)
        if scale:
            z = fnp.multiply(fnp.reshape(gamma, kept), z)
        if center:
            z = fnp.add(z, fnp.reshape(beta, kept))
        return z
    return init_fun, apply_fun


def elementwise(fun, **fun_kwargs):
    """A layer without parameters applying ``fun(inputs, **fun_kwargs)``."""
    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        return fun(inputs, **fun_kwargs)
    return init_fun, apply_fun


Tanh = elementwise(fnp.tanh)
Relu = elementwise(relu)
Exp = elementwise(fnp.exp)
LogSoftmax = elementwise(log_softmax, axis=-1)
Softmax = elementwise(softmax, axis=-1)
Softplus = elementwise(softplus)
Sigmoid = elementwise(sigmoid)
Elu = elementwise(elu)
LeakyRelu = elementwise(leaky_relu)
Selu = elementwise(selu)
Gelu = elementwise(gelu)


def _non_spatial_axes(spec, ndim):
    return (0, ndim - 1) if spec is None else (spec.index("N"), spec.index("C"))


def _pooling_layer(reducer, init_value, average=False):
    def PoolingLayer(window_shape, strides=None, padding="VALID", spec=None):
        window_shape = tuple(window_shape)
        strides = tuple(strides) if strides else (1,) * len(window_shape)
        spatial_window, spatial_strides = window_shape, strides
        # window and strides over every axis: 1 along the batch and channel axes
        for i in sorted(_non_spatial_axes(spec, len(window_shape) + 2)):
            window_shape = window_shape[:i] + (1,) + window_shape[i:]
            strides = strides[:i] + (1,) + strides[i:]

        def init_fun(rng, input_shape):
            pads = lax.padtype_to_pads(input_shape, window_shape, strides, padding)
            ones_ = (1,) * len(window_shape)
            return tuple(lax.reduce_window_shape_tuple(input_shape, window_shape, strides,
                                                       pads, ones_, ones_)), ()

        def apply_fun(params, inputs, **kwargs):
            out = lax.reduce_window(inputs, init_value, reducer, window_shape, strides,
                                    padding)
            if not average:
                return out
            # the number of entries of each window that are not padding
            non_spatial = _non_spatial_axes(spec, len(inputs.shape))
            spatial_shape = tuple(n for i, n in enumerate(inputs.shape)
                                  if i not in non_spatial)
            counts = lax.reduce_window(fnp.ones(spatial_shape, dtype=inputs.dtype,
                                                like=inputs),
                                       0.0, lax.add, spatial_window, spatial_strides,
                                       padding)
            for i in sorted(non_spatial):
                counts = fnp.expand_dims(counts, i)
            return fnp.divide(out, counts)
        return init_fun, apply_fun
    return PoolingLayer


MaxPool = _pooling_layer(lax.max, -math.inf)
MaxPool.__name__ = MaxPool.__qualname__ = "MaxPool"
MaxPool.__doc__ = """A max-pooling layer: the largest entry of each window of
``window_shape`` (over the spatial axes), moved by ``strides``, with ``padding``
(``"VALID"``, ``"SAME"`` or explicit pairs); ``spec`` is the input's layout (such as
``"NCHW"``; by default batch first and channels last)."""
SumPool = _pooling_layer(lax.add, 0.0)
SumPool.__name__ = SumPool.__qualname__ = "SumPool"
SumPool.__doc__ = "A sum-pooling layer: the sum of each window (arguments as MaxPool's)."
AvgPool = _pooling_layer(lax.add, 0.0, average=True)
AvgPool.__name__ = AvgPool.__qualname__ = "AvgPool"
AvgPool.__doc__ = """An average-pooling layer: the mean of each window's entries that are
not padding (arguments as MaxPool's)."""


def _flatten():
    def init_fun(rng, input_shape):
        return (input_shape[0], math.prod(input_shape[1:])), ()

    def apply_fun(params, inputs, **kwargs):
        return fnp.reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))
    return init_fun, apply_fun


Flatten = _flatten()  # all axes but the first into one


def _identity():
    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        return inputs
    return init_fun, apply_fun


Identity = _identity()  # the inputs as they are


def FanOut(num):
    """A layer whose output is its input ``num`` times (a list)."""
    def init_fun(rng, input_shape):
        return [input_shape] * num, ()

    def apply_fun(params, inputs, **kwargs):
        return [inputs] * num
    return init_fun, apply_fun


def _fan_in_sum():
    def init_fun(rng, input_shape):
        return input_shape[0], ()

    def apply_fun(params, inputs, **kwargs):
        return functools.reduce(fnp.add, inputs)
    return init_fun, apply_fun


FanInSum = _fan_in_sum()  # the sum of a list of inputs of one shape


def FanInConcat(axis=-1):
    """A layer concatenating a list of inputs along ``axis``."""
    def init_fun(rng, input_shape):
        ax = axis % len(input_shape[0])
        size = sum(shape[ax] for shape in input_shape)
        return tuple(input_shape[0][:ax]) + (size,) + tuple(input_shape[0][ax + 1:]), ()

    def apply_fun(params, inputs, **kwargs):
        return fnp.concatenate(inputs, axis)
    return init_fun, apply_fun


def Dropout(rate, mode="train"):
    """Dropout: in ``mode="train"``, each entry is kept with probability ``rate`` (JAX's
    meaning of ``rate``) and divided by ``rate``, the others set to 0, drawn from the key
    ``rng`` that ``apply_fun`` must be given; in any other mode the inputs as they are (no
    key needed). A number ``rate`` must lie in [0, 1]; ``rate = 0`` drops every entry (the
    result and its derivative are 0)."""
    if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
        # (above 1 every entry was kept and scaled down by 1 / rate: a silent wrong output)
        raise ValueError(f"Dropout: rate is the probability of keeping an entry and must lie "
                         f"in [0, 1]; got {rate!r}")

    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        if mode != "train":
            return inputs
        rng = kwargs.get("rng")
        if rng is None:
            raise ValueError("Dropout in mode 'train' draws from a key: call "
                             "apply_fun(params, inputs, rng=key) with a functrans.random "
                             "key (from functrans.random.key)")
        if isinstance(rate, (int, float)) and rate == 0:
            # every entry dropped: 0 without dividing by the rate (whose 1 / 0 gave a nan
            # derivative)
            return fnp.zeros_like(inputs)
        keep = random.bernoulli(rng, rate, tuple(inputs.shape))
        return fnp.where(keep, fnp.divide(inputs, rate), fnp.zeros_like(inputs))
    return init_fun, apply_fun


def serial(*layers):
    """The layers applied one after the other: a layer whose parameters are the list of
    theirs. A key given to ``apply_fun`` is split into one per layer."""
    num = len(layers)
    init_funs, apply_funs = zip(*layers) if layers else ((), ())

    def init_fun(rng, input_shape):
        params = []
        for init in init_funs:
            rng, layer_rng = _split(rng)
            input_shape, param = init(layer_rng, input_shape)
            params.append(param)
        return input_shape, params

    def apply_fun(params, inputs, **kwargs):
        rng = kwargs.pop("rng", None)
        rngs = _split(rng, num) if rng is not None and num else [None] * num
        for fun, param, key in zip(apply_funs, params, rngs):
            inputs = fun(param, inputs, rng=key, **kwargs)
        return inputs
    return init_fun, apply_fun


def parallel(*layers):
    """The layers applied side by side, the k-th to the k-th of a sequence of inputs
    (often between :func:`FanOut` and :data:`FanInSum`). ``init_fun`` returns the tuple of
    their output shapes and the tuple of their parameters."""
    num = len(layers)
    init_funs, apply_funs = zip(*layers) if layers else ((), ())

    def init_fun(rng, input_shape):
        rngs = _split(rng, num) if num else []
        results = [init(key, shape) for init, key, shape in zip(init_funs, rngs, input_shape)]
        return tuple(s for s, _ in results), tuple(p for _, p in results)

    def apply_fun(params, inputs, **kwargs):
        rng = kwargs.pop("rng", None)
        rngs = _split(rng, num) if rng is not None and num else [None] * num
        return [f(p, x, rng=key, **kwargs)
                for f, p, x, key in zip(apply_funs, params, inputs, rngs)]
    return init_fun, apply_fun


def shape_dependent(make_layer):
    """A layer built by ``make_layer(input_shape)`` once the input's shape is known (at
    ``init_fun``, and again from the inputs' shape at each ``apply_fun``)."""
    def init_fun(rng, input_shape):
        return make_layer(input_shape)[0](rng, input_shape)

    def apply_fun(params, inputs, **kwargs):
        return make_layer(tuple(inputs.shape))[1](params, inputs, **kwargs)
    return init_fun, apply_fun
