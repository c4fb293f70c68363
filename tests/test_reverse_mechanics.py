"""Reverse-mode mechanics that keep derivatives cheap: the symbolic seed of ones, slice
cotangents joined into one concat, and the fused value-and-slope primitives."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import EVAL, Interpreter, reset_current, set_current


class _Count(Interpreter):
    __slots__ = ("names",)

    def __init__(self, parent):
        super().__init__(parent)
        self.names = []

    def process(self, prim, args, params):
        self.names.append(prim.name)
        return self.parent.process(prim, args, params)


def _evaluated(f, *args):
    rec = _Count(EVAL)
    token = set_current(rec)
    try:
        out = f(*args)
    finally:
        reset_current(token)
    return out, rec.names


def test_gradient_never_aliases_a_residual():
    w = np.array([1.0, 2.0, 3.0])
    g = ft.grad(lambda x: fnp.sum(x * w))(np.zeros(3))
    np.testing.assert_array_equal(g, w)
    assert g is not w and not np.shares_memory(g, w)
    g *= 2.0  # the gradient is the caller's to write to
    np.testing.assert_array_equal(w, [1.0, 2.0, 3.0])


def test_gradient_of_a_sum_is_a_writable_array():
    g = ft.grad(lambda x: fnp.sum(x))(np.zeros((2, 3)))
    assert g.shape == (2, 3) and g.flags.writeable
    np.testing.assert_array_equal(g, np.ones((2, 3)))


def test_seed_of_ones_costs_no_product():
    (g, names) = _evaluated(ft.grad(fnp.sin), np.asarray(0.3))
    np.testing.assert_allclose(g, np.cos(0.3))
    assert names == ["sin_cos"]


def test_slices_that_tile_a_variable_transpose_to_one_concat():
    x = np.arange(5.0)
    roll = lambda y: fnp.concat([y[-1:], y[:-1]])  # noqa: E731
    g, names = _evaluated(ft.grad(lambda y: fnp.sum(fnp.sin(y) * roll(y))), x)
    ref = np.cos(x) * np.roll(x, 1) + np.roll(np.sin(x), -1)
    np.testing.assert_allclose(g, ref)
    assert "scatter_slice" not in names and names.count("concat") == 2


def test_slices_that_do_not_tile_still_scatter():
    x = np.arange(6.0)
    g = ft.grad(lambda y: fnp.sum(y[1:3] ** 2) + fnp.sum(y[::2]) + fnp.sum(y * y))(x)
    ref = 2 * x
    ref[1:3] += 2 * x[1:3]
    ref[::2] += 1
    np.testing.assert_allclose(g, ref)


def test_nested_tanh_derivatives_stay_small():
    f = fnp.tanh
    counts = []
    for _ in range(6):
        f = ft.grad(f)
        counts.append(len(_evaluated(f, np.asarray(0.5))[1]))
    # (the closed forms: test_nested_grad_of_tanh_matches_closed_forms_to_order_6)
    d5 = ft.grad(ft.grad(ft.grad(ft.grad(ft.grad(fnp.tanh)))))
    h = 1e-4
    fd = (float(d5(np.asarray(0.5 + h))) - float(d5(np.asarray(0.5 - h)))) / (2 * h)
    np.testing.assert_allclose(float(_evaluated(f, np.asarray(0.5))[0]), fd, rtol=1e-6)
    # tanh_slope hands its rules 1 - y^2 and -2y: each order adds products of values already
    # computed, not the rules of a square re-derived at every level; the product rule is one
    # mul_add, and all the products reaching one variable in a transpose are summed in one
    # mul_add (51 evaluations at order 6 when each product was added on arrival).
    assert counts == [1, 2, 4, 8, 14, 25], counts


def test_fill_added_to_a_dense_cotangent_is_one_scalar_add():
    # lse + m: the seed's fill reaches m both directly and through the exp: the fill is
    # added to the dense cotangent as a scalar (no full_like, no broadcast).
    def f(x):
        m = fnp.max(x)
        return fnp.log(fnp.sum(fnp.exp(x - m))) + m
    for dtype in ("float64", "float32"):
        x = np.array([0.5, -1.0, 2.0, 0.25], dtype=dtype)
        g, names = _evaluated(ft.grad(f), x)
        e = np.exp(x.astype(np.float64) - x.max())
        np.testing.assert_allclose(g, e / e.sum(), rtol=1e-6)
        assert g.dtype == x.dtype
        assert "full_like" not in names


def test_fill_plus_dense_cotangent_values():
    # x reaches the output both through a fill path (the sum) and a dense one (sin).
    x = np.array([0.3, -1.2, 2.0])
    g = ft.grad(lambda y: fnp.sum(y) + fnp.sum(fnp.sin(y) * y))(x)
    np.testing.assert_allclose(g, 1.0 + np.cos(x) * x + np.sin(x), rtol=1e-13)
    g = ft.grad(lambda y: fnp.sum(fnp.sin(y) * y) - 3.0 * fnp.sum(y))(x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x) - 3.0, rtol=1e-13)
    h = ft.hessian(lambda y: fnp.sum(y) + fnp.sum(y * y * y))(x)
    np.testing.assert_allclose(h, np.diag(6.0 * x), rtol=1e-13)


def test_max_tangent_is_shared_by_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    g = ft.grad(lambda y: fnp.sum(fnp.max(y, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    g = ft.grad(lambda y: fnp.min(y))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    x2 = np.array([[1.0, 3.0, 3.0], [1.0, 0.0, 3.0]])
    _, t = ft.jvp(lambda y: fnp.max(y, axis=0), (x2,), (np.arange(6.0).reshape(2, 3),))
    np.testing.assert_array_equal(t, [1.5, 1.0, 3.5])
    per_row = ft.vmap(ft.grad(lambda r: fnp.max(r)))(x)
    np.testing.assert_array_equal(per_row, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    h = ft.hessian(lambda y: fnp.sum(fnp.max(y, axis=1) ** 2))(x)
    ref = np.zeros((2, 3, 2, 3))
    ref[0, 1:, 0, 1:] = 2 * 0.25
    ref[1, 0, 1, 0] = 2.0
    np.testing.assert_allclose(h, ref)
    # one weights primitive in the forward pass, no eq/convert/division
    _, names = _evaluated(ft.grad(lambda y: fnp.sum(fnp.max(y, axis=1))), x)
    assert "chooser_weights" in names and "eq" not in names and "div" not in names


def test_keepdims_reductions_are_one_primitive_each_way():
    # sum/max/min with keepdims bind the reduction with keepdims (no reshape), and the
    # transposes of their sums and of the length-1 broadcasts are single sums/broadcasts
    x = np.array([[1.0, 3.0, 2.0], [2.0, 0.0, -1.0]])

    def lse(y):
        m = fnp.max(y, axis=1, keepdims=True)
        s = fnp.log(fnp.sum(fnp.exp(y - m), axis=1, keepdims=True)) + m
        return fnp.sum(s - fnp.min(y, axis=1, keepdims=True))

    g, names = _evaluated(ft.grad(lse), x)
    assert "reshape" not in names
    soft = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    arg_min = (x == x.min(axis=1, keepdims=True)).astype(float)
    np.testing.assert_allclose(g, soft - arg_min, rtol=1e-14)
    graph = str(ft.make_graph(ft.grad(lse))(x))
    assert "keepdims" in graph and "reshape" not in graph
    # the same results through vmap and jit, and with the primitive's result shape
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda r: lse(r[None])))(x), g, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(lse))(x), g, rtol=1e-14)
    for f in (fnp.sum, fnp.max, fnp.min):
        out = f(x, axis=(0, 1), keepdims=True)
        assert out.shape == (1, 1)
        t = ft.jvp(lambda y: f(y, axis=0, keepdims=True), (x,), (np.ones_like(x),))[1]
        assert t.shape == (1, 3)


def _tanh_derivative(k, y):
    """d^k/dx^k tanh(x) as a polynomial in y = tanh(x): P_0 = y, P_{k+1} = P_k'(y) (1 - y^2)."""
    P = np.polynomial.Polynomial
    p = P([0.0, 1.0])
    for _ in range(k):
        p = p.deriv() * P([1.0, 0.0, -1.0])
    return p(y)


def test_nested_grad_of_tanh_matches_closed_forms_to_order_6():
    x = 0.5
    f = fnp.tanh
    for k in range(1, 7):
        f = ft.grad(f)
        np.testing.assert_allclose(f(np.asarray(x)), _tanh_derivative(k, np.tanh(x)),
                                   rtol=1e-12)


def test_nested_grad_of_products_matches_closed_forms():
    # Products of two traced factors (mul_add in every rule and transpose) at every order:
    # d^k (x e^x) = (x + k) e^x, d^k (x sin x) = x sin(x + k pi/2) + k sin(x + (k-1) pi/2),
    # and a sum of products reaching one variable three ways.
    x = 0.7
    f = lambda t: t * fnp.exp(t)  # noqa: E731
    g = lambda t: t * fnp.sin(t)  # noqa: E731
    h = lambda t: fnp.exp(t) * fnp.sin(t) + t * t * fnp.cos(t)  # noqa: E731
    for k in range(1, 6):
        f, g, h = ft.grad(f), ft.grad(g), ft.grad(h)
        np.testing.assert_allclose(f(x), (x + k) * np.exp(x), rtol=1e-12)
        np.testing.assert_allclose(g(x), x * np.sin(x + k * np.pi / 2)
                                   + k * np.sin(x + (k - 1) * np.pi / 2), rtol=1e-11)
        # forward over forward as the reference for h (no transposes involved)
        ref = lambda t: fnp.exp(t) * fnp.sin(t) + t * t * fnp.cos(t)  # noqa: E731
        for _ in range(k):
            ref = (lambda r: lambda t: ft.jvp(r, (t,), (1.0,))[1])(ref)
        np.testing.assert_allclose(h(x), ref(x), rtol=1e-11)


def test_mul_add_every_arity_and_scalars():
    from functrans.primitives.elementwise import mul_add
    rng = np.random.default_rng(1)
    a, b, c, d, e = (rng.standard_normal(4) for _ in range(5))
    np.testing.assert_allclose(mul_add(a, b, c), a * b + c)
    np.testing.assert_allclose(mul_add(a, b, c, d), a * b + c * d)
    np.testing.assert_allclose(mul_add(a, 2.0, c, d, e), 2 * a + c * d + e)
    # all five operands differentiated, each product with a residual partner in the
    # transpose; jacrev runs the transposes batched (vmap)
    for fn in (lambda a, b, c: mul_add(a, b, c), lambda a, b, c, d: mul_add(a, b, c, d),
               lambda a, c, d, e: mul_add(a, 2.0, c, d, e)):
        args = (a, b, c, d, e)[:fn.__code__.co_argcount]
        for i in range(len(args)):
            J = ft.jacrev(fn, argnums=i)(*args)
            Jf = ft.jacfwd(fn, argnums=i)(*args)
            np.testing.assert_allclose(J, Jf, rtol=1e-13)


def test_cotangents_of_products_accumulate_into_one_variable():
    # x reaches the loss through several products (and a slice and a sum): the pending
    # products in the reverse pass meet Fill, slice pieces, dense cotangents and each other.
    rng = np.random.default_rng(2)
    x, w1, w2, w3 = (rng.standard_normal(5) for _ in range(4))

    def loss(x):
        return (fnp.sum(x * w1) + fnp.sum(x[1:] * w2[1:]) + fnp.sum((x * w3) * x)
                + fnp.sum(fnp.sin(x) * x) + fnp.sum(x))
    g = ft.grad(loss)(x)
    ref = w1 + np.r_[0.0, w2[1:]] + 2 * w3 * x + np.cos(x) * x + np.sin(x) + 1.0
    np.testing.assert_allclose(g, ref, rtol=1e-13)
    # a seed scaled on its way (a fill of 3) reaching the product rule's mul_add
    g3 = ft.grad(lambda x: 3.0 * fnp.sum(x * fnp.sin(x) + x))(x)
    np.testing.assert_allclose(g3, 3.0 * (np.sin(x) + x * np.cos(x) + 1.0), rtol=1e-13)
    H = ft.hessian(loss)(x)
    np.testing.assert_allclose(H, np.diag(2 * w3 - np.sin(x) * x + 2 * np.cos(x)),
                               rtol=1e-12, atol=1e-14)


def test_fill_meeting_a_pending_product():
    # The seeds' f: at the second level the cotangent of x1 x2 is a fill (from the sum) and a
    # pending product (from exp's transpose) reaching one variable; they add as one mul_add.
    def f(x1, x2):
        return x1 * x2 + fnp.exp(x1 * x2) - fnp.sin(x2)

    x1, x2 = 1.5, 0.5
    e = np.exp(x1 * x2)
    assert float(ft.grad(ft.grad(f))(x1, x2)) == pytest.approx(x2 ** 2 * e, rel=1e-14)
    d12 = ft.grad(ft.grad(f), argnums=1)(x1, x2)
    assert float(d12) == pytest.approx(1 + e + x1 * x2 * e, rel=1e-14)
    x = np.array([0.3, -0.7, 1.1])
    g = ft.grad(lambda y: fnp.sum(y * fnp.exp(y) + y))(x)
    np.testing.assert_allclose(g, (1 + x) * np.exp(x) + 1, rtol=1e-14)


def test_products_reaching_one_variable_are_one_mul_add():
    # x is used by four products: its cotangent is one mul_add of four pairs (not a chain of
    # three), and x*2.0 and x*3.0, whose cotangent is the same array, merge into one term.
    rng = np.random.default_rng(5)
    x, a, b = (rng.standard_normal(4) for _ in range(3))

    def f(x):
        y = x * a + x * b + x * 2.0 + x * 3.0
        return fnp.sum(fnp.sin(y))
    g, names = _evaluated(ft.grad(f), x)
    y = x * a + x * b + 5.0 * x
    np.testing.assert_allclose(g, np.cos(y) * (a + b + 5.0), rtol=1e-14)
    # forward: 4 products, 3 adds, sin_cos; backward: cos(y) times the seed is cos(y) itself
    # (a fill), and x's cotangent one mul_add of three pairs (a, b and the merged 5.0)
    back = names[names.index("sin_cos") + 1:]
    assert back.count("mul_add") == 1 and "add" not in back and "mul" not in back, names


def test_many_products_reaching_one_variable():
    # More products than a pending sum holds at once: it is flushed into its dense rest and
    # goes on, and the gradient is the same.
    rng = np.random.default_rng(6)
    ws = [rng.standard_normal(3) for _ in range(20)]
    x = rng.standard_normal(3)

    def f(x):
        return fnp.sum(sum((x * w for w in ws), fnp.zeros_like(x)) * x)
    g = ft.grad(f)(x)
    s = sum(ws)
    np.testing.assert_allclose(g, 2 * s * x, rtol=1e-13)
    H = ft.hessian(f)(x)
    np.testing.assert_allclose(H, 2 * np.diag(s), rtol=1e-13, atol=1e-15)


def test_fills_meeting_a_pending_sum_stay_in_the_operands_library(backend):
    # x's cotangent: a pending product (through sin(sin(x))), then two fills (from x + x):
    # the fills' values add as Python numbers, never as an array of the default library.
    def f(x):
        return fnp.sum(x + x) + fnp.sum(fnp.sin(fnp.sin(x)))
    x0 = np.array([0.3, 0.5])
    g = ft.grad(f)(backend.asarray(x0))
    assert backend.is_own(g), type(g)
    np.testing.assert_allclose(backend.to_numpy(g), 2 + np.cos(np.sin(x0)) * np.cos(x0),
                               rtol=1e-14)


def _cross_entropy(z, Y):
    """The mean softmax cross-entropy of logits ``z`` through a stable log-sum-exp (W2's)."""
    m = fnp.max(z, axis=1, keepdims=True)
    lse = fnp.log(fnp.sum(fnp.exp(z - m), axis=1, keepdims=True)) + m
    return fnp.mean(lse - fnp.sum(Y * z, axis=1, keepdims=True))


def test_cross_entropy_backward_operations():
    # The backward pass of W2's loss: the seed's 1/n times Y stays a pending product and
    # joins the logits' other cotangents in one mul_add (no product of its own, no add).
    z = np.array([[0.5, 2.0, -1.0, 2.0], [1.0, -0.5, 0.25, 3.0], [0.0, 0.0, 0.0, 0.0]])
    Y = np.eye(4)[[1, 3, 0]]
    g, names = _evaluated(ft.grad(_cross_entropy), z, Y)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g, (e / e.sum(axis=1, keepdims=True) - Y) / 3, rtol=1e-14,
                               atol=1e-17)  # (ties in rows 0 and 2: the max's share cancels)
    back = names[names.index("div") + 1:]  # (after the forward's one division, the mean's)
    assert back == ["div", "broadcast_in_dim", "mul", "mul", "reduce_sum", "add",
                    "broadcast_in_dim", "mul_add"], back


def test_pending_scalars_through_sums_and_data_movement():
    # Negated and scaled cotangents (a subtraction's, a fill's times a residual) carried as
    # pending products through a broadcast's sum, a sum's broadcast, transposes, reshapes and
    # flips: the derivatives, of first and second order, against central differences and
    # the dot-product identity.
    from functrans.testing import check_grads
    rng = np.random.default_rng(11)
    a = rng.standard_normal((3, 4))

    def f(x):
        s = fnp.sum(x, axis=1, keepdims=True)
        y = fnp.sin(a - s) - 0.5 * fnp.flip(fnp.reshape(fnp.transpose(x), (3, 4)), axis=1)
        return fnp.sum(fnp.cos(y) - fnp.mean(x * 2.0, axis=0))
    check_grads(f, (rng.standard_normal((3, 4)),), order=2)
    g = ft.grad(f)(np.zeros((3, 4)))
    assert g.shape == (3, 4) and g.dtype == np.float64


def test_subtraction_of_a_complex_operand():
    # The negated cotangent of a complex operand is a neg (signs of zeros kept), the real
    # ones' a pending product: d/dx Re(e^{ix} - e^{2ix}) - (x - 3x) = -sin x + 2 sin 2x + 2.
    x = np.array([0.3, -1.1, 2.0])

    def f(x):
        return fnp.sum(fnp.real(fnp.exp(1j * x) - fnp.exp(2j * x)) - (x - 3.0 * x))
    np.testing.assert_allclose(ft.grad(f)(x), -np.sin(x) + 2 * np.sin(2 * x) + 2, rtol=1e-14)
