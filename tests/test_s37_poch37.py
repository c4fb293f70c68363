"""Session 37, helper poch37: poch's cost back (one Stirling evaluation for the large and the
small-m arguments, both-pole points through the same code, branches gated, the overflow rule's
value run at evaluation under jit) and poch beside its poles: every gamma function of an
argument below 1/2 reflected, its sine a factor F (value exp(E) F), whose slopes do not cancel
beside the poles as the log form's E'' + E'^2 did; small m accurate for every z; d/dm at m = 0.

References: mpmath at 50+ digits, rf(z, m) = Gamma(z + m) / Gamma(z), d/dz = poch (psi(z + m)
- psi(z)), d/dm = poch psi(z + m), the second derivatives poch (E_i E_j + E_ij) (precision
raised by -log10|m| digits for tiny m).
"""
import math
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

inf = np.inf


def _all_six(z, m, dtype=np.float64):
    """[value, d/dz, d/dm, d2/dz2, d2/dzdm, d2/dm2] of poch at (z, m)."""
    zz, mm = np.asarray(z, dtype), np.asarray(m, dtype)
    g = ft.grad(fsp.poch, (0, 1))(zz, mm)
    h = ft.hessian(fsp.poch, (0, 1))(zz, mm)
    return [float(fsp.poch(zz, mm)), float(g[0]), float(g[1]), float(h[0][0]),
            float(h[0][1]), float(h[1][1])]


# (z, m): [value, d/dz, d/dm, d2/dz2, d2/dzdm, d2/dm2] (mpmath); the largest relative error
# before, where it was above 1e-12
_POINTS = {
    # small m below z = -9 (reflected): d/dz 4e-5, 1e-5, 1e-10 off; just above z = 10 with
    # z + m below it: 8e-4; at a half-integer: d2/dz2 0.1
    (-10.3, 1e-12): (1.0000000000046625, 1.4986887065826927e-11, 4.662403493618812,
                     6.882898861196699e-11, 14.986887065931217, 36.72489340306889),
    (-1e4 - 0.3, 1e-12): (1.000000000011493, 1.5079313711059595e-11, 11.49292103785329,
                          6.883754370649928e-11, 15.079313711267318, 147.1665476919067),
    (-20.25, -3e-7): (0.9999981477319114, -5.907291082377249e-06, 6.1742182899837665,
                      -3.720666170994081e-05, 19.690915198282013, 57.81199377401407),
    (10.0 + 1e-13, -1e-12): (0.9999999999977482, -1.0516633568145336e-13, 2.251752589061556,
                             1.1049834970789175e-14, 0.10516633568122208, 5.175556058038297),
    (-9.5, 1e-12): (1.000000000002303, 9.769687445052726e-12, 2.30300103431276,
                    -9.975144054883253e-15, 9.76968744507522, 15.073501209086148),
    # beside the poles of Gamma(z) (and of Gamma(z + m)): d2/dz2 7e13 (!), 3e-3, 5e-7, 2e-7,
    # 4e-13, 2e-11 off; d/dz of the polynomial z (z + 1) 0.1 off
    (-12 + 1e-14, 2.0): (131.99999999999974, -22.99999999999998, -1.238489897526853e+16, 2.0,
                         1.1620130502092102e+30, 2.324026100418358e+30),
    (-3 + 1e-14, 5.7): (-9.466500771155005e-14, -9.268115075103477, -7.54274848369801e-14,
                        8.514329997562916, -7.3846781001156, -1.0243468435029175e-13),
    (-1 + 1e-10, 2.5): (-8.862269987452682e-11, -0.8862269253842892, -3.2338400206171503e-12,
                        0.6846889283650319, -0.03233839761207598, -8.296269759207882e-11),
    (1e-10, -7.2): (7.067697588895971e-14, 0.0007067697593803191, 4.499262618741905e-13,
                    0.009814442395171562, 0.004499262623875671, 4.874061814418782e-12),
    (-2 + 1e-8, -3 + 3e-5 - 1e-8): (-5.555839838479e-06, -555.3987969157566,
                                    0.1851851818467914, 37025715.942298666,
                                    18506172.447515756, -12345.678823149703),
    (-3 + 1e-6, 0.3): (5.586483461682928e-06, 5.586470212818904, -6.230785782298617e-06,
                       -26.49606917610592, -6.230688496923033, 8.945788581761003e-05),
    # z + m rounds onto the pole -1 (the two-sum error), and Stirling's series for two large
    # reflected arguments (3e-12 off)
    (0.3, -1.3): (6021722575552794.0, 1.0847771018955228e+32, 1.0847771018955227e+32,
                  3.9083214015013786e+48, 3.9083214015013786e+48, 3.908321401501378e+48),
    (-1e4 - 0.3, 3.7): (536515876753829.2, -1772453185432704.5, 4393681421574724.5,
                        3619423875087263.5, -8660949411697770.0, 4.183528423129693e+16),
}


@pytest.mark.parametrize("point", list(_POINTS), ids=str)
def test_poch_beside_poles_and_small_m_vs_mpmath(point):
    np.testing.assert_allclose(_all_six(*point), _POINTS[point], rtol=2e-14, atol=0)


def test_poch_near_poles_in_float32():
    # computed in float64 and rounded once: float32's own exp overflowed in the slopes below
    # float32's largest value (grad was (nan, inf) for (4.4e37, inf): d/dm is 4.8e38)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        z, m = np.float32(46.970428466796875), np.float32(21.67700958251953)
        g = ft.grad(fsp.poch, (0, 1))(z, m)
    assert fsp.poch(z, m).dtype == np.float32 and g[0].dtype == np.float32
    assert abs(float(g[0]) / 4.3593e37 - 1) < 1e-4 and float(g[1]) == inf
    # beside a pole: the float64 reference rounded
    got = _all_six(np.float32(-3 + 1e-3), np.float32(5.7), np.float32)
    z64 = float(np.float32(-3 + 1e-3))
    want = _all_six(z64, float(np.float32(5.7)))
    np.testing.assert_allclose(got, want, rtol=3e-7)
    assert abs(z64 + 3) > 0  # (not the pole itself)


def test_poch_slopes_at_m_zero():
    # poch(z, 0) = 1 for every z, but d/dm is digamma(z) (was 0), d2/dm2 psi' + psi^2
    psi3, psi1_3 = 0.9227843350984671, 0.39493406684822643
    g = ft.grad(fsp.poch, (0, 1))(3.0, 0.0)
    assert [float(v) for v in g] == [0.0, pytest.approx(psi3, rel=1e-15)]
    h = np.array(ft.hessian(fsp.poch, (0, 1))(3.0, 0.0), dtype=float)
    np.testing.assert_allclose(h, [[0.0, psi1_3], [psi1_3, psi1_3 + psi3 ** 2]],
                               rtol=1e-15, atol=0)
    jg = ft.jit(ft.grad(fsp.poch, (0, 1)))(np.asarray(3.0), np.asarray(0.0))
    assert float(jg[1]) == pytest.approx(psi3, rel=1e-15)
    # the value 1 itself, also where the formula is not finite (z = +-inf, a pole)
    np.testing.assert_array_equal(fsp.poch(np.array([3.0, inf, -3.0, -inf, np.nan]), 0.0),
                                  [1.0, 1.0, 1.0, 1.0, np.nan])


def test_poch_both_poles_through_the_common_code():
    # z and z + m at poles: (-1)^m poch(1 - z - m, m), the polynomial z (z + 1) ... there;
    # d/dz of z (z + 1) at -3 is -5, of z (z + 1) (z + 2) at -4 is 26 (3 z^2 + 6 z + 2)
    assert float(fsp.poch(-3.0, 2.0)) == 6.0
    assert float(fsp.poch(-4.0, 3.0)) == pytest.approx(-24.0, rel=4e-16)
    assert float(ft.grad(fsp.poch)(-3.0, 2.0)) == pytest.approx(-5.0, rel=1e-14)
    assert float(ft.grad(fsp.poch)(-4.0, 3.0)) == pytest.approx(26.0, rel=1e-14)
    assert float(ft.grad(ft.grad(fsp.poch))(-4.0, 3.0)) == pytest.approx(-18.0, rel=1e-14)
    # the edges as before: 0 where only z is a pole, inf where only z + m is
    np.testing.assert_array_equal(fsp.poch(np.array([-3.0, 0.5]), np.array([0.5, -1.5])),
                                  [0.0, inf])


def _mix():
    rng = np.random.default_rng(37)
    z = np.concatenate([rng.uniform(0.1, 30, 12), rng.uniform(-8, 8, 12),
                        rng.uniform(10, 300, 12), rng.uniform(-20, 20, 12),
                        [-3 + 1e-9, -2.5, 0.3, -4.0]])
    m = np.concatenate([rng.uniform(-0.2, 0.2, 12), rng.uniform(-5, 5, 12),
                        rng.uniform(-5, 50, 12), rng.uniform(-20, 20, 12),
                        [2.0, 1e-12, -1.3, 3.0]])
    return z, m


def test_poch_eager_as_jit_and_each_point_alone():
    z, m = _mix()
    vh = ft.vmap(ft.hessian(fsp.poch, (0, 1)))
    eager = np.array(vh(z, m), dtype=float)
    np.testing.assert_allclose(np.array(ft.jit(vh)(z, m), dtype=float), eager, rtol=1e-13,
                               atol=0)
    for i in range(0, len(z), 5):  # (each alone takes only its own branches)
        alone = np.array(ft.hessian(fsp.poch, (0, 1))(z[i], m[i]), dtype=float)
        np.testing.assert_allclose(alone, eager[:, :, i], rtol=1e-13, atol=0)
    np.testing.assert_allclose(fsp.poch(z, m), [float(fsp.poch(a, b)) for a, b in zip(z, m)],
                               rtol=1e-14, atol=0)


def test_poch_staged_hessian_size():
    # jit(vmap(hessian(poch))) staged 4341 equations at the end of session 36 (906 before
    # it), now ~2070: the large and small-m branches share one Stirling evaluation, the
    # overflow rule's value is one equation run at evaluation
    z, m = _mix()
    graph = ft.make_graph(ft.vmap(ft.hessian(fsp.poch, (0, 1))))(z, m)
    assert len(graph.eqns) < 2600


def test_poch_overflow_rule_under_jit_still_signed_infinities():
    # the rule's value now a linear_call run at evaluation: where it holds, its values;
    # where nothing overflows, zeros at once (the same values as eagerly)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        z, m = np.array([200.3, 0.5, 3.7]), np.array([300.7, 200.3, 2.1])
        f = ft.jit(ft.vmap(ft.hessian(fsp.poch, (0, 1))))
        h = np.array(f(z, m), dtype=float)
        eager = np.array(ft.vmap(ft.hessian(fsp.poch, (0, 1)))(z, m), dtype=float)
    assert (h[:, :, :2] == inf).all()
    np.testing.assert_allclose(h[:, :, 2], eager[:, :, 2], rtol=1e-14)
    small = np.array(f(np.array([3.7, 5.5]), np.array([2.1, -1e-12])), dtype=float)
    assert np.isfinite(small).all()


@pytest.mark.parametrize("point", [(-10.3, 1e-12), (-3 + 1e-6, 0.3), (-2.5, 1.3)], ids=str)
def test_poch_backends(backend, point):
    # the reflected forms use only the standard (array-api-strict), on every backend
    want = _POINTS.get(point)
    z, m = backend.asarray(point[0]), backend.asarray(point[1])
    v = fsp.poch(z, m)
    assert backend.is_own(v)
    g = ft.grad(fsp.poch, (0, 1))(z, m)
    h = ft.hessian(fsp.poch, (0, 1))(z, m)
    got = [float(backend.to_numpy(x)) for x in (v, g[0], g[1], h[0][0], h[0][1], h[1][1])]
    if want is None:
        want = _all_six(*point)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_poch_random_sweep_vs_mpmath():
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(3737)
    zs = np.concatenate([rng.uniform(-30, 0.5, 6), -rng.integers(0, 20, 6) + 10.0 ** -rng.
                         uniform(3, 13, 6) * rng.choice([-1, 1], 6)])
    ms = np.concatenate([rng.uniform(-12, 12, 6), rng.uniform(-7, 7, 6)])
    for z, m in zip(zs, ms):
        with mpmath.workdps(50):
            zz, mm = mpmath.mpf(float(z)), mpmath.mpf(float(m))
            v = mpmath.rf(zz, mm)
            a = mpmath.psi(0, zz + mm) - mpmath.psi(0, zz)
            b = mpmath.psi(0, zz + mm)
            want = [float(x) for x in (v, v * a, v * b, v * (a * a + mpmath.psi(1, zz + mm)
                                                             - mpmath.psi(1, zz)),
                                       v * (a * b + mpmath.psi(1, zz + mm)),
                                       v * (b * b + mpmath.psi(1, zz + mm)))]
        np.testing.assert_allclose(_all_six(z, m), want, rtol=1e-13, atol=0,
                                   err_msg=f"poch({z!r}, {m!r})")
    assert math.isfinite(float(fsp.poch(-30.2, 12.0)))


def test_binom_overflow_rule_jit_as_eager():
    # the rule's value staged as one linear_call (binom's both and Stirling branches share
    # it): jit gives the eager signed infinities (s36's points: the both branch, Stirling's)
    n = np.array([-3000.3740483886136, 1199.7850128421717])
    k = np.array([340.9859044234797, 495.54624438480926])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        h = ft.hessian(fsp.binom, (0, 1))
        eager = np.array(ft.vmap(h)(n, k), dtype=float)
        staged = np.array(ft.jit(ft.vmap(h))(n, k), dtype=float)
    np.testing.assert_array_equal(staged, eager)
    assert np.isinf(eager).all()
    assert np.array_equal(np.sign(eager[:, :, 0]), [[1, -1], [-1, -1]])


def test_poch_overflowing_below_zero_and_large_negative_z():
    # z + m < 0 where the value overflows: the rule of _exp_product there too (mpmath:
    # poch(-200.5, 200) = 1.1e375, d/dz -inf, every second derivative +inf; the
    # derivatives were nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = ft.grad(fsp.poch, (0, 1))(-200.5, 200.0)
        h = np.array(ft.hessian(fsp.poch, (0, 1))(-200.5, 200.0), dtype=float)
    assert [float(v) for v in g] == [-inf, inf]
    assert (h == inf).all()
    # no gamma function of a large negative argument (SciPy's trigamma there takes time
    # proportional to it: this hessian did not return): sin(pi z) / sin(pi (z + m))
    # Gamma(1 - z) / Gamma(1 - z - m) in mpmath
    z, m = -1e12 - 0.5, 3.25
    np.testing.assert_allclose(float(fsp.poch(z, m)), -1.4142135623702224e+39, rtol=1e-14)
    np.testing.assert_allclose([float(v) for v in ft.grad(fsp.poch, (0, 1))(z, m)],
                               [-4.4428829381447456e+39, -4.351904774243031e+40], rtol=1e-14)
    assert np.isfinite(np.array(ft.hessian(fsp.poch, (0, 1))(z, m), dtype=float)).all()
