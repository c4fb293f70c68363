"""Session 35, derivatives at edge inputs (helper edge35): the softmax family where a slice is
not finite (+inf, nan, all -inf) or entries are left out by ``where``, stacked linear algebra
with one singular or non-finite matrix, logsumexp's weights at 0, and the sweep of
functrans.nn's activations at edge points.

The rule throughout: a slice (or a matrix of a stack) that has no derivative gives nan only
in the directions that move one of its own entries; the Jacobian's entries between
independent slices, and those of entries a mask leaves out, are exactly 0 (the outputs do not
depend on them), in every mode. The formulas met 0 * inf there: jacfwd's zero tangents times
exp(inf), jacrev's zero cotangents times an infinite partial. (JAX 0.10.2 gives the same nans
as functrans did; the expected values below are the mathematics'.)"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.scipy.special as fss

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = math.inf, math.nan


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


# -- softmax / log_softmax: slices that are not finite, entries left out -------------------------

# Rows: +inf kept (value nan / SciPy's [nan, -inf, ...]), a finite row with -inf (a true
# derivative), a nan, all -inf kept; the mask leaves out one entry of rows 0 and 2.
_X = [[inf, 0.0, 1.0], [1.0, 2.0, -inf], [nan, 0.0, 1.0], [-inf, -inf, -inf]]
_W = [[True, True, False], [True, True, True], [True, False, True], [True, True, True]]
_SOFTMAXES = {
    "nn.softmax": lambda x, w: fnn.softmax(x),
    "nn.softmax where": lambda x, w: fnn.softmax(x, where=w),
    "nn.log_softmax": lambda x, w: fnn.log_softmax(x),
    "nn.log_softmax where": lambda x, w: fnn.log_softmax(x, where=w),
    "special.softmax": lambda x, w: fss.softmax(x, axis=-1),
    "special.log_softmax": lambda x, w: fss.log_softmax(x, axis=-1),
}
_JACOBIANS = {
    "jacfwd": ft.jacfwd,
    "jacrev": ft.jacrev,
    "jit(jacfwd)": lambda f: ft.jit(ft.jacfwd(f)),
    "jit(jacrev)": lambda f: ft.jit(ft.jacrev(f)),
    "vmap(jacrev)": None,   # (one row at a time: vmap over the rows of a per-row Jacobian)
}


def _block_diag(blocks):
    """The (n, k, n, k) Jacobian of a row-wise function from its n per-row (k, k) blocks."""
    blocks = np.asarray(blocks)
    n, k = blocks.shape[0], blocks.shape[1]
    out = np.zeros((n, k, n, k))
    for i in range(n):
        out[i, :, i, :] = blocks[i]
    return out


def _row_jacobian(name, x, w):
    """The exact per-row Jacobian of the row's softmax (from the finite row alone)."""
    keep = np.asarray(w, dtype=bool)
    e = np.where(keep, np.exp(np.where(keep, x - x[keep].max(), 0.0)), 0.0)
    p = e / e.sum()
    if "log" in name:
        j = np.eye(len(x)) - p[None, :]
    else:
        j = np.diag(p) - p[:, None] * p[None, :]
    return np.where(keep[:, None] & keep[None, :], j, 0.0)


@pytest.mark.parametrize("mode", list(_JACOBIANS))
@pytest.mark.parametrize("name", list(_SOFTMAXES))
def test_softmax_nonfinite_rows_stay_in_their_block(backend, name, mode):
    f0 = _SOFTMAXES[name]
    masked = "where" in name
    w = backend.asarray(_W, dtype=bool) if masked else None
    if mode == "vmap(jacrev)":
        f = (lambda v, wr: f0(v, wr))
        rows = _arr(backend, _X)
        j = _block_diag(_np(backend, ft.vmap(ft.jacrev(f), in_axes=(0, 0 if masked else None))(
            rows, w)))
    else:
        j = _np(backend, _JACOBIANS[mode](lambda v: f0(v, w))(_arr(backend, _X)))
    x = np.array(_X)
    wn = np.array(_W) if masked else np.ones_like(x, dtype=bool)
    for r in range(4):
        for c in range(4):
            block = j[r, :, c, :]
            if r != c:
                np.testing.assert_array_equal(block, 0.0, err_msg=f"{r}, {c}")
                continue
            keep = wn[r]
            out = keep[:, None] & keep[None, :]
            # entries left out: 0 in their row and column
            np.testing.assert_array_equal(block[~out], 0.0, err_msg=f"row {r}")
            if r == 1:   # finite row: the true Jacobian
                np.testing.assert_allclose(block, _row_jacobian(name, x[1], keep),
                                           rtol=1e-14, atol=1e-15)
            else:        # no derivative: nan between the kept entries
                assert np.isnan(block[out]).all(), (r, block)


@pytest.mark.parametrize("name", list(_SOFTMAXES))
def test_softmax_nonfinite_rows_values_and_second_order(name):
    f0 = _SOFTMAXES[name]
    w = np.array(_W)
    x = np.array(_X)
    plain = f0(x, w)
    # values: the same under every transform (nan rows stay nan, masked entries 0 / -inf)
    np.testing.assert_array_equal(ft.jit(lambda v: f0(v, w))(x), plain)
    out, _ = ft.jvp(lambda v: f0(v, w), (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(out, plain)
    # a loss that leaves the bad rows out has a finite gradient, 0 on those rows (the
    # padded-row pattern: nan there would reach every weight that made the logits)
    keep_rows = np.array([False, True, False, False])[:, None] & np.isfinite(plain)
    want = np.ones(3)[keep_rows[1]] @ _row_jacobian(name, x[1], w[1] if "where" in name
                                                    else np.ones(3, bool))[keep_rows[1]]
    for g in (ft.grad, lambda f: ft.jit(ft.grad(f))):
        grad = g(lambda v: ft.numpy.sum(ft.numpy.where(keep_rows, f0(v, w), 0.0)))(x)
        np.testing.assert_array_equal(grad[[0, 2, 3]], 0.0)
        np.testing.assert_allclose(grad[1], want, rtol=1e-14, atol=1e-15)
    # second order: the finite row's Hessian block alone, 0 between rows, nan in a bad row
    for order in (ft.hessian, lambda f: ft.jacrev(ft.jacfwd(f)), lambda f: ft.jacrev(ft.jacrev(f))):
        h = order(lambda v: f0(v, w)[1, 0])(x)
        assert np.isfinite(h[1, :, 1, :]).all()
        for r in range(4):
            for c in range(4):
                if (r, c) != (1, 1):
                    np.testing.assert_array_equal(h[r, :, c, :], 0.0)
        h0 = order(lambda v: f0(v, w)[0, 1])(x)
        kept0 = np.array(_W[0]) if "where" in name else np.ones(3, bool)
        assert np.isnan(h0[0][np.ix_(kept0, [0], kept0)]).all()
        zero = np.ones_like(h0, dtype=bool)
        zero[0, :, 0, :] = ~(kept0[:, None] & kept0[None, :])
        np.testing.assert_array_equal(h0[zero], 0.0)


def test_where_with_a_numeric_condition_under_vmap(backend):
    # fnp.where takes a number's truth (as NumPy); under vmap its comparison with 0 met a
    # 0-d zero beside the batched condition and failed (operands (2, 3) and (2,))
    c = _arr(backend, [[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]])
    x = _arr(backend, np.arange(6.0).reshape(2, 3))
    got = ft.vmap(lambda ci, xi: ft.numpy.where(ci, xi, -1.0))(c, x)
    np.testing.assert_array_equal(_np(backend, got), [[0.0, -1.0, 2.0], [-1.0, 4.0, 5.0]])
