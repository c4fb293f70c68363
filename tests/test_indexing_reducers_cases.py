"""Indexing and reductions of functrans.numpy, following the topics of JAX's
tests/lax_numpy_indexing_test.py and tests/lax_numpy_reducers_test.py, restated here.

Each case is written once against a namespace ``m`` (``m.np`` is NumPy, functrans.numpy or
jax.numpy) or as plain indexing syntax, and runs three ways: on NumPy, the reference that
exists everywhere (values, dtypes, errors); on functrans, on every backend, eagerly on
tracers, under ``jit`` and, where it applies, ``vmap``; and on JAX (x64) when it is
installed (CI has no JAX: those comparisons skip, the NumPy ones still run). Derivatives
are checked by central differences in float64 and the dot-product identity
(:func:`functrans.testing.check_grads`), and against ``jax.grad`` where JAX is present.

Where functrans deliberately differs from JAX the case pins functrans's behaviour and
docs/coming-from-jax.md says so: list and Python-bool indices (NumPy's meaning; JAX refuses
them), an out-of-range plain index raises IndexError (JAX clamps), ``take``'s default mode
is NumPy's 'raise' (JAX's is 'fill'), ``.at[...]`` with ``mode='promise_in_bounds'`` and
an out-of-range concrete index raises (JAX's result is unspecified), and derivatives of
``.at[...].multiply`` with repeated indices are computed (JAX raises).

Convention at ties (no derivative exists there): ``max``/``min``/``ptp``/``amax`` give
each of the k tied positions 1/k of the cotangent (as JAX); ``median``/``quantile`` and
the other sort-based reductions give it to the element a stable sort puts at that rank.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError
from functrans.testing import check_grads

try:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
except ImportError:
    jax = jnp = None

needs_jax = pytest.mark.skipif(jax is None, reason="JAX is not installed (CI): the NumPy "
                               "and finite-difference references run without it")

NP = types.SimpleNamespace(name="numpy", np=np)
FT = types.SimpleNamespace(name="functrans", np=fnp, grad=ft.grad, jit=ft.jit, vmap=ft.vmap,
                           vjp=ft.vjp)
JX = None if jax is None else types.SimpleNamespace(
    name="jax", np=jnp, grad=jax.grad, jit=jax.jit, vmap=jax.vmap, vjp=jax.vjp)

RNG = np.random.default_rng(0)


def _host(backend, tree):
    if isinstance(tree, (tuple, list)):
        return type(tree)(_host(backend, t) for t in tree)
    return backend.to_numpy(tree) if backend is not None else np.asarray(tree)


def close(got, want, tol=1e-12, dtype=True):
    """``got`` (NumPy data) equals ``want``: shape, values (NaN where NaN) and dtype."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w, tol, dtype)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if dtype:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype == bool or want.dtype == bool:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


def _data(shape, dtype="float64"):
    if np.dtype(dtype).kind == "b":
        return RNG.random(size=shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        lo = 0 if np.dtype(dtype).kind == "u" else -5
        return RNG.integers(lo, 6, size=shape).astype(dtype)
    return RNG.normal(size=shape).astype(dtype)


def _jax_value(f, *args):
    return np.asarray(f(*[jnp.asarray(a) for a in args]))


# =============================================================================================
# Indexing: x[idx] with basic, advanced and mixed indices
# =============================================================================================

I = np.array  # (index arrays below: NumPy's int64 unless given)

STATIC = [  # integers, slices (any step, out of range, empty), Ellipsis, None, ()
    ((3,), 1), ((3, 4, 5), 2), ((3,), -2), ((3, 3), (2, 1)), ((3, 4, 5), (-1, 2)),
    ((3, 4, 5), (1, 2, 3)), ((10,), slice(1, -1)), ((10, 8), slice(-3, None)),
    ((10,), slice(3, 1, -1)), ((10,), slice(1, 8, -1)), ((10, 8), slice(None, None, -1)),
    ((10, 8), (slice(None, 1, -2), slice(None, None, 3))), ((10,), slice(0, 20)),
    ((10, 8, 3), (slice(1, None), slice(0, 2))), ((10, 4), (1, slice(None))),
    ((3, 4), Ellipsis), ((3, 4, 5), (0, Ellipsis)), ((3, 4, 5), (Ellipsis, 2, 3)),
    ((), None), ((), (Ellipsis, None)), ((3, 4), (0, None, Ellipsis)),
    ((3, 4, 5), (1, None, Ellipsis, None)), ((3, 4), ()), ((), ()),
    ((3, 4, 5), (np.int32(1), slice(None), np.int64(-1))),
]
ADVANCED = [  # integer arrays of several dims, broadcast together, lists, 0-d arrays
    ((3,), I([0, 1])), ((3, 4, 5), I([0, 2, 0, 1])), ((3,), I([-2, -1])),
    ((0,), I([], dtype=np.int32)), ((3, 3), I([[1, 2, 1], [0, 1, -1]])),
    ((3, 3), (I([0, 1]), I([1, 2]))), ((3, 4, 5), (I([[0, 2, 0, 1]]), I([-1, 0, -1, 2]))),
    ((3, 4, 5), I(1)), ((3, 4), (Ellipsis, I(1, dtype=np.int32))),
    ((3, 4, 5), (0, I([0, 1]))), ((3, 4, 5), (0, 1, I([[2, 3, 0, 3]]))),
    ((3, 4, 5), I([0, 1], dtype=np.uint8)), ((3, 4, 5), (I([0, 1], dtype=np.int8), I(-1))),
]
LISTS = [  # NumPy's meaning of lists and tuples inside the index (JAX refuses a list)
    ((3, 4, 5), [0, 1]), ((3, 4, 5), ([[0], [-1]], [[2, 3, 0, 3]])),
    ((3, 4, 5), ([0, 1], I([0]))), ((3, 3), ((0, 2), (1, 1))),
]
MIXED = [  # advanced indices with slices, Ellipsis and None between or around them
    ((2, 3), (I([0, 1]), slice(1, 2))), ((2, 3), (slice(0, 2), I([0, 2]))),
    ((3, 4, 5), (Ellipsis, I([[0, 2], [1, 3]]), slice(None))),
    ((3, 4, 5), (slice(None), I([0, 2]), I([-1, 2]))),          # adjacent: stay in place
    ((3, 4, 5), (I([0, 2]), Ellipsis, I([-1, 2]))),             # separated: axis to front
    ((3, 4, 5), (I([0, 2]), slice(1, 3), I([-1, 2]))),
    ((3, 4, 5), (I([0, 2, -2]), slice(None, None, -2), I([-1, 2, 1]))),
    ((3, 4, 5), (I([[0], [2]]), slice(None), I([1, 2, 3]))),    # broadcast, separated
    ((3, 4, 5), (I([0, 2]), None, I([-1, 2]))),
    ((3, 4, 5), (Ellipsis, I([0, 2]), None, None, I([-1, 2]))),
    ((3, 4, 5), (I(2), slice(None), np.arange(3))),
    ((3, 4, 5), (I([0, 2, -1, 0]), slice(None), I([0, 2, -1, 0]), None)),
    ((3, 4, 5), (I([0, 2, -1, 0]), Ellipsis, I([0, 2, -1, 0])[:, None], None)),
    ((3, 4, 5), (I([[0, 2], [2, 0]]), Ellipsis, I([[1, 0], [1, 0]]))),
]
_M1 = I([[True, False, True], [False, False, True]])
BOOL = [  # masks (need concrete values: eager transforms only)
    ((3,), I([True, True, False])), ((4, 2), I([True, True, False, True])),
    ((4, 2), I([[True, False], [False, True], [False, False], [True, True]])),
    ((2, 3, 6), (_M1, I([True, False, False, True, True, False]))),
    ((1,), I([False])), ((3, 4), (slice(None), I([True, False, True, False]))),
    ((3, 4), (I([False, True, True]), 1)), ((3,), True), ((3,), False),
    ((3, 4), (Ellipsis, I(True))),
]
ALL_SPECS = STATIC + ADVANCED + LISTS + MIXED + BOOL


def _ids(specs):
    return [f"{s}-{repr(ix).replace(' ', '')[:60]}" for s, ix in specs]


def _jax_refuses(ix):
    """A list as the whole index: NumPy reads it as an integer array, JAX refuses it (a
    list inside a tuple, and a Python bool, JAX reads as NumPy does)."""
    return type(ix) is list


@pytest.mark.parametrize("shape,ix", ALL_SPECS, ids=_ids(ALL_SPECS))
def test_getitem(backend, shape, ix):
    x = _data(shape)
    want = x[ix]
    xb = backend.asarray(x)
    f = lambda x: x[ix]  # noqa: E731
    out, vjp = ft.vjp(f, xb)  # eager, on a tracer
    close(_host(backend, out), want)
    # the VJP scatters the cotangent back, repeated positions accumulating (np.add.at)
    ct = RNG.normal(size=want.shape)
    ref = np.zeros(shape)
    np.add.at(ref, ix, ct)
    close(_host(backend, vjp(backend.asarray(ct))[0]), ref)
    if not any(ix is b for _, b in BOOL) or type(ix) is bool:
        close(_host(backend, ft.jit(f)(xb)), want)
    else:  # a mask's result shape depends on its values, unknown while staging
        items = ix if type(ix) is tuple else (ix,)
        k = next(i for i, v in enumerate(items) if isinstance(v, np.ndarray))

        def staged(x, m):
            return x[items[:k] + (m,) + items[k + 1:]]
        with pytest.raises(ConcretizationError):
            ft.jit(staged)(xb, backend.asarray(items[k], "bool"))


@needs_jax
@pytest.mark.parametrize("shape,ix", ALL_SPECS, ids=_ids(ALL_SPECS))
def test_getitem_beside_jax(shape, ix):
    x = _data(shape)
    f = lambda x: x[ix]  # noqa: E731
    if _jax_refuses(ix):
        with pytest.raises(TypeError, match="non-tuple sequence"):
            f(jnp.asarray(x))
        return
    close(np.asarray(ft.vjp(f, x)[0]), _jax_value(f, x))


@needs_jax
def test_getitem_grads_beside_jax():
    x = _data((3, 4, 5))
    for ix in [(I([0, 2, 0]), slice(None, None, -2), I([-1, 2, 1])), (Ellipsis, I(1), None),
               (I([[0], [2]]), slice(1, 3), I([1, 1, 3])), (slice(None), x[0, :, 0] > 0),
               ([0, 0], 1)]:
        g = lambda x: (x[ix] ** 3).sum()  # noqa: E731
        close(ft.grad(g)(x), np.asarray(jax.grad(g)(jnp.asarray(x))))


GRAD_SPECS = [s for s in STATIC + ADVANCED + LISTS + MIXED + BOOL
              if np.prod(s[0], dtype=int) > 0 and np.asarray(_data(s[0])[s[1]]).size > 0]


@pytest.mark.parametrize("shape,ix", GRAD_SPECS, ids=_ids(GRAD_SPECS))
def test_getitem_grads(shape, ix):
    x = _data(shape)
    check_grads(lambda x: x[ix] ** 2, (x,), order=2, modes=("rev",))


def test_getitem_grads_on_backends(backend):
    x = backend.asarray(_data((3, 4, 5)))
    for ix in [(I([0, 2, 0]), slice(None, None, -2), I([-1, 2, 1])),
               (Ellipsis, I([[0, 0], [3, 1]])), (1, None, slice(3, 0, -1))]:
        # (jit: the finite differences' evaluations index tracers too, not torch's own arrays)
        check_grads(ft.jit(lambda x: fnp.sin(x[ix])), (x,), order=2)


def test_repeated_indices_accumulate(backend):
    x = backend.asarray(np.arange(5.0))
    w = backend.asarray(I([1.0, 2.0, 3.0, 4.0, 5.0]))
    g = ft.grad(lambda x: fnp.sum(x[I([0, 3, 0, 0, 4])] * w))(x)
    close(_host(backend, g), I([8.0, 0.0, 0.0, 2.0, 5.0]))
    # and a list index, and a mask beside an integer array
    g = ft.grad(lambda x: fnp.sum(x[[1, 1, 1]] ** 2))(x)
    close(_host(backend, g), I([0.0, 6.0, 0.0, 0.0, 0.0]))


# -- under vmap: batched index arrays, batched operands -----------------------------------------


def test_indexing_under_vmap(backend):
    x = _data((4, 5))
    idx = I([[0, 4], [1, 1], [-1, 2], [3, 0]])
    xb, ib = backend.asarray(x), backend.asarray(idx, dtype="int64")
    got = ft.vmap(lambda r, i: r[i])(xb, ib)
    close(_host(backend, got), np.take_along_axis(x, idx % 5, 1))
    # an unbatched plain array stays its library's (which cannot take a tracer as an
    # index): fnp.take, as docs/coming-from-jax.md says
    rows = I([[0, 3], [1, 1], [-1, 2], [3, 0]])
    got = ft.vmap(lambda x, i: fnp.take(x, i, axis=0), in_axes=(None, 0))(
        xb, backend.asarray(rows, dtype="int64"))
    close(_host(backend, got), x[rows])
    got = ft.vmap(lambda r: r[I([2, 0]), None])(xb)
    close(_host(backend, got), x[:, I([2, 0]), None])
    got = ft.jit(ft.vmap(lambda r, i: r[..., i] * 2.0))(xb, ib)
    close(_host(backend, got), 2.0 * np.take_along_axis(x, idx % 5, 1))


@needs_jax
def test_indexing_under_vmap_beside_jax():
    x, idx = _data((4, 5)), I([[0, 4], [1, 1], [-1, 2], [3, 0]])
    f = lambda m: m.vmap(lambda r, i: m.np.sin(r[i]))  # noqa: E731
    close(np.asarray(f(FT)(x, idx)), np.asarray(f(JX)(x, idx)))
    g = lambda m: m.grad(lambda x: m.np.sum(m.vmap(lambda r, i: r[i] ** 3)(x, idx)))  # noqa
    close(np.asarray(g(FT)(x)), np.asarray(g(JX)(x)))


# -- index errors ---------------------------------------------------------------------------


def _on_tracer(backend, shape, f):
    """Run ``f`` on a tracer of ``shape`` eagerly (under grad) and under jit."""
    x = backend.asarray(np.ones(shape))
    yield lambda: ft.grad(lambda x: fnp.sum(f(x)))(x)
    yield lambda: ft.jit(f)(x)


@pytest.mark.parametrize("ix,err,msg", [
    (0.0, IndexError, "valid indices; got float 0.0 .round it"),
    ((0, 1.5), IndexError, "valid indices; got float 1.5"),
    ("a", IndexError, "valid indices; got str"),
    (I([0.0, 1.0]), IndexError, "integer or boolean dtype; got float64"),
    (3, IndexError, "index 3 is out of bounds for axis 0 with size 3"),
    ((0, -5), IndexError, "index -5 is out of bounds for axis 1 with size 4"),
    (I([0, 3]), IndexError, "index 3 is out of bounds for axis 0 with size 3"),
    ((slice(None), I([[-5]])), IndexError, "index -5 is out of bounds for axis 1"),
    ((0, 0, 0), IndexError, "too many indices"),
    ((Ellipsis, 0, Ellipsis), IndexError, "single ellipsis"),
    (I([True, False]), IndexError, "boolean index of shape .2,. does not match"),
])
def test_index_errors(backend, ix, err, msg):
    for run in _on_tracer(backend, (3, 4), lambda x: x[ix]):
        with pytest.raises(err, match=msg):
            run()
    with pytest.raises(err):  # NumPy agrees that it is an error (its own words)
        np.ones((3, 4))[ix]


def test_index_errors_under_vmap_and_jit_replay(backend):
    x = backend.asarray(np.ones((2, 3)))
    idx = backend.asarray(I([[0, 1], [2, 3]]), dtype="int64")
    with pytest.raises(IndexError, match="out of bounds"):  # each member's own axis
        ft.vmap(lambda r, i: r[i])(x, idx)
    f = ft.jit(lambda r, i: r[i])
    close(_host(backend, f(x, backend.asarray(I([0, -1]), dtype="int64"))), np.ones((2, 3)))
    with pytest.raises(IndexError):  # the replayed graph too (the library's own words)
        f(x, backend.asarray(I([5, 0]), dtype="int64"))
    with pytest.raises(ConcretizationError):  # a mask's result shape needs its values
        ft.jit(lambda r, m: r[m])(x, backend.asarray(I([True, False]), dtype="bool"))


@needs_jax
def test_index_errors_beside_jax():
    # JAX: a float index is a TypeError (functrans: NumPy's IndexError), an out-of-range
    # plain index clamps under jit (functrans raises, as NumPy)
    with pytest.raises(TypeError):
        jnp.zeros(2)[0.0]
    assert float(jax.jit(lambda x, i: x[i])(jnp.arange(3.0), 7)) == 2.0
    with pytest.raises(IndexError):
        ft.jit(lambda x, i: x[i])(np.arange(3.0), np.int64(7))
    with pytest.raises(IndexError, match="(?i)too many indices"):
        jnp.zeros((2, 2))[0, 0, 0]


# =============================================================================================
# x.at[idx]: set / add / multiply / divide / power / min / max / get / apply
# =============================================================================================

def _np_update(op, x, ix, v):
    """NumPy's reference: every update applies, repeated positions included (set: last)."""
    y = x.copy()
    if op == "set":
        y[ix] = v
        return y
    ufunc = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
             "divide": np.divide, "power": np.power, "min": np.minimum,
             "max": np.maximum}[op]
    ufunc.at(y, ix, np.broadcast_to(v, y[ix].shape))
    return y


AT_SPECS = [  # (shape, index, values' shape)
    ((3,), 1, ()), ((3, 4, 5), (1, slice(None, None, -2)), (5,)),
    ((10, 8), (slice(1, 3), slice(None, 2)), (2, 1)), ((3, 4), (Ellipsis, None, 2), (1,)),
    ((4, 5), I([0, 2, 3]), (3, 5)), ((4, 5), (I([[0], [3]]), I([1, 2, 4])), (2, 3)),
    ((3, 4, 5), (I([0, 2]), slice(1, 3), I([-1, 2])), (2, 2)),
    ((3, 4, 5), (Ellipsis, I([[0, 2], [1, 3]]), slice(None)), (5,)),
    ((4, 5), I([True, False, True, True]), (5,)),
    ((6,), I([0, 2, 0, 5, 0]), (5,)),                       # repeated
    ((4, 3), (I([1, 1, 3]), I([2, 2, 0])), ()),             # repeated pairs
]
AT_OPS = ["set", "add", "subtract", "multiply", "divide", "power", "min", "max"]


@pytest.mark.parametrize("op", AT_OPS)
def test_at_update(backend, op):
    for shape, ix, vshape in AT_SPECS:
        x = np.abs(_data(shape)) + 0.5
        v = np.abs(_data(vshape)) + 0.5
        want = _np_update(op, x, ix, v)
        f = ft.jit(lambda x, v: getattr(x.at[ix], op)(v, indices_are_sorted=False,
                                                      unique_indices=False))
        close(_host(backend, f(backend.asarray(x), backend.asarray(v))), want)
    # eager on functrans.numpy's own arrays, which have .at too
    x = fnp.asarray(np.arange(6.0))
    close(getattr(x.at[I([1, 1, 4])], op)(2.0), _np_update(op, np.arange(6.0), I([1, 1, 4]),
                                                            2.0))


def test_at_traced_repeated_indices(backend):
    """Indices that are arguments of jit and vmap (values unknown while staging): repeated
    positions still each apply (set: the last), as numpy.ufunc.at."""
    x, i = np.arange(6.0), I([1, 4, 1, 1, 5])
    v = I([10.0, 20.0, 30.0, 40.0, 50.0])
    xb, ib, vb = backend.asarray(x), backend.asarray(i, "int64"), backend.asarray(v)
    for op in ("set", "add", "multiply", "min", "max"):
        f = ft.jit(lambda x, i, v: getattr(x.at[i], op)(v))
        close(_host(backend, f(xb, ib, vb)), _np_update(op, x, i, v))
    got = ft.vmap(lambda i: ft.jit(lambda x, i, v: x.at[i].add(v))(xb, i, vb))(
        backend.asarray(np.stack([i, i[::-1]]), "int64"))
    close(_host(backend, got), np.stack([_np_update("add", x, i, v),
                                         _np_update("add", x, i[::-1], v)]))


@needs_jax
@pytest.mark.parametrize("op", AT_OPS)
def test_at_update_beside_jax(op):
    for shape, ix, vshape in AT_SPECS:
        if op in ("set", "multiply") and shape == (6,) or shape == (4, 3) and op == "set":
            continue  # repeated positions: JAX's set has no defined winner
        x, v = np.abs(_data(shape)) + 0.5, np.abs(_data(vshape)) + 0.5
        f = lambda x, v: getattr(x.at[ix], op)(v)  # noqa: E731
        close(np.asarray(ft.jit(f)(x, v)), _jax_value(f, x, v))


def test_at_dtypes(backend):
    xi = backend.asarray(np.arange(6), dtype="int64")
    # jax.numpy's rule: computed in the promoted dtype and cast back (no truncation first)
    got = ft.jit(lambda x: (x.at[1].add(2.7), x.at[2].multiply(1.5), x.at[0].set(-3.9),
                            x.at[5].divide(2)))(xi)
    close(_host(backend, got[0]), I([0, 3, 2, 3, 4, 5]))
    close(_host(backend, got[1]), I([0, 1, 3, 3, 4, 5]))
    close(_host(backend, got[2]), I([-3, 1, 2, 3, 4, 5]))
    close(_host(backend, got[3]), I([0.0, 1, 2, 3, 4, 2.5]))
    xb = backend.asarray(np.zeros(3, bool), dtype="bool")
    close(_host(backend, ft.jit(lambda x: x.at[I([0, 2])].set(True))(xb)),
          I([True, False, True]))


@needs_jax
def test_at_dtypes_beside_jax():
    xi = np.arange(6)
    f = lambda x: (x.at[1].add(2.7), x.at[2].multiply(1.5), x.at[0].set(-3.9))  # noqa
    close(list(ft.jit(f)(xi)), [np.asarray(a) for a in f(jnp.asarray(xi))])


def test_at_get_apply(backend):
    x = _data((4, 5))
    xb = backend.asarray(x)
    for ix in [(I([0, 3, 0]), slice(1, None)), (Ellipsis, 2), I([[1], [2]])]:
        close(_host(backend, ft.jit(lambda x: x.at[ix].get())(xb)), x[ix])
    # apply: func applied as often as a position is indexed (as numpy.sin.at)
    ix = I([0, 2, 0, 0])
    want = x.copy()
    np.sin.at(want, ix)
    close(_host(backend, ft.vjp(lambda x: x.at[ix].apply(fnp.sin), xb)[0]), want)
    with pytest.raises(NotImplementedError, match="unique_indices=True"):
        ft.jit(lambda x, i: x.at[i].apply(fnp.sin))(xb, backend.asarray(ix, dtype="int64"))
    got = ft.jit(lambda x, i: x.at[i].apply(fnp.sin, unique_indices=True))(
        xb, backend.asarray(I([3, 1]), dtype="int64"))
    want = x.copy()
    want[[3, 1]] = np.sin(want[[3, 1]])
    close(_host(backend, got), want)


def _np_norm(i, n):
    return np.where(i < 0, i + n, i)


def test_at_modes(backend):
    x = np.arange(1.0, 6.0)
    n = 5
    ix = I([-2, 7, -9, 1])
    inside = (ix >= -n) & (ix < n)
    xb = backend.asarray(x)
    run = lambda f: _host(backend, ft.jit(f)(xb))  # noqa: E731
    clipped = np.clip(_np_norm(ix, n), 0, n - 1)
    close(run(lambda x: x.at[ix].get()), x[clipped])                    # reads clamp
    close(run(lambda x: x.at[ix].get(mode="clip")), x[clipped])
    filled = np.where(inside, x[np.where(inside, ix, 0)], -1.0)
    close(run(lambda x: x.at[ix].get(mode="fill", fill_value=-1.0)), filled)
    close(run(lambda x: x.at[ix].get(mode="fill")), np.where(inside, filled, np.nan))
    for op in ("set", "add", "multiply", "min", "max"):
        dropped = _np_update(op, x, ix[inside], 10.0)
        close(run(lambda x: getattr(x.at[ix], op)(10.0)), dropped)          # writes drop
        close(run(lambda x: getattr(x.at[ix], op)(10.0, mode="drop")), dropped)
        close(run(lambda x: getattr(x.at[ix], op)(10.0, mode="fill")), dropped)
        close(run(lambda x: getattr(x.at[ix], op)(10.0, mode="clip")),
              _np_update(op, x, clipped, 10.0))
        with pytest.raises(IndexError, match="out of bounds"):  # NumPy's rule (JAX: unspecified)
            run(lambda x: getattr(x.at[ix], op)(10.0, mode="promise_in_bounds"))
    with pytest.raises(ValueError, match="mode must be one of"):
        run(lambda x: x.at[0].set(1.0, mode="wrap"))
    # derivatives of reads: the clamped position's value read (functrans's convention; JAX
    # drops it unless mode='clip'), none from a filled one
    g = ft.grad(lambda x: fnp.sum(x.at[ix].get(mode="fill", fill_value=0.0) ** 2))(xb)
    want = np.zeros(n)
    np.add.at(want, _np_norm(ix, n)[inside], 2 * x[_np_norm(ix, n)[inside]])
    close(_host(backend, g), want)
    g = ft.grad(lambda x: fnp.sum(x.at[ix].get(mode="clip") ** 2))(xb)
    want = np.zeros(n)
    np.add.at(want, clipped, 2 * x[clipped])
    close(_host(backend, g), want)
    check_grads(ft.jit(lambda x: x.at[ix].get() ** 3), (xb,), order=2)
    # traced indices under vmap: each member's own index, same modes
    ib = backend.asarray(ix, dtype="int64")
    got = ft.vmap(lambda i: ft.jit(lambda x, i: x.at[i].add(10.0))(xb, i))(ib)
    want = np.stack([_np_update("add", x, I([i]) if -n <= i < n else I([], int), 10.0)
                     for i in ix])
    close(_host(backend, got), want)
    got = ft.vmap(lambda i: ft.jit(lambda x, i: x.at[i].get(mode="fill", fill_value=0.5))(
        xb, i))(ib)
    close(_host(backend, got), np.where(inside, filled, 0.5))


@needs_jax
def test_at_modes_beside_jax():
    x, ix = np.arange(1.0, 6.0), I([-2, 7, -9, 1])
    for f in [lambda x: x.at[ix].get(), lambda x: x.at[ix].get(mode="fill", fill_value=-1.0),
              lambda x: x.at[ix].add(10.0), lambda x: x.at[ix].max(10.0, mode="clip"),
              lambda x: x.at[ix].set(10.0, mode="drop")]:
        close(np.asarray(ft.jit(f)(x)), _jax_value(f, x))
    f = lambda m: m.vmap(lambda x, i: x.at[i].add(1.0), in_axes=(None, 0))  # noqa: E731
    close(np.asarray(f(FT)(fnp.asarray(x), ix)), np.asarray(f(JX)(jnp.asarray(x), ix)))


@pytest.mark.parametrize("op", ["set", "add", "multiply", "min", "max"])
def test_at_grads(backend, op):
    cases = [((4, 3), I([0, 2, 0, 0]), (4, 3)),                 # repeated rows
             ((3, 4, 5), (I([0, 2]), slice(1, 3), I([-1, 2])), (2, 2)),
             ((5,), slice(None, None, -2), ()), ((4, 5), I([True, False, True, True]), (5,))]
    if backend.name != "numpy":
        cases = cases[:1]
    for shape, ix, vshape in cases:
        x, v = _data(shape), _data(vshape) + 0.25
        f = ft.jit(lambda x, v: getattr(x.at[ix], op)(v))
        check_grads(f, (backend.asarray(x), backend.asarray(v)), order=2)


@needs_jax
@pytest.mark.parametrize("op", ["set", "add", "min", "max", "get"])
def test_at_grads_beside_jax(op):
    x = _data((4, 3))
    for ix, vshape in [(I([0, 2]), (2, 3)), ((1, slice(None, None, -1)), (3,)),
                       (I([0, 2, 0, 0]), (4, 3))]:
        if op == "set" and len(ix) == 4:
            continue  # repeated positions: JAX's set has no defined winner
        v = _data(vshape)
        f = lambda m: m.grad(lambda x, v: m.np.sum(m.np.sin(  # noqa: E731
            x.at[ix].get() * v if op == "get" else getattr(x.at[ix], op)(v))), (0, 1))
        close(list(f(FT)(x, v)), [np.asarray(a) for a in f(JX)(x, v)])
    # functrans differentiates a repeated-index multiply; JAX refuses
    f = lambda x, v: fnp.sum(x.at[I([0, 0])].multiply(v))  # noqa: E731
    check_grads(ft.jit(f), (x, _data((2, 3))), order=2)
    with pytest.raises(NotImplementedError):
        jax.grad(lambda x, v: jnp.sum(x.at[I([0, 0])].multiply(v)), (0, 1))(x, _data((2, 3)))


def test_at_max_clip_derivative_by_differences():
    # At a clamped index the update (10.0) wins the max: the row's derivative in x is 0
    # (JAX 0.10's clip-mode scatter-max JVP gives the update's derivative there instead)
    x = _data((4, 3))
    f = ft.jit(lambda x: fnp.sin(x.at[I([0, 5, -7])].max(2.5, mode="clip")))
    check_grads(f, (x,), order=2)
    g = ft.grad(lambda x: fnp.sum(f(x)))(x)
    close(g[[0, 3]], np.zeros((2, 3)))


# =============================================================================================
# take / take_along_axis / put_along_axis
# =============================================================================================


def test_take_modes(backend):
    x = _data((4, 5))
    xb = backend.asarray(x)
    ix = I([[0, -1], [3, 2]])
    for axis in (None, 0, 1, -1):
        close(_host(backend, fnp.take(xb, backend.asarray(ix, dtype="int64"), axis=axis)),
              np.take(x, ix, axis=axis))
    oob = I([0, 6, -7, 4])
    for mode in ("wrap", "clip"):
        close(_host(backend, fnp.take(xb, oob, axis=1, mode=mode)),
              np.take(x, oob, axis=1, mode=mode))
    inside = (oob >= -5) & (oob < 5)
    want = np.where(inside, x[:, np.where(inside, oob, 0)], 7.0)
    close(_host(backend, fnp.take(xb, oob, axis=1, mode="fill", fill_value=7.0)), want)
    close(_host(backend, fnp.take(xb, oob, axis=1, mode="fill")),
          np.where(inside, want, np.nan))
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.take(xb, oob, axis=1)                      # NumPy's default mode (JAX: 'fill')
    with pytest.raises(ValueError, match="fill_value applies only with mode='fill'"):
        fnp.take(xb, oob, axis=1, mode="clip", fill_value=1.0)
    with pytest.raises(TypeError, match="indices must be integers"):
        fnp.take(xb, backend.asarray(I([0.0])), axis=0)
    # derivatives: repeated indices accumulate, filled positions get none
    check_grads(lambda x: fnp.take(x, I([0, 0, 2, 9]), axis=1, mode="fill"), (xb,), order=2)
    g = ft.grad(lambda x: fnp.sum(fnp.take(x, I([0, 0, -1, 9]), axis=1, mode="fill",
                                           fill_value=0.0)))(xb)
    ref = np.zeros((4, 5))
    ref[:, 0], ref[:, 4] = 2.0, 1.0
    close(_host(backend, g), ref)
    got = ft.vmap(lambda r, i: fnp.take(r, i, mode="clip"))(xb, backend.asarray(
        I([[0, 9], [1, -1], [2, 2], [8, 0]]), dtype="int64"))
    close(_host(backend, got), np.stack([np.take(x[k], i, mode="clip") for k, i in
                                         enumerate(I([[0, 9], [1, -1], [2, 2], [8, 0]]))]))


@needs_jax
def test_take_beside_jax():
    x, oob = _data((4, 5)), I([0, 6, -7, 4])
    for kw in [dict(mode="wrap"), dict(mode="clip"), dict(mode="fill", fill_value=7.0),
               dict(mode="fill"), dict(axis=None, mode="clip")]:
        kw = {"axis": 1, **kw}
        close(np.asarray(fnp.take(x, oob, **kw)), np.asarray(jnp.take(x, oob, **kw)))
    # the default: NumPy's 'raise' here, 'fill' (NaN) in JAX
    assert np.isnan(np.asarray(jnp.take(x, oob, axis=1))).any()


def test_take_along_axis_and_put_along_axis(backend):
    x = _data((3, 4, 2))
    idx = I([[[0], [3], [3]], [[1], [-1], [0]], [[2], [2], [2]]]).reshape(3, 3, 1)
    xb, ib = backend.asarray(x), backend.asarray(idx, dtype="int64")
    close(_host(backend, fnp.take_along_axis(xb, ib, 1)), np.take_along_axis(x, idx, 1))
    flat = I([5, 0, -1, 5])
    close(_host(backend, fnp.take_along_axis(xb, flat, axis=None)),
          np.take_along_axis(x, flat, axis=None))
    g = ft.grad(lambda x: fnp.sum(fnp.take_along_axis(x, ib, axis=1) ** 2))(xb)
    ref = np.zeros_like(x)
    sel = np.take_along_axis(x, idx, 1)
    np.add.at(ref, (np.arange(3)[:, None, None], _np_norm(idx, 4),
                    np.arange(2)[None, None, :]), 2 * sel)
    close(_host(backend, g), ref)
    check_grads(lambda x: fnp.take_along_axis(x, ib, axis=1), (xb,), order=2)
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 4"):
        fnp.take_along_axis(xb, backend.asarray(idx + 4, dtype="int64"), axis=1)
    vals = _data((3, 3, 2))
    y = np.array(x)
    np.put_along_axis(y, idx, vals, 1)
    got = fnp.put_along_axis(xb, ib, backend.asarray(vals), 1, inplace=False)
    close(_host(backend, got), y)
    check_grads(lambda x, v: fnp.put_along_axis(x, ib, v, 1, inplace=False),
                (xb, backend.asarray(vals)), order=2)
    y = np.array(x).reshape(-1)
    np.put_along_axis(y, I([0, 5, 0]), 9.0, None)
    close(_host(backend, fnp.put_along_axis(xb, I([0, 5, 0]), 9.0, None, inplace=False)),
          y.reshape(x.shape))


@needs_jax
def test_take_along_axis_and_put_along_axis_beside_jax():
    x = _data((3, 4, 2))
    idx = I([[1], [3], [0]]).reshape(3, 1, 1).repeat(2, 2)
    vals = _data((3, 1, 2))
    f = lambda m: m.grad(lambda x, v: m.np.sum(m.np.sin(  # noqa: E731
        m.np.put_along_axis(x, idx, v, 1, inplace=False)) * m.np.take_along_axis(x, idx, 1)),
        (0, 1))
    close(list(f(FT)(x, vals)), [np.asarray(a) for a in f(JX)(x, vals)])


# =============================================================================================
# Reductions
# =============================================================================================

REDUCERS = ["sum", "prod", "max", "min", "mean", "var", "std", "ptp", "any", "all",
            "argmax", "argmin", "count_nonzero", "nansum", "nanprod", "nanmax", "nanmin",
            "nanmean", "nanvar", "nanstd", "nanargmax", "nanargmin", "median", "nanmedian",
            "amax", "amin"]
ONE_AXIS = {"argmax", "argmin", "nanargmax", "nanargmin"}
DTYPES = ["float64", "float32", "int64", "int8", "uint8", "bool"]
AXES = [None, 0, -1, (0, 2), (2, 0)]


def _reduce_data(name, dtype):
    x = _data((3, 4, 5), dtype)
    if dtype.startswith("float"):
        x[0, 1, 2] = np.nan  # propagates (NaN result), or skipped by the nan* variants
    return x


def _skip(name, dtype, axis):
    if name in ONE_AXIS and isinstance(axis, tuple):
        return True
    if dtype == "bool" and name in ("ptp", "var", "std", "nanvar", "nanstd", "median",
                                    "nanmedian", "mean", "nanmean", "prod", "nanprod"):
        return True  # (NumPy refuses ptp of booleans; the statistics are left to floats)
    return False


@pytest.mark.parametrize("name", REDUCERS)
def test_reducer(backend, name):
    for dtype in DTYPES:
        if backend.name == "torch" and dtype == "uint8" and name in ("sum", "prod", "nansum",
                                                                     "nanprod"):
            continue  # (torch sums uint8 in uint64, which it cannot do on CPU)
        x = _reduce_data(name, dtype)
        xb = backend.asarray(x, dtype=dtype)
        for axis in AXES:
            if _skip(name, dtype, axis):
                continue
            for keepdims in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
                got = getattr(fnp, name)(xb, axis=axis, keepdims=keepdims)
                tol = 1e-5 if dtype == "float32" else 1e-12
                close(_host(backend, got), want, tol=tol,
                      dtype=not (backend.name == "torch" and dtype == "uint8"))


@needs_jax
@pytest.mark.parametrize("name", REDUCERS)
def test_reducer_beside_jax(name):
    for dtype in ("float64", "int64", "bool"):
        x = _reduce_data(name, dtype)
        for axis in AXES:
            if _skip(name, dtype, axis) or (name == "ptp" and dtype == "bool"):
                continue
            for keepdims in (False, True):
                got = getattr(fnp, name)(x, axis=axis, keepdims=keepdims)
                want = getattr(jnp, name)(jnp.asarray(x), axis=axis, keepdims=keepdims)
                close(np.asarray(got), np.asarray(want), dtype=False)


def test_reducer_dtypes_vs_numpy():
    """Result dtypes as NumPy's (the accumulators of sum/prod: int64 for bool and signed,
    uint64 for unsigned; float64 for the statistics of integers)."""
    for name in ["sum", "prod", "mean", "var", "std", "max", "argmax", "cumsum", "cumprod",
                 "nansum", "nanmean", "median", "average", "ptp", "count_nonzero"]:
        for dtype in ["float32", "float16", "int8", "int32", "uint8", "uint32", "bool"]:
            if dtype == "bool" and name in ("ptp",):
                continue
            x = _data((4, 3), dtype)
            want = getattr(np, name)(x, axis=0)
            got = getattr(fnp, name)(x, axis=0)
            assert np.asarray(got).dtype == np.asarray(want).dtype, (name, dtype)


def test_reducer_keywords(backend):
    x = _data((3, 4, 5))
    xi = _data((3, 4, 5), "int8")
    w = x > -0.3
    xb, xib, wb = backend.asarray(x), backend.asarray(xi, "int8"), backend.asarray(w, "bool")
    cases = [
        ("sum", (xb,), (x,), dict(axis=(0, 2), where=wb), dict(where=w)),
        ("sum", (xib,), (xi,), dict(axis=1, dtype=fnp.float32), dict(dtype=np.float32)),
        ("sum", (xb,), (x,), dict(axis=0, initial=2.5, keepdims=True), {}),
        ("prod", (xib,), (xi,), dict(axis=(1,), dtype=fnp.int16), dict(dtype=np.int16)),
        ("prod", (xb,), (x,), dict(axis=-1, where=wb, initial=3.0), dict(where=w)),
        ("max", (xb,), (x,), dict(axis=(0, 1), where=wb, initial=-1.0), dict(where=w)),
        ("min", (xib,), (xi,), dict(axis=2, initial=-2), {}),
        ("mean", (xb,), (x,), dict(axis=(2, 0), where=wb, keepdims=True), dict(where=w)),
        ("mean", (xib,), (xi,), dict(axis=0, dtype=fnp.float32), dict(dtype=np.float32)),
        ("var", (xb,), (x,), dict(axis=1, ddof=1, where=wb), dict(where=w)),
        ("var", (xib,), (xi,), dict(axis=(0, 2), ddof=2, dtype=fnp.float32),
         dict(dtype=np.float32)),
        ("std", (xb,), (x,), dict(axis=None, ddof=3, keepdims=True), {}),
        ("std", (xb,), (x,), dict(axis=1, ddof=4), {}),  # N - ddof = 0: inf, as NumPy
        ("var", (xb,), (x,), dict(axis=1, ddof=6), {}),
        ("any", (xb,), (x,), dict(axis=(0, 1), where=wb), dict(where=w)),
        ("all", (xib,), (xi,), dict(axis=2, where=wb, keepdims=True), dict(where=w)),
        ("nansum", (xb,), (x,), dict(axis=1, where=wb, initial=1.0), dict(where=w)),
        ("nanmax", (xb,), (x,), dict(axis=0, where=wb, initial=-5.0), dict(where=w)),
        ("nanmean", (xb,), (x,), dict(axis=(0, 2), where=wb), dict(where=w)),
        ("nanvar", (xb,), (x,), dict(axis=1, ddof=1, where=wb), dict(where=w)),
        ("cumsum", (xib,), (xi,), dict(axis=1, dtype=fnp.float64), dict(dtype=np.float64)),
        ("cumprod", (xb,), (x,), dict(axis=-1), {}),
        ("nancumsum", (xb,), (x,), dict(axis=0), {}),
        ("average", (xb,), (x,), dict(axis=(0, 2), weights=backend.asarray(np.abs(x) + .1),
                                      returned=True), dict(weights=np.abs(x) + .1)),
        ("average", (xb,), (x,), dict(axis=1, weights=backend.asarray(I([1.0, 2, 0, 3])),
                                      keepdims=True), dict(weights=I([1.0, 2, 0, 3]))),
        ("average", (xib,), (xi,), dict(axis=None, returned=True), {}),
    ]
    for name, args, np_args, kw, np_over in cases:
        np_kw = {k: v for k, v in kw.items() if k not in ("where", "dtype", "weights")}
        np_kw.update(np_over)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = getattr(np, name)(*np_args, **np_kw)
        got = getattr(fnp, name)(*args, **kw)
        close(_host(backend, got), want, tol=1e-6,
              dtype=not (backend.name == "torch" and "int16" in str(kw.get("dtype"))))


def test_cumulative(backend):
    x, xi = _data((3, 4)), _data((3, 4), "int8")
    for name in ("cumulative_sum", "cumulative_prod"):
        for data, dt in ((x, "float64"), (xi, "int8")):
            xb = backend.asarray(data, dt)
            for kw in (dict(axis=0), dict(axis=-1, include_initial=True),
                       dict(axis=1, dtype=fnp.float32)):
                np_kw = {k: (np.float32 if k == "dtype" else v) for k, v in kw.items()}
                close(_host(backend, getattr(fnp, name)(xb, **kw)),
                      getattr(np, name)(data, **np_kw), tol=1e-6)
        with pytest.raises(Exception, match="axis"):
            getattr(fnp, name)(backend.asarray(x))  # 2-d: axis required, as NumPy


@pytest.mark.parametrize("name,err", [("max", ValueError), ("min", ValueError),
                                      ("argmax", ValueError), ("ptp", ValueError),
                                      ("amax", ValueError), ("nanargmin", ValueError)])
def test_empty_reductions_without_identity(backend, name, err):
    e = backend.asarray(np.zeros((0, 3)))
    with pytest.raises(err):
        np.asarray(getattr(np, name)(np.zeros((0, 3)), axis=0))
    with pytest.raises(err, match="empty|identity|zero-size"):
        getattr(fnp, name)(e, axis=0)
    # along the non-empty axis: an empty result, no error
    close(_host(backend, getattr(fnp, name)(e, axis=1)),
          getattr(np, name)(np.zeros((0, 3)), axis=1))


def test_empty_reductions_with_identity(backend):
    e = np.zeros((0, 3))
    eb = backend.asarray(e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, kw in [("sum", {}), ("prod", {}), ("any", {}), ("all", {}), ("mean", {}),
                         ("var", {}), ("nansum", {}), ("max", dict(initial=-2.0)),
                         ("min", dict(initial=4.0)), ("count_nonzero", {}),
                         ("median", {}), ("cumsum", {})]:
            for axis in (0, None):
                close(_host(backend, getattr(fnp, name)(eb, axis=axis, **kw)),
                      getattr(np, name)(e, axis=axis, **kw))


@needs_jax
def test_empty_reductions_beside_jax():
    e = np.zeros((0, 3))
    for name in ("sum", "prod", "any", "all"):
        close(np.asarray(getattr(fnp, name)(e, axis=0)),
              np.asarray(getattr(jnp, name)(e, axis=0)), dtype=False)
    with pytest.raises(ValueError):
        jnp.max(jnp.asarray(e), axis=0)
    close(np.asarray(fnp.max(e, axis=0, initial=-2.0)),
          np.asarray(jnp.max(e, axis=0, initial=-2.0)))


def test_quantile_methods(backend):
    methods = ["linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
               "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
               "hazen", "weibull", "median_unbiased", "normal_unbiased"]
    x = _data((5, 4))
    xn = x.copy()
    xn[1, 2] = xn[3, 2] = xn[4, 0] = np.nan
    q = I([0.0, 0.1, 0.2, 0.5, 0.75, 0.9, 1.0])
    xb, xnb, qb = backend.asarray(x), backend.asarray(xn), backend.asarray(q)
    for m in methods:
        close(_host(backend, fnp.quantile(xb, qb, axis=0, method=m)),
              np.quantile(x, q, axis=0, method=m))
        close(_host(backend, fnp.nanpercentile(xnb, 100 * qb, axis=(0,), method=m,
                                               keepdims=True)),
              np.nanpercentile(xn, 100 * q, axis=(0,), method=m, keepdims=True))
    close(_host(backend, fnp.percentile(xb, 30.0, axis=None, method="hazen")),
          np.percentile(x, 30.0, method="hazen"))
    with pytest.raises(ValueError, match="method='bogus' is not one of NumPy's"):
        fnp.quantile(xb, 0.5, method="bogus")


@needs_jax
def test_quantile_beside_jax():
    x = _data((5, 4))
    for m in ["linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf"]:
        close(np.asarray(fnp.quantile(x, I([0.1, 0.5, 1.0]), axis=0, method=m)),
              np.asarray(jnp.quantile(x, I([0.1, 0.5, 1.0]), axis=0, method=m)))
    with pytest.raises(ValueError):  # JAX has six of NumPy's thirteen methods
        jnp.quantile(x, 0.5, method="hazen")


# -- derivatives -----------------------------------------------------------------------------

def _zero_at(m, x, k):
    """``x`` with zeros at position ``k`` of the last axis (exact zeros in products)."""
    return m.np.concat([x[..., :k], 0.0 * x[..., k:k + 1], x[..., k + 1:]], axis=-1)


GRAD_REDUCTIONS = [
    ("sum", lambda m, x: m.np.sum(x, axis=(0, 2), keepdims=True)),
    ("prod", lambda m, x: m.np.prod(x, axis=1)),
    ("prod_zeros", lambda m, x: m.np.prod(_zero_at(m, x, 2), axis=-1)),
    ("max", lambda m, x: m.np.max(x, axis=(1,))),
    ("min_where", lambda m, x: m.np.min(x, axis=0, where=x > -0.5, initial=3.0)),
    ("mean", lambda m, x: m.np.mean(x, axis=(0, 2))),
    ("var", lambda m, x: m.np.var(x, axis=1, ddof=1)),
    ("std", lambda m, x: m.np.std(x, axis=(0, 1), keepdims=True)),
    ("ptp", lambda m, x: m.np.ptp(x, axis=2)),
    ("median_odd", lambda m, x: m.np.median(x, axis=2)),
    ("median_even", lambda m, x: m.np.median(x, axis=1)),
    ("quantile", lambda m, x: m.np.quantile(x, 0.3, axis=(0, 2))),
    ("percentile", lambda m, x: m.np.percentile(x, I([10.0, 95.0]), axis=1,
                                                method="midpoint")),
    ("average", lambda m, x: m.np.average(x, axis=1, weights=m.np.abs(x[0, :, 0]) + 1.0)),
    ("average_returned", lambda m, x: m.np.average(x, axis=(0, 2), weights=x ** 2,
                                                   returned=True)),
    ("cumsum", lambda m, x: m.np.cumsum(x, axis=1)),
    ("cumprod", lambda m, x: m.np.cumprod(x, axis=-1)),
    ("cumprod_zero", lambda m, x: m.np.cumprod(_zero_at(m, x, 1), axis=-1)),
    ("logsumexp_like", lambda m, x: m.np.log(m.np.sum(m.np.exp(x), axis=0))),
    ("nansum", lambda m, x: m.np.nansum(m.np.where(x > 1.0, m.np.nan, x), axis=1)),
    ("nanmean", lambda m, x: m.np.nanmean(m.np.where(x > 1.0, m.np.nan, x), axis=(0, 2))),
    ("nanvar", lambda m, x: m.np.nanvar(m.np.where(x > 1.0, m.np.nan, x), axis=2)),
    ("nanmax", lambda m, x: m.np.nanmax(m.np.where(x > 1.0, m.np.nan, x), axis=0)),
    ("nanmedian", lambda m, x: m.np.nanmedian(m.np.where(x > 1.0, m.np.nan, x), axis=1)),
]


def _distinct(shape):
    """Distinct, well-separated values (no ties: derivatives exist)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n).reshape(shape) - n / 2) / (n / 3) + 0.01


@pytest.mark.parametrize("name,f", GRAD_REDUCTIONS, ids=[n for n, _ in GRAD_REDUCTIONS])
def test_reduction_grads(name, f):
    x = _distinct((3, 4, 5))
    check_grads(lambda x: f(FT, x), (x,), order=2, eps=1e-5)


def test_reduction_grads_on_backends(backend):
    x = backend.asarray(_distinct((3, 4, 5)))
    for name in ("prod_zeros", "median_even", "var", "cumprod"):
        f = dict(GRAD_REDUCTIONS)[name]
        check_grads(lambda x: f(FT, x), (x,), order=2, eps=1e-5)


@needs_jax
@pytest.mark.parametrize("name,f", GRAD_REDUCTIONS, ids=[n for n, _ in GRAD_REDUCTIONS])
def test_reduction_grads_beside_jax(name, f):
    x = _distinct((3, 4, 5))
    ct = RNG.normal(size=np.shape(f(NP, x)[0] if name == "average_returned" else f(NP, x)))

    def loss(m):
        def g(x):
            out = f(m, x)
            out = out[0] + out[1] if name == "average_returned" else out
            return m.np.sum(m.np.where(m.np.isnan(out), 0.0, out) * ct)
        return g
    close(ft.grad(loss(FT))(x), np.asarray(jax.grad(loss(JX))(jnp.asarray(x))), tol=1e-10)
    close(ft.hessian(lambda v: loss(FT)(x + v[0] * x))(np.ones(1)),
          np.asarray(jax.hessian(lambda v: loss(JX)(x + v[0] * x))(jnp.ones(1))), tol=1e-8)


def test_ties_convention(backend):
    """At ties max/min share the cotangent equally (a subgradient: non-negative weights on
    the tied positions summing to 1), as JAX; median gives it to the element a stable sort
    puts at the middle rank."""
    x = backend.asarray(I([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]]))
    for name, want in [("max", [[0, 0.5, 0.5, 0], [0.25] * 4]),
                       ("min", [[0, 0, 0, 1], [0.25] * 4]),
                       ("amax", [[0, 0.5, 0.5, 0], [0.25] * 4])]:
        g = _host(backend, ft.grad(lambda x: fnp.sum(getattr(fnp, name)(x, axis=1)))(x))
        close(g, np.array(want, float))
        assert np.all(g >= 0) and np.allclose(g.sum(axis=1), 1.0)
    g = _host(backend, ft.grad(lambda x: fnp.sum(fnp.ptp(x, axis=1)))(x))
    close(g, np.array([[0, 0.5, 0.5, -1], [0.0] * 4]))  # (the tied row: 1/4 - 1/4)
    g = _host(backend, ft.grad(lambda x: fnp.sum(fnp.median(x[:, :3], axis=1)))(x))
    close(g, np.array([[0, 1.0, 0, 0], [0, 1.0, 0, 0]]))  # stable order: the 2nd of equals
    g = _host(backend, ft.grad(lambda x: fnp.sum(fnp.median(x, axis=1)))(x))
    close(g, np.array([[0.5, 0.5, 0, 0], [0, 0.5, 0.5, 0]]))
    # second order at ties: the weights are piecewise constant, so no curvature
    for name in ("max", "median", "ptp"):
        h = ft.hessian(lambda x: fnp.sum(getattr(fnp, name)(x, axis=1) ** 1))(x)
        close(_host(backend, h), np.zeros((2, 4, 2, 4)))
    h = ft.hessian(lambda x: fnp.sum(fnp.max(x, axis=1) ** 2))(x)
    want = np.zeros((2, 4, 2, 4))
    w = np.array([[0, 0.5, 0.5, 0], [0.25] * 4])
    for r in range(2):
        want[r, :, r, :] = 2 * np.outer(w[r], w[r])
    close(_host(backend, h), want)


@needs_jax
def test_ties_convention_beside_jax():
    x = I([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    for name in ("max", "min", "amax"):
        f = lambda m: m.grad(lambda x: m.np.sum(getattr(m.np, name)(x, axis=1)))  # noqa
        close(ft.grad(lambda x: fnp.sum(getattr(fnp, name)(x, axis=1)))(x),
              np.asarray(f(JX)(x)))
    h = lambda hess, np_: hess(lambda x: np_.sum(np_.max(x, axis=1) ** 2))  # noqa: E731
    close(h(ft.hessian, fnp)(x), np.asarray(h(jax.hessian, jnp)(x)))


def test_reductions_under_jit_and_vmap(backend):
    x = _data((4, 3, 5))
    xb = backend.asarray(x)
    f = lambda r: (fnp.median(r, axis=1), fnp.var(r, axis=(0, 1), ddof=1, keepdims=True),  # noqa
                   fnp.argmax(r, axis=0), fnp.quantile(r, 0.25, axis=0, method="hazen"),
                   fnp.nanmean(r, axis=None), fnp.cumsum(r, axis=1))
    want = [np.stack(a) for a in zip(*[[np.asarray(v) for v in (
        np.median(r, axis=1), np.var(r, axis=(0, 1), ddof=1, keepdims=True),
        np.argmax(r, axis=0), np.quantile(r, 0.25, axis=0, method="hazen"),
        np.nanmean(r, axis=None), np.cumsum(r, axis=1))] for r in x])]
    close(_host(backend, list(ft.vmap(f)(xb))), want)
    close(_host(backend, list(ft.jit(ft.vmap(f))(xb))), want)


@needs_jax
def test_reductions_under_jit_and_vmap_beside_jax():
    x = _data((4, 3, 5))
    f = lambda m: m.jit(m.vmap(lambda r: (  # noqa: E731
        m.np.median(r, axis=1), m.np.var(r, axis=(0, 1), ddof=1, keepdims=True),
        m.np.argmax(r, axis=0), m.np.nanmean(r), m.np.cumprod(r, axis=1))))
    close([np.asarray(a) for a in f(FT)(x)], [np.asarray(a) for a in f(JX)(x)], tol=1e-10)


def test_nan_reductions_skip_nans_in_derivatives(backend):
    """The nan* reductions' derivatives: 0 at the NaNs and over all-NaN slices (no NaN
    leaks into the derivative of the rest), the closed forms elsewhere."""
    x = _data((3, 4))
    x[0, :] = np.nan
    x[1, 2] = np.nan
    xb = backend.asarray(x)
    valid = ~np.isnan(x)

    def grad_of(name):
        def f(x):
            v = getattr(fnp, name)(x, axis=1)
            return fnp.sum(fnp.where(fnp.isnan(v), 0.0, v))
        return _host(backend, ft.grad(f)(xb))
    close(grad_of("nansum"), valid * 1.0)
    close(grad_of("nanmean"), valid / np.maximum(valid.sum(1, keepdims=True), 1))
    xm = np.where(valid, x, 0.0)
    mean = xm.sum(1, keepdims=True) / np.maximum(valid.sum(1, keepdims=True), 1)
    close(grad_of("nanvar"), np.where(valid, 2 * (xm - mean) /
                                      np.maximum(valid.sum(1, keepdims=True), 1), 0.0))
    for name in ("nanmax", "nanmin", "nanmedian", "nanstd", "nanprod"):
        g = grad_of(name)
        assert np.all(np.isfinite(g)) and np.all(g[~valid] == 0.0), name
    # second order, by central differences (the NaNs put in inside: finite inputs)
    hole = backend.asarray(~valid[1:], "bool")
    check_grads(lambda x: fnp.nanvar(fnp.where(hole, fnp.nan, x), axis=1, ddof=1),
                (backend.asarray(_data((2, 4))),), order=2)


@pytest.mark.parametrize("name", ["sum", "max", "mean", "var", "any", "median", "nanmean",
                                  "ptp", "count_nonzero", "average"])
def test_reducer_axis_errors(backend, name):
    x = backend.asarray(np.ones((2, 3)))
    for axis, msg in [(2, "axis 2 is out of bounds for an array of 2 dimensions"),
                      ((-3,), "out of bounds"), ((1, -1), "repeated axis"),
                      ((0, 0), "repeated axis")]:
        with pytest.raises(ValueError):  # NumPy's AxisError and ValueError are ValueErrors
            getattr(np, name)(np.ones((2, 3)), axis=axis)
        with pytest.raises(ValueError, match=msg):
            getattr(fnp, name)(x, axis=axis)
    # an empty tuple reduces nothing (the accumulator dtype still applies)
    close(_host(backend, getattr(fnp, name)(x, axis=())), getattr(np, name)(np.ones((2, 3)),
                                                                          axis=()))
