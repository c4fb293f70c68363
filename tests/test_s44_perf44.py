"""Session 44, helper perf44: the fixed cost of calling a jitted function.

Pins: a jitted call whose arguments are all arrays of known backends, passed by position,
with no transform around, is keyed without flattening a tree and runs its compiled graph
directly (Python frames per call counted: the call, its key, the run, the program); its
results are those of the general path, bit for bit and arrays of their own (never an
argument, a closed-over array or an earlier result; 0-d arrays, not NumPy scalars); the
short key and the general one never stage twice for one signature (``lower``, calls under a
transform, calls with keywords).
"""

from __future__ import annotations

import operator
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

# (the float paths' frames as in a process that has not used NumPy's bfloat16: conftest)
pytestmark = pytest.mark.usefixtures("numpy_without_bfloat16")


def _functrans_frames(fn, *args):
    """The names of functrans's (and generated programs') Python frames one call runs."""
    frames = []

    def prof(frame, event, arg):
        if event == "call":
            path = frame.f_code.co_filename
            if "functrans" in path or path == "<functrans.jit>":
                frames.append(frame.f_code.co_name)
    sys.setprofile(prof)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return frames


def test_a_jitted_call_of_arrays_runs_four_frames():
    # Before: jitted, signature, tree_flatten, staged, run, program, _fresh, _memory_root,
    # as_array, rebuild (10) for the add; 9 for the product.
    one, two = np.asarray(1), np.asarray(2)
    small = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    f_add, f_dot = ft.jit(operator.add), ft.jit(lambda x: fnp.matmul(x, x))
    for _ in range(3):  # (staged at the first call, compiled at the second)
        f_add(one, two), f_dot(small)
    assert _functrans_frames(f_add, one, two) == ["jitted", "_array_keys", "call", "program"]
    frames = _functrans_frames(f_dot, small)
    assert frames[:4] == ["jitted", "_array_keys", "call", "program"] and len(frames) <= 5


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("case", ["add", "matmul", "sin", "reduce", "identity", "scalar"])
def test_the_short_path_gives_the_general_paths_results(case):
    rng = np.random.default_rng(44)
    x = rng.standard_normal((3, 3))
    y = rng.standard_normal((3, 3))
    fun, args = {
        "add": (operator.add, (np.asarray(1), np.asarray(2))),
        "matmul": (lambda a, b: fnp.matmul(a, b) + 1.0, (x, y)),
        "sin": (lambda a: fnp.sin(a) * 2.0, (x.astype(np.float32),)),
        "reduce": (lambda a, b: fnp.sum(a * b), (x, y)),  # a NumPy scalar from the program
        "identity": (lambda a: a, (x,)),
        "scalar": (lambda a, b: a * b, (np.float64(1.5), np.float64(2.0))),
    }[case]
    jf = ft.jit(fun)
    general = ft.jit(lambda *a, unused=None: fun(*a))  # a keyword: the general path
    outs = [jf(*args) for _ in range(4)]
    for out in outs:
        assert type(out) is np.ndarray  # (never a NumPy scalar)
        _same(out, general(*args, unused=None))
        _same(out, fun(*args))
        for a in args:
            assert out is not a and not np.shares_memory(out, a)
    assert len({id(o) for o in outs}) == len(outs)
    outs[0][...] = 7  # the caller owns it: the next call is not changed
    _same(jf(*args), fun(*args))


def test_closed_over_arrays_are_never_returned():
    c = np.arange(3.0)
    jf = ft.jit(lambda x: c)
    first = [jf(np.ones(2)) for _ in range(3)]
    for out in first:
        assert out is not c and not np.shares_memory(out, c)
    first[-1][0] = 9.0
    np.testing.assert_array_equal(jf(np.ones(2)), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(c, [0.0, 1.0, 2.0])


def test_the_short_path_on_every_backend(backend):
    x = backend.asarray([0.5, 1.0, 2.0])
    y = backend.asarray([1.5, -1.0, 0.25])
    jf = ft.jit(lambda a, b: fnp.sin(a) * b + a)
    want = backend.to_numpy(fnp.sin(x) * y + x)
    for _ in range(3):
        out = jf(x, y)
        assert backend.is_own(out)
        np.testing.assert_array_equal(backend.to_numpy(out), want)
    ident = ft.jit(lambda a: a)
    outs = [ident(x) for _ in range(3)]
    assert all(o is not x for o in outs) and len({id(o) for o in outs}) == 3


def test_one_signature_is_staged_once_on_every_path():
    stagings = []

    def f(a, b):
        stagings.append(1)
        return fnp.sin(a) * b

    jf = ft.jit(f)
    x, y = np.linspace(0.0, 1.0, 4), np.full(4, 2.0)
    compiled = jf.lower(x, y).compile()
    np.testing.assert_array_equal(jf(x, y), compiled(x, y))
    jf(x, y), jf(x, y)
    # called with the same plain arrays from inside a transform
    g = ft.grad(lambda t: fnp.sum(jf(x, y)) * t)(1.5)
    np.testing.assert_array_equal(g, np.sum(np.sin(x) * y))
    assert len(stagings) == 1 and jf.cache_size() == 1
    jf(x, b=y)  # a keyword: another structure, staged for it
    assert len(stagings) == 2 and jf.cache_size() == 2
    jf(x.astype(np.float32), y)  # another dtype
    assert len(stagings) == 3


def test_a_compiled_function_names_the_difference_from_the_short_key():
    x = np.asarray([1.0, 2.0])
    compiled = ft.jit(lambda a, b: a * b).lower(x, x).compile()
    with pytest.raises(TypeError, match=r"structure .*called with"):
        compiled(x)
    with pytest.raises(TypeError, match="the Python float 2.0"):
        compiled(x, 2.0)
    with pytest.raises(TypeError, match=r"leaf 1 .*shape \(3,\)"):
        compiled(x, np.ones(3))


def test_the_cache_stays_least_recently_used(monkeypatch):
    from functrans import compiling
    monkeypatch.setattr(compiling, "CACHE_SIZE", 2)
    stagings = []

    def f(a):
        stagings.append(a.shape)
        return a + 1.0

    jf = ft.jit(f)
    a, b, c = np.ones(1), np.ones(2), np.ones(3)
    for x in (a, a, b, b, a, c):  # a used last before c: b goes
        jf(x)
    assert jf.cache_size() == 2 and len(stagings) == 3
    jf(a)
    assert len(stagings) == 3
    jf(b)
    assert len(stagings) == 4


def test_static_numbers_and_strings_by_position_keep_their_exact_keys():
    stagings = []

    def f(x, n, s):
        return x * n if s == "mul" else x + n

    def staged(x, n, s):
        stagings.append((type(n), n, s))
        return f(x, n, s)

    g = ft.jit(staged, static_argnums=(1, 2))
    x = np.asarray([1.0, 2.0])
    lowered = g.lower(x, 3, "mul").compile()
    cases = ((3, "mul"), (3.0, "mul"), (True, "mul"), (0.0, "add"), (-0.0, "add"),
             (3, "add"), (3, "mul"))
    for n, s in cases:
        want = f(x, n, s)
        for _ in range(3):  # (staged, then compiled: both paths)
            out = g(x, n, s)
            np.testing.assert_array_equal(out, want)
            assert out.dtype == want.dtype
    # 3, 3.0 and True stay apart, as 0.0 and -0.0 do; a repeat is not staged again
    assert [k[:2] for k in stagings] == [(int, 3), (float, 3.0), (bool, True), (float, 0.0),
                                         (float, -0.0), (int, 3)]
    assert g.cache_size() == 6
    np.testing.assert_array_equal(lowered(x), [3.0, 6.0])
    with pytest.raises(TypeError, match="static arguments are left out"):
        lowered(x, 3, "mul")
    with pytest.raises(TypeError, match="must be hashable"):
        g(x, [1], "mul")
    # other static values (a tuple) and static keywords take the general path
    h = ft.jit(lambda x, shape: fnp.reshape(x, shape), static_argnums=1)
    for _ in range(3):
        assert h(np.arange(6.0), (2, 3)).shape == (2, 3)
        assert h(np.arange(6.0), shape=(3, 2)).shape == (3, 2)


# -- jit(grad) of a recurrence: each step's product added into the weight's sum by one gemm --

from functrans import graph as _graph  # noqa: E402
from functrans.backends import numpy_backend as _nb  # noqa: E402

FUSED = bool(_nb._GEMM if _nb._GEMM is not None else _nb._load_gemm())
needs_gemm = pytest.mark.skipif(not FUSED, reason="NumPy's BLAS gemm not found or not exact")


@pytest.fixture
def fused_calls(monkeypatch):
    """A list with an entry (whether it wrote) per product a graph's evaluation added into a
    sum by one gemm."""
    calls = []
    real = _graph._matmul_add_into

    def spy(c, a, b):
        done = real(c, a, b)
        calls.append(done)
        return done

    monkeypatch.setattr(_graph, "_matmul_add_into", spy)
    return calls


def _recurrence(dtype, steps=5, batch=8, width=160, seed=4):
    rng = np.random.default_rng(seed)
    x = (0.3 * rng.standard_normal((batch, width))).astype(dtype)
    W = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(dtype)
    v = rng.standard_normal((width, 1)).astype(dtype)

    def loss(W, x):
        h = x
        for _ in range(steps):
            h = fnp.tanh(fnp.matmul(h, W))
        return fnp.sum(fnp.matmul(h, v))
    return loss, W, x


@needs_gemm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_jit_grad_of_a_recurrence_fuses_with_the_same_bits(dtype, fused_calls, monkeypatch):
    loss, W, x = _recurrence(dtype)
    W0, x0 = W.copy(), x.copy()
    jg = ft.jit(ft.grad(loss))
    outs = [jg(W, x) for _ in range(3)]
    assert len(fused_calls) == 3 * 4 and all(fused_calls)  # (4 sums of 5 products a call)
    eager = ft.grad(loss)(W, x)
    for out in outs:
        assert out.dtype == dtype
        assert out.tobytes() == eager.tobytes()
    np.testing.assert_array_equal(W, W0)  # (the arguments are never written)
    np.testing.assert_array_equal(x, x0)
    # the same graph with the fusion declined: the product, then the add
    monkeypatch.setattr(_graph, "_matmul_add_into", lambda c, a, b: False)
    unfused = ft.jit(ft.grad(loss))
    for _ in range(3):
        assert unfused(W, x).tobytes() == outs[0].tobytes()
    # and against the gradient by central differences in one direction (float64)
    if dtype == np.float64:
        d = np.random.default_rng(1).standard_normal(W.shape)
        eps = 1e-6
        fd = (float(loss(W + eps * d, x)) - float(loss(W - eps * d, x))) / (2 * eps)
        np.testing.assert_allclose(np.sum(outs[0] * d), fd, rtol=1e-6)


@needs_gemm
def test_a_sum_someone_else_holds_is_never_written(fused_calls):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((160, 8))
    b = rng.standard_normal((8, 160))
    acc = rng.standard_normal((160, 160))
    acc0 = acc.copy()
    want = acc0 + a @ b
    cases = {
        "an argument": ft.jit(lambda acc, a, b: acc + fnp.matmul(a, b)),
        "a closed-over array": ft.jit(lambda _, a, b: acc + fnp.matmul(a, b)),
        "also returned": ft.jit(lambda acc, a, b: (acc * 1.0, acc * 1.0 + fnp.matmul(a, b))),
        "a view": ft.jit(lambda acc, a, b: fnp.transpose(acc.T * 1.0) + fnp.matmul(a, b)),
    }
    for name, f in cases.items():
        for _ in range(3):
            out = f(acc, a, b)
            got = out[1] if isinstance(out, tuple) else out
            np.testing.assert_array_equal(got, want, err_msg=name)
            np.testing.assert_array_equal(acc, acc0, err_msg=name)
            if isinstance(out, tuple):
                np.testing.assert_array_equal(out[0], acc0)
    assert not any(fused_calls)
    # a sum computed here and read nowhere else: fused, the same bits
    fresh = ft.jit(lambda acc, a, b: acc * 1.0 + fnp.matmul(a, b))
    for _ in range(3):
        assert fresh(acc, a, b).tobytes() == (acc0 * 1.0 + a @ b).tobytes()
    assert fused_calls and all(fused_calls)
