"""CuPy backend (NVIDIA/AMD GPUs) through ``array_api_compat.cupy``.

Imported only when a ``cupy.ndarray`` is first seen or the backend is asked for by name, so
functrans never needs CuPy (or a GPU) otherwise. Arrays stay on their device: functrans never
copies between host and device; mixing a CuPy and a NumPy array in one operation is a
BackendMismatchError. Extras: ``scatter_add`` with ``cupyx.scatter_add`` (atomic adds on the
GPU; dtypes it lacks use the generic version), and the special functions from
``cupyx.scipy.special``, imported on first use, with the repairs the NumPy backend makes to
SciPy's (cupyx ports SciPy's code: see :mod:`.library_special`); 2F1 and 1F1 the generic
ones.
"""

import functools
import types

import array_api_compat.cupy as _xp
import cupy
import cupyx
import numpy as np

from .. import dtypes as _dt
from . import Backend, library_special, register
from .generic import scatter_add as _generic_scatter_add

_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128")
# CuPy arrays use NumPy's dtype objects.
_pairs = [(np.dtype(n), _dt.BY_NAME[n]) for n in _NAMES]

# extra name -> name in cupyx.scipy.special
_SPECIAL = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln",
            "digamma": "digamma", "polygamma": "polygamma", "ndtri": "ndtri",
            "gammainc": "gammainc", "gammaincc": "gammaincc", "betainc": "betainc",
            # (the inverses where cupyx has them; the generic versions otherwise)
            "gammaincinv": "gammaincinv", "gammainccinv": "gammainccinv",
            "betaincinv": "betaincinv", "erfcx": "erfcx", "i0": "i0", "i0e": "i0e",
            "i1": "i1", "i1e": "i1e", "exp1": "exp1", "expi": "expi", "expn": "expn",
            "dawsn": "dawsn", "hurwitz_zeta": "zeta",
            # (where cupyx has them; the generic versions otherwise)
            "spence": "spence", "sici": "sici", "fresnel": "fresnel", "hyp1f1": "hyp1f1",
            "hyp2f1": "hyp2f1", "jv": "jv", "j0": "j0", "j1": "j1", "y0": "y0", "y1": "y1",
            "k0": "k0", "k0e": "k0e", "k1": "k1", "k1e": "k1e"}


class CuPyBackend(Backend):
    def to_device(self, x, device):
        if device == self.device(x):
            return x
        with device:
            return cupy.array(x, copy=True)

    def to_numpy(self, x):
        return cupy.asnumpy(x)

    def load_extra(self, name):
        if name == "scatter_add":
            return self._scatter_add
        if name == "solve_triangular":
            import cupyx.scipy.linalg as cl

            def solve_triangular(a, b, lower):
                # (cuBLAS's trsm divides by a zero on the diagonal: SciPy's raises, and so
                # does this one, as the torch backend's; one check on the host)
                zero = cupy.diagonal(a, axis1=-2, axis2=-1) == 0
                if bool(zero.any()):
                    raise np.linalg.LinAlgError(
                        "singular matrix: the triangular matrix has a zero on its diagonal")
                if a.ndim == 2:
                    return cl.solve_triangular(a, b, lower=lower)
                return cupy.linalg.solve(a, b)  # (stacks: the general solver)
            return solve_triangular
        if name == "eig":
            eig = getattr(cupy.linalg, "eig", None)  # recent CuPy only
            if eig is None:
                return None

            def complex_eig(x):
                c = cupy.result_type(x.dtype, cupy.complex64)
                return tuple(r.astype(c, copy=False) for r in _raising(eig)(x))
            return complex_eig
        if name not in _SPECIAL:
            return None
        import cupyx.scipy.special as sc
        fn = getattr(sc, _SPECIAL[name], None)
        if fn is None:
            return None
        if name == "polygamma":
            def polygamma(n, x):
                return sc.polygamma(cupy.asarray(n, dtype=x.dtype), x).astype(x.dtype,
                                                                                copy=False)
            fn = polygamma
        # (the repairs the NumPy backend makes to SciPy's functions, of which cupyx's are
        # ports; the arguments' floating dtype kept; None: the generic one)
        return library_special.wrap(self, name, fn, sc)

    def _scatter_add(self, x, index, values, /, *, axis=0):
        import cupyx
        out = x.copy()
        axis = axis % out.ndim if out.ndim else axis
        try:
            index = tuple(index) if isinstance(index, (tuple, list)) else (index,)
            cupyx.scatter_add(out, (slice(None),) * axis + tuple(cupy.asarray(i) for i in index),
                              values)
        except (TypeError, ValueError, NotImplementedError):  # a dtype without atomic add
            return _generic_scatter_add(self, x, index, values, axis=axis)
        return out


def _raising(fn, finite=False):
    """``fn`` with CuPy's checks of cuSOLVER's status on (``cupyx.errstate(linalg="raise")``:
    by default CuPy ignores it, so that a singular matrix to ``inv`` or ``solve`` or one that
    is not positive definite to ``cholesky`` gave inf or nan with no error, where NumPy, torch
    and the other backends raise LinAlgError); with ``finite``, NumPy's LinAlgError for
    non-finite input too (an SVD of NaN: "SVD did not converge"). Each check is a host read,
    as NumPy's errors need (torch's own linear algebra reads its status likewise)."""
    @functools.wraps(fn)
    def call(x, *args, **kwargs):
        if finite and not bool(cupy.isfinite(x).all()):
            raise np.linalg.LinAlgError("SVD did not converge")
        with cupyx.errstate(linalg="raise"):
            return fn(x, *args, **kwargs)
    return call


def _namespace_with_linalg_errors(xp):
    """``xp`` with its ``linalg`` functions raising NumPy's LinAlgError as NumPy's do (see
    :func:`_raising`): copies of the two modules, so the library's own are untouched."""
    linalg = types.ModuleType(xp.linalg.__name__, xp.linalg.__doc__)
    for name, value in vars(xp.linalg).items():
        if callable(value) and not name.startswith("_") and not isinstance(value, type):
            value = _raising(value, finite=name in ("svd", "svdvals"))
        setattr(linalg, name, value)
    out = types.ModuleType(xp.__name__, xp.__doc__)
    vars(out).update(vars(xp))
    out.linalg = linalg
    return out


def _bitcast(x, dtype):
    # On the device: a view of the bytes of a fresh C-ordered copy (aligned for the wider
    # dtype; lax.bitcast_convert_type's trailing axis from the flat view's length)
    from ..primitives.structural import bitcast_shape
    shape = bitcast_shape(x.shape, backend.dtype(x), dtype)
    return x.copy(order="C").reshape(-1).view(backend.native_dtype(dtype)).reshape(shape)


backend = CuPyBackend("cupy", _namespace_with_linalg_errors(_xp), [cupy.ndarray], _pairs,
                      impls={"bitcast_convert_type": _bitcast})
backend.device_types = (cupy.cuda.Device,)
backend.index_wraps = True  # (cupy.take wraps out-of-range indices)
register(backend)
