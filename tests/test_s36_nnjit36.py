"""Session 36, helper nnjit36: softmax / log_softmax's tangent maps as one primitive
(``softmax_tangent``: jit(grad) back to the cost of the plain formula, with the exact nan / 0
of the slices without a derivative), and nn activations whose derivatives disagreed between
modes or were wrong at edge points (log1mexp at 0 and below, mish, silu and gelu(erf) at
huge and infinite x, mish's second derivative for x >= 10).

References: the closed forms of the derivatives (mpmath where they cancel), JAX x64 for the
softmax values and gradients, and the one-sided limits at the ends of the domain."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.scipy.special as fss
from functrans.primitives.softmax import softmax_tangent

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = math.inf, math.nan


def _arr(backend, v, dtype=np.float64):
    return backend.asarray(np.asarray(v, dtype=dtype), dtype=dtype)


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


def _same(a, b, rtol, atol=1e-300):
    """Equal where both are nan or equal infinities, else within rtol (and atol)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert (np.isnan(a) == np.isnan(b)).all(), (a, b)
    inf_ = np.isinf(a) | np.isinf(b)
    np.testing.assert_array_equal(a[inf_], b[inf_])
    fin = ~(np.isnan(a) | inf_)
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=atol)


# -- the primitive -----------------------------------------------------------------------------


def _formula(kind, t, a, b):
    if kind == "softmax":
        return a * (t - (a * t).sum(-1, keepdims=True))
    if kind == "log":
        return t - (a * t).sum(-1, keepdims=True) / b
    return t - a * (t.sum(-1, keepdims=True) / b)


@pytest.mark.parametrize("kind", ["softmax", "log", "log_t"])
def test_softmax_tangent_values_and_bad_slices(backend, kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    e = np.exp(x - x.max(-1, keepdims=True))
    s = e.sum(-1, keepdims=True)
    y = e / s
    t = rng.standard_normal((4, 5))
    t[2] = 0.0   # a bad slice with no tangent: exactly 0
    if kind == "softmax":
        a, b = y.copy(), np.zeros((4, 1))
        b[[1, 2]] = nan
        a[[1, 2]] = nan
    else:
        a, b = e.copy(), s.copy()
        b[1], b[2] = inf, 0.0
        a[1, 0] = inf
    want = _formula(kind, t, np.where(np.isfinite(a), a, 0.0), b)
    want[1] = nan
    want[2] = 0.0
    for dtype, rtol, atol in ((np.float64, 1e-14, 1e-15), (np.float32, 2e-6, 2e-6)):
        got = softmax_tangent(_arr(backend, t, dtype), _arr(backend, a, dtype),
                              _arr(backend, b, dtype), kind=kind, axes=(1,))
        assert got.dtype == _arr(backend, t, dtype).dtype
        _same(_np(backend, got), want, rtol, atol)


@pytest.mark.parametrize("kind", ["softmax", "log", "log_t"])
def test_softmax_tangent_into_kept_memory_under_jit(kind):
    # Large arrays (graph evaluation computes them into memory it keeps, over a dying
    # operand's where it may): the same values as the formula, call after call.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 300))
    e = np.exp(x - x.max(-1, keepdims=True))
    s = e.sum(-1, keepdims=True)
    a, b = (e / s, np.zeros_like(s)) if kind == "softmax" else (e, s)

    def f(u):
        t = fnp.sin(u)   # (dies at the primitive: its memory may take the result)
        return softmax_tangent(t, a, b, kind=kind, axes=(1,)) * 2.0
    jf = ft.jit(f)
    want = 2.0 * _formula(kind, np.sin(x), a, b)
    for _ in range(3):
        np.testing.assert_allclose(jf(x), want, rtol=1e-13, atol=1e-14)


def test_softmax_tangent_refuses_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        softmax_tangent(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 1)), kind="lse",
                        axes=(1,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_jit_grad_is_one_equation_after_the_forward_pass(name):
    # the reverse pass of (f(x) * w).sum() is one softmax_tangent (was a select, products,
    # a linear_call and a mul_add: 11-14 % slower than the plain formula, 50 % for
    # log_softmax at (512, 1000))
    f = getattr(fnn, name)
    w = np.arange(12.0).reshape(3, 4)
    g = ft.make_graph(ft.grad(lambda x: (f(x) * w).sum()))(np.ones((3, 4)))
    names = [e[0].name for e in g.eqns]
    assert names.count("softmax_tangent") == 1
    assert not {"linear_call", "select", "mul_add", "mul_sz"} & set(names[names.index(
        "softmax_tangent"):])


_FUNS = {
    "nn.softmax": fnn.softmax,
    "nn.log_softmax": fnn.log_softmax,
    "nn.softmax where": lambda v: fnn.softmax(v, where=np.array([True, False, True, True])),
    "nn.log_softmax where": lambda v: fnn.log_softmax(
        v, where=np.array([True, False, True, True])),
    "special.softmax axis 0": lambda v: fss.softmax(v, axis=0),
    "special.log_softmax all": lambda v: fss.log_softmax(v),
}


def _finite_loss(f, w):
    # (entries a mask leaves out, -inf in log_softmax, out of the sum)
    return lambda v: fnp.sum(fnp.where(fnp.isinf(f(v)), 0.0, f(v)) * w)


@pytest.mark.parametrize("name", list(_FUNS))
def test_second_order_through_jitted_graphs(name):
    # the primitive's own derivative (in its coefficients y, e, s): jit(hessian), and the
    # transforms applied to a jitted gradient, against the eager Hessian
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((3, 4))
    loss = _finite_loss(_FUNS[name], w)
    h = np.asarray(ft.hessian(loss)(x))
    fd = np.stack([(ft.grad(loss)(x + 1e-6 * d) - ft.grad(loss)(x - 1e-6 * d)) / 2e-6
                   for d in np.eye(12).reshape(12, 3, 4)], axis=-1).reshape(h.shape)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
    for way in (ft.jit(ft.hessian(loss)), ft.jacfwd(ft.jit(ft.grad(loss))),
                ft.jacrev(ft.jit(ft.grad(loss))), ft.jit(ft.jacrev(ft.jacrev(loss)))):
        np.testing.assert_allclose(way(x), h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_jitted_gradient_differentiated_keeps_bad_rows_apart(name):
    # a +inf row: the finite rows' Jacobian rows as the eager Hessian's, 0 toward the bad
    # row's inputs; softmax's whole Jacobian as the eager one (jacfwd of jit(grad) gave nan
    # across the bad row's Jacobian rows, jacrev 0 in its nan block). (log_softmax's bad
    # rows still meet exp(inf) * 0 in the jitted graph: see the report.)
    f = getattr(fnn, name)
    x = np.array([[inf, 0.0, 1.0], [1.0, 2.0, -0.5], [0.5, 0.0, 1.0]])
    w = np.arange(9.0).reshape(3, 3) + 1.0
    loss = _finite_loss(f, w)
    h = np.asarray(ft.hessian(loss)(x)).reshape(9, 9)
    assert np.isnan(h[:3, :3]).all()
    ways = [ft.jacfwd(ft.jit(ft.grad(loss)))]
    if name == "softmax":
        ways.append(ft.jacrev(ft.jit(ft.grad(loss))))
    for way in ways:
        got = np.asarray(way(x)).reshape(9, 9)
        np.testing.assert_array_equal(got[3:, :3], 0.0)
        np.testing.assert_allclose(got[3:, 3:], h[3:, 3:], rtol=1e-12, atol=1e-15)
        if name == "softmax":
            _same(got, h, 1e-12)


def test_softmax_family_against_jax_under_jit():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 7)) * 3.0
    w = rng.standard_normal((5, 7))
    for f, jf in ((fnn.softmax, jax.nn.softmax), (fnn.log_softmax, jax.nn.log_softmax)):
        np.testing.assert_allclose(ft.jit(f)(x), jf(x), rtol=1e-14, atol=1e-16)
        g = ft.jit(ft.grad(lambda v: (f(v) * w).sum()))(x)
        jg = jax.grad(lambda v: (jf(v) * w).sum())(x)
        np.testing.assert_allclose(g, jg, rtol=1e-12, atol=1e-15)
        gv = ft.jit(ft.vmap(ft.grad(lambda r, wr: (f(r) * wr).sum())))(x, w)
        np.testing.assert_allclose(gv, jg, rtol=1e-12, atol=1e-15)


# -- activations: every mode alike, the limits at the ends ------------------------------------


def _first(f, x):
    """The derivative of the elementwise ``f`` at each entry of ``x``, in several modes."""
    one = fnp.ones_like(x)
    return {"jvp": ft.jvp(f, (x,), (one,))[1],
            "vjp": ft.vjp(f, x)[1](one)[0],
            "vmap(grad)": ft.vmap(ft.grad(f))(x),
            "jit(vmap(grad))": ft.jit(ft.vmap(ft.grad(f)))(x),
            "diag(jacfwd)": fnp.diagonal(ft.jacfwd(f)(x)),
            "diag(jacrev)": fnp.diagonal(ft.jacrev(f)(x))}


def _second(f, x):
    one = fnp.ones_like(x)

    def d1(v):
        return ft.jvp(f, (v,), (fnp.ones_like(v),))[1]
    return {"vmap(grad(grad))": ft.vmap(ft.grad(ft.grad(f)))(x),
            "jvp(jvp)": ft.jvp(d1, (x,), (one,))[1],
            "vjp(jvp)": ft.vjp(d1, x)[1](one)[0],
            "vmap(hessian)": ft.vmap(ft.hessian(f))(x),
            "vmap(jacrev(jacrev))": ft.vmap(ft.jacrev(ft.jacrev(f)))(x),
            "jit(vmap(grad(grad)))": ft.jit(ft.vmap(ft.grad(ft.grad(f))))(x)}


_ACTIVATIONS = {n: getattr(fnn, n) for n in (
    "relu", "relu6", "sigmoid", "softplus", "soft_sign", "silu", "log_sigmoid", "leaky_relu",
    "elu", "celu", "selu", "hard_tanh", "hard_sigmoid", "hard_silu", "mish", "squareplus",
    "sparse_plus", "sparse_sigmoid", "log1mexp", "tanh")}
_ACTIVATIONS["gelu_tanh"] = lambda v: fnn.gelu(v, approximate=True)
_ACTIVATIONS["gelu_erf"] = lambda v: fnn.gelu(v, approximate=False)


def _edge_points(dtype):
    fi = np.finfo(dtype)
    return np.array([0.0, -0.0, inf, -inf, nan, fi.smallest_subnormal, -fi.smallest_subnormal,
                     fi.tiny, fi.max, -fi.max, 1e20, -1e20, 1.0, -1.0, 3.0, -3.0, 6.0, 30.0,
                     -30.0, 40.0, -40.0, 0.5, math.log(2.0), 700.0, -700.0], dtype=dtype)


# The lead kept silu and gelu(erf) as plain products (session 36): their custom rules gave
# the limits at +-inf and at the largest float (nan there by the product rule: loud, not
# wrong) for 1.5-1.75x their second derivatives' cost and 15-25 % of a first-order one.
_PLAIN_PRODUCTS = {"silu", "gelu_erf"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(_ACTIVATIONS))
def test_activation_modes_agree_at_edge_points(name, dtype):
    # (mish and gelu(erf) gave nan in reverse mode at 1.8e308 / 3e38 where forward mode
    # gave 0; log1mexp nan vs -inf at -0.0, 1.0 vs -0.0 below 0; silu and mish nan at +inf)
    f = _ACTIVATIONS[name]
    x = _edge_points(dtype)
    if name in _PLAIN_PRODUCTS:
        x = x[np.isfinite(x) & (np.abs(x) < np.finfo(dtype).max)]
    rtol = 1e-11 if dtype == np.float64 else 2e-5
    for order in (_first, _second):
        got = {k: np.asarray(v) for k, v in order(f, x).items()}
        ref_name, ref = next(iter(got.items()))
        for k, v in got.items():
            assert v.dtype == dtype, (k, v.dtype)
            try:
                _same(v, ref, rtol)
            except AssertionError as e:
                raise AssertionError(f"{name} {order.__name__}: {k} vs {ref_name}") from e
        # nan where the value is nan, but at -inf (x * 0 there, JAX's value, whose
        # derivatives are the limits) and at nan for the piecewise functions (their
        # comparisons pick a branch for nan: relu'(nan) = 1; see the report)
        value = np.asarray(f(x))
        inside = np.isnan(value) & ~np.isinf(x)
        if name in _PIECEWISE:
            inside &= ~np.isnan(x)
        assert np.isnan(ref[inside]).all(), (name, x[inside], ref[inside])


_PIECEWISE = {"relu", "relu6", "leaky_relu", "hard_tanh", "hard_sigmoid", "hard_silu",
              "sparse_plus", "sparse_sigmoid"}


def test_log1mexp_at_the_end_of_its_domain(backend):
    # log(1 - exp(-x)): -inf at +-0 with the derivatives from inside the domain (u =
    # 1 / expm1(x) = +inf, -u (1 + u) = -inf, u (1 + u) (1 + 2 u) = +inf); nan below 0 and
    # at nan (grad gave a finite slope there: 1.0 at -700, -1.58 at -1)
    x = _arr(backend, [0.0, -0.0, -5e-324, -1.0, -700.0, nan, 5e-324, inf])
    f = fnn.log1mexp
    val = _np(backend, f(x))
    _same(val, [-inf, -inf, nan, nan, nan, nan, math.log(5e-324), 0.0], 1e-15)
    want = ([inf, inf, nan, nan, nan, nan, inf, 0.0],
            [-inf, -inf, nan, nan, nan, nan, -inf, 0.0])
    for order, w in zip((_first, _second), want):
        for k, v in order(f, x).items():
            _same(_np(backend, v), w, 0)
    g3 = ft.vmap(ft.grad(ft.grad(ft.grad(f))))(x)
    _same(_np(backend, g3), [inf, inf, nan, nan, nan, nan, inf, 0.0], 0)
    # an entry at 0 does not reach the others (inf * 0 of a zero tangent)
    j = _np(backend, ft.jacfwd(f)(_arr(backend, [0.0, 1.0])))
    np.testing.assert_array_equal(j, [[inf, 0.0], [0.0, 1.0 / np.expm1(1.0)]])
    np.testing.assert_array_equal(_np(backend, ft.jacrev(f)(_arr(backend, [0.0, 1.0]))), j)


def test_log1mexp_derivatives_accurate():
    x = np.array([1e-300, 1e-10, 1e-3, 0.3, 0.69, 0.7, 1.0, 5.0, 40.0, 300.0, 800.0])
    u = 1.0 / np.expm1(x)
    np.testing.assert_allclose(ft.vmap(ft.grad(fnn.log1mexp))(x), u, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(ft.grad(fnn.log1mexp)))(x), -u * (1.0 + u),
                               rtol=1e-15)
    x32 = x[1:-2].astype(np.float32)
    g32 = ft.vmap(ft.grad(fnn.log1mexp))(x32)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, 1.0 / np.expm1(x32.astype(np.float64)), rtol=3e-6)


def _mish_d2(x):
    import mpmath as mp
    x = mp.mpf(x)
    s = mp.log1p(mp.exp(x))
    p, r = 1 / (1 + mp.exp(-x)), 1 / (1 + mp.exp(x))
    return p * mp.sech(s) ** 2 * (2 + x * (r - 2 * p * mp.tanh(s)))


def test_mish_second_derivative_accurate():
    mp = pytest.importorskip("mpmath")
    xs = [-700.0, -40.0, -20.0, -2.0, -1.0, -1e-3, 0.0, 0.3, 1.0, 5.0, 10.0, 15.0, 20.0,
          30.0, 40.0, 100.0, 300.0]
    with mp.workdps(40):
        want = np.array([float(_mish_d2(v)) for v in xs])
    x = np.array(xs)
    # (through 1 - tanh^2: 3e-6 relative at 15, 1.3e-2 at 20, 0 from 20 on)
    for way in (ft.vmap(ft.grad(ft.grad(fnn.mish))), ft.vmap(ft.jacfwd(ft.jacrev(fnn.mish))),
                ft.jit(ft.vmap(ft.hessian(fnn.mish)))):
        np.testing.assert_allclose(way(x), want, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", ["mish", "gelu_tanh", "hard_silu"])
def test_x_times_saturating_factor_at_the_ends(backend, name):
    # derivative 1 at +inf and 1.8e308 (silu and mish: nan at +inf), 0 at the negative
    # ends; every second derivative 0 there (mish and gelu(erf): nan in reverse mode at
    # 1.8e308); the value at -inf stays nan (-inf * 0, JAX's)
    f = _ACTIVATIONS[name]
    big = np.finfo(np.float64).max
    x = _arr(backend, [inf, -inf, big, -big, 1e300, -1e300])
    assert np.isnan(_np(backend, f(x))[1])
    for k, v in _first(f, x).items():
        np.testing.assert_array_equal(_np(backend, v), [1.0, 0.0, 1.0, 0.0, 1.0, 0.0], k)
    for k, v in _second(f, x).items():
        np.testing.assert_array_equal(_np(backend, v), 0.0, k)


def test_silu_and_gelu_erf_derivatives_accurate():
    mp = pytest.importorskip("mpmath")
    xs = [-700.0, -40.0, -20.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 20.0, 39.0, 100.0]
    with mp.workdps(40):
        def sig(v):
            return 1 / (1 + mp.exp(-v))
        silu = [(float(sig(v) * (1 + v * sig(-v))),
                 float(sig(v) * sig(-v) * (2 + v * (sig(-v) - sig(v))))) for v in map(mp.mpf, xs)]
        gelu = [(float(mp.ncdf(v) + v * mp.npdf(v)), float(mp.npdf(v) * (2 - v * v)))
                for v in map(mp.mpf, xs)]
    x = np.array(xs)
    # (gelu(erf) is x * ndtr(x) since session 43: its slope's exp(-x^2 / 2) from x itself;
    # as 0.5 x erfc(-x / sqrt 2) it carried the rounding of x / sqrt 2 times 2 x^2, 2.8e-14
    # at |x| = 20)
    for f, want, rtol in ((fnn.silu, silu, 1e-15),
                          (lambda v: fnn.gelu(v, approximate=False), gelu, 2e-15)):
        want = np.array(want)
        np.testing.assert_allclose(ft.vmap(ft.grad(f))(x), want[:, 0], rtol=rtol,
                                   atol=1e-300)
        np.testing.assert_allclose(ft.vmap(ft.grad(ft.grad(f)))(x), want[:, 1],
                                   rtol=max(rtol, 1e-14), atol=1e-300)
        np.testing.assert_allclose(ft.vmap(ft.jacfwd(ft.jacfwd(f)))(x), want[:, 1],
                                   rtol=max(rtol, 1e-14), atol=1e-300)


def test_activation_values_unchanged():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x = np.array([-30.0, -3.0, -1.0, -1e-3, 0.0, 0.5, 1.0, 3.0, 30.0])
    # (gelu(erf) against JAX only where JAX's erfc(-x / sqrt 2) keeps its digits: at -30 it
    # is 200 ulp off, ours x * ndtr(x) within 2 — test_s43_lead43 checks it against mpmath)
    every, near = np.ones(x.shape, bool), np.abs(x) <= 3.0
    for f, jf, at in ((fnn.silu, jax.nn.silu, every), (fnn.mish, jax.nn.mish, every),
                      (lambda v: fnn.gelu(v, False), lambda v: jax.nn.gelu(v, False), near)):
        np.testing.assert_allclose(f(x)[at], jf(x)[at], rtol=1e-14, atol=1e-300)
        # inside a transform (the custom rule's value) as outside
        np.testing.assert_array_equal(ft.jit(f)(x), f(x))
        np.testing.assert_array_equal(ft.value_and_grad(lambda v: f(v).sum())(x)[0],
                                      f(x).sum())
    xl = np.array([1e-10, 0.3, 1.0, 5.0, 40.0])
    np.testing.assert_allclose(fnn.log1mexp(xl), jax.nn.log1mexp(xl), rtol=1e-14)


@pytest.mark.parametrize("shape", [(6, 7), (6, 1)])   # (the second: slices of one entry)
@pytest.mark.parametrize("alias", [None, 0, 1, 2])
@pytest.mark.parametrize("kind", ["softmax", "log", "log_t"])
def test_softmax_tangent_into_with_the_result_in_an_operand(kind, alias, shape):
    # graph evaluation may hand the into rule a dying operand's own array for the result:
    # the impl's value to the bit, or a refusal (None); a bad slice included
    from functrans.backends import get_backend
    from functrans.primitives.softmax import softmax_tangent_p
    b = get_backend("numpy")
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    e = np.exp(x - x.max(-1, keepdims=True))
    s = e.sum(-1, keepdims=True)
    ops = [rng.standard_normal(shape), *((e / s, s - s) if kind == "softmax" else (e, s))]
    ops[2][1] = nan if kind == "softmax" else inf
    axes = (1,) if shape[1] > 1 else ()
    want = softmax_tangent_p.impl(b, *ops, kind=kind, axes=axes)
    if alias is not None and ops[alias].shape != want.shape:
        return
    args = [o.copy() for o in ops]
    out = args[alias] if alias is not None else np.full(shape, 7.0)
    got = softmax_tangent_p.into(b, [out], *args, kind=kind, axes=axes)
    if got is None:
        return
    assert got is out
    np.testing.assert_array_equal(got, want)
