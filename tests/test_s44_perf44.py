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
