"""Review of session 13's numerical modules (functrans/ode.py, functrans/scipy/integrate.py,
functrans/scipy/optimize.py, functrans/lax_ops.py): regression tests for what the review
found (non-array odeint args, non-monotonic times, lax.rem at the integer minimum,
shift_right_arithmetic's dtype, pad cropping into its own padding, collapse with a negative
stop, clamp's derivatives at the bounds, abs of unsigned integers, logistic of complex numbers)
and checks of behaviour the review confirmed against SciPy and JAX."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.ode import odeint as jodeint
from functrans.scipy import integrate as fi
from functrans.scipy.optimize import minimize

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
jlax = jax.lax


def _same(got, want, tol=1e-12):
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if w.dtype.kind in "fc":
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, w)


T3 = np.linspace(0.0, 1.0, 3)


# -- odeint: arguments that are not arrays -------------------------------------------------------


def test_scipy_odeint_passes_strings_and_functions_to_func(backend):
    # SciPy hands any object in args to func; they used to reach the solver's custom_vjp
    # and fail there (UnsupportedBackendError: builtins.str belongs to no backend)
    def f(y, t, how, fn, k):
        assert how == "decay" and fn is fnp.negative
        return k * fn(y)
    y0 = backend.asarray(np.array([1.0, 2.0]))
    got = fi.odeint(f, y0, backend.asarray(T3), args=("decay", fnp.negative, 2.0))
    assert backend.is_own(got)
    want = si.odeint(lambda y, t: -2.0 * y, [1.0, 2.0], T3, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-7)


def test_jax_odeint_static_args_with_derivatives_jit_and_vmap():
    def f(y, t, how, a):
        return -a * y if how == "decay" else a * y
    y0 = np.array([1.0])

    def last(a):
        return fnp.sum(jodeint(f, y0, T3, "decay", a)[-1])
    np.testing.assert_allclose(last(np.array(2.0)), np.exp(-2.0), rtol=1e-7)
    np.testing.assert_allclose(ft.grad(last)(np.array(2.0)), -np.exp(-2.0), rtol=1e-6)
    np.testing.assert_allclose(ft.jit(last)(np.array(2.0)), np.exp(-2.0), rtol=1e-7)
    np.testing.assert_allclose(ft.vmap(last)(np.array([1.0, 2.0])), np.exp([-1.0, -2.0]),
                               rtol=1e-7)


# -- odeint: times ------------------------------------------------------------------------------


@pytest.mark.parametrize("t, bad", [([0.0, 2.0, 1.0], [2]), ([0.0, 2.0, 1.0, 3.0], [2]),
                                    ([0.0, -1.0, -0.5, -2.0], [2]), ([2.0, 0.0, 1.0], [2]),
                                    ([0.0, 1.0, 1.0, 2.0], [])])
def test_odeint_time_behind_an_earlier_one_is_nan(t, bad):
    # it used to extrapolate the last step's interpolant: exp(-1) came out as 0.3664
    t = np.asarray(t)
    got = fi.odeint(lambda y, s: -y, [1.0], t)[:, 0]
    want = np.exp(-(t - t[0]))
    assert np.all(np.isnan(got[bad]))
    ok = np.setdiff1d(np.arange(len(t)), bad)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-7)


def test_odeint_decreasing_times_and_their_derivatives():
    a, y0, t = 1.3, np.array([0.9, -0.4]), np.array([2.0, 1.5, 0.7, 0.0])
    w = np.arange(8.0).reshape(4, 2)

    def ref(a, y0, t):
        return si.solve_ivp(lambda s, y: -a * np.sin(y) + np.sin(3 * s), (t[0], t[-1]), y0,
                            method="DOP853", t_eval=t, rtol=1e-13, atol=1e-13).y.T

    def loss(y0, t, a):
        return fnp.sum(w * jodeint(lambda y, s, a: -a * fnp.sin(y) + fnp.sin(3 * s), y0, t, a))
    np.testing.assert_allclose(jodeint(lambda y, s, a: -a * fnp.sin(y) + fnp.sin(3 * s),
                                       y0, t, a), ref(a, y0, t), atol=1e-7)
    g = ft.grad(loss, argnums=(0, 1, 2))(y0, t, np.asarray(a))
    eps = 1e-5
    for k, (x, fx) in enumerate([(y0, lambda v: ref(a, v, t)), (t, lambda v: ref(a, y0, v)),
                                 (np.asarray(a), lambda v: ref(float(v), y0, t))]):
        fd = np.zeros(np.shape(x))
        for i in np.ndindex(np.shape(x)):
            e = np.zeros(np.shape(x))
            e[i] = eps
            fd[i] = (np.sum(w * fx(x + e)) - np.sum(w * fx(x - e))) / (2 * eps)
        np.testing.assert_allclose(g[k], fd, rtol=1e-5, atol=1e-5)


def test_odeint_repeated_times_have_finite_derivatives():
    # JAX's adjoint gives nan for the y0 and args cotangents here; ours are finite and agree
    # with JAX's t cotangent where JAX's is finite
    t = np.array([0.0, 1.0, 1.0, 2.0])

    def loss(y0, t, a):
        return fnp.sum(jodeint(lambda y, s, a: -a * y + fnp.sin(s), y0, t, a) ** 2)
    g = ft.grad(loss, argnums=(0, 1, 2))(np.array([1.0, 2.0]), t, np.asarray(0.7))
    assert all(np.all(np.isfinite(np.asarray(v))) for v in g)
    from jax.experimental.ode import odeint as jax_odeint
    gj = jax.grad(lambda t: jnp.sum(jax_odeint(lambda y, s, a: -a * y + jnp.sin(s),
                                               jnp.array([1.0, 2.0]), t, 0.7) ** 2))(t)
    np.testing.assert_allclose(g[1][1:], np.asarray(gj)[1:], rtol=1e-5)


# -- quadrature ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("axis", [0, -1])
def test_quadrature_matches_scipy(n, axis):
    rng = np.random.default_rng(n)
    y = rng.normal(size=(n, n + 1)) if axis == 0 else rng.normal(size=(n + 1, n))
    x1 = np.cumsum(rng.uniform(0.1, 1.0, size=n))
    xf = np.cumsum(rng.uniform(0.1, 1.0, size=y.shape), axis=axis)
    for kw in (dict(dx=0.4), dict(x=x1), dict(x=xf)):
        _same(fi.simpson(y, axis=axis, **kw), si.simpson(y, axis=axis, **kw))
        _same(fi.trapezoid(y, axis=axis, **kw), si.trapezoid(y, axis=axis, **kw))
        for init in (None, 0):
            _same(fi.cumulative_trapezoid(y, axis=axis, initial=init, **kw),
                  si.cumulative_trapezoid(y, axis=axis, initial=init, **kw))


def test_simpson_repeated_points_match_scipy():
    for x in ([0.0, 1.0, 1.0, 2.0, 3.0, 3.5], [0.0, 1.0, 2.0, 2.0], [0.0, 0.0, 1.0, 2.0],
              [0.0, 1.0, 2.0, 3.0, 3.0]):
        x = np.asarray(x)
        _same(fi.simpson(np.sin(x), x=x), si.simpson(np.sin(x), x=x))


# -- minimize -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["BFGS", "l-bfgs-experimental-do-not-rely-on-this"])
def test_minimize_fields_at_the_optimum_and_at_maxiter(method):
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -1.0])
    xs = np.linalg.solve(a, b)
    r = minimize(lambda x: 0.5 * x @ a @ x - b @ x, xs, method=method)
    assert int(r.nit) == 0 and int(r.nfev) == 1 and int(r.status) == 0 and bool(r.success)
    rosen = lambda x: fnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)  # noqa
    r = minimize(rosen, np.array([-1.2, 1.0]), method=method, options=dict(maxiter=3))
    assert int(r.nit) == 3 and int(r.status) == 1 and not bool(r.success)
    r = minimize(rosen, np.array([-1.2, 1.0]), method=method)
    assert bool(r.success) and np.abs(np.asarray(r.x) - 1).max() < 1e-6


# -- lax: fixes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_rem_at_the_integer_minimum_matches_jax(dtype):
    # rem was fnp.fmod, whose |x| overflows at the minimum: int8 -128 rem 127 gave -126
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    x = np.array([lo, lo, lo, -1, lo, hi, 7, -7, 0, lo], dtype)
    y = np.array([hi, 3, -1, lo, 0, lo, -2, 2, lo, lo], dtype)
    _same(lax.rem(x, y), jlax.rem(x, y))
    _same(lax.div(x, y), jlax.div(x, y))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_shift_right_arithmetic_by_a_python_int_keeps_the_dtype(dtype):
    v = np.array([np.iinfo(dtype).min, -1 if dtype != np.uint8 else 200, 5, np.iinfo(dtype).max],
                 dtype)
    for s in (0, 3, np.iinfo(dtype).bits - 1, np.iinfo(dtype).bits, 100):
        _same(lax.shift_right_arithmetic(v, s), jlax.shift_right_arithmetic(v, dtype(s)))


@pytest.mark.parametrize("config", [[(2, -4, 0), (0, 0, 0)], [(-4, 2, 0), (1, 0, 1)],
                                    [(3, -5, 1), (-1, 3, 2)], [(0, 0, 0), (4, -6, 0)],
                                    [(-2, -2, 2), (-5, 1, 1)]])
def test_pad_cropping_into_its_own_padding_matches_jax(config):
    # (2, -4) on 3 elements leaves one padding value (shape 1); it gave 2
    x = np.arange(1.0, 13.0).reshape(3, 4)
    _same(lax.pad(x, -9.0, config), jlax.pad(x, -9.0, config))
    w = np.asarray(jlax.pad(x, -9.0, config)) * 0.5 + 1.0
    g = ft.grad(lambda x, p: fnp.sum(lax.pad(x, p, config) * w), argnums=(0, 1))(x, 0.3)
    gj = jax.grad(lambda x, p: jnp.sum(jlax.pad(x, p, config) * w), argnums=(0, 1))(x, 0.3)
    _same(g[0], gj[0])
    _same(g[1], gj[1])


def test_collapse_with_a_negative_stop_matches_jax():
    x = np.ones((2, 3, 4, 5))
    for start, stop in [(0, -1), (1, -1), (-3, -1), (0, -2), (-2, None), (1, 3)]:
        _same(lax.collapse(x, start, stop), jlax.collapse(x, start, stop))


def test_clamp_derivatives_match_jax_at_the_bounds():
    # fnp.maximum/minimum share a tie's derivative; JAX gives none at the bounds
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.0, 0.0])
    lo, hi = np.full(8, -0.5), np.full(8, 1.0)
    hi[6] = -3.0  # inverted bounds
    w = np.arange(1.0, 9.0)

    def loss(lib, ops):
        return lambda lo, x, hi: lib.sum(ops.clamp(lo, x, hi) * w)
    g = ft.grad(loss(fnp, lax), argnums=(0, 1, 2))(lo, x, hi)
    gj = jax.grad(loss(jnp, jlax), argnums=(0, 1, 2))(lo, x, hi)
    for a, b in zip(g, gj):
        _same(a, b)
    _same(lax.clamp(lo, x, hi), jlax.clamp(lo, x, hi))
    _same(ft.grad(lambda x: fnp.sum(lax.clamp(0.0, x, 1.0)))(np.array([0.0, 0.5, 1.0])),
          np.array([0.0, 1.0, 0.0]))
    _same(lax.clamp(0.0, np.array([np.nan, 2.0], np.float32), 1.0),
          np.array([np.nan, 1.0], np.float32))
    _same(lax.clamp(np.int32(0), np.array([-3, 1, 9], np.int32), np.int32(5)),
          jlax.clamp(np.int32(0), np.array([-3, 1, 9], np.int32), np.int32(5)))


def test_abs_refuses_unsigned_and_logistic_takes_complex():
    with pytest.raises(TypeError, match="lax.abs does not accept dtype uint8"):
        lax.abs(np.array([1, 2], np.uint8))
    z = np.array([0.3 + 0.2j, -1.0 + 2.0j, 0.0j])
    _same(lax.logistic(z), jlax.logistic(z))
    _same(lax.logistic(z.astype(np.complex64)), jlax.logistic(z.astype(np.complex64)),
          tol=1e-6)
