"""Session 51 (special51b): polygamma(n, x), n >= 1, far left.

- SciPy's polygamma (and CuPy's, its port) and torch's for n >= 2 shift x < 0 up one step
  at a time: time in proportion to |x| (SciPy's trigamma 1.8 s at -1e8, 34 s at -1e9, no end
  at -1e12; torch's psi'' 23 s at -1e9), so fsp.polygamma(1, x), grad(digamma),
  hessian(gammaln) and grad(grad(digamma)) hung there. Now below -100 (the poles excepted)
  the reflection psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x)) with the exact
  d = x - round(x) (the generic polygamma's term, now generic.polygamma_cot_term), on every
  backend (a device's read-free): within 3 ulp of mpmath for n = 1, 6 for n = 2, 3, on 352
  points in (-1e15, -100) (log-uniform, next to integers, at and next to half-integers).

Left: for even n the reflection's two terms have opposite signs; next to psi^(n)'s roots
(near the half-integers, where the cot term is as small as psi^(n)(1 - x)) its absolute
error, about eps |psi^(n)(1 - x)|, is many ulp of the value (SciPy's recurrence cancels
there too). Between -100 and -10 the libraries' own polygamma (SciPy's: up to 100 steps).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp
from tests._reference import mpmath_or_skip, ulps

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (far below -100: base's SciPy never returned at -1e12, took 34 s at -1e9)
_FAR = [-1000000006.9521097, -1e12 - 0.5, -123456789012.3, -2.0 ** 45 - 0.25,
        np.nextafter(-1e9, 0.0), np.nextafter(-1e9, -np.inf), -7.0e14 - 0.125, -100.5,
        np.nextafter(-101.0, 0.0), -250.75]

_SCRIPT = r"""
import json, sys
import numpy as np
import functrans as ft
import functrans.scipy.special as fsp
xs = json.loads(sys.argv[1])
out = {}
x = np.array(xs)
for n in (1, 2, 3):
    out["numpy%d" % n] = np.asarray(fsp.polygamma(n, x)).tolist()
out["grad"] = [float(ft.grad(fsp.digamma)(v)) for v in xs[:2]]
out["hessian"] = [float(ft.hessian(fsp.gammaln)(v)) for v in xs[:2]]
out["grad2"] = [float(ft.grad(ft.grad(fsp.digamma))(v)) for v in xs[:2]]
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    from functrans.backends import torch_backend
    t = torch.tensor(xs, dtype=torch.float64)
    for n in (1, 2):
        out["torch%d" % n] = fsp.polygamma(n, t).tolist()
    torch_backend._on_host = lambda a: False   # (the device path, as CUDA's)
    for n in (1, 2):
        out["torchdev%d" % n] = fsp.polygamma(n, t).tolist()
import array_api_strict as aas
for name, dev in (("strict", aas.Device()), ("strict1", aas.Device("device1"))):
    a = aas.asarray(xs, dtype=aas.float64, device=dev)
    for n in (1, 2):
        out["%s%d" % (name, n)] = [float(v) for v in
                                   np.asarray(fsp.polygamma(n, a).to_device(aas.Device()))]
print(json.dumps(out))
"""


def _psi_n_mp(n, xs):
    """psi^(n)(x), n = 1..3, for x < 0 with mpmath (50 digits) by the reflection, its sine and
    cosine of pi d with the exact d = x - round(x) (mpmath's own polygamma takes |x| steps)."""
    mp = mpmath_or_skip()
    out = []
    with mp.workdps(50):
        for v in xs:
            x = mp.mpf(float(v))
            d = x - mp.nint(x)
            s = mp.sin(mp.pi * d)
            c, csc2 = mp.cos(mp.pi * d) / s, 1 / s ** 2
            right = mp.polygamma(n, 1 - x)
            if n == 1:
                value = -right + mp.pi ** 2 * csc2
            elif n == 2:
                value = right - 2 * mp.pi ** 3 * csc2 * c
            else:
                value = -right + 2 * mp.pi ** 4 * csc2 * (2 * c * c + csc2)
            out.append(float(value))
    return np.array(out)


@pytest.fixture(scope="module")
def far_values():
    env = dict(os.environ, PYTHONPATH=_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        done = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps([float(v) for v in _FAR])],
                              capture_output=True, text=True, timeout=30, cwd=_ROOT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("polygamma far left: no answer in 30 s (the libraries' |x| steps)")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_far_left_numpy(far_values, n):
    want = _psi_n_mp(n, _FAR)
    assert ulps(far_values["numpy%d" % n], want).max() <= 8


def test_derivatives_of_digamma_and_gammaln_far_left(far_values):
    want1, want2 = _psi_n_mp(1, _FAR[:2]), _psi_n_mp(2, _FAR[:2])
    assert ulps(far_values["grad"], want1).max() <= 4
    assert ulps(far_values["hessian"], want1).max() <= 4
    assert ulps(far_values["grad2"], want2).max() <= 8


@pytest.mark.parametrize("name", ["torch", "torchdev", "strict", "strict1"])
def test_polygamma_far_left_other_backends(far_values, name):
    if name + "1" not in far_values:
        pytest.skip("torch is not installed")
    for n in (1, 2):
        assert ulps(far_values["%s%d" % (name, n)], _psi_n_mp(n, _FAR)).max() <= 8


def test_polygamma_far_left_poles_and_float32():
    # (poles, -inf and nan as before: SciPy's values; float32 in float64, as SciPy's)
    x = np.array([-1e300, -np.inf, np.nan, -1e6, -200.0, 3.0, -100.5])
    got = fsp.polygamma(1, x)
    assert np.isinf(got[[0, 1, 3, 4]]).all() and (got[[0, 1, 3, 4]] > 0).all()
    assert np.isnan(got[2]) and got[5] == pytest.approx(0.3949340668482264, rel=1e-15)
    assert np.all(np.isneginf(fsp.polygamma(2, np.array([-1e300, -np.inf, -200.0]))))
    assert ulps(got[6], _psi_n_mp(1, [-100.5])[0]) <= 2
    x32 = np.float32(-1234567.25)
    from functrans import lax
    got32 = lax.polygamma(np.float32(1.0), np.array([x32, 2.5], dtype=np.float32))
    assert got32.dtype == np.float32
    assert got32[0] == np.float32(_psi_n_mp(1, [float(x32)])[0])


def test_polygamma_far_left_keeps_input_and_shape():
    x = np.array([[-1e9 - 0.3, 2.0], [-150.25, -5.5]])
    before = x.copy()
    got = fsp.polygamma(1, x)
    assert got.shape == (2, 2) and np.array_equal(x, before)
    assert ulps(got[0, 0], _psi_n_mp(1, [x[0, 0]])[0]) <= 4
    assert ulps(ft.jit(lambda v: fsp.polygamma(1, v))(x), got).max() <= 1


def test_polygamma_far_left_torch_device_path_reads_nothing(monkeypatch):
    torch = pytest.importorskip("torch")
    from tests._reference import no_torch_host_reads
    xs = [-1e6 - 0.3, -150.25, -5.5, 2.5, -200.0]
    want = {n: np.asarray(fsp.polygamma(n, torch.tensor(xs, dtype=torch.float64))) for n in (1, 2)}
    no_torch_host_reads(monkeypatch, torch)
    for n in (1, 2):
        got = fsp.polygamma(n, torch.tensor(xs, dtype=torch.float64))
        monkeypatch.undo()
        assert ulps(np.asarray(got)[:4], want[n][:4]).max() <= 1
        assert np.isinf(np.asarray(got)[4])
        no_torch_host_reads(monkeypatch, torch)
