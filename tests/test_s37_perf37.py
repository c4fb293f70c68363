"""perf37: the per-operation cost of nested derivatives (backward's pending products joined in
place, the JVP's and the staging's many-operand loops, many-operand operations of one array type
evaluated straight by their implementation, the JVP of several results without __init__'s
frames, _mul_add_jvp's pairs by index, grad's inner tracer arguments) gives what the generic
paths give: closed forms, forward mode, finite differences and the errors as before."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError, UnexpectedTracerError
from functrans.primitives.elementwise import mul_add_p
from functrans.reverse import _MAX_PAIRS


def _tanh_derivatives(y, k):
    """d^k/dx^k tanh(x) as a polynomial in y = tanh(x): P_{j+1} = (1 - y^2) P_j'."""
    p = np.polynomial.Polynomial([0.0, 1.0])  # P_0(y) = y
    slope = np.polynomial.Polynomial([1.0, 0.0, -1.0])
    for _ in range(k):
        p = slope * p.deriv()
    return p(y)


def _nest(f, k):
    for _ in range(k):
        f = ft.grad(f)
    return f


@pytest.mark.parametrize("k", range(1, 8))
def test_nested_grad_of_tanh_closed_form(k):
    # W7's computation: every order from the one rule, many-operand sums at depth
    for x in (0.5, -1.3, 0.0, 2.5):
        got = _nest(fnp.tanh, k)(np.asarray(x))
        want = _tanh_derivatives(math.tanh(x), k)
        assert type(got) is np.ndarray and got.shape == ()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * 10 ** (k / 2))


def test_nested_grad_of_tanh_mpmath():
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        for k in (3, 5, 6):
            want = float(mpmath.diff(mpmath.tanh, mpmath.mpf("0.5"), k))
            np.testing.assert_allclose(_nest(fnp.tanh, k)(np.asarray(0.5)), want, rtol=1e-12)


def test_nested_grad_matches_forward_over_reverse_and_jax():
    # reverse-over-reverse (the pending sums) against forward mode on top of it
    f = lambda x: fnp.tanh(x) * fnp.sin(x * x) + fnp.log1p(x * x)  # noqa: E731
    x = np.asarray(0.7)
    g3 = _nest(f, 3)(x)
    fwd = ft.jvp(_nest(f, 2), (x,), (np.asarray(1.0),))[1]
    np.testing.assert_allclose(g3, fwd, rtol=1e-12)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    jf = lambda x: jnp.tanh(x) * jnp.sin(x * x) + jnp.log1p(x * x)  # noqa: E731
    for k in (2, 4):
        want = jf
        for _ in range(k):
            want = jax.grad(want)
        np.testing.assert_allclose(_nest(f, k)(x), float(want(0.7)), rtol=1e-12)


def _many_products(x):
    # one variable reached by more products than a pending sum keeps (_MAX_PAIRS), by Python
    # scalars (merged into one term), NumPy scalars and arrays; then nested
    s = x * 2.0
    for i in range(_MAX_PAIRS + 5):
        s = s + x * (i + 0.5) + fnp.sin(x) * x * np.float64(1.0 + i / 7)
    return fnp.sum(s * x)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_many_pending_products_against_forward_mode(k):
    x = np.array([0.3, -0.8, 1.1])
    f = _many_products
    for _ in range(k - 1):
        f = (lambda g: lambda x: fnp.sum(ft.grad(g)(x) * x))(f)
    g = ft.grad(f)(x)
    fwd = np.array([ft.jvp(f, (x,), (e,))[1] for e in np.eye(3)])
    np.testing.assert_allclose(g, fwd, rtol=1e-11, atol=1e-12)


def test_many_pending_products_finite_differences():
    x = np.array([0.3, -0.8, 1.1])
    g = ft.grad(_many_products)(x)
    h = 1e-6
    fd = np.array([(float(_many_products(x + h * e)) - float(_many_products(x - h * e))) / (2 * h)
                   for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-7)
    # the dot-product identity of its vjp at second order
    u, v = np.array([0.2, -1.0, 0.5]), np.array([1.5, 0.25, -0.75])
    _, pull = ft.vjp(ft.grad(_many_products), x)
    hv = ft.jvp(ft.grad(_many_products), (x,), (v,))[1]
    np.testing.assert_allclose(np.dot(u, hv), np.dot(pull(u)[0], v), rtol=1e-12)


# -- many-operand operations ---------------------------------------------------------------


def _mul_add(*xs):
    return mul_add_p.bind(*xs)


def test_mul_add_lone_term_and_constants_under_jvp(backend):
    # tangents of some operands only (constants among them), with a lone last term
    a, b, c, d, e = (backend.asarray(v) for v in ([1.5, -2.0], [0.5, 3.0], [2.0, 1.0],
                                                    [-1.0, 0.25], [0.75, -0.5]))
    ta, td, te = (backend.asarray(v) for v in ([1.0, 0.5], [-2.0, 1.0], [0.25, 0.125]))

    def f(a, d, e):
        return _mul_add(a, b, 2.0, c, d, d, e)

    out, t = ft.jvp(f, (a, d, e), (ta, td, te))
    n = backend.to_numpy
    A, B, C, D, E = map(n, (a, b, c, d, e))
    np.testing.assert_allclose(n(out), A * B + 2.0 * C + D * D + E, rtol=1e-15)
    np.testing.assert_allclose(n(t), n(ta) * B + 2 * D * n(td) + n(te), rtol=1e-15)


def test_mul_add_all_tangents_many_pairs(backend):
    xs = [backend.asarray([0.1 * i + 0.3, -0.2 * i]) for i in range(8)]
    ts = [backend.asarray([1.0, 0.5 * i]) for i in range(8)]
    out, t = ft.jvp(lambda *xs: _mul_add(*xs), tuple(xs), tuple(ts))
    X, T = [backend.to_numpy(x) for x in xs], [backend.to_numpy(v) for v in ts]
    want = sum(T[i] * X[i + 1] + X[i] * T[i + 1] for i in range(0, 8, 2))
    np.testing.assert_allclose(backend.to_numpy(t), want, rtol=1e-14)
    # and its second derivative by reverse over forward: the pairs' cross terms
    g = ft.grad(lambda x: fnp.sum(ft.jvp(lambda *xs: _mul_add(*xs),
                                         (x,) + tuple(xs[1:]), tuple(ts))[1]))(xs[0])
    np.testing.assert_allclose(backend.to_numpy(g), T[1], rtol=1e-15)


def test_many_operands_evaluated_with_scalars_and_numpy_scalars():
    # at the bottom of nested grads: NumPy scalars, Python floats and ints in one operation
    f64 = np.float64
    assert _mul_add(f64(1.5), 2.0, f64(0.5), 3, f64(0.25)) == 1.5 * 2.0 + 0.5 * 3 + 0.25
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(_mul_add(x, 2.0, x, x, 1.0), x * 2.0 + x * x + 1.0)
    # staged under a grad: the primal operation of operands of one type, evaluated there
    g = ft.grad(lambda y: fnp.sum(_mul_add(y, x, x, 3.0, y, y)))(x)
    np.testing.assert_array_equal(g, x + 2 * x)


def test_many_operands_of_two_libraries_still_refused():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, 2.0])
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    with pytest.raises(BackendMismatchError):
        _mul_add(x, x, t, t)
    with pytest.raises(BackendMismatchError):
        _mul_add(t, x, x, x, 1.0)
    # under a grad whose staging forwards the primal operation to the evaluator
    with pytest.raises(BackendMismatchError):
        ft.grad(lambda y: fnp.sum(_mul_add(x, x, t, t) * y))(np.array([1.0, 1.0]))


def test_many_operands_with_a_leaked_tracer_still_refused():
    box = []
    ft.grad(lambda x: box.append(x) or x * 2.0)(np.asarray(1.0))
    x = np.asarray(2.0)
    with pytest.raises(UnexpectedTracerError):
        _mul_add(x, x, box[0], x)
    with pytest.raises(UnexpectedTracerError):
        ft.grad(lambda y: _mul_add(y, x, box[0], x))(np.asarray(1.0))


def test_constants_among_many_operands_under_forward_mode_and_vmap():
    # constants made inside (ConstTracers) beside this level's tracers and another level's
    def f(x):
        c = fnp.ones_like(x) * 3.0
        return _mul_add(x, c, c, x, x, x, c)

    x, t = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    out, tan = ft.jvp(f, (x,), (t,))
    np.testing.assert_array_equal(out, x * 3.0 + 3.0 * x + x * x + 3.0)
    np.testing.assert_array_equal(tan, t * 3.0 + 3.0 * t + (t * x + x * t))
    np.testing.assert_array_equal(ft.vmap(f)(np.array([[0.5, -1.0], [2.0, 0.0]])),
                                  [f(np.array([0.5, -1.0])), f(np.array([2.0, 0.0]))])
    h = ft.hessian(lambda x: fnp.sum(f(x)))(x)
    np.testing.assert_array_equal(h, np.diag([2.0, 2.0]))
    np.testing.assert_array_equal(ft.jit(ft.grad(lambda x: fnp.sum(f(x))))(x),
                                  ft.grad(lambda x: fnp.sum(f(x)))(x))


def test_forward_mode_of_other_levels_tracers_among_many_operands():
    # the outer level's tracer forwarded untouched by the inner forward mode
    def inner(y, x):
        return _mul_add(y, x, x, 2.0, y, y)

    def outer(x):
        return ft.jvp(lambda y: inner(y, x), (x,), (np.asarray(1.0),))[1]

    x = np.asarray(0.75)
    # d/dy = x + 2y, at y = x: 3x; its derivative in x: 3
    np.testing.assert_allclose(outer(x), 3 * 0.75, rtol=1e-15)
    np.testing.assert_allclose(ft.jvp(outer, (x,), (np.asarray(1.0),))[1], 3.0, rtol=1e-15)
    np.testing.assert_allclose(ft.grad(outer)(x), 3.0, rtol=1e-15)


# -- several results -------------------------------------------------------------------------


def test_forward_mode_of_several_results_with_a_constant_one(backend):
    a = backend.asarray([[2.0, 0.5], [1.0, -3.0]])
    ta = backend.asarray([[0.1, 0.0], [0.2, 0.3]])
    (sign, logdet), (tsign, tlog) = ft.jvp(fnp.linalg.slogdet, (a,), (ta,))
    A, TA = backend.to_numpy(a), backend.to_numpy(ta)
    np.testing.assert_allclose(backend.to_numpy(sign), -1.0)
    np.testing.assert_allclose(backend.to_numpy(logdet), np.log(6.5), rtol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(tlog), np.trace(np.linalg.solve(A, TA)),
                               rtol=1e-13)
    np.testing.assert_array_equal(backend.to_numpy(tsign), 0.0)
    # nested: the sign a constant of each level, the log's derivatives every order
    f = lambda s: fnp.linalg.slogdet(s * a)[1]  # noqa: E731
    s = backend.asarray(1.5)
    np.testing.assert_allclose(backend.to_numpy(_nest(f, 3)(s)), 2 * 2 / 1.5 ** 3, rtol=1e-12)


def test_tanh_slope_several_results_every_order_forward():
    # tanh's factors (several results) under nested forward mode
    x = np.asarray(0.4)
    f = fnp.tanh
    for k in range(1, 5):
        f = (lambda g: lambda x: ft.jvp(g, (x,), (np.asarray(1.0),))[1])(f)
        np.testing.assert_allclose(f(x), _tanh_derivatives(math.tanh(0.4), k), rtol=1e-12)


# -- grad's inner arguments ------------------------------------------------------------------


def test_inner_grad_of_a_tracer_beside_a_python_scalar():
    # the inner grad's arguments: an outer tracer and a Python scalar made like it
    def inner(x):
        ga, gb = ft.grad(lambda a, b: a * a * b, argnums=(0, 1))(x, 2.0)
        return ga + gb

    x = np.asarray(3.0)
    np.testing.assert_allclose(inner(x), 2 * 3.0 * 2.0 + 9.0)
    np.testing.assert_allclose(ft.grad(inner)(x), 4.0 + 6.0)
    np.testing.assert_allclose(ft.grad(ft.grad(inner))(x), 2.0)


def test_inner_grad_of_a_tracer_beside_a_scalar_on_torch():
    torch = pytest.importorskip("torch")

    def inner(x):
        ga, gb = ft.grad(lambda a, b: a * a * b, argnums=(0, 1))(x, 2.0)
        return ga + gb

    x = torch.tensor(3.0, dtype=torch.float64)
    g = ft.grad(inner)(x)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float64
    assert float(g) == 10.0


def test_products_by_python_scalars_still_merge_in_a_pending_sum():
    # y reached by y * 2.0 and y * 3.0 with a dense cotangent: one product by 5.0 (add_pair's
    # merge, which the inline join must leave to it), not a sum of two products
    def f(x):
        y = fnp.sin(x)
        z = y * 2.0 + y * 3.0
        return fnp.sum(z * z)

    x = np.array([1.0, 2.0])
    graph = ft.make_graph(ft.grad(f))(x)
    prims = [e[0].name for e in graph.eqns]
    scalars = [v for e in graph.eqns if e[0].name == "mul" for v in e[1] if type(v) is float]
    assert "mul_add" not in prims
    assert 5.0 in scalars
    np.testing.assert_allclose(ft.grad(f)(x), 50 * np.sin(x) * np.cos(x), rtol=1e-14)


def test_pending_sums_stay_bounded():
    # one variable reached by more products than a pending sum keeps: no mul_add of more
    # than _MAX_PAIRS pairs (and the dense rest) is recorded
    ws = [np.array([1.0 + i, 0.5 - i]) for i in range(_MAX_PAIRS + 4)]

    def f(x):
        y = fnp.sin(x)
        return fnp.sum(fnp.stack([fnp.sum(y * w * y) for w in ws]))

    x = np.array([0.3, 0.9])
    graph = ft.make_graph(ft.grad(f))(x)
    sizes = [len(e[1]) for e in graph.eqns if e[0].name == "mul_add"]
    assert sizes and max(sizes) <= 2 * _MAX_PAIRS + 1
    want = sum(2 * np.sin(x) * w for w in ws) * np.cos(x)
    np.testing.assert_allclose(ft.grad(f)(x), want, rtol=1e-13)


def test_operation_without_operands_under_a_staging():
    # a primitive bound with no operands (as axis_index is) reaches the evaluator through a
    # staging whose parent it is: the many-operand shortcut must not look for a first one
    from functrans.core import EVAL, Primitive, reset_current, set_current
    from functrans.interpreters import StagingInterpreter

    p = Primitive("perf37_no_operands")  # (not registered: no rule tables see it)
    p.def_impl(lambda b: b.xp.asarray(7.0))
    token = set_current(StagingInterpreter(EVAL))
    try:
        out = p.bind()
    finally:
        reset_current(token)
    assert float(out) == 7.0
    assert float(p.bind()) == 7.0
