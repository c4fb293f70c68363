"""The special functions SciPy dispatches through ``xp.special`` (``SCIPY_ARRAY_API=1``) that
functrans.scipy.special lacked before session 18: SciPy's distribution functions (``stdtr``,
``chdtr``, ``pdtr``, ``bdtr``... and ``betaincc``), the elementary ones (``cbrt``, ``sindg``...,
``exprel``, ``rgamma``, ``binom``, ``zetac``...) and the Bessel functions of integer order
(``j0``, ``j1``, ``y0``, ``y1``, ``yn``, ``k0``, ``k0e``, ``k1``, ``k1e``).

Their values against SciPy's on every backend, including SciPy's edge values (nan outside the
domains, integer arguments floored or truncated as SciPy does), with the few points where
functrans differs on purpose checked against the mathematics instead; closed-form derivatives
at the special points (the gradient table of tests/test_namespace_grads.py checks JVPs and
VJPs against finite differences to second order); and SciPy itself, run with
``SCIPY_ARRAY_API=1`` in a fresh interpreter, differentiating through them.
"""

from __future__ import annotations

import itertools
import math
import textwrap

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
from functrans.testing import check_grads

from .test_namespace_interop import _run_with_scipy_array_api

ss = pytest.importorskip("scipy.special")

_GRIDS = {
    # degrees of freedom and shapes (edges included)
    "v": [-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0, 2.7, 30.0, 1e3, np.inf, np.nan],
    # integer counts as SciPy sees them: floats floored or truncated
    "k": [-1.5, -1.0, -0.5, 0.0, 0.7, 1.0, 2.0, 2.5, 5.0, 30.0, np.inf, np.nan],
    # probabilities
    "p": [-0.1, 0.0, 1e-300, 1e-10, 0.3, 0.5, 0.9, 1 - 1e-12, 1.0, 1.5, np.nan],
    # real values
    "t": [-np.inf, -1e8, -30.0, -1.0, -1e-3, 0.0, 0.5, 3.0, 1e3, np.inf, np.nan],
}
# the inverses are slow where the backend has no library version: a smaller grid there
_SMALL = {"v": [-1.0, 0.0, 0.5, 2.7, 30.0, np.inf, np.nan],
          "k": [-1.0, -0.5, 0.0, 2.5, 5.0, np.inf, np.nan],
          "p": [-0.1, 0.0, 1e-10, 0.3, 0.9, 1.0, np.nan]}

DISTRIBUTIONS = {
    "betaincc": "vvp", "stdtr": "vt", "chdtr": "vv", "chdtrc": "vv", "gdtr": "vvv",
    "gdtrc": "vvv", "pdtr": "kv", "pdtrc": "kv", "fdtr": "vvv", "fdtrc": "vvv",
    "bdtr": "kkp", "bdtrc": "kkp", "nbdtr": "kkp", "nbdtrc": "kkp",
}
INVERSES = {"stdtrit": "vp", "chdtri": "vp", "pdtri": "kp", "fdtri": "vvp", "bdtri": "kkp",
            "nbdtri": "kkp"}


def _grid(kinds, grids):
    return np.array(list(itertools.product(*[grids[k] for k in kinds]))).T


def _compare(got, want, args, rtol, known=()):
    """``got`` against SciPy's ``want``: nan where it is nan, equal infinities, relative
    error at most ``rtol`` elsewhere; ``known`` (a mask) leaves out the points where
    functrans differs on purpose (tested separately)."""
    got = np.asarray(got, dtype=np.float64)
    keep = ~np.asarray(known, dtype=bool) if len(known) else np.ones(got.shape, bool)
    bad = ~np.isclose(got, want, rtol=rtol, atol=1e-300, equal_nan=True) & keep
    assert not bad.any(), (f"{bad.sum()} points differ (args, functrans, SciPy):\n"
                           + "\n".join(str(r) for r in np.c_[args[:, bad].T, got[bad],
                                                             want[bad]][:10]))


def _known(name, args):
    """Points where functrans's value differs from SciPy's on purpose (see the tests
    below): SciPy's at those is wrong or overflows."""
    if name == "stdtrit":
        # SciPy: +inf at p = 0 (the quantile there is -inf), and finite or +inf values
        # for tiny df or tiny p where the quantile overflows or is finite
        df, p = args
        return (p == 0.0) | (df < 1.0) | (p == 1e-300)
    if name == "chdtri":
        return args[0] == 0.0  # (v = 0 inside (0, 1): nan; SciPy 0 for some small p)
    if name == "fdtri":
        return args[1] < 1.0  # (tiny dfd: the quantile overflows, SciPy 9e299)
    if name == "nbdtri":
        # SciPy's root for k = 30, n = 1 near y = 1 is wrong (nbdtr of it is not y); tiny y:
        # betaincinv underflows (nan) where SciPy's cephes incbi does not
        k, n, y = args
        return ((k == 30.0) & (n == 1.0)) | (y == 1e-300)
    if name == "bdtri":
        # (y = 1 - 1e-12: the root is ill-conditioned there; both give bdtr(k, n, p) = y)
        return (args[2] == 1e-300) | (args[2] == 1 - 1e-12)
    return np.zeros(args.shape[1:], bool)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_distribution_functions_against_scipy(backend, name):
    args = _grid(DISTRIBUTIONS[name], _GRIDS)
    got = getattr(fsp, name)(*(backend.asarray(a) for a in args))
    assert backend.is_own(got)
    _compare(backend.to_numpy(got), getattr(ss, name)(*args), args, 1e-11)


@pytest.mark.parametrize("name", sorted(INVERSES))
def test_inverse_distribution_functions_against_scipy(backend, name):
    grids = _GRIDS if backend.name == "numpy" else _SMALL
    args = _grid(INVERSES[name], grids)
    got = getattr(fsp, name)(*(backend.asarray(a) for a in args))
    _compare(backend.to_numpy(got), getattr(ss, name)(*args), args, 1e-10,
             _known(name, args))


def test_where_functrans_differs_from_scipy_it_is_right():
    # stdtr of the Cauchy distribution (df = 1) near 0: 1/2 + atan(t)/pi (SciPy: 0.5000000047
    # at t = 1e-8)
    t = np.array([1e-8, -1e-8, 1e-3])
    np.testing.assert_allclose(fsp.stdtr(1.0, t), 0.5 + np.arctan(t) / np.pi, rtol=1e-15)
    # stdtrit at p = 0 is -inf; far in the tail the quantile is finite (SciPy: inf)
    assert fsp.stdtrit(3.0, 0.0) == -np.inf and fsp.stdtrit(3.0, 1.0) == np.inf
    q = float(fsp.stdtrit(2.7, 1e-300))
    assert np.isfinite(q) and q < -1e100
    # the negative binomial quantile: nbdtr of it gives y back
    p = float(fsp.nbdtri(30.0, 1.0, 1 - 1e-12))
    np.testing.assert_allclose(ss.nbdtr(30, 1, p), 1 - 1e-12, rtol=1e-15)
    # zetac far out: 2**-x (SciPy's underflows to 0 beyond about 147)
    np.testing.assert_allclose(fsp.zetac(200.0), 2.0 ** -200 * (1 + 1.5 ** -200), rtol=1e-14)
    # pseudo_huber for huge r: about delta |r| (SciPy: inf)
    np.testing.assert_allclose(fsp.pseudo_huber(1.0, 1e200), 1e200, rtol=1e-15)


def test_complements_keep_their_relative_precision():
    # the survival functions where they are tiny: computed directly, not as 1 - cdf
    np.testing.assert_allclose(fsp.stdtr(3.0, -1e5), ss.stdtr(3.0, -1e5), rtol=1e-12)
    np.testing.assert_allclose(fsp.chdtrc(3.0, 400.0), ss.chdtrc(3.0, 400.0), rtol=1e-12)
    np.testing.assert_allclose(fsp.fdtrc(3.0, 5.0, 1e6), ss.fdtrc(3.0, 5.0, 1e6), rtol=1e-12)
    np.testing.assert_allclose(fsp.bdtrc(2.0, 50.0, 1e-3), ss.bdtrc(2, 50, 1e-3), rtol=1e-12)
    np.testing.assert_allclose(fsp.betaincc(2.0, 3.0, 1 - 1e-9), ss.betaincc(2, 3, 1 - 1e-9),
                               rtol=1e-12)
    # and the cdf near 1/2 for a tiny t, where the rounding of df / (df + t^2) would cost it
    np.testing.assert_allclose(fsp.stdtr(1e6, -1.0), ss.stdtr(1e6, -1.0), rtol=1e-13)
    np.testing.assert_allclose(fsp.stdtr(5.0, 1e-12), ss.stdtr(5.0, 1e-12), rtol=1e-15)
    # the F quantile below q = 1/2 with a large dfn: the direct problem (was 1e-7 off)
    x = float(fsp.fdtri(1000.0, 1.0, 1e-10))
    np.testing.assert_allclose(ss.fdtr(1000.0, 1.0, x), 1e-10, rtol=1e-12)


def test_scipy_integer_conventions():
    # k floored in bdtr, truncated towards 0 in nbdtr and pdtri; n truncated (a C int)
    np.testing.assert_allclose(fsp.bdtr(2.7, 10.9, 0.3), ss.bdtr(2, 10, 0.3), rtol=1e-14)
    np.testing.assert_allclose(fsp.nbdtr(-0.5, 2.0, 0.3), ss.nbdtr(0, 2, 0.3), rtol=1e-14)
    np.testing.assert_allclose(fsp.pdtri(-0.5, 0.3), ss.pdtri(0, 0.3), rtol=1e-14)
    assert np.isnan(fsp.bdtr(-1.0, 5.0, 0.3)) and fsp.bdtrc(-1.0, 5.0, 0.3) == 1.0
    # no derivative in the counts
    g = ft.grad(lambda k: fsp.bdtr(k, 10.0, 0.3))(2.5)
    assert float(g) == 0.0


ELEMENTARY = ["cbrt", "sindg", "cosdg", "tandg", "cotdg", "cosm1", "exp2", "exp10", "exprel",
              "rgamma", "sinc", "zetac", "ellipk", "ellipkm1", "ellipe"]
_X = np.concatenate([np.linspace(-400.0, 400.0, 81), [
    -1e14, 1e14, 1.5e14, 1e20, 45.0, -45.0, 135.0, 225.0, 90.0, -90.0, 270.0, 180.0, -180.0,
    0.0, 1e-9, 0.3, 1.5, 2.5, 700.0, -720.5, -3.0, -1.0, -0.5, -170.5, -185.5, 171.5, 172.0,
    0.999, 1.001, 40.0, 60.0, np.inf, -np.inf, np.nan]])


@pytest.mark.parametrize("name", ELEMENTARY)
def test_elementary_functions_against_scipy(backend, name):
    got = backend.to_numpy(getattr(fsp, name)(backend.asarray(_X)))
    want = getattr(ss, name)(_X)
    known = np.zeros(_X.shape, bool)
    if name == "cotdg":
        known = np.abs(_X) == 1e-9  # (SciPy's cotdg(1e-9) is 4e-6 off, and of either sign)
    if name in ("sindg", "cosdg", "tandg", "cotdg"):
        # SciPy's are 0 beyond 1e14 degrees and at +-inf (cephes' "total loss of precision"):
        # the exact reduction loses nothing there, and sin(inf) is nan (since session 35;
        # the values there are in tests/test_s35_xback35.py)
        beyond = (np.abs(_X) > 1e14) & np.isfinite(_X)
        infinite = np.isinf(_X)
        assert np.isnan(got[infinite]).all()
        known = known | beyond | infinite
    if name == "rgamma":
        # exp(-gammaln(x)): about |gammaln| eps relative (1e-13 near 135; SciPy's is exact)
        np.testing.assert_allclose(got[np.abs(_X) > 100], want[np.abs(_X) > 100], rtol=1e-12,
                                   atol=1e-300)
        known = np.abs(_X) > 100
    rtol = 1e-13
    if name == "zetac":
        known = (_X > 100.0) & (want == 0.0)  # (SciPy underflows: 2**-x is not 0 there)
        if backend.name != "numpy":
            # the generic Riemann zeta: |log zeta| eps relative below -20 (in logarithms).
            # (Near 0 it is exact since session 18: it was 1e-8 off within 1e-6 of 0, from
            # the reflection formula's zeta(1 - x) at a rounded 1 - x.)
            rtol = 1e-12
    if name == "ellipe":
        rtol = 5e-14  # (about K ulps where 1 - m or 1 / (1 - m) is tiny)
    if name == "rgamma" and backend.name != "numpy":
        rtol = 1e-12  # (the library's own gammaln: |gammaln| eps)
    _compare(got, want, _X[None], rtol, known)


def test_degree_functions_are_exact_at_the_right_angles():
    x = np.array([0.0, 90.0, 180.0, 270.0, 360.0, -90.0, 720.0, -1e13 + 10.0])
    np.testing.assert_array_equal(fsp.sindg(x), [0.0, 1.0, 0.0, -1.0, 0.0, -1.0, 0.0, 1.0])
    np.testing.assert_array_equal(fsp.tandg(np.array([45.0, 135.0, -45.0, 90.0, 180.0])),
                                  [1.0, -1.0, -1.0, np.inf, 0.0])
    np.testing.assert_array_equal(fsp.cotdg(np.array([45.0, 90.0, 180.0, -135.0])),
                                  [1.0, 0.0, np.inf, 1.0])
    np.testing.assert_array_equal(fsp.cosdg(np.array([90.0, 180.0, 270.0, 60.0 * 6])),
                                  [0.0, -1.0, 0.0, 1.0])


_Y = [-np.inf, -3.0, -1.0, -1e-9, 0.0, 1e-12, 0.5, 2.0, 30.0, np.inf, np.nan]
_L = [-np.inf, -2.0, -0.5, -1e-20, 0.0, 1e-20, 1e-5, 0.3, 1.0, 2.5, np.inf, np.nan]
_D = [-1.0, 0.0, 1e-9, 0.5, 1.0, 3.0, np.nan]
_R = [-np.inf, -5.0, -1.0, -1e-9, 0.0, 1e-9, 0.5, 1.0, 2.0, np.inf, np.nan]
BINARY = {"inv_boxcox": (_Y, _L), "inv_boxcox1p": (_Y, _L), "huber": (_D, _R),
          "pseudo_huber": (_D, _R),
          "binom": ([-5.5, -3.0, -2.5, -0.5, 0.0, 0.5, 1.0, 3.0, 5.5, 10.0, 30.0, 100.0, 1e3,
                     np.inf, np.nan],
                    [-3.0, -2.5, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 7.0, 10.0, 25.0, 995.5,
                     np.inf, np.nan])}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_elementary_functions_against_scipy(backend, name):
    args = np.array(list(itertools.product(*BINARY[name]))).T
    got = getattr(fsp, name)(*(backend.asarray(a) for a in args))
    # (binom through the library's own gammaln: a few 1e-12 where that is not SciPy's)
    rtol = 1e-12 if backend.name == "numpy" or name != "binom" else 1e-11
    # (SciPy's binom(1000, -2.5) is 1.2e-12 off: mpmath 1.332257537301108e-8, functrans's
    # 5e-16 off since session 36, see tests/test_s36_binom36.py)
    known = ((args[0] == 1e3) & (args[1] == -2.5)) if name == "binom" else ()
    _compare(backend.to_numpy(got), getattr(ss, name)(*args), args, rtol, known)


def test_binom_random_real_arguments():
    rng = np.random.default_rng(18)
    n, k = rng.uniform(-20.0, 200.0, 3000), rng.uniform(-20.0, 200.0, 3000)
    want = ss.binom(n, k)
    got = np.asarray(fsp.binom(n, k))
    fin = np.isfinite(want) & (want != 0.0)
    np.testing.assert_allclose(got[fin], want[fin], rtol=5e-12)
    # exact integers from the product, as SciPy's
    assert float(fsp.binom(30.0, 10.0)) == 30045015.0 and float(fsp.binom(-2.5, 3.0)) == \
        ss.binom(-2.5, 3.0)


def test_radian_and_dtypes():
    np.testing.assert_allclose(fsp.radian(1.0, 2.0, 3.0), ss.radian(1, 2, 3), rtol=1e-15)
    x32 = np.array([0.5, 2.0], np.float32)
    for name in ("sindg", "exprel", "rgamma", "j0", "k1e", "stdtr", "binom", "bdtr"):
        f = getattr(fsp, name)
        nargs = getattr(ss, name).nin
        args = [x32 * 0 + 3.0] * (nargs - 1) + [x32 * 0.2] if nargs > 1 else [x32]
        out = f(*args)
        want = getattr(ss, name)(*args)
        assert out.dtype == want.dtype, (name, out.dtype, want.dtype)
        np.testing.assert_allclose(out, want, rtol=2e-6, err_msg=name)
    for name in ("cbrt", "k0", "zetac"):  # integers give float64
        assert getattr(fsp, name)(np.array([2, 3])).dtype == np.float64
    assert fsp.yn(2, np.float32(1.5)).dtype == ss.yn(2, np.float32(1.5)).dtype == np.float64


BESSEL = ["j0", "j1", "y0", "y1", "k0", "k0e", "k1", "k1e"]
_XB = np.concatenate([np.geomspace(1e-8, 1e3, 200), np.linspace(1.9, 26.0, 60),
                      -np.geomspace(1e-3, 1e2, 10), [0.0, np.inf, -np.inf, np.nan]])


@pytest.mark.parametrize("name", BESSEL)
def test_bessel_functions_against_scipy(backend, name):
    got = backend.to_numpy(getattr(fsp, name)(backend.asarray(_XB)))
    want = getattr(ss, name)(_XB)
    fin = np.isfinite(want) & (want != 0.0)
    # J, Y: relative to the envelope min(1, sqrt(2 / (pi x))) (near their zeros no method
    # is accurate relative to the value); K: relative to the value
    scale = np.abs(want)
    if name[0] in "jy":
        scale = np.maximum(scale, np.minimum(1.0, np.sqrt(2.0 / (np.pi * np.abs(_XB) + 1e-300))))
    err = np.abs(got[fin] - want[fin]) / scale[fin]
    assert err.max() < 5e-14, (name, err.max(), _XB[fin][np.argmax(err)])
    np.testing.assert_array_equal(got[~fin], want[~fin])


def test_yn_against_scipy(backend):
    x = np.concatenate([np.geomspace(1e-3, 200.0, 60), [0.0, -1.0, np.inf, np.nan]])
    for n in (0, 1, 2, 5, -3, 2.5, -2.5):
        got = backend.to_numpy(fsp.yn(n, backend.asarray(x)))
        want = ss.yn(n, x)
        fin = np.isfinite(want)
        scale = np.maximum(np.abs(want), np.sqrt(2.0 / (np.pi * np.abs(x) + 1e-300)))
        assert np.max(np.abs(got[fin] - want[fin]) / scale[fin]) < 1e-12, n
        np.testing.assert_array_equal(got[~fin], want[~fin])
    n = np.array([0.0, 1.0, 4.0, -3.0])
    np.testing.assert_allclose(backend.to_numpy(fsp.yn(backend.asarray(n), backend.asarray(
        np.full(4, 2.5)))), ss.yn(n, 2.5), rtol=1e-13)


# -- derivatives at the special points, against closed forms -----------------------------------


def test_distribution_derivatives_are_the_densities():
    t = np.array([-2.5, -0.3, 0.0, 1e-9, 0.7, 4.0])
    df = 3.5
    pdf = np.exp(ss.gammaln((df + 1) / 2) - ss.gammaln(df / 2)) / np.sqrt(df * np.pi) \
        * (1 + t * t / df) ** (-(df + 1) / 2)
    g = ft.vmap(ft.grad(lambda t: fsp.stdtr(df, t)))(t)
    np.testing.assert_allclose(g, pdf, rtol=1e-12)  # (at t = 0 too: not nan)
    assert float(ft.grad(ft.grad(lambda t: fsp.stdtr(df, t)))(0.0)) == 0.0
    # regression: scipy.stats.t's cdf (now through stdtr) had a nan derivative at the median
    import functrans.scipy.stats as fst
    np.testing.assert_allclose(ft.grad(lambda z: fst.t.cdf(z, df))(0.0), pdf[2], rtol=1e-13)
    np.testing.assert_allclose(ft.grad(lambda z: fst.t.sf(z, df))(0.0), -pdf[2], rtol=1e-13)
    x = np.array([0.3, 2.0, 9.0])
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda x: fsp.chdtr(3.0, x)))(x),
                               x ** 0.5 * np.exp(-x / 2) / (2 ** 1.5 * math.gamma(1.5)),
                               rtol=1e-12)
    m = np.array([0.5, 2.0, 7.0])
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda m: fsp.pdtr(3.7, m)))(m),
                               -np.exp(-m) * m ** 3 / 6, rtol=1e-12)
    # the quantile's derivative is one over the density at it
    p = np.array([0.1, 0.5, 0.8])
    q = fsp.stdtrit(df, p)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda p: fsp.stdtrit(df, p)))(p),
                               1.0 / ft.vmap(ft.grad(lambda t: fsp.stdtr(df, t)))(q),
                               rtol=1e-11)
    check_grads(lambda d, t: fsp.stdtr(d, t), (np.array([0.7, 3.0, 40.0]),
                                                np.array([0.0, -1.2, 3.0])), order=2)


def test_elementary_derivatives_at_special_points():
    # rgamma is entire: at -n its derivative is (-1)^n n!
    for n in range(4):
        np.testing.assert_allclose(ft.grad(fsp.rgamma)(float(-n)), (-1) ** n * math.factorial(n),
                                   rtol=1e-13)
    np.testing.assert_allclose(ft.grad(fsp.exprel)(0.0), 0.5, rtol=1e-15)
    np.testing.assert_allclose(ft.grad(ft.grad(fsp.exprel))(0.0), 1.0 / 3.0, rtol=1e-13)
    np.testing.assert_allclose(ft.grad(fsp.tandg)(45.0), np.pi / 90.0, rtol=1e-15)
    np.testing.assert_allclose(ft.grad(fsp.sindg)(90.0), 0.0, atol=1e-18)
    np.testing.assert_allclose(ft.grad(fsp.cosm1)(1e-9), -np.sin(1e-9), rtol=1e-15)
    # binom: the digamma formula, also at an integer k where the value is the product
    n, k = 5.0, 2.0
    np.testing.assert_allclose(ft.grad(lambda k: fsp.binom(n, k))(k),
                               ss.binom(n, k) * (ss.psi(n - k + 1) - ss.psi(k + 1)),
                               rtol=1e-13)
    np.testing.assert_allclose(ft.grad(lambda n: fsp.binom(n, k))(n),
                               ss.binom(n, k) * (ss.psi(n + 1) - ss.psi(n - k + 1)),
                               rtol=1e-13)
    # inv_boxcox at lmbda = 0: d/dlmbda (1 + l y)^(1/l) = -exp(y) y^2 / 2
    y = 0.7
    np.testing.assert_allclose(ft.grad(lambda lm: fsp.inv_boxcox(y, lm), )(0.0),
                               -np.exp(y) * y * y / 2, rtol=1e-13)
    # zetac = zeta - 1: differentiable since session 28 (zeta's derivative in x), against
    # central differences of SciPy's value
    h = 1e-5
    np.testing.assert_allclose(ft.grad(fsp.zetac)(3.0),
                               (ss.zetac(3.0 + h) - ss.zetac(3.0 - h)) / (2 * h), rtol=1e-8)


def test_elliptic_integrals():
    m = np.array([-1e10, -3.0, -0.5, 0.0, 0.3, 0.9, 0.999, 1 - 1e-12])
    k, e = ss.ellipk(m), ss.ellipe(m)
    np.testing.assert_allclose(fsp.ellipkm1(1.0 - m[:-1]), k[:-1], rtol=1e-14)
    np.testing.assert_allclose(fsp.ellipkm1(1e-300), ss.ellipkm1(1e-300), rtol=1e-15)
    # the derivatives of the AGM iteration against the closed forms (the limits at m = 0)
    with np.errstate(all="ignore"):
        dk = np.where(m == 0, np.pi / 8, (e - (1 - m) * k) / (2 * m * (1 - m)))
        de = np.where(m == 0, -np.pi / 8, (e - k) / (2 * m))
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.ellipk))(m[1:-1]), dk[1:-1], rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.ellipe))(m[1:-1]), de[1:-1], rtol=1e-12)
    p = np.array([1e-10, 0.3, 2.0])
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.ellipkm1))(p),
                               (p * ss.ellipkm1(p) - ss.ellipe(1 - p)) / (2 * p * (1 - p)),
                               rtol=1e-12)


def test_bessel_derivatives():
    x = np.array([0.4, 2.0, 7.5, 30.0])
    pairs = {"j0": -ss.j1(x), "j1": ss.j0(x) - ss.j1(x) / x, "y0": -ss.y1(x),
             "y1": ss.y0(x) - ss.y1(x) / x, "k0": -ss.k1(x), "k1": -ss.k0(x) - ss.k1(x) / x,
             "k0e": ss.k0e(x) - ss.k1e(x), "k1e": ss.k1e(x) * (1 - 1 / x) - ss.k0e(x)}
    for name, want in pairs.items():
        np.testing.assert_allclose(ft.vmap(ft.grad(getattr(fsp, name)))(x), want, rtol=1e-12,
                                   err_msg=name)
    assert float(ft.grad(fsp.j1)(0.0)) == 0.5
    np.testing.assert_allclose(ft.grad(ft.grad(fsp.j0))(0.0), -0.5, rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda x: fsp.yn(3, x)))(x),
                               (ss.yn(2, x) - ss.yn(4, x)) / 2, rtol=1e-12)
    with pytest.raises(TypeError, match="concrete"):
        ft.grad(lambda n: fsp.yn(n, 2.0))(3.0)


# -- SciPy itself, with SCIPY_ARRAY_API=1 --------------------------------------------------------

SCIPY_DISPATCH = textwrap.dedent("""
import numpy as np
import scipy.special as ss
import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

x = np.array([0.3, 0.5, 0.9, 1.25, 2.0])
cases = {
    "stdtr": lambda x: ss.stdtr(3.5, x - 1.0),
    "stdtr_df": lambda x: ss.stdtr(x * 4.0, 0.7),
    "chdtr": lambda x: ss.chdtr(3.0, x),
    "chdtrc": lambda x: ss.chdtrc(x * 3.0, 2.0),
    "pdtr": lambda x: ss.pdtr(3.0, x),
    "bdtr": lambda x: ss.bdtr(3.0, 10.0, x * 0.4),
    "fdtr": lambda x: ss.fdtr(2.0, 5.0, x),
    "betaincc": lambda x: ss.betaincc(2.0, 3.0, x * 0.4),
    "stdtrit": lambda x: ss.stdtrit(3.5, x * 0.4),
    "j0": ss.j0, "j1": ss.j1, "y0": ss.y0, "k0": ss.k0, "k1e": ss.k1e,
    "binom": lambda x: ss.binom(5.0, x),
    "binom_n": lambda x: ss.binom(x * 4.0, 2.5),
    "rgamma": lambda x: ss.rgamma(x - 1.0), "exprel": ss.exprel,
    "sindg": lambda x: ss.sindg(x * 50),
    "cosm1": ss.cosm1, "inv_boxcox": lambda x: ss.inv_boxcox(x, 0.3),
    "pseudo_huber": lambda x: ss.pseudo_huber(1.0, x), "exp10": ss.exp10,
    "ellipk": lambda x: ss.ellipk(x - 1.1), "ellipkm1": ss.ellipkm1,
    "lpmv": lambda x: ss.lpmv(2, 1.7, x * 0.4 - 0.3),
}
for name, f in cases.items():
    # the value is SciPy's own (on NumPy), the derivative exists and matches finite
    # differences (check_grads: JVP and VJP, second order)
    np.testing.assert_allclose(ft.jit(f)(x), f(x), rtol=1e-12, err_msg=name)
    check_grads(f, (x,), order=2)
g = ft.grad(lambda x: fnp.sum(ss.j0(x)))(x)
np.testing.assert_allclose(g, -ss.j1(x), rtol=1e-13)
g = ft.grad(lambda k: fnp.sum(ss.binom(5.0, k)))(x)
np.testing.assert_allclose(g, ss.binom(5.0, x) * (ss.psi(6.0 - x) - ss.psi(x + 1.0)),
                           rtol=1e-12)
print("ok")
""")


def test_scipy_special_functions_dispatch_to_functrans():
    pytest.importorskip("array_api_compat")
    _run_with_scipy_array_api(SCIPY_DISPATCH, timeout=300)


def test_every_scipy_dispatched_function_is_there():
    from scipy.special import _support_alternative_backends as sab
    names = {info.name for info in sab._special_funcs}
    missing = sorted(n for n in names if not hasattr(fsp, n))
    assert missing == [], missing
    for n in names:
        assert getattr(fnp.special, n) is getattr(fsp, n)


# -- special18e: lpmv ----------------------------------------------------------------------------

_LPMV_M = [-3.0, 0.0, 1.0, 2.0, 4.0]
_LPMV_V = [0.5, -2.3, 1.0, -4.0, 6.25]
_LPMV_X = [-1.0, -0.7, -0.4, 0.3, 0.9, 1.0]


def test_lpmv_against_scipy(backend):
    """P_v^m(x) on a grid of orders (negative, 0, positive), degrees (integer: a
    polynomial, negative: P_v = P_(-v-1)) and x (both ends: SciPy's limits) within 5e-12 of
    SciPy's (whose own error reaches 1.4e-12), 2e-14 of mpmath's inside; where SciPy gives
    nan, for the orders m < -n of an integer degree n, the values of DLMF 14.3.1 (mpmath's).
    And SciPy's edges: nan for |x| > 1 (the Legendre polynomials m = 0 excepted), a
    non-integer m, infinite v, nan."""
    m, v, x = (np.array(t).ravel() for t in np.meshgrid(_LPMV_M, _LPMV_V, _LPMV_X))
    got = backend.to_numpy(fsp.lpmv(*(backend.asarray(t) for t in (m, v, x))))
    want = ss.lpmv(m, v, x)
    n = np.where(v >= 0, v, -v - 1)
    extra = (m < -n) & (v == np.floor(v))
    _compare(got, want, np.stack([m, v, x]), 5e-12, known=extra)
    # (SciPy's nan there: P_n^-k for k > n)
    assert np.all(np.isnan(want[extra])) and extra.any()
    np.testing.assert_array_equal(got[extra & (x == 1.0)], 0.0)
    np.testing.assert_array_equal(got[extra & (x == -1.0)], np.inf)
    # inside, every point against mpmath's Ferrers function (SciPy's 1.4e-12 off at
    # P_6.25^1(-0.4))
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    inner = np.abs(x) < 1
    ref = [float(mp.legenp(vv, int(mm), xx, type=2)) for mm, vv, xx in zip(m[inner], v[inner],
                                                                           x[inner])]
    np.testing.assert_allclose(got[inner], ref, rtol=2e-14)
    # the edges
    em = np.array([0.0, 0.0, 1.0, 2.5, 1.0, np.nan, 1.0, 0.0])
    ev = np.array([2.0, 1.5, 2.0, 1.0, np.inf, 1.0, 1.0, 3.0])
    ex = np.array([-1.5, -1.5, 1.2, 0.3, 0.3, 0.3, np.nan, 7.0])
    got = backend.to_numpy(fsp.lpmv(*(backend.asarray(t) for t in (em, ev, ex))))
    np.testing.assert_allclose(got, ss.lpmv(em, ev, ex), rtol=1e-13, equal_nan=True)
    assert np.isfinite(got[[0, 7]]).all()


def test_lpmv_derivative_in_x(backend):
    """d/dx P_v^m(x) through the composition, against central differences (orders of both
    signs, a polynomial and an order whose hypergeometric function needs the Euler-
    transformed fallback (the generic hyp2f1 has no value there); P_1^1 = -(1 - x^2)^(1/2)
    exactly); float32 stays float32; none in v (NotImplementedError)."""
    x = np.array([-0.9484389393, -0.6, 0.1, 0.7])
    for m, v in ((2, 1.7), (-1, 2.3), (5, -6.89927563), (0, 3.0)):
        def f(x):
            return fnp.sum(fsp.lpmv(m, v, x))
        xb = backend.asarray(x)
        g = backend.to_numpy(ft.grad(f)(xb))
        h = 1e-6
        fd = (ss.lpmv(m, v, x + h) - ss.lpmv(m, v, x - h)) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=2e-7, err_msg=str((m, v)))
    x1 = backend.asarray(np.array([-0.5, 0.2]))
    g = backend.to_numpy(ft.grad(lambda x: fnp.sum(fsp.lpmv(1, 1.0, x)))(x1))
    xs = np.array([-0.5, 0.2])
    np.testing.assert_allclose(g, xs / np.sqrt(1 - xs * xs), rtol=1e-13)
    x32 = fnp.astype(backend.asarray(np.array([0.25])), fnp.float32)
    assert backend.to_numpy(fsp.lpmv(1.0, 0.5, x32)).dtype == np.float32
    with pytest.raises(NotImplementedError):
        ft.grad(lambda v: fnp.sum(fsp.lpmv(1, v, 0.3)))(backend.asarray(np.array([1.5])))
