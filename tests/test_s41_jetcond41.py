"""Session 41 (jetcond41): jet's last decisions taken at t = 0, now one-sided (the branch or
position that holds for small t > 0 gives the Taylor coefficients; the first result stays
f(x0)). Was, silently:

    jet(lambda x: lax.cond(x > 0, lambda v: v*v + v, lambda v: -v, x), (0.,), ((1., 1.),))
                                                          [-1, -1]  -> [1, 3]
    jet(lambda x: take(x, argmax(x)), (zeros(3),), ((array([1., 2., -1.]),),))
                                                          [1]       -> [2]
    jet(nn.hard_silu, (3.,), ((-1., 0.),))                [-1, 0]   -> [-1.5, 1/3]

- eager lax.cond/switch (and cond's JVP and vmap rules) whose predicate is a comparison of
  curves that changes right after t = 0 run both branches and merge them with ``where``;
  only there (elsewhere only the chosen branch runs, as before);
- argmax, argmin, argsort: the position the curves choose for t > 0 (ties narrowed by the
  coefficients in turn, as jet40's max reductions and sort);
- custom_jvp functions: followed through their JVP rule by a jet of its own (y' = T(x, x')),
  so the rule's comparisons are one-sided; the rule is kept (jet's first term is jvp's; a
  primal that cannot be traced still works). JAX's jet traces the primal instead.

References: f(x(t)) in mpmath at 80 digits, fitted at t = h, 2h, ... (test_s40_jet40's
helper); closed forms.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import control_flow, lax, nn
from functrans.custom import custom_jvp
from functrans.experimental.jet import jet
from tests.test_s40_jet40 import _right_derivatives

_PATTERNS = [(1.0, 1.0, 1.0), (-1.0, 1.0, 1.0), (0.0, -2.0, 1.0), (0.0, 0.0, 3.0),
             (0.0, 0.0, -3.0), (-0.5, 4.0, -2.0)]


def _mp():
    return pytest.importorskip("mpmath")


def _floats(ys):
    return [float(t) for t in ys]


def _close(got, want, tol=1e-9):
    got = _floats(got)
    assert np.allclose(got, want, rtol=tol, atol=tol), (got, want)


def _cond(x):
    return lax.cond(x > 0, lambda v: v * v + v, lambda v: -v, x)


def _switch(x):
    return lax.switch(fnp.astype(x > 0, fnp.int32) + fnp.astype(x > 1, fnp.int32),
                      [lambda v: -v, lambda v: v ** 3 + v, lambda v: 2.0 * v], x)


# -- cond and switch ---------------------------------------------------------------------------


def test_the_brief_cases():
    y, ys = jet(_cond, (0.0,), ((1.0, 1.0),))
    assert float(y) == 0.0 and _floats(ys) == [1.0, 3.0]
    y, ys = jet(lambda x: fnp.take(x, fnp.argmax(x)), (np.zeros(3),),
                ((np.array([1.0, 2.0, -1.0]),),))
    assert float(y) == 0.0 and _floats(ys) == [2.0]
    y, ys = jet(nn.hard_silu, (3.0,), ((-1.0, 0.0),))
    assert float(y) == 3.0
    _close(ys, [-1.5, 1.0 / 3.0], 1e-14)


@pytest.mark.parametrize("which", ["cond", "switch", "cond_ge", "cond_number"])
def test_cond_and_switch_against_mpmath(which):
    f, ref, points = {
        "cond": (_cond, lambda v: v * v + v if v > 0 else -v, [0.0]),
        "switch": (_switch, lambda v: -v if v <= 0 else (v ** 3 + v if v <= 1 else 2 * v),
                   [0.0, 1.0]),
        # >= holds at t = 0, not after along a falling curve
        "cond_ge": (lambda x: lax.cond(x >= 1.0, lambda v: v ** 3, lambda v: 5.0 * v, x),
                    lambda v: v ** 3 if v >= 1 else 5 * v, [1.0]),
        # a float predicate (nonzero is true): the step of sign(x)
        "cond_number": (lambda x: lax.cond(fnp.sign(x), lambda v: v * v, lambda v: 3.0 * v, x),
                        lambda v: v * v if v != 0 else 3 * v, [0.0]),
    }[which]
    for x0 in points:
        for terms in _PATTERNS:
            y, ys = jet(f, (x0,), (terms,))
            assert float(y) == float(f(x0)), (x0, terms)  # the first term stays f(x0)
            _close(ys, _right_derivatives(ref, [x0], [terms], 3, degree=6))


def test_operands_pytrees_and_integer_outputs():
    def f(x, z):
        return lax.cond(x > z, lambda a, b: {"p": a * b, "k": fnp.astype(a > 0, fnp.int32)},
                        lambda a, b: {"p": a - b, "k": 7}, x, z)
    # tied curves x = 2 + t, z = 2 + 2 t^2: x > z after; p = x z, k = 1
    y, ys = jet(f, (2.0, 2.0), ((1.0, 0.0), (0.0, 2.0)), factorial_scaled=False)
    assert float(y["p"]) == 0.0 and int(y["k"]) == 7
    _close(ys["p"], [2.0, 4.0])  # (2 + t)(2 + 2 t^2) = 4 + 2 t + 4 t^2 + 2 t^3
    assert [int(k) for k in ys["k"]] == [0, 0]
    # a branch returning a constant: its value after holds in what follows
    g = lambda x: x * lax.cond(x > 0, lambda v: 1.0, lambda v: 0.0, x)  # noqa: E731
    y, ys = jet(g, (0.0,), ((1.0, 1.0),))
    assert float(y) == 0.0 and _floats(ys) == [1.0, 1.0]


def test_only_the_chosen_branch_runs_away_from_a_change():
    calls = []

    def branch(tag, value):
        def run(v):
            calls.append(tag)
            return value(v)
        return run
    f = lambda x: lax.cond(x > 0, branch("t", lambda v: v * v), branch("f", lambda v: -v), x)  # noqa
    jet(f, (0.5,), ((1.0, 1.0),))
    jet(f, (0.0,), ((-1.0, 1.0),))  # stays false after
    jet(f, (0.0,), ((0.0, 0.0),))  # the same curve as 0 to the order followed: t = 0 decides
    assert calls == ["t", "f", "f"]
    calls.clear()
    jet(f, (0.0,), ((1.0, 0.0),))  # false at 0, true after: both
    assert sorted(calls) == ["f", "t"]
    # outside jet, as before: one branch, Python's if (a host read inside is fine)
    calls.clear()
    assert float(f(0.0)) == 0.0 and calls == ["f"]
    h = lambda x: lax.cond(x > 0, lambda v: v * float(v > 0), lambda v: -v, x)  # noqa: E731
    assert float(ft.grad(h)(0.5)) == 1.0


def test_branches_that_cannot_be_merged_are_an_error_at_a_change_only():
    f = lambda x: lax.cond(x > 0, lambda v: (v, v), lambda v: v, x)  # noqa: E731
    jet(f, (0.5,), ((1.0,),))  # (one branch runs: as before)
    with pytest.raises(TypeError, match="changes right after t = 0.*same tree structure"):
        jet(f, (0.0,), ((1.0,),))
    g = lambda x: lax.cond(x > 0, lambda v: fnp.stack([v, v]), lambda v: v, x)  # noqa: E731
    with pytest.raises(TypeError, match="same shapes and dtypes"):
        jet(g, (0.0,), ((1.0,),))
    assert control_flow._JET_STEPPING == 0  # (retired with the jets, errors too)


def test_nestings():
    want = [1.0, 3.0]
    assert _floats(jet(ft.jit(_cond), (np.float64(0.0),), ((1.0, 1.0),))[1]) == want
    assert _floats(ft.jit(lambda x0: jet(_cond, (x0,), ((1.0, 1.0),))[1])(0.0)) == want
    assert _floats(ft.jit(lambda x0: jet(_cond, (x0,), ((1.0, 1.0),))[1])(
        np.float64(0.0))) == want
    # vmap inside and outside: members that change and members that do not
    x0, a = np.zeros(3), np.array([1.0, -1.0, 0.0])
    ones = np.ones(3)
    for got in (jet(ft.vmap(_cond), (x0,), ((a, ones),))[1],
                ft.vmap(lambda x, s: jet(_cond, (x,), ((s, 1.0),))[1])(x0, a)):
        # (the third member: x = t^2 / 2 > 0 after, so v^2 + v's terms too)
        np.testing.assert_array_equal(np.array(got), [[1.0, 1.0, 0.0], [3.0, -1.0, 1.0]])
    # jet of grad (g = 3x^2 after 0, -2x before), grad through jet (d/dx0 of the second
    # term along (1, 1): f'' + f' = 2 + 2 x0 + 1, differentiated)
    g = ft.grad(lambda x: lax.cond(x > 0, lambda v: v ** 3, lambda v: -v * v, x))
    assert _floats(jet(g, (0.0,), ((1.0, 0.0, 0.0),))[1]) == [0.0, 6.0, 0.0]
    assert _floats(jet(g, (0.0,), ((-1.0, 0.0, 0.0),))[1]) == [2.0, 0.0, 0.0]
    assert float(ft.grad(lambda x: jet(_cond, (x,), ((1.0, 1.0),))[1][1])(0.0)) == 2.0
    # jet of a forward mode of a switch; jet of jet
    h = lambda x: ft.jvp(_switch, (x,), (x,))[1]  # noqa: E731  (x f'(x): 3x^3 + x after 0)
    _close(jet(h, (0.0,), ((1.0, 0.0, 0.0),))[1], [1.0, 0.0, 18.0])
    y, ys = jet(lambda x: jet(_cond, (x,), ((1.0,),))[1][0], (0.0,), ((1.0,),))
    assert float(y) == 1.0 and _floats(ys) == [2.0]  # (2 x + 1 after 0)


def test_arrays_on_every_backend(backend):
    x0 = backend.asarray([0.0, 2.0])
    s1, s2 = backend.asarray([1.0, 1.0]), backend.asarray([1.0, 0.0])
    f = lambda x: lax.cond(x[0] > 0, lambda v: v * v, lambda v: -v, x)  # noqa: E731
    y, (t1, t2) = jet(f, (x0,), ((s1, s2),))
    assert backend.is_own(y) and backend.is_own(t1) and backend.is_own(t2)
    np.testing.assert_array_equal(backend.to_numpy(y), [-0.0, -2.0])
    np.testing.assert_array_equal(backend.to_numpy(t1), [0.0, 4.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [2.0, 2.0])
    v0 = backend.asarray([0.0, 0.0, 1.0])
    y, (t1,) = jet(lambda x: fnp.take(x, fnp.argmin(x)) * 2.0, (v0,),
                   ((backend.asarray([1.0, -3.0, 5.0]),),))
    assert backend.is_own(t1) and float(backend.to_numpy(t1)) == -6.0


# -- argmax, argmin, argsort -------------------------------------------------------------------


def test_arg_extremes_at_ties_are_one_sided():
    x0 = np.array([0.0, 0.0, 0.0, -1.0])
    for terms in [(np.array([1.0, 2.0, -1.0, 9.0]), np.zeros(4)),
                  (np.array([1.0, 1.0, -1.0, 9.0]), np.array([0.0, 0.5, 3.0, 0.0])),
                  (np.array([-1.0, -1.0, -1.0, 0.0]), np.array([2.0, -1.0, 2.0, 0.0])),
                  (np.zeros(4), np.zeros(4))]:
        for arg, red in ((fnp.argmax, fnp.max), (fnp.argmin, fnp.min)):
            # the position chosen carries the extreme's curve: max(x)'s one-sided terms
            y, ys = jet(lambda x: fnp.take(x, arg(x)), (x0,), (terms,))
            assert float(y) == float(red(x0))
            _close(ys, jet(red, (x0,), (terms,))[1], 0)
    # the index itself: its value at t = 0
    y, _ = jet(fnp.argmax, (x0,), ((np.array([1.0, 2.0, 0.0, 0.0]),),))
    assert int(y) == 0
    # a NaN value keeps NumPy's first NaN; a NaN coefficient narrows nothing
    x1 = np.array([0.0, np.nan, 0.0])
    y, ys = jet(lambda x: fnp.take(x, fnp.argmax(x)), (x1,), ((np.array([1.0, 2.0, 3.0]),),))
    assert np.isnan(float(y)) and _floats(ys) == [2.0]
    y, ys = jet(lambda x: fnp.take(x, fnp.argmax(x)), (np.zeros(3),),
                ((np.array([np.nan, 1.0, 1.0]), np.array([0.0, 0.0, 1.0])),))
    assert _floats(ys) == [1.0, 1.0]


def test_arg_extremes_along_an_axis_and_argsort():
    x0 = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 0.5]])
    s = np.array([[1.0, 0.0], [2.0, -1.0], [3.0, 0.0]])
    f = lambda x: fnp.take_along_axis(x, fnp.argmax(x, axis=0, keepdims=True), axis=0)  # noqa
    np.testing.assert_array_equal(jet(f, (x0,), ((s,),))[1][0], [[3.0, 0.0]])
    g = lambda x: fnp.take_along_axis(x, fnp.argmin(x, axis=1, keepdims=True), axis=1)  # noqa
    x1 = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.5]])
    np.testing.assert_array_equal(jet(g, (x1,), ((s,),))[1][0], [[0.0], [-1.0], [3.0]])
    v0 = np.array([0.0, 0.0, 1.0, 0.0])
    terms = (np.array([1.0, -1.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0, -1.0]))
    for descending in (False, True):
        h = lambda x: fnp.take_along_axis(x, fnp.argsort(x, descending=descending), axis=-1)  # noqa
        _, got = jet(h, (v0,), (terms,))
        _, want = jet(lambda x: fnp.sort(x, descending=descending), (v0,), (terms,))
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    # under jit and vmap
    k = lambda x: fnp.take(x, fnp.argmax(x))  # noqa: E731
    s1 = np.array([1.0, 2.0, -1.0])
    assert _floats(ft.jit(lambda x: jet(k, (x,), ((s1,),))[1])(np.zeros(3))) == [2.0]
    got = ft.vmap(lambda x, s: jet(k, (x,), ((s,),))[1][0])(np.zeros((2, 3)),
                                                          np.stack([s1, -s1]))
    np.testing.assert_array_equal(got, [2.0, 1.0])


# -- custom_jvp ------------------------------------------------------------------------------


@pytest.mark.parametrize("x0", [3.0, -3.0])
def test_hard_silu_at_its_kinks_against_mpmath(x0):
    def ref(v):
        return v if v >= 3 else (0 * v if v <= -3 else v * (v + 3) / 6)
    for terms in _PATTERNS:
        y, ys = jet(nn.hard_silu, (x0,), (terms,))
        assert float(y) == float(nn.hard_silu(x0))
        _close(ys, _right_derivatives(ref, [x0], [terms], 3, degree=6))
        # order 1 is one-sided too
        _close(jet(nn.hard_silu, (x0,), (terms[:1],))[1], _right_derivatives(
            ref, [x0], [terms[:1]], 1, degree=4))


def test_the_rule_is_followed_not_the_primal():
    # a straight-through rule: jet's first term is jvp's (the primal's would be 0)
    ste = custom_jvp(lambda x: fnp.round(x))
    ste.defjvp(lambda p, t: (ste(p[0]), t[0]))
    y, ys = jet(ste, (0.3,), ((1.0, 2.0),))
    assert float(y) == 0.0 and _floats(ys) == [1.0, 2.0]
    assert float(ft.jvp(ste, (0.3,), (1.0,))[1]) == 1.0
    # a primal that reads its value on the host (not traceable by jet) still works
    host = custom_jvp(lambda x: fnp.asarray(np.exp(np.asarray(ft.stop_gradient(x)))))
    host.defjvp(lambda p, t: (host(p[0]), host(p[0]) * t[0]))
    _close(jet(host, (0.5,), ((1.0, 0.0, 0.0),))[1], [np.exp(0.5)] * 3, 1e-14)
    # a comparison in the rule, one-sided; a rule whose tangent uses the primal output
    f = custom_jvp(lambda x: fnp.where(x > 1, x * x, 2.0 * x - 1.0))
    f.defjvp(lambda p, t: (f(p[0]), fnp.where(p[0] > 1, 2.0 * p[0], 2.0) * t[0]
                           + 0.0 * f(p[0])))
    for terms in _PATTERNS:
        _close(jet(f, (1.0,), (terms,))[1], _right_derivatives(
            lambda v: v * v if v > 1 else 2 * v - 1, [1.0], [terms], 3, degree=6))


def test_a_custom_function_that_steps_passes_on_its_value_after():
    # (x + 2) * floor(x) at 1 along -1 is 0 for t > 0 (the floor after is 0), as the floor
    # primitive's own rule gives; a custom_jvp floor too (jet42: its value after t = 0 from
    # its primal function, followed by jet, where its rule calls it)
    fl = custom_jvp(lambda x: fnp.floor(x))
    fl.defjvp(lambda p, t: (fl(p[0]), fnp.zeros_like(t[0])))
    y, ys = jet(lambda x: (x + 2.0) * fnp.floor(x), (1.0,), ((-1.0, 0.0),))
    assert float(y) == 3.0 and _floats(ys) == [0.0, 0.0]
    y, ys = jet(lambda x: (x + 2.0) * fl(x), (1.0,), ((-1.0, 0.0),))
    assert float(y) == 3.0 and _floats(ys) == [0.0, 0.0]


def test_custom_functions_of_several_operands():
    # two operands, two results, one operand without coefficients
    h = custom_jvp(lambda x, y: (x * y, fnp.sin(x)))
    h.defjvp(lambda p, t: (h(*p), (p[0] * t[1] + t[0] * p[1], fnp.cos(p[0]) * t[0])))
    (a, b), (sa, sb) = jet(h, (0.5, 2.0), ((1.0, 0.5, 0.0), (0.0, 0.0, 0.0)))
    (ra, rb), (rsa, rsb) = jet(lambda x, y: (x * y, fnp.sin(x)), (0.5, 2.0),
                               ((1.0, 0.5, 0.0), (0.0, 0.0, 0.0)))
    _close(sa, _floats(rsa), 1e-14)
    _close(sb, _floats(rsb), 1e-14)
    (a, b), (sa, sb) = jet(lambda x: h(x, 3.0), (0.5,), ((1.0, 0.5),))
    _close(sa, [3.0, 1.5], 1e-14)


def test_custom_functions_under_transforms():
    want = [-1.5, 1.0 / 3.0]
    _close(jet(ft.jit(nn.hard_silu), (np.float64(3.0),), ((-1.0, 0.0),))[1], want)
    _close(ft.jit(lambda x: jet(nn.hard_silu, (x,), ((-1.0, 0.0),))[1])(np.float64(3.0)), want)
    got = jet(ft.vmap(nn.hard_silu), (np.array([3.0, 3.0]),),
              ((np.array([-1.0, 1.0]), np.zeros(2)),))[1]
    np.testing.assert_allclose(np.array(got), [[-1.5, 1.0], [1.0 / 3.0, 0.0]], atol=1e-15)
    # grad through jet: d/dx0 of the first term, x0 < 3 side: d/dx (2x + 3)/6 = 1/3
    _close([ft.grad(lambda x: jet(nn.hard_silu, (x,), ((1.0,),))[1][0])(2.0)], [1.0 / 3.0])


def test_smooth_custom_functions_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.experimental.jet import jet as jax_jet
    # (JAX 0.10.2's jet of a custom_jvp function raises UnexpectedTracerError: compared with
    # its jet of the primal, which its jet would trace)
    jf = lambda x: jax.numpy.sin(x) * x  # noqa: E731
    f = custom_jvp(lambda x: fnp.sin(x) * x)
    f.defjvp(lambda p, t: (f(p[0]), (fnp.cos(p[0]) * p[0] + fnp.sin(p[0])) * t[0]))
    x0 = np.array([0.3, -1.2])
    s = (np.array([1.0, 0.5]), np.array([-0.2, 2.0]), np.array([0.7, 0.0]))
    y, ys = jet(f, (x0,), (s,))
    jy, jys = jax_jet(jf, (x0,), (s,))
    np.testing.assert_allclose(y, np.asarray(jy), rtol=1e-14)
    for a, b in zip(ys, jys):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-14)
