"""Reverse-mode mechanics that keep derivatives cheap: the symbolic seed of ones, slice
cotangents joined into one concat, and the fused value-and-slope primitives."""

from __future__ import annotations

import numpy as np

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
    for _ in range(4):
        f = ft.grad(f)
        counts.append(len(_evaluated(f, np.asarray(0.5))[1]))
    y = np.tanh(0.5)
    np.testing.assert_allclose(_evaluated(f, np.asarray(0.5))[0],
                               16 * y - 40 * y ** 3 + 24 * y ** 5, rtol=1e-12)
    # tanh_slope hands its rules 1 - y^2 and -2y: each order adds products of values already
    # computed, not the rules of a square re-derived at every level.
    assert counts == [1, 2, 6, 14], counts


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
