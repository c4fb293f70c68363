"""Session 35, helper edge2_35: the softmax family's and hard_silu / gelu's derivatives at
edge35's edge inputs at the cost of the plain formulas (a per-slice fix-up, custom slopes),
checked where the new code paths could go wrong: directions and cotangents that cancel within
a slice without a derivative, one-entry slices, the finite slices against the closed form
under jit, and the activations against finite differences and their old values."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.scipy.special as fss

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = math.inf, math.nan

_FUNS = {
    "nn.softmax": fnn.softmax,
    "nn.log_softmax": fnn.log_softmax,
    "special.softmax": lambda v: fss.softmax(v, axis=-1),
    "special.log_softmax": lambda v: fss.log_softmax(v, axis=-1),
}


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _np(backend, got):
    assert backend.is_own(got), type(got)
    return np.asarray(backend.to_numpy(got))


def _closed_jacobian(name, row):
    p = np.exp(row - row.max())
    p /= p.sum()
    if "log" in name:
        return np.eye(len(row)) - p[None, :]
    return np.diag(p) - p[:, None] * p[None, :]


@pytest.mark.parametrize("jitted", [False, True])
@pytest.mark.parametrize("name", list(_FUNS))
def test_cancelling_direction_and_cotangent_in_a_bad_row(backend, name, jitted):
    # Row 0 has no derivative (+inf): a direction or cotangent that moves it gives nan in all
    # of it even where its entries cancel (sum 0, or t - sum(t) = 0 at one entry), exactly 0
    # where it does not move it; row 1 is finite.
    f = _FUNS[name]
    x = _arr(backend, [[inf, 0.0, 1.0], [0.5, -1.0, 2.0]])
    jvp = lambda v, t: ft.jvp(f, (v,), (t,))[1]
    vjp = lambda v, c: ft.vjp(f, v)[1](c)[0]
    if jitted:
        jvp, vjp = ft.jit(jvp), ft.jit(vjp)
    for d in ([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
              [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]):
        for got in (jvp(x, _arr(backend, d)), vjp(x, _arr(backend, d))):
            got = _np(backend, got)
            assert np.isnan(got[0]).all(), (d, got)
            np.testing.assert_array_equal(got[1], 0.0)
    # a direction on the finite row only: 0 on the bad row, the closed form on the other
    d = np.array([[0.0, 0.0, 0.0], [0.3, -1.0, 2.0]])
    j = _closed_jacobian(name, np.array([0.5, -1.0, 2.0]))
    for got, want in ((jvp(x, _arr(backend, d)), j @ d[1]), (vjp(x, _arr(backend, d)), j.T @ d[1])):
        got = _np(backend, got)
        np.testing.assert_array_equal(got[0], 0.0)
        np.testing.assert_allclose(got[1], want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", list(_FUNS))
def test_one_entry_slices_agree_in_both_modes(backend, name):
    # softmax over an axis of length 1: a slice with +inf or nan has no derivative (nan in
    # both modes: forward mode gave 0, as t - sum(t) = 0 there); a finite one has 0
    f = _FUNS[name]
    x = _arr(backend, [[inf], [nan], [-inf], [1.5]])
    for jac in (ft.jacfwd, ft.jacrev, lambda g: ft.jit(ft.jacfwd(g)), lambda g: ft.jit(ft.jacrev(g))):
        j = _np(backend, jac(f)(x)).reshape(4, 4)
        assert np.isnan(np.diag(j)[:3]).all(), j
        off = ~np.eye(4, dtype=bool)
        off[3, 3] = True
        np.testing.assert_array_equal(j[off], 0.0)


@pytest.mark.parametrize("name", list(_FUNS))
def test_finite_rows_gradient_and_jacobian_against_the_closed_form(backend, name):
    # the common case, through the rules under jit (always staged) and without
    rng = np.random.default_rng(35)
    xs = rng.standard_normal((5, 7)) * 3.0
    xs[2, 4] = -inf   # an entry that adds nothing: still a finite row
    w = rng.standard_normal((5, 7))
    f = _FUNS[name]
    want = np.stack([_closed_jacobian(name, r).T @ wr for r, wr in zip(xs, w)])
    loss = lambda v: ft.numpy.sum(f(v) * _arr(backend, w))
    for g in (ft.grad(loss), ft.jit(ft.grad(loss))):
        np.testing.assert_allclose(_np(backend, g(_arr(backend, xs))), want, rtol=1e-13,
                                   atol=1e-14)
    # dot-product identity <u, J v> = <J^T u, v> under jit, and J v against central
    # differences on the finite entries
    v = rng.standard_normal((5, 7))
    v[2, 4] = 0.0
    jv = _np(backend, ft.jit(lambda a, b: ft.jvp(f, (a,), (b,))[1])(_arr(backend, xs),
                                                                      _arr(backend, v)))
    jtu = _np(backend, ft.jit(lambda a, c: ft.vjp(f, a)[1](c)[0])(_arr(backend, xs),
                                                                    _arr(backend, w)))
    np.testing.assert_allclose(np.sum(w * jv), np.sum(jtu * v), rtol=1e-12)
    h = 1e-6
    fd = (_np(backend, f(_arr(backend, xs + h * v))) - _np(backend, f(_arr(backend, xs - h * v)))) / (2 * h)
    ok = np.isfinite(fd)
    np.testing.assert_allclose(jv[ok], fd[ok], rtol=1e-6, atol=1e-8)


def test_where_masked_rows_under_jit_and_vmap():
    # nn's where: excluded entries get no derivative, a row with a kept +inf none in it
    x = np.array([[inf, 0.0, 1.0], [1.0, 2.0, 5.0]])
    w = np.array([[True, True, False], [True, False, True]])
    for f in (fnn.softmax, fnn.log_softmax):
        g = lambda v: f(v, where=w)
        for jac in (ft.jit(ft.jacfwd(g)), ft.jit(ft.jacrev(g))):
            j = np.asarray(jac(x))
            np.testing.assert_array_equal(j[0, :, 1, :], 0.0)
            np.testing.assert_array_equal(j[1, :, 0, :], 0.0)
            assert np.isnan(j[0, :2, 0, :2]).all()
            np.testing.assert_array_equal(j[0, 2, 0, :], 0.0)
            np.testing.assert_array_equal(j[0, :, 0, 2], 0.0)
            blk = j[1][:, 1][np.ix_([0, 2], [0, 2])]
            want = _closed_jacobian("log" if f is fnn.log_softmax else "", np.array([1.0, 5.0]))
            np.testing.assert_allclose(blk, want, rtol=1e-14, atol=1e-15)
        # per row under vmap: the same rows
        jv = ft.vmap(ft.jacrev(lambda r, m: f(r, where=m)))(x, w)
        np.testing.assert_allclose(jv[1], j[1, :, 1, :], rtol=0, atol=0)


_ACTS = {
    "hard_silu": (fnn.hard_silu, lambda v: v * np.clip(v + 3.0, 0.0, 6.0) / 6.0),
    "gelu_tanh": (lambda v: fnn.gelu(v, approximate=True), lambda v: _gelu_ref(v)),
}


def _gelu_ref(v):
    # x (1 + tanh(z)) / 2 as x expit(2 z), the cube of x clipped to +-30 (the old formula)
    from scipy.special import expit
    c = np.clip(v, -30.0, 30.0)
    return v * expit(2.0 * math.sqrt(2 / math.pi) * (c + 0.044715 * (c * c * c)))


@pytest.mark.parametrize("name", list(_ACTS))
def test_activations_slopes_against_finite_differences(backend, name):
    f, ref = _ACTS[name]
    xs = np.array([-31.0, -7.5, -2.99, -1.3, -0.2, 0.0, 0.4, 1.7, 2.5, 8.0, 29.5])
    x = _arr(backend, xs)
    # values as before (the old formulas), the sign of zero included
    np.testing.assert_allclose(_np(backend, f(x)), ref(xs), rtol=1e-14, atol=1e-300)
    assert np.signbit(_np(backend, f(_arr(backend, [-7.5])))).all()
    h = 1e-6
    fd = (ref(xs + h) - ref(xs - h)) / (2 * h)
    for g in (ft.vmap(ft.grad(f)), ft.jit(ft.vmap(ft.grad(f))),
              lambda v: ft.jvp(f, (v,), (ft.numpy.ones_like(v),))[1]):
        np.testing.assert_allclose(_np(backend, g(x)), fd, rtol=1e-7, atol=1e-9)
    # second derivative against differences of the first
    d1 = ft.vmap(ft.grad(f))
    fd2 = (_np(backend, d1(_arr(backend, xs + h))) - _np(backend, d1(_arr(backend, xs - h)))) / (2 * h)
    for g in (ft.vmap(ft.grad(ft.grad(f))), ft.vmap(ft.jacfwd(ft.jacrev(f)))):
        np.testing.assert_allclose(_np(backend, g(x)), fd2, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(_ACTS))
def test_activations_grad_of_sum_and_nested_value(name):
    # grad's first order takes the unwrapped path: the same gradient as jit's and as the
    # forward mode's; the value carried by an outer derivative is differentiable too
    f, _ = _ACTS[name]
    xs = np.linspace(-40.0, 40.0, 161)
    g1 = ft.grad(lambda v: ft.numpy.sum(f(v)))(xs)
    g2 = ft.jit(ft.grad(lambda v: ft.numpy.sum(f(v))))(xs)
    g3 = ft.jvp(f, (xs,), (np.ones_like(xs),))[1]
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(g1, g3, rtol=1e-15, atol=0)
    # jvp of grad's own value: d/dx of f(x) through the outer transform equals the slope
    val_slope = ft.jvp(lambda v: ft.value_and_grad(lambda u: ft.numpy.sum(f(u)))(v)[0],
                       (xs,), (np.eye(161)[80],))[1]
    np.testing.assert_allclose(val_slope, g1[80], rtol=1e-15)
