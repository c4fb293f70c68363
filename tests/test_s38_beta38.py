"""Session 38, helper beta38: beta and betaln beside the poles of Gamma(a), Gamma(b) and
1/Gamma(a + b), and the same code under jit.

Before: the exp(log|B|) form's second derivatives cancelled beside two poles (d2/da db
beta(-0.9999999999334163, -5.6e-11) was 1.3e24 for 2.26e20), a + b rounded onto a pole gave
betaln(-3.3, -0.7) = -inf (SciPy too; it is -32.24), SciPy's digamma beside a negative
integer loses eps / distance (d/da betaln(-1 + 1e-12, 2.5) 2.7e-5 off), the reflected product
beside a pole of a had slopes in b that cancelled (d2/db2 beta(-1 + 1e-12, 2.5) 3e-4 off), and
staged code (jit) kept the plain forms beside 0.

References: mpmath at 60 digits at the exact binary inputs: B = Gamma(a) Gamma(b) /
Gamma(a + b), L = log|B|, L_a = psi(a) - psi(a + b), L_ab = -psi'(a + b), L_aa = psi'(a) -
psi'(a + b), B_ij = B (L_i L_j + L_ij).
"""
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp



def _six(fn, a, b, transform=lambda f: f, dtype=np.float64):
    """[value, d/da, d/db, d2/da2, d2/dadb, d2/db2] of fn at (a, b)."""
    aa, bb = np.asarray(a, dtype), np.asarray(b, dtype)
    g = transform(ft.grad(fn, (0, 1)))(aa, bb)
    h = transform(ft.hessian(fn, (0, 1)))(aa, bb)
    return [float(transform(fn)(aa, bb)), float(g[0]), float(g[1]), float(h[0][0]),
            float(h[0][1]), float(h[1][1])]


def _reference(a, b):
    """([six of beta], [six of betaln]) by mpmath at 60 digits."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        a, b = mpmath.mpf(float(a)), mpmath.mpf(float(b))
        s = a + b
        B = mpmath.gamma(a) * mpmath.gamma(b) / mpmath.gamma(s)
        ps = mpmath.digamma(s)
        la, lb = mpmath.digamma(a) - ps, mpmath.digamma(b) - ps
        ts = mpmath.psi(1, s)
        laa, lbb, lab = mpmath.psi(1, a) - ts, mpmath.psi(1, b) - ts, -ts
        beta = [B, B * la, B * lb, B * (la * la + laa), B * (la * lb + lab), B * (lb * lb + lbb)]
        betaln = [mpmath.log(abs(B)), la, lb, laa, lab, lbb]
        return [float(x) for x in beta], [float(x) for x in betaln]


# beside two poles (the brief's), a + b rounded onto a pole, one argument beside -n with the
# other generic / small / huge, both beside poles, a + b beside a pole with neither argument
# near one, a small argument beside a negative or reflected one, past the recurrence's reach
# (-20), near the forms' seams (|e| = 1/10, x = 1/2). Largest relative error before (beta,
# betaln): 4e3, inf, 3e-4, 1e-5, 1.5e-7, 2.7e-5, ...
_POINTS = [(-0.9999999999334163, -5.6e-11), (-3.3, -0.7), (-1 + 1e-12, 2.5), (-1 - 1e-9, 2.5),
           (-2.5, 1e-10 - 0.5), (-1.5, -1.5 + 1e-12), (-1 + 1e-8, -1 + 1e-14),
           (5.3, -5.3 + 1e-10), (-2.2, 2.2 - 1e-11), (-1e-12, -2.5), (1e-10, -3 + 1e-10),
           (-7 + 1e-10, 20.5), (-3 + 1e-12, 1e6), (-20 + 1e-12, 1.5), (-1.7, 0.05),
           (-2 + 1e-13, -5.6e-11), (0.09, 0.45), (-0.1, 0.5), (-0.09, 0.11), (0.3, -0.3 + 1e-12),
           (-11.00000000271796, 8.53648200670791), (-4.999999999999331, -0.0003830151137536614),
           (-7.99999997984716, -0.0006948234770043876), (0.05, -4 + 1e-7)]


@pytest.mark.parametrize("point", _POINTS, ids=str)
def test_beta_betaln_beside_poles_vs_mpmath(point):
    want_beta, want_betaln = _reference(*point)
    np.testing.assert_allclose(_six(fsp.beta, *point), want_beta, rtol=2e-14, atol=0)
    np.testing.assert_allclose(_six(fsp.betaln, *point), want_betaln, rtol=2e-13, atol=0)


def test_betaln_mixed_slope_beside_a_pole_and_a_small_argument():
    # x nearer its pole than e is to 0: the mixed slope -psi'(a + b) is a difference of
    # terms e / dx and 1 / e^2 here, 1e-12 of its size (was 1.7e-6 with log|B| directly)
    point = (-3.0000000000015805, 0.002542368172834344)
    got = _six(fsp.betaln, *point)
    want = _reference(*point)[1]
    np.testing.assert_allclose(got[:4] + got[5:], want[:4] + want[5:], rtol=2e-15, atol=0)
    assert abs(got[4] / want[4] - 1) < 2e-11


def test_betaln_sum_rounded_onto_a_pole():
    # -3.3 + -0.7 rounds to -4: the pole's distance is the sum's rounding error
    want_beta, want_betaln = _reference(-3.3, -0.7)
    assert abs(float(fsp.betaln(-3.3, -0.7)) / want_betaln[0] - 1) < 1e-15
    assert abs(want_betaln[0] + 32.24) < 0.01
    assert abs(float(fsp.beta(-3.3, -0.7)) / want_beta[0] - 1) < 1e-15
    g = ft.grad(fsp.betaln, (0, 1))(-3.3, -0.7)
    np.testing.assert_allclose([float(g[0]), float(g[1])], want_betaln[1:3], rtol=1e-15)


def test_beta_edges_beside_the_new_forms_unchanged():
    # exact poles stay with the plain code's conventions
    assert float(fsp.beta(-3.0, 2.5)) == np.inf
    assert float(fsp.betaln(-2.5, -0.5)) == -np.inf  # (a + b = -3 exactly: B = 0)
    assert float(fsp.beta(-2.5, -0.5)) == 0.0
    assert float(fsp.beta(1e-3, -3.0)) == np.inf
    assert np.isnan(float(fsp.beta(np.nan, -2.9)))
    assert float(fsp.beta(-2.9, np.inf)) == -np.inf


def test_vmap_as_eager_and_jit_keeps_the_plain_forms():
    # eagerly under vmap each element takes its own form; staged (jit) code keeps the plain
    # forms (the near-pole forms staged cost every call: jit(vmap(grad(betaln))) 1.35x), so
    # jit agrees with eager at ordinary points and stays finite beside the poles
    a = np.array([-1e-12, -3.3, 2.5, -0.03, 1e-8, -0.9999999999334163, -1 + 1e-12, 0.7, 12.0])
    b = np.array([1.5, -0.7, 7.0, 0.08, 1e-9, -5.6e-11, 2.5, 3.5, 0.6])
    ordinary = [2, 7, 8]
    for d in (ft.hessian(fsp.beta, (0, 1)), ft.grad(fsp.betaln, (0, 1))):
        eager = np.array([np.array(d(x, y), dtype=float) for x, y in zip(a, b)])
        batched = np.moveaxis(np.array(ft.vmap(d)(a, b), dtype=float), -1, 0)
        np.testing.assert_allclose(batched, eager, rtol=1e-15, atol=0)
        staged = np.moveaxis(np.array(ft.jit(ft.vmap(d))(a, b), dtype=float), -1, 0)
        np.testing.assert_allclose(staged[ordinary], eager[ordinary], rtol=1e-13, atol=0)


def test_nested_vmap_beside_poles_keeps_batch_axes_apart():
    # a batched by the inner vmap, b by the outer, points of the shifted and reflected forms
    a = np.array([-1 + 1e-12, 2.5, -3.3, 0.05])
    b = np.array([2.5, -0.7, -2 - 1e-11])
    for fn in (fsp.beta, fsp.betaln):
        got = np.array(ft.vmap(ft.vmap(ft.grad(fn, (0, 1)), in_axes=(0, None)),
                               in_axes=(None, 0))(a, b), dtype=float)
        want = np.array([[np.array(ft.grad(fn, (0, 1))(x, y), dtype=float) for x in a]
                         for y in b])
        np.testing.assert_allclose(np.moveaxis(got, 0, -1), want, rtol=1e-15, atol=0)


def test_beta_beside_a_pole_float32():
    a, b = np.float32(-1 + 2 ** -20), np.float32(2.5)
    want = _reference(float(a), float(b))[0]
    assert fsp.beta(a, b).dtype == np.float32
    np.testing.assert_allclose(_six(fsp.beta, a, b, dtype=np.float32), want, rtol=2e-6, atol=0)


@pytest.mark.parametrize("point", [(-0.9999999999334163, -5.6e-11), (-3.3, -0.7)], ids=str)
def test_beta_beside_poles_backends(backend, point):
    a, b = backend.asarray(point[0]), backend.asarray(point[1])
    assert backend.is_own(fsp.beta(a, b))
    h = ft.hessian(fsp.beta, (0, 1))(a, b)
    got = [float(backend.to_numpy(h[i][j])) for i in range(2) for j in range(2)]
    want = _reference(*point)[0]
    np.testing.assert_allclose(got, [want[3], want[4], want[4], want[5]], rtol=1e-13, atol=0)
    lg = ft.grad(fsp.betaln, (0, 1))(a, b)
    np.testing.assert_allclose([float(backend.to_numpy(v)) for v in lg],
                               _reference(*point)[1][1:3], rtol=1e-14, atol=0)


def _binom_reference(n, k):
    """[value, d/dn, d/dk, d2/dn2, d2/dndk, d2/dk2] of Gamma(n + 1) / (Gamma(k + 1)
    Gamma(n - k + 1)) by mpmath (60 digits, numerical derivatives of the exact function)."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        n, k = mpmath.mpf(float(n)), mpmath.mpf(float(k))

        def f(n, k):
            return mpmath.gamma(n + 1) * mpmath.rgamma(k + 1) * mpmath.rgamma(n - k + 1)
        return [float(f(n, k))] + [float(mpmath.diff(f, (n, k), d))
                                   for d in ((1, 0), (0, 1), (2, 0), (1, 1), (0, 2))]


# k beside 1 (binom nearly linear in n: d2/dn2 was 1.9e-6, 1.2e-3, 1.4e-7, 4.6e-7, 8.5e-6,
# 4.6e-8 off), and n1 = n + 1 at 10 with k small (neither Stirling's pair nor the shift:
# 2.4e-10, d/dn 2.7e-10)
_BINOM = [(7.0, 1 - 1e-9), (4.0, 1 + 1e-12), (150.5, 1 - 1e-9), (-3.5, 1 + 1e-9),
          (-7.3, 1 - 1e-10), (0.7, 1 - 1e-9), (1e6 + 0.5, 1 - 1e-9), (9.0, 7.3e-6),
          (10.0, 1 + 7.2854571929e-6)]


@pytest.mark.parametrize("point", _BINOM, ids=str)
def test_binom_beside_k_one_vs_mpmath(point):
    want = _binom_reference(*point)
    np.testing.assert_allclose(_six(fsp.binom, *point), want, rtol=2e-13, atol=0)


def test_binom_beside_k_one_vmap_as_eager_and_jit_keeps_the_general_form():
    # eager vmap takes each element's form; staged (jit) code keeps the general form (the
    # recurrence staged cost jit(vmap(grad(binom))) 2.1x), so jit agrees with eager away
    # from k = 1 and within eps |binom| / n^2 beside it
    n = np.array([7.0, 3.3, 4.0, 150.5, -3.5, 9.0, 12.5])
    k = np.array([1 - 1e-9, 1.0, 1 + 1e-12, 1 - 1e-9, 1 + 1e-9, 7.3e-6, 3.5])
    h = ft.hessian(fsp.binom, (0, 1))
    eager = np.array([np.array(h(x, y), dtype=float) for x, y in zip(n, k)])
    batched = np.moveaxis(np.array(ft.vmap(h)(n, k), dtype=float), -1, 0)
    np.testing.assert_allclose(batched, eager, rtol=4e-15, atol=0)
    staged = np.moveaxis(np.array(ft.jit(ft.vmap(h))(n, k), dtype=float), -1, 0)
    np.testing.assert_allclose(staged[[1, 5, 6]], eager[[1, 5, 6]], rtol=4e-15, atol=0)
    assert np.all(np.isfinite(staged))


def test_binom_beside_k_one_values_unchanged():
    # the value keeps its form (the product's for whole k, else the general one): only the
    # slopes come from the recurrence
    assert float(fsp.binom(7.0, 1.0)) == 7.0
    want = _binom_reference(7.3, 1 + 1e-9)[0]
    assert abs(float(fsp.binom(7.3, 1 + 1e-9)) / want - 1) < 2e-15  # (the general form: 1.3e-15)
    assert np.isnan(float(fsp.binom(-3.0, 1 + 1e-9)))


# n - k + 1 rounded beside a pole of Gamma(n - k + 1): its rounding error decides the value
# (was 0 for 1.1e-7, 100 % off, 8.9e-5, 8.9e-8 off)
@pytest.mark.parametrize("point", [(-1 + 1e-9, 1 + 1e-9), (-2.5, 0.5 + 2 ** -52),
                                   (1e-12, 3.0), (1e-12, 1 + 1e-9)], ids=str)
def test_binom_beside_a_pole_of_n_minus_k_plus_1(point):
    want = _binom_reference(*point)
    got = _six(fsp.binom, *point)
    np.testing.assert_allclose(got[:3], want[:3], rtol=4e-15, atol=0)
