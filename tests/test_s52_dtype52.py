"""Session 52, dtype52: float16 and bfloat16 in scipy.special, numpy's statistics and
polynomial functions, and nn's masked softmax on empty arrays.

Fixed:
- ``functrans.scipy.special``: the functions of several arguments (``kl_div``, ``rel_entr``,
  ``huber``, ``pseudo_huber``, ``boxcox``, ``boxcox1p``, ``zeta`` and 40 more: ``betainc``,
  ``poch``, ``hyp1f1``, ``jv``, the cdflib family...) gave float64 for float16/bfloat16
  operands (``expn``, ``pdtri`` and ``nbdtr*`` float32) where the one-argument functions
  keep the 16-bit type, as JAX does. The module's rule is now one: a 16-bit float is taken
  as float32 is (SciPy's float16 loops are its float32 ones), and where float32 operands
  give float32 the 16-bit ones give their own type, computed as the float32 path computes
  (in float64 or float32) and rounded once; float16 with bfloat16 gives float32; the
  functions that give float64 for float32 (``polygamma``, ``multigammaln``, ``factorial``)
  still do.
- ``beta``, ``betaln``, ``expit``, ``logit``, ``log_expit``, ``entr``, ``xlogy``,
  ``xlog1py`` kept the 16-bit type but computed in it (``betaln`` up to 30 float16 and 81
  bfloat16 ulps off, the others 1-3); ``ndtr`` and ``log_ndtr`` 1-4 ulps: now float32 (the
  last two float64, as for float32) rounded once, equal to the wide result rounded.
- ``nn.softmax`` / ``log_softmax`` with ``where=`` on an empty array (or an empty reduced
  axis) raised NumPy's "zero-size array to reduction operation maximum"; now the empty
  array, as JAX.
- ``fnp.linspace`` of two bfloat16 NumPy scalars was float64 (float16 ones give float16).

Decided and pinned (docs/api/numpy.md): functrans.numpy's ``cov``, ``corrcoef``,
``polyder``, ``polyint``, ``poly``, ``vander``, ``float_power``, ``interp`` and
``bincount(weights=)`` give NumPy's dtype for float16 (float64, as they do for float32:
NumPy's functions widen; JAX keeps the 16-bit type) and bfloat16 follows float16.

Left: the derivatives of the one-argument primitives (``erf``, ``erfinv``, ``ndtri``,
``gammainc``...) are computed in the 16-bit type, 1-3 ulps from the float64 slope rounded,
as JAX's; ``sinc`` (NumPy's, in the input's type) loses its digits near the integers.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.scipy.special as fss

ml_dtypes = pytest.importorskip("ml_dtypes")
BF = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)
HALVES = (F16, BF)
RNG = np.random.default_rng(52)


def _operands(values, dtype, n=24):
    """Each value times a random factor in [0.6, 1.6], in ``dtype``."""
    return [np.asarray(v * RNG.uniform(0.6, 1.6, n), np.float32).astype(dtype) for v in values]


def _same(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    np.testing.assert_array_equal(a, b)


# name, typical operands; the float32 path computed in float64 ('64') or in float32 ('32')
MULTI = [("kl_div", (1.5, 0.7), "32"), ("rel_entr", (1.5, 0.7), "32"),
         ("huber", (1.5, 0.7), "64"), ("pseudo_huber", (1.5, 0.7), "64"),
         ("boxcox", (1.5, 0.5), "32"), ("boxcox1p", (1.5, 0.5), "32"),
         ("zeta", (2.5, 1.5), "64"), ("poch", (1.5, 2.0), "64"), ("comb", (5.0, 2.0), "32"),
         ("betainc", (1.5, 2.0, 0.3), "64"), ("owens_t", (0.5, 0.7), "64"),
         ("hyp1f1", (0.5, 1.5, 0.3), "64"), ("jv", (1.0, 1.5), "64"),
         ("stdtr", (2.0, 0.7), "64"), ("inv_boxcox", (1.5, 0.5), "64")]
# the ones that kept the 16-bit type but computed in it
COMPOSED = [("beta", (1.5, 0.7), "32"), ("betaln", (1.5, 0.7), "32"), ("expit", (1.5,), "32"),
            ("logit", (0.3,), "32"), ("log_expit", (1.5,), "32"), ("entr", (0.7,), "32"),
            ("xlogy", (1.5, 0.7), "32"), ("xlog1py", (1.5, 0.7), "32"),
            ("ndtr", (-1.5,), "64"), ("log_ndtr", (-1.5,), "64")]


@pytest.mark.parametrize("dtype", HALVES, ids=str)
@pytest.mark.parametrize("name,values,wide", MULTI + COMPOSED, ids=lambda v: str(v)[:12])
def test_special_half_is_its_type_rounded_once(name, values, wide, dtype):
    f = getattr(fss, name)
    args = _operands(values, dtype)
    out = f(*args)
    assert out.dtype == dtype
    w = np.float64 if wide == "64" else np.float32
    _same(out, np.asarray(f(*[a.astype(w) for a in args])).astype(dtype))


def test_special_half_values_and_derivatives_against_scipy():
    import scipy.special as sc
    for name, values, _ in MULTI[:7] + COMPOSED[:2]:
        for dtype, ulp in ((F16, 2.0 ** -10), (BF, 2.0 ** -7)):
            args = _operands(values, dtype)
            want = getattr(sc, name)(*[a.astype(np.float64) for a in args])
            got = np.asarray(getattr(fss, name)(*args), np.float64)
            # within half an ulp of SciPy's float64 value (and a hair for its own error)
            assert np.all(np.abs(got - want) <= 0.5001 * ulp * 2.0 ** np.floor(
                np.log2(np.abs(want)))), name
            # the derivative in the last operand: the 16-bit type, the float64 one rounded
            def total(z, args=args, f=getattr(fss, name)):
                return fnp.sum(f(*args[:-1], z))
            g = ft.grad(total)(args[-1])
            assert g.dtype == dtype
            g64 = ft.grad(lambda z: fnp.sum(getattr(fss, name)(
                *[a.astype(np.float64) for a in args[:-1]], z)))(args[-1].astype(np.float64))
            if name in ("kl_div", "rel_entr", "boxcox", "boxcox1p", "beta", "betaln"):
                g64 = np.asarray(ft.grad(lambda z: fnp.sum(getattr(fss, name)(
                    *[a.astype(np.float32) for a in args[:-1]], z)))(
                        args[-1].astype(np.float32)))   # (computed in float32)
            _same(g, np.asarray(g64).astype(dtype))


def test_special_half_promotion():
    h = np.asarray([1.5, 2.5], F16)
    b = h.astype(BF)
    assert fss.huber(0.5, h).dtype == F16                 # a Python number is weak
    assert fss.kl_div(h, np.float32(0.5) * np.ones(2, np.float32)).dtype == np.float32
    assert fss.kl_div(h, b).dtype == np.float32           # (neither holds the other)
    assert fss.boxcox(b, np.asarray([1, 2], np.int8)).dtype == BF
    assert fss.zeta(h, 1.5).dtype == F16 and fss.zeta(b).dtype == BF
    assert fss.expn(2, h).dtype == np.float64             # (a Python int order: SciPy's 'ld')
    assert fss.expn(np.asarray([1.0, 2.0], F16), h).dtype == F16
    assert fss.expn(2.0, b).dtype == BF
    assert fss.nbdtr(np.asarray([1.0, 2.0], F16), h * 2, np.asarray([0.3, 0.4], F16)).dtype == F16
    # float32 and float64 as before
    x32 = np.asarray([1.5, 2.5], np.float32)
    assert fss.kl_div(x32, x32).dtype == np.float32 and fss.kl_div(x32, 0.5).dtype == np.float32
    assert fss.betainc(x32, x32, 0.5).dtype == np.float32 and fss.beta(x32, 0.5).dtype == np.float64
    assert fss.polygamma(1, h).dtype == np.float64        # (float64 for every input)


def test_special_half_on_torch():
    torch = pytest.importorskip("torch")
    for name, values, wide in (MULTI[0], MULTI[2], MULTI[6], COMPOSED[1]):
        for td, nd in ((torch.float16, F16), (torch.bfloat16, BF)):
            args = [torch.from_numpy(a.astype(np.float32)).to(td)
                    for a in _operands(values, nd)]
            out = getattr(fss, name)(*args)
            assert out.dtype == td, name
            w = torch.float64 if wide == "64" else torch.float32
            want = getattr(fss, name)(*[a.to(w) for a in args]).to(td)
            assert torch.equal(out, want), name


# -- functrans.numpy: NumPy's dtypes for float16; bfloat16 as float16 --------------------------

NP_CASES = {
    "cov": lambda L, a, m: L.cov(m), "corrcoef": lambda L, a, m: L.corrcoef(m),
    "polyder": lambda L, a, m: L.polyder(a), "polyint": lambda L, a, m: L.polyint(a),
    "poly": lambda L, a, m: L.poly(a), "vander": lambda L, a, m: L.vander(a),
    "float_power": lambda L, a, m: L.float_power(a, a),
    "interp": lambda L, a, m: L.interp(a, np.sort(a), a),
    "bincount": lambda L, a, m: L.bincount(np.array([0, 1, 1, 2, 0, 3]), weights=a),
    "polyval": lambda L, a, m: L.polyval(a, a), "mean": lambda L, a, m: L.mean(a),
}


@pytest.mark.parametrize("name", sorted(NP_CASES))
def test_numpy_half_follows_numpys_float16(name):
    f = NP_CASES[name]
    x = RNG.uniform(0.2, 3.0, 6).astype(np.float32)
    m = RNG.uniform(0.2, 3.0, (3, 5)).astype(np.float32)
    for dtype in (np.float32, F16):
        a, am = x.astype(dtype), m.astype(dtype)
        got, want = f(fnp, a, am), f(np, a, am)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                                   rtol=1e-12 if want.dtype == np.float64 else 0)
    # bfloat16: float16's dtype (its values from the same wide computation)
    got = f(fnp, x.astype(BF), m.astype(BF))
    like = f(fnp, x.astype(F16), m.astype(F16))
    assert got.dtype == (BF if like.dtype == F16 else like.dtype)
    want = f(np, x.astype(BF).astype(np.float64), m.astype(BF).astype(np.float64))
    np.testing.assert_allclose(np.asarray(got, np.float64), want,
                               rtol=1e-12 if got.dtype == np.float64 else 2.0 ** -6)  # (Horner in 16 bits)


def test_linspace_of_half_scalars():
    b = np.asarray([0.5, 2.0], BF)
    out = fnp.linspace(b[0], b[1], 4)                     # (was float64)
    assert out.dtype == BF
    _same(out, np.asarray([0.5, 1.0, 1.5, 2.0]))
    assert fnp.linspace(np.float16(0.5), b[1], 3).dtype == np.float32
    assert fnp.linspace(np.float16(0.5), 2.0, 3).dtype == F16
    assert fnp.linspace(np.float32(0.5), 2.0, 3).dtype == np.float32


# -- nn: masked softmax of empty arrays ----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, F16, BF], ids=str)
def test_masked_softmax_of_empty_arrays(dtype):
    for shape, axis in (((0,), -1), ((2, 0), -1), ((0, 3), -1), ((0, 3), 0), ((0, 3), None),
                        ((2, 0, 3), (0, 2))):
        x, w = np.zeros(shape, dtype), np.zeros(shape, bool)
        for f in (fnn.softmax, fnn.log_softmax):
            out = f(x, axis=axis, where=w)
            assert out.shape == shape and out.dtype == dtype
        lse = fnn.logsumexp(x, axis=axis, where=w)
        kept = tuple(n for i, n in enumerate(shape)
                     if axis is not None and i not in np.atleast_1d(axis) % len(shape))
        assert lse.shape == kept and np.all(np.asarray(lse, np.float64) == -np.inf)
    # and their derivatives (empty), under jit too
    x = np.zeros((2, 0), dtype)
    g = ft.grad(lambda v: fnp.sum(fnn.log_softmax(v, where=v > 0)))(x)
    assert g.shape == (2, 0) and g.dtype == dtype
    assert ft.jit(lambda v: fnn.softmax(v, where=v > 0))(x).shape == (2, 0)
    # a non-empty masked softmax as before: excluded entries 0 / -inf
    v = np.asarray([1.0, 2.0, 3.0], dtype)
    out = fnn.log_softmax(v, where=np.asarray([True, False, True]))
    assert out.dtype == dtype and np.asarray(out, np.float64)[1] == -np.inf
