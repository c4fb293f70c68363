"""Per-primitive overhead of functrans: ``python -m benchmarks.dispatch [--quick]``.

1. Dispatch: ``fnp.sin(x)`` on a plain NumPy 8-element array (no transform active) against
   ``np.sin(x)``; the difference is what functrans.numpy adds to every operation (target ≤0.3 µs).
2. A 1,000-primitive chain (the W1 workload) on raw NumPy, through functrans.numpy with no
   transform, and under ``ft.grad``: total time and the cost per primitive.
"""

from __future__ import annotations

import argparse
import timeit

from . import workloads  # noqa: F401  (the package import pins BLAS threads first)

import numpy as np

DISPATCH_TARGET_US = 0.3


def best_per_call(stmt, number, repeat):
    """Seconds per call: min over ``repeat`` timeit runs of ``number`` calls (gc off)."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.dispatch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer calls per measurement")
    args = p.parse_args(argv)
    repeat = 3 if args.quick else 7
    scale = 0.2 if args.quick else 1.0

    x = np.random.default_rng(workloads.SEED).uniform(-1.0, 1.0, 8)
    n_fast = int(200_000 * scale)
    t_np = best_per_call(lambda: np.sin(x), n_fast, repeat)
    print(f"np.sin(x), 8 elements:            {t_np * 1e6:8.3f} µs")
    try:
        import functrans as ft
        import functrans.numpy as fnp
    except Exception as exc:
        print(f"note: functrans not importable ({type(exc).__name__}: {exc}); nothing to compare")
        return

    t_fnp = best_per_call(lambda: fnp.sin(x), n_fast, repeat)
    overhead = (t_fnp - t_np) * 1e6
    verdict = "met" if overhead <= DISPATCH_TARGET_US else "MISSED"
    print(f"fnp.sin(x), 8 elements:           {t_fnp * 1e6:8.3f} µs")
    print(f"dispatch overhead per op:         {overhead:8.3f} µs   "
          f"(target ≤{DISPATCH_TARGET_US} µs: {verdict})")

    n_ops = 333 * 3 + 1
    n_slow = max(3, int(50 * scale))
    raw = best_per_call(lambda: workloads.w1_loss(np, x), n_slow, repeat)
    via_fnp = best_per_call(lambda: workloads.w1_loss(fnp, x), n_slow, repeat)
    grad = ft.grad(lambda y: workloads.w1_loss(fnp, y))
    grad(x)  # warm-up
    t_grad = best_per_call(lambda: grad(x), max(3, n_slow // 5), repeat)
    # Without a transform fnp.sin returns a NumPy array, so only the 333 sin and the sum go
    # through functrans.numpy; under grad every one of the ~1,000 operations is traced.
    print(f"\n{n_ops}-op chain (W1), 8 elements:")
    rows = (("raw NumPy", raw, None, ""),
            ("functrans.numpy, no transform", via_fnp, 334, "per fnp call (sin, sum)"),
            ("ft.grad", t_grad, n_ops, "per primitive"))
    for label, t, n, unit in rows:
        extra = f"  +{(t - raw) / n * 1e6:.3f} µs {unit}" if n else ""
        print(f"  {label:<30} {t * 1e3:8.3f} ms  {t / raw:7.2f}×{extra}")

if __name__ == "__main__":
    main()
