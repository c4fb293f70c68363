"""Session 53 (alloc53): glibc's allocator made every eager call fault its temporaries back in.

An eager ``expit`` on 1e5 float64 points frees several 800 KB temporaries together; glibc mmaps
blocks above its 128 KB threshold and trims the heap top above 256 KB, so the next call took
~1000 minor page faults (2.9-7.5 ms against SciPy's 0.55 ms). functrans now raises
M_MMAP_THRESHOLD to 32 MiB and M_TRIM_THRESHOLD to 64 MiB by mallopt at import, on glibc only,
unless FUNCTRANS_MALLOC_TUNING=0 or the user set a MALLOC_* variable
(functrans/backends/allocator.py, docs/backends.md "Memory: glibc's allocator").

Left: arrays above 32 MiB (4e6 float64 elements) are still mmapped on every call (glibc's
ceiling for the threshold), so each call still faults its pages in at 1e7 elements.
"""

import json
import os
import subprocess
import sys

import pytest

from functrans.backends import allocator

GLIBC = sys.platform.startswith("linux") and allocator._glibc_mallopt() is not None
needs_glibc = pytest.mark.skipif(not GLIBC, reason="the tuning applies on glibc only")

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A child that imports functrans, runs an eager expit loop on fresh 1e5 float64 arrays and
# prints what the tuning did and the minor page faults per call after a warm-up.
_CHILD = r"""
import json, resource
import numpy as np
import functrans
import functrans.scipy.special as fs
from functrans.backends import allocator
xs = [np.random.default_rng(i).standard_normal(100_000) for i in range(8)]
for x in xs[:3]:
    fs.expit(x)
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for x in xs[3:]:
    fs.expit(x)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / len(xs[3:])
print(json.dumps({"tuning": allocator.tuning(), "faults": faults}))
"""


# A child that runs only allocator.py's import-time code, reading its real environment (the
# import of functrans itself is checked by the child above).
_MODULE_CHILD = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("allocator_copy", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps({"tuning": module.tuning()}))
"""


def _child(extra_env, code=_CHILD, args=()):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", allocator.OPT_OUT_VARIABLE)}
    env.update(extra_env)
    env["PYTHONPATH"] = _REPO + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@needs_glibc
def test_applied_by_default_and_eager_loop_stops_faulting():
    # Base: ~500-1000 faults per call (every temporary's pages faulted in again); now ~0.
    got = _child({})
    assert got["tuning"]["applied"] is True
    assert got["tuning"]["settings"] == {"M_MMAP_THRESHOLD": allocator.MMAP_THRESHOLD,
                                         "M_TRIM_THRESHOLD": allocator.TRIM_THRESHOLD}
    # 1e5 float64 is 196 pages per array and expit makes several: 20 is "none to speak of".
    assert got["faults"] < 20, got


@needs_glibc
@pytest.mark.parametrize("env, reason", [
    ({"FUNCTRANS_MALLOC_TUNING": "0"}, "FUNCTRANS_MALLOC_TUNING=0"),
    ({"MALLOC_ARENA_MAX": "2"}, "MALLOC_ARENA_MAX"),
])
def test_not_applied_when_opted_out_or_user_set_malloc(env, reason):
    got = _child(env, _MODULE_CHILD, [allocator.__file__])
    assert got["tuning"]["applied"] is False
    assert got["tuning"]["settings"] == {}
    assert reason in got["tuning"]["reason"]


@pytest.fixture
def restore_record():
    # The tests below call apply() with a fake mallopt (the real thresholds are untouched):
    # put back the record of what the import really did.
    saved = allocator.tuning()
    yield
    allocator._tuning.update(saved)


@pytest.mark.parametrize("find", [lambda: None, lambda: 1 / 0],
                         ids=["no-mallopt", "lookup-raises"])
def test_no_mallopt_never_fails(find, restore_record):
    got = allocator.apply(environ={}, find_mallopt=find)
    assert got == {"applied": False, "reason": "not glibc on Linux (no mallopt)", "settings": {}}


def test_mallopt_calls_and_refusals_are_recorded(restore_record):
    calls = []

    def fake_mallopt(param, value):
        calls.append((param, value))
        return 0 if param == allocator.M_TRIM_THRESHOLD else 1

    got = allocator.apply(environ={}, find_mallopt=lambda: fake_mallopt)
    assert calls == [(allocator.M_MMAP_THRESHOLD, allocator.MMAP_THRESHOLD),
                     (allocator.M_TRIM_THRESHOLD, allocator.TRIM_THRESHOLD)]
    assert got["applied"] is True
    assert got["settings"] == {"M_MMAP_THRESHOLD": allocator.MMAP_THRESHOLD}
    assert got["reason"] == "mallopt refused M_TRIM_THRESHOLD"


def test_user_environment_wins_without_calling_mallopt(restore_record):
    def never(*args):
        raise AssertionError("mallopt called although the user set MALLOC_*")

    for env, reason in [({"MALLOC_MMAP_THRESHOLD_": "131072"}, "MALLOC_MMAP_THRESHOLD_"),
                        ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000"},
                         "GLIBC_TUNABLES"),
                        ({allocator.OPT_OUT_VARIABLE: "0"}, "FUNCTRANS_MALLOC_TUNING=0")]:
        got = allocator.apply(environ=env, find_mallopt=lambda: never)
        assert got["applied"] is False and reason in got["reason"]
    # A GLIBC_TUNABLES without malloc tunables is not the user tuning malloc.
    calls = []
    got = allocator.apply(environ={"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"},
                          find_mallopt=lambda: lambda p, v: calls.append(p) or 1)
    assert got["applied"] is True and len(calls) == 2


def test_tuning_returns_a_copy():
    t = allocator.tuning()
    t["settings"]["M_MMAP_THRESHOLD"] = 1
    assert allocator.tuning()["settings"].get("M_MMAP_THRESHOLD") != 1
