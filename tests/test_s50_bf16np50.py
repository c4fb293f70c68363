"""Session 50, bf16np50: bfloat16 on NumPy arrays, through ml_dtypes' type (JAX's).

Fixed: ``fnp.ones(3, dtype=fnp.bfloat16)`` raised (NumPy has no bfloat16); now the NumPy
backend takes up ml_dtypes' bfloat16 (when ml_dtypes is imported, when such an array arrives,
or when bfloat16 is asked for: ml_dtypes is not imported with functrans), with JAX's
semantics: functrans's promotion (with float16: float32; with integers and Python scalars:
bfloat16), elementwise functions computed in float32 and rounded once (ml_dtypes' loops),
sums, products and cumulative sums accumulated in float32 and rounded once (ml_dtypes'
own accumulate in bfloat16: 10^4 uniforms summed to 256, not 4958), matmul, tensordot and
einsum computed in float32 and rounded once (NumPy gave float32 or raised), special functions
in float32, and derivatives of every transform in bfloat16. Without ml_dtypes the error says
to install it. Linear algebra factorizations stay refused in bfloat16, as in float16 (and as
JAX, whose CPU inv of bfloat16 raises NotImplementedError).

Left: operators on two concrete NumPy arrays other than ``@`` are NumPy's own (bfloat16 +
int32 array is float64 there, as float16 + int32 is): functrans.numpy's functions and traced
values follow functrans's rules.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fss
from functrans.errors import UnsupportedBackendError

ml_dtypes = pytest.importorskip("ml_dtypes")
BF = np.dtype(ml_dtypes.bfloat16)
F32 = np.float32
RNG = np.random.default_rng(50)


def bf(values):
    return np.asarray(values, F32).astype(BF)


def rounded(values):
    """float32 values rounded once to bfloat16, as float32 (the reference)."""
    return np.asarray(values, F32).astype(BF).astype(F32)


def f32(x):
    return np.asarray(x).astype(F32)


# -- creation, dtypes, promotion --------------------------------------------------------------


def test_creation_and_dtype_objects():
    x = fnp.ones(3, dtype=fnp.bfloat16)
    assert x.dtype == BF and (x * 2).dtype == BF and fnp.bfloat16 == x.dtype
    assert fnp.bfloat16.dtype == BF and np.zeros(2, dtype=fnp.bfloat16).dtype == BF
    for made in (fnp.zeros(2, fnp.bfloat16), fnp.full(2, 3.3, fnp.bfloat16),
                 fnp.arange(3, dtype=fnp.bfloat16), fnp.eye(2, dtype=fnp.bfloat16),
                 fnp.linspace(0.0, 1.0, 3, dtype="bfloat16"), fnp.asarray(ml_dtypes.bfloat16(2.5)),
                 fnp.astype(np.ones(2), fnp.bfloat16), fnp.bfloat16(1.7)):
        assert made.dtype == BF
    assert f32(fnp.full(2, 3.3, fnp.bfloat16))[0] == rounded(3.3)
    assert fnp.finfo(fnp.bfloat16).eps == ml_dtypes.finfo(BF).eps == 2.0 ** -7
    assert fnp.finfo(x).max == float(ml_dtypes.finfo(BF).max)
    assert fnp.finfo(x).tiny == float(ml_dtypes.finfo(BF).tiny)
    assert fnp.issubdtype(x.dtype, fnp.floating) and fnp.isdtype(x.dtype, "real floating")


def test_promotion_is_jaxs():
    x = bf([1.5, -2.0, 3.0])
    assert fnp.add(x, np.array([1, 2, 3], np.int32)).dtype == BF        # (NumPy: float64)
    assert fnp.multiply(np.array([1, 2, 3], np.int8), x).dtype == BF
    assert fnp.add(x, np.ones(3, np.float16)).dtype == np.float32
    assert fnp.add(x, np.ones(3, np.float32)).dtype == np.float32
    assert fnp.add(x, np.ones(3)).dtype == np.float64
    assert (fnp.add(x, 1).dtype, fnp.add(x, 1.5).dtype) == (BF, BF)
    assert fnp.add(x, 1j).dtype == np.complex64
    assert fnp.result_type(x, fnp.float16) is fnp.float32
    assert fnp.result_type(x, 2.0) is fnp.bfloat16
    assert fnp.where(x > 0, x, np.array([0, 0, 0], np.int32)).dtype == BF


# -- values: elementwise, reductions, products, special functions ------------------------------


def test_elementwise_computed_in_float32_rounded_once():
    x = bf(RNG.uniform(0.1, 3.0, 200))
    for f, g in ((fnp.sin, np.sin), (fnp.exp, np.exp), (fnp.tanh, np.tanh),
                 (fnp.log1p, np.log1p), (fnp.sqrt, np.sqrt)):
        out = f(x)
        assert out.dtype == BF
        np.testing.assert_array_equal(f32(out), rounded(g(f32(x))))
    # where(c, 0.0, x): NumPy gives float32 for it (where(c, x, 0.0) bfloat16)
    assert fnp.where(x > 1, 0.0, x).dtype == BF
    assert fnp.clip(x, 0.5, 1.0).dtype == BF


def test_reductions_accumulate_in_float32():
    x = bf(RNG.uniform(0.0, 1.0, 10_000))
    want = rounded(np.sum(f32(x), dtype=np.float64))
    assert fnp.sum(x).dtype == BF and f32(fnp.sum(x)) == want       # (bfloat16 sum: 256)
    assert f32(fnp.cumsum(x)[-1]) == want
    assert f32(fnp.mean(x)) == rounded(np.mean(f32(x), dtype=np.float64))
    p = fnp.full(100, 1.01, fnp.bfloat16)
    assert f32(fnp.prod(p)) == rounded(np.prod(f32(p), dtype=np.float64))  # (bf16 loop: 2.06)
    m = bf(RNG.standard_normal((30, 40)))
    np.testing.assert_array_equal(f32(fnp.sum(m, axis=0)), rounded(f32(m).sum(0)))
    assert f32(fnp.max(m)) == f32(m).max()


def test_products_in_float32_rounded_once():
    a, b = bf(RNG.standard_normal((5, 64))), bf(RNG.standard_normal((64, 3)))
    want = rounded(f32(a) @ f32(b))
    for out in (fnp.matmul(a, b), fnp.einsum("ij,jk->ik", a, b), fnp.tensordot(a, b, 1),
                fnp.dot(a, b), fnp.asarray(a) @ fnp.asarray(b)):
        assert out.dtype == BF
        np.testing.assert_allclose(f32(out), want, rtol=2 ** -8)
    np.testing.assert_array_equal(f32(fnp.matmul(a, b)), want)
    # vecdot: float32 products and sum rounded once (each product rounded to bfloat16 gave
    # -13.875 here, JAX's -13.9375); its derivative in bfloat16
    v = bf(np.random.default_rng(8).standard_normal((2, 256)))
    assert fnp.vecdot(v[0], v[1]).dtype == BF
    assert f32(fnp.vecdot(v[0], v[1])) == rounded(f32(v[0]) @ f32(v[1])) == -13.9375
    gv = ft.grad(lambda u: fnp.vecdot(u, v[1]))(v[0])
    assert gv.dtype == BF
    np.testing.assert_array_equal(f32(gv), f32(v[1]))


def test_special_functions_and_linalg():
    x = bf(RNG.uniform(0.2, 4.0, 50))
    import scipy.special as sc
    for f, g in ((fss.erf, sc.erf), (fss.gammaln, sc.gammaln), (fss.digamma, sc.digamma)):
        out = f(x)
        assert out.dtype == BF
        np.testing.assert_array_equal(f32(out), rounded(g(f32(x))))
    assert fss.logsumexp(x).dtype == BF
    assert f32(fnp.linalg.norm(x)) == pytest.approx(float(np.linalg.norm(f32(x))), rel=2 ** -7)
    m = bf(RNG.standard_normal((3, 3)))
    assert fnp.linalg.matrix_power(m, 2).dtype == BF
    # factorizations: refused with advice, as for float16 (JAX: NotImplementedError)
    with pytest.raises(TypeError, match="inv: no bfloat16 version.*float32"):
        fnp.linalg.inv(m)


# -- derivatives ------------------------------------------------------------------------------


def _mlp(x):
    w = fnp.reshape(x[:12], (4, 3))
    h = fnp.tanh(fnp.ones((2, 4), dtype=x.dtype) @ w + x[12:15])
    return fnp.sum(ft.nn.softmax(h) * fnp.exp(0.3 * h)) + fnp.mean(x * x)


def test_derivatives_in_bfloat16_against_float32():
    x = bf(RNG.uniform(-1.0, 1.0, 15))
    g, g32 = ft.grad(_mlp)(x), ft.grad(_mlp)(f32(x))
    assert g.dtype == BF
    np.testing.assert_allclose(f32(g), g32, rtol=3e-2, atol=1e-2 * np.abs(g32).max())
    t = bf(RNG.uniform(-1.0, 1.0, 15))
    (y, ty), (_, ty32) = ft.jvp(_mlp, (x,), (t,)), ft.jvp(_mlp, (f32(x),), (f32(t),))
    assert y.dtype == ty.dtype == BF
    assert float(f32(ty)) == pytest.approx(float(ty32), rel=3e-2, abs=1e-2)
    _, pull = ft.vjp(_mlp, x)
    (gv,) = pull(bf(1.0))
    assert gv.dtype == BF
    # second order; jacobians, vmap and jit keep bfloat16
    h, h32 = ft.hessian(_mlp)(x), ft.hessian(_mlp)(f32(x))
    assert h.dtype == BF
    np.testing.assert_allclose(f32(h), h32, atol=3e-2 * np.abs(h32).max())
    f = lambda v: fnp.sin(v) * fnp.sum(v)  # noqa: E731
    jf, jr = ft.jacfwd(f)(x[:4]), ft.jacrev(f)(x[:4])
    assert jf.dtype == jr.dtype == BF
    np.testing.assert_allclose(f32(jf), f32(jr), atol=2e-2)
    np.testing.assert_allclose(f32(jf), ft.jacfwd(f)(f32(x[:4])), atol=3e-2)
    assert ft.vmap(ft.grad(lambda v: fnp.sum(v @ v)))(bf(np.ones((3, 4)))).dtype == BF
    gj = ft.jit(ft.grad(_mlp))(x)
    assert gj.dtype == BF   # (its graph may round a product or sum elsewhere: an ulp or two)
    np.testing.assert_allclose(f32(gj), f32(g), rtol=2 ** -6, atol=2 ** -8)
    # a gradient through select with a zero branch (where(c, 0.0, ct): NumPy's float32)
    gw = ft.grad(lambda v: fnp.sum(fnp.where(v > 0, v * v, 0.0)))(x)
    assert gw.dtype == BF
    np.testing.assert_array_equal(f32(gw), rounded(np.where(f32(x) > 0, 2 * f32(x), 0.0)))


def test_graph_prints_bf16():
    g = ft.make_graph(lambda v: fnp.sin(v) * 2.0)(bf([1.0, 2.0, 3.0]))
    assert "bf16[3]" in str(g)
    assert "bfloat16" in repr(fnp.ones(2, dtype=fnp.bfloat16))


# -- without ml_dtypes; loaded lazily ---------------------------------------------------------


def test_without_ml_dtypes_the_error_says_to_install_it(monkeypatch):
    from functrans.backends import numpy_backend as nb
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # (import ml_dtypes: ImportError)
    with pytest.raises(TypeError, match="NumPy has no bfloat16.*pip install ml_dtypes.*"
                                        r"functrans\[bfloat16\]"):
        fnp.bfloat16.dtype
    fresh = nb.NumPyBackend("numpy", nb._xp, nb._types, nb._pairs)  # (never registered)
    with pytest.raises(UnsupportedBackendError, match="pip install ml_dtypes"):
        fresh.native_dtype(fnp.bfloat16)
    assert fresh.native_dtype(fnp.float16) == np.float16


def test_ml_dtypes_is_imported_only_when_needed():
    code = (
        "import sys, numpy as np, functrans as ft, functrans.numpy as fnp\n"
        "ft.grad(lambda v: fnp.sum(fnp.sin(v)))(np.ones(3))\n"
        "assert 'ml_dtypes' not in sys.modules\n"
        "import ml_dtypes\n"   # (after the NumPy backend: its arrays are taken up on arrival)
        "x = np.ones(3, ml_dtypes.bfloat16)\n"
        "assert ft.grad(lambda v: fnp.sum(fnp.sin(v)))(x).dtype == x.dtype\n"
        "assert fnp.result_type(x[0]) is fnp.bfloat16\n")
    # and imported before functrans (as JAX imports it): taken up as the backend loads
    before = ("import sys, ml_dtypes, numpy as np, functrans as ft, functrans.numpy as fnp\n"
              "x = np.ones((2, 2), ml_dtypes.bfloat16)\n"
              "assert fnp.matmul(x, x).dtype == x.dtype and fnp.sum(x).dtype == x.dtype\n")
    for c in (code, before):
        out = subprocess.run([sys.executable, "-c", c], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]


# -- the other dtypes are as they were -------------------------------------------------------


def test_other_dtypes_unchanged():
    from functrans.backends import get_backend
    xp = get_backend("numpy").xp
    h = np.ones((2, 3), np.float16)
    assert fnp.matmul(h, h.T).dtype == np.float16 and (h @ h.T).dtype == np.float16
    assert fnp.where(h > 0, 0.0, h).dtype == np.float16
    x = RNG.uniform(0, 1, 1000).astype(np.float32)
    assert fnp.sum(x).dtype == np.float32 and fnp.sum(x) == np.add.reduce(x, dtype=np.float32)
    assert xp.isdtype(np.dtype(np.float32), "real floating")
    assert not xp.isdtype(np.dtype(np.int32), "real floating")
    assert xp.isdtype(BF, "real floating") and not xp.isdtype(BF, "integral")
    assert xp.isdtype(BF, ("integral", "real floating"))
    assert fnp.add(np.ones(2, np.float16), np.ones(2, np.int32)).dtype == np.float16
