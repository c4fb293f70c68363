"""Session 46, helper perf46: eager costs that the test suite paid everywhere.

Pins: ``functrans.numpy.where`` binds ``select`` at once for a boolean condition and
operands of its shape and one dtype whatever their kinds (a constant condition beside JVP
tracers, as forward mode makes them; plain arrays beside tracers), for a Python number
beside an inexact operand (``where(c, x, 1.0)``) and for NumPy's 0-d comparisons (a NumPy
bool scalar condition); ``clip`` of a real floating-point array with Python-number bounds
binds its comparisons and selects at once; both with the general path's results and
derivatives bit for bit. F's log density in its deviance region (the primitive
``f_logpdf_fix``) computes its three slopes in one reverse pass, kept for the next slopes at
the same operands (``stats._f_deviance_partial``), with the bits of a pass per slope.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.numpy import _base

from ._reference import counted_f_logpdf_deviance

# (the float paths' frames as in a process that has not used NumPy's bfloat16: conftest)
pytestmark = pytest.mark.usefixtures("numpy_without_bfloat16")


def _functrans_frames(fn, *args):
    """The names of functrans's Python frames one call runs."""
    frames = []

    def prof(frame, event, arg):
        if event == "call" and "functrans" in frame.f_code.co_filename:
            frames.append(frame.f_code.co_name)
    sys.setprofile(prof)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return frames


def test_clip_and_where_on_0d_numpy_take_the_short_paths():
    # Before: clip(0-d, 0, 1) ran 79 functrans frames (_promote_arrays, two general wheres),
    # 37 -> 8 us; where(x > 0, x, y) on 0-d (x > 0 is np.bool_) 27 frames, 11 -> 3.5 us.
    x, y = np.asarray(0.5), np.asarray(-0.25)
    assert len(_functrans_frames(fnp.clip, x, 0, 1)) <= 20
    c = x > 0
    assert type(c) is np.bool_
    # (_where: the NumPy backend's where, which takes large arrays' bits: session 52)
    assert _functrans_frames(fnp.where, c, x, y) == ["where", "bind", "process", "_where"]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
    assert a.tobytes() == b.tobytes(), (a, b)


def test_where_binds_select_at_once_beside_tracers_and_numbers(monkeypatch):
    # The general path (_promote_arrays, broadcast_shapes, broadcasts) was ~70 % of where's
    # time in test_namespace_grads; a where-heavy loop's jvp 1.25 -> 0.72 ms.
    x = np.linspace(-1.0, 1.0, 5)
    y = x[::-1].copy()
    fs = [lambda x: fnp.where(x > 0, x ** 2, 1.0), lambda x: fnp.where(x < 0.5, 2, x ** 3),
          lambda x: fnp.where(x > 0, x ** 2, fnp.sin(x)), lambda x: fnp.where(x > 0, y, x)]
    general = []
    for f in fs:  # the general path's results first (a condition it cannot take at once)
        g = (lambda f: lambda x: f(x) * 1.0)(f)
        general.append([g(x), ft.jacfwd(g)(x), ft.jacrev(g)(x), ft.jit(ft.jacrev(g))(x),
                        ft.vmap(ft.grad(lambda v: fnp.sum(g(v))))(np.stack([x, y]))])
    calls = []
    promote = _base._promote_arrays
    monkeypatch.setattr(_base, "_promote_arrays", lambda args: calls.append(1) or promote(args))
    for f, want in zip(fs, general):
        got = [f(x), ft.jacfwd(f)(x), ft.jacrev(f)(x), ft.jit(ft.jacrev(f))(x),
               ft.vmap(ft.grad(lambda v: fnp.sum(f(v))))(np.stack([x, y]))]
        for a, b in zip(got, want):
            _same(a, b)
    assert not calls
    # what the short path leaves to the general one: promotion, broadcasting
    assert fnp.where(x > 0, x.astype(np.float32), 1.0).dtype == np.float32
    _same(fnp.where(x > 0, np.arange(5), 0.5), np.where(x > 0, np.arange(5), 0.5))
    _same(fnp.where(x > 0, x, np.float32(2.0)), np.where(x > 0, x, np.float32(2.0)))
    _same(fnp.where(x[:1] > 0, x, 1.0), np.where(x[:1] > 0, x, 1.0))
    assert calls


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_clip_with_number_bounds_is_numpys(backend, dtype):
    if dtype == "float16" and backend.name == "array_api_strict":
        pytest.skip("array-api-strict has no float16")
    v = np.array([-2.5, -1.0, -0.0, 0.0, 0.25, 1.0, 7.0, np.nan, np.inf, -np.inf], dtype)
    a = backend.asarray(v, dtype=dtype)
    for lo, hi in [(0, 1), (-1.0, 1.0), (None, 0.5), (-0.5, None), (-np.inf, np.inf),
                   (2, 1)]:
        got = backend.to_numpy(fnp.clip(a, lo, hi))
        _same(got, np.clip(v, lo, hi))
    # a NaN bound (the general path): every element NaN, as NumPy
    assert np.isnan(backend.to_numpy(fnp.clip(a, np.nan, 1.0))).all()


def test_clip_derivatives_at_the_ends():
    # both ends included: the derivative flows to x at x == min and x == max
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    g = ft.grad(lambda x: fnp.sum(fnp.clip(x, 0, 1) ** 2))(x)
    _same(g, np.array([0.0, 0.0, 1.0, 2.0, 0.0]))
    h = ft.hessian(lambda x: fnp.sum(fnp.clip(x, 0.0, 1.0) ** 3))(x)
    _same(np.diag(h), np.array([0.0, 0.0, 3.0, 6.0, 0.0]))


def test_f_logpdf_slopes_one_reverse_pass_for_three_slopes(monkeypatch):
    # f_logpdf_fix's JVP asked its slopes in z, n, m one at a time at the same operands;
    # each a reverse pass of the deviance form giving all three. (Session 47: the memo kept
    # here for the next ones replaced by fix_slopes, the three asked at once; pinned in
    # tests/test_s47_perf47.py.) The same bits as a pass each.
    from functrans.backends.numpy_backend import backend
    from functrans.primitives import special as sp
    from functrans.scipy import stats
    z, n, m, count = counted_f_logpdf_deviance(monkeypatch)
    kept = ft.jacfwd(lambda z, n, m: sp.f_logpdf_fix(z, n, m, fnp.zeros_like(z)),
                     argnums=(0, 1, 2))(z, n, m)
    n_kept = len(count)
    count.clear()
    fresh = [stats._f_logpdf_fix_on_arrays(backend, i, z, n, m, np.zeros_like(z), ())
             for i in range(3)]
    assert 3 * n_kept <= 2 * len(count), (n_kept, len(count))
    for a, b in zip(kept, fresh):
        _same(np.ascontiguousarray(np.diag(a)), b)
