"""Helpers for tests that compare with a reference: high-precision values (mpmath), central
differences."""
import numpy as np
import pytest

import functrans as ft


def mpmath_or_skip():
    """mpmath (present in CI through torch's sympy), or skip the test."""
    return pytest.importorskip("mpmath")


def max_rel_err(got, want):
    """The largest relative error of ``got`` against ``want`` (absolute where ``want`` is 0)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = np.where(want == 0.0, 1.0, np.abs(want))
    return float(np.max(np.abs(got - want) / scale))


def ulps(got, want):
    """|got - want| in units of want's last place (float64; subnormal wants by the smallest
    normal's spacing)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    tiny = np.finfo(np.float64).tiny
    return np.abs(got - want) / np.spacing(np.maximum(np.abs(want), tiny))


def mp_values(f, xs, dps):
    """f(mp, x) at each x of xs with mpmath at dps digits, as float64."""
    mp = mpmath_or_skip()
    with mp.workdps(dps):
        return np.array([float(f(mp, mp.mpf(float(v)))) for v in xs])


def no_torch_host_reads(monkeypatch, torch):
    """Make torch tensors take the device paths (as CUDA's would) and fail on any host read."""
    from functrans.backends import torch_backend

    def no_read(*args, **kwargs):
        raise AssertionError("a host read on the device path")
    monkeypatch.setattr(torch_backend, "_on_host", lambda x: False)
    for name in ("item", "__bool__", "__float__", "tolist", "nonzero"):
        monkeypatch.setattr(torch.Tensor, name, no_read)


def counted_f_logpdf_deviance(monkeypatch):
    """The f_logpdf_fix table case's operands (z, n, m) and a list that grows by one at each
    evaluation of F's log-density deviance form (its passes: tests/test_s46_perf46.py,
    tests/test_s47_perf47.py)."""
    from functrans.scipy import stats
    z, n, m = (np.array([0.7, 1.1, 1.4]), np.array([120.0, 150.0, 1e5]),
               np.array([2.5, 300.0, 3.5]))
    count = []
    form = stats._F._logpdf_deviance
    monkeypatch.setattr(stats._F, "_logpdf_deviance",
                        staticmethod(lambda *a: count.append(1) or form(*a)))
    return z, n, m, count


def second_differences(g, x, step=1e-4):
    """Second central differences of ``g`` (values of any shape) at the array ``x``:
    shape ``g(x).shape + x.shape + x.shape``."""
    basis = np.eye(x.size).reshape((x.size,) + x.shape) * step
    out = None
    for i in range(x.size):
        for j in range(x.size):
            a, b = basis[i], basis[j]
            d = (g(x + a + b) - g(x + a - b) - g(x - a + b) + g(x - a - b)) / (4 * step * step)
            if out is None:
                out = np.zeros(np.shape(d) + (x.size, x.size))
            out[..., i, j] = d
    return out.reshape(out.shape[:-2] + x.shape + x.shape)


_SECOND_DIFFERENCES = {}


def second_differences_once(key, g, x):
    """``second_differences(g, x)``, computed once per ``key`` in a session (the tests of one
    module that share a point and a reference function share the key)."""
    if key not in _SECOND_DIFFERENCES:
        _SECOND_DIFFERENCES[key] = second_differences(g, x)
    return _SECOND_DIFFERENCES[key]


# The four second-order nestings of jacfwd and jacrev, by name.
SECOND_ORDER = {"fwd(fwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
                "fwd(rev)": lambda f: ft.jacfwd(ft.jacrev(f)),
                "rev(fwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
                "rev(rev)": lambda f: ft.jacrev(ft.jacrev(f))}
