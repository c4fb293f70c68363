"""Session 46, helper device46: host reads of the device paths, which no GPU has run yet.

Pins: the generic inverses' Halley iterations (gammaincinv, gammainccinv, betaincinv on
torch and array-api-strict) read the host once a step, the loop's own test and the next
step's branches together (two or three reads a step before); a staged ``cond`` whose index
is on a device runs every branch and selects the outputs where every branch is small and
only computes (no read of the index: the same values), reads it otherwise (a branch that may
raise, such as a gather's index check); under ``checkify`` the chosen branch's errors alone
are reported; the index range checks read the least and the greatest index together.
Device paths are taken by torch CPU tensors counted as device ones (``_on_host`` False, as
``benchmarks/host_reads.py --as-device``) and by ``array_api_strict@device1``.
"""
from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
import functrans.scipy.special as fsp

from ._host_reads_module import load_host_reads as _host_reads


@pytest.fixture
def as_device(monkeypatch):
    """torch CPU tensors taking a CUDA tensor's paths, and a counter of their host reads."""
    pytest.importorskip("torch")
    from functrans.backends import torch_backend
    monkeypatch.setattr(torch_backend, "_on_host", lambda x: False)
    return _host_reads().counter_for("torch")


def _lines(fn):
    src, first = inspect.getsourcelines(fn)
    return range(first, first + len(src))


def _reads_in(sites, fns):
    """Reads whose innermost functrans line lies in one of the functions ``fns``."""
    out = 0
    for site, k in sites.items():
        inner = site.split(" <- ")[0]
        path, _, line = inner.rpartition(":")
        if path.endswith("generic.py") and any(int(line) in _lines(f) for f in fns):
            out += k
    return out


@pytest.mark.parametrize("name", ["gammaincinv", "gammainccinv", "betaincinv"])
def test_halley_iterations_read_once_a_step(as_device, monkeypatch, name):
    import torch
    from scipy import special as ss

    from functrans.backends import generic
    steps = []
    plain = generic._halley_in_log

    def counted(backend, u, lo, hi, g_parts, linear=False, branches=None):
        def parts(v, *needed):
            steps.append(1)
            return g_parts(v, *needed)
        more = {} if branches is None else {"branches": branches}
        return plain(backend, u, lo, hi, parts, linear, **more)
    monkeypatch.setattr(generic, "_halley_in_log", counted)
    y = np.asarray([0.05, 0.4, 0.95])
    args = {"gammaincinv": (np.full(3, 3.0), y), "gammainccinv": (np.full(3, 0.5), y),
            "betaincinv": (np.full(3, 2.0), np.full(3, 3.0), y)}[name]
    out = []
    with as_device.installed():
        _, sites = as_device.measure(
            lambda: out.append(getattr(fsp, name)(*[torch.as_tensor(v) for v in args])))
    got = out[0].numpy()
    np.testing.assert_allclose(got, getattr(ss, name)(*args), rtol=1e-13)
    # the methods' looks of each step were reads of their own inside g (one to two a step)
    inside_g = _reads_in(sites, [generic._log_gamma_lower, generic._log_gamma_upper,
                                 generic._log_beta_lower])
    assert inside_g == 0, dict(sites)
    loop = _reads_in(sites, [plain])
    n_calls = 2 if name != "betaincinv" else 1
    assert 0 < loop <= len(steps) + n_calls, (loop, len(steps), dict(sites))


def test_staged_cond_on_a_device_reads_no_index(as_device):
    hr = _host_reads()
    table, _, _ = hr.run(["cond", "checkify cond"], modes=("forward", "jit(grad)"),
                         as_device=True)
    # (the eager cond reads its predicate: Python control flow the user asked for)
    assert table == {"cond": {"forward": 1, "jit(grad)": 0},
                     "checkify cond": {"forward": 0, "jit(grad)": 0}}, table


def _on_device1(v):
    xps = pytest.importorskip("array_api_strict")
    return xps.asarray(np.asarray(v), device=xps.Device("device1"))


def _host(v):
    xps = sys.modules["array_api_strict"]
    return np.asarray(xps.asarray(v, device=xps.Device()))


def _branches():
    return [lambda v: fnp.log(v) * v, fnp.cos, lambda v: v * v, lambda v: fnp.tanh(-v)]


def test_staged_switch_gives_the_numpy_values(backend):
    # (on a device, array_api_strict@device1 and CuPy, every branch runs and the outputs are
    # selected by the index: the values of the chosen branch, bit for bit, in the dtypes)
    def f(x, i):
        return fnp.sum(lax.switch(i, _branches(), x))

    def g(x, i):  # (an integer output beside the floating one)
        return lax.switch(i, [lambda v: (fnp.sum(v), fnp.astype(fnp.argmax(v), fnp.int32)),
                              lambda v: (fnp.prod(v), fnp.astype(fnp.argmin(v), fnp.int32))],
                          x)
    xb = backend.asarray([0.5, -1.5, 2.0])
    for i in (-1, 0, 1, 3, 7):   # (switch clips the index)
        ib = backend.asarray(i, dtype="int32")
        for fn in (f, ft.grad(f)):   # (eagerly: the chosen branch alone, on the same library)
            with np.errstate(invalid="ignore"):
                want = backend.to_numpy(fn(xb, i))
                got = ft.jit(fn)(xb, ib)
            assert backend.is_own(got)
            np.testing.assert_array_equal(backend.to_numpy(got), want)
    for i in (0, 1):
        got = ft.jit(g)(xb, backend.asarray(i, dtype="int32"))
        want = g(xb, i)
        assert [backend.to_numpy(v).tolist() for v in got] == [backend.to_numpy(v).tolist()
                                                             for v in want]
        assert backend.to_numpy(got[1]).dtype == np.int32


def test_checkify_reports_the_chosen_branch_only_on_device1():
    from functrans.experimental import checkify

    def h(x):
        return lax.cond(x[0] > 0, fnp.log, lambda v: v * 2.0, x)
    checked = ft.jit(checkify.checkify(h, errors=checkify.nan_checks))
    with np.errstate(invalid="ignore"):   # (log not taken: its nan is no error)
        err, out = checked(_on_device1([-1.0, 2.0]))
    assert err.get() is None and _host(out).tolist() == [-2.0, 4.0]
    with np.errstate(invalid="ignore"):
        err, out = checked(_on_device1([1.0, -2.0]))
    assert "nan generated by primitive: log" in err.get()


def test_a_branch_that_may_raise_is_not_run_when_not_chosen_on_device1():
    # a gather checks its index: the branch not chosen, with an index out of range, must
    # not run (nor raise); the index is read instead
    def f(x, i):
        return lax.cond(i < 3, lambda: x[i], lambda: x[0])
    x = _on_device1([1.0, 2.0, 3.0])
    assert _host(ft.jit(f)(x, _on_device1(np.int64(7)))) == 1.0
    assert _host(ft.jit(f)(x, _on_device1(np.int64(2)))) == 3.0


def test_index_range_checks_read_least_and_greatest_together(as_device):
    import torch
    idx = np.arange(4096) % 64

    def f(v):
        return fnp.take(v, torch.as_tensor(idx))
    x = torch.linspace(0.0, 1.0, 64, dtype=torch.float64)
    with as_device.installed():
        reads, sites = as_device.measure(lambda: ft.jacfwd(f)(x))
    # (8 before: the eager check's 2, and 2 for each of the three gathers)
    assert reads <= 4, dict(sites)
    np.testing.assert_array_equal(ft.jacfwd(f)(x).numpy(), np.eye(64)[idx])
    with pytest.raises(IndexError, match="64"):
        fnp.take(x, torch.as_tensor(np.arange(65)))
