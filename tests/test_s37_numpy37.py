"""Session 37 (numpy37): tanh's slope accurate in the far tails (it was 1 - tanh^2, exactly 0
beyond |x| ~ 19), and edge cases of functrans.numpy's reductions and nn functions."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backends import get_backend
from functrans.backends import numpy_backend as nb
from functrans.core import registry
from functrans.primitives import elementwise as ew


def _np(backend, x):
    return backend.to_numpy(x)


# -- tanh: slope 1 - y^2 where that is accurate, 4e / (1 + e)^2 (e = exp(-2|x|)) beyond -------

_TANH_XS = np.array([0.0, -0.0, 1e-300, 0.3, -1.0, 2.9, 3.2, -5.0, 10.0, -19.0, 20.0, 40.0,
                     -300.0, 355.0, 365.0, 700.0, 800.0, np.inf, -np.inf])


def _tanh_derivatives(xs):
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        out = []
        for v in xs:
            if np.isinf(v):
                out.append((0.0, -0.0 if v > 0 else 0.0, 0.0))
                continue
            x = mp.mpf(float(v))
            s, t = mp.sech(x) ** 2, mp.tanh(x)
            out.append((float(s), float(-2 * t * s), float(s * (4 * t * t - 2 * s))))
    return np.array(out).T


def test_tanh_slope_constants_agree():
    assert nb._TANH_FAR == ew.TANH_FAR
    pytest.importorskip("torch")
    import functrans.backends.torch_backend as tb
    assert tb._TANH_FAR == ew.TANH_FAR


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_derivatives_in_the_far_tails_every_mode(dtype):
    xs = _TANH_XS.astype(dtype)
    w1, w2, w3 = _tanh_derivatives(xs)
    w1, w2, w3 = (w.astype(dtype) for w in (w1, w2, w3))
    # (1 - y^2, below |x| ~ 3.1, is within ~2 eps absolute: ~60 ulps relative at 2.9; the far
    # form within a few ulps relative)
    tol = dict(rtol=8 * np.finfo(dtype).eps, atol=2.5 * np.finfo(dtype).eps)
    far = np.abs(xs) > 3.1
    d1 = ft.grad(fnp.tanh)
    d2 = ft.grad(d1)
    ways1 = [ft.vmap(d1), ft.jit(ft.vmap(d1)), lambda v: np.array([d1(u) for u in v]),
             lambda v: ft.jvp(fnp.tanh, (v,), (np.ones_like(v),))[1],
             lambda v: ft.vjp(fnp.tanh, v)[1](np.ones_like(v))[0],
             lambda v: np.diagonal(ft.jacrev(fnp.tanh)(v)),
             lambda v: np.diagonal(ft.jit(ft.jacfwd(fnp.tanh))(v))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no overflow warning from the far form at any x)
        for way in ways1:
            got = np.asarray(way(xs))
            assert got.dtype == dtype
            np.testing.assert_allclose(got, w1, **tol)
            np.testing.assert_allclose(got[far], w1[far], rtol=8 * np.finfo(dtype).eps,
                                       atol=4 * np.finfo(dtype).smallest_subnormal)
            assert (got[np.isfinite(xs) & (np.abs(xs) < (360 if dtype == np.float64 else 40))]
                    > 0).all()
        for way in (ft.vmap(d2), ft.jit(ft.vmap(d2)),
                    lambda v: np.diagonal(ft.hessian(lambda u: fnp.sum(fnp.tanh(u)))(v))):
            got = np.asarray(way(xs))
            np.testing.assert_allclose(got, w2, rtol=8 * np.finfo(dtype).eps,
                                       atol=5 * np.finfo(dtype).eps)
            np.testing.assert_allclose(got[far], w2[far], rtol=8 * np.finfo(dtype).eps,
                                       atol=4 * np.finfo(dtype).smallest_subnormal)
        got = np.asarray(ft.vmap(ft.grad(d2))(xs))
        np.testing.assert_allclose(got, w3, rtol=32 * np.finfo(dtype).eps,
                                   atol=20 * np.finfo(dtype).eps)
        np.testing.assert_allclose(got[far], w3[far], rtol=32 * np.finfo(dtype).eps,
                                   atol=8 * np.finfo(dtype).smallest_subnormal)


def test_tanh_slope_dense_accuracy_against_mpmath():
    # 1 - y^2 below |x| ~ 3.1, the far form above: within a few ulps everywhere (1 - y^2 was
    # 1e-8 relative off at 10, 100 % from 19)
    mp = pytest.importorskip("mpmath")
    xs = np.concatenate([np.linspace(0.0, 40.0, 801), -np.linspace(2.5, 4.0, 31)])
    with mp.workdps(40):
        want = np.array([float(mp.sech(mp.mpf(float(v))) ** 2) for v in xs])
    got = ft.vmap(ft.grad(fnp.tanh))(xs)
    far = want < 2.0 ** -7
    eps = np.finfo(float).eps
    assert far.sum() > 700 and np.max(np.abs(got - want)[far] / want[far]) < 8 * eps
    assert np.max(np.abs(got - want)[~far]) < 2.5 * eps  # (relative: < 256 eps)
    x32 = xs.astype(np.float32)
    with mp.workdps(40):
        w32 = np.array([float(mp.sech(mp.mpf(float(v))) ** 2) for v in x32]).astype(np.float32)
    got32 = ft.vmap(ft.grad(fnp.tanh))(x32)
    ok = far & (w32 > np.finfo(np.float32).tiny)
    assert np.max(np.abs(got32[ok] - w32[ok]) / w32[ok]) < 8 * np.finfo(np.float32).eps


def test_tanh_slope_every_impl_gives_the_same_values():
    # NumPy's impl (scalars, small and large arrays, non-contiguous, subclasses), the generic
    # impl (which selects), the into rule (graph evaluation into reused memory) and torch's
    b = get_backend("numpy")
    p = registry["tanh_slope"]
    rng = np.random.default_rng(0)
    big = rng.standard_normal((300, 40)) * 4
    big[0, :4] = [np.nan, np.inf, -np.inf, 25.0]
    for x in (big, big.T, big[:, ::3], big[:7, :5], np.float64(7.5), np.float32(12.0),
              np.asarray(-30.0), big.astype(np.float32), fnp.asarray(big[:4])):
        fast = p.impl_for(b)(x, factor=True)
        generic = p.impl(b, x, factor=True)
        for f, g in zip(fast, generic):
            np.testing.assert_array_equal(f, g)
    for x in (big, big.astype(np.float32)):
        outs = [np.full_like(x, np.nan) for _ in range(3)]
        got = p.into(b, outs, x, factor=True)
        assert all(g is o for g, o in zip(got, outs))
        for g, e in zip(got, p.impl(b, x, factor=True)):
            np.testing.assert_array_equal(g, e)
    torch = pytest.importorskip("torch")
    tb = get_backend("torch")
    for x in (big, big[:5, :5], np.asarray(30.0)):
        t = torch.from_numpy(np.ascontiguousarray(x))
        fast = p.impl_for(tb)(t, factor=False)
        generic = p.impl(tb, t, factor=False)
        for f, g in zip(fast, generic):
            assert torch.equal(f.isnan(), g.isnan())
            torch.testing.assert_close(f, g, rtol=0, atol=0, equal_nan=True)
        np.testing.assert_allclose(fast[1].numpy(), p.impl_for(b)(x, factor=False)[1],
                                   rtol=128 * np.finfo(float).eps, atol=0)  # (1 ulp of y)


def test_tanh_grad_on_every_backend(backend):
    xs = np.array([0.5, -3.5, 20.0, -45.0, 360.0])
    w1, w2, _ = _tanh_derivatives(xs)
    x = backend.asarray(xs)
    np.testing.assert_allclose(_np(backend, ft.vmap(ft.grad(fnp.tanh))(x)), w1,
                               rtol=1e-15, atol=1e-320)
    np.testing.assert_allclose(_np(backend, ft.vmap(ft.grad(ft.grad(fnp.tanh)))(x)), w2,
                               rtol=1e-15, atol=1e-320)


def test_tanh_kept_by_a_checkpoint_derives_its_slope_from_the_result():
    # (documented: a kept tanh result gives 1 - y^2, tanh_slope's value to the bit below
    # TANH_FAR, within 2.2e-16 beyond; the operand is not recomputed)
    xs = np.array([0.3, -1.2, 2.0, 5.0, 25.0])
    f = ft.checkpoint(fnp.tanh, policy=ft.checkpoint_policies.everything_saveable)
    got = ft.vmap(ft.grad(f))(xs)
    want = ft.vmap(ft.grad(fnp.tanh))(xs)
    np.testing.assert_array_equal(got[:3], want[:3])
    np.testing.assert_allclose(got, want, rtol=0, atol=2.3e-16)


# -- vector_norm of order 0 < p < 1 at zeros: NaN where a zero moves, nowhere else -----------

_SECOND = {
    "jacfwd(jacrev)": lambda f: ft.jacfwd(ft.jacrev(f)),
    "jacrev(jacfwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
    "jacrev(jacrev)": lambda f: ft.jacrev(ft.jacrev(f)),
    "jacfwd(jacfwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "jit(hessian)": lambda f: ft.jit(ft.hessian(f)),
}


@pytest.mark.parametrize("p", [0.5, 0.3])
@pytest.mark.parametrize("x", [[0.0, 1.0, 2.0], [3.0, 0.0, -4.0, 0.5], [0.0, 0.0, 2.0]])
def test_vector_norm_below_one_second_derivatives_at_zeros_every_mode(p, x):
    x = np.array(x)
    f = lambda v: fnp.linalg.vector_norm(v, ord=p)  # noqa: E731
    zero = x == 0
    nz = ~zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the Hessian of the norm restricted to the non-zero entries (zeros held at 0)
        s_nz = np.sum(np.abs(x[nz]) ** p)
        a = np.abs(x[nz])
        sg = a ** (p - 1) * np.sign(x[nz])
        h_nz = (1 - p) * s_nz ** (1 / p - 2) * np.outer(sg, sg) + np.diag(
            s_nz ** (1 / p - 1) * (p - 1) * a ** (p - 2))
        for name, way in _SECOND.items():
            h = np.asarray(way(f)(x))
            # (rows and columns of a zero NaN: the one-sided limits are +-inf)
            assert np.isnan(h[zero]).all() and np.isnan(h[:, zero]).all(), name
            np.testing.assert_allclose(h[np.ix_(nz, nz)], h_nz, rtol=1e-13, err_msg=name)
        for way in (ft.grad(f), ft.jacfwd(f), ft.jit(ft.grad(f))):
            g = np.asarray(way(x))
            assert np.isnan(g[zero]).all()
            np.testing.assert_allclose(g[nz], (s_nz ** (1 / p - 1) * sg), rtol=1e-14)


def test_vector_norm_below_one_along_an_axis_keeps_slices_apart():
    x = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    f = lambda v: fnp.linalg.vector_norm(v, ord=0.5, axis=1)  # noqa: E731
    for name, way in _SECOND.items():
        h = np.asarray(way(f)(x)).reshape(2, 6, 6)
        # the second slice has no zero: its Hessian is finite, and the first's is finite
        # away from the zero's row and column (x[0, 0] is entry 0)
        assert np.isfinite(h[1]).all(), name
        assert np.isnan(h[0, 0, :3]).all() and np.isnan(h[0, :3, 0]).all(), name
        assert np.isfinite(h[0, 1:, 1:]).all(), name
        np.testing.assert_array_equal(h[0, :, 3:], 0.0)  # (other slice's entries)
        if name != "jacrev(jacfwd)":  # (left: there NaN in column 0 of those rows)
            np.testing.assert_array_equal(h[0, 3:, :], 0.0)
        np.testing.assert_array_equal(h[0, 3:, 1:], 0.0)


# -- var/std/nanvar/nanstd over slices of one element and with no degrees of freedom ---------

_X2 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
_ONE = np.array([[False, True, False], [True, True, False]])  # row 0 takes x[0, 1] alone


@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_statistics_of_one_element_where_slices(name, ddof):
    kw = dict(axis=1, where=_ONE, ddof=ddof)
    f = lambda v: getattr(fnp, name)(v, **kw)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(np, name)(_X2, **kw)
        np.testing.assert_allclose(f(_X2), want, rtol=1e-15)
        assert np.isnan(want[0]) == (ddof == 1)
        # row 1 (two elements) by finite differences; row 0: 0 (ddof 0, identically 0),
        # NaN in x[0, 1]'s direction only (ddof 1: NumPy's NaN whatever x is)
        fd = np.zeros(6)
        for i in range(6):
            e = np.zeros(6)
            e[i] = 1e-6
            fd[i] = (getattr(np, name)(_X2 + e.reshape(2, 3), **kw)[1]
                     - getattr(np, name)(_X2 - e.reshape(2, 3), **kw)[1]) / 2e-6
        row0 = np.zeros(6)
        if ddof == 1:
            row0[1] = np.nan
        for way in (ft.jacfwd, ft.jacrev, lambda g: ft.jit(ft.jacrev(g)),
                    lambda g: ft.jit(ft.jacfwd(g))):
            j = np.asarray(way(f)(_X2)).reshape(2, 6)
            np.testing.assert_array_equal(j[0], row0)
            np.testing.assert_allclose(j[1], fd, rtol=1e-8, atol=1e-9)
        h = np.asarray(ft.hessian(lambda v: f(v)[0])(_X2)).reshape(6, 6)
        h2 = np.asarray(ft.jacrev(ft.jacrev(lambda v: f(v)[0]))(_X2)).reshape(6, 6)
        want_h = np.zeros((6, 6))
        if ddof == 1:
            want_h[1, 1] = np.nan
        np.testing.assert_array_equal(h, want_h)
        np.testing.assert_array_equal(h2, want_h)


@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
def test_statistics_with_no_degrees_of_freedom_keep_other_slices_zero(name):
    # var(x, axis=1, ddof=1) over one column: NaN, whose derivative was NaN in every
    # direction in forward mode (also the other slice's entries); nanvar's was 0
    x = np.array([[3.0], [4.0]])
    f = lambda v: getattr(fnp, name)(v, axis=1, ddof=1)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(f(x), getattr(np, name)(x, axis=1, ddof=1))
        want = np.array([[np.nan, 0.0], [0.0, np.nan]])
        for way in (ft.jacfwd, ft.jacrev, lambda g: ft.jit(ft.jacfwd(g))):
            np.testing.assert_array_equal(np.asarray(way(f)(x)).reshape(2, 2), want)
        # two elements, ddof 2: NumPy's inf for var/std (s / 0), NaN for the nan versions
        y = np.array([[3.0, 5.0]])
        g = lambda v: getattr(fnp, name)(v, axis=1, ddof=2)  # noqa: E731
        np.testing.assert_array_equal(g(y), getattr(np, name)(y, axis=1, ddof=2))
        assert np.isnan(ft.jacfwd(g)(y)).all() and np.isnan(ft.jacrev(g)(y)).all()


def test_std_of_one_element_slices_under_where_has_zero_derivative_on_every_backend(backend):
    x = backend.asarray(_X2)
    mask = backend.asarray(_ONE, dtype="bool")
    g = ft.grad(lambda v: fnp.sum(fnp.std(v, axis=1, where=mask)))(x)
    # row 0: 0 (std over one element is identically 0; sqrt's slope gave NaN)
    want = np.array([[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]])
    np.testing.assert_allclose(_np(backend, g), want, rtol=1e-15)


# -- log_softmax / softmax with infinite entries: jit and eager agree, to second order ------

@pytest.mark.parametrize("fn", ["log_softmax", "softmax"])
def test_softmaxes_with_infinities_under_jit_agree_with_eager(fn):
    f = getattr(ft.nn, fn)
    x = np.array([[1.0, np.inf, 2.0], [0.5, 1.0, -1.0], [-np.inf, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(ft.jit(f)(x), f(x))
        want = np.asarray(ft.jacrev(f)(x))
        assert np.isnan(want[0, :, 0]).all() and np.isfinite(want[1:, :, 1:]).all()
        np.testing.assert_array_equal(want[0, :, 1:], 0.0)  # (other rows' entries)
        for way in (ft.jacfwd(ft.jit(f)), ft.jit(ft.jacrev(f)), ft.jacrev(ft.jit(f)),
                    ft.jit(ft.jacfwd(f)), ft.jacfwd(f)):
            np.testing.assert_allclose(np.asarray(way(x)), want, rtol=1e-15, atol=1e-16)
        g = lambda v: f(v)[1, 0]  # noqa: E731
        h = np.asarray(ft.hessian(g)(x)).reshape(9, 9)
        assert np.isfinite(h).all() and h[3:6, 3:6].any()
        for way in (ft.jit(ft.hessian(g)), ft.jacrev(ft.jacrev(g)),
                    ft.jacfwd(ft.jit(ft.jacrev(g)))):
            np.testing.assert_allclose(np.asarray(way(x)).reshape(9, 9), h, rtol=1e-14,
                                       atol=1e-16)


# -- quantile's virtual index in NumPy's order of operations ----------------------------------

_QMETHODS = ["linear", "weibull", "hazen", "median_unbiased", "normal_unbiased",
             "interpolated_inverted_cdf", "midpoint", "lower", "higher", "nearest",
             "inverted_cdf", "averaged_inverted_cdf", "closest_observation"]


def test_quantile_equals_numpy_to_the_bit_beside_infinities():
    # (weibull at q = 0.3 of [1, -inf, 2, 3] was nan, NumPy's -inf: n q + alpha - 1 + q (1 -
    # alpha - beta) rounded to just below 0.5, so the lerp ran from -inf's side; 485 of
    # these 6,344-point draws differed, by an ulp elsewhere)
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isneginf(fnp.quantile(np.array([1.0, -np.inf, 2.0, 3.0]), 0.3,
                                        method="weibull"))
        for m in _QMETHODS:
            for n in (1, 2, 4, 5, 10):
                q = np.concatenate([np.linspace(0, 1, 21), rng.uniform(0, 1, 8)])
                for x in (rng.standard_normal(n),
                          np.where(rng.uniform(size=n) < 0.3, -np.inf, rng.standard_normal(n)),
                          np.where(rng.uniform(size=n) < 0.3, np.inf, rng.standard_normal(n))):
                    np.testing.assert_array_equal(fnp.quantile(x, q, method=m),
                                                  np.quantile(x, q, method=m), err_msg=m)


# -- interp beside infinite values: NumPy's fallback from the right end, parts apart --------

def test_interp_with_infinite_values_as_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the left end gives inf - inf: NumPy's value is from the right end
        xp = np.array([0.0, 1.0, 2.0, 3.0])
        for fp in ([1.0, np.inf, 2.0, 3.0], [1.0, -np.inf, 2.0, 3.0],
                   [np.inf, np.inf, 0.0, 1.0], [0.0, 1.0, -np.inf, -np.inf]):
            fp = np.array(fp)
            x = np.array([-0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 9.0, np.nan])
            np.testing.assert_array_equal(fnp.interp(x, xp, fp), np.interp(x, xp, fp))
            np.testing.assert_array_equal(ft.jit(fnp.interp)(x, xp, fp), np.interp(x, xp, fp))
        # complex: each part by itself (inf in one part made the other NaN)
        fpc = np.array([1.0 + 2.0j, np.inf + 1.0j, 2.0 - np.inf * 1j, 3.0 + 0.0j])
        x = np.array([0.5, 1.5, 2.5, np.nan, -1.0])
        np.testing.assert_array_equal(fnp.interp(x, xp, fpc), np.interp(x, xp, fpc))
        np.testing.assert_array_equal(fnp.interp(x, xp, fpc, left=1j, right=2.0),
                                      np.interp(x, xp, fpc, left=1j, right=2.0))
    # derivatives where finite: in fp and x, complex fp's parts
    fp = np.array([1.0, 3.0, 2.0, 0.5])
    x = np.array([0.25, 1.5, 2.75])
    jf = ft.jacfwd(lambda f: fnp.interp(x, xp, f))(fp)
    np.testing.assert_allclose(jf, [[0.75, 0.25, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 0.25, 0.75]])
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(fnp.interp(v, xp, fp)))(x),
                               [2.0, -1.0, -1.5])
    g = ft.grad(lambda f: fnp.real(fnp.sum(fnp.interp(x, xp, f + 2j * f))))(fp)
    np.testing.assert_allclose(g, np.sum(jf, axis=0))


def test_trapezoid_with_sample_points_of_more_axes_than_y():
    rng = np.random.default_rng(2)
    for ys, xs in (((3,), (2, 3)), ((3,), (4, 2, 3)), ((1, 3), (2, 3)), ((2, 3), (2, 3))):
        y = rng.standard_normal(ys)
        x = np.cumsum(rng.uniform(0.1, 1.0, xs), axis=-1)
        np.testing.assert_allclose(fnp.trapezoid(y, x), np.trapezoid(y, x), rtol=1e-14)
    # (y (3,) beside x (2, 3) was a ShapeError, x differenced along its axis 0)
    y = np.array([1.0, 4.0, 9.0])
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.5, 3.0]])
    np.testing.assert_allclose(fnp.trapezoid(y, x), [9.0, 0.25 * 5 + 2.5 * 6.5])
    jy = ft.jacrev(lambda v: fnp.trapezoid(v, x))(y)
    np.testing.assert_allclose(jy, [[0.5, 1.0, 0.5], [0.25, 1.5, 1.25]])
    jx = ft.jacfwd(lambda v: fnp.trapezoid(y, v))(x)
    np.testing.assert_allclose(jx[0], [[-2.5, -4.0, 6.5], [0, 0, 0]])
    with pytest.raises(ValueError):  # (as NumPy: the axis sizes do not broadcast)
        fnp.trapezoid(np.ones(3), x, axis=0)
