"""Session 56 (cond56): a transposed cond's zeros that the gradient only adds to others.

Fixed:

- jit's graph (``compiling._Entry``, NumPy arguments) makes a cond branch's ``full_like(x,
  0)`` output of 64 KB or more a broadcast 0-d zero where the graph only sums that output
  with others (add, sub, mul_add: the backward pass's accumulation of an operand read in
  one branch and outside the cond; ``control_flow.summed_zeros_as_broadcasts``): the cond's
  impl returns the read-only view as it is (session 55's fills) and the sum is a new array,
  so no pass fills zeros at every call and no caller ever sees the view. jit(grad) of
  ``cond(p, sin(y) y, exp(x/2)) + sum(y y/2)`` on the branch lacking y's cotangent, CPU
  medians of 201-1001 interleaved calls (the rewrite on and off, one process): 2e4
  elements 191 -> 178 us (-7 %), 1e5 624 -> 576 (-8 %), 3e5 1414 -> 1344 (-5 %), 1e6 5403
  -> 5208 (-3.6 %); graphs without such a sum unchanged. Staging (once per signature):
  7 us for the walk where a cond has outputs of 64 KB or more, 27 us where it rewrites one
  (jit's first call: ~1.0-1.4 ms).
- The control-flow fuzzer: ``--help`` printed a traceback; ``--mixed`` adds conds and
  switches whose branches read different operands (opt-in: the seeds' programs stay).

Not done (measured): zeros made broadcasts in ``_switch_sparse`` itself, with jvp/vjp
copying read-only views out. A returned gradient of zeros is copied at jit's edge then
(10^6: 295 vs 286 us for the fill, session 55), and read-only views reach the caller
through many more exits than jvp's and vjp's primal outputs: linearize's, the aux of grad,
value_and_grad, jvp, vjp and jacfwd, and vmap of any of them (all seen read-only with that
change), several of them other modules' code; a copy at each would buy nothing where the
zeros are a result.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import control_flow
from .test_s54_cond54 import _mixed, _mixed_ref

RNG = np.random.default_rng(56)
N = 10_000  # (80 KB: from buffers.MIN_BYTES on)
X, Y, V = (RNG.standard_normal(N) for _ in range(3))


def _summed(x, y, p):
    # y's cotangent: the true branch's (zeros from the false one) plus y's from y * y
    return _mixed(x, y, p) + fnp.sum(y * y * 0.5)


def _summed_ref(x, y, p):
    return _mixed_ref(x, y, p) + fnp.sum(y * y * 0.5)


def _branch_outputs(f, *args):
    """The producing primitive of each output of each branch of the last cond of jit's
    graph for f at args (None: an input)."""
    graph = f.lower(*args)._entry.graph
    eqn = [e for e in graph.eqns if e[0] is control_flow.cond_p][-1]
    made = []
    for g in eqn[2]["branches"]:
        names = {o: prim.name for prim, _i, _p, o in g.eqns if not prim.multiple_results}
        made.append([names.get(o) for o in g.outputs])
    return made


def _check_results(got, want, inputs):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-15)
        assert g.flags.writeable and g.flags.owndata
        assert not any(np.shares_memory(g, a) for a in [*inputs, *got] if a is not g)


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_summed_zeros_are_broadcasts_and_results_own_memory(p):
    pj = np.float64(p)
    f = ft.jit(ft.grad(_summed, argnums=(0, 1)))
    # the false branch's zeros for y (summed with y's other cotangent): a broadcast (base: a
    # full_like); the true branch's for x (a result) stay a full_like
    assert _branch_outputs(f, X, Y, pj) == [["mul", "broadcast_in_dim"],
                                            ["full_like", "mul_add"]]
    want = ft.grad(_summed_ref, argnums=(0, 1))(X, Y, p)
    for _ in range(4):  # (first, second and compiled runs)
        got = f(X, Y, pj)
        _check_results(got, want, (X, Y))
        for g in got:  # (the caller's to write into: the zero the views share is untouched)
            g[...] = 3.0
    # small operands: the fill stays (a copy costs less than a broadcast there)
    small = ft.jit(ft.grad(_summed, argnums=(0, 1)))
    assert _branch_outputs(small, X[:6], Y[:6], pj) == [["mul", "full_like"],
                                                        ["full_like", "mul_add"]]


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_returned_zeros_stay_arrays_under_jvp_vjp(p):
    # (pins) zeros that are a result stay a full_like: jvp's and vjp's primal outputs of a
    # jitted gradient are the cond's values as they are
    pj = np.float64(p)
    g = ft.jit(ft.grad(_mixed, argnums=(0, 1)))
    assert _branch_outputs(g, X, Y, pj) == [["mul", "full_like"], ["full_like", "mul_add"]]
    want = ft.grad(_mixed_ref, argnums=(0, 1))(X, Y, p)
    prims = [ft.jvp(lambda x, y: g(x, y, pj), (X, Y), (Y, X))[0],
             ft.vjp(lambda x, y: g(x, y, pj), X, Y)[0],
             ft.linearize(lambda x, y: g(x, y, pj), X, Y)[0],
             ft.vjp(lambda x: (fnp.sum(x), g(x, Y, pj)), X, has_aux=True)[2]]
    for got in prims:
        _check_results(got, want, (X, Y))


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_broadcast_zeros_under_transforms_and_second_order(p):
    pj = np.float64(p)
    # a jitted gradient closing over a tracer of grad around it: the rewritten graph runs
    # under that transform
    def outer(s):
        gx, gy = ft.jit(lambda x, y: ft.grad(lambda a, b: _summed(a, b, pj) * s,
                                             argnums=(0, 1))(x, y))(X, Y)
        return fnp.sum(gx * V) + fnp.sum(gy * gy)

    def outer_ref(s):
        gx, gy = ft.grad(lambda a, b: _summed_ref(a, b, p) * s, argnums=(0, 1))(X, Y)
        return fnp.sum(gx * V) + fnp.sum(gy * gy)
    h = 1e-6
    got = ft.grad(outer)(1.5)
    np.testing.assert_allclose(got, ft.grad(outer_ref)(1.5), rtol=1e-13)
    np.testing.assert_allclose(got, (outer_ref(1.5 + h) - outer_ref(1.5 - h)) / (2 * h),
                               rtol=1e-7)
    # forward over reverse, jitted (hvp), against eager and central differences
    hv = ft.jit(lambda x, y, v: ft.jvp(
        lambda a, b: ft.grad(_summed, argnums=(0, 1))(a, b, pj), (x, y), (v, v))[1])
    got = hv(X, Y, V)
    want = ft.jvp(lambda a, b: ft.grad(_summed_ref, argnums=(0, 1))(a, b, p), (X, Y), (V, V))[1]
    gr = ft.grad(_summed_ref, argnums=(0, 1))
    fd = [(a - b) / (2 * h) for a, b in zip(gr(X + h * V, Y + h * V, p),
                                             gr(X - h * V, Y - h * V, p))]
    for a, b, c in zip(got, want, fd):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-7)
    # a batched gradient inside jit (an unbatched predicate: the cond stays a cond)
    xs, ys = np.stack([X, -X]), np.stack([Y, 0.5 * Y])
    f = ft.jit(ft.vmap(lambda x, y: ft.grad(_summed, argnums=(0, 1))(x, y, pj)))
    for _ in range(3):
        gx, gy = f(xs, ys)
        for m in range(2):
            wx, wy = ft.grad(_summed_ref, argnums=(0, 1))(xs[m], ys[m], p)
            np.testing.assert_allclose(gx[m], wx, rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(gy[m], wy, rtol=1e-14, atol=1e-15)
        assert gx.flags.writeable and gy.flags.writeable and not np.shares_memory(gx, gy)


def test_zeros_read_by_anything_but_a_sum_stay_arrays():
    # y's zeros reshaped (a view) before the sum, or also returned: the full_like stays
    pj = np.float64(-1.0)

    def reshaped(x, y, p):
        gx, gy = ft.grad(_mixed, argnums=(0, 1))(x, y, p)
        return gx, fnp.reshape(gy, (100, 100)) + 1.0

    def returned(x, y, p):
        gx, gy = ft.grad(_mixed, argnums=(0, 1))(x, y, p)
        return gy, gy + x
    for fun in (reshaped, returned):
        f = ft.jit(fun)
        assert _branch_outputs(f, X, Y, pj) == [["mul", "full_like"], ["full_like", "mul_add"]]
        for _ in range(3):
            for a in f(X, Y, pj):
                assert a.flags.writeable and a.flags.owndata
