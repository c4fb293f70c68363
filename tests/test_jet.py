"""functrans.experimental.jet (Taylor mode): closed forms, the nested forward modes of the whole
function along the curve (independent of jet's rules), each specialised rule against the
generic one, JAX's jet side by side where JAX is installed, composition with the other
transforms, backends, pytrees and errors."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
import functrans.scipy.special as fsp
from functrans import taylor
from functrans.experimental.jet import jet

ORDER = 4
RNG = np.random.default_rng(0)


def curve_reference(fun, primals, series):
    """The derivatives d^k/dt^k fun(x(t)) at t = 0, x(t) = x0 + sum_k x_k t^k / k!, by nested
    functrans.jvp of the whole function (no jet rule involved)."""
    order = len(series[0])

    def along(t):
        return fun(*[x + sum(s[k] * t ** (k + 1) / math.factorial(k + 1)
                             for k in range(order))
                     for x, s in zip(primals, series)])

    derivs, g = [], along
    for _ in range(order):
        g = (lambda h: lambda t: ft.jvp(h, (t,), (1.0,))[1])(g)
        derivs.append(np.asarray(g(0.0)))
    return np.asarray(along(0.0)), derivs


def assert_series(got, want, rtol=1e-10, atol=1e-12):
    (y, ys), (y_ref, ys_ref) = got, want
    np.testing.assert_allclose(np.asarray(y), y_ref, rtol=rtol, atol=atol)
    assert len(ys) == len(ys_ref)
    for k, (a, b) in enumerate(zip(ys, ys_ref), 1):
        np.testing.assert_allclose(np.asarray(a), b, rtol=rtol, atol=atol,
                                   err_msg=f"term {k}")


X3 = np.array([0.3, -0.7, 1.1])
POS3 = np.array([0.4, 1.3, 2.2])
UNIT3 = np.array([0.2, -0.5, 0.7])
W = RNG.normal(size=(3, 2))

# name -> (function, its arguments): JAX's jet_test cases and the composition tests, restated
CASES = {
    "exp": (fnp.exp, (X3,)),
    "neg": (lambda x: -x, (X3,)),
    "log": (fnp.log, (POS3,)),
    "log1p": (fnp.log1p, (UNIT3,)),
    "expm1": (fnp.expm1, (X3,)),
    "log2_log10": (lambda x: fnp.log2(x) + 3.0 * fnp.log10(x), (POS3,)),
    "sqrt": (fnp.sqrt, (POS3,)),
    "rsqrt": (lax.rsqrt, (POS3,)),
    "sin": (fnp.sin, (X3,)),
    "cos": (fnp.cos, (X3,)),
    "tan": (fnp.tan, (X3,)),
    "tanh": (fnp.tanh, (X3,)),
    "sinh_cosh": (lambda x: fnp.sinh(x) * fnp.cosh(2.0 * x), (X3,)),
    "logistic": (lax.logistic, (X3,)),
    "sigmoid_nn": (ft.nn.sigmoid, (X3,)),
    "erf": (fsp.erf, (X3,)),
    "erfc": (fsp.erfc, (X3,)),
    "inverse_trig": (lambda x: fnp.arcsin(x) + fnp.arccos(x / 2) * fnp.arctan(x)
                     + fnp.arcsinh(x) - fnp.arctanh(x), (UNIT3,)),
    "acosh": (fnp.arccosh, (POS3 + 1.0,)),
    "integer_pow": (lambda x: lax.integer_pow(x, 3) - x ** 2 + x ** -2, (X3,)),
    "real_pow": (lambda x: x ** 2.5 + x ** -0.5, (POS3,)),
    "pow_array_exponent": (lambda x, y: x ** y, (POS3, X3)),
    "pow_scalar_base": (lambda y: 2.0 ** y, (X3,)),
    "mul": (lambda x, y: x * y * x, (X3, POS3)),
    "div": (lambda x, y: x / y, (X3, POS3)),
    "div_by": (lambda x: 1.0 / (1.0 - x), (UNIT3,)),
    "add_sub": (lambda x, y: x + y - 2.0 * x, (X3, POS3)),
    "dot": (lambda x, w: fnp.tanh(x @ w) @ w.T, (X3, W)),
    "tensordot": (lambda x, w: fnp.tensordot(fnp.sin(w), w, axes=([0], [0])) * x[0], (X3, W)),
    "sum": (lambda x: fnp.sum(fnp.sin(x) * x), (X3,)),
    "reduce_max": (lambda x: fnp.max(fnp.sin(x)), (X3,)),
    "reduce_min": (lambda x: fnp.min(fnp.exp(x), axis=0), (X3,)),
    "max_min": (lambda x, y: fnp.maximum(x, y) * fnp.minimum(x, fnp.cos(y)), (X3, POS3)),
    "cumsum": (lambda x: fnp.cumsum(fnp.exp(x)), (X3,)),
    "cumprod": (lambda x: fnp.cumprod(fnp.sin(x)), (X3,)),
    "sort": (lambda x: fnp.sort(x ** 3), (X3,)),
    "select": (lambda x: fnp.where(x > 0, fnp.exp(x), fnp.sin(x)), (X3,)),
    "abs": (lambda x: fnp.abs(x) * x, (X3,)),
    "relu": (lambda x: ft.nn.relu(x) ** 2, (X3,)),
    "softplus": (ft.nn.softplus, (X3,)),
    "logaddexp": (lambda x, y: fnp.logaddexp(fnp.sin(x), y * x), (X3, POS3)),
    "indexing": (lambda x: fnp.concat([x[::-1], x[:2] * x[1:]]).reshape(5, 1), (X3,)),
    "gather": (lambda x: fnp.take(fnp.exp(x), np.array([2, 0, 2])), (X3,)),
    "lgamma": (fsp.gammaln, (POS3,)),
    "piecewise_constant": (lambda x: fnp.floor(3.0 * x) * x + fnp.sign(x)
                           + ft.stop_gradient(x) * fnp.round(x), (X3,)),
    "solve": (lambda x: fnp.linalg.solve(fnp.eye(3) * 3.0 + fnp.outer(x, x), x), (X3,)),
    "atan2": (lambda x, y: lax.atan2(x, y), (X3, POS3)),
    "clamp": (lambda x: lax.clamp(-0.5, x, 0.5) * x, (X3,)),
    "rem": (lambda x, y: lax.rem(x, y), (X3, POS3)),
    "erf_inv": (lax.erf_inv, (UNIT3,)),
    "cummax": (lambda x: lax.cummax(fnp.sin(3.0 * x), axis=0), (X3,)),
    "dynamic_slice": (lambda x: lax.dynamic_update_slice(
        fnp.exp(x), lax.dynamic_slice(x, (1,), (2,)) ** 2, (0,)), (X3,)),
    "scatter_add": (lambda x: fnp.zeros(3).at[np.array([0, 2, 0])].add(x ** 2) * x, (X3,)),
    "select_n": (lambda x: lax.select_n(x > 0, fnp.sin(x), fnp.exp(x)), (X3,)),
    "steps": (lambda x: fnp.ceil(2.0 * x) * x + fnp.trunc(3.0 * x) * x ** 2, (X3,)),
    "comparisons": (lambda x, y: fnp.where(x >= y, x * y, fnp.sin(x))
                    + fnp.where(x <= 0.35, x, y * y) + fnp.where(x < y, y, x ** 3)
                    + fnp.where(x == y, x, 2.0 * x) + fnp.where(x != 0.5, x * x, y),
                    (X3, POS3)),
    "tanh_composition": (lambda x: fnp.tanh(fnp.tanh(fnp.tanh(x))), (X3,)),
    "degree_one": (lambda x, y: fnp.hypot(x, y) * x + fnp.abs(x + 1j * y), (X3, POS3)),
    "modular": (lambda x, y: fnp.remainder(x, y) * x + fnp.floor_divide(3.0 * x, y) * y
                + fnp.copysign(x, y - 1.0) * y + fnp.where(fnp.signbit(x), x, x * x),
                (X3, POS3)),
    "arg_extremes": (lambda x: fnp.take(fnp.exp(x), fnp.argmax(x)) * x
                     + fnp.take(x * x, fnp.argmin(fnp.sin(x))), (X3,)),
    "argsort": (lambda x: fnp.take(x ** 3, fnp.argsort(x)) * x, (X3,)),
    "custom_jvp": (lambda x: ft.nn.soft_sign(x) * ft.nn.gelu(x)
                   + ft.nn.hard_silu(2.0 * x) * ft.nn.mish(x), (X3,)),
    "logistic_map": (lambda x: _logistic_map(x, 3.7, 4), (UNIT3 ** 2,)),
    # (a tie whose curves are the same: no split after t = 0)
    "unique": (lambda x: fnp.unique(fnp.concat([x, x[:1]])) ** 3 * fnp.sum(x), (X3,)),
    "searchsorted": (lambda x: fnp.take(fnp.exp(x), fnp.searchsorted(
        np.array([-0.5, 0.0, 0.5, 1.0]), x, side="right") % 3) * x, (X3,)),
    # (jit stages the loops: the scan and while primitives under jet)
    "staged_loops": (ft.jit(lambda x: lax.fori_loop(0, 2, lambda i, c: fnp.sin(c) * c + 0.5, x)
                            + lax.scan(lambda c, a: (c * a, fnp.exp(c)), x, X3)[1][1]
                            + lax.while_loop(lambda c: c[1] < fnp.astype(x[0] * 0.0,
                                                                         fnp.int32) + 2,
                                             lambda c: (fnp.tanh(c[0]) + c[0], c[1] + 1),
                                             (x, 0))[0]), (X3,)),
    # (jit stages both: the cond primitive under jet)
    "staged_cond": (ft.jit(lambda x, y: lax.cond(
        fnp.sum(x) > 0, lambda a, b: fnp.sin(a) * b, lambda a, b: fnp.exp(a) - b, x, y)
        + lax.switch(fnp.argmax(y), [lambda a: a, lambda a: a * a, lambda a: fnp.abs(a) ** 3],
                     x)), (X3, POS3)),
}


def _logistic_map(x, r, n):
    for _ in range(n):
        x = r * x * (1.0 - x)
    return x


def _series_for(args, order=ORDER, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(tuple(rng.normal(size=np.shape(a)) for _ in range(order)) for a in args)


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_nested_jvp_of_the_whole_function(name):
    fun, args = CASES[name]
    series = _series_for(args)
    assert_series(jet(fun, args, series), curve_reference(fun, args, series))


# -- each specialised rule against the generic one (nested forward modes of the primitive) --

RULE_CASES = {
    "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2_log10",
    "log10": "log2_log10", "sqrt": "sqrt", "sin_cos": "sin", "sin": "sin", "cos": "cos",
    "sinh": "sinh_cosh", "cosh": "sinh_cosh", "tan": "tan", "tanh": "tanh",
    "tanh_slope": "tanh_composition", "mul": "mul", "matmul": "dot", "tensordot": "tensordot",
    "mul_add": "dot", "div": ("div", "div_by"),
    "pow": ("real_pow", "integer_pow", "pow_array_exponent", "pow_scalar_base"),
    "max": "max_min", "min": "max_min",
    "abs": "abs", "relu": "relu", "logaddexp": ("softplus", "logaddexp"),
    "reduce_max": "reduce_max", "reduce_min": "reduce_min", "sort": "sort",
    "erf": "erf", "erfc": "erfc", "atan": "inverse_trig", "asin": "inverse_trig",
    "acos": "inverse_trig", "asinh": "inverse_trig", "acosh": "acosh",
    "atanh": "inverse_trig", "mul_sz": "cumprod",
    "gt": ("select", "select_n"), "ge": "comparisons", "le": "comparisons",
    "lt": "comparisons", "eq": "comparisons", "ne": "comparisons",
    "sign": "piecewise_constant", "floor": "piecewise_constant", "round": "piecewise_constant",
    "ceil": "steps", "trunc": "steps", "argmax": "arg_extremes", "argmin": "arg_extremes",
    "argsort": "argsort", "custom_jvp_call": "custom_jvp", "cond": "staged_cond",
    "searchsorted": "searchsorted", "unique_all": "unique", "scan": "staged_loops", "while": "staged_loops",
    "signbit": "modular", "floor_divide": "modular", "remainder": ("rem", "modular"),
    "copysign": "modular", "hypot": "degree_one"}


def test_every_rule_is_checked_against_the_generic_one():
    assert set(RULE_CASES) == set(taylor.RULES)


@pytest.mark.parametrize("prim", sorted(RULE_CASES))
def test_rule_against_generic(prim, monkeypatch):
    names = RULE_CASES[prim]
    for name in (names,) if isinstance(names, str) else names:
        fun, args = CASES[name]
        if prim == "tanh_slope":  # (bound by tanh's forward mode: jet of a function taking jvp)
            fun = lambda x: ft.jvp(fnp.tanh, (fnp.tanh(x),), (fnp.sin(x),))[1]  # noqa: E731
        if prim == "sin_cos":
            fun = lambda x: ft.jvp(fnp.sin, (x,), (fnp.cos(x),))[1]  # noqa: E731
        if prim == "mul_sz":  # (bound by cumprod's forward mode)
            fun = lambda x: ft.jvp(fnp.cumprod, (fnp.sin(x),), (fnp.cos(x),))[1]  # noqa: E731
        if prim == "mul_add":  # (a product's forward mode with both tangents)
            fun = lambda x, w: ft.jvp(lambda a, b: a * b, (x, fnp.sin(x)),  # noqa: E731
                                      (fnp.cos(x), x))[1] + w[0, 0]
        series = _series_for(args, seed=1)
        calls = []
        rule = taylor.RULES[prim]
        with monkeypatch.context() as m:
            m.setitem(taylor.RULES, prim, lambda *a, **k: calls.append(1) or rule(*a, **k))
            got = jet(fun, args, series)
            assert calls, f"{name} does not reach {prim}'s rule"
            m.delitem(taylor.RULES, prim)
            assert_series(got, jet(fun, args, series))


# -- JAX's jet side by side ----------------------------------------------------------------


def _jax_cases():
    import jax
    import jax.numpy as jnp
    from jax import lax as jlax
    return {
        "exp": jnp.exp, "neg": lambda x: -x,
        "log": jnp.log, "log1p": jnp.log1p,
        "expm1": jnp.expm1, "sqrt": jnp.sqrt, "rsqrt": jlax.rsqrt, "sin": jnp.sin,
        "cos": jnp.cos, "tanh": jnp.tanh,
        "sinh_cosh": lambda x: jnp.sinh(x) * jnp.cosh(2.0 * x),
        "logistic": jlax.logistic, "erf": jax.scipy.special.erf,
        "integer_pow": lambda x: jlax.integer_pow(x, 3) - x ** 2 + x ** -2,
        "real_pow": lambda x: x ** 2.5 + x ** -0.5,
        "pow_array_exponent": lambda x, y: x ** y,
        "mul": lambda x, y: x * y * x, "div": lambda x, y: x / y,
        "div_by": lambda x: 1.0 / (1.0 - x), "add_sub": lambda x, y: x + y - 2.0 * x,
        "dot": lambda x, w: jnp.tanh(x @ w) @ w.T,
        "sum": lambda x: jnp.sum(jnp.sin(x) * x),
        "reduce_max": lambda x: jnp.max(jnp.sin(x)),
        "reduce_min": lambda x: jnp.min(jnp.exp(x), axis=0),
        "max_min": lambda x, y: jnp.maximum(x, y) * jnp.minimum(x, jnp.cos(y)),
        "cumsum": lambda x: jnp.cumsum(jnp.exp(x)),
        "cumprod": lambda x: jnp.cumprod(jnp.sin(x)),
        "select": lambda x: jnp.where(x > 0, jnp.exp(x), jnp.sin(x)),
        "abs": lambda x: jnp.abs(x) * x,
        "piecewise_constant": lambda x: (jnp.floor(3.0 * x) * x + jnp.sign(x)
                                         + jax.lax.stop_gradient(x) * jnp.round(x)),
        "indexing": lambda x: jnp.concatenate([x[::-1], x[:2] * x[1:]]).reshape(5, 1),
        "gather": lambda x: jnp.take(jnp.exp(x), jnp.array([2, 0, 2])),
        # (JAX's jet refuses clamp's scalar bounds; and it takes lax.rem for x - y floor(x/y),
        # which is not lax.rem for negative x: rem is compared with the reference only)
        "atan2": jlax.atan2,
        "clamp": lambda x: jlax.clamp(jnp.full(3, -0.5), x, jnp.full(3, 0.5)) * x,
        "erf_inv": jlax.erf_inv,
        "cummax": lambda x: jlax.cummax(jnp.sin(3.0 * x), axis=0),
        "dynamic_slice": lambda x: jlax.dynamic_update_slice(
            jnp.exp(x), jlax.dynamic_slice(x, (1,), (2,)) ** 2, (0,)),
        "scatter_add": lambda x: jnp.zeros(3).at[jnp.array([0, 2, 0])].add(x ** 2) * x,
        "select_n": lambda x: jlax.select_n(x > 0, jnp.sin(x), jnp.exp(x)),
        "tanh_composition": lambda x: jnp.tanh(jnp.tanh(jnp.tanh(x))),
        "logistic_map": lambda x: _logistic_map(x, 3.7, 4),
    }


def test_against_jax_jet():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.experimental.jet import jet as jax_jet
    for name, jfun in _jax_cases().items():
        fun, args = CASES[name]
        series = _series_for(args, seed=2)
        with jax.disable_jit():  # (op by op: a third less of compiling)
            y, ys = jax_jet(jfun, args, series)
        assert_series(jet(fun, args, series),
                      (np.asarray(y), [np.asarray(t) for t in ys]), rtol=1e-10)


# -- closed forms ------------------------------------------------------------------------------


def test_closed_forms():
    x0 = 0.3
    # along x(t) = x0 + t: the derivatives of exp, sin, 1/(1-x), log, sqrt
    line = ((1.0, 0.0, 0.0, 0.0),)
    cases = [
        (fnp.exp, [math.exp(x0)] * 5),
        (fnp.sin, [math.sin(x0), math.cos(x0), -math.sin(x0), -math.cos(x0), math.sin(x0)]),
        (lambda x: 1.0 / (1.0 - x), [math.factorial(k) / (1 - x0) ** (k + 1) for k in range(5)]),
        (fnp.log, [math.log(x0)] + [(-1) ** (k - 1) * math.factorial(k - 1) / x0 ** k
                                    for k in range(1, 5)]),
        (fnp.sqrt, [x0 ** 0.5, 0.5 * x0 ** -0.5, -0.25 * x0 ** -1.5, 0.375 * x0 ** -2.5,
                    -0.9375 * x0 ** -3.5]),
    ]
    for fun, want in cases:
        y, ys = jet(fun, (x0,), line)
        np.testing.assert_allclose([float(y)] + [float(t) for t in ys], want, rtol=1e-13)
    # exp along the curve x(t) = t^2 / 2 (x_2 = 1): exp(t^2/2) = sum t^(2n) / (2^n n!), whose
    # derivatives at 0 are 0, 1, 0, 3
    _, ys = jet(fnp.exp, (0.0,), ((0.0, 1.0, 0.0, 0.0),))
    np.testing.assert_allclose([float(t) for t in ys], [0.0, 1.0, 0.0, 3.0], atol=1e-15)
    # factorial_scaled=False: Taylor coefficients in and out (sin: 1, 0, -1/6 at 0)
    _, ys = jet(fnp.sin, (0.0,), ((1.0, 0.0, 0.0),), factorial_scaled=False)
    np.testing.assert_allclose([float(t) for t in ys], [1.0, 0.0, -1.0 / 6.0], atol=1e-16)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_orders_and_first_term_is_jvp(order):
    fun, args = CASES["tanh_composition"]
    series = _series_for(args, order=order, seed=order)
    got = jet(fun, args, series)
    assert len(got[1]) == order
    assert_series(got, curve_reference(fun, args, series))
    y, t = ft.jvp(fun, args, tuple(s[0] for s in series))
    np.testing.assert_array_equal(np.asarray(got[1][0]), np.asarray(t))


def test_zero_series_and_order_zero():
    y, ys = jet(fnp.sin, (X3,), ((np.zeros(3), np.zeros(3)),))
    np.testing.assert_allclose(y, np.sin(X3))
    assert all(np.asarray(t).shape == (3,) and not np.any(t) for t in ys)
    y, ys = jet(fnp.sin, (X3,), ((),))
    np.testing.assert_allclose(y, np.sin(X3))
    assert ys == []
    # an output that does not depend on the input: zeros of its own dtype and shape
    (a, b, c), (sa, sb, sc) = jet(lambda x: (x > 0, fnp.argmax(x), 3.0), (X3,),
                                  ((X3, X3),))
    assert [np.asarray(t).dtype for t in (sa[0], sb[1], sc[0])] == [np.bool_, np.int64,
                                                                       np.float64]
    assert not any(np.any(np.asarray(t)) for t in sa + sb + sc)


def test_pytrees_and_several_arguments():
    def fun(p, s):
        return {"y": p["a"] * fnp.sin(p["b"][0]) * s, "z": [fnp.exp(s)]}
    p = {"a": 1.5, "b": [np.array([0.2, 0.4])]}
    terms = ({"a": 1.0, "b": [np.array([0.5, -1.0])]}, {"a": -0.5, "b": [np.zeros(2)]})
    out, series = jet(fun, (p, 0.7), (terms, (0.3, 0.1)))
    assert set(out) == {"y", "z"} and len(series["y"]) == 2 and len(series["z"][0]) == 2
    flat = lambda a, b, s: fun({"a": a, "b": [b]}, s)["y"]  # noqa: E731
    want = curve_reference(flat, (1.5, np.array([0.2, 0.4]), 0.7),
                           ((1.0, -0.5), (np.array([0.5, -1.0]), np.zeros(2)), (0.3, 0.1)))
    assert_series((out["y"], series["y"]), want)


def test_ties_and_kinks_are_one_sided():
    # maximum at a tie: the side larger for small t > 0 (session 40; jvp's slope and JAX's
    # jet are the mean of the two sides' terms, [0.5, 1.0] here)
    y, ys = jet(lambda x: fnp.maximum(x, 0.5), (0.5,), ((1.0, 2.0),))
    assert [float(t) for t in ys] == [1.0, 2.0]
    assert float(ft.jvp(lambda x: fnp.maximum(x, 0.5), (0.5,), (1.0,))[1]) == 0.5
    # abs at 0: jvp's slope is sign(0) = 0, but jet gives |x(t)| for small t > 0, one-sided:
    # the sign of the first nonzero coefficient (session 40; JAX's jet takes +1: -1 here)
    _, ys = jet(fnp.abs, (0.0,), ((1.0, 1.0),))
    assert [float(t) for t in ys] == [1.0, 1.0]
    _, ys = jet(fnp.abs, (0.0,), ((-1.0, 1.0),))
    assert [float(t) for t in ys] == [1.0, -1.0]
    assert float(ft.jvp(fnp.abs, (0.0,), (1.0,))[1]) == 0.0
    # reduce_max over a tie: the tied position larger for small t > 0 (was the mean, 1.5)
    _, ys = jet(fnp.max, (np.array([1.0, 1.0, 0.0]),), ((np.array([1.0, 2.0, 3.0]),),))
    assert float(ys[0]) == 2.0


# -- composition with the other transforms --------------------------------------------------


def _f(x):
    return fnp.sin(x) * fnp.exp(x) / (1.0 + x * x)


def test_jet_under_jit_and_vmap():
    x, v = np.array([0.3, 0.5]), np.array([1.0, 2.0])
    want = jet(_f, (x,), ((v, v, v),))
    assert_series(ft.jit(lambda x, v: jet(_f, (x,), ((v, v, v),)))(x, v),
                  (want[0], [np.asarray(t) for t in want[1]]), rtol=1e-14)
    y, ys = ft.vmap(lambda x, v: jet(_f, (x,), ((v, -v, v),)))(x, v)
    for i in range(2):
        assert_series((y[i], [t[i] for t in ys]),
                      curve_reference(_f, (x[i],), ((v[i], -v[i], v[i]),)))
    # the generic rule (nested forward modes) staged by jit and batched by vmap
    g = lambda x: fsp.gammaln(x + 1.0) * fnp.sort(x)  # noqa: E731
    want = curve_reference(g, (x,), ((v, v, v),))
    assert_series(ft.jit(lambda x, v: jet(g, (x,), ((v, v, v),)))(x, v), want)
    y, ys = ft.vmap(lambda x: jet(g, (x,), ((v, v, v),)))(np.stack([x, x]))
    assert_series((y[1], [t[1] for t in ys]), want)


def test_transforms_inside_jet():
    x, v = np.array([0.3, 0.5]), np.array([1.0, 2.0])
    want = curve_reference(_f, (x,), ((v, v, v),))
    assert_series(jet(ft.jit(_f), (x,), ((v, v, v),)), want)
    assert_series(jet(ft.vmap(_f), (x,), ((v, v, v),)), want)
    # jet of a function that takes a gradient: the derivatives of g = h' are h's next ones
    h = lambda x: fnp.sin(x) ** 2 * x  # noqa: E731
    y, ys = jet(ft.grad(h), (0.3,), ((1.0, 0.0, 0.0),))
    d = [ft.grad(h)]
    for _ in range(3):
        d.append(ft.grad(d[-1]))
    np.testing.assert_allclose([float(y)] + [float(t) for t in ys],
                               [float(g(0.3)) for g in d], rtol=1e-12)


def test_derivatives_of_jet_outputs():
    third = lambda x: jet(_f, (x,), ((1.0, 0.0, 0.0),))[1][2]  # noqa: E731
    # the fourth derivative by grad of jet's third, and by jvp of it, against jet's own fourth
    fourth = float(jet(_f, (0.3,), ((1.0, 0.0, 0.0, 0.0),))[1][3])
    np.testing.assert_allclose(float(ft.grad(third)(0.3)), fourth, rtol=1e-12)
    np.testing.assert_allclose(float(ft.jvp(third, (0.3,), (1.0,))[1]), fourth, rtol=1e-12)
    np.testing.assert_allclose(float(ft.grad(third)(0.3)),
                               (float(third(0.3 + 1e-5)) - float(third(0.3 - 1e-5))) / 2e-5,
                               rtol=1e-6)
    from functrans.testing import check_grads
    check_grads(third, (0.3,), order=1, modes=("fwd", "rev"))
    # jet of jet
    y, ys = jet(lambda x: jet(_f, (x,), ((1.0, 0.0),))[1][1], (0.3,), ((1.0, 0.0),))
    np.testing.assert_allclose([float(t) for t in ys],
                               [float(t) for t in jet(_f, (0.3,), ((1.0,) + (0.0,) * 3,))[1][2:]],
                               rtol=1e-12)


def test_generic_rule_reaches_control_flow_linalg_and_custom_rules():
    x, v = np.array([0.3, 0.5]), np.array([1.0, -2.0])
    series = ((v, v, 0 * v),)

    @ft.custom_jvp
    def softclip(x):
        return fnp.tanh(x)
    softclip.defjvp(lambda p, t: (softclip(p[0]), t[0] * (1.0 - fnp.tanh(p[0]) ** 2)))
    for fun in [
            lambda x: ft.lax.fori_loop(0, 3, lambda i, c: fnp.sin(c) * 1.5, x),
            lambda x: ft.lax.cond(x[0] > 0, fnp.sin, fnp.cos, x),
            lambda x: ft.lax.scan(lambda c, a: (fnp.sin(c) * a, c), x,
                                  np.array([1.0, 2.0]))[0],
            lambda x: fnp.linalg.eigh(fnp.outer(x, x) + fnp.eye(2))[0],
            lambda x: softclip(x) * x]:
        assert_series(jet(fun, (x,), series), curve_reference(fun, (x,), series))


# -- backends, dtypes, arguments -------------------------------------------------------------


def test_backends(backend):
    x, v = backend.asarray([0.3, 0.5]), backend.asarray([1.0, -2.0])
    def fun(x):
        return fnp.cumsum(fnp.where(x > 0.4, fnp.exp(x), fnp.sin(x)) @ fnp.ones((2, 2))
                          + fsp.gammaln(x + 1.0) + fnp.zeros(2))
    y, ys = jet(fun, (x,), ((v, v, v),))
    assert backend.is_own(y) and all(backend.is_own(t) for t in ys)
    want = curve_reference(fun, (np.array([0.3, 0.5]),),
                           ((np.array([1.0, -2.0]),) * 3,))
    assert_series((backend.to_numpy(y), [backend.to_numpy(t) for t in ys]), want)


def test_float32_keeps_its_dtype():
    x = np.array([0.3, 0.5], np.float32)
    y, ys = jet(lambda x: fnp.tanh(x) * 2.0, (x,), ((np.ones(2, np.float32),) * 3,))
    assert y.dtype == np.float32 and all(t.dtype == np.float32 for t in ys)


def test_integer_arguments_carry_no_series():
    n = np.arange(3)
    y, ys = jet(lambda x, n: x * n, (X3, n), ((X3, X3), (np.zeros(3, int), np.zeros(3, int))))
    np.testing.assert_allclose(ys[1], X3 * n)
    with pytest.raises(ValueError, match=r"series\[1\]\[0\].* is nonzero.*int64"):
        jet(lambda x, n: x * n, (X3, n), ((X3,), (np.ones(3, int),)))


def test_results_do_not_alias_the_arguments():
    v = np.array([1.0, 2.0])
    _, ys = jet(lambda x: x, (np.zeros(2),), ((v, v),))
    assert not np.shares_memory(ys[0], v)


def test_errors():
    e = ft.errors.TangentMismatchError
    cases = [
        ((np.ones(2),), ((np.ones(3),),), e, r"series\[0\]\[0\].*shape \(3,\).*\(2,\)"),
        ((np.ones(2, np.float32),), ((np.ones(2),),), e, r"dtype float64.*float32"),
        ((np.ones(2),), ((np.ones(2),), (np.ones(2),)), e, "one entry .* per primal"),
        ((1.0, 2.0), ((1.0,), (1.0, 2.0)), e, r"same number of Taylor terms.*\[1, 2\]"),
        ((1.0,), ((1,),), e, "Python int 1.*pass 1.0"),
        (np.ones(2), ((1.0,),), TypeError, "tuples or lists"),
        ((1.0,), (1.0,), TypeError, r"series\[0\] must be a tuple or list"),
        (({"a": 1.0},), (({"b": 1.0},),), e, r"series\[0\]\[0\] must have the tree structure"),
        ((), (), ValueError, "at least one argument"),
    ]
    for primals, series, err, match in cases:
        with pytest.raises(err, match=match):
            jet(lambda *a: a[0], primals, series)
    with pytest.raises(ft.errors.DerivativeDroppedError, match="Taylor coefficients"):
        jet(lambda x: float(x), (1.0,), ((1.0,),))
    with pytest.raises(TypeError, match="expects a function"):
        jet(3, (1.0,), ((1.0,),))


def test_assignment_into_a_constant_and_into_a_jet_value():
    def into_constant(x):
        y = fnp.zeros(3)
        y[0] = x[1]  # (y turns into a jet value, as under jvp)
        return y * x

    def into_value(x):
        x = fnp.asarray(x, copy=True)
        x[0] = 2.0 * x[1]
        return fnp.sin(x)
    for fun in (into_constant, into_value):
        assert_series(jet(fun, (X3,), ((UNIT3, X3, UNIT3),)),
                      curve_reference(fun, (X3,), ((UNIT3, X3, UNIT3),)))


def test_linear_primitives_with_coefficient_operands():
    # solve and sylvester are linear in their right-hand side only, div in its numerator:
    # a series in the matrix (divisor) takes the non-linear rules, as linear_transpose
    # refuses a function with the input there
    from functrans.scipy.linalg import solve_sylvester
    a0 = np.array([[3.0, 0.5], [0.2, 2.0]])
    b0, q0 = np.array([[1.0, 0.1], [0.0, 1.5]]), np.array([[1.0, 2.0], [0.5, -1.0]])
    da = np.array([[0.3, -0.2], [0.1, 0.4]])
    for fun, x in [(lambda a: solve_sylvester(a, b0, q0), a0),
                   (lambda q: solve_sylvester(a0, b0, q), q0),
                   (lambda a: fnp.linalg.solve(a, q0), a0)]:
        series = ((da, da * 0.5, da),)
        assert_series(jet(fun, (x,), series), curve_reference(fun, (x,), series))
    with pytest.raises(TypeError, match="coefficient"):
        ft.linear_transpose(lambda a: solve_sylvester(a, b0, q0), a0)
    # linear_call is linear in its linear_args only: a series in its residual_args (the
    # matrix here) takes the generic rule
    from functrans.custom_derivatives import linear_call

    def matvec(a, x):
        return linear_call(lambda a, v: a @ v, lambda a, ct: a.T @ ct, a, fnp.sin(x))
    x0 = np.array([0.3, -0.2])
    for fun, x, d in [(lambda x: matvec(a0, x), x0, np.array([1.0, 0.5])),
                      (lambda a: matvec(a, x0), a0, da)]:
        series = ((d, d * 0.5, -d),)
        assert_series(jet(fun, (x,), series), curve_reference(fun, (x,), series))


# The primitives jet applies to each coefficient (a transpose rule, no rule of jet's own),
# each checked for operands that are coefficients of its linear map (api._COEFFICIENTS):
# a new one must be checked too, or jet would give wrong values for a series there.
LINEAR_CHECKED = {
    "add", "adjugate_derivative", "all_gather", "all_to_all", "broadcast_in_dim", "concat",
    "conj",
    "convert_element_type", "cumsum", "debug_callback", "diag_embed", "diagonal", "eager_lin",
    "fft", "flip", "gather", "imag", "irfft", "linear_call", "name", "neg", "ppermute", "psum",
    "psum_scatter", "real", "reduce_sum", "reshape", "rfft", "roll", "row_mask",
    "scatter_add",
    "spectral_tangent", "strong_product",
    "scatter_along_axis", "scatter_slice", "select", "slice", "softmax_tangent", "solve", "sub",
    "sylvester", "taken_fill", "taken_rows",
    "take_along_axis", "transpose", "tri", "triangular_solve"}


def test_linear_primitives_are_checked():
    from functrans.core import registry
    linear = {n for n, p in registry.items()
              if p.transpose is not None and p.jvp is not None and n not in taylor.RULES}
    assert linear <= LINEAR_CHECKED, (
        f"{sorted(linear - LINEAR_CHECKED)}: new primitives with a transpose rule, which jet "
        f"applies to each Taylor coefficient; list any operand that is a coefficient of the "
        f"linear map (a divisor, a matrix solved with) in functrans.api._COEFFICIENTS, then "
        f"add them here")


def test_order_six():
    # the recurrences at a higher order than the table's, on a scalar
    def fun(x):
        return (fnp.tan(x) * fnp.sqrt(1.0 + x) / (2.0 + fnp.sin(x)) + fnp.tanh(x) ** 3
                + fnp.log1p(x * x) * fsp.erf(x) + x ** 2.5 - fnp.logaddexp(x, -x))
    series = ((1.0, -0.5, 0.25, 0.0, 0.5, -1.0),)
    assert_series(jet(fun, (0.7,), series), curve_reference(fun, (0.7,), series), rtol=1e-9)
