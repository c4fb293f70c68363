"""Session 57 (cond57): jit's signature (promotion modes, exact static keys); lax.map's xs.

Fixed:

- ``jit`` keyed its graphs by the arguments and the default backend only, while the checks
  of ``numpy_dtype_promotion("strict")`` and ``numpy_rank_promotion("raise"/"warn")`` run
  while a function is staged: a graph staged under the default modes then ran silently
  under "strict" or "raise" (``f(float32, float64)`` gave float64 where an eager call and
  ``jax.jit`` raise TypePromotionError / ValueError). The modes in force are now part of
  the signature wherever one is set (``compiling._context``; while none is set anywhere,
  the key is the same as before: one read of ``_PROMOTION_CHECKS``), on all three key paths
  (arrays only, containers, keywords). A ``Compiled`` (``lower().compile()``) still runs
  what it was lowered for under any mode, as JAX's does. Before the fix the tests marked
  "(fails before)" got float64 results instead of the errors.
- ``lax.map(f, xs, batch_size=k)`` read the length of xs from its first leaf and sliced
  every leaf to it: a longer leaf was cut short without a word (``(x3, x6)`` with
  ``batch_size=3`` gave three results; JAX does the same, its scan without batch_size
  refuses), a Python number or 0-d leaf gave AttributeError / IndexError. Now every leaf
  must have a leading axis of one length, checked as scan checks xs (one helper,
  ``_leading_length``), with map's name in the message (scan's before, without
  batch_size).
- ``graph.exact_key`` (the key of static arguments, number leaves, primitive parameters in
  CSE and the trace caches) told 0.0 from -0.0 and 1 from 1.0 in plain tuples only: a
  namedtuple or a frozenset was its own key, compared by ``==``, so a static
  ``Cfg(2, -0.0)`` ran the graph staged for ``Cfg(2, 0.0)`` (wrong signs) and
  ``frozenset({2.0})`` the one of ``{2}`` (int64 for float64); and a tuple's key was the
  tuple of its items' keys, equal to the key of a tuple holding such keys (``(1,)`` and
  ``((int, "1"),)``). A container's key is now its type and its items' keys.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.dtypes import TypePromotionError

A32 = np.array([1.5, -2.0, 0.25], dtype=np.float32)
B64 = np.array([0.5, 4.0, -1.0])


def test_jit_cached_graph_not_run_under_strict_dtype_promotion():
    """(fails before) The graph staged under "standard" ran under "strict"."""
    f = ft.jit(lambda x, y: x + y)
    for _ in range(3):  # staged, then compiled: both kinds of cached run
        np.testing.assert_array_equal(f(A32, B64), A32.astype(np.float64) + B64)
    with ft.numpy_dtype_promotion("strict"):
        with pytest.raises(TypePromotionError, match="strict"):
            f(A32, B64)
        # the same dtypes need no promotion: staged and run under strict
        np.testing.assert_array_equal(f(B64, B64), 2 * B64)
    # and back under standard, the first graph again (no new staging)
    n = f.cache_size()
    assert f(A32, B64).dtype == np.float64
    assert f.cache_size() == n


def test_jit_strict_on_every_key_path():
    """(fails before) Containers (``_tree_keys``) and keywords (the general path)."""
    f = ft.jit(lambda d, scale=1.0: (d["a"] + d["b"]) * scale)
    d = {"a": A32, "b": B64}
    np.testing.assert_allclose(f(d), A32 + B64.astype(np.float64))
    np.testing.assert_allclose(f(d, scale=2.0), 2 * (A32.astype(np.float64) + B64))
    with ft.numpy_dtype_promotion("strict"):
        with pytest.raises(TypePromotionError):
            f(d)
        with pytest.raises(TypePromotionError):
            f(d, scale=2.0)
    ft.config.update("jax_numpy_dtype_promotion", "strict")  # the process-wide setting
    try:
        with pytest.raises(TypePromotionError):
            f(d)
    finally:
        ft.config.update("jax_numpy_dtype_promotion", "standard")
    np.testing.assert_allclose(f(d), A32 + B64.astype(np.float64))


def test_jit_rank_promotion_raise_and_warn():
    """(fails before) A broadcast of ranks 2 and 1 staged under "allow" ran under "raise"."""
    f = ft.jit(lambda x, y: x * y)
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(m, B64), m * B64)
    with ft.numpy_rank_promotion("raise"):
        with pytest.raises(ValueError, match="different ranks"):
            f(m, B64)
    with ft.numpy_rank_promotion("warn"):
        with pytest.warns(UserWarning, match="promotes the rank"):
            np.testing.assert_array_equal(f(m, B64), m * B64)


def test_jit_grad_under_strict():
    """(fails before) jit(grad): the staged gradient of a mixed-dtype function."""
    g = ft.jit(ft.grad(lambda x, y: fnp.sum(fnp.sin(x) * y)))
    x = np.array([0.3, -1.2])
    y = np.array([2.0, 0.5], dtype=np.float32)
    np.testing.assert_allclose(g(x, y), np.cos(x) * y.astype(np.float64), rtol=1e-15)
    with ft.numpy_dtype_promotion("strict"):
        with pytest.raises(TypePromotionError):
            g(x, y)
        # equal dtypes: a new graph, the same derivative
        np.testing.assert_allclose(g(x, y.astype(np.float64)), np.cos(x) * y, rtol=1e-15)


def test_compiled_runs_under_any_mode():
    """A Compiled runs what it was lowered for, as JAX's does: no new check, no refusal."""
    c = ft.jit(lambda x, y: x + y).lower(A32, B64).compile()
    with ft.numpy_dtype_promotion("strict"):
        np.testing.assert_array_equal(c(A32, B64), A32.astype(np.float64) + B64)
    with pytest.raises(TypeError, match="lowered for other arguments"):
        c(A32, A32)


def test_jit_no_restaging_at_default_modes():
    """Setting a mode to its default stages nothing again (the key is the one before)."""
    f = ft.jit(lambda x: x * 2)
    f(B64)
    with ft.numpy_dtype_promotion("standard"), ft.numpy_rank_promotion("allow"):
        np.testing.assert_array_equal(f(B64), 2 * B64)
    assert f.cache_size() == 1


def test_map_batch_size_refuses_leaves_of_other_lengths():
    """(fails before) The longer leaf was cut to the first's length, silently."""
    x3 = np.array([0.5, -1.0, 2.0])
    x6 = np.arange(6.0)
    with pytest.raises(ValueError, match=r"lax.map: the leaves of xs must all have the "
                                         r"leading length 3; leaf 1 has shape \(6,\)"):
        lax.map(lambda r: r[0] * r[1], (x3, x6), batch_size=3)
    with pytest.raises(ValueError, match="lax.map: the leaves of xs"):
        lax.map(lambda r: r[0] * r[1], (x6, x3), batch_size=2)
    with pytest.raises(ValueError, match="lax.map: the leaves of xs"):
        lax.map(lambda r: r[0] * r[1], (x3, x6))  # (scan's message before)
    # (fails before: AttributeError / IndexError)
    with pytest.raises(TypeError, match="leaf 0 is float"):
        lax.map(lambda r: r[0] * r[1], (1.0, x3), batch_size=2)
    with pytest.raises(TypeError, match="leaf 0 is a 0-d array"):
        lax.map(lambda r: r[0] * r[1], (x3[0], x3), batch_size=2)
    with pytest.raises(ValueError, match="lax.map needs at least one array"):
        lax.map(lambda r: x3, ())


def test_map_batch_size_values_and_gradient():
    """Equal lengths still map: values and jit(grad) against the closed forms."""
    x = np.array([0.3, -0.7, 1.1, 2.0, -0.4])
    w = np.array([1.0, 2.0, -1.0, 0.5, 3.0])
    for bs in (None, 0, 2, 5, 7):
        out = lax.map(lambda r: fnp.sin(r[0]) * r[1], (x, w), batch_size=bs)
        np.testing.assert_allclose(out, np.sin(x) * w, rtol=1e-15)
        g = ft.jit(ft.grad(lambda x: fnp.sum(lax.map(lambda r: fnp.sin(r[0]) * r[1] ** 2,
                                                    (x, x), batch_size=bs))))(x)
        np.testing.assert_allclose(g, np.cos(x) * x ** 2 + 2 * x * np.sin(x), rtol=1e-14)


def test_jit_static_namedtuple_and_frozenset_compared_exactly():
    """(fails before) ``graph.exact_key`` keyed a namedtuple or a frozenset by ``==``: a
    static ``Cfg(2, -0.0)`` after ``Cfg(2, 0.0)`` ran the graph of +0.0 (copysign's sign
    lost: [0, 2, 4] for [-0, -2, -4]), ``frozenset({2.0})`` after ``{2}`` gave int64."""
    import collections
    cfg = collections.namedtuple("Cfg", "scale sign")
    f = ft.jit(lambda x, c: x * c.scale * fnp.copysign(1.0, c.sign), static_argnums=1)
    x = np.arange(3)
    np.testing.assert_array_equal(f(x, cfg(2, 0.0)), [0.0, 2.0, 4.0])
    out = f(x, cfg(2, -0.0))
    np.testing.assert_array_equal(out, [-0.0, -2.0, -4.0])
    assert np.signbit(out).all()
    g = ft.jit(lambda x, s: x * max(s), static_argnums=1)
    assert g(x, frozenset({2})).dtype == np.int64
    out = g(x, frozenset({2.0}))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])


def test_exact_key_containers_never_equal_a_number_key():
    """(fails before) The key of the tuple ``(1,)`` was ``((int, "1"),)``, the key of the
    tuple ``((int, "1"),)`` too: a static argument of one ran the other's graph."""
    from functrans.graph import exact_key
    assert exact_key((1,)) != exact_key(((int, "1"),))
    assert exact_key((1,)) == exact_key((1,))
    assert exact_key((0.0,)) != exact_key((-0.0,))
    h = ft.jit(lambda x, t: x * (2 if t == (1,) else 3), static_argnums=1)
    x = np.arange(3)
    np.testing.assert_array_equal(h(x, (1,)), [0, 2, 4])
    np.testing.assert_array_equal(h(x, ((int, "1"),)), [0, 3, 6])
