"""functrans.numpy's fast paths outside transforms (``_float_function``, ``_binary_function``,
``negative`` in functrans/numpy/_base.py) give exactly what the full path gives: the same
type, dtype, shape and values, or the same error. The full path is forced by a pushed
interpreter that only forwards operations to the evaluator (nothing of the fast paths'
applies under it), so both run the same implementations; every backend of the matrix.

Also: the fast paths' "no transform anywhere" test (core.PUSHED) is right across threads
and copied contexts, and transforms leave it empty."""

from __future__ import annotations

import contextvars
import threading
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import core
from functrans.errors import ShapeError

UNARY = ("exp", "log", "sin", "cos", "tanh", "sqrt", "acos", "asinh", "log1p", "expm1",
         "negative")
BINARY = ("add", "subtract", "multiply", "pow", "maximum", "minimum", "equal", "not_equal",
          "less", "greater_equal")


class _Forwarding(core.Interpreter):
    """Forwards every operation to the interpreter below: the full path, no fast path."""

    __slots__ = ()

    def process(self, prim, args, params):
        return self.parent.process(prim, args, params)


def _full_path(fn, *args):
    token = core.set_current(_Forwarding(core.current_interpreter()))
    try:
        return fn(*args)
    finally:
        core.reset_current(token)


def _outcome(fn, *args):
    """(type, dtype, shape, NumPy values) of ``fn(*args)``, or (error type, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (log of a negative number...)
        try:
            out = fn(*args)
        except Exception as e:  # noqa: BLE001 (the error is what is compared)
            return type(e), str(e)
    return out


def _same(a, b, backend):
    if isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], type):
        assert a == b
        return
    assert type(a) is type(b)
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(b))


def _both(fn, args, backend):
    fast = _outcome(fn, *args)
    full = _outcome(lambda *a: _full_path(fn, *a), *args)
    _same(fast, full, backend)
    return fast


@pytest.mark.parametrize("name", UNARY)
def test_unary_fast_path_is_the_full_path(name, backend):
    fn = getattr(fnp, name)
    cases = [backend.asarray([0.5, -0.25, 2.0]), backend.asarray(0.75),
             backend.asarray([0.5, 1.5], dtype="float32"),
             backend.asarray([1, 2, 3], dtype="int64"), backend.asarray([1, 2], dtype="int8"),
             backend.asarray([True, False], dtype="bool"), 0.5, 3, [0.5, 1.5]]
    for x in cases:
        for _ in range(2):  # (the second call takes the implementations the first cached)
            _both(fn, (x,), backend)
    # integers become float64 first, as before (NumPy's own sin gives float16 for int8)
    if name != "negative":
        out = fn(backend.asarray([1, 1], dtype="int8"))  # (in every function's domain)
        assert backend.to_numpy(out).dtype == np.float64


@pytest.mark.parametrize("name", BINARY)
def test_binary_fast_path_is_the_full_path(name, backend):
    fn = getattr(fnp, name)
    a = backend.asarray([[0.5], [1.5], [2.0]])  # (3, 1)
    b = backend.asarray([[0.25, 1.0, 2.0, 0.5]])  # (1, 4)
    v3 = backend.asarray([0.5, 1.25, 3.0])
    v4 = backend.asarray([0.5, 1.25, 3.0, 1.0])
    cases = [(v3, v3 * 2), (a, b), (v3, a), (backend.asarray(2.0), v3), (v3, v4),
             (v3, 0.5), (v3, 2), (backend.asarray([1, 2, 3], dtype="int64"), 0.5),
             (backend.asarray([1, 2], dtype="int32"), backend.asarray([3, 4], dtype="int32")),
             (backend.asarray([1.0, 2.0], dtype="float32"), 2.0),
             (v3, backend.asarray([1.0, 2.0, 3.0], dtype="float32")),
             (backend.asarray([True, False]), backend.asarray([True, True]))]
    if backend.name == "numpy":
        cases += [(v3, [1.0, 2.0, 3.0]), (v3, np.float64(2.0))]
    for x1, x2 in cases:
        for _ in range(2):
            _both(fn, (x1, x2), backend)
    # broadcasting gives the broadcast shape; shapes that do not broadcast, functrans's error
    assert tuple(fn(a, b).shape) == (3, 4)
    with pytest.raises(ShapeError, match="could not be broadcast"):
        fn(v3, v4)


def test_rank_promotion_checks_still_apply_to_broadcasting():
    x, y = np.ones(3), np.ones((2, 3))
    with ft.numpy_rank_promotion("raise"):
        with pytest.raises(ValueError, match="rank"):
            fnp.add(x, y)
    assert fnp.add(x, y).shape == (2, 3)


def test_transforms_leave_pushed_empty():
    x = np.array([0.5, 1.0])
    ft.grad(lambda v: fnp.sum(fnp.sin(v)))(x)
    ft.jvp(fnp.sin, (x,), (x,))
    ft.vmap(fnp.sin)(x)
    ft.jit(fnp.sin)(x)
    def fails(v):
        fnp.sin(v)
        raise KeyError("inside")

    for transform in (ft.grad, ft.jit, ft.vmap, ft.jacfwd):
        with pytest.raises(KeyError, match="inside"):
            transform(fails)(x)
    assert core.PUSHED == []


def test_a_transform_in_one_thread_and_plain_calls_in_another():
    """While one thread is inside grad (PUSHED not empty), another thread's plain calls are
    plain and right; while that thread's plain calls run, the first one's gradient is
    right."""
    x = np.array([0.5, -1.0, 2.0])
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def f(v):
        inside.set()
        done.wait(10)
        seen["plain_inside"] = fnp.sin(x)  # a plain array among the transform's tracers
        return fnp.sum(fnp.sin(v) * v)

    def transform():
        seen["grad"] = ft.grad(f)(x)

    t = threading.Thread(target=transform)
    t.start()
    assert inside.wait(10)
    assert core.PUSHED  # (the other thread's transform)
    for _ in range(3):
        out = fnp.sin(x), fnp.add(x, x), fnp.multiply(x, 0.5), fnp.negative(x)
        want = np.sin(x), x + x, x * 0.5, -x
        for o, w in zip(out, want):
            assert type(o) is np.ndarray
            np.testing.assert_array_equal(o, w)
    done.set()
    t.join(10)
    np.testing.assert_allclose(seen["grad"], np.cos(x) * x + np.sin(x), rtol=1e-14)
    assert type(seen["plain_inside"]) is np.ndarray
    assert core.PUSHED == []


@pytest.mark.parametrize("transform", ["grad", "vmap", "jit", "checkify"])
def test_a_context_copied_inside_a_transform_after_it_returned(transform):
    """A context copied inside a transform still holds its (spent) interpreter after the
    transform returned; with nothing pushed, the fast paths evaluate plain arrays directly,
    as that interpreter would have forwarded them (checkify's wrapped the result in a tracer
    of its own, which could only be reported as leaked)."""
    from functrans.experimental import checkify
    x = np.array([0.5, 1.0])
    copied = []

    def f(v):
        copied.append(contextvars.copy_context())
        return fnp.sin(v)

    {"grad": lambda: ft.grad(lambda v: fnp.sum(f(v)))(x), "vmap": lambda: ft.vmap(f)(x),
     "jit": lambda: ft.jit(f)(x), "checkify": lambda: checkify.checkify(f)(x)}[transform]()
    assert core.PUSHED == []
    for fn, args, want in ((fnp.sin, (x,), np.sin(x)), (fnp.add, (x, x), x + x)):
        out = copied[0].run(fn, *args)
        assert type(out) is np.ndarray
        np.testing.assert_array_equal(out, want)
