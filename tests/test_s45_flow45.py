"""Session 45, helper flow45: control flow and Taylor mode. Pins:

- the mask of a staged batched ``cond``/``while_loop`` (session 44's custom_jvp function) is
  one primitive, ``taken_rows``, whose JVP binds ``row_mask`` (the tangents of the rows of the
  members that do not take a branch, zero) and, where an operand not batched is
  differentiated, ``taken_fill`` (those members' rows a taking member's): the same
  derivatives as before (central differences, eager, the dot-product identity), under an
  outer vmap (an outer batch axis in the mask), to second order, on every backend;
- the eager batched ``cond`` (a concrete index per member) and while loop gather the
  members' rows with no look at the indices on the host (functrans.numpy's ``take`` read
  them twice per gather: 348 reads per call for a cond under two vmaps, 1036 under a
  checkify, on a device);
- ``jet`` of ``unique`` at a tie of complex values whose curves part right after t = 0:
  as for real ones (the curves ordered by their real parts' series, then their imaginary
  parts'), a ValueError where the result's own shape splits, the coefficients of the
  unique curves for t > 0 where a reduction follows (was: the tie's first curve's
  coefficients, silently).
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.experimental.jet import jet
from ._host_reads_module import load_host_reads as _host_reads


def _cd(f, x, v, h=1e-6):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def _loss_c(c, X):
    # member a takes sqrt(c a) where a > 0, else 2 a; c is the same for every member
    return fnp.sum(ft.vmap(lambda a: flax.cond(a > 0, lambda b: fnp.sqrt(c * b),
                                               lambda b: b * 2.0, a))(X))


def _loss_w(c, X):
    # each member steps v += sqrt(c (5 - v)) until v >= 5: a finished member's step is nan
    def w(x):
        return flax.while_loop(lambda v: v < 5.0, lambda v: v + fnp.sqrt(c * (5.0 - v)), x)
    return fnp.sum(ft.vmap(w)(X))


# -- the mask, one primitive -----------------------------------------------------------------

def _prims(jaxpr):
    return str(jaxpr)


def test_staged_batched_cond_binds_taken_rows():
    X = np.array([-1.0, 4.0, 0.0, 2.25])
    text = _prims(ft.make_jaxpr(_loss_c)(1.5, X))
    assert "taken_rows" in text and "custom_jvp_call" not in text
    # reverse mode: the tangents' masks and the rows of the members left out
    text = _prims(ft.make_jaxpr(ft.grad(_loss_c, argnums=(0, 1)))(1.5, X))
    assert "row_mask" in text and "taken_fill" in text
    # only the batched operand differentiated: masks, no rows replaced
    text = _prims(ft.make_jaxpr(ft.grad(_loss_c, argnums=1))(1.5, X))
    assert "row_mask" in text and "taken_fill" not in text


def test_taken_rows_primitive_rules():
    from functrans.control_flow import taken_rows_p
    pick = np.array([True, False, True])
    x = np.array([[1.0, 2.0], [np.nan, 4.0], [5.0, 6.0]])
    c = np.array(0.5)
    out = taken_rows_p.bind(pick, x, c, dims=(0, None))
    np.testing.assert_array_equal(out[0], x)  # the identity on values
    assert float(out[1]) == 0.5

    # the member left out (row 1) adds nothing: its rows are member 0's in the
    # differentiated run, its tangent zero, c's tangent whole (a member is picked)
    def f(x, c):
        y, d = taken_rows_p.bind(pick, x, c, dims=(0, None))
        return fnp.where(pick[:, None], fnp.sqrt(y) * d, 0.0)
    tx, tc = np.ones_like(x), np.array(1.0)
    val, t = ft.jvp(f, (x, c), (tx, tc))
    assert np.all(np.isfinite(t))
    np.testing.assert_allclose(t[[0, 2]], (np.sqrt(x) * 1.0 + 0.5 / (2 * np.sqrt(x)))[[0, 2]])
    np.testing.assert_array_equal(t[1], [0.0, 0.0])
    gx, gc = ft.grad(lambda x, c: fnp.sum(f(x, c)), argnums=(0, 1))(x, c)
    np.testing.assert_allclose(gc, np.sum(np.sqrt(x[[0, 2]])))
    np.testing.assert_array_equal(gx[1], [0.0, 0.0])
    # no member picked: c's tangent cut
    none = np.zeros(3, bool)
    _, t = ft.jvp(lambda c: taken_rows_p.bind(none, x, c, dims=(0, None))[1], (c,), (tc,))
    assert float(t) == 0.0
    # an outer vmap: each row of the outer batch masks its own members
    picks = np.array([[True, False, True], [False, True, False]])
    xs = np.stack([x, x[::-1]])
    got = ft.vmap(lambda p, x: ft.jvp(lambda x, c: taken_rows_p.bind(p, x, c, dims=(0, None)),
                                      (x, c), (tx, tc))[1][0])(picks, xs)
    for p, g in zip(picks, got):
        np.testing.assert_array_equal(g, np.where(p[:, None], 1.0, 0.0) * np.ones(2))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_staged_batched_cond_derivatives(backend):
    X = np.array([-1.0, 4.0, 0.0, 2.25])
    bX, bc = backend.asarray(X), backend.asarray(np.array(1.5))
    want_c = (2.0 + 1.5) / (2 * np.sqrt(1.5))
    want_x = np.array([2.0, np.sqrt(1.5) / 4, 2.0, np.sqrt(1.5) / 3])
    gc, gx = ft.jit(ft.grad(_loss_c, argnums=(0, 1)))(bc, bX)
    np.testing.assert_allclose(backend.to_numpy(gc), want_c, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(gx), want_x, rtol=1e-12)
    # second order in (c, X), staged = eager
    He = ft.hessian(_loss_c, argnums=(0, 1))(1.5, X)
    Hj = ft.jit(ft.hessian(_loss_c, argnums=(0, 1)))(1.5, X)
    for a, b in zip(ft.tree_util.tree_leaves(He), ft.tree_util.tree_leaves(Hj)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-12, atol=1e-15)
        assert np.all(np.isfinite(np.asarray(b)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_staged_batched_cond_under_an_outer_vmap():
    # jit(grad) of the batched cond under vmap: the mask gets the outer batch axis
    X = np.array([-1.0, 4.0, 0.0, 2.25])
    Cs = np.array([1.5, 2.0])
    Xs = np.stack([X, np.array([3.0, -2.0, 1.0, -0.5])])
    g = ft.vmap(ft.jit(ft.grad(_loss_c, argnums=(0, 1))))(Cs, Xs)
    for k in range(2):
        e = ft.grad(_loss_c, argnums=(0, 1))(Cs[k], Xs[k])
        np.testing.assert_allclose(g[0][k], e[0], rtol=1e-13)
        np.testing.assert_allclose(g[1][k], e[1], rtol=1e-13)
    # c the same for the outer batch too
    g = ft.vmap(lambda x: ft.jit(ft.grad(_loss_c, argnums=(0, 1)))(1.5, x))(Xs)
    for k in range(2):
        e = ft.grad(_loss_c, argnums=(0, 1))(1.5, Xs[k])
        np.testing.assert_allclose(g[0][k], e[0], rtol=1e-13)
        np.testing.assert_allclose(g[1][k], e[1], rtol=1e-13)

    # grad through a vmap of grads, staged
    def f2(c):
        return fnp.sum(ft.vmap(lambda x: ft.grad(_loss_c)(c, x))(Xs))
    np.testing.assert_allclose(ft.jit(ft.grad(f2))(1.5), _cd(f2, 1.5, 1.0), rtol=1e-7)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_staged_batched_while_derivatives(backend):
    X = np.array([0.0, 4.9, 3.0])
    eager = ft.grad(_loss_w, argnums=(0, 1))(1.0, X)
    np.testing.assert_allclose(eager[0], _cd(lambda c: _loss_w(c, X), 1.0, 1.0), rtol=1e-7)
    bX, bc = backend.asarray(X), backend.asarray(np.array(1.0))
    gc, gx = ft.jit(ft.grad(_loss_w, argnums=(0, 1)))(bc, bX)
    np.testing.assert_allclose(backend.to_numpy(gc), eager[0], rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(gx), eager[1], rtol=1e-12)
    # second order in c, forward mode, and the dot-product identity of the staged vjp
    np.testing.assert_allclose(ft.jit(ft.hessian(_loss_w))(1.0, X),
                               _cd(lambda c: ft.grad(_loss_w)(c, X), 1.0, 1.0, 1e-5), rtol=1e-5)
    f = ft.jit(_loss_w)
    _, t = ft.jvp(f, (1.0, X), (-0.3, np.array([1.0, -0.5, 2.0])))
    (_, vjp), u = ft.vjp(f, 1.0, X), 0.7
    ct_c, ct_x = vjp(u)
    np.testing.assert_allclose(u * t, ct_c * -0.3 + np.sum(ct_x * np.array([1.0, -0.5, 2.0])),
                               rtol=1e-12)


# -- the eager batched cond and while: no look at the gathers' indices -----------------------


def test_batched_cond_reads_nothing_on_a_device():
    pytest.importorskip("torch")
    hr = _host_reads()
    table, sites, _ = hr.run(["batched cond", "checkify cond"],
                             modes=("forward", "grad", "vmap"), as_device=True)
    # (were 6, 6, 348 and 6, 6, 1036)
    assert all(v == 0 for row in table.values() for v in row.values()), (table, dict(sites))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_eager_batched_cond_and_while_values(backend):
    # the members' rows gathered and put back in order (concrete index: each its branch)
    X = np.array([[-1.0, 4.0, 0.5], [9.0, -0.5, 2.0]])
    inner = ft.vmap(lambda a: flax.cond(a > 0, lambda b: fnp.sqrt(b), lambda b: b * 2.0, a))
    got = backend.to_numpy(ft.vmap(inner)(backend.asarray(X)))
    np.testing.assert_allclose(got, np.where(X > 0, np.sqrt(np.abs(X)), 2 * X), rtol=1e-15)
    w = ft.vmap(lambda x: flax.while_loop(lambda v: v < 5.0, lambda v: v + 1.5, x))
    np.testing.assert_array_equal(backend.to_numpy(w(backend.asarray(X[0]))), [5.0, 5.5, 5.0])


# -- jet of unique at a complex tie that splits ------------------------------------------------

def test_jet_unique_complex_tie_that_splits_raises():
    # one unique value at t = 0, two for t > 0 (t and -t): no series of one shape
    with pytest.raises(ValueError, match="unique"):
        jet(fnp.unique, (np.array([0j, 0j]),), ((np.array([1 + 0j, -1 + 0j]),),))
    # the same in the imaginary parts
    with pytest.raises(ValueError, match="unique"):
        jet(fnp.unique, (np.array([1j, 1j]),), ((np.array([1j, -1j]),),))


@pytest.mark.parametrize("x0,c1", [
    ([0j, 0j, 1 + 0j], [1 + 0j, -1 + 0j, 0j]),      # real parts part: t, -t
    ([1j, 1j, 2 + 0j], [1j, -1j, 0j]),              # imaginary parts part
    ([1j, 1j, 2 + 0j], [1 + 1j, 1 + 1j, 0j]),       # a tie of equal curves: no split
    ([1 + 1j, 1 + 2j, 3j], [5 + 0j, 0j, 1 + 0j]),   # the order changes, no tie
])
def test_jet_unique_complex_sum_of_squares(x0, c1):
    # sum(unique(x(t))**2) along x(t) = x0 + c1 t: the unique curves for t > 0, the value at 0
    x0, c1 = np.array(x0), np.array(c1)

    def f(x):
        return fnp.sum(fnp.unique(x) ** 2)
    val, (d1, d2) = jet(f, (x0,), ((c1, np.zeros_like(c1)),))
    assert val == np.sum(np.unique(x0) ** 2)
    # the unique curves for small t > 0 (distinct pairs (x0, c1)), exact polynomials
    curves = {(complex(a), complex(b)) for a, b in zip(x0, c1)}
    want1 = sum(2 * a * b for a, b in curves)
    want2 = sum(2 * b * b for a, b in curves)
    np.testing.assert_allclose(complex(d1), want1, atol=1e-15)
    np.testing.assert_allclose(complex(d2), want2, atol=1e-15)
