"""Session 35 (numpy35): functrans.numpy against NumPy 2.x (values, dtypes, errors) and
jax.numpy / central differences (derivatives) for functions with parameters: Python ints
beyond an integer array's range, matmul/vecdot's 0-d operands, eager control flow's 0-d
results, and the parameter sweeps' fixes."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp


def _np(backend, x):
    return backend.to_numpy(x)


# -- Python ints beyond the range of an integer array's dtype ---------------------------------


@pytest.mark.parametrize("dtype, value", [("uint64", 2 ** 64), ("uint64", -1),
                                          ("int64", 2 ** 63), ("int64", -2 ** 63 - 1),
                                          ("int8", 300), ("uint8", -1), ("int16", 2 ** 15)])
@pytest.mark.parametrize("name", ["add", "multiply", "subtract", "maximum", "bitwise_and",
                                  "floor_divide"])
def test_arithmetic_with_an_int_beyond_the_dtype_is_a_clear_overflow_error(backend, name,
                                                                           dtype, value):
    if backend.name == "torch" and dtype in ("uint64", "int16") and name == "floor_divide":
        pytest.skip("(torch lacks uint64 floor_divide)")
    x = backend.asarray([1, 2], dtype=dtype)
    f = getattr(fnp, name)
    # (torch wrapped 300 round to 44 in int8 silently; NumPy's message for 2**64 was "Python
    # int too large to convert to C long")
    for call in (lambda: f(x, value), lambda: f(value, x), lambda: ft.jit(f)(x, value),
                 lambda: ft.vmap(lambda v: f(v, value))(x)):
        with pytest.raises(OverflowError, match=f"{value} is out of bounds for {dtype}.*"
                                                f"cast the array"):
            call()


def test_the_uint64_product_names_the_bound_and_the_dtype():
    with pytest.raises(OverflowError, match=r"multiply: Python integer 18446744073709551616 "
                                            r"is out of bounds for uint64.*0 to "
                                            r"18446744073709551615"):
        fnp.multiply(np.uint64([1]), 2 ** 64)
    with pytest.raises(OverflowError, match="out of bounds for uint64"):
        fnp.multiply(2 ** 64, np.uint64([1]))
    with pytest.raises(OverflowError, match="out of bounds for uint64"):
        ft.grad(lambda x: fnp.sum(x * fnp.astype(fnp.multiply(np.uint64([1]), 2 ** 64),
                                                    fnp.float64)))(1.0)


@pytest.mark.parametrize("dtype, value", [("int8", 300), ("int8", -129), ("uint8", -1),
                                          ("uint64", 2 ** 64), ("int64", -2 ** 63 - 1),
                                          ("int64", 2 ** 63)])
@pytest.mark.parametrize("name", ["equal", "not_equal", "less", "less_equal", "greater",
                                  "greater_equal"])
def test_comparisons_with_an_int_beyond_the_dtype_as_numpy(backend, name, dtype, value):
    if backend.name == "torch" and dtype == "uint64":
        pytest.skip("(torch's uint64 comparisons are limited)")
    data = [0, 1, 2]
    x = backend.asarray(data, dtype=dtype)
    f = getattr(fnp, name)
    # NumPy 2's answers (torch compared with the wrapped int: int8 44 == 300 was True)
    for got, want in ((f(x, value), getattr(np, name)(np.array(data, dtype), value)),
                      (f(value, x), getattr(np, name)(value, np.array(data, dtype))),
                      (ft.jit(lambda v: f(v, value))(x),
                       getattr(np, name)(np.array(data, dtype), value))):
        got = _np(backend, got)
        assert got.dtype == np.bool_ and got.shape == (3,)
        np.testing.assert_array_equal(got, want)


def test_ints_within_the_range_unchanged(backend):
    x = backend.asarray([1, 2], dtype="int8")
    got = _np(backend, fnp.add(x, 127))
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, np.add(np.int8([1, 2]), 127))
    np.testing.assert_array_equal(_np(backend, fnp.less(x, -128)), [False, False])


def test_torch_floor_divide_and_remainder_by_zero_keep_the_tensors_dtype():
    torch = pytest.importorskip("torch")
    b = torch.tensor([0, 1, 2], dtype=torch.int8)
    with np.errstate(divide="ignore"):
        q, r = fnp.floor_divide(5, b), fnp.remainder(5, b)
    # (was int64: the Python int became an int64 tensor on the zero-division path)
    assert q.dtype == torch.int8 and r.dtype == torch.int8
    assert q.tolist() == [0, 5, 2] and r.tolist() == [0, 0, 1]


# -- matmul / vecdot: the real problem first ------------------------------------------------


def test_matmul_of_a_0d_operand_says_so_before_any_promotion_error():
    from functrans.errors import ShapeError
    for a, b in ((np.uint64([1, 2]), 2), (2, np.uint64([1, 2])),
                 (np.uint64([1, 2]), np.int64(2))):
        with pytest.raises(ShapeError, match="0-d operands"):
            fnp.matmul(a, b)
    with pytest.raises(TypeError, match="No type promotion between uint64 and int8"):
        fnp.matmul(np.uint64([1, 2]), np.int8([1, 2]))


def test_vecdot_refuses_0d_operands_and_a_broadcast_contracted_axis(backend):
    from functrans.errors import ShapeError
    x = backend.asarray([1.0, 2.0])
    with pytest.raises(ShapeError, match="at least one dimension"):
        fnp.vecdot(x, 2.0)  # (was 6.0; NumPy and JAX refuse it)
    with pytest.raises(ShapeError, match="contracted axis -1 has size 2 in x1.*1 in x2"):
        fnp.vecdot(x, backend.asarray([1.0]))  # (was 3.0, the 1 broadcast)
    m = backend.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(_np(backend, fnp.vecdot(m, backend.asarray([[1.0, -1.0]]))),
                               [-1.0, -1.0, -1.0])
    np.testing.assert_allclose(_np(backend, fnp.vecdot(m, backend.asarray([1.0, 1.0, 2.0]),
                                                       axis=0)), [14.0, 18.0])


# -- eager control flow returns what jit returns ----------------------------------------------


_XS = np.float32([1.0, 2.0, 3.0])
_LOOPS = {
    "scan": lambda c: lax.scan(lambda c, x: (c + x, x * 2), c, _XS)[0],
    "scan_tuple": lambda c: lax.scan(lambda c, x: ((c[0] + x, c[1] * x), None), (c, c), _XS)[0],
    # (+ 1: from 0.0, c * 2 is 0.0 again, a number no step changes, which stays a number:
    # test_s36_numpy36)
    "scan_length": lambda c: lax.scan(lambda c, _: (c * 2 + 1, None), c, None, length=3)[0],
    "while_loop": lambda c: lax.while_loop(lambda c: c < 10, lambda c: c + _XS[0], c),
    "fori_loop": lambda c: lax.fori_loop(0, 3, lambda i, c: c + fnp.take(_XS, i), c),
    "cond": lambda c: lax.cond(True, lambda c: c + _XS[0], lambda c: c, c),
    "cond_pair": lambda c: lax.cond(False, lambda c: (c, c), lambda c: (c * _XS[1], c - _XS[0]),
                                    c),
    "switch": lambda c: lax.switch(1, [lambda c: c, lambda c: c * _XS[1]], c),
}


def _kinds(tree):
    from functrans.tree import tree_flatten
    return [(type(v).__name__, str(getattr(v, "dtype", None)), getattr(v, "shape", None))
            for v in tree_flatten(tree)[0]]


@pytest.mark.parametrize("name", sorted(_LOOPS))
@pytest.mark.parametrize("init", [np.float32(0.0), 0.0, np.array(0.0, np.float32)],
                         ids=["np-scalar", "float", "0d"])
def test_eager_control_flow_gives_0d_arrays_as_jit(name, init):
    f = _LOOPS[name]
    eager = f(init)
    # (eager gave NumPy scalars: c + xs[i] on NumPy values is one)
    assert all(k[0] == "ndarray" for k in _kinds(eager)), _kinds(eager)
    if type(init) is not float:  # (jit takes a Python number as static: a constant result)
        assert _kinds(eager) == _kinds(ft.jit(f)(init))


def test_an_unchanged_carry_is_returned_as_given_eagerly():
    s = np.float32(1.0)
    for f in (lambda c: lax.while_loop(lambda c: c > 10, lambda c: c + 1, c),
              lambda c: lax.cond(True, lambda c: c, lambda c: c + 1, c)):
        assert f(s) is s
        # (jit gives a NumPy scalar passed through back as a 0-d array, as its computed
        # results: apifuzz35)
        out = ft.jit(f)(s)
        assert type(out) is np.ndarray and out.shape == () and out.dtype == np.float32


def test_fori_loop_of_no_steps_types_a_python_number_as_a_step_would():
    f = lambda c: lax.fori_loop(0, 0, lambda i, c: c + fnp.take(_XS, i), c)  # noqa: E731
    # (eager gave float64: no step ran to type the 0.0; jit and JAX give float32)
    assert f(0.0).dtype == ft.jit(f)(0.0).dtype == np.float32
    # a step that cannot run at the lower bound: the number as it is (a Python number no
    # step changed stays one, weakly typed: test_s36_numpy36)
    g = lambda c: lax.fori_loop(5, 1, lambda i, c: c + fnp.take(_XS, i), c)  # noqa: E731
    assert type(g(0.0)) is float and g(0.0) == 0.0
    assert float(ft.grad(lambda x: lax.fori_loop(0, 0, lambda i, c: c * x, 1.0))(2.0)) == 0.0


# -- vector norms of order below 1 at vectors with zeros --------------------------------------


def _central(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize("order", [0.5, 0.3, -1.0, -0.5])
def test_vector_norm_below_order_one_forward_mode_is_finite_where_reverse_is(order):
    f = lambda v: fnp.linalg.vector_norm(v, ord=order)  # noqa: E731
    x = np.array([0.0, 3.0, 0.0, -4.0])
    rev, fwd = np.asarray(ft.jacrev(f)(x)), np.asarray(ft.jacfwd(f)(x))
    # (jacfwd was all NaN: the infinite slope at the zeros times the others' zero tangents)
    np.testing.assert_array_equal(np.isnan(fwd), [True, False, True, False])
    np.testing.assert_allclose(fwd, rev, equal_nan=True)
    # the moving elements: central differences (the zeros stay zeros)
    num = _central(lambda v: float(np.linalg.vector_norm(v, ord=order)), x)
    np.testing.assert_allclose(fwd[[1, 3]], num[[1, 3]], rtol=1e-6, atol=1e-9)
    # NaN in both modes at the zero vector, as for every order
    for d in (ft.jacrev(f)(np.zeros(3)), ft.jacfwd(f)(np.zeros(3))):
        assert np.isnan(np.asarray(d)).all()


def test_vector_norm_half_order_hessian_nan_only_through_a_zero():
    f = lambda v: fnp.linalg.vector_norm(v, ord=0.5)  # noqa: E731
    h = np.asarray(ft.hessian(f)(np.array([0.0, 1.0, 2.0, 3.0])))
    # (was all NaN) the block of the non-zero elements is that of the vector without the 0
    assert np.isnan(h[0]).all() and np.isnan(h[:, 0]).all()
    np.testing.assert_allclose(h[1:, 1:], np.asarray(ft.hessian(f)(np.array([1.0, 2.0, 3.0]))),
                               rtol=1e-12)
    g = lambda v: np.asarray(ft.grad(f)(v))  # noqa: E731
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(ft.hessian(f)(x)), _central(g, x), rtol=1e-6)


@pytest.mark.parametrize("order", [0.5, -1.0])
def test_vector_norm_below_order_one_values_dtypes_and_backends(backend, order):
    for data in ([0.0, 3.0, -4.0], [np.inf, 1.0], [np.inf, 0.0], [1.0, 2.0]):
        x = backend.asarray(data, dtype="float32")
        got = _np(backend, fnp.linalg.vector_norm(x, ord=order))
        want = np.linalg.vector_norm(np.float32(data), ord=order)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)
    x = backend.asarray([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(_np(backend, fnp.linalg.norm(x, ord=order, axis=1)),
                               np.linalg.norm(np.array([[0.0, 1.0], [2.0, 3.0]]), ord=order,
                                              axis=1))
    d = _np(backend, ft.grad(lambda v: fnp.linalg.vector_norm(v, ord=order))(
        backend.asarray([0.0, 3.0, -4.0])))
    assert np.isnan(d[0]) and np.isfinite(d[1:]).all()


def test_vector_norm_below_order_one_complex():
    x = np.array([0, 3 + 4j, 1j])
    g = np.asarray(ft.grad(lambda v: fnp.linalg.vector_norm(v, ord=0.5))(x))
    assert np.isnan(g[0]) and np.isfinite(g[1:]).all()
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    want = np.asarray(jax.grad(lambda v: jnp.linalg.vector_norm(v, ord=0.5))(x))
    np.testing.assert_allclose(g[1:], want[1:], rtol=1e-12)


# -- round of integers to tens, hundreds...; diff with n=0 ----------------------------------


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "int64",
                                   "uint64"])
def test_round_integers_to_negative_decimals_exactly(backend, dtype):
    if backend.name == "torch" and dtype in ("uint16", "uint64"):
        pytest.skip("(torch's unsigned support is limited)")
    info = np.iinfo(dtype)
    data = np.array([0, 5, 15, 25, 35, 49, 50, 51, 70, 99, 125, 127, int(info.max) // 3],
                    dtype=dtype)
    if info.min < 0:
        data = np.concatenate([data, -data[1:], [info.min]]).astype(dtype)
    x = backend.asarray(data, dtype=dtype)
    for d in (-1, -2, -3, -25):
        got = _np(backend, fnp.round(x, d))
        # exact halves to even; results that fit (int8 70 to hundreds was 0, -128 gave 56)
        want = np.array([round(int(v), d) for v in data], dtype=object)
        fits = (want >= info.min) & (want <= info.max)
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got[fits].astype(object), want[fits])


def test_round_int8_as_numpy_including_its_wrap():
    a = np.int8([70, 99, -70, 127, -128, 50, -106, 12, -45])
    for d in (-1, -2, -3):
        np.testing.assert_array_equal(fnp.round(a, d), np.round(a, d))
        np.testing.assert_array_equal(ft.jit(lambda v: fnp.around(v, d))(a), np.round(a, d))


def test_diff_of_order_zero_ignores_prepend_and_append(backend):
    a = backend.asarray([[1.0, 4.0, 2.0], [0.0, 5.0, 9.0]])
    for kw in ({"prepend": 1.5}, {"append": backend.asarray([[7.0], [8.0]])},
               {"prepend": 0.0, "append": -1.0}):
        got = _np(backend, fnp.diff(a, n=0, **kw))  # (was joined: shape (2, 4) or (2, 5))
        np.testing.assert_array_equal(got, [[1.0, 4.0, 2.0], [0.0, 5.0, 9.0]])
    np.testing.assert_array_equal(_np(backend, fnp.diff(a, n=1, prepend=0.0)),
                                  np.diff(np.array([[1.0, 4.0, 2.0], [0.0, 5.0, 9.0]]), n=1,
                                          prepend=0.0))


def test_nanmean_of_an_all_nan_slice_derivative_zero_in_both_modes(backend):
    a = backend.asarray([[np.nan, np.nan], [1.0, 2.0]])
    f = lambda x: fnp.nanmean(x, axis=1)  # noqa: E731
    np.testing.assert_allclose(_np(backend, f(a)), [np.nan, 1.5])
    want = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    # (forward mode gave NaN for the all-NaN row, 0 / 0; reverse mode and nanvar give 0)
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_array_equal(_np(backend, jac(f)(a)).reshape(2, 4), want)


def test_vector_norm_ord_none_is_two_and_a_string_a_clear_error():
    x = np.array([3.0, 4.0])
    assert float(fnp.linalg.vector_norm(x, ord=None)) == 5.0  # (NumPy's and JAX's)
    # (was "could not convert string to float: 'fro'")
    with pytest.raises(ValueError, match="vector_norm: ord must be a number.*'fro'"):
        fnp.linalg.vector_norm(x, ord="fro")
