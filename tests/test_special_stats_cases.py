"""Cases of jax.scipy.special and jax.scipy.stats, restated for functrans.

The topics follow JAX's tests/lax_scipy_special_functions_test.py (a table of special
functions, each with the domain its inputs are drawn from and whether its derivatives are
checked, plus special points: bernoulli numbers, the sign of gamma at the integers, xlogy and
xlog1py at zero, the tails of log_ndtr, spence below zero...) and tests/scipy_stats_test.py
(each distribution's logpdf/pdf/cdf/logcdf/sf/ppf against SciPy, with broadcast
parameters). Every case is written once against a namespace (``L.special``, ``L.stats``,
``L.grad``...) and checked two ways:

* against a reference that exists without JAX (SciPy's values, mpmath where SciPy itself is
  the less accurate one, closed forms, and functrans.testing.check_grads: JVPs against central
  differences in float64, VJPs by the dot-product identity, second order), on every backend;
* side by side with JAX (x64) on the same inputs, where JAX is installed (CI does not install
  it: those tests skip there).

Where the two libraries differ, the reference decides; the differences where JAX is the one
off (spence's derivative at 0, 1 and 2, poch at negative integers, xlogy's derivative at 0)
are pinned here, as are the derivatives functrans does not have (the Riemann zeta
function's, hyp1f1's second derivatives in its parameters: a clear NotImplementedError) -
docs/coming-from-jax.md lists them.
"""

from __future__ import annotations

import math
import types
import warnings
import zlib

import numpy as np
import pytest
import scipy.special as osp
import scipy.stats as ost

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
import functrans.scipy.stats as fst
from functrans.testing import check_grads

from ._second_device import check_derivatives

try:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.special as jsp
    import jax.scipy.stats as jst
except ImportError:  # (CI: the JAX halves of the cases skip)
    jax = None

needs_jax = pytest.mark.skipif(jax is None, reason="JAX is not installed (side-by-side cases)")

FT = types.SimpleNamespace(name="functrans", np=fnp, special=fsp, stats=fst, grad=ft.grad,
                           jvp=ft.jvp, vmap=ft.vmap, jit=ft.jit)
JX = None if jax is None else types.SimpleNamespace(
    name="jax", np=jnp, special=jsp, stats=jst, grad=jax.grad, jvp=jax.jvp, vmap=jax.vmap,
    jit=jax.jit)


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _close(got, ref, rtol, atol=0.0):
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, equal_nan=True)


def _np(backend, tree):
    if isinstance(tree, (tuple, list)):
        return type(tree)(_np(backend, t) for t in tree)
    return backend.to_numpy(tree)


# -- domains (inputs are drawn from these; each arg is a function of (rng, shape)) -------------

def positive(r, s):
    return r.uniform(0.2, 5.0, s)


def small_positive(r, s):
    return r.uniform(0.02, 0.98, s)


def symmetric(r, s):
    return r.normal(0.0, 2.5, s)


def inner(r, s):
    return r.uniform(0.05, 0.95, s)


def not_small(r, s):
    return np.where(r.random(s) < 0.5, -1.0, 1.0) * r.uniform(0.2, 5.0, s)


def off_poles(r, s):
    # negative non-integers kept away from the poles of gamma
    return np.floor(r.uniform(-4.0, 5.0, s)) + r.uniform(0.15, 0.85, s)


def above_one(r, s):
    return r.uniform(1.5, 6.0, s)


def above_minus_one(r, s):
    return r.uniform(-0.8, 4.0, s)


def hyp_range(r, s):
    return r.uniform(0.5, 8.0, s)


# One record per function: name, its arguments' domains, the arguments whose derivatives are
# checked (numerically, to second order), the value tolerance against SciPy, and the
# arguments JAX differentiates (None: the same).
Rec = types.SimpleNamespace

SPECIAL = [
    Rec(name="beta", doms=(positive, positive), diff=(0, 1)),
    Rec(name="betaln", doms=(positive, positive), diff=(0, 1)),
    Rec(name="betainc", doms=(positive, positive, small_positive), diff=(0, 1, 2), jax_diff=(2,),
        order=1),
    Rec(name="gamma", doms=(off_poles,), diff=(0,)),
    Rec(name="digamma", doms=(positive,), diff=(0,)),
    Rec(name="gammainc", doms=(positive, positive), diff=(0, 1), order=1),
    Rec(name="gammaincc", doms=(positive, positive), diff=(0, 1), order=1),
    Rec(name="erf", doms=(small_positive,), diff=(0,)),
    Rec(name="erfc", doms=(small_positive,), diff=(0,)),
    Rec(name="erfinv", doms=(small_positive,), diff=(0,)),
    Rec(name="expit", doms=(symmetric,), diff=(0,)),
    Rec(name="gammaln", doms=(positive,), diff=(0,)),
    Rec(name="i0", doms=(symmetric,), diff=(0,)),
    Rec(name="i0e", doms=(not_small,), diff=(0,)),
    Rec(name="i1", doms=(symmetric,), diff=(0,)),
    Rec(name="i1e", doms=(symmetric,), diff=(0,)),
    Rec(name="logit", doms=(inner,), diff=(0,)),
    Rec(name="log_ndtr", doms=(symmetric,), diff=(0,)),
    Rec(name="ndtri", doms=(inner,), diff=(0,)),
    Rec(name="ndtr", doms=(symmetric,), diff=(0,)),
    Rec(name="entr", doms=(positive,), diff=(0,)),
    Rec(name="xlogy", doms=(positive, positive), diff=(0, 1)),
    Rec(name="xlog1py", doms=(symmetric, above_minus_one), diff=(0, 1)),
    Rec(name="zeta", doms=(above_one, positive), diff=(1,)),
    Rec(name="expi", doms=(not_small,), diff=(0,)),
    Rec(name="exp1", doms=(positive,), diff=(0,)),
    Rec(name="kl_div", doms=(positive, positive), diff=(0, 1)),
    Rec(name="rel_entr", doms=(positive, positive), diff=(0, 1)),
    Rec(name="poch", doms=(positive, positive), diff=(0, 1), order=1),
    Rec(name="hyp1f1", doms=(hyp_range, hyp_range, hyp_range), diff=(2,), order=1,
        rtol=1e-10),
    Rec(name="gammasgn", doms=(off_poles,), diff=()),
    Rec(name="factorial", doms=(positive,), diff=(0,)),
    Rec(name="erfcx", doms=(symmetric,), diff=(0,)),
    # (JAX's derivative of spence is nan on (1, 2] and 0 at 1: test_spence_derivative)
    Rec(name="spence", doms=(positive,), diff=(0,), jax_nan=lambda x: (x > 1.0) & (x <= 2.0)),
    Rec(name="log_expit", doms=(symmetric,), diff=(0,), in_jax=False),
    Rec(name="loggamma", doms=(positive,), diff=(0,)),
]
for _r in SPECIAL:
    _r.__dict__.setdefault("jax_diff", _r.diff)
    _r.__dict__.setdefault("order", 2)
    _r.__dict__.setdefault("rtol", 1e-12)
    _r.__dict__.setdefault("in_jax", True)
    _r.__dict__.setdefault("jax_nan", None)

# operand shapes that broadcast against each other, as JAX's table does with its shapes
_SHAPES = {1: [(2, 3)], 2: [(2, 1), (3,)], 3: [(2, 1), (1, 3), (3,)]}
_REC = {r.name: r for r in SPECIAL}


def _special_args(rec):
    r = _rng("special", rec.name)
    return [d(r, s) for d, s in zip(rec.doms, _SHAPES[len(rec.doms)])]


def _with_fixed(f, args, diff):
    """``f`` as a function of the arguments in ``diff`` only, the others fixed."""
    def g(*vals):
        full = list(args)
        for i, v in zip(diff, vals):
            full[i] = v
        return f(*full)
    return g


def special_case(L, rec, args, diff=None):
    """The value of ``rec``'s function at ``args`` and the gradients of its sum in each
    argument of ``diff``."""
    f = getattr(L.special, rec.name)
    diff = rec.diff if diff is None else diff
    grads = [L.grad(lambda v, i=i: L.np.sum(_with_fixed(f, args, (i,))(v)))(args[i])
             for i in diff]
    return f(*args), grads


@pytest.mark.parametrize("name", [r.name for r in SPECIAL])
def test_special_table_values_and_derivatives(backend, name):
    rec = _REC[name]
    args = _special_args(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = getattr(osp, name)(*args)
    bargs = [backend.asarray(a) for a in args]
    value, grads = special_case(FT, rec, bargs)
    _close(backend.to_numpy(value), ref, rec.rtol, 1e-300)
    if rec.diff:
        check_grads(_with_fixed(getattr(fsp, name), bargs, rec.diff),
                    tuple(bargs[i] for i in rec.diff), order=rec.order)


@needs_jax
@pytest.mark.parametrize("name", [r.name for r in SPECIAL if r.in_jax])
def test_special_table_matches_jax(name):
    rec = _REC[name]
    args = _special_args(rec)
    mine = special_case(FT, rec, args, rec.jax_diff)
    theirs = special_case(JX, rec, args, rec.jax_diff)
    _close(mine[0], theirs[0], 1e-9, 1e-300)
    for a, b in zip(mine[1], theirs[1]):
        a, b = np.array(a), np.array(b)
        if rec.jax_nan is not None:  # (where JAX's derivative is known to be nan)
            off = np.broadcast_to(rec.jax_nan(*args), b.shape)
            assert np.isnan(b[off]).all() and np.isfinite(a[off]).all()
            a[off] = b[off] = 0.0
        _close(a, b, 1e-9, 1e-300)


# -- integer orders: polygamma, expn ---------------------------------------------------------

def order_case(L, n, x):
    return (L.special.polygamma(n, x), L.special.expn(n, x),
            L.grad(lambda x: L.np.sum(L.special.polygamma(n, x)))(x),
            L.grad(lambda x: L.np.sum(L.special.expn(n, x)))(x))


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_integer_order_functions(backend, n):
    x = _rng("order", n).uniform(0.2, 5.0, (4,))
    got = _np(backend, order_case(FT, n, backend.asarray(x)))
    _close(got[0], osp.polygamma(n, x), 1e-12)
    _close(got[1], osp.expn(n, x), 1e-12)
    _close(got[2], osp.polygamma(n + 1, x), 1e-12)
    _close(got[3], -osp.expn(n - 1, x) if n else -np.exp(-x) * (1 + x) / x ** 2, 1e-12)
    check_grads(lambda x: fsp.polygamma(n, x), (backend.asarray(x),), order=2)
    check_grads(lambda x: fsp.expn(n, x), (backend.asarray(x),), order=2)


@needs_jax
@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_integer_order_functions_match_jax(n):
    x = _rng("order", n).uniform(1.2, 5.0, (4,))  # (JAX's derivative of expn(0, x): nan below 1)
    for a, b in zip(order_case(FT, n, x), order_case(JX, n, x)):
        _close(a, b, 1e-10)


def array_order_case(L, n, x):
    return (L.special.polygamma(n, x), L.special.expn(n, x),
            L.grad(lambda x: L.np.sum(L.special.polygamma(n, x)))(x),
            L.vmap(lambda x: L.special.expn(n, x))(x))


def test_arrays_of_orders(backend):
    """An integer array of orders broadcast against x (JAX's table draws n so)."""
    n = np.array([[0], [1], [3]])
    x = _rng("orders").uniform(0.3, 4.0, (2, 1, 4))
    got = _np(backend, array_order_case(FT, backend.asarray(n, dtype="int64"),
                                        backend.asarray(x)))
    _close(got[0], osp.polygamma(n, x), 1e-12)
    _close(got[1], osp.expn(n, x), 1e-12)
    _close(got[2], osp.polygamma(n + 1, x).sum(axis=1, keepdims=True), 1e-12)
    _close(got[3], osp.expn(n, x), 1e-12)
    # SciPy's nan for an order that is negative or (polygamma) not integral
    bad = backend.asarray([-1.0, 1.5, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _close(backend.to_numpy(fsp.polygamma(bad, 2.0)), osp.polygamma([-1.0, 1.5, 2.0], 2.0),
               1e-12)
        _close(backend.to_numpy(fsp.expn(bad, 2.0)), osp.expn([-1.0, 1.5, 2.0], 2.0), 1e-12)
    with pytest.raises(TypeError, match="orders n must be concrete"):
        ft.grad(lambda n: fsp.polygamma(n, 1.5)[0])(backend.asarray([1.0]))


@needs_jax
def test_arrays_of_orders_match_jax():
    n = np.array([[0], [1], [3]])
    x = _rng("orders").uniform(1.3, 4.0, (2, 1, 4))
    for a, b in zip(array_order_case(FT, n, x), array_order_case(JX, n, x)):
        _close(a, b, 1e-10)


# -- special points ---------------------------------------------------------------------------

def _both(case, *args, tol=1e-10):
    """``case`` on functrans and, where installed, on JAX: the results must agree. Returns
    functrans's (the caller checks it against a reference that needs no JAX)."""
    mine = case(FT, *args)
    if JX is not None:
        theirs = case(JX, *args)
        for a, b in zip(mine if isinstance(mine, tuple) else (mine,),
                        theirs if isinstance(theirs, tuple) else (theirs,)):
            _close(a, b, tol)
    return mine


def _exact_bernoulli(n):
    """B_0 .. B_n as fractions (B_1 = -1/2), from sum_k C(m+1, k) B_k = 0."""
    from fractions import Fraction
    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(math.comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return np.array([float(v) for v in b])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 50])
def test_bernoulli_numbers(n):
    """Against the exact fractions rounded once: SciPy's B_4 is 2e-12 off, JAX 0.10's 3e-6."""
    got = np.asarray(fsp.bernoulli(n))
    _close(got, _exact_bernoulli(n), 1e-15)
    _close(got, osp.bernoulli(n), 1e-11)
    if JX is not None:
        _close(JX.special.bernoulli(n), got, 1e-5)


def gamma_at_integers_case(L, x):
    return L.special.gamma(x), L.special.gammasgn(x), L.special.gammaln(x)


def test_gamma_sign_at_integers(backend):
    """Poles (nan) at 0 and the negative integers, the sign right in between (JAX's check of
    gamma's sign); -0.0 and +0.0 give -inf and +inf."""
    x = np.concatenate([np.arange(-10.0, 10.0), [-0.0, -2.5, -3.5, -0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _np(backend, gamma_at_integers_case(FT, backend.asarray(x)))
        if backend.name == "numpy":
            _both(gamma_at_integers_case, x)
    _close(got[0], osp.gamma(x), 1e-13)
    _close(got[1], osp.gammasgn(x), 0)
    _close(got[2], osp.gammaln(x), 1e-13)


def test_expit_far_below_zero_is_zero_in_float32(backend):
    x = backend.asarray(np.full(4, -1e20), dtype="float32")
    out = fsp.expit(x)
    assert backend.to_numpy(out).dtype == np.float32
    np.testing.assert_array_equal(backend.to_numpy(out), np.zeros(4, np.float32))
    np.testing.assert_array_equal(backend.to_numpy(fsp.log_expit(x)), np.full(4, -1e20,
                                                                                np.float32))


def test_zeta_with_huge_exponent(backend):
    """The sum is its first term or two there: 1 for q = 1, inf below, 0 above (SciPy 1.17
    and JAX 0.10 give nan from x of about 1e15 on; JAX's older test asked for 0)."""
    x = np.array([1e5, 1e19, 1e10, 1e19, 1e300, 1500.0, 1e3 + 1])
    q = np.array([1.0, 40.0, 30.0, 0.5, 1.5, 1.5, 1.001])
    got = backend.to_numpy(fsp.zeta(backend.asarray(x), backend.asarray(q)))
    with np.errstate(over="ignore"):
        ref = q ** -x + (q + 1) ** -x
    _close(got, ref, 1e-13)
    np.testing.assert_array_equal(got[:5], [1.0, 0.0, 0.0, np.inf, 0.0])
    g = backend.to_numpy(ft.vmap(ft.grad(fsp.zeta, argnums=1))(backend.asarray(x[5:]),
                                                                 backend.asarray(q[5:])))
    _close(g, -x[5:] * osp.zeta(x[5:] + 1, q[5:]), 1e-12)


def betaln_one_case(L, xs):
    return L.jvp(lambda x: L.special.betaln(x, 1.0), (xs,), (L.np.ones_like(xs),))


def test_betaln_with_one_over_thirty_decades(backend):
    """betaln(x, 1) = -log(x), derivative -1/x, for x from 1 to 1e30."""
    xs = np.geomspace(1.0, 1e30, 40)
    val, tan = _np(backend, betaln_one_case(FT, backend.asarray(xs)))
    _close(val, -np.log(xs), 1e-12, 1e-12)
    _close(tan, -1.0 / xs, 1e-9)
    if backend.name == "numpy":
        _both(betaln_one_case, xs, tol=1e-5)  # (JAX's own tolerance: it is less accurate)


def zero_case(L):
    return (L.special.xlogy(0.0, 0.0), L.special.xlog1py(0.0, -1.0),
            L.grad(lambda y: L.special.xlogy(0.0, y))(2.0),
            L.grad(lambda x: L.special.xlogy(x, 2.0))(0.0),
            L.grad(lambda y: L.special.xlog1py(0.0, y))(1.0),
            L.special.entr(0.0), L.special.entr(-1.0), L.grad(L.special.entr)(0.0))


def test_xlogy_xlog1py_entr_at_zero():
    got = _both(zero_case)
    _close(got, [0.0, 0.0, 0.0, math.log(2.0), 0.0, 0.0, -math.inf, math.inf], 1e-15)


def test_xlogy_xlog1py_derivative_in_y_at_its_singular_point(backend):
    """d/dy xlogy(0, y) at y = 0 (and xlog1py(0, y) at y = -1) is 0 here, the limit along
    x = 0 (as JAX's older test asked; JAX 0.10 gives nan)."""
    for f, y in ((fsp.xlogy, 0.0), (fsp.xlog1py, -1.0)):
        g = ft.grad(lambda y, f=f: f(backend.asarray(0.0), y))(backend.asarray(y))
        assert backend.to_numpy(g) == 0.0


def test_spence_derivative(backend):
    """spence'(x) = log(x) / (1 - x), -1 at x = 1, -inf at 0; nan below 0 (value and
    derivative). JAX 0.10's derivative is nan on (1, 2] and 0 at 0 and 1."""
    x = np.array([0.0, 0.3, 1.0, 1.2, 1.5, 2.0, 3.0])
    g = backend.to_numpy(ft.vmap(ft.grad(fsp.spence))(backend.asarray(x)))
    with np.errstate(all="ignore"):
        ref = np.where(x == 1.0, -1.0, np.log(x) / (1.0 - x))
    _close(g, ref, 1e-12)
    neg = backend.asarray([-0.5, -2.0])
    assert np.isnan(backend.to_numpy(fsp.spence(neg))).all()
    _close(backend.to_numpy(fsp.spence(backend.asarray(x))), osp.spence(x), 1e-13)


def _mpmath():
    return pytest.importorskip("mpmath")


def log_ndtr_case(L, z):
    return L.special.log_ndtr(z), L.vmap(L.grad(L.special.log_ndtr))(z)


def test_log_ndtr_tails_against_mpmath(backend):
    """Both tails, to where SciPy's ndtr under/overflows; the derivative phi/Phi too (JAX's is
    about 4e-9 off near z = -38, its values 6e-8 near z = 6: compared at those)."""
    mp = _mpmath()
    mp.mp.dps = 40
    z = np.array([-38.0, -30.0, -20.0, -10.0, -5.0, -1.0, 0.5, 3.0, 6.0, 10.0, 20.0])
    ref = np.array([float(mp.log(mp.ncdf(v)) if v < 0 else mp.log1p(-mp.ncdf(-v)))
                    for v in map(mp.mpf, z)])
    dref = np.array([float(mp.npdf(mp.mpf(v)) / mp.ncdf(mp.mpf(v))) for v in z])
    val, der = _np(backend, log_ndtr_case(FT, backend.asarray(z)))
    _close(val, ref, 1e-13)
    _close(der, dref, 1e-12)
    if backend.name == "numpy" and JX is not None:
        jv, jd = log_ndtr_case(JX, z)
        _close(jv, ref, 1e-7)  # (JAX 0.10: 6e-8 off at z = 6)
        _close(jd, dref, 1e-8)


def inverse_pair_case(L, p, x):
    return (L.special.expit(L.special.logit(p)), L.special.logit(L.special.expit(x)),
            L.vmap(L.grad(L.special.logit))(p), L.vmap(L.grad(L.special.expit))(x),
            L.special.ndtr(L.special.ndtri(p)), L.vmap(L.grad(L.special.ndtri))(p),
            L.special.erf(L.special.erfinv(2 * p - 1)))


def test_logit_expit_ndtri_erfinv_inverses(backend):
    p = np.array([1e-12, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9])
    x = np.array([-30.0, -3.0, 0.0, 2.0, 12.0, 5.0])
    got = _np(backend, inverse_pair_case(FT, backend.asarray(p), backend.asarray(x)))
    _close(got[0], p, 1e-9)
    _close(got[1], x, 1e-9)
    _close(got[2], 1 / (p * (1 - p)), 1e-9)
    e = osp.expit(x)
    _close(got[3], e * (1 - e), 1e-11)
    _close(got[4], p, 1e-9)
    _close(got[5], 1 / ost.norm.pdf(osp.ndtri(p)), 1e-9)
    _close(got[6], 2 * p - 1, 1e-9, 1e-15)
    if backend.name == "numpy":
        _both(inverse_pair_case, p, x, tol=1e-9)


def edge_case(L, name, a, b):
    return getattr(L.special, name)(a, b)


@pytest.mark.parametrize("name", ["kl_div", "rel_entr", "xlogy", "xlog1py", "poch"])
def test_binary_edge_values(backend, name):
    a = np.array([0.0, 0.0, 1.0, -1.0, 1.0, 2.0, -2.0, -3.0, 0.5])
    b = np.array([0.0, 1.0, 0.0, 1.0, -1.0, np.inf, 1.0, 2.0, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = backend.to_numpy(edge_case(FT, name, backend.asarray(a), backend.asarray(b)))
        ref = getattr(osp, name)(a, b)
    _close(got, ref, 1e-13)


@needs_jax
def test_poch_at_negative_integers_differs_from_jax():
    """poch(-2, 1) = -2 (a polynomial in z at integer m): SciPy and functrans; JAX 0.10 nan."""
    z, m = np.array([-2.0, -3.0]), np.array([1.0, 2.0])
    _close(fsp.poch(z, m), osp.poch(z, m), 1e-14)
    assert np.isnan(np.asarray(jsp.poch(z, m))).all()


def test_factorial_values(backend):
    n = np.array([-1.0, 0.0, 1.0, 3.0, 4.5, 20.0, 170.0, 171.0])
    got = backend.to_numpy(fsp.factorial(backend.asarray(n)))
    _close(got, osp.factorial(n), 1e-13)
    if backend.name == "numpy":
        _both(lambda L: L.special.factorial(n), tol=1e-12)


@pytest.mark.parametrize("name,x", [
    ("erfcx", [-26.0, -5.0, 0.0, 5.0, 50.0, 1e5, 1e10]),
    ("erfinv", [-1.0, -1 + 1e-12, -0.5, 0.0, 1e-300, 0.999999, 1.0]),
    ("ndtri", [0.0, 1e-300, 1e-20, 0.5, 1 - 1e-12, 1.0]),
    ("i0e", [-700.0, -30.0, 0.0, 1e-5, 50.0, 1e4]),
    ("i1e", [-700.0, -30.0, 0.0, 1e-5, 50.0, 1e4]),
    ("expi", [-700.0, -30.0, -1e-5, 1e-5, 30.0, 700.0]),
    ("exp1", [1e-10, 1e-3, 1.0, 30.0, 700.0]),
    ("digamma", [-2.5, -0.5, 1e-8, 1.0, 1e6]),
])
def test_unary_wide_range(backend, name, x):
    x = np.array(x)
    got = backend.to_numpy(getattr(fsp, name)(backend.asarray(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _close(got, getattr(osp, name)(x), 1e-12, 1e-300)
        if backend.name == "numpy" and name != "exp1":  # (JAX 0.10's exp1 hangs here)
            _both(lambda L: getattr(L.special, name)(x), tol=1e-9)


def incomplete_case(L, a, x):
    return (L.special.gammainc(a, x), L.special.gammaincc(a, x),
            L.vmap(L.grad(L.special.gammainc, argnums=1))(a, x),
            L.vmap(L.grad(L.special.gammaincc, argnums=(0, 1)))(a, x))


def test_incomplete_gamma_wide_range(backend):
    """Large and small shapes, both sides of x = a, both regularized functions and their
    derivatives (in a: against central differences here, as SciPy has no derivative)."""
    a = np.array([1e-3, 0.5, 2.0, 30.0, 200.0, 1e3, 1e3, 5.0])
    x = np.array([1e-4, 3.0, 0.1, 25.0, 210.0, 950.0, 1100.0, 60.0])
    got = _np(backend, incomplete_case(FT, backend.asarray(a), backend.asarray(x)))
    _close(got[0], osp.gammainc(a, x), 1e-11, 1e-300)
    _close(got[1], osp.gammaincc(a, x), 1e-11, 1e-300)
    dens = np.exp((a - 1) * np.log(x) - x - osp.gammaln(a))
    _close(got[2], dens, 1e-11, 1e-300)
    h = 1e-6 * a
    fd = (osp.gammaincc(a + h, x) - osp.gammaincc(a - h, x)) / (2 * h)
    _close(got[3][0], fd, 1e-5, 1e-12)
    _close(got[3][1], -dens, 1e-11, 1e-300)
    if backend.name == "numpy":
        _both(incomplete_case, a, x, tol=1e-8)


def test_betainc_regions(backend):
    """x on both sides of the mean, tiny and large a, b; the derivative in x is the beta
    density."""
    a = np.array([0.1, 1.0, 5.0, 50.0, 500.0, 2.0, 1e-3])
    b = np.array([0.2, 1.0, 0.5, 60.0, 400.0, 1e3, 5.0])
    x = np.array([0.3, 0.7, 0.999, 0.45, 0.56, 1e-3, 0.5])
    got = backend.to_numpy(fsp.betainc(backend.asarray(a), backend.asarray(b),
                                       backend.asarray(x)))
    _close(got, osp.betainc(a, b, x), 1e-10, 1e-300)
    g = backend.to_numpy(ft.vmap(ft.grad(fsp.betainc, argnums=2))(
        backend.asarray(a), backend.asarray(b), backend.asarray(x)))
    _close(g, ost.beta.pdf(x, a, b), 1e-10, 1e-300)
    if backend.name == "numpy":
        _both(lambda L: (L.special.betainc(a, b, x),
                         L.vmap(L.grad(L.special.betainc, argnums=2))(a, b, x)), tol=1e-8)


def parameter_derivative_case(L, which):
    if which == "zeta":
        return L.grad(L.special.zeta)(3.0, 2.0)
    return L.grad(L.special.hyp1f1, argnums=0)(1.5, 2.5, 0.7)


@pytest.mark.parametrize("which", ["zeta", "hyp1f1"])
def test_derivatives_in_the_exponent_and_parameters(which):
    """zeta in its exponent and hyp1f1 in its parameters (since session 27; they raised):
    against central differences of SciPy's values, and JAX and mpmath where installed."""
    h = 1e-6
    if which == "zeta":
        fd = (osp.zeta(3.0 + h, 2.0) - osp.zeta(3.0 - h, 2.0)) / (2 * h)
    else:
        fd = (osp.hyp1f1(1.5 + h, 2.5, 0.7) - osp.hyp1f1(1.5 - h, 2.5, 0.7)) / (2 * h)
    got = float(parameter_derivative_case(FT, which))
    _close(got, fd, 1e-7)
    if JX is not None:
        mp = _mpmath()
        mp.mp.dps = 30
        ref = (mp.diff(lambda s: mp.zeta(s, 2), 3) if which == "zeta"
               else mp.diff(lambda a: mp.hyp1f1(a, 2.5, 0.7), 1.5))
        _close(got, float(ref), 1e-12)
        _close(parameter_derivative_case(JX, which), float(ref), 1e-8)


def softmax_case(L, x, axis):
    return (L.special.softmax(x, axis=axis), L.special.log_softmax(x, axis=axis),
            L.special.logsumexp(x, axis=axis),
            L.grad(lambda x: L.np.sum(L.special.log_softmax(x, axis=axis)[..., 0] ** 2))(x))


@pytest.mark.parametrize("axis", [0, -1, (0, 1)])
def test_softmax_family(backend, axis):
    x = _rng("softmax", str(axis)).normal(size=(3, 4)) * 3
    x[0, 1] = -np.inf
    got = _np(backend, softmax_case(FT, backend.asarray(x), axis))
    _close(got[0], osp.softmax(x, axis=axis), 1e-13)
    _close(got[1], osp.log_softmax(x, axis=axis), 1e-13)
    _close(got[2], osp.logsumexp(x, axis=axis), 1e-13)
    xf = np.where(np.isinf(x), -50.0, x)
    check_grads(lambda x: fsp.log_softmax(x, axis=axis), (backend.asarray(xf),), order=2)
    check_grads(lambda x: fsp.softmax(x, axis=axis), (backend.asarray(xf),), order=2)
    if backend.name == "numpy":
        _both(softmax_case, x, axis, tol=1e-12)


# -- scipy.stats: each distribution's methods against SciPy, derivatives in every parameter ----

def _u(lo, hi):
    return lambda r, s: r.uniform(lo, hi, s)


def _i(lo, hi):
    return lambda r, s: r.integers(lo, hi, s).astype(float)


_X, _P, _L = _u(-3, 3), _u(0.5, 4), _u(-1, 1)
# name: (domain of x, domains of the parameters, discrete, arguments with no derivative)
DISTS = {
    "norm": (_X, [_L, _P], False, ()), "cauchy": (_X, [_L, _P], False, ()),
    "laplace": (_X, [_L, _P], False, ()), "logistic": (_X, [_L, _P], False, ()),
    "gumbel_r": (_X, [_L, _P], False, ()), "gumbel_l": (_X, [_L, _P], False, ()),
    "expon": (_u(1.5, 4), [_L, _u(0.5, 2)], False, ()),
    "gamma": (_u(1.5, 5), [_P, _u(-1, 0.5), _u(0.5, 2)], False, ()),
    "chi2": (_u(1.5, 5), [_P, _u(-1, 0.5), _u(0.5, 2)], False, ()),
    "t": (_X, [_P, _L, _P], False, ()), "beta": (_u(0.1, 0.9), [_P, _P], False, ()),
    "lognorm": (_u(1.5, 5), [_P, _u(-1, 0.5), _u(0.5, 2)], False, ()),
    "pareto": (_u(4.5, 6), [_P, _L, _u(0.5, 2)], False, ()),
    "weibull_min": (_u(1.5, 4), [_P, _u(-1, 0.5), _u(0.5, 2)], False, ()),
    "uniform": (_u(0.1, 0.9), [_u(-0.5, 0), _u(1, 2)], False, ()),
    "poisson": (_i(0, 8), [_P, _i(-2, 2)], True, (0, 2)),
    "geom": (_i(1, 8), [_u(0.05, 0.95), _i(-1, 1)], True, (0, 2)),
    "binom": (_i(0, 8), [_i(8, 12), _u(0.05, 0.95), _i(-1, 1)], True, (0, 1, 3)),
    "nbinom": (_i(0, 8), [_i(1, 6), _u(0.05, 0.95), _i(-1, 1)], True, (0, 1, 3)),
}
_CONT = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")
_DISC = ("logpmf", "pmf", "cdf", "sf")
STATS = [(d, m) for d, spec in DISTS.items() for m in (_DISC if spec[2] else _CONT)
         if hasattr(getattr(fst, d), m) and hasattr(getattr(ost, d), m)]


def _stats_args(dist, method):
    xd, pds, _, _ = DISTS[dist]
    r = _rng("stats", dist, method)
    x = (_u(0.05, 0.95) if method in ("ppf", "isf") else xd)(r, (2, 3))
    return [x] + [p(r, (3,)) for p in pds]


@pytest.mark.parametrize("dist,method", STATS)
def test_stats_values_and_derivatives(backend, dist, method):
    args = _stats_args(dist, method)
    f = getattr(getattr(fst, dist), method)
    bargs = [backend.asarray(a) for a in args]
    got = backend.to_numpy(f(*bargs))
    _close(got, getattr(getattr(ost, dist), method)(*args), 1e-11, 1e-300)
    diff = tuple(i for i in range(len(args)) if i not in DISTS[dist][3])
    check_derivatives(backend, _with_fixed(f, bargs, diff), tuple(bargs[i] for i in diff),
                      order=1)


def stats_case(L, dist, method, args, diff):
    f = getattr(getattr(L.stats, dist), method)
    return f(*args), [L.grad(lambda v, i=i: L.np.sum(_with_fixed(f, args, (i,))(v)))(args[i])
                      for i in diff]


@needs_jax
@pytest.mark.parametrize("dist,method", [(d, m) for d, m in STATS
                                         if jax is not None and hasattr(getattr(jst, d, None), m)])
def test_stats_match_jax(dist, method):
    args = _stats_args(dist, method)
    diff = tuple(i for i in range(len(args)) if i not in DISTS[dist][3])
    if dist == "beta" and method in ("cdf", "logcdf", "sf", "logsf"):
        diff = (0,) + diff[3:]  # (JAX has no derivative of betainc in a, b)
    if dist in ("gumbel_l", "gumbel_r") and method in ("logpdf", "pdf", "ppf"):
        diff = ()  # (JAX 0.10: float0 error in one of the parameters)
    mine = stats_case(FT, dist, method, args, diff)
    theirs = stats_case(JX, dist, method, args, diff)
    _close(mine[0], theirs[0], 1e-9, 1e-15)  # (JAX's gumbel_l.logcdf: 0 for -1e-20)
    for a, b in zip(mine[1], theirs[1]):
        _close(a, b, 1e-8, 1e-15)
