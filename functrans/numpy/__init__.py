"""functrans.numpy: an Array API namespace that works on plain arrays and on tracers.

``import functrans.numpy as fnp``; inside a transform, ``x.__array_namespace__()`` is this
module, so code written as ``xp = array_namespace(x); xp.sin(x)`` is differentiable unchanged.
Beyond the standard it has NumPy's common names with NumPy's semantics (``concatenate``,
``einsum``, ``arccos``, ``cumsum``, ``nanmean``, ``pad`` ...), so that NumPy code runs with
``np`` replaced by ``fnp``. A function this namespace lacks raises AttributeError naming it;
nothing falls back silently to NumPy.

The functions live by family: :mod:`._base` (broadcasting/promotion and the arithmetic core),
:mod:`._elementwise`, :mod:`._creation`, :mod:`._dtypes`, :mod:`._manipulation`,
:mod:`._indexing`, :mod:`._searching`, :mod:`._statistics` and :mod:`.linalg` for the
standard; :mod:`._products`, :mod:`._reshaping` and :mod:`._mathematics` for NumPy's names
beyond it.
"""

from ..dtypes import (bool_ as bool, complex64, complex128, float32, float64,  # noqa: F401
                      int8, int16, int32, int64, uint8, uint16, uint32, uint64)
# beyond the standard: the half-precision floats (bfloat16: torch's, and NumPy's through ml_dtypes)
from ..dtypes import bfloat16, float16  # noqa: F401
from ._base import *  # noqa: F401,F403
from ._base import broadcast_shapes  # noqa: F401
from ._creation import (arange, asarray, empty, empty_like, eye, from_dlpack,  # noqa: F401
                        full, full_like, linspace, meshgrid, ones, ones_like, tril, triu,
                        zeros, zeros_like)
from ._dtypes import (__array_namespace_info__, can_cast, finfo, iinfo, isdtype,  # noqa: F401
                      result_type)
from ._elementwise import (abs, acos, acosh, asin, asinh, atan, atan2, atanh,  # noqa: F401
                           bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_or,
                           bitwise_right_shift, bitwise_xor, ceil, clip, conj, copysign, cosh,
                           expm1, floor, floor_divide, hypot, imag, isfinite, isinf, isnan,
                           log1p, log2, log10, logaddexp, logical_and, logical_not,
                           logical_or, logical_xor, nextafter, real, reciprocal, remainder,
                           round, sign, signbit, sinh, tan, trunc)
from ._indexing import _getitem, _setitem, take, take_along_axis  # noqa: F401
from ._manipulation import moveaxis, repeat, roll, tile, unstack  # noqa: F401
from ._searching import (argmax, argmin, argsort, count_nonzero, nonzero,  # noqa: F401
                         searchsorted, sort, unique_all, unique_counts, unique_inverse,
                         unique_values)
from ._statistics import (all, any, cumulative_prod, cumulative_sum, diff, prod,  # noqa: F401
                          std, sum, var)
from . import fft, linalg  # noqa: F401,E402
from . import random  # noqa: F401,E402  (NumPy's random numbers, functrans.numpy.random)
from .linalg import tensordot, vecdot  # noqa: F401
# NumPy's names beyond the standard, each module with its __all__
from ._products import *  # noqa: F401,F403,E402
from ._reshaping import *  # noqa: F401,F403,E402
from ._mathematics import *  # noqa: F401,F403,E402
from ._histograms import *  # noqa: F401,F403,E402
from ._selection import *  # noqa: F401,F403,E402
from ._polynomials import *  # noqa: F401,F403,E402
from ._introspection import *  # noqa: F401,F403,E402
from ._functional import *  # noqa: F401,F403,E402
from ._misc import *  # noqa: F401,F403,E402
from ._io import *  # noqa: F401,F403,E402

# typed keys (functrans.random's) in the structural functions: applied to their words
from . import _keys  # noqa: E402
_keys.wrap_table(globals(), "functrans.numpy", _keys.NUMPY)


def _as_constants(fn):
    """A creation function whose array, made under forward mode, vmap or a staging (jit...)
    by user or third-party code, is a constant tracer (functrans.interpreters.ConstTracer),
    so that code which asks ``array_namespace`` of it and of a tracer finds one namespace; a
    plain array elsewhere, and for functrans's own modules, which are written for plain
    arrays beside tracers (and combine them with operators, which array-api-strict's arrays
    refuse a tracer in)."""
    import functools
    import inspect
    import sys

    from ..interpreters import CONSTANT_INTERPRETERS, constant, functrans_frame
    from ..core import _current
    getframe, current = sys._getframe, _current.get

    @functools.wraps(fn)
    def creation(*args, **kwargs):
        out = fn(*args, **kwargs)
        if type(current().interp) not in CONSTANT_INTERPRETERS or functrans_frame(getframe(1)):
            return out
        if type(out) is list or type(out) is tuple:  # (meshgrid, tril_indices...)
            return type(out)([constant(o) for o in out])
        return constant(out)
    # fn's own signature where it is the whole one (typed keys' wrappers have theirs), as
    # functools.wraps drops it; else signature() follows __wrapped__ to it
    own = inspect.signature(fn, follow_wrapped=False)
    if own == inspect.signature(fn):
        creation.__signature__ = own
    return creation


for _name in ("arange", "asarray", "empty", "empty_like", "eye", "full", "full_like",
              "linspace", "ones", "ones_like", "zeros", "zeros_like", "meshgrid", "array",
              "asanyarray", "identity", "tri", "copy", "logspace", "geomspace", "indices",
              "tril_indices", "triu_indices", "diag_indices", "tril_indices_from",
              "triu_indices_from", "diag_indices_from", "mask_indices", "fromfunction",
              "fromiter", "frombuffer", "fromstring", "from_dlpack", "hanning", "hamming",
              "blackman", "bartlett", "kaiser", "load", "loadtxt", "fromfile",
              "ascontiguousarray", "asfortranarray", "asarray_chkfinite", "require", "ix_"):
    globals()[_name] = _as_constants(globals()[_name])
for _name in ("fftfreq", "rfftfreq"):
    setattr(fft, _name, _as_constants(getattr(fft, _name)))
# NumPy's index objects: mgrid[0:2, 0:3], ogrid[...], r_[a, 0:3], c_[a, b] (the frame
# below a subscript's __getitem__ is the code subscripting, as for a call)
for _cls in {type(mgrid), type(r_)}:
    _cls.__getitem__ = _as_constants(_cls.__getitem__)
del _name, _cls

__array_api_version__ = "2024.12"

e = 2.718281828459045
pi = 3.141592653589793
inf = float("inf")
nan = float("nan")
newaxis = None


# No module-level __getattr__ (PEP 562) here: while a module has one, CPython (3.11, 3.12)
# never specializes attribute loads on it, so every ``fnp.sin`` in user code would take the
# generic look-up (~50 ns, a fifth of dispatch; NumPy's own np.sin pays it). A missing name
# raises Python's AttributeError, which names it. ``special`` (functrans.scipy.special, the
# Array API's anticipated extension that SciPy calls as ``xp.special.erf``) is set by
# functrans/__init__.py once functrans.scipy.special is imported.


from .._naming import rehome as _rehome  # noqa: E402
_rehome(globals(), __name__)  # (its wrapped functions: pickle and the API reference)
