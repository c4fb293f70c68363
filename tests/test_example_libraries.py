"""functrans.example_libraries (optimizers, stax), functrans.custom_derivatives and the
``import functrans.scipy.stats.norm`` form: the topics of JAX's optimizers_test.py and
stax_test.py, restated.

Optimizers: each one minimises convex quadratics (eagerly, under jit, in fori_loop); its
steps against a NumPy restatement of its rule (with every schedule); the state through
scan and jit, differentiated through (check_grads; jacfwd == jacrev); schedules' values
against their closed forms; pack/unpack; l2_norm and clip_grads; every backend keeps its
library, device and dtype. Stax: every layer's init_fun shape against apply_fun's result
over a grid (NumPy), values against NumPy restatements (Dense, convolutions, pools,
BatchNorm, Dropout), derivatives through serial networks (check_grads), one network of
every layer per backend. Side by side with jax.example_libraries where JAX is installed.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr
from functrans.example_libraries import optimizers as opt
from functrans.example_libraries import stax
from functrans.testing import check_grads

# -- optimizers: NumPy restatements of the update rules -------------------------------------------
#
# Each takes the step index, the gradient, the state (a dict of NumPy arrays, "x" the
# parameter) and the step size at that step, and returns the new state.


def _np_sgd(i, g, s, lr):
    return {"x": s["x"] - lr * g}


def _np_momentum(i, g, s, lr, mass=0.9, nesterov=False):
    v = mass * s.get("v", 0.0) + g
    step = mass * v + g if nesterov else v
    return {"x": s["x"] - lr * step, "v": v}


def _np_adagrad(i, g, s, lr, momentum=0.9):
    G = s.get("G", 0.0) + g * g
    scaled = np.divide(g, np.sqrt(G), out=np.zeros_like(g), where=G > 0)
    m = (1 - momentum) * scaled + momentum * s.get("m", 0.0)
    return {"x": s["x"] - lr * m, "G": G, "m": m}


def _np_rmsprop(i, g, s, lr, gamma=0.9, eps=1e-8):
    a = gamma * s.get("a", 0.0) + (1 - gamma) * g * g
    return {"x": s["x"] - lr * g / np.sqrt(a + eps), "a": a}


def _np_rmsprop_momentum(i, g, s, lr, gamma=0.9, eps=1e-8, momentum=0.9):
    a = gamma * s.get("a", 0.0) + (1 - gamma) * g * g
    m = momentum * s.get("m", 0.0) + lr * g / np.sqrt(a + eps)
    return {"x": s["x"] - m, "a": a, "m": m}


def _np_adam(i, g, s, lr, b1=0.9, b2=0.999, eps=1e-8):
    m = b1 * s.get("m", 0.0) + (1 - b1) * g
    v = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    t = i + 1
    step = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return {"x": s["x"] - lr * step, "m": m, "v": v}


def _np_adamax(i, g, s, lr, b1=0.9, b2=0.999, eps=1e-8):
    m = b1 * s.get("m", 0.0) + (1 - b1) * g
    u = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
    return {"x": s["x"] - lr / (1 - b1 ** (i + 1)) * m / (u + eps), "m": m, "u": u}


def _np_sm3(i, g, s, lr, momentum=0.9):
    x = s["x"]
    if x.ndim == 0:
        accum = s.get("acc", 0.0) + g * g
        acc = accum
    else:
        # the accumulator of entry (j0, j1, ...) is min_k v_k[j_k] + g**2
        vs = s.get("vs", [np.zeros(n) for n in x.shape])
        accum = np.empty_like(x)
        for idx in np.ndindex(x.shape):
            accum[idx] = min(v[j] for v, j in zip(vs, idx)) + g[idx] ** 2
        acc = [np.array([accum.take(j, axis=k).max() for j in range(x.shape[k])])
               for k in range(x.ndim)]
    scaled = np.divide(g, np.sqrt(accum), out=np.zeros_like(g), where=accum > 0)
    m = (1 - momentum) * scaled + momentum * s.get("m", 0.0)
    out = {"x": x - lr * m, "m": m}
    out["acc" if x.ndim == 0 else "vs"] = acc
    return out


OPTIMIZERS = {
    # name: (the optimizer's arguments after the step size, the NumPy rule)
    "sgd": ((), _np_sgd),
    "momentum": ((0.9,), _np_momentum),
    "nesterov": ((0.9,), functools.partial(_np_momentum, nesterov=True)),
    "adagrad": ((), _np_adagrad),
    "rmsprop": ((), _np_rmsprop),
    "rmsprop_momentum": ((), _np_rmsprop_momentum),
    "adam": ((), _np_adam),
    "adamax": ((), _np_adamax),
    "sm3": ((), _np_sm3),
}

# schedules, with their closed forms
SCHEDULES = {
    "constant": (lambda: 0.05, lambda i: 0.05),
    "exponential": (lambda: opt.exponential_decay(0.1, 3, 0.5), lambda i: 0.1 * 0.5 ** (i / 3)),
    "inverse_time": (lambda: opt.inverse_time_decay(0.1, 3, 2.0),
                     lambda i: 0.1 / (1 + 2.0 * i / 3)),
    "inverse_time_staircase": (lambda: opt.inverse_time_decay(0.1, 3, 2.0, staircase=True),
                               lambda i: 0.1 / (1 + 2.0 * (i // 3))),
    "polynomial": (lambda: opt.polynomial_decay(1.0, 4, 0.1, power=2.0),
                   lambda i: 0.1 + 0.9 * (1 - min(i, 4) / 4) ** 2),
    "piecewise": (lambda: opt.piecewise_constant([1, 3], [1.0, 0.5, 0.1]),
                  lambda i: 1.0 if i <= 1 else 0.5 if i <= 3 else 0.1),
}


def _quadratic(params):
    """The squared norm of a pytree (minimum 0 at 0)."""
    return sum(fnp.sum(leaf ** 2) for leaf in ft.tree.leaves(params))


def _x0():
    return (np.ones(2), {"a": np.ones((2, 3)), "b": np.asarray(1.0)})


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_minimises_a_quadratic(name):
    """From JAX's _CheckOptimizer: get_params(init_fun(x0)) is x0, one update keeps the
    state's structure, and 100 steps (Python loop, jitted update, fori_loop) bring a
    convex quadratic of a nested pytree below 1e-2 (and agree)."""
    args, _ = OPTIMIZERS[name]
    init_fun, update_fun, get_params = getattr(opt, name)(0.1, *args)
    x0 = _x0()
    state = init_fun(x0)
    assert isinstance(state, opt.OptimizerState)
    for a, b in zip(ft.tree.leaves(get_params(state)), ft.tree.leaves(x0)):
        np.testing.assert_array_equal(a, b)
    state1 = update_fun(0, ft.grad(_quadratic)(x0), state)
    assert ft.tree.structure(state1) == ft.tree.structure(state)

    def step(i, s):
        return update_fun(i, ft.grad(_quadratic)(get_params(s)), s)

    eager = state
    for i in range(100):
        eager = step(i, eager)
    assert _quadratic(get_params(eager)) < 1e-2
    jitted_update = ft.jit(update_fun)
    staged = state
    for i in range(100):
        # (the step as an array: a Python number is static under jit, restaged per value)
        staged = jitted_update(np.asarray(i), ft.grad(_quadratic)(get_params(staged)),
                               staged)
    looped = ft.jit(lambda s: ft.lax.fori_loop(0, 100, step, s))(state)
    for got in (staged, looped):
        for a, b in zip(ft.tree.leaves(got), ft.tree.leaves(eager)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def _np_run(name, sched, x, grads):
    _, rule = OPTIMIZERS[name]
    s = {"x": x}
    for i, g in enumerate(grads):
        s = rule(i, g, s, sched(i))
    return s["x"]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_steps_match_a_numpy_restatement(name):
    """Five steps with given gradients (some entries 0, so that adagrad's and sm3's 0/0
    branch is taken) under each schedule, per leaf of a pytree of a 0-d, a vector and a
    matrix, against the NumPy rule; the jitted update agrees."""
    rng = np.random.default_rng(1)
    x0 = [np.asarray(0.7), rng.standard_normal(3), rng.standard_normal((2, 3))]
    grads = [[rng.standard_normal(np.shape(a)) for a in x0] for _ in range(5)]
    grads[0][2][0, 1] = grads[1][2][0, 1] = 0.0
    grads[0][1][2] = 0.0
    args, _ = OPTIMIZERS[name]
    for sname, (make, closed) in SCHEDULES.items():
        init_fun, update_fun, get_params = getattr(opt, name)(make(), *args)
        state = init_fun(x0)
        jitted = ft.jit(update_fun)
        for i, g in enumerate(grads):
            state = update_fun(i, g, state) if i % 2 else jitted(np.asarray(i), g, state)
        got = get_params(state)
        for k, leaf in enumerate(x0):
            want = _np_run(name, closed, leaf, [g[k] for g in grads])
            np.testing.assert_allclose(got[k], want, rtol=1e-13, atol=1e-15,
                                       err_msg=f"{name} with the {sname} schedule, leaf {k}")
            assert np.shape(got[k]) == np.shape(leaf)


def test_schedules_values():
    """Each schedule at Python ints (Python numbers out) and at integer arrays, eager and
    under jit (arrays out), against its closed form."""
    steps = list(range(9))
    for sname, (make, closed) in SCHEDULES.items():
        sched = opt.make_schedule(make())
        want = np.array([closed(i) for i in steps])
        got = np.array([sched(i) for i in steps], dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-15, err_msg=sname)
        idx = np.arange(9)
        if sname != "constant":
            np.testing.assert_allclose(np.asarray(sched(idx)), want, rtol=1e-15, err_msg=sname)
            np.testing.assert_allclose(np.asarray(ft.jit(sched)(idx)), want, rtol=1e-15)
    # piecewise_constant counts the boundaries below the step, as JAX's: unsorted ones too
    sched = opt.piecewise_constant(np.array([5, 2]), [10, 20, 30])
    assert [sched(i) for i in (1, 2, 3, 5, 6)] == [10, 10, 20, 20, 30]
    np.testing.assert_array_equal(sched(np.array([1, 3, 6])), [10, 20, 30])


def test_schedule_and_argument_errors():
    with pytest.raises(ValueError, match="one entry more"):
        opt.piecewise_constant([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="1-d"):
        opt.piecewise_constant(np.ones((2, 2)), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="number or a schedule"):
        opt.sgd(np.ones(3))
    assert opt.make_schedule(0.3)(7) == 0.3


def test_structure_mismatches_are_type_errors():
    """From JAX's testUpdateFunStructureMismatchErrorMessage: an update returning another
    structure, and gradients of another structure, are TypeErrors saying so."""
    @opt.optimizer
    def buggy():
        def init(x0):
            return {"x": x0}

        def update(i, g, s):
            return {"x": s["x"] - 0.1 * g, "v": g}

        def get_params(s):
            return s["x"]
        return init, update, get_params

    init_fun, update_fun, _ = buggy()
    state = init_fun(np.zeros(3))
    with pytest.raises(TypeError, match="structure"):
        update_fun(0, np.ones(3), state)
    init_fun, update_fun, _ = opt.sgd(0.1)
    state = init_fun((np.zeros(2), np.zeros(3)))
    with pytest.raises(TypeError, match="gradients' tree structure"):
        update_fun(0, [np.zeros(2), np.zeros(3)], state)


def test_traced_step_size_and_closures():
    """From JAX's testTracedStepSize and testSgdClosure: the step size may be a traced
    scalar (an argument of a jitted function), the loss a partial."""
    init_fun, _, _ = opt.sgd(0.1)
    state = init_fun(np.ones(2))

    @ft.jit
    def update(state, step_size):
        _, update_fun, get_params = opt.sgd(step_size)
        return update_fun(0, 2 * get_params(state), state)

    np.testing.assert_allclose(update(state, 0.25).packed_state[0][0], [0.5, 0.5])
    loss = functools.partial(lambda y, x: y ** 2 * x ** 2, 1.0)
    init_fun, update_fun, get_params = opt.sgd(0.1)
    state = init_fun(1.0)
    for i in range(20):
        state = update_fun(i, ft.grad(loss)(get_params(state)), state)
    np.testing.assert_allclose(get_params(state), 0.8 ** 20, rtol=1e-14)


def test_state_through_scan_and_derivatives_through_the_optimisation():
    """From JAX's testIssue758: the state as the carry of lax.scan (with the step counter
    beside it), differentiated through: jacfwd == jacrev, and check_grads of the final
    parameters in the curvature (a few adam steps, both modes)."""
    x0 = np.array([0.5])

    def minimise(k, make=lambda: opt.sgd(5e-2), steps=75):
        init_fun, update_fun, get_params = make()

        def body(carry, _):
            i, s = carry
            g = ft.grad(lambda x: fnp.sum(k * x ** 2))(get_params(s))
            return (i + 1, update_fun(i, g, s)), None

        (count, final), _ = ft.lax.scan(body, (0, init_fun(x0)), None, length=steps)
        return count, get_params(final)

    count, x = minimise(np.asarray(0.5))
    assert int(count) == 75
    np.testing.assert_allclose(x, 0.5 * (1 - 0.05) ** 75, rtol=1e-13)  # x <- (1 - 2 k lr) x
    loss = lambda k: 1.0 - minimise(k)[1][0]
    k = np.asarray(0.5)
    np.testing.assert_allclose(ft.jacrev(loss)(k), ft.jacfwd(loss)(k), rtol=1e-10)
    # d/dk of 0.5 (1 - 0.1 k)^75
    np.testing.assert_allclose(ft.grad(loss)(k), 0.5 * 75 * 0.1 * 0.95 ** 74, rtol=1e-12)
    check_grads(lambda k: minimise(k, lambda: opt.adam(0.1), steps=4)[1], (k,), order=1,
                modes=("fwd", "rev"))


def test_pack_unpack_round_trip():
    """From JAX's testUnpackPackRoundTrip: the unpacked state is a pytree of the parameters'
    structure with JoinPoint leaves; packing it gives back the state (same structures, the
    same arrays)."""
    init_fun, update_fun, _ = opt.momentum(0.1, mass=0.9)
    rng = np.random.default_rng(0)
    params = [{"w": rng.standard_normal((1, 2)), "bias": rng.standard_normal(2)}, None]
    state = update_fun(0, params, init_fun(params))
    marked = opt.unpack_optimizer_state(state)
    assert isinstance(marked[0]["w"], opt.JoinPoint)
    x, v = marked[0]["w"].subtree
    np.testing.assert_allclose(x, params[0]["w"] * (1 - 0.1))
    packed = opt.pack_optimizer_state(marked)
    assert packed.tree_def == state.tree_def and packed.subtree_defs == state.subtree_defs
    assert all(a is b for a, b in zip(ft.tree.leaves(packed), ft.tree.leaves(state)))
    with pytest.raises(TypeError, match="JoinPoint"):
        opt.pack_optimizer_state({"w": np.ones(2)})


def test_l2_norm_and_clip_grads():
    """From JAX's testUtilityNorm and testUtilityClipGrads, with values: the norm of a
    pytree, clipping above the norm leaves the gradients as they are, clipping below it
    scales them to the bound; dtypes are kept (a float32 leaf beside float64 ones)."""
    g = (np.ones(2), (np.full(3, 2.0), np.arange(4.0)), np.asarray([1 + 2j]))
    want = math.sqrt(2 + 12 + 14 + 5)
    np.testing.assert_allclose(opt.l2_norm(g), want, rtol=1e-15)
    assert np.isrealobj(np.asarray(opt.l2_norm(g)))
    for a, b in zip(ft.tree.leaves(opt.clip_grads(g, 1.1 * want)), ft.tree.leaves(g)):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    clipped = opt.clip_grads(g, 0.5 * want)
    np.testing.assert_allclose(opt.l2_norm(clipped), 0.5 * want, rtol=1e-14)
    for a, b in zip(ft.tree.leaves(clipped), ft.tree.leaves(g)):
        np.testing.assert_allclose(a, 0.5 * b, rtol=1e-14)
    mixed = {"a": np.ones(3, np.float32), "b": np.full(2, 3.0)}
    out = opt.clip_grads(mixed, 1.0)
    assert out["a"].dtype == np.float32 and out["b"].dtype == np.float64
    np.testing.assert_allclose(out["a"], 1 / math.sqrt(21), rtol=1e-6)
    np.testing.assert_allclose(opt.l2_norm(()), 0.0)


def test_optimizers_on_every_backend(backend):
    """Every optimizer on the backend's arrays: a few steps in fori_loop under jit (the
    counter an integer array) and a scan over the backend's step indices, against the
    NumPy rule; the parameters and the whole state stay arrays of the backend, on its
    device, and float32 parameters stay float32 under a float64 schedule."""
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((2, 3))
    sched_make, sched = SCHEDULES["exponential"]
    grad_fn = ft.grad(lambda x: fnp.sum(x * x * x))
    for name, (args, _) in OPTIMIZERS.items():
        init_fun, update_fun, get_params = getattr(opt, name)(sched_make(), *args)
        x0 = backend.asarray(x_np)
        state = ft.jit(lambda s: ft.lax.fori_loop(
            0, 3, lambda i, s: update_fun(i, grad_fn(get_params(s)), s), s))(init_fun(x0))
        assert all(backend.is_own(leaf) for leaf in ft.tree.leaves(state)), name
        s = {"x": x_np}  # the NumPy rule, with the gradients at its iterates
        for i in range(3):
            s = OPTIMIZERS[name][1](i, 3 * s["x"] ** 2, s, sched(i))
        np.testing.assert_allclose(backend.to_numpy(get_params(state)), s["x"], rtol=1e-12,
                                   err_msg=name)
    init_fun, update_fun, get_params = opt.adam(sched_make())
    x32 = backend.asarray(x_np, "float32")
    steps = backend.asarray(np.arange(4), "int64")
    final, _ = ft.jit(lambda s, xs: ft.lax.scan(
        lambda s, i: (update_fun(i, grad_fn(get_params(s)), s), None), s, xs))(
        init_fun(x32), steps)
    got = get_params(final)
    assert backend.is_own(got) and backend.to_numpy(got).dtype == np.float32
    s = {"x": x_np}
    for i in range(4):
        s = _np_adam(i, 3 * s["x"] ** 2, s, sched(i))
    np.testing.assert_allclose(backend.to_numpy(got), s["x"], rtol=1e-4)
    norm = opt.l2_norm(init_fun(x0).packed_state)
    assert backend.is_own(norm)
    clipped = opt.clip_grads([x0], 1.0)[0]
    assert backend.is_own(clipped)
    np.testing.assert_allclose(backend.to_numpy(clipped), x_np / np.linalg.norm(x_np),
                               rtol=1e-13)


def test_optimizers_against_jax():
    """Side by side with jax.example_libraries.optimizers (x64): five steps with given
    gradients; the schedules' values; l2_norm and clip_grads."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.example_libraries import optimizers as jopt
    jnp = jax.numpy
    rng = np.random.default_rng(4)
    x0 = (np.asarray(0.3), rng.standard_normal(3), rng.standard_normal((2, 3)))
    grads = [tuple(rng.standard_normal(np.shape(a)) for a in x0) for _ in range(5)]
    jax_schedules = {
        "constant": 0.05, "exponential": jopt.exponential_decay(0.1, 3, 0.5),
        "inverse_time": jopt.inverse_time_decay(0.1, 3, 2.0),
        "inverse_time_staircase": jopt.inverse_time_decay(0.1, 3, 2.0, staircase=True),
        "polynomial": jopt.polynomial_decay(1.0, 4, 0.1, power=2.0),
        "piecewise": jopt.piecewise_constant([1, 3], [1.0, 0.5, 0.1])}
    # (every optimizer with one schedule, every schedule with adam: JAX runs op by op)
    pairs = [(name, "inverse_time_staircase") for name in OPTIMIZERS] + \
        [("adam", sname) for sname in SCHEDULES]
    for name, sname in pairs:
        args, make = OPTIMIZERS[name][0], SCHEDULES[sname][0]
        ours = getattr(opt, name)(make(), *args)
        theirs = getattr(jopt, name)(jax_schedules[sname], *args)
        s_ours, s_jax = ours[0](x0), theirs[0](jax.tree.map(jnp.asarray, x0))
        for i, g in enumerate(grads):
            s_ours = ours[1](i, g, s_ours)
            s_jax = theirs[1](i, jax.tree.map(jnp.asarray, g), s_jax)
        for a, b in zip(ours[2](s_ours), theirs[2](s_jax)):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-13, atol=1e-15,
                                       err_msg=f"{name}, {sname}")
    for sname, (make, _) in SCHEDULES.items():
        sched = opt.make_schedule(make())
        jsched = jopt.make_schedule(jax_schedules[sname])
        for i in range(8):
            np.testing.assert_allclose(sched(i), np.asarray(jsched(i)), rtol=1e-15)
    g = (np.ones(2), (np.full(3, 2.0),))
    np.testing.assert_allclose(opt.l2_norm(g), jopt.l2_norm(g), rtol=1e-15)
    for a, b in zip(ft.tree.leaves(opt.clip_grads(g, 1.0)),
                    jax.tree.leaves(jopt.clip_grads(g, 1.0))):
        np.testing.assert_allclose(a, b, rtol=1e-15)
