"""functrans.random's typed keys (``key(seed)``, dtype ``key<fry>``), as jax.random.key's:
the array protocol they have (shape, indexing, iteration, reshaping, ==) and the one they
refuse (arithmetic, conversions), their data (JAX's bits, pinned), the samplers taking typed
and raw keys alike (identical samples), and the transforms seeing through them (vmap over a
batch of keys with in_axes/out_axes counting the keys' axes, jit taking and returning keys
without restaging, scan/fori_loop carrying one, grad with a key among the arguments)."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.dtypes as fd
import functrans.lax as lax
import functrans.numpy as fnp
import functrans.random as fr

# jax.random.key_data(jax.random.split(jax.random.key(0), (2, 3))) (JAX 0.10, x64)
SPLIT_0 = [[[1797259609, 2579123966], [928981903, 3453687069], [4146024105, 2718843009]],
           [[2467461003, 3840466878], [2285895361, 433833334], [1524306142, 1887795613]]]


def _data(k):
    return np.asarray(fr.key_data(k))


def test_typed_key_is_a_0d_array_of_key_dtype():
    k = fr.key(0)
    assert isinstance(k, fr.KeyArray)
    assert (k.shape, k.ndim, k.size, k.itemsize, k.nbytes) == ((), 0, 1, 8, 8)
    assert k.dtype is fd.key_fry and str(k.dtype) == "key<fry>" and k.dtype == "key<fry>"
    assert fr.key_dtype() is k.dtype and fr.key_dtype("threefry2x32") is k.dtype
    assert fd.issubdtype(k.dtype, fd.prng_key) and fd.issubdtype(k.dtype, fd.extended)
    assert fd.issubdtype(k.dtype, np.generic) and not fd.issubdtype(k.dtype, np.integer)
    assert not fd.issubdtype(fnp.uint32, fd.prng_key) and fd.issubdtype(fnp.uint32, np.integer)
    assert fr.key_impl(k) == "threefry2x32" and fr.clone(k) is k
    # its data are the raw key's (PRNGKey stays raw, as JAX's)
    raw = fr.PRNGKey(2 ** 32 + 7)
    assert raw.dtype == np.uint32 and raw.shape == (2,)
    np.testing.assert_array_equal(_data(fr.key(2 ** 32 + 7)), [1, 7])
    np.testing.assert_array_equal(_data(fr.key(np.int64(-1))), [2 ** 32 - 1] * 2)
    assert fr.key_data(raw) is raw
    assert repr(k) == str(k) == "Array((), dtype=key<fry>) overlaying:\n[0 0]"


def test_split_fold_in_and_wrap_give_typed_keys_of_jax_data():
    k = fr.key(0)
    ks = fr.split(k, (2, 3))
    assert isinstance(ks, fr.KeyArray) and ks.shape == (2, 3)
    np.testing.assert_array_equal(_data(ks), SPLIT_0)
    np.testing.assert_array_equal(_data(fr.split(k)), SPLIT_0[0][:2])
    assert fr.split(k, 0).shape == (0,)
    # fold_in, typed from typed (jax.random.fold_in(jax.random.key(5), 7))
    f = fr.fold_in(fr.key(5), 7)
    assert isinstance(f, fr.KeyArray) and f.shape == ()
    np.testing.assert_array_equal(_data(f), [1394159668, 1590028285])
    # raw keys give raw keys, of the same data
    np.testing.assert_array_equal(fr.split(fr.PRNGKey(0), (2, 3)), SPLIT_0)
    np.testing.assert_array_equal(fr.fold_in(fr.PRNGKey(5), 7), _data(f))
    w = fr.wrap_key_data(np.asarray(SPLIT_0, dtype=np.uint32), impl="threefry2x32")
    assert w.shape == (2, 3) and bool(fnp.all(w == ks))


def test_indexing_iteration_and_reshaping():
    ks = fr.split(fr.key(0), (2, 3))
    d = np.asarray(SPLIT_0)
    cases = {
        "ks[1]": (ks[1], d[1]), "ks[:, 1:]": (ks[:, 1:], d[:, 1:]),
        "ks[..., 0]": (ks[..., 0], d[:, 0]), "ks[None, 1]": (ks[None, 1], d[None, 1]),
        "ks[:, None]": (ks[:, None], d[:, None]),
        "ks[mask]": (ks[np.array([False, True])], d[1:]),
        "reshape": (ks.reshape(3, 2), d.reshape(3, 2, 2)),
        "reshape tuple": (ks.reshape((6,)), d.reshape(6, 2)),
        "ravel": (ks.ravel(), d.reshape(6, 2)), "T": (ks.T, d.transpose(1, 0, 2)),
        "transpose": (ks.transpose(1, 0), d.transpose(1, 0, 2)),
        "swapaxes": (ks.swapaxes(0, 1), d.transpose(1, 0, 2)),
        "squeeze": (ks[:1].squeeze(), d[0]), "take": (ks[0].take(np.array([2, 0])), d[0, [2, 0]]),
    }
    for name, (got, want) in cases.items():
        assert isinstance(got, fr.KeyArray) and got.shape == want.shape[:-1], name
        np.testing.assert_array_equal(_data(got), want, err_msg=name)
    assert len(ks) == 2 and [r.shape for r in ks] == [(3,), (3,)]
    a, b = fr.split(fr.key(0))
    np.testing.assert_array_equal(_data(b), d[0, 1])
    # == and != elementwise (broadcasting), as JAX's
    np.testing.assert_array_equal(ks == ks[0], [[True] * 3, [False] * 3])
    np.testing.assert_array_equal(ks[0] != ks[0, 1], [True, False, True])
    with pytest.raises(IndexError):
        ks[0, 0, 0]


@pytest.mark.parametrize("op", [
    lambda k: k + 1, lambda k: 1 + k, lambda k: np.ones(2) * k, lambda k: k < k, lambda k: -k,
    lambda k: abs(k), lambda k: ~k, lambda k: k @ k, lambda k: k == 0, lambda k: float(k),
    lambda k: bool(k), lambda k: np.asarray(k), lambda k: np.sin(k), lambda k: k.astype("uint32"),
    lambda k: len(k), lambda k: list(k), lambda k: {k}, lambda k: fr.key(k),
    lambda k: fr.wrap_key_data(k), lambda k: fr.key_data(np.zeros(2)),
    lambda k: fr.wrap_key_data(np.zeros(3, np.uint32)),
    lambda k: fr.normal(fr.wrap_key_data(np.zeros(2, np.int32))),
])
def test_keys_refuse_arithmetic_and_conversions(op):
    with pytest.raises(TypeError):
        op(fr.key(0))


def test_a_batch_of_keys_asks_for_vmap():
    ks = fr.split(fr.key(0), 4)
    for f in (lambda: fr.normal(ks, (2,)), lambda: fr.split(ks), lambda: fr.fold_in(ks, 1)):
        with pytest.raises(ValueError, match="vmap"):
            f()
    with pytest.raises(TypeError, match="uint32"):  # a key rebuilt from other leaves
        fr.normal(ft.tree.tree_map(lambda w: fnp.astype(w, fnp.float64), ks[0]))


def test_samplers_give_the_same_samples_from_typed_and_raw_keys(backend):
    raw = backend.asarray(SPLIT_0[1][2], dtype="uint32")
    k = fr.wrap_key_data(raw)
    assert backend.is_own(fr.key_data(k)) and backend.is_own(fr.key_data(fr.split(k, 3)))
    draws = {
        "uniform": lambda k: fr.uniform(k, (3,), minval=-1.0, maxval=2.0),
        "normal": lambda k: fr.normal(k, (2, 2), "float32"),
        "randint": lambda k: fr.randint(k, (4,), 0, 100),
        "bits": lambda k: fr.bits(k, (3,), "uint64"),
        "gamma": lambda k: fr.gamma(k, 0.7, (3,)),
        "choice": lambda k: fr.choice(k, 5, (3,), replace=False),
        "permutation": lambda k: fr.permutation(k, 6),
        "key=": lambda k: fr.bernoulli(key=k, p=0.3, shape=(4,)),
    }
    for name, draw in draws.items():
        got, want = draw(k), draw(raw)
        assert backend.is_own(got), name
        np.testing.assert_array_equal(backend.to_numpy(got), backend.to_numpy(want), name)
    # jax.random.randint(jax.random.key(3), (4,), 0, 100)
    np.testing.assert_array_equal(backend.to_numpy(fr.randint(fr.key(3), (4,), 0, 100)),
                                  [51, 6, 33, 99])
    if backend.device is not None:  # a typed key made on a given device
        kd = fr.key(3, device=backend.device)
        assert backend.is_own(fr.key_data(kd)) and backend.is_own(fr.uniform(kd, (2,)))


def test_vmap_over_typed_keys(backend):
    ks = fr.wrap_key_data(backend.asarray(SPLIT_0[0], dtype="uint32"))
    got = ft.vmap(lambda k: fr.uniform(k, (2,)))(ks)
    # jax.vmap(lambda k: jax.random.uniform(k, (2,)))(jax.random.split(jax.random.key(0), 3))
    want = [[0.9699479979898888, 0.31518185988363556], [0.08062436666431605, 0.923948835561414],
            [0.651922255581562, 0.8795451917764219]]
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    # keys out, out_axes counting the keys' axes (negative ones too), keys with other args
    out = ft.vmap(lambda k: fr.split(k, 2))(ks)
    assert isinstance(out, fr.KeyArray) and out.shape == (3, 2)
    assert backend.is_own(fr.key_data(out))
    for axes in (1, -1):
        o = ft.vmap(lambda k: fr.split(k, 2), out_axes=axes)(ks)
        np.testing.assert_array_equal(backend.to_numpy(fr.key_data(o)),
                                      backend.to_numpy(fr.key_data(out)).transpose(1, 0, 2))
    x = backend.asarray([1.0, 2.0, 3.0])
    got = ft.vmap(lambda kx: fnp.multiply(fr.uniform(kx[0]), kx[1]))((ks, x))
    np.testing.assert_array_equal(backend.to_numpy(got), np.asarray(want)[:, 0] * [1, 2, 3])
    got = ft.vmap(lambda k, xi: fnp.multiply(fr.uniform(k), xi), in_axes=(None, 0))(ks[0], x)
    np.testing.assert_array_equal(backend.to_numpy(got), want[0][0] * np.array([1, 2, 3.0]))


def test_vmap_axes_count_the_keys_axes():
    ks = fr.split(fr.key(0), (2, 3))
    for axes in (1, -1):
        got = ft.vmap(fr.key_data, in_axes=axes)(ks)
        np.testing.assert_array_equal(got, np.asarray(SPLIT_0).transpose(1, 0, 2))
    got = ft.vmap(ft.vmap(lambda k: fr.fold_in(k, 1)))(ks)
    assert got.shape == (2, 3)
    np.testing.assert_array_equal(_data(got[1, 2]), _data(fr.fold_in(ks[1, 2], 1)))


def test_jit_scan_and_loops_carry_typed_keys():
    traces = []

    def f(k):
        traces.append(1)
        a, b = fr.split(k)
        return a, fr.uniform(b, (2,))

    jf = ft.jit(f)
    for seed in (0, 1):
        (ka, u), (kb, v) = jf(fr.key(seed)), f(fr.key(seed))
        assert isinstance(ka, fr.KeyArray) and ka.shape == ()
        np.testing.assert_array_equal(_data(ka), _data(kb))
        np.testing.assert_array_equal(u, v)
    assert len(traces) == 3  # staged once; a new key reuses the graph (and one eager call each)
    # scan and fori_loop carrying a key (jax.lax.scan of split(c)[0], three times, from key(0))
    k = fr.key(0)
    c, ys = lax.scan(lambda c, _: (fr.split(c)[0], fr.uniform(c)), k, None, length=3)
    assert isinstance(c, fr.KeyArray)
    np.testing.assert_array_equal(_data(c), [683029726, 1624662641])
    assert ys.shape == (3,) and ys[0] == fr.uniform(k)
    c = lax.fori_loop(0, 3, lambda i, c: fr.split(c)[0], k)
    np.testing.assert_array_equal(_data(c), [683029726, 1624662641])
    # keys as scan's xs: one key per step
    ks = fr.split(k, 3)
    _, ys = lax.scan(lambda c, ki: (c, fr.uniform(ki)), 0.0, ks)
    np.testing.assert_array_equal(ys, [fr.uniform(ks[i]) for i in range(3)])


def test_grad_with_a_key_argument(backend):
    from functrans.testing import check_grads
    k = fr.wrap_key_data(backend.asarray(SPLIT_0[1][0], dtype="uint32"))

    def f(mu, key, sigma):
        return fnp.sum((mu + sigma * fr.normal(key, (3,))) ** 2)

    z = backend.to_numpy(fr.normal(k, (3,)))
    mu, s = backend.asarray(0.5), backend.asarray(1.5)
    g = ft.grad(f, argnums=(0, 2))(mu, k, s)
    np.testing.assert_allclose([backend.to_numpy(v) for v in g],
                               [np.sum(2 * (0.5 + 1.5 * z)), np.sum(2 * (0.5 + 1.5 * z) * z)],
                               rtol=1e-13)
    check_grads(lambda m, sg: ft.jit(f)(m, k, sg), (mu, s), order=1)
    with pytest.raises(TypeError, match="argnums"):  # a key is not differentiable
        ft.grad(f, argnums=1)(mu, k, s)


def test_tree_leaves_of_a_key_are_its_words():
    """A difference from JAX (where a key array is one leaf): the transforms see a typed key
    as a node of two uint32 words of its shape."""
    ks = fr.split(fr.key(0), 3)
    leaves, tree = ft.tree.tree_flatten({"k": ks})
    assert len(leaves) == 2 and all(leaf.dtype == np.uint32 for leaf in leaves)
    np.testing.assert_array_equal(np.stack(leaves, -1), SPLIT_0[0])
    back = ft.tree.tree_unflatten(tree, leaves)["k"]
    assert isinstance(back, fr.KeyArray) and bool(fnp.all(back == ks))


def test_structural_functions_take_typed_keys(backend):
    # as jax.numpy's stack/concatenate/where/reshape... of key arrays: keys out, each word moved
    d = np.asarray(SPLIT_0[0], dtype=np.uint32)
    ks = fr.wrap_key_data(backend.asarray(d, dtype="uint32"))
    rs = fr.wrap_key_data(backend.asarray(d[::-1], dtype="uint32"))  # (the keys reversed)
    m = backend.asarray([True, False, True], dtype="bool")
    cases = [(fnp.stack([ks[0], ks[2]]), d[[0, 2]]),
             (fnp.stack([ks, ks], axis=1), np.stack([d, d], axis=1)),
             (fnp.concatenate([ks, ks]), np.concatenate([d, d])),
             (fnp.concat([ks[:1], ks]), np.concatenate([d[:1], d])),
             (fnp.where(m, ks, rs), np.where(np.array([[1], [0], [1]], bool), d, d[::-1])),
             (fnp.expand_dims(ks, 0), d[None]),
             (fnp.broadcast_to(ks, (2, 3)), np.broadcast_to(d, (2, 3, 2))),
             (fnp.permute_dims(fnp.reshape(ks, (3, 1)), (1, 0)), d[None]),
             (fnp.squeeze(ks[:1]), d[0]), (fnp.asarray(ks), d), (fnp.astype(ks, ks.dtype), d),
             (fnp.flip(ks), d[::-1])]  # (on PyTorch, which has no flip of uint32, as int64)
    for got, want in cases:
        assert isinstance(got, fr.KeyArray) and backend.is_own(fr.key_data(got))
        np.testing.assert_array_equal(backend.to_numpy(fr.key_data(got)), want)
    with pytest.raises(TypeError, match="key<fry>"):
        fnp.concatenate([ks, fr.key_data(ks)[:, 0]])
    with pytest.raises(TypeError, match="key<fry>"):
        fnp.astype(ks, "uint32")
    with pytest.raises(TypeError):
        fnp.sum(ks)
    # traced keys (vmap, jit) and a traced condition
    c = backend.asarray([True, False], dtype="bool")

    def f(k):
        a = fr.split(k)
        return fr.key_data(fnp.where(c, a, fnp.stack([a[1], a[0]])))
    s = backend.to_numpy(fr.key_data(fr.split(ks[1])))
    want = np.stack([s[0], s[0]])
    np.testing.assert_array_equal(backend.to_numpy(ft.vmap(f)(ks))[1], want)
    np.testing.assert_array_equal(backend.to_numpy(ft.jit(f)(ks[1])), want)
    g = ft.jit(lambda c, k: fnp.stack([fnp.where(c, k, k), k]))
    assert g(backend.asarray(True, dtype="bool"), ks[0]).shape == (2,)


def test_typeof_a_key():
    assert repr(ft.typeof(fr.key(0))) == "ShapedArray(key<fry>[])"   # as jax.typeof's
    assert ft.typeof(fr.split(fr.key(0), 3)).str_short() == "key<fry>[3]"
    assert ft.typeof(np.ones(2)).str_short() == "f64[2]"
