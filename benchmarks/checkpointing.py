"""Rematerialisation (``functrans.checkpoint``): memory saved, and the per-call cost of
planning. ``python -m benchmarks.checkpointing [--quick] [--only memory|overhead]``.

memory: the gradient of a deep tanh MLP (``h <- tanh(h @ W + b)``, float64) with every
parameter differentiated, plain and with its layers grouped into checkpointed blocks, under
several policies. Reported: the peak of the memory NumPy allocates while ``grad`` runs
(``tracemalloc``, which NumPy reports its array buffers to; the parameters and the input,
allocated before, are not counted), and the CPU time of one gradient (median of a few
calls, interleaved across the variants, tracemalloc off). Every gradient is checked against the plain one.

overhead: the time of ``grad`` of a small and a medium checkpointed MLP with a policy,
with the plans cached (``functrans.checkpointing.CACHE_SIZE`` = 128, the default) and
without (0: staged and planned at every call), the two interleaved in one process, medians
of the process's CPU time (on a shared machine, less disturbed by other processes than the
wall clock).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

from . import workloads  # noqa: F401  (pins BLAS threads first)


def mlp_data(width, depth, batch, seed=0):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((width, width)) / np.sqrt(width),
               rng.standard_normal(width) * 0.1) for _ in range(depth)]
    return params, rng.standard_normal((batch, width))


def mlp_loss(per_block, checkpoint_block=None):
    """The loss of the MLP, its layers grouped ``per_block`` to a block, each block wrapped
    by ``checkpoint_block`` (a function from block to block) if given."""
    import functrans.numpy as fnp

    def block(ps, h):
        for W, b in ps:
            h = fnp.tanh(fnp.matmul(h, W) + b)
        return h
    blk = block if checkpoint_block is None else checkpoint_block(block)

    def loss(params, x):
        h = x
        for i in range(0, len(params), per_block):
            h = blk(params[i:i + per_block], h)
        return fnp.sum(h * h)
    return loss


def peak_bytes(fn):
    """(result, the peak of the memory traced while ``fn`` ran above what it started at)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return out, peak - base


def memory(width=128, depth=32, batch=1024, repeat=9):
    import functrans as ft
    P = ft.checkpoint_policies
    params, x = mlp_data(width, depth, batch)
    act = batch * width * 8 / 1e6
    grads = depth * (width + 1) * width * 8 / 1e6
    print(f"\ngrad of a tanh MLP, {depth} layers of {width}, batch {batch}, float64 (one "
          f"activation: {act:.2f} MB; the gradient itself, counted in every peak: "
          f"{grads:.1f} MB)")
    print(f"  {'variant':44s} {'peak MB':>8s} {'÷ plain':>8s} {'ms':>8s} {'× plain':>8s}")
    save_h = P.save_only_these_names("h")

    def named(block):  # the block with each layer's output named "h"
        import functrans.numpy as fnp
        from functrans.ad_checkpoint import checkpoint_name

        def blk(ps, h):
            for W, b in ps:
                h = checkpoint_name(fnp.tanh(fnp.matmul(h, W) + b), "h")
            return h
        return blk
    variants = [("plain", 1, None)]
    for k in (1, 4, 8):
        variants.append((f"checkpoint, {k} layer{'s' * (k > 1)} a block", k,
                         lambda blk: ft.checkpoint(blk)))
    variants += [
        ("checkpoint 8, dots_saveable", 8, lambda blk: ft.checkpoint(blk, policy=P.dots_saveable)),
        ('checkpoint 8, save_only_these_names("h")', 8,
         lambda blk: ft.checkpoint(named(blk), policy=save_h)),
        ("checkpoint 8, everything_saveable", 8,
         lambda blk: ft.checkpoint(blk, policy=P.everything_saveable)),
    ]
    grads_fns, peaks, ref = [], [], None
    for name, k, wrap in variants:
        g = ft.grad(mlp_loss(k, wrap))
        g(params, x)  # (first call: staging, plans)
        out, peak = peak_bytes(lambda: g(params, x))
        if ref is None:
            ref = out
        for (a, b), (c, d) in zip(out, ref):
            if not (np.allclose(a, c, rtol=1e-10, atol=1e-13)
                    and np.allclose(b, d, rtol=1e-10, atol=1e-13)):
                raise AssertionError(f"{name}: the gradient differs from the plain one")
        grads_fns.append(g)
        peaks.append(peak)
    times = [[] for _ in variants]  # (interleaved: the machine's load drifts)
    for _ in range(repeat):
        for g, ts in zip(grads_fns, times):
            t0 = time.process_time()
            g(params, x)
            ts.append(time.process_time() - t0)
    times = [statistics.median(ts) for ts in times]
    for (name, _, _), peak, t in zip(variants, peaks, times):
        print(f"  {name:44s} {peak / 1e6:8.1f} {peaks[0] / peak:8.2f} {t * 1e3:8.1f} "
              f"{t / times[0]:8.2f}")


def overhead(rounds=15, number=20):
    import functrans as ft
    from functrans import checkpointing
    P = ft.checkpoint_policies
    print("\nper-call cost of a checkpointed block under grad, plans cached or not "
          f"(CPU time, medians of {rounds} interleaved rounds of {number} calls)")
    print(f"  {'case (µs per call of a checkpointed block)':60s} {'uncached':>9s} {'cached':>9s} "
          f"{'saved':>9s}")
    cases = [("small: 8 x (16 wide, batch 8), 1 layer/block", 16, 8, 8, 1),
             ("medium: 16 x (128 wide, batch 32), 4/block", 128, 16, 32, 4)]
    old = checkpointing.CACHE_SIZE
    try:
        for label, width, depth, batch, k in cases:
            params, x = mlp_data(width, depth, batch)
            for pname, pol in (("dots_saveable", P.dots_saveable),
                               ("save tanh", lambda prim, *a, **kw: prim.name == "tanh")):
                g = ft.grad(mlp_loss(k, lambda blk: ft.checkpoint(blk, policy=pol)))
                calls = depth // k
                a, b = [], []
                for size in (0, 128):
                    checkpointing.CACHE_SIZE = size
                    g(params, x)
                for r in range(rounds):
                    for size, out in (((0, a), (128, b)) if r % 2 else ((128, b), (0, a))):
                        checkpointing.CACHE_SIZE = size
                        t0 = time.process_time()
                        for _ in range(number):
                            g(params, x)
                        out.append((time.process_time() - t0) / number / calls)
                ma, mb = statistics.median(a), statistics.median(b)
                print(f"  {label + ', ' + pname:60s} {ma * 1e6:9.1f} {mb * 1e6:9.1f} "
                      f"{(ma - mb) * 1e6:9.1f}  ({(ma - mb) / ma * 100:.0f}%)")
    finally:
        checkpointing.CACHE_SIZE = old


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.checkpointing", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller network, fewer repeats")
    p.add_argument("--only", choices=("memory", "overhead"))
    args = p.parse_args(argv)
    if args.only != "overhead":
        if args.quick:
            memory(width=64, depth=16, batch=64, repeat=3)
        else:
            memory()
    if args.only != "memory":
        overhead(rounds=5 if args.quick else 15, number=5 if args.quick else 20)


if __name__ == "__main__":
    main()
