"""Session 31 (special31): the incomplete-beta leftovers of functrans.scipy.special —
betaincinv's infinite shapes, beta / betaln at -inf and beside inf, the choice between
``I_x(a, b)`` and ``1 - I_(1-x)(b, a)`` at huge shapes (its log density was an lgamma
difference, meaningless there), and float32 operands of the beta-based functions."""

import warnings

import mpmath
import numpy as np
import pytest
from scipy import special as sc

import functrans as ft
import functrans.scipy.special as sp
from functrans.scipy.special import _log_beta_density_x

INF, NAN = np.inf, np.nan


def _values(backend, fn, *cols, dtype="float64"):
    out = fn(*[backend.asarray(np.asarray(c, dtype=dtype), dtype) for c in cols])
    assert backend.is_own(out)
    return backend.to_numpy(out)


def test_betaincinv_one_infinite_shape(backend):
    """Inside (0, 1) the quantile of a beta distribution with b = inf (a point mass at 0) is
    0, with a = inf 1: SciPy gives these where the other shape is 1 and nan elsewhere; they
    were nan here everywhere (betaincinv(1, inf, .5) nan where SciPy gives 0)."""
    a = [1.0, INF, 2.5, 0.3, INF, 1e300, INF, INF, INF, 2.0, 2.0, INF]
    b = [INF, 1.0, INF, INF, 0.3, INF, 7.0, INF, INF, INF, INF, INF]
    y = [0.5, 0.5, 0.3, 0.9, 0.3, 0.5, 1e-300, 0.5, 0.0, 0.0, 1.0, 1.0]
    want = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, NAN, 0.0, 0.0, 1.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _values(backend, sp.betaincinv, a, b, y)
        # (SciPy where it defines them: the shape-1 cases and the ends)
        ref = sc.betaincinv(a, b, y)
    np.testing.assert_array_equal(got, want)
    defined = ~np.isnan(ref)
    np.testing.assert_array_equal(got[defined], ref[defined])
    # constant there: zero derivatives in y and in the finite shape
    for point in ((2.5, INF, 0.3), (INF, 0.3, 0.3)):
        g = ft.grad(lambda a, b, y: sp.betaincinv(a, b, y), argnums=(0, 1, 2))(
            *(backend.asarray(v, "float64") for v in point))
        assert [float(backend.to_numpy(v)) for v in g] == [0.0, 0.0, 0.0]


def test_beta_and_betaln_at_infinities(backend):
    """SciPy's values at -inf (``inf``: no limit exists, its overflow) and for ``inf`` beside
    a zero or negative argument (``sign(Gamma(lo)) * inf``, ``inf`` at the poles); these
    were nan."""
    a = [-INF, -INF, 2.5, -INF, -2.5, -1.5, -0.5, INF, -3.0, 0.0, INF, 3.0]
    b = [2.5, -0.5, -INF, -INF, INF, INF, INF, -2.5, INF, INF, -4.0, INF]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_b, ref_l = sc.beta(a, b), sc.betaln(a, b)
    np.testing.assert_array_equal(_values(backend, sp.beta, a, b), ref_b)
    np.testing.assert_array_equal(_values(backend, sp.betaln, a, b), ref_l)
    # the signs: Gamma(-2.5) < 0 < Gamma(-1.5); B(3, inf) = 0
    assert list(np.sign(ref_b[4:7])) == [-1.0, 1.0, -1.0] and ref_b[-1] == 0.0
    # nan stays nan beside -inf (SciPy: inf); the finite neighbours keep their values
    out = _values(backend, sp.beta, [NAN, -INF, -2.5, 2.0], [-INF, NAN, 1.5, 3.0])
    assert np.isnan(out[:2]).all()
    np.testing.assert_allclose(out[2:], sc.beta([-2.5, 2.0], [1.5, 3.0]), rtol=1e-13)


def _mp_log_density(a, b, y):
    mpmath.mp.dps = 60
    a, b, y = (mpmath.mpf(v) for v in (a, b, y))
    x = 1 - y  # (the function reads y, precise; x only says x > 1/2)
    return float(a * mpmath.log(x) + (b - 1) * mpmath.log(y)
                 - (mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)))


def test_log_density_of_the_choice_at_huge_shapes():
    """``log(x^a y^(b-1) / B(a, b))`` (the choice's test quantity) against mpmath: the lgamma
    difference was -1004 (truth -781) at a = 3e16, -7.2e5 (-427) at 3e20, +4e16 (-436) at
    3e30; now within the rounding of ``x`` against the mean (``|z| eps sqrt(s p q)``, z the
    distance in standard deviations), also for a large shape beside a small one."""
    for a, b, zs in ((3e16, 1e16, (-40, -5)), (3e20, 1e20, (-30, -5)), (3e24, 1e24, (-12,)),
                     (1e20, 2.5, (-3e8, -30, -3)), (2.5, 1.5, (-1,)), (15.0, 4.0, (-2,))):
        p = a / (a + b)
        sd = np.sqrt(p * (1 - p) / (a + b))
        for z in zs:
            y = b / (a + b) - z * sd
            got = float(_log_beta_density_x(*(np.float64(v) for v in (a, b, 1.0 - y, y))))
            want = _mp_log_density(a, b, y)
            tol = 2e-16 * abs(z) * sd * (a + b) + 1e-12 * max(1.0, abs(want))
            assert abs(got - want) <= tol, (a, b, z, got, want)


def test_betaincc_tiny_at_huge_shapes(backend):
    """betaincc(b, a, y) = I_x(a, b) (x = 1 - y > 1/2) far below 1: the garbage log density
    took the subtraction 1 - I_y(b, a) = 1 - 1 = 0 (NumPy at a = 3e30, torch and strict at
    3e18: 0 for 4.9e-198 and 1.8e-33)."""
    cases = [(3e18, 1e18, -30), (3e18, 1e18, -12), (3e20, 1e20, -30)]
    if backend.name == "numpy":   # (generic: x's rounding dominates, sd ~ 2e-16)
        cases += [(3e30, 1e30, -30), (3e30, 1e30, -12)]
    a, b, y, cond = [], [], [], []
    for aa, bb, z in cases:
        p = aa / (aa + bb)
        sd = np.sqrt(p * (1 - p) / (aa + bb))
        x = p + z * sd
        a.append(aa), b.append(bb), y.append(1.0 - x)  # (exact: x + y = 1)
        cond.append(x * abs(z) / sd)  # (x I'/I: the relative effect of x's rounding)
    got = _values(backend, sp.betaincc, b, a, y)
    ref = sc.betainc(a, b, 1.0 - np.array(y))
    assert np.all((ref > 1e-210) & (ref < 1e-30))
    # (NumPy: SciPy's betainc at the same x; torch / strict: the generic one from y, within
    # the conditioning)
    tol = 1e-14 if backend.name == "numpy" else np.minimum(4e-16 * np.array(cond), 1e-3)
    assert np.all(np.abs(got / ref - 1.0) <= tol), (got, ref)


@pytest.mark.parametrize("name", ["betainc", "betaincinv", "stdtr", "fdtr", "bdtr"])
def test_float32_operands(backend, name):
    """float32 in, float32 out, within a few float32 roundings of the float64 value at the
    same (float32) operands: betainc and betaincinv now computed in float64 as the others
    (were SciPy's own float32 loops on NumPy, 8e-4 and 7e-5 off, and the generic series in
    float32 on torch, 1.2e-5 off); nan and inf operands give SciPy's float64 values
    rounded."""
    rng = np.random.default_rng(3)
    n = 24
    a = (10.0 ** rng.uniform(-1, 3, n)).astype(np.float32)
    b = (10.0 ** rng.uniform(-1, 3, n)).astype(np.float32)
    x = rng.uniform(0.01, 0.99, n).astype(np.float32)
    args = {"betainc": (a, b, x), "betaincinv": (a, b, x),
            "stdtr": (a, (3 * rng.normal(size=n)).astype(np.float32)),
            "fdtr": (a, b, 3 * x), "bdtr": (np.floor(a / 2), np.floor(a) + 1, x)}[name]
    args = tuple(np.asarray(v, np.float32) for v in args)
    special = np.array([NAN, INF, 0.0, 1.0], np.float32)
    grid = [g.ravel() for g in np.meshgrid(*([special] * len(args)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _values(backend, getattr(sp, name), *args, dtype="float32")
        edge = _values(backend, getattr(sp, name), *grid, dtype="float32")
        ref = getattr(sc, name)(*(v.astype(np.float64) for v in args))
        ref_edge = getattr(sc, name)(*(v.astype(np.float64) for v in grid)).astype(np.float32)
    assert got.dtype == np.float32 and edge.dtype == np.float32
    keep = np.abs(ref) > 1e-30
    np.testing.assert_allclose(got[keep], ref[keep], rtol=1e-6)
    np.testing.assert_array_equal(edge, ref_edge)
