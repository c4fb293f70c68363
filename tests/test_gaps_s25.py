"""Session 25 (helper gaps25): gaps closed (plain data beside traced values in the user's
functions of reductions and loops, ...)."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.testing import check_grads

# -- the user's plain data meets traced values inside reduce_window / reduce / loops ---------
# (array-api-strict's arrays refuse a tracer on their right: the plain value is handed to the
# user's function as a constant of the running transform, so operators work either way)

_X = np.array([[1.0, 5.0, 2.0, -1.5], [3.0, 0.25, 4.0, 2.5], [-2.0, 6.0, 0.5, 1.0]])


def _max_by_operators(a, b):
    return fnp.where(b > a, b, a)


def _add_left(a, b):
    return a + b


def _add_right(a, b):
    return b + a


def _windows(x, k):
    """NumPy's sliding (k, k) windows of a 2-d x, VALID, stride 1: shape (r, c, k, k)."""
    return np.lib.stride_tricks.sliding_window_view(x, (k, k))


def _transforms(f, x):
    """f's value eagerly and under jit, grad and jvp (the latter two's derivative)."""
    return {"eager": f(x), "jit": ft.jit(f)(x), "grad": ft.grad(f)(x),
            "jvp": ft.jvp(f, (x,), (fnp.ones_like(x),))}


@pytest.mark.parametrize("computation", [_max_by_operators, _add_left, _add_right])
def test_reduce_window_computation_by_operators_under_transforms(backend, computation):
    x = backend.asarray(_X)
    is_max = computation is _max_by_operators
    init = backend.asarray(-np.inf if is_max else 0.5)  # plain, beside a traced operand

    def f(x):
        y = lax.reduce_window(x, init, computation, (2, 2), (1, 1), "VALID")
        return fnp.sum(y * y)

    w = _windows(_X, 2)
    want_y = w.max(axis=(2, 3)) if is_max else w.sum(axis=(2, 3)) + 0.5
    want = np.sum(want_y ** 2)
    # d/dx: 2 y at each window's argmax (max), at every element of the window (sum)
    want_g = np.zeros_like(_X)
    for i in range(want_y.shape[0]):
        for j in range(want_y.shape[1]):
            win = _X[i:i + 2, j:j + 2]
            if is_max:
                a, b = np.unravel_index(np.argmax(win), win.shape)
                want_g[i + a, j + b] += 2 * want_y[i, j]
            else:
                want_g[i:i + 2, j:j + 2] += 2 * want_y[i, j]
    got = _transforms(f, x)
    for k in ("eager", "jit"):
        np.testing.assert_allclose(backend.to_numpy(got[k]), want, rtol=1e-12)
    g = got["grad"]
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), want_g, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(got["jvp"][1]), want_g.sum(), rtol=1e-12)
    # vmap over the rows of x (1-d windows of 2)
    rows = ft.vmap(lambda r: lax.reduce_window(r, init, computation, (2,), (1,), "VALID"))(x)
    wr = np.lib.stride_tricks.sliding_window_view(_X, 2, axis=1)
    np.testing.assert_allclose(backend.to_numpy(rows),
                               wr.max(-1) if is_max else wr.sum(-1) + 0.5, rtol=1e-12)


def test_reduce_window_and_reduce_traced_init_plain_operand(backend):
    x = backend.asarray(_X)  # plain; the init is what is differentiated
    for f, n_uses in (
            (lambda i: fnp.sum(lax.reduce_window(x, i, _add_right, (2, 2), (1, 1), "VALID")),
             2 * 3),  # folded into each of the 2 x 3 windows once
            (lambda i: fnp.sum(lax.reduce(x, i, _add_left, (0,))), 4),
            (lambda i: fnp.sum(lax.reduce(x, i, _add_right, (1,))), 3)):
        i0 = backend.asarray(0.75)
        g = ft.grad(f)(i0)
        np.testing.assert_allclose(backend.to_numpy(g), n_uses, rtol=1e-12)
    # the operand traced, the init plain, the computation adding the init on the left
    g = ft.grad(lambda x: fnp.sum(lax.reduce(x, backend.asarray(0.0), _add_right, (0,))))(x)
    np.testing.assert_allclose(backend.to_numpy(g), np.ones_like(_X), rtol=1e-12)


@pytest.mark.parametrize("carry_first", [True, False])
def test_scan_carry_from_plain_data_beside_traced_xs(backend, carry_first):
    xs = backend.asarray(_X)
    c0 = backend.asarray(np.array([0.5, -1.0, 2.0, 0.0]))  # plain: the user's data

    def step(c, x):
        new = c + x if carry_first else x + c
        return new, x * c if carry_first else c * x

    def f(xs):
        c, ys = lax.scan(step, c0, xs)
        return fnp.sum(c * c) + fnp.sum(ys)

    # reference: c_k = c0 + x_0 + ... + x_{k-1}
    cs = np.concatenate([[np.array([0.5, -1.0, 2.0, 0.0])], np.cumsum(_X, axis=0) +
                         np.array([0.5, -1.0, 2.0, 0.0])])
    want = np.sum(cs[-1] ** 2) + np.sum(_X * cs[:-1])
    got = _transforms(f, xs)
    for k in ("eager", "jit"):
        np.testing.assert_allclose(backend.to_numpy(got[k]), want, rtol=1e-12)
    assert backend.is_own(got["grad"])
    check_grads(f, (xs,), order=1, modes=("rev",))
    # the other way round: the carry traced (its start differentiated), xs plain
    gc = ft.grad(lambda c: fnp.sum(lax.scan(step, c, xs)[0]))(c0)
    np.testing.assert_allclose(backend.to_numpy(gc), np.ones(4), rtol=1e-12)
    # vmap over the rows: a scalar carry from plain data, each row's elements the xs
    rows = ft.vmap(lambda r: lax.scan(step, backend.asarray(1.0), r)[0])(xs)
    np.testing.assert_allclose(backend.to_numpy(rows), 1.0 + _X.sum(axis=1), rtol=1e-12)
    # lax.map: the plain elements beside a traced scale
    gm = ft.grad(lambda s: fnp.sum(lax.map(lambda r: r * s if carry_first else s * r, xs)))(
        backend.asarray(2.0))
    np.testing.assert_allclose(backend.to_numpy(gm), _X.sum(), rtol=1e-12)


def test_fori_and_while_carry_from_plain_data(backend):
    x = backend.asarray(_X[0])
    z = backend.asarray(np.zeros(4))

    def by_fori(x):
        return fnp.sum(lax.fori_loop(0, 3, lambda i, c: c + x * c + x, z))

    def by_while(x):
        return fnp.sum(lax.while_loop(lambda s: s[0] < 3,
                                      lambda s: (s[0] + 1, x + s[1] * x + s[1]), (0, z))[1])
    c = np.zeros(4)
    for _ in range(3):
        c = c + _X[0] * c + _X[0]
    for f in (by_fori, by_while):
        got = _transforms(f, x)
        for k in ("eager", "jit"):
            np.testing.assert_allclose(backend.to_numpy(got[k]), c.sum(), rtol=1e-12)
        # d/dx of c3 = (1 + x)^3 - 1, elementwise
        np.testing.assert_allclose(backend.to_numpy(got["grad"]), 3 * (1 + _X[0]) ** 2,
                                   rtol=1e-12)
        v = ft.vmap(f)(backend.asarray(_X))
        np.testing.assert_allclose(backend.to_numpy(v), ((1 + _X) ** 3 - 1).sum(axis=1),
                                   rtol=1e-12)


# -- wide unsigned integers, computed exactly on every library -------------------------------
# (torch has no CPU kernels for most uint16/32/64 operations: its backend computes them on
# int64, exactly; the reference is NumPy's, with values near 2**bits - 1 and, for uint64,
# at and above 2**63)

_UNSIGNED = ["uint16", "uint32", "uint64"]


def _edge_values(dtype):
    m = int(np.iinfo(dtype).max)
    return np.array([0, 1, 2, 3, 7, m // 2 - 1, m // 2, m // 2 + 1, m // 2 + 2, m - 2, m - 1,
                     m], dtype=dtype)


@pytest.mark.parametrize("dtype", _UNSIGNED)
def test_unsigned_binary_operations_as_numpys(backend, dtype):
    v = _edge_values(dtype)
    a_np, b_np = np.repeat(v, len(v)), np.tile(v, len(v))  # every pair
    shifts_np = np.tile(np.array([0, 1, 5, 15, 16, 31, 32, 33, 63, 64, 65, 200], dtype=dtype),
                        len(v))
    a, b, shifts = (backend.asarray(x, dtype=dtype) for x in (a_np, b_np, shifts_np))
    nonzero = b_np != 0
    a_nz, b_nz = (backend.asarray(x[nonzero], dtype=dtype) for x in (a_np, b_np))
    cases = [(name, (a, b), (a_np, b_np)) for name in (
        "add", "subtract", "multiply", "power", "maximum", "minimum", "less", "less_equal",
        "greater", "greater_equal", "equal", "bitwise_and", "bitwise_or", "bitwise_xor")]
    cases += [(name, (a, shifts), (a_np, shifts_np)) for name in ("left_shift", "right_shift")]
    cases += [(name, (a_nz, b_nz), (a_np[nonzero], b_np[nonzero]))
              for name in ("floor_divide", "remainder")]
    for name, args, np_args in cases:
        got = getattr(fnp, name)(*args)
        want = getattr(np, name)(*np_args)
        assert backend.is_own(got), name
        assert backend.to_numpy(got).dtype == want.dtype, name
        np.testing.assert_array_equal(backend.to_numpy(got), want, err_msg=name)
    # Python numbers beside the arrays, either side (the largest value included)
    m = int(np.iinfo(dtype).max)
    for s in (1, m // 2 + 1, m):
        for name in ("add", "subtract", "less", "greater_equal", "maximum", "floor_divide",
                     "remainder"):
            np.testing.assert_array_equal(
                backend.to_numpy(getattr(fnp, name)(a, s)),
                getattr(np, name)(a_np, np.asarray(s, dtype=dtype)), err_msg=f"{name} {s}")
            np.testing.assert_array_equal(
                backend.to_numpy(getattr(fnp, name)(s, b_nz)),
                getattr(np, name)(np.asarray(s, dtype=dtype), b_np[nonzero]),
                err_msg=f"{s} {name}")
    # operators, also under jit
    f = ft.jit(lambda x, y: ((x + y) * x - y) // (y | 1) + (x >> 3) + (x > y))
    want = ((a_np + b_np) * a_np - b_np) // (b_np | 1) + (a_np >> 3) + (a_np > b_np)
    np.testing.assert_array_equal(backend.to_numpy(f(a, b)), want)


@pytest.mark.parametrize("dtype", _UNSIGNED)
def test_unsigned_unary_reductions_and_sorting_as_numpys(backend, dtype):
    v = _edge_values(dtype)
    x_np = np.concatenate([v[::-1], v[3:9]]).reshape(3, 6)
    x = backend.asarray(x_np, dtype=dtype)
    flat_np = x_np.reshape(-1)
    flat = backend.asarray(flat_np, dtype=dtype)
    for name in ("negative", "abs", "sign", "bitwise_not", "square", "sort", "cumsum",
                 "count_nonzero", "flip"):
        got, want = getattr(fnp, name)(flat), getattr(np, name)(flat_np)
        np.testing.assert_array_equal(backend.to_numpy(got), want, err_msg=name)
        assert backend.to_numpy(got).dtype == np.asarray(want).dtype, name
    for name in ("max", "min", "argmax", "argmin", "sum", "prod", "ptp"):
        for axis in (None, 0, 1):
            got, want = getattr(fnp, name)(x, axis=axis), getattr(np, name)(x_np, axis=axis)
            np.testing.assert_array_equal(backend.to_numpy(got), want, err_msg=f"{name} {axis}")
            assert backend.to_numpy(got).dtype == np.asarray(want).dtype, name
    np.testing.assert_array_equal(backend.to_numpy(fnp.argsort(flat, stable=True)),
                                  np.argsort(flat_np, kind="stable"))
    for got, want in zip(fnp.unique_counts(flat), np.unique(flat_np, return_counts=True)):
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(fnp.nonzero(flat)[0]), np.nonzero(flat_np)[0])
    lo, hi = v[4], v[-3]
    np.testing.assert_array_equal(
        backend.to_numpy(fnp.clip(flat, backend.asarray(lo, dtype=dtype),
                                  backend.asarray(hi, dtype=dtype))), np.clip(flat_np, lo, hi))
    np.testing.assert_array_equal(
        backend.to_numpy(fnp.where(fnp.greater(flat, lo), flat, fnp.zeros_like(flat))),
        np.where(flat_np > lo, flat_np, 0))
    srt = np.sort(flat_np)
    np.testing.assert_array_equal(
        backend.to_numpy(fnp.searchsorted(backend.asarray(srt, dtype=dtype), flat)),
        np.searchsorted(srt, flat_np))
    # functional updates (scatters) and the transposes of reads
    idx = np.array([1, 4, 1])
    upd_np = v[-3:]
    got = ft.jit(lambda t, u: t.at[idx].add(u))(flat, backend.asarray(upd_np, dtype=dtype))
    want = flat_np.copy()
    np.add.at(want, idx, upd_np)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    got = ft.jit(lambda t, u: t.at[idx].max(u))(flat, backend.asarray(upd_np, dtype=dtype))
    want = flat_np.copy()
    np.maximum.at(want, idx, upd_np)
    np.testing.assert_array_equal(backend.to_numpy(got), want)


# -- lax.max / min / clamp of complex numbers: lexicographic, as in JAX ------------------------

_ZA = np.array([1 + 2j, 1 + 3j, 2 - 1j, -1 + 9j, 1 + 2j, 0.5 - 0.5j])
_ZB = np.array([1 + 3j, 1 + 2j, 1 + 5j, -1 + 8j, 1 + 2j, 0.25 + 4j])


def _lexicographic_greater(x, y):
    return (x.real > y.real) | ((x.real == y.real) & (x.imag > y.imag))


def test_lax_max_min_complex_values_and_derivatives(backend):
    x, y = backend.asarray(_ZA, dtype="complex128"), backend.asarray(_ZB, dtype="complex128")
    gt_, lt_ = _lexicographic_greater(_ZA, _ZB), _lexicographic_greater(_ZB, _ZA)
    want_max, want_min = np.where(gt_, _ZA, _ZB), np.where(lt_, _ZA, _ZB)
    for got, want in ((lax.max(x, y), want_max), (lax.min(x, y), want_min),
                      (fnp.maximum(x, y), want_max), (fnp.minimum(x, y), want_min),
                      (lax.clamp(0.5 + 0.5j, x, 1.5 + 0j), np.clip(_ZA, 0.5 + 0.5j, 1.5 + 0j))):
        assert backend.is_own(got)
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    # the tangent of the operand chosen; at a tie (index 4) the mean of the two, as in JAX
    tx, ty = (backend.asarray(np.full(6, t), dtype="complex128") for t in (1 + 2j, -3 + 0.5j))
    tie = ~gt_ & ~lt_
    for fn, first in ((lax.max, gt_), (lax.min, lt_)):
        _, t = ft.jvp(fn, (x, y), (tx, ty))
        want = np.where(first, 1 + 2j, np.where(tie, 0.5 * ((1 + 2j) + (-3 + 0.5j)), -3 + 0.5j))
        np.testing.assert_allclose(backend.to_numpy(t), want, rtol=1e-15)
    # away from the tie, central differences and the dot-product identity
    keep = np.array([0, 1, 2, 3, 5])
    xk, yk = (backend.asarray(v[keep], dtype="complex128") for v in (_ZA, _ZB))
    check_grads(lambda a, b: lax.max(a, b) * lax.min(a, b), (xk, yk), order=1)
    # clamp of complex numbers has no derivative (JAX refuses it too)
    with pytest.raises(TypeError, match="clamp of complex numbers has no derivative.*lax.min"):
        ft.jvp(lambda v: lax.clamp(0.5 + 0.5j, v, 1.5 + 0j), (x,), (tx,))
    with pytest.raises(TypeError, match="clamp of complex numbers has no derivative"):
        ft.grad(lambda v: fnp.sum(fnp.real(lax.clamp(0.5 + 0.5j, v, 1.5 + 0j))))(x)


def test_lax_max_min_complex_derivatives_as_jaxs():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    tx, ty = np.full(6, 1 + 2j), np.full(6, -3 + 0.5j)
    for ours, theirs in ((lax.max, jax.lax.max), (lax.min, jax.lax.min)):
        v, t = ft.jvp(ours, (_ZA, _ZB), (tx, ty))
        jv, jt = jax.jvp(theirs, (_ZA, _ZB), (tx, ty))
        np.testing.assert_array_equal(v, np.asarray(jv))
        np.testing.assert_allclose(t, np.asarray(jt), rtol=1e-15)
    with pytest.raises(TypeError):
        jax.jvp(lambda v: jax.lax.clamp(0.5 + 0.5j, v, 1.5 + 0j), (_ZA,), (tx,))
