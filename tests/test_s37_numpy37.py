"""Session 37 (numpy37): edge cases of functrans.numpy's reductions and nn functions; tanh's
slope stays 1 - tanh(x)^2 (the lead's decision: the far-tail form cost 14-24 % on arrays)."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _np(backend, x):
    return backend.to_numpy(x)


def test_tanh_slope_is_one_minus_square_absolutely_accurate():
    # Decision (session 37): tanh's derivative is 1 - y^2, as JAX's, torch's and autograd's. It is
    # accurate to ~2 eps in absolute terms everywhere, but loses relative accuracy beyond
    # |x| ~ 3 and is exactly 0 beyond |x| ~ 19 (float64); a form exact in the tails cost 14-24 %
    # on grad of tanh over arrays. docs/coming-from-jax.md says so.
    mp = pytest.importorskip("mpmath")
    xs = np.array([0.0, 1e-300, 0.3, -1.0, 2.9, 3.2, -5.0, 10.0, -19.0, 20.0, 40.0, -700.0])
    got = ft.vmap(ft.grad(fnp.tanh))(xs)
    np.testing.assert_array_equal(got, 1.0 - np.tanh(xs) ** 2)
    with mp.workdps(40):
        want = np.array([float(mp.sech(mp.mpf(float(x))) ** 2) for x in xs])
    np.testing.assert_allclose(got, want, rtol=0, atol=2.3e-16)
    assert got[-1] == 0.0 and got[-3] == 0.0   # the true slopes 1.7e-17 and tiny underflow to 0


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
