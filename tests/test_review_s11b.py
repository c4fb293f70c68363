"""Review s11b: array methods, x.at[...], ufunc methods, r_, on tracers; regressions for
what the review found (each test fails on the code before its fix)."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

X = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.6, 1.9], [-0.8, 2.2, 0.1, -1.5]])
A = np.abs(X) + 0.5
X3 = np.arange(24.0).reshape(2, 3, 4) / 7 - 1


# -- array methods ---------------------------------------------------------------------------


def test_reshape_and_transpose_take_numpy_integers():
    # x.reshape(np.int64(12)) tried to iterate the NumPy integer
    got = ft.jit(lambda x: x.reshape(np.int64(12)))(X)
    np.testing.assert_array_equal(got, X.reshape(np.int64(12)))
    got = ft.jit(lambda x: x[0].transpose(np.int64(0)))(X)
    np.testing.assert_array_equal(got, X[0].transpose(np.int64(0)))


@pytest.mark.parametrize("method", ["sort", "partition"])
def test_in_place_sort_refuses_axis_none_as_numpy(method):
    # ndarray.sort(axis=None) is a TypeError; the tracer was silently rebound to a flat array
    def f(x):
        y = x * 1.0
        getattr(y, method)(*((1,) if method == "partition" else ()), axis=None)
        return y
    with pytest.raises(TypeError):
        getattr(X.copy(), method)(*((1,) if method == "partition" else ()), axis=None)
    with pytest.raises(TypeError):
        ft.jit(f)(X)


# (name, call): the same code for a NumPy array and a tracer, forms the older tests lacked
CASES = [
    ("sum_axes_keep", lambda x: x.sum(axis=(0, -1), keepdims=True)),
    ("sum_initial_where",
     lambda x: x.sum(axis=0, initial=1.0, where=np.array([1, 0, 1, 1], bool))),
    ("prod_where", lambda x: x.prod(axis=-1, where=x > 0, initial=2.0)),
    ("mean_where", lambda x: x.mean(axis=0, where=x > 0)),
    ("var_axes", lambda x: x.var(axis=(0, 1), ddof=2, keepdims=True)),
    ("std_where", lambda x: x.std(axis=1, where=x > -1)),
    ("max_where", lambda x: x.max(axis=1, where=x < 1, initial=-10.0)),
    ("cumsum_flat", lambda x: x.cumsum()),
    ("reshape_F", lambda x: x.reshape((2, -1, 3), order="F")),
    ("repeat_array", lambda x: x.repeat(np.array([1, 0, 2]), axis=0)),
    ("clip_arrays",
     lambda x: x.clip(np.array([0.0, -1.0, 0.5, 0.0]), np.array([[1.0], [0.5], [2.0]]))),
    ("take_wrap", lambda x: x.take(np.array([0, 5, -7]), axis=1, mode="wrap")),
    ("var_complex", lambda x: (x * 1j + x).var(axis=1)),
]


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_more_method_forms(name, call):
    np.testing.assert_allclose(ft.jit(call)(X), call(X.copy()), rtol=1e-12)
    check_grads(call, (X,), order=1)
    st = np.stack([X, X[::-1] * 0.5 + 0.1])
    got = ft.vmap(call)(st)
    for i in range(2):
        np.testing.assert_allclose(got[i], call(st[i].copy()), rtol=1e-12)


def test_in_place_methods_through_an_alias_and_a_closure():
    def f(x):
        y = x * 1.0
        z = y

        def g():
            y.sort(axis=0)
        g()
        z.put([0, 0, -1], x[1, :3])
        return y * x

    def f_np(x):
        y = x * 1.0
        y.sort(axis=0)
        y.put([0, 0, -1], x[1, :3])
        return y * x
    np.testing.assert_allclose(ft.jit(f)(X), f_np(X.copy()))
    check_grads(f, (X,), order=2)


# -- x.at[...] ---------------------------------------------------------------------------------


def test_at_apply_repeats_as_jax_and_numpy_ufunc_at():
    # a position indexed twice gets func twice (jnp's .apply, numpy.sin.at); it got it once
    i = np.array([0, -1, 0])
    want = X.copy()
    np.sin.at(want, i)
    got = ft.jit(lambda x: x.at[i].apply(fnp.sin))(X)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    want = X.copy()
    np.sin.at(want, (np.array([1, 1, 1]), np.array([3, 3, 0])))
    got = ft.jit(lambda x: x.at[np.array([1, 1, 1]), np.array([3, 3, 0])].apply(fnp.sin))(X)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    check_grads(ft.jit(lambda x: x.at[i].apply(fnp.sin)), (X,), order=2)
    # unique indices keep func's shape semantics
    got = ft.jit(lambda x: x.at[1:].apply(lambda v: v - v.mean()))(X)
    want = X.copy()
    want[1:] -= want[1:].mean()
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_at_on_integers_computes_in_the_promoted_dtype_as_jax():
    # jnp: int x .at[].add(1.7) adds 1.7 (in float) and casts the result back; functrans
    # truncated each value first (1 + 1 + 1 for [0, 0])
    x = np.array([1, 5, -3, 7])
    got = ft.jit(lambda v: v.at[np.array([0, 0, 2])].add(1.7))(x)
    np.testing.assert_array_equal(got, [4, 5, -1, 7])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(ft.jit(lambda v: v.at[1].multiply(2.5))(x), [1, 12, -3, 7])
    np.testing.assert_array_equal(ft.jit(lambda v: v.at[1].add(-1.7))(x), [1, 3, -3, 7])
    np.testing.assert_array_equal(ft.jit(lambda v: v.at[1].set(2.9))(x), [1, 2, -3, 7])


@pytest.mark.parametrize("op", ["set", "add", "subtract", "multiply", "divide", "min", "max"])
def test_at_matches_jax_on_index_forms(op):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    w = np.arange(12.0).reshape(3, 4)
    for idx in [(slice(1, None), slice(None, None, 2)), (-1, -2), np.array([0, -1, 0]),
                (np.array([0, 2, 0]), np.array([1, 1, 1])), X > 0, (Ellipsis, 1),
                (1, np.array([0, 0, 3]))]:
        def f(x, xp):
            return getattr(x.at[idx], op)(np.array(0.75))
        want = f(jnp.asarray(X), jnp)
        np.testing.assert_allclose(ft.jit(lambda x: f(x, fnp))(X), want, rtol=1e-14)
        gw = jax.grad(lambda x: (f(x, jnp) * jnp.asarray(w)).sum())(jnp.asarray(X))
        gf = ft.grad(lambda x: (f(x, fnp) * w).sum())(X)
        np.testing.assert_allclose(gf, gw, rtol=1e-14)


# -- ufunc methods -----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ["add", "multiply", "maximum", "minimum"])
def test_reduce_with_where_and_initial(fn):
    # add.reduce(a, where=m) raised 'where= is supported for add, multiply, maximum and
    # minimum only'; maximum.reduce of an empty axis with initial= raised
    m = np.array([True, False, True, True])
    want = getattr(np, fn).reduce(A, axis=0, where=m, initial=1.0)
    np.testing.assert_allclose(getattr(fnp, fn).reduce(A, axis=0, where=m, initial=1.0), want)
    np.testing.assert_allclose(
        ft.jit(lambda a: getattr(fnp, fn).reduce(a, axis=0, where=m, initial=1.0))(A), want)
    check_grads(lambda a: getattr(fnp, fn).reduce(a, axis=0, where=m, initial=1.0), (A,),
                order=1)
    np.testing.assert_array_equal(getattr(fnp, fn).reduce(A[:0], axis=0, initial=2.0),
                                  getattr(np, fn).reduce(A[:0], axis=0, initial=2.0))


FOLDS = ["subtract", "divide", "logaddexp", "hypot", "floor_divide", "copysign", "remainder"]


@pytest.mark.parametrize("fn", FOLDS)
def test_fold_reduce_forms_match_numpy(fn):
    u, f = getattr(np, fn), getattr(fnp, fn)
    calls = [lambda g, a: g.reduce(a, axis=-1), lambda g, a: g.reduce(a, axis=1, keepdims=True),
             lambda g, a: g.reduce(a[:0], axis=0, initial=2.0),
             lambda g, a: g.reduce(a, axis=0, where=np.array([1, 0, 1, 1], bool), initial=1.5),
             lambda g, a: g.reduce(a, axis=None), lambda g, a: g.reduce(a[0], axis=None),
             lambda g, a: g.reduce(a, axis=(0, 1), keepdims=True),
             lambda g, a: g.reduce(a[:0], axis=0), lambda g, a: g.accumulate(a, axis=-1)]
    for call in calls:
        try:
            want = call(u, A)
        except (ValueError, TypeError) as e:
            with pytest.raises(type(e)):
                call(f, A)
            with pytest.raises(type(e)):
                ft.jit(lambda a: call(f, a))(A)
            continue
        got = ft.jit(lambda a: call(f, a))(A)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12)
    if fn not in ("floor_divide", "remainder", "copysign"):
        check_grads(lambda a: f.reduce(a, axis=0, where=np.array([1, 0, 1, 1], bool),
                                       initial=1.5), (A,), order=1)
        got = ft.vmap(lambda a: f.reduce(a, axis=-1, keepdims=True))(np.stack([A, A + 1]))
        np.testing.assert_allclose(got[1], u.reduce(A + 1, axis=-1, keepdims=True))


def test_fold_dtypes_follow_numpy_loops():
    i = np.array([[8, 2], [4, 2]])
    for fn in ("divide", "logaddexp"):  # integers reduce in float64
        w = getattr(np, fn).reduce(i, axis=0)
        g = getattr(fnp, fn).reduce(i, axis=0)
        assert g.dtype == w.dtype and np.allclose(g, w)
        assert getattr(fnp, fn).accumulate(i, axis=1).dtype == w.dtype
    # a comparison of floats has no reducing loop (it mixed floats and booleans)
    for call in (lambda m: m.equal.reduce(A, axis=0), lambda m: m.less.accumulate(A)):
        with pytest.raises(TypeError):
            call(np)
        with pytest.raises(TypeError):
            call(fnp)
    b = np.array([[True, False], [True, True]])
    np.testing.assert_array_equal(fnp.equal.reduce(b, axis=0), np.equal.reduce(b, axis=0))
    np.testing.assert_array_equal(fnp.bitwise_or.reduce(i[:0], axis=0),
                                  np.bitwise_or.reduce(i[:0], axis=0))
    np.testing.assert_array_equal(fnp.bitwise_xor.reduce(i, axis=(0, 1)),
                                  np.bitwise_xor.reduce(i, axis=(0, 1)))


def test_fold_reduce_on_every_backend(backend):
    a = backend.asarray(A)
    got = ft.jit(lambda v: fnp.hypot.reduce(v, axis=(0, 1), keepdims=True) +
                 fnp.subtract.reduce(v[:0], axis=0, initial=2.0)[0] +
                 fnp.add.reduce(v, axis=0, where=v[0] > 1.0)[0])(a)
    assert backend.is_own(got)
    want = (np.hypot.reduce(A, axis=(0, 1), keepdims=True) + 2.0 +
            np.add.reduce(A, axis=0, where=A[0] > 1.0)[0])
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12)


# -- r_ ----------------------------------------------------------------------------------------


def test_r_numbers_do_not_upcast_arrays():
    # r_[int8 array, 1] is int8 and r_[float32 array, 1.5] float32 in NumPy (it was
    # int64 / float64)
    a = np.array([1, 2, 3])
    for expr in (lambda r: r[a.astype(np.int8), 1], lambda r: r[a.astype(np.float32), 1.5],
                 lambda r: r[a, 2.5], lambda r: r[True, 2], lambda r: r[0:3, a.astype(np.int8)]):
        w, g = expr(np.r_), expr(fnp.r_)
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    r = np.array([[1, 2, 3]], dtype=np.float32)
    w, g = np.c_[r, 0, 0, r], fnp.c_[r, 0, 0, r]
    assert g.dtype == w.dtype and g.shape == w.shape
    x = np.array([0.3, -1.2, 2.5], dtype=np.float32)
    got = ft.jit(lambda v: fnp.r_[v, 0.5, v[:2]])(x)
    assert got.dtype == np.float32
    check_grads(lambda v: fnp.r_[v, 0.5, v[:2]], (x.astype(np.float64),), order=1)
