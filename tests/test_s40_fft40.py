"""Session 40 (fft40): functrans.numpy.fft, functrans.lax.fft and functrans.scipy.fft fuzzed
against NumPy/SciPy and JAX under every transform.

tests/_fuzz_fft_jax.py is the seeded fuzzer (run by hand: it needs jax). Pinned here: the
derivatives of every transform as an R-linear map built column by column from NumPy's values
(so the Hermitian-redundant entries of irfft/hfft's input, the cropped and padded entries, and
JAX's complex convention Re sum(u J v) = Re sum(J^T u v) are checked against mathematics, not
against another autodiff), irfftn's redundancy across axes, second derivatives against central
differences, vmap/jit against loops and eager calls, fftfreq's explicit dtype, and a few
comparisons with JAX (skipped without jax).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.fft as sfft

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
import functrans.scipy.fft as fsfft

RNG = np.random.default_rng(40)


def _np(name, x, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(np.fft, name)(x, **kw)


def _linear_map_vjp(f, shape, complex_in, u):
    """JAX's convention for the cotangent of the R-linear map ``f`` (NumPy values) at ``u``:
    the k-th entry is Re sum(u f(e_k)) - i Re sum(u f(i e_k)), so that Re sum(u f(v)) =
    Re sum(vjp(u) v) for every v (real v: only the real part)."""
    n = int(np.prod(shape))
    out = np.zeros(n, dtype=np.complex128 if complex_in else np.float64)
    for k in range(n):
        e = np.zeros(n, dtype=np.complex128 if complex_in else np.float64)
        e[k] = 1
        out[k] = np.real(np.sum(u * f(e.reshape(shape))))
        if complex_in:
            out[k] -= 1j * np.real(np.sum(u * f((1j * e).reshape(shape))))
    return out.reshape(shape)


# (name, input shape, complex input, keyword arguments): each the R-linear map of its input
VJP_CASES = [
    ("irfft", (5,), True, {}),                    # n = 8: Im y_0, Im y_4 are ignored
    ("irfft", (5,), True, {"n": 9}),              # odd n: only Im y_0 ignored
    ("irfft", (5,), True, {"n": 4}),              # cropped to 3 entries
    ("irfft", (3,), True, {"n": 10}),             # padded to 6
    ("irfft", (2, 4), True, {"axis": 0, "norm": "ortho"}),
    ("irfft", (1,), True, {}),                    # n = 0: refused (checked below)
    ("hfft", (4,), True, {}),
    ("hfft", (4,), True, {"n": 7, "norm": "forward"}),
    ("hfft", (3, 2), True, {"axis": 0, "n": 2}),
    ("hfft", (4,), False, {"norm": "ortho"}),     # real input
    ("irfftn", (3, 4), True, {}),                 # redundancy across both axes
    ("irfftn", (3, 3), True, {"s": (4, 5), "norm": "ortho"}),
    ("irfftn", (3, 4), True, {"axes": (1, 0)}),
    ("irfft2", (2, 2, 3), True, {"s": (3, 4), "norm": "forward"}),
    ("rfft", (6,), False, {}),
    ("rfft", (5,), False, {"n": 8, "norm": "ortho"}),
    ("ihfft", (5,), False, {"n": 4}),
    ("rfftn", (3, 4), False, {"axes": (0, 1), "s": (2, 5)}),
    ("fft", (5,), True, {"n": 3}),
    ("ifft", (2, 3), True, {"axis": 0, "n": 4, "norm": "forward"}),
    ("fft", (4,), False, {}),
    ("fftn", (2, 3), True, {"s": (3, 2), "norm": "ortho"}),
    ("ifft2", (2, 3), True, {}),
]


@pytest.mark.parametrize("name, shape, cin, kw", [c for c in VJP_CASES if c[1] != (1,)],
                         ids=lambda v: str(v))
def test_vjp_is_the_linear_maps_transpose(backend, name, shape, cin, kw):
    x = RNG.standard_normal(shape) + (1j * RNG.standard_normal(shape) if cin else 0)
    f = lambda v: _np(name, v, kw)  # noqa: E731
    y = f(x)
    u = RNG.standard_normal(y.shape) + (1j * RNG.standard_normal(y.shape)
                                        if np.iscomplexobj(y) else 0)
    want = _linear_map_vjp(f, shape, cin, u)
    dt = "complex128" if cin else "float64"
    got_y, pull = ft.vjp(lambda v: getattr(fnp.fft, name)(v, **kw), backend.asarray(x, dt))
    np.testing.assert_allclose(backend.to_numpy(got_y), y, atol=1e-12)
    (ct,) = pull(backend.asarray(u, "complex128" if np.iscomplexobj(y) else "float64"))
    assert backend.is_own(ct)
    np.testing.assert_allclose(backend.to_numpy(ct), want, atol=1e-12)


def test_irfft_redundant_entries_have_zero_derivative(backend):
    # irfft(y, 8) reads Re y_0 and Re y_4 only; a loss's derivative in Im y_0, Im y_4 is 0
    # (central differences of the split function say so), and Im y_k elsewhere is not
    y = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
    w = RNG.standard_normal(8)

    def loss_np(v):
        return float(np.sum(np.sin(np.fft.irfft(v)) * w))

    def loss(v):
        return fnp.sum(fnp.sin(fnp.fft.irfft(v)) * backend.asarray(w))
    g = backend.to_numpy(ft.grad(loss)(backend.asarray(y, "complex128")))
    h = 1e-6
    for k in range(5):
        e = np.zeros(5, dtype=complex)
        e[k] = 1
        d_re = (loss_np(y + h * e) - loss_np(y - h * e)) / (2 * h)
        d_im = (loss_np(y + 1j * h * e) - loss_np(y - 1j * h * e)) / (2 * h)
        # JAX's convention: grad = d/dRe - i d/dIm
        np.testing.assert_allclose(g[k].real, d_re, atol=1e-8)
        np.testing.assert_allclose(-g[k].imag, d_im, atol=1e-8)
        if k in (0, 4):
            assert g[k].imag == 0 and abs(d_im) < 1e-9
        else:
            assert abs(g[k].imag) > 1e-6


def test_irfft_of_a_single_frequency_needs_n():
    with pytest.raises(ValueError, match="invalid number of data points"):
        fnp.fft.irfft(np.ones(1, complex))
    # with n given, the one entry is the mean
    np.testing.assert_allclose(fnp.fft.irfft(np.array([3 + 4j]), n=3), [1.0, 1.0, 1.0])
    g = ft.grad(lambda v: fnp.sum(fnp.fft.irfft(v, n=3) ** 2))(np.array([3 + 4j]))
    np.testing.assert_allclose(g, [2.0])   # d/dRe (Re^2 / 3) = 2 Re / 3 = 2; Im ignored


# -- irfftn: the redundancy across axes -----------------------------------------------------

def test_irfftn_second_derivatives_against_central_differences(backend):
    # the c2r step ignores the anti-Hermitian part of the zero column after the inverse c2c
    # over the other axis: a hessian through it, split in real and imaginary parts
    shape = (3, 3)
    y0 = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    w = RNG.standard_normal((3, 4))

    wb = backend.asarray(w)

    def loss(re, im):
        v = re + 1j * im
        v = v + 0.25 * v * v
        return fnp.sum(fnp.sin(fnp.fft.irfftn(v)) * wb)
    re, im = backend.asarray(y0.real), backend.asarray(y0.imag)
    hess = ft.hessian(loss, argnums=(0, 1))(re, im)
    gr = ft.grad(loss, argnums=(0, 1))
    h = 1e-5
    for j, part in enumerate((re, im)):
        for i in range(2):
            got = backend.to_numpy(hess[i][j]).reshape(9, 9)
            for k in range(9):
                e = np.zeros(9)
                e[k] = h
                e = backend.asarray(e.reshape(shape))
                args_p = [re, im]
                args_m = [re, im]
                args_p[j] = part + e
                args_m[j] = part - e
                fd = (backend.to_numpy(gr(*args_p)[i]) - backend.to_numpy(gr(*args_m)[i])) / (
                    2 * h)
                np.testing.assert_allclose(got[:, k], fd.reshape(9), atol=1e-6)


# -- transforms: vmap, jit -------------------------------------------------------------------

@pytest.mark.parametrize("name, kw", [("irfft", {"n": 5, "axis": 0}), ("hfft", {"n": 6}),
                                      ("irfftn", {"axes": (0, -1)}), ("rfft", {"n": 3}),
                                      ("fftn", {"s": (2, 4)}), ("ihfft", {"axis": -2})])
def test_vmap_of_vjp_is_the_loop(backend, name, kw):
    cin = name in ("irfft", "hfft", "irfftn", "fftn")
    xs = RNG.standard_normal((2, 3, 4)) + (1j * RNG.standard_normal((2, 3, 4)) if cin else 0)
    dt = "complex128" if cin else "float64"
    f = lambda v: getattr(fnp.fft, name)(v, **kw)  # noqa: E731
    y = np.asarray(f(xs[0]))
    cts = RNG.standard_normal((2,) + y.shape) + (1j * RNG.standard_normal((2,) + y.shape)
                                                 if np.iscomplexobj(y) else 0)

    def vj(v, c):
        return ft.vjp(f, v)[1](c)[0]
    bx, bc = backend.asarray(xs, dt), backend.asarray(cts, str(y.dtype))
    got = backend.to_numpy(ft.vmap(vj, in_axes=(1, 0), out_axes=2)(
        backend.asarray(np.moveaxis(xs, 0, 1), dt), bc))
    loop = np.stack([backend.to_numpy(vj(bx[i, ...], bc[i, ...])) for i in range(2)], axis=2)
    np.testing.assert_allclose(got, loop, atol=1e-12)
    jitted = backend.to_numpy(ft.jit(vj)(bx[0, ...], bc[0, ...]))
    np.testing.assert_allclose(jitted, loop[:, :, 0], atol=1e-12)


# -- fftfreq: an explicit dtype is the result's ----------------------------------------------

@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_freq_explicit_dtype_wins_over_an_array_spacing(backend, name):
    d = backend.asarray(0.5)          # float64
    got = getattr(fnp.fft, name)(7, d, dtype="float32")
    assert backend.to_numpy(got).dtype == np.float32   # was float64 (float32 / float64)
    np.testing.assert_allclose(backend.to_numpy(got), getattr(np.fft, name)(7, 0.5),
                               rtol=1e-6)
    # without a dtype an array d promotes as NumPy: float64
    assert backend.to_numpy(getattr(fnp.fft, name)(7, d)).dtype == np.float64
    # the derivative in d of sum(freqs^2): -2 sum(freqs^2) / d
    g = ft.grad(lambda s: fnp.sum(getattr(fnp.fft, name)(7, s, dtype="float32") ** 2))(d)
    np.testing.assert_allclose(float(backend.to_numpy(g)),
                               -2 * np.sum(getattr(np.fft, name)(7, 0.5) ** 2) / 0.5,
                               rtol=1e-6)


# -- scipy.fft's real-to-real transforms: an empty axis with a length given ---------------------

@pytest.mark.parametrize("name", ["dct", "idct", "dst", "idst"])
@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_r2r_pads_an_empty_axis_to_n(backend, name, type):
    x = np.zeros((2, 0))
    got = getattr(fsfft, name)(backend.asarray(x), type=type, n=3, norm="ortho")
    want = getattr(sfft, name)(x, type=type, n=3, norm="ortho")   # zeros (2, 3)
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), want)   # was refused


def test_r2r_empty_axis_cases_as_scipy():
    got = fsfft.dctn(np.zeros((0, 6)), s=(4, 1), axes=(-1, 0))
    assert got.shape == sfft.dctn(np.zeros((0, 6)), s=(4, 1), axes=(-1, 0)).shape == (1, 4)
    # an empty batch of type 1 transforms of one point: empty, as SciPy's
    assert fsfft.dct(np.zeros((0, 1)), type=1).shape == (0, 1)
    with pytest.raises(ValueError, match="type 1 DCT needs at least 2"):
        fsfft.dct(np.zeros((3, 1)), type=1)
    with pytest.raises(ValueError, match=r"invalid number of data points \(0\)"):
        fsfft.dct(np.zeros(0))
    # the derivative through the padding: the padded zeros have no input to go to
    g = ft.grad(lambda v: fnp.sum(fsfft.dct(v, n=3) ** 2))(np.zeros((2, 0)))
    assert g.shape == (2, 0)


def test_repeated_fft_axes_say_what_to_do():
    # functrans.numpy.fft transforms a repeated axis once per repetition, as NumPy's (fft41:
    # tests/test_s41_fft41.py); functrans.scipy.fft refuses, as SciPy's
    with pytest.raises(ValueError, match="repeated axes.*SciPy transforms each axis once"):
        fsfft.fftn(np.ones((2, 3)), axes=(0, -2))


# (ft call, NumPy/SciPy reference, input shape, complex input)
_LAX_DCT_CASES = [
    ("lax-IRFFT", lambda v: lax.fft(v, "IRFFT", (2, 6)),
     lambda v: np.fft.irfftn(v, s=(2, 6), axes=(-2, -1)), (2, 4), True),
    ("lax-IRFFT-odd", lambda v: lax.fft(v, lax.FftType.IRFFT, (5,)),
     lambda v: np.fft.irfft(v, n=5), (2, 3), True),
    ("lax-RFFT", lambda v: lax.fft(v, "rfft", (3, 4)),
     lambda v: np.fft.rfftn(v, axes=(-2, -1)), (3, 4), False),
    ("lax-IFFT", lambda v: lax.fft(v, "IFFT", (4,)),
     lambda v: np.fft.ifft(v), (2, 4), True),
    ("dct2-ortho", lambda v: fsfft.dct(v, norm="ortho"),
     lambda v: sfft.dct(v, norm="ortho"), (5,), False),
    ("idct1-n", lambda v: fsfft.idct(v, type=1, n=4),
     lambda v: sfft.idct(v, type=1, n=4), (6,), False),
    ("dst4-forward", lambda v: fsfft.dst(v, type=4, norm="forward"),
     lambda v: sfft.dst(v, type=4, norm="forward"), (2, 3), False),
    ("dctn3-complex", lambda v: fsfft.dctn(v, type=3, s=(3, 2)),
     lambda v: sfft.dctn(v, type=3, s=(3, 2)), (2, 3), True),
    ("idstn1-ortho", lambda v: fsfft.idstn(v, type=1, axes=(0,), norm="ortho"),
     lambda v: sfft.idstn(v, type=1, axes=(0,), norm="ortho"), (3, 2), False),
]


@pytest.mark.parametrize("name, f, ref, shape, cin", _LAX_DCT_CASES,
                         ids=[c[0] for c in _LAX_DCT_CASES])
def test_lax_fft_and_r2r_vjp_is_the_linear_maps_transpose(backend, name, f, ref, shape, cin):
    x = RNG.standard_normal(shape) + (1j * RNG.standard_normal(shape) if cin else 0)
    y = ref(x)
    u = RNG.standard_normal(y.shape) + (1j * RNG.standard_normal(y.shape)
                                        if np.iscomplexobj(y) else 0)
    want = _linear_map_vjp(ref, shape, cin, u)
    got_y, pull = ft.vjp(f, backend.asarray(x, "complex128" if cin else "float64"))
    np.testing.assert_allclose(backend.to_numpy(got_y), y, atol=1e-12)
    (ct,) = pull(backend.asarray(u, "complex128" if np.iscomplexobj(y) else "float64"))
    np.testing.assert_allclose(backend.to_numpy(ct), want, atol=1e-12)


# -- argument errors ---------------------------------------------------------------------------

def test_shift_takes_a_numpy_integer_axis(backend):
    x = np.arange(12.0).reshape(3, 4)
    for name in ("fftshift", "ifftshift"):
        got = getattr(fnp.fft, name)(backend.asarray(x), axes=np.int64(1))  # was TypeError
        np.testing.assert_array_equal(backend.to_numpy(got),
                                      getattr(np.fft, name)(x, axes=np.int64(1)))
        with pytest.raises(TypeError, match=f"fft.{name}: axes must be an integer or a "
                                            f"sequence of integers; got 1.0"):
            getattr(fnp.fft, name)(x, axes=1.0)


@pytest.mark.parametrize("name, kw, hint", [
    ("fftn", {"s": 3}, r"s must be a sequence of integers; got 3 \(for one axis: \(3,\), or "
                       r"fft.fft with n\)"),
    ("irfft2", {"axes": 1}, r"axes must be a sequence of integers; got 1 \(for one axis: "
                            r"\(1,\), or fft.irfft with axis\)"),
    ("rfftn", {"axes": np.int64(0)}, "axes must be a sequence of integers"),
])
def test_nd_transforms_say_s_and_axes_are_sequences(name, kw, hint):
    # (were "object of type 'int' has no len()", "'int' object is not iterable")
    with pytest.raises(TypeError, match=hint):
        getattr(fnp.fft, name)(np.ones((2, 3)), **kw)


@pytest.mark.parametrize("name, type, norm, orth", [("dst", 2, None, True),
                                                    ("dct", 2, "ortho", False),
                                                    ("idct", 1, "forward", True),
                                                    ("idstn", 3, None, True)])
def test_r2r_of_complex_input_keeps_orthogonalize(backend, name, type, norm, orth):
    # the real and imaginary parts transformed apart, as SciPy defines complex input: SciPy
    # 1.17's complex path drops orthogonalize (dst(x, orthogonalize=True) of complex x is
    # its unorthogonalized transform); functrans keeps it
    x = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    f = lambda v: getattr(sfft, name)(v, type=type, norm=norm, orthogonalize=orth)  # noqa
    want = f(x.real) + 1j * f(x.imag)
    got = getattr(fsfft, name)(backend.asarray(x, "complex128"), type=type, norm=norm,
                               orthogonalize=orth)
    np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-12)


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn"])
def test_s_longer_than_the_input_is_refused(backend, name):
    # without axes, s names the last len(s) axes; more entries than axes was taken as a
    # wrapped axis -1 (fftn(ones(3), s=(2, 2)) gave shape (2,), of ones((1, 5)) with s=(1, 3,
    # 3) shape (3, 3)); NumPy raises AxisError
    from functrans.errors import AxisError
    for shape, s in [((3,), (2, 2)), ((1, 5), (1, 3, 3))]:
        x = backend.asarray(np.ones(shape), "complex128" if "fft" in name[:2] else "float64")
        with pytest.raises(AxisError, match=f"s has {len(s)} entries but the input has "
                                            f"{len(shape)} dimensions"):
            getattr(fnp.fft, name)(x, s=s)
        with pytest.raises(np.exceptions.AxisError):
            getattr(np.fft, name)(np.ones(shape), s=s)
    with pytest.raises(ValueError, match="s has 3 entries but the input has 2 dimensions"):
        fsfft.dctn(np.ones((1, 5)), s=(1, 3, 3))   # (was: repeated axes in [1, 0, 1])
    with pytest.raises(ValueError, match="s has 3 entries"):
        fsfft.fftn(np.ones((1, 5)), s=(1, 3, 3))
    # one entry for a lone length, as SciPy takes it
    assert fsfft.dctn(np.ones((2, 4)), s=np.int64(3)).shape == (2, 3)
