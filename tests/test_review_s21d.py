"""Review s21d: leftovers of the review against JAX 0.10.2 (x64) and NumPy 2.4.

Fixed (each test failed before its fix):

- ``numpy.nanmax``/``nanmin`` refused ``initial=`` and ``where=`` (NumPy takes both): now
  NumPy's ``fmax``/``fmin`` reduction: NaNs (in ``a`` or a NaN ``initial``) and the entries
  ``where`` leaves out are skipped, ``initial`` is the result of an empty or all-skipped
  slice (NaN only when nothing at all is left), ``where`` without ``initial`` is NumPy's
  ValueError. Skipped entries get a zero derivative; ties share it as ``max``/``min`` with
  ``initial``/``where`` do. (No all-NaN RuntimeWarning, as before and as ``nanmean``.)
- ``nn.logsumexp``/``scipy.special.logsumexp`` of a negative sum without ``return_sign``:
  the value was nan but the derivative in ``a`` and ``b`` finite (log's ``1 / s`` on the
  negative sum, the derivative of ``log|s|``), with NumPy's "invalid value in log" warning;
  now nan with a zero derivative, JAX 0.10.2's (its ``where(sign < 0, nan, out)``). Kept
  JAX's rather than nan: a nan value already shows, and a zero keeps the other slices'
  gradients usable; with ``return_sign`` the derivative of ``log|s|`` is unchanged.
- ``random.fold_in(key, data)`` took a Python int modulo ``2**32`` (``fold_in(k, 2**32)`` was
  ``fold_in(k, 0)``, ``-1`` was ``2**32 - 1``); JAX 0.10.2 raises OverflowError ("out of
  bounds for uint32") for a Python int outside ``[0, 2**32)`` and wraps only arrays (its
  ``uint32`` conversion), which functrans now does too. NumPy integer scalars (wrapped, as
  in JAX) are taken on every library, and Python bools as 0/1 (JAX takes them; they were a
  TypeError).
- ``lax.top_k`` ordered ``-0.0`` and ``0.0`` as equal (index order) and every NaN first;
  JAX 0.10.2's top_k uses the IEEE total order: ``0.0`` before ``-0.0``, a NaN without the
  sign bit above ``inf``, one with it below ``-inf`` (last). Values and indices now match
  JAX's (checked on random mixes of signed zeros, infinities and signed NaNs, float32 and
  float64, any axis); NaNs of one sign tie (JAX orders them by payload). ``lax.sort`` is
  JAX's already (``-0.0 == 0.0``, stable; all NaNs last) and unchanged.
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

NAN = np.nan


def _fd(f, x, t, h=1e-6):
    return (f(x + h * t) - f(x - h * t)) / (2 * h)


# -- nanmax / nanmin with initial= and where= ------------------------------------------------

_A = np.array([[NAN, 1.0, 3.0, -2.0],
               [NAN, NAN, 2.0, 0.5],
               [NAN, NAN, NAN, NAN]])

_NAN_EXTREME_CASES = [
    dict(axis=1, initial=2.5),
    dict(axis=0, initial=-1.0),
    dict(initial=10.0),
    dict(axis=1, initial=-5.0, where=[False, True, False, True]),
    dict(axis=1, initial=-5.0, where=[[True], [False], [True]], keepdims=True),
    dict(axis=0, initial=NAN),  # a NaN initial is skipped: NaN only for an all-NaN column
    dict(axis=1, initial=NAN, where=[True, True, False, True]),
    dict(initial=NAN, where=False),
]


@pytest.mark.parametrize("name", ["nanmax", "nanmin"])
@pytest.mark.parametrize("kw", _NAN_EXTREME_CASES)
def test_nanmax_nanmin_initial_where_values(backend, name, kw):
    with _no_warn():
        want = getattr(np, name)(_A, **kw)
    kw2 = dict(kw)
    if "where" in kw2 and type(kw2["where"]) is not bool:
        kw2["where"] = backend.asarray(np.asarray(kw2["where"]), dtype="bool")
    got = getattr(fnp, name)(backend.asarray(_A), **kw2)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    if "where" not in kw:  # under jit and vmap too
        got = ft.jit(lambda a: getattr(fnp, name)(a, **kw))(backend.asarray(_A))
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    if kw.get("axis") == 1 and not kw.get("keepdims"):
        w = kw2.get("where")
        got = ft.vmap(lambda r: getattr(fnp, name)(r, initial=kw["initial"], where=w))(
            backend.asarray(_A))
        np.testing.assert_array_equal(backend.to_numpy(got), want)


class _no_warn:
    """NumPy's all-NaN RuntimeWarning silenced (functrans does not warn)."""

    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


@pytest.mark.parametrize("name", ["nanmax", "nanmin"])
def test_nanmax_nanmin_empty_and_errors(backend, name):
    empty = backend.asarray(np.zeros((0, 3)))
    for init in (1.5, NAN):
        with _no_warn():
            want = getattr(np, name)(np.zeros((0, 3)), axis=0, initial=init)
        got = getattr(fnp, name)(empty, axis=0, initial=init)
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    with pytest.raises(ValueError, match=f"{name}: where= needs initial="):
        getattr(fnp, name)(backend.asarray(_A), axis=1, where=backend.asarray(
            np.array([True, False, True, True]), dtype="bool"))
    # integers: a plain max/min with initial and where, as NumPy
    ints = np.array([[4, 1, 7], [2, 9, 3]])
    want = getattr(np, name)(ints, axis=1, initial=5, where=[True, False, True])
    got = getattr(fnp, name)(backend.asarray(ints, dtype="int64"), axis=1, initial=5,
                             where=backend.asarray(np.array([True, False, True]), dtype="bool"))
    np.testing.assert_array_equal(backend.to_numpy(got), want)


@pytest.mark.parametrize("name", ["nanmax", "nanmin"])
def test_nanmax_nanmin_initial_where_derivatives(backend, name):
    sign = 1.0 if name == "nanmax" else -1.0
    x = sign * np.array([[NAN, 1.0, 3.0, 0.5, 3.5],
                         [2.0, -1.0, 0.25, NAN, 1.5]])
    w = np.array([True, True, True, True, False])  # the largest (3.5) left out
    wb = backend.asarray(w, dtype="bool")

    def f(a, init=sign * 0.0):
        return fnp.sum(getattr(fnp, name)(a, axis=1, initial=init, where=wb))

    g = backend.to_numpy(ft.grad(f)(backend.asarray(x)))
    want = np.zeros_like(x)
    want[0, 2] = 1.0   # 3 (NaN and the left-out 3.5 get 0)
    want[1, 0] = 1.0   # 2
    np.testing.assert_array_equal(g, want)
    # jvp against central differences on the finite entries, jit and vmap alike
    t = np.where(np.isnan(x), 0.0, np.arange(1.0, 11.0).reshape(2, 5))
    _, jv = ft.jvp(f, (backend.asarray(x),), (backend.asarray(t),))
    xf = np.where(np.isnan(x), 0.0, x)
    fd = _fd(lambda a: np.sum(getattr(np, name)(np.where(np.isnan(x), NAN, a), axis=1,
                                                initial=sign * 0.0, where=w)), xf, t)
    np.testing.assert_allclose(float(backend.to_numpy(jv)), fd, rtol=1e-8)
    gj = backend.to_numpy(ft.jit(ft.grad(f))(backend.asarray(x)))
    np.testing.assert_array_equal(gj, want)
    gv = backend.to_numpy(ft.vmap(ft.grad(lambda r: getattr(fnp, name)(
        r, initial=sign * 0.0, where=wb)))(backend.asarray(x)))
    np.testing.assert_array_equal(gv, want)
    # the initial wins a slice: all of the derivative goes to it
    gi = ft.grad(lambda i: f(backend.asarray(x), i))(backend.asarray(sign * 10.0))
    np.testing.assert_array_equal(backend.to_numpy(gi), 2.0)
    # ties share the derivative exactly as max/min with initial= and where= do
    xt = sign * np.array([-1.0, 1.0, 3.0, 3.0, 0.5])
    xn = xt.copy()
    xn[0] = NAN
    wt = backend.asarray(np.array([False, True, True, True, False]), dtype="bool")
    plain = "max" if name == "nanmax" else "min"
    for init in (sign * 3.0, sign * 0.0):
        gn = ft.grad(lambda a: getattr(fnp, name)(a, initial=init, where=wt))(
            backend.asarray(xn))
        gp = ft.grad(lambda a: getattr(fnp, plain)(a, initial=init, where=wt))(
            backend.asarray(xt))
        np.testing.assert_array_equal(backend.to_numpy(gn), backend.to_numpy(gp))
    # a NaN initial carries no derivative (the kept maximum does), and nothing kept: NaN
    gnan = backend.to_numpy(ft.grad(lambda a: getattr(fnp, name)(a, initial=NAN, where=wt))(
        backend.asarray(xn)))
    np.testing.assert_array_equal(gnan, [0.0, 0.0, 0.5, 0.5, 0.0])
    assert math.isnan(float(backend.to_numpy(getattr(fnp, name)(
        backend.asarray(xn), initial=NAN, where=False))))


# -- logsumexp of a negative sum -------------------------------------------------------------


@pytest.mark.parametrize("mod", ["nn", "scipy"])
def test_logsumexp_negative_sum_nan_without_derivative(backend, mod):
    import functrans.nn as fnn
    import functrans.scipy.special as fsp
    lse = fnn.logsumexp if mod == "nn" else fsp.logsumexp
    a = np.array([[1.0, 2.0, 0.5], [1.0, 2.0, 0.5]])
    b = np.array([[1.0, -2.0, 0.5], [1.0, 2.0, 0.5]])  # row 0 sums to a negative number
    A, B = backend.asarray(a), backend.asarray(b)
    with _no_warn():
        out = backend.to_numpy(lse(A, axis=1, b=B))
    assert math.isnan(out[0])
    np.testing.assert_allclose(out[1], np.log(np.sum(b[1] * np.exp(a[1]))), rtol=1e-15)
    # JAX 0.10.2: nan with a zero derivative in a and b (was log's 1 / s: finite)
    ga, gb = ft.grad(lambda a, b: fnp.sum(lse(a, axis=1, b=b)), argnums=(0, 1))(A, B)
    ga, gb = backend.to_numpy(ga), backend.to_numpy(gb)
    np.testing.assert_array_equal(ga[0], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)
    s1 = np.sum(b[1] * np.exp(a[1]))
    np.testing.assert_allclose(ga[1], b[1] * np.exp(a[1]) / s1, rtol=1e-14)
    np.testing.assert_allclose(gb[1], np.exp(a[1]) / s1, rtol=1e-14)
    _, t = ft.jvp(lambda x: lse(x, b=B[0, ...]), (A[0, ...],), (backend.asarray(np.ones(3)),))
    assert float(backend.to_numpy(t)) == 0.0
    gv = backend.to_numpy(ft.vmap(ft.grad(lambda x, w: lse(x, b=w)))(A, B))
    np.testing.assert_array_equal(gv, np.stack([np.zeros(3), ga[1]]))
    # with return_sign the derivative of log|s| stays
    g = backend.to_numpy(ft.grad(lambda x: lse(x, b=B[0, ...], return_sign=True)[0])(A[0, ...]))
    np.testing.assert_allclose(g, b[0] * np.exp(a[0]) / np.sum(b[0] * np.exp(a[0])),
                               rtol=1e-14)


# -- random.fold_in's data --------------------------------------------------------------------


def test_fold_in_data_out_of_uint32_range(backend):
    import functrans.random as fr
    key = fr.key(backend.asarray(np.array(3), dtype="int64"))
    raw = fr.PRNGKey(backend.asarray(np.array(3), dtype="int64"))

    def words(k):
        return backend.to_numpy(fr.key_data(k))

    # JAX 0.10.2: a Python int must fit uint32 (OverflowError); was taken modulo 2**32
    for bad in (2**32, -1, -2**31, 2**64):
        for k in (key, raw):
            with pytest.raises(OverflowError, match="fold_in: data=.* out of bounds for uint32"):
                fr.fold_in(k, bad)
    top = words(fr.fold_in(key, 2**32 - 1))
    assert not np.array_equal(top, words(fr.fold_in(key, 0)))
    # arrays (NumPy scalars included) are converted as JAX's: the value modulo 2**32
    cases = [(np.int64(2**32), 0), (np.int64(-1), 2**32 - 1), (np.int8(-1), 2**32 - 1),
             (np.uint32(5), 5), (np.uint64(2**32 + 7), 7)]
    if backend.name == "numpy":
        cases.append((np.array(-1, dtype=np.int32), 2**32 - 1))
    for arr, same in cases:
        np.testing.assert_array_equal(words(fr.fold_in(key, arr)),
                                      words(fr.fold_in(key, same)))
    d = backend.asarray(np.array(-1), dtype="int64")
    np.testing.assert_array_equal(words(fr.fold_in(key, d)), top)
    np.testing.assert_array_equal(backend.to_numpy(fr.fold_in(raw, True)),
                                  backend.to_numpy(fr.fold_in(raw, 1)))


# -- lax.top_k's order of -0.0, 0.0 and signed NaNs -------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_top_k_total_order_of_zeros_and_nans(backend, dtype):
    import functrans.lax as fl
    # JAX 0.10.2's top_k (values and indices): -nan < -inf < -1 < -0.0 < 0.0 < 1 < inf < nan,
    # equal entries in index order (lax.sort, by contrast, keeps -0.0 == 0.0 and all NaNs last,
    # which functrans's sort does too)
    x = np.array([0.0, -0.0, 1.0, -0.0, 0.0, NAN, -1.0, -NAN, np.inf, -np.inf, NAN, -NAN])
    assert np.signbit(x[7]) and not np.signbit(x[5])
    want_idx = np.array([5, 10, 8, 2, 0, 4, 1, 3, 6, 9, 7, 11])
    X = backend.asarray(x, dtype=dtype)
    for k in (len(x), 4, 6, 0):
        v, i = fl.top_k(X, k)
        v, i = backend.to_numpy(v), backend.to_numpy(i)
        np.testing.assert_array_equal(i, want_idx[:k])
        assert i.dtype == np.int32
        np.testing.assert_array_equal(np.signbit(v), np.signbit(x[want_idx[:k]]))
        np.testing.assert_array_equal(v, x[want_idx[:k]].astype(dtype))
    # along another axis, under vmap and jit, with the derivative following the indices
    z = np.array([[-0.0, 0.0, -0.0], [0.0, -0.0, 0.0]])
    Z = backend.asarray(z, dtype=dtype)
    np.testing.assert_array_equal(backend.to_numpy(fl.top_k(Z, 1, axis=0)[1]), [[1, 0, 1]])
    np.testing.assert_array_equal(backend.to_numpy(ft.vmap(lambda r: fl.top_k(r, 2)[1])(Z)),
                                  [[1, 0], [0, 2]])
    np.testing.assert_array_equal(backend.to_numpy(ft.jit(lambda r: fl.top_k(r, 2)[1])(Z)),
                                  [[1, 0], [0, 2]])
    g = backend.to_numpy(ft.grad(lambda r: fnp.sum(fl.top_k(r, 1)[0]))(
        backend.asarray(z[0], dtype=dtype)))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
    # lax.sort unchanged: -0.0 and 0.0 stay in input order, NaNs last
    s = backend.to_numpy(fl.sort(backend.asarray(x[:8], dtype=dtype)))
    np.testing.assert_array_equal(np.signbit(s), [True, False, True, True, False, False,
                                                  False, True])
