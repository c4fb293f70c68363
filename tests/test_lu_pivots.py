"""LAPACK's pivots (the row swapped with row k at step k) to the row permutation: a primitive
since session 27 (lu_solve runs it on every call; its loop through functrans.numpy cost a
transform-ready call per swap). Checked against the swaps done one by one in NumPy, and
against SciPy's lu_factor/lu_solve."""

import numpy as np
import pytest
import scipy.linalg as sl

import functrans as ft
import functrans.lax as flax
import functrans.scipy.linalg as fsl
import functrans.testing  # noqa: F401  (ft.testing below; not imported by functrans itself)


def _swaps(piv, m):
    perm = np.arange(m)
    for k, p in enumerate(piv):
        perm[k], perm[p] = perm[p], perm[k]
    return perm


def test_permutation_of_pivots_is_the_swaps_in_order(backend):
    piv = np.array([[3, 3, 2, 4], [0, 2, 2, 3], [4, 1, 4, 3]])
    out = flax.linalg.lu_pivots_to_permutation(backend.asarray(piv, dtype="int32"), 5)
    assert backend.is_own(out)
    got = backend.to_numpy(out)
    assert got.dtype == np.int32 and got.shape == (3, 5)
    np.testing.assert_array_equal(got, [_swaps(p, 5) for p in piv])
    # under jit and vmap: the same rows
    jitted = ft.jit(lambda p: flax.linalg.lu_pivots_to_permutation(p, 5))
    np.testing.assert_array_equal(backend.to_numpy(jitted(backend.asarray(piv, dtype="int32"))),
                                  got)


def test_lu_solve_with_scipys_pivots():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 2))
    lu, piv = sl.lu_factor(a)
    for trans in (0, 1):
        np.testing.assert_allclose(fsl.lu_solve((lu, piv), b, trans=trans),
                                   sl.lu_solve((lu, piv), b, trans=trans), rtol=1e-12)
    # the derivative in b and in lu through the solve, the pivots fixed
    ft.testing.check_grads(lambda lu, b: fsl.lu_solve((lu, piv), b), (lu, b), order=1)


def test_bad_pivots_are_refused():
    with pytest.raises(ValueError, match=r"pivots must lie in \[0, 3\)"):
        flax.linalg.lu_pivots_to_permutation(np.array([0, 3], dtype=np.int32), 3)
    with pytest.raises(ValueError, match="less than the number of pivots"):
        flax.linalg.lu_pivots_to_permutation(np.array([0, 1, 2], dtype=np.int32), 2)
    with pytest.raises(TypeError, match="integer pivots"):
        flax.linalg.lu_pivots_to_permutation(np.array([0.0, 1.0]), 3)
