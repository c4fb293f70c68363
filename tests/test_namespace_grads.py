"""Every differentiable function of functrans.numpy, checked numerically.

A table of specs (function, input domains, shapes) expanded over the backends: JVPs against
central finite differences and VJPs by the dot-product identity, to second order
(``functrans.testing.check_grads``). A meta-test keeps the table complete: every primitive
has its rules and is reached by the table, and every public function of the namespace is
either in the table or listed as having no derivative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import EVAL, Interpreter, registry, reset_current, set_current
from functrans.testing import check_grads

from ._second_device import check_derivatives

LA = fnp.linalg

# -- input domains: NumPy data, drawn where each function is smooth ---------------------------


def _sample(domain, shape, rng):
    if domain == "real":
        return rng.uniform(-1.5, 1.5, shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":
        return rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "unit":
        return rng.uniform(-0.8, 0.8, shape)
    if domain == "gt1":
        return rng.uniform(1.3, 3.0, shape)
    if domain == "frac":  # away from integers and halves: rounding is locally constant
        return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape)
    if domain == "rem_x":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "rem_y":
        return rng.uniform(2.5, 3.0, shape)
    if domain == "distinct":  # well separated values (sorting, max, unique)
        n = int(np.prod(shape))
        return (rng.permutation(n) + rng.uniform(0.2, 0.8, n)).reshape(shape) * 0.5
    if domain == "spd":  # symmetric positive definite, distinct eigenvalues
        n = shape[-1]
        q, _ = np.linalg.qr(rng.normal(size=shape))
        w = np.arange(1, n + 1) + rng.uniform(0.1, 0.4, n)
        return (q * w) @ np.swapaxes(q, -1, -2)
    if domain == "mat":  # well conditioned
        n = shape[-1]
        return rng.normal(size=shape) * 0.3 + np.eye(shape[-2], n) * 2.0
    raise ValueError(domain)


class Spec:
    def __init__(self, name, fn, domains, shapes, order=2, fwd_only=False, backends=None,
                 atol=None, rtol=None, data_dependent=False, one_shape_on=()):
        self.name, self.fn, self.domains, self.shapes = name, fn, domains, shapes
        self.order, self.fwd_only, self.backends = order, fwd_only, backends
        # backends (slow for this function) on which only the last shape is checked
        self.one_shape_on = one_shape_on
        self.atol, self.rtol = atol, rtol
        # a result whose shape depends on the operands' values: jit refuses it
        self.data_dependent = data_dependent


U_SHAPES = [((),), ((3,),), ((2, 3),)]
B_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3))]
R_SHAPES = [((4,),), ((2, 3),)]


def _zero_second(x):
    """``x`` with its second element replaced by 0 (products through a zero)."""
    return fnp.concat([x[:1], x[1:2] * 0.0, x[2:]])


class _NumPy:
    def asarray(self, data, dtype="float64"):
        return np.asarray(data, dtype=dtype)


def _sym(a):
    return (a + fnp.matrix_transpose(a)) * 0.5


def unary(name, domain="real", fn=None, shapes=U_SHAPES, **kw):
    return Spec(name, fn or getattr(fnp, name), [domain], shapes, **kw)


def binary(name, d1="real", d2="real", fn=None, shapes=B_SHAPES, **kw):
    return Spec(name, fn or getattr(fnp, name), [d1, d2], shapes, **kw)


TABLE = [
    # elementwise, one operand
    unary("abs", "nonzero"), unary("acos", "unit"), unary("acosh", "gt1"),
    unary("asin", "unit"), unary("asinh"), unary("atan"), unary("atanh", "unit"),
    unary("ceil", "frac"), unary("conj"), unary("cos"), unary("cosh"), unary("exp"),
    unary("expm1"), unary("floor", "frac"), unary("imag"), unary("log", "pos"),
    unary("log1p", "pos"), unary("log2", "pos"), unary("log10", "pos"), unary("negative"),
    unary("positive"), unary("real"), unary("reciprocal", "nonzero"),
    unary("round", "frac"), unary("sign", "nonzero"), unary("sin"), unary("sinh"),
    unary("sqrt", "pos"), unary("square"), unary("tan", "unit"), unary("tanh"),
    unary("trunc", "frac"),
    unary("complex_parts", fn=lambda x: fnp.real(fnp.astype(x, fnp.complex128) * (1 + 2j))
          + fnp.imag(fnp.astype(x, fnp.complex128) * (2 - 1j))
          + fnp.abs(fnp.astype(x, fnp.complex128) * (1 - 1j))
          + fnp.real(fnp.conj(fnp.exp(fnp.astype(x, fnp.complex128) * 1j)))),
    # elementwise, two operands (with broadcasting)
    binary("add"), binary("subtract"), binary("multiply"), binary("divide", "real", "nonzero"),
    binary("atan2", "nonzero", "nonzero"), binary("copysign", "nonzero", "nonzero"),
    binary("floor_divide", "rem_x", "rem_y"), binary("hypot", "nonzero", "nonzero"),
    binary("logaddexp"), binary("maximum", "distinct", "distinct", shapes=B_SHAPES[:2]),
    binary("minimum", "distinct", "distinct", shapes=B_SHAPES[:2]),
    binary("nextafter", "nonzero", "nonzero"), binary("pow", "pos", "real"),
    binary("remainder", "rem_x", "rem_y"),
    binary("pow_scalar", "pos", fn=lambda x: x ** 2.5 + 3.0 ** x - 1.5 / x,
           shapes=U_SHAPES, d2=None),
    Spec("clip", lambda x, lo, hi: fnp.clip(x, lo, hi), ["real", "unit", "gt1"],
         [((), (), ()), ((2, 3), (3,), (2, 1))]),
    unary("clip_scalar", fn=lambda x: fnp.clip(x, -0.55, 0.65)),
    binary("where", "nonzero", "real", fn=lambda x, y: fnp.where(x > 0, x, y)),
    # reductions and statistics
    unary("sum", fn=lambda x: fnp.sum(x, axis=-1, keepdims=True), shapes=R_SHAPES),
    unary("prod", fn=lambda x: fnp.prod(x, axis=0), shapes=R_SHAPES),
    unary("prod_zero", fn=lambda x: fnp.prod(_zero_second(x)),
          shapes=[((4,),)]),
    unary("mean", fn=lambda x: fnp.mean(x, axis=0), shapes=R_SHAPES),
    unary("max", "distinct", fn=lambda x: fnp.max(x, axis=-1), shapes=R_SHAPES),
    unary("min", "distinct", fn=lambda x: fnp.min(x), shapes=R_SHAPES),
    unary("std", fn=lambda x: fnp.std(x, axis=-1, correction=1), shapes=R_SHAPES),
    unary("var", fn=lambda x: fnp.var(x), shapes=R_SHAPES),
    unary("cumulative_sum", fn=lambda x: fnp.cumulative_sum(x, axis=-1, include_initial=True),
          shapes=R_SHAPES),
    unary("cumulative_prod", fn=lambda x: fnp.cumulative_prod(x, axis=0), shapes=R_SHAPES),
    unary("cumulative_prod_zero",
          fn=lambda x: fnp.cumulative_prod(_zero_second(x)),
          shapes=[((4,),)]),
    unary("diff", fn=lambda x: fnp.diff(x, n=2, prepend=x[..., :1]), shapes=R_SHAPES),
    # manipulation
    unary("astype", fn=lambda x: fnp.astype(x, fnp.float64)),
    unary("broadcast_to", fn=lambda x: fnp.broadcast_to(x, (2, 3)),
          shapes=[((),), ((3,),), ((2, 1),)]),
    binary("broadcast_arrays", fn=lambda x, y: fnp.broadcast_arrays(x, y),
           shapes=[((2, 1), (3,))]),
    binary("concat", fn=lambda x, y: fnp.concat([x, y], axis=-1),
           shapes=[((2,), (3,)), ((2, 3), (2, 1))]),
    unary("expand_dims", fn=lambda x: fnp.expand_dims(x, axis=-1)),
    unary("flip", fn=lambda x: fnp.flip(x, axis=-1), shapes=R_SHAPES),
    unary("moveaxis", fn=lambda x: fnp.moveaxis(x, 0, -1), shapes=[((2, 3, 4),)]),
    unary("permute_dims", fn=lambda x: fnp.permute_dims(x, (2, 0, 1)), shapes=[((2, 3, 4),)]),
    unary("matrix_transpose", fn=fnp.matrix_transpose, shapes=[((2, 3),)]),
    unary("repeat", fn=lambda x: fnp.repeat(x, 2, axis=0), shapes=R_SHAPES),
    unary("repeat_array", fn=lambda x: fnp.repeat(x, fnp.argsort(x[..., 0, :]), axis=-1),
          shapes=[((2, 3),)], order=1),
    unary("reshape", fn=lambda x: fnp.reshape(x, (-1, 2)), shapes=[((2, 3),)]),
    unary("roll", fn=lambda x: fnp.roll(x, 2, axis=-1), shapes=R_SHAPES),
    unary("roll_flat", fn=lambda x: fnp.roll(x, -1), shapes=R_SHAPES),
    # NumPy integers as the shift and axis (np.int64 is no Python int)
    unary("roll_numpy_ints", fn=lambda x: fnp.roll(x, np.int64(1), axis=np.int32(-1)),
          shapes=R_SHAPES),
    unary("squeeze", fn=lambda x: fnp.squeeze(x, axis=1), shapes=[((2, 1, 3),)]),
    binary("stack", fn=lambda x, y: fnp.stack([x, y], axis=-1), shapes=[((3,), (3,))]),
    unary("tile", fn=lambda x: fnp.tile(x, (2, 1, 2)), shapes=R_SHAPES),
    unary("unstack", fn=lambda x: fnp.unstack(x, axis=1), shapes=[((2, 3),)]),
    unary("tril", fn=lambda x: fnp.tril(x, k=-1), shapes=[((3, 3),), ((2, 3, 4),)]),
    unary("triu", fn=lambda x: fnp.triu(x, k=1), shapes=[((3, 3),)]),
    # creation functions that take arrays
    unary("asarray", fn=lambda x: fnp.asarray([x, 2.0 * x]), shapes=[((),), ((2,),)]),
    unary("full", fn=lambda x: fnp.full((2, 2), x), shapes=[((),)]),
    unary("full_like", fn=lambda x: fnp.full_like(fnp.stack([x, x]), x), shapes=[((),)]),
    binary("linspace", fn=lambda x, y: fnp.linspace(x, y, 5), shapes=[((), ())]),
    binary("meshgrid", fn=lambda x, y: fnp.meshgrid(x, y), shapes=[((2,), (3,))]),
    # indexing
    unary("getitem_basic", fn=lambda x: (x[1:, ::2], x[None, 0, :, None][0, 1:-1:2, 0]),
          shapes=[((3, 4),)]),
    unary("getitem_int_array", fn=lambda x: x[fnp.flip(fnp.argsort(x[:, 0])), 1],
          shapes=[((3, 4),)]),
    unary("getitem_two_arrays", fn=lambda x: x[1, fnp.argsort(x[0, :, 0]), fnp.argmin(x[0, ...], axis=1)],
          shapes=[((2, 3, 4),)]),
    unary("getitem_repeated", fn=lambda x: x[fnp.stack([fnp.argmax(x)] * 3)],
          shapes=[((4,),)]),
    unary("getitem_mask", "nonzero", fn=lambda x: x[x > 0], shapes=[((6,),), ((2, 3),)]),
    unary("getitem_mask_axis", "nonzero", fn=lambda x: x[:, x[0, :] > 0], shapes=[((2, 5),)],
          backends=("numpy", "torch", "cupy")),  # array-api-strict: masks only alone
    unary("getitem_mixed", fn=lambda x: x[..., fnp.argsort(x[0, :, 0]), None, 1:3],
          shapes=[((2, 3, 4),)], backends=("numpy", "torch", "cupy")),
    unary("take", fn=lambda x: fnp.take(x, fnp.argsort(x[0, :]), axis=1), shapes=[((2, 3),)]),
    unary("take_along_axis", fn=lambda x: fnp.take_along_axis(x, fnp.argsort(-x, axis=0),
                                                                axis=0), shapes=[((3, 2),)]),
    # searching, sorting, sets
    unary("sort", "distinct", fn=lambda x: fnp.sort(x, axis=0, descending=True),
          shapes=R_SHAPES),
    unary("unique_values", "distinct", fn=lambda x: fnp.unique_values(
        fnp.concat([x, x[:2]])), shapes=[((5,),)]),
    unary("unique_all", "distinct", fn=lambda x: fnp.unique_all(x).values * 2.0,
          shapes=[((2, 3),)]),
    unary("unique_counts", "distinct", fn=lambda x: fnp.unique_counts(x).values,
          shapes=[((3,),)]),
    unary("unique_inverse", "distinct",
          fn=lambda x: fnp.take(fnp.unique_inverse(x).values,
                                fnp.reshape(fnp.unique_inverse(x).inverse_indices, (-1,))),
          shapes=[((2, 3),)]),
    # linear algebra
    binary("matmul", shapes=[((3,), (3,)), ((2, 3), (3, 2)), ((2, 2, 3), (3,))]),
    binary("tensordot", fn=lambda x, y: fnp.tensordot(x, y, axes=([1, 0], [0, 2])),
           shapes=[((3, 2), (2, 4, 3))]),
    binary("vecdot", shapes=[((3,), (3,)), ((2, 3), (3,))]),
    binary("outer", fn=LA.outer, shapes=[((3,), (2,))]),
    binary("cross", fn=LA.cross, shapes=[((3,), (3,)), ((2, 3), (3,))]),
    unary("cholesky", "spd", fn=lambda a: LA.cholesky(_sym(a), upper=True),
          shapes=[((3, 3),), ((2, 2, 2),)]),
    unary("det", "mat", fn=LA.det, shapes=[((3, 3),), ((2, 2, 2),)]),
    unary("slogdet", "mat", fn=lambda a: LA.slogdet(a).logabsdet * LA.slogdet(a).sign,
          shapes=[((3, 3),)]),
    unary("inv", "mat", fn=LA.inv, shapes=[((3, 3),)]),
    binary("solve", "mat", "real", fn=LA.solve, shapes=[((3, 3), (3,)), ((2, 3, 3), (3, 2))]),
    unary("eigh", "spd", fn=lambda a: (LA.eigh(_sym(a)).eigenvalues,
                                       LA.eigh(_sym(a)).eigenvectors ** 2),
          shapes=[((3, 3),)]),
    unary("eigvalsh", "spd", fn=lambda a: LA.eigvalsh(_sym(a)), shapes=[((3, 3),)]),
    unary("qr", "mat", fn=lambda a: LA.qr(a), shapes=[((3, 3),), ((4, 2),)]),
    unary("svd", "mat", fn=lambda a: (LA.svd(a, full_matrices=False).U ** 2,
                                      LA.svd(a, full_matrices=False).S,
                                      LA.svd(a, full_matrices=False).Vh ** 2),
          shapes=[((3, 3),), ((4, 2),), ((2, 3),)]),
    unary("svdvals", "mat", fn=LA.svdvals, shapes=[((3, 2),)]),
    unary("pinv", "mat", fn=LA.pinv, shapes=[((3, 3),), ((4, 2),)]),
    unary("matrix_power", "mat", fn=lambda a: LA.matrix_power(a, 3) + LA.matrix_power(a, -1),
          shapes=[((2, 2),)]),
    unary("matrix_norm", "mat", fn=lambda a: fnp.stack(
        [LA.matrix_norm(a, ord=o) for o in ("fro", "nuc", 1, -1, 2, -2, fnp.inf, -fnp.inf)]),
          shapes=[((3, 3),)]),
    unary("vector_norm", "nonzero", fn=lambda x: fnp.stack(
        [LA.vector_norm(x, ord=o) for o in (2, 1, 3, -1.5, fnp.inf, -fnp.inf)]),
          shapes=[((4,),)]),
    unary("trace", fn=lambda x: LA.trace(x, offset=1), shapes=[((3, 4),)]),
    unary("diagonal", fn=lambda x: LA.diagonal(x, offset=-1), shapes=[((2, 3, 3),)]),
]

# -- NumPy's names beyond the standard: products (functrans/numpy/_products.py) ---------------
def _quiet(fn, *args, **kw):
    """``fn`` called with NumPy's DeprecationWarning of 2-element cross products silenced."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args, **kw)


TABLE += [
    binary("einsum", fn=lambda a, b: fnp.einsum("bij,bjk->bik", a, b),
           shapes=[((2, 3, 4), (2, 4, 2)), ((1, 2, 2), (1, 2, 3))]),
    binary("einsum_matmul", fn=lambda a, b: fnp.einsum("ij,jk", a, b),
           shapes=[((2, 3), (3, 4))]),
    binary("einsum_vectors", fn=lambda a, b: (fnp.einsum("i,i->", a, b),
                                              fnp.einsum("i,j->ij", a, b)),
           shapes=[((3,), (3,))]),
    binary("einsum_sum_axes", fn=lambda a, b: fnp.einsum("ijk,kj->i", a, b),
           shapes=[((2, 3, 4), (4, 3))]),
    binary("einsum_ellipsis", fn=lambda a, b: fnp.einsum("...ij,...jk", a, b),
           shapes=[((2, 3, 4), (4, 2)), ((2, 1, 2, 3), (4, 3, 2))]),
    binary("einsum_broadcast", fn=lambda a, b: fnp.einsum("...i,...i->...", a, b),
           shapes=[((4, 1, 3), (2, 3)), ((3,), (1,))]),
    unary("einsum_diagonal", fn=lambda a: (fnp.einsum("ii->i", a), fnp.einsum("ii", a),
                                           fnp.einsum("ij->ji", a), fnp.einsum("ij->", a)),
          shapes=[((3, 3),)]),
    unary("einsum_diagonal_3d", fn=lambda a: (fnp.einsum("iij->j", a), fnp.einsum("iji->j", a),
                                              fnp.einsum("iii->i", a)),
          shapes=[((3, 3, 3),)]),
    Spec("einsum_three", lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c),
         ["real"] * 3, [((2, 3), (3, 4), (4, 2))]),
    Spec("einsum_four_greedy", lambda a, b, c, d: fnp.einsum("ab,bc,cd,d->a", a, b, c, d,
                                                             optimize="greedy"),
         ["real"] * 4, [((2, 3), (3, 4), (4, 5), (5,))]),
    Spec("einsum_shared", lambda a, b, c: fnp.einsum("bn,anm,bm->ba", a, b, c),
         ["real"] * 3, [((2, 3), (4, 3, 2), (2, 2))]),
    binary("dot", shapes=[((), (3,)), ((3,), (3,)), ((2, 3), (3, 4)), ((2, 4, 3), (3,)),
                          ((3,), (3, 2)), ((2, 4, 3), (2, 3, 2))]),
    binary("inner", shapes=[((), (2,)), ((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,))]),
    binary("np_outer", fn=fnp.outer, shapes=[((3,), (2,)), ((2, 2), (3,))]),
    binary("vdot", shapes=[((3,), (3,)), ((2, 3), (3, 2))]),
    binary("kron", shapes=[((2,), (3,)), ((2, 3), (2, 2)), ((3,), (2, 2))]),
    binary("matvec", shapes=[((2, 3), (3,)), ((2, 1, 2, 3), (4, 3))]),
    binary("vecmat", shapes=[((3,), (3, 2)), ((4, 3), (2, 1, 3, 2))]),
    binary("np_cross", fn=lambda a, b: fnp.cross(a, b, axisa=0),
           shapes=[((3,), (3,)), ((3, 2), (4, 1, 3))]),
    binary("np_cross_2d", fn=lambda a, b: _quiet(fnp.cross, a, b, axisc=0),
           shapes=[((2,), (2,)), ((4, 2), (3,))]),
    unary("np_trace", fn=lambda x: fnp.trace(x, offset=1), shapes=[((3, 4),)]),
    unary("np_trace_axes", fn=lambda x: fnp.trace(x, -1, 2, 0), shapes=[((3, 2, 4),)]),
    unary("np_diagonal", fn=lambda x: fnp.diagonal(x, 1, 2, 0), shapes=[((3, 2, 4),)]),
    unary("diag", fn=lambda x: fnp.diag(x, 1), shapes=[((3,),), ((3, 4),)]),
    unary("diagflat", fn=lambda x: fnp.diagflat(x, -1), shapes=[((2, 2),)]),
    unary("norm", "nonzero", fn=lambda x: fnp.stack(
        [LA.norm(x), LA.norm(x, 1), LA.norm(x, 3), LA.norm(x, -1.5), LA.norm(x, fnp.inf)]),
          shapes=[((4,),)]),
    unary("norm_flat", "nonzero", fn=lambda x: LA.norm(x, keepdims=True),
          shapes=[((2, 3, 2),)]),
    unary("norm_matrix", "mat", fn=lambda a: fnp.stack(
        [LA.norm(a, o) for o in (None, "fro", "nuc", 1, -1, 2, -2, fnp.inf, -fnp.inf)]),
          shapes=[((3, 3),)]),
    unary("norm_axes", "nonzero", fn=lambda x: (LA.norm(x, axis=1), LA.norm(
        x, "fro", axis=(2, 0), keepdims=True), LA.norm(x, 1, axis=(0, 2))),
          shapes=[((2, 3, 4),)]),
    Spec("multi_dot", lambda *a: LA.multi_dot(a), ["real"] * 4,
         [((3,), (3, 4), (4, 2), (2,)), ((2, 3), (3, 4), (4, 2), (2, 3))]),
    unary("cond", "mat", fn=lambda a: fnp.stack(
        [LA.cond(a, p) for p in (None, 2, -2, "fro", "nuc", 1, -1, fnp.inf, -fnp.inf)]),
          shapes=[((3, 3),), ((2, 2, 2),)]),
]

# -- NumPy's names beyond the standard: joining, splitting, reshaping, padding, creation -------
# (functrans/numpy/_reshaping.py)
TABLE += [
    binary("concatenate", fn=lambda x, y: fnp.concatenate([x, y], axis=-1),
           shapes=[((2,), (3,)), ((2, 3), (2, 1))]),
    binary("concatenate_flat", fn=lambda x, y: fnp.concatenate((x, y), axis=None),
           shapes=[((2, 3), (3,))]),
    binary("hstack", shapes=[((2,), (3,)), ((2, 3), (2, 1))], fn=lambda x, y: fnp.hstack([x, y])),
    binary("vstack", shapes=[((3,), (3,)), ((2, 3), (3,))], fn=lambda x, y: fnp.vstack((x, y))),
    binary("dstack", shapes=[((3,), (3,)), ((2, 3), (2, 3))], fn=lambda x, y: fnp.dstack([x, y])),
    binary("column_stack", shapes=[((3,), (3,)), ((3, 2), (3,))],
           fn=lambda x, y: fnp.column_stack([x, y])),
    unary("transpose", fn=fnp.transpose, shapes=[((2, 3),), ((2, 3, 4),)]),
    unary("transpose_axes", fn=lambda x: fnp.transpose(x, (1, -1, 0)), shapes=[((2, 3, 4),)]),
    unary("swapaxes", fn=lambda x: fnp.swapaxes(x, 0, -1), shapes=[((2, 3, 4),)]),
    unary("rollaxis", fn=lambda x: fnp.rollaxis(x, 2, 0), shapes=[((2, 3, 4),)]),
    unary("ravel", fn=fnp.ravel, shapes=[((2, 3),)]),
    unary("ravel_f", fn=lambda x: fnp.ravel(x, order="F"), shapes=[((2, 3),), ((2, 3, 2),)]),
    unary("atleast_1d", fn=lambda x: fnp.atleast_1d(x, x * 2.0)),
    unary("atleast_2d", fn=lambda x: fnp.atleast_2d(x)),
    unary("atleast_3d", fn=lambda x: fnp.atleast_3d(x, x[..., None])),
    unary("split", fn=lambda x: fnp.split(x, [1, 3], axis=-1), shapes=R_SHAPES),
    unary("array_split", fn=lambda x: fnp.array_split(x, 3), shapes=[((4,),), ((5, 2),)]),
    unary("hsplit", fn=lambda x: fnp.hsplit(x, 2), shapes=[((4,),), ((2, 4),)]),
    unary("vsplit", fn=lambda x: fnp.vsplit(x, [1]), shapes=[((3, 2),)]),
    unary("dsplit", fn=lambda x: fnp.dsplit(x, 2), shapes=[((1, 2, 4),)]),
    unary("copy", fn=fnp.copy),
    unary("array", fn=lambda x: fnp.array([x, 2.0 * x], ndmin=3), shapes=[((),), ((2,),)]),
    unary("array_of_tracer", fn=lambda x: fnp.array(x, dtype=fnp.float64, ndmin=2)),
    unary("fliplr", fn=fnp.fliplr, shapes=[((2, 3),), ((2, 3, 2),)]),
    unary("flipud", fn=fnp.flipud, shapes=[((3,),), ((2, 3),)]),
    unary("rot90", fn=lambda x: (fnp.rot90(x), fnp.rot90(x, 2), fnp.rot90(x, -1, axes=(1, 0))),
          shapes=[((2, 3),), ((2, 3, 2),)]),
    binary("append", shapes=[((3,), ()), ((2, 3), (2,))]),
    binary("append_axis", fn=lambda x, y: fnp.append(x, y, axis=0), shapes=[((2, 3), (1, 3))]),
    unary("delete", fn=lambda x: fnp.delete(x, [0, 2], axis=-1), shapes=R_SHAPES),
    unary("delete_flat", fn=lambda x: fnp.delete(x, slice(1, None, 2)), shapes=[((2, 3),)]),
    binary("insert", fn=lambda x, y: fnp.insert(x, 1, y), shapes=[((3,), ()), ((3,), (2,))]),
    binary("insert_many", fn=lambda x, y: fnp.insert(x, [0, 2, 2, -1], y, axis=-1),
           shapes=[((2, 3), ()), ((2, 3), (4,))]),
    binary("block", fn=lambda x, y: fnp.block([[x, y], [y, x]]), shapes=[((2, 2), (2, 2))]),
    binary("block_1d", fn=lambda x, y: fnp.block([x, y, 1.0]), shapes=[((2,), (3,))]),
    unary("pad", fn=lambda x: fnp.pad(x, ((1, 2), (0, 1))), shapes=[((2, 3),)]),
    unary("pad_constant_values", fn=lambda x: fnp.pad(x, 2, constant_values=(1.5, -2.0)),
          shapes=[((3,),), ((2, 3),)]),
    binary("pad_traced_constant", fn=lambda x, c: fnp.pad(x, (1, 2), constant_values=c),
           shapes=[((3,), ()), ((2, 3), (2, 2))]),
    unary("pad_edge", fn=lambda x: fnp.pad(x, (2, 1), mode="edge"), shapes=R_SHAPES),
    unary("pad_reflect", fn=lambda x: fnp.pad(x, (5, 2), mode="reflect"), shapes=R_SHAPES),
    unary("pad_symmetric_odd", fn=lambda x: fnp.pad(x, (1, 7), mode="symmetric",
                                                     reflect_type="odd"), shapes=R_SHAPES),
    unary("pad_wrap", fn=lambda x: fnp.pad(x, {-1: (9, 1)}, mode="wrap"), shapes=R_SHAPES),
    binary("logspace", fn=lambda x, y: fnp.logspace(x, y, 5), shapes=[((), ())]),
    binary("logspace_axis", fn=lambda x, y: fnp.logspace(x, y, 4, endpoint=False, base=2.0,
                                                        axis=-1), shapes=[((3,), (3,))]),
    Spec("logspace_base", lambda x, y, b: fnp.logspace(x, y, 3, base=b), ["real", "real", "pos"],
         [((), (), ()), ((2,), (), (2,))]),
    binary("geomspace", "pos", "pos", fn=lambda x, y: fnp.geomspace(x, y, 5),
           shapes=[((), ()), ((2,), (2,))]),
    binary("geomspace_negative", "pos", "pos",
           fn=lambda x, y: fnp.geomspace(-x, -y, 4, endpoint=False, axis=-1),
           shapes=[((2,), ())]),
    Spec("select", lambda c, a, b: fnp.select([c > 0.5, c < -0.5], [a, a * a], b),
         ["nonzero", "real", "real"], [((3,), (3,), (3,)), ((2, 3), (3,), ())]),
    unary("select_scalar_default", fn=lambda x: fnp.select([x > 0], [x * 3.0], default=2.0)),
    unary("compress", "nonzero", fn=lambda x: fnp.compress(x[0, :] > 0, x, axis=1),
          shapes=[((2, 5),)], data_dependent=True),
    unary("resize", fn=lambda x: fnp.resize(x, (3, 5)), shapes=[((4,),), ((2, 3),)]),
    unary("squeeze_all", fn=fnp.squeeze, shapes=[((2, 1, 3),), ((1, 1),)]),
    unary("expand_dims_tuple", fn=lambda x: fnp.expand_dims(x, (0, -1))),
    unary("pad_linear_ramp", fn=lambda x: fnp.pad(x, (2, 3), mode="linear_ramp",
                                                  end_values=(1.5, -2.0)), shapes=R_SHAPES),
    binary("pad_linear_ramp_traced", fn=lambda x, e: fnp.pad(x, ((1, 2),) * x.ndim,
                                                             mode="linear_ramp", end_values=e),
           shapes=[((3,), ()), ((2, 3), (2, 2))]),
    unary("pad_maximum", "distinct", fn=lambda x: fnp.pad(x, (2, 1), mode="maximum",
                                                          stat_length=(2, 3)),
          shapes=R_SHAPES),
    unary("pad_minimum", "distinct", fn=lambda x: fnp.pad(x, {-1: (1, 3)}, mode="minimum"),
          shapes=R_SHAPES),
    unary("pad_mean", fn=lambda x: (fnp.pad(x, (2, 1), mode="mean"),
                                    fnp.pad(x, 3, mode="mean", stat_length=((1, 2),))),
          shapes=R_SHAPES),
    unary("pad_median", "distinct", fn=lambda x: (fnp.pad(x, (1, 2), mode="median"),
                                                  fnp.pad(x, 2, mode="median", stat_length=3)),
          shapes=[((4,),), ((3, 4),)]),
]

# -- NumPy's names beyond the standard: elementwise, nan-reductions, statistics ---------------
# (functrans/numpy/_mathematics.py)


def _at_zero(shape):
    """``x - x0`` with ``x0`` the table's own sample for ``shape`` at every other element: the
    argument is exactly 0 there (and the derivative still flows), so sinc is checked at 0."""
    x0 = _sample("real", shape, np.random.default_rng(0)).reshape(-1).tolist()

    def shift(x):
        flat = fnp.reshape(x, (-1,))
        parts = [flat[i:i + 1] - (c if i % 2 == 0 else 0.0) for i, c in enumerate(x0)]
        return fnp.reshape(fnp.concat(parts), shape)
    return shift


_SHIFT_3, _SHIFT_23 = _at_zero((3,)), _at_zero((2, 3))


def _nanify(x):
    """NaN where ``x > 0.7`` except in the first position of the last axis (so that no slice
    along it is all NaN)."""
    rest = fnp.where(x[..., 1:] > 0.7, fnp.nan, x[..., 1:])
    return fnp.concat([x[..., :1], rest], axis=-1)


TABLE += [
    unary("amax", "distinct", fn=lambda x: fnp.amax(x, -1), shapes=R_SHAPES),
    unary("amin", "distinct", fn=lambda x: fnp.amin(x, 0, keepdims=True, initial=0.2),
          shapes=R_SHAPES),
    unary("fabs", "nonzero"), unary("degrees"), unary("radians"), unary("exp2"),
    unary("cbrt", "nonzero"), unary("sinc"), unary("fix", "frac"), unary("modf", "frac"),
    unary("sinc_at_zero", fn=lambda x: fnp.sinc(_SHIFT_3(x) if x.shape == (3,)
                                                else _SHIFT_23(x)),
          shapes=[((3,),), ((2, 3),)]),
    unary("round_decimals", "frac", fn=lambda x: fnp.round(x * 0.01 + 1.0, 3)
          + fnp.around(x, -1)),
    binary("heaviside", "real", "real", fn=lambda x, y: fnp.heaviside(fnp.floor(x), y)),
    binary("fmax", "distinct", "distinct", shapes=B_SHAPES[:2]),
    binary("fmin", "distinct", "distinct", shapes=B_SHAPES[:2]),
    binary("fmax_nan", "distinct", "distinct", shapes=[((2, 3), (2, 3))],
           fn=lambda x, y: fnp.fmax(_nanify(x), y) + fnp.fmin(fnp.where(y > 1.5, fnp.nan, y), x)),
    binary("fmod", "rem_x", "rem_y"),
    binary("fmod_signs", "rem_x", "rem_y", fn=lambda x, y: fnp.fmod(-x, y) + fnp.fmod(x, -y)),
    binary("logaddexp2"), binary("float_power", "pos", "real"),
    unary("nan_to_num", fn=lambda x: fnp.nan_to_num(fnp.log(x), nan=-1.0)),
    unary("ldexp", fn=lambda x: fnp.ldexp(x, 3) + fnp.ldexp(x, fnp.astype(x > 0, fnp.int64))),
    binary("divmod", "rem_x", "rem_y", fn=lambda x, y: fnp.divmod(x, y)[1]),
    # cumulative functions and nan-reductions (NaNs in the input: no derivative there)
    unary("cumsum", fn=fnp.cumsum, shapes=R_SHAPES),
    unary("cumprod", fn=lambda x: fnp.cumprod(x, axis=0), shapes=R_SHAPES),
    unary("nancumsum", fn=lambda x: fnp.nancumsum(_nanify(x), axis=-1), shapes=R_SHAPES),
    unary("nancumprod", fn=lambda x: fnp.nancumprod(_nanify(x)), shapes=R_SHAPES),
    unary("nansum", fn=lambda x: fnp.nansum(_nanify(x), axis=-1), shapes=R_SHAPES),
    unary("nanprod", fn=lambda x: fnp.nanprod(_nanify(x)), shapes=R_SHAPES),
    unary("nanmean", fn=lambda x: fnp.nanmean(_nanify(x), axis=-1, keepdims=True),
          shapes=R_SHAPES),
    unary("nanvar", fn=lambda x: fnp.nanvar(_nanify(x), axis=-1), shapes=R_SHAPES),
    unary("nanstd", fn=lambda x: fnp.nanstd(_nanify(x), ddof=1), shapes=R_SHAPES),
    unary("nanmax", "distinct", fn=lambda x: fnp.nanmax(_nanify(x - 2.0), axis=-1),
          shapes=R_SHAPES),
    unary("nanmin", "distinct", fn=lambda x: fnp.nanmin(_nanify(x - 2.0)), shapes=R_SHAPES),
    # statistics
    unary("ptp", "distinct", fn=lambda x: fnp.ptp(x, axis=-1), shapes=R_SHAPES),
    binary("average", "real", "pos", fn=lambda a, w: fnp.average(a, axis=-1, weights=w),
           shapes=[((4,), (4,)), ((2, 3), (2, 3)), ((2, 3), (3,))]),
    binary("average_returned", "real", "pos",
           fn=lambda a, w: fnp.average(a, 0, w, returned=True), shapes=[((2, 3), (2, 3))]),
    unary("average_plain", fn=lambda a: fnp.average(a, axis=0, keepdims=True),
          shapes=R_SHAPES),
    unary("median", "distinct", fn=lambda x: fnp.median(x, axis=-1),
          shapes=R_SHAPES + [((2, 4),)]),
    unary("median_all", "distinct", fn=fnp.median, shapes=R_SHAPES),
    binary("quantile", "distinct", "unit",
           fn=lambda x, q: fnp.quantile(x, fnp.abs(q), axis=-1),
           shapes=[((5,), ()), ((2, 4), (3,))]),
    unary("quantile_methods", "distinct", fn=lambda x: fnp.stack(
        [fnp.quantile(x, 0.3, axis=0, method=m) for m in
         ("linear", "lower", "higher", "nearest", "midpoint")]), shapes=[((5, 2),)]),
    unary("percentile", "distinct", fn=lambda x: fnp.percentile(x, [10.0, 62.5], axis=(0, 1)),
          shapes=[((3, 2, 2),)]),
    unary("nanmedian", "distinct", fn=lambda x: fnp.nanmedian(_nanify(x), axis=-1),
          shapes=R_SHAPES),
    unary("nanquantile", "distinct", fn=lambda x: fnp.nanquantile(_nanify(x), 0.4, axis=-1),
          shapes=R_SHAPES),
    unary("nanpercentile", "distinct", fn=lambda x: fnp.nanpercentile(_nanify(x), 80.0),
          shapes=R_SHAPES),
    unary("var_std_ddof", fn=lambda x: fnp.var(x, axis=-1, ddof=1) + fnp.std(x, ddof=2),
          shapes=R_SHAPES),
    # interpolation, polynomials, integration, convolution
    Spec("interp", lambda x, d, fp: fnp.interp(x * 3.0, fnp.cumsum(d), fp),
         ["pos", "pos", "real"], [((3,), (5,), (5,)), ((2, 3), (4,), (4,))]),
    Spec("interp_outside", lambda x, d, fp: fnp.interp(
        fnp.concat([x * 3.0, x - 5.0, x + 20.0]), fnp.cumsum(d), fp, left=-1.0,
        right=fp[0]), ["pos", "pos", "real"], [((3,), (5,), (5,))]),
    Spec("interp_period", lambda x, d, fp: fnp.interp(x * 4.0, fnp.cumsum(d), fp,
                                                       period=3.5),
         ["real", "pos", "real"], [((4,), (3,), (3,))]),
    binary("polyval", shapes=[((4,), ()), ((3,), (2, 3)), ((1,), (3,))]),
    unary("trapezoid", fn=lambda y: fnp.trapezoid(y, dx=0.5), shapes=R_SHAPES),
    binary("trapezoid_x", "real", "pos", fn=lambda y, d: fnp.trapezoid(y, fnp.cumsum(d)),
           shapes=[((4,), (4,)), ((2, 3), (3,))]),
    binary("convolve", fn=lambda a, v: (fnp.convolve(a, v), fnp.convolve(a, v, "same"),
                                        fnp.convolve(a, v, "valid")),
           shapes=[((5,), (3,)), ((2,), (4,)), ((1,), (1,))]),
    binary("correlate", fn=lambda a, v: (fnp.correlate(a, v, "full"),
                                         fnp.correlate(a, v, "same"), fnp.correlate(a, v)),
           shapes=[((5,), (3,)), ((3,), (4,))]),
    # differences
    unary("gradient", fn=fnp.gradient, shapes=[((3,),), ((3, 4),), ((2, 3, 2),)]),
    unary("gradient_edge2", fn=lambda f: fnp.gradient(f, 0.5, axis=-1, edge_order=2),
          shapes=[((3,),), ((2, 4),)]),
    binary("gradient_scalar_spacing", "real", "pos",
           fn=lambda f, h: fnp.gradient(f, h, edge_order=2), shapes=[((4,), ()), ((3, 4), ())]),
    binary("gradient_coordinates", "real", "pos",
           fn=lambda f, d: (fnp.gradient(f, fnp.cumsum(d)),
                            fnp.gradient(f, fnp.cumsum(d), edge_order=2)),
           shapes=[((3,), (3,)), ((5,), (5,))]),
    Spec("gradient_2d", lambda f, dx, dy: fnp.gradient(f, fnp.cumsum(dx), dy, axis=(0, 1),
                                                       edge_order=2),
         ["real", "pos", "pos"], [((3, 4), (3,), ())]),
    Spec("ediff1d", lambda x, e, b: fnp.ediff1d(x, to_end=e, to_begin=b),
         ["real", "real", "real"], [((4,), (), (2,)), ((2, 3), (2,), ())]),
    unary("ediff1d_plain", fn=lambda x: fnp.ediff1d(x, to_begin=[1.0, 2.0]), shapes=R_SHAPES),
    # take (functrans/numpy/_indexing.py): NumPy's flattening and modes
    unary("take_flat", fn=lambda x: (fnp.take(x, [5, 0, -1, 2]), fnp.take(x, 3)),
          shapes=[((2, 3),)]),
    unary("take_modes", fn=lambda x: (fnp.take(x, [7, -9, 2, 2], axis=1, mode="wrap"),
                                      fnp.take(x, [[7], [-9]], axis=0, mode="clip")),
          shapes=[((2, 3),)]),
    # sets
    unary("unique", "distinct", fn=lambda x: fnp.unique(fnp.concat([x, x[:2]])),
          shapes=[((3,),), ((5,),)], data_dependent=True),
    unary("unique_flags", "distinct",
          fn=lambda x: fnp.unique(fnp.concat([x, x[:, :1]], axis=1), return_index=True,
                                  return_inverse=True, return_counts=True)[0],
          shapes=[((2, 3),)], data_dependent=True),
    # least squares, polynomial fitting
    # NumPy's residuals: whether there are any depends on the rank's value
    binary("lstsq", "mat", "real",
           fn=lambda a, b: tuple(LA.lstsq(a, b, numpy_resid=True)[i] for i in (0, 1, 3)),
           shapes=[((4, 2), (4,)), ((4, 3), (4, 2))], data_dependent=True),
    # no residuals for M <= N: nothing depends on the rank's value, so jit works
    binary("lstsq_square_wide", "mat", "real",
           fn=lambda a, b: tuple(LA.lstsq(a, b, numpy_resid=True)[i] for i in (0, 3)),
           shapes=[((3, 3), (3,)), ((2, 3), (2,)), ((2, 4), (2, 3))]),
    binary("lstsq_rcond", "mat", "real",
           fn=lambda a, b: LA.lstsq(a, b, rcond=1e-3, numpy_resid=True)[0],
           shapes=[((3, 2), (3, 2))], data_dependent=True),
    # jax.numpy's residuals, the default (whatever the rank): nothing depends on the rank's
    # value
    binary("lstsq_fixed_resid", "mat", "real", fn=lambda a, b: LA.lstsq(a, b)[:2],
           shapes=[((4, 2), (4,)), ((3, 3), (3, 2)), ((2, 3), (2,)), ((4, 3), (4, 2))]),
    unary("vander", fn=lambda x: (fnp.vander(x), fnp.vander(x, 4, increasing=True)),
          shapes=[((3,),)]),
    # without full= nothing depends on the rank's value, so jit works
    binary("polyfit", "distinct", "real", fn=lambda x, y: fnp.polyfit(x, y, 2),
           shapes=[((5,), (5,)), ((4,), (4, 2))]),
    # with full= the residuals are jax.numpy's under jit (NumPy's for this full-rank fit)
    Spec("polyfit_weighted", lambda x, y, w: fnp.polyfit(x, y, 1, w=w, full=True)[:2],
         ["distinct", "real", "pos"], [((4,), (4,), (4,))]),
]

# -- functrans.scipy.special ------------------------------------------------------------------
import functrans.scipy.special as fsp  # noqa: E402


def _sp_unary(name, domain="real", fn=None, shapes=U_SHAPES, **kw):
    return Spec("special." + name, fn or getattr(fsp, name), [domain], shapes, **kw)


def _sp_binary(name, d1="pos", d2="pos", fn=None, shapes=B_SHAPES, **kw):
    return Spec("special." + name, fn or getattr(fsp, name), [d1, d2], shapes, **kw)


TABLE += [
    _sp_unary("erf"), _sp_unary("erfc"), _sp_unary("erfinv", "unit"),
    _sp_unary("gammaln", "pos"), _sp_unary("digamma", "pos"),
    _sp_unary("polygamma", "pos", fn=lambda x: fsp.polygamma(1, x) + fsp.polygamma(3, x)),
    _sp_unary("gamma", "pos"),
    _sp_unary("gamma_negative", "frac", fn=lambda x: fsp.gamma(x - 3.0)),
    _sp_binary("beta"), _sp_binary("betaln"),
    _sp_unary("logsumexp", fn=lambda x: fsp.logsumexp(x, axis=-1), shapes=R_SHAPES),
    _sp_unary("logsumexp_all", fn=lambda x: fsp.logsumexp(x * 30.0, keepdims=True),
              shapes=R_SHAPES),
    _sp_binary("logsumexp_b", "real", "nonzero",
               fn=lambda a, b: fsp.logsumexp(a, axis=0, b=b, return_sign=True)[0],
               shapes=[((4,), (4,)), ((2, 3), (3,))]),
    _sp_unary("softmax", fn=lambda x: fsp.softmax(x, axis=-1), shapes=R_SHAPES),
    _sp_unary("softmax_all", fn=fsp.softmax, shapes=R_SHAPES),
    _sp_unary("log_softmax", fn=lambda x: fsp.log_softmax(x * 20.0, axis=0), shapes=R_SHAPES),
    _sp_unary("expit", fn=lambda x: fsp.expit(x * 10.0)),
    _sp_unary("logit", "unit", fn=lambda x: fsp.logit(x * 0.6 + 0.5)),
    _sp_unary("log_expit", fn=lambda x: fsp.log_expit(x * 10.0)),
    _sp_binary("xlogy", "nonzero", "pos"), _sp_binary("xlog1py", "nonzero", "pos"),
    _sp_unary("entr", "pos"), _sp_unary("ndtr", fn=lambda x: fsp.ndtr(x * 3.0)),
    _sp_unary("ndtri", "unit", fn=lambda x: fsp.ndtri(x * 0.6 + 0.5)),
    _sp_unary("log_ndtr", fn=lambda x: fsp.log_ndtr(x * 6.0)),
    _sp_unary("log_ndtr_tail", fn=lambda x: fsp.log_ndtr(x - 30.0)),
]

# functrans.scipy.stats (norm) and functrans.scipy.linalg
import functrans.scipy.linalg as fsl  # noqa: E402
import functrans.scipy.stats as fst  # noqa: E402

_N3 = [((), (), ()), ((3,), (3,), (3,)), ((2, 3), (3,), (2, 1))]


def _norm(method, shift=0.0, stretch=1.0, q=False):
    """A norm method of (x, loc, scale): x "real", loc "real", scale "pos"; for ppf/isf the
    first operand is a probability in (0.1, 0.9)."""
    f = getattr(fst.norm, method)
    if q:
        return Spec("stats.norm." + method, lambda u, m, s: f(u * 0.5 + 0.5, m, s),
                    ["unit", "real", "pos"], _N3)
    return Spec("stats.norm." + method, lambda x, m, s: f(x * stretch + shift, m, s),
                ["real", "real", "pos"], _N3)




_N4 = [((), (), (), ()), ((3,), (3,), (3,), (3,)), ((2, 3), (3,), (2, 1), ())]
_LS_METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")


def _locscale(dist, method):
    """A method of the location-scale family ``dist`` of (x, loc, scale), with x inside the
    support and away from its kinks (expon and laplace at loc, uniform at both ends); ppf
    takes a probability in (0.1, 0.9)."""
    f = getattr(getattr(fst, dist), method)
    if method == "ppf":
        return Spec(f"stats.{dist}.ppf", lambda u, m, s: f(u * 0.5 + 0.5, m, s),
                    ["unit", "real", "pos"], _N3)
    if dist == "expon":  # x - loc in (0.7, 2.8)
        return Spec(f"stats.expon.{method}", lambda x, m, s: f(x + 1.0, m, s),
                    ["pos", "unit", "pos"], _N3)
    if dist == "uniform":  # 0 < x - loc < 1.06 < scale
        return Spec(f"stats.uniform.{method}", lambda u, m, s: f(u * 0.1 + 0.9, m * 0.1,
                                                                   s + 1.0),
                    ["unit", "unit", "pos"], _N3)
    if dist == "laplace":  # |x| >= 0.3 > |loc|
        return Spec(f"stats.laplace.{method}", lambda x, m, s: f(x, m * 0.1, s),
                    ["nonzero", "unit", "pos"], _N3)
    return Spec(f"stats.{dist}.{method}", lambda x, m, s: f(x * 3.0, m, s),
                ["real", "real", "pos"], _N3)


TABLE += [
    _norm("logpdf"), _norm("pdf"), _norm("cdf", stretch=3.0), _norm("logcdf", stretch=5.0),
    Spec("stats.norm.logcdf_tail", lambda x, m, s: fst.norm.logcdf(x - 30.0, m, s),
         ["real", "real", "pos"], _N3[:2]),
    _norm("sf", stretch=3.0), _norm("logsf", stretch=5.0),
    Spec("stats.norm.logsf_tail", lambda x, m, s: fst.norm.logsf(x + 30.0, m, s),
         ["real", "real", "pos"], _N3[:2]),
    _norm("ppf", q=True), _norm("isf", q=True),
    Spec("stats.norm.defaults", lambda x: fst.norm.logpdf(x) + fst.norm.cdf(x)
         + fst.norm.ppf(x * 0.25 + 0.5), ["real"], U_SHAPES),
    # multivariate_normal: full, diagonal and scalar covariances, batches of points
    # (cov symmetrized: the derivative is that of the symmetric part, as cholesky's)
    Spec("stats.multivariate_normal.logpdf", lambda x, m, c: (
        fst.multivariate_normal.logpdf(x, m, _sym(c)),
        fst.multivariate_normal.pdf(x, m, _sym(c))),
        ["real", "real", "spd"], [((3,), (3,), (3, 3)), ((4, 3), (3,), (3, 3)),
                                  ((2, 2, 2), (2,), (2, 2))]),
    Spec("stats.multivariate_normal.pdf", lambda x, m, c: (
        fst.multivariate_normal.pdf(x, m, c), fst.multivariate_normal.logpdf(x, m + 1.0, c * 2.0)),
        ["real", "real", "pos"], [((4, 3), (3,), (3,)), ((3,), (3,), ()), ((4,), (), ())]),
    Spec("stats.multivariate_normal.defaults", lambda x: fst.multivariate_normal.logpdf(x)
         + fst.multivariate_normal.pdf(x, cov=2.0), ["real"], [((),), ((4,),)]),
    *[_locscale(d, m) for d in ("expon", "uniform", "laplace", "logistic", "cauchy")
      for m in _LS_METHODS],
    Spec("stats.locscale.defaults", lambda x: fst.expon.logpdf(x) + fst.uniform.cdf(x * 0.4)
         + fst.laplace.sf(x) + fst.logistic.logcdf(x) + fst.cauchy.ppf(x * 0.3)
         + fst.expon.ppf(x * 0.3, 1.0) + fst.logistic.pdf(x, 0.5, 2),
         ["pos"], U_SHAPES),
    # shape families (logpdf and pdf together): x inside the support, shapes "pos"
    *[Spec(f"stats.{d}.{m}", fn, doms, _N4) for m in ("logpdf", "pdf") for d, fn, doms in [
        ("t", lambda x, df, lo, s, _m=m: (getattr(fst.t, _m)(x * 3.0, df, lo, s),
                                          getattr(fst.t, _m)(x, df + 40.0, lo, s)),
         ["real", "pos", "real", "pos"]),
        ("gamma", lambda x, a, lo, s, _m=m: getattr(fst.gamma, _m)(x + 1.0, a * 2.0, lo, s),
         ["pos", "pos", "unit", "pos"]),
        ("chi2", lambda x, df, lo, s, _m=m: getattr(fst.chi2, _m)(x + 1.0, df * 3.0, lo, s),
         ["pos", "pos", "unit", "pos"]),
        ("beta", lambda u, a, b, lo, _m=m: getattr(fst.beta, _m)(
            u * 0.4 + 0.5, a * 1.5, b * 1.5, lo * 0.1, 1.5),
         ["unit", "pos", "pos", "unit"])]],
    Spec("stats.shape_defaults", lambda x, p: fst.t.logpdf(x, p) + fst.gamma.pdf(x, a=p)
         + fst.chi2.logpdf(x, df=p, scale=2.0) + fst.beta.logpdf(x * 0.3, p, 2.0),
         ["pos", "pos"], [((), ()), ((3,), ()), ((2, 3), (3,))]),
    # discrete: derivatives in the continuous parameter, k integers (Python lists)
    *[Spec(f"stats.{d}.{m}", fn, doms, U_SHAPES) for m in ("logpmf", "pmf") for d, fn, doms in [
        ("poisson", lambda mu, _m=m: (getattr(fst.poisson, _m)([0, 2, 5], mu * 2.0),
                                      getattr(fst.poisson, _m)([1, 3, 4], mu, loc=1)),
         ["pos"]),
        ("bernoulli", lambda p, _m=m: getattr(fst.bernoulli, _m)([0, 1, 1], p * 0.5 + 0.5),
         ["unit"]),
        ("binom", lambda p, _m=m: (getattr(fst.binom, _m)([0, 3, 7], [5, 7, 10], p * 0.5 + 0.5),
                                   getattr(fst.binom, _m)(4, 6, p * 0.5 + 0.5, 1)),
         ["unit"]),
        ("geom", lambda p, _m=m: getattr(fst.geom, _m)([1, 2, 6], p * 0.5 + 0.5), ["unit"])]],
    Spec("stats.locscale_tails", lambda x, m, s: (
        fst.logistic.logcdf(x - 40.0, m, s), fst.logistic.logsf(x + 40.0, m, s),
        fst.cauchy.logcdf(x - 40.0, m, s), fst.expon.logcdf(x + 30.0, m, s),
        fst.laplace.logsf(x + 40.0, m, s), fst.cauchy.cdf(x - 1e3, m, s)),
        ["real", "unit", "pos"], _N3[:2]),
    Spec("scipy.linalg.solve_triangular", lambda a, b: (
        fsl.solve_triangular(a, b), fsl.solve_triangular(a, b, lower=True, trans=1),
        fsl.solve_triangular(a, b, trans="C", unit_diagonal=True)),
        ["mat", "real"], [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3, 1))]),
    Spec("scipy.linalg.solve_banded", lambda ab, b: fsl.solve_banded(
        (1, 1), fnp.concat([ab[:1, ...], ab[1:2, ...] + 5.0, ab[2:, ...]], axis=0), b),
        ["real", "real"], [((3, 4), (4,)), ((3, 4), (4, 2))]),
    Spec("scipy.linalg.cholesky", lambda a: (fsl.cholesky(a), fsl.cholesky(a, lower=True)),
         ["spd"], [((3, 3),), ((2, 2, 2),)]),
    # not symmetric: only the chosen triangle is read
    Spec("scipy.linalg.cholesky_triangle", lambda a: fsl.cholesky(
        fnp.tril(a, k=-1) * 0.3 + a, lower=False), ["spd"], [((3, 3),)]),
    Spec("scipy.linalg.cho_factor", lambda a: fsl.cho_factor(a, lower=True)[0],
         ["spd"], [((3, 3),)]),
    Spec("scipy.linalg.cho_solve", lambda a, b: (
        fsl.cho_solve(fsl.cho_factor(a), b), fsl.cho_solve((fsl.cholesky(a, True), True), b)),
        ["spd", "real"], [((3, 3), (3,)), ((2, 3, 3), (3, 2))]),
    Spec("scipy.linalg.solve", lambda a, b: (
        fsl.solve(a, b), fsl.solve(a, b, transposed=True),
        fsl.solve(a, b, assume_a="sym", lower=True), fsl.solve(a, b, assume_a="tridiagonal"),
        fsl.solve(a, b, assume_a="lower triangular")),
        ["mat", "real"], [((3, 3), (3,)), ((2, 3, 3), (3, 2))]),
    Spec("scipy.linalg.solve_pos", lambda a, b: fsl.solve(a, b, assume_a="pos"),
         ["spd", "real"], [((3, 3), (3,)), ((3, 3), (3, 2))]),
    Spec("scipy.linalg.inv", lambda a: (fsl.inv(a), fsl.inv(a, assume_a="upper triangular"),
                                        fsl.inv(a, assume_a="diagonal")),
         ["mat"], [((3, 3),), ((2, 2, 2),)]),
    Spec("scipy.linalg.inv_pos", lambda a: fsl.inv(a, assume_a="pos", lower=True),
         ["spd"], [((3, 3),)]),
    Spec("scipy.linalg.det", fsl.det, ["mat"], [((3, 3),), ((2, 2, 2),)]),
    Spec("scipy.linalg.block_diag", lambda x, y: fsl.block_diag(x, 2.0, y),
         ["real", "real"], [((2, 3), (3,)), ((), (2, 1)), ((2, 2, 1), (1, 2))]),
    # eigh reads one triangle (not symmetrized); the generalized problem through cholesky
    Spec("scipy.linalg.eigh", lambda a, b: (
        fsl.eigh(a)[0], fsl.eigh(a, lower=False)[1] ** 2, fsl.eigh(a, b, eigvals_only=True),
        fsl.eigh(a, b, lower=False)[1] ** 2), ["spd", "spd"], [((3, 3), (3, 3))]),
    Spec("scipy.linalg.eigvalsh", lambda a: fsl.eigvalsh(a, lower=False), ["spd"],
         [((3, 3),)]),
    Spec("scipy.linalg.svd", lambda a: (fsl.svd(a, full_matrices=False)[0] ** 2,
                                        fsl.svd(a, compute_uv=False)),
         ["mat"], [((3, 3),), ((4, 2),)]),
    Spec("scipy.linalg.svdvals", fsl.svdvals, ["mat"], [((3, 2),)]),
    Spec("scipy.linalg.qr", lambda a: (fsl.qr(a, mode="economic")[0], fsl.qr(a, mode="r")[0],
                                       fsl.qr(a)[1] if a.shape[0] == a.shape[1] else a),
         ["mat"], [((3, 3),), ((4, 2),)]),
    Spec("scipy.linalg.toeplitz", lambda c, r: (fsl.toeplitz(c, r), fsl.toeplitz(c)),
         ["real", "real"], [((3,), (4,)), ((2,), (1,))]),
]

# -- NumPy's names beyond the standard: statistics, histograms, signal, elementwise extras -----
# (functrans/numpy/_mathematics.py, functrans/numpy/_histograms.py)
_HIST_DATA = [0.3, -1.2, 0.9, 0.05, 1.7, -0.4]  # away from every bin edge used below
TABLE += [
    Spec("cov", lambda m: (fnp.cov(m), fnp.cov(m, rowvar=False, bias=True),
                           fnp.cov(m, ddof=2)),
         ["real"], [((4,),), ((3, 5),)]),
    Spec("cov_weights", lambda m, y, aw: (
        fnp.cov(m, y, aweights=aw), fnp.cov(m, fweights=[1, 2, 1, 3], aweights=aw, ddof=2),
        fnp.cov(m, y, aweights=aw, bias=True), fnp.cov(m, fweights=[2, 0, 1, 1])),
        ["real", "real", "pos"], [((4,), (4,), (4,)), ((2, 4), (4,), (4,))]),
    Spec("corrcoef", lambda x, y: (fnp.corrcoef(x, y), fnp.corrcoef(x, rowvar=False)),
         ["real", "real"], [((2, 5), (5,)), ((3, 4), (4,))]),
    Spec("angle", lambda x, y: (fnp.angle(fnp.add(x, y * 1j)),
                                fnp.angle(fnp.subtract(y * 1j, x), deg=True), fnp.angle(x)),
         ["nonzero", "nonzero"], [((), ()), ((2, 3), (3,))]),
    unary("unwrap", fn=lambda x: (fnp.unwrap(x * 4.0), fnp.unwrap(x * 50.0, axis=0,
                                                                  period=30.0)),
          shapes=R_SHAPES),
    unary("kaiser", "pos", fn=lambda b: fnp.kaiser(6, b * 3.0), shapes=[((),)]),
    unary("i0", fn=lambda x: (fnp.i0(x * 6.0), fnp.i0(x * 3.0 + 12.0))),
    unary("rint", "frac"), unary("spacing", "frac"),
    unary("frexp", "frac", fn=lambda x: fnp.frexp(x * 100.0)[0]),
    unary("real_if_close", fn=lambda x: (fnp.real_if_close(x + 0j),
                                         fnp.imag(fnp.real_if_close(x + 1e-3j))),
          data_dependent=True),
    Spec("sort_complex", lambda x, y: (fnp.real(fnp.sort_complex(fnp.add(x, y * 1j))),
                                       fnp.imag(fnp.sort_complex(fnp.add(x, y * 1j))),
                                       fnp.real(fnp.sort_complex(x))),
         ["distinct", "real"], [((4,), (4,)), ((2, 3), (2, 3))]),
    Spec("histogram", lambda w: (
        fnp.histogram(_HIST_DATA, 4, weights=w)[0],
        fnp.histogram(_HIST_DATA, [-2.0, 0.0, 0.5, 2.0], density=True, weights=w)[0],
        fnp.histogram(_HIST_DATA, 3, range=(-1.0, 1.0), weights=w, density=True)[0]),
        ["pos"], [((6,),)]),
    unary("histogram_bin_edges", "distinct", fn=lambda x: (
        fnp.histogram_bin_edges(x, 4), fnp.histogram(x, bins=3)[1]), shapes=R_SHAPES),
    Spec("histogram2d", lambda x, y, w: (
        fnp.histogram2d(x, y, 2, range=[(-2.0, 2.0), (-2.0, 2.0)], weights=w)[0],
        fnp.histogram2d(x, y, [2, 3], range=[(-2.0, 2.0), (-2.0, 2.0)], weights=w,
                        density=True)[0]),
        ["real", "real", "pos"], [((5,), (5,), (5,))]),
    Spec("histogramdd", lambda s, w: fnp.histogramdd(s, (2, 2), range=[(-2.0, 2.0)] * 2,
                                                     weights=w, density=True)[0],
         ["real", "pos"], [((5, 2), (5,))]),
    Spec("bincount", lambda w: (fnp.bincount([0, 2, 2, 1], w), fnp.bincount(
        [3, 0, 0, 1], w, minlength=6)), ["real"], [((4,),)]),
]

# -- NumPy's names beyond the standard: sets, partitions, selection, put/place ---------------
# (functrans/numpy/_selection.py)


def _with_some_of(x, y):
    """``y`` (flattened) followed by every other entry of ``x``: shared values, which stay
    shared under the finite-difference steps."""
    return fnp.concat([fnp.ravel(y), fnp.ravel(x)[::2]])


def _inplace(fill):
    """A function that copies its input, then modifies the copy in place with ``fill(copy,
    x)`` (NumPy style: ``fill`` returns None) and returns the copy."""
    def fn(x):
        b = x * 1.0
        assert fill(b, x) is None
        return b
    fn.writes_in_place = True
    return fn


TABLE += [
    binary("intersect1d", "distinct", "distinct",
           fn=lambda x, y: fnp.intersect1d(x, _with_some_of(x, y)),
           shapes=[((4,), (3,)), ((2, 3), (2, 2))], data_dependent=True),
    binary("intersect1d_indices", "distinct", "distinct",
           fn=lambda x, y: fnp.intersect1d(_with_some_of(y, x), _with_some_of(x, y),
                                           return_indices=True)[0],
           shapes=[((4,), (3,))], data_dependent=True),
    binary("union1d", "distinct", "distinct",
           fn=lambda x, y: fnp.union1d(x, _with_some_of(x, y)),
           shapes=[((4,), (3,)), ((2, 3), ())], data_dependent=True),
    binary("setdiff1d", "distinct", "distinct",
           fn=lambda x, y: (fnp.setdiff1d(x, _with_some_of(x, y)),
                            fnp.setdiff1d(y, x, assume_unique=True)),
           shapes=[((4,), (3,)), ((2, 3), (2, 2))], data_dependent=True),
    binary("setxor1d", "distinct", "distinct",
           fn=lambda x, y: fnp.setxor1d(x, _with_some_of(x, y)),
           shapes=[((4,), (3,)), ((2, 3), (2, 2))], data_dependent=True),
    unary("partition", "distinct", fn=lambda x: (fnp.partition(x, 1), fnp.partition(x, [0, -1])),
          shapes=R_SHAPES),
    unary("partition_flat", "distinct", fn=lambda x: fnp.partition(x, 2, axis=None),
          shapes=[((2, 3),)]),
    binary("choose", "nonzero", "real",
           fn=lambda x, y: fnp.choose(fnp.astype(x > 0, fnp.int64) + fnp.astype(x > 1, fnp.int64),
                                      [x, y, 2.0 * fnp.multiply(x, y)]),
           shapes=[((3,), (3,)), ((2, 3), (3,))]),
    binary("choose_array", "nonzero", "real",
           fn=lambda x, y: fnp.choose(fnp.astype(x > 0, fnp.int64) * 5,
                                      fnp.stack([y, fnp.multiply(x, y)]), mode="clip"),
           shapes=[((3,), (3,)), ((2, 3), (2, 3))]),
    unary("piecewise", "nonzero",
          fn=lambda x: fnp.piecewise(x, [x < 0, x > 1.0],
                                     [lambda v, k: v * v, lambda v, k: fnp.sin(v) / k,
                                      lambda v, k: k * v], 3.0),
          shapes=U_SHAPES),
    binary("piecewise_constants", "nonzero", "real",
           fn=lambda x, c: fnp.piecewise(x, [x < 0, x > 0.5], [c, lambda v: v ** 3]),
           shapes=[((3,), ()), ((2, 3), ())]),
    unary("extract", "nonzero", fn=lambda x: fnp.extract(x > 0, x * x), shapes=R_SHAPES,
          data_dependent=True),
    unary("apply_along_axis",
          fn=lambda x: (fnp.apply_along_axis(lambda v: fnp.stack([fnp.sum(v * v), v[0]]), -1, x),
                        fnp.apply_along_axis(lambda v: fnp.prod(v), 0, x)),
          shapes=R_SHAPES),
    unary("apply_over_axes", fn=lambda x: fnp.apply_over_axes(fnp.sum, x * x, (0, -1)),
          shapes=[((2, 3),), ((2, 3, 2),)]),
    unary("ix_", fn=lambda x: fnp.ix_(x, 2.0 * x, x * x), shapes=[((3,),)]),
    unary("trim_zeros", "nonzero",
          fn=lambda x: (fnp.trim_zeros(fnp.pad(x, 2)), fnp.trim_zeros(fnp.pad(x, 1), "b")),
          shapes=R_SHAPES, data_dependent=True),
    unary("fill_diagonal", fn=_inplace(lambda b, x: fnp.fill_diagonal(b, x[0, :2] * 3.0)),
          shapes=[((3, 3),), ((4, 2),)]),
    binary("fill_diagonal_new", fn=lambda a, v: fnp.fill_diagonal(a, v, wrap=True, inplace=False),
           shapes=[((3, 3), ()), ((5, 2), (2,))]),
    unary("put", fn=_inplace(lambda b, x: fnp.put(b, [0, 2, -1, 2], fnp.ravel(x)[:3] * 2.0)),
          shapes=R_SHAPES),
    binary("put_new", fn=lambda a, v: fnp.put(a, [5, 1, 7], v, mode="wrap", inplace=False),
           shapes=[((4,), ()), ((2, 3), (2,))]),
    binary("put_along_axis", "distinct", "real",
           fn=lambda a, v: fnp.put_along_axis(a, fnp.argsort(a, axis=-1)[..., :2], v, -1,
                                              inplace=False),
           shapes=[((3,), (2,)), ((2, 3), (2, 1))]),
    unary("put_along_axis_inplace", "distinct",
          fn=_inplace(lambda b, x: fnp.put_along_axis(b, fnp.argsort(x, axis=0)[:1, ...],
                                                      x[:1, ...] ** 2,
                                                      axis=0)),
          shapes=R_SHAPES),
    binary("place", "nonzero", "real",
           fn=lambda a, v: fnp.place(a, a > 0, v, inplace=False),
           shapes=[((4,), ()), ((2, 3), (2,))]),
    unary("place_inplace", "nonzero",
          fn=_inplace(lambda b, x: fnp.place(b, x < 0, fnp.ravel(x)[:2] ** 2)), shapes=R_SHAPES),
    unary("putmask", "nonzero",
          fn=_inplace(lambda b, x: fnp.putmask(b, x > 0, fnp.ravel(x)[:2] ** 2)),
          shapes=R_SHAPES),
    unary("copyto", "nonzero",
          fn=_inplace(lambda b, x: fnp.copyto(b, fnp.sin(x[..., :1]), where=x > 0)),
          shapes=R_SHAPES),
    unary("copyto_all", fn=_inplace(lambda b, x: fnp.copyto(b, fnp.flip(x, axis=-1) ** 2)),
          shapes=R_SHAPES),
]

# -- NumPy's names beyond the standard: polynomials, introspection, linalg.tensorinv/solve ---
# (functrans/numpy/_polynomials.py, functrans/numpy/_introspection.py)


def _complex_parts(z):
    """A real function of a complex result (both parts count)."""
    return fnp.real(z) + 0.5 * fnp.imag(z)


def _root_sums(r):
    """Symmetric functions of the roots (their order is the library's)."""
    return (fnp.real(fnp.sum(r)), fnp.real(fnp.sum(r * r)), fnp.imag(fnp.sum(r * r * r) * 1j),
            fnp.real(fnp.prod(r)))


TABLE += [
    binary("polyadd", shapes=[((3,), (3,)), ((2,), (4,)), ((4,), (1,)), ((), (3,))]),
    binary("polysub", shapes=[((3,), (3,)), ((2,), (4,)), ((4,), (1,))]),
    binary("polymul", shapes=[((3,), (2,)), ((1,), (4,)), ((4,), (4,))]),
    binary("polydiv", "real", "nonzero",
           shapes=[((5,), (3,)), ((3,), (3,)), ((2,), (4,)), ((4,), (1,)), ((6,), (2,))]),
    unary("polyder", fn=lambda p: (fnp.polyder(p), fnp.polyder(p, 2), fnp.polyder(p, m=0)),
          shapes=[((4,),), ((2,),), ((5,),)]),
    binary("polyint", fn=lambda p, k: (fnp.polyint(p), fnp.polyint(p, 2, k),
                                       fnp.polyint(p, m=3, k=k[0])),
           shapes=[((3,), (2,)), ((1,), (3,))]),
    unary("poly", fn=lambda z: fnp.poly(z) * 1.0, shapes=[((1,),), ((4,),)]),
    unary("poly_complex", fn=lambda z: _complex_parts(fnp.poly(
        fnp.astype(z, fnp.complex128) * (1.0 + 0.5j))), shapes=[((1,),), ((3,),)]),
    # conjugate pairs: NumPy's result is real (under jit it stays complex: real() of it)
    unary("poly_conjugate_pairs", fn=lambda z: fnp.real(fnp.poly(fnp.concat(
        [fnp.astype(z, fnp.complex128) * (1.0 + 0.5j),
         fnp.astype(z, fnp.complex128) * (1.0 - 0.5j)]))), shapes=[((2,),)]),
    # roots: eigenvalues of the companion matrix, order-free functions of them; the result's
    # shape depends on which coefficients are zero (a trailing zero adds a zero root)
    unary("roots", "nonzero", fn=lambda p: _root_sums(fnp.roots(p)), shapes=[((3,),), ((4,),)],
          backends=("numpy", "torch", "cupy"), data_dependent=True),
    unary("roots_zeros", "nonzero", fn=lambda p: _root_sums(fnp.roots(fnp.concat(
        [p[:1] * 0.0, p, p[:1] * 0.0]))), shapes=[((4,),)], backends=("numpy", "torch", "cupy"),
          data_dependent=True),
    unary("poly_matrix", "mat", fn=lambda a: fnp.real(fnp.poly(a)), shapes=[((3, 3),)],
          backends=("numpy", "torch", "cupy")),
    unary("tensorinv", "mat", fn=lambda a: (LA.tensorinv(fnp.reshape(a, (2, 3, 6))),
                                            LA.tensorinv(fnp.reshape(a, (6, 2, 3)), ind=1)),
          shapes=[((6, 6),)]),
    binary("tensorsolve", "mat", "real",
           fn=lambda a, b: (LA.tensorsolve(fnp.reshape(a, (2, 3, 6)), fnp.reshape(b, (2, 3))),
                            LA.tensorsolve(fnp.reshape(a, (6, 2, 3)), fnp.reshape(b, (2, 3)),
                                           axes=(0,)),
                            LA.tensorsolve(a, b)),
           shapes=[((6, 6), (6,))]),
    unary("asanyarray", fn=lambda x: fnp.asanyarray(x) * 2.0),
    unary("ascontiguousarray", fn=lambda x: fnp.ascontiguousarray(x) * 2.0),
    unary("asarray_chkfinite", fn=lambda x: fnp.asarray_chkfinite(x) * 2.0),
    unary("require", fn=lambda x: fnp.require(x, requirements=["C", "W"]) * 2.0),
]

# -- functrans.scipy: incomplete gamma/beta, distributions' cdfs, more linalg ---------------
# (derivatives in x, loc, scale only: the shape parameters are constants)


# Specs whose checks take seconds each on array-api-strict (generic root finders, shape
# derivatives of the incomplete functions) run on these; other tests cover strict.
_ROOTS = ("numpy", "torch", "cupy")


def _cdfs(dist, fn, doms, shapes=_N3, one_shape_on=()):
    return [Spec(f"stats.{dist}.{m}", lambda *a, _m=m: fn(getattr(getattr(fst, dist), _m), *a),
                 doms, shapes, one_shape_on=one_shape_on)
            for m in ("cdf", "sf", "logcdf", "logsf") if hasattr(getattr(fst, dist), m)]


TABLE += [
    Spec("special.gammainc", lambda x: (fsp.gammainc(2.5, x * 3.0), fsp.gammainc(0.7, x),
                                        fsp.gammainc(1.0, x + 5.0), fsp.gammainc(40.0, x * 30.0)),
         ["pos"], U_SHAPES),
    Spec("special.gammaincc", lambda x: (fsp.gammaincc(2.5, x * 3.0), fsp.gammaincc(3.5, x * 10.0),
                                         fsp.gammaincc(0.3, x)),
         ["pos"], U_SHAPES),
    # in the shape a too (both arguments differentiated; second order reaches d2P/da2)
    Spec("special.gammainc_shape", lambda a, x: (fsp.gammainc(a * 2.0, x * 3.0),
                                                 fsp.gammainc(a * 0.2, x * 0.5),
                                                 fsp.gammainc(a * 10.0 + 30.0, x * 30.0)),
         ["pos", "pos"], B_SHAPES[:3], backends=_ROOTS),  # (strict: test_shape_derivatives)
    Spec("special.gammaincc_shape", lambda a, x: (fsp.gammaincc(a * 2.0, x * 10.0),
                                                  fsp.gammaincc(a * 0.3, x)),
         ["pos", "pos"], B_SHAPES[:3], backends=_ROOTS),
    Spec("special.betainc", lambda u: (
        fsp.betainc(2.0, 1.5, u * 0.45 + 0.5), fsp.betainc(0.6, 30.0, u * 0.05 + 0.05),
        fsp.betainc(1.0, 3.0, u * 0.4 + 0.45), fsp.betainc(0.5, 0.5, u * 0.45 + 0.5)),
        ["unit"], U_SHAPES),
    # in the shapes a, b too (all three arguments differentiated; second order reaches the
    # second derivatives in a and b and the mixed ones with x)
    # (one shape, NumPy and CuPy: slow elsewhere; tests/test_shape_derivatives.py covers
    # every backend)
    Spec("special.betainc_shape", lambda a, b, u: (
        fsp.betainc(a * 2.0, b + 1.0, u * 0.3 + 0.4), fsp.betainc(a * 0.3, b * 20.0,
                                                                   u * 0.05 + 0.05),
        fsp.betainc(a * 20.0 + 10.0, b * 0.5, u * 0.1 + 0.85)),
        ["pos", "pos", "unit"], [((3,), (3,), (3,))], backends=("numpy", "cupy")),
    # (t's generic betainc takes 8-11 s per check on array-api-strict, and its quantiles
    # several on torch: one shape there)
    *_cdfs("t", lambda f, x, lo, s: (f(x * 3.0, 2.5, lo, s), f(x * 0.5, 41.0, lo, s),
                                     f(x * 3.0, 0.8, lo, s)),
           ["real", "real", "pos"], one_shape_on=("array_api_strict", "torch")),
    *_cdfs("gamma", lambda f, x, lo, s: f(x + 1.0, 2.3, lo, s), ["pos", "unit", "pos"]),
    Spec("stats.gamma.logsf_tail", lambda x, lo, s: (fst.gamma.logsf(x * 10.0 + 30.0, 2.0, lo, s),
                                                     fst.gamma.logcdf(x * 0.01, 2.0, lo * 0.001,
                                                                      s)),
         ["pos", "unit", "pos"], _N3[:2]),
    *_cdfs("chi2", lambda f, x, lo, s: f(x + 1.0, 3.0, lo, s), ["pos", "unit", "pos"]),
    *_cdfs("beta", lambda f, u, lo, s: f(u * 0.4 + 0.5, 1.5, 2.5, lo * 0.1, s + 1.0),
           ["unit", "unit", "pos"]),
    # discrete: derivatives in the continuous parameter, k integers (Python lists)
    *[Spec(f"stats.{d}.{m}", fn, doms, U_SHAPES) for m in ("cdf", "sf") for d, fn, doms in [
        ("poisson", lambda mu, _m=m: (getattr(fst.poisson, _m)([0, 2, 5], mu * 2.0),
                                      getattr(fst.poisson, _m)([1, 3.5, 4], mu, loc=1)),
         ["pos"]),
        ("bernoulli", lambda p, _m=m: getattr(fst.bernoulli, _m)([0, 1, -1], p * 0.5 + 0.5),
         ["unit"]),
        ("binom", lambda p, _m=m: (getattr(fst.binom, _m)([0, 3, 7], [5, 7, 10], p * 0.5 + 0.5),
                                   getattr(fst.binom, _m)(4, 6, p * 0.5 + 0.5, 1)),
         ["unit"]),
        ("geom", lambda p, _m=m: getattr(fst.geom, _m)([1, 2, 6.5], p * 0.5 + 0.5), ["unit"])]],
    Spec("scipy.linalg.expm", fsl.expm, ["real"], [((3, 3),), ((2, 2, 2),)]),
    Spec("scipy.linalg.expm_scaled", lambda a: fsl.expm(a * 4.0 + 1.5),
         ["real"], [((3, 3),), ((2, 3, 3),)]),
]

# -- functrans.scipy: inverses of the incomplete gamma/beta functions, quantiles, the F
# distribution (derivatives in y / q, x, loc, scale: the shape parameters are constants)


def _q(u):  # probabilities in (0.05, 0.95) from "unit" samples
    return u * 0.5 + 0.5


# (two shapes each, and not on array-api-strict: the generic root finders behind them take
# seconds per check there; tests/test_primitive_grads.py checks their derivatives on it and
# tests/test_scipy_special.py their values)
_U2 = [U_SHAPES[0], U_SHAPES[2]]
_N2 = [_N3[0], _N3[2]]


def _quantiles(dist, fn):
    return [Spec(f"stats.{dist}.{m}", lambda *a, _m=m: fn(getattr(getattr(fst, dist), _m), *a),
                 ["unit", "unit", "pos"], _N2, backends=_ROOTS) for m in ("ppf", "isf")]


TABLE += [
    Spec("special.gammaincinv", lambda u: (fsp.gammaincinv(2.5, _q(u)),
                                           fsp.gammaincinv(0.4, _q(u) * 0.5),
                                           fsp.gammaincinv(40.0, _q(u) ** 2)),
         ["unit"], _U2, backends=_ROOTS),
    Spec("special.gammainccinv", lambda u: (fsp.gammainccinv(2.5, _q(u)),
                                            fsp.gammainccinv(0.7, _q(u) * 0.01),
                                            fsp.gammainccinv(15.0, 1.0 - _q(u) * 0.5)),
         ["unit"], _U2, backends=_ROOTS),
    Spec("special.gammaincinv_shape", lambda a, u: (fsp.gammaincinv(a * 2.0, _q(u)),
                                                    fsp.gammaincinv(a * 0.3, _q(u) * 0.1)),
         ["pos", "unit"], [((), ()), ((3,), (3,))], backends=_ROOTS),
    Spec("special.gammainccinv_shape", lambda a, u: (fsp.gammainccinv(a * 2.0, _q(u)),
                                                     fsp.gammainccinv(a * 8.0, _q(u) * 0.01)),
         ["pos", "unit"], [((), ()), ((3,), (3,))], backends=_ROOTS),
    Spec("special.betaincinv", lambda u: (
        fsp.betaincinv(2.0, 1.5, _q(u)), fsp.betaincinv(0.6, 30.0, _q(u) * 0.3),
        fsp.betaincinv(40.0, 0.8, 1.0 - _q(u) * 0.2)),
        ["unit"], _U2, backends=_ROOTS),
    Spec("special.betaincinv_shape", lambda a, b, u: (
        fsp.betaincinv(a * 2.0, b + 1.0, _q(u)), fsp.betaincinv(a * 0.5, b * 10.0, _q(u) * 0.3)),
        ["pos", "pos", "unit"], [((3,), (3,), (3,))], backends=("numpy", "cupy")),
    *_quantiles("t", lambda f, u, lo, s: (f(_q(u), 2.5, lo, s), f(_q(u) * 0.1, 40.0, lo, s))),
    *_quantiles("gamma", lambda f, u, lo, s: (f(_q(u), 2.3, lo, s), f(_q(u) * 0.1, 0.5, lo, s))),
    *_quantiles("chi2", lambda f, u, lo, s: f(_q(u), 3.0, lo, s)),
    *_quantiles("beta", lambda f, u, lo, s: (f(_q(u), 1.5, 2.5, lo, s),
                                             f(_q(u) * 0.1, 0.5, 3.0, lo, s))),
    *_quantiles("f", lambda f, u, lo, s: (f(_q(u), 3.0, 7.5, lo, s),
                                          f(_q(u) * 0.2, 1.5, 40.0, lo, s))),
    *[Spec(f"stats.f.{m}", lambda x, lo, s, _m=m: (
        getattr(fst.f, _m)(x + 1.0, 3.0, 7.5, lo, s),
        getattr(fst.f, _m)(x * 3.0 + 0.5, 1.5, 40.0, lo, s)),
        ["pos", "unit", "pos"], _N2) for m in ("logpdf", "pdf", "cdf", "sf")],
]

# -- special14 -- (functrans.scipy.special: erfcx, i0, i0e, i1, i1e, exp1, expi, expn, dawsn,
# zeta (in q), loggamma, gammasgn, multigammaln, poch, factorial, comb, boxcox, boxcox1p,
# kl_div, rel_entr, logsumexp(where=); tests/test_scipy_special.py checks their values)
# (the generic extras take seconds per check on array-api-strict, and on torch where it has
# no version of its own: one shape there)
_S1 = dict(one_shape_on=("array_api_strict",))
_S1T = dict(one_shape_on=("array_api_strict", "torch"))
_E21 = math.exp(-21.5)

TABLE += [
    _sp_unary("erfcx", fn=lambda x: (fsp.erfcx(x * 1.5), fsp.erfcx(x + 3.0)), **_S1),
    _sp_unary("i0", fn=lambda x: (fsp.i0(x * 4.0), fsp.i0(x + 21.5) * _E21), **_S1),
    _sp_unary("i0e", "nonzero", fn=lambda x: (fsp.i0e(x * 10.0), fsp.i0e(x * 4.0 + 26.0)),
              **_S1),
    _sp_unary("i1", fn=lambda x: (fsp.i1(x * 4.0), fsp.i1(x + 21.5) * _E21), **_S1),
    _sp_unary("i1e", "nonzero", fn=lambda x: (fsp.i1e(x * 10.0), fsp.i1e(x * 4.0 - 26.0)),
              **_S1),
    _sp_unary("exp1", "pos", fn=lambda x: (fsp.exp1(x * 0.5), fsp.exp1(x * 3.0)), **_S1T),
    _sp_unary("expi", "nonzero", fn=lambda x: (fsp.expi(x * 3.0),
                                               fsp.expi(x + 51.5) * math.exp(-51.5)), **_S1T),
    _sp_unary("expn", "pos", fn=lambda x: (fsp.expn(0, x), fsp.expn(1, x * 3.0),
                                           fsp.expn(3, x * 0.5), fsp.expn(4, x * 2.0)), **_S1T),
    _sp_unary("dawsn", fn=lambda x: fsp.dawsn(x * 4.0), **_S1T),
    # (in q only; the derivatives in x: tests/test_gaps_s27.py and test_gaps_s28.py; the
    # Riemann function as a constant factor)
    _sp_unary("zeta", "pos", fn=lambda q: (fsp.zeta(2.5, q), fsp.zeta(3.0, q - 3.0),
                                           fnp.multiply(fsp.zeta(fnp.stop_gradient(q) * 0.0
                                                                 - 2.5), q)), **_S1),
    _sp_unary("loggamma", "pos", fn=lambda x: fsp.loggamma(x * 3.0), **_S1),
    _sp_unary("gammasgn", "frac", fn=lambda x: fnp.multiply(fsp.gammasgn(x), x), **_S1),
    _sp_unary("multigammaln", "pos", fn=lambda a: fsp.multigammaln(a + 1.5, 3), **_S1),
    _sp_binary("poch", "pos", "real", fn=lambda z, m: (fsp.poch(z, m), fsp.poch(z + 10.0, m)),
               **_S1),
    _sp_unary("factorial", "pos", fn=lambda n: fsp.factorial(n * 3.0), **_S1),
    _sp_binary("comb", fn=lambda n, k: (fsp.comb(n * 5.0 + 4.0, k * 2.0),
                                        fsp.comb(n * 5.0 + 20.0, k * 2.0)), **_S1),
    _sp_binary("boxcox", "pos", "real", fn=lambda x, lm: (fsp.boxcox(x, lm * 0.1),
                                                          fsp.boxcox(x * 3.0, lm * 2.0)), **_S1),
    _sp_binary("boxcox1p", "pos", "real", fn=lambda x, lm: (fsp.boxcox1p(x - 0.4, lm * 0.1),
                                                            fsp.boxcox1p(x * 3.0, lm * 2.0)),
               **_S1),
    _sp_binary("kl_div", **_S1), _sp_binary("rel_entr", **_S1),
    _sp_binary("logsumexp_where", "real", "real",
               fn=lambda a, c: fsp.logsumexp(a, axis=-1, b=c + 2.0, where=c > -1.0),
               shapes=[((4,), (4,)), ((2, 3), (3,))]),
]

# -- stats14 -------------------------------------------------------------------------------------
# functrans.scipy.stats: gumbel_r, gumbel_l, lognorm, weibull_min, pareto, gennorm, truncnorm,
# vonmises, wrapcauchy, nbinom, betabinom, multinomial, dirichlet, sem, mode, gaussian_kde;
# derivatives in x (q), every continuous shape, loc and scale; one broadcast shape each
# (those through log_ndtr, ndtri, gammaln and the incomplete gamma and beta functions, or
# long series, slow on array-api-strict's generic special functions, on _ROOTS:
# tests/test_scipy_stats.py checks their values and some derivatives there)


_S14 = [((2, 3), (3,), (2, 1), ())]
_S14_5 = [((2, 3), (3,), (3,), (2, 1), ())]
_S14_METHODS = ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf", "ppf", "isf")


def _s14(dist, method, fn, doms, shapes=_S14, **kw):
    f = getattr(getattr(fst, dist), method)
    return Spec(f"stats.{dist}.{method}", lambda *a: fn(f, *a), doms, shapes, **kw)


def _s14_gumbel(dist, method):
    if method in ("ppf", "isf"):
        return _s14(dist, method, lambda f, u, m, s: f(_q(u), m, s), ["unit", "real", "pos"],
                    [((2, 3), (3,), (2, 1))])
    return _s14(dist, method, lambda f, x, m, s: f(x * 3.0, m, s), ["real", "real", "pos"],
                [((2, 3), (3,), (2, 1))])


def _s14_shaped(dist, method, x_of, shape_of, x_dom="pos", p_dom="pos", loc_scale=None,
                **kw):
    """A method of a one-shape family of (x, shape, loc, scale): x_of(x) inside the support
    (x_of(u) a probability for ppf/isf), shape_of(p) a valid shape."""
    if method in ("ppf", "isf"):
        return _s14(dist, method, lambda f, u, p, lo, s: f(_q(u), shape_of(p), lo, s),
                    ["unit", p_dom, "unit", "pos"], **kw)
    return _s14(dist, method, lambda f, x, p, lo, s: f(x_of(x), shape_of(p), lo, s),
                [x_dom, p_dom, "unit", "pos"], **kw)


def _simplex(v):  # a point of the open simplex from "real" samples (softmax on the last axis)
    e = fnp.exp(v)
    return e / fnp.sum(e, axis=-1, keepdims=True)


def _components(x):  # dirichlet's x holds the components on its first axis
    return x if x.ndim == 1 else fnp.matrix_transpose(x)


TABLE += [
    *[_s14_gumbel(d, m) for d in ("gumbel_r", "gumbel_l") for m in _S14_METHODS],
    # z = (x - loc) / scale > 0: x in (1.5, 3), |loc| < 0.8
    *[_s14_shaped("lognorm", m, lambda x: x + 1.0, lambda p: p,
                  backends=None if m in ("logpdf", "pdf") else _ROOTS) for m in _S14_METHODS],
    *[_s14_shaped("weibull_min", m, lambda x: x + 1.0, lambda p: p * 1.5)
      for m in _S14_METHODS],
    # z >= 1: x - loc in (2.4, 4.1), scale < 2
    *[_s14_shaped("pareto", m, lambda x: x + 2.0, lambda p: p) for m in _S14_METHODS],
    # z away from 0 (|z|**beta has no second derivative there for beta < 2)
    *[_s14_shaped("gennorm", m, lambda x: x * 2.0, lambda p: p + 0.5, x_dom="nonzero",
                  backends=None if m in ("logpdf", "pdf") else _ROOTS)
      for m in _S14_METHODS],
    # a in (-1.8, -0.2) < z in (-0.35, 0.35) < b in (0.5, 2)
    *[_s14("truncnorm", m, (lambda f, u, a, b, lo, s: f(_q(u), a - 1.0, b, lo, s))
           if m in ("ppf", "isf") else
           (lambda f, x, a, b, lo, s: f(x * 0.2, a - 1.0, b, lo * 0.01, s)),
           ["unit", "unit", "pos", "unit", "pos"], _S14_5, backends=_ROOTS)
      for m in _S14_METHODS],
    # kappa on both sides of 20 (the two series of log I0)
    *[_s14("vonmises", m, lambda f, x, k, lo, s: (f(x * 2.0, k * 3.0, lo, s),
                                                   f(x, k * 15.0, lo, s)),
           ["real", "pos", "unit", "pos"], backends=_ROOTS) for m in ("logpdf", "pdf")],
    # z in (0.8, 5.1), inside (0, 2 pi); c in (0.1, 0.9)
    *[_s14("wrapcauchy", m, (lambda f, u, c, lo, s: f(_q(u), c * 0.5 + 0.5, lo, s))
           if m in ("ppf", "isf") else
           (lambda f, x, c, lo, s: f(x * 2.0 + np.pi, c * 0.5 + 0.5, lo * 0.1, s * 0.1 + 1.0)),
           ["unit", "unit", "unit", "pos"]) for m in ("logpdf", "pdf", "cdf", "sf", "ppf", "isf")],
    # discrete: in nbinom's n (a real parameter) and p, betabinom's a and b; k integers
    *[_s14("nbinom", m, lambda f, n, p: (f([0, 2, 5], n * 3.0, p * 0.4 + 0.5),
                                          f([1, 3, 4], n, p * 0.4 + 0.5, loc=1)),
           ["pos", "unit"], [((3,), (3,))], backends=_ROOTS)
      for m in ("logpmf", "pmf", "cdf", "sf")],
    *[_s14("betabinom", m, lambda f, a, b: (f([0, 3, 7], [5, 7, 10], a, b * 2.0),
                                             f(4, 6, a * 0.5, b, 1)),
           ["pos", "pos"], [((3,), (3,))], backends=_ROOTS) for m in ("logpmf", "pmf")],
    *[_s14("multinomial", m, lambda f, v: f([[1.0, 0.0, 3.0], [2.0, 1.0, 1.0]], 4,
                                            _simplex(v)),
           ["real"], [((3,),), ((2, 3),)]) for m in ("logpmf", "pmf")],
    # dirichlet: the k components (on the simplex) and k - 1 of them; in x and alpha
    *[_s14("dirichlet", m, lambda f, v, al: (
        f(_components(_simplex(v)), al * 2.0),
        f(_components(_simplex(v))[:2, ...] * 0.9, al + 0.5)),
        ["real", "pos"], [((3,), (3,)), ((4, 3), (3,))]) for m in ("logpdf", "pdf")],
    Spec("stats.sem", lambda x: (fst.sem(x), fst.sem(x, axis=None, ddof=0),
                                 fst.sem(x, axis=-1, keepdims=True)),
         ["real"], [((4, 3),)]),
    Spec("stats.mode", lambda x: fst.mode(fnp.concat([x, x[:1, ...]]), axis=0).mode,
         ["distinct"], [((4,),), ((4, 3),)]),
    # gaussian_kde: in the points, the dataset, the weights; Scott's, Silverman's and a
    # (traced) scalar bandwidth
    Spec("stats.gaussian_kde", lambda pts, data, w, bw: (
        fst.gaussian_kde(data, weights=w).logpdf(pts),
        fst.gaussian_kde(data, "silverman").evaluate(pts),
        fst.gaussian_kde(data, bw * 0.5, weights=w)(pts)),
        ["real", "real", "pos", "pos"], [((2, 3), (2, 6), (6,), ())]),
    Spec("stats.gaussian_kde_1d", lambda pts, data: (
        fst.gaussian_kde(data).pdf(pts), fst.gaussian_kde(data, "silverman").logpdf(pts)),
        ["real", "real"], [((4,), (5,))]),
]

# -- stats15 -- (functrans.scipy.stats: bernoulli.ppf, cauchy.isf, logistic.isf,
# poisson.entropy, vonmises.cdf/sf, betabinom.cdf/sf, the log-CDFs' underflow series, the
# integrals and resample of gaussian_kde; functrans.scipy.signal: detrend, welch, csd, stft,
# istft; beta's and chi2's logcdf/logsf are in _cdfs above; tests/test_scipy_stats.py and
# tests/test_scipy_signal15.py check the values)
import functrans.random as _fr  # noqa: E402


def _kde_integrals(data, m, other):
    k = fst.gaussian_kde(data)
    cov = fnp.eye(2, device=fnp.device(m)) * 0.5
    return (k.integrate_gaussian(m, cov), k.integrate_kde(fst.gaussian_kde(other)),
            k.resample(_fr.key(0, device=fnp.device(data)), (3,)))


def _stft_parts(z):
    return fnp.real(z), fnp.imag(z)


TABLE += [
    # added for autograd's test suite (tests/test_autograd_suite_cases.py)
    _sp_unary("erfcinv", "pos", fn=lambda x: fsp.erfcinv(x * 0.5 + 0.2)),
    _sp_unary("jn", "pos", fn=lambda x: fsp.jn(2, x)),
    Spec("stats.t.logcdf", lambda x, df: fst.t.logcdf(x, df + 1.0, 0.3, 1.5),
         ["real", "pos"], [((3,), (3,))]),
    Spec("stats.t.logsf", lambda x, df: fst.t.logsf(x, df + 1.0),
         ["real", "pos"], [((3,), (3,))]),
    Spec("stats.multivariate_normal.entropy",
         lambda a: fst.multivariate_normal.entropy(
             None, fnp.add(a @ fnp.matrix_transpose(a), fnp.diag(fnp.ones_like(a[0, ...])))),
         ["real"], [((3, 3),)]),
]


TABLE += [
    # (the step function's derivatives: 0 in q and p, 1 in loc)
    Spec("stats.bernoulli.ppf", lambda u, p, lo: fst.bernoulli.ppf(_q(u) * 0.3, p * 0.1 + 0.4,
                                                                  lo),
         ["unit", "unit", "real"], [((3,), (3,), ())]),
    *[_s14(d, "isf", lambda f, u, m, s: f(_q(u), m, s), ["unit", "real", "pos"],
           [((2, 3), (3,), (2, 1))]) for d in ("cauchy", "logistic")],
    # both regimes: the sum below mu = 50, the asymptotic series above
    Spec("stats.poisson.entropy", lambda mu: (fst.poisson.entropy(mu * 3.0),
                                              fst.poisson.entropy(mu * 40.0 + 10.0, loc=1),
                                              fst.poisson.entropy(mu * 0.01)),
         ["pos"], [((3,),)]),
    # the series (kappa < 50) and the normal approximation (first order, NumPy and torch:
    # the series' 51 steps take seconds per check; test_scipy_stats.py checks the values
    # everywhere)
    *[_s14("vonmises", m, lambda f, x, k, lo, s: (f(x * 2.0, k * 3.0, lo, s),
                                                  f(x, k * 30.0 + 40.0, lo, s)),
           ["real", "pos", "unit", "pos"], order=1, backends=("numpy", "torch", "cupy"))
      for m in ("cdf", "sf")],
    *[_s14("betabinom", m, lambda f, a, b: (f([0, 3, 7], [5, 7, 10], a, b * 2.0),
                                             f(4, 6, a * 0.5, b, 1)),
           ["pos", "pos"], [((3,), (3,))], backends=_ROOTS) for m in ("cdf", "sf")],
    # where the probabilities underflow: the log-space series and continued fraction
    Spec("stats.log_cdf_tails", lambda u: (
        fst.chi2.logcdf(fnp.exp(u * 2.0 - 700.0), 5.0), fst.chi2.logsf(u * 100.0 + 2000.0, 3.0),
        fst.gamma.logcdf(fnp.exp(u - 250.0), 3.0), fst.gamma.logsf(u * 50.0 + 1000.0, 2.5),
        fst.beta.logcdf(fnp.exp(u - 300.0), 5.0, 2.0), fst.beta.logsf(u * 0.1 + 0.85, 2.0, 400.0)),
        ["unit"], [((3,),)], backends=("numpy", "cupy")),
    Spec("stats.gaussian_kde.integrals", _kde_integrals, ["real", "real", "real"],
         [((2, 6), (2,), (2, 4))]),
    Spec("stats.gaussian_kde.integrate_box_1d", lambda d, lo: (
        fst.gaussian_kde(d).integrate_box_1d(lo, lo + 1.5),
        fst.gaussian_kde(d, 0.5).integrate_box(fnp.reshape(lo, (1,)) + 2.0, 4.0)),
        ["real", "real"], [((5,), ())]),
    Spec("scipy.signal.detrend", lambda x: (fss.detrend(x), fss.detrend(x, axis=0, type="c"),
                                            fss.detrend(x, bp=[3])),
         ["real"], [((2, 7),)]),
    Spec("scipy.signal.welch", lambda x: (
        fss.welch(x, nperseg=8)[1],
        fss.welch(x, 2.0, "hamming", 6, 2, detrend="linear", average="median")[1]),
        ["real"], [((2, 20),)]),
    Spec("scipy.signal.csd", lambda x, y: _stft_parts(fss.csd(x, y, window="blackman",
                                                              nperseg=8, scaling="spectrum")[1]),
         ["real", "real"], [((2, 16), (16,))]),
    Spec("scipy.signal.stft", lambda x: (*_stft_parts(fss.stft(x, nperseg=8)[2]),
                                         *_stft_parts(fss.stft(x, nperseg=6, noverlap=4,
                                                               boundary="odd")[2])),
         ["real"], [((12,),)]),
    Spec("scipy.signal.istft", lambda zr, zi: (
        fss.istft(fnp.add(zr, fnp.multiply(1j, zi)), nperseg=8)[1],
        fss.istft(fnp.add(zr, fnp.multiply(1j, zi)), window="hamming", nperseg=8,
                  noverlap=6)[1]),
         ["real", "real"], [((5, 4), (5, 4))]),
]
# (the log methods of gamma, beta and chi2 run their underflow series and continued fraction
# too, beside both incomplete functions: gamma's one shape on array-api-strict, where the
# generic incomplete functions are slow, beta's and chi2's (new, made by _cdfs above) not
# there and one shape on torch; tests/test_scipy_stats.py checks a derivative on every backend)
for _spec in TABLE:
    if _spec.name in ("stats.gamma.logcdf", "stats.gamma.logsf", "stats.gamma.logsf_tail"):
        _spec.one_shape_on = tuple(_spec.one_shape_on) + ("array_api_strict",)
    if _spec.name in ("stats.beta.logcdf", "stats.beta.logsf", "stats.chi2.logcdf",
                      "stats.chi2.logsf"):
        _spec.backends = _ROOTS
        _spec.one_shape_on = tuple(_spec.one_shape_on) + ("torch",)

# -- special14b -- (functrans.scipy.special: spence, sici, fresnel, owens_t; bernoulli has no
# derivative (tests/test_scipy_special.py); that file checks their values). The generic extras
# (array-api-strict, torch) take one shape.
TABLE += [
    _sp_unary("spence", "pos", fn=lambda z: (fsp.spence(z), fsp.spence(z * 3.0),
                                             fsp.spence(z * 0.2)), **_S1T),
    # (one call each, over both sides of the generic versions' splits: 3 for sici, 1.6 for
    # fresnel, |a| = 1 for owens_t)
    _sp_unary("sici", "nonzero", fn=lambda x: fsp.sici(x * 4.0), **_S1T),
    _sp_unary("fresnel", fn=lambda x: fsp.fresnel(x * 2.0), **_S1T),
    _sp_binary("owens_t", "real", "real", fn=lambda h, a: fsp.owens_t(h * 2.0, a * 1.5),
               **_S1T),
]

# -- special15 -- (functrans.scipy.special: wofz through the real and imaginary parts of its
# input and result, hyp1f1 in x (its derivatives in a and b: tests/test_gaps_s27.py, _s29.py);
# tests/test_scipy_special.py checks their values). The generic extras (array-api-strict,
# torch) take one shape.
def _wofz_parts(x, y):
    w = fsp.wofz(fnp.add(x, fnp.multiply(y, 1j)))
    return fnp.real(w), fnp.imag(w)


TABLE += [
    _sp_binary("wofz", "real", "real", fn=lambda x, y: _wofz_parts(x * 3.0, y * 2.0), **_S1T),
    # (both sides of 0, where the generic version may switch to Kummer's transformation; the
    # asymptotic expansion's derivatives: tests/test_scipy_special.py)
    _sp_unary("hyp1f1", fn=lambda x: fsp.hyp1f1(-2.5, 1.3, x * 2.0), **_S1T),
]

# -- special15b -- (functrans.scipy.special: hyp2f1 in x, jv and bessel_jn in z, sph_harm_y
# through the real and imaginary parts, in theta and phi; the derivatives in the parameters
# raise NotImplementedError; tests/test_scipy_special.py checks the values.)
def _sph_parts(theta, phi):
    y = fsp.sph_harm_y(3, -2, theta + 1.5, phi * 2.0)
    return fnp.real(y), fnp.imag(y)


_U15B = [((),), ((3,),)]
_B15B = [((), ()), ((2, 1), (1, 3))]

TABLE += [
    # (x in (-3.2, 0.6): Pfaff's transformation, the series, the transformation to 1 - x)
    _sp_unary("hyp2f1", "unit", fn=lambda x: fsp.hyp2f1(1.5, -0.7, 2.3, x * 2.4 - 1.3),
              shapes=_U15B, **_S1T),
    # (z in (1.5, 6): the series and the recurrence, a negative fractional order; integer
    # orders and negative z through bessel_jn)
    _sp_unary("jv", "pos", fn=lambda z: fsp.jv(-1.5, z * 3.0), shapes=_U15B, **_S1T),
    _sp_unary("bessel_jn", fn=lambda z: fsp.bessel_jn(z * 3.0, v=2), order=1, shapes=_U15B,
              **_S1T),
    _sp_binary("sph_harm_y", "real", "real", fn=_sph_parts, shapes=_B15B, **_S1T),
    # session 22: iv/ive in x (a fractional order on x > 0, an integer one on both signs)
    _sp_unary("iv", "pos", fn=lambda x: fsp.iv(1.5, x * 3.0), shapes=_U15B, **_S1T),
    _sp_unary("ive", fn=lambda x: fsp.ive(3.0, x * 4.0), shapes=_U15B, **_S1T),
    # session 54: its derivative from |x| = 30 by the asymptotic series (ive_asymptotic)
    _sp_unary("ive_far", fn=lambda x: fsp.ive(2.5, x * 10.0 + 60.0), shapes=_U15B, **_S1T),
]

# -- special18 -- (functrans.scipy.special: SciPy's distribution functions, the elementary ones
# and the Bessel functions j0 ... k1e, yn; tests/test_special_scipy_dispatch.py checks their
# values; zetac, which has no derivative, is in NO_DERIVATIVE of tests/test_scipy_special.py)
_S3 = [((3,), (3,), (3,))]
_B18 = [((), ()), ((3,), (3,))]


def _sp3(name, doms, fn, **kw):
    return Spec("special." + name, fn, doms, _S3, **kw)


TABLE += [
    _sp3("betaincc", ["pos", "pos", "unit"],
         lambda a, b, x: fsp.betaincc(a * 2.0, b + 1.0, _q(x)), **_S1T),
    _sp_binary("stdtr", "pos", "real", fn=lambda d, t: (fsp.stdtr(d * 3.0, t * 2.0),
                                                        fsp.stdtr(d * 30.0, t * 4.0)),
               shapes=_B18, **_S1T),
    _sp_binary("stdtrit", "pos", "unit", fn=lambda d, p: fsp.stdtrit(d * 3.0, _q(p)),
               shapes=_B18, backends=_ROOTS),
    _sp_binary("chdtr", fn=lambda v, x: fsp.chdtr(v * 2.0, x * 3.0), shapes=_B18, **_S1T),
    _sp_binary("chdtrc", fn=lambda v, x: fsp.chdtrc(v * 2.0, x * 3.0), shapes=_B18, **_S1T),
    _sp_binary("chdtri", "pos", "unit", fn=lambda v, p: fsp.chdtri(v * 2.0, _q(p)),
               shapes=_B18, backends=_ROOTS),
    _sp3("gdtr", ["pos", "pos", "pos"], lambda a, b, x: fsp.gdtr(a, b * 2.0, x), **_S1T),
    _sp3("gdtrc", ["pos", "pos", "pos"], lambda a, b, x: fsp.gdtrc(a, b * 2.0, x), **_S1T),
    # (the counts k, n: integers, floored; no derivative in them)
    _sp_unary("pdtr", "pos", fn=lambda m: fsp.pdtr(3.0, m * 2.0), shapes=_U15B, **_S1T),
    _sp_unary("pdtrc", "pos", fn=lambda m: fsp.pdtrc(2.5, m * 2.0), shapes=_U15B, **_S1T),
    _sp_unary("pdtri", "unit", fn=lambda p: fsp.pdtri(2.0, _q(p)), shapes=_U15B,
              backends=_ROOTS),
    _sp3("fdtr", ["pos", "pos", "pos"], lambda n, m, x: fsp.fdtr(n * 2.0, m * 3.0, x),
         **_S1T),
    _sp3("fdtrc", ["pos", "pos", "pos"], lambda n, m, x: fsp.fdtrc(n * 2.0, m * 3.0, x),
         **_S1T),
    _sp3("fdtri", ["pos", "pos", "unit"], lambda n, m, p: fsp.fdtri(n * 2.0, m * 3.0, _q(p)),
         backends=_ROOTS),
    _sp_unary("bdtr", "unit", fn=lambda p: fsp.bdtr(3.0, 10.0, _q(p)), shapes=_U15B, **_S1T),
    _sp_unary("bdtrc", "unit", fn=lambda p: fsp.bdtrc(2.5, 7.0, _q(p)), shapes=_U15B,
              **_S1T),
    _sp_unary("bdtri", "unit", fn=lambda p: fsp.bdtri(2.0, 5.0, _q(p)), shapes=_U15B,
              backends=_ROOTS),
    _sp_unary("nbdtr", "unit", fn=lambda p: fsp.nbdtr(2.0, 3.0, _q(p)), shapes=_U15B,
              **_S1T),
    _sp_unary("nbdtrc", "unit", fn=lambda p: fsp.nbdtrc(1.0, 3.5, _q(p)), shapes=_U15B,
              **_S1T),
    _sp_unary("nbdtri", "unit", fn=lambda p: fsp.nbdtri(3.0, 2.0, _q(p)), shapes=_U15B,
              backends=_ROOTS),
    _sp_unary("cbrt", "nonzero"),
    _sp_unary("sindg", fn=lambda x: fsp.sindg(x * 100.0)),
    _sp_unary("cosdg", fn=lambda x: fsp.cosdg(x * 100.0)),
    _sp_unary("tandg", fn=lambda x: fsp.tandg(x * 50.0)),
    _sp_unary("cotdg", fn=lambda x: fsp.cotdg(x * 50.0 + 90.0)),
    Spec("special.radian", fsp.radian, ["real", "real", "real"], _S3),
    _sp_unary("cosm1"), _sp_unary("exp2"), _sp_unary("exp10"),
    _sp_unary("exprel", fn=lambda x: (fsp.exprel(x * 0.2), fsp.exprel(x * 4.0))),
    # (through the poles at 0, -1, ...: rgamma is entire)
    _sp_unary("rgamma", fn=lambda x: fsp.rgamma(x * 3.0)),
    _sp_unary("sinc", fn=lambda x: fsp.sinc(x * 2.0)),
    _sp_binary("inv_boxcox", "real", "real",
               fn=lambda y, lm: (fsp.inv_boxcox(y, lm * 0.1), fsp.inv_boxcox(y, lm * 1e-4))),
    _sp_binary("inv_boxcox1p", "real", "real",
               fn=lambda y, lm: (fsp.inv_boxcox1p(y, lm * 0.1),
                                 fsp.inv_boxcox1p(y * 1e-3, lm * 1e-4))),
    _sp_binary("huber", "pos", "real", fn=lambda d, r: fsp.huber(d, r * 2.0)),
    _sp_binary("pseudo_huber", "pos", "real", fn=lambda d, r: fsp.pseudo_huber(d, r * 2.0)),
    _sp_binary("binom", fn=lambda n, k: (fsp.binom(n * 5.0 + 2.0, k * 2.0),
                                         fsp.binom(n * -0.3 - 0.1, k),
                                         fsp.binom(n * 40.0 + 100.0, k * 3.0))),
    _sp_unary("j0", fn=lambda x: (fsp.j0(x * 5.0), fsp.j0(x + 30.0)), **_S1T),
    _sp_unary("j1", fn=lambda x: (fsp.j1(x * 5.0), fsp.j1(x + 30.0)), **_S1T),
    _sp_unary("y0", "pos", fn=lambda x: (fsp.y0(x), fsp.y0(x * 6.0), fsp.y0(x + 30.0)),
              **_S1T),
    _sp_unary("y1", "pos", fn=lambda x: (fsp.y1(x), fsp.y1(x * 6.0), fsp.y1(x + 30.0)),
              **_S1T),
    _sp_unary("yn", "pos", fn=lambda x: (fsp.yn(3, x * 2.0), fsp.yn(-2, x + 3.0)), **_S1T),
    _sp_unary("k0", "pos", fn=lambda x: (fsp.k0(x * 0.5), fsp.k0(x * 6.0), fsp.k0(x + 30.0)),
              **_S1T),
    _sp_unary("k1", "pos", fn=lambda x: (fsp.k1(x * 0.5), fsp.k1(x * 6.0), fsp.k1(x + 30.0)),
              **_S1T),
    _sp_unary("k0e", "pos", fn=lambda x: (fsp.k0e(x * 0.5), fsp.k0e(x * 6.0),
                                          fsp.k0e(x + 30.0)), **_S1T),
    _sp_unary("k1e", "pos", fn=lambda x: (fsp.k1e(x * 0.5), fsp.k1e(x * 6.0),
                                          fsp.k1e(x + 30.0)), **_S1T),
    # (through m = 0, where the closed forms of the derivatives are 0/0; negative m)
    _sp_unary("ellipk", fn=lambda m: (fsp.ellipk(m * 0.6), fsp.ellipk(m * 10.0 - 20.0))),
    _sp_unary("ellipkm1", "pos", fn=lambda p: (fsp.ellipkm1(p * 1e-3), fsp.ellipkm1(p * 2.0))),
    _sp_unary("ellipe", fn=lambda m: (fsp.ellipe(m * 0.6), fsp.ellipe(m * 10.0 - 20.0))),
    # (a positive order, and a negative one of an integer degree: a polynomial)
    _sp_unary("lpmv", "unit", fn=lambda x: (fsp.lpmv(2, 1.7, x), fsp.lpmv(-1, 4.0, x)),
              shapes=_U15B, **_S1T),
]

# -- linalg.eig, linalg.eigvals (functrans/primitives/linalg.py) ------------------------------
# Only functions that do not depend on each eigenvector's free phase; array-api-strict has no
# eig (tests/test_linalg_eig.py checks its error).
_EIG_BACKENDS = ("numpy", "torch", "cupy")


def _eig_invariants(a):
    """Eigenvalues, |V|^2 and the first eigenprojector v_0 v_0^H: what eig determines."""
    w, v = LA.eig(a)
    order = fnp.argsort(fnp.real(w) + 0.1 * fnp.imag(w))  # a fixed order of a distinct spectrum
    w = fnp.take_along_axis(w, order, axis=-1)
    v = fnp.take_along_axis(v, order[..., None, :], axis=-1)
    proj = v[..., :, :1] * fnp.conj(v[..., None, :, 0])
    return (fnp.real(w), fnp.imag(w), fnp.real(v * fnp.conj(v)), fnp.real(proj),
            fnp.imag(proj))


TABLE += [
    Spec("linalg.eig", _eig_invariants, ["mat"], [((3, 3),), ((2, 4, 4),)],
         backends=_EIG_BACKENDS),
    Spec("linalg.eig_complex", lambda a, b: _eig_invariants(a + 1j * b), ["mat", "mat"],
         [((3, 3), (3, 3))], backends=_EIG_BACKENDS),
    Spec("linalg.eigvals", lambda a: (fnp.real(fnp.sum(LA.eigvals(a) ** 2, axis=-1)),
                                      fnp.prod(fnp.abs(LA.eigvals(a)), axis=-1)),
         ["mat"], [((3, 3),), ((2, 2, 2),)], backends=_EIG_BACKENDS),
]

# -- NumPy's where= and initial= of the reductions (functrans/numpy/_base.py, _statistics.py) --
def _masked(name, **kw):
    def fn(x):
        # the mask comes from the values (fixed where finite differences move them slightly)
        return getattr(fnp, name)(x, where=fnp.abs(x) > 0.3, **kw)
    return Spec(name + "_where", fn, ["real"], [((5,),), ((3, 4),)])


TABLE += [_masked("sum"), _masked("sum", axis=0, initial=1.5), _masked("prod", axis=-1),
          _masked("mean", axis=-1, keepdims=True), _masked("var", axis=0, ddof=1),
          _masked("std"), _masked("max", initial=-0.5), _masked("min", axis=0, initial=0.5),
          Spec("max_initial", lambda x: fnp.max(x, axis=0, initial=0.0), ["real"],
               [((3, 4),)])]

# -- functrans.numpy.fft (functrans/numpy/fft.py, functrans/primitives/fft.py) ---------------
FFT = fnp.fft


def _parts(z):
    return fnp.real(z), fnp.imag(z)


def _c2c(name, fn, shapes):
    """A transform of complex input, checked through its real and imaginary parts."""
    return Spec("fft." + name, lambda re, im: _parts(fn(fnp.add(re, fnp.multiply(1j, im)))),
                ["real", "real"], shapes)


_F2 = [((6,), (6,)), ((3, 4), (3, 4))]
TABLE += [
    _c2c("fft", lambda z: FFT.fft(z), _F2),
    _c2c("fft_n", lambda z: FFT.fft(z, n=4, axis=0, norm="ortho"), [((5, 2), (5, 2))]),
    _c2c("ifft", lambda z: FFT.ifft(z, n=8), _F2),
    _c2c("fftn", lambda z: FFT.fftn(z, norm="forward"), _F2),
    _c2c("ifftn", lambda z: FFT.ifftn(z, s=(2, 5)), [((3, 4), (3, 4))]),
    _c2c("fft2", FFT.fft2, [((3, 4), (3, 4))]),
    _c2c("ifft2", lambda z: FFT.ifft2(z, norm="ortho"), [((2, 3, 4), (2, 3, 4))]),
    Spec("fft.rfft", lambda x: _parts(FFT.rfft(x)), ["real"], [((6,),), ((2, 5),)]),
    Spec("fft.rfft_n", lambda x: _parts(FFT.rfft(x, n=7, axis=0, norm="ortho")), ["real"],
         [((5, 2),)]),
    _c2c("irfft", lambda z: FFT.irfft(z), _F2),
    _c2c("irfft_n", lambda z: FFT.irfft(z, n=7, norm="forward"), [((3, 5), (3, 5))]),
    Spec("fft.rfftn", lambda x: _parts(FFT.rfftn(x)), ["real"], [((3, 4),), ((2, 3, 4),)]),
    _c2c("irfftn", lambda z: FFT.irfftn(z, s=(4, 9)), [((3, 4), (3, 4))]),
    _c2c("irfftn_axes", lambda z: FFT.irfftn(z, axes=(1, 0)), [((3, 4), (3, 4))]),
    Spec("fft.rfft2", lambda x: _parts(FFT.rfft2(x, norm="ortho")), ["real"], [((3, 4),)]),
    _c2c("irfft2", FFT.irfft2, [((3, 4), (3, 4))]),
    _c2c("hfft", lambda z: FFT.hfft(z, n=6), _F2),
    Spec("fft.ihfft", lambda x: _parts(FFT.ihfft(x)), ["real"], [((6,),), ((2, 5),)]),
    Spec("fft.fftshift", FFT.fftshift, ["real"], [((5,),), ((3, 4),)]),
    Spec("fft.ifftshift", lambda x: FFT.ifftshift(x, axes=0), ["real"], [((5,),), ((3, 4),)]),
]

# -- convolution (functrans/convolution.py) ------------------------------------------------
import functrans.lax as lax  # noqa: E402
import functrans.scipy.signal as fss  # noqa: E402


def _cgd(**kw):
    return lambda x, w: lax.conv_general_dilated(x, w, **kw)


TABLE += [
    Spec("lax.conv_general_dilated",
         lambda x, w: lax.conv_general_dilated(x, w, (1,) * (x.ndim - 2), "SAME"),
         ["real", "real"], [((2, 2, 5), (3, 2, 3)), ((1, 2, 4, 5), (2, 2, 2, 3))]),
    Spec("lax.conv_general_dilated_2d",
         _cgd(window_strides=(2, 1), padding=((1, 0), (2, -1)), lhs_dilation=(1, 2),
              rhs_dilation=(2, 1)),
         ["real", "real"], [((1, 2, 4, 3), (2, 2, 2, 2))]),
    Spec("lax.conv_general_dilated_nhwc_groups",
         _cgd(window_strides=(1, 2), padding="SAME_LOWER",
              dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=2),
         ["real", "real"], [((2, 3, 4, 4), (2, 2, 2, 4))]),
    Spec("lax.conv_general_dilated_3d", _cgd(window_strides=(1, 1, 2), padding="VALID"),
         ["real", "real"], [((1, 1, 3, 3, 4), (2, 1, 2, 2, 2))]),
    Spec("lax.conv", lambda x, w: lax.conv(x, w, (1, 1), "VALID"), ["real", "real"],
         [((1, 2, 3, 4), (2, 2, 2, 2))]),
    Spec("lax.conv_with_general_padding",
         lambda x, w: lax.conv_with_general_padding(x, w, (2, 1), ((1, 1), (0, 1)), (2, 1),
                                                    (1, 2)),
         ["real", "real"], [((1, 1, 3, 4), (2, 1, 2, 2))]),
    Spec("lax.conv_transpose",
         lambda x, w: lax.conv_transpose(x, w, (2, 2), "SAME", transpose_kernel=True),
         ["real", "real"], [((1, 3, 2, 2), (2, 2, 3, 2)), ((1, 2, 3, 1), (3, 2, 2, 1))]),
    Spec("lax.conv_transpose_1d_valid",
         lambda x, w: lax.conv_transpose(x, w, (2,), "VALID", dimension_numbers=(
             "NCH", "OIH", "NCH")),
         ["real", "real"], [((2, 2, 3), (1, 2, 3))]),
    Spec("lax.reduce_window_max",
         lambda x: lax.reduce_window(x, -fnp.inf, lax.max, (1, 2, 2), (1, 2, 1), "SAME"),
         ["distinct"], [((2, 4, 3),), ((1, 3, 5),)]),
    Spec("lax.reduce_window_min",
         lambda x: lax.reduce_window(x, 0.5, lax.min, (2, 2), (1, 1), ((1, 0), (0, 1)),
                                     window_dilation=(1, 2)),
         ["distinct"], [((3, 4),)]),
    Spec("lax.reduce_window_add",
         lambda x: lax.reduce_window(x, 1.0, lax.add, (1, 2, 3), (1, 2, 2), "SAME",
                                     base_dilation=(1, 2, 1)) / 6.0,
         ["real"], [((2, 3, 4),)]),
    Spec("lax.reduce_window_mul",
         lambda x: lax.reduce_window(x, 1.0, lax.mul, (2,), (1,), "VALID"),
         ["real"], [((4,),)]),
    Spec("scipy.signal.convolve", lambda a, b: fss.convolve(a, b), ["real", "real"],
         [((5,), (3,)), ((2, 3), (3, 2))]),
    Spec("scipy.signal.convolve_same", lambda a, b: fss.convolve(a, b, mode="same"),
         ["real", "real"], [((3,), (4,)), ((3, 4), (2, 2))]),
    Spec("scipy.signal.correlate", lambda a, b: fss.correlate(a, b, mode="valid"),
         ["real", "real"], [((5,), (3,)), ((2, 4), (3, 5))]),
    Spec("scipy.signal.correlate_complex",
         lambda a, b: fnp.real(fss.correlate(a * (1 + 2j), b * (2 - 1j) + 1j, mode="same")),
         ["real", "real"], [((4,), (3,))]),
    Spec("scipy.signal.convolve2d",
         lambda a, b: fss.convolve2d(a, b, mode="same", boundary="wrap"),
         ["real", "real"], [((3, 4), (2, 3))]),
    Spec("scipy.signal.correlate2d",
         lambda a, b: (fss.correlate2d(a, b, boundary="symm"),
                       fss.correlate2d(a, b, mode="same", fillvalue=0.5)),
         ["real", "real"], [((3, 4), (2, 2))]),
    Spec("scipy.signal.fftconvolve",
         lambda a, b: (fss.fftconvolve(a, b), fss.oaconvolve(a, b, mode="same")),
         ["real", "real"], [((5,), (3,)), ((2, 3), (3, 2))]),
]

# -- quadrature of sampled data (functrans/scipy/integrate.py) --------------------------------
import functrans.scipy.integrate as fsi  # noqa: E402

TABLE += [
    # (x from positive spacings: strictly increasing, as cumulative_simpson requires)
    Spec("scipy.integrate.cumulative_simpson",
         lambda y, d, ini: (fsi.cumulative_simpson(y, x=fnp.cumsum(d, axis=-1),
                                                  initial=ini[..., :1]),
                            fsi.cumulative_simpson(y, dx=d[..., :1] + 0.5, axis=-1),
                            fsi.cumulative_simpson(y[..., :2],
                                                   x=fnp.cumsum(d[..., :2], axis=-1))),
         ["real", "pos", "real"], [((5,), (5,), (5,)), ((2, 4), (2, 4), (2, 4))]),
    Spec("scipy.integrate.romb",
         lambda y, d: (fsi.romb(y, dx=d), fsi.romb(y[..., :3], dx=0.25)),
         ["real", "pos"], [((5,), ()), ((2, 9), ())]),
]

# -- functrans.nn (functrans/nn.py) ----------------------------------------------------------
import functrans.nn as fnn  # noqa: E402


def _nn(name, domain="real", fn=None, shapes=U_SHAPES, **kw):
    return Spec("nn." + name, fn or (lambda x: getattr(fnn, name)(x * 3.0)), [domain], shapes,
                **kw)


def _attention(q, k, v, bias, mask_src):
    return fnn.dot_product_attention(q, k, v, bias=bias, mask=mask_src > -0.5)


TABLE += [_nn(n) for n in ("relu", "relu6", "sigmoid", "softplus", "soft_sign", "silu",
                           "log_sigmoid", "leaky_relu", "elu", "celu", "selu", "hard_tanh",
                           "hard_sigmoid", "hard_silu", "mish", "squareplus", "sparse_plus",
                           "sparse_sigmoid")]
TABLE += [
    _nn("gelu", fn=lambda x: fnn.gelu(x * 3.0) + fnn.gelu(x, approximate=False)),
    _nn("glu", fn=lambda x: fnn.glu(x, axis=0), shapes=[((4,),), ((2, 3),)]),
    _nn("softmax", fn=lambda x: fnn.softmax(x * 3.0), shapes=R_SHAPES),
    _nn("softmax_where", fn=lambda x: fnn.softmax(x, axis=0, where=x > -0.5),
        shapes=R_SHAPES),
    _nn("log_softmax", fn=lambda x: fnn.log_softmax(x * 3.0, axis=(0, -1)),
        shapes=[((2, 3),), ((2, 2, 3),)]),
    _nn("log_softmax_where", fn=lambda x: fnn.log_softmax(x, where=fnp.abs(x) < 1.5)[..., :1],
        shapes=R_SHAPES),
    _nn("logsumexp", fn=lambda x: fnn.logsumexp(x, axis=-1), shapes=R_SHAPES),
    _nn("standardize", fn=fnn.standardize, shapes=R_SHAPES),
    Spec("nn.standardize_given",
         lambda x, m, v: fnn.standardize(x, axis=0, mean=m, variance=v * v + 0.5),
         ["real"] * 3, [((3,), (), ()), ((2, 3), (3,), (1, 3))]),
    _nn("standardize_where", fn=lambda x: fnn.standardize(x, axis=0, where=x > -1.0),
        shapes=R_SHAPES),
    Spec("nn.dot_product_attention", _attention, ["real"] * 5,
         [((2, 3, 2, 4), (2, 5, 1, 4), (2, 5, 1, 4), (2, 3, 5), (3, 5))]),
    Spec("nn.dot_product_attention_causal",
         lambda q, k, v: fnn.dot_product_attention(q, k, v, is_causal=True, scale=0.3),
         ["real"] * 3, [((3, 2, 4), (3, 2, 4), (3, 2, 4))]),
]

# -- port4 -- (functrans.nn's log1mexp, logmeanexp, logsumexp(where=), identity, tanh;
# functrans.scipy.linalg's lu_factor, lu_solve, lu: rows reversed, so that pivoting swaps them)
TABLE += [
    _nn("log1mexp", domain="pos", fn=lambda x: fnn.log1mexp(x) + fnn.log1mexp(x * 2.0)),
    _nn("logmeanexp", fn=lambda x: fnn.logmeanexp(x * 3.0, axis=-1), shapes=R_SHAPES),
    _nn("logmeanexp_where", fn=lambda x: fnn.logmeanexp(x, axis=0, where=x > -0.5,
                                                        keepdims=True), shapes=R_SHAPES),
    _nn("logsumexp_where", fn=lambda x: fnn.logsumexp(x, where=fnp.abs(x) < 1.5),
        shapes=R_SHAPES),
    _nn("identity", fn=lambda x: fnn.identity(x) * 3.0),
    _nn("tanh"),
    Spec("scipy.linalg.lu_factor", lambda a: fsl.lu_factor(fnp.flip(a, axis=-2))[0],
         ["mat"], [((3, 3),), ((2, 3, 3),), ((2, 3),)]),
    Spec("scipy.linalg.lu_solve", lambda a, b: (
        fsl.lu_solve(fsl.lu_factor(fnp.flip(a, axis=-2)), b),
        fsl.lu_solve(fsl.lu_factor(a), b, trans=1)),
        ["mat", "real"], [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3, 1))]),
    Spec("scipy.linalg.lu", lambda a: fsl.lu(fnp.flip(a, axis=-2))[1:] + fsl.lu(
        a, permute_l=True), ["mat"], [((3, 3),), ((3, 2),), ((2, 4),)]),
]

# -- functrans.numpy: misc (session 11) (functrans/numpy/_misc.py, unique(axis), polyint) -----


def _enumerated(x):
    """The elements of ``x`` from ndenumerate, each scaled by 1 + the sum of its index."""
    out = [v * (1.0 + sum(i)) for i, v in fnp.ndenumerate(x)]
    return fnp.stack(out) if out else fnp.reshape(x, (0,))


TABLE += [
    unary("asfortranarray", fn=lambda x: fnp.asfortranarray(x * 2.0)),
    unary("ndenumerate", fn=_enumerated),
    unary("unique_axis", "distinct",
          fn=lambda x: fnp.unique(fnp.concat([x, x[:1, ...]], axis=0), axis=0) * 1.5,
          shapes=[((3, 2),), ((2, 3, 2),)], data_dependent=True),
    unary("unique_axis_flags", "distinct",
          fn=lambda x: fnp.unique(fnp.concat([x[:, :1, ...], x, x[:, 1:2, ...]], axis=1),
                                  return_index=True, return_inverse=True,
                                  return_counts=True, axis=1)[0],
          shapes=[((2, 3),), ((3, 3, 2),)], data_dependent=True),
    unary("polyint_m0", fn=lambda x: fnp.polyint(x, 0) * 2.0, shapes=[((),), ((2, 3),)]),
]

# -- linalg14 -- (functrans.scipy.linalg: matrix equations, sqrtm, polar, expm_frechet,
# hessenberg, rsf2csf, eigh_tridiagonal, qr_multiply, special matrices; schur and funm have
# no derivative: the schur primitive is reached through a constant basis)


def _real_schur_3(x):
    """A 3x3 real Schur form from ``x``: ``x``'s upper triangle with a 2x2 block in rows 1-2
    whose off-diagonal product is negative (a complex pair, well away from splitting)."""
    t = fnp.triu(x)
    minus2 = fnp.zeros_like(t[2:3, :1]) - 2.0
    return fnp.concat([t[:1, :], fnp.concat([t[1:2, :2], t[1:2, 2:3] + 2.0], axis=-1),
                       fnp.concat([t[2:3, :1], minus2, t[2:3, 2:3]], axis=-1)], axis=0)


def _re_im(zs):
    return [f(z) for z in zs for f in (fnp.real, fnp.imag)]


def _schur_basis(a):
    """``a`` in the Schur basis of a fixed matrix (of ``a``'s library, shape and device)."""
    ones = fnp.ones_like(fnp.stop_gradient(a))
    z = fsl.schur(fnp.triu(ones) * 2.0 + fnp.tril(ones, k=-1) * 0.5)[1]
    return fnp.matmul(fnp.matmul(fnp.matrix_transpose(z), a), z)


TABLE += [
    Spec("scipy.linalg.solve_sylvester", fsl.solve_sylvester, ["mat", "mat", "real"],
         [((3, 3), (2, 2), (3, 2)), ((2, 2, 2), (2, 2), (2, 2))]),
    Spec("scipy.linalg.solve_continuous_lyapunov", fsl.solve_continuous_lyapunov,
         ["mat", "real"], [((3, 3), (3, 3))]),
    Spec("scipy.linalg.solve_discrete_lyapunov", lambda a, q: (
        fsl.solve_discrete_lyapunov(a * 0.3, q),
        fsl.solve_discrete_lyapunov(a * 0.3, q, method="bilinear")),
        ["mat", "real"], [((3, 3), (3, 3))]),
    Spec("scipy.linalg.sqrtm", fsl.sqrtm, ["mat"], [((3, 3),), ((2, 2, 2),)]),
    Spec("scipy.linalg.schur_basis", _schur_basis, ["mat"], [((3, 3),)], backends=("numpy",)),
    Spec("scipy.linalg.rsf2csf", lambda x, z: _re_im(fsl.rsf2csf(_real_schur_3(x), z)),
         ["mat", "real"], [((3, 3), (3, 3))], order=1),
    Spec("scipy.linalg.hessenberg", lambda a: fsl.hessenberg(a, calc_q=True),
         ["real"], [((4, 4),)]),
    Spec("scipy.linalg.polar", lambda a: fsl.polar(a) + fsl.polar(a, side="left"),
         ["mat"], [((3, 2),)]),
    Spec("scipy.linalg.expm_frechet", fsl.expm_frechet, ["real", "real"], [((2, 2), (2, 2))],
         one_shape_on=("array_api_strict",)),
    Spec("scipy.linalg.eigh_tridiagonal", lambda d, e: (
        fsl.eigh_tridiagonal(d, e)[0], fsl.eigh_tridiagonal(d, e)[1] ** 2,
        fsl.eigh_tridiagonal(d, e, select="i", select_range=(1, 2), eigvals_only=True)),
        ["distinct", "unit"], [((3,), (2,))]),
    Spec("scipy.linalg.qr_multiply", lambda a, c: (
        fsl.qr_multiply(a, c)[0], fsl.qr_multiply(a, c[:, :2], mode="left")[0],
        fsl.qr_multiply(a, c[0, :], conjugate=True)[1]),
        ["mat", "real"], [((3, 2), (2, 3))]),
    Spec("scipy.linalg.circulant", fsl.circulant, ["real"], [((3,),), ((2, 3),)]),
    Spec("scipy.linalg.companion", fsl.companion, ["nonzero"], [((4,),), ((2, 3),)]),
    Spec("scipy.linalg.convolution_matrix", lambda a: (
        fsl.convolution_matrix(a, 4), fsl.convolution_matrix(a, 2, mode="same"),
        fsl.convolution_matrix(a, 2, mode="valid")), ["real"], [((2, 3),)]),
    Spec("scipy.linalg.fiedler", fsl.fiedler, ["distinct"], [((4,),), ((2, 3),)]),
    Spec("scipy.linalg.fiedler_companion", fsl.fiedler_companion, ["nonzero"],
         [((5,),), ((2, 3),)]),
    Spec("scipy.linalg.hankel", lambda c, r: (fsl.hankel(c, r), fsl.hankel(c)),
         ["real", "real"], [((3,), (4,)), ((2,), (1,))]),
    Spec("scipy.linalg.leslie", fsl.leslie, ["real", "real"], [((3,), (2,)), ((2, 3), (2,))]),
]

for _s in TABLE:
    _s.domains = [d for d in _s.domains if d is not None]

# Public functions of the namespace with no derivative (integer, boolean or shape-only
# results, or no array input).
NO_DERIVATIVE = {
    "argmax", "argmin", "argsort", "nonzero", "searchsorted", "count_nonzero", "all", "any",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "isfinite",
    "isinf", "isnan", "signbit", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", "bitwise_left_shift",
    "bitwise_right_shift", "arange", "empty", "empty_like", "eye", "from_dlpack", "ones",
    "ones_like", "zeros", "zeros_like", "can_cast", "finfo", "iinfo", "isdtype",
    "result_type", "broadcast_shapes", "device", "stop_gradient", "__array_namespace_info__",
    "linalg.matrix_rank",
}
# products (functrans/numpy/_products.py)
NO_DERIVATIVE |= {"einsum_path"}  # a contraction order, from shapes only

# joining, splitting, reshaping, padding, creation (functrans/numpy/_reshaping.py)
NO_DERIVATIVE |= {"identity", "tri", "argwhere", "flatnonzero", "unravel_index",
                  "ravel_multi_index", "tril_indices", "triu_indices", "tril_indices_from",
                  "triu_indices_from", "diag_indices", "diag_indices_from", "indices"}

# elementwise, nan-reductions, statistics (functrans/numpy/_mathematics.py)
NO_DERIVATIVE |= {"nanargmax", "nanargmin", "isclose", "allclose", "array_equal",
                  "array_equiv"}

# statistics, histograms, signal (functrans/numpy/_mathematics.py, _histograms.py)
NO_DERIVATIVE |= {"bartlett", "blackman", "hamming", "hanning", "gcd", "lcm", "isposinf",
                  "isneginf", "iscomplex", "isreal", "digitize"}

# sets, partitions, selection (functrans/numpy/_selection.py)
NO_DERIVATIVE |= {"isin", "argpartition", "lexsort"}

# polynomials, introspection (functrans/numpy/_polynomials.py, _introspection.py)
NO_DERIVATIVE |= {"ndim", "shape", "size", "isscalar", "iscomplexobj", "isrealobj",
                  "iterable", "promote_types", "issubdtype", "common_type",
                  "min_scalar_type", "mintypecode", "bitwise_count"}

# functrans.nn
NO_DERIVATIVE |= {"nn.one_hot"}
# functions of index arrays (functrans/numpy/_functional.py; vectorize is a class, tested in
# tests/test_numpy_functional.py)
NO_DERIVATIVE |= {"fromfunction", "mask_indices"}
# host reading, writing and printing (functrans/numpy/_io.py; tests/test_numpy_io_ufunc.py);
# frompyfunc makes a ufunc of a user's function (differentiated there)
NO_DERIVATIVE |= {"fromiter", "frombuffer", "fromstring", "fromfile", "load", "save", "savez",
                  "savez_compressed", "loadtxt", "savetxt", "array_repr", "array_str",
                  "array2string", "frompyfunc"}
# functrans.numpy.fft: the sample frequencies
NO_DERIVATIVE |= {"fft.fftfreq", "fft.rfftfreq"}
# functrans.numpy: misc (session 11) (functrans/numpy/_misc.py)
NO_DERIVATIVE |= {"dtype", "seterr", "geterr", "packbits", "unpackbits", "binary_repr",
                  "base_repr", "may_share_memory", "shares_memory"}

# Aliases of tested functions.
ALIASES = {"linalg.matmul": "matmul", "linalg.matrix_transpose": "matrix_transpose",
           "linalg.tensordot": "tensordot", "linalg.vecdot": "vecdot",
           "linalg.diagonal": "diagonal", "linalg.trace": "trace"}
# products (functrans/numpy/_products.py)
ALIASES |= {}

# joining, splitting, reshaping, padding, creation (functrans/numpy/_reshaping.py)
ALIASES |= {}

# elementwise, nan-reductions, statistics (functrans/numpy/_mathematics.py)
ALIASES |= {"absolute": "abs", "arccos": "acos", "arccosh": "acosh", "arcsin": "asin",
            "arcsinh": "asinh", "arctan": "atan", "arctan2": "atan2", "arctanh": "atanh",
            "power": "pow", "true_divide": "divide", "conjugate": "conj", "mod": "remainder",
            "around": "round", "rad2deg": "degrees", "deg2rad": "radians"}


# statistics, histograms, signal (functrans/numpy/_mathematics.py, _histograms.py)
ALIASES |= {}

# sets, partitions, selection (functrans/numpy/_selection.py)
ALIASES |= {}

# polynomials, introspection (functrans/numpy/_polynomials.py, _introspection.py)
ALIASES |= {"bitwise_not": "bitwise_invert", "invert": "bitwise_invert",
            "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift"}

# functrans.numpy: misc (session 11) (functrans/numpy/_misc.py)
ALIASES |= {"row_stack": "vstack"}



def _cases():
    for spec in TABLE:
        for shapes in spec.shapes:
            yield pytest.param(spec, shapes, id=f"{spec.name}-{'-'.join(map(str, shapes))}")


def _args(spec, shapes, backend, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    return tuple(backend.asarray(_sample(d, s, rng), dtype=dtype)
                 for d, s in zip(spec.domains, shapes))


def _derivative_case_runs(backend_id, params):
    """Which shapes of a function each backend checks (CI time; deselected at collection).
    numpy checks every shape to the table's order, torch the last shapes (the broadcasting
    ones, which reach every rule) to the same order and the first shapes where they are 0-d
    (torch treats 0-d tensors apart) at first order; array-api-strict the last shapes at first
    order (see test_derivatives)."""
    spec, shapes = params["spec"], params["shapes"]
    if backend_id == "numpy" or shapes == spec.shapes[-1]:
        return True
    name = backend_id.partition("@")[0]
    return (name == "torch" and name not in spec.one_shape_on and shapes == spec.shapes[0]
            and any(s == () for s in shapes))


@pytest.mark.backend_cases(keep=_derivative_case_runs)
@pytest.mark.parametrize("spec,shapes", list(_cases()))
def test_derivatives(backend, spec, shapes):
    if spec.backends is not None and backend.name not in spec.backends:
        pytest.skip(f"{spec.name} uses indexing that {backend.name} does not support")
    order = spec.order
    if shapes != spec.shapes[-1]:
        order = min(order, 1)  # (torch's 0-d first shapes: see _derivative_case_runs)
    if backend.name == "array_api_strict":
        # array-api-strict shows the rules use the standard alone: first-order derivatives of
        # every function reach them (tests/test_primitive_grads.py checks each primitive's
        # second order there). The second device catches values made on the wrong device (a
        # zero tangent, a seed, a mask: tests/_second_device.py).
        order = min(order, 1)
    args = _args(spec, shapes, backend)
    if getattr(spec.fn, "writes_in_place", False) and not backend.backend.writable:
        # (a plain array of a library whose arrays cannot be written, JAX's: NumPy's in-place
        # form has nowhere to write and must say so; under the transforms it still works)
        with pytest.raises(TypeError, match="cannot be written in place"):
            spec.fn(*args)
        out, vjp_fn = ft.vjp(spec.fn, *args)
        assert backend.is_own(out) and all(backend.is_own(g) for g in vjp_fn(out))
        return
    out = spec.fn(*args)
    for leaf in (out if isinstance(out, (tuple, list)) else (out,)):
        assert backend.is_own(leaf), type(leaf)
    check_derivatives(backend, spec.fn, args, order=order, atol=spec.atol, rtol=spec.rtol)


FLOAT32 = ["sin", "exp", "log", "tanh", "multiply", "divide", "sum", "prod", "sort",
           "cumulative_prod", "take_along_axis", "det", "solve", "eigh", "cholesky", "svd"]


@pytest.mark.parametrize("name", FLOAT32)
def test_float32_derivatives_are_float32(backend, name):
    spec = next(s for s in TABLE if s.name == name)
    shapes = spec.shapes[-1]
    args = _args(spec, shapes, backend, dtype="float32")

    def loss(*a):
        out = spec.fn(*a)
        leaves = out if isinstance(out, (tuple, list)) else (out,)
        total = 0.0
        for leaf in leaves:
            total = total + fnp.sum(leaf)
        return total
    grads = ft.grad(loss, argnums=tuple(range(len(args))))(*args)
    for g in grads:
        assert backend.is_own(g)
        assert fnp.result_type(g) is fnp.float32, (name, g.dtype)
    _, t = ft.jvp(lambda *a: loss(*a), args, tuple(fnp.ones_like(a) for a in args))
    assert fnp.result_type(t) is fnp.float32
    check_grads(spec.fn, args, order=1)

# -- empty arrays ------------------------------------------------------------------------------


def _empty_cases():
    for spec in TABLE:
        for shapes in spec.shapes:
            empty = tuple((0,) + tuple(sh[1:]) if sh else sh for sh in shapes)
            if empty != shapes:
                yield pytest.param(spec, empty, id=f"{spec.name}-{'-'.join(map(str, empty))}")
                break


@pytest.mark.parametrize("spec,shapes", list(_empty_cases()))
def test_empty_inputs(backend, spec, shapes):
    """With a zero-length axis, every function that accepts the input differentiates: the
    gradients have the inputs' shapes (empty) and forward mode runs (``mean`` of nothing is
    nan, as in NumPy, and its gradient an empty array, as in JAX)."""
    if spec.backends is not None and backend.name not in spec.backends:
        pytest.skip(f"{spec.name} uses indexing that {backend.name} does not support")
    args = tuple(backend.asarray(np.full(sh, 0.5)) for sh in shapes)
    with np.errstate(all="ignore"):
        try:
            spec.fn(*args)
        except Exception as e:
            pytest.skip(f"{spec.name} refuses an empty input itself ({type(e).__name__}: {e})")

        def loss(*a):
            out = spec.fn(*a)
            total = 0.0
            for leaf in (out if isinstance(out, (tuple, list)) else (out,)):
                if fnp.isdtype(fnp.result_type(leaf), "real floating"):
                    total = total + fnp.sum(leaf)
            return total
        grads = ft.grad(loss, argnums=tuple(range(len(args))))(*args)
        for g, a in zip(grads, args):
            assert backend.is_own(g) and tuple(g.shape) == tuple(a.shape)
        ft.jvp(spec.fn, args, tuple(fnp.ones_like(a) for a in args))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 3)])
def test_norms_of_empty_arrays_are_numpys(backend, shape):
    """A max-based norm of no values is 0, as NumPy gives (max itself has no identity), with
    an empty gradient."""
    a = backend.asarray(np.zeros(shape))
    with np.errstate(all="ignore"):
        cases = ([(LA.vector_norm, o) for o in (2, 1, fnp.inf, 0, 3)] if len(shape) == 1 else
                 [(LA.matrix_norm, o) for o in ("fro", "nuc", 1, 2, fnp.inf)])
        for norm, o in cases:
            np_norm = getattr(np.linalg, norm.__name__)
            expected = np_norm(np.zeros(shape), ord=o)
            np.testing.assert_array_equal(backend.to_numpy(norm(a, ord=o)), expected)
            g = ft.grad(lambda x: fnp.sum(norm(x, ord=o)))(a)
            assert backend.is_own(g) and tuple(g.shape) == shape


# -- the meta-test -----------------------------------------------------------------------------


class _Recorder(Interpreter):
    """Sees every primitive that reaches evaluation."""

    __slots__ = ("seen",)

    def __init__(self, parent):
        super().__init__(parent)
        self.seen = set()

    def process(self, prim, args, params):
        self.seen.add(prim.name)
        return self.parent.process(prim, args, params)


# Primitives that the table does not have to reach, with the reason.
NOT_IN_TABLE = {
    "custom_jvp_call": "user rules (functrans.custom)",
    "custom_vjp_call": "user rules (functrans.custom)",
    "custom_vjp_linear": "user rules (functrans.custom)",
    "custom_vjp_lin": "user rules (functrans.custom)",
    "custom_vjp_tangent": "user rules (functrans.custom; tests/test_review_s13a.py)",
    "stop_gradient": "no derivative by design (tested with the transforms)",
    "checkpoint_call": "rematerialisation (tests/test_checkpoint.py)",
    "checkpoint_lin": "rematerialisation (tests/test_checkpoint.py)",
}
# Primitives with all their rules (checked below) whose derivatives are tested elsewhere.
TESTED_ELSEWHERE = {
    "cond": "control flow (tests/test_lax.py)",
    "cond_lin": "control flow (tests/test_lax.py)",
    "while": "control flow (tests/test_lax.py)",
    "scan": "control flow (tests/test_lax.py)",
    "scan_lin": "control flow (tests/test_lax.py)",
    "eager_call": "control flow (tests/test_lax.py)",
    "eager_lin": "control flow (tests/test_lax.py)",
    "taken_rows": "batched cond/while (tests/test_primitive_grads.py, test_s45_flow45.py)",
    "taken_fill": "batched cond/while (tests/test_primitive_grads.py, test_s45_flow45.py)",
    "row_mask": "batched cond/while (tests/test_primitive_grads.py, test_s45_flow45.py)",
    # (bound by softmax / log_softmax's rules under jit and where a slice is not finite;
    # eager finite slices take the plain formula)
    "softmax_tangent": "the softmax rules (tests/test_primitive_grads.py, test_s36_nnjit36)",
    # (bound by qr/slogdet/sqrtm/cond/lu_solve rules where a matrix of a stack is singular)
    "matrix_nan_slope": "singular matrices in stacks (tests/test_s36_linalg36.py)",
    # (bound by expm only when staged: jit(expm) of matrices with inf or nan entries)
    "expm_nonfinite_fix": "jit(expm) (tests/test_s39_expm39.py, test_s37_expm37.py)",
    # (bound by special._inc_beta only when staged: jit(f.cdf) at a tiny dfd)
    "inc_beta_values_fix": "jit(f.cdf), jit(betainc) (tests/test_s40_stats40.py)",
    # (bound by F's cdf and sf only when staged: jit(f.cdf), jit(fdtr))
    "f_extreme_fix": "jit(f.cdf), jit(f.sf), jit(fdtrc) (tests/test_s42_stats42.py)",
    # (session 57: bound by F's cdf and sf only when staged: jit(f.cdf), jit(f.sf))
    "f_rounding_fix": "jit(f.cdf), jit(f.sf) at large shapes (tests/test_s57_stats57b.py)",
    # (session 53: bound by betainc's x slope, the beta density, wherever it flows)
    "beta_log_density_fix": "grad, hessian, jit, vmap of betainc, beta.cdf, beta.logcdf at "
                            "large shapes (tests/test_s53_stats53.py)",
    # (session 49: bound by det's second and higher derivatives, adjugate's rule)
    "adjugate_derivative": "det's higher derivatives (tests/test_s49_linalg49.py, "
                           "test_review_s16b.py, test_primitive_grads.py)",
    # (session 50: bound by the spectral rules where a matrix may hold a tie, e.g. svd's
    # vectors of a complex or tall matrix under jit, eig's)
    "inverse_gaps": "ties at the rounding level (tests/test_s50_linalg50.py, "
                    "test_primitive_grads.py)",
    # (bound by eigh's eigenvectors' second derivatives where a matrix may hold a tie)
    "strong_product": "eigh's vectors at ties (tests/test_s41_linalg41.py, "
                      "test_primitive_grads.py)",
    # (bound by stdtr and t.ppf where a derivative flows at a large df)
    "t_fix": "grad, jit(grad), hessian of t.cdf, t.ppf (tests/test_s41_stats41.py)",
    # (bound by beta.ppf under jit where a derivative flows)
    "beta_ppf_fix": "jit(grad), jit(hessian) of beta.ppf (tests/test_s41_stats41.py)",
    # (bound by F's cdf and sf where a derivative flows and both degrees of freedom may be
    # above 1e10)
    "f_temme_fix": "grad, jit(grad), hessian of f.cdf, f.sf, fdtr at two huge degrees of "
                   "freedom (tests/test_s44_stats44.py, test_s45_stats45.py)",
    # (bound by F's cdf and sf where a derivative flows and a degree of freedom may be
    # above 1e3)
    "f_huge_fix": "grad, jit(grad), vmap(grad), hessian of f.cdf, f.sf, fdtr at one huge "
                  "degree of freedom (tests/test_s47_stats47.py)",
    # (bound by f.logpdf and f.pdf only when staged)
    "f_logpdf_fix": "jit(f.logpdf), jit(f.pdf), their grads and hessians "
                    "(tests/test_s43_stats43.py)",
    # (session 47: the fix primitives' slopes at once, bound by their JVP rules)
    "fix_slopes": "jit(grad), jit(hessian) of f.logpdf, f.cdf, beta.ppf (tests/"
                  "test_s43_stats43.py, test_s45_stats45.py, test_s47_perf47.py)",
    # (session 52: bound by the gamma inverses' JVP rules where a >= 50 may hold and the
    # root is within 30 % of a)
    "gamma_inv_eta": "grad, hessian, jit, vmap of gammaincinv, gammainccinv, gamma.ppf, "
                     "gamma.isf at a large a (tests/test_s52_stats52.py)",
    "temme_series": "the gamma inverses' derivatives at a large a, to third order "
                    "(tests/test_s52_stats52.py)",
    # (session 53: bound by the gamma inverses' JVP rules where a >= 50 and 1/4 <= y <= 3/4
    # may hold)
    "gamma_quantile_series": "grad, hessian, jit, vmap of gammaincinv, gammainccinv, "
                             "gamma.ppf near the median at a large a "
                             "(tests/test_s53_stats53.py)",
    # (session 56: bound by the gamma inverses' JVP rules where 2.5 <= a < 7.5 and
    # 1/4 <= y <= 3/4 may hold)
    "gamma_inverse_da": "grad, hessian, jit, vmap and third derivatives of gammaincinv, "
                        "gammainccinv near the median below a = 7.5 "
                        "(tests/test_s56_stats56b.py)",
}
# Collectives over a vmap's named axis: they need an enclosing vmap (tests/test_collectives.py).
COLLECTIVES = {"psum", "pmax", "pmin", "axis_index", "all_gather", "psum_scatter", "ppermute",
               "all_to_all"}
TESTED_ELSEWHERE.update(dict.fromkeys(COLLECTIVES, "collectives (tests/test_collectives.py)"))
# -- session 15, api helper: JAX's top-level API (tests/test_api15.py)
TESTED_ELSEWHERE.update({
    "pure_callback": "host callbacks (tests/test_api15.py)",
    "io_callback": "host callbacks (tests/test_api15.py)",
    "debug_callback": "functrans.debug (tests/test_api15.py)",
    "custom_vmap_call": "custom_batching (tests/test_api15.py)",
})
TESTED_ELSEWHERE["linear_call"] = ("custom_derivatives.linear_call "
                                   "(tests/test_apis_s27.py, tests/test_primitive_grads.py)")
TESTED_ELSEWHERE["name"] = "checkpoint_name (tests/test_checkpoint_policies.py)"
TESTED_ELSEWHERE["check"] = "functrans.experimental.checkify (tests/test_checkify.py)"
TESTED_ELSEWHERE["hyp1f1_param"] = (
    "hyp1f1's derivatives in a, b (tests/test_gaps_s27.py, tests/test_gaps_s29.py)")
TESTED_ELSEWHERE.update(dict.fromkeys(
    ("polygamma_order", "bitcast_convert_type"),
    "lax.polygamma's traced order, lax.bitcast_convert_type (tests/test_lax_transform_gaps.py)"))
# Primitives that are linear in some operand and so need a transpose rule.
LINEAR = {"psum", "all_gather", "psum_scatter", "ppermute", "all_to_all",
          "add", "sub", "mul", "div", "neg", "select", "conj", "real", "imag", "reshape",
          "broadcast_in_dim", "transpose", "concat", "flip", "slice", "scatter_slice",
          "convert_element_type", "tri", "reduce_sum", "cumsum", "gather", "scatter_add",
          "take_along_axis", "scatter_along_axis", "matmul", "diagonal", "diag_embed",
          "solve", "checkpoint_lin", "cond_lin", "scan_lin", "eager_lin", "fft", "rfft",
          "irfft", "triangular_solve", "name", "linear_call", "softmax_tangent", "row_mask",
          "taken_rows", "taken_fill"}


def _functrans_primitives():
    """The primitives functrans declares (tests may register their own in the registry): those
    of every functrans module, once the public namespaces are imported."""
    import sys
    import functrans.lax  # noqa: F401
    import functrans.random  # noqa: F401
    import functrans.scipy  # noqa: F401
    import functrans.nn  # noqa: F401
    from functrans.core import Primitive
    mods = [m for name, m in list(sys.modules.items())
            if (name == "functrans" or name.startswith("functrans.")) and m is not None]
    out = {}
    for m in mods:
        for v in vars(m).values():
            if isinstance(v, Primitive) and registry.get(v.name) is v:
                out[v.name] = v
    return out


def test_every_primitive_has_its_rules():
    for name, p in _functrans_primitives().items():
        if name in NOT_IN_TABLE:
            continue
        assert p.impl is not None or p.namespace_impl is not None, f"{name}: no impl"
        assert p.abstract_eval is not None or p.same_aval, f"{name}: no abstract_eval"
        assert p.jvp is not None or p.jvp_inline is not None, f"{name}: no jvp rule"
        if name in LINEAR:
            assert p.transpose is not None, f"{name}: linear but no transpose rule"
    assert LINEAR <= set(registry), LINEAR - set(registry)


def test_table_reaches_every_primitive():
    backend = _NumPy()
    rec = _Recorder(EVAL)
    token = set_current(rec)
    try:
        for spec in TABLE:
            args = _args(spec, spec.shapes[-1], backend)
            spec.fn(*args)
            out, f_vjp = ft.vjp(spec.fn, *args)
            f_vjp(out)
            ft.jvp(spec.fn, args, args)
            ft.make_graph(lambda *a: spec.fn(*a)) if "mask" not in spec.name \
                and "unique" not in spec.name and "repeat_array" not in spec.name else None
        # the rest of the namespace (no derivatives), to reach their primitives
        x = backend.asarray([[1.5, -2.0, 0.0], [3.0, 1.0, -1.0]])
        i = backend.asarray([[1, 2, 3], [4, 5, 6]], dtype="int64")
        for f in (fnp.argmax, fnp.argmin, fnp.argsort, fnp.count_nonzero, fnp.all, fnp.any,
                  fnp.isfinite, fnp.isinf, fnp.isnan, fnp.signbit, fnp.logical_not,
                  fnp.nonzero, LA.matrix_rank, fnp.stop_gradient):
            f(x)
        for f in (fnp.equal, fnp.not_equal, fnp.less, fnp.less_equal, fnp.greater,
                  fnp.greater_equal, fnp.logical_and, fnp.logical_or, fnp.logical_xor):
            f(x, x)
        for f in (fnp.bitwise_and, fnp.bitwise_or, fnp.bitwise_xor, fnp.bitwise_left_shift,
                  fnp.bitwise_right_shift):
            f(i, i)
        fnp.bitwise_invert(i)
        fnp.searchsorted(fnp.sort(x[0]), x[1])
        fnp.empty_like(x)
    finally:
        reset_current(token)
    missing = (set(_functrans_primitives()) - rec.seen - set(NOT_IN_TABLE)
               - set(TESTED_ELSEWHERE))
    assert not missing, f"primitives no test reaches: {sorted(missing)}"


def _public(mod, prefix=""):
    out = set()
    for n in dir(mod):
        if n.startswith("_") and n != "__array_namespace_info__":
            continue
        v = getattr(mod, n)
        if (callable(v) and not isinstance(v, type)
                and getattr(v, "__module__", "").startswith("functrans.numpy")):
            out.add(prefix + n)
    return out


def test_every_namespace_function_is_in_the_table():
    names = _public(fnp) | _public(LA, "linalg.") | _public(fnp.fft, "fft.")
    tested = {s.name for s in TABLE} | {"linalg." + s.name for s in TABLE}
    missing = sorted(n for n in names
                     if n not in tested and n not in NO_DERIVATIVE and n not in ALIASES)
    assert not missing, f"namespace functions missing from the derivative table: {missing}"


def _multi_operand_cases():
    for spec in TABLE:
        if len(spec.domains) >= 2:
            yield pytest.param(spec, id=spec.name)


# (CI time) not on torch: array-api-strict refuses plain arrays left of a tracer's operator and
# arrays of another library or device at least as strictly as torch does
@pytest.mark.backend_cases(keep=lambda backend_id, params: backend_id != "torch")
@pytest.mark.parametrize("spec", list(_multi_operand_cases()))
def test_one_operand_traced_the_others_plain(backend, spec):
    """Each operand differentiated alone, the others plain arrays of the backend: derivative
    code must never put a plain array on the left of a tracer's operator (array-api-strict
    refuses that), nor make the constants' side on another library, and the partial
    derivatives must add up to the full one."""
    if spec.backends is not None and backend.name not in spec.backends:
        pytest.skip(f"{spec.name} uses indexing that {backend.name} does not support")
    args = _args(spec, spec.shapes[-1], backend)
    tangents = _args(spec, spec.shapes[-1], backend, seed=1)
    _, full = ft.jvp(spec.fn, args, tangents)
    total = None
    for i in range(len(args)):
        def one(a, i=i):
            return spec.fn(*args[:i], a, *args[i + 1:])
        _, t = ft.jvp(one, (args[i],), (tangents[i],))
        _, f_vjp = ft.vjp(one, args[i])
        (ct,) = f_vjp(t)  # runs the transpose with the other operands constant
        assert all(backend.is_own(leaf) for leaf in _tree_leaves(t)), spec.name
        assert backend.is_own(ct)
        total = t if total is None else _add_trees(total, t)
    for a, b in zip(_tree_leaves(total), _tree_leaves(full)):
        np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), rtol=1e-9,
                                   atol=1e-12)


def _tree_leaves(t):
    return list(t) if isinstance(t, (tuple, list)) else [t]


def _add_trees(a, b):
    if isinstance(a, (tuple, list)):
        return type(a)(x + y for x, y in zip(a, b))
    return a + b
