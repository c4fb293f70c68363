"""functrans.testing: check_grads catches planted wrong derivatives (custom_jvp, custom_vjp,
a wrong transpose rule, a wrong second derivative) and names the mode, order and argument;
correct derivatives pass on every backend; the strategies draw what they promise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Primitive
from functrans.testing import (GradCheckError, check_grads, check_jvp, check_vjp,
                               strategies as fts)

# -- planted bugs ----------------------------------------------------------------------------------


def _scaled_product_jvp(factor_x, factor_y):
    """``f(x, y) = x * sin(y)`` with a custom JVP rule off by the given factors."""
    @ft.custom_jvp
    def f(x, y):
        return x * fnp.sin(y)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        # fnp.multiply, not *: a zero tangent arrives as a plain array of the backend, and
        # array_api_strict's Array.__mul__ rejects a tracer on its right.
        return f(x, y), (fnp.multiply(factor_x * tx, fnp.sin(y))
                         + fnp.multiply(factor_y * ty, x * fnp.cos(y)))
    return f


def _scaled_product_vjp(factor_x, factor_y):
    """``f(x, y) = x * sin(y)`` with a custom VJP rule off by the given factors."""
    @ft.custom_vjp
    def f(x, y):
        return x * fnp.sin(y)

    def fwd(x, y):
        return f(x, y), (x, y)

    def bwd(res, g):
        x, y = res
        return factor_x * g * fnp.sin(y), factor_y * g * x * fnp.cos(y)
    f.defvjp(fwd, bwd)
    return f


def _args(backend, dtype="float64"):
    return (backend.asarray([0.3, -1.2, 2.0], dtype), backend.asarray([0.5, 1.1, -0.4], dtype))


def test_correct_custom_jvp_passes(backend):
    check_grads(_scaled_product_jvp(1.0, 1.0), _args(backend), order=2)


def test_custom_jvp_off_by_a_factor_is_caught(backend):
    f = _scaled_product_jvp(2.0, 2.0)
    with pytest.raises(GradCheckError, match=r"mode 'fwd', order 1") as e:
        check_grads(f, _args(backend))
    assert "argument 0" in str(e.value)
    assert "max abs error" in str(e.value) and "J v by finite differences" in str(e.value)
    with pytest.raises(AssertionError, match=r"mode 'rev', order 1.*\n.*argument 0"):
        check_vjp(f, _args(backend))


def test_custom_jvp_wrong_in_one_argument_is_caught_and_named(backend):
    f = _scaled_product_jvp(1.0, 1.5)
    check_jvp(lambda x: f(x, _args(backend)[1]), _args(backend)[:1])  # argument 0 is right
    for check in (check_grads, check_jvp, check_vjp):
        with pytest.raises(GradCheckError) as e:
            check(f, _args(backend))
        msg = str(e.value)
        assert "with respect to argument 1 " in msg, msg
        assert "argument 0" not in msg, msg


def test_correct_custom_vjp_passes():
    check_grads(_scaled_product_vjp(1.0, 1.0), _args(_NumPy()), order=1)


def test_correct_custom_vjp_passes_at_order_two():
    check_grads(_scaled_product_vjp(1.0, 1.0), _args(_NumPy()), order=2)


def test_custom_vjp_with_wrong_bwd_is_caught():
    args = _args(_NumPy())
    with pytest.raises(GradCheckError, match=r"mode 'fwd'.*\n.*argument 0"):
        check_grads(_scaled_product_vjp(3.0, 1.0), args)
    # forward mode uses the transpose of bwd, so JVP and VJP agree with each other: the
    # reverse check must compare against finite differences to see it.
    with pytest.raises(GradCheckError, match=r"mode 'rev'.*finite differences.*\n.*argument 1"):
        check_vjp(_scaled_product_vjp(1.0, -1.0), args)
    with pytest.raises(GradCheckError, match=r"with respect to argument 1 "):
        check_grads(_scaled_product_vjp(1.0, 0.5), args)


def test_custom_vjp_forward_mode_on_array_api_strict():
    import array_api_strict as xp
    f = _scaled_product_vjp(1.0, 1.0)
    x, y = xp.asarray([0.3, -1.2]), xp.asarray([0.5, 1.1])
    ft.jvp(f, (x, y), (x, y))


def test_custom_vjp_reverse_mode_on_every_backend(backend):
    args = _args(backend)
    y, pull = ft.vjp(_scaled_product_vjp(1.0, 1.0), *args)
    gx, gy = pull(backend.asarray([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(backend.to_numpy(gx), np.sin(backend.to_numpy(args[1])))


class _NumPy:
    def asarray(self, data, dtype="float64"):
        return np.asarray(data, dtype=dtype)


def _wrong_second_derivative():
    """``sin`` whose JVP rule is right but not differentiable: its derivative is lost."""
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t * fnp.stop_gradient(fnp.cos(x))
    return f


def test_wrong_second_derivative_caught_at_order_two_only(backend):
    f, x = _wrong_second_derivative(), (backend.asarray([0.3, 1.0]),)
    check_grads(f, x, order=1)
    with pytest.raises(GradCheckError, match=r"mode 'fwd', order 2, function jvp\(f\)") as e:
        check_grads(f, x, order=2)
    # derived functions are checked along one direction moving all their inputs at once:
    # the message lists them (the primal and its tangent) and the outputs
    assert ("with respect to every input at once (primal argument 0, tangent for argument 0)"
            in str(e.value))
    assert "at tangent output" in str(e.value)
    with pytest.raises(GradCheckError, match=r"mode 'rev', order 2, function vjp\(f\)"):
        check_grads(f, x, order=2, modes=("rev",))


def _wrong_cross_derivative():
    """``f(x, y) = sin(x) * exp(y)`` whose JVP rule is right but loses one mixed second
    derivative (d/dy of the coefficient of x's tangent); every first derivative is right."""
    @ft.custom_jvp
    def f(x, y):
        return fnp.sin(x) * fnp.exp(y)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        return f(x, y), (tx * fnp.cos(x) * fnp.stop_gradient(fnp.exp(y))
                         + ty * fnp.sin(x) * fnp.exp(y))
    return f


@pytest.mark.parametrize("modes", [("fwd",), ("rev",)])
def test_one_wrong_mixed_partial_caught_at_order_two(modes):
    """At order 2 one direction moves every input of the derived function at once: a single
    wrong mixed partial derivative among the correct ones still fails the check, in each
    mode alone."""
    f = _wrong_cross_derivative()
    args = (np.asarray([0.3, -1.1]), np.asarray([0.5, 0.2]))
    check_grads(f, args, order=1, modes=modes)
    with pytest.raises(GradCheckError, match=r"(?s)order 2.*with respect to every input at once"):
        check_grads(f, args, order=2, modes=modes)


def _scale_with_wrong_transpose():
    """A linear primitive ``2 x`` whose transpose rule says ``3 ct`` (not registered, so the
    primitive table does not see it)."""
    p = Primitive("test_scale_by_two")
    p.def_impl(lambda backend, x: x * 2.0)
    p.def_abstract_eval(lambda a: a)
    p.same_aval = True
    p.def_jvp(lambda primals, tangents: (p.bind(primals[0]), p.bind(tangents[0])))
    p.def_transpose(lambda ct, x: [ct * 3.0])
    return p.bind


def test_wrong_transpose_rule_is_caught_by_the_dot_product_identity():
    f = _scale_with_wrong_transpose()
    x = (np.asarray([1.0, 2.0]),)
    check_jvp(f, x)
    with pytest.raises(GradCheckError, match=r"not the transpose of the JVP") as e:
        check_vjp(f, x)
    assert "<u, J v> with J v by jvp" in str(e.value)

# -- pytrees, dtypes, scalars ---------------------------------------------------------------------------


def test_pytree_path_is_named(backend):
    wrong = _scaled_product_jvp(1.0, 1.25)

    def loss(params, data):
        return fnp.sum(wrong(params["w"], data) * params["b"][0])
    params = {"w": backend.asarray([0.2, 0.4, 0.6]), "b": [backend.asarray(1.5)]}
    data = backend.asarray([1.0, 2.0, 0.5])
    with pytest.raises(GradCheckError) as e:
        check_grads(loss, (params, data), order=1)
    assert "with respect to argument 1 " in str(e.value)
    check_grads(lambda p: loss(p, data), (params,), order=2)  # w and b are right
    with pytest.raises(GradCheckError, match=r"argument 0 at path \['w'\]"):
        check_grads(lambda p: fnp.sum(wrong(data, p["w"]) * p["b"][0]), (params,))


def test_correct_functions_pass_to_order_three(backend):
    x = backend.asarray([[0.3, -0.7], [1.1, 0.2]])
    w = backend.asarray([0.5, -1.5])
    check_grads(lambda x, w: fnp.tanh(x @ w) * fnp.exp(fnp.sum(x)), (x, w), order=3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tolerances_follow_the_dtype(backend, dtype):
    x = backend.asarray([0.3, -1.2, 2.0], dtype)
    check_grads(lambda x: fnp.exp(x) * fnp.sin(x) + x ** 3, (x,), order=2)
    slightly = _scaled_product_jvp(1.05, 1.0)
    with pytest.raises(GradCheckError, match=dtype):
        check_grads(slightly, (x, x))


def test_python_scalars_and_integer_leaves():
    check_grads(lambda x, y: fnp.sin(x) * y, (0.5, 2.0), order=2)

    def f(x, n):
        return x ** 2 * fnp.sum(n)  # n (int) is held fixed
    check_grads(f, (np.asarray([1.0, 2.0]), np.asarray([1, 2])), order=2)


def test_several_outputs_are_named():
    bad = _scaled_product_jvp(1.0, 2.0)

    def f(x, y):
        return {"good": fnp.sin(x) * y, "bad": bad(x, y)}
    with pytest.raises(GradCheckError, match=r"at output at path \['bad'\]"):
        check_grads(f, (np.asarray([0.5, 1.0]), np.asarray([0.2, 0.3])))


def test_the_check_is_deterministic():
    f, x = _scaled_product_jvp(1.0, 1.3), (np.asarray([0.5]), np.asarray([0.2]))
    msgs = []
    for _ in range(2):
        with pytest.raises(GradCheckError) as e:
            check_grads(f, x)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="modes"):
        check_grads(fnp.sin, (0.5,), modes=("forward",))
    with pytest.raises(ValueError, match="order"):
        check_grads(fnp.sin, (0.5,), order=0)
    with pytest.raises(TypeError, match=r"write \(x,\)"):
        check_grads(fnp.sin, 0.5)


def test_nan_derivative_fails():
    @ft.custom_jvp
    def f(x):
        return x * 1.0

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), t[0] * fnp.log(-fnp.ones_like(p[0]))
    with np.errstate(invalid="ignore"), pytest.raises(GradCheckError, match="nan"):
        check_grads(f, (np.asarray([1.0]),), order=1)

# -- strategies --------------------------------------------------------------------------------------


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_strategies_respect_domains(backend, data):
    xp = backend.xp
    x = data.draw(fts.arrays(backend, domain=fts.positive(0.5, 2.0)))
    assert backend.is_own(x)
    assert float(xp.min(x)) >= 0.5 and float(xp.max(x)) <= 2.0
    y = data.draw(fts.arrays(backend, "float32", domain=fts.away_from(0.0, 1.0, margin=0.25)))
    assert y.dtype == xp.float32
    yn = backend.to_numpy(y)
    assert np.all(np.abs(yn) >= 0.25 - 1e-6) and np.all(np.abs(yn - 1.0) >= 0.25 - 1e-6)
    u = data.draw(fts.arrays(backend, domain=fts.unit_interval(0.1), shape=(3,)))
    assert u.shape == (3,) and np.all((backend.to_numpy(u) >= 0.1) & (backend.to_numpy(u) <= 0.9))
    a, b = data.draw(fts.broadcastable_arrays(backend))
    assert a.dtype == b.dtype
    fnp.broadcast_shapes(tuple(a.shape), tuple(b.shape))  # compatible
    tree = data.draw(fts.array_pytrees(backend, shape=fts.shapes(max_dims=1)))
    assert all(backend.is_own(v) for v in ft.tree.tree_flatten(tree)[0])


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_check_grads_in_a_property_test(backend, data):
    x = data.draw(fts.arrays(backend, domain=fts.positive(), shape=fts.shapes(max_dims=2)))
    check_grads(lambda x: fnp.log(x) * fnp.sqrt(x), (x,), order=2)

# -- review: false passes and false failures ------------------------------------------------------


def _custom(fprim, fder):
    @ft.custom_jvp
    def f(x):
        return fprim(x)

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), fder(p[0]) * t[0]
    return f


def test_an_error_in_a_small_element_is_not_hidden_by_a_large_one():
    # d/dx exp(10 x) is 2.2e5 at x = 1 and 0.07 at x = -0.5: the small one is off by 2x
    f = _custom(lambda x: fnp.exp(10 * x),
                lambda x: 10 * fnp.exp(10 * x) * fnp.asarray([1.0, 2.0]))
    with pytest.raises(GradCheckError, match="mode 'fwd', order 1"):
        check_grads(f, (np.asarray([1.0, -0.5]),), order=1, modes="fwd")
    x32 = np.linspace(-1, 3, 9, dtype=np.float32)  # in float32 a ratio of ~50 suffices
    g = _custom(fnp.exp, lambda x: fnp.where(x < 0, 2 * fnp.exp(x), fnp.exp(x)))
    with pytest.raises(GradCheckError, match="float32"):
        check_grads(g, (x32,), order=1, modes="fwd")
    check_grads(lambda x: fnp.sin(1000 * x), (np.asarray([0.3, -1.2, 2.0]),), order=2)


def test_large_inputs_use_the_rounded_step():
    x = np.asarray([0.3, -1.2, 2.0]) * 1e6
    check_grads(fnp.sin, (x,), order=2)
    check_grads(lambda x: fnp.tanh(x - np.asarray([3e5, -1.2e6, 2e6])), (x,), order=2)
    check_grads(fnp.sin, (x.astype(np.float32) / 1e3,), order=2)
    with pytest.raises(ValueError, match="pass a larger eps|Pass a larger eps"):
        check_grads(fnp.sin, (x.astype(np.float32),), order=1)


def test_a_too_large_step_is_diagnosed():
    x = np.asarray([0.3, 1.2, 2.0]) * 1e-6
    with pytest.raises(GradCheckError, match="pass a smaller eps"):
        check_grads(fnp.log, (x,), order=1, modes="fwd")
    check_grads(fnp.log, (x,), order=2, eps=1e-12)


def test_nothing_to_check_is_an_error():
    wrong = _custom(fnp.sin, lambda x: 5.0 * fnp.cos(x))
    for args in ((1,), (np.asarray([1, 2]),)):
        with pytest.raises(TypeError, match="no real floating-point argument"):
            check_grads(wrong, args)
    with pytest.raises(TypeError, match="no real floating-point output"):
        check_grads(lambda x: fnp.astype(x > 0, fnp.int32), (np.asarray([1.0]),))


def test_a_check_that_could_not_fail_says_so():
    """f = 1e9 + sin x: the rounding of f swamps its change over the finite-difference step,
    so a wrong-signed derivative would pass; the check refuses instead of passing."""
    @ft.custom_jvp
    def wrong(x):
        return 1e9 + fnp.sin(x)

    @wrong.defjvp
    def wrong_jvp(p, t):
        return wrong(p[0]), -fnp.cos(p[0]) * t[0]
    x = np.asarray([0.3, -1.2])
    for f in (wrong, lambda x: 1e9 + fnp.sin(x)):
        with pytest.raises(ValueError, match="is as large as the derivative"):
            check_grads(f, (x,), order=1)
    check_grads(lambda x: 1e3 + fnp.sin(x), (x,), order=1)  # resolvable: still checked
    with pytest.raises(GradCheckError):
        check_grads(lambda x: wrong(x) - 1e9 + 1e3, (x,), order=1)


def test_check_grads_takes_complex_inputs_and_outputs_as_real_pairs(backend):
    import functrans.lax as flax
    z = backend.asarray([0.3 + 0.2j, -0.5 + 1.0j], "complex128")
    x = backend.asarray([0.7, -0.2])
    # holomorphic, non-holomorphic, complex -> real, real -> complex, mixed arguments
    check_grads(lambda z: fnp.sin(z) * fnp.conj(z), (z,), order=2)
    check_grads(lambda z, x: fnp.abs(z) ** 2 + x * fnp.real(fnp.exp(z)), (z, x), order=2)
    check_grads(lambda x: flax.complex(x, fnp.sin(x)) * (2 - 1j), (x,), order=2)
    check_grads(lambda z: fnp.log(z), (1.0 + 2.0j,), order=3)

    # a complex rule that is wrong (cos of the conjugate) is caught
    @ft.custom_jvp
    def wrong(z):
        return fnp.sin(z)

    @wrong.defjvp
    def _(primals, tangents):
        return fnp.sin(primals[0]), fnp.cos(fnp.conj(primals[0])) * tangents[0]
    with pytest.raises(GradCheckError, match="argument 0 at path \\[0\\]"):
        check_grads(wrong, (z,), order=1)


def test_check_grads_leaves_out_outputs_not_finite_at_the_point(backend):
    import functrans.lax as flax
    x = backend.asarray([0.3, 0.5, 0.1, 0.9])
    # a max over padding only is -inf there, with derivative 0: was inf - inf = nan
    check_grads(lambda x: flax.reduce_window(x, -np.inf, flax.max, (3,), (1,), [(2, 2)]),
                (x,), order=2)
    check_grads(lambda x: fnp.where(x > 0.4, np.inf, fnp.sin(x)), (x,), order=2)

    @ft.custom_jvp
    def wrong(x):
        return fnp.where(x > 0.4, np.inf, fnp.sin(x))

    @wrong.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return wrong(x), fnp.where(x > 0.4, 0.0, 2 * fnp.cos(x)) * t
    with pytest.raises(GradCheckError, match="disagrees with central finite differences"):
        check_grads(wrong, (x,), order=1)  # the finite entries are still compared
