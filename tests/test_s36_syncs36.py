"""Session 36, host reads (helper syncs36): benchmarks/host_reads.py counts the reads of a
tensor's value on the host (device synchronisations on a GPU), and torch's digamma and
searchsorted fix-ups take no such read on a device tensor (there the fix-up is computed
everywhere and selected; a CPU tensor keeps the look that skips it).

No GPU here: the device paths are forced on CPU tensors (``_on_host`` patched to False) and
must give the CPU paths' values bit for bit, and NumPy's searchsorted."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fss
from ._host_reads_module import load_host_reads as _host_reads_module

torch = pytest.importorskip("torch")

inf, nan = math.inf, math.nan


@pytest.fixture(scope="module")
def host_reads():
    return _host_reads_module()


@pytest.fixture
def on_device(monkeypatch):
    """torch's backend acting as on a GPU: no look at the values on the host."""
    from functrans.backends import torch_backend
    monkeypatch.setattr(torch_backend, "_on_host", lambda x: False)


def _t(v):
    return torch.as_tensor(np.asarray(v, dtype=np.float64))


# -- the counter ---------------------------------------------------------------------------

def test_counter_counts_a_python_bool_and_not_sin(host_reads):
    counter = host_reads.counter_for("torch")
    x = _t(np.linspace(-1.0, 1.0, 8))
    originals = {n: torch.Tensor.__dict__.get(n) for n in host_reads.TORCH_READS}

    def branchy(v):
        return fnp.sin(v) if bool(fnp.sum(v) > 0.0) else fnp.cos(v)

    def total_sin(v):
        return fnp.sum(fnp.sin(v))

    with counter.installed():
        n_bool, sites = counter.measure(lambda: branchy(x))
        n_grad_bool, _ = counter.measure(lambda: ft.grad(lambda v: fnp.sum(branchy(v)))(x))
        n_sin, _ = counter.measure(lambda: ft.grad(total_sin)(x))
        n_item, _ = counter.measure(lambda: x[0].item())
        n_copy, _ = counter.measure(lambda: x.cpu().numpy())  # one read, not two
        outside = bool(x[0] < 5.0)  # (not measured: not counted)
    assert outside and n_bool >= 1 and n_grad_bool >= 1
    assert n_sin == 0
    assert (n_item, n_copy) == (1, 1)
    assert dict(sites) == {"(outside functrans)": 1}  # (the user's own bool, on a tensor)
    # the wrappers are gone afterwards
    assert {n: torch.Tensor.__dict__.get(n) for n in host_reads.TORCH_READS} == originals


def test_run_table_and_sites(host_reads):
    table, sites, users = host_reads.run(["sin", "python bool", "digamma"])
    assert table["sin"] == {m: 0 for m in host_reads.MODES}
    assert table["python bool"]["forward"] >= 1
    assert table["python bool"]["jit(grad)"] == "ConcretizationError"
    assert table["digamma"]["forward"] >= 1  # (a CPU tensor: the look that skips work)
    assert any("torch_backend.py" in s and "digamma" in users[s] for s in sites)
    text = host_reads.format_table(table) + host_reads.format_sites(sites, users, 5)
    assert "python bool" in text and "jit(grad)" in text
    with pytest.raises(SystemExit, match="unknown case"):
        host_reads.run(["no such case"])


def test_as_device_run_takes_the_device_paths(host_reads):
    from functrans.backends import torch_backend
    before = torch_backend._on_host
    table, _, _ = host_reads.run(["digamma", "gammaln"], modes=("forward", "grad"),
                                 as_device=True)
    assert torch_backend._on_host is before
    assert table["gammaln"] == {"forward": 0, "grad": 0}  # (digamma's look: 1 on the CPU)
    assert table["digamma"]["forward"] == 0


def test_device_paths_read_nothing(host_reads, on_device):
    table, _, _ = host_reads.run(["digamma"], modes=("forward",))
    assert table["digamma"]["forward"] == 0
    counter = host_reads.counter_for("torch")
    x1 = _t([1.0, 2.0, nan])
    with counter.installed():
        n, _ = counter.measure(lambda: fnp.searchsorted(x1, _t([2.5, nan])))
    assert n == 0


# -- digamma: the same bits on both paths ---------------------------------------------------

def _digamma_points():
    pts = [-inf, inf, nan, 0.0, -0.0, 0.5, 1.0, 1.4616321449683622, 3.0, 1e-300, -1e-300,
           -0.5, -1.5, -0.0625, -0.9375, -1.0625, -2.9375]
    for k in (1, 2, 3, 7, 40, 1000):
        for d in (1e-16, 1e-12, 1e-8, 1e-3, 0.03, 0.0624, 0.0626, 0.2):
            pts += [-k + d, -k - d]
        pts += [-float(k), np.nextafter(-float(k), 0.0), np.nextafter(-float(k), -inf)]
    return np.asarray(pts)


def test_digamma_device_path_same_bits():
    from functrans.backends.torch_backend import _digamma, _digamma_reflected_where_near
    x = _t(_digamma_points())
    host = _digamma(x)
    device = _digamma_reflected_where_near(x, torch.special.digamma(x))
    np.testing.assert_array_equal(device.numpy(), host.numpy())
    for v in (_t([]), _t(-1.0 + 1e-8), _t(np.full((2, 3), -2.01))):  # empty, 0-d, 2-d
        np.testing.assert_array_equal(
            _digamma_reflected_where_near(v, torch.special.digamma(v)).numpy(),
            _digamma(v).numpy())
    # (and the host path is the accurate one: digamma(-1 + 1e-8) by the reflection)
    mp = pytest.importorskip("mpmath")
    with mp.workdps(40):
        ref = float(mp.digamma(mp.mpf(-1.0 + 1e-8)))
    got = device.numpy()[list(_digamma_points()).index(-1.0 + 1e-8)]
    assert abs(got - ref) <= 4e-16 * abs(ref)


def test_digamma_and_derivatives_on_device_path(on_device):
    x = _t([-2.5, -1.0 + 1e-9, 0.3, 4.0])
    from functrans.backends import torch_backend

    def f(v):
        return fnp.sum(fss.digamma(v))

    got = (fss.digamma(x).numpy(), ft.grad(f)(x).numpy())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch_backend, "_on_host", lambda v: True)
        want = (fss.digamma(x).numpy(), ft.grad(f)(x).numpy())
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# -- searchsorted with NaNs at the end ------------------------------------------------------

@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_device_path_matches_numpy(on_device, side):
    rng = np.random.default_rng(36)
    specials = [nan, inf, -inf, 0.0, -0.0, 1.0]
    for trial in range(60):
        n = int(rng.integers(1, 12))
        x1 = rng.choice([-inf, -1.0, 0.0, 0.5, 1.0, 2.0, inf, nan], size=n)
        x1 = np.sort(x1)  # (NaNs last, as NumPy sorts)
        x2 = np.concatenate([rng.choice(specials + [0.25, 1.5, 3.0], size=7),
                             rng.standard_normal(3)])
        got = fnp.searchsorted(_t(x1), _t(x2), side=side)
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(x1, x2, side=side),
                                      err_msg=f"{x1} {x2}")


def test_searchsorted_device_path_same_as_host_path_and_vmapped(on_device):
    from functrans.backends import torch_backend
    x1 = _t([-1.0, 0.0, 0.0, 2.0, inf, nan, nan])
    x2 = _t([[nan, -2.0, 0.0, inf], [2.0, 2.5, -inf, 0.0]])
    got = [fnp.searchsorted(x1, x2, side=s).numpy() for s in ("left", "right")]
    got.append(ft.vmap(lambda v: fnp.searchsorted(x1, v))(x2).numpy())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch_backend, "_on_host", lambda v: True)
        want = [fnp.searchsorted(x1, x2, side=s).numpy() for s in ("left", "right")]
        want.append(ft.vmap(lambda v: fnp.searchsorted(x1, v))(x2).numpy())
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    # an empty sequence: no search (the host path's, NumPy's 0)
    np.testing.assert_array_equal(fnp.searchsorted(_t([]), _t([1.0, nan])).numpy(), [0, 0])


def test_unwrappable_class_is_a_clear_error(host_reads):
    counter = host_reads.HostReadCounter(int, ("__bool__",))
    with pytest.raises(RuntimeError, match="cannot be wrapped"):
        with counter.installed():
            pass
    assert bool(3) and not bool(0)
