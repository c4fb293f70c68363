"""Every misuse of functrans has its own error class.

Each message says what was wrong (the shape, dtype, tree or transform involved) and what to
do instead. All classes derive from :class:`FunctransError`, so ``except FunctransError``
catches any of them; several also derive from the matching built-in (``TypeError``,
``ValueError``) so that generic code keeps working.
"""

from __future__ import annotations

import inspect
import operator

import numpy

DOCS = "https://functrans.readthedocs.io/en/latest/errors/"


class FunctransError(Exception):
    """Base class of every error raised by functrans."""

    anchor = ""

    def __init__(self, message: str):
        self.message = message  # without the link (for errors that wrap another's message)
        link = f"\n(See {DOCS}#{self.anchor})" if self.anchor else ""
        super().__init__(message + link)


class UnexpectedTracerError(FunctransError):
    """A tracer was used after the transform that created it had returned.

    Tracers only mean something while their transform runs. Storing one in a global, a list
    outside the function or an attribute, and using it later, would silently give wrong
    derivatives, so functrans refuses::

        leaked = []
        def f(x):
            leaked.append(x)
            return x * x
        ft.grad(f)(1.0)
        leaked[0] + 1.0   # UnexpectedTracerError

    Return the values you need from the transformed function instead.
    """

    anchor = "unexpectedtracererror"


class ConcretizationError(FunctransError, TypeError):
    """A concrete value (``float(x)``, ``bool(x)``, ``if x > 0``) was needed from an
    abstract tracer.

    Under staging transforms (``jit``, ``make_graph``, the function ``checkpoint`` wraps)
    values have only a shape and a dtype. Python control flow that depends on them cannot
    be recorded. Use ``functrans.numpy.where`` for elementwise choices, or call the function
    eagerly (``grad``, ``jvp`` and ``vjp`` run Python control flow on concrete values).
    """

    anchor = "concretizationerror"


class TracerArrayConversionError(FunctransError, TypeError):
    """A tracer was converted to a NumPy array (``np.asarray(tracer)``).

    NumPy cannot carry derivatives, so the conversion would silently drop them. Use
    ``functrans.numpy`` (or the namespace returned by ``x.__array_namespace__()``) inside
    transformed functions. (NumPy's own functions, ``np.sin(tracer)``, refuse tracers with a
    plain TypeError.)
    """

    anchor = "tracerarrayconversionerror"


class DerivativeDroppedError(FunctransError):
    """A value being differentiated was turned into a Python float (``float(x)``,
    ``x.item()``), which would carry on without its derivative.

    NumPy does this implicitly when a tracer is written into a NumPy array
    (``y = np.zeros(3); y[0] = x``). Build arrays with ``functrans.numpy`` instead (``stack``,
    ``concat``, ``where``); where dropping the derivative is intended, say so with
    ``float(functrans.stop_gradient(x))``. (``bool(x)`` and ``int(x)`` are fine: control flow
    and integers carry no derivative.) Deliberately not a TypeError, so that NumPy does not
    swallow it while converting.
    """

    anchor = "derivativedroppederror"


class NonScalarOutputError(FunctransError, TypeError):
    """``grad`` was asked to differentiate a function whose output is not a scalar.

    ``grad`` needs a real scalar (shape ``()``) output. For a vector output use ``jacrev``
    or ``jacfwd`` for the full Jacobian, ``vjp`` for a vector-Jacobian product, or reduce
    the output (for example ``sum``) before differentiating.
    """

    anchor = "nonscalaroutputerror"


class IntegerInputError(FunctransError, TypeError):
    """``grad`` (or another reverse-mode transform) was asked to differentiate with respect to
    an integer or boolean input.

    Derivatives are only defined for floating-point inputs. Pass ``1.0`` instead of ``1``,
    cast with ``astype(x, float64)``, or exclude the argument with ``argnums``.
    """

    anchor = "integerinputerror"


class ComplexDerivativeError(FunctransError, TypeError):
    """A transform that builds a whole derivative (``grad``, ``jacfwd``, ``jacrev``,
    ``hessian``) met complex values where the derivative needs a convention.

    A complex output of ``grad`` or ``jacrev``, or a complex input of ``jacfwd``, is only
    well defined for a holomorphic function (one with a complex derivative): pass
    ``holomorphic=True`` (all differentiated inputs and the outputs are then complex). For
    other functions of complex values, use ``jvp`` and ``vjp`` directly, or differentiate the
    real and imaginary parts as real functions.
    """

    anchor = "complexderivativeerror"


class TangentMismatchError(FunctransError, ValueError, TypeError):
    """A tangent (or cotangent) does not match its primal in tree structure, shape or dtype.

    ``jvp(f, primals, tangents)`` needs ``tangents`` to have the same tree structure as
    ``primals`` and each leaf to have the same shape and dtype as its primal. Both a
    ValueError and a TypeError: JAX raises one or the other depending on what differs (a
    shape: ValueError; a dtype or tree structure given to ``jvp``: TypeError), so code
    written for JAX catches it either way.
    """

    anchor = "tangentmismatcherror"


class ArgnumsError(FunctransError, ValueError, TypeError):
    """``argnums`` of ``grad``, ``vjp``, ``jacfwd``... names no positional argument of the
    call: out of range for the number of arguments passed, or empty. Both a ValueError and a
    TypeError: JAX raises TypeError for an ``argnums`` beyond the arguments passed, so code
    written for JAX catches it too.
    """

    anchor = "argnumserror"


class BackendMismatchError(FunctransError, TypeError):
    """Arrays of two different array libraries met in one operation.

    functrans never copies data between libraries (or between host and device) behind your
    back. Move the data explicitly first, for example with ``from_dlpack`` or the library's
    own ``asarray``.
    """

    anchor = "backendmismatcherror"


class UnsupportedBackendError(FunctransError, TypeError):
    """A value's type belongs to no registered backend, or a backend lacks a named extra.

    Register the library (see the Backends page), or use a library that provides the
    function. Typed random keys (dtype ``key<fry>``) reaching a function that keys do not
    take (arithmetic, ``sort``, ``sum``...) raise it too, naming the function:
    ``functrans.random.key_data(keys)`` gives their ``uint32`` words.
    """

    anchor = "unsupportedbackenderror"


class MissingRuleError(FunctransError, NotImplementedError):
    """A primitive has no rule for the transformation that reached it (for example no
    transpose rule, because the primitive is not linear)."""

    anchor = "missingruleerror"


class ShapeError(FunctransError, ValueError):
    """Operand shapes are incompatible for an operation."""

    anchor = "shapeerror"


class AxisError(ShapeError, numpy.exceptions.AxisError):
    """An ``axis`` (or ``axes``) argument is out of range for the array's number of
    dimensions: ``fnp.sum(x, axis=2)`` for a 2-d ``x``. Valid axes run from ``-x.ndim`` to
    ``x.ndim - 1``.

    Also an instance of NumPy's ``numpy.exceptions.AxisError`` (so of ``ValueError`` and
    ``IndexError``), as NumPy raises it: ``except np.exceptions.AxisError`` or
    ``except IndexError`` written for NumPy catches it too. ``axis`` and ``ndim`` hold the
    offending axis and the number of dimensions where known (else None).
    """

    anchor = "axiserror"

    def __init__(self, message: str, axis=None, ndim=None):
        super().__init__(message)  # (NumPy's __init__ keeps the message as its own)
        self.axis = axis
        self.ndim = ndim

    def __str__(self):
        return self._msg


class TypePromotionError(FunctransError, ValueError):
    """An operation would promote operands of different dtypes implicitly while
    ``jax_numpy_dtype_promotion`` is ``'strict'`` (``functrans.numpy_dtype_promotion``)."""

    anchor = "typepromotionerror"


class CustomRuleError(FunctransError, TypeError, ValueError):
    """A ``custom_jvp`` or ``custom_vjp`` rule returned values of the wrong structure, shape
    or dtype. Both a TypeError and a ValueError: JAX raises one or the other depending on
    what is wrong (a structure: TypeError; a ``bwd`` cotangent's shape: ValueError), so code
    written for JAX catches it either way."""

    anchor = "customruleerror"


class BatchingError(FunctransError, ValueError):
    """``vmap`` was given arguments it cannot batch: mapped axes of different sizes, an
    ``in_axes``/``out_axes`` that does not fit the arguments, or a primitive whose result shape
    would depend on each batch member's values (``nonzero``, ``unique_*``, boolean masks)."""

    anchor = "batchingerror"


class RestagingWarning(UserWarning):
    """A jitted function was staged again and again for new values of a Python number
    argument (each value is part of its signature): pass a number that changes from call to
    call as an array (``fnp.asarray(lr)``), or silence this with ``warnings.filterwarnings``."""


def check_function(fun, what):
    """Refuse, where a transform is set up (as JAX does), a ``fun`` that is not a function or
    is a generator function: called, it would fail later with a message about something
    else (an int not callable, a generator that belongs to no backend). Cheap: some rules
    set up transforms at every call."""
    if not callable(fun):
        raise TypeError(f"{what} expects a function; got {type(fun).__name__} "
                        f"{_short_repr(fun)}.")
    code = getattr(fun, "__code__", None)
    if code is not None and code.co_flags & _GENERATOR_FLAGS:
        raise TypeError(f"{what} expects a function returning arrays, but "
                        f"{getattr(fun, '__name__', 'it')} is a generator function (it "
                        f"yields): a transform needs the values it returns. Return them "
                        f"(stack them with functrans.numpy.stack, or collect them in a tuple).")


_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR


def is_nonnegative_int(x) -> bool:
    """Whether ``x`` is an integer >= 0 (a Python or NumPy int, anything with __index__): the
    check of a size or count argument before its own error message."""
    try:
        return operator.index(x) >= 0
    except TypeError:
        return False


def _short_repr(x):
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."
