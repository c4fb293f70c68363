"""Session 34 (numpy34): functrans.numpy / linalg / fft take NumPy's and jax.numpy's
parameter names by keyword, accept ``out=None`` (and an elementwise function's
``where=None``) and refuse anything else there; irfftn/irfft2 of half precision give
float32, as NumPy's. Values are compared with NumPy's own calls."""

import inspect

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

P = inspect.Parameter
# NumPy's ufunc keywords beyond out/where (and gufunc ones) that functrans does not take
_UFUNC_EXTRAS = {"casting", "dtype", "order", "subok", "signature", "axes", "axis", "keepdims"}
_NOT_TAKEN = {
    # (concat: NumPy 2's extra keywords of the standard's function; broadcast_*: subclasses)
    "concat": {"casting", "dtype", "out"}, "broadcast_to": {"subok"},
    "broadcast_arrays": {"subok"},
}


def _keyword_names(f):
    try:
        s = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    if any(p.kind is P.VAR_KEYWORD for p in s.parameters.values()):
        return None  # (takes any name)
    return {n for n, p in s.parameters.items()
            if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)}


@pytest.mark.parametrize("ours, theirs", [(fnp, np), (fnp.linalg, np.linalg),
                                          (fnp.fft, np.fft)], ids=["numpy", "linalg", "fft"])
def test_every_name_numpy_takes_by_keyword_is_taken(ours, theirs):
    missing = {}
    for name in dir(ours):
        f, g = getattr(ours, name), getattr(theirs, name, None)
        if name.startswith("_") or g is None or not callable(f) or isinstance(f, type) \
                or inspect.ismodule(f):
            continue
        mine, numpys = _keyword_names(f), _keyword_names(g)
        if mine is None or numpys is None:
            continue
        extra = _UFUNC_EXTRAS if isinstance(g, np.ufunc) else set()
        lacking = numpys - mine - extra - _NOT_TAKEN.get(name, set())
        if lacking:
            missing[name] = sorted(lacking)
    assert not missing


x = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, -2.0], [1.0, 1.0, 5.0]])
v = np.array([2.0, -3.0, 0.5, 1.5])


@pytest.mark.parametrize("name, kwargs", [
    ("sum", dict(a=x, axis=0)), ("prod", dict(a=x, axis=1)), ("mean", dict(a=x, axis=0)),
    ("var", dict(a=x, ddof=1)), ("std", dict(a=x, axis=1, ddof=1)), ("max", dict(a=x)),
    ("min", dict(a=x, axis=0)), ("all", dict(a=x > 0, axis=1)), ("any", dict(a=x > 3)),
    ("argmax", dict(a=x, axis=1)), ("argmin", dict(a=x)), ("round", dict(a=x / 3, decimals=2)),
    ("around", dict(a=x / 3, decimals=1)), ("clip", dict(a=x, a_min=0.0, a_max=2.0)),
    ("eye", dict(N=3, M=4, k=1)), ("matmul", dict(a=x, b=x)), ("reshape", dict(a=x, shape=9)),
    ("broadcast_to", dict(array=v, shape=(2, 4))), ("expand_dims", dict(a=v, axis=0)),
    ("squeeze", dict(a=x[:1])), ("flip", dict(m=x, axis=1)), ("tril", dict(m=x, k=-1)),
    ("triu", dict(m=x)), ("moveaxis", dict(a=x[None], source=0, destination=-1)),
    ("repeat", dict(a=v, repeats=2)), ("roll", dict(a=v, shift=1)), ("tile", dict(A=v, reps=2)),
    ("take_along_axis", dict(arr=x, indices=np.argsort(x, axis=1), axis=1)),
    ("zeros_like", dict(a=x)), ("ones_like", dict(a=v)), ("full_like", dict(a=v, fill_value=7)),
    ("arange", dict(start=2, stop=7)), ("asarray", dict(a=[1.5, 2.5])), ("sort", dict(a=v)),
    ("argsort", dict(a=v)), ("searchsorted", dict(a=np.sort(v), v=0.7)),
    ("count_nonzero", dict(a=x > 1, axis=0)), ("diff", dict(a=v, n=2)),
    ("concatenate", dict(arrays=[v, v])), ("stack", dict(arrays=[v, v], axis=1)),
    ("inner", dict(a=v, b=v)), ("vdot", dict(a=v, b=v)), ("fmax", dict(x1=v, x2=0.0)),
    ("gcd", dict(x1=np.array([12, 18]), x2=8)), ("sinc", dict(x=v)), ("fix", dict(x=v)),
    ("real", dict(val=v + 1j)), ("imag", dict(val=v + 2j)), ("permute_dims", dict(a=x)),
    ("packbits", dict(a=np.array([1, 0, 1]))), ("unique_values", dict(x=np.array([2, 1, 2]))),
    ("cumulative_sum", dict(axis=0, out=None)),
])
def test_numpy_keyword_names(name, kwargs):
    # NumPy's own call by position where NumPy itself takes them so only (ufuncs, NumPy 2's
    # positional-only reshape, inner...); the parameters' order is NumPy's
    f = getattr(fnp, name)
    args = (v,) if name == "cumulative_sum" else ()  # (x positional-only, as NumPy's)
    bound = inspect.signature(f).bind(*args, **kwargs)
    got, want = f(*args, **kwargs), getattr(np, name)(*bound.args, **bound.kwargs)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)


def test_trunc_and_promote_types_take_jax_numpys_names():
    # (NumPy's trunc is a ufunc and its promote_types takes no keywords: jax.numpy's names)
    np.testing.assert_array_equal(fnp.trunc(x=v), np.trunc(v))
    assert fnp.promote_types(a=fnp.int8, b=fnp.float32) == fnp.float32  # (NumPy's table)
    assert np.promote_types(np.int8, np.float32) == np.float32


@pytest.mark.parametrize("name, kwargs", [
    ("solve", dict(a=x, b=v[:3])), ("inv", dict(a=x)), ("det", dict(a=x)),
    ("cholesky", dict(a=x @ x.T)), ("eigvalsh", dict(a=x + x.T, UPLO="L")),
    ("pinv", dict(a=x)), ("matrix_power", dict(a=x, n=3)), ("matrix_rank", dict(A=x)),
])
def test_linalg_keyword_names(name, kwargs):
    f = getattr(fnp.linalg, name)
    bound = inspect.signature(f).bind(**kwargs)
    want = np.linalg.matrix_rank(x) if name == "matrix_rank" else \
        getattr(np.linalg, name)(*bound.args, **bound.kwargs)
    got = f(**kwargs)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)


def test_linalg_decompositions_and_matrix_rank_names():
    s, logdet = fnp.linalg.slogdet(a=x)
    np.testing.assert_allclose([s, logdet], np.linalg.slogdet(x), rtol=1e-13)
    np.testing.assert_allclose(fnp.linalg.svd(a=x, compute_uv=False),
                               np.linalg.svd(x, compute_uv=False), rtol=1e-13)
    q, r = fnp.linalg.qr(a=x)
    np.testing.assert_allclose(q @ r, x, atol=1e-13)
    w, _ = fnp.linalg.eigh(a=x + x.T)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(x + x.T), rtol=1e-12)
    assert int(fnp.linalg.matrix_rank(M=x)) == np.linalg.matrix_rank(x) == 3
    with pytest.raises(TypeError, match="as M .* or A"):
        fnp.linalg.matrix_rank(M=x, A=x)
    with pytest.raises(TypeError, match="as M"):
        fnp.linalg.matrix_rank()


@pytest.mark.parametrize("name, kwargs", [
    ("fft", dict(a=v, n=6)), ("ifft", dict(a=v, axis=0)), ("rfft", dict(a=v, norm="ortho")),
    ("irfft", dict(a=v, n=5)), ("hfft", dict(a=v)), ("ihfft", dict(a=v)),
    ("fft2", dict(a=x)), ("irfftn", dict(a=x, s=(3, 4))), ("rfft2", dict(a=x, out=None)),
])
def test_fft_keyword_names(name, kwargs):
    got, want = getattr(fnp.fft, name)(**kwargs), getattr(np.fft, name)(**kwargs)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)


def test_numpys_positional_order_of_reductions():
    # NumPy's sum(a, axis, dtype, out, keepdims), var(a, axis, dtype, out, ddof, keepdims)
    for name, args in (("sum", (0, np.float32, None, True)), ("mean", (1, None, None, True)),
                       ("var", (0, None, None, 1, True)), ("std", (None, None, None, 1)),
                       ("max", (1, None, True)), ("all", (0, None, True)),
                       ("prod", (1, None, None, False, 2.0)), ("argmin", (0, None))):
        got, want = getattr(fnp, name)(x, *args), getattr(np, name)(x, *args)
        assert got.dtype == want.dtype and np.shape(got) == np.shape(want), name
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13, err_msg=name)


_OUT_CALLS = [
    ("add", (v, v)), ("subtract", (v, 1.0)), ("multiply", (v, v)), ("divide", (v, 2)),
    ("maximum", (v, 0.0)), ("logaddexp", (v, v)), ("logical_and", (v > 0, v < 1)),
    ("bitwise_and", (np.array([6, 3]), 5)), ("negative", (v,)), ("sin", (v,)),
    ("exp", (v,)), ("arccos", (v / 4,)), ("floor", (v,)), ("isnan", (v,)), ("abs", (v,)),
    ("sign", (v,)), ("square", (v,)), ("fmax", (v, 0.0)), ("logaddexp2", (v, v)),
    ("modf", (v,)), ("rint", (v,)), ("cbrt", (v,)), ("hypot", (v, v)), ("reciprocal", (v,)),
]


@pytest.mark.parametrize("name, args", _OUT_CALLS, ids=[c[0] for c in _OUT_CALLS])
def test_elementwise_out_none_and_where_true(name, args):
    f, g = getattr(fnp, name), getattr(np, name)
    want = g(*args)
    for kw in (dict(out=None), dict(where=None), dict(out=None, where=True)):
        got = f(*args, **kw)
        for a, b in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            assert np.asarray(a).dtype == b.dtype
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-15)
    buf = np.zeros_like(np.asarray(want[0] if isinstance(want, tuple) else want))
    with pytest.raises(NotImplementedError, match="out= is not supported"):
        f(*args, out=buf)
    assert not buf.any()  # (nothing written into it)
    with pytest.raises(NotImplementedError, match="where= is not supported"):
        f(*args, where=np.ones(np.shape(buf), bool))


@pytest.mark.parametrize("name, call", [
    ("sum", lambda o: fnp.sum(x, out=o)), ("mean", lambda o: fnp.mean(x, out=o)),
    ("var", lambda o: fnp.var(x, out=o)), ("max", lambda o: fnp.max(x, out=o)),
    ("argmin", lambda o: fnp.argmin(x, out=o)), ("any", lambda o: fnp.any(x, out=o)),
    ("round", lambda o: fnp.round(x, 1, o)), ("clip", lambda o: fnp.clip(x, 0, 1, o)),
    ("cumulative_prod", lambda o: fnp.cumulative_prod(v, out=o)),
    ("fft", lambda o: fnp.fft.fft(v, out=o)), ("irfft2", lambda o: fnp.fft.irfft2(x, out=o)),
])
def test_reductions_and_fft_take_out_none_only(name, call):
    call(None)  # accepted
    with pytest.raises(NotImplementedError, match=f"{name}: out= is not supported"):
        call(np.zeros(3))


def test_keywords_under_transforms():
    # the keyword path is the same function: derivatives unchanged (d/dw sum(w**2) = 2w)
    g = ft.grad(lambda w: fnp.sum(a=fnp.multiply(w, w, out=None), axis=None))(v)
    np.testing.assert_allclose(g, 2 * v, rtol=1e-15)
    jf = ft.jit(lambda m: fnp.linalg.solve(a=m, b=fnp.mean(a=m, axis=1)))
    np.testing.assert_allclose(jf(x), np.linalg.solve(x, x.mean(axis=1)), rtol=1e-12)
    vm = ft.vmap(lambda r: fnp.fft.rfft(a=r, n=4))(x)
    np.testing.assert_allclose(vm, np.fft.rfft(x, n=4), atol=1e-13)


def test_irfftn_of_half_precision_is_float32_as_numpys():
    h = np.arange(16, dtype=np.float16).reshape(4, 4)
    for name in ("irfftn", "irfft2", "irfft", "hfft"):
        got, want = getattr(fnp.fft, name)(h), getattr(np.fft, name)(h)
        assert got.dtype == want.dtype, name  # float32, float32, float16, float16
        np.testing.assert_allclose(np.asarray(got, np.float64), want.astype(np.float64),
                                   rtol=2e-3, atol=2e-2)


def test_scipy_fft_keeps_scipys_parameter_names():
    # functrans.scipy.fft's transforms are functrans.numpy.fft's under SciPy's name x (which
    # functrans.numpy.fft's, now NumPy's a, no longer is)
    import scipy.fft as sfft

    import functrans.scipy.fft as fsfft
    for name, kw in (("fft", dict(n=6)), ("irfft", dict(axis=0)), ("rfftn", dict(s=(3, 2))),
                     ("ifft2", dict(norm="ortho")), ("hfft", {})):
        np.testing.assert_allclose(getattr(fsfft, name)(x=x, **kw), getattr(sfft, name)(x, **kw),
                                   atol=1e-12)
