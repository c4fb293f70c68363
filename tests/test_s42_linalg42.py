"""Session 42, linalg42: eigh's and svd's eigenvector / singular-vector derivatives at ties.

- The products by the reciprocal gaps F (infinite at a tie) in eigh's and svd's vector
  tangents are strong only where the zero they meet is structural: per matrix for a tangent
  (a matrix of a stack that it does not move), per pair of columns for a cotangent (two
  tied vectors that the function reads neither of). Elsewhere a tie's 0 gives nan, as
  forward mode and JAX: per entry, the 0 was silently wrong (below).
- Staged (jit) and under vmap the same products (tie_product), so jit equals eager.
- Left: a cotangent that is 0 on a whole tied matrix only because the function multiplies
  the vectors by their gap reaches the rule bit for bit as one from another matrix of the
  stack (the function does not read this one): both get 0 in reverse mode (see
  test_gap_times_tied_vectors_in_reverse_mode).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.primitives.linalg as pl
from tests.test_s39_linalg39 import _PLAIN, _STACK, _TIED

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg

_MODES = {
    "rev": ft.jacrev,
    "fwd": ft.jacfwd,
    "jit rev": lambda f: ft.jit(ft.jacrev(f)),
    "jit fwd": lambda f: ft.jit(ft.jacfwd(f)),
}


def _outer(a):
    return a[..., :, None] * a[..., None, :]


def _sym_central(f, x, h=1e-6):
    """Central differences of f along the symmetric basis (E_ab + E_ba) / 2, as the rules
    read a perturbation's Hermitian part: (out..., n, n)."""
    n = x.shape[-1]
    out = None
    for a in range(n):
        for b in range(n):
            e = np.zeros_like(x)
            e[..., a, b] += 0.5
            e[..., b, a] += 0.5
            d = (np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h)
            if out is None:
                out = np.zeros(d.shape + (n, n))
            out[..., a, b] = d
    return out


def _central(f, x, h=1e-6):
    n, m = x.shape[-2:]
    out = None
    for a in range(n):
        for b in range(m):
            e = np.zeros_like(x)
            e[..., a, b] = 1.0
            d = (np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h)
            if out is None:
                out = np.zeros(d.shape + (n, m))
            out[..., a, b] = d
    return out


def _signed(v, axis):
    """Columns (axis=-2) or rows (axis=-1) of v with their largest entry positive (LAPACK's
    sign is arbitrary; differences need one branch)."""
    idx = np.argmax(np.abs(v), axis=axis)
    big = np.take_along_axis(v, np.expand_dims(idx, axis), axis)
    return v * np.sign(big)


# -- the silent zeros that are now nan --------------------------------------------------------


def test_direction_that_splits_a_tie_gives_nan_not_zero():
    # along t (the tie splits in its order, and x_02, x_12 couple the pair to the third
    # vector) V's tied columns turn by a finite amount per unit: the one-sided differences
    # give dV[1, 0] = 5, dV[0, 1] = -5; the per-entry strong product gave 0 (silently)
    t = np.diag([0.1, 0.3, 0.5])
    t[0, 2] = t[2, 0] = t[1, 2] = t[2, 1] = 1.0
    tangent = lambda x, t: ft.jvp(lambda m: la.eigh(m)[1], (x,), (t,))[1]   # noqa: E731
    for g in (tangent, ft.jit(tangent)):
        dv = np.asarray(g(_TIED, t))
        assert np.all(np.isnan(dv[:, :2])), dv
        h = 1e-7
        one_sided = (_signed(np.linalg.eigh(_TIED + h * t)[1], -2)
                     - _signed(np.linalg.eigh(_TIED)[1], -2)) / h
        np.testing.assert_allclose(one_sided[1, 0], 5.0, rtol=1e-5)
        np.testing.assert_allclose(dv[:, 2], one_sided[:, 2], rtol=1e-5, atol=1e-6)


_READ_TIED = {
    # a tied vector's entry at the identity: V jumps along x_01 (to (1, +-1) / sqrt 2);
    # reverse mode gave 0 (V^T c's entry between the pair is 0, the column is read)
    "eigh V[0, 0]": lambda x: la.eigh(x)[1][..., 0, 0],
    "svd U[0, 0]": lambda x: la.svd(x)[0][..., 0, 0],
    "svd Vh[0, 0]": lambda x: la.svd(x)[2][..., 0, 0],
}


@pytest.mark.parametrize("mode", sorted(_MODES))
@pytest.mark.parametrize("name", sorted(_READ_TIED))
def test_read_tied_vector_is_nan_in_every_mode(name, mode):
    jac = np.asarray(_MODES[mode](_READ_TIED[name])(np.eye(2)))
    # (was rev [0, 0, 0, 0], fwd [0, nan, nan, 0])
    assert np.all(np.isnan(jac)), jac


# -- what stays: the simple vectors at a tie, the other matrices of a stack ------------------


_SIMPLE = {
    # the eigenvector of the simple eigenvalue 2 of diag(1, 1, 2); the singular vectors of
    # its simple singular value 2 (svd's first): smooth there
    "eigh V[:, 2]": (lambda x: la.eigh(x)[1][..., 2],
                     lambda x: _signed(np.linalg.eigh(x)[1], -2)[..., 2], True),
    "svd U[:, 0]": (lambda x: la.svd(x)[0][..., 0],
                    lambda x: _signed(np.linalg.svd(x)[0], -2)[..., 0], False),
    "svd Vh[0]": (lambda x: la.svd(x)[2][..., 0, :],
                  lambda x: _signed(np.linalg.svd(x)[2], -1)[..., 0, :], False),
}


@pytest.mark.parametrize("mode", sorted(_MODES))
@pytest.mark.parametrize("name", sorted(_SIMPLE))
def test_simple_vector_at_a_tie_matches_central_differences(name, mode):
    f, ref, symmetric = _SIMPLE[name]
    got = np.asarray(_MODES[mode](f)(_TIED))
    assert np.all(np.isfinite(got))
    want = (_sym_central if symmetric else _central)(ref, _TIED)
    np.testing.assert_allclose(got, want, atol=1e-8)


_VECTORS = {
    "eigh V": lambda x: la.eigh(x)[1],
    "svd U": lambda x: la.svd(x)[0],
    "svd Vh": lambda x: la.svd(x)[2],
}


@pytest.mark.parametrize("mode", sorted(_MODES))
@pytest.mark.parametrize("name", sorted(_VECTORS))
def test_first_order_leaves_the_other_matrices_alone(name, mode):
    jac = np.asarray(_MODES[mode](_VECTORS[name])(_STACK))   # (2, 3, 3, 2, 3, 3)
    np.testing.assert_array_equal(jac[0, ..., 1, :, :], 0.0)
    np.testing.assert_array_equal(jac[1, ..., 0, :, :], 0.0)
    alone = np.asarray(_MODES[mode](_VECTORS[name])(_PLAIN))
    np.testing.assert_allclose(jac[1, ..., 1, :, :], alone, rtol=1e-13, atol=1e-14)


def test_dot_product_identity_with_unread_tied_columns():
    rng = np.random.default_rng(42)
    t = rng.normal(size=_STACK.shape)
    trip = lambda m: tuple(la.svd(m))                                    # noqa: E731
    (u, s, vh), (du, ds, dvh) = ft.jvp(trip, (_STACK,), (t,))
    cu, cs, cvh = (rng.normal(size=a.shape) for a in (du, ds, dvh))
    cu[0, :, 1:] = 0.0    # (svd of diag(1, 1, 2): its singular values 2, 1, 1)
    cvh[0, 1:, :] = 0.0
    (ct,) = ft.vjp(trip, _STACK)[1]((cu, cs, cvh))
    assert np.all(np.isfinite(ct))
    lhs = np.sum(ct * t)
    rhs = (np.sum(cs * ds) + np.sum(cu[1] * du[1]) + np.sum(cvh[1] * dvh[1])
           + np.sum(cu[0, :, 0] * du[0, :, 0]) + np.sum(cvh[0, 0] * dvh[0, 0]))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
    # and the tied columns read: nan on that matrix alone
    cu[0, :, 1] = 1.0
    (ct,) = ft.vjp(trip, _STACK)[1]((cu, cs, cvh))
    assert np.all(np.isnan(ct[0])) and np.all(np.isfinite(ct[1]))


@pytest.mark.parametrize("name", sorted(_VECTORS))
def test_tie_path_without_ties_is_the_plain_rule(name, monkeypatch):
    rng = np.random.default_rng(43)
    a = rng.normal(size=(2, 3, 3))
    x = (a + np.swapaxes(a, -1, -2)) / 2
    f = lambda m: _outer(_VECTORS[name](m)[..., 1])[..., 0, :]            # noqa: E731
    nest = {"rev": ft.jacrev, "fwd(rev)": lambda g: ft.jacfwd(ft.jacrev(g)),
            "rev(fwd)": lambda g: ft.jacrev(ft.jacfwd(g)),
            "fwd(fwd(rev))": lambda g: ft.jacfwd(ft.jacfwd(ft.jacrev(g)))}
    want = {k: np.asarray(n(f)(x)) for k, n in nest.items()}
    monkeypatch.setattr(pl, "_may_tie", lambda w, zero=False, staged=False: True)
    for k, n in nest.items():
        np.testing.assert_allclose(np.asarray(n(f)(x)), want[k], rtol=1e-12,
                                   atol=1e-12 * np.abs(want[k]).max())


def test_on_backends(backend):
    x = backend.asarray(_STACK)
    for name in ("eigh V", "svd U"):
        for jac in (ft.jacrev, ft.jacfwd):
            got = jac(_VECTORS[name])(x)
            assert backend.is_own(got)
            got = np.asarray(backend.to_numpy(got))
            np.testing.assert_array_equal(got[0, ..., 1, :, :], 0.0)
            want = np.asarray(jac(_VECTORS[name])(_STACK))
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            fin = np.isfinite(want)
            np.testing.assert_allclose(got[fin], want[fin], rtol=1e-12, atol=1e-13)


def test_vmap_as_each_matrix_alone():
    for name in sorted(_VECTORS):
        f = ft.jacrev(_VECTORS[name])
        got = np.asarray(ft.vmap(f)(_STACK))
        for k in range(2):
            want = np.asarray(f(_STACK[k]))
            np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(want))
            fin = np.isfinite(want)
            np.testing.assert_allclose(got[k][fin], want[fin], rtol=1e-13, atol=1e-14)


def test_matches_jax_away_from_ties():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    rng = np.random.default_rng(44)
    x = rng.normal(size=(2, 3, 4))
    f = lambda m: _outer(la.svd(m, full_matrices=False)[0][..., 1])      # noqa: E731
    g = lambda m: (lambda v: v[..., :, None] * v[..., None, :])(                # noqa: E731
        jnp.linalg.svd(m, full_matrices=False)[0][..., 1])
    for ours, theirs in [(ft.jacrev, jax.jacrev), (ft.jacfwd, jax.jacfwd)]:
        np.testing.assert_allclose(np.asarray(ours(f)(x)), np.asarray(theirs(g)(jnp.asarray(x))),
                                   rtol=1e-9, atol=1e-10)


# -- tie_product -------------------------------------------------------------------------------


def test_tie_product_strength():
    inf = np.inf
    f = np.array([[0.0, inf, 1.0], [-inf, 0.0, 1.0], [-1.0, -1.0, 0.0]])
    moved = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [2.0, 0.0, 1.0]])
    out = np.asarray(pl.tie_product(np.stack([f, f]), np.stack([np.zeros((3, 3)), moved])))
    np.testing.assert_array_equal(out[0], 0.0)          # (a matrix the tangent leaves)
    assert np.isnan(out[1, 0, 1]) and np.isnan(out[1, 1, 0])   # (a tie's 0 in a moved one)
    np.testing.assert_array_equal(out[1, :, 2], f[:, 2] * moved[:, 2])
    _, back = ft.vjp(lambda m: pl.tie_product(f, m), moved)
    (ct,) = back(np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0], [0.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(ct, [[0, 0, 1], [0, 0, 2], [0, 0, 0]])   # (unread pair: 0)
    (ct,) = back(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    assert np.isnan(ct[0, 1]) and np.isnan(ct[1, 0])    # (column 0 read, its pair's 0: nan)


def test_tie_product_is_the_plain_product_for_finite_operands(backend):
    rng = np.random.default_rng(45)
    a, b, t = (backend.asarray(rng.normal(size=(2, 3, 3))) for _ in range(3))
    got = pl.tie_product(a, b)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), backend.to_numpy(a * b), rtol=1e-15)
    jv = ft.jvp(lambda q: pl.tie_product(a, q), (b,), (t,))[1]
    np.testing.assert_allclose(backend.to_numpy(jv), backend.to_numpy(a * t), rtol=1e-15)
    (ct,) = ft.vjp(lambda q: pl.tie_product(a, q), b)[1](t)
    np.testing.assert_allclose(backend.to_numpy(ct), backend.to_numpy(a * t), rtol=1e-15)
    # (second order: its transpose's transpose, and its derivative in the gaps)
    h = ft.jacfwd(ft.jacrev(lambda p: fnp.sum(pl.tie_product(p, b) ** 2)))(a)
    np.testing.assert_allclose(np.asarray(backend.to_numpy(h)).reshape(18, 18),
                               np.diag(2 * backend.to_numpy(b).ravel() ** 2), atol=1e-14)


# -- left: a gap times the tied vectors, in reverse mode -------------------------------------


def _gap_times_vectors(x):
    # (w1 - w0) (v1 v1^T - v0 v0^T)[0, 1] = 2 x_01 for symmetric 2 x 2 x: smooth
    w, v = la.eigh(x)
    return (w[1] - w[0]) * (_outer(v[:, 1]) - _outer(v[:, 0]))[0, 1]


def _svd_gap_times_vectors(x):
    u, s, _ = la.svd(x)
    return (s[0] - s[1]) * (_outer(u[:, 0]) - _outer(u[:, 1]))[0, 1]   # (x_01 + x_10 at I)


def test_gap_times_tied_vectors_forward_is_nan():
    # the true Jacobians at eye(2): [[0, 1], [1, 0]] (central differences: below); the
    # rules see V's infinite derivative times the zero gap
    want = _sym_central(lambda m: (lambda w, v: (w[1] - w[0]) * (
        np.outer(v[:, 1], v[:, 1]) - np.outer(v[:, 0], v[:, 0]))[0, 1])(*np.linalg.eigh(m)),
        np.eye(2))
    np.testing.assert_allclose(want, [[0.0, 1.0], [1.0, 0.0]], atol=1e-8)
    for f in (_gap_times_vectors, _svd_gap_times_vectors):
        assert np.all(np.isnan(np.asarray(ft.jacfwd(f)(np.eye(2)))))


@pytest.mark.xfail(strict=True, reason=(
    "reverse mode: the cotangent reaching eigh's (svd's) rule is 0 on the whole matrix "
    "(the gap is 0), bit for bit as one from another matrix of a stack that the function "
    "does not read, whose block must be 0; no rule that sees only values can tell them "
    "apart (forward mode is nan)"))
@pytest.mark.parametrize("f", [_gap_times_vectors, _svd_gap_times_vectors])
def test_gap_times_tied_vectors_in_reverse_mode(f):
    got = np.asarray(ft.jacrev(f)(np.eye(2)))
    assert not np.all(got == 0.0)    # (it is 0: the right value or nan would pass)


# -- qr at an upper-triangular matrix: the documented branch ---------------------------------


def _qr_branch(m, signs):
    """LAPACK's QR with R's diagonal given the ``signs`` (the smooth branch through them)."""
    q, r = np.linalg.qr(m)
    d = np.sign(np.diagonal(r, axis1=-2, axis2=-1)) * signs
    return q * d[..., None, :], r * d[..., :, None]


@pytest.mark.parametrize("direction", ["below the diagonal", "upper", "general"])
def test_qr_at_an_upper_triangular_matrix_is_the_branch_through_its_value(direction):
    x = np.array([[2.0, 1.0, 0.5], [0.0, 1.5, 0.3], [0.0, 0.0, 0.7]])
    t = {"below the diagonal": np.eye(3, k=-1),
         "upper": np.triu(np.arange(1.0, 10.0).reshape(3, 3)),
         "general": np.random.default_rng(46).normal(size=(3, 3))}[direction]
    signs = np.sign(np.diagonal(np.linalg.qr(x)[1]))
    np.testing.assert_array_equal(signs, 1.0)
    # (LAPACK's diagonal flips to negative once anything below it is non-zero)
    np.testing.assert_array_equal(np.sign(np.diag(np.linalg.qr(x + 1e-9 * t)[1]))[:2],
                                  1.0 if direction == "upper" else -1.0)
    dq, dr = (np.asarray(d) for d in ft.jvp(lambda m: tuple(la.qr(m)), (x,), (t,))[1])
    h = 1e-6
    for ours, k in ((dq, 0), (dr, 1)):
        branch = (_qr_branch(x + h * t, signs)[k] - _qr_branch(x - h * t, signs)[k]) / (2 * h)
        np.testing.assert_allclose(ours, branch, atol=1e-8)
        lapack = (np.linalg.qr(x + h * t)[k] - np.linalg.qr(x - h * t)[k]) / (2 * h)
        if direction == "upper":
            np.testing.assert_allclose(ours, lapack, atol=1e-8)
        elif k == 0:
            assert np.abs(ours - lapack).max() > 0.5   # (LAPACK's values jump: the sign flip)
    # reverse mode: the same linear map (dot-product identity)
    cq, cr = np.cos(np.arange(9.0)).reshape(3, 3), np.sin(np.arange(9.0)).reshape(3, 3)
    (ct,) = ft.vjp(lambda m: tuple(la.qr(m)), x)[1]((cq, cr))
    np.testing.assert_allclose(np.sum(ct * t), np.sum(cq * dq) + np.sum(cr * dr), rtol=1e-12)


def test_qr_at_the_identity_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    t = np.eye(3, k=-1) + 0.5 * np.eye(3, k=1)
    ours = ft.jvp(lambda m: tuple(la.qr(m)), (np.eye(3),), (t,))[1]
    theirs = jax.jvp(lambda m: tuple(jnp.linalg.qr(m)), (jnp.eye(3),), (jnp.asarray(t),))[1]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-14)
    np.testing.assert_allclose(np.asarray(ours[0])[1, 0], 1.0)   # (the branch's; LAPACK's -1)


# -- svd's second derivatives at a stack with a tied matrix ----------------------------------

_NESTINGS = {
    "fwd(rev)": lambda f: ft.jacfwd(ft.jacrev(f)),
    "fwd(fwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "rev(rev)": lambda f: ft.jacrev(ft.jacrev(f)),
    "rev(fwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
}

_SVD_SIMPLE = {
    "U[..., 0]": lambda x: la.svd(x)[0][..., 0],
    "Vh[..., 0, :]": lambda x: la.svd(x)[2][..., 0, :],
}


def _cross(h):
    """The blocks of h (2, 3, 2, 3, 3, 2, 3, 3) that couple different matrices."""
    return [h[b, :, c, :, :, d] for b in range(2) for c in range(2) for d in range(2)
            if not b == c == d]


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", sorted(_SVD_SIMPLE))
def test_svd_simple_vector_second_derivatives_at_a_tied_stack(name, nesting):
    f = _SVD_SIMPLE[name]
    h = np.asarray(_NESTINGS[nesting](f)(_STACK))
    for block in _cross(h):   # (were 54 to 729 nan)
        np.testing.assert_array_equal(block, 0.0)
    alone = np.asarray(_NESTINGS[nesting](f)(_PLAIN))
    np.testing.assert_allclose(h[1, :, 1, :, :, 1], alone, rtol=1e-12, atol=1e-13)
    # the tied matrix's own block: nan (as before; the simple vector is smooth there, but
    # the rule's terms meet the tied vectors' infinite derivatives), never a finite value
    # other than central differences of the first derivative
    own = h[0, :, 0, :, :, 0]
    fin = np.isfinite(own)
    jac, v0 = ft.jacrev(f), np.asarray(f(_TIED))
    # (LAPACK's sign of the vector may flip between x + h e and x - h e: the Jacobian of
    # the branch through f(x))
    branch = lambda m: np.asarray(jac(m)) * np.sign(np.sum(np.asarray(f(m)) * v0))  # noqa
    want = _central(branch, _TIED, h=1e-5)
    np.testing.assert_allclose(own[fin], want[fin], atol=1e-7)
    if nesting == "fwd(fwd)":   # (the reference itself, where the rule is finite)
        x = np.diag([1.0, 1.3, 2.0])
        v0 = np.asarray(f(x))
        np.testing.assert_allclose(np.asarray(ft.jacfwd(jac)(x)), _central(branch, x),
                                   atol=1e-7)


def test_svd_tied_vector_forward_second_derivatives_leave_the_others_alone():
    # (U[..., 2], a vector of the tied pair: its own block NaN; forward over forward has 0
    # between the matrices, was 108 nan; the other nestings keep some: see the report)
    h = np.asarray(_NESTINGS["fwd(fwd)"](lambda x: la.svd(x)[0][..., 2])(_STACK))
    for block in _cross(h):
        np.testing.assert_array_equal(block, 0.0)
