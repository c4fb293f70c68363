"""JAX's top-level names that functrans adds in session 15: config, make_jaxpr, callbacks,
functrans.debug, devices and friends, custom_gradient, custom_batching, checkpoint policies,
and jax.tree_util's remaining names."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import core
from functrans.testing import check_grads

# -- config --------------------------------------------------------------------------------------


def test_config_update_read_and_errors():
    assert ft.config.jax_enable_x64 is True
    ft.config.update("jax_enable_x64", True)  # already so: nothing changes
    assert fnp.asarray(1.0).dtype == fnp.float64
    with pytest.raises(NotImplementedError, match="jax_enable_x64=False"):
        ft.config.update("jax_enable_x64", False)
    with pytest.raises(NotImplementedError):
        with ft.enable_x64(False):
            pass
    with pytest.raises(AttributeError, match="unknown option 'jax_foo'.*jax_debug_nans"):
        ft.config.update("jax_foo", 1)
    with pytest.raises(AttributeError, match="no option"):
        ft.config.jax_foo
    with pytest.raises(ValueError, match="jax_default_matmul_precision"):
        ft.config.update("jax_default_matmul_precision", "bogus")
    with ft.default_matmul_precision("highest"):
        assert ft.config.jax_default_matmul_precision == "highest"
    assert ft.config.jax_default_matmul_precision is None


def test_config_platform_selects_the_default_backend():
    with ft.default_backend("array_api_strict"):
        ft.config.update("jax_platform_name", "cpu")
        assert ft.backends.default().name == "numpy"
        ft.config.update("jax_platforms", "tpu,array_api_strict")  # the first available
        assert ft.backends.default().name == "array_api_strict"
        with pytest.raises(ft.errors.UnsupportedBackendError, match="TPU"):
            ft.config.update("jax_platform_name", "tpu")
        with ft.default_device("cpu"):
            assert ft.backends.default().name == "numpy"
    ft.config.values["jax_platform_name"] = ""
    ft.config.values["jax_platforms"] = None


def test_debug_nans_names_the_primitive_eager_jit_and_grad():
    original = core.Primitive.impl_for
    f = ft.jit(lambda x: fnp.log(x) * 2.0)
    x = np.asarray([-1.0, 1.0])
    f(x), f(x)  # compiled before the check is turned on
    with ft.debug_nans():
        with pytest.raises(FloatingPointError, match=r"invalid value \(nan\) encountered in log"):
            fnp.log(x)
        with pytest.raises(FloatingPointError, match="in log"):
            f(x)
        with pytest.raises(FloatingPointError, match="in sqrt"):
            ft.grad(fnp.sqrt)(-1.0)
        assert np.array_equal(fnp.log(np.asarray([1.0])), [0.0])  # no NaN: no error
    assert core.Primitive.impl_for is original  # off again: the plain implementations
    assert np.isnan(f(x)[0])
    ft.config.update("jax_debug_infs", True)
    try:
        with pytest.raises(FloatingPointError, match=r"\(inf\) encountered in div"):
            fnp.divide(np.asarray([1.0]), np.asarray([0.0]))
    finally:
        ft.config.update("jax_debug_infs", False)
    assert ft.config.jax_debug_infs is False


# -- make_jaxpr ----------------------------------------------------------------------------------


def test_make_jaxpr_prints_like_jax_and_has_its_attributes():
    closed = ft.make_jaxpr(fnp.sin)(np.ones(3))
    assert str(closed) == "{ lambda ; a:f64[3]. let b:f64[3] = sin a in (b,) }"
    eqn = closed.jaxpr.eqns[0]
    assert eqn.primitive.name == "sin" and eqn.params == {}
    assert [a.shape for a in closed.in_avals] == [(3,)] and closed.consts == []
    c = np.arange(3.0)
    closed = ft.make_jaxpr(lambda x, y: (fnp.sum(x * c + y), x))(np.ones(3), 2.0)
    text = str(closed)
    assert text.startswith("{ lambda a:f64[3]; b:f64[3] c:f64[]. let\n    d:f64[3] = mul b a")
    assert "reduce_sum[axes=(0,)]" in text and text.endswith("  in (e, b) }".replace(
        "e", text.split("\n")[-2].split(":")[0].strip()))
    assert closed.consts[0] is c and closed.out_avals[0].shape == ()
    closed, shape = ft.make_jaxpr(lambda x, n: x * n, static_argnums=1,
                                  return_shape=True)(np.ones(2), 3)
    # The Python int takes the array's dtype there (weak typing), printed as JAX does.
    assert "mul a 3.0:f64[]" in str(closed) and shape.shape == (2,)
    assert "b:f64[2] = mul a 2.0" in str(ft.make_jaxpr(lambda *, x: x * 2.0)(x=np.ones(2)))
    with pytest.raises(NotImplementedError, match="axis_env"):
        ft.make_jaxpr(fnp.sin, axis_env=[("i", 2)])(1.0)


# -- pure_callback / io_callback -----------------------------------------------------------------


def test_pure_callback_values_library_and_jit_calls(backend):
    seen = []

    def cb(x, y):
        seen.append((backend.is_own(x), tuple(y.shape)))
        xp = ft.backends.backend_of(x).xp
        return xp.sin(x) + y

    x = backend.asarray([0.5, 1.0])
    spec = ft.ShapeDtypeStruct((2,), fnp.float64)
    f = ft.jit(lambda x: ft.pure_callback(cb, spec, x, 1.0) * 2.0)
    for k in range(3):
        out = f(x + k)
        assert backend.is_own(out)
        np.testing.assert_allclose(backend.to_numpy(out), 2 * (np.sin([0.5 + k, 1.0 + k]) + 1))
    assert seen == [(True, ())] * 3  # each call runs it, on the input's library


@pytest.mark.parametrize("method, shapes", [("sequential", [(3,), (3,)]),
                                            ("expand_dims", [(2, 3), (1, 3)]),
                                            ("broadcast_all", [(2, 3), (2, 3)]),
                                            ("legacy_vectorized", [(2, 3), (3,)])])
def test_pure_callback_vmap_methods(method, shapes):
    seen = []

    def cb(x, y):
        seen.append([x.shape, y.shape])
        return np.sin(x) + y

    f = ft.vmap(lambda x, y: ft.pure_callback(cb, ft.ShapeDtypeStruct(x.shape, x.dtype), x, y,
                                              vmap_method=method), in_axes=(0, None))
    xs, y = np.arange(6.0).reshape(2, 3), np.ones(3)
    np.testing.assert_allclose(f(xs, y), np.sin(xs) + y)
    assert seen[0] == shapes


def test_pure_callback_errors():
    spec = ft.ShapeDtypeStruct((3,), fnp.float64)
    g = lambda x: ft.pure_callback(np.sin, spec, x)  # noqa: E731
    with pytest.raises(NotImplementedError, match="vmap_method"):
        ft.vmap(g)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="no derivative.*custom_jvp"):
        ft.grad(lambda x: fnp.sum(g(x)))(np.ones(3))
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*declares \(3,\)"):
        ft.pure_callback(lambda x: np.ones(2), spec, np.ones(3))
    with pytest.raises(RuntimeError, match="dtype float32.*float64"):
        ft.pure_callback(lambda x: np.ones(3, np.float32), spec, np.ones(3))

    @ft.custom_jvp
    def sin(x):
        return g(x)

    @sin.defjvp
    def sin_jvp(p, t):
        return sin(p[0]), fnp.cos(p[0]) * t[0]
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(sin(x)))(np.ones(3)), np.cos(np.ones(3)))


def test_io_callback_is_kept_and_pure_callback_pruned_under_jit():
    calls = []
    spec = ft.ShapeDtypeStruct((2,), fnp.float64)

    def log(x):
        calls.append(float(np.ravel(x)[0]))
        return x

    io = ft.jit(lambda x: (ft.experimental.io_callback(log, spec, x), x * 2.0)[1])
    pure = ft.jit(lambda x: (ft.pure_callback(log, spec, x), x * 2.0)[1])
    for v in (1.0, 2.0):
        io(np.full(2, v)), pure(np.full(2, v))
    assert calls == [1.0, 2.0]  # io_callback at each call; the unused pure_callback dropped
    calls.clear()
    ft.vmap(lambda x: ft.experimental.io_callback(log, ft.ShapeDtypeStruct((), fnp.float64),
                                                  x))(np.asarray([3.0, 4.0]))
    assert calls == [3.0, 4.0]  # once per batch member
    with pytest.raises(ValueError, match="ordered"):
        ft.vmap(lambda x: ft.experimental.io_callback(log, spec, x, ordered=True))(
            np.ones((2, 2)))
    with pytest.raises(ValueError, match="io_callback.*no derivative"):
        ft.jvp(lambda x: ft.experimental.io_callback(log, spec, x), (np.ones(2),),
               (np.ones(2),))


# -- functrans.debug -------------------------------------------------------------------------


def test_debug_print_under_every_transform(capsys):
    def f(x):
        ft.debug.print("x={x}", x=x)
        return fnp.sin(x) * 2.0

    def printed():
        return capsys.readouterr().out.split("\n")[:-1]

    assert ft.vmap(f)(np.asarray([0.0, 1.0])).shape == (2,)
    assert printed() == ["x=0.0", "x=1.0"]  # per batch member, as JAX
    np.testing.assert_allclose(ft.grad(f)(1.0), 2 * np.cos(1.0))
    assert printed() == ["x=1.0"]  # the primal, once
    ft.jvp(f, (1.0,), (1.0,))
    assert printed() == ["x=1.0"]
    g = ft.jit(ft.grad(lambda x: fnp.sum(f(x))))
    for v in (1.0, 2.0):
        np.testing.assert_allclose(g(np.full(2, v)), 2 * np.cos(np.full(2, v)))
    assert printed() == ["x=[1. 1.]", "x=[2. 2.]"]  # at each call of the jitted function
    with pytest.raises(ValueError, match="unused positional"):
        ft.debug.print("x", np.ones(2))
    with pytest.raises(NotImplementedError, match="disable_jit"):
        ft.debug.breakpoint()


def test_debug_callback_gets_the_library_arrays(backend):
    got = []
    f = ft.jit(lambda x: (ft.debug.callback(lambda v, s: got.append((v, s)), x, "tag"),
                          x + 1.0)[1])
    x = backend.asarray([1.0, 2.0])
    out = f(x)
    assert backend.is_own(out) and len(got) == 1 and got[0][1] == "tag"
    assert backend.is_own(got[0][0])


# -- devices, arrays, small helpers ----------------------------------------------------------------


def test_array_isinstance_and_typeof(backend):
    x = backend.asarray([1.0, 2.0])
    assert isinstance(x, ft.Array)
    assert not isinstance(1.0, ft.Array) and not isinstance(np.float64(1.0), ft.Array)
    seen = []
    ft.grad(lambda y: seen.append(isinstance(y, ft.Array)) or fnp.sum(y))(x)
    assert seen == [True]
    assert ft.typeof(x).shape == (2,) and ft.typeof(1.0).weak_type
    with pytest.raises(TypeError):
        ft.Array()


def test_devices_processes_and_device_get(backend):
    assert ft.devices() == ["cpu"] and ft.device_count() == ft.local_device_count() == 1
    assert ft.local_devices() == ft.devices("cpu")
    assert ft.process_index() == 0 and ft.process_count() == 1
    x = backend.asarray([1.0, 2.0])
    got = ft.device_get({"a": x, "b": 3})
    assert type(got["a"]) is np.ndarray or isinstance(got["a"], np.ndarray)
    np.testing.assert_array_equal(got["a"], [1.0, 2.0])
    assert got["b"] == 3
    with pytest.raises(ft.errors.TracerArrayConversionError):
        ft.grad(lambda y: ft.device_get(y).sum())(1.0)


def test_caches_names_and_noop_helpers():
    f = ft.jit(lambda x: x * 2.0)
    f(np.ones(2))
    assert f.cache_size() == 1
    ft.clear_caches()
    assert f.cache_size() == 0
    g = lambda x: x + 1.0  # noqa: E731
    assert ft.named_call(g, name="g") is g

    @ft.named_scope("block")
    def h(x):
        with ft.named_scope("inner"), ft.ensure_compile_time_eval():
            return x * 3.0
    assert h(2.0) == 6.0
    assert ft.float0 == np.dtype([("float0", "V")])


def test_checkpoint_accepts_jax_policies():
    names = ["checkpoint_dots", "checkpoint_dots_with_no_batch_dims", "dots_saveable",
             "dots_with_no_batch_dims_saveable", "everything_saveable", "nothing_saveable",
             "offload_dot_with_no_batch_dims", "save_and_offload_only_these_names",
             "save_any_names_but_these", "save_anything_except_these_names",
             "save_from_both_policies", "save_only_these_names"]
    assert all(callable(getattr(ft.checkpoint_policies, n)) for n in names)
    f = lambda x: fnp.sum(fnp.sin(fnp.sin(x) @ x))  # noqa: E731
    x = np.arange(4.0).reshape(2, 2) * 0.3
    expected = ft.grad(f)(x)
    for policy in (ft.checkpoint_policies.dots_saveable,
                   ft.checkpoint_policies.save_only_these_names("a"), None):
        np.testing.assert_allclose(ft.grad(ft.checkpoint(f, policy=policy))(x), expected)
    np.testing.assert_allclose(
        ft.grad(ft.remat(lambda x, n: f(x) * n, static_argnums=1))(x, 2), 2 * expected)
    with pytest.raises(TypeError, match="policy"):
        ft.checkpoint(f, policy="dots")


# -- custom_gradient, custom_vmap ----------------------------------------------------------------


def test_custom_gradient(backend):
    @ft.custom_gradient
    def clipped(x):
        return fnp.sin(x), lambda g: (fnp.clip(g, -0.5, 0.5) * fnp.cos(x),)
    x = backend.asarray([0.0, 1.0])
    g = ft.grad(lambda x: fnp.sum(clipped(x)))(x)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), 0.5 * np.cos([0.0, 1.0]))
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.vmap(ft.grad(clipped)))(x)),
                               0.5 * np.cos([0.0, 1.0]))

    @ft.custom_gradient
    def prod(x, y):
        return x * y, lambda g: (g * y, g * x * 10.0)
    gx, gy = ft.grad(prod, argnums=(0, 1))(2.0, 3.0)
    assert float(gx) == 3.0 and float(gy) == 20.0


def _counted_sin():
    calls = []

    @ft.custom_batching.custom_vmap
    def f(x, y):
        return fnp.sin(x) * y

    @f.def_vmap
    def f_vmap(axis_size, in_batched, x, y):
        calls.append((axis_size, tuple(in_batched)))
        return fnp.sin(x) * y, in_batched[0] or in_batched[1]
    return f, calls


def test_custom_vmap_rule_under_vmap_jit_and_forward_mode(backend):
    f, calls = _counted_sin()
    x = backend.asarray([0.1, 0.2, 0.3])
    expect = 2 * np.sin([0.1, 0.2, 0.3])
    for g in (ft.vmap(f, in_axes=(0, None)), ft.jit(ft.vmap(f, in_axes=(0, None))),
              ft.vmap(ft.jit(f), in_axes=(0, None))):
        out = g(x, 2.0)
        assert backend.is_own(out)
        np.testing.assert_allclose(backend.to_numpy(out), expect)
    assert calls == [(3, (True, False))] * 3
    calls.clear()
    tan = ft.vmap(lambda x: ft.jvp(lambda x: f(x, 2.0), (x,), (fnp.ones_like(x),))[1])(x)
    np.testing.assert_allclose(backend.to_numpy(tan), 2 * np.cos([0.1, 0.2, 0.3]))
    assert len(calls) == 1  # the rule, differentiated
    check_grads(lambda x: ft.vmap(f, in_axes=(0, None))(x, 2.0), (x,), order=2)


def test_custom_vmap_errors_and_sequential_vmap():
    @ft.custom_batching.custom_vmap
    def f(x):
        return x * 2.0
    with pytest.raises(AttributeError, match="def_vmap"):
        f(1.0)
    f.def_vmap(lambda n, b, x: (x[0], True))
    with pytest.raises(ft.errors.BatchingError, match="batch size 3"):
        ft.vmap(f)(np.ones((3, 2)))
    f.def_vmap(lambda n, b, x: (x * 2.0, [True]))
    with pytest.raises(ft.errors.CustomRuleError, match="structure"):
        ft.vmap(f)(np.ones(3))
    seen = []

    def host(x):
        seen.append(x.shape)
        return np.sin(x)
    s = ft.custom_batching.sequential_vmap(
        lambda x: ft.pure_callback(host, ft.ShapeDtypeStruct(x.shape, x.dtype), x))
    np.testing.assert_allclose(ft.vmap(s)(np.ones((2, 3))), np.sin(np.ones((2, 3))))
    assert seen == [(3,), (3,)]


# -- jax.tree_util's remaining names ---------------------------------------------------------


def test_tree_util_extras():
    tu = ft.tree_util
    assert tu.flatten_one_level({"b": 1, "a": [2]}) == (([2], 1), ("a", "b"))
    assert tu.flatten_one_level(None) == ((), None)
    with pytest.raises(ValueError, match="tree-flatten"):
        tu.flatten_one_level(1.0)
    pairs, meta = tu.flatten_one_level_with_keys({"b": 1, "a": [2]})
    assert [str(k) for k, _ in pairs] == ["['a']", "['b']"] and pairs[1][1] == 1
    P = collections.namedtuple("P", "x y")
    assert [str(k) for k, _ in tu.flatten_one_level_with_keys(P(1, None))[0]] == [".x", ".y"]
    td = tu.tree_structure((1, [2, 3]))
    assert [tu.treedef_is_leaf(c) for c in tu.treedef_children(td)] == [True, False]
    assert tu.treedef_is_leaf(tu.tree_structure(None))
    assert tu.treedef_tuple([tu.tree_structure(1), td]) == tu.tree_structure((0, (1, [2, 3])))
    assert isinstance(td, tu.PyTreeDef)
    assert ft.tree.broadcast([1, {"a": 2}], [(3, 4), {"a": [5, 6]}]) == [(1, 1), {"a": [2, 2]}]
    joined = ft.tree.reduce_associative(lambda a, b: f"({a}+{b})", [1, 2, 3, 4, 5])
    assert joined == "((1+2)+(3+(4+5)))"
    assert tu.tree_reduce_associative(max, [], identity=-1) == -1
    with pytest.raises(TypeError, match="identity"):
        tu.tree_reduce_associative(max, [])
    assert tu.is_tree_node(list) and tu.is_tree_node(type(None)) and not tu.is_tree_node(int)
    assert tu.is_tree_node(P) and tu.default_registry.is_node(dict)
    assert tu.default_registry.flatten_one_level(1.0) is None


@pytest.mark.parametrize("name", ["toplevel", "callbacks", "debug", "jaxpr", "custom_batching"])
def test_docstring_examples(name):
    import doctest
    import importlib
    module = importlib.import_module(f"functrans.{name}")
    result = doctest.testmod(module, extraglobs={"ft": ft, "fnp": fnp, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_make_jaxpr_literals_print_the_dtype_they_take():
    # A Python number in an elementwise equation takes the array operand's dtype (it was
    # printed 2:i64[] in a float32 multiply, which reads as a promotion that never happens).
    f32 = np.ones(3, np.float32)
    assert "mul a 2.0:f32[]" in str(ft.make_jaxpr(lambda x: x * 2)(f32))
    text = str(ft.make_jaxpr(lambda x: fnp.where(x > 0, x, 0) + 1j)(f32))
    assert "gt a 0.0:f32[]" in text and "0.0:f32[]" in text.split("select")[1]
    assert "1j:c64[]" in text
    # An int array with an int literal keeps the int; with a float literal it is float64.
    i32 = np.ones(3, np.int32)
    assert "add a 1:i32[]" in str(ft.make_jaxpr(lambda x: x + 1)(i32))
    assert "2.5:f64[]" in str(ft.make_jaxpr(lambda x: x * 2.5)(i32))
    # The Literal keeps the Python number; evaluating the jaxpr gives float32 as before.
    closed = ft.make_jaxpr(lambda x: x * 2)(f32)
    lit = closed.eqns[0].invars[1]
    assert isinstance(lit, ft.jaxpr.Literal) and lit.val == 2 and type(lit.val) is int
    assert lit.aval.weak_type and lit.aval.dtype == np.float32
    assert ft.jaxpr.eval_jaxpr(closed.jaxpr, closed.consts, f32)[0].dtype == np.float32
