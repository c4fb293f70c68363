"""glibc malloc tuning (functrans/backends/allocator.py): ``python -m benchmarks.allocator``.

Runs eager loops on fresh arrays in child processes, with functrans's import-time tuning
(``tuned``) and without it (``FUNCTRANS_MALLOC_TUNING=0``, ``default``), the two interleaved
round by round, and prints per function and size the median time per call, the minor page
faults per call (``getrusage``) and the resident memory after the loop (docs/backends.md,
"Memory: glibc's allocator and NumPy temporaries"). Options: ``--sizes 1e5,1e6``,
``--dtype float32``, ``--rounds N``. The functions run one after another in one process, so
under the default a function may fault less than alone: glibc's sliding mmap threshold, raised
by an earlier function's frees, keeps its temporaries in the heap.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, resource, statistics, sys, time
import numpy as np
import functrans.numpy as fnp
import functrans.scipy.special as fs
import functrans.scipy.stats as fst

def chain(x):  # ten elementwise operations
    t = fnp.tanh(x) * x + fnp.exp(-x * x)
    return fnp.sqrt(t * t + 1.0) - fnp.log1p(x) * 0.5

funcs = {"expit": fs.expit, "digamma": fs.digamma, "erfc": fs.erfc, "j0": fs.j0,
         "gammaln": fs.gammaln, "norm.logcdf": fst.norm.logcdf,
         "xlogy": lambda x: fs.xlogy(x, x), "chain10": chain}
n, dtype = int(float(sys.argv[1])), sys.argv[2]
rng = np.random.default_rng(0)
xs = [rng.uniform(0.1, 4.0, n).astype(dtype) for _ in range(9)]
out = {}
for name, f in funcs.items():
    for x in xs[:2]:
        f(x)
    times, f0 = [], resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for x in xs[2:]:
        t0 = time.perf_counter(); f(x); times.append(time.perf_counter() - t0)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / len(times)
    rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    out[name] = (statistics.median(times) * 1e3, faults, rss)
print(json.dumps(out))
"""


def run_child(size, dtype, tuned):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("FUNCTRANS_MALLOC_TUNING", None)
    if not tuned:
        env["FUNCTRANS_MALLOC_TUNING"] = "0"
    out = subprocess.run([sys.executable, "-c", CHILD, size, dtype], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'size':>6s} {'function':12s} | {'ms default':>10s} {'ms tuned':>9s} | "
          f"{'faults default':>14s} {'tuned':>6s} | {'MB default':>10s} {'tuned':>6s}")
    for size in args.sizes.split(","):
        runs = {False: [], True: []}
        for r in range(args.rounds):
            for tuned in ((False, True) if r % 2 == 0 else (True, False)):
                runs[tuned].append(run_child(size, args.dtype, tuned))
        for name in runs[True][0]:
            med = {t: [statistics.median(run[name][i] for run in runs[t]) for i in range(3)]
                   for t in runs}
            print(f"{size:>6s} {name:12s} | {med[False][0]:10.3f} {med[True][0]:9.3f} | "
                  f"{med[False][1]:14.0f} {med[True][1]:6.0f} | "
                  f"{med[False][2]:10.0f} {med[True][2]:6.0f}", flush=True)


if __name__ == "__main__":
    main()
