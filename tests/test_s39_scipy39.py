"""Session 39, functrans.scipy's less-travelled modules fuzzed against SciPy and jax.scipy
(helper scipy39; the fuzzer is tests/_fuzz_scipy_jax.py): interpolate, integrate, optimize,
ndimage, spatial.transform, cluster.vq, signal (windows, spectral analysis, detrend) and
sparse.linalg. What it found wrong:

- interpolate.RegularGridInterpolator with a fill_value: a query point with a nan
  coordinate gave the fill value where another of its coordinates was outside the grid;
  SciPy gives nan for every point with a nan coordinate (and functrans did elsewhere).
  A grid dimension without points raised an IndexError from ``take`` at the first call;
  now a ValueError at construction.
- integrate.simpson of one sample with ``x``: the result had ``y``'s dtype alone (float32
  ``y``, float64 ``x`` gave float32; SciPy float64, as for every other length).
- spatial.transform.Rotation.as_euler at gimbal lock (the identity for 'zyz', a
  half-turn...): every reverse-mode derivative was nan (the unused half angle's atan2 at
  (0, 0), its nan slope times the zero cotangent of the branch not taken), where forward
  mode was finite; JAX's is nan too. Now jacrev equals jacfwd.
- ndimage.spline_filter / spline_filter1d: ``output=np.dtype('float32')`` was refused as
  "an array" (a NumPy dtype has a ``shape``), another library's dtype (``torch.float32``)
  raised NumPy's "Cannot interpret"; both are accepted now.
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.scipy import integrate as fint
from functrans.scipy import interpolate as finterp
from functrans.scipy import ndimage as fnd
from functrans.scipy.spatial.transform import Rotation

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


# -- RegularGridInterpolator: nan coordinates, empty dimensions ------------------------------

@pytest.mark.parametrize("method", ["linear", "nearest"])
@pytest.mark.parametrize("fill_value", [-2.5, None, math.nan])
def test_rgi_nan_coordinate_gives_nan(backend, method, fill_value):
    grid = (backend.asarray([0.0, 1.0]), backend.asarray([0.0, 1.0, 2.0]))
    values = backend.asarray(np.arange(6.0).reshape(2, 3))
    # a nan coordinate next to one outside the grid, inside it, and a plain point
    xi = backend.asarray([[math.nan, 5.0], [math.nan, 1.2], [0.5, math.nan], [0.25, 0.5]])
    got = _np(backend, finterp.RegularGridInterpolator(grid, values, method=method,
                                                       fill_value=fill_value)(xi))
    assert np.isnan(got[:3]).all(), got
    assert got[3] == (1.25 if method == "linear" else 0.0)  # (nearest: ties go down)


def test_rgi_nan_coordinate_matches_scipy():
    scipy_interp = pytest.importorskip("scipy.interpolate")
    grid = (np.array([0.0, 1.0]), np.array([0.0, 1.0, 2.0]))
    values = np.arange(6.0).reshape(2, 3)
    xi = np.array([[math.nan, 5.0], [-1.0, math.nan], [3.0, 0.5], [0.25, 0.5]])
    for method in ("linear", "nearest"):
        want = scipy_interp.RegularGridInterpolator(grid, values, method=method,
                                                    bounds_error=False, fill_value=7.0)(xi)
        got = finterp.RegularGridInterpolator(grid, values, method=method, fill_value=7.0)(xi)
        np.testing.assert_array_equal(got, want)


def test_rgi_nan_coordinate_under_jit_and_grad():
    grid = (np.array([0.0, 1.0]), np.array([0.0, 1.0, 2.0]))
    values = np.arange(6.0).reshape(2, 3)
    xi = np.array([[math.nan, 5.0], [0.25, 0.5]])

    def f(v):
        return finterp.RegularGridInterpolator(grid, v, fill_value=0.0)(xi)
    got = np.asarray(ft.jit(f)(values))
    assert np.isnan(got[0]) and got[1] == 1.25
    g = np.asarray(ft.grad(lambda v: f(v)[1])(values))
    np.testing.assert_allclose(g, [[0.375, 0.375, 0.0], [0.125, 0.125, 0.0]])


@pytest.mark.parametrize("fill_value", [None, 0.0, math.nan])
def test_rgi_nonfinite_point_leaves_other_derivatives_finite(backend, fill_value):
    # a nan or infinite query point's weights were nan: the derivative in the values of
    # another point's value was nan at the corners the bad point touched (JAX's too)
    grid = (backend.asarray([0.0, 1.0]), backend.asarray([0.0, 1.0, 2.0]))
    values = backend.asarray(np.arange(6.0).reshape(2, 3))
    xi = backend.asarray([[math.nan, 5.0], [0.25, 0.5], [math.inf, 0.5], [0.5, -math.inf]])

    def f(v, x):
        return finterp.RegularGridInterpolator(grid, v, fill_value=fill_value)(x)
    gv = _np(backend, ft.grad(lambda v: f(v, xi)[1])(values))
    np.testing.assert_allclose(gv, [[0.375, 0.375, 0.0], [0.125, 0.125, 0.0]])
    gx = _np(backend, ft.grad(lambda x: f(values, x)[1])(xi))
    np.testing.assert_allclose(gx, [[0.0, 0.0], [3.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    got = _np(backend, f(values, xi))
    fill = math.nan if fill_value is None else fill_value
    np.testing.assert_array_equal(got, [math.nan, 1.25, fill, fill])  # (SciPy's)


@pytest.mark.parametrize("method", ["linear", "nearest"])
def test_rgi_dimension_without_points_is_refused(method):
    with pytest.raises(ValueError, match="no points in dimension 0"):
        finterp.RegularGridInterpolator((np.zeros(0), np.array([0.0, 1.0])),
                                        np.zeros((0, 2)), method=method)


# -- simpson: one sample with x --------------------------------------------------------------

def test_simpson_one_sample_takes_x_dtype(backend):
    y = backend.asarray([[1.5], [2.0]], dtype="float32")
    x = backend.asarray([0.3], dtype="float64")
    got = fint.simpson(y, x=x)
    assert str(_np(backend, got).dtype) == "float64"
    np.testing.assert_array_equal(_np(backend, got), [0.0, 0.0])
    # without x, y's float32 is kept (SciPy's too)
    assert str(_np(backend, fint.simpson(y)).dtype) == "float32"


def test_simpson_one_sample_matches_scipy_dtype():
    scipy_integrate = pytest.importorskip("scipy.integrate")
    y = np.array([1.5], dtype=np.float32)
    x = np.array([0.3])
    want = scipy_integrate.simpson(y, x=x)
    got = fint.simpson(y, x=x)
    assert np.asarray(got).dtype == np.asarray(want).dtype == np.float64
    assert float(got) == float(want) == 0.0


# -- Rotation.as_euler: reverse mode at gimbal lock ------------------------------------------

_LOCKS = [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.3, 0.9], [1.0, 0.0, 0.0, 0.0],
          [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.5, 0.5, 0.5, 0.5]]


@pytest.mark.parametrize("seq", ["zyz", "XYX", "zxz", "ZXZ", "xzy", "ZYX"])
@pytest.mark.parametrize("quat", _LOCKS)
def test_as_euler_reverse_mode_matches_forward_at_lock(seq, quat):
    q = np.array(quat)

    def f(q):
        return Rotation.from_quat(q).as_euler(seq)
    fwd = np.asarray(ft.jacfwd(f)(q))
    rev = np.asarray(ft.jacrev(f)(q))
    assert np.isfinite(rev).all(), rev
    np.testing.assert_allclose(rev, fwd, atol=1e-15)


def test_as_euler_lock_derivative_value():
    # the identity in 'zyz': locked, the third angle 0, the first the whole turn about z,
    # 2 atan2(qz, qw): d/dqz = 2 / qw, the rest 0 at q = (0, 0, 0, 1)
    g = np.asarray(ft.grad(lambda q: Rotation.from_quat(q).as_euler("zyz")[0])(
        np.array([0.0, 0.0, 0.0, 1.0])))
    np.testing.assert_allclose(g, [0.0, 0.0, 2.0, 0.0], atol=1e-15)


def test_as_euler_lock_values_match_scipy():
    st = pytest.importorskip("scipy.spatial.transform")
    for quat in _LOCKS:
        for seq in ("zyz", "XYX", "xzy", "ZYX"):
            with np.errstate(all="ignore"):
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    want = st.Rotation.from_quat(quat).as_euler(seq)
            got = np.asarray(Rotation.from_quat(np.array(quat)).as_euler(seq))
            np.testing.assert_allclose(got, want, atol=1e-12)


# -- spline_filter's output dtypes -----------------------------------------------------------

@pytest.mark.parametrize("output", [np.dtype("float32"), np.float32, "float32", fnp.float32])
def test_spline_filter_output_dtype_forms(backend, output):
    x = backend.asarray([1.0, 2.0, 0.5, 3.0, -1.0])
    got = fnd.spline_filter(x, output=output)
    assert str(_np(backend, got).dtype) == "float32"
    got1 = fnd.spline_filter1d(x, output=output)
    assert str(_np(backend, got1).dtype) == "float32"


def test_spline_filter_output_torch_dtype():
    torch = pytest.importorskip("torch")
    got = fnd.spline_filter(np.arange(5.0), output=torch.float32)
    assert np.asarray(got).dtype == np.float32


@pytest.mark.parametrize("output", [np.zeros(3), np.int32, "float16", "bogus"])
def test_spline_filter_output_refusals(output):
    with pytest.raises(TypeError, match="output must be"):
        fnd.spline_filter(np.arange(5.0), output=output)


# -- map_coordinates: nan and infinite coordinates -------------------------------------------

_MAP_MODES = ["constant", "nearest", "mirror", "reflect", "wrap", "grid-constant", "grid-wrap",
              "grid-mirror"]


@pytest.mark.parametrize("order", [0, 1, 3])
@pytest.mark.parametrize("mode", _MAP_MODES)
def test_map_coordinates_nonfinite_coordinates(order, mode):
    x = np.arange(5.0) + 1.0
    c = np.array([math.nan, 1.5, math.inf, -math.inf])
    got = np.asarray(fnd.map_coordinates(x, [c], order, mode=mode, cval=-7.0))
    # nan: nan (order 0 read some sample: the index of a nan); infinite: the limit, cval in
    # the constant modes, the edge for 'nearest' (+inf read x[0] at order 0; nan at order
    # 1 and up), nan where the extension has no limit
    assert np.isnan(got[0])
    limit = {"constant": [-7.0, -7.0], "grid-constant": [-7.0, -7.0],
             "nearest": [5.0, 1.0]}.get(mode, [math.nan, math.nan])
    np.testing.assert_allclose(got[2:], limit, rtol=1e-14)  # (the spline's rounding)
    # the other points' derivatives in the input and the coordinates stay finite
    g = np.asarray(ft.grad(lambda v: fnd.map_coordinates(v, [c], order, mode=mode,
                                                         cval=-7.0)[1])(x))
    assert np.isfinite(g).all(), g
    want = np.asarray(ft.grad(lambda v: fnd.map_coordinates(v, [c[1:2]], order, mode=mode,
                                                            cval=-7.0)[0])(x))
    np.testing.assert_allclose(g, want, atol=1e-15)
    gc = np.asarray(ft.grad(lambda cc: fnd.map_coordinates(x, [cc], order, mode=mode,
                                                           cval=-7.0)[1])(c))
    assert np.isfinite(gc).all() and gc[0] == gc[2] == gc[3] == 0.0, gc


def test_map_coordinates_nonfinite_coordinates_backends(backend):
    x = backend.asarray([1.0, 2.0, 3.0, 4.0])
    c = backend.asarray([math.nan, 0.5, math.inf])
    for order in (1, 2):
        got = _np(backend, fnd.map_coordinates(x, [c], order, mode="nearest"))
        assert np.isnan(got[0]) and abs(got[2] - 4.0) < 1e-14
        g = _np(backend, ft.grad(lambda v: fnd.map_coordinates(v, [c], order,
                                                               mode="nearest")[1])(x))
        assert np.isfinite(g).all()


# -- istft: a default nfft shorter than nperseg ----------------------------------------------

def test_istft_default_nfft_shorter_than_nperseg_is_a_clear_error():
    from functrans.scipy import signal as fsig
    # one frequency of a one-sided STFT gives nfft = 2 (1 - 1) = 0 (was fft.irfft's
    # "invalid number of data points (0)"; SciPy returns samples that are no inverse), three
    # give 4 < 9 (was a broadcasting error)
    for shape, nperseg in (((1, 3), 4), ((3, 3), 9)):
        with pytest.raises(ValueError, match="fewer than nperseg"):
            fsig.istft(np.ones(shape, complex), nperseg=nperseg)
    # with the STFT's nfft it inverts
    x = np.sin(np.arange(20.0))
    _, _, z = fsig.stft(x, nperseg=8, nfft=16)
    _, back = fsig.istft(z, nperseg=8, nfft=16)
    np.testing.assert_allclose(np.asarray(back)[:20], x, atol=1e-12)


# -- a fast selection of the fuzzer (tests/_fuzz_scipy_jax.py: values vs SciPy, derivatives
# vs central differences, the dot-product identity, jit and vmap; not vs jax.scipy) ---------

@pytest.mark.parametrize("section", ["interp", "integrate", "vq", "windows", "spectral",
                                     "detrend", "ndimage", "spline"])
def test_fuzz_selection(section):
    pytest.importorskip("jax")
    pytest.importorskip("scipy.signal")
    import importlib
    fuzz = importlib.import_module("tests._fuzz_scipy_jax")
    fuzz.FAILS.clear()
    fuzz.USE_JAX = False  # (JAX's tracing of each case costs seconds; by hand it runs)
    rng = np.random.default_rng([39, sorted(fuzz.SECTIONS).index(section)])
    for _ in range(3):
        fuzz.SECTIONS[section](rng)
    assert not fuzz.FAILS, fuzz.FAILS


def test_map_coordinates_staged_keeps_the_plain_path():
    # (the lead: the non-finite replacement runs eagerly only; staged it cost jit(grad) of an
    # order-1 map 57 %) under jit finite coordinates give eager's values and derivatives, the
    # staged graph holds no isfinite test, and a nan point's value is still nan at order 1
    x = np.arange(12.0).reshape(3, 4) + 1.0
    c = np.array([[0.5, 1.25, 2.0], [0.75, 2.5, 3.0]])
    f = lambda v, cc: fnd.map_coordinates(v, cc, 1, mode="nearest")
    np.testing.assert_allclose(np.asarray(ft.jit(f)(x, c)), np.asarray(f(x, c)), rtol=1e-15)
    np.testing.assert_allclose(np.asarray(ft.jit(ft.grad(lambda v: f(v, c).sum()))(x)),
                               np.asarray(ft.grad(lambda v: f(v, c).sum())(x)), rtol=1e-15)
    assert "isfinite" not in str(ft.make_jaxpr(f)(x, c))
    # (constant coordinates are known when staged: the replacement is folded in)
    assert "select" in str(ft.make_jaxpr(lambda v: f(v, np.array([[np.nan], [0.5]])))(x))
    got = np.asarray(ft.jit(f)(x, np.array([[np.nan, 0.5], [0.5, 0.5]])))
    assert np.isnan(got[0]) and np.isfinite(got[1])
