"""Session 36, linalg36: linear algebra on stacks that hold a singular matrix (qr, slogdet,
sqrtm, cond), whose missing derivative (nan) leaked into the other matrices' Jacobian blocks
in some mode or order; the singular matrix's own block stays nan (JAX's) where it has no
derivative."""

import math

import numpy as np
import pytest

import functrans as ft

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = math.inf, math.nan
la = ft.numpy.linalg

_REGULAR = [[4.0, 1.0, 0.5], [1.0, 3.0, -0.2], [0.5, -0.2, 2.5]]
_BAD = {
    "zero": [[0.0] * 3] * 3,
    "rank1": [[1.0, 0.0, 1.0], [2.0, 0.0, 2.0], [3.0, 0.0, 3.0]],
    "diag": [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]],
}
_OPS = {
    "qr.Q": lambda m: la.qr(m)[0],
    "qr.R": lambda m: la.qr(m)[1],
    "qr complete tall": lambda m: la.qr(m[..., :, :2], mode="complete")[0],
    "qr wide": lambda m: tuple(la.qr(ft.numpy.concat([m, m[..., :, :1] + 1.0], axis=-1))),
    "slogdet": lambda m: la.slogdet(m)[1],
    "cond": lambda m: la.cond(m),
    "cond 2": lambda m: la.cond(m, 2),
    "cond -2": lambda m: la.cond(m, -2),
    "cond fro": lambda m: la.cond(m, "fro"),
    "cond nuc": lambda m: la.cond(m, "nuc"),
    "cond 1": lambda m: la.cond(m, 1),
    "cond -inf": lambda m: la.cond(m, -inf),
}


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


def _leaves(x):
    return x if isinstance(x, tuple) else (x,)


def _check_blocks(js, ja, order):
    """js: a Jacobian (order 1) or Hessian (order 2) over the stack [bad, regular]; ja: over
    [regular] alone. The regular block must equal its own, every block between them 0."""
    for k, (j, want) in enumerate(zip(js, ja)):
        # (.., 2, 3, 3[, 2, 3, 3]) with the output's own stack axis first
        lead = j.ndim - 1 - 3 * order
        for idx in np.ndindex(*(2,) * (order + 1)):
            sl = (idx[0],) + (slice(None),) * lead
            for i in idx[1:]:
                sl += (i, slice(None), slice(None))
            block = j[sl]
            if all(i == 1 for i in idx):
                wl = (0,) + (slice(None),) * lead + (0, slice(None), slice(None)) * order
                np.testing.assert_allclose(block, want[wl], rtol=1e-12, atol=1e-13,
                                           err_msg=f"output {k}, block {idx}")
            elif not all(i == 0 for i in idx):
                np.testing.assert_array_equal(block, 0.0, err_msg=f"output {k}, block {idx}")


@pytest.mark.parametrize("bad", sorted(_BAD))
@pytest.mark.parametrize("name", sorted(_OPS))
def test_stack_with_a_singular_matrix_first_order(backend, name, bad):
    f = _OPS[name]
    s, alone = _arr(backend, [_BAD[bad], _REGULAR]), _arr(backend, [_REGULAR])
    for jac in (ft.jacfwd, ft.jacrev):
        js = [_np(backend, v) for v in _leaves(jac(f)(s))]
        ja = [_np(backend, v) for v in _leaves(jac(f)(alone))]
        _check_blocks(js, ja, 1)


_SECOND = {
    "hessian": ft.hessian,
    "jacrev(jacrev)": lambda f: ft.jacrev(ft.jacrev(f)),
    "jacfwd(jacfwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "jacrev(jacfwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
}




@pytest.mark.parametrize("bad", ["zero", "diag"])
@pytest.mark.parametrize("name", ["qr.R", "qr.Q", "slogdet", "cond", "cond fro"])
@pytest.mark.parametrize("order", sorted(_SECOND))
def test_stack_with_a_singular_matrix_second_order(name, bad, order):
    f = _OPS[name]
    s, alone = np.array([_BAD[bad], _REGULAR]), np.array([_REGULAR])
    js = [np.asarray(v) for v in _leaves(_SECOND[order](f)(s))]
    ja = [np.asarray(v) for v in _leaves(_SECOND[order](f)(alone))]
    # (session 40: cond of a zero matrix beside another, reverse mode inside, no longer has
    # nan in the block of the other matrix's output (54 entries): cond's ratio is a
    # custom_jvp function whose weighted spectral map is strong in the cotangent)
    _check_blocks(js, ja, 2)
    # the singular matrix's own block: no derivative (nan, JAX's), in every order
    assert np.isnan(js[0][(0,) + (slice(None),) * (js[0].ndim - 7) + (0, ..., 0, slice(None),
                                                                     slice(None))]).all()


@pytest.mark.parametrize("bad", ["zero", "diag"])
def test_sqrtm_stack_with_a_singular_matrix(bad):
    import functrans.scipy.linalg as fsl
    s, alone = np.array([_BAD[bad], _REGULAR]), np.array([_REGULAR])
    for jac in (ft.jacfwd, ft.jacrev, ft.hessian):
        js, ja = np.asarray(jac(fsl.sqrtm)(s)), np.asarray(jac(fsl.sqrtm)(alone))
        _check_blocks([js], [ja], 2 if jac is ft.hessian else 1)
        # the singular matrix's own block: nan (sqrt's infinite slope at 0), as before
        order = 2 if jac is ft.hessian else 1
        own = js[(0, slice(None), slice(None)) + (0, slice(None), slice(None)) * order]
        assert np.isnan(own).all()


@pytest.mark.parametrize("name", ["qr.Q", "qr.R", "sqrtm"])
def test_singular_matrix_own_block_nan_for_cancelling_cotangents(name):
    # the nan slope of a matrix without a derivative reaches a cotangent whose entries
    # cancel (a sum over the outputs would give 0 there: a finite, wrong, vjp)
    import functrans.scipy.linalg as fsl
    f = fsl.sqrtm if name == "sqrtm" else _OPS[name]
    z = np.zeros((3, 3))
    y, pull = ft.vjp(f, z)
    ct = np.zeros(np.shape(y))
    ct.flat[0], ct.flat[1] = 1.0, -1.0
    assert np.isnan(pull(ct)[0]).all()
    # and a zero cotangent gives 0 (the matrix of a stack whose result no one reads)
    np.testing.assert_array_equal(pull(np.zeros(np.shape(y)))[0], 0.0)


def test_qr_wide_moving_only_the_other_columns_keeps_its_derivative():
    # x = [x1 x2] with x1 singular: Q depends on x1 alone, R2 = Q^T x2 smoothly on x2
    x = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])
    t = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, -1.0]])
    (q, r), (dq, dr) = ft.jvp(lambda m: tuple(la.qr(m)), (x,), (t,))
    np.testing.assert_array_equal(np.asarray(dq), 0.0)
    np.testing.assert_allclose(np.asarray(dr), np.asarray(q).T @ t, rtol=1e-15, atol=1e-15)
    (_, _), (dq, dr) = ft.jvp(lambda m: tuple(la.qr(m)), (x,), (np.eye(2, 3),))
    assert np.isnan(np.asarray(dq)).all() and np.isnan(np.asarray(dr)).all()


def test_slogdet_singular_limits_kept():
    # rank n - 1: tr(adj(x) dx) * inf (the limit det -> 0+), nan where the cofactor is 0;
    # every mode alike; rank n - 2 (adj = 0): nan for every direction, also at second order
    # (JAX's nan; it was +-inf from -tr(adj dy adj dx) * inf with adj = 0 ... in some entries)
    x = np.diag([0.0, 1.0, 2.0])
    want = np.full((3, 3), nan)
    want[0, 0] = inf
    for jac in (ft.jacfwd, ft.jacrev, ft.grad):
        np.testing.assert_array_equal(np.asarray(jac(lambda m: la.slogdet(m)[1])(x)), want)
    # a jvp along the identity: +inf (d/de log det(x + e I) -> +inf), not nan
    _, t = ft.jvp(lambda m: la.slogdet(m)[1], (x,), (np.eye(3),))
    assert np.isnan(t)   # (J t with J's nan entries: the entries where adj(x) is 0)
    _, t = ft.jvp(lambda m: la.slogdet(m)[1], (x,), (np.diag([1.0, 0.0, 0.0]),))
    assert t == inf
    rank1 = np.array(_BAD["rank1"])
    for order in _SECOND.values():
        assert np.isnan(np.asarray(order(lambda m: la.slogdet(m)[1])(rank1))).all()


def test_cond_of_a_matrix_with_an_infinite_entry_is_inf():
    # NumPy: inf (a nan ratio without a nan entry); it was nan from inf * (1 + 0 * nan)
    x = np.array([[inf, 0.0], [0.0, 1.0]])
    for p in (None, 2, -2):
        assert np.linalg.cond(x, p) == inf
        assert la.cond(x, p) == inf
        assert ft.jit(lambda m: la.cond(m, p))(x) == inf


@pytest.mark.parametrize("p", [None, 2, "fro", 1])
def test_cond_rank_deficient_no_derivative(p):
    # inf with no derivative (JAX nan); p = 2 gave -inf in one entry and nan elsewhere
    x = np.array(_BAD["diag"])
    for jac in (ft.jacfwd, ft.jacrev):
        assert np.isnan(np.asarray(jac(lambda m: la.cond(m, p))(x))).all()
    assert la.cond(x, p) == inf


def test_clear_errors_for_shapes():
    import functrans.scipy.linalg as fsl
    # svd(hermitian=True) of a non-square matrix: NumPy's LinAlgError, JAX a broadcasting
    # TypeError; it returned the SVD as if hermitian were not given
    with pytest.raises(ft.errors.ShapeError, match="hermitian=True needs a"):
        la.svd(np.ones((3, 2)), hermitian=True)
    np.testing.assert_allclose(la.svd(np.eye(2) * 2.0, hermitian=True, compute_uv=False),
                               [2.0, 2.0])
    # solve_banded: b's rows against ab's columns, named as solve_banded's (was solve's)
    ab = np.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="solve_banded: b must have shape"):
        fsl.solve_banded((1, 1), ab, np.ones(4))
    import scipy.linalg as sl
    np.testing.assert_allclose(fsl.solve_banded((1, 1), ab, np.ones((3, 2))),
                               sl.solve_banded((1, 1), ab, np.ones((3, 2))), rtol=1e-14)
    with pytest.raises(TypeError, match="matrix_power: the exponent n must be an integer"):
        la.matrix_power(np.eye(2), 1.5)
    np.testing.assert_array_equal(la.matrix_power(np.eye(2) * 2.0, np.int64(2)), np.eye(2) * 4)
