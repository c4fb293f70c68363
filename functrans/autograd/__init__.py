"""functrans.autograd: autograd's API on functrans, for code written against autograd.

Change the imports and nothing else::

    import functrans.autograd.numpy as np          # was: import autograd.numpy as np
    import functrans.autograd.numpy.random as npr  # was: import autograd.numpy.random as npr
    from functrans.autograd import grad            # was: from autograd import grad

The differential operators take autograd's ``(fun, argnum=0)`` and return what autograd's
return, computed by functrans's transforms (``grad``, ``vjp``, ``jvp``, ``jacrev``...).
``functrans.autograd.numpy`` *is* :mod:`functrans.numpy` (and ``.scipy`` is
:mod:`functrans.scipy`), so the same code also runs under ``functrans.jit`` and
``functrans.vmap`` and on other array libraries. New primitives with custom derivatives are
defined with :mod:`functrans.autograd.extend` (``primitive``, ``defvjp``, ``defjvp``,
``vspace``); :mod:`~functrans.autograd.test_util` checks derivatives (``check_grads``),
:mod:`~functrans.autograd.misc` has ``flatten``, the optimizers and ``fixed_point``, and
:mod:`~functrans.autograd.tracer` ``getval`` and ``isbox``.
The differences from autograd are listed in each function's docstring and on the
documentation page "Coming from autograd".
"""

import sys as _sys

from .. import numpy  # noqa: F401
from .. import scipy  # noqa: F401
from ..numpy import fft as _fft, linalg as _linalg, random as _random
from ..scipy import (integrate as _integrate, linalg as _slinalg, optimize as _optimize,
                     signal as _signal, special as _special, stats as _stats)
from . import extend, misc, test_util, tracer, util  # noqa: F401
from .differential_operators import (checkpoint, deriv, elementwise_grad, grad,  # noqa: F401
                                     grad_and_aux, grad_named, hessian,
                                     hessian_tensor_product, hessian_vector_product,
                                     holomorphic_grad, jacobian, make_ggnvp, make_hvp,
                                     make_jvp, make_vjp, multigrad_dict,
                                     tensor_jacobian_product, value_and_grad,
                                     vector_jacobian_product)
from .extend import primitive  # noqa: F401
from . import builtins  # noqa: F401
# autograd's top level has these too; they are Python's own (see functrans.autograd.builtins)
tuple, list, dict, isinstance, type = (builtins.tuple, builtins.list, builtins.dict,
                                       builtins.isinstance, builtins.type)

# ``import functrans.autograd.numpy.random as npr`` and the like: the aliases are the very
# modules of functrans.numpy / functrans.scipy (one random state, one set of functions).
for _alias, _module in {"numpy": numpy, "numpy.random": _random, "numpy.linalg": _linalg,
                        "numpy.fft": _fft, "scipy": scipy, "scipy.integrate": _integrate,
                        "scipy.linalg": _slinalg, "scipy.optimize": _optimize,
                        "scipy.signal": _signal, "scipy.special": _special,
                        "scipy.stats": _stats}.items():
    _sys.modules.setdefault(f"{__name__}.{_alias}", _module)
# autograd's distributions are modules (``import autograd.scipy.stats.norm as norm``);
# functrans's are objects with the same functions, registered under those module names.
for _dist in ("norm", "multivariate_normal", "t", "gamma", "beta", "poisson", "chi2",
              "dirichlet"):
    if hasattr(_stats, _dist):
        _sys.modules.setdefault(f"{__name__}.scipy.stats.{_dist}", getattr(_stats, _dist))
del _alias, _module, _dist

__all__ = ["builtins", "checkpoint", "deriv", "elementwise_grad", "extend", "grad",
           "grad_and_aux", "grad_named", "hessian", "hessian_tensor_product",
           "hessian_vector_product", "holomorphic_grad", "jacobian", "make_ggnvp", "make_hvp",
           "make_jvp", "make_vjp", "misc", "multigrad_dict", "numpy", "primitive", "scipy",
           "tensor_jacobian_product", "test_util", "tracer", "util", "value_and_grad",
           "vector_jacobian_product"]
