"""Session 53, helper linalg53: fuzzing scipy.linalg and nn against SciPy and JAX.

- tests/_fuzz_scipy_linalg_jax.py (seeds 44035-44044; 44045-44049 in part): one mismatch, a
  harness case - hessenberg of a reducible matrix (a 5 x 5 boolean one, seed 44040, whose
  Hessenberg form has a subdiagonal entry zero to rounding) is not unique past that entry:
  the next reflector acts on a column of rounding errors, which LAPACK and functrans round
  differently (float64 too; H 1.32 apart, both factorisations to 1e-15). The harness now
  checks such a case as a factorisation with SciPy's leading blocks; the test below pins
  that. The harness also checks the derivatives of solve_continuous_lyapunov and
  eigh_tridiagonal now (no mismatch). It also covers hessenberg stacks and complex
  derivatives of (H, Q) now (no mismatch).
- tests/_fuzz_nn_jax.py (torch bfloat16; and FUZZ_BF16_ON=numpy): one mismatch, a harness
  case - squareplus's jvp/vjp in the generic checks at x = -1e300 (seed 44047 it 39), where
  JAX's slope is 0.5 from its overflowing x^2 and the true one ~1e-600 (ours 0, pinned by
  tests/test_s40_nn40.py); those checks now take mpmath's slope there, as the elementwise
  ones did since fuzz52.
- No bug of functrans's found; left: nothing new.
"""

import numpy as np
import scipy.linalg as sla

import functrans.scipy.linalg as fsl

# (seed 44040's matrix: rows 3 and 4 of its Hessenberg form decouple, H[3, 2] ~ 1e-16)
_REDUCIBLE = np.array([[1, 0, 1, 1, 0],
                       [1, 1, 1, 1, 0],
                       [1, 0, 1, 0, 1],
                       [0, 0, 1, 0, 0],
                       [1, 1, 1, 0, 1]], dtype=bool)


def test_hessenberg_of_a_reducible_matrix_is_a_factorisation_with_scipys_leading_blocks():
    for a in (_REDUCIBLE, _REDUCIBLE.astype(np.float64)):
        h, q = (np.asarray(v) for v in fsl.hessenberg(a, calc_q=True))
        wh, wq = sla.hessenberg(a, calc_q=True)
        assert h.dtype == wh.dtype and q.dtype == wq.dtype
        tol = 1e-13 if h.dtype == np.float64 else 2e-6
        k = 3   # (the first subdiagonal entry zero to rounding is H[3, 2])
        assert abs(wh[3, 2]) < 10 * tol and abs(h[3, 2]) < 10 * tol
        np.testing.assert_allclose(h[:k, :k], wh[:k, :k], rtol=0, atol=tol * 3)
        np.testing.assert_allclose(q[:, :k], wq[:, :k], rtol=0, atol=tol)
        np.testing.assert_allclose(q.T @ q, np.eye(5), rtol=0, atol=tol)
        assert not np.any(np.tril(h, -2))
        np.testing.assert_allclose(q @ h @ q.T, a.astype(h.dtype), rtol=0, atol=tol * 3)
        # (the trailing block: the same eigenvalues as SciPy's, whatever its basis)
        np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(h[k:, k:])),
                                   np.sort_complex(np.linalg.eigvals(wh[k:, k:])),
                                   rtol=0, atol=tol * 10)
