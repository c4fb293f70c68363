"""Timing primitives: a deadline for one call, calibrated samples, interleaved rounds.

On a noisy 2-core machine the systems are sampled round-robin (every round times each system
once, starting each round with a different one), so that a burst of background load hits all of
them alike; the median across rounds is what is reported.
"""

from __future__ import annotations

import gc
import signal
import statistics
import time
from contextlib import contextmanager


class Timeout(Exception):
    pass


@contextmanager
def deadline(seconds):
    """Raise Timeout inside the block after ``seconds`` (main thread, POSIX; else no limit)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def _raise(signum, frame):
        raise Timeout(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def time_once(fn, args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def inner_count(single_call_seconds, budget, most=200):
    """How many calls one sample takes the min over: about ``budget`` seconds' worth."""
    return max(1, min(most, int(budget / max(single_call_seconds, 1e-9))))


def sample(fn, args, inner):
    """Min over ``inner`` calls: the least-disturbed call (1 call for slow functions).

    The garbage collector stays on during the calls (its cost is part of a tracing library's
    cost) but is emptied before each sample so one system's garbage is not billed to the next.
    """
    gc.collect()
    best = float("inf")
    for _ in range(inner):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def round_robin(calls, rounds):
    """``calls``: name -> (fn, args, inner). Return name -> list of samples, one per round."""
    names = list(calls)
    samples = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:
            fn, args, inner = calls[name]
            samples[name].append(sample(fn, args, inner))
    return samples


def median(xs):
    return statistics.median(xs) if xs else None
