"""functrans.image: resize and scale_and_translate against JAX's (where installed) and against
references that do not need JAX (scipy.ndimage.zoom, closed forms, a per-pixel loop over the
kernel sums); derivatives in the image and in the scale and translation; vmap, jit, backends."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as sndimage

import functrans as ft
import functrans.image as fimage
import functrans.numpy as fnp
from functrans.image import ResizeMethod
from functrans.testing import check_grads

RNG = np.random.default_rng(16)
METHODS = ["linear", "cubic", "lanczos3", "lanczos5", "cubic-pytorch", "area"]
# (input shape, output shape): up, down, equal, odd/even, 1-, 2-, 3-d, with batch/channel dims
RESIZE_CASES = [((5,), (9,)), ((8,), (3,)), ((7,), (7,)), ((6,), (12,)), ((6,), (2,)),
                ((1,), (5,)), ((9,), (1,)), ((4, 5), (7, 3)), ((3, 4, 5), (5, 2, 6)),
                ((2, 6, 7, 3), (2, 11, 4, 3)), ((2, 9, 8, 1), (2, 4, 16, 1))]
# (scale, translation) of the first of two spatial dims; the second gets (1/scale, -t/2)
SAT_CASES = [(2.0, 0.3), (0.4, -1.2), (1.7, 2.5), (0.33, 0.0), (1.0, 0.5), (3.1, -4.0)]


# -- an independent reference: the kernel sums written out pixel by pixel -----------------------


def _kernel(method, x):
    if method == "linear":
        return max(0.0, 1.0 - x)
    if method in ("cubic", "cubic-pytorch"):
        a = -0.5 if method == "cubic" else -0.75
        if x < 1:
            return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
        return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a if x < 2 else 0.0
    r = 3 if method == "lanczos3" else 5
    if x > r:
        return 0.0
    # the kernel's limit 1 at 0, taken (as JAX) within 1e-3 of it
    return 1.0 if x <= 1e-3 else r * math.sin(math.pi * x) * math.sin(math.pi * x / r) / (
        math.pi * x) ** 2


def _weights_loop(m, n, scale, t, method, antialias):
    """W[i, j]: output pixel j's weight on input pixel i, from the definition."""
    w = np.zeros((m, n))
    for j in range(n):
        c = (j + 0.5 - t) / scale  # output centre, in input coordinates
        if method == "area":
            lo, hi = (j - t) / scale, (j + 1 - t) / scale
            row = [max(0.0, min(hi, i + 1) - max(lo, i)) for i in range(m)]
        else:
            width = max(1 / scale, 1.0) if antialias else 1.0
            if method == "cubic-pytorch" and not antialias:
                # edge pixels repeated two beyond each end
                row = [0.0] * m
                for i in range(-2, m + 2):
                    row[min(max(i, 0), m - 1)] += _kernel(method, abs(c - 0.5 - i) / width)
            else:
                kind = "cubic" if method == "cubic-pytorch" else method
                row = [_kernel(kind, abs(c - 0.5 - i) / width) for i in range(m)]
        total = sum(row)
        if abs(total) > 1000 * np.finfo(np.float32).eps:
            w[:, j] = np.array(row) / total
        if not (method == "cubic-pytorch" and not antialias) and not 0 <= c <= m:
            w[:, j] = 0.0
    return w


def _sat_loop(x, shape, dims, scales, ts, method, antialias):
    for d, s, t in zip(dims, scales, ts):
        w = _weights_loop(x.shape[d], shape[d], s, t, method, antialias)
        x = np.moveaxis(np.tensordot(x, w, axes=([d], [0])), -1, d)
    return x


def _resize_loop(x, shape, method, antialias):
    dims = [d for d in range(x.ndim) if x.shape[d] != shape[d]]
    if method == "nearest":
        for d in dims:
            m, n = x.shape[d], shape[d]
            x = np.take(x, [int((j + 0.5) * m / n) for j in range(n)], axis=d)
        return x
    return _sat_loop(x, shape, dims, [shape[d] / x.shape[d] for d in dims], [0.0] * len(dims),
                     method, antialias)


@pytest.mark.parametrize("method", METHODS + ["nearest"])
def test_resize_matches_the_kernel_sums(method):
    for antialias in (True, False):
        for sin, sout in RESIZE_CASES:
            x = RNG.normal(size=sin)
            got = fimage.resize(x, sout, method, antialias=antialias)
            assert got.shape == sout and got.dtype == np.float64
            np.testing.assert_allclose(got, _resize_loop(x, sout, method, antialias),
                                       rtol=1e-12, atol=1e-12, err_msg=f"{sin} {sout}")


@pytest.mark.parametrize("method", METHODS)
def test_scale_and_translate_matches_the_kernel_sums(method):
    x = RNG.normal(size=(6, 3, 7))
    for antialias in (True, False):
        for s, t in SAT_CASES:
            got = fimage.scale_and_translate(x, (9, 3, 5), (0, -1), np.array([s, 1 / s]),
                                             np.array([t, -t / 2]), method, antialias)
            want = _sat_loop(x, (9, 3, 5), (0, 2), (s, 1 / s), (t, -t / 2), method, antialias)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{s} {t}")


def test_linear_matches_scipy_zoom():
    # without antialias, linear resizing is interpolation between pixel centres, the edge
    # pixels held beyond them: scipy's zoom with grid_mode=True and mode='nearest'
    x = RNG.normal(size=(5, 7))
    for shape in [(9, 12), (11, 15), (10, 14), (3, 4), (2, 9)]:
        want = sndimage.zoom(x, (shape[0] / 5, shape[1] / 7), order=1, mode="nearest",
                             grid_mode=True)
        np.testing.assert_allclose(fimage.resize(x, shape, "bilinear", antialias=False), want,
                                   atol=1e-13)
        if shape[0] >= 5 and shape[1] >= 7:  # antialias only acts when downsampling
            np.testing.assert_allclose(fimage.resize(x, shape, "triangle"), want, atol=1e-13)


@pytest.mark.parametrize("method", METHODS)
def test_closed_forms(method):
    # the weights sum to 1: a constant image stays constant, up and down
    for shape in [(13, 4), (3, 11), (2, 2)]:
        np.testing.assert_allclose(fimage.resize(np.full((6, 7), 2.5), shape, method), 2.5,
                                   rtol=1e-13)
    # a pure translation by a whole number of pixels shifts the image (interpolating
    # kernels); the pixels shifted in from outside are 0
    x = RNG.normal(size=(8,))
    got = fimage.scale_and_translate(x, (8,), (0,), np.array([1.0]), np.array([2.0]), method)
    np.testing.assert_allclose(got, np.concatenate([[0.0, 0.0], x[:6]]), atol=1e-13)


def test_ramp_and_block_means():
    # linear interpolation of a ramp is the ramp at the (clamped) output centres
    x = 3.0 * np.arange(6) - 1.0
    n = 17
    c = np.clip((np.arange(n) + 0.5) * 6 / n - 0.5, 0, 5)
    np.testing.assert_allclose(fimage.resize(x, (n,), "linear"), 3.0 * c - 1.0, atol=1e-13)
    # area downsampling by a whole factor is the mean of each block
    img = RNG.normal(size=(6, 9))
    want = img.reshape(2, 3, 3, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(fimage.resize(img, (2, 3), "area"), want, atol=1e-13)
    # nearest: input pixel floor((j + 0.5) * m / n)
    np.testing.assert_array_equal(fimage.resize(np.arange(5), (8,), "nearest"),
                                  [0, 0, 1, 2, 2, 3, 4, 4])
    np.testing.assert_array_equal(fimage.resize(np.arange(8), (3,), "nearest"), [1, 4, 6])


# -- JAX ----------------------------------------------------------------------------------------


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("method", METHODS + ["nearest"])
def test_resize_matches_jax(method):
    jax = _jax()
    for antialias in (True, False):
        for sin, sout in RESIZE_CASES:
            x = RNG.normal(size=sin)
            want = np.asarray(jax.image.resize(x, sout, method, antialias=antialias))
            got = fimage.resize(x, sout, method, antialias=antialias)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{sin} {sout} {antialias}")


@pytest.mark.parametrize("method", METHODS)
def test_scale_and_translate_matches_jax(method):
    jax = _jax()
    x = RNG.normal(size=(6, 7, 2)) + 1j * RNG.normal(size=(6, 7, 2))
    for antialias in (True, False):
        for s, t in SAT_CASES:
            args = ((9, 5, 2), (0, 1), np.array([s, 1 / s]), np.array([t, -t / 2]), method,
                    antialias)
            want = np.asarray(jax.image.scale_and_translate(x, *args))
            got = fimage.scale_and_translate(x, *args)
            assert got.dtype == want.dtype == np.complex128
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{s} {t}")
    # float32 scale and translation: weights computed in float32, then cast to the image's
    s32, t32 = np.array([0.7], np.float32), np.array([0.3], np.float32)
    want = np.asarray(jax.image.scale_and_translate(x.real, (4, 7, 2), (0,), s32, t32, method))
    got = fimage.scale_and_translate(x.real, (4, 7, 2), (0,), s32, t32, method)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # (the same numbers in float64 differ from those by float32's rounding: the weights
    # really are computed in float32)
    in64 = fimage.scale_and_translate(x.real, (4, 7, 2), (0,), s32.astype(np.float64),
                                      t32.astype(np.float64), method)
    assert np.abs(in64 - want).max() > 1e-9


def test_dtypes_match_jax():
    jax = _jax()
    for dt in ["uint8", "int8", "int16", "int32", "uint32", "int64", "bool", "float32",
               "float64", "complex64", "complex128"]:
        x = (RNG.normal(size=(4, 5)) * 40).astype(dt)
        for method in ("nearest", "linear", "lanczos3"):
            want = np.asarray(jax.image.resize(x, (7, 3), method))
            got = fimage.resize(x, (7, 3), method)
            assert got.dtype == want.dtype, (dt, method)
            tol = 1e-12 if want.dtype in (np.float64, np.complex128) else 1e-6
            np.testing.assert_allclose(got.astype(complex), want.astype(complex), rtol=tol,
                                       atol=tol * np.abs(want).max(initial=1.0))
        want = jax.image.scale_and_translate(x, (7, 5), (0,), np.array([1.5]),
                                             np.array([0.2]), "cubic")
        got = fimage.scale_and_translate(x, (7, 5), (0,), np.array([1.5]), np.array([0.2]),
                                         "cubic")
        assert got.dtype == want.dtype, dt
    # an image of its own shape: promoted, otherwise unchanged (as JAX)
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert fimage.resize(x, (2, 3), "linear").dtype == jax.image.resize(x, (2, 3),
                                                                         "linear").dtype


@pytest.mark.parametrize("method", METHODS)
def test_derivatives_match_jax(method):
    jax = _jax()
    x = RNG.normal(size=(5, 6))
    cot = RNG.normal(size=(7, 4))
    s, t = np.array([1.37, 0.61]), np.array([0.21, -0.33])
    for antialias in (True, False):
        def loss(sat, np_):
            return lambda a, sc, tr: np_.sum(sat(a, (7, 4), (0, 1), sc, tr, method,
                                                 antialias) ** 2 * cot)
        want = jax.grad(loss(jax.image.scale_and_translate, jax.numpy), argnums=(0, 1, 2))(
            x, s, t)
        got = ft.grad(loss(fimage.scale_and_translate, fnp), argnums=(0, 1, 2))(x, s, t)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, np.asarray(w), rtol=1e-10, atol=1e-12)


# -- derivatives, transforms, backends ----------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_derivatives(backend, method):
    x = backend.asarray(RNG.normal(size=(4, 5)))
    check_grads(lambda a: fimage.resize(a, (7, 3), method), (x,), order=2)
    check_grads(lambda a: fimage.resize(a, (2, 9), method, antialias=False), (x,), order=1)
    # in the scale and the translation (points where no sample lands on a kernel's kink)
    s, t = backend.asarray([1.37, 0.61]), backend.asarray([0.21, -0.33])
    for antialias in (True, False):
        check_grads(lambda sc, tr: fimage.scale_and_translate(x, (5, 4), (0, 1), sc, tr,
                                                              method, antialias),
                    (s, t), order=2)


def test_backends(backend):
    x = RNG.normal(size=(3, 5, 4))
    for method in METHODS + ["nearest"]:
        got = fimage.resize(backend.asarray(x), (3, 8, 2), method)
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), fimage.resize(x, (3, 8, 2), method),
                                   rtol=1e-12, atol=1e-12)
    got = fimage.scale_and_translate(backend.asarray(x), (6, 5, 4), (0,), backend.asarray([2.0]),
                                     backend.asarray([0.5]), "cubic")
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), _sat_loop(x, (6, 5, 4), (0,), (2.0,),
                                                                (0.5,), "cubic", True),
                               atol=1e-12)
    # nearest picks pixels: its derivative copies (and adds up) cotangents
    check_grads(lambda a: fimage.resize(a, (3, 8, 2), "nearest"), (backend.asarray(x),),
                order=2)
    got = fimage.resize(backend.asarray(np.arange(12).reshape(3, 4), "int32"), (5, 2), "nearest")
    assert backend.is_own(got) and backend.to_numpy(got).dtype == np.int32


def test_vmap_and_jit():
    x = RNG.normal(size=(3, 6, 5))
    want = fimage.resize(x, (3, 9, 4), "lanczos3")
    np.testing.assert_allclose(ft.vmap(lambda a: fimage.resize(a, (9, 4), "lanczos3"))(x), want,
                               atol=1e-13)
    np.testing.assert_allclose(ft.jit(lambda a: fimage.resize(a, (3, 9, 4), "lanczos3"))(x),
                               want, atol=1e-13)
    np.testing.assert_array_equal(ft.jit(lambda a: fimage.resize(a, (3, 2, 7), "nearest"))(x),
                                  fimage.resize(x, (3, 2, 7), "nearest"))
    np.testing.assert_array_equal(ft.vmap(lambda a: fimage.resize(a, (2, 7), "nearest"),
                                          in_axes=2, out_axes=2)(x),
                                  fimage.resize(x, (2, 7, 5), "nearest"))
    # batched over the scale and translation, and staged with them as arguments
    img = x[0]
    scales = np.array([[1.5, 0.8], [0.6, 2.0], [1.0, 1.3]])
    ts = np.array([[0.2, -0.1], [0.0, 0.7], [-1.5, 0.4]])

    def f(s, t):
        return fimage.scale_and_translate(img, (7, 4), (0, 1), s, t, "cubic")
    loop = np.stack([f(s, t) for s, t in zip(scales, ts)])
    np.testing.assert_allclose(ft.vmap(f)(scales, ts), loop, atol=1e-13)
    np.testing.assert_allclose(ft.jit(f)(scales[1], ts[1]), loop[1], atol=1e-13)
    np.testing.assert_allclose(ft.jit(ft.vmap(f))(scales, ts), loop, atol=1e-13)
    # a derivative through jit
    g = ft.jit(ft.grad(lambda s: fnp.sum(f(s, ts[0]) ** 2)))(scales[0])
    np.testing.assert_allclose(g, ft.grad(lambda s: fnp.sum(f(s, ts[0]) ** 2))(scales[0]),
                               rtol=1e-12)


def test_method_names():
    for names, m in [(["nearest"], ResizeMethod.NEAREST),
                     (["linear", "bilinear", "trilinear", "triangle"], ResizeMethod.LINEAR),
                     (["cubic", "bicubic", "tricubic"], ResizeMethod.CUBIC),
                     (["lanczos3"], ResizeMethod.LANCZOS3), (["lanczos5"], ResizeMethod.LANCZOS5),
                     (["cubic-pytorch", "bicubic-pytorch"], ResizeMethod.CUBIC_PYTORCH),
                     (["area"], ResizeMethod.AREA)]:
        for name in names:
            assert ResizeMethod.from_string(name) is m
    x = RNG.normal(size=(4, 4))
    np.testing.assert_array_equal(fimage.resize(x, (6, 6), ResizeMethod.CUBIC),
                                  fimage.resize(x, (6, 6), "bicubic"))


def test_errors():
    x = np.ones((4, 4))
    with pytest.raises(ValueError, match="one entry per dimension"):
        fimage.resize(x, (8,), "linear")
    with pytest.raises(ValueError, match='Unknown resize method "foo"'):
        fimage.resize(x, (8, 8), "foo")
    with pytest.raises(TypeError, match="method must be a string"):
        fimage.resize(x, (8, 8), 3)
    with pytest.raises(TypeError, match="sequence of integers"):
        fimage.resize(x, (8.0, 8), "linear")
    with pytest.raises(ValueError, match="non-negative"):
        fimage.resize(x, (8, -1), "linear")
    with pytest.raises(ValueError, match="empty"):
        fimage.resize(np.ones((0, 3)), (4, 3), "linear")
    with pytest.raises(ValueError, match="nearest-neighbour"):
        fimage.scale_and_translate(x, (8, 8), (0, 1), [2.0, 2.0], [0.0, 0.0], "nearest")
    with pytest.raises(ValueError, match="one entry per spatial dimension"):
        fimage.scale_and_translate(x, (8, 4), (0,), [2.0, 1.0], [0.0], "linear")
    with pytest.raises(ValueError, match="one entry per spatial dimension"):
        fimage.scale_and_translate(x, (8, 4), (0,), 2.0, 0.0, "linear")
    with pytest.raises(ValueError, match="not in spatial_dims"):
        fimage.scale_and_translate(x, (8, 5), (0,), [2.0], [0.0], "linear")
    with pytest.raises(ValueError, match="repeated"):
        fimage.scale_and_translate(x, (8, 4), (0, -2), [2.0, 2.0], [0.0, 0.0], "linear")
    with pytest.raises(ValueError, match="out of range"):
        fimage.scale_and_translate(x, (8, 4), (2,), [2.0], [0.0], "linear")
    with pytest.raises(ValueError, match="precision must be"):
        fimage.resize(x, (8, 8), "linear", precision=3)
    for p in (None, "highest", ft.lax.Precision.DEFAULT, ("high", "default")):
        fimage.resize(x, (8, 8), "linear", precision=p)
    # shapes that are accepted: zero sizes, and an image of its own size
    assert fimage.resize(x, (0, 8), "linear").shape == (0, 8)
    np.testing.assert_array_equal(fimage.resize(x, (4, 4), "cubic"), x)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(fimage, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
    assert ft.image is fimage  # (ft.image.resize after import functrans, as jax.image)
