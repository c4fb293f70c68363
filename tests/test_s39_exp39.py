"""Session 39, exp39: functrans.experimental (sparse, jet, checkify, ode) fuzzed against JAX
(tests/_fuzz_experimental_jax.py); the fixes and a fast selection of its checks, against
closed forms and central differences (JAX only where marked, skipped without it)."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.experimental import checkify, sparse
from functrans.experimental.jet import jet
from functrans.ode import odeint


def _dense(backend, m):
    out = m.todense() if isinstance(m, sparse.BCOO) else m
    assert backend.is_own(out)
    return backend.to_numpy(out)


# -- sparse: the fixes ---------------------------------------------------------------------------

def test_sum_duplicates_to_no_entries_and_of_no_entries(backend):
    # nse=0 (a slice to an empty range asks for it) and a BCOO with no entries: fnp.unique
    # with a size refuses both (ValueError before)
    m = sparse.BCOO((backend.asarray([1.0, 2.0]), backend.asarray([[0, 0], [0, 0]], "int32")),
                    shape=(2, 2))
    r = m.sum_duplicates(nse=0)
    assert r.nse == 0 and _dense(backend, r).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    empty = sparse.BCOO((backend.asarray(np.zeros(0)), backend.asarray(np.zeros((0, 2)), "int32")),
                        shape=(2, 3))
    r = empty.sum_duplicates(nse=2)
    assert backend.to_numpy(r.indices).tolist() == [[2, 3], [2, 3]]  # padding
    assert backend.to_numpy(r.data).tolist() == [0.0, 0.0]
    assert empty.sum_duplicates().nse == 0
    # grad through nse=0: no entry kept, a zero derivative
    g = ft.grad(lambda d: fnp.sum(sparse.BCOO((d, m.indices), shape=(2, 2))
                                  .sum_duplicates(nse=0).todense()))(m.data)
    assert backend.to_numpy(g).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("start, limit, n_batch", [((1, 1, 2), (2, 1, 2), 0),
                                                   ((0, 2, 0), (2, 2, 2), 1),
                                                   ((1, 0, 1), (1, 2, 2), 1)])
def test_slice_to_an_empty_range(backend, start, limit, n_batch):
    # (ValueError from unique, then ZeroDivisionError unravelling a shape with a 0 in it)
    x = np.arange(8.0).reshape(2, 2, 2) - 3.0
    m = sparse.BCOO.fromdense(backend.asarray(x), n_batch=n_batch)
    # with repeated entries, more than the slice's size
    m = sparse.BCOO((fnp.concatenate([m.data, m.data], axis=n_batch),
                     fnp.concatenate([m.indices, m.indices], axis=n_batch)), shape=m.shape)
    r = sparse.bcoo_slice(m, start_indices=start, limit_indices=limit)
    want = x[tuple(slice(s, e) for s, e in zip(start, limit))] * 2
    got = _dense(backend, r)
    assert got.shape == want.shape and got.size == 0
    r = ft.jit(lambda m: sparse.bcoo_slice(m, start_indices=start, limit_indices=limit))(m)
    assert _dense(backend, r).shape == want.shape


def test_fromdense_without_sparse_dimensions_keeps_the_derivative_of_a_zero(backend):
    # each element its own batch, no sparse dimension: todense(fromdense(a)) is the identity,
    # its derivative 1 everywhere (was 0 at a zero entry: the value's entry was masked)
    x = backend.asarray([0.0, 1.5, -0.7])
    w = np.array([1.0, 2.0, 3.0])
    for nse in (1, 2):
        m = sparse.BCOO.fromdense(x, nse=nse, n_batch=1)
        np.testing.assert_array_equal(_dense(backend, m), [0.0, 1.5, -0.7])
        g = ft.grad(lambda a: fnp.sum(sparse.BCOO.fromdense(a, nse=nse, n_batch=1).todense()
                                      * backend.asarray(w)))(x)
        np.testing.assert_array_equal(backend.to_numpy(g), w)  # (JAX: 2 w at nse=2)
    # a 0-d array under vmap: the same rule
    g = ft.vmap(ft.grad(lambda a: sparse.BCOO.fromdense(a, nse=1).todense()))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [1.0, 1.0, 1.0])
    # with dense dimensions: a zero block keeps its derivative too
    y = backend.asarray([[0.0, 0.0], [1.0, 2.0]])
    g = ft.grad(lambda a: fnp.sum(sparse.BCOO.fromdense(a, nse=1, n_batch=1, n_dense=1)
                                  .todense() * backend.asarray([[1.0, 2.0], [3.0, 4.0]])))(y)
    np.testing.assert_array_equal(backend.to_numpy(g), [[1.0, 2.0], [3.0, 4.0]])
    # where there are sparse dimensions, a zero is not stored: no derivative (as JAX)
    g = ft.grad(lambda a: fnp.sum(sparse.BCOO.fromdense(a, nse=2).todense()))(
        backend.asarray([[0.0, 1.0], [2.0, 0.0]]))
    np.testing.assert_array_equal(backend.to_numpy(g), [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("new", [(6, 2, 2, 2), (2, 6, 4), (2, 6, 2, 2), (12, 4), (12, 1, 4)])
def test_reshape_changing_the_batch_sizes(backend, new):
    # (3, 4) batch to (6, 2) or (2, 6): data and indices reshaped (ValueError before)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 4, size=(3, 4, 5, 1))
    data = rng.standard_normal((3, 4, 5))
    m = sparse.BCOO((backend.asarray(data), backend.asarray(idx, "int32")), shape=(3, 4, 4))
    dense = _dense(backend, m)
    r = sparse.bcoo_reshape(m, new_sizes=new)
    assert r.shape == new
    np.testing.assert_array_equal(_dense(backend, r), dense.reshape(new))
    w = rng.standard_normal(new)
    g = ft.grad(lambda d: fnp.sum(sparse.bcoo_reshape(sparse.BCOO((d, m.indices), shape=m.shape),
                                                      new_sizes=new).todense()
                                  * backend.asarray(w)))(m.data)
    # each entry's derivative: w at its position
    want = np.take_along_axis(w.reshape(3, 4, 4), idx[..., 0], axis=2)
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=0, atol=0)


# -- sparse: a selection of the fuzzer's checks ----------------------------------------------------

def _scrambled(rng, data, idx, shape):
    """Other parts for the same dense matrix: each entry split in two, negative indices,
    out-of-range entries holding values, all shuffled."""
    r = rng.uniform(0.2, 0.8)
    data = np.concatenate([data * r, data * (1 - r), [7.0, -3.0]])
    n = np.array(shape)
    idx = np.concatenate([idx, np.where(rng.random(idx.shape) < 0.5, idx - n, idx),
                          [[n[0], 0], [0, -n[1] - 1]]])
    p = rng.permutation(len(data))
    return data[p], idx[p].astype(np.int32)


def test_products_of_scrambled_storage_against_dense():
    rng = np.random.default_rng(11)
    for _ in range(4):
        x = rng.standard_normal((3, 4)) * (rng.random((3, 4)) < 0.5)
        y = rng.standard_normal((4, 2))
        m = sparse.BCOO.fromdense(x)
        d, i = _scrambled(rng, np.asarray(m.data), np.asarray(m.indices), x.shape)
        s = sparse.BCOO((d, i), shape=x.shape)
        np.testing.assert_allclose(s.todense(), x, atol=1e-15)
        np.testing.assert_allclose(s @ y, x @ y, atol=1e-14)
        np.testing.assert_allclose((s.T @ s).todense(), x.T @ x, atol=1e-14)
        np.testing.assert_allclose(sparse.bcoo_reduce_sum(s, axes=(1,)).todense(), x.sum(1),
                                   atol=1e-14)
        np.testing.assert_allclose(s.sum_duplicates(nse=m.nse + 1).todense(), x, atol=1e-15)

        def loss(dd, yy):
            return fnp.sum(fnp.sin(sparse.BCOO((dd, i), shape=x.shape) @ yy))
        g = ft.grad(loss, argnums=(0, 1))(d, y)
        td, ty = rng.standard_normal(d.shape), rng.standard_normal(y.shape)
        h = 1e-6
        fd = (loss(d + h * td, y + h * ty) - loss(d - h * td, y - h * ty)) / (2 * h)
        lin = np.sum(g[0] * td) + np.sum(g[1] * ty)
        assert abs(fd - lin) < 1e-7 * (1 + abs(fd))
        # out-of-range entries take no part: their derivative is 0
        outside = (i[:, 0] >= 3) | (i[:, 0] < -3) | (i[:, 1] >= 4) | (i[:, 1] < -4)
        assert np.all(np.asarray(g[0])[outside] == 0)


def test_sparse_dot_general_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.experimental import sparse as jsparse
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4)) * (rng.random((2, 3, 4)) < 0.5)
    y = rng.standard_normal((2, 4, 3))
    dn = (((2,), (1,)), ((0,), (0,)))
    mf = sparse.BCOO.fromdense(x, n_batch=1)
    mj = jsparse.BCOO.fromdense(jnp.asarray(x), n_batch=1)
    np.testing.assert_allclose(sparse.bcoo_dot_general(mf, y, dimension_numbers=dn),
                               jsparse.bcoo_dot_general(mj, jnp.asarray(y), dimension_numbers=dn),
                               atol=1e-14)
    gf = ft.grad(lambda d, b: fnp.sum(fnp.tanh(sparse.bcoo_dot_general(
        sparse.BCOO((d, mf.indices), shape=x.shape), b, dimension_numbers=dn))),
        argnums=(0, 1))(mf.data, y)
    gj = jax.grad(lambda d, b: jnp.sum(jnp.tanh(jsparse.bcoo_dot_general(
        jsparse.BCOO((d, mj.indices), shape=x.shape), b, dimension_numbers=dn))),
        argnums=(0, 1))(mj.data, jnp.asarray(y))
    np.testing.assert_allclose(gf[0], gj[0], atol=1e-13)
    np.testing.assert_allclose(gf[1], gj[1], atol=1e-13)
    # sum_duplicates: JAX's canonical form (nse, indices, data) from duplicated storage
    d, i = _scrambled(rng, np.asarray(mf.data[0]), np.asarray(mf.indices[0]), (3, 4))
    rf = sparse.BCOO((d, i), shape=(3, 4)).sum_duplicates()
    rj = jsparse.BCOO.fromdense(jnp.asarray(x[0])).sum_duplicates()
    assert rf.nse == rj.nse
    np.testing.assert_array_equal(rf.indices, rj.indices)
    np.testing.assert_allclose(rf.data, rj.data, atol=1e-15)


# -- jet: closed forms at special points, nested jvp -------------------------------------------

_EXP_SERIES = [1.0, 1.0, 1.0, 1.0]  # x(t) = x0 + e^t - 1


@pytest.mark.parametrize("f, x0, want", [
    # (e^t - 1)^2 = e^2t - 2 e^t + 1: the k-th derivative 2^k - 2 (JAX's pow rule: nan at 0)
    (lambda x: fnp.power(x, 2.0), 0.0, [0.0, 2.0, 6.0, 14.0]),
    (lambda x: x ** 2, 0.0, [0.0, 2.0, 6.0, 14.0]),
    # (e^t - 3)^3: 3^k - 9 2^k + 27 (a negative base: JAX's rule takes its log, nan)
    (lambda x: fnp.power(x, 3.0), -2.0, [12.0, 0.0, -18.0, -36.0]),
    # (e^t - 1)^2.5 ~ t^2.5: 0, 0, then +inf (one-sided)
    (lambda x: fnp.power(x, 2.5), 0.0, [0.0, 0.0, math.inf]),
    # sqrt(e^t - 1) ~ sqrt(t): +inf, -inf (JAX nan)
    (fnp.sqrt, 0.0, [math.inf, -math.inf]),
    (lambda x: lax.integer_pow(x, -2), 1.0, [-2.0, 4.0, -8.0, 16.0]),  # e^-2t
])
def test_jet_closed_forms(f, x0, want):
    y, terms = jet(f, (x0,), (_EXP_SERIES[:len(want)],))
    np.testing.assert_allclose(terms, want, rtol=1e-14, atol=1e-14)


def test_jet_tails_and_tiny_values():
    # expm1 of a tiny value keeps it (JAX's jet: 0); the logistic's tail slope (JAX's: 0)
    y, _ = jet(fnp.expm1, (1e-20,), ([1.0, 1.0],))
    assert y == 1e-20
    _, (d1, d2) = jet(lax.logistic, (40.0,), ([1.0, 0.0],))
    assert d1 == pytest.approx(math.exp(-40.0) / (1 + math.exp(-40.0)) ** 2, rel=1e-14)
    assert d2 == pytest.approx(-math.exp(-40.0), rel=1e-12)


def _nested(f, x0, xs, order):
    def g(t):
        return f(x0 + sum(v * t ** (k + 1) / math.factorial(k + 1) for k, v in enumerate(xs)))
    fns = [g]
    for _ in range(order):
        prev = fns[-1]
        fns.append(lambda t, prev=prev: ft.jvp(prev, (t,), (1.0,))[1])
    return [np.asarray(fn(0.0)) for fn in fns[1:]]


_M = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [-0.1, 0.2, 0.7]])


@pytest.mark.parametrize("f", [
    lambda x: fnp.cumprod(fnp.tanh(x)) * fnp.logaddexp(x, 0.5 * x),
    lambda x: fnp.sort(fnp.sin(x) + fnp.asarray(_M) @ x),
    lambda x: lax.fori_loop(0, 3, lambda i, c: fnp.sin(c) + 0.5 * c, x) / fnp.linalg.vector_norm(x + 3),
    lambda x: lax.cond(fnp.sum(x) > 0, fnp.arctan, fnp.arcsinh, x) ** 3 - fnp.max(x),
    lambda x: lax.scan(lambda c, a: (c * fnp.tanh(a) + a, c), 1.0, x)[1] * (1.2 + fnp.sin(x)) ** 1.7,
])
def test_jet_against_nested_jvp(f):
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal(3)
    xs = [rng.standard_normal(3) * 0.7 for _ in range(4)]
    _, terms = jet(f, (x0,), (xs,))
    for got, want in zip(terms, _nested(f, x0, xs, 4)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# -- checkify ------------------------------------------------------------------------------------

def test_checkify_first_failure_and_transforms():
    def f(x, i):
        y = fnp.log(x)                     # nan at x < 0
        checkify.check(fnp.all(y > -100.0), "y small {}", y[0])
        return y + x[i]

    x = np.array([-1.0, 2.0, 0.5])
    err, _ = checkify.checkify(f, errors=checkify.all_checks)(x, 1)
    # the first failure (JAX 0.10 reports the later check here: 'y small nan')
    assert err.get() == "nan generated by primitive: log."
    err, _ = checkify.checkify(f, errors=checkify.user_checks)(x, 1)
    assert err.get() == "y small nan (`check` failed)"
    err, _ = checkify.checkify(ft.jit(f), errors=checkify.index_checks)(np.abs(x), 5)
    assert err.get().startswith("out-of-bounds indexing for array of shape (3,): index 5 is out")
    err, out = checkify.checkify(ft.vmap(f, in_axes=(0, None)), errors=checkify.all_checks)(
        np.abs(np.stack([x, x])) + 1.0, 2)
    assert err.get() is None and out.shape == (2, 3)
    err, g = checkify.checkify(ft.grad(lambda x: fnp.sum(fnp.sqrt(x))),
                               errors=checkify.nan_checks)(np.array([1.0, 0.0]))
    assert err.get() is None and g[1] == np.inf  # (an infinite slope, no nan)
    with pytest.raises(checkify.JaxRuntimeError, match="y small"):
        checkify.checkify(f)(x, 1)[0].throw()


# -- ode -------------------------------------------------------------------------------------------

def test_odeint_gradient_in_times_with_a_repeated_time():
    # y' = -a y sin t: y = exp(a (cos t - cos t0)); JAX's gradient for t0 and a is nan here
    t = np.array([0.5, 1.0, 1.0, 2.0])

    def loss(t, a):
        return fnp.sum(odeint(lambda y, s, a: -a * y * fnp.sin(s), 1.0, t, a) ** 2)
    gt, ga = ft.grad(loss, argnums=(0, 1))(t, 0.7)
    y = np.exp(0.7 * (np.cos(t) - np.cos(t[0])))
    want_t = 2 * y ** 2 * (-0.7 * np.sin(t))
    want_t[0] = np.sum(2 * y[1:] ** 2 * 0.7 * np.sin(t[0]))
    np.testing.assert_allclose(gt, want_t, rtol=1e-6)
    np.testing.assert_allclose(ga, np.sum(2 * y ** 2 * (np.cos(t) - np.cos(t[0]))), rtol=1e-6)


def test_odeint_unreached_times_are_nan():
    # mxstep too small: nan at the time not reached (JAX returns an unconverged 3.2e6)
    ys = odeint(lambda y, t: -y, 1.0, np.array([0.0, 100.0]), mxstep=3)
    assert ys[0] == 1.0 and np.isnan(ys[1])


def test_slice_of_batch_dimensions_on_every_backend(backend):
    # indices[batch slices] named fewer axes than indices has: array_api_strict refused every
    # bcoo_slice of a BCOO with batch dimensions
    x = np.arange(24.0).reshape(2, 3, 4) % 5 - 2.0
    m = sparse.BCOO.fromdense(backend.asarray(x), n_batch=2)
    r = sparse.bcoo_slice(m, start_indices=(1, 0, 1), limit_indices=(2, 3, 4), strides=(1, 2, 1))
    np.testing.assert_array_equal(_dense(backend, r), x[1:2, 0:3:2, 1:4])
    g = ft.grad(lambda d: fnp.sum(sparse.bcoo_slice(
        sparse.BCOO((d, m.indices), shape=m.shape), start_indices=(1, 0, 1),
        limit_indices=(2, 3, 4)).todense()))(m.data)
    want = np.zeros(x.shape)
    want[1:2, :, 1:4] = 1.0
    np.testing.assert_array_equal(backend.to_numpy(sparse.BCOO((g, m.indices), shape=m.shape)
                                                   .todense()) != 0, (want != 0) & (x != 0))
