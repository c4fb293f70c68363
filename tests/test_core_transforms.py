"""Acceptance tests of the core: the seeds' example, nesting, Jacobians, Hessians, control
flow, long loops, memory, threads. Each runs on every backend of the ``backend`` fixture."""

import gc
import math
import threading
import weakref

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

# The seeds' example: f(x1, x2) = x1 x2 + exp(x1 x2) - sin(x2) at (1.5, 0.5).
X1, X2 = 1.5, 0.5
E = math.exp(X1 * X2)
DF_DX1 = X2 + X2 * E
DF_DX2 = X1 + X1 * E - math.cos(X2)


def seeds_f(x1, x2):
    return x1 * x2 + fnp.exp(x1 * x2) - fnp.sin(x2)


def test_seeds_forward_mode_gives_hand_derived_partials(backend):
    x1, x2 = backend.asarray(X1), backend.asarray(X2)
    one, zero = backend.asarray(1.0), backend.asarray(0.0)
    y, dy1 = ft.jvp(seeds_f, (x1, x2), (one, zero))
    _, dy2 = ft.jvp(seeds_f, (x1, x2), (zero, one))
    assert backend.is_own(y) and backend.is_own(dy1)
    assert float(backend.to_numpy(y)) == pytest.approx(X1 * X2 + E - math.sin(X2), rel=1e-14)
    assert float(backend.to_numpy(dy1)) == pytest.approx(DF_DX1, rel=1e-14)
    assert float(backend.to_numpy(dy2)) == pytest.approx(DF_DX2, rel=1e-14)


def test_seeds_reverse_mode_gives_hand_derived_partials(backend):
    x1, x2 = backend.asarray(X1), backend.asarray(X2)
    g1, g2 = ft.grad(seeds_f, argnums=(0, 1))(x1, x2)
    assert backend.is_own(g1) and backend.is_own(g2)
    assert float(backend.to_numpy(g1)) == pytest.approx(DF_DX1, rel=1e-14)
    assert float(backend.to_numpy(g2)) == pytest.approx(DF_DX2, rel=1e-14)


def test_seeds_python_scalars_become_float64_arrays():
    g1, g2 = ft.grad(seeds_f, argnums=(0, 1))(X1, X2)
    assert isinstance(g1, np.ndarray) and g1.dtype == np.float64 and g1.shape == ()
    assert float(g2) == pytest.approx(DF_DX2, rel=1e-14)


def test_make_graph_lists_the_evaluation_trace_in_order():
    def f(x1, x2):  # the seeds' trace: v3 = v1 v2, v4 = sin v2, v5 = exp v3, ...
        v3 = x1 * x2
        v4 = fnp.sin(x2)
        v5 = fnp.exp(v3)
        v6 = v3 - v4
        return v5 + v6
    g = ft.make_graph(f)(X1, X2)
    assert [eqn[0].name for eqn in g.eqns] == ["mul", "sin", "exp", "sub", "add"]
    text = str(g)
    lines = [ln.strip() for ln in text.splitlines()]
    assert "v1: f64[] = x1" in lines and "v2: f64[] = x2" in lines
    assert "v3: f64[] = mul v1 v2" in lines
    assert "v4: f64[] = sin v2" in lines
    assert "v5: f64[] = exp v3" in lines
    assert "v6: f64[] = sub v3 v4" in lines
    assert "v7: f64[] = add v5 v6" in lines
    assert lines[-2] == "return v7"
    # The graph evaluates to the function.
    (out,) = g(np.asarray(X1), np.asarray(X2))
    assert float(out) == pytest.approx(float(f(X1, X2)))


def test_make_graph_refuses_python_control_flow_on_abstract_values():
    def f(x):
        return x if x > 0 else -x
    with pytest.raises(ft.errors.ConcretizationError, match="abstract"):
        ft.make_graph(f)(1.0)

# -- perturbation confusion ----------------------------------------------------------------


def test_perturbation_confusion_nested_jvp():
    def outer(x):
        inner = lambda y: x + y  # noqa: E731
        _, d_dy = ft.jvp(inner, (1.0,), (1.0,))
        return x * d_dy
    _, d = ft.jvp(outer, (1.0,), (1.0,))
    assert float(d) == 1.0


def test_perturbation_confusion_nested_grad():
    f = lambda x: x * ft.grad(lambda y: x + y)(1.0)  # noqa: E731
    assert float(ft.grad(f)(1.0)) == 1.0


def test_perturbation_confusion_mixed():
    def outer_rev(x):
        _, d_dy = ft.jvp(lambda y: x + y, (1.0,), (1.0,))
        return x * d_dy
    assert float(ft.grad(outer_rev)(1.0)) == 1.0

    def outer_fwd(x):
        return x * ft.grad(lambda y: x + y)(1.0)
    assert float(ft.jvp(outer_fwd, (1.0,), (1.0,))[1]) == 1.0


def test_closure_ignoring_its_argument_has_zero_derivative():
    def outer(x):
        return ft.grad(lambda y: x * x)(2.0)  # ignores y
    assert float(ft.grad(lambda y: (lambda: 3.0 * y * 0.0)())(1.0)) == 0.0
    assert float(outer(3.0)) == 0.0
    assert float(ft.grad(outer)(3.0)) == 0.0
    assert float(ft.grad(lambda y: 5.0)(1.0)) == 0.0

# -- higher order --------------------------------------------------------------------------


def test_grad_nested_four_deep_on_tanh_matches_closed_form(backend):
    x = backend.asarray(0.3)
    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fnp.tanh))))(x)
    t = math.tanh(0.3)
    assert backend.is_own(d4)
    assert float(backend.to_numpy(d4)) == pytest.approx(8 * t * (1 - t * t) * (2 - 3 * t * t),
                                                       rel=1e-12)


def _vector_fn(x):
    return fnp.sum(fnp.sin(x) * fnp.exp(x[::-1])) + fnp.sum(x * x * x) * fnp.tanh(x[0])


def test_hessian_equals_jacrev_jacrev_and_jacrev_jacfwd(backend):
    x = backend.asarray([0.3, -0.7, 1.1, 0.2])
    H = backend.to_numpy(ft.hessian(_vector_fn)(x))
    H_rr = backend.to_numpy(ft.jacrev(ft.jacrev(_vector_fn))(x))
    H_rf = backend.to_numpy(ft.jacrev(ft.jacfwd(_vector_fn))(x))
    H_ff = backend.to_numpy(ft.jacfwd(ft.jacfwd(_vector_fn))(x))
    assert H.shape == (4, 4)
    np.testing.assert_allclose(H, H_rr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, H_rf, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, H_ff, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)
    # And against central differences of the gradient.
    g = ft.grad(_vector_fn)
    xn = backend.to_numpy(x)
    eps = 1e-6
    fd = np.stack([(backend.to_numpy(g(backend.asarray(xn + eps * e)))
                    - backend.to_numpy(g(backend.asarray(xn - eps * e)))) / (2 * eps)
                   for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-7)


def test_hvp_equals_hessian_times_vector(backend):
    x = backend.asarray([0.3, -0.7, 1.1, 0.2])
    v = backend.asarray([1.0, 2.0, -0.5, 0.25])
    hv = ft.hvp(_vector_fn, (x,), (v,))
    assert backend.is_own(hv)
    H = backend.to_numpy(ft.hessian(_vector_fn)(x))
    np.testing.assert_allclose(backend.to_numpy(hv), H @ backend.to_numpy(v), rtol=1e-12)


def test_jacobians_of_pytrees_have_jax_layout():
    def f(p):
        return {"y": p["a"] * 2.0, "z": fnp.sum(p["b"])}
    p = {"a": np.arange(3.0), "b": np.ones((2, 2))}
    for jac in (ft.jacfwd, ft.jacrev):
        J = jac(f)(p)
        assert J["y"]["a"].shape == (3, 3) and J["y"]["b"].shape == (3, 2, 2)
        assert J["z"]["a"].shape == (3,) and J["z"]["b"].shape == (2, 2)
        np.testing.assert_allclose(J["y"]["a"], 2 * np.eye(3))
        np.testing.assert_allclose(J["z"]["b"], np.ones((2, 2)))
        np.testing.assert_allclose(J["y"]["b"], 0.0)


def test_linearize_agrees_with_jvp():
    x = np.array([0.1, 0.5, 2.0])
    y, f_jvp = ft.linearize(_vector_fn, x)
    for t in (np.array([1.0, 0.0, 0.0]), np.array([0.3, -2.0, 1.0])):
        y2, t_out = ft.jvp(_vector_fn, (x,), (t,))
        np.testing.assert_allclose(f_jvp(t), t_out, rtol=1e-13)
        np.testing.assert_allclose(y, y2)


def test_vjp_with_pytree_output_and_has_aux():
    def f(x):
        return (fnp.sin(x), {"sq": x * x}), "aux-data"
    x = np.array([0.2, 0.4])
    out, vjp_fun, aux = ft.vjp(f, x, has_aux=True)
    assert aux == "aux-data"
    (ct,) = vjp_fun((np.ones(2), {"sq": np.array([1.0, 2.0])}))
    np.testing.assert_allclose(ct, np.cos(x) + 2 * x * np.array([1.0, 2.0]))


def test_value_and_grad_with_aux_and_argnums():
    def loss(w, b, x):
        y = x @ w + b
        return fnp.sum(y * y), {"pred": y}
    w, b, x = np.array([1.0, -1.0]), np.array(0.5), np.array([[1.0, 2.0], [3.0, 4.0]])
    (val, aux), (gw, gb) = ft.value_and_grad(loss, argnums=(0, 1), has_aux=True)(w, b, x)
    y = x @ w + b
    assert float(val) == pytest.approx(float(np.sum(y * y)))
    assert isinstance(aux["pred"], np.ndarray)
    np.testing.assert_allclose(gw, 2 * x.T @ y)
    np.testing.assert_allclose(gb, 2 * np.sum(y))
    g, aux2 = ft.grad(loss, has_aux=True)(w, b, x)
    np.testing.assert_allclose(g, gw)


def test_stop_gradient_stops_at_every_level():
    f = lambda x: x * ft.stop_gradient(x * x)  # noqa: E731
    assert float(ft.grad(f)(3.0)) == 9.0
    assert float(ft.grad(ft.grad(f))(3.0)) == 0.0
    assert float(ft.jvp(f, (3.0,), (1.0,))[1]) == 9.0


def test_integer_inputs_carry_no_tangent():
    def f(x, n):
        return x ** n
    y, t = ft.jvp(f, (2.0, np.asarray(3)), (1.0, np.asarray(0)))
    assert float(y) == 8.0 and float(t) == 12.0
    assert float(ft.grad(f)(2.0, 3)) == 12.0

# -- control flow on concrete values -------------------------------------------------------


def test_python_if_while_and_recursion_differentiate(backend):
    def soft_relu_ish(x):
        if x > 0:          # Python branch on a concrete value
            return x * x
        return -x

    def halve_until_small(x):
        while fnp.abs(x) > 1.0 if hasattr(fnp, "abs") else (x > 1.0 or x < -1.0):
            x = x * 0.5
        return x

    def power(x, n):       # recursion
        return x if n == 1 else x * power(x, n - 1)

    x = backend.asarray(1.5)
    assert float(backend.to_numpy(ft.grad(soft_relu_ish)(x))) == 3.0
    assert float(backend.to_numpy(ft.grad(soft_relu_ish)(backend.asarray(-2.0)))) == -1.0
    assert float(backend.to_numpy(ft.grad(halve_until_small)(backend.asarray(5.0)))) == 0.125
    assert float(backend.to_numpy(ft.grad(lambda x: power(x, 5))(x))) == \
        pytest.approx(5 * 1.5 ** 4)
    assert float(backend.to_numpy(ft.grad(ft.grad(lambda x: power(x, 5)))(x))) == \
        pytest.approx(20 * 1.5 ** 3)

# -- long loops and memory -----------------------------------------------------------------


def _logistic(x, r=3.0, steps=100_000):
    for _ in range(steps):
        x = r * x * (1.0 - x)
    return x


def test_grad_through_100000_python_loop_steps():
    steps = 100_000
    g = ft.grad(lambda x: _logistic(x, steps=steps))(0.3)
    # Reference by the chain rule in plain Python.
    x, d = 0.3, 1.0
    for _ in range(steps):
        d *= 3.0 * (1.0 - 2.0 * x)
        x = 3.0 * x * (1.0 - x)
    assert math.isfinite(d) and d != 0.0
    assert float(g) == pytest.approx(d, rel=1e-8)


class _Tracked(np.ndarray):
    """An ndarray subclass whose instances can be tracked with weakrefs."""


def test_nothing_from_the_computation_stays_alive_after_grad():
    created = []
    x0 = np.linspace(0.1, 0.9, 16)

    def f(x):
        for _ in range(50):
            x = fnp.sin(x) * 0.9 + 0.1
            created.append(weakref.ref(_primal_of(x)))
        return fnp.sum(x * x)

    gc.collect()
    gc.disable()
    try:
        g = ft.grad(f)(x0)
        assert g.shape == (16,)
        alive = [r for r in created if r() is not None]
        assert alive == [], f"{len(alive)} intermediate arrays are still alive"
        y, vjp_fun = ft.vjp(f, x0)
        ref = weakref.ref(vjp_fun)
        del vjp_fun
        assert ref() is None
        alive = [r for r in created if r() is not None]
        assert alive == []
    finally:
        gc.enable()


def _primal_of(x):
    while hasattr(x, "primal"):
        x = x.primal
    return x

# -- threads -------------------------------------------------------------------------------


def test_two_threads_run_different_grads_concurrently():
    errors = []

    def worker(fn, deriv, seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(1000):
                x = float(rng.uniform(0.1, 1.0))
                got = float(ft.grad(fn)(x))
                if not math.isclose(got, deriv(x), rel_tol=1e-12):
                    errors.append((fn, x, got, deriv(x)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t1 = threading.Thread(target=worker, args=(fnp.sin, math.cos, 1))
    t2 = threading.Thread(target=worker, args=(lambda x: x * x * x, lambda x: 3 * x * x, 2))
    t1.start(); t2.start(); t1.join(); t2.join()  # noqa: E702
    assert errors == []

# -- user arrays are never written ---------------------------------------------------------


def test_read_only_inputs_are_not_written():
    x = np.linspace(0.0, 1.0, 5)
    x.flags.writeable = False
    before = x.copy()
    ft.hessian(lambda x: fnp.sum(fnp.sin(x[1:]) * x[:-1]))(x)
    ft.jacrev(lambda x: x[::2] * 3.0)(x)
    np.testing.assert_array_equal(x, before)
