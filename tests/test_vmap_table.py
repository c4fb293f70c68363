"""vmap of every function of the namespace table equals a loop over the batch.

tests/test_vmap.py batches each primitive; the namespace functions compose primitives with
Python logic on shapes, axes and dtypes, which a batch axis must not disturb. For every
entry of tests/test_namespace_grads.py's TABLE (its last shapes): every argument batched
(three members with different values), the first alone batched or alone not, and the
gradient of a scalar loss batched, each against a loop over the members: the same values,
dtypes, library and tree; and a batch of no members gives empty results of the members'
shapes and dtypes. Functions whose result shapes depend on the values refuse vmap with a
clear error, as under JAX.
"""

from __future__ import annotations

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BatchingError, ConcretizationError

from .test_jit import DATA_DEPENDENT_SHAPES
from .test_namespace_grads import TABLE, _NumPy, _args

N = 3  # members of the batch
TOL = 1e-10


def _data_dependent(spec):
    return spec.name in DATA_DEPENDENT_SHAPES or spec.data_dependent


def _members(spec):
    """NumPy data of the batch's members: one tuple of arguments per seed."""
    return [_args(spec, spec.shapes[-1], _NumPy(), seed=s) for s in range(N)]


def _eager(spec, backend):
    if backend.backend.writable or not getattr(spec.fn, "writes_in_place", False):
        return spec.fn
    return lambda *a: ft.vjp(spec.fn, *a)[0]  # (see tests/test_jit.py)


def _loop(fn, members, in_axes, backend):
    """The results of ``fn`` on each member (unbatched arguments: member 0's), stacked."""
    outs = []
    for k in range(N):
        args = tuple(backend.asarray(members[k if ax is not None else 0][i])
                     for i, ax in enumerate(in_axes))
        outs.append(fn(*args))
    return outs


def _batched_args(members, in_axes, backend):
    return tuple(backend.asarray(np.stack([m[i] for m in members])) if ax == 0
                 else backend.asarray(members[0][i]) for i, ax in enumerate(in_axes))


def _check(got, outs, backend, what, like=None):
    """``got`` is ``outs`` (the members' results) stacked; with no members, ``like`` gives
    the tree, shapes and dtypes."""
    like_leaves, like_tree = optree.tree_flatten(outs[0] if like is None else like)
    got_leaves, got_tree = optree.tree_flatten(got)
    assert got_tree == like_tree, (what, got_tree, like_tree)
    for j, g in enumerate(got_leaves):
        members = [optree.tree_leaves(o)[j] for o in outs]
        assert backend.is_own(g), (what, j, type(g))
        want_dtype = fnp.result_type(like_leaves[j])
        assert fnp.result_type(g) == want_dtype, (what, j, fnp.result_type(g), want_dtype)
        want = (np.stack([backend.to_numpy(m) for m in members]) if members else
                np.zeros((0,) + np.shape(backend.to_numpy(like_leaves[j]))))
        got_np = backend.to_numpy(g)
        assert got_np.shape == want.shape, (what, j, got_np.shape, want.shape)
        np.testing.assert_allclose(got_np, want, rtol=TOL, atol=TOL, err_msg=f"{what}, leaf {j}")


def _loss(fn):
    def loss(*a):
        total = 0.0
        for leaf in optree.tree_leaves(fn(*a)):
            if fnp.isdtype(fnp.result_type(leaf), "real floating"):
                total = total + fnp.sum(leaf * leaf)
        return total
    return loss


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TABLE])
def test_vmap_of_every_namespace_function(backend, spec):
    if spec.backends is not None and backend.name not in spec.backends:
        pytest.skip(f"{spec.name} uses indexing that {backend.name} does not support")
    members = _members(spec)
    nargs = len(members[0])
    full = (0,) * nargs
    if _data_dependent(spec):  # as under jax.vmap: refused with a clear error
        with pytest.raises((BatchingError, ConcretizationError), match="vmap"):
            ft.vmap(spec.fn)(*_batched_args(members, full, backend))
        return
    fn = _eager(spec, backend)
    axes_cases = [full]
    if nargs >= 2:  # the first operand alone batched; all but the first batched
        axes_cases += [(0,) + (None,) * (nargs - 1), (None,) + (0,) * (nargs - 1)]
    for in_axes in axes_cases:
        got = ft.vmap(fn, in_axes=in_axes)(*_batched_args(members, in_axes, backend))
        outs = _loop(fn, members, in_axes, backend)
        _check(got, outs, backend, f"in_axes={in_axes}")
    # A batch of no members: empty results of the members' shapes and dtypes, as under JAX.
    none = ft.vmap(fn)(*(backend.asarray(np.zeros((0,) + np.shape(a))) for a in members[0]))
    _check(none, outs[:0], backend, "no members", like=outs[0])
    g = ft.grad(_loss(spec.fn), argnums=tuple(range(nargs)))
    _check(ft.vmap(g)(*_batched_args(members, full, backend)),
           _loop(g, members, full, backend), backend, "vmap(grad)")


def test_triangular_solve_of_a_stack_of_no_matrices(backend):
    """SciPy refuses a stack of no matrices (a vmap over no members reaches it): the solve
    of nothing is an empty array of the result's shape."""
    sl = ft.scipy.linalg
    a = backend.asarray(np.zeros((0, 3, 3)))
    b = backend.asarray(np.zeros((0, 3, 2)))
    got = sl.solve_triangular(a, b, lower=True)
    assert backend.is_own(got) and tuple(got.shape) == (0, 3, 2)
    assert fnp.result_type(got) == fnp.float64
    got = ft.vmap(lambda m, v: sl.solve_triangular(m, v))(a, b[..., 0])
    assert backend.is_own(got) and tuple(got.shape) == (0, 3)
