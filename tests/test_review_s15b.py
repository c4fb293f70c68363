"""Review of session 15's additions (collectives, lax, JAX's top-level API, typed keys):
regressions for the problems found, each against a NumPy reference or JAX's documented
behaviour."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr
from functrans import lax


# -- collectives -------------------------------------------------------------------------------


def test_psum_of_booleans_counts_them(backend):
    # JAX sums booleans as int32 counts; a logical or (True everywhere) was returned.
    xs = backend.asarray([[1.0, -1.0], [2.0, -3.0], [-1.0, 5.0]])
    out = ft.vmap(lambda v: lax.psum(v > 0, "i"), axis_name="i")(xs)
    assert backend.is_own(out)
    got = backend.to_numpy(out)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.broadcast_to([2, 1], (3, 2)))
    mean = ft.vmap(lambda v: lax.pmean(v > 0, "i"), axis_name="i")(xs)
    np.testing.assert_allclose(backend.to_numpy(mean), np.broadcast_to([2 / 3, 1 / 3], (3, 2)))


def test_collective_of_a_python_number_is_in_the_arguments_library(backend):
    # all_gather(1.0) came back as a NumPy array under a vmap of torch/strict arrays, and
    # mixing it with them failed.
    xs = backend.asarray([1.0, 2.0, 3.0])
    out = ft.vmap(lambda v: v + lax.all_gather(2.0, "i"), axis_name="i")(xs)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), np.broadcast_to(np.array([[3.0], [4.0], [5.0]]), (3, 3)))


def test_psum_and_pmean_of_python_numbers_stay_weakly_typed():
    # JAX: psum(3.0) is a weak float, so adding it to float32 stays float32.
    xs = np.ones(3, dtype=np.float32)
    for f in (lambda v: v + lax.psum(3.0, "i"), lambda v: v + lax.pmean(3, "i")):
        out = ft.vmap(f, axis_name="i")(xs)
        assert out.dtype == np.float32
    np.testing.assert_allclose(ft.vmap(lambda v: v + lax.psum(3.0, "i"), axis_name="i")(xs),
                               np.full(3, 10.0))
    np.testing.assert_allclose(ft.vmap(lambda v: v + lax.pmean(3, "i"), axis_name="i")(xs),
                               np.full(3, 4.0))


# -- callbacks -------------------------------------------------------------------------------


@pytest.mark.parametrize("result, dtype", [(1.5, "int32"), (300, "uint8"), (-1, "uint32"),
                                           (1j, "float64"), (np.float64(2.0), "int64")])
def test_pure_callback_refuses_a_number_its_dtype_would_change(result, dtype):
    # A float returned for an int32 result was truncated silently (JAX refuses mismatches).
    with pytest.raises(RuntimeError, match="cannot hold"):
        ft.pure_callback(lambda a: result, ft.ShapeDtypeStruct((), dtype), fnp.ones(2))


def test_pure_callback_takes_numbers_that_fit():
    assert ft.pure_callback(lambda a: 2, ft.ShapeDtypeStruct((), "float64"),
                            fnp.ones(2)) == 2.0
    out = ft.pure_callback(lambda a: True, ft.ShapeDtypeStruct((), "int32"), fnp.ones(2))
    assert out == 1 and out.dtype == np.int32


# -- config ----------------------------------------------------------------------------------


def test_config_reads_back_bools():
    try:
        ft.config.update("jax_debug_infs", 1)
        assert ft.config.jax_debug_infs is True
    finally:
        ft.config.update("jax_debug_infs", False)
    assert ft.config.jax_debug_infs is False


# -- typed keys ------------------------------------------------------------------------------


def test_key_array_at_a_traced_index():
    # keys[i] with i traced (vmap, jit) converted the tracer to a NumPy index and failed.
    keys = fr.split(fr.key(1), 3)
    each = [fr.uniform(keys[i]) for i in range(3)]
    got = ft.vmap(lambda i: fr.uniform(keys[i]))(fnp.asarray([2, 0, 1]))
    np.testing.assert_array_equal(got, [each[2], each[0], each[1]])
    f = ft.jit(lambda i: fr.uniform(keys[i]))
    assert f(fnp.asarray(1)) == each[1] and f(fnp.asarray(2)) == each[2]


def test_typed_keys_are_arrays():
    # isinstance(key, jax.Array) is True in JAX; it was False here.
    keys = fr.split(fr.key(0), 3)
    assert isinstance(keys, ft.Array) and isinstance(keys[0], ft.Array)
    assert not isinstance(object(), ft.Array)


def test_platform_option_reads_back_per_thread():
    # The default backend it sets is the current thread's; another thread read the value
    # back although its default backend was unchanged.
    import threading
    seen = []
    with ft.default_backend("numpy"):
        ft.config.update("jax_platform_name", "array_api_strict")
        try:
            assert ft.config.jax_platform_name == "array_api_strict"
            t = threading.Thread(target=lambda: seen.append(
                (ft.config.jax_platform_name, ft.backends.default().name)))
            t.start()
            t.join()
        finally:
            ft.config.update("jax_platform_name", "")
    assert seen == [("", "numpy")]
    assert ft.config.jax_platform_name == ""


def test_callbacks_over_an_empty_batch_keep_the_library(backend):
    # vmap of a sequential callback over zero members returned NumPy arrays.
    from functrans.experimental import io_callback
    xs = backend.asarray(np.zeros((0, 2)))
    sd = ft.ShapeDtypeStruct((2,), "float64")
    for f in (lambda v: ft.pure_callback(lambda a: a * 2, sd, v, vmap_method="sequential"),
              lambda v: io_callback(lambda a: a * 2, sd, v)):
        out = ft.vmap(f)(xs)
        assert backend.is_own(out) and tuple(out.shape) == (0, 2)


def test_reductions_of_typed_keys_are_refused():
    # psum of keys summed their words into meaningless keys (JAX refuses); moving keys
    # (all_gather) stays allowed.
    keys = fr.split(fr.key(0), 3)
    for red in (lax.psum, lax.pmax, lax.pmean):
        with pytest.raises(TypeError, match="typed random keys"):
            ft.vmap(lambda k: red({"k": k}, "i"), axis_name="i")(keys)
    got = ft.vmap(lambda k: lax.all_gather(k, "i"), axis_name="i")(keys)
    np.testing.assert_array_equal(np.asarray(fr.key_data(got[1])), np.asarray(fr.key_data(keys)))


# (fixed in control_flow: a named batch runs whole only where a branch reduces over it)
def test_naming_a_vmap_does_not_change_cond_gradients():
    def f(x):
        return lax.cond(x > 0, lambda v: fnp.sqrt(v), lambda v: v * 0.0, x)
    xs = fnp.asarray([-1.0, 4.0])
    named = ft.grad(lambda x: fnp.sum(ft.vmap(f, axis_name="i")(x)))(xs)
    np.testing.assert_array_equal(named, [0.0, 0.25])


# (fixed in the torch backend: unsigned words gathered through a signed view)
def test_take_from_a_torch_uint32_tensor():
    torch = pytest.importorskip("torch")
    words = torch.tensor([[0, 1], [2, 3], [4, 5]], dtype=torch.uint32)
    keys = fr.wrap_key_data(words)
    got = ft.vmap(lambda i: fr.key_data(keys[i]))(torch.tensor([2, 0]))
    np.testing.assert_array_equal(np.asarray(got), [[4, 5], [0, 1]])
