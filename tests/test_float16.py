"""Half precision: float16 arrays (NumPy, torch, CuPy) and bfloat16 ones (torch, and NumPy's
through ml_dtypes where that is installed) through
every transform, with derivatives in the primal's dtype (as JAX gives them), NumPy's type
promotion, and clear errors where a library or an operation has no half precision.

Derivatives are checked against the same computation in float64 on the values the float16
input holds, with tolerances suited to 11 (float16) or 8 (bfloat16) significant bits.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import TangentMismatchError, UnsupportedBackendError

RNG = np.random.default_rng(16)

try:  # (NumPy's bfloat16: ml_dtypes')
    import ml_dtypes
    HAS_ML_DTYPES = True
except ImportError:
    ml_dtypes = None
    HAS_ML_DTYPES = False

# rtol for a few chained operations, per dtype (float16: eps ~1e-3; bfloat16: eps ~8e-3)
RTOL = {"float16": 1e-2, "bfloat16": 6e-2}


def _half_cases(backend):
    """The half dtypes this backend has, by name; skips a backend with none (array-api-strict:
    the standard has no float16)."""
    if backend.name == "array_api_strict":
        pytest.skip("array-api-strict has no float16 (tested in test_strict_refuses_float16)")
    names = ["float16"]
    if backend.name == "torch" or backend.name == "numpy" and HAS_ML_DTYPES:
        names.append("bfloat16")
    return names


def _make(backend, data, name):
    """A backend array of dtype ``name`` (bfloat16: from float32 data)."""
    if name == "bfloat16":
        if backend.name == "torch":
            import torch
            return torch.asarray(np.asarray(data, np.float32)).to(torch.bfloat16)
        return np.asarray(data, np.float32).astype(fnp.bfloat16.dtype)
    return backend.asarray(np.asarray(data).astype(name), name)


def _values(backend, x):
    """A float64 NumPy copy of a backend array (bfloat16 included)."""
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _dtype_name(x):
    return fnp.result_type(x).name


# -- derivatives against float64 -----------------------------------------------------------------

# (name, function of one array, input range): each differentiable in its whole input
FUNCTIONS = [
    ("sin_exp", lambda x: fnp.sum(fnp.sin(x) * fnp.exp(0.5 * x)), (-1.0, 1.0)),
    ("log_sqrt", lambda x: fnp.sum(fnp.log(x) + fnp.sqrt(x) / x), (0.5, 2.0)),
    ("tanh_pow", lambda x: fnp.sum(fnp.tanh(x) ** 2 + x ** 3), (-1.0, 1.0)),
    ("div_where", lambda x: fnp.sum(fnp.where(x > 0, x / (1.0 + x * x), -x)), (-1.0, 1.0)),
    ("mean_var", lambda x: fnp.mean(x * x) + fnp.var(x, axis=0)[1], (-1.0, 1.0)),
    ("max_prod", lambda x: fnp.max(x, axis=1)[0] + fnp.prod(x[0]), (0.5, 1.5)),
    ("matmul", lambda x: fnp.sum((x @ fnp.matrix_transpose(x)) * 0.25), (-1.0, 1.0)),
    ("indexing", lambda x: fnp.sum(x[1:, ::2] ** 2) + x[0, 1] * x[2, 3]
     + fnp.sum(fnp.take(x, fnp.asarray([0, 2, 2]), axis=1)), (-1.0, 1.0)),
    ("cumsum_sort", lambda x: fnp.sum(fnp.cumsum(x, axis=1) * fnp.sort(x, axis=0)), (-1.0, 1.0)),
    ("logsumexp_softmax", lambda x: fnp.sum(ft.nn.logsumexp(x, axis=1))
     + ft.nn.softmax(x)[0, 0], (-1.0, 1.0)),
]


def _input(backend, name, lo, hi):
    x = RNG.uniform(lo, hi, (3, 4))
    h = _make(backend, x, name)
    return h, _values(backend, h)  # float64 of the values the half array holds


@pytest.mark.parametrize("fname,f,rng", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_grad_of_half_against_float64(backend, fname, f, rng):
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, *rng)
        y, g = ft.value_and_grad(f)(x)
        y64, g64 = ft.value_and_grad(f)(x64)
        assert backend.is_own(g) and _dtype_name(g) == name and _dtype_name(y) == name
        assert tuple(g.shape) == (3, 4)
        scale = np.max(np.abs(g64))
        np.testing.assert_allclose(_values(backend, g), g64, rtol=RTOL[name],
                                   atol=RTOL[name] * scale)
        np.testing.assert_allclose(float(_values(backend, y)), float(y64), rtol=RTOL[name],
                                   atol=RTOL[name])


@pytest.mark.parametrize("fname,f,rng", FUNCTIONS[:4] + FUNCTIONS[6:8],
                         ids=[c[0] for c in FUNCTIONS[:4] + FUNCTIONS[6:8]])
def test_jvp_vjp_jit_of_half(backend, fname, f, rng):
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, *rng)
        t64 = RNG.uniform(-1.0, 1.0, (3, 4))
        t = _make(backend, t64, name)
        t64 = _values(backend, t)
        y, ty = ft.jvp(f, (x,), (t,))
        _, ty64 = ft.jvp(f, (x64,), (t64,))
        assert _dtype_name(y) == _dtype_name(ty) == name
        scale = np.max(np.abs(ft.grad(f)(x64))) * np.sum(np.abs(t64))
        np.testing.assert_allclose(float(_values(backend, ty)), float(ty64),
                                   atol=RTOL[name] * scale)
        # vjp with a half cotangent: a half gradient; jit gives what the eager call gives
        y2, pull = ft.vjp(f, x)
        (g,) = pull(_make(backend, 1.0, name))
        assert _dtype_name(g) == name
        gj = ft.jit(ft.grad(f))(x)
        assert _dtype_name(gj) == name
        np.testing.assert_allclose(_values(backend, gj), _values(backend, g),
                                   rtol=RTOL[name], atol=RTOL[name] * np.max(
                                       np.abs(_values(backend, g))))


def test_jacobians_hessian_vmap_of_half(backend):
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, -1.0, 1.0)
        x, x64 = x[0], x64[0]

        def f(v):
            return fnp.sin(v) * fnp.sum(v * v)

        for jac in (ft.jacfwd, ft.jacrev):
            j, j64 = jac(f)(x), jac(f)(x64)
            assert _dtype_name(j) == name and tuple(j.shape) == (4, 4)
            np.testing.assert_allclose(_values(backend, j), j64, rtol=RTOL[name],
                                       atol=RTOL[name])

        def s(v):
            return fnp.sum(v ** 3) + fnp.prod(v)

        h, h64 = ft.hessian(s)(x), ft.hessian(s)(x64)
        assert _dtype_name(h) == name
        np.testing.assert_allclose(_values(backend, h), h64, rtol=RTOL[name],
                                   atol=RTOL[name] * np.max(np.abs(h64)))
        # per-row gradients by vmap, in the rows' dtype
        xs, xs64 = _input(backend, name, -1.0, 1.0)
        gs = ft.vmap(ft.grad(s))(xs)
        gs64 = ft.vmap(ft.grad(s))(xs64)
        assert _dtype_name(gs) == name and tuple(gs.shape) == (3, 4)
        np.testing.assert_allclose(_values(backend, gs), gs64, rtol=RTOL[name],
                                   atol=RTOL[name] * np.max(np.abs(gs64)))


def test_mixed_precision_gradients_keep_each_dtype(backend):
    # a float16 input beside a float32 weight: the product is float32 (NumPy's promotion);
    # each gradient comes back in its own input's dtype
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, -1.0, 1.0)
        w = backend.asarray(RNG.uniform(-1.0, 1.0, (4, 2)), "float32")

        def loss(x, w):
            return fnp.sum(fnp.tanh(x @ w))

        assert _dtype_name(fnp.matmul(x, w)) == "float32"  # (torch itself refuses x @ w)
        gx, gw = ft.grad(loss, argnums=(0, 1))(x, w)
        assert _dtype_name(gx) == name and _dtype_name(gw) == "float32"
        gx64, gw64 = ft.grad(loss, argnums=(0, 1))(x64, _values(backend, w))
        np.testing.assert_allclose(_values(backend, gx), gx64, rtol=RTOL[name], atol=1e-2)
        np.testing.assert_allclose(_values(backend, gw), gw64, rtol=1e-3, atol=1e-3)


def test_tangent_of_another_dtype_is_refused(backend):
    for name in _half_cases(backend):
        x = _make(backend, [1.0, 2.0], name)
        with pytest.raises(TangentMismatchError, match=f"float32.*{name}"):
            ft.jvp(fnp.sin, (x,), (backend.asarray([1.0, 1.0], "float32"),))


def test_jit_keys_its_graphs_by_half_dtype(backend):
    f = ft.jit(lambda x: x * 2.0 + 1)  # Python numbers are weak: the array's dtype stays
    for name in _half_cases(backend) + ["float32", "float64"]:
        x = _make(backend, [0.5, 1.5], name)
        y = f(x)
        assert _dtype_name(y) == name
        np.testing.assert_array_equal(_values(backend, y), [2.0, 4.0])


# -- type promotion --------------------------------------------------------------------------

NAMES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "int64", "uint64", "float16",
         "float32", "float64", "complex64", "complex128"]


def _functrans_rule_differs(a, b):
    # An integer wider than 8 bits with a float: functrans's rule (the float's dtype, as
    # JAX's and torch's) where NumPy widens; the same rule gives int32 + float32 = float32.
    ints = {"int16", "uint16", "int32", "int64", "uint64"}
    return (a in ints and b == "float16") or (b in ints and a == "float16")


@pytest.mark.parametrize("a,b", [(a, b) for a, b in itertools.product(NAMES, NAMES)
                                 if "float16" in (a, b)])
def test_float16_promotion_against_numpy(a, b):
    want = np.result_type(np.dtype(a), np.dtype(b)).name
    got = fnp.result_type(getattr(fnp, "bool" if a == "bool" else a),
                          getattr(fnp, "bool" if b == "bool" else b)).name
    if _functrans_rule_differs(a, b):
        assert got == "float16"
    else:
        assert got == want
    # promote_types is NumPy's own table, also for float16
    assert fnp.promote_types(a, b).name == np.promote_types(a, b).name
    # and the arithmetic gives what result_type says
    x = fnp.asarray(np.ones(2, a))
    y = fnp.asarray(np.ones(2, b))
    assert fnp.add(x, y).dtype == getattr(fnp, got)


@pytest.mark.parametrize("scalar,want", [(1.5, "float16"), (2, "float16"), (True, "float16"),
                                         (1j, "complex64")])
def test_python_scalars_with_float16(backend, scalar, want):
    for name in _half_cases(backend):
        x = _make(backend, [1.0, 2.0], name)
        got = _dtype_name(fnp.multiply(x, scalar))
        assert got == (name if want == "float16" else want)
        assert fnp.result_type(x, scalar).name == got
        if name == "float16":  # NumPy 2 (weak Python scalars) gives the same
            assert got == (np.ones(2, np.float16) * scalar).dtype.name


def test_bfloat16_promotion_against_torch():
    torch = pytest.importorskip("torch")
    names = ["bool", "int8", "uint8", "int16", "int32", "int64", "float16", "bfloat16",
             "float32", "float64", "complex64", "complex128"]
    for a, b in itertools.product(names, names):
        if "bfloat16" not in (a, b):
            continue
        want = str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[1]
        assert fnp.result_type(fnp.dtype(a) if a != "bool" else fnp.bool,
                               fnp.dtype(b) if b != "bool" else fnp.bool).name == want, (a, b)
        x = torch.ones(2, dtype=getattr(torch, a))
        y = torch.ones(2, dtype=getattr(torch, b))
        assert fnp.add(x, y).dtype == getattr(torch, want)
    # with float16 neither holds the other: float32, as torch and JAX give
    assert fnp.result_type(fnp.bfloat16, fnp.float16) is fnp.float32
    assert fnp.promote_types(fnp.bfloat16, "float16") is fnp.float32


@pytest.mark.parametrize("name", ["arctan2", "hypot", "copysign", "logaddexp", "logaddexp2",
                                  "nextafter", "heaviside"])
@pytest.mark.parametrize("other", ["int8", "uint8", "bool", "float16", "float32"])
def test_float_binary_functions_promote_as_arithmetic(name, other):
    # an integer operand takes the float operand's dtype (int8 with float16 is float16, as
    # NumPy gives), not float64 first
    x = np.asarray([0.5, -1.0, 0.0], np.float16)
    y = np.asarray([1, 0, 1], other)
    for a, b in ((x, y), (y, x)):
        got = getattr(fnp, name)(a, b)
        want = getattr(np, name)(a, b)
        assert got.dtype == want.dtype == fnp.result_type(a, b)
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-3)
    # integers alone: float64 (functrans's rule, as jax.numpy with x64; NumPy: float16)
    assert getattr(fnp, name)(y, y).dtype == (y.dtype if other.startswith("float") else np.float64)


def test_float_folds_of_int8_stay_functrans_float64():
    # NumPy's own loops for int8 and bool are float16 (np.sin(int8) is float16); functrans
    # gives integers float64, as jax.numpy with x64, and is unchanged by having float16
    a = np.array([1, 2, 3], np.int8)
    assert np.sin(a).dtype == np.float16
    assert fnp.sin(a).dtype == np.float64


# -- dtype objects, creation, finfo ---------------------------------------------------------------


def test_float16_dtype_object_and_creation(backend):
    for name in _half_cases(backend):
        d = getattr(fnp, name)
        assert fnp.dtype(name) is d and fnp.isdtype(d, "real floating")
        assert fnp.issubdtype(d, fnp.floating) and not fnp.issubdtype(d, fnp.integer)
        x = backend.asarray([0.1, 0.2, 0.3])
        h = fnp.astype(x, d)
        assert _dtype_name(h) == name and backend.is_own(h)
        np.testing.assert_allclose(_values(backend, h), [0.1, 0.2, 0.3], rtol=RTOL[name])
        z = fnp.zeros_like(x, dtype=d)
        assert _dtype_name(z) == name and backend.is_own(z)
    assert fnp.half is fnp.float16
    assert fnp.float16 == np.float16 and np.dtype(fnp.float16) == np.float16
    y = fnp.float16(1.25)
    assert y.dtype == np.float16 and y.shape == () and float(y) == 1.25
    assert fnp.asarray([1.0, 2.0], dtype="f2").dtype == np.float16
    assert fnp.dtype(np.float16) is fnp.float16


def test_finfo_of_half_dtypes():
    f, n = fnp.finfo(fnp.float16), np.finfo(np.float16)
    for attr in ("bits", "eps", "max", "min", "smallest_normal", "smallest_subnormal",
                 "epsneg", "resolution", "precision", "nmant", "nexp", "machep", "negep",
                 "minexp", "maxexp"):
        assert getattr(f, attr) == getattr(n, attr), attr
    assert f.dtype is fnp.float16 and fnp.finfo(np.ones(2, np.float16)).eps == n.eps
    b = fnp.finfo(fnp.bfloat16)
    assert b.bits == 16 and b.eps == 2.0 ** -7 and b.nmant == 7 and b.nexp == 8
    assert b.smallest_normal == 2.0 ** -126 and b.smallest_subnormal == 2.0 ** -133
    assert b.max == (2.0 - 2.0 ** -7) * 2.0 ** 127 == -b.min
    torch = pytest.importorskip("torch")
    t = torch.finfo(torch.bfloat16)
    assert (b.eps, b.max, b.smallest_normal) == (t.eps, t.max, t.smallest_normal)
    # resolution: 10**-precision in bfloat16, as JAX's (ml_dtypes'), not torch's 0.01
    # (ml_dtypes.finfo(bfloat16).resolution)
    assert b.resolution == 0.010009765625
    assert fnp.finfo(torch.ones(2, dtype=torch.bfloat16)).dtype is fnp.bfloat16


def test_common_type_and_min_scalar_type_give_float16():
    assert fnp.common_type() is fnp.float16
    assert fnp.common_type(np.ones(2, np.float16)) is fnp.float16 == np.common_type(
        np.ones(2, np.float16))
    assert fnp.common_type(np.ones(2, np.float16), np.ones(2, np.float32)) is fnp.float32
    assert fnp.common_type(np.ones(2, np.float16), np.ones(2, np.int8)) is fnp.float64
    assert fnp.min_scalar_type(0.5) is fnp.float16 == np.min_scalar_type(0.5)


def test_info_namespace_lists_the_standard_dtypes_only():
    names = set(fnp.__array_namespace_info__().dtypes())
    assert "float32" in names and "float16" not in names and "bfloat16" not in names


# -- functions computed in float32, refusals ------------------------------------------------------


def test_special_functions_compute_half_in_float32(backend):
    from functrans.scipy import special
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, 0.2, 0.9)
        for f in (special.erf, special.gammaln, special.erfinv, special.i0e):
            y = f(x)
            assert _dtype_name(y) == name  # never a silent float64 (SciPy's erf of float16)
            y64 = f(x64)
            np.testing.assert_allclose(_values(backend, y), y64, rtol=RTOL[name] / 2)
            g = ft.grad(lambda v: fnp.sum(f(v)))(x)
            g64 = ft.grad(lambda v: fnp.sum(f(v)))(x64)
            assert _dtype_name(g) == name
            np.testing.assert_allclose(_values(backend, g), g64, rtol=RTOL[name])


@pytest.mark.parametrize("what", ["inv", "det", "solve", "cholesky", "svd", "eigh", "qr"])
def test_linalg_factorizations_refuse_half_with_advice(backend, what):
    for name in _half_cases(backend):
        a = _make(backend, np.eye(3) * 2.0 + 0.1, name)
        call = {"inv": fnp.linalg.inv, "det": fnp.linalg.det,
                "solve": lambda m: fnp.linalg.solve(m, m), "cholesky": fnp.linalg.cholesky,
                "svd": fnp.linalg.svd, "eigh": fnp.linalg.eigh, "qr": fnp.linalg.qr}[what]
        with pytest.raises(TypeError, match=f"no {name} version.*astype\\(x, float32\\)"):
            call(a)
        with pytest.raises(TypeError, match=f"no {name} version"):
            ft.grad(lambda m: fnp.sum(fnp.real(call(m)[0] if what in ("svd", "eigh", "qr")
                                               else call(m))))(a)
        # cast as advised: float32 in, float32 out
        r = call(fnp.astype(a, fnp.float32))
        first = r[0] if what in ("svd", "eigh", "qr") else r
        assert _dtype_name(first) == "float32"


def test_linalg_that_needs_no_factorization_works_in_half(backend):
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, -1.0, 1.0)
        n = fnp.linalg.norm(x)
        assert _dtype_name(n) == name
        np.testing.assert_allclose(float(_values(backend, n)), np.linalg.norm(x64),
                                   rtol=RTOL[name])
        sq = x[:, :3]
        p = fnp.linalg.matrix_power(sq, 2)
        assert _dtype_name(p) == name
        np.testing.assert_allclose(_values(backend, p), np.linalg.matrix_power(x64[:, :3], 2),
                                   rtol=RTOL[name], atol=RTOL[name])


def test_fft_of_float16_as_numpy(backend):
    for name in _half_cases(backend):
        x, x64 = _input(backend, name, -1.0, 1.0)
        for f, want in ((fnp.fft.fft, "complex64"), (fnp.fft.rfft, "complex64"),
                        (fnp.fft.irfft, name)):
            y = f(x)
            assert _dtype_name(y) == want
            if name == "float16":
                assert np.dtype(want) == getattr(np.fft, f.__name__)(
                    x64.astype(np.float16)).dtype
        g = ft.grad(lambda v: fnp.sum(fnp.abs(fnp.fft.rfft(v)) ** 2))(x)
        g64 = ft.grad(lambda v: fnp.sum(fnp.abs(fnp.fft.rfft(v)) ** 2))(x64)
        assert _dtype_name(g) == name
        np.testing.assert_allclose(_values(backend, g), g64, rtol=RTOL[name],
                                   atol=RTOL[name] * np.max(np.abs(g64)))


def test_strict_refuses_float16():
    import array_api_strict as xps
    x = xps.asarray([1.0, 2.0])
    with pytest.raises(UnsupportedBackendError, match="has no dtype float16.*float32"):
        fnp.astype(x, fnp.float16)
    with pytest.raises(UnsupportedBackendError, match="has no dtype bfloat16"):
        ft.grad(lambda v: fnp.sum(fnp.astype(v, "bfloat16")))(x)


def test_numpy_bfloat16_is_ml_dtypes():
    # (session 50: NumPy's bfloat16 is ml_dtypes' where that is installed; without it, a
    # clear error: tests/test_s50_bf16np50.py)
    if HAS_ML_DTYPES:
        assert fnp.astype(np.ones(2), fnp.bfloat16).dtype == ml_dtypes.bfloat16
        assert np.zeros(2, dtype=fnp.bfloat16).dtype == ml_dtypes.bfloat16
    else:
        with pytest.raises(UnsupportedBackendError, match="NumPy has no bfloat16.*ml_dtypes"):
            fnp.ones(3, dtype=fnp.bfloat16)
    assert not hasattr(fnp, "complex32")  # no complex half: float16 made complex is complex64
    assert fnp.result_type(fnp.float16, fnp.complex64) is fnp.complex64


def test_bfloat16_graph_prints_bf16():
    torch = pytest.importorskip("torch")
    g = ft.make_graph(lambda x: fnp.sin(x) * 2.0)(torch.ones(3, dtype=torch.bfloat16))
    assert "bf16[3]" in str(g) and "f16" not in str(g).replace("bf16", "")
    g = ft.make_graph(lambda x: fnp.sin(x) * 2.0)(np.ones(3, np.float16))
    assert "f16[3]" in str(g)


def test_check_grads_in_half_precision(backend):
    from functrans.testing import GradCheckError, check_grads
    for name in _half_cases(backend):
        x = _make(backend, np.linspace(0.6, 1.4, 4), name)
        for f in (fnp.sin, lambda v: v * v * v, lambda v: fnp.sum(fnp.sin(v) * v)):
            check_grads(f, (x,), order=2)
        # and a wrong rule is still caught at these tolerances (in bfloat16 only a gross one)
        factor = 1.5 if name == "float16" else -1.0
        wrong = ft.custom_jvp(fnp.sin)
        wrong.defjvp(lambda p, t: (fnp.sin(p[0]), factor * fnp.cos(p[0]) * t[0]))
        with pytest.raises(GradCheckError):
            check_grads(wrong, (x,), order=1, modes=("fwd",))


def test_numpy_float16_scalars_are_0d_float16():
    # (refused before float16 was a functrans dtype)
    g = ft.grad(lambda x: fnp.sin(x) * x)(np.float16(1.0))
    assert isinstance(g, np.ndarray) and g.shape == () and g.dtype == np.float16
    np.testing.assert_allclose(float(g), np.sin(1.0) + np.cos(1.0), rtol=1e-3)
    torch = pytest.importorskip("torch")
    t = torch.ones(3, dtype=torch.float16)
    assert fnp.multiply(t, np.float16(2.0)).dtype == torch.float16
    assert fnp.multiply(t, np.float32(2.0)).dtype == torch.float32  # NumPy scalars are typed


def test_means_and_variances_of_half_accumulate_in_float32(backend):
    # 20000 values: their float16 sum overflows (above 65504) and float16 counts exactly only
    # to 2048; the mean and variance are in range, as NumPy's mean and torch's and JAX's
    # mean/var give them (NumPy's var overflows to inf)
    for name in _half_cases(backend):
        data = np.where(np.arange(20000) % 2 == 0, 300.0, 1.0)
        x = _make(backend, data, name)
        want = {"mean": 150.5, "var": 149.5 ** 2, "std": 149.5, "nanmean": 150.5,
                "nanvar": 149.5 ** 2, "nanstd": 149.5}
        for fname, value in want.items():
            y = getattr(fnp, fname)(x)
            assert _dtype_name(y) == name
            np.testing.assert_allclose(float(_values(backend, y)), value, rtol=RTOL[name])
        if name == "float16":
            assert float(_values(backend, fnp.mean(x))) == float(np.mean(data.astype(np.float16)))
        # the derivative comes back in the input's dtype
        g = ft.grad(lambda v: fnp.mean(v) + fnp.std(v))(x[:8])
        g64 = ft.grad(lambda v: fnp.mean(v) + fnp.std(v))(data[:8])
        assert _dtype_name(g) == name
        np.testing.assert_allclose(_values(backend, g), g64, rtol=RTOL[name], atol=1e-3)


def test_random_half_samples_and_half_parameters():
    """float16 samples from JAX's 16-bit uniforms (random38; tests/test_s38_random38.py
    checks the values), bfloat16 refused; float16 probabilities drawn against float16
    uniforms (JAX's draws), not float32 ones (random38: were float32 draws)."""
    key = ft.random.key(0)
    # (random41: the truncated normal schemes draw half types; bfloat16 needs torch, or
    # ml_dtypes for NumPy: session 50)
    assert ft.nn.initializers.glorot_normal()(key, (2, 2), fnp.float16).dtype == np.float16
    assert ft.random.uniform(key, (2,), dtype="float16").dtype == np.float16
    assert ft.random.normal(key, (2,), dtype=fnp.float16).dtype == np.float16
    if HAS_ML_DTYPES:  # (gamma draws float16)
        assert ft.nn.initializers.glorot_normal()(key, (2, 2), fnp.bfloat16).dtype == \
            fnp.bfloat16
        assert ft.random.uniform(key, (2,), dtype="bfloat16").dtype == fnp.bfloat16
    assert ft.random.gamma(key, 1.0, (2,), dtype="float16").dtype == np.float16
    # (session 40: every floating sampler draws half types, the transform rounded once)
    ln = np.asarray(ft.random.lognormal(key, 1.0, (64,), dtype="float16"))
    assert ln.dtype == np.float16 and np.all(np.isfinite(ln)) and np.all(ln > 0)
    assert len(np.unique(ln)) > 32   # (from 16-bit uniforms: not float32's stream)
    p = np.asarray([0.25, 0.5, 0.75], np.float16)
    u = np.asarray(ft.random.uniform(key, (50, 3), dtype="float16"))
    np.testing.assert_array_equal(ft.random.bernoulli(key, p, (50, 3)), u < p)
    assert not np.array_equal(u < p, np.asarray(ft.random.uniform(key, (50, 3), "float32")) < p)


def _one_argument_special_functions():
    from functrans.scipy import special
    x = np.linspace(0.15, 0.85, 5)
    names = []
    for name in sorted(getattr(special, "__all__", dir(special))):
        f = getattr(special, name, None)
        if name.startswith("_") or not callable(f) or isinstance(f, type):
            continue
        try:
            y = f(x)
        except Exception:  # (not a function of one real array)
            continue
        if not isinstance(y, tuple):
            names.append(name)
    return names


@pytest.mark.parametrize("name", _one_argument_special_functions())
def test_every_special_function_of_one_argument_in_float16(name):
    # a function written on functrans.numpy in float64 constants (series, AGM, reductions)
    # must not overflow in 16 bits: values and derivatives as the float64 ones, rounded
    from functrans.scipy import special
    f = getattr(special, name)
    x16 = np.linspace(0.15, 0.85, 5).astype(np.float16)
    x64 = x16.astype(np.float64)
    y, y64 = f(x16), f(x64)
    # float16, or the dtype the function gives float64 input (polygamma, factorial: float64)
    assert y.dtype in (np.float16, y64.dtype) or (y64.dtype.kind == "c" and y.dtype.kind == "c")
    np.testing.assert_allclose(np.asarray(y, np.complex128), y64, rtol=2e-2, atol=1e-3)
    try:
        g64 = ft.grad(lambda v: fnp.sum(fnp.real(f(v))))(x64)
    except NotImplementedError:  # (no derivative in any dtype: zeta's in its exponent)
        return
    g = ft.grad(lambda v: fnp.sum(fnp.real(f(v))))(x16)
    assert g.dtype == np.float16
    np.testing.assert_allclose(g.astype(np.float64), g64, rtol=5e-2, atol=1e-2)
