"""Every differentiable primitive, checked numerically to order 2 (JVP against finite
differences, VJP by the dot-product identity, then the JVP and VJP functions themselves) on
every backend, with values drawn by hypothesis inside each primitive's domain.

The table below names, for each primitive in ``functrans.core.registry``, a function that
uses it and the domain of its inputs. Primitives with no derivative are listed in
``NON_DIFFERENTIABLE``; primitives that only appear inside derivatives (the transpose of
slicing...) in ``INDIRECT``, with the case that exercises them. ``test_table_is_complete``
fails when a primitive is registered without an entry: add one when you add a primitive.

Functions go through ``functrans.numpy`` where it has them, and through the primitive
modules' own helpers otherwise (the namespace grows in parallel; either way the primitive's
rules are what is checked).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.core import registry
from functrans.primitives import elementwise as E
from functrans.primitives import fft as F
from functrans.primitives import indexing as I
from functrans.primitives import linalg as L
from functrans.primitives import reductions as R
from functrans.primitives import sorting as So
from functrans.primitives import special as Sp
from functrans.primitives import structural as S
from functrans.testing import check_grads, strategies as fts

from ._second_device import check_derivatives

REAL = fts.real()
POS = fts.positive()
SMALL = fts.real(-0.5, 0.5)
NONZERO = fts.away_from(0.0, margin=0.2)


@dataclass
class Case:
    """``prim`` checked through ``make(backend)(*args)``; ``args`` are (shape, Domain)."""
    prim: str
    make: object  # backend -> function, or a plain function
    args: tuple
    order: int = 2
    xfail: dict = field(default_factory=dict)  # backend name -> reason
    staged: bool = True  # make_graph can stage it (no data-dependent shapes, no custom rule)

    def fn(self, backend):
        return self.make(backend) if getattr(self.make, "wants_backend", False) else self.make

    def __repr__(self):
        return self.prim


def with_backend(make):
    make.wants_backend = True
    return make


def _ns(name, fallback):
    """``functrans.numpy.<name>`` if the namespace has it yet, else the primitive's helper."""
    return getattr(fnp, name, None) or fallback


def _spread(b, n):
    """Constants 0, 1, ..., n-1 (shuffled) on backend ``b``: added to values in [-0.3, 0.3]
    they make every element distinct by at least 0.4 (no ties for max, sort...)."""
    return b.asarray(np.random.default_rng(0).permutation(n).astype(np.float64))


def _eye(b, n, scale=1.0):
    return b.asarray(scale * np.eye(n))


V3, M23, M33 = (3,), (2, 3), (3, 3)


def unary(prim, fn, domain=REAL, shape=M23, **kw):
    return Case(prim, fn, ((shape, domain),), **kw)


def binary(prim, fn, d1=REAL, d2=REAL, shape=M23, **kw):
    return Case(prim, fn, ((shape, d1), (shape, d2)), **kw)




_named = ft.ad_checkpoint.checkpoint_name


def _tensordot_case(x, y):
    # contracted axes paired out of order on both sides (listed in two orders), an outer
    # product and a contraction of all but one axis of each
    parts = [fnp.tensordot(x, y, axes=((2, 0), (0, 1))),
             fnp.tensordot(x, y, axes=((0, 2), (1, 0))),
             fnp.tensordot(x[0, 0, :], y[:, 0, 0], axes=0),
             fnp.tensordot(x[:, :, :2], y[:2, :, :], axes=((0, 2), (1, 0)))]
    return fnp.concat([fnp.reshape(p, (-1,)) for p in parts])


def _strong_product_case(x, y):
    parts = [L.matmul_sz(x, fnp.matrix_transpose(y)), L.mul_szm(x, y, y), L._gap_mul(x, y),
             L.tie_product(x[:, :2], y[:, :2]),   # (square: s42, transpose per column pair)
             L._lazy_matmul(x, fnp.matrix_transpose(y)), L._lazy_mul(x, y)]   # (s44)
    return fnp.concat([fnp.reshape(p, (-1,)) for p in parts])


@with_backend
def _inverse_gaps_case(b):
    # (session 50) the reciprocal gaps of eigh's spectrum and of svd's (w = s^2, the ties
    # of s), nan at ties; at values 0.4 apart or more (no tie) the plain 1 / (w_j - w_i)
    def f(x):
        w = x * 0.5 + fnp.reshape(_spread(b, 6), (2, 3)) + 1.0
        parts = [L.inverse_gaps_p.bind(w, w), L.inverse_gaps_p.bind(w * w, w)]
        return fnp.concat([fnp.reshape(p, (-1,)) for p in parts])
    return f


def _cond_case(x):
    import functrans.lax as lax
    # sin(x) x + |s|^5 (s = sum(x)): the branches meet at s = 0 with four continuous
    # derivatives, so the finite differences of the checks may straddle it.
    s = fnp.sum(x)
    return lax.cond(s > 0.0, lambda x, s: fnp.sin(x) * x + s ** 5,
                    lambda x, s: fnp.sin(x) * x - s ** 5, x, s)


def _taken_rows_case(x):
    import functrans.lax as lax
    # a cond batched by vmap (under jit: its index abstract, every branch on every member)
    # with an operand c the same for every member: taken_rows around each branch, and in
    # its derivatives taken_fill and row_mask. The branches meet at b = 0 with four
    # continuous derivatives, so the finite differences of the checks may straddle it.
    c = fnp.sum(x[0])
    return ft.vmap(lambda a: lax.cond(a > 0.0, lambda b: fnp.sin(c) * b + b ** 5,
                                      lambda b: fnp.sin(c) * b - b ** 5, a))(x[1])


def _scan_case(x):
    import functrans.lax as lax
    c, ys = lax.scan(lambda c, r: (c * fnp.sin(r) + r, c * r), fnp.tanh(x[0]), x)
    return fnp.concat([c, fnp.reshape(ys, (-1,))])


def _while_case(x):
    import functrans.lax as lax
    # The counter depends on x (so the predicate is abstract under jit), not its value.
    i0 = fnp.astype(fnp.sum(x) * 0.0, fnp.int64)
    return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.sin(c[1]) * 1.1 + x),
                          (i0, x))[1]


def _softmax_tangent_case(t, x):
    from functrans.primitives.softmax import softmax_tangent
    e = fnp.exp(x)
    s = fnp.sum(e, axis=1, keepdims=True)
    y = e / s
    outs = [softmax_tangent(t, y, s - s, kind="softmax", axes=(1,)),
            softmax_tangent(t, e, s, kind="log", axes=(1,)),
            softmax_tangent(t, e, s, kind="log_t", axes=(1,))]
    return fnp.concat([fnp.reshape(o, (-1,)) for o in outs])


def _with_own_vjp(f):
    """``f(x)`` plus its VJP at ``x`` with cotangent ``f(x)``: staged under jit, the reverse
    mode of ``f``'s control flow is built with an abstract index or length."""
    def g(x):
        y, pullback = ft.vjp(f, x)
        return y + fnp.sum(pullback(y)[0])
    return g


def _custom_jvp_fn(scale=fnp.multiply):
    """softplus with a custom JVP rule, which scales the tangent with ``scale(t, s)``."""
    @ft.custom_jvp
    def softplus(x):
        return fnp.log(1.0 + fnp.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), scale(t, 1.0 / (1.0 + fnp.exp(-x)))
    return softplus


def _custom_vmap_fn():
    """(session 15, api helper) sin(x) * x as a custom_vmap function whose rule computes the
    same with the batch: its derivatives come from the function, batched through the rule."""
    @ft.custom_batching.custom_vmap
    def f(x):
        return fnp.sin(x) * x

    @f.def_vmap
    def f_vmap(axis_size, in_batched, x):
        return fnp.sin(x) * x, in_batched[0]
    return f


def _linear_call_fn():
    """(session 27) a linear_call whose linear map is x -> w * x + flip of x along axis 1,
    with its true transpose; the weights w (a residual) depend on x, so its derivative in
    the residuals (through the function's code) is exercised too."""
    from functrans.custom_derivatives import linear_call

    def apply(w, x):
        return fnp.multiply(w, x) + fnp.flip(x, axis=1)

    def apply_t(w, ct):
        return fnp.multiply(w, ct) + fnp.flip(ct, axis=1)
    return lambda x: linear_call(apply, apply_t, fnp.sin(x), fnp.cos(x) * x)


def _custom_vjp_fn():
    @ft.custom_vjp
    def f(x):
        return fnp.sin(x) * x

    def fwd(x):
        return f(x), x

    def bwd(x, g):
        return (g * (fnp.cos(x) * x + fnp.sin(x)),)
    f.defvjp(fwd, bwd)
    return f


def _custom_vjp_in_jvp_rule_fn():
    # a custom_vjp applied to a tangent inside a custom_jvp rule: recorded for reverse mode
    # as custom_vjp_tangent, transposed by its bwd
    # (fnp.multiply: a strict array on the left of a tracer refuses the operator)
    @ft.custom_vjp
    def prod(t, s):
        return fnp.multiply(t, s)
    prod.defvjp(lambda t, s: (fnp.multiply(t, s), (t, s)),
                lambda r, g: (fnp.multiply(g, r[1]), fnp.multiply(g, r[0])))
    return _custom_jvp_fn(prod)


@with_backend
def _max_case(b):
    return lambda x: fnp.max(x * 0.5 + fnp.reshape(_spread(b, 6), (2, 3)), axis=1)


@with_backend
def _min_case(b):
    return lambda x: fnp.min(x * 0.5 + fnp.reshape(_spread(b, 6), (2, 3)), axis=0)


@with_backend
def _sort_case(b):
    return lambda x: So.sort(x * 0.5 + fnp.reshape(_spread(b, 6), (2, 3)), axis=1)


@with_backend
def _unique_case(b):
    return lambda x: So.unique_all(x * 0.5 + _spread(b, 3))[0]


@with_backend
def _gather_case(b):
    idx = (b.asarray([2, 0, 1, 2], "int64"),)
    return lambda x: I.gather(x, idx)


@with_backend
def _scatter_add_case(b):
    idx = (b.asarray([2, 0, 2, 1], "int64"),)
    return lambda v: I.scatter_add(v, idx, (3, 3))


@with_backend
def _take_along_case(b):
    idx = b.asarray([[2, 0, 0], [1, 1, 2]], "int64")
    return lambda x: I.take_along_axis(x, idx, 1)


@with_backend
def _scatter_along_case(b):
    idx = b.asarray([[2, 0, 0], [1, 1, 2]], "int64")
    return lambda v: I.scatter_along_axis(v, idx, 1, (2, 3))


@with_backend
def _solve_case(b):
    return lambda a, y: L.solve(a + _eye(b, 3, 3.0), y)


@with_backend
def _inv_case(b):
    return lambda a: L.inv(a + _eye(b, 3, 3.0))


@with_backend
def _det_case(b):
    return lambda a: L.det(a + _eye(b, 3, 2.0))


@with_backend
def _slogdet_case(b):
    return lambda a: L.slogdet(a + _eye(b, 3, 2.0))[1]


@with_backend
def _slogdet_inv_case(b):
    # (x^-1 and its scale 1 at an invertible x; the scale has no derivative)
    return lambda a: L.slogdet_inv_p.bind(a + _eye(b, 3, 2.0))[0]


@with_backend
def _cholesky_case(b):
    return lambda a: L.cholesky(a @ fnp.matrix_transpose(a) + _eye(b, 3, 1.0))


def _sym_spread(b):
    # a + a^T plus well-separated diagonal: distinct eigenvalues at every drawn point
    return lambda a: a + fnp.matrix_transpose(a) + b.asarray(np.diag([0.0, 3.0, 6.0]))


@with_backend
def _eigh_case(b):
    sym = _sym_spread(b)

    def f(a):
        w, v = L.eigh(sym(a))
        return w, v * v  # eigenvectors up to sign
    return f


@with_backend
def _eigvalsh_case(b):
    sym = _sym_spread(b)
    return lambda a: L.eigvalsh(sym(a))


_DENSE = np.asarray([[3.0, 1.0, -0.5], [0.8, 2.5, 0.4], [-0.6, 0.7, 2.0]])


@with_backend
def _qr_case(b):
    # Dense around a fixed matrix: LAPACK's Householder QR is discontinuous at matrices that
    # are already upper triangular (a reflection is skipped, flipping signs), where finite
    # differences would measure the jump.
    return lambda a: L.qr(a + b.asarray(_DENSE))


@with_backend
def _svd_case(b):
    spread = b.asarray(np.diag([1.0, 3.0, 6.0]))

    def f(a):
        u, s, vh = L.svd(a + spread)
        return u * u, s, vh * vh  # singular vectors up to sign
    return f


@with_backend
def _svdvals_case(b):
    return lambda a: L.svdvals(a + b.asarray(np.diag([1.0, 3.0, 6.0])))


@with_backend
def _triangular_solve_case(b):
    d = b.asarray(np.diag([2.0, 3.0, 4.0]))

    def f(a, rhs):
        return (L.triangular_solve(fnp.tril(a) + d, rhs, True),
                L.triangular_solve(fnp.triu(a) + d, rhs, False))
    return f


@with_backend
def _eig_case(b):
    spread = b.asarray(np.diag([0.0, 3.0, 6.0]))

    def f(a):
        w, v = L.eig(a + spread)
        order = fnp.argsort(E.real(w))  # LAPACK's order is its own
        w, v = fnp.take(w, order), fnp.take(v, order, axis=1)
        # eigenvectors up to a phase: |v|^2, as v conj(v) (smooth where v is 0, unlike |v|)
        return E.real(w), E.imag(w), E.real(v * E.conj(v))
    return f


@with_backend
def _eigvals_case(b):
    spread = b.asarray(np.diag([0.0, 3.0, 6.0]))

    def f(a):
        w = L.eigvals(a + spread)
        w = fnp.take(w, fnp.argsort(E.real(w)))
        return E.real(w), E.imag(w)
    return f


@with_backend
def _sylvester_case(b):
    return lambda a, c, q: L.sylvester(a + _eye(b, 3, 3.0), c + _eye(b, 2, 2.0), q)


@with_backend
def _sqrtm_case(b):
    return lambda a: L.sqrtm(a + _eye(b, 3, 3.0))


_NO_EIG = {"array_api_strict": "array-api-strict has no eig extra (tests/test_linalg_eig.py)",
           "jax": "a backend made from an Array API namespace has no eig extra"}


def _complex(x):
    return S.convert_element_type(x, fnp.complex128)


def _fft_case(x):
    z = F.fft(_complex(x) * (1 + 0.5j), (0, 1), False, "ortho")
    return E.real(z), E.imag(z)


def _rfft_case(x):
    z = F.rfft(x, (1,), "backward")
    return E.real(z), E.imag(z)


def _irfft_case(x):
    # (2, 3): the half spectrum of an output of (2, 4) (even: with a Nyquist entry) and, in
    # the second term, of (2, 5) (odd: without)
    z = _complex(x) * (0.5 - 1j)
    return F.irfft(z, (0, 1), 4, "forward"), F.irfft(z, (1,), 5, "ortho")


@with_backend
def _pinv_case(b):
    return lambda a: L.pinv(a + b.asarray(np.eye(2, 3) * 3.0))


CASES = [
    # -- elementwise, unary
    unary("exp", fnp.exp), unary("log", fnp.log, POS), unary("sin", fnp.sin),
    unary("cos", fnp.cos), unary("tanh", fnp.tanh), unary("sqrt", fnp.sqrt, POS),
    unary("neg", fnp.negative),
    unary("erf", Sp.erf), unary("erfc", Sp.erfc), unary("erfinv", Sp.erfinv, fts.real(-0.8, 0.8)),
    unary("ndtri", Sp.ndtri, fts.real(0.1, 0.9)), unary("ndtr", Sp.ndtr),
    unary("exp_sq", lambda x: Sp.exp_sq(x, -0.5)), unary("lgamma", Sp.lgamma, POS),
    unary("entr_positive", Sp.entr_positive_p.bind, POS),
    binary("x_log_y", Sp.x_log_y_p.bind, REAL, POS),
    unary("digamma", Sp.digamma, POS), unary("polygamma", lambda x: Sp.polygamma(x, n=1), POS),
    # the incomplete gamma and beta functions: derivatives in x (the shape parameters fixed)
    unary("gammainc", lambda x: Sp.gammainc(fnp.full_like(x, 2.5), x), POS),
    unary("gammaincc", lambda x: Sp.gammaincc(fnp.full_like(x, 0.7), x), POS),
    # d/da P(a, x) itself, in a (the second derivative in the shape) and x (closed form);
    # a kept in [0.6, 2.1] and x in (0.3, 1.3] by the domain's squashing
    Case("gammainc_da", lambda a, x: Sp.gammainc_da(fnp.add(fnp.tanh(a) * 0.75, 1.35),
                                                    fnp.add(fnp.tanh(x) * 0.5, 0.8), n=1),
         ((M23, REAL), (M23, REAL)), order=1),
    unary("betainc", lambda x: Sp.betainc(fnp.full_like(x, 2.0), fnp.full_like(x, 3.5), x),
          fts.real(0.1, 0.9)),
    # d/db I_x(a, b) itself, in a, b (the second derivatives in the shapes) and x (closed
    # form); a, b kept in [0.6, 2.1] and [1.5, 3], x in (0.3, 0.8) by the domain's squashing
    Case("betainc_dab", lambda a, b, x: Sp.betainc_dab(
        fnp.add(fnp.tanh(a) * 0.75, 1.35), fnp.add(fnp.tanh(b) * 0.75, 2.25),
        fnp.add(fnp.tanh(x) * 0.25, 0.55), i=0, j=1),
        ((M23, REAL), (M23, REAL), (M23, REAL)), order=1),
    # session 41: Student t's df slope at a large df by its series (one of t_fix's slopes),
    # in d, t and the tail value T (its partial derivatives: wrt); d in [150, 250], t in
    # [-3, -1], T in (0.05, 0.35) by the domain's squashing
    Case("t_fix", lambda d, t, v: Sp.t_fix(
        fnp.add(fnp.tanh(d) * 50.0, 200.0), fnp.add(fnp.tanh(t), -2.0),
        fnp.add(fnp.tanh(v) * 0.15, 0.2), part="tail_d"),
        ((V3, REAL), (V3, REAL), (V3, REAL)), order=1),
    # session 41: beta's quantile near 1, its slope in q from the complement form (one of
    # beta_ppf_fix's), in a, b and q (its partial derivatives); a in [2, 4], b in [0.5, 1],
    # q in (0.95, 0.99), x given above 15/16 (the region)
    Case("beta_ppf_fix", lambda a, b, q: Sp.beta_ppf_fix(
        fnp.add(fnp.tanh(a), 3.0), fnp.add(fnp.tanh(b) * 0.25, 0.75),
        fnp.add(fnp.tanh(q) * 0.02, 0.97), fnp.full_like(q, 0.99), slope=2),
        ((V3, REAL), (V3, REAL), (V3, REAL)), order=1),
    # session 43: F's log density above 64 degrees of freedom (the deviance form's value and
    # its slopes, f_logpdf_fix's, the staged plain form's value out replaced), in z, n and m
    # (the slopes' partial derivatives at second order); z in [0.5, 1.5], n in [100, 200],
    # m in [2, 4]: the region
    Case("f_logpdf_fix", lambda z, n, m: Sp.f_logpdf_fix(
        fnp.add(fnp.tanh(z) * 0.5, 1.0), fnp.add(fnp.tanh(n) * 50.0, 150.0),
        fnp.add(fnp.tanh(m), 3.0), fnp.zeros_like(z)),
        ((V3, REAL), (V3, REAL), (V3, REAL))),
    # session 45: F's cdf at two huge degrees of freedom, its value out kept, its slopes
    # Temme's expansion's (f_temme_fix's); here its x slope (the density) and that slope's
    # partial derivatives in n and m, within a factor e^(1/2) of 1e11 and 3e11, at x = 1 +
    # 3e-6 (z ~ 0.6: the region; in x the input's rounding near 1, ~1e-16 of a step of
    # 1e-10, hides differences' errors: test_s45_stats45 checks that partial)
    Case("f_temme_fix", lambda n, m: Sp.f_temme_fix(
        fnp.exp(fnp.add(fnp.tanh(n) * 0.5, 25.328436022934504)),
        fnp.exp(fnp.add(fnp.tanh(m) * 0.5, 26.42704831160261)),
        fnp.full_like(n, 1.0 + 3e-6), fnp.zeros_like(n), upper=False, slope=2),
        ((V3, REAL), (V3, REAL)), order=1),
    # session 47: F's cdf at one huge degree of freedom, its value out kept, its slopes the
    # series' in the gamma limit (f_huge_fix's); here its dfn slope and that slope's partial
    # derivatives, n within a factor e^(1/2) of 1e6, m in [16, 18], x = 0.5 (the region)
    Case("f_huge_fix", lambda n, m: Sp.f_huge_fix(
        fnp.exp(fnp.add(fnp.tanh(n) * 0.5, 13.815510557964274)), fnp.add(fnp.tanh(m), 17.0),
        fnp.full_like(n, 0.5), fnp.zeros_like(n), upper=False, slope=0),
        ((V3, REAL), (V3, REAL)), order=1),
    # their inverses in the probability (first order here: the generic root finders are slow
    # on array-api-strict; tests/test_namespace_grads.py checks the second)
    unary("gammaincinv", lambda y: Sp.gammaincinv(fnp.full_like(y, 2.5), y),
          fts.real(0.1, 0.9), shape=(3,), order=1),
    unary("gammainccinv", lambda y: Sp.gammainccinv(fnp.full_like(y, 0.7), y),
          fts.real(0.1, 0.9), shape=(3,), order=1),
    # session 52: the gamma inverses' derivatives at a large a, in Temme's variable eta: the
    # series S(a, eta) (here its eta slope, in a and eta: the next partial derivatives), a
    # in [100, 200], eta in [-0.2, 0.2]; and eta of the root of P(a, .) = y (in a and y, x
    # the root: a start only), a in [100, 200], y in [0.2, 0.8]
    # session 52: log(Gamma(y + 1/2) / Gamma(y)) - log(y) / 2 (Student t's front), its
    # three forms (the difference of lgamma below 1, the steps down to 10, the series)
    unary("lgamma_half_excess", Sp.lgamma_half_excess, fts.real(0.5, 30.0)),
    # session 52: Student t's log density's kernel (df + 1) / 2 log1p(z^2 / df), its slopes
    # in closed form (in df: a series where z^2 / df <= 0.6, the plain form beyond), df in
    # [2, 60], z^2 in [0, 30] (both forms at every df)
    binary("t_log_kernel", lambda d, zz: Sp.t_log_kernel(
        fnp.add(fnp.tanh(d) * 29.0, 31.0), fnp.add(fnp.tanh(zz) * 15.0, 15.0)),
        shape=(6,)),
    Case("temme_series", lambda a, e: Sp.temme_series(
        fnp.add(fnp.tanh(a) * 50.0, 150.0), fnp.tanh(e) * 0.2, fnp.isfinite(a), part="S",
        j=1), ((V3, REAL), (V3, REAL)), order=1),
    Case("gamma_inv_eta", lambda a, y: (lambda a, y: Sp.gamma_inv_eta(
        a, y, Sp.gammaincinv(a, y), fnp.isfinite(a), lower=True))(
        fnp.add(fnp.tanh(a) * 50.0, 150.0), fnp.add(fnp.tanh(y) * 0.3, 0.5)),
        ((V3, REAL), (V3, REAL)), order=1),
    # session 53: the gamma quantile's x - a as a series in 1/sqrt(a) with coefficients
    # polynomials in the normal quantile z (here its z slope: in a and z, the next partial
    # derivatives), a in [100, 200], z in [-0.6, 0.6]
    Case("gamma_quantile_series", lambda a, z: Sp.gamma_quantile_series(
        fnp.add(fnp.tanh(a) * 50.0, 150.0), fnp.tanh(z) * 0.6, fnp.isfinite(a), j=1),
        ((V3, REAL), (V3, REAL)), order=1),
    # session 56: dx/da of the gamma quantile between a = 2.5 and 7.5 near the median (its
    # value given: the implicit form's), whose derivative in a is d2x/da2 in double-double
    # (incomplete_grads.gamma_quantile_d2) and in y the implicit form's (first order here,
    # as gamma_inv_eta's; the third derivatives: tests/test_s56_stats56b.py), a in
    # [2.5, 6.5], y in [0.3, 0.7]
    Case("gamma_inverse_da", lambda a, y: (lambda a, y: (lambda x: Sp.gamma_inverse_da(
        a, y, x, Sp._gamma_inverse_plain_da(a, y, x), fnp.isfinite(a), order=1,
        lower=True))(Sp.gammaincinv(a, y)))(
        fnp.add(fnp.tanh(a) * 2.0, 4.5), fnp.add(fnp.tanh(y) * 0.2, 0.5)),
        ((V3, REAL), (V3, REAL)), order=1),
    # session 14's special functions (values: tests/test_scipy_special.py)
    # (i0e and i1e hold exp(-|x|): a kink at 0)
    unary("erfcx", Sp.erfcx),
    # erfcx's n-th derivative given its value, along erfcx (the recursion below 20, the
    # asymptotic series from there: x in [6, 36])
    unary("erfcx_deriv", lambda x: Sp.erfcx_deriv_p.bind(x * 5.0 + 21.0,
                                                         Sp.erfcx(x * 5.0 + 21.0), n=1)),
    # erfinv's slope from x and erfinv(x)
    unary("erfinv_slope", lambda x: Sp.erfinv_slope_p.bind(x * 0.2, Sp.erfinv(x * 0.2))),
    # ndtri's slope from p and ndtri(p)
    unary("ndtri_slope", lambda x: Sp.ndtri_slope_p.bind(x * 0.1 + 0.5,
                                                         Sp.ndtri(x * 0.1 + 0.5))),
    # dawsn's derivatives from its value, the recursion and (|x| >= 8) the asymptotic series
    unary("dawsn_deriv", lambda x: Sp.dawsn_deriv_p.bind(x * 6.0 + 5.0,
                                                         Sp.dawsn(x * 6.0 + 5.0), n=1)),
    # log_ndtr's lower tail (a formula valid for every x; log_ndtr takes it below -1)
    unary("log_ndtr_lower", lambda x: Sp.log_ndtr_lower(x * 4.0 - 8.0)),
    unary("i0", Sp.i0), unary("i0e", Sp.i0e, NONZERO),
    unary("i1", Sp.i1), unary("i1e", Sp.i1e, NONZERO), unary("exp1", Sp.exp1, POS),
    unary("expi", Sp.expi, fts.real(0.2, 3.0)), unary("dawsn", Sp.dawsn),
    unary("expn", lambda x: Sp.expn(x, n=2), POS),
    binary("zeta", lambda s, q: Sp.zeta(fnp.full_like(q, 2.5), q), REAL, POS),
    # session 28: the Riemann function's derivative, each of its three pieces (reflection
    # below -1/2, the Euler-Maclaurin series to 1, the Hurwitz function's above)
    unary("riemann_zeta", lambda x: fnp.add(Sp.riemann_zeta(x), Sp.riemann_zeta(x + 4.0)),
          fts.real(-2.9, 0.5)),
    unary("spence", Sp.spence, POS), unary("si", Sp.si, NONZERO), unary("ci", Sp.ci, POS),
    unary("fresnel_s", Sp.fresnel_s), unary("fresnel_c", Sp.fresnel_c),
    binary("owens_t", Sp.owens_t),
    # session 15's: wofz (complex; checked through the real and imaginary parts), hyp1f1 in x
    # (first order here: the generic versions are slow on array-api-strict;
    # tests/test_namespace_grads.py checks the second)
    binary("wofz", lambda x, y: (fnp.real(Sp.wofz(fnp.add(x, fnp.multiply(y, 1j)))),
                                 fnp.imag(Sp.wofz(fnp.add(x, fnp.multiply(y, 1j))))),
           shape=(3,), order=1),
    unary("hyp1f1", lambda x: Sp.hyp1f1(fnp.full_like(x, 1.5), fnp.full_like(x, 2.5), x),
          fts.real(-3.0, 3.0), shape=(3,), order=1),
    # session 29: hyp1f1's mixed derivative in a and b, differentiated again in a, b and x
    # (first order here; second and third: tests/test_gaps_s29.py)
    unary("hyp1f1_param", lambda x: Sp.hyp1f1_param_p.bind(x * 0.3 + 1.5, x * 0.2 + 2.5, x,
                                                            wrt="ab"),
          fts.real(-3.0, 3.0), shape=(3,), order=1),
    # session 15b's: hyp2f1 and jv in their last operand (first order; the second:
    # tests/test_namespace_grads.py)
    unary("hyp2f1", lambda x: Sp.hyp2f1(fnp.full_like(x, 1.5), fnp.full_like(x, -0.5),
                                        fnp.full_like(x, 2.5), x),
          fts.real(-2.0, 0.9), shape=(3,), order=1),
    unary("jv", lambda z: Sp.jv(fnp.full_like(z, 1.0), z), POS, shape=(3,), order=1),
    # session 22's ive in x (both signs: an integer order)
    unary("ive", lambda x: Sp.ive(fnp.full_like(x, 2.0), x), shape=(3,)),
    # session 54: ive's asymptotic series and its derivatives in t (t in [40, 60], v = 2.5)
    unary("ive_asymptotic", lambda t: Sp.ive_asymptotic(fnp.full_like(t, 2.5), t * 10.0 + 50.0,
                                                       n=1), shape=(3,)),
    # session 18's Bessel functions of orders 0 and 1 (values:
    # tests/test_special_scipy_dispatch.py; the generic versions are slow on array-api-strict)
    unary("j0", Sp.j0, shape=(3,)), unary("j1", Sp.j1, shape=(3,)),
    unary("y0", Sp.y0, POS, shape=(3,)), unary("y1", Sp.y1, POS, shape=(3,)),
    unary("k0", Sp.k0, POS), unary("k1", Sp.k1, POS), unary("k0e", Sp.k0e, POS),
    unary("k1e", Sp.k1e, POS),
    unary("betaincinv", lambda y: Sp.betaincinv(fnp.full_like(y, 2.0), fnp.full_like(y, 3.5), y),
          fts.real(0.1, 0.9), shape=(3,), order=1),
    unary("expm1", _ns("expm1", E.expm1)), unary("log1p", _ns("log1p", E.log1p), POS),
    unary("log2", _ns("log2", E.log2_p.bind), POS),
    unary("log10", _ns("log10", E.log10_p.bind), POS),
    unary("tan", _ns("tan", E.tan), fts.real(-1.2, 1.2)),
    unary("sinh", _ns("sinh", E.sinh)), unary("cosh", _ns("cosh", E.cosh)),
    unary("asin", _ns("asin", E.asin_p.bind), fts.real(-0.8, 0.8)),
    unary("acos", _ns("acos", E.acos_p.bind), fts.real(-0.8, 0.8)),
    unary("atan", _ns("atan", E.atan_p.bind)), unary("asinh", _ns("asinh", E.asinh_p.bind)),
    unary("acosh", _ns("acosh", E.acosh_p.bind), fts.real(1.2, 4.0)),
    unary("atanh", _ns("atanh", E.atanh_p.bind), fts.real(-0.8, 0.8)),
    unary("abs", _ns("abs", E.abs_), NONZERO),
    unary("relu", ft.nn.relu, NONZERO),
    unary("conj", E.conj), unary("real", E.real),
    # -- elementwise, binary
    binary("add", fnp.add), binary("sub", fnp.subtract), binary("mul", fnp.multiply),
    # (x * y with a strong zero: cumprod's and reduce_prod's JVP rules bind it)
    binary("mul_sz", E.mul_sz, NONZERO, NONZERO),
    binary("div", fnp.divide, REAL, NONZERO), binary("pow", fnp.pow, POS, fts.away_from(0.0, low=-2.0, high=2.0)),  # y=0: see below
    binary("max", lambda x, d: fnp.maximum(x, x + d), REAL, NONZERO),
    binary("min", lambda x, d: fnp.minimum(x, x + d), REAL, NONZERO),
    binary("atan2", _ns("atan2", E.atan2), NONZERO, REAL),
    binary("hypot", _ns("hypot", E.hypot), NONZERO, REAL),
    # (hypot's slope v / hypot(v, other); its third operand is hypot(v, other) itself)
    binary("hypot_ratio", lambda v, o: E.hypot_ratio_p.bind(v, o, E.hypot(v, o)), REAL, NONZERO),
    binary("logaddexp", _ns("logaddexp", E.logaddexp)),
    binary("copysign", _ns("copysign", E.copysign), NONZERO, NONZERO),
    binary("nextafter", _ns("nextafter", E.nextafter), REAL, REAL),
    binary("remainder", _ns("remainder", E.remainder), fts.real(0.1, 1.9), fts.real(2.0, 3.0)),
    Case("select", lambda c, x, y: fnp.where(c > 0, x, y), ((M23, NONZERO), (M23, REAL),
                                                           (M23, REAL))),
    # two products and a lone term (the rules bind it with 3 to 9 operands)
    Case("mul_add", E.mul_add, tuple((M23, REAL) for _ in range(5))),
    # -- structural
    unary("reshape", lambda x: fnp.reshape(x, (3, 2))),
    unary("broadcast_in_dim", lambda x: fnp.broadcast_to(x, (4, 2, 3))),
    unary("transpose", lambda x: fnp.permute_dims(x, (1, 0))),
    binary("concat", lambda x, y: fnp.concat([x, y, x], axis=1)),
    unary("flip", lambda x: fnp.flip(x, axis=1)),
    unary("roll", lambda x: fnp.roll(x, (1, -1), axis=(0, 1))),
    unary("slice", lambda x: x[1:, ::2]),
    unary("convert_element_type", lambda x: fnp.astype(x, fnp.float32) * 2.0),
    unary("tri", lambda x: S.tri(x, 0, True), shape=M33),
    unary("diagonal", lambda x: L.diagonal(x, 1), shape=M33),
    unary("diag_embed", lambda v: L.diag_embed(v, 1), shape=V3),
    # -- reductions, scans, sorting, indexing
    unary("reduce_sum", lambda x: fnp.sum(x, axis=0)),
    unary("reduce_max", _max_case, fts.real(-0.3, 0.3)),
    unary("reduce_min", _min_case, fts.real(-0.3, 0.3)),
    unary("reduce_prod", lambda x: R.reduce_prod(x, (1,)), NONZERO),
    unary("cumsum", lambda x: R.cumsum(x, 1)),
    unary("cumprod", lambda x: R.cumprod(x, 1), NONZERO),
    unary("sort", _sort_case, fts.real(-0.3, 0.3)),
    unary("unique_all", _unique_case, fts.real(-0.3, 0.3), V3, staged=False),
    unary("gather", _gather_case, shape=V3),
    unary("scatter_add", _scatter_add_case, shape=(4, 3)),
    unary("take_along_axis", _take_along_case),
    unary("scatter_along_axis", _scatter_along_case),
    # -- linear algebra (inputs shifted into well-conditioned territory inside the function)
    binary("matmul", lambda x, y: fnp.matmul(x, fnp.matrix_transpose(y))),
    # (session 41) the products with a strong zero per matrix that eigh's eigenvectors'
    # second derivatives use; at finite operands they are the plain products
    binary("strong_product", _strong_product_case),
    unary("inverse_gaps", _inverse_gaps_case),
    Case("tensordot", _tensordot_case, (((2, 3, 4), REAL), ((4, 2, 5), REAL))),
    Case("solve", _solve_case, ((M33, SMALL), ((3, 2), REAL))),
    Case("triangular_solve", _triangular_solve_case, ((M33, SMALL), ((3, 2), REAL))),
    unary("inv", _inv_case, SMALL, M33), unary("det", _det_case, SMALL, M33),
    unary("slogdet", _slogdet_case, SMALL, M33),
    unary("slogdet_inv", _slogdet_inv_case, SMALL, M33),
    # (session 49: every order, by adjugate_derivative, right at every matrix)
    unary("adjugate", lambda a: L.adjugate(a), REAL, M33),
    unary("cholesky", _cholesky_case, SMALL, M33),
    unary("eigh", _eigh_case, fts.real(-0.3, 0.3), M33),
    unary("eigvalsh", _eigvalsh_case, fts.real(-0.3, 0.3), M33),
    unary("qr", _qr_case, SMALL, M33),
    unary("svd", _svd_case, fts.real(-0.3, 0.3), M33),
    unary("svdvals", _svdvals_case, fts.real(-0.3, 0.3), M33),
    unary("pinv", _pinv_case, SMALL, M23),
    Case("sylvester", _sylvester_case, ((M33, SMALL), ((2, 2), SMALL), ((3, 2), REAL))),
    unary("sqrtm", _sqrtm_case, SMALL, M33),
    unary("eig", _eig_case, fts.real(-0.3, 0.3), M33, xfail=_NO_EIG),
    unary("eigvals", _eigvals_case, fts.real(-0.3, 0.3), M33, xfail=_NO_EIG),
    # -- Fourier transforms
    unary("fft", _fft_case), unary("rfft", _rfft_case), unary("irfft", _irfft_case),
    # -- user-defined rules
    unary("custom_jvp_call", _custom_jvp_fn(), staged=False),
    unary("custom_vjp_call", _custom_vjp_fn(), staged=False),
    unary("custom_vjp_tangent", _custom_vjp_in_jvp_rule_fn(), staged=False),
    unary("custom_vmap_call", _custom_vmap_fn()),  # (session 15, api helper)
    unary("linear_call", _linear_call_fn()),  # (session 27)
    # (session 36) the tangent maps of softmax and log_softmax, the three kinds side by side
    binary("softmax_tangent", _softmax_tangent_case),
    # Staging inlines it (the graph shows the function's own operations).
    unary("checkpoint_call", ft.checkpoint(lambda x: fnp.sin(fnp.tanh(x) * x) * x),
          staged=False),
    # checkpoint_name's label (the identity), inside and outside a checkpoint with a policy
    unary("name", lambda x: _named(fnp.sin(x) * x, "a") * ft.checkpoint(
        lambda x: fnp.exp(_named(fnp.sin(x), "b")) * x,
        policy=ft.checkpoint_policies.save_only_these_names("b"))(x)),
    # -- control flow (functrans.lax): a fresh jit per call, so that every call stages the
    # function with its reverse-mode part (cond_lin, scan_lin and eager_lin are transposed
    # while staging); checking the jitted function evaluates the graph's cond/scan/while and
    # eager_call under the checks' transforms, through their rules with concrete values.
    unary("cond", lambda x: ft.jit(_with_own_vjp(_cond_case))(x)),
    unary("scan", lambda x: ft.jit(_with_own_vjp(_scan_case))(x)),
    unary("while", lambda x: ft.jit(_with_own_vjp(_while_case))(x)),
    # (session 45) the batched cond's and while's rows of the members that take a branch
    unary("taken_rows", lambda x: ft.jit(_with_own_vjp(_taken_rows_case))(x)),
]

# Primitives without a derivative: comparisons, predicates, integer-valued and bitwise
# functions, index-valued reductions and searches, constant creation, stop_gradient.
NON_DIFFERENTIABLE = {
    "eq", "ne", "lt", "le", "gt", "ge", "full_like", "stop_gradient", "iota",
    "floor", "ceil", "trunc", "round", "sign", "floor_divide",
    "isfinite", "isinf", "isnan", "signbit",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", "bitwise_left_shift",
    "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not",
    "argmax", "argmin", "argsort", "searchsorted", "reduce_and", "reduce_or", "nonzero",
    "chooser_weights", "schur",
    # session 15, api helper: host callbacks (tests/test_api15.py); differentiating
    # pure_callback/io_callback is an error as in JAX, debug_callback shows primals only
    "pure_callback", "io_callback", "debug_callback",
    # lax.polygamma's traced order (a derivative in it is refused, as JAX) and
    # bitcast_convert_type (integer results; a float from another dtype is refused):
    # tests/test_lax_transform_gaps.py
    "polygamma_order", "bitcast_convert_type",
    # session 26: checkify's check (no results; its JVP checks the primals):
    # tests/test_checkify.py
    "check",
    # session 27: LAPACK's pivots to a permutation (integers; lu_solve, lax.linalg.lu):
    # tests/test_vmap.py and tests/test_linalg_cases.py
    "lu_pivots_to_permutation",
    # session 36: zeros whose derivative is nan (at every order) where a matrix of a stack is
    # singular, added to linalg rules' tangents (tests/test_s36_linalg36.py)
    "matrix_nan_slope",
    # session 37: expm's number of squarings (whole numbers; tests/test_s37_linalg37.py)
    "expm_squarings",
    # session 39: expm's non-finite matrices under jit (their eager values at evaluation;
    # the tangent is the result's own: tests/test_s39_expm39.py)
    "expm_nonfinite_fix",
    # session 40: _inc_beta's staged result given its eager values at evaluation (the
    # tangent is the result's own: tests/test_s40_stats40.py)
    "inc_beta_values_fix",
    # session 42: F's staged cdf/sf given the generic methods' values at extreme degrees of
    # freedom at evaluation (the tangent is the result's own: tests/test_s42_stats42.py)
    "f_extreme_fix",
    # session 57: F's staged cdf/sf given the first-order term of u's rounding at large
    # shapes at evaluation (the tangent is the result's own: tests/test_s57_stats57b.py)
    "f_rounding_fix",
    # session 53: the beta density's logarithm, the plain value replaced by the deviance
    # form's at large shapes at evaluation (the tangent is the plain value's own:
    # tests/test_s53_stats53.py)
    "beta_log_density_fix",
}

# Primitives meaningful only for complex inputs (check_grads covers real dtypes; imag of a
# real array is not defined by the Array API, and its transpose returns a complex cotangent).
COMPLEX_ONLY = {"imag"}

# Primitives that appear only inside derivatives, with the case whose order-2 check
# exercises them (test_indirect_primitive_is_exercised checks that it does).
INDIRECT = {
    "scatter_slice": "slice",  # the transpose of slicing (reverse mode of x[1:, ::2])
    "sin_cos": "sin",  # sin and cos at once, bound by their JVP rules
    "tanh_slope": "tanh",  # tanh and 1 - tanh^2 at once, bound by its JVP rule
    "asin_slope": "asin",  # 1 / sqrt(1 - x^2), bound by asin's and acos's JVP rules
    "acosh_slope": "acosh",  # 1 / (sqrt(x - 1) sqrt(x + 1)), bound by acosh's JVP rule
    "atanh_slope": "atanh",  # 1 / ((1 - x)(1 + x)), bound by atanh's JVP rule
    "custom_vjp_lin": "custom_vjp_call",  # the linear map a custom_vjp function's JVP emits
    "spectral_tangent": "eigvalsh",  # (session 39) eigvalsh's and svdvals' tangent maps
    "checkpoint_lin": "checkpoint_call",  # the rematerialised tangent map of checkpoint
    "cond_lin": "cond",  # a cond's tangent map in reverse mode with an abstract index
    "scan_lin": "scan",  # a scan's tangent map in reverse mode under staging
    "eager_lin": "while",  # a staged while_loop's tangent map, run eagerly
    "eager_call": "while",  # its transpose: the loop's VJP, run eagerly
    # (session 45) taken_rows' JVP: the rows of the members left out, a picked member's,
    # and the tangents' mask
    "taken_fill": "taken_rows",
    "row_mask": "taken_rows",
    # (session 47) the slopes of a "fix" primitive (beta_ppf_fix, f_logpdf_fix,
    # f_temme_fix) at once, bound by their JVP rules (f_logpdf_fix's three from one pass)
    "fix_slopes": "f_logpdf_fix",
    # (session 49) the derivatives of the adjugate, D^k adj(x)[t_1..t_k], bound by its JVP
    # rule and by its own (tests/test_s49_linalg49.py)
    "adjugate_derivative": "adjugate",
}

# Collectives over a vmap's named axis, checked under vmap in tests/test_collectives.py.
COLLECTIVE = {"psum", "pmax", "pmin", "axis_index", "all_gather", "psum_scatter", "ppermute",
              "all_to_all"}

_CASES_BY_PRIM = {c.prim: c for c in CASES}

# -- the table is complete ---------------------------------------------------------------------------


def _own_registry():
    """functrans's own primitives: tests and docs examples may register theirs too."""
    from .test_namespace_grads import _functrans_primitives
    return _functrans_primitives()


def test_table_is_complete():
    registered = set(_own_registry())
    listed = (set(_CASES_BY_PRIM) | NON_DIFFERENTIABLE | set(INDIRECT) | COMPLEX_ONLY
              | COLLECTIVE)
    missing = sorted(registered - listed)
    assert not missing, (
        f"registered primitives with no entry in tests/test_primitive_grads.py: {missing}. "
        f"Add a Case (function using it + input domain) to CASES, or list it in "
        f"NON_DIFFERENTIABLE / INDIRECT / COMPLEX_ONLY.")
    stale = sorted(listed - registered)
    assert not stale, f"entries for primitives that are not registered (renamed?): {stale}"
    groups = [set(_CASES_BY_PRIM), NON_DIFFERENTIABLE, set(INDIRECT), COMPLEX_ONLY, COLLECTIVE]
    assert sum(len(g) for g in groups) == len(set().union(*groups)), "listed twice"
    assert len(_CASES_BY_PRIM) == len(CASES), "a primitive appears twice in CASES"


@pytest.mark.parametrize("prim", sorted(p for p in NON_DIFFERENTIABLE
                                        if p in {"floor", "ceil", "trunc", "round", "sign",
                                                 "stop_gradient", "full_like"}))
def test_non_differentiable_float_primitives_have_zero_derivative(prim):
    fn = {"floor": E.floor_p.bind, "ceil": E.ceil_p.bind, "trunc": E.trunc_p.bind,
          "round": E.round_p.bind, "sign": E.sign_p.bind, "stop_gradient": fnp.stop_gradient,
          "full_like": lambda x: fnp.full_like(x, 2.0)}[prim]
    x = np.asarray([0.3, -1.7, 2.2])
    _, t = ft.jvp(fn, (x,), (np.ones(3),))
    assert np.all(np.asarray(t) == 0.0)
    (g,) = ft.vjp(fn, x)[1](np.ones(3))
    assert np.all(np.asarray(g) == 0.0)


class _NumPyCase:
    """The part of the ``backend`` fixture the cases use, for NumPy."""
    name = "numpy"

    def asarray(self, data, dtype="float64"):
        return np.asarray(data, dtype=dtype)


def _sample(backend, case):
    """Deterministic inputs inside each argument's domain (for staging the cases)."""
    rng = np.random.default_rng(0)
    out = []
    for shape, dom in case.args:
        v = rng.uniform(dom.low, dom.high, size=shape)
        for p in dom.exclude:
            near = np.abs(v - p) < dom.margin
            v = np.where(near, p + dom.margin * 1.5, v)
        out.append(backend.asarray(v))
    return out


def _prims_in(graph):
    return {eqn[0].name for eqn in graph.eqns}


@pytest.mark.parametrize("case", [c for c in CASES if c.staged], ids=repr)
def test_case_uses_its_primitive(case):
    b = _NumPyCase()
    g = ft.make_graph(case.fn(b))(*_sample(b, case))
    assert case.prim in _prims_in(g), (
        f"the table's function for {case.prim!r} does not use it; its graph:\n{g}")


@pytest.mark.parametrize("prim", sorted(INDIRECT))
def test_indirect_primitive_is_exercised(prim):
    b = _NumPyCase()
    case = _CASES_BY_PRIM[INDIRECT[prim]]
    f, args = case.fn(b), _sample(b, case)
    seen = set()
    p = registry[prim]
    saved = {rule: getattr(p, rule) for rule in ("jvp", "transpose")}

    def spy(rule):
        def wrapped(*a, **k):
            seen.add(rule)
            return saved[rule](*a, **k)
        return wrapped
    for rule, fn in saved.items():  # a probe on the rules, restored below
        if fn is not None:
            setattr(p, rule, spy(rule))
    try:
        check_grads(f, tuple(args), order=case.order)
    finally:
        for rule, fn in saved.items():
            setattr(p, rule, fn)
    assert seen, f"no rule of {prim!r} was used while checking {case.prim!r}"

# -- the numerical checks --------------------------------------------------------------------------


_N_DEFAULT = max(3, settings().max_examples // 4)  # 5 under the "ci" profile, 50 under "dev"
# On array-api-strict's second device the draws are the default device's first ones again
# (derandomized): that run is there to catch a value made on the wrong device (a zero, a
# seed, a mask), which does not depend on the values drawn, and the derivatives' values are
# checked on the default device (as tests/test_namespace_grads.py does, which checks one
# shape at first order there). Two examples keep every rule's order-2 check on that device.
_N_DEVICE = max(2, _N_DEFAULT // 5)  # 2 under "ci", 10 under "dev"


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_primitive_grads(backend, case, request):
    reason = case.xfail.get(backend.name)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    fn = case.fn(backend)
    # (hypothesis seeds its derandomized draws with the source of ``check``: kept as it was,
    # so the examples stay the ones drawn before; their number comes in through _N)
    _N = _N_DEFAULT if backend.device is None else _N_DEVICE
    # (on the second device the cheaper check of tests/_second_device.py)
    check_grads = functools.partial(check_derivatives, backend)

    @settings(max_examples=_N, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(data=st.data())
    def check(data):
        args = tuple(data.draw(fts.arrays(backend, "float64", shape, dom), label=f"arg{i}")
                     for i, (shape, dom) in enumerate(case.args))
        check_grads(fn, args, order=case.order)
    check()


# -- wrong derivatives found by the table ------------------------------------------------------------


@pytest.mark.parametrize("coef", [(2.0, -1.0, 0.5), (-1.0, 4.0, 1.0), (-2.0, 0.5)],
                         ids=["5 operands", "4 operands", "3 operands"])
def test_mul_add_with_coefficients(backend, coef):
    # mul_add's ``coef`` (a staged neg or ``x * 2.0`` folded into a term by graph.prune):
    # the value and every rule (jvp, transpose, to order 2) on every backend. With an even
    # number of operands the last coefficient is a placeholder.
    n = 2 * (len(coef) - 1) + (0 if coef == (-1.0, 4.0, 1.0) else 1)
    rng = np.random.default_rng(3)
    xs = [rng.uniform(-1.5, 1.5, M23) for _ in range(n)]
    args = tuple(backend.asarray(x) for x in xs)
    f = lambda *xs: E.mul_add_p.bind(*xs, coef=coef)  # noqa: E731
    want = sum(coef[k] * xs[2 * k] * xs[2 * k + 1] for k in range(n // 2))
    if n % 2:
        want = want + coef[-1] * xs[-1]
    np.testing.assert_allclose(backend.to_numpy(f(*args)), want, rtol=1e-15)
    check_grads(f, args, order=2)


def test_pow_mixed_second_derivative_at_zero_exponent():
    g = ft.grad(ft.grad(fnp.pow, argnums=0), argnums=1)(2.0, 0.0)
    np.testing.assert_allclose(np.asarray(g), 0.5)
    H = np.asarray(ft.hessian(lambda v: v[0] ** v[1])(np.array([2.0, 0.0])))
    np.testing.assert_allclose(H, H.T)


# keepdims=True is a parameter of the reductions (no reshape): its rules checked the same way
# (one Case per primitive above, so these are a test of their own)
@pytest.mark.parametrize("which", ["sum", "max", "min"])
def test_reductions_with_keepdims(backend, which):
    b = backend
    x = b.asarray(np.array([[0.1, -0.2, 0.3], [0.25, 0.05, -0.15]]))
    offset = fnp.reshape(_spread(b, 6), (2, 3))
    if which == "sum":
        f = lambda x: fnp.sum(x, axis=1, keepdims=True) * x  # noqa: E731
    elif which == "max":
        f = lambda x: fnp.max(x * 0.5 + offset, axis=1, keepdims=True) * x  # noqa: E731
    else:
        f = lambda x: fnp.min(x * 0.5 + offset, axis=(0, 1), keepdims=True) * x  # noqa: E731
    check_grads(f, (x,), order=2)
    graph = str(ft.make_graph(f)(x))
    assert "keepdims" in graph and "reshape" not in graph


def test_extremes_at_nan_have_derivative_zero(backend):
    # One convention for a NaN result, which no operand attains (JAX's for maximum, minimum,
    # cummax, cummin): derivative 0. maximum/minimum split it 0.5/0.5 as at a tie, cummax
    # passed those halves on, and max/min over an axis gave 0/0 = nan (JAX's max: nan).
    import functrans.lax as lax
    b = backend
    x = b.asarray(np.array([1.0, np.nan, 3.0, 2.0]))
    y = b.asarray(np.array([np.nan, np.nan, 1.0, 2.0]))

    def grads(f, *args):
        return [b.to_numpy(g) for g in ft.grad(lambda *a: fnp.sum(f(*a)),
                                               argnums=tuple(range(len(args))))(*args)]

    for f, dx, dy in [(fnp.maximum, [0, 0, 1, 0.5], [0, 0, 0, 0.5]),
                      (fnp.minimum, [0, 0, 0, 0.5], [0, 0, 1, 0.5])]:
        gx, gy = grads(f, x, y)
        np.testing.assert_array_equal(gx, dx)
        np.testing.assert_array_equal(gy, dy)
        _, t = ft.jvp(f, (x, y), (fnp.ones_like(x), fnp.ones_like(y)))
        np.testing.assert_array_equal(b.to_numpy(t), [0, 0, 1, 1])
    for f, want in [(lax.cummax, [1, 0, 0, 0]), (lax.cummin, [1, 0, 0, 0]),
                    (fnp.max, [0, 0, 0, 0]), (fnp.min, [0, 0, 0, 0])]:
        np.testing.assert_array_equal(grads(f, x)[0], want)
    z = b.asarray(np.array([[1.0, np.nan], [2.0, 2.0]]))
    np.testing.assert_array_equal(grads(lambda z: fnp.max(z, axis=1), z)[0], [[0, 0], [0.5, 0.5]])
