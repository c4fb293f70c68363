"""PyTorch backend (CPU and CUDA tensors) through ``array_api_compat.torch``.

Imported only when a ``torch.Tensor`` is first seen or the backend is asked for by name.
Extras: ``scatter_add`` with ``Tensor.index_add``; the special functions from
``torch.special``. torch's own default floating dtype is float32; functrans's creation
functions and Python floats given to transforms give float64 here as on every backend.
"""

import array_api_compat.torch as _xp
import numpy
import torch

from .. import dtypes as _dt
from . import Backend, register
from .generic import flat_index
from .generic import polygamma as _generic_polygamma

_pairs = [(getattr(torch, n), _dt.BY_NAME[n]) for n in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128")
    if hasattr(torch, n)]


def _scatter_add(x, index, values, /, *, axis=0):
    shape = tuple(x.shape)
    parts = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    parts = tuple(torch.as_tensor(i, device=x.device) for i in parts)
    axis, flat, merged = flat_index(_xp, shape, parts, axis)
    vals = values.reshape(merged[:axis] + (flat.shape[0],) + merged[axis + 1:])
    return x.reshape(merged).index_add(axis, flat, vals).reshape(shape)


def _polygamma(n, x):
    # torch's trigamma (n = 1) is accurate to about 1e-9 only: the generic Hurwitz zeta sum
    # (1e-15) is used for it.
    if n == 1:
        return _generic_polygamma(backend, n, x)
    return torch.special.polygamma(n, x)


def _solve_triangular(a, b, lower):
    # torch divides by a zero on the diagonal (inf/nan); SciPy's and the general solve of the
    # other backends raise, and so does this one (one check on the host, as torch's solve).
    zero = torch.diagonal(a, dim1=-2, dim2=-1) == 0
    if bool(zero.any()):
        i = int(torch.nonzero(zero.reshape(-1, zero.shape[-1]))[0, 1])
        raise numpy.linalg.LinAlgError(f"singular matrix: the triangular matrix has a zero "
                                       f"at diagonal position {i}")
    return torch.linalg.solve_triangular(a, b, upper=not lower)


# torch has no sums or products of uint16/32/64 on the CPU: those accumulate in int64 (the
# same bits, modulo 2**64) and are cast back.
_WIDE_UNSIGNED = {getattr(torch, n) for n in ("uint16", "uint32", "uint64") if hasattr(torch, n)}


def _accumulation(name, axis_param):
    fn = getattr(_xp, name)

    def impl(x, **params):
        kw = {"axis": params[axis_param]}
        if params.get("keepdims"):  # (the reductions' parameter, only when true)
            kw["keepdims"] = True
        if x.dtype in _WIDE_UNSIGNED:
            return fn(x.to(torch.int64), **kw).to(x.dtype)
        return fn(x, dtype=x.dtype, **kw)
    return impl


# torch's take (index_select) has no kernel for its unsigned types beyond uint8: the words
# are gathered as the signed integers of the same width (a view of the same bits)
_SIGNED_VIEW = {torch.uint16: torch.int16, torch.uint32: torch.int32, torch.uint64: torch.int64}


def _gather(x, *idx):
    from ..primitives.indexing import _gather_impl
    signed = _SIGNED_VIEW.get(x.dtype)
    if signed is None:
        return _gather_impl(backend, x, *idx)
    return _gather_impl(backend, x.view(signed), *idx).view(x.dtype)


def _flip(x, axes):
    signed = _SIGNED_VIEW.get(x.dtype)  # (no flip kernel for uint16/32/64 either)
    if signed is None:
        return torch.flip(x, axes)
    return torch.flip(x.view(signed), axes).view(x.dtype)


def _searchsorted(x1, x2, side):
    # (torch copies a non-contiguous operand itself, but warns the first time it does)
    return _xp.searchsorted(x1.contiguous(), x2.contiguous(), side=side)


_IMPLS = {"gather": _gather,
          "flip": _flip,
          "searchsorted": _searchsorted,
          "reduce_sum": _accumulation("sum", "axes"),
          "reduce_prod": _accumulation("prod", "axes"),
          "cumsum": _accumulation("cumulative_sum", "axis"),
          "cumprod": _accumulation("cumulative_prod", "axis")}


class TorchBackend(Backend):
    def copy(self, x):
        return x.clone()  # (asarray(copy=True) warns for tensors that require grad)

    def to_device(self, x, device):
        return x.to(device)

    def to_numpy(self, x):
        x = x.detach().cpu().resolve_conj()
        if x.dtype is torch.bfloat16:  # NumPy has no bfloat16: float32 holds every value
            x = x.to(torch.float32)
        return x.numpy()


backend = TorchBackend("torch", _xp, [torch.Tensor], _pairs, extras={
    "scatter_add": _scatter_add,
    "eig": lambda x: tuple(torch.linalg.eig(x)),
    "solve_triangular": _solve_triangular,
    "erf": torch.special.erf,
    "erfc": torch.special.erfc,
    "erfinv": torch.special.erfinv,
    "lgamma": torch.special.gammaln,
    "digamma": torch.special.digamma,
    "polygamma": _polygamma,
    "ndtri": torch.special.ndtri,
    "erfcx": torch.special.erfcx,
    "i0": torch.special.i0,
    "i0e": torch.special.i0e,
    "i1": torch.special.i1,
    "i1e": torch.special.i1e,
    "hurwitz_zeta": torch.special.zeta,
    # (the modified Bessel functions K of orders 0 and 1: about 1e-15 relative; j0, j1, y0,
    # y1: the generic ones, torch's bessel_j0... are accurate to about 2e-6 only)
    "k0": torch.special.modified_bessel_k0,
    "k0e": torch.special.scaled_modified_bessel_k0,
    "k1": torch.special.modified_bessel_k1,
    "k1e": torch.special.scaled_modified_bessel_k1,
    # (exp1, expi, expn, dawsn, riemann_zeta, spence, sici, fresnel, owens_t, wofz, hyp1f1,
    # hyp2f1, jv: the generic ones; torch has none of them, only J_0 and J_1 of jv, above)
    # (gammainc, gammaincc, betainc and their inverses gammaincinv, gammainccinv,
    # betaincinv: the generic ones; torch.special's gammainc and gammaincc are accurate to
    # about 2e-9 only, and it has none of the others)
}, impls=_IMPLS)
backend.device_types = (torch.device,)
register(backend)
