"""Bookkeeping shared by the seeded fuzzers (tests/_fuzz_*.py): failures, counts, closeness.

Not collected by pytest (leading underscore); needs no JAX. Each fuzzer makes one ``Tally``
and binds its ``fail``/``count`` and lists to module names, so that code (and tests that
import a fuzzer and read its ``FAILS``) keeps using them as before.
"""

from __future__ import annotations

import sys
import traceback

import numpy as np


class Tally:
    """Failures (printed as they happen) and case counts of one fuzzer run.

    ``progress_every``: print a line every that many cases of one key (0: never).
    """

    def __init__(self, progress_every: int = 0):
        self.fails: list = []
        self.counts: dict = {}
        self.progress_every = progress_every

    def fail(self, section, case, msg):
        self.fails.append((section, case, msg))
        print(f"FAIL [{section}] {msg}\n    case={case}", flush=True)

    def count(self, key):
        n = self.counts[key] = self.counts.get(key, 0) + 1
        if self.progress_every and n % self.progress_every == 0:
            print(f"  {key}: {n} cases", flush=True)

    def exit_status(self, label="cases:"):
        """Print the counts (sorted by key) and the number of failures; 1 if any failed, else 0."""
        print(label, ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items(),
                                                              key=lambda kv: str(kv[0]))))
        print(f"{len(self.fails)} failures")
        return 1 if self.fails else 0


def close_scaled(a, b, tol):
    """Whether ``a`` is within ``tol`` of the reference ``b``, relative to the largest finite
    magnitude of ``b`` (at least 1): ``(ok, message)``. nan matches nan and an infinity the same
    infinity; any other nan in the difference fails."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return True, ""
    finite = np.isfinite(b)
    scale = max(1.0, float(np.max(np.abs(b[finite]))) if finite.any() else 1.0)
    err = np.where(np.isnan(a) & np.isnan(b), 0.0, np.abs(a - b))
    err = np.where(np.isinf(a) & (a == b), 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    e = float(np.max(err))
    return (e <= tol * scale), f"max err {e:.3g} (scale {scale:.3g})"


def run_sections(sections, tally, seed0, seed1, names, n, verbose=False):
    """Run ``n`` cases of each named section (``sections[name](rng)``) for the seeds
    ``[seed0, seed1)``, one generator per (seed, section); a case that raises in the harness
    counts as a failure. Returns the exit status."""
    unknown = [name for name in names if name not in sections]
    if unknown:
        sys.exit(f"unknown section {unknown[0]!r}; known: {', '.join(sections)}")
    for seed in range(seed0, seed1):
        for name in names:
            rng = np.random.default_rng([seed, sorted(sections).index(name)])
            for _ in range(n):
                try:
                    sections[name](rng)
                except Exception as e:  # noqa: BLE001
                    tally.fail(name, f"seed {seed}", f"harness raised {type(e).__name__}: {e}")
                    if verbose:
                        traceback.print_exc()
    return tally.exit_status()


def generator_args(argv, generators, new_generators):
    """The nn and lax fuzzers' command line: ``SEED0 SEED1 [--n N] [--only NAME,...]
    [--case SEED:IT]``. Returns (args, the iterations to run or None for ``range(n)``,
    verbose, the generators of ``generators`` to draw from, those of ``new_generators``)."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("seed0", type=int, nargs="?", default=0)
    ap.add_argument("seed1", type=int, nargs="?", default=1)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--only", default="")
    ap.add_argument("--case", default="", help="SEED:IT, one case (verbose)")
    a = ap.parse_args(argv)
    its, verbose = None, False
    if a.case:
        s, i = (int(v) for v in a.case.split(":"))
        a.seed0, a.seed1, verbose = s, s + 1, True
        its = [i]
    only = [s for s in a.only.split(",") if s]
    unknown = [n for n in only if n not in generators and n not in new_generators]
    if unknown:
        sys.exit(f"unknown generator {unknown[0]!r}; known: "
                 f"{', '.join(list(generators) + list(new_generators))}")
    names = [n for n in only if n in generators] if only else list(generators)
    new = [n for n in only if n in new_generators] if only else list(new_generators)
    return a, its, verbose, names, new
