"""Session 55 (cond55): a staged cond's zeros, and jit's first call through a cond.

Fixed:

- The forward cond of a staged cond under reverse mode (``_cond_partial``, session 53) filled
  the residual slots of the other branches with constants of the slot's shape, which the
  cond's impl copied at every call (a pass over each residual's size, never read) and the
  graph kept. A slot of 64 KB or more that a branch lacks is now a broadcast 0-d zero that
  the impl returns as it is (``_fresh``'s ``fills``: a read-only stride-0 view, which
  nothing writes into; the caller's own ``_fresh`` copies such a view where it leaves a
  graph); smaller ones stay constants (a copy costs less than the broadcast there).
  jit(grad) of test_s54_cond54's mixed cond on 10^6 elements, false branch: 4.99 -> 2.86 ms
  (with y also summed outside: 7.40 -> 5.64 ms); true branch and small operands unchanged.
- jit's first call: a transposed branch that lacks a cotangent (``_switch_sparse``) and the
  forward branches (``_cond_partial``) were staged a second time, to add zeros or pick the
  slots; they are now built from the graphs already staged. A cond's branch program is
  compiled at its second run, as jit compiles its own graph (the first runs the graph).
  First call, CPU medians of 8 interleaved rounds of 15 fresh jits: mixed cond 1.80 ->
  1.08 ms, svd grad 8x16x16 4.13 -> 3.42 ms, test_s53_cond53's heavy cond 1.87 -> 1.13 ms
  (the second call now compiles the branches: 0.40 -> 0.54, 1.35 -> 2.23, 0.28 -> 0.67 ms).

Left (measured, not changed): the backward cond's zeros for an operand whose cotangent only
some branches give stay a full_like. Where that cotangent is the gradient (the common case)
a writable array of zeros is needed anyway (eager grad makes the same np.full): the fill
costs what a broadcast copied out at jit's edge costs (10^6: 286 vs 295 us), and a select
outside the cond more (789 us). Only where it is summed with another cotangent would a
broadcast save the fill, but jvp's and vjp's primal outputs of a jitted gradient are not
copied out as jit's results are: they would be read-only views
(``test_backward_zeros_summed_and_results_writable``).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import control_flow
from .test_s54_cond54 import _mixed, _mixed_ref

RNG = np.random.default_rng(55)
X = RNG.standard_normal(6)
Y = RNG.standard_normal(6)


@pytest.mark.parametrize("n", [6, 10_000])
def test_forward_slots_of_another_branch_are_not_copied(n):
    x, y = RNG.standard_normal(n), RNG.standard_normal(n)
    graph = ft.make_graph(ft.grad(_mixed, argnums=(0, 1)))(x, y, 1.0)
    fwd = next(e for e in graph.eqns if e[0] is control_flow.cond_p)
    # the false branch (exp) lacks the true branch's two residuals (sin, cos of y): base
    # passed two constants of shape (n,) for them, now one 0-d zero from 64 KB on (below,
    # the constants, which the impl copies: a copy costs less than a broadcast there)
    consts = [c for c in fwd[1] if not isinstance(c, ft.graph.Var)]
    assert [np.shape(c) for c in consts] == ([()] if n > 6 else [(n,), (n,)])
    got = control_flow.cond_p.bind(np.int32(0), *[x, y, *consts], **fwd[2])
    np.testing.assert_allclose(got[0], np.exp(x * 0.5), rtol=1e-15)
    assert got[0].flags.writeable and got[0].flags.owndata
    for z in got[1:]:  # (base: copies of the constants)
        assert z.shape == (n,) and not z.any()
        assert (z.strides == (0,) and not z.flags.writeable) if n > 6 else z.flags.owndata
    got = control_flow.cond_p.bind(np.int32(1), *[x, y, *consts], **fwd[2])
    np.testing.assert_allclose(got[0], np.sin(y) * y, rtol=1e-15)


@pytest.mark.parametrize("n", [6, 20_000])  # (20,000: large enough for jit's buffers)
def test_mixed_grad_values_and_results_own_memory(n):
    x, y = RNG.standard_normal(n), RNG.standard_normal(n)
    f = ft.jit(ft.grad(_mixed, argnums=(0, 1)))
    for p in (1.0, -1.0, 1.0, -1.0, 2.0):  # (first, second and compiled runs, both ways)
        got = f(x, y, np.float64(p))
        want = ft.grad(_mixed_ref, argnums=(0, 1))(x, y, p)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-14, atol=0)
            assert g.flags.writeable and g.flags.owndata
            assert not np.shares_memory(g, x) and not np.shares_memory(g, y)
        got[0][...] = 7.0  # (a result is the caller's to write into)
    # a batched predicate: every branch runs on every member, the tangent maps reading the
    # other branch's slots (zeros) on the members that do not take it
    ps = np.array([1.0, -1.0, 0.5])
    xs, ys = np.stack([x, -x, x * 0.5]), np.stack([y, y * 2.0, -y])
    gx, gy = ft.jit(ft.vmap(ft.grad(_mixed, argnums=(0, 1))))(xs, ys, ps)
    for m in range(3):
        wx, wy = ft.grad(_mixed_ref, argnums=(0, 1))(xs[m], ys[m], ps[m])
        np.testing.assert_allclose(gx[m], wx, rtol=1e-14, atol=0)
        np.testing.assert_allclose(gy[m], wy, rtol=1e-14, atol=0)


def test_broadcast_of_a_lifted_operand_leaves_jit_as_a_copy():
    # a branch's broadcast of a value it closes over (an operand of the cond): the cond's
    # impl keeps the read-only view (fills), jit's result is a writable array of its own
    s = np.array(2.5)

    def f(x, s, p):
        return ft.lax.cond(p > 0, lambda x: fnp.broadcast_to(s, x.shape), lambda x: x * 2, x)
    g = ft.jit(f)
    for _ in range(3):
        out = g(X, s, np.float64(1.0))
        np.testing.assert_array_equal(out, np.full(6, 2.5))
        assert out.flags.writeable and not np.shares_memory(out, s)
        out[0] = -1.0
        assert s == 2.5


def test_branch_program_compiled_at_its_second_run(monkeypatch):
    from functrans import compiling
    compiled = []
    real = compiling._compile

    def counting(graph, values, last):
        compiled.append(len(graph.eqns))
        return real(graph, values, last)
    monkeypatch.setattr(compiling, "_compile", counting)
    f = ft.jit(ft.grad(_mixed, argnums=(0, 1)))
    want = ft.grad(_mixed_ref, argnums=(0, 1))(X, Y, 1.0)
    for call, n_compiled in enumerate([0, 3, 0]):
        # first call: graphs evaluated (base: each branch run compiled, 2); second: jit's
        # graph and the two branches run; then nothing more
        compiled.clear()
        got = f(X, Y, np.float64(1.0))
        assert len(compiled) == n_compiled, (call, compiled)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-14, atol=0)


def test_mixed_grad_stages_each_branch_once(monkeypatch):
    # staging jit(grad) of the mixed cond runs each branch's code three times: as the user
    # wrote it, linearized, transposed (the 0-d zeros, staged with no inputs, run none);
    # base 10: the forward branches and a transposed branch lacking a cotangent were
    # staged again (with_slots, padded)
    staged = []
    real = control_flow._stage

    def counting(fun, leaves, *args, **kwargs):
        if leaves:
            staged.append(getattr(fun, "__name__", "?"))
        return real(fun, leaves, *args, **kwargs)
    monkeypatch.setattr(control_flow, "_stage", counting)
    f = ft.jit(ft.grad(_mixed, argnums=(0, 1)))
    got = f(X, Y, np.float64(-1.0))
    assert len(staged) <= 6, staged
    for g, w in zip(got, ft.grad(_mixed_ref, argnums=(0, 1))(X, Y, -1.0)):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=0)


def _mixed_summed(x, y, p):
    # y's cotangent from the cond (the true branch's, zeros from the false one) is added
    # to the one from y * y: no array of zeros is filled for the sum
    return _mixed(x, y, p) + fnp.sum(y * y * 0.5)


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_backward_zeros_summed_and_results_writable(p):
    # (pins: the backward cond's zeros stay a full_like, see the module docstring) a
    # jitted gradient as the primal output of jvp and vjp, which do not copy out what a
    # graph returns as jit does: each a writable array, also the one of zeros
    pj = np.float64(p)
    g = ft.jit(ft.grad(_mixed, argnums=(0, 1)))
    prims = [ft.jvp(lambda x, y: g(x, y, pj), (X, Y), (Y, X))[0],
             ft.vjp(lambda x, y: g(x, y, pj), X, Y)[0]]
    for a in (a for pr in prims for a in pr):
        assert a.flags.writeable and a.strides == (8,)
    f = ft.jit(ft.grad(_mixed_summed, argnums=(0, 1)))
    for _ in range(3):
        gx, gy = f(X, Y, np.float64(p))
        wx, wy = ft.grad(lambda x, y: _mixed_ref(x, y, p) + fnp.sum(y * y * 0.5),
                         argnums=(0, 1))(X, Y)
        np.testing.assert_allclose(gx, wx, rtol=1e-14, atol=0)
        np.testing.assert_allclose(gy, wy, rtol=1e-14, atol=0)
        for g in (gx, gy):
            assert g.flags.writeable and g.flags.owndata
    # second order through the zeros (jvp of grad, grad of grad)
    hv = ft.jit(lambda x, y, v: ft.jvp(
        lambda a, b: ft.grad(_mixed_summed, argnums=(0, 1))(a, b, np.float64(p)),
        (x, y), (v, v))[1])(X, Y, Y)
    want = ft.jvp(lambda a, b: ft.grad(lambda x, y: _mixed_ref(x, y, p) + fnp.sum(y * y * 0.5),
                                       argnums=(0, 1))(a, b), (X, Y), (Y, Y))[1]
    for a, b in zip(hv, want):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)

    def gg(x, y):
        gx, gy = ft.grad(_mixed_summed, argnums=(0, 1))(x, y, np.float64(p))
        return fnp.sum(gx * gx) + fnp.sum(fnp.sin(gy))
    got = ft.jit(ft.grad(gg, argnums=(0, 1)))(X, Y)
    h = 1e-6
    fd = (gg(X + h * Y, Y + h * X) - gg(X - h * Y, Y - h * X)) / (2 * h)
    np.testing.assert_allclose(np.dot(got[0], Y) + np.dot(got[1], X), fd, rtol=1e-6)


def test_fresh_fills_keeps_broadcasts_of_one_element_only():
    from functrans.checkpointing import _fresh
    a, z = np.arange(4.0), np.zeros(())
    view = np.broadcast_to(a[1:2].reshape(()), (3, 2))  # (read-only, one element of a)
    outs = _fresh([view, a[1:], np.broadcast_to(z, (5,)), z], [a], frozenset(), True)
    assert outs[0] is view
    assert outs[1] is not a and not np.shares_memory(outs[1], a)  # (a writable view: copied)
    assert outs[2].strides == (0,)
    assert not np.shares_memory(outs[3], z)  # (z's memory is an earlier output's)
    assert _fresh([view], [a], frozenset())[0].flags.owndata  # (without fills: a copy)


def test_large_slots_in_scan_while_checkpoint():
    # the broadcast slots (10,000 elements) stacked as a scan's residuals, carried by a
    # while loop, inside a checkpoint, against eager grad and central differences
    n = 10_000
    x0 = RNG.standard_normal(n) * 0.1
    v = RNG.standard_normal(n)

    def step(c, i):
        return ft.lax.cond(fnp.sum(c) > 0, lambda c: fnp.sin(c) * 1.1,
                           lambda c: c * 0.9 - 0.1, c), fnp.sum(c)

    def f_scan(x):
        c, s = ft.lax.scan(step, x, fnp.arange(4))
        return fnp.sum(c * c) + fnp.sum(s)

    def f_while(x):
        return fnp.sum(ft.lax.fori_loop(0, 3, lambda i, c: step(c, i)[0], x) ** 2)

    def f_ckpt(x):
        return ft.checkpoint(lambda x: fnp.sum(step(x, 0)[0] ** 2))(x)
    for f in (f_scan, f_while, f_ckpt):
        for x in (x0 + 0.05, x0 - 0.05):
            got = ft.jit(ft.grad(f))(x)
            np.testing.assert_allclose(got, ft.grad(f)(x), rtol=1e-12, atol=1e-14)
            h = 1e-6
            fd = (f(x + h * v) - f(x - h * v)) / (2 * h)
            np.testing.assert_allclose(np.dot(got, v), fd, rtol=1e-6)
