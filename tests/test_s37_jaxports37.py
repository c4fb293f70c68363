"""Session 37, jaxports37: the smaller JAX-ported modules (stax, optimizers, image, odeint,
scipy.optimize.minimize, fft and lax.fft, jet, ravel_pytree, random) against JAX, finite
differences and closed forms. ravel_pytree's unravel refuses a complex vector for an all-real
tree (the imaginary part was dropped silently)."""
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.flatten_util import ravel_pytree


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- ravel_pytree ---------------------------------------------------------------------------


def test_unravel_refuses_a_complex_vector_for_a_real_tree(backend):
    tree = {"a": backend.asarray([1.0, 2.0]), "b": backend.asarray([[3.0]])}
    flat, unravel = ravel_pytree(tree)
    v = backend.asarray(np.array([1.0, 2.0, 3.0]) + 1j, dtype="complex128")
    with pytest.raises(TypeError, match="imaginary part would be dropped"):
        unravel(v)
    # the real vector, and its derivatives, as before
    back = unravel(flat)
    np.testing.assert_array_equal(backend.to_numpy(back["b"]), [[3.0]])
    g = ft.grad(lambda w: fnp.sum(unravel(w)["a"] * 2.0))(flat)
    np.testing.assert_array_equal(backend.to_numpy(g), [2.0, 2.0, 0.0])


def test_unravel_of_a_mixed_tree_still_takes_the_real_part():
    flat, unravel = ravel_pytree([np.array([1.0, 2.0]), np.array([1j])])
    back = unravel(flat + 1j)
    assert back[0].dtype == np.float64 and back[1].dtype == np.complex128
    np.testing.assert_array_equal(back[0], [1.0, 2.0])
    np.testing.assert_array_equal(back[1], [2j])


# -- odeint ---------------------------------------------------------------------------------


def test_odeint_time_gradient_at_repeated_times_matches_one_sided_limits(backend):
    # y' = -k y: y(t_i) = y0 exp(-k (t_i - t0)); L = sum_i sum y(t_i). JAX gives nan for
    # t0 repeated; the derivative of each time is well defined (one-sided differences agree).
    from functrans.ode import odeint
    k = 0.7
    y0 = backend.asarray([1.0, 2.0])
    t = np.array([0.0, 0.0, 0.5, 1.2, 1.2])
    g = ft.grad(lambda tt: fnp.sum(odeint(lambda y, s: -k * y, y0, tt, rtol=1e-11,
                                          atol=1e-11)))(backend.asarray(t))
    e = np.exp(-k * (t - t[0])) * 3.0  # sum of y(t_i)
    want = -k * e
    want[0] = k * e[1:].sum()
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-8, atol=1e-9)


def test_odeint_gradients_match_jax_and_finite_differences():
    jax = _jax()
    jnp = jax.numpy
    from jax.experimental.ode import odeint as jodeint

    from functrans.ode import odeint

    def f(y, t, a, b):
        return fnp.stack([a * y[1], -b * fnp.sin(y[0]) + 0.1 * t * y[1]])

    def fj(y, t, a, b):
        return jnp.stack([a * y[1], -b * jnp.sin(y[0]) + 0.1 * t * y[1]])

    y0, t, a, b = np.array([0.3, -0.2]), np.array([0.0, 0.4, 1.1, 2.0]), 1.3, 0.7

    def loss(y0, t, a, b):
        return fnp.sum(odeint(f, y0, t, a, b, rtol=1e-10, atol=1e-10) ** 2)

    def loss_j(y0, t, a, b):
        return jnp.sum(jodeint(fj, y0, t, a, b, rtol=1e-10, atol=1e-10) ** 2)
    got = ft.grad(loss, argnums=(0, 1, 2, 3))(y0, t, a, b)
    want = jax.grad(loss_j, argnums=(0, 1, 2, 3))(jnp.asarray(y0), jnp.asarray(t), a, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-6, atol=1e-8)
    # decreasing times (JAX refuses them): central differences
    td = t[::-1].copy()
    g = ft.grad(loss, argnums=1)(y0, td, a, b)
    h = 1e-6
    fd = [(loss(y0, td + h * e, a, b) - loss(y0, td - h * e, a, b)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)


def test_odeint_honours_tolerances():
    from functrans.ode import odeint
    t = np.linspace(0.0, 3.0, 5)
    y0 = np.array([1.0, 2.0])
    exact = y0 * np.exp(-t)[:, None]
    errors = []
    for tol in (1e-3, 1e-6, 1e-9):
        ys = odeint(lambda y, s: -y, y0, t, rtol=tol, atol=tol)
        errors.append(np.max(np.abs(ys - exact)))
        assert errors[-1] < 10 * tol
    assert errors[0] > errors[1] > errors[2]


# -- fft --------------------------------------------------------------------------------------


_FFT_CASES = [
    ("fft", (3, 5), "complex128", {"n": 4, "axis": 0}),
    ("ifft", (2, 1), "float64", {"n": 3, "norm": "ortho"}),
    ("rfft", (4, 7), "float64", {"n": 6}),
    ("rfft", (0, 5), "float64", {}),
    ("irfft", (3, 4), "complex128", {"n": 7, "norm": "forward"}),
    ("irfft", (3, 4), "complex128", {}),
    ("hfft", (2, 5), "complex128", {"n": 9}),
    ("hfft", (5,), "complex128", {"n": 4, "norm": "ortho"}),
    ("ihfft", (3, 6), "float64", {"n": 5}),
    ("ihfft", (7,), "float64", {"norm": "forward"}),
    ("fftn", (2, 3, 4), "complex128", {"s": (3, 2), "axes": (2, 0)}),
    ("rfftn", (3, 4, 5), "float64", {"s": (2, 5), "axes": (0, 2)}),
    ("irfftn", (3, 4, 3), "complex128", {"s": (3, 5)}),
    ("irfft2", (2, 3, 4), "complex128", {"s": (4, 5), "norm": "ortho"}),
    ("fft2", (1, 1), "float64", {}),
]


@pytest.mark.parametrize("name, shape, dtype, kw", _FFT_CASES)
def test_fft_values_and_derivatives_match_jax(name, shape, dtype, kw):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(len(shape) * 7 + sum(shape))
    x = rng.standard_normal(shape)
    if dtype == "complex128":
        x = x + 1j * rng.standard_normal(shape)
    f, fj = getattr(fnp.fft, name), getattr(jnp.fft, name)
    y, yj = f(x, **kw), np.asarray(fj(jnp.asarray(x), **kw))
    assert y.shape == yj.shape and y.dtype == yj.dtype
    np.testing.assert_allclose(y, yj, rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(shape) * (1 + 1j if dtype == "complex128" else 1)
    _, t = ft.jvp(lambda a: f(a, **kw), (x,), (v,))
    np.testing.assert_allclose(t, f(v, **kw), rtol=1e-12, atol=1e-12)  # linear
    u = rng.standard_normal(yj.shape) + (1j * rng.standard_normal(yj.shape)
                                         if np.iscomplexobj(yj) else 0)
    (ct,) = ft.vjp(lambda a: f(a, **kw), x)[1](u)
    (ctj,) = jax.vjp(lambda a: fj(a, **kw), jnp.asarray(x))[1](jnp.asarray(u))
    np.testing.assert_allclose(ct, np.asarray(ctj), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("kind, shape, lengths", [
    ("FFT", (2, 3, 4), (3, 4)), ("IFFT", (5,), (5,)), ("RFFT", (2, 6), (6,)),
    ("RFFT", (2, 3, 5), (2, 3, 5)), ("IRFFT", (2, 3, 3), (3, 5)), ("IRFFT", (4,), (6,))])
def test_lax_fft_matches_jax(kind, shape, lengths):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    if kind != "RFFT":
        x = x + 1j * rng.standard_normal(shape)
    jk = getattr(jax.lax.FftType, kind)
    y = ft.lax.fft(x, kind, lengths)
    yj = np.asarray(jax.lax.fft(jnp.asarray(x), jk, lengths))
    np.testing.assert_allclose(y, yj, rtol=1e-12, atol=1e-12)
    u = rng.standard_normal(yj.shape) * (1 - 1j if np.iscomplexobj(yj) else 1)
    (ct,) = ft.vjp(lambda a: ft.lax.fft(a, kind, lengths), x)[1](u)
    (ctj,) = jax.vjp(lambda a: jax.lax.fft(a, jk, lengths), jnp.asarray(x))[1](jnp.asarray(u))
    np.testing.assert_allclose(ct, np.asarray(ctj), rtol=1e-11, atol=1e-11)


# -- image ----------------------------------------------------------------------------------


_METHODS = ["nearest", "linear", "lanczos3", "lanczos5", "cubic", "cubic-pytorch", "area"]


@pytest.mark.parametrize("method", _METHODS)
def test_resize_and_scale_and_translate_match_jax(method):
    jax = _jax()
    jnp = jax.numpy
    import jax.image as ji

    from functrans import image as fi
    rng = np.random.default_rng(_METHODS.index(method))
    x = rng.standard_normal((2, 5, 4))
    for out, aa in (((2, 3, 7), True), ((1, 8, 1), False)):
        u = rng.standard_normal(out)
        got = fi.resize(x, out, method, antialias=aa)
        want = np.asarray(ji.resize(jnp.asarray(x), out, method, antialias=aa))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        if not aa:
            continue
        g = ft.grad(lambda a: fnp.sum(fi.resize(a, out, method, antialias=aa) * u))(x)
        gj = jax.grad(lambda a: jnp.sum(ji.resize(a, out, method, antialias=aa) * u))(
            jnp.asarray(x))
        np.testing.assert_allclose(g, np.asarray(gj), rtol=1e-11, atol=1e-12)
    if method == "nearest":
        return
    s, t = np.array([0.63, 1.7]), np.array([0.31, -0.45])
    out = (2, 4, 6)
    u = rng.standard_normal(out)

    def loss(a, s, t):
        return fnp.sum(fi.scale_and_translate(a, out, (1, 2), s, t, method) * u)

    def loss_j(a, s, t):
        return jnp.sum(ji.scale_and_translate(a, out, (1, 2), s, t, method) * u)
    np.testing.assert_allclose(loss(x, s, t), float(loss_j(x, s, t)), rtol=1e-12)
    g = ft.grad(loss, argnums=(0, 1, 2))(x, s, t)
    gj = jax.grad(loss_j, argnums=(0, 1, 2))(jnp.asarray(x), jnp.asarray(s), jnp.asarray(t))
    for a, b in zip(g, gj):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-9, atol=1e-10)
    h = 1e-6
    for i in range(2):
        e = h * np.eye(2)[i]
        fd = (loss(x, s + e, t) - loss(x, s - e, t)) / (2 * h)
        np.testing.assert_allclose(g[1][i], fd, rtol=1e-5, atol=1e-7)


# -- stax and optimizers --------------------------------------------------------------------


def test_stax_network_matches_jax_in_its_parameters_values_and_gradients():
    # (glorot_normal's normals agree with JAX's to rounding, as functrans.random says)
    jax = _jax()
    jnp = jax.numpy
    from jax.example_libraries import stax as js

    from functrans import random as fr
    from functrans.example_libraries import stax as fs

    def net(S):
        return S.serial(S.Conv(3, (2, 2), strides=(1, 2), padding="SAME"), S.BatchNorm(),
                        S.Relu, S.AvgPool((2, 2), strides=(1, 1), padding="SAME"),
                        S.FanOut(2), S.parallel(S.Identity, S.Elu), S.FanInSum, S.Flatten,
                        S.Dense(3), S.LogSoftmax)
    (fi, fa), (ji, ja) = net(fs), net(js)
    shape = (2, 5, 6, 2)
    fo, fp = fi(fr.PRNGKey(0), shape)
    jo, jp = ji(jax.random.PRNGKey(0), shape)
    assert tuple(fo) == tuple(jo)
    fl, jl = jax.tree_util.tree_leaves(fp), jax.tree_util.tree_leaves(jp)
    assert len(fl) == len(jl)
    for a, b in zip(fl, jl):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-13, atol=1e-15)
    x = np.random.default_rng(1).standard_normal(shape)
    np.testing.assert_allclose(fa(fp, x), np.asarray(ja(jp, jnp.asarray(x))), rtol=1e-12,
                               atol=1e-13)
    u = np.random.default_rng(2).standard_normal(tuple(jo))
    g = ft.grad(lambda p: fnp.sum(fa(p, x) * u))(fp)
    gj = jax.grad(lambda p: jnp.sum(ja(p, jnp.asarray(x)) * u))(jp)
    for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(gj)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, args", [
    ("nesterov", (0.01, 0.9)), ("adagrad", (0.1,)), ("rmsprop_momentum", (0.05,)),
    ("adamax", (0.1,)), ("sm3", (0.1,)), ("adam", ("inverse_time_decay", 0.1, 2, 0.5, True)),
    ("adam", ("polynomial_decay", 0.1, 4, 0.01, 2.0))])
def test_optimizer_trajectories_match_jax(name, args):
    jax = _jax()
    jnp = jax.numpy
    from jax.example_libraries import optimizers as jo

    from functrans.example_libraries import optimizers as fo
    if isinstance(args[0], str):
        fargs, jargs = (getattr(fo, args[0])(*args[1:]),), (getattr(jo, args[0])(*args[1:]),)
    else:
        fargs = jargs = args
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    p0 = {"w": rng.standard_normal(3), "b": rng.standard_normal(()),
          "m": rng.standard_normal((2, 3))}

    def loss(p, m=fnp):
        return m.sum(m.sin(p["w"] @ A) ** 2) + m.sum(p["b"] ** 4) + m.sum(p["m"] ** 2)
    fi, fu, fg = getattr(fo, name)(*fargs)
    ji, ju, jg = getattr(jo, name)(*jargs)
    fs, js = fi(p0), ji(jax.tree_util.tree_map(jnp.asarray, p0))
    for i in range(4):
        fs = fu(i, ft.grad(loss)(fg(fs)), fs)
        js = ju(i, jax.grad(lambda p: loss(p, jnp))(jg(js)), js)
    for k in p0:
        np.testing.assert_allclose(fg(fs)[k], np.asarray(jg(js)[k]), rtol=1e-11, atol=1e-13)


# -- scipy.optimize.minimize ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["BFGS", "l-bfgs-experimental-do-not-rely-on-this"])
def test_minimize_derivative_of_the_minimiser_in_its_arguments(method):
    # argmin 1/2 x^T A x - b^T x = A^{-1} b, so d x*/db = A^{-1}, in both modes
    from functrans.scipy.optimize import minimize
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 3))
    A = A @ A.T + 3 * np.eye(3)
    b = rng.standard_normal(3)

    def solve(b):
        return minimize(lambda x, b: 0.5 * x @ (A @ x) - b @ x, np.zeros(3), (b,),
                        method=method, tol=1e-10).x
    np.testing.assert_allclose(solve(b), np.linalg.solve(A, b), atol=1e-9)
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(jac(solve)(b), np.linalg.inv(A), atol=1e-7)


def test_minimize_rosenbrock_converges_on_every_backend(backend):
    from functrans.scipy.optimize import minimize

    def rosen(x):
        return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    for method in ("BFGS", "l-bfgs-experimental-do-not-rely-on-this"):
        r = minimize(rosen, backend.asarray([-1.2, 1.0, 0.5]), method=method)
        assert bool(backend.to_numpy(r.success))
        np.testing.assert_allclose(backend.to_numpy(r.x), np.ones(3), atol=1e-6)


# -- jet ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tan", "atanh", "erfc", "xpowx", "sort"])
def test_jet_matches_derivatives_along_the_curve(name):
    jax = _jax()
    jnp = jax.numpy
    from jax.experimental.jet import jet as jjet

    from functrans.experimental.jet import jet
    fs = {
        "tan": (fnp.tan, jnp.tan, 0.5), "atanh": (fnp.atanh, jnp.arctanh, 0.2),
        "acosh": (fnp.acosh, jnp.arccosh, 1.7),
        "erfc": (ft.scipy.special.erfc, jax.scipy.special.erfc, 0.4),
        "xpowx": (lambda x: x ** x, lambda x: x ** x, 1.3),
        "lgamma": (ft.scipy.special.gammaln, jax.scipy.special.gammaln, 2.3),
        "logaddexp": (lambda x: fnp.logaddexp(x, 2 * x), lambda x: jnp.logaddexp(x, 2 * x), 0.3),
        "sort": (lambda x: fnp.sort(fnp.stack([x, x * x, -x]))[1],
                 lambda x: jnp.sort(jnp.stack([x, x * x, -x]))[1], 0.7),
        "log_softmax": (lambda x: ft.nn.log_softmax(fnp.stack([x, x * x, -x]))[0],
                        lambda x: jax.nn.log_softmax(jnp.stack([x, x * x, -x]))[0], 0.7)}
    f, fj, x0 = fs[name]
    terms = [0.9, -0.4, 1.3]
    _, ys = jet(f, (x0,), (terms,))

    def curve(t):
        return fj(x0 + sum(c * t ** (k + 1) / math.factorial(k + 1) for k, c in enumerate(terms)))
    g, want = curve, []
    for _ in terms:
        g = jax.grad(g)
        want.append(float(g(0.0)))
    np.testing.assert_allclose([float(v) for v in ys], want, rtol=1e-9, atol=1e-10)
    if name in ("atanh", "erfc"):  # (JAX's jet fails on tan and logaddexp)
        _, yj = jjet(fj, (x0,), (terms,))
        np.testing.assert_allclose([float(v) for v in ys], [float(v) for v in yj], rtol=1e-9)


# -- random ---------------------------------------------------------------------------------


def test_random_rejection_samplers_follow_their_distributions():
    stats = pytest.importorskip("scipy.stats")
    from functrans import random as fr
    k = fr.PRNGKey(3)
    n = 20000
    for sample, dist in ((fr.gamma(k, 0.01, (n,)), stats.gamma(0.01)),
                         (fr.gamma(k, 50.0, (n,), dtype="float32"), stats.gamma(50.0)),
                         (fr.beta(k, 0.4, 2.5, (n,)), stats.beta(0.4, 2.5)),
                         (fr.t(k, 2.5, (n,)), stats.t(2.5))):
        assert stats.kstest(np.asarray(sample, dtype=np.float64), dist.cdf).pvalue > 1e-3
    for lam in (3.0, 10.0, 300.0):
        x = np.asarray(fr.poisson(k, lam, (n,)))
        assert abs(x.mean() - lam) < 5 * math.sqrt(lam / n)
    x = np.asarray(fr.binomial(k, 1000.0, 0.9, (n,)))
    assert abs(x.mean() - 900.0) < 5 * math.sqrt(90.0 / n)
    # the gamma sample's derivative in its shape is the implicit one, -dF/da / f
    a, x = 0.7, float(np.asarray(fr.gamma(k, 0.7, (5,)))[3])
    g = ft.grad(lambda a: fr.gamma(k, a, (5,))[3])(a)
    h = 1e-6
    want = -(stats.gamma(a + h).cdf(x) - stats.gamma(a - h).cdf(x)) / (2 * h) / \
        stats.gamma(a).pdf(x)
    np.testing.assert_allclose(g, want, rtol=1e-6)


def test_dropout_rate_checked_and_rate_zero_has_derivative_zero():
    from functrans import random as fr
    from functrans.example_libraries import stax as fs
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="must lie in"):
            fs.Dropout(bad)
    _, apply = fs.Dropout(0.0)
    x = np.ones(4)
    np.testing.assert_array_equal(apply((), x, rng=fr.PRNGKey(1)), np.zeros(4))
    for way in (ft.grad, lambda f: ft.jit(ft.grad(f))):
        g = way(lambda v: fnp.sum(apply((), v, rng=fr.PRNGKey(1)) * v))(x)
        np.testing.assert_array_equal(g, np.zeros(4))  # was nan (1 / 0 in the kept branch)
    _, keep_all = fs.Dropout(1)
    np.testing.assert_array_equal(keep_all((), x, rng=fr.PRNGKey(1)), x)


def test_odeint_infinite_time_is_nan_not_an_endless_loop(backend):
    # functrans.ode's mxstep defaults to inf: a target at +-inf looped forever
    from functrans.ode import odeint
    y0 = backend.asarray([1.0, 2.0])
    for t, finite in (([0.0, 1.0, np.inf], 2), ([0.0, -np.inf], 1)):
        ys = backend.to_numpy(odeint(lambda y, s: -y, y0, backend.asarray(t)))
        assert np.isnan(ys[finite:]).all()
        np.testing.assert_allclose(ys[:finite], np.array([1.0, 2.0]) * np.exp(
            -np.abs(np.array(t[:finite])))[:, None], rtol=1e-7)
    ys = ft.jit(lambda tt: odeint(lambda y, s: -y, y0, tt))(backend.asarray([0.0, np.inf]))
    assert np.isnan(backend.to_numpy(ys)[1]).all()


@pytest.mark.parametrize("kw", [{"hmax": -1.0}, {"h0": float("nan")}, {"mxstep": -3},
                                {"hmax": "a"}, {"h0": float("inf")}])
def test_scipy_odeint_refuses_bad_step_settings(kw):
    # a negative hmax made every time after t[0] nan, silently
    from functrans.scipy.integrate import odeint
    with pytest.raises(ValueError, match="non-negative finite"):
        odeint(lambda y, t: -y, np.ones(2), np.array([0.0, 1.0]), **kw)
    ys = odeint(lambda y, t: -y, np.ones(2), np.array([0.0, 1.0]), hmax=np.float32(0.1),
                h0=0.01, mxstep=np.int64(50))
    np.testing.assert_allclose(ys[-1], np.exp(-1.0) * np.ones(2), rtol=1e-7)
