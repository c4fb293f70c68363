"""Fourier transforms, signal processing, ndimage and image resampling, case by case, on
functrans and on JAX (x64) side by side.

The cases follow the topics of JAX's tests/fft_test.py, scipy_signal_test.py,
scipy_ndimage_test.py and image_test.py, restated here: ``numpy.fft``'s transforms with
``n``/``s``/``axes``/``norm`` (odd and even lengths, padding and truncation), the sample
frequencies and shifts, ``lax.fft``; ``scipy.fft``'s DCTs; ``scipy.signal``'s convolutions
(modes, methods, boundaries), ``fftconvolve``, ``detrend``, ``welch``/``csd``/``stft``/
``istft`` and ``get_window``; ``scipy.ndimage.map_coordinates``; ``image.resize`` and
``scale_and_translate``. Each case is written once against a namespace (``m.fft``,
``m.signal``...) and checked in two ways: against a reference that is always there
(NumPy's or SciPy's values, a NumPy restatement of the resampling weights, central finite
differences in float64 and the dot-product identity through ``functrans.testing``), on
every backend; and, where JAX is installed, against JAX's values and derivatives. Where the
two libraries deliberately differ (JAX refuses what SciPy does, or JAX's dtypes for integer
input), the test pins functrans's behaviour against SciPy/NumPy and JAX's where present;
docs/coming-from-jax.md ("Fourier transforms, signal and image") lists them.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
import optree
import pytest
import scipy.fft as sfft
import scipy.ndimage as sndimage
import scipy.signal as ssignal

import functrans as ft
import functrans.image as fimage
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.scipy.fft as fsfft
import functrans.scipy.ndimage as fndimage
import functrans.scipy.signal as fsignal
from functrans.errors import ShapeError
from functrans.testing import check_grads


def _jax_namespace():
    """JAX's namespace (x64), or None where JAX is not installed (as in CI): then only the
    references that are always there are checked."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.image
    import jax.numpy as jnp
    import jax.scipy.fft
    import jax.scipy.ndimage
    import jax.scipy.signal
    return types.SimpleNamespace(
        name="jax", np=jnp, fft=jnp.fft, sfft=jax.scipy.fft, signal=jax.scipy.signal,
        ndimage=jax.scipy.ndimage, image=jax.image, lax=jax.lax, jvp=jax.jvp, vjp=jax.vjp,
        vmap=jax.vmap, jit=jax.jit, grad=jax.grad, linear_transpose=jax.linear_transpose,
        asarray=jnp.asarray, mod=jax)


FT = types.SimpleNamespace(
    name="functrans", np=fnp, fft=fnp.fft, sfft=fsfft, signal=fsignal, ndimage=fndimage,
    image=fimage, lax=flax, jvp=ft.jvp, vjp=ft.vjp, vmap=ft.vmap, jit=ft.jit, grad=ft.grad,
    linear_transpose=ft.linear_transpose)
JX = _jax_namespace()

RNG = np.random.default_rng(0)


def R(*shape, complex_=False, rng=RNG):
    x = rng.normal(size=shape)
    return x + 1j * rng.normal(size=shape) if complex_ else x


def _on(backend, tree):
    def one(a):
        if isinstance(a, np.ndarray):
            return backend.asarray(a, dtype=a.dtype.name)
        return a
    return optree.tree_map(one, tree)


def _jx(tree):
    return optree.tree_map(lambda a: JX.asarray(a) if isinstance(a, np.ndarray) else a, tree)


def close(got, want, tol=1e-10, dtype=True):
    lg, lw = optree.tree_leaves(got), optree.tree_leaves(want)
    assert len(lg) == len(lw), (len(lg), len(lw))
    for g, w in zip(lg, lw):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        if dtype:
            assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def run(backend, case, *args, ref=None, tol=1e-10, jax=True, jax_tol=None, jax_dtype=True):
    """``case(FT, ...)`` on ``backend``'s arrays (results must be that backend's), compared
    with ``ref`` (NumPy/SciPy values, dtypes included) and, where installed and ``jax``,
    with ``case(JX, ...)`` on JAX's arrays. Returns functrans's results as NumPy arrays."""
    got = case(FT, *_on(backend, args))
    for leaf in optree.tree_leaves(got):
        if hasattr(leaf, "shape"):
            assert backend.is_own(leaf), type(leaf)
    got = optree.tree_map(backend.to_numpy, got)
    if ref is not None:
        close(got, ref, tol)
    if JX is not None and jax:
        close(got, case(JX, *_jx(args)), tol if jax_tol is None else jax_tol, jax_dtype)
    return got


def thin(backend, index):
    """Table cases run in full on NumPy and one in three on the other backends (which run
    the same code paths; this keeps the file's time down)."""
    if backend.name != "numpy" and index % 3:
        pytest.skip("table case run on numpy; one in three runs on the other backends")


def _direction(x, rng):
    x = np.asarray(x)
    return R(*x.shape, complex_=x.dtype.kind == "c", rng=rng)


def grads(backend, case, *args, order=2, jax=True, tol=1e-9, **check):
    """Derivatives of ``case(m, *args)``: functrans's against central differences and the
    dot-product identity (``check_grads``, float64, complex inputs as real pairs) on
    ``backend``; where JAX is installed, its JVP and VJP at fixed directions against JAX's."""
    f = lambda *a: case(FT, *a)  # noqa: E731
    # second order on NumPy, first elsewhere (the rules are the same code on every backend)
    check_grads(f, tuple(_on(backend, args)), order=order if backend.name == "numpy" else 1,
                **check)
    if JX is None or not jax:
        return
    rng = np.random.default_rng(1)
    tangents = tuple(_direction(a, rng) for a in args)
    out_ft, t_ft = ft.jvp(f, tuple(_on(backend, args)), tuple(_on(backend, tangents)))
    g = lambda *a: case(JX, *a)  # noqa: E731
    out_jx, t_jx = JX.mod.jvp(g, tuple(_jx(args)), tuple(_jx(tangents)))
    close(optree.tree_map(backend.to_numpy, (out_ft, t_ft)), (out_jx, t_jx), tol, dtype=False)
    cts = optree.tree_map(lambda y: _direction(backend.to_numpy(y), rng), out_ft)
    ct_ft = ft.vjp(f, *_on(backend, args))[1](_on(backend, cts))
    ct_jx = JX.mod.vjp(g, *_jx(args))[1](_jx(cts))
    close(optree.tree_map(backend.to_numpy, ct_ft), ct_jx, tol, dtype=False)


# =============================================================================================
# numpy.fft
# =============================================================================================

def _one_d_cases():
    out = []
    for name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        for length, n, norm, axis in ((7, None, None, -1), (8, None, None, -1),
                                      (7, 5, "ortho", -1), (8, 12, "forward", 0),
                                      (7, 7, "backward", 0), (8, 9, "ortho", 1)):
            out.append((name, length, dict(n=n, axis=axis, norm=norm)))
    return out


ONE_D = _one_d_cases()


@pytest.mark.parametrize("name,length,kw", ONE_D,
                         ids=[f"{c[0]}-{c[1]}-{c[2]['n']}-{c[2]['norm']}-{c[2]['axis']}"
                              for c in ONE_D])
def test_fft_one_dimensional(backend, name, length, kw):
    thin(backend, ONE_D.index((name, length, kw)))
    shape = (length, 3) if kw["axis"] == 0 else (3, length)
    real_in = name in ("rfft", "ihfft")
    x = R(*shape, complex_=not real_in)
    run(backend, lambda m, a: getattr(m.fft, name)(a, **kw), x,
        ref=getattr(np.fft, name)(x, **kw), tol=1e-11)


ND = [
    ("fftn", (4, 5, 6), {}), ("fftn", (4, 5, 6), {"s": (3, 7)}),
    ("fftn", (4, 5, 6), {"axes": (0,), "norm": "ortho"}),
    ("fftn", (4, 5, 6), {"s": (2, 3, 9), "axes": (2, 0, 1), "norm": "forward"}),
    ("ifftn", (4, 5, 6), {"s": (5, 4), "axes": (1, -1)}),
    ("ifftn", (3, 4), {"axes": (-1,), "norm": "forward"}),
    ("rfftn", (4, 5, 6), {}), ("rfftn", (4, 5, 6), {"s": (3, 8), "norm": "ortho"}),
    ("rfftn", (4, 5, 6), {"axes": (2, 0)}), ("rfftn", (3, 4), {"axes": (0,), "s": (7,)}),
    ("irfftn", (4, 5, 6), {}), ("irfftn", (4, 5, 6), {"s": (4, 9), "axes": (0, 2)}),
    ("irfftn", (3, 4), {"s": (6, 7), "norm": "forward"}), ("irfftn", (3, 4), {"axes": (1, 0)}),
    ("fft2", (2, 4, 6), {}), ("fft2", (2, 4, 6), {"axes": (0, 2), "s": (3, 3)}),
    ("ifft2", (4, 6), {"norm": "ortho"}), ("rfft2", (3, 4, 5), {"axes": (1, 0)}),
    ("rfft2", (4, 6), {"s": (5, 5)}), ("irfft2", (3, 4), {"s": (4, 5)}),
    ("irfft2", (2, 3, 4), {"axes": (0, 1), "norm": "ortho"}),
]


@pytest.mark.parametrize("name,shape,kw", ND, ids=[f"{n}-{s}-{k}" for n, s, k in ND])
def test_fft_n_dimensional(backend, name, shape, kw):
    thin(backend, ND.index((name, shape, kw)))
    x = R(*shape, complex_=not name.startswith("rfft"))
    run(backend, lambda m, a: getattr(m.fft, name)(a, **kw), x,
        ref=getattr(np.fft, name)(x, **kw), tol=1e-11)


def test_fft_s_minus_one_keeps_the_length(backend):
    # NumPy 2 and the Array API: -1 in s keeps the input's length (JAX refuses it)
    x = R(3, 4, complex_=True)
    run(backend, lambda m, a: fnp.fft.fftn(a, s=(-1, 6)), x, ref=np.fft.fftn(x, s=(-1, 6)),
        jax=False)
    if JX is not None:
        with pytest.raises(ValueError):
            JX.fft.fftn(JX.asarray(x), s=(-1, 6))


def test_fft_axes_tuple_and_no_axes(backend):
    x = R(2, 3, 4, complex_=True)
    run(backend, lambda m, a: (m.fft.fftn(a, axes=(-1, 0)), m.fft.ifftn(a, axes=[1])), x,
        ref=(np.fft.fftn(x, axes=(-1, 0)), np.fft.ifftn(x, axes=[1])))
    # no axis to transform: the input as it is (NumPy's and JAX's fftn)
    got = backend.to_numpy(fnp.fft.fftn(_on(backend, x), axes=()))
    np.testing.assert_array_equal(got, x)


@pytest.mark.parametrize("dtype", ["float32", "complex64", "int32", "float16", "bool"])
def test_fft_result_dtypes(dtype):
    x = (R(6) * 3).astype(dtype) if dtype != "complex64" else R(6, complex_=True).astype(dtype)
    for name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn"):
        if name in ("rfft", "ihfft") and dtype == "complex64":
            with pytest.raises(TypeError, match="must be real"):
                getattr(fnp.fft, name)(x)
            continue
        got = getattr(fnp.fft, name)(x)
        want = getattr(np.fft, name)(x)
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        tol = 1e-12 if dtype in ("int32", "bool") else 2e-2 if dtype == "float16" else 1e-5
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    if JX is not None and dtype == "int32":
        # JAX (x64) transforms int32 in single precision; functrans follows NumPy's complex128
        assert JX.fft.fft(JX.asarray(x)).dtype == np.complex64
        assert fnp.fft.fft(x).dtype == np.complex128


@pytest.mark.parametrize("n", [9, 10, 101, 102])
@pytest.mark.parametrize("d", [0.1, 2.0])
def test_fft_frequencies(n, d):
    for name in ("fftfreq", "rfftfreq"):
        got = getattr(fnp.fft, name)(n, d)
        want = getattr(np.fft, name)(n, d)
        close(got, want, 1e-14)
        if JX is not None:
            close(got, getattr(JX.fft, name)(n, d), 1e-14)


def test_fft_frequencies_of_an_array_spacing(backend):
    d = backend.asarray(0.25)
    f = lambda m, d: (m.fft.fftfreq(8, d), m.fft.rfftfreq(7, d))  # noqa: E731
    run(backend, f, np.asarray(0.25), ref=(np.fft.fftfreq(8, 0.25), np.fft.rfftfreq(7, 0.25)))
    # d/dd (k / (n d)) = -k / (n d^2)
    w = np.linspace(-1.0, 1.0, 8)
    g = ft.grad(lambda d: fnp.sum(fnp.fft.fftfreq(8, d) * backend.asarray(w)))(d)
    np.testing.assert_allclose(backend.to_numpy(g), -np.sum(w * np.fft.fftfreq(8)) / 0.25 ** 2,
                               rtol=1e-12)
    grads(backend, lambda m, d: m.fft.fftfreq(9, d) * d, np.asarray(0.3))


SHIFT = [((9,), None), ((10,), 0), ((3, 5), None), ((3, 5), (1,)), ((3, 17), -1),
         ((5, 7, 11), (0, 2)), ((5, 7, 11), ())]


@pytest.mark.parametrize("shape,axes", SHIFT, ids=[f"{s}-{a}" for s, a in SHIFT])
def test_fft_shifts(backend, shape, axes):
    x = np.arange(np.prod(shape), dtype=float).reshape(shape)
    run(backend, lambda m, a: (m.fft.fftshift(a, axes=axes), m.fft.ifftshift(a, axes=axes)), x,
        ref=(np.fft.fftshift(x, axes=axes), np.fft.ifftshift(x, axes=axes)), tol=0)


FFT_GRADS = [
    ("fft-n-ortho", lambda m, a: m.fft.fft(a, n=8, norm="ortho"), True, (3, 6)),
    ("fft-truncate-axis0", lambda m, a: m.fft.fft(a, n=2, axis=0), True, (3, 6)),
    ("ifft-forward", lambda m, a: m.fft.ifft(a, norm="forward"), True, (5,)),
    ("rfft-odd", lambda m, a: m.fft.rfft(a, n=5), False, (3, 6)),
    ("rfft-pad", lambda m, a: m.fft.rfft(a, n=9, norm="ortho"), False, (6,)),
    ("irfft-odd-forward", lambda m, a: m.fft.irfft(a, n=7, norm="forward"), True, (3, 6)),
    ("irfft-even", lambda m, a: m.fft.irfft(a), True, (3, 6)),
    ("irfft-axis0", lambda m, a: m.fft.irfft(a, n=4, axis=0), True, (3, 2)),
    ("hfft", lambda m, a: m.fft.hfft(a, n=9), True, (3, 6)),
    ("ihfft", lambda m, a: m.fft.ihfft(a, n=4, axis=0, norm="ortho"), False, (3, 6)),
    ("fftn-s", lambda m, a: m.fft.fftn(a, s=(2, 5)), True, (3, 4)),
    ("ifft2", lambda m, a: m.fft.ifft2(a, norm="ortho"), True, (2, 3, 4)),
    ("rfftn-axes", lambda m, a: m.fft.rfftn(a, s=(2, 7), axes=(1, 0)), False, (3, 6)),
    ("irfftn-s", lambda m, a: m.fft.irfftn(a, s=(4, 9)), True, (3, 6)),
    ("irfft2", lambda m, a: m.fft.irfft2(a, s=(3, 5), norm="forward"), True, (3, 4)),
    ("shift", lambda m, a: m.fft.fftshift(m.fft.fft(a), axes=0) * a, True, (3, 4)),
]


@pytest.mark.parametrize("name,f,cplx,shape", FFT_GRADS, ids=[c[0] for c in FFT_GRADS])
def test_fft_derivatives(backend, name, f, cplx, shape):
    grads(backend, f, R(*shape, complex_=cplx))


def test_irfft_transpose_is_its_vjp(backend):
    # (JAX's testIrfftTranspose) the transpose of a linear map is its VJP
    x = R(3, 5, complex_=True)
    ct = R(3, 8)
    f = lambda m: (lambda z: m.fft.irfft(z, n=8))  # noqa: E731
    t = ft.linear_transpose(f(FT), _on(backend, x))(_on(backend, ct))
    v = ft.vjp(f(FT), _on(backend, x))[1](_on(backend, ct))
    close(optree.tree_map(backend.to_numpy, t), optree.tree_map(backend.to_numpy, v), 1e-12)
    # the dot-product identity against NumPy's irfft: <ct, irfft(x)> = Re sum(t x) (JAX's
    # convention: the cotangent of a complex input is conjugated)
    lhs = np.sum(ct * np.fft.irfft(x, n=8))
    rhs = np.sum(np.real(backend.to_numpy(t[0]) * x))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
    if JX is not None:
        tj = JX.linear_transpose(f(JX), JX.asarray(x))(JX.asarray(ct))
        close(optree.tree_map(backend.to_numpy, t), tj, 1e-12, dtype=False)


def test_fft_under_jit_and_vmap(backend):
    x = R(4, 6, complex_=True)

    def case(m, a):
        per_row = m.vmap(lambda r: m.fft.fft(r, n=7, norm="ortho"))(a)
        cols = m.vmap(lambda c: m.fft.irfft(c, n=5), in_axes=1, out_axes=1)(a)
        jitted = m.jit(lambda a: m.fft.rfft2(m.np.real(a), s=(3, 4)))(a)
        return per_row, cols, jitted
    run(backend, case, x, ref=(np.fft.fft(x, n=7, norm="ortho"), np.fft.irfft(x, n=5, axis=0),
                               np.fft.rfft2(x.real, s=(3, 4))))


@pytest.mark.parametrize("kind", ["FFT", "IFFT", "RFFT", "IRFFT"])
def test_lax_fft(backend, kind):
    x = R(2, 4, 6, complex_=kind != "RFFT")
    lengths = (4, 10) if kind == "IRFFT" else (4, 6)
    ref = {"FFT": lambda: np.fft.fftn(x, axes=(1, 2)), "IFFT": lambda: np.fft.ifftn(x, axes=(1, 2)),
           "RFFT": lambda: np.fft.rfftn(x, axes=(1, 2)),
           "IRFFT": lambda: np.fft.irfftn(x, s=lengths, axes=(1, 2))}[kind]()

    def case(m, a):
        return m.lax.fft(a, getattr(m.lax.FftType, kind), lengths)
    run(backend, case, x, ref=ref)
    grads(backend, case, x, order=1)


def test_fft_errors():
    x = R(2, 3)
    # a repeated axis is transformed once per repetition, as NumPy's (fft41; was refused)
    np.testing.assert_allclose(fnp.fft.fftn(x, axes=[1, 1]), np.fft.fftn(x, axes=[1, 1]),
                               atol=1e-12)
    with pytest.raises(ValueError, match="repeated axes"):
        fsfft.fftn(x, axes=[1, 1])   # (SciPy's refusal)
    with pytest.raises(ShapeError, match="out of range"):
        fnp.fft.rfftn(x, axes=[2])
    with pytest.raises(ShapeError, match="out of range"):
        fnp.fft.fft(x, axis=-3)
    with pytest.raises(ValueError, match="invalid number of data points"):
        fnp.fft.fft(x, n=0)
    with pytest.raises(TypeError, match="axis must be an integer.*use fft.fftn"):
        fnp.fft.fft(x, axis=[1, 1])
    with pytest.raises(TypeError, match="number of data points must be an integer"):
        fnp.fft.fftfreq([0, 1, 2])
    with pytest.raises(TypeError, match="must be an integer"):
        fnp.fft.rfft(x, n=2.5)
    with pytest.raises(ValueError, match="norm must be one of"):
        fnp.fft.ifft(x, norm="unitary")
    with pytest.raises(ValueError, match="s and axes must have the same length"):
        fnp.fft.fftn(x, s=(2, 3), axes=(0,))
    with pytest.raises(TypeError, match="must be real"):
        fnp.fft.rfft(x + 1j)
    with pytest.raises(ValueError, match="at least one axis"):
        fnp.fft.rfftn(x, axes=())
    with pytest.raises(ValueError, match="RFFT takes real input"):
        flax.fft(x + 1j, "rfft", (3,))
    with pytest.raises(ValueError, match="must equal fft_lengths"):
        flax.fft(x, "fft", (4,))


# =============================================================================================
# scipy.fft: DCT and DST
# =============================================================================================

def _dct_cases():
    out = []
    for name in ("dct", "idct", "dst", "idst"):
        for type_ in (1, 2, 3, 4):
            for n, norm, axis in ((None, None, -1), (4, "ortho", -1), (8, "forward", 0)):
                out.append((name, type_, dict(n=n, axis=axis, norm=norm)))
    return out


DCT = _dct_cases()


@pytest.mark.parametrize("name,type_,kw", DCT,
                         ids=[f"{c[0]}{c[1]}-{c[2]['n']}-{c[2]['norm']}-{c[2]['axis']}"
                              for c in DCT])
def test_dct_one_dimensional(backend, name, type_, kw):
    thin(backend, DCT.index((name, type_, kw)))
    x = R(5, 3) if kw["axis"] == 0 else R(3, 6)
    # JAX has the type 2 DCT and its inverse only, without norm='forward'
    jax_has = name in ("dct", "idct") and type_ == 2 and kw["norm"] != "forward"
    run(backend, lambda m, a: getattr(m.sfft, name)(a, type=type_, **kw), x,
        ref=getattr(sfft, name)(x, type=type_, **kw), tol=1e-11, jax=jax_has)


DCTN = [(t, s, axes, (None, "ortho")[(t + i) % 2]) for t in (1, 2, 3, 4)
        for i, (s, axes) in enumerate(((None, None), ((3, 7), None), (None, (0,)),
                                       ((4, 6), (-1, 0))))]


@pytest.mark.parametrize("type_,s,axes,norm", DCTN, ids=[str(c) for c in DCTN])
def test_dctn(backend, type_, s, axes, norm):
    thin(backend, DCTN.index((type_, s, axes, norm)))
    x = R(4, 5, 6)
    for name in ("dctn", "idctn"):
        run(backend, lambda m, a: getattr(m.sfft, name)(a, type=type_, s=s, axes=axes,
                                                          norm=norm), x,
            ref=getattr(sfft, name)(x, type=type_, s=s, axes=axes, norm=norm), tol=1e-11,
            jax=type_ == 2)


def test_dct_types_jax_refuses_are_scipys():
    # functrans has every type and norm of SciPy's; JAX refuses types other than 2 and
    # idctn's norm='forward'
    x = R(6)
    close(fsfft.dct(x, type=3), sfft.dct(x, type=3), 1e-12)
    close(fsfft.idctn(x, norm="forward"), sfft.idctn(x, norm="forward"), 1e-12)
    if JX is not None:
        with pytest.raises(NotImplementedError):
            JX.sfft.dct(JX.asarray(x), type=3)
        with pytest.raises(ValueError):
            JX.sfft.idctn(JX.asarray(x), norm="forward")


@pytest.mark.parametrize("dtype", ["float32", "int32", "complex64", "float16", "complex128"])
def test_dct_result_dtypes(dtype):
    x = (R(6) * 3 + (1j * R(6) if dtype.startswith("complex") else 0)).astype(dtype)
    for name in ("dct", "idct", "dst", "dctn"):
        got, want = getattr(fsfft, name)(x), getattr(sfft, name)(x)
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        tol = 1e-12 if dtype in ("int32", "complex128") else 2e-2 if dtype == "float16" else 1e-4
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


DCT_GRADS = [
    ("dct1-ortho", lambda m, a: m.sfft.dct(a, type=1, norm="ortho"), False),
    ("dct2-n", lambda m, a: m.sfft.dct(a, n=8, axis=0), False),
    ("dct2-complex", lambda m, a: m.sfft.dct(a, norm="ortho"), True),
    ("idct2-truncate", lambda m, a: m.sfft.idct(a, n=4), False),
    ("idct3-complex", lambda m, a: m.sfft.idct(a, type=3, n=8), True),
    ("dctn4", lambda m, a: m.sfft.dctn(a, type=4, s=(4, 5)), False),
    ("dctn2-ortho", lambda m, a: m.sfft.dctn(a, norm="ortho"), False),
    ("idctn2", lambda m, a: m.sfft.idctn(a, axes=(0,)), False),
    ("dst2", lambda m, a: m.sfft.dst(a, norm="forward"), False),
]


@pytest.mark.parametrize("name,f,cplx", DCT_GRADS, ids=[c[0] for c in DCT_GRADS])
def test_dct_derivatives(backend, name, f, cplx):
    x = R(3, 6, complex_=cplx)
    jax_has = name.startswith(("dct2", "idct2", "dctn2", "idctn2"))
    grads(backend, f, x, jax=jax_has)


# =============================================================================================
# scipy.signal: convolutions
# =============================================================================================

SHAPES = {1: [(1,), (2,), (5,), (10,)], 2: [(1, 1), (2, 3), (3, 4), (4, 4)],
          3: [(2, 2, 2), (3, 3, 2), (5, 5, 2)]}


def _pair(shape1, shape2, dtype, rng):
    def one(s):
        if dtype == "complex128":
            return R(*s, complex_=True, rng=rng)
        return (rng.normal(size=s) * 4).astype(dtype)
    return one(shape1), one(shape2)


@pytest.mark.parametrize("op", ["convolve", "correlate"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolutions(backend, op, nd, mode):
    rng = np.random.default_rng(nd)
    on_numpy = backend.name == "numpy"
    shapes = SHAPES[nd] if on_numpy else SHAPES[nd][1::2]
    for s1 in shapes:
        for s2 in shapes:
            for dtype in ("float64", "int64", "complex128") if on_numpy else ("complex128",):
                x, y = _pair(s1, s2, dtype, rng)
                try:
                    want = getattr(ssignal, op)(x, y, mode=mode)
                except ValueError:  # 'valid' with neither operand the larger
                    with pytest.raises(ValueError, match="at least as large"):
                        getattr(fsignal, op)(x, y, mode=mode)
                    continue
                # JAX gives float for integer input; functrans keeps SciPy's integer dtype
                run(backend, lambda m, a, b: getattr(m.signal, op)(a, b, mode=mode), x, y,
                    ref=want, tol=1e-10, jax_dtype=dtype != "int64")


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_convolution_methods(backend, method):
    x, y = R(12), R(5)
    for op in ("convolve", "correlate"):
        for mode in ("full", "same", "valid"):
            run(backend, lambda m, a, b: getattr(m.signal, op)(a, b, mode=mode, method=method,
                                                                precision="highest"), x, y,
                ref=getattr(ssignal, op)(x, y, mode=mode, method=method), tol=1e-10)


@pytest.mark.parametrize("op", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("boundary,fillvalue", [("fill", 0), ("fill", 1.5), ("wrap", 0),
                                                ("symm", 0)])
def test_convolutions_2d(backend, op, mode, boundary, fillvalue):
    thin(backend, len(op) + len(mode) + len(boundary) + int(fillvalue))
    rng = np.random.default_rng(2)
    shapes = [(1, 1), (2, 3), (4, 4), (5, 6), (2, 5)]
    on_numpy = backend.name == "numpy"
    for s1 in shapes if on_numpy else shapes[2:4]:
        for s2 in shapes[:4] if on_numpy else shapes[1:3]:
            for dtype in ("float64", "int64", "complex128") if on_numpy else ("complex128",):
                x, y = _pair(s1, s2, dtype, rng)
                kw = dict(mode=mode, boundary=boundary, fillvalue=fillvalue)
                try:
                    want = getattr(ssignal, op)(x, y, **kw)
                except ValueError:
                    with pytest.raises(ValueError):
                        getattr(fsignal, op)(x, y, **kw)
                    continue
                # JAX has boundary='fill' with fillvalue 0 only, and refuses pairs where
                # neither operand is the larger in every dimension (SciPy does not)
                jax_has = (boundary == "fill" and fillvalue == 0
                           and (all(a >= b for a, b in zip(s1, s2))
                                or all(a <= b for a, b in zip(s1, s2))))
                run(backend, lambda m, a, b: getattr(m.signal, op)(a, b, **kw), x, y,
                    ref=want, tol=1e-10, jax=jax_has, jax_dtype=dtype != "int64")


def test_convolve2d_boundaries_jax_refuses():
    x, y = R(4, 5), R(2, 3)
    close(fsignal.convolve2d(x, y, boundary="symm"), ssignal.convolve2d(x, y, boundary="symm"))
    if JX is not None:
        with pytest.raises(NotImplementedError):
            JX.signal.convolve2d(JX.asarray(x), JX.asarray(y), boundary="symm")


FFTCONV = [((20,), (5,), None), ((6, 7), (3, 2), None), ((6, 7), (3, 2), (0, 1)),
           ((3, 7), (3, 4), 1), ((3, 7), (3, 4), [-1]), ((4, 7), (2, 7), 0),
           ((2, 5, 6), (2, 3, 6), (1,)), ((3, 4), (3, 9), [1]), ((2, 5, 6), (2, 3, 2), (2, 1))]


@pytest.mark.parametrize("s1,s2,axes", FFTCONV, ids=[str(c) for c in FFTCONV])
def test_fftconvolve(backend, s1, s2, axes):
    x, y = R(*s1), R(*s2, complex_=len(s1) == 3)
    for mode in ("full", "same", "valid"):
        run(backend, lambda m, a, b: m.signal.fftconvolve(a, b, mode=mode, axes=axes), x, y,
            ref=ssignal.fftconvolve(x, y, mode=mode, axes=axes), tol=1e-10)


def test_fftconvolve_dtypes_and_broadcasting():
    a, b = np.arange(6), np.array([1, 2, 1])
    for dt in ("int64", "int32", "bool", "float32"):
        got = fsignal.fftconvolve(a.astype(dt), b.astype(dt))
        want = ssignal.fftconvolve(a.astype(dt), b.astype(dt))
        assert got.dtype == want.dtype, (dt, got.dtype, want.dtype)
        close(got, want, 1e-5)
        assert fsignal.oaconvolve(a.astype(dt), b.astype(dt)).dtype == want.dtype
    # an axis of length 1 along the axes not convolved broadcasts, as SciPy's (JAX refuses)
    x, y = R(3, 7), R(1, 4)
    for mode in ("full", "same", "valid"):
        close(fsignal.fftconvolve(x, y, mode=mode, axes=1),
              ssignal.fftconvolve(x, y, mode=mode, axes=1), 1e-10)
        close(fsignal.fftconvolve(y, x, mode=mode, axes=1),
              ssignal.fftconvolve(y, x, mode=mode, axes=1), 1e-10)
    with pytest.raises(ValueError, match="equal lengths"):
        fsignal.fftconvolve(R(3, 7), R(2, 4), axes=1)
    with pytest.raises(ValueError, match="at least one axis"):
        fsignal.fftconvolve(x, y, axes=())
    if JX is not None:
        with pytest.raises(ValueError):
            JX.signal.fftconvolve(JX.asarray(x), JX.asarray(y), axes=[1])


CONV_GRADS = [
    ("convolve-same", lambda m, a, b: m.signal.convolve(a, b, mode="same"), (3, 6), (2, 3),
     False),
    ("convolve-valid-1d", lambda m, a, b: m.signal.convolve(a, b, mode="valid"), (9,), (4,),
     False),
    ("correlate-complex", lambda m, a, b: m.signal.correlate(a, b), (7,), (3,), True),
    ("convolve2d", lambda m, a, b: m.signal.convolve2d(a, b), (4, 5), (2, 3), False),
    ("correlate2d-same", lambda m, a, b: m.signal.correlate2d(a, b, mode="same"), (4, 5),
     (3, 2), True),
    ("fftconvolve-axes", lambda m, a, b: m.signal.fftconvolve(a, b, axes=[1]), (3, 6),
     (3, 2), False),
]


@pytest.mark.parametrize("name,f,s1,s2,cplx", CONV_GRADS, ids=[c[0] for c in CONV_GRADS])
def test_convolution_derivatives(backend, name, f, s1, s2, cplx):
    grads(backend, f, R(*s1, complex_=cplx), R(*s2))


def test_convolve2d_boundary_derivatives(backend):
    # (JAX has no wrap/symm boundaries: functrans against finite differences only)
    for boundary, fv in (("wrap", 0), ("symm", 0), ("fill", 2.0)):
        for mode in ("same", "full"):
            f = lambda m, a, b: m.signal.correlate2d(a, b, mode=mode, boundary=boundary,  # noqa
                                                     fillvalue=fv)
            grads(backend, f, R(4, 5), R(2, 3), order=1, jax=False)


# =============================================================================================
# scipy.signal: detrend and spectral analysis
# =============================================================================================

DETREND = [(s, axis, t, bp) for s in ((5,), (4, 5), (3, 4, 5)) for axis in (0, -1)
           for t in ("constant", "linear") for bp in (0, [0, 2], [1, 3])
           if not (t == "linear" and bp != 0 and s[axis] < 4)]


@pytest.mark.parametrize("shape,axis,type_,bp", DETREND, ids=[str(c) for c in DETREND])
def test_detrend(backend, shape, axis, type_, bp):
    thin(backend, DETREND.index((shape, axis, type_, bp)))
    for dtype in ("float64", "int64", "float32"):
        x = (R(*shape) * 4).astype(dtype)
        tol = 1e-5 if dtype == "float32" else 1e-10
        run(backend, lambda m, a: m.signal.detrend(a, axis=axis, type=type_, bp=bp), x,
            ref=ssignal.detrend(x, axis=axis, type=type_, bp=bp), tol=tol)


SPECTRAL = [dict(), dict(nperseg=16), dict(nperseg=16, noverlap=4), dict(nperseg=10, nfft=16),
            dict(window="hamming", nperseg=12), dict(window="boxcar", nperseg=8, noverlap=0),
            dict(detrend="linear", nperseg=16), dict(detrend=False, nperseg=16),
            dict(scaling="spectrum", nperseg=16), dict(return_onesided=False, nperseg=16),
            dict(nperseg=15, average="median"), dict(fs=10.0, nperseg=16),
            dict(window="blackman", nperseg=9, noverlap=3)]


@pytest.mark.parametrize("kw", SPECTRAL, ids=[str(k) for k in SPECTRAL])
def test_welch_and_csd(backend, kw):
    thin(backend, SPECTRAL.index(kw))
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # nperseg capped at the length
        for shape, axis in (((50,), -1), ((3, 40), -1), ((40, 3), 0)):
            x = R(*shape, rng=rng)
            # (SciPy 1.17 refuses a complex y with return_onesided=True)
            z = R(*shape, complex_=kw.get("return_onesided") is False, rng=rng)
            run(backend, lambda m, a: m.signal.welch(a, axis=axis, **kw), x,
                ref=ssignal.welch(x, axis=axis, **kw), tol=1e-10)
            run(backend, lambda m, a, b: m.signal.csd(a, b, axis=axis, **kw), x, z,
                ref=ssignal.csd(x, z, axis=axis, **kw), tol=1e-10)


def test_csd_of_complex_y_is_two_sided(backend):
    # as JAX's (and SciPy's before 1.17, which now raises): the two-sided cross spectrum
    x, z = R(30), R(30, complex_=True)
    f, p = ssignal.csd(x, z, nperseg=8, return_onesided=False)
    run(backend, lambda m, a, b: m.signal.csd(a, b, nperseg=8), x, z, ref=(f, p), tol=1e-10)


STFT = [dict(nperseg=16), dict(nperseg=16, noverlap=4), dict(nperseg=10, nfft=16),
        dict(window="hamming", nperseg=12), dict(nperseg=16, boundary=None),
        dict(nperseg=16, boundary="even"), dict(nperseg=16, boundary="odd"),
        dict(nperseg=16, boundary="constant"), dict(nperseg=16, padded=False),
        dict(nperseg=16, detrend="linear"), dict(return_onesided=False, nperseg=16),
        dict(fs=10.0, nperseg=16, window="boxcar", noverlap=0)]


@pytest.mark.parametrize("kw", STFT, ids=[str(k) for k in STFT])
def test_stft(backend, kw):
    thin(backend, STFT.index(kw))
    rng = np.random.default_rng(4)
    for shape, axis, cplx in (((50,), -1, False), ((3, 40), -1, True), ((40, 3), 0, False)):
        x = R(*shape, complex_=cplx, rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # complex input: two-sided
            want = ssignal.stft(x, axis=axis, **kw)
            run(backend, lambda m, a: m.signal.stft(a, axis=axis, **kw), x, ref=want,
                tol=1e-10)


ISTFT = [dict(nperseg=16), dict(nperseg=16, noverlap=12), dict(nperseg=16, window="hamming"),
         dict(nperseg=16, nfft=20), dict(nperseg=16, boundary=False),
         dict(nperseg=16, input_onesided=False), dict(fs=4.0, nperseg=16)]


@pytest.mark.parametrize("kw", ISTFT, ids=[str(k) for k in ISTFT])
def test_istft(backend, kw):
    thin(backend, ISTFT.index(kw))
    rng = np.random.default_rng(5)
    nf = kw.get("nfft", 16)
    for shape, ta, fa in (((9, 7), -1, -2), ((3, 9, 7), -1, -2), ((7, 9), 0, 1),
                          ((2, 9, 7, 3), 2, 1)):
        sh = list(shape)
        sh[fa] = nf // 2 + 1 if kw.get("input_onesided", True) else nf
        z = R(*sh, complex_=True, rng=rng)
        k = dict(kw, time_axis=ta, freq_axis=fa)
        run(backend, lambda m, a: m.signal.istft(a, **k), z, ref=ssignal.istft(z, **k),
            tol=1e-10)


def test_stft_istft_round_trip(backend):
    x = R(2, 64)
    for window in ("hann", "hamming", "bartlett"):
        def case(m, a):
            z = m.signal.stft(a, window=window, nperseg=16)[2]
            return m.signal.istft(z, window=window, nperseg=16)[1]
        got = run(backend, case, x, jax=window != "bartlett")  # (JAX: no 'bartlett' here)
        np.testing.assert_allclose(got[..., :64], x, atol=1e-12)


def test_stft_istft_psd_scaling(backend):
    # SciPy's scaling='psd' (JAX's stft and istft have no scaling argument)
    x = R(50)
    want = ssignal.stft(x, nperseg=16, scaling="psd")
    run(backend, lambda m, a: m.signal.stft(a, nperseg=16, scaling="psd"), x, ref=want,
        jax=False)
    run(backend, lambda m, z: m.signal.istft(z, nperseg=16, scaling="psd"), want[2],
        ref=ssignal.istft(want[2], nperseg=16, scaling="psd"), jax=False)


SIGNAL_GRADS = [
    ("detrend-linear-bp", lambda m, a: m.signal.detrend(a, bp=[2]), (3, 6), False),
    ("detrend-constant-axis0", lambda m, a: m.signal.detrend(a, axis=0, type="constant"),
     (3, 6), False),
    ("welch", lambda m, a: m.signal.welch(a, nperseg=4)[1], (3, 9), False),
    ("welch-linear-spectrum", lambda m, a: m.signal.welch(a, nperseg=6, detrend="linear",
                                                          scaling="spectrum")[1], (14,), False),
    ("csd-complex", lambda m, a: m.signal.csd(a, a * 2.0 + 1.0, nperseg=4)[1], (9,), True),
    ("stft", lambda m, a: m.signal.stft(a, nperseg=4)[2], (2, 9), False),
    ("stft-complex-even", lambda m, a: m.signal.stft(a, nperseg=6, boundary="even",
                                                     return_onesided=False)[2], (11,), True),
    ("istft", lambda m, a: m.signal.istft(a, nperseg=4)[1], (3, 5), True),
]


@pytest.mark.parametrize("name,f,shape,cplx", SIGNAL_GRADS, ids=[c[0] for c in SIGNAL_GRADS])
def test_signal_derivatives(backend, name, f, shape, cplx):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        grads(backend, f, R(*shape, complex_=cplx))


@pytest.mark.parametrize("window", [
    "hann", "hamming", "blackman", "boxcar", "bartlett", "barthann", "triang", "cosine", "han",
    "box", "flattop", "parzen", "bohman", "nuttall", "blackmanharris", "lanczos",
    "hann_symmetric", ("kaiser", 8.0), 4.0, ("tukey", 0.3), ("gaussian", 2.0),
    ("general_gaussian", 1.5, 2.0), ("general_cosine", [1.0, 1.9, 1.3, 0.4]),
    ("general_hamming", 0.6), ("exponential", None, 2.0), ("taylor", 4, 30), ("chebwin", 60),
    ("dpss", 0.8)], ids=repr)
def test_get_window(window):
    for n in (1, 2, 7, 8):
        for fftbins in (True, False):
            close(fsignal.get_window(window, n, fftbins=fftbins),
                  ssignal.get_window(window, n, fftbins=fftbins), 1e-13)
    if isinstance(window, str):
        close(fsignal.get_window((window,), 6), ssignal.get_window((window,), 6), 1e-14)
    if isinstance(window, float):  # (kaiser's beta: get_window only)
        return
    x = R(40)
    close(fsignal.welch(x, window=window, nperseg=8), ssignal.welch(x, window=window,
                                                                    nperseg=8), 1e-12)


def test_signal_errors():
    with pytest.raises(ValueError, match="needs parameters"):
        fsignal.get_window("kaiser", 8)
    with pytest.raises(ValueError, match="has no parameters"):
        fsignal.get_window(("hann", 0.5), 8)
    with pytest.raises(ValueError, match="unknown window name"):
        fsignal.get_window("flatop", 8)
    with pytest.raises(ValueError, match="positive integer"):
        fsignal.get_window("hann", 0)
    with pytest.raises(ValueError, match="mode must be"):
        fsignal.convolve(R(3), R(2), mode="circular")
    with pytest.raises(ValueError, match="method must be"):
        fsignal.correlate(R(3), R(2), method="overlap")
    with pytest.raises(ValueError, match="boundary must be"):
        fsignal.convolve2d(R(3, 3), R(2, 2), boundary="reflect")
    with pytest.raises(ValueError, match="precision"):
        fsignal.convolve(R(3), R(2), precision="ultra")
    with pytest.raises(ValueError, match="noverlap"):
        fsignal.welch(R(20), nperseg=8, noverlap=8)
    with pytest.raises(ValueError, match="Trend type"):
        fsignal.detrend(R(5), type="quadratic")


# =============================================================================================
# scipy.ndimage.map_coordinates
# =============================================================================================

# JAX's mode names and SciPy's for the same boundary rule
SCIPY_MODE = {"constant": "grid-constant", "wrap": "grid-wrap", "nearest": "nearest",
              "mirror": "mirror", "reflect": "reflect"}


@pytest.mark.parametrize("shape", [(5,), (4, 6), (3, 4, 5)])
@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", list(SCIPY_MODE))
def test_map_coordinates(backend, shape, order, mode):
    thin(backend, len(shape) + order + list(SCIPY_MODE).index(mode))
    rng = np.random.default_rng(len(shape) + order)
    for cshape in ((7,), (2, 3)):
        for cval in (0.0, 2.5):
            for dtype in ("float64", "int64", "float32"):
                x = (rng.normal(size=shape) * 4).astype(dtype)
                coords = [rng.uniform(-2, n + 1, size=cshape) for n in shape]
                if order == 0:  # away from the half-way points (see the pinned case below)
                    coords = [np.round(c * 4) / 4 + 0.013 for c in coords]
                want = sndimage.map_coordinates(x, np.array(coords), order=order,
                                                mode=SCIPY_MODE[mode], cval=cval)
                # (SciPy rounds integer results to nearest even on ties; ours away from 0)
                tol = 1e-5 if dtype == "float32" else 0.51 if dtype == "int64" else 1e-10
                got = run(backend, lambda m, a, c: m.ndimage.map_coordinates(
                    a, c, order=order, mode=mode, cval=cval), x, coords,
                    jax=not (dtype == "int64" and cval == 2.5), jax_tol=1e-5)
                assert got.dtype == want.dtype
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_map_coordinates_derivatives(backend):
    x = R(4, 5)
    coords = [np.array([0.3, 1.7, 2.2, -0.6]), np.array([4.1, -0.6, 3.3, 1.45])]
    for mode in ("constant", "reflect", "wrap", "nearest", "mirror"):
        f = lambda m, a, c0, c1: m.ndimage.map_coordinates(a, [c0, c1], order=1,  # noqa: E731
                                                          mode=mode, cval=0.5)
        grads(backend, f, x, *coords)
        g0 = lambda m, a, c0, c1: m.ndimage.map_coordinates(a, [c0, c1], order=0,  # noqa
                                                            mode=mode)
        grads(backend, g0, x, *coords, order=1)


def test_map_coordinates_pinned_differences():
    x = np.arange(5.0) * 10
    # order 0 at a half-way point: SciPy's floor(c + 0.5) (JAX rounds half away from 0)
    c = [np.array([-0.5, 0.5, 1.5, 2.5])]
    got = fndimage.map_coordinates(x, c, order=0, mode="nearest")
    close(got, sndimage.map_coordinates(x, np.array(c), order=0, mode="nearest"))
    # integer input: cval used as given (1.5), the result rounded half away from zero
    xi = np.arange(5) * 3
    got = fndimage.map_coordinates(xi, [np.array([-0.5, 4.5])], order=1, cval=1.5)
    np.testing.assert_array_equal(got, np.round(np.array([0.75, 6.75]) + 1e-9).astype(int))
    with pytest.raises(ValueError, match="between 0 and 5"):
        fndimage.map_coordinates(x, c, order=6)
    with pytest.raises(ValueError, match="mode must be"):
        fndimage.map_coordinates(x, c, order=1, mode="periodic")
    with pytest.raises(ValueError, match="one array per axis"):
        fndimage.map_coordinates(R(3, 3), c, order=1)
    if JX is not None:
        j = JX.ndimage.map_coordinates(JX.asarray(x), _jx(c), order=0, mode="nearest")
        assert float(j[0]) == 0.0 and float(j[1]) == 10.0  # -0.5 -> index -1 -> clipped 0


# =============================================================================================
# image.resize and scale_and_translate
# =============================================================================================

def _kernel(method, x):
    """The resampling kernels as functions of the distance in input pixels (NumPy)."""
    x = np.abs(x)
    if method == "linear":
        return np.maximum(0.0, 1.0 - x)
    if method == "cubic":
        a = -0.5
        return np.where(x >= 2, 0.0, np.where(x >= 1, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a,
                                              ((a + 2) * x - (a + 3)) * x * x + 1))
    r = {"lanczos3": 3.0, "lanczos5": 5.0}[method]
    with np.errstate(invalid="ignore", divide="ignore"):
        v = r * np.sin(np.pi * x) * np.sin(np.pi * x / r) / (np.pi ** 2 * x * x)
    return np.where(x > r, 0.0, np.where(x < 1e-3, 1.0, v))


def _weights(m, n, scale, translation, method, antialias):
    """The ``(m, n)`` resampling matrix from the definitions (pixel i centred at i + 0.5;
    the kernel widened by 1/scale when downsampling with antialias; weights normalised;
    output pixels whose centre maps outside the input are 0)."""
    w = np.zeros((m, n))
    width = max(1.0 / scale, 1.0) if antialias else 1.0
    for j in range(n):
        centre = (j + 0.5 - translation) / scale - 0.5
        if not -0.5 <= centre <= m - 0.5:
            continue
        col = _kernel(method, (centre - np.arange(m)) / width)
        if abs(col.sum()) > 1000 * np.finfo(np.float32).eps:
            w[:, j] = col / col.sum()
    return w


def _resample_reference(x, shape, dims, scales, translations, method, antialias):
    for d, s, t in zip(dims, scales, translations):
        w = _weights(x.shape[d], shape[d], s, t, method, antialias)
        x = np.moveaxis(np.tensordot(x, w, axes=([d], [0])), -1, d)
    return x


RESIZE = [((6,), (10,)), ((10,), (4,)), ((5, 7), (9, 3)), ((2, 8, 8, 3), (2, 5, 12, 3)),
          ((7,), (7,))]


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("shape,new", RESIZE, ids=[f"{a}-{b}" for a, b in RESIZE])
def test_resize(backend, method, antialias, shape, new):
    thin(backend, RESIZE.index((shape, new)) + int(antialias) + len(method))
    x = np.random.default_rng(6).uniform(0, 10, size=shape)
    dims = [d for d in range(len(shape)) if shape[d] != new[d]]
    ref = _resample_reference(x, new, dims, [new[d] / shape[d] for d in dims], [0.0] * len(dims),
                              method, antialias)
    run(backend, lambda m, a: m.image.resize(a, new, method, antialias=antialias), x, ref=ref,
        tol=1e-10)


@pytest.mark.parametrize("shape,new", RESIZE, ids=[f"{a}-{b}" for a, b in RESIZE])
def test_resize_nearest(backend, shape, new):
    x = np.arange(np.prod(shape)).reshape(shape).astype(np.uint8)
    ref = x
    for d in range(len(shape)):
        idx = np.floor((np.arange(new[d]) + 0.5) * shape[d] / new[d]).astype(int)
        ref = np.take(ref, np.minimum(idx, shape[d] - 1), axis=d)
    got = run(backend, lambda m, a: m.image.resize(a, new, "nearest"), x, ref=ref, tol=0)
    assert got.dtype == np.uint8


@pytest.mark.parametrize("dtype,want", [("float32", "float32"), ("int32", "float32"),
                                        ("uint8", "float32"), ("int64", "float64"),
                                        ("float64", "float64")])
def test_resize_dtypes(dtype, want):
    x = np.random.default_rng(7).uniform(0, 10, size=(4, 6)).astype(dtype)
    for method in ("linear", "cubic", "lanczos3"):
        got = fimage.resize(x, (7, 3), method)
        assert got.dtype == want
        ref = _resample_reference(x.astype(float), (7, 3), [0, 1], [7 / 4, 3 / 6], [0, 0],
                                  method, True)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
        if JX is not None:
            j = JX.image.resize(JX.asarray(x), (7, 3), method)
            assert j.dtype == got.dtype
            np.testing.assert_allclose(got, j, rtol=1e-5, atol=1e-5)


def test_resize_constant_image_stays_constant(backend):
    # the weights of each output pixel sum to 1
    x = np.full((5, 7), 3.25)
    for method in ("linear", "cubic", "lanczos3", "lanczos5"):
        for new in ((9, 3), (2, 13)):
            run(backend, lambda m, a: m.image.resize(a, new, method), x, ref=np.full(new, 3.25),
                tol=1e-12)


SAT = [((2.0,), (0.5,)), ((0.5,), (-1.0,)), ((1.3,), (0.0,)), ((0.7,), (2.2,))]


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [True, False])
def test_scale_and_translate(backend, method, antialias):
    x = R(9)
    for sc, tr in SAT:
        ref = _resample_reference(x, (11,), [0], sc, tr, method, antialias)
        run(backend, lambda m, a, s, t: m.image.scale_and_translate(a, (11,), (0,), s, t, method,
                                                                  antialias), x, np.array(sc),
            np.array(tr), ref=ref, tol=1e-10)
    x = R(2, 6, 7, 3)
    s, t = np.array([1.5, 0.6]), np.array([0.3, -0.4])
    ref = _resample_reference(x, (2, 8, 5, 3), [1, 2], s, t, method, antialias)
    run(backend, lambda m, a, s, t: m.image.scale_and_translate(a, (2, 8, 5, 3), (1, 2), s, t,
                                                              method, antialias), x, s, t,
        ref=ref, tol=1e-10)


IMAGE_GRADS = [
    ("resize-linear-up", lambda m, a: m.image.resize(a, (7, 9), "linear"), (4, 5)),
    ("resize-cubic-down", lambda m, a: m.image.resize(a, (3, 2), "cubic"), (6, 5)),
    ("resize-lanczos3-noaa", lambda m, a: m.image.resize(a, (3, 8), "lanczos3",
                                                         antialias=False), (6, 5)),
    ("resize-lanczos5-batch", lambda m, a: m.image.resize(a, (2, 9, 3), "lanczos5"), (2, 4, 3)),
    ("resize-nearest", lambda m, a: m.image.resize(a, (7, 2), "nearest"), (4, 5)),
]


@pytest.mark.parametrize("name,f,shape", IMAGE_GRADS, ids=[c[0] for c in IMAGE_GRADS])
def test_resize_derivatives(backend, name, f, shape):
    grads(backend, f, R(*shape))


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3"])
def test_scale_and_translate_derivatives(backend, method):
    # generic scale and translation (a grid point on a kernel's kink has no second derivative)
    x = R(3, 6)
    f = lambda m, a, s, t: m.image.scale_and_translate(a, (4, 9), (0, 1), s, t,  # noqa: E731
                                                       method)
    grads(backend, f, x, np.array([1.37, 1.61]), np.array([0.21, -0.33]))


def test_complex_images_and_coordinates(backend):
    z = R(4, 5, complex_=True)
    for method in ("linear", "cubic", "lanczos3"):
        ref = _resample_reference(z, (7, 3), [0, 1], [7 / 4, 3 / 5], [0, 0], method, True)
        run(backend, lambda m, a: m.image.resize(a, (7, 3), method), z, ref=ref)
    grads(backend, lambda m, a: m.image.resize(a, (7, 3), "cubic"), z)
    c = [np.array([0.3, 2.5, -0.7]), np.array([1.2, 4.7, 0.1])]
    ref = sndimage.map_coordinates(z, np.array(c), order=1, mode="reflect")
    f = lambda m, a, c0, c1: m.ndimage.map_coordinates(a, [c0, c1], order=1,  # noqa: E731
                                                      mode="reflect")
    run(backend, f, z, *c, ref=ref)
    grads(backend, f, z, *c)


def test_image_under_vmap_and_jit(backend):
    x = R(3, 5, 6)

    def case(m, a):
        v = m.vmap(lambda im: m.image.resize(im, (8, 4), "cubic"))(a)
        j = m.jit(lambda im: m.image.resize(im, (3, 10, 3), "linear"))(a)
        return v, j
    ref = (np.stack([_resample_reference(a, (8, 4), [0, 1], [8 / 5, 4 / 6], [0, 0], "cubic",
                                         True) for a in x]),
           _resample_reference(x, (3, 10, 3), [1, 2], [2.0, 0.5], [0, 0], "linear", True))
    run(backend, case, x, ref=ref, tol=1e-10)


def test_image_errors():
    with pytest.raises(ValueError, match="Unknown resize method"):
        fimage.resize(R(4), (6,), "bilinearish")
    with pytest.raises(ValueError, match="one entry per dimension"):
        fimage.resize(R(4, 4), (6,), "linear")
    with pytest.raises(ValueError, match="nearest-neighbour"):
        fimage.scale_and_translate(R(4), (6,), (0,), np.array([1.5]), np.array([0.0]), "nearest")
    with pytest.raises(ValueError, match="one entry per\nspatial dimension|one entry per"):
        fimage.scale_and_translate(R(4, 4), (6, 6), (0, 1), np.array([1.5]), np.array([0.0]),
                                   "linear")
