"""Session 56 (nn56b): softmax / log_softmax at infinities, log-sum-exp of cancelling weights.

Fixed:
- ``nn.softmax`` / ``scipy.special.softmax`` of a slice with ``+inf`` or all ``-inf`` warned
  "invalid value encountered in subtract" (``inf - inf``), also under grad / jvp; the slice is
  now shifted by nan (nan throughout, quietly). Values and derivatives unchanged (nan, as JAX).
- ``nn.log_softmax`` / ``scipy.special.log_softmax`` of such slices warned (``inf - inf``,
  ``log(0)``, ``exp`` overflow beside a ``+inf``), value and grad / jvp; now concrete values
  take the finite-maximum formula after one check of the maxima, the others a select-based
  path. Values kept (SciPy's ``[nan, -inf]`` for ``[inf, 1]``; JAX: ``[nan, nan]``).
- ``scipy.special.logsumexp`` of weighted terms cancelling to exactly 0 warned "divide by
  zero encountered in log" (value -inf right; SciPy, JAX silent); complex ones gave
  ``-inf + pi j`` with sign ``-1`` (SciPy, JAX: ``-inf + 0j``, sign 0). The real derivative
  stays log's (``[inf, -inf]`` as JAX) by _silent_log, whose strong zero gives 0 (JAX, before:
  nan) for a tangent that keeps the sum at 0.

Left: ``jit`` of log_softmax / softmax at such slices, second derivatives there, and
``nn.log_softmax(..., where=)`` of them still warn (values right). (Session 57: quiet for
``nn.log_softmax``, jit and where=; tests/test_s57_nn57.py.)
"""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.scipy.special as fsp

INF, NAN = np.inf, np.nan


def _quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(*args, **kwargs)


_BAD = [[INF, 1.0, 2.0], [-INF, -INF, -INF], [NAN, 1.0, 0.0], [INF, 1000.0, 0.5],
        [INF, -INF, 1.0], [INF, INF, 0.0]]
_GOOD = [0.5, -1.0, 3.0]


@pytest.mark.parametrize("row", _BAD)
@pytest.mark.parametrize("name", ["nn", "fsp"])
def test_softmax_nonfinite_slice_quiet(name, row):
    f = fnn.softmax if name == "nn" else (lambda x: fsp.softmax(x, axis=1))
    x = np.array([row, _GOOD])
    e = np.exp(np.array(_GOOD) - 3.0)
    got = _quiet(f, x)
    assert np.isnan(got[0]).all()   # (JAX's and SciPy's)
    np.testing.assert_allclose(got[1], e / e.sum(), rtol=1e-15)
    g = _quiet(ft.grad(lambda x: f(x)[1, 2]), x)
    assert (g[0] == 0).all() and not np.isnan(g[1]).any()
    _, t = _quiet(ft.jvp, f, (x,), (np.ones_like(x),))
    assert np.isnan(t[0]).all()
    np.testing.assert_allclose(t[1], 0.0, atol=1e-16)


@pytest.mark.parametrize("row", _BAD)
@pytest.mark.parametrize("name", ["nn", "fsp"])
def test_log_softmax_nonfinite_slice_quiet(name, row):
    f = fnn.log_softmax if name == "nn" else (lambda x: fsp.log_softmax(x, axis=1))
    x = np.array([row, _GOOD])
    got = _quiet(f, x)
    # SciPy's: -inf below a +inf, nan else (JAX: nan throughout)
    r = np.array(row)
    want = np.where((r.max() == INF) & (r != INF), -INF, NAN)
    np.testing.assert_array_equal(got[0], want)
    np.testing.assert_allclose(got[1], x[1] - np.log(np.exp(x[1]).sum()), rtol=1e-15)
    g = _quiet(ft.grad(lambda x: f(x)[1, 2]), x)
    assert (g[0] == 0).all() and not np.isnan(g[1]).any()
    _, t = _quiet(ft.jvp, f, (x,), (np.ones_like(x),))
    assert np.isnan(t[0]).all()
    np.testing.assert_allclose(t[1], 0.0, atol=1e-15)


def test_logsumexp_cancelling_weights_derivative_quiet():
    a, b = np.zeros(2), np.array([1.0, -1.0])
    assert _quiet(fsp.logsumexp, a, b=b, return_sign=True) == (-INF, 0.0)
    g = _quiet(ft.grad(lambda a: fsp.logsumexp(a, b=b)), a)
    np.testing.assert_array_equal(g, [INF, -INF])   # JAX's
    gb = _quiet(ft.grad(lambda b: fsp.logsumexp(a, b=b)), b)
    np.testing.assert_array_equal(gb, [INF, INF])


def test_logsumexp_complex_cancelling_is_zero_sum():
    a = np.array([np.pi * 1j, np.pi * 1j])
    b = np.array([1.0, -1.0])
    assert _quiet(fsp.logsumexp, a, b=b) == complex(-INF, 0.0)   # SciPy's, JAX's (was -inf+pi j)
    out, sign = _quiet(fsp.logsumexp, a, b=b, return_sign=True)
    assert out == -INF and sign == 0.0


def test_jit_log_softmax_plus_inf_quiet():
    got = _quiet(ft.jit(fnn.log_softmax), np.array([INF, 1.0]))
    np.testing.assert_array_equal(got, [NAN, -INF])


def test_log_softmax_where_plus_inf_quiet():
    got = _quiet(fnn.log_softmax, np.array([INF, 1.0, 2.0]), where=np.array([True, True, False]))
    np.testing.assert_array_equal(got, [NAN, -INF, -INF])
