"""Session 45, helper device45: the device paths, checked without a GPU.

Pins: array-api-strict's non-default devices count as a device for the read-free paths
(``primitives.special._on_host``), so the suite's ``array_api_strict@device1`` runs take the
paths a CUDA tensor or a CuPy array takes, with the host paths' values; a CuPy array (a
stand-in whose operators follow CuPy 13's ``cupy/_core/core.pyx``: ``_should_use_rop``,
NumPy's ufuncs for the other operand, ``__array_ufunc__`` declining foreign types) or a torch
tensor on the LEFT of an operator whose right operand is traced, or a constant made inside
the transform, gives the values NumPy's arrays give, under grad, jvp, vmap and jit; the
generic ``betaincinv``'s Halley iteration stops at a root it has reached (from the end of
its bracket it bisected ~30 more steps: ``t.ppf(p, 1e12)`` on torch ran 35 steps a call and
made 1043 host reads), starts next to 1 where a large shape beside one below 1 puts the root
(``I_x(5e11, 0.5)`` at the old root was 0.054 for 0.1), and measures its step relative to
``|log x|`` there; ``betainc``'s choice of methods is one host read, not four.
"""

from __future__ import annotations

import math
import operator
import types

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
import functrans.scipy.stats as fst
from functrans.backends import get_backend
from ._host_reads_module import load_host_reads as _host_reads

mp.mp.dps = 40


# -- array-api-strict's second device takes the device paths -------------------------------------

def test_strict_second_device_counts_as_a_device():
    xps = pytest.importorskip("array_api_strict")
    from functrans.primitives.special import _on_host
    assert _on_host(np.ones(2)) and _on_host(np.float64(1.0))
    assert _on_host(xps.asarray([1.0]))
    assert not _on_host(xps.asarray([1.0], device=xps.Device("device1")))
    assert fsp._read_on_host is _on_host   # (scipy.special's copy is the same function)


@pytest.mark.parametrize("name,fn,points", [
    ("ndtr", fsp.ndtr, [-38.0, -20.3, -5.0, 0.5, 2.0]),
    ("log_ndtr", fsp.log_ndtr, [-30.0, -5.0, 3.0, 9.0]),
    ("gammaln", fsp.gammaln, [-12.3, -3.7, 0.5, 30.0]),
    ("digamma", fsp.digamma, [-12.3, -1.0 + 1e-9, 0.5, 30.0]),
    ("t.cdf", lambda x: fst.t.cdf(x, 3.0), [-30.0, -2.0, 0.5, 3.0]),
])
def test_second_device_paths_give_the_default_devices_values(name, fn, points):
    xps = pytest.importorskip("array_api_strict")
    b = get_backend("array_api_strict")
    here = xps.asarray(points)
    there = xps.asarray(points, device=xps.Device("device1"))
    for f in (fn, ft.grad(lambda v: fnp.sum(fn(v))), ft.jit(fn)):
        with np.errstate(all="ignore"):
            want = np.asarray(b.to_numpy(f(here)))
            got = f(there)
        assert got.device == there.device
        np.testing.assert_allclose(np.asarray(b.to_numpy(got)), want, rtol=1e-13, atol=0)


# -- a device array on the left of an operator ------------------------------------------------------

class _Device:
    type = "cuda"

    def __eq__(self, other):
        return isinstance(other, _Device)

    def __hash__(self):
        return 1


_SCALAR_TYPES = frozenset({int, float, complex, bool, np.float64, np.float32, np.int64,
                           np.int32, np.bool_})


def _should_use_rop(x, y):
    # cupy/_core/core.pyx: defer (NotImplemented) only to an operand whose __array_ufunc__ is
    # None; one without it by __array_priority__; else NumPy's ufunc on both (NEP 13)
    try:
        y_ufunc = y.__array_ufunc__
    except AttributeError:
        return getattr(x, "__array_priority__", 0) < getattr(y, "__array_priority__", 0)
    return y_ufunc is None


class CuLike:
    """A CuPy 13 ndarray's operator protocol over a NumPy array (no GPU here)."""

    __slots__ = ("_a",)
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, a):
        self._a = a

    shape = property(lambda s: s._a.shape)
    dtype = property(lambda s: s._a.dtype)
    ndim = property(lambda s: s._a.ndim)
    size = property(lambda s: s._a.size)
    device = property(lambda s: _Device())
    T = property(lambda s: CuLike(s._a.T))
    mT = property(lambda s: CuLike(np.swapaxes(s._a, -1, -2)))
    __cuda_array_interface__ = property(lambda s: {"shape": s.shape})

    def __array_namespace__(self, api_version=None):
        return _CU_XP

    def __len__(self):
        return len(self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def to_device(self, device, stream=None):
        return self

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        for v in inputs:   # (CuPy's: its arrays, CUDA array interfaces, scalars, NumPy's)
            if not (hasattr(v, "__cuda_array_interface__")
                    or hasattr(v, "__cupy_get_ndarray__") or type(v) in _SCALAR_TYPES
                    or isinstance(v, np.ndarray)):
                return NotImplemented
        return _cu_wrap(ufunc(*_cu_unwrap(inputs), **kwargs))

    def __getitem__(self, key):
        return _cu_wrap(self._a[_cu_unwrap(key)])

    def __neg__(self):
        return CuLike(-self._a)


def _cu_unwrap(o):
    if isinstance(o, CuLike):
        return o._a
    if isinstance(o, (list, tuple)) and not hasattr(o, "_fields"):
        return type(o)(_cu_unwrap(v) for v in o)
    return o


def _cu_wrap(o):
    if isinstance(o, (np.ndarray, np.generic)):
        return CuLike(np.asarray(o))
    if isinstance(o, tuple) and hasattr(o, "_fields"):
        return type(o)(*(_cu_wrap(v) for v in o))
    if isinstance(o, (list, tuple)):
        return type(o)(_cu_wrap(v) for v in o)
    return o


_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "matmul": np.matmul,
           "truediv": np.true_divide, "floordiv": np.floor_divide, "mod": np.remainder,
           "pow": np.power, "lshift": np.left_shift, "rshift": np.right_shift,
           "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}
_COMPARE = {"lt": np.less, "le": np.less_equal, "eq": np.equal, "ne": np.not_equal,
            "gt": np.greater, "ge": np.greater_equal}


def _cu_binary(ufunc):
    def forward(x, y, *_):
        if isinstance(y, CuLike):
            return _cu_wrap(ufunc(x._a, y._a))
        if _should_use_rop(x, y):
            return NotImplemented
        return ufunc(x, y)

    def reflected(y, x, *_):   # (Cython's shared op and rop)
        if isinstance(x, CuLike):
            return _cu_wrap(ufunc(x._a, y._a))
        if _should_use_rop(y, x):
            return NotImplemented
        return ufunc(x, y)
    return forward, reflected


def _cu_compare(name, ufunc):
    def compare(self, other):
        if isinstance(other, CuLike):
            return _cu_wrap(ufunc(self._a, other._a))
        if not _should_use_rop(self, other):
            if name in ("eq", "ne") and (type(other).__eq__ is object.__eq__ or other is None):
                return CuLike(np.full(self.shape, name == "ne"))
            return ufunc(self, other)
        return NotImplemented
    return compare


for _name, _ufunc in _BINARY.items():
    _f, _r = _cu_binary(_ufunc)
    setattr(CuLike, f"__{_name}__", _f)
    setattr(CuLike, f"__r{_name}__", _r)
for _name, _ufunc in _COMPARE.items():
    setattr(CuLike, f"__{_name}__", _cu_compare(_name, _ufunc))


def _cu_function(fn):
    def call(*args, **kwargs):
        kwargs.pop("device", None)
        return _cu_wrap(fn(*_cu_unwrap(args), **{k: _cu_unwrap(v) for k, v in kwargs.items()}))
    return call


class _CuNamespace(types.ModuleType):
    def __getattr__(self, name):
        import array_api_compat.numpy as acn
        obj = getattr(acn, name)
        if callable(obj) and not isinstance(obj, type):
            obj = _cu_function(obj)
        setattr(self, name, obj)
        return obj


_CU_XP = _CuNamespace("culike_xp")


@pytest.fixture
def culike():
    import functrans.backends as fb
    from functrans import dtypes
    from functrans.backends import Backend

    class CuLikeBackend(Backend):
        def to_numpy(self, x):
            return np.asarray(x._a)

        def device(self, x):
            return _Device()
    names = ("bool", "int64", "float64")
    fb.register(CuLikeBackend("culike_s45", _CU_XP, [CuLike],
                              [(np.dtype(n), dtypes.BY_NAME[n]) for n in names]))
    try:
        yield CuLike
    finally:
        fb.unregister("culike_s45")


_OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "truediv": operator.truediv, "pow": operator.pow, "matmul": operator.matmul,
              "floordiv": operator.floordiv, "mod": operator.mod, "lt": operator.lt,
              "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
              "ne": operator.ne}
_INTEGER_OPERATORS = {"and": operator.and_, "or": operator.or_, "xor": operator.xor,
                      "lshift": operator.lshift, "rshift": operator.rshift}


def _transforms(integer):
    """(name, f -> function of one vector): the operand on the right traced, or a constant
    made inside the transform (a ConstTracer, which NumPy's ufuncs reach through its
    ``__array_ufunc__``)."""
    def total(f):
        return lambda v: fnp.sum(fnp.astype(f(v), fnp.float64))
    if integer:   # (no derivatives: staged, batched, and as a constant beside a traced float)
        return [("jit", ft.jit),
                ("vmap", lambda f: lambda v: ft.vmap(f)(fnp.stack([v, v]))),
                ("const", lambda f: lambda v: ft.grad(lambda w: fnp.sum(
                    fnp.astype(f(fnp.ones(3, like=w, dtype=fnp.int64) * 2), fnp.float64)
                    * w))(fnp.astype(v, fnp.float64)))]
    return [("grad", lambda f: ft.grad(total(f))),
            ("jvp", lambda f: lambda v: ft.jvp(f, (v,), (fnp.ones_like(v),))[1]),
            ("vmap", lambda f: lambda v: ft.vmap(f)(fnp.stack([v, v]))),
            ("jit", ft.jit),
            ("const jit", lambda f: ft.jit(lambda v: f(fnp.ones(3, like=v) * 2.0) * v)),
            ("const grad", lambda f: ft.grad(lambda v: fnp.sum(
                f(fnp.ones(3, like=v) * 2.0) * v)))]


def _left_operand_results(make, op, integer):
    c, x = ((make([5, 6, 7]), make([1, 2, 3])) if integer
            else (make([1.5, 2.0, 3.0]), make([0.7, 1.1, 0.4])))
    out = {}
    for name, transform in _transforms(integer):
        got = transform(lambda v: op(c, v))(x)
        out[name] = np.asarray(got.tolist())
    return out


@pytest.mark.parametrize("name", list(_OPERATORS) + list(_INTEGER_OPERATORS))
def test_cupy_array_on_the_left_of_a_tracer(culike, name):
    integer = name in _INTEGER_OPERATORS
    op = {**_OPERATORS, **_INTEGER_OPERATORS}[name]
    want = _left_operand_results(lambda v: np.asarray(v), op, integer)
    got = _left_operand_results(lambda v: culike(np.asarray(v)), op, integer)
    for mode in want:
        np.testing.assert_array_equal(got[mode], want[mode], err_msg=mode)


@pytest.mark.parametrize("name", list(_OPERATORS) + list(_INTEGER_OPERATORS))
def test_torch_tensor_on_the_left_of_a_tracer(name):
    torch = pytest.importorskip("torch")
    integer = name in _INTEGER_OPERATORS
    op = {**_OPERATORS, **_INTEGER_OPERATORS}[name]
    want = _left_operand_results(lambda v: np.asarray(v), op, integer)
    got = _left_operand_results(
        lambda v: torch.tensor(v, dtype=torch.int64 if integer else torch.float64), op,
        integer)
    for mode in want:   # (torch's pow and log are NumPy's to an ulp)
        np.testing.assert_allclose(got[mode], want[mode], rtol=1e-15, atol=0, err_msg=mode)


def test_cupy_array_written_or_indexed_with_a_tracer(culike):
    c = culike(np.array([1.5, 2.0, 3.0]))
    x = culike(np.array([0.7, 1.1, 0.4]))
    # (a constant's index: the table's entry; a traced one under jit: an error, as NumPy's)
    g = ft.grad(lambda v: fnp.sum(c[fnp.argmax(v)] * v))(x)
    np.testing.assert_array_equal(np.asarray(g.tolist()), [2.0, 2.0, 2.0])
    with pytest.raises((ft.errors.ConcretizationError, ft.errors.TracerArrayConversionError)):
        ft.jit(lambda v: c[fnp.argmax(v)] * v)(x)
    # a CuPy array's __array_ufunc__ declines a tracer: NumPy's ufunc goes on to the tracer,
    # which refuses (np.multiply(c, tracer), as for NumPy's arrays)
    with pytest.raises(TypeError):
        ft.grad(lambda v: fnp.sum(np.multiply(c, v)))(x)


# -- the generic betaincinv ---------------------------------------------------------------------

def _halley_steps(monkeypatch):
    from functrans.backends import generic
    steps = []
    plain = generic._halley_in_log

    def counted(backend, u, lo, hi, g_parts, linear=False, branches=None):
        n = [0]

        def parts(v, *needed):  # (needed: the branches' flags, where branches is given)
            n[0] += 1
            return g_parts(v, *needed)
        out = plain(backend, u, lo, hi, parts, linear, branches)
        steps.append(n[0])
        return out
    monkeypatch.setattr(generic, "_halley_in_log", counted)
    return steps


def test_t_ppf_at_huge_df_stops_where_its_roots_are(monkeypatch):
    torch = pytest.importorskip("torch")
    sc = pytest.importorskip("scipy.stats")
    steps = _halley_steps(monkeypatch)
    q = 0.05 + 0.9 * (np.arange(64) + 0.5) / 64
    got = fst.t.ppf(torch.as_tensor(q), 1e12).numpy()
    assert steps and max(steps) <= 8, steps   # (35 and 35 before)
    want = sc.t.ppf(q, 1e12)
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=0)


def _mp_betainc(a, b, x):
    x = mp.mpf(x)
    if x > 0.5:   # (the complement, exact in 1 - x for x near 1)
        return 1 - mp.betainc(b, a, 0, 1 - x, regularized=True)
    return mp.betainc(a, b, 0, x, regularized=True)


@pytest.mark.parametrize("a,b,y", [(5e11, 0.5, 0.1), (5e11, 0.1, 0.01), (1e8, 0.1, 0.5),
                                   (1e5, 0.01, 0.1), (5e11, 0.9, 0.5), (1e8, 0.5, 0.5)])
def test_betaincinv_next_to_one(a, b, y):
    # a large shape beside one below 1: the root is 1 - t/a (t a gamma quantile), which the
    # iteration reached from x = 1/2 by ~30 bisections and left up to 30 % off in 1 - x
    # (I_x(5e11, 0.1) was 9 times 0.01); x has few digits of 1 - x there: within what its
    # rounding allows (and a few of the iteration's)
    xps = pytest.importorskip("array_api_strict")
    b_ = get_backend("array_api_strict")
    x = float(b_.to_numpy(fsp.betaincinv(xps.asarray([a]), xps.asarray([b]),
                                         xps.asarray([y])))[0])
    assert 0.99 < x < 1.0
    i = _mp_betainc(a, b, x)
    # (the change of I over an ulp of x)
    ulp_change = abs(_mp_betainc(a, b, math.nextafter(x, 0.0)) - i)
    assert abs(i - y) <= 4 * ulp_change + 1e-14 * y, (x, float(i), float(ulp_change))


def test_betainc_reads_its_methods_in_one_look(monkeypatch):
    torch = pytest.importorskip("torch")
    from functrans.backends import torch_backend
    monkeypatch.setattr(torch_backend, "_on_host", lambda x: False)
    counter = _host_reads().counter_for("torch")
    a = torch.tensor([0.5, 2.0, 300.0, 1e6], dtype=torch.float64)
    b = torch.tensor([3.0, 2.0, 400.0, 2.0], dtype=torch.float64)
    x = torch.tensor([0.2, 0.5, 0.4, 0.999999], dtype=torch.float64)
    with counter.installed():
        reads, sites = counter.measure(lambda: fsp.betainc(a, b, x))
    # (the four methods' looks were four reads: 12 in all before; the series' and
    # fractions' convergence checks are the rest)
    assert reads <= 9, dict(sites)
