"""Session 44, helper device44: the device paths, checked without a GPU.

Pins: CuPy's special functions get the repairs the NumPy backend makes to SciPy's (cupyx ports
SciPy's code; checked here with SciPy's originals standing in for the ports,
functrans/backends/library_special.py), keep float32, and take 2F1/1F1 from the generic
versions; CuPy's ``may_share_memory``/``shares_memory`` are called in the forms CuPy takes
(NumPy's integer ``max_work`` raised NotImplementedError there); torch's fix-ups of its own
kernels (sinh/cosh, i0/i1, K0/K1, zeta) and the generic lgamma/digamma/polygamma reflections
read nothing on the host for a device tensor, with the right values; the read-free paths of
sessions 41-43 (special functions' tails and slopes, the stats "fix" primitives) give the host
paths' values on array-api-strict's second device; float32 stays float32 through the
transforms (the tangents and cotangents have the primals' dtype, jit and vmap the eager
dtypes), as JAX.
"""

from __future__ import annotations

import math
import pathlib
import sys
import types
import warnings

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
import functrans.scipy.stats as fst
from functrans.backends import get_backend
from ._host_reads_module import load_host_reads as _host_reads

sc = pytest.importorskip("scipy.special")

mp.mp.dps = 40


def _ulps(got, want):
    """|got - want| in units of want's float64 epsilon (relative; inf where one is nan or
    infinite and they differ)."""
    if got == want:
        return 0.0
    if math.isinf(want) or math.isnan(got) or math.isinf(got):
        return math.inf
    return (abs(got - want) / abs(want)) / 2.0 ** -52 if want else abs(got)


def _wrap(*args):
    from functrans.backends import library_special   # (session 44's)
    return library_special.wrap(*args)


# -- CuPy's special functions: the repairs, with SciPy's originals standing in for cupyx's ------

# (extra name, SciPy's name, arguments, the true value, the ulps allowed after the repair;
# SciPy's own is more than ten times that off)
_REPAIRED = [
    ("lgamma", "gammaln", (5e-324,), lambda x: mp.loggamma(x), 4),
    ("lgamma", "gammaln", (-math.inf,), lambda x: mp.inf, 0),
    ("digamma", "psi", (-1.0 + 2.0 ** -52,), lambda x: mp.digamma(x), 4),
    ("erfc", "erfc", (26.7,), lambda x: mp.erfc(x), 1e4),   # (subnormal: 1e-12 relative)
    ("i0", "i0", (710.0,), lambda x: mp.besseli(0, x), 8),
    ("i1", "i1", (-712.0,), lambda x: mp.besseli(1, x), 8),
    ("k0", "k0", (5e-324,), lambda x: mp.besselk(0, x), 4),
    ("k0e", "k0e", (5e-324,), lambda x: mp.besselk(0, x) * mp.exp(x), 4),
    ("expi", "expi", (710.0,), lambda x: mp.ei(x), 8),
    ("j0", "j0", (1e20,), lambda x: mp.besselj(0, x), 32),
    ("hurwitz_zeta", "zeta", (1e15, 2.0), lambda s, q: mp.zeta(s, q), 0),
    ("gammainc", "gammainc", (1e6, 992000.0),
     lambda a, x: mp.gammainc(a, 0, x, regularized=True), 64),
    ("betaincinv", "betaincinv", (3.0, 3.0, 1e-120),
     # (I_x(3, 3) = 10 x^3 (1 - 3x/2 + ...): x = (y / 10)^(1/3) to far below an ulp here)
     lambda a, b, y: mp.cbrt(y / 10), 64),
]


@pytest.mark.parametrize("name,scipy_name,args,truth,ulps", _REPAIRED,
                         ids=[f"{c[0]}{c[2]}" for c in _REPAIRED])
def test_library_functions_repaired_as_numpys(name, scipy_name, args, truth, ulps):
    b = get_backend("numpy")
    raw = getattr(sc, scipy_name)
    arrays = [np.array([a, 2.0]) for a in args]   # (beside an ordinary element)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _wrap(b, name, raw, sc)(*arrays)
        plain = raw(*arrays)
    want = float(truth(*(mp.mpf(a) for a in args)))
    assert _ulps(float(plain[0]), want) > 10 * max(ulps, 1)   # (the port's flaw)
    assert _ulps(float(got[0]), want) <= ulps, (got[0], want)
    np.testing.assert_equal(got[1], plain[1])   # (elsewhere the library's value itself)


@pytest.mark.parametrize("name,scipy_name,nargs", [
    ("polygamma", "polygamma", 2), ("expn", "expn", 2), ("lgamma", "gammaln", 1),
    ("digamma", "psi", 1), ("i0", "i0", 1), ("gammainc", "gammainc", 2), ("erfc", "erfc", 1)])
def test_library_functions_keep_float32(name, scipy_name, nargs):
    b = get_backend("numpy")
    x = np.linspace(0.5, 3.0, 5, dtype=np.float32)
    args = (1, x) if name in ("polygamma", "expn") else (x,) * nargs
    out = _wrap(b, name, getattr(sc, scipy_name), sc)(*args)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, getattr(sc, scipy_name)(*args), rtol=2e-6)


def test_hypergeometric_functions_are_the_generic_ones():
    b = get_backend("numpy")
    assert _wrap(b, "hyp2f1", sc.hyp2f1, sc) is None
    assert _wrap(b, "hyp1f1", sc.hyp1f1, sc) is None


def test_cupy_memory_checks_in_the_forms_cupy_takes(monkeypatch):
    # CuPy's may_share_memory takes max_work=None alone, its shares_memory None or the names
    # "MAY_SHARE_BOUNDS"/"MAY_SHARE_EXACT" (cupy/_misc/memory_ranges.py): a stand-in module
    # with those signatures, over NumPy arrays
    def may_share_memory(a, b, max_work=None):
        if max_work is not None:
            raise NotImplementedError("Only supported for `max_work` is `None`")
        return np.may_share_memory(a, b)

    def shares_memory(a, b, max_work=None):
        if max_work not in (None, "MAY_SHARE_EXACT", "MAY_SHARE_BOUNDS"):
            raise NotImplementedError("Not supported for integer `max_work`.")
        return np.shares_memory(a, b)
    monkeypatch.setitem(sys.modules, "cupy", types.SimpleNamespace(
        may_share_memory=may_share_memory, shares_memory=shares_memory))
    from functrans.numpy import _misc
    a = np.arange(10.0)
    assert _misc._cupy_overlap("shares_memory", a[::2], a[1::2], True) is False
    assert _misc._cupy_overlap("may_share_memory", a[::2], a[1::2], False) is True
    assert _misc._cupy_overlap("may_share_memory", a[:3], a[5:], False) is False
    assert _misc._cupy_overlap("shares_memory", a[:4], a[3:], True) is True
    with pytest.raises(np.exceptions.TooHardError):
        _misc._cupy_overlap("shares_memory", a[::2], a[1::2], False)


# -- torch on a device: the fix-ups without host reads -------------------------------------------


_TORCH_DEVICE_CASES = [
    ("sinh", lambda x: fnp.sinh(x), [710.2, -710.2, 1.0], lambda v: mp.sinh(v)),
    ("cosh", lambda x: fnp.cosh(x), [710.2, -710.0, 1.0], lambda v: mp.cosh(v)),
    ("i0", fsp.i0, [709.9, 713.9, 3.0], lambda v: mp.besseli(0, v)),
    ("i1", fsp.i1, [-712.0, 710.5, 3.0], lambda v: mp.besseli(1, v)),
    ("k0", fsp.k0, [5e-324, 2e-301, 0.5], lambda v: mp.besselk(0, v)),
    ("k0e", fsp.k0e, [1e-310, 0.5], lambda v: mp.besselk(0, v) * mp.exp(v)),
    ("k1", fsp.k1, [2e-301, 1e-305, 0.5], lambda v: mp.besselk(1, v)),
    ("k1e", fsp.k1e, [2e-301, 0.5], lambda v: mp.besselk(1, v) * mp.exp(v)),
    ("polygamma", lambda x: fsp.polygamma(1, x), [-12.3, -3.7, 2.5], lambda v: mp.psi(1, v)),
]


@pytest.mark.parametrize("name,fn,points,truth", _TORCH_DEVICE_CASES,
                         ids=[c[0] for c in _TORCH_DEVICE_CASES])
def test_torch_fixups_read_nothing_on_a_device(monkeypatch, name, fn, points, truth):
    torch = pytest.importorskip("torch")
    from functrans.backends import torch_backend
    monkeypatch.setattr(torch_backend, "_on_host", lambda x: False)
    hr = _host_reads()
    counter = hr.counter_for("torch")
    x = torch.tensor(points * 3, dtype=torch.float64)   # (torch's vectorised kernels: >= 8)
    with counter.installed():
        reads, sites = counter.measure(lambda: fn(x))
        out = fn(x)
    assert reads == 0, dict(sites)
    for got, v in zip(out.tolist(), points):
        want = float(truth(mp.mpf(v)))
        assert _ulps(got, want) <= 8 or got == want, (v, got, want)


def test_torch_zeta_at_huge_s_on_a_device(monkeypatch):
    torch = pytest.importorskip("torch")
    from functrans.backends import torch_backend
    monkeypatch.setattr(torch_backend, "_on_host", lambda x: False)
    counter = _host_reads().counter_for("torch")
    s = torch.tensor([1e15, 1e15, 1e14, 3.0], dtype=torch.float64)
    q = torch.tensor([2.0, 1.0 + 1e-14, 1.0, 2.0], dtype=torch.float64)
    with counter.installed():
        reads, _ = counter.measure(lambda: fsp.zeta(s, q))
    out = fsp.zeta(s, q).tolist()
    assert reads == 0
    want = [float(mp.zeta(mp.mpf(a), mp.mpf(b))) for a, b in zip(s.tolist(), q.tolist())]
    assert out[0] == 0.0 and out[2] == 1.0
    assert _ulps(out[1], want[1]) <= 16 and _ulps(out[3], want[3]) <= 4


def test_host_read_counts_on_a_device():
    pytest.importorskip("torch")
    hr = _host_reads()
    names = ["sinh", "i0", "k1e", "zeta", "polygamma", "erfcx", "ndtr tail", "dawsn", "erfinv"]
    table, sites, _ = hr.run(names, modes=("forward", "grad", "jit(grad)"), as_device=True)
    assert all(v == 0 for row in table.values() for v in row.values()), (table, dict(sites))


# -- the read-free paths of sessions 41-43 on array-api-strict's second device -------------------

def _device_paths_on_device1(monkeypatch):
    """Take the device paths for array-api-strict's non-default devices (the suite's second
    device otherwise takes the host paths, its reads being free)."""
    xps = pytest.importorskip("array_api_strict")
    import functrans.primitives.special as ps
    plain = ps._on_host

    def on_host(x):
        if type(x).__module__.startswith("array_api_strict"):
            return x.device == xps.Device()
        return plain(x)
    monkeypatch.setattr(ps, "_on_host", on_host)
    monkeypatch.setattr(fsp, "_read_on_host", on_host)
    return xps


_PATHS = [
    ("ndtr tail", fsp.ndtr, [-38.0, -20.3, -5.0, 0.5]),
    ("erfc tail", fsp.erfc, [26.0, 8.0, 3.6, 0.5]),
    ("log_ndtr", fsp.log_ndtr, [-30.0, -5.0, 3.0, 9.0]),
    ("dawsn", fsp.dawsn, [-9.0, 0.3, 4.2, 30.0]),
    ("ndtri", fsp.ndtri, [1e-236, 1e-10, 0.3, 1.0 - 1e-15]),
    ("erfinv", fsp.erfinv, [-0.999999, 0.2, 0.99, 1.0 - 1e-12]),
    ("erf", fsp.erf, [-9.0, 4.5, 0.5, 6.0]),
    ("norm.pdf", fst.norm.pdf, [-37.0, -20.0, 4.5, 0.1]),
    ("t.cdf 1e12", lambda x: fst.t.cdf(x, 1e12), [-30.0, -2.0, 0.5, 3.0]),
    ("f.cdf 1e11", lambda x: fst.f.cdf(x, 1e11, 1e11), [0.99999, 1.0, 1.00001, 1.0001]),
    ("beta.ppf", lambda x: fst.beta.ppf(x, 2.0, 3.0), [0.3, 0.9, 0.999, 0.9999]),
]


@pytest.mark.parametrize("name,fn,points", _PATHS, ids=[c[0] for c in _PATHS])
def test_device_paths_give_the_host_paths_values(monkeypatch, name, fn, points):
    xps = _device_paths_on_device1(monkeypatch)
    here = np.asarray(points)
    dev = xps.asarray(here, device=xps.Device("device1"))
    for f in (fn, ft.grad(lambda v: fnp.sum(fn(v)))):
        with np.errstate(all="ignore"):
            want = np.asarray(f(here))
            got = f(dev)
        assert got.device == dev.device
        np.testing.assert_allclose(np.asarray(get_backend("array_api_strict").to_numpy(got)),
                                   want, rtol=1e-13, atol=0)


# -- float32 through the transforms ---------------------------------------------------------------

_F32 = [("sin", fnp.sin, 1), ("log1p", fnp.log1p, 1), ("arctan2", fnp.arctan2, 2),
        ("hypot", fnp.hypot, 2), ("logaddexp", fnp.logaddexp, 2), ("erf", fsp.erf, 1),
        ("gammaln", fsp.gammaln, 1), ("ndtr", fsp.ndtr, 1), ("logsumexp", fsp.logsumexp, 1),
        ("softplus", ft.nn.softplus, 1), ("gelu", ft.nn.gelu, 1), ("sinc", fnp.sinc, 1),
        ("cumsum", fnp.cumsum, 1), ("var", fnp.var, 1), ("i0", fsp.i0, 1)]


@pytest.mark.parametrize("lib", ["numpy", "torch"])
@pytest.mark.parametrize("name,fn,nargs", _F32, ids=[c[0] for c in _F32])
def test_float32_stays_float32_through_the_transforms(lib, name, fn, nargs):
    x = np.linspace(0.3, 1.7, 6, dtype=np.float32)
    if lib == "torch":
        torch = pytest.importorskip("torch")
        x = torch.as_tensor(x)
    args = (x,) * nargs

    def loss(*a):
        return fnp.sum(fn(*a))
    grads = ft.grad(loss, argnums=tuple(range(nargs)))(*args)
    out, tan = ft.jvp(fn, args, tuple(fnp.ones_like(a) for a in args))
    _, pullback = ft.vjp(fn, *args)
    cots = pullback(fnp.ones_like(out))
    staged = ft.jit(fn)(*args)
    batched = ft.vmap(fn)(*(fnp.stack([a, a]) for a in args))
    for v in (*grads, out, tan, *cots, staged, batched, ft.jit(ft.grad(loss))(*args)):
        assert fnp.result_type(v) is fnp.float32, (name, lib, v.dtype)


# -- the CuPy backend module itself, imported over stand-ins (NumPy, SciPy) in a subprocess -----

_CUPY_STANDIN = r'''
import contextlib, sys, types
import numpy as np, scipy.linalg, scipy.special
import array_api_compat.numpy as acn

cupy = types.ModuleType("cupy")
vars(cupy).update({k: getattr(np, k) for k in dir(np) if not k.startswith("_")})
cupy.ndarray = type("ndarray", (), {})   # (no NumPy array is taken for a CuPy one)
cupy.cuda = types.SimpleNamespace(Device=type("Device", (), {}))
cupy.asnumpy = np.asarray
modes = []

@contextlib.contextmanager
def errstate(**kw):
    modes.append(kw)
    yield

cupyx = types.ModuleType("cupyx")
cupyx.errstate = errstate
cupyx.scatter_add = lambda a, idx, v: np.add.at(a, idx, v)
cupyx.scipy = types.SimpleNamespace(special=scipy.special, linalg=scipy.linalg)
sys.modules.update({"cupy": cupy, "cupyx": cupyx, "cupyx.scipy": cupyx.scipy,
                    "cupyx.scipy.special": scipy.special, "cupyx.scipy.linalg": scipy.linalg,
                    "array_api_compat.cupy": acn})
from functrans.backends import cupy_backend as cb
b = cb.backend
assert abs(b.load_extra("lgamma")(np.array([5e-324, 2.0]))[0] - 744.4400719213812) < 1e-12
assert b.load_extra("hyp2f1") is None and b.load_extra("hyp1f1") is None
assert b.load_extra("polygamma")(1, np.linspace(1, 2, 3, dtype=np.float32)).dtype == np.float32
np.testing.assert_array_equal(
    b.load_extra("scatter_add")(np.zeros(3), np.array([0, 0, 2]), np.ones(3)), [2, 0, 1])
b.xp.linalg.inv(np.eye(2))
assert modes == [{"linalg": "raise"}], modes
for call in (lambda: b.xp.linalg.svd(np.array([[np.nan, 1.0], [1.0, 2.0]])),
             lambda: b.load_extra("solve_triangular")(np.array([[1.0, 0.0], [1.0, 0.0]]),
                                                      np.ones(2), True)):
    try:
        call()
    except np.linalg.LinAlgError:
        pass
    else:
        raise AssertionError("no LinAlgError")
print("ok")
'''


def test_cupy_backend_module_over_stand_ins():
    # (CuPy's own behaviour is not simulated: what is checked is this module's wiring, the
    # repairs, the dtypes, the errors it raises itself and that it turns CuPy's checks on)
    import subprocess
    root = pathlib.Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", _CUPY_STANDIN], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
