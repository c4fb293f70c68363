"""Run the workloads on every system and collect rows of results.

In-process workloads (W1-W5, W7): every system is built, warmed up once (JAX jit compiles here,
untimed) and its result checked against the others; only the ones that agree are timed, in
interleaved rounds. W6 and W8 need a fresh interpreter per measurement and run in child
processes (subproc.py) under a wall-clock cap.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import optree

from . import systems as systems_mod
from . import timing, workloads
from .systems import NotSupported

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(PACKAGE_DIR)

# Who becomes the reference when agreement is tied; functrans last: it is the one under test.
REFERENCE_PRIORITY = ["jax", "torch.func", "autograd", "numpy-manual", "jax-jit", "functrans"]


@dataclass
class Cell:
    status: str                 # ok | failed | timeout | n/a | skipped
    value: float | None = None  # the row's metric: ratio to the floor, µs/step, growth, MB
    seconds: float | None = None  # median wall time of one call
    reason: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class Row:
    id: str
    workload: str
    title: str
    metric: str                 # ratio | us_step | growth | MB
    cells: dict = field(default_factory=dict)
    target: workloads.Target | None = None
    note: str = ""


@dataclass
class Options:
    quick: bool = False
    only: set | None = None      # workload ids, e.g. {"W1", "W3"}
    systems: list | None = None  # system names (default: all)
    rounds: int = 7
    sample_budget: float = 0.1   # seconds of calls per sample (min over them)
    call_timeout: float = 300.0  # warm-up cap for one in-process call
    child_timeout: float = 240.0  # cap for one W6/W8 child process
    child_repeats: int = 3
    log: callable = print

    @classmethod
    def make(cls, quick=False, **kw):
        if quick:
            base = dict(rounds=3, sample_budget=0.03, call_timeout=60.0, child_timeout=45.0,
                        child_repeats=1)
        else:
            base = {}
        base.update({k: v for k, v in kw.items() if v is not None})
        return cls(quick=quick, **base)

    def wants(self, workload):
        return self.only is None or workload in self.only


# ---------------------------------------------------------------------------------------------
# Agreement between systems
# ---------------------------------------------------------------------------------------------

def disagreement(a, b, rtol=1e-5):
    """None if the pytrees ``a`` and ``b`` agree, else a short reason."""
    la, lb = optree.tree_leaves(a), optree.tree_leaves(b)
    if len(la) != len(lb):
        return f"{len(la)} output arrays vs {len(lb)}"
    for x, y in zip(la, lb):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.shape != y.shape:
            return f"shape {x.shape} vs {y.shape}"
        # atol relative to the leaf's own magnitude: W1's gradient is ~1e-16 everywhere
        scale = float(np.max(np.abs(y))) if y.size else 0.0
        if not np.allclose(x, y, rtol=rtol, atol=1e-8 * scale):
            err = float(np.max(np.abs(x - y))) if np.all(np.isfinite(x)) else float("nan")
            return f"max abs error {err:.3g} (scale {scale:.3g})"
    return None


def check_agreement(results):
    """``results``: name -> numpy pytree. Return (reference name, {name: reason} of outliers).

    The reference is the result most others agree with (ties broken by REFERENCE_PRIORITY), so
    a single wrong system cannot make the right ones look wrong.
    """
    names = sorted(results, key=lambda n: REFERENCE_PRIORITY.index(n)
                   if n in REFERENCE_PRIORITY else len(REFERENCE_PRIORITY))
    if not names:
        return None, {}
    agree = {a: {b for b in names if b != a and disagreement(results[a], results[b]) is None}
             for a in names}
    ref = max(names, key=lambda n: len(agree[n]))  # max keeps the first (priority) on ties
    outliers = {n: f"disagrees with {ref}: {disagreement(results[n], results[ref])}"
                for n in names if n != ref and n not in agree[ref]}
    return ref, outliers


def describe(exc):
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0][:160] if msg else ''}"


# ---------------------------------------------------------------------------------------------
# In-process cases
# ---------------------------------------------------------------------------------------------

def run_case(case, loaded, opts):
    row = Row(case.id, case.workload, case.title, "ratio", target=case.target)
    ready, results = {}, {}
    for name, system in loaded.items():
        floor = name == "numpy"
        try:
            fn = system.build(case, forward=floor)
            inputs = system.asarray(case.args if floor else case.inputs())
            with timing.deadline(opts.call_timeout):
                _, out = timing.time_once(fn, inputs)  # warm-up; jit compiles here
                if system.compiles:  # functrans.jit compiles at the second call
                    timing.time_once(fn, inputs)
            if not floor:
                results[name] = system.to_numpy(out)
            ready[name] = (fn, inputs)
        except NotSupported as exc:
            row.cells[name] = Cell("n/a", reason=str(exc))
        except timing.Timeout as exc:
            row.cells[name] = Cell("timeout", reason=f"warm-up call {exc}")
        except Exception as exc:
            row.cells[name] = Cell("failed", reason=describe(exc))

    ref, outliers = check_agreement(results)
    for name, reason in outliers.items():
        row.cells[name] = Cell("failed", reason=reason)
        del ready[name]
    row.note = (f"checked against {ref}" if len(results) > 1
                else "unchecked: no second system to compare with")

    calls = {}
    for name, (fn, inputs) in ready.items():
        t1, _ = timing.time_once(fn, inputs)
        calls[name] = (fn, inputs, timing.inner_count(t1, opts.sample_budget))
    samples = timing.round_robin(calls, opts.rounds)

    floor = timing.median(samples.get("numpy", []))
    for name, xs in samples.items():
        t = timing.median(xs)
        row.cells[name] = Cell("ok", value=t / floor if floor else None, seconds=t,
                               extra={"samples": xs, "inner": calls[name][2]})
    return row


def growth_row(rows, names):
    """W7: geometric mean of t(k+1)/t(k) over consecutive orders that both ran."""
    by_k = {int(r.id.split("=")[1]): r for r in rows}
    row = Row("W7 growth", "W7", "growth factor per derivative order (geo. mean t(k+1)/t(k))",
              "growth", target=workloads.W7_TARGET)
    for name in names:
        times = {k: r.cells[name].seconds for k, r in by_k.items()
                 if name in r.cells and r.cells[name].status == "ok"}
        ratios = [times[k + 1] / times[k] for k in sorted(times) if k + 1 in times]
        if name == "numpy":
            row.cells[name] = Cell("n/a", reason="no derivative")
        elif ratios:
            g = math.exp(sum(map(math.log, ratios)) / len(ratios))
            row.cells[name] = Cell("ok", value=g, extra={"orders": sorted(times)})
        else:
            row.cells[name] = Cell("n/a", reason="fewer than two orders ran")
    return row


# ---------------------------------------------------------------------------------------------
# Child-process workloads
# ---------------------------------------------------------------------------------------------

RESULT_MARK = "@@RESULT "


def run_child(spec, timeout):
    """Run subproc.py on ``spec`` in a fresh interpreter; return its result dict."""
    cmd = [sys.executable, "-m", "benchmarks.subproc", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"killed after {timeout:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": "failed",
            "reason": f"child exited {proc.returncode} after {time.perf_counter() - t0:.0f} s: "
                      f"{tail[:160]}"}


def child_cell(res):
    if res["status"] != "ok":
        return Cell(res["status"], reason=res.get("reason", ""))
    return None


def run_w6(names, opts):
    rows = []
    timed_out = set()
    for steps in workloads.W6_STEPS:
        x_ref, d_ref = workloads.logistic_reference(workloads.W6_X0, steps)
        row = Row(f"W6 10^{round(math.log10(steps))}", "W6",
                  f"logistic map, {steps:,} steps, d x_N/d x_0 (fresh process each)", "us_step",
                  target=workloads.W6_TARGET, note="checked against the float recurrence")
        for name in names:
            if name == "numpy-manual":
                row.cells[name] = Cell("n/a", reason="no hand-written version")
                continue
            if name in timed_out:
                row.cells[name] = Cell("skipped", reason="timed out on fewer steps")
                continue
            opts.log(f"  W6 {steps:>7,} steps  {name} ...")
            spec = {"workload": "W6", "system": name, "steps": steps,
                    "repeats": opts.child_repeats, "budget": opts.child_timeout / 3}
            res = run_child(spec, opts.child_timeout)
            cell = child_cell(res)
            if cell is None:
                ref = x_ref if name == "numpy" else d_ref
                bad = disagreement(res["value"], ref)
                t = timing.median(res["times"])
                cell = (Cell("failed", reason=f"disagrees with the recurrence: {bad}") if bad
                        else Cell("ok", value=1e6 * t / steps, seconds=t,
                                  extra={"times": res["times"]}))
            if cell.status == "timeout":
                timed_out.add(name)
            row.cells[name] = cell
        floor = row.cells.get("numpy")
        for cell in row.cells.values():
            if cell.status == "ok" and floor is not None and floor.status == "ok":
                cell.extra["ratio"] = cell.value / floor.value
        rows.append(row)
    return rows


def run_w8(names, opts):
    row = Row("W8", "W8", f"peak memory: grad of {workloads.W8_STEPS} steps on "
              f"{workloads.W8_SIZE:,} elements (numpy: forward)", "MB",
              target=workloads.W8_TARGET)
    checks = {}
    for name in names:
        if name == "numpy-manual":
            row.cells[name] = Cell("n/a", reason="no hand-written version")
            continue
        opts.log(f"  W8 {name} ...")
        mode = "forward" if name == "numpy" else "grad"
        res = run_child({"workload": "W8", "system": name, "mode": mode}, opts.child_timeout)
        cell = child_cell(res)
        if cell is None:
            cell = Cell("ok", value=res["peak_mb"], seconds=res["seconds"],
                        extra={k: res[k] for k in ("abs_peak_mb", "baseline_mb", "reset")})
            if mode == "grad":
                checks[name] = np.asarray(res["checksum"])
        row.cells[name] = cell
    ref, outliers = check_agreement(checks)
    for name, reason in outliers.items():
        row.cells[name] = Cell("failed", reason=reason, extra=row.cells[name].extra)
    row.note = f"checksums checked against {ref}" if len(checks) > 1 else "unchecked"
    return row


# ---------------------------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------------------------

def load_systems(opts):
    wanted = opts.systems or systems_mod.ORDER
    loaded, skipped = {}, {}
    for name in wanted:
        system, why = systems_mod.load(name)
        if system is None:
            skipped[name] = why
            opts.log(f"note: {name} skipped ({why})")
        else:
            loaded[name] = system
    if "numpy" not in loaded:
        raise SystemExit("the NumPy floor is required")
    return loaded, skipped


def run(opts):
    load_start, t_start = os.getloadavg(), time.perf_counter()
    loaded, skipped = load_systems(opts)
    names = list(loaded)
    rows = []

    w7_rows = []
    for case in workloads.make_cases():
        if not opts.wants(case.workload):
            continue
        opts.log(f"  {case.id:<18} {case.title}")
        row = run_case(case, loaded, opts)
        rows.append(row)
        if case.workload == "W7":
            w7_rows.append(row)
    if w7_rows:
        rows.append(growth_row(w7_rows, names))
    if opts.wants("W6"):
        rows.extend(run_w6(names, opts))
    if opts.wants("W8"):
        if opts.quick and opts.only is None:
            opts.log("note: W8 (peak memory) skipped in --quick; run it with --only W8")
        else:
            rows.append(run_w8(names, opts))
    return {
        "rows": rows,
        "systems": names,
        "skipped": skipped,
        "versions": {n: s.version() for n, s in loaded.items()},
        "notes": [note for s in loaded.values() for note in s.notes],
        "elapsed_s": time.perf_counter() - t_start,
        "load_start": load_start,
        "options": {"quick": opts.quick, "rounds": opts.rounds,
                    "sample_budget_s": opts.sample_budget,
                    "only": sorted(opts.only) if opts.only else None},
    }
