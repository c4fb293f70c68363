"""The MLP gradient (W2) on a GPU: functrans on CuPy next to PyTorch CUDA and JAX, one run.

    python -m benchmarks.gpu                 # CuPy / torch CUDA / JAX GPU, float32 and float64
    python -m benchmarks.gpu --device cpu    # the same script on NumPy / torch CPU / JAX CPU

For each dtype it times, interleaved round-robin in one process, each system's forward (the
loss alone) and its ``grad`` with respect to the six weight and bias arrays, and reports the
median times and the grad/forward ratio of each system, plus each grad over the CuPy forward
(the floor on the GPU, as raw NumPy is on the CPU). Every GPU call is followed by the library's
own synchronisation so that a time covers the work, not only its launch. Results are checked
against a float64 NumPy reference before anything is timed. Writes ``GPU_RESULTS.md`` and
``gpu_results.json`` to ``--out`` (default: this folder).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .timing import median, round_robin
from .workloads import SEED, mlp_grad_manual, mlp_loss

KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def mlp_data(dtype):
    rng = np.random.default_rng(SEED)
    sizes = [784, 512, 512, 10]
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
        params[f"b{i}"] = (0.1 * rng.standard_normal(n_out)).astype(dtype)
    X = rng.standard_normal((128, 784)).astype(dtype)
    Y = np.eye(10, dtype=dtype)[rng.integers(0, 10, size=128)]
    return params, X, Y


# -- the systems: each builds (forward, grad) callables over its own arrays -------------------

def synced(fn, arg, sync):
    """``fn(arg)`` that returns once the device has finished the work."""
    def call():
        out = fn(arg)
        sync()
        return out
    return call


class CuPyLike:
    """functrans on CuPy (or NumPy with --device cpu), with the raw forward as the floor and the
    hand-written backprop beside it."""

    def __init__(self, device):
        if device == "cuda":
            import cupy
            self.xp_native = cupy
            self.sync = cupy.cuda.Device().synchronize
            self.name = "cupy"
        else:
            self.xp_native = np
            self.sync = lambda: None
            self.name = "numpy"
        import array_api_compat
        self.ns = array_api_compat.array_namespace(self.xp_native.asarray([1.0]))

    def put(self, tree):
        return {k: self.xp_native.asarray(v) for k, v in tree.items()} if isinstance(tree, dict) \
            else self.xp_native.asarray(tree)

    def get(self, tree):
        to = (lambda a: a.get()) if self.name == "cupy" else np.asarray
        return {k: to(v) for k, v in tree.items()}

    def systems(self, params, X, Y):
        import functrans as ft
        from array_api_compat import array_namespace
        p, x, y = self.put(params), self.put(X), self.put(Y)
        g = ft.grad(lambda q: mlp_loss(array_namespace(q["W1"]), q, x, y))
        ns, sync = self.ns, self.sync
        forward = synced(lambda q: mlp_loss(ns, q, x, y), p, sync)
        manual = synced(lambda q: mlp_grad_manual(q, x, y), p, sync)
        grad = synced(g, p, sync)
        jitted = synced(ft.jit(g), p, sync)  # staged at the warm-up call
        return {f"{self.name} forward": (forward, None),
                f"{self.name} manual backprop": (manual, self.get),
                f"functrans grad ({self.name})": (grad, self.get),
                f"functrans jit(grad) ({self.name})": (jitted, self.get)}


class Torch:
    def __init__(self, device):
        import torch
        import torch.func
        self.torch, self.device = torch, device
        self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        if device == "cpu":
            torch.set_num_threads(1)

    def systems(self, params, X, Y):
        torch = self.torch
        from array_api_compat import array_namespace
        put = lambda a: torch.asarray(a, device=self.device)  # noqa: E731
        p = {k: put(v) for k, v in params.items()}
        x, y = put(X), put(Y)
        ns = array_namespace(x)
        g = torch.func.grad(lambda q: mlp_loss(ns, q, x, y))
        forward = synced(lambda q: mlp_loss(ns, q, x, y), p, self.sync)
        grad = synced(g, p, self.sync)
        get = lambda t: {k: v.detach().cpu().numpy() for k, v in t.items()}  # noqa: E731
        return {f"torch forward ({self.device})": (forward, None),
                f"torch.func grad ({self.device})": (grad, get)}


class Jax:
    def __init__(self, device):
        import jax
        jax.config.update("jax_enable_x64", True)
        platform_ = "gpu" if device == "cuda" else "cpu"
        self.jax, self.dev = jax, jax.devices(platform_)[0]

    def systems(self, params, X, Y):
        jax = self.jax
        import jax.numpy as jnp
        put = lambda a: jax.device_put(jnp.asarray(a), self.dev)  # noqa: E731
        p = {k: put(v) for k, v in params.items()}
        x, y = put(X), put(Y)
        loss = lambda q: mlp_loss(jnp, q, x, y)  # noqa: E731
        g, fj, gj = jax.grad(loss), jax.jit(loss), jax.jit(jax.grad(loss))

        done = lambda fn: synced(lambda q: jax.block_until_ready(fn(q)), p, lambda: None)  # noqa: E731
        fj(p), gj(p)  # compile outside the timing
        get = lambda t: {k: np.asarray(v) for k, v in t.items()}  # noqa: E731
        return {"jax forward (eager)": (done(loss), None), "jax grad (eager)": (done(g), get),
                "jax-jit forward": (done(fj), None), "jax-jit grad": (done(gj), get)}


# -- the run -------------------------------------------------------------------------------------

def check(name, got, want, dtype):
    tol = 1e-3 if dtype == "float32" else 1e-8
    for k in KEYS:
        err = np.max(np.abs(np.asarray(got[k], dtype=np.float64) - want[k]))
        scale = np.max(np.abs(want[k])) + 1e-30
        if err > tol * scale:
            raise AssertionError(f"{name}: gradient of {k} is off by {err:.3g} "
                                 f"(scale {scale:.3g}, {dtype})")


def run_dtype(dtype, device, rounds, notes):
    params, X, Y = mlp_data(dtype)
    p64, X64, Y64 = mlp_data("float64")
    reference = mlp_grad_manual(p64, X64, Y64)
    calls = {}
    for make in (CuPyLike, Torch, Jax):
        try:
            systems = make(device).systems(params, X, Y)
        except Exception as exc:  # a peer that is missing or has no such device is skipped
            notes.append(f"{make.__name__} skipped ({dtype}): {type(exc).__name__}: {exc}")
            continue
        for name, (fn, get) in systems.items():
            out = fn()  # warm-up (kernel caches, cuBLAS handles), and the result to check
            if get is not None:
                check(name, get(out), reference, dtype)
            t0 = time.perf_counter()
            fn()
            single = time.perf_counter() - t0
            inner = max(1, min(50, int(0.05 / max(single, 1e-9))))
            calls[name] = (fn, (), inner)
    samples = round_robin(calls, rounds)
    return {name: median(s) for name, s in samples.items()}


def forward_of(name, times):
    """The forward the ratio of ``name`` is taken against: its own library's (functrans and the
    hand-written backprop: the raw CuPy/NumPy forward)."""
    lib = name.split()[0].split(".")[0]
    if lib in ("functrans", "numpy", "cupy"):
        return next((k for k in times if k in ("cupy forward", "numpy forward")), None)
    jit = "jit" in name
    return next((k for k in times if "forward" in k and k.split()[0].split(".")[0].split("-")[0]
                 == lib.split("-")[0] and ("jit" in k) == jit), None)


def report(results, device):
    lines = []
    for dtype, times in results.items():
        floor = next((k for k in times if k in ("cupy forward", "numpy forward")), None)
        lines += [f"\n### {dtype}\n",
                  f"| system | median time | over its own forward | over the {floor or 'floor'} |",
                  "|:--|--:|--:|--:|"]
        for name, t in times.items():
            own = forward_of(name, times)
            r_own = f"{t / times[own]:.2f}×" if own and own != name else ""
            r_floor = f"{t / times[floor]:.2f}×" if floor else ""
            lines.append(f"| {name} | {t * 1e3:.3f} ms | {r_own} | {r_floor} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).parent))
    args = ap.parse_args(argv)
    notes, results = [], {}
    for dtype in args.dtypes.split(","):
        results[dtype] = run_dtype(dtype, args.device, args.rounds, notes)
    header = (f"# functrans on the GPU: grad of the W2 MLP (784-512-512-10, batch 128)\n\n"
              f"Generated by `python -m benchmarks.gpu --device {args.device}` on "
              f"{time.strftime('%Y-%m-%dT%H:%M:%S')}, {args.rounds} interleaved rounds, medians; "
              f"Python {platform.python_version()}. A grad's ratio to its own library's forward "
              f"is the cost of the derivative there; the last column compares every system to "
              f"the same raw forward.\n")
    text = header + report(results, args.device) + "\n"
    if notes:
        text += "\nNotes:\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "GPU_RESULTS.md").write_text(text)
    (out / "gpu_results.json").write_text(json.dumps(
        {"device": args.device, "results": results, "notes": notes}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
