"""Elementwise primitives and their rules, one block each.

Operands have equal shapes and dtypes; a Python scalar operand is a weakly typed constant
(it never carries a tangent). functrans.numpy broadcasts and promotes before binding.
"""

from __future__ import annotations

import math

from .. import dtypes as _dt
from ..core import _SCALAR_DTYPES, ShapedArray, primitive
from ..graph import Var


def _array_aval(*avals):
    """The aval of an elementwise result: that of the first array (non-weak) operand."""
    for a in avals:
        if not a.weak_type:
            return a
    return avals[0]


def _bool_aval(*avals):
    a = _array_aval(*avals)
    return ShapedArray(a.shape, _dt.bool_)


def _is_scalar(x):
    return type(x) in _SCALAR_DTYPES


def elementwise(name, impl, jvp=None, transpose=None, abstract_eval=_array_aval):
    """Declare an elementwise primitive whose result has its operands' shape and dtype.
    ``impl`` is ``impl(backend, *args)``, or the name of the Array API function that
    implements it (then it is called with no Python frame in between)."""
    p = primitive(name)
    p.same_aval = abstract_eval is _array_aval
    if isinstance(impl, str):
        p.def_namespace_impl(impl)
    else:
        p.def_impl(impl)
    p.def_abstract_eval(abstract_eval)
    if jvp is not None:
        p.def_jvp(jvp)
    if transpose is not None:
        p.def_transpose(transpose)
    return p


def unary(name, impl, tangent):
    """An elementwise function of one operand; ``tangent(t, x, y)`` gives the output tangent
    from the input tangent ``t``, the input ``x`` and the output ``y``."""
    def jvp(primals, tangents):
        x = primals[0]
        y = p.bind(x)
        return y, tangent(tangents[0], x, y)
    p = elementwise(name, impl, jvp)
    return p


def _is_linear(x):
    # In a transpose rule the linear operands arrive as graph variables.
    return type(x) is Var


# -- arithmetic ------------------------------------------------------------------------------

def _add_jvp(primals, tangents):
    tx, ty = tangents
    out = add(*primals)
    if tx is None:
        return out, ty
    if ty is None:
        return out, tx
    return out, add(tx, ty)


def _add_transpose(ct, x, y):
    return [ct if _is_linear(x) else None, ct if _is_linear(y) else None]


add_p = elementwise("add", "add", _add_jvp, _add_transpose)


def _sub_jvp(primals, tangents):
    tx, ty = tangents
    out = sub(*primals)
    if ty is None:
        return out, tx
    if tx is None:
        return out, neg(ty)
    return out, sub(tx, ty)


def _sub_transpose(ct, x, y):
    return [ct if _is_linear(x) else None, neg(ct) if _is_linear(y) else None]


sub_p = elementwise("sub", "subtract", _sub_jvp, _sub_transpose)


def _mul_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = mul(x, y)
    if tx is None:
        return out, mul(x, ty)
    if ty is None:
        return out, mul(tx, y)
    return out, add(mul(tx, y), mul(x, ty))


def _mul_transpose(ct, x, y):
    # Bilinear: in a linear graph exactly one operand is linear, the other a residual.
    if _is_linear(x):
        return [mul(ct, y), None]
    return [None, mul(x, ct)]


mul_p = elementwise("mul", "multiply", _mul_jvp, _mul_transpose)


def _div_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = div(x, y)
    if ty is None:
        return out, div(tx, y)
    t = mul(ty, div(out, y))
    return out, neg(t) if tx is None else div(sub(tx, mul(ty, out)), y)


def _div_transpose(ct, x, y):
    if _is_linear(y):
        raise TypeError("div is linear only in its numerator")
    return [div(ct, y), None]


div_p = elementwise("div", "divide", _div_jvp, _div_transpose)

neg_p = elementwise("neg", "negative",
                    lambda p, t: (neg(p[0]), neg(t[0])),
                    lambda ct, x: [neg(ct)])


def _pow_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = pow(x, y)
    t_out = None
    if tx is not None:
        if _is_scalar(y):
            # d/dx x**c = c x**(c-1); for c == 0 the derivative is 0 everywhere.
            t_out = mul(tx, mul(pow(x, y - 1), y)) if y != 0 else None
        else:
            safe = select(eq(y, 0), 0.0, mul(y, pow(x, sub(y, 1))))
            t_out = mul(tx, safe)
    if ty is not None:
        # d/dy x**y = log(x) x**y, taken as 0 where x == 0 (as JAX does).
        logx = log(select(eq(x, 0), 1.0, x)) if not _is_scalar(x) else _scalar_log(x)
        t_y = mul(ty, mul(out, logx))
        t_out = t_y if t_out is None else add(t_out, t_y)
    return out, t_out


def _scalar_log(c):
    return math.log(c) if c > 0 else (0.0 if c == 0 else float("nan"))


pow_p = elementwise("pow", "pow", _pow_jvp)


def _max_jvp(primals, tangents):
    # Where x == y the derivative is split evenly between the two (JAX's convention).
    x, y = primals
    tx, ty = tangents
    out = maximum(x, y)
    return out, _pick(gt(x, y), lt(x, y), tx, ty)


def _min_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = minimum(x, y)
    return out, _pick(lt(x, y), gt(x, y), tx, ty)


def _pick(first, second, tx, ty):
    """Tangent of a choice between two operands: tx where ``first``, ty where ``second``,
    their mean where neither (ties)."""
    if ty is None:
        return select(first, tx, select(second, 0.0, mul(tx, 0.5)))
    if tx is None:
        return select(first, 0.0, select(second, ty, mul(ty, 0.5)))
    return select(first, tx, select(second, ty, mul(add(tx, ty), 0.5)))


max_p = elementwise("max", "maximum", _max_jvp)
min_p = elementwise("min", "minimum", _min_jvp)

# -- transcendental ------------------------------------------------------------------------

exp_p = unary("exp", "exp", lambda t, x, y: mul(t, y))
log_p = unary("log", "log", lambda t, x, y: div(t, x))
sin_p = unary("sin", "sin", lambda t, x, y: mul(t, cos(x)))
cos_p = unary("cos", "cos", lambda t, x, y: neg(mul(t, sin(x))))
tanh_p = unary("tanh", "tanh", lambda t, x, y: mul(t, sub(1.0, mul(y, y))))
# d sqrt(x) = t / (2 sqrt(x)): infinite at 0, as in JAX.
sqrt_p = unary("sqrt", "sqrt", lambda t, x, y: div(t, mul(y, 2.0)))

# -- comparisons: boolean results, no tangent ----------------------------------------------


def _comparison(name, impl):
    p = elementwise(name, impl, lambda primals, tangents: (p.bind(*primals), None),
                    abstract_eval=_bool_aval)
    return p


eq_p = _comparison("eq", "equal")
ne_p = _comparison("ne", "not_equal")
lt_p = _comparison("lt", "less")
le_p = _comparison("le", "less_equal")
gt_p = _comparison("gt", "greater")
ge_p = _comparison("ge", "greater_equal")

# -- select (where) --------------------------------------------------------------------------


def _select_aval(pred, x, y):
    if x.weak_type and y.weak_type:
        return ShapedArray(pred.shape, _dt.float64 if x.dtype.kind in "fc" else x.dtype)
    return _array_aval(x, y)


def _select_jvp(primals, tangents):
    pred, x, y = primals
    _, tx, ty = tangents
    out = select(pred, x, y)
    if tx is None and ty is None:
        return out, None
    return out, select(pred, 0.0 if tx is None else tx, 0.0 if ty is None else ty)


def _select_transpose(ct, pred, x, y):
    return [None,
            select(pred, ct, 0.0) if _is_linear(x) else None,
            select(pred, 0.0, ct) if _is_linear(y) else None]


select_p = primitive("select")
select_p.def_namespace_impl("where")
select_p.def_abstract_eval(_select_aval)
select_p.def_jvp(_select_jvp)
select_p.def_transpose(_select_transpose)

# -- the functions rules are written with ------------------------------------------------------
# Bound methods rather than wrappers: one Python frame less per operation.


add = add_p.bind
sub = sub_p.bind
mul = mul_p.bind
div = div_p.bind
neg = neg_p.bind
pow = pow_p.bind
maximum = max_p.bind
minimum = min_p.bind
exp = exp_p.bind
log = log_p.bind
sin = sin_p.bind
cos = cos_p.bind
tanh = tanh_p.bind
sqrt = sqrt_p.bind
eq = eq_p.bind
ne = ne_p.bind
lt = lt_p.bind
le = le_p.bind
gt = gt_p.bind
ge = ge_p.bind
select = select_p.bind
