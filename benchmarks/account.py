"""Where W2's eager grad spends its time: ``python -m benchmarks.account [--calls N]``.

Splits the CPU time (``process_time``, less disturbed by other processes' load than wall time)
of ``ft.grad`` of the W2 MLP into the array operations it runs (each call the evaluator makes,
and the products and sums reverse mode writes in place, timed one by one: with the evaluator's
dispatch and the backend's Python around each NumPy call, so the array work is overstated by a
few µs per operation) and the Python around them, per phase
(linearize, backward, the rest), next to the hand-written backprop's total (whose own Python is
a few dozen µs, so its total is its array work). In linearize it also times the staging level
that records the tangent equations: recording them, and passing the primal operations on to the
evaluator. Calls alternate between the two, so both see caches disturbed alike (``--inner K``:
the last of K consecutive calls, closer to the harness, which takes the best of several);
medians over the calls. The phases are timed in separate, instrumented calls, which the timing
itself slows. ``--ops`` also lists each array operation with its operands' shapes (F:
Fortran-ordered, S: strided) and median time, to compare with the hand-written code's. Meant
for finding what a change to eager reverse mode would save.

In a fresh process glibc hands large arrays back to the system when they are freed, so the
hand-written code (which allocates each temporary anew) page-faults on every call; in the
benchmark harness, whose heap is already large, neither side does. Here glibc is told to keep
freed memory (``mallopt``) to measure as the harness does; ``--fresh-heap`` leaves it be.
Page faults per call are printed.

``--replica`` times, beside the two, a hand-written NumPy version of the very operations
functrans runs for W2's grad (its forward with the tanh slopes and the max's chooser
weights, its backward's products written into dead operands...) with next to no Python:
the array-work floor of functrans's operation sequence. It is first checked to give
functrans's gradients bit for bit (a replica that no longer does is reported as stale).
It also times grad with ``functrans.buffers.ENABLED`` off (no memory reuse): with freed
memory kept a fresh array costs no page faults, so reuse saves nothing there and costs its
Python (about 2,100 bytecodes per call); on a fresh heap it saves the page faults.

``--bytecodes`` counts instead of timing: the Python bytecodes executed and the Python
functions called in one call of W2's ``grad`` (per phase: the API around the passes, the
forward pass per line of the loss, the backward pass) and of the hand-written backprop, and
the same for W1's ``grad``. The counts are deterministic, unlike CPU time on a shared machine,
so a change to the transforms' Python can be measured exactly; the array work is not in them.
It also counts W7 (``grad`` nested k = 1...6 times on ``tanh`` at a 0-d array) per order, by
layer: each level's entry and exit (the API, flattening, ``linearize_flat``, abstract values:
a fixed cost per ``grad`` level), the interpreters' ``process`` and ``bind`` per operation,
the backward passes (their loop, pending sums, fill rules), the JVP rules, and the array
implementations' Python.
``--by-primitive`` splits the forward pass's count by primitive bound on forward mode's
interpreter, and each row by layer: forward mode's ``process`` (finding its tracers, the switch
to the level below, the result tracer), the JVP rule, the ``bind`` calls the rule makes, the
staging level's ``process`` (recording a tangent equation, or passing a primal operation on),
the abstract values it works out, and the array implementations' Python (backends, buffers):
what a change to the interpreter layering of linearize could remove is in these columns.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import resource
import statistics
import time

from . import workloads


_clock = time.process_time


def _desc(a):
    if not hasattr(a, "shape"):
        return type(a).__name__ if isinstance(a, (list, tuple)) else repr(a)[:12]
    s = "x".join(map(str, a.shape)) or "()"
    if getattr(a, "ndim", 0) == 2 and not a.flags.c_contiguous:
        s += "F" if a.flags.f_contiguous else "S"
    return s


class _Recorder:
    """Times the evaluator's calls and reverse mode's in-place NumPy calls while ``log`` is a
    list (appending ``(what, seconds)``); otherwise out of the way."""

    def __init__(self, shapes):
        from functrans import core, interpreters, reverse
        self.log = None
        self.evaluated = 0.0  # seconds in the evaluator so far
        self.staging = {"record": [0.0, 0], "forward": [0.0, 0]}
        self._core, self._interpreters, self._reverse = core, interpreters, reverse
        self._process = process = core.EvalInterpreter.process
        self._staging = staging = interpreters.StagingInterpreter.process
        self._np = real_np = reverse._np
        tracer = interpreters.StagingTracer
        rec = self

        def timed_process(interp, prim, args, params):
            if rec.log is None:
                return process(interp, prim, args, params)
            t0 = _clock()
            out = process(interp, prim, args, params)
            dt = _clock() - t0  # (the operands described outside the timed span)
            rec.log.append((f"{prim.name} {' '.join(map(_desc, args))}" if shapes else "", dt))
            rec.evaluated += _clock() - t0  # (not the staging level's, with the description)
            return out

        class TimedNumPy:  # (reverse.py's np.multiply/np.add with out=)
            def __getattr__(self, name):
                f = getattr(real_np, name)
                if name not in ("multiply", "add"):
                    return f

                def timed(*a, **k):
                    if rec.log is None:
                        return f(*a, **k)
                    t0 = _clock()
                    out = f(*a, **k)
                    dt = _clock() - t0
                    rec.log.append((f"np.{name} {' '.join(map(_desc, a))}" if shapes else "", dt))
                    return out
                return timed

        def timed_staging(interp, prim, args, params):
            if rec.log is None:
                return staging(interp, prim, args, params)
            e0, t0 = rec.evaluated, _clock()
            out = staging(interp, prim, args, params)
            dt = _clock() - t0 - (rec.evaluated - e0)
            first = out[0] if type(out) is list and out else out
            acc = rec.staging["record" if type(first) is tracer else "forward"]
            acc[0] += dt
            acc[1] += 1
            return out

        core.EvalInterpreter.process = timed_process
        interpreters.StagingInterpreter.process = timed_staging
        reverse._np = TimedNumPy()
        # (the staging evaluates operations on no tracer of its own inline where the
        # evaluator is its parent: with its name bound to something else it forwards them
        # to the evaluator, whose calls are timed, at the cost of that frame)
        self._eval = interpreters.EVAL
        interpreters.EVAL = None
        # (the transposes of matmul, broadcasts and sums, and matrix_transpose, likewise call
        # an implementation directly where the evaluator is current: through it instead)
        from functrans.primitives import linalg, reductions, structural
        self._rules = (linalg, reductions, structural)
        for m in self._rules:
            m._EVAL = None

    def restore(self):
        self._core.EvalInterpreter.process = self._process
        self._interpreters.StagingInterpreter.process = self._staging
        self._reverse._np = self._np
        self._interpreters.EVAL = self._eval
        for m in self._rules:
            m._EVAL = self._eval


def _keep_freed_memory():
    """glibc only: no mmap for arrays below 64 MB, no trimming of the heap."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 64 << 20)
                    and libc.mallopt(m_trim_threshold, 1 << 30))
    except (OSError, AttributeError, TypeError):
        return False


def _faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.account", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=40, help="timed calls of each (default 40)")
    p.add_argument("--inner", type=int, default=1,
                   help="time the last of this many consecutive calls (the harness takes the "
                        "best of several; 1: alternate single calls)")
    p.add_argument("--ops", action="store_true", help="list functrans's array operations")
    p.add_argument("--fresh-heap", action="store_true",
                   help="leave glibc's malloc settings as they are (see above)")
    p.add_argument("--bytecodes", action="store_true",
                   help="count Python bytecodes and calls per call instead of timing")
    p.add_argument("--by-primitive", action="store_true",
                   help="count bytecodes of W2's forward pass by primitive and layer (see above)")
    p.add_argument("--replica", action="store_true",
                   help="time functrans's own operation sequence written by hand (see above)")
    args = p.parse_args(argv)
    if args.by_primitive:
        return _by_primitive()
    if args.bytecodes:
        return _bytecodes()
    kept = not args.fresh_heap and _keep_freed_memory()
    if args.replica:
        return _replica_times(args.calls, kept)

    import functrans as ft
    import functrans.numpy as fnp
    from functrans import api

    case = next(c for c in workloads.make_cases() if c.id == "W2")
    params, X, Y = case.args
    grad = ft.grad(lambda p, X, Y: workloads.mlp_loss(fnp, p, X, Y))
    manual = case.manual
    for _ in range(5):
        grad(params, X, Y)
        manual(params, X, Y)

    rec = _Recorder(args.ops)
    phases = {}
    wrapped = {}
    for name in ("linearize_flat", "backward"):
        f = wrapped[name] = getattr(api, name)

        def phase(*a, _f=f, _name=name, **k):
            outer = rec.log
            if outer is None:
                return _f(*a, **k)
            rec.log = []
            t0 = _clock()
            out = _f(*a, **k)
            dt = _clock() - t0
            phases.setdefault(_name, []).append((dt, sum(t for _, t in rec.log)))
            outer.extend(rec.log)
            rec.log = outer
            return out
        setattr(api, name, phase)
    try:
        plain = {"functrans": [], "manual": []}
        faults = {"functrans": 0, "manual": 0}
        ops, runs, staged = [], [], []
        for _ in range(args.calls):
            for name, f in (("functrans", grad), ("manual", manual)):
                for _ in range(args.inner - 1):
                    f(params, X, Y)
                f0, t0 = _faults(), _clock()
                f(params, X, Y)
                plain[name].append(_clock() - t0)
                faults[name] += _faults() - f0
            for _ in range(args.inner - 1):
                grad(params, X, Y)
            rec.log = []
            for acc in rec.staging.values():
                acc[:] = [0.0, 0]
            t0 = _clock()
            grad(params, X, Y)
            runs.append(_clock() - t0)
            ops.append(rec.log)
            staged.append({k: tuple(v) for k, v in rec.staging.items()})
            rec.log = None
    finally:
        for name, f in wrapped.items():
            setattr(api, name, f)
        rec.restore()

    def ms(x):
        return f"{x * 1e3:7.3f} ms"
    med = statistics.median
    ft_cpu, man_cpu = med(plain["functrans"]), med(plain["manual"])
    op_total = med([sum(t for _, t in log) for log in ops])
    print(f"W2 eager grad, CPU time, median of {args.calls} alternating calls "
          f"(each the last of {args.inner}) "
          f"({'freed memory kept' if kept else 'default heap'}; page faults per call: "
          f"functrans {faults['functrans'] / args.calls:.0f}, "
          f"hand-written {faults['manual'] / args.calls:.0f})")
    print(f"  functrans grad:       {ms(ft_cpu)}   ({ft_cpu / man_cpu:.3f}x hand-written)")
    print(f"  hand-written backprop:{ms(man_cpu)}")
    print(f"  functrans array ops:  {ms(op_total)}   ({len(ops[0])} operations, timed "
          f"one by one in separate calls: {ms(med(runs))} per call then)")
    print(f"  => gap {ms(ft_cpu - man_cpu)}: array work {ms(op_total - man_cpu)} "
          f"(vs the hand-written total), Python {ms(ft_cpu - op_total)}")
    print("per phase, in the instrumented calls:")
    rest = med(runs)
    for name, rows in phases.items():
        t, o = med([r[0] for r in rows]), med([r[1] for r in rows])
        rest -= t
        print(f"  {name:15s} {ms(t)}: array ops {ms(o)}, Python {ms(t - o)}")
    print(f"  {'the rest (api)':15s} {ms(rest)}")
    for what, key in (("recording tangent equations", "record"),
                      ("passing primal operations on", "forward")):
        n = staged[0][key][1]
        print(f"  of linearize's Python, the staging level {what} ({n}): "
              f"{ms(med([s[key][0] for s in staged]))}")
    if args.ops:
        print("\nfunctrans's array operations (median CPU µs, operands' shapes)")
        for i, (what, _) in enumerate(ops[0]):
            t = med([log[i][1] for log in ops if len(log) == len(ops[0])])
            print(f"  {t * 1e6:8.1f}  {what}")


def _count(fn, *args):
    """(bytecodes, calls, bytecodes per phase) of one call of ``fn``, traced."""
    import sys
    phases = {}
    where = ["api"]
    calls = 0

    def trace(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1
            frame.f_trace_opcodes = True
            code = frame.f_code
            if code.co_name == "backward" and code.co_filename.endswith("reverse.py"):
                where[0] = "backward"
            return trace
        if event == "opcode":
            code = frame.f_code
            if code.co_name in ("mlp_loss", "w1_loss"):
                where[0] = f"forward, {code.co_name} line {frame.f_lineno}"
            elif code.co_name == "value_and_grad_fun" and where[0] == "backward":
                where[0] = "api"
            phases[where[0]] = phases.get(where[0], 0) + 1
        return trace

    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(None)
    return sum(phases.values()), calls, phases


def _replica(params, X, Y):
    """W2's gradient by the NumPy operations functrans's grad runs (benchmarks.account
    --ops lists them), in its order, with its in-place writes; see ``--replica``."""
    import numpy as np
    from functrans.backends.numpy_backend import _broadcast_in_dim as bcast
    from functrans.backends.numpy_backend import _chooser_weights

    add_reduce = np.add.reduce
    n = X.shape[0]
    hs, slopes = [], []
    h = X
    for i in (1, 2):  # tanh layers: the slope 1 - y*y computed with y in the forward
        z = np.matmul(h, params[f"W{i}"])
        z = np.add(z, bcast(params[f"b{i}"], z.shape, (1,)))
        hs.append(h)
        h = np.tanh(z)
        s = np.multiply(h, h)
        np.subtract(1.0, s, out=s)
        slopes.append(s)
    z = np.matmul(h, params["W3"])
    logits = np.add(z, bcast(params["b3"], z.shape, (1,)))
    m = np.maximum.reduce(logits, axis=1)
    w = _chooser_weights(logits, m, (1,))  # the max's derivative
    m = m.reshape(n, 1)
    e = np.exp(np.subtract(logits, bcast(m, logits.shape, (0, 1))))
    se = add_reduce(e, axis=1).reshape(n, 1)
    lse = np.add(np.log(se), m)
    sy = add_reduce(np.multiply(Y, logits), axis=1).reshape(n, 1)
    np.divide(add_reduce(np.subtract(lse, sy), axis=(0, 1)), float(n))  # the loss
    c = 1.0 / n
    ce = np.multiply(bcast(np.divide(c, se), e.shape, (0, 1)), e)  # through log and exp
    cm = np.add(add_reduce(np.multiply(ce, -1.0), axis=1).reshape(n, 1), c)  # into m
    d = np.multiply(Y, -c)
    np.add(d, np.multiply(bcast(cm, w.shape, (0, 1)), w), out=d)
    np.add(d, ce, out=d)
    grads = {"b3": add_reduce(d, axis=0), "W3": np.matmul(h.T, d)}
    w_next = params["W3"]
    for i in (2, 1):
        d = np.matmul(d, w_next.T)
        np.multiply(d, slopes[i - 1], out=d)
        grads[f"b{i}"] = add_reduce(d, axis=0)
        grads[f"W{i}"] = np.matmul(hs[i - 1].T, d)
        w_next = params[f"W{i}"]
    return grads


def _replica_times(calls, kept):
    import numpy as np
    import functrans as ft
    import functrans.numpy as fnp

    case = next(c for c in workloads.make_cases() if c.id == "W2")
    params, X, Y = case.args
    grad = ft.grad(lambda p, X, Y: workloads.mlp_loss(fnp, p, X, Y))
    from functrans import buffers

    def grad_no_reuse(*a):  # (functrans.buffers off for this call only: see --replica)
        enabled, buffers.ENABLED = buffers.ENABLED, False
        try:
            return grad(*a)
        finally:
            buffers.ENABLED = enabled

    fns = {"functrans grad": grad, "grad, no reuse": grad_no_reuse, "replica": _replica,
           "hand-written": case.manual}
    want, got = grad(params, X, Y), _replica(params, X, Y)
    same = all(np.array_equal(want[k], got[k]) for k in want)
    times = {name: [] for name in fns}
    for f in fns.values():
        for _ in range(3):
            f(params, X, Y)
    for _ in range(calls):
        for name, f in fns.items():
            t0 = _clock()
            f(params, X, Y)
            times[name].append(_clock() - t0)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"W2, CPU time, median of {calls} alternating calls "
          f"({'freed memory kept' if kept else 'default heap'}); the replica gives "
          f"functrans's gradients {'bit for bit' if same else 'NOT bit for bit: it is stale'}")
    for name, t in med.items():
        print(f"  {name:15s} {t * 1e3:7.3f} ms  {t / med['hand-written']:.3f}x hand-written")
    print(f"  => functrans's operations cost {(med['replica'] - med['hand-written']) * 1e3:.3f}"
          f" ms more than the hand-written ones; its Python "
          f"{(med['functrans grad'] - med['replica']) * 1e3:.3f} ms")


def _bytecodes():
    import functrans as ft
    import functrans.numpy as fnp

    cases = {c.id: c for c in workloads.make_cases()}
    params, X, Y = cases["W2"].args
    grad = ft.grad(lambda p, X, Y: workloads.mlp_loss(fnp, p, X, Y))
    (x,) = cases["W1"].args
    grad1 = ft.grad(lambda x: workloads.w1_loss(fnp, x))
    for _ in range(3):  # (first calls fill caches of their own)
        grad(params, X, Y)
        grad1(x)
    for title, fn, args in (("W2 grad", grad, (params, X, Y)),
                            ("W2 hand-written", cases["W2"].manual, (params, X, Y)),
                            ("W1 grad", grad1, (x,))):
        n, calls, phases = _count(fn, *args)
        print(f"{title}: {n} bytecodes, {calls} Python calls")
        if title != "W2 hand-written":
            for name, k in phases.items():
                print(f"  {k:7d}  {name}")
    _w7_bytecodes()


# W7's layers (see --bytecodes): the file, or (file, function), a frame's bytecodes count to
_W7_LAYERS = {"api.py": "levels' entry and exit", "tree.py": "levels' entry and exit",
              ("reverse.py", "linearize_flat"): "levels' entry and exit",
              ("core.py", "get_aval"): "levels' entry and exit",
              ("interpreters.py", "aval"): "levels' entry and exit",
              ("core.py", "process"): "interpreters per operation",
              ("core.py", "bind"): "interpreters per operation",
              ("interpreters.py", "process"): "interpreters per operation",
              "reverse.py": "backward passes", "primitives": "JVP rules",
              "backends": "array implementations' Python"}


def _w7_bytecodes():
    import sys

    import numpy as np

    import functrans as ft
    import functrans.numpy as fnp

    x = np.asarray(0.5)
    for k in range(1, 7):
        f = (lambda v: workloads.w7_fn(fnp, v))
        for _ in range(k):
            f = ft.grad(f)
        for _ in range(3):  # (first calls fill caches of their own)
            f(x)
        layers, n = {}, [0, 0]

        def trace(frame, event, arg):
            if event == "call":
                n[1] += 1
                frame.f_trace_opcodes = True
                return trace
            if event == "opcode":
                n[0] += 1
                path = frame.f_code.co_filename.replace("\\", "/").split("/")
                key = (path[-1], frame.f_code.co_name)
                layer = _W7_LAYERS.get(key) or _W7_LAYERS.get(path[-1]) or \
                    _W7_LAYERS.get(path[-2], "other")
                layers[layer] = layers.get(layer, 0) + 1
            return trace
        sys.settrace(trace)
        try:
            f(x)
        finally:
            sys.settrace(None)
        print(f"W7 k={k} grad: {n[0]} bytecodes, {n[1]} Python calls")
        for name, c in sorted(layers.items(), key=lambda kv: -kv[1]):
            print(f"  {c:7d}  {name}")


# The layers of --by-primitive, in the order of the table's columns.
_LAYERS = ("process", "rule", "bind", "staging", "avals", "arrays")


def _layer(frame, jvp_process, staging_process, bind):
    """The layer of a frame run under forward mode's process (see --by-primitive), or None
    outside it: from the code itself, else from the frame that called it."""
    code = frame.f_code
    if code is jvp_process:
        return "process"
    if code is staging_process:
        return "staging"
    if code is bind:
        return "bind"
    name = code.co_filename.replace("\\", "/")
    if "/functrans/backends/" in name or name.endswith("/functrans/buffers.py"):
        return "arrays"
    caller = frame.f_back
    while caller is not None:
        c = caller.f_code
        if c is jvp_process:
            return "rule"  # (the rule, and what it calls that is no layer of its own)
        if c is staging_process:
            return "avals"  # (abstract_eval, get_aval: the staging's own work)
        if c is bind:
            caller = caller.f_back
            continue
        name = c.co_filename.replace("\\", "/")
        if "/functrans/backends/" in name or name.endswith("/functrans/buffers.py"):
            return "arrays"
        caller = caller.f_back
    return None


def _by_primitive():
    """W2's grad: bytecodes run under forward mode's interpreter, per primitive and layer."""
    import sys
    import functrans as ft
    import functrans.numpy as fnp
    from functrans import core, interpreters

    params, X, Y = next(c for c in workloads.make_cases() if c.id == "W2").args
    grad = ft.grad(lambda p, X, Y: workloads.mlp_loss(fnp, p, X, Y))
    for _ in range(3):
        grad(params, X, Y)
    jvp_process = interpreters.JVPInterpreter.process.__code__
    staging_process = interpreters.StagingInterpreter.process.__code__
    bind = core.Primitive.bind.__code__
    rows = []      # [primitive name, {layer: bytecodes}] per call of forward mode's process
    layers = {}    # id(frame) -> layer, for frames under one
    top = [None]   # the outermost running call of forward mode's process

    def trace(frame, event, arg):
        if event == "call":
            if top[0] is None and frame.f_code is jvp_process:
                top[0] = frame
                rows.append([frame.f_locals["prim"].name, dict.fromkeys(_LAYERS, 0)])
            if top[0] is not None:
                frame.f_trace_opcodes = True
                layers[id(frame)] = _layer(frame, jvp_process, staging_process, bind)
            return trace
        if event == "return" and frame is top[0]:
            top[0] = None
        elif event == "opcode" and top[0] is not None:
            rows[-1][1][layers.get(id(frame)) or "rule"] += 1
        return trace

    sys.settrace(trace)
    try:
        grad(params, X, Y)
    finally:
        sys.settrace(None)
    print("W2 grad, bytecodes under forward mode's interpreter per primitive bound on it, by "
          "layer (see the module's docstring)")
    print(f"  {'primitive':18s}" + "".join(f"{k:>9s}" for k in _LAYERS) + f"{'all':>9s}")
    total = dict.fromkeys(_LAYERS, 0)
    for name, counts in rows:
        for k in _LAYERS:
            total[k] += counts[k]
        print(f"  {name:18s}" + "".join(f"{counts[k]:9d}" for k in _LAYERS)
              + f"{sum(counts.values()):9d}")
    print(f"  {f'all ({len(rows)})':18s}" + "".join(f"{total[k]:9d}" for k in _LAYERS)
          + f"{sum(total.values()):9d}")


if __name__ == "__main__":
    main()
