"""Session 55, helper perf55: the interpreters' work per operation in nested derivatives (W7).

Fixed: the rules nested derivatives run most (the product rule's ``mul`` and ``mul_add``,
``tanh_slope``) bound each operation through ``Primitive.bind`` (a Python frame per
operation at every level of nesting), and sent their primal operations through reverse
mode's tangent recorder, which only passed them on to its parent (a frame and an ownership
test per operation per level); the backward pass summed a pending sum of several products
through ``_Sum.value``'s frame; ``get_aval`` of a nested JVP tracer took three frames. The
rules now bind through the current interpreter's ``process`` looked up once, their primal
operations go past a tangent recorder straight to its parent, the backward pass binds such a
sum itself, and ``get_aval`` walks a JVP tracer's primals inline: W7 at k = 6 (the sixth
derivative of tanh by nested ``grad``) runs 358 -> 258 Python calls and 32,933 -> 31,934
bytecodes per call (cachegrind: 1.798 M -> 1.723 M instructions; k = 1 unchanged), with every
result the same to the bit (W1-W7, eager and under jit, and 26 nested transforms compared with
the base tree's).

Left (docs/benchmarks.md, session 55): each ``grad`` level's fixed cost (its entry and exit,
about 750-830 bytecodes, and a backward pass's set-up, about 250: a fifth of k = 6), which
the growth per order cannot reward (cutting it lowers k = 1 proportionally more than k = 6);
NumPy's ``multiply`` ufunc on NumPy float64 scalars (2.0-2.3 us against 0.2 us for the
operator here; ten of W7 k = 6's products), a matter for the NumPy backend.
"""

from __future__ import annotations

import sys

import mpmath
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.interpreters import StagingTracer, TangentRecorder


def _nested_grad(f, k):
    for _ in range(k):
        f = ft.grad(f)
    return f


# W7's values (grad^k of tanh at 0.5, float64), as the base tree computed them
_W7 = {1: 0.7864477329659274, 2: -0.7268619813835873, 3: -0.5652092882597705,
       4: 3.9522195637245825, 5: -3.2666864719713935, 6: -36.279540291791626}


@pytest.mark.parametrize("k", range(1, 7))
def test_w7_values_are_the_same_bits_and_match_mpmath(k):
    got = _nested_grad(fnp.tanh, k)(np.asarray(0.5))
    assert type(got) is np.ndarray and got.dtype == np.float64 and got.shape == ()
    assert float(got) == _W7[k]  # (bit for bit: the rules' operations and order unchanged)
    with mpmath.workdps(40):
        ref = float(mpmath.diff(mpmath.tanh, mpmath.mpf("0.5"), k))
    assert abs(float(got) - ref) <= 1e-13 * max(1.0, abs(ref))


def _python_calls(fn, *args):
    n = [0]

    def prof(frame, event, arg):
        if event == "call":
            n[0] += 1
    sys.setprofile(prof)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return n[0]


def test_w7_sixth_derivative_runs_fewer_python_calls():
    f = _nested_grad(fnp.tanh, 6)
    x = np.asarray(0.5)
    for _ in range(3):  # (first calls fill caches of their own)
        f(x)
    # base: 358 calls (a bind frame per rule operation, a recorder's pass-on per primal one)
    assert _python_calls(f, x) <= 280


def test_product_rules_primal_operations_skip_the_tangent_recorder(monkeypatch):
    passed_on = []
    process = TangentRecorder.process

    def counting(self, prim, args, params):
        if not any(type(a) is StagingTracer and a._interp is self for a in args):
            caller = sys._getframe(1)
            while caller.f_code.co_name == "bind":  # (the rule that bound it)
                caller = caller.f_back
            passed_on.append(caller.f_code.co_name)
        return process(self, prim, args, params)
    monkeypatch.setattr(TangentRecorder, "process", counting)

    def f(x):
        y = x * fnp.tanh(x)
        return y * y + x * x  # (x * x: mul's rule on a square)
    got = _nested_grad(f, 4)(np.asarray(0.3))
    # (base: every primal operation of these rules, at each of the four levels)
    assert not {"_mul_jvp", "_mul_add_jvp", "_tanh_slope_jvp"} & set(passed_on), passed_on
    with mpmath.workdps(40):
        ref = float(mpmath.diff(lambda t: (t * mpmath.tanh(t)) ** 2 + t * t,
                                mpmath.mpf("0.3"), 4))
    assert abs(float(got) - ref) <= 1e-12 * max(1.0, abs(ref))


def _mp_partial(f, x, y, nx, ny):
    with mpmath.workdps(40):
        return float(mpmath.diff(f, (mpmath.mpf(x), mpmath.mpf(y)), (nx, ny)))


@pytest.mark.parametrize("x, y", [(0.3, -0.7), (-1.2, 0.4)])
def test_nested_products_in_every_mode_against_mpmath(x, y):
    # products of two traced factors (mul_add's tangents), a lone term, a square, tanh's
    # slopes, differentiated to third order in reverse, forward and mixed modes
    def f(a, b):
        return fnp.tanh(a * b) * a + a * a * b + b * fnp.tanh(a) * fnp.tanh(a)

    def f_mp(a, b):
        return mpmath.tanh(a * b) * a + a * a * b + b * mpmath.tanh(a) ** 2

    xa, ya = np.asarray(x), np.asarray(y)
    d_xxy = _mp_partial(f_mp, x, y, 2, 1)
    d_xyy = _mp_partial(f_mp, x, y, 1, 2)
    rev = ft.grad(ft.grad(ft.grad(f, 0), 0), 1)(xa, ya)
    fwd = ft.jacfwd(ft.jacfwd(ft.jacfwd(f, 0), 0), 1)(xa, ya)
    mixed = ft.jacfwd(ft.grad(ft.grad(f, 1), 0), 0)(xa, ya)
    for got in (rev, fwd, mixed):
        assert abs(float(got) - d_xxy) <= 1e-12 * max(1.0, abs(d_xxy))
    h = ft.hessian(ft.grad(f, 1), argnums=(0, 1))(xa, ya)  # d/dy then the Hessian
    assert abs(float(h[0][1]) - d_xyy) <= 1e-12 * max(1.0, abs(d_xyy))
    assert abs(float(h[0][0]) - d_xxy) <= 1e-12 * max(1.0, abs(d_xxy))


def test_nested_products_under_vmap_and_jit_match_the_eager_values():
    def g(x):
        return fnp.tanh(x) * x * x
    g3 = _nested_grad(g, 3)
    xs = np.linspace(-1.0, 1.0, 5)
    eager = np.array([float(g3(np.asarray(v))) for v in xs])
    assert np.array_equal(np.asarray(ft.vmap(g3)(xs)), eager)
    assert np.array_equal(np.array([float(ft.jit(g3)(np.asarray(v))) for v in xs]), eager)
    with mpmath.workdps(40):
        ref = [float(mpmath.diff(lambda t: mpmath.tanh(t) * t * t, mpmath.mpf(v), 3))
               for v in xs]
    np.testing.assert_allclose(eager, ref, rtol=1e-12, atol=1e-13)
