"""vmap of every function of the namespace table equals a loop over the batch.

tests/test_vmap.py batches each primitive; the namespace functions compose primitives with
Python logic on shapes, axes and dtypes, which a batch axis must not disturb. For every
entry of tests/test_namespace_grads.py's TABLE (its last shapes): every argument batched
(three members with different values), the first alone batched or alone not, and the
gradient of a scalar loss batched, each against a loop over the members: the same values,
dtypes, library and tree; and a batch of no members gives empty results of the members'
shapes and dtypes. Functions whose result shapes depend on the values refuse vmap with a
clear error, as under JAX. The functions without derivatives (integer and boolean results)
get the same check from a table of their own below. (On libraries other than NumPy the loop
runs for the last member alone: see ``_rows``.)
"""

from __future__ import annotations

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BatchingError, ConcretizationError

from .test_jit import DATA_DEPENDENT_SHAPES
from .test_namespace_grads import TABLE, _NumPy, _args

N = 3  # members of the batch
TOL = 1e-10


def _data_dependent(spec):
    return spec.name in DATA_DEPENDENT_SHAPES or spec.data_dependent


def _members(spec):
    """NumPy data of the batch's members: one tuple of arguments per seed."""
    return [_args(spec, spec.shapes[-1], _NumPy(), seed=s) for s in range(N)]


def _eager(spec, backend):
    if backend.backend.writable or not getattr(spec.fn, "writes_in_place", False):
        return spec.fn
    return lambda *a: ft.vjp(spec.fn, *a)[0]  # (see tests/test_jit.py)


def _rows(backend):
    """The members whose results the loop computes and compares: every one on numpy (the
    batching rules are the same code on every library); on the others (there to show that the
    batched code uses their arrays and the standard alone, and on array-api-strict's second
    device that it makes nothing on the wrong device) only the last, whose values sit at
    nonzero offsets in the batch (CI time)."""
    return range(N) if backend.name == "numpy" else (N - 1,)


def _loop(fn, members, in_axes, backend):
    """The results of ``fn`` on each member of ``_rows`` (unbatched arguments: member 0's)."""
    outs = []
    for k in _rows(backend):
        args = tuple(backend.asarray(members[k if ax is not None else 0][i])
                     for i, ax in enumerate(in_axes))
        outs.append(fn(*args))
    return outs


def _batched_args(members, in_axes, backend):
    return tuple(backend.asarray(np.stack([m[i] for m in members])) if ax == 0
                 else backend.asarray(members[0][i]) for i, ax in enumerate(in_axes))


def _check(got, outs, backend, what, like=None, rows=None):
    """``got``'s members ``rows`` (default: all) are ``outs`` (those members' results); with
    no members, ``like`` gives the tree, shapes and dtypes."""
    like_leaves, like_tree = optree.tree_flatten(outs[0] if like is None else like)
    got_leaves, got_tree = optree.tree_flatten(got)
    assert got_tree == like_tree, (what, got_tree, like_tree)
    for j, g in enumerate(got_leaves):
        members = [optree.tree_leaves(o)[j] for o in outs]
        assert backend.is_own(g), (what, j, type(g))
        want_dtype = fnp.result_type(like_leaves[j])
        assert fnp.result_type(g) == want_dtype, (what, j, fnp.result_type(g), want_dtype)
        want = (np.stack([backend.to_numpy(m) for m in members]) if members else
                np.zeros((0,) + np.shape(backend.to_numpy(like_leaves[j]))))
        got_np = backend.to_numpy(g)
        size = N if members else 0
        assert got_np.shape == (size,) + want.shape[1:], (what, j, got_np.shape, want.shape)
        got_np = got_np[list(range(len(want)) if rows is None else rows)]
        np.testing.assert_allclose(got_np, want, rtol=TOL, atol=TOL, err_msg=f"{what}, leaf {j}")


def _loss(fn):
    def loss(*a):
        total = 0.0
        for leaf in optree.tree_leaves(fn(*a)):
            if fnp.isdtype(fnp.result_type(leaf), "real floating"):
                total = total + fnp.sum(leaf * leaf)
        return total
    return loss


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TABLE])
def test_vmap_of_every_namespace_function(backend, spec):
    if spec.backends is not None and backend.name not in spec.backends:
        pytest.skip(f"{spec.name} uses indexing that {backend.name} does not support")
    members = _members(spec)
    nargs = len(members[0])
    full = (0,) * nargs
    if _data_dependent(spec):  # as under jax.vmap: refused with a clear error
        with pytest.raises((BatchingError, ConcretizationError), match="vmap"):
            ft.vmap(spec.fn)(*_batched_args(members, full, backend))
        return
    fn = _eager(spec, backend)
    axes_cases = [full]
    if nargs >= 2:  # the first operand alone batched; all but the first batched
        axes_cases += [(0,) + (None,) * (nargs - 1), (None,) + (0,) * (nargs - 1)]
    for in_axes in axes_cases:
        got = ft.vmap(fn, in_axes=in_axes)(*_batched_args(members, in_axes, backend))
        outs = _loop(fn, members, in_axes, backend)
        _check(got, outs, backend, f"in_axes={in_axes}", rows=_rows(backend))
    # A batch of no members: empty results of the members' shapes and dtypes, as under JAX.
    none = ft.vmap(fn)(*(backend.asarray(np.zeros((0,) + np.shape(a))) for a in members[0]))
    _check(none, outs[:0], backend, "no members", like=outs[0])
    g = ft.grad(_loss(spec.fn), argnums=tuple(range(nargs)))
    _check(ft.vmap(g)(*_batched_args(members, full, backend)),
           _loop(g, members, full, backend), backend, "vmap(grad)", rows=_rows(backend))


def test_triangular_solve_of_a_stack_of_no_matrices(backend):
    """SciPy refuses a stack of no matrices (a vmap over no members reaches it): the solve
    of nothing is an empty array of the result's shape."""
    sl = ft.scipy.linalg
    a = backend.asarray(np.zeros((0, 3, 3)))
    b = backend.asarray(np.zeros((0, 3, 2)))
    got = sl.solve_triangular(a, b, lower=True)
    assert backend.is_own(got) and tuple(got.shape) == (0, 3, 2)
    assert fnp.result_type(got) == fnp.float64
    got = ft.vmap(lambda m, v: sl.solve_triangular(m, v))(a, b[..., 0])
    assert backend.is_own(got) and tuple(got.shape) == (0, 3)


# -- the namespace's functions without derivatives (NO_DERIVATIVE of test_namespace_grads) ----

def _floats(*shape):
    return lambda rng: rng.uniform(-2.0, 2.0, (N,) + shape)


def _ints(*shape, lo=0, hi=6):
    return lambda rng: rng.integers(lo, hi, (N,) + shape)


# name -> (function, a maker of each argument's batch (NumPy data, the batch axis first))
NO_DERIVATIVE_CASES = {
    "argmax": (lambda x: (fnp.argmax(x, axis=-1), fnp.argmax(x)), [_floats(2, 4)]),
    "argmin": (lambda x: fnp.argmin(x, axis=0, keepdims=True), [_floats(2, 4)]),
    "argsort": (lambda x: fnp.argsort(x, axis=0, descending=True), [_floats(4, 2)]),
    "searchsorted": (lambda a, v: (fnp.searchsorted(fnp.sort(a), v),
                                   fnp.searchsorted(fnp.sort(a), v, side="right")),
                     [_floats(5), _floats(2, 2)]),
    "count_nonzero": (lambda x: (fnp.count_nonzero(x > 0, axis=-1), fnp.count_nonzero(x > 0)),
                      [_floats(2, 4)]),
    "all_any": (lambda x: (fnp.all(x > -1, axis=0), fnp.any(x > 1)), [_floats(2, 4)]),
    "comparisons": (lambda x, y: (fnp.less(x, y), fnp.equal(x, y), fnp.greater_equal(x, y),
                                  fnp.not_equal(x, y), fnp.less_equal(x, y),
                                  fnp.logical_xor(x > 0, y > 0), fnp.logical_not(x > 0),
                                  fnp.logical_and(x > 0, y > 0), fnp.logical_or(x > 0, y > 0)),
                    [_floats(4), _floats(4)]),
    "classification": (lambda x: (fnp.isfinite(x / 0.0), fnp.isinf(x / 0.0), fnp.isnan(x / 0.0),
                                  fnp.signbit(x), fnp.isposinf(x / 0.0), fnp.isneginf(x / 0.0),
                                  fnp.iscomplex(x), fnp.isreal(x)), [_floats(4)]),
    "bitwise": (lambda i, j: (fnp.bitwise_and(i, j), fnp.bitwise_or(i, j), fnp.bitwise_xor(i, j),
                              fnp.bitwise_left_shift(i, j), fnp.bitwise_right_shift(i, j),
                              fnp.bitwise_invert(i), fnp.bitwise_count(i)),
                [_ints(4), _ints(4)]),
    "gcd_lcm": (lambda i, j: (fnp.gcd(i, j), fnp.lcm(i, j)),
                [_ints(4, lo=1, hi=20), _ints(4, lo=1, hi=20)]),
    "nanargmax": (lambda x: (fnp.nanargmax(x, axis=-1), fnp.nanargmin(x)), [_floats(2, 4)]),
    "isclose": (lambda x, y: fnp.isclose(x, y, atol=1.0), [_floats(4), _floats(4)]),
    "digitize": (lambda x, b: (fnp.digitize(x, fnp.sort(b)),
                               fnp.digitize(x, fnp.flip(fnp.sort(b)), right=True)),
                 [_floats(5), _floats(4)]),
    "isin": (lambda x, y: (fnp.isin(fnp.round(x), fnp.round(y)),
                           fnp.isin(fnp.round(x), fnp.round(y), invert=True)),
             [_floats(2, 3), _floats(4)]),
    "argpartition": (lambda x: fnp.sort(fnp.argpartition(x, 2, axis=-1)[..., :2], axis=-1),
                     [_floats(2, 5)]),
    "lexsort": (lambda a, b: fnp.lexsort((fnp.round(a), fnp.round(b))), [_floats(6), _floats(6)]),
    "unravel_index": (lambda i: fnp.unravel_index(i, (3, 4)), [_ints(5, hi=12)]),
    "ravel_multi_index": (lambda i, j: fnp.ravel_multi_index((i, j), (3, 4)),
                          [_ints(5, hi=3), _ints(5, hi=4)]),
    "one_hot": (lambda i: ft.nn.one_hot(i, 5), [_ints(4, hi=5)]),
    "matrix_rank": (lambda a: fnp.linalg.matrix_rank(a), [_floats(3, 3)]),
    "stop_gradient": (lambda x: fnp.stop_gradient(x), [_floats(4)]),
    # empty_like's values are whatever memory held (nan or inf among them at times, so
    # ``* 0.0`` made this flaky): only its shape and dtype are compared, through full_like
    "like": (lambda x: (fnp.zeros_like(x), fnp.ones_like(x), fnp.full_like(fnp.empty_like(x), 2.0)),
             [_floats(4)]),
    "packbits": (lambda x: fnp.unpackbits(fnp.packbits(x > 0, axis=-1), axis=-1),
                 [_floats(2, 9)]),
    "fftfreq": (lambda d: (fnp.fft.fftfreq(5, d), fnp.fft.rfftfreq(5, d)),
                [lambda rng: rng.uniform(0.5, 2.0, (N,))]),
}
# Their results' shapes or their Python results need the values: a clear error under vmap.
NO_DERIVATIVE_REFUSED = {
    "flatnonzero": (lambda x: fnp.flatnonzero(x > 0), [_floats(4)]),
    "argwhere": (lambda x: fnp.argwhere(x > 0), [_floats(4)]),
    "bincount": (lambda i: fnp.bincount(i), [_ints(5)]),
}
# (allclose, array_equal, array_equiv batch as jax.numpy's: tests/test_lax_numpy_cases.py)


def _batch_of(makers, backend):
    rng = np.random.default_rng(7)
    data = [make(rng) for make in makers]
    return [backend.asarray(d, dtype=d.dtype) for d in data], data


@pytest.mark.parametrize("name", NO_DERIVATIVE_CASES)
def test_vmap_of_functions_without_derivatives(backend, name):
    fn, makers = NO_DERIVATIVE_CASES[name]
    batched, data = _batch_of(makers, backend)
    with np.errstate(all="ignore"):
        outs = [fn(*(backend.asarray(d[k], dtype=d.dtype) for d in data)) for k in range(N)]
        _check(ft.vmap(fn)(*batched), outs, backend, name)
        if len(data) >= 2:  # the first argument alone unbatched (one value for every member)
            outs = [fn(*(backend.asarray(d[0 if i == 0 else k], dtype=d.dtype)
                         for i, d in enumerate(data))) for k in range(N)]
            first = backend.asarray(data[0][0], dtype=data[0].dtype)
            in_axes = (None,) + (0,) * (len(data) - 1)
            _check(ft.vmap(fn, in_axes=in_axes)(first, *batched[1:]), outs, backend,
                   f"in_axes={in_axes}")


@pytest.mark.parametrize("name", NO_DERIVATIVE_REFUSED)
def test_vmap_refuses_value_dependent_results(backend, name):
    fn, makers = NO_DERIVATIVE_REFUSED[name]
    batched, _ = _batch_of(makers, backend)
    with pytest.raises((BatchingError, ConcretizationError), match="vmap"):
        ft.vmap(fn)(*batched)


def _repeat_to(x, counts, total):
    """NumPy's repeat cut at ``total``, or padded there with the last element (JAX's
    ``total_repeat_length``)."""
    r = np.repeat(x, counts)
    return r[:total] if len(r) >= total else np.concatenate([r, np.full(total - len(r), x[-1])])


def test_repeat_with_batched_counts_and_a_total_length(backend):
    """Batched counts give members of different lengths: refused, with the way out named;
    with ``total_repeat_length`` (JAX's) the length is fixed and vmap, jit and grad run."""
    rng = np.random.default_rng(3)
    xs, counts = rng.uniform(-1.0, 1.0, (N, 4)), rng.integers(0, 3, (N, 4))
    x, c = backend.asarray(xs), backend.asarray(counts, dtype="int64")
    with pytest.raises(ConcretizationError, match="repeat: .*total_repeat_length"):
        ft.vmap(fnp.repeat)(x, c)
    for total in (0, 3, int(counts.sum(axis=1).max()) + 2):
        def f(x, c, total=total):
            return fnp.repeat(x, c, total_repeat_length=total)
        want = np.stack([_repeat_to(xs[k], counts[k], total) for k in range(N)])
        for got in (ft.vmap(f)(x, c), ft.jit(ft.vmap(f))(x, c), ft.vmap(ft.jit(f))(x, c)):
            assert backend.is_own(got)
            np.testing.assert_allclose(backend.to_numpy(got), want, rtol=0, atol=0)
        g = ft.vmap(ft.grad(lambda x, c: fnp.sum(f(x, c) ** 2)))(x, c)
        ones = [_repeat_to(np.arange(4), counts[k], total) for k in range(N)]
        want_g = np.stack([2 * xs[k] * np.bincount(ones[k], minlength=4) for k in range(N)])
        np.testing.assert_allclose(backend.to_numpy(g), want_g, rtol=1e-14, atol=1e-14)
    # a plain int count too (the length then follows total_repeat_length, not n * count)
    got = fnp.repeat(x[0, ...], 2, total_repeat_length=5)
    np.testing.assert_allclose(backend.to_numpy(got), _repeat_to(xs[0], 2, 5), rtol=0, atol=0)
    with pytest.raises(ValueError, match="total_repeat_length must not be negative"):
        fnp.repeat(x[0, ...], 2, total_repeat_length=-1)
