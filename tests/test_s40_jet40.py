"""Session 40 (jet40): jet's Taylor coefficients at the kinks of piecewise primitives are
one-sided, those of f(x(t)) for small t > 0, as jet(abs) at 0 (elem40).

- relu at x0 = 0: x's coefficients where the curve's first nonzero coefficient is positive
  (was 0 throughout: the JVP rule's slope at 0).
- maximum/minimum at a tie x0 == y0 (real): the operand larger/smaller along the curves, from
  the first coefficients that differ (was the mean of both, as jvp and JAX's jet).
- reduce_max/reduce_min over tied positions: narrowed coefficient by coefficient (was the
  mean over the tie, as jvp and JAX's jet).
- sort of tied values: ordered as the curves are for t > 0 (was the stable order of the tie;
  JAX's jet has no sort rule).
- Unchanged and pinned: sign, floor, ceil, round, trunc: coefficients 0 (piecewise constant:
  f(x(t)) is constant for small t > 0); the first term stays f(x0), not the one-sided limit.
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import nn
from functrans.experimental.jet import jet


def _right_derivatives(f, x0s, termss, order, degree=None):
    """d^k/dt^k f(x(t)) at t = 0+ (k = 1..order) for curves x_i(t) = x0 + sum_k terms[k-1]
    t^k / k!, f piecewise polynomial (so f(x(t)) is one polynomial of degree <= ``degree``,
    ``order`` by default, on (0, eps)): interpolated through ``degree + 1`` points t = h, 2h,
    ... in mpmath at 80 digits (in u = t / h: a well-conditioned system)."""
    degree = order if degree is None else degree
    mp = pytest.importorskip("mpmath")
    with mp.workdps(80):
        def curve(x0, terms, t):
            return mp.mpf(x0) + sum(mp.mpf(c) * t ** (k + 1) / mp.factorial(k + 1)
                                    for k, c in enumerate(terms))
        h = mp.mpf(10) ** -12
        us = range(1, degree + 2)
        vals = [f(*[curve(x0, s, h * u) for x0, s in zip(x0s, termss)]) for u in us]
        a = mp.matrix([[mp.mpf(u) ** k for k in range(degree + 1)] for u in us])
        coef = mp.lu_solve(a, mp.matrix(vals))
        return [float(coef[k] / h ** k * mp.factorial(k)) for k in range(1, order + 1)]


def _close(got, want):
    got = [float(t) for t in got]
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (got, want)


_PATTERNS = [(1.0, 1.0, 1.0), (-1.0, 1.0, 1.0), (0.0, -2.0, 1.0), (0.0, 0.0, 3.0),
             (0.0, 0.0, -3.0), (0.0, 0.0, 0.0), (2.0, -1.0, 0.5), (-0.5, 4.0, -2.0)]


@pytest.mark.parametrize("terms", _PATTERNS)
def test_relu_at_zero_is_one_sided(terms):
    y, ys = jet(nn.relu, (0.0,), (terms,))
    want = _right_derivatives(lambda v: max(v, 0), [0.0], [terms], 3)
    assert float(y) == 0.0
    _close(ys, want)
    # maximum(x, 0) agrees (it is relu at a tie with a constant)
    _, ys = jet(lambda v: fnp.maximum(v, 0.0), (0.0,), (terms,))
    _close(ys, want)


@pytest.mark.parametrize("tx", _PATTERNS[:6])
@pytest.mark.parametrize("ty", [(0.0, 0.0, 0.0), (1.0, 1.0, -1.0), (-1.0, 0.0, 2.0)])
def test_maximum_minimum_at_ties_are_one_sided(tx, ty):
    for f, ref in ((fnp.maximum, max), (fnp.minimum, min)):
        y, ys = jet(f, (1.5, 1.5), (tx, ty))
        want = _right_derivatives(ref, [1.5, 1.5], [tx, ty], 3)
        assert float(y) == 1.5
        _close(ys, want)


def test_maximum_away_from_ties_and_the_jvp_convention():
    # no tie: the operand chosen, untouched
    _, ys = jet(fnp.maximum, (2.0, 1.0), ((-5.0, 1.0), (3.0, 3.0)))
    assert [float(t) for t in ys] == [-5.0, 1.0]
    # jvp keeps the mean at a tie (a derivative, not a one-sided slope); order-1 jet is one-sided
    assert float(ft.jvp(fnp.maximum, (1.0, 1.0), (1.0, 0.0))[1]) == 0.5
    _, ys = jet(fnp.maximum, (1.0, 1.0), ((1.0,), (0.0,)))
    assert [float(t) for t in ys] == [1.0]
    # NaN: derivative 0 where the result is NaN (kept)
    _, ys = jet(fnp.maximum, (math.nan, 1.0), ((1.0, 1.0), (2.0, 2.0)))
    assert [float(t) for t in ys] == [0.0, 0.0]
    # a NaN coefficient at a tie decides nothing: the mean, NaN
    _, ys = jet(fnp.maximum, (1.0, 1.0), ((math.nan, 1.0), (2.0, 2.0)))
    assert math.isnan(float(ys[0]))
    _, ys = jet(nn.relu, (0.0,), ((math.nan, 1.0),))
    assert math.isnan(float(ys[0]))
    _, ys = jet(nn.relu, (math.nan,), ((1.0, 2.0),))  # (x's, as the JVP rule)
    assert [float(t) for t in ys] == [1.0, 2.0]


def test_complex_maximum_at_a_tie_keeps_the_mean():
    # (lexicographic order of complex values jumps there: no one-sided slope to follow)
    x = np.complex128(1 + 1j)
    _, ys = jet(fnp.maximum, (x, x), ((np.complex128(1.0),), (np.complex128(3.0),)))
    assert complex(ys[0]) == 2.0


def test_arrays_on_every_backend(backend):
    x0 = backend.asarray([0.0, 0.0, 0.0, -1.0, 2.0])
    s1 = backend.asarray([1.0, -1.0, 0.0, 5.0, -5.0])
    s2 = backend.asarray([3.0, 3.0, -2.0, 1.0, 1.0])
    _, (t1, t2) = jet(nn.relu, (x0,), ((s1, s2),))
    assert backend.is_own(t1) and backend.is_own(t2)
    np.testing.assert_array_equal(backend.to_numpy(t1), [1.0, 0.0, 0.0, 0.0, -5.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [3.0, 0.0, 0.0, 0.0, 1.0])
    _, (t1, t2) = jet(lambda v: fnp.minimum(v, 0.0), (x0,), ((s1, s2),))
    np.testing.assert_array_equal(backend.to_numpy(t1), [0.0, -1.0, 0.0, 5.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [0.0, 3.0, -2.0, 1.0, 0.0])
    # reduce_max over [x, -x] = |x|, reduce_min = -|x|: row-wise along axis 0
    pair = lambda v: fnp.stack([v, -v])  # noqa: E731
    _, (t1, t2) = jet(lambda v: fnp.max(pair(v), axis=0), (x0,), ((s1, s2),))
    assert backend.is_own(t1)
    np.testing.assert_array_equal(backend.to_numpy(t1), [1.0, 1.0, 0.0, -5.0, -5.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [3.0, -3.0, 2.0, -1.0, 1.0])
    _, (t1, t2) = jet(lambda v: fnp.sort(pair(v), axis=0)[0], (x0,), ((s1, s2),))
    assert backend.is_own(t1)
    np.testing.assert_array_equal(backend.to_numpy(t1), [-1.0, -1.0, 0.0, 5.0, 5.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [-3.0, 3.0, -2.0, 1.0, -1.0])


@pytest.mark.parametrize("terms", _PATTERNS)
def test_reduce_max_min_and_sort_of_ties_against_the_right_derivatives(terms):
    # three tied curves: x, -x and x^2 / 2 + x (all 0 at t = 0)
    def parts(v):
        return [v, -v, v * v * 0.5 + v]
    got_max = jet(lambda v: fnp.max(fnp.stack(parts(v))), (0.0,), (terms,))[1]
    got_min = jet(lambda v: fnp.min(fnp.stack(parts(v))), (0.0,), (terms,))[1]
    got_sort = jet(lambda v: fnp.sort(fnp.stack(parts(v))), (0.0,), (terms,))[1]
    got_desc = jet(lambda v: fnp.sort(fnp.stack(parts(v)), descending=True), (0.0,),
                   (terms,))[1]
    for i, (got, ref) in enumerate([(got_max, lambda v: max(parts(v))),
                                    (got_min, lambda v: min(parts(v)))]):
        want = _right_derivatives(ref, [0.0], [terms], 3, 6)
        assert np.allclose([float(t) for t in got], want, rtol=1e-12, atol=1e-12), (i, want)
    for pos in range(3):
        want = _right_derivatives(lambda v: sorted(parts(v))[pos], [0.0], [terms], 3, 6)
        assert np.allclose([float(t[pos]) for t in got_sort], want, rtol=1e-12, atol=1e-12)
        want = _right_derivatives(lambda v: sorted(parts(v))[2 - pos], [0.0], [terms], 3, 6)
        assert np.allclose([float(t[pos]) for t in got_desc], want, rtol=1e-12, atol=1e-12)


def test_reduce_max_narrowing_edges():
    # tie narrowed by the first coefficient, then the second among those left
    x0 = np.array([1.0, 1.0, 1.0, 0.0])
    _, ys = jet(fnp.max, (x0,), ((np.array([2.0, 2.0, 1.0, 9.0]),
                                  np.array([1.0, 3.0, 5.0, 9.0])),))
    assert [float(t) for t in ys] == [2.0, 3.0]
    _, ys = jet(fnp.min, (x0[:3],), ((np.array([2.0, 2.0, 1.0]),
                                      np.array([1.0, 3.0, 5.0])),))
    assert [float(t) for t in ys] == [1.0, 5.0]
    # identical curves at a tie: their common coefficients
    _, ys = jet(fnp.max, (x0,), ((np.array([2.0, 2.0, 1.0, 9.0]),),))
    assert [float(t) for t in ys] == [2.0]
    # a NaN coefficient among the tied: NaN, not a silent number
    _, ys = jet(fnp.max, (x0,), ((np.array([math.nan, 2.0, 1.0, 0.0]),),))
    assert math.isnan(float(ys[0]))
    # a NaN value: 0 (the JVP rule's convention)
    _, ys = jet(fnp.max, (np.array([1.0, math.nan]),), ((np.array([1.0, 2.0]),),))
    assert float(ys[0]) == 0.0
    # keepdims and several axes
    x = np.zeros((2, 2, 2))
    s = np.arange(8.0).reshape(2, 2, 2) * np.array([1.0, -1.0])
    _, ys = jet(lambda v: fnp.max(v, axis=(0, 2), keepdims=True), (x,), ((s,),))
    np.testing.assert_array_equal(np.asarray(ys[0]), [[[4.0], [6.0]]])


def test_under_jit_and_vmap():
    def f(x0, s):
        return jet(lambda v: fnp.max(fnp.stack([nn.relu(v), fnp.minimum(v, 0.0) * -2.0])),
                   (x0,), ((s, s * s),))[1]
    # relu(x) vs -2 min(x, 0): x(t) = s t + s^2 t^2 / 2 at 0
    x0, s = np.array([0.0, 0.0, 0.0]), np.array([1.0, -1.0, 0.0])
    want = [np.array([1.0, 2.0, 0.0]), np.array([1.0, -2.0, 0.0])]
    for got in (ft.jit(f)(0.0, 1.0), ):
        np.testing.assert_array_equal([float(g) for g in got], [1.0, 1.0])
    got = ft.vmap(f)(x0, s)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round", "trunc"])
@pytest.mark.parametrize("x0", [0.0, 1.0, 2.5, -3.0])
def test_piecewise_constant_coefficients_are_zero(name, x0):
    # for small t > 0 f(x(t)) is constant: its coefficients are 0; the first term is f(x0)
    # (at a jump that is not the one-sided limit: jet's value is the function's value)
    f = getattr(fnp, name)
    for terms in ((1.0, 0.0), (-1.0, 3.0), (0.0, -2.0)):
        y, ys = jet(f, (x0,), (terms,))
        assert float(y) == float(getattr(np, name)(x0))
        assert [float(t) for t in ys] == [0.0, 0.0]


def test_jax_takes_the_mean_at_ties():
    jax = pytest.importorskip("jax")
    from jax.experimental.jet import jet as jjet
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    _, theirs = jjet(lambda v: jnp.maximum(v, 0.5), (0.5,), ((1.0, 2.0),))
    assert [float(t) for t in theirs] == [0.5, 1.0]  # JAX: the mean of both sides
    _, ours = jet(lambda v: fnp.maximum(v, 0.5), (0.5,), ((1.0, 2.0),))
    assert [float(t) for t in ours] == [1.0, 2.0]  # max(0.5 + t + t^2, 0.5) for t > 0
    _, theirs = jjet(lambda v: jnp.max(jnp.stack([v, -v])), (0.0,), ((1.0, 1.0),))
    assert [float(t) for t in theirs] == [0.0, 0.0]  # JAX: |x| as the mean of x and -x
    _, ours = jet(lambda v: fnp.max(fnp.stack([v, -v])), (0.0,), ((1.0, 1.0),))
    assert [float(t) for t in ours] == [1.0, 1.0]
    # piecewise constant functions: the same zeros
    for jf, f in ((jnp.sign, fnp.sign), (jnp.floor, fnp.floor), (jnp.round, fnp.round)):
        _, theirs = jjet(jf, (0.0,), ((-1.0, 1.0),))
        _, ours = jet(f, (0.0,), ((-1.0, 1.0),))
        assert [float(t) for t in theirs] == [float(t) for t in ours] == [0.0, 0.0]


def test_constant_first_operand_broadcast_and_float32():
    _, ys = jet(lambda v: fnp.maximum(0.0, v), (0.0,), ((-1.0, 2.0),))
    assert [float(t) for t in ys] == [0.0, 0.0]
    f32 = np.float32
    _, ys = jet(lambda v: fnp.minimum(0.0, v), (f32(0.0),), ((f32(-1.0), f32(2.0)),))
    assert [t.dtype for t in ys] == [np.float32] * 2
    assert [float(t) for t in ys] == [-1.0, 2.0]
    _, (t1, t2) = jet(lambda v: fnp.maximum(np.zeros((2, 3)), v), (np.zeros(3),),
                      ((np.array([1.0, -1.0, 0.0]), np.array([0.0, 0.0, 2.0])),))
    np.testing.assert_array_equal(np.asarray(t1), [[1.0, 0.0, 0.0]] * 2)
    np.testing.assert_array_equal(np.asarray(t2), [[0.0, 0.0, 2.0]] * 2)
