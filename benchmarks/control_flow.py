"""Structured control flow (functrans.lax) against JAX's and plain Python loops:
``python -m benchmarks.control_flow [--quick]``.

Two loops, each differentiated in reverse mode (the gradient, which is what a loop's users
want), each timed as the median of several calls after a warm-up (so staging and compiling
are not counted, except in the "first call" column):

- logistic: the seeds' logistic map x <- r x (1 - x), 1,000 steps from x0 = 0.3, and
  d x_N / d r (a scalar loop: the per-step overhead of each system);
- rnn: h <- tanh(h W + x_t U), 100 steps, batch 32, 64 hidden units, 16 inputs, and the
  gradient of sum(h_T) in (W, U) (small matrix products: overhead and kernels together).

Rows: functrans eager with a Python loop and with lax.fori_loop/scan; functrans jit with the
Python loop (unrolled: one equation per operation) and with lax (one scan equation); JAX jit
with lax.fori_loop/scan; autograd with a Python loop. Printed as µs per step.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from . import workloads  # noqa: F401  (pins BLAS threads first)


def median_seconds(fn, repeat, number):
    fn()  # warm-up (stages and compiles where the system does)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def first_call_seconds(make):
    fn = make()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def logistic_cases(steps):
    import functrans as ft
    import functrans.lax as lax

    r = np.asarray(3.7)

    def py(r):
        x = 0.3
        for _ in range(steps):
            x = r * x * (1.0 - x)
        return x

    def fl(r):
        return lax.fori_loop(0, steps, lambda i, x: r * x * (1.0 - x), 0.3)
    cases = {
        "functrans eager, Python loop": lambda: (lambda g: lambda: g(r))(ft.grad(py)),
        "functrans eager, lax.fori_loop": lambda: (lambda g: lambda: g(r))(ft.grad(fl)),
        "functrans jit, Python loop (unrolled)":
            lambda: (lambda g: lambda: g(r))(ft.jit(ft.grad(py))),
        "functrans jit, lax.fori_loop": lambda: (lambda g: lambda: g(r))(ft.jit(ft.grad(fl))),
    }
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        rj = jnp.asarray(3.7)

        def jl(r):
            return jax.lax.fori_loop(0, steps, lambda i, x: r * x * (1.0 - x), 0.3)
        cases["JAX jit, lax.fori_loop"] = lambda: (
            lambda g: lambda: g(rj).block_until_ready())(jax.jit(jax.grad(jl)))
    except ImportError:
        pass
    try:
        import autograd
        cases["autograd, Python loop"] = lambda: (lambda g: lambda: g(3.7))(autograd.grad(py))
    except ImportError:
        pass
    ref = _logistic_reference(3.7, steps)
    return cases, ref


def _logistic_reference(r, steps):
    x, dx = 0.3, 0.0
    for _ in range(steps):
        x, dx = r * x * (1 - x), x * (1 - x) + r * (1 - 2 * x) * dx
    return dx


def rnn_cases(steps, batch=32, hidden=64, inputs=16):
    import functrans as ft
    import functrans.lax as lax
    import functrans.numpy as fnp

    rng = np.random.default_rng(workloads.SEED)
    W = rng.normal(0, 0.3 / np.sqrt(hidden), (hidden, hidden))
    U = rng.normal(0, 1 / np.sqrt(inputs), (inputs, hidden))
    xs = rng.normal(0, 1, (steps, batch, inputs))
    h0 = np.zeros((batch, hidden))

    def py(W, U):
        h = h0
        for t in range(steps):
            h = fnp.tanh(fnp.matmul(h, W) + fnp.matmul(xs[t], U))
        return fnp.sum(h)

    def sc(W, U):
        h, _ = lax.scan(lambda h, x: (fnp.tanh(fnp.matmul(h, W) + fnp.matmul(x, U)), None),
                        h0, xs)
        return fnp.sum(h)
    g = dict(argnums=(0, 1))
    cases = {
        "functrans eager, Python loop": lambda: (lambda f: lambda: f(W, U))(ft.grad(py, **g)),
        "functrans eager, lax.scan": lambda: (lambda f: lambda: f(W, U))(ft.grad(sc, **g)),
        "functrans jit, Python loop (unrolled)":
            lambda: (lambda f: lambda: f(W, U))(ft.jit(ft.grad(py, **g))),
        "functrans jit, lax.scan": lambda: (lambda f: lambda: f(W, U))(ft.jit(ft.grad(sc, **g))),
    }
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        Wj, Uj, xj, hj = map(jnp.asarray, (W, U, xs, h0))

        def js(W, U):
            h, _ = jax.lax.scan(lambda h, x: (jnp.tanh(h @ W + x @ U), None), hj, xj)
            return jnp.sum(h)
        jg = jax.jit(jax.grad(js, argnums=(0, 1)))
        cases["JAX jit, lax.scan"] = lambda: (
            lambda: jax.block_until_ready(jg(Wj, Uj)))
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp

        def ag(W, U):
            h = h0
            for t in range(steps):
                h = anp.tanh(anp.dot(h, W) + anp.dot(xs[t], U))
            return anp.sum(h)
        ag_grad = autograd.grad(ag, argnum=(0, 1))
        cases["autograd, Python loop"] = lambda: (lambda: ag_grad(W, U))
    except ImportError:
        pass
    ref = ft.grad(py, **g)(W, U)
    return cases, ref


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.control_flow", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    args = p.parse_args(argv)
    repeat = 3 if args.quick else 7
    for name, (cases, ref), steps, number in (
            ("logistic map, 1,000 steps, d x_N / d r", logistic_cases(1000), 1000, 3),
            ("rnn, 100 steps, batch 32, 64 hidden, grad in (W, U)", rnn_cases(100), 100, 3)):
        print(f"\n{name}")
        print(f"  {'system':42s} {'µs/step':>9s} {'first call (s)':>15s}")
        for label, make in cases.items():
            fn = make()
            out = fn()
            got = np.asarray(out[0] if isinstance(out, tuple) else out, dtype=float)
            want = np.asarray(ref[0] if isinstance(ref, tuple) else ref, dtype=float)
            if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
                print(f"  {label:42s}   WRONG RESULT")
                continue
            t = median_seconds(fn, repeat, number)
            first = first_call_seconds(make)
            print(f"  {label:42s} {t / steps * 1e6:9.2f} {first:15.3f}")


if __name__ == "__main__":
    main()
