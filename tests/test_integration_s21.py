"""Programs combining this session's features as a user would: checkpointed training loops
whose plans are cached across steps while what they close over changes, Python lists beside
torch/strict arrays outside transforms, vjp/jvp/linearize results updated in place
(``g *= lr``), ``jit(f).lower(...).compile()`` reused over a loop, checkpoints inside jit
inside vmap, linearize and vjp inside scan, polyfit(full=True) under vmap inside grad, and a
masked attention step using boolean dtypes, exact ldexp, softmax(where=) and
standardize(where=). Each is checked against JAX (x64) running the same program, or against
the same program run another way (eager, jit, compiled) to the bit."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import checkpointing
from functrans.ad_checkpoint import checkpoint_name

from ._ported import _jax

cp = ft.checkpoint_policies


def _writable(backend, data):
    """A backend array the test may write into (the fixture's NumPy arrays are read-only)."""
    if backend.name == "numpy":
        return np.array(data, dtype=np.float64)
    return backend.asarray(data)


def _jax_name():
    from jax.ad_checkpoint import checkpoint_name as name
    return name


@pytest.fixture
def plan_builds(monkeypatch):
    """The checkpoint plans built from here on (the cache emptied first)."""
    checkpointing.clear_cache()
    made = []
    real = checkpointing._build_plan

    def spy(fun, policy, diff, out_float):
        made.append(diff)
        return real(fun, policy, diff, out_float)
    monkeypatch.setattr(checkpointing, "_build_plan", spy)
    yield made
    checkpointing.clear_cache()


# -- 1. a checkpointed MLP trained with vjp, updated in place --------------------------------

def _mlp_program(xp, ckpt, name, policy, mul):
    """loss(W1, W2, momentum, x, y, scale) -> (loss, momentum): ``scale`` is closed over by
    the block (rebound between steps); ``momentum`` passes straight through, so its
    cotangent comes back as the pullback's result for it."""
    def make(scale):
        def block(W1, x):
            h = name(xp.tanh(xp.matmul(x, W1) * scale), "h")
            # a Python list beside the tracer (a per-unit gain)
            return mul(h, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
        blk = ckpt(block, policy=policy)

        def loss(W1, W2, momentum, x, y):
            pred = xp.matmul(blk(W1, x), W2)
            return xp.mean((pred - y) ** 2) + 1e-3 * xp.sum(W1 * W1), momentum
        return loss
    return make


def _train_with_vjp(make, W1, W2, x, y, scale, mom, ones, lrs, rescale, to_numpy, steps=4):
    losses = []
    for step in range(steps):
        (val, m_out), pull = ft.vjp(make(scale), W1, W2, mom, x, y)
        ct_mom = mom * 0.5
        ct_keep = to_numpy(ct_mom).copy()
        g1, g2, gm, gx, gy = pull((ones, ct_mom))
        lr = lrs[step % len(lrs)]
        g1 *= lr
        g2 *= lr
        gm *= 0.9  # the pass-through cotangent, scaled in place
        # the caller's cotangent was not written through gm
        np.testing.assert_array_equal(to_numpy(ct_mom), ct_keep)
        W1, W2, mom = W1 - g1, W2 - g2, gm + g2
        scale = rescale(scale)
        losses.append(float(val))
    return losses, (W1, W2, mom)


def test_checkpointed_mlp_trained_with_vjp_in_place_matches_jax(backend, plan_builds):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((3, 8)) / 2
    W2 = rng.standard_normal((8, 2)) / 3
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    mom0 = rng.standard_normal((8, 2)) * 0.1
    lrs = [0.1, 0.05]

    make = _mlp_program(fnp, ft.checkpoint, checkpoint_name, cp.dots_saveable, fnp.multiply)

    def rescale(s):  # outside transforms: a Python list beside the backend's array
        out = fnp.multiply(s, [1.01, 1.02, 1.03, 1.04, 1.0, 1.0, 0.99, 0.98])
        assert backend.is_own(out), type(out)
        return out

    if backend.name == "numpy":
        ones = np.array(1.0)
    else:
        ones = backend.asarray(1.0)
    losses, (W1f, W2f, momf) = _train_with_vjp(
        make, _writable(backend, W1), _writable(backend, W2), backend.asarray(x),
        backend.asarray(y), backend.asarray(np.ones(8)), _writable(backend, mom0), ones, lrs,
        rescale, backend.to_numpy)
    # the block stages the same graph at every step (the closed-over scale changes value,
    # not shape): one plan, built at the first step
    assert plan_builds == [(0, 1)], plan_builds  # (vjp differentiates x too)

    jmake = _mlp_program(jnp, jax.checkpoint, _jax_name(),
                         jax.checkpoint_policies.dots_saveable,
                         lambda a, b: jnp.multiply(a, jnp.asarray(b)))
    jlosses, (jW1, jW2, jmom) = [], (jnp.asarray(W1), jnp.asarray(W2), jnp.asarray(mom0))
    scale = jnp.ones(8)
    for step in range(4):
        (val, _), pull = jax.vjp(jmake(scale), jW1, jW2, jmom, jnp.asarray(x), jnp.asarray(y))
        g1, g2, gm, _, _ = pull((jnp.asarray(1.0), jmom * 0.5))
        lr = lrs[step % 2]
        jW1, jW2, jmom = jW1 - lr * g1, jW2 - lr * g2, 0.9 * gm + lr * g2
        scale = scale * jnp.asarray([1.01, 1.02, 1.03, 1.04, 1.0, 1.0, 0.99, 0.98])
        jlosses.append(float(val))
    np.testing.assert_allclose(losses, jlosses, rtol=1e-13)
    assert jlosses[-1] < jlosses[0]
    for got, ref in zip((W1f, W2f, momf), (jW1, jW2, jmom)):
        np.testing.assert_allclose(backend.to_numpy(got), np.asarray(ref), rtol=1e-12,
                                   atol=1e-14)


# -- 2. jit(step).lower(...).compile() reused over a training loop ----------------------------

def _step_program(xp, ckpt, name, policy):
    def step(params, x, y, lr):
        def loss(p):
            h = ckpt(lambda W, b: name(xp.tanh(xp.matmul(x, W) + b), "h"),
                     policy=policy)(p["W"], p["b"])
            return xp.mean((xp.matmul(h, p["v"]) - y) ** 2)
        val, g = ft.value_and_grad(loss)(params) if xp is fnp else _jax().value_and_grad(
            loss)(params)
        new = {k: params[k] - lr * g[k] for k in params}
        # the batch, flattened for logging: a view of the argument x in NumPy and torch
        return val, new, xp.reshape(x, (-1,))
    return step


def test_lowered_compiled_grad_step_reused_matches_jit_eager_and_jax(backend, plan_builds):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(1)
    p0 = {"W": rng.standard_normal((4, 6)) / 2, "b": np.zeros(6),
          "v": rng.standard_normal(6) / 2}
    x = _writable(backend, rng.standard_normal((10, 4)))
    x_before = backend.to_numpy(x).copy()
    y = backend.asarray(rng.standard_normal(10))
    step = _step_program(fnp, ft.checkpoint, checkpoint_name,
                         cp.save_only_these_names("h"))
    params = {k: backend.asarray(v) for k, v in p0.items()}
    lowered = ft.jit(step).lower(params, x, y, 0.1)
    assert "tanh" in lowered.as_text()
    compiled = lowered.compile()
    jitted = ft.jit(step)

    pc = pj = pe = params
    runs = {"compiled": [], "jit": [], "eager": []}
    for _ in range(4):
        lc, pc, flat = compiled(pc, x, y, 0.1)
        flat *= 0.0  # the caller may write into a result: x must not change
        lj, pj, _ = jitted(pj, x, y, 0.1)
        le, pe, _ = step(pe, x, y, 0.1)
        for k in pc:  # and into the new parameters, which alias nothing of the old
            pc[k] *= 1.0
        runs["compiled"].append(float(lc))
        runs["jit"].append(float(lj))
        runs["eager"].append(float(le))
    np.testing.assert_array_equal(backend.to_numpy(x), x_before)
    # the compiled and jitted runs evaluate one staged graph; eager differs by rounding only
    assert runs["compiled"] == runs["jit"]
    for k in pc:
        np.testing.assert_array_equal(backend.to_numpy(pc[k]), backend.to_numpy(pj[k]))
    np.testing.assert_allclose(runs["eager"], runs["jit"], rtol=1e-13)

    jstep = _step_program(jnp, jax.checkpoint, _jax_name(),
                          jax.checkpoint_policies.save_only_these_names("h"))
    jp = {k: jnp.asarray(v) for k, v in p0.items()}
    jx, jy = jnp.asarray(x_before), jnp.asarray(backend.to_numpy(y))
    jcompiled = jax.jit(jstep).lower(jp, jx, jy, 0.1).compile()
    jl = []
    for _ in range(4):
        val, jp, _ = jcompiled(jp, jx, jy, 0.1)
        jl.append(float(val))
    np.testing.assert_allclose(runs["compiled"], jl, rtol=1e-13)
    for k in pc:
        np.testing.assert_allclose(backend.to_numpy(pc[k]), np.asarray(jp[k]), rtol=1e-12,
                                   atol=1e-15)
    with pytest.raises(TypeError, match="0.2"):
        compiled(pc, x, y, 0.2)  # a Python number is part of the signature, as in JAX


def test_jit_results_never_view_arguments_or_each_other(backend):
    # (jit promises results of their own; views escaped: a reshape, flip or slice of an
    # argument shares its memory in NumPy and torch, and so did two results one of which
    # was a reshape of the other)
    x = _writable(backend, np.arange(6.0))
    keep = backend.to_numpy(x).copy()

    def g(v):
        return (fnp.reshape(v, (2, 3)), fnp.flip(v), v[1:], 2.0 * v,
                fnp.reshape(2.0 * v, (3, 2)))
    f = ft.jit(g)
    for outs in (f(x), f(x), f.lower(x).compile()(x), ft.checkpoint(g)(x)):
        a, b, c, d, e = outs
        a *= 0.0
        b *= 0.0
        c *= 0.0
        d *= 3.0
        np.testing.assert_array_equal(backend.to_numpy(x), keep)
        np.testing.assert_array_equal(backend.to_numpy(e), 2.0 * keep.reshape(3, 2))
    # an argument that is itself a view of a larger array
    big = _writable(backend, np.arange(8.0))
    out = ft.jit(lambda v: fnp.flip(v))(big[2:6])
    out *= 0.0
    np.testing.assert_array_equal(backend.to_numpy(big), np.arange(8.0))
    # a checkpointed function returning a view of what it closes over
    C = _writable(backend, np.arange(4.0))
    r = ft.checkpoint(lambda v: (v + 1.0, fnp.flip(C)))(x[:4])[1]
    r *= 0.0
    np.testing.assert_array_equal(backend.to_numpy(C), np.arange(4.0))


# -- 3. checkpoint inside jit inside vmap, with a policy and cached plans ---------------------

def _deep_program(xp, ckpt, name, policy):
    def layer(W, h):
        z = name(xp.matmul(h, W), "z")
        return xp.sin(z) * xp.tanh(z)
    lay = ckpt(layer, policy=policy)

    def per_example(Ws, x):
        h = x
        for W in Ws:
            h = lay(W, h)
        return xp.sum(h ** 2)
    return per_example


def test_checkpoint_in_jit_in_vmap_plans_cached_grad_and_hessian_match_jax(backend,
                                                                           plan_builds):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    Ws = [rng.standard_normal((3, 3)) / 2 for _ in range(3)]
    X = rng.standard_normal((4, 3))
    f = _deep_program(fnp, ft.checkpoint, checkpoint_name, cp.save_only_these_names("z"))
    jf = _deep_program(jnp, jax.checkpoint, _jax_name(),
                       jax.checkpoint_policies.save_only_these_names("z"))
    g = ft.vmap(ft.jit(ft.grad(f)), in_axes=(None, 0))
    jg = jax.vmap(jax.jit(jax.grad(jf)), in_axes=(None, 0))
    counts = []
    for it in range(3):
        scale = 1.0 + 0.1 * it
        out = g([backend.asarray(W * scale) for W in Ws], backend.asarray(X))
        ref = jg([jnp.asarray(W * scale) for W in Ws], jnp.asarray(X))
        for o, r in zip(out, ref):
            assert backend.is_own(o)
            np.testing.assert_allclose(backend.to_numpy(o), np.asarray(r), rtol=1e-12,
                                       atol=1e-15)
        counts.append(len(plan_builds))
    # staged once by jit (one plan for the first layer, whose input is not differentiated,
    # one for the other two); later calls replay the graph
    assert counts == [2, 2, 2], counts
    H = ft.vmap(ft.hessian(f, argnums=1), in_axes=(None, 0))(
        [backend.asarray(W) for W in Ws], backend.asarray(X))
    jH = jax.vmap(jax.hessian(jf, argnums=1), in_axes=(None, 0))(
        [jnp.asarray(W) for W in Ws], jnp.asarray(X))
    np.testing.assert_allclose(backend.to_numpy(H), np.asarray(jH), rtol=1e-11, atol=1e-14)


# -- 4. linearize and vjp inside scan ---------------------------------------------------------

def test_linearize_and_vjp_pass_through_inside_scan_match_jax(backend):
    jax = _jax()
    jnp = jax.numpy
    a0 = np.array([1.0, 2.0, 3.0, 4.0])
    xs = np.stack([np.full(4, 0.5), np.full(4, 1.0), np.linspace(-1, 1, 4)])

    def tbody(xp, vjp, linearize):
        def body(carry, x):
            _, pull = vjp(lambda u: u, carry)  # identity: the cotangent passes through
            (g,) = pull(x)
            y, lin = linearize(lambda u: xp.sin(u) + u * carry, carry)
            return 0.9 * carry + lin(g), y
        return body

    def run(xp, scan, vjp, linearize):
        body = tbody(xp, vjp, linearize)

        def loss(a, xs):
            c, ys = scan(body, a, xs)
            return xp.sum(c ** 2) + xp.sum(ys)
        return loss

    loss = run(fnp, ft.lax.scan, ft.vjp, ft.linearize)
    jloss = run(jnp, jax.lax.scan, jax.vjp, jax.linearize)
    a, X = backend.asarray(a0), backend.asarray(xs)
    ref_val = float(jloss(jnp.asarray(a0), jnp.asarray(xs)))
    ref_g = jax.grad(jloss, argnums=(0, 1))(jnp.asarray(a0), jnp.asarray(xs))
    np.testing.assert_allclose(float(loss(a, X)), ref_val, rtol=1e-14)
    for grad in (ft.grad(loss, argnums=(0, 1)), ft.jit(ft.grad(loss, argnums=(0, 1)))):
        for o, r in zip(grad(a, X), ref_g):
            np.testing.assert_allclose(backend.to_numpy(o), np.asarray(r), rtol=1e-12)
    # forward mode through the scan, and the tangent map's result written into
    t_in = _writable(backend, np.linspace(0.1, 0.4, 4))
    keep = backend.to_numpy(t_in).copy()
    _, lin = ft.linearize(lambda u: loss(u, X), a)
    _, jlin = jax.linearize(lambda u: jloss(u, jnp.asarray(xs)), jnp.asarray(a0))
    np.testing.assert_allclose(float(lin(t_in)), float(jlin(jnp.asarray(keep))), rtol=1e-12)
    # a pass-through tangent map (identity then scan over nothing) hands back its own array
    _, lin_id = ft.linearize(lambda u: u, a)
    out = lin_id(t_in)
    out *= 2.0
    np.testing.assert_array_equal(backend.to_numpy(t_in), keep)


# -- 5. polyfit(full=True) under vmap inside grad ---------------------------------------------

def test_polyfit_full_residuals_under_vmap_inside_grad_and_jit_match_jax(backend):
    jax = _jax()
    jnp = jax.numpy
    X = np.linspace(-1.0, 2.0, 9)
    Ys = np.stack([np.sin(X) + 0.1 * X ** 3, np.cos(2 * X), X ** 2])

    def program(xp, vmap):
        def per_series(x, y, w):
            c, res, rank, sv, rcond = xp.polyfit(x, y, 2, w=w, full=True)
            return xp.sum(res) + 0.01 * xp.sum(c ** 2) + 0.1 * sv[0]

        def loss(x, Ys, w):
            return xp.sum(vmap(per_series, in_axes=(None, 0, None))(x, Ys, w))
        return loss

    loss, jloss = program(fnp, ft.vmap), program(jnp, jax.vmap)
    w = np.linspace(0.5, 1.5, 9)
    args = (backend.asarray(X), backend.asarray(Ys), backend.asarray(w))
    jargs = (jnp.asarray(X), jnp.asarray(Ys), jnp.asarray(w))
    np.testing.assert_allclose(float(loss(*args)), float(jloss(*jargs)), rtol=1e-12)
    ref = jax.grad(jloss, argnums=(0, 1, 2))(*jargs)
    for grad in (ft.grad(loss, argnums=(0, 1, 2)), ft.jit(ft.grad(loss, argnums=(0, 1, 2)))):
        for o, r in zip(grad(*args), ref):
            np.testing.assert_allclose(backend.to_numpy(o), np.asarray(r), rtol=1e-9,
                                       atol=1e-12)
    # the residuals themselves, vmapped over the x of each series and jitted: NumPy's for
    # these full-rank fits
    xs = np.stack([X, 2.0 * X + 1.0, X ** 3])
    res = ft.jit(ft.vmap(lambda x, y: fnp.polyfit(x, y, 2, full=True)[1]))(
        backend.asarray(xs), backend.asarray(Ys))
    for i in range(3):
        np.testing.assert_allclose(backend.to_numpy(res)[i],
                                   np.polyfit(xs[i], Ys[i], 2, full=True)[1], rtol=1e-9)


# -- 6. masked attention: booleans, ldexp, softmax(where=), standardize(where=) --------------

def _attention(xp, nn, ldexp):
    def f(Q, K, V, n):
        s = ldexp(xp.matmul(Q, xp.matrix_transpose(K)), -1)  # an exact halving
        rows = xp.arange(5)
        mask = rows < n  # boolean, traced under vmap
        causal = rows[:, None] >= rows[None, :]
        both = xp.logical_and(causal, mask[None, :])
        p = nn.softmax(s, axis=-1, where=both)
        z = nn.standardize(xp.matmul(p, V), axis=0, where=mask[:, None])
        z = xp.where(mask[:, None], z, 0.0)
        # square of a boolean (int8 as NumPy's) and clip of one (promoted with its bounds)
        extra = xp.sum(xp.square(both)) * 0.01 + xp.sum(xp.clip(mask, 0, 1)) * 0.1
        return xp.sum(xp.clip(z, -1.5, 1.5) ** 2) + extra
    return f


def test_masked_attention_with_booleans_ldexp_and_masked_softmax_matches_jax(backend):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(3)
    Q, K, V = (rng.standard_normal(s) for s in ((5, 4), (5, 4), (5, 3)))
    lengths = np.array([5, 3, 1])
    f = _attention(fnp, ft.nn, fnp.ldexp)
    jf = _attention(jnp, jax.nn, jnp.ldexp)
    args = [backend.asarray(v) for v in (Q, K, V)]
    jargs = [jnp.asarray(v) for v in (Q, K, V)]
    n = backend.asarray(lengths, dtype="int64")
    g = ft.vmap(ft.jit(ft.grad(f, argnums=(0, 1, 2))), in_axes=(None, None, None, 0))(*args, n)
    ref = jax.vmap(jax.jit(jax.grad(jf, argnums=(0, 1, 2))), in_axes=(None, None, None, 0))(
        *jargs, jnp.asarray(lengths))
    for o, r in zip(g, ref):
        np.testing.assert_allclose(backend.to_numpy(o), np.asarray(r), rtol=1e-10,
                                   atol=1e-12)
    vals = ft.jit(ft.vmap(f, in_axes=(None, None, None, 0)))(*args, n)
    np.testing.assert_allclose(backend.to_numpy(vals),
                               np.asarray(jax.vmap(jf, in_axes=(None, None, None, 0))(
                                   *jargs, jnp.asarray(lengths))), rtol=1e-12)
    # ldexp's exactness: the halving of the scores is the scores times 0.5 to the bit
    s = fnp.matmul(args[0], fnp.matrix_transpose(args[1]))
    np.testing.assert_array_equal(backend.to_numpy(fnp.ldexp(s, -1)),
                                  backend.to_numpy(s) * 0.5)


def test_lowered_text_names_dtype_parameters(backend):
    # (a dtype parameter printed as its class, [dtype=DType]: fnp's dtypes are callable)
    x = backend.asarray([1, 2, 3], dtype="int64")
    text = ft.jit(lambda v: fnp.astype(v, fnp.float32) * 2.0).lower(x).as_text()
    assert "convert_element_type" in text and "[dtype=float32]" in text, text
    assert "DType" not in text


def test_checkpoint_plans_shared_by_numpy_arrays_and_atarrays(plan_builds):
    # fnp.eye/zeros/ones make AtArray (NumPy arrays with .at); a training loop mixing them
    # with np.ndarray parameters built a second plan for the same graph
    c = ft.checkpoint(lambda W, x: fnp.tanh(fnp.matmul(x, W)), policy=cp.dots_saveable)
    x = np.ones((2, 2))

    def loss(W):
        return fnp.sum(c(W, x) ** 2)
    g1 = ft.grad(loss)(np.eye(2) * 0.5)
    g2 = ft.grad(loss)(fnp.eye(2) * 0.5)
    assert type(fnp.eye(2)) is not np.ndarray
    assert len(plan_builds) == 1, plan_builds
    np.testing.assert_array_equal(g1, g2)


def test_vmapped_tangent_maps_and_pullbacks_do_not_alias_the_callers_batch(backend):
    # The batched form of the pass-through rule: vmap(lin)(T), vmap(pullback)(C) and vmap of
    # an identity handed back the caller's T (or a view of it), so an in-place update of the
    # batched tangents rewrote the caller's basis.
    x = backend.asarray([1.0, 2.0, 3.0])
    _, lin = ft.linearize(lambda a: fnp.flip(a), x)
    _, pull = ft.vjp(lambda a: fnp.reshape(a, (3, 1)), x)
    T = _writable(backend, np.eye(3))
    C = _writable(backend, np.arange(9.0).reshape(3, 3, 1))
    runs = [
        (lambda: ft.vmap(lin)(T), T),
        (lambda: ft.vmap(pull)(C)[0], C),
        (lambda: ft.vmap(lambda t: ft.jvp(lambda a: a, (x,), (t,))[1])(T), T),
        (lambda: ft.vmap(lambda a: a)(T), T),
        (lambda: ft.vmap(lambda a: a[1:], in_axes=1)(T), T),
    ]
    for run, given in runs:
        keep = backend.to_numpy(given).copy()
        out = run()
        out *= 5.0
        np.testing.assert_array_equal(backend.to_numpy(given), keep)
    # the values: the batched tangent map is the flip of each row
    np.testing.assert_array_equal(backend.to_numpy(ft.vmap(lin)(T)), np.eye(3)[:, ::-1])


def test_compiled_step_names_a_dict_key_order_difference(backend):
    # Gradients keep a dict's key order (test_lead_s21), so the order is part of a compiled
    # function's signature; refusing a reordered dict said only "another signature".
    def step(p, x):
        g = ft.grad(lambda q: fnp.sum((x * q["w"] + q["b"]) ** 2))(p)
        return {k: p[k] - 0.1 * g[k] for k in p}

    x = backend.asarray([0.0, 1.0, 2.0])
    p1 = {"w": backend.asarray(2.0), "b": backend.asarray(-1.0)}
    p2 = {"b": p1["b"], "w": p1["w"]}
    compiled = ft.jit(step).lower(p1, x).compile()
    out = compiled(p1, x)
    assert list(out) == ["w", "b"]
    with pytest.raises(TypeError, match=r"keys in another order.*\['w', 'b'\].*\['b', 'w'\]"):
        compiled(p2, x)
    # the jitted function takes either order, each keeping its own
    again = ft.jit(step)(p2, x)
    assert list(again) == ["b", "w"]
    for k in out:
        np.testing.assert_array_equal(backend.to_numpy(out[k]), backend.to_numpy(again[k]))
