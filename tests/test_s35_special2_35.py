"""Session 35, helper special2_35: binom's derivatives where the value overflows.

References: mpmath at 50 digits from the log-gamma form, binom = s exp(E) with
E = log|Gamma(n + 1)| - log|Gamma(k + 1)| - log|Gamma(n - k + 1)|, E_n = psi(n + 1) -
psi(n - k + 1), E_k = psi(n - k + 1) - psi(k + 1), E_nn = psi'(n + 1) - psi'(n - k + 1),
E_nk = psi'(n - k + 1), E_kk = -psi'(n - k + 1) - psi'(k + 1) (psi, psi' of a negative
argument by reflection), and the second derivatives binom (E_i E_j + E_ij).
"""
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

from tests._orders import ORDERS, hess_in_order

inf = np.inf

# (n, k): [[d2/dn2, d2/dndk], [., d2/dk2]] (mpmath, values beyond 1.8e308 as +-inf)
#   (-1000.5, 1e6 + 0.3): binom 7.617873356e3430; -9.154740696e3431, 3.027395778e3432,
#       -7.525120277e3431
#   (-200.25, 1e5 + 0.1): 1.845667888e623; 5.385007376e624, 9.110303289e623, -1.820424314e624
#   (-30.5, 3.6e11 + 0.75): -1.194314773e309; -8.173947026e311, 7.529064758e310,
#       1.178741434e310
#   (-30.5, 3.6e11 + 0.501): -5.18182852e306 (finite); -2.49083642e311, 1.23095254e311,
#       5.11425967e307 (finite)
_OVERFLOW_HESSIANS = {
    (-1000.5, 1e6 + 0.3): [[-inf, inf], [inf, -inf]],
    (-200.25, 1e5 + 0.1): [[inf, inf], [inf, -inf]],
    (-30.5, 3.6e11 + 0.75): [[-inf, inf], [inf, inf]],
    (-30.5, 3.6e11 + 0.501): [[-inf, inf], [inf, 5.11425967e307]],
}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("point", list(_OVERFLOW_HESSIANS), ids=str)
def test_binom_far_second_derivatives_where_overflowing(point, order):
    # (were nan: the exponent's derivative terms each met the overflowing value)
    want = np.array(_OVERFLOW_HESSIANS[point])
    got = hess_in_order(order, fsp.binom, point)
    inf_at = np.isinf(want)
    np.testing.assert_array_equal(got[inf_at], want[inf_at])
    np.testing.assert_allclose(got[~inf_at], want[~inf_at], rtol=1e-8)


def test_binom_far_nested_grads_and_third_order():
    # (mpmath: d3/dk3 binom(-1000.5, 1e6 + 0.3) = 3.248785805e3432)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        point = (-1000.5, 1e6 + 0.3)
        assert ft.grad(ft.grad(fsp.binom, 1), 1)(*point) == -inf
        assert ft.grad(ft.grad(fsp.binom, 0), 0)(*point) == -inf
        assert ft.grad(ft.grad(fsp.binom, 0), 1)(*point) == inf
        assert ft.grad(ft.grad(ft.grad(fsp.binom, 1), 1), 1)(*point) == inf


def test_binom_far_overflow_jacobian_off_diagonal_zero_and_jit_hessian():
    # an overflowing element's zero cotangents/tangents give 0, not inf * 0 = nan; under jit
    # (the mask unknown) the custom rule serves every element
    n = np.array([-1000.5, -30.5, -12.3])
    k = np.array([1e6 + 0.3, 1000.3, 400.7])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for jac in (ft.jacrev, ft.jacfwd):
            j = np.asarray(jac(fsp.binom, 1)(n, k))
            assert j[0, 0] == -inf
            assert np.all(j[~np.eye(3, dtype=bool)] == 0.0)
        h = np.array(ft.jit(ft.vmap(ft.hessian(fsp.binom, (0, 1))))(n, k))
    assert h[:, :, 0].tolist() == [[-inf, inf], [inf, -inf]]
    # mpmath: (-30.5, 1000.3) -1.099173587e58, 1.528524417e58, -6.142550266e57;
    #         (-12.3, 400.7) -3.629480759e22, 1.854388766e22, -7.929677168e20
    np.testing.assert_allclose(h[0, 0, 1:], [-1.099173587e58, -3.629480759e22], rtol=1e-9)
    np.testing.assert_allclose(h[0, 1, 1:], [1.528524417e58, 1.854388766e22], rtol=1e-9)
    np.testing.assert_allclose(h[1, 1, 1:], [-6.142550266e57, -7.929677168e20], rtol=1e-9)


# binom close to a pole of Gamma(n - k + 1) or Gamma(k + 1) (n - k + 1 or k + 1 within 1e-3
# of 0, -1, ...): the smooth form's digamma differences cancelled in the derivatives
# (hessian at (1e-12, 3) was [[-3.9e7, 3.9e7], [., -3.9e7]]; (4, 7 + 1e-10) d2/dn2 2.7e-6
# off); now rgamma's, smooth through the poles. mpmath (dps 50, mp.diff of Gamma(n + 1)
# rgamma(k + 1) rgamma(n - k + 1)): d/dn, d/dk, d2/dn2, d2/dndk, d2/dk2
_NEAR_POLE = {
    (1e-12, 3.0): (3.3333333333233334e-01, -3.3333333333294446e-01, -9.9999999999900002e-01,
                   3.8888888889081885e-01, 2.2222222221893639e-01),
    (1e-08, 5.0): (1.9999999166666677e-01, -1.9999999623333328e-01, -8.3333331583333348e-01,
                   3.7666667477418031e-01, 7.9999979639416727e-02),
    (4.0, 7.0 + 1e-10): (9.5238095222131523e-03, -9.5238095217278912e-03,
                         1.1111111117633209e-02, -1.5963718826907967e-02,
                         2.0816326535851488e-02),
    (90.5, 95.5 + 1e-9): (3.3604823699310139e-09, -3.3604823697512672e-09,
                          2.0194797823877718e-08, -2.0374543891342288e-08,
                          2.0554289958795318e-08),
    (0.3, -2 - 1e-7): (-4.0268004602537855e-08, -3.3444811959609699e-01,
                       7.4595319890345388e-08, 4.0268003386162177e-01,
                       -4.0939033280123077e-01),
}


@pytest.mark.parametrize("point", list(_NEAR_POLE), ids=str)
def test_binom_derivatives_near_a_pole(point):
    dn, dk, dnn, dnk, dkk = _NEAR_POLE[point]
    g = ft.grad(fsp.binom, (0, 1))(*point)
    h = np.array(ft.hessian(fsp.binom, (0, 1))(*point), dtype=float)
    np.testing.assert_allclose([float(g[0]), float(g[1])], [dn, dk], rtol=1e-12)
    np.testing.assert_allclose(h, [[dnn, dnk], [dnk, dkk]], rtol=1e-12)
