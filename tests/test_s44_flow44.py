"""Session 44, helper flow44: control flow and Taylor mode. Pins:

- a batched ``cond`` (``switch``) staged or with an abstract index: an operand *not* batched
  (a closed-over parameter) no longer carries the nan of a branch on the rows of the
  members that do not take it into its derivative (the batched operands' rows of those
  members are a taking member's in the differentiated run, and its tangent cut where no
  member takes the branch); checked against central differences, the dot-product identity
  and JAX's values by hand;
- the same for a staged batched ``while_loop``: a finished member's step (run on every row,
  its result dropped) no longer carries its nan into the derivatives of the loop's carry
  and of an unbatched operand (``jit(grad)`` and ``grad(jit)`` were nan, eager and forward
  mode right);
- a batched ``cond`` whose branch reduces over the batch (a collective, the batch run
  whole): the derivative through the members that do not take the branch is the true one
  (central differences'; session 43's tangent mask cut it, as JAX 0.10.2 does);
- ``jet`` of ``unique`` (no ``size=``; 1-d and ``axis=`` slices) at a tie of values whose
  curves part right after t = 0: the coefficients of the unique curves for t > 0 (jet's
  second run, as for a mask that changes there), the values ``f(x0)``; a result whose own
  shape changes raises ValueError.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp


def _cd(f, x, v, h=1e-6):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


# -- a batched cond: an unbatched operand's derivative free of the untaken branch's nan -------

def _loss_c(c, X):
    # member a takes sqrt(c * a) where a > 0, else 2 a; c is the same for every member
    return fnp.sum(ft.vmap(lambda a: flax.cond(a > 0, lambda b: fnp.sqrt(c * b),
                                               lambda b: b * 2.0, a))(X))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_jit_grad_vmapped_cond_unbatched_operand(backend):
    X = backend.asarray(np.array([-1.0, 4.0, 0.0, 2.25]))
    c = backend.asarray(np.array(1.5))
    # d/dc sum(sqrt(c a)) over a in {4, 2.25}: (sqrt(4) + sqrt(2.25)) / (2 sqrt(c))
    want_c = (2.0 + 1.5) / (2 * np.sqrt(1.5))
    want_x = np.array([2.0, np.sqrt(1.5) / 4, 2.0, np.sqrt(1.5) / 3])
    for g in (ft.jit(ft.grad(_loss_c, argnums=(0, 1))), ft.grad(ft.jit(_loss_c), argnums=(0, 1))):
        gc, gx = g(c, X)
        np.testing.assert_allclose(backend.to_numpy(gc), want_c, rtol=1e-12)
        np.testing.assert_allclose(backend.to_numpy(gx), want_x, rtol=1e-12)
    gc = ft.jit(ft.grad(_loss_c))(c, X)  # c alone differentiated
    np.testing.assert_allclose(backend.to_numpy(gc), want_c, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_vmapped_cond_unbatched_operand_checks():
    X = np.array([-1.0, 4.0, 0.0, 2.25])
    np.testing.assert_allclose(_cd(lambda c: ft.jit(_loss_c)(c, X), 1.5, 1.0),
                               3.5 / (2 * np.sqrt(1.5)), rtol=1e-7)
    # second order: d2/dc2 of 3.5 sqrt(c) = -3.5 / 4 c^-1.5
    np.testing.assert_allclose(ft.jit(ft.hessian(_loss_c))(1.5, X), -3.5 / 4 * 1.5 ** -1.5,
                               rtol=1e-12)
    # the dot-product identity of the staged vjp in (c, X), and the forward mode agreeing
    f = ft.jit(_loss_c)
    (_, vjp), u = ft.vjp(f, 1.5, X), 0.7
    ct_c, ct_x = vjp(u)
    dc, dx = -0.3, np.array([1.0, -0.5, 2.0, 0.25])
    _, t = ft.jvp(f, (1.5, X), (dc, dx))
    assert np.isfinite(t) and np.isfinite(ct_c) and np.all(np.isfinite(ct_x))
    np.testing.assert_allclose(u * t, ct_c * dc + np.sum(ct_x * dx), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_vmapped_cond_no_member_takes_the_nan_branch():
    # no member takes sqrt: its rows are all outside its domain, the derivative of c is 0
    X = np.array([-1.0, -4.0, 0.0])
    gc, gx = ft.jit(ft.grad(_loss_c, argnums=(0, 1)))(1.0, X)
    assert gc == 0.0
    np.testing.assert_array_equal(gx, [2.0, 2.0, 2.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_vmapped_switch_unbatched_matrix_and_integer_operand():
    # three branches; the parameters W (a matrix) and s unbatched, an integer operand batched
    W = np.array([[1.0, 0.5], [-0.25, 2.0]])

    def member(W, s, x, i):
        return flax.switch(i, [lambda x, k: fnp.sum(fnp.log(W @ x)) * s,
                               lambda x, k: fnp.sum(fnp.sqrt(k - W @ x)) * s,
                               lambda x, k: fnp.sum(x) * s * k], x, i)

    def loss(W, s, X, idx):
        return fnp.sum(ft.vmap(member, in_axes=(None, None, 0, 0))(W, s, X, idx))
    X = np.array([[1.0, 2.0], [-1.0, 0.0], [2.0, 1.0], [-1.0, -1.0]])
    # the branches not taken: log(W x) nan for members 1 and 3, sqrt(1 - W x) for 0 and 2
    idx = np.array([0, 1, 0, 2])
    # the members' own values: every row finite
    assert np.all(np.isfinite(ft.vmap(member, in_axes=(None, None, 0, 0))(W, 1.3, X, idx)))
    gW, gs = ft.jit(ft.grad(loss, argnums=(0, 1)))(W, 1.3, X, idx)
    want_W = np.array([_cd(lambda w: loss(w.reshape(2, 2), 1.3, X, idx), W.ravel(), e)
                       for e in np.eye(4)]).reshape(2, 2)
    want_s = _cd(lambda s: loss(W, s, X, idx), 1.3, 1.0)
    np.testing.assert_allclose(gW, want_W, rtol=1e-7)
    np.testing.assert_allclose(gs, want_s, rtol=1e-7)
    # the same through eager vmap (each member its own branch) to the last digits
    eW, es = ft.grad(loss, argnums=(0, 1))(W, 1.3, X, idx)
    np.testing.assert_allclose(gW, eW, rtol=1e-13)
    np.testing.assert_allclose(gs, es, rtol=1e-13)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nested_vmap_cond_unbatched_operand_under_jit():
    def loss(c, X):
        inner = ft.vmap(lambda a: flax.cond(a > 0, lambda b: fnp.sqrt(c * b),
                                            lambda b: b * 2.0, a))
        return fnp.sum(ft.vmap(inner)(X))
    X = np.array([[-1.0, 4.0], [9.0, -0.5]])
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(1.0, X), (2.0 + 3.0) / 2, rtol=1e-12)


# -- a staged batched while_loop: a finished member's step leaks nothing ---------------------

def _loss_w(c, X):
    # each member steps v += sqrt(c (5 - v)) until v >= 5: a finished member's step is nan
    def w(x):
        return flax.while_loop(lambda v: v < 5.0, lambda v: v + fnp.sqrt(c * (5.0 - v)), x)
    return fnp.sum(ft.vmap(w)(X))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_staged_vmapped_while_finished_members_derivatives(backend):
    X = np.array([0.0, 4.9, 3.0])
    want_c = _cd(lambda c: _loss_w(c, X), 1.0, 1.0)
    want_x = np.array([_cd(lambda x: _loss_w(1.0, x), X, e) for e in np.eye(3)])
    eager = ft.grad(_loss_w, argnums=(0, 1))(1.0, X)
    np.testing.assert_allclose(eager[0], want_c, rtol=1e-7)
    np.testing.assert_allclose(eager[1], want_x, rtol=1e-7)
    bX, bc = backend.asarray(X), backend.asarray(np.array(1.0))
    for g in (ft.jit(ft.grad(_loss_w, argnums=(0, 1))), ft.grad(ft.jit(_loss_w), argnums=(0, 1))):
        gc, gx = g(bc, bX)
        np.testing.assert_allclose(backend.to_numpy(gc), eager[0], rtol=1e-12)
        np.testing.assert_allclose(backend.to_numpy(gx), eager[1], rtol=1e-12)


# -- a branch reducing over the batch: every member's row counts -----------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_collective_branch_derivative_through_members_not_taking_it():
    xs = np.array([0.3, -1.2, 2.0])

    def f(xs):
        return fnp.sum(ft.vmap(lambda x: flax.cond(x > 0, lambda x: x * flax.psum(x * 1.2, "i"),
                                                   lambda x: x * 1.2, x), axis_name="i")(xs))
    # members 0 and 2 read member 1's x through the psum: d/dx1 = 1.2 + 1.2 (0.3 + 2.0)
    want = np.array([_cd(f, xs, e) for e in np.eye(3)])
    np.testing.assert_allclose(want, [4.08, 3.96, 4.08], rtol=1e-8)
    for g in (ft.grad(f), ft.jit(ft.grad(f)), ft.grad(ft.jit(f)), ft.jacfwd(f)):
        np.testing.assert_allclose(g(xs), [4.08, 3.96, 4.08], rtol=1e-12)


# -- jet of unique (no size=) at a tie that splits right after t = 0 --------------------------

def test_jet_unique_tie_splitting_after_zero(backend):
    from functrans.experimental.jet import jet
    import math
    import numpy.polynomial.polynomial as P
    X = backend.asarray(np.array([0.0, 2.0, 0.0]))
    # curves t + t^2/2, 2 and t - t^2/2 (derivatives 1, +-1): one value at t = 0, two after,
    # which split at the second coefficient only
    s1, s2 = backend.asarray(np.array([1.0, 0.0, 1.0])), backend.asarray(np.array([1.0, 0.0, -1.0]))
    z = backend.asarray(np.zeros(3))
    y, ys = jet(lambda x: fnp.sum(fnp.unique(x) ** 3), (X,), ((s1, s2, z),))
    poly = P.polyadd(P.polypow([0, 1, 0.5], 3), P.polypow([0, 1, -0.5], 3))
    want = [poly[k] * math.factorial(k) for k in (1, 2, 3)]
    assert float(backend.to_numpy(y)) == 8.0
    np.testing.assert_allclose([float(backend.to_numpy(t)) for t in ys], want, atol=1e-15)
    # the smallest unique value for t > 0 is the curve t - t^2/2 (one-sided), its value f(x0)
    y, ys = jet(lambda x: fnp.unique(x)[0], (X,), ((s1, s2, z),))
    assert [float(backend.to_numpy(t)) for t in (y, *ys)] == [0.0, 1.0, -1.0, 0.0]
    # counts and inverse indices follow the curves for t > 0 too (x = [t, 2t, 1, 2t])
    Y = backend.asarray(np.array([[0.0, 0.0], [1.0, 0.0]]))
    S = backend.asarray(np.array([[1.0, 2.0], [0.0, 2.0]]))

    def g(x):
        v, inv, c = fnp.unique(x, return_inverse=True, return_counts=True)
        return fnp.sum(v * fnp.astype(c, v.dtype)) + fnp.sum(fnp.take(v, inv) ** 2)
    y, (t1, t2) = jet(g, (Y,), ((S, backend.asarray(np.zeros((2, 2)))),))
    # t * 1 + 2t * 2 + 1 + (t^2 + 4t^2 + 1 + 4t^2): value 2, slope 5, second derivative 18
    assert [float(backend.to_numpy(v)) for v in (y, t1, t2)] == [2.0, 5.0, 18.0]


def test_jet_unique_result_whose_shape_splits_raises():
    from functrans.experimental.jet import jet
    with pytest.raises(ValueError, match="unique at a tie"):
        jet(fnp.unique, (np.array([0.0, 0.0, 1.0]),), ((np.array([1.0, -1.0, 0.0]),),))
    # no split (the same curves, or ties of NaNs): one run, NumPy's values
    y, (t,) = jet(fnp.unique, (np.array([0.0, 0.0, np.nan, np.nan]),),
                  ((np.array([1.0, 1.0, 2.0, 3.0]),),))
    np.testing.assert_array_equal(y, [0.0, np.nan])
    np.testing.assert_array_equal(t, [1.0, 2.0])


def test_jet_unique_slices_tie_splitting_after_zero():
    from functrans.experimental.jet import jet
    # slices A(t) = (t, 1), B = (-t, 1), C = (2, 3), A again: two unique slices at t = 0,
    # three for t > 0 (sum of squares 2 t^2 + 15, at t = 0 14)
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 3.0], [0.0, 1.0]])
    S = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    y, ys = jet(lambda x: fnp.sum(fnp.unique(x, axis=0) ** 2), (X,), ((S, np.zeros((4, 2))),))
    assert float(y) == 14.0 and [float(t) for t in ys] == [0.0, 4.0]
    y, (t,) = jet(lambda x: fnp.sum(fnp.astype(fnp.unique(x, axis=0, return_counts=True)[1],
                                               float) * fnp.unique(x, axis=0)[:, 1]),
                  (X,), ((S,),))
    assert float(y) == 3 * 1.0 + 3.0 and float(t) == 0.0
