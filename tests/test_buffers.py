"""Graph evaluation reuses memory (functrans/buffers.py): an elementwise result written over
an operand that dies there, and results computed into arrays of values that died, kept across
evaluations — only arrays computed in an evaluation that nothing else holds. An aliasing
mistake here would be a silent wrong answer or a mutated user array, so each guard has a case
that fails without it."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.buffers as buffers
import functrans.numpy as fnp
from functrans.core import primitive
from functrans.graph import Var, eval_graph

N = 2 * buffers.MIN_BYTES // 8  # float64 elements: large enough to take part


@pytest.fixture(autouse=True)
def empty_spare():
    buffers.release()
    yield
    buffers.release()


@pytest.fixture
def writes(monkeypatch):
    """The names of the primitives evaluated by writing over an operand (names, not the
    arrays: holding those would itself stop the next write)."""
    done = []
    real = buffers._write_over

    def counting(prim, *args):
        out = real(prim, *args)
        if out is not None:
            done.append(prim.name)
        return out

    monkeypatch.setattr(buffers, "_write_over", counting)
    return done


@pytest.fixture
def takes(monkeypatch):
    """How many arrays equations took from those kept (a list of counts, one per take)."""
    done = []
    real = buffers._take

    def counting(array_type, avals):
        bufs = real(array_type, avals)
        if bufs is not None:
            done.append(len(bufs))
        return bufs

    monkeypatch.setattr(buffers, "_take", counting)
    return done


def _reference(g, args, monkeypatch):
    """The graph's values with every reuse switched off."""
    with monkeypatch.context() as m:
        m.setattr(buffers, "MIN_BYTES", 1 << 62)
        return eval_graph(g, args)


def _inputs(n=N, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n), rng.standard_normal(n)


def test_a_chain_reuses_its_buffers_and_leaves_inputs_alone(writes, monkeypatch):
    x, y = _inputs()
    x0, y0 = x.copy(), y.copy()
    g = ft.make_graph(lambda a, b: fnp.exp(fnp.sin(a) * b + 1.0) - b)(x, y)
    ref = _reference(g, [x, y], monkeypatch)
    out = eval_graph(g, [x, y])
    np.testing.assert_array_equal(out[0], ref[0])
    np.testing.assert_allclose(out[0], np.exp(np.sin(x0) * y0 + 1.0) - y0)
    # sin(a) -> *b -> +1 -> exp: each result may take the buffer of the one before; the inputs
    # are never written.
    assert len(writes) >= 3
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_an_input_is_never_written_even_where_it_dies(writes):
    x, _ = _inputs()
    x0 = x.copy()
    g = ft.make_graph(lambda a: fnp.sin(a) + 0.0)(x)
    eval_graph(g, [x])
    np.testing.assert_array_equal(x, x0)


def test_constants_are_never_written(writes):
    x, c = _inputs()
    c0 = c.copy()
    g = ft.make_graph(lambda a: fnp.exp(a) * c + c)(x)
    for _ in range(3):  # evaluated again: the captured constant is unchanged
        out = eval_graph(g, [x])
        np.testing.assert_allclose(out[0], np.exp(x) * c0 + c0)
    np.testing.assert_array_equal(c, c0)


def test_outputs_and_values_read_twice_are_kept(writes):
    x, _ = _inputs()

    def f(a):
        s = fnp.sin(a)
        return s, s * s + s, fnp.cos(s)

    g = ft.make_graph(f)(x)
    s_out, second, third = eval_graph(g, [x])
    s = np.sin(x)
    np.testing.assert_array_equal(s_out, s)
    np.testing.assert_allclose(second, s * s + s)
    np.testing.assert_allclose(third, np.cos(s))
    # every output is its own array
    assert not np.shares_memory(s_out, second) and not np.shares_memory(second, third)


def test_results_of_another_shape_or_dtype_get_a_new_array(writes, monkeypatch):
    x = np.linspace(-1.0, 1.0, N)
    m = np.linspace(0.0, 2.0, 3 * N).reshape(3, N)

    def f(a, b):
        s = fnp.sin(a)                       # (N,) dies in a broadcast product of (3, N)
        r = s * b
        low = fnp.astype(fnp.exp(a), fnp.float32)
        return r, low * 2.0, fnp.sin(a) > 0.0

    g = ft.make_graph(f)(x, m)
    ref = _reference(g, [x, m], monkeypatch)
    out = eval_graph(g, [x, m])
    for o, r in zip(out, ref):
        assert o.dtype == r.dtype and o.shape == r.shape
        np.testing.assert_array_equal(o, r)
    assert out[1].dtype == np.float32


def test_no_writes_under_a_transform(writes):
    x, v = _inputs()
    g = ft.make_graph(lambda a: fnp.sum(fnp.exp(fnp.sin(a) * 2.0)))(x)
    eval_graph(g, [x])
    direct = len(writes)
    assert direct > 0
    writes.clear()
    grad = ft.grad(lambda a: eval_graph(g, [a])[0])(x)
    np.testing.assert_allclose(grad, np.exp(2 * np.sin(x)) * 2 * np.cos(x))
    hv = ft.vmap(lambda a: eval_graph(g, [a])[0])(np.stack([x, v]))
    np.testing.assert_allclose(hv, [np.sum(np.exp(2 * np.sin(x))), np.sum(np.exp(2 * np.sin(v)))])
    assert writes == []


def test_staged_hvp_equals_the_hand_formula_with_writes(writes):
    from functrans import api

    n = api._HVP_STAGE_SIZE
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    x0, v0 = x.copy(), v.copy()
    f = lambda y: fnp.sum(fnp.sin(y) * fnp.roll(y, 1)) + fnp.sum(fnp.tanh(y) ** 2)
    hv = ft.hvp(f, (x,), (v,))
    assert len(writes) > 0
    s, c, t = np.sin(x0), np.cos(x0), np.tanh(x0)
    expected = (-s * np.roll(x0, 1) * v0 + c * np.roll(v0, 1) + np.roll(c * v0, -1)
                + 2 * (1 - t ** 2) * (1 - 3 * t ** 2) * v0)
    np.testing.assert_allclose(hv, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(v, v0)


def test_other_backends_evaluate_without_writes(backend, writes):
    if backend.name == "numpy":
        pytest.skip("NumPy is the backend that writes")
    x = backend.asarray(np.linspace(-1.0, 1.0, N))
    g = ft.make_graph(lambda a: fnp.exp(fnp.sin(a) * 2.0) + fnp.tanh(a))(x)
    for _ in range(2):
        out = eval_graph(g, [x])
        assert type(out[0]) is type(x)
        np.testing.assert_allclose(backend.to_numpy(out[0]),
                                   np.exp(np.sin(np.linspace(-1.0, 1.0, N)) * 2.0)
                                   + np.tanh(np.linspace(-1.0, 1.0, N)))
    assert writes == [] and buffers._spare == {}


def _in_spare(arr) -> bool:
    return any(b is arr for stack in buffers._spare.values() for b in stack)


def test_arrays_that_died_are_reused_by_the_next_evaluation(takes, monkeypatch):
    x, y = _inputs()

    def f(a, b):
        s, c = fnp.sin(a), fnp.cos(b)
        return fnp.tanh(s * c) + fnp.concat([s[N // 2:], c[: N // 2]]), fnp.exp(a) * c

    g = ft.make_graph(f)(x, y)
    ref = _reference(g, [x, y], monkeypatch)
    first = eval_graph(g, [x, y])
    kept = [o.copy() for o in first]
    assert buffers._spare_bytes > 0
    assert not any(_in_spare(o) for o in first)      # outputs are never kept
    in_first = sum(takes)
    second = eval_graph(g, [x, y])
    assert sum(takes) - in_first > in_first          # the second takes what the first left
    for a, b, c in zip(first, second, ref):
        np.testing.assert_array_equal(b, c)
    for a, c in zip(first, kept):                    # the first results are untouched
        np.testing.assert_array_equal(a, c)


def test_a_value_with_a_live_view_is_neither_written_over_nor_kept(monkeypatch):
    x, _ = _inputs()

    def f(a):
        s = fnp.sin(a)
        head = s[: N // 2]           # a view of s's array (NumPy), read after s's last use
        t = s * 2.0                  # s dies here: t would be written over it
        u = fnp.exp(a)               # a result of s's shape: would take s's array if kept
        return fnp.sum(t) + fnp.sum(u) + fnp.sum(head * head)

    g = ft.make_graph(f)(x)
    assert any(e[0].name == "slice" for e in g.eqns)
    s = np.sin(x)
    expected = np.sum(2 * s) + np.sum(np.exp(x)) + np.sum(s[: N // 2] ** 2)
    for _ in range(3):
        np.testing.assert_allclose(eval_graph(g, [x])[0], expected, rtol=1e-13)
    np.testing.assert_array_equal(eval_graph(g, [x])[0], _reference(g, [x], monkeypatch)[0])


def test_an_array_the_caller_holds_is_neither_written_over_nor_kept():
    # An equation that hands back its operand itself makes a graph value the caller's array:
    # writing over it, or keeping it for later results, would change the caller's data.
    same_p = primitive("test_buffers_same_array")
    same_p.def_impl(lambda backend, x: x)
    same_p.def_abstract_eval(lambda aval: aval)
    x, _ = _inputs()
    x0 = x.copy()
    g = ft.make_graph(lambda a: fnp.exp(same_p.bind(a) * 1.0) + fnp.sin(a))(x)
    assert g.eqns[0][0] is same_p
    for _ in range(3):
        out = eval_graph(g, [x])
        assert not _in_spare(x)
        np.testing.assert_allclose(out[0], np.exp(x0) + np.sin(x0))
    np.testing.assert_array_equal(x, x0)


def test_what_is_kept_is_bounded_and_can_be_released(monkeypatch):
    x, y = _inputs()
    monkeypatch.setattr(buffers, "SPARE_LIMIT", N * 8)       # room for one array
    g = ft.make_graph(lambda a, b: fnp.sin(fnp.exp(a) * fnp.cos(b)) + fnp.tanh(a))(x, y)
    eval_graph(g, [x, y])
    assert 0 < buffers._spare_bytes <= N * 8
    assert buffers._spare_bytes == sum(b.nbytes for s in buffers._spare.values() for b in s)
    buffers.release()
    assert buffers._spare == {} and buffers._spare_bytes == 0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", ["sin_cos", "tanh_slope", "tanh_slope_factor", "concat0",
                                  "concat1", "roll0", "roll1"])
def test_into_rules_compute_what_impl_does(case, dtype):
    from functrans.backends import get_backend
    from functrans.core import registry

    b = get_backend("numpy")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 7)).astype(dtype) * 3
    y = rng.standard_normal((6, 7)).astype(dtype)
    name, args, params = {
        "sin_cos": ("sin_cos", (x,), {}),
        "tanh_slope": ("tanh_slope", (x,), {"factor": False}),
        "tanh_slope_factor": ("tanh_slope", (x,), {"factor": True}),
        "concat0": ("concat", (x, y), {"axis": 0}),
        "concat1": ("concat", (x, y), {"axis": 1}),
        "roll0": ("roll", (x,), {"shift": 2, "axis": 0}),
        "roll1": ("roll", (x,), {"shift": 6, "axis": 1}),
    }[case]
    prim = registry[name]
    expected = prim.impl(b, *args, **params)
    expected = list(expected) if prim.multiple_results else [expected]
    outs = [np.full_like(e, np.nan) for e in expected]
    got = prim.into(b, outs, *args, **params)
    got = list(got) if prim.multiple_results else [got]
    for g_, o, e in zip(got, outs, expected):
        assert g_ is o and g_.dtype == e.dtype
        np.testing.assert_array_equal(g_, e)


@pytest.mark.parametrize("n", [3, 4, 5, 9])
@pytest.mark.parametrize("alias", [None, 0, 1, 2, 3, 4, "twice"])
@pytest.mark.parametrize("shape", [(5, 4), (3, 40001)])  # (the second: block by block)
@pytest.mark.parametrize("scaled", [False, True])
def test_mul_add_into_with_the_result_in_any_operand(n, alias, shape, scaled):
    # mul_add's into rule may be handed an operand's own array as the result (written over
    # when the operand dies): it must give the impl's value to the bit, or refuse (None).
    from functrans.backends import get_backend
    from functrans.primitives.elementwise import _blocks, mul_add_p

    if alias not in (None, "twice") and alias >= n:
        pytest.skip("no such operand")
    b = get_backend("numpy")
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(shape) for _ in range(n)]
    assert (_blocks(xs[0]) is None) == (shape == (5, 4))
    if alias == "twice":  # one array read twice (x0 and x2), the result written into it
        xs[2] = xs[0]
    # (scaled: coefficients on the terms, the lone term's last, as graph.prune folds them)
    params = {"coef": (-1.0, 2.0, 0.5, -4.0, 1.0, -2.0)[:n // 2] + (-0.5,)} if scaled else {}
    expected = mul_add_p.impl(b, *xs, **params)
    if scaled:  # the unfused operations: each coefficient scales a term's first factor
        c, ref = params["coef"], 0.0
        for k in range(n // 2):
            ref = ref + (c[k] * xs[2 * k]) * xs[2 * k + 1] if k else (c[k] * xs[0]) * xs[1]
        ref = ref + c[-1] * xs[-1] if n % 2 else ref
        np.testing.assert_array_equal(expected, ref)
    out = (xs[0] if alias == "twice" else np.full_like(xs[0], np.nan) if alias is None
           else xs[alias])
    kept = [x.copy() for x in xs]
    got = mul_add_p.into(b, [out], *xs, **params)
    if got is None:
        # refused: nothing was written
        assert all(np.array_equal(x, k) for x, k in zip(xs, kept))
        assert alias not in (None, 0, 1)
        return
    assert got is out
    np.testing.assert_array_equal(got, expected)


def test_staged_products_written_over_dying_operands_match(writes, monkeypatch):
    # The product rule's mul_add in a staged hvp, evaluated with writes and without.
    x, v = _inputs()
    f = lambda y: fnp.sum(fnp.sin(y) * fnp.cos(y) * y) + fnp.sum(fnp.exp(y) * y)  # noqa
    hv = lambda y, t: ft.jvp(ft.grad(f), (y,), (t,))[1]  # noqa: E731
    g = ft.make_graph(hv)(x, v)
    assert "mul_add" in {e[0].name for e in g.eqns}
    ref = _reference(g, [x, v], monkeypatch)
    for _ in range(2):  # the second evaluation also takes kept arrays
        np.testing.assert_array_equal(eval_graph(g, [x, v])[0], ref[0])
    assert "mul_add" in writes


def test_mul_add_with_coefficients_writes_over_a_dying_operand(writes, monkeypatch):
    # A neg and a doubling folded into the mul_add (graph.prune): it still writes over an
    # operand that dies there, to the bit of the unfolded graph without reuse.
    from functrans.graph import prune
    from functrans.primitives.elementwise import mul_add

    x, v = _inputs()
    g = ft.make_graph(lambda a, b: mul_add(-fnp.sin(a), b, fnp.exp(a) * 2.0, b, a))(x, v)
    pruned = prune(g)
    assert [e[2].get("coef") for e in pruned.eqns if e[0].name == "mul_add"] == [
        (-1.0, 2.0, 1.0)]
    ref = _reference(g, [x, v], monkeypatch)
    for _ in range(2):
        np.testing.assert_array_equal(eval_graph(pruned, [x, v])[0], ref[0])
    assert "mul_add" in writes


def test_threads_share_the_kept_arrays_safely():
    import threading

    from functrans import api

    n = api._HVP_STAGE_SIZE
    f = lambda y: fnp.sum(fnp.sin(y) * fnp.roll(y, 1)) + fnp.sum(fnp.tanh(y) ** 2)
    failures = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(15):
            x, v = rng.standard_normal(n), rng.standard_normal(n)
            s, c, t = np.sin(x), np.cos(x), np.tanh(x)
            expected = (-s * np.roll(x, 1) * v + c * np.roll(v, 1) + np.roll(c * v, -1)
                        + 2 * (1 - t ** 2) * (1 - 3 * t ** 2) * v)
            hv = ft.hvp(f, (x,), (v,))
            if not np.allclose(hv, expected, rtol=1e-12, atol=1e-12):
                failures.append(seed)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    assert buffers._spare_bytes > 0


def test_an_array_is_kept_when_the_last_view_into_it_dies():
    x, _ = _inputs()

    def f(a):
        s = fnp.sin(a)                       # dies into two views (a roll)
        r = fnp.concat([s[N // 2:], s[: N // 2]])
        return fnp.exp(r) + 1.0

    g = ft.make_graph(f)(x)
    out = eval_graph(g, [x])
    np.testing.assert_allclose(out[0], np.exp(np.roll(np.sin(x), N // 2)) + 1.0)
    # exp and the add write over concat's array (the result); sin's array dies with the
    # second slice into it, and is kept
    kept = buffers._spare.get((np.ndarray, (N,), fnp.float64), [])
    assert len(kept) == 1 and not _in_spare(x) and not _in_spare(out[0])


def test_an_array_is_not_kept_while_another_view_into_it_lives(monkeypatch):
    x, y = _inputs()

    def f(a, b):
        s = fnp.sin(a)
        first, second = s[: N // 2], s[N // 2:]
        t = fnp.exp(first)                   # first dies: second still looks into s
        u = fnp.exp(b) * 3.0                 # a result of s's shape: would take s's array
        return fnp.sum(t) + fnp.sum(u) + fnp.sum(second * second)

    g = ft.make_graph(f)(x, y)
    s = np.sin(x)
    expected = (np.sum(np.exp(s[: N // 2])) + np.sum(np.exp(y) * 3.0)
                + np.sum(s[N // 2:] ** 2))
    for _ in range(3):
        np.testing.assert_allclose(eval_graph(g, [x, y])[0], expected, rtol=1e-13)
    np.testing.assert_array_equal(eval_graph(g, [x, y])[0],
                                  _reference(g, [x, y], monkeypatch)[0])


def test_inputs_seen_through_views_are_not_kept():
    x, _ = _inputs()
    x0 = x.copy()
    g = ft.make_graph(lambda a: fnp.exp(fnp.concat([a[1:], a[:1]])) * 2.0)(x)
    for _ in range(3):
        out = eval_graph(g, [x])
        assert not _in_spare(x)
        np.testing.assert_allclose(out[0], np.exp(np.roll(x0, -1)) * 2.0)
    np.testing.assert_array_equal(x, x0)


def _counting_reclaims(monkeypatch):
    """The arrays (or None) each look-up among remembered outputs found."""
    found = []
    real = buffers._reclaim

    def counting(key):
        buf = real(key)
        found.append(buf is not None)
        return buf

    monkeypatch.setattr(buffers, "_reclaim", counting)
    return found


def _product_of_sin_cos(monkeypatch):
    """Inputs, a graph whose result is sin's array written over by a product, and the
    result computed with no reuse."""
    x, y = _inputs()
    g = ft.make_graph(lambda a, b: fnp.sin(a) * fnp.cos(b))(x, y)
    return x, y, g, _reference(g, [x, y], monkeypatch)[0]


def test_an_output_the_caller_dropped_is_taken_by_a_later_evaluation(monkeypatch):
    x, y, g, ref = _product_of_sin_cos(monkeypatch)
    found = _counting_reclaims(monkeypatch)
    first = eval_graph(g, [x, y])[0]   # sin's array, written over by the product
    np.testing.assert_array_equal(first, ref)
    assert not any(found)
    del first                          # the caller is done with it
    second = eval_graph(g, [x, y])[0]  # cos takes the dropped result's array
    np.testing.assert_array_equal(second, ref)
    assert any(found)


def test_an_output_the_caller_holds_or_views_is_not_taken(monkeypatch):
    x, y, g, ref = _product_of_sin_cos(monkeypatch)
    found = _counting_reclaims(monkeypatch)
    held = eval_graph(g, [x, y])[0]
    view = eval_graph(g, [x, y])[0][::2]   # only a view of this result is kept
    for _ in range(4):
        np.testing.assert_array_equal(eval_graph(g, [x, y])[0], ref)
    assert any(found)                      # the loop's own dropped results were taken
    np.testing.assert_array_equal(held, ref)
    np.testing.assert_array_equal(view, ref[::2])


def test_remembered_outputs_are_bounded_and_released(monkeypatch):
    x, y, g, _ = _product_of_sin_cos(monkeypatch)
    monkeypatch.setattr(buffers, "SPARE_LIMIT", 2 * N * 8)   # room for two arrays
    outs = [eval_graph(g, [x, y])[0] for _ in range(5)]
    assert 0 < buffers._lent_bytes <= 2 * N * 8
    # the newest are remembered (the caller is likelier to drop those next)
    remembered = [b for s in buffers._lent.values() for b in s]
    assert len(remembered) == 2 and all(a is b for a, b in zip(remembered, outs[-2:]))
    assert buffers._lent_bytes == sum(b.nbytes for s in buffers._lent.values() for b in s)
    buffers.release()
    assert buffers._lent == {} and buffers._lent_bytes == 0
    assert all(np.array_equal(o, outs[0]) for o in outs)


def test_few_results_of_one_shape_are_remembered(monkeypatch):
    x, y, g, _ = _product_of_sin_cos(monkeypatch)
    monkeypatch.setattr(buffers, "LENT_PER_KEY", 3)
    outs = [eval_graph(g, [x, y])[0] for _ in range(6)]
    remembered = [b for s in buffers._lent.values() for b in s]
    assert len(remembered) == 3 and all(a is b for a, b in zip(remembered, outs[-3:]))


def test_a_scratch_array_is_kept_after_use():
    like = np.ones(N)
    tmp = buffers.scratch(like)            # none kept: a new one
    assert tmp is not like and tmp.shape == like.shape and tmp.dtype == like.dtype
    buffers.give_back(tmp)
    assert buffers.scratch(like) is tmp    # kept for the next temporary


def test_no_reuse_where_reference_counts_are_not_exact(writes, takes, monkeypatch):
    monkeypatch.setattr(buffers, "ENABLED", False)   # as on a free-threaded interpreter
    x, y = _inputs()
    g = ft.make_graph(lambda a, b: fnp.sin(fnp.exp(a) * fnp.cos(b)) + fnp.tanh(a))(x, y)
    for _ in range(2):
        eval_graph(g, [x, y])
    assert writes == [] and takes == [] and buffers._spare == {} and buffers._lent == {}


def test_a_dropped_output_made_read_only_is_not_taken(monkeypatch):
    x, y, g, ref = _product_of_sin_cos(monkeypatch)
    found = _counting_reclaims(monkeypatch)
    first = eval_graph(g, [x, y])[0]
    first.flags.writeable = False      # the caller's to change while they hold it
    del first
    np.testing.assert_array_equal(eval_graph(g, [x, y])[0], ref)
    assert not any(found)


def test_a_graph_whose_equations_changed_is_planned_again():
    # What each equation reuses, and where each value dies, is worked out once per graph and
    # kept on it: an equation added since must be seen (here it reads a value that, by the
    # old plan, died and was reused before it).
    x, _ = _inputs()
    g = ft.make_graph(lambda a: fnp.exp(fnp.sin(a)) * 2.0)(x)
    np.testing.assert_allclose(eval_graph(g, [x])[0], np.exp(np.sin(x)) * 2.0)
    sin_eqn = next(e for e in g.eqns if e[0].name == "sin")
    mul_eqn = g.eqns[-1]
    extra = Var(mul_eqn[3].aval)
    g.eqns.append((mul_eqn[0], (sin_eqn[3], 3.0), {}, extra))
    g.outputs.append(extra)
    out = eval_graph(g, [x])
    np.testing.assert_allclose(out[0], np.exp(np.sin(x)) * 2.0)
    np.testing.assert_allclose(out[1], np.sin(x) * 3.0)


def test_a_graph_whose_outputs_changed_is_planned_again():
    # The same, with only an output added: the value it names must not be dropped at what
    # was its last use.
    x, _ = _inputs()
    g = ft.make_graph(lambda a: fnp.exp(fnp.sin(a)) * 2.0)(x)
    eval_graph(g, [x])
    sin_out = next(e for e in g.eqns if e[0].name == "sin")[3]
    g.outputs.append(sin_out)
    out = eval_graph(g, [x])
    np.testing.assert_allclose(out[0], np.exp(np.sin(x)) * 2.0)
    np.testing.assert_allclose(out[1], np.sin(x))


def test_a_bias_add_is_written_over_the_product_it_reads(writes, monkeypatch):
    # x @ w + b: the broadcast bias is a view of strides (0, 8), which reads the same
    # whatever array the sum is written into; the product dies there and takes it.
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((128, 16)), rng.standard_normal((16, 512))
    b = rng.standard_normal(512)
    g = ft.make_graph(lambda x, w, b: fnp.tanh(fnp.matmul(x, w) + b) * 2.0)(x, w, b)
    ref = _reference(g, [x, w, b], monkeypatch)
    out = eval_graph(g, [x, w, b])
    np.testing.assert_array_equal(out[0], ref[0])
    np.testing.assert_array_equal(out[0], np.tanh(x @ w + b) * 2.0)
    assert "add" in writes and out[0].flags.c_contiguous


def test_a_broadcast_operand_is_written_beside_only_for_exact_arithmetic(writes, monkeypatch):
    # arctan2 may take another loop for a strided operand: not written with out= there.
    rng = np.random.default_rng(4)
    x, b = rng.standard_normal((128, 512)), rng.standard_normal(512)
    g = ft.make_graph(lambda x, b: fnp.arctan2(fnp.sin(x), b))(x, b)
    ref = _reference(g, [x, b], monkeypatch)
    out = eval_graph(g, [x, b])
    np.testing.assert_array_equal(out[0], ref[0])
    assert "atan2" not in writes and "arctan2" not in writes


def test_broadcast_operands_need_a_c_ordered_one_of_the_result_shape():
    from functrans.backends import get_backend
    nb = get_backend("numpy")
    full = np.zeros((4, 3))
    row = np.broadcast_to(np.arange(3.0), (4, 3))      # strides (0, 8)
    col = np.broadcast_to(np.arange(4.0)[:, None], (4, 3))  # strides (8, 0)
    f_view = np.broadcast_to(np.zeros((3, 4)).T[None], (2, 4, 3))  # strides (0, 8, 32)
    match = buffers._operands_match
    assert match([full, row], np.ndarray, nb, None, (4, 3))
    assert match([col, full, 1.0], np.ndarray, nb, None, (4, 3))
    assert not match([row, col], np.ndarray, nb, None, (4, 3))  # nothing fixes the order
    assert not match([full, row], np.ndarray, nb, None)         # not exact arithmetic
    assert not match([np.zeros((2, 4, 3)), f_view], np.ndarray, nb, None, (2, 4, 3))
    assert not match([full, full.T.copy().T], np.ndarray, nb, None, (4, 3))  # F-ordered
