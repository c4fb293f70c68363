"""Per-example gradients (``vmap(grad(loss))``, torch.func's and JAX's signature use of
batching) against the peers: ``python -m benchmarks.per_example [--quick]``.

An MLP 784-128-10 (tanh, softmax cross-entropy), batch 64, float64: the gradient of each
example's loss in every parameter, a (64, ...) stack per parameter. Rows:

- numpy-manual: hand-written batched backprop (per-example outer products with einsum) —
  what the transforms must approach;
- functrans: ``vmap(grad(loss), in_axes=(None, 0, 0))`` eager and under ``jit``, and the
  naive Python loop of ``grad`` over the examples;
- autograd: the loop (autograd has no vmap);
- JAX: ``vmap(grad)`` eager and ``jit(vmap(grad))``; torch.func: ``vmap(grad)`` (CPU).

Each time is the median of several calls after a warm-up; printed in ms and as a ratio to
numpy-manual measured in the same run. BLAS and the peers' thread pools are pinned to one
thread (benchmarks.workloads), as in the main suite.
"""

from __future__ import annotations

import argparse

import numpy as np

from . import workloads
from .control_flow import median_seconds

BATCH, N_IN, N_HID, N_OUT = 64, 784, 128, 10


def data():
    rng = np.random.default_rng(workloads.SEED)
    params = {"W1": rng.normal(0, 1 / np.sqrt(N_IN), (N_IN, N_HID)), "b1": np.zeros(N_HID),
              "W2": rng.normal(0, 1 / np.sqrt(N_HID), (N_HID, N_OUT)), "b2": np.zeros(N_OUT)}
    X = rng.normal(size=(BATCH, N_IN))
    Y = np.eye(N_OUT)[rng.integers(0, N_OUT, BATCH)]
    return params, X, Y


def loss(xp, params, x, y):
    """One example's loss: x (784,), y one-hot (10,)."""
    h = xp.tanh(xp.matmul(x, params["W1"]) + params["b1"])
    logits = xp.matmul(h, params["W2"]) + params["b2"]
    m = xp.max(logits)
    return xp.log(xp.sum(xp.exp(logits - m))) + m - xp.sum(y * logits)


def manual(params, X, Y):
    """Per-example gradients by hand: the batched backprop keeps the batch axis apart."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    d_logits = e / e.sum(axis=1, keepdims=True) - Y
    d_z = (d_logits @ params["W2"].T) * (1.0 - h * h)
    return {"W1": np.einsum("bi,bj->bij", X, d_z), "b1": d_z,
            "W2": np.einsum("bi,bj->bij", h, d_logits), "b2": d_logits}


def cases():
    import functrans as ft
    import functrans.numpy as fnp

    params, X, Y = data()

    def f_loss(p, x, y):
        return loss(fnp, p, x, y)

    per_example = ft.vmap(ft.grad(f_loss), in_axes=(None, 0, 0))
    jitted = ft.jit(per_example)
    single = ft.grad(f_loss)

    def loop():
        gs = [single(params, X[i], Y[i]) for i in range(BATCH)]
        return {k: np.stack([g[k] for g in gs]) for k in params}

    out = {
        "numpy-manual": lambda: manual(params, X, Y),
        "functrans vmap(grad)": lambda: per_example(params, X, Y),
        "functrans jit(vmap(grad))": lambda: jitted(params, X, Y),
        "functrans loop of grad": loop,
    }
    try:
        import autograd
        import autograd.numpy as anp
        a_grad = autograd.grad(lambda p, x, y: loss(anp, p, x, y))

        def a_loop():
            gs = [a_grad(params, X[i], Y[i]) for i in range(BATCH)]
            return {k: np.stack([g[k] for g in gs]) for k in params}
        out["autograd loop of grad"] = a_loop
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        jp, jX, jY = ({k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(X),
                      jnp.asarray(Y))
        j_eager = jax.vmap(jax.grad(lambda p, x, y: loss(jnp, p, x, y)), in_axes=(None, 0, 0))
        j_jit = jax.jit(j_eager)
        out["JAX vmap(grad)"] = lambda: jax.block_until_ready(j_eager(jp, jX, jY))
        out["JAX jit(vmap(grad))"] = lambda: jax.block_until_ready(j_jit(jp, jX, jY))
    except ImportError:
        pass
    try:
        import torch
        from torch.func import grad as t_grad, vmap as t_vmap
        tp = {k: torch.from_numpy(v) for k, v in params.items()}
        tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

        def t_loss(p, x, y):
            h = torch.tanh(x @ p["W1"] + p["b1"])
            logits = h @ p["W2"] + p["b2"]
            return torch.logsumexp(logits, 0) - torch.sum(y * logits)
        t_fn = t_vmap(t_grad(t_loss), in_dims=(None, 0, 0))
        out["torch.func vmap(grad)"] = lambda: t_fn(tp, tX, tY)
    except ImportError:
        pass
    return out, manual(params, X, Y)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.per_example", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    args = p.parse_args(argv)
    repeat, number = (3, 3) if args.quick else (7, 5)
    systems, ref = cases()
    print(f"per-example gradients, MLP {N_IN}-{N_HID}-{N_OUT}, batch {BATCH}, float64")
    print(f"  {'system':30s} {'ms':>9s} {'× numpy-manual':>15s}")
    base = None
    for label, fn in systems.items():
        got = fn()
        wrong = [k for k in ref if not np.allclose(np.asarray(got[k]), ref[k], rtol=1e-8,
                                                   atol=1e-12)]
        if wrong:
            print(f"  {label:30s}   WRONG RESULT ({', '.join(wrong)})")
            continue
        n = 1 if "loop" in label or label == "JAX vmap(grad)" else number
        t = median_seconds(fn, repeat, n)
        base = t if base is None else base
        print(f"  {label:30s} {t * 1e3:9.2f} {t / base:15.2f}")


if __name__ == "__main__":
    main()
