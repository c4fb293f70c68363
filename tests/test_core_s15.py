"""Session 15's core changes outside the collectives (tests/test_collectives.py): jacrev's
allow_int, ufunc .at at traced indices for every binary function, the grouped .at on plain
arrays, .at modes with a list index on another library, lax.map of an empty batch."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.errors import IntegerInputError
from functrans.testing import check_grads


def test_jacrev_allow_int():
    def f(x, n):
        return x * n + fnp.sin(x)
    x, n = np.array([1.0, 2.0]), np.array([3, 4])
    jx, jn = ft.jacrev(f, argnums=(0, 1), allow_int=True)(x, n)
    np.testing.assert_allclose(jx, np.diag(n + np.cos(x)))
    assert jn.dtype == n.dtype and jn.shape == (2, 2) and not jn.any()
    with pytest.raises(IntegerInputError, match="allow_int=True"):
        ft.jacrev(f, argnums=1)(x, n)


@pytest.mark.parametrize("name", ["power", "arctan2", "hypot", "fmod"])
def test_ufunc_at_traced_indices_in_order(name):
    x = np.array([2.0, 3.0, 4.0])
    idx, v = np.array([0, 0, 2]), np.array([2.0, 3.0, 0.5])
    ref = x.copy()
    getattr(np, name).at(ref, idx, v)
    at = getattr(fnp, name).at
    got = ft.jit(lambda a, i: at(a, i, v, inplace=False))(x, idx)
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    rows = ft.vmap(lambda i: at(x, i, v, inplace=False))(np.array([[0, 0, 2], [1, 2, 1]]))
    for r, i in zip(rows, [[0, 0, 2], [1, 2, 1]]):
        ref = x.copy()
        getattr(np, name).at(ref, i, v)
        np.testing.assert_allclose(r, ref, rtol=1e-14)
    np.testing.assert_array_equal(x, [2.0, 3.0, 4.0])  # not written in place
    if name == "power":
        check_grads(lambda a: ft.jit(lambda a, i: at(a, i, v, inplace=False))(a, idx), (x,),
                    order=2)


def test_grouped_at_on_a_plain_array_at_traced_indices():
    out = ft.jit(lambda i: fnp.maximum.at(np.arange(5.0), i, np.ones(2), inplace=False))(
        np.array([0, 1]))
    np.testing.assert_array_equal(out, [1.0, 1.0, 2.0, 3.0, 4.0])


def test_at_modes_list_index_on_the_arrays_library(backend):
    x = backend.asarray(np.array([1.0, 2.0, 3.0]))
    out = ft.jit(lambda a: a.at[[0, 5]].set(9.0, mode="drop"))(x)
    assert backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(out), [9.0, 2.0, 3.0])


def test_lax_map_of_an_empty_batch():
    assert lax.map(lambda r: r * 2.0, np.zeros((0, 2)), batch_size=3).shape == (0, 2)


def test_effects_without_traced_arguments_run_at_every_jitted_call(capsys):
    f = ft.jit(lambda x: (ft.debug.print("hi"), x + 1)[1])
    c = np.arange(2.0)
    g = ft.jit(lambda x: (ft.debug.print("c={}", c), x * 2)[1])
    for _ in range(3):
        f(np.ones(2))
        g(np.ones(2))
    assert capsys.readouterr().out.split() == ["hi", "c=[0.", "1.]"] * 3
    count = [0]

    def bump():
        count[0] += 1
        return np.int64(count[0])
    h = ft.jit(lambda x: x + ft.experimental.io_callback(bump, ft.ShapeDtypeStruct((), np.int64)))
    assert [int(h(np.zeros(1))[0]) for _ in range(3)] == [1, 2, 3]
    # jit(grad(...)): recorded in jit's graph, not run by linearize
    k = ft.jit(ft.grad(lambda x: (ft.debug.print("g"), x * x)[1]))
    k(1.0)
    k(2.0)
    assert capsys.readouterr().out.split() == ["g", "g"]
    assert "debug_callback" in str(ft.make_jaxpr(lambda x: (ft.debug.print("m"), x)[1])(1.0))


def test_pmean_of_integers_is_the_float_of_their_width():
    for dtype, want in [(np.int32, np.float32), (np.int64, np.float64), (np.uint8, np.float32),
                        (np.bool_, np.float32)]:
        out = ft.vmap(lambda x: lax.pmean(x, "i"), axis_name="i")(np.arange(3).astype(dtype))
        assert out.dtype == want
        np.testing.assert_allclose(out, np.mean(np.arange(3).astype(dtype)))


def test_torch_flip_of_unsigned_words():
    torch = pytest.importorskip("torch")
    words = torch.tensor([1, 2, 2 ** 32 - 1], dtype=torch.uint32)
    out = fnp.flip(words)
    assert out.dtype == torch.uint32
    np.testing.assert_array_equal(out.numpy(), [2 ** 32 - 1, 2, 1])


def test_builtin_reduceat_edges_as_numpy():
    x = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(fnp.add.reduceat(x, [0, 3, 1], axis=1),
                                  np.add.reduceat(x, [0, 3, 1], axis=1))
    assert fnp.add.reduceat(np.arange(4.0), []).shape == np.add.reduceat(np.arange(4.0), []).shape
    with pytest.raises(ValueError, match="axis must be an int"):
        fnp.add.reduceat(x, [0], axis=None)
    assert fnp.add.identity == 0 and fnp.multiply.identity == 1 and fnp.maximum.identity is None
