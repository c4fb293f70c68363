"""Programs that JAX users write, round 14, exercising the features of session 24 beside the
older ones:

- Welch's spectrum with a Kaiser window made by ``get_window(('kaiser', beta))``: SciPy's
  ``welch``, the derivative of a band's power in ``beta`` against SciPy by central
  differences; a Tukey-windowed ``stft`` differentiated in ``alpha``; a multitaper
  estimate from ``dpss`` tapers against SciPy's.
- image registration by gradient descent on a translation warp through
  ``ndimage.map_coordinates`` of orders 2 to 5: SciPy's interpolation, the loss's gradient
  against SciPy by central differences, the recovered shift.
- soft-max pooling by ``lax.reduce_window`` with a general computation (``logaddexp``): the
  windows' log-sum-exp by NumPy, the gradient as each window's softmax, JAX's forward.
- robust location by weighted medians (``quantile(weights=, method='inverted_cdf')``) under
  ``vmap``: NumPy's weighted quantile, the gradient as the chosen sample's indicator.
- ``mean``/``var`` with an integer ``dtype=``: NumPy's integer accumulation.
- AdamW written with ``tree_map_with_path`` (weight decay on the 'w' leaves only) training
  a small network: the same loop by hand in NumPy with the gradient in closed form.
- polynomial roots sorted by ``lax.sort`` of complex numbers: NumPy's lexicographic order,
  the derivative of a root in the coefficients by implicit differentiation.
- a 1-D convolutional autoencoder with a ``conv_transpose`` decoder: the transposed
  convolution by scatter-add in NumPy, ``check_grads``, JAX's ``conv_transpose``.

Every reference is independent of functrans: SciPy, NumPy by hand, a closed form, central
differences, or JAX 0.10.2 with x64 where installed. The code is written for this file.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.scipy.ndimage as fndi
import functrans.scipy.signal as fsig
import functrans.tree as ftree
from functrans.testing import check_grads

from ._ported import _jax, _on, close

RNG = np.random.default_rng(14)


def _cdiff(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


# -- spectral estimation with parametrised windows ------------------------------------------------

SG_T = np.arange(512)
SG_X = (np.sin(2 * np.pi * 0.1 * SG_T) + 0.3 * np.sin(2 * np.pi * 0.23 * SG_T)
        + 0.2 * RNG.standard_normal(512))
SG_BAND = slice(20, 32)


def _kaiser_band(beta, x):
    win = fsig.get_window(("kaiser", beta), 64)
    _, p = fsig.welch(x, window=win, nperseg=64)
    return fnp.sum(p[SG_BAND])


def _scipy_kaiser_band(beta):
    _, p = scipy.signal.welch(SG_X, window=("kaiser", beta), nperseg=64)
    return p[SG_BAND].sum()


def test_welch_kaiser_window_differentiated_in_beta(backend):
    x = backend.asarray(SG_X)
    beta = backend.asarray(6.0)
    np.testing.assert_allclose(backend.to_numpy(_kaiser_band(beta, x)),
                               _scipy_kaiser_band(6.0), rtol=1e-12)
    g = ft.grad(_kaiser_band)(beta, x)
    np.testing.assert_allclose(backend.to_numpy(g), _cdiff(_scipy_kaiser_band, 6.0),
                               rtol=1e-6)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(_kaiser_band))(beta, x)),
                               backend.to_numpy(g), rtol=1e-13)


def _tukey_energy(alpha, x):
    _, _, z = fsig.stft(x, window=fsig.windows.tukey(64, alpha), nperseg=64, noverlap=32)
    return fnp.sum(fnp.abs(z[10:16]) ** 2)


def _scipy_tukey_energy(alpha):
    _, _, z = scipy.signal.stft(SG_X, window=scipy.signal.windows.tukey(64, alpha),
                                nperseg=64, noverlap=32)
    return (np.abs(z[10:16]) ** 2).sum()


def test_stft_tukey_window_differentiated_in_alpha():
    x = fnp.asarray(SG_X)
    for a in (0.3, 0.7):
        np.testing.assert_allclose(_tukey_energy(fnp.asarray(a), x), _scipy_tukey_energy(a),
                                   rtol=1e-12)
        np.testing.assert_allclose(ft.grad(_tukey_energy)(fnp.asarray(a), x),
                                   _cdiff(_scipy_tukey_energy, a), rtol=1e-6)


def test_multitaper_by_dpss(backend):
    x = backend.asarray(SG_X[:128])
    tapers = fsig.windows.dpss(128, 3.0, Kmax=5)
    want_tapers = scipy.signal.windows.dpss(128, 3.0, Kmax=5)
    np.testing.assert_allclose(np.asarray(tapers), want_tapers, atol=1e-12)

    def multitaper(x):
        ps = [fsig.welch(x, window=fnp.asarray(t.tolist(), like=x), nperseg=128)[1]
              for t in want_tapers]
        return fnp.mean(fnp.stack(ps), axis=0)
    want = np.mean([scipy.signal.welch(SG_X[:128], window=t, nperseg=128)[1]
                    for t in want_tapers], axis=0)
    np.testing.assert_allclose(backend.to_numpy(multitaper(x)), want, rtol=1e-12)
    # the spectrum is a quadratic form in x: its derivative along x is twice itself
    np.testing.assert_allclose(backend.to_numpy(ft.jvp(multitaper, (x,), (x,))[1]),
                               2 * want, rtol=1e-12)


# -- image registration through map_coordinates of higher orders --------------------------------

IR_N = 16
_yy, _xx = np.mgrid[0:IR_N, 0:IR_N].astype(float)
IR_SHIFT = np.array([0.7, -0.4])


def _blob(cy, cx):
    return (np.exp(-((_yy - cy) ** 2 + (_xx - cx) ** 2) / 8.0)
            + 0.5 * np.exp(-((_yy - cy - 3) ** 2 + (_xx - cx + 2) ** 2) / 4.0))


IR_FIXED = _blob(7.0, 8.0)
IR_MOVING = _blob(7.0 + IR_SHIFT[0], 8.0 + IR_SHIFT[1])


def _reg_loss(order):
    def loss(t, moving, fixed):
        warped = fndi.map_coordinates(moving, [_yy + t[0], _xx + t[1]], order=order,
                                      mode="nearest")
        return fnp.sum((warped - fixed) ** 2)
    return loss


def _scipy_reg_loss(order, t):
    w = scipy.ndimage.map_coordinates(IR_MOVING, [_yy + t[0], _xx + t[1]], order=order,
                                      mode="nearest")
    return ((w - IR_FIXED) ** 2).sum()


@pytest.mark.parametrize("order", [2, 3, 4, 5])
def test_image_registration_by_map_coordinates(order):
    loss = _reg_loss(order)
    t0 = np.array([0.2, 0.1])
    np.testing.assert_allclose(loss(fnp.asarray(t0), IR_MOVING, IR_FIXED),
                               _scipy_reg_loss(order, t0), rtol=1e-12)
    e = np.eye(2)
    fd = [_cdiff(lambda s: _scipy_reg_loss(order, t0 + s * e[i]), 0.0) for i in range(2)]
    g = ft.grad(loss)(fnp.asarray(t0), IR_MOVING, IR_FIXED)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    if order != 3:
        return
    step = ft.jit(lambda t: t - 0.05 * ft.grad(loss)(t, IR_MOVING, IR_FIXED))
    t = fnp.asarray(np.zeros(2))
    for _ in range(60):
        t = step(t)
    np.testing.assert_allclose(t, IR_SHIFT, atol=2e-2)


# -- soft-max pooling by reduce_window with a general computation --------------------------------

PL_X = RNG.standard_normal((2, 9, 3))


def softpool(x):
    return flax.reduce_window(x, -np.inf, fnp.logaddexp, (1, 3, 1), (1, 2, 1), "VALID")


def test_softmax_pooling_by_reduce_window(backend):
    windows = np.stack([PL_X[:, s:s + 3] for s in range(0, 7, 2)], axis=1)  # (2, 4, 3, 3)
    m = windows.max(2, keepdims=True)
    want = (m + np.log(np.exp(windows - m).sum(2, keepdims=True)))[:, :, 0]
    x = backend.asarray(PL_X)
    np.testing.assert_allclose(backend.to_numpy(softpool(x)), want, rtol=1e-13)
    # the gradient of the pooled sum: each window's softmax, added where windows overlap
    soft = np.exp(windows - want[:, :, None])
    g = np.zeros_like(PL_X)
    for j, s in enumerate(range(0, 7, 2)):
        g[:, s:s + 3] += soft[:, j]
    np.testing.assert_allclose(backend.to_numpy(ft.grad(lambda x: fnp.sum(softpool(x)))(x)),
                               g, rtol=1e-12)
    check_grads(softpool, (fnp.asarray(PL_X),), order=1)
    jax = _jax()
    jw = jax.lax.reduce_window(jax.numpy.asarray(PL_X), -np.inf, jax.numpy.logaddexp,
                               (1, 3, 1), (1, 2, 1), "VALID")
    close(np.asarray(jw), backend.to_numpy(softpool(x)), tol=1e-13)


# -- robust location by weighted medians under vmap ----------------------------------------------

WQ_A = RNG.standard_normal((5, 11))
WQ_W = RNG.uniform(0.1, 2.0, (5, 11))


def test_weighted_median_under_vmap(backend):
    def wmedian(a, w):
        return fnp.quantile(a, 0.5, weights=w, method="inverted_cdf")
    a, w = _on(backend, (WQ_A, WQ_W))
    want = np.array([np.quantile(WQ_A[i], 0.5, weights=WQ_W[i], method="inverted_cdf")
                     for i in range(5)])
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(wmedian)(a, w)), want, rtol=0)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.vmap(wmedian))(a, w)), want, rtol=0)
    # the median is one of the samples: the gradient is its indicator
    g = backend.to_numpy(ft.vmap(ft.grad(wmedian))(a, w))
    np.testing.assert_array_equal(g, (WQ_A == want[:, None]).astype(float))
    # the weighted mean absolute deviation about the weighted median, per row
    def wmad(a, w):
        return fnp.sum(w * fnp.abs(a - wmedian(a, w))) / fnp.sum(w)
    mad = (WQ_W * np.abs(WQ_A - want[:, None])).sum(1) / WQ_W.sum(1)
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(wmad)(a, w)), mad, rtol=1e-13)


def test_mean_var_with_integer_dtype():
    x = np.array([[3, 8, 1, 7], [2, 2, 9, 4]], dtype=np.int32)
    for axis in (None, 0, 1):
        for dt in (np.int64, np.int32):
            np.testing.assert_array_equal(fnp.mean(fnp.asarray(x), axis=axis, dtype=dt),
                                          np.mean(x, axis=axis, dtype=dt))
            np.testing.assert_array_equal(fnp.var(fnp.asarray(x), axis=axis, dtype=dt),
                                          np.var(x, axis=axis, dtype=dt))
