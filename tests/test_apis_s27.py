"""Session 27: JAX APIs functrans refused or lacked.

- ``custom_jvp``/``custom_vjp`` with ``symbolic_zeros=True``: ``SymbolicZero`` tangents and
  cotangents, ``CustomVJPPrimal`` leaves for fwd (``value``, ``perturbed``),
  ``zero_from_primal``, ``custom_vjp_primal_tree_values`` (functrans.custom_derivatives);
- ``functrans.custom_derivatives.linear_call``: a linear function with the user's transpose;
- ``functrans.fwd_and_bwd``: the forward and backward passes as two (jitted) functions;
- ``jax_numpy_rank_promotion`` / ``jax_numpy_dtype_promotion`` (``functrans.numpy_rank_
  promotion``, ``numpy_dtype_promotion``, ``functrans.dtypes.TypePromotionError``);
- ``functrans.debug.log`` and the ``jax_softmax_custom_jvp`` option.

Every value is checked against closed forms, NumPy or finite differences
(``functrans.testing.check_grads``); JAX (x64), where installed, side by side.

Deliberate differences from JAX pinned here (docs/coming-from-jax.md): ``linear_call`` is
differentiable in its ``residual_args`` (through ``fun``'s code; JAX refuses); forward mode
of a ``custom_vjp`` function with ``symbolic_zeros`` works as without it (JAX refuses any);
``zero_from_primal(x)`` of an integer ``x`` gives zeros of its dtype (JAX: float0); the
promotion checks apply to calls from user code (functrans's own rules promote freely).
"""

import functools
import logging
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.custom_derivatives import (CustomVJPPrimal, SymbolicZero,
                                          custom_vjp_primal_tree_values, linear_call,
                                          zero_from_primal)
from functrans.dtypes import TypePromotionError
from functrans.errors import CustomRuleError
from functrans.testing import check_grads


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- custom_jvp(symbolic_zeros=True) ---------------------------------------------------------


def _sz_jvp_function(lib, np_, seen):
    """x * sin(y) whose JVP rule (symbolic_zeros) records which tangents are zero and skips
    their terms; an output tangent that is zero is returned as a SymbolicZero."""
    Zero = lib.custom_derivatives.SymbolicZero

    @lib.custom_jvp
    def f(x, y):
        return x * np_.sin(y)

    @functools.partial(f.defjvp, symbolic_zeros=True)
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        seen.append((type(tx) is Zero, type(ty) is Zero))
        out = f(x, y)
        terms = ([tx * np_.sin(y)] if type(tx) is not Zero else []) + \
                ([x * np_.cos(y) * ty] if type(ty) is not Zero else [])
        if not terms:
            return out, Zero.from_primal_value(out)
        return out, terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return f


def test_custom_jvp_symbolic_zeros_rule_sees_which_tangents_are_zero():
    seen = []
    f = _sz_jvp_function(ft, fnp, seen)
    x, y = 2.0, 0.5
    assert float(ft.grad(f)(x, y)) == pytest.approx(np.sin(y), rel=1e-14)
    assert seen[-1] == (False, True)
    assert float(ft.grad(f, 1)(x, y)) == pytest.approx(x * np.cos(y), rel=1e-14)
    assert seen[-1] == (True, False)
    # both perturbed: no symbolic zero
    _, t = ft.jvp(f, (x, y), (1.0, 1.0))
    assert float(t) == pytest.approx(np.sin(y) + x * np.cos(y), rel=1e-14)
    assert seen[-1] == (False, False)
    # second order: d2/dy2 (x sin y) = -x sin y, through the rule itself
    assert float(ft.hessian(f, 1)(x, y)) == pytest.approx(-x * np.sin(y), rel=1e-12)
    check_grads(lambda a, b: f(a, b), (np.array([0.3, 1.1]), np.array([0.7, -0.4])), order=2)


def test_custom_jvp_symbolic_zeros_under_jit_and_vmap():
    seen = []
    f = _sz_jvp_function(ft, fnp, seen)
    xs = np.array([0.1, 0.5, 1.0])
    want = np.sin(xs)
    np.testing.assert_allclose(ft.jit(ft.grad(f))(2.0, 0.5), np.sin(0.5), rtol=1e-14)
    np.testing.assert_allclose(ft.grad(ft.jit(f))(2.0, 0.5), np.sin(0.5), rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.grad(f))(xs, xs), want, rtol=1e-14)
    assert seen[-1] == (False, True)
    # vmap inside grad: the rule is batched with its symbolic zeros (y is fixed)
    g = ft.grad(lambda x: fnp.sum(ft.vmap(f, (0, None))(x, 0.5)))(xs)
    np.testing.assert_allclose(g, np.full(3, np.sin(0.5)), rtol=1e-14)
    assert seen[-1] == (False, True)
    g = ft.grad(lambda x: fnp.sum(ft.vmap(f)(x, x)))(xs)
    np.testing.assert_allclose(g, np.sin(xs) + xs * np.cos(xs), rtol=1e-14)
    # a rule returning a SymbolicZero output tangent under vmap: zeros
    _, t = ft.jvp(lambda x: ft.vmap(f)(x, x), (xs,), (np.zeros(3),))
    np.testing.assert_array_equal(t, np.zeros(3))


def test_custom_jvp_symbolic_zero_of_an_integer_argument_and_output():
    seen = []

    @ft.custom_jvp
    def scale(x, n):
        return x * n

    @functools.partial(scale.defjvp, symbolic_zeros=True)
    def scale_jvp(primals, tangents):
        (x, n), (tx, tn) = primals, tangents
        seen.append(tn)
        return scale(x, n), tx * n
    assert float(ft.grad(scale)(1.5, 3)) == 3.0
    (tn,) = seen
    assert type(tn) is SymbolicZero and tn.shape == () and tn.dtype == ft.float0
    assert "float0" in repr(tn)
    # no arithmetic: a clear error saying what to do
    with pytest.raises(TypeError, match="SymbolicZero.*type\\(t\\) is SymbolicZero"):
        tn * 2.0
    with pytest.raises(TypeError, match="SymbolicZero"):
        fnp.multiply(np.ones(2), SymbolicZero.from_primal_value(np.ones(2)))


def test_custom_jvp_symbolic_zeros_against_jax():
    jax = _jax()
    seen_ft, seen_jx = [], []
    f_ft = _sz_jvp_function(ft, fnp, seen_ft)
    f_jx = _sz_jvp_function(jax, jax.numpy, seen_jx)
    for argnums in (0, 1, (0, 1)):
        a = ft.grad(f_ft, argnums)(2.0, 0.5)
        b = jax.grad(f_jx, argnums)(2.0, 0.5)
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14)
    assert seen_ft == seen_jx


# -- custom_vjp(symbolic_zeros=True) ---------------------------------------------------------


def _sz_vjp_function(lib, np_, seen):
    """(x * y, x + y) whose fwd sees which arguments are perturbed and keeps only the
    residuals their cotangents need; bwd skips zero output cotangents and returns
    SymbolicZero / None for unperturbed arguments."""
    Zero = lib.custom_derivatives.SymbolicZero

    @lib.custom_vjp
    def f(x, y):
        return x * y, x + y

    def fwd(x, y):
        seen.append(("fwd", x.perturbed, y.perturbed))
        res = (y.value if x.perturbed else None, x.value if y.perturbed else None)
        return f(x.value, y.value), res

    def bwd(res, cts):
        y, x = res
        c_prod, c_sum = cts
        seen.append(("bwd", type(c_prod) is Zero, type(c_sum) is Zero))

        def cotangent(other):
            parts = ([c_prod * other] if type(c_prod) is not Zero else []) + \
                    ([c_sum] if type(c_sum) is not Zero else [])
            return parts[0] if len(parts) == 1 else parts[0] + parts[1]
        gx = cotangent(y) if y is not None else None
        gy = cotangent(x) if x is not None else Zero.from_primal_value(res[0])
        return gx, gy
    f.defvjp(fwd, bwd, symbolic_zeros=True)
    return f


def test_custom_vjp_symbolic_zeros_fwd_sees_perturbed_and_bwd_zero_cotangents(backend):
    seen = []
    f = _sz_vjp_function(ft, fnp, seen)
    x = backend.asarray([1.0, 2.0])
    y = backend.asarray([3.0, -1.0])
    g = ft.grad(lambda x: fnp.sum(f(x, y)[0]))(x)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), [3.0, -1.0])
    assert seen[-2:] == [("fwd", True, False), ("bwd", False, True)]
    gx, gy = ft.grad(lambda x, y: fnp.sum(f(x, y)[1]), (0, 1))(x, y)
    np.testing.assert_allclose(backend.to_numpy(gx), [1.0, 1.0])
    np.testing.assert_allclose(backend.to_numpy(gy), [1.0, 1.0])
    assert backend.is_own(gy)
    assert seen[-2:] == [("fwd", True, True), ("bwd", True, False)]


def test_custom_vjp_symbolic_zeros_under_jit_vmap_and_nested_grad():
    seen = []
    f = _sz_vjp_function(ft, fnp, seen)
    xs = np.array([0.5, 1.0, 2.0])
    loss = lambda x: f(x, 3.0)[0] * x  # d/dx 3 x^2 = 6 x  # noqa: E731
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(2.0), 12.0, rtol=1e-14)
    np.testing.assert_allclose(ft.grad(ft.jit(loss))(2.0), 12.0, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.grad(loss))(xs), 6 * xs, rtol=1e-14)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ft.vmap(loss)(x)))(xs), 6 * xs,
                               rtol=1e-14)
    assert seen[-2:] == [("fwd", True, False), ("bwd", False, True)]
    # second order through bwd (which is differentiable): d2/dx2 3 x^2 = 6
    assert float(ft.grad(ft.grad(loss))(2.0)) == pytest.approx(6.0, rel=1e-14)
    # forward mode uses bwd's transpose, symbolic zeros or not
    _, t = ft.jvp(lambda x: f(x, 3.0), (2.0,), (1.0,))
    np.testing.assert_allclose(np.asarray(t, dtype=float), [3.0, 1.0])
    check_grads(lambda a, b: f(a, b), (np.array([0.3, 1.1]), np.array([0.7, -0.4])), order=2)


def test_custom_vjp_symbolic_zeros_against_jax():
    jax = _jax()
    seen_ft, seen_jx = [], []
    f_ft = _sz_vjp_function(ft, fnp, seen_ft)
    f_jx = _sz_vjp_function(jax, jax.numpy, seen_jx)
    for lib, np_, f in ((ft, fnp, f_ft), (jax, jax.numpy, f_jx)):
        for out in (0, 1):
            lib.grad(lambda x, y: np_.sum(f(x, y)[out]), 0)(np.ones(2), np.full(2, 3.0))
        lib.grad(lambda x, y: np_.sum(f(x, y)[0] * f(x, y)[1]), (0, 1))(np.ones(2),
                                                                         np.full(2, 3.0))
    assert seen_ft == seen_jx
    a = ft.grad(lambda x, y: fnp.sum(f_ft(x, y)[0] * f_ft(x, y)[1]), (0, 1))(2.0, 3.0)
    b = jax.grad(lambda x, y: jax.numpy.sum(f_jx(x, y)[0] * f_jx(x, y)[1]), (0, 1))(2.0, 3.0)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14)


def test_symbolic_zero_helpers_and_bad_symbolic_zero():
    tree = {"a": np.ones(2), "n": np.arange(3)}
    z = zero_from_primal(tree, symbolic_zeros=True)
    assert type(z["a"]) is SymbolicZero and z["a"].shape == (2,)
    assert z["a"].dtype == fnp.float64 and z["n"].dtype == ft.float0
    plain = zero_from_primal(tree)
    np.testing.assert_array_equal(plain["a"], np.zeros(2))
    np.testing.assert_array_equal(plain["n"], np.zeros(3, dtype=np.int64))
    wrapped = ({"w": CustomVJPPrimal(1.0, True)}, [CustomVJPPrimal(2.0, False)])
    assert custom_vjp_primal_tree_values(wrapped) == ({"w": 1.0}, [2.0])
    with pytest.raises(TypeError, match="CustomVJPPrimal"):
        custom_vjp_primal_tree_values((1.0,))

    @ft.custom_vjp
    def f(x):
        return x * 2.0
    f.defvjp(lambda x: (f(x.value), None),
             lambda r, c: (SymbolicZero.from_primal_value(np.ones(3)),), symbolic_zeros=True)
    with pytest.raises(CustomRuleError, match="SymbolicZero of shape \\(3,\\).*None"):
        ft.grad(lambda x: fnp.sum(f(x)))(np.ones(2))
    with pytest.raises(TypeError, match="symbolic_zeros must be True or False"):
        f.defvjp(lambda x: (x, None), lambda r, c: (c,), symbolic_zeros="yes")


# -- linear_call -----------------------------------------------------------------------------

A = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]])


def _matvec(a, x):
    return a @ x


def _doubled_transpose(calls):
    # deliberately twice the true transpose: a result that is 2 A^T c proves it was used
    def t(a, ct):
        calls.append(1)
        return 2.0 * (fnp.matrix_transpose(a) @ ct)
    return t


def test_linear_call_transpose_is_the_users(backend):
    calls = []
    a = backend.asarray(A)
    x = backend.asarray([1.0, -2.0, 0.5])
    c = backend.asarray([1.0, 2.0])
    f = lambda x: linear_call(_matvec, _doubled_transpose(calls), a, x)  # noqa: E731
    np.testing.assert_allclose(backend.to_numpy(f(x)), A @ [1.0, -2.0, 0.5])
    want = 2 * A.T @ [1.0, 2.0]
    (g,) = ft.vjp(f, x)[1](c)
    assert backend.is_own(g) and calls == [1]
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(lambda x: fnp.sum(f(x) * c))(x)), want)
    (t,) = ft.linear_transpose(f, x)(c)
    np.testing.assert_allclose(backend.to_numpy(t), want, rtol=1e-14)
    # forward mode applies fun to the tangent (a linear map is its own derivative)
    _, jt = ft.jvp(f, (x,), (x,))
    np.testing.assert_allclose(backend.to_numpy(jt), A @ [1.0, -2.0, 0.5], rtol=1e-14)


def test_linear_call_under_vmap_and_jit():
    calls = []
    f = lambda x: linear_call(_matvec, _doubled_transpose(calls), A, x)  # noqa: E731
    xs = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 2.0]])
    c = np.array([1.0, 2.0])
    np.testing.assert_allclose(ft.vmap(f)(xs), xs @ A.T, rtol=1e-14)
    loss = lambda x: fnp.sum(f(x) * c)  # noqa: E731
    want = 2 * A.T @ c
    np.testing.assert_allclose(ft.vmap(ft.grad(loss))(xs), np.stack([want, want]))
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ft.vmap(f)(x) * c))(xs),
                               np.stack([want, want]))
    jitted = ft.jit(ft.grad(loss))
    np.testing.assert_allclose(jitted(xs[0]), want)
    np.testing.assert_allclose(jitted(xs[1]), want)
    assert jitted.cache_size() == 1
    np.testing.assert_allclose(ft.grad(ft.jit(loss))(xs[0]), want)
    assert "linear_call" in str(ft.make_jaxpr(f)(xs[0]))


def test_linear_call_transpose_twice_residual_derivative_and_errors():
    calls = []
    x = np.array([1.0, -2.0, 0.5])
    c = np.array([1.0, 2.0])
    f = lambda x: linear_call(_matvec, _doubled_transpose(calls), A, x)  # noqa: E731
    f_t = ft.linear_transpose(f, x)
    # the transpose of the transpose is fun again (JAX's semantics)
    (back,) = ft.linear_transpose(lambda c: f_t(c)[0], c)(x)
    np.testing.assert_allclose(back, A @ x, rtol=1e-14)
    # (JAX refuses this) the derivative in residual_args comes from fun's code: d/dA (A x).c
    g = ft.grad(lambda a: fnp.sum(linear_call(_matvec, _doubled_transpose(calls), a, x) * c))(A)
    np.testing.assert_allclose(g, np.outer(c, x), rtol=1e-14)
    check_grads(lambda a, x: linear_call(_matvec, lambda a, ct: fnp.matrix_transpose(a) @ ct,
                                         a, x), (A, x), order=2)
    # a transpose of the wrong shape, a value it is linear in passed as a residual
    bad = lambda x: linear_call(_matvec, lambda a, ct: ct, A, x)  # noqa: E731
    with pytest.raises(CustomRuleError, match="shape \\(2,\\).*linear argument leaf 0"):
        ft.vjp(bad, x)[1](c)
    with pytest.raises(TypeError, match="not linear"):
        ft.linear_transpose(lambda x: linear_call(lambda r, y: y * 2.0, lambda r, t: t * 2.0,
                                                  x, x), x)(x)
    # a function closing over a value being differentiated: say to pass it as a residual
    g = lambda x, w: linear_call(lambda r, x: w * x, lambda r, t: w * t, (), x)  # noqa: E731
    with pytest.raises(CustomRuleError, match="closes over a value.*residual_args"):
        ft.grad(g, (0, 1))(2.0, 3.0)


def test_linear_call_against_jax():
    jax = _jax()

    def div_add(lib, x, d):
        return x + lib.custom_derivatives.linear_call(lambda r, x: x / r, lambda r, t: t / r,
                                                      d, x)
    for lib in (ft, jax):
        assert float(div_add(lib, 9.0, 3.0)) == 12.0
    (a,) = ft.linear_transpose(lambda x: div_add(ft, x, 3.0), 1.0)(18.0)
    (b,) = jax.linear_transpose(lambda x: div_add(jax, x, 3.0), 1.0)(18.0)
    assert float(a) == float(b) == 24.0  # 18 + 18 / 3


# -- fwd_and_bwd -----------------------------------------------------------------------------


def test_fwd_and_bwd_matches_grad_and_reuses_its_graphs(backend):
    traced = []

    def f(x, w):
        traced.append(1)
        return fnp.sum(fnp.tanh(x @ w))
    fwd, bwd = ft.fwd_and_bwd(f, argnums=(0, 1))
    x = backend.asarray(np.linspace(-1, 1, 6).reshape(2, 3))
    w = backend.asarray(np.linspace(0.2, -0.3, 12).reshape(3, 4))
    y, res = fwd(x, w)
    assert len(traced) == 1
    assert all(backend.is_own(r) for r in ft.tree.leaves(res)) and ft.tree.leaves(res)
    gx, gw = bwd(res, 1.0)
    xn, wn = backend.to_numpy(x), backend.to_numpy(w)
    s = 1 - np.tanh(xn @ wn) ** 2  # closed form: d sum tanh(x w)
    np.testing.assert_allclose(backend.to_numpy(y), np.sum(np.tanh(xn @ wn)), rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(gx), s @ wn.T, rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(gw), xn.T @ s, rtol=1e-13)
    # new values, same signature: neither pass runs f's Python again
    y2, res2 = fwd(2 * x, w)
    gx2, _ = bwd(res2, 2.0)
    s2 = 1 - np.tanh(2 * xn @ wn) ** 2
    np.testing.assert_allclose(backend.to_numpy(gx2), 2 * s2 @ wn.T, rtol=1e-13)
    assert len(traced) == 1 and fwd.cache_size() == 1 and bwd.cache_size() == 1


def test_fwd_and_bwd_options():
    fwd, bwd = ft.fwd_and_bwd(lambda x, w: (fnp.sum(fnp.sin(x) * w), fnp.cos(x)), argnums=1,
                              has_aux=True)
    x, w = np.array([0.3, 1.2]), np.array([2.0, -1.0])
    y, res, aux = fwd(x, w)
    np.testing.assert_allclose(aux, np.cos(x))
    np.testing.assert_allclose(bwd(res, 1.0), np.sin(x), rtol=1e-14)  # int argnums: one value
    fwd_e, bwd_e = ft.fwd_and_bwd(lambda x: fnp.exp(x) * x, jitted=False)
    y, res = fwd_e(x)
    np.testing.assert_allclose(bwd_e(res, np.ones(2)), np.exp(x) * (1 + x), rtol=1e-14)
    with pytest.raises(TypeError, match="residuals fwd returned"):
        bwd_e(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="out of range"):
        ft.fwd_and_bwd(lambda x: x, argnums=3)[0](1.0)


def test_fwd_and_bwd_against_jax():
    jax = _jax()
    f = lambda lib, np_: lambda x, w: np_.sum(np_.tanh(x * w) ** 2)  # noqa: E731
    x, w = np.array([0.3, -1.2]), np.array([2.0, 0.5])
    y_f, r_f = ft.fwd_and_bwd(f(ft, fnp), argnums=(0, 1))[0](x, w)
    fwd_j, bwd_j = jax.fwd_and_bwd(f(jax, jax.numpy), argnums=(0, 1))
    y_j, r_j = fwd_j(x, w)
    _, bwd_f = ft.fwd_and_bwd(f(ft, fnp), argnums=(0, 1))
    for a, b in zip(bwd_f(r_f, 1.5), bwd_j(r_j, 1.5)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14)


# -- rank and dtype promotion ----------------------------------------------------------------


def test_rank_promotion_modes():
    a, b = np.ones((2, 3)), np.arange(3.0)
    with ft.numpy_rank_promotion("raise"):
        assert ft.config.jax_numpy_rank_promotion == "raise"
        with pytest.raises(ValueError, match="add: operands of shapes \\(2, 3\\) and \\(3,\\)"):
            fnp.add(a, b)
        with pytest.raises(ValueError, match="multiply.*'raise'"):
            ft.grad(lambda x: fnp.sum(x * b))(a)  # the operator, on a tracer
        # same ranks, 0-d operands and Python numbers are not rank promotion
        np.testing.assert_array_equal(fnp.add(a, np.ones((1, 3))), a + 1)
        np.testing.assert_array_equal(fnp.multiply(a, np.float64(2.0)), 2 * a)
        # functrans's own rules broadcast freely (the transpose of a sum of a matrix)
        np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(fnp.sin(x)) * 2.0)(a),
                                   2 * np.cos(a))
    assert ft.config.jax_numpy_rank_promotion == "allow"
    np.testing.assert_array_equal(fnp.add(a, b), a + b)
    with ft.numpy_rank_promotion("warn"):
        with pytest.warns(UserWarning, match="subtract: broadcasting operands of shapes"):
            out = fnp.subtract(a, b)
    np.testing.assert_array_equal(out, a - b)
    with pytest.raises(ValueError, match="one of \\['allow', 'warn', 'raise'\\]"):
        ft.config.update("jax_numpy_rank_promotion", "error")


def test_dtype_promotion_strict():
    f32, f64, i32 = np.ones(3, np.float32), np.ones(3), np.ones(3, np.int32)
    with ft.numpy_dtype_promotion("strict"):
        for fn in (lambda: fnp.add(f32, f64), lambda: fnp.where(f64 > 0, f32, f64),
                   lambda: fnp.concat([f32, f64]), lambda: fnp.multiply(i32, 1.5),
                   lambda: fnp.add(f32, 1j), lambda: fnp.add(i32, True)):
            with pytest.raises(TypePromotionError, match="strict"):
                fn()
        # a Python number meeting its own kind or a wider one is not a promotion
        assert fnp.multiply(f32, 2.0).dtype == fnp.float32
        assert fnp.add(i32, 2).dtype == fnp.int32
        assert fnp.add(f32, 2).dtype == fnp.float32
        # functrans's rules promote as they need
        g = ft.grad(lambda x: fnp.sum(fnp.tanh(x) ** 2))(f32)
        assert g.dtype == np.float32
        with pytest.raises(TypePromotionError):
            ft.grad(lambda x: fnp.sum(x * f64))(f32)
    assert fnp.add(f32, f64).dtype == np.float64
    ft.config.update("jax_numpy_dtype_promotion", "strict")
    try:
        assert ft.config.jax_numpy_dtype_promotion == "strict"
        with pytest.raises(TypePromotionError):
            fnp.add(f32, f64)
    finally:
        ft.config.update("jax_numpy_dtype_promotion", "standard")
    from functrans.numpy import _base
    assert _base._PROMOTION_CHECKS is False  # back to the path with no checks


def test_promotion_modes_against_jax():
    jax = _jax()
    jnp = jax.numpy
    pairs = [(np.ones(3, np.float32), np.ones(3)), (np.ones(3, np.int32), 1.5),
             (np.ones(3, np.float32), 2.0), (np.ones(3, np.int32), 2),
             (np.ones(3, np.int32), True), (np.ones(3, bool), 1), (np.ones(3, np.float32), 1j),
             (np.ones(3, np.complex64), 1.0), (np.ones(3, bool), True)]
    for x, y in pairs:
        with jax.numpy_dtype_promotion("strict"):
            try:
                jnp.add(x, y)
                jax_ok = True
            except jax.dtypes.TypePromotionError:
                jax_ok = False
        with ft.numpy_dtype_promotion("strict"):
            try:
                fnp.add(x, y)
                ft_ok = True
            except TypePromotionError:
                ft_ok = False
        assert ft_ok == jax_ok, (x.dtype, y)


# -- debug.log, jax_softmax_custom_jvp -------------------------------------------------------


def test_debug_log_emits_records_when_values_exist(caplog):
    f = ft.jit(lambda x: (ft.debug.log("x = {}", x), x * 2.0)[1])
    with caplog.at_level(logging.INFO, logger="functrans.debug"):
        f(np.array([1.0, 2.0]))
        f(np.array([3.0, 4.0]))
        ft.vmap(lambda x: ft.debug.log("m={x}", x=x))(np.arange(2.0))
    msgs = [(r.getMessage(), r.levelno, r.name) for r in caplog.records]
    assert msgs == [("x = [1. 2.]", logging.INFO, "functrans.debug"),
                    ("x = [3. 4.]", logging.INFO, "functrans.debug"),
                    ("m=0.0", logging.INFO, "functrans.debug"),
                    ("m=1.0", logging.INFO, "functrans.debug")]
    assert all(r.pathname == __file__ for r in caplog.records)
    with pytest.raises(ValueError, match="unused positional arguments"):
        ft.debug.log("no field", 1.0)


def test_softmax_custom_jvp_option_is_taken():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ft.config.update("jax_softmax_custom_jvp", True)
    try:
        assert ft.config.jax_softmax_custom_jvp is True
        x = np.array([0.5, -1.0, 2.0])
        s = np.exp(x) / np.exp(x).sum()
        jac = ft.jacrev(ft.nn.softmax)(x)
        np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), rtol=1e-13)
    finally:
        ft.config.update("jax_softmax_custom_jvp", False)
