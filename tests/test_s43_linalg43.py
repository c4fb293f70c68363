"""Session 43, linalg43: svd's and eig's vector derivatives across a stack with a tied matrix.

- svd where ties may be (eager values, vmap): the products of the singular values with the
  tangent in the vectors' rule strong per matrix, as the others there: the second
  derivatives of every singular vector, the tied ones (U[..., 2], the full U and Vh) too,
  are exactly 0 between the matrices of a stack in all four nestings (were 243 to 2187 nan:
  the tied matrix's own nan times a zero tangent in a plain product downstream), and each
  matrix's block is that of the matrix alone (square, tall, wide, complex).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from tests.test_s39_linalg39 import _PLAIN, _STACK, _TIED

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg

_NESTINGS = {
    "fwd(rev)": lambda f: ft.jacfwd(ft.jacrev(f)),
    "fwd(fwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "rev(rev)": lambda f: ft.jacrev(ft.jacrev(f)),
    "rev(fwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
}


def _per_matrix(h, n_out, x_shape):
    """h (2, out..., 2, x..., 2, x...) as (2, -1, 2, -1, 2, -1): output's matrix, first
    derivative's, second's."""
    del n_out
    size = int(np.prod(x_shape[1:]))
    return h.reshape((2, -1, 2, size, 2, size))


def _assert_as_each_matrix_alone(f, nest, x):
    """A stack's second derivative: 0 between its matrices, each matrix's block as that of
    the matrix alone (nan where that one is nan)."""
    h = _per_matrix(np.asarray(nest(f)(x)), None, x.shape)
    for b in range(2):
        for c in range(2):
            for d in range(2):
                if not b == c == d:
                    np.testing.assert_array_equal(h[b, :, c, :, d], 0.0,
                                                  err_msg=str((b, c, d)))
    for k in range(2):
        alone = np.asarray(nest(f)(x[k:k + 1])).reshape(h[k, :, k, :, k].shape)
        own = h[k, :, k, :, k]
        np.testing.assert_array_equal(np.isnan(own), np.isnan(alone))
        fin = np.isfinite(alone)
        np.testing.assert_allclose(own[fin], alone[fin], rtol=1e-12, atol=1e-13)


_SVD_VECTORS = {
    "U[..., 2]": lambda x: la.svd(x)[0][..., 2],
    "U": lambda x: la.svd(x)[0],
    "Vh": lambda x: la.svd(x)[2],
    "Vh[..., 1, :]": lambda x: la.svd(x)[2][..., 1, :],
}


@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(fwd)", "rev(rev)"])
@pytest.mark.parametrize("name", sorted(_SVD_VECTORS))
def test_svd_tied_vectors_second_derivatives_leave_the_other_matrices_alone(name, nesting):
    # (fwd(fwd): 0 since session 42; U[..., 2] was 243 nan between the matrices in fwd(rev) and rev(fwd), 729 in rev(rev);
    # the full U 486 and 2187)
    _assert_as_each_matrix_alone(_SVD_VECTORS[name], _NESTINGS[nesting], _STACK)


def _rectangular_stack(wide):
    tied = np.zeros((4, 3))
    tied[0, 0], tied[1, 1], tied[2, 2] = 2.0, 1.0, 1.0
    plain = np.random.default_rng(431).normal(size=(4, 3))
    x = np.stack([tied, plain])
    return np.swapaxes(x, -1, -2) if wide else x


@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(rev)"])
@pytest.mark.parametrize("wide", [False, True])
def test_svd_rectangular_stack(wide, nesting):
    x = _rectangular_stack(wide)
    for k in (0, 2):   # (were 864 to 5184 nan between the matrices)
        _assert_as_each_matrix_alone(lambda m: la.svd(m, full_matrices=False)[k],
                                     _NESTINGS[nesting], x)


@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(fwd)"])
def test_svd_complex_stack(nesting):
    # (real(U), linear in U: the rule's own products; a phase-invariant |U|^2 multiplies
    # two first derivatives itself, nan times 0 outside the rule, as JAX's)
    rng = np.random.default_rng(432)
    p = np.zeros((2, 2, 3, 3))
    p[0, 0] = _TIED
    p[1] = rng.normal(size=(2, 3, 3))
    f = lambda q: fnp.real(la.svd(q[:, 0] + 1j * q[:, 1])[0][..., 2])     # noqa: E731
    _assert_as_each_matrix_alone(f, _NESTINGS[nesting], p)   # (were 972 nan between them)


def test_svd_under_vmap():
    # vmap of a stack's Hessian over a batch of stacks: each as that stack alone (0
    # between its matrices)
    f = _SVD_VECTORS["U"]
    nest = _NESTINGS["rev(rev)"]
    xs = np.stack([_STACK, _STACK[::-1]])
    got = np.asarray(ft.vmap(nest(f))(xs))
    for k in range(2):
        want = np.asarray(nest(f)(xs[k]))
        np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[k][fin], want[fin], rtol=1e-13, atol=1e-14)
        h = _per_matrix(got[k], None, _STACK.shape)
        np.testing.assert_array_equal(h[0, :, 1], 0.0)
        np.testing.assert_array_equal(h[1, :, 0], 0.0)
