"""Where functrans follows JAX's conventions at the edges of the transforms: argnums, has_aux,
complex values (holomorphic=), constant outputs, custom rules' zero cotangents and shapes.
Each case here was once a silent wrong answer, a crash or an unhelpful error."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import (ComplexDerivativeError, CustomRuleError, NonScalarOutputError,
                              TangentMismatchError)

# -- argnums ------------------------------------------------------------------------------------


def test_argnums_naming_an_argument_twice_is_an_error():
    f = lambda x, y: x * y ** 2  # noqa: E731
    for transform in (ft.grad, ft.jacfwd, ft.jacrev, ft.hessian):
        with pytest.raises(ValueError, match=r"argnums \(0, 0\) names an argument more than "
                                             r"once"):
            transform(f, argnums=(0, 0))(2.0, 3.0)
    with pytest.raises(ValueError, match="more than once"):
        ft.grad(f, argnums=(1, -1))(2.0, 3.0)
    with pytest.raises(ValueError, match="argnums is empty"):
        ft.grad(f, argnums=())(2.0, 3.0)


def test_argnums_takes_numpy_integers_and_rejects_other_types():
    f = lambda x, y: x * y ** 2  # noqa: E731
    assert float(ft.grad(f, argnums=np.int64(1))(2.0, 3.0)) == 12.0
    assert [float(g) for g in ft.grad(f, argnums=(np.int32(0), 1))(2.0, 3.0)] == [9.0, 12.0]
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints; got 'a'"):
        ft.grad(f, argnums="a")(2.0, 3.0)

# -- outputs of grad, has_aux ---------------------------------------------------------------------


def test_forgotten_has_aux_says_so():
    for out in (lambda x: (x ** 2, x), lambda x: {"loss": x}, lambda x: None):
        with pytest.raises(NonScalarOutputError, match="pass has_aux=True"):
            ft.grad(out)(1.0)


def test_integer_output_blames_the_dtype():
    with pytest.raises(NonScalarOutputError, match="floating-point output, but the function "
                                                   "returned dtype int64"):
        ft.grad(lambda x: fnp.astype(x > 0, fnp.int64))(1.0)


@pytest.mark.parametrize("call", [
    lambda: ft.jacrev(lambda x: x, has_aux=True)(1.0),
    lambda: ft.jacfwd(lambda x: x, has_aux=True)(1.0),
    lambda: ft.jvp(lambda x: x, (1.0,), (1.0,), has_aux=True),
    lambda: ft.vjp(lambda x: x, 1.0, has_aux=True),
], ids=["jacrev", "jacfwd", "jvp", "vjp"])
def test_has_aux_without_a_pair_says_so(call):
    with pytest.raises(TypeError, match="with has_aux=True: the function must return a pair"):
        call()

# -- complex values -----------------------------------------------------------------------------


Z = np.asarray(1.0 + 2.0j)


@pytest.mark.parametrize("call,what", [
    (lambda: ft.jacfwd(lambda z: fnp.real(z * z))(Z), "jacfwd of <lambda>: input 0 is complex"),
    (lambda: ft.hessian(lambda z: fnp.real(z * z * fnp.conj(z)))(Z), "input 0 is complex"),
    (lambda: ft.jacrev(lambda x: x * (1 + 1j))(1.0), "jacrev of <lambda>: output 0 is complex"),
    (lambda: ft.grad(lambda x: x * (1 + 1j))(1.0), "grad of <lambda>: the output is complex"),
    (lambda: ft.grad(lambda z: z * z)(Z), "the output is complex"),
    (lambda: ft.grad(lambda x: x * x, holomorphic=True)(1.0), "holomorphic=True: input 0 has "
                                                              "dtype float64"),
    (lambda: ft.jacfwd(fnp.real, holomorphic=True)(Z), "output 0 has dtype float64"),
], ids=["jacfwd-in", "hessian-in", "jacrev-out", "grad-out", "grad-holo-out", "holo-real-in",
        "holo-real-out"])
def test_complex_derivatives_need_holomorphic(call, what):
    """As in JAX: forward and reverse mode would each give a different 'Jacobian' of a
    non-holomorphic function, so the user must say the function is holomorphic."""
    with pytest.raises(ComplexDerivativeError, match=what):
        call()


def test_holomorphic_derivatives():
    z = Z
    cube = lambda z: z * z * z  # noqa: E731
    assert complex(ft.grad(cube, holomorphic=True)(z)) == pytest.approx(3 * complex(z) ** 2)
    for jac in (ft.jacfwd, ft.jacrev):
        assert complex(jac(cube, holomorphic=True)(z)) == pytest.approx(3 * complex(z) ** 2)
    assert complex(ft.hessian(cube, holomorphic=True)(z)) == pytest.approx(6 * complex(z))
    zs = np.asarray([1.0 + 2.0j, -0.5 + 0.1j])
    np.testing.assert_allclose(ft.jacfwd(fnp.exp, holomorphic=True)(zs), np.diag(np.exp(zs)))
    np.testing.assert_allclose(ft.jacrev(fnp.exp, holomorphic=True)(zs), np.diag(np.exp(zs)))


def test_real_functions_of_complex_inputs_need_no_flag():
    # grad of |z|^2 in JAX's convention: 2 conj(z); and a real->complex Jacobian forward.
    assert complex(ft.grad(lambda z: fnp.real(z * fnp.conj(z)))(Z)) == pytest.approx(2 - 4j)
    assert complex(ft.jacfwd(lambda x: x * (1 + 1j))(1.0)) == 1 + 1j

# -- results in the inputs' library ---------------------------------------------------------------


def test_constant_outputs_and_python_number_tangents_follow_the_inputs(backend):
    x = backend.asarray([1.0, 2.0])
    y, t = ft.jvp(lambda z: 1.0, (x,), (x,))
    out, f_vjp = ft.vjp(lambda z: (z, 2.0), x)
    lin, f_jvp = ft.linearize(lambda z: 3.0, x)
    s = backend.asarray(1.0)
    _, ts = ft.jvp(lambda z: z * 2.0, (s,), (1.0,))  # a Python number as the tangent
    (g,) = ft.vjp(lambda z: fnp.sum(z), x)[1](1.0)   # and as the cotangent
    for a in (y, t, out[1], lin, f_jvp(x), ts, g):
        assert backend.is_own(a), type(a)
    assert float(backend.to_numpy(ts)) == 2.0
    np.testing.assert_array_equal(backend.to_numpy(g), [1.0, 1.0])


def test_a_tangent_of_an_integer_input_must_still_match_its_shape():
    with pytest.raises(TangentMismatchError, match=r"tangent 0 \(tangents\[0\]\) has shape "
                                                   r"\(7,\), but its "
                                                   r"primal \(of dtype int64"):
        ft.jvp(lambda n: n * 1.5, (np.arange(3),), (np.ones(7),))
    _, t = ft.jvp(lambda n: n * 1.5, (np.arange(3),), (np.zeros(3),))
    np.testing.assert_array_equal(t, np.zeros(3))


def test_stop_gradient_of_a_pytree():
    def f(x):
        s = ft.stop_gradient({"a": x, "b": [x * 2.0, None]})
        return fnp.sum(s["a"] * x) + fnp.sum(s["b"][0])
    x = np.asarray([1.0, 2.0])
    np.testing.assert_array_equal(ft.grad(f)(x), x)

# -- custom rules -------------------------------------------------------------------------------


def _scaled():
    @ft.custom_vjp
    def f(x, n):
        return x * n

    def fwd(x, n):
        return f(x, n), n
    return f, fwd


def test_custom_vjp_none_is_a_zero_cotangent():
    f, fwd = _scaled()
    f.defvjp(fwd, lambda n, g: (g * n, None))  # None for the integer argument, as in JAX
    assert float(ft.grad(lambda x: f(x, np.asarray(3)))(2.0)) == 3.0
    gx, gy = ft.grad(lambda x, y: f(x, y), argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (3.0, 0.0)
    assert float(ft.jvp(lambda x: f(x, 3.0), (2.0,), (1.0,))[1]) == 3.0


def test_custom_vjp_cotangent_of_the_wrong_shape_is_an_error():
    f, fwd = _scaled()
    f.defvjp(fwd, lambda n, g: (fnp.ones(3), None))
    with pytest.raises(CustomRuleError, match=r"cotangent of shape \(3,\) for argument leaf 0, "
                                              r"which has shape \(\)"):
        ft.grad(lambda x: f(x, 3.0))(2.0)


def test_custom_jvp_tangent_of_another_dtype_is_an_error():
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), fnp.astype(t[0], fnp.float32)
    with pytest.raises(CustomRuleError, match="tangent output 0 has dtype float32 but its "
                                              "primal has dtype float64"):
        ft.jvp(f, (np.asarray(1.0),), (np.asarray(1.0),))


def test_custom_jvp_nondiff_argnums_kwargs_and_defjvps(backend):
    @functools.partial(ft.custom_jvp, nondiff_argnums=(0,))
    def apply(f, x, scale=1.0):
        return f(x) * scale

    @apply.defjvp
    def apply_jvp(f, primals, tangents):
        (x, scale), (t, _) = primals, tangents
        return apply(f, x, scale), 3.0 * t * scale
    x = backend.asarray([0.5, 1.0])
    for call in (lambda x: apply(fnp.sin, x, 2.0), lambda x: apply(fnp.sin, x, scale=2.0)):
        g = ft.grad(lambda x: fnp.sum(call(x)))(x)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), [6.0, 6.0])
    assert float(ft.jvp(lambda s: apply(fnp.sin, 1.0, s), (2.0,), (1.0,))[1]) == 0.0

    @ft.custom_jvp
    def f(x, y):
        return x * y
    f.defjvps(lambda tx, out, x, y: tx * y * 10.0, None)
    gx, gy = ft.grad(f, argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (30.0, 0.0)
    assert float(ft.jvp(f, (2.0, 3.0), (1.0, 1.0))[1]) == 30.0


def test_custom_vjp_nondiff_argnums_and_kwargs():
    @functools.partial(ft.custom_vjp, nondiff_argnums=(1,))
    def scale(x, mode):
        return x * 2.0 if mode == "double" else x

    def fwd(x, mode):
        return scale(x, mode), None

    def bwd(mode, res, g):
        return (g * (5.0 if mode == "double" else 1.0),)
    scale.defvjp(fwd, bwd)
    assert float(ft.grad(lambda x: scale(x, "double"))(1.0)) == 5.0
    assert float(ft.grad(lambda x: scale(x, mode="double"))(1.0)) == 5.0
    assert float(ft.jvp(lambda x: scale(x, "double"), (1.0,), (1.0,))[1]) == 5.0
    wrong = ft.custom_vjp(lambda x: x, nondiff_argnums=(3,))
    wrong.defvjp(lambda x: (x, None), lambda r, g: (g,))
    with pytest.raises(TypeError, match=r"nondiff_argnums \(3,\) is out of range"):
        wrong(1.0)


def test_linearize_has_aux():
    y, f_jvp, aux = ft.linearize(lambda x: (fnp.sin(x), {"c": fnp.cos(x), "n": 3}),
                                 np.asarray([0.5, 1.0]), has_aux=True)
    np.testing.assert_allclose(f_jvp(np.ones(2)), np.cos([0.5, 1.0]))
    np.testing.assert_allclose(aux["c"], np.cos([0.5, 1.0]))
    assert aux["n"] == 3 and type(aux["c"]) is np.ndarray
    with pytest.raises(TypeError, match="linearize of sin with has_aux=True"):
        ft.linearize(fnp.sin, 1.0, has_aux=True)


def test_custom_jvp_defjvps_higher_order_uses_the_rule():
    # The primal output inside the defjvps rule comes from the custom function itself (as
    # in JAX), so the second derivative meets the rule again, not fun's own derivative.
    @ft.custom_jvp
    def e(x):
        return fnp.stop_gradient(fnp.exp(x))  # fun itself has no usable derivative
    e.defjvps(lambda t, out, x: t * out)
    assert float(ft.grad(ft.grad(e))(1.0)) == pytest.approx(np.e)
    h = ft.hessian(lambda x: fnp.sum(e(x)))(np.asarray([1.0, 2.0]))
    np.testing.assert_allclose(h, np.diag(np.exp([1.0, 2.0])))
    g = ft.custom_jvp(lambda k, x: k * x, nondiff_argnums=(0,))
    with pytest.raises(TypeError, match="defjvps cannot be used with nondiff_argnums"):
        g.defjvps(lambda t, out, x: t)


def test_custom_vjp_bwd_none_for_a_subtree_and_under_vmap_with_a_scalar_argument():
    @ft.custom_vjp
    def f(x, d):
        return x * d["a"] * d["b"]
    f.defvjp(lambda x, d: (f(x, d), (x, d)),
             lambda r, g: (g * r[1]["a"] * r[1]["b"], None))  # None for the whole dict
    assert float(ft.grad(f)(2.0, {"a": 3.0, "b": 4.0})) == 12.0
    g = ft.grad(f, argnums=1)(2.0, {"a": 3.0, "b": 4.0})
    assert (float(g["a"]), float(g["b"])) == (0.0, 0.0)

    # None for a batched argument next to a Python-scalar one, under vmap.
    @ft.custom_vjp
    def h(x, y, s):
        return x * y * s
    h.defvjp(lambda x, y, s: (h(x, y, s), (x, y, s)),
             lambda r, g: (g * r[1] * r[2], None, g * r[0] * r[1]))
    x, y = np.asarray([1.0, 2.0]), np.asarray([3.0, 4.0])
    gx = ft.grad(lambda x: fnp.sum(ft.vmap(lambda a, b: h(a, b, 2.0))(x, y)))(x)
    np.testing.assert_allclose(gx, [6.0, 8.0])
    bad = ft.custom_vjp(lambda x, d: x)
    bad.defvjp(lambda x, d: (x, None), lambda r, g: (g, g))  # one value for a dict
    with pytest.raises(CustomRuleError, match="returned cotangents of structure"):
        ft.grad(bad)(1.0, {"a": 1.0})


def test_custom_vjp_forward_mode_with_a_python_scalar_first_argument(backend):
    # The zero tangent of a Python-scalar argument has no device: the starting cotangents
    # of the transposed bwd take the library and device of an array tangent.
    @ft.custom_vjp
    def f(s, x):
        return x * s
    f.defvjp(lambda s, x: (f(s, x), s), lambda s, g: (None, g * s))
    x = backend.asarray([1.0, 2.0])
    t = ft.jvp(lambda x: f(3.0, x), (x,), (x,))[1]
    assert backend.is_own(t)
    np.testing.assert_allclose(backend.to_numpy(t), [3.0, 6.0])
    j = ft.jacfwd(lambda x: f(3.0, x))(x)
    np.testing.assert_allclose(backend.to_numpy(j), 3.0 * np.eye(2))


def test_value_and_grad_constant_output_in_the_inputs_library(backend):
    v, g = ft.value_and_grad(lambda x: 1.0)(backend.asarray([1.0, 2.0]))
    assert backend.is_own(v) and backend.is_own(g) and float(v) == 1.0


def test_check_grad_jacrev_real_function_of_complex_inputs():
    # grad and jacrev take complex inputs of a real-valued f; jacfwd would need holomorphic.
    from functrans.testing import check_grad_jacrev
    check_grad_jacrev(lambda z: fnp.sum(fnp.abs(z) ** 2), (np.asarray([1 + 1j, 2j]),))


def test_custom_rules_see_left_out_defaults():
    @functools.partial(ft.custom_jvp, nondiff_argnums=(0,))
    def apply(f, x, scale=1.0):
        return f(x) * scale

    @apply.defjvp
    def apply_jvp(f, primals, tangents):
        (x, scale), (t, _) = primals, tangents  # the default is there even when left out
        return apply(f, x, scale), 3.0 * t * scale
    assert float(ft.grad(lambda x: apply(fnp.sin, x))(1.0)) == 3.0

    @ft.custom_vjp
    def f(x, n=2.0):
        return x * n
    f.defvjp(lambda x, n: (f(x, n), n), lambda n, g: (g * n, None))
    assert float(ft.grad(f)(1.0)) == 2.0
    assert float(ft.grad(lambda x: f(x, n=3.0))(1.0)) == 3.0


def test_a_traced_nondiff_argument_is_a_clear_error():
    @functools.partial(ft.custom_jvp, nondiff_argnums=(0,))
    def sc(n, x):
        return n * x
    sc.defjvp(lambda n, p, t: (sc(n, p[0]), n * t[0]))
    with pytest.raises(CustomRuleError, match=r"nondiff_argnums \(0,\) is a value being "
                                              r"transformed"):
        ft.jvp(lambda n, x: sc(n, x), (3.0, 2.0), (1.0, 1.0))
    assert float(ft.grad(lambda x: sc(3.0, x))(2.0)) == 3.0


def test_holomorphic_is_the_fourth_argument_as_in_jax():
    z = np.asarray(1.0 + 2.0j)
    for jac in (ft.jacfwd, ft.jacrev):
        assert complex(jac(lambda z: z * z, 0, False, True)(z)) == pytest.approx(2 * (1 + 2j))
    with pytest.raises(TypeError):
        ft.jacfwd(lambda x: x, 0, False, False, 2)  # chunk_size is keyword-only
