"""Review s20: regressions found porting round 11's programs (test_ported_programs11.py).

``linalg.lstsq`` followed NumPy's residuals (an empty array unless ``M > N`` and the rank is
``N``), whose shape depends on the rank's value: any call with ``M > N`` under ``jit`` or
``vmap`` raised a ConcretizationError, even ``lstsq(a, b)[0]`` (JAX code's usual use, which
JAX runs). It now returns JAX's residuals by default (``|b - a x|^2`` by column, whatever the
rank) and takes JAX's ``numpy_resid=True`` for NumPy's.

On torch, ``searchsorted`` on a non-contiguous sorted sequence or values (a row of a
transposed stack, as vmap's members are) let torch's "non-contiguous ... extra data copy"
warning through; torch's backend now hands it contiguous tensors."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError

RNG = np.random.default_rng(20)


def test_lstsq_under_jit_and_vmap_with_jax_residuals(backend):
    A = RNG.normal(size=(3, 5, 4))
    A[2] = np.outer(RNG.normal(size=5), RNG.normal(size=4))  # rank one
    b = RNG.normal(size=5)
    a_b, b_b = backend.asarray(A), backend.asarray(b)

    def fit(a):
        x, resid, rank, s = fnp.linalg.lstsq(a, b_b)
        return x, resid, rank
    for fn in (ft.vmap(fit), ft.jit(ft.vmap(fit))):
        x, resid, rank = fn(a_b)
        for i in range(3):
            want = np.linalg.lstsq(A[i], b, rcond=None)
            np.testing.assert_allclose(backend.to_numpy(x)[i], want[0], atol=1e-12)
            r = b - A[i] @ want[0]
            np.testing.assert_allclose(backend.to_numpy(resid)[i], [r @ r], rtol=1e-10)
            assert int(backend.to_numpy(rank)[i]) == want[2]
    # the gradient of the fit's error, per matrix, against central differences
    g = ft.jit(ft.vmap(ft.grad(lambda a: fnp.linalg.lstsq(a, b_b)[1][0])))(a_b[:2, ...])
    for i in range(2):
        e = RNG.normal(size=(5, 4))

        def err(t):
            x = np.linalg.lstsq(A[i] + t * e, b, rcond=None)[0]
            r = b - (A[i] + t * e) @ x
            return r @ r
        fd = (err(1e-6) - err(-1e-6)) / 2e-6
        assert float(np.sum(backend.to_numpy(g)[i] * e)) == pytest.approx(fd, rel=1e-6)
    # NumPy's residuals on request: eagerly, and refused under jit where the rank decides
    got = fnp.linalg.lstsq(a_b[2, ...], b_b, numpy_resid=True)[1]
    assert tuple(got.shape) == (0,)
    assert tuple(fnp.linalg.lstsq(a_b[2, ...], b_b)[1].shape) == (1,)
    with pytest.raises(ConcretizationError, match="jit of"):
        ft.jit(functools.partial(fnp.linalg.lstsq, numpy_resid=True))(a_b[0, ...], b_b)


def test_torch_searchsorted_gets_contiguous_operands(monkeypatch):
    torch = pytest.importorskip("torch")
    from functrans.backends import torch_backend
    seen = []
    xp = torch_backend._xp  # (array-api-compat's torch namespace: what the backend calls)
    real = xp.searchsorted

    def checked(x1, x2, *args, **kwargs):
        seen.append((x1.is_contiguous(), x2.is_contiguous()))
        return real(x1, x2, *args, **kwargs)
    monkeypatch.setattr(xp, "searchsorted", checked)
    rows = np.sort(RNG.normal(size=(6, 4)), axis=0).T  # each row sorted
    y = torch.asarray(np.ascontiguousarray(rows.T)).T  # a transposed (non-contiguous) view
    assert not y[0].is_contiguous() and not y[1].is_contiguous()
    for side in ("left", "right"):
        got = fnp.searchsorted(y[0], y[1], side=side)
        np.testing.assert_array_equal(got.numpy(), np.searchsorted(rows[0], rows[1], side=side))
    q = torch.asarray(RNG.normal(size=(2, 4))).T
    got = ft.vmap(fnp.searchsorted)(y, q)
    want = [np.searchsorted(rows[i], q.numpy()[i]) for i in range(4)]
    np.testing.assert_array_equal(got.numpy(), np.stack(want))
    assert seen and all(a and b for a, b in seen), seen
