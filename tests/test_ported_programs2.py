"""Programs of the kind written for autograd, for JAX and in plain NumPy, run with the imports
swapped to functrans (round 2; see test_ported_programs.py for the first round), compared
with the original library computed here (skipped where it is not installed): values and
derivatives to ~1e-10 in float64.

The first part holds the regressions found while porting them (NumPy's positional argument
forms of creation functions and ``linalg``, ``diff``'s scalar ``prepend``, ``meshgrid``'s
``sparse``, ``poly1d`` coefficients, ``einsum_path``, SciPy names, autograd's ``convolve``
with a large image); the second, short end-to-end programs.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.random as frandom
import functrans.scipy.linalg as fsl
import functrans.scipy.signal as fsignal
import functrans.scipy.special as fspecial
import functrans.scipy.stats as fstats


from ._ported import _autograd, _jax, close  # noqa: E402


def _same(ref, out):
    ref, out = np.asarray(ref), np.asarray(out)
    assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
    assert out.shape == ref.shape, (out.shape, ref.shape)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


# -- regressions: NumPy's positional argument forms ----------------------------------------------

X = np.array([[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 2.0]])


@pytest.mark.parametrize("expr", [
    "np.zeros(3, np.float32)", "np.ones((2, 2), 'int32')", "np.full((2,), 1.0, np.float32)",
    "np.eye(3, 3, 1)", "np.eye(3, 4, -1, np.float32)", "np.arange(0, 1, 0.25, np.float32)",
    "np.linspace(0, 1)", "np.linspace(0, 1, 5, False)", "np.asarray(X, np.float32)",
    "np.asarray(X, order='C')", "np.zeros_like(X, np.int32)", "np.ones_like(X, 'float32')",
    "np.full_like(X, 2, np.int64)", "np.zeros((2, 3), order='F')", "np.empty(2, np.float32).shape",
    "np.linspace([0.0, 1.0], 2.0, 3, axis=1)", "np.linspace(0.0, [1.0, 2.0], 4, endpoint=False)",
    "np.diff(X, 2)", "np.diff(X, 1, 0)", "np.diff(X, prepend=0.0)",
    "np.diff(X, axis=0, prepend=0.0, append=1.0)", "np.diff(X[0], prepend=[0.0, 1.0])",
    "np.meshgrid(np.arange(3.0), np.arange(2.0), sparse=True)",
    "np.meshgrid(np.arange(3.0), np.arange(2.0), np.arange(4.0), indexing='ij', sparse=True)",
    "np.meshgrid(np.ones((2, 2)), np.arange(3.0), copy=False)",
    "np.linalg.svd(X, compute_uv=False)", "np.linalg.svd(X, False)[1]",
    "np.linalg.eigh(X.T @ X + np.triu(np.ones((4, 4))), UPLO='U')[0]",
    "np.linalg.eigvalsh(X.T @ X + np.tril(np.ones((4, 4))), 'U')",
    "np.linalg.pinv(X, 1e-10)", "np.linalg.pinv(X, rcond=0.5)",
    "np.linalg.pinv(X, hermitian=False)",
    "np.linalg.matrix_rank(X.T @ X, tol=1e-3)", "np.linalg.matrix_rank(X, 2.5)",
    "np.linalg.qr(X.T, 'complete')[0].shape", "np.linalg.qr(X.T, 'r')",
    "np.polyval(P([1.0, 2.0, 3.0]), X)", "np.polyder(P([1.0, 2.0, 3.0]))",
    "np.polyint(P([1.0, 2.0]))", "np.polymul(P([1.0, 2.0]), [1.0, 3.0])",
    "np.roots(P([1.0, -3.0, 2.0]))",
])
def test_numpy_argument_forms(expr):
    import optree
    ref = eval(expr, {"np": np, "X": X, "P": np.poly1d})
    out = eval(expr, {"np": fnp, "X": X, "P": np.poly1d})
    lr, lo = optree.tree_leaves(ref), optree.tree_leaves(out)
    assert len(lr) == len(lo)
    for r, o in zip(lr, lo):
        _same(r, o)


def test_linspace_retstep_and_diff_prepend_differentiable():
    y, step = fnp.linspace(0.0, 2.0, 5, retstep=True)
    ry, rstep = np.linspace(0.0, 2.0, 5, retstep=True)
    _same(ry, y)
    assert float(step) == rstep

    def f(a):  # the step and the samples carry the derivative of the endpoints
        y, step = fnp.linspace(a[0], a[1], 4, retstep=True)
        return fnp.sum(y ** 2) + step
    a = np.array([0.5, 2.0])
    close(_fd(f, a), ft.grad(f)(a), 1e-6)

    def g(x):
        return fnp.sum(fnp.diff(x, 1, 0, prepend=0.0) ** 2) + fnp.sum(fnp.diff(x, 2) ** 2)
    close(_fd(g, X), ft.grad(g)(X), 1e-6)


def _fd(f, x, h=1e-6):
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


def test_linalg_argument_errors():
    with pytest.raises(ValueError, match="UPLO"):
        fnp.linalg.eigh(np.eye(2), UPLO="X")
    with pytest.raises(ValueError, match="not both"):
        fnp.linalg.pinv(np.eye(2), 1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="order"):
        fnp.zeros(2, order="Q")


def test_eigh_upper_triangle_derivative_as_jax():
    jax = _jax()
    import jax.numpy as jnp
    a = np.array([[2.0, 0.3, -0.1], [9.0, 1.5, 0.2], [9.0, 9.0, 3.0]])  # only the upper read
    close(np.linalg.eigh(a, UPLO="U")[0], fnp.linalg.eigh(a, UPLO="U")[0])
    close(np.abs(np.linalg.eigh(a, UPLO="U")[1]), np.abs(fnp.linalg.eigh(a, UPLO="U")[1]))
    close(np.linalg.eigvalsh(a.T, UPLO="L"), fnp.linalg.eigvalsh(a, UPLO="U"))

    def f(np_):  # JAX symmetrizes its input: the same derivative on a symmetric matrix
        return lambda a: np_.sum(np_.linalg.eigh(a, UPLO="U")[0] * np_.arange(3.0))
    s = np.triu(a) + np.triu(a, 1).T
    close(jax.grad(f(jnp))(s), ft.grad(f(fnp))(s))


def test_einsum_path_as_numpy():
    rs = np.random.RandomState(0)
    A, B, C = rs.randn(3, 4), rs.randn(4, 5), rs.randn(5, 2)
    path, text = fnp.einsum_path("ij,jk,kl->il", A, B, C)
    rpath, rtext = np.einsum_path("ij,jk,kl->il", A, B, C, optimize="greedy")
    assert path == rpath and text == rtext
    assert fnp.einsum_path(A, [0, 1], B, [1, 2], [0, 2])[0] == ["einsum_path", (0, 1)]

    def f(A):  # the path found on tracers' shapes, then given to einsum
        p = fnp.einsum_path("ij,jk,kl->il", A, B, C, optimize="optimal")[0]
        return fnp.sum(fnp.einsum("ij,jk,kl->il", A, B, C, optimize=p) ** 2)
    close(ft.grad(f)(A), 2 * (A @ B @ C) @ (B @ C).T)


def test_convolve_axes_with_a_large_image_takes_the_kernel_as_window():
    # autograd's convolutional network: in1 the images, in2 the (smaller) filters. The
    # window slices follow the smaller operand (16 here, not the image's 28 * 28).
    ag = _autograd()
    import autograd.scipy.signal as asig
    rs = np.random.RandomState(0)
    x, w = rs.randn(2, 3, 28, 28), 0.3 * rs.randn(3, 4, 4, 4)

    def prog(conv):
        return lambda w, x: conv(x, w, axes=([2, 3], [2, 3]), dot_axes=([1], [0]),
                                 mode="valid") ** 2
    ref = prog(asig.convolve)(w, x)
    close(ref, prog(fsignal.convolve)(w, x))
    loss = lambda cv: lambda w, x: cv(w, x).sum()
    close(ag.grad(loss(prog(asig.convolve)))(w, x), ft.grad(loss(prog(fsignal.convolve)))(w, x))
    graph = str(ft.make_graph(prog(fsignal.convolve))(w, x))
    assert graph.count("slice") < 100, graph.count("slice")
    # and the other way round (the kernel first), 'full' and 'same'
    for mode in ("full", "same"):
        close(asig.convolve(w[0, 0], x[0, 0], mode=mode) if mode == "full"
              else asig.convolve(x[0, 0], w[0, 0], mode=mode),
              fsignal.convolve(w[0, 0], x[0, 0], axes=([0, 1], [0, 1]), mode=mode)
              if mode == "full" else
              fsignal.convolve(x[0, 0], w[0, 0], axes=([0, 1], [0, 1]), mode=mode))


def test_scipy_linalg_eigh_svd_qr_toeplitz_as_scipy():
    sl = pytest.importorskip("scipy.linalg")
    rs = np.random.RandomState(1)
    a, b = rs.randn(4, 4), rs.randn(4, 4)
    bp = b @ b.T + 4 * np.eye(4)
    for lower in (True, False):
        w, v = sl.eigh(a, lower=lower)
        wf, vf = fsl.eigh(a, lower=lower)
        close(w, wf)
        close(np.abs(v), np.abs(vf))
        w, v = sl.eigh(a, bp, lower=lower)
        wf, vf = fsl.eigh(a, bp, lower=lower)
        close(w, wf)
        close(np.abs(v), np.abs(vf), 1e-9)
        close(sl.eigh(a, bp, lower=lower, eigvals_only=True), fsl.eigvalsh(a, bp, lower=lower))

        def f(lib, np_):
            return lambda a: np_.sum(lib.eigh(a, bp, lower=lower)[0] * np_.arange(4.0))
        close(_fd(f(sl, np), a), ft.grad(f(fsl, fnp))(a), 1e-6)
    close(sl.toeplitz([1.0, 2, 3], [1.0, 5, 6, 7]), fsl.toeplitz([1.0, 2, 3], [1.0, 5, 6, 7]))
    close(sl.toeplitz(np.array([1.0, 2 + 1j, 3])), fsl.toeplitz(np.array([1.0, 2 + 1j, 3])))
    close(sl.qr(a)[0], fsl.qr(a)[0])
    close(sl.qr(a[:, :2], mode="economic")[1], fsl.qr(a[:, :2], mode="economic")[1])
    assert len(fsl.qr(a, mode="r")) == 1
    close(sl.svd(a, compute_uv=False), fsl.svd(a, compute_uv=False))
    close(sl.svd(a)[1], fsl.svd(a)[1])
    g = ft.grad(lambda c: fnp.sum(fsl.toeplitz(c, 2 * c) ** 2))(np.array([1.0, 2.0, 3.0]))
    close(g, _fd(lambda c: np.sum(sl.toeplitz(c, 2 * c) ** 2), np.array([1.0, 2.0, 3.0])), 1e-6)
    for x, y in zip(fsl.qr(a, pivoting=True), sl.qr(a, pivoting=True)):  # (supported now)
        close(y, x)
    with pytest.raises(NotImplementedError):
        fsl.qr(a, mode="raw")


def test_fftconvolve_as_scipy():
    ss = pytest.importorskip("scipy.signal")
    rs = np.random.RandomState(2)
    x, h, img, k = rs.randn(20), rs.randn(5), rs.randn(6, 7), rs.randn(3, 2)
    for mode in ("full", "valid", "same"):
        close(ss.fftconvolve(x, h, mode=mode), fsignal.fftconvolve(x, h, mode=mode), 1e-9)
        close(ss.oaconvolve(img, k, mode=mode), fsignal.oaconvolve(img, k, mode=mode), 1e-9)
    close(ss.fftconvolve(img, k, axes=(0, 1)), fsignal.fftconvolve(img, k, axes=(0, 1)), 1e-9)
    close(ss.fftconvolve(img, k[:, :1], axes=0), fsignal.fftconvolve(img, k[:, :1], axes=0), 1e-9)
    g = ft.grad(lambda h: fnp.sum(fsignal.fftconvolve(x, h, mode="same") ** 2))(h)
    close(g, _fd(lambda h: np.sum(ss.fftconvolve(x, h, mode="same") ** 2), h), 1e-6)


# -- end-to-end programs --------------------------------------------------------------------------


def test_bayesian_nn_black_box_svi_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    sizes = [1, 6, 1]
    shapes = list(zip(sizes[:-1], sizes[1:]))
    N = sum((m + 1) * n for m, n in shapes)
    x = np.linspace(-2, 2, 8).reshape(-1, 1)
    y = np.cos(x) + 0.1 * np.random.RandomState(0).randn(8, 1)
    noise = np.random.RandomState(1).randn(5, N)

    def prog(np_):
        def predictions(weights, inputs):
            inputs = np_.expand_dims(inputs, 0)
            for m, n in shapes:
                W = weights[:, :m * n].reshape((len(weights), m, n))
                b = weights[:, m * n:m * n + n].reshape((len(weights), 1, n))
                weights = weights[:, (m + 1) * n:]
                outputs = np_.einsum("mnd,mdo->mno", inputs, W) + b
                inputs = np_.tanh(outputs)
            return outputs

        def logprob(w):
            preds = predictions(w, x)
            return -0.1 * np_.sum(w ** 2, axis=1) - np_.sum((preds - y) ** 2, axis=1)[:, 0] / 0.01

        def objective(params):
            mean, log_std = params[:N], params[N:]
            samples = noise * np_.exp(log_std) + mean
            entropy = 0.5 * N * (1.0 + np_.log(2 * np_.pi)) + np_.sum(log_std)
            return -(entropy + np_.mean(logprob(samples)))
        return objective
    p = 0.1 * np.random.RandomState(2).randn(2 * N)
    close(ag.value_and_grad(prog(anp))(p), ft.value_and_grad(prog(fnp))(p), 1e-9)


def test_gp_hyperparameters_by_scipy_minimize_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.stats.multivariate_normal as amvn
    opt = pytest.importorskip("scipy.optimize")
    X = np.concatenate([np.linspace(0, 3, 6), np.linspace(6, 8, 6)]).reshape(-1, 1)
    y = (np.cos(X) + 0.1 * np.random.RandomState(0).randn(12, 1))[:, 0]

    def prog(np_, mvn):
        def nll(params):
            noise = np_.exp(params[1]) + 1e-4
            scale, lengths = np_.exp(params[2]), np_.exp(params[3:])
            d = np_.expand_dims(X / lengths, 1) - np_.expand_dims(X / lengths, 0)
            K = scale * np_.exp(-0.5 * np_.sum(d ** 2, axis=2)) + noise * np_.eye(len(y))
            return -mvn.logpdf(y, params[0] * np_.ones(len(y)), K)
        return nll
    init = 0.1 * np.random.RandomState(1).randn(4)
    ra = opt.minimize(ag.value_and_grad(prog(anp, amvn)), init, jac=True, method="CG",
                      options=dict(maxiter=15))
    rf = opt.minimize(ft.value_and_grad(prog(fnp, fstats.multivariate_normal)), init, jac=True,
                      method="CG", options=dict(maxiter=15))
    close(ra.x, rf.x, 1e-7)
    assert ra.nit == rf.nit


def test_maml_inner_sgd_loop_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def prog(np_, T):
        def loss(p, x, y):
            W1, b1, W2 = p
            return np_.mean((np_.tanh(x @ W1 + b1) @ W2 - y) ** 2)

        def maml(p, x1, y1, x2, y2):
            for _ in range(2):
                p = [w - 0.1 * g for w, g in zip(p, T.grad(loss)(p, x1, y1))]
            return loss(p, x2, y2)

        def batched(p, xs, ys):
            return np_.mean(T.vmap(maml, in_axes=(None, 0, 0, 0, 0))(p, xs, ys, xs[::-1], ys))
        return T.grad(batched)
    rs = np.random.RandomState(0)
    p = [rs.randn(1, 8), np.zeros(8), 0.3 * rs.randn(8, 1)]
    xs = rs.uniform(-3, 3, (3, 5, 1))
    ys = np.sin(xs + np.arange(3.0)[:, None, None])
    close(jax.jit(prog(jnp, jax))(p, xs, ys), prog(fnp, ft)(p, xs, ys), 1e-9)


def test_attention_block_grads_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def prog(np_, nn):
        def layer_norm(x, g, b):
            mu = np_.mean(x, axis=-1, keepdims=True)
            return g * (x - mu) / np_.sqrt(np_.var(x, axis=-1, keepdims=True) + 1e-5) + b

        def block(p, x):
            q, k, v = (np_.einsum("td,hdk->htk", x, p[n]) for n in ("wq", "wk", "wv"))
            s = np_.einsum("htk,hsk->hts", q, k) / np_.sqrt(q.shape[-1])
            s = np_.where(np_.tril(np_.ones((x.shape[0],) * 2, dtype=bool)), s, -1e9)
            o = np_.einsum("hts,hsk->thk", nn.softmax(s, axis=-1), v).reshape(x.shape[0], -1)
            h = layer_norm(x + o @ p["wo"], p["g"], p["b"])
            return layer_norm(h + nn.gelu(h @ p["w1"], approximate=False) @ p["w2"], p["g"], p["b"])
        return lambda p, x: np_.sum(block(p, x) ** 2) + nn.logsumexp(block(p, x))
    rs = np.random.RandomState(0)
    shapes = dict(wq=(2, 6, 3), wk=(2, 6, 3), wv=(2, 6, 3), wo=(6, 6), w1=(6, 8), w2=(8, 6),
                  g=(6,), b=(6,))
    p = {k: 0.3 * rs.randn(*s) for k, s in shapes.items()}
    x = rs.randn(4, 6)
    ref = jax.jit(jax.value_and_grad(prog(jnp, jax.nn), argnums=(0, 1)))(p, x)
    close(ref, ft.value_and_grad(prog(fnp, fnn), argnums=(0, 1))(p, x), 1e-9)


def test_sinkhorn_scan_and_loop_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def prog(np_, lax, lse, scan):
        def cost(x, y, eps=0.1, n=20):
            C = np_.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)
            a, b = np_.ones(x.shape[0]) / x.shape[0], np_.ones(y.shape[0]) / y.shape[0]

            def body(carry, _):
                f, g = carry
                f = eps * np_.log(a) - eps * lse((g[None, :] - C) / eps, axis=1)
                g = eps * np_.log(b) - eps * lse((f[:, None] - C) / eps, axis=0)
                return (f, g), None
            carry = (np_.zeros_like(a), np_.zeros_like(b))
            if scan:
                carry, _ = lax.scan(body, carry, None, length=n)
            else:
                for _ in range(n):
                    carry, _ = body(carry, None)
            f, g = carry
            return np_.sum(np_.exp((f[:, None] + g[None, :] - C) / eps) * C)
        return cost
    import jax.scipy.special as jsp
    rs = np.random.RandomState(0)
    x, y = rs.randn(5, 2), rs.randn(4, 2) + 1
    ref = jax.jit(jax.value_and_grad(prog(jnp, jax.lax, jsp.logsumexp, True)))(x, y)
    for scan in (True, False):
        close(ref, ft.value_and_grad(prog(fnp, flax, fspecial.logsumexp, scan))(x, y), 1e-9)


def test_black_scholes_greeks_as_jax():
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.stats as jst

    def prog(np_, T, st):
        def call(S, K, t, r, sigma):
            d1 = (np_.log(S / K) + (r + 0.5 * sigma ** 2) * t) / (sigma * np_.sqrt(t))
            d2 = d1 - sigma * np_.sqrt(t)
            return S * st.norm.cdf(d1) - K * np_.exp(-r * t) * st.norm.cdf(d2)
        args = (100.0, 105.0, 0.5, 0.02, 0.25)
        delta = T.grad(call, 0)
        return (call(*args), delta(*args), T.grad(delta, 0)(*args), T.grad(call, 4)(*args),
                T.grad(call, 2)(*args), T.hessian(call, (0, 4))(*args),
                T.vmap(delta, in_axes=(0, None, None, None, None))(np_.linspace(80.0, 120.0, 5),
                                                                   *args[1:]))
    close(jax.jit(lambda: prog(jnp, jax, jst))(), prog(fnp, ft, fstats))


def test_lennard_jones_forces_with_vmap_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def prog(np_, T):
        def energy(R):
            N = R.shape[0]
            r2 = np_.sum((R[:, None, :] - R[None, :, :]) ** 2, axis=-1)
            mask = ~np_.eye(N, dtype=bool)
            inv6 = (1.0 / np_.where(mask, r2, 1.0)) ** 3
            return 0.5 * np_.sum(np_.where(mask, 4 * (inv6 ** 2 - inv6), 0.0))

        def energy_pairs(R):
            i, j = np_.triu_indices(R.shape[0], 1)
            r2 = T.vmap(lambda d: np_.sum(d ** 2))(R[i] - R[j])
            return np_.sum(4 * (r2 ** -6 - r2 ** -3))
        force = lambda R: -T.grad(energy)(R)
        R = np_.array([[0., 0., 0.], [1.1, 0., 0.], [0., 1.2, 0.], [0.9, 1.0, 0.3]])
        return (energy(R), energy_pairs(R), force(R), -T.grad(energy_pairs)(R),
                T.vmap(force)(np_.stack([R, 1.05 * R])), T.hessian(energy)(R))
    close(jax.jit(lambda: prog(jnp, jax))(), prog(fnp, ft), 1e-9)


def test_hmc_leapfrog_with_keys_and_fori_loop_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def prog(np_, T, lax, random):
        def logp(q):
            return -0.5 * np_.sum(q ** 2 / np_.array([1.0, 4.0])) - 0.1 * np_.sum(q ** 4)

        def leapfrog(q, p, eps, L):
            p = p + 0.5 * eps * T.grad(logp)(q)

            def body(i, c):
                q, p = c
                q = q + eps * p
                return q, p + eps * T.grad(logp)(q)
            q, p = lax.fori_loop(0, L - 1, body, (q, p))
            q = q + eps * p
            return q, p + 0.5 * eps * T.grad(logp)(q)

        def step(i, state):
            q, key, acc = state
            key, k1, k2 = random.split(key, 3)
            p0 = random.normal(k1, q.shape)
            q1, p1 = leapfrog(q, p0, 0.2, 5)
            dh = -logp(q) + 0.5 * np_.sum(p0 ** 2) + logp(q1) - 0.5 * np_.sum(p1 ** 2)
            accept = np_.log(random.uniform(k2)) < dh
            return np_.where(accept, q1, q), key, acc + accept
        q, _, acc = lax.fori_loop(0, 8, step, (np_.array([1.0, -1.0]), random.PRNGKey(0), 0))
        jac = T.jacfwd(lambda q0: leapfrog(q0, np_.array([0.3, 0.1]), 0.1, 4)[0])(
            np_.array([0.5, 0.2]))
        return q, acc, jac
    close(jax.jit(lambda: prog(jnp, jax, jax.lax, jax.random))(), prog(fnp, ft, flax, frandom))


def test_ising_metropolis_with_at_under_jit_as_jax():
    jax = _jax()
    import jax.numpy as jnp
    L = 5

    def prog(np_, T, lax, random):
        def sweep(i, state):
            s, key = state
            key, k1, k2, k3 = random.split(key, 4)
            a, b = random.randint(k1, (), 0, L), random.randint(k2, (), 0, L)
            nb = s[(a + 1) % L, b] + s[(a - 1) % L, b] + s[a, (b + 1) % L] + s[a, (b - 1) % L]
            acc = random.uniform(k3) < np_.exp(-0.8 * s[a, b] * nb)
            return s.at[a, b].set(np_.where(acc, -s[a, b], s[a, b])), key
        key = random.PRNGKey(42)
        s0 = 2.0 * np_.asarray(random.bernoulli(key, 0.5, (L, L)), dtype=np_.float64) - 1.0
        s, _ = T.jit(lambda s0, key: lax.fori_loop(0, 60, sweep, (s0, key)))(s0, key)
        return s0, s, -np_.sum(s * (np_.roll(s, 1, 0) + np_.roll(s, 1, 1)))
    close(prog(jnp, jax, jax.lax, jax.random), prog(fnp, ft, flax, frandom))


def test_complex_and_holomorphic_derivatives_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def prog(np_, T):
        f = lambda z: np_.sin(z) * z ** 2
        zs = np_.array([1.0 + 2j, 0.5 - 1j])
        A = np_.array([[1 + 1j, 2], [0.5j, 3 - 1j]])

        def r(x):
            z = x * np_.exp(1j * x)
            return np_.real(z * np_.conj(z)) + np_.imag(z)
        return (T.grad(f, holomorphic=True)(3.0 + 4j), T.jacfwd(f, holomorphic=True)(zs),
                T.jacrev(f, holomorphic=True)(zs), T.grad(lambda z: np_.abs(z) ** 2)(3.0 + 4j),
                T.grad(r)(0.7), T.vjp(f, 3.0 + 4j)[1](1.0 + 0j),
                T.grad(lambda A: np_.abs(np_.linalg.det(A)) ** 2)(A),
                T.jacrev(lambda A: np_.linalg.inv(A)[0, 1], holomorphic=True)(A))
    close(jax.jit(lambda: prog(jnp, jax))(), prog(fnp, ft))
    with pytest.raises(TypeError, match="holomorphic"):
        ft.grad(lambda z: fnp.sin(z))(3.0 + 4j)


def test_fixed_point_implicit_custom_vjp_and_clipping_as_jax():
    jax = _jax()
    import jax.numpy as jnp
    from functools import partial

    def prog(np_, T, lax):
        def fixed_point(f, a, x0):
            _, x = lax.while_loop(lambda c: np_.abs(c[0] - c[1]) > 1e-10,
                                  lambda c: (c[1], f(a, c[1])), (x0, f(a, x0)))
            return x
        fixed_point = T.custom_vjp(fixed_point, nondiff_argnums=(0,))

        def fwd(f, a, x0):
            x = fixed_point(f, a, x0)
            return x, (a, x)

        def rev_iter(f, packed, u):
            a, x, xbar = packed
            return xbar + T.vjp(lambda x: f(a, x), x)[1](u)[0]

        def bwd(f, res, xbar):
            a, x = res
            u = fixed_point(partial(rev_iter, f), (a, x, xbar), xbar)
            return T.vjp(lambda a: f(a, x), a)[1](u)[0], np_.zeros_like(x)
        fixed_point.defvjp(fwd, bwd)
        sqrt = lambda a: fixed_point(lambda a, x: 0.5 * (x + a / x), a, a)

        @T.custom_vjp
        def clip_gradient(lo, hi, x):
            return x
        clip_gradient.defvjp(lambda lo, hi, x: (x, (lo, hi)),
                             lambda res, g: (None, None, np_.clip(g, *res)))
        clipped = T.grad(lambda x: np_.sin(clip_gradient(-0.75, 0.75, x)))
        return sqrt(2.0), T.grad(sqrt)(2.0), T.vmap(clipped)(np_.linspace(0.0, 6.0, 5))
    close(jax.jit(lambda: prog(jnp, jax, jax.lax))(), prog(fnp, ft, flax), 1e-9)


def test_numpy_style_in_place_loops_differentiated():
    # x[i] = ..., x[:, j] += ... on a tracer copy (the documented pattern), against NumPy and
    # finite differences of the plain NumPy program
    def prog(np_, copy):
        def f(a):
            x = copy(np_.zeros((a.shape[0], 3)) + 0.0 * a[0])
            for i in range(a.shape[0]):
                x[i] = a[i] * np_.arange(3.0)
            for j in range(3):
                x[:, j] += np_.sin(a) * j
            x[1:, :] *= 2.0
            x[0, [0, 2]] -= a[:2]
            x[..., 1] /= 3.0
            return np_.sum(np_.cumsum(x, axis=0) ** 2) + np_.sum(np_.diff(x, prepend=0.0))
        return f
    a = np.array([0.3, -0.4, 0.2, 0.6])
    ref = prog(np, lambda v: v.copy())
    out = prog(fnp, lambda v: fnp.asarray(v, copy=True))
    close(ref(a), out(a))
    close(_fd(ref, a), ft.grad(out)(a), 1e-6)
