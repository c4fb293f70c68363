"""Session 54 (stats54): the gamma quantile's derivatives near the median below a = 50; vmap
of f.cdf with per-member degrees of freedom.

- gammaincinv / gammainccinv (gamma.ppf / isf) where 8 <= a < 50 and 1/4 <= q <= 3/4: the
  implicit-function form -(dP/da) / (dP/dx) took up x's rounding (eps a) as an absolute
  error ~eps in d2x/da2, which vanishes as 16/(405 a^3) at the median: 1.5e-12 relative off
  at (8, 1/2), 2.1e-11 at (10, 1/2), 1.2e-10 at (30, 1/2), 1.4e-9 at (49.9, 1/2); d2x/dadq
  up to 6e-14, d2x/dq2 3.3e-13 at (8, 0.4). Now session 53's series in 1/sqrt(a)
  (gamma_quantile_series) from a = 8, with up to 40 rows there (incomplete_grads, "the
  inverses near the median"): every first and second derivative within 7.1e-14 of mpmath
  at a = 8 and 1e-14 from a = 10 (60 digits, a in [1, 50], q in [1/4, 3/4]). On NumPy
  gammainc_da is no longer computed where the series replaces its tangent.
- vmap of f.cdf where dfn and dfd have one value per member and x several: special's
  _inc_beta got operands of different shapes (its primitives are shape-strict; eager NumPy
  broadcasting had hidden it) and raised (fuzz seed range 51060-51080; its other failure,
  pareto.logsf(1e300, 9.185) = -6344.9 where SciPy's underflowed sf gives -inf, is recorded
  by the harness).
- log_ndtr (norm.logcdf, logsf) on NumPy float64: each form on its own elements, in place;
  at 1e6 points ~7100 page faults a call (its temporaries passed glibc's 64 MiB trim
  threshold) -> 0, same bits (pinned here against the general path).
- t's cdf family on NumPy (special._inc_beta_on_numpy): stdtr's b = 1/2's lgamma once;
  same bits, a few % only.

Left: below a = 8 the implicit form (d2x/da2 at the median 1.2e-12 relative off at a = 6,
5.5e-13 at 5; the series converges too slowly there, its terms ~(4/a)^(n/2)); t.logcdf
over 1e5 points still ~1.9x SciPy's time: SciPy's betainc runs on 133k of the 100k elements
(the complement of the 75k above x = 1/2 decides the form, and 33k of those then take the
direct form too)."""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats

# (a, q, (x, dx/da, dx/dq, d2x/da2, d2x/dadq, d2x/dq2)): the root of P(a, x) = q, mpmath at 60
# digits (by findroot on gammainc; its derivatives by the implicit-function formulas with
# mp.diff's partials of P in a and the density's closed-form partials)
_ROOTS_BELOW_50 = [
    (8.0, 0.5, (7.669249442500804, 0.999662868078353, 6.9162901697370485,
                8.786397893316144e-05, 0.45410502053879254, 4.174279892284339)),
    (10.0, 0.25, (7.725886769523863, 0.8912304230129853, 8.385674005225347,
                  0.0056620235632942805, 0.5048081444703463, -11.59673242999572)),
    (10.0, 0.5, (9.668714614714132, 0.9997879018331384, 7.771659462593051,
                 4.388552851076881e-05, 0.4041672141648984, 4.177337821903847)),
    (12.0, 0.7, (13.54798063780887, 1.0767575377581704, 10.823026197910002,
                 -0.003282459422546376, 0.4213502762989042, 22.03022717158424)),
    (20.0, 0.4, (18.566979739542308, 0.9713501434214408, 11.029287588216418,
                 0.0007339252154126805, 0.29211490982575167, -2.837016590888388)),
    (30.0, 0.5, (29.66733313822123, 0.9999775157347847, 13.64021298711564,
                 1.516897423444244e-06, 0.23031432649522973, 4.185106233940048)),
    (40.0, 0.75, (44.06512887707108, 1.0535566943866401, 21.2383440358702,
                  -0.0006751948821704154, 0.24978851050657885, 51.848567089425444)),
    (49.0, 0.55, (49.548476239610004, 1.0090031799033585, 17.82723756688413,
                  -9.234313884162081e-05, 0.18118017246582055, 9.932128882929224)),
    (49.9, 0.5, (49.56706542130396, 0.9999919506876135, 17.63772839666076,
                 3.249556297062616e-07, 0.1781166236381305, 4.186590873027027)),
]


def _all_derivatives(fn, a, q):
    g = ft.grad(fn, argnums=(0, 1))(a, q)
    h = ft.hessian(fn, argnums=(0, 1))(a, q)
    return np.array([fn(a, q), g[0], g[1], h[0][0], h[0][1], h[1][1]], dtype=float)


@pytest.mark.parametrize("a, q, want", _ROOTS_BELOW_50)
def test_gamma_inverse_derivatives_near_the_median_below_50(a, q, want):
    got = _all_derivatives(special.gammaincinv, a, q)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    # (Q's root at 1 - q: the q slopes negated)
    got = _all_derivatives(special.gammainccinv, a, 1.0 - q)
    np.testing.assert_allclose(got * [1, 1, -1, 1, -1, 1], want, rtol=1e-13)


def test_gamma_inverse_series_edges_eager_jit_vmap():
    # (a below 8, at 8, between, at and above 50; q inside and outside [1/4, 3/4]: each
    # element its form, eager (where gammainc_da skips the series' elements) as vmap and
    # jit, and as the element alone: within 2 ulp, the series' sum over its rows in
    # another order for one element)
    a = np.array([7.99, 8.0, 8.0, 10.0, 25.0, 25.0, 49.9, 50.0, 300.0, 3.0])
    q = np.array([0.5, 0.5, 0.2, 0.25, 0.75, 0.8, 0.5, 0.4, 0.6, 0.5])
    g = ft.grad(lambda a, q: special.gammaincinv(a, q).sum(), argnums=(0, 1))
    eager = [np.asarray(v) for v in g(a, q)]
    for i in range(a.size):
        one = g(a[i:i + 1], q[i:i + 1])
        np.testing.assert_allclose([float(one[0][0]), float(one[1][0])],
                                   [eager[0][i], eager[1][i]], rtol=1e-15)
    dg = ft.grad(special.gammaincinv, argnums=(0, 1))
    for tr in (ft.vmap(dg), ft.jit(ft.vmap(dg))):
        got = tr(a, q)
        np.testing.assert_allclose(np.asarray(got[0]), eager[0], rtol=1e-15)
        np.testing.assert_allclose(np.asarray(got[1]), eager[1], rtol=1e-15)
    hess = ft.hessian(special.gammaincinv)
    h_eager = np.array([float(hess(ai, qi)) for ai, qi in zip(a, q)])
    h_vmap = np.asarray(ft.vmap(hess)(a, q))
    from functrans.backends.incomplete_grads import gamma_quantile_region
    mid = gamma_quantile_region(a, q)
    np.testing.assert_allclose(h_vmap[mid], h_eager[mid], rtol=1e-15)
    # (the implicit form outside: vmap's and eager's gammainc_da differ there, as before;
    # (25, 0.8): mpmath -0.0017172288283793498, eager 3.8e-14 off, vmap 1.5e-13)
    np.testing.assert_allclose(h_vmap[~mid], h_eager[~mid], rtol=2e-13)
    # (gamma.ppf's second derivative at (10, 1/2): mpmath)
    np.testing.assert_allclose(h_eager[1], 8.786397893316144e-05, rtol=1e-13)


def test_gamma_quantile_rows_by_a():
    # (the rows computed at first use up to the most needed: the first ones the same
    # whichever count was asked first; an element's count by its a)
    from functrans.backends import incomplete_grads as ig
    long = ig._gamma_quantile_coefficients(40)
    assert len(long) == 42 and ig._gamma_quantile_coefficients(22) is long
    assert ig._quantile_rows_for(8.0) == 40 and ig._quantile_rows_for(50.0) == 23
    assert ig._quantile_rows_for(1e12) == 7


def test_f_cdf_vmap_per_member_degrees_of_freedom():
    # (fuzz 51060-51080: vmap of f.cdf with x (2, 4), dfn and dfd (2,) raised "operands
    # could not be broadcast together")
    x = np.array([[1.12, 2.689, 1.596, -1.81], [1.13, 2.7, 1.6, 0.5]])
    n, m = np.array([5.04, 5.05]), np.array([0.3333, 0.3343])
    got = np.asarray(ft.vmap(stats.f.cdf)(x, n, m))
    want = np.stack([np.asarray(stats.f.cdf(x[i], n[i], m[i])) for i in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-15)
    g = ft.vmap(ft.grad(lambda x, n, m: stats.f.cdf(x, n, m).sum(), argnums=(1, 2)))(x, n, m)
    for i in range(2):
        gi = ft.grad(lambda n, m: stats.f.cdf(x[i], n, m).sum(), argnums=(0, 1))(n[i], m[i])
        np.testing.assert_allclose([float(g[0][i]), float(g[1][i])],
                                   [float(gi[0]), float(gi[1])], rtol=1e-14)


def test_log_ndtr_numpy_path_same_bits_as_staged():
    # (norm.logcdf / log_ndtr on NumPy float64: each form on its own elements, in place;
    # the general path's values, as vmap runs it; the operand never written)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(300) * 3, rng.standard_normal(50) * 30,
                        [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0, np.nextafter(-1.0, 0.0),
                         np.nextafter(-1.0, -2.0), -1e-300, -40.0, -1e155, -1e300, 37.0]])
    keep = x.copy()
    with np.errstate(all="ignore"):
        eager = np.asarray(special.log_ndtr(x))
        batched = np.asarray(ft.vmap(special.log_ndtr)(x))
        np.testing.assert_array_equal(eager, batched)
        np.testing.assert_array_equal(np.asarray(stats.norm.logcdf(x)), eager)
        np.testing.assert_array_equal(np.asarray(stats.norm.logsf(-x)), eager)
        two = x[:300].reshape(20, 15)[:, ::2]   # (not contiguous)
        np.testing.assert_array_equal(np.asarray(special.log_ndtr(two)),
                                      np.asarray(ft.vmap(special.log_ndtr)(two)))
    np.testing.assert_array_equal(x, keep)
    assert np.asarray(special.log_ndtr(np.zeros((0, 2)))).shape == (0, 2)
    assert float(special.log_ndtr(np.array([-40.0]))[0]) == pytest.approx(
        -804.6084420137538, rel=1e-15)
