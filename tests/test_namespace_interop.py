"""Third-party Array API code differentiated unchanged, and Python control flow over values
(boolean masks, data-dependent shapes, loops) inside eager transforms."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Tracer
from functrans.errors import ConcretizationError
from functrans.testing import check_grads

xpx = pytest.importorskip("array_api_extra")

X = np.array([[0.3, -0.5, 0.9, 0.25], [0.2, 0.1, -0.7, 0.5], [1.0, 0.35, 0.15, -0.1]])

EXTRA = {
    "cov": lambda x: xpx.cov(x),
    "sinc": lambda x: xpx.sinc(x),
    "kron": lambda x: xpx.kron(x[:2, :2], x),
    "atleast_nd": lambda x: xpx.atleast_nd(x[0, 0], ndim=3) * x,
    "isclose": lambda x: fnp.where(xpx.isclose(x, 0.1), 0.0, x * x),
    "nunique": lambda x: fnp.sum(x) * fnp.astype(xpx.nunique(x), x.dtype),
    "one_hot": lambda x: xpx.one_hot(fnp.argmax(x, axis=1), 4) * x,
}


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_array_api_extra_is_differentiable(backend, name):
    if name == "one_hot" and backend.name == "array_api_strict":
        pytest.skip("array-api-strict's `array == tracer` raises instead of deferring to the "
                    "tracer (one_hot compares an arange with its argument)")
    x = backend.asarray(X)
    f = EXTRA[name]
    out = f(x)
    assert backend.is_own(out)
    check_grads(f, (x,), order=2 if name in ("cov", "sinc") else 1)


MIXED = {
    "pad": lambda x: xpx.pad(x, 1) ** 2,
    "create_diagonal": lambda x: xpx.create_diagonal(x[0, :]) * x[1, 0],
    "apply_where": lambda x: xpx.apply_where(x > 0, x, fnp.sqrt, fill_value=0.0),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_array_api_extra_mixing_constants_and_tracers(backend, name):
    # These combine an array made by xp.zeros/xp.full, or a comparison's boolean result, with
    # the tracer through array_namespace: under forward mode (jvp, grad, jacfwd, hessian)
    # functrans.numpy's constants are tracers too (ConstTracer), so it finds one namespace
    # (it was "Multiple namespaces"). Results are plain arrays of the input's library.
    f = MIXED[name]
    x = backend.asarray(X)
    check_grads(f, (x,), order=2)
    g = ft.grad(lambda x: fnp.sum(f(x)))(x)
    assert backend.is_own(g)
    y, t = ft.jvp(f, (x,), (x,))
    assert backend.is_own(y) and backend.is_own(t)
    np.testing.assert_allclose(backend.to_numpy(y), backend.to_numpy(f(x)), rtol=1e-15)
    want = {"pad": lambda x: 2 * x,                     # d/dx sum(pad(x, 1)^2)
            "apply_where": lambda x: np.where(x > 0, 0.5 / np.sqrt(np.abs(x)), 0.0)}
    if name != "create_diagonal":
        np.testing.assert_allclose(backend.to_numpy(g), want[name](X), rtol=1e-13)
    else:  # sum(diag(x0) * x10) = x10 * sum(x0)
        expected = np.zeros_like(X)
        expected[0] = X[1, 0]
        expected[1, 0] = X[0].sum()
        np.testing.assert_allclose(backend.to_numpy(g), expected, rtol=1e-13)


def test_array_api_extra_cov_gradient_by_hand():
    x = X
    g = ft.grad(lambda x: fnp.sum(xpx.cov(x)))(x)
    # sum(cov) = sum_ij (x_i - m_i).(x_j - m_j) / (n-1): d/dx_k = 2 (s - mean(s)) / (n-1)
    s = (x - x.mean(axis=1, keepdims=True)).sum(axis=0)
    expected = np.broadcast_to(2 * (s - s.mean()) / (x.shape[1] - 1), x.shape)
    np.testing.assert_allclose(g, expected, atol=1e-12)


SCIPY = textwrap.dedent("""
    import numpy as np
    import array_api_strict as xs
    import functrans as ft
    import functrans.numpy as fnp
    from functrans.testing import check_grads
    from scipy.special import logsumexp, log_softmax, softmax
    x = np.array([[0.3, -0.5, 0.9], [0.2, 0.1, -0.7]])
    w = np.array([[1.0, 2.0, 0.5], [0.3, 0.4, 1.5]])  # no zero weight: scipy drops those terms
    for a, b in ((x, w), (xs.asarray(x), xs.asarray(w))):
        check_grads(lambda x: logsumexp(x, axis=1), (a,), order=2)
        check_grads(lambda x, w: logsumexp(x, axis=0, b=w), (a, b), order=2)
        check_grads(lambda x, w: logsumexp(x * w, return_sign=True)[0], (a, b), order=2)
        check_grads(lambda x: softmax(x, axis=1), (a,), order=2)
        check_grads(lambda x: log_softmax(x, axis=0), (a,), order=2)
    g = ft.grad(lambda x: logsumexp(x))(x)
    np.testing.assert_allclose(g, np.exp(x - logsumexp(x)))
    x[0, 0] = -np.inf                                  # a term that adds nothing
    np.testing.assert_allclose(ft.grad(lambda x: logsumexp(x))(x), np.exp(x - logsumexp(x)))
    print("ok")
""")


def test_scipy_logsumexp_with_array_api_support():
    # SciPy updates arrays in place through array_api_extra.at: asarray(x, copy=True), then
    # x[idx] = y, which tracers do functionally. A subprocess: SCIPY_ARRAY_API is read once.
    _run_with_scipy_array_api(SCIPY)


def _run_with_scipy_array_api(script, timeout=120):
    """``script`` in a fresh interpreter with SCIPY_ARRAY_API=1 (SciPy reads it once, at its
    import), which prints "ok" at its end."""
    pytest.importorskip("scipy")
    pytest.importorskip("array_api_strict")
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]

SCIPY_SPECIAL = textwrap.dedent("""
import numpy as np
import array_api_strict as xs
import scipy.special as ss
import scipy.stats as st
import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
from functrans.testing import check_grads

assert fnp.special is fsp
x = np.array([[0.3, -0.5, 0.9], [0.2, 1.1, -0.7]])
p = np.array([0.2, 0.5, 1.5, 0.8])
# SciPy reaches functrans's special functions through xp.special: the derivatives exist,
# and each value is SciPy's own (computed here on NumPy, where SciPy uses its ufuncs).
for name in ("erf", "erfc", "log_ndtr", "ndtr", "expit", "gammaln", "digamma", "entr"):
    f = getattr(ss, name)
    for a in (x, xs.asarray(x)):
        out = ft.jit(f)(a)
        assert type(out) is type(a), (name, type(out))
        np.testing.assert_allclose(np.asarray(out), f(x), rtol=1e-13, err_msg=name)
        if name != "entr":  # (entr: x log x is -inf-sloped at 0 and undefined below)
            check_grads(f, (a,), order=2)
    check_grads(lambda x: fnp.sum(ss.xlogy(x, x * x + 1.0)), (x,), order=2)
check_grads(ss.entr, (p,), order=2)
check_grads(lambda q: st.entropy(q * q + 0.1), (p,), order=2)
# the moments and means of scipy.stats, and scipy.integrate's trapezoids, unchanged
import scipy.integrate as si
y = np.array([0.3, -0.5, 0.9, 0.25, 1.2, -0.1])
for f in (st.skew, st.kurtosis, st.sem, lambda v: st.moment(v, 3),
          lambda v: fnp.sum(st.zscore(v) ** 3), lambda v: st.gmean(v * v + 1.0),
          lambda v: st.pmean(v * v + 1.0, 2.5), lambda v: si.trapezoid(v * v),
          lambda v: fnp.sum(si.cumulative_trapezoid(v * v))):
    check_grads(f, (y,), order=2)
g = ft.grad(lambda q: st.entropy(q))(p)
s = p.sum()
np.testing.assert_allclose(g, -(np.log(p / s) + st.entropy(p)) / s, rtol=1e-12)
print("ok")
""")


def test_scipy_array_api_functions_are_differentiable():
    # SciPy (SCIPY_ARRAY_API=1) calls xp.special.<name> for a namespace that has one, the
    # Array API's anticipated extension; without it, it converts the tracer to NumPy.
    _run_with_scipy_array_api(SCIPY_SPECIAL)


# -- control flow over values --------------------------------------------------------------------


def test_boolean_mask_inside_grad(backend):
    x = backend.asarray([0.5, -1.0, 2.0, -0.25])
    g = ft.grad(lambda x: fnp.sum(x[x > 0] ** 2))(x)
    np.testing.assert_allclose(backend.to_numpy(g), [1.0, 0.0, 4.0, 0.0])


def test_data_dependent_shapes_inside_jvp_and_hessian():
    x = np.array([0.5, -1.0, 2.0, -0.25])

    def f(x):
        idx = fnp.nonzero(x < 0)[0]
        neg = fnp.take(x, idx)
        u = fnp.unique_values(fnp.concat([x, x]))
        return fnp.sum(neg ** 3) + fnp.sum(u) * 0.5
    _, t = ft.jvp(f, (x,), (np.ones(4),))
    np.testing.assert_allclose(t, 3 * (1.0 + 0.0625) + 2.0)
    h = ft.hessian(f)(x)
    np.testing.assert_allclose(h, np.diag([0.0, -6.0, 0.0, -1.5]))


def test_python_control_flow_on_values():
    def newton_sqrt(a):
        x = a
        while fnp.abs(x * x - a) > 1e-12:  # a loop whose length depends on the value
            x = 0.5 * (x + a / x)
        return x if a > 1.0 else -x
    np.testing.assert_allclose(ft.grad(newton_sqrt)(4.0), 0.25)
    np.testing.assert_allclose(ft.grad(newton_sqrt)(0.25), -1.0)
    np.testing.assert_allclose(ft.grad(ft.grad(newton_sqrt))(4.0), -1 / 32, rtol=1e-8)


def test_masks_need_concrete_values_when_staging():
    with pytest.raises(ConcretizationError, match="concrete"):
        ft.make_graph(lambda x: fnp.sum(x[x > 0]))(np.ones(3))


def test_array_namespace_of_tracers_is_functrans_numpy():
    from array_api_compat import array_namespace

    def f(x):
        xp = array_namespace(x)
        assert xp is fnp or not isinstance(x, Tracer)
        return xp.sum(xp.linalg.vector_norm(xp.reshape(x, (2, 2)), axis=1))
    check_grads(f, (np.array([1.0, 2.0, 3.0, 4.0]),), order=2)
