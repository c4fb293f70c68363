"""Session 41 (fft41): NumPy's repeated axes in functrans.numpy.fft's n-dimensional transforms
(each repetition transforms the axis again, after fitting it to its entry of ``s``; SciPy and
JAX refuse, and functrans.scipy.fft refuses as SciPy), and SciPy's hfftn/hfft2/ihfftn/ihfft2
in functrans.scipy.fft, against NumPy/SciPy values, the R-linear maps' transposes built column
by column from those values, central differences (first and second order), jit and vmap.
tests/_fuzz_fft_jax.py (families c2cn/r2cn/c2rn with repeated axes, hfftn) is the fuzzer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.fft as sfft

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.fft as fsfft
from tests.test_s40_fft40 import _linear_map_vjp

RNG = np.random.default_rng(41)


def _np(name, x, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(np.fft, name)(x, **kw)


def _draw(shape, complex_in):
    x = RNG.standard_normal(shape)
    return x + 1j * RNG.standard_normal(shape) if complex_in else x


# -- NumPy's repeated axes ---------------------------------------------------------------------

# (name, input shape, keyword arguments): s's defaults are the input's lengths, and each
# repetition fits its axis again (fftn: from the last entry back; rfftn: the last axis' rfft
# first; irfftn: the others in order, then the last's irfft)
REPEATED = [
    ("fftn", (4, 3), {"axes": (0, 0)}),
    ("fftn", (4, 3), {"axes": (0, -2), "s": (3, 5)}),          # padded to 5, then cut to 3
    ("ifftn", (4, 3), {"axes": (1, 0, 1), "s": (5, -1, 2), "norm": "ortho"}),
    ("fft2", (2, 4, 3), {"axes": (-1, -1), "norm": "forward"}),
    ("ifft2", (4, 3), {"axes": (1, 1), "s": (2, 6)}),
    ("rfftn", (4, 3), {"axes": (0, 0)}),                         # rfft to 3, fft padded to 4
    ("rfftn", (4, 3), {"axes": (1, 0, 1)}),
    ("rfft2", (4, 5), {"axes": (1, 1), "s": (7, 4), "norm": "ortho"}),
    ("irfftn", (4, 3), {"axes": (0, 0)}),                        # ifft, then irfft to 6
    ("irfftn", (4, 3), {"axes": (1, 0, 1), "s": (3, 4, 5)}),
    ("irfft2", (3, 4), {"axes": (0, 0), "s": (5, 3), "norm": "forward"}),
    ("irfftn", (3, 2), {"axes": (0, 1, 0), "s": (2, -1, 4), "norm": "ortho"}),
]


def _cin(name):
    return not name.startswith("rfft")


@pytest.mark.parametrize("name, shape, kw", REPEATED, ids=lambda v: str(v))
def test_repeated_axes_values_as_numpy(backend, name, shape, kw):
    x = _draw(shape, _cin(name))
    want = _np(name, x, kw)
    for dt, tol in (("complex128" if _cin(name) else "float64", 1e-12),
                    ("complex64" if _cin(name) else "float32", 3e-5)):
        got = getattr(fnp.fft, name)(backend.asarray(x, dt), **kw)
        assert backend.is_own(got)
        g = backend.to_numpy(got)
        want_dt = _np(name, x.astype(dt), kw).dtype
        assert g.shape == want.shape and g.dtype == want_dt
        np.testing.assert_allclose(g, want, atol=tol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("name, shape, kw", REPEATED, ids=lambda v: str(v))
def test_repeated_axes_vjp_is_the_linear_maps_transpose(backend, name, shape, kw):
    cin = _cin(name)
    x = _draw(shape, cin)
    f = lambda v: _np(name, v, kw)  # noqa: E731
    y = f(x)
    u = _draw(y.shape, np.iscomplexobj(y))
    want = _linear_map_vjp(f, shape, cin, u)
    got_y, pull = ft.vjp(lambda v: getattr(fnp.fft, name)(v, **kw),
                         backend.asarray(x, "complex128" if cin else "float64"))
    np.testing.assert_allclose(backend.to_numpy(got_y), y, atol=1e-12)
    (ct,) = pull(backend.asarray(u, "complex128" if np.iscomplexobj(y) else "float64"))
    assert backend.is_own(ct)
    np.testing.assert_allclose(backend.to_numpy(ct), want, atol=1e-11)


def _real_function(call, complex_in):
    """The transform as a real function of the real (and imaginary) parts, with nonlinear
    maps before and after, so that second derivatives are not zero."""
    def F(*parts):
        x = parts[0] + 1j * parts[1] if complex_in else parts[0]
        y = call(x + 0.25 * x * x)
        if fnp.isdtype(y.dtype, "complex floating"):
            y = fnp.concat([fnp.reshape(fnp.real(y), (-1,)), fnp.reshape(fnp.imag(y), (-1,))])
        return fnp.sum(fnp.sin(y) + 0.3 * y * fnp.cos(0.5 * y))
    return F


def _check_first_and_second_order(backend, call, x):
    """grad against central differences, the hessian against central differences of the
    grad, and jit(grad), jacfwd(grad) = jacrev(grad) (all in float64)."""
    cin = np.iscomplexobj(x)
    parts = (x.real.copy(), x.imag.copy()) if cin else (x.copy(),)
    F = _real_function(call, cin)
    argn = tuple(range(len(parts)))
    args = [backend.asarray(p) for p in parts]
    g = [backend.to_numpy(v) for v in ft.grad(F, argnums=argn)(*args)]
    gj = [backend.to_numpy(v) for v in ft.jit(ft.grad(F, argnums=argn))(*args)]
    np.testing.assert_allclose(np.concatenate([v.ravel() for v in gj]),
                               np.concatenate([v.ravel() for v in g]), atol=1e-12)
    t = [RNG.standard_normal(p.shape) for p in parts]
    h = 1e-5

    def at(step):
        return [backend.asarray(p + step * d) for p, d in zip(parts, t)]
    fd = (float(F(*at(h))) - float(F(*at(-h)))) / (2 * h)
    np.testing.assert_allclose(sum(float(np.sum(a * d)) for a, d in zip(g, t)), fd,
                               rtol=1e-7, atol=1e-8)
    # second order: the hessian along t against central differences of the gradient
    _, hv = ft.jvp(lambda *p: ft.grad(F, argnums=argn)(*p), tuple(args),
                   tuple(backend.asarray(d) for d in t))
    gp = ft.grad(F, argnums=argn)(*at(h))
    gm = ft.grad(F, argnums=argn)(*at(-h))
    for a, p, m in zip(hv, gp, gm):
        np.testing.assert_allclose(backend.to_numpy(a),
                                   (backend.to_numpy(p) - backend.to_numpy(m)) / (2 * h),
                                   rtol=1e-6, atol=1e-7)
    # jacfwd and jacrev of the gradient (the full hessian) agree
    hf = ft.jacfwd(ft.grad(F, argnums=argn), argnums=argn)(*args)
    hr = ft.jacrev(ft.grad(F, argnums=argn), argnums=argn)(*args)
    for i in argn:
        for j in argn:
            np.testing.assert_allclose(backend.to_numpy(hf[i][j]), backend.to_numpy(hr[i][j]),
                                       atol=1e-10)


@pytest.mark.parametrize("name, shape, kw", [REPEATED[1], REPEATED[6], REPEATED[9]],
                         ids=lambda v: str(v))
def test_repeated_axes_second_order_against_central_differences(backend, name, shape, kw):
    _check_first_and_second_order(backend, lambda v: getattr(fnp.fft, name)(v, **kw),
                                  _draw(shape, _cin(name)))


@pytest.mark.parametrize("name, shape, kw", [REPEATED[2], REPEATED[7], REPEATED[10]],
                         ids=lambda v: str(v))
def test_repeated_axes_vmap_and_jit(backend, name, shape, kw):
    # vmap moves the transformed axes: the batched call must name the same (shifted) axes
    cin = _cin(name)
    dt = "complex128" if cin else "float64"
    xs = np.stack([_draw(shape, cin) for _ in range(3)], axis=1)
    f = lambda v: getattr(fnp.fft, name)(v, **kw)  # noqa: E731
    got = ft.vmap(f, in_axes=1, out_axes=0)(backend.asarray(xs, dt))
    want = np.stack([_np(name, xs[:, i], kw) for i in range(3)])
    np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(f)(backend.asarray(xs[:, 0], dt))),
                               want[0], atol=1e-12)


def test_repeated_axes_staged_graph_transforms_each_repetition():
    # fftn over (0, 0): two one-axis transforms, not one over a repeated axis (which the
    # libraries refuse) nor one over axis 0 alone
    g = str(ft.make_graph(lambda v: fnp.fft.fftn(v, axes=(0, 0)))(np.ones((3, 2), complex)))
    assert g.count("= fft ") == 2 and g.count("[axes=(0,), inverse=False") == 2, g
    x = _draw((3, 2), True)
    np.testing.assert_allclose(fnp.fft.fftn(x, axes=(0, 0)),
                               3 * x[[0, 2, 1]], atol=1e-12)   # F F x = n x[-k]


# -- SciPy's Hermitian n-dimensional transforms -----------------------------------------------

# (name, input shape, keyword arguments)
HERMITIAN = [
    ("hfftn", (3, 4), {}),
    ("hfftn", (3, 4), {"norm": "ortho", "s": (4, 7)}),           # padded, odd output
    ("hfftn", (2, 3, 4), {"axes": (2, 0), "norm": "forward"}),
    ("hfftn", (3, 5), {"axes": 0, "s": 4}),                       # integers, as SciPy
    ("hfftn", (4, 1), {}),                                        # m = 1: one output entry
    ("hfft2", (3, 4), {}),
    ("hfft2", (2, 3, 4), {"s": (2, -1), "norm": "ortho"}),
    ("ihfftn", (3, 4), {}),
    ("ihfftn", (3, 5), {"s": (2, 6), "norm": "ortho"}),
    ("ihfftn", (2, 3, 4), {"axes": (0, 2), "norm": "forward"}),
    ("ihfft2", (4, 5), {}),
    ("ihfft2", (2, 3, 4), {"axes": (0, 1), "s": (3, 5)}),
]


def _hcin(name):
    return name.startswith("hfft")


@pytest.mark.parametrize("name, shape, kw", HERMITIAN, ids=lambda v: str(v))
def test_hermitian_values_as_scipy(backend, name, shape, kw):
    x = _draw(shape, _hcin(name))
    want = getattr(sfft, name)(x, **kw)
    for dt, tol in (("complex128" if _hcin(name) else "float64", 1e-13),
                    ("complex64" if _hcin(name) else "float32", 3e-6)):
        got = getattr(fsfft, name)(backend.asarray(x, dt), **kw)
        assert backend.is_own(got)
        g = backend.to_numpy(got)
        assert g.shape == want.shape
        assert g.dtype == getattr(sfft, name)(x.astype(dt), **kw).dtype
        np.testing.assert_allclose(g, want, atol=tol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool", "float16"])
@pytest.mark.parametrize("name", ["hfftn", "ihfftn", "hfft2", "ihfft2"])
def test_hermitian_real_and_integer_input_dtypes_as_scipy(name, dtype):
    x = (RNG.standard_normal((3, 4)) * 3).astype(dtype)
    want = getattr(sfft, name)(x)
    got = np.asarray(getattr(fsfft, name)(x))
    assert got.dtype == want.dtype
    tol = 1e-5 if dtype in ("float32", "float16") else 1e-12
    np.testing.assert_allclose(got, want, atol=tol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("name, shape, kw", HERMITIAN, ids=lambda v: str(v))
def test_hermitian_vjp_is_the_linear_maps_transpose(backend, name, shape, kw):
    # hfftn reads the real parts of the self-conjugate entries only: their imaginary parts
    # have a zero derivative, as irfftn's (the column-by-column map from SciPy says so)
    cin = _hcin(name)
    x = _draw(shape, cin)
    f = lambda v: getattr(sfft, name)(v, **kw)  # noqa: E731
    y = f(x)
    u = _draw(y.shape, np.iscomplexobj(y))
    want = _linear_map_vjp(f, shape, cin, u)
    got_y, pull = ft.vjp(lambda v: getattr(fsfft, name)(v, **kw),
                         backend.asarray(x, "complex128" if cin else "float64"))
    np.testing.assert_allclose(backend.to_numpy(got_y), y, atol=1e-12)
    (ct,) = pull(backend.asarray(u, "complex128" if np.iscomplexobj(y) else "float64"))
    assert backend.is_own(ct)
    np.testing.assert_allclose(backend.to_numpy(ct), want, atol=1e-11)


@pytest.mark.parametrize("name, shape, kw", [HERMITIAN[1], HERMITIAN[2], HERMITIAN[8],
                                             HERMITIAN[11]], ids=lambda v: str(v))
def test_hermitian_second_order_against_central_differences(backend, name, shape, kw):
    _check_first_and_second_order(backend, lambda v: getattr(fsfft, name)(v, **kw),
                                  _draw(shape, _hcin(name)))


@pytest.mark.parametrize("name, shape, kw", [HERMITIAN[2], HERMITIAN[6], HERMITIAN[9]],
                         ids=lambda v: str(v))
def test_hermitian_vmap_and_jit(backend, name, shape, kw):
    cin = _hcin(name)
    dt = "complex128" if cin else "float64"
    xs = np.stack([_draw(shape, cin) for _ in range(3)], axis=-1)
    f = lambda v: getattr(fsfft, name)(v, **kw)  # noqa: E731
    got = ft.vmap(f, in_axes=-1)(backend.asarray(xs, dt))
    want = np.stack([getattr(sfft, name)(xs[..., i], **kw) for i in range(3)])
    np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(f)(backend.asarray(xs[..., 0], dt))),
                               want[0], atol=1e-12)

    def pulled(v, ct):
        return ft.vjp(f, v)[1](ct)[0]
    y = np.asarray(f(xs[..., 0]))
    cts = np.stack([_draw(y.shape, np.iscomplexobj(y)) for _ in range(3)])
    b0 = np.moveaxis(xs, -1, 0)
    got = ft.vmap(pulled)(backend.asarray(b0, dt), backend.asarray(cts, cts.dtype.name))
    loop = np.stack([backend.to_numpy(pulled(backend.asarray(b0[i], dt),
                                             backend.asarray(cts[i], cts.dtype.name)))
                     for i in range(3)])
    np.testing.assert_allclose(backend.to_numpy(got), loop, atol=1e-12)


def test_hermitian_round_trip_and_the_one_dimensional_forms():
    x = RNG.standard_normal((4, 6))
    np.testing.assert_allclose(fsfft.hfftn(fsfft.ihfftn(x), s=x.shape), x, atol=1e-12)
    z = _draw((5,), True)
    for norm in (None, "ortho", "forward"):
        np.testing.assert_allclose(fsfft.hfftn(z, norm=norm), fsfft.hfft(z, norm=norm),
                                   atol=1e-12)
        np.testing.assert_allclose(fsfft.ihfftn(x[0], norm=norm), fsfft.ihfft(x[0], norm=norm),
                                   atol=1e-12)


# (name, input, keyword arguments, exception, functrans's message): SciPy raises the same
# exception type for the same call
_ONES = np.ones((2, 3))
HERMITIAN_ERRORS = [
    ("hfftn", _ONES, {"axes": (0, 0)}, ValueError,
     r"repeated axes in \[0, 0\]; SciPy transforms each axis once"),
    ("ihfft2", _ONES, {"axes": (1, -1)}, ValueError, "repeated axes"),
    ("hfftn", _ONES, {"axes": (2,)}, ValueError,
     "axis 2 is out of range for an array of 2 dimensions"),
    ("hfft2", np.ones(3), {}, ValueError, "axis -2 is out of range"),
    ("hfftn", _ONES, {"s": (2, 2, 2)}, ValueError,
     "s has 3 entries but the input has 2 dimensions"),
    ("ihfftn", _ONES, {"s": (2, 2), "axes": (0,)}, ValueError,
     "s and axes must have the same length; got 2 and 1"),
    ("hfftn", _ONES, {"s": (2, 0)}, ValueError,
     r"invalid number of data points \(0\) along axis 1"),
    ("ihfftn", _ONES, {"s": (-2, 3)}, ValueError, r"invalid number of data points \(-2\)"),
    ("hfftn", np.ones((2, 0)), {}, ValueError, "invalid number of data points"),
    ("hfftn", _ONES, {"s": (2.0, 3)}, ValueError,
     "s must be an integer or a sequence of integers"),
    ("ihfftn", _ONES, {"axes": [0.0]}, ValueError,
     "axes must be an integer or a sequence of integers"),
    ("hfftn", np.ones(()), {}, ValueError, "at least one axis must be transformed"),
    ("ihfftn", _ONES, {"axes": ()}, ValueError, "at least one axis must be transformed"),
    ("ihfftn", _ONES + 0j, {}, TypeError, "ihfftn: x must be real; got complex128"),
    ("hfftn", _ONES, {"norm": "unitary"}, ValueError, "norm must be None"),
    ("ihfft2", _ONES, {"plan": object()}, NotImplementedError,
     "precomputed plans are not supported"),
]


@pytest.mark.parametrize("name, x, kw, exc, msg", HERMITIAN_ERRORS,
                         ids=lambda v: str(v)[:30])
def test_hermitian_bad_arguments_raise_as_scipy(name, x, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        getattr(fsfft, name)(x, **kw)
    with pytest.raises(exc):
        getattr(sfft, name)(x, **kw)


def test_scipy_fourier_transforms_refuse_repeated_axes_numpy_transforms_twice(backend):
    x = backend.asarray(_draw((3, 4), True), "complex128")
    for name in ("fftn", "ifftn", "fft2", "ifft2", "irfftn", "irfft2"):
        with pytest.raises(ValueError, match="repeated axes"):
            getattr(fsfft, name)(x, axes=(1, -1))
        with pytest.raises(ValueError):
            getattr(sfft, name)(np.ones((3, 4), complex), axes=(1, -1))
        got = getattr(fnp.fft, name)(x, axes=(1, -1))
        np.testing.assert_allclose(backend.to_numpy(got),
                                   _np(name, backend.to_numpy(x), {"axes": (1, -1)}),
                                   atol=1e-12)
    r = backend.asarray(RNG.standard_normal((3, 4)))
    for name in ("rfftn", "rfft2"):
        with pytest.raises(ValueError, match="repeated axes"):
            getattr(fsfft, name)(r, axes=(0, 0))


def test_scipy_nd_transforms_take_integer_s_and_axes_as_scipy(backend):
    x = _draw((3, 4), True)
    xb = backend.asarray(x, "complex128")
    for name, kw in [("fftn", {"s": 5}), ("ifftn", {"axes": 0}),
                     ("fft2", {"s": (2, 6)}), ("rfftn", {"s": np.int64(6), "axes": 0}),
                     ("irfftn", {"axes": np.int64(0)}), ("irfft2", {"s": [-1, 5]})]:
        inp = x.real.copy() if name == "rfftn" else x
        got = getattr(fsfft, name)(backend.asarray(inp) if name == "rfftn" else xb, **kw)
        want = getattr(sfft, name)(inp, **kw)
        np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-12)


def test_scipy_irfftn_of_one_frequency_gives_one_entry_as_scipy(backend):
    # SciPy's irfftn/irfft2/hfftn/hfft2 read a last axis of one entry as an output of
    # length 1 (2 m - 1; 2 (m - 1) = 0 is no length); NumPy's irfftn refuses, and so does
    # functrans.numpy.fft's
    x = _draw((3, 1), True)
    for name in ("irfftn", "irfft2", "hfftn", "hfft2"):
        got = getattr(fsfft, name)(backend.asarray(x, "complex128"))
        np.testing.assert_allclose(backend.to_numpy(got), getattr(sfft, name)(x), atol=1e-12)
    with pytest.raises(ValueError, match="invalid number of data points"):
        fnp.fft.irfftn(x)
    with pytest.raises(ValueError):
        np.fft.irfftn(x)


def test_scipy_fft_takes_overwrite_x_and_workers_refuses_a_plan():
    x = _draw((4, 6), True)
    np.testing.assert_allclose(fsfft.fft(x, None, -1, "ortho", True, 4),
                               sfft.fft(x, None, -1, "ortho", True, 4), atol=1e-12)
    np.testing.assert_allclose(fsfft.irfft2(x, (4, 7), (0, 1), None, False, -1),
                               sfft.irfft2(x, (4, 7), (0, 1), None, False, -1), atol=1e-12)
    r = x.real.copy()
    # SciPy's positional order for the one-axis r2r: ..., overwrite_x, workers, orthogonalize
    np.testing.assert_allclose(fsfft.dct(r, 2, None, -1, "ortho", False, 2, False),
                               sfft.dct(r, 2, None, -1, "ortho", False, 2, False), atol=1e-12)
    np.testing.assert_allclose(fsfft.idstn(r, 3, None, None, None, True, 1,
                                           orthogonalize=True),
                               sfft.idstn(r, 3, None, None, None, True, 1,
                                          orthogonalize=True), atol=1e-12)
    for name in ("fft", "irfft", "hfft", "fftn", "irfftn", "rfft2", "hfftn", "ihfft2"):
        with pytest.raises(NotImplementedError, match="plan"):
            getattr(fsfft, name)(r, plan="p")
        with pytest.raises(NotImplementedError):
            getattr(sfft, name)(r, plan="p")


@pytest.mark.parametrize("kw, dtype", [({"axes": (0,)}, "float16"), ({}, "float16"),
                                       ({"axes": (-1,), "s": (4,)}, "float16"),
                                       ({"axes": (0, 0)}, "float32")])
def test_irfftn_of_real_half_input_over_one_axis_keeps_float16_as_numpy(backend, kw, dtype):
    # NumPy's irfftn over one axis is its irfft (float16 back); over an axis named twice
    # its inverse c2c step first gives complex64, so float32. functrans gave float32 for
    # every irfftn/irfft2 (the fuzzer found it); SciPy's give float32 always
    if backend.name == "array_api_strict":
        pytest.skip("array-api-strict has no float16")
    x = RNG.standard_normal(5).astype(np.float16)
    want = np.fft.irfftn(x, **kw)
    assert want.dtype == dtype
    for name in ("irfftn", "irfft2"):
        if name == "irfft2" and "axes" not in kw:
            continue
        got = getattr(fnp.fft, name)(backend.asarray(x, "float16"), **kw)
        g = backend.to_numpy(got)
        assert g.dtype == dtype
        np.testing.assert_allclose(g.astype(np.float64), want, atol=2e-3)
        if kw.get("axes") != (0, 0):
            assert backend.to_numpy(getattr(fsfft, name)(backend.asarray(x, "float16"),
                                                         **kw)).dtype == np.float32
            assert getattr(sfft, name)(x, **kw).dtype == np.float32


def test_scipy_c2r_explicit_zero_length_is_refused():
    # SciPy 1.17's irfft/hfft take n=0 as pocketfft's default 2 m - 1 and give one entry
    # silently (irfft(arange(5.), n=0) = [0.]); a length 0 is refused here, as NumPy does
    assert sfft.irfft(np.arange(5.0), n=0).shape == (1,)
    for name in ("irfft", "hfft"):
        with pytest.raises(ValueError, match=r"invalid number of data points \(0\)"):
            getattr(fsfft, name)(np.arange(5.0), n=0)
