"""Third derivatives of betainc(a, b, x) in its shapes (session 35): betainc_dab's orders
(3, 0), (2, 1), (1, 2), (0, 3) through jets (functrans.backends.incomplete_grads), every
transform order that reaches them, the x-derivatives after them (the density's third shape
derivatives, with their limits at the ends), the functions built on betainc, and the fourth
order's error. References: mpmath at 40 digits (mpmath.diff of the hypergeometric form of
tests/_betainc_reference.py, or of mpmath.betainc), tabulated here; one row is recomputed
live."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
import functrans.scipy.stats as fst
from functrans.backends import get_backend
from functrans.backends import incomplete_grads as ig
from functrans.primitives.special import betainc_dab

from ._betainc_reference import ROWS as BETA_ROWS

ORDERS3 = ((3, 0), (2, 1), (1, 2), (0, 3))

# a, b, x, [d3I/da3, d3I/da2db, d3I/dadb2, d3I/db3] (mpmath, 40 digits); the path used
THIRD = [
    (2.5, 3.5, 0.4, [0.028892355420759953, -0.04248293363219886, 0.028783131413074446,
                     -0.008365375181252724]),  # fraction
    (2.5, 3.5, 0.7, [0.0049958963618575375, 0.001687057500985768, -0.02038043727751752,
                     0.046125294416431054]),  # flipped fraction
    (0.01, 0.6, 0.3, [-24.04258102692806, -21.05535116835648, -8.863842966269145,
                      0.4404177208642991]),  # small-shape series
    (0.6, 0.002, 0.5, [-0.0933816153692597, 9.554749673188548, 16.635067127265824,
                       14.81031465393837]),  # fraction, a small q (its factor q apart)
    (1000.0, 2.0, 0.9969, [-1.4822750736896672e-09, 2.1369160185084196e-07,
                           6.0605213936331595e-05, -0.05939136991937673]),  # complement series
    (2.0, 1000.0, 0.0031, [0.059391369919376026, -6.060521393632979e-05,
                           -2.136916018508463e-07, 1.4822750736896777e-09]),  # flipped one
    (30000.0, 50000.0, 0.375, [3.7935445926015165e-08, -2.2761950421903898e-08,
                               1.3657033681442997e-08, -8.193810494602338e-09]),  # large
    (2.5, 3.5, 1e-100, [-1.3160002476885874e-242, 3.4461280976717133e-245,
                        -5.332692849061729e-248, 2.720754196149721e-251]),  # x near 0
    (4.0, 0.3, 0.9999999999999, [-1.4610533127934119e-06, -8.579703970611325e-05,
                                 -0.010565732867292784, 4.740263902606996]),  # x near 1
    (0.2, 0.3, 0.999, [-3.1746500700308435, -5.7090450514154965, -8.760100272624406,
                       41.909131576287635]),  # small shapes, flipped fraction
]
# (at the centre of large shapes the fraction's log-derivatives are sums of terms much
# larger than the total: 2e-9 relative here, as the second order's 1e-9 (documented since
# session 31); elsewhere within 1e-13)
_RTOL = {6: 5e-9}


def _np(backend, v):
    return np.asarray(backend.to_numpy(v), dtype=np.float64)


def test_third_order_table(backend):
    a, b, x = (backend.asarray([r[k] for r in THIRD]) for k in range(3))
    for k, (i, j) in enumerate(ORDERS3):
        got = _np(backend, betainc_dab(a, b, x, i=i, j=j))
        for n, row in enumerate(THIRD):
            np.testing.assert_allclose(got[n], row[3][k], rtol=_RTOL.get(n, 1e-13), atol=0,
                                       err_msg=f"{row[:3]} order {(i, j)}")


def test_third_order_row_is_mpmath():
    mp = pytest.importorskip("mpmath")
    a, b, x, ref = THIRD[3]
    with mp.workdps(40):
        def f(p, q):   # (the side below 1/2: the direct one here)
            return mp.betainc(p, q, 0, mp.mpf(x), regularized=True)
        for k, order in enumerate(ORDERS3):
            assert float(mp.diff(f, (mp.mpf(a), mp.mpf(b)), order)) == pytest.approx(
                ref[k], rel=1e-15)


def _setup(a, b, x):
    """betainc_dab's side selection, for calling _betainc_dab_jets directly."""
    flip = x > (a + 1.0) / (a + b + 2.0)
    p, q = np.where(flip, b, a), np.where(flip, a, b)
    comp = 1.0 - x
    comp_lo = (1.0 - comp) - x
    zero = np.zeros_like(x)
    u, w = np.where(flip, comp, x), np.where(flip, x, comp)
    lo = (np.where(flip, comp_lo, zero), np.where(flip, zero, comp_lo))
    log_u = np.where(flip, np.log1p(-x), np.log(x))
    log_w = np.where(flip, np.log(x), np.log1p(-x))
    return p, q, u, w, lo, log_u, log_w, flip


def test_jets_reproduce_the_first_two_orders():
    # the jets' mechanism at orders 1 and 2 against the dedicated code of those orders, over
    # the reference table's arguments (every path: fraction, series, complement, both sides)
    bk = get_backend("numpy")
    rows = np.array([r[:3] for r in BETA_ROWS[::3]] + [r[:3] for r in THIRD[:7]])
    a, b, x = rows[:, 0], rows[:, 1], rows[:, 2]
    inner = (x > 0.0) & (x < 1.0)
    a, b, x = a[inner], b[inner], x[inner]
    args = _setup(a, b, x)
    # (both lose up to 1e-9 at the centre of shapes beyond 1e4, see _RTOL; relative to the
    # largest derivative of the order: I_ab is 0 at a = b, x = 1/2)
    rtol = np.where(a + b < 1e4, 5e-11, 1e-8)
    for orders in (((1, 0), (0, 1)), ((2, 0), (1, 1), (0, 2))):
        refs = [ig.betainc_dab(bk, i, j, a, b, x) for i, j in orders]
        scale = np.max(np.abs(refs), axis=0)
        for (i, j), ref in zip(orders, refs):
            got = ig._betainc_dab_jets(bk, i, j, *args)
            assert np.all(np.abs(got - ref) <= rtol * scale), (i, j)


def test_jets_arithmetic():
    # (1 + dp + 2 dq)^-1 and exp(log(...)) as truncated Taylor series, against their
    # coefficients
    bk = get_backend("numpy")
    jets = ig._Jets(bk, 3, np.ones(1))
    assert jets.monos == ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1),
                          (1, 2), (0, 3))
    e = jets.from_rows({(1, 0): np.ones(1), (0, 1): np.full(1, 2.0)}, np.ones(1))
    inv = jets.recip1(jets.powers(e))[:, 0]
    # 1 / (1 + s), s = dp + 2 dq: sum (-s)^k, the coefficient of dp^i dq^j being
    # (-1)^(i+j) C(i+j, i) 2^j
    want = [(-1.0) ** (i + j) * math.comb(i + j, i) * 2.0 ** j for i, j in jets.monos]
    np.testing.assert_allclose(inv, want, rtol=1e-15)
    back = jets.exp0(jets.log1p(jets.powers(e)))[:, 0]
    np.testing.assert_allclose(back, [1.0, 1.0, 2.0] + [0.0] * 7, atol=1e-15)
    np.testing.assert_array_equal(jets.swap(jets.swap(e)), e)


@pytest.mark.parametrize("p,q", [(1e-8, 0.3), (0.5, 2.0), (3.0, 40.0), (1e-3, 1e4)])
def test_tetragamma_diff(p, q):
    mp = pytest.importorskip("mpmath")
    bk = get_backend("numpy")
    got = ig._tetragamma_diff(bk, np.array([p]), np.array([q]))[0]
    with mp.workdps(40):
        ref = float(mp.polygamma(2, mp.mpf(q) + mp.mpf(p)) - mp.polygamma(2, mp.mpf(q)))
    assert got == pytest.approx(ref, rel=1e-14)


# the 3 x 3 x 3 third-derivative tensors of betainc in (a, b, x) (mpmath.betainc, 40 digits),
# indexed by the sorted triple of argument positions
TENSORS = {
    (2.5, 3.5, 0.4): {
        (0, 0, 0): 0.028892355420759953, (0, 0, 1): -0.04248293363219886,
        (0, 0, 2): -0.5777733194032934, (0, 1, 1): 0.028783131413074446,
        (0, 1, 2): 0.3627494315064738, (0, 2, 2): 4.7212587570351925,
        (1, 1, 1): -0.008365375181252724, (1, 1, 2): -0.26931158252861576,
        (1, 2, 2): -3.2671998819634305, (2, 2, 2): -30.938369072952266},
    (0.4, 0.7, 0.8): {
        (0, 0, 0): -0.5015216218896996, (0, 0, 1): -1.181306990246341,
        (0, 0, 2): -1.3326323277349639, (0, 1, 1): -0.5391418594482353,
        (0, 1, 2): -0.0756077212053782, (0, 2, 2): 1.6442801075689575,
        (1, 1, 1): 2.523915326909036, (1, 1, 2): -0.4527236905574067,
        (1, 2, 2): -3.434353809991334, (2, 2, 2): 5.509779346532977},
}


def _tensor(point):
    t = np.empty((3, 3, 3))
    for idx in itertools.product(range(3), repeat=3):
        t[idx] = TENSORS[point][tuple(sorted(idx))]
    return t


@pytest.mark.parametrize("point", list(TENSORS))
def test_every_transform_order(backend, point):
    ref = _tensor(point)
    v = backend.asarray(point)

    def f(v):
        return fsp.betainc(v[0], v[1], v[2])

    forms = {
        "jacfwd(jacfwd(jacrev))": ft.jacfwd(ft.jacfwd(ft.jacrev(f))),
        "jacrev(jacrev(jacrev))": ft.jacrev(ft.jacrev(ft.jacrev(f))),
        "jacfwd(hessian)": ft.jacfwd(ft.hessian(f)),
        "hessian(grad)": ft.hessian(ft.grad(f)),
    }
    if backend.name != "numpy":   # (the others: one form, one point; file time)
        if point != (2.5, 3.5, 0.4):
            return
        forms = {"jacfwd(jacfwd(jacrev))": forms["jacfwd(jacfwd(jacrev))"]}
    for name, tf in forms.items():
        np.testing.assert_allclose(_np(backend, tf(v)), ref, rtol=1e-12, atol=1e-13,
                                   err_msg=name)
    # jvp of the Hessian along each axis: a slice
    for k in range(3 if backend.name == "numpy" else 0):
        e = backend.asarray(np.eye(3)[k])
        _, t = ft.jvp(ft.hessian(f), (v,), (e,))
        np.testing.assert_allclose(_np(backend, t), ref[k], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("point", list(TENSORS))
def test_grad_cubed_each_combination(point):
    # grad(grad(grad)) with scalar arguments, each of the ten combinations (aaa .. xxx)
    ref = TENSORS[point]
    args = tuple(np.float64(v) for v in point)
    for idx in ref:
        g = fsp.betainc
        for k in idx:
            g = ft.grad(g, argnums=k)
        assert float(g(*args)) == pytest.approx(ref[idx], rel=1e-12, abs=1e-13), idx


def test_vjp_jvp_dot_product_of_the_hessian():
    # <u, J v> = <J^T u, v> for J the Jacobian of the (flattened) Hessian in (a, b, x)
    def h(v):
        return fnp.reshape(ft.hessian(lambda w: fsp.betainc(w[0], w[1], w[2]))(v), (9,))
    v0 = np.array([0.7, 4.2, 0.15])
    rng = np.random.default_rng(35)
    u, t = rng.normal(size=9), rng.normal(size=3)
    _, jv = ft.jvp(h, (v0,), (t,))
    _, pull = ft.vjp(h, v0)
    (jtu,) = pull(u)
    assert float(np.dot(u, jv)) == pytest.approx(float(np.dot(jtu, t)), rel=1e-12)


def test_jit_and_vmap_agree_with_eager():
    a = np.array([0.3, 2.5, 40.0, 1000.0])
    b = np.array([0.8, 3.5, 7.0, 2.0])
    x = np.array([0.6, 0.4, 0.9, 0.9969])
    g3 = ft.grad(ft.grad(ft.grad(fsp.betainc, 1), 0), 0)
    eager = np.array([float(g3(*v)) for v in zip(a, b, x)])
    np.testing.assert_allclose(np.asarray(ft.vmap(g3)(a, b, x)), eager, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(ft.jit(ft.vmap(g3))(a, b, x)), eager, rtol=1e-14)


def test_float32_stays_float32():
    a, b, x = (np.array([r[k] for r in THIRD[:4]], dtype=np.float32) for k in range(3))
    for i, j in ORDERS3:
        got = betainc_dab(a, b, x, i=i, j=j)
        assert got.dtype == np.float32
        ref = betainc_dab(*(v.astype(np.float64) for v in (a, b, x)), i=i, j=j)
        np.testing.assert_allclose(got, ref, rtol=1e-7)
    g = ft.grad(ft.grad(ft.grad(lambda s: fsp.betainc(s, np.float32(3.5), np.float32(0.4)))))(
        np.float32(2.5))
    assert g.dtype == np.float32
    assert float(g) == pytest.approx(THIRD[0][3][0], rel=1e-6)


def test_edges_and_invalid(backend):
    a = backend.asarray([2.0, 0.5, 2.0, -1.0, 0.0, np.nan, 2.0, 2.0, np.inf])
    b = backend.asarray([3.0, 0.5, 0.3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    x = backend.asarray([0.0, 0.0, 1.0, 0.5, 0.5, 0.5, -0.5, 1.5, 0.5])
    for i, j in ORDERS3:
        got = _np(backend, betainc_dab(a, b, x, i=i, j=j))
        np.testing.assert_array_equal(got[:3], 0.0)
        assert np.all(np.isnan(got[3:]))


def test_fourth_order_raises_and_says_what_is_there():
    f = ft.grad(ft.grad(ft.grad(lambda a: fsp.betainc(a, 2.0, 0.3))))
    with pytest.raises(NotImplementedError, match=r"betainc: the fourth derivative with respect "
                                                  r"to the shape parameters a, b is not "
                                                  r"implemented \(asked: one more than order 3 "
                                                  r"in a and 0 in b\)\. The first three are"):
        ft.grad(f)(np.float64(1.5))
    with pytest.raises(ValueError, match=r"i \+ j = 1, 2 or 3; got \(2, 2\)"):
        ig.betainc_dab(get_backend("numpy"), 2, 2, np.ones(1), np.ones(1), np.full(1, 0.5))


@pytest.mark.parametrize("order", ORDERS3)
def test_x_derivative_after_three_shape_derivatives(order):
    # d/dx of d^3 I / da^i db^j: the density's third shape derivative (closed form) against
    # mpmath's derivative of the density
    mp = pytest.importorskip("mpmath")
    a, b = 2.5, 0.7
    for x in (0.3, 0.85):
        got = float(ft.grad(lambda v: betainc_dab(np.float64(a), np.float64(b), v,
                                                  i=order[0], j=order[1]))(np.float64(x)))
        with mp.workdps(30):
            def dens(p, q):
                return mp.exp((p - 1) * mp.log(x) + (q - 1) * mp.log(1 - mp.mpf(x))
                              - mp.log(mp.beta(p, q)))
            ref = float(mp.diff(dens, (a, b), order))
        assert got == pytest.approx(ref, rel=1e-13)


def test_x_derivative_after_three_shape_derivatives_at_the_ends():
    # the one-sided limits: infinite with the sign of (-1)^k times the coefficient of the
    # k-th power of the end's logarithm (here negative for (1, 2) at x = 0 and (2, 1) at
    # x = 1, a = 0.5, b = 0.7), 0 where the density's exponent is above 1, and the finite
    # limit where that coefficient is 0 (a = b = 1: pi^2/3 - 2 zeta(3))
    def slope(a, b, x, order):
        return float(ft.grad(lambda v: betainc_dab(np.float64(a), np.float64(b), v,
                                                   i=order[0], j=order[1]))(np.float64(x)))
    for order, s0, s1 in (((3, 0), -1, 1), ((2, 1), 1, 1), ((1, 2), 1, 1), ((0, 3), 1, -1)):
        assert slope(0.5, 0.7, 0.0, order) == s0 * math.inf
        assert slope(0.5, 0.7, 1.0, order) == s1 * math.inf
        # (their signs are those just inside)
        assert np.sign(slope(0.5, 0.7, 1e-12, order)) == s0
        assert np.sign(slope(0.5, 0.7, 1.0 - 1e-12, order)) == s1
        assert slope(2.0, 3.0, 0.0, order) == 0.0
        assert slope(2.0, 3.0, 1.0, order) == 0.0
    finite = math.pi ** 2 / 3.0 - 2.0 * 1.2020569031595942
    assert slope(1.0, 1.0, 0.0, (1, 2)) == pytest.approx(finite, rel=1e-13)
    assert slope(1.0, 1.0, 1.0, (2, 1)) == pytest.approx(finite, rel=1e-13)


# third derivatives of functions built on betainc (mpmath.diff of their betainc forms)
STATS = [
    ("t.cdf in df", lambda d: fst.t.cdf(1.5, d), 3.5, 0.004502717847702221),
    ("beta.cdf in a", lambda s: fst.beta.cdf(0.3, s, 2.5), 1.7, -0.03194514686000643),
    ("f.cdf in dfn", lambda d: fst.f.cdf(1.2, d, 7.0), 4.0, -0.0024982544093468044),
    ("nbinom.cdf in n", lambda n: fst.nbinom.cdf(3, n, 0.4), 2.5, 0.04007411087017984),
]


@pytest.mark.parametrize("name,f,x0,ref", STATS, ids=[s[0] for s in STATS])
def test_stats_third_derivative(name, f, x0, ref):
    g3 = float(ft.grad(ft.grad(ft.grad(f)))(np.float64(x0)))
    assert g3 == pytest.approx(ref, rel=1e-11)
    _, t = ft.jvp(ft.hessian(f), (np.float64(x0),), (np.float64(1.0),))
    assert float(t) == pytest.approx(ref, rel=1e-11)


def test_betaincinv_third_derivative_is_the_implicit_one():
    # x(a) = betaincinv(a, b, y) solves I(a, b, x) = y: differentiating thrice,
    # I_aaa + 3 I_aax x' + 3 I_axx x'^2 + I_xxx x'^3 + 3 (I_ax + I_xx x') x'' + I_x x''' = 0
    a, b, y = 2.5, 3.5, 0.4
    x = float(fsp.betaincinv(a, b, y))
    d = [float(ft.grad(ft.grad(ft.grad(fsp.betaincinv)))(np.float64(a), b, y)),
         float(ft.grad(ft.grad(fsp.betaincinv))(np.float64(a), b, y)),
         float(ft.grad(fsp.betaincinv)(np.float64(a), b, y))]
    x3, x2, x1 = d
    t = _tensor_at(a, b, x)
    h = ft.hessian(lambda v: fsp.betainc(v[0], v[1], v[2]))(np.array([a, b, x]))
    i_x = float(ft.grad(fsp.betainc, 2)(a, b, np.float64(x)))
    lhs = (t[0, 0, 0] + 3 * t[0, 0, 2] * x1 + 3 * t[0, 2, 2] * x1 ** 2 + t[2, 2, 2] * x1 ** 3
           + 3 * (h[0, 2] + h[2, 2] * x1) * x2 + i_x * x3)
    assert abs(lhs) <= 1e-12 * abs(i_x * x3)


def _tensor_at(a, b, x):
    return np.asarray(ft.jacfwd(ft.hessian(lambda v: fsp.betainc(v[0], v[1], v[2])))(
        np.array([a, b, x])))


def test_jet_third_term():
    # Taylor mode along v = (1, 1, 1/2) in (a, b, x): D^3 I [v, v, v] from the tensor; one
    # more term asks for a fourth shape derivative (the error)
    from functrans.experimental.jet import jet
    v = np.array([1.0, 1.0, 0.5])
    ref = float(np.einsum("ijk,i,j,k", _tensor((2.5, 3.5, 0.4)), v, v, v))
    _, terms = jet(fsp.betainc, (2.5, 3.5, 0.4), tuple((s, 0.0, 0.0) for s in v))
    assert float(terms[2]) == pytest.approx(ref, rel=1e-12)
    with pytest.raises(NotImplementedError, match="betainc: the fourth derivative"):
        jet(fsp.betainc, (2.5, 3.5, 0.4), tuple((s, 0.0, 0.0, 0.0) for s in v))
