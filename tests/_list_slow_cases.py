"""Write tests/slow_cases.txt, the backend cases the default test run leaves out (CI time).

Input: the output of a full timed run, every case included::

    python -m pytest -n auto --run-slow --durations=0 --durations-min=0 > /tmp/run.log
    python -m tests._list_slow_cases /tmp/run.log [--threshold 0.15]

A case is listed when its call took longer than the threshold and it has a sibling, the same
test with the same other parameters on another backend, that does not; where every backend's
case is slow, all but the cheapest are listed. So each test, with each of its other
parameters, still runs on at least one backend in the default run, and the list never holds a
test that is not backend-parametrised. ``--run-slow`` (or FUNCTRANS_RUN_SLOW=1) runs them all:
the lead runs the whole suite that way each session.
"""

from __future__ import annotations

import argparse
import collections
import os
import re

_CALL = re.compile(r"^\s*([0-9.]+)s call\s+(\S.*?)\s*$")
_BACKEND = re.compile(r"\[(numpy|array_api_strict@device1|array_api_strict|torch|cupy)(?=[-\]])")
OUT = os.path.join(os.path.dirname(__file__), "slow_cases.txt")


def call_durations(lines):
    """{node id: seconds} of the ``call`` phases in pytest's ``--durations`` report."""
    out = {}
    for line in lines:
        m = _CALL.match(line)
        if m:
            out[m.group(2)] = float(m.group(1))
    return out


def slow_cases(durations, threshold):
    groups = collections.defaultdict(dict)
    for node, seconds in durations.items():
        m = _BACKEND.search(node)
        if m:  # (the case's id with its backend blanked out: its siblings share it)
            groups[node[:m.start(1)] + "*" + node[m.end(1):]][m.group(1)] = (node, seconds)
    listed = []
    for cases in groups.values():
        slow = [c for c in cases.values() if c[1] > threshold]
        if not slow:
            continue
        if len(slow) == len(cases):
            slow.remove(min(slow, key=lambda c: c[1]))
        listed.extend(node for node, _ in slow)
    return sorted(listed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="a full run's output with --durations=0 --durations-min=0")
    parser.add_argument("--threshold", type=float, default=0.15, help="seconds (default 0.15: the timings of a quiet machine)")
    args = parser.parse_args(argv)
    with open(args.log, encoding="utf-8", errors="replace") as f:
        durations = call_durations(f)
    if not durations:
        raise SystemExit(f"{args.log}: no 'call' durations found (run pytest with "
                         "--durations=0 --durations-min=0)")
    listed = slow_cases(durations, args.threshold)
    total = sum(durations.values())
    saved = sum(durations[n] for n in listed)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("# The backend cases the default test run leaves out (--run-slow runs them):\n"
                "# each took over %.2f s and has a cheaper case of the same test on another\n"
                "# backend. Made by `python -m tests._list_slow_cases`; %d cases, %.0f of\n"
                "# %.0f test-seconds in the timed run.\n" % (args.threshold, len(listed),
                                                            saved, total))
        f.writelines(node + "\n" for node in listed)
    print(f"{OUT}: {len(listed)} cases, {saved:.0f} of {total:.0f} s")


if __name__ == "__main__":
    main()
