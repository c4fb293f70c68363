"""array-api-strict backend: a minimal implementation of the standard. The test suite runs on
it to prove that the primitives use nothing outside the Array API. It has no extras of its
own: scatter_add and the special functions (erf, erfc, erfinv, ndtri, lgamma, digamma,
polygamma, gammainc, gammaincc, betainc, betaincc, gammaincinv, gammainccinv, betaincinv,
erfcx, i0, i0e, i1, i1e, exp1, expi, expn, dawsn, hurwitz_zeta, riemann_zeta, spence, sici, fresnel,
owens_t, wofz, hyp1f1, hyp2f1, jv, j0, j1, y0, y1, k0, k0e, k1, k1e) come from :mod:`.generic` and :mod:`.special_generic`."""

import array_api_strict as _xp

from .. import dtypes as _dt
from . import Backend, register
from .standard_backend import complex_log1p
from .generic import complex_comparison, complex_extreme, shift_past_negative_amounts

_pairs = [(getattr(_xp, n), _dt.BY_NAME[n]) for n in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128")]


class StrictBackend(Backend):
    def to_numpy(self, x):
        import numpy as np
        # array-api-strict converts to NumPy only from its CPU device (as CuPy refuses an
        # implicit device-to-host copy): the explicit copy goes through to_device.
        if x.device != _xp.Device("CPU_DEVICE"):
            x = x.to_device(_xp.Device("CPU_DEVICE"))
        return np.asarray(x)


# (maximum and minimum of complex numbers: NumPy's lexicographic rule, see generic.py)
_IMPLS = {"max": complex_extreme(_xp, "maximum", TypeError),
          "min": complex_extreme(_xp, "minimum", TypeError)}
# (<, <=, >, >= of complex numbers: NumPy's lexicographic rule, see generic.py)
_IMPLS.update({p: complex_comparison(_xp, name, TypeError) for p, name in (
    ("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"))})
# (shifts by negative amounts, which it refuses: NumPy's results, see generic.py)
_IMPLS.update({p: shift_past_negative_amounts(_xp, p, ValueError)
               for p in ("bitwise_left_shift", "bitwise_right_shift")})
_IMPLS["log1p"] = complex_log1p(_xp)  # (NumPy's, inaccurate near 0 for complex operands)
backend = StrictBackend("array_api_strict", _xp, [type(_xp.asarray(0))], _pairs,
                        impls=_IMPLS)
backend.device_types = (type(_xp.asarray(0).device),)
register(backend)
