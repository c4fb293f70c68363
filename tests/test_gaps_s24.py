"""Session 24 (helper gapsA): numeric-semantics gaps closed."""

import operator

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import UnsupportedBackendError

# (operator, the reflected method Python calls on the right operand when the tracer declines)
_OPERATORS = [
    (operator.add, "__radd__"), (operator.sub, "__rsub__"), (operator.mul, "__rmul__"),
    (operator.truediv, "__rtruediv__"), (operator.floordiv, "__rfloordiv__"),
    (operator.mod, "__rmod__"), (divmod, "__rdivmod__"), (operator.pow, "__rpow__"),
    (operator.matmul, "__rmatmul__"), (operator.and_, "__rand__"),
    (operator.or_, "__ror__"), (operator.xor, "__rxor__"), (operator.lshift, "__rlshift__"),
    (operator.rshift, "__rrshift__"), (operator.lt, "__gt__"), (operator.le, "__ge__"),
    (operator.gt, "__lt__"), (operator.ge, "__le__"), (operator.eq, "__eq__"),
    (operator.ne, "__ne__"), (operator.iadd, "__radd__"), (operator.imul, "__rmul__"),
    (operator.imatmul, "__rmatmul__"), (operator.ior, "__ror__")]


class _Reflecting:
    """A value of no backend that implements every reflected operator: records the call."""


for _op, _name in _OPERATORS:
    setattr(_Reflecting, _name, lambda self, other, _n=_name: (_n, type(other)))
setattr(_Reflecting, "__add__", lambda self, other: ("__add__", type(other)))
_Reflecting.__hash__ = object.__hash__


class _Plain:
    """A value of no backend with no operators."""


@pytest.mark.parametrize("transform", ["jit", "grad", "vmap"])
def test_operators_defer_to_an_unknown_operands_reflected_method(transform):
    seen = []

    def f(x):
        for op, name in _OPERATORS:
            for operand in (x, fnp.zeros(2, dtype=x.dtype)):  # a tracer; a constant
                out = op(operand, _Reflecting())
                assert out[0] == name, (op, out)
                assert isinstance(operand, ft.core.Tracer)
                assert issubclass(out[1], ft.core.Tracer)
                seen.append(name)
        # the other order: the object's own operator first, as Python does
        assert _Reflecting() + x == ("__add__", type(x))
        # no reflected method: functrans's error, naming the type
        for op in (operator.add, operator.lt, operator.eq, operator.matmul):
            with pytest.raises(UnsupportedBackendError, match="_Plain"):
                op(x, _Plain())
        with pytest.raises(UnsupportedBackendError, match="_Plain"):
            _Plain() * x
        return fnp.sum(x * 2.0)

    x = np.arange(1.0, 3.0)
    if transform == "vmap":
        ft.vmap(f)(np.ones((2, 2)))
    else:
        getattr(ft, transform)(f)(x)
    assert len(seen) == 2 * len(_OPERATORS)
    # NumPy's refused scalars keep the error (their own operators would only convert)
    with pytest.raises(UnsupportedBackendError):
        ft.jit(lambda x: x + np.str_("a"))(x)


@pytest.mark.parametrize("n", [1, 2])
def test_scan_number_carry_beside_float32_gives_float32_ys_even_for_one_step(n):
    import functrans.lax as flax

    def step(c, x):
        return c + x, c * 3.0

    xs = np.linspace(0.5, 1.5, n, dtype=np.float32)
    typed = flax.scan(step, np.float32(0.1), xs)  # the carry typed by hand: the reference
    for run in (lambda xs: flax.scan(step, 0.1, xs), ft.jit(lambda xs: flax.scan(step, 0.1, xs))):
        c, ys = run(xs)
        assert ys.dtype == np.float32 and fnp.asarray(c).dtype == np.float32
        np.testing.assert_array_equal(np.asarray(ys), np.asarray(typed[1]))
    g = ft.grad(lambda xs: fnp.sum(flax.scan(step, 0.1, xs)[1]))(xs)
    assert g.dtype == np.float32
