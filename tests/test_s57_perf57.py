"""Session 57 (perf57): speed, with the values kept.

* incomplete_grads.gamma_quantile_d2 (d2x/da2 of the gamma inverses near the median for
  2.5 <= a < 7.5, session 56) ran its double-double sums as arrays whatever their size:
  ~500 NumPy calls, ~1.1 ms on one element, hessian(gammaincinv) at one point in that
  region +31-40 % over session 55. Up to 8 NumPy elements are now summed one at a time in
  Python floats (the same double-double terms, as a loop): ~0.11 ms an element. Before the
  fix test_gamma_quantile_d2_few_elements_make_no_array_calls failed (hundreds of calls);
  the values are checked against mpmath on both paths.
* exp2 / exp10 on small arrays: a Python number before an array (2.0 ** x, 1.0 - x, 1.0 / x) missed
  functrans.numpy's binary fast paths (they tested the first operand for an array or a
  forward-mode tracer) and took _binary's promotion path: fnp.exp2 of 10 elements 1.76 us
  (fnp.exp 0.53), now 1.07 (NumPy's power with a scalar base alone 0.49, exp 0.27);
  1.0 / x 1.31 -> 0.63 us, 1.0 - x 1.08 -> 0.69 (x - 1.0: 0.62).
  fsp.exp10 raised an array of tens to x (full_like, stop_gradient) in place of the Python
  number 10.0: its derivative took log(select(base == 0, 1, base)) of that array too; now
  pow(10.0, x), the same values: plain 7.3 -> 1.9 us, jvp 25-31 -> 11.4, grad 43 -> 23
  (min of 40 interleaved rounds, a shared and noisy machine). Before the fix
  test_number_before_array_binds_directly and test_exp10_jvp_is_one_pow_two_products
  failed.
* The generic gammaincinv / gammainccinv (array-api-strict, torch) warned "invalid value
  encountered in log" on every call with a > 1.65 (its first guess took the logarithm of a
  negative p / t in the branch for small a, unused there): each branch's logarithm now of a
  stand-in where the other is taken, the same values bit for bit (600 draws of a in
  1e-3..1e3). test_generic_gamma_inverses_silent failed before.
"""
import math
import warnings

import array_api_strict as xs
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp

# mpmath (50 digits): the root x of P(a, x) = y (findroot) and its d2x/da2 (mpmath.diff)
_D2_REFERENCE = [  # (a, y, x, d2x/da2)
    (3.0, 0.3, 1.9137757941270625038, 0.031889867470590832603),
    (5.5, 0.5, 5.170499037195912013, 0.00028534617473981970495),
    (7.25, 0.7, 8.386171758167285449, -0.0071485272370495666525),
]


def _numpy_backend():
    from functrans.backends import backend_of
    return backend_of(np.zeros(1))


@pytest.mark.parametrize("n_copies", [1, 3, 5])  # (3 and 15 elements: both paths)
def test_gamma_quantile_d2_against_mpmath(n_copies):
    from functrans.backends.incomplete_grads import gamma_quantile_d2
    a, _, x, ref = (np.array([r[i] for r in _D2_REFERENCE] * n_copies) for i in range(4))
    got = gamma_quantile_d2(_numpy_backend(), a, x)
    np.testing.assert_allclose(got, ref, rtol=2e-14)
    for ai, xi, ri in zip(a[:3], x[:3], ref[:3]):  # (one element)
        np.testing.assert_allclose(gamma_quantile_d2(_numpy_backend(), ai[None], xi[None]),
                                   [ri], rtol=2e-14)


def test_hessian_gammaincinv_in_the_double_double_region():
    h = ft.hessian(fsp.gammaincinv)
    for a, y, _, ref in _D2_REFERENCE:
        np.testing.assert_allclose(float(h(a, y)), ref, rtol=1e-13)
    got = ft.vmap(h)(np.array([r[0] for r in _D2_REFERENCE]),
                     np.array([r[1] for r in _D2_REFERENCE]))
    np.testing.assert_allclose(got, [r[3] for r in _D2_REFERENCE], rtol=1e-13)


def test_gamma_quantile_d2_few_elements_make_no_array_calls():
    from functrans.backends.incomplete_grads import gamma_quantile_d2
    real = _numpy_backend()
    calls = []

    class CountingNamespace:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real.xp, name)

    class Backend:
        xp = CountingNamespace()
        to_numpy = staticmethod(real.to_numpy)
        device = staticmethod(real.device)

    a, _, x, ref = _D2_REFERENCE[0]
    got = gamma_quantile_d2(Backend(), np.array([a]), np.array([x]))
    np.testing.assert_allclose(got, [ref], rtol=2e-14)
    assert len(calls) <= 4, calls  # (the reshapes; the array form: hundreds)


def test_number_before_array_binds_directly(monkeypatch):
    import functrans.numpy._base as base
    x = np.linspace(-3.0, 3.0, 7)
    x32 = x.astype(np.float32)

    def refuse(*args):
        raise AssertionError("the promotion path was taken")

    for v in (x, x32):  # (each primitive's implementations are cached at its first use)
        fnp.pow(v, v), fnp.subtract(v, v), fnp.divide(v, v + 10.0)
    monkeypatch.setattr(base, "_binary", refuse)
    assert np.array_equal(fnp.pow(2.0, x), np.power(2.0, x))
    assert fnp.pow(2.0, x32).dtype == np.float32
    assert np.array_equal(fnp.pow(2.0, x32), np.power(np.float32(2.0), x32))
    assert np.array_equal(fnp.subtract(1.0, x), 1.0 - x)
    assert np.array_equal(fnp.exp2(x), np.power(2.0, x))
    nz, nz32 = x[x != 0.0], x32[x32 != 0.0]
    assert np.array_equal(fnp.divide(1.0, nz), 1.0 / nz)
    assert np.array_equal(fnp.divide(3, nz32), np.float32(3) / nz32)
    assert fnp.divide(3, nz32).dtype == np.float32
    # forward mode: the tracer beside the number
    out, tan = ft.jvp(lambda v: fnp.pow(3.0, v), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(tan, math.log(3.0) * 3.0 ** x, rtol=1e-15)
    out, tan = ft.jvp(lambda v: 2.0 / v, (nz,), (np.ones(6),))
    np.testing.assert_allclose(tan, -2.0 / nz ** 2, rtol=1e-15)
    monkeypatch.undo()
    # (an integer array still promotes: 2 - int64 is int64, 2.0 - int64 float64)
    k = np.arange(3)
    assert fnp.subtract(2, k).dtype == np.int64 and fnp.subtract(2.0, k).dtype == np.float64


def test_exp10_jvp_is_one_pow_two_products():
    j = ft.make_jaxpr(lambda x, t: ft.jvp(fsp.exp10, (x,), (t,)))(np.ones(3), np.ones(3))
    assert [e.primitive.name for e in j.eqns] == ["pow", "mul", "mul"]


@pytest.mark.parametrize("fn, base", [(fsp.exp2, 2.0), (fsp.exp10, 10.0), (fnp.exp2, 2.0)])
def test_exp2_exp10_values_and_derivatives(fn, base):
    x = np.array([-3.5, -1.0, 0.0, 0.25, 1.0, 7.0, 30.0])
    ln = math.log(base)
    exact = np.array([base ** v for v in x.tolist()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(fn(x), exact, rtol=2e-16)
        np.testing.assert_allclose(fn(xs.asarray(x)), exact, rtol=2e-16)
        assert fn(x.astype(np.float32)).dtype == np.float32
        d1 = ft.vmap(ft.grad(fn))(x)
        d2 = ft.vmap(ft.grad(ft.grad(fn)))(x)
        np.testing.assert_allclose(d1, ln * exact, rtol=1e-15)
        np.testing.assert_allclose(d2, ln * ln * exact, rtol=1e-15)
        np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(fn)))(x), ln * exact, rtol=1e-15)
        d1s = ft.vmap(ft.grad(fn))(xs.asarray(x))
        np.testing.assert_allclose(np.asarray(d1s), ln * exact, rtol=1e-15)
        # central differences in float64 at 0.3
        h = 1e-5
        fd = (float(fn(0.3 + h)) - float(fn(0.3 - h))) / (2 * h)
        np.testing.assert_allclose(float(ft.grad(fn)(0.3)), fd, rtol=1e-9)
        # the dot-product identity of the VJP
        u, v = np.linspace(0.5, 1.5, 7), np.linspace(-1.0, 1.0, 7)
        _, jv = ft.jvp(fn, (x,), (v,))
        _, pull = ft.vjp(fn, x)
        (ju,) = pull(u)
        np.testing.assert_allclose(np.dot(u, jv), np.dot(ju, v), rtol=1e-14)
    if fn is not fnp.exp2:  # (functrans.scipy's beyond the overflow: silent, as SciPy's)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert fn(np.array([1e300]))[0] == math.inf


@pytest.mark.parametrize("lower", [True, False])
def test_generic_gamma_inverses_silent(lower):
    import scipy.special as ss
    a = np.array([0.05, 0.5, 1.7, 3.0, 10.0, 100.0, 0.01])
    y = np.array([0.01, 0.3, 0.7, 0.3, 0.99, 0.5, 0.9])
    fn, ref = ((fsp.gammaincinv, ss.gammaincinv) if lower
               else (fsp.gammainccinv, ss.gammainccinv))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = np.asarray(fn(xs.asarray(a), xs.asarray(y)))
        d = ft.grad(lambda v: fn(v, xs.asarray(0.3)))(xs.asarray(3.0))
    np.testing.assert_allclose(got, ref(a, y), rtol=1e-12)
    h = 1e-6
    fd = (ref(3.0 + h, 0.3) - ref(3.0 - h, 0.3)) / (2 * h)
    np.testing.assert_allclose(float(np.asarray(d)), fd, rtol=1e-8)
