"""``functrans.custom_derivatives``: the names of ``jax.custom_derivatives`` that functrans has
(``import functrans.custom_derivatives``, as JAX programs import that module): ``custom_jvp``,
``custom_vjp``, ``closure_convert`` and ``custom_gradient``, the functions of
:mod:`functrans` under these names; the symbolic-zero machinery of rules defined with
``symbolic_zeros=True`` (``SymbolicZero``, ``zero_from_primal``, ``CustomVJPPrimal``,
``custom_vjp_primal_tree_values``); ``linear_call`` (a linear function with a transpose of
the user's); and the primitives ``custom_jvp_call_p``, ``custom_vjp_call_p`` and
``linear_call_p``.
"""

from .custom import (CustomVJPPrimal, SymbolicZero, closure_convert,  # noqa: F401
                     custom_jvp, custom_jvp_call_p, custom_vjp, custom_vjp_call_p,
                     custom_vjp_primal_tree_values, zero_from_primal)
from .primitives.linear_call import linear_call, linear_call_p  # noqa: F401
from .toplevel import custom_gradient  # noqa: F401

__all__ = ["custom_jvp", "custom_vjp", "closure_convert", "custom_gradient", "SymbolicZero",
           "zero_from_primal", "CustomVJPPrimal", "custom_vjp_primal_tree_values",
           "linear_call", "custom_jvp_call_p", "custom_vjp_call_p", "linear_call_p"]

_NOT_HERE = {
    "remat_opt_p": "use functrans.checkpoint",
}


def __getattr__(name):
    hint = _NOT_HERE.get(name)
    if hint is not None:
        raise AttributeError(f"functrans.custom_derivatives has no {name!r} (JAX's internal "
                             f"machinery): {hint}")
    raise AttributeError(f"module 'functrans.custom_derivatives' has no attribute {name!r}")
