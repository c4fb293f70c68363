"""functrans.random: JAX's bits exactly (keys, split, fold_in, bits, uniform, randint and the
samplers built on them), the distributions (Kolmogorov-Smirnov and moment checks with fixed
seeds), every function under vmap over split keys, jit (a new key reuses the staged graph) and
grad through reparameterised samples, and clear errors; on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr

stats = pytest.importorskip("scipy.stats")

SEEDS = (0, 42, 2 ** 32 + 7)


@pytest.fixture(scope="module")
def jr():
    """jax.random with 64-bit types (our defaults float64/int64 are JAX's under x64) and the
    partitionable Threefry (JAX's default since 0.5), so that it gives the same bits."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    import jax.random
    return jax.random


def _key(backend, seed):
    """functrans.random.PRNGKey(seed) (a raw key), as an array of the backend (on its
    device); tests/test_random_keys.py checks the typed keys of functrans.random.key."""
    return backend.asarray(np.asarray(fr.PRNGKey(seed)), dtype="uint32")


def _same(backend, got, want, exact=True, rtol=0.0):
    assert backend.is_own(got), type(got)
    g, w = backend.to_numpy(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
    if exact:
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=0)


# -- JAX's bits ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS + (-3,))
def test_key_matches_jax(jr, seed):
    k = fr.PRNGKey(seed)
    assert k.dtype == np.uint32 and k.shape == (2,)
    np.testing.assert_array_equal(k, np.asarray(jr.PRNGKey(seed)))
    np.testing.assert_array_equal(fr.key_data(fr.key(seed)), k)  # the typed key's data
    # an integer array seed gives the same key, on its library
    np.testing.assert_array_equal(fr.PRNGKey(np.asarray(seed, dtype=np.int64)), k)
    np.testing.assert_array_equal(fr.key_data(fr.key(np.asarray(seed, dtype=np.int64))), k)


@pytest.mark.parametrize("seed", SEEDS)
def test_split_fold_in_bits_match_jax(jr, backend, seed):
    k, jk = _key(backend, seed), jr.PRNGKey(seed)
    _same(backend, fr.split(k), jr.split(jk))
    _same(backend, fr.split(k, 5), jr.split(jk, 5))
    _same(backend, fr.split(k, (2, 3)), jr.split(jk, (2, 3)))
    for data in (0, 7, 2 ** 32 - 1):
        _same(backend, fr.fold_in(k, data), jr.fold_in(jk, data))
    _same(backend, fr.fold_in(k, backend.asarray(12, dtype="int64")), jr.fold_in(jk, 12))
    for shape in ((), (7,), (3, 4)):
        _same(backend, fr.bits(k, shape), jr.bits(jk, shape))   # uint64 (x64) by default
    for dt in ("uint8", "uint16", "uint64"):
        _same(backend, fr.bits(k, (5,), dt), jr.bits(jk, (5,), dt))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_uniform_matches_jax(jr, backend, dtype):
    for seed in SEEDS:
        k, jk = _key(backend, seed), jr.PRNGKey(seed)
        _same(backend, fr.uniform(k, (6, 5), dtype), jr.uniform(jk, (6, 5), dtype))
        hi = np.linspace(0.5, 7.0, 5).astype(dtype)
        _same(backend, fr.uniform(k, (6, 5), dtype, -2.3, backend.asarray(hi, dtype=dtype)),
              jr.uniform(jk, (6, 5), dtype, -2.3, hi))
    k, jk = _key(backend, 1), jr.PRNGKey(1)
    _same(backend, fr.uniform(k, dtype=dtype), jr.uniform(jk, dtype=dtype))  # 0-d


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint16"])
def test_randint_matches_jax(jr, backend, dtype):
    bounds = [(0, 10), (-5, 100), (0, 256), (3, 3), (7, 2), (-128, 128), (0, 2 ** 16)]
    if dtype in ("int64", "int32"):
        bounds += [(0, 2 ** 31 - 1), (-2 ** 31, 2 ** 31 - 1)]
    if dtype == "int64":
        bounds += [(-2 ** 40, 2 ** 40 + 3), (-2 ** 63, 2 ** 63 - 1)]
    for seed in SEEDS[:2]:
        k, jk = _key(backend, seed), jr.PRNGKey(seed)
        for lo, hi in bounds:
            _same(backend, fr.randint(k, (40,), lo, hi, dtype), jr.randint(jk, (40,), lo, hi, dtype))
    lo = np.array([[0], [-50]])
    hi = np.array([3, 10, 1000])
    k, jk = _key(backend, 5), jr.PRNGKey(5)
    _same(backend, fr.randint(k, (2, 3), backend.asarray(lo, "int64"), backend.asarray(hi, "int64"),
                              dtype), jr.randint(jk, (2, 3), lo, hi, dtype))


def test_discrete_samplers_match_jax(jr, backend):
    k, jk = _key(backend, 11), jr.PRNGKey(11)
    p = np.linspace(0.0, 1.0, 7)
    _same(backend, fr.bernoulli(k, 0.3, (50,)), jr.bernoulli(jk, 0.3, (50,)))
    _same(backend, fr.bernoulli(k, backend.asarray(p), (3, 7)), jr.bernoulli(jk, p, (3, 7)))
    _same(backend, fr.rademacher(k, (30,)), jr.rademacher(jk, (30,)))
    x = np.arange(24.0).reshape(4, 6)
    _same(backend, fr.permutation(k, 10), jr.permutation(jk, 10))
    _same(backend, fr.permutation(k, 3000), jr.permutation(jk, 3000))  # two sorting rounds
    _same(backend, fr.permutation(k, backend.asarray(x)), jr.permutation(jk, x))
    _same(backend, fr.permutation(k, backend.asarray(x), axis=1, independent=True),
          jr.permutation(jk, x, axis=1, independent=True))
    q = np.array([0.1, 0.2, 0.3, 0.4])
    for kw in ({}, {"replace": False}):
        _same(backend, fr.choice(k, 4, (3,), p=backend.asarray(q), **kw),
              jr.choice(jk, 4, (3,), p=q, **kw))
        _same(backend, fr.choice(k, backend.asarray(x), (2,), axis=1, **kw),
              jr.choice(jk, x, (2,), axis=1, **kw))
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))
    lg = backend.asarray(logits)
    _same(backend, fr.categorical(k, lg), jr.categorical(jk, logits))
    _same(backend, fr.categorical(k, lg, axis=0), jr.categorical(jk, logits, axis=0))
    _same(backend, fr.categorical(k, lg, shape=(5, 2)), jr.categorical(jk, logits, shape=(5, 2)))


def test_continuous_samplers_match_jax(jr, backend):
    """Same uniforms as JAX; the transforms (erfinv, log, log1p) agree to rounding. JAX's
    float64 log1p and erfinv on CPU are off by up to ~100 ulp (ours: a few ulp), hence the
    tolerances."""
    k, jk = _key(backend, 3), jr.PRNGKey(3)
    for name in ("normal", "gumbel", "exponential", "laplace", "logistic"):
        _same(backend, getattr(fr, name)(k, (200,)), getattr(jr, name)(jk, (200,)),
              exact=False, rtol=1e-13)
    _same(backend, fr.normal(k, (200,), "float32"), jr.normal(jk, (200,), "float32"),
          exact=False, rtol=2e-5)
    _same(backend, fr.truncated_normal(k, -1.5, 2.0, (200,)),
          jr.truncated_normal(jk, -1.5, 2.0, (200,)), exact=False, rtol=1e-12)
    _same(backend, fr.cauchy(k, (200,)), jr.cauchy(jk, (200,)), exact=False, rtol=1e-13)
    for n, m in ((4, None), (5, 3), (2, 4)):  # the same normals through QR (LAPACK either way)
        got = fr.orthogonal(k, n, (2,), m=m)
        assert backend.is_own(got)
        want = np.asarray(jr.orthogonal(jk, n, (2,), m=m))
        np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-12)
    mean, cov = np.array([1.0, 2.0, 3.0]), np.array([[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 3]])
    got = fr.multivariate_normal(k, backend.asarray(mean), backend.asarray(cov), (4,))
    want = jr.multivariate_normal(jk, mean, cov, (4,))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), np.asarray(want), atol=1e-12)


def test_samplers_are_their_formulas(backend):
    """The samplers are their textbook transforms of functrans's uniforms (SciPy's functions
    as reference, to a few ulp)."""
    sp = pytest.importorskip("scipy.special")
    k = _key(backend, 8)
    tiny = np.finfo(np.float64).tiny
    u = lambda lo, hi: backend.to_numpy(fr.uniform(k, (500,), minval=lo, maxval=hi))  # noqa
    log1p = np.log1p
    if backend.name == "jax":  # XLA's log1p on CPU is ~120 ulp off NumPy's near -0.4 (JAX's
        # own accuracy): the formula is checked with the library's log1p there
        log1p = lambda v: backend.to_numpy(backend.xp.log1p(backend.asarray(v)))  # noqa: E731
    cases = {
        "normal": np.sqrt(2) * sp.erfinv(u(np.nextafter(-1.0, 0.0), 1.0)),
        "exponential": -log1p(-u(0.0, 1.0)),
        "gumbel": -np.log(-np.log(u(tiny, 1.0))),
        "logistic": np.log(u(tiny, 1.0)) - log1p(-u(tiny, 1.0)),
    }
    for name, want in cases.items():
        got = backend.to_numpy(getattr(fr, name)(k, (500,)))
        # (erfinv off SciPy is functrans's own, within ~20 ulp)
        np.testing.assert_allclose(got, want, rtol=20 * np.finfo(float).eps, err_msg=name)


def test_results_have_the_keys_library_and_requested_dtypes(backend):
    k = _key(backend, 2)
    m = backend.asarray(np.zeros(2))
    c = backend.asarray(np.eye(2))
    results = {
        "split": (fr.split(k, 3), "uint32"), "fold_in": (fr.fold_in(k, 1), "uint32"),
        "bits": (fr.bits(k, (2,)), "uint64"), "uniform": (fr.uniform(k, (2,)), "float64"),
        "uniform32": (fr.uniform(k, (2,), fnp.float32), "float32"),
        "normal32": (fr.normal(k, (2,), "float32"), "float32"),
        "randint": (fr.randint(k, (2,), 0, 5), "int64"),
        "randint8": (fr.randint(k, (2,), 0, 5, fnp.int8), "int8"),
        "bernoulli": (fr.bernoulli(k, 0.5, (2,)), "bool"),
        "rademacher": (fr.rademacher(k, (2,), "int32"), "int32"),
        "permutation": (fr.permutation(k, 4), "int64"), "choice": (fr.choice(k, 4, (2,)), "int64"),
        "categorical": (fr.categorical(k, m), "int64"),
        "truncated_normal": (fr.truncated_normal(k, -1.0, 1.0, (2,), "float32"), "float32"),
        "multivariate_normal": (fr.multivariate_normal(k, m, c), "float64"),
    }
    for name, (x, dt) in results.items():
        assert backend.is_own(x), name
        assert backend.to_numpy(x).dtype == np.dtype(dt), name
    if backend.device is not None:  # a key made on a given device
        kd = fr.PRNGKey(3, device=backend.device)
        assert backend.is_own(kd) and backend.is_own(fr.normal(kd, (2,)))
        kd = fr.key(3, device=backend.device)
        assert backend.is_own(fr.key_data(kd)) and backend.is_own(fr.normal(kd, (2,)))


# -- distributions ---------------------------------------------------------------------------

N = 20000
KS = {
    "uniform": (lambda k: fr.uniform(k, (N,), minval=-1.0, maxval=3.0),
                stats.uniform(-1.0, 4.0).cdf),
    "uniform32": (lambda k: fr.uniform(k, (N,), "float32"), stats.uniform().cdf),
    "normal": (lambda k: fr.normal(k, (N,)), stats.norm().cdf),
    "normal32": (lambda k: fr.normal(k, (N,), "float32"), stats.norm().cdf),
    "truncated_normal": (lambda k: fr.truncated_normal(k, -0.5, 2.0, (N,)),
                         stats.truncnorm(-0.5, 2.0).cdf),
    "gumbel": (lambda k: fr.gumbel(k, (N,)), stats.gumbel_r().cdf),
    "exponential": (lambda k: fr.exponential(k, (N,)), stats.expon().cdf),
    "laplace": (lambda k: fr.laplace(k, (N,)), stats.laplace().cdf),
    "logistic": (lambda k: fr.logistic(k, (N,)), stats.logistic().cdf),
}


@pytest.mark.parametrize("name", sorted(KS))
def test_continuous_distributions(backend, name):
    draw, cdf = KS[name]
    x = backend.to_numpy(draw(_key(backend, 2024)))
    # a wrong scale, location or tail gives p << 1e-6 at this size
    assert stats.kstest(x.astype(np.float64), cdf).pvalue > 1e-3


def test_discrete_distributions(backend):
    k = _key(backend, 99)
    n = 20000
    b = backend.to_numpy(fr.bernoulli(k, 0.3, (n,)))
    assert abs(b.mean() - 0.3) < 4 * math.sqrt(0.21 / n)
    r = backend.to_numpy(fr.rademacher(k, (n,)))
    assert set(np.unique(r)) == {-1, 1} and abs(r.mean()) < 4 / math.sqrt(n)
    counts = np.bincount(backend.to_numpy(fr.randint(k, (n,), -3, 4)) + 3, minlength=7)
    assert counts.size == 7 and stats.chisquare(counts).pvalue > 1e-3
    p = np.array([0.1, 0.2, 0.3, 0.4])
    c = np.bincount(backend.to_numpy(fr.choice(k, 4, (n,), p=backend.asarray(p))), minlength=4)
    assert stats.chisquare(c, n * p).pvalue > 1e-3
    logits = np.log(p) + 5.0  # softmax ignores the shift
    c = np.bincount(backend.to_numpy(fr.categorical(k, backend.asarray(logits), shape=(n,))),
                    minlength=4)
    assert stats.chisquare(c, n * p).pvalue > 1e-3
    # without replacement: distinct; every index equally likely to come first
    draws = backend.to_numpy(ft.vmap(lambda kk: fr.choice(kk, 5, (3,), replace=False))(
        fr.split(k, 500)))
    assert all(len(set(d)) == 3 for d in draws)
    assert stats.chisquare(np.bincount(draws[:, 0], minlength=5)).pvalue > 1e-3
    s = backend.to_numpy(fr.choice(k, 10, (10,), replace=False))
    assert sorted(s) == list(range(10))
    perm = backend.to_numpy(fr.permutation(k, 3000))
    assert sorted(perm) == list(range(3000)) and (perm != np.arange(3000)).any()


def test_multivariate_normal_moments(backend):
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    for method in ("cholesky", "eigh", "svd"):
        x = backend.to_numpy(fr.multivariate_normal(_key(backend, 4), backend.asarray(mean),
                                                    backend.asarray(cov), (20000,),
                                                    method=method))
        assert x.shape == (20000, 3)
        np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
        np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)


def _ks(x, cdf):
    return stats.kstest(np.asarray(x, dtype=np.float64), cdf).pvalue


def test_gamma_family_distributions(backend):
    """Kolmogorov-Smirnov against SciPy with fixed seeds (p > 1e-3; a wrong shape parameter,
    as alpha 2.6 for 2.5, gives p < 1e-6 at this size: checked below)."""
    k = _key(backend, 77)
    draw = lambda f: backend.to_numpy(f)  # noqa
    g = draw(fr.gamma(k, 2.5, (N,)))
    assert _ks(g, stats.gamma(2.5).cdf) > 1e-3
    assert _ks(g, stats.gamma(2.6).cdf) < 1e-6  # the test can fail
    assert _ks(draw(fr.gamma(k, 0.3, (N,))), stats.gamma(0.3).cdf) > 1e-3  # boosted
    assert _ks(draw(fr.gamma(k, 1.0, (N,), "float32")), stats.expon().cdf) > 1e-3
    # tiny shapes: the samples underflow, their logarithms do not
    lg = draw(fr.loggamma(k, 0.01, (N,)))
    assert np.isfinite(lg).all()
    assert _ks(lg, lambda y: stats.gamma(0.01).cdf(np.exp(y))) > 1e-3
    # per-element shapes (the shape of a by default)
    a = np.array([0.5, 40.0])
    ga = draw(fr.gamma(k, backend.asarray(np.tile(a, (N // 2, 1)))))
    for j in range(2):
        assert _ks(ga[:, j], stats.gamma(a[j]).cdf) > 1e-3
    assert _ks(draw(fr.beta(k, 0.5, 2.0, (N,))), stats.beta(0.5, 2.0).cdf) > 1e-3
    assert _ks(draw(fr.beta(k, 30.0, 4.0, (N,))), stats.beta(30.0, 4.0).cdf) > 1e-3
    b = draw(fr.beta(k, 0.05, 0.05, (N,)))  # mass at both ends; no underflow to 0 / 0
    assert np.isfinite(b).all() and abs((b < 0.5).mean() - 0.5) < 4 * 0.5 / math.sqrt(N)
    assert _ks(draw(fr.chisquare(k, 3.0, (N,))), stats.chi2(3.0).cdf) > 1e-3
    assert _ks(draw(fr.t(k, 3.0, (N,))), stats.t(3.0).cdf) > 1e-3
    assert _ks(draw(fr.cauchy(k, (N,))), stats.cauchy().cdf) > 1e-3
    assert _ks(draw(fr.generalized_normal(k, 1.5, (N,))), stats.gennorm(1.5).cdf) > 1e-3


def test_poisson_distribution(backend):
    k = _key(backend, 31)
    n = N
    for lam in (0.7, 3.0, 9.5, 10.0, 57.0):  # Knuth below 10, PTRS from 10 on
        x = backend.to_numpy(fr.poisson(k, lam, (n,)))
        assert x.dtype == np.int64 and x.min() >= 0
        top = int(lam + 6 * math.sqrt(lam) + 6)
        counts = np.bincount(np.minimum(x, top), minlength=top + 1)
        pr = stats.poisson(lam).pmf(np.arange(top + 1))
        pr[-1] = stats.poisson(lam).sf(top - 1)
        keep = n * pr > 5
        want = n * pr[keep]
        want = want * counts[keep].sum() / want.sum()
        assert stats.chisquare(counts[keep], want).pvalue > 1e-3, lam
    x = backend.to_numpy(fr.poisson(k, 2.0e4, (n,), "int32"))
    assert x.dtype == np.int32
    assert abs(x.mean() - 2e4) < 4 * math.sqrt(2e4 / n)
    assert abs(x.var() / 2e4 - 1) < 0.05
    lam = backend.asarray(np.array([0.0, 1.0, 100.0, -1.0, np.nan]))
    x = backend.to_numpy(fr.poisson(k, lam, (3, 5)))
    assert (x[:, 0] == 0).all() and (x[:, 3:] == -1).all()  # as JAX: -1 for invalid rates


def test_multivariate_samplers(backend):
    # (arrays under 32768 elements: above, PyTorch's intra-op threads can make every operation
    # take ~10 ms on a loaded 2-core machine)
    k = _key(backend, 55)
    n = 10000
    alpha = np.array([0.5, 2.0, 3.5])
    x = backend.to_numpy(fr.dirichlet(k, backend.asarray(alpha), (n,)))
    assert x.shape == (n, 3)
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    a0 = alpha.sum()
    mean, var = alpha / a0, alpha * (a0 - alpha) / (a0 ** 2 * (a0 + 1))
    np.testing.assert_allclose(x.mean(0), mean, atol=4 * np.sqrt(var / n).max())
    np.testing.assert_allclose(x.var(0), var, rtol=0.06)
    assert _ks(x[:, 0], stats.beta(alpha[0], a0 - alpha[0]).cdf) > 1e-3  # its marginals
    # uniform in the unit ball: the radius r of a point in 3 dimensions has P(r < s) = s^3
    b = backend.to_numpy(fr.ball(k, 3, shape=(n,)))
    assert b.shape == (n, 3)
    assert _ks(np.linalg.norm(b, axis=-1), lambda s: np.clip(s, 0, 1) ** 3) > 1e-3
    b1 = backend.to_numpy(fr.ball(k, 2, p=1, shape=(n,)))  # the l1 ball: |x| + |y| < 1
    assert _ks(np.abs(b1).sum(-1), lambda s: np.clip(s, 0, 1) ** 2) > 1e-3
    # Haar: orthogonal, each entry of mean 0 and variance 1/n, det +-1 equally likely
    q = backend.to_numpy(fr.orthogonal(k, 4, (2000,)))
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(4), q.shape),
                               atol=1e-12)
    assert np.abs(q.mean(0)).max() < 4 * 0.5 / math.sqrt(2000)
    np.testing.assert_allclose((q ** 2).mean(0), 0.25, atol=0.03)
    assert abs(np.sign(np.linalg.det(q)).mean()) < 4 / math.sqrt(2000)


def test_split_and_fold_in_give_independent_streams(backend):
    k = _key(backend, 0)
    ks = fr.split(k, 4)
    for i in range(4):  # as JAX's partitionable Threefry: split(k, n)[i] is fold_in(k, i)
        np.testing.assert_array_equal(backend.to_numpy(ks[i, :]),
                                      backend.to_numpy(fr.fold_in(k, i)))
    keys = [ks[i, :] for i in range(4)] + [fr.fold_in(k, 10 + i) for i in range(4)]
    draws = np.stack([backend.to_numpy(fr.normal(kk, (2000,))) for kk in keys])
    corr = np.corrcoef(draws)
    assert np.abs(corr - np.eye(8)).max() < 0.1
    assert len({tuple(backend.to_numpy(kk)) for kk in keys}) == 8


# -- transforms --------------------------------------------------------------------------------


SAMPLERS = {
    "uniform": lambda k: fr.uniform(k, (3,), minval=-1.0, maxval=2.0),
    "normal": lambda k: fr.normal(k, (2, 2)),
    "randint": lambda k: fr.randint(k, (4,), 0, 100),
    "bits": lambda k: fr.bits(k, (3,)),
    "split": lambda k: fr.split(k, 3),
    "fold_in": lambda k: fr.fold_in(k, 5),
    "bernoulli": lambda k: fr.bernoulli(k, 0.4, (5,)),
    "permutation": lambda k: fr.permutation(k, 6),
    "choice": lambda k: fr.choice(k, 6, (3,), replace=False),
    "choice_p": lambda k: fr.choice(k, 4, (3,), p=fr.uniform(fr.fold_in(k, 1), (4,))),
    "categorical": lambda k: fr.categorical(k, fnp.zeros_like(fr.uniform(k, (2, 4)))),
    "truncated_normal": lambda k: fr.truncated_normal(k, -1.0, 1.0, (3,)),
    "gumbel": lambda k: fr.gumbel(k, (3,)),
    "laplace": lambda k: fr.laplace(k, (3,)),
    "rademacher": lambda k: fr.rademacher(k, (3,)),
    # (beta, chisquare, t, loggamma and generalized_normal are gamma's loop too)
    "gamma": lambda k: fr.gamma(k, 0.7, (5,)),
    "dirichlet": lambda k: fr.dirichlet(k, fr.uniform(k, (3,), minval=0.3, maxval=2.0), (2,)),
    "cauchy": lambda k: fr.cauchy(k, (3,)),
    "poisson": lambda k: fr.poisson(k, fr.uniform(k, (6,), minval=0.0, maxval=30.0)),
    "orthogonal": lambda k: fr.orthogonal(k, 3),
    "ball": lambda k: fr.ball(k, 3, p=1.5, shape=(2,)),
}


def test_vmap_over_split_keys_is_a_loop(backend):
    keys = fr.split(_key(backend, 6), 4)
    for name, f in SAMPLERS.items():
        got = ft.vmap(f)(keys)
        assert backend.is_own(got), name
        want = np.stack([backend.to_numpy(f(keys[i, :])) for i in range(4)])
        np.testing.assert_array_equal(backend.to_numpy(got), want, err_msg=name)


def test_jit_takes_the_key_as_input(backend):
    keys = fr.split(_key(backend, 7), 2)
    for name, f in SAMPLERS.items():
        traces = []

        def g(k):
            traces.append(1)
            return f(k)

        jg = ft.jit(g)
        a, b = jg(keys[0, :]), jg(keys[1, :])
        assert len(traces) == 1, name  # another key reuses the staged graph
        assert backend.is_own(a), name
        np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(f(keys[0, :])),
                                      err_msg=name)
        np.testing.assert_array_equal(backend.to_numpy(b), backend.to_numpy(f(keys[1, :])),
                                      err_msg=name)
        assert not np.array_equal(backend.to_numpy(a), backend.to_numpy(b)), name


def test_jit_of_vmap_and_seed_inside_jit(backend):
    k = _key(backend, 9)
    f = ft.jit(ft.vmap(lambda kk: fr.normal(kk, (3,))))
    keys = fr.split(k, 5)
    np.testing.assert_array_equal(backend.to_numpy(f(keys)),
                                  backend.to_numpy(ft.vmap(lambda kk: fr.normal(kk, (3,)))(keys)))
    # a seed array traced by jit makes the key
    seed = backend.asarray(2 ** 33 + 5, dtype="int64")
    got = ft.jit(lambda s: fr.uniform(fr.key(s), (4,)))(seed)
    np.testing.assert_array_equal(backend.to_numpy(got), fr.uniform(fr.key(2 ** 33 + 5), (4,)))


def test_grad_through_reparameterised_samples(backend):
    k = _key(backend, 10)
    z = backend.to_numpy(fr.normal(k, (5,)))
    gmu, gsig = ft.grad(lambda mu, s: fnp.sum(mu + s * fr.normal(k, (5,))), argnums=(0, 1))(
        backend.asarray(1.0), backend.asarray(2.0))
    assert backend.is_own(gmu)
    np.testing.assert_allclose(backend.to_numpy(gmu), 5.0)
    np.testing.assert_allclose(backend.to_numpy(gsig), z.sum(), rtol=1e-12)

    u = backend.to_numpy(fr.uniform(k, (5,)))
    glo, ghi = ft.grad(lambda lo, hi: fnp.sum(fr.uniform(k, (5,), minval=lo, maxval=hi)),
                       argnums=(0, 1))(backend.asarray(-1.0), backend.asarray(3.0))
    np.testing.assert_allclose(backend.to_numpy(glo), (1 - u).sum(), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ghi), u.sum(), rtol=1e-12)

    def tn(lo, hi):
        return fnp.sum(fr.truncated_normal(k, lo, hi, (5,)) ** 2)

    h = 1e-6
    g = ft.grad(tn, argnums=(0, 1))(backend.asarray(-0.7), backend.asarray(1.3))
    f = lambda a, b: float(backend.to_numpy(tn(backend.asarray(a), backend.asarray(b))))  # noqa
    fd = ((f(-0.7 + h, 1.3) - f(-0.7 - h, 1.3)) / (2 * h),
          (f(-0.7, 1.3 + h) - f(-0.7, 1.3 - h)) / (2 * h))
    np.testing.assert_allclose([float(backend.to_numpy(v)) for v in g], fd, rtol=1e-5)

    mean = backend.asarray(np.array([0.5, -1.0]))
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])

    def mvn(m, c):
        return fnp.sum(fr.multivariate_normal(k, m, c, (3,)) ** 2)

    gm = ft.grad(mvn)(mean, backend.asarray(cov))
    x = backend.to_numpy(fr.multivariate_normal(k, mean, backend.asarray(cov), (3,)))
    np.testing.assert_allclose(backend.to_numpy(gm), 2 * x.sum(0), rtol=1e-12)
    s = np.array([[0.2, -0.1], [-0.1, 0.4]])  # a symmetric direction
    _, t = ft.jvp(lambda c: mvn(mean, c), (backend.asarray(cov),), (backend.asarray(s),))
    fc = lambda c: float(backend.to_numpy(mvn(mean, backend.asarray(c))))  # noqa
    np.testing.assert_allclose(float(backend.to_numpy(t)),
                               (fc(cov + h * s) - fc(cov - h * s)) / (2 * h), rtol=1e-5)


def test_rejection_samplers_vmap_over_parameters_and_derivatives(backend):
    k = _key(backend, 12)
    a = backend.asarray(np.array([0.3, 1.0, 7.0]))
    got = ft.vmap(lambda ai: fr.gamma(k, ai, (4,)))(a)
    want = np.stack([backend.to_numpy(fr.gamma(k, a[i], (4,))) for i in range(3)])
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    lam = backend.asarray(np.array([0.5, 12.0]))
    got = ft.jit(ft.vmap(lambda li: fr.poisson(k, li, (3,))))(lam)
    want = np.stack([backend.to_numpy(fr.poisson(k, lam[i], (3,))) for i in range(2)])
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    # the scale is differentiable, and the shape by implicit reparameterisation
    x = backend.to_numpy(fr.gamma(k, 2.0, (3,)))
    g = ft.grad(lambda s: fnp.sum(s * fr.gamma(k, 2.0, (3,))))(backend.asarray(1.5))
    np.testing.assert_allclose(backend.to_numpy(g), x.sum(), rtol=1e-12)
    two = backend.asarray(2.0)
    gam = lambda v: fr.gamma(k, v, (3,))  # noqa
    for f in (gam, lambda v: fr.loggamma(k, v, (3,)), lambda v: fr.beta(k, 1.0, v, (3,)),
              lambda v: fr.chisquare(k, v, (3,)), lambda v: fr.t(k, v, (3,)),
              lambda v: fr.dirichlet(k, fnp.stack([v, v])),
              lambda v: fr.generalized_normal(k, v, (3,))):
        g = ft.jit(ft.grad(lambda v: fnp.sum(f(v))))(two)
        assert backend.is_own(g) and np.isfinite(backend.to_numpy(g))
    # (values of these derivatives: tests/test_shape_derivatives.py)


# -- errors ------------------------------------------------------------------------------------

K = fr.key(0)
ERRORS = [
    (lambda: fr.normal(np.zeros(2, np.int64)), TypeError, "uint32"),
    (lambda: fr.normal(np.zeros((3, 2), np.uint32)), ValueError, "vmap"),
    (lambda: fr.uniform(np.zeros(3, np.uint32)), ValueError, r"shape \(2,\)"),
    (lambda: fr.split(0), TypeError, "a key is"),
    (lambda: fr.uniform(K, (3,), minval=np.zeros(4)), ValueError, "must broadcast"),
    (lambda: fr.uniform(K, (3,), maxval=np.zeros((2, 3))), ValueError, "must broadcast"),
    (lambda: fr.randint(K, (2,), np.zeros(3, np.int64), 5), ValueError, "must broadcast"),
    (lambda: fr.bernoulli(K, np.full(3, 0.5), (2,)), ValueError, "must broadcast"),
    (lambda: fr.uniform(K, (2,), "int64"), TypeError, "real floating"),
    (lambda: fr.randint(K, (2,), 0, 5, "float64"), TypeError, "integer type"),
    (lambda: fr.randint(K, (2,), 0, 5, "bool"), TypeError, "integer type"),
    (lambda: fr.bits(K, (2,), "int32"), TypeError, "unsigned"),
    (lambda: fr.uniform(K, (-1,)), ValueError, "negative"),
    (lambda: fr.choice(K, 3, (4,), replace=False), ValueError, "larger sample"),
    (lambda: fr.choice(K, np.zeros((2, 3)), (4,), replace=False, axis=0), ValueError,
     "larger sample"),
    (lambda: fr.choice(K, 3, (2,), p=np.ones(4) / 4), ValueError, "p must have shape"),
    (lambda: fr.choice(K, 0, (2,)), ValueError, "must be positive"),
    (lambda: fr.permutation(K, np.zeros((2, 2)), axis=2), ValueError, "out of bounds"),
    (lambda: fr.categorical(K, np.zeros((2, 3)), shape=(3,)), ValueError, "must broadcast"),
    (lambda: fr.multivariate_normal(K, np.zeros(2), np.eye(3)), ValueError, "cov must end"),
    (lambda: fr.multivariate_normal(K, np.zeros(2), np.eye(2), method="qr"), ValueError,
     "method"),
    (lambda: fr.key(1.5), TypeError, "integer"),
    (lambda: fr.key(2 ** 64), OverflowError, "64 bits"),
    (lambda: fr.fold_in(K, np.float64(1.0)), TypeError, "integer"),
    (lambda: fr.gamma(K, np.ones(3), (2,)), ValueError, "must broadcast"),
    (lambda: fr.poisson(K, 1.0, (2,), "float64"), TypeError, "integer type"),
    (lambda: fr.dirichlet(K, 1.0), ValueError, "at least one dimension"),
    (lambda: fr.ball(K, 0), ValueError, "positive int"),
    (lambda: fr.orthogonal(K, 3, m=-1), ValueError, "non-negative"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors(case):
    f, exc, match = ERRORS[case]
    with pytest.raises(exc, match=match):
        f()


def test_choice_p_is_normalised_as_in_jax():
    """As JAX (unlike NumPy), p is not checked to sum to 1: it is scaled by its sum."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_array_equal(fr.choice(K, 4, (20,), p=4 * p), fr.choice(K, 4, (20,), p=p))


# -- the samplers added after the first set: binomial ... triangular, and the key helpers -----
#
# Their values are not JAX's (the transforms are JAX's, the loops vectorised as poisson's), so
# they are checked by their distributions: Kolmogorov-Smirnov and chi-square tests against
# SciPy with fixed keys, on NumPy only (the draws are the same on every backend: the bits
# are); shapes, dtypes, libraries, vmap and jit on every backend.

NEW_KS = {
    "lognormal": (lambda k: fr.lognormal(k, 0.7, (N,)), stats.lognorm(0.7)),
    "pareto": (lambda k: fr.pareto(k, 2.5, (N,)), stats.pareto(2.5)),
    "rayleigh": (lambda k: fr.rayleigh(k, 1.7, (N,)), stats.rayleigh(scale=1.7)),
    "maxwell": (lambda k: fr.maxwell(k, (N,)), stats.maxwell()),
    "weibull_min": (lambda k: fr.weibull_min(k, 1.5, 0.8, (N,)),
                    stats.weibull_min(0.8, scale=1.5)),
    "wald": (lambda k: fr.wald(k, 0.6, (N,)), stats.invgauss(0.6)),
    "wald_wide": (lambda k: fr.wald(k, 30.0, (N,)), stats.invgauss(30.0)),
    "f": (lambda k: fr.f(k, 3.0, 7.0, (N,)), stats.f(3.0, 7.0)),
    "f_small_df": (lambda k: fr.f(k, 0.3, 0.5, (N,)), stats.f(0.3, 0.5)),
    "triangular": (lambda k: fr.triangular(k, -1.0, 0.5, 2.0, (N,)),
                   stats.triang(0.5, loc=-1.0, scale=3.0)),
    "triangular32": (lambda k: fr.triangular(k, 0.0, 0.0, 1.0, (N,), "float32"),
                     stats.triang(0.0)),
}


def _dsm_cdf(x, loc, scale):
    z = (x - loc) / scale
    return 0.5 + 0.5 * np.sign(z) * stats.maxwell().cdf(np.abs(z))


def test_new_continuous_distributions():
    k = fr.key(2024)
    for name, (draw, dist) in NEW_KS.items():
        x = np.asarray(draw(k)).astype(np.float64)
        assert x.shape == (N,) and np.isfinite(x).all(), name
        assert _ks(x, dist.cdf) > 1e-4, name
    # the double-sided Maxwell: a random sign times a Maxwell sample, scaled and shifted
    x = np.asarray(fr.double_sided_maxwell(k, 1.0, 2.0, (N,)))
    assert _ks(x, lambda v: _dsm_cdf(v, 1.0, 2.0)) > 1e-4
    assert _ks(x, lambda v: _dsm_cdf(v, 1.0, 2.1)) < 1e-6
    # the tests can fail: a parameter off by 5-10% is rejected at this size
    assert _ks(np.asarray(fr.pareto(k, 2.5, (N,))), stats.pareto(2.7).cdf) < 1e-6
    assert _ks(np.asarray(fr.wald(k, 0.6, (N,))), stats.invgauss(0.63).cdf) < 1e-6
    assert _ks(np.asarray(fr.f(k, 3.0, 7.0, (N,))), stats.f(3.3, 7.0).cdf) < 1e-6
    # per-element parameters: their broadcast shape by default
    sig = np.tile(np.array([0.3, 2.0]), (N // 2, 1))
    x = np.asarray(fr.lognormal(k, sig))
    for j, s in enumerate((0.3, 2.0)):
        assert _ks(x[:, j], stats.lognorm(s).cdf) > 1e-4


def _chi2_counts(x, pmf, sf, lo=0):
    """The chi-square p-value of integer draws ``x`` (>= lo) against a pmf, the top cell
    holding the tail."""
    x = np.asarray(x).astype(np.int64)
    top = int(x.max())
    counts = np.bincount(x - lo, minlength=top - lo + 1)
    ks = np.arange(lo, top + 1)
    pr = pmf(ks)
    pr[-1] = sf(top - 1)
    keep = x.size * pr > 5
    want = x.size * pr[keep]
    return stats.chisquare(counts[keep], want * counts[keep].sum() / want.sum()).pvalue


def test_new_discrete_distributions():
    k = fr.key(77)
    n = N
    # both of binomial's methods (n min(p, 1-p) up to 10, above), p above 1/2 (flipped),
    # and n floored
    for trials, p in ((10, 0.3), (20, 0.5), (25, 0.45), (400, 0.9), (3.7, 0.2)):
        x = np.asarray(fr.binomial(k, trials, p, (n,)))
        assert x.dtype == np.float64 and (x == np.round(x)).all()
        b = stats.binom(int(trials), p)
        assert 0 <= x.min() and x.max() <= int(trials)
        assert _chi2_counts(x, b.pmf, b.sf) > 1e-4, (trials, p)
    x = np.asarray(fr.binomial(k, 10, 0.3, (n,)))
    b = stats.binom(10, 0.33)
    assert _chi2_counts(x, b.pmf, b.sf) < 1e-6  # the test can fail
    big = np.asarray(fr.binomial(k, 1e9, 0.3, (4000,), "float32"))
    assert big.dtype == np.float32
    m, v = 3e8, 1e9 * 0.21
    assert abs(big.astype(np.float64).mean() - m) < 4 * math.sqrt(v / 4000)
    # (the acceptance test keeps its digits: a difference of gammaln gave 1.5 v at 1e15)
    big = np.asarray(fr.binomial(k, 1e15, 0.3, (4000,)))
    m, v = 3e14, 1e15 * 0.21
    assert abs(big.mean() - m) < 4 * math.sqrt(v / 4000) and abs(big.var() / v - 1) < 0.1
    for p in (0.3, 0.02, 0.9):
        x = np.asarray(fr.geometric(k, p, (n,)))
        assert x.dtype == np.int64 and x.min() >= 1
        g = stats.geom(p)
        assert _chi2_counts(x, g.pmf, g.sf, lo=1) > 1e-4, p
    x = np.asarray(fr.geometric(k, 0.3, (n,)))
    assert _chi2_counts(x, stats.geom(0.32).pmf, stats.geom(0.32).sf, lo=1) < 1e-6
    pm = np.array([0.2, 0.3, 0.1, 0.4])
    c = np.asarray(fr.multinomial(k, 50.0, pm, shape=(n, 4)))
    assert c.shape == (n, 4) and c.dtype == np.float64 and (c.sum(-1) == 50).all()
    for j in range(4):  # each marginal is binomial(50, p_j)
        b = stats.binom(50, pm[j])
        assert _chi2_counts(c[:, j], b.pmf, b.sf) > 1e-4, j
    cov = np.cov(c[:, :2].T)[0, 1]  # -n p_0 p_1 = -3
    assert abs(cov + 3.0) < 0.25
    # unnormalised p is scaled by its sum (as JAX)
    np.testing.assert_array_equal(fr.multinomial(k, 50.0, 3 * pm, shape=(5, 4)),
                                  fr.multinomial(k, 50.0, pm, shape=(5, 4)))


def test_new_samplers_invalid_parameters():
    k = fr.key(5)
    n = np.array([-1.0, np.nan, 5.0, np.inf, 5.0, 5.0, 7.0, 7.0])
    p = np.array([0.5, 0.5, np.nan, 0.5, -0.1, 1.2, 0.0, 1.0])
    np.testing.assert_array_equal(fr.binomial(k, n, p),  # nan, inf as JAX; p 0 and 1 exact
                                  [np.nan] * 3 + [np.inf] + [np.nan] * 2 + [0.0, 7.0])
    np.testing.assert_array_equal(np.isnan(fr.wald(k, np.array([1.0, 0.0, -1.0, np.nan]))),
                                  [False, True, True, True])
    p = np.array([0.0, 1.0, np.nan, -1.0, 2.0])
    np.testing.assert_array_equal(fr.geometric(k, p), [2 ** 63 - 1, 1, -1, -1, -1])
    np.testing.assert_array_equal(fr.geometric(k, p, dtype="uint8"), [255, 1, 0, 0, 0])
    # counts beyond the dtype saturate (float32 p, whose int32 maximum is not a float32)
    np.testing.assert_array_equal(fr.geometric(k, np.float32(1e-30), (3,), "int32"),
                                  [2 ** 31 - 1] * 3)


def test_new_samplers_shapes_dtypes_and_libraries(backend):
    k = _key(backend, 3)
    a = backend.asarray(np.array([[0.5], [1.5]]))
    b = backend.asarray(np.array([1.0, 2.0, 3.0]))
    cases = {  # result, its shape, its dtype
        "lognormal": (fr.lognormal(k, b), (3,), "float64"),
        "lognormal_default": (fr.lognormal(k), (), "float64"),
        "pareto": (fr.pareto(k, a, (4, 2, 3)), (4, 2, 3), "float64"),
        "rayleigh": (fr.rayleigh(k, b, dtype="float32"), (3,), "float32"),
        "maxwell": (fr.maxwell(k, (2, 5)), (2, 5), "float64"),
        "double_sided_maxwell": (fr.double_sided_maxwell(k, a, b, (4,)), (4, 2, 3), "float64"),
        "double_sided_maxwell_0": (fr.double_sided_maxwell(k, a, b), (2, 3), "float64"),
        "weibull_min": (fr.weibull_min(k, a, b), (2, 3), "float64"),
        "weibull_min_shape": (fr.weibull_min(k, 1.0, b, (2, 3), "float32"), (2, 3), "float32"),
        "wald": (fr.wald(k, b), (3,), "float64"),
        "f": (fr.f(k, a, b), (2, 3), "float64"),
        "triangular": (fr.triangular(k, 0.0, a, 4.0), (2, 1), "float64"),
        "binomial": (fr.binomial(k, b, 0.4), (3,), "float64"),
        "binomial32": (fr.binomial(k, 5, a / 2, (2, 2), "float32"), (2, 2), "float32"),
        "geometric": (fr.geometric(k, backend.asarray(np.array([0.2, 0.7]))), (2,), "int64"),
        "geometric16": (fr.geometric(k, 0.5, (3,), "int16"), (3,), "int16"),
        "multinomial": (fr.multinomial(k, backend.asarray(np.array([3.0, 4.0])),
                                       fnp.full_like(a, 0.25)[:, :1] + fnp.zeros_like(b)),
                        (2, 3), "float64"),
        "multinomial_int": (fr.multinomial(k, 6, backend.asarray(np.array([0.5, 0.5])),
                                           shape=(4, 2), dtype="int32"), (4, 2), "int32"),
    }
    for name, (x, shape, dt) in cases.items():
        assert backend.is_own(x), name
        v = backend.to_numpy(x)
        assert v.shape == shape and v.dtype == np.dtype(dt), (name, v.shape, v.dtype)
        if dt.startswith("float"):
            assert np.isfinite(v).all(), name
    m = backend.to_numpy(cases["multinomial"][0])
    np.testing.assert_array_equal(m.sum(-1), [3.0, 4.0])
    # the same key gives the same draws; the key helpers
    np.testing.assert_array_equal(backend.to_numpy(fr.wald(k, b)), backend.to_numpy(fr.wald(k, b)))
    assert fr.key_impl(k) == "threefry2x32" and fr.key_impl(fr.split(k, 3)) == "threefry2x32"
    assert fr.clone(k) is k and fr.key_data(k) is k


def test_new_samplers_independent_streams():
    keys = fr.split(fr.key(8), 4)
    draws = np.stack([np.asarray(fr.rayleigh(keys[i], 1.0, (3000,))) for i in range(2)]
                     + [np.asarray(fr.binomial(keys[i], 40, 0.4, (3000,))) for i in range(2, 4)])
    assert np.abs(np.corrcoef(draws) - np.eye(4)).max() < 0.1


NEW_SAMPLERS = {  # (lognormal and maxwell are normal's formulas: checked through those)
    "pareto": lambda k: fr.pareto(k, fr.uniform(k, (3,), minval=1.0, maxval=3.0)),
    "rayleigh": lambda k: fr.rayleigh(k, 2.0, (3,)),
    "double_sided_maxwell": lambda k: fr.double_sided_maxwell(k, 0.0, 1.0, (3,)),
    "weibull_min": lambda k: fr.weibull_min(k, 1.0, 2.0, (3,)),
    "wald": lambda k: fr.wald(k, 1.5, (3,)),  # (f is gamma's loop: not again)
    "triangular": lambda k: fr.triangular(k, 0.0, 0.3, 1.0, (3,)),
    # (small counts: a few rounds of the loop; BTRS under jit and vmap is checked below)
    "binomial": lambda k: fr.binomial(k, fr.uniform(k, (6,), minval=0.0, maxval=20.0), 0.4),
    "geometric": lambda k: fr.geometric(k, 0.3, (4,)),
    "multinomial": lambda k: fr.multinomial(k, 8.0, fnp.ones_like(fr.uniform(k, (2,))),
                                            shape=(4, 2)),
}
SAMPLERS.update(NEW_SAMPLERS)  # (vmap over keys and jit: the tests above run them too)


def test_new_samplers_vmap_over_parameters(backend):
    k = _key(backend, 12)
    n = backend.asarray(np.array([3.0, 40.0, 1000.0]))
    got = ft.jit(ft.vmap(lambda ni: fr.binomial(k, ni, 0.3, (2,))))(n)
    want = np.stack([backend.to_numpy(fr.binomial(k, n[i], 0.3, (2,))) for i in range(3)])
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    s = backend.asarray(np.array([0.5, 2.0]))
    got = ft.vmap(lambda si: fr.weibull_min(k, si, 1.5, (3,)))(s)
    want = np.stack([backend.to_numpy(fr.weibull_min(k, s[i], 1.5, (3,))) for i in range(2)])
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-15)


def test_new_samplers_pathwise_derivatives(backend):
    """The transforms' samples are differentiable in their parameters at a fixed key: JVPs and
    VJPs against central differences of the sample (functrans.testing.check_grads)."""
    from functrans.testing import check_grads
    k = _key(backend, 21)
    x = lambda v: backend.asarray(v)  # noqa
    check_grads(lambda s: fr.lognormal(k, s, (3,)), (x(0.7),), order=1)
    check_grads(lambda sc, c: fr.weibull_min(k, sc, c, (3,)), (x(1.5), x(0.8)), order=1)
    check_grads(lambda lo, mo, hi: fr.triangular(k, lo, mo, hi, (4,)),
                (x(-1.0), x(0.5), x(2.0)), order=1)
    check_grads(lambda b: fr.pareto(k, b, (3,)), (x(2.5),), order=1, modes="fwd")
    check_grads(lambda m: fr.wald(k, m, (3,)), (x(0.8),), order=1, modes="fwd")
    # f: (X / a) / (Y / b) of gamma samples X, Y of shapes a/2, b/2, differentiable through
    # their implicit reparameterisation (the sample moves at its fixed quantile, which a
    # finite difference at the same key does not see): d log X / d(a/2) = -(dP/da)(a/2, X)
    # / (X p(X; a/2)), P the regularised incomplete gamma function, p the density
    sp = pytest.importorskip("scipy.special")
    ks = fr.split(k)
    kd, kn = ks[0, :], ks[1, :]
    xg = backend.to_numpy(fr.gamma(kn, 1.5, (3,)))
    yg = backend.to_numpy(fr.gamma(kd, 2.5, (3,)))
    val = backend.to_numpy(fr.f(k, 3.0, 5.0, (3,)))
    np.testing.assert_allclose(val, (xg / 3.0) / (yg / 5.0), rtol=1e-13)

    def slope(h, z):
        da = (sp.gammainc(h + 1e-6, z) - sp.gammainc(h - 1e-6, z)) / 2e-6
        return -da / (z * stats.gamma(h).pdf(z))

    t = ft.jvp(lambda a, b: fr.f(k, a, b, (3,)), (x(3.0), x(5.0)), (x(1.0), x(0.0)))[1]
    np.testing.assert_allclose(backend.to_numpy(t), val * (0.5 * slope(1.5, xg) - 1 / 3.0),
                               rtol=1e-6)
    t = ft.jvp(lambda a, b: fr.f(k, a, b, (3,)), (x(3.0), x(5.0)), (x(0.0), x(1.0)))[1]
    np.testing.assert_allclose(backend.to_numpy(t), val * (1 / 5.0 - 0.5 * slope(2.5, yg)),
                               rtol=1e-6)


NEW_ERRORS = [
    (lambda: fr.binomial(K, 5, 0.5, (2,), "int64"), TypeError, "real floating"),
    (lambda: fr.binomial(K, np.ones(3), 0.5, (2,)), ValueError, "must broadcast"),
    (lambda: fr.geometric(K, 0.5, (2,), "float64"), TypeError, "integer type"),
    (lambda: fr.multinomial(K, 5, np.ones(3) / 3, shape=(4,)), ValueError, "must broadcast"),
    (lambda: fr.multinomial(K, 5, 0.5), ValueError, "at least one dimension"),
    (lambda: fr.multinomial(K, np.ones(2), np.ones(3) / 3), ValueError, "must broadcast"),
    (lambda: fr.multinomial(K, 5, np.ones(3) / 3, dtype="bool"), TypeError, "dtype"),
    (lambda: fr.weibull_min(K, np.ones(3), 1.0, (2,)), ValueError, "does not broadcast"),
    (lambda: fr.lognormal(K, 1.0, (2,), "complex128"), TypeError, "real floating"),
    (lambda: fr.triangular(K, 0.0, np.ones(3), 1.0, (2,)), ValueError, "must broadcast"),
    (lambda: fr.key_impl(np.zeros(3, np.uint32)), TypeError, "last axis"),
    (lambda: fr.key_dtype("rbg"), ValueError, "threefry2x32"),
    (lambda: fr.wrap_key_data(np.zeros(2, np.int32)), TypeError, "uint32"),
    (lambda: fr.wrap_key_data(K, impl="threefry2x32", dtype=np.uint32), ValueError, "not both"),
    (lambda: fr.wrap_key_data(K, impl="unsafe_rbg"), ValueError, "impl"),
]


@pytest.mark.parametrize("case", range(len(NEW_ERRORS)))
def test_new_errors(case):
    f, exc, match = NEW_ERRORS[case]
    with pytest.raises(exc, match=match):
        f()
