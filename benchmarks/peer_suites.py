"""The peers' own benchmark suites, run on functrans and on the peers side by side:
``python -m benchmarks.peer_suites [--quick] [--only autograd,jax]``.

The cases restate (in our own code) what autograd's and JAX's benchmark suites measure, with
their sizes, so that "faster than autograd / eager JAX" is checked on the workloads those
projects chose to watch, not only on ours:

- autograd's asv suite (``benchmarks/bench_core.py``, ``bench_numpy_vjps.py``,
  ``bench_rnn.py`` in its repository): ``grad`` of a short function (``x**2``), of a long one
  (50 nested ``sin``) and of the "Pearlmutter test" (10^4 steps of ``x = (x + x) / 2``), all
  at the Python float 2.0; vector-Jacobian products of ``dot`` and ``tensordot`` (4-d
  operands) and the VJPs of those VJPs with respect to each of their three inputs; ``grad``
  of a vanilla RNN (float32, batch 16, width 1024, 50 steps) beside backprop written by hand.
- JAX's ``benchmarks/api_benchmark.py``: eager dispatch of a unary and a binary operation on
  a 0-d integer array, ``jit`` of a trivial function (a swap) and of an addition, ``jit`` of
  a 2x2 and a 100x100 float32 matrix product, and the "remat eager retracing" case: ``vjp``
  of ``sin`` composed 2^7 times with a ``checkpoint`` around the inner 2^6.

Each cell is the median over several rounds of a batch of calls (after a warm-up), in
microseconds; systems are measured interleaved within a round. Results are checked against
functrans' before timing (a peer that disagrees is reported, not timed). Threads are pinned
to one, as in the main suite.
"""

from __future__ import annotations

import argparse
import operator
import statistics
import time

from . import workloads  # noqa: F401  (the package import pins BLAS threads first)

import numpy as np

SYSTEMS = ("numpy", "functrans", "functrans-jit", "autograd", "jax", "jax-jit", "torch.func")


def _load():
    """The peers that import here: name -> module (or None)."""
    mods = {}
    try:
        import autograd
        import autograd.numpy as anp
        mods["autograd"] = (autograd, anp)
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        mods["jax"] = (jax, jnp)
    except ImportError:
        pass
    try:
        import torch
        import torch.func
        torch.set_num_threads(1)
        mods["torch"] = (torch, torch.func)
    except ImportError:
        pass
    return mods


# -- autograd's suite -------------------------------------------------------------------------


def _short(xp, x):
    return x ** 2


def _long(xp, x):
    for _ in range(50):
        x = xp.sin(x)
    return x


def _fan(xp, x):
    for _ in range(10_000):
        x = (x + x) / 2.0
    return xp.sum(x)


def autograd_suite(mods):
    import functrans as ft
    import functrans.numpy as fnp
    cases = []
    for name, fn, n in (("short: grad of x**2", _short, 2000),
                        ("long: grad of 50 nested sin", _long, 100),
                        ("Pearlmutter: grad of 10^4 (x+x)/2", _fan, 1)):
        row = {"functrans": (lambda fn=fn: ft.grad(lambda x: fn(fnp, x))(2.0))}
        if "autograd" in mods:
            ag, anp = mods["autograd"]
            row["autograd"] = lambda fn=fn: ag.grad(lambda x: fn(anp, x))(2.0)
        if "jax" in mods:
            jax, jnp = mods["jax"]
            row["jax"] = lambda fn=fn: jax.grad(lambda x: fn(jnp, x))(2.0)
        if "torch" in mods:
            torch, tf = mods["torch"]
            t2 = torch.tensor(2.0, dtype=torch.float64)
            row["torch.func"] = lambda fn=fn: tf.grad(lambda x: fn(torch, x))(t2)
        cases.append((f"autograd {name}", row, n, None))

    rng = np.random.default_rng(workloads.SEED)
    for op, shapes, extra in (
            ("dot", ((2, 3, 4, 5), (2, 3, 5, 4), (2, 3, 4, 2, 3, 4)), ()),
            ("tensordot", ((2, 3, 5, 4), (5, 4, 2, 3), (2, 3, 2, 3)), (2,))):
        a, b, g = (rng.standard_normal(s) for s in shapes)
        for argnum in (0, 1):
            cases.append((f"autograd {op} vjp wrt {'ab'[argnum]}",
                          _vjp_row(mods, op, extra, argnum, None, a, b, g), 200, None))
            for second in (0, 1, 2):
                cases.append((f"autograd {op} vjp wrt {'ab'[argnum]}, then wrt "
                              f"{'abg'[second]}",
                              _vjp_row(mods, op, extra, argnum, second, a, b, g), 100, None))
    cases.append(_rnn_case(mods))
    return cases


def _vjp_row(mods, op, extra, argnum, second, a, b, g):
    """The VJP of ``op(a, b, *extra)`` in operand ``argnum`` applied to ``g`` and, with
    ``second``, the VJP of that (as a function of a, b, g) in input ``second``, applied to
    the operand itself (as autograd's suite does)."""
    import functrans as ft
    import functrans.numpy as fnp

    def make(vjp, ns):
        f = getattr(ns, op)

        def first(a, b, g):
            if argnum == 0:
                _, pull = vjp(lambda a: f(a, b, *extra), a)
            else:
                _, pull = vjp(lambda b: f(a, b, *extra), b)
            out = pull(g)
            return out[0] if isinstance(out, tuple) else out
        if second is None:
            return lambda: first(a, b, g)
        ct = (a, b)[argnum]

        def twice():
            args = [a, b, g]

            def h(v):
                args2 = list(args)
                args2[second] = v
                return first(*args2)
            _, pull = vjp(h, args[second])
            out = pull(ct)
            return out[0] if isinstance(out, tuple) else out
        return twice

    row = {"functrans": make(ft.vjp, fnp)}
    if "autograd" in mods:
        ag, anp = mods["autograd"]

        def ag_vjp(f, x):
            pull, out = ag.make_vjp(f)(x)
            return out, pull
        row["autograd"] = make(ag_vjp, anp)
    if "jax" in mods:
        jax, jnp = mods["jax"]
        row["jax"] = make(jax.vjp, jnp)
    return row


RNN_BATCH, RNN_WIDTH, RNN_STEPS = 16, 1024, 50


def rnn_loss(xp, params, x, label):
    W, b, W_out, b_out = params
    h = x
    for _ in range(RNN_STEPS):
        h = xp.tanh(xp.matmul(h, W) + b)
    logit = xp.matmul(h, W_out) + b_out
    # the negative log-likelihood of the labels under sigmoid(logit)
    return -xp.sum(label * logit - (logit + xp.log(1.0 + xp.exp(-logit))))


def rnn_grad_manual(params, x, label):
    """Backprop through the RNN by hand: keep each step's output, walk them backwards."""
    W, b, W_out, b_out = params
    hs = [x]
    for _ in range(RNN_STEPS):
        hs.append(np.tanh(hs[-1] @ W + b))
    logit = hs[-1] @ W_out + b_out
    # d/dlogit of -(y logit - logit - log(1 + e^-logit)) = 1 - y - e^-logit / (1 + e^-logit)
    e = np.exp(-logit)
    d_logit = 1.0 - label - e / (1.0 + e)
    g_W_out, g_b_out = hs[-1].T @ d_logit, d_logit.sum(axis=0)
    d_h = d_logit @ W_out.T
    g_W, g_b = np.zeros_like(W), np.zeros_like(b)
    for t in range(RNN_STEPS, 0, -1):
        d_z = d_h * (1.0 - hs[t] * hs[t])
        g_W += hs[t - 1].T @ d_z
        g_b += d_z.sum(axis=0)
        d_h = d_z @ W.T
    return g_W, g_b, g_W_out, g_b_out


def _rnn_case(mods):
    import functrans as ft
    import functrans.numpy as fnp
    rng = np.random.default_rng(workloads.SEED)
    f32 = np.float32
    x = (0.01 * rng.standard_normal((RNN_BATCH, RNN_WIDTH))).astype(f32)
    params = tuple((0.01 * rng.standard_normal(s)).astype(f32)
                   for s in ((RNN_WIDTH, RNN_WIDTH), (RNN_WIDTH,), (RNN_WIDTH, 1), (1,)))
    label = (rng.uniform(size=(RNN_BATCH, 1)) > 0.5).astype(f32)
    row = {"numpy": lambda: rnn_grad_manual(params, x, label),
           "functrans": (lambda g=ft.grad(lambda p: rnn_loss(fnp, p, x, label)): g(params))}
    jitted = ft.jit(ft.grad(lambda p, x, label: rnn_loss(fnp, p, x, label)))
    row["functrans-jit"] = lambda: jitted(params, x, label)
    if "autograd" in mods:
        ag, anp = mods["autograd"]
        g = ag.grad(lambda p: rnn_loss(anp, p, x, label))
        row["autograd"] = lambda: g(params)
    if "jax" in mods:
        jax, jnp = mods["jax"]
        jp, jx, jl = tuple(map(jnp.asarray, params)), jnp.asarray(x), jnp.asarray(label)
        jg = jax.grad(lambda p: rnn_loss(jnp, p, jx, jl))
        jj = jax.jit(jax.grad(lambda p, x, label: rnn_loss(jnp, p, x, label)))
        row["jax"] = lambda: jax.block_until_ready(jg(jp))
        row["jax-jit"] = lambda: jax.block_until_ready(jj(jp, jx, jl))
    if "torch" in mods:
        torch, tf = mods["torch"]
        tp, tx, tl = tuple(map(torch.from_numpy, params)), torch.from_numpy(x), \
            torch.from_numpy(label)
        tg = tf.grad(lambda p: rnn_loss(torch, p, tx, tl))
        row["torch.func"] = lambda: tg(tp)
    return ("autograd RNN grad (float32, 16x1024, 50 steps; numpy: by hand)", row, 3, 2e-3)


# -- JAX's api_benchmark ----------------------------------------------------------------------


def _swap(a, b):
    return b, a


def _composed_sin(ns, checkpoint):
    def twice(f):
        return lambda x: f(f(x))
    f = ns.sin
    for _ in range(6):
        f = twice(f)
    return twice(checkpoint(f))


def jax_suite(mods):
    import functrans as ft
    import functrans.numpy as fnp
    cases = []
    one, two = np.asarray(1), np.asarray(2)
    rows = [
        ("eager unary dispatch (neg of a 0-d int)", 20_000,
         {"numpy": lambda: np.negative(one), "functrans": lambda: fnp.negative(one)},
         lambda jax, jnp, a, b: (lambda: jax.lax.neg(a))),
        ("eager binary dispatch (add of 0-d ints)", 20_000,
         {"numpy": lambda: np.add(one, two), "functrans": lambda: fnp.add(one, two)},
         lambda jax, jnp, a, b: (lambda: jax.lax.add(a, b))),
    ]
    for name, n, row, jax_make in rows:
        if "jax" in mods:
            jax, jnp = mods["jax"]
            a, b = jax.device_put(1), jax.device_put(2)
            row["jax"] = jax_make(jax, jnp, a, b)
        cases.append((f"JAX {name}", row, n, None))

    f_swap, f_add = ft.jit(_swap), ft.jit(operator.add)
    row_swap = {"functrans-jit": lambda: f_swap(one, two)}
    row_add = {"functrans-jit": lambda: f_add(one, two)}
    rng = np.random.default_rng(workloads.SEED)
    small = rng.uniform(size=(2, 2)).astype(np.float32)
    big = rng.uniform(size=(100, 100)).astype(np.float32)
    f_dot = ft.jit(lambda x: fnp.matmul(x, x))
    row_small = {"numpy": lambda: small @ small, "functrans-jit": lambda: f_dot(small)}
    row_big = {"numpy": lambda: big @ big, "functrans-jit": lambda: f_dot(big)}
    comp = _composed_sin(fnp, ft.checkpoint)

    def ft_remat():
        y, _ = ft.vjp(comp, 3.0)
        return y
    row_remat = {"functrans": ft_remat}
    if "jax" in mods:
        jax, jnp = mods["jax"]
        a, b = jax.device_put(1), jax.device_put(2)
        j_swap, j_add = jax.jit(_swap), jax.jit(operator.add)
        row_swap["jax-jit"] = lambda: jax.block_until_ready(j_swap(a, b))
        row_add["jax-jit"] = lambda: j_add(a, b).block_until_ready()
        j_dot = jax.jit(lambda x: jnp.dot(x, x))
        js, jb = jax.device_put(small), jax.device_put(big)
        row_small["jax-jit"] = lambda: j_dot(js).block_until_ready()
        row_big["jax-jit"] = lambda: j_dot(jb).block_until_ready()
        j_comp = _composed_sin(jnp, jax.checkpoint)

        def j_remat():
            y, _ = jax.vjp(j_comp, 3.0)
            return y.block_until_ready()
        row_remat["jax"] = j_remat
    cases += [("JAX jit trivial (swap two 0-d ints)", row_swap, 5000, None),
              ("JAX jit simple (add two 0-d ints)", row_add, 5000, None),
              ("JAX jit small matmul (2x2 float32)", row_small, 5000, 1e-5),
              ("JAX jit big matmul (100x100 float32)", row_big, 200, 1e-4),
              ("JAX remat eager retracing (vjp of 2^7 sin, checkpointed)", row_remat, 20,
               None)]
    return cases


# -- running ----------------------------------------------------------------------------------


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [v for o in out for v in _leaves(o)]
    if isinstance(out, dict):
        return [v for k in sorted(out) for v in _leaves(out[k])]
    return [np.asarray(out.detach() if hasattr(out, "detach") else out, dtype=np.float64)]


def _agrees(out, ref, rtol):
    a, b = _leaves(out), _leaves(ref)
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=rtol,
                                                                        atol=rtol * 1e-3)
                                    for x, y in zip(a, b))


def run(cases, rounds, scale):
    """Median seconds per call of each system of each case: {case: {system: s or str}}."""
    results = {}
    for name, row, n, rtol in cases:
        n = max(1, int(n * scale))
        ref_key = "functrans" if "functrans" in row else "functrans-jit"
        ref = row[ref_key]()
        got, times = {}, {}
        for system, fn in row.items():
            out = fn()  # warm-up (stages/compiles where the system does)
            if system != ref_key and not _agrees(out, ref, rtol or 1e-9):
                got[system] = "WRONG RESULT"
                continue
            times[system] = []
        for _ in range(rounds):
            for system in times:
                fn = row[system]
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                times[system].append((time.perf_counter() - t0) / n)
        for system, ts in times.items():
            got[system] = statistics.median(ts)
        results[name] = got
    return results


def _fmt(seconds):
    us = seconds * 1e6
    return f"{us:,.3g} µs" if us < 1000 else f"{us / 1000:,.3g} ms"


def table(results):
    lines = ["| case | " + " | ".join(SYSTEMS) + " |",
             "|:--|" + "--:|" * len(SYSTEMS)]
    for name, got in results.items():
        cells = []
        for s in SYSTEMS:
            # jitted peers against functrans-jit where both ran, the rest against eager
            base = got.get("functrans-jit") if s.endswith("jit") else None
            base = base if base is not None else got.get("functrans", got.get("functrans-jit"))
            v = got.get(s)
            if v is None:
                cells.append("")
            elif isinstance(v, str):
                cells.append(v)
            else:
                rel = "" if s.startswith("functrans") or not isinstance(base, float) \
                    else f" ({v / base:.2g}×)"
                cells.append(_fmt(v) + rel)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.peer_suites", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 rounds of fewer calls")
    p.add_argument("--only", default="autograd,jax",
                   help="comma-separated suites: autograd, jax (default both)")
    args = p.parse_args(argv)
    rounds, scale = (3, 0.2) if args.quick else (7, 1.0)
    mods = _load()
    cases = []
    suites = {s.strip() for s in args.only.split(",")}
    if "autograd" in suites:
        cases += autograd_suite(mods)
    if "jax" in suites:
        cases += jax_suite(mods)
    results = run(cases, rounds, scale)
    print("Medians per call; in brackets the time over functrans' (eager, or jit where only "
          "jit is timed).\n")
    print(table(results))


if __name__ == "__main__":
    main()
