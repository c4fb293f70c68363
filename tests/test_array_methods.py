"""NumPy's array methods on tracers (functrans/array_methods.py): each method gives NumPy's
result under every transform and on every backend, is differentiable where NumPy's value
is, and the in-place ones rebind the tracer without writing to any array."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.array_methods import NumPyArrayMethods
from functrans.testing import check_grads

X = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.6, 1.9], [-0.8, 2.2, 0.1, -1.5]])

# (name, call) with call(x) the same code for a NumPy array and a tracer.
CASES = [
    ("sum", lambda x: x.sum()),
    ("sum_axis", lambda x: x.sum(axis=0, keepdims=True)),
    ("sum_where", lambda x: x.sum(axis=1, where=x[0] > 0)),
    ("prod", lambda x: x.prod(axis=1)),
    ("mean", lambda x: x.mean(axis=-1)),
    ("var", lambda x: x.var(axis=0, ddof=1)),
    ("std", lambda x: x.std()),
    ("max", lambda x: x.max(axis=1)),
    ("min_initial", lambda x: x.min(axis=0, initial=0.0)),
    ("cumsum", lambda x: x.cumsum(axis=1)),
    ("cumprod", lambda x: x.cumprod()),
    ("trace", lambda x: x.trace(offset=1)),
    ("reshape_args", lambda x: x.reshape(4, 3)),
    ("reshape_tuple", lambda x: x.reshape((2, -1))),
    ("reshape_F", lambda x: x.reshape((4, 3), order="F")),
    ("ravel", lambda x: x.ravel()),
    ("flatten_F", lambda x: x.flatten("F")),
    ("transpose", lambda x: x.transpose()),
    ("transpose_args", lambda x: x.reshape(3, 2, 2).transpose(2, 0, 1)),
    ("transpose_tuple", lambda x: x.reshape(3, 2, 2).transpose((1, 2, 0))),
    ("swapaxes", lambda x: x.swapaxes(0, 1)),
    ("divmod", lambda x: divmod(x, 0.65)[1] + divmod(3.0, x + 5.0)[0] * x),
    ("T_any_rank", lambda x: x.reshape(3, 2, 2).T.reshape(-1) + x[0].T.sum() + x[0, 0].T),
    ("squeeze", lambda x: x[:1].squeeze(axis=0)),
    ("repeat", lambda x: x.repeat(2, axis=1)),
    ("diagonal", lambda x: x.diagonal(offset=-1)),
    ("clip", lambda x: x.clip(-0.5, 1.0)),
    ("round", lambda x: x.round(1) * 0 + x),
    ("dot", lambda x: x.dot(x.T)),
    ("conj_real_imag", lambda x: (x * (1 + 2j)).conj().real + (x * (1 + 2j)).imag),
    ("astype", lambda x: x.astype(np.float32).astype("float64") * 0 + x),
    ("copy", lambda x: x.copy() * 2),
    ("choose", lambda x: (x[0] > 0).astype(np.int64).choose([x[1], x[2]])),
    ("conjugate", lambda x: (x * 1j).conjugate().imag),
    ("take", lambda x: x.take([2, 0], axis=1)),
    ("compress", lambda x: x.compress([True, False, True], axis=0)),
    ("searchsorted", lambda x: x[0].searchsorted(x[1] * 0 + 0.5) * 1.0 + x[0, 0]),
    ("sort_method", lambda x: _sorted(x)),
    ("partition_method", lambda x: _partitioned(x)),
    ("fill_method", lambda x: _filled(x)),
    ("put_method", lambda x: _put(x)),
]


def _sorted(x):
    y = x * 1.0
    y.sort(axis=0)
    return y


def _partitioned(x):
    y = x * 1.0
    y.partition(1, axis=1)
    return y[:, 1]  # the only entry a partition fixes


def _filled(x):
    y = x * 1.0
    y.fill(2.0)
    return y + x


def _put(x):
    y = x * 1.0
    y.put([0, 5], [7.0, 8.0])
    return y * x


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_method_matches_numpy_under_jit_and_grad(backend, name, call):
    expected = np.asarray(call(X.copy()))
    x = backend.asarray(X)
    got = ft.jit(call)(x)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12, atol=1e-12)
    if name in ("searchsorted",):
        return
    # (through jit: another library's own arrays have other methods or none, as the
    # standard's array object; inside a transform every backend gets NumPy's)
    check_grads(ft.jit(call), (x,),
                order=2 if name in ("sum", "var", "dot", "sort_method") else 1)


@pytest.mark.parametrize("name,call", CASES[:12], ids=[c[0] for c in CASES[:12]])
def test_method_under_vmap_matches_a_loop(name, call):
    stacked = np.stack([X, X[::-1] * 0.5])
    got = ft.vmap(call)(stacked)
    for i in range(2):
        np.testing.assert_allclose(got[i], call(stacked[i].copy()), rtol=1e-12)


def test_integer_results_and_no_derivative_methods():
    def f(x):
        return (x.argmax(axis=1), x.argmin(), x.argsort(axis=0),
                x.argpartition(1, axis=1)[:, 1], (x > 0).all(axis=0), (x > 0).any(),
                x.nbytes, x.itemsize, x.real.nbytes)
    for g, w in zip(ft.jit(f)(X), f(X)):
        np.testing.assert_array_equal(g, w)
    # nonzero's shape depends on the values: eagerly, inside grad
    seen = []
    ft.grad(lambda x: seen.append(x.nonzero()) or x.sum())(X * (X > 0))
    for g, w in zip(seen[0], (X * (X > 0)).nonzero()):
        np.testing.assert_array_equal(g, w)


def test_in_place_methods_leave_the_input_alone():
    x = X.copy()
    x.flags.writeable = False
    ft.grad(lambda v: _sorted(v).sum() + _filled(v).sum() + _put(v).sum())(x)
    np.testing.assert_array_equal(x, X)
    # sort rebinds the tracer itself: the gradient follows the permutation
    g = ft.grad(lambda v: (_sorted(v) * np.arange(12.0).reshape(3, 4)).sum())(X)
    want = np.zeros_like(X)
    order = np.argsort(X, axis=0)
    for j in range(4):
        want[order[:, j], j] = np.arange(12.0).reshape(3, 4)[:, j]
    np.testing.assert_array_equal(g, want)


def test_errors_say_what_to_do():
    with pytest.raises(TypeError, match=r"sum\(out=...\) is not supported on a tracer"):
        ft.grad(lambda x: x.sum(out=np.zeros(())))(X)
    with pytest.raises(TypeError, match="reshape\\(\\) needs a shape"):
        ft.grad(lambda x: x.reshape().sum())(X)
    with pytest.raises(NotImplementedError, match="structured arrays"):
        ft.grad(lambda x: x.argsort(order="a").sum())(X)
    with pytest.raises(TypeError, match="cannot cast float64 to int64 according to the rule 'safe'"):
        ft.grad(lambda x: x.astype(np.int64, casting="safe").sum())(X)
    with pytest.raises(ValueError, match="order must be one of"):
        ft.grad(lambda x: x.ravel(order="Z").sum())(X)

    def nested(x):
        def inner(s):
            x.fill(s)  # a value of the inner transform into the outer's tracer
            return s
        ft.grad(inner)(1.0)
        return x.sum()
    with pytest.raises(TypeError, match="Cannot assign to .* in place"):
        ft.grad(nested)(X)


def test_same_kind_and_safe_casting_follow_numpy():
    ok = ft.jit(lambda x: x.astype(np.float32, casting="same_kind"))(X)
    assert ok.dtype == np.float32
    with pytest.raises(TypeError, match="'same_kind'"):
        ft.jit(lambda x: x.astype(np.int32, casting="same_kind"))(X)
    assert ft.jit(lambda x: (x > 0).astype(np.int64, casting="safe"))(X).dtype == np.int64


def test_every_method_is_covered():
    names = {n for n, v in vars(NumPyArrayMethods).items() if not n.startswith("_")}
    source = open(__file__).read()
    missing = sorted(n for n in names if f".{n}(" not in source and f".{n} " not in source
                     and f".{n}\n" not in source and f".{n})" not in source and f".{n}," not in source)
    assert not missing, f"untested methods: {missing}"


def _at_updates(x, xp):
    i = np.array([0, 2, 0])
    return (x.at[i].add(x[1] * 2.0) * x.at[1:].set(3.0)
            + x.at[np.array([0, 2])].multiply(x[:2], unique_indices=True) + x.at[i].max(0.5) + x.at[i].min(x[1:])
            - x.at[2].divide(4.0) + x.at[1].power(3.0) - x.at[3].subtract(x[0])).sum() \
        + x.at[i].get().sum()


def test_jax_at_updates_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    x = np.array([0.3, 1.2, -0.7, 2.0])
    np.testing.assert_allclose(ft.grad(lambda v: _at_updates(v, fnp))(x),
                               jax.grad(lambda v: _at_updates(v, jnp))(x), rtol=1e-13)
    np.testing.assert_allclose(ft.jit(lambda v: _at_updates(v, fnp))(x),
                               _at_updates(jnp.asarray(x), jnp), rtol=1e-13)


def test_at_updates_on_every_backend(backend):
    x = backend.asarray([0.3, 1.2, -0.7, 2.0])
    i = backend.xp.asarray([0, 2, 0]) if backend.name != "numpy" else np.array([0, 2, 0])
    if backend.device is not None:
        i = backend.xp.asarray([0, 2, 0], device=backend.device)
    add = ft.jit(lambda v: v.at[i].add(1.0))(x)
    mul = ft.jit(lambda v: v.at[1:3].multiply(v[:2]))(x)
    app = ft.jit(lambda v: v.at[::2].apply(fnp.sin))(x)
    assert backend.is_own(add) and backend.is_own(app)
    want = np.array([0.3, 1.2, -0.7, 2.0])
    np.testing.assert_allclose(backend.to_numpy(add), want + [2, 0, 1, 0])
    np.testing.assert_allclose(backend.to_numpy(mul), [0.3, 1.2 * 0.3, -0.7 * 1.2, 2.0])
    np.testing.assert_allclose(backend.to_numpy(app), [np.sin(0.3), 1.2, np.sin(-0.7), 2.0])
    # repeated indices each apply (numpy.multiply.at); x itself is unchanged
    want_mul = want.copy()
    np.multiply.at(want_mul, [0, 0], [2.0, 3.0])
    two = fnp.stack([x[1] * 0 + 2.0, x[1] * 0 + 3.0])  # (on x's library and device)
    got = ft.jit(lambda v, w: v.at[np.array([0, 0])].multiply(w))(x, two)
    np.testing.assert_allclose(backend.to_numpy(got), want_mul)
    np.testing.assert_array_equal(backend.to_numpy(x), want)


def test_at_errors_and_item_and_dtype_calls():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="mode='wrap'"):
        ft.jit(lambda v: v.at[0].set(1.0, mode="wrap"))(x)
    # out of range: jax.numpy's default drops the update; promise_in_bounds leaves it to
    # indexing, which refuses it (tests/test_gaps_s22.py has the modes' cases)
    np.testing.assert_array_equal(ft.jit(lambda v: v.at[5].set(1.0))(x), x)
    with pytest.raises(IndexError):
        ft.jit(lambda v: v.at[5].set(1.0, mode="promise_in_bounds"))(x)
    # item(k) / item((i, j)) as NumPy's, on values without a derivative
    seen = []
    ft.grad(lambda v: seen.append((ft.stop_gradient(v).item(1), (v > 2).item((1, 0)))) or
            v.sum())(x)
    assert seen == [(2.0, True)]
    with pytest.raises(ft.errors.DerivativeDroppedError, match="item"):
        ft.grad(lambda v: v.item(1))(x)
    # fnp.float32(v): an array of that dtype, as jnp.float32(v)
    assert fnp.float32(2.0).dtype == np.float32 and fnp.float32(2.0).shape == ()
    y = ft.grad(lambda v: fnp.float64(v * 2.0).sum())(x)
    np.testing.assert_array_equal(y, np.full((2, 2), 2.0))


def test_at_apply_with_traced_indices_needs_unique_indices():
    x = np.array([0.3, 1.2, -0.5, 2.0])
    i = np.array([0, 2])
    with pytest.raises(NotImplementedError, match="unique_indices=True"):
        ft.jit(lambda v, i: v.at[i].apply(fnp.exp))(x, i)
    got = ft.jit(lambda v, i: v.at[i].apply(fnp.exp, unique_indices=True))(x, i)
    np.testing.assert_allclose(got, np.where([1, 0, 1, 0], np.exp(x), x))
    # concrete repeated indices apply twice, under jit too (the indices are not traced)
    got = ft.jit(lambda v: v.at[np.array([0, 0])].apply(fnp.exp))(x)
    np.testing.assert_allclose(got[0], np.exp(np.exp(0.3)))


@pytest.mark.parametrize("method", ["max", "min"])
def test_at_max_min_share_ties_equally(method):
    """x.at[i].max(v) with a position reached three times by equal values: the derivative is
    shared in thirds (jax.numpy's), whatever the order the updates are listed in. (Both
    operands traced: a plain array has no ``.at``.)"""
    x = np.array([0.3, 1.2, 0.1, 5.0])
    idx = np.array([0, 2, 0, 2, 1, 2])
    s = 1.0 if method == "max" else -1.0
    v = np.array([0.3, 0.7 * s, 0.3, 0.2 * s, 1.2, 0.7 * s])

    def f(x, v):
        return getattr(x.at[idx], method)(v)
    jx, jv = ft.jacfwd(f, argnums=(0, 1))(x, v)
    np.testing.assert_allclose(jx[0], [1 / 3, 0, 0, 0])
    np.testing.assert_allclose(jv[0], [1 / 3, 0, 1 / 3, 0, 0, 0])
    np.testing.assert_allclose(jv[2], [0, 0.5, 0, 0, 0, 0.5])  # (x[2] = 0.1 is not a tie)
    np.testing.assert_allclose(jx[1], [0, 0.5, 0, 0])  # x[1] and v[4] tie at 1.2
    np.testing.assert_allclose(jx[3], [0, 0, 0, 1])


def test_at_on_arrays_functrans_makes():
    """JAX code builds arrays with jnp.zeros(n).at[i].set(v): functrans.numpy's creation
    functions give NumPy arrays with .at (NumPy's own have none), called plainly or under a
    transform, and every transform hands back plain numpy.ndarray results."""
    x = np.array([0.3, 1.2, -0.5])

    def f(a):
        m = fnp.zeros((2, 3)).at[0].set(a).at[1, 2].add(a[0] ** 2)
        v = fnp.array([1.0, 2.0, 3.0]).at[1].multiply(a[2])
        w = fnp.arange(3.0).at[fnp.argmax(a)].set(a[1])
        return fnp.sum(m * fnp.sin(a)) + fnp.sum(v * a) + fnp.sum(w ** 2)

    def f_np(a):  # the same by hand
        m = np.zeros((2, 3))
        m[0] = a
        m[1, 2] += a[0] ** 2
        v = np.array([1.0, 2.0 * a[2], 3.0])
        w = np.arange(3.0)
        w[np.argmax(a)] = a[1]
        return np.sum(m * np.sin(a)) + np.sum(v * a) + np.sum(w ** 2)
    assert np.isclose(f(x), f_np(x))
    check_grads(f, (x,), order=2)
    g = ft.grad(f)(x)
    assert type(g) is np.ndarray
    xs = np.stack([x, 2 * x])
    np.testing.assert_allclose(ft.vmap(f)(xs), [f_np(x), f_np(2 * x)])
    np.testing.assert_allclose(ft.jit(f)(x), f_np(x))
    out = ft.vmap(lambda a: (a, fnp.zeros(2).at[0].set(1.0)), out_axes=(0, None))(xs)
    assert type(out[1]) is np.ndarray
    np.testing.assert_array_equal(out[1], [1.0, 0.0])
    assert type(ft.jvp(lambda a: fnp.ones(2), (x,), (x,))[0]) is np.ndarray
    z = fnp.zeros(3)  # outside transforms too: a NumPy array, with .at
    assert isinstance(z, np.ndarray) and repr(z) == "array([0., 0., 0.])"
    np.testing.assert_array_equal(z.at[1].set(2.0).at[2].add(1.0), [0.0, 2.0, 1.0])
    np.testing.assert_array_equal(z, 0.0)
    y = np.ones(3)
    ft.grad(lambda a: fnp.sum(fnp.array(y).at[0].set(a[0])))(x)
    np.testing.assert_array_equal(y, np.ones(3))  # the user's array is never written
    a = fnp.asarray(y)  # the same memory (no copy), with .at (jnp.asarray(x).at[...])
    assert np.shares_memory(a, y) and type(a) is not np.ndarray
    np.testing.assert_array_equal(a.at[0].set(5.0), [5.0, 1.0, 1.0])
    np.testing.assert_array_equal(y, np.ones(3))


def test_copies_and_grids_made_by_functrans_numpy_have_at():
    # (JAX code writes jnp.copy(x).at[...]; copy, asarray(copy=True), meshgrid and tri gave
    # plain NumPy arrays without .at)
    x = np.arange(3.0)
    for y in (fnp.copy(x), fnp.asarray(x, copy=True)):
        np.testing.assert_array_equal(y.at[0].set(5.0), [5.0, 1.0, 2.0])
    np.testing.assert_array_equal(fnp.meshgrid(x, x)[0].at[0].set(9.0)[0], [9.0] * 3)
    np.testing.assert_array_equal(fnp.tri(2).at[0, 1].set(7.0), [[1.0, 7.0], [1.0, 1.0]])
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])  # the user's array untouched


def test_an_array_functrans_numpy_made_takes_traced_indices():
    # JAX code indexes a constant table with a traced index: table[i] under vmap/jit/grad
    # (it raised TracerArrayConversionError on the NumPy array)
    table = fnp.asarray([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ft.vmap(lambda i: table[i])(np.array([0, 2])), [1.0, 3.0])
    grid = fnp.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ft.vmap(lambda i: grid[:, i])(np.array([0, 2])),
                                  [[0.0, 3.0], [2.0, 5.0]])
    np.testing.assert_array_equal(ft.jit(lambda i: table[i])(np.int64(1)), 2.0)
    np.testing.assert_array_equal(
        ft.grad(lambda w, i: w * table[i])(1.0, np.int64(2)), 3.0)
    assert table[1] == 2.0 and list(table[0:2]) == [1.0, 2.0]  # NumPy's own indexing
