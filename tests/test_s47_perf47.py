"""Session 47, helper perf47: torch's per-operation cost in the generic loops, and F's log
density slopes from one pass without a memo.

Pins: the torch backend's namespace calls torch at once for two tensors of one dtype (its
two-operand functions) and for ``where`` unless both operands are tensors of two dtypes
(array_api_compat's promotion, ``result_type`` twice and two ``.to`` per 0-d operation, was
~25 % of betaincinv's Halley steps on torch), with the wrappers' results bit for bit and
their promotion kept for mixed dtypes. The primitive ``fix_slopes`` gives a "fix"
primitive's value and slopes at once: f_logpdf_fix's three slopes from one reverse pass of
the deviance form, the value's tangent from the slopes beside it, so that session 46's memo
(``stats._F_DEVIANCE_KEPT``, keyed by the operands' bytes) is gone: every call evaluates
afresh, as many passes as the memo's first call, the same bits as a pass per slope.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

from ._reference import counted_f_logpdf_deviance


def _same(a, b):
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)), (a, b)


def test_torch_namespace_same_dtype_without_promotion(monkeypatch):
    torch = pytest.importorskip("torch")
    from array_api_compat.torch import _aliases
    from functrans.backends.torch_backend import backend
    xp = backend.xp
    a, b = torch.tensor(1.5, dtype=torch.float64), torch.tensor(-2.25, dtype=torch.float64)
    c = a < b
    slow = {name: getattr(_aliases, name) for name in ("where", "multiply", "add", "less")}
    calls = []
    kept = _aliases.result_type
    monkeypatch.setattr(_aliases, "result_type", lambda *x: calls.append(1) or kept(*x))
    got = [xp.where(c, a, b), xp.multiply(a, b), xp.add(a, b), xp.less(a, b),
           xp.where(c, a, 0.5)]
    assert not calls  # (no promotion for one dtype)
    want = [slow["where"](c, a, b), slow["multiply"](a, b), slow["add"](a, b),
            slow["less"](a, b), slow["where"](c, a, 0.5)]
    for g, w in zip(got, want):
        _same(g.numpy(), w.numpy())
    # two dtypes: array_api_compat's promotion (0-d float32 beside float64: float64)
    f32 = torch.tensor(0.1, dtype=torch.float32)
    for g in (xp.add(f32, b), xp.where(c, f32, b)):
        assert g.dtype is torch.float64
    _same(xp.add(f32, b).numpy(), slow["add"](f32, b).numpy())
    assert calls


def test_f_logpdf_slopes_at_once_without_memo(monkeypatch):
    from functrans.backends.numpy_backend import backend
    from functrans.primitives import special as sp
    from functrans.scipy import stats
    assert not hasattr(stats, "_F_DEVIANCE_KEPT") and not hasattr(stats, "_f_memo_key")
    z, n, m, count = counted_f_logpdf_deviance(monkeypatch)

    def f(z, n, m):
        return fnp.sum(sp.f_logpdf_fix(z, n, m, fnp.zeros_like(z)))
    g = ft.grad(f, argnums=(0, 1, 2))(z, n, m)
    assert len(count) == 2  # (the value, and one reverse pass for the three slopes)
    counts = []
    for _ in range(2):  # (the second call evaluates afresh: no memo)
        count.clear()
        h = ft.hessian(f, argnums=(0, 1, 2))(z, n, m)
        counts.append(len(count))
    assert counts == [5, 5], counts  # (value, slopes, their partials in z, n, m)
    count.clear()
    one = [stats._f_logpdf_fix_on_arrays(backend, i, z, n, m, np.zeros_like(z), ())
           for i in range(3)]
    assert len(count) == 3  # (a pass per slope)
    for a, b in zip(g, one):
        _same(a, b)
    for i in range(3):  # (the Hessian's diagonal blocks' diagonals: a pass per slope)
        _same(np.diag(h[i][i]),
              stats._f_logpdf_fix_on_arrays(backend, i, z, n, m, np.zeros_like(z), (i,)))
