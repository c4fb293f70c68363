"""Session 50, helper spectral50: second derivatives of smooth spectral functions at ties.

- Looked for: the Hessian of a smooth function of the eigenvalues (singular values), such as
  sum(svdvals(x)**2) at an orthogonal matrix or sum(eigvalsh(x + x^T)**2) at the identity,
  is finite there (Lewis-Sendov: the divided differences (g'(w_i) - g'(w_j)) / (w_i - w_j)
  tend to g''(w) at a tie) where functrans's is nan in the tied pairs' entries (JAX 0.10.2's
  is nan in every entry).
- Not fixable in the rules: the pair's term is the limit of 0 times the infinite gap
  quotient, whose 0 is a difference of the user's cotangent c = g'(w), and every rule that
  meets it sees c only as a value and (forward over reverse) its tangent along the one
  direction dx, c's own derivative in w never. sum(w^2) and (sum w)^2 / 3 at the identity
  give the spectral map's rule the same point, c = (2, 2, 2) and, along dx = E_01 + E_10
  (P = V^T dx V off the diagonal: dw = diag(P) = 0), dc = 0 for both, where their Hessians
  along dx are 4 and 0 (test_the_rules_see_the_same_inputs_for_two_hessians); reverse
  over forward's transpose sees c as a value with no tangent (2 sum(s) and sum(s^2) at an
  orthogonal matrix: the same c), forward over forward not at all (the weights multiply
  after the rule). Taking the gap term as 0 at a tie (F = 0 there) is right for the second
  and silently wrong for the first; g'' cannot be read from dc. So those entries stay nan (never a silent value): pinned here in
  every nesting, under jit and vmap, on array-api-strict and torch, with the finite entries
  against the Lewis-Sendov formula (itself checked against central differences).
- Near a tie (values 1e-13 apart, outside the 64 n eps tie band) the same divided
  differences are formed from rounded values: the Hessian of sum(exp(eigvalsh)) is 2.3e-4
  off in hessian, 3.3e-3 in jacrev(jacfwd) (|H| 6.5, against Lewis-Sendov in mpmath; JAX
  1.6e-3, 2.9e-3), ~eps / gap (1e-8 apart: 2e-8, pinned). A strict xfail: nan there, or
  the function's own g'', would be right; widening the tie band would trade it for nan.
- Left (strict xfails): the two reproducers, hessian(sum(svdvals(m)**2)) at an orthogonal
  matrix (2 I) and hessian(sum(eigvalsh(m + m^T)**2)) at I, and sum(exp(eigvalsh)),
  sum(log(svdvals)) at ties: 54 to 81 of 81 entries nan. A fix needs the function of the
  spectrum itself (a primitive for sum g(w) that differentiates g: the divided differences
  of g' by g'' at ties), not a rule of eigvalsh/svdvals.
"""

import mpmath
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

la = fnp.linalg
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _orth(n, seed):
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))[0]


_Q = _orth(3, 0)        # (its computed singular values 1, 1 - 2e-16, 1 - 2e-16: a tie)
_I = np.eye(3)
_QD = _Q @ np.diag([2.0, 1.0, 1.0]) @ _orth(3, 5).T
_GENERAL = np.random.default_rng(50).standard_normal((3, 3))

# g and its first two derivatives
_G = {
    "square": (lambda w: w ** 2, lambda w: 2 * w, lambda w: 2 + 0 * w),
    "cube": (lambda w: w ** 3, lambda w: 3 * w ** 2, lambda w: 6 * w),
    "exp": (np.exp, np.exp, np.exp),
    "log": (np.log, lambda w: 1 / w, lambda w: -1 / w ** 2),
    "identity": (lambda w: w, lambda w: 1 + 0 * w, lambda w: 0 * w),
}
_FNP = {"square": lambda w: w ** 2, "cube": lambda w: w ** 3, "exp": fnp.exp, "log": fnp.log,
        "identity": lambda w: w}


def _sym(x):
    return (x + x.T) / 2


def _divided(g1, g2, w, sign=-1.0):
    """(g1(w_i) + sign g1(w_j)) / (w_i + sign w_j) for i != j, its limit g2 at a tie
    (sign -1; the sums, sign +1, have none at a zero pair: not used there); g2 on the
    diagonal."""
    wi, wj = w[:, None], w[None, :]
    num, den = g1(wi) + sign * g1(wj), wi + sign * wj
    tie = np.abs(den) <= 1e-12 * max(1.0, np.max(np.abs(w)))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(tie, g2((wi + wj) / 2), num / np.where(tie, 1.0, den))
    d[np.diag_indices(len(w))] = g2(w)
    return d


def _basis(n):
    return np.eye(n * n).reshape(n * n, n, n)


def _hessian_eigvalsh(g, x):
    """Lewis-Sendov: the Hessian in x of sum g(eigvalsh(sym(x))), (n, n, n, n)."""
    _, g1, g2 = _G[g]
    w, v = np.linalg.eigh(_sym(x))
    d = _divided(g1, g2, w)
    ps = [v.T @ _sym(e) @ v for e in _basis(len(w))]
    h = np.array([[np.sum(d * a * b) for b in ps] for a in ps])
    return h.reshape(x.shape * 2)


def _hessian_svdvals(g, x):
    """Lewis-Sendov for singular values (square real x): with A = U^T dx V, S, K its
    symmetric and skew parts, sum_i g''(s_i) A_ii B_ii + sum_{i != j} [(g'_i - g'_j) /
    (s_i - s_j) S^A_ij S^B_ij + (g'_i + g'_j) / (s_i + s_j) K^A_ij K^B_ij]."""
    _, g1, g2 = _G[g]
    u, s, vh = np.linalg.svd(x)
    dm, dp = _divided(g1, g2, s), _divided(g1, g2, s, sign=1.0)
    off = 1.0 - np.eye(len(s))
    parts = []
    for e in _basis(len(s)):
        a = u.T @ e @ vh.T
        parts.append((np.diag(a), (a + a.T) / 2, (a - a.T) / 2))
    h = np.array([[np.sum(g2(s) * da * db) + np.sum(off * (dm * sa * sb + dp * ka * kb))
                   for db, sb, kb in parts] for da, sa, ka in parts])
    return h.reshape(x.shape * 2)


def _by_differences(f, x, step=1e-4):
    """Central differences of the Hessian of the NumPy function f (entry pairs)."""
    n = x.size
    out = np.zeros((n, n))
    es = _basis(x.shape[0]) * step
    for i in range(n):
        for j in range(n):
            out[i, j] = (f(x + es[i] + es[j]) - f(x + es[i] - es[j]) - f(x - es[i] + es[j])
                         + f(x - es[i] - es[j])) / (4 * step * step)
    return out.reshape(x.shape * 2)


def _eigvalsh_sum(g):
    return lambda m: fnp.sum(_FNP[g](la.eigvalsh(_sym(m))))


def _svdvals_sum(g):
    return lambda m: fnp.sum(_FNP[g](la.svdvals(m)))


_NESTINGS = {
    "fwd(rev)": lambda f: ft.jacfwd(ft.jacrev(f)),
    "rev(fwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
    "fwd(fwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "rev(rev)": lambda f: ft.jacrev(ft.jacrev(f)),
    "jit(hessian)": lambda f: ft.jit(ft.hessian(f)),
}


def _nan_or_right(got, want, atol=1e-9):
    got = np.asarray(got)
    ok = np.isnan(got) | np.isclose(got, want, rtol=1e-9, atol=atol)
    assert ok.all(), np.max(np.abs(np.where(ok, 0.0, got - want)))


# -- the reference --------------------------------------------------------------------------


@pytest.mark.parametrize("which, g, x", [
    ("eigvalsh", "exp", _GENERAL), ("eigvalsh", "cube", _QD), ("svdvals", "cube", _GENERAL),
    ("svdvals", "log", _GENERAL), ("eigvalsh", "exp", _I), ("svdvals", "square", _Q),
    ("svdvals", "exp", _QD), ("svdvals", "identity", _Q)])
def test_lewis_sendov_against_central_differences(which, g, x):
    g0 = _G[g][0]
    if which == "eigvalsh":
        want, f = _hessian_eigvalsh(g, x), lambda m: np.sum(g0(np.linalg.eigvalsh(_sym(m))))
    else:
        want, f = _hessian_svdvals(g, x), lambda m: np.sum(g0(np.linalg.svd(m)[1]))
    np.testing.assert_allclose(want, _by_differences(f, x), atol=2e-6 * np.max(np.abs(want)))


# -- generic matrices: every nesting exact ----------------------------------------------------


@pytest.mark.parametrize("nesting", list(_NESTINGS))
def test_generic_matrices_every_nesting(nesting):
    for g in ("exp", "cube"):
        got = np.asarray(_NESTINGS[nesting](_eigvalsh_sum(g))(_GENERAL))
        np.testing.assert_allclose(got, _hessian_eigvalsh(g, _GENERAL), rtol=1e-11, atol=1e-11)
    for g in ("log", "cube"):
        got = np.asarray(_NESTINGS[nesting](_svdvals_sum(g))(_GENERAL))
        np.testing.assert_allclose(got, _hessian_svdvals(g, _GENERAL), rtol=1e-11, atol=1e-11)


# -- ties: nan or right, never a silent value -------------------------------------------------


_TIED = [("eigvalsh", "square", _I), ("eigvalsh", "exp", _I), ("eigvalsh", "cube", _QD @ _QD.T),
         ("svdvals", "square", _Q), ("svdvals", "log", _Q), ("svdvals", "exp", _QD),
         ("svdvals", "cube", 2 * _Q)]


@pytest.mark.parametrize("nesting", list(_NESTINGS))
@pytest.mark.parametrize("which, g, x", _TIED)
def test_ties_are_nan_or_right(which, g, x, nesting):
    f, ref = ((_eigvalsh_sum(g), _hessian_eigvalsh) if which == "eigvalsh"
              else (_svdvals_sum(g), _hessian_svdvals))
    got = np.asarray(_NESTINGS[nesting](f)(x))
    assert np.isnan(got).any()   # (the tie is seen)
    _nan_or_right(got, ref(g, x))


@pytest.mark.parametrize("x", [_Q, 2 * _Q, _QD], ids=["Q", "2Q", "Q diag(2,1,1) Q'"])
def test_nuclear_norm_at_ties_is_exact_forward_over_reverse(x):
    # (pinned) sum(svdvals) at a tie of non-zero values: its cotangent, 1, has no tangent
    # (forward over reverse sees a constant), so the tied pair's divided difference is 0
    # exactly, the sums' term finite. Reverse over forward and forward over forward see
    # each value's second derivative alone, undefined at the tie: nan (the weights that
    # make the pairs cancel, 1 and 1, meet them after the rule, or as a cotangent that no
    # rule can tell from 2 s of sum(s^2) at an orthogonal matrix)
    want = _hessian_svdvals("identity", x)
    for f in (_svdvals_sum("identity"), lambda m: la.matrix_norm(m, ord="nuc")):
        for name, nest in _NESTINGS.items():
            got = np.asarray(nest(f)(x))
            if name in ("rev(fwd)", "fwd(fwd)"):
                _nan_or_right(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_rules_see_the_same_inputs_for_two_hessians():
    # sum(w^2) and (sum w)^2 / 3 at I: the same cotangent of the spectrum, (2, 2, 2), and
    # along dx = E_01 + E_10 the same tangent of it (0); their Hessians along dx are 4 and
    # 0. Every nesting gives each its own value or nan, never the other's.
    of_w = (lambda w: fnp.sum(w ** 2), lambda w: fnp.sum(w) ** 2 / 3)
    f1, f2 = (lambda m, h=h: h(la.eigvalsh(_sym(m))) for h in of_w)
    dx = np.zeros((3, 3))
    dx[0, 1] = dx[1, 0] = 1.0
    # (c = h'(w), the cotangent that reaches eigvalsh's rules, and its tangent along dx)
    cots = [lambda m, h=h: ft.grad(h)(la.eigvalsh(_sym(m))) for h in of_w]
    (c1, dc1), (c2, dc2) = (ft.jvp(c, (_I,), (dx,)) for c in cots)
    np.testing.assert_array_equal(np.asarray(c1), 2.0)
    np.testing.assert_array_equal(np.asarray(c2), 2.0)
    np.testing.assert_array_equal(np.asarray(dc1), 0.0)
    np.testing.assert_array_equal(np.asarray(dc2), 0.0)
    want = [_hessian_eigvalsh("square", _I), 2 / 3 * np.einsum("ij,kl->ijkl", _I, _I)]
    for k in range(2):
        np.testing.assert_allclose(np.einsum("ijkl,ij,kl", want[0] if k == 0 else want[1],
                                             dx, dx), (4.0, 0.0)[k], atol=1e-12)
    for nest in _NESTINGS.values():
        for f, w in zip((f1, f2), want):
            got = np.asarray(nest(f)(_I))
            _nan_or_right(got, w)
            assert np.isnan(got[0, 1, 0, 1])


def test_hvp_at_a_tie_is_nan_or_right():
    f = _svdvals_sum("square")
    want = np.einsum("ijkl,kl->ij", _hessian_svdvals("square", _Q), _GENERAL)
    staged = ft.jit(lambda x, t: ft.hvp(f, (x,), (t,)))
    for got in (ft.hvp(f, (_Q,), (_GENERAL,)), staged(_Q, _GENERAL)):
        got = np.asarray(got)
        assert np.isnan(got).any()
        _nan_or_right(got, want)


@pytest.mark.parametrize("which", ["eigvalsh", "svdvals"])
def test_stacks_under_vmap_and_jit(which):
    # the generic matrix of a stack keeps its exact Hessian beside a tied one
    g = "exp" if which == "eigvalsh" else "cube"
    tied = _I if which == "eigvalsh" else _Q
    f, ref = ((_eigvalsh_sum(g), _hessian_eigvalsh) if which == "eigvalsh"
              else (_svdvals_sum(g), _hessian_svdvals))
    xs = np.stack([tied, _GENERAL])
    for h in (ft.vmap(ft.hessian(f)), ft.jit(ft.vmap(ft.hessian(f)))):
        got = np.asarray(h(xs))
        assert np.isnan(got[0]).any()
        _nan_or_right(got[0], ref(g, tied))
        np.testing.assert_allclose(got[1], ref(g, _GENERAL), rtol=1e-11, atol=1e-11)
    # (the Hessian of the stack's sum: no nan between the matrices)
    total = lambda x: fnp.sum(ft.vmap(f)(x))                              # noqa: E731
    got = np.asarray(ft.hessian(total)(xs))
    np.testing.assert_array_equal(got[0, :, :, 1], 0.0)
    np.testing.assert_array_equal(got[1, :, :, 0], 0.0)
    np.testing.assert_allclose(got[1, :, :, 1], ref(g, _GENERAL), rtol=1e-11, atol=1e-11)


def test_ties_on_backends(backend):
    for which, g, x in (("eigvalsh", "square", _I), ("svdvals", "square", _Q)):
        f, ref = ((_eigvalsh_sum(g), _hessian_eigvalsh) if which == "eigvalsh"
                  else (_svdvals_sum(g), _hessian_svdvals))
        for h in (ft.hessian(f), ft.jit(ft.hessian(f))):
            got = h(backend.asarray(x))
            assert backend.is_own(got)
            got = backend.to_numpy(got)
            assert np.isnan(got).any()
            _nan_or_right(got, ref(g, x))
            np.testing.assert_allclose(backend.to_numpy(h(backend.asarray(_GENERAL))),
                                       ref(g, _GENERAL), rtol=1e-11, atol=1e-11)


# -- near a tie (outside the tie band): the divided differences of a rounded cotangent -------


def _near_tie(gap):
    q = _orth(3, 3)
    x = q @ np.diag([1.0, 1.0 + gap, 2.0]) @ q.T
    return (x + x.T) / 2


def _hessian_eigvalsh_mp(x, g1, g2):
    """Lewis-Sendov in mpmath (40 digits) at the float64 matrix x itself."""
    with mpmath.workdps(40):
        w, v = mpmath.eigsy(mpmath.matrix(x.tolist()))
        n = len(w)
        d = [[g2(w[i]) if i == j else (g1(w[i]) - g1(w[j])) / (w[i] - w[j])
              for j in range(n)] for i in range(n)]
        ps = [v.T * mpmath.matrix(_sym(e).tolist()) * v for e in _basis(n)]
        h = [[float(mpmath.fsum(d[i][j] * a[i, j] * b[i, j] for i in range(n) for j in range(n)))
              for b in ps] for a in ps]
    return np.array(h).reshape(x.shape * 2)


_EXP_W = lambda m: fnp.sum(fnp.exp(la.eigvalsh(_sym(m))))               # noqa: E731


def test_near_a_tie_at_1e8_every_nesting():
    # (pinned) values 1e-8 apart: the divided differences lose ~eps / gap, 2e-8 here
    x = _near_tie(1e-8)
    want = _hessian_eigvalsh_mp(x, mpmath.exp, mpmath.exp)
    for nest in _NESTINGS.values():
        np.testing.assert_allclose(np.asarray(nest(_EXP_W)(x)), want, rtol=0, atol=1e-7)


@pytest.mark.xfail(strict=True, reason=(
    "values 1e-13 apart (relative 5e-14, outside the 64 n eps tie band, 8.5e-14 here): the "
    "Hessian of sum(exp(eigvalsh(x))) is 2.3e-4 off in hessian, 3.3e-3 in jacrev(jacfwd), "
    "2.5e-3 in jacfwd(jacfwd) (|H| 6.5; JAX 0.10.2: 1.6e-3, 2.9e-3): the pairs' divided "
    "differences of the rounded cotangent (c_j - c_i) / (w_j - w_i), or sums of terms "
    "c_i / gap, lose eps / gap; the rules see no g''. Right would be within 1e-7 or nan"))
@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(fwd)", "fwd(fwd)"])
def test_near_a_tie_at_1e13(nesting):
    x = _near_tie(1e-13)
    w = np.linalg.eigvalsh(x)
    assert 5e-14 < w[1] - w[0] < 2e-13
    want = _hessian_eigvalsh_mp(x, mpmath.exp, mpmath.exp)
    _nan_or_right(np.asarray(_NESTINGS[nesting](_EXP_W)(x)), want, atol=1e-7)


# -- left: the reproducers --------------------------------------------------------------------


@pytest.mark.xfail(strict=True, reason=(
    "the Hessian of a smooth function of the spectrum at a tie: nan in the tied pairs' "
    "entries (54 to 81 of 81; the true values 2 I for sum(svdvals^2) at an orthogonal "
    "matrix, Lewis-Sendov's with g'' at the tie): the pair's term is 0 (a difference of "
    "the cotangent g'(w)) times the infinite gap quotient, and no rule sees g'(w)'s "
    "derivative in w (sum(w^2) and (sum w)^2 / 3 give it the same inputs at I)"))
@pytest.mark.parametrize("which, g, x", [
    ("svdvals", "square", _Q), ("eigvalsh", "square", _I), ("eigvalsh", "exp", _I),
    ("svdvals", "log", _Q)])
def test_smooth_spectral_hessian_at_a_tie(which, g, x):
    if which == "svdvals":
        f, want = _svdvals_sum(g), _hessian_svdvals(g, x)
    else:   # (the brief's eigvalsh(m + m^T): 4 times sym's for the square)
        f, want = _eigvalsh_sum(g), _hessian_eigvalsh(g, x)
    if (which, g) == ("svdvals", "square"):
        np.testing.assert_allclose(want.reshape(9, 9), 2 * np.eye(9), atol=1e-12)
    got = np.asarray(ft.hessian(f)(x))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
