"""SciPy features functrans used to refuse: the windows of ``scipy.signal.windows`` with
parameters (values against SciPy's, derivatives in the parameters against central
differences, second order on NumPy), and ``scipy.ndimage``'s spline interpolation
(``map_coordinates`` of order 2 to 5, ``spline_filter``, ``spline_filter1d``) against SciPy
in every mode, with derivatives in the input and the coordinates. (get_window's names and
tuples: tests/test_fft_signal_image_cases.py::test_get_window; rsf2csf on non-Schur input:
tests/test_scipy_linalg.py.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.signal as fss
import functrans.scipy.signal.windows as fsw
from functrans.testing import check_grads

sw = pytest.importorskip("scipy.signal.windows")
ss = pytest.importorskip("scipy.signal")


# -- windows ------------------------------------------------------------------------------

# (name, args, kwargs) for SciPy's and functrans's function alike
WINDOWS = [
    ("kaiser", (6.5,), {}), ("kaiser_bessel_derived", (3.0,), {}), ("gaussian", (2.5,), {}),
    ("general_gaussian", (1.5, 3.0), {}), ("general_cosine", ([1.0, 1.94, 1.34, 0.44],), {}),
    ("general_hamming", (0.6,), {}), ("exponential", (None, 3.0), {}),
    ("exponential", (4.5, 2.0), {"sym": False}), ("tukey", (0.3,), {}), ("tukey", (0.0,), {}),
    ("tukey", (1.5,), {}), ("taylor", (5, 40), {"norm": False}), ("taylor", (1, 30), {}),
    ("chebwin", (60,), {}), ("chebwin", (30,), {}),
    ("dpss", (2.5,), {}), ("dpss", (2.0, 3), {"norm": "subsample"}), ("parzen", (), {}),
    ("bohman", (), {}), ("nuttall", (), {}), ("blackmanharris", (), {}), ("flattop", (), {}),
    ("lanczos", (), {}), ("triang", (), {}), ("barthann", (), {})]


@pytest.mark.filterwarnings("ignore:This window is not suitable")  # (chebwin below 45 dB)
@pytest.mark.parametrize("name,args,kw", WINDOWS, ids=lambda v: repr(v))
def test_window_values(name, args, kw):
    for m in (0, 1, 6, 9):
        for sym in (True, False) if "sym" not in kw else (kw["sym"],):
            if name == "kaiser_bessel_derived" and (m % 2 or not sym):
                continue
            kws = {**kw, "sym": sym}
            want = getattr(sw, name)(m, *args, **kws)
            got = np.asarray(getattr(fsw, name)(m, *args, **kws))
            assert got.dtype == np.float64 and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)


def test_window_ratios_and_errors():
    w, r = fsw.dpss(10, 2.0, Kmax=3, return_ratios=True)
    rw, rr = sw.dpss(10, 2.0, Kmax=3, return_ratios=True)
    np.testing.assert_allclose(np.asarray(w), rw, atol=1e-14)
    np.testing.assert_allclose(np.asarray(r), rr, atol=1e-14)
    with pytest.raises(ValueError, match="even number"):
        fsw.kaiser_bessel_derived(7, 2.0)
    with pytest.raises(ValueError, match="center must be None"):
        fsw.exponential(8, 2.0)
    with pytest.raises(ValueError, match="NW must be less than M/2"):
        fsw.dpss(6, 3.0)
    with pytest.raises(ValueError, match="non-negative integer"):
        fsw.hann(-1)
    with pytest.raises(TypeError, match="must be concrete"):
        ft.grad(lambda a: fnp.sum(fsw.dpss(8, a)))(2.0)
    with pytest.warns(UserWarning, match="45dB"):
        fsw.chebwin(8, 30)


def _smooth_windows(beta, std, alpha, p, sig, tau, center, a, at, sll):
    """The windows with parameters, each of them traced."""
    return (fsw.kaiser(9, beta), fsw.kaiser_bessel_derived(8, beta),
            fsw.gaussian(8, std, sym=False), fsw.tukey(9, alpha),
            fss.get_window(("tuk", alpha), 8), fsw.general_gaussian(9, p, sig),
            fsw.exponential(8, center, tau, sym=False), fsw.general_cosine(7, a),
            fsw.general_hamming(7, alpha), fsw.chebwin(8, at), fsw.chebwin(7, at, sym=False),
            fsw.taylor(9, 4, sll))


def test_window_parameter_derivatives(backend):
    args = (5.0, 2.0, 0.45, 1.3, 2.5, 2.0, 3.3, [0.5, 0.4, 0.1], 60.0, 33.0)
    if backend.name == "numpy":  # every window, to second order
        check_grads(_smooth_windows, tuple(np.asarray(v) for v in args), order=2)
        return
    # the same functrans.numpy code on the other libraries: one window, first order, and
    # the window made in the parameter's library
    beta = backend.asarray(5.0)
    assert backend.is_own(fsw.kaiser(9, beta))
    check_grads(lambda b: fsw.kaiser(9, b), (beta,), order=1)


def test_traced_window_parameter_in_welch_and_stft():
    x = np.random.default_rng(24).normal(size=40)
    np.testing.assert_allclose(np.asarray(fss.welch(x, window=("kaiser", 5.0), nperseg=16)[1]),
                               ss.welch(x, window=("kaiser", 5.0), nperseg=16)[1], rtol=1e-12)
    z = ss.stft(x, window=("tukey", 0.4), nperseg=16)[2]
    np.testing.assert_allclose(np.asarray(fss.stft(x, window=("tukey", 0.4), nperseg=16)[2]),
                               z, atol=1e-14)
    np.testing.assert_allclose(
        np.asarray(fss.istft(z, window=("tukey", 0.4), nperseg=16)[1]),
        ss.istft(z, window=("tukey", 0.4), nperseg=16)[1], atol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_grads(lambda b, a: (fss.welch(x, window=("kaiser", b), nperseg=16)[1],
                                  fnp.real(fss.stft(x, window=("tukey", a), nperseg=16)[2])),
                    (np.asarray(5.0), np.asarray(0.4)), order=1)


# -- ndimage: B-spline interpolation ------------------------------------------------------

import functrans.scipy.ndimage as fnd  # noqa: E402

snd = pytest.importorskip("scipy.ndimage")

SPLINE_MODES = ["constant", "grid-constant", "nearest", "mirror", "reflect", "grid-mirror",
                "wrap", "grid-wrap"]
_RNG = np.random.default_rng(2024)
IMG = _RNG.normal(size=(4, 5))
# points inside, on the grid, half-way, and far outside on both sides (each mode's folding)
PTS = np.stack([_RNG.uniform(-9.0, 13.0, 24), _RNG.uniform(-11.0, 16.0, 24)])
PTS[:, :4] = [[0.0, -0.5, 3.0, 3.5], [4.0, 4.5, -0.5, 2.0]]


@pytest.mark.parametrize("mode", SPLINE_MODES)
def test_spline_map_coordinates_values(mode):
    for order in (2, 3, 4, 5):
        for prefilter in (True, False):
            want = snd.map_coordinates(IMG, PTS, order=order, mode=mode, cval=0.6,
                                       prefilter=prefilter)
            got = fnd.map_coordinates(IMG, PTS, order, mode, 0.6, prefilter)
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-13)
        # the prefilters themselves
        np.testing.assert_allclose(np.asarray(fnd.spline_filter(IMG, order, mode=mode)),
                                   snd.spline_filter(IMG, order, mode=mode), atol=1e-13)
        np.testing.assert_allclose(
            np.asarray(fnd.spline_filter1d(IMG[0], order, mode=mode)),
            snd.spline_filter1d(IMG[0], order, mode=mode), atol=1e-13)


def test_spline_dtypes_and_errors():
    line = np.arange(7) * 3 - 8
    c = [np.linspace(-2.0, 8.0, 11)]
    for x in (line.astype(np.int32), line.astype(np.float32), line * (1 - 0.5j)):
        want = snd.map_coordinates(x, c, order=3, mode="mirror")
        got = np.asarray(fnd.map_coordinates(x, c, 3, "mirror"))
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6 if x.dtype == np.float32 else 1e-12)
    spikes = np.array([0, 0, 200, 0, 0, 250, 250, 0], np.uint8)  # (saturating overshoots)
    np.testing.assert_array_equal(np.asarray(fnd.map_coordinates(spikes, c, 3, "mirror")),
                                  snd.map_coordinates(spikes, c, order=3, mode="mirror"))
    assert fnd.spline_filter(IMG.astype(np.float32), 3).dtype == np.float64  # (SciPy's)
    assert fnd.spline_filter(IMG, 3, output=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="between 0 and 5"):
        fnd.map_coordinates(IMG, PTS, 6)
    with pytest.raises(ValueError, match="mode must be one of"):
        fnd.map_coordinates(IMG, PTS, 3, mode="edge")
    with pytest.raises(ValueError, match="between 2 and 5"):
        fnd.spline_filter(IMG, 1)
    with pytest.raises(TypeError, match="output must be a dtype"):
        fnd.spline_filter1d(IMG, 3, output=np.zeros(IMG.shape))


def test_spline_derivatives(backend):
    img = backend.asarray(IMG[:3, :4])
    pts = backend.asarray(PTS[:, 4:9])
    if backend.name == "numpy":  # every order and a few modes, to second order
        for order, mode in ((2, "grid-wrap"), (3, "mirror"), (4, "grid-constant"),
                            (5, "nearest"), (3, "reflect"), (3, "wrap")):
            check_grads(lambda a, q: fnd.map_coordinates(a, q, order, mode, 0.3), (img, pts),
                        order=2)
        check_grads(lambda a: (fnd.spline_filter1d(a, 4, axis=0, mode="grid-wrap"),
                               fnd.spline_filter(a, 5, mode="reflect")), (img,), order=1)
        return
    # the same functrans.numpy code elsewhere: one case, first order, results of the library
    assert backend.is_own(fnd.map_coordinates(img, pts, 3, "mirror"))
    check_grads(lambda a, q: fnd.map_coordinates(a, q, 3, "mirror"), (img, pts), order=1)


def test_spline_under_jit_and_vmap():
    want = snd.map_coordinates(IMG, PTS, order=3, mode="nearest")
    got = ft.jit(lambda a, q: fnd.map_coordinates(a, q, 3, "nearest"))(IMG, PTS)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-13)
    got = ft.vmap(lambda q: fnd.map_coordinates(IMG, q, 3, "nearest"), in_axes=1)(PTS)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-13)
