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
    import pickle
    packed = opt.pack_optimizer_state(pickle.loads(pickle.dumps(marked)))  # (serialised)
    assert packed.tree_def == state.tree_def and packed.subtree_defs == state.subtree_defs
    for a, b in zip(ft.tree.leaves(packed), ft.tree.leaves(state)):
        np.testing.assert_array_equal(a, b)
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
        # a plain state (closed over) meeting traced gradients
        state0 = init_fun(x0)
        grads = backend.asarray(np.stack([x_np, -x_np]))
        mapped = ft.vmap(lambda g: get_params(update_fun(1, g, state0)))(grads)
        assert backend.is_own(mapped), name
        want = OPTIMIZERS[name][1](1, -x_np, {"x": x_np}, sched(1))["x"]
        np.testing.assert_allclose(backend.to_numpy(mapped)[1], want, rtol=1e-12,
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
    grads = [tuple(rng.standard_normal(np.shape(a)) for a in x0) for _ in range(3)]
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


# -- stax ----------------------------------------------------------------------------------------


def _inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(shape, list):
        return [rng.standard_normal(s) for s in shape]
    return rng.standard_normal(shape)


def _check_shape_agreement(layer, input_shape, key=None):
    """init_fun's output shape is the shape of apply_fun's output (JAX's
    _CheckShapeAgreement); returns the params, the inputs and the output."""
    init_fun, apply_fun = layer
    init_key, apply_key = fr.split(fr.PRNGKey(0) if key is None else key)
    out_shape, params = init_fun(init_key, input_shape)
    x = _inputs(input_shape)
    y = apply_fun(params, x, rng=apply_key)
    got = [tuple(a.shape) for a in y] if isinstance(y, list) else tuple(y.shape)
    assert got == (list(out_shape) if isinstance(out_shape, list) else tuple(out_shape)), \
        (input_shape, out_shape, got)
    return params, x, y


def _same_pads(sizes, window, strides):
    """SAME padding per spatial axis: the output has ceil(n / s) entries, the padding is
    split with the smaller half before."""
    pads = []
    for n, k, s in zip(sizes, window, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _np_conv(x, w, strides, padding):
    """A 2-d cross-correlation, NHWC input, HWIO kernel."""
    kh, kw = w.shape[:2]
    pads = _same_pads(x.shape[1:3], (kh, kw), strides) if padding == "SAME" else [(0, 0)] * 2
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    oh = (xp.shape[1] - kh) // strides[0] + 1
    ow = (xp.shape[2] - kw) // strides[1] + 1
    out = np.empty((x.shape[0], oh, ow, w.shape[3]))
    for i, j in itertools.product(range(oh), range(ow)):
        patch = xp[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
        out[:, i, j] = np.einsum("nhwc,hwco->no", patch, w)
    return out


def _np_pool(x, kind, window, strides, padding, spec):
    """Max, sum or average pooling over the spatial axes of ``x`` (layout ``spec``)."""
    spec = spec or "N" + "HW"[:x.ndim - 2] + "C"
    perm = [spec.index("N")] + [i for i, c in enumerate(spec) if c not in "NC"] + \
        [spec.index("C")]
    xt = np.transpose(x, perm)  # N, spatial axes in their order, C
    pads = _same_pads(xt.shape[1:-1], window, strides) if padding == "SAME" else \
        [(0, 0)] * len(window)
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(xt, [(0, 0), *pads, (0, 0)], constant_values=fill)
    real = np.pad(np.ones(xt.shape[1:-1]), pads)  # 1 where an entry is not padding
    outs = [(xp.shape[1 + d] - window[d]) // strides[d] + 1 for d in range(len(window))]
    out = np.empty((xt.shape[0], *outs, xt.shape[-1]))
    for idx in itertools.product(*map(range, outs)):
        sl = tuple(slice(i * s, i * s + k) for i, s, k in zip(idx, strides, window))
        patch = xp[(slice(None),) + sl]
        axes = tuple(range(1, 1 + len(window)))
        if kind == "max":
            out[(slice(None),) + idx] = patch.max(axis=axes)
        else:
            out[(slice(None),) + idx] = patch.sum(axis=axes)
            if kind == "avg":
                out[(slice(None),) + idx] /= real[sl].sum()
    return np.transpose(out, np.argsort(perm))


def test_stax_shapes_and_values_over_a_grid():
    """From JAX's stax_test (shapes over a grid), with values: Conv against a direct
    cross-correlation, the pools against windows taken in NumPy (every layout), Dense,
    the elementwise layers, Flatten, serial, Dropout, the fan layers."""
    for channels, filt, padding, strides in itertools.product(
            (2, 3), ((1, 1), (2, 3)), ("SAME", "VALID"), (None, (2, 1))):
        params, x, y = _check_shape_agreement(
            stax.Conv(channels, filt, strides=strides, padding=padding), (2, 6, 5, 2))
        W, b = params
        assert W.shape == filt + (2, channels) and b.shape == (1, 1, 1, channels)
        np.testing.assert_allclose(y, _np_conv(x, W, strides or (1, 1), padding) + b,
                                   rtol=1e-12, atol=1e-12)
    for filt, padding, strides in itertools.product(((1, 1), (2, 3), (3, 3)),
                                                    ("SAME", "VALID"),
                                                    (None, (2, 1), (2, 2))):
        _check_shape_agreement(stax.ConvTranspose(2, filt, strides=strides, padding=padding),
                               (2, 5, 4, 1))
    for filt, padding, strides in itertools.product(((1,), (2,), (3,)), ("SAME", "VALID"),
                                                    (None, (1,), (2,))):
        _check_shape_agreement(stax.Conv1DTranspose(3, filt, strides=strides,
                                                    padding=padding), (2, 6, 1))
    for out_dim, shape in itertools.product((3, 4), ((2, 3), (3, 4), (2, 2, 3))):
        (W, b), x, y = _check_shape_agreement(stax.Dense(out_dim), shape)
        np.testing.assert_allclose(y, x @ W + b, rtol=1e-13)
    for window, padding, strides, kind, spec in itertools.product(
            ((1, 1), (2, 3)), ("VALID", "SAME"), (None, (2, 1)), ("max", "sum", "avg"),
            (None, "NCHW", "WHNC", "WHCN")):
        layer = {"max": stax.MaxPool, "sum": stax.SumPool, "avg": stax.AvgPool}[kind]
        _, x, y = _check_shape_agreement(layer(window, strides=strides, padding=padding,
                                               spec=spec), (2, 5, 6, 3))
        np.testing.assert_allclose(y, _np_pool(x, kind, window, strides or (1, 1), padding,
                                               spec), rtol=1e-13, atol=1e-13)
    references = {"Tanh": np.tanh, "Relu": lambda x: np.maximum(x, 0), "Exp": np.exp,
                  "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
                  "Softplus": lambda x: np.log1p(np.exp(x)),
                  "LeakyRelu": lambda x: np.where(x > 0, x, 0.01 * x),
                  "Elu": lambda x: np.where(x > 0, x, np.expm1(x)),
                  "LogSoftmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
                  "Softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)}
    for name, shape in itertools.product(sorted(references) + ["Selu", "Gelu"],
                                         ((2, 3), (2, 3, 4))):
        params, x, y = _check_shape_agreement(getattr(stax, name), shape)
        assert params == ()
        if name in references:
            np.testing.assert_allclose(y, references[name](x), rtol=1e-13, err_msg=name)
    for shape in ((2, 3), (2, 3, 4)):
        _, x, y = _check_shape_agreement(stax.Flatten, shape)
        np.testing.assert_array_equal(y, x.reshape(shape[0], -1))
        _, x, y = _check_shape_agreement(stax.Identity, shape)
        np.testing.assert_array_equal(y, x)
    for spec in ([stax.Conv(3, (2, 2))], [stax.Conv(3, (2, 2)), stax.Flatten, stax.Dense(4)]):
        _check_shape_agreement(stax.serial(*spec), (2, 5, 6, 1))
    for shape in ((3, 4), (2, 5, 6, 1)):
        _check_shape_agreement(stax.Dropout(0.9), shape)
        _, x, y = _check_shape_agreement(stax.FanInSum, [shape, shape])
        np.testing.assert_allclose(y, x[0] + x[1])
        _, x, y = _check_shape_agreement(stax.FanOut(3), shape)
        assert len(y) == 3 and all(v is x for v in y)
    for shapes, axis in (([(2, 3), (2, 1)], 1), ([(2, 3), (2, 1)], -1),
                         ([(1, 2, 4), (1, 1, 4)], 1)):
        _, x, y = _check_shape_agreement(stax.FanInConcat(axis), shapes)
        np.testing.assert_array_equal(y, np.concatenate(x, axis))


def test_conv_transpose_values():
    """A VALID transposed convolution scatters each input entry times the kernel (flipped,
    as conv_transpose without transpose_kernel gives it) to ``stride`` apart: against a
    NumPy scatter, 1-d and 2-d."""
    for stride in (1, 2, 3):
        (W, b), x, y = _check_shape_agreement(
            stax.Conv1DTranspose(2, (3,), strides=(stride,)), (2, 4, 3))
        want = np.zeros((2, (4 - 1) * stride + 3, 2))
        for i, t in itertools.product(range(4), range(3)):
            want[:, i * stride + t] += x[:, i] @ W[2 - t]
        np.testing.assert_allclose(y, want + b, rtol=1e-12, atol=1e-13)
    (W, b), x, y = _check_shape_agreement(stax.ConvTranspose(2, (2, 3), strides=(2, 1)),
                                          (1, 3, 4, 2))
    want = np.zeros((1, 2 * 2 + 2, 3 + 3, 2))
    for i, j, s, t in itertools.product(range(3), range(4), range(2), range(3)):
        want[:, 2 * i + s, j + t] += x[:, i, j] @ W[1 - s, 2 - t]
    np.testing.assert_allclose(y, want + b, rtol=1e-12, atol=1e-13)


def test_batchnorm():
    """From JAX's testBatchNorm*: parameter shapes for NHWC and NCHW axes, the output
    standardised over the axes (no scale or center: mean 0, standard deviation 1), and with
    the initialised (0, 1) and given beta and gamma against NumPy; negative axes."""
    x = _inputs((4, 5, 6, 7))
    for axis, kept in (((0, 1, 2), (7,)), ((0, 2, 3), (5,)), ((0, -1), (5, 6)), (1, (4, 6, 7))):
        (beta, gamma), _, y = _check_shape_agreement(stax.BatchNorm(axis=axis), x.shape)
        assert beta.shape == gamma.shape == kept
        ax = tuple(a % 4 for a in ((axis,) if isinstance(axis, int) else axis))
        z = (x - x.mean(ax, keepdims=True)) / np.sqrt(x.var(ax, keepdims=True) + 1e-5)
        np.testing.assert_allclose(y, z, rtol=1e-12, atol=1e-12)
        shape = [1 if i in ax else n for i, n in enumerate(x.shape)]
        rng = np.random.default_rng(2)
        beta, gamma = rng.standard_normal(kept), rng.standard_normal(kept)
        y = stax.BatchNorm(axis=axis)[1]((beta, gamma), x)
        np.testing.assert_allclose(y, gamma.reshape(shape) * z + beta.reshape(shape),
                                   rtol=1e-12, atol=1e-12)
        y = stax.BatchNorm(axis=axis, scale=False)[1]((beta, ()), x)
        np.testing.assert_allclose(y, z + beta.reshape(shape), rtol=1e-12, atol=1e-12)
    init_fun, apply_fun = stax.BatchNorm(center=False, scale=False)
    _, params = init_fun(fr.PRNGKey(0), x.shape)
    assert params == ((), ())
    out = np.asarray(apply_fun(params, x))
    np.testing.assert_allclose(out.mean((0, 1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std((0, 1, 2)), 1.0, atol=1e-4)
    with pytest.raises(ValueError, match="axis 4 is out of range"):
        stax.BatchNorm(axis=(0, 4))[0](fr.PRNGKey(0), x.shape)


def test_softmax_layers_and_initializer_aliases():
    """From JAX's testIssue182, testRandnInitShape and testGlorotInitShape."""
    init_fun, apply_fun = stax.Softmax
    out_shape, params = init_fun(fr.PRNGKey(0), (10, 3))
    out = apply_fun(params, np.arange(30.0, dtype=np.float32).reshape(10, 3))
    assert tuple(out.shape) == out_shape and out.dtype == np.float32
    np.testing.assert_allclose(np.sum(out, -1), 1.0, rtol=1e-6)
    for shape in ((2, 3), (5,)):
        assert stax.randn()(fr.PRNGKey(0), shape).shape == shape
    for shape in ((2, 3), (2, 3, 4)):
        assert stax.glorot()(fr.PRNGKey(0), shape).shape == shape


def test_dropout_train_and_test_modes():
    """Train mode keeps each entry with probability ``rate`` (JAX's meaning), divided by
    ``rate``, the others 0, from the key (the same key, the same mask; about ``rate`` of
    10000 entries kept); test mode returns the inputs, and needs no key (JAX requires one);
    train mode without a key is a ValueError; serial hands its layers keys split from its
    own."""
    x = _inputs((100, 100)) + 5.0
    init_fun, apply_fun = stax.Dropout(0.3)
    assert init_fun(None, x.shape) == (x.shape, ())
    key = fr.PRNGKey(7)
    y = np.asarray(apply_fun((), x, rng=key))
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.3, rtol=1e-15)
    assert abs(kept.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / x.size)
    np.testing.assert_array_equal(apply_fun((), x, rng=key), y)
    assert not np.array_equal(apply_fun((), x, rng=fr.PRNGKey(8)), y)
    with pytest.raises(ValueError, match="rng=key"):
        apply_fun((), x)
    _, test_apply = stax.Dropout(0.3, mode="test")
    assert test_apply((), x) is x
    _, serial_apply = stax.serial(stax.Identity, stax.Dropout(0.3))
    np.testing.assert_array_equal(serial_apply([(), ()], x, rng=key),
                                  apply_fun((), x, rng=fr.split(key, 2)[1]))


def _small_cnn():
    return stax.serial(stax.Conv(2, (2, 2), padding="SAME"), stax.Tanh,
                       stax.AvgPool((2, 2), strides=(1, 1), padding="SAME"),
                       stax.MaxPool((2, 1)), stax.Flatten,
                       stax.FanOut(2), stax.parallel(stax.Dense(3),
                                                     stax.serial(stax.Dense(3), stax.Elu)),
                       stax.FanInSum, stax.LogSoftmax)


def test_grads_through_serial_networks():
    """check_grads (central differences, the dot-product identity) of a loss of the
    parameters and of the inputs of a network of Conv, pools, Flatten, FanOut, parallel,
    FanInSum, Dense and LogSoftmax, and of one of BatchNorm, ConvTranspose, Softplus and
    Gelu; second order for the smaller."""
    init_fun, apply_fun = _small_cnn()
    _, params = init_fun(fr.PRNGKey(1), (2, 4, 3, 1))
    x = _inputs((2, 4, 3, 1), 3)
    check_grads(lambda p, x: fnp.sum(apply_fun(p, x) ** 2), (params, x), order=1)
    init_fun, apply_fun = stax.serial(stax.ConvTranspose(2, (2, 2), strides=(2, 1)),
                                      stax.BatchNorm(), stax.Softplus, stax.Flatten,
                                      stax.Dense(2), stax.Gelu)
    _, params = init_fun(fr.PRNGKey(2), (2, 2, 2, 1))
    x = _inputs((2, 2, 2, 1), 4)
    check_grads(lambda p, x: fnp.sum(apply_fun(p, x) ** 2), (params, x), order=2)


def _backend_key(backend, seed):
    return backend.asarray(np.asarray(fr.PRNGKey(seed)), "uint32")


def test_stax_on_every_backend(backend):
    """One network with every kind of layer on the backend's key and inputs: the parameters
    and the output are arrays of the backend on its device, and agree with the same
    network run on NumPy; the elementwise layers too."""
    layer = stax.serial(stax.Conv(2, (2, 2), padding="SAME"), stax.BatchNorm(), stax.Relu,
                        stax.ConvTranspose(2, (2, 2), strides=(2, 2)),
                        stax.Identity,
                        stax.MaxPool((2, 2), padding="SAME"), stax.SumPool((2, 1)),
                        stax.AvgPool((2, 2), strides=(1, 1), padding="SAME", spec="NHWC"),
                        stax.Flatten, stax.FanOut(2),
                        stax.parallel(stax.Dense(3), stax.serial(stax.Dense(2), stax.Selu)),
                        stax.FanInConcat(), stax.Dropout(0.8), stax.Softmax)
    init_fun, apply_fun = layer
    x_np = _inputs((2, 3, 3, 1), 5)
    shape, params = init_fun(_backend_key(backend, 0), x_np.shape)
    assert all(backend.is_own(p) for p in ft.tree.leaves(params))
    y = apply_fun(params, backend.asarray(x_np), rng=_backend_key(backend, 1))
    assert backend.is_own(y) and tuple(y.shape) == shape
    _, params_np = init_fun(fr.PRNGKey(0), x_np.shape)
    y_np = apply_fun(params_np, x_np, rng=fr.PRNGKey(1))
    np.testing.assert_allclose(backend.to_numpy(y), y_np, rtol=1e-11, atol=1e-14)
    # the parameters closed over (plain arrays) meeting traced inputs, under jit and vmap
    key = _backend_key(backend, 1)
    net = ft.jit(ft.vmap(lambda x: apply_fun(params, x[None, ...], rng=key)))
    y_mapped = net(backend.asarray(x_np))
    assert backend.is_own(y_mapped)
    np.testing.assert_allclose(backend.to_numpy(y_mapped)[:, 0],
                               np.stack([apply_fun(params_np, x_np[i:i + 1],
                                                   rng=fr.PRNGKey(1))[0] for i in range(2)]),
                               rtol=1e-11, atol=1e-14)
    init_1d, apply_1d = stax.Conv1DTranspose(2, (2,), strides=(2,))
    _, p1 = init_1d(_backend_key(backend, 2), (1, 3, 1))
    y1 = apply_1d(p1, backend.asarray(x_np[:1, :, 0, :]))
    assert backend.is_own(y1) and tuple(y1.shape) == (1, 6, 2)
    xe = backend.asarray(x_np[0, :, :, 0])
    for name in ("Tanh", "Relu", "Exp", "LogSoftmax", "Softmax", "Softplus", "Sigmoid",
                 "Elu", "LeakyRelu", "Selu", "Gelu"):
        out = getattr(stax, name)[1]((), xe)
        assert backend.is_own(out), name
        np.testing.assert_allclose(backend.to_numpy(out), getattr(stax, name)[1](
            (), x_np[0, :, :, 0]), rtol=1e-13, err_msg=name)


def test_stax_against_jax():
    """Side by side with jax.example_libraries.stax (x64): the output shapes, the
    parameters drawn from the same key (functrans.random's bits are JAX's) and the outputs
    for the same parameters, inputs and key."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.example_libraries import stax as jstax
    jnp = jax.numpy
    cases = [
        (lambda m: m.Dense(4), (3, 5)),
        (lambda m: m.Conv(3, (2, 3), strides=(2, 1), padding="SAME"), (2, 6, 7, 2)),
        (lambda m: m.ConvTranspose(3, (3, 3), strides=(2, 2), padding="SAME"), (2, 5, 4, 2)),
        (lambda m: m.Conv1DTranspose(2, (3,), strides=(2,), padding="SAME"), (2, 5, 3)),
        (lambda m: m.GeneralConv(("NCHW", "OIHW", "NCHW"), 3, (2, 2), padding="SAME"),
         (2, 2, 5, 4)),
        (lambda m: m.BatchNorm(axis=(0, 2, 3)), (4, 3, 2, 5)),
        (lambda m: m.AvgPool((2, 3), strides=(2, 2), padding="SAME", spec="NCHW"), (2, 3, 5, 6)),
        (lambda m: m.SumPool((2, 2), padding="SAME", spec="WHCN"), (5, 6, 3, 2)),
        (lambda m: m.serial(m.FanOut(2), m.parallel(m.Dense(3), m.serial(m.Dense(2), m.Gelu)),
                            m.FanInConcat(), m.Dropout(0.6),
                            m.LogSoftmax), (40, 5)),
    ]
    for k, (make, shape) in enumerate(cases):
        (init_ours, apply_ours), (init_jax, apply_jax) = make(stax), make(jstax)
        shape_ours, params = init_ours(fr.PRNGKey(3), shape)
        leaves = ft.tree.leaves(params)
        if k < 2:  # (JAX compiles its truncated normal per shape, for seconds: twice)
            shape_jax, params_jax = init_jax(jax.random.PRNGKey(3), shape)
            assert shape_ours == tuple(shape_jax)
            for a, b in zip(leaves, jax.tree.leaves(params_jax)):
                np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-15)
        params_jax = jax.tree.map(jnp.asarray, params)
        x = _inputs(shape, 6)
        y = apply_ours(params, x, rng=fr.PRNGKey(5))
        y_jax = apply_jax(params_jax, jnp.asarray(x), rng=jax.random.PRNGKey(5))
        assert tuple(y_jax.shape) == shape_ours
        np.testing.assert_allclose(y, np.asarray(y_jax), rtol=1e-12, atol=1e-14)


# -- module aliases ------------------------------------------------------------------------------


def test_custom_derivatives_module():
    """``functrans.custom_derivatives`` holds functrans's own custom_jvp, custom_vjp,
    closure_convert and custom_gradient (a rule defined through it is used), and JAX's
    symbolic-zero names."""
    import functrans.custom_derivatives as cd
    assert cd.custom_jvp is ft.custom_jvp and cd.custom_vjp is ft.custom_vjp
    assert cd.closure_convert is ft.closure_convert
    assert cd.custom_gradient is ft.custom_gradient

    @cd.custom_jvp
    def f(x):
        return fnp.sin(x)

    f.defjvp(lambda primals, tangents: (f(primals[0]), 3.0 * tangents[0]))
    assert float(ft.grad(f)(0.5)) == 3.0
    # (session 27: the symbolic-zero names exist, as JAX's)
    np.testing.assert_array_equal(cd.zero_from_primal(np.ones(2)), np.zeros(2))
    assert isinstance(cd.zero_from_primal(np.ones(2), symbolic_zeros=True), cd.SymbolicZero)


def test_stats_distributions_import_as_modules():
    """Each distribution of jax.scipy.stats is a module there: ``import
    functrans.scipy.stats.norm as norm`` and ``from functrans.scipy.stats.beta import
    logpdf`` work here too, in a fresh interpreter (the parent imported on the way), and
    ``functrans.scipy.stats.norm`` stays the object it was."""
    import importlib
    import subprocess
    import sys

    import scipy.stats
    import functrans.scipy.stats as fst
    jax_modules = ["bernoulli", "beta", "betabinom", "binom", "cauchy", "chi2", "dirichlet",
                   "expon", "f", "gamma", "gennorm", "geom", "gumbel_l", "gumbel_r",
                   "laplace", "logistic", "multinomial", "multivariate_normal", "nbinom",
                   "norm", "pareto", "poisson", "t", "truncnorm", "uniform", "vonmises",
                   "wrapcauchy"]
    for name in jax_modules:
        module = importlib.import_module(f"functrans.scipy.stats.{name}")
        dist = getattr(fst, name)
        assert type(dist).__module__ == "functrans.scipy.stats", name
        methods = [m for m in ("logpdf", "logpmf", "cdf") if hasattr(dist, m)]
        assert methods and all(getattr(module, m) == getattr(dist, m) for m in methods), name
    import functrans.scipy.stats.norm as norm
    assert norm is fst.norm
    from functrans.scipy.stats.gamma import logpdf
    np.testing.assert_allclose(logpdf(1.5, 2.5), scipy.stats.gamma.logpdf(1.5, 2.5),
                               rtol=1e-14)
    code = ("import functrans.scipy.stats.norm as n\n"
            "from functrans.scipy.stats.beta import logpdf\n"
            "import functrans.scipy.stats.poisson\n"
            "import functrans\n"
            "print(float(n.logpdf(0.5)), float(logpdf(0.3, 2.0, 3.0)),\n"
            "      float(functrans.scipy.stats.poisson.logpmf(2, 1.5)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    np.testing.assert_allclose([float(v) for v in out],
                               [scipy.stats.norm.logpdf(0.5), scipy.stats.beta.logpdf(0.3, 2, 3),
                                scipy.stats.poisson.logpmf(2, 1.5)], rtol=1e-14)


def test_typing_module():
    """``functrans.typing`` (``jax.typing``): ArrayLike takes functrans's arrays, NumPy's
    and Python numbers; DTypeLike names, dtypes and objects with a dtype."""
    import typing

    import functrans.typing as ftt
    arg_types = typing.get_args(ftt.ArrayLike)
    assert ft.Array in arg_types and np.ndarray in arg_types and float in arg_types
    assert all(isinstance(v, arg_types) for v in (np.ones(2), np.float32(1), 1, 2.5, 1j, True))
    assert not isinstance("a", arg_types)
    assert str in typing.get_args(ftt.DTypeLike) and np.dtype in typing.get_args(ftt.DTypeLike)
    assert ft.typing is ftt

    def f(x: ftt.ArrayLike, dtype: ftt.DTypeLike = None) -> ft.Array:
        return fnp.asarray(x, dtype=dtype)

    assert typing.get_type_hints(f, localns={"ftt": ftt})["x"] == ftt.ArrayLike
