"""NumPy's joining, splitting, reshaping, padding and creation names in functrans.numpy,
compared with NumPy itself on every backend: values, shapes, dtypes, result types (list or
tuple), the library of the results, errors, and vmap against a Python loop."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

RNG = np.random.default_rng(0)
A2 = RNG.normal(size=(3, 4))
A3 = RNG.normal(size=(2, 3, 4))
V4 = RNG.normal(size=4)
V3 = RNG.normal(size=3)
I6 = np.arange(6).reshape(2, 3)


def _check(backend, got, want, own=True, rtol=1e-13, atol=1e-14):
    """``got`` (functrans) equals ``want`` (NumPy): the container type for lists/tuples, and
    for arrays the shape, dtype, values and library."""
    if isinstance(want, (list, tuple)):
        assert type(got) is type(want), (type(got), type(want))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _check(backend, g, w, own, rtol, atol)
        return
    if own:
        assert backend.is_own(got), type(got)
    g = backend.to_numpy(got)
    w = np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


# (function name, arguments built with A = an array maker, keyword arguments)
CASES = [
    ("concatenate", lambda A: ([A(A2), A(A2[:1])],), {}),
    ("concatenate", lambda A: ([A(A2), A(A2[:, :2])],), {"axis": -1}),
    ("concatenate", lambda A: ((A(A2), A(V3)),), {"axis": None}),
    ("concatenate", lambda A: ([A(I6, "int32"), A(I6, "int64")],), {}),
    ("concatenate", lambda A: ([A(I6, "int32"), A(A2[:2, :3], "float64")],), {"axis": 1}),
    ("concatenate", lambda A: ([A(A2), A(A2)],), {"dtype": "float32"}),
    ("concatenate", lambda A: ([A(I6, "int64"), A(I6, "int32")],), {"dtype": "int16",
                                                                  "casting": "same_kind"}),
    ("concatenate", lambda A: ([A(V3, "float32"), [1.0, 2.0]],), {}),
    ("hstack", lambda A: ([A(V3), A(V4)],), {}),
    ("hstack", lambda A: ([A(A2), A(A2[:, :1])],), {}),
    ("hstack", lambda A: ((A(V3[0]), A(V4)),), {}),
    ("hstack", lambda A: ([A(V3, "float32"), A(V4, "float32")],), {"dtype": "float64"}),
    ("vstack", lambda A: ([A(V4), A(A2)],), {}),
    ("vstack", lambda A: ((A(V3), A(V3)),), {}),
    ("vstack", lambda A: ([A(V3[0]), A(V3[1])],), {}),
    ("dstack", lambda A: ([A(V3), A(V3)],), {}),
    ("dstack", lambda A: ([A(A2), A(A2[..., None])],), {}),
    ("column_stack", lambda A: ([A(V3), A(A2[:3, :2]), A(V3)],), {}),
    ("column_stack", lambda A: ((A(V4), A(V4)),), {}),
    ("transpose", lambda A: (A(A3),), {}),
    ("transpose", lambda A: (A(A3), (2, 0, 1)), {}),
    ("transpose", lambda A: (A(A3),), {"axes": [-1, 0, 1]}),
    ("transpose", lambda A: (A(V3),), {}),
    ("swapaxes", lambda A: (A(A3), 0, 2), {}),
    ("swapaxes", lambda A: (A(A3), -1, 1), {}),
    ("rollaxis", lambda A: (A(A3), 2), {}),
    ("rollaxis", lambda A: (A(A3), 0, 3), {}),
    ("rollaxis", lambda A: (A(A3), -1, 1), {}),
    ("rollaxis", lambda A: (A(A3), 1, -1), {}),
    ("ravel", lambda A: (A(A3),), {}),
    ("ravel", lambda A: (A(A3),), {"order": "F"}),
    ("ravel", lambda A: (A(I6, "int32"), "C"), {}),
    ("atleast_1d", lambda A: (A(V3[0]),), {}),
    ("atleast_1d", lambda A: (A(V3), A(V3[0]), A(A2)), {}),
    ("atleast_2d", lambda A: (A(V3[0]), A(V3)), {}),
    ("atleast_2d", lambda A: (A(A3),), {}),
    ("atleast_3d", lambda A: (A(V3[0]), A(V3), A(A2), A(A3)), {}),
    ("split", lambda A: (A(np.arange(12.0)), 3), {}),
    ("split", lambda A: (A(np.arange(12.0)), [3, 1, 20, -2]), {}),
    ("split", lambda A: (A(A2), 2), {"axis": 1}),
    ("split", lambda A: (A(A2), np.array([1, 2]), -1), {}),
    ("split", lambda A: (A(A2), np.int64(1)), {}),
    ("split", lambda A: (A(A2), []), {}),
    ("array_split", lambda A: (A(np.arange(10.0)), 3), {}),
    ("array_split", lambda A: (A(np.arange(3.0)), 5), {}),
    ("array_split", lambda A: (A(A2), [1, 1, 3]), {"axis": 1}),
    ("hsplit", lambda A: (A(A2), 2), {}),
    ("hsplit", lambda A: (A(V4), [1, 3]), {}),
    ("vsplit", lambda A: (A(A2), [1]), {}),
    ("dsplit", lambda A: (A(A3), 2), {}),
    ("copy", lambda A: (A(A2),), {}),
    ("copy", lambda A: (A(I6, "int32"),), {"order": "C"}),
    ("array", lambda A: (A(A2),), {}),
    ("array", lambda A: (A(A2),), {"dtype": "float32"}),
    ("array", lambda A: (A(A2),), {"ndmin": 4}),
    ("array", lambda A: (A(I6), "float64"), {"copy": None}),
    ("fliplr", lambda A: (A(A2),), {}),
    ("fliplr", lambda A: (A(A3),), {}),
    ("flipud", lambda A: (A(V4),), {}),
    ("flipud", lambda A: (A(A3),), {}),
    ("rot90", lambda A: (A(A2),), {}),
    ("rot90", lambda A: (A(A2), 2), {}),
    ("rot90", lambda A: (A(A2), 3), {}),
    ("rot90", lambda A: (A(A2), -1), {}),
    ("rot90", lambda A: (A(A2), 4), {}),
    ("rot90", lambda A: (A(A3), 1, (2, 0)), {}),
    ("rot90", lambda A: (A(A3),), {"k": 3, "axes": (-1, 1)}),
    ("append", lambda A: (A(A2), A(V3)), {}),
    ("append", lambda A: (A(A2), A(A2[:1])), {"axis": 0}),
    ("append", lambda A: (A(V3, "float32"), 1.5), {}),
    ("append", lambda A: (A(I6, "int32"), [[7, 8, 9]]), {"axis": 0}),
    ("delete", lambda A: (A(A2), 1, 1), {}),
    ("delete", lambda A: (A(A2), -1), {"axis": 0}),
    ("delete", lambda A: (A(A2), [0, 2, 2, -1]), {}),
    ("delete", lambda A: (A(A2), slice(None, None, 2), 1), {}),
    ("delete", lambda A: (A(A2), slice(3, 0, -2)), {}),
    ("delete", lambda A: (A(A2), np.array([True, False, True, False]), 1), {}),
    ("delete", lambda A: (A(np.arange(30.0)), [1, 2, 4, 5, 8, 11, 13, 14, 17, 19, 20, 23,
                                                 26, 28]), {}),
    ("delete", lambda A: (A(A2), []), {"axis": 0}),
    ("insert", lambda A: (A(A2), 1, 5.0, 1), {}),
    ("insert", lambda A: (A(A2), -1, A(V3)), {"axis": 1}),
    ("insert", lambda A: (A(A2), 4, A(V3)), {"axis": 1}),
    ("insert", lambda A: (A(A2), [1], [[1.0], [2.0], [3.0]]), {"axis": 1}),
    ("insert", lambda A: (A(A2), [1], [1.0, 2.0]), {"axis": 1}),
    ("insert", lambda A: (A(A2), 1, [1.0, 2.0, 3.0, 4.0]), {"axis": 0}),
    ("insert", lambda A: (A(A2), [1, 1, 3, 0], [7.0, 8.0, 9.0, 10.0], 1), {}),
    ("insert", lambda A: (A(A2), [4, 0, -2], 1.0), {}),
    ("insert", lambda A: (A(np.arange(5)), slice(None, None, 2), 9), {}),
    ("insert", lambda A: (A(I6, "int32"), 2, 7.9), {}),
    ("insert", lambda A: (A(V3), [], 1.0), {}),
    ("block", lambda A: ([[A(A2), A(A2[:, :1])], [A(A2[:1]), A(A2[:1, :1])]],), {}),
    ("block", lambda A: ([A(V3), 1.0, A(V4)],), {}),
    ("block", lambda A: ([[A(V3)], [A(V3)]],), {}),
    ("block", lambda A: ([[[A(A2)]], [[A(A2)]]],), {}),
    ("block", lambda A: (A(A2),), {}),
    ("identity", lambda A: (3,), {}),
    ("identity", lambda A: (2, "int32"), {}),
    ("tri", lambda A: (3,), {}),
    ("tri", lambda A: (3, 5, 1, int), {}),
    ("tri", lambda A: (4, 2), {"k": -1, "dtype": "float32"}),
    ("argwhere", lambda A: (A(A2) > 0,), {}),
    ("argwhere", lambda A: (A(V3),), {}),
    ("argwhere", lambda A: (A(V3[0]),), {}),
    ("flatnonzero", lambda A: (A(A2) > 0,), {}),
    ("flatnonzero", lambda A: (A(I6, "int32"),), {}),
    ("unravel_index", lambda A: (A(np.array([1, 5, 11]), "int64"), (3, 4)), {}),
    ("unravel_index", lambda A: (A(np.array([[1, 5], [7, 0]]), "int32"), (3, 4)),
     {"order": "F"}),
    ("unravel_index", lambda A: (A(np.array([0, 23]), "int64"), (2, 3, 4)), {}),
    ("ravel_multi_index", lambda A: ((A(np.array([1, 2]), "int64"),
                                      A(np.array([3, 0]), "int64")), (3, 4)), {}),
    ("ravel_multi_index", lambda A: ((A(np.array([1, 2]), "int64"),
                                      A(np.array([3, 0]), "int64")), (3, 4)), {"order": "F"}),
    ("ravel_multi_index", lambda A: ((A(np.array([4, -1]), "int64"),
                                      A(np.array([3, 5]), "int64")), (3, 4)),
     {"mode": ("wrap", "clip")}),
    ("ravel_multi_index", lambda A: ((A(np.array([[4], [-1]]), "int64"),
                                      A(np.array([3, 5, 9]), "int64")), (3, 4)),
     {"mode": "clip"}),
    ("select", lambda A: ([A(A2) > 0, A(A2) < -1], [A(A2), A(A2) * 2.0], 1.5), {}),
    ("select", lambda A: ([A(A2) > 0], [A(V4)]), {}),
    ("select", lambda A: ([A(A2) > 0], [A(A2, "float32")]), {}),
    ("select", lambda A: ([A(A2) > 0, A(A2) > 1], [A(I6[:1, :1], "int32"), 3]),
     {"default": V4}),
    ("compress", lambda A: ([True, False, True], A(A2)), {"axis": 0}),
    ("compress", lambda A: ([0, 1], A(A2)), {}),
    ("compress", lambda A: (A(np.array([True, False, False, True, False, False])), A(A2)),
     {"axis": 1}),
    ("compress", lambda A: (A(A2)[0, :] > 0, A(A2), -1), {}),
    ("resize", lambda A: (A(A2), (5, 5)), {}),
    ("resize", lambda A: (A(A2), 7), {}),
    ("resize", lambda A: (A(V3), (2, 0)), {}),
    ("resize", lambda A: (A(V3[:0]), (2, 3)), {}),
    ("resize", lambda A: (A(I6, "int32"), (4,)), {}),
    ("squeeze", lambda A: (A(A2[None, :, None]),), {}),
    ("squeeze", lambda A: (A(A2[None, :, None]), (0, 2)), {}),
    ("squeeze", lambda A: (A(A2[:, :, None]),), {"axis": -1}),
    ("expand_dims", lambda A: (A(A2), (0, 3)), {}),
    ("expand_dims", lambda A: (A(A2), -1), {}),
    ("expand_dims", lambda A: (A(A2),), {"axis": (0, -1, 2)}),
    ("logspace", lambda A: (0.0, 2.0), {"num": 5}),
    ("logspace", lambda A: (A(np.array([0.0, 1.0])), 2.0), {"num": 4, "axis": 1, "base": 2.0}),
    ("logspace", lambda A: (A(np.array(0.5)), A(np.array([1.0, 2.0]))),
     {"num": 3, "endpoint": False, "base": np.array([[2.0], [3.0]])}),
    ("logspace", lambda A: (A(np.array(1.0, dtype="float32")),
                            A(np.array(2.0, dtype="float32"))), {"num": 3}),
    ("geomspace", lambda A: (1.0, 1000.0), {"num": 4}),
    ("geomspace", lambda A: (-1.0, -1000.0, 4, False), {}),
    ("geomspace", lambda A: (A(np.array([1.0, 2.0])), A(np.array([8.0, 32.0])), 5),
     {"axis": -1}),
    ("geomspace", lambda A: (A(np.array(2.0)), 8.0, 1), {}),
    ("geomspace", lambda A: (A(np.array(2.0)), 8.0, 0), {}),
]

# Results of the default backend whatever the input (no array argument).
NO_ARRAY_INPUT = {"identity", "tri"}


def _np_maker(data, dtype="float64"):
    return np.array(data, dtype=dtype)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_against_numpy(backend, case):
    name, make_args, kwargs = case
    want = getattr(np, name)(*make_args(_np_maker), **kwargs)
    # NumPy arrays among the keyword arguments (base=, default=) become the backend's too
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    args = make_args(backend.asarray)
    got = getattr(fnp, name)(*args, **kw)
    own = name not in NO_ARRAY_INPUT and not (
        name in ("logspace", "geomspace") and not hasattr(args[0], "shape"))
    _check(backend, got, want, own=own)


# -- pad -------------------------------------------------------------------------------------


PAD_ARRAYS = [np.arange(1.0, 5.0), np.arange(1.0, 7.0).reshape(2, 3), np.array([3.0]),
              RNG.normal(size=(2, 1, 3))]
PAD_WIDTHS = [0, 1, (2, 3), [[1], [2]], 7, 13, ((0, 1), (9, 4)), {-1: (3, 0)}, {0: 2}]


def _pad_cases():
    for mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
        for i, x in enumerate(PAD_ARRAYS):
            for pw in PAD_WIDTHS:
                if not isinstance(pw, dict) and np.ndim(pw) == 2 and np.shape(pw)[0] != x.ndim \
                        and np.shape(pw) != (2, 1):
                    continue
                if np.shape(pw) == (2, 1) and x.ndim != 2:
                    continue
                kws = [{}]
                if mode in ("reflect", "symmetric"):
                    kws.append({"reflect_type": "odd"})
                if mode == "constant":
                    kws += [{"constant_values": (1.5, -2)}, {"constant_values": 7},
                            {"constant_values": [[i] for i in range(x.ndim)]}]
                for kw in kws:
                    yield pytest.param(x, pw, mode, kw, id=f"{mode}-{i}-{pw}-{kw}")


@pytest.mark.parametrize("x,pw,mode,kw", list(_pad_cases()))
def test_pad_against_numpy(backend, x, pw, mode, kw):
    _check(backend, fnp.pad(backend.asarray(x), pw, mode, **kw), np.pad(x, pw, mode, **kw))


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "bool"])
@pytest.mark.parametrize("mode,kw", [("constant", {}), ("constant", {"constant_values": 2.7}),
                                     ("edge", {}), ("reflect", {}), ("wrap", {}),
                                     ("symmetric", {})])
def test_pad_dtypes(backend, dtype, mode, kw):
    x = np.array([[1, 0, 3], [4, 5, 0]]).astype(dtype)
    if dtype == "bool" and kw:
        kw = {"constant_values": True}
    _check(backend, fnp.pad(backend.asarray(x, dtype=dtype), (1, 2), mode, **kw),
           np.pad(x, (1, 2), mode, **kw))


def test_pad_empty_mode_and_empty_arrays(backend):
    x = np.arange(6.0).reshape(2, 3)
    got = backend.to_numpy(fnp.pad(backend.asarray(x), 1, mode="empty"))
    assert got.shape == (4, 5)
    np.testing.assert_array_equal(got[1:3, 1:4], x)
    e = np.zeros((0, 3))
    _check(backend, fnp.pad(backend.asarray(e), ((0, 0), (1, 1)), "edge"),
           np.pad(e, ((0, 0), (1, 1)), "edge"))
    _check(backend, fnp.pad(backend.asarray(e), 2, constant_values=1.0),
           np.pad(e, 2, constant_values=1.0))
    with pytest.raises(ValueError, match="can't extend empty axis 0"):
        fnp.pad(backend.asarray(e), 1, "wrap")


def test_pad_traced_constant_values(backend):
    x = backend.asarray(np.arange(6.0).reshape(2, 3))
    c = backend.asarray([[1.0, 2.0], [3.0, 4.0]])
    _check(backend, fnp.pad(x, 1, constant_values=c),
           np.pad(np.arange(6.0).reshape(2, 3), 1, constant_values=[[1, 2], [3, 4]]))
    g = ft.grad(lambda c: fnp.sum(fnp.pad(x, (1, 2), constant_values=c)))(
        backend.asarray(0.5))
    # (1 + 2) * 3 + (1 + 2) * 5 padded elements
    np.testing.assert_allclose(backend.to_numpy(g), 24.0)


def test_pad_errors(backend):
    x = backend.asarray(np.arange(4.0))
    with pytest.raises(TypeError, match="integral"):
        fnp.pad(x, 1.5)
    with pytest.raises(ValueError, match="negative"):
        fnp.pad(x, (-1, 2))
    with pytest.raises(ValueError, match="mode 'bogus' is not supported"):
        fnp.pad(x, 1, "bogus")
    with pytest.raises(ValueError, match="unsupported keyword arguments for mode 'edge'"):
        fnp.pad(x, 1, "edge", constant_values=2)
    # the statistic modes and linear_ramp: tests/test_numpy_more.py
    with pytest.raises(NotImplementedError, match="callable"):
        fnp.pad(x, 1, lambda *a: None)
    with pytest.raises(ValueError, match="reflect_type"):
        fnp.pad(x, 1, "reflect", reflect_type="sideways")
    with pytest.raises(ValueError, match="broadcast"):
        fnp.pad(x, [[1, 2], [3, 4], [5, 6]])

# -- details ---------------------------------------------------------------------------------


def test_array_copies_and_nested_tracers(backend):
    x = backend.asarray(np.arange(3.0))
    y = fnp.array(x)
    assert y is not x and backend.is_own(y)
    assert fnp.array(x, copy=None) is x
    assert fnp.array(x, copy=False) is x
    with pytest.raises(ValueError, match="copy"):
        fnp.array([1.0, 2.0], copy=False)
    with pytest.raises(ValueError, match="copy"):
        fnp.array(x, dtype="float32", copy=False)
    # like= makes Python data in that array's library and device; arrays stay themselves
    assert backend.is_own(fnp.array([1.0, 2.0], like=x))
    y = fnp.array(x, like=x)
    assert y is not x and backend.is_own(y)

    # asarray's copy=False never copies either, as the standard's and NumPy's (it copied)
    with pytest.raises(ValueError, match="needs a copy"):
        fnp.asarray(x, dtype="float32", copy=False)
    with pytest.raises(ValueError, match="needs a copy"):
        fnp.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ValueError, match="needs a copy"):
        fnp.asarray([x, x], copy=False)
    if backend.name == "numpy":  # (a view with .at, of the same memory)
        assert np.shares_memory(fnp.asarray(x, dtype=fnp.float64, copy=False), x)
    with pytest.raises(ValueError, match="needs a copy"):
        ft.grad(lambda v: fnp.sum(fnp.asarray(v, dtype=fnp.float32, copy=False)))(x)
    # device=, as jax.numpy.array's (NumPy's array has none): where asarray's puts it
    dev = x.device
    y = fnp.array([[1.0, 2.0]], device=dev, ndmin=3)
    assert backend.is_own(y) and y.shape == (1, 1, 2) and y.device == dev
    y = fnp.array(x, device=dev)
    assert y is not x and backend.is_own(y)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(
        lambda v: fnp.sum(fnp.array([v, 2.0 * v], device=dev) ** 2))(x)), 10.0 * np.arange(3.0))

    def f(t):
        return fnp.sum(fnp.array([[t, 2.0 * t], [t * t, 1.0]], ndmin=3) ** 2)
    t = backend.asarray(1.5)
    g = ft.grad(f)(t)
    np.testing.assert_allclose(backend.to_numpy(g), 2 * 1.5 + 8 * 1.5 + 4 * 1.5 ** 3)
    _check(backend, fnp.copy(x), np.arange(3.0))
    assert fnp.copy(x) is not x


def test_split_returns_lists_and_atleast_tuples(backend):
    x = backend.asarray(np.arange(6.0))
    assert type(fnp.split(x, 3)) is list
    assert type(fnp.array_split(x, 4)) is list
    assert type(fnp.atleast_1d(x, x)) is tuple
    assert fnp.atleast_1d() == ()
    assert backend.is_own(fnp.atleast_2d(x))


def test_joining_the_rows_of_one_array(backend):
    # an array as the sequence to join (NumPy iterates its first axis): array-api-strict
    # refuses iteration (TypeError) and partial indices (IndexError from hstack...)
    import functrans.lax as lax
    a = np.arange(6.0).reshape(2, 3)
    A = backend.asarray(a)
    for name in ("concatenate", "concat", "stack", "hstack", "vstack", "dstack",
                 "column_stack"):
        _check(backend, getattr(fnp, name)(A), getattr(np, name)(a))
    m = np.stack([np.eye(3) * 2.0, np.eye(3) + 1.0])
    _check(backend, fnp.linalg.multi_dot(backend.asarray(m)), np.linalg.multi_dot(m))
    _check(backend, lax.stack(A), a)
    _check(backend, ft.grad(lambda x: fnp.sum(fnp.hstack(x) ** 2))(A), 2.0 * a)


def test_concatenate_casting(backend):
    i = backend.asarray(I6, dtype="int64")
    f = backend.asarray(A2[:2, :3])
    with pytest.raises(TypeError, match="same_kind"):
        fnp.concatenate([i, f], dtype="int64")
    _check(backend, fnp.concatenate([i, f], dtype="int64", casting="unsafe"),
           np.concatenate([I6, A2[:2, :3]], dtype="int64", casting="unsafe"))
    with pytest.raises(TypeError, match="'no'"):
        fnp.concatenate([i, f], casting="no")
    with pytest.raises(ValueError, match="casting must be one of"):
        fnp.concatenate([i, i], casting="nope")
    with pytest.raises(NotImplementedError, match="out="):
        fnp.concatenate([i, i], out=i)


def test_errors(backend):
    a = backend.asarray(A2)
    v = backend.asarray(V4)
    s = backend.asarray(1.0)
    with pytest.raises(ValueError, match="at least one array"):
        fnp.concatenate([])
    with pytest.raises(ValueError, match="zero-dimensional"):
        fnp.concatenate([s, s])
    with pytest.raises(ValueError, match="same number of dimensions"):
        fnp.concatenate([a, v])
    with pytest.raises(ValueError, match="equal division"):
        fnp.split(v, 3)
    with pytest.raises(ValueError, match="larger than 0"):
        fnp.array_split(v, 0)
    with pytest.raises(ValueError, match="hsplit only works"):
        fnp.hsplit(s, 1)
    with pytest.raises(ValueError, match="vsplit only works"):
        fnp.vsplit(v, 2)
    with pytest.raises(ValueError, match="dsplit only works"):
        fnp.dsplit(a, 2)
    with pytest.raises(ValueError, match="axes don't match"):
        fnp.transpose(a, (0,))
    with pytest.raises(ValueError, match="repeated axis"):
        fnp.transpose(a, (1, 1))
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.swapaxes(a, 0, 2)
    with pytest.raises(ValueError, match="'start' arg requires"):
        fnp.rollaxis(a, 0, 3)
    with pytest.raises(NotImplementedError, match="order='K'"):
        fnp.ravel(a, order="K")
    with pytest.raises(ValueError, match="order must be"):
        fnp.ravel(a, order="X")
    with pytest.raises(ValueError, match=">= 2-d"):
        fnp.fliplr(v)
    with pytest.raises(ValueError, match=">= 1-d"):
        fnp.flipud(s)
    with pytest.raises(ValueError, match="must be different"):
        fnp.rot90(a, axes=(0, -2))
    with pytest.raises(ValueError, match="len\\(axes\\) must be 2"):
        fnp.rot90(a, axes=(0, 1, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.delete(v, 4)
    with pytest.raises(ValueError, match="boolean array argument"):
        fnp.delete(v, [True, False])
    with pytest.raises(IndexError, match="integer"):
        fnp.delete(v, [1.5])
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.insert(v, 5, 1.0)
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.insert(v, [0, -5], 1.0)
    with pytest.raises(ValueError, match="one dimensional or scalar"):
        fnp.insert(v, [[0]], 1.0)
    with pytest.raises(TypeError, match="boolean obj"):
        fnp.insert(v, [True, False, True, True], 1.0)
    with pytest.raises(TypeError, match="tuple"):
        fnp.block((a, a))
    with pytest.raises(ValueError, match="cannot be empty"):
        fnp.block([a, []])
    with pytest.raises(ValueError, match="depths are mismatched"):
        fnp.block([a, [a]])
    with pytest.raises(ValueError, match="same length"):
        fnp.select([a > 0], [a, a])
    with pytest.raises(ValueError, match="empty condition list"):
        fnp.select([], [])
    with pytest.raises(TypeError, match="invalid entry 0 in condlist"):
        fnp.select([a], [a])
    with pytest.raises(IndexError, match="beyond the axis length"):
        fnp.compress([False] * 4 + [True], v)
    with pytest.raises(ValueError, match="1-d"):
        fnp.compress([[True]], v)
    with pytest.raises(ValueError, match="non-negative"):
        fnp.resize(v, (-1, 2))
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.unravel_index(backend.asarray(np.array([1, 12]), dtype="int64"), (3, 4))
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.unravel_index(-1, (3, 4))
    with pytest.raises(TypeError, match="integer"):
        fnp.unravel_index(backend.asarray(np.array([1.0])), (3, 4))
    with pytest.raises(ValueError, match="invalid entry in coordinates"):
        fnp.ravel_multi_index((backend.asarray(np.array([3]), dtype="int64"),
                               backend.asarray(np.array([0]), dtype="int64")), (3, 4))
    with pytest.raises(ValueError, match="sequence of length 2"):
        fnp.ravel_multi_index((backend.asarray(np.array([1]), dtype="int64"),), (3, 4))
    with pytest.raises(ValueError, match="clipmode"):
        fnp.ravel_multi_index(([1], [1]), (3, 4), mode="bogus")
    with pytest.raises(ValueError, match="cannot include zero"):
        fnp.geomspace(0.0, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        fnp.logspace(0.0, 1.0, -1)
    with pytest.raises(ValueError, match="size not equal to one"):
        fnp.squeeze(a, axis=0)
    with pytest.raises(ValueError, match="repeated axis"):
        fnp.expand_dims(a, (1, 1))
    with pytest.raises(TypeError, match="like= must be an array"):
        fnp.identity(3, like=[1.0])


def test_standard_calls_unchanged(backend):
    """The standard's forms of squeeze/expand_dims/roll/repeat behave as before."""
    a = backend.asarray(A2[None])
    _check(backend, fnp.squeeze(a, axis=0), A2)
    _check(backend, fnp.squeeze(a, 0), A2)
    _check(backend, fnp.expand_dims(backend.asarray(A2)), A2[None])
    _check(backend, fnp.expand_dims(backend.asarray(A2), axis=1), A2[:, None])
    _check(backend, fnp.roll(backend.asarray(A2), 1, 1), np.roll(A2, 1, 1))
    _check(backend, fnp.repeat(backend.asarray(A2), 2, 0), np.repeat(A2, 2, 0))


def test_no_input_is_mutated(backend):
    x = backend.asarray(A2)
    before = backend.to_numpy(x).copy()
    fnp.insert(x, [1, 2], 0.0, axis=1)
    fnp.delete(x, 1)
    fnp.pad(x, 2, "reflect")
    fnp.resize(x, (5, 5))
    fnp.append(x, x)
    np.testing.assert_array_equal(backend.to_numpy(x), before)

# -- transforms ------------------------------------------------------------------------------


VMAPPED = [
    ("concatenate", lambda x: fnp.concatenate([x, 2.0 * x[:1, :]], axis=0)),
    ("hstack", lambda x: fnp.hstack([x, x])),
    ("transpose", lambda x: fnp.transpose(x)),
    ("split", lambda x: fnp.split(x, [1, 3], axis=-1)),
    ("insert", lambda x: fnp.insert(x, [0, 2, 2], 5.0, axis=1)),
    ("delete", lambda x: fnp.delete(x, [0, 2], axis=1)),
    ("pad", lambda x: fnp.pad(x, ((1, 2), (7, 1)), mode="reflect")),
    ("pad_constant", lambda x: fnp.pad(x, 1, constant_values=(x[0, 0], 2.0))),
    ("rot90", lambda x: fnp.rot90(x, 3)),
    ("block", lambda x: fnp.block([[x, x], [x, x]])),
    ("resize", lambda x: fnp.resize(x, (3, 5))),
    ("select", lambda x: fnp.select([x > 0, x < -1], [x, x * x], default=x[0, 0])),
    ("logspace", lambda x: fnp.logspace(x[0, 0], x[1, 1], 4)),
    ("unravel_index", lambda x: fnp.unravel_index(fnp.astype(fnp.abs(x * 2.0), fnp.int64),
                                                  (3, 4))),
]


@pytest.mark.parametrize("name,f", VMAPPED, ids=[v[0] for v in VMAPPED])
def test_vmap_matches_a_loop(backend, name, f):
    xs = RNG.normal(size=(3, 2, 4))
    got = ft.vmap(f)(backend.asarray(xs))
    want = [f(backend.asarray(x)) for x in xs]

    def leaves(t):
        return list(t) if isinstance(t, (list, tuple)) else [t]
    got_l = leaves(got)
    for i, w in enumerate(want):
        for g, wl in zip(got_l, leaves(w)):
            assert backend.is_own(g)
            np.testing.assert_allclose(backend.to_numpy(g)[i], backend.to_numpy(wl),
                                       rtol=1e-13, atol=1e-14)


def test_grad_of_insert_and_delete(backend):
    x = backend.asarray(np.arange(1.0, 5.0))

    def f(x, v):
        y = fnp.insert(fnp.delete(x, [0, 2]), [0, 1], v)
        return fnp.sum(y * fnp.arange(1.0, 5.0, device=fnp.device(y)))
    gx, gv = ft.grad(f, argnums=(0, 1))(x, backend.asarray(3.0))
    # y = [v, x1, v, x3] weighted 1..4
    np.testing.assert_allclose(backend.to_numpy(gx), [0.0, 2.0, 0.0, 4.0])
    np.testing.assert_allclose(backend.to_numpy(gv), 4.0)


def test_jit_of_data_dependent_functions_raises(backend):
    from functrans.errors import ConcretizationError
    x = backend.asarray(A2)
    for f in (lambda x: fnp.argwhere(x > 0), lambda x: fnp.flatnonzero(x),
              lambda x: fnp.compress(x[0, :] > 0, x, axis=1)):
        with pytest.raises(ConcretizationError):
            ft.jit(f)(x)
    _check(backend, ft.jit(lambda x: fnp.pad(x, 5, "symmetric"))(x), np.pad(A2, 5, "symmetric"))


def test_joins_promote_as_the_rest_of_the_namespace(backend):
    """An integer array joined with a float32 one gives float32, as ``concat`` and every
    arithmetic function of the namespace do (JAX's rule; NumPy gives float64)."""
    i, f = backend.asarray(np.ones((2, 2)), "int32"), backend.asarray(np.ones((2, 2)), "float32")
    for out in (fnp.concatenate([i, f]), fnp.concat([i, f]), fnp.vstack([i, f]),
                fnp.hstack([i, f]), fnp.stack([i, f]), fnp.add(i, f)):
        assert fnp.float32 == out.dtype and backend.is_own(out)


@pytest.mark.parametrize("obj", [0, -1, [0], [1, 2], [-1, 0], slice(0, 2)])
@pytest.mark.parametrize("vshape", [(1, 1), (1, 1, 2), (1, 2), (1, 1, 1), (1, 1, 3)])
@pytest.mark.parametrize("shape, axis", [((5,), None), ((2, 3), 0), ((2, 3), 1), ((2, 3), -1)])
def test_insert_values_with_extra_leading_axes(backend, obj, vshape, shape, axis):
    # NumPy assigns the values into the result: leading length-1 axes beyond the array's
    # dimensions are dropped (they used to raise ShapeError here); where NumPy cannot
    # broadcast them, a ValueError
    a = np.arange(float(np.prod(shape))).reshape(shape)
    v = np.arange(1.0, 1.0 + np.prod(vshape)).reshape(vshape)
    try:
        want = np.insert(a, obj, v, axis=axis)
    except ValueError:
        with pytest.raises(ValueError):
            fnp.insert(backend.asarray(a), obj, backend.asarray(v), axis=axis)
        return
    _check(backend, fnp.insert(backend.asarray(a), obj, backend.asarray(v), axis=axis), want)


def test_insert_values_extra_axes_not_one_raise(backend):
    with pytest.raises(ValueError, match="insert: could not broadcast"):
        fnp.insert(backend.asarray(np.arange(5.0)), [0, 1], backend.asarray(np.ones((2, 2))))
