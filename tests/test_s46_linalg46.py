"""Session 46, linalg46: the cost of session 45's tie forms, near ties, svdvals at a zero
singular value.

- eigh's (and real square svd's) eigenvector map's transpose ("vecs_embed") is
  differentiated in one form for every column where ties may be (staged, vmap, eager ties):
  the rule's rotation within a tied cluster cancelled in pairs, the reciprocal gaps masked
  to the cotangent's read columns. Pinned here: it equals the plain rule away from ties
  (jit against eager, the dot-product identity of the Hessian). svd's map is differentiated
  in U's basis; its zero-matrix nan is the map's own (no staged masks).
- Near a tie (values within sqrt(eps) of each other) eager second derivatives take the tie
  forms, as jit does: svd's simple singular vector beside singular values 1e-15 apart was
  0.03 off (jacfwd(jacfwd), jacrev(jacfwd)); eigh's alike (test_s45's former strict xfail).
- svdvals (svd's S) at an exactly zero singular value of a rectangular matrix, reverse over
  forward: the 1/s term's product was strong per entry in its transpose, so
  jacrev(jacfwd(sum(svdvals(x)**2))) at [[2, 0], [0, 0], [0, 0]] gave a silent 0 for 2
  (x_11, x_11); now 2, with NaN (as forward over reverse) in the entries of the directions
  that move the zero singular value's complement (the rule cannot see that the weight 2 s
  vanishes with s: the same values as a function that does not read s_1).
- Left (strict xfails): a complex or rectangular svd's simple singular vectors at a tie
  (the rectangular one passes since session 48, the complex one since session 50).
"""

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg


def _fd2(g, x, a, b, step=1e-4):
    return (g(x + step * a + step * b) - g(x + step * a - step * b)
            - g(x - step * a + step * b) + g(x - step * a - step * b)) / (4 * step * step)


def _second_differences(g, x):
    """Second central differences of g (values (...)): (..., x.shape, x.shape)."""
    basis = np.eye(x.size).reshape((x.size,) + x.shape)
    out = None
    for i, j in itertools.product(range(x.size), repeat=2):
        d = np.asarray(_fd2(g, x, basis[i], basis[j]))
        if out is None:
            out = np.zeros(d.shape + (x.size, x.size))
        out[..., i, j] = d
    return out.reshape(out.shape[:-2] + x.shape + x.shape)


def _signed(v, axis):
    """Columns (axis=-2) or rows (axis=-1) of v with their largest entry positive."""
    idx = np.argmax(np.abs(v), axis=axis)
    return v * np.sign(np.take_along_axis(v, np.expand_dims(idx, axis), axis))


# -- svdvals at a zero singular value: reverse over forward is nan, not a silent 0 ---------

@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("shape", [(3, 2), (2, 3)])
def test_svdvals_rev_fwd_at_a_zero_singular_value_is_nan_not_zero(shape, jit):
    x = np.zeros(shape)
    x[0, 0] = 2.0   # (singular values 2, 0)
    a = np.random.default_rng(4601).normal(size=shape)
    f = lambda m: fnp.sum(la.svdvals(m) ** 2)                            # noqa: E731
    h = ft.jacrev(ft.jacfwd(f))
    got = np.asarray((ft.jit(h) if jit else h)(x)).reshape(x.size, x.size)
    # (sum(s^2) = |x|^2: the Hessian is 2 I; x_11's diagonal entry was a silent 0, the
    # entries of the directions that move the zero singular value's complement are nan,
    # as fwd(rev)'s: the rule cannot see that the weight 2 s_1 vanishes with s_1)
    fin = np.isfinite(got)
    np.testing.assert_allclose(got[fin], 2.0 * np.eye(x.size)[fin], atol=1e-12)
    assert fin[1 * shape[1] + 1, 1 * shape[1] + 1] and not fin.all()
    assert not np.isfinite(np.asarray(ft.hessian(f)(x))).all()   # (fwd(rev): nan, as before)
    # a stack: the other matrix's block is its own Hessian, the cross blocks 0
    st = np.stack([x, a])
    g = np.asarray(h(st)).reshape(2, x.size, 2, x.size)
    np.testing.assert_array_equal(g[0, :, 1], 0.0)
    np.testing.assert_array_equal(g[1, :, 0], 0.0)
    np.testing.assert_allclose(g[1, :, 1], 2.0 * np.eye(x.size), atol=1e-12)


# -- near a tie, eagerly: the tie forms, as under jit ---------------------------------------

def test_svd_simple_vector_near_a_tie_eagerly():
    rng = np.random.default_rng(5)
    q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    r = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    x = q @ np.diag([3.0, 2.0, 2.0, 0.5]) @ r.T
    s = np.linalg.svd(x, compute_uv=False)
    assert s[1] != s[2] and s[1] - s[2] < 1e-13   # (the computed pair: apart by ulps)
    f = lambda m: la.svd(m)[0][..., 0]                                    # noqa: E731
    ref = lambda m: _signed(np.linalg.svd(m)[0], -2)[..., 0]              # noqa: E731
    want = _second_differences(ref, x)
    sign = np.sign(np.sum(ref(x) * np.asarray(f(x))))
    for h in (ft.jacfwd(ft.jacfwd(f)), ft.jacrev(ft.jacfwd(f))):
        # (0.03 off before: the plain rule's terms of size 1 / gap cancelled)
        np.testing.assert_allclose(np.asarray(h(x)) * sign, want, atol=2e-6)


# -- the single tie form = the plain rule away from ties -------------------------------------

_C = np.random.default_rng(4602).normal(size=(4, 3, 3))


def _f_eigh(m):
    w, v = la.eigh(m)
    return fnp.sum(v * _C[0]) + fnp.sum(w * _C[1, 0])


def _f_svd(m):
    u, s, vh = la.svd(m)
    return fnp.sum(u * _C[2]) + fnp.sum(vh * _C[3]) + fnp.sum(s * _C[1, 1])


@pytest.mark.parametrize("name", ["eigh", "svd"])
def test_tie_forms_equal_the_plain_rule_away_from_ties(name):
    f = {"eigh": _f_eigh, "svd": _f_svd}[name]
    rng = np.random.default_rng(4603)
    x = rng.normal(size=(2, 3, 3))
    if name == "eigh":
        x = x + np.swapaxes(x, -1, -2)
    # eagerly (no tie) the plain rules; under jit (ties may be) the tie forms
    eager = np.asarray(ft.hessian(f)(x))
    np.testing.assert_allclose(np.asarray(ft.jit(ft.hessian(f))(x)), eager, rtol=1e-9,
                               atol=1e-10)
    # the dot-product identity of the Hessian under jit: <u, H t> (hvp: the transposed
    # map's derivative) against <H^T u, t> (reverse over reverse: its transpose)
    t, u = rng.normal(size=(2,) + x.shape)
    hvp = ft.jit(lambda m, d: ft.jvp(ft.grad(f), (m,), (d,))[1])
    vjp = ft.jit(lambda m, c: ft.vjp(ft.grad(f), m)[1](c)[0])
    np.testing.assert_allclose(np.sum(u * np.asarray(hvp(x, t))),
                               np.sum(np.asarray(vjp(x, u)) * t), rtol=1e-10)
    # and at a stack with a tied matrix, the untied one's block as alone
    tied = np.diag([1.0, 1.0, 2.0])
    got = np.asarray(ft.jit(ft.hessian(f))(np.stack([x[0], tied])))[0, :, :, 0]
    np.testing.assert_allclose(got, np.asarray(ft.hessian(
        lambda m: f(fnp.stack([m, fnp.asarray(tied)])))(x[0])), rtol=1e-9, atol=1e-10)


# -- left: complex (and, until session 48, rectangular) svd's simple vectors at a tie --------

def test_rectangular_svd_simple_vector_at_a_tie():
    # (a strict xfail until session 48, all NaN: now the thin U through the svd_vecs map of
    # the square [x, 0], tests/test_s48_linalg48.py)
    x = np.eye(4, 3) * [2.0, 1.0, 1.0]
    f = lambda m: la.svd(m, full_matrices=False)[0][..., 0]               # noqa: E731
    ref = lambda m: _signed(np.linalg.svd(m, full_matrices=False)[0], -2)[..., 0]  # noqa
    np.testing.assert_allclose(np.asarray(ft.jacfwd(ft.jacfwd(f))(x)),
                               _second_differences(ref, x), atol=1e-6)


def test_complex_svd_simple_vector_at_a_tie():
    # (a strict xfail until session 50, NaN: now the svd_vecs map of a complex x, with U's
    # phase term in its derivative, tests/test_s50_linalg50b.py)
    c = np.random.default_rng(4604).normal(size=(3, 3, 2)) @ np.array([1.0, 1j])

    def ours(z):   # (a phase-invariant function: the projector u_0 u_0^H)
        u = la.svd(z[0] + 1j * z[1])[0][..., 0]
        return fnp.real(fnp.sum(u[:, None] * fnp.conj(u)[None, :] * c))

    def ref(z):
        u = np.linalg.svd(z[0] + 1j * z[1])[0][..., 0]
        return np.real(np.sum(np.outer(u, u.conj()) * c))
    z0 = np.stack([np.diag([2.0, 1.0, 1.0]), np.zeros((3, 3))])
    np.testing.assert_allclose(np.asarray(ft.jacfwd(ft.jacrev(ours))(z0)),
                               _second_differences(ref, z0), atol=1e-6)
