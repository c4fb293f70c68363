"""Session 34, lead: tree_map calls its function from optree's frame for every tree.

functrans.numpy's creation functions (zeros_like, asarray ...) give a constant tracer to calls
from outside functrans under vmap / forward mode / a staging, and a plain array to functrans's
own calls. A short path in functrans.tree.tree_map for one-leaf trees called the function from
functrans's frame instead: one-leaf trees then got plain arrays where every other tree got
constants, so user code (``z + t`` on array-api-strict, whose arrays refuse a tracer on their
right) and functrans's own solvers (gmres's restart, x0 from tree_map(zeros_like, b)) met a
plain array beside a constant and raised TypeError."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

xp = pytest.importorskip("array_api_strict")


def test_tree_map_of_one_leaf_gives_constants_as_for_other_trees():
    c = xp.asarray([1.0, 2.0])
    kinds = []

    def f(t):
        z = ft.tree_util.tree_map(fnp.zeros_like, c)          # one leaf
        z2 = ft.tree_util.tree_map(fnp.zeros_like, (c, c))    # a tuple of leaves
        kinds.append((type(z), type(z2[0])))
        return z + t + z2[0]   # strict's + refuses a tracer on its right: z must be one
    out = ft.vmap(f)(xp.asarray([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(np.asarray(out), [[1.0, 2.0], [3.0, 4.0]])
    assert kinds[0][0] is kinds[0][1]


def test_gmres_derivative_in_a_preconditioner_matrix_on_strict():
    from functrans.scipy.sparse import linalg as fsl
    rng = np.random.default_rng(3)
    b = rng.standard_normal((3, 3))
    a = b @ b.T + 3 * np.eye(3)
    A, bb = xp.asarray(a), xp.asarray(rng.standard_normal(3))
    g = ft.grad(lambda m: fnp.sum(fsl.gmres(A, bb, tol=1e-13, M=m)[0]))(
        xp.asarray(np.diag(1 / np.diag(a))))
    # the solution does not depend on the preconditioner (JAX drops its tangents too)
    np.testing.assert_array_equal(np.asarray(g), np.zeros((3, 3)))
