"""Elementwise primitives and their rules, one block each.

Operands have equal shapes and dtypes; a Python scalar operand is a weakly typed constant
(it never carries a tangent). functrans.numpy broadcasts and promotes before binding.
"""

from __future__ import annotations

import cmath
import math

from .. import buffers
from .. import dtypes as _dt
from ..core import _SCALAR_DTYPES, ShapedArray, _current_get, get_aval, primitive
from ..graph import Var
from ..interpreters import TangentRecorder as _TangentRecorder
from ._batching import leading_rule


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
    p.def_batch(leading_rule(p))
    return p


def unary(name, impl, tangent, from_output=False):
    """An elementwise function of one operand; ``tangent(t, x, y)`` gives the output tangent
    from the input tangent ``t``, the input ``x`` and the output ``y``. ``from_output``: it
    reads ``y`` only (never ``x``), and is the primitive's ``jvp_from_output`` too."""
    def jvp(primals, tangents):
        x = primals[0]
        y = p.bind(x)
        return y, tangent(tangents[0], x, y)
    p = elementwise(name, impl, jvp)
    if from_output:
        p.def_jvp_from_output(lambda tangents, y: tangent(tangents[0], None, y))
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


# The rules on nested derivatives' hot path (the product rule's mul and mul_add, tanh_slope)
# bind through the current interpreter's ``process``, looked up once: a rule runs with the
# interpreter below the JVP level current, and each bind leaves it current, so this is what
# ``bind`` would find, without bind's frame per operation. Their primal operation (on the
# primals alone) skips a tangent recorder there: under reverse mode the interpreter below is
# linearize's TangentRecorder, whose tracers are only ever tangents (never a JVP tracer's
# primal), so it would pass that operation on to its parent untouched; it goes to the parent
# directly, a frame and an ownership test less at every level of nested derivatives.


def _mul_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    below = _current_get().interp
    process = below.process
    primal = below.parent.process if type(below) is _TangentRecorder else process
    out = primal(mul_p, (x, y), {})
    if tx is None:
        return out, process(mul_p, (x, ty), {})
    if ty is None:
        return out, process(mul_p, (tx, y), {})
    if tx is ty and x is y:
        # x * x: one tangent op on the residual 2x instead of two products and a sum.
        return out, process(mul_p, (tx, primal(mul_p, (x, 2.0), {})), {})
    return out, process(mul_add_p, (tx, y, x, ty), {})


def _mul_transpose(ct, x, y):
    # Bilinear: in a linear graph exactly one operand is linear, the other a residual.
    if type(x) is Var:
        return [mul(ct, y), None]
    return [None, mul(x, ct)]


mul_p = elementwise("mul", "multiply", _mul_jvp, _mul_transpose)


def _mul_sz_impl(b, x, y):
    # x zeroed where y is 0 first: no inf * 0 evaluated (nor its warning). (Only a zero y
    # is strong: the rules put the tangent, or cotangent, second, and one where() is a
    # third of the cost of two in a Jacobian's O(n^3) products.)
    return b.xp.where(y == 0, 0.0, x) * y


def _mul_sz_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = mul_sz(x, y)
    t = None if tx is None else _tangent_times_sz(tx, y)
    if ty is not None:
        t = mul_sz(x, ty) if t is None else add(t, mul_sz(x, ty))
    return out, t


def _tangent_times_sz(tx, y):
    """``tx * y`` with a strong zero in both factors, linear in ``tx``: a zero tangent adds
    0 also where ``y`` is inf or nan (second derivatives through mul_sz: a zero tangent of
    x met the nan of an undefined first derivative), and a zero ``y`` 0 whatever ``tx``
    holds, as mul_sz's own. (Chosen by y, not by an indicator of y != 0: that would take
    the product's derivative in y away where y == 0.)"""
    if type(y) in _SCALAR_DTYPES:
        return mul_sz(tx, y)
    # (the first branch's y is 0 where it is not taken: its transpose, mul_sz(ct, y), gets
    # a zero cotangent there, beside a y that may be nan)
    zero = eq_p.bind(y, 0)
    return select_p.bind(zero, mul_sz(tx, select_p.bind(zero, y, 0.0)), mul_sz(y, tx))


def _mul_sz_transpose(ct, x, y):
    if type(x) is Var:
        return [mul_sz(ct, y), None]
    return [None, mul_sz(x, ct)]


# x * y with a strong zero: 0 where y is 0, whatever x is (infinities and nans included). For
# linear maps with infinite coefficients (cumprod's Jacobian where x has an inf): a zero
# tangent or cotangent gives no contribution, not inf * 0 = nan.
mul_sz_p = elementwise("mul_sz", _mul_sz_impl, _mul_sz_jvp, _mul_sz_transpose)


def mul_sz(x, y): return mul_sz_p.bind(x, y)


def _mul_add_impl(b, *xs, coef=None):
    # Operators: every Array API array has them, and on NumPy scalars (what 0-d results
    # are) they skip the ufunc machinery.
    if coef is not None:
        return _mul_add_scaled(xs, coef)
    n = len(xs)
    if n == 4:
        return xs[0] * xs[1] + xs[2] * xs[3]
    if n == 3:
        return xs[0] * xs[1] + xs[2]
    out = xs[0] * xs[1]
    for i in range(2, n - 1, 2):
        out = out + xs[i] * xs[i + 1]
    return out + xs[-1] if n % 2 else out


def _mul_add_scaled(xs, coef):
    # ``coef[k]`` times the k-th term (the lone term last): the order of _mul_add_impl, with
    # each term scaled after its product (the coefficients are powers of two).
    n = len(xs)
    out = None
    for k, i in enumerate(range(0, n - 1, 2)):
        t = xs[i] * xs[i + 1]
        if coef[k] != 1.0:
            t = t * coef[k]
        out = t if out is None else out + t
    if n % 2:
        t = xs[-1] if coef[-1] == 1.0 else xs[-1] * coef[-1]
        out = t if out is None else out + t
    return out


def _mul_add_into(b, outs, *xs, coef=None):
    # The operations of _mul_add_impl into the result, which may be the array of an operand
    # (see functrans.buffers): the order is chosen so that no operand is read after the
    # result is written, and None is returned where no order is safe. Additions are
    # commutative, so a reordered sum is the same to the bit. Further products go through a
    # temporary; on large arrays the work goes block by block (see _blocks), so that the
    # temporary and the block of the result stay in cache between the product and the sum.
    mul, add = b.writer_into("multiply"), b.writer_into("add")
    if mul is None or add is None:
        return None
    buf, n = outs[0], len(xs)
    at = [i for i, x in enumerate(xs) if x is buf]
    if all(i < 2 for i in at):
        first, rest, lone = 0, range(2, n - 1, 2), n % 2
    elif n == 4 and all(i >= 2 for i in at):
        first, rest, lone = 2, (0,), False  # x2 x3 + x0 x1
    elif n == 3 and at == [2]:
        first, rest, lone = None, (0,), True  # x0 x1 + x2, x2 the result's own array
    else:
        return None
    if not rest and coef is None:
        out = mul(xs[first], xs[first + 1], out=buf)
        return add(out, xs[-1], out=out) if lone else out
    # (each term's coefficient by the position of its first operand)
    scale = None
    if coef is not None:
        scale = {2 * k: c for k, c in enumerate(coef[:n // 2]) if c != 1.0}
        if n % 2 and coef[-1] != 1.0:
            scale[n - 1] = coef[-1]
        scale["subtract"] = b.writer_into("subtract")
        if scale["subtract"] is None:
            return None
    blocks = _blocks(buf)
    if blocks is None:  # (small, or not C-ordered: whole arrays, a kept one as temporary)
        tmp = buffers.scratch(buf)
        _mul_add_block(mul, add, buf, tmp, xs, first, rest, lone, scale)
        buffers.give_back(tmp)
        return buf
    # Elementwise: each block of the result reads only the same block of the operands, so
    # an order safe for the whole arrays is safe block by block.
    flat = [x.reshape(-1) if type(x) not in _SCALAR_DTYPES else x for x in xs]
    out = buf.reshape(-1)
    tmp = b.xp.empty(blocks[0][1], dtype=buf.dtype)
    for i, j in blocks:
        _mul_add_block(mul, add, out[i:j], tmp[:j - i],
                       [x[i:j] if type(x) not in _SCALAR_DTYPES else x for x in flat],
                       first, rest, lone, scale)
    return buf


def _mul_add_block(mul, add, out, tmp, xs, first, rest, lone, scale=None):
    # ``scale``: None, or {index of a term's first operand: its coefficient (where not 1),
    # "subtract": the library's subtract into an array}.
    if scale:
        return _mul_add_block_scaled(mul, add, out, tmp, xs, first, rest, lone, scale)
    if first is None:  # out is xs[2]'s memory: the product first, then the sum into it
        return add(mul(xs[0], xs[1], out=tmp), xs[2], out=out)
    mul(xs[first], xs[first + 1], out=out)
    for i in rest:
        add(out, mul(xs[i], xs[i + 1], out=tmp), out=out)
    if lone:
        add(out, xs[-1], out=out)


def _mul_add_block_scaled(mul, add, out, tmp, xs, first, rest, lone, scale):
    # The sum is kept divided by the coefficient of the term last added: powers of two
    # (and -1) scale exactly, so ``s + c t = c (s / c + t)`` to the bit, and a change of
    # coefficient costs one in-cache pass (a change of sign none: ``t - r``) instead of one
    # per scaled term; one more at the end unless the last coefficient is 1. (Where a
    # partial sum is exactly zero, its sign may differ from the unfolded operations': equal
    # values, and a zero that another term then joins gives the same bits.)
    n, get = len(xs), scale.get
    if first is None:  # out is xs[2]'s memory: the sum starts from it
        c, terms = get(2, 1.0), (0,)
    else:
        mul(xs[first], xs[first + 1], out=out)
        c, terms = get(first, 1.0), (*rest, n - 1) if lone else rest
    sub = scale["subtract"]
    for i in terms:
        t = xs[i] if i == n - 1 and n % 2 else mul(xs[i], xs[i + 1], out=tmp)
        ci = get(i, 1.0)
        r = c / ci
        if r == 1.0:
            add(out, t, out=out)
        elif r == -1.0:
            sub(t, out, out=out)
        else:
            add(mul(out, r, out=out), t, out=out)
        c = ci
    if c != 1.0:
        mul(out, c, out=out)


# Bytes per block where a rule works through large arrays block by block: a block of the
# result and of the temporary stay in the core's cache between the passes over it (256 KiB
# measured best for a 9-operand mul_add on 10^5 float64: 383 us against 438 us unblocked).
_BLOCK_BYTES = 256 * 1024


def _blocks(buf):
    """``[(start, stop), ...]`` covering ``buf``'s elements in blocks of ``_BLOCK_BYTES``,
    or None where it is smaller than two blocks or not C-contiguous (a flat view would
    copy)."""
    size, step = buf.size, max(_BLOCK_BYTES // buf.itemsize, 1)
    if size < 2 * step or not buf.flags.c_contiguous:
        return None
    return [(i, min(i + step, size)) for i in range(0, size, step)]


_mul_add_into.may_overwrite = True  # safe with the result in an operand's memory


def _mul_add_jvp(primals, tangents, coef=None):
    # The product rule on every pair, in one mul_add: (a b)' = a' b + a b'; a lone term
    # contributes its own tangent; each keeps its term's coefficient.
    if coef is not None:
        return _mul_add_jvp_scaled(primals, tangents, coef)
    below = _current_get().interp  # (binds as in _mul_jvp: see there)
    process = below.process
    out = (below.parent.process if type(below) is _TangentRecorder else process)(
        mul_add_p, tuple(primals), {})
    n = len(primals)
    if n == 4:  # the common case, unrolled when every operand carries a tangent
        ta, tb, tc, td = tangents
        if ta is not None and tb is not None and tc is not None and td is not None:
            a, b, c, d = primals
            return out, process(mul_add_p, (ta, b, a, tb, tc, d, c, td), {})
    terms = []
    for i in range(0, n - 1, 2):  # (by index: no slices of the operands nor zip's tuples)
        ta, tb = tangents[i], tangents[i + 1]
        if ta is not None:
            terms += (ta, primals[i + 1])
        if tb is not None:
            terms += (primals[i], tb)
    lone = tangents[-1] if n % 2 else None
    if not terms:
        return out, lone
    if lone is not None:
        terms.append(lone)
    return out, process(mul_p if len(terms) == 2 else mul_add_p, tuple(terms), {})


def _mul_add_jvp_scaled(primals, tangents, coef):
    out = mul_add_p.bind(*primals, coef=coef)
    n = len(primals)
    terms, cs = [], []
    for k, i in enumerate(range(0, n - 1, 2)):
        a, b, ta, tb = primals[i], primals[i + 1], tangents[i], tangents[i + 1]
        if ta is not None:
            terms += (ta, b)
            cs.append(coef[k])
        if tb is not None:
            terms += (a, tb)
            cs.append(coef[k])
    if n % 2 and tangents[-1] is not None:
        terms.append(tangents[-1])
        cs.append(coef[-1])
    elif terms:
        cs.append(1.0)  # (no lone term: its place in coef, unused)
    if not terms:
        return out, None
    return out, _bind_scaled(terms, cs)


def _bind_scaled(terms, cs):
    """mul_add of ``terms`` with coefficients ``cs`` (one per pair, and one for the lone
    term, or a placeholder where there is none), without the parameter when all are one."""
    if all(c == 1.0 for c in cs):
        return terms[0] if len(terms) == 1 else (
            mul(*terms) if len(terms) == 2 else mul_add(*terms))
    if len(terms) == 1:
        return mul(terms[0], cs[-1])
    return mul_add_p.bind(*terms, coef=tuple(cs))


def _mul_add_transpose(ct, *xs, coef=None):
    # Linear in one operand of each pair (the other is a residual) and in the lone term.
    n = len(xs)
    res = [None] * n
    for k, i in enumerate(range(0, n - 1, 2)):
        a, b = xs[i], xs[i + 1]
        if type(a) is Var:
            res[i] = mul(ct, b)
        elif type(b) is Var:
            res[i + 1] = mul(a, ct)
        else:
            continue
        if coef is not None and coef[k] != 1.0:
            j = i if res[i] is not None else i + 1
            res[j] = mul(res[j], coef[k])
    if n % 2 and type(xs[-1]) is Var:
        res[-1] = ct if coef is None or coef[-1] == 1.0 else mul(ct, coef[-1])
    return res


# ``x0 x1 + x2 x3 + ... (+ a last lone term when the count is odd)`` in one operation: the
# tangent of a product of two traced factors (the product rule), and, in reverse mode, a
# cotangent accumulated from products. Staged and transposed as one equation rather than
# products and sums, and at every level of nested differentiation its tangent is again one
# mul_add, so the operations that higher derivatives pile up stay few. Parameter ``coef``
# (only where one is not 1): a coefficient per term, the lone term's last (a placeholder
# where there is none), each a power of two or minus one, so that a staged ``neg`` or
# ``x * 2.0`` feeding a term folds into it (see graph.prune) to the bit.
mul_add_p = elementwise("mul_add", _mul_add_impl, _mul_add_jvp, _mul_add_transpose)
mul_add_p.into = _mul_add_into


def _div_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = div(x, y)
    if ty is None:
        return out, div(tx, y)
    if tx is None:
        # (ty / y) (-out), not ty (-out / y): out / y = x / y^2 underflows or overflows where
        # ty is as large or small as y (the tangent of 1/cosh(x) at 400 was -0, not -3.8e-174;
        # of 1/exp(-x), -inf, not 5.2e173). In reverse mode the cotangent of y, ct x / y^2,
        # itself under- or overflows there: nothing to gain. As many operations.
        return out, mul(div(ty, y), neg(out))
    return out, div(sub(tx, mul(ty, out)), y)


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
            # d/dx x**c = c x**(c-1); for c == 0 the derivative is 0 everywhere. Exponents
            # 1 and 2 skip the pow (and, nested, the pow's own derivatives).
            if y == 0:
                t_out = None
            elif y == 1:
                t_out = tx
            elif y == 2:
                t_out = mul(tx, mul(x, 2.0))
            else:
                t_out = mul(tx, mul(pow(x, y - 1), y))
        else:
            # y x**(y-1), with x**(y-1) replaced by 1 where x == y == 0 (0 * inf would be
            # nan). Written without a constant branch at y == 0 so that its derivative in y,
            # x**(y-1) (1 + y log x), stays right there (the mixed second derivative).
            base = select(eq(y, 0), select(eq(x, 0), 1.0, x), x)
            t_out = mul(tx, mul(y, pow(base, sub(y, 1))))
    if ty is not None:
        # d/dy x**y = log(x) x**y, taken as 0 where x == 0 (as JAX does).
        if _is_scalar(x):
            logx = _scalar_log(x, _aval(out).dtype.kind == "c")
        else:
            logx = log(select(eq(x, 0), 1.0, x))
        t_y = mul(ty, mul(out, logx))
        t_out = t_y if t_out is None else add(t_out, t_y)
    return out, t_out


def _scalar_log(c, complex_result):
    """log of a Python-number base: principal complex log where the power is complex (a
    negative or complex base, whose real log is nan or undefined), 0 at 0."""
    if c == 0:
        return 0.0
    if complex_result or type(c) is complex:
        return cmath.log(c)
    return math.log(c) if c > 0 else float("nan")


pow_p = elementwise("pow", "pow", _pow_jvp)


def _max_jvp(primals, tangents):
    # Where x == y the derivative is split evenly between the two (JAX's convention); where
    # the result is NaN (x or y NaN: neither is greater or equal) it is 0, as in JAX.
    x, y = primals
    tx, ty = tangents
    out = maximum(x, y)
    # (a side whose tangent is zero needs no mask: relu written maximum(x, 0) compares once
    # less per step, and keeps one residual less for reverse mode)
    greater, less = _order(x, y, tx is not None, ty is not None)
    return out, _pick(greater, less, eq(x, y), tx, ty)


def _min_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = minimum(x, y)
    greater, less = _order(x, y, ty is not None, tx is not None)
    return out, _pick(less, greater, eq(x, y), tx, ty)


def _order(x, y, greater=True, less=True):
    """``(x > y, x < y)``; complex numbers ordered lexicographically (real part, then
    imaginary part), as maximum and minimum order them (comparisons of complex numbers are
    not in every library). A mask not asked for (``greater``/``less`` false) is None."""
    if _aval(y if _is_scalar(x) else x).dtype.kind != "c":
        return gt(x, y) if greater else None, lt(x, y) if less else None
    xr, yr = (v.real if _is_scalar(v) else real(v) for v in (x, y))
    xi, yi = (v.imag if _is_scalar(v) else imag(v) for v in (x, y))
    same = eq(xr, yr)
    return (logical_or(gt(xr, yr), logical_and(same, gt(xi, yi))) if greater else None,
            logical_or(lt(xr, yr), logical_and(same, lt(xi, yi))) if less else None)


def _pick(first, second, tie, tx, ty):
    """Tangent of a choice between two operands: tx where ``first``, ty where ``second``,
    their mean where ``tie``, 0 where none of the three (a NaN operand)."""
    if ty is None:
        return select(first, tx, select(tie, mul(tx, 0.5), 0.0))
    if tx is None:
        return select(second, ty, select(tie, mul(ty, 0.5), 0.0))
    return select(first, tx, select(second, ty, select(tie, mul(add(tx, ty), 0.5), 0.0)))


max_p = elementwise("max", "maximum", _max_jvp)
min_p = elementwise("min", "minimum", _min_jvp)

# -- transcendental ------------------------------------------------------------------------

exp_p = unary("exp", "exp", lambda t, x, y: mul(t, y), from_output=True)
log_p = unary("log", "log", lambda t, x, y: div(t, x))


def _sin_cos_impl(b, x):
    return b.xp.sin(x), b.xp.cos(x)


def _sin_cos_into(b, outs, x):
    sin, cos = b.writer_into("sin"), b.writer_into("cos")
    if sin is None or cos is None:
        return None
    return [sin(x, out=outs[0]), cos(x, out=outs[1])]


def _sin_cos_jvp(primals, tangents):
    s, c = sin_cos(primals[0])
    t = tangents[0]
    return [s, c], [mul(t, c), neg(mul(t, s))]


# sin and cos together: the derivative of each is the other, so their rules bind this and,
# differentiated again, sin and cos are each evaluated once rather than twice per level.
sin_cos_p = primitive("sin_cos", multiple_results=True)
sin_cos_p.def_impl(_sin_cos_impl)
sin_cos_p.into = _sin_cos_into
sin_cos_p.def_abstract_eval(lambda x: [x, x])
sin_cos_p.def_jvp(_sin_cos_jvp)
sin_cos_p.def_batch(leading_rule(sin_cos_p))


def _sin_jvp(primals, tangents):
    s, c = sin_cos(primals[0])
    return s, mul(tangents[0], c)


def _cos_jvp(primals, tangents):
    s, c = sin_cos(primals[0])
    return c, neg(mul(tangents[0], s))


sin_p = elementwise("sin", "sin", _sin_jvp)
cos_p = elementwise("cos", "cos", _cos_jvp)
sin_cos_p.project = lambda i: ((sin_p, cos_p)[i], {})


def _tanh_slope_impl(b, x, factor):
    y = b.xp.tanh(x)
    return (y, 1.0 - y * y, y * -2.0) if factor else (y, 1.0 - y * y)


def _tanh_slope_into(b, outs, x, factor):
    # The same operations as _tanh_slope_impl, each into its own result.
    tanh, mul, sub = b.writer_into("tanh"), b.writer_into("multiply"), b.writer_into("subtract")
    if tanh is None or mul is None or sub is None:
        return None
    y = tanh(x, out=outs[0])
    s = sub(1.0, mul(y, y, out=outs[1]), out=outs[1])
    return [y, s, mul(y, -2.0, out=outs[2])] if factor else [y, s]


def _tanh_slope_jvp(primals, tangents, factor):
    below = _current_get().interp  # (binds as in _mul_jvp: see there)
    process = below.process
    y, s, m = (below.parent.process if type(below) is _TangentRecorder else process)(
        tanh_slope_p, (primals[0],), {"factor": True})
    ty = process(mul_p, (tangents[0], s), {})
    # d(1 - y^2) = -2 y dy = m dy, and dm = -2 dy.
    if factor:
        return [y, s, m], [ty, process(mul_p, (ty, m), {}), process(mul_p, (ty, -2.0), {})]
    return [y, s], [ty, process(mul_p, (ty, m), {})]


# tanh with the factors of its derivatives, 1 - tanh^2 and (with ``factor``, once a second
# derivative is asked for) -2 tanh, in one primitive: its rule binds this, so that
# differentiated again each derivative is one product with a value the primitive already
# computed, rather than the rules of a square and a subtraction run on recomputed values at
# every level of nesting.
tanh_slope_p = primitive("tanh_slope", multiple_results=True)
tanh_slope_p.def_impl(_tanh_slope_impl)
tanh_slope_p.into = _tanh_slope_into
tanh_slope_p.def_abstract_eval(lambda x, factor: [x, x, x] if factor else [x, x])
tanh_slope_p.def_jvp(_tanh_slope_jvp)
tanh_slope_p.def_batch(leading_rule(tanh_slope_p))


def _tanh_jvp(primals, tangents):
    y, s = tanh_slope(primals[0], factor=False)
    return y, mul(tangents[0], s)


tanh_p = elementwise("tanh", "tanh", _tanh_jvp)
# (1 - y^2 as tanh_slope computes it, so that both rules give the same tangent)
tanh_p.def_jvp_from_output(lambda tangents, y: mul(tangents[0], sub(1.0, mul(y, y))))
tanh_slope_p.project = lambda i, factor: (tanh_p, {}) if i == 0 else None
# d sqrt(x) = t / (2 sqrt(x)): infinite at 0, as in JAX.
sqrt_p = unary("sqrt", "sqrt", lambda t, x, y: div(t, mul(y, 2.0)), from_output=True)

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
select_p.def_batch(leading_rule(select_p))

# -- relu ------------------------------------------------------------------------------------


def _relu_impl(b, x):
    zero = b.xp.zeros_like(x)
    return b.xp.where(x <= zero, zero, x)  # (x <= 0 picks the zero: nan stays nan)


def _relu_tangent(t, y):
    # y is 0 exactly where x <= 0 (the derivative 0 there, at 0 too) and x elsewhere, nan
    # included: the derivative is one of the result.
    return select(eq(y, 0.0), 0.0, t)


def _relu_jvp(primals, tangents):
    y = relu_p.bind(primals[0])
    return y, _relu_tangent(tangents[0], y)


# max(x, 0) with derivative 0 at 0 (JAX's relu; maximum splits it there), one primitive so
# that its derivative is written from its result (see Primitive.jvp_from_output).
relu_p = elementwise("relu", _relu_impl, _relu_jvp)
relu_p.def_jvp_from_output(lambda tangents, y: _relu_tangent(tangents[0], y))

# -- more transcendental functions ------------------------------------------------------------

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# exp(x), not expm1(x) + 1: that is 0 for x below about -37 (true 4.2e-18 at -40) and
# 2e-8 relative off at -20, where expm1 exists to be accurate
expm1_p = unary("expm1", "expm1", lambda t, x, y: mul(t, exp(x)))
log1p_p = unary("log1p", "log1p", lambda t, x, y: div(t, add(x, 1.0)))
log2_p = unary("log2", "log2", lambda t, x, y: div(t, mul(x, _LN2)))
log10_p = unary("log10", "log10", lambda t, x, y: div(t, mul(x, _LN10)))
tan_p = unary("tan", "tan", lambda t, x, y: mul(t, add(mul(y, y), 1.0)), from_output=True)
sinh_p = unary("sinh", "sinh", lambda t, x, y: mul(t, cosh(x)))
cosh_p = unary("cosh", "cosh", lambda t, x, y: mul(t, sinh(x)))
# The inverse functions' derivatives are infinite at the ends of their domains, as in JAX.
# 1 - x^2 as (1 - x)(1 + x): no cancellation near |x| = 1, where the derivative is large.
def _one_minus_sq(x):
    return mul(sub(1.0, x), add(x, 1.0))


def _asin_slope_impl(b, x):
    return 1.0 / b.xp.sqrt((1.0 - x) * (1.0 + x))


def _asin_slope_jvp(primals, tangents):
    x, = primals
    g = asin_slope_p.bind(x)
    return g, mul(tangents[0], mul(x, mul(g, mul(g, g))))


# 1 / sqrt(1 - x^2), asin's derivative (minus acos's), as one primitive with the rule
# d g = x g^3 dx: through the product (1 - x)(1 + x), a reverse pass met inf * 0 at |x| = 1
# (nan where a forward pass gives the infinite limit).
asin_slope_p = elementwise("asin_slope", _asin_slope_impl, _asin_slope_jvp)
asin_p = unary("asin", "asin", lambda t, x, y: mul(t, asin_slope_p.bind(x)))
acos_p = unary("acos", "acos", lambda t, x, y: neg(mul(t, asin_slope_p.bind(x))))
atan_p = unary("atan", "atan",
               lambda t, x, y: div(t, add(mul(x, x), 1.0)))
asinh_p = unary("asinh", "asinh",
                lambda t, x, y: div(t, sqrt(add(mul(x, x), 1.0))))


def _acosh_poly(order):
    """The coefficients (constant first) of P with arccosh's derivative of this order equal
    to P(x) (x^2 - 1)^(-(2 order - 1) / 2): P_1 = 1, P_(n+1) = P_n' (x^2 - 1) - (2n - 1) x P_n.
    All of one sign (by induction), so no term cancels another."""
    c = _ACOSH_POLYS.get(order)
    if c is None:
        p = _acosh_poly(order - 1)
        m = 2 * order - 3
        c = [0] * (order)
        for k, a in enumerate(p):
            if k:  # P' (x^2 - 1): k a x^(k+1) - k a x^(k-1)
                c[k + 1] += k * a
                c[k - 1] -= k * a
            c[k + 1] -= m * a
        _ACOSH_POLYS[order] = c
    return c


_ACOSH_POLYS = {1: [1]}


def _acosh_slope_impl(b, x, order=1):
    # sqrt(x - 1) sqrt(x + 1), not sqrt(x^2 - 1): no cancellation near 1, and the principal
    # branch for complex x
    g = 1.0 / (b.xp.sqrt(x - 1.0) * b.xp.sqrt(x + 1.0))
    if order == 1:
        return g
    # P(x) g^(2n - 1) as the sum of c_k (x g)^k g^(2n - 1 - k): x g is near 1 for large x,
    # where x^k alone would overflow before g's powers underflow (inf * 0)
    u = x * g
    out = None
    for k, c in enumerate(_acosh_poly(order)):
        if c:
            term = u ** k * g ** (2 * order - 1 - k) * float(c)
            out = term if out is None else out + term
    return out


def _acosh_slope_jvp(primals, tangents, order=1):
    x, = primals
    return (acosh_slope_p.bind(x, order=order),
            mul(tangents[0], acosh_slope_p.bind(x, order=order + 1)))


def _atanh_slope_impl(b, x):
    return 1.0 / ((1.0 - x) * (1.0 + x))


def _atanh_slope_jvp(primals, tangents):
    x, = primals
    g = atanh_slope_p.bind(x)
    return g, mul(tangents[0], mul(mul(x, 2.0), mul(g, g)))


# acosh's and atanh's derivatives 1 / (sqrt(x - 1) sqrt(x + 1)) and 1 / ((1 - x)(1 + x)) as
# primitives, as asin_slope, with d g = -x g^3 dx and d g = 2 x g^2 dx: through the products,
# reverse-over-reverse met 0 * inf at x = 1 (x = +-1 for atanh) and gave nan where the
# forward-over-reverse gives the infinite one-sided limit.
acosh_slope_p = elementwise("acosh_slope", _acosh_slope_impl, _acosh_slope_jvp,
                            abstract_eval=lambda x, order=1: x)
acosh_slope_p.same_aval = True
atanh_slope_p = elementwise("atanh_slope", _atanh_slope_impl, _atanh_slope_jvp)
acosh_p = unary("acosh", "acosh", lambda t, x, y: mul(t, acosh_slope_p.bind(x, order=1)))
atanh_p = unary("atanh", "atanh", lambda t, x, y: mul(t, atanh_slope_p.bind(x)))

# -- piecewise constant functions: zero derivative ---------------------------------------------


def zero_derivative(name, impl, abstract_eval=_array_aval):
    """An elementwise primitive whose derivative is zero wherever it exists (``floor``,
    ``sign``, comparisons, bitwise operations): its tangent is a symbolic zero."""
    p = elementwise(name, impl, lambda primals, tangents: (p.bind(*primals), None),
                    abstract_eval=abstract_eval)
    return p


floor_p = zero_derivative("floor", "floor")
ceil_p = zero_derivative("ceil", "ceil")
trunc_p = zero_derivative("trunc", "trunc")
round_p = zero_derivative("round", "round")
# sign of a real number: zero derivative (also at 0, as in JAX).
sign_p = zero_derivative("sign", "sign")
floor_divide_p = zero_derivative("floor_divide", "floor_divide")

# Boolean-valued tests.
isfinite_p = zero_derivative("isfinite", "isfinite", _bool_aval)
isinf_p = zero_derivative("isinf", "isinf", _bool_aval)
isnan_p = zero_derivative("isnan", "isnan", _bool_aval)
signbit_p = zero_derivative("signbit", "signbit", _bool_aval)

# Integer and boolean operations: never a tangent.
bitwise_and_p = zero_derivative("bitwise_and", "bitwise_and")
bitwise_or_p = zero_derivative("bitwise_or", "bitwise_or")
bitwise_xor_p = zero_derivative("bitwise_xor", "bitwise_xor")
bitwise_invert_p = zero_derivative("bitwise_invert", "bitwise_invert")
bitwise_left_shift_p = zero_derivative(
    "bitwise_left_shift", "bitwise_left_shift")
bitwise_right_shift_p = zero_derivative(
    "bitwise_right_shift", "bitwise_right_shift")
logical_and_p = zero_derivative("logical_and", "logical_and")
logical_or_p = zero_derivative("logical_or", "logical_or")
logical_xor_p = zero_derivative("logical_xor", "logical_xor")
logical_not_p = zero_derivative("logical_not", "logical_not")

# -- abs and the complex parts -----------------------------------------------------------------


def _real_aval(*avals):
    a = _array_aval(*avals)
    return ShapedArray(a.shape, _dt.real_dtype(a.dtype)) if a.dtype.kind == "c" else a


def _abs_jvp(primals, tangents):
    x, = primals
    t, = tangents
    y = abs_(x)
    if _aval(x).dtype.kind != "c":
        # sign(0) = 0: the derivative of |x| at 0 is taken as 0 (the symmetric subgradient,
        # as autograd and PyTorch take it; JAX takes 1).
        return y, mul(t, sign(x))
    # d|z| = Re(conj(z) dz) / |z|, taken as 0 at z = 0.
    safe = select(eq(y, 0.0), 1.0, y)
    return y, div(real(mul(conj(x), t)), safe)


abs_p = elementwise("abs", "abs", _abs_jvp, abstract_eval=_real_aval)


def _to_complex(x, like):
    """A real array as the complex dtype of ``like`` (a complex aval)."""
    from .structural import convert_element_type
    return convert_element_type(x, like.dtype)


# conj, real and imag are linear. Transposes follow JAX's convention for complex numbers
# (the pairing <a, b> = Re(sum(a * b)), no conjugation): real^T c = c + 0j, imag^T c = -1j c.
conj_p = elementwise("conj", "conj",
                     lambda p, t: (conj(p[0]), conj(t[0])),
                     lambda ct, x: [conj(ct)])
real_p = elementwise("real", "real",
                     lambda p, t: (real(p[0]), real(t[0])),
                     lambda ct, x: [_to_complex(ct, x.aval)], abstract_eval=_real_aval)
imag_p = elementwise("imag", "imag",
                     lambda p, t: (imag(p[0]), imag(t[0])),
                     lambda ct, x: [mul(_to_complex(neg(ct), x.aval), 1j)],
                     abstract_eval=_real_aval)

# -- binary functions ------------------------------------------------------------------------


def _square(v):
    # A Python number squared in Python stays a Python number (weakly typed): bound, it
    # would become a float64 array and promote a float32 operand.
    return v * v if type(v) in (int, float) else mul(v, v)


def _atan2_jvp(primals, tangents):
    # d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)
    y, x = primals
    ty, tx = tangents
    out = atan2(y, x)
    r2 = add(_square(x), _square(y))
    t = None
    if ty is not None:
        t = mul(ty, div(x, r2))
    if tx is not None:
        tt = mul(tx, div(-y if type(y) in (int, float) else neg(y), r2))
        t = tt if t is None else add(t, tt)
    return out, t


atan2_p = elementwise("atan2", "atan2", _atan2_jvp)


def _hypot_jvp(primals, tangents):
    # d hypot(x, y) = (x dx + y dy) / hypot(x, y), taken as 0 at the origin — chosen there by
    # a select, so that the derivative of that 0 (the second derivative) is 0 as well.
    x, y = primals
    tx, ty = tangents
    out = hypot(x, y)
    origin = eq(out, 0.0)
    safe = select(origin, 1.0, out)
    t = None
    if tx is not None:
        t = mul(tx, _hypot_ratio(x, y, safe))
    if ty is not None:
        tt = mul(ty, _hypot_ratio(y, x, safe))
        t = tt if t is None else add(t, tt)
    return out, select(origin, 0.0, t)


def _hypot_ratio(v, other, r):
    return hypot_ratio_p.bind(v, other, r)


def _hypot_ratio_impl(b, v, other, r):
    # v / r, r = hypot(v, other) (1 at the origin): inf / inf at an infinite v beside a
    # finite operand, where its limit is sign(v) (both infinite: no limit, the nan stays). The
    # division there sees 0 for v (no invalid-value warning).
    xp = b.xp
    if _is_scalar(other):
        if not math.isfinite(other):
            return v / r
        far = xp.isinf(v)
    else:
        far = xp.logical_and(xp.isinf(v), xp.isfinite(other))
    return xp.where(far, xp.sign(v), xp.where(far, 0.0, v) / r)


def _hypot_ratio_jvp(primals, tangents):
    # d(v / r) = other (other dv - v dother) / r^3 in closed form: through div's rule,
    # (dv - (v / r) dr) / r, it was dv (1 - (v / r)^2) / r, all rounding error where other
    # is small beside v (d2/dx2 hypot(x, 1e-10) at 3 was 0, not 3.7e-22). r's own tangent is
    # not read: r is hypot(v, other) (1 at the origin, where hypot's tangent is 0 anyway).
    v, other, r = primals
    tv, tother, _ = tangents
    q = hypot_ratio_p.bind(v, other, r)
    if tv is None and tother is None:
        return q, None
    if _is_scalar(other):
        if not math.isfinite(other):   # (v / inf: 0 all along)
            return q, None
        q_other = div(other, r)
    else:
        q_other = hypot_ratio_p.bind(other, v, r)
    scale = div(q_other, r)
    if tother is None:
        return q, mul(tv, mul(q_other, scale))
    if tv is None:
        return q, mul(tother, mul(neg(q), scale))
    return q, mul(sub(mul(tv, q_other), mul(tother, q)), scale)


# hypot's slope v / hypot(v, other), the third operand hypot(v, other) itself (1 at the
# origin), a primitive for its derivative in closed form
hypot_ratio_p = elementwise("hypot_ratio", _hypot_ratio_impl, _hypot_ratio_jvp)


hypot_p = elementwise("hypot", "hypot", _hypot_jvp)


def _logaddexp_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = logaddexp(x, y)
    d = logaddexp_gap(x, y)
    t = None
    if tx is not None:
        t = mul(tx, _logistic(d))
    if ty is not None:
        tt = mul(ty, _logistic(neg(d)))
        t = tt if t is None else add(t, tt)
    return out, t


def logaddexp_gap(x, y):
    """``x - y``, whose logistic is the softmax weight of x in ``logaddexp(x, y)``: 1 where
    x = +inf > y, 0 where y = +inf, and 1/2 where both are the same infinity (0 there: inf
    - inf is never computed, nor its invalid-value warning). A nan input keeps it nan (and
    so the derivative); elsewhere, equal finite values included, its tangent is tx - ty."""
    if type(y) in (int, float, bool):  # (a Python number: selecting between two is not
        # the standard's where; the array side alone kept off the infinity will do)
        both = logical_and(eq(x, y), isinf_p.bind(x))
        return select(both, 0.0, sub(select(both, 0.0, x), y))
    if type(x) in (int, float, bool):
        both = logical_and(eq(x, y), isinf_p.bind(y))
        return select(both, 0.0, sub(x, select(both, 0.0, y)))
    both = logical_and(eq(x, y), isinf_p.bind(x))
    return sub(select(both, 0.0, x), select(both, 0.0, y))


def _logistic(z):
    """``1 / (1 + exp(-z))`` with each branch fed only values where its exp cannot overflow
    (so neither it nor its derivatives of any order overflow into inf / inf)."""
    up = ge(z, 0.0)
    e_up = exp(neg(select(up, z, 0.0)))
    e_down = exp(select(up, 0.0, z))
    return select(up, div(1.0, add(e_up, 1.0)), div(e_down, add(e_down, 1.0)))


logaddexp_p = elementwise("logaddexp", "logaddexp", _logaddexp_jvp)


def _copysign_jvp(primals, tangents):
    # copysign(x, y) = +-x: the derivative in x is +-1 (sign flipped when the signs differ),
    # and 0 in y.
    x, y = primals
    tx, _ = tangents
    out = copysign(x, y)
    if tx is None:
        return out, None
    if _is_scalar(y):
        return out, select(eq(signbit(x), math.copysign(1.0, y) < 0), tx, neg(tx))
    return out, select(eq(signbit(x), signbit(y)), tx, neg(tx))


copysign_p = elementwise("copysign", "copysign", _copysign_jvp)

# nextafter(x, y) moves x by one unit in the last place: the derivative is taken as 1 in x and
# 0 in y (the function is the identity up to rounding).
nextafter_p = elementwise("nextafter", "nextafter",
                          lambda p, t: (nextafter(*p), t[0]))


def _rem_jvp(primals, tangents):
    # remainder(x, y) = x - y * floor(x / y): derivative 1 in x and -floor(x / y) in y.
    x, y = primals
    tx, ty = tangents
    out = remainder(x, y)
    if ty is None:
        return out, tx
    q = floor_divide(x, y)
    # floor_divide is nan at an infinite x (and a finite y): floor(x / y) is the infinity
    # there (JAX's -inf for y = 2), not a nan; floor keeps the slope of q zero
    q = select(ne(q, q), floor_p.bind(div(x, y)), q)
    t = mul(neg(ty), q)
    return out, t if tx is None else add(tx, t)


remainder_p = elementwise("remainder", "remainder", _rem_jvp)


_aval = get_aval  # (the name the rules use; an import per call cost ~0.15 us)


# -- the functions rules are written with ------------------------------------------------------
# Bound methods rather than wrappers: one Python frame less per operation.


add = add_p.bind
sub = sub_p.bind
mul = mul_p.bind
mul_add = mul_add_p.bind
div = div_p.bind
neg = neg_p.bind
pow = pow_p.bind
maximum = max_p.bind
minimum = min_p.bind
exp = exp_p.bind
log = log_p.bind
sin = sin_p.bind
cos = cos_p.bind
sin_cos = sin_cos_p.bind
tanh = tanh_p.bind
tanh_slope = tanh_slope_p.bind
sqrt = sqrt_p.bind
eq = eq_p.bind
ne = ne_p.bind
lt = lt_p.bind
le = le_p.bind
gt = gt_p.bind
ge = ge_p.bind
select = select_p.bind
def expm1(x): return expm1_p.bind(x)
def log1p(x): return log1p_p.bind(x)
def tan(x): return tan_p.bind(x)
def sinh(x): return sinh_p.bind(x)
def cosh(x): return cosh_p.bind(x)
def sign(x): return sign_p.bind(x)
def floor_divide(x, y): return floor_divide_p.bind(x, y)
def signbit(x): return signbit_p.bind(x)
def abs_(x): return abs_p.bind(x)
def conj(x): return conj_p.bind(x)
def real(x): return real_p.bind(x)
def imag(x): return imag_p.bind(x)
def atan2(x, y): return atan2_p.bind(x, y)
def hypot(x, y): return hypot_p.bind(x, y)
def logaddexp(x, y): return logaddexp_p.bind(x, y)
def copysign(x, y): return copysign_p.bind(x, y)
def nextafter(x, y): return nextafter_p.bind(x, y)
def remainder(x, y): return remainder_p.bind(x, y)
def logical_and(x, y): return logical_and_p.bind(x, y)
def logical_not(x): return logical_not_p.bind(x)
def logical_or(x, y): return logical_or_p.bind(x, y)
