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
    "indexing": (lambda x: fnp.concat([x[::-1], x[:2] * x[1:]]).reshape(5, 1), (X3,)),
    "gather": (lambda x: fnp.take(fnp.exp(x), np.array([2, 0, 2])), (X3,)),
    "lgamma": (fsp.gammaln, (POS3,)),
    "solve": (lambda x: fnp.linalg.solve(fnp.eye(3) * 3.0 + fnp.outer(x, x), x), (X3,)),
    "tanh_composition": (lambda x: fnp.tanh(fnp.tanh(fnp.tanh(x))), (X3,)),
    "logistic_map": (lambda x: _logistic_map(x, 3.7, 4), (UNIT3 ** 2,)),
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
    "mul_add": "dot", "div": "div", "pow": "real_pow", "max": "max_min", "min": "max_min",
    "abs": "abs", "relu": "relu", "reduce_max": "reduce_max", "reduce_min": "reduce_min",
    "erf": "erf", "erfc": "erfc", "atan": "inverse_trig", "asin": "inverse_trig",
    "acos": "inverse_trig", "asinh": "inverse_trig", "acosh": "acosh",
    "atanh": "inverse_trig"}


def test_every_rule_is_checked_against_the_generic_one():
    assert set(RULE_CASES) == set(taylor.RULES)


@pytest.mark.parametrize("prim", sorted(RULE_CASES))
def test_rule_against_generic(prim, monkeypatch):
    fun, args = CASES[RULE_CASES[prim]]
    series = _series_for(args, seed=1)
    if prim == "tanh_slope":  # (bound by tanh's forward mode: jet of a function taking jvp)
        fun = lambda x: ft.jvp(fnp.tanh, (fnp.tanh(x),), (fnp.sin(x),))[1]  # noqa: E731
    if prim == "sin_cos":
        fun = lambda x: ft.jvp(fnp.sin, (x,), (fnp.cos(x),))[1]  # noqa: E731
    if prim == "mul_add":  # (a product's forward mode with both tangents)
        fun = lambda x, w: ft.jvp(lambda a, b: a * b, (x, fnp.sin(x)),  # noqa: E731
                                  (fnp.cos(x), x))[1] + w[0, 0]
    calls = []
    rule = taylor.RULES[prim]
    monkeypatch.setitem(taylor.RULES, prim, lambda *a, **k: calls.append(1) or rule(*a, **k))
    got = jet(fun, args, series)
    assert calls, f"the case does not reach {prim}'s rule"
    monkeypatch.delitem(taylor.RULES, prim)
    assert_series(got, jet(fun, args, series))
