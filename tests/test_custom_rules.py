"""custom_jvp and custom_vjp under every transform, and proof that the custom rule is used."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import CustomRuleError


@ft.custom_jvp
def log1pexp(x):
    return fnp.log(1.0 + fnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_custom_jvp_under_grad_jvp_and_grad_of_grad():
    x = 0.7
    assert float(ft.grad(log1pexp)(x)) == pytest.approx(_sigmoid(x))
    assert float(ft.jvp(log1pexp, (x,), (2.0,))[1]) == pytest.approx(2 * _sigmoid(x))
    s = _sigmoid(x)
    assert float(ft.grad(ft.grad(log1pexp))(x)) == pytest.approx(s * (1 - s))
    # The stable rule is what makes large inputs work (the naive derivative gives nan).
    assert float(ft.grad(log1pexp)(1000.0)) == 1.0


def test_custom_jvp_rule_is_actually_used():
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 10.0 * t  # deliberately not cos(x)

    assert float(ft.grad(f)(0.3)) == 10.0
    assert float(ft.jvp(f, (0.3,), (1.0,))[1]) == 10.0
    assert float(ft.jacrev(f)(0.3)) == 10.0
    assert float(f(0.3)) == pytest.approx(np.sin(0.3))


def test_custom_jvp_with_two_arguments_and_pytree_output():
    @ft.custom_jvp
    def g(x, y):
        return {"p": x * y, "s": x + y}

    @g.defjvp
    def g_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        return g(x, y), {"p": tx * y + x * ty, "s": tx + ty}

    gx, gy = ft.grad(lambda x, y: g(x, y)["p"] + g(x, y)["s"], argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (4.0, 3.0)


@ft.custom_vjp
def clip_gradient(x):
    return x


def _clip_fwd(x):
    return x, None


def _clip_bwd(res, g):
    return (fnp.clip(g, -1.0, 1.0) if hasattr(fnp, "clip") else
            fnp.maximum(fnp.minimum(g, 1.0), -1.0),)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_rule_is_used_by_grad():
    f = lambda x: clip_gradient(x) * 5.0  # noqa: E731
    assert float(ft.grad(f)(2.0)) == 1.0  # the cotangent 5 is clipped to 1
    assert float(ft.grad(lambda x: clip_gradient(x) * 0.5)(2.0)) == 0.5


@ft.custom_vjp
def cube(x):
    return x * x * x


def _cube_fwd(x):
    return cube(x), x


def _cube_bwd(x, g):
    return (3.0 * x * x * g,)


cube.defvjp(_cube_fwd, _cube_bwd)


def test_custom_vjp_under_grad_jvp_and_grad_of_grad():
    assert float(ft.grad(cube)(2.0)) == 12.0
    assert float(ft.jvp(cube, (2.0,), (1.0,))[1]) == 12.0  # transpose of bwd
    assert float(ft.grad(ft.grad(cube))(2.0)) == 12.0      # differentiates bwd
    assert float(ft.hessian(lambda x: fnp.sum(cube(x)))(np.array([2.0]))[0, 0]) == 12.0


def test_custom_vjp_forward_mode_uses_the_custom_rule():
    @ft.custom_vjp
    def f(x):
        return fnp.sin(x)
    f.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (7.0 * g,))
    assert float(ft.jvp(f, (0.3,), (1.0,))[1]) == 7.0
    assert float(ft.grad(f)(0.3)) == 7.0
    np.testing.assert_allclose(ft.jacfwd(f)(np.array([0.1, 0.2])), 7.0 * np.eye(2))


def test_custom_rule_errors():
    @ft.custom_jvp
    def f(x):
        return x
    with pytest.raises(CustomRuleError, match="defjvp"):
        f(1.0)

    @f.defjvp
    def bad(primals, tangents):
        return primals[0]
    with pytest.raises(CustomRuleError, match="pair"):
        ft.grad(f)(1.0)


def test_custom_functions_in_make_graph_are_inlined():
    g = ft.make_graph(lambda x: cube(x) + log1pexp(x))(1.0)
    names = [e[0].name for e in g.eqns]
    assert "mul" in names and "exp" in names and "log" in names


def test_a_python_number_result_is_a_constant():
    @ft.custom_jvp
    def three(x):
        return 3.0
    three.defjvp(lambda p, t: (3.0, 0.0))
    f = lambda x: fnp.sum(x * three(x))  # noqa: E731
    x = np.asarray([0.3, 0.7])
    for g in (ft.grad(f), ft.jit(ft.grad(f)), ft.grad(ft.jit(f))):
        np.testing.assert_array_equal(g(x), [3.0, 3.0])
    assert float(ft.jvp(f, (x,), (np.ones(2),))[1]) == 6.0


def test_jvp_of_custom_vjp_function_under_jit_and_vmap():
    """The tangent map of a custom_vjp function holds the residuals of fwd: under jit they
    are staged values (they once leaked into the graph as parameters)."""
    @ft.custom_vjp
    def sq(v):
        return v * v
    sq.defvjp(lambda v: (v * v, (v, 2.0)), lambda r, g: (r[1] * r[0] * g,))

    def f(v):
        return ft.jvp(sq, (v,), (fnp.sin(v),))[1]
    x = np.array([0.5, 1.0, 2.0])
    expected = 2.0 * x * np.sin(x)
    np.testing.assert_allclose(f(x), expected)
    np.testing.assert_allclose(ft.jit(f)(x), expected)
    np.testing.assert_allclose(ft.jit(f)(2.0 * x), 4.0 * x * np.sin(2.0 * x))
    np.testing.assert_allclose(ft.vmap(f)(x), expected)
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(ft.jit(f)(v)))(x),
                               2.0 * np.sin(x) + 2.0 * x * np.cos(x))


def test_jvp_of_custom_vjp_with_an_iterative_bwd():
    """Forward mode transposes bwd as a linear map; bwd here is conjugate gradients, which
    stops at once on a zero right-hand side, so the point it is differentiated at must not
    be zero (it once was: the tangent came out 0, or nan from 0/0)."""
    import functrans.lax as lax
    A = np.array([[4.0, 1.0], [1.0, 3.0]])

    def cg(b):
        def body(c):
            x, r, p, rs, _ = c
            Ap = fnp.matmul(A, p)
            a = rs / fnp.sum(p * Ap)
            x, r = x + a * p, r - a * Ap
            rs2 = fnp.sum(r * r)
            return x, r, r + rs2 / rs * p, rs2, rs2
        rs = fnp.sum(b * b)
        return lax.while_loop(lambda c: c[4] > 1e-24, body, (fnp.zeros_like(b), b, b, rs, rs))[0]

    @ft.custom_vjp
    def solve(b):
        return cg(b)
    solve.defvjp(lambda b: (cg(b), None), lambda r, g: (cg(g),))
    b, t = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    expected = np.linalg.solve(A, t)
    np.testing.assert_allclose(ft.jvp(solve, (b,), (t,))[1], expected, rtol=1e-10)
    np.testing.assert_allclose(ft.jit(lambda b, t: ft.jvp(solve, (b,), (t,))[1])(b, t),
                               expected, rtol=1e-10)
    np.testing.assert_allclose(ft.jacfwd(solve)(b), np.linalg.inv(A), rtol=1e-10)


def test_a_value_free_array_of_a_tangent_is_a_constant_of_the_linear_map():
    # ones_like(dx) does not depend on dx's values: in reverse mode it is a constant, so it
    # may divide (as in JAX); custom_root's scalar tangent_solve y / g(ones_like(y)) too.
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        (x,), (dx,) = p, t
        return fnp.sin(x), dx * fnp.cos(x) / fnp.ones_like(dx)

    x = np.array([0.3, 1.2])
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(f(x)))(x), np.cos(x))
    np.testing.assert_allclose(ft.hessian(lambda x: fnp.sum(f(x)))(x), np.diag(-np.sin(x)))

    def sqrt_root(a):
        def newton(g, y):
            for _ in range(40):
                y = y - g(y) / (2 * y)
            return y
        return ft.lax.custom_root(lambda y: y * y - a, 1.0, newton,
                                  lambda g, y: y / g(fnp.ones_like(y)))
    np.testing.assert_allclose(ft.grad(sqrt_root)(2.0), 0.5 / np.sqrt(2.0))


def test_closure_convert_hoists_the_values_of_transforms_a_function_closes_over():
    def outer(x, k):
        g = lambda y: fnp.sin(k * y) * x  # noqa: E731
        conv, consts = ft.closure_convert(g, 1.0)
        if isinstance(x, ft.core.Tracer):
            assert len(consts) >= 1
        return conv(0.5, *consts) + conv(np.asarray(0.25), *consts)

    def plain(x, k):
        return fnp.sin(k * 0.5) * x + fnp.sin(k * 0.25) * x
    np.testing.assert_allclose(outer(2.0, 3.0), plain(2.0, 3.0))
    for tr in (lambda f: ft.grad(f, (0, 1)), lambda f: ft.hessian(f, (0, 1)),
               lambda f: ft.jit(ft.grad(f))):
        np.testing.assert_allclose(np.asarray(tr(outer)(2.0, 3.0)),
                                   np.asarray(tr(plain)(2.0, 3.0)), rtol=1e-12)
    # nothing closed over: the function itself
    f = lambda y: y * 2  # noqa: E731
    assert ft.closure_convert(f, 1.0) == (f, [])

    # a custom_vjp of a converted function gives the closed-over value its cotangent
    def clipped_scale(x, k):
        def body(x):
            return x * k
        conv, consts = ft.closure_convert(body, x)

        @ft.custom_vjp
        def f(x, *c):
            return conv(x, *c)
        f.defvjp(lambda x, *c: (conv(x, *c), (x, c)),
                 lambda r, g: (g * r[1][0], *(g * r[0] for _ in r[1])))
        return f(x, *consts)
    np.testing.assert_allclose(ft.grad(clipped_scale, (0, 1))(2.0, 3.0), (3.0, 2.0))


def _sin_and_argmax(integer_tangent):
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x), fnp.argmax(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), (fnp.cos(x) * t, integer_tangent(t))
    return f


@pytest.mark.parametrize("integer_tangent", [
    lambda t: np.zeros((), ft.dtypes.float0),   # JAX's way
    lambda t: fnp.zeros((), dtype=fnp.int64),
    lambda t: 0.0 * fnp.sum(t),
], ids=["float0", "int_zeros", "float_zeros"])
def test_custom_jvp_integer_output_tangent_is_zero(integer_tangent):
    f = _sin_and_argmax(integer_tangent)
    x = np.asarray([0.3, -1.2, 2.0])

    def g(x):  # the integer output, cast to float, reaches the result
        s, i = f(x)
        return fnp.sum(s) * fnp.astype(i, fnp.float64)
    expected = 2.0 * np.cos(x)  # argmax is 2 and carries no derivative
    np.testing.assert_allclose(ft.grad(g)(x), expected, rtol=1e-14)
    np.testing.assert_allclose(ft.jacfwd(g)(x), expected, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(g))(x), expected, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.grad(g))(np.stack([x, x]))[1], expected, rtol=1e-14)
    (_, i), (_, ti) = ft.jvp(f, (x,), (np.ones(3),))
    assert int(i) == 2 and not np.any(np.asarray(ti))


def test_custom_jvp_nonzero_integer_output_tangent_is_refused_or_dropped():
    # Passed on, the tangent would reach g's float result through astype (a silent wrong
    # derivative, 5 * sum(sin x) too much); JAX refuses anything but float0 there. Where the
    # tangent's values are known (forward mode) it is refused; where they are not (reverse
    # mode stages the tangent side) it is dropped.
    f = _sin_and_argmax(lambda t: 5.0 * fnp.sum(t))
    x = np.asarray([0.3, -1.2, 2.0])

    def g(x):
        s, i = f(x)
        return fnp.sum(s) * fnp.astype(i, fnp.float64)
    for transform in (ft.jacfwd, lambda g: lambda x: ft.jvp(g, (x,), (np.ones(3),))):
        with pytest.raises(CustomRuleError, match="tangent output 1 is nonzero.*int64.*float0"):
            transform(g)(x)
    np.testing.assert_allclose(ft.grad(g)(x), 2.0 * np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(g))(x), 2.0 * np.cos(x), rtol=1e-14)
