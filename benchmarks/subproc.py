"""Child process for the measurements that need a fresh interpreter (W6 speed, W8 memory).

    python -m benchmarks.subproc '{"workload": "W6", "system": "jax", "steps": 10000, ...}'

Only the one system named is imported. The result is the last stdout line, ``@@RESULT {json}``;
the parent enforces the wall-clock cap by killing the child.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time

import numpy as np

from . import systems, workloads
from .runner import RESULT_MARK, describe
from .systems import NotSupported


def _logistic_case(steps):
    return workloads.Case("W6", "W6", "", "grad",
                          lambda xp, x: workloads.logistic(xp, x, steps),
                          (np.asarray(workloads.W6_X0),))


def run_w6(system, spec):
    """Time d x_N / d x_0 (the floor: x_N) over N steps; µs/step is computed by the parent."""
    forward = system.name == "numpy"
    case = _logistic_case(spec["steps"])
    fn = system.build(case, forward=forward)
    x0 = system.asarray(case.args)
    if system.compiles:
        fn(*x0)  # compile at full size, untimed
    else:
        system.build(_logistic_case(100), forward=forward)(*x0)  # warm the library's caches
    times, t_start = [], time.perf_counter()
    while len(times) < spec["repeats"]:
        t0 = time.perf_counter()
        out = fn(*x0)
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - t_start + times[-1] > spec["budget"]:
            break  # another call would not fit in the budget: report what we have
    return {"times": times, "value": float(system.to_numpy(out))}


# -- W8: peak resident memory -------------------------------------------------------------------

def _status_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(field)


def _reset_peak():
    """Reset the kernel's peak-RSS mark (VmHWM), so imports and compiles are not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_kb():
    try:
        return _status_kb("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def run_w8(system, spec):
    """Peak RSS of one call above the RSS just before it (inputs allocated, code compiled)."""
    forward = spec["mode"] == "forward"
    case = workloads.Case("W8", "W8", "", "grad", workloads.w8_loss, (workloads.w8_input(),))
    fn = system.build(case, forward=forward)
    x = system.asarray(case.args)
    if system.compiles:
        fn = system.compile_ahead(system.bind(case.loss) if forward
                                  else system.grad(system.bind(case.loss)), *x)
    gc.collect()
    reset = _reset_peak()
    try:
        before = _status_kb("VmRSS")
    except OSError:
        before = 0
    t0 = time.perf_counter()
    out = fn(*x)
    seconds = time.perf_counter() - t0
    peak = _peak_kb()
    g = np.asarray(system.to_numpy(out), dtype=np.float64).ravel()
    checksum = [float(g.sum()), float(np.sqrt((g * g).sum())), float(g[0]), float(g[-1])]
    return {"peak_mb": (peak - before) / 1024, "abs_peak_mb": peak / 1024,
            "baseline_mb": before / 1024, "reset": reset, "seconds": seconds,
            "checksum": checksum}


RUNNERS = {"W6": run_w6, "W8": run_w8}


def main(argv):
    spec = json.loads(argv[1])
    system, why = systems.load(spec["system"])
    if system is None:
        result = {"status": "skipped", "reason": why}
    else:
        try:
            result = {"status": "ok", **RUNNERS[spec["workload"]](system, spec)}
        except NotSupported as exc:
            result = {"status": "n/a", "reason": str(exc)}
        except Exception as exc:
            result = {"status": "failed", "reason": describe(exc)}
    print(RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
