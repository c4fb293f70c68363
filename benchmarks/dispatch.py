"""Per-primitive overhead of functrans: ``python -m benchmarks.dispatch [--quick] [--rounds N]``.

1. Dispatch: ``fnp.sin(x)`` on a plain NumPy 8-element float64 array (no transform active)
   against ``np.sin(x)``, and the same for exp, log, tanh, add, multiply (two arrays) and
   multiply by a Python float; the difference is what functrans.numpy adds to every operation
   (target ≤0.3 µs).
2. A 1,000-primitive chain (the W1 workload) on raw NumPy, through functrans.numpy with no
   transform, and under ``ft.grad`` (and autograd's, where installed): total time and the cost
   per primitive.

The machine may be shared, and NumPy's own call varies by more than the overhead from one
measurement to the next, so each round times NumPy, then functrans, then NumPy again, each a
block of calls, and takes functrans's block less the mean of the two NumPy blocks around it
(drift within a round cancels); the overhead printed is the median of those per-round
differences. Times are CPU time (``time.process_time``: a block during which the process waits
for a core is not charged for the wait). The medians and minimums of each side are printed
beside it; ``min`` is the least disturbed block, for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit

from . import workloads  # noqa: F401  (the package import pins BLAS threads first)

import numpy as np

DISPATCH_TARGET_US = 0.3


def _block(fn, number):
    """CPU seconds per call over ``number`` calls of ``fn`` (garbage collection off)."""
    return timeit.Timer(fn, timer=time.process_time).timeit(number) / number


def paired(raw, ours, number, rounds):
    """Per-call seconds: medians of ``raw`` and ``ours``, their minimums, and the median of
    the per-round differences ``ours - (raw before + raw after) / 2``."""
    t_raw, t_ours, diffs = [], [], []
    _block(raw, number // 10 + 1), _block(ours, number // 10 + 1)  # (warm-up)
    for _ in range(rounds):
        a = _block(raw, number)
        b = _block(ours, number)
        c = _block(raw, number)
        t_raw += (a, c)
        t_ours.append(b)
        diffs.append(b - (a + c) / 2)
    return (statistics.median(t_raw), statistics.median(t_ours), min(t_raw), min(t_ours),
            statistics.median(diffs))


def best_per_call(stmt, number, repeat):
    """Seconds per call: min over ``repeat`` timeit runs of ``number`` calls (gc off)."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.dispatch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    p.add_argument("--rounds", type=int, help="interleaved rounds per function (default 15, "
                   "quick 5)")
    p.add_argument("--no-chain", action="store_true", help="the dispatch table only")
    args = p.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    repeat = 3 if args.quick else 7
    scale = 0.2 if args.quick else 1.0

    rng = np.random.default_rng(workloads.SEED)
    x = rng.uniform(-1.0, 1.0, 8)
    y = rng.uniform(-1.0, 1.0, 8)
    pos = rng.uniform(0.5, 2.0, 8)
    try:
        import functrans as ft
        import functrans.numpy as fnp
    except Exception as exc:
        print(f"note: functrans not importable ({type(exc).__name__}: {exc}); nothing to compare")
        return

    n_fast = int(50_000 * scale)
    cases = (
        ("sin(x)", lambda: np.sin(x), lambda: fnp.sin(x)),
        ("exp(x)", lambda: np.exp(x), lambda: fnp.exp(x)),
        ("log(x)", lambda: np.log(pos), lambda: fnp.log(pos)),
        ("tanh(x)", lambda: np.tanh(x), lambda: fnp.tanh(x)),
        ("add(x, y)", lambda: np.add(x, y), lambda: fnp.add(x, y)),
        ("multiply(x, y)", lambda: np.multiply(x, y), lambda: fnp.multiply(x, y)),
        ("multiply(x, 0.9)", lambda: np.multiply(x, 0.9), lambda: fnp.multiply(x, 0.9)),
    )
    print(f"8-element float64 arrays, no transform; CPU µs per call, {rounds} interleaved "
          f"rounds of {n_fast:,} calls")
    print(f"  {'function':<18} {'NumPy':>7} {'fnp':>7}   {'overhead':>8}   "
          f"(min NumPy, min fnp)")
    worst = None
    for name, raw, ours in cases:
        m_raw, m_ours, lo_raw, lo_ours, over = paired(raw, ours, n_fast, rounds)
        worst = over if worst is None else max(worst, over)
        print(f"  {name:<18} {m_raw * 1e6:7.3f} {m_ours * 1e6:7.3f}   {over * 1e6:8.3f}   "
              f"({lo_raw * 1e6:.3f}, {lo_ours * 1e6:.3f})")
    verdict = "met" if worst * 1e6 <= DISPATCH_TARGET_US else "MISSED"
    print(f"dispatch overhead per op, the largest median above: {worst * 1e6:.3f} µs "
          f"(target ≤{DISPATCH_TARGET_US} µs: {verdict})")
    if args.no_chain:
        return

    n_ops = 333 * 3 + 1
    n_slow = max(3, int(50 * scale))
    raw = best_per_call(lambda: workloads.w1_loss(np, x), n_slow, repeat)
    via_fnp = best_per_call(lambda: workloads.w1_loss(fnp, x), n_slow, repeat)
    grad = ft.grad(lambda y: workloads.w1_loss(fnp, y))
    grad(x)  # warm-up
    t_grad = best_per_call(lambda: grad(x), max(3, n_slow // 5), repeat)
    rows = [("raw NumPy", raw, None, ""),
            ("functrans.numpy, no transform", via_fnp, 334, "per fnp call (sin, sum)"),
            ("ft.grad", t_grad, n_ops, "per primitive")]
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        pass
    else:
        agrad = autograd.grad(lambda y: workloads.w1_loss(anp, y))
        agrad(x)
        rows.append(("autograd.grad", best_per_call(lambda: agrad(x), max(3, n_slow // 5),
                                                    repeat), n_ops, "per primitive"))
    # Without a transform fnp.sin returns a NumPy array, so only the 333 sin and the sum go
    # through functrans.numpy; under grad every one of the ~1,000 operations is traced.
    print(f"\n{n_ops}-op chain (W1), 8 elements (wall time, best of {repeat}):")
    for label, t, n, unit in rows:
        extra = f"  +{(t - raw) / n * 1e6:.3f} µs {unit}" if n else ""
        print(f"  {label:<30} {t * 1e3:8.3f} ms  {t / raw:7.2f}×{extra}")


if __name__ == "__main__":
    main()
