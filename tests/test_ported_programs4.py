"""Programs of the kind written with NumPy+SciPy, for JAX and for autograd in scientific
computing, run with the imports swapped to functrans (round 4; see test_ported_programs.py,
test_ported_programs2.py and test_ported_programs3.py), compared with an independent reference
(SciPy's own functions, closed forms, finite differences by ``check_grads``) and, where it is
installed, with the original library: values and derivatives to ~1e-10 in float64.

The first part holds the regressions found while porting them (``jax.nn``'s ``log1mexp``,
``logmeanexp``, ``logsumexp(where=)``, ``identity``, ``tanh``; ``scipy.linalg``'s
``lu_factor``, ``lu_solve`` and ``lu``); the second, short end-to-end programs: econometrics,
survival analysis, item response, splines, spectra, image filters, finite differences, Monte
Carlo, optimal control, N-body physics, robot kinematics, soft rendering, graph Laplacians and
Gaussian-process classification.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.ndimage as nd
import scipy.optimize as so
import scipy.signal as ss
import scipy.stats as st

import functrans as ft
import functrans.lax as flax
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.random as frandom
import functrans.scipy.linalg as fsl
import functrans.scipy.optimize as fopt
import functrans.scipy.signal as fsig
import functrans.scipy.special as fsp
import functrans.scipy.stats as fstats
from functrans.testing import check_grads


from ._ported import _jax, close  # noqa: E402


# -- regressions: jax.nn's names (functrans/nn.py) -----------------------------------------------


def test_log1mexp_as_jax():
    x = np.array([1e-10, 0.3, np.log(2.0), 1.0, 5.0, 40.0, 800.0])
    # log(1 - exp(-x)) to full precision at both ends
    ref = np.array([np.log(-np.expm1(-v)) if v < np.log(2) else np.log1p(-np.exp(-v))
                    for v in x])
    close(fnn.log1mexp(x), ref, 1e-14)
    assert np.isneginf(fnn.log1mexp(0.0)) and np.isnan(fnn.log1mexp(-1.0))
    g = ft.vmap(ft.grad(fnn.log1mexp))(x)
    close(g, 1 / np.expm1(x), 1e-12)
    assert np.isposinf(ft.grad(fnn.log1mexp)(0.0))    # not nan (the branch not taken)
    check_grads(fnn.log1mexp, (np.array([0.2, 0.69, 0.7, 3.0]),), order=2)


def test_logmeanexp_and_logsumexp_where_as_jax():
    rs = np.random.RandomState(0)
    a = rs.randn(3, 4) * 3
    w = a > 0
    for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}):
        close(fnn.logmeanexp(a, **kw), np.log(np.mean(np.exp(a), **kw)))
    m = np.where(w, np.exp(a), 0.0)
    close(fnn.logmeanexp(a, axis=1, where=w), np.log(m.sum(1) / w.sum(1)))
    close(fnn.logsumexp(a, axis=0, where=w, keepdims=True), np.log(m.sum(0, keepdims=True)))
    an = np.where(w, a, np.nan)  # the entries left out are never read
    close(fnn.logsumexp(an, where=w), np.log(m.sum()))
    g = ft.grad(lambda a: fnn.logsumexp(a, where=w))(an)
    close(g, m / m.sum())
    check_grads(lambda a: fnn.logmeanexp(a, axis=1, where=w), (a,), order=2)
    close(fnn.identity([1.0, 2.0]), np.array([1.0, 2.0]))
    close(fnn.tanh(0.5), np.tanh(0.5))
    jax = _jax()
    for kw in ({"axis": 1}, {"axis": 1, "where": w}, {"where": w, "keepdims": True}):
        close(fnn.logmeanexp(a, **kw), jax.nn.logmeanexp(a, **kw), 1e-13)
    close(ft.grad(lambda a: fnn.logmeanexp(a, axis=0, where=w).sum())(a),
          jax.grad(lambda a: jax.nn.logmeanexp(a, axis=0, where=w).sum())(a), 1e-13)
    close(fnn.log1mexp(np.array([0.1, 2.0])), jax.nn.log1mexp(np.array([0.1, 2.0])), 1e-14)


# -- regressions: scipy.linalg's LU (functrans/scipy/linalg.py) ----------------------------------


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 3, 4, 4), (1, 1)])
def test_lu_factor_and_lu_as_scipy(shape):
    a = np.random.RandomState(1).randn(*shape)
    lu, piv = fsl.lu_factor(a)
    ref = sl.lu_factor(a)
    close(lu, ref[0], 1e-13)
    assert piv.dtype == np.int32 and (piv == ref[1]).all()
    for kw in ({}, {"permute_l": True}):
        close(fsl.lu(a, **kw), sl.lu(a, **kw), 1e-13)
    p, low, up = fsl.lu(a, p_indices=True)
    close(np.take_along_axis(low, p[..., None].astype(int), axis=-2) @ up, a, 1e-13)
    assert (p == sl.lu(a, p_indices=True)[0]).all()


def test_lu_solve_as_scipy():
    rs = np.random.RandomState(2)
    a, b, bm = rs.randn(5, 5), rs.randn(5), rs.randn(5, 3)
    f, r = fsl.lu_factor(a), sl.lu_factor(a)
    close(fsl.lu_solve(f, b, trans="T"), sl.lu_solve(r, b, trans=1), 1e-12)
    for t in (0, 1, 2):
        close(fsl.lu_solve(f, b, trans=t), sl.lu_solve(r, b, trans=t), 1e-12)
        close(fsl.lu_solve(f, bm, trans=t), sl.lu_solve(r, bm, trans=t), 1e-12)
    c = rs.randn(4, 4) + 1j * rs.randn(4, 4)   # complex: LAPACK's |re| + |im| pivots
    cb = rs.randn(4) + 1j * rs.randn(4)
    assert (fsl.lu_factor(c)[1] == sl.lu_factor(c)[1]).all()
    for t in (0, 1, 2):
        close(fsl.lu_solve(fsl.lu_factor(c), cb, trans=t),
              sl.lu_solve(sl.lu_factor(c), cb, trans=t), 1e-12)
    s = np.array([[1.0, 2.0], [2.0, 4.0]])   # singular: a zero pivot, as LAPACK
    with pytest.warns(sl.LinAlgWarning):
        ref = sl.lu_factor(s)
    close(fsl.lu_factor(s), ref)
    assert fsl.lu_factor(np.eye(2, dtype=np.float32))[0].dtype == np.float32
    with pytest.raises(TypeError, match="pair"):
        fsl.lu_solve(a, b)


def test_lu_derivatives_and_transforms():
    rs = np.random.RandomState(3)
    a, b = rs.randn(4, 4), rs.randn(4, 2)
    check_grads(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=1), (a, b), order=2)
    check_grads(lambda a: fsl.lu(a)[1:], (rs.randn(4, 3),), order=2)
    A3, B3 = rs.randn(3, 4, 4), rs.randn(3, 4)
    solve = lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b)
    close(ft.vmap(solve)(A3, B3), np.linalg.solve(A3, B3[..., None])[..., 0])
    close(ft.jit(solve)(a, b), np.linalg.solve(a, b))
    assert (ft.vmap(lambda a: fsl.lu_factor(a)[1])(A3)
            == np.stack([sl.lu_factor(x)[1] for x in A3])).all()


# -- end-to-end programs --------------------------------------------------------------------------


def _probit(np, norm, X, y):
    """Probit MLE with Hessian and sandwich (robust) standard errors, as in econometrics."""
    def nll_i(b, xi, yi):
        xb = xi @ b
        return -(yi * norm.logcdf(xb) + (1 - yi) * norm.logcdf(-xb))

    def nll(b):
        xb = X @ b
        return -np.sum(y * norm.logcdf(xb) + (1 - y) * norm.logcdf(-xb))
    return nll, nll_i


def test_probit_mle_with_hessian_standard_errors_as_statsmodels():
    rs = np.random.RandomState(0)
    n = 200
    X = np.column_stack([np.ones(n), rs.randn(n), rs.rand(n)])
    y = (X @ [0.3, -0.8, 1.2] + rs.randn(n) > 0).astype(float)
    nll, nll_i = _probit(fnp, fstats.norm, X, y)
    res = fopt.minimize(nll, np.zeros(3), method="BFGS")
    ref = so.minimize(lambda b: -np.sum(y * st.norm.logcdf(X @ b)
                                        + (1 - y) * st.norm.logcdf(-X @ b)),
                      np.zeros(3), method="BFGS", options={"gtol": 1e-9})
    close(res.x, ref.x, 1e-5)
    b = ref.x
    H = ft.hessian(nll)(b)
    # the probit information matrix in closed form: sum phi^2 / (Phi (1 - Phi)) x x^T at the
    # MLE is the expected one; the observed one is checked by finite differences instead
    check_grads(nll, (b,), order=2)
    S = ft.vmap(ft.grad(nll_i), in_axes=(None, 0, 0))(b, X, y)
    close(S.sum(0), ft.grad(nll)(b))
    Hinv = np.linalg.inv(H)
    se, robust = np.sqrt(np.diag(Hinv)), np.sqrt(np.diag(Hinv @ S.T @ S @ Hinv))
    assert np.all(np.abs(robust / se - 1) < 0.1)
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.stats as jst
    jnll, _ = _probit(jnp, jst.norm, X, y)
    close(H, jax.hessian(jnll)(b))


def _survival(np, X, t, d, cumlogsumexp):
    """Weibull regression with right censoring and Cox's partial likelihood (Breslow)."""
    order = np.argsort(-t)

    def weibull_nll(p):
        k, lam = np.exp(p[0]), np.exp(X @ p[1:])
        z = t / lam
        return -np.sum(d * (np.log(k) - np.log(lam) + (k - 1) * np.log(z)) - z ** k)

    def cox_nll(beta):
        eta = (X @ beta)[order]
        return -np.sum(d[order] * (eta - cumlogsumexp(eta)))   # risk sets, descending times
    return weibull_nll, cox_nll


def test_weibull_and_cox_survival_likelihoods():
    rs = np.random.RandomState(1)
    n = 40
    X = rs.randn(n, 2)
    T = rs.weibull(1.5, n) * np.exp(X @ [0.5, -0.3])
    C = rs.exponential(2.0, n)
    t, d = np.minimum(T, C), (T <= C).astype(float)
    w, cox = _survival(fnp, X, t, d, fnp.logaddexp.accumulate)
    _, cox2 = _survival(fnp, X, t, d, flax.cumlogsumexp)
    p = np.array([0.2, 0.1, 0.1])
    # SciPy's Weibull: log f for events, log S for censored
    k, lam = np.exp(p[0]), np.exp(X @ p[1:])
    ref = -np.sum(np.where(d == 1, st.weibull_min.logpdf(t, k, scale=lam),
                           st.weibull_min.logsf(t, k, scale=lam)))
    close(w(p), ref)
    eta = X @ p[1:]
    ref = -sum(d[i] * (eta[i] - np.log(np.sum(np.exp(eta[t >= t[i]])))) for i in range(n))
    close(cox(p[1:]), ref)
    close(cox2(p[1:]), ref)
    check_grads(w, (p,), order=2)
    check_grads(cox, (p[1:],), order=2)
    close(ft.hessian(cox)(p[1:]), ft.hessian(cox2)(p[1:]))


def _irt(np, sp, nn, Y, nodes, logw, n_items):
    """The 2PL item response model: marginal likelihood by Gauss-Hermite quadrature and
    expected a-posteriori ability scores."""
    def marginal_nll(params):
        a, b = np.exp(params[:n_items]), params[n_items:]
        logits = a[None, :] * (nodes[:, None] - b[None, :])                 # (Q, I)
        ll = Y @ nn.log_sigmoid(logits).T + (1 - Y) @ nn.log_sigmoid(-logits).T    # (P, Q)
        return -np.sum(sp.logsumexp(ll + logw, axis=1)) + 0.5 * np.sum(params ** 2)

    def eap(params, y):
        a, b = np.exp(params[:n_items]), params[n_items:]
        logits = a * (nodes[:, None] - b)
        ll = np.sum(y * nn.log_sigmoid(logits) + (1 - y) * nn.log_sigmoid(-logits), axis=1)
        return np.dot(sp.softmax(ll + logw), nodes)
    return marginal_nll, eap


def test_item_response_2pl_by_quadrature():
    rs = np.random.RandomState(2)
    P, I = 120, 5
    theta, a, b = rs.randn(P), np.exp(0.3 * rs.randn(I)), rs.randn(I)
    Y = (rs.rand(P, I) < 1 / (1 + np.exp(-(a * (theta[:, None] - b))))).astype(float)
    nodes, weights = np.polynomial.hermite_e.hermegauss(21)
    logw = np.log(weights / np.sqrt(2 * np.pi))
    f, eap = _irt(fnp, fsp, fnn, Y, nodes, logw, I)
    vg = ft.value_and_grad(f)
    r = so.minimize(lambda q: tuple(np.asarray(v) for v in vg(q)), np.zeros(2 * I), jac=True,
                    method="L-BFGS-B", options={"gtol": 1e-10})
    p = r.x
    # the quadrature marginal against SciPy's integral for one person
    lik = lambda th, y: np.prod(np.where(y, 1, 0) * st.logistic.cdf(np.exp(p[:I]) * (th - p[I:]))
                               + np.where(y, 0, 1) * st.logistic.sf(np.exp(p[:I]) * (th - p[I:])))
    from scipy.integrate import quad
    num = quad(lambda th: th * lik(th, Y[0]) * st.norm.pdf(th), -10, 10)[0]
    den = quad(lambda th: lik(th, Y[0]) * st.norm.pdf(th), -10, 10)[0]
    close(eap(p, Y[0]), float(num / den), 2e-5)   # 21 nodes
    check_grads(f, (p + 0.1,), order=2, modes=("rev",))
    scores = ft.vmap(eap, in_axes=(None, 0))(p, Y)
    close(scores[:5], np.array([eap(p, y) for y in Y[:5]]))
    J = ft.jacrev(lambda q: ft.vmap(eap, in_axes=(None, 0))(q, Y[:6]))(p)
    close(J, ft.jacfwd(lambda q: ft.vmap(eap, in_axes=(None, 0))(q, Y[:6]))(p))
    se = np.sqrt(np.diag(np.linalg.inv(ft.hessian(f)(p))))
    assert np.all((se > 0.05) & (se < 1))


def _natural_spline(np, xk):
    """A natural cubic spline, textbook style: the tridiagonal system for the second
    derivatives, then the piecewise cubic at the query points (``searchsorted``)."""
    xk = np.asarray(xk)
    n = len(xk)

    def spline(yk, xq):
        h = np.diff(xk)
        idx = np.arange(1, n - 1)
        A = np.zeros((n, n)).at[0, 0].set(1.0).at[-1, -1].set(1.0)
        A = A.at[idx, idx - 1].set(h[:-1]).at[idx, idx].set(2 * (h[:-1] + h[1:]))
        A = A.at[idx, idx + 1].set(h[1:])
        rhs = np.zeros(n).at[1:-1].set(6 * (np.diff(yk[1:]) / h[1:] - np.diff(yk[:-1]) / h[:-1]))
        M = np.linalg.solve(A, rhs)
        i = np.clip(np.searchsorted(xk, xq, side="right") - 1, 0, n - 2)
        # (np.take: xk, h, M and yk may be plain arrays, i a tracer; see the report)
        x0, x1, hi = np.take(xk, i), np.take(xk, i + 1), np.take(h, i)
        M0, M1, y0, y1 = np.take(M, i), np.take(M, i + 1), np.take(yk, i), np.take(yk, i + 1)
        t0, t1 = x1 - xq, xq - x0
        return ((M0 * t0 ** 3 + M1 * t1 ** 3) / (6 * hi) + (y0 / hi - M0 * hi / 6) * t0
                + (y1 / hi - M1 * hi / 6) * t1)
    return spline


def test_natural_cubic_spline_as_scipy_interpolate():
    from scipy.interpolate import CubicSpline
    xk = np.array([0.0, 0.7, 1.5, 2.1, 3.0, 4.2, 5.0])
    yk, xq = np.sin(xk), np.linspace(0.1, 4.9, 9) + 0.013
    f = _natural_spline(fnp, xk)
    cs = CubicSpline(xk, yk, bc_type="natural")
    close(f(yk, xq), cs(xq), 1e-13)
    close(ft.vmap(ft.grad(f, argnums=1), in_axes=(None, 0))(yk, xq), cs(xq, 1), 1e-12)
    close(ft.vmap(ft.hessian(f, argnums=1), in_axes=(None, 0))(yk, xq), cs(xq, 2), 1e-11)
    basis = np.stack([CubicSpline(xk, e, bc_type="natural")(xq) for e in np.eye(len(xk))], 1)
    close(ft.jacfwd(f)(yk, xq), basis, 1e-12)        # linear in the knot values
    close(ft.jacrev(f)(yk, xq), basis, 1e-12)
    close(ft.jit(f)(yk, xq), cs(xq), 1e-13)
    fi = lambda yk, xq: fnp.sum(fnp.interp(xq, xk, yk) ** 2)
    check_grads(fi, (yk, xq), order=1)


def _spectral(np, x, fs, t):
    """A Hann-windowed periodogram by rfft; a sinusoid fitted in the frequency domain;
    Wiener deconvolution by fft."""
    n = len(x)

    def periodogram(x):
        w = np.hanning(n + 1)[:-1]                  # SciPy's periodic Hann window
        X = np.fft.rfft((x - np.mean(x)) * w)
        P = np.abs(X) ** 2 / (fs * np.sum(w ** 2))
        return np.fft.rfftfreq(n, 1 / fs), np.concatenate([P[:1], 2 * P[1:-1], P[-1:]])

    def residuals(p):                                # Parseval: the unitary fft
        R = np.fft.fft(p[0] * np.sin(2 * np.pi * p[1] * t + p[2]) - x, norm="ortho")
        return np.concatenate([np.real(R), np.imag(R)])

    def deconv(y, lam):
        h = np.exp(-np.arange(n) / 3.0)
        H = np.fft.fft(h / np.sum(h))
        return np.real(np.fft.ifft(np.fft.fft(y) * np.conj(H) / (np.abs(H) ** 2 + lam)))
    return periodogram, residuals, deconv


def test_periodogram_sinusoid_fit_and_wiener_deconvolution_as_scipy_signal():
    fs, n = 100.0, 256
    t = np.arange(n) / fs
    rs = np.random.RandomState(3)
    x = 1.3 * np.sin(2 * np.pi * 7.3 * t + 0.4) + 0.2 * rs.randn(n)
    per, res, dec = _spectral(fnp, x, fs, t)
    fr, P = per(x)
    close((fr, P), ss.periodogram(x, fs, window="hann"), 1e-12)
    check_grads(lambda x: per(x)[1][10:40], (x,), order=1, modes=("rev",))
    assert abs(fr[np.argmax(P)] - 7.3) < fs / n         # the peak, within a bin
    p = np.array([1.0, 7.3, 0.3])
    for _ in range(8):                                # Gauss-Newton
        J = ft.jacfwd(res)(p)
        p = p - np.linalg.lstsq(J, res(p), rcond=None)[0]
    def jac(p):   # the time-domain residual's Jacobian, by hand
        ph = 2 * np.pi * p[1] * t + p[2]
        return np.column_stack([np.sin(ph), p[0] * np.cos(ph) * 2 * np.pi * t,
                                p[0] * np.cos(ph)])
    ref = so.least_squares(lambda p: p[0] * np.sin(2 * np.pi * p[1] * t + p[2]) - x, p,
                           jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    close(p, ref, 1e-7)
    check_grads(lambda lam: dec(x, lam), (0.1,), order=2)


def _filters(np, signal):
    """A separable Gaussian blur, Sobel edge magnitude and total-variation denoising."""
    def blur(img, sigma):
        r = np.arange(-4, 5)
        k = np.exp(-0.5 * (r / sigma) ** 2)
        k = k / np.sum(k)
        img = signal.convolve2d(img, k[None, :], mode="same", boundary="symm")
        return signal.convolve2d(img, k[:, None], mode="same", boundary="symm")

    sob = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])

    def edges(img):
        gx = signal.convolve2d(img, sob, mode="same", boundary="symm")
        gy = signal.convolve2d(img, sob.T, mode="same", boundary="symm")
        return np.sqrt(gx ** 2 + gy ** 2 + 1e-12)

    def tv_energy(u, f, lam):
        dx = np.diff(u, axis=1, append=u[:, -1:])
        dy = np.diff(u, axis=0, append=u[-1:, :])
        return 0.5 * np.sum((u - f) ** 2) + lam * np.sum(np.sqrt(dx ** 2 + dy ** 2 + 1e-3))
    return blur, edges, tv_energy


def test_image_blur_sobel_and_tv_denoising_as_scipy_ndimage():
    rs = np.random.RandomState(4)
    yy, xx = np.mgrid[:20, :20]
    clean = ((xx - 10) ** 2 + (yy - 9) ** 2 < 30).astype(float)
    noisy = clean + 0.3 * rs.randn(20, 20)
    blur, edges, tv = _filters(fnp, fsig)
    close(blur(noisy, 1.5), nd.gaussian_filter(noisy, 1.5, mode="reflect", truncate=4 / 1.5),
          1e-13)
    close(edges(noisy), np.hypot(nd.sobel(noisy, 1, mode="reflect"),
                                 nd.sobel(noisy, 0, mode="reflect")), 1e-9)
    check_grads(lambda s: fnp.sum(edges(blur(noisy, s))), (1.5,), order=2)
    g = ft.jit(ft.grad(tv))
    u = noisy
    for _ in range(40):
        u = u - 0.1 * g(u, noisy, 0.2)
    assert np.abs(u - clean).mean() < 0.5 * np.abs(noisy - clean).mean()
    check_grads(tv, (u, noisy, 0.2), order=1, modes=("rev",))


def _heat(np, lax, sla, u0, dx):
    """Crank-Nicolson for the 1-D heat equation (LU factorised once, as SciPy users write it)
    and the misfit of a probe for estimating the diffusivity; 2-D Poisson by Jacobi sweeps."""
    nx = len(u0)
    lap = (np.diag(-2 * np.ones(nx)) + np.diag(np.ones(nx - 1), 1)
           + np.diag(np.ones(nx - 1), -1)) / dx ** 2

    def heat(kappa, dt=1e-3, steps=40):
        A = np.eye(nx) - 0.5 * dt * kappa * lap
        B = np.eye(nx) + 0.5 * dt * kappa * lap
        factors = sla.lu_factor(A)

        def step(u, _):
            u = sla.lu_solve(factors, B @ u)
            return u, u[nx // 2]
        return lax.scan(step, u0, None, length=steps)

    def poisson(f, iters=150):
        u = np.zeros_like(f)
        h2 = (1.0 / (f.shape[0] + 1)) ** 2
        for _ in range(iters):
            up = np.pad(u, 1)
            u = 0.25 * (up[:-2, 1:-1] + up[2:, 1:-1] + up[1:-1, :-2] + up[1:-1, 2:] + h2 * f)
        return u
    return heat, poisson


def test_crank_nicolson_inverse_problem_and_jacobi_poisson():
    nx = 30
    dx = 1.0 / (nx + 1)
    xg = np.linspace(dx, 1 - dx, nx)
    u0 = np.exp(-50 * (xg - 0.4) ** 2)
    heat, poisson = _heat(fnp, flax, fsl, u0, dx)
    lap = (np.diag(-2 * np.ones(nx)) + np.diag(np.ones(nx - 1), 1)
           + np.diag(np.ones(nx - 1), -1)) / dx ** 2
    u = u0
    for _ in range(40):
        u = sl.solve(np.eye(nx) - 0.35e-3 * lap, (np.eye(nx) + 0.35e-3 * lap) @ u)
    close(heat(0.7)[0], u, 1e-12)
    obs = heat(0.7)[1]
    misfit = lambda k: fnp.sum((heat(k)[1] - obs) ** 2)
    check_grads(misfit, (0.5,), order=2)
    k = 0.3
    for _ in range(6):                                # Newton on the diffusivity
        k = k - ft.grad(misfit)(k) / ft.hessian(misfit)(k)
    close(k, 0.7, 1e-9)
    # the converged Jacobi iteration is linear: its Jacobian is the discrete Green's function
    f = np.ones((6, 6))
    J = ft.jacrev(lambda f: poisson(f)[2, 3])(f)
    close(J, ft.jacfwd(lambda f: poisson(f)[2, 3])(f), 1e-12)
    close(np.sum(J * f), poisson(f)[2, 3], 1e-12)


def _estimators(np, random, norm, stop_gradient):
    """Monte Carlo gradient estimators: the reparameterisation gradient, the score function
    (REINFORCE) with a baseline, and an importance-sampled tail probability."""
    f = lambda z: np.sin(z) + 0.5 * z ** 2

    def reparam(params, key, n=4000):
        mu, log_s = params
        return np.mean(f(mu + np.exp(log_s) * random.normal(key, (n,))))

    def score_surrogate(params, key, n=4000):
        mu, log_s = params
        z = stop_gradient(mu + np.exp(log_s) * random.normal(key, (n,)))
        fz = f(z)
        return np.mean((fz - np.mean(fz)) * norm.logpdf(z, mu, np.exp(log_s)))

    def tail_prob(shift, key, n=20000):
        z = random.normal(key, (n,)) + shift
        return np.mean((z > 3.0) * np.exp(norm.logpdf(z) - norm.logpdf(z, shift, 1.0)))
    return reparam, score_surrogate, tail_prob


def test_monte_carlo_gradient_estimators_with_keys_as_jax():
    rep, score, tail = _estimators(fnp, frandom, fstats.norm, fnp.stop_gradient)
    mu, s = 0.3, 0.8
    # E[sin z + z^2/2], z ~ N(mu, s^2): exp(-s^2/2) sin(mu) + (mu^2 + s^2) / 2
    exact = np.array([np.cos(mu) * np.exp(-s ** 2 / 2) + mu,
                      -np.sin(mu) * np.exp(-s ** 2 / 2) * s ** 2 + s ** 2])
    keys = frandom.split(frandom.PRNGKey(0), 8)
    g1 = ft.vmap(lambda k: fnp.stack(ft.grad(rep)((mu, np.log(s)), k)))(keys)
    g2 = fnp.stack([fnp.stack(ft.grad(score)((mu, np.log(s)), k)) for k in keys])
    close(g1.mean(0), exact, 0.02)
    close(g2.mean(0), exact, 0.05)
    p = ft.jit(tail)(3.0, frandom.PRNGKey(1))
    close(p, st.norm.sf(3.0), 1e-4)
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.stats as jst
    jrep, _, _ = _estimators(jnp, jax.random, jst.norm, jax.lax.stop_gradient)
    close(ft.grad(rep)((mu, np.log(s)), keys[3]),
          jax.grad(jrep)((mu, np.log(s)), jax.random.split(jax.random.PRNGKey(0), 8)[3]))


def _lqr(np, lax, A, B, Q, R):
    """Finite-horizon LQR by single shooting: a scan rollout, the quadratic cost."""
    def rollout(us, x0):
        def step(x, u):
            xn = A @ x + B @ u
            return xn, xn
        return lax.scan(step, x0, us)[1]

    def cost(us, x0):
        xs = rollout(us, x0)
        return 0.5 * np.sum((xs @ Q) * xs) + 0.5 * np.sum((us @ R) * us)
    return rollout, cost


def test_lqr_by_shooting_against_the_riccati_recursion():
    dt, T = 0.1, 30
    A = np.array([[1.0, dt], [0.0, 1.0]])
    B = np.array([[0.5 * dt ** 2], [dt]])
    Q, R, x0 = np.diag([1.0, 0.1]), np.array([[0.01]]), np.array([1.0, 0.0])
    P, gains = Q.copy(), []
    for _ in range(T):
        K = np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)
        P = Q + A.T @ P @ (A - B @ K)
        gains.append(K)
    x, u_ref = x0, []
    for K in gains[::-1]:
        u_ref.append(-K @ x)
        x = A @ x + B @ u_ref[-1]
    rollout, cost = _lqr(fnp, flax, A, B, Q, R)
    us = np.zeros((T, 1))
    H = ft.hessian(cost)(us, x0).reshape(T, T)
    us = us - np.linalg.solve(H, ft.grad(cost)(us, x0).reshape(T)).reshape(T, 1)  # one Newton
    close(us, np.array(u_ref), 1e-12)
    close(ft.grad(cost, argnums=1)(us, x0), (P - Q) @ x0, 1e-12)   # the value's gradient
    close(ft.jit(ft.grad(cost))(us, x0), np.zeros((T, 1)), 1e-12)
    close(ft.jacfwd(rollout, argnums=1)(us, x0)[-1],
          np.linalg.matrix_power(A, T), 1e-12)


def _nbody(np, lib, lax, m):
    """Gravitational N-body: forces as minus the gradient of the potential, velocity Verlet
    in a fori_loop."""
    n = len(m)
    iu = np.triu_indices(n, 1)

    def potential(q):
        d = q[:, None, :] - q[None, :, :]
        r = np.sqrt(np.sum(d ** 2, -1) + np.eye(n))   # eye: a differentiable diagonal
        return -np.sum((m[:, None] * m[None, :] / r)[iu])

    force = lib.grad(lambda q: -potential(q))

    def simulate(q, v, dt=1e-3, steps=200):
        def body(i, s):
            q, v, a = s
            q = q + dt * v + 0.5 * dt ** 2 * a
            an = force(q) / m[:, None]
            return q, v + 0.5 * dt * (a + an), an
        return lax.fori_loop(0, steps, body, (q, v, force(q) / m[:, None]))[:2]

    def energy(q, v):
        return 0.5 * np.sum(m[:, None] * v ** 2) + potential(q)
    return force, simulate, energy


def test_nbody_velocity_verlet_conserves_energy_and_momentum():
    rs = np.random.RandomState(5)
    n = 5
    m = rs.uniform(0.5, 1.5, n)
    q0, v0 = rs.randn(n, 3), 0.3 * rs.randn(n, 3)
    force, sim, energy = _nbody(fnp, ft, flax, m)
    d = q0[:, None] - q0[None]
    r = np.linalg.norm(d, axis=-1) + np.eye(n)
    close(force(q0), -np.sum((m[:, None] * m[None] / r ** 3)[..., None] * d, 1), 1e-13)
    q, v = ft.jit(sim)(q0, v0)
    assert abs(energy(q, v) - energy(q0, v0)) < 1e-7
    close(np.sum(m[:, None] * v, 0), np.sum(m[:, None] * v0, 0), 1e-12)
    J = ft.jacfwd(lambda v: sim(q0, v, steps=20)[0][0])(v0)
    close(J, ft.jacrev(lambda v: sim(q0, v, steps=20)[0][0])(v0), 1e-12)
    close(J[:, 0], 0.02 * np.eye(3), 1e-4)   # ~ t I for a short time


def _arm(np, axes, links):
    """Quaternion forward kinematics of a serial arm; Rodrigues' rotation formula."""
    def qmul(a, b):
        w1, v1, w2, v2 = a[0], a[1:], b[0], b[1:]
        return np.concatenate([(w1 * w2 - np.dot(v1, v2))[None],
                               w1 * v2 + w2 * v1 + np.cross(v1, v2)])

    def rotate(q, v):
        qv = np.concatenate([np.zeros(1), v])
        return qmul(qmul(q, qv), q * np.array([1.0, -1.0, -1.0, -1.0]))[1:]

    def fk(theta):
        q, p = np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3)
        for i in range(len(links)):
            q = qmul(q, np.concatenate([np.cos(theta[i] / 2)[None],
                                        np.sin(theta[i] / 2) * axes[i]]))
            p = p + rotate(q, links[i])
        return p, q

    def rodrigues(w):
        th = np.sqrt(np.sum(w ** 2))
        k = w / th
        K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        return np.eye(3) + np.sin(th) * K + (1 - np.cos(th)) * K @ K
    return fk, rodrigues


def test_arm_kinematics_jacobian_and_ik_as_scipy_rotation():
    from scipy.spatial.transform import Rotation
    axes = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    links = np.array([[0.0, 0.0, 0.3], [0.4, 0.0, 0.0], [0.35, 0.0, 0.0]])
    fk, rod = _arm(fnp, axes, links)
    th = np.array([0.3, -0.4, 0.9])
    p, q = fk(th)
    rots = [Rotation.from_rotvec(a * t) for a, t in zip(axes, th)]
    R1, R12, R123 = rots[0], rots[0] * rots[1], rots[0] * rots[1] * rots[2]
    close(p, R1.apply(links[0]) + R12.apply(links[1]) + R123.apply(links[2]), 1e-14)
    close(Rotation.from_quat(np.r_[q[1:], q[0]]).as_matrix(), R123.as_matrix(), 1e-14)
    # the geometric Jacobian: column i is z_i x (p - o_i)
    origins = [np.zeros(3), R1.apply(links[0]), R1.apply(links[0]) + R12.apply(links[1])]
    zs = [R1.apply(axes[0]), R12.apply(axes[1]), R123.apply(axes[2])]
    Jg = np.stack([np.cross(z, p - o) for z, o in zip(zs, origins)], 1)
    close(ft.jacfwd(lambda t: fk(t)[0])(th), Jg, 1e-13)
    close(ft.jacrev(lambda t: fk(t)[0])(th), Jg, 1e-13)
    target, t = np.array([0.3, 0.35, 0.2]), th
    for _ in range(20):                               # damped least squares IK
        J = ft.jacfwd(lambda t: fk(t)[0])(t)
        t = t + J.T @ np.linalg.solve(J @ J.T + 1e-6 * np.eye(3), target - fk(t)[0])
    close(fk(t)[0], target, 1e-12)
    w = np.array([0.2, -0.5, 0.4])
    close(rod(w), Rotation.from_rotvec(w).as_matrix(), 1e-14)
    check_grads(rod, (w,), order=2)


def _render(np, nn, xs, ys, colors):
    """A soft rasteriser of discs: sigmoid edges, front-to-back alpha compositing."""
    def render(params, sharp=2.0):
        img, transmit = np.zeros(xs.shape + (3,)), np.ones(xs.shape)
        for (cx, cy, r), c in zip(params, colors):
            a = nn.sigmoid(sharp * (r - np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)))
            img = img + (transmit * a)[..., None] * c
            transmit = transmit * (1 - a)
        return img
    return render


def test_soft_rasteriser_fitted_to_a_target_image():
    ys, xs = np.mgrid[:16, :16] + 0.5
    colors = np.array([[1.0, 0.2, 0.1], [0.1, 0.3, 1.0]])
    truth = np.array([[6.0, 7.0, 3.5], [10.0, 9.0, 4.0]])
    render = _render(fnp, fnn, xs, ys, colors)
    target = render(truth)
    loss = lambda p: fnp.mean((render(p) - target) ** 2)
    check_grads(loss, (truth + 0.3,), order=2, modes=("rev",))
    vg = ft.jit(ft.value_and_grad(loss))
    p = truth + np.array([[0.7, -0.7, 0.4], [-0.6, 0.6, -0.3]])
    for _ in range(150):
        p = p - 20.0 * vg(p)[1]
    close(p, truth, 1e-3)


def _graph(np, sla, n):
    """A weighted graph's Laplacian: heat-kernel smoothing, the Fiedler value, the
    normalised Laplacian's Dirichlet energy."""
    def lap(w):
        W = w + w.T
        return np.diag(np.sum(W, 1)) - W

    def smooth(w, f, t):
        return sla.expm(-t * lap(w)) @ f

    def fiedler(w):
        vals, vecs = np.linalg.eigh(lap(w))
        return vals[1], vecs[:, 1]

    def energy(w, f):
        W = w + w.T
        dm = 1 / np.sqrt(np.sum(W, 1))
        return f @ (np.eye(n) - dm[:, None] * W * dm[None, :]) @ f
    return lap, smooth, fiedler, energy


def test_graph_laplacian_heat_kernel_and_fiedler_value():
    from scipy.sparse.csgraph import laplacian
    rs = np.random.RandomState(6)
    n = 8
    w = np.triu((rs.rand(n, n) < 0.4) * rs.rand(n, n) + 0.05, 1)
    f = rs.randn(n)
    lap, smooth, fiedler, energy = _graph(fnp, fsl, n)
    close(lap(w), laplacian(w + w.T), 1e-14)
    close(smooth(w, f, 0.3), sl.expm(-0.3 * laplacian(w + w.T)) @ f, 1e-12)
    check_grads(lambda w: smooth(w, f, 0.3), (w,), order=1, modes=("rev",))
    lam, v = fiedler(w)
    close(ft.grad(lambda w: fiedler(w)[0])(w), (v[:, None] - v[None]) ** 2, 1e-10)
    Ln = laplacian(w + w.T, normed=True)
    close(energy(w, f), f @ Ln @ f, 1e-13)
    check_grads(energy, (w, f), order=2)


def _gp_laplace(np, sla, nn, lax, X, y, Xs):
    """GP classification with the Laplace approximation (Rasmussen & Williams, Algorithms
    3.1 and 3.2): Newton for the mode, the approximate log marginal likelihood, predictive
    probabilities by the probit approximation."""
    n, t = len(y), (y + 1) / 2

    def kern(A, B, hyp):
        d2 = np.sum((A[:, None, :] - B[None, :, :]) ** 2, -1)
        return np.exp(2 * hyp[1] - 0.5 * d2 / np.exp(2 * hyp[0]))

    def factor(K, f):
        sw = np.sqrt(nn.sigmoid(f) * (1 - nn.sigmoid(f)))
        return sw, sla.cholesky(np.eye(n) + sw[:, None] * K * sw[None, :], lower=True)

    def laplace(hyp):
        K = kern(X, X, hyp)

        def newton(i, f):
            sw, L = factor(K, f)
            b = sw ** 2 * f + (t - nn.sigmoid(f))
            return K @ (b - sw * sla.cho_solve((L, True), sw * (K @ b)))
        f = lax.fori_loop(0, 25, newton, np.zeros(n))
        sw, L = factor(K, f)
        a = t - nn.sigmoid(f)
        logz = -0.5 * a @ f + np.sum(nn.log_sigmoid(y * f)) - np.sum(np.log(np.diag(L)))
        return logz, f, a, sw, L

    def predict(hyp):
        _, f, a, sw, L = laplace(hyp)
        ks = kern(X, Xs, hyp)
        v = sla.solve_triangular(L, sw[:, None] * ks, lower=True)
        var = np.exp(2 * hyp[1]) - np.sum(v ** 2, 0)
        return nn.sigmoid(ks.T @ a / np.sqrt(1 + np.pi * var / 8))
    return laplace, predict


def test_gp_classification_laplace_approximation_as_jax():
    rs = np.random.RandomState(7)
    X = rs.uniform(-3, 3, (20, 1))
    y = np.where(np.sin(2 * X[:, 0]) + 0.3 * rs.randn(20) > 0, 1.0, -1.0)
    Xs = np.linspace(-3, 3, 5)[:, None]
    laplace, predict = _gp_laplace(fnp, fsl, fnn, flax, X, y, Xs)
    hyp = np.array([0.0, 0.5])
    _, f, a, _, _ = laplace(hyp)
    K = np.exp(1.0 - 0.5 * (X - X.T) ** 2)
    close(f, K @ a, 1e-10)                           # the mode's fixed point: f = K (t - pi)
    # the Laplace evidence against its dense closed form at the mode
    pi = 1 / (1 + np.exp(-f))
    Wd = pi * (1 - pi)
    ref = (-0.5 * f @ np.linalg.solve(K, f) + np.sum(-np.logaddexp(0, -y * f))
           - 0.5 * np.linalg.slogdet(np.eye(20) + np.sqrt(Wd)[:, None] * K * np.sqrt(Wd))[1])
    close(laplace(hyp)[0], ref, 1e-9)
    check_grads(lambda h: laplace(h)[0], (hyp,), order=1)
    check_grads(predict, (hyp,), order=1, modes=("rev",))
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    jl, jp = _gp_laplace(jnp, jsl, jax.nn, jax.lax, X, y, Xs)
    close(ft.grad(lambda h: laplace(h)[0])(hyp), jax.grad(lambda h: jl(h)[0])(hyp), 1e-9)
