"""vmap: every primitive batched equals a loop over the batch, on every backend; in_axes and
out_axes semantics; composition with the other transforms in both orders; Jacobians and
Hessians in one batched pass; errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Interpreter, Primitive, current_interpreter, reset_current, set_current
from functrans.errors import (BatchingError, ConcretizationError, MissingRuleError,
                              TracerArrayConversionError)
from functrans.primitives import indexing as I
from functrans.primitives import linalg as L
from functrans.primitives import special as _PS
from functrans.primitives import reductions as R
from functrans.primitives import sorting as So
from functrans.primitives import special as Sp
from functrans.testing import check_grads, check_vmap_loop

from .test_namespace_grads import _functrans_primitives
from .test_primitive_grads import CASES, NON_DIFFERENTIABLE

_N = max(3, settings().max_examples // 4)


class _Counter(Interpreter):
    """Counts, by name, the primitives that reach evaluation while it is current."""

    __slots__ = ("counts", "_token")

    def __init__(self):
        super().__init__(current_interpreter())
        self.counts = {}

    def process(self, prim, args, params):
        self.counts[prim.name] = self.counts.get(prim.name, 0) + 1
        return self.parent.process(prim, args, params)

    def __enter__(self):
        self._token = set_current(self)
        return self

    def __exit__(self, *exc):
        reset_current(self._token)


def _values(backend, shape, dom, rng):
    """Values of ``shape`` inside a case's input domain."""
    v = rng.uniform(dom.low, dom.high, size=shape)
    for p in dom.exclude:
        v = np.where(np.abs(v - p) < dom.margin, p + dom.margin * 1.5, v)
    return backend.asarray(v)


def test_every_primitive_has_a_batching_rule():
    for name, p in _functrans_primitives().items():
        assert p.batch is not None or p.jvp_inline is not None, f"{name}: no batching rule"


# -- every differentiable primitive: vmap == loop, with derivatives through it ----------------


# Result shapes depend on the values: vmap refuses them (test_data_dependent_...).
DATA_DEPENDENT = {"unique_all", "nonzero"}
BATCHABLE_CASES = [c for c in CASES if c.prim not in DATA_DEPENDENT]


@pytest.mark.parametrize("case", BATCHABLE_CASES, ids=repr)
def test_vmap_of_primitive_matches_a_loop(backend, case, request):
    if case.xfail.get(backend.name):
        pytest.skip(case.xfail[backend.name])
    fn = case.fn(backend)
    nargs = len(case.args)

    @settings(max_examples=_N, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(size=st.integers(1, 3), seed=st.integers(0, 2**16),
           axes=st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=nargs,
                         max_size=nargs).filter(lambda a: any(x is not None for x in a)))
    def check(size, seed, axes):
        if backend.name == "array_api_strict" and None in axes:
            # strict's `array + tracer` raises TypeError instead of deferring to the tracer
            # (docs: namespace limitations), and the cases write `x op y`.
            return
        rng = np.random.default_rng(seed)
        args, in_axes = [], []
        for (shape, dom), ax in zip(case.args, axes):
            if ax is None:
                args.append(_values(backend, shape, dom, rng))
                in_axes.append(None)
                continue
            ax = ax % (len(shape) + 1)  # any position of the new axis, also from the end
            stacked = _values(backend, (size,) + tuple(shape), dom, rng)
            args.append(backend.xp.moveaxis(stacked, 0, ax))
            in_axes.append(ax - (len(shape) + 1) if seed % 2 else ax)
        check_vmap_loop(fn, tuple(args), in_axes=tuple(in_axes))
    check()


@pytest.mark.parametrize("case", BATCHABLE_CASES, ids=repr)
def test_derivatives_through_vmap(backend, case):
    """grad/jvp/vjp of a vmapped primitive (the batching rules of the JVP and transpose
    rules' operations), checked against finite differences."""
    if case.xfail.get(backend.name):
        pytest.skip(case.xfail[backend.name])
    fn = case.fn(backend)
    rng = np.random.default_rng(1)
    args = tuple(_values(backend, (2,) + tuple(shape), dom, rng) for shape, dom in case.args)
    check_grads(ft.vmap(fn), args, order=1)


# -- primitives without a derivative ---------------------------------------------------------


def _nondiff_cases(b):
    xs = b.asarray([[0.5, -1.5, 2.5], [3.0, -0.2, 0.1]])
    ys = b.asarray([[0.5, 1.5, -2.5], [1.0, -0.2, 0.7]])
    ints = b.asarray([[3, 5, 7], [1, 2, 12]], dtype="int64")
    sorted_rows = b.asarray([[-1.0, 0.0, 1.0, 2.0], [0.0, 0.5, 0.6, 3.0]])
    return {
        "comparisons": (lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y), (xs, ys)),
        "rounding": (lambda x: (fnp.floor(x), fnp.ceil(x), fnp.trunc(x), fnp.round(x),
                                fnp.sign(x), fnp.floor_divide(x, 0.7)), (xs,)),
        "predicates": (lambda x: (fnp.isfinite(x), fnp.isinf(x / 0.5), fnp.isnan(x),
                                  fnp.signbit(x)), (xs,)),
        "bitwise": (lambda i, j: (i & j, i | j, i ^ j, ~i, i << 1, j >> 1), (ints, ints + 1)),
        "logical": (lambda x, y: (fnp.logical_and(x > 0, y > 0), fnp.logical_or(x > 0, y > 0),
                                  fnp.logical_xor(x > 0, y > 0), fnp.logical_not(x > 0)),
                    (xs, ys)),
        "index reductions": (lambda x: (fnp.argmax(x), fnp.argmin(x), fnp.argsort(x),
                                        fnp.all(x > 0), fnp.any(x > 2)), (xs,)),
        "searchsorted, batched sequence": (
            lambda s, v: fnp.searchsorted(s, v), (sorted_rows, xs)),
        "searchsorted, batched values": (
            lambda v: fnp.searchsorted(sorted_rows[0, ...], v), (xs,)),
        # the weights of a max's tied positions (its JVP's residual)
        "chooser weights": (lambda x: R.chooser_weights_p.bind(x, R.reduce_max(x, (0,)),
                                                               axes=(0,)),
                            (b.asarray([[1.0, 2.0, 2.0], [0.5, 0.5, -1.0]]),)),
        # session 27: hyp1f1's derivative in a parameter
        "hyp1f1 parameter": (lambda x: Sp.hyp1f1_param_p.bind(x * 0.5 + 1.5, x * 0.0 + 2.5,
                                                              x, wrt="a"), (xs,)),
        # session 53: the beta density's log value at large shapes (its tangent is plain's);
        # rows (0.49, 1e4, 1e4) and an ordinary shape, where it returns plain itself
        "beta log density fix": (
            lambda a, x: Sp.beta_log_density_fix(a, a, x, fnp.log(x) * (a - 1.0)),
            (b.asarray([[1e4, 1e4], [2.0, 3.0]]), b.asarray([[0.49, 0.499], [0.3, 0.6]]))),
        "schur": (lambda x: L.schur(x + b.asarray(np.diag([0.0, 3.0, 6.0])), "real", None),
                  (b.asarray(np.arange(9.0).reshape(3, 3) * 0.1),)),
        # session 15, api helper: host callbacks, once per member (or vmap_method's way)
        "callbacks": (lambda x: (ft.debug.callback(lambda v: None, x),
                                 ft.pure_callback(lambda v: v * 2.0, ft.ShapeDtypeStruct(
                                     x.shape, x.dtype), x, vmap_method="expand_dims"),
                                 ft.experimental.io_callback(lambda v: v + 1.0,
                                                             ft.ShapeDtypeStruct(
                                                                 x.shape, x.dtype), x))[1:],
                      (xs,)),
        # session 25: bitcast under vmap; polygamma's order traced by jit (its identity
        # primitive refuses d/dm)
        "bitcast, traced polygamma order": (
            lambda x: (ft.lax.bitcast_convert_type(x, fnp.int64),
                       ft.jit(lambda m, v: ft.lax.polygamma(m, v))(
                           fnp.astype(fnp.abs(x) > 1.0, x.dtype), fnp.abs(x) + 0.5)),
            (xs,)),
        # session 26: checkify's check (no results; under vmap, the first failing member's)
        "checkify check": (lambda x: (ft.experimental.checkify.check(
            fnp.all(x > -10.0), "never fails"), x * 2.0)[1], (xs,)),
        # session 27: LAPACK's pivots to the row permutation (a primitive since lu_solve
        # runs it on every call)
        "lu pivots": (lambda p: L.lu_pivots_to_permutation(p, 4),
                      (b.asarray([[1, 3, 2], [0, 2, 3]], dtype="int32"),)),
        # session 37: expm's number of squarings, per matrix (the 1-norm's count, a
        # nilpotent's 0, and one below 4.25)
        "expm squarings": (lambda x: L.expm_squarings(x), (b.asarray(
            [[[30.0, 1.0], [2.0, -40.0]], [[0.0, 1e6], [0.0, 0.0]], [[1.0, 2.0], [0.5, 1.0]]]),)),
        # session 39: expm's non-finite matrices given their eager values (one in three here)
        "expm nonfinite fix": (lambda x: L.expm_nonfinite_fix(x, x * 2.0), (b.asarray(
            [[[-np.inf, 0.0], [0.0, 1.0]], [[0.0, 1.0], [2.0, 3.0]],
             [[1.0, 2.0], [0.5, 1.0]]]),)),
        # session 40: _inc_beta's staged result given its eager values (the small-b series
        # at the first element, the value kept at the others)
        "inc beta values fix": (lambda out, b_, y: _PS.inc_beta_values_fix(
            out, fnp.full_like(out, 3.0), b_, 1.0 - y, y, out > 0.0), (
            b.asarray([0.9, 0.5, 0.999]), b.asarray([1e-8, 0.5, 1e-3]),
            b.asarray([1e-10, 0.1, 1e-4]))),
        # session 42: F's cdf given the extreme degrees of freedom's values (the second
        # element: dfd 1e30, w rounds to 1; the others kept)
        "f extreme fix": (lambda out, m, x: _PS.f_extreme_fix(
            out, fnp.full_like(out, 1e-30), m, x, upper=True), (
            b.asarray([0.5, 0.39, 0.2]), b.asarray([1.0, 1e30, 3.0]),
            b.asarray([1.0, 1e30, 2.0]))),
        # session 57: F's cdf given the first-order term of u's rounding (the first two
        # elements: shapes (5e4, 5e4); the third kept, small shapes)
        "f rounding fix": (lambda out, n, x: _PS.f_rounding_fix(
            out, n * 0.5, n * 0.5, n * x / (n * x + n), n / (n * x + n), n, x, n,
            upper=False), (
            b.asarray([1e-10, 0.3, 0.5]), b.asarray([1e5, 1e5, 3.0]),
            b.asarray([0.9605645352702292, 0.99, 1.0]))),
        "creation": (lambda x: (fnp.full_like(x, 2.0), fnp.zeros_like(x),
                                fnp.stop_gradient(x) * 2.0,
                                x[b.asarray([2, 0], dtype="int64")]), (xs,)),
    }


@pytest.mark.parametrize("name", ["comparisons", "rounding", "predicates", "bitwise", "logical",
                                  "index reductions", "searchsorted, batched sequence",
                                  "searchsorted, batched values", "chooser weights",
                                  "creation", "schur", "callbacks",
                                  "checkify check", "lu pivots", "hyp1f1 parameter",
                                  "expm squarings", "expm nonfinite fix",
                                  "inc beta values fix"])
def test_vmap_of_non_differentiable_primitives(backend, name):
    if name == "schur" and backend.name != "numpy":
        pytest.skip("schur runs on NumPy only (through SciPy)")
    f, args = _nondiff_cases(backend)[name]
    check_vmap_loop(f, args)


def test_non_differentiable_table_is_covered():
    """Every primitive without a derivative is reached by a case above (or raises)."""
    seen = set()
    b = _NumPyBackend()
    for f, args in _nondiff_cases(b).values():
        with _Counter() as rec:
            ft.vmap(f)(*args)
        seen |= set(rec.counts)
    # (matrix_nan_slope is bound only where a matrix of a stack is singular: under vmap in
    # tests/test_s36_linalg36.py)
    missing = NON_DIFFERENTIABLE - seen - {"nonzero", "iota", "matrix_nan_slope"}
    assert not missing, missing


class _NumPyBackend:
    name = "numpy"
    xp = np

    def asarray(self, data, dtype="float64"):
        return np.asarray(data, dtype=dtype)


def test_data_dependent_primitives_refuse_to_batch():
    x = np.asarray([[1.0, -1.0, 2.0], [0.0, 3.0, -4.0]])
    with pytest.raises(BatchingError, match=r"vmap cannot batch 'nonzero' \(.*x\[mask\].*where"):
        ft.vmap(lambda r: r[r > 0])(x)
    with pytest.raises(BatchingError, match=r"vmap cannot batch 'unique_all' \(.*unique_values"):
        ft.vmap(lambda r: fnp.unique_values(r))(x)
    # The fixed-shape alternative the message suggests works.
    out = ft.vmap(lambda r: fnp.sum(fnp.where(r > 0, r, 0.0)))(x)
    np.testing.assert_allclose(out, [3.0, 3.0])


def test_indexing_a_plain_array_with_a_batched_index():
    table = np.arange(5.0) ** 2
    idx = np.asarray([4, 1, 2])
    # NumPy's own indexing cannot hold a tracer: the error says what to write instead...
    with pytest.raises(TracerArrayConversionError, match=r"functrans\.numpy\.take\(x, i, axis=0\)"):
        ft.vmap(lambda i: table[i])(idx)
    # ...and that works, and is differentiable with respect to the table.
    np.testing.assert_allclose(ft.vmap(lambda i: fnp.take(table, i, axis=0))(idx), table[idx])
    g = ft.grad(lambda t: fnp.sum(ft.vmap(lambda i: fnp.take(t, i, axis=0))(idx)))(table)
    np.testing.assert_allclose(g, [0, 1, 1, 0, 1])


def test_indirect_primitives_under_vmap(backend):
    """scatter_slice (the transpose of slicing), scatter_add (of gather) and custom_vjp_lin
    (a custom_vjp function's tangent map) batched, through vmap of derivatives."""
    x = backend.asarray(np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4))
    check_vmap_loop(ft.grad(lambda m: fnp.sum(m[1:, ::2] ** 2)), (x,))
    idx = backend.asarray([2, 0, 2], dtype="int64")
    check_vmap_loop(ft.grad(lambda m: fnp.sum(fnp.take(m, idx, axis=1) ** 2)), (x,))
    check_vmap_loop(ft.grad(lambda m: fnp.sum(I.gather(m, (idx,)) ** 2)), (x,))
    f = [c for c in CASES if c.prim == "custom_vjp_call"][0].fn(backend)
    v = backend.asarray([[0.3, -0.7], [1.1, 0.2]])
    check_vmap_loop(lambda p, t: ft.jvp(f, (p,), (t,)), (v, v * 2.0))
    check_vmap_loop(ft.grad(lambda p: fnp.sum(f(p))), (v,))
    g = [c for c in CASES if c.prim == "custom_jvp_call"][0].fn(backend)
    check_vmap_loop(ft.grad(lambda p: fnp.sum(g(p))), (v,))


def test_custom_rules_survive_an_outer_transform():
    """grad outside vmap must still use the user's rule (it differs from the function's own
    derivative here on purpose)."""
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), 2.0 * t[0]  # deliberately not cos

    @ft.custom_vjp
    def h(x):
        return fnp.sin(x)
    h.defvjp(lambda x: (h(x), None), lambda res, g: (3.0 * g,))
    x = np.asarray([0.1, 0.2, 0.3])
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(ft.vmap(f)(v)))(x), 2.0)
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(ft.vmap(h)(v)))(x), 3.0)
    np.testing.assert_allclose(ft.vmap(ft.grad(f))(x), 2.0)
    np.testing.assert_allclose(ft.vmap(ft.grad(h))(x), 3.0)
    np.testing.assert_allclose(ft.jacfwd(h)(x), 3.0 * np.eye(3))

# -- in_axes / out_axes semantics ----------------------------------------------------------------


def test_in_axes_pytrees_none_negative_and_kwargs(backend):
    b = backend
    params = {"w": b.asarray(np.arange(6.0).reshape(2, 3)), "scale": b.asarray(2.0)}
    xs = b.asarray(np.arange(12.0).reshape(3, 4) / 10.0)  # batch along axis -1 (size 4)

    def f(p, x, *, shift):
        return fnp.matmul(p["w"], x) * p["scale"] + shift

    shift = b.asarray(np.arange(8.0).reshape(4, 2))
    out = ft.vmap(f, in_axes=({"w": None, "scale": None}, -1))(params, xs, shift=shift)
    expect = [b.to_numpy(f(params, xs[:, i], shift=shift[i, ...])) for i in range(4)]
    np.testing.assert_allclose(b.to_numpy(out), np.stack(expect))
    assert b.is_own(out)
    # A prefix: None for the whole dict.
    out2 = ft.vmap(f, in_axes=(None, 1))(params, xs, shift=shift)
    np.testing.assert_allclose(b.to_numpy(out2), b.to_numpy(out))


def test_out_axes_and_unbatched_outputs():
    x = np.arange(6.0).reshape(2, 3)
    c = np.asarray([10.0, 20.0])
    out = ft.vmap(lambda r: (r * 2.0, c), out_axes=(1, 0))(x)
    np.testing.assert_allclose(out[0], (x * 2.0).T)
    np.testing.assert_allclose(out[1], np.stack([c, c]))  # broadcast over the batch
    same = ft.vmap(lambda r: (r + 1.0, c), out_axes=(0, None))(x)
    np.testing.assert_allclose(same[1], c)
    np.testing.assert_allclose(ft.vmap(lambda r: r, out_axes=-1)(x), x.T)


def test_nested_vmap_is_an_outer_product():
    x, y = np.asarray([1.0, 2.0, 3.0]), np.asarray([4.0, 5.0])
    outer = ft.vmap(ft.vmap(lambda a, b: a * b, in_axes=(None, 0)), in_axes=(0, None))(x, y)
    np.testing.assert_allclose(outer, np.outer(x, y))
    # Both levels batched on the same argument.
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(ft.vmap(ft.vmap(fnp.sin))(m), np.sin(m))
    np.testing.assert_allclose(ft.vmap(ft.vmap(fnp.sum, in_axes=1), in_axes=0)(
        np.arange(24.0).reshape(2, 3, 4)), np.arange(24.0).reshape(2, 3, 4).sum(axis=1))


def test_unbatched_work_runs_once():
    """Operations that do not touch the batch are evaluated once, not per member."""
    A = np.random.default_rng(0).standard_normal((5, 5))

    def f(x):
        return fnp.sum(fnp.tanh(A @ A) @ x)  # tanh(A @ A) does not depend on x
    for n in (2, 50):
        with _Counter() as rec:
            ft.vmap(f)(np.ones((n, 5)))
        counts = rec.counts
        # A @ A is NumPy's own product; tanh of it is evaluated once, the batched product
        # once for the whole batch.
        assert counts["tanh"] == 1 and counts["matmul"] == 1, counts

# -- composition with the other transforms -------------------------------------------------------


def _soft_relu(x):
    # The seeds' soft ReLU: log(1 + exp(x)), written stably.
    return fnp.logaddexp(x, 0.0)


def test_vmap_of_grad_matches_a_loop_of_grad(backend):
    x = backend.asarray(np.linspace(-2.0, 2.0, 12).reshape(4, 3))

    def loss(v):
        return fnp.sum(_soft_relu(v) * fnp.sin(v)) + fnp.sum(v) ** 2
    check_vmap_loop(ft.grad(loss), (x,))
    check_vmap_loop(ft.hessian(loss), (x,))
    check_vmap_loop(ft.jacrev(lambda v: fnp.tanh(v) * v[0]), (x,))
    check_vmap_loop(lambda v: ft.jvp(loss, (v,), (fnp.ones_like(v),)), (x,))


def test_grad_of_vmap(backend):
    x = backend.asarray(np.linspace(-1.0, 1.0, 12).reshape(4, 3))
    w = backend.asarray([0.5, -1.0, 2.0])

    def per_row(v, w):
        return fnp.sum(fnp.tanh(fnp.multiply(v, w)) ** 2)

    g = ft.grad(lambda m: fnp.sum(ft.vmap(per_row, in_axes=(0, None))(m, w)))(x)
    loop = [backend.to_numpy(ft.grad(per_row)(x[i, ...], w)) for i in range(4)]
    np.testing.assert_allclose(backend.to_numpy(g), np.stack(loop), rtol=1e-12)
    gw = ft.grad(lambda w: fnp.sum(ft.vmap(per_row, in_axes=(0, None))(x, w)))(w)
    loopw = sum(backend.to_numpy(ft.grad(per_row, argnums=1)(x[i, ...], w)) for i in range(4))
    np.testing.assert_allclose(backend.to_numpy(gw), loopw, rtol=1e-12)
    check_grads(lambda m: ft.vmap(per_row, in_axes=(0, None))(m, w), (x,), order=2)


def test_jacfwd_of_vmap_and_vmap_of_jacobians():
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    J = ft.jacfwd(ft.vmap(fnp.sin))(x)  # (2, 3, 2, 3), diagonal
    expect = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            expect[i, j, i, j] = np.cos(x[i, j])
    np.testing.assert_allclose(J, expect)
    np.testing.assert_allclose(ft.jacrev(ft.vmap(fnp.sin))(x), expect)
    np.testing.assert_allclose(ft.vmap(ft.jacfwd(fnp.sin))(x),
                               np.stack([np.diag(np.cos(r)) for r in x]))

# -- Jacobians and Hessians --------------------------------------------------------------------


def _seeds_f(x1, x2):
    # The seeds' evaluation-trace example.
    return x1 * x2 + fnp.exp(x1 * x2) - fnp.sin(x2)


def test_jacobians_of_the_seeds_example_by_columns_and_rows():
    def f(v):
        return fnp.stack([_seeds_f(v[0], v[1]), v[0] * v[1]])
    v = np.asarray([1.5, 0.5])
    x1, x2 = v
    expect = np.asarray([[x2 + x2 * np.exp(x1 * x2), x1 + x1 * np.exp(x1 * x2) - np.cos(x2)],
                         [x2, x1]])
    np.testing.assert_allclose(ft.jacfwd(f)(v), expect)
    np.testing.assert_allclose(ft.jacrev(f)(v), expect)


def test_jacobians_with_several_inputs_and_outputs(backend):
    b = backend
    x, y = b.asarray([0.3, -0.4, 0.5]), b.asarray([[1.0, 2.0], [0.5, -1.0]])

    def f(x, y):
        return {"a": fnp.sin(x) * fnp.sum(y), "b": y * x[0]}
    jf = ft.jacfwd(f, argnums=(0, 1))(x, y)
    jr = ft.jacrev(f, argnums=(0, 1))(x, y)
    for k in ("a", "b"):
        for i in range(2):
            np.testing.assert_allclose(b.to_numpy(jf[k][i]), b.to_numpy(jr[k][i]), atol=1e-12)
            assert b.is_own(jf[k][i]) and b.is_own(jr[k][i])
    assert jf["b"][1].shape == (2, 2, 2, 2)


def test_chunk_size_gives_the_same_jacobians():
    A = np.random.default_rng(1).standard_normal((7, 5))

    def f(x):
        return fnp.tanh(A @ x) * fnp.sum(x ** 2)
    x = np.linspace(-1.0, 1.0, 5)
    full = ft.jacfwd(f)(x)
    for c in (1, 2, 4, 100):
        np.testing.assert_allclose(ft.jacfwd(f, chunk_size=c)(x), full, atol=1e-13)
        np.testing.assert_allclose(ft.jacrev(f, chunk_size=c)(x), full, atol=1e-13)
    h = ft.hessian(lambda x: fnp.sum(f(x)))(x)
    np.testing.assert_allclose(ft.hessian(lambda x: fnp.sum(f(x)), chunk_size=3)(x), h,
                               atol=1e-12)
    with pytest.raises(ValueError, match="chunk_size"):
        ft.jacfwd(f, chunk_size=0)(x)


def test_jacobian_is_one_batched_pass():
    """The number of evaluated operations does not grow with the number of basis vectors."""
    A = np.random.default_rng(0).standard_normal((300, 200))
    ops = {}
    for n in (5, 200):
        def f(x, A=A[:, :n]):
            return fnp.sum(fnp.tanh(A @ x) ** 2) + fnp.sum(x ** 4)
        for name, t in (("jacfwd", ft.jacfwd), ("jacrev", ft.jacrev), ("hessian", ft.hessian)):
            with _Counter() as rec:
                t(f)(np.linspace(-1.0, 1.0, n)) if name == "hessian" else t(ft.grad(f))(
                    np.linspace(-1.0, 1.0, n))
            ops.setdefault(name, []).append(sum(rec.counts.values()))
    for name, (small, large) in ops.items():
        assert small == large, (name, ops)

# -- errors --------------------------------------------------------------------------------------


def test_inconsistent_batch_sizes_name_the_arguments():
    with pytest.raises(BatchingError, match=r"leaf 0 \(shape \(3,\)\) axis 0 has size 3, "
                                            r"leaf 1 \(shape \(2, 4\)\) axis 1 has size 4"):
        ft.vmap(lambda a, b: a, in_axes=(0, 1))(np.ones(3), np.ones((2, 4)))
    with pytest.raises(BatchingError, match="in_axes has 1 entries but .* 2 positional"):
        ft.vmap(lambda a, b: a, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(BatchingError, match="out of range"):
        ft.vmap(lambda a: a, in_axes=2)(np.ones((2, 3)))
    with pytest.raises(BatchingError, match="float, which has no axis"):
        ft.vmap(lambda a: a)(1.0)
    with pytest.raises(BatchingError, match="axis_size"):
        ft.vmap(lambda a: a, in_axes=None)(np.ones(3))
    np.testing.assert_allclose(ft.vmap(lambda a: a * 2.0, in_axes=None, axis_size=2)(
        np.ones(3)), 2.0 * np.ones((2, 3)))
    with pytest.raises(BatchingError, match="out_axes is None"):
        ft.vmap(lambda a: a, out_axes=None)(np.ones(3))
    with pytest.raises(BatchingError, match="in_axes .* does not match"):
        ft.vmap(lambda a: a, in_axes=({"x": 0},))(np.ones(3))


def test_python_control_flow_on_a_batched_value():
    def f(x):
        return x if x > 0 else -x
    with pytest.raises(ConcretizationError, match=r"under vmap.*functrans.numpy.where"):
        ft.vmap(f)(np.asarray([1.0, -2.0]))
    # The suggested rewrite:
    np.testing.assert_allclose(ft.vmap(lambda x: fnp.where(x > 0, x, -x))(
        np.asarray([1.0, -2.0])), [1.0, 2.0])


def test_primitive_without_a_batching_rule_is_named():
    p = Primitive("test_no_batch_rule")
    p.def_impl(lambda backend, x: x * 2.0)
    p.def_abstract_eval(lambda a: a)
    with pytest.raises(MissingRuleError, match="'test_no_batch_rule' has no batching rule"):
        ft.vmap(p.bind)(np.ones((2, 3)))
    np.testing.assert_allclose(p.bind(np.ones(2)), [2.0, 2.0])


def test_vmap_does_not_mutate_inputs(backend):
    x = backend.asarray(np.arange(6.0).reshape(2, 3))
    before = backend.to_numpy(x).copy()
    ft.vmap(lambda r: fnp.sum(r * r), in_axes=1)(x)
    ft.jacrev(lambda r: r * r)(x)
    np.testing.assert_array_equal(backend.to_numpy(x), before)


def test_searchsorted_uses_the_sorted_sequences_of_each_member():
    s = np.asarray([[0.0, 1.0, 2.0], [10.0, 20.0, 30.0]])
    v = np.asarray([[1.5], [15.0]])
    np.testing.assert_array_equal(ft.vmap(lambda a, b: So.searchsorted_p.bind(
        a, b, side="left"))(s, v), [[2], [1]])
