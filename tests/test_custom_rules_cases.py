"""Edge cases of custom derivative rules, following the topics of JAX's custom-derivatives
tests (tests/custom_derivatives_test.py, now custom_api_test.py): each case is restated here
in our own code and run on functrans and on JAX (x64) side by side, the results compared.

Cases specific to jaxprs, XLA, pmap or sharding are left out. Where functrans deliberately
differs from JAX (no float0 zero arrays, forward mode through custom_vjp, closures
and nondiff_argnums holding traced values) the test pins functrans's behaviour and says so;
docs/coming-from-jax.md ("Custom rules") describes those differences.
"""

import functools

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import CustomRuleError

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402


class Lib:
    """One library's transforms and namespaces, so that a case is written once."""

    def __init__(self, mod, np_, name):
        self.m, self.np, self.lax, self.name = mod, np_, mod.lax, name

    def __getattr__(self, attr):
        return getattr(self.m, attr)


FT = Lib(ft, fnp, "functrans")
JX = Lib(jax, jnp, "jax")


def close(a, b, tol=1e-10):
    la, ta = optree.tree_flatten(a, none_is_leaf=True)
    lb, tb = optree.tree_flatten(b, none_is_leaf=True)
    assert len(la) == len(lb), (ta, tb)
    for x, y in zip(la, lb):
        if x is None or y is None:
            assert x is None and y is None
            continue
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def same(case, tol=1e-10):
    """Run ``case(lib)`` on functrans and on JAX; the results must agree."""
    got = case(FT)
    close(got, case(JX), tol)
    return got


# -- custom_jvp ------------------------------------------------------------------------------


def _sin_twice_cos(L):
    """sin with a deliberately wrong derivative (2 cos), so that using the rule shows."""
    @L.custom_jvp
    def f(x):
        return L.np.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), t * (2.0 * L.np.cos(x))  # (tracer first: array-api-strict #188)
    return f


def test_jvp_basic_value_jvp_grad():
    def case(L):
        f = _sin_twice_cos(L)
        return f(3.0), L.jvp(f, (3.0,), (1.0,)), L.grad(f)(3.0)
    got = same(case)
    close(got[2], 2 * np.cos(3.0))


def test_jvp_rule_invariant_under_nested_jvp():
    def case(L):
        @L.custom_jvp
        def f(x):
            return L.np.cos(2 * x) / 2.0

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), 3.0 * tangents[0]

        def f2(x):
            return L.jvp(f, (x,), (x,))[0]

        def f3(x):
            return L.jvp(f2, (x,), (x,))[0]
        return [L.jvp(g, (1.0,), (1.0,)) for g in (f, f2, f3)]
    got = same(case)
    close(got[0], got[1])
    close(got[0], got[2])


def test_jvp_python_control_flow_in_function_and_rule():
    def case(L):
        @L.custom_jvp
        def f(x):
            return L.np.sin(x) if x > 0 else L.np.cos(x)

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return f(x), (2.0 if x > 0 else 3.0) * t
        return [(f(x), L.jvp(f, (x,), (1.0,)), L.grad(f)(x)) for x in (2.0, -2.0)]
    same(case)


def test_jvp_vmap_rule_sees_unbatched_values():
    def case(L):
        seen = []

        @L.custom_jvp
        def f(x):
            seen.append(L.np.ndim(x))
            return L.np.sin(x)

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            seen.append(L.np.ndim(x) + L.np.ndim(t))
            return f(x), 2.0 * L.np.cos(x) * t
        x = L.np.arange(3.0)
        xx = L.np.arange(6.0).reshape(2, 3)
        jv = lambda x: L.jvp(f, (x,), (x,))  # noqa: E731
        out = [L.vmap(f)(x), L.vmap(L.vmap(f))(xx), L.vmap(jv)(x), L.vmap(L.vmap(jv))(xx),
               L.jvp(L.vmap(f), (x,), (x,)), L.jvp(L.vmap(L.vmap(f)), (xx,), (xx,)),
               L.vmap(lambda x: L.jvp(L.vmap(f), (x,), (x,)))(xx)]
        assert set(seen) == {0}, seen
        return out
    got = same(case)
    close(got[2][1], 2 * np.cos(np.arange(3.0)) * np.arange(3.0))


def test_jvp_jit_in_every_order():
    def case(L):
        f = _sin_twice_cos(L)
        jv = lambda x: L.jvp(f, (x,), (x,))  # noqa: E731
        return (L.jit(f)(3.0), L.jit(L.jit(f))(3.0), L.jit(jv)(3.0),
                L.jvp(L.jit(f), (3.0,), (3.0,)), L.grad(L.jit(f))(3.0), L.jit(L.grad(f))(3.0))
    same(case)


def test_jvp_pytree_input_and_output():
    def case(L):
        @L.custom_jvp
        def f(x):
            return {"b": L.np.sin(x["a"])}

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return f(x), {"b": 2.0 * L.np.cos(x["a"]) * t["a"]}
        x = {"a": 3.0}
        return f(x), L.jvp(f, (x,), (x,)), L.grad(lambda x: f(x)["b"])(x)
    same(case)


def test_jvp_keyword_argument_with_default_reaches_rule_by_position():
    def case(L):
        @L.custom_jvp
        def f(x, y, c=1.0):
            return c * (x + y)

        @f.defjvp
        def f_jvp(primals, tangents):
            x, y, c = primals
            tx, ty, tc = tangents
            return f(x, y, c), c * (tx + ty) + tc * (x + y)
        g = lambda x, y: L.np.square(f(x, y, c=2.0)).sum()  # noqa: E731
        return g(10.0, 5.0), L.jvp(g, (10.0, 5.0), (1.0, 1.0)), L.grad(g, (0, 1))(10.0, 5.0)
    same(case)


def _scan_once(L, f):
    def foo(x):
        return L.lax.scan(lambda c, _: (f(c), None), x, None, length=1)[0]
    return foo


def test_jvp_inside_scan_every_order_of_grad_and_jit():
    def case(L):
        @L.custom_jvp
        def f(x):
            return 3.0 * x

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), 2.0 * tangents[0]
        foo = _scan_once(L, f)
        g, j = L.grad, L.jit
        return [g(foo)(3.0), g(j(foo))(3.0), j(g(foo))(3.0), g(g(foo))(3.0),
                g(g(j(foo)))(3.0), g(j(g(foo)))(3.0), j(g(g(foo)))(3.0)]
    got = same(case)
    close(got[0], 2.0)
    close(got[3], 0.0)


def test_jvp_inside_scan_with_vmap():
    def case(L):
        y = L.np.arange(1.0, 4.0)  # a closed-over constant array

        @L.custom_jvp
        def f(x):
            assert L.np.ndim(x) == 0
            return 3.0 * x * L.np.sum(y)

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), 2.0 * tangents[0]
        foo = _scan_once(L, f)
        x = L.np.ones(3)
        g, j, v = L.grad, L.jit, L.vmap
        return [v(foo)(x), v(j(foo))(x), j(v(foo))(x),
                g(lambda x: v(foo)(x).sum())(x), g(lambda x: v(j(foo))(x).sum())(x),
                g(lambda x: j(v(foo))(x).sum())(x), g(j(lambda x: v(foo)(x).sum()))(x),
                j(g(lambda x: v(foo)(x).sum()))(x)]
    same(case)


def test_jvp_rule_closing_over_outer_value_with_constant_argument():
    # JAX raises (the rule's x is a leaked tracer); functrans differentiates the function as
    # written when its own arguments carry no tangent (docs/coming-from-jax.md).
    def f(x):
        @ft.custom_jvp
        def g(y):
            return x + y

        @g.defjvp
        def g_jvp(primals, tangents):
            return g(x), 2.0 * primals[0]
        return g(1.0)
    close(ft.jvp(f, (3.0,), (1.0,)), (4.0, 1.0))
    close(ft.grad(f)(3.0), 1.0)
    with pytest.raises(jax.errors.UnexpectedTracerError):
        jax.grad(lambda x: _jax_closure_g(x))(3.0)


def _jax_closure_g(x):
    @jax.custom_jvp
    def g(y):
        return x + y

    @g.defjvp
    def g_jvp(primals, tangents):
        return g(x), 2.0 * primals[0]
    return g(1.0)


def test_jvp_closed_over_value_with_differentiated_argument_is_refused():
    # The rule would drop the closed-over part of the derivative: both libraries refuse.
    def f(x):
        @functools.partial(ft.custom_jvp, nondiff_argnums=(0,))
        def g(h, y):
            return h(y)

        @g.defjvp
        def g_jvp(h, primals, tangents):
            return g(h, primals[0]), 2.0 * tangents[0]
        return g(lambda y: x + y, x)
    with pytest.raises(CustomRuleError, match="closed-over"):
        ft.jvp(f, (2.0,), (1.0,))


def test_jvp_nondiff_argnums_function_argument():
    def case(L):
        @functools.partial(L.custom_jvp, nondiff_argnums=(0,))
        def app(f, x):
            return f(x)

        @app.defjvp
        def app_jvp(f, primals, tangents):
            return app(f, primals[0]), 3.0 * tangents[0]
        return (app(lambda x: 2 * x, 1.0), L.jvp(lambda x: app(lambda y: 2 * y, x), (1.0,), (1.0,)),
                L.grad(lambda x: app(lambda y: 2 * y, x))(1.0))
    got = same(case)
    close(got[1], (2.0, 3.0))


def test_jvp_nondiff_argnums_static_shape_under_vmap_and_jvp():
    def case(L):
        @functools.partial(L.custom_jvp, nondiff_argnums=(0,))
        def spread(shape, p):
            return L.np.ones(shape) * p ** 2

        @spread.defjvp
        def spread_jvp(shape, primals, tangents):
            (p,), (t,) = primals, tangents
            return spread(shape, p), L.np.broadcast_to(5.0 * t, shape)
        return (L.vmap(lambda p: spread((2, 3), p))(L.np.arange(3.0)),
                L.jvp(lambda p: spread((2, 3), p), (1.5,), (1.0,)),
                L.grad(lambda p: spread((2, 3), p).sum())(1.5))
    same(case)


def test_jvp_nondiff_argnums_batched_value_is_refused():
    # JAX batches a traced value named in nondiff_argnums; functrans asks for it to be an
    # ordinary argument instead (docs/coming-from-jax.md).
    @functools.partial(ft.custom_jvp, nondiff_argnums=(0,))
    def f(x, y):
        return x * y

    @f.defjvp
    def f_jvp(x, primals, tangents):
        return f(x, primals[0]), 5.0 * tangents[0]
    with pytest.raises(CustomRuleError, match="nondiff_argnums.*ordinary argument"):
        ft.jvp(lambda y: ft.vmap(f)(np.array([2.0]), y), (np.array([3.0]),),
               (np.array([1.0]),))


def test_jvp_missing_rule_error_at_call():
    @ft.custom_jvp
    def foo(x):
        return x ** 2
    for call in (lambda: foo(2.0), lambda: ft.jvp(foo, (2.0,), (1.0,)),
                 lambda: ft.grad(foo)(2.0)):
        with pytest.raises(CustomRuleError, match="foo has no JVP rule.*defjvp"):
            call()


def test_jvp_rule_errors_say_what_was_wrong():
    @ft.custom_jvp
    def f(x):
        return (x ** 2,)

    @f.defjvp
    def bad_structure(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), [2 * x * t, x]
    f(2.0)
    with pytest.raises(CustomRuleError, match="different structures"):
        ft.jvp(f, (2.0,), (1.0,))

    @ft.custom_jvp
    def g(x):
        return x ** 2

    @g.defjvp
    def bad_shape(primals, tangents):
        return g(primals[0]), fnp.reshape(tangents[0], (1,))
    with pytest.raises(CustomRuleError, match=r"shape \(1,\) but its primal has shape \(\)"):
        ft.jvp(g, (np.float64(2.0),), (np.float64(1.0),))

    @g.defjvp
    def not_a_pair(primals, tangents):
        return tangents[0]
    g(2.0)
    with pytest.raises(CustomRuleError, match="must return a pair"):
        ft.jvp(g, (2.0,), (1.0,))


def test_jvp_rule_primal_output_not_matching_function():
    # Neither library checks the rule's primal output against the function's when it runs
    # eagerly (the rule's wins); under scan, whose carry must keep its form, both refuse.
    def case(L):
        @L.custom_jvp
        def f(x):
            return x

        @f.defjvp
        def two(primals, tangents):
            (x,), (t,) = primals, tangents
            return (x, x), (t, t)
        return L.jvp(f, (1.0,), (1.0,))
    close(same(case), ((1.0, 1.0), (1.0, 1.0)))

    @ft.custom_jvp
    def g(x):
        return x

    @g.defjvp
    def wider(primals, tangents):
        (x,), (t,) = primals, tangents
        return fnp.zeros((3,)) + x, fnp.zeros((3,)) + t
    x = np.float64(1.0)
    with pytest.raises(TypeError, match="carry's structure|shape"):
        ft.jvp(_scan_once(FT, g), (x,), (x,))


def test_jvp_rule_called_many_times_in_scan():
    def case(L):
        @L.custom_jvp
        def expit(x):
            return 1 / (1 + L.np.exp(-x))

        @expit.defjvp
        def expit_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            y = expit(x)
            return y, t * y * (1 - y)

        def body(c, _):
            return [expit(c[0])] + [c[i - 1] + c[i] for i in range(1, len(c))], None

        def foo(x):
            z = L.np.zeros_like(x)
            return L.lax.scan(body, [x, z, z, z, z], None, length=10)[0][-1]
        return foo(3.0), L.grad(foo)(3.0), L.grad(lambda x: L.vmap(foo)(x).sum())(
            L.np.arange(3.0))
    same(case)


def test_jvp_constant_function_under_jit_vmap_grad():
    def case(L):
        @L.custom_jvp
        def f(x):
            return np.zeros(x.shape, x.dtype)

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), tangents[0]
        x = L.np.arange(3.0)
        return (L.jit(L.vmap(f))(x), L.jit(L.vmap(L.grad(f)))(x),
                L.jit(L.grad(lambda x: L.vmap(f)(x).sum()))(x),
                L.grad(lambda x: L.vmap(f)(x).sum())(x), L.jvp(L.vmap(f), (x,), (L.np.ones(3),)))
    same(case)


def test_jvp_relu_rule_with_select_in_scan():
    def case(L):
        @L.custom_jvp
        def relu(x):
            return L.np.maximum(x, 0.0)

        @relu.defjvp
        def relu_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return relu(x), L.lax.select(x > 0, t, L.lax.full_like(t, 0))

        def body(c, _):
            return [relu(c[0])] + [c[i - 1] + c[i] for i in range(1, len(c))], None

        def f(x):
            z = L.np.zeros_like(x)
            return L.lax.scan(body, [x, z, z, z, z], None, length=10)[0][-1]
        x = L.np.arange(3.0) - 1.0
        return (L.jit(L.vmap(f))(x), L.jit(L.vmap(L.grad(f)))(x),
                L.grad(lambda x: L.vmap(f)(x).sum())(x),
                L.jvp(L.jit(L.vmap(f)), (x,), (L.np.ones(3),)))
    same(case)


def test_jvp_eval_shape():
    def case(L):
        @L.custom_jvp
        def expit(x):
            return 1 / (1 + L.np.exp(-x))

        @expit.defjvp
        def expit_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            y = expit(x)
            return y, t * y * (1 - y)
        a = L.eval_shape(expit, L.np.ones((2, 3)))
        b = L.eval_shape(L.grad(lambda x: expit(x).sum()), L.np.ones((2, 3)))
        return [(tuple(s.shape), np.dtype(getattr(s.dtype, "name", s.dtype)))
                for s in (a, b)]
    assert case(FT) == case(JX)


def test_jvp_matmul_rule_in_scan_with_constant_operand():
    def case(L):
        @L.custom_jvp
        def f(A, b):
            return A @ b

        @f.defjvp
        def f_jvp(primals, tangents):
            (A, b), (dA, db) = primals, tangents
            return f(A, b), A @ db + dA @ b

        def experiment(theta):
            def step(q, _):
                q = q + f(L.np.eye(3), L.np.ones(3) * theta)[0]
                return q, q
            return L.lax.scan(step, 0.0, None, 4)[0]
        return L.grad(experiment)(1.0)
    same(case)


def test_jvp_rule_applying_the_function_to_tangents_is_transposed():
    # Reverse mode transposes the rule's use of f on the tangent (f is linear).
    def case(L):
        @L.custom_jvp
        def f(x):
            return -x

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), f(tangents[0])

        @L.custom_jvp
        def div(x, y):
            return x / y

        @div.defjvp
        def div_jvp(primals, tangents):
            (x, y), (tx, _) = primals, tangents
            return div(x, y), div(tx, y)  # (ignores y's tangent on purpose)
        return (L.grad(_scan_once(L, f))(3.0), L.vjp(lambda x: div(x, 2.0), 1.0)[1](1.0),
                L.grad(div, (0, 1))(1.0, 2.0))
    got = same(case)
    close(got[0], -1.0)


def test_defjvps_with_none_for_an_argument():
    def case(L):
        @L.custom_jvp
        def f(x, y):
            return x ** 2 * y
        f.defjvps(None, lambda ty, out, x, y: x ** 2 * ty)
        return L.grad(f, 1)(2.0, 3.0), L.grad(f, 0)(2.0, 3.0), L.jvp(f, (2.0, 3.0), (1.0, 1.0))
    got = same(case)
    close(got[1], 0.0)


def test_custom_jvp_made_inline_nested_and_of_no_arguments():
    def case(L):
        def call(f, *args):
            f = L.custom_jvp(f)
            f.defjvp(lambda primals, tangents: (f(*primals), sum(tangents)))
            return f(*args)

        def fun(x):
            def bar(y):
                def baz(w):
                    q = call(lambda x: y, x)
                    q = q + call(lambda: y)
                    q = q + call(lambda y: w + y, y)
                    return call(lambda w: call(L.np.sin, x) * y, 1.0) + q
                return L.jit(baz)(x)
            return call(bar, x)
        return fun(3.0), L.jit(fun)(3.0)
    same(case)


def test_custom_function_closing_over_vmapped_value_with_unbatched_arguments():
    # The custom function's argument belongs to the jvp outside the vmap, its rules close
    # over the vmap's value: the vmap batches the call as a whole (its rules would not reach
    # that value beneath it).
    def case(L):
        def h(z, kind):
            def f(x):
                if kind == "jvp":
                    @L.custom_jvp
                    def g(y):
                        return x * y

                    @g.defjvp
                    def g_jvp(primals, tangents):
                        (y,), (t,) = primals, tangents
                        return x * y, x * t
                    return g(z)

                @L.custom_vjp
                def v(y):
                    return x * y
                v.defvjp(lambda y: (x * y, None), lambda _, c: (x * c,))
                return v(z)
            return L.vmap(f)(L.np.arange(3.0))
        return (L.jvp(lambda z: h(z, "jvp"), (1.0,), (2.0,)),
                L.grad(lambda z: h(z, "jvp").sum())(1.0),
                *([] if L is JX else [L.grad(lambda z: h(z, "vjp").sum())(1.0),
                                      L.jvp(lambda z: h(z, "vjp"), (1.0,), (2.0,))]))
    got = case(FT)
    close(got[:2], case(JX))
    close(got[0][1], 2 * np.arange(3.0))
    # (JAX reports a leaked tracer for the custom_vjp one, whose bwd closes over x)
    close(got[2:], (3.0, (np.arange(3.0), 2 * np.arange(3.0))))


def test_custom_function_closing_over_jit_value_inside_vmap():
    # A vmap batching a custom function whose rules close over the value of a jit applied
    # inside it: JAX runs it; functrans refuses (the rules run beneath the jit), saying to
    # pass the value as an argument (docs/coming-from-jax.md).
    def call(f, *args):
        f = ft.custom_jvp(f)
        f.defjvp(lambda primals, tangents: (f(*primals), sum(tangents)))
        return f(*args)

    def fun(x):
        return call(lambda y: ft.jit(lambda w: call(lambda v: w + v, y))(x), x)
    close(fun(3.0), 6.0)
    with pytest.raises(CustomRuleError, match="closes over a value of a vmap or jit.*"
                                              "StagingTracer.*as an argument"):
        ft.vmap(fun)(np.arange(3.0))

    def fun2(x):  # passed as an argument instead
        return call(lambda y: ft.jit(lambda w: call(lambda v, w: w + v, y, w))(x), x)
    close(ft.vmap(fun2)(np.arange(3.0)), 2 * np.arange(3.0))


def test_jvp_integer_argument_tangent():
    # JAX gives an integer input a float0 tangent; functrans, which has no float0, an integer
    # zero (docs/coming-from-jax.md, "Not there yet"). The float result is the same.
    @ft.custom_jvp
    def f(x, n):
        return x * n, n

    @f.defjvp
    def f_jvp(primals, tangents):
        (x, n), (tx, tn) = primals, tangents
        return f(x, n), (2.0 * n * tx, tn)
    (y, m), (ty, tm) = ft.jvp(lambda x: f(x, np.int64(3)), (2.0,), (1.0,))
    close((y, m, ty), (6.0, 3, 6.0))
    assert np.asarray(tm).dtype.kind in "iu" and int(tm) == 0
    assert float(ft.grad(lambda x: f(x, np.int64(3))[0])(2.0)) == 6.0


def test_jvp_under_checkpoint():
    def case(L):
        f = _sin_twice_cos(L)
        g = lambda x: f(f(x))  # noqa: E731
        r = L.checkpoint(g)
        return (r(2.0), L.grad(r)(2.0), L.grad(L.grad(r))(2.0),
                L.grad(L.checkpoint(L.grad(g)))(2.0),
                L.grad(L.grad(L.grad(r)))(2.0), L.grad(L.grad(g))(2.0))
    got = same(case)
    close(got[2], got[5])


def test_jvp_under_vmap_with_broadcast_closure():
    def case(L):
        y = L.np.ones((3, 2))

        def f1(z):
            v = L.vmap(lambda yy: L.np.logaddexp(z, L.np.sum(yy) + z))(y)
            return L.np.sum(v)
        val, g = L.value_and_grad(f1)(0.1)
        assert np.shape(val) == () and np.shape(g) == ()
        return val, g
    same(case)


def test_jvp_rule_with_dot_jacfwd_jacrev_agree():
    # A projection's rule using a reduction of the tangent: both modes must give the same
    # Jacobian, which is the rule's (not the function's code's).
    def case(L):
        @L.custom_jvp
        def center(x):
            return x - L.np.mean(x)

        @center.defjvp
        def center_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            w = L.np.ones_like(t)
            return center(x), t - (L.np.dot(w, t) / t.shape[0]) * w * 0.5
        x = L.np.array([0.3, 1.2, -0.4, 2.0])
        return L.jacfwd(center)(x), L.jacrev(center)(x), L.jacrev(
            lambda X: L.np.sum(L.vmap(center)(X) ** 2))(L.np.stack([x, 2 * x]))
    got = same(case)
    close(got[0], got[1])


def test_jvp_rule_using_vmap_inside():
    def case(L):
        @L.custom_jvp
        def f(m, s):
            return L.np.sum(m, axis=1) * s

        @f.defjvp
        def f_jvp(primals, tangents):
            (m, s), (tm, ts) = primals, tangents
            rows = L.vmap(lambda r, tr: L.np.sum(tr) * s + L.np.sum(r) * ts)(m, tm)
            return f(m, s), rows
        m = L.np.arange(6.0).reshape(2, 3)
        return L.grad(lambda m, s: L.np.sum(f(m, s) ** 2), (0, 1))(m, 0.5)
    same(case)


def test_jvp_scalar_input_broadcast_by_closed_over_array():
    def case(L):
        a = L.np.array([1.0, 2.0])

        @L.custom_jvp
        def f(x):
            return a * x

        @f.defjvp
        def f_jvp(primals, tangents):
            return a * primals[0], a * tangents[0]
        g = L.grad(lambda x: L.np.sum(f(x)))(L.np.array(1.0))
        assert np.shape(g) == ()
        return g
    same(case)


def test_closure_convert_of_nothing_traced_is_empty():
    for L in (FT, JX):
        seen = []

        def f():
            x = L.np.array(1)
            seen.append(L.closure_convert(lambda: x)[1])
            return x
        L.jit(f)()
        assert seen == [[]]


def test_jvp_sinc_under_lax_map_and_vmap():
    def case(L):
        data = L.np.arange(15.0).reshape(5, 3)
        f = L.vmap(lambda x: L.lax.map(L.np.sinc, x))
        return L.grad(lambda p: f(p * data).sum())(0.1)
    same(case)


def test_jvp_zero_tangent_reaches_rule_as_zero_array():
    # Without symbolic_zeros (JAX's default), the rule gets a zero array of the argument's
    # shape (tests/test_apis_s27.py: SymbolicZero with symbolic_zeros=True).
    seen = []

    @ft.custom_jvp
    def f(x, y):
        return x * y

    @f.defjvp
    def f_jvp(primals, tangents):
        seen.append([(np.shape(t), float(np.sum(np.abs(t)))) for t in tangents])
        (x, y), (tx, ty) = primals, tangents
        return f(x, y), tx * y + x * ty
    y = np.array([1.0, 2.0])
    out = ft.jvp(lambda x: f(x, y), (np.array([3.0, 4.0]),), (np.ones(2),))
    close(out, (np.array([3.0, 8.0]), np.array([1.0, 2.0])))
    assert seen == [[((2,), 2.0), ((2,), 0.0)]]


def test_jvp_of_functools_partial():
    def case(L):
        def fun(x, y, a):
            return x + y * a
        wrapped = functools.partial(fun, a=0.1)
        fn = L.custom_jvp(wrapped)
        fn.defjvp(lambda primals, tangents: L.jvp(wrapped, primals, tangents))
        return L.grad(lambda args: fn(*args))((1.0, 2.0))
    close(same(case), (1.0, 0.1))


def test_argument_resolution_errors():
    def never(*args):
        raise AssertionError("a rule ran")
    for custom in (ft.custom_jvp, ft.custom_vjp):
        @custom
        def f(x, y, *, z=None):
            return fnp.sin(x), x + fnp.cos(y)
        if custom is ft.custom_jvp:
            f.defjvp(never)
        else:
            f.defvjp(never, never)
        with pytest.raises(TypeError, match="missing a required argument: 'y'"):
            f(0.5)
        with pytest.raises(TypeError, match=r"keyword-only arguments \['z'\]"):
            f(0.5, 0.1, z=1.0)


def test_jvp_two_outputs_one_used():
    def case(L):
        @L.custom_jvp
        def f(x, y):
            return L.np.sin(x), x + L.np.cos(y)

        @f.defjvp
        def f_jvp(primals, tangents):
            (x, y), (dx, dy) = primals, tangents
            return f(x, y), (2.0 * L.np.cos(x) * dx, 1.5 * dx - 0.5 * L.np.sin(y) * dy)
        f0 = lambda x, y: f(x, y)[0]  # noqa: E731
        f1 = lambda x, y: f(x, y)[1]  # noqa: E731
        return [L.jvp(g, (0.1, -1.3), t) for g in (f0, f1) for t in ((1.0, 0.0), (0.0, 1.0))]
    same(case)


# -- custom_vjp ------------------------------------------------------------------------------


def _sin_vjp(L):
    """sin whose bwd gives twice the true cotangent, so that using bwd shows."""
    @L.custom_vjp
    def f(x):
        return L.np.sin(x)

    def fwd(x):
        return f(x), L.np.cos(x)

    def bwd(cos_x, g):
        return (g * (2.0 * cos_x),)
    f.defvjp(fwd, bwd)
    return f


def test_vjp_basic_value_grad():
    def case(L):
        f = _sin_vjp(L)
        return f(3.0), L.grad(f)(3.0), L.value_and_grad(f)(3.0)
    close(same(case)[1], 2 * np.cos(3.0))


def test_vjp_invariant_under_nested_value_and_grad():
    def case(L):
        @L.custom_vjp
        def f(x):
            return L.np.cos(2 * x) / 2.0
        f.defvjp(lambda x: (f(x), x), lambda x, g: (3.0 * g,))
        f2 = lambda x: L.value_and_grad(f)(x)[0]  # noqa: E731
        f3 = lambda x: L.value_and_grad(f2)(x)[0]  # noqa: E731
        return [(h(1.0), L.grad(h)(1.0)) for h in (f, f2, f3)]
    got = same(case)
    close(got[0], got[1])
    close(got[0], got[2])


def test_vjp_python_control_flow_in_fwd_and_bwd():
    def case(L):
        @L.custom_vjp
        def f(x):
            return L.np.sin(x) if x > 0 else L.np.cos(x)

        def fwd(x):
            return f(x), x

        def bwd(x, g):
            return ((2.0 if x > 0 else 3.0) * g,)
        f.defvjp(fwd, bwd)
        return [L.value_and_grad(f)(x) for x in (2.0, -2.0)]
    same(case)


def test_vjp_vmap_rules_see_unbatched_values():
    def case(L):
        seen = []

        @L.custom_vjp
        def f(x):
            seen.append(L.np.ndim(x))
            return L.np.sin(x)

        def fwd(x):
            seen.append(L.np.ndim(x))
            return f(x), L.np.cos(x)

        def bwd(c, g):
            seen.append(L.np.ndim(c) + L.np.ndim(g))
            return (2.0 * c * g,)
        f.defvjp(fwd, bwd)
        x, xx = L.np.arange(3.0), L.np.arange(6.0).reshape(2, 3)
        out = [L.vmap(f)(x), L.vmap(L.vmap(f))(xx), L.vmap(L.grad(f))(x),
               L.vmap(L.value_and_grad(f))(x), L.vmap(L.vmap(L.grad(f)))(xx),
               L.grad(lambda x: L.vmap(f)(x).sum())(x),
               L.grad(lambda x: L.vmap(L.vmap(f))(x).sum())(xx),
               L.vmap(L.grad(lambda x: L.vmap(f)(x).sum()))(xx)]
        assert set(seen) == {0}, seen
        return out
    same(case)


def test_vjp_jit_in_every_order():
    def case(L):
        f = _sin_vjp(L)
        return (L.jit(f)(3.0), L.jit(L.jit(f))(3.0), L.jit(L.grad(f))(3.0),
                L.grad(L.jit(f))(3.0))
    same(case)


def test_vjp_pytree_input_output_and_residuals():
    def case(L):
        @L.custom_vjp
        def f(x):
            return {"b": L.np.sin(x["a"])}

        def fwd(x):
            return f(x), {"r": L.np.cos(x["a"])}

        def bwd(res, g):
            return ({"a": 2.0 * res["r"] * g["b"]},)
        f.defvjp(fwd, bwd)
        x = {"a": 3.0}
        return f(x), L.grad(lambda x: f(x)["b"])(x)
    same(case)


def test_vjp_forward_mode_uses_transpose_of_bwd():
    # JAX refuses forward mode of a custom_vjp function; functrans runs it as the transpose
    # of bwd, which must then agree with reverse mode (docs/coming-from-jax.md).
    f = _sin_vjp(FT)
    want = float(jax.grad(_sin_vjp(JX))(3.0))
    close(ft.jvp(f, (3.0,), (1.0,)), (np.sin(3.0), want))
    close(ft.jvp(ft.jit(f), (3.0,), (1.0,))[1], want)
    x = np.arange(3.0)
    close(ft.jvp(ft.vmap(f), (x,), (np.ones(3),))[1],
          jax.vmap(jax.grad(_sin_vjp(JX)))(x))
    close(ft.jacfwd(ft.vmap(f))(x), ft.jacrev(ft.vmap(f))(x))
    with pytest.raises(TypeError, match="forward-mode"):
        jax.jvp(_sin_vjp(JX), (3.0,), (1.0,))


def test_vjp_forward_mode_refuses_nonlinear_bwd():
    @ft.custom_vjp
    def clip_gradient(x):
        return x
    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -0.5, 0.5),))
    close(ft.grad(clip_gradient)(2.0), 0.5)
    with pytest.raises(CustomRuleError, match="not linear in its cotangent"):
        ft.jvp(clip_gradient, (2.0,), (1.0,))


def test_vjp_keyword_argument_with_default():
    def case(L):
        @L.custom_vjp
        def f(x, y, c=1.0):
            return c * (x + y)
        f.defvjp(lambda x, y, c=1.0: (f(x, y, c), c), lambda c, g: (c * g, c * g, g))
        h = lambda x, y: L.np.square(f(x, y, c=2.0)).sum()  # noqa: E731
        return h(10.0, 5.0), L.grad(h, (0, 1))(10.0, 5.0)
    same(case)


def test_vjp_inside_scan():
    def case(L):
        f = _sin_vjp(L)
        foo = _scan_once(L, f)
        return L.grad(foo)(3.0), L.grad(L.grad(foo))(3.0)
    got = same(case)
    close(got, (2 * np.cos(3.0), -2 * np.sin(3.0)))


def test_vjp_inside_scan_with_vmap_and_closed_over_constant():
    def case(L):
        y = L.np.arange(1.0, 4.0)

        @L.custom_vjp
        def f(x):
            assert L.np.ndim(x) == 0
            return 3.0 * x * L.np.sum(y)
        f.defvjp(lambda x: (f(x), L.np.cos(x)), lambda c, g: (2.0 * c * g,))
        foo = _scan_once(L, f)
        x = L.np.arange(3.0)
        return (L.vmap(foo)(x), L.grad(lambda x: L.vmap(foo)(x).sum())(x),
                L.jit(L.grad(lambda x: L.vmap(foo)(x).sum()))(x))
    same(case)


def test_vjp_nondiff_argnums_function_argument():
    def case(L):
        @functools.partial(L.custom_vjp, nondiff_argnums=(0,))
        def app(f, x):
            return f(x)
        app.defvjp(lambda f, x: (app(f, x), L.np.cos(x)), lambda f, c, g: (c * g,))
        return app(lambda x: 2 * x, 1.0), L.value_and_grad(lambda x: app(lambda y: 2 * y, x))(1.0)
    close(same(case)[1], (2.0, np.cos(1.0)))


def test_vjp_function_closing_over_vmapped_value():
    def case(L):
        def outer(x):
            @L.custom_vjp
            def f(y):
                return x * y
            f.defvjp(lambda y: (f(y), (x, L.np.cos(y))), lambda r, g: (r[1] * g * r[0],))
            return f
        return (L.vmap(lambda x: outer(x)(3.0))(L.np.arange(3.0)),
                L.vmap(lambda x: L.grad(outer(x))(3.0))(L.np.arange(3.0)))
    got = same(case)
    close(got[1], np.cos(3.0) * np.arange(3.0))


def test_vjp_nondiff_argnums_traced_value():
    # JAX refuses a jit tracer named in nondiff_argnums; functrans's jit takes a Python number
    # as static, so it is a fixed value there, and refuses a traced array as JAX does.
    @functools.partial(ft.custom_vjp, nondiff_argnums=(0,))
    def f(x, y):
        return x * y
    f.defvjp(lambda x, y: (f(x, y), fnp.cos(y)), lambda x, c, g: (c * g,))
    g = ft.jit(lambda x, y: f(x, y))
    close(g(2, 3.0), 6.0)
    close(ft.grad(g, 1)(2.0, 3.0), np.cos(3.0))
    with pytest.raises(CustomRuleError, match="nondiff_argnums"):
        g(np.float64(2.0), 3.0)


def test_vjp_rule_errors_say_what_was_wrong():
    @ft.custom_vjp
    def missing(x):
        return x ** 2
    for call in (lambda: missing(2.0), lambda: ft.grad(missing)(2.0)):
        with pytest.raises(CustomRuleError, match="missing has no rule.*defvjp"):
            call()

    @ft.custom_vjp
    def f(x):
        return x
    f.defvjp(lambda x: (x, None), lambda _, g: (g, g))
    f(2.0)
    with pytest.raises(CustomRuleError, match="bwd rule.*structure"):
        ft.grad(f)(2.0)
    f.defvjp(lambda x: (x, None), lambda _, g: 2.0 * g)
    with pytest.raises(CustomRuleError, match="bwd rule.*must return a tuple"):
        ft.grad(f)(3.0)
    f.defvjp(lambda x: x, lambda _, g: (g,))
    with pytest.raises(CustomRuleError, match=r"fwd rule.*\(output, residuals\)"):
        ft.grad(f)(3.0)

    @ft.custom_vjp
    def foo(x, y):
        return x
    foo.defvjp(lambda x, y: (x, None), lambda _, g: (fnp.zeros(3), fnp.zeros(3)))
    with pytest.raises(CustomRuleError, match=r"shape \(3,\) for argument leaf 1.*\(4,\)"):
        ft.grad(lambda x, y: foo(x, y * y).sum(), 1)(np.ones(3), np.ones(4))


def test_vjp_fwd_output_not_matching_function():
    # As for custom_jvp: the fwd rule's output is taken; under scan a wrong form is refused.
    @ft.custom_vjp
    def f(x):
        return x
    f.defvjp(lambda x: (fnp.zeros(3) + x, None), lambda _, g: (g.sum(),))
    with pytest.raises(TypeError, match="carry's structure|shape"):
        ft.grad(_scan_once(FT, f))(np.float64(1.0))


def test_vjp_clip_gradient_with_traced_bounds():
    def case(L):
        @L.custom_vjp
        def clip(lo, hi, x):
            return x
        clip.defvjp(lambda lo, hi, x: (x, (lo, hi)),
                    lambda r, g: (None, None, L.np.clip(g, r[0], r[1])))
        return L.grad(lambda x: clip(-0.1, x + 0.1, x))(0.1)
    close(same(case), 0.2)


def test_vjp_fwd_returning_a_vjp_function_as_residual():
    def case(L):
        sq = lambda x: x ** 2  # noqa: E731

        @L.custom_vjp
        def g(x):
            return sq(x)
        g.defvjp(lambda x: L.vjp(sq, x), lambda f_vjp, ct: f_vjp(ct))
        return L.vjp(g, 1.0)[1](1.0), L.grad(g)(3.0), L.vjp(g, 2.0)[1](3.0)
    close(same(case)[0], (2.0,))


def test_vjp_grad_of_vmap_inside_scan_body():
    def case(L):
        @L.custom_vjp
        def total(x):
            return x.sum()
        total.defvjp(lambda x: (x.sum(), (L.np.ones_like(x),)), lambda r, g: (g * r[0],))

        def body(carry, _):
            return carry, L.grad(lambda x: L.vmap(total)(x).sum())(carry)
        return L.lax.scan(body, L.np.ones((4, 3)), L.np.arange(2))[1]
    same(case)


def test_vjp_bwd_closing_over_outer_value():
    def case(L):
        def f(y):
            @L.custom_vjp
            def h(x):
                return 2.0 * L.np.sin(x)
            h.defvjp(lambda x: (h(x), ()), lambda _, g: (2.0 * L.np.cos(y) * g,))
            return L.grad(h)(1.0)
        x = L.np.arange(3.0)
        return (L.jit(f)(2.0), L.vmap(f)(x), L.jit(L.vmap(f))(x), L.vmap(L.jit(f))(x),
                L.grad(f)(4.0))
    got = same(case)
    close(got[4], -2 * np.sin(4.0))


def test_vjp_fwd_residual_is_outer_value():
    def case(L):
        def f(y):
            @L.custom_vjp
            def h(x):
                return 2.0 * L.np.sin(x)
            h.defvjp(lambda x: (h(x), y), lambda y_, g: (2.0 * L.np.cos(y_) * g,))
            return L.grad(h)(1.0)
        x = L.np.arange(3.0)
        return L.jit(f)(2.0), L.vmap(f)(x), L.jit(L.vmap(f))(x), L.grad(f)(4.0)
    same(case)


def test_vjp_integer_argument_cotangent():
    # JAX's cotangent for an integer input is float0; functrans's an integer zero.
    @ft.custom_vjp
    def f(x, n):
        return x * n
    f.defvjp(lambda x, n: (f(x, n), n), lambda n, g: (g * n, None))
    gx, gn = ft.grad(f, (0, 1), allow_int=True)(2.0, 3)
    assert float(gx) == 3.0 and int(gn) == 0 and np.asarray(gn).dtype.kind in "iu"
    jx, jn = jax.grad(lambda x, n: _jax_int_f()(x, n), (0, 1), allow_int=True)(2.0, 3)
    assert float(jx) == 3.0 and jn.dtype == jax.dtypes.float0

    @ft.custom_vjp
    def h(i, x):
        return fnp.sin(x)
    h.defvjp(lambda i, x: (h(i, x), fnp.cos(x)), lambda c, g: (None, 2.0 * c * g))
    close(ft.grad(h, 1)(np.array([1, 2]), 3.0), 2 * np.cos(3.0))


def _jax_int_f():
    @jax.custom_vjp
    def f(x, n):
        return x * n
    f.defvjp(lambda x, n: (f(x, n), n), lambda n, g: (g * n, None))
    return f


def test_vjp_under_checkpoint():
    def case(L):
        f = _sin_vjp(L)
        g = lambda x: f(f(x))  # noqa: E731
        r = L.checkpoint(g)
        return (r(2.0), L.grad(r)(2.0), L.grad(L.grad(r))(2.0),
                L.grad(L.checkpoint(L.grad(g)))(2.0), L.grad(L.grad(L.grad(r)))(2.0),
                L.grad(L.grad(g))(2.0))
    got = same(case)
    close(got[2], got[5])


def test_vjp_bwd_none_for_an_argument():
    def case(L):
        @L.custom_vjp
        def f(x, y):
            return x * L.np.sin(y)
        f.defvjp(lambda x, y: (f(x, y), L.np.cos(y)), lambda c, g: (None, 2.0 * c * g))

        @L.custom_vjp
        def p(xs, y):
            return xs[0] * xs[1] * L.np.sin(y)
        p.defvjp(lambda xs, y: (p(xs, y), L.np.cos(y)), lambda c, g: (None, 2.0 * c * g))
        x = L.np.arange(3.0)
        return (L.grad(lambda x: f(x, x))(3.0), L.grad(lambda x: L.vmap(f)(x, x).sum())(x),
                L.grad(lambda x: p((x, x), x))(3.0), L.grad(f, (0, 1))(1.0, 2.0))
    got = same(case)
    close(got[0], 2 * np.cos(3.0))


def test_vjp_none_inside_subtrees_returned_by_bwd():
    def case(L):
        @L.custom_vjp
        def f(x):
            return x[0]
        f.defvjp(lambda x: (f(x), None), lambda _, g: ((g, (None, None)),))
        return L.grad(f)((1.0, (2.0, 3.0))), L.grad(f)((1.0, (2.0, None)))
    same(case)


def test_vjp_bwd_may_return_a_list():
    def case(L):
        @L.custom_vjp
        def f(x, y):
            return x * y
        f.defvjp(lambda x, y: (f(x, y), (x, y)), lambda r, g: [g * r[1], r[0] * g])
        return L.grad(f, (0, 1))(1.0, 2.0)
    same(case)


def test_vjp_two_outputs_one_used():
    def case(L):
        @L.custom_vjp
        def f(x, y):
            return L.np.sin(x), x + L.np.cos(y)

        def bwd(r, cts):
            cx, sy = r
            a, b = cts
            return 2.0 * cx * a + 1.5 * b, -0.5 * sy * b
        f.defvjp(lambda x, y: (f(x, y), (L.np.cos(x), L.np.sin(y))), bwd)
        return [L.grad(lambda x, y: f(x, y)[k], (0, 1))(0.1, -1.3) for k in (0, 1)]
    got = same(case)
    close(got[1], (1.5, -0.5 * np.sin(-1.3)))


def test_vjp_scan_of_vmap_with_unbatched_coefficient():
    def case(L):
        @L.custom_vjp
        def mul(x, k):
            return x * k
        mul.defvjp(lambda x, k: (mul(x, k), (x, k)),
                   lambda r, g: (g * r[1], (r[0] * g).sum()))

        def over(x, k):
            return L.lax.scan(lambda c, _: (mul(c, k), None), x, L.np.arange(3))[0]
        xs = L.np.asarray(np.linspace(-1, 1, 6).reshape(3, 2))
        batched = L.vmap(over, in_axes=(0, None))
        _, back = L.vjp(batched, xs, 1.5)
        ct = L.np.asarray(np.linspace(0.5, 2, 6).reshape(3, 2))
        return back(ct), L.grad(lambda k: L.grad(lambda k: batched(xs, k).sum())(k))(1.5)
    same(case)


def test_vjp_custom_pytree_class_cotangent():
    class A(list):
        pass
    optree.register_pytree_node(A, lambda x: (list(x), None, None), lambda _, c: A(c),
                                namespace="functrans")
    jax.tree_util.register_pytree_node(A, lambda x: (list(x), None), lambda _, c: A(c))

    def case(L):
        @L.custom_vjp
        def f(x):
            return x[0] * 2.0
        f.defvjp(lambda x: (x[0] * 2.0, None), lambda _, g: (A([g]),))
        return list(L.grad(f)(A([1.0])))
    close(same(case), [1.0])


def test_vjp_of_vmap_called_twice():
    def case(L):
        @L.custom_vjp
        def f(x):
            return x
        f.defvjp(lambda x: (x, None), lambda _, g: (3.0 * g,))
        _, back = L.vjp(L.vmap(f), L.np.array([3.0]))
        return back(L.np.array([3.0])), back(L.np.array([2.0]))
    same(case)


def test_custom_gradient_cases():
    def case(L):
        @L.custom_gradient
        def f(x):
            return x ** 2, lambda g: (g * x,)

        @L.custom_gradient
        def f2(x, y):
            return x * y, lambda g: (y, x)

        @L.custom_gradient
        def f3(x):
            return L.np.sum(L.np.sin(x)), lambda g: (L.np.cos(x) * L.np.arange(3.0, 6.0),)

        @L.custom_gradient
        def single(x):
            return x ** 2, lambda g: g * x
        return (f(3.0), L.grad(f)(3.0), L.grad(L.grad(f))(3.0), L.grad(f2, (0, 1))(3.0, 4.0),
                f3(L.np.arange(3.0)), L.grad(f3)(L.np.arange(3.0)), L.grad(single)(3.0),
                L.grad(L.grad(single))(3.0))
    got = same(case)
    close(got[1:3], (3.0, 1.0))


def _cos_after(L):
    @functools.partial(L.custom_vjp, nondiff_argnums=(0,))
    def cos_after(fn, x, *args):
        return L.np.cos(fn(x, *args))

    def fwd(fn, x, *args):
        return cos_after(fn, x, *args), (x, args)

    def bwd(fn, res, g):
        x, args = res
        return (17.0 * x, *[42.0 * a for a in args])
    cos_after.defvjp(fwd, bwd)

    def apply(fn, x):
        converted, consts = L.closure_convert(fn, x)
        assert len(consts) <= 1
        return cos_after(converted, x, *consts)
    return apply


def test_closure_convert_hoists_differentiated_values():
    def case(L):
        apply = _cos_after(L)

        def solve(c, s, x):
            return apply(lambda x: L.np.sum(s * (x - c) ** 2), x)
        c, s, x = 2.0 * L.np.ones(2), 3.0 * L.np.ones(2), L.np.ones(2)
        return (solve(c, s, x), L.grad(lambda c, x: solve(c, 1.0, x), (0, 1))(c, x),
                L.grad(solve, (0, 2))(c, s, x))
    got = same(case)
    close(got[1], (42.0 * 2.0 * np.ones(2), 17.0 * np.ones(2)))


def test_closure_convert_wrong_call_is_an_error():
    def f(x, z):
        return z * x
    _, back = ft.vjp(f, 2.0, 3.0)
    pure, consts = ft.closure_convert(back, 2.0)
    close(pure(2.0, *consts), back(2.0))
    with pytest.raises(TypeError):
        pure(2.0, consts)


def test_vjp_integer_cotangent_under_jit():
    def case(L):
        @L.custom_vjp
        def f(x, y):
            return x
        f.defvjp(lambda x, y: (x, None), lambda _, g: (0.0 * g, None))
        return L.jit(lambda y: L.vjp(f, 0.5, y)[1](1.0)[0])(1)
    same(case)


# -- the same rules on every backend ---------------------------------------------------------


def test_rules_on_backend_arrays(backend):
    x = backend.asarray([0.3, -1.2, 2.0])
    f = _sin_twice_cos(FT)
    v = _sin_vjp(FT)
    want = 2 * np.cos(backend.to_numpy(x))
    # (custom_jvp: jvp, grad of a sum, vmap of grad; custom_vjp: grad, vmap, jvp by transpose)
    close(backend.to_numpy(ft.jvp(f, (x,), (fnp.ones_like(x),))[1]), want)
    close(backend.to_numpy(ft.grad(lambda x: f(x).sum())(x)), want)
    close(backend.to_numpy(ft.vmap(ft.grad(f))(x)), want)
    close(backend.to_numpy(ft.grad(lambda x: v(x).sum())(x)), want)
    close(backend.to_numpy(ft.vmap(ft.grad(v))(x)), want)
    close(backend.to_numpy(ft.jvp(v, (x,), (fnp.ones_like(x),))[1]), want)

    @ft.custom_vjp
    def g(x, y):
        return x * fnp.sin(y)
    g.defvjp(lambda x, y: (g(x, y), fnp.cos(y)), lambda c, ct: (None, ct * (2.0 * c)))
    close(backend.to_numpy(ft.grad(lambda x: g(x, x).sum())(x)), want)
    close(backend.to_numpy(ft.grad(lambda x: ft.lax.scan(
        lambda c, _: (v(c), None), x, None, length=1)[0].sum())(x)), want)


# -- custom_root and custom_linear_solve -----------------------------------------------------


def _newton(L, steps=30):
    def solve(f, x0):
        df = L.grad(f)
        return L.lax.fori_loop(0, steps, lambda i, x: x - f(x) / df(x), x0)
    return solve


def test_custom_root_implicit_derivative_under_transforms():
    def case(L):
        def cube_root(a):
            f = lambda x: x ** 3 - a  # noqa: E731
            return L.lax.custom_root(f, 1.0, _newton(L), lambda g, y: y / g(1.0))
        a = L.np.array([2.0, 8.0, 27.0])
        return (cube_root(8.0), L.grad(cube_root)(8.0), L.grad(L.grad(cube_root))(8.0),
                L.jvp(cube_root, (8.0,), (1.0,)), L.vmap(cube_root)(a),
                L.vmap(L.grad(cube_root))(a), L.jit(L.grad(cube_root))(8.0))
    got = same(case, tol=1e-8)
    close(got[1], 8.0 ** (-2 / 3) / 3, 1e-8)


def test_custom_root_has_aux_gets_no_derivative():
    def case(L):
        def root(a):
            f = lambda x: x ** 2 - a  # noqa: E731

            def solve(f, x0):
                x = _newton(L)(f, x0)
                return x, x * 10.0
            r, aux = L.lax.custom_root(f, 1.0, solve, lambda g, y: y / g(1.0), has_aux=True)
            return r + L.lax.stop_gradient(aux) * 0.0 + aux
        return root(4.0), L.grad(root)(4.0)
    got = same(case, tol=1e-8)
    close(got[1], 0.25, 1e-8)


def test_custom_linear_solve_derivatives():
    def case(L):
        a = L.np.array([[4.0, 1.0], [1.0, 3.0]])
        b = L.np.array([1.0, 2.0])
        dense = lambda mv, r: L.np.linalg.solve(a, r)  # noqa: E731

        def sym(a, b):
            return L.lax.custom_linear_solve(lambda x: a @ x, b,
                                             lambda mv, r: L.np.linalg.solve(a, r),
                                             symmetric=True)

        def gen(a, b):
            return L.lax.custom_linear_solve(
                lambda x: a @ x, b, lambda mv, r: L.np.linalg.solve(a, r),
                transpose_solve=lambda vm, r: L.np.linalg.solve(a.T, r))
        g = L.np.array([[2.0, 1.0], [0.5, 3.0]])
        out = [L.lax.custom_linear_solve(lambda x: a @ x, b, dense, symmetric=True)]
        for fn, m in ((sym, a), (gen, g)):
            loss = lambda m, b: L.np.sum(fn(m, b) ** 2)  # noqa: E731
            out += [fn(m, b), L.grad(loss, (0, 1))(m, b), L.jvp(fn, (m, b), (m, b)),
                    L.vmap(fn, (None, 0))(m, L.np.stack([b, 2 * b])),
                    L.hessian(loss, 1)(m, b)]
        return out
    same(case, tol=1e-9)


def test_custom_linear_solve_pytree_right_hand_side():
    def case(L):
        d = {"u": L.np.array([2.0, 4.0]), "v": L.np.array(5.0)}

        def solve_diag(d, b):
            mv = lambda x: {"u": d["u"] * x["u"], "v": d["v"] * x["v"]}  # noqa: E731
            return L.lax.custom_linear_solve(
                mv, b, lambda _, r: {"u": r["u"] / d["u"], "v": r["v"] / d["v"]},
                symmetric=True)
        b = {"u": L.np.array([1.0, 1.0]), "v": L.np.array(2.0)}
        loss = lambda d, b: sum(L.np.sum(t ** 2) for t in solve_diag(d, b).values())  # noqa
        return solve_diag(d, b), L.grad(loss, (0, 1))(d, b)
    same(case)


# -- more combinations: pytrees in nondiff_argnums, control flow and stop_gradient in rules,
# nested custom functions ----------------------------------------------------------------------


def test_nondiff_argnums_pytree_and_negative_position():
    def case(L):
        @functools.partial(L.custom_vjp, nondiff_argnums=(-1,))
        def scaled(x, cfg):
            return cfg["fn"](x) * cfg["k"]

        def fwd(x, cfg):
            return scaled(x, cfg), x

        def bwd(cfg, x, g):
            return (g * cfg["k"] * 10.0 * L.np.cos(x),)
        scaled.defvjp(fwd, bwd)
        cfg = {"fn": L.np.sin, "k": 3}
        x = L.np.array([0.1, 0.7])
        return (scaled(x, cfg), L.grad(lambda x: scaled(x, cfg).sum())(x),
                L.vmap(L.grad(lambda x: scaled(x, cfg)))(x),
                L.jit(L.grad(lambda x: scaled(x, cfg).sum()))(x))
    # (JAX refuses a function among a nondiff argument's leaves; functrans takes any
    # fixed value there)
    x = np.array([0.1, 0.7])
    close(case(FT), (3 * np.sin(x), 30 * np.cos(x), 30 * np.cos(x), 30 * np.cos(x)))
    with pytest.raises(TypeError, match="not a valid JAX type"):
        case(JX)


def test_rules_with_control_flow_and_stop_gradient():
    def case(L):
        @L.custom_jvp
        def f(x):
            return L.lax.cond(x > 0, L.np.sin, L.np.cos, x)

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            slope = L.lax.cond(x > 0, lambda x: 2.0 * L.np.cos(x), lambda x: -3.0 * L.np.sin(x), x)
            n = L.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 1.5), (0, 1.0))[1]
            return f(x), t * slope * n + L.lax.stop_gradient(x) * 0.0 * t

        @L.custom_vjp
        def v(x):
            return x ** 2
        v.defvjp(lambda x: (x ** 2, x),
                 lambda x, g: (L.lax.fori_loop(
                     0, 2, lambda i, a: a + g * L.lax.stop_gradient(x), 0.0 * g),))
        out = []
        for x in (0.8, -0.4):
            out += [L.jvp(f, (x,), (1.0,)), L.grad(f)(x), L.grad(L.grad(f))(x),
                    L.grad(v)(x), L.grad(L.grad(v))(x), L.grad(lambda x: v(L.np.sin(x)))(x)]
        out.append(L.vmap(L.grad(f))(L.np.array([0.8, -0.4])))
        return out
    same(case)


def test_nested_custom_functions():
    # A custom_jvp function whose rule calls a custom_vjp function, and the reverse.
    def case(L):
        v = _sin_vjp(L)

        @L.custom_jvp
        def outer(x):
            return v(x) * 2.0

        @outer.defjvp
        def outer_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return outer(x), t * L.np.cos(v(x)) * 5.0

        @L.custom_vjp
        def inner(x):
            return outer(x) + x
        inner.defvjp(lambda x: (inner(x), x),
                     lambda x, g: (g * L.grad(outer)(x) + g,))
        return (L.grad(outer)(0.3), L.grad(L.grad(outer))(0.3), L.grad(inner)(0.3),
                L.grad(L.grad(inner))(0.3), L.vmap(L.grad(inner))(L.np.array([0.3, 0.6])),
                L.jit(L.grad(inner))(0.3))
    same(case)


def test_residuals_holding_python_values_and_none():
    # (functrans takes any Python value among the residuals; JAX refuses a string there)
    def case(L, tag):
        @L.custom_vjp
        def f(x, y):
            return x * y

        def fwd(x, y):
            res = {"y": y, "n": 2, "none": None, "x": x}
            if tag:
                res["tag"] = "mul"
            return f(x, y), res

        def bwd(r, g):
            return g * r["y"] * r["n"], g * r["x"] if r.get("tag", "mul") == "mul" else None
        f.defvjp(fwd, bwd)
        x = L.np.array([1.0, 2.0])
        return (L.grad(lambda x, y: f(x, y).sum(), (0, 1))(x, x + 1.0),
                L.vmap(L.grad(f, (0, 1)))(x, x + 1.0),
                L.jit(L.grad(lambda x: f(x, 3.0 * x).sum()))(x))
    close(case(FT, True), case(JX, False))
    close(case(FT, True), case(FT, False))


def test_vjp_cotangent_dtype_from_bwd():
    # bwd returning float32 for a float64 input: both libraries return bwd's float32.
    def case(L):
        @L.custom_vjp
        def f(x):
            return x * 2.0
        f.defvjp(lambda x: (f(x), None), lambda _, g: ((g * 2.0).astype(L.np.float32),))
        return L.grad(lambda x: f(x).sum())(L.np.array([1.0, 2.0]))
    got, want = case(FT), case(JX)
    close(got, want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
