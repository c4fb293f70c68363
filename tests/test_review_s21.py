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
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
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
