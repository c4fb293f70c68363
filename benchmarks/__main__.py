"""Benchmark functrans against the same code on raw NumPy (the floor), autograd, JAX (eager and
jit) and torch.func, in one process, interleaved; W6 and W8 in fresh child processes.

Writes results.json, results.png and RESULTS.md next to this file (or to --out)."""

from __future__ import annotations

import argparse
import os
import sys

from . import report, runner, systems

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8")


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="3 rounds, shorter samples and caps; W8 skipped unless --only names it")
    p.add_argument("--only", help="comma-separated workloads, e.g. W1,W3")
    p.add_argument("--systems", help="comma-separated systems (the numpy floor is always run): "
                   + ",".join(systems.ORDER))
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 7, quick 3)")
    p.add_argument("--timeout", type=float,
                   help="cap in seconds for one W6/W8 child process (default 240, quick 45)")
    p.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                   help="folder for results.json, results.png, RESULTS.md (default: benchmarks/)")
    p.add_argument("--no-save", action="store_true", help="print the table only")
    args = p.parse_args(argv)

    only = None
    if args.only:
        only = {w.strip().upper() for w in args.only.split(",") if w.strip()}
        unknown = only - set(WORKLOADS)
        if unknown:
            p.error(f"unknown workload(s) {sorted(unknown)}; choose from {','.join(WORKLOADS)}")
    chosen = None
    if args.systems:
        chosen = [s.strip() for s in args.systems.split(",") if s.strip()]
        unknown = set(chosen) - set(systems.ORDER)
        if unknown:
            p.error(f"unknown system(s) {sorted(unknown)}; choose from {','.join(systems.ORDER)}")
        chosen = [s for s in systems.ORDER if s in chosen or s == "numpy"]
    opts = runner.Options.make(quick=args.quick, only=only, systems=chosen, rounds=args.rounds,
                               child_timeout=args.timeout)
    return opts, args


def main(argv=None):
    opts, args = parse(sys.argv[1:] if argv is None else argv)
    print(f"functrans benchmarks ({'quick' if opts.quick else 'full'}), "
          f"{os.cpu_count()} CPUs, BLAS threads pinned to 1")
    run = runner.run(opts)
    report.print_report(run)
    if not args.no_save:
        for path in report.save(run, args.out):
            print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
