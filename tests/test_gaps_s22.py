"""Gaps closed in session 22: transforms' errors naming the transform that was called,
``.at[]`` out-of-range modes, ``unique`` along an axis with ``size``, creation functions
beside another library's array, and missing special functions / jax.numpy helpers."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import IntegerInputError, NonScalarOutputError
from functrans.testing import check_grads


# -- transforms name themselves in their errors ----------------------------------------------

def _double(x):
    return x * 2.0


@pytest.mark.parametrize("call, match", [
    (lambda: ft.value_and_grad(_double)(np.ones(3)), r"^value_and_grad of _double needs a scalar"),
    (lambda: ft.value_and_grad(_double)(np.array(1)), r"^value_and_grad of _double: input 0"),
    (lambda: ft.value_and_grad(_double, argnums=2)(1.0), r"^value_and_grad of _double: argnums"),
    (lambda: ft.value_and_grad(_double, has_aux=True)(1.0),
     r"^value_and_grad of _double with has_aux"),
    (lambda: ft.value_and_grad(lambda x: x > 0)(1.0), r"^value_and_grad of <lambda> needs a float"),
    (lambda: ft.grad(_double)(np.ones(3)), r"^grad of _double needs a scalar"),
    (lambda: ft.hessian(_double)(np.array(1)), r"^hessian of _double: input 0"),
    (lambda: ft.hessian(_double, argnums=2)(1.0), r"^hessian of _double: argnums"),
    (lambda: ft.hessian(_double, has_aux=True)(1.0), r"^hessian of _double with has_aux"),
    (lambda: ft.jacfwd(_double)(np.array(1)), r"^jacfwd of _double: input 0"),
    (lambda: ft.jacrev(_double)(np.array(1)), r"^jacrev of _double: input 0"),
    (lambda: ft.jacrev(lambda x: x > 0)(1.0), r"^jacrev of <lambda>: output 0"),
    (lambda: ft.vjp(_double, np.ones(3))[1](np.ones(2)), r"^vjp: cotangent 0"),
    (lambda: ft.linearize(_double, np.ones(3))[1](np.ones(2)), r"^linearize: tangent 0"),
    (lambda: ft.jvp(_double, (np.ones(3),), (np.ones(2),)), r"^jvp: tangent 0"),
    (lambda: ft.elementwise_grad(_double)(np.array([1, 2])),
     r"^elementwise_grad of _double: input 0"),
    (lambda: ft.elementwise_grad(_double, argnums=2)(np.ones(2)),
     r"^elementwise_grad of _double: argnums"),
])
def test_errors_name_the_transform_called(call, match):
    with pytest.raises((TypeError, ValueError, IntegerInputError, NonScalarOutputError),
                       match=match):
        call()


def test_hessian_still_works_after_naming():
    h = ft.hessian(lambda x: fnp.sum(x ** 3))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, np.diag([6.0, 12.0]))
    h, aux = ft.hessian(lambda x: (fnp.sum(x ** 3), x[0]), has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, np.diag([6.0, 12.0]))
    assert float(aux) == 1.0


# -- x.at[...] out of range: jax.numpy's default (reads clamp, writes drop) ------------------

def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


_AT_OPS = ["get", "set", "add", "multiply", "min", "max"]


def _at(v, i, op, mode=None):
    u = v.at[i]
    kw = {} if mode is None else {"mode": mode}
    if op == "get":
        return u.get(**kw)
    return getattr(u, op)(v[0] * 0 + 2.5, **kw)  # (values on v's library and device)


@pytest.mark.parametrize("how", ["eager", "jit", "vmap"])
@pytest.mark.parametrize("op", _AT_OPS)
def test_at_default_out_of_range_is_jaxs(backend, op, how):
    jax = _jax()
    xn = np.arange(1.0, 13.0).reshape(4, 3)
    x = backend.asarray(xn)
    idx = np.array([0, 5, -1, -9, 2, 2])
    jx = jax.numpy.asarray(xn)
    want = np.asarray(_at(jx, jax.numpy.asarray(idx), op))
    if how == "eager":
        got = ft.jvp(lambda v: _at(v, backend.asarray(idx, "int64"), op), (x,),
                     (fnp.ones_like(x),))[0]
        assert backend.is_own(got)
    elif how == "jit":
        got = ft.jit(lambda v, i: _at(v, i, op))(x, backend.asarray(idx, "int64"))
    else:  # each row of indices mapped: one out of range, one in range per member
        rows = np.array([[7, 1], [-1, -8]])
        xs = backend.asarray(np.stack([xn, -xn]))  # (mapped too: a tracer has .at)
        got = ft.vmap(lambda v, i: _at(v, i, op))(xs, backend.asarray(rows, "int64"))
        want = np.stack([np.asarray(_at(s * jx, jax.numpy.asarray(r), op))
                         for s, r in zip((1.0, -1.0), rows)])
    np.testing.assert_allclose(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(x), xn)  # never written to


@pytest.mark.parametrize("op", _AT_OPS)
def test_at_scalar_index_out_of_range_eager_and_jit(op):
    jax = _jax()
    xn = np.arange(5.0)
    for i in (7, -7, 5, -5, 4):
        want = np.asarray(_at(jax.numpy.asarray(xn), i, op))
        np.testing.assert_allclose(_at(fnp.asarray(xn), i, op), want, err_msg=str(i))
        np.testing.assert_allclose(ft.jit(lambda v, i: _at(v, i, op))(xn, i), want,
                                   err_msg=str(i))


@pytest.mark.parametrize("mode", [None, "clip", "drop", "fill"])
@pytest.mark.parametrize("op", _AT_OPS)
def test_at_modes_match_jax_with_grads(op, mode):
    jax = _jax()
    xn = np.linspace(0.3, 2.1, 12).reshape(4, 3)
    # (JAX differentiates scatter_mul only at unique positions: none repeats for multiply
    # but where 'clip' moves two onto one)
    idx = np.array([0, 5, -1, -9, 1 if op == "multiply" else 3])
    if op == "get" and mode == "fill":
        fun = lambda m, v: v.at[idx].get(mode="fill", fill_value=0.5)  # noqa: E731
    else:
        fun = lambda m, v: _at(v, idx, op, mode)  # noqa: E731
    want_val = np.asarray(fun(jax.numpy, jax.numpy.asarray(xn)))
    # JAX's default read clamps but its derivative drops the clamped reads (its transpose
    # scatters with promise_in_bounds, which XLA drops); ours is the derivative of the
    # clamped read, which JAX's mode='clip' gives
    jfun = (lambda m, v: _at(v, idx, op, "clip")) if op == "get" and mode is None else fun
    if op == "multiply":  # (JAX's derivative needs the promise)
        jfun = lambda m, v: v.at[idx].multiply(2.5, mode=mode, unique_indices=True)  # noqa
    jloss = lambda v: jax.numpy.sum(jax.numpy.sin(jfun(None, v)))  # noqa: E731
    want_grad = (None if (op, mode) == ("multiply", "clip")
                 else np.asarray(jax.grad(jloss)(jax.numpy.asarray(xn))))
    np.testing.assert_allclose(fun(None, fnp.asarray(xn)), want_val)
    g = ft.grad(lambda v: fnp.sum(fnp.sin(fun(None, v))))(xn)
    if want_grad is not None:
        np.testing.assert_allclose(g, want_grad, atol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.grad(lambda v: fnp.sum(fnp.sin(fun(None, v)))))(xn),
                               g, atol=1e-12)
    if op in ("set", "add", "multiply") or (op == "get" and mode == "fill"):
        # (min/max: kinks; NaN fills of 'drop' reads; clamped reads are covered above)
        check_grads(lambda v: fun(None, fnp.asarray(v)), (xn,), order=2)


def test_at_traced_index_grads_jit_vmap():
    # grads through values and operand at traced (jit) indices, some out of range
    xn = np.linspace(-1.0, 1.0, 6)

    def f(x, v, i):
        x = fnp.asarray(x)  # (a plain NumPy array has no .at)
        y = x.at[i].add(v * 3.0)
        return fnp.sum(y ** 2) + fnp.sum(x.at[i].get() * v)
    i = np.array([1, 8, -2, -7])
    v = np.array([0.5, -1.0, 2.0, 0.25])
    g = ft.grad(f, argnums=(0, 1))(xn, v, i)
    gj = ft.jit(ft.grad(f, argnums=(0, 1)))(xn, v, i)
    for a, b in zip(g, gj):
        np.testing.assert_allclose(a, b)
    jax = _jax()
    jf = lambda x, v, i: jax.numpy.sum(x.at[i].add(v * 3.0) ** 2) + jax.numpy.sum(  # noqa
        x.at[i].get(mode="clip") * v)  # (JAX's default read: see the test above)
    jg = jax.grad(jf, argnums=(0, 1))(xn, v, i)
    for a, b in zip(g, jg):
        np.testing.assert_allclose(a, np.asarray(b))
    rows = ft.vmap(lambda i: ft.grad(f)(xn, v, i))(np.stack([i, i[::-1]]))
    np.testing.assert_allclose(rows[1], ft.grad(f)(xn, v, i[::-1]))
    check_grads(lambda x, v: f(x, v, i), (xn, v), order=2)


def test_at_masks_and_promise_in_bounds():
    x = fnp.asarray(np.arange(6.0))
    m = np.array([True, False, True, False, False, True])
    np.testing.assert_array_equal(ft.jit(lambda v: v.at[m].set(-1.0))(np.arange(6.0)),
                                  np.where(m, -1.0, np.arange(6.0)))
    np.testing.assert_array_equal(x.at[m].get(mode="drop"), [0.0, 2.0, 5.0])
    with pytest.raises(IndexError, match="out of bounds"):
        x.at[9].set(1.0, mode="promise_in_bounds")
    with pytest.raises(IndexError, match="out of bounds"):
        ft.jit(lambda v, i: v.at[i].get(mode="promise_in_bounds"))(np.arange(6.0), 9)


# -- unique(x, size=, axis=) on n-d input: jax.numpy's ---------------------------------------

_UNIQUE_CASES = {
    "rows": (np.array([[3., 1.], [0., 2.], [3., 1.], [-1., 5.], [0., 2.]]), 0),
    "cols": (np.array([[3., 1.], [0., 2.], [3., 1.], [-1., 5.], [0., 2.]]).T, 1),
    "3d mid": (np.arange(24.).reshape(2, 3, 4) % 5, 1),
    "3d last": (np.array([[[1., 2., 1.], [0., 0., 0.]], [[5., 3., 5.], [1., 1., 1.]]]), -1),
    "zeros signs": (np.array([[0., 1.], [-0., 1.], [2., 2.]]), 0),
    "ints": (np.array([[2, 3], [2, 3], [1, 9]]), 0),
}


def _jnp_unique(x, axis, **kw):
    jax = _jax()
    r = jax.numpy.unique(jax.numpy.asarray(x), axis=axis, return_index=True,
                         return_inverse=True, return_counts=True, **kw)
    return [np.asarray(a) for a in r]


@pytest.mark.parametrize("how", ["eager", "jit"])
@pytest.mark.parametrize("size", [2, 6])
@pytest.mark.parametrize("case", list(_UNIQUE_CASES))
def test_unique_size_axis_matches_jax(backend, case, size, how):
    xn, axis = _UNIQUE_CASES[case]
    dtype = "int64" if xn.dtype.kind == "i" else "float64"
    x = backend.asarray(xn, dtype)

    def f(v):
        return fnp.unique(v, axis=axis, size=size, return_index=True, return_inverse=True,
                          return_counts=True)
    got = f(x) if how == "eager" else ft.jit(f)(x)
    want = _jnp_unique(xn, axis, size=size)
    for g, w in zip(got, want):
        assert backend.is_own(g)
        np.testing.assert_array_equal(backend.to_numpy(g), w)
    if size > 1:  # fill_value for the missing slices
        v = fnp.unique(x, axis=axis, size=size, fill_value=9)
        np.testing.assert_array_equal(backend.to_numpy(v),
                                      _jnp_unique(xn, axis, size=size, fill_value=9)[0])


def test_unique_size_axis_vmap(backend):
    xn, _ = _UNIQUE_CASES["rows"]
    xs = backend.asarray(np.stack([xn, xn[::-1], xn * 0 + 1.0]))
    got = ft.vmap(lambda v: fnp.unique(v, axis=0, size=4, return_counts=True))(xs)
    for b, member in enumerate(np.stack([xn, xn[::-1], xn * 0 + 1.0])):
        want = _jnp_unique(member, 0, size=4)
        np.testing.assert_array_equal(backend.to_numpy(got[0])[b], want[0])
        np.testing.assert_array_equal(backend.to_numpy(got[1])[b], want[3])


@pytest.mark.parametrize("equal_nan", [True, False])
def test_unique_size_axis_nans_as_jax(equal_nan):
    xn = np.array([[1., np.nan], [1., np.nan], [0., 0.], [-0., 0.]])
    got = fnp.unique(xn, axis=0, size=4, return_index=True, return_inverse=True,
                     return_counts=True, equal_nan=equal_nan)
    for g, w in zip(got, _jnp_unique(xn, 0, size=4, equal_nan=equal_nan)):
        np.testing.assert_array_equal(g, w)
    # without size, NumPy's rule: NaN slices never alike
    np.testing.assert_array_equal(fnp.unique(xn, axis=0, return_counts=True)[1],
                                  np.unique(xn, axis=0, return_counts=True)[1])


def test_unique_size_axis_other_dtypes_and_edges():
    jax = _jax()
    xb = np.array([[True, False], [True, False], [False, False]])
    np.testing.assert_array_equal(fnp.unique(xb, axis=0, size=3),
                                  jax.numpy.unique(xb, axis=0, size=3))
    xc = np.array([[1 + 1j, 2], [1 + 1j, 2], [1 - 1j, 0]])
    for g, w in zip(fnp.unique(xc, axis=0, size=3, return_counts=True),
                    jax.numpy.unique(xc, axis=0, size=3, return_counts=True)):
        np.testing.assert_array_equal(g, w)
    # slices without elements: all alike (JAX's result ignores size there)
    v, c = fnp.unique(np.zeros((3, 0)), axis=0, size=2, return_counts=True)
    assert v.shape == (2, 0) and c.tolist() == [3, 0]
    # no slices: fill_value needed, as in JAX
    with pytest.raises(ValueError, match="fill_value"):
        fnp.unique(np.zeros((0, 2)), axis=0, size=2)
    v = fnp.unique(np.zeros((0, 2)), axis=0, size=2, fill_value=3.0)
    np.testing.assert_array_equal(v, jax.numpy.unique(np.zeros((0, 2)), axis=0, size=2,
                                                      fill_value=3.0))
    with pytest.raises(ValueError, match="size must be a positive"):
        fnp.unique(xb, axis=0, size=0)


def test_unique_size_axis_grads():
    jax = _jax()
    xn = np.array([[3., 1.], [0., 2.], [3., 1.], [-1., 5.], [0., 2.]]) * 0.3

    def f(m, x, **kw):
        return m.sum(m.sin(m.unique(x, axis=0, size=5, **kw)) * m.arange(10.0).reshape(5, 2))
    for kw in ({}, {"fill_value": 0.5}):
        want = np.asarray(jax.grad(lambda x: f(jax.numpy, x, **kw))(xn))
        np.testing.assert_allclose(ft.grad(lambda x: f(fnp, x, **kw))(xn), want)
        np.testing.assert_allclose(ft.jit(ft.grad(lambda x: f(fnp, x, **kw)))(xn), want)
    # distinct slices (a repeat splits when perturbed): finite differences hold
    xd = xn[[0, 1, 3]]
    check_grads(lambda x: fnp.unique(x, axis=0, size=5, fill_value=0.5), (xd,), order=2)
    check_grads(lambda x: fnp.unique(x, axis=1, size=4), (xd.T,), order=2)
    rows = ft.vmap(ft.grad(lambda x: f(fnp, x)))(np.stack([xn, xn[::-1]]))
    np.testing.assert_allclose(rows[1], ft.grad(lambda x: f(fnp, x))(xn[::-1]))


# -- scipy.special.iv / ive (modified Bessel functions of the first kind, real order) --------

import scipy.special as _sc  # noqa: E402

import functrans.scipy.special as fsp  # noqa: E402
from functrans.backends import special_generic as _sg  # noqa: E402


def _iv_grid():
    v = np.concatenate([np.linspace(0.0, 40.0, 41), [0.3, 2.7, 10.1, 100.5, 250.0],
                        -np.array([0.3, 0.7, 1.3, 2.6, 5.25, 10.4, 1.0, 2.0, 7.0])])
    x = np.exp(np.linspace(-6.0, 6.6, 40))
    V, X = np.meshgrid(v, x)
    return V.ravel(), X.ravel()


def test_ive_generic_matches_scipy():
    # the generic version (torch, array-api-strict, CuPy) on NumPy arrays, against SciPy
    import functrans.backends as fb
    V, X = _iv_grid()
    V = np.concatenate([V, [0.0, 1.0, 3.0, -3.0, 2.5, 0.0, -0.5, 4.0]])
    X = np.concatenate([X, [-2.0, -0.5, -7.0, -60.0, 0.0, 0.0, 0.0, 650.0]])
    got = _sg.ive(fb.get_backend("numpy"), V, X)
    want = _sc.ive(V, X)
    ok = np.isfinite(want) & (want != 0)
    np.testing.assert_allclose(got[ok], want[ok], rtol=5e-13, atol=0)
    assert got[-2] == np.inf and got[-3] == 1.0 and got[-4] == 0.0  # at 0 (SciPy: nan at -0.5)
    # past the series' reach with large orders: Debye's expansion
    V, X = np.meshgrid([24.6, 30.0, 100.0, 1000.0, -30.5, -100.3], [601.0, 900.0, 5e3, 1e6])
    V, X = V.ravel(), X.ravel()
    got, want = _sg.ive(fb.get_backend("numpy"), V, X), _sc.ive(V, X)
    ok = want > 0
    assert ok.sum() > 20
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=0)


_IV_EDGES_V = np.array([0, 1, 2.5, -0.5, -1.3, -2, 7, 0.3, np.inf, -np.inf, np.nan, 1, 0.5, 3,
                        -3, 4, 0.0])
_IV_EDGES_X = np.array([0, 0, 0, 0, 0, 0, 3, -3, 2, -2, 1, np.inf, -1, -2, -2.5, -np.inf,
                        -40.0])


@pytest.mark.parametrize("name", ["iv", "ive"])
def test_iv_ive_values_and_edges_on_every_backend(backend, name):
    V, X = _iv_grid()
    V, X = np.concatenate([V, _IV_EDGES_V]), np.concatenate([X, _IV_EDGES_X])
    got = backend.to_numpy(getattr(fsp, name)(backend.asarray(V), backend.asarray(X)))
    want = getattr(_sc, name)(V, X)
    if name == "ive":  # SciPy's ive gives nan where its iv has a value: ours gives it
        fix = ((X == 0) & (V < 0) & (V != np.floor(V))) | (np.isinf(V) & np.isfinite(X))
        want = np.where(fix, _sc.iv(V, X), want)
    np.testing.assert_allclose(got, want, rtol=5e-13, atol=1e-300, equal_nan=True)


def test_iv_dtypes_python_numbers_and_transforms():
    assert fsp.iv(np.float32(1), np.float32(2)).dtype == np.float32
    assert fsp.ive(np.ones(2, np.float32), 2.0).dtype == np.float32  # (SciPy's too)
    assert fsp.iv(1, np.arange(3)).dtype == np.float64
    np.testing.assert_allclose(fsp.iv(1.5, 2.0), _sc.iv(1.5, 2.0), rtol=1e-14)
    x = np.array([0.5, 2.0, 9.0])
    np.testing.assert_allclose(ft.jit(fsp.iv)(1.5, x), _sc.iv(1.5, x), rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(lambda v: fsp.ive(v, x))(np.array([0.0, 2.5])),
                               _sc.ive(np.array([[0.0], [2.5]]), x), rtol=1e-14)
    with pytest.raises(TypeError, match="complex"):
        fsp.iv(1.0, 1j)


def test_iv_ive_derivatives():
    x = np.linspace(-3.0, 3.0, 7)
    g = ft.grad(lambda x: fnp.sum(fsp.iv(2.0, x)))(x)
    np.testing.assert_allclose(g, (_sc.iv(1, x) + _sc.iv(3, x)) / 2, rtol=1e-13)
    g = ft.grad(lambda x: fnp.sum(fsp.ive(1.0, x)))(x)
    want = (_sc.ive(0, x) + _sc.ive(2, x)) / 2 - np.sign(x) * _sc.ive(1, x)
    np.testing.assert_allclose(g, want, rtol=1e-13, atol=1e-300)
    # at 0: I_1'(0) = 1/2, I_1''(0) = 0, I_0''(0) = 1/2; ive(0, x)'s corner: the average, 0
    assert ft.grad(lambda x: fsp.iv(1.0, x))(0.0) == 0.5
    assert ft.grad(ft.grad(lambda x: fsp.iv(1.0, x)))(0.0) == 0.0
    assert ft.grad(ft.grad(lambda x: fsp.iv(0.0, x)))(0.0) == 0.5
    assert ft.grad(lambda x: fsp.ive(0.0, x))(0.0) == 0.0
    for v in (0.0, 1.0, 2.5, -1.3, 12.0):
        check_grads(lambda x: fsp.iv(v, x), (np.array([0.4, 1.7, 6.0]),), order=2)
        check_grads(lambda x: fsp.ive(v, x), (np.array([0.4, 1.7, 60.0]),), order=2)
    check_grads(lambda x: fsp.iv(3.0, x), (np.array([-2.5, -0.3]),), order=2)
    with pytest.raises(NotImplementedError, match="with respect to the parameter v"):
        ft.grad(lambda v: fsp.iv(v, 2.0))(1.0)


def test_iv_derivatives_generic(backend):
    x = backend.asarray([0.4, 1.7, 6.0])
    check_grads(lambda x: fsp.iv(1.5, x), (x,), order=1)
    check_grads(lambda x: fsp.ive(2.0, -x), (x,), order=1)


# -- complex erf / erfc (SciPy's; JAX refuses complex input) ----------------------------------

def _complex_grid():
    re, im = np.meshgrid(np.concatenate([np.linspace(-6, 6, 25), [1e-8, -1e-12, 0.0]]),
                         np.concatenate([np.linspace(-5, 5, 21), [1e-9, 0.0]]))
    return (re + 1j * im).ravel()


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_complex_erf_matches_scipy(backend, name):
    z = _complex_grid()
    got = backend.to_numpy(getattr(fsp, name)(backend.asarray(z, "complex128")))
    want = getattr(_sc, name)(z)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, want, rtol=2e-14, atol=0)
    # Python complex numbers and complex64
    np.testing.assert_allclose(getattr(fsp, name)(0.5 - 2j), getattr(_sc, name)(0.5 - 2j),
                               rtol=1e-14)
    got32 = getattr(fsp, name)(backend.asarray(z[:40], "complex64"))
    assert backend.to_numpy(got32).dtype == np.complex64


def test_complex_erf_derivatives():
    z = np.array([0.3 + 0.2j, 2.0 - 1.0j, -1.5 + 0.5j, 0.9j, -3.0 - 0.1j])
    slope = 2.0 / np.sqrt(np.pi) * np.exp(-z ** 2)
    for name, sign in (("erf", 1.0), ("erfc", -1.0)):
        f = getattr(fsp, name)
        _, t = ft.jvp(f, (z,), (np.ones_like(z),))
        np.testing.assert_allclose(t, sign * slope, rtol=1e-13)
        # second order: erf'' = -2 z erf'
        _, t2 = ft.jvp(lambda w: ft.jvp(f, (w,), (fnp.ones_like(w),))[1], (z,),
                       (np.ones_like(z),))
        np.testing.assert_allclose(t2, sign * -2.0 * z * slope, rtol=1e-12)
        g = ft.grad(lambda w: f(w), holomorphic=True)(complex(z[1]))
        np.testing.assert_allclose(g, sign * slope[1], rtol=1e-13)
    # real input keeps the real path (and its dtype)
    assert fsp.erf(np.array([0.5])).dtype == np.float64


# -- creation functions beside another library's array ----------------------------------------

from functrans.errors import BackendMismatchError  # noqa: E402


def test_created_numpy_beside_torch_says_what_to_do():
    torch = pytest.importorskip("torch")
    n, x = torch.tensor(3), torch.arange(5.0)
    # outside a transform a creation function makes NumPy arrays (the default backend); the
    # operators said "not supported between 'AtArray' and 'Tensor'" (== a silent False)
    for f in (lambda: fnp.arange(5) < n, lambda: n > fnp.arange(5),
              lambda: fnp.arange(5) == n, lambda: fnp.zeros(5) + x,
              lambda: fnp.asarray(2.0) ** x, lambda: fnp.where(fnp.arange(5) < n, x, 0.0)):
        # (x * fnp.ones(5), the tensor first, is torch's own operator, which converts)
        with pytest.raises(BackendMismatchError,
                           match=r"like=x .*default_backend\('torch'\)"):
            f()
    # the fixes it names
    np.testing.assert_array_equal((fnp.arange(5, like=n) < n).numpy(), [1, 1, 1, 0, 0])
    np.testing.assert_array_equal((fnp.arange(5, device=n.device) < n).numpy(),
                                  [1, 1, 1, 0, 0])
    with ft.default_backend("torch"):
        assert isinstance(fnp.arange(5) < n, torch.Tensor)
    # inside a transform creation follows the transformed values' library (as before)
    g = ft.grad(lambda x: fnp.sum(fnp.where(fnp.arange(5) < n, x, 0.0)))(x)
    np.testing.assert_array_equal(g.numpy(), [1, 1, 1, 0, 0])
    # NumPy's own operators are unchanged on these arrays
    a = fnp.arange(3)
    np.testing.assert_array_equal(a + np.ones(3, int), [1, 2, 3])
    np.testing.assert_array_equal(2 - a, [2, 1, 0])
    assert (a == a).all() and int(a @ a) == 5


@pytest.mark.parametrize("make", [
    lambda like: fnp.arange(4, like=like), lambda like: fnp.zeros((2, 2), like=like),
    lambda like: fnp.ones(3, like=like), lambda like: fnp.full(2, 1.5, like=like),
    lambda like: fnp.eye(2, like=like), lambda like: fnp.empty(3, like=like)])
def test_creation_like_places_on_its_library_and_device(backend, make):
    x = backend.asarray([1.0, 2.0])
    out = make(x)
    assert backend.is_own(out)  # (array-api-strict's second device included)
    # a tracer's like: its values' library and device
    _, made = ft.grad(lambda v: (fnp.sum(v), make(v)), has_aux=True)(x)
    assert backend.is_own(made)
    # a like that is no array: NumPy's TypeError
    with pytest.raises(TypeError, match="like= must be an array"):
        make(2.0)
