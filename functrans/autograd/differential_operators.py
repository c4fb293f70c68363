"""autograd's differential operators (``grad``, ``jacobian``, ``make_vjp`` ...) with autograd's
calling conventions, each a thin layer over functrans's own transforms.

Every operator here takes ``(fun, argnum=0)`` as autograd's do: ``argnum`` is one position
(the result then has that argument's structure) or a tuple/list of positions (the operator
then sees the tuple of those arguments, and gives a tuple back).
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections import OrderedDict

from .. import api as _api
from .. import numpy as fnp
from ..checkpointing import checkpoint as _ft_checkpoint
from .. import dtypes as _dt
from ..core import _SCALAR_DTYPES, Tracer, get_aval
from ..errors import ConcretizationError
from ..tree import tree_flatten, tree_map

__all__ = ["checkpoint", "deriv", "elementwise_grad", "grad", "grad_and_aux", "grad_named",
           "hessian", "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad",
           "jacobian", "make_ggnvp", "make_hvp", "make_jvp", "make_vjp", "multigrad_dict",
           "tensor_jacobian_product", "value_and_grad", "vector_jacobian_product"]


def _name(f):
    return getattr(f, "__name__", "function")


def _check_leaves(x, what):
    """Differentiate with respect to floating-point (or complex) values only: an int, bool
    or string among them is a TypeError, as in autograd; so is an integer array (which
    autograd accepts for some functions: see the documentation's differences)."""
    for leaf in tree_flatten(x)[0]:
        if isinstance(leaf, (bool, int)) and not isinstance(leaf, float):
            raise TypeError(f"{what}: cannot differentiate with respect to a value of type "
                            f"{type(leaf).__name__} ({leaf!r}); pass a float (1.0, not 1).")
        if isinstance(leaf, (float, complex)):
            continue
        if not (isinstance(leaf, Tracer) or hasattr(leaf, "dtype")):
            raise TypeError(f"{what}: cannot differentiate with respect to a value of type "
                            f"{type(leaf).__name__}; the differentiated argument must be "
                            f"an array, a float, or a tuple/list/dict of them.")
        dtype = get_aval(leaf).dtype
        if not _dt.is_float(dtype):
            raise TypeError(f"{what}: cannot differentiate with respect to an array of dtype "
                            f"{dtype.name}; cast it to a floating-point dtype first.")


def _unary_to_nary(op):
    """``op(unary_fun, x, *extra)`` (a transform of a one-argument function) as autograd's
    ``op(fun, argnum=0, *extra)``: the returned function takes ``fun``'s arguments and
    applies ``op`` to ``fun`` seen as a function of the argument(s) at ``argnum``."""
    opname = op.__name__.lstrip("_")

    def nary_op(fun, argnum=0, *op_args, **op_kwargs):
        if type(argnum) not in (int, tuple, list):
            raise TypeError(f"{opname}: argnum must be an int or a tuple/list of ints; "
                            f"got {type(argnum).__name__}.")
        many = type(argnum) is not int
        nums = tuple(argnum) if many else (argnum,)
        if not all(type(i) is int for i in nums):
            raise TypeError(f"{opname}: argnum entries must be ints; got {argnum!r}.")

        def nary_f(*args, **kwargs):
            n = len(args)
            for i in nums:
                if not -n <= i < n:
                    raise IndexError(f"{opname} of {_name(fun)}: argnum {argnum!r} is "
                                     f"out of range for a call with {n} positional "
                                     f"argument(s).")

            def unary_f(x):
                sub = list(args)
                for i, xi in zip(nums, x if many else (x,)):
                    sub[i] = xi
                return fun(*sub, **kwargs)
            unary_f.__name__ = _name(fun)
            x = tuple(args[i] for i in nums) if many else args[argnum]
            return op(unary_f, x, *op_args, **op_kwargs)
        nary_f.__name__ = f"{opname}_of_{_name(fun)}_wrt_argnum_{argnum}"
        nary_f.__qualname__ = nary_f.__name__
        nary_f.__doc__ = (f"The {opname} of {_name(fun)} with respect to argument "
                          f"{argnum}; takes {_name(fun)}'s arguments.")
        nary_f.__wrapped__ = fun
        return nary_f
    nary_op.__signature__ = inspect.Signature(
        [inspect.Parameter("fun", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         inspect.Parameter("argnum", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0)])
    return nary_op


def _size(out):
    shape = getattr(out, "shape", None)
    if shape is None:
        return 1 if type(out) in _SCALAR_DTYPES else None
    return math.prod(tuple(shape))


def _as_scalar(fun, what, shape_box=None):
    """``fun`` with an output of one element reshaped to shape ``()`` (autograd's ``grad``
    accepts any output of size 1); any other output is a TypeError, as in autograd."""
    def scalar_fun(x):
        out = fun(x)
        if (type(out) is int or (not isinstance(out, Tracer) and hasattr(out, "dtype")
                                 and str(out.dtype).startswith(("int", "uint")))):
            # an integer that does not depend on x (``lambda x: 1``): autograd's zero
            # derivative of a constant output (bool stays an error, as in autograd)
            out = fnp.asarray(out, dtype=fnp.float64)
        size = _size(out)
        if size != 1:
            shape = getattr(out, "shape", type(out).__name__)
            raise TypeError(f"{what} of {_name(fun)}: the function must return a real "
                            f"scalar (an output of one element); got {shape}. Use jacobian, "
                            f"elementwise_grad or holomorphic_grad instead.")
        if _is_complex(out):
            raise TypeError(f"{what} of {_name(fun)}: the output is complex; {what} needs a "
                            f"real output. Use holomorphic_grad for a holomorphic function "
                            f"(or take the real part, or the absolute value, first).")
        shape = tuple(getattr(out, "shape", ()))
        if shape_box is not None:
            shape_box[:] = [shape]
        return fnp.reshape(out, ()) if shape != () else out
    scalar_fun.__name__ = _name(fun)
    return scalar_fun


def _grad(fun, x):
    _check_leaves(x, "grad")
    return _api.grad(_as_scalar(fun, "grad"))(x)


grad = _unary_to_nary(_grad)
grad.__name__ = "grad"
grad.__doc__ = """The gradient of ``fun`` (a function of one real output) with respect to its
argument(s) ``argnum``: ``grad(fun, argnum=0)(*args, **kwargs)``, one reverse pass.

The output may be any array of one element (shape ``()``, ``(1,)``...). The gradient has the
structure of the argument (an array for an array, a tuple/list/dict of arrays for one).

Differences from autograd: a Python float argument gives a 0-d array (autograd gives a NumPy
scalar). A complex output is a TypeError, as in autograd (use ``holomorphic_grad``).
"""


def _value_and_grad(fun, x):
    _check_leaves(x, "value_and_grad")
    shape = []
    value, g = _api.value_and_grad(_as_scalar(fun, "value_and_grad", shape))(x)
    if shape and shape[0] != ():
        value = fnp.reshape(value, shape[0])
    return value, g


value_and_grad = _unary_to_nary(_value_and_grad)
value_and_grad.__name__ = "value_and_grad"
value_and_grad.__doc__ = """``(fun(*args), grad(fun, argnum)(*args))`` from one forward and one
reverse pass; ``fun`` returns one real value. Handy for ``scipy.optimize.minimize(...,
jac=True)``."""


def _grad_and_aux(fun, x):
    _check_leaves(x, "grad_and_aux")

    def pair(x):
        res = fun(x)
        if not (isinstance(res, (tuple, list)) and len(res) == 2):
            raise TypeError(f"grad_and_aux of {_name(fun)}: the function must return a pair "
                            f"(value, aux); got {type(res).__name__}.")
        return _as_scalar(lambda _: res[0], "grad_and_aux")(None), res[1]
    return _api.grad(pair, has_aux=True)(x)


grad_and_aux = _unary_to_nary(_grad_and_aux)
grad_and_aux.__name__ = "grad_and_aux"
grad_and_aux.__doc__ = """For ``fun`` returning ``(value, aux)``: ``(gradient of value, aux)``.
``aux`` is returned as computed, not differentiated."""


def _ones_tree(x):
    return tree_map(lambda v: type(v)(1) if type(v) in _SCALAR_DTYPES else fnp.ones_like(v), x)


def _is_complex(v):
    if type(v) is complex:
        return True
    d = getattr(v, "dtype", None)
    return d is not None and type(v) not in _SCALAR_DTYPES and fnp.isdtype(d, "complex floating")


def _elementwise_grad(fun, x):
    _check_leaves(x, "elementwise_grad")
    out, f_vjp = _api.vjp(fun, x)
    if any(_is_complex(o) for o in tree_flatten(out)[0]):
        raise TypeError(f"elementwise_grad of {_name(fun)}: the output is complex; "
                        f"elementwise_grad needs a real output.")
    return f_vjp(_ones_tree(out))[0]


elementwise_grad = _unary_to_nary(_elementwise_grad)
elementwise_grad.__name__ = "elementwise_grad"
elementwise_grad.__doc__ = """The vector-Jacobian product of ``fun`` with a cotangent of ones
(one reverse pass): the sum over the outputs of their gradients, which for a function acting
elementwise is the derivative of each output element with respect to its own input element.
The output may be a tuple/list/dict of arrays (each gets ones). Complex outputs are a
TypeError, as in autograd."""


def _deriv(fun, x):
    _check_leaves(x, "deriv")
    return _api.jvp(fun, (x,), (_ones_tree(x),))[1]


deriv = _unary_to_nary(_deriv)
deriv.__name__ = "deriv"
deriv.__doc__ = """The Jacobian-vector product of ``fun`` with a tangent of ones (one forward
pass): for a function of a scalar, its derivative, with the output's shape. For a complex
argument the tangent is 1 (the complex derivative of a holomorphic function; autograd's
tangent is 1+1j)."""


def _jacobian(fun, x):
    _check_leaves(x, "jacobian")
    if not (isinstance(x, (float, complex, Tracer)) or hasattr(x, "shape")):
        raise TypeError(f"jacobian of {_name(fun)}: the differentiated argument must be one "
                        f"array or scalar (as in autograd); got {type(x).__name__}. Use "
                        f"functrans.jacrev for a tuple/list/dict of arrays.")
    return _api.jacrev(fun)(x)


jacobian = _unary_to_nary(_jacobian)
jacobian.__name__ = "jacobian"
jacobian.__doc__ = """The Jacobian of ``fun`` with respect to one array argument, of shape
``out.shape + x.shape`` (autograd's layout, also functrans's): one linearization, then a
batched reverse pass. The output may be a tuple/list/dict of arrays (a Jacobian for each;
autograd accepts only an array)."""


def _holomorphic_grad(fun, x):
    _check_leaves(x, "holomorphic_grad")
    if not any(_is_complex(v) for v in tree_flatten(x)[0]):
        warnings.warn("holomorphic_grad: the input is not complex", stacklevel=3)
    return _grad(lambda z: fnp.real(fun(z)), x)


holomorphic_grad = _unary_to_nary(_holomorphic_grad)
holomorphic_grad.__name__ = "holomorphic_grad"
holomorphic_grad.__doc__ = """The complex derivative of a holomorphic function of one complex
value (the gradient of its real part); a real input gives a warning, as in autograd."""


def _hessian(fun, x):
    _check_leaves(x, "hessian")
    return _api.jacfwd(_api.jacrev(fun))(x)


hessian = _unary_to_nary(_hessian)
hessian.__name__ = "hessian"
hessian.__doc__ = """The Hessian of ``fun`` with respect to one array argument, of shape
``out.shape + x.shape + x.shape``. functrans computes it forward over reverse (autograd:
reverse over reverse); the values agree to rounding."""


def _make_hvp(fun, x):
    _check_leaves(x, "make_hvp")
    g, f_vjp = _api.vjp(_api.grad(_as_scalar(fun, "make_hvp")), x)
    return (lambda v: f_vjp(v)[0]), g


make_hvp = _unary_to_nary(_make_hvp)
make_hvp.__name__ = "make_hvp"
make_hvp.__doc__ = """``make_hvp(fun, argnum)(*args)`` returns ``(hvp, gradient)``: ``hvp(v)``
is the Hessian of ``fun`` at ``args`` times ``v`` (a reverse pass through the recorded
gradient computation, so many products at one point cost one forward pass), and ``gradient``
is ``fun``'s gradient there (autograd's order and values)."""


def hessian_tensor_product(fun, argnum=0):
    """``hessian_tensor_product(fun, argnum)(*args, v, **kwargs)``: the Hessian of ``fun`` with
    respect to argument ``argnum`` contracted with the tensor ``v`` (the last positional
    argument) over all of ``v``'s axes; for ``v`` of the argument's shape, ``H @ v``."""
    fun_grad = grad(fun, argnum)

    def grad_dot_v(*args, **kwargs):
        *args, v = args
        return fnp.tensordot(fun_grad(*args, **kwargs), v, fnp.ndim(v))
    out = grad(grad_dot_v, argnum)
    out.__name__ = f"hessian_tensor_product_of_{_name(fun)}"
    return out


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    """``tensor_jacobian_product(fun, argnum)(*args, v, **kwargs)``: the tensor ``v`` (the last
    positional argument) contracted with the Jacobian of ``fun`` over all of ``v``'s axes
    (``v @ J``, a vector-Jacobian product for ``v`` of the output's shape)."""
    def v_dot_fun(*args, **kwargs):
        *args, v = args
        return fnp.tensordot(v, fun(*args, **kwargs), axes=fnp.ndim(v))
    out = jacobian(v_dot_fun, argnum)
    out.__name__ = f"tensor_jacobian_product_of_{_name(fun)}"
    return out


vector_jacobian_product = tensor_jacobian_product


def _make_jvp(fun, x):
    _check_leaves(x, "make_jvp")

    def jvp(v):
        return _api.jvp(fun, (x,), (v,))
    return jvp


make_jvp = _unary_to_nary(_make_jvp)
make_jvp.__name__ = "make_jvp"
make_jvp.__doc__ = """``make_jvp(fun, argnum)(*args)`` returns ``jvp`` with ``jvp(v) =
(fun(*args), J v)``, by forward mode (each call runs ``fun`` again, as in autograd)."""


def _make_vjp(fun, x):
    _check_leaves(x, "make_vjp")
    out, f_vjp = _api.vjp(fun, x)
    return (lambda g: f_vjp(g)[0]), out


make_vjp = _unary_to_nary(_make_vjp)
make_vjp.__name__ = "make_vjp"
make_vjp.__doc__ = """``make_vjp(fun, argnum)(*args)`` returns ``(vjp, fun(*args))`` (autograd's
order; functrans.vjp gives ``(out, vjp)``): ``vjp(g)`` is ``g`` times the Jacobian, with the
argument's structure (not a tuple, unlike functrans.vjp). The cotangent ``g`` must have the
output's shape and dtype."""


def _half_sum_squares(x):
    return 0.5 * fnp.sum(x ** 2, axis=-1)


def make_ggnvp(f, g=_half_sum_squares, f_argnum=0):
    """Generalized Gauss-Newton products: ``make_ggnvp(f, g, f_argnum)(*args)`` returns
    ``ggnvp(v) = J_f^T H_g J_f v``, with ``J_f`` the Jacobian of ``f`` with respect to argument
    ``f_argnum`` at ``args`` and ``H_g`` the Hessian of the scalar ``g`` at ``f(*args)``
    (default ``g``: half the sum of squares over the last axis). ``f`` is linearized once and
    each product is one forward and two reverse passes."""
    def _ggnvp(fun, x):
        _check_leaves(x, "make_ggnvp")
        f_x, f_vjp = _api.vjp(fun, x)
        _, f_lin = _api.linearize(fun, x)
        _, g_vjp = _api.vjp(_api.grad(_as_scalar(g, "make_ggnvp")), f_x)

        def ggnvp(v):
            return f_vjp(g_vjp(f_lin(v))[0])[0]
        return ggnvp
    _ggnvp.__name__ = "make_ggnvp"
    return _unary_to_nary(_ggnvp)(f, f_argnum)


def grad_named(fun, argname):
    """The gradient of ``fun`` with respect to the argument named ``argname`` (which must be
    passed positionally)."""
    params = [p.name for p in inspect.signature(fun).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if argname not in params:
        raise ValueError(f"grad_named: {_name(fun)} has no positional parameter named "
                         f"{argname!r} (it has {params}).")
    return grad(fun, params.index(argname))


def multigrad_dict(fun):
    """The gradient of ``fun`` with respect to all its arguments at once, as an OrderedDict
    from parameter name to gradient (defaults filled in; ``*args`` gives a tuple and
    ``**kwargs`` a dict under their own names). Every argument must be differentiable."""
    sig = inspect.signature(fun)
    params = sig.parameters

    def gradfun(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        values = OrderedDict(bound.arguments)

        def call(d):
            pos, kw = [], {}
            for name, p in params.items():
                if p.kind == p.VAR_POSITIONAL:
                    pos.extend(d[name])
                elif p.kind == p.VAR_KEYWORD:
                    kw.update(d[name])
                elif p.kind == p.KEYWORD_ONLY:
                    kw[name] = d[name]
                else:
                    pos.append(d[name])
            return fun(*pos, **kw)
        g = grad(call)(dict(values))
        return OrderedDict((name, g[name]) for name in values)
    gradfun.__name__ = f"multigrad_dict_of_{_name(fun)}"
    return gradfun


def _recomputing(fun):
    """``fun`` remembered by its inputs only: a custom VJP that runs ``fun`` again (with
    Python control flow on values) when the backward pass reaches it."""
    from .extend import defvjp_argnum, primitive
    wrapped = primitive(fun)

    def vjp_maker(argnum, ans, args, kwargs):
        return make_vjp(fun, argnum)(*args, **kwargs)[0]
    defvjp_argnum(wrapped, vjp_maker)
    return wrapped


def checkpoint(fun):
    """``fun`` with its intermediate values recomputed during the backward pass instead of
    kept (autograd's ``checkpoint``): functrans's :func:`~functrans.checkpoint`, which
    stages ``fun``; where ``fun`` branches in Python on its arguments' values (which staging
    cannot follow) the call falls back to recomputing ``fun`` eagerly from its saved inputs,
    as autograd does (then ``fun`` runs once more while being staged)."""
    staged = _ft_checkpoint(fun)
    eager = _recomputing(fun)

    @functools.wraps(fun)
    def checkpointed(*args, **kwargs):
        try:
            return staged(*args, **kwargs)
        except ConcretizationError:
            return eager(*args, **kwargs)
    return checkpointed
