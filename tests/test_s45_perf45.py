"""Session 45, helper perf45: jitted calls with Python numbers and pytrees by position.

Pins: a jitted call whose positional arguments are arrays, Python numbers, and tuples,
lists, string-keyed dicts and Nones of them is keyed without flattening a tree
(``compiling._tree_keys``) and runs its compiled graph directly, in a few Python frames; its
results are the general path's bit for bit on every backend, with a dict's arrays read in
the order the flattening reads them and the caller's key order kept; one signature is staged
once whichever path keys it. Python numbers stay static, keyed by their exact value (the
documented decision: they may steer control flow; JAX traces them as weakly typed scalars,
and compiles once for two floats where functrans stages twice).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import compiling

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


def test_numbers_and_pytrees_by_position_take_the_short_path():
    # Before: the general path (signature: tree_flatten, the tree spec hashed, a dict's key
    # orders walked, staged, run, _fresh, rebuild...): 11-14 frames for the number, ~20 for
    # the dict; jit(f)(x, 0.5) 7.7 -> 3.2 us, the dict 13.0 -> 5.9 us on this machine.
    x = np.arange(3.0)
    w = np.ones((3, 3))
    f_num = ft.jit(lambda a, s: a * s)
    f_dict = ft.jit(lambda p, a: fnp.matmul(p["W"], a) + p["b"])
    params = {"W": w, "b": x}
    for _ in range(3):
        f_num(x, 0.5), f_dict(params, x)
    assert _functrans_frames(f_num, x, 0.5) == ["jitted", "_array_keys", "_tree_keys",
                                                "_walk", "call", "program"]
    flat = ft.jit(lambda W, b, a: fnp.matmul(W, a) + b)  # the same graph, arrays only
    for _ in range(3):
        flat(w, x, x)
    frames = _functrans_frames(f_dict, params, x)
    assert frames == ["jitted", "_array_keys", "_tree_keys", "_walk", "_walk"] + (
        _functrans_frames(flat, w, x, x)[2:])


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _leaves(tree):
    return ft.tree_util.tree_leaves(tree)


def _random_tree(rng, backend, depth=0):
    """A pytree of tuples, lists, dicts with keys in a random order, Nones, Python numbers
    and arrays of distinct values and shapes."""
    kind = rng.integers(0, 7 if depth < 3 else 3)
    if kind == 0:
        n = int(rng.integers(0, 4))
        return backend.asarray(rng.standard_normal((n,)) if n else rng.standard_normal())
    if kind == 1:
        return [0.5, -0.0, 2, True, 1.5 + 2j][int(rng.integers(0, 5))]
    if kind == 2:
        return backend.asarray(rng.standard_normal((2, 2)))
    if kind == 3:
        return tuple(_random_tree(rng, backend, depth + 1) for _ in range(rng.integers(0, 3)))
    if kind == 4:
        return [_random_tree(rng, backend, depth + 1) for _ in range(rng.integers(1, 3))]
    if kind == 5:
        keys = list(rng.permutation(["b", "a", "zz", "c1", "B"])[:rng.integers(1, 5)])
        return {str(k): _random_tree(rng, backend, depth + 1) for k in keys}
    return None


def test_random_pytrees_give_the_general_paths_results_bit_for_bit(backend):
    rng = np.random.default_rng(45)
    for _ in range(25):
        tree = _random_tree(rng, backend)
        extra = _random_tree(rng, backend)

        def f(t, e):
            # every leaf weighted by its place, so that leaves read in another order show
            leaves = _leaves((t, e))
            return [ft.tree_util.tree_map(lambda a: a * 3.0 - 1.0, t),
                    sum(fnp.sum(v * (k + 1.0)) for k, v in enumerate(leaves)
                        if type(v) not in (bool, int, float, complex)),
                    sum(v * (k + 1.0) for k, v in enumerate(leaves)
                        if type(v) in (bool, int, float, complex)), e]

        jf = ft.jit(f)
        general = ft.jit(lambda t, e, unused=None: f(t, e))  # a keyword: the general path
        want = f(tree, extra)
        for _ in range(3):  # staged, evaluated, then compiled
            out = jf(tree, extra)
            gen = general(tree, extra, unused=None)
            assert ft.tree_util.tree_structure(out) == ft.tree_util.tree_structure(want)
            # dicts keep the caller's key order
            assert repr(ft.tree_util.tree_map(lambda _: 0, out)) == repr(
                ft.tree_util.tree_map(lambda _: 0, want))
            for o, g, w in zip(_leaves(out), _leaves(gen), _leaves(want)):
                if type(w) in (bool, int, float, complex):
                    assert type(o) is type(w) and o == w
                    continue
                assert backend.is_own(o)
                _same(backend.to_numpy(o), backend.to_numpy(g))
                _same(backend.to_numpy(o), backend.to_numpy(w))
        assert jf.cache_size() == 1
        # keyed by the short path (a key made otherwise would be flattened at every call)
        assert "signature" not in _functrans_frames(jf, tree, extra)


def test_a_dict_in_another_key_order_is_another_signature_with_its_own_order():
    stagings = []

    def f(p):
        stagings.append(list(p))
        return {k: v * 2.0 for k, v in p.items()}

    jf = ft.jit(f)
    a, b = np.asarray([1.0]), np.asarray([5.0, 6.0])
    p1, p2 = {"w": a, "b": b}, {"b": b, "w": a}
    for _ in range(3):
        o1, o2 = jf(p1), jf(p2)
        assert list(o1) == ["w", "b"] and list(o2) == ["b", "w"]
        for o in (o1, o2):
            _same(o["w"], a * 2.0)
            _same(o["b"], b * 2.0)
    assert stagings == [["w", "b"], ["b", "w"]]
    compiled = jf.lower(p1).compile()
    with pytest.raises(TypeError, match=r"keys in another order.*\['w', 'b'\].*\['b', 'w'\]"):
        compiled(p2)
    with pytest.raises(TypeError, match=r"leaf 1 .*shape \(1,\).*shape \(2,\)"):  # (b, w)
        compiled({"w": b, "b": b})


def test_one_staging_per_signature_across_paths_and_numbers_stay_static():
    stagings = []

    def f(p, s):
        stagings.append(type(s))
        return p[0] * s + p[1]

    jf = ft.jit(f)
    x = np.linspace(0.0, 1.0, 4)
    args = ((x, x), 0.5)
    compiled = jf.lower(*args).compile()
    _same(jf(*args), compiled(*args))
    jf(*args), jf(*args)
    g = ft.grad(lambda t: fnp.sum(jf(*args)) * t)(1.5)  # plain arrays inside a transform
    _same(g, np.sum(x * 0.5 + x))
    assert len(stagings) == 1 and jf.cache_size() == 1
    # the exact value of a number is part of the signature (static, as documented; JAX
    # would trace 0.5 and 0.7 as one weakly typed float32 and compile once)
    for s in (0.5, 0.7, 1, 1.0, True, 0.0, -0.0, 0.7):
        for _ in range(2):
            out = jf((x, x), s)
            _same(out, x * s + x)
    assert stagings == [float, float, int, float, bool, float, float]
    assert jf.cache_size() == 7
    # a number turned into an array is traced: one staging for every value
    h = ft.jit(f)
    for s in (0.5, 0.7, 0.9):
        _same(h((x, x), np.float64(s)), x * s + x)
    assert h.cache_size() == 1


def test_static_arguments_beside_pytrees_and_numbers():
    stagings = []

    def f(p, n, s):
        stagings.append(n)
        return {k: v * n + s for k, v in p.items()}

    jf = ft.jit(f, static_argnums=1)
    p = {"w": np.arange(3.0), "b": np.ones(2)}
    for n in (2, 2, 3, 2):
        for _ in range(2):
            out = jf(p, n, 0.25)
            assert list(out) == ["w", "b"]
            _same(out["w"], p["w"] * n + 0.25)
            _same(out["b"], p["b"] * n + 0.25)
    assert stagings == [2, 3] and jf.cache_size() == 2
    compiled = jf.lower(p, 2, 0.25).compile()
    _same(compiled(p, 0.25)["w"], p["w"] * 2 + 0.25)
    with pytest.raises(TypeError, match="leaf 2 .*the Python float 0.25, is the Python float"):
        compiled(p, 0.5)


def test_other_nodes_and_leaves_take_the_general_path():
    import collections
    Pair = collections.namedtuple("Pair", "a b")
    x = np.arange(3.0)
    jf = ft.jit(lambda p, o, d, s: (p.a * p.b + o["k"] * d[1], s))
    args = (Pair(x, x), collections.OrderedDict(k=x), {1: x}, "text")
    for _ in range(3):
        out = jf(*args)
        _same(out[0], x * x + x * x)
        assert out[1] == "text"
    assert compiling._array_keys(args, None) is None
    assert compiling._array_keys((x, {1: x}), None) is None  # (keys that are no strings)
    assert jf.cache_size() == 1


# -- the eager per-primitive path under vmap ---------------------------------------------------

def _chain(x):
    for _ in range(5):
        x = fnp.sin(x)
        x = x * 1.1
        x = x + 0.3
        x = fnp.tanh(x)
    return x


def test_vmap_of_an_elementwise_chain_builds_no_abstract_values(backend, monkeypatch):
    # Before: every functrans.numpy call asked a batch tracer's dtype through its aval (an
    # abstract value looked up and another built, 40 per call of the 20-operation chain), and
    # every rule went through all_batched's size and broadcasts (vmap of the chain on 16
    # scalars 97 -> 56 us on this machine).
    from functrans import batching
    calls = []
    real = batching.get_aval
    monkeypatch.setattr(batching, "get_aval", lambda x: calls.append(1) or real(x))
    rng = np.random.default_rng(7)
    b = backend.asarray(rng.standard_normal(16))
    c = backend.asarray(rng.standard_normal(3))
    m = backend.asarray(rng.standard_normal((4, 3)))
    out = ft.vmap(_chain)(b)
    assert not calls
    # the same operations on the whole batch, bit for bit
    _same(backend.to_numpy(out), backend.to_numpy(_chain(b)))
    # an unbatched array operand is still broadcast; Python numbers are left as they are
    out = ft.vmap(lambda x, y: x * y + fnp.sin(y) * 2.0, in_axes=(0, None))(m, c)
    _same(backend.to_numpy(out), backend.to_numpy(m * c + fnp.sin(c) * 2.0))
    out = ft.vmap(lambda x, y: 3.0 - fnp.divide(x, y), in_axes=(None, 0))(c, m)
    _same(backend.to_numpy(out), backend.to_numpy(3.0 - c / m))
    # float32 batches keep their dtype; nested vmap and vmap under grad still work
    b32 = backend.asarray(rng.standard_normal((2, 5)), dtype="float32")
    out = ft.vmap(ft.vmap(_chain))(b32)
    assert backend.to_numpy(out).dtype == np.float32
    _same(backend.to_numpy(out), backend.to_numpy(_chain(b32)))
    g = ft.grad(lambda x: fnp.sum(ft.vmap(_chain)(x)))(b)
    _same(backend.to_numpy(g), backend.to_numpy(ft.grad(lambda x: fnp.sum(_chain(x)))(b)))


# -- divide's fast paths ------------------------------------------------------------------------

def test_divide_of_a_float_array_goes_straight_to_the_library(backend, monkeypatch):
    # Before: every divide went through _binary (dtypes looked up, the evaluator's frames):
    # fnp.divide of a 0-d float64 by 2.0 1.31 -> 0.57 us, of two 1000-arrays 2.12 -> 1.12 us;
    # grad of 100 steps of (x + x) / 2.0 788 -> 651 us (autograd's "Pearlmutter test" row).
    from functrans.numpy import _base
    slow = []
    real = _base._binary
    monkeypatch.setattr(_base, "_binary", lambda *a: slow.append(a[0].name) or real(*a))
    rng = np.random.default_rng(3)
    a = backend.asarray(rng.standard_normal((3, 4)))
    b = backend.asarray(rng.standard_normal((3, 4)))
    a32 = backend.asarray(rng.standard_normal(5), dtype="float32")
    cases = [(a, 2.0), (a, 3), (a, b), (a32, 0.1), (a32, 7)]
    for x, y in cases:  # (a first call finds the library's function for the array type)
        fnp.divide(x, y)
    slow.clear()
    for x, y in cases:
        out = fnp.divide(x, y)
        want = backend.xp.divide(x, y)
        _same(backend.to_numpy(out), backend.to_numpy(want))
        _same(backend.to_numpy(x / y), backend.to_numpy(want))
    assert not slow
    # the rest keeps the full path: integers become float64, promotion, broadcasting, errors
    i = backend.asarray([1, 2, 3], dtype="int32")
    assert backend.to_numpy(fnp.divide(i, 2)).dtype == np.float64
    assert backend.to_numpy(fnp.divide(i, a32[:3])).dtype == np.float32
    assert backend.to_numpy(fnp.divide(2.0, a)).dtype == np.float64
    r = backend.asarray(rng.standard_normal(4))
    _same(backend.to_numpy(fnp.divide(a, r)),
          backend.to_numpy(a) / backend.to_numpy(r)[None, :])
    with pytest.raises(ValueError):
        fnp.divide(a, backend.asarray(np.ones(5)))
    assert slow


def test_divide_under_transforms_keeps_its_derivatives(backend):
    x = backend.asarray([0.5, -1.5, 2.0])

    def fan(v):
        for _ in range(20):
            v = (v + v) / 2.0 + v / 3 - v / 3.0
        return fnp.sum(v / 2.0 * v)

    g = ft.grad(fan)(x)
    _same(backend.to_numpy(g), backend.to_numpy(x))  # (d/dv of v**2 / 2: v, exactly)
    h = ft.hessian(fan)(x)
    np.testing.assert_array_equal(backend.to_numpy(h), np.eye(3))
    t = ft.jvp(lambda v: v / 4.0, (x,), (x,))[1]
    _same(backend.to_numpy(t), backend.to_numpy(x) / 4.0)
    # float32 stays float32 under grad
    x32 = backend.asarray([0.5, 3.0], dtype="float32")
    g32 = ft.grad(lambda v: fnp.sum(v / 3.0))(x32)
    assert backend.to_numpy(g32).dtype == np.float32
    np.testing.assert_allclose(backend.to_numpy(g32), [1 / 3, 1 / 3], rtol=1e-7)


def test_where_of_one_type_dtype_and_shape_binds_at_once(backend, monkeypatch):
    # Before: every where moved NumPy scalars, promoted and broadcast its operands (7.0 ->
    # 2.9 us for 1000 elements on this machine); the same select, the same results.
    from functrans.numpy import _base
    slow = []
    real = _base._promote_arrays
    monkeypatch.setattr(_base, "_promote_arrays", lambda a: slow.append(1) or real(a))
    rng = np.random.default_rng(11)
    x = backend.asarray(rng.standard_normal((3, 4)))
    y = backend.asarray(rng.standard_normal((3, 4)))
    c = x > y
    out = fnp.where(c, x, y)
    assert not slow
    want = np.where(backend.to_numpy(c), backend.to_numpy(x), backend.to_numpy(y))
    _same(backend.to_numpy(out), want)
    g = ft.grad(lambda v: fnp.sum(fnp.where(v > y, v * v, y)))(x)
    np.testing.assert_array_equal(  # (the zeros' signs are not pinned here)
        backend.to_numpy(g), np.where(backend.to_numpy(c), 2.0 * backend.to_numpy(x), 0.0))
    v = ft.vmap(lambda a, b: fnp.where(a > b, a, b))(x, y)
    _same(backend.to_numpy(v), want)
    # other operands keep the full path: another dtype, broadcasting, a condition that is
    # no bool (a Python number beside an inexact operand binds at once since session 46:
    # tests/test_s46_perf46.py)
    slow.clear()
    x32 = backend.asarray(rng.standard_normal((3, 4)), dtype="float32")
    assert backend.to_numpy(fnp.where(c, x32, y)).dtype == np.float64
    assert backend.to_numpy(fnp.where(c, x, y[0, :])).shape == (3, 4)
    _same(backend.to_numpy(fnp.where(x, x, y)), backend.to_numpy(x))  # (no zero in x)
    assert len(slow) == 3
    assert backend.to_numpy(fnp.where(c, x, 0.0)).shape == (3, 4)
    assert len(slow) == 3


def test_numbers_stage_per_value_where_jax_traces_them_weakly():
    # The decision, beside JAX: a Python number is static here (it may steer control flow),
    # so each new value stages; JAX traces int, float and bool arguments as weakly typed
    # scalars, one compilation per type.
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    values = (0.5, 0.7, 1, 1.0, True, 0.0, -0.0, 0.7)
    counts = {"functrans": 0, "jax": 0}

    def make(name, xp):
        def f(p, s):
            counts[name] += 1
            return p[0] * s + p[1]
        return f

    jf, jj = ft.jit(make("functrans", fnp)), jax.jit(make("jax", jnp))
    x = np.linspace(0.0, 1.0, 4)
    for s in values:
        _same(jf((x, x), s), x * s + x)
        np.testing.assert_allclose(np.asarray(jj((jnp.asarray(x), jnp.asarray(x)), s)),
                                   x * s + x, rtol=1e-6)
    assert counts == {"functrans": 7, "jax": 3}
