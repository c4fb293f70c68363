"""Regression tests from an adversarial review of vmap and its compositions: each case once
gave a wrong answer or refused a valid program. Expected values come from a Python loop or
are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ShapeError


def _close(backend, got, want):
    np.testing.assert_allclose(backend.to_numpy(got), np.asarray(want), rtol=1e-12, atol=1e-12)

# -- custom rules with a Python scalar argument ----------------------------------------------
# The batching rules of custom_jvp / custom_vjp vmapped the user's functions over axis 0 of
# every argument, so a Python scalar argument (a weak constant, never batched) raised
# "argument leaf 1 is a float, which has no axis 0 to map over".


def _scaled_sin_jvp():
    @ft.custom_jvp
    def f(a, k):
        return fnp.sin(a) * k

    @f.defjvp
    def f_jvp(primals, tangents):
        a, k = primals
        return f(a, k), fnp.cos(a) * k * tangents[0] * 10.0  # 10x: the rule must be used
    return f


def _scaled_sin_vjp():
    @ft.custom_vjp
    def f(a, k):
        return fnp.sin(a) * k

    f.defvjp(lambda a, k: (f(a, k), (a, k)),
             # ct first: a plain array_api_strict array refuses a tracer on its right
             lambda res, ct: (ct * fnp.cos(res[0]) * res[1] * 10.0, 0.0))
    return f


@pytest.mark.parametrize("make", [_scaled_sin_jvp, _scaled_sin_vjp], ids=["custom_jvp",
                                                                          "custom_vjp"])
def test_custom_rule_with_python_scalar_argument_under_vmap(backend, make):
    f = make()
    x = np.random.default_rng(0).standard_normal((3, 4))
    xs = backend.asarray(x)
    want_grad = np.cos(x) * 2.0 * 10.0
    _close(backend, ft.vmap(lambda a: f(a, 2.0))(xs), np.sin(x) * 2.0)
    _close(backend, ft.vmap(ft.grad(lambda a: fnp.sum(f(a, 2.0))))(xs), want_grad)
    _close(backend, ft.grad(lambda z: fnp.sum(ft.vmap(lambda a: f(a, 2.0))(z)))(xs), want_grad)
    _close(backend, ft.vmap(ft.vmap(ft.grad(lambda a: f(a, 2.0))))(xs), want_grad)
    # forward mode outside vmap: the rule meets the scalar's zero tangent (for custom_vjp it
    # was a NumPy array, which a torch or array_api_strict tangent could not meet)
    _, t = ft.jvp(ft.vmap(lambda a: f(a, 2.0)), (xs,), (backend.asarray(np.ones((3, 4))),))
    _close(backend, t, want_grad)

# -- empty batches ---------------------------------------------------------------------------
# argmax/argmin over all axes and cumulative_* with include_initial reshape to (-1,); the
# reshape primitive kept the -1, which a batched reshape to (0, -1) cannot resolve. The batched
# searchsorted (one sorted sequence per member) concatenated an empty list of searches.


def test_empty_batch(backend):
    x = backend.asarray(np.zeros((0, 3)))
    for f, shape in [(lambda a: fnp.argmax(a), (0,)),
                     (lambda a: fnp.argmin(a, keepdims=True), (0, 1)),
                     (lambda a: fnp.cumulative_sum(a, include_initial=True), (0, 4)),
                     (lambda a: fnp.cumulative_prod(a, include_initial=True), (0, 4)),
                     (lambda a: fnp.searchsorted(a, a[:2]), (0, 2))]:
        out = ft.vmap(f)(x)
        assert tuple(out.shape) == shape
        assert backend.is_own(out)


def test_argmax_over_all_axes_graph_has_resolved_shape(backend):
    g = ft.make_graph(lambda a: fnp.argmax(a))(backend.asarray(np.ones((2, 3))))
    assert "[-1]" not in str(g) and "f64[6]" in str(g)


def test_batched_searchsorted_matches_loop(backend):
    rng = np.random.default_rng(1)
    s, q = np.sort(rng.standard_normal((3, 6)), axis=-1), rng.standard_normal((3, 4))
    for side in ("left", "right"):
        got = ft.vmap(lambda a, b: fnp.searchsorted(a, b, side=side))(backend.asarray(s),
                                                                       backend.asarray(q))
        want = np.stack([np.searchsorted(s[i], q[i], side=side) for i in range(3)])
        np.testing.assert_array_equal(backend.to_numpy(got), want)

# -- Jacobians in chunks ----------------------------------------------------------------------
# The last chunk was sliced with a stop past the end, which array_api_strict refuses (the
# standard leaves out-of-bounds stops unspecified).


@pytest.mark.parametrize("chunk_size", [1, 2, 4, 5, 100])
def test_jacobians_in_chunks_that_do_not_divide_n(backend, chunk_size):
    x = np.random.default_rng(2).standard_normal(5)

    def f(z):
        return fnp.sin(z) * z[0]
    want = np.diag(np.cos(x) * x[0])
    want[:, 0] += np.sin(x)
    xs = backend.asarray(x)
    for jac in (ft.jacfwd, ft.jacrev):
        _close(backend, jac(f, chunk_size=chunk_size)(xs), want)
        _close(backend, ft.vmap(jac(f, chunk_size=chunk_size))(backend.asarray(x[None])),
               want[None])
    h = ft.hessian(lambda z: fnp.sum(fnp.sin(z)), chunk_size=chunk_size)(xs)
    _close(backend, h, np.diag(-np.sin(x)))


def test_out_axes_structure_error_speaks_of_outputs():
    from functrans.errors import BatchingError
    with pytest.raises(BatchingError, match="per output") as e:
        ft.vmap(lambda a: (a, a), out_axes=(0, 1, 0))(np.ones((2, 3)))
    assert "positional arguments" not in str(e.value)


def test_unmappable_keyword_argument_error_says_keywords_are_always_mapped():
    from functrans.errors import BatchingError
    with pytest.raises(BatchingError, match="keyword argument") as e:
        ft.vmap(lambda a, k: a * k)(np.ones((3, 2)), k=2.0)
    assert "None in in_axes." not in str(e.value)  # in_axes cannot name a keyword argument
    with pytest.raises(BatchingError, match="pass an unmapped one positionally"):
        ft.vmap(lambda a, k: a * k)(np.ones((3, 2)), k=np.ones(2))


@pytest.mark.parametrize("size", [-1, 2.0, "3"])
def test_invalid_axis_size_is_a_batching_error(size):
    from functrans.errors import BatchingError
    with pytest.raises(BatchingError, match="axis_size must be a non-negative int"):
        ft.vmap(lambda c: c * 2, in_axes=None, axis_size=size)(np.ones(2))


def test_axis_size_accepts_numpy_integers():
    out = ft.vmap(lambda c: c * 2, in_axes=None, axis_size=np.int64(3))(np.ones(2))
    np.testing.assert_array_equal(np.asarray(out), np.full((3, 2), 2.0))


def test_writing_a_batched_scalar_into_a_plain_array_explains_itself():
    from functrans.errors import ConcretizationError

    def f(val):
        y = np.zeros(3)
        y[1] = val
        return y
    with pytest.raises((ValueError, TypeError, ConcretizationError)) as e:
        ft.vmap(f)(np.array([1.0, 2.0]))
    err = e.value if isinstance(e.value, ConcretizationError) else e.value.__cause__
    assert isinstance(err, ConcretizationError) and "plain array" in str(err)


# -- outputs that do not depend on the batch ---------------------------------------------------
# A Python scalar output was broadcast into an array of the default backend (NumPy) even when
# the batch came from torch or array_api_strict, so combining it with the batched outputs
# raised BackendMismatchError.


def test_python_scalar_output_follows_the_mapped_inputs_library(backend):
    x = backend.asarray(np.arange(6.0).reshape(3, 2))
    a, c, k, t = ft.vmap(lambda z: (z * 2, 1.0, 2, True))(x)
    for out, want in [(c, np.full(3, 1.0)), (k, np.full(3, 2)), (t, np.full(3, True))]:
        assert backend.is_own(out)
        np.testing.assert_array_equal(backend.to_numpy(out), want)
    assert backend.to_numpy(k).dtype == np.int64 and backend.to_numpy(t).dtype == np.bool_
    _close(backend, fnp.sum(a, axis=1) * c, [2.0, 10.0, 18.0])


@pytest.mark.parametrize("chunk_size", [2.5, "3", True, 0])
def test_invalid_chunk_size_is_refused_even_when_larger_than_n(chunk_size):
    for jac in (ft.jacfwd, ft.jacrev):
        with pytest.raises(ValueError, match="chunk_size must be a positive int"):
            jac(lambda z: z * 2, chunk_size=chunk_size)(np.ones(2))


def test_numpy_integer_chunk_size(backend):
    x = backend.asarray(np.arange(5.0))
    _close(backend, ft.jacrev(lambda z: z * 2, chunk_size=np.int64(2))(x), 2 * np.eye(5))


def test_in_axes_structure_error_shows_the_structure_not_the_data():
    from functrans.errors import BatchingError
    big = np.arange(3 * 400.0).reshape(3, 400)
    with pytest.raises(BatchingError) as e:
        ft.vmap(lambda d: d["a"], in_axes=({"b": 0},))({"a": big})
    msg = str(e.value)
    assert "({'a': *},)" in msg and "key mismatch" in msg
    assert len(msg) < 600  # optree's own message printed every element of the array


# -- narrow integer index dtypes ---------------------------------------------------------------
# Negative indices were wrapped by adding the axis length in the index's own dtype: with int8
# indices into an axis of 200, -5 + 200 overflowed (NumPy raised; torch wrapped around and
# silently read element 139 instead of 195).


def test_int8_indices_into_a_long_axis(backend):
    x = np.arange(200.0)
    xs = backend.asarray(x)
    idx = backend.asarray([-5, 3], dtype="int8")
    want = x[[-5, 3]]
    _close(backend, fnp.take(xs, idx, axis=0), want)
    _close(backend, fnp.take_along_axis(xs, idx, axis=0), want)
    g = np.zeros(200)
    g[[-5, 3]] = 1.0
    _close(backend, ft.grad(lambda a: fnp.sum(fnp.take(a, idx, axis=0)))(xs), g)
    _close(backend, ft.grad(lambda a: fnp.sum(fnp.take_along_axis(a, idx, axis=0)))(xs), g)
    both = backend.asarray(np.stack([[-5, 3], [7, -1]]), dtype="int8")
    _close(backend, ft.vmap(lambda i: fnp.take(xs, i, axis=0))(both), x[[[-5, 3], [7, -1]]])
    _close(backend, ft.vmap(lambda a, i: a[i])(backend.asarray(np.stack([x, -x])), both),
           np.stack([x[[-5, 3]], -x[[7, -1]]]))


@pytest.mark.parametrize("k", [2.0, 2], ids=["float", "int"])
def test_jvp_of_custom_vjp_with_python_scalar_argument(backend, k):
    f = _scaled_sin_vjp()
    x = np.linspace(-1.0, 1.0, 4)
    out, t = ft.jvp(lambda a: f(a, k), (backend.asarray(x),), (backend.asarray(np.ones(4)),))
    assert backend.is_own(t)
    _close(backend, out, np.sin(x) * k)
    _close(backend, t, np.cos(x) * k * 10.0)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var"])
def test_reducing_a_0d_array_over_axis_0_or_minus_1(name):
    # NumPy accepts axis 0 and -1 on a 0-d array and reduces nothing; anything else is an error.
    fn = getattr(fnp, name)
    x = np.asarray(2.0)
    want = getattr(np, name)(x)
    for axis in (0, -1):
        np.testing.assert_allclose(fn(x, axis=axis), want)
        np.testing.assert_allclose(ft.vmap(lambda r: fn(r, axis=axis))(np.arange(3.0)),
                                   [getattr(np, name)(np.asarray(r)) for r in np.arange(3.0)])
    np.testing.assert_allclose(ft.grad(lambda r: fn(r, axis=0))(x), 0.0 if name == "var" else 1.0)
    with pytest.raises(ShapeError, match="axis 1 is out of bounds"):
        fn(x, axis=1)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev], ids=["jacfwd", "jacrev"])
def test_a_constant_output_comes_back_in_the_inputs_library(backend, jac):
    # A Python-scalar output's Jacobian block (zeros) and value are arrays of the inputs'
    # library, alone and under vmap, as the other outputs are.
    x = backend.asarray(np.ones(3))
    for out in (jac(lambda a: (a * 2.0, 1.0))(x),
                ft.vmap(jac(lambda a: (a * 2.0, 1.0)))(backend.asarray(np.ones((2, 3))))):
        assert all(backend.is_own(o) for o in out), [type(o) for o in out]
        np.testing.assert_allclose(backend.to_numpy(out[1]), np.zeros(out[1].shape))


def test_int8_indices_wrap_and_clip_into_a_long_axis(backend):
    """take's modes with a narrow index dtype: n (or n - 1) need not fit it."""
    x = np.arange(200.0)
    idx = backend.asarray([-5, 3, 127], dtype="int8")
    for mode in ("wrap", "clip"):
        _close(backend, fnp.take(backend.asarray(x), idx, mode=mode),
               np.take(x, np.asarray([-5, 3, 127], dtype=np.int8), mode=mode))
