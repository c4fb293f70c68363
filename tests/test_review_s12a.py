"""Review of functrans.random and the array methods (session 12): edge inputs against
jax.random and jax.numpy's ``.at``, NumPy's ndarray methods under jit and vmap, derivatives
by finite differences, and regressions for the bugs found (clear errors for non-keys on the
samplers' fast path, ``randint`` with ``uint64`` or huge bounds, ``poisson`` counts beyond the
dtype, ``x.at[i].divide`` on integer arrays, ``reshape(order='K')``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr
from functrans.testing import check_grads

stats = pytest.importorskip("scipy.stats")


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    import jax.numpy  # noqa: F401
    import jax.random  # noqa: F401
    return jax


def _eq(got, want):
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
    np.testing.assert_array_equal(g, w)


# -- random: JAX's bits on edge inputs --------------------------------------------------------

EDGE_SEEDS = (1, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 63 - 1, -1, -2 ** 63)


@pytest.mark.parametrize("seed", EDGE_SEEDS)
def test_keys_bits_and_uniforms_match_jax_on_edge_seeds_and_shapes(jax, seed):
    jr = jax.random
    k, jk = fr.PRNGKey(seed), jr.PRNGKey(seed)
    _eq(k, jk)
    for num in (0, 1, 3, (2, 0)):
        _eq(fr.split(k, num), jr.split(jk, num))
    for d in (2 ** 32 - 1, np.int8(-3), np.uint64(2 ** 64 - 1)):
        _eq(fr.fold_in(k, d), jr.fold_in(jk, d))
    for shape in ((), (0,), (3, 5, 7)):
        _eq(fr.bits(k, shape, "uint64"), jr.bits(jk, shape, "uint64"))
        _eq(fr.uniform(k, shape, "float32"), jr.uniform(jk, shape, "float32"))
        _eq(fr.uniform(k, shape, "float64", -3.0, 5.5), jr.uniform(jk, shape, "float64", -3.0, 5.5))
        _eq(fr.bernoulli(k, 0.3, shape), jr.bernoulli(jk, 0.3, shape))


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32"])
def test_randint_matches_jax_at_the_dtype_limits(jax, dtype):
    jr = jax.random
    k, jk = fr.key(2 ** 32 - 1), jax.random.PRNGKey(2 ** 32 - 1)
    info = np.iinfo(dtype)
    for lo, hi in ((0, 10), (-5, 5), (info.min, info.max), (info.min, info.max + 1),
                   (10, 3), (5, 5), (info.max - 3, info.max + 1), (info.min - 100, info.min + 3)):
        # (JAX takes no Python int beyond int64: the same bounds as NumPy scalars)
        jlo, jhi = (np.int64(max(v, -2 ** 63)) if v < 2 ** 63 else np.uint64(v)
                    for v in (lo, hi))
        _eq(fr.randint(k, (11,), lo, hi, dtype), jr.randint(jk, (11,), jlo, jhi, dtype))
    lo, hi = np.arange(4) - 2, np.arange(4) * 3 + 10
    _eq(fr.randint(k, (3, 4), lo, hi, dtype), jr.randint(jk, (3, 4), lo, hi, dtype))


UINT64_BOUNDS = [(0, np.uint64(2 ** 63), "int64"), (np.uint64(5), np.uint64(2 ** 64 - 1), "int64"),
                 (np.uint64(2 ** 63 + 5), np.uint64(2 ** 64 - 1), "int64"),
                 (np.int64(-1), np.uint64(10), "int64"), (0, np.uint64(2 ** 40), "int32"),
                 (0, np.array([2 ** 63, 7], np.uint64), "int64")]


@pytest.mark.parametrize("case", range(len(UINT64_BOUNDS)))
def test_randint_uint64_bounds_do_not_wrap(jax, case):
    # the bounds were cast to int64 with wrapping: 2**63 became -2**63, and
    # randint(key, shape, 0, np.uint64(2**63)) gave only zeros
    lo, hi, dt = UINT64_BOUNDS[case]
    shape = (4, 2) if np.ndim(hi) else (4,)
    want = jax.random.randint(jax.random.PRNGKey(0), shape, lo, hi, dt)
    _eq(fr.randint(fr.key(0), shape, lo, hi, dt), want)
    _eq(ft.jit(lambda k, a, b: fr.randint(k, shape, a, b, dt))(fr.key(0), lo, hi), want)


def test_randint_python_bounds_beyond_int64(jax):
    # maxval one past int64's maximum is allowed (the docstring), not an OverflowError
    jr = jax.random
    want = jr.randint(jr.PRNGKey(0), (5,), 0, np.uint64(2 ** 63))
    _eq(fr.randint(fr.key(0), (5,), 0, 2 ** 63), want)
    assert (np.asarray(want) > 2 ** 62).any()  # (the full range is drawn)
    _eq(fr.randint(fr.key(0), (5,), -2 ** 70, 2 ** 70),
        jr.randint(jr.PRNGKey(0), (5,), np.int64(-2 ** 63), np.uint64(2 ** 64 - 1)))


def test_discrete_samplers_match_jax_on_edge_parameters(jax):
    jr = jax.random
    k, jk = fr.key(-1), jr.PRNGKey(-1)
    for p in (0.0, 1.0, np.array([0.0, 1.0, 0.2]), np.float32(0.3)):
        _eq(fr.bernoulli(k, p), jr.bernoulli(jk, p))
    for n in (0, 1):
        _eq(fr.permutation(k, n), jr.permutation(jk, n))
    _eq(fr.permutation(k, np.arange(24.0).reshape(2, 3, 4), -1, True),
        jr.permutation(jk, np.arange(24.0).reshape(2, 3, 4), -1, True))
    _eq(fr.permutation(k, np.zeros((0, 3))), jr.permutation(jk, np.zeros((0, 3))))
    a = np.arange(12).reshape(3, 4)
    p = np.array([0.0, 1.0, 2.0, 3.0])  # unnormalised, with a zero
    for rep in (True, False):
        _eq(fr.choice(k, a, (3,), rep, p, axis=1), jr.choice(jk, a, (3,), rep, p, axis=1))
    _eq(fr.choice(k, 0, (0,)), jr.choice(jk, 0, (0,)))
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]))  # a -inf
    _eq(fr.categorical(k, logits, shape=(4, 2)), jr.categorical(jk, logits, shape=(4, 2)))
    z = np.random.default_rng(0).normal(size=(2, 3, 4))
    _eq(fr.categorical(k, z, axis=1, shape=(5, 2, 4)),
        jr.categorical(jk, z, axis=1, shape=(5, 2, 4)))


def test_truncated_and_multivariate_normals_match_jax(jax):
    jr = jax.random
    k, jk = fr.key(5), jr.PRNGKey(5)
    for lo, hi in ((-np.inf, np.inf), (0.0, np.inf), (np.array([-1., 0.]), 2.0)):
        np.testing.assert_allclose(fr.truncated_normal(k, lo, hi, (4, 2)),
                                   jr.truncated_normal(jk, lo, hi, (4, 2)), rtol=1e-13)
    mean = np.zeros((4, 1, 3))  # batch axes broadcast against cov's
    cov = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])
    for method in ("eigh", "svd"):
        np.testing.assert_allclose(
            fr.multivariate_normal(k, mean, cov, (2, 4, 5), method=method),
            jr.multivariate_normal(jk, mean, cov, (2, 4, 5), method=method), rtol=1e-12,
            atol=1e-14)


# -- random: errors, saturation --------------------------------------------------------------

FAST_PATH = {
    "normal": lambda k: fr.normal(k, (2,)),
    "uniform": lambda k: fr.uniform(k),
    "gumbel": lambda k: fr.gumbel(k),
    "exponential": lambda k: fr.exponential(k),
    "choice": lambda k: fr.choice(k, 3),
    "categorical": lambda k: fr.categorical(k, np.zeros(3)),
    "orthogonal": lambda k: fr.orthogonal(k, 2),
}


@pytest.mark.parametrize("name", sorted(FAST_PATH))
@pytest.mark.parametrize("bad", [[0, 1], 7], ids=["list", "int"])
def test_non_keys_get_the_key_error_on_every_sampler(name, bad):
    # (these went straight to the backend lookup: "Values of type builtins.list belong to
    # no functrans backend")
    with pytest.raises(TypeError, match="a key is a uint32 array of shape"):
        FAST_PATH[name](bad)


def test_poisson_counts_beyond_the_dtype_saturate():
    # (a rate of 1e20 gave -2**63, an int8 count of ~200 wrapped to a negative number)
    k = fr.key(0)
    _eq(fr.poisson(k, 1e20, (3,)), np.full(3, 2 ** 63 - 1))
    _eq(ft.jit(lambda kk: fr.poisson(kk, 1e20, (2,)))(k), np.full(2, 2 ** 63 - 1))
    _eq(fr.poisson(k, 200.0, (3,), "int8"), np.full(3, 127, np.int8))
    _eq(ft.vmap(lambda kk: fr.poisson(kk, 300.0, (2,), "uint8"))(fr.split(k, 2)),
        np.full((2, 2), 255, np.uint8))
    x = np.asarray(fr.poisson(k, 1e15, (200,)))
    assert abs(x.mean() - 1e15) < 5 * math.sqrt(1e15 / 200)


# -- random: distributions not checked elsewhere -----------------------------------------------

def test_more_distributions():
    n = 40000

    def ks(x, cdf):
        return stats.kstest(np.asarray(x, dtype=np.float64), cdf).pvalue

    k = fr.key(2)
    assert ks(fr.gamma(k, 0.3, (n,), "float32"), stats.gamma(0.3).cdf) > 1e-3
    assert ks(fr.gamma(k, 0.3, (n,), "float32"), stats.gamma(0.33).cdf) < 1e-6  # can fail
    assert ks(fr.t(k, 0.7, (n,)), stats.t(0.7).cdf) > 1e-3
    assert ks(fr.generalized_normal(k, 0.5, (n,)), stats.gennorm(0.5).cdf) > 1e-3
    assert ks(fr.generalized_normal(k, 8.0, (n,)), stats.gennorm(8.0).cdf) > 1e-3
    assert ks(fr.chisquare(k, 0.2, (n,)), stats.chi2(0.2).cdf) > 1e-3
    b = np.asarray(fr.beta(k, 0.01, 0.01, (n,)))
    lower = b[b < 0.5]  # (near 1, the samples round to 1: only the lower half is exact)
    assert abs(lower.size / n - 0.5) < 4 * 0.5 / math.sqrt(n)
    assert ks(lower, lambda v: 2 * stats.beta(0.01, 0.01).cdf(v)) > 1e-3
    # Haar: (Q[i, j] + 1) / 2 ~ Beta((n-1)/2, (n-1)/2) for an n x n orthogonal Q
    q = np.asarray(fr.orthogonal(k, 4, (4000,)))
    assert ks((q[:, 2, 3] + 1) / 2, stats.beta(1.5, 1.5).cdf) > 1e-3
    assert ks((q[:, 0, 0] + 1) / 2, stats.beta(1.2, 1.2).cdf) < 1e-6  # can fail
    q = np.asarray(fr.orthogonal(k, 2, (4000,), m=5))  # rows of a 5 x 5: Beta(2, 2)
    assert ks((q[:, 1, 4] + 1) / 2, stats.beta(2.0, 2.0).cdf) > 1e-3
    for lam in (0.3, 9.99):
        x = np.asarray(fr.poisson(k, lam, (n,)))
        vals, cnt = np.unique(x, return_counts=True)
        exp = stats.poisson(lam).pmf(vals) * n
        keep = exp > 20
        obs = np.append(cnt[keep], n - cnt[keep].sum())
        want = np.append(exp[keep], n - exp[keep].sum())
        assert stats.chisquare(obs, want * obs.sum() / want.sum()).pvalue > 1e-3


def test_random_under_transforms_on_array_parameters():
    k = fr.key(3)
    ks = fr.split(k, 3)
    funcs = [
        lambda kk: fr.choice(kk, 5, (3,), False, np.arange(1.0, 6.0)),
        lambda kk: fr.permutation(kk, np.arange(12.0).reshape(3, 4), 1, True),
        lambda kk: fr.multivariate_normal(kk, np.zeros(2), np.array([[2., .5], [.5, 1.]]), (3,),
                                          method="eigh"),
        lambda kk: fr.poisson(kk, np.array([0.5, 5.0, 50.0])),
        lambda kk: fr.randint(kk, (3,), np.array([0, -5, 100]), np.array([3, 5, 1000])),
        lambda kk: fr.bits(kk, (3,), "uint64"),
    ]
    for f in funcs:
        loop = np.stack([np.asarray(f(ks[i])) for i in range(3)])
        np.testing.assert_array_equal(ft.vmap(f)(ks), loop)
        np.testing.assert_array_equal(ft.jit(f)(ks[1]), loop[1])
    # parameters mapped, the key shared
    np.testing.assert_array_equal(
        ft.vmap(lambda hi: fr.randint(k, (4,), 0, hi))(np.array([3, 100]))[1],
        fr.randint(k, (4,), 0, 100))
    np.testing.assert_array_equal(
        ft.vmap(lambda lo: fr.truncated_normal(k, lo, 3.0, (2,)))(np.array([-1.0, 0.0]))[1],
        fr.truncated_normal(k, 0.0, 3.0, (2,)))


def test_reparameterised_derivatives_match_jax(jax):
    jr, jnp = jax.random, jax.numpy
    k, jk = fr.key(5), jr.PRNGKey(5)
    m, c = np.array([0.5, -1.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    for method in ("eigh",):
        g = ft.grad(lambda m, c: fnp.sum(fr.multivariate_normal(k, m, c, (3,), method=method)
                                         ** 3), argnums=(0, 1))(m, c)
        jg = jax.grad(lambda m, c: jnp.sum(jr.multivariate_normal(jk, m, c, (3,), method=method)
                                           ** 3), argnums=(0, 1))(m, c)
        for a, b in zip(g, jg):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    h = ft.hessian(lambda lo: fnp.sum(fr.truncated_normal(k, lo, 2.0, (3,))))(-1.0)
    jh = jax.hessian(lambda lo: jnp.sum(jr.truncated_normal(jk, lo, 2.0, (3,))))(-1.0)
    np.testing.assert_allclose(h, jh, rtol=1e-12)
    check_grads(lambda lo: fr.truncated_normal(k, lo, np.inf, (4,)), (np.float64(-0.5),), order=2)


# -- array methods against NumPy ----------------------------------------------------------------

_R = np.random.default_rng(0)
X3 = _R.normal(size=(3, 4, 5)).round(2)
I3 = _R.integers(-7, 8, size=(3, 4, 5))

METHOD_CALLS = """x.sum((0, 2))
x.sum(-1, keepdims=True)
x.sum(1, np.float32)
x.sum(axis=1, where=x > 0, initial=1.0)
x.prod((0, 1), keepdims=True)
x.prod(-1, initial=3.0)
x.mean((0, -1))
x.mean(axis=1, where=x > 0)
x.var((0, 2), keepdims=True)
x.var(axis=1, ddof=2, where=x > -0.5)
x.std(0, None, None, 1)
x.std(where=x < 1)
x.max((0, 2), keepdims=True)
x.max(axis=1, where=x < 0, initial=-10.0)
x.min(-1, None, True)
x.all(axis=1, where=x > 0)
x.any((0, 1), keepdims=True)
x.argmax(axis=None, keepdims=True)
x.argmin(-1, keepdims=True)
x.cumsum(-1, np.float32)
x.cumprod(axis=2)
x.trace(1, 1, 2)
x.trace(-1, axis1=0, axis2=2)
x.reshape(np.int64(60))
x.reshape([3, 20])
x.reshape((2, -1, 5), order="F")
x.reshape(15, 4, order="F")
x.reshape((60,), order="A")
x.ravel("F")
x.flatten(order="K")
x.transpose(None)
x.transpose(-1, 0, 1)
x.transpose([1, 0, 2])
x.T
x.mT
x.swapaxes(0, -1)
x[:1, :1].squeeze(axis=(0, 1))
x.repeat([1, 2, 0], axis=0)
x.repeat(np.array([1, 2, 0, 1, 1]), axis=-1)
x.diagonal(-1, axis1=2, axis2=0)
x.astype(np.float32, casting="same_kind")
x.copy("F")
x.clip(-x.mean(), x)
x.clip(max=0.0)
x.round(decimals=-1)
x[0].dot(x[0, 0])
x.argsort(axis=0)
x.argpartition(2, axis=0)
x.take([0, -1], axis=1)
x.take([[0, 1], [2, 3]], axis=2)
x.take([0, 100], mode="wrap")
x.compress([True, False, True], axis=-1)
i.astype(np.int8, casting="unsafe")
i.sum(dtype=np.int8)
i.round(-1)
i.var()
i // -3
i % -3
divmod(i, -3)
divmod(7, i.clip(1))
divmod(x, -0.3)
divmod(-2.5, x)
(i.clip(-1, 3)).choose([x, -x], mode="clip")
i.choose([x, -x, 2 * x], mode="wrap")
(x * (1 + 2j)).conj().imag
x.astype(np.complex128).mean()
x.astype(np.float32).nbytes
z.reshape(-1, 3)
z.max(0, initial=-1.0)
z.prod(1)""".splitlines()


def _method(call, x, i, z):
    return eval(call, {"np": np}, {"x": x, "i": i, "z": z})


@pytest.mark.parametrize("call", METHOD_CALLS)
def test_methods_match_numpy_under_jit_and_vmap(call):
    z = np.zeros((0, 3))
    want = _method(call, X3.copy(), I3.copy(), z)
    got = ft.jit(lambda x, i, z: _method(call, x, i, z))(X3, I3, z)
    stack = lambda a: np.stack([a, a])  # noqa: E731
    mapped = ft.vmap(lambda x, i, z: _method(call, x, i, z))(stack(X3), stack(I3), stack(z))
    wants, gots, maps = ((want, got, mapped) if isinstance(want, tuple) else
                         ((want,), (got,), (mapped,)))
    for w, g, m in zip(wants, gots, maps):
        w = np.asarray(w)
        for v in (np.asarray(g), np.asarray(m)[1]):
            assert v.dtype == w.dtype and v.shape == w.shape, (v.dtype, w.dtype, v.shape)
            np.testing.assert_allclose(v, w, rtol=1e-6 if w.dtype == np.float32 else 1e-12,
                                       atol=1e-12)


def test_astype_casting_rules_are_numpys():
    names = ["bool", "int8", "int32", "int64", "uint8", "uint64", "float32", "float64",
             "complex128"]
    for a in names:
        x = np.ones(2, dtype=a)
        for b in names + [float, int, "f4"]:
            for casting in ("no", "equiv", "safe", "same_kind"):
                ok = np.can_cast(x.dtype, np.dtype(b), casting)
                f = ft.jit(lambda v: v.astype(b, casting=casting))
                if ok:
                    assert f(x).dtype == np.dtype(b)
                else:
                    with pytest.raises(TypeError, match=casting):
                        f(x)


def test_reshape_order_k_is_refused_as_numpy():
    with pytest.raises(ValueError, match="order 'K' is not permitted"):
        np.zeros(4).reshape(4, order="K")
    with pytest.raises(ValueError, match="order 'K' is not permitted"):
        ft.jit(lambda x: x.reshape(4, order="K"))(np.zeros(4))


def test_divmod_derivatives_match_jax(jax):
    jnp = jax.numpy
    x = np.array([-2.7, -0.4, 0.4, 2.6, 5.5])
    y = np.array([0.65, -0.7, -1.3, -0.9, 2.0])
    w = np.arange(1.0, 6.0)
    for f in (lambda a, b: divmod(a, b)[1], lambda a, b: divmod(3.0, b)[1] * a,
              lambda a, b: a // b + a % b):
        g = ft.grad(lambda a, b: fnp.sum(f(a, b) * w), argnums=(0, 1))(x, y)
        jg = jax.grad(lambda a, b: jnp.sum(f(a, b) * w), argnums=(0, 1))(x, y)
        np.testing.assert_allclose(g[0], jg[0], rtol=1e-12)
        np.testing.assert_allclose(g[1], jg[1], rtol=1e-12)
        check_grads(ft.jit(f), (x, y), order=2)


# -- in-place methods ---------------------------------------------------------------------------

XM = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.6, 1.9], [-0.8, 2.2, 0.1, -1.5]])


def _inplace(method, *args, **kwargs):
    def f(x):
        y = x * 1
        getattr(y, method)(*args, **kwargs)
        return y
    return f


INPLACE = [
    ("partition", ([0, 3],), {}), ("partition", (1,), {"axis": 0}),
    ("partition", (-1,), {}), ("sort", (), {"axis": 0, "kind": "stable"}),
    ("put", ([0, -1], [7.0, 8.0]), {}), ("put", ([0, 0], [7.0, 8.0]), {}),
    ("put", ([0, 1, 2], [7.0]), {}), ("put", ([100, -100], [7.0, 6.0]), {"mode": "clip"}),
    ("put", ([13, -13], [7.0, 6.0]), {"mode": "wrap"}), ("fill", (3,), {}),
]


@pytest.mark.parametrize("case", range(len(INPLACE)))
def test_in_place_methods_match_numpy(case):
    method, args, kwargs = INPLACE[case]
    f = _inplace(method, *args, **kwargs)
    want = f(XM)
    if method == "partition":  # only the kth entries are fixed
        kth = np.atleast_1d(args[0])
        axis = kwargs.get("axis", -1)
        want, pick = np.take(want, kth, axis=axis), lambda v: np.take(v, kth, axis=axis)
    else:
        pick = lambda v: v  # noqa: E731
    np.testing.assert_array_equal(pick(np.asarray(ft.jit(f)(XM))), want)
    np.testing.assert_array_equal(pick(np.asarray(ft.vmap(f)(np.stack([-XM, XM]))[1])), want)
    if method != "fill":
        check_grads(ft.jit(lambda x: pick(f(x))), (XM,), order=2)


def test_in_place_methods_with_traced_values_and_integers():
    # fill/put with a value of an outer transform; int arrays as NumPy's casts
    g = ft.grad(lambda v: fnp.sum(ft.jit(lambda x: _fill_with(x, v))(np.zeros(3)) ** 2))(2.0)
    assert g == 12.0
    g = ft.grad(lambda v: fnp.sum(ft.vmap(lambda x: _fill_with(x, v))(np.zeros((2, 3))) ** 2))(2.0)
    assert g == 24.0
    np.testing.assert_array_equal(ft.jit(_inplace("fill", 3.7))(np.arange(3)), [3, 3, 3])
    np.testing.assert_array_equal(ft.jit(_inplace("put", [0], [7.9]))(np.arange(3)), [7, 1, 2])
    check_grads(ft.jit(lambda x: _put_with(x, [0, 5], x[2, :2] ** 2)), (XM,), order=2)
    x = XM.copy()
    ft.grad(lambda v: fnp.sum(_inplace("sort")(v)) + fnp.sum(_put_with(v, [1], v[0, :1])))(x)
    np.testing.assert_array_equal(x, XM)


def _fill_with(x, v):
    y = x * 1.0
    y.fill(v)
    return y


def _put_with(x, i, v):
    y = x * 1.0
    y.put(i, v)
    return y


# -- x.at[...] against jax.numpy ------------------------------------------------------------------

AT = {
    "set neg": lambda x: x.at[-1].set(9.0),
    "set step": lambda x: x.at[::-2].set(np.array([1.0, 2.0, 3.0])),
    "set mask": lambda x: x.at[np.array([True, False, True, False, False, True])].set(5.0),
    "set repeated": lambda x: x.at[np.array([1, 1, 3])].set(x[:3]),
    "add repeated": lambda x: x.at[np.array([1, 1, 3, 1])].add(x[:4]),
    "add negative": lambda x: x.at[np.array([-1, -1, 0])].add(2.0),
    "subtract repeated": lambda x: x.at[np.array([1, 1])].subtract(x[2:4]),
    "power repeated": lambda x: x.at[np.array([1, 1])].power(np.array([2.0, 3.0])),
    "min repeated": lambda x: x.at[np.array([0, 0, 2])].min(x[3:6]),
    "max repeated": lambda x: x.at[np.array([0, 0, 2])].max(x[3:6]),
    "get": lambda x: x.at[np.array([0, 0, 2])].get(),
    "tuple of arrays": lambda x: x.reshape(2, 3).at[np.array([0, 1, 1]), np.array([2, 0, 0])]
    .add(x[:3]),
    "row broadcast": lambda x: x.reshape(2, 3).at[1].set(x[:3]),
    "column scalar": lambda x: x.reshape(2, 3).at[:, 1].multiply(x[0]),
    "ellipsis": lambda x: x.reshape(2, 3).at[..., 0].add(1.0),
    "newaxis": lambda x: x.reshape(2, 3).at[None, 0].add(1.0),
    "values broadcast": lambda x: x.reshape(2, 3).at[:, np.array([0, 0])]
    .add(x[:2].reshape(2, 1)),
    "chained": lambda x: x.at[0].set(x[1]).at[1].add(x[0]) * x,
}
X6 = np.array([0.3, 1.2, -0.7, 2.0, 0.5, -1.1])


@pytest.mark.parametrize("name", sorted(AT))
def test_at_matches_jax_values_derivatives_vmap(jax, name):
    jnp = jax.numpy
    f = AT[name]
    want = f(jnp.asarray(X6))
    np.testing.assert_allclose(ft.jit(f)(X6), want, rtol=1e-13)
    ct = np.random.default_rng(0).normal(size=np.shape(want))
    np.testing.assert_allclose(ft.jit(ft.grad(lambda v: fnp.sum(f(v) * ct)))(X6),
                               jax.grad(lambda v: jnp.sum(f(v) * ct))(X6), rtol=1e-13)
    if name in ("power repeated", "min repeated", "chained", "column scalar"):
        np.testing.assert_allclose(ft.hessian(lambda v: fnp.sum(f(v) * ct))(X6),
                                   jax.hessian(lambda v: jnp.sum(f(v) * ct))(X6), rtol=1e-13,
                                   atol=1e-15)
    xs = np.stack([X6, X6 * 2 - 0.1])
    np.testing.assert_allclose(ft.vmap(f)(xs), jax.vmap(f)(xs), rtol=1e-13)


def test_at_repeated_multiply_divide_apply_derivatives():
    # (jax.numpy has no derivative of repeated multiply/divide or of apply: finite
    # differences instead)
    for f in (lambda x: x.at[np.array([1, 1, 2])].multiply(x[3:6]),
              lambda x: x.at[np.array([1, 1, 2])].multiply(x[3:6] * np.array([0.0, 1, 1])),
              lambda x: x.at[np.array([1, 1])].divide(x[3:5]),
              lambda x: fnp.abs(x).at[np.array([1, 1])].power(x[4:6]),
              lambda x: x.at[np.array([0, 0, 0, 2])].apply(fnp.exp)):
        check_grads(ft.jit(f), (X6,), order=2)
    want = X6.copy()
    np.multiply.at(want, [1, 1, 2], X6[3:6])
    np.testing.assert_allclose(ft.jit(lambda x: x.at[np.array([1, 1, 2])].multiply(x[3:6]))(X6),
                               want, rtol=1e-15)


def test_at_divide_on_integers_keeps_the_quotient():
    # (it was computed as a float and cast back: 5 / 2 gave 2; jax.numpy gives 2.5)
    i = np.array([5, -3, 7, 0], dtype=np.int32)
    got = ft.jit(lambda x: x.at[0].divide(2))(i)
    assert got.dtype.kind == "f"
    np.testing.assert_array_equal(got, [2.5, -3, 7, 0])
    got = ft.jit(lambda x: x.at[np.array([0, 1, 0])].divide(2.5))(i)
    np.testing.assert_allclose(got, [5 / 2.5 / 2.5, -3 / 2.5, 7, 0], rtol=1e-15)
    g = ft.grad(lambda v: fnp.sum(ft.jit(lambda x, w: x.at[0].divide(w))(i, v)))(2.0)
    assert g == -5 / 4
    # the other updates of an integer array stay integers (computed in the promoted dtype)
    assert ft.jit(lambda x: x.at[1].add(1.7))(i).dtype == np.int32
    np.testing.assert_array_equal(ft.jit(lambda x: x.at[0].multiply(1.5))(i), [7, -3, 7, 0])


def test_at_integer_updates_match_jax(jax):
    jnp = jax.numpy
    i = np.array([5, -3, 7, 0], dtype=np.int32)
    u = np.array([5, 3, 7, 0], dtype=np.uint8)
    for x, f in ((i, lambda x: x.at[1].add(1.7)), (i, lambda x: x.at[1].add(-1.7)),
                 (i, lambda x: x.at[0].set(-2.9)), (i, lambda x: x.at[0].min(4.5)),
                 (i, lambda x: x.at[0].power(2)), (u, lambda x: x.at[3].subtract(1)),
                 (u, lambda x: x.at[0].max(6.5)), (i, lambda x: x.at[np.int64(2)].multiply(3))):
        _eq(ft.jit(f)(x), f(jnp.asarray(x)))
