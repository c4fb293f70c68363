"""functrans.scipy.stats.norm against SciPy, on every backend: values (float64, float32 and
integer input, broadcasting, edge values and far tails), dtypes, errors, vmap, derivatives in
x, loc and scale, and the table's completeness."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy
import functrans.scipy.stats as fst

st = pytest.importorskip("scipy.stats")

METHODS = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]
QUANTILE = {"ppf", "isf"}


def _np(backend, out):
    assert backend.is_own(out), type(out)
    return backend.to_numpy(out)


def _compare(out, ref, rtol=1e-13, atol=0.0):
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol, equal_nan=True)
    assert np.array_equal(np.isnan(out), np.isnan(ref))
    inf = np.isinf(ref)
    assert np.array_equal(out[inf], ref[inf])


def test_every_method_is_in_the_table():
    from .test_namespace_grads import TABLE
    tested = {s.name for s in TABLE}
    assert fst.__all__ == ["norm"]
    public = {n for n in dir(fst.norm) if not n.startswith("_") and callable(getattr(fst.norm, n))}
    assert public == set(METHODS)
    missing = sorted(n for n in public if "stats.norm." + n not in tested)
    assert not missing, f"functrans.scipy.stats.norm methods missing from TABLE: {missing}"


def test_submodule_attribute():
    assert functrans.scipy.stats is fst


def _data(method, rng, shape):
    if method in QUANTILE:
        return rng.uniform(0.0, 1.0, shape)
    return rng.normal(size=shape) * 4.0


SHAPES = [((), (), ()), ((7,), (), ()), ((7,), (7,), (7,)), ((2, 1, 5), (3, 1), (5,)),
          ((4,), (3, 1), (1,))]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_and_broadcasting(backend, method, dtype):
    rng = np.random.default_rng(0)
    f, ref_f = getattr(fst.norm, method), getattr(st.norm, method)
    for sx, sl, ss in SHAPES:
        x = _data(method, rng, sx).astype(dtype)
        loc = rng.normal(size=sl).astype(dtype)
        scale = rng.uniform(0.2, 3.0, ss).astype(dtype)
        out = _np(backend, f(backend.asarray(x, dtype), backend.asarray(loc, dtype),
                             backend.asarray(scale, dtype)))
        # float32 input is computed in float64 here (SciPy standardizes in float32 first):
        # the reference is SciPy's on the same values in float64, and SciPy's own float32
        # result agrees to float32 rounding
        x64, loc64, scale64 = (v.astype(np.float64) for v in (x, loc, scale))
        ref = ref_f(x64, loc64, scale64)
        assert out.shape == np.shape(ref)
        assert out.dtype == np.float64  # as SciPy, whatever the input's dtype
        _compare(out, ref, rtol=1e-12, atol=1e-300)
        if dtype == "float32":
            _compare(out, ref_f(x, loc, scale), rtol=2e-5, atol=1e-6)
        # loc and scale by default, and as Python numbers
        out = _np(backend, f(backend.asarray(x, dtype)))
        _compare(out, ref_f(x64), rtol=1e-12, atol=1e-300)
        out = _np(backend, f(backend.asarray(x, dtype), 1.5, 2))
        _compare(out, ref_f(x64, 1.5, 2), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("method", METHODS)
def test_edge_values(backend, method):
    """Infinities, nan, non-positive and infinite scales, infinite locations, as SciPy."""
    special = [0.0, 1.0, 0.5, -1.0, np.inf, -np.inf, np.nan, 1e-300, 1.5]
    x = np.array(special)[:, None, None]
    loc = np.array([0.0, np.inf, -np.inf, np.nan, 2.0])[None, :, None]
    scale = np.array([1.0, 0.0, -1.0, np.inf, np.nan, 1e-3])[None, None, :]
    out = _np(backend, getattr(fst.norm, method)(
        backend.asarray(x), backend.asarray(loc), backend.asarray(scale)))
    with np.errstate(all="ignore"):
        ref = getattr(st.norm, method)(x, loc, scale)
    _compare(out, ref)


def test_tails(backend):
    """The tails are accurate as SciPy's (no cancellation, no underflow to 0 or -inf)."""
    x = np.array([-40.0, -37.0, -20.0, -9.0, 9.0, 20.0, 37.0, 40.0, 1e3])
    xb = backend.asarray(x)
    for m in ("logcdf", "logsf", "cdf", "sf"):
        out = _np(backend, getattr(fst.norm, m)(xb))
        np.testing.assert_allclose(out, getattr(st.norm, m)(x), rtol=1e-13, atol=0)
    assert abs(_np(backend, fst.norm.logcdf(backend.asarray(-40.0))) + 804.608442013754) < 1e-9
    assert 0 < _np(backend, fst.norm.sf(backend.asarray(37.0))) < 1e-299
    assert _np(backend, fst.norm.logcdf(backend.asarray(20.0))) < 0  # -2.75e-89, not 0
    q = np.array([1e-300, 1e-20, 1e-8, 1 - 1e-12])
    for m in ("ppf", "isf"):
        out = _np(backend, getattr(fst.norm, m)(backend.asarray(q), 3.0, 0.5))
        np.testing.assert_allclose(out, getattr(st.norm, m)(q, 3.0, 0.5), rtol=1e-12)
    # scale in the tails
    out = _np(backend, fst.norm.logpdf(backend.asarray(1e150), 0.0, 1e-10))
    np.testing.assert_allclose(out, st.norm.logpdf(1e150, 0.0, 1e-10), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "int64"])
def test_integer_input(backend, dtype):
    x = np.array([0, 1], dtype=dtype)
    for m in ("logpdf", "cdf", "ppf"):
        out = _np(backend, getattr(fst.norm, m)(backend.asarray(x, dtype), 0, 1))
        assert out.dtype == np.float64
        _compare(out, getattr(st.norm, m)(x, 0, 1))


def test_python_numbers_and_lists():
    for m in METHODS:
        v = 0.3 if m in QUANTILE else 1.2
        out = getattr(fst.norm, m)(v, 0.5, 2.0)
        assert np.asarray(out).dtype == np.float64 and np.shape(out) == ()
        np.testing.assert_allclose(np.asarray(out), getattr(st.norm, m)(v, 0.5, 2.0),
                                   rtol=1e-14)
    np.testing.assert_allclose(np.asarray(fst.norm.logpdf(0.3, 0, [1, 2, 3])),
                               st.norm.logpdf(0.3, 0, [1, 2, 3]), rtol=1e-14)


def test_constants_go_next_to_the_array(backend):
    """Python numbers and lists beside an array are made on its library and device."""
    x = backend.asarray([0.1, 0.7])
    out = fst.norm.cdf(x, [0.0, 1.0], 2)
    np.testing.assert_allclose(_np(backend, out), st.norm.cdf([0.1, 0.7], [0.0, 1.0], 2))
    out = fst.norm.ppf(0.25, x, 2.0)
    np.testing.assert_allclose(_np(backend, out), st.norm.ppf(0.25, [0.1, 0.7], 2.0))


def test_errors(backend):
    z = backend.asarray([1.0 + 1j], dtype="complex128")
    x = backend.asarray([1.0])
    for m in METHODS:
        with pytest.raises(TypeError, match=f"norm.{m}: complex input"):
            getattr(fst.norm, m)(z)
        with pytest.raises(TypeError, match=f"norm.{m}: complex input"):
            getattr(fst.norm, m)(x, 1j)
    with pytest.raises(ValueError, match="broadcast"):
        fst.norm.logpdf(backend.asarray([1.0, 2.0]), backend.asarray([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError):
        fst.norm.logpdf(x, 0, 1, 2)
    with pytest.raises(TypeError):
        fst.norm(0.0, 1.0)  # no frozen distributions


def test_inputs_are_not_mutated(backend):
    a = np.array([1.0, -np.inf, 3.0])
    x, s = backend.asarray(a), backend.asarray([1.0, -1.0, 2.0])
    for m in METHODS:
        getattr(fst.norm, m)(x, x, s)
    np.testing.assert_array_equal(backend.to_numpy(x), a)
    np.testing.assert_array_equal(backend.to_numpy(s), [1.0, -1.0, 2.0])


# -- derivatives ---------------------------------------------------------------------------------


def test_derivative_values(backend):
    """The gradients in x, loc and scale against the closed forms."""
    x, m, s = 2.1, -0.4, 1.7
    z = (x - m) / s
    phi = np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    args = tuple(backend.asarray(v) for v in (x, m, s))

    def g(method):
        out = ft.grad(lambda *a: getattr(fst.norm, method)(*a), argnums=(0, 1, 2))(*args)
        return np.array([_np(backend, o) for o in out])
    np.testing.assert_allclose(g("logpdf"), [-z / s, z / s, (z * z - 1) / s], rtol=1e-13)
    np.testing.assert_allclose(g("cdf"), [phi / s, -phi / s, -phi * z / s], rtol=1e-13)
    np.testing.assert_allclose(g("sf"), [-phi / s, phi / s, phi * z / s], rtol=1e-13)
    cdf = st.norm.cdf(z)
    np.testing.assert_allclose(g("logcdf"), [phi / s / cdf, -phi / s / cdf,
                                             -phi * z / s / cdf], rtol=1e-13)
    q = backend.asarray(0.3)
    gq = _np(backend, ft.grad(lambda p: fst.norm.ppf(p, 2.0, 1.5))(q))
    np.testing.assert_allclose(gq, 1.5 / st.norm.pdf(st.norm.ppf(0.3)), rtol=1e-12)
    gs = _np(backend, ft.grad(lambda sc: fst.norm.isf(0.3, 2.0, sc))(backend.asarray(1.5)))
    np.testing.assert_allclose(gs, st.norm.isf(0.3), rtol=1e-13)


def test_tail_derivatives_are_finite(backend):
    x = backend.asarray([-40.0, 40.0])
    g = _np(backend, ft.grad(lambda v: fnp.sum(fst.norm.logcdf(v)))(x))
    np.testing.assert_allclose(g, [40.0 + 1 / 40.0 - 2 / 40.0 ** 3, 0.0], rtol=1e-6,
                               atol=1e-300)
    g = _np(backend, ft.grad(lambda v: fnp.sum(fst.norm.logsf(v)))(x))
    np.testing.assert_allclose(g, [0.0, -(40.0 + 1 / 40.0 - 2 / 40.0 ** 3)], rtol=1e-6,
                               atol=1e-300)


@pytest.mark.parametrize("method", METHODS)
def test_vmap_matches_loop(backend, method):
    rng = np.random.default_rng(4)
    x = rng.uniform(0.1, 0.9, (3, 4))
    s = rng.uniform(0.5, 2.0, (3, 1))
    f = getattr(fst.norm, method)
    out = _np(backend, ft.vmap(lambda a, b: f(a, 0.2, b))(backend.asarray(x),
                                                         backend.asarray(s)))
    loop = np.stack([_np(backend, f(backend.asarray(xi), 0.2, backend.asarray(si)))
                     for xi, si in zip(x, s)])
    np.testing.assert_allclose(out, loop, rtol=1e-14)
    # loc batched, x shared
    out = _np(backend, ft.vmap(lambda m: f(backend.asarray(x[0]), m, 1.5))(
        backend.asarray(s[:, 0])))
    loop = np.stack([_np(backend, f(backend.asarray(x[0]), backend.asarray(si), 1.5))
                     for si in s[:, 0]])
    np.testing.assert_allclose(out, loop, rtol=1e-14)


def test_jit(backend):
    f = ft.jit(lambda x, s: fnp.sum(fst.norm.logpdf(x, 0.5, s) + fst.norm.logcdf(x, 0.0, s)))
    x, s = np.array([0.5, -30.0, 2.0]), np.array([1.0, 0.5, 2.0])
    ref = np.sum(st.norm.logpdf(x, 0.5, s) + st.norm.logcdf(x, 0.0, s))
    for _ in range(2):
        np.testing.assert_allclose(_np(backend, f(backend.asarray(x), backend.asarray(s))),
                                   ref, rtol=1e-13)
