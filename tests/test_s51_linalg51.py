"""Session 51, helper linalg51: the svd's thin factor (a tall x's U, a wide one's V) at ties,
under jit and vmap, real and complex.

- The thin factor's tangent is now formed from the square one's (the "svd_vecs" map):
  U = x V S^-1, so dU = (t V + x dV - U diag(Re diag(U^H t V))) S^-1, column j reading
  column j of V, dV and U alone (primitives/linalg.py, _thin_factor_tangent). A simple
  singular value's vector beside a tie has the second derivatives of the map (eigh's
  _cluster_free), where the rule's products gave NaN in every entry: under jit (test_s48's
  strict xfail), vmap, and a tall complex x's thin U (test_s50_linalg50b's strict xfail;
  its phase term comes with the form: U^H dU's diagonal is i Im(dP_jj) / s_j, V's map's 0).
  Session 48's map of the square [x, 0] (m x m products, eager ties only) is gone.
- strong_product(cols=True): x @ y without the terms j where x's column j or y's row j is
  0, in its derivatives and transposes too: t V's transpose c V^H, differentiated, meets
  V's tied columns' nan with a cotangent's unread columns' 0.
- A zero singular value (rank-deficient tall x): its thin vector nan where t moves the
  matrix (as before), the others' second derivatives right under jit too; jit's first
  derivatives had nan in every column there (144 of 144 entries of jacrev(U)), now in that
  vector's column only (48), as eager.
- A complex x under jit: the maps (and the thin form) only where the singular values hold
  a tie, a near tie or a zero (a lax.cond on _staged_may_tie, eager's choice), the plain
  products of no tie elsewhere: u_0 u_0^H / v_0 v_0^H beside a tie were nan in every
  entry under jit (test_s50_linalg50b's last strict xfail), now central differences'.
- Distinct singular values below ~2e-7 s_max (their squares within 64 n eps of s_max^2)
  were taken for a tie in the map's derivative (eigh's map of x x^T, ties judged on
  w = s^2): nan second derivatives of u_1 at (1, 2e-8, 1e-8); now judged on s (the
  "vecs" kinds' ties_by operand), mpmath's to 1e-9 of the Hessian's scale.
- Cost (medians of interleaved runs vs base): square real stacks unchanged; tall/wide
  real 8 x 64 x 8 jit(grad) 0.89x, jit(hvp) 0.92-0.94x, vmap(hvp) 0.82x (one m x n x n
  product where the rule's complement term took two; a zero singular value's masks
  behind a lax.cond); complex 8 x 16 x 16 jit(hvp) 0.85x, tall/wide 0.79-0.85x (the
  plain products of no tie).
- Left: nothing of these three; see the notes in primitives/linalg.py for the ties'
  design (tied vectors and a zero singular value's thin vector stay nan).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.primitives.linalg as pl

from ._reference import SECOND_ORDER, second_differences, second_differences_once
from .test_s50_linalg50b import _projector_fn

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg

NESTINGS = SECOND_ORDER


def _diag(m, n, s):
    d = np.zeros((m, n))
    d[range(len(s)), range(len(s))] = s
    return d


def _thin_vector(tall, k):
    """(ours, NumPy's with a fixed sign): a tall x's U[:, k] or a wide one's Vh[k]."""
    def ours(x):
        r = la.svd(x, full_matrices=False)
        return r[0][..., k] if tall else r[2][..., k, :]

    def ref(x):
        r = np.linalg.svd(x, full_matrices=False)
        w = r[0][..., k] if tall else r[2][..., k, :]
        return w * np.sign(w[np.argmax(np.abs(w))])
    return ours, ref


def _want(key, ref, x):
    return second_differences_once(("s51", key), ref, x)


@pytest.mark.parametrize("nesting", sorted(NESTINGS))
@pytest.mark.parametrize("tall", [True, False], ids=["tall U", "wide Vh"])
def test_thin_vector_beside_a_tie_jit_and_eager(tall, nesting):
    # (jit: all nan on base in every nesting; eager: the [x, 0] map's, kept)
    x = _diag(4, 3, [2.0, 1.0, 1.0])
    x = x if tall else x.T.copy()
    ours, ref = _thin_vector(tall, 0)
    want = _want(("tie", tall), ref, x)
    sign = np.sign(np.sum(ref(x) * np.asarray(ours(x))))
    h = NESTINGS[nesting](ours)
    for fn in (h, ft.jit(h)):
        np.testing.assert_allclose(np.asarray(fn(x)) * sign, want, rtol=0, atol=1e-6)


def test_thin_vector_beside_a_tie_vmap():
    # (a stack of the tied tall matrix and a generic one, each its own Hessian; base: nan)
    ours, ref = _thin_vector(True, 0)
    x0 = _diag(4, 3, [2.0, 1.0, 1.0])
    x1 = np.random.default_rng(5101).normal(size=(4, 3))
    got = np.asarray(ft.vmap(ft.jacfwd(ft.jacrev(ours)))(np.stack([x0, x1])))
    np.testing.assert_allclose(got[0], _want(("tie", True), ref, x0), rtol=0, atol=1e-6)
    sign = np.sign(np.sum(ref(x1) * np.asarray(ours(x1))))
    np.testing.assert_allclose(got[1] * sign, second_differences(ref, x1), rtol=0, atol=1e-5)


def test_thin_vector_beside_a_tie_jit_on_backends(backend):
    # (the thin form on array-api-strict and torch under jit: base nan, every entry)
    ours, ref = _thin_vector(True, 0)
    x = _diag(4, 3, [2.0, 1.0, 1.0])
    got = ft.jit(ft.jacfwd(ft.jacrev(ours)))(backend.asarray(x))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), _want(("tie", True), ref, x),
                               rtol=0, atol=1e-6)


def _projector(m, n, which, seed=51):
    """(ours, ref): Re sum(c * w w^H), w = u_0 (which 0) or v_0 (which 1): test_s50_linalg50b's."""
    return _projector_fn(m, n, which, seed)


@pytest.mark.parametrize("nesting", sorted(NESTINGS))
def test_tall_complex_thin_u_beside_a_tie(nesting):
    # (u_0 u_0^H of diag(2, 1, 1) in 4 x 3, complex: nan in every nesting on base)
    ours, ref = _projector(4, 3, 0)
    z = np.stack([_diag(4, 3, [2.0, 1.0, 1.0]), np.zeros((4, 3))])
    got = np.asarray(NESTINGS[nesting](ours)(z))
    np.testing.assert_allclose(got, _want(("ctall", 0), ref, z), rtol=0, atol=1e-6)


def test_tall_complex_thin_u_beside_a_tie_vmap_and_backends(backend):
    ours, ref = _projector(4, 3, 0)
    z = np.stack([_diag(4, 3, [2.0, 1.0, 1.0]), np.zeros((4, 3))])
    want = _want(("ctall", 0), ref, z)
    if backend.name == "numpy":
        got = ft.vmap(ft.jacrev(ft.jacfwd(ours)))(z[None])[0]
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=1e-6)
    c = backend.asarray(ours.c, dtype="complex128")
    got = ft.jacfwd(ft.jacrev(lambda z: ours(z, c=c)))(backend.asarray(z))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=0, atol=1e-6)


def test_complex_thin_factors_are_the_plain_rule_away_from_ties():
    # (vmap takes the thin form, eager values without a tie the plain products: the same
    # Hessians, a tall x's U and a wide x's V, every nesting)
    rng = np.random.default_rng(5102)
    for m, n, which in ((4, 3, 0), (3, 4, 1)):
        z = rng.normal(size=(2, m, n))
        ours = _projector(m, n, which)[0]
        for nest in NESTINGS.values():
            plain = np.asarray(nest(ours)(z))
            thin = np.asarray(ft.vmap(nest(ours))(z[None]))[0]
            np.testing.assert_allclose(thin, plain, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("nesting", sorted(NESTINGS))
def test_rank_deficient_tall_under_jit(nesting):
    # singular values 2, 1, 0: u_1's second derivatives (base under jit: nan in fwd(rev),
    # rev(fwd), rev(rev)), u_2 (turning within the complement) nan in every entry
    x = _diag(4, 3, [2.0, 1.0, 0.0])
    ours, ref = _thin_vector(True, 1)
    sign = np.sign(np.sum(ref(x) * np.asarray(ours(x))))
    got = np.asarray(ft.jit(NESTINGS[nesting](ours))(x)) * sign
    np.testing.assert_allclose(got, _want(("rank", 1), ref, x), rtol=0, atol=1e-6)
    zero_vec = _thin_vector(True, 2)[0]
    assert np.all(np.isnan(np.asarray(ft.jit(NESTINGS[nesting](zero_vec))(x))))


def test_rank_deficient_first_derivatives_jit_as_eager():
    # (jit's jacrev of U had nan in all 144 entries; now the zero singular value's column
    # alone, as eager's, and the same finite values)
    x = np.stack([_diag(4, 3, [2.0, 1.0, 0.0]), np.random.default_rng(5103).normal(size=(4, 3))])
    u = lambda m: la.svd(m, full_matrices=False)[0]                       # noqa: E731
    for jac in (ft.jacfwd, ft.jacrev):
        eager = np.asarray(jac(u)(x))
        got = np.asarray(ft.jit(jac(u))(x))
        assert np.all(np.isnan(eager[0, :, 2, 0])) and np.isnan(eager).sum() == 48
        np.testing.assert_array_equal(np.isnan(got), np.isnan(eager))
        np.testing.assert_allclose(got, eager, rtol=1e-12, atol=1e-14)


def test_cols_product():
    # x @ y without the terms of x's zero columns (y's rows there nan) or y's zero rows;
    # the plain product for finite operands; its transposes alike (ct's zero columns)
    rng = np.random.default_rng(5104)
    x, y = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3, 5))
    cols = lambda a, b: pl.strong_product_p.bind(a, b, matrix=True, cols=True)  # noqa: E731
    np.testing.assert_allclose(np.asarray(cols(x, y)), x @ y, rtol=1e-15)
    xz, yn = x.copy(), y.copy()
    xz[0, :, 1] = 0.0
    yn[0, 1, :] = np.nan
    want = xz @ np.where(np.isnan(yn), 0.0, yn)
    np.testing.assert_array_equal(np.asarray(cols(xz, yn)), want)
    np.testing.assert_array_equal(np.asarray(cols(np.swapaxes(yn, -1, -2),
                                                  np.swapaxes(xz, -1, -2))),
                                  np.swapaxes(want, -1, -2))
    # (the transpose in x: ct @ y^T, 0 from a zero column of ct beside y's nan column)
    yt = np.swapaxes(yn, -1, -2)                                  # (2, 5, 3), nan column 1
    ct = rng.normal(size=(2, 4, 3))
    ct[0, :, 1] = 0.0
    got = ft.vjp(lambda a: cols(a, yt), rng.normal(size=(2, 4, 5)))[1](ct)[0]
    np.testing.assert_allclose(np.asarray(got), ct @ np.where(np.isnan(yn), 0.0, yn),
                               rtol=1e-14)
    # (the dot-product identity where both operands are finite)
    tx, ty = rng.normal(size=x.shape), rng.normal(size=y.shape)
    c = rng.normal(size=(2, 4, 5))
    _, jv = ft.jvp(cols, (x, y), (tx, ty))
    gx, gy = ft.vjp(cols, x, y)[1](c)
    np.testing.assert_allclose(np.sum(c * np.asarray(jv)),
                               np.sum(np.asarray(gx) * tx) + np.sum(np.asarray(gy) * ty),
                               rtol=1e-13)


# -- a complex x under jit: the maps where the singular values hold a tie or a zero ---------


def _ctied(m, n, s=(2.0, 1.0, 1.0)):
    return np.stack([_diag(m, n, s), np.zeros((m, n))])


@pytest.mark.parametrize("m, n, which", [(3, 3, 0), (3, 3, 1), (3, 4, 0), (3, 4, 1),
                                         (4, 3, 0), (4, 3, 1)])
def test_complex_simple_vector_beside_a_tie_under_jit(m, n, which):
    # (base: jit kept the rule's products for a complex x, all nan in every nesting)
    ours, ref = _projector(m, n, which)
    z = _ctied(m, n)
    want = _want(("cjit", m, n, which), ref, z)
    for nesting in ("fwd(rev)", "rev(fwd)") if m == n else ("fwd(rev)",):
        got = np.asarray(ft.jit(NESTINGS[nesting](ours))(z))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=nesting)


def test_complex_tie_under_jit_on_backends(backend):
    # (the staged predicate read on the backend's own arrays: strict's device, torch)
    ours, ref = _projector(3, 3, 0)
    c = backend.asarray(ours.c, dtype="complex128")
    z = _ctied(3, 3)
    got = ft.jit(ft.jacrev(ft.jacfwd(lambda z: ours(z, c=c))))(backend.asarray(z))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), _want(("cjit", 3, 3, 0), ref, z),
                               rtol=0, atol=1e-6)


def test_complex_jit_stack_and_generic_values():
    # one jit, two calls: a generic stack (the plain products, eager's values to 1e-13)
    # and the same stack with a tied matrix (the maps: that matrix's Hessian, 0 between)
    ours, ref = _projector(3, 3, 0)
    rng = np.random.default_rng(5105)
    gen = rng.normal(size=(2, 2, 3, 3))
    h = ft.jit(ft.vmap(ft.jacfwd(ft.jacrev(ours))))
    eager = np.asarray(ft.vmap(ft.jacfwd(ft.jacrev(ours)))(gen))
    np.testing.assert_allclose(np.asarray(h(gen)), eager, rtol=1e-12, atol=1e-13)
    tied = gen.copy()
    tied[0] = _ctied(3, 3)
    got = np.asarray(h(tied))
    np.testing.assert_allclose(got[0], _want(("cjit", 3, 3, 0), ref, tied[0]), rtol=0,
                               atol=1e-6)
    np.testing.assert_allclose(got[1], eager[1], rtol=1e-12, atol=1e-13)


def test_complex_rank_deficient_first_derivatives_under_jit():
    # (a zero singular value takes the maps too: jit's nan where eager's are, the same
    # finite values elsewhere)
    z = _ctied(4, 3, (2.0, 1.0, 0.0))
    u = lambda z: la.svd(z[0] + 1j * z[1], full_matrices=False)[0]       # noqa: E731
    eager = np.asarray(ft.jacfwd(u)(z))
    got = np.asarray(ft.jit(ft.jacfwd(u))(z))
    assert np.isnan(eager).sum() == 96
    np.testing.assert_array_equal(np.isnan(got), np.isnan(eager))
    np.testing.assert_allclose(got, eager, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("small", [1e-7, 1e-8])
def test_small_distinct_singular_values(small):
    # singular values (1, 2 small, small): distinct, but their squares within 64 n eps of
    # s_max^2, where the map's derivative judged ties (eigh's map of x x^T along
    # t dx^T + dx t^T, on w = s^2): u_1's second derivatives were nan in all 81 entries
    # (1e-7: under jit, eager's plain rule finite; 1e-8: both). Now they are judged on s:
    # the Hessian along (t1, t2) against mpmath's central difference (50 digits)
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(5106)
    q1, q2 = (np.linalg.qr(rng.normal(size=(3, 3)))[0] for _ in range(2))
    x = q1 @ np.diag([1.0, 2 * small, small]) @ q2.T
    c = rng.normal(size=(3, 3))
    t1, t2 = rng.normal(size=(2, 3, 3))

    def f(m):
        u = la.svd(m)[0][:, 1]
        return fnp.sum(u[:, None] * u[None, :] * c)

    def f_mp(m):
        u = mpmath.svd_r(m)[0]
        return sum(u[i, 1] * u[j, 1] * c[i, j] for i in range(3) for j in range(3))

    with mpmath.workdps(50):
        h = mpmath.mpf(small) * mpmath.mpf("1e-12")
        xm, a, b = (mpmath.matrix(v.tolist()) for v in (x, t1, t2))
        want = float((f_mp(xm + h * a + h * b) - f_mp(xm + h * a - h * b)
                      - f_mp(xm - h * a + h * b) + f_mp(xm - h * a - h * b)) / (4 * h * h))
    for nest in (NESTINGS["fwd(rev)"], NESTINGS["rev(fwd)"]):
        for fn in (nest(f), ft.jit(nest(f))):
            got = np.einsum("ijkl,ij,kl->", np.asarray(fn(x)), t1, t2)
            np.testing.assert_allclose(got, want, rtol=1e-7)
