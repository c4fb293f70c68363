"""Linear algebra primitives."""

from __future__ import annotations

from ..core import ShapedArray, primitive
from ..errors import ShapeError
from ..graph import Var
from .elementwise import add
from .structural import matrix_transpose


def _matmul_aval(x, y):
    if x.ndim < 2 or y.ndim < 2 or x.shape[:-2] != y.shape[:-2] or x.shape[-1] != y.shape[-2]:
        raise ShapeError(f"matmul primitive needs (..., n, k) @ (..., k, m) with equal batch "
                         f"dimensions; got {x.shape} and {y.shape}")
    return ShapedArray(x.shape[:-1] + y.shape[-1:], x.dtype)


def _matmul_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = matmul(x, y)
    if tx is None:
        return out, matmul(x, ty)
    if ty is None:
        return out, matmul(tx, y)
    return out, add(matmul(tx, y), matmul(x, ty))


def _matmul_transpose(ct, x, y):
    if type(x) is Var:
        return [matmul(ct, matrix_transpose(y)), None]
    return [None, matmul(matrix_transpose(x), ct)]


# Batched matrix product with equal batch dimensions; functrans.numpy.matmul handles 1-D
# operands and broadcasting of the batch dimensions.
matmul_p = primitive("matmul")
matmul_p.def_impl(lambda b, x, y: b.xp.matmul(x, y))
matmul_p.def_abstract_eval(_matmul_aval)
matmul_p.def_jvp(_matmul_jvp)
matmul_p.def_transpose(_matmul_transpose)


def matmul(x, y):
    return matmul_p.bind(x, y)
