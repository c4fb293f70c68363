"""Fixes made by the lead in session 22."""

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.scipy.special as fsp


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logsumexp_of_terms_cancelling_to_zero_has_an_infinite_derivative(backend):
    # log(s) at s == 0 reached by cancelling weights: -inf with log's infinite slope (JAX's
    # values). The derivative was 0, as if nothing were in the sum.
    a = backend.asarray([0.0, 0.0, -np.inf])
    b = backend.asarray([1.0, -1.0, 1.0])
    assert float(backend.to_numpy(fsp.logsumexp(a, b=b))) == -np.inf
    ga = backend.to_numpy(ft.grad(lambda a: fsp.logsumexp(a, b=b))(a))
    assert ga[0] == np.inf and ga[1] == -np.inf and np.isnan(ga[2])
    gb = backend.to_numpy(ft.grad(lambda b: fsp.logsumexp(a, b=b))(b))
    assert gb[0] == gb[1] == np.inf
    gs = backend.to_numpy(ft.grad(lambda a: fsp.logsumexp(a, b=b, return_sign=True)[0])(a))
    assert gs[0] == np.inf and gs[1] == -np.inf
    value, sign = fsp.logsumexp(a, b=b, return_sign=True)
    assert float(backend.to_numpy(value)) == -np.inf and float(backend.to_numpy(sign)) == 0.0
    # Nothing in the sum stays -inf with derivative 0 (functrans's documented choice).
    none = backend.asarray([-np.inf, -np.inf])
    np.testing.assert_array_equal(
        backend.to_numpy(ft.grad(lambda a: fsp.logsumexp(a, b=backend.asarray([1.0, 1.0])))(
            none)), [0.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(ft.grad(fsp.logsumexp)(none)), [0.0, 0.0])
    # jax.nn's where: the left-out entry gets no derivative.
    x = backend.asarray([0.0, 0.0, 5.0])
    kept = backend.asarray([True, True, False], dtype=bool)
    g = backend.to_numpy(ft.grad(lambda x: fnn.logsumexp(
        x, b=backend.asarray([1.0, -1.0, 1.0]), where=kept))(x))
    np.testing.assert_array_equal(g, [np.inf, -np.inf, 0.0])
    # A sum that does not cancel keeps its finite derivative.
    y = backend.asarray([1.0, 2.0])
    w = backend.asarray([-1.0, 2.0])
    e = np.array([-np.e, 2 * np.e ** 2])
    np.testing.assert_allclose(
        backend.to_numpy(ft.grad(lambda y: fsp.logsumexp(y, b=w))(y)), e / e.sum())


_FFT_CASES = [("fft", (6,)), ("fft", (4, 6)), ("ifft", (3, 4, 6)), ("rfft", (4, 6)),
              ("irfft", (4, 6)), ("irfft", (7,))]


@pytest.mark.parametrize("kind,lengths", _FFT_CASES)
def test_lax_fft_matches_numpy_and_its_derivatives_check(backend, kind, lengths):
    import functrans.lax as flax
    import functrans.numpy as fnp
    from functrans.testing import check_grads

    rng = np.random.default_rng(3)
    shape = (3, 4, 6) if kind != "irfft" else (3,) + lengths[:-1] + (lengths[-1] // 2 + 1,)
    if kind == "irfft" and len(lengths) == 1:
        shape = (3, 4, lengths[-1] // 2 + 1)
    re, im = rng.normal(size=shape), rng.normal(size=shape)
    data = re if kind == "rfft" else re + 1j * im
    axes = tuple(range(-len(lengths), 0))
    expected = {"fft": np.fft.fftn, "ifft": np.fft.ifftn, "rfft": np.fft.rfftn}.get(kind)
    expected = (expected(data, axes=axes) if expected is not None
                else np.fft.irfftn(data, s=lengths, axes=axes))
    dtype = "float64" if kind == "rfft" else "complex128"
    got = flax.fft(backend.asarray(data, dtype), kind, lengths)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12, atol=1e-12)
    kind_enum = flax.FftType[kind.upper()]
    np.testing.assert_allclose(backend.to_numpy(flax.fft(backend.asarray(data, dtype),
                                                         kind_enum, lengths)), expected,
                               atol=1e-12)
    w = backend.asarray(rng.normal(size=expected.shape))

    def f(re, im):
        z = re if kind == "rfft" else fnp.add(re, fnp.multiply(im, 1j))
        out = flax.fft(z, kind, lengths)
        if kind == "irfft":
            return fnp.sum(out * w)
        return fnp.sum(fnp.real(out) * w + fnp.imag(out) * w * 0.5)
    check_grads(f, (backend.asarray(re), backend.asarray(im)), order=2)
    jitted = ft.jit(lambda z: flax.fft(z, kind, lengths))(backend.asarray(data, dtype))
    np.testing.assert_allclose(backend.to_numpy(jitted), expected, atol=1e-12)


def test_lax_fft_refuses_bad_input_clearly():
    import functrans.lax as flax

    x = np.ones((3, 4, 6))
    with pytest.raises(ValueError, match="RFFT takes real input"):
        flax.fft(x + 0j, "rfft", (6,))
    with pytest.raises(ValueError, match=r"last 1 axes must equal fft_lengths \(5,\)"):
        flax.fft(x, "fft", (5,))
    with pytest.raises(ValueError, match="unknown fft_type 'dct'"):
        flax.fft(x, "dct", (6,))
    with pytest.raises(ValueError, match=r"must be \(4,\) for fft_lengths \(6,\)"):
        flax.fft(x + 0j, "irfft", (6,))
    with pytest.raises(ValueError, match="1 to 3 axes"):
        flax.fft(x, "fft", ())
    with pytest.raises(ValueError, match="fewer axes"):
        flax.fft(np.ones(6), "fft", (1, 6))
    # Real input to FFT is taken as complex, float32 staying single precision.
    assert flax.fft(x.astype(np.float32), "fft", (6,)).dtype == np.complex64


def test_slerp_matches_scipy_and_differentiates(backend):
    st = pytest.importorskip("scipy.spatial.transform")
    import functrans.numpy as fnp
    from functrans.scipy.spatial.transform import Rotation, Slerp
    from functrans.testing import check_grads

    angles = np.deg2rad(np.array([[90.0, 0, 0], [0, 45, 0], [0, 0, -30], [10, 20, 30]]))
    key_times = np.array([0.0, 1.0, 2.0, 3.5])
    asked = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 3.5])
    expected = st.Slerp(key_times, st.Rotation.from_euler("zxy", angles))(asked).as_matrix()
    keys = Rotation.from_euler("zxy", backend.asarray(angles))
    slerp = Slerp(backend.asarray(key_times), keys)
    got = slerp(backend.asarray(asked)).as_matrix()
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), expected, atol=1e-12)
    one = Slerp.init(backend.asarray(key_times), keys)(1.25)
    assert one.single
    np.testing.assert_allclose(backend.to_numpy(one.as_matrix()), st.Slerp(
        key_times, st.Rotation.from_euler("zxy", angles))(1.25).as_matrix(), atol=1e-12)
    # derivatives in the times asked for, the key times and the key rotations
    t = backend.asarray([0.3, 1.7, 2.9])
    check_grads(lambda t: Slerp(backend.asarray(key_times), keys)(t).as_rotvec(), (t,),
                order=2)
    check_grads(lambda k: Slerp(k, keys)(t).as_quat(), (backend.asarray(key_times),),
                order=1)
    check_grads(lambda a: Slerp(backend.asarray(key_times), Rotation.from_euler("zxy", a))(
        t).as_matrix(), (backend.asarray(angles),), order=1)
    # a pytree: through jit and vmap
    staged = ft.jit(lambda s, t: s(t).as_matrix())(slerp, backend.asarray(asked))
    np.testing.assert_allclose(backend.to_numpy(staged), expected, atol=1e-12)
    mapped = ft.vmap(lambda t: slerp(t).as_matrix())(backend.asarray(asked))
    np.testing.assert_allclose(backend.to_numpy(mapped), expected, atol=1e-12)
    # SciPy's checks where the times are concrete
    with pytest.raises(ValueError, match="strictly increasing"):
        Slerp(backend.asarray([0.0, 1.0, 1.0, 2.0]), keys)
    with pytest.raises(ValueError, match="within the key times' range"):
        slerp(backend.asarray([4.0]))
    with pytest.raises(ValueError, match="at least 2 rotations"):
        Slerp(backend.asarray([0.0]), keys[0])
    with pytest.raises(ValueError, match="one time per rotation"):
        Slerp(backend.asarray([0.0, 1.0]), keys)
    with pytest.raises(TypeError, match="must be a Rotation"):
        Slerp(backend.asarray(key_times), fnp.ones((4, 4)))


def test_like_keyword_makes_arrays_in_that_arrays_library(backend):
    # NumPy's like=: the creation functions accepted it and ignored it (a NumPy array beside
    # a torch/strict one, then a BackendMismatchError at the first operation).
    import functrans.numpy as fnp

    x = backend.asarray([1.0, 2.0, 3.0])
    made = [fnp.asarray(1.25, like=x), fnp.asarray([1, 2], like=x), fnp.arange(3, like=x),
            fnp.zeros(2, like=x), fnp.ones((2, 2), like=x), fnp.empty(2, like=x),
            fnp.full(2, 3.0, like=x), fnp.eye(2, like=x), fnp.identity(2, like=x),
            fnp.tri(2, like=x), fnp.array([1.0, 2.0], like=x),
            fnp.asanyarray(2.0, like=x), fnp.require([1.0], like=x),
            fnp.ascontiguousarray(1.0, like=x), fnp.asfortranarray([1.0], like=x)]
    for a in made:
        assert backend.is_own(a), type(a)
    np.testing.assert_array_equal(backend.to_numpy(fnp.tri(2, like=x)), np.tri(2))
    assert backend.to_numpy(fnp.array([1.0, 2.0], dtype="float32", ndmin=2,
                                      like=x)).shape == (1, 2)
    # inside transforms, a tracer as like
    g = ft.grad(lambda x: fnp.sum(x * fnp.arange(3.0, like=x)))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 1.0, 2.0])
    out = ft.jit(lambda x: x + fnp.ones(3, like=x))(x)
    np.testing.assert_array_equal(backend.to_numpy(out), [2.0, 3.0, 4.0])
    with pytest.raises(TypeError, match="like= must be an array"):
        fnp.zeros(2, like=[1.0])
    # NumPy data given as an array joins like's library too (NumPy's like=); an array of the
    # like's own library stays itself
    moved = fnp.asarray(np.arange(3.0), like=x)
    assert backend.is_own(moved)
    np.testing.assert_array_equal(backend.to_numpy(moved), [0.0, 1.0, 2.0])
    assert fnp.asarray(x, like=x) is x or backend.name == "numpy"


def test_like_keyword_refuses_a_third_librarys_array():
    import array_api_strict as xs
    torch = pytest.importorskip("torch")
    import functrans.numpy as fnp
    from functrans.errors import BackendMismatchError

    with pytest.raises(BackendMismatchError, match="like= asks for an array of "
                       "'array_api_strict', but the given array belongs to 'torch'"):
        fnp.asarray(torch.ones(2), like=xs.ones(1))


def test_lax_composite_runs_its_decomposition_under_every_transform(backend):
    import functrans.lax as flax
    import functrans.numpy as fnp

    def tangent(x, *, scale=1.0):
        return scale * fnp.sin(x) / fnp.cos(x)
    tan = flax.composite(tangent, "my.tangent")
    assert tan.__name__ == "tangent"
    x = backend.asarray([0.1, 0.4, -0.7])
    np.testing.assert_allclose(backend.to_numpy(tan(x, scale=2.0)),
                               2 * np.tan(backend.to_numpy(x)), rtol=1e-13)
    g = ft.grad(lambda x: fnp.sum(ft.jit(tan)(x)))(x)
    np.testing.assert_allclose(backend.to_numpy(g), 1 / np.cos(backend.to_numpy(x)) ** 2,
                               rtol=1e-12)
    vm = ft.vmap(ft.grad(tan))(x)
    np.testing.assert_allclose(backend.to_numpy(vm), backend.to_numpy(g), rtol=1e-12)
    with pytest.raises(TypeError, match="name must be a string"):
        flax.composite(tangent, 3)
    with pytest.raises(ValueError, match="version must be a non-negative int"):
        flax.composite(tangent, "t", version=-1)
    with pytest.raises(TypeError, match="expects a function"):
        flax.composite("tan", "t")
