"""Random numbers: ``functrans.random`` against ``jax.random`` and NumPy's generator:
``python -m benchmarks.random_numbers [--quick] [--sizes 1000,1000000] [--samplers ...]``.

Draws ``n`` float64 samples from one key (``uniform``, ``normal``; ``gamma(alpha=2.5)`` too).
Rows:

- functrans on NumPy and on PyTorch (CPU) eagerly, and on NumPy under ``jit`` (the key an
  argument of the staged function);
- JAX (x64, partitionable Threefry: the same bits as functrans) eagerly and under ``jax.jit``;
- ``numpy.random.default_rng`` (PCG64, ziggurat normals: another generator, not the same
  numbers), the floor of what a sampler costs in NumPy.

Each time is the median of several calls after a warm-up, in ms and as a ratio to JAX eager
measured in the same run. Every thread pool is pinned to one thread (benchmarks/__init__.py and
``torch.set_num_threads(1)``), as in the main suite. Before timing, functrans's uniforms are
checked equal to JAX's (normals to 1e-11: JAX's float64 erf_inv is some 1e-12 off in the tails).
"""

from __future__ import annotations

import argparse

import numpy as np

from .control_flow import median_seconds

SAMPLERS = ("uniform", "normal", "gamma")
ALPHA = 2.5


def _draw(mod, name, key, n):
    if name == "gamma":
        return mod.gamma(key, ALPHA, (n,))
    return getattr(mod, name)(key, (n,))


def cases(name, n):
    """label -> a no-argument function drawing ``n`` samples; and JAX's result, if any."""
    import functrans as ft
    import functrans.random as fr

    out = {}
    k = fr.PRNGKey(0)
    if name != "gamma" or hasattr(fr, "gamma"):
        out["functrans numpy"] = lambda: _draw(fr, name, k, n)
        jf = ft.jit(lambda kk: _draw(fr, name, kk, n))
        out["functrans numpy jit"] = lambda: jf(k)
        try:
            import torch
            torch.set_num_threads(1)
            kt = torch.from_numpy(np.asarray(k))
            out["functrans torch"] = lambda: _draw(fr, name, kt, n)
        except ImportError:
            pass
    ref = None
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_threefry_partitionable", True)
        import jax.random as jr
        jk = jr.PRNGKey(0)
        out["JAX eager"] = lambda: jax.block_until_ready(_draw(jr, name, jk, n))
        jj = jax.jit(lambda kk: _draw(jr, name, kk, n))
        out["JAX jit"] = lambda: jax.block_until_ready(jj(jk))
        ref = np.asarray(_draw(jr, name, jk, n))
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    method = {"uniform": lambda: rng.random(n), "normal": lambda: rng.standard_normal(n),
              "gamma": lambda: rng.standard_gamma(ALPHA, n)}[name]
    out["numpy.random (PCG64)"] = method
    return out, ref


def check(name, systems, ref):
    """Whether functrans's samples are JAX's (uniform exactly, normal to rounding)."""
    if ref is None or name == "gamma" or "functrans numpy" not in systems:
        return "not checked"
    got = np.asarray(systems["functrans numpy"]())
    if name == "uniform":
        return "same as JAX" if np.array_equal(got, ref) else "DIFFERENT FROM JAX"
    return "same as JAX" if np.allclose(got, ref, rtol=1e-11, atol=0) else "DIFFERENT FROM JAX"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.random_numbers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--sizes", default="1000,1000000", help="comma-separated sample counts")
    p.add_argument("--samplers", default=",".join(SAMPLERS),
                   help=f"comma-separated, of {', '.join(SAMPLERS)}")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [s.strip() for s in args.samplers.split(",") if s.strip()]
    for s in names:
        if s not in SAMPLERS:
            p.error(f"unknown sampler {s!r}")
    for name in names:
        for n in sizes:
            repeat = 3 if args.quick else 7
            number = max(1, min(50, 10 ** 6 // (20 * n))) if not args.quick else 1
            systems, ref = cases(name, n)
            print(f"{name}, n = {n:,}, float64 ({check(name, systems, ref)})")
            print(f"  {'system':26s} {'ms':>10s} {'× JAX eager':>12s}")
            times = {label: median_seconds(fn, repeat, number) for label, fn in systems.items()}
            base = times.get("JAX eager")
            for label, t in times.items():
                ratio = f"{t / base:12.2f}" if base else f"{'':12s}"
                print(f"  {label:26s} {t * 1e3:10.3f} {ratio}")


if __name__ == "__main__":
    main()
