"""Session 41 (jet41): jet's comparisons one-sided, and ``where``/``select`` after them.

A comparison of curves under jet (``x(t) > y(t)``, ``>=``, ``<``, ``<=``, ``==``, ``!=``) is
decided at t = 0 (the value, jet's first result f(x0)) and for small t > 0 (where x0 == y0:
by the first coefficients of x(t) - y(t) that differ); ``where`` takes its value from the
first and its coefficients from the branch that holds after. Was: decided at t = 0 only, as
JAX's jet, so at a bound the coefficients of the wrong branch, silently:

    jet(lambda x: where(x > 0, x, 0.), (0.,), ((1., 1.),))   [0, 0]   -> [1, 1]
    jet(lambda x: clip(x, 0., 1.), (0.,), ((-1., 1.),))       [-1, 1]  -> [0, 0]
    jet(nn.leaky_relu, (0.,), ((-1., 1.),))                   [-1, 1]  -> [-0.01, 0.01]
    jet(nn.relu6, (0.,), ((1., 1.),))                         [0, 0]   -> [1, 1]
    jet(lambda x: nn.hard_tanh(x + 1.), (0.,), ((1., 1.),))   [1, 1]   -> [0, 0]

The piecewise constant sign, floor, ceil, trunc and round likewise take, for the
coefficients of what follows, their value for t > 0 (``x * sign(x)`` at 0 along (1, 1) was
[0, 0], now [1, 1], |x|'s).

References: f(x(t)) in mpmath at 80 digits at t = h, 2h, ... and the fitted polynomial
(tests/test_s40_jet40.py's helper). Unchanged and pinned: a jump's first result is f(x0);
curves the same to the order followed, a NaN first, and values read on the host (Python
``if``, boolean-mask indexing, ``piecewise``) keep the decision at t = 0.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax, nn
from functrans.experimental.jet import jet
from tests.test_s40_jet40 import _right_derivatives

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _mp():
    return pytest.importorskip("mpmath")


def _close(got, want, tol=1e-10):
    got = [float(t) for t in got]
    assert np.allclose(got, want, rtol=tol, atol=tol), (got, want)


def _floats(ys):
    return [float(t) for t in ys]


# -- the brief's five, and the jump ------------------------------------------------------------

_BRIEF = [
    (lambda x: fnp.where(x > 0, x, 0.0), (1.0, 1.0), [1.0, 1.0]),
    (lambda x: fnp.clip(x, 0.0, 1.0), (-1.0, 1.0), [0.0, 0.0]),
    (nn.leaky_relu, (-1.0, 1.0), [-0.01, 0.01]),
    (nn.relu6, (1.0, 1.0), [1.0, 1.0]),
    (lambda x: nn.hard_tanh(x + 1.0), (1.0, 1.0), [0.0, 0.0]),
]


@pytest.mark.parametrize("case", range(len(_BRIEF)))
def test_the_silent_cases(case):
    f, terms, want = _BRIEF[case]
    y, ys = jet(f, (0.0,), (terms,))
    assert float(y) == float(f(0.0))
    assert _floats(ys) == want


def test_a_jump_keeps_its_value_at_zero_and_the_terms_after():
    y, ys = jet(lambda x: fnp.where(x > 0, 1.0, 0.0), (0.0,), ((1.0,),))
    assert float(y) == 0.0 and _floats(ys) == [0.0]
    # the branch after is not constant: its terms, from its own value 1 + 2x, not from 0
    y, ys = jet(lambda x: fnp.where(x > 0, 2.0 * x + 1.0, x * x), (0.0,), ((1.0, 1.0, 0.0),))
    assert float(y) == 0.0 and _floats(ys) == [2.0, 2.0, 0.0]
    # a product with the jump: the factor after it (1), not at t = 0 (0)
    y, ys = jet(lambda x: (x + 3.0) * fnp.astype(x > 0, x.dtype), (0.0,), ((1.0, 1.0),))
    assert float(y) == 0.0 and _floats(ys) == [1.0, 1.0]
    # the other way: >= holds at t = 0, not after
    y, ys = jet(lambda x: fnp.where(x >= 0, x + 5.0, x * x), (0.0,), ((-1.0, 0.0),))
    assert float(y) == 5.0 and _floats(ys) == [0.0, 2.0]


# -- against f(x(t)) at t > 0 (mpmath) ---------------------------------------------------------

_PATTERNS = [(1.0, 1.0, 1.0), (-1.0, 1.0, 1.0), (0.0, -2.0, 1.0), (0.0, 0.0, 3.0),
             (0.0, 0.0, -3.0), (0.0, 0.0, 0.0), (-0.5, 4.0, -2.0)]


def _cases():
    mp = _mp()
    e = mp.expm1
    return {
        "gt": (lambda x: fnp.where(x > 0, x * x + x, 0.5 * x), lambda v: v * v + v if v > 0
               else 0.5 * v, [0.0]),
        "ge": (lambda x: fnp.where(x >= 0, 2 * x, -x * x), lambda v: 2 * v if v >= 0
               else -v * v, [0.0]),
        "lt": (lambda x: fnp.where(x < 1, x ** 3, x), lambda v: v ** 3 if v < 1 else v, [1.0]),
        "le": (lambda x: fnp.where(x <= 1, x ** 3, x), lambda v: v ** 3 if v <= 1 else v,
               [1.0]),
        "eq": (lambda x: fnp.where(x == 0, 5 * x, x * x), lambda v: 5 * v if v == 0 else v * v,
               [0.0]),
        "ne": (lambda x: fnp.where(x != 0, x * x, 5 * x), lambda v: v * v if v != 0 else 5 * v,
               [0.0]),
        "clip": (lambda x: fnp.clip(x, 0.0, 1.0), lambda v: min(max(v, 0), 1), [0.0, 1.0]),
        "lax_clamp": (lambda x: lax.clamp(0.0, x, 1.0), lambda v: min(max(v, 0), 1), [0.0, 1.0]),
        "leaky_relu": (nn.leaky_relu, lambda v: v if v >= 0 else 0.01 * v, [0.0]),
        "relu6": (nn.relu6, lambda v: min(max(v, 0), 6), [0.0, 6.0]),
        "hard_tanh": (nn.hard_tanh, lambda v: min(max(v, -1), 1), [-1.0, 1.0]),
        "hard_sigmoid": (nn.hard_sigmoid, lambda v: min(max(v + 3, 0), 6) / 6, [-3.0, 3.0]),
        "elu": (nn.elu, lambda v: v if v > 0 else e(v), [0.0]),
        "celu": (lambda x: nn.celu(x, 2.0), lambda v: v if v > 0 else 2 * e(v / 2), [0.0]),
        "selu": (nn.selu, lambda v: _SELU_SCALE * (v if v > 0 else _SELU_ALPHA * e(v)), [0.0]),
        "sparse_plus": (nn.sparse_plus, lambda v: 0 if v <= -1 else (v if v >= 1
                                                                     else (v + 1) ** 2 / 4),
                        [-1.0, 1.0]),
        "soft_threshold": (lambda x: fnp.where(fnp.abs(x) > 1, x - fnp.sign(x), 0.0),
                           lambda v: v - mp.sign(v) if abs(v) > 1 else 0, [-1.0, 1.0]),
        "mask_product": (lambda x: x * (x > 0), lambda v: v if v > 0 else 0, [0.0]),
        "logical_and": (lambda x: fnp.where(fnp.logical_and(x > 0, x < 1), x * x, 0.0),
                        lambda v: v * v if 0 < v < 1 else 0, [0.0, 1.0]),
        "select": (lambda x: fnp.select([x < 0, x < 1], [x * x, 2 * x], 3.0),
                   lambda v: v * v if v < 0 else (2 * v if v < 1 else 3), [0.0, 1.0]),
        "heaviside": (lambda x: x * fnp.heaviside(x, 0.5), lambda v: v if v > 0 else 0, [0.0]),
        "logaddexp": (lambda x: fnp.logaddexp(fnp.where(x > 0, x, 0.0), 0.0),
                      lambda v: mp.log(1 + mp.exp(v if v > 0 else 0)), [0.0]),
    }


_NAMES = ["gt", "ge", "lt", "le", "eq", "ne", "clip", "lax_clamp", "leaky_relu", "relu6",
          "hard_tanh", "hard_sigmoid", "elu", "celu", "selu", "sparse_plus", "soft_threshold",
          "mask_product", "logical_and", "select", "heaviside", "logaddexp"]


@pytest.mark.parametrize("name", _NAMES)
def test_one_sided_against_mpmath(name):
    f, mf, points = _cases()[name]
    for x0 in points:
        for terms in _PATTERNS:
            y, ys = jet(f, (x0,), (terms,))
            want = _right_derivatives(mf, [x0], [terms], 3, degree=6)
            assert float(y) == float(f(x0)), (x0, terms)
            _close(ys, want, 1e-9)


def test_two_curves_tied():
    # x(t) and y(t) from one value: the first terms that differ decide; the same curves keep
    # the decision at t = 0
    f = lambda x, y: fnp.where(x > y, x * y, x - y)  # noqa: E731
    for sx, sy in [((1.0, 0.0), (0.0, 5.0)), ((1.0, 2.0), (1.0, 3.0)), ((0.0, -1.0), (0.0, -2.0))]:
        want = _right_derivatives(lambda a, b: a * b if a > b else a - b, [2.0, 2.0],
                                  [sx, sy], 2, degree=4)
        _close(jet(f, (2.0, 2.0), (sx, sy))[1], want)
    y, ys = jet(f, (2.0, 2.0), ((1.0, 2.0), (1.0, 2.0)))
    assert float(y) == 0.0 and _floats(ys) == [0.0, 0.0]  # x - y: the same curves
    y, ys = jet(lambda x: fnp.where(x >= x, x, -x), (0.0,), ((1.0, 1.0),))
    assert _floats(ys) == [1.0, 1.0]


def test_ties_beyond_the_order_and_nan_keep_the_decision_at_zero():
    f = lambda x: fnp.where(x > 0, x + 1.0, x - 1.0)  # noqa: E731
    # x(t) = t^3 / 6 followed to order 2: every term seen is 0, so t = 0 decides (x - 1)
    assert _floats(jet(f, (0.0,), ((0.0, 0.0),))[1]) == [0.0, 0.0]
    g = lambda x, z: fnp.where(x > 0, z, -2.0 * z)  # noqa: E731
    assert _floats(jet(g, (0.0, 1.0), ((0.0, 0.0), (1.0, 1.0)))[1]) == [-2.0, -2.0]
    # a nan first: t = 0 decides; a nan after the decision: carried
    assert _floats(jet(g, (0.0, 1.0), ((np.nan, 1.0), (1.0, 1.0)))[1]) == [-2.0, -2.0]
    ys = _floats(jet(f, (0.0,), ((1.0, np.nan),))[1])
    assert ys[0] == 1.0 and np.isnan(ys[1])
    y, ys = jet(f, (np.nan,), ((1.0, 1.0),))
    assert np.isnan(float(y)) and _floats(ys) == [1.0, 1.0]  # (x - 1's terms: nan > 0 False)


def test_complex_equality():
    # z(t) = i t leaves 0 at once: == is False after, != True
    f = lambda z: fnp.where(z == 0, 2.0 * z, z * z)  # noqa: E731
    y, ys = jet(f, (0j,), ((1j, 0j),), factorial_scaled=False)
    assert complex(y) == 0 and [complex(t) for t in ys] == [0, -1]
    g = lambda z: fnp.where(z != 0, z * z, 2.0 * z)  # noqa: E731
    assert [complex(t) for t in jet(g, (0j,), ((1j, 0j),), factorial_scaled=False)[1]] == [0, -1]
    # the same curve: equal throughout
    h = lambda z: fnp.where(z == z, 2.0 * z, z * z)  # noqa: E731
    assert [complex(t) for t in jet(h, (0j,), ((1j, 0j),), factorial_scaled=False)[1]] == \
        [2j, 0]


def _round_half_even(mp, v):
    f = mp.floor(v)
    return f + 1 if v - f > 0.5 or (v - f == 0.5 and int(f) % 2) else f


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_step_functions_take_their_value_after_a_step(name):
    # piecewise constant: terms 0 themselves, but a product with one takes the step's value
    # for t > 0 (x * sign(x) is |x|: was [0, 0] at 0 along (1, 1), now [1, 1])
    mp = _mp()
    fn, ref, points = {
        "sign": (fnp.sign, mp.sign, [0.0, 1.5]),
        "floor": (fnp.floor, mp.floor, [0.0, 1.0, -2.0, 0.5]),
        "ceil": (fnp.ceil, mp.ceil, [0.0, 1.0, -2.0, 0.5]),
        "trunc": (fnp.trunc, lambda v: mp.floor(v) if v >= 0 else mp.ceil(v),
                  [0.0, 1.0, -2.0, 0.5]),
        "round": (fnp.round, lambda v: _round_half_even(mp, v), [0.5, 1.5, -2.5, 1.0, 0.3]),
    }[name]
    for x0 in points:
        for terms in _PATTERNS:
            y, ys = jet(lambda x: (x + 2.0) * fn(x), (x0,), (terms,))
            want = _right_derivatives(lambda v: (v + 2) * ref(v), [x0], [terms], 3)
            assert float(y) == (x0 + 2.0) * float(fn(x0)), (x0, terms)
            _close(ys, want)
    # alone: the value at t = 0 and zero terms (a jump, as where's)
    y, ys = jet(fn, (1.5 if name == "round" else 0.0,), ((-1.0, 1.0),))
    assert float(y) == float(fn(1.5 if name == "round" else 0.0)) and _floats(ys) == [0, 0]


# -- what stays at t = 0 -----------------------------------------------------------------------


def test_host_reads_decide_at_zero():
    # Python control flow sees the value at t = 0 (the comparison's primal)
    def f(x):
        return x if x > 0 else -0.5 * x
    assert _floats(jet(f, (0.0,), ((1.0,),))[1]) == [-0.5]
    # boolean-mask indexing and piecewise select entries on the host: the value at t = 0,
    # the coefficients with the mask for t > 0 (jet42: a second run; was [1.0], the mask at
    # t = 0: x = 0 moving up is in x[x > 0] for t > 0, true 2)
    y, ys = jet(lambda x: fnp.sum(x[x > 0]), (np.array([0.0, 1.0, -1.0]),),
                ((np.ones(3),),))
    assert float(y) == 1.0 and _floats(ys) == [2.0]
    pw = lambda x: fnp.piecewise(x, [x < 0, x >= 0], [lambda z: -z, lambda z: z * z])  # noqa
    y, ys = jet(pw, (0.0,), ((1.0, 1.0),))
    assert float(y) == 0.0 and _floats(ys) == [0.0, 2.0]
    # a comparison returned: its value at t = 0, zero terms of its dtype
    (b, v), (bs, vs) = jet(lambda x: (x > 0, 2.0 * x), (0.0,), ((1.0,),))
    assert not bool(b) and not bool(bs[0]) and _floats(vs) == [2.0]


def test_a_guarded_singularity_is_nan_not_zeros():
    # where(x == 0, 1, sin(x) / x) at 0: x(t) != 0 for t > 0, so the quotient's terms, which
    # are 0/0 at x0 = 0 (were the constant's zeros, as JAX's: silently wrong, true -1/3 second
    # derivative); sinc's own series stays exact
    def f(x):
        safe = fnp.where(x == 0, 1.0, x)
        return fnp.where(x == 0, 1.0, fnp.sin(safe) / safe)
    with np.errstate(invalid="ignore", divide="ignore"):
        y, ys = jet(f, (0.0,), ((1.0, 0.0, 0.0),))
    assert float(y) == 1.0 and all(np.isnan(_floats(ys)))
    _close(jet(fnp.sinc, (0.0,), ((1.0, 0.0, 0.0),))[1], [0.0, -np.pi ** 2 / 3, 0.0])


def test_counts_and_integer_results_follow_the_branch_after():
    x0 = np.zeros(3)
    y, ys = jet(lambda x: fnp.sum(x > 0) * x, (x0,), ((np.array([1.0, -1.0, 0.0]),),))
    np.testing.assert_array_equal(y, 0.0)
    np.testing.assert_array_equal(ys[0], [1.0, -1.0, 0.0])


def test_item_assignment_of_a_one_sided_value():
    def f(x):
        y = fnp.zeros(3)
        y[0] = fnp.where(x > 0, x, 0.0)  # into a constant
        z = fnp.stack([x, x])
        z[1] = fnp.where(x > 0, 3.0 * x, 0.0)  # into a jet value
        return y, z
    (y, z), (ys, zs) = jet(f, (0.0,), ((1.0, 1.0),))
    np.testing.assert_array_equal(ys[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(zs[1], [1.0, 3.0])


# -- transforms, backends, dtypes --------------------------------------------------------------


def _leaky_terms(x0, a, b):
    return jet(nn.leaky_relu, (x0,), ((a, b),))


def test_jit_vmap_and_jet_nest():
    x0, a = np.zeros(3), np.array([1.0, -1.0, 0.0])
    want = [[1.0, -0.01, 0.0], [1.0, -0.01, 0.0]]
    for got in (ft.jit(_leaky_terms)(x0, a, a)[1], ft.vmap(_leaky_terms)(x0, a, a)[1],
                jet(ft.jit(nn.leaky_relu), (x0,), ((a, a),))[1],
                jet(ft.vmap(nn.leaky_relu), (x0,), ((a, a),))[1]):
        np.testing.assert_allclose(np.array(got), want, rtol=0, atol=1e-15)
    # jet of jet: the inner first term along -1 is -0.01 at 0 and -1 for x > 0
    y, ys = jet(lambda x: jet(nn.leaky_relu, (x,), ((-1.0,),))[1][0], (0.0,), ((1.0,),))
    assert float(y) == -0.01 and _floats(ys) == [0.0]


def test_grad_through_and_of_jet():
    f = lambda x: fnp.where(x > 0, x * x + x, fnp.sin(x))  # noqa: E731
    # d/dx0 of the second derivative along (1, 1), right of 0: f'' + f' = 2 + 2 x + 1
    assert float(ft.grad(lambda x: jet(f, (x,), ((1.0, 1.0),))[1][1])(0.0)) == 2.0
    assert float(ft.grad(lambda a: jet(f, (0.0,), ((a, 1.0),))[1][1])(1.0)) == 4.0
    # jet of grad: g = 3 x^2 right of 0, -2 x left of it
    g = ft.grad(lambda x: fnp.where(x > 0, x ** 3, -x * x))
    assert _floats(jet(g, (0.0,), ((1.0, 0.0, 0.0),))[1]) == [0.0, 6.0, 0.0]
    assert _floats(jet(g, (0.0,), ((-1.0, 0.0, 0.0),))[1]) == [2.0, 0.0, 0.0]
    # jet of a forward mode (a multiple-result primitive, tanh_slope, after the step)
    h = lambda x: ft.jvp(fnp.tanh, (fnp.where(x > 0, x, 0.0),), (x,))[1]  # noqa: E731
    # (right of 0: (1 - tanh(t)^2) t = t - t^3 + ...; left: the tangent x itself)
    _close(jet(h, (0.0,), ((1.0, 0.0, 0.0),))[1], [1.0, 0.0, -6.0])
    _close(jet(h, (0.0,), ((-1.0, 0.0, 0.0),))[1], [-1.0, 0.0, 0.0])


def test_arrays_on_every_backend(backend):
    x0 = backend.asarray([0.0, 0.0, 1.0, 6.0, 0.0])
    s1 = backend.asarray([1.0, -1.0, 1.0, 1.0, 0.0])
    s2 = backend.asarray([1.0, 1.0, 1.0, 1.0, 2.0])
    y, (t1, t2) = jet(nn.relu6, (x0,), ((s1, s2),))
    assert backend.is_own(y) and backend.is_own(t1) and backend.is_own(t2)
    np.testing.assert_array_equal(backend.to_numpy(t1), [1.0, 0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [1.0, 0.0, 1.0, 0.0, 2.0])
    y, (t1, t2) = jet(lambda x: fnp.where(x >= 0, x, 0.01 * x), (x0,), ((s1, s2),))
    np.testing.assert_allclose(backend.to_numpy(t1), [1.0, -0.01, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(backend.to_numpy(t2), [1.0, 0.01, 1.0, 1.0, 2.0])


def test_float32_terms_stay_float32():
    x0 = np.zeros(2, np.float32)
    s = np.array([1.0, -1.0], np.float32)
    y, ys = jet(nn.leaky_relu, (x0,), ((s, s),))
    assert y.dtype == np.float32 and all(t.dtype == np.float32 for t in ys)
    np.testing.assert_allclose(ys[0], [1.0, -0.01], rtol=1e-6)


def test_away_from_ties_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.experimental.jet import jet as jax_jet
    x0 = np.array([-0.7, 0.4, 1.3])
    s = (np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.0, -1.0]))
    pairs = [(lambda x: fnp.where(x > 0, x ** 3, fnp.sin(x)),
              lambda x: jnp.where(x > 0, x ** 3, jnp.sin(x))),
             # (JAX's jnp.clip with Python bounds fails under its jet: "select cases must
             # have the same shapes")
             (lambda x: fnp.clip(x, -0.5, 1.0),
              lambda x: jnp.where(x < -0.5, -0.5, jnp.where(x > 1.0, 1.0, x))),
             (nn.elu, jax.nn.elu)]
    for ours, theirs in pairs:
        y, ys = jet(ours, (x0,), (s,))
        jy, jys = jax_jet(theirs, (x0,), (s,))
        np.testing.assert_allclose(y, jy, rtol=1e-13)
        np.testing.assert_allclose(np.array(ys), np.array(jys), rtol=1e-12, atol=1e-14)
