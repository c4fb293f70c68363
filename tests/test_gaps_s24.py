"""Session 24 (helper gapsA): numeric-semantics gaps closed."""

import operator

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import UnsupportedBackendError

# (operator, the reflected method Python calls on the right operand when the tracer declines)
_OPERATORS = [
    (operator.add, "__radd__"), (operator.sub, "__rsub__"), (operator.mul, "__rmul__"),
    (operator.truediv, "__rtruediv__"), (operator.floordiv, "__rfloordiv__"),
    (operator.mod, "__rmod__"), (divmod, "__rdivmod__"), (operator.pow, "__rpow__"),
    (operator.matmul, "__rmatmul__"), (operator.and_, "__rand__"),
    (operator.or_, "__ror__"), (operator.xor, "__rxor__"), (operator.lshift, "__rlshift__"),
    (operator.rshift, "__rrshift__"), (operator.lt, "__gt__"), (operator.le, "__ge__"),
    (operator.gt, "__lt__"), (operator.ge, "__le__"), (operator.eq, "__eq__"),
    (operator.ne, "__ne__"), (operator.iadd, "__radd__"), (operator.imul, "__rmul__"),
    (operator.imatmul, "__rmatmul__"), (operator.ior, "__ror__")]


class _Reflecting:
    """A value of no backend that implements every reflected operator: records the call."""


for _op, _name in _OPERATORS:
    setattr(_Reflecting, _name, lambda self, other, _n=_name: (_n, type(other)))
setattr(_Reflecting, "__add__", lambda self, other: ("__add__", type(other)))
_Reflecting.__hash__ = object.__hash__


class _Plain:
    """A value of no backend with no operators."""


@pytest.mark.parametrize("transform", ["jit", "grad"])
def test_operators_defer_to_an_unknown_operands_reflected_method(transform):
    seen = []

    def f(x):
        for op, name in _OPERATORS:
            for operand in (x, fnp.zeros(2, dtype=x.dtype)):  # a tracer; a constant
                out = op(operand, _Reflecting())
                assert out[0] == name, (op, out)
                assert isinstance(operand, ft.core.Tracer)
                assert issubclass(out[1], ft.core.Tracer)
                seen.append(name)
        # the other order: the object's own operator first, as Python does
        assert _Reflecting() + x == ("__add__", type(x))
        # no reflected method: functrans's error, naming the type
        for op in (operator.add, operator.lt, operator.eq, operator.matmul):
            with pytest.raises(UnsupportedBackendError, match="_Plain"):
                op(x, _Plain())
        with pytest.raises(UnsupportedBackendError, match="_Plain"):
            _Plain() * x
        return fnp.sum(x * 2.0)

    x = np.arange(1.0, 3.0)
    getattr(ft, transform)(f)(x)
    assert len(seen) == 2 * len(_OPERATORS)
    # NumPy's refused scalars keep the error (their own operators would only convert)
    with pytest.raises(UnsupportedBackendError):
        ft.jit(lambda x: x + np.str_("a"))(x)


@pytest.mark.parametrize("n", [1, 2])
def test_scan_number_carry_beside_float32_gives_float32_ys_even_for_one_step(n):
    import functrans.lax as flax

    def step(c, x):
        return c + x, c * 3.0

    xs = np.linspace(0.5, 1.5, n, dtype=np.float32)
    typed = flax.scan(step, np.float32(0.1), xs)  # the carry typed by hand: the reference
    for run in (lambda xs: flax.scan(step, 0.1, xs), ft.jit(lambda xs: flax.scan(step, 0.1, xs))):
        c, ys = run(xs)
        assert ys.dtype == np.float32 and fnp.asarray(c).dtype == np.float32
        np.testing.assert_array_equal(np.asarray(ys), np.asarray(typed[1]))
    g = ft.grad(lambda xs: fnp.sum(flax.scan(step, 0.1, xs)[1]))(xs)
    assert g.dtype == np.float32


def test_staged_index_out_of_bounds_says_where_and_what_to_write(backend):
    x = backend.asarray([1.0, 2.0, 3.0, 4.0, 5.0])
    f = ft.jit(lambda x, i: x[..., i] * 2.0)
    # above the end, and below -n (which take alone would count from the end once more)
    for bad in (7, -6):
        with pytest.raises(IndexError, match=rf"index {bad} is out of bounds for an axis of "
                                             rf"size 5.*at\[i\]\.get\(mode='clip'\)"):
            f(x, backend.asarray(bad, dtype="int64"))
    np.testing.assert_array_equal(backend.to_numpy(f(x, backend.asarray(-5, dtype="int64"))), 2.0)
    # the remedies the message names
    clip = ft.jit(lambda x, i: x.at[i].get(mode="clip"))(x, backend.asarray(7, dtype="int64"))
    fill = ft.jit(lambda x, i: x.at[i].get(mode="fill", fill_value=-1.0))(
        x, backend.asarray(7, dtype="int64"))
    assert float(clip) == 5.0 and float(fill) == -1.0
    if backend.name == "numpy":  # another axis: its size, the array as gathered
        with pytest.raises(IndexError, match=r"index -4 .* size 3 .*shape \(3, 2\)"):
            ft.jit(lambda x, i: x[:, i])(np.ones((2, 3)), np.array([0, -4]))


_F = np.array([[7.99, 2.5, 4.2, 0.3], [8.6, 1.1, 6.75, 3.0], [5.5, 0.9, 2.2, 8.05]])
_I = np.array([[3, 250, 7, 41], [19, 5, 130, 66], [200, 2, 9, 77]])


@pytest.mark.parametrize("name", ["mean", "var", "std", "nanmean", "nanvar", "nanstd"])
def test_integer_and_bool_dtype_as_numpys(name):
    import warnings
    np_fn, fn = getattr(np, name), getattr(fnp, name)
    inputs = [_I, _I.astype(np.uint8)] + ([] if name.startswith("nan") else [_F])
    for x in inputs:
        for dt in (np.int64, np.int32, np.uint8, np.bool_):
            for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True},
                       {"where": np.array([True, False, True, True])},
                       {"axis": 1, "ddof": 1} if "var" in name or "std" in name else
                       {"axis": (0, 1)}):
                got = fn(x, dtype=dt, **kw)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if name.endswith("std"):  # (NumPy's own refuses an array result's cast)
                        v = getattr(np, name[:-3] + "var")(x, dtype=dt, **kw)
                        want = np.sqrt(np.asarray(v).astype(np.float64)).astype(dt)
                    else:
                        want = np_fn(x, dtype=dt, **kw)
                assert got.dtype == np.asarray(want).dtype, (x.dtype, dt, kw)
                np.testing.assert_array_equal(got, want, err_msg=f"{x.dtype} {dt} {kw}")
    if name.startswith("nan"):  # floating input holds NaNs: refused, with NumPy's TypeError
        with pytest.raises(TypeError, match=f"{name}: dtype=int64 for float64 input"):
            fn(_F, dtype=np.int64)


def test_integer_dtype_statistics_other_libraries_and_transforms(backend):
    x = backend.asarray(_I, dtype="int64")
    for name in ("mean", "var", "nanstd"):
        want = getattr(np, name)(_I, axis=0, dtype=np.int32) if name != "nanstd" else \
            np.sqrt(np.var(_I, axis=0, dtype=np.int32).astype(float)).astype(np.int32)
        fn = getattr(fnp, name)
        for got in (fn(x, axis=0, dtype=fnp.int32),
                    ft.jit(lambda x: fn(x, axis=0, dtype=fnp.int32))(x),
                    ft.vmap(lambda c: fn(c, dtype=fnp.int32), in_axes=1)(x)):
            assert backend.is_own(got) and str(got.dtype).endswith("int32")
            np.testing.assert_array_equal(backend.to_numpy(got), want)
    # beside a derivative: an integer statistic is a constant factor
    g = ft.grad(lambda v: fnp.sum(v * fnp.var(v, dtype=fnp.int64)))(backend.asarray(_F[0]))
    np.testing.assert_array_equal(backend.to_numpy(g), np.var(_F[0], dtype=np.int64))


_QA = np.array([[0.3, -1.2, 0.3, 2.0], [1.1, 0.4, -0.5, 0.7], [-0.8, 0.4, 1.6, np.nan],
                [0.9, 2.2, -0.5, 1.0], [0.0, -0.3, 0.8, np.nan]])
_QW = np.array([[0.0, 1.0, 2.0, 1.0], [3.0, 0.0, 1.0, 2.0], [1.0, 2.0, 0.0, 1.0],
                [2.0, 1.0, 1.0, 0.0], [1.0, 3.0, 2.0, 1.0]])


@pytest.mark.parametrize("name", ["quantile", "percentile", "nanquantile", "nanpercentile"])
def test_weighted_inverted_cdf_quantiles_as_numpys(name):
    np_fn, fn = getattr(np, name), getattr(fnp, name)
    scale = 100.0 if "percentile" in name else 1.0
    finite = np.where(np.isnan(_QA), 0.25, _QA)
    for a in (_QA, finite, np.round(finite * 3).astype(np.int64)):
        for axis, w in ((None, _QW), (0, _QW), (1, _QW), ((1, 0), _QW), (1, _QW[0] + 0.5)):
            if name.startswith("nan") and w.ndim == 1:
                continue  # (NumPy 2.4's own raises IndexError there: checked below)
            for q in (0.0, 0.5, [0.05, 0.3, 0.75, 1.0]):
                qs = np.multiply(q, scale)
                for keepdims in ((False, True) if axis == 1 else (False,)):
                    want = np_fn(a, qs, axis=axis, weights=w, method="inverted_cdf",
                                 keepdims=keepdims)
                    got = fn(a, qs, axis=axis, weights=w, method="inverted_cdf",
                             keepdims=keepdims)
                    assert got.dtype == np.asarray(want).dtype
                    np.testing.assert_array_equal(got, want, err_msg=f"{a.dtype} {axis} {q}")
    if name.startswith("nan"):  # weights of the reduced axis alone: as slice by slice
        got = fn(_QA, [0.2 * scale, scale], axis=0, weights=_QW[:, 1],
                 method="inverted_cdf")
        want = np.stack([np_fn(_QA[:, j], [0.2 * scale, scale], weights=_QW[:, 1],
                               method="inverted_cdf") for j in range(4)], -1)
        np.testing.assert_array_equal(got, want)


def test_weighted_quantile_other_libraries_and_transforms(backend):
    # (no ties: the derivative goes to the one value chosen)
    a, w = np.where(np.isnan(_QA), 0.25, _QA) + np.arange(20.0).reshape(5, 4) * 1e-3, _QW
    want = np.quantile(a, [0.2, 0.7], axis=0, weights=w, method="inverted_cdf")

    def f(a, w):
        return fnp.quantile(a, [0.2, 0.7], axis=0, weights=w, method="inverted_cdf")
    A, W = backend.asarray(a), backend.asarray(w)
    for got in (f(A, W), ft.jit(f)(A, W),
                ft.vmap(lambda a, w: f(a, w)[:, 0], in_axes=(1, 1), out_axes=1)(
                    A[:, :, None], W[:, :, None])):
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    # the derivative: 1 at each value chosen, none in the weights
    g = ft.grad(lambda a: fnp.sum(f(a, W)))(A)
    chosen = np.zeros_like(a)
    for j in range(4):
        for v in want[:, j]:
            chosen[np.flatnonzero(a[:, j] == v)[0], j] += 1.0
    np.testing.assert_array_equal(backend.to_numpy(g), chosen)
    assert not np.any(backend.to_numpy(ft.grad(lambda w: fnp.sum(f(A, w)))(W)))


# Points outside each function's domain (SciPy's value nan there), one function of each
# family; the derivative is taken in the argument at ``k``. (gamma at a pole and boxcox of a
# negative number have a nan derivative there: their rules' own arithmetic.)
_UNDEFINED = [
    ("loggamma", (-3.5,), 0), ("gammasgn", (-1.0,), 0),
    ("logit", (-3.5,), 0), ("xlogy", (-3.5, -3.5), 1), ("exp1", (-3.5,), 0),
    ("spence", (-3.5,), 0), ("gammainc", (-1.0, 0.5), 0), ("gammaincc", (2.0, -1.0), 1),
    ("betainc", (2.0, 2.0, 1.5), 2), ("gammaincinv", (2.0, 1.5), 1),
    ("betaincinv", (2.0, 2.0, -0.5), 2), ("stdtr", (-3.5, -3.5), 1),
    ("chdtri", (-3.5, -3.5), 1), ("fdtr", (-3.5, -3.5, -3.5), 2),
    ("nbdtri", (-3.5, -3.5, -3.5), 2), ("binom", (-1.0, -3.5), 1), ("y0", (-3.5,), 0),
    ("k1e", (-3.5,), 0), ("ellipk", (2.0,), 0), ("iv", (-3.5, -3.5), 1),
    ("hyp1f1", (0.5, -0.5, 0.5), 2)]


def test_special_derivatives_where_the_value_is_nan_stay_finite():
    """Outside a special function's domain its value is nan (SciPy's) and its derivative a
    number: mostly 0, the select that puts the nan there being constant, or the closed form's
    value (logit, xlogy, exp1). So a where() that leaves those points out gives a clean
    gradient, where JAX's is nan (its where() trap; docs/coming-from-jax.md). The namespace's
    log-family keeps the closed form outside the domain (log'(-1) = -1), as JAX's, torch's
    and autograd's."""
    import scipy.special as sc
    import functrans.scipy.special as fsp
    for name, point, k in _UNDEFINED:
        assert np.isnan(getattr(sc, name)(*point)), name  # SciPy's: undefined there
        f = getattr(fsp, name)
        args = [np.asarray(p) for p in point]
        v, g = ft.value_and_grad(lambda z: f(*args[:k], z, *args[k + 1:]))(args[k])
        assert np.isnan(v) and np.isfinite(g), (name, v, g)
    x = np.array([-3.5, 0.5])
    g = ft.grad(lambda x: fnp.sum(fnp.where(x > 0, fsp.k0(x), 0.0)))(x)
    np.testing.assert_allclose(g, [0.0, -sc.k1(0.5)], rtol=1e-12)
    g = ft.jit(ft.grad(lambda x: fnp.sum(fnp.where(x > 0, fsp.gammainc(2.0, x), 0.0))))(x)
    np.testing.assert_allclose(g, [0.0, 0.5 * np.exp(-0.5)], rtol=1e-12)
    for fn, z, slope in (("log", -1.0, -1.0), ("log1p", -3.0, -0.5), ("arctanh", 2.0, -1 / 3)):
        assert np.isnan(getattr(fnp, fn)(z))
        assert ft.grad(getattr(fnp, fn))(z) == pytest.approx(slope, rel=1e-15)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.special as jsp
    jg = jax.grad(lambda x: jax.numpy.sum(jax.numpy.where(x > 0, jsp.gammainc(2.0, x), 0.0)))(
        jax.numpy.asarray(x))
    assert np.isnan(jg[0])  # (the difference: if JAX changes, drop it here)
