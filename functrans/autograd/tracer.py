"""autograd's ``autograd.tracer``: :func:`getval`, :func:`isbox` and :class:`Box`, the parts
that mean something in functrans, where autograd's boxes are functrans's tracers.

``primitive`` and ``notrace_primitive`` are those of :mod:`functrans.autograd.extend`.
autograd's graph-building machinery (``trace``, ``Node``, ``new_box``, ``register_notrace``)
has no counterpart, since functrans does not record a graph of Python calls while
differentiating; those names raise a ``NotImplementedError`` saying what to use instead
(:func:`functrans.make_graph` prints the evaluation trace of a function).
"""

from __future__ import annotations

from .. import numpy as fnp
from ..core import Tracer
from ..interpreters import ConstTracer
from ..tree import tree_map

__all__ = ["Box", "getval", "isbox"]


def isbox(x):
    """Whether ``x`` is a functrans tracer: a value standing for an argument of a transform
    (``grad``, ``jvp``, ``vmap``, ``jit`` ...) inside the function being transformed.

    Difference from autograd: true for the tracers of every transform, not only of
    differentiation (autograd has no other), and false for containers, which functrans
    never wraps (a tuple holding tracers is a plain tuple)."""
    return isinstance(x, Tracer)


def getval(x):
    """``x``'s value with no derivative: each tracer in ``x`` (an array or a pytree of them)
    passed through :func:`functrans.stop_gradient`, everything else returned as it is.

    Under ``grad``, ``jvp`` and the other derivatives (which run the function on concrete
    values) this is the plain array of ``x``'s library, as autograd's ``getval`` gives the
    NumPy array inside a box. Difference from autograd: under ``jit`` or ``vmap`` it is
    still a tracer of those transforms (there is no concrete value there), one whose
    derivative is zero."""
    if isinstance(x, Tracer):
        return _plain(fnp.stop_gradient(x))
    return tree_map(lambda leaf: _plain(fnp.stop_gradient(leaf)) if isinstance(leaf, Tracer)
                    else leaf, x)


def _plain(v):
    # (a value with no derivative left is a constant tracer under forward mode: its array)
    return v.primal if type(v) is ConstTracer else v


class _BoxMeta(type):
    def __instancecheck__(cls, obj):
        if cls is Box:
            return isinstance(obj, Tracer)
        return super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub):
        if cls is Box:
            return isinstance(sub, type) and issubclass(sub, Tracer)
        return super().__subclasscheck__(sub)


class Box(metaclass=_BoxMeta):
    """autograd's box type, for ``isinstance`` checks: ``isinstance(x, Box)`` is
    :func:`isbox` (whether ``x`` is a functrans tracer).

    Difference from autograd: boxes are not made or registered by the user. functrans
    differentiates pytrees of arrays; ``Box(...)`` and ``Box.register(value_type)`` (for a
    new differentiable type, along with a ``VSpace``) raise a ``NotImplementedError``:
    register the type as a pytree with :func:`functrans.register_pytree_node`, whose leaves
    (arrays) are then differentiated."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "functrans.autograd.tracer.Box: functrans makes its own tracers and does not box "
            "values. To differentiate an argument of a new type, register it as a pytree with "
            "functrans.register_pytree_node (its array leaves are differentiated).")

    @classmethod
    def register(cls, value_type):
        raise NotImplementedError(
            f"{cls.__name__}.register({getattr(value_type, '__name__', value_type)}): "
            f"functrans has no box types to register. It differentiates pytrees of arrays: "
            f"register {getattr(value_type, '__name__', 'the type')} with "
            f"functrans.register_pytree_node (its array leaves are then differentiated and "
            f"its gradient is an object of the same type). A type whose vectors change "
            f"structure (autograd's rkhs example: a dict growing new keys) cannot be a "
            f"functrans argument; represent it with arrays of fixed shape.")


def _graph_machinery(name):
    def unsupported(*args, **kwargs):
        raise NotImplementedError(
            f"functrans.autograd.tracer.{name}: autograd's tracing machinery (trace, Node, "
            f"new_box, register_notrace) has no counterpart in functrans, which does not "
            f"record Python calls. To see the evaluation trace of a function use "
            f"functrans.make_graph(f)(*args); for new derivative rules use "
            f"functrans.autograd.extend (primitive, defvjp, defjvp) or "
            f"functrans.custom_vjp; for a function nothing differentiates through, "
            f"notrace_primitive.")
    unsupported.__name__ = name
    unsupported.__qualname__ = name
    return unsupported


class Node:
    """autograd's graph node base class. Difference from autograd: functrans has no node
    graph; subclassing is allowed but ``Node.new_root`` and constructing one raise a
    ``NotImplementedError`` naming what to use (:func:`functrans.make_graph`)."""

    def __init__(self, *args, **kwargs):
        _graph_machinery("Node")()

    @classmethod
    def new_root(cls, *args, **kwargs):
        _graph_machinery(f"{cls.__name__}.new_root")()


trace = _graph_machinery("trace")
new_box = _graph_machinery("new_box")
register_notrace = _graph_machinery("register_notrace")


def __getattr__(name):
    # ``primitive`` and ``notrace_primitive`` live in .extend, which imports this module.
    if name in ("primitive", "notrace_primitive"):
        from . import extend
        return getattr(extend, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
