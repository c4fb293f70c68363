"""Review s21e (each test failed before its fix).

- ``fnp.clip(int_array, 1.5, 2.5)`` kept the integers (truncating the bounds, the Array API
  standard's rule) where NumPy promotes ``x`` with its bounds as any ufunc does (float64
  there); NumPy scalars, 0-d arrays, lists and arrays of other dtypes as bounds were cast to
  ``x``'s dtype too. ``clip`` now promotes ``x`` with the bounds by functrans.numpy's rule
  for binary functions (``fnp.add``'s: Python numbers weakly, NEP 50), an out-of-range Python
  integer bound is ignored where it clips nothing and NumPy's OverflowError elsewhere (it
  wrapped around: ``clip(int8_array, 300)`` gave 44), and a NaN bound gives NaN as NumPy's.
- ``hvp`` on large inputs (``2**14`` elements or more, where it stages and caches its graphs)
  of ``y = zeros_like(x); y[0] = x[0]; return sum(y * x)`` raised TypeError ("Cannot assign
  to StagingTracer... in place"), while small inputs and ``hessian`` worked: under hvp's
  recorded trace the ``*_like`` of a traced ``x`` was the staging's value, which the write of
  a value of ``fun``'s level cannot change. hvp now stages such a function again with the
  array made as a constant of ``fun``'s level (what hessian does); that trace is not cached
  (each call stages anew), while functions that only read a ``*_like`` stay cached. With
  ``y = zeros(x.shape)`` instead (a constant, which no staging can hold a traced value in, as
  under jit) it raised DerivativeDroppedError: hvp now runs such a function eagerly, as one
  whose control flow needs concrete values.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import api, trace_cache

from .test_hvp_cache import _counting_lookups
from .test_review_s21c import MAKERS, _hessian, _written

DTYPES = ["bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64"]
BOUNDS = {
    "py int": 1, "py float": 1.5, "py bool": True, "np float32": np.float32(1.5),
    "np int16": np.int16(1), "0-d float32": np.array(1.5, np.float32),
    "0-d int64": np.array(1), "float16 array": np.array([1.5, 0.5, 1.5], np.float16),
    "int16 array": np.array([1, 2, 1], np.int16), "list": [1, 2, 2], "py int, low": -1,
}


def _expected_dtype(x, bounds):
    # functrans.numpy's promotion of binary functions, applied to x and each bound
    out = fnp.asarray(x)
    for b in bounds:
        out = fnp.add(out, fnp.asarray(b) if isinstance(b, list) else b)
    return np.asarray(out).dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(BOUNDS))
@pytest.mark.parametrize("which", ["min", "max", "both"])
def test_clip_promotes_x_with_its_bounds_as_numpy(dtype, kind, which):
    x = np.array([0, 1, 3]).astype(dtype)
    b = BOUNDS[kind]
    if dtype == "uint8" and kind == "py int, low":
        x = x.astype(np.int16)  # (uint8's -1: test_clip_python_int_bound_out_of_range...)
    lo = b if which in ("min", "both") else None
    hi = b if which in ("max", "both") else None
    got = np.asarray(fnp.clip(x, lo, hi))
    want = np.clip(x, lo, hi)
    assert got.dtype == _expected_dtype(x, [v for v in (lo, hi) if v is not None])
    np.testing.assert_array_equal(got, want.astype(got.dtype))
    if isinstance(b, float) and dtype not in ("float16", "float32", "float64"):
        assert got.dtype == np.float64 == want.dtype  # the report's case, as NumPy


@pytest.mark.parametrize("lo,hi", [(300, None), (None, -300), (1, -300)])
def test_clip_python_int_bound_out_of_range_raises_as_numpy(lo, hi):
    x = np.array([0, 1, 3], np.int8)
    with pytest.raises(OverflowError):
        np.clip(x, lo, hi)
    with pytest.raises(OverflowError, match="out of bounds for int8"):
        fnp.clip(x, lo, hi)


def test_clip_python_int_bound_out_of_range_that_clips_nothing():
    x = np.array([0, 1, 3], np.int8)
    for lo, hi in [(-300, None), (None, 300), (-300, 2), (1, 300)]:
        got = np.asarray(fnp.clip(x, lo, hi))
        assert got.dtype == np.int8
        np.testing.assert_array_equal(got, np.clip(x, lo, hi))
    u = np.array([0, 1, 3], np.uint8)
    np.testing.assert_array_equal(fnp.clip(u, -1, 2), np.clip(u, -1, 2))
    with pytest.raises(OverflowError):
        fnp.clip(u, None, -1)


def test_clip_nan_bound_gives_nan_as_numpy():
    x = np.array([0.0, 1.0, np.nan, 3.0])
    for lo, hi in [(np.nan, None), (None, np.nan), (0.5, np.array([np.nan, 2, 2, 2])),
                   (np.array([1.0, np.nan, 0, 0]), 2.5)]:
        np.testing.assert_array_equal(fnp.clip(x, lo, hi), np.clip(x, lo, hi))


def test_clip_of_python_numbers_as_numpy():
    for x in (2, 2.5, True):
        for b in (1, 1.5, True, np.array([1, 2])):
            got, want = np.asarray(fnp.clip(x, b, None)), np.clip(x, b, None)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_clip_promotes_under_backends(backend):
    x = backend.asarray([0, 1, 2, 3], dtype="int64")
    got = fnp.clip(x, 1.5, 2.5)
    assert backend.is_own(got)
    assert backend.to_numpy(got).dtype == np.float64
    np.testing.assert_array_equal(backend.to_numpy(got), [1.5, 1.5, 2.0, 2.5])
    x8 = backend.asarray([0, 1, 2, 3], dtype="int8")
    np.testing.assert_array_equal(backend.to_numpy(fnp.clip(x8, -300, 2)), [0, 1, 2, 2])
    with pytest.raises(OverflowError):
        fnp.clip(x8, 300, None)
    xf = backend.asarray([0.0, 1.0, 2.0, 3.0], dtype="float32")
    assert backend.to_numpy(fnp.clip(xf, 1, 2)).dtype == np.float32


def test_clip_promotes_under_transforms():
    xi = np.array([0, 1, 2, 3])
    want = np.clip(xi, 1.5, 2.5)
    for f in (ft.jit(lambda x: fnp.clip(x, 1.5, 2.5)),
              lambda x: ft.vmap(lambda r: fnp.clip(r, 1.5, 2.5))(x[:, None])[:, 0]):
        got = np.asarray(f(xi))
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    lo = np.array([0.5, 2.2])
    got = ft.vmap(lambda r, lo: fnp.clip(r, lo, 2.5))(np.array([[0, 1], [2, 3]]), lo)
    np.testing.assert_array_equal(got, [[0.5, 1.0], [2.2, 2.5]])


def test_clip_derivative_passes_inside_and_at_the_bounds():
    # int bounds keep float32; the derivative flows to x on [min, max], ends included
    x = np.array([0.0, 1.0, 1.5, 2.0, 3.0], np.float32)
    assert ft.jit(lambda x: fnp.clip(x, 1, 2))(x).dtype == np.float32
    g = ft.grad(lambda x: fnp.sum(fnp.clip(x, 1, 2)))(x)
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])
    g = ft.jit(ft.grad(lambda x: fnp.sum(fnp.clip(x, 1, 2))))(x)
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])
    x64 = x.astype(np.float64)
    g_lo = ft.grad(lambda lo: fnp.sum(fnp.clip(x64, lo, 2.0)))(1.25)
    assert g_lo == 2.0  # (x = 0 and x = 1 take the bound)
    h = ft.hessian(lambda x: fnp.sum(fnp.clip(x, 1, 2) ** 2))(x64)
    np.testing.assert_array_equal(np.diag(h), [0, 2, 2, 2, 0])
    t = ft.jvp(lambda x: fnp.clip(x, 1, 2), (x64,), (np.ones(5),))[1]
    np.testing.assert_array_equal(t, [0, 1, 1, 1, 0])


# -- hvp of item writes into a *_like of x, on inputs large enough to stage and cache ---------


@pytest.fixture
def cache_lookups():
    """One entry per hvp cache look-up: whether it found a graph."""
    trace_cache.clear()
    try:
        with _counting_lookups() as found:
            yield found
    finally:
        trace_cache.clear()


def _large(seed=0):
    rng = np.random.default_rng(seed)
    n = api._HVP_STAGE_SIZE
    return rng.uniform(0.5, 1.5, n), rng.normal(size=n)


def _hvp_expected(x, v, c):
    out = np.empty_like(x)
    out[:3] = _hessian(x[:3], c) @ v[:3]
    out[3:] = 2.0 * v[3:] if c == "x" else 0.0  # (sum of x_i^2 for a traced copy)
    return out


@pytest.mark.parametrize("name", list(MAKERS))
def test_hvp_of_item_writes_into_an_array_made_from_x_on_large_inputs(name, cache_lookups):
    make, c = MAKERS[name]
    f = _written(make, c)
    for seed in range(3):  # (new values each call: a stale graph would show)
        x, v = _large(seed)
        got = ft.hvp(f, (x,), (v,))
        np.testing.assert_allclose(got, _hvp_expected(x, v, c), rtol=1e-12, atol=1e-12)
    # (zeros(x.shape) written into cannot be staged, as under jit: hvp runs eagerly)
    assert len(cache_lookups) == (0 if name == "zeros_shape" else 3)


def test_hvp_of_item_writes_with_the_cache_off_and_under_jit():
    f = _written(MAKERS["zeros_like"][0], 0.0)
    x, v = _large()
    want = _hvp_expected(x, v, 0.0)
    trace_cache.ENABLED = False
    try:
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), want, rtol=1e-12, atol=1e-12)
    finally:
        trace_cache.ENABLED = True
    got = ft.jit(lambda x, v: ft.hvp(f, (x,), (v,)))(x, v)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_hvp_of_item_writes_under_backends(backend):
    f = _written(MAKERS["ones_like"][0], 1.0)
    x, v = _large()
    got = ft.hvp(f, (backend.asarray(x),), (backend.asarray(v),))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), _hvp_expected(x, v, 1.0), rtol=1e-12,
                               atol=1e-12)


def test_hvp_still_caches_functions_that_only_read_a_like_array(cache_lookups):
    x, v = _large()
    f = lambda y: fnp.sum(fnp.zeros_like(y) + fnp.full_like(y, 2.0) * y ** 3)  # noqa: E731
    for _ in range(3):
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), 12.0 * x * v, rtol=1e-12)
    assert cache_lookups == [False, True, True]
    # a writing function beside it neither gets nor spoils its graph
    g = _written(MAKERS["zeros_like"][0], 0.0)
    np.testing.assert_allclose(ft.hvp(g, (x,), (v,)), _hvp_expected(x, v, 0.0), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), 12.0 * x * v, rtol=1e-12)
    assert cache_lookups[-1] is True


def test_hvp_stages_a_writing_function_once_per_call_after_the_first(cache_lookups):
    # the first call finds the write (a staging that fails, then one that works); later calls
    # with the same trace stage the working way at once: fun runs alone, then staged
    runs = [0]

    def f(x):
        runs[0] += 1
        y = fnp.zeros_like(x)
        y[0] = x[0] * x[1]
        return fnp.sum(y * x)

    x, v = _large()
    want = np.zeros_like(x)
    want[:2] = [2 * x[1] * v[0] + 2 * x[0] * v[1], 2 * x[0] * v[0]]
    for expected_runs in (3, 2, 2):
        runs[0] = 0
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), want, rtol=1e-12, atol=1e-12)
        assert runs[0] == expected_runs
    trace_cache.clear()  # (forgets it too)
    runs[0] = 0
    ft.hvp(f, (x,), (v,))
    assert runs[0] == 3
