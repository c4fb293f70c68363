"""Session 43, linalg43: svd's and eig's vector derivatives across a stack with a tied matrix.

- svd where ties may be (eager values, vmap): the products of the singular values with the
  tangent in the vectors' rule strong per matrix, as the others there: the second
  derivatives of every singular vector, the tied ones (U[..., 2], the full U and Vh) too,
  are exactly 0 between the matrices of a stack in all four nestings (were 243 to 2187 nan:
  the tied matrix's own nan times a zero tangent in a plain product downstream), and each
  matrix's block is that of the matrix alone (square, tall, wide, complex).
- svd's parts divided by S (tall U, wide V, complex phases) where ties or zeros may be: the
  products by 1 / S strong per matrix of the tangent, 1 / S's own derivative strong (eager,
  vmap; jit too): a rectangular stack with a rank-deficient matrix has no nan between the
  matrices at first (were 48, jit too) or second order (576 to 5184).
- svd's vectors at a zero matrix (eager, vmap): nan (jacfwd gave a silent 0); at a tall
  matrix's tie along a direction in its complement (U^H t V = 0 on the matrix, which t
  moves: the tie's products gated by t, not by their operand): nan (jvp gave a silent 0
  where V jumps).
- eig (general) where two eigenvalues may be equal (eager: an exact tie; vmap; jit): F * P
  as tie_product (as eigh's and svd's), F's own derivative strong per matrix, and, eagerly
  and under vmap, every product of the point with the tangent strong per matrix (V^{-1} an
  operand, not a solve): no nan between the matrices of a stack in first (were 54 to 81)
  or second derivatives (were 729 to 2187); the simple eigenvector's reverse-mode
  derivative at a tie finite and right (was nan); a read tied vector nan in reverse mode
  too (the length's correction is a product of its own).
- eig at a defective matrix (equal eigenvalues, LAPACK's eigenvectors dependent: a Jordan
  block): the vectors' derivatives and the defective eigenvalues' nan (the simple
  eigenvalue's vector along x_12 was silently [0, 1, 0], central differences [1, 1, 0];
  second derivatives of the simple pair were 1 and 2 off where the tie path made them
  finite).
"""

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.primitives.linalg as pl
from tests.test_s39_linalg39 import _STACK, _TIED

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


def _rank_deficient_stack(wide):
    low = np.zeros((4, 3))
    low[0, 0], low[1, 1] = 2.0, 1.0   # (singular values 2, 1, 0)
    x = np.stack([low, np.random.default_rng(437).normal(size=(4, 3))])
    return np.swapaxes(x, -1, -2) if wide else x


@pytest.mark.parametrize("mode", ["rev", "fwd", "jit rev", "jit fwd"])
@pytest.mark.parametrize("wide", [False, True])
def test_svd_rank_deficient_rectangular_stack_first_order(wide, mode):
    # a zero singular value's 1 / s met the zero (co)tangent of the other matrix: 0 / 0,
    # 48 nan (jacrev of U, or of U[..., 0] alone) in the other matrix's entries
    x = _rank_deficient_stack(wide)
    jac = {"rev": ft.jacrev, "fwd": ft.jacfwd, "jit rev": lambda f: ft.jit(ft.jacrev(f)),
           "jit fwd": lambda f: ft.jit(ft.jacfwd(f))}[mode]
    k = 2 if wide else 0
    for f in (lambda m: la.svd(m, full_matrices=False)[k],
              lambda m: la.svd(m, full_matrices=False)[k][..., 0, :] if wide
              else la.svd(m, full_matrices=False)[k][..., 0]):
        got = np.asarray(jac(f)(x)).reshape((2, -1, 2, 12))
        np.testing.assert_array_equal(got[0, :, 1], 0.0)
        np.testing.assert_array_equal(got[1, :, 0], 0.0)
        for j in range(2):
            alone = np.asarray(jac(f)(x[j])).reshape(got[j, :, j].shape)
            np.testing.assert_array_equal(np.isnan(got[j, :, j]), np.isnan(alone))
            fin = np.isfinite(alone)
            np.testing.assert_allclose(got[j, :, j][fin], alone[fin], rtol=1e-13, atol=1e-14)
    # (the zero singular value's own vector has no derivative: nan, never a finite value
    # where the part divided by s is 0 on a whole matrix that the tangent moves)
    own = np.asarray(ft.jacfwd(lambda m: la.svd(m, full_matrices=False)[k])(x[0]))
    own = own[2] if wide else own[:, 2]
    assert not np.any(np.isfinite(own))


@pytest.mark.parametrize("shape", [(2, 2), (3, 2), (2, 3)])
def test_svd_vectors_at_a_zero_matrix_are_nan(shape):
    # every singular value 0: U and V jump in every direction (jacfwd gave 0, silently;
    # with S's products strong per matrix jacrev would too); the other matrix as alone
    x = np.stack([np.zeros(shape), np.arange(1.0, 7.0)[:shape[0] * shape[1]].reshape(shape)])
    for jac in (ft.jacfwd, ft.jacrev):
        for k in (0, 2):
            f = lambda m: la.svd(m, full_matrices=False)[k]               # noqa: E731
            h = np.asarray(jac(f)(x))
            assert np.all(np.isnan(h[0][..., 0, :, :]))
            np.testing.assert_array_equal(h[0][..., 1, :, :], 0.0)
            np.testing.assert_array_equal(h[1][..., 0, :, :], 0.0)
            np.testing.assert_allclose(h[1][..., 1, :, :], np.asarray(jac(f)(x[1])),
                                       rtol=1e-13, atol=1e-14)


def test_svd_tall_tie_along_the_complement_is_nan():
    # [[1, 0], [0, 1], [0, 0]] + e (E20 + E21): x^T x = I + e^2 [[1, 1], [1, 1]], so V
    # jumps from I to (1, +-1) / sqrt 2 for every e != 0; U^H t V is 0 there, and the
    # products gated by it gave dVh = 0, silently (jacrev: nan)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    t = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(np.abs(np.linalg.svd(x + 1e-6 * t)[2]), np.sqrt(0.5))
    g = lambda m, d: ft.jvp(lambda y: tuple(la.svd(y, full_matrices=False)), (m,), (d,))[1]  # noqa
    for h in (g, ft.jit(g)):
        du, _, dvh = h(x, t)
        assert np.all(np.isnan(np.asarray(dvh))) and np.all(np.isnan(np.asarray(du)))


@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(rev)"])
def test_svd_rank_deficient_rectangular_stack_second_order(nesting):
    x = _rank_deficient_stack(False)   # (were 576 to 5184 nan between the matrices)
    _assert_as_each_matrix_alone(lambda m: la.svd(m, full_matrices=False)[0],
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


# -- eig (general): across a stack with a tied or defective matrix --------------------------

_GENERAL = np.random.default_rng(433).normal(size=(3, 3))
_DEFECTIVE = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])   # (a Jordan block)
_EIG_STACKS = {"tied": np.stack([_TIED, _GENERAL]), "defective": np.stack([_DEFECTIVE, _GENERAL])}

_EIG = {
    "Re V": lambda x: fnp.real(la.eig(x)[1]),
    "Im V": lambda x: fnp.imag(la.eig(x)[1]),
    "Re w": lambda x: fnp.real(la.eig(x)[0]),
    "Im eigvals": lambda x: fnp.imag(la.eigvals(x)),
}

_FIRST = {"rev": ft.jacrev, "fwd": ft.jacfwd, "jit rev": lambda f: ft.jit(ft.jacrev(f)),
          "jit fwd": lambda f: ft.jit(ft.jacfwd(f))}


def _assert_first_as_each_matrix_alone(f, jac, x):
    got = np.asarray(jac(f)(x)).reshape((2, -1, 2, 9))
    np.testing.assert_array_equal(got[0, :, 1], 0.0)
    np.testing.assert_array_equal(got[1, :, 0], 0.0)
    for k in range(2):
        alone = np.asarray(jac(f)(x[k])).reshape(got[k, :, k].shape)
        np.testing.assert_array_equal(np.isnan(got[k, :, k]), np.isnan(alone))
        fin = np.isfinite(alone)
        np.testing.assert_allclose(got[k, :, k][fin], alone[fin], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("mode", sorted(_FIRST))
@pytest.mark.parametrize("stack", sorted(_EIG_STACKS))
def test_eig_vectors_first_derivatives_leave_the_other_matrices_alone(stack, mode):
    # (were 54 nan between the matrices in jacfwd, 81 in jacrev, jit too: F * P with the
    # tied matrix's infinite F times the other matrix's zero P)
    _assert_first_as_each_matrix_alone(_EIG["Re V"], _FIRST[mode], _EIG_STACKS[stack])


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", sorted(_EIG))
@pytest.mark.parametrize("stack", sorted(_EIG_STACKS))
def test_eig_second_derivatives_leave_the_other_matrices_alone(stack, name, nesting):
    # (were 729 to 2187 nan between the matrices)
    _assert_as_each_matrix_alone(_EIG[name], _NESTINGS[nesting], _EIG_STACKS[stack])


def _near(x, value):
    """NumPy's eigenvalue nearest ``value`` and |its unit eigenvector|^2 (order-free)."""
    w, v = np.linalg.eig(x)
    i = np.argmin(np.abs(w - value))
    return np.concatenate([[w[i].real], np.abs(v[:, i]) ** 2])


def _near_vector(x, value):
    """NumPy's eigenvector of the eigenvalue nearest ``value`` (real), its largest entry
    positive (LAPACK's order and sign are not differentiable)."""
    w, v = np.linalg.eig(x)
    u = v[:, np.argmin(np.abs(w - value))].real
    return u * np.sign(u[np.argmax(np.abs(u))])


def _fd2(g, x, a, b, step=1e-4):
    return (g(x + step * a + step * b) - g(x + step * a - step * b)
            - g(x - step * a + step * b) + g(x - step * a - step * b)) / (4 * step * step)


def _simple_pair(x):
    # the simple eigenvalue 2 and |its eigenvector|^2 (smooth: v * conj(v), not abs(v)^2,
    # whose derivative at a zero entry is abs's kink)
    w, v = la.eig(x)
    return fnp.concat([fnp.real(w[..., 2:3]), fnp.real(v[..., 2] * fnp.conj(v[..., 2]))])


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("x", [_TIED, _DEFECTIVE], ids=["tied", "defective"])
def test_eig_simple_pair_at_a_tie_finite_entries_match_central_differences(x, nesting):
    # every finite entry of the second derivatives right (the rest nan, never a wrong finite
    # value: at the defective matrix the rule's V, which assumes an eigenbasis, misses the
    # Jordan block's nilpotent part, 1 and 2 off, now nan)
    h = np.asarray(_NESTINGS[nesting](_simple_pair)(x))
    fin = np.isfinite(h)
    want = np.zeros(h.shape)
    for i, j, k, m in itertools.product(range(3), repeat=4):
        if fin[:, i, j, k, m].any():
            a, b = np.zeros((3, 3)), np.zeros((3, 3))
            a[i, j], b[k, m] = 1.0, 1.0
            want[:, i, j, k, m] = _fd2(lambda y: _near(y, 2.0), x, a, b)
    np.testing.assert_allclose(h[fin], want[fin], atol=1e-6)
    if nesting.startswith("rev") and x is _TIED:
        assert fin.sum() >= 225


def test_eig_simple_vector_in_reverse_mode_at_a_tie():
    # V[:, 2] of diag(1, 1, 2): smooth; jacrev was nan (F * 0 at the tied pair in the
    # transpose), jacfwd finite: both as central differences now
    f = lambda x: fnp.real(la.eig(x)[1][..., 2])                          # noqa: E731
    want = np.zeros((3, 3, 3))
    for i, j in itertools.product(range(3), repeat=2):
        e = np.zeros((3, 3))
        e[i, j] = 1e-6
        want[:, i, j] = (_near_vector(_TIED + e, 2.0) - _near_vector(_TIED - e, 2.0)) / 2e-6
    for jac in (ft.jacrev, ft.jacfwd, lambda g: ft.jit(ft.jacrev(g))):
        np.testing.assert_allclose(np.asarray(jac(f)(_TIED)), want, atol=1e-8)


def test_eig_read_tied_vector_is_nan_in_reverse_mode():
    # V[0, 0] of diag(1, 1, 2): the tied column turns within the cluster (along x_01 +
    # x_10 to (1, 1, 0) / sqrt 2): jacfwd nan; jacrev's cotangent on that column lies along
    # the column itself, which the length's correction takes out: one product saw 0 there
    for jac in (ft.jacrev, ft.jacfwd):
        assert np.all(np.isnan(np.asarray(jac(lambda x: fnp.real(la.eig(x)[1][0, 0]))(_TIED))))


def test_eig_defective_matrix_vectors_are_nan():
    # at a Jordan block LAPACK's V is singular; the rule's dV assumed an eigenbasis: the
    # simple eigenvalue's vector along x_12 was [0, 1, 0] (central differences [1, 1, 0])
    e = np.zeros((3, 3))
    e[1, 2] = 1.0
    want = (_near_vector(_DEFECTIVE + 1e-6 * e, 2.0)
            - _near_vector(_DEFECTIVE - 1e-6 * e, 2.0)) / 2e-6
    np.testing.assert_allclose(want, [1.0, 1.0, 0.0], atol=1e-6)
    for g in (lambda x, t: ft.jvp(lambda m: la.eig(m)[1], (x,), (t,))[1],
              ft.jit(lambda x, t: ft.jvp(lambda m: la.eig(m)[1], (x,), (t,))[1])):
        assert np.all(np.isnan(np.asarray(g(_DEFECTIVE, e))))
    # the eigenvalues: the simple one's slope kept (right), the Jordan block's nan (they
    # move as the square root of the perturbation along x_10; the rule gave 1 / eps)
    jw = np.asarray(ft.jacfwd(lambda x: fnp.real(la.eig(x)[0]))(_DEFECTIVE))
    assert np.all(np.isnan(jw[:2]))
    np.testing.assert_array_equal(jw[2], np.diag([0.0, 0.0, 1.0]))
    for f in (la.eigvals, lambda m: la.eig(m)[0]):
        dw = np.asarray(ft.jvp(f, (_DEFECTIVE,), (np.eye(3, k=-1),))[1])
        assert np.all(np.isnan(dw[:2])) and dw[2] == 0.0


def test_eig_tie_path_without_ties_is_the_plain_rule(monkeypatch):
    rng = np.random.default_rng(434)
    x = rng.normal(size=(2, 3, 3))
    nest = {"rev": ft.jacrev, "fwd": ft.jacfwd,
            "fwd(rev)": lambda g: ft.jacfwd(ft.jacrev(g)),
            "rev(rev)": lambda g: ft.jacrev(ft.jacrev(g))}
    want = {(n, k): np.asarray(nest[k](_EIG[n])(x)) for n in _EIG for k in nest}
    monkeypatch.setattr(pl, "_may_tie_unsorted", lambda w, staged=False: True)
    for (n, k), w in want.items():
        np.testing.assert_allclose(np.asarray(nest[k](_EIG[n])(x)), w, rtol=1e-10,
                                   atol=1e-11 * np.abs(w).max(), err_msg=str((n, k)))


def test_eig_tie_path_matches_jax(monkeypatch):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    monkeypatch.setattr(pl, "_may_tie_unsorted", lambda w, staged=False: True)
    x = np.random.default_rng(435).normal(size=(2, 3, 3))
    f = lambda m: (lambda v: fnp.real(v * fnp.conj(v)))(la.eig(m)[1])  # noqa: E731

    def g(m):
        v = jax.lax.linalg.eig(m, compute_left_eigenvectors=False, enable_eigvec_derivs=True)[1]
        return jnp.real(v * jnp.conj(v))
    for ours, theirs in [(ft.jacrev, jax.jacrev),
                         (lambda h: ft.jacfwd(ft.jacrev(h)), lambda h: jax.jacfwd(jax.jacrev(h)))]:
        np.testing.assert_allclose(np.asarray(ours(f)(x)), np.asarray(theirs(g)(jnp.asarray(x))),
                                   rtol=1e-9, atol=1e-10)


def test_eig_dot_product_identity_at_a_tied_stack():
    rng = np.random.default_rng(436)
    x = _EIG_STACKS["tied"]
    t = rng.normal(size=x.shape)
    pair = lambda m: tuple(la.eig(m))                                     # noqa: E731
    (w, v), (dw, dv) = ft.jvp(pair, (x,), (t,))
    cw = rng.normal(size=dw.shape) + 1j * rng.normal(size=dw.shape)
    cv = rng.normal(size=dv.shape) + 1j * rng.normal(size=dv.shape)
    cv[0, :, :2] = 0.0   # (the tied columns: no derivative)
    (ct,) = ft.vjp(pair, x)[1]((cw, cv))
    assert np.all(np.isfinite(ct))
    rhs = np.real(np.sum(cw * dw) + np.sum(cv[1] * dv[1]) + np.sum(cv[0, :, 2] * dv[0, :, 2]))
    np.testing.assert_allclose(np.sum(ct * t), rhs, rtol=1e-12)


def test_eig_under_vmap():
    # vmap of a stack's second derivative over a batch of stacks: each as that stack alone
    nest = _NESTINGS["fwd(rev)"]
    xs = np.stack([_EIG_STACKS["tied"], _EIG_STACKS["defective"]])
    got = np.asarray(ft.vmap(nest(_EIG["Re V"]))(xs))
    for k in range(2):
        want = np.asarray(nest(_EIG["Re V"])(xs[k]))
        np.testing.assert_array_equal(np.isnan(got[k]), np.isnan(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[k][fin], want[fin], rtol=1e-12, atol=1e-13)
        h = _per_matrix(got[k], None, xs[k].shape)
        np.testing.assert_array_equal(h[0, :, 1], 0.0)
        np.testing.assert_array_equal(h[1, :, 0], 0.0)


def test_eig_on_backends(backend):
    if backend.name == "array_api_strict":
        pytest.skip("array_api_strict has no eig")
    x = backend.asarray(_EIG_STACKS["tied"])
    for jac in (ft.jacrev, ft.jacfwd):
        got = jac(_EIG["Re V"])(x)
        assert backend.is_own(got)
        got = np.asarray(backend.to_numpy(got))
        np.testing.assert_array_equal(got[0, :, :, 1], 0.0)
        np.testing.assert_array_equal(got[1, :, :, 0], 0.0)
        want = np.asarray(jac(_EIG["Re V"])(_EIG_STACKS["tied"]))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-10, atol=1e-12)
