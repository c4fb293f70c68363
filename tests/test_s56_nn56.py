"""Session 56 (nn56): complex and infinite log-sum-exp in nn / numpy / lax.

Fixed:
- ``nn.logsumexp`` with ``where=`` refused complex ``a`` ("functrans.nn functions take real
  arrays") where ``jax.nn.logsumexp`` computes it; now the complex path of
  ``scipy.special.logsumexp`` (one place for the math), with ``b``, ``return_sign``, axis,
  keepdims, under jvp / vjp / jit / vmap; so does ``nn.logmeanexp`` (also without where).
- ``nn.logmeanexp`` with nothing to average under ``where``: nan (right) with two warnings
  (log(0), inf - inf); silent now, as JAX.
- ``scipy.special.logsumexp(..., return_sign=True)`` of a complex slice with ``+inf`` real
  parts gave the sign 0 (the slice counted as empty); now the phase of their common
  imaginary part (nan + nan j where they differ: no limit). JAX 0.10.2: nan + nan j.
- The JVP rule of the real ``logaddexp`` (and its jet rule) computed ``inf - inf`` at equal
  infinities: an "invalid value encountered in subtract" warning (the derivative, 1/2 each,
  was right and stays; JAX 0.10.2 gives 1 each at ``(inf, inf)`` and nan at ``(-inf, -inf)``).
- ``lax.cumlogsumexp`` of a real array holding a nan warned (NumPy's logaddexp at a nan
  operand); silent now on concrete values, as JAX.

Left (strict xfails below): ``nn.standardize`` of entries past 1.3e154 overflows its variance and gives 0 (JAX: nan).
``functrans.numpy.logaddexp`` keeps NumPy's warning at a nan operand (as ``fnp.log(-1)``
keeps NumPy's), so do ``nn.softplus(nan)`` and ``nn.mish(nan)``: avoiding it costs a host
read per call (+40 % on a scalar), and ``jit(lax.cumlogsumexp)`` of a nan warns.
``nn.log1mexp``'s derivative at ``x >= 710`` warns (expm1 overflows; the slope 0 is right):
avoiding it took 7 more operations in grad(log1mexp) (24 -> 31).
"""

import warnings

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.scipy.special as fsp
from functrans.experimental.jet import jet

INF, NAN = np.inf, np.nan


def _quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(*args, **kwargs)


def _mp_lse(zs, ws=None):
    ws = [1.0] * len(zs) if ws is None else ws
    with mp.workdps(40):
        return complex(mp.log(mp.fsum(mp.mpc(w.real, w.imag) * mp.exp(mp.mpc(z.real, z.imag))
                                      for z, w in zip(zs, ws))))


_A = np.array([[1 + 2j, -0.5 + 3j, 2 - 1j], [0.3 - 0.2j, 1j, -2 + 0.5j]])
_W = np.array([[True, False, True], [False, False, False]])
_B = np.array([0.5j, 2.0, 1.0 - 1j])


def test_nn_logsumexp_complex_where_values():
    # (JAX 0.10.2: [1.55045464-0.91852774j, -inf+0j]; functrans refused)
    got = _quiet(fnn.logsumexp, _A, axis=1, where=_W)
    assert got.dtype == np.complex128 and got.shape == (2,)
    np.testing.assert_allclose(got[0], _mp_lse([_A[0, 0], _A[0, 2]]), rtol=1e-15)
    assert got[1] == complex(-INF, 0.0)
    got = _quiet(fnn.logsumexp, _A, axis=1, where=_W, b=_B)
    np.testing.assert_allclose(got[0], _mp_lse([_A[0, 0], _A[0, 2]], [_B[0], _B[2]]),
                               rtol=1e-15)
    assert got[1] == complex(-INF, 0.0)
    out, sign = _quiet(fnn.logsumexp, _A, axis=1, where=_W, return_sign=True, keepdims=True)
    want = _mp_lse([_A[0, 0], _A[0, 2]])
    assert out.shape == sign.shape == (2, 1) and out.dtype == np.float64
    np.testing.assert_allclose(out[0, 0], want.real, rtol=1e-15)
    np.testing.assert_allclose(sign[0, 0], np.exp(1j * want.imag), rtol=1e-15)
    assert out[1, 0] == -INF and sign[1, 0] == 0
    # all entries: as without where; a real a with complex b through where too
    np.testing.assert_allclose(fnn.logsumexp(_A, where=np.ones((2, 3), bool)),
                               fnn.logsumexp(_A), rtol=1e-15)
    np.testing.assert_allclose(fnn.logsumexp(_A.real, axis=1, where=_W, b=_B)[0],
                               _mp_lse([_A[0, 0].real, _A[0, 2].real], [_B[0], _B[2]]),
                               rtol=1e-15)
    assert fnn.logsumexp(_A.astype(np.complex64), where=_W).dtype == np.complex64


def test_nn_logsumexp_complex_where_edges():
    # an excluded entry holding nan or +inf leaves the slice (JAX: inf + pi/4 j where two
    # kept... here the one kept is the limit)
    a = np.array([[complex(INF, 1.0), complex(INF, 2.0)], [complex(NAN, 0.0), 1j],
                  [complex(-INF, 0.0), complex(-INF, 1.0)], [np.pi * 1j, np.pi * 1j]])
    w = np.array([[True, False], [False, True], [True, True], [True, True]])
    got = _quiet(fnn.logsumexp, a, axis=1, where=w)
    assert got[0] == complex(INF, 1.0)
    assert got[1] == 1j
    assert got[2] == complex(-INF, 0.0)
    assert got[3] == complex(np.log(2.0), np.pi)     # (JAX: 7.5e-33 + pi j)


@pytest.mark.parametrize("kw", [dict(axis=1, where=_W[[0, 0]]),
                                dict(axis=0, where=np.array([[1, 0, 1], [1, 1, 0]], bool),
                                     b=_B),
                                dict(axis=1, where=_W[[0, 0]], return_sign=True)])
def test_nn_logsumexp_complex_where_derivatives(kw):
    rng = np.random.default_rng(56)

    def f(a):
        out = fnn.logsumexp(a, **kw)
        return out[1] * out[0] if kw.get("return_sign") else out
    x = _A
    t = rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
    y, jt = _quiet(ft.jvp, f, (x,), (t,))
    h = 1e-6
    np.testing.assert_allclose(jt, (f(x + h * t) - f(x - h * t)) / (2 * h), atol=1e-8)
    # the excluded entries (column 1) get no derivative
    (g,) = ft.vjp(f, x)[1](np.ones(np.shape(y)) + 0.5j)
    assert np.all(g[~kw["where"]] == 0) and np.all(g[kw["where"]] != 0)
    ct = rng.standard_normal(np.shape(y)) + 1j * rng.standard_normal(np.shape(y))
    (g,) = ft.vjp(f, x)[1](ct)
    assert abs(np.real(np.sum(ct * jt)) - np.real(np.sum(g * t))) < 1e-12

    def f2(a):
        return ft.jvp(f, (a,), (t,))[1]
    _, j2 = ft.jvp(f2, (x,), (t,))
    np.testing.assert_allclose(j2, (f2(x + h * t) - f2(x - h * t)) / (2 * h), atol=1e-7)
    np.testing.assert_allclose(ft.jit(f)(x), y, rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(f)(np.stack([x, 2 * x]))[0], y, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.vmap(f))(np.stack([x, x]))[1], y, rtol=1e-14)


def test_logsumexp_complex_sign_at_infinite_real_parts():
    out, sign = _quiet(fsp.logsumexp, np.array([complex(INF, 1.0), 1 + 1j, 2j]),
                       return_sign=True)
    assert out == INF and sign == np.exp(1j)   # (was sign 0; JAX nan + nan j)
    out, sign = _quiet(fsp.logsumexp, np.array([complex(INF, 1.0), complex(INF, 2.0)]),
                       return_sign=True)
    assert out == INF and np.isnan(sign.real) and np.isnan(sign.imag)
    out, sign = fnn.logsumexp(np.array([[complex(-INF, 1.0), complex(-INF, 0.0)]]), axis=1,
                              return_sign=True)
    assert out[0] == -INF and sign[0] == 0


@pytest.mark.parametrize("x, y, dx, dy", [(INF, INF, 0.5, 0.5), (-INF, -INF, 0.5, 0.5),
                                          (INF, -INF, 1.0, 0.0), (INF, 1.0, 1.0, 0.0),
                                          (1.0, 1.0, 0.5, 0.5)])
def test_logaddexp_jvp_at_infinities_is_quiet(x, y, dx, dy):
    # JAX 0.10.2: (inf, inf) -> 1, 1; (-inf, -inf) -> nan; (inf, 1) -> 1, e: the limits here
    _, t = _quiet(ft.jvp, fnp.logaddexp, (x, y), (1.0, 0.0))
    assert t == dx
    _, t = _quiet(ft.jvp, fnp.logaddexp, (x, y), (0.0, 1.0))
    assert t == dy
    assert _quiet(ft.grad(fnp.logaddexp, 1), x, y) == dy
    h = _quiet(ft.hessian(fnp.logaddexp, (0, 1)), x, y)
    want = 0.25 if x == y == 1.0 else 0.0
    assert h[0][0] == want and h[0][1] == -want
    if np.isfinite(x):
        # the jet rule shares the weight (at infinite points its coefficients are nan)
        _, (s1, s2) = _quiet(jet, lambda a: fnp.logaddexp(a, y), (x,), ((1.0, 0.0),))
        assert s1 == dx and s2 == want


def test_logaddexp_second_derivative_at_equal_finite_values():
    # the gap's tangent is kept where the values are equal and finite (d^2/dx^2 = 1/4)
    for v in (0.0, 1e300, -3.5):
        assert ft.grad(ft.grad(fnp.logaddexp))(v, v) == 0.25


def test_cumlogsumexp_real_nan_is_quiet():
    x = np.array([1.0, NAN, 2.0])
    y = _quiet(flax.cumlogsumexp, x)
    assert y[0] == 1.0 and np.isnan(y[1:]).all()
    # (JAX's jacfwd: [[1, 0, 0], [nan] * 3, [nan] * 3])
    j = _quiet(ft.jacfwd(flax.cumlogsumexp), x)
    np.testing.assert_array_equal(j[0], [1.0, 0.0, 0.0])
    assert np.isnan(j[1:]).all()
    assert np.isnan(_quiet(ft.vmap(flax.cumlogsumexp), np.stack([x, x]))[:, 1:]).all()
    yr = _quiet(flax.cumlogsumexp, x, reverse=True)
    assert yr[2] == 2.0 and np.isnan(yr[:2]).all()
    torch = pytest.importorskip("torch")
    assert np.isnan(_quiet(flax.cumlogsumexp, torch.tensor(x)).numpy()[1:]).all()


# (quiet since nn56b)
@pytest.mark.parametrize("a", [np.array([0.0, 0.0]), np.array([np.pi * 1j, np.pi * 1j])])
def test_logsumexp_cancelling_weights_quiet(a):
    got = _quiet(fsp.logsumexp, a, b=np.array([1.0, -1.0]))
    assert got == -INF   # (-inf + 0j for the complex pair: SciPy's, JAX's)


def test_nn_logmeanexp_complex_and_nothing_to_average():
    # complex x (refused; JAX computes it): logsumexp's minus log(n), mpmath's to 1e-14 (the
    # subtraction of log 6 from 1.65 leaves 1e-15 of logsumexp's rounding)
    got = _quiet(fnn.logmeanexp, _A)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, _mp_lse(list(_A.ravel())) - np.log(6.0), rtol=1e-14)
    got = _quiet(fnn.logmeanexp, _A, axis=1, where=np.array([[1, 0, 1], [1, 1, 0]], bool))
    np.testing.assert_allclose(got, [_mp_lse([_A[0, 0], _A[0, 2]]) - np.log(2.0),
                                     _mp_lse([_A[1, 0], _A[1, 1]]) - np.log(2.0)], rtol=1e-14)
    # nothing marked: nan (JAX's), silent (was two warnings), no derivative
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[True, False], [False, False]])
    got = _quiet(fnn.logmeanexp, x, axis=1, where=w)
    assert got[0] == 1.0 and np.isnan(got[1])
    got = _quiet(fnn.logmeanexp, x + 1j, axis=1, where=w)
    assert got[0] == 1 + 1j and np.isnan(got[1].real) and got[1].imag == 0
    g = _quiet(ft.grad(lambda a: fnn.logmeanexp(a, axis=1, where=w)[0]), x)
    np.testing.assert_array_equal(g, [[1.0, 0.0], [0.0, 0.0]])
    assert np.isnan(_quiet(fnn.logmeanexp, np.zeros((2, 0)), axis=1)).all()



def test_standardize_huge_entries():
    # (an xfail until session 57: the variance overflowed to inf and every output was 0)
    x = np.array([1e160, -1e160, 0.5e160])
    want = np.array([0.98058068, -1.37281295, 0.39223227])   # (x / 1e160, standardized)
    np.testing.assert_allclose(_quiet(fnn.standardize, x), want, rtol=1e-7)
