"""Programs combining this session's features as a user would: checkpoints keeping
elementwise outputs (tanh, relu) with training loops that update parameters in place over
activations large enough for the in-place backward pass, keepdims reductions
(logsumexp/softmax) under vmap/jit/hessian, Python data in functrans.numpy calls under
transforms, lstsq with JAX's residuals under vmap and grad, and remat'd scan bodies
differentiated twice. Each is checked against JAX (x64), finite differences, or the same
program with the in-place pass switched off (to the bit)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.reverse  # noqa: F401  (the module: functrans.reverse is also a function)
from functrans.ad_checkpoint import checkpoint_name

from ._ported import _jax, close
from .test_reverse_inplace import count_in_place as _count_in_place

reverse = sys.modules["functrans.reverse"]
cp = ft.checkpoint_policies

# (512, 128) float64 activations: 512 KiB, above the in-place pass's 256 KiB threshold.
BATCH, D_IN, HIDDEN = 512, 32, 128


def _jax_name():
    from jax.ad_checkpoint import checkpoint_name as name
    return name


def _mlp_params(rng):
    return {
        "W1": rng.standard_normal((D_IN, HIDDEN)) / np.sqrt(D_IN),
        "b1": np.zeros(HIDDEN),
        "W2": rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
        "b2": rng.standard_normal(HIDDEN) * 0.1,
        "w3": rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN),
    }


def _mlp_loss(checkpointed, xp=fnp, relu=ft.nn.relu, name=checkpoint_name):
    def block(p, x):
        h1 = name(xp.tanh(x @ p["W1"] + p["b1"]), "h1")
        h2 = name(relu(h1 @ p["W2"] + p["b2"]), "h2")
        return h2

    blk = ft.checkpoint(block, policy=cp.save_only_these_names("h1", "h2")) if checkpointed \
        else block

    def loss(p, x, y):
        pred = blk(p, x) @ p["w3"]
        return xp.mean((pred - y) ** 2)
    return loss


def _train(loss, params, x, y, steps=4, lr=0.05):
    """Plain SGD updating each parameter in place; returns the losses and the final params.
    Asserts the gradients never share memory with the parameters (an in-place update of one
    would otherwise rewrite the other)."""
    params = {k: v.copy() for k, v in params.items()}
    vg = ft.value_and_grad(loss)
    losses = []
    for _ in range(steps):
        val, g = vg(params, x, y)
        losses.append(float(val))
        for k in params:
            assert isinstance(g[k], np.ndarray) and g[k].shape == params[k].shape
            for q in params.values():
                assert not np.shares_memory(g[k], q), k
            assert not np.shares_memory(g[k], x) and not np.shares_memory(g[k], y)
        before = {k: g[k].copy() for k in g}
        for k in params:
            params[k] -= lr * g[k]
        for k in g:  # updating the params left the gradients as they were
            np.testing.assert_array_equal(g[k], before[k])
    return losses, params


def test_remat_mlp_training_loop_in_place_matches_plain_run_bit_for_bit(monkeypatch):
    rng = np.random.default_rng(0)
    params = _mlp_params(rng)
    x = rng.standard_normal((BATCH, D_IN))
    y = rng.standard_normal(BATCH)
    x.flags.writeable = y.flags.writeable = False  # the caller's data: never written
    assert BATCH * HIDDEN * 8 >= 256 * 1024

    written = _count_in_place(monkeypatch)
    losses, final = _train(_mlp_loss(True), params, x, y)
    assert len(written) >= 4, written  # at least one per step
    monkeypatch.setattr(reverse, "_INPLACE", False)
    ref_losses, ref_final = _train(_mlp_loss(False), params, x, y)
    assert losses == ref_losses
    assert losses[-1] < losses[0]
    for k in final:
        np.testing.assert_array_equal(final[k], ref_final[k], err_msg=k)


def test_remat_mlp_gradients_match_jax():
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(1)
    params = _mlp_params(rng)
    x = rng.standard_normal((BATCH, D_IN))
    y = rng.standard_normal(BATCH)
    g = ft.jit(ft.grad(_mlp_loss(True)))(params, x, y)
    # (_mlp_loss builds its checkpoint with functrans; JAX's own remat of the same block)

    def jblock(p, x):
        h1 = _jax_name()(jnp.tanh(x @ p["W1"] + p["b1"]), "h1")
        return _jax_name()(jax.nn.relu(h1 @ p["W2"] + p["b2"]), "h2")
    jblk = jax.checkpoint(jblock, policy=jax.checkpoint_policies.save_only_these_names(
        "h1", "h2"))

    def jloss(p, x, y):
        return jnp.mean((jblk(p, x) @ p["w3"] - y) ** 2)
    jg = jax.grad(jloss)({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x),
                         jnp.asarray(y))
    close({k: np.asarray(jg[k]) for k in params}, {k: g[k] for k in params}, tol=1e-11)


def _ce_loss(xp, logsumexp):
    """Softmax cross-entropy written with keepdims reductions (per example)."""
    def loss(W, x, onehot):
        logits = x @ W
        m = xp.max(logits, axis=-1, keepdims=True)
        z = logits - m
        lse = logsumexp(z, axis=-1, keepdims=True)
        logp = z - lse
        probs = xp.exp(logp)
        # an entropy bonus from the keepdims softmax, so the probabilities enter twice
        ent = -xp.sum(probs * logp, axis=-1, keepdims=True)
        return xp.sum(-xp.sum(onehot * logp, axis=-1, keepdims=True) - 0.1 * ent)
    return loss


def test_keepdims_cross_entropy_hessian_under_vmap_and_jit_matches_jax():
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    W = rng.standard_normal((4, 3))
    xs = rng.standard_normal((5, 6, 4))  # 5 tasks of 6 examples
    onehots = np.eye(3)[rng.integers(0, 3, size=(5, 6))]
    f = _ce_loss(fnp, ft.nn.logsumexp)
    jf = _ce_loss(jnp, jax.nn.logsumexp)
    args = (W, xs, onehots)
    jargs = tuple(jnp.asarray(a) for a in args)
    grads = ft.jit(ft.vmap(ft.grad(f), in_axes=(None, 0, 0)))(*args)
    hess = ft.jit(ft.vmap(ft.hessian(f), in_axes=(None, 0, 0)))(*args)
    jgrads = jax.vmap(jax.grad(jf), in_axes=(None, 0, 0))(*jargs)
    jhess = jax.vmap(jax.hessian(jf), in_axes=(None, 0, 0))(*jargs)
    assert hess.shape == (5, 4, 3, 4, 3)
    close(np.asarray(jgrads), grads, tol=1e-11)
    close(np.asarray(jhess), hess, tol=1e-10)
    # the keepdims max only shifts: the loss does not depend on it to first or second order
    assert np.allclose(hess.reshape(5, 12, 12), hess.reshape(5, 12, 12).transpose(0, 2, 1))


def test_python_data_in_numpy_calls_under_grad_vmap_jit(backend):
    # Lists and numbers next to traced arrays: constants under every transform.
    weights = [0.5, -1.0, 2.0]
    offsets = [[0.1], [0.2]]

    def loss(x):  # x: (2, 3)
        a = fnp.multiply(x, weights)  # a list broadcast along the last axis
        b = fnp.add(a, offsets)  # a nested list along the first
        c = fnp.where(x > 0, b, [1.5, 0.0, -0.5])
        d = fnp.maximum(c, 0.25) + fnp.clip(x, -1, [0.3, 0.4, 0.5])
        return fnp.sum(d ** 2) + fnp.dot(fnp.ravel(x), [1.0, 2, 3, 4, 5, 6]) * 0.5

    rng = np.random.default_rng(3)
    xb = rng.standard_normal((4, 2, 3))
    # keep every entry away from the kinks (0, 0.25 after the product, the clip bounds)
    xb = np.where(np.abs(xb) < 0.2, xb + 0.6, xb)

    def numeric(x, eps=1e-6):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = eps
            g[i] = (float(loss(x + e)) - float(loss(x - e))) / (2 * eps)
        return g
    ref = np.stack([numeric(xi) for xi in xb])
    ref_vals = np.array([float(loss(xi)) for xi in xb])

    X = backend.asarray(xb)
    for fn in (ft.vmap(ft.grad(loss)), ft.jit(ft.vmap(ft.grad(loss))),
               ft.vmap(ft.jit(ft.grad(loss)))):
        g = fn(X)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), ref, rtol=1e-6, atol=1e-7)
    vals, gs = ft.jit(ft.vmap(ft.value_and_grad(loss)))(X)
    np.testing.assert_allclose(backend.to_numpy(vals), ref_vals, rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(gs), ref, rtol=1e-6, atol=1e-7)
    # the second derivative is diagonal: 2 * (d/dx d)^2 where d is differentiable
    H = ft.jit(ft.hessian(loss))(backend.asarray(xb[0]))
    Hn = backend.to_numpy(H).reshape(6, 6)
    np.testing.assert_array_equal(Hn, np.diag(np.diag(Hn)))


def test_lstsq_regression_under_vmap_and_grad_matches_jax():
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(4)
    A = rng.standard_normal((7, 8, 3))  # 7 problems, 8 observations, 3 features
    B = rng.standard_normal((7, 8, 2))

    def objective(lib, lstsq):
        def f(a, b):
            x, resid, rank, s = lstsq(a, b)
            # the residuals (JAX's default) and the fit both carry the gradient
            return lib.sum(resid) + lib.sum(x ** 2) + 0.1 * lib.sum(s)
        return f

    f = objective(fnp, fnp.linalg.lstsq)
    jf = objective(jnp, jnp.linalg.lstsq)
    vals = ft.vmap(f)(A, B)
    ga, gb = ft.jit(ft.vmap(ft.grad(f, (0, 1))))(A, B)
    jvals = jax.vmap(jf)(jnp.asarray(A), jnp.asarray(B))
    jga, jgb = jax.vmap(jax.grad(jf, (0, 1)))(jnp.asarray(A), jnp.asarray(B))
    close(np.asarray(jvals), vals, tol=1e-11)
    close(np.asarray(jga), ga, tol=1e-9)
    close(np.asarray(jgb), gb, tol=1e-9)
    # the residuals equal the fit's squared error, which they are computed from separately
    x, resid, rank, _ = ft.vmap(fnp.linalg.lstsq)(A, B)
    np.testing.assert_allclose(resid, ((A @ x - B) ** 2).sum(axis=1), rtol=1e-10)
    assert np.all(np.asarray(rank) == 3)


def test_remat_scan_body_grad_of_grad_matches_jax():
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(5)
    Ws = rng.standard_normal((4, 5, 5)) * 0.6
    h0 = rng.standard_normal(5)

    def model(lib, scan, remat, relu, name, policy):
        def body(h, W):
            a = name(lib.tanh(W @ h), "a")
            r = name(relu(a - 0.1), "r")
            return h + r * a, lib.sum(r)
        body_c = remat(body, policy=policy)

        def f(h, Ws):
            h, ys = scan(body_c, h, Ws)
            return lib.sum(h ** 2) + lib.sum(ys)
        return f

    f = model(fnp, ft.lax.scan, ft.checkpoint, ft.nn.relu, checkpoint_name,
              cp.save_only_these_names("a", "r"))
    jf = model(jnp, jax.lax.scan, jax.checkpoint, jax.nn.relu, _jax_name(),
               jax.checkpoint_policies.save_only_these_names("a", "r"))
    # grad of grad: the gradient's sum, differentiated again
    gg = ft.grad(lambda h, Ws: fnp.sum(ft.grad(f)(h, Ws) ** 2), (0, 1))
    jgg = jax.grad(lambda h, Ws: jnp.sum(jax.grad(jf)(h, Ws) ** 2), (0, 1))
    out = gg(h0, Ws)
    jout = jgg(jnp.asarray(h0), jnp.asarray(Ws))
    close([np.asarray(v) for v in jout], list(out), tol=1e-10)
    close([np.asarray(v) for v in jout], list(ft.jit(gg)(h0, Ws)), tol=1e-10)
    H = ft.hessian(f)(h0, Ws)
    close(np.asarray(jax.hessian(jf)(jnp.asarray(h0), jnp.asarray(Ws))), H, tol=1e-10)


def test_big_remat_block_under_vmap_jit_in_place_bitwise(monkeypatch):
    # A per-example loss vmapped over a batch whose activations are large, with a policy
    # choosing primitives (the relu and tanh outputs) rather than names.
    rng = np.random.default_rng(6)
    W1 = rng.standard_normal((64, 256)) / 8
    W2 = rng.standard_normal((256, 64)) / 16
    xs = rng.standard_normal((4, 300, 64))  # each example's (300, 256) activations: 600 KiB

    def per_example(W1, W2, x):
        def blk(W1, W2, x):
            h = fnp.tanh(x @ W1)
            r = ft.nn.relu(h @ W2 + 0.05)
            return fnp.sum(fnp.exp(-r) * h[:, :64])
        c = ft.checkpoint(blk, policy=lambda p, *a, **k: p.name in ("tanh", "relu"))
        return c(W1, W2, x)

    def total(W1, W2, xs):
        return fnp.sum(ft.vmap(per_example, in_axes=(None, None, 0))(W1, W2, xs))

    fns = {"eager": ft.grad(total, (0, 1, 2)), "jit": ft.jit(ft.grad(total, (0, 1, 2)))}
    written = _count_in_place(monkeypatch)
    got = {k: fn(W1, W2, xs) for k, fn in fns.items()}
    assert written
    monkeypatch.setattr(reverse, "_INPLACE", False)
    for k, fn in fns.items():
        want = fn(W1, W2, xs)
        for a, b in zip(got[k], want):
            np.testing.assert_array_equal(a, b, err_msg=k)
        for a in got[k]:
            assert not any(np.shares_memory(a, v) for v in (W1, W2, xs))
    # and against the plain (no checkpoint, no vmap) function, to rounding
    def plain(W1, W2, xs):
        h = fnp.tanh(xs @ W1)
        r = ft.nn.relu(h @ W2 + 0.05)
        return fnp.sum(fnp.exp(-r) * h[..., :64])
    for a, b in zip(got["eager"], ft.grad(plain, (0, 1, 2))(W1, W2, xs)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_classifier_training_with_python_class_weights_and_remat(monkeypatch):
    # Softmax regression over a squared-relu feature layer: class weights given as a Python list,
    # a label-smoothing number, keepdims log-softmax; trained in place for a few steps.
    rng = np.random.default_rng(7)
    n, d, k = 1024, 48, 4
    x = rng.standard_normal((n, d))
    labels = rng.integers(0, k, size=n)
    onehot = np.eye(k)[labels]
    params = {"W": rng.standard_normal((d, 96)) / 7, "V": rng.standard_normal((96, k)) / 10}
    class_w = [1.0, 2.0, 0.5, 1.5]

    def loss(p, x, onehot):
        def feat(W, x):
            r = checkpoint_name(ft.nn.relu(x @ W), "r")  # (1024, 96): 768 KiB
            return r * r
        f = ft.checkpoint(feat, policy=cp.save_only_these_names("r"))(p["W"], x)
        logits = f @ p["V"]
        logp = logits - ft.nn.logsumexp(logits, axis=1, keepdims=True)
        target = onehot * 0.9 + 0.1 / 4
        per = -fnp.sum(fnp.multiply(target * logp, class_w), axis=1, keepdims=True)
        return fnp.mean(per)

    written = _count_in_place(monkeypatch)
    losses, final = _train(loss, params, x, onehot, steps=3, lr=0.1)
    assert len(written) >= 3, written  # (r * r's cotangent, once a step)
    monkeypatch.setattr(reverse, "_INPLACE", False)
    ref_losses, ref_final = _train(loss, params, x, onehot, steps=3, lr=0.1)
    assert losses == ref_losses and losses[-1] < losses[0]
    for key in final:
        np.testing.assert_array_equal(final[key], ref_final[key])

    # the gradient against JAX
    jax = _jax()
    jnp = jax.numpy

    def jloss(p, x, onehot):
        f = jax.nn.relu(x @ p["W"]) ** 2
        logits = f @ p["V"]
        logp = logits - jax.nn.logsumexp(logits, axis=1, keepdims=True)
        target = onehot * 0.9 + 0.1 / 4
        return jnp.mean(-jnp.sum(target * logp * jnp.asarray(class_w), axis=1, keepdims=True))
    g = ft.grad(loss)(params, x, onehot)
    jg = jax.grad(jloss)({k_: jnp.asarray(v) for k_, v in params.items()}, jnp.asarray(x),
                         jnp.asarray(onehot))
    close({k_: np.asarray(v) for k_, v in jg.items()}, g, tol=1e-11)


def _block_with_custom_rule(lib, name, relu, remat, policy, logsumexp, custom):
    def blk(W, x):
        h = name(lib.tanh(x @ W), "h")
        s = name(lib.sqrt(h * h + 1.0), "s")
        e = name(lib.exp(-s), "e")
        out = custom(relu(h - 0.2)) + e - logsumexp(h, axis=-1, keepdims=True)
        return lib.sum(out * lib.mean(h, axis=0, keepdims=True))
    return remat(blk, policy=policy)


@pytest.mark.parametrize("policy", ["save_only_these_names", "save_any_names_but_these",
                                    "nothing_saveable", "everything_saveable", "dots_saveable"])
def test_policies_over_kept_outputs_custom_vjp_and_keepdims_match_jax(policy):
    # Chained kept outputs (tanh -> sqrt -> exp), a custom_vjp inside the checkpoint and
    # keepdims reductions of a kept value: JAX's remat with the same policy as reference.
    jax = _jax()
    jnp = jax.numpy
    if policy == "save_only_these_names":
        pol, jpol = (m.save_only_these_names("h", "e")
                     for m in (cp, jax.checkpoint_policies))
    elif policy == "save_any_names_but_these":
        pol, jpol = (m.save_any_names_but_these("s") for m in (cp, jax.checkpoint_policies))
    else:
        pol, jpol = getattr(cp, policy), getattr(jax.checkpoint_policies, policy)

    @ft.custom_vjp
    def sq(r):
        return r * r
    sq.defvjp(lambda r: (r * r, r), lambda r, g: (2 * r * g,))

    @jax.custom_vjp
    def jsq(r):
        return r * r
    jsq.defvjp(lambda r: (r * r, r), lambda r, g: (2 * r * g,))

    f = _block_with_custom_rule(fnp, checkpoint_name, ft.nn.relu, ft.checkpoint, pol,
                                ft.nn.logsumexp, sq)
    jf = _block_with_custom_rule(jnp, _jax_name(), jax.nn.relu, jax.checkpoint, jpol,
                                 jax.nn.logsumexp, jsq)
    rng = np.random.default_rng(8)
    W, x = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((3, 4))
    xs = np.stack([x, -x])
    close([np.asarray(v) for v in jax.grad(jf, (0, 1))(W, x)], list(ft.grad(f, (0, 1))(W, x)))
    close(np.asarray(jax.vmap(jax.grad(jf), in_axes=(None, 0))(W, xs)),
          ft.jit(ft.vmap(ft.grad(f), in_axes=(None, 0)))(W, xs))
    close([np.asarray(v) for v in jax.jacrev(jax.grad(jf))(W, x)],
          list(ft.jacrev(ft.grad(f))(W, x)))


def _scored_log_softmax(lib, logsumexp, W, x):
    # The bias and class scores as Python lists (constants under the transforms)
    logits = x @ W + lib.asarray([0.1, -0.2, 0.3])
    lp = logits - logsumexp(logits, axis=1, keepdims=True)
    m = lib.max(lp, axis=0, keepdims=True)
    return lib.sum(lib.exp(lp - m) * lib.asarray([[1.0, 2.0, 0.5]])) + lib.sum(W * W) * 0.5


def test_keepdims_log_softmax_with_list_constants_hessian_on_backends(backend):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(9)
    W, xs = rng.standard_normal((4, 3)), rng.standard_normal((2, 5, 4))

    def jf(W, x):
        return _scored_log_softmax(jnp, jax.nn.logsumexp, W, x)
    jg = np.asarray(jax.vmap(jax.grad(jf), in_axes=(None, 0))(W, xs))
    jh = np.asarray(jax.vmap(jax.hessian(jf), in_axes=(None, 0))(W, xs))

    def f(W, x):
        return _scored_log_softmax(fnp, ft.nn.logsumexp, W, x)
    Wb, xb = backend.asarray(W), backend.asarray(xs)
    for fn, ref in ((ft.jit(ft.vmap(ft.grad(f), in_axes=(None, 0))), jg),
                    (ft.jit(ft.vmap(ft.hessian(f), in_axes=(None, 0))), jh),
                    (ft.vmap(ft.jacfwd(ft.grad(f)), in_axes=(None, 0)), jh)):
        out = fn(Wb, xb)
        assert backend.is_own(out)
        close(ref, backend.to_numpy(out))


def _rnn_loss(lib, scan, remat, relu, name, policy):
    def cell(p, h, x):
        a = name(lib.tanh(h @ p["U"] + x @ p["V"]), "a")
        return h * 0.5 + relu(a) * 0.5

    def loss(p, xs, target):
        body = remat(lambda h, x: (cell(p, h, x), lib.sum(h * h)), policy=policy,
                     prevent_cse=False)
        h, norms = scan(body, lib.zeros_like(target), xs)
        return lib.mean((h - target) ** 2) + 1e-4 * lib.sum(norms)
    return loss


def test_remat_scan_rnn_training_in_place_matches_jax_and_plain_pass(monkeypatch):
    # A recurrent net over 4 steps, its (512, 128) carry (512 KiB) through a remat'd scan
    # body keeping the tanh output; SGD in place; the losses along the way as JAX's, and the
    # parameters as with the in-place pass off, to the bit.
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(10)
    params = {"U": rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
              "V": rng.standard_normal((D_IN, HIDDEN)) / np.sqrt(D_IN)}
    xs = rng.standard_normal((4, BATCH, D_IN))
    target = rng.standard_normal((BATCH, HIDDEN)) * 0.3
    loss = _rnn_loss(fnp, ft.lax.scan, ft.checkpoint, ft.nn.relu, checkpoint_name,
                     cp.save_only_these_names("a"))
    written = _count_in_place(monkeypatch)
    losses, final = _train(loss, params, xs, target, steps=3, lr=0.5)
    assert written and losses[-1] < losses[0]
    monkeypatch.setattr(reverse, "_INPLACE", False)
    ref_losses, ref_final = _train(loss, params, xs, target, steps=3, lr=0.5)
    assert losses == ref_losses
    for k in final:
        np.testing.assert_array_equal(final[k], ref_final[k])

    jloss = _rnn_loss(jnp, jax.lax.scan, jax.checkpoint, jax.nn.relu, _jax_name(),
                      jax.checkpoint_policies.save_only_these_names("a"))
    jvg = jax.value_and_grad(jloss)
    jp = {k: jnp.asarray(v) for k, v in params.items()}
    for want in losses:
        val, g = jvg(jp, xs, target)
        np.testing.assert_allclose(float(val), want, rtol=1e-12)
        jp = {k: jp[k] - 0.5 * g[k] for k in jp}
    close({k: np.asarray(v) for k, v in jp.items()}, final, tol=1e-11)


# -- found while writing these programs ------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda x, ax: fnp.argmax(x, axis=ax),
    lambda x, ax: fnp.argsort(x, axis=ax),
    lambda x, ax: fnp.cumsum(x, axis=ax),
    lambda x, ax: fnp.diff(x, axis=ax),
    lambda x, ax: fnp.stack([x, x], axis=ax),
    lambda x, ax: fnp.take_along_axis(x, np.zeros((2, 3), dtype=np.int64), axis=ax),
])
def test_one_axis_functions_name_a_bad_axis(call):
    # A tuple or float where one axis is taken raised "'<=' not supported between instances
    # of 'int' and 'tuple'" (or about tuple indices): say what axis must be.
    x = np.arange(6.0).reshape(2, 3)
    for bad in ((0, 1), 1.0):
        with pytest.raises(TypeError, match="axis must be one integer"):
            call(x, bad)
    np.testing.assert_array_equal(call(x, np.int64(1)), call(x, 1))  # NumPy's integers do


def test_moveaxis_takes_numpy_integers():
    # np.int64 axes (what an index computed with NumPy is) raised "'numpy.int64' object is
    # not iterable"; NumPy takes them.
    x = np.arange(24.0).reshape(2, 3, 4)
    for src, dst in ((np.int64(2), 0), (1, np.intp(-1)), (np.array(0), np.int32(1)),
                     ([np.int64(0), 2], (1, np.int64(0)))):
        np.testing.assert_array_equal(fnp.moveaxis(x, src, dst), np.moveaxis(x, src, dst))
    g = ft.grad(lambda x: fnp.sum(fnp.moveaxis(x, np.int64(2), 0)[0] ** 2))(x)
    np.testing.assert_array_equal(g, np.where(np.arange(4) == 0, 2 * x, 0.0))


@pytest.mark.parametrize("make", [np.array, fnp.array, fnp.asarray])
def test_in_place_pass_takes_arrays_made_by_functrans_numpy(monkeypatch, make):
    # What a creation function makes (fnp.zeros_like, fnp.array: an AtArray, NumPy's array
    # with .at) and all computed from it is an ndarray subclass, and NumPy wraps a ufunc's
    # result on one as a view; the pass took only plain arrays owning their memory, so such
    # a program wrote nothing in place. The caller's arrays stay untouched all the same
    # (fnp.asarray: a view of the caller's data).
    rng = np.random.default_rng(11)
    U = rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN)
    data = rng.standard_normal((BATCH, HIDDEN))  # (512, 128)
    w = make(data)
    w_before = data.copy()

    def f(U, w):
        h = fnp.zeros_like(w) + 0.1
        for _ in range(3):
            h = fnp.tanh(h @ U + w) * h
        return fnp.sum(h * w)

    written = _count_in_place(monkeypatch)
    got = ft.grad(f, (0, 1))(U, w)
    assert written
    monkeypatch.setattr(reverse, "_INPLACE", False)
    want = ft.grad(f, (0, 1))(U, w)
    for a, b in zip(got, want):
        assert type(a) is type(b)
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, w) and not np.shares_memory(a, U)
    np.testing.assert_array_equal(w, w_before)
    np.testing.assert_array_equal(data, w_before)


def test_in_place_product_into_an_atarray_view_only_when_its_base_is_unshared():
    from functrans.backends.numpy_backend import AtArray
    n = 256 * 1024 // 8

    def data(x):
        return x.__array_interface__["data"][0]

    b = np.full(n, 2.0)
    terms = [np.full(n, 1.0).view(AtArray), b]  # a wrapped result nothing else holds
    at = data(terms[0])
    r = reverse._product(terms, ())
    assert data(r) == at and r[0] == 2.0 and b[0] == 2.0
    held = np.full(n, 1.0)  # the base held here too
    r = reverse._product([held.view(AtArray), b], ())
    assert held[0] == 1.0 and data(r) != data(held) and r[0] == 2.0
    base = np.full(n, 1.0)
    other = base.view(AtArray)  # two views of one base: neither is written
    v = base.view(AtArray)
    del base
    r = reverse._product([v, b], ())
    del v
    assert other[0] == 1.0 and r[0] == 2.0
    ro = np.full(n, 1.0)
    ro.flags.writeable = False
    terms = [ro.view(AtArray), b]
    del ro
    assert reverse._product(terms, ())[0] == 2.0  # (a read-only base: a new array)
    terms = [np.full(n, 1.0).view(AtArray), b]
    at, borrowed = data(terms[0]), {id(terms[0])}  # passed on as a cotangent: borrowed
    assert data(reverse._product(terms, borrowed)) != at
