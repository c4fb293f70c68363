"""functrans.scipy.fft (the DCT/DST and the re-exported FFTs), functrans.scipy.ndimage
(map_coordinates), functrans.scipy.interpolate (RegularGridInterpolator) and
functrans.nn.initializers: values against SciPy on every backend, derivatives with
check_grads, transforms, errors; the initializers by their statistics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft as sfft
import scipy.interpolate as sinterp
import scipy.ndimage as sndimage

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr
import functrans.scipy.fft as F
from functrans.scipy.interpolate import RegularGridInterpolator
from functrans.scipy.ndimage import map_coordinates
from functrans.testing import check_grads

RNG = np.random.default_rng(14)
X = RNG.normal(size=(3, 5))
Z = X + 1j * RNG.normal(size=(3, 5))
_R2R = ("dct", "idct", "dst", "idst")


# -- functrans.scipy.fft --------------------------------------------------------------------


@pytest.mark.parametrize("kind", _R2R)
@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_r2r_matches_scipy(backend, kind, type):
    x = backend.asarray(X)
    for kw in ({}, {"norm": "ortho"}, {"norm": "forward"}, {"norm": "backward", "n": 7},
               {"norm": "ortho", "orthogonalize": False, "n": 3},
               {"orthogonalize": True, "axis": 0}):
        got = getattr(F, kind)(x, type=type, **kw)
        assert backend.is_own(got)
        want = getattr(sfft, kind)(X, type=type, **kw)
        got = backend.to_numpy(got)
        assert got.shape == want.shape and got.dtype == want.dtype, kw
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=str(kw))


@pytest.mark.parametrize("kind", ["dctn", "idctn", "dstn", "idstn"])
def test_nd_transforms_match_scipy(backend, kind):
    z = RNG.normal(size=(2, 3, 4)) + 1j * RNG.normal(size=(2, 3, 4))
    for type in (1, 2, 3, 4):
        for kw in ({}, {"axes": (0, 2)}, {"s": (4, 5)}, {"s": (-1, 2), "axes": (2, 0)},
                   {"norm": "ortho", "axes": -1}):
            got = getattr(F, kind)(backend.asarray(z, "complex128"), type=type, **kw)
            want = getattr(sfft, kind)(z, type=type, **kw)
            np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{type} {kw}")


def test_r2r_dtypes_and_round_trips(backend):
    x32 = backend.to_numpy(F.dct(backend.asarray(X, "float32"), type=3))
    assert x32.dtype == np.float32
    np.testing.assert_allclose(x32, sfft.dct(X.astype(np.float32), type=3), rtol=1e-5,
                               atol=1e-5)
    z = backend.to_numpy(F.dst(backend.asarray(Z, "complex64"), type=4))
    assert z.dtype == np.complex64
    assert backend.to_numpy(F.dct(backend.asarray([1, 2, 3], "int64"))).dtype == np.float64
    for type in (1, 2, 3, 4):
        for norm in (None, "ortho", "forward"):
            x = backend.asarray(X)
            back = F.idctn(F.dctn(x, type=type, norm=norm), type=type, norm=norm)
            np.testing.assert_allclose(backend.to_numpy(back), X, atol=1e-12)
            back = F.idst(F.dst(x, type=type, norm=norm), type=type, norm=norm)
            np.testing.assert_allclose(backend.to_numpy(back), X, atol=1e-12)
    # one point: SciPy's values (type 1 DCT needs two)
    for kind in _R2R:
        for type in (2, 3, 4) if kind in ("dct", "idct") else (1, 2, 3, 4):
            np.testing.assert_allclose(getattr(F, kind)(np.ones(1), type=type),
                                       getattr(sfft, kind)(np.ones(1), type=type))


@pytest.mark.parametrize("type", [1, 2, 3, 4])
def test_r2r_derivatives(backend, type):
    x = backend.asarray(X[:2, :4])
    check_grads(lambda a: F.dct(a, type=type, norm="ortho", n=5), (x,), order=1)
    check_grads(lambda a: F.idstn(a, type=type, s=(3, 3)), (x,), order=1)
    if backend.name == "numpy":
        check_grads(lambda a: F.dctn(fnp.sin(a), type=type), (x,), order=2)


def test_r2r_under_transforms():
    f = ft.jit(lambda a: F.dct(a, type=2, norm="ortho"))
    np.testing.assert_allclose(f(X), sfft.dct(X, norm="ortho"), atol=1e-13)
    np.testing.assert_allclose(ft.vmap(lambda r: F.dst(r, type=3), in_axes=1,
                                       out_axes=1)(X), sfft.dst(X, type=3, axis=0),
                               atol=1e-13)
    # the orthonormal DCT preserves the sum of squares: its gradient is 2 x
    g = ft.grad(lambda a: fnp.sum(F.dctn(a, norm="ortho") ** 2))(X)
    np.testing.assert_allclose(g, 2 * X, atol=1e-12)


def test_fft_reexports_and_next_fast_len():
    assert F.fft is fnp.fft.fft and F.irfftn is fnp.fft.irfftn
    np.testing.assert_allclose(F.rfft(X), sfft.rfft(X), atol=1e-13)
    for t in (0, 1, 7, 11, 13, 97, 1000001):
        for real in (False, True):
            assert F.next_fast_len(t, real) == sfft.next_fast_len(t, real), (t, real)


def test_r2r_errors():
    with pytest.raises(ValueError, match="type must be 1, 2, 3 or 4"):
        F.dct(X, type=5)
    with pytest.raises(ValueError, match="norm must be"):
        F.dst(X, norm="both")
    with pytest.raises(ValueError, match="invalid number of data points"):
        F.dct(X, n=0)
    with pytest.raises(ValueError, match="type 1 DCT needs at least 2"):
        F.dct(np.ones(1), type=1)
    with pytest.raises(ValueError, match="same length"):
        F.dctn(X, s=(2, 2), axes=(0,))
    with pytest.raises(ValueError, match="repeated axes"):
        F.idctn(X, axes=(0, 0))
    with pytest.raises(ValueError, match="out of range"):
        F.dct(X, axis=2)
    with pytest.raises(ValueError, match="next_fast_len"):
        F.next_fast_len(-1)


# -- functrans.scipy.ndimage.map_coordinates -------------------------------------------------

IMG = RNG.normal(size=(4, 5))
COORDS = RNG.uniform(-2.5, 6.5, size=(2, 3, 7))
_SCIPY_MODE = {"constant": "grid-constant", "wrap": "grid-wrap", "nearest": "nearest",
               "mirror": "mirror", "reflect": "reflect"}


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", sorted(_SCIPY_MODE))
def test_map_coordinates_matches_scipy(backend, order, mode):
    got = map_coordinates(backend.asarray(IMG), backend.asarray(COORDS), order, mode=mode,
                          cval=0.75)
    assert backend.is_own(got)
    want = sndimage.map_coordinates(IMG, COORDS, order=order, mode=_SCIPY_MODE[mode],
                                    cval=0.75)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13, atol=1e-13)
    # SciPy's names for the same rules, and a list of coordinate arrays
    same = map_coordinates(IMG, list(COORDS), order, mode=_SCIPY_MODE[mode], cval=0.75) \
        if mode in ("constant", "wrap") else None
    if same is not None:
        np.testing.assert_allclose(same, want, rtol=1e-13, atol=1e-13)


def test_map_coordinates_integer_input_and_one_point_axes():
    img = np.arange(12).reshape(3, 4)
    c = RNG.uniform(-1, 4, size=(2, 9))
    for mode in ("nearest", "mirror", "reflect"):
        got = map_coordinates(img, c, 1, mode=mode)
        assert got.dtype == img.dtype
        np.testing.assert_array_equal(got, sndimage.map_coordinates(img, c, order=1,
                                                                     mode=mode))
    c = [[0.2, -1.5], [0.5, 2.5]]
    for mode in ("mirror", "reflect", "nearest", "wrap"):
        np.testing.assert_allclose(map_coordinates(np.ones((1, 3)), c, 1, mode=mode),
                                   [1.0, 1.0])


def test_map_coordinates_derivatives(backend):
    img = backend.asarray(IMG[:3, :4])
    c = backend.asarray(RNG.uniform(-1.3, 4.2, size=(2, 5)))
    for mode in ("constant", "reflect", "wrap"):
        check_grads(lambda a, q: map_coordinates(a, q, 1, mode=mode, cval=0.4), (img, c),
                    order=2 if backend.name == "numpy" else 1)
    check_grads(lambda a: map_coordinates(a, c, 0, mode="mirror"), (img,), order=1)
    # nearest-neighbour sampling is piecewise constant in the coordinates
    g = ft.grad(lambda q: fnp.sum(map_coordinates(img, q, 0)))(c)
    assert not backend.to_numpy(g).any()


def test_map_coordinates_under_transforms():
    f = ft.jit(lambda a, q: map_coordinates(a, q, 1, mode="nearest"))
    want = sndimage.map_coordinates(IMG, COORDS, order=1, mode="nearest")
    np.testing.assert_allclose(f(IMG, COORDS), want, atol=1e-13)
    got = ft.vmap(lambda q: map_coordinates(IMG, q, 1, mode="nearest"), in_axes=1)(COORDS)
    np.testing.assert_allclose(got, want, atol=1e-13)


def test_map_coordinates_errors():
    with pytest.raises(NotImplementedError, match="order=3"):
        map_coordinates(IMG, COORDS, 3)
    with pytest.raises(ValueError, match="mode must be one of"):
        map_coordinates(IMG, COORDS, 1, mode="grid-nearest")
    with pytest.raises(ValueError, match="one array per axis"):
        map_coordinates(IMG, COORDS[:1], 1)
    with pytest.raises(TypeError, match="boolean"):
        map_coordinates(IMG > 0, COORDS, 0)


# -- functrans.scipy.interpolate.RegularGridInterpolator -------------------------------------

PTS = (np.array([0.0, 0.7, 1.9, 3.0]), np.array([-1.0, 0.0, 0.5, 2.0, 2.5]))
VALS = RNG.normal(size=(4, 5, 2))
XI = np.stack([RNG.uniform(-0.5, 3.5, size=(3, 6)), RNG.uniform(-1.5, 3.0, size=(3, 6))], -1)
XI[0, 0] = [np.nan, 1.0]
XI[0, 1] = [PTS[0][2], PTS[1][3]]  # on grid points
XI_IN = np.stack([RNG.uniform(0.1, 2.9, size=5), RNG.uniform(-0.9, 2.4, size=5)], -1)


@pytest.mark.parametrize("method", ["linear", "nearest"])
def test_regular_grid_interpolator_matches_scipy(backend, method):
    pts = tuple(backend.asarray(p) for p in PTS)
    for fill in (np.nan, None, 2.5):
        for vals in (VALS, VALS[..., 0]):
            got = RegularGridInterpolator(pts, backend.asarray(vals), method=method,
                                          fill_value=fill)(backend.asarray(XI))
            assert backend.is_own(got)
            want = sinterp.RegularGridInterpolator(PTS, vals, method=method,
                                                   bounds_error=False, fill_value=fill)(XI)
            np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13, atol=1e-13,
                                       err_msg=str(fill))
    # the method given at the call, and query points as a tuple of arrays that broadcast
    q = (np.array([0.5, 1.0, 2.9]), np.array([[0.2], [1.1]]))
    want = sinterp.RegularGridInterpolator(PTS, VALS)(q, method=method)
    got = RegularGridInterpolator(pts, backend.asarray(VALS))(
        tuple(backend.asarray(a) for a in q), method=method)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13)


def test_regular_grid_interpolator_derivatives(backend):
    pts = tuple(backend.asarray(p) for p in PTS)
    vals, xi = backend.asarray(VALS), backend.asarray(XI_IN)
    order = 2 if backend.name == "numpy" else 1
    check_grads(lambda v, x: RegularGridInterpolator(pts, v)(x), (vals, xi), order=order)
    check_grads(lambda p0, v: RegularGridInterpolator((p0, pts[1]), v)(xi),
                (pts[0], vals), order=1)
    check_grads(lambda v: RegularGridInterpolator(pts, v, method="nearest")(xi), (vals,),
                order=1)


def test_regular_grid_interpolator_is_a_pytree():
    interp = RegularGridInterpolator(PTS, VALS)
    leaves = ft.tree.leaves(interp)
    assert len(leaves) == 4  # two grids, the values, the fill value
    want = sinterp.RegularGridInterpolator(PTS, VALS)(XI_IN)
    np.testing.assert_allclose(ft.jit(lambda it, x: it(x))(interp, XI_IN), want, rtol=1e-13)
    g = ft.grad(lambda it: fnp.sum(it(XI_IN)))(interp)
    assert isinstance(g, RegularGridInterpolator) and g.values.shape == VALS.shape
    # linear in the values: the gradient of the sum is the sum of the weights, per query
    np.testing.assert_allclose(np.sum(g.values), 2 * len(XI_IN), rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(interp)(XI_IN), want, rtol=1e-13)


def test_regular_grid_interpolator_errors():
    with pytest.raises(NotImplementedError, match="bounds_error=True"):
        RegularGridInterpolator(PTS, VALS, bounds_error=True)
    with pytest.raises(NotImplementedError, match="'cubic'"):
        RegularGridInterpolator(PTS, VALS, method="cubic")
    with pytest.raises(ValueError, match="strictly ascending"):
        RegularGridInterpolator((PTS[0][::-1], PTS[1]), VALS)
    with pytest.raises(ValueError, match="4 points and 3 values"):
        RegularGridInterpolator(PTS, VALS[:3])
    with pytest.raises(ValueError, match="requires at least 2"):
        RegularGridInterpolator((PTS[0][:1], PTS[1]), VALS[:1])
    with pytest.raises(ValueError, match="last axis"):
        RegularGridInterpolator(PTS, VALS)(np.ones((3, 3)))


# -- functrans.nn.initializers ---------------------------------------------------------------


def _init():
    import functrans.nn.initializers as init
    return init


@pytest.mark.parametrize("name,args,var", [
    # shape (5, 40, 50): fan_in 40 * 5, fan_out 50 * 5 (the leading axis a receptive field)
    ("uniform", (0.5,), 0.5 ** 2 / 12), ("normal", (0.3,), 0.09),
    ("glorot_uniform", (), 1 / 225), ("glorot_normal", (), 1 / 225),
    ("xavier_uniform", (), 1 / 225), ("xavier_normal", (), 1 / 225),
    ("lecun_uniform", (), 1 / 200), ("lecun_normal", (), 1 / 200),
    ("he_uniform", (), 2 / 200), ("he_normal", (), 2 / 200),
    ("kaiming_uniform", (), 2 / 200), ("kaiming_normal", (), 2 / 200),
])
def test_initializer_statistics(name, args, var):
    w = np.asarray(getattr(_init(), name)(*args)(fr.key(3), (5, 40, 50)))
    mean = 0.25 if name == "uniform" else 0.0
    assert abs(w.mean() - mean) < 4 * np.sqrt(var / w.size)
    assert abs(w.var() / var - 1) < 0.05
    if name.endswith("uniform"):
        hi = 0.5 if name == "uniform" else np.sqrt(3 * var)
        lo = 0.0 if name == "uniform" else -hi
        assert w.min() >= lo and w.max() < hi and w.max() > 0.99 * hi
    elif name != "normal":  # the truncated normal: within two standard deviations
        assert np.abs(w).max() < 2 * np.sqrt(var) / 0.87962566103423978


def test_truncated_normal_bounds_and_variance_scaling_modes():
    init = _init()
    w = np.asarray(init.truncated_normal(0.1)(fr.key(0), (200, 100)))
    assert np.abs(w).max() < 0.2 and np.abs(w).max() > 0.19
    assert abs(w.std() / (0.1 * 0.87962566103423978) - 1) < 0.02
    w = np.asarray(init.truncated_normal(1.0, lower=-0.5, upper=1.5)(fr.key(1), (20000,)))
    assert w.min() > -0.5 and w.max() < 1.5
    # variance_scaling: the truncated normal rescaled to the variance scale / fan
    shape = (3, 3, 16, 32)  # a conv kernel: receptive field 9
    for mode, fan in (("fan_in", 16 * 9), ("fan_out", 32 * 9), ("fan_avg", 24 * 9),
                      ("fan_geo_avg", np.sqrt(16 * 32) * 9)):
        for dist in ("truncated_normal", "normal", "uniform"):
            w = np.asarray(init.variance_scaling(2.0, mode, dist)(fr.key(2), shape))
            assert abs(w.var() / (2.0 / fan) - 1) < 0.06, (mode, dist)
    w = np.asarray(init.variance_scaling(1.0, "fan_in", "truncated_normal")(fr.key(2), shape))
    assert np.abs(w).max() < 2 * np.sqrt(1 / 144) / 0.87962566103423978
    # explicit axes: in_axis 0, out_axis (1, 2), a batch axis 3 that is not counted
    w = np.asarray(init.variance_scaling(1.0, "fan_out", "normal", in_axis=0,
                                         out_axis=(1, 2), batch_axis=3)(fr.key(4),
                                                                        (10, 6, 7, 50)))
    assert abs(w.var() * 42 - 1) < 0.06
    w = np.asarray(init.variance_scaling(1.0, "fan_in", "normal", in_axis=0)(fr.key(5),
                                                                            (20000,)))
    assert abs(w.var() - 1) < 0.05  # in and out are the one axis: fan_in 20000 / 20000, as JAX


def test_initializers_shapes_dtypes_library_and_keys(backend):
    init = _init()
    key = backend.asarray(backend.to_numpy(fr.key(7)), "uint32")
    for f, dtype in ((init.zeros, np.float64), (init.ones, np.float64),
                     (init.constant(-2.5), np.float64), (init.uniform(), np.float64),
                     (init.normal(), np.float64), (init.truncated_normal(), np.float64),
                     (init.glorot_normal(), np.float64), (init.he_uniform(), np.float64),
                     (init.orthogonal(), np.float64),
                     (init.lecun_normal(dtype=np.float32), np.float32)):
        w = f(key, (3, 4))
        assert backend.is_own(w) and tuple(w.shape) == (3, 4)
        got = backend.to_numpy(w)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, backend.to_numpy(f(key, (3, 4))))  # same key
        w32 = backend.to_numpy(f(key, (2, 5), "float32"))
        assert w32.dtype == np.float32 and w32.shape == (2, 5)
    assert backend.to_numpy(init.zeros(key, 5)).shape == (5,)
    np.testing.assert_array_equal(backend.to_numpy(init.constant(-2.5)(key, (2,))), -2.5)
    assert not np.array_equal(backend.to_numpy(init.normal()(key, (3, 4))),
                              backend.to_numpy(init.normal()(fr.split(key)[0, ...], (3, 4))))


def test_orthogonal_and_delta_orthogonal():
    init = _init()
    for shape, axis in (((4, 3, 6), -1), ((4, 3, 6), 0), ((5, 5), -1), ((2, 7), -1)):
        q = np.moveaxis(np.asarray(init.orthogonal(2.0, axis)(fr.key(1), shape)), axis, -1)
        m = q.reshape(-1, q.shape[-1]) / 2.0
        small = min(m.shape)
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    np.testing.assert_array_equal(init.orthogonal()(fr.key(0), (0, 3)), np.zeros((0, 3)))
    w = np.asarray(init.delta_orthogonal(1.5)(fr.key(2), (3, 4, 5, 6)))
    centre = w[1, 1]
    np.testing.assert_allclose(centre @ centre.T, 2.25 * np.eye(5), atol=1e-12)
    w[1, 1] = 0
    assert not w.any()
    assert np.asarray(init.delta_orthogonal()(fr.key(2), (5, 2, 2))).nonzero()[0].tolist() \
        == [2, 2, 2, 2]


def test_initializer_errors():
    init = _init()
    with pytest.raises(ValueError, match="in_axis"):
        init.glorot_uniform()(fr.key(0), (5,))
    with pytest.raises(ValueError, match="mode must be"):
        init.variance_scaling(1.0, "fan_sum", "normal")
    with pytest.raises(ValueError, match="distribution must be"):
        init.variance_scaling(1.0, "fan_in", "cauchy")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.orthogonal()(fr.key(0), (4,))
    with pytest.raises(ValueError, match="3, 4 or 5"):
        init.delta_orthogonal()(fr.key(0), (4, 4))
    with pytest.raises(ValueError, match="at most the output size"):
        init.delta_orthogonal()(fr.key(0), (3, 5, 4))
    with pytest.raises(TypeError, match="real floating"):
        init.normal()(fr.key(0), (2, 2), np.complex64)
