"""Programs of the kind written for autograd, for JAX and in plain NumPy, run with the imports
swapped to functrans, and compared with the original library computed here (skipped where it
is not installed): values and derivatives to ~1e-10 in float64.

The first part holds the regressions found while porting such programs (NumPy's array-likes
as arguments, ufunc methods, ``r_``/``c_``/``mgrid``/``ogrid``, autograd's ``convolve`` with
``axes``/``dot_axes``, NumPy's argument forms); the second, short end-to-end programs.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.signal as fsignal
import functrans.scipy.special as fspecial
import functrans.scipy.stats as fstats


from ._ported import _autograd, _jax, close  # noqa: E402


# -- regressions: NumPy's array-likes (lists, nested lists, lists of tracers) --------------------


def test_reductions_of_a_list_of_tracers_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp

    def prog(np_):
        def loss(w):
            terms = [w[0] ** 2, np_.sin(w[1]), w[0] * w[1]]
            return np_.sum(terms) + np_.mean(terms) + np_.max([w[0], w[1]]) \
                + np_.prod([w[0], 2.0])
        return loss
    w = np.array([0.7, -0.3])
    close(ag.grad(prog(anp))(w), ft.grad(prog(fnp))(w))
    assert float(ft.grad(prog(fnp))(w)[0]) != 0.0


@pytest.mark.parametrize("expr", [
    "np.exp([0.5, 1.5])", "np.sqrt([4.0, 9.0])", "np.add([1.0, 2.0], [3.0, 4.0])",
    "np.divide([1.0, 2.0], [4.0, 8.0])", "np.multiply([[1.0], [2.0]], [3.0, 4.0])",
    "np.where([True, False], [1.0, 2.0], [3.0, 4.0])", "np.dot([1.0, 2.0], [3.0, 4.0])",
    "np.matmul([[1.0, 2.0]], [[3.0], [4.0]])", "np.outer([1.0, 2.0], [3.0, 4.0])",
    "np.einsum('i,i->', [1.0, 2.0], [3.0, 4.0])", "np.hypot([3.0], [4.0])",
    "np.logaddexp([0.0, 1.0], [1.0, 0.0])", "np.logical_and([1, 0], [1, 1])",
    "np.flip([1.0, 2.0, 3.0])", "np.full_like([1, 2], 7)", "np.searchsorted([1, 3, 5], [2, 4])",
    "np.clip([-2.0, 0.5, 3.0], [-1.0, 0.0, 0.0], 1.0)", "np.broadcast_arrays([1.0], [[2.0], [3.0]])",
    "np.reciprocal([2.0, 4.0])", "np.matrix_transpose([[1.0, 2.0]])", "np.tril([1.0, 2.0, 3.0])",
    "np.triu([1, 2, 3], 1)", "np.add([1.0, 2.0], 3.0)", "np.multiply(2.0, (1.0, 2.0))",
    "np.subtract((1.0, 2.0), (3.0, 5.0))", "np.sin((0.5, 1.0))", "np.maximum([1.0, 4.0], 2.0)",
])
def test_array_likes_as_numpy(expr):
    ref = eval(expr, {"np": np})
    out = eval(expr, {"np": fnp})
    for r, o in zip(ref if isinstance(ref, (list, tuple)) else [ref],
                    out if isinstance(out, (list, tuple)) else [out]):
        assert np.asarray(o).dtype == np.asarray(r).dtype
        np.testing.assert_array_equal(np.asarray(o), np.asarray(r))


def test_clip_takes_numpys_a_min_a_max():
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(fnp.clip(x, a_min=None, a_max=1.0), np.clip(x, None, 1.0))
    np.testing.assert_array_equal(fnp.clip(x, a_min=0.0, a_max=None), np.clip(x, 0.0, None))
    g = ft.grad(lambda x: fnp.sum(fnp.clip(x, a_min=-1.0, a_max=1.0) ** 2))(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
    with pytest.raises(TypeError):
        fnp.clip(x, 0.0, a_min=0.0)


# -- regressions: NumPy's argument forms -----------------------------------------------------


def test_tensordot_axes_positional():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(fnp.tensordot(a, b, 1), np.tensordot(a, b, 1))
    np.testing.assert_array_equal(fnp.tensordot(a[0], b[0], 0), np.tensordot(a[0], b[0], 0))
    np.testing.assert_array_equal(fnp.tensordot(a, a, [1, 1]), np.tensordot(a, a, [1, 1]))
    np.testing.assert_array_equal(fnp.tensordot(a, b, axes=([1], [0])), a @ b)


def test_where_with_one_argument_is_nonzero():
    x = np.array([[0.0, 2.0], [3.0, 0.0]])
    for r, o in zip(np.where(x > 1), fnp.where(x > 1)):
        np.testing.assert_array_equal(o, r)
    with pytest.raises(TypeError):
        fnp.where(x > 1, x)


def test_sort_and_argsort_axis_none_flatten():
    x = np.array([[3.0, -1.0], [0.5, 2.0]])
    np.testing.assert_array_equal(fnp.sort(x, axis=None), np.sort(x, axis=None))
    np.testing.assert_array_equal(fnp.argsort(x, axis=None), np.argsort(x, axis=None))
    g = ft.grad(lambda x: fnp.sort(x, axis=None)[-1])(x)
    np.testing.assert_array_equal(g, [[1.0, 0.0], [0.0, 0.0]])


# -- regressions: ufunc methods ----------------------------------------------------------------

_UFUNC_EXPRS = [
    "np.add.reduce(x)", "np.add.reduce(x, axis=1)", "np.add.reduce(x, axis=None)",
    "np.multiply.reduce(v)", "np.maximum.reduce(x, axis=1, keepdims=True)",
    "np.logaddexp.reduce(v)", "np.logaddexp.reduce(x, axis=1)", "np.subtract.reduce(v)",
    "np.add.accumulate(x)", "np.multiply.accumulate(v)", "np.maximum.accumulate(v)",
    "np.minimum.accumulate(x, axis=1)", "np.logaddexp.accumulate(v)",
    "np.multiply.outer(v, v)", "np.subtract.outer(v, x)", "np.add.outer(v, 1.0)",
]


@pytest.mark.parametrize("expr", _UFUNC_EXPRS)
def test_ufunc_methods_as_numpy_and_jax(expr):
    jax = _jax()
    import jax.numpy as jnp
    x = np.array([[0.3, -1.2, 2.5], [1.1, 0.4, -0.7]])
    v = np.array([0.5, -0.25, 2.0, 1.5])
    ref = eval(expr, {"np": np, "x": x, "v": v})
    out = eval(expr, {"np": fnp, "x": x, "v": v})
    assert np.asarray(out).dtype == ref.dtype
    np.testing.assert_allclose(out, ref, rtol=1e-13)

    def loss(xp):
        return lambda xv: xp.sum(eval(expr, {"np": xp, "x": xv[0], "v": xv[1]}) ** 2)
    close(jax.grad(loss(jnp))((jnp.asarray(x), jnp.asarray(v))), ft.grad(loss(fnp))((x, v)))


def test_ufunc_at_in_place_and_traced():
    jax = _jax()
    import jax.numpy as jnp
    a = np.zeros(5)
    assert fnp.add.at(a, [0, 1, 1, 3], 1.0) is None  # NumPy's own, in place
    np.testing.assert_array_equal(a, [1.0, 2.0, 0.0, 1.0, 0.0])

    def prog(w):
        out = w * 0.0
        fnp.add.at(out, np.array([0, 1, 1, 3]), w[:4] ** 2)  # rebinds the tracer
        fnp.maximum.at(out, np.array([2, 2]), w[:2])
        return fnp.sum(out * np.arange(5.0))

    def ref(w):
        out = w * 0.0
        out = jnp.add.at(out, jnp.array([0, 1, 1, 3]), w[:4] ** 2, inplace=False)
        out = jnp.maximum.at(out, jnp.array([2, 2]), w[:2], inplace=False)
        return jnp.sum(out * jnp.arange(5.0))
    w = np.array([0.3, 0.7, -0.2, 1.1, 0.5])
    close(ref(w), prog(w))
    close(jax.grad(ref)(w), ft.grad(prog)(w))
    staged = ft.jit(lambda w: fnp.add.at(w, np.array([0, 0]), 1.0, inplace=False))
    np.testing.assert_allclose(staged(w), w + [2.0, 0, 0, 0, 0])


@pytest.mark.parametrize("name", ["maximum", "minimum", "multiply", "subtract"])
def test_ufunc_at_with_inplace_false_on_every_backend(backend, name):
    # (maximum/minimum/multiply.at used NumPy indices and dtype attributes: they failed on
    # torch and array-api-strict)
    x, v = backend.asarray(np.zeros(4)), backend.asarray(np.array([1.0, 2.0, 3.0]))
    i = backend.asarray([0, 0, 2], dtype="int64")
    out = getattr(fnp, name).at(x, i, v, inplace=False)
    expect = np.zeros(4)
    getattr(np, name).at(expect, [0, 0, 2], [1.0, 2.0, 3.0])
    assert backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(out), expect)
    if name == "maximum":
        g = ft.grad(lambda v: fnp.sum(fnp.maximum.at(x, i, v, inplace=False)))(v)
        np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 1.0, 1.0])

# -- regressions: index tricks ------------------------------------------------------------------


@pytest.mark.parametrize("expr", [
    "np.r_[v, 1.0, v[:2]]", "np.r_[0:5]", "np.r_[0:1:5j]", "np.r_[-1, 0:3, v]",
    "np.c_[v, v]", "np.c_[x, x]", "np.r_['1', x, x]", "np.r_['0,2', v, v]",
    "np.mgrid[0:2, 0:3]", "np.mgrid[-1:1:5j]", "np.mgrid[0:1:3j, 0:2]", "np.ogrid[0:2, 0:3]",
])
def test_index_tricks_as_numpy(expr):
    v, x = np.array([0.5, -0.25, 2.0, 1.5]), np.arange(6.0).reshape(2, 3)
    ref = eval(expr, {"np": np, "v": v, "x": x})
    out = eval(expr, {"np": fnp, "v": v, "x": x})
    for r, o in zip(ref if isinstance(ref, tuple) else [ref],
                    out if isinstance(out, tuple) else [out]):
        assert np.asarray(o).dtype == r.dtype
        np.testing.assert_allclose(np.asarray(o), r, rtol=1e-15)


def test_r_and_c_differentiable():
    v = np.array([0.5, -0.25, 2.0])
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(fnp.r_[v, 2 * v[:1]] ** 2))(v),
                               [5.0, -0.5, 4.0])
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(fnp.c_[v, v ** 2]))(v), 1 + 2 * v)


# -- regressions: autograd's convolve(axes, dot_axes) -----------------------------------------

_CONV = [((2, 1, 6, 6), (1, 3, 3, 3), ([2, 3], [2, 3]), ([1], [0])),
         ((2, 7, 5), (2, 3, 2), ([1, 2], [1, 2]), ([0], [0])),
         ((6, 4, 3), (3, 2), ([0], [1]), ([2], [0])),
         ((4, 5, 3), (5, 2), ([0], [1]), ([], [])),
         ((4, 2, 3), (2, 5, 6), ([0, 2], [1, 2]), ([1], [0]))]


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("case", range(len(_CONV)))
def test_convolve_axes_dot_axes_as_autograd(case, mode):
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.signal as asig
    sa, sb, axes, dot_axes = _CONV[case]
    rs = np.random.RandomState(case)
    a, b = rs.randn(*sa), rs.randn(*sb)
    kw = {} if axes is None else {"axes": axes, "dot_axes": dot_axes}
    ref = asig.convolve(a, b, mode=mode, **kw)
    close(ref, fsignal.convolve(a, b, mode=mode, **kw), 1e-12)
    ga = ag.grad(lambda a, b: anp.sum(anp.sin(asig.convolve(a, b, mode=mode, **kw))),
                 0)(a, b)
    gf = ft.grad(lambda a, b: fnp.sum(fnp.sin(fsignal.convolve(a, b, mode=mode, **kw))))(a, b)
    close(ga, gf, 1e-12)


def test_convolve_axes_errors():
    with pytest.raises(ValueError, match="dot axes"):
        fsignal.convolve(np.ones((2, 3)), np.ones((3, 2)), axes=([1], [1]), dot_axes=([0], [0]))
    with pytest.raises(ValueError, match="same number"):
        fsignal.convolve(np.ones((2, 3)), np.ones(3), dot_axes=((), ()))


# -- end to end ----------------------------------------------------------------------------------


def _mlp_adam(np_, grad, logsumexp, steps=15):
    rs = np.random.RandomState(0)
    sizes = [6, 5, 3]
    params = [(0.3 * rs.randn(m, n), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    X, Y = rs.randn(24, 6), np.eye(3)[rs.randint(0, 3, 24)]

    def loss(params, i):
        h = X[(i % 3) * 8:(i % 3 + 1) * 8]
        for W, b in params:
            out = np_.dot(h, W) + b
            h = np_.tanh(out)
        logp = out - logsumexp(out, axis=1, keepdims=True)
        l2 = sum(np_.sum(W ** 2) for W, _ in params)
        return -np_.sum(logp * Y[(i % 3) * 8:(i % 3 + 1) * 8]) + 0.01 * l2
    g = grad(loss)
    m = [(0 * W, 0 * b) for W, b in params]
    v = [(0 * W, 0 * b) for W, b in params]
    for i in range(steps):
        gr = g(params, i)
        new = []
        for k in range(len(params)):
            upd = []
            for j in range(2):
                m_ = 0.9 * m[k][j] + 0.1 * gr[k][j]
                v_ = 0.999 * v[k][j] + 0.001 * gr[k][j] ** 2
                m[k] = m[k][:j] + (m_,) + m[k][j + 1:]
                v[k] = v[k][:j] + (v_,) + v[k][j + 1:]
                upd.append(params[k][j] - 0.05 * (m_ / (1 - 0.9 ** (i + 1)))
                           / (np_.sqrt(v_ / (1 - 0.999 ** (i + 1))) + 1e-8))
            new.append(tuple(upd))
        params = new
    return params, loss(params, 0)


def test_mlp_trained_with_handwritten_adam_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.special as asp
    close(_mlp_adam(anp, ag.grad, asp.logsumexp), _mlp_adam(fnp, ft.grad, fspecial.logsumexp))


def _gp_nll(np_, mvn):
    rs = np.random.RandomState(1)
    X = rs.randn(12, 2)
    y = np.sin(X[:, 0]) + 0.1 * rs.randn(12)

    def nll(params):
        mean, noise = params[0], np_.exp(params[1]) + 1e-4
        scale, ls = np_.exp(params[2]), np_.exp(params[3:])
        d = np_.expand_dims(X / ls, 1) - np_.expand_dims(X / ls, 0)
        K = scale * np_.exp(-0.5 * np_.sum(d ** 2, axis=2)) + noise * np_.eye(len(y))
        return -mvn.logpdf(y, mean * np_.ones(len(y)), K)
    return nll


def test_gp_log_likelihood_gradient_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.stats.multivariate_normal as amvn
    p = np.array([0.1, -1.0, 0.2, 0.3, -0.2])
    ref, fun = _gp_nll(anp, amvn), _gp_nll(fnp, fstats.multivariate_normal)
    close(ref(p), fun(p))
    close(ag.grad(ref)(p), ft.grad(fun)(p))
    close(ag.hessian(ref)(p), ft.hessian(fun)(p), 1e-8)


def _rk4_loss(np_):
    ts = np.linspace(0.0, 3.0, 31)

    def f(y, th):
        return np_.array([y[1], -th[0] * np_.sin(y[0]) - th[1] * y[1]])

    def loss(th, y0):
        y, ys = y0, [y0]
        for i in range(len(ts) - 1):
            h = ts[i + 1] - ts[i]
            k1 = f(y, th)
            k2 = f(y + h / 2 * k1, th)
            k3 = f(y + h / 2 * k2, th)
            k4 = f(y + h * k3, th)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            ys.append(y)
        return np_.sum((np_.stack(ys)[:, 0] - np_.cos(ts)) ** 2)
    return loss


def test_rk4_ode_gradient_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    th, y0 = np.array([1.3, 0.2]), np.array([0.4, 0.6])
    ref, fun = _rk4_loss(anp), _rk4_loss(fnp)
    close(ag.grad(ref, 0)(th, y0), ft.grad(fun, 0)(th, y0))
    close(ag.grad(ref, 1)(th, y0), ft.grad(fun, 1)(th, y0))


def _lstm_loss(np_, logsumexp):
    rs = np.random.RandomState(2)
    n_in, n_h = 4, 3
    params = {k: 0.3 * rs.randn(n_in + n_h + 1, n_h) for k in ("c", "f", "i", "o")}
    params["out"] = 0.3 * rs.randn(n_h + 1, n_in)
    seq = np.eye(n_in)[rs.randint(0, n_in, (6, 2))]

    def affine(W, *parts):
        return np_.dot(np_.hstack(parts + (np_.ones((parts[0].shape[0], 1)),)), W)

    def loss(params):
        h = np_.zeros((2, n_h))
        c = np_.zeros((2, n_h))
        total = 0.0
        for t in range(len(seq) - 1):
            sig = lambda z: 0.5 * (np_.tanh(z) + 1.0)  # noqa: E731
            c = c * sig(affine(params["f"], seq[t], h)) \
                + sig(affine(params["i"], seq[t], h)) * np_.tanh(affine(params["c"], seq[t], h))
            h = sig(affine(params["o"], seq[t], h)) * np_.tanh(c)
            out = affine(params["out"], h)
            total = total + np_.sum((out - logsumexp(out, axis=1, keepdims=True)) * seq[t + 1])
        return -total
    return loss, params


def test_lstm_gradient_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.special as asp
    ref, params = _lstm_loss(anp, asp.logsumexp)
    fun, _ = _lstm_loss(fnp, fspecial.logsumexp)
    close(ref(params), fun(params))
    close(ag.grad(ref)(params), ft.grad(fun)(params))


def _vae_elbo(np_, rnd, norm, logsumexp):
    def net(params, x):
        for W, b in params[:-1]:
            x = np_.tanh(x @ W + b)
        W, b = params[-1]
        return x @ W + b

    def elbo(params, data, key):
        enc, dec = params
        h = net(enc, data)
        mu, log_std = h[:, :2], h[:, 2:]
        eps = rnd.normal(key, mu.shape)
        z = mu + np_.exp(log_std) * eps
        logits = net(dec, z)
        loglik = -np_.sum(np_.logaddexp(0.0, -logits * data), axis=1)
        logq = np_.sum(norm.logpdf(z, mu, np_.exp(log_std)), axis=1)
        logp = np_.sum(norm.logpdf(z, 0.0, 1.0), axis=1)
        return np_.mean(loglik + logp - logq) + 0.0 * logsumexp(mu)
    return elbo


def test_vae_elbo_with_random_keys_as_jax():
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.special as jsp
    import jax.scipy.stats as jst
    rs = np.random.RandomState(3)
    enc = [(0.3 * rs.randn(6, 5), np.zeros(5)), (0.3 * rs.randn(5, 4), np.zeros(4))]
    dec = [(0.3 * rs.randn(2, 5), np.zeros(5)), (0.3 * rs.randn(5, 6), np.zeros(6))]
    data = np.sign(rs.randn(8, 6))
    ref = _vae_elbo(jnp, jax.random, jst.norm, jsp.logsumexp)
    fun = _vae_elbo(fnp, ft.random, fstats.norm, fspecial.logsumexp)
    kj, kf = jax.random.PRNGKey(7), ft.random.PRNGKey(7)
    close(jax.jit(ref)((enc, dec), data, kj), fun((enc, dec), data, kf))
    close(jax.jit(jax.grad(ref))((enc, dec), data, kj), ft.grad(fun)((enc, dec), data, kf))


def test_per_example_gradients_and_jit_training_step_as_jax():
    jax = _jax()
    import jax.numpy as jnp

    def make(np_, vmap, grad, jit):
        def loss(params, x, y):
            h = np_.tanh(np_.dot(x, params["W"]) + params["b"])
            return np_.sum((np_.dot(h, params["V"]) - y) ** 2)

        @jit
        def step(params, xs, ys):
            g = grad(lambda p: np_.mean(vmap(loss, in_axes=(None, 0, 0))(p, xs, ys)))(params)
            return {k: params[k] - 0.1 * g[k] for k in params}
        return vmap(grad(loss), in_axes=(None, 0, 0)), step
    rs = np.random.RandomState(4)
    params = {"W": rs.randn(3, 4), "b": rs.randn(4), "V": rs.randn(4, 2)}
    xs, ys = rs.randn(5, 3), rs.randn(5, 2)
    per_j, step_j = make(jnp, jax.vmap, jax.grad, jax.jit)
    per_f, step_f = make(fnp, ft.vmap, ft.grad, ft.jit)
    close(per_j(params, xs, ys), per_f(params, xs, ys))
    pj, pf = params, params
    for _ in range(3):
        pj, pf = step_j(pj, xs, ys), step_f(pf, xs, ys)
    close(pj, pf)


def test_custom_rules_from_the_jax_docs():
    jax = _jax()
    import jax.numpy as jnp

    def make(np_, custom_jvp, custom_vjp, while_loop, vjp):
        @custom_jvp
        def log1pexp(x):
            return np_.log(1.0 + np_.exp(x))

        @log1pexp.defjvp
        def _(primals, tangents):
            (x,), (t,) = primals, tangents
            return log1pexp(x), (1 - 1 / (1 + np_.exp(x))) * t

        @custom_vjp
        def clip_grad(x):
            return x
        clip_grad.defvjp(lambda x: (x, None), lambda _, g: (np_.clip(g, -0.5, 0.5),))

        def sqrt_fixed_point(a):  # Newton's iteration, differentiated implicitly
            @custom_vjp
            def solve(a):
                return while_loop(lambda c: np_.abs(c[0] - c[1]) > 1e-12,
                                  lambda c: (c[1], 0.5 * (c[1] + a / c[1])), (a, 0.5 * (a + 1.0)))[1]

            def fwd(a):
                x = solve(a)
                return x, (x, a)

            def bwd(res, g):
                x, a = res
                _, pull = vjp(lambda a: 0.5 * (x + a / x), a)
                return (pull(g / (1 - 0.5 * (1 - a / x ** 2)))[0],)
            solve.defvjp(fwd, bwd)
            return solve(a)
        return lambda x: log1pexp(x) + np_.sin(clip_grad(3.0 * x)) + sqrt_fixed_point(x + 2.0)
    ref = make(jnp, jax.custom_jvp, jax.custom_vjp, jax.lax.while_loop, jax.vjp)
    fun = make(fnp, ft.custom_jvp, ft.custom_vjp, ft.lax.while_loop, ft.vjp)
    xs = np.array([0.3, 100.0])
    close(jax.jit(jax.vmap(ref))(xs), ft.vmap(fun)(xs))
    close(jax.jit(jax.vmap(jax.grad(ref)))(xs), ft.vmap(ft.grad(fun))(xs))
    close(jax.jit(jax.grad(ref))(1.0), ft.grad(fun)(1.0))


def _newton_kalman(np_, grad, hessian):
    def f(x):
        return np_.sum(np_.exp(x) - x * np_.arange(1.0, 4.0)) + 0.5 * np_.dot(x, x) + x[0] * x[1]
    x = np_.zeros(3)
    for _ in range(6):
        x = x - np_.linalg.solve(hessian(f)(x), grad(f)(x))

    def kf(q, r, ys):
        F, H = np_.array([[1.0, 1.0], [0.0, 1.0]]), np_.array([[1.0, 0.0]])
        m, P, ll = np_.zeros(2), np_.eye(2), 0.0
        for y in ys:
            m, P = F @ m, F @ P @ F.T + q * np_.eye(2)
            S = H @ P @ H.T + r
            K = P @ H.T @ np_.linalg.inv(S)
            v = y - H @ m
            ll = ll - 0.5 * (np_.log(np_.linalg.det(S)) + v @ np_.linalg.solve(S, v))
            m, P = m + K @ v, (np_.eye(2) - K @ H) @ P
        return ll
    ys = np.cumsum(np.sin(np.arange(10.0))).reshape(10, 1)
    return x, grad(kf, (0, 1))(0.2, 0.5, ys)


def test_newton_with_hessians_and_kalman_filter_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    close(_newton_kalman(anp, ag.grad, ag.hessian), _newton_kalman(fnp, ft.grad, ft.hessian))


def _fluid(np_):
    n = 8
    rs = np.random.RandomState(5)
    smoke0, target = rs.rand(n, n), rs.rand(n, n)

    def advect(f, vx, vy):
        ys, xs = np_.meshgrid(np_.arange(n), np_.arange(n))
        cx, cy = (xs - vx).ravel(), (ys - vy).ravel()
        left, top = np_.floor(cx).astype(int), np_.floor(cy).astype(int)
        rw, bw = cx - left, cy - top
        left, top = np_.mod(left, n), np_.mod(top, n)
        right, bot = np_.mod(left + 1, n), np_.mod(top + 1, n)
        out = (1 - rw) * ((1 - bw) * f[left, top] + bw * f[left, bot]) \
            + rw * ((1 - bw) * f[right, top] + bw * f[right, bot])
        return np_.reshape(out, (n, n))

    def project(vx, vy):
        div = -0.5 / n * (np_.roll(vx, -1, axis=0) - np_.roll(vx, 1, axis=0)
                          + np_.roll(vy, -1, axis=1) - np_.roll(vy, 1, axis=1))
        p = np_.zeros((n, n))
        for _ in range(5):
            p = (div + np_.roll(p, 1, 0) + np_.roll(p, -1, 0) + np_.roll(p, 1, 1)
                 + np_.roll(p, -1, 1)) / 4.0
        vx -= 0.5 * n * (np_.roll(p, -1, axis=0) - np_.roll(p, 1, axis=0))
        vy -= 0.5 * n * (np_.roll(p, -1, axis=1) - np_.roll(p, 1, axis=1))
        return vx, vy

    def loss(params):
        vx, vy = np_.reshape(params[:n * n], (n, n)), np_.reshape(params[n * n:], (n, n))
        smoke = smoke0
        for _ in range(3):
            vx, vy = project(advect(vx, vx, vy), advect(vy, vx, vy))
            smoke = advect(smoke, vx, vy)
        return np_.mean((smoke - target) ** 2)
    return loss, 0.5 * rs.randn(2 * n * n)


def test_fluid_simulation_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    ref, p = _fluid(anp)
    fun, _ = _fluid(fnp)
    close(ref(p), fun(p))
    close(ag.grad(ref)(p), ft.grad(fun)(p))


def _hmm_em(np_, value_and_grad, logsumexp):
    rs = np.random.RandomState(6)
    pi, A, B = rs.rand(3), rs.rand(3, 3), rs.rand(3, 4)
    params = [pi / pi.sum(), A / A.sum(1, keepdims=True), B / B.sum(1, keepdims=True)]
    data = [rs.randint(0, 4, 12) for _ in range(2)]

    def log_z(nat):
        total = 0.0
        for seq in data:
            la = nat[0]
            for y in seq:
                la = logsumexp(la[:, None] + nat[1], axis=0) + nat[2][:, y]
            total = total + logsumexp(la)
        return total
    lls = []
    for _ in range(3):
        ll, stats = value_and_grad(log_z)([np_.log(p) for p in params])
        params = [s / np_.where(s.sum(-1, keepdims=True) > 0, s.sum(-1, keepdims=True), 1.0)
                  for s in stats]
        lls.append(ll)
    return lls, params


def test_hmm_em_by_gradients_as_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.special as asp
    close(_hmm_em(anp, ag.value_and_grad, asp.logsumexp),
          _hmm_em(fnp, ft.value_and_grad, fspecial.logsumexp))


def test_kmeans_and_softmax_regression_as_numpy_and_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    rs = np.random.RandomState(7)
    X = np.concatenate([rs.randn(10, 2) + 3, rs.randn(10, 2) - 3, rs.randn(10, 2)])
    labels = rs.randint(0, 3, 30)

    def kmeans(np_):
        C = X[np_.array([0, 10, 20])]
        for _ in range(5):
            lab = np_.argmin(np_.sum((X[:, None, :] - C[None]) ** 2, axis=-1), axis=1)
            C = np_.stack([np_.mean(X[lab == k], axis=0) for k in range(3)])
        return C, lab

    def softmax_loss(np_):
        def loss(W):
            z = X @ W
            z = z - np_.max(z, axis=1, keepdims=True)
            logp = z - np_.log(np_.exp(z).sum(axis=1, keepdims=True))
            return -np_.mean(logp[np_.arange(30), labels]) + 0.01 * (W ** 2).sum()
        return loss
    close(kmeans(np), kmeans(fnp))
    W = 0.1 * rs.randn(2, 3)
    close(ag.grad(softmax_loss(anp))(W), ft.grad(softmax_loss(fnp))(W))
