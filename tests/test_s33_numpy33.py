"""Session 33 (numpy33): functrans.numpy against NumPy 2.4 and jax.numpy 0.10.2's keywords:
promote_integers on sum/prod, take_along_axis/put_along_axis modes, cumulative functions
of 0-d arrays, ... Expected values come from NumPy or are written by hand (no JAX here)."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import AxisError


def _same(got, want):
    got = np.asarray(got)
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    np.testing.assert_array_equal(got, want)


# -- promote_integers (jax.numpy's keyword on sum and prod) ------------------------------------

@pytest.mark.parametrize("name", ["sum", "prod"])
@pytest.mark.parametrize("dt", ["int8", "uint8", "int16", "uint32", "int64"])
def test_promote_integers(name, dt):
    x = np.array([100, 100, 3], dt)
    f, g = getattr(fnp, name), getattr(np, name)
    _same(f(x), g(x))  # True (the default): NumPy's int64/uint64
    _same(f(x, promote_integers=False), g(x, dtype=dt))  # its own dtype, wrapping around
    _same(f(x, promote_integers=False, dtype=np.int16), g(x, dtype=np.int16))  # dtype wins
    w = np.array([True, True, False])
    _same(f(x, promote_integers=False, where=w, initial=5), g(x, dtype=dt, where=w, initial=5))


def test_promote_integers_bool_float_and_transforms():
    b = np.array([True, True, False])
    _same(fnp.sum(b, promote_integers=False), np.int64(2))  # no bool sum: the default int
    _same(fnp.prod(np.float32([2, 3]), promote_integers=False), np.float32(6))
    np.testing.assert_array_equal(
        ft.grad(lambda x: fnp.prod(x, promote_integers=False))(np.array([2.0, 3.0, 5.0])),
        [15.0, 10.0, 6.0])
    x = np.array([[100, 100], [3, 4]], np.int8)
    _same(ft.jit(lambda v: fnp.sum(v, axis=1, promote_integers=False))(x),
          np.sum(x, axis=1, dtype=np.int8))
    _same(ft.vmap(lambda v: fnp.sum(v, promote_integers=False))(x),
          np.sum(x, axis=1, dtype=np.int8))


# -- cumulative_sum / cumulative_prod of 0-d arrays (NumPy 2.4: its one element) ---------------

@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_zero_d(name):
    f, g = getattr(fnp, name), getattr(np, name)
    for x in (np.float64(2.5), np.array(2.5), np.array(3, np.int8)):
        for kw in ({}, dict(axis=0), dict(axis=-1), dict(include_initial=True),
                   dict(axis=0, include_initial=True, dtype=np.float32)):
            _same(f(x, **kw), g(x, **kw))
        with pytest.raises(AxisError):
            f(x, axis=1)
    # the derivative of the one element: d/dx cumulative_prod(x^2) = 2x
    np.testing.assert_array_equal(ft.grad(lambda v: f(v * v)[0])(3.0),
                                  6.0)
    np.testing.assert_array_equal(ft.vmap(f)(np.array([1.0, 2.0])), [[1.0], [2.0]])


# -- take_along_axis mode= / fill_value= (jax.numpy's) -----------------------------------------

X = np.arange(6.0).reshape(2, 3)
IDX = np.array([[0, 5], [-1, -4]])


def test_take_along_axis_modes():
    with pytest.raises(IndexError, match="-4"):
        fnp.take_along_axis(X, IDX, 1)  # NumPy's default: out of range raises
    nan = np.nan
    # by hand: row 0 takes column 0 and (5: out) ; row 1 takes column -1 = 2 and (-4: out)
    _same(fnp.take_along_axis(X, IDX, 1, mode="fill"), np.array([[0.0, nan], [5.0, nan]]))
    _same(fnp.take_along_axis(X, IDX, 1, fill_value=7.0), np.array([[0.0, 7.0], [5.0, 7.0]]))
    # clip: a negative index counts from the end first (-4 -> -1 -> 0), then clipped
    _same(fnp.take_along_axis(X, IDX, 1, mode="clip"), np.array([[0.0, 2.0], [5.0, 3.0]]))
    _same(fnp.take_along_axis(X, IDX, 1, mode=ft.lax.GatherScatterMode.CLIP),
          np.array([[0.0, 2.0], [5.0, 3.0]]))
    _same(fnp.take_along_axis(X, IDX, 1, mode="fill", wrap_negative_indices=False),
          np.array([[0.0, nan], [nan, nan]]))
    _same(fnp.take_along_axis(X, IDX, 1, mode="clip", wrap_negative_indices=False),
          np.array([[0.0, 2.0], [3.0, 3.0]]))
    with pytest.raises(IndexError, match="-1"):
        fnp.take_along_axis(X, np.array([[0], [-1]]), 1, wrap_negative_indices=False)
    with pytest.raises(IndexError):  # staged: out of range too, not the last element
        ft.jit(lambda i: fnp.take_along_axis(X, i, 1, wrap_negative_indices=False))(
            np.array([[0], [-1]]))
    xi = np.arange(6).reshape(2, 3)
    lo = np.iinfo(np.int64).min
    _same(fnp.take_along_axis(xi, IDX, 1, mode="fill"), np.array([[0, lo], [5, lo]]))
    _same(fnp.take_along_axis(X, np.array([[1, -3, 2]], np.int8), 0, mode="fill"),
          np.array([[3.0, nan, nan]]))
    _same(fnp.take_along_axis(np.zeros((2, 0)), IDX, 1, mode="fill"), np.full((2, 2), nan))
    with pytest.raises(ValueError, match="mode"):
        fnp.take_along_axis(X, IDX, 1, mode="wrap")
    with pytest.raises(ValueError, match="fill_value"):
        fnp.take_along_axis(X, IDX, 1, mode="clip", fill_value=3)
    # in range, every mode is NumPy's take_along_axis
    ok = np.array([[2, 0], [1, -1]])
    for mode in (None, "raise", "clip", "fill", "promise_in_bounds"):
        _same(fnp.take_along_axis(X, ok, 1, mode=mode), np.take_along_axis(X, ok, 1))


def test_take_along_axis_modes_transforms():
    # the derivative reaches only the elements read (none from a filled entry)
    _same(ft.grad(lambda x: fnp.sum(fnp.take_along_axis(x, IDX, 1, mode="fill",
                                                        fill_value=7.0)))(X),
          np.array([[1.0, 0, 0], [0, 0, 1]]))
    _same(ft.grad(lambda x: fnp.sum(fnp.take_along_axis(x, IDX, 1, mode="clip")))(X),
          np.array([[1.0, 0, 1], [1, 0, 1]]))
    want = fnp.take_along_axis(X, IDX, 1, mode="fill")
    _same(ft.jit(lambda x, i: fnp.take_along_axis(x, i, 1, mode="fill"))(X, IDX), want)
    _same(ft.vmap(lambda x, i: fnp.take_along_axis(x, i, 0, mode="fill"))(X, IDX), want)
    _same(ft.vmap(lambda x, i: fnp.take_along_axis(x, i, 0, mode="clip"))(X, IDX),
          fnp.take_along_axis(X, IDX, 1, mode="clip"))


# -- put_along_axis mode= (jax.numpy's) --------------------------------------------------------

def test_put_along_axis_modes():
    with pytest.raises(IndexError):
        fnp.put_along_axis(X, IDX, 9.0, 1, inplace=False)
    # by hand: drop writes (0, 0) and (1, -1 = 2) only; clip also (0, 5 -> 2), (1, -4 -> 0)
    dropped = np.array([[9.0, 1, 2], [3, 4, 9]])
    for mode in ("drop", "fill"):
        _same(fnp.put_along_axis(X, IDX, 9.0, 1, inplace=False, mode=mode), dropped)
    _same(fnp.put_along_axis(X, IDX, 9.0, 1, False, mode="clip"),
          np.array([[9.0, 1, 9], [9, 4, 9]]))
    _same(fnp.put_along_axis(np.arange(5), np.array([7, 1]), np.array([3, 4]), None,
                             inplace=False, mode="drop"), np.array([0, 4, 2, 3, 4]))
    _same(fnp.put_along_axis(np.zeros((2, 0)), IDX, 9.0, 1, inplace=False, mode="drop"),
          np.zeros((2, 0)))
    with pytest.raises(ValueError, match="mode"):
        fnp.put_along_axis(X, IDX, 9.0, 1, inplace=False, mode="wrap")
    ok = np.array([[2], [0]])
    for mode in (None, "raise", "drop", "clip", "promise_in_bounds"):
        want = X.copy()
        np.put_along_axis(want, ok, -1.0, 1)
        _same(fnp.put_along_axis(X, ok, -1.0, 1, inplace=False, mode=mode), want)
    # gradients: a dropped value has none; the array's overwritten entries have none
    _same(ft.grad(lambda x: fnp.sum(fnp.put_along_axis(x, IDX, 9.0, 1, inplace=False,
                                                       mode="drop")))(X),
          np.array([[0.0, 1, 1], [1, 1, 0]]))
    _same(ft.grad(lambda v: fnp.sum(fnp.put_along_axis(X, IDX, v, 1, inplace=False,
                                                       mode="drop")))(np.ones((2, 2))),
          np.array([[1.0, 0], [1, 0]]))
    _same(ft.jit(lambda x, i: fnp.put_along_axis(x, i, 9.0, 1, inplace=False,
                                                 mode="drop"))(X, IDX), dropped)
    _same(ft.vmap(lambda x, i: fnp.put_along_axis(x, i, 9.0, 0, inplace=False,
                                                  mode="drop"))(X, IDX), dropped)


# -- linalg.svd(subset_by_index=) (jax.numpy's) ------------------------------------------------

def test_svd_subset_by_index():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 4, 3))
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    U, S, VH = fnp.linalg.svd(a, full_matrices=False, subset_by_index=(1, 3))
    np.testing.assert_allclose(S, s[..., 1:3], rtol=1e-13)
    # the vectors up to sign: each rank-one term u_i s_i v_i^H is NumPy's
    np.testing.assert_allclose(np.einsum("...ik,...k,...kj->...ij", U, S, VH),
                               np.einsum("...ik,...k,...kj->...ij", u[..., 1:3], s[..., 1:3],
                                         vh[..., 1:3, :]), atol=1e-13)
    assert U.shape == (2, 4, 2) and VH.shape == (2, 2, 3)
    np.testing.assert_allclose(fnp.linalg.svd(a, compute_uv=False, subset_by_index=(0, 1)),
                               s[..., :1], rtol=1e-13)  # no vectors: any full_matrices
    assert fnp.linalg.svd(a, subset_by_index=(0, 3))[0].shape == (2, 4, 4)  # all of them
    with pytest.raises(ValueError, match="full_matrices=False"):
        fnp.linalg.svd(a, subset_by_index=(0, 2))
    for bad, err in (((0, 4), ValueError), ((2, 2), ValueError), ((-1, 1), ValueError),
                     ((0,), ValueError), ((0.0, 1), TypeError)):
        with pytest.raises(err, match="subset_by_index"):
            fnp.linalg.svd(a, full_matrices=False, subset_by_index=bad)


def test_svd_subset_by_index_derivatives():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 3))

    def f(A):  # sign-free: the singular values and the sum of u_i v_i^H
        U, S, VH = fnp.linalg.svd(A, full_matrices=False, subset_by_index=(0, 2))
        return fnp.sum(S ** 2) + fnp.sum(fnp.sin(U @ VH))
    g = ft.grad(f)(A)
    eps, num = 1e-6, np.zeros_like(A)
    for i in np.ndindex(A.shape):
        e = np.zeros_like(A)
        e[i] = eps
        num[i] = (f(A + e) - f(A - e)) / (2 * eps)
    np.testing.assert_allclose(g, num, atol=1e-7)
    # second order: the Hessian of the two smallest singular values' sum against the
    # central differences of its gradient
    h_of = (lambda A: fnp.sum(fnp.linalg.svd(A, compute_uv=False, subset_by_index=(1, 3))))
    H = ft.hessian(h_of)(A)
    gr = ft.grad(h_of)
    e = np.zeros_like(A)
    e[2, 1] = 1e-5
    np.testing.assert_allclose(H[..., 2, 1], (gr(A + e) - gr(A - e)) / 2e-5, atol=1e-6)
    got = ft.vmap(lambda B: fnp.linalg.svd(B, full_matrices=False, subset_by_index=(0, 1))[1])(
        np.stack([A, 2 * A]))
    np.testing.assert_allclose(got[:, 0], [np.linalg.norm(A, 2), 2 * np.linalg.norm(A, 2)])


# -- precision= / preferred_element_type= on the products (jax.numpy's) ------------------------

def test_precision_on_products():
    x = np.array([1.0, 2.0, 3.0])
    m = np.arange(6.0).reshape(3, 2)
    for p in ("highest", ("default", "high"), ft.lax.Precision.HIGHEST):
        _same(fnp.vecdot(x, x, precision=p), np.float64(14.0))
        _same(fnp.linalg.vecdot(x, x, precision=p), np.float64(14.0))
        _same(fnp.linalg.tensordot(x, m, axes=1, precision=p), x @ m)
        _same(fnp.linalg.multi_dot([x, m, np.ones(2)], precision=p), x @ m @ np.ones(2))
    for f in (lambda p: fnp.vecdot(x, x, precision=p),
              lambda p: fnp.linalg.tensordot(x, m, axes=1, precision=p),
              lambda p: fnp.linalg.multi_dot([x, m], precision=p),
              lambda p: fnp.einsum("i,ij", x, m, precision=p),
              lambda p: fnp.matmul(x, m, precision=p)):
        with pytest.raises(ValueError, match="precision"):
            f("bogus")
    i8 = np.array([100, 100], np.int8)
    _same(fnp.vecdot(i8, i8), np.vecdot(i8, i8))  # int8, wrapping, as NumPy
    _same(fnp.vecdot(i8, i8, preferred_element_type=np.int32), np.int32(20000))
    _same(fnp.linalg.tensordot(i8, i8, axes=1, preferred_element_type=np.int16),
          np.int16(20000))
    np.testing.assert_array_equal(
        ft.grad(lambda v: fnp.vecdot(v, v, precision="highest"))(x), 2 * x)


# -- choose with a Python int beyond int64 and uint64; mask_indices(size=) ---------------------

def test_choose_python_int_out_of_range():
    a = np.array([0, 1])
    with pytest.raises(OverflowError):
        np.choose(a, [np.array([1, 2], np.uint64), 2 ** 64 + 5])
    for dt, big in ((np.uint64, 2 ** 64 + 5), (np.int64, 2 ** 64 + 1), (np.int32, -2 ** 63 - 1)):
        with pytest.raises(OverflowError, match="Python integer"):
            fnp.choose(a, [np.array([1, 2], dt), big])  # was wrapped: 2**64+5 -> 5
    for dt, v in ((np.uint64, 2 ** 64 - 1), (np.int64, 2 ** 63), (np.int32, 2 ** 63),
                  (np.uint8, -1), (np.int8, 300)):  # within int64/uint64: wrapped as NumPy
        c = [np.array([1, 2], dt), v]
        _same(fnp.choose(a, c), np.choose(a, c))


def test_mask_indices_size():
    r, c = np.mask_indices(3, np.triu, 1)
    got = fnp.mask_indices(3, fnp.triu, 1, size=5)
    _same(got[0], np.concatenate([r, [0, 0]]))
    _same(got[1], np.concatenate([c, [0, 0]]))
    got = fnp.mask_indices(3, fnp.triu, size=2)
    _same(got[0], np.mask_indices(3, np.triu)[0][:2])
    _same(got[1], np.mask_indices(3, np.triu)[1][:2])


# -- jax.numpy keywords functrans.numpy lacked (the keyword scan) ------------------------------

def test_index_dtype_keywords():
    x = np.array([3.0, 1.0, 2.0])
    _same(fnp.argsort(x, dtype=np.int8), np.argsort(x).astype(np.int8))
    _same(fnp.argsort(np.ones((2, 3)), axis=None, dtype=np.uint8), np.arange(6, dtype=np.uint8))
    _same(ft.vmap(lambda v: fnp.argsort(v, dtype=np.int16))(np.array([[2.0, 1.0], [0.0, 3.0]])),
          np.array([[1, 0], [0, 1]], np.int16))
    with pytest.raises(ValueError, match="int8 cannot hold the index 299"):
        fnp.argsort(np.arange(300.0), dtype=np.int8)  # (JAX's wraps the positions around)
    with pytest.raises(TypeError, match="integer dtype"):
        fnp.argsort(x, dtype=np.float32)
    idx = (np.array([1, 0]), np.array([2, 1]))
    _same(fnp.ravel_multi_index(idx, (3, 4), dtype=np.int16),
          np.ravel_multi_index(idx, (3, 4)).astype(np.int16))
    with pytest.raises(ValueError, match="cannot hold the index 119999"):
        fnp.ravel_multi_index(idx, (300, 400), dtype=np.int8)


def test_empty_like_shape_and_modf_out():
    got = fnp.empty_like(np.ones(2), np.int8, "K", True, (2, 3))  # NumPy's positions
    assert got.shape == (2, 3) and got.dtype == np.int8
    assert fnp.empty_like(np.ones(2), shape=(3,)).shape == (3,)
    assert ft.jit(lambda v: fnp.empty_like(v, shape=(2,)))(np.ones(3)).shape == (2,)
    frac, whole = fnp.modf(np.array([-1.5]), out=None)
    _same(frac, np.array([-0.5]))
    _same(whole, np.array([-1.0]))
    with pytest.raises(NotImplementedError, match="out="):
        fnp.modf(np.array([1.5]), out=(np.zeros(1), np.zeros(1)))


def test_array_methods_take_the_new_keywords():
    x = np.array([100, 100, 3], np.int8)
    _same(ft.jit(lambda v: v.sum(promote_integers=False))(x), np.sum(x, dtype=np.int8))
    _same(ft.jit(lambda v: v.prod(promote_integers=False))(x), np.prod(x, dtype=np.int8))
    _same(ft.jit(lambda v: v.argsort(descending=True))(np.array([1.0, 3.0, 2.0])),
          np.array([1, 2, 0]))


def test_along_axis_modes_unsigned_indices():
    # an unsigned index is its value, never negative (it was converted to int64 first:
    # 2**64 - 1 became -1, the last element, in every mode; JAX 0.10 mixes both readings)
    a = np.arange(3.0)
    for big in (np.array([2 ** 64 - 1], np.uint64), np.array([2 ** 63 + 5], np.uint64)):
        _same(fnp.take_along_axis(a, big, 0, mode="fill"), np.array([np.nan]))
        _same(fnp.take_along_axis(a, big, 0, mode="clip"), np.array([2.0]))
        _same(fnp.put_along_axis(a, big, 7.0, 0, inplace=False, mode="drop"), a)
        _same(fnp.put_along_axis(a, big, 7.0, 0, inplace=False, mode="clip"),
              np.array([0.0, 1.0, 7.0]))
        with pytest.raises(IndexError):
            fnp.put_along_axis(a, big, 7.0, 0, inplace=False)
    _same(fnp.take_along_axis(a, np.array([1, 250], np.uint8), 0, mode="fill"),
          np.array([1.0, np.nan]))
    _same(ft.jit(lambda i: fnp.take_along_axis(a, i, 0, mode="fill"))(
        np.array([2 ** 64 - 1], np.uint64)), np.array([np.nan]))
