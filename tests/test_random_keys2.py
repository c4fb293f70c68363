"""Typed keys (``key<fry>``) in functrans.numpy's and functrans.lax's structural functions,
as jax.numpy's and jax.lax's take them: each function gives the keys whose data are its result
on each of the two uint32 words (checked against NumPy applied to each word of key_data, and
against JAX where it is installed), on every backend, eagerly and under jit, vmap and loops;
and every function JAX refuses on keys (arithmetic, order, reductions, casts) refuses them
with a TypeError that names it and points to key_data."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import functrans as ft
import functrans.lax as fl
import functrans.numpy as fnp
import functrans.random as fr

try:
    import jax
    import jax.numpy as jnp
    import jax.lax as jl
except ImportError:  # the checks against NumPy still run
    jax = jnp = jl = None

# the data of the keys the cases take (functrans's own split: JAX's bits, pinned in
# tests/test_random_keys.py)
DATA = np.asarray(fr.key_data(fr.split(fr.key(7), (4, 3))), dtype=np.uint32)
DNUMS = None  # lax.GatherDimensionNumbers for the gather case, made per namespace


def _words_ref(f):
    """The reference result of a structural function: NumPy's ``f`` on each word of the
    keys' data (``f(w0, w1, ...)`` taking the words of each key operand), the results stacked
    as data again (a list of results: a list of data)."""
    def ref(*datas):
        r0 = f(*[d[..., 0] for d in datas])
        r1 = f(*[d[..., 1] for d in datas])
        if isinstance(r0, (list, tuple)):
            return [np.stack([a, b], -1) for a, b in zip(r0, r1)]
        return np.stack([r0, r1], -1)
    return ref


def _gather_dn(lax_module):
    return lax_module.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
                                             start_index_map=(0,))


def _scatter_dn(lax_module):
    return lax_module.ScatterDimensionNumbers(update_window_dims=(1,),
                                              inserted_window_dims=(0,),
                                              scatter_dims_to_operand_dims=(0,))


# name: (call(m, k, a): m the namespace (fnp/jnp or fl/jl), k keys of shape (4, 3), a(list)
# an index array of k's library; reference on the words, by NumPy)
NUMPY_CASES = {
    "transpose": (lambda m, k, a: m.transpose(k), _words_ref(np.transpose)),
    "transpose axes": (lambda m, k, a: m.transpose(k, (1, 0)), _words_ref(np.transpose)),
    "swapaxes": (lambda m, k, a: m.swapaxes(k, 0, 1), _words_ref(lambda w: w.T)),
    "moveaxis": (lambda m, k, a: m.moveaxis(k, 0, -1), _words_ref(lambda w: w.T)),
    "matrix_transpose": (lambda m, k, a: m.matrix_transpose(k), _words_ref(lambda w: w.T)),
    "ravel": (lambda m, k, a: m.ravel(k), _words_ref(np.ravel)),
    "copy": (lambda m, k, a: m.copy(k), _words_ref(np.copy)),
    "array": (lambda m, k, a: m.array(k[0], ndmin=3), _words_ref(lambda w: w[0][None, None])),
    "take": (lambda m, k, a: m.take(k, a([2, 0, 2]), axis=1),
             _words_ref(lambda w: w[:, [2, 0, 2]])),
    "take flat": (lambda m, k, a: m.take(k, a([11, 0])), _words_ref(lambda w: w.ravel()[[11, 0]])),
    "take_along_axis": (lambda m, k, a: m.take_along_axis(k, a([[2, 1, 0]] * 4), axis=1),
                        _words_ref(lambda w: w[:, ::-1])),
    "tile": (lambda m, k, a: m.tile(k, (2, 1)), _words_ref(lambda w: np.tile(w, (2, 1)))),
    "repeat": (lambda m, k, a: m.repeat(k, 2, axis=0),
               _words_ref(lambda w: np.repeat(w, 2, axis=0))),
    "roll": (lambda m, k, a: m.roll(k, 1, axis=1), _words_ref(lambda w: np.roll(w, 1, axis=1))),
    "roll flat": (lambda m, k, a: m.roll(k, 5), _words_ref(lambda w: np.roll(w, 5))),
    "split": (lambda m, k, a: m.split(k, 3, axis=1), _words_ref(lambda w: np.split(w, 3, 1))),
    "split at": (lambda m, k, a: m.split(k, [1, 3]), _words_ref(lambda w: np.split(w, [1, 3]))),
    "array_split": (lambda m, k, a: m.array_split(k, 2, axis=1),
                    _words_ref(lambda w: np.array_split(w, 2, 1))),
    "hsplit": (lambda m, k, a: m.hsplit(k, 3), _words_ref(lambda w: np.hsplit(w, 3))),
    "vsplit": (lambda m, k, a: m.vsplit(k, 2), _words_ref(lambda w: np.vsplit(w, 2))),
    "unstack": (lambda m, k, a: m.unstack(k), _words_ref(list)),
    "atleast_1d": (lambda m, k, a: m.atleast_1d(k[0, 0]), _words_ref(lambda w: w[0, :1])),
    "atleast_2d": (lambda m, k, a: m.atleast_2d(k[0]), _words_ref(lambda w: w[:1])),
    "atleast_3d": (lambda m, k, a: m.atleast_3d(k), _words_ref(lambda w: w[:, :, None])),
    "vstack": (lambda m, k, a: m.vstack([k, k[:1]]), _words_ref(lambda w: np.vstack([w, w[:1]]))),
    "hstack": (lambda m, k, a: m.hstack([k, k]), _words_ref(lambda w: np.hstack([w, w]))),
    "dstack": (lambda m, k, a: m.dstack([k, k]), _words_ref(lambda w: np.dstack([w, w]))),
    "column_stack": (lambda m, k, a: m.column_stack([k[0], k[1]]),
                     _words_ref(lambda w: np.column_stack([w[0], w[1]]))),
    "flipud": (lambda m, k, a: m.flipud(k), _words_ref(np.flipud)),
    "fliplr": (lambda m, k, a: m.fliplr(k), _words_ref(np.fliplr)),
    "rot90": (lambda m, k, a: m.rot90(k), _words_ref(np.rot90)),
    "diagonal": (lambda m, k, a: m.diagonal(k), _words_ref(np.diagonal)),
    "tril": (lambda m, k, a: m.tril(k), _words_ref(np.tril)),
    "triu": (lambda m, k, a: m.triu(k, 1), _words_ref(lambda w: np.triu(w, 1))),
    "insert": (lambda m, k, a: m.insert(k, 1, k[:, 0], axis=1),
               _words_ref(lambda w: np.insert(w, 1, w[:, 0], axis=1))),
    "delete": (lambda m, k, a: m.delete(k, 1, axis=1),
               _words_ref(lambda w: np.delete(w, 1, axis=1))),
    "append": (lambda m, k, a: m.append(k, k[:1], axis=0),
               _words_ref(lambda w: np.append(w, w[:1], axis=0))),
    "resize": (lambda m, k, a: m.resize(k, (5, 3)), _words_ref(lambda w: np.resize(w, (5, 3)))),
    "compress": (lambda m, k, a: m.compress(a([True, False, True]), k, axis=1),
                 _words_ref(lambda w: w[:, [0, 2]])),
    "extract": (lambda m, k, a: m.extract(a([[True, False, True]] * 4), k),
                _words_ref(lambda w: w[:, [0, 2]].ravel())),
    "select": (lambda m, k, a: m.select([a([True, False, True])], [k[0]], k[1]),
               _words_ref(lambda w: np.where([True, False, True], w[0], w[1]))),
    "where": (lambda m, k, a: m.where(a([True, False, True]), k, k[0]),
              _words_ref(lambda w: np.where([True, False, True], w, w[0]))),
    "meshgrid": (lambda m, k, a: m.meshgrid(k[0], k[1, :2]),
                 _words_ref(lambda w: np.meshgrid(w[0], w[1, :2]))),
    "broadcast_arrays": (lambda m, k, a: m.broadcast_arrays(k, k[0]),
                         _words_ref(lambda w: [w, np.broadcast_to(w[0], w.shape)])),
    "pad edge": (lambda m, k, a: m.pad(k, 1, mode="edge"),
                 _words_ref(lambda w: np.pad(w, 1, mode="edge"))),
    "pad wrap": (lambda m, k, a: m.pad(k, ((1, 0), (0, 2)), mode="wrap"),
                 _words_ref(lambda w: np.pad(w, ((1, 0), (0, 2)), mode="wrap"))),
    "pad reflect": (lambda m, k, a: m.pad(k, 1, mode="reflect"),
                    _words_ref(lambda w: np.pad(w, 1, mode="reflect"))),
    "put": (lambda m, k, a: m.put(k, a([1, 5]), k[2, :2], inplace=False),
            _words_ref(lambda w: _put(w.ravel(), [1, 5], w[2, :2]).reshape(4, 3))),
    "place": (lambda m, k, a: m.place(k, a(np.eye(4, 3, dtype=bool)), k[1], inplace=False),
              _words_ref(lambda w: _put(w, np.eye(4, 3, dtype=bool), w[1]))),
    "fill_diagonal": (lambda m, k, a: m.fill_diagonal(k, k[0, 1], inplace=False),
                      _words_ref(lambda w: _put(w, np.eye(4, 3, dtype=bool), w[0, 1]))),
    "zeros_like": (lambda m, k, a: m.zeros_like(k), _words_ref(np.zeros_like)),
    "ones_like": (lambda m, k, a: m.ones_like(k), _words_ref(np.ones_like)),
    "full_like": (lambda m, k, a: m.full_like(k, k[1, 2]),
                  _words_ref(lambda w: np.full_like(w, w[1, 2]))),
    "full": (lambda m, k, a: m.full((2, 2), k[1, 2]),
             _words_ref(lambda w: np.full((2, 2), w[1, 2]))),
    # (a number fills both words, as JAX's)
    "full_like number": (lambda m, k, a: m.full_like(k, 5), _words_ref(lambda w: w * 0 + 5)),
    "full number": (lambda m, k, a: m.full((2,), 7, dtype=k.dtype),
                    _words_ref(lambda w: np.full((2,), 7, np.uint32))),
    "choose": (lambda m, k, a: m.choose(a([0, 1, 0]), [k[0], k[3]]),
               _words_ref(lambda w: np.choose([0, 1, 0], [w[0], w[3]]))),
    "diagflat": (lambda m, k, a: m.diagflat(k[1]), _words_ref(lambda w: np.diagflat(w[1]))),
    "real": (lambda m, k, a: m.real(k), _words_ref(np.copy)),
    "conj": (lambda m, k, a: m.conj(k), _words_ref(np.copy)),
    "imag": (lambda m, k, a: m.imag(k), _words_ref(np.zeros_like)),
    "nan_to_num": (lambda m, k, a: m.nan_to_num(k), _words_ref(np.copy)),
    "vstack 1-d": (lambda m, k, a: m.vstack([k[0], k[1]]),
                   _words_ref(lambda w: np.vstack([w[0], w[1]]))),
    "hstack 0-d": (lambda m, k, a: m.hstack([k[0, 0], k[1, 1]]),
                   _words_ref(lambda w: np.hstack([w[0, 0], w[1, 1]]))),
    "stack": (lambda m, k, a: m.stack([k, k], axis=-1),
              _words_ref(lambda w: np.stack([w, w], -1))),
    "reshape": (lambda m, k, a: m.reshape(k, (2, 6)), _words_ref(lambda w: w.reshape(2, 6))),
    "expand_dims": (lambda m, k, a: m.expand_dims(k, 1), _words_ref(lambda w: w[:, None])),
    "flip": (lambda m, k, a: m.flip(k, 0), _words_ref(lambda w: w[::-1])),
    "stop_gradient": (lambda m, k, a: (jax.lax if m is jnp else fnp).stop_gradient(k),
                      _words_ref(np.copy)),
}

LAX_CASES = {
    "dynamic_slice": (lambda m, k, a: m.dynamic_slice(k, (1, 1), (2, 2)),
                      _words_ref(lambda w: w[1:3, 1:3])),
    "dynamic_slice clamped": (lambda m, k, a: m.dynamic_slice(k, (3, 2), (2, 2)),
                              _words_ref(lambda w: w[2:4, 1:3])),
    "dynamic_update_slice": (lambda m, k, a: m.dynamic_update_slice(k, k[:1, :2], (2, 1)),
                             _words_ref(lambda w: _put(w, (slice(2, 3), slice(1, 3)),
                                                       w[:1, :2]))),
    "dynamic_index_in_dim": (lambda m, k, a: m.dynamic_index_in_dim(k, 2, axis=1),
                             _words_ref(lambda w: w[:, 2:3])),
    "dynamic_slice_in_dim": (lambda m, k, a: m.dynamic_slice_in_dim(k, 1, 2, axis=0),
                             _words_ref(lambda w: w[1:3])),
    "dynamic_update_index_in_dim": (
        lambda m, k, a: m.dynamic_update_index_in_dim(k, k[0], 3, axis=0),
        _words_ref(lambda w: _put(w, 3, w[0]))),
    "dynamic_update_slice_in_dim": (
        lambda m, k, a: m.dynamic_update_slice_in_dim(k, k[:2], 1, axis=0),
        _words_ref(lambda w: _put(w, slice(1, 3), w[:2]))),
    "index_in_dim": (lambda m, k, a: m.index_in_dim(k, 1, axis=1, keepdims=False),
                     _words_ref(lambda w: w[:, 1])),
    "slice": (lambda m, k, a: m.slice(k, (0, 1), (4, 3), (2, 1)),
              _words_ref(lambda w: w[::2, 1:])),
    "slice_in_dim": (lambda m, k, a: m.slice_in_dim(k, 1, 3, axis=1),
                     _words_ref(lambda w: w[:, 1:3])),
    "select": (lambda m, k, a: m.select(a([[True, False, True]] * 4), k, m.rev(k, (0,))),
               _words_ref(lambda w: np.where([True, False, True], w, w[::-1]))),
    "select_n": (lambda m, k, a: m.select_n(a([[0, 1, 1]] * 4), k, m.rev(k, (1,))),
                 _words_ref(lambda w: np.where([False, True, True], w[:, ::-1], w))),
    "concatenate": (lambda m, k, a: m.concatenate([k, k[:1]], 0),
                    _words_ref(lambda w: np.concatenate([w, w[:1]]))),
    "squeeze": (lambda m, k, a: m.squeeze(k[:1], (0,)), _words_ref(lambda w: w[0])),
    "expand_dims": (lambda m, k, a: m.expand_dims(k, (0,)), _words_ref(lambda w: w[None])),
    "broadcast_in_dim": (lambda m, k, a: m.broadcast_in_dim(k, (2, 4, 3), (1, 2)),
                         _words_ref(lambda w: np.broadcast_to(w, (2, 4, 3)))),
    "transpose": (lambda m, k, a: m.transpose(k, (1, 0)), _words_ref(lambda w: w.T)),
    "reshape": (lambda m, k, a: m.reshape(k, (3, 4)), _words_ref(lambda w: w.reshape(3, 4))),
    "rev": (lambda m, k, a: m.rev(k, (0, 1)), _words_ref(lambda w: w[::-1, ::-1])),
    "collapse": (lambda m, k, a: m.collapse(k, 0, 2), _words_ref(np.ravel)),
    "gather": (lambda m, k, a: m.gather(k, a([[3], [0]]), _gather_dn(m), (1, 3)),
               _words_ref(lambda w: w[[3, 0]])),
    "scatter": (lambda m, k, a: m.scatter(k, a([[2]]), k[:1], _scatter_dn(m)),
                _words_ref(lambda w: _put(w, 2, w[0]))),
    "full_like": (lambda m, k, a: m.full_like(k, k[0, 1]),
                  _words_ref(lambda w: np.full_like(w, w[0, 1]))),
    "full number": (lambda m, k, a: m.full((3,), 2 ** 32 - 1, k.dtype),
                    _words_ref(lambda w: np.full((3,), 2 ** 32 - 1, np.uint32))),
    "convert_element_type": (lambda m, k, a: m.convert_element_type(k, k.dtype),
                             _words_ref(np.copy)),
}

AT_CASES = {
    "at set": (lambda m, k, a: k.at[1, 2].set(k[0, 0]), _words_ref(lambda w: _put(w, (1, 2),
                                                                                  w[0, 0]))),
    "at set row": (lambda m, k, a: k.at[a([3, 0])].set(k[1]),
                   _words_ref(lambda w: _put(w, [3, 0], w[1]))),
    "at get": (lambda m, k, a: k.at[a([2, 2]), 1].get(), _words_ref(lambda w: w[[2, 2], 1])),
}

CASES = ([("numpy", n, c) for n, c in NUMPY_CASES.items()]
         + [("lax", n, c) for n, c in LAX_CASES.items()]
         + [("at", n, c) for n, c in AT_CASES.items()])


def _put(w, idx, v):
    w = w.copy()
    w[idx] = v
    return w


def _keys(backend, data=DATA):
    return fr.wrap_key_data(backend.asarray(data, dtype="uint32"))


def _index_maker(backend):
    def a(v):
        v = np.asarray(v)
        return backend.asarray(v, dtype=v.dtype.name)
    return a


def _as_data(backend, r, own=True):
    if isinstance(r, (list, tuple)):
        return [_as_data(backend, o, own) for o in r]
    assert isinstance(r, fr.KeyArray), type(r)
    if not own:  # (keys made from a number: on the default backend, as fnp.full's arrays)
        return np.asarray(fr.key_data(r))
    assert backend.is_own(fr.key_data(r))
    return backend.to_numpy(fr.key_data(r))


def _jax_data(r):
    if isinstance(r, (list, tuple)):
        return [_jax_data(o) for o in r]
    assert jax.dtypes.issubdtype(r.dtype, jax.dtypes.prng_key)
    return np.asarray(jax.random.key_data(r))


def _ns(family, jax_side=False):
    if family == "lax":
        return jl if jax_side else fl
    return jnp if jax_side else fnp


def _check_equal(got, want, name):
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), name
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("family,name,case", CASES, ids=[f"{f}.{n}" for f, n, _ in CASES])
def test_structural_functions_on_keys(backend, family, name, case):
    call, ref = case
    got = call(_ns(family), _keys(backend), _index_maker(backend))
    got = _as_data(backend, list(got) if isinstance(got, tuple) else got,
                   own=name != "full number")
    assert np.asarray(got[0] if isinstance(got, list) else got).dtype == np.uint32
    _check_equal(got, ref(DATA), name)
    if jax is not None and backend.name == "numpy":
        jk = jax.random.wrap_key_data(DATA)
        want = call(_ns(family, True), jk, np.asarray)
        _check_equal(got, _jax_data(list(want) if isinstance(want, tuple) else want), name)


# under jit (the keys an argument) and vmap (over the keys' first axis): the same data as
# the eager call (row by row for vmap); these calls take any number of axes
TRANSFORMED = {
    "take": lambda m, k: m.take(k, 1, axis=-1),
    "roll": lambda m, k: m.roll(k, 1, axis=-1),
    "tile": lambda m, k: m.tile(k, 2),
    "repeat": lambda m, k: m.repeat(k, 2, axis=-1),
    "split": lambda m, k: m.split(k, 3, axis=-1)[2],
    "flip": lambda m, k: m.flip(k, -1),
    "ravel": lambda m, k: m.ravel(k),
    "zeros_like": lambda m, k: m.zeros_like(k),
    "where": lambda m, k: m.where(np.array([True, False, True]), k, m.flip(k, -1)),
    "dynamic_slice_in_dim": lambda m, k: (jl if m is jnp else fl).dynamic_slice_in_dim(
        k, 1, 2, axis=-1),
    "dynamic_update_index_in_dim": lambda m, k: (jl if m is jnp else fl)
    .dynamic_update_index_in_dim(k, k[..., 0], 2, axis=k.ndim - 1),
    "at set": lambda m, k: k.at[..., 1].set(k[..., 0]),
    "equal": lambda m, k: m.equal(k, m.roll(k, 1, axis=-1)),
}


def _plain(r):
    return np.asarray(fr.key_data(r)) if isinstance(r, fr.KeyArray) else np.asarray(r)


@pytest.mark.parametrize("name", list(TRANSFORMED))
def test_structural_functions_on_keys_under_jit_and_vmap(name):
    f = TRANSFORMED[name]
    k = fr.wrap_key_data(DATA)
    eager = _plain(f(fnp, k))
    np.testing.assert_array_equal(_plain(ft.jit(lambda k: f(fnp, k))(k)), eager)
    mapped = _plain(ft.vmap(lambda k: f(fnp, k))(k))
    rows = np.stack([_plain(f(fnp, k[i])) for i in range(k.shape[0])])
    np.testing.assert_array_equal(mapped, rows)
    if jax is not None:
        jk = jax.random.wrap_key_data(DATA)
        jf = jax.vmap(lambda k: f(jnp, k))(jk)
        jd = jax.random.key_data(jf) if jax.dtypes.issubdtype(
            jf.dtype, jax.dtypes.prng_key) else jf
        np.testing.assert_array_equal(mapped, np.asarray(jd))


def test_traced_indices_in_jit_vmap_and_loops(backend):
    k = _keys(backend)
    d = DATA
    i = backend.asarray(2, dtype="int64")
    idx = backend.asarray([3, 0, 1], dtype="int64")
    cases = [
        (ft.jit(lambda k, i: fnp.take(k, i, axis=0))(k, i), d[2]),
        (ft.jit(lambda k, i: fl.dynamic_slice(k, (i, 0), (2, 3)))(k, i), d[2:4]),
        (ft.jit(lambda k, i: fl.dynamic_update_index_in_dim(k, k[0], i, 0))(k, i),
         _put(d, 2, d[0])),
        (ft.jit(lambda k, i: k.at[i].set(k[3]))(k, i), _put(d, 2, d[3])),
        (ft.vmap(lambda j: fnp.take(k, j, axis=0))(idx), d[[3, 0, 1]]),
        (ft.vmap(lambda j: fl.dynamic_index_in_dim(k, j, 0, False))(idx), d[[3, 0, 1]]),
        (ft.vmap(lambda kk, j: fl.dynamic_index_in_dim(kk, j, 0, False))(k[:3], idx[:3] % 3),
         np.stack([d[:3][r][c] for r, c in enumerate([0, 0, 1])])),
        # loop carries: a fori_loop under jit writing row i + 1 into row i
        (ft.jit(lambda k: fl.fori_loop(
            0, 3, lambda j, c: fl.dynamic_update_index_in_dim(c, c[j + 1], j, 0), k))(k),
         np.concatenate([d[1:], d[3:]])),
        (fl.scan(lambda c, x: (fnp.roll(c, 1, axis=0), fnp.take(c, 0, axis=0)), k, None,
                 length=3)[1], d[[0, 3, 2]]),
    ]
    for n, (got, want) in enumerate(cases):
        assert isinstance(got, fr.KeyArray), n
        assert backend.is_own(fr.key_data(got)), n
        np.testing.assert_array_equal(backend.to_numpy(fr.key_data(got)), want, err_msg=str(n))


def test_comparisons_and_tests_on_keys(backend):
    k = _keys(backend)
    r = _keys(backend, np.concatenate([DATA[:2], DATA[:2]]))  # rows 2 and 3 differ from k's
    same = np.array([[True] * 3] * 2 + [[False] * 3] * 2)
    for got, want in [(fnp.equal(k, r), same), (fnp.not_equal(k, r), ~same),
                      (fl.eq(k, r), same), (fl.ne(k, r), ~same),
                      (fnp.equal(k, k[1]), np.arange(4)[:, None] == np.array([1] * 3)),
                      (fnp.isin(k, r), same), (fnp.isin(k, k[0, 1], invert=True),
                                               np.arange(12).reshape(4, 3) != 1),
                      (fnp.isnan(k), np.zeros((4, 3), bool)),
                      (fnp.isinf(k), np.zeros((4, 3), bool)),
                      (fnp.isfinite(k), np.ones((4, 3), bool))]:
        assert backend.is_own(got)
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    assert fnp.array_equal(k, k) is True and fnp.array_equal(k, r) is False
    assert fnp.array_equal(k, k[:2]) is False
    assert fnp.array_equiv(k[:1], fnp.stack([k[0]] * 3)) is True
    assert fnp.iscomplexobj(k) is False and fnp.isrealobj(k) is True
    assert fnp.result_type(k) is k.dtype and fnp.result_type(k, k.dtype) is k.dtype
    # a word equal and the other not: unequal keys (both words are compared)
    other = DATA.copy()
    other[0, 0, 1] += 1
    np.testing.assert_array_equal(backend.to_numpy(fnp.equal(k, _keys(backend, other)))[0],
                                  [False, True, True])
    if jax is not None:
        jk = jax.random.wrap_key_data(DATA)
        np.testing.assert_array_equal(np.asarray(jnp.isin(jk, jk[0, 1], invert=True)),
                                      np.arange(12).reshape(4, 3) != 1)
        assert not jnp.isnan(jk).any() and jnp.isfinite(jk).all()


def test_key_dtype_creation_and_shape_only_functions(backend):
    k = _keys(backend)
    kdt = fr.key_dtype()
    for got, want in [(fnp.zeros((2,), dtype=kdt), np.zeros((2, 2))),
                      (fnp.ones((2,), dtype=kdt), np.ones((2, 2))),
                      (fnp.asarray(k, dtype=kdt), DATA), (fnp.astype(k, kdt), DATA)]:
        assert isinstance(got, fr.KeyArray)
        np.testing.assert_array_equal(np.asarray(fr.key_data(got)) if backend.name == "numpy"
                                      and got.shape == (2,) else backend.to_numpy(
                                          fr.key_data(got)), want)
    e = fnp.empty_like(k)  # (its data are undefined, as NumPy's)
    assert isinstance(e, fr.KeyArray) and e.shape == (4, 3) and backend.is_own(fr.key_data(e))
    z = fnp.zeros_like(k, dtype=fnp.float32)  # another dtype: only the keys' shape is used
    assert backend.is_own(z) and z.shape == (4, 3) and z.dtype == backend.backend.native_dtype(
        "float32")
    np.testing.assert_array_equal(backend.to_numpy(z), 0)


# what JAX refuses on keys: (call(m, l, k), name in the message); m is the numpy namespace,
# l the lax one
REFUSED = [
    (lambda m, l, k: m.sum(k), "sum"), (lambda m, l, k: m.mean(k), "mean"),
    (lambda m, l, k: m.max(k), "max"), (lambda m, l, k: m.argmax(k), "argmax"),
    (lambda m, l, k: m.cumsum(k), "cumsum"), (lambda m, l, k: m.sort(k), "sort"),
    (lambda m, l, k: m.argsort(k), "argsort"), (lambda m, l, k: m.unique(k), "unique"),
    (lambda m, l, k: m.searchsorted(k[0], k[0]), "searchsorted"),
    (lambda m, l, k: m.add(k, k), "add"), (lambda m, l, k: m.multiply(k, k), "multiply"),
    (lambda m, l, k: m.abs(k), "abs"), (lambda m, l, k: m.negative(k), "negative"),
    (lambda m, l, k: m.sign(k), "sign"), (lambda m, l, k: m.less(k, k), "less"),
    (lambda m, l, k: m.maximum(k, k), "maximum"), (lambda m, l, k: m.clip(k, 0, 1), "clip"),
    (lambda m, l, k: m.bitwise_xor(k, k), "bitwise_xor"),
    (lambda m, l, k: m.any(k), "any"), (lambda m, l, k: m.count_nonzero(k), "count_nonzero"),
    (lambda m, l, k: m.nonzero(k), "nonzero"), (lambda m, l, k: m.trace(k), "trace"),
    (lambda m, l, k: m.astype(k, m.uint32), "astype"),
    (lambda m, l, k: m.asarray(k, dtype=m.uint32), "asarray"),
    (lambda m, l, k: m.equal(k, 0), "equal"),
    (lambda m, l, k: m.where(m.asarray([True, False, True]), k, 0), "where"),
    (lambda m, l, k: m.stack([k, m.zeros((4, 3), m.uint32)]), "stack"),
    (lambda m, l, k: m.pad(k, 1), "pad"),
    (lambda m, l, k: m.select([m.asarray([True, False, True])], [k[0]]), "select"),
    (lambda m, l, k: k.at[0].add(k[1]), "add"), (lambda m, l, k: k.at[0].min(k[1]), "min"),
    (lambda m, l, k: l.add(k, k), "add"), (lambda m, l, k: l.sort(k), "sort"),
    (lambda m, l, k: l.reduce_max(k, (0,)), "reduce_max"),
    (lambda m, l, k: l.convert_element_type(k, m.uint32), "convert_element_type"),
    (lambda m, l, k: l.scatter_add(k, m.asarray([[0]]), k[:1], _scatter_dn(l)), "scatter_add"),
    (lambda m, l, k: k + 1, "+"), (lambda m, l, k: k < k, "<"),
    # keys are never written in place
    (lambda m, l, k: m.fill_diagonal(k, k[0, 0]), "fill_diagonal"),
    (lambda m, l, k: m.put(k, m.asarray([0]), k[0, 0]), "put"),
]
# refused here; not by JAX, whose calls fail for another reason or are not refused
OURS_ONLY = {"take": lambda m, l, k: m.take(k, k[0]),  # (an index of keys: JAX casts it)
             "pad mean": lambda m, l, k: m.pad(k, 1, mode="mean"),
             "full_like float": lambda m, l, k: m.full_like(k, 0.5),
             "full_like negative": lambda m, l, k: m.full_like(k, -1)}


@pytest.mark.parametrize("i", range(len(REFUSED)))
def test_what_jax_refuses_is_refused_by_name(backend, i):
    call, name = REFUSED[i]
    k = _keys(backend)
    with pytest.raises(TypeError, match="key_data") as info:
        call(fnp, fl, k)
    assert name in str(info.value) and "key<fry>" in str(info.value)
    # the same under jit and vmap (keys traced; vmap over a new axis: the calls see (4, 3))
    with pytest.raises(TypeError, match="key_data"):
        ft.jit(lambda k: call(fnp, fl, k))(k)
    with pytest.raises(TypeError, match="key_data"):
        ft.vmap(lambda k: call(fnp, fl, k))(fnp.stack([k, k]))
    if jax is not None and backend.name == "numpy":  # the list is JAX's
        with pytest.raises((TypeError, ValueError, NotImplementedError)):
            call(jnp, jl, jax.random.wrap_key_data(DATA))


@pytest.mark.parametrize("name", list(OURS_ONLY))
def test_keys_in_the_wrong_place_are_refused(name):
    with pytest.raises(TypeError, match="key_data"):
        OURS_ONLY[name](fnp, fl, fr.wrap_key_data(DATA))


def test_the_wrapper_leaves_other_calls_as_they_were():
    """The structural functions keep their signatures and docs, and an error of a call
    without keys is that call's own (the words path is not tried)."""
    from functrans.numpy import _keys, _manipulation, _reshaping
    assert inspect.signature(fnp.tile) == inspect.signature(_manipulation.tile)
    for ns, table in ((fnp, _keys.NUMPY), (fl, _keys.LAX)):  # (the wrappers' own signatures)
        for n in table:
            w = getattr(ns, n)
            assert inspect.signature(w, follow_wrapped=False) == inspect.signature(
                w.__wrapped__, follow_wrapped=False), n
    assert fnp.transpose.__doc__ == _reshaping.transpose.__doc__
    assert fnp.transpose.__wrapped__ is _reshaping.transpose
    with pytest.raises(Exception) as direct:
        _reshaping.transpose(np.ones((2, 3)), (0, 0))
    with pytest.raises(type(direct.value)) as wrapped:
        fnp.transpose(np.ones((2, 3)), (0, 0))
    assert str(wrapped.value) == str(direct.value)
    # a wrong axis on keys: the error of that call on the words
    with pytest.raises(Exception, match="axis") as info:
        fnp.roll(fr.wrap_key_data(DATA), 1, axis=5)
    assert not isinstance(info.value, TypeError) or "key" not in str(info.value)


# the functions whose answer on keys is no keys (comparisons, tests, shape queries)
NON_KEY_ANSWERS = {"array_equal", "array_equiv", "equal", "not_equal", "isin", "isnan", "isinf",
                   "isfinite", "iscomplexobj", "isrealobj", "isscalar", "iterable", "ndim",
                   "shape", "size", "result_type", "eq", "ne"}
# calling these with keys would write files or call the keys
NOT_SWEPT = {"save", "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt",
             "fromfile", "tofile", "vectorize", "frompyfunc", "piecewise", "apply_along_axis",
             "apply_over_axes", "fromfunction", "cond", "switch", "while_loop", "fori_loop",
             "scan", "map", "custom_root", "custom_linear_solve", "associative_scan",
             "reduce", "reduce_window", "platform_dependent", "seterrcall", "set_printoptions",
             "printoptions", "errstate", "setbufsize", "seterr"}


@pytest.mark.parametrize("module", ["numpy", "lax"])
def test_no_function_computes_silently_on_the_words(module):
    """Every public function called with keys (one or two operands) gives keys, refuses them
    or fails on the call's shape; a non-key answer only where JAX gives one too."""
    ns = fnp if module == "numpy" else fl
    k = fr.split(fr.key(0), (3, 3))
    silent = []
    for n in sorted(dir(ns)):
        f = getattr(ns, n)
        if n.startswith("_") or n in NOT_SWEPT or isinstance(f, type) or not callable(f):
            continue
        for args in ((k,), (k, k), (k[0],)):
            try:
                r = f(*args)
            except Exception:
                continue  # (refused, or not a call this function takes)
            is_keys = isinstance(r, fr.KeyArray) or (
                isinstance(r, (list, tuple)) and r and
                all(isinstance(o, fr.KeyArray) for o in r))
            if not is_keys and n not in NON_KEY_ANSWERS:
                silent.append(f"{n}{args and len(args)}: {type(r).__name__}")
    assert not silent, silent
