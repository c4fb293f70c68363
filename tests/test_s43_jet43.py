"""Session 43 (jet43): jet's decisions at t = 0+ in loops, searchsorted and the modular
functions. Was, silently (the t = 0 side kept):

    jit(lambda x: jet(lambda v: fori_loop(0, 1, lambda i, c: abs(c), v), (x,), ((1.,),))[1])
        (0.)                                                              [0]      -> [1]
    jet(lambda x: while_loop(lambda c: c < 1, lambda c: 2 * c + 1, x), (1.,), ((-1., 0.),))
        (eagerly, jet(jit), jit(jet): the number of steps at t = 0)       [-1, 0]  -> [-2, 0]
    jet(lambda a: take(h, searchsorted(a, 1., side='right')) * a[1], ([0., 1., 1., 2.],),
        (([0., -1., 1., 0.],),))                       (h = [10, ..., 50]) [-40]    -> [-30]
    jet(lambda x: remainder(x, 1.) * x, (1.,), ((-1., 0.),))              [-1, 2]  -> [-2, 2]
    jet(lambda x: where(signbit(x), -x, x), (0.,), ((-1., 0.),))          [-1, 0]  -> [1, 0]
    floor_divide, fmod, divmod, copysign (|x| at 0, the sign of y at 0), lax.top_k at ties.

- a staged scan/while on abstract values (jit of jet): a loop of the same kind carrying the
  values after t = 0 and the coefficients, its body (and predicate) followed by jets of their
  own; the values at t = 0 from the loop itself where the body's jet may step;
- a while loop whose predicate changes right after t = 0 (eager, concrete staged, abstract):
  the steps on each side of t = 0 as the comparisons are (a loop is a cond repeated);
- searchsorted of a sorted array that carries coefficients: the entries tied with a query
  ordered by their curves, by a bisection on the coefficients;
- rules of their own for signbit, floor_divide, remainder, copysign; top_k sorts x itself.

References: f(x(t)) in mpmath at 80 digits fitted at t = h, 2h, ... (test_s40_jet40's helper),
Python loops on mpmath values, NumPy's searchsorted at t = 1e-7 (exact positions).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.experimental.jet import jet
from tests.test_s40_jet40 import _right_derivatives
from tests.test_s42_jet42 import _LOOPS

mp = pytest.importorskip("mpmath")

_PATTERNS = [(1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 2.0, 0.0), (0.0, -2.0, 0.0),
             (0.0, 0.0, 6.0), (0.0, 0.0, -6.0), (-1.0, 4.0, 1.0), (0.5, -3.0, 2.0)]


def _floats(ys):
    return [float(t) for t in ys]


def _close(got, want, tol=1e-9):
    got = _floats(got)
    assert np.allclose(got, want, rtol=tol, atol=tol), (got, want)


def _loop(cond, body, c):
    while cond(c):
        c = body(c)
    return c


def _four_ways(f):
    """jet of ``f`` eagerly, of jit(f), under jit, and of jit(f) under jit."""
    jf = ft.jit(f)
    inside = ft.jit(lambda x, *s: jet(f, (x,), (s,)))
    both = ft.jit(lambda x, *s: jet(jf, (x,), (s,)))
    return [("eager", lambda x, s: jet(f, (x,), (s,))),
            ("jet(jit)", lambda x, s: jet(jf, (x,), (s,))),
            ("jit(jet)", lambda x, s: inside(np.float64(x), *map(np.float64, s))),
            ("jit(jet(jit))", lambda x, s: both(np.float64(x), *map(np.float64, s)))]


# -- staged loops under jit of jet -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_LOOPS))
def test_staged_loops_under_jit_of_jet_against_mpmath(name):
    # (was nested forward modes of the abstract loop: its kinks decided at t = 0)
    f, ref = _LOOPS[name]
    inside = ft.jit(lambda x, *s: jet(f, (x,), (s,)))
    for terms in _PATTERNS:
        want = _right_derivatives(ref, [0.0], [terms], 3)
        y, ys = inside(np.float64(0.0), *map(np.float64, terms))
        assert float(y) == float(f(0.0))
        _close(ys, want)


# -- a while loop's number of steps on each side of t = 0 ----------------------------------------


_WHILES = {
    # 1 - t < 1: one step after t = 0, none at it
    "double": (lambda x: lax.while_loop(lambda c: c < 1, lambda c: 2 * c + 1, x),
               lambda v: _loop(lambda c: c < 1, lambda c: 2 * c + 1, v), [1.0, 0.0]),
    # the count of steps, 2 at t = 0, 3 going down, used as a factor
    "count": (lambda x: (lambda r: r[0] * r[1])(lax.while_loop(
        lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + 1.0), (x, 0.0 * x))),
        lambda v: (lambda r: r[0] * r[1])(_loop(lambda c: c[0] < 3,
                                                lambda c: (c[0] + 1, c[1] + 1), (v, 0))),
        [1.0, 3.0]),
    # a kink in the body as well
    "kink": (lambda x: lax.while_loop(lambda c: c < 2, lambda c: fnp.abs(c) + 1, x),
             lambda v: _loop(lambda c: c < 2, lambda c: abs(c) + 1, v), [0.0, 1.0, -1.0]),
}


@pytest.mark.parametrize("name", sorted(_WHILES))
def test_while_steps_on_each_side_against_mpmath(name):
    f, ref, x0s = _WHILES[name]
    ways = _four_ways(f)
    for x0 in x0s:
        for terms in _PATTERNS[:6] + _PATTERNS[7:]:
            want = _right_derivatives(ref, [x0], [terms], 3)
            for how, run in ways:
                y, ys = run(x0, terms)
                assert float(y) == float(f(x0)), (how, x0, terms)  # (the steps at t = 0)
                _close(ys, want), (how, x0, terms)


def test_the_brief_cases():
    g = lambda x: lax.fori_loop(0, 1, lambda i, c: fnp.abs(c), x)  # noqa: E731
    for fun in (g, lambda x: lax.scan(lambda c, a: (fnp.abs(c) * a, c), x,
                                      np.array([1.0]))[0]):
        assert _floats(ft.jit(lambda x: jet(fun, (x,), ((1.0,),))[1])(np.float64(0.0))) \
            == [1.0]
    w = _WHILES["double"][0]
    for how, run in _four_ways(w):
        y, ys = run(1.0, (-1.0, 0.0))
        assert float(y) == 1.0 and _floats(ys) == [-2.0, 0.0], how  # was [-1, 0]
        y, ys = run(1.0, (1.0, 0.0))
        assert float(y) == 1.0 and _floats(ys) == [1.0, 0.0], how


def test_staged_loops_under_other_transforms():
    sc = _LOOPS["scan"][0]  # x^2 + (|x| + x)^2: 5 x^2 for x > 0, x^2 below
    x0, d = np.array([0.0, 0.0, 0.5]), np.array([1.0, -1.0, 1.0])
    want = [[0.0, 0.0, 5.0], [10.0, 2.0, 10.0]]
    per = ft.vmap(lambda x, a: jet(sc, (x,), ((a, 0.0),))[1])
    for got in (per(x0, d), ft.jit(per)(x0, d),
                ft.jit(lambda x, a: jet(ft.vmap(sc), (x,), ((a, fnp.zeros(3)),))[1])(x0, d)):
        np.testing.assert_array_equal(np.array(got), want)
    # grad through jit of jet, jet of grad under jit, jet of jet under jit
    first = lambda x: jet(sc, (x,), ((1.0, 0.0),))[1][0]  # noqa: E731
    for g in (ft.grad(first), ft.jit(ft.grad(first)), ft.grad(ft.jit(first))):
        assert float(g(np.float64(0.5))) == 10.0
    _close(ft.jit(lambda x: jet(ft.grad(sc), (x,), ((1.0, 0.0),))[1])(np.float64(0.0)),
           [10.0, 0.0], 0)
    inner = lambda a: jet(sc, (a,), ((1.0,),))[1][0]  # noqa: E731
    y, ys = ft.jit(lambda x: jet(inner, (x,), ((1.0,),)))(np.float64(0.3))
    assert float(y) == 3.0 and _floats(ys) == [10.0]
    # a while under vmap (each member its own number of steps on each side)
    w = _WHILES["double"][0]
    got = ft.jit(ft.vmap(lambda x, a: jet(w, (x,), ((a, 0.0),))[1]))(
        np.array([1.0, 1.0, 0.5]), np.array([-1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(np.array(got), [[-2.0, 1.0, 2.0], [0.0, 0.0, 0.0]])


def test_staged_loops_in_float32_keep_the_dtype():
    f = lambda v: lax.scan(lambda c, a: (fnp.abs(c) * a + c, c * c), v,  # noqa: E731
                           np.array([1.0, 2.0], np.float32))[0]
    one, zero = np.float32(1.0), np.float32(0.0)
    y, ys = ft.jit(lambda x: jet(f, (x,), ((one, zero),)))(zero)
    assert y.dtype == np.float32 and all(t.dtype == np.float32 for t in ys)
    assert _floats(ys) == [6.0, 0.0]  # t -> 2t -> 6t
    w = _WHILES["double"][0]
    y, ys = ft.jit(lambda x: jet(w, (x,), ((-one, zero),)))(one)
    assert y.dtype == np.float32 and _floats(ys) == [-2.0, 0.0]


def test_a_smooth_staged_loop_runs_once_under_jit_of_jet():
    # (no comparison of curves in the body: its values after t = 0 are those at it, so no
    # second loop for them)
    f = lambda x: lax.scan(lambda c, a: (fnp.sin(c) * a, c * c), x,  # noqa: E731
                           np.array([1.0, 2.0]))[0]
    graph = ft.make_graph(lambda x: jet(f, (x,), ((1.0, 0.0),)))(np.float64(0.3))
    assert str(graph).count("= scan ") == 1, str(graph)
    # (abs is one-sided without a step; a where on a comparison may step)
    kinked = lambda x: lax.scan(lambda c, a: (fnp.abs(c) * a, c), x,  # noqa: E731
                                np.array([1.0, 2.0]))[0]
    graph = ft.make_graph(lambda x: jet(kinked, (x,), ((1.0, 0.0),)))(np.float64(0.3))
    assert str(graph).count("= scan ") == 1, str(graph)
    stepping = lambda x: lax.scan(lambda c, a: (fnp.where(c > 0, c, 0.0) * a, c), x,  # noqa
                                  np.array([1.0, 2.0]))[0]
    graph = ft.make_graph(lambda x: jet(stepping, (x,), ((1.0, 0.0),)))(np.float64(0.3))
    assert str(graph).count("= scan ") == 2, str(graph)


def test_staged_loops_on_every_backend(backend):
    w = _WHILES["double"][0]
    x0 = backend.asarray(1.0)
    y, (t1, t2) = ft.jit(lambda x: jet(w, (x,), ((-fnp.ones_like(x), fnp.zeros_like(x)),)))(x0)
    assert backend.is_own(t1) and backend.is_own(y)
    assert [float(backend.to_numpy(v)) for v in (y, t1, t2)] == [1.0, -2.0, 0.0]
    y, (t1, t2) = jet(w, (x0,), ((-fnp.ones_like(x0), fnp.zeros_like(x0)),))
    assert backend.is_own(t1) and float(backend.to_numpy(t1)) == -2.0
    g = lambda x: lax.fori_loop(0, 1, lambda i, c: fnp.abs(c), x)  # noqa: E731
    y, (t1,) = ft.jit(lambda x: jet(g, (x,), ((fnp.ones_like(x),),)))(backend.asarray(0.0))
    assert backend.is_own(t1) and float(backend.to_numpy(t1)) == 1.0


# -- searchsorted in an array that carries coefficients -------------------------------------------


def _position_after(a0, sa, v0, sv, side, t=1e-7):
    # (coefficients given as derivatives, as jet takes them: a0 + a1 t + a2 t^2 / 2)
    a = a0 + sa[0] * t + sa[1] * t * t / 2
    v = v0 + sv[0] * t + sv[1] * t * t / 2
    return np.searchsorted(a, v, side=side)


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_in_curves_against_numpy_after_zero(side):
    h = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    f = lambda a, v: fnp.sum(fnp.take(h, fnp.searchsorted(a, v, side=side)) * v)  # noqa
    inside = ft.jit(lambda a, v, *s: jet(f, (a, v), ((s[0], s[1]), (s[2], s[3]))))
    rng = np.random.default_rng(43)
    for _ in range(40):
        a0 = np.sort(rng.integers(0, 3, 4).astype(float))
        sa = [rng.integers(-1, 2, 4).astype(float) for _ in range(2)]
        order = np.lexsort((sa[1], sa[0], a0))  # (sorted for small t > 0 too)
        a0, sa = a0[order], [s[order] for s in sa]
        v0 = rng.integers(0, 3, 3).astype(float)
        sv = [rng.integers(-1, 2, 3).astype(float) for _ in range(2)]
        want = float(np.sum(h[_position_after(a0, sa, v0, sv, side)] * sv[0]))
        for y, ys in (jet(f, (a0, v0), (tuple(sa), tuple(sv))), inside(a0, v0, *sa, *sv)):
            assert float(y) == float(f(a0, v0)) and float(ys[0]) == want, (a0, sa, v0, sv)


def test_searchsorted_in_curves_the_brief_case_and_others(backend):
    h = backend.asarray([10.0, 20.0, 30.0, 40.0, 50.0])
    a0 = backend.asarray([0.0, 1.0, 1.0, 2.0])
    sa = backend.asarray([0.0, -1.0, 1.0, 0.0])
    f = lambda a: fnp.take(h, fnp.searchsorted(a, 1.0, side="right")) * a[1]  # noqa: E731
    y, (t1,) = jet(f, (a0,), ((sa,),))
    assert backend.is_own(t1)
    assert float(backend.to_numpy(y)) == 40.0 and float(backend.to_numpy(t1)) == -30.0
    g = lambda a: fnp.take(h, fnp.searchsorted(a, 1.0)) * a[1]  # noqa: E731
    assert float(backend.to_numpy(jet(g, (a0,), ((sa,),))[1][0])) == -30.0  # (was -20)
    # an empty array: nothing to search
    y, (t1,) = jet(lambda a: fnp.astype(fnp.searchsorted(a, 0.5), a.dtype) + fnp.sum(a),
                   (backend.asarray(np.zeros(0)),), ((backend.asarray(np.zeros(0)),),))
    assert float(backend.to_numpy(y)) == 0.0


def test_searchsorted_in_curves_under_vmap():
    h = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    a0, sa = np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, -1.0, 1.0, 0.0])
    g = lambda a, v: fnp.take(h, fnp.searchsorted(a, v)) * v  # noqa: E731
    # the queries 1 + t, t, 0 + 0 t against [0, 1 - t, 1 + t, 2]: past 1 - t only; past 0
    _, (t1,) = jet(ft.vmap(g, in_axes=(None, 0)), (a0, np.array([1.0, 0.0, 0.0])),
                   ((sa,), (np.array([1.0, 1.0, 0.0]),)))
    np.testing.assert_array_equal(np.asarray(t1), [30.0, 20.0, 0.0])


# -- modular functions and signs ------------------------------------------------------------------


def _mrem(a, b):
    return a - b * mp.floor(a / b)


def _mtrunc(a):
    return mp.floor(a) if a >= 0 else mp.ceil(a)


_MODULAR = {
    "signbit": (lambda x: fnp.where(fnp.signbit(x[0]), -x[0], x[0]) * x[1],
                lambda a, b: abs(a) * b, [[0.0, 1.0]]),
    "floor_divide": (lambda x: fnp.floor_divide(x[0], 1.0) * x[0] + (x[0] // x[1]) * x[1],
                     lambda a, b: mp.floor(a) * a + mp.floor(a / b) * b,
                     [[1.0, 1.0], [0.0, 0.5], [2.0, -1.0]]),
    "remainder": (lambda x: fnp.remainder(x[0], x[1]) * x[0] + (x[0] % 1.0) ** 2,
                  lambda a, b: _mrem(a, b) * a + _mrem(a, 1) ** 2,
                  [[1.0, 1.0], [0.0, 0.5], [2.0, -1.0], [-1.0, 1.0]]),
    "fmod": (lambda x: fnp.fmod(x[0], x[1]) * x[0],
             lambda a, b: (a - b * _mtrunc(a / b)) * a, [[1.0, 1.0], [0.0, 1.0], [-1.0, 1.0]]),
    "divmod": (lambda x: (lambda q, r: q * x[0] + r * r)(*fnp.divmod(x[0], 1.0)),
               lambda a: mp.floor(a) * a + _mrem(a, 1) ** 2, [[1.0], [0.0]]),
    "copysign": (lambda x: fnp.copysign(x[0] + 1.0, x[1]) * x[1] + fnp.copysign(2.0, x[1]),
                 lambda a, b: abs(a + 1) * (1 if b > 0 else -1) * b + (2 if b > 0 else -2),
                 [[-1.0, 1.0], [-1.0, 0.0], [0.0, 0.0]]),
    "top_k": (lambda x: fnp.sum(lax.top_k(x, 2)[0] * np.array([1.0, 3.0]))
              + fnp.sum(fnp.take(x * x, lax.top_k(x, 2)[1]) * np.array([1.0, 5.0])),
              lambda *v: sum(s * w for s, w in zip(sorted(v, reverse=True), [1, 3]))
              + sum(v[i] ** 2 * w for i, w in zip(sorted(range(3), key=lambda i: (-v[i], i)),
                                                   [1, 5])),
              [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]),
}


@pytest.mark.parametrize("name", sorted(_MODULAR))
def test_modular_functions_against_mpmath(name):
    f, ref, x0s = _MODULAR[name]
    jf = ft.jit(f)
    inside = ft.jit(lambda x, a, b, c: jet(f, (x,), ((a, b, c),)))
    rng = np.random.default_rng(len(name))
    for x0 in x0s:
        n = len(x0)
        combos = [[p] * n for p in _PATTERNS] + \
            [[_PATTERNS[j] for j in rng.integers(0, len(_PATTERNS), n)] for _ in range(6)]
        for combo in combos:
            terms = tuple(np.array([c[k] for c in combo]) for k in range(3))
            want = _right_derivatives(ref, x0, [list(c) for c in combo], 3)
            x = np.array(x0)
            for how, (y, ys) in [("eager", jet(f, (x,), (terms,))),
                                 ("jet(jit)", jet(jf, (x,), (terms,))),
                                 ("jit(jet)", inside(x, *terms))]:
                assert float(y) == float(f(x)), (how, x0, combo)
                _close(ys, want, 1e-8), (how, x0, combo)


def test_modular_functions_in_float32_and_under_vmap():
    one, zero = np.float32(1.0), np.float32(0.0)
    y, ys = jet(lambda x: fnp.remainder(x, 1.0) * x, (one,), ((-one, zero),))
    assert y.dtype == np.float32 and all(t.dtype == np.float32 for t in ys)
    assert _floats(ys) == [-2.0, 2.0]  # (1 - t)^2 after, 0 at t = 0
    x0, d = np.array([1.0, 1.0, 0.5]), np.array([-1.0, 1.0, 1.0])
    f = lambda x: fnp.floor_divide(x, 1.0) * x + fnp.copysign(x - 1.0, x - 1.0) * x  # noqa
    _, (t1,) = jet(ft.vmap(f), (x0,), ((d,),))
    # 1 - t: 0 + (-t)(1 - t); 1 + t: (1 + t) + t (1 + t); 0.5 + t: 0 + (t - 0.5)(0.5 + t)
    np.testing.assert_array_equal(np.asarray(t1), [-1.0, 2.0, 0.0])


def test_grad_of_a_jet_past_a_modular_step():
    # (pins: the values after a step are made from the value at t = 0, not from x, so that
    # their derivatives in x0 are the step function's, as session 42 made them for floor)
    # the first term d * q(x0+) of floor_divide is piecewise constant in x0
    for x0, d in ((1.0, -1.0), (1.0, 1.0), (0.5, 1.0)):
        first = lambda x: jet(lambda v: fnp.floor_divide(v, 1.0) * 3.0 + v, (x,),  # noqa
                              ((d,),))[1][0]
        assert float(ft.grad(first)(x0)) == 0.0
    # remainder: the first coefficient of (x % 1) x along -1 is -(x0 + r(x0+)), r(x0+) the
    # remainder after t = 0 (1 at x0 = 1, going down): its derivative in x0 is -2 there too
    g = lambda x: jet(lambda v: fnp.remainder(v, 1.0) * v, (x,), ((-1.0,),))[1][0]  # noqa
    for x0 in (1.0, 1.25, 0.75):
        assert float(ft.grad(g)(x0)) == -2.0


# -- hypot and the modulus of a complex value at the origin ---------------------------------------


_DEGREE_ONE = {
    "hypot": (lambda x: fnp.hypot(x[0], 2.0 * x[0] + x[1]) * (x[0] + 2.0) + fnp.hypot(x[1], 0.0),
              lambda a, b: mp.sqrt(a * a + (2 * a + b) ** 2) * (a + 2) + abs(b),
              [[0.0, 0.0], [1.0, 0.0]]),
    "complex_abs": (lambda x: fnp.abs(x[0] + 1j * x[1]) * (x[0] + 2.0),
                    lambda a, b: mp.sqrt(a * a + b * b) * (a + 2), [[0.0, 0.0], [1.0, -1.0]]),
}


@pytest.mark.parametrize("name", sorted(_DEGREE_ONE))
def test_degree_one_functions_at_the_origin_against_mpmath(name):
    # (the forward modes' slope is 0 at the origin: hypot(t, 2t) had coefficients [0, 0],
    # true [sqrt(5), 0]; JAX's jet gives 1.5)
    f, ref, x0s = _DEGREE_ONE[name]
    jf = ft.jit(f)
    inside = ft.jit(lambda x, a, b, c: jet(f, (x,), ((a, b, c),)))
    rng = np.random.default_rng(len(name))
    for x0 in x0s:
        combos = [[p] * 2 for p in _PATTERNS] + \
            [[_PATTERNS[j] for j in rng.integers(0, len(_PATTERNS), 2)] for _ in range(6)]
        for combo in combos:
            terms = tuple(np.array([c[k] for c in combo]) for k in range(3))
            want = _right_derivatives(ref, x0, [list(c) for c in combo], 3, degree=6)
            x = np.array(x0)
            for how, (y, ys) in [("eager", jet(f, (x,), (terms,))),
                                 ("jet(jit)", jet(jf, (x,), (terms,))),
                                 ("jit(jet)", inside(x, *terms))]:
                assert float(y) == float(f(x)), (how, x0, combo)
                _close(ys, want, 1e-8), (how, x0, combo)


def test_degree_one_functions_elsewhere_and_under_transforms(backend):
    x0 = backend.asarray(0.0)
    one, zero = backend.asarray(1.0), backend.asarray(0.0)
    y, (t1, t2) = jet(lambda x: fnp.hypot(x, 2.0 * x), (x0,), ((one, zero),))
    assert backend.is_own(t1)
    np.testing.assert_allclose([float(backend.to_numpy(t)) for t in (y, t1, t2)],
                               [0.0, 5.0 ** 0.5, 0.0], rtol=1e-15)
    # the first coefficient sqrt(5) |d| is constant in x0: its derivative 0 (no nan)
    first = lambda x: jet(lambda v: fnp.hypot(v, 2.0 * v), (x,), ((1.0,),))[1][0]  # noqa
    for g in (ft.grad(first), ft.jit(ft.grad(first))):
        assert abs(float(g(np.float64(0.0)))) == 0.0
        assert abs(float(g(np.float64(0.5)))) < 1e-15
    _, ys = jet(ft.vmap(lambda v: fnp.hypot(v, 2.0 * v)), (np.array([0.0, 1.0, 0.0]),),
                ((np.array([1.0, 1.0, -1.0]), np.zeros(3)),))
    np.testing.assert_allclose(np.array(ys), [[5.0 ** 0.5] * 3, [0.0] * 3], rtol=1e-15)
    y, ys = jet(lambda v: fnp.hypot(v, 2.0 * v), (np.float32(0.0),),
                ((np.float32(1.0), np.float32(0.0)),))
    assert ys[0].dtype == np.float32 and abs(float(ys[0]) - 5.0 ** 0.5) < 1e-6


# -- left ------------------------------------------------------------------------------------


def test_unique_at_a_tie_that_splits():
    # x = [t, -t, 1]: three unique values for t > 0, two at t = 0; sum of squares: 2 t^2 + 1
    y, ys = jet(lambda x: fnp.sum(fnp.unique(x) ** 2), (np.array([0.0, 0.0, 1.0]),),
                ((np.array([1.0, -1.0, 0.0]), np.zeros(3)),))
    assert float(y) == 1.0 and _floats(ys) == [0.0, 4.0]
