"""Session 33, torch and array-api-strict against NumPy (xback33): complex edge values
(acos's small real parts, log1p at infinities, whole powers), cholesky with infinite
entries, custom rules under checkify, fwd_and_bwd's residuals."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _same(got, want, rtol=4e-15):
    """Equal to ``want`` part by part: the same NaNs, the same signs of zeros and infinities,
    finite values to ``rtol`` or one subnormal step."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    for part in ("real", "imag"):
        a, b = getattr(got, part), getattr(want, part)
        close = (a == b) | (np.abs(a - b) <= np.maximum(rtol * np.abs(b), 2 * np.spacing(0.0 * b)))
        ok = (close & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))
        assert ok.all(), (part, got[~ok], want[~ok])


def _numpy(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


# -- complex elementwise edge values ----------------------------------------------------------


def test_arccos_small_real_part_as_numpy(backend):
    """torch's complex acos took its real part as pi/2 - Re asin z: at z near [1, inf) the
    real part cancelled, acos(1 + 1e-19j) 1.532e-14 (true 1.5429e-14), acos(2 + 1e-300j)
    and acos(1e300 + 1j) 0 (true 5.77e-301 and 1e-300)."""
    z = np.array([1 + 1e-19j, 1.0000000000223856 + 1.0323756303898852e-19j, 1 + 5.6e-22j,
                  2 + 1e-300j, 2 - 1e-300j, 1e300 + 1j, 1e154 - 0.5j, 1 - 1e-300j,
                  1.0939699385259232 - 2.628101264571979e-24j, 0.3 + 0.2j, -3 + 1e-200j,
                  0j, -0j, complex(np.inf, 1), complex(1, np.nan), 5 + 0j])
    got = fnp.arccos(backend.asarray(z, "complex128"))
    _same(backend.to_numpy(got), np.arccos(z))
    # (the values themselves: Re acos(1 + i y) = sqrt(y) for tiny y, acos(x + i y) = y /
    # sqrt(x**2 - 1) for x > 1, y tiny)
    np.testing.assert_allclose(backend.to_numpy(got).real[[0, 3, 5]],
                               [np.sqrt(1e-19), 1e-300 / np.sqrt(3.0), 1e-300], rtol=1e-14)
    z32 = np.array([1 + 1e-19j, 2 + 1e-30j, 1.3513677 + 2.7904e-40j], dtype="complex64")
    _same(backend.to_numpy(fnp.arccos(backend.asarray(z32, "complex64"))), np.arccos(z32),
          rtol=2e-6)


def test_log1p_at_infinities_as_numpy(backend):
    """torch's complex log1p gave nan + nan j at inf + nan j, nan + inf j and 1e-300 + inf j
    (C99's and NumPy's log(1 + z): inf + nan j, inf + nan j, inf + pi/2 j)."""
    inf, nan = np.inf, np.nan
    z = np.array([complex(inf, nan), complex(-inf, nan), complex(nan, inf),
                  complex(nan, -inf), complex(1e-300, inf), complex(-1e-310, -inf),
                  complex(inf, 0.0), complex(-inf, 1.0), complex(0.7, -2.0), complex(-3, 0.0)])
    got = backend.to_numpy(fnp.log1p(backend.asarray(z, "complex128")))
    _same(got, _numpy(np.log1p, z))
    assert np.isposinf(got.real[:6]).all()


def test_complex_whole_powers_as_numpy(backend):
    """A complex power with a whole exponent array (|n| < 100) is NumPy's product of
    squares: torch's exp(n log x) gave (-2+0j) ** 2 4 - 9.8e-16j, 1e154 ** 2 1.4e-14
    relative off, (1 + 1j) ** -2 3e-17 - 0.5j; and at a zero base NumPy's 0 or nan + nan j
    (torch: inf + nan j, -0j)."""
    x = np.array([-2 + 0j, 1e154 + 0j, 1 + 1j, -2j, 1e300j, 0j, 0j, 0j, -0j, 0.3 - 0.7j,
                  complex(np.inf, 1), 2.5 + 0j])
    n = np.array([2, 2, -2, -5, 1, 3, 1 + 1j, -2, 0, 47, 3, 0.5], dtype="complex128")
    got = backend.to_numpy(fnp.power(backend.asarray(x, "complex128"),
                                     backend.asarray(n, "complex128")))
    _same(got, _numpy(np.power, x, n))
    assert got[0] == 4 and got[1] == 1e308 and got[2] == -0.5j  # (exactly)
    nr = n.real
    got = backend.to_numpy(fnp.power(backend.asarray(x, "complex128"), backend.asarray(nr)))
    _same(got, _numpy(np.power, x, nr))


# -- cholesky with infinite entries ---------------------------------------------------------


@pytest.mark.parametrize("m", [
    [[np.inf, 1.0], [1.0, 2.0]],
    [[4.0, np.inf], [np.inf, np.inf]],
    [[2.0, 1.0, 0.0], [1.0, np.inf, 1.0], [0.0, 1.0, 3.0]],
    [[2.0, 1 + 1j], [1 - 1j, np.inf]],
])
def test_cholesky_infinite_entries_as_numpy(backend, m):
    """The symmetrisation x + (x^H / 2 - x / 2) made inf - inf where an infinite entry equals
    its mirror: cholesky([[inf, 1], [1, 2]]) was all nan on every backend (NumPy's [[inf,
    0], [0, sqrt 2]])."""
    m = np.array(m)
    got = fnp.linalg.cholesky(backend.asarray(m, m.dtype.name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _numpy(np.linalg.cholesky, m)
    _same(backend.to_numpy(got), want)
    assert np.isposinf(want.real).any() and not np.isnan(want[0, 0])


def test_cholesky_derivative_of_a_nonsymmetric_input_unchanged(backend):
    """Where an entry equals its mirror the symmetrisation's tangent is dx, not (dx + dx^H)
    / 2: the same to cholesky, which reads the Hermitian part of its tangent. The Jacobian
    is that of L((x + x^T) / 2), checked by central differences in the symmetrised input."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 3))
    m = a @ a.T + 3 * np.eye(3)
    m[0, 1] += 0.25  # (one pair not symmetric, the others are)

    def chol_of_sym(v):
        return np.linalg.cholesky((v + v.T) / 2)
    eps = 1e-6
    fd = np.zeros((3, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] = eps
            fd[:, :, i, j] = (chol_of_sym(m + e) - chol_of_sym(m - e)) / (2 * eps)
    x = backend.asarray(m)
    for jac in (ft.jacrev, ft.jacfwd):
        got = backend.to_numpy(jac(fnp.linalg.cholesky)(x))
        np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-9)


# -- checkify of custom rules: plain arguments beside its tracers ------------------------------


def _custom_pair(backend):
    """A custom_vjp function whose fwd calls it on its plain primal and checks, and one with
    a plain matrix among its residuals; d/dx (x sin x) = sin x + x cos x."""
    from functrans.experimental import checkify as ck
    m = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 1.0, 1.0]])
    M = backend.asarray(m)

    @ft.custom_vjp
    def g(x):
        return x * fnp.sin(x)

    def g_fwd(x):
        ck.check(fnp.all(x > -10), "x small")
        return g(x), x

    def g_bwd(x, ct):
        return (ct * (fnp.sin(x) + x * fnp.cos(x)),)
    g.defvjp(g_fwd, g_bwd)

    @ft.custom_vjp
    def f(x):
        return fnp.sin(x) @ M

    def f_fwd(x):
        return f(x), (fnp.cos(x), M)

    def f_bwd(res, ct):
        c, mr = res
        return (c * (ct @ mr.T),)
    f.defvjp(f_fwd, f_bwd)
    return ck, g, f, m


def test_checkify_of_custom_vjp_derivatives(backend):
    """Under checkify, a custom function's function and rules ran with checkify current on
    plain arguments: their operations gave checkify's tracers, and ``x * sin(x)`` (the
    function called by fwd on its primal) or ``ct * r`` (bwd) raised TypeError on
    array-api-strict: checkify(jacrev(g)) failed there."""
    ck, g, f, m = _custom_pair(backend)
    x = np.array([0.3, 0.5, -0.7])
    X = backend.asarray(x)
    dg = np.diag(np.sin(x) + x * np.cos(x))
    jf = m.T * np.cos(x)
    for jac in (ft.jacrev, ft.jacfwd):
        err, got = ck.checkify(jac(g))(X)
        assert err.get() is None
        np.testing.assert_allclose(backend.to_numpy(got), dg, rtol=1e-13)
        err, got = ck.checkify(jac(lambda v: f(v) + g(v)))(X)
        np.testing.assert_allclose(backend.to_numpy(got), jf + dg, rtol=1e-13)
    err, got = ck.checkify(ft.grad(lambda v: fnp.sum(g(v))))(X)
    np.testing.assert_allclose(backend.to_numpy(got), np.diag(dg), rtol=1e-13)
    xb = np.stack([x, 2 * x])
    err, got = ft.vmap(ck.checkify(ft.jacrev(g)))(backend.asarray(xb))
    np.testing.assert_allclose(backend.to_numpy(got),
                               np.stack([np.diag(np.sin(v) + v * np.cos(v)) for v in xb]),
                               rtol=1e-13)
    # (a failing check in the checked function itself is still found)
    def checked(v):
        ck.check(fnp.all(v > 0), "neg")
        return fnp.sum(g(v))
    err, _ = ck.checkify(ft.grad(checked))(X)
    assert "neg" in err.get()


# -- fwd_and_bwd: a backward pass reading no residual -------------------------------------------


def test_fwd_and_bwd_no_residual_keeps_no_zeros(backend):
    """A backward pass that reads no residual (linear with constant coefficients) kept the
    zero cotangents of the unread arguments as residual arrays (an f64[1000] for ``b``); now
    bwd builds them, in the arguments' library. A cotangent given as a Python number gave
    NumPy arrays for torch's or array-api-strict's arguments there; it takes theirs now."""
    fwd, bwd = ft.fwd_and_bwd(lambda a, b: fnp.sum(3.0 * a), argnums=(0, 1))
    a, b = backend.asarray(np.ones(3)), backend.asarray(np.ones(1000), "float32")
    y, res = fwd(a, b)
    assert res.arrays == []
    for ct in (2.0, backend.asarray(2.0)):
        ga, gb = bwd(res, ct)
        assert backend.is_own(ga) and backend.is_own(gb)
        np.testing.assert_array_equal(backend.to_numpy(ga), np.full(3, 6.0))
        gb = backend.to_numpy(gb)
        assert gb.dtype == np.float32 and gb.shape == (1000,) and not gb.any()
    # (not jitted, and a single argnum)
    fwd1, bwd1 = ft.fwd_and_bwd(lambda a: fnp.sum(a) * 2.0, jitted=False)
    _, res1 = ft.jit(fwd1)(a)
    g = bwd1(res1, 1.5)
    assert backend.is_own(g)
    np.testing.assert_array_equal(backend.to_numpy(g), np.full(3, 3.0))
    if backend.name != "numpy":  # (a NumPy scalar is another library's cotangent, as for vjp)
        with pytest.raises(ft.errors.BackendMismatchError, match="cotangent 0 is a numpy"):
            bwd(res, np.float64(2.0))


# -- custom_jvp beneath linearize: plain primals beside recorded tangents -----------------------


def test_custom_jvp_rule_under_reverse_mode(backend):
    """Beneath linearize (grad, jacrev, vjp) a custom JVP rule gets the primals as plain
    arrays and the tangents as the recorder's tracers: ``cos(x) * t`` raised TypeError on
    array-api-strict (grad of any custom_jvp function whose rule multiplies so). The plain
    primals are the recorder's constants now; the rule's own results come back plain."""
    from functools import partial

    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        x, = primals
        t, = tangents
        return f(x), fnp.cos(x) * t

    @partial(ft.custom_jvp, nondiff_argnums=(0,))
    def g(k, x):
        return k * fnp.exp(x)

    @g.defjvp
    def g_jvp(k, primals, tangents):
        return g(k, primals[0]), k * fnp.exp(primals[0]) * tangents[0]
    x = np.array([0.3, 0.5, -0.7])
    X = backend.asarray(x)
    want = np.cos(x) + 2.0 * np.exp(x)

    def s(v):
        return fnp.sum(f(v) + g(2.0, v))
    for t in (ft.grad(s), ft.jit(ft.grad(s)), lambda v: ft.vjp(s, v)[1](1.0)[0],
              lambda v: fnp.diagonal(ft.jacrev(lambda u: f(u) + g(2.0, u))(v))):
        got = t(X)
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-14)
    xb = np.stack([x, -x])
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(ft.grad(s))(backend.asarray(xb))),
                               np.cos(xb) + 2.0 * np.exp(xb), rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(ft.hessian(s)(X)),
                               np.diag(-np.sin(x) + 2.0 * np.exp(x)), rtol=1e-14)


def test_complex_exp2_at_infinities_as_numpy(backend):
    """exp2 of a complex number was the power 2 ** z: inf + nan j at inf + 0j (NumPy's exp2
    scales the parts by ln 2 apart: inf + 0j), nan + nan j at -inf + 1j (NumPy's 0j-like
    limit). (The sign of a zero imaginary part of z is not kept yet: exp2(1 - 0j) is 2 + 0j,
    NumPy's 2 - 0j.)"""
    inf, nan = np.inf, np.nan
    z = np.array([complex(inf, 0), complex(-inf, 0), complex(inf, 1), complex(-inf, 1),
                  complex(1e300, 0), complex(-1e300, 2), complex(nan, 0), complex(1, inf),
                  complex(0.5, 0.25), complex(-3, 1e300), complex(1030.0, 0.0)])
    got = backend.to_numpy(fnp.exp2(backend.asarray(z, "complex128")))
    _same(got, _numpy(np.exp2, z))
    assert got[0] == inf and got[4] == inf and got[10] == inf


def test_complex_sign_of_subnormal_magnitude(backend):
    """sign(z) = z / |z| by complex division overflowed in 1 / |z| where |z| is subnormal:
    sign(1e-310j) was nan + inf j on every backend (NumPy's 1j); each part is divided by
    |z| there now."""
    z = np.array([1e-310j, -1e-310j, 3e-310 + 4e-310j, -5e-324 + 0j, 1e-300j, 0j,
                  0.6 + 0.8j, complex(np.inf, 1.0)])
    got = backend.to_numpy(fnp.sign(backend.asarray(z, "complex128")))
    want = np.sign(z)
    np.testing.assert_array_equal(got[:4], [1j, -1j, 0.6 + 0.8j, -1])
    np.testing.assert_allclose(got, want, rtol=2e-16, atol=0)
    z32 = np.array([1e-40j, 3e-41 - 4e-41j], dtype="complex64")
    np.testing.assert_allclose(backend.to_numpy(fnp.sign(backend.asarray(z32, "complex64"))),
                               np.sign(z32), rtol=1e-6)
