"""Session 36, the less-travelled SciPy ports under the transforms (helper scipyfuzz36):
what fuzzing functrans.scipy.{ndimage, signal, integrate, fft, sparse.linalg} against SciPy
(values, dtypes, shapes with 0-size and edge sizes, every mode) and JAX x64 (derivatives)
found wrong, and the places where SciPy itself is wrong and functrans follows the
mathematics.

- signal.convolve / correlate / convolve2d / correlate2d / fftconvolve with an operand of no
  elements: the result has the mode's shape per axis ('full' a + b - 1, 'same' a, 'valid'
  |a - b| + 1), every entry an empty sum (0), as SciPy's n-d convolve and convolve2d give
  it; it was a 1-d array of shape (0,) for every input (convolve of shapes (2, 3) and (0, 3)
  in 'valid' mode gave (0,), SciPy (3, 1)), and convolve2d gave (0, 5) where SciPy gives
  (1, 5). Both operands empty along an axis in 'full' mode is a clear ValueError.
- ndimage.map_coordinates, order 0, modes 'mirror' and 'reflect' ('grid-mirror'): the
  coordinate is folded into the array before it is rounded, as SciPy does: a coordinate
  half-way between two samples outside the array read the other sample (-0.5 in 'mirror'
  read x[0], SciPy x[1]).
- integrate.simpson of two float32 samples with a Python dx gave float64 (every other length
  keeps float32).
- sparse.linalg.gmres under jit on array-api-strict raised TypeError ("Expected Array or
  Python scalar; got StagingTracer"): a plain array compared with the traced loop index by
  ``==``.
"""


import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.scipy import fft as ffft
from functrans.scipy import integrate as fint
from functrans.scipy import ndimage as fnd
from functrans.scipy import signal as fsig
from functrans.scipy.sparse import linalg as fspl

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


# -- convolutions with an operand of no elements ---------------------------------------------

# (shape 1, shape 2, mode, the result's shape: SciPy's n-d convolve / convolve2d where it gives
# one; None: a ValueError)
_EMPTY_CASES = [
    ((2, 3), (0, 3), "valid", (3, 1)),
    ((0, 3), (2, 3), "valid", (3, 1)),
    ((0, 3), (0, 3), "valid", (1, 1)),
    ((2, 3), (2, 0), "valid", (1, 4)),
    ((2, 0), (1, 0), "valid", (2, 1)),
    ((0, 3), (2, 3), "same", (0, 3)),
    ((2, 0), (2, 3), "same", (2, 0)),
    ((2, 3), (0, 3), "same", (2, 3)),
    ((1, 0), (0, 3), "full", (0, 2)),
    ((2, 3), (2, 0), "full", (3, 2)),
    ((0, 3), (2, 3), "full", (1, 5)),
    ((3,), (0,), "full", (2,)),
    ((0, 3), (0, 3), "full", None),
    ((2, 0), (1, 0), "full", None),
    ((0, 3), (2, 0), "valid", None),
]


@pytest.mark.parametrize("name", ["convolve", "correlate", "fftconvolve", "oaconvolve",
                                  "convolve2d", "correlate2d"])
@pytest.mark.parametrize("s1,s2,mode,shape", _EMPTY_CASES)
def test_convolution_with_an_empty_operand(backend, name, s1, s2, mode, shape):
    if name.endswith("2d") and len(s1) != 2:
        pytest.skip("2-d inputs only")
    a = backend.asarray(np.ones(s1))
    b = backend.asarray(np.ones(s2))
    f = getattr(fsig, name)
    if shape is None:
        with pytest.raises(ValueError, match="length|valid"):
            f(a, b, mode=mode)
        return
    got = f(a, b, mode=mode)
    assert tuple(got.shape) == shape
    np.testing.assert_array_equal(_np(backend, got), np.zeros(shape))
    if name != "fftconvolve" and name != "oaconvolve":   # (SciPy's give shape (0,) always)
        ss = pytest.importorskip("scipy.signal")
        try:
            ref = getattr(ss, name)(np.ones(s1), np.ones(s2), mode=mode)
        except ValueError:  # (SciPy refuses some: 1-d, and where its n-d copy fails)
            return
        assert ref.shape == shape


def test_convolution_of_empty_operand_is_differentiable():
    a = np.ones((2, 3))
    g = ft.grad(lambda a: fnp.sum(fsig.convolve(a, np.ones((0, 3)), mode="valid")) + fnp.sum(a))(a)
    np.testing.assert_array_equal(np.asarray(g), np.ones((2, 3)))


def test_convolution_along_axes_with_an_empty_operand():
    # fftconvolve with axes: the axes convolved follow the same rule, the others pair up
    got = fsig.fftconvolve(np.ones((2, 3)), np.ones((2, 0)), mode="full", axes=1)
    assert tuple(got.shape) == (2, 2)
    with pytest.raises(ValueError, match="length"):
        fsig.fftconvolve(np.ones((2, 0)), np.ones((2, 0)), mode="full", axes=1)


# -- map_coordinates, order 0: ties outside the array folded first ---------------------------


@pytest.mark.parametrize("mode", ["mirror", "reflect", "grid-mirror"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_map_coordinates_order0_ties_fold_first(backend, mode, n):
    sn = pytest.importorskip("scipy.ndimage")
    x = np.arange(1.0, n + 1.0)
    c = np.arange(-4 * n - 2, 5 * n + 3) / 2.0   # every half-integer, in and out of the array
    got = fnd.map_coordinates(backend.asarray(x), [backend.asarray(c)], order=0, mode=mode)
    np.testing.assert_array_equal(_np(backend, got), sn.map_coordinates(x, [c], order=0,
                                                                         mode=mode))


def test_map_coordinates_order0_mirror_half_point():
    # -0.5 folds to 0.5 in 'mirror' (d c b | a b c d), which rounds up to x[1], as SciPy and
    # JAX (which rounds -0.5 away from zero to -1 and mirrors it to 1)
    x = np.array([10.0, 20.0, 30.0])
    assert float(fnd.map_coordinates(x, [np.array([-0.5])], order=0, mode="mirror")[0]) == 20.0
    # a 2-d array under jit and vmap: the same values as eagerly
    x2 = np.arange(12.0).reshape(3, 4)
    c = np.array([[-0.5, 2.5, -1.5, 3.5], [-1.5, 3.5, 4.5, -0.5]])
    eager = np.asarray(fnd.map_coordinates(x2, c, order=0, mode="reflect"))
    jitted = np.asarray(ft.jit(lambda c: fnd.map_coordinates(x2, c, order=0, mode="reflect"))(c))
    batched = np.asarray(ft.vmap(lambda c: fnd.map_coordinates(x2, c, order=0, mode="reflect"),
                                 in_axes=1, out_axes=0)(c))
    np.testing.assert_array_equal(jitted, eager)
    np.testing.assert_array_equal(batched, eager)
    sn = pytest.importorskip("scipy.ndimage")
    np.testing.assert_array_equal(eager, sn.map_coordinates(x2, c, order=0, mode="reflect"))


# -- simpson's dtype for two samples ---------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_simpson_float32_keeps_float32(backend, n):
    y = backend.asarray(np.arange(1.0, n + 1.0), dtype="float32")
    got = fint.simpson(y, dx=0.5)
    assert str(got.dtype).endswith("float32")
    ref = {1: 0.0, 2: 0.75, 3: 2.0, 4: 3.75, 5: 6.0}[n]   # the integral of the line 1 + 2t
    np.testing.assert_allclose(_np(backend, got), ref, rtol=1e-6)


def test_simpson_two_samples_dx_derivative():
    y = np.array([1.0, 3.0])
    assert float(ft.grad(lambda d: fint.simpson(y, dx=d))(0.5)) == 2.0
    assert float(ft.jit(ft.grad(lambda d: fint.simpson(y, dx=d)))(0.5)) == 2.0


# -- gmres under jit on every backend --------------------------------------------------------


@pytest.mark.parametrize("solver", ["gmres", "cg", "bicgstab"])
def test_krylov_solvers_under_jit(backend, solver):
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 4))
    a = m @ m.T + 4 * np.eye(4)
    b = rng.normal(size=4)
    x = np.linalg.solve(a, b)
    A, B = backend.asarray(a), backend.asarray(b)
    f = getattr(fspl, solver)
    got = ft.jit(lambda A, B: f(A, B, tol=1e-12)[0])(A, B)
    np.testing.assert_allclose(_np(backend, got), x, rtol=1e-9, atol=1e-12)
    # the implicit derivative: dL/dA = -lam x^T, dL/db = lam, lam = A^-T dL/dx
    gA, gB = ft.jit(ft.grad(lambda A, B: fnp.sum(f(A, B, tol=1e-12)[0] ** 2),
                            argnums=(0, 1)))(A, B)
    lam = np.linalg.solve(a.T, 2 * x)
    np.testing.assert_allclose(_np(backend, gB), lam, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(_np(backend, gA), -np.outer(lam, x), rtol=1e-8, atol=1e-12)


# -- where SciPy is wrong and functrans follows the mathematics ------------------------------


@pytest.mark.parametrize("kind", ["dct", "dst", "idct", "idst"])
@pytest.mark.parametrize("type_", [1, 2, 3, 4])
@pytest.mark.parametrize("norm,orthogonalize", [(None, True), ("ortho", False)])
def test_real_to_real_transform_of_complex_input_is_linear(kind, type_, norm, orthogonalize):
    # SciPy 1.17 drops orthogonalize for complex input (its real and imaginary parts are
    # transformed with the default, orthogonalize = (norm == 'ortho')): dct(x) differs from
    # dct(x.real) + 1j dct(x.imag). The transform is linear; functrans keeps that.
    rng = np.random.default_rng(1)
    re, im = rng.normal(size=6), rng.normal(size=6)
    f = getattr(ffft, kind)
    kw = dict(type=type_, norm=norm, orthogonalize=orthogonalize)
    got = np.asarray(f(re + 1j * im, **kw))
    want = np.asarray(f(re, **kw)) + 1j * np.asarray(f(im, **kw))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    sf = pytest.importorskip("scipy.fft")
    np.testing.assert_allclose(np.asarray(f(re, **kw)), getattr(sf, kind)(re, **kw),
                               rtol=1e-12, atol=1e-12)


# -- inputs with no samples ------------------------------------------------------------------


@pytest.mark.parametrize("order", [0, 1, 3])
def test_map_coordinates_of_an_input_without_samples(backend, order):
    # every coordinate lies outside: the constant modes give cval (SciPy's value, rounded for
    # integers); the others have nothing to read (SciPy returns uninitialised memory): a
    # clear error, not "take: index -1 is out of bounds"
    c = backend.asarray([[0.0, 1.5, -1.0]])
    for mode in ("constant", "grid-constant"):
        got = fnd.map_coordinates(backend.asarray(np.zeros(0)), c, order=order, mode=mode,
                                  cval=2.5)
        np.testing.assert_array_equal(_np(backend, got), [2.5, 2.5, 2.5])
    got = fnd.map_coordinates(backend.asarray(np.zeros((2, 0)), dtype="int32"),
                              [backend.asarray([0.0, 1.5]), backend.asarray([1.0, 1.0])],
                              order=order, cval=-2.5)
    assert str(got.dtype).endswith("int32")
    np.testing.assert_array_equal(_np(backend, got), [-3, -3])   # (SciPy's)
    with pytest.raises(ValueError, match="no samples along axis 0"):
        fnd.map_coordinates(backend.asarray(np.zeros(0)), c, order=order, mode="nearest")
    g = ft.grad(lambda c: fnp.sum(fnd.map_coordinates(backend.asarray(np.zeros(0)), c,
                                                       order=order, cval=2.5)))(c)
    np.testing.assert_array_equal(_np(backend, g), np.zeros((1, 3)))


def test_detrend_of_no_samples(backend):
    for type_ in ("linear", "constant"):
        got = fsig.detrend(backend.asarray(np.zeros((3, 0))), type=type_)
        assert tuple(got.shape) == (3, 0)
    got = fsig.detrend(backend.asarray(np.zeros((0, 4))), axis=0, bp=[0])
    assert tuple(got.shape) == (0, 4)


# -- window parameters and fs traced on every backend ----------------------------------------

_WINDOWS = {
    "gaussian": (lambda p: fsig.windows.gaussian(9, p), 1.7),
    "general_gaussian p": (lambda p: fsig.windows.general_gaussian(9, p, 2.0), 1.5),
    "general_gaussian sig": (lambda p: fsig.windows.general_gaussian(9, 1.5, p), 2.0),
    "exponential tau": (lambda p: fsig.windows.exponential(9, tau=p), 2.0),
    "exponential center": (lambda p: fsig.windows.exponential(9, center=p, tau=2.0,
                                                              sym=False), 3.3),
    "tukey": (lambda p: fsig.windows.tukey(9, p), 0.4),
    "general_hamming": (lambda p: fsig.windows.general_hamming(9, p), 0.6),
    "general_cosine": (lambda p: fsig.windows.general_cosine(9, fnp.stack([p, 1 - p])), 0.6),
    "get_window tukey": (lambda p: fsig.get_window(("tukey", p), 8), 0.3),
    "kaiser": (lambda p: fsig.windows.kaiser(9, p), 2.5),
}


@pytest.mark.parametrize("name", sorted(_WINDOWS))
def test_window_parameter_traced(backend, name):
    # array-api-strict's operators refuse a tracer beside a plain array: the windows whose
    # grid met the traced parameter by an operator raised TypeError in grad and jit there
    f, p0 = _WINDOWS[name]

    def loss(p):
        return fnp.sum(f(p) ** 2)
    h = 1e-6
    fd = (float(loss(p0 + h)) - float(loss(p0 - h))) / (2 * h)
    p = backend.asarray(p0)
    for g in (ft.grad(loss), ft.jit(ft.grad(loss))):
        got = g(p)
        assert backend.is_own(got)
        np.testing.assert_allclose(float(_np(backend, got)), fd, rtol=1e-6, atol=1e-8)


def test_istft_times_with_traced_fs(backend):
    x = backend.asarray(np.random.default_rng(0).normal(size=32))
    z = fsig.stft(x, nperseg=8)[2]

    def loss(fs_):
        t, y = fsig.istft(z, fs=fs_, nperseg=8)
        return fnp.sum(t)
    got = ft.jit(ft.grad(loss))(backend.asarray(2.0))
    n = 32   # the times are arange(len) / fs: d/dfs sum = -sum(arange) / fs**2
    np.testing.assert_allclose(float(_np(backend, got)), -(n * (n - 1) / 2) / 4.0, rtol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_simpson_traced_dx_under_jit(backend, n):
    # an even number of samples: Cartwright's correction tested `if h0 + h1` on dx (a
    # ConcretizationError under jit for an array dx)
    si = pytest.importorskip("scipy.integrate")
    y = np.random.default_rng(n).normal(size=(2, n))
    Y = backend.asarray(y)
    for dx in (0.7, 0.0):
        got = ft.jit(lambda d: fint.simpson(Y, dx=d))(backend.asarray(dx))
        np.testing.assert_allclose(_np(backend, got), si.simpson(y, dx=dx), rtol=1e-13,
                                   atol=1e-14)
    g = ft.jit(ft.grad(lambda d: fnp.sum(fint.simpson(Y, dx=d))))(backend.asarray(0.7))
    # simpson is linear in dx: its derivative is the integral at dx = 1
    np.testing.assert_allclose(float(_np(backend, g)), np.sum(si.simpson(y, dx=1.0)),
                               rtol=1e-13)
