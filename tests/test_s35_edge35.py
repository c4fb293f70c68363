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


# -- stacked linear algebra: one singular or degenerate matrix --------------------------------

_REGULAR = [[3.0, 1.0], [1.0, 2.0]]
_RHS = [[1.0], [-2.0]]


def _stack_blocks(backend, f, bad, regular=_REGULAR, f_alone=None):
    """f over the stack [bad, regular] and over the regular one alone, Jacobians in both
    modes: the regular block must equal its own, and the blocks between 0."""
    s = _arr(backend, [bad, regular])
    alone = _arr(backend, [regular])
    for jac in (ft.jacfwd, ft.jacrev):
        js = jac(f)(s)
        ja = jac(f if f_alone is None else f_alone)(alone)
        for k, (a_, b_) in enumerate(zip(js if isinstance(js, tuple) else (js,),
                                         ja if isinstance(ja, tuple) else (ja,))):
            j, want = _np(backend, a_), _np(backend, b_)
            np.testing.assert_array_equal(j[0, ..., 1, :, :], 0.0, err_msg=f"{jac} {k}")
            np.testing.assert_array_equal(j[1, ..., 0, :, :], 0.0, err_msg=f"{jac} {k}")
            np.testing.assert_allclose(j[1, ..., 1, :, :], want[0, ..., 0, :, :], rtol=1e-13,
                                       atol=1e-14, err_msg=f"{jac} {k}")
    return s


@pytest.mark.parametrize("bad", [[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]],
                                 [[1.0, 1.0], [1.0, 1.0]]], ids=["rank1", "zero", "ones"])
def test_lu_solve_stack_with_a_singular_matrix(backend, bad):
    import functrans.scipy.linalg as fsl
    b = _arr(backend, [_RHS, _RHS])

    def solve_factored(m):
        return fsl.lu_solve(fsl.lu_factor(m), b)
    s = _stack_blocks(backend, solve_factored, bad)
    lu, piv = fsl.lu_factor(s)
    # in the packed factors, and in b (the singular matrix's own block: +-inf / nan there)
    lu_n = _np(backend, lu)
    _stack_blocks(backend, lambda m: fsl.lu_solve((m, piv), b), lu_n[0], lu_n[1],
                  lambda m: fsl.lu_solve((m, piv[1:, ...]), b[1:, ...]))
    for jac in (ft.jacfwd, ft.jacrev):
        jb = _np(backend, jac(lambda v: fsl.lu_solve((lu, piv), v))(b))
        np.testing.assert_array_equal(jb[0, :, :, 1], 0.0)
        np.testing.assert_array_equal(jb[1, :, :, 0], 0.0)
        assert not np.isfinite(jb[0, :, :, 0]).all()
    # the singular matrix's own derivative in lu stays nan (no derivative there)
    j = _np(backend, ft.jacrev(solve_factored)(s))
    assert np.isnan(j[0, :, :, 0]).any()


@pytest.mark.parametrize("name", ["eigh", "svd"])
@pytest.mark.parametrize("bad", [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]],
                         ids=["identity", "zero"])
def test_eigh_svd_stack_with_repeated_values(backend, name, bad):
    # F = 1 / (w_j - w_i) is infinite at ties: a matrix with a repeated eigenvalue (or
    # singular value) put nan into the derivatives of every other matrix of the stack
    la = ft.numpy.linalg
    f = la.eigh if name == "eigh" else la.svd
    _stack_blocks(backend, lambda m: tuple(f(m)), bad)


def test_triangular_solve_strong_only_in_derivatives():
    # a primal solve of 0 by a singular factor divides as LAPACK's getrs (nan, as SciPy);
    # only the solves of derivative rules keep a zero right-hand side at 0
    import scipy.linalg as sl
    import functrans.scipy.linalg as fsl
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    want = sl.lu_solve(sl.lu_factor(a), np.zeros(2))
    np.testing.assert_array_equal(fsl.lu_solve(fsl.lu_factor(a), np.zeros(2)), want)
    assert np.isnan(want).any()


# -- scipy.special.logsumexp: every weight of a slice 0 -----------------------------------------

def test_logsumexp_all_zero_weights_one_sided_limit():
    # d/db_i log(sum_j b_j exp(a_j)) = exp(a_i) / s -> +inf as b -> 0+ (log(eps c)' = 1 / eps);
    # 0 where a_i = -inf (that term adds nothing whatever its weight). JAX 0.10.2: nan; was 0.
    a = np.array([[0.5, -inf, -2.0], [0.0, 1.0, 2.0]])
    b = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    s1 = np.exp(a[1]) @ b[1]
    want = np.array([[inf, 0.0, inf], [0.0, 0.0, 0.0]])
    for jac in (ft.jacfwd, ft.jacrev, lambda f: ft.jit(ft.jacrev(f))):
        j = np.asarray(jac(lambda v: fss.logsumexp(a, b=v, axis=1))(b))
        np.testing.assert_array_equal(j[0], want)
        np.testing.assert_allclose(j[1, 1], np.exp(a[1]) / s1, rtol=1e-15)
        np.testing.assert_array_equal(j[1, 0], 0.0)
    np.testing.assert_array_equal(fss.logsumexp(a, b=b, axis=1)[0], -inf)
    # the derivative in a stays 0 there (the value is -inf whatever a is)
    ga = ft.grad(lambda v: fss.logsumexp(v, b=b[0]))(a[0])
    np.testing.assert_array_equal(ga, 0.0)
    # with return_sign, log|s| comes from -inf on the one side and +inf on the other: nan
    g = ft.grad(lambda v: fss.logsumexp(a[0], b=v, return_sign=True)[0])(b[0])
    np.testing.assert_array_equal(np.isnan(g), [True, False, True])
    # mpmath: the slope at b = (eps, 0, 0) grows as 1 / eps
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(30):
        eps = mpmath.mpf("1e-20")
        slope = mpmath.e ** mpmath.mpf(0.5) / (eps * mpmath.e ** mpmath.mpf(0.5))
        assert slope > 1e19


def test_logsumexp_all_zero_weights_jax_differs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.special as jss
    g = jax.grad(lambda v: jss.logsumexp(np.array([0.5, 1.0]), b=v))(np.zeros(2))
    assert np.isnan(np.asarray(g)).all()   # JAX: nan; functrans: the one-sided +inf
    got = ft.grad(lambda v: fss.logsumexp(np.array([0.5, 1.0]), b=v))(np.zeros(2))
    np.testing.assert_array_equal(got, [inf, inf])


# -- functrans.nn activations at edge points ---------------------------------------------------

def _soft_sign_slopes(x):
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        xm = mpmath.mpf(x)
        d = 1 + abs(xm)
        return float(1 / d ** 2), float(-2 * mpmath.sign(xm) / d ** 3)


@pytest.mark.parametrize("x", [0.5, -2.0, 30.0, 1e8, -1e8, 1e16, 1e30, 1e154, 1e300])
def test_soft_sign_derivatives_accurate_for_large_x(x):
    # the quotient rule's two terms cancelled: grad at 1e8 had relative error 4e-9, the second
    # derivative was 0 from |x| = 1e16 (true -2 sign(x) / (1 + |x|)^3)
    g, h = _soft_sign_slopes(x)
    f = fnn.soft_sign
    for got in (ft.grad(f)(x), ft.jvp(f, (x,), (1.0,))[1], ft.jit(ft.grad(f))(x)):
        np.testing.assert_allclose(got, g, rtol=4e-16, atol=0)
    for got in (ft.grad(ft.grad(f))(x), ft.jacfwd(ft.jacfwd(f))(x),
                ft.jacrev(ft.jacfwd(f))(x)):
        np.testing.assert_allclose(got, h, rtol=4e-16, atol=0)


def test_soft_sign_edges(backend):
    x = _arr(backend, [inf, -inf, 0.0, nan])
    f = fnn.soft_sign
    np.testing.assert_array_equal(_np(backend, f(x)), [1.0, -1.0, 0.0, nan])
    g = _np(backend, ft.vmap(ft.grad(f))(x))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, nan])
    # soft_sign''(0) = 0 (abs's slope 0 at 0: the mean of the one-sided -2 and 2; JAX -2)
    assert float(ft.grad(ft.grad(f))(0.0)) == 0.0


@pytest.mark.parametrize("name", ["hard_silu", "gelu_tanh"])
def test_saturated_branches_at_infinity_every_mode(backend, name):
    # x times a factor whose slope is 0 out there: forward mode met inf * 0 = nan at +-inf
    # where reverse mode gave the limits 1 and 0
    f = fnn.hard_silu if name == "hard_silu" else (lambda v: fnn.gelu(v, approximate=True))
    x = _arr(backend, [inf, -inf, 1e300, -1e300, 40.0, -40.0])
    want_g = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    # (the value at -inf stays nan, JAX's: inf * 0)
    np.testing.assert_array_equal(_np(backend, f(x)), [inf, nan, 1e300, 0.0, 40.0, 0.0])
    for g in (ft.vmap(ft.grad(f)), lambda v: ft.jvp(f, (v,), (ft.numpy.ones_like(v),))[1],
              ft.jit(ft.vmap(ft.grad(f)))):
        np.testing.assert_array_equal(_np(backend, g(x)), want_g)
    np.testing.assert_array_equal(np.diagonal(_np(backend, ft.jacfwd(f)(x))), want_g)
    np.testing.assert_array_equal(_np(backend, ft.vmap(ft.grad(ft.grad(f)))(x)), 0.0)
    np.testing.assert_array_equal(_np(backend, ft.vmap(ft.jacfwd(ft.jacfwd(f)))(x)), 0.0)


def test_hard_silu_and_gelu_unchanged_inside():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    xs = np.array([-3.0, -2.9, -1.0, 0.0, 0.5, 2.9, 3.0, 29.0, -29.0, 30.0, -30.0])
    for f, jf in ((fnn.hard_silu, jax.nn.hard_silu),
                  (lambda v: fnn.gelu(v, True), lambda v: jax.nn.gelu(v, True))):
        np.testing.assert_allclose(f(xs), jf(xs), rtol=1e-13, atol=1e-300)
        g = ft.vmap(ft.grad(f))(xs)
        np.testing.assert_allclose(g, jax.vmap(jax.grad(jf))(xs), rtol=1e-12, atol=1e-300)
        h = ft.vmap(ft.grad(ft.grad(f)))(xs)
        np.testing.assert_allclose(h, jax.vmap(jax.grad(jax.grad(jf)))(xs), rtol=1e-9,
                                   atol=1e-300)
    # float32 stays float32
    assert fnn.hard_silu(np.float32(-4.0)).dtype == np.float32
    assert fnn.gelu(np.array([-40.0, 1.0], dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("x", [1.0, -2.0, 700.0, -700.0, 1e8, -1e8, 1e16, -1e16])
def test_squareplus_derivatives_accurate(x):
    # y' = y / h, y'' = b / (2 h^3), y''' = -3 b x / (2 h^5), h = sqrt(x^2 + b): the formula's
    # second derivative at 1e8 was 1.65e-24 for 2e-24 (and the modes differed)
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        xm = mpmath.mpf(x)
        h = mpmath.sqrt(xm * xm + 4)
        y = 2 / (h - xm) if x < 0 else (xm + h) / 2
        want = [float(y / h), float(2 / h ** 3), float(-6 * xm / h ** 5)]
    f = fnn.squareplus
    for got in (ft.grad(f)(x), ft.jvp(f, (x,), (1.0,))[1], ft.jit(ft.grad(f))(x)):
        np.testing.assert_allclose(got, want[0], rtol=4e-16)
    for got in (ft.grad(ft.grad(f))(x), ft.jacfwd(ft.jacfwd(f))(x), ft.jacrev(ft.jacfwd(f))(x)):
        np.testing.assert_allclose(got, want[1], rtol=8e-16)
    np.testing.assert_allclose(ft.grad(ft.grad(ft.grad(f)))(x), want[2], rtol=1e-15)


def test_squareplus_edges(backend):
    x = _arr(backend, [inf, -inf, 0.0, nan])
    g = _np(backend, ft.vmap(ft.grad(fnn.squareplus))(x))
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.5, nan])
    h = _np(backend, ft.vmap(ft.grad(ft.grad(fnn.squareplus)))(x))
    np.testing.assert_array_equal(h, [0.0, 0.0, 0.25, nan])
    # an array b keeps the formula (its derivative in b too)
    gb = ft.grad(lambda bb: fnn.squareplus(1.0, b=bb))(4.0)
    np.testing.assert_allclose(gb, 1.0 / (4.0 * math.sqrt(5.0)), rtol=1e-15)
