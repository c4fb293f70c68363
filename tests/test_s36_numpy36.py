"""Session 36 (numpy36): weakly typed Python-number carries of lax's loops under jit and
eagerly (as JAX's weak types), vector_norm of negative order at zeros to second order in
every mode, round of integers whose result does not fit, partition of empty arrays."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp


def _np(backend, x):
    return backend.to_numpy(x)


# -- a Python-number carry that no step changes stays a (weakly typed) number -------------------

_XS32 = np.float32([1.0, 2.0, 3.0])

# each returns (the carry, something computed from it beside float32 values)
_UNCHANGED = {
    "scan": lambda c: lax.scan(lambda c, x: (c, c * x), c, _XS32),
    "scan_length": lambda c: lax.scan(lambda c, _: (c, c * _XS32), c, None, length=2),
    "scan_tuple": lambda c: lax.scan(lambda c, x: ((c[0], c[1] + x), c[0] * x), (c, c), _XS32),
    "fori_loop": lambda c: (lambda r: (r, r * _XS32))(
        lax.fori_loop(0, 3, lambda i, c: c, c)),
    "fori_loop_same_value": lambda c: (lambda r: (r, r * _XS32))(
        lax.fori_loop(0, 3, lambda i, c: c * 1.0, c)),
    "while_loop": lambda c: (lambda r: (r[0], r[0] * _XS32))(
        lax.while_loop(lambda c: c[1] < 3, lambda c: (c[0], c[1] + 1), (c, 0))),
}


@pytest.mark.parametrize("name", sorted(_UNCHANGED))
def test_an_unchanged_python_number_carry_stays_weak_under_jit_and_eagerly(name):
    f = _UNCHANGED[name]
    for run in (f, ft.jit(f)):
        carry, ys = run(0.5)
        first = carry[0] if isinstance(carry, tuple) else carry
        # (jit staged the carry as a float64 array, so c * float32 was float64; JAX's weak
        # carry gives float32, as the eager loop, whose carry is the number, did)
        assert type(first) is float and first == 0.5
        assert ys.dtype == np.float32, (run, ys.dtype)
        np.testing.assert_allclose(ys, np.broadcast_to(0.5 * _XS32, ys.shape) if ys.ndim == 1
                                   else ys)


def test_the_scan_of_note_35_gives_float32_ys_under_jit():
    f = lambda c: lax.scan(lambda c, x: (c, c * x), c, _XS32)  # noqa: E731
    c, ys = ft.jit(f)(0.0)  # (was float64 ys)
    assert ys.dtype == np.float32 and c == 0.0
    c2, ys2 = f(0.0)
    assert ys2.dtype == np.float32 and c2 == 0.0 and type(c2) is type(c) is float


def test_a_changing_python_number_carry_is_an_array_as_before():
    # (the loop's trajectory of numbers is not known when staged: a float64 array, as JAX's
    # weak float64 would print; eagerly the same, so that jit and eager agree)
    f = lambda c: lax.fori_loop(0, 3, lambda i, c: c + 1.0, c)  # noqa: E731
    for run in (f, ft.jit(f)):
        out = run(0.0)
        assert type(out) is np.ndarray and out.dtype == np.float64 and float(out) == 3.0


def test_a_number_carry_that_a_later_step_changes_is_typed_by_that_step():
    # a stays 1.0 while b is the number 0.0 (first step), then a * (b + 1) is float32: the
    # staged loop finds it changed and types it float32 from the start, as eagerly
    def f(c):
        return lax.scan(lambda c, x: ((c[0] * (c[1] + 1.0), c[1] + x), c[0] * x), c, _XS32)
    (a, b), ys = f((1.0, 0.0))
    (aj, bj), ysj = ft.jit(f)((1.0, 0.0))
    for u, v in ((a, aj), (b, bj), (ys, ysj)):
        assert np.asarray(u).dtype == np.asarray(v).dtype == np.float32
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-6)
    # a: 1, 1 * (1 + 1) = 2, 2 * (3 + 1) = 8; b: 1, 3, 6; ys = the old a times x: 1, 2, 6
    np.testing.assert_allclose(np.asarray(a), 8.0)
    np.testing.assert_allclose(np.asarray(b), 6.0)
    np.testing.assert_allclose(ys, [1.0, 2.0, 6.0])


def test_unchanged_number_carries_under_grad_and_vmap():
    def f(x):
        c, ys = lax.scan(lambda c, xi: (c, c * xi * x), 2.0, _XS32.astype(np.float64))
        return fnp.sum(ys) + c
    for g in (ft.grad(f), ft.jit(ft.grad(f)), ft.grad(ft.jit(f))):
        np.testing.assert_allclose(g(1.5), 2.0 * 6.0)
    np.testing.assert_allclose(ft.vmap(f)(np.array([1.0, 2.0])), [2.0 + 12.0, 2.0 + 24.0])
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(f)))(np.array([1.0, 2.0])), [12.0, 12.0])


def test_an_unchanged_int_carry_with_int8_values():
    f = lambda c: lax.scan(lambda c, x: (c, c * x), c, np.int8([1, 2, 3]))  # noqa: E731
    for run in (f, ft.jit(f)):
        c, ys = run(3)
        assert c == 3 and type(c) is int
        assert ys.dtype == np.int8
        np.testing.assert_array_equal(ys, [3, 6, 9])


def test_a_staged_while_loop_keeps_an_unchanged_number_beside_an_abstract_predicate():
    def f(x):  # the predicate is abstract under jit: a staged while
        return lax.while_loop(lambda c: c[1] < x, lambda c: (c[0], c[1] + c[0] * _XS32[0]),
                              (0.5, fnp.zeros((), fnp.float32)))
    for run in (f, ft.jit(f)):
        c0, c1 = run(np.float32(2.0))
        assert c0 == 0.5 and type(c0) is float
        assert c1.dtype == np.float32 and float(c1) == 2.0


# -- vector_norm of negative order at vectors with zeros, second order -------------------------


def _modes(f):
    return {"fwd-rev": ft.hessian(f), "rev-rev": ft.jacrev(ft.jacrev(f)),
            "fwd-fwd": ft.jacfwd(ft.jacfwd(f)), "rev-fwd": ft.jacrev(ft.jacfwd(f)),
            "jit": ft.jit(ft.hessian(f))}


@pytest.mark.parametrize("order", [-1, -0.5, -2.5])
def test_negative_order_norm_hessian_at_a_zero_agrees_in_every_mode(order):
    f = lambda v: fnp.linalg.vector_norm(v, ord=order)  # noqa: E731
    v = np.array([0.0, 1.0, 2.0, 3.0])
    # the norm is 0 wherever v0 stays 0 (and ~ |v0| near it): the other entries' second
    # derivatives, and their mixed ones with v0 (~ |v0|**(1 - p)), are 0; v0's own is the
    # kink of |v0| (NaN). (Forward-over-reverse gave NaN in v0's column, 0 in its row;
    # reverse-over-reverse the other way round.)
    want = np.zeros((4, 4))
    want[0, 0] = np.nan
    for name, h in _modes(f).items():
        np.testing.assert_array_equal(h(v), want, err_msg=name)
    g = ft.grad(f)(v)
    np.testing.assert_array_equal(g, [np.nan, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(ft.jacfwd(f)(v), g)


@pytest.mark.parametrize("order", [-1, -0.5])
def test_negative_order_norm_hessian_by_slice(order):
    f = lambda m: fnp.sum(fnp.linalg.vector_norm(m, ord=order, axis=-1))  # noqa: E731
    m = np.array([[0.0, 0.0, 2.0], [1.0, 2.0, 3.0], [0.0, 4.0, -1.0]])
    # the row without zeros: its own Hessian (a slice alone); zeros of one row: NaN between
    # them; nothing leaks between rows
    alone = ft.hessian(lambda r: fnp.linalg.vector_norm(r, ord=order))(m[1])
    want = np.zeros((9, 9))
    want[3:6, 3:6] = alone
    want[0:2, 0:2] = np.nan
    want[6, 6] = np.nan
    for name, h in _modes(f).items():
        if name == "rev-fwd":
            continue  # (reverse over a vmapped forward pass: rows' 0 * NaN, as for p > 0)
        np.testing.assert_allclose(h(m).reshape(9, 9), want, rtol=1e-12, atol=1e-15,
                                   err_msg=name)


def test_negative_order_norm_away_from_zeros_matches_differences():
    rng = np.random.default_rng(3)
    for order in (-1, -0.5, -3.0):
        v = rng.normal(size=5)
        f = lambda v: fnp.linalg.vector_norm(v, ord=order)  # noqa: E731
        g = ft.grad(f)
        h = 1e-5
        fd = np.array([(g(v + h * e) - g(v - h * e)) / (2 * h) for e in np.eye(5)])
        for name, hess in _modes(f).items():
            np.testing.assert_allclose(hess(v), fd, rtol=1e-5, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(f(v), np.linalg.norm(v, ord=order), rtol=1e-14)


def test_negative_order_norm_of_complex_and_all_zero_vectors():
    f = lambda v: fnp.linalg.vector_norm(v, ord=-1)  # noqa: E731
    z = np.zeros(3)
    assert float(f(z)) == 0.0
    assert np.isnan(ft.grad(f)(z)).all() and np.isnan(ft.hessian(f)(z)).all()
    c = np.array([0.0 + 0.0j, 1.0 + 1.0j])
    np.testing.assert_allclose(f(c), np.linalg.norm(c, ord=-1))


def test_negative_order_norm_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    v = np.array([0.5, -1.0, 2.0, 3.0])
    for order in (-1, -0.5):
        want = jax.hessian(lambda v: jnp.linalg.norm(v, ord=order))(v)
        got = ft.hessian(lambda v: fnp.linalg.vector_norm(v, ord=order))(v)
        np.testing.assert_allclose(got, want, rtol=1e-12)


# -- round of integers whose result does not fit ----------------------------------------------


@pytest.mark.parametrize("dtype, value, decimals", [("int8", 127, -1), ("int8", -128, -1),
                                                    ("uint8", 255, -1), ("int16", 32767, -1),
                                                    ("int32", 2 ** 31 - 1, -1),
                                                    ("int64", 2 ** 63 - 1, -1),
                                                    ("int64", -2 ** 63 + 1, -19),
                                                    ("uint64", 2 ** 64 - 1, -1)])
def test_round_warns_where_an_integer_result_does_not_fit(backend, dtype, value, decimals):
    if backend.name == "torch" and dtype in ("uint64",):
        pytest.skip("(torch's unsigned support is limited)")
    x = backend.asarray(np.array([value, 0], dtype=dtype), dtype=dtype)
    # (NumPy wraps int8/int16 silently, and gives the smallest integer for int32/int64 with
    # an invalid-cast warning)
    with pytest.warns(RuntimeWarning, match=f"does not fit {dtype}.*wider dtype"):
        out = fnp.round(x, decimals)
    assert _np(backend, out).dtype == np.dtype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fnp.round(x[1:], decimals)  # (0 fits)
        ft.jit(lambda v: fnp.round(v, decimals))(x)  # (no values at hand: no warning)


def test_round_int8_and_int16_still_as_numpy():
    for dtype in ("int8", "uint8", "int16"):
        info = np.iinfo(dtype)
        a = np.arange(info.min, info.max + 1, 7).astype(dtype)
        for d in (-1, -2, -3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                np.testing.assert_array_equal(fnp.round(a, d), np.round(a, d))


# -- partition of empty arrays -----------------------------------------------------------------


def test_partition_of_an_empty_array_checks_no_kth_as_numpy(backend):
    for shape, kth, axis in (((0,), 0, -1), ((4, 0), 4, 0), ((4, 0), 100, 1)):
        a = backend.asarray(np.zeros(shape))
        for f in (fnp.partition, fnp.argpartition):
            out = f(a, kth, axis=axis)  # (was "kth(=0) out of bounds (0)")
            assert tuple(out.shape) == shape
    with pytest.raises(ValueError, match=r"kth\(=3\) out of bounds \(3\)"):
        fnp.partition(backend.asarray([1.0, 2.0, 3.0]), 3)


# -- roots under jit / vmap: the error names strip_zeros=False ----------------------------------


def test_roots_under_jit_names_strip_zeros():
    p = np.poly([1.0, -2.0, 3.5])
    for f in (ft.jit(fnp.roots), ft.vmap(fnp.roots)):
        with pytest.raises(ft.errors.ConcretizationError, match="strip_zeros=False"):
            f(p)
    got = ft.jit(lambda p: fnp.roots(p, strip_zeros=False))(p)
    np.testing.assert_allclose(np.sort(got.real), [-2.0, 1.0, 3.5], rtol=1e-12)
    np.testing.assert_allclose(np.sort(fnp.roots(p)), [-2.0, 1.0, 3.5], rtol=1e-12)


# -- nanstd over a slice with one non-NaN entry --------------------------------------------------


def test_nanstd_of_one_entry_has_derivative_zero_in_every_mode(backend):
    x = backend.asarray([[0.7, 1.0, np.nan], [np.nan, 2.0, np.nan], [np.nan, 4.0, 3.0]])
    f = lambda v: fnp.sum(fnp.nanstd(v, axis=0) * backend.asarray([1.0, 2.0, 3.0]))  # noqa: E731
    # column 0 has one entry (nanstd identically 0: derivative 0, was NaN as sqrt'(0) * 0,
    # while std over slices of one element gave 0), column 1 three, column 2 one
    col1 = np.array([1.0, 2.0, 4.0])
    d = col1 - col1.mean()
    want = np.zeros((3, 3))
    want[:, 1] = 2.0 * d / (3 * np.sqrt(np.mean(d ** 2)))
    for g in (ft.grad(f), ft.jacfwd(f), ft.jit(ft.grad(f))):
        np.testing.assert_allclose(_np(backend, g(x)), want, rtol=1e-12, atol=1e-15)
    h = _np(backend, ft.hessian(f)(x)).reshape(9, 9)
    assert np.isfinite(h).all()
    for i in (0, 5, 8):  # the one-entry columns' rows and columns are 0
        assert not h[i].any() and not h[:, i].any()
    np.testing.assert_allclose(_np(backend, fnp.nanstd(x, axis=0)),
                               np.nanstd(_np(backend, x), axis=0))


def test_nanstd_values_with_where_and_ddof_as_numpy():
    a = np.array([[0.7, np.nan, 1.0], [2.0, 3.0, np.nan]])
    w = np.array([[True, True, False], [True, False, True]])
    for kw in ({}, {"ddof": 1}, {"where": w}, {"keepdims": True, "axis": 1},
               {"axis": 1, "where": w, "ddof": 1}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.nanstd(a, **kw)
        np.testing.assert_allclose(fnp.nanstd(a, **kw), want, equal_nan=True)
    assert float(ft.grad(lambda v: fnp.nanstd(v, where=w))(a)[0, 0]) != 0.0
