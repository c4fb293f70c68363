"""functrans.testing: check your derivatives.

- :func:`check_grads` (and :func:`check_jvp`, :func:`check_vjp`): JVPs against finite
  differences, VJPs by the dot-product identity, recursively to higher orders; on every
  backend, for pytrees of arrays.
- Identity checkers (:mod:`functrans.testing.identities`) to call inside property tests:
  ``jacfwd == jacrev``, symmetric Hessians, ``linearize`` agrees with ``jvp``, ...
- Hypothesis strategies (:mod:`functrans.testing.strategies`, needs ``hypothesis``) drawing
  arrays of any Array API library inside an input domain, broadcastable shapes and pytrees.

Example:
    >>> import functrans.numpy as fnp
    >>> from functrans.testing import check_grads
    >>> check_grads(lambda x: fnp.tanh(x) * x, (0.7,), order=2)
"""

from .checks import GradCheckError, check_grads, check_jvp, check_vjp  # noqa: F401
from .identities import (IdentityError, check_grad_jacrev, check_hessian_consistent,  # noqa: F401
                         check_hessian_symmetric, check_jacfwd_jacrev, check_jvp_linear,
                         check_jvp_vjp_adjoint, check_linearize_jvp, check_vmap_loop)

__all__ = ["check_grads", "check_jvp", "check_vjp", "GradCheckError", "IdentityError",
           "check_jvp_linear", "check_jvp_vjp_adjoint", "check_jacfwd_jacrev",
           "check_hessian_symmetric", "check_grad_jacrev", "check_hessian_consistent",
           "check_linearize_jvp", "check_vmap_loop"]


def __getattr__(name):
    # The strategies need hypothesis, a test-time dependency: imported on first use.
    if name == "strategies":
        import importlib
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
