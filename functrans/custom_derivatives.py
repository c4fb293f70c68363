"""``functrans.custom_derivatives``: the names of ``jax.custom_derivatives`` that functrans has
(``import functrans.custom_derivatives``, as JAX programs import that module): ``custom_jvp``,
``custom_vjp``, ``closure_convert`` and ``custom_gradient``, the functions of
:mod:`functrans` under these names, and the primitives ``custom_jvp_call_p`` and
``custom_vjp_call_p``.

JAX's symbolic-zero machinery (``SymbolicZero``, ``zero_from_primal``, ``CustomVJPPrimal``,
``custom_vjp_primal_tree_values``) and ``linear_call`` are not here: functrans's rules are
given zero tangents and cotangents as arrays (``symbolic_zeros=True`` is refused).
"""

from .custom import (closure_convert, custom_jvp, custom_jvp_call_p, custom_vjp,  # noqa: F401
                     custom_vjp_call_p)
from .toplevel import custom_gradient  # noqa: F401

__all__ = ["custom_jvp", "custom_vjp", "closure_convert", "custom_gradient",
           "custom_jvp_call_p", "custom_vjp_call_p"]

_NOT_HERE = {
    "SymbolicZero": "rules get zero tangents as arrays of zeros",
    "zero_from_primal": "use functrans.numpy.zeros_like(primal)",
    "CustomVJPPrimal": "custom_vjp's fwd gets the primal values themselves",
    "custom_vjp_primal_tree_values": "custom_vjp's fwd gets the primal values themselves",
    "linear_call": "write the linear function with functrans.custom_vjp, its transpose as "
                   "the bwd rule",
    "remat_opt_p": "use functrans.checkpoint",
}


def __getattr__(name):
    hint = _NOT_HERE.get(name)
    if hint is not None:
        raise AttributeError(f"functrans.custom_derivatives has no {name!r} (JAX's "
                             f"symbolic-zero and internal machinery): {hint}")
    raise AttributeError(f"module 'functrans.custom_derivatives' has no attribute {name!r}")
