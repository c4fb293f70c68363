"""Session 41, random41: complex orthogonal sampling and the initializers' dtypes.

functrans.random.orthogonal refused complex dtypes (TypeError); it now draws Haar unitary
matrices as JAX 0.10.2 does (the Q of a complex normal matrix, its columns' phases fixed by
R's diagonal): JAX's values to rounding from the same key. functrans.nn.initializers'
orthogonal and delta_orthogonal take complex dtypes (as JAX); truncated_normal, the
truncated-normal variance schemes (glorot_normal, lecun_normal, he_normal), orthogonal and
delta_orthogonal take float16 and bfloat16 (were refused: TypeError), bfloat16 on a torch key.
JAX has no half-precision QR (orthogonal in float16 raises NotImplementedError); its
variance schemes round the variance to the half type first (zeros where it underflows)."""
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr
import functrans.nn.initializers as fi

F16, BF16 = "float16", "bfloat16"
# significant bits and the smallest normal frexp exponent
_FMT = {F16: (11, -13), BF16: (8, -125)}


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    return jax


def _torch():
    return pytest.importorskip("torch")


def _f(x, backend=None):
    """Samples of any library (bfloat16 included) as NumPy float64 / complex128 values."""
    if hasattr(x, "detach"):
        x = x.detach()
        return (x.double() if not x.is_complex() else x.cdouble()).numpy()
    if backend is not None:
        x = backend.to_numpy(x)
    x = np.asarray(x)
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def _ulps(got, want, dt):
    """Distances of ``got`` from float64 ``want`` in units of the half type's spacing there."""
    bits, emin = _FMT[dt]
    return np.abs(got - want) / np.ldexp(1.0, np.maximum(np.frexp(want)[1], emin) - bits)


def _key(backend, seed):
    return backend.asarray(np.asarray(fr.PRNGKey(seed)), dtype="uint32")


def _eye_defect(q):
    """max |Q^H Q - I| (tall or square) or |Q Q^H - I| (wide), over a batch."""
    qh = np.conj(np.swapaxes(q, -1, -2))
    g = qh @ q if q.shape[-2] >= q.shape[-1] else q @ qh
    return np.abs(g - np.eye(g.shape[-1])).max(initial=0.0)


# -- functrans.random.orthogonal: complex dtypes ---------------------------------------------

@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_complex_orthogonal_is_unitary_on_every_backend(backend, dt):
    k = _key(backend, 3)
    eps = np.finfo(dt).eps
    for n, m, shape in ((3, 3, ()), (4, 2, (2,)), (2, 5, (2, 3)), (1, 1, ()), (0, 3, ()),
                        (3, 0, (2,))):
        q = fr.orthogonal(k, n, shape, dt, m)
        assert backend.is_own(q)
        qn = backend.to_numpy(q)
        assert qn.dtype == np.dtype(dt) and qn.shape == shape + (n, m)
        assert _eye_defect(qn.astype(np.complex128)) < 20 * eps, (n, m)
        if n * m:  # (complex: not real matrices cast)
            assert np.abs(qn.imag).max() > 0.05
    # staged and batched: the eager values
    f = lambda kk: fr.orthogonal(kk, 3, (2,), dt, 2)
    np.testing.assert_array_equal(backend.to_numpy(ft.jit(f)(k)), backend.to_numpy(f(k)))
    keys = fr.split(k, 3)
    got = backend.to_numpy(ft.vmap(f)(keys))
    for i in range(3):
        np.testing.assert_array_equal(got[i], backend.to_numpy(f(keys[i, ...])))


def test_complex_orthogonal_is_haar_distributed():
    """Statistics of 20000 3x3 draws against those of Haar measure on U(3): |U_11|^2 is
    Beta(1, 2) (mean 1/3, E|U_11|^4 = 2/(n(n+1)) = 1/6; a real orthogonal matrix's is 1/5),
    the phases of U_11, of the trace and of the determinant are uniform, E|tr U|^2 = 1. The
    same statistics reject LAPACK's Q without the phase fix (whose R has a real diagonal) and
    real orthogonal matrices cast to complex (the tests can fail)."""
    from scipy import stats
    key = fr.PRNGKey(41)
    u = np.asarray(fr.orthogonal(key, 3, (20000,), "complex128"))
    z = np.asarray(fr.normal(key, (20000, 3, 3), "complex128"))
    unfixed = np.linalg.qr(z)[0]
    real = np.asarray(fr.orthogonal(key, 3, (20000,), "float64")).astype(np.complex128)
    uniform_angle = stats.uniform(-np.pi, 2 * np.pi).cdf

    def haar_like(q):
        a = np.abs(q[:, 0, 0]) ** 2
        tr = np.trace(q, axis1=1, axis2=2)
        return (abs(a.mean() - 1 / 3) < 0.008 and abs(np.mean(a * a) - 1 / 6) < 0.006
                and abs(np.mean(np.abs(tr) ** 2) - 1) < 0.05
                and stats.kstest(a, lambda x: 1 - (1 - x) ** 2).pvalue > 1e-3
                and min(stats.kstest(np.angle(v), uniform_angle).pvalue
                        for v in (q[:, 0, 0], tr, np.linalg.det(q))) > 1e-3)

    assert haar_like(u)
    assert not haar_like(unfixed)
    assert not haar_like(real)
    # a tall draw's first column is uniform on the unit sphere of C^4: |U_11|^2 ~ Beta(1, 3)
    t = np.asarray(fr.orthogonal(key, 4, (20000,), "complex128", 2))
    assert stats.kstest(np.abs(t[:, 0, 0]) ** 2, lambda x: 1 - (1 - x) ** 3).pvalue > 1e-3
    assert stats.kstest(np.angle(t[:, 1, 1]), uniform_angle).pvalue > 1e-3


@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_complex_orthogonal_matches_jax(dt):
    jax = _jax()
    import jax.random as jr
    tol = 2e-6 if dt == "complex64" else 5e-15
    for seed, n, m, shape in ((0, 3, 3, ()), (1, 4, 2, (2,)), (2, 2, 4, (2, 3)), (3, 5, 5, ()),
                              (4, 1, 1, (3,)), (5, 0, 2, ())):
        want = np.asarray(jr.orthogonal(jr.PRNGKey(seed), n, shape, dt, m))
        got = np.asarray(fr.orthogonal(fr.PRNGKey(seed), n, shape, dt, m))
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)
        # (a wide result's rows: the plain transpose of the tall draw, as JAX's)
    del jax


def test_orthogonal_dtype_errors():
    for dt in ("int32", "bool", "uint8"):
        with pytest.raises(TypeError, match="floating type.*complex64 or complex128"):
            fr.orthogonal(fr.PRNGKey(0), 3, (), dt)
    # (the samplers without a complex form still refuse it)
    with pytest.raises(TypeError, match="real floating"):
        fr.truncated_normal(fr.PRNGKey(0), -1.0, 1.0, (2,), "complex128")


# -- initializers: complex orthogonal and delta_orthogonal ------------------------------------

@pytest.mark.parametrize("dt", ["complex64", "complex128"])
def test_complex_orthogonal_initializers(backend, dt):
    k = _key(backend, 5)
    eps = np.finfo(dt).eps
    w = fi.orthogonal(scale=1.5)(k, (3, 5), dt)  # wide: orthonormal rows times 1.5
    assert backend.is_own(w) and backend.to_numpy(w).dtype == np.dtype(dt)
    assert _eye_defect(backend.to_numpy(w).astype(complex) / 1.5) < 20 * eps
    c = backend.to_numpy(fi.orthogonal(column_axis=0)(k, (4, 2, 3), dt)).astype(complex)
    assert c.shape == (4, 2, 3)
    assert _eye_defect(np.moveaxis(c, 0, -1).reshape(6, 4)) < 20 * eps
    d = fi.delta_orthogonal(scale=0.5)(k, (3, 3, 2, 4), dt)  # zero but the centre tap
    assert backend.is_own(d)
    dn = backend.to_numpy(d).astype(complex)
    assert dn.shape == (3, 3, 2, 4) and backend.to_numpy(d).dtype == np.dtype(dt)
    assert _eye_defect(dn[1, 1] / 0.5) < 20 * eps
    dn[1, 1] = 0
    assert not dn.any()
    z = fi.orthogonal()(k, (0, 3), dt)
    assert backend.to_numpy(z).dtype == np.dtype(dt) and backend.to_numpy(z).shape == (0, 3)


def test_complex_orthogonal_initializers_match_jax():
    jax = _jax()
    import jax.nn.initializers as ji
    for dt, tol in (("complex64", 2e-6), ("complex128", 5e-15)):
        for name, args, kw, shape in (("orthogonal", (1.3,), {}, (3, 4)),
                                      ("orthogonal", (0.7,), {"column_axis": 1}, (5, 2, 3)),
                                      ("delta_orthogonal", (1.1,), {}, (3, 3, 4)),
                                      ("delta_orthogonal", (0.9,), {}, (3, 2, 3, 4, 4))):
            got = np.asarray(getattr(fi, name)(*args, **kw)(fr.PRNGKey(2), shape, dt))
            want = np.asarray(getattr(ji, name)(*args, **kw)(jax.random.PRNGKey(2), shape,
                                                                dt))
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=name)


def test_initializer_complex_errors_name_what_takes_complex():
    for init in (fi.uniform(), fi.truncated_normal()):  # (JAX refuses these too)
        with pytest.raises(TypeError, match="real floating.*orthogonal and delta_orthogonal"):
            init(fr.PRNGKey(0), (2, 2), "complex64")
    with pytest.raises(TypeError, match="real floating"):
        fi.orthogonal()(fr.PRNGKey(0), (2, 2), "int32")


# -- initializers: float16 and bfloat16 --------------------------------------------------------

_HALF_INITS = {
    "zeros": lambda: fi.zeros, "ones": lambda: fi.ones, "constant": lambda: fi.constant(0.7),
    "uniform": lambda: fi.uniform(0.3), "normal": lambda: fi.normal(0.3),
    "truncated_normal": lambda: fi.truncated_normal(0.3), "glorot_normal": fi.glorot_normal,
    "lecun_normal": fi.lecun_normal, "he_normal": fi.he_normal,
    "he_uniform": fi.he_uniform,
    "variance_scaling": lambda: fi.variance_scaling(1.7, "fan_out", "truncated_normal"),
    "orthogonal": lambda: fi.orthogonal(1.0), "delta_orthogonal": lambda: fi.delta_orthogonal(),
}


def _has_ml_dtypes():
    import importlib.util
    return importlib.util.find_spec("ml_dtypes") is not None


@pytest.mark.parametrize("dt", [F16, BF16])
def test_every_initializer_draws_half_types(backend, dt):
    """float16 wherever the library has it, bfloat16 on torch; NumPy's refusal of bfloat16
    and array-api-strict's of both say so."""
    k = _key(backend, 1)
    if backend.name == "array_api_strict" or (backend.name == "numpy" and dt == BF16
                                              and not _has_ml_dtypes()):
        # (session 50: NumPy's bfloat16 is ml_dtypes', where that is installed)
        match = "NumPy has no bfloat16.*ml_dtypes" if backend.name == "numpy" else "has no dtype"
        for name, make in _HALF_INITS.items():
            with pytest.raises(TypeError, match=match):
                make()(k, (3, 3, 4), dt)
        return
    for name, make in _HALF_INITS.items():
        w = make()(k, (3, 3, 4), dt)
        assert backend.is_own(w), name
        assert str(w.dtype).replace("torch.", "") == dt, name
        v = _f(w, backend)
        assert v.shape == (3, 3, 4) and np.all(np.isfinite(v)), name
    # orthogonal: the (9, 4) matrix's columns orthonormal to the half type's precision
    q = _f(fi.orthogonal()(k, (3, 3, 4), dt), backend).reshape(9, 4)
    eps = 2.0 ** (1 - _FMT[dt][0])
    assert np.abs(q.T @ q - np.eye(4)).max() < 4 * eps
    d = _f(fi.delta_orthogonal()(k, (3, 3, 4), dt), backend)
    assert np.abs(d[1] @ d[1].T - np.eye(3)).max() < 4 * eps  # (3 x 4: rows)
    assert not np.delete(d, 1, axis=0).any()


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_truncated_normal_schemes_are_the_rounded_transform(dt):
    """The truncated-normal variance scheme in a half type is the float64 transform of the
    half uniforms (JAX's bits), sqrt(2) erfinv(erf(-sqrt2) + u (erf(sqrt2) - erf(-sqrt2))),
    times sqrt(scale / fan) / 0.8796 (the truncated normal's deviation), to 1.5 ulps (one
    rounding of the sample, one of the scale, one of the product). JAX's are up to 2.3
    float16 and 11 bfloat16 ulps off (it rounds the erf bounds, the variance, its root and
    each step to the half type): see test_half_truncated_normal_schemes_vs_jax."""
    from scipy import special
    k = fr.PRNGKey(9)
    if dt == BF16:
        k = _torch().asarray(np.asarray(k))
    shape = (40, 50)
    got = _f(fi.variance_scaling(1.7, "fan_in", "truncated_normal")(k, shape, dt))
    u = _f(fr.uniform(k, shape, dt))
    lo, hi = special.erf(-math.sqrt(2.0)), special.erf(math.sqrt(2.0))
    want = math.sqrt(2.0) * special.erfinv(lo + u * (hi - lo)) * (
        math.sqrt(1.7 / 40) / 0.87962566103423978)
    assert _ulps(got, want, dt).max() <= 1.5
    # he_normal is the same scheme with scale 2
    got = _f(fi.he_normal()(k, shape, dt))
    assert _ulps(got, want * math.sqrt(2.0 / 1.7), dt).max() <= 1.5


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_orthogonal_initializer_is_the_rounded_float64_factorisation(dt):
    """orthogonal in a half type: the QR of the half normal uniforms' normals in float64,
    signs fixed, rounded once (JAX has no half-precision QR)."""
    from scipy import special
    k = fr.PRNGKey(4)
    if dt == BF16:
        k = _torch().asarray(np.asarray(k))
    got = _f(fi.orthogonal()(k, (3, 5), dt))  # 3 rows, 5 columns: the transpose of a 5x3 Q
    lo = -1.0 + 2.0 ** -_FMT[dt][0]  # (the float above -1: normal's uniforms' lower end)
    z = special.erfinv(_f(fr.uniform(k, (5, 3), dt, lo, 1.0))) * math.sqrt(2.0)
    q, r = np.linalg.qr(z)
    want = (q * np.sign(np.diag(r))).T
    assert _ulps(got, want, dt).max() <= 0.5 + 1e-9


def test_half_truncated_normal_schemes_vs_jax():
    jax = _jax()
    import jax.nn.initializers as ji
    torch = _torch()
    for dt, jdt, worst in ((F16, np.float16, 6), (BF16, jax.numpy.bfloat16, 16)):
        kf = fr.PRNGKey(9)
        if dt == BF16:
            kf = torch.asarray(np.asarray(kf))
        for name, scale, fan in (("glorot_normal", 1.0, 45.0), ("lecun_normal", 1.0, 40.0),
                                 ("he_normal", 2.0, 40.0), ("truncated_normal", None, None)):
            init = fi.truncated_normal(0.3) if scale is None else getattr(fi, name)()
            jinit = ji.truncated_normal(0.3) if scale is None else getattr(ji, name)()
            got = _f(init(kf, (40, 50), dt))
            want = np.asarray(jinit(jax.random.PRNGKey(9), (40, 50), jdt)).astype(np.float64)
            if dt == F16 and _ulps(got, want, dt).max() > worst:
                # (on some CPUs (an AMD EPYC, session 50) XLA rounds every float16 step of
                # JAX's scheme, lo + u (hi - lo) included: ~80 ulp off near 0, where that
                # sum cancels. There JAX's are checked against that scheme done in NumPy,
                # and ours against the float64 truth from the same uniforms)
                u = _f(fr.uniform(kf, (40, 50), dt))
                sd = 0.3 if scale is None else math.sqrt(scale / fan) / 0.87962566103423978
                assert _ulps(got, _truncated_normal_f64(u, sd), dt).max() <= 2, name
                assert _ulps(_jax_float16_rounded_each_step(u, scale, fan), want,
                             dt).max() <= 2, name
                continue
            assert _ulps(got, want, dt).max() <= worst, (dt, name)


def _truncated_normal_f64(u, stddev):
    """The truncated normal on (-2, 2) times ``stddev`` from uniforms u, in float64."""
    from scipy import special
    lo, hi = special.erf(-math.sqrt(2.0)), special.erf(math.sqrt(2.0))
    return math.sqrt(2.0) * special.erfinv(lo + u * (hi - lo)) * stddev


def _jax_float16_rounded_each_step(u, scale, fan):
    """JAX 0.10's float16 truncated normal (random.truncated_normal times the initializer's
    deviation) with every operation rounded to float16, erf/erfinv from float64."""
    from scipy import special
    h = np.float16
    s2 = h(math.sqrt(2.0))
    a = h(special.erf(float(h(h(-2.0) / s2))))
    b = h(special.erf(float(h(h(2.0) / s2))))
    t = np.maximum(a, h(h(u.astype(h) * h(b - a)) + a))
    out = h(s2 * h(special.erfinv(t.astype(np.float64))))
    out = np.clip(out, np.nextafter(h(-2.0), h(np.inf)), np.nextafter(h(2.0), h(-np.inf)))
    sd = h(0.3) if scale is None else h(h(np.sqrt(h(scale / fan))) / h(0.87962566103423978))
    return (out * sd).astype(np.float64)


def test_half_variance_below_the_normal_range():
    """variance_scaling(1e-6, "fan_in", "normal") of a (100, 400) float16 array: variance
    1e-8, standard deviation 1e-4 (a normal float16). JAX 0.10.2 rounds the variance to
    float16 first: 0, all its weights zero; functrans rounds the deviation once."""
    w = np.asarray(fi.variance_scaling(1e-6, "fan_in", "normal")(fr.PRNGKey(0), (100, 400),
                                                                     F16)).astype(np.float64)
    assert abs(np.mean(w * w) / 1e-8 - 1) < 0.03
    w = np.asarray(fi.glorot_normal()(fr.PRNGKey(0), (100, 400), F16)).astype(np.float64)
    assert abs(np.mean(w * w) / (2 / 500) - 1) < 0.03


# -- derivatives in the scale parameters --------------------------------------------------------

@pytest.mark.parametrize("dt", ["float64", "complex128"])
def test_orthogonal_initializer_scale_derivative(dt):
    """d/ds of orthogonal(s)(key, shape) is the unscaled draw (forward and reverse), also
    complex; against central differences."""
    k = fr.PRNGKey(6)
    init = lambda s: fi.orthogonal(s)(k, (3, 4), dt)
    q = np.asarray(init(1.0))
    y, t = ft.jvp(init, (1.5,), (1.0,))
    np.testing.assert_allclose(np.asarray(t), q, rtol=1e-14, atol=1e-15)
    w = np.random.default_rng(0).normal(size=(3, 4))
    loss = lambda s: fnp.sum(fnp.real(init(s)) * w + fnp.imag(init(s)) * w ** 2)
    g = ft.grad(loss)(1.5)
    h = 1e-6
    fd = (float(loss(1.5 + h)) - float(loss(1.5 - h))) / (2 * h)
    np.testing.assert_allclose(float(g), fd, rtol=1e-8)
    np.testing.assert_allclose(float(g), np.sum(q.real * w + q.imag * w ** 2), rtol=1e-13)
    np.testing.assert_allclose(float(ft.jit(ft.grad(loss))(1.5)), float(g), rtol=1e-14)
    gd = ft.grad(lambda s: fnp.sum(fnp.abs(fi.delta_orthogonal(s)(k, (3, 3, 3), dt)) ** 2))(
        0.8)
    np.testing.assert_allclose(float(gd), 2 * 0.8 * 3, rtol=1e-12)  # |s Q|_F^2 = 3 s^2


@pytest.mark.parametrize("dist", ["normal", "truncated_normal", "uniform"])
@pytest.mark.parametrize("dt", ["float64", "complex128"])
def test_variance_scaling_scale_derivative(dist, dt):
    """variance_scaling's scale may be differentiated (it raised DerivativeDroppedError;
    JAX's is differentiable): the weights are sqrt(scale) times a fixed draw, so
    d/ds sum(w * c) = f(s) / (2 s); forward, reverse, staged, central differences, vmap."""
    k = fr.PRNGKey(1)
    c = np.random.default_rng(1).normal(size=(3, 4))

    def f(s):
        y = fi.variance_scaling(s, "fan_avg", dist)(k, (3, 4), dt)
        return fnp.sum(fnp.real(y) * c + fnp.imag(y) * c ** 2)

    v = float(f(1.7))
    g = float(ft.grad(f)(1.7))
    np.testing.assert_allclose(g, v / (2 * 1.7), rtol=1e-13)
    np.testing.assert_allclose(float(ft.jvp(f, (1.7,), (1.0,))[1]), g, rtol=1e-14)
    np.testing.assert_allclose(float(ft.jit(ft.grad(f))(1.7)), g, rtol=1e-14)
    h = 1e-6
    np.testing.assert_allclose(g, (float(f(1.7 + h)) - float(f(1.7 - h))) / (2 * h), rtol=1e-7)
    # the traced draw is the plain one (to rounding of the factor)
    np.testing.assert_allclose(float(ft.jvp(f, (1.7,), (1.0,))[0]), v, rtol=1e-14)
    ys = ft.vmap(lambda s: fi.variance_scaling(s, "fan_in", dist)(k, (2, 3), dt))(
        np.array([0.5, 2.0]))
    for i, s in enumerate((0.5, 2.0)):
        np.testing.assert_allclose(np.asarray(ys[i]),
                                   np.asarray(fi.variance_scaling(s, "fan_in", dist)(
                                       k, (2, 3), dt)), rtol=1e-14, atol=1e-15)


def test_variance_scaling_traced_scale_keeps_the_dtype_and_errors():
    k = fr.PRNGKey(2)
    for dt in ("float32", "complex64", F16):
        y = ft.jit(lambda s: fi.variance_scaling(s, "fan_in", "normal")(k, (2, 3), dt))(
            np.array(2.0))
        assert np.asarray(y).dtype == np.dtype(dt)
    # a negative traced scale: nan, as JAX (no host check of a staged value); a number: error
    y = ft.jit(lambda s: fi.variance_scaling(s, "fan_in", "normal")(k, (2, 3)))(
        np.array(-1.0))
    assert np.all(np.isnan(np.asarray(y)))
    with pytest.raises(ValueError, match="scale must be a number >= 0"):
        fi.variance_scaling(-1.0, "fan_in", "normal")


def test_variance_scaling_scale_derivative_matches_jax():
    jax = _jax()
    import jax.nn.initializers as ji
    c = np.random.default_rng(2).normal(size=(3, 4))
    for dist in ("normal", "truncated_normal", "uniform"):
        # (complex: JAX's disk and modulus-cut normal are drawn otherwise, its cut normal
        # with 1.02 times the variance; only its complex normal is functrans's)
        for dt in ("float64",) + (("complex128",) if dist == "normal" else ()):
            def loss(mod, key, np_):
                return lambda s: np_.sum(np_.real(mod.variance_scaling(s, "fan_out", dist)(
                    key, (3, 4), dt)) * c)
            got = float(ft.grad(loss(fi, fr.PRNGKey(3), fnp))(1.3))
            want = float(jax.grad(loss(ji, jax.random.PRNGKey(3), jax.numpy))(1.3))
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=(dist, dt))


def test_array_scales_keep_the_requested_dtype(backend):
    """A scale or stddev given as an array (NumPy's float64 scalar, a 0-d array, a tracer
    under jit or grad) is cast to the weights' dtype, as JAX's: float32 weights came back
    float64 (float32 * float64 array), float16 ones too."""
    k = _key(backend, 1)
    inits = {"normal": fi.normal, "uniform": fi.uniform, "truncated_normal": fi.truncated_normal,
             "orthogonal": fi.orthogonal, "delta_orthogonal": fi.delta_orthogonal}
    dts = ["float32", "complex64"] + ([F16] if backend.name != "array_api_strict" else [])
    for name, make in inits.items():
        for dt in dts:
            if dt == "complex64" and name in ("uniform", "truncated_normal"):
                continue
            want = backend.to_numpy(make(1.5)(k, (3, 3, 4), dt))
            for s in (np.float64(1.5), backend.asarray(1.5)):
                got = make(s)(k, (3, 3, 4), dt)
                assert backend.is_own(got)
                np.testing.assert_array_equal(backend.to_numpy(got), want, err_msg=name)
            got = ft.jit(lambda s: make(s)(k, (3, 3, 4), dt))(backend.asarray(1.5))
            np.testing.assert_array_equal(backend.to_numpy(got), want, err_msg=name)
    # the derivative in the scale: the unscaled draw, in the weights' dtype
    g = ft.grad(lambda s: fnp.sum(fnp.astype(fi.normal(s)(k, (3, 4), "float32"),
                                             fnp.float64)))(backend.asarray(1.5))
    want = backend.to_numpy(fi.normal(1.0)(k, (3, 4), "float32")).astype(np.float64).sum()
    np.testing.assert_allclose(float(backend.to_numpy(g)), want, rtol=1e-6)
