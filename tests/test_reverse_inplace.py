"""The backward pass writes a product or a sum into an operand that nothing else holds (as
NumPy's temporary elision does for Python expressions): same values, never a caller's array."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.reverse  # noqa: F401  (the module: functrans.reverse is also a function)

reverse = sys.modules["functrans.reverse"]

# A (256, 160) float64 array is 320 KiB, above the size from which the pass writes in place.
SHAPE = (256, 160)


def _data(rng, *shapes):
    return [rng.standard_normal(s) for s in shapes]


@pytest.fixture
def counted(monkeypatch):
    """Counts the products and sums written in place."""
    return count_in_place(monkeypatch)


def count_in_place(monkeypatch):
    """A list that gets an entry for each product or sum the backward pass writes in place
    from now on."""
    calls = []

    class _Spy:
        def __getattr__(self, name):
            return getattr(np, name)

        def multiply(self, *a, **k):
            calls.append("mul")
            return np.multiply(*a, **k)

        def add(self, *a, **k):
            calls.append("add")
            return np.add(*a, **k)

    def matmul_add_into(c, a, b):  # (a product added into a sum by one BLAS call)
        done = fused(c, a, b)
        if done:
            calls.append("matmul_add")
        return done

    fused = reverse._np_matmul_add_into
    monkeypatch.setattr(reverse, "_np", _Spy())
    monkeypatch.setattr(reverse, "_np_matmul_add_into", matmul_add_into)
    return calls


def _both(f, *args, **kw):
    """``f(*args)`` with and without writing in place (must agree to the bit)."""
    assert reverse._INPLACE, "this Python's reference counts were not recognised"
    with_inplace = f(*args, **kw)
    reverse._INPLACE = False
    try:
        without = f(*args, **kw)
    finally:
        reverse._INPLACE = True
    return with_inplace, without


def test_enabled_on_cpython():
    # The probe at import must recognise CPython's counts; otherwise the pass silently
    # allocates as before (correct, but the point is lost).
    if sys.implementation.name == "cpython":
        assert reverse._INPLACE


def test_mlp_gradient_writes_slope_products_in_place(counted):
    rng = np.random.default_rng(0)
    X, W1, W2 = _data(rng, (256, 64), (64, 160), (160, 160))
    ws = [W1.copy(), W2.copy()]

    def loss(ws):
        h = fnp.tanh(X @ ws[0])
        h = fnp.tanh(h @ ws[1])
        return fnp.sum(h * h)

    g, g_ref = _both(ft.grad(loss), ws)
    # cotangent times tanh's slope, at each layer: written into the cotangent
    assert counted.count("mul") == 2
    for a, b in zip(g, g_ref):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ws[0], W1)
    np.testing.assert_array_equal(ws[1], W2)
    np.testing.assert_array_equal(X, _data(np.random.default_rng(0), (256, 64))[0])


def test_accumulated_cotangent_is_summed_in_place(counted):
    rng = np.random.default_rng(1)
    x0, = _data(rng, SHAPE)
    A, B = _data(rng, (160, 160), (160, 160))
    x = x0.copy()

    def f(x):  # x reaches the loss through two products: their cotangents add up
        return fnp.sum(fnp.sin(x @ A)) + fnp.sum(fnp.cos(x @ B))

    g, g_ref = _both(ft.grad(f), x)
    # (the second product added into the first by NumPy's BLAS where it can: session 43)
    assert "add" in counted or "matmul_add" in counted
    np.testing.assert_array_equal(g, g_ref)
    np.testing.assert_allclose(g, np.cos(x0 @ A) @ A.T - np.sin(x0 @ B) @ B.T, rtol=1e-10)
    np.testing.assert_array_equal(x, x0)


def test_residuals_held_by_the_caller_are_never_written():
    rng = np.random.default_rng(2)
    x0, w0 = _data(rng, SHAPE, SHAPE)
    x, w = x0.copy(), w0.copy()

    def f(x):
        y = fnp.tanh(x)
        return fnp.sum(y * w), y  # y is a residual and the aux output

    (g, y), (g_ref, y_ref) = _both(ft.grad(f, has_aux=True), x)
    np.testing.assert_array_equal(g, g_ref)
    np.testing.assert_array_equal(np.asarray(y), np.tanh(x0))
    np.testing.assert_array_equal(np.asarray(y_ref), np.tanh(x0))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_vjp_called_twice_and_its_cotangent_untouched():
    rng = np.random.default_rng(3)
    x0, ct0 = _data(rng, SHAPE, SHAPE)
    x, ct = x0.copy(), ct0.copy()
    out, pullback = ft.vjp(lambda x: fnp.tanh(fnp.sin(x)), x)
    (g1,) = pullback(ct)
    (g2,) = pullback(ct)  # the graph's residuals must have survived the first pass
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_allclose(g1, ct0 * (1 - np.tanh(np.sin(x0)) ** 2) * np.cos(x0),
                               rtol=1e-12)
    np.testing.assert_array_equal(ct, ct0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(np.asarray(out), np.tanh(np.sin(x0)))


def test_a_cotangent_shared_by_two_variables_is_not_overwritten():
    rng = np.random.default_rng(4)
    x0, y0 = _data(rng, SHAPE, SHAPE)

    def f(x, y):
        s = fnp.sin(x) + fnp.cos(y)  # s's cotangent reaches both operands of the add
        return fnp.sum(fnp.tanh(s))

    g, g_ref = _both(ft.grad(f, argnums=(0, 1)), x0, y0)
    for a, b in zip(g, g_ref):
        np.testing.assert_array_equal(a, b)
    d = 1 - np.tanh(np.sin(x0) + np.cos(y0)) ** 2
    np.testing.assert_allclose(g[0], d * np.cos(x0), rtol=1e-12)
    np.testing.assert_allclose(g[1], -d * np.sin(y0), rtol=1e-12)


def test_second_order_is_unchanged():
    rng = np.random.default_rng(5)
    x0, = _data(rng, SHAPE)
    v0, = _data(rng, SHAPE)

    def f(x):
        return fnp.sum(fnp.tanh(x) * fnp.sin(x))

    hvp = lambda x: ft.jvp(ft.grad(f), (x,), (v0,))[1]  # noqa: E731
    h, h_ref = _both(hvp, x0)
    np.testing.assert_array_equal(h, h_ref)


def test_float32_and_small_arrays_take_the_bound_path(counted):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g, g_ref = _both(ft.grad(lambda x: fnp.sum(fnp.tanh(fnp.sin(x)))), x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, g_ref)
    counted.clear()
    small = rng.standard_normal(16)
    ft.grad(lambda x: fnp.sum(fnp.tanh(fnp.sin(x))))(small)
    assert counted == []


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_by_a_rule_constant_are_written_in_place(counted, dtype):
    rng = np.random.default_rng(7)
    x0 = rng.uniform(-1.0, 1.0, 70_000).astype(dtype)
    x = x0.copy()

    def chain(x):  # each step's cotangent times 0.9 and times cos: both in place
        for _ in range(5):
            x = fnp.sin(x) * 0.9 + 0.1
        return fnp.sum(x)

    g, g_ref = _both(ft.grad(chain), x)
    assert counted.count("mul") >= 5
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, g_ref)
    np.testing.assert_array_equal(x, x0)


def test_an_array_reached_through_a_weak_reference_is_never_written():
    # A constant cached by weak reference is held strongly by the pass alone (its count says
    # "sole"), yet the cache still hands it out: written into, it would become the gradient
    # and every later call would read the gradient's values as the constant.
    import weakref
    cache = weakref.WeakValueDictionary()

    def const(key, value):
        c = cache.get(key)
        if c is None:
            c = np.full(SHAPE, value)
            cache[key] = c
        return c

    def f(x, y):  # s's cotangent reaches both products: the constant is the free factor
        s = x * const("c", 2.0) + y * const("d", 3.0)
        return fnp.sum(fnp.tanh(s))

    rng = np.random.default_rng(8)
    x, y = _data(rng, SHAPE, SHAPE)
    g, g_ref = _both(ft.grad(f, argnums=(0, 1)), x, y)
    for key, value in (("c", 2.0), ("d", 3.0)):
        if key in cache:  # alive only while a gradient is (wrongly) that array
            np.testing.assert_array_equal(cache[key], np.full(SHAPE, value))
    for a, b in zip(g, g_ref):
        np.testing.assert_array_equal(a, b)
    d = 1 - np.tanh(2.0 * x + 3.0 * y) ** 2
    np.testing.assert_allclose(g[0], 2.0 * d, rtol=1e-12)
    np.testing.assert_allclose(g[1], 3.0 * d, rtol=1e-12)


@pytest.mark.parametrize("case", ["flip", "flip_then_transpose", "unit_axis_sum", "diagonal"])
def test_a_gradient_is_never_a_view_of_a_callers_array(case):
    # A fill of ones times the caller's array is that array (borrowed, copied if it is a
    # result); a transpose returning a view of it (flip, the broadcast of a sum's transpose)
    # must pass the copy on, or the gradient aliases w and ``g *= lr`` rewrites w.
    rng = np.random.default_rng(9)
    x, w = _data(rng, 40_000, 40_000)
    x0, w0 = x.copy(), w.copy()
    f = {"flip": lambda x: fnp.sum(fnp.flip(x) * w),
         "flip_then_transpose": lambda x: fnp.sum(
             fnp.reshape(fnp.flip(x), (200, 200)).T * w.reshape(200, 200)),
         "unit_axis_sum": lambda x: fnp.sum(fnp.sum(fnp.reshape(x, (1, -1)), axis=0) * w),
         "diagonal": lambda x: fnp.sum(fnp.diagonal(fnp.reshape(x, (200, 200))) * w[:200]),
         }[case]
    g, g_ref = _both(ft.grad(f), x)
    np.testing.assert_array_equal(g, g_ref)
    assert not np.shares_memory(g, w)
    assert g.flags.writeable
    g *= 2.0  # the caller's arrays stay as they were
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(x, x0)


def test_views_and_read_only_constants_made_inside_the_function_are_never_written():
    # Residuals only the pass holds, yet the memory of a caller's array: a view (reshape,
    # slice) of w or v, or a read-only broadcast; the product must not be written there.
    rng = np.random.default_rng(10)
    x, y, w, v = _data(rng, SHAPE, SHAPE, SHAPE, SHAPE)
    w0, v0 = w.copy(), v.copy()

    def f(x, y):
        s = (x * w.reshape(-1).reshape(SHAPE) + y * v[:, ::1]
             + fnp.sin(x) * np.broadcast_to(w[0], SHAPE) + fnp.cos(y) * w.T.T)
        return fnp.sum(fnp.tanh(s))

    g, g_ref = _both(ft.grad(f, argnums=(0, 1)), x, y)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(v, v0)
    for a, b in zip(g, g_ref):
        np.testing.assert_array_equal(a, b)
    d = 1 - np.tanh(x * w0 + y * v0 + np.sin(x) * w0[0] + np.cos(y) * w0) ** 2
    np.testing.assert_allclose(g[0], d * (w0 + np.cos(x) * w0[0]), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(g[1], d * (v0 - np.sin(y) * w0), rtol=1e-10, atol=1e-14)


C_HELD, D_HELD = _data(np.random.default_rng(11), SHAPE, SHAPE)


def test_arrays_the_caller_holds_are_never_written():
    # s's cotangent is tanh's slope (a residual passed on, not writable): each product may
    # only be written into the other factor, the caller's C_HELD or D_HELD, held elsewhere.
    c0, d0 = C_HELD.copy(), D_HELD.copy()
    rng = np.random.default_rng(12)
    x, y = _data(rng, SHAPE, SHAPE)

    def f(x, y):
        return fnp.sum(fnp.tanh(x * C_HELD + y * D_HELD))

    g, g_ref = _both(ft.grad(f, argnums=(0, 1)), x, y)
    np.testing.assert_array_equal(C_HELD, c0)
    np.testing.assert_array_equal(D_HELD, d0)
    for a, b in zip(g, g_ref):
        np.testing.assert_array_equal(a, b)
    d = 1 - np.tanh(x * c0 + y * d0) ** 2
    np.testing.assert_allclose(g[0], d * c0, rtol=1e-12)
    np.testing.assert_allclose(g[1], d * d0, rtol=1e-12)


@pytest.mark.parametrize("guard, check", [
    ("_own", test_views_and_read_only_constants_made_inside_the_function_are_never_written),
    ("_refcount", test_arrays_the_caller_holds_are_never_written),
    ("_refcount", test_vjp_called_twice_and_its_cotangent_untouched),
    ("_weakrefs", test_an_array_reached_through_a_weak_reference_is_never_written)])
def test_the_guards_are_what_keep_the_callers_arrays(monkeypatch, guard, check):
    # The tests above must be able to fail: with one guard loosened, each writes into memory
    # the caller still sees (or reads back through a cache).
    global C_HELD, D_HELD
    loose = {"_own": lambda a, borrowed: a.flags.writeable and id(a) not in borrowed,
             "_refcount": lambda a: reverse._SOLE,
             "_weakrefs": lambda a: 0}[guard]
    monkeypatch.setattr(reverse, guard, loose)
    try:
        with pytest.raises(AssertionError):
            check()
    finally:
        C_HELD, D_HELD = _data(np.random.default_rng(11), SHAPE, SHAPE)
