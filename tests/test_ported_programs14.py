"""Programs that JAX users write, round 14, exercising the features of session 24 beside the
older ones:

- Welch's spectrum with a Kaiser window made by ``get_window(('kaiser', beta))``: SciPy's
  ``welch``, the derivative of a band's power in ``beta`` against SciPy by central
  differences; a Tukey-windowed ``stft`` differentiated in ``alpha``; a multitaper
  estimate from ``dpss`` tapers against SciPy's.
- image registration by gradient descent on a translation warp through
  ``ndimage.map_coordinates`` of orders 2 to 5 (several of SciPy's modes): SciPy's
  interpolation, the loss's gradient against SciPy by central differences, the recovered
  shift.
- soft-max pooling by ``lax.reduce_window`` with a general computation (``logaddexp``): the
  windows' log-sum-exp by NumPy, the gradient as each window's softmax, JAX's forward.
- robust location by weighted medians (``quantile(weights=, method='inverted_cdf')``) under
  ``vmap``: NumPy's weighted quantile, the gradient as the chosen sample's indicator; least
  absolute deviations as the weighted median of the slopes, against the objective.
- ``mean``/``var`` with an integer ``dtype=``: NumPy's integer accumulation.
- AdamW written with ``tree_map_with_path`` (weight decay on the 'w' leaves only) training
  a small network: the same loop by hand in NumPy with the gradient in closed form.
- polynomial roots sorted by ``lax.sort`` of complex numbers: NumPy's lexicographic order,
  the derivative of a root in the coefficients by implicit differentiation.
- a 1-D convolutional autoencoder with a ``conv_transpose`` decoder: the transposed
  convolution by scatter-add in NumPy, ``check_grads``, JAX's ``conv_transpose``; and
  ``conv_transpose(transpose_kernel=True)`` as a strided 2-D convolution's VJP.
- argmax pooling by ``reduce_window`` over a pair of operands (values and indices) with a
  general computation: NumPy's window maxima and first argmax, the gradient's placement.
- a Kalman filter's likelihood by ``scan``: a NumPy loop, its central differences, the
  Hessian's symmetry; Hamiltonian Monte Carlo's leapfrog by ``grad`` in ``fori_loop``: the
  leapfrog's linear map for a Gaussian target, reversibility, ``jacfwd`` through the loop.

Written for the suite's backends: array-api-strict's operators refuse a tracer on their
right (its issue #188), so where a plain array can meet a tracer (a carry, ``init_value``)
the program uses functions (``subtract``, ``greater``) or starts the carry next to the
traced input.

Every reference is independent of functrans: SciPy, NumPy by hand, a closed form, central
differences, or JAX 0.10.2 with x64 where installed. The code is written for this file.
"""

from __future__ import annotations

import functools

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


def _maybe_jax():
    """JAX with x64, or None where it is not installed (as in CI, where the independent
    references before each JAX comparison stand alone and the test passes)."""
    try:
        return _jax()
    except pytest.skip.Exception:
        return None


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
    if _maybe_jax() is None:
        return
    v_j, g_j = _kaiser_band_jax()
    close(v_j, backend.to_numpy(_kaiser_band(beta, x)), tol=1e-12)
    close(g_j, backend.to_numpy(g), tol=1e-11)


@functools.cache
def _kaiser_band_jax():
    jax = _jax()
    import jax.numpy as jnp

    def band(beta):  # (jnp.kaiser is symmetric: the periodic window is one longer, cut)
        _, p = jax.scipy.signal.welch(jnp.asarray(SG_X), window=jnp.kaiser(65, beta)[:-1],
                                      nperseg=64)
        return p[SG_BAND].sum()
    return np.asarray(band(6.0)), np.asarray(jax.grad(band)(6.0))


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


def _reg_loss(order, mode):
    def loss(t, moving, fixed):
        warped = fndi.map_coordinates(moving, [_yy + t[0], _xx + t[1]], order=order,
                                      mode=mode)
        return fnp.sum((warped - fixed) ** 2)
    return loss


def _scipy_reg_loss(order, mode, t):
    w = scipy.ndimage.map_coordinates(IR_MOVING, [_yy + t[0], _xx + t[1]], order=order,
                                      mode=mode)
    return ((w - IR_FIXED) ** 2).sum()


@pytest.mark.parametrize("order, mode", [(2, "nearest"), (3, "nearest"), (4, "grid-wrap"),
                                         (5, "mirror"), (2, "reflect"), (3, "constant")])
def test_image_registration_by_map_coordinates(order, mode):
    # (orders 2 to 5 take SciPy's mode names and meanings)
    loss = _reg_loss(order, mode)
    t0 = np.array([0.2, 0.1])
    np.testing.assert_allclose(loss(fnp.asarray(t0), IR_MOVING, IR_FIXED),
                               _scipy_reg_loss(order, mode, t0), rtol=1e-12)
    e = np.eye(2)
    fd = [_cdiff(lambda s: _scipy_reg_loss(order, mode, t0 + s * e[i]), 0.0) for i in range(2)]
    g = ft.grad(loss)(fnp.asarray(t0), IR_MOVING, IR_FIXED)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    if (order, mode) != (3, "nearest"):
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
    jax = _maybe_jax()
    if jax is None:
        return
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
    jax = _maybe_jax()
    if jax is None:
        return
    import jax.numpy as jnp
    jm = jax.vmap(lambda a, w: jnp.quantile(a, 0.5, weights=w, method="inverted_cdf"))(
        jnp.asarray(WQ_A), jnp.asarray(WQ_W))
    close(np.asarray(jm), backend.to_numpy(ft.vmap(wmedian)(a, w)), tol=0)


def test_least_absolute_deviations_by_weighted_median(backend):
    # argmin_b sum |y - b x| is the weighted median of y / x with weights |x|: several data
    # sets at once under vmap, against the objective at every candidate ratio
    x = RNG.uniform(0.2, 2.0, (4, 15)) * RNG.choice([-1.0, 1.0], (4, 15))
    y = 1.5 * x + RNG.standard_cauchy((4, 15)) * 0.3

    def lad(x, y):
        return fnp.quantile(y / x, 0.5, weights=fnp.abs(x), method="inverted_cdf")
    b = backend.to_numpy(ft.vmap(lad)(*_on(backend, (x, y))))
    for k in range(4):
        cand = y[k] / x[k]
        obj = np.abs(y[k][None] - cand[:, None] * x[k][None]).sum(1)
        assert np.abs(y[k] - b[k] * x[k]).sum() <= obj.min() * (1 + 1e-14)
    # the slope's derivative in y: 1 / x at the chosen point, 0 elsewhere
    g = backend.to_numpy(ft.vmap(ft.grad(lad, argnums=1))(*_on(backend, (x, y))))
    pick = y / x == b[:, None]
    np.testing.assert_array_equal(pick.sum(1), 1)
    np.testing.assert_allclose(g, np.where(pick, 1 / x, 0.0), rtol=1e-14)


def test_mean_var_with_integer_dtype():
    # NumPy's integer arithmetic: the mean truncated (row 0's 4.75 is 4) before the
    # deviations are squared; int8 wraps (JAX's var gives floats here: NumPy is the reference)
    x = np.array([[3, 8, 1, 7], [2, 2, 9, 4], [100, -90, 120, 5]], dtype=np.int32)
    for axis in (None, 0, 1):
        for dt in (np.int64, np.int32, np.int8):
            for f, g in ((fnp.mean, np.mean), (fnp.var, np.var)):
                with np.errstate(over="ignore"):
                    want = g(x, axis=axis, dtype=dt)
                got = np.asarray(f(fnp.asarray(x), axis=axis, dtype=dt))
                assert got.dtype == want.dtype, (f, axis, dt)
                np.testing.assert_array_equal(got, want)


# -- AdamW by tree_map_with_path: weight decay on the 'w' leaves only ---------------------------

AW_X = RNG.standard_normal((20, 3))
AW_Y = np.sin(AW_X @ np.array([1.0, -0.5, 0.3]))[:, None]
AW_P = {"l1": {"w": 0.5 * RNG.standard_normal((3, 6)), "b": np.zeros(6)},
        "l2": {"w": 0.5 * RNG.standard_normal((6, 1)), "b": np.zeros(1)}}
AW_LR, AW_B1, AW_B2, AW_WD, AW_CLIP = 0.05, 0.9, 0.99, 0.1, 1.0


def aw_loss(np_, p, x, y):
    h = np_.tanh(x @ p["l1"]["w"] + p["l1"]["b"])
    return np_.mean((h @ p["l2"]["w"] + p["l2"]["b"] - y) ** 2)


def adamw_program(np_, tu, value_and_grad):
    """A training step: each layer's gradient clipped to norm AW_CLIP (a layer dict is a leaf,
    chosen by its path), then Adam with decoupled decay of the 'w' leaves."""
    def clip_layer(path, layer):
        norm = np_.sqrt(sum(np_.sum(g ** 2) for g in layer.values()))
        scale = np_.minimum(1.0, AW_CLIP / norm)
        return {k: g * scale for k, g in layer.items()}

    def step(state, i):
        p, m, v = state
        loss, g = value_and_grad(lambda p: aw_loss(np_, p, AW_X, AW_Y))(p)
        g = tu.tree_map_with_path(clip_layer, g, is_leaf=lambda path, n: len(path) == 1,
                                  is_leaf_takes_path=True)
        m = tu.tree_map(lambda m, g: AW_B1 * m + (1 - AW_B1) * g, m, g)
        v = tu.tree_map(lambda v, g: AW_B2 * v + (1 - AW_B2) * g ** 2, v, g)
        t = i + 1.0

        def update(path, p, m, v):
            u = (m / (1 - AW_B1 ** t)) / (np_.sqrt(v / (1 - AW_B2 ** t)) + 1e-8)
            decay = AW_WD * p if path[-1].key == "w" else 0.0 * p
            return p - AW_LR * (u + decay)
        p = tu.tree_map_with_path(update, p, m, v)
        return (p, m, v), loss
    return step


def _aw_by_hand(steps):
    p = {k: dict(d) for k, d in AW_P.items()}
    m = {k: {n: np.zeros_like(a) for n, a in d.items()} for k, d in p.items()}
    v = {k: {n: np.zeros_like(a) for n, a in d.items()} for k, d in p.items()}
    losses = []
    for i in range(steps):
        z = AW_X @ p["l1"]["w"] + p["l1"]["b"]
        h = np.tanh(z)
        r = h @ p["l2"]["w"] + p["l2"]["b"] - AW_Y
        losses.append(np.mean(r ** 2))
        dr = 2 * r / r.size
        dz = (dr @ p["l2"]["w"].T) * (1 - h ** 2)
        g = {"l1": {"w": AW_X.T @ dz, "b": dz.sum(0)}, "l2": {"w": h.T @ dr, "b": dr.sum(0)}}
        for k in g:
            s = min(1.0, AW_CLIP / np.sqrt(sum((a ** 2).sum() for a in g[k].values())))
            for n in g[k]:
                m[k][n] = AW_B1 * m[k][n] + (1 - AW_B1) * s * g[k][n]
                v[k][n] = AW_B2 * v[k][n] + (1 - AW_B2) * (s * g[k][n]) ** 2
                u = (m[k][n] / (1 - AW_B1 ** (i + 1))) / (
                    np.sqrt(v[k][n] / (1 - AW_B2 ** (i + 1))) + 1e-8)
                p[k][n] = p[k][n] - AW_LR * (u + (AW_WD * p[k][n] if n == "w" else 0.0))
    return p, np.array(losses)


def test_adamw_by_tree_map_with_path():
    step = adamw_program(fnp, ftree, ft.value_and_grad)
    zeros = ftree.tree_map(np.zeros_like, AW_P)
    (p, _, _), losses = ft.jit(lambda s: flax.scan(step, s, fnp.arange(30.0)))(
        (AW_P, zeros, zeros))
    want_p, want_losses = _aw_by_hand(30)
    close(want_p, p, tol=1e-11)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-11)
    assert want_losses[-1] < 0.5 * want_losses[0]
    jax = _maybe_jax()
    if jax is None:
        return
    import jax.numpy as jnp
    jstep = adamw_program(jnp, jax.tree_util, jax.value_and_grad)
    (jp, _, _), jl = jax.lax.scan(jstep, (AW_P, zeros, zeros), jnp.arange(30.0))
    close(jax.tree_util.tree_map(np.asarray, jp), p, tol=1e-11)
    close(np.asarray(jl), losses, tol=1e-11)


# -- polynomial roots in lexicographic order by lax.sort of complex numbers ----------------------

PR_B = np.array([1.0, -2.0, 0.5, 3.0])
PR_C = np.array([2.0, 5.0, -1.0, 2.5])  # two real pairs, two complex pairs


def sorted_roots(np_, lax):
    def roots(b, c):
        # (a tracer first beside a plain array: array-api-strict's issue #188)
        d = np_.sqrt(np_.astype(np_.subtract(b ** 2, c * 4), np_.complex128))
        return lax.sort(np_.concatenate([-(d + b) / 2, (d - b) / 2]))
    return roots


def test_sorted_complex_roots(backend):
    roots = sorted_roots(fnp, flax)
    b, c = _on(backend, (PR_B, PR_C))
    poly = np.poly1d([1.0])
    for bi, ci in zip(PR_B, PR_C):
        poly = poly * np.poly1d([1.0, bi, ci])
    want = np.sort(np.roots(poly.coeffs))  # NumPy orders complex numbers lexicographically
    r = roots(b, c)
    np.testing.assert_allclose(backend.to_numpy(r), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(roots)(b, c)), backend.to_numpy(r),
                               rtol=1e-15)
    # a weighted sum of the roots' real and imaginary parts in sorted order, differentiated
    # in c: a root r of x^2 + b_k x + c_k moves by dr/dc_k = -1 / (2 r + b_k)
    wr, wi = np.arange(1.0, 9.0), np.arange(8.0, 0.0, -1.0)

    def score(c):
        r = roots(b, c)
        return (fnp.sum(fnp.real(r) * fnp.asarray(wr.tolist(), like=c))
                + fnp.sum(fnp.imag(r) * fnp.asarray(wi.tolist(), like=c)))
    g = np.zeros(4)
    rn = backend.to_numpy(r)
    for j, rj in enumerate(rn):
        k = int(np.argmin(np.abs(rj ** 2 + PR_B * rj + PR_C)))
        drdc = -1.0 / (2 * rj + PR_B[k])
        g[k] += wr[j] * drdc.real + wi[j] * drdc.imag
    np.testing.assert_allclose(backend.to_numpy(ft.grad(score)(c)), g, rtol=1e-10)
    jax = _maybe_jax()
    if jax is None:
        return
    import jax.numpy as jnp
    close(np.asarray(sorted_roots(jnp, jax.lax)(jnp.asarray(PR_B), jnp.asarray(PR_C))),
          backend.to_numpy(r), tol=1e-13)


# -- a 1-D convolutional autoencoder with a conv_transpose decoder ------------------------------

AE_X = RNG.standard_normal((2, 16, 2))      # (batch, length, channels)
AE_K1 = 0.4 * RNG.standard_normal((4, 2, 3))  # (width, in, out)
AE_K2 = 0.4 * RNG.standard_normal((4, 3, 2))
AE_DN = ("NHC", "HIO", "NHC")


def autoencoder(lax, np_):
    def run(k1, k2, x):
        h = np_.tanh(lax.conv_general_dilated(x, k1, (2,), "VALID", dimension_numbers=AE_DN))
        return lax.conv_transpose(h, k2, (2,), "VALID", dimension_numbers=AE_DN)

    def loss(k1, k2, x):
        y = run(k1, k2, x)
        return np_.mean((y - x) ** 2)
    return run, loss


def _ae_by_hand(k1, k2, x):
    n = (x.shape[1] - 4) // 2 + 1
    h = np.tanh(np.stack([np.einsum("bjc,jco->bo", x[:, 2 * i:2 * i + 4], k1)
                          for i in range(n)], axis=1))
    y = np.zeros((x.shape[0], 2 * n + 2, k2.shape[2]))
    for i in range(n):  # each input sample scatters the (flipped) kernel, stride 2 apart
        y[:, 2 * i:2 * i + 4] += np.einsum("bc,jco->bjo", h[:, i], k2[::-1])
    return y


def test_conv_transpose_autoencoder(backend):
    run, loss = autoencoder(flax, fnp)
    k1, k2, x = _on(backend, (AE_K1, AE_K2, AE_X))
    y = run(k1, k2, x)
    want = _ae_by_hand(AE_K1, AE_K2, AE_X)
    assert want.shape == AE_X.shape
    np.testing.assert_allclose(backend.to_numpy(y), want, rtol=1e-12, atol=1e-14)
    if backend.name == "numpy":
        check_grads(lambda a, b: loss(a, b, x), (k1, k2), order=2, modes=("rev",))
    g = ft.jit(ft.grad(loss, argnums=(0, 1)))(k1, k2, x)
    # a few descent steps lower the reconstruction error
    l0 = float(backend.to_numpy(loss(k1, k2, x)))
    for _ in range(5):
        gk1, gk2 = ft.grad(loss, argnums=(0, 1))(k1, k2, x)
        k1, k2 = k1 - 0.5 * gk1, k2 - 0.5 * gk2
    assert float(backend.to_numpy(loss(k1, k2, x))) < l0
    jax = _maybe_jax()
    if jax is None:
        return
    import jax.numpy as jnp
    jrun, jloss = autoencoder(jax.lax, jnp)
    close(np.asarray(jrun(*map(jnp.asarray, (AE_K1, AE_K2, AE_X)))), want, tol=1e-12)
    jg = jax.grad(jloss, argnums=(0, 1))(*map(jnp.asarray, (AE_K1, AE_K2, AE_X)))
    close(tuple(map(np.asarray, jg)), tuple(backend.to_numpy(a) for a in g), tol=1e-12)


# -- argmax pooling by reduce_window over a pair of operands -------------------------------------

AP_X = np.round(RNG.standard_normal((7, 8)), 1)  # rounded: some ties


def argmax_pool(np_, lax):
    """Each 2x2 window's (max, flat index of the first max), by a computation on pairs."""
    def pick(a, b):
        (va, ia), (vb, ib) = a, b
        # (functions, not operators: init_value's plain arrays meet tracers, issue #188)
        take_b = np_.logical_or(np_.greater(vb, va),
                                np_.logical_and(np_.equal(vb, va), np_.less(ib, ia)))
        return np_.where(take_b, vb, va), np_.where(take_b, ib, ia)

    def pool(x, idx):
        return lax.reduce_window((x, idx), (-np.inf, 56), pick, (2, 2), (2, 2),
                                 ((0, 1), (0, 0)))
    return pool


def test_argmax_pooling_by_reduce_window_of_pairs(backend):
    pool = argmax_pool(fnp, flax)
    x, idx = backend.asarray(AP_X), backend.asarray(np.arange(56).reshape(7, 8), "int64")
    v, i = pool(x, idx)
    xp = np.pad(AP_X, ((0, 1), (0, 0)), constant_values=-np.inf)
    w = xp.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(4, 4, 4)
    flat = np.pad(np.arange(56).reshape(7, 8), ((0, 1), (0, 0)), constant_values=99)
    fw = flat.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(4, 4, 4)
    np.testing.assert_array_equal(backend.to_numpy(v), w.max(-1))
    np.testing.assert_array_equal(backend.to_numpy(i),
                                  np.take_along_axis(fw, w.argmax(-1)[..., None], -1)[..., 0])
    # the pooled values' gradient lands on the chosen entries
    g = backend.to_numpy(ft.grad(lambda x: fnp.sum(pool(x, idx)[0]))(x))
    want = np.zeros(56)
    want[backend.to_numpy(i).ravel()] = 1.0
    np.testing.assert_array_equal(g, want.reshape(7, 8))
    jax = _maybe_jax()
    if jax is None:
        return
    import jax.numpy as jnp
    jv, ji = argmax_pool(jnp, jax.lax)(jnp.asarray(AP_X), jnp.arange(56).reshape(7, 8))
    close((np.asarray(jv), np.asarray(ji)), (backend.to_numpy(v), backend.to_numpy(i)), tol=0)


# -- conv_transpose(transpose_kernel=True) is the convolution's VJP -----------------------------

CT_X = RNG.standard_normal((1, 9, 8, 2))
CT_K = RNG.standard_normal((3, 3, 2, 4))
CT_DN = ("NHWC", "HWIO", "NHWC")


def test_conv_transpose_is_the_convs_vjp():
    def conv(x):
        return flax.conv_general_dilated(x, CT_K, (2, 2), "SAME", dimension_numbers=CT_DN)
    x = fnp.asarray(CT_X)
    y, vjp = ft.vjp(conv, x)
    ct = RNG.standard_normal(tuple(y.shape))
    # SAME with stride 2 pads (1, 1) on 9 rows, (0, 1) on 8 columns: the VJP by hand
    xp = np.zeros((1, 11, 9, 2))
    for r in range(y.shape[1]):
        for c in range(y.shape[2]):
            xp[0, 2 * r:2 * r + 3, 2 * c:2 * c + 3] += np.einsum("o,hwio->hwi", ct[0, r, c],
                                                                   CT_K)
    want = xp[:, 1:10, 0:8]
    np.testing.assert_allclose(vjp(fnp.asarray(ct))[0], want, rtol=1e-12, atol=1e-13)
    got = flax.conv_transpose(fnp.asarray(ct), CT_K, (2, 2), "SAME", dimension_numbers=CT_DN,
                              transpose_kernel=True)
    # (SAME transposed gives 2 * 5 rows: the VJP's 9 are rows 1 to 9, as in JAX)
    assert tuple(got.shape) == (1, 10, 8, 2)
    np.testing.assert_allclose(np.asarray(got)[:, 1:], want, rtol=1e-12, atol=1e-13)
    jax = _maybe_jax()
    if jax is None:
        return
    jt = jax.lax.conv_transpose(ct, CT_K, (2, 2), "SAME", dimension_numbers=CT_DN,
                                transpose_kernel=True)
    close(np.asarray(jt), np.asarray(got), tol=1e-12)


# -- a Kalman filter's likelihood by scan --------------------------------------------------------

KF_Y = np.cumsum(RNG.standard_normal(40)) + 0.5 * RNG.standard_normal(40)


def kalman_loglik(np_, scan):
    """The local-level model y_t = mu_t + e_t, mu_t = mu_{t-1} + w_t: the log-likelihood in
    the log-variances (log var e, log var w) by the prediction-error decomposition."""
    def loglik(logv, y):
        r, q = np_.exp(logv[0]), np_.exp(logv[1])

        def step(carry, yt):
            m, p = carry
            p = p + q
            s = p + r
            k = p / s
            e = np_.subtract(yt, m)  # (yt plain, m traced: issue #188)
            ll = -0.5 * (np_.log(2 * np.pi * s) + e ** 2 / s)
            return (m + k * e, (1 - k) * p), ll
        # (the carry starts next to logv, as traced as it will be)
        _, lls = scan(step, (logv[0] * 0.0, logv[0] * 0.0 + 10.0), y)
        return np_.sum(lls)
    return loglik


def _kalman_np(logv):
    r, q = np.exp(logv)
    m, p, ll = 0.0, 10.0, 0.0
    for yt in KF_Y:
        p += q
        s = p + r
        ll -= 0.5 * (np.log(2 * np.pi * s) + (yt - m) ** 2 / s)
        k = p / s
        m, p = m + k * (yt - m), (1 - k) * p
    return ll


def test_kalman_loglik_by_scan(backend):
    loglik = kalman_loglik(fnp, flax.scan)
    logv, y = _on(backend, (np.array([np.log(0.25), 0.0]), KF_Y))
    lv = np.array([np.log(0.25), 0.0])
    np.testing.assert_allclose(backend.to_numpy(loglik(logv, y)), _kalman_np(lv), rtol=1e-13)
    e = np.eye(2)
    fd = np.array([_cdiff(lambda s: _kalman_np(lv + s * e[i]), 0.0) for i in range(2)])
    for g in (ft.grad(loglik), ft.jit(ft.grad(loglik))):
        np.testing.assert_allclose(backend.to_numpy(g(logv, y)), fd, rtol=1e-7)
    hess = backend.to_numpy(ft.hessian(loglik)(logv, y))
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)
    fdh = np.array([_cdiff(lambda s: backend.to_numpy(ft.grad(loglik)(
        backend.asarray(lv + s * e[i]), y)), 0.0) for i in range(2)])
    np.testing.assert_allclose(hess, fdh, rtol=1e-6)


# -- Hamiltonian Monte Carlo's leapfrog with grad --------------------------------------------------

HM_A = np.array([[2.0, 0.3], [0.3, 0.5]])  # the precision of a Gaussian target


def test_hmc_leapfrog_with_grad(backend):
    def neg_logp(q):
        return 0.5 * fnp.sum(q * (q @ backend.asarray(HM_A)))

    def leapfrog(q, p, eps=0.1, n=25):
        def body(_, qp):
            q, p = qp
            p = fnp.subtract(p, 0.5 * eps * ft.grad(neg_logp)(q))  # (p may be plain: #188)
            q = q + eps * p
            return q, p - 0.5 * eps * ft.grad(neg_logp)(q)
        return flax.fori_loop(0, n, body, (q, p))
    q0, p0 = np.array([1.0, -0.5]), np.array([0.3, 0.8])
    q, p = ft.jit(leapfrog)(*_on(backend, (q0, p0)))
    # the leapfrog step is the linear map [[I - e^2 A/2, e I], [-e A + e^3 A^2/4, I - e^2 A/2]]
    e, eye = 0.1, np.eye(2)
    step = np.block([[eye - e ** 2 * HM_A / 2, e * eye],
                     [-e * HM_A + e ** 3 * HM_A @ HM_A / 4, eye - e ** 2 * HM_A / 2]])
    want = np.linalg.matrix_power(step, 25) @ np.concatenate([q0, p0])
    np.testing.assert_allclose(np.concatenate(_on_np(backend, (q, p))), want, rtol=1e-12)
    h0 = 0.5 * q0 @ HM_A @ q0 + 0.5 * p0 @ p0
    qn, pn = want[:2], want[2:]
    assert abs(0.5 * qn @ HM_A @ qn + 0.5 * pn @ pn - h0) < 1e-2 * h0
    # reversible: flipping the momentum walks back
    qb, pb = leapfrog(q, -p)
    np.testing.assert_allclose(backend.to_numpy(qb), q0, atol=1e-12)
    # the final position's Jacobian in the initial one is the map's block
    jq = backend.to_numpy(ft.jacfwd(lambda q: leapfrog(q, backend.asarray(p0))[0])(
        backend.asarray(q0)))
    np.testing.assert_allclose(jq, np.linalg.matrix_power(step, 25)[:2, :2], rtol=1e-11)


def _on_np(backend, tree):
    return [backend.to_numpy(a) for a in tree]
