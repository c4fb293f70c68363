"""Regressions found while porting the programs of tests/test_ported_programs12.py.

- NumPy integer index arrays passed *through* jit or vmap (a jitted training step given a
  batch of positions from a NumPy data pipeline, ``vmap`` over NumPy (centre, context) ids)
  beside a torch or array-api-strict table raised BackendMismatchError ('gather' got arrays
  of two backends), although the same ``take(table, np_idx)`` works outside a transform
  (functrans.numpy makes NumPy positions in the table's library, docs/backends.md). There
  the positions reach the primitive as tracers holding NumPy arrays. The index primitives
  (gather, scatter_add, take_along_axis, scatter_along_axis) now name their index operands
  (``Primitive.host_indices``), and evaluation (eager and jit's compiled graphs) makes NumPy
  integer and boolean arrays there in the data's library and device. A NumPy *data* array
  beside another library's is still refused.
- The same arrays as operands of ``lax.scan``, ``cond`` or ``while_loop`` under ``jit`` (the
  positions of each minibatch as the scan's ``xs``, a NumPy boolean predicate, a NumPy integer
  counter in the carry) raised BackendMismatchError ('scan' got arrays of two backends), where
  the same code outside ``jit`` runs. Those primitives run graphs on their operands, whose own
  primitives hold each operation to one library: they (and their linearised and eager
  pullback forms) now accept operands of several (``Primitive.mixed_operands``), and scan
  unstacks and stacks each array with its own library. Data of two libraries meeting inside
  the body is still refused there.
- Forward mode (``jvp``, ``jacfwd``) through a ``custom_vjp`` function whose ``bwd`` clips the
  cotangent (JAX's gradient-clipping example) gave a zero derivative without a word: forward
  mode uses bwd's transpose, computed as bwd's vjp at a cotangent of ones, and a clip below
  one has slope zero there. A bwd that is not linear has no transpose: functrans/custom.py
  now checks <B c, t> = <c, B^T t> and raises CustomRuleError (JAX refuses forward mode of
  every custom_vjp function); reverse mode, and forward over reverse, are unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.ops as fops
from functrans.errors import BackendMismatchError

TABLE = np.arange(15.0).reshape(5, 3) / 7
IDX = np.array([4, 0, 2, 2])


def _programs():
    return {
        "take": lambda E, i: fnp.take(E, i, axis=0),
        "getitem": lambda E, i: fnp.sin(E)[i],
        "take_along_axis": lambda E, i: fnp.take_along_axis(
            E[:3, :], fnp.stack([i % 3, (i + 1) % 3], axis=1)[:3, :], axis=1),
        "segment_sum": lambda E, i: fops.segment_sum(E[:4, :], i, num_segments=5),
        "at_add": lambda E, i: fnp.zeros_like(E).at[i].add(1.0) * E,
    }


@pytest.mark.parametrize("name", list(_programs()))
def test_numpy_positions_passed_through_jit_and_vmap(backend, name):
    f = _programs()[name]
    E, i = backend.asarray(TABLE), IDX
    want = np.asarray(f(TABLE, IDX))  # NumPy throughout
    for fn in (ft.jit(f), ft.jit(ft.jit(f))):
        for _ in range(3):  # (staged, then evaluated, then compiled: each must place them)
            out = fn(E, i)
            assert backend.is_own(out)
            np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-15)
    # derivatives: reverse mode through jit, with the positions arguments of the jit
    loss = lambda E, i: fnp.sum(f(E, i) ** 2)  # noqa: E731
    g_want = ft.grad(loss)(TABLE, IDX)
    gfn = ft.jit(ft.grad(loss))
    for _ in range(3):
        g = gfn(E, i)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), g_want, rtol=1e-14)


def test_numpy_positions_batched_by_vmap(backend):
    E = backend.asarray(TABLE)
    rows = np.array([[0, 1], [4, 4], [3, 0]])
    pick = lambda E, r: fnp.sum(fnp.take(E, r, axis=0), axis=0)  # noqa: E731
    want = TABLE[rows].sum(axis=1)
    for fn in (ft.vmap(pick, in_axes=(None, 0)), ft.jit(ft.vmap(pick, in_axes=(None, 0)))):
        out = fn(E, rows)
        assert backend.is_own(out)
        np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-15)
    # the table batched too (its own slice per member), and the gradient through the batch
    Es = backend.asarray(np.stack([TABLE, 2 * TABLE, -TABLE]))
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(pick)(Es, rows)),
                               want * np.array([1, 2, -1])[:, None], rtol=1e-15)
    g = ft.grad(lambda E: fnp.sum(ft.vmap(pick, in_axes=(None, 0))(E, rows) ** 2))(E)
    g_want = ft.grad(lambda E: fnp.sum(ft.vmap(pick, in_axes=(None, 0))(E, rows) ** 2))(TABLE)
    np.testing.assert_allclose(backend.to_numpy(g), g_want, rtol=1e-14)


def test_numpy_data_beside_another_library_is_still_refused(backend):
    if backend.name == "numpy":
        pytest.skip("one library")
    E = backend.asarray(TABLE)
    with pytest.raises(BackendMismatchError):
        ft.jit(lambda E, d: E[:2, :] + d)(E, np.ones((2, 3)))
    with pytest.raises(BackendMismatchError):  # float 'positions' are data
        ft.jit(lambda E, w: fops.segment_sum(w, np.array([0, 1, 1]), num_segments=2) + E[0, 0])(
            E, np.ones(3))


def test_control_flow_under_jit_takes_numpy_operands_as_outside_it(backend):
    E = backend.asarray(TABLE)
    batches = np.array([[0, 1], [4, 2], [3, 3]])  # minibatch positions, NumPy's

    def epoch(E, batches):
        def step(c, rows):
            return c + fnp.sum(fnp.take(E, rows, axis=0) ** 2), fnp.sum(rows)
        return flax.scan(step, 0.0, batches)

    def gated(E, flag):
        return flax.cond(flag, lambda: fnp.sum(E), lambda: -fnp.sum(E))

    def counted(E, n):
        return flax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (n, E))
    want = epoch(TABLE, batches)
    for fn in (epoch, ft.jit(epoch), ft.jit(epoch)):
        total, sums = fn(E, batches)
        assert float(backend.to_numpy(total)) == pytest.approx(float(want[0]), rel=1e-15)
        np.testing.assert_array_equal(np.asarray(backend.to_numpy(sums)), [1, 6, 6])
    g = ft.jit(ft.grad(lambda E, b: epoch(E, b)[0]))(E, batches)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g),
                               ft.grad(lambda E, b: epoch(E, b)[0])(TABLE, batches), rtol=1e-15)
    for flag in (np.array(True), np.array(False)):
        out = ft.jit(gated)(E, flag)
        assert backend.is_own(out)
        assert float(backend.to_numpy(out)) == pytest.approx(
            float(gated(TABLE, flag)), rel=1e-15)
    n, E8 = ft.jit(counted)(E, np.array(0))
    assert int(np.asarray(backend.to_numpy(n))) == 3 and backend.is_own(E8)
    np.testing.assert_allclose(backend.to_numpy(E8), 8 * TABLE, rtol=1e-15)
    # reverse mode through them (the while loop's eager pullback, cond's linear map)
    for f, arg, scale in ((counted, np.array(0), 8.0), (gated, np.array(False), -1.0)):
        loss = lambda E, a: fnp.sum((f(E, a)[1] if f is counted else f(E, a)) * 1.0)  # noqa: E731
        g = ft.jit(ft.grad(loss))(E, arg)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), np.full((5, 3), scale), rtol=1e-15)
    if backend.name != "numpy":  # NumPy data meeting another library's in the body: refused
        with pytest.raises(BackendMismatchError):
            ft.jit(lambda E, b: flax.scan(lambda c, r: (c + fnp.sum(r * E[0, 0]), None), 0.0,
                                          b))(E, batches.astype(float))


def test_forward_mode_refuses_a_custom_vjp_whose_bwd_is_not_linear(backend):
    """Gradient clipping by custom_vjp (JAX's documented example) under forward mode gave a
    zero derivative silently: forward mode uses bwd's transpose, found as bwd's vjp at a
    cotangent of ones, where a clip below one has slope zero. bwd's linearity is now checked
    there (<B c, t> = <c, B^T t>) and a CustomRuleError says to use reverse mode."""
    import functools
    from functrans.errors import CustomRuleError

    @functools.partial(ft.custom_vjp, nondiff_argnums=(0,))
    def clip_gradient(lim, x):
        return x
    clip_gradient.defvjp(lambda lim, x: (x, None),
                         lambda lim, _, g: (fnp.clip(g, -lim, lim),))

    @ft.custom_vjp
    def halve_gradient(x):
        return x
    halve_gradient.defvjp(lambda x: (x, None), lambda _, g: (0.5 * g,))

    x = backend.asarray([0.1, -2.0, 1.5])
    f = lambda x: fnp.sum(clip_gradient(0.5, x) ** 2)  # noqa: E731
    # reverse mode: the clipped gradient, 2x clipped to [-0.5, 0.5]; forward over reverse
    # differentiates the clipping itself (as JAX's hessian does)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(f)(x)), [0.2, -0.5, 0.5])
    np.testing.assert_allclose(backend.to_numpy(ft.hessian(f)(x)), np.diag([2.0, 0.0, 0.0]))
    for fwd in (lambda: ft.jvp(f, (x,), (x,)), lambda: ft.jacfwd(f)(x),
                lambda: ft.jit(ft.jacfwd(f))(x)):
        with pytest.raises(CustomRuleError, match="not linear in its cotangent"):
            fwd()
    # a linear bwd keeps its forward mode: the transpose of halving is halving
    g = lambda x: fnp.sum(halve_gradient(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(backend.to_numpy(ft.jacfwd(g)(x)),
                               backend.to_numpy(ft.grad(g)(x)), rtol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(g)(x)), [0.1, -2.0, 1.5], rtol=1e-15)
    # and a clip that never binds is linear where it is evaluated: allowed
    np.testing.assert_allclose(
        backend.to_numpy(ft.jvp(lambda x: clip_gradient(10.0, x), (x,), (x,))[1]),
        backend.to_numpy(x), rtol=1e-15)
