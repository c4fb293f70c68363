"""``functrans.image``: ``resize`` and ``scale_and_translate`` with ``jax.image``'s names,
signatures and results, on every backend and under every transform.

Both resample separably: along each spatial axis the image is contracted with a weight matrix
``W[input index, output index]`` whose entries are a kernel of the distance between an input
pixel's centre and the point an output pixel's centre maps back to (pixel ``i`` is centred at
``i + 0.5``). The matrices are computed with ``functrans.numpy`` operations from the scale and
the translation, so the result is differentiable in the image and in ``scale_and_translate``'s
``scale`` and ``translation``; nothing is computed on the host.

Conventions (as JAX's): when downsampling with ``antialias=True`` the kernel is widened by the
inverse scale (a low-pass filter); each output pixel's weights are normalised to sum to 1 (so
the weight of samples off the image is redistributed), and an output pixel whose centre maps
outside the input gets 0. Non-nearest methods promote integer and boolean images to a floating
dtype as JAX does: float32 for those of 32 bits or fewer, float64 for 64-bit integers.
"""

from __future__ import annotations

import enum
import operator

from . import dtypes as _dt
from . import numpy as fnp
from .lax_ops import Precision
from .numpy._products import _jax_options

__all__ = ["ResizeMethod", "resize", "scale_and_translate"]


class ResizeMethod(enum.Enum):
    """The resampling methods (``jax.image.ResizeMethod``'s members and string names).

    - ``NEAREST`` (``"nearest"``): the input pixel whose cell holds the output pixel's centre;
      only for ``resize``.
    - ``LINEAR`` (``"linear"``, ``"bilinear"``, ``"trilinear"``, ``"triangle"``): the triangle
      kernel.
    - ``LANCZOS3``, ``LANCZOS5`` (``"lanczos3"``, ``"lanczos5"``): Lanczos kernels of radius 3
      and 5.
    - ``CUBIC`` (``"cubic"``, ``"bicubic"``, ``"tricubic"``): Keys' cubic kernel, ``a = -0.5``.
    - ``CUBIC_PYTORCH`` (``"cubic-pytorch"``, ``"bicubic-pytorch"``): PyTorch's bicubic
      resizing: ``CUBIC`` with ``antialias``; without it, the cubic kernel with
      ``a = -0.75`` and the edge pixels repeated beyond the image.
    - ``AREA`` (``"area"``): each output pixel averages the input over its cell (a box
      filter).
    """

    NEAREST = 0
    LINEAR = 1
    LANCZOS3 = 2
    LANCZOS5 = 3
    CUBIC = 4
    CUBIC_PYTORCH = 5
    AREA = 6

    @staticmethod
    def from_string(s: str) -> "ResizeMethod":
        """The method named ``s`` (a ValueError for an unknown name)."""
        try:
            return _NAMES[s]
        except (KeyError, TypeError):
            raise ValueError(f'Unknown resize method "{s}"; expected one of '
                             f'{sorted(_NAMES)} or a functrans.image.ResizeMethod') from None


_NAMES = {"nearest": ResizeMethod.NEAREST, "linear": ResizeMethod.LINEAR,
          "bilinear": ResizeMethod.LINEAR, "trilinear": ResizeMethod.LINEAR,
          "triangle": ResizeMethod.LINEAR, "lanczos3": ResizeMethod.LANCZOS3,
          "lanczos5": ResizeMethod.LANCZOS5, "cubic": ResizeMethod.CUBIC,
          "bicubic": ResizeMethod.CUBIC, "tricubic": ResizeMethod.CUBIC,
          "cubic-pytorch": ResizeMethod.CUBIC_PYTORCH,
          "bicubic-pytorch": ResizeMethod.CUBIC_PYTORCH, "area": ResizeMethod.AREA}


def _method(name, method):
    if isinstance(method, ResizeMethod):
        return method
    if isinstance(method, str):
        return ResizeMethod.from_string(method)
    raise TypeError(f"{name}: method must be a string or a functrans.image.ResizeMethod; got "
                    f"{method!r}")


# -- kernels: functions of the (non-negative) distance in input pixels --------------------------


def _triangle(x):
    return fnp.maximum(0.0, 1.0 - x)


def _cubic(a):
    """The cubic convolution kernel with parameter ``a`` (Keys': -0.5; OpenCV's and PyTorch's
    non-antialiased one: -0.75), supported on [0, 2)."""
    def kernel(x):
        inner = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        outer = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
        zero = fnp.zeros_like(x)
        return fnp.where(x >= 2.0, zero, fnp.where(x >= 1.0, outer, inner))
    return kernel


def _lanczos(radius):
    r = float(radius)

    def kernel(x):
        # JAX takes the value 1 (the limit at 0) within 1e-3 of 0; that threshold is kept so
        # that the numbers agree, and the division only sees x > 1e-3 (no nan in derivatives).
        far = x > 1e-3
        xs = fnp.where(far, x, fnp.ones_like(x))
        value = r * fnp.sin(fnp.pi * xs) * fnp.sin(fnp.pi * xs / r) / (fnp.pi ** 2 * xs * xs)
        value = fnp.where(far, value, fnp.ones_like(x))
        return fnp.where(x > r, fnp.zeros_like(x), value)
    return kernel


_AREA = object()  # (the area weights are overlaps of cells, not a kernel of a distance)

# method -> (radius, kernel)
_KERNELS = {ResizeMethod.LINEAR: (1, _triangle), ResizeMethod.LANCZOS3: (3, _lanczos(3)),
            ResizeMethod.LANCZOS5: (5, _lanczos(5)), ResizeMethod.CUBIC: (2, _cubic(-0.5)),
            ResizeMethod.CUBIC_PYTORCH: (2, _cubic(-0.75)), ResizeMethod.AREA: (1, _AREA)}

# weights whose sum is at most this are dropped rather than normalised (JAX's threshold)
_TINY_SUM = 1000.0 * 1.1920928955078125e-07


def _weights(m, n, scale, translation, kernel, antialias, pad, device):
    """The ``(m, n)`` matrix taking an axis of ``m`` input pixels to ``n`` output pixels;
    ``scale`` and ``translation`` are 0-d arrays of the weights' dtype. ``pad`` > 0 repeats
    the edge pixels ``pad`` times beyond each end (PyTorch's bicubic)."""
    wdt = scale.dtype
    inv = 1.0 / scale
    out_idx = fnp.arange(n, dtype=wdt, device=device)
    # the centre of each output pixel mapped back into the input, shifted by -0.5 so that
    # input pixel i is centred at i (fnp.multiply: a library's own operator may refuse a
    # tracer on its right)
    centre = fnp.multiply(out_idx + 0.5, inv) - translation * inv - 0.5
    if kernel is _AREA:
        lo = fnp.multiply(out_idx, inv) - translation * inv  # output cells [lo, lo + 1/scale)
        cells = fnp.arange(m, dtype=wdt, device=device)
        w = fnp.maximum(0.0, fnp.minimum((lo + inv)[None, :], (cells + 1.0)[:, None])
                        - fnp.maximum(lo[None, :], cells[:, None]))
    else:
        # downsampling with antialias widens the kernel by 1/scale
        width = fnp.maximum(inv, 1.0) if antialias else 1.0
        cells = fnp.arange(-pad, m + pad, dtype=wdt, device=device)
        w = kernel(fnp.abs(centre[None, :] - cells[:, None]) / width)
    if pad:
        # move the weight of the pixels beyond the edges onto the edge pixels
        src = fnp.clip(fnp.arange(-pad, m + pad, device=device), 0, m - 1)
        fold = fnp.astype(fnp.arange(m, device=device)[:, None] == src[None, :], wdt)
        w = fnp.matmul(fold, w)
    total = fnp.sum(w, axis=0, keepdims=True)
    safe = fnp.where(total != 0, total, fnp.ones_like(total))
    w = fnp.where(fnp.abs(total) > _TINY_SUM, w / safe, fnp.zeros_like(w))
    if not pad:
        inside = (centre >= -0.5) & (centre <= m - 0.5)
        w = fnp.where(inside[None, :], w, fnp.zeros_like(w))
    return w


def _inexact_dtype(dt):
    """JAX's promotion of a dtype to an inexact one: booleans and integers of 32 bits or
    fewer become float32, 64-bit integers float64."""
    dt = _dt.as_dtype(dt)
    if fnp.isdtype(dt, ("real floating", "complex floating")):
        return dt
    if dt in (_dt.int64, _dt.uint64):
        return _dt.float64
    return _dt.float32


def _shape(name, shape, image):
    try:
        shape = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a sequence of integers; got {shape!r}") from None
    if len(shape) != image.ndim:
        raise ValueError(f"{name}: shape must have one entry per dimension of the image "
                         f"(shape {tuple(image.shape)}); got {shape}")
    if any(s < 0 for s in shape):
        raise ValueError(f"{name}: shape entries must be non-negative; got {shape}")
    return shape


def _image(image):
    if not hasattr(image, "shape"):
        image = fnp.asarray(image)
    return image


def _check_precision(name, precision):
    # the products' own check (None, a lax.Precision, its name, or a pair of them)
    _jax_options(name, [], precision, None)


def _resample(x, shape, dims, scales, translations, method, antialias):
    """Contract each axis ``dims[i]`` of ``x`` (inexact) with its weight matrix."""
    if method is ResizeMethod.CUBIC_PYTORCH and antialias:
        method = ResizeMethod.CUBIC  # PyTorch's antialiased bicubic is Keys' kernel
    radius, kernel = _KERNELS[method]
    pad = radius if method is ResizeMethod.CUBIC_PYTORCH else 0
    dev = fnp.device(x)
    for d, s, t in zip(dims, scales, translations):
        w = _weights(x.shape[d], shape[d], s, t, kernel, antialias, pad, dev)
        if _dt.as_dtype(w.dtype) is not _dt.as_dtype(x.dtype):
            w = fnp.astype(w, x.dtype)
        x = fnp.moveaxis(fnp.tensordot(x, w, axes=([d], [0])), -1, d)
    return x


def scale_and_translate(image, shape, spatial_dims, scale, translation, method,
                        antialias=True, precision=Precision.HIGHEST):
    """Resample ``image`` to ``shape`` under the map ``y = scale * x + translation`` of each
    axis in ``spatial_dims`` (coordinates in pixels, pixel ``i`` centred at ``i + 0.5``), as
    ``jax.image.scale_and_translate``: output pixel ``j`` takes the input near
    ``(j + 0.5 - translation) / scale``, weighted by the kernel of ``method`` (any
    ``ResizeMethod`` but ``NEAREST``); an output pixel whose centre maps outside the input is
    0. ``antialias`` widens the kernel by ``1 / scale`` when downsampling.

    ``scale`` and ``translation`` are 1-d arrays (or sequences) with one entry per spatial
    dimension; the result is differentiable in them and in ``image``. Other dimensions are
    left as they are (their ``shape`` entries must be the image's). The weights are computed
    in the (inexact) dtype of ``scale`` and ``translation``, then cast to that of the image
    (integers promoted as JAX's: see the module's note). ``precision`` is checked and has no
    effect (the products run at the operands' precision).

    ``torch.nn.functional.interpolate(..., align_corners=True)`` from ``m`` to ``n`` pixels
    is ``scale = (n - 1) / (m - 1)``, ``translation = 0.5 * (1 - scale)``.

    Example:
        >>> import numpy as np
        >>> from functrans.image import scale_and_translate
        >>> x = np.array([0.0, 1.0, 2.0, 3.0])
        >>> scale_and_translate(x, (4,), (0,), np.array([1.0]), np.array([0.5]), "linear")
        array([0. , 0.5, 1.5, 2.5])
    """
    name = "scale_and_translate"
    image = _image(image)
    shape = _shape(name, shape, image)
    method = _method(name, method)
    if method is ResizeMethod.NEAREST:
        raise ValueError(f"{name}: nearest-neighbour resampling is not supported (as in JAX); "
                         f"use resize(..., 'nearest') or another method")
    _check_precision(name, precision)
    try:
        dims = [operator.index(d) for d in spatial_dims]
    except TypeError:
        raise TypeError(f"{name}: spatial_dims must be a sequence of integers; got "
                        f"{spatial_dims!r}") from None
    nd = image.ndim
    if any(not -nd <= d < nd for d in dims):
        raise ValueError(f"{name}: spatial_dims {tuple(dims)} out of range for an image of "
                         f"{nd} dimensions")
    dims = [d % nd for d in dims]
    if len(set(dims)) != len(dims):
        raise ValueError(f"{name}: spatial_dims has a repeated dimension: {tuple(dims)}")
    for d in range(nd):
        if d not in dims and shape[d] != image.shape[d]:
            raise ValueError(f"{name}: dimension {d} is not in spatial_dims, so its shape "
                             f"entry must be the image's ({image.shape[d]}); got {shape[d]}")
    for d in dims:
        if image.shape[d] == 0 and shape[d] != 0:
            raise ValueError(f"{name}: dimension {d} of the image is empty and cannot be "
                             f"resampled to {shape[d]} pixels")
    dev = fnp.device(image)
    st = []
    for label, v in (("scale", scale), ("translation", translation)):
        v = v if hasattr(v, "shape") else fnp.asarray(v, device=dev)
        if tuple(v.shape) != (len(dims),):
            raise ValueError(f"{name}: {label} must be a 1-d array with one entry per "
                             f"spatial dimension ({len(dims)}); got shape {tuple(v.shape)}")
        st.append(v)
    wdt = _inexact_dtype(fnp.result_type(st[0], st[1]))
    scale, translation = (v if _dt.as_dtype(v.dtype) is wdt else fnp.astype(v, wdt) for v in st)
    x = image
    xdt = _inexact_dtype(x.dtype)
    if _dt.as_dtype(x.dtype) is not xdt:
        x = fnp.astype(x, xdt)
    return _resample(x, shape, dims, [scale[i] for i in range(len(dims))],
                     [translation[i] for i in range(len(dims))], method, bool(antialias))


def resize(image, shape, method, antialias=True, precision=Precision.HIGHEST):
    """``image`` resampled to ``shape``, as ``jax.image.resize``: every dimension whose size
    changes is resampled (batch and channel dimensions keep their size in ``shape``), the
    image's cells stretched onto the output's (scale ``new / old``, no translation).

    ``method`` is a ``ResizeMethod`` or its name (``"nearest"``, ``"linear"``/``"bilinear"``,
    ``"cubic"``/``"bicubic"``, ``"lanczos3"``, ``"lanczos5"``, ``"cubic-pytorch"``,
    ``"area"``...). ``"nearest"`` takes input pixel ``floor((j + 0.5) * old / new)`` (in
    float32, as JAX), keeps the image's dtype and ignores ``antialias``; the other methods
    return a floating array (integers promoted as JAX's: see the module's note) and, with
    ``antialias`` (the default), low-pass filter when downsampling. ``precision`` is checked
    and has no effect. Differentiable in ``image``.

    Example:
        >>> import numpy as np
        >>> from functrans.image import resize
        >>> resize(np.array([0.0, 1.0]), (4,), "linear")
        array([0.  , 0.25, 0.75, 1.  ])
    """
    name = "resize"
    image = _image(image)
    shape = _shape(name, shape, image)
    method = _method(name, method)
    _check_precision(name, precision)
    dims = [d for d in range(image.ndim) if shape[d] != image.shape[d]]
    for d in dims:
        if image.shape[d] == 0:
            raise ValueError(f"{name}: dimension {d} of the image is empty and cannot be "
                             f"resized to {shape[d]} pixels")
    x = image
    if method is ResizeMethod.NEAREST:
        for d in dims:
            m, n = x.shape[d], shape[d]
            # float32 arithmetic, as JAX's, so that the chosen pixels are the same
            pos = (fnp.arange(n, dtype=fnp.float32, device=fnp.device(x)) + 0.5) * m / n
            idx = fnp.clip(fnp.astype(fnp.floor(pos), fnp.int64), 0, m - 1)
            x = fnp.take(x, idx, axis=d)
        return x
    xdt = _inexact_dtype(x.dtype)
    if _dt.as_dtype(x.dtype) is not xdt:
        x = fnp.astype(x, xdt)
    if not dims:
        return x
    dev = fnp.device(x)
    scales = [fnp.asarray(shape[d] / image.shape[d] if shape[d] else 1.0, dtype=fnp.float64,
                          device=dev) for d in dims]
    zero = fnp.asarray(0.0, dtype=fnp.float64, device=dev)
    return _resample(x, shape, dims, scales, [zero] * len(dims), method, bool(antialias))
