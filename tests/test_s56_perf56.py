"""Session 56, helper perf56: NumPy scalars' own operators, a Python number first.

Fixed: nested derivatives of scalar code below their first level compute on NumPy float
scalars, where a binary ufunc call costs about 0.65 us and a unary one 0.2 against 0.04 and
0.02 for the scalar's operator. Session 55 gave mul, add and sub the operator
(``Backend.type_impls``); ``div`` and ``neg`` now have it too. A real Python number first
(``3.0 * x``, ``1 - x``: W6's logistic map, scalar user code) went through the evaluator's
backend look-up to the ufunc (~2.5 us more per operation); it now takes the implementation
cached under the array operand's type, the scalars' operators included. The scalars' ``+``
and ``*`` returned the second of two NaN operands, the ufunc the first (session 55's too):
two NaNs go through the ufunc. Checked: bits, result types and warnings (category, and
whether raised under ``np.errstate``) against the ufuncs on edge, NaN-payload and random
values of float64, float32 and float16, Python int, float, bool and complex operands on
either side (a complex first keeps the look-up). ``grad(grad(.))`` of the logistic map
476 -> 384 us, of a chain of quotients 306 -> 238 us; W7 unchanged within the noise.

Rejected: the math module's functions for exp, log, sqrt, sin... on scalars (a unary ufunc
on a scalar costs 0.13-0.2 us, wrapping math's float in the type 0.1; and NumPy's float64
exp/log/sin may be its own SIMD code, whose bits depend on the processor).

Left: W2 (the MLP's grad against hand-written backprop) was not worked on this session.
"""

from __future__ import annotations

import itertools
import operator
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

_EDGES = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1.8e308, -1.8e308,
          1e-300, 1e300, 3.3, 1e-310, 65504.0, 65520.0, 6e-8, 3.4e38, 3.5e38, 1e-45, 0.1]
_PYTHON = [0, 1, -1, 7, 10 ** 6, 2 ** 53 + 1, 10 ** 400, True, False, 0.0, -0.0, 1e300,
           np.nan, -np.inf, 1j, complex(np.inf, 0.0)]


def _outcome(fn, *args):
    """The result's type and bytes (or the exception's type), and the warnings' categories."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = fn(*args)
            res = (type(r), np.asarray(r).tobytes())
        except Exception as e:  # (OverflowError for 10**400, FloatingPointError when raised)
            res = ("raised", type(e))
    return res, [q.category for q in w]


def _scalar_impl(name, t):
    from functrans.backends import numpy_backend as nb
    from functrans.primitives import elementwise as el
    prim = {"div": el.div_p, "neg": el.neg_p, "mul": el.mul_p, "add": el.add_p,
            "sub": el.sub_p}[name]
    prim.impl_for(nb.backend)
    fn = prim._impls[t]
    assert fn is nb.NumPyBackend.type_impls[name][t]
    return fn


def _nans(dtype):
    # NaNs of both signs and another payload: of two, the ufunc returns the first
    bits = {np.float64: [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF8000000000123],
            np.float32: [0x7FC00000, 0xFFC00000, 0xFFC00001], np.float16: [0x7E00, 0xFE00, 0x7E01]}
    u = {np.float64: np.uint64, np.float32: np.uint32, np.float16: np.uint16}[dtype]
    return [np.array(b, u).view(dtype)[()] for b in bits[dtype]]


@pytest.mark.parametrize("errstate", [{"all": "warn"}, {"all": "raise"}, {"all": "ignore"},
                                      {"divide": "raise", "over": "ignore", "invalid": "warn"}])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_numpy_scalar_operators_are_the_ufuncs(dtype, errstate):
    # div and neg new; mul, add and sub (session 55) with a Python number first (the
    # evaluator's look-up by the second operand's type) and NaN operands of several payloads
    # (the scalars' x + y and x * y returned the second NaN, the ufunc the first)
    neg = _scalar_impl("neg", dtype)
    binary = [(_scalar_impl(name, dtype), ufunc) for name, ufunc in (
        ("div", np.divide), ("mul", np.multiply), ("add", np.add), ("sub", np.subtract))]
    with np.errstate(all="ignore"):
        xs = [dtype(v) for v in _EDGES] + _nans(dtype)
        xs += list(np.random.default_rng(1).standard_normal(8).astype(dtype))
    nan_py = [float(np.array(0xFFF8000000000000, np.uint64).view(np.float64))]
    with np.errstate(**errstate):
        for x in xs:
            assert _outcome(neg, x) == _outcome(np.negative, x), x
        for fn, ufunc in binary:
            for x, y in itertools.product(xs, xs + _PYTHON + nan_py):
                assert _outcome(fn, x, y) == _outcome(ufunc, x, y), (ufunc, x, y)
                if type(y) is not dtype and type(y) is not complex:  # (complex: 2nd only)
                    assert _outcome(fn, y, x) == _outcome(ufunc, y, x), (ufunc, y, x)


def test_python_number_first_takes_the_scalar_operator():
    # 3.7 * x, 1 - x and mul_add(2.0, x, y) on NumPy scalars reach the implementation by the
    # array operand's type (before: the backend's look-up, ~2.5 us more per operation)
    from functrans import core
    from functrans.primitives import elementwise as el
    seen = []
    fn = _scalar_impl("mul", np.float64)
    el.mul_p._impls[np.float64] = lambda *a: seen.append(a) or fn(*a)
    try:
        out = core.EVAL.process(el.mul_p, (3.7, np.float64(0.5)), {})
    finally:
        el.mul_p._impls[np.float64] = fn
    assert seen == [(3.7, 0.5)] and type(out) is np.float64 and out == 3.7 * 0.5
    x = np.float64(0.3)
    assert core.EVAL.process(el.sub_p, (1, x), {}) == 1 - 0.3
    assert type(core.EVAL.process(el.mul_add_p, (2.0, x, x), {})) is np.float64
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        core.EVAL.process(el.div_p, (1, np.float32(0.0)), {})
    assert type(core.EVAL.process(el.mul_p, (2, np.float32(1.5)), {})) is np.float32
    for c in (1j, complex(np.inf, 0.0), complex(-0.0, 0.0)):   # (the ufunc: see numpy_backend)
        for y in (x, np.float64(np.inf), np.float64(-0.0)):
            with np.errstate(invalid="ignore"):   # (inf * 0j: nan, as the ufunc)
                got, want = core.EVAL.process(el.mul_p, (c, y), {}), np.multiply(c, y)
            assert type(got) is np.complex128 and got.tobytes() == want.tobytes()


def _nested(f, k):
    for _ in range(k):
        f = ft.grad(f)
    return f


def _quotients(x):
    y = x
    for _ in range(4):
        y = -y / (x + 1.5)
    return y / 3 - 2.0 / x


def test_nested_grads_of_quotients_same_bits():
    # the values before session 56 (the ufuncs), bit for bit; and against mpmath
    mpmath = pytest.importorskip("mpmath")
    base = {1: 4.0777518947921045, 2: -11.672391466363436, 3: 50.04332010838567}
    for k, want in base.items():
        for x in (np.float64(0.7), np.asarray(0.7), 0.7):
            got = _nested(_quotients, k)(x)
            assert float(got) == want, (k, type(x), float(got))
        with mpmath.workdps(40):
            ref = mpmath.diff(lambda t: (t / (t + 1.5) ** 4) / 3 - 2 / t, mpmath.mpf(0.7), k)
        assert float(got) == pytest.approx(float(ref), rel=1e-14)
    g32 = _nested(_quotients, 2)(np.float32(0.7))
    assert type(g32) in (np.float32, np.ndarray) and np.asarray(g32).dtype == np.float32


def test_errstate_still_governs_scalar_division_in_grads():
    # 1/x at 0 in a second derivative's evaluation: the warning, or the error where asked
    f = _nested(lambda x: 1.0 / x + x * x, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = f(np.float64(0.0))
    assert np.isnan(got) or np.isinf(got)
    assert any(q.category is RuntimeWarning for q in w)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        f(np.float64(0.0))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        f(np.float64(0.0))
        assert fnp.negative(np.float64(-0.0)).tobytes() == np.float64(0.0).tobytes()


def test_scalar_impls_under_debug_nans():
    ft.config.update("jax_debug_nans", True)
    try:
        with pytest.raises(FloatingPointError, match="div"):
            with np.errstate(invalid="ignore"):
                ft.grad(lambda x: x / x)(np.float64(0.0))
        with pytest.raises(FloatingPointError, match="neg"):
            fnp.negative(np.float64(np.nan))
    finally:
        ft.config.update("jax_debug_nans", False)
    assert operator.neg is _scalar_impl("neg", np.float64)
