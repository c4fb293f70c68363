"""Taylor mode: ``jet``, the truncated Taylor series of a function along a curve of inputs.

A jet tracer carries a value ``x0`` and its first ``K`` Taylor coefficients ``x1 ... xK``: it
stands for the curve ``x(t) = x0 + x1 t + ... + xK t^K`` (coefficients, not derivatives: the
public :func:`jet` converts from and to JAX's derivatives ``k! xk``). Each primitive applied
to jet tracers gives the coefficients of ``p(x(t))`` up to ``t^K``, in one pass:

- a rule of its own (the table ``RULES`` below) where Taylor arithmetic is short: the
  recurrences of ``exp``, ``log``, ``sin``/``cos``..., the convolution of a product, the
  piecewise rules of ``max``, ``abs``, ``relu``, the max reductions and ``sort``, one-sided
  at kinks and ties: the coefficients of ``p(x(t))`` for small t > 0 (the curve's first
  coefficients that differ decide; JAX's jet and the JVP rules take the mean or a fixed side);
- the comparisons likewise: a comparison of curves is a :class:`OneSidedTracer`, its value at
  t = 0 and its truth for small t > 0; a primitive given such a value (``select``: ``where``,
  ``clip``...) computes its value from the values at t = 0 and its coefficients from those at
  t = 0+, the branch that holds after (a float that may so step at t = 0 holds those in a
  ``_Stepped``). The first coefficient (the value) stays ``f(x0)``;
- a primitive *linear* in the operands that carry coefficients is applied to each coefficient
  (the linear primitives are those with a transpose rule, less their coefficient operands:
  :func:`functrans.api._coefficient_operands`), so every structural operation, sum, gather,
  convert... needs no rule;
- any other primitive with a JVP rule gets its coefficients from ``K`` nested forward modes
  along the curve (``d^k/dt^k p(x(t))`` at ``t = 0``, divided by ``k!``): exact, at a cost
  that doubles with each order, so that ``jet`` reaches every differentiable operation
  (special functions, linear algebra, abstract staged loops);
- a ``custom_jvp`` function through its rule, ``y' = T(x, x')``, followed by a jet of its own
  (so the rule's comparisons are one-sided too; one met inside a rule passes on its primal's
  value for t > 0); ``argmax``/``argmin``/``argsort`` choose for t > 0 as the curves do; an
  eager ``lax.cond``/``switch`` whose predicate changes right after t = 0 runs both branches,
  merged by ``where`` (functrans.control_flow), and an eager ``while_loop`` likewise goes on
  where one side does (a repeated cond); a staged one (jit's) follows the branch chosen by a
  jet of its own, and a staged loop runs in Python on concrete values, its body so followed,
  or (abstract, jit of jet) is a loop of the same kind whose body is its body's jet;
- a value-dependent shape (``x[mask]``, ``nonzero``; ``unique`` at a tie of values whose
  curves differ, the unique curves for t > 0) that changes right after t = 0: the
  coefficients from a second run of the function with the shapes for t > 0 (``jet``).

Rules run with the interpreter below current, as forward mode's do, so ``jet`` nests with every
other transform in either order.
"""

from __future__ import annotations

import contextvars
import math
import threading
import weakref

from . import dtypes as _dt
from . import numpy as _fnp
from .api import (_Leaves, _all_zero, _array_leaves, _as_input, _check_like,
                  _coefficient_operands, _const_output, _fname, _integer_tangent, _is_float0,
                  _product_pairs, _scalar_like)
from . import control_flow as _control_flow
from .core import INEXACT_TRACER_TYPES, Interpreter, Tracer, _by_type_get, current_interpreter, \
    get_aval, registry, reset_current, set_current
from .errors import MissingRuleError, TangentMismatchError, check_function
from .interpreters import (CONSTANT_INTERPRETERS, SAME_LAYOUT_TRACERS, ConstTracer,
                           JVPInterpreter, JVPTracer, PairTracer)
from .primitives.elementwise import (_logistic, _order, _pick, _scalar_log, add, div, eq, exp,
                                     gt, log, logaddexp_gap, logical_and, logical_not, logical_or,
                                     lt, mul, ne, neg, pow, select, sign, sin_cos, sqrt, sub)
from .primitives.reductions import chooser_weights_p, reduce_sum
from .primitives.special import _erf_slope
from .primitives.indexing import take_along_axis
from .primitives.sorting import argsort
from .primitives.structural import convert_element_type
from .reverse import unshared
from .tree import _where_differ, tree_flatten, tree_unflatten

# -- the tracer and its interpreter -------------------------------------------------------------


class JetTracer(PairTracer):
    """A value and its first Taylor coefficients along the curve being followed. ``terms``
    is a tuple of ``K`` coefficients, each an array of the value's shape and dtype or None
    for a zero one (not all None: such a value is a constant). Only floating-point values
    are wrapped."""

    # (JVPTracer's layout, the coefficients in ``tangent``: a constant assigned a jet value,
    # ``y = zeros(3); y[0] = x``, turns into one, as it does into a forward mode's tracer)
    __slots__ = ()
    _DROPPED = (" of a value followed by jet would drop its Taylor coefficients silently. "
                "Keep the computation in functrans.numpy, or write "
                "float(functrans.stop_gradient(x)) if dropping them is intended.")

    @property
    def terms(self):
        return self.tangent

    @property
    def aval(self):
        return get_aval(self.primal)


INEXACT_TRACER_TYPES.add(JetTracer)
SAME_LAYOUT_TRACERS.add(JetTracer)


_STEPPING_LOCK = threading.Lock()
_COMPARED = [0]  # jets that have met a comparison of curves, ever (only grows)


class _Stepped(tuple):
    """The Taylor coefficients of a value whose curve may step at t = 0 (a branch chosen by a
    comparison of curves): those of the branch that holds for small t > 0, which starts
    from ``limit``, the value at t = 0+, where the tracer's value is the one at t = 0. Held
    in a JetTracer's ``tangent`` (a tuple still: the layout stays JVPTracer's); a comparison
    rule returns one with no coefficients, its decision for t > 0 in ``limit``."""

    def __new__(cls, terms, limit):
        self = tuple.__new__(cls, terms)
        self.limit = limit
        return self


class _SplitAfter(list):
    """A rule's coefficients where a value-dependent shape of its own results changes right
    after t = 0 (``unique`` at a tie of values whose curves differ: more unique values for
    t > 0): the list is the coefficients of the results at t = 0 (decided there); ``after``
    the results for small t > 0 and ``after_terms`` their coefficients. The interpreter takes
    the one or the other (``JetInterpreter._split``): the results at t = 0, and jet's second
    run with the shapes for t > 0, as for a mask that changes there."""

    def __init__(self, terms, after, after_terms):
        super().__init__(terms)
        self.after, self.after_terms = after, after_terms


class OneSidedTracer(PairTracer):
    """A boolean or integer value under jet that may change right after t = 0: ``primal``
    at t = 0 (what ``bool()``, indexing and Python control flow see), ``tangent`` for small
    t > 0. Made by a comparison of curves (``x > 0`` at ``x0 == 0``: False at t = 0, the
    sign of the curve's first nonzero coefficient after), so that ``where`` picks, for the
    coefficients, the branch that holds for t > 0."""

    __slots__ = ()
    _DROPPED = JetTracer._DROPPED

    @property
    def aval(self):
        return get_aval(self.primal)


SAME_LAYOUT_TRACERS.add(OneSidedTracer)


class JetInterpreter(Interpreter):
    """Carries values with ``order`` Taylor coefficients through each primitive (see the
    module's docstring for where each primitive's coefficients come from).
    ``device_source``: one of the values followed, whose library and device arrays created
    inside take (as forward mode's)."""

    # ``stepped``: whether a comparison of curves has run under it (only then can a value
    # step at t = 0, and only then are operands looked at for one). ``shapes_after``: value-
    # dependent shapes (nonzero of a mask, x[mask]) taken from the values for small t > 0
    # (jet's second run, see ``jet``); ``shapes_differ``: whether one differed from the one at
    # t = 0 (then decided at t = 0).
    __slots__ = ("order", "device_source", "stepped", "shapes_after", "shapes_differ")

    def __init__(self, parent, order, device_source=None, shapes_after=False):
        self.parent = parent
        self.active = True
        self.order = order
        self.device_source = device_source
        self.stepped = False
        self.shapes_after = shapes_after
        self.shapes_differ = False

    def process(self, prim, args, params):
        primals = list(args)
        series = [None] * len(args)
        own = False
        for i, a in enumerate(args):
            t = type(a)
            if t is JetTracer and a._interp is self:
                primals[i] = a.primal
                series[i] = a.tangent
                own = True
            elif t is ConstTracer:
                primals[i] = a.primal
            elif t is OneSidedTracer and a._interp is self:
                primals[i] = a.primal
                own = True
        if not own:
            return self.parent.process(prim, args, params)
        if self.stepped:
            limits = self._limits(args, primals)
            if limits is not None:
                return self._process_stepped(prim, args, primals, limits, series, params)
        rule = RULES.get(prim.name)
        if rule is None and prim.jvp is None:
            return self._follow_inline(prim, args, params)
        token = set_current(self.parent)
        try:
            if rule is not None:
                out, terms = rule(primals, series, self.order, **params)
            elif prim.transpose is not None and _linear_in(prim, primals, series, params):
                out, terms = _linear_rule(prim, primals, series, self.order, params)
            else:
                out, terms = _nested_jvp_rule(prim, primals, series, self.order, params)
        finally:
            reset_current(token)
        if prim.multiple_results:
            if type(terms) is _SplitAfter:
                out, terms = self._split(out, terms)
            terms = [None] * len(out) if terms is None else terms
            return [self._wrap(o, t) for o, t in zip(out, terms)]
        return self._wrap(out, terms)

    def _split(self, at_zero, split):
        """The results and coefficients of a rule whose results' shapes change right after
        t = 0 (see _SplitAfter): those for t > 0 in jet's second run, else those at t = 0,
        the change noted (jet then runs the function again)."""
        if self.shapes_after:
            return split.after, split.after_terms
        self.shapes_differ = True
        return at_zero, list(split)

    def _follow_inline(self, prim, args, params):
        # (a primitive defined by traceable operations and no JVP rule: follow those)
        if prim.jvp_inline is None:
            raise MissingRuleError(f"primitive {prim.name!r} has no JVP rule, so jet "
                                   f"cannot give its Taylor coefficients")
        token = set_current(self)
        try:
            return prim.jvp_inline(*args, **params)
        finally:
            reset_current(token)

    def _wrap(self, out, terms):
        if terms is not None and any(t is not None for t in terms) and _is_float(out):
            if type(terms) is _Stepped:  # (a custom_jvp function that steps at t = 0)
                self._mark_stepped()
                return self._wrap_stepped(out, terms.limit, terms)
            # (a constant made by a rule beneath is the array it holds)
            return JetTracer(self, out.primal if type(out) is ConstTracer else out,
                             tuple(terms))
        if type(terms) is _Stepped:  # (a comparison, a step function: its value for t > 0)
            self._mark_stepped()
            return self._wrap_stepped(out, terms.limit, None)
        # no coefficients (a comparison, an integer result, a zero derivative): a constant
        if _by_type_get(type(out)) is None:
            if type(out) is not ConstTracer:
                return out  # (a tracer of a transform beneath, a number)
            out = out.primal
        return ConstTracer(self, out)

    def _mark_stepped(self):
        if not self.stepped:
            self.stepped = True
            with _STEPPING_LOCK:  # (jets in other threads count too)
                _control_flow._JET_STEPPING += 1
                _COMPARED[0] += 1

    def _limits(self, args, primals):
        """The operands' values at t = 0+ (``primals`` where they do not step), or None
        where none steps."""
        limits = None
        for i, a in enumerate(args):
            t = type(a)
            if t is OneSidedTracer and a._interp is self:
                limit = a.tangent
            elif t is JetTracer and a._interp is self and type(a.tangent) is _Stepped:
                limit = a.tangent.limit
            else:
                continue
            if limits is None:
                limits = list(primals)
            limits[i] = limit
        return limits

    def _process_stepped(self, prim, args, primals, limits, series, params):
        """A primitive of operands of which some step at t = 0: its value from the values at
        t = 0 (``primals``: jet's first term is f(x0) exactly), its coefficients, and the
        value they start from, from the values at t = 0+ (``limits``): the branch that holds
        for small t > 0."""
        series = [None if s is None or all(t is None for t in s) else tuple(s)
                  for s in series]
        rule = RULES.get(prim.name)
        carried = any(s is not None for s in series)
        if carried and rule is None and prim.jvp is None:
            return self._follow_inline(prim, args, params)
        token = set_current(self.parent)
        try:
            at_zero = prim.bind(*primals, **params)

            def coefficients(values):
                if not carried:
                    return prim.bind(*values, **params), None
                if rule is not None:
                    return rule(values, series, self.order, **params)
                if prim.transpose is not None and _linear_in(prim, values, series, params):
                    return _linear_rule(prim, values, series, self.order, params)
                return _nested_jvp_rule(prim, values, series, self.order, params)
            after, terms = coefficients(limits)
            if type(terms) is _SplitAfter:
                after, terms = self._split(after, terms)
            outs, afters = (at_zero, after) if prim.multiple_results else ([at_zero], [after])
            if self.shapes_after:
                pass  # (jet's second run: the shapes, and all, from the values after)
            elif any(get_aval(a).shape != get_aval(z).shape for z, a in zip(outs, afters)):
                # A shape that depends on the values (nonzero of a mask that steps): no
                # branch for t > 0 can follow the value at t = 0; all decided at t = 0
                # (jet then runs the function again with the shapes for t > 0)
                self.shapes_differ = True
                _, terms = coefficients(primals)
                if type(terms) is _SplitAfter:
                    terms = list(terms)
                if type(terms) is _Stepped:
                    terms = None
                stepped = False
            else:
                stepped = True
        finally:
            reset_current(token)
        if self.shapes_after:
            if prim.multiple_results:
                terms = [None] * len(after) if terms is None else terms
                return [self._wrap_stepped(a, *_after_stepped(a, t))
                        for a, t in zip(after, terms)]
            return self._wrap_stepped(after, *_after_stepped(after, terms))
        if not stepped:
            if prim.multiple_results:
                terms = [None] * len(at_zero) if terms is None else terms
                return [self._wrap(z, t) for z, t in zip(at_zero, terms)]
            return self._wrap(at_zero, terms)
        if prim.multiple_results:
            terms = [None] * len(at_zero) if terms is None else terms
            return [self._wrap_stepped(z, *_after_stepped(a, t))
                    for z, a, t in zip(at_zero, after, terms)]
        return self._wrap_stepped(at_zero, *_after_stepped(after, terms))

    def _wrap_stepped(self, at_zero, after, terms):
        at_zero, after = _unwrapped(at_zero), _unwrapped(after)
        if _is_float(at_zero):
            return JetTracer(self, at_zero, _Stepped(
                [None] * self.order if terms is None else terms, after))
        return OneSidedTracer(self, at_zero, after)


def _after_stepped(after, terms):
    """``(after, terms)`` where a rule's coefficients are a ``_Stepped`` (a comparison: its
    decision for t > 0; a custom_jvp function that steps): its own value after, which holds
    past a step at the values after."""
    if type(terms) is _Stepped:
        return terms.limit, (list(terms) if any(t is not None for t in terms) else None)
    return after, terms


def _unwrapped(x):
    # (a constant made by a rule beneath is the array it holds)
    return x.primal if type(x) is ConstTracer else x


CONSTANT_INTERPRETERS.add(JetInterpreter)


def _is_float(x):
    return _dt.is_float(get_aval(x).dtype)


def jet_flat(fun, primals, series, order, device_source=None):
    """``(out, terms)``: ``fun(*primals)`` (one result) and its ``order`` Taylor coefficients
    (None for zero ones; ``terms`` None where all are) along ``series`` (per operand a
    sequence of ``order`` coefficients, None entries for zeros, or None for a constant
    operand), under a jet interpreter pushed on the current one."""
    if order == 0:
        return fun(*primals), None
    if device_source is None:
        device_source = next(p for p, s in zip(primals, series) if s is not None)
    interp = JetInterpreter(current_interpreter(), order, device_source)
    args = [p if s is None or all(t is None for t in s) else JetTracer(interp, p, tuple(s))
            for p, s in zip(primals, series)]
    out = _run_under(interp, fun, args)
    if type(out) is JetTracer and out._interp is interp:
        # (a value that steps at t = 0: the one its coefficients start from, t = 0+, as the
        # rules that call this compute coefficients with it)
        terms = out.terms
        return (terms.limit if type(terms) is _Stepped else out.primal), list(terms)
    if type(out) is OneSidedTracer and out._interp is interp:
        return out.tangent, None
    return (out.primal if type(out) is ConstTracer else out), None

def _run_under(interp, fun, args):
    """``fun(*args)`` with the jet interpreter ``interp`` current; it is retired after (and
    lets go of the caller's array that gave its device)."""
    token = set_current(interp)
    try:
        return fun(*args)
    finally:
        reset_current(token)
        interp.active = False
        interp.device_source = None
        if interp.stepped:  # (it stays marked: retired, it counts no more)
            with _STEPPING_LOCK:
                _control_flow._JET_STEPPING -= 1


def decision_values(x):
    """The concrete values a deciding value ``x`` (a cond's predicate, a switch's index,
    concrete now) takes under the jets beneath it, at t = 0 and for small t > 0 of each (a
    comparison of curves, a step function's value): more than one where it changes right
    after t = 0. Empty where a value beneath is abstract."""
    found, todo = [], [x]
    while todo:
        v = todo.pop()
        t = type(v)
        if t is OneSidedTracer:
            todo += (v.primal, v.tangent)
        elif t is JetTracer:
            todo.append(v.primal)
            if type(v.tangent) is _Stepped:
                todo.append(v.tangent.limit)
        elif isinstance(v, PairTracer):  # (forward mode's, a constant)
            todo.append(v.primal)
        elif isinstance(v, Tracer):
            return []
        else:
            found.append(v)
    return found

# -- helpers on coefficients (None is a zero coefficient) --------------------------------------


def _plus(total, term):
    if term is None:
        return total
    return term if total is None else add(total, term)


def _minus(total, term):
    if term is None:
        return total
    return neg(term) if total is None else sub(total, term)


def _times(a, b):
    return None if a is None or b is None else mul(a, b)


def _scaled(a, c):
    return None if a is None else a if c == 1 else mul(a, c)


def _padded(s, order):
    return [None] * order if s is None else list(s)


def _integral(u, c, k):
    """The coefficient ``k`` of ``y`` where ``y' = c x'`` (``u`` the coefficients of ``x``, ``c``
    those of ``c`` up to ``k - 1``): ``(1/k) sum_{j=1..k} j u_j c_{k-j}``."""
    total = None
    for j in range(1, k + 1):
        total = _plus(total, _scaled(_times(u[j], c[k - j]), j / k))
    return total


def _by_derivative(value, deriv, primals, series, order):
    """Coefficients of ``y = f(x)`` (``value``: f, bound on a value) from ``y' = f'(x) x'``,
    with ``deriv`` (f', traceable) followed to order ``K - 1`` by a jet of its own."""
    x, = primals
    u = [x] + list(series[0])
    c0, cs = jet_flat(deriv, [x], [u[1:order]], order - 1)
    c = [c0] + _padded(cs, order - 1)
    v = [value(x)] + [None] * order
    for k in range(1, order + 1):
        v[k] = _integral(u, c, k)
    return v[0], v[1:]

# -- rules ----------------------------------------------------------------------------------------
# rule(primals, series, order, **params) -> (out, terms): ``series[i]`` is None for an operand
# with no coefficients, else a sequence of ``order`` (None for zero ones); ``terms`` likewise
# (per result for primitives with several). Operands are unwrapped values one level down.


RULES: dict = {}


def _exp_rule(primals, series, order):
    x, = primals
    u = [x] + list(series[0])
    v = [exp(x)] + [None] * order
    for k in range(1, order + 1):
        v[k] = _integral(u, v, k)  # exp' = exp
    return v[0], v[1:]


def _expm1_rule(primals, series, order):
    x, = primals
    u = [x] + list(series[0])
    y = registry["expm1"].bind(x)
    e = [add(y, 1.0)] + [None] * order  # the coefficients of exp(x): the same beyond the 0th
    for k in range(1, order + 1):
        e[k] = _integral(u, e, k)
    return y, e[1:]


def _log_like(value, at):
    """log(at(x)) + constant: ``y' = x' / at(x)`` solved for ``y_k`` (``x_k`` for k >= 1 are
    those of ``at(x)``)."""
    def rule(primals, series, order):
        x, = primals
        u = [x] + list(series[0])
        w0 = at(x)
        v = [value(x)] + [None] * order
        for k in range(1, order + 1):
            # k u_k = sum_{j=1..k} j v_j w_{k-j}, w_0 = at(x), w_j = u_j
            acc = u[k]
            for j in range(1, k):
                acc = _minus(acc, _scaled(_times(v[j], u[k - j]), j / k))
            v[k] = None if acc is None else div(acc, w0)
        return v[0], v[1:]
    return rule


def _scaled_rule(rule, c):
    def scaled(primals, series, order):
        out, terms = rule(primals, series, order)
        return out, [_scaled(t, c) for t in terms]
    return scaled


def _sqrt_rule(primals, series, order):
    x, = primals
    u = [x] + list(series[0])
    v = [sqrt(x)] + [None] * order
    twice = mul(v[0], 2.0)
    for k in range(1, order + 1):
        acc = u[k]  # u_k = sum_{j=0..k} v_j v_{k-j}
        for j in range(1, k):
            acc = _minus(acc, _times(v[j], v[k - j]))
        v[k] = None if acc is None else div(acc, twice)
    return v[0], v[1:]


def _pair_coefficients(s0, c0, u, order, sign_):
    """The coefficients of (s, c) = (sin, cos) (sign_ -1) or (sinh, cosh) (sign_ 1) of x:
    s' = c x', c' = sign_ s x'."""
    s = [s0] + [None] * order
    c = [c0] + [None] * order
    for k in range(1, order + 1):
        s[k] = _integral(u, c, k)
        c[k] = _scaled(_integral(u, s, k), sign_)
    return s, c


def _sin_cos_rule(primals, series, order):
    x, = primals
    s0, c0 = sin_cos(x)
    s, c = _pair_coefficients(s0, c0, [x] + list(series[0]), order, -1)
    return [s[0], c[0]], [s[1:], c[1:]]


def _one_of(rule, i):
    def one(primals, series, order):
        outs, terms = rule(primals, series, order)
        return outs[i], terms[i]
    return one


def _sinh_cosh_rule(primals, series, order):
    x, = primals
    s, c = _pair_coefficients(registry["sinh"].bind(x), registry["cosh"].bind(x),
                              [x] + list(series[0]), order, 1)
    return [s[0], c[0]], [s[1:], c[1:]]


def _squared_slope(value, sign_):
    """tan (sign_ 1) and tanh (sign_ -1): y' = (1 + sign_ y^2) x'. Returns ``(v, w)``, the
    coefficients of y and of the slope 1 + sign_ y^2."""
    def coefficients(x, u, order):
        v = [value(x)] + [None] * order
        w = [add(_scaled(mul(v[0], v[0]), sign_), 1.0)] + [None] * order
        for k in range(1, order + 1):
            v[k] = _integral(u, w, k)
            sq = None
            for j in range(0, k + 1):
                sq = _plus(sq, _times(v[j], v[k - j]))
            w[k] = _scaled(sq, sign_)
        return v, w
    return coefficients


_tan_coefficients = _squared_slope(lambda x: registry["tan"].bind(x), 1)
_tanh_coefficients = _squared_slope(lambda x: registry["tanh"].bind(x), -1)


def _tan_rule(primals, series, order):
    v, _ = _tan_coefficients(primals[0], [primals[0]] + list(series[0]), order)
    return v[0], v[1:]


def _tanh_rule(primals, series, order):
    v, _ = _tanh_coefficients(primals[0], [primals[0]] + list(series[0]), order)
    return v[0], v[1:]


def _tanh_slope_rule(primals, series, order, factor):
    # results tanh(x), 1 - tanh(x)^2 and (factor) -2 tanh(x)
    x, = primals
    outs = registry["tanh_slope"].bind(x, factor=factor)
    v, w = _tanh_coefficients(x, [x] + list(series[0]), order)
    terms = [v[1:], w[1:]] + ([[_scaled(t, -2.0) for t in v[1:]]] if factor else [])
    return outs, terms


def _bilinear(prim):
    """A product (``mul``, ``mul_sz``, ``matmul``, ``tensordot``): v_k = sum_j op(u_j, w_{k-j})."""
    def rule(primals, series, order, **params):
        x, y = primals
        u = [x] + _padded(series[0], order)
        w = [y] + _padded(series[1], order)
        terms = []
        for k in range(1, order + 1):
            total = None
            for j in range(0, k + 1):
                if u[j] is not None and w[k - j] is not None:
                    total = _plus(total, prim.bind(u[j], w[k - j], **params))
            terms.append(total)
        return prim.bind(x, y, **params), terms
    return rule


def _mul_add_rule(primals, series, order, coef=None):
    # sum_i coef_i x_{2i} x_{2i+1} (+ coef_last x_last): each product a convolution
    n = len(primals)
    out = registry["mul_add"].bind(*primals, **({} if coef is None else {"coef": coef}))
    cs = list(coef) if coef is not None else [1.0] * ((n + 1) // 2)
    seqs = [[p] + _padded(s, order) for p, s in zip(primals, series)]
    terms = []
    for k in range(1, order + 1):
        total = None
        for i in range(n // 2):
            a, b = seqs[2 * i], seqs[2 * i + 1]
            for j in range(0, k + 1):
                total = _plus(total, _scaled(_times(a[j], b[k - j]), cs[i]))
        if n % 2:
            total = _plus(total, _scaled(seqs[-1][k], cs[-1]))
        terms.append(total)
    return out, terms


def _div_rule(primals, series, order):
    # x = v y: u_k = sum_{j=0..k} v_j w_{k-j}
    x, y = primals
    u = [x] + _padded(series[0], order)
    w = [y] + _padded(series[1], order)
    v = [div(x, y)] + [None] * order
    for k in range(1, order + 1):
        acc = u[k]
        for j in range(0, k):
            acc = _minus(acc, _times(v[j], w[k - j]))
        v[k] = None if acc is None else div(acc, y)
    return v[0], v[1:]


def _pow_rule(primals, series, order):
    x, y = primals
    sx, sy = series
    out = pow(x, y)
    scalar_y = type(y) in (int, float, complex)
    if sy is None:
        # y' = c x^(c-1) x': the power of one less followed by a jet of its own, down to
        # the exponent 0 for integers (exact at x = 0, where no division is)
        if scalar_y:
            if y == 0:
                return out, None
            deriv = lambda z: mul(pow(z, y - 1), y)  # noqa: E731
        else:
            # (as the JVP rule: where y == 0 the derivative is 0, also at x == 0)
            zero_y = eq(y, 0)
            deriv = lambda z: mul(pow(select(zero_y, 1.0, z), sub(y, 1)), y)  # noqa: E731
        return _by_derivative(lambda _: out, deriv, [x], [sx], order)
    # x^y = exp(y log x): the exp recurrence on the coefficients of y log x (nan at x == 0,
    # where log x has none, as in JAX's jet)
    if type(x) in (int, float, complex):
        lx = _scalar_log(x, get_aval(out).dtype.kind == "c")
        z = [mul(y, lx)] + [_scaled(t, lx) for t in sy]
    else:
        z0, zs = jet_flat(lambda a, b: mul(b, log(a)), [x, y], [sx, sy], order)
        z = [z0] + _padded(zs, order)
    v = [out] + [None] * order
    for k in range(1, order + 1):
        v[k] = _integral(z, v, k)
    return out, v[1:]


def _curve_order(x, y, sx, sy):
    """``(above, below, same)``: where ``x(t) > y(t)``, where ``x(t) < y(t)`` for small t > 0,
    and where the curves are the same, real curves with values ``x``, ``y`` and coefficients
    ``sx``, ``sy`` (None entries zeros): at ``x0 == y0`` the first coefficients that differ
    decide, as the sign of the difference's first nonzero coefficient (compared, not
    subtracted: exact). All three False where a NaN is met first (the order is unknown)."""
    above, below = gt(x, y), lt(x, y)
    tied = eq(x, y)
    for a, b in zip(sx, sy):
        if a is None and b is None:
            continue
        a, b = 0.0 if a is None else a, 0.0 if b is None else b
        above = logical_or(above, logical_and(tied, gt(a, b)))
        below = logical_or(below, logical_and(tied, lt(a, b)))
        tied = logical_and(tied, eq(a, b))
    return above, below, tied


def _comparison_rule(name):
    """A comparison of curves: its value at t = 0 and, as a ``_Stepped`` with no
    coefficients, its truth for small t > 0, decided where the values are equal by the first
    coefficients that differ (lexicographic on the difference x(t) - y(t)). The decision at
    t = 0 stays where the curves are the same or a NaN is met first. Complex operands: ``eq``
    and ``ne`` on the real and imaginary parts, the orderings at t = 0."""
    prim = registry[name]

    def rule(primals, series, order):
        x, y = primals
        out = prim.bind(x, y)
        if x is y and series[0] is series[1]:
            return out, None  # (a curve against itself, a NaN test: nothing can change)
        sx, sy = _padded(series[0], order), _padded(series[1], order)
        if _is_complex(x) or _is_complex(y):
            if name not in ("eq", "ne"):
                return out, None
            apart = None  # where the real or the imaginary parts part after a tie
            for part in (registry["real"], registry["imag"]):
                px, py = (part.bind(v) if _is_complex(v) else v for v in (x, y))
                psx = [None if a is None else part.bind(a) for a in sx] \
                    if _is_complex(x) else sx
                psy = [None if b is None else part.bind(b) for b in sy] \
                    if _is_complex(y) else sy
                above, below, _ = _curve_order(px, py, psx, psy)
                apart = _either(apart, logical_or(above, below))
            after = logical_and(out, logical_not(apart)) if name == "eq" \
                else logical_or(out, apart)
            return out, _Stepped((), after)
        # (x >= y for t > 0 is x >= y at t = 0 unless x falls below y after a tie: one side
        # of the order is enough for the four orderings)
        if name == "gt":
            after = _beyond(x, y, sx, sy, gt, out)
        elif name == "lt":
            after = _beyond(x, y, sx, sy, lt, out)
        elif name == "ge":
            after = logical_and(out, logical_not(_beyond(x, y, sx, sy, lt)))
        elif name == "le":
            after = logical_and(out, logical_not(_beyond(x, y, sx, sy, gt)))
        else:
            above, below, _ = _curve_order(x, y, sx, sy)
            apart = logical_or(above, below)
            after = logical_and(out, logical_not(apart)) if name == "eq" \
                else logical_or(out, apart)
        return out, _Stepped((), after)
    return rule


def _beyond(x, y, sx, sy, side, start=None):
    """Where x(t) ``side`` y(t) (``side`` gt or lt) for small t > 0 and x0 == y0: decided by the first coefficients that differ (compared, not subtracted:
    exact); False where the curves are the same or a NaN is met first. ``start``: ``side``
    at t = 0, to which the decisions at ties are added (the truth for t > 0)."""
    result = start
    tied = eq(x, y)
    pairs = [(0.0 if a is None else a, 0.0 if b is None else b)
             for a, b in zip(sx, sy) if a is not None or b is not None]
    for k, (a, b) in enumerate(pairs):
        result = _either(result, logical_and(tied, side(a, b)))
        if k + 1 < len(pairs):
            tied = logical_and(tied, eq(a, b))
    return result if result is not None else logical_and(tied, False)


def _direction(terms):
    """The sign of the first nonzero coefficient of a curve's ``terms`` (its direction
    from x0 for small t > 0): 0 where all are 0, NaN where a NaN comes first."""
    d = None
    for t in terms:
        if t is not None:
            d = sign(t) if d is None else select(eq(d, 0.0), sign(t), d)
    return d


def _step_rule(name):
    """The piecewise constant ``sign``, ``floor``, ``ceil``, ``trunc`` and ``round`` of a
    real curve: coefficients 0, and, as a ``_Stepped``, the value for small t > 0, which
    differs from the one at t = 0 at a step (sign at 0; floor, ceil and trunc at integers;
    round at half-integers) where the curve leaves it on the side of the next value. A NaN
    coefficient first keeps the value at t = 0."""
    prim = registry[name]

    def rule(primals, series, order):
        x, = primals
        out = prim.bind(x)
        if get_aval(x).dtype.kind == "c":
            return out, None
        d = _direction(series[0])
        if d is None:
            return out, None
        up, down = gt(d, 0.0), lt(d, 0.0)
        # (the values after from ``out``, not from x, equal there: their derivatives in x0,
        # grad of a jet, are a step function's, 0)
        if name == "sign":
            after = select(eq(x, 0.0), d, out)
        elif name == "floor":
            after = select(logical_and(eq(out, x), down), sub(out, 1.0), out)
        elif name == "ceil":
            after = select(logical_and(eq(out, x), up), add(out, 1.0), out)
        elif name == "trunc":
            at = eq(out, x)
            after = select(logical_and(at, logical_and(gt(x, 0.0), down)), sub(out, 1.0),
                           select(logical_and(at, logical_and(lt(x, 0.0), up)),
                                  add(out, 1.0), out))
        else:  # round (half to even at t = 0): from a half-integer, the side it goes to
            fl = registry["floor"].bind(x)
            half = eq(sub(x, fl), 0.5)
            after = select(logical_and(half, up), add(fl, 1.0),
                           select(logical_and(half, down), fl, out))
        return out, _Stepped((), after)
    return rule


def _signbit_rule(primals, series, order):
    """signbit of a real curve: no coefficients; for small t > 0, at x0 = +-0, whether the
    curve leaves 0 downwards (the side of its first nonzero coefficient; ``where(signbit(x),
    -x, x)``, fmod's magnitude, was -t along -1). The value at t = 0 stays where every
    coefficient is 0 or a NaN comes first."""
    x, = primals
    out = registry["signbit"].bind(x)
    d = _direction(series[0])
    if d is None:
        return out, None
    moves = logical_and(eq(x, 0.0), logical_or(gt(d, 0.0), lt(d, 0.0)))
    return out, _Stepped((), select(moves, lt(d, 0.0), out))


def _pair_of_arrays(x, y):
    """A binary rule's operands with a Python number made a 0-d array of the other's
    library, device and dtype (as a weakly typed number takes it)."""
    if type(y) in (int, float, bool):
        return x, _scalar_like(float(y), x, get_aval(x).dtype)
    if type(x) in (int, float, bool):
        return _scalar_like(float(x), y, get_aval(y).dtype), y
    return x, y


def _quotient_after(x, y, sx, sy, q):
    """floor(x(t) / y(t)) for small t > 0, ``q`` (floor_divide's value) at t = 0: one less
    where x0 is an exact multiple ``q y0`` of y0 != 0 (remainder 0) and x(t) - q y(t), whose
    first coefficient that is not 0 decides, moves to the side opposite y0; else ``q``.
    None where neither operand carries coefficients."""
    d = None
    for a, b in zip(sx, sy):
        if a is None and b is None:
            continue
        c = a if b is None else neg(mul(q, b)) if a is None else sub(a, mul(q, b))
        d = sign(c) if d is None else select(eq(d, 0.0), sign(c), d)
    if d is None:
        return None
    at = logical_and(eq(registry["remainder"].bind(x, y), 0.0), ne(y, 0.0))
    return select(logical_and(at, lt(mul(d, sign(y)), 0.0)), sub(q, 1.0), q)


def _floor_divide_rule(primals, series, order):
    """floor_divide of real curves: piecewise constant, no coefficients; its value for small
    t > 0 one less at an exact multiple the quotient leaves downwards (was the value at
    t = 0: x * (x // 1) at 1 along -1 had slope 1, true 0)."""
    x, y = _pair_of_arrays(*primals)
    out = registry["floor_divide"].bind(x, y)
    if not _is_float(out):
        return out, None
    after = _quotient_after(x, y, _padded(series[0], order), _padded(series[1], order), out)
    return out, (None if after is None else _Stepped((), after))


def _remainder_rule(primals, series, order):
    """remainder (Python's %, the sign of y) of real curves: ``x_k - q y_k`` with ``q`` the
    quotient for small t > 0; where that steps down (x0 an exact multiple of y0 left towards
    the side opposite y0) the value after t = 0 is y0, not 0 (``(x % 1) * x`` at 1 along -1:
    the slope was -1, true -2)."""
    x, y = _pair_of_arrays(*primals)
    prim = registry["remainder"]
    out = prim.bind(x, y)
    if not _is_float(out):
        return out, None
    sx, sy = _padded(series[0], order), _padded(series[1], order)
    q = registry["floor_divide"].bind(x, y)
    after = _quotient_after(x, y, sx, sy, q)
    if after is None:
        return out, None
    terms = [None if a is None and b is None else
             a if b is None else _minus(a, mul(after, b)) for a, b in zip(sx, sy)]
    return out, _Stepped(terms, select(lt(after, q), add(out, y), out))


def _copysign_rule(primals, series, order):
    """copysign of real curves: ``|x(t)|`` with the sign of y(t) for small t > 0. At x0 = 0
    the magnitude is one-sided (the sign of x's first nonzero coefficient: was x's own
    coefficients, -t along -1); at y0 = +-0 the sign after is that of y's first nonzero
    coefficient, where the value itself may change sign (a ``_Stepped``)."""
    x, y = _pair_of_arrays(*primals)
    out = registry["copysign"].bind(x, y)
    sx = series[0]
    negative = registry["signbit"].bind(y)
    if series[1] is not None:
        _, after = _signbit_rule([y], [series[1]], order)
        negative = negative if after is None else after.limit
    g = select(negative, -1.0, 1.0)
    terms = None
    if sx is not None:
        s = sign(x)
        for t in sx:
            if t is not None:
                s = select(eq(s, 0.0), sign(t), s)
        f = mul(s, g)
        terms = [_times(t, f) for t in sx]
    if series[1] is None:
        return out, terms
    return out, _Stepped(_padded(terms, order), registry["copysign"].bind(x, g))


def _either(a, b):
    return b if a is None else logical_or(a, b)


def _is_complex(v):
    return type(v) is complex or (type(v) not in (int, float, bool)
                                  and get_aval(v).dtype.kind == "c")


def _extremum(larger):
    """max (``larger``) and min: the coefficients of the operand chosen. At a tie
    ``x0 == y0`` of real operands, the operand that is larger (smaller) along the curves for
    small t > 0 (one-sided: the JVP rule's slope there is the mean, as JAX's jet's); the mean
    where the curves are the same (complex operands: at every tie); 0 where the result is NaN
    (the JVP rule's convention)."""
    def rule(primals, series, order):
        x, y = primals
        out = registry["max" if larger else "min"].bind(x, y)
        sx, sy = _padded(series[0], order), _padded(series[1], order)
        if get_aval(out).dtype.kind == "c":
            (greater, less), tie = _order(x, y), eq(x, y)
        else:
            greater, less, _ = _curve_order(x, y, sx, sy)
            # the mean where undecided: the same curves, or a NaN coefficient (kept NaN)
            tie = logical_and(eq(x, y), logical_not(logical_or(greater, less)))
        first, second = (greater, less) if larger else (less, greater)
        return out, [None if a is None and b is None else _pick(first, second, tie, a, b)
                     for a, b in zip(sx, sy)]
    return rule


def _abs_rule(primals, series, order):
    x, = primals
    if get_aval(x).dtype.kind == "c":
        return _complex_abs_rule(x, _padded(series[0], order), order)
    # |x(t)| = s x(t) for small t > 0, s the sign of the first nonzero coefficient of the
    # curve (x0, then x1, x2, ...): one-sided at x0 = 0, where the JVP rule's slope is 0 and
    # JAX's jet takes s = +1 (|-t| gave -t). 0 where every coefficient is 0.
    sg = sign(x)
    for t in series[0]:
        if t is not None:
            sg = select(eq(sg, 0.0), sign(t), sg)
    return registry["abs"].bind(x), [_times(t, sg) for t in series[0]]


def _hypot_series(xs, ys, n, h0, safe):
    """Coefficients ``h_0 .. h_n`` of ``h = hypot(x, y)`` from ``h^2 = x^2 + y^2`` (``xs``,
    ``ys``: coefficients 0 .. n, None for zeros; ``h0``: the value, computed apart):
    ``2 h0 h_k = S_k - sum_{j=1}^{k-1} h_j h_{k-j}``, ``S = x^2 + y^2``, with ``x / h0`` and
    ``y / h0`` in the products so that none overflows before the division. ``safe``: where
    h0 is 0 (the origin, handled apart), 1 in its place (no inf, in values or derivatives)."""
    d = select(safe, 1.0, h0)
    a = [None if v is None else div(v, d) for v in xs]
    b = [None if v is None else div(v, d) for v in ys]
    h = [h0] + [None] * n
    for k in range(1, n + 1):
        total = None
        for j in range(k + 1):
            total = _plus(total, _times(xs[j], a[k - j]))
            total = _plus(total, _times(ys[j], b[k - j]))
        for j in range(1, k):
            total = _minus(total, _times(h[j], div(h[k - j], d)))
        h[k] = None if total is None else mul(total, 0.5)
    return h


def _degree_one_rule(name, x, y, series_x, series_y, order):
    """``hypot(x, y)`` (and ``abs`` of the complex ``x + i y``), positively homogeneous of
    degree 1 and smooth but at the origin: its coefficients by :func:`_hypot_series`, and
    where x0 = y0 = 0, ``h(t) = t^m hypot(x_m + x_{m+1} t + ..., y_m + ...)`` for t > 0 with
    ``m`` the first order at which x or y has a coefficient that is not 0: those of the
    series from there (0 where none has: the forward modes' slope 0 at the origin gave
    hypot(t, 2t) the coefficients 0, true sqrt(5)). ``x``, ``y``: arrays of one shape."""
    h0 = registry[name].bind(*((x,) if name == "abs" else (x, y)))
    xs, ys = [x] + _padded(series_x, order), [y] + _padded(series_y, order)
    zero = logical_and(eq(x, 0.0), eq(y, 0.0))
    terms = _hypot_series(xs, ys, order, h0, zero)[1:]
    if _on_host(x) and _on_host(y) and not bool(_fnp.any(zero)):
        return h0, terms  # (read on the host: no operand at the origin)
    terms = [None if t is None else select(zero, 0.0, t) for t in terms]
    open_ = zero  # (at the origin, no order found yet)
    for m in range(1, order + 1):
        moved = logical_or(ne(_either_zero(xs[m], x), 0.0), ne(_either_zero(ys[m], y), 0.0))
        here = logical_and(open_, moved)
        g0 = registry["hypot"].bind(_either_zero(xs[m], x), _either_zero(ys[m], y))
        g = _hypot_series(xs[m:], ys[m:], order - m, g0, logical_not(here))
        for k in range(1, order + 1):
            c = None if k < m else g[k - m]
            if c is None and terms[k - 1] is None:
                continue
            terms[k - 1] = select(here, 0.0 if c is None else c,
                                  0.0 if terms[k - 1] is None else terms[k - 1])
        open_ = logical_and(open_, logical_not(moved))
    return h0, terms


def _either_zero(v, like):
    return _zero_like(like) if v is None else v


def _hypot_rule(primals, series, order):
    x, y = _pair_of_arrays(*primals)
    shape = _fnp.broadcast_shapes(get_aval(x).shape, get_aval(y).shape)
    if get_aval(x).shape != shape:  # (one shape for the coefficients' products)
        x = _fnp.broadcast_to(x, shape)
    if get_aval(y).shape != shape:
        y = _fnp.broadcast_to(y, shape)
    return _degree_one_rule("hypot", x, y, series[0], series[1], order)


def _complex_abs_rule(x, terms, order):
    re, im = registry["real"], registry["imag"]
    h, cs = _degree_one_rule("hypot", re.bind(x), im.bind(x),
                             [None if t is None else re.bind(t) for t in terms],
                             [None if t is None else im.bind(t) for t in terms], order)
    return registry["abs"].bind(x), cs


def _on_host(x):
    """Whether reading the array x waits for no device (NumPy's; torch's on the CPU,
    array-api-strict's): a concrete value, not a tracer."""
    if isinstance(x, Tracer):
        return False
    from .primitives.special import _on_host as on_host
    return on_host(x)


def _relu_rule(primals, series, order):
    x, = primals
    y = registry["relu"].bind(x)
    # 0 where the curve is below 0 for small t > 0 or 0 throughout (one-sided at x0 = 0, where
    # the JVP rule's slope is 0), x's elsewhere: above 0, x NaN, a NaN coefficient at 0
    _, below, zero = _curve_order(x, 0.0, series[0], [None] * order)
    off = logical_or(below, zero)
    return y, [None if t is None else select(off, 0.0, t) for t in series[0]]


def _reduce_chooser(name):
    """reduce_max and reduce_min: each coefficient of the position attaining the extreme.
    Among real positions tied at it, those whose curves are largest (smallest) for small
    t > 0: narrowed coefficient by coefficient (one-sided; the JVP rule's slope is the mean
    over the tie, as JAX's jet's); the mean over those left, whose curves are the same."""
    larger = name == "reduce_max"

    def rule(primals, series, order, axes, keepdims=False):
        x, = primals
        kw = {"keepdims": True} if keepdims else {}
        out = registry[name].bind(x, axes=axes, **kw)
        w = chooser_weights_p.bind(x, out, axes=axes)
        if get_aval(x).dtype.kind != "c" and sum(t is not None for t in series[0]) > 0:
            w = _narrowed_weights(w, series[0], axes, larger)
        return out, [None if t is None else reduce_sum(mul(t, w), axes, keepdims)
                     for t in series[0]]
    return rule


def _narrowed_weights(w, terms, axes, larger):
    """``w`` (chooser_weights: 1/k at the k tied positions) narrowed to the positions whose
    coefficients, in turn, are the largest (``larger``) or smallest among those left; a
    coefficient that leaves none (a NaN one) narrows nothing."""
    dtype = get_aval(w).dtype
    left = gt(w, 0.0)
    pad = -math.inf if larger else math.inf
    extreme = registry["reduce_max" if larger else "reduce_min"]
    for t in terms:
        if t is None:
            continue
        key = select(left, t, pad)
        best = extreme.bind(key, axes=axes)
        # (chooser_weights of the 0/1 mask against 1: the positions kept, shared equally)
        kept = logical_and(left, gt(chooser_weights_p.bind(key, best, axes=axes), 0.0))
        any_kept = reduce_sum(convert_element_type(kept, dtype), axes, True)
        left = select(gt(any_kept, 0.0), kept, left)
    return chooser_weights_p.bind(convert_element_type(left, dtype),
                                  registry["full_like"].bind(extreme.bind(w, axes=axes),
                                                             fill_value=1), axes=axes)


def _sort_rule(primals, series, order, axis, descending):
    """The coefficients sorted as the curves are for small t > 0: ties of the values ordered
    by the coefficients in turn (one-sided; the JVP rule keeps the tie's stable order). The
    permutation of a lexicographic order: stable sorts by the last key first."""
    x, = primals
    out = registry["sort"].bind(x, axis=axis, descending=descending)
    if get_aval(x).dtype.kind == "c":
        perm = argsort(x, axis, descending)
    else:
        perm = _sort_permutation(x, series[0], axis, descending)
    return out, [None if t is None else take_along_axis(t, perm, axis) for t in series[0]]


def _sort_permutation(x, terms, axis, descending):
    """The permutation sorting the curves with values ``x`` and coefficients ``terms`` as they
    are for small t > 0: the stable sort of the lexicographic order (the last key first)."""
    perm = None
    for key in [t for t in terms if t is not None][::-1] + [x]:
        if perm is None:
            perm = argsort(key, axis, descending)
        else:
            perm = take_along_axis(perm, argsort(take_along_axis(key, perm, axis), axis,
                                                 descending), axis)
    return perm


def _argsort_rule(primals, series, order, axis, descending):
    """argsort: no coefficients; for small t > 0 the permutation of the curves' order there
    (ties of the values ordered by the coefficients in turn, as ``sort``'s rule)."""
    x, = primals
    out = argsort(x, axis, descending)
    if get_aval(x).dtype.kind == "c":
        return out, None
    return out, _Stepped((), _sort_permutation(x, series[0], axis, descending))


def _unique_all_rule(primals, series, order):
    """unique_all (behind ``unique`` without ``size=``): the values' coefficients those of
    each value's first occurrence, as the JVP rule's. Where values tied at t = 0 follow
    different curves, the tie splits right after t = 0 (``[t, -t]``: one unique value at
    t = 0, two for t > 0): the results then have other shapes for t > 0, the unique curves
    (sorted as the curves are there: ties of the values by the coefficients in turn, the
    first occurrence of each; complex curves by their real parts' series, then their
    imaginary parts', as NumPy orders complex numbers); jet takes the values at t = 0 and the
    coefficients from its second run, with those shapes (see _SplitAfter). Values read on
    the host, as unique's."""
    x, = primals
    terms = series[0]
    so = registry["unique_all"]
    out = so.bind(x)
    n = math.prod(get_aval(x).shape)
    flat = _fnp.reshape(x, (n,))
    ts = [None if t is None else _fnp.reshape(t, (n,)) for t in terms]
    at_zero = [[None if t is None else _fnp.take(t, out[1]) for t in ts], None, None, None]
    keys = [t for t in ts if t is not None]
    if not keys or n < 2:
        return out, at_zero
    # the curves sorted (stably, lexicographically), a new one wherever a key changes
    if get_aval(x).dtype.kind == "c":
        # NumPy orders complex numbers by their real parts, then their imaginary parts: the
        # curves for small t > 0 by their real parts' series, then their imaginary parts'
        perm = _sort_permutation(_fnp.real(flat), [_fnp.real(t) for t in keys]
                                 + [_fnp.imag(flat)] + [_fnp.imag(t) for t in keys], 0, False)
    else:
        perm = _sort_permutation(flat, keys, 0, False)
    xs = _fnp.take(flat, perm)
    new = _fnp.not_equal(xs[1:], xs[:-1])
    for t in keys:
        tk = _fnp.take(t, perm)
        new = _fnp.logical_or(new, _fnp.not_equal(tk[1:], tk[:-1]))
    new = _fnp.concat([_fnp.ones((1,), dtype=_fnp.bool_, like=new), new])
    starts = _fnp.nonzero(new)[0]
    m = get_aval(starts).shape[0]
    if m == get_aval(out[0]).shape[0]:
        return out, at_zero  # no tie splits (a tie of NaNs: distinct either way)
    index = _fnp.astype(_fnp.take(perm, starts), _fnp.int64)
    group = _fnp.cumulative_sum(_fnp.astype(new, _fnp.int64)) - 1
    inverse = _fnp.reshape(_fnp.take(group, _fnp.argsort(perm, stable=True)),
                           get_aval(x).shape)
    ends = _fnp.concat([starts[1:], _fnp.full_like(starts[:1], n)])
    counts = _fnp.astype(ends - starts, _fnp.int64)
    after = [_fnp.take(flat, index), index, inverse, counts]
    return out, _SplitAfter(at_zero, after,
                            [[None if t is None else _fnp.take(t, index) for t in ts],
                             None, None, None])


def _arg_extreme_rule(name):
    """argmax and argmin: no coefficients; for small t > 0 the first of the positions tied at
    the extreme whose curves are then the largest (smallest): narrowed by the coefficients in
    turn, as the max reductions' rule (a coefficient that leaves none, a NaN one, narrows
    nothing). A NaN value keeps the position at t = 0 (NumPy's first NaN)."""
    larger = name == "argmax"
    prim = registry[name]

    def rule(primals, series, order, axis):
        x, = primals
        out = prim.bind(x, axis=axis)
        if get_aval(x).dtype.kind == "c":
            return out, None
        extreme = _fnp.max if larger else _fnp.min
        left = _fnp.equal(x, extreme(x, axis=axis, keepdims=True))
        pad = -math.inf if larger else math.inf
        for t in series[0]:
            if t is None:
                continue
            key = _fnp.where(left, t, pad)
            kept = _fnp.logical_and(left, _fnp.equal(key, extreme(key, axis=axis,
                                                                   keepdims=True)))
            left = _fnp.where(_fnp.any(kept, axis=axis, keepdims=True), kept, left)
        first = registry["argmax"].bind(convert_element_type(left, get_aval(x).dtype),
                                        axis=axis)
        after = _fnp.where(_fnp.any(left, axis=axis), first, out)
        return out, _Stepped((), after)
    return rule


def _searchsorted_rule(primals, series, order, side):
    """searchsorted of curves ``v`` in a sorted array ``a`` without coefficients: no
    coefficients; for small t > 0 the position the curve moves to past entries equal to its
    value (``left``: after them where it goes up; ``right``: before them where it goes
    down). A sorted array that carries coefficients (sorted for small t > 0 too):
    :func:`_searchsorted_curves`."""
    a, v = primals
    prim = registry["searchsorted"]
    out = prim.bind(a, v, side=side)
    if _is_complex(v) or _is_complex(a):
        return out, None
    if series[0] is not None and any(t is not None for t in series[0]):
        return out, _Stepped((), _searchsorted_curves(a, v, series, order, side, out))
    if series[1] is None:
        return out, None
    d = _direction(series[1])
    if d is None:
        return out, None
    other = prim.bind(a, v, side="right" if side == "left" else "left")
    if side == "left":  # (other - out: the entries equal to v)
        after = select(gt(d, 0.0), other, out)
    else:
        after = select(lt(d, 0.0), other, out)
    return out, _Stepped((), after)


def _searchsorted_curves(a, v, series, order, side, out):
    """searchsorted for small t > 0 where the sorted array ``a`` carries coefficients: the
    entries tied with a query at t = 0 (those between its ``left`` and ``right`` positions)
    hold their curves' order for t > 0, so the position there is found among them by
    bisection on the coefficients, compared lexicographically with the query's (exact; no
    value is read: ``ceil(log2(n + 1))`` steps of a gather and K comparisons each)."""
    prim = registry["searchsorted"]
    n = get_aval(a).shape[0]
    if n == 0:
        return out
    sa, sv = _padded(series[0], order), _padded(series[1], order)
    pairs = [(ta, tv) for ta, tv in zip(sa, sv) if ta is not None or tv is not None]
    other = prim.bind(a, v, side="right" if side == "left" else "left")
    lo, hi = (out, other) if side == "left" else (other, out)
    last = n - 1
    for _ in range(max(n, 1).bit_length()):
        open_ = lt(lo, hi)
        mid = _fnp.minimum(_fnp.floor_divide(add(lo, hi), 2), last)
        below, tied = None, None  # a's curve at mid against the query's, after the values
        for ta, tv in pairs:
            ca = 0.0 if ta is None else _fnp.take(ta, mid, axis=0)
            cv = 0.0 if tv is None else tv
            step = lt(ca, cv) if tied is None else logical_and(tied, lt(ca, cv))
            below = step if below is None else logical_or(below, step)
            tied = eq(ca, cv) if tied is None else logical_and(tied, eq(ca, cv))
        # (left: the first entry not below the query; right: the first one above it)
        go = below if side == "left" else logical_or(below, tied)
        lo = select(logical_and(open_, go), add(mid, 1), lo)
        hi = select(logical_and(open_, logical_not(go)), mid, hi)
    return lo


def _softmax_weight(a, b):
    # 1 / (1 + exp(b - a)), as logaddexp's JVP rule computes it (1/2 at equal infinities)
    return _logistic(logaddexp_gap(a, b))


def _logaddexp_rule(primals, series, order):
    # y' = s x' + (1 - s) w' with s = logistic(x - w), followed to order K - 1
    x, w = primals
    out = registry["logaddexp"].bind(x, w)
    u = [x] + _padded(series[0], order)
    v = [w] + _padded(series[1], order)
    own = x if series[0] is not None else w
    s0, ss = jet_flat(_softmax_weight, [x, w], [u[1:order], v[1:order]], order - 1, own)
    s = [s0] + _padded(ss, order - 1)
    r = [_softmax_weight(w, x)] + [_scaled(t, -1.0) for t in s[1:]]  # 1 - s
    y = [out] + [None] * order
    for k in range(1, order + 1):
        y[k] = _plus(_integral(u, s, k), _integral(v, r, k))
    return out, y[1:]


# (the parent interpreter and order of each custom_jvp rule being followed by a jet of its
# own: a custom_jvp function met inside one, the rule's own primal output above all, needs
# one coefficient less, which also ends the recursion)
_RULE_JETS = contextvars.ContextVar("functrans_jet_custom_rules", default=frozenset())
# Rules whose jet met no comparison of curves (no decision there to make one-sided), per
# call signature (``_smooth_key``): nested forward modes after, which cost half as much at
# order 3 and a quarter at order 1. Keyed by the rule function, each holding the signatures.
_SMOOTH_RULES = weakref.WeakKeyDictionary()


def _smooth_key(rule, primals, series, order):
    """The signature under which a rule's jet that met no comparison is taken to meet none
    again: the order, each operand's shape and dtype, and the values bound to the rule (a
    partial: nondiff arguments, which may choose what the rule computes). None (not cached)
    where an operand carries no coefficients (the rule may compare it, a curve or not,
    according to which operands do, and read its value in Python) or a bound value is not
    hashable."""
    if any(s is None for s in series):
        return None
    key = (order, tuple((get_aval(p).shape, get_aval(p).dtype) for p in primals))
    if hasattr(rule, "func"):
        key += (rule.args, tuple(sorted((rule.keywords or {}).items())))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _custom_jvp_rule(primals, series, order, **params):
    """A ``custom_jvp`` function, followed through its JVP rule (so that ``jet``'s first
    term is ``jvp``'s, and a primal that cannot be traced still works): y' = T(x, x'), T the
    rule's tangent map, followed by a jet of its own along x(t) and x'(t), whose comparisons
    are then one-sided as everywhere under jet (nested forward modes decided them at t = 0);
    y_k = (y')_{k-1} / k, y_1 the value of y' for small t > 0. (JAX's jet traces the primal
    function instead, ignoring the rule.)"""
    prim = registry["custom_jvp_call"]
    parent = current_interpreter()
    key = (id(parent), order)
    marks = _RULE_JETS.get()
    if key in marks:
        # Inside a rule followed to this order: only the coefficients below it are used
        # (each coefficient of a result depends on those of its operands up to its own).
        if order == 1:
            outs = prim.bind(*primals, **params)
            terms = [None] * len(outs)
        else:
            outs, terms = _custom_jvp_rule(primals, [None if s is None else tuple(s[:-1])
                                                     for s in series], order - 1, **params)
            terms = [None if t is None else _Stepped(list(t) + [None], t.limit)
                     if type(t) is _Stepped else list(t) + [None] for t in terms]
        # Its value after t = 0 from its primal (the function calling itself in its own
        # rule, ``f(x)`` for the primal output, above all), at the top level of the
        # recursion: not at the levels below (as they were), nor for the library's own
        # functions, which are continuous (a jet of the primal each: 1.3-3.5x on nn.gelu,
        # soft_sign)
        if (key[0], order + 1) in marks or _continuous(params["fun"]):
            return outs, terms
        return outs, _with_primal_limits(outs, terms, params, primals, series, order)
    bound = params["rule"]
    rule = getattr(bound, "func", bound)  # (a partial: the nondiff arguments bound)
    signature = _smooth_key(bound, primals, series, order)
    try:
        smooth = signature is not None and signature in _SMOOTH_RULES.get(rule, ())
    except TypeError:
        smooth = False
    if smooth:  # (no comparison to decide: nested forward modes, cheaper)
        return _nested_jvp_rule(prim, primals, series, order, params)
    n = len(primals)
    carried = [i for i, s in enumerate(series) if s is not None]
    like = primals[carried[0]]
    interp = JetInterpreter(parent, order, like)
    compared = _COMPARED[0]
    args = [JetTracer(interp, p, tuple(s)) if s is not None else p
            for p, s in zip(primals, series)]
    tangents = [None] * n
    for i in carried:
        s = series[i]
        # x'(t): coefficients (k + 1) x_{k+1}; its last, from x_{K+1}, unknown and unused
        ts = [None if t is None else _scaled(t, float(k + 2)) for k, t in enumerate(s[1:])]
        v0 = s[0] if s[0] is not None else _zero_like(primals[i])
        tangents[i] = JetTracer(interp, v0, tuple(ts) + (None,)) \
            if any(t is not None for t in ts) else v0
    token = _RULE_JETS.set(marks | {key})
    try:
        ps, ts = _run_under(interp, lambda *a: prim.jvp(list(a[:n]), list(a[n:]), **params),
                            args + tangents)
    finally:
        _RULE_JETS.reset(token)
    # (not at a level of a recursion below a rule calling its own function: its primal's
    # value after is not looked for there, so that no comparison met proves nothing)
    if _COMPARED[0] == compared and signature is not None and \
            (key[0], order + 1) not in marks:
        try:
            _SMOOTH_RULES.setdefault(rule, set()).add(signature)
        except TypeError:
            pass
    outs, terms = [], []
    for p, t in zip(ps, ts):
        value, limit, stepped = _sides_of(interp, p)
        outs.append(value)
        if not _is_float(value):
            terms.append(_Stepped((), limit) if stepped else None)
            continue
        # (y' for small t > 0: its value after, then its coefficients but the last)
        after = None if t is None else _sides_of(interp, t)[1]
        cs = [after] + (list(t.terms[:order - 1]) if type(t) is JetTracer and
                        t._interp is interp else [None] * (order - 1))
        ys = [_scaled(c, 1.0 / (k + 1)) for k, c in enumerate(cs)]
        terms.append(_Stepped(ys, limit) if stepped else ys)
    return outs, terms


def _continuous(fun):
    """Whether the primal of a custom function is one of functrans's own (nn's activations,
    special functions, linear algebra), all continuous: no value after t = 0 to look for.
    Not autograd.extend's, which wrap the user's functions, nor vmap's wrappers (of any)."""
    module = getattr(fun, "__module__", None) or ""
    return module.startswith("functrans.") and not module.startswith(
        ("functrans.autograd", "functrans.batching"))


def _with_primal_limits(outs, terms, params, primals, series, order):
    """``terms`` of a custom function met inside its own rule's jet (or another's), computed
    there without its value after t = 0 (a coefficient less, or none): with the values for
    small t > 0 of its primal function, followed by a jet along the whole ``series``, where
    it steps (``custom_jvp(floor)`` at 1 along -1: 0 after). Where the primal cannot be
    followed (it reads values on the host), the terms as they were: the value at t = 0
    holds after."""
    from .custom import _call_flat
    fun, in_tree = params["fun"], params["in_tree"]
    token = _RULE_JETS.set(frozenset())  # (custom functions in the primal: their own jets)
    try:
        _, primal_terms = _jet_of_flat(lambda *a: _call_flat(fun, a, in_tree, []),
                                       list(primals), list(series), order)
    except Exception:  # (not traceable: a host read, a library outside functrans)
        return terms
    finally:
        _RULE_JETS.reset(token)
    if len(primal_terms) != len(outs):
        return terms
    out = []
    for o, t, p in zip(outs, terms, primal_terms):
        if type(p) is _Stepped:
            cs = list(t) if t is not None else [None] * order if _is_float(o) else ()
            t = _Stepped(cs, p.limit)
        out.append(t)
    return out


def _sides_of(interp, v):
    """A result of a jet run by ``interp``: its value at t = 0, its value for small t > 0,
    and whether they may differ."""
    t = type(v)
    if t is JetTracer and v._interp is interp:
        if type(v.tangent) is _Stepped:
            return v.primal, v.tangent.limit, True
        return v.primal, v.primal, False
    if t is OneSidedTracer and v._interp is interp:
        return v.primal, v.tangent, True
    v = _unwrapped(v)
    return v, v, False


def _jet_of_flat(fun, primals, series, order):
    """``(outs, terms)``: the results of the flat ``fun`` (a list) at ``primals`` and their
    ``order`` Taylor coefficients along ``series`` (per operand a sequence of coefficients,
    None entries for zeros, or None), followed by a jet of its own (comparisons one-sided).
    ``terms[j]``: None (no coefficients), a list, or a ``_Stepped`` where the result may step
    at t = 0 (its value for small t > 0 in ``limit``)."""
    carried = [i for i, s in enumerate(series)
               if s is not None and any(t is not None for t in s)]
    interp = JetInterpreter(current_interpreter(), order, primals[carried[0]])
    args = [JetTracer(interp, p, tuple(s)) if i in carried else p
            for i, (p, s) in enumerate(zip(primals, series))]
    outs = _run_under(interp, fun, args)
    values, terms = [], []
    for o in outs:
        value, limit, stepped = _sides_of(interp, o)
        values.append(value)
        cs = list(o.terms) if type(o) is JetTracer and o._interp is interp else None
        if stepped:
            terms.append(_Stepped(cs if cs is not None else
                                  ([None] * order if _is_float(value) else ()), limit))
        else:
            terms.append(cs)
    return values, terms


def _cond_rule(primals, series, order, branches, n_ops, spans):
    """A staged ``cond``/``switch`` (jit's): the branch chosen followed by a jet of its own,
    so that the comparisons and kinks inside are one-sided as in eager code (the generic
    rule's nested forward modes would decide them at t = 0: ``abs`` at 0 had slope 0). The
    index is the one for small t > 0 here when it steps (the value at t = 0 is computed
    apart). An abstract index (jit of jet): a cond over the branches' jets, each result with
    its value after t = 0."""
    index, args, series = primals[0], list(primals[1:]), list(series[1:])
    fns = _control_flow._branch_fns(branches, n_ops, spans)
    carried = [i for i, s in enumerate(series)
               if s is not None and any(t is not None for t in s)]
    if not carried:
        return registry["cond"].bind(index, *args, branches=branches, n_ops=n_ops,
                                     spans=spans), None
    k = _control_flow._concrete(index)
    if k is not None:
        return _jet_of_flat(fns[int(k)], args, series, order)
    n = len(args)
    floats = [_dt.is_float(a.dtype) for a in _control_flow._out_avals(branches[0])]

    def jet_branch(f):
        def g(*xs):
            ss = [None] * n
            for j, i in enumerate(carried):
                ss[i] = tuple(xs[n + j * order:n + (j + 1) * order])
            outs, terms = _jet_of_flat(f, list(xs[:n]), ss, order)
            flat = []
            for o, t, is_float in zip(outs, terms, floats):
                flat += [o, t.limit if type(t) is _Stepped else o]
                if is_float:
                    cs = [None] * order if t is None else list(t)
                    flat += [_fnp.zeros_like(o) if c is None else c for c in cs]
            return flat
        return g
    coefficients = [_fnp.zeros_like(args[i]) if t is None else t
                    for i in carried for t in series[i]]
    flat = _control_flow._switch(index, [jet_branch(f) for f in fns],
                                 (*args, *coefficients), "cond")
    outs, terms, at = [], [], 0
    for is_float in floats:
        outs.append(flat[at])
        limit = flat[at + 1]
        cs = list(flat[at + 2:at + 2 + order]) if is_float else ()
        at += 2 + (order if is_float else 0)
        terms.append(_Stepped(cs, limit))
    return outs, terms


def _loop_rule(name):
    """A staged ``scan`` or ``while`` (jit's ``fori_loop``, ``scan``, ``while_loop``): its
    body followed by a jet of its own, so the kinks and comparisons inside are one-sided as in
    eager code, and a ``while`` steps as its predicate decides on each side of t = 0 (see
    ``control_flow._unsplit``). On concrete values (jet of jit) the loop runs in Python;
    abstract ones (jit of jet): :func:`_staged_loop_jet`."""
    prim = registry[name]

    def loop(*args, **params):
        if name == "scan":
            return _control_flow._scan_loop(args, params["body"], params["n_consts"],
                                            params["n_carry"], params["length"],
                                            params["reverse"])
        return _control_flow._while_loop_flat(args, params["cond"], params["body"],
                                              params["n_cc"], params["n_bc"])

    def rule(primals, series, order, **params):
        if _control_flow._all_concrete(primals):
            return _jet_of_flat(lambda *a: loop(*a, **params), primals, series, order)
        return _staged_loop_jet(prim, primals, series, order, params)
    return rule


def _staged_loop_jet(prim, primals, series, order, params):
    """A ``scan`` or ``while`` on abstract values (jit of jet): a loop of the same kind whose
    carry holds, per carried value, its value for small t > 0 and (floating-point ones) its
    ``order`` coefficients, and whose body (and predicate) is the body's (predicate's) jet
    from those: the coefficients and the number of steps those of the curve for t > 0. Where
    a value may step at t = 0 in the body's jet (a comparison of curves met while staging
    it), the values at t = 0 come from the loop itself, their number of steps its own."""
    is_scan = prim.name == "scan"
    if is_scan:
        n_consts, n_carry = params["n_consts"], params["n_carry"]
        body, starts = params["body"], (n_consts, n_consts + n_carry)
        consts, carry = primals[:n_consts], list(primals[n_consts:starts[1]])
        extra, k_series = list(primals[starts[1]:]), series[:n_consts]  # (the xs)
        x_series = series[starts[1]:]
    else:
        n_cc, n_bc = params["n_cc"], params["n_bc"]
        body, cond = params["body"], params["cond"]
        starts = (n_cc + n_bc, n_cc + n_bc)
        cc, consts = primals[:n_cc], primals[n_cc:starts[0]]
        carry, extra = list(primals[starts[0]:]), []
        c_series, k_series, x_series = series[:n_cc], series[n_cc:starts[0]], []
    nc = len(carry)
    c_in = series[starts[0]:starts[0] + nc]
    fl = [i for i, c in enumerate(carry) if _is_float(c)]

    def full(s, p):
        return tuple(_zero_like(p) if t is None else t for t in s)
    # (every floating-point carry carries coefficients: the body may give some to one that
    # starts without; operands that are not carried, none)
    init = list(carry) + [t for i in fl for t in full(_padded(c_in[i], order), carry[i])]
    xd = [i for i, s in enumerate(x_series) if s is not None]
    x_terms = [t for i in xd for t in full(x_series[i], extra[i])]
    stepped = [False]

    def unpack(values, group, indices, n):
        out = [None] * n
        for j, i in enumerate(indices):
            out[i] = tuple(values[group + j * order:group + (j + 1) * order])
        return out

    def jet_of(fn, c_all, x_all, ops, o_series):
        """``fn`` (a graph's flat function of the carry, the xs, then ``ops``) followed from
        the carry's values after t = 0 and coefficients: each result's value after, and its
        coefficients (floating-point results)."""
        c, xs = list(c_all[:nc]), list(x_all[:len(extra)])
        s = unpack(c_all, nc, fl, nc) + unpack(x_all, len(extra), xd, len(extra)) + o_series
        args = c + xs + list(ops)
        if all(t is None for t in s):
            outs, terms = list(fn(*args)), [None] * len(fn.outputs)
        else:
            outs, terms = _jet_of_flat(lambda *a: list(fn(*a)), args, s, order)
        afters, cs = [], []
        for o, t in zip(outs, terms):
            if type(t) is _Stepped:
                stepped[0] = True
            afters.append(t.limit if type(t) is _Stepped else o)
            if _is_float(o):
                cs.append([_zero_like(o) if c is None else c
                           for c in (_padded(None, order) if t is None else list(t))])
        return afters, cs
    b_series = [None if s is None else tuple(s) for s in k_series]
    if is_scan:
        def step(c_all, x_all):
            afters, cs = jet_of(body, c_all, x_all, consts, b_series)
            return (afters[:nc] + [t for j in fl for t in cs[fl.index(j)]],
                    afters[nc:] + [t for ts in cs[len(fl):] for t in ts])
        c_out, ys = _control_flow.scan(step, init, extra + x_terms, length=params["length"],
                                       reverse=params["reverse"])
        y_avals = _control_flow._out_avals(body)[nc:]
        ny = len(y_avals)
        afters, flat_cs = list(c_out[:nc]) + list(ys[:ny]), list(c_out[nc:]) + list(ys[ny:])
        floats = fl + [nc + j for j, a in enumerate(y_avals) if _dt.is_float(a.dtype)]
    else:
        cc_series = [None if s is None else tuple(s) for s in c_series]

        def test(c_all):
            afters, _ = jet_of(cond, c_all, [], cc, cc_series)
            return afters[0]

        def step(c_all):
            afters, cs = jet_of(body, c_all, [], consts, b_series)
            return afters + [t for ts in cs for t in ts]
        out = _control_flow.while_loop(test, step, init)
        afters, flat_cs, floats = list(out[:nc]), list(out[nc:]), fl
    terms = [None] * len(afters)
    for j, i in enumerate(floats):
        terms[i] = flat_cs[j * order:(j + 1) * order]
    if not stepped[0]:
        return afters, terms
    outs = prim.bind(*primals, **params)
    return outs, [_Stepped(t if t is not None else (), a) for t, a in zip(terms, afters)]


def _unary_by_derivative(name, deriv):
    prim = registry[name]

    def rule(primals, series, order):
        return _by_derivative(prim.bind, deriv, primals, series, order)
    return rule


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _one_minus_square(z):
    return sub(1.0, mul(z, z))


RULES.update({
    "exp": _exp_rule,
    "expm1": _expm1_rule,
    "log": _log_like(log, lambda x: x),
    "log1p": _log_like(lambda x: registry["log1p"].bind(x), lambda x: add(x, 1.0)),
    "log2": _scaled_rule(_log_like(lambda x: registry["log2"].bind(x), lambda x: x),
                         1.0 / math.log(2.0)),
    "log10": _scaled_rule(_log_like(lambda x: registry["log10"].bind(x), lambda x: x),
                          1.0 / math.log(10.0)),
    "sqrt": _sqrt_rule,
    "sin_cos": _sin_cos_rule,
    "sin": _one_of(_sin_cos_rule, 0),
    "cos": _one_of(_sin_cos_rule, 1),
    "sinh": _one_of(_sinh_cosh_rule, 0),
    "cosh": _one_of(_sinh_cosh_rule, 1),
    "tan": _tan_rule,
    "tanh": _tanh_rule,
    "tanh_slope": _tanh_slope_rule,
    "mul": _bilinear(registry["mul"]),
    "mul_sz": _bilinear(registry["mul_sz"]),
    "matmul": _bilinear(registry["matmul"]),
    "tensordot": _bilinear(registry["tensordot"]),
    "mul_add": _mul_add_rule,
    "div": _div_rule,
    "pow": _pow_rule,
    "max": _extremum(True),
    "min": _extremum(False),
    "abs": _abs_rule,
    "hypot": _hypot_rule,
    "relu": _relu_rule,
    "logaddexp": _logaddexp_rule,
    "reduce_max": _reduce_chooser("reduce_max"),
    "reduce_min": _reduce_chooser("reduce_min"),
    "sort": _sort_rule,
    "custom_jvp_call": _custom_jvp_rule,
    "cond": _cond_rule,
    "scan": _loop_rule("scan"),
    "while": _loop_rule("while"),
    # positions chosen by value: for small t > 0 those the curves choose there
    "argsort": _argsort_rule,
    "argmax": _arg_extreme_rule("argmax"),
    "argmin": _arg_extreme_rule("argmin"),
    "searchsorted": _searchsorted_rule,
    "unique_all": _unique_all_rule,
    # comparisons of curves: decided for small t > 0 too (select then takes, for the
    # coefficients, the branch that holds there)
    **{name: _comparison_rule(name) for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    # piecewise constant: no coefficients, the value for t > 0 past a step
    **{name: _step_rule(name) for name in ("sign", "floor", "ceil", "trunc", "round")},
    "signbit": _signbit_rule,
    "floor_divide": _floor_divide_rule,
    "remainder": _remainder_rule,
    "copysign": _copysign_rule,
    # y' = f'(x) x' with f' followed by a jet of one order less
    # (erf's slope as its JVP rule's: x^2 exact in float64 where some |x| >= 4)
    "erf": _unary_by_derivative("erf", lambda z: _erf_slope(z, _TWO_OVER_SQRT_PI)),
    "erfc": _unary_by_derivative("erfc", lambda z: _erf_slope(z, -_TWO_OVER_SQRT_PI)),
    "atan": _unary_by_derivative("atan", lambda z: div(1.0, add(mul(z, z), 1.0))),
    "asin": _unary_by_derivative("asin", lambda z: div(1.0, sqrt(_one_minus_square(z)))),
    "acos": _unary_by_derivative("acos", lambda z: div(-1.0, sqrt(_one_minus_square(z)))),
    "asinh": _unary_by_derivative("asinh", lambda z: div(1.0, sqrt(add(mul(z, z), 1.0)))),
    "acosh": _unary_by_derivative(
        "acosh", lambda z: div(1.0, mul(sqrt(sub(z, 1.0)), sqrt(add(z, 1.0))))),
    "atanh": _unary_by_derivative("atanh", lambda z: div(1.0, _one_minus_square(z))),
})

# -- linear primitives: the primitive on each coefficient --------------------------------------


def _linear_in(prim, primals, series, params):
    """Whether ``prim`` (which has a transpose rule) is linear in the operands that carry
    coefficients: none of them is a coefficient of its linear map, nor are both factors of
    one of its products."""
    n = len(primals)
    if any(series[i] is not None for i in _coefficient_operands(prim, params, n)):
        return False
    return not any(series[2 * i] is not None and series[2 * i + 1] is not None
                   for i in range(_product_pairs(prim.name, n)))


def _zero_like(p):
    if type(p) in (int, float, complex, bool):
        return type(p)(0)
    return registry["full_like"].bind(p, fill_value=0)


def _linear_rule(prim, primals, series, order, params):
    out = prim.bind(*primals, **params)
    outs = out if prim.multiple_results else [out]
    if not any(_is_float(o) for o in outs):
        return out, None
    n = len(primals)
    # Operands kept at their value in every coefficient's term: the coefficients of the
    # linear map, the factor with no coefficients of each product, integer and boolean
    # operands (indices, predicates). The others, with no coefficients, are zero there.
    fixed = set(_coefficient_operands(prim, params, n))
    for i in range(_product_pairs(prim.name, n)):
        fixed.add(2 * i + 1 if series[2 * i] is not None else 2 * i)
    for i, p in enumerate(primals):
        if series[i] is None and type(p) not in (int, float, complex, bool) and \
                not _is_float(p):
            fixed.add(i)
    zeros = {}  # (made once per operand)

    def zero(i):
        z = zeros.get(i)
        if z is None:
            z = zeros[i] = _zero_like(primals[i])
        return z
    terms = []
    for k in range(order):
        if all(s is None or s[k] is None for s in series):
            terms.append(None)
            continue
        ops = []
        for i, (p, s) in enumerate(zip(primals, series)):
            if s is not None:
                ops.append(s[k] if s[k] is not None else zero(i))
            else:
                ops.append(p if i in fixed else zero(i))
        terms.append(prim.bind(*ops, **params))
    if prim.multiple_results:
        terms = [[None if t is None else t[i] for t in terms] for i in range(len(out))]
    return out, terms

# -- every other primitive: nested forward modes along the curve -------------------------------


def _nested_jvp_rule(prim, primals, series, order, params):
    """The coefficients of ``p(x(t))``, ``x(t) = x0 + x1 t + ... + xK t^K``, as its
    derivatives in ``t`` at 0 over ``k!``, by ``K`` nested forward modes (exact; the cost
    doubles with each order)."""
    diff = [i for i, s in enumerate(series) if s is not None]
    like = primals[diff[0]]
    if not _may_carry(prim, primals, params):
        return prim.bind(*primals, **params), None
    if prim.jvp is not None and all(series[i][0] is not None for i in diff):
        # One forward mode first: a symbolic zero tangent there is a derivative that is zero
        # in these operands (floor, sign, stop_gradient, zeros_like): no further terms; and
        # at order 1 it is the whole answer.
        out, tan = prim.jvp(primals, [None if s is None else s[0] for s in series], **params)
        tans = tan if prim.multiple_results else [tan]
        if all(t is None for t in tans):
            return out, None
        if order == 1:
            return out, ([[t] for t in tans] if prim.multiple_results else [tan])
    real = _dt.real_dtype(get_aval(like).dtype) if get_aval(like).dtype.kind == "c" \
        else get_aval(like).dtype
    t0, one = _scalar_like(0.0, like, real), _scalar_like(1.0, like, real)
    _add, _mul = _fnp.add, _fnp.multiply

    def along(t):
        args = list(primals)
        for i in diff:
            d = get_aval(primals[i]).dtype
            ti = t if d is real else convert_element_type(t, d)
            acc = None  # Horner: x1 + t (x2 + t (... + t xK))
            for term in reversed(series[i]):
                acc = term if acc is None else (_mul(acc, ti) if term is None
                                                else _add(term, _mul(acc, ti)))
            if acc is not None:
                args[i] = _add(primals[i], _mul(acc, ti))
        out = prim.bind(*args, **params)
        return list(out) if prim.multiple_results else [out]

    derivs = _derivatives(along, t0, one, order, like)
    outs = derivs[0]
    terms = [[None if derivs[k][i] is None else _scaled(derivs[k][i], 1.0 / math.factorial(k))
              for k in range(1, order + 1)] for i in range(len(outs))]
    if prim.multiple_results:
        return outs, terms
    return outs[0], terms[0]


def _may_carry(prim, primals, params):
    """False where the primitive's results are all integer or boolean (a comparison, argmax):
    they have no coefficients, and no forward mode need run."""
    try:
        avals = prim.abstract_eval(*[get_aval(p) for p in primals], **params)
    except Exception:  # (a rule that needs more than shapes: let forward mode decide)
        return True
    avals = avals if isinstance(avals, (list, tuple)) else [avals]
    return any(_dt.is_float(a.dtype) for a in avals)


def _derivatives(g, t, one, n, like):
    """``[g(t), g'(t), ..., g^(n)(t)]`` (each a list, one entry per result of ``g``; None for a
    zero) by ``n`` nested forward modes in the scalar ``t``."""
    if n == 0:
        return [g(t)]
    interp = JVPInterpreter(current_interpreter())
    interp.device_source = like
    token = set_current(interp)
    try:
        inner = _derivatives(g, JVPTracer(interp, t, one), one, n - 1, like)
    finally:
        reset_current(token)
        interp.active = False
        interp.device_source = None

    def primal(o):
        if type(o) is JVPTracer and o._interp is interp or type(o) is ConstTracer:
            return o.primal
        return o

    def tangent(o):
        return o.tangent if type(o) is JVPTracer and o._interp is interp else None
    return [[primal(o) for o in inner[0]]] + [[tangent(o) for o in level] for level in inner]

# -- the transform ------------------------------------------------------------------------------


def jet(fun, primals, series, factorial_scaled=True):
    r"""Taylor mode (``jax.experimental.jet.jet``): the value of ``fun`` and its first ``K``
    derivatives along a curve of its inputs, in one pass.

    The inputs follow the curve ``x(t)`` with ``x(0) = primals`` and ``d^k x/dt^k (0) =
    series[..][k-1]``; the result is ``f(x(0))`` and ``d^k/dt^k f(x(t))`` at ``t = 0`` for
    ``k = 1 ... K``. With ``series = ((v, 0, ..., 0),)`` these are the directional derivatives
    ``D^k f(x)[v, ..., v]``; the first is ``jvp``'s.

    Args:
        fun: a function of ``len(primals)`` arguments returning a pytree of arrays.
        primals: a tuple (or list) of arguments: arrays, Python numbers, or pytrees of them
            (JAX's ``jet`` takes arrays only).
        series: a tuple (or list) with, for each argument, a sequence of its ``K`` terms
            (``K`` the same for every argument), each of that argument's tree structure,
            shapes and dtypes. Integer and boolean arguments carry no derivative: their
            terms must be zeros (or JAX's float0).
        factorial_scaled: True (the default): terms are derivatives, ``x_k = d^k x/dt^k``;
            False: Taylor coefficients, ``x(t) = x_0 + sum_k x_k t^k`` (JAX's ``jet2``), in
            and out.

    Returns:
        ``(primal_out, series_out)``: ``fun(*primals)``, and its tree with each array
        replaced by the list of its ``K`` terms (zeros for an output that does not depend on
        the inputs, of its dtype).

    Each primitive's terms come from an exact rule: Taylor arithmetic for the elementary
    functions and products, each term passed through linear operations, and for every other
    differentiable primitive ``K`` nested forward modes along the curve (exact, at a cost
    that doubles with each order). ``jet`` composes with every transform, in either order.

    At a kink, a jump or a tie (``where(x > 0, ...)`` at ``x = 0``) the terms are those of
    the branch that holds for small t > 0 (one-sided derivatives); the first result stays
    ``f(x0)``. Where a value-dependent shape (``x[mask]``, ``nonzero``, ``piecewise``,
    ``unique`` without ``size=`` at a tie of values whose curves differ) changes right
    after t = 0, ``fun`` runs twice: the values from the run at t = 0, the
    terms from a run with the shapes for t > 0 (a result whose own shape changes there:
    ``ValueError``).

    Example:
        >>> import functrans.numpy as fnp
        >>> from functrans.experimental.jet import jet
        >>> y, (d1, d2, d3) = jet(fnp.sin, (0.0,), ((1.0, 0.0, 0.0),))
        >>> print(y, d1, d2, d3)
        0.0 1.0 0.0 -1.0
    """
    check_function(fun, "jet")
    if not isinstance(primals, (tuple, list)) or not isinstance(series, (tuple, list)):
        raise TypeError(f"jet(fun, primals, series): primals and series must be tuples or "
                        f"lists with one entry per argument of fun; got "
                        f"{type(primals).__name__} and {type(series).__name__}. For one "
                        f"argument write (x,) and ((x1, x2, ...),).")
    if len(series) != len(primals):
        raise TangentMismatchError(
            f"jet: series must have one entry (the sequence of Taylor terms) per primal; got "
            f"{len(primals)} primal(s) and {len(series)} series.")
    if not primals:
        raise ValueError("jet: no primals; jet follows the function along a curve of its "
                         "arguments, so it needs at least one argument.")
    for i, s in enumerate(series):
        if not isinstance(s, (tuple, list)):
            raise TypeError(f"jet: series[{i}] must be a tuple or list of the Taylor terms of "
                            f"argument {i}, one per order; got {type(s).__name__}. For one "
                            f"order write (x1,).")
    orders = [len(s) for s in series]
    if len(set(orders)) > 1:
        raise TangentMismatchError(
            f"jet: every argument needs the same number of Taylor terms (the order); got "
            f"{orders} terms for the arguments in turn.")
    order = orders[0]
    leaves, trees, terms_in, given = [], [], [], []
    for i, (p, s) in enumerate(zip(primals, series)):
        p_leaves, p_tree = tree_flatten(p)
        p_leaves = [_as_input(x) for x in p_leaves]
        per_leaf = [[] for _ in p_leaves]
        for k, term in enumerate(s):
            t_leaves, t_tree = tree_flatten(term)
            if t_tree != p_tree:
                raise TangentMismatchError(
                    f"jet: series[{i}][{k}] must have the tree structure of primals[{i}], "
                    f"{p_tree}; got {t_tree}"
                    f"{_where_differ(p_tree, t_tree, ('primal', 'term'))}.")
            name = _Leaves("jet", "Taylor term", term, f"series[{i}][{k}]")
            given += t_leaves
            for j, (x, t) in enumerate(zip(p_leaves, t_leaves)):
                a = get_aval(x)
                if _dt.is_float(a.dtype):
                    t = _check_like(t, a, name, j, x)
                    if factorial_scaled and k > 0:
                        t = _scale_term(t, 1.0 / math.factorial(k + 1))
                    per_leaf[j].append(t)
                else:  # carries none: checked, unused
                    _integer_tangent(t, a, name, j, x)
                    if not _is_float0(t) and not _all_zero(t):
                        raise TangentMismatchError(
                            f"{name(j)} is nonzero, but its primal has dtype {a.dtype.name}, "
                            f"which carries no derivative, so the term would be ignored: "
                            f"pass zeros of the primal's shape (or JAX's float0), or make "
                            f"this input a float to follow the curve along it.")
                    per_leaf[j].append(None)
        leaves.append(p_leaves)
        trees.append(p_tree)
        terms_in.append(per_leaf)
    flat = [x for p_leaves in leaves for x in p_leaves]
    like = flat[0] if flat else None

    def run(shapes_after):
        interp = JetInterpreter(current_interpreter(), order, like, shapes_after)
        args = []
        for p_leaves, p_tree, per_leaf in zip(leaves, trees, terms_in):
            args.append(tree_unflatten(p_tree, [
                JetTracer(interp, x, tuple(ts)) if ts and any(t is not None for t in ts)
                else x for x, ts in zip(p_leaves, per_leaf)]))
        out = _run_under(interp, fun, args)
        return interp, out
    interp, out = run(False)
    out_leaves, out_tree = tree_flatten(out)
    after_leaves = None
    if interp.shapes_differ:
        # A value-dependent shape (x[mask], nonzero, piecewise) differs between t = 0 and
        # t > 0 (x = 0 moving up enters x[x > 0]): the values stay f(x0), from this run;
        # the coefficients come from a second run whose shapes (and all) are those for t > 0.
        try:
            after_interp, after_out = run(True)
        except Exception as e:
            raise ValueError(
                f"jet of {_fname(fun)}: a value-dependent shape (a boolean mask x[mask], "
                f"nonzero, piecewise...) changes right after t = 0, so jet ran the function "
                f"again with the shapes for small t > 0 (for the Taylor coefficients), and "
                f"that run failed: {type(e).__name__}: {e}. Select with "
                f"functrans.numpy.where, whose shape is fixed, instead.") from e
        after_leaves, after_tree = tree_flatten(after_out)
        _same_shapes_after(fun, out_tree, after_tree, out_leaves, after_leaves)
    primals_out, series_out = [], []
    for j, o in enumerate(out_leaves):
        if type(o) is JetTracer and o._interp is interp:
            p, ts = o.primal, o.terms
        else:
            # (a boolean or integer that steps at t = 0: its value at t = 0, as jet's first
            # terms are)
            p = o.primal if type(o) is ConstTracer or (
                type(o) is OneSidedTracer and o._interp is interp) else o
            if not isinstance(p, Tracer):
                p = _const_output(p, like, f"jet of {_fname(fun)}", len(primals_out))
            ts = (None,) * order
        if after_leaves is not None:
            a = after_leaves[j]
            ts = a.terms if type(a) is JetTracer and a._interp is after_interp \
                else (None,) * order
        primals_out.append(p)
        zero = None
        terms = []
        for k, t in enumerate(ts):
            if t is None:
                zero = _zeros(p) if zero is None else zero
                t = zero
            elif factorial_scaled and k > 0:
                t = _scale_term(t, float(math.factorial(k + 1)))
            terms.append(t)
        series_out.append(terms)
    primals_out = _array_leaves(primals_out)
    series_out = [unshared(_array_leaves(ts), given) for ts in series_out]
    return tree_unflatten(out_tree, primals_out), tree_unflatten(out_tree, series_out)


def _same_shapes_after(fun, tree, after_tree, leaves, after_leaves):
    """The results of jet's second run (shapes for t > 0) must have the first's tree and
    shapes: a result whose own shape changes right after t = 0 has no Taylor series."""
    shapes = [tuple(get_aval(x).shape) for x in leaves]
    after = [tuple(get_aval(x).shape) for x in after_leaves]
    if tree != after_tree or shapes != after:
        raise ValueError(
            f"jet of {_fname(fun)}: a result's shape depends on values that change right "
            f"after t = 0 (a boolean mask x[mask], nonzero, piecewise... whose mask changes "
            f"there; unique at a tie of values that split there): shapes {shapes} at "
            f"t = 0 and {after} for small t > 0, so the result has no Taylor series of one "
            f"shape. Reduce it inside the function (sum...), or "
            f"select with functrans.numpy.where, whose shape is fixed.")


def _scale_term(t, c):
    return _fnp.multiply(t, c)


def _zeros(p):
    return _fnp.zeros_like(p)
