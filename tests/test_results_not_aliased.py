"""vjp's pullbacks, jvp and linearize's tangent maps never return the caller's own cotangent or
tangent (nor a view of it) where it passes straight through (identity, ``x + y``, flip,
reshape, transpose): with in-place arithmetic on the result (``g *= lr``) the caller's array
would change. Such a result is copied, and only such a one.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import reverse


def _writable(backend, data):
    if backend.name == "numpy":
        return np.array(data, dtype=np.float64)  # (the fixture's are read-only)
    return backend.asarray(data)


def _scale_in_place(r):
    r *= 3.0
    return r


PASS_THROUGH = [
    ("identity", lambda a: a, 1),
    ("x + y", lambda a, b: a + b, 2),
    ("x - y", lambda a, b: a - b, 2),
    ("flip", lambda a: fnp.flip(a, axis=0), 1),
    ("reshape", lambda a: fnp.reshape(a, (3, 2)), 1),
    ("transpose", lambda a: a.T, 1),
    ("expand_dims", lambda a: fnp.expand_dims(a, 0), 1),
    ("tuple out", lambda a: (a, 2.0 * a), 1),
]


def _inputs(backend, n):
    x = backend.asarray(np.arange(6.0).reshape(2, 3))
    y = backend.asarray(np.ones((2, 3)))
    return (x, y)[:n]


def _cotangent_like(backend, out):
    if isinstance(out, tuple):
        return tuple(_cotangent_like(backend, o) for o in out)
    n = int(np.prod(tuple(out.shape)))
    return _writable(backend, np.arange(1.0, n + 1).reshape(tuple(out.shape)))


@pytest.mark.parametrize("name,f,n", PASS_THROUGH, ids=[c[0] for c in PASS_THROUGH])
def test_vjp_result_is_not_the_callers_cotangent(backend, name, f, n):
    args = _inputs(backend, n)
    out, pullback = ft.vjp(f, *args)
    ct = _cotangent_like(backend, out)
    kept = [backend.to_numpy(c).copy() for c in (ct if isinstance(ct, tuple) else (ct,))]
    res = pullback(ct)
    expected = [backend.to_numpy(r).copy() for r in res]
    for r in res:
        _scale_in_place(r)
    for c, k in zip(ct if isinstance(ct, tuple) else (ct,), kept):
        np.testing.assert_array_equal(backend.to_numpy(c), k)  # the caller's, unchanged
    for r, e in zip(res, expected):
        np.testing.assert_allclose(backend.to_numpy(r), 3.0 * e)
    if n == 2:  # both results got the one cotangent: two arrays, not one
        res2 = pullback(ct)
        _scale_in_place(res2[0])
        np.testing.assert_allclose(backend.to_numpy(res2[1]), expected[1])


@pytest.mark.parametrize("name,f,n", [c for c in PASS_THROUGH if c[2] == 1 and
                                      c[0] != "tuple out"],
                         ids=[c[0] for c in PASS_THROUGH if c[2] == 1 and c[0] != "tuple out"])
def test_jvp_and_linearize_results_are_not_the_callers_tangent(backend, name, f, n):
    (x,) = _inputs(backend, 1)
    t = _writable(backend, np.arange(1.0, 7.0).reshape(2, 3))
    kept = backend.to_numpy(t).copy()
    _, t_out = ft.jvp(f, (x,), (t,))
    expected = backend.to_numpy(t_out).copy()
    _scale_in_place(t_out)
    np.testing.assert_array_equal(backend.to_numpy(t), kept)
    np.testing.assert_allclose(backend.to_numpy(t_out), 3.0 * expected)
    _, f_jvp = ft.linearize(f, x)
    t_lin = f_jvp(t)
    _scale_in_place(t_lin)
    np.testing.assert_array_equal(backend.to_numpy(t), kept)
    np.testing.assert_allclose(backend.to_numpy(t_lin), 3.0 * expected)


def test_copies_only_for_pass_through(monkeypatch):
    copies = []
    real = reverse._copy
    monkeypatch.setattr(reverse, "_copy", lambda x: copies.append(1) or real(x))
    x = np.arange(3.0)
    ct = np.ones(3)
    _, pb = ft.vjp(lambda a: fnp.sin(a) * 2.0, x)
    pb(ct)
    _, t = ft.jvp(lambda a: a * 2.0, (x,), (ct,))
    ft.grad(lambda a: fnp.sum(a))(x)
    ft.grad(lambda a: fnp.sum(fnp.sin(a) * a))(x)
    assert copies == []
    _, pb = ft.vjp(lambda a: a, x)
    pb(ct)
    assert len(copies) == 1
    _, t = ft.jvp(lambda a: a, (x,), (ct,))
    assert len(copies) == 2 and t is not ct


def test_a_view_of_the_cotangent_is_copied_too():
    base = np.arange(12.0)
    ct = base[:6].reshape(2, 3)  # the caller's cotangent is itself a view
    _, pb = ft.vjp(lambda a: fnp.reshape(a, (2, 3)), np.zeros(6))
    (g,) = pb(ct)
    g *= 0.0
    np.testing.assert_array_equal(base, np.arange(12.0))


def test_traced_cotangents_are_not_copied():
    # Under a transform the cotangent is a tracer (a value, never written into): nothing to
    # copy, and no tracer type may reach the backend registry as if it were an array
    import functrans.backends as fb
    from functrans.core import Tracer
    x, ct = np.ones(3), np.arange(3.0)
    g = ft.grad(lambda c: fnp.sum(ft.vjp(lambda a: a, x)[1](c)[0] * c))(ct)
    np.testing.assert_allclose(g, 2 * ct)
    out = ft.jit(lambda c: ft.vjp(lambda a: fnp.flip(a), x)[1](c)[0])(ct)
    np.testing.assert_allclose(out, ct[::-1])
    t = ft.vmap(lambda c: ft.jvp(lambda a: a, (x,), (c,))[1])(np.ones((2, 3)))
    np.testing.assert_allclose(t, np.ones((2, 3)))
    assert not [k for k in fb._by_type if issubclass(k, Tracer)]
