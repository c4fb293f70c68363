"""Session 30, dispatch (perf30): what the namespaces' hot paths rely on.

CPython (3.11 to 3.14 at least) specializes ``module.name`` loads (LOAD_ATTR_MODULE) only for
modules without a module-level ``__getattr__`` (PEP 562); with one, every ``fnp.sin`` in user code takes the
generic look-up (~50 ns a call on the reference machine, a fifth of functrans.numpy's
dispatch overhead). The namespaces users call in loops have none.

Also: the binary and unary fast paths (functrans/numpy/_base.py) decide by the array's own
dtype object, so NumPy dtypes that share a dtype class with a native one (byte-swapped,
with metadata) or have none of functrans's (structured, object, datetime) get exactly
what the full path gives, as do NumPy scalars and bools beside arrays."""

from __future__ import annotations

import dis
import importlib
import sys
import types

import numpy as np
import pytest

import functrans.numpy as fnp
from functrans import core
import functrans.scipy.special as fsp

HOT_NAMESPACES = ("functrans.numpy", "functrans.numpy.linalg", "functrans.numpy.fft",
                  "functrans.lax", "functrans.nn", "functrans.scipy.special",
                  "functrans.random")


def _specialized_module_load(module, name):
    """Whether CPython specialized ``module.name`` in a function run enough times to be
    specialized; None where the interpreter does not say (not CPython 3.11-3.14)."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info < (3, 15):
        return None
    ns = {"m": module}
    exec(f"def load():\n    return m.{name}\n", ns)
    load = ns["load"]
    for _ in range(200):
        load()
    ops = {i.opname for i in dis.get_instructions(load, adaptive=True)}
    return "LOAD_ATTR_MODULE" in ops


def test_the_check_sees_a_module_getattr():
    # (the control: a module with __getattr__ is not specialized, one without is)
    with_hook, without = types.ModuleType("with_hook"), types.ModuleType("without")
    with_hook.f = without.f = len
    with_hook.__getattr__ = lambda name: None
    got = _specialized_module_load(with_hook, "f"), _specialized_module_load(without, "f")
    if got == (None, None):
        pytest.skip("this interpreter does not report specializations")
    assert got == (False, True)


@pytest.mark.parametrize("name", HOT_NAMESPACES)
def test_hot_namespaces_have_no_module_getattr(name):
    module = importlib.import_module(name)
    assert "__getattr__" not in vars(module)
    attr = "sin" if hasattr(module, "sin") else sorted(
        n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n)))[0]
    assert _specialized_module_load(module, attr) in (True, None)


def test_special_extension_and_missing_names():
    # functrans.numpy.special is set at import (it was the module __getattr__'s one name)
    assert fnp.special is fsp
    assert fnp.special.erf is fsp.erf
    with pytest.raises(AttributeError, match="'functrans.numpy' has no attribute 'frobnicate'"):
        fnp.frobnicate  # noqa: B018
    assert not hasattr(fnp, "specials")


class _Forwarding(core.Interpreter):
    """Forwards every operation to the interpreter below: the full path, no fast path."""

    __slots__ = ()

    def process(self, prim, args, params):
        return self.parent.process(prim, args, params)


def _outcome(fn, *args, full=False):
    token = core.set_current(_Forwarding(core.current_interpreter())) if full else None
    try:
        with np.errstate(all="ignore"):
            out = fn(*args)
    except Exception as e:  # noqa: BLE001 (the error is what is compared)
        return type(e), str(e)
    finally:
        if token is not None:
            core.reset_current(token)
    return type(out), out.dtype, out.dtype.metadata, out.shape, repr(out.tolist())  # (nan == nan)


def _unusual_arrays():
    base = np.array([0.5, -1.25, 2.0])
    return {
        "byte-swapped f8": base.astype(">f8"),
        "byte-swapped f4": base.astype(">f4"),
        "f8 with metadata": base.astype(np.dtype("f8", metadata={"unit": "m"})),
        "structured": np.zeros(3, dtype=[("a", "f8")]),
        "object": base.astype(object),
        "datetime": np.array(["2020-01-01"] * 3, dtype="M8[D]"),
        "bool": np.array([True, False, True]),
        "int8": np.array([1, -2, 3], dtype=np.int8),
        "native f8": base,
        "f2": base.astype(np.float16),
        "c8": base.astype(np.complex64),
    }


@pytest.mark.parametrize("name", ["multiply", "add", "maximum", "less", "pow"])
def test_binary_fast_path_with_unusual_numpy_dtypes(name):
    fn = getattr(fnp, name)
    for label, x in _unusual_arrays().items():
        for other in (0.75, 2, True, np.float64(0.75), np.float32(0.75), np.bool_(True)):
            for args in ((x, other), (other, x)):
                for _ in range(2):  # (the second call takes what the first cached)
                    fast = _outcome(fn, *args)
                    assert fast == _outcome(fn, *args, full=True), (label, other)
    # native floats beside Python numbers keep their dtype (NumPy's weak scalars)
    for label in ("native f8", "f2", "c8"):
        x = _unusual_arrays()[label]
        assert fnp.multiply(x, 0.75).dtype == x.dtype, label
    # a byte-swapped array is refused, as the full path refuses it (not computed by NumPy)
    with pytest.raises(Exception, match="dtype >f8 are not supported"):
        fnp.multiply(_unusual_arrays()["byte-swapped f8"], 0.75)


@pytest.mark.parametrize("name", ["sin", "exp", "sqrt", "negative"])
def test_unary_fast_path_with_unusual_numpy_dtypes(name):
    fn = getattr(fnp, name)
    for label, x in _unusual_arrays().items():
        for _ in range(2):
            assert _outcome(fn, x) == _outcome(fn, x, full=True), label


def test_numpy_backends_hot_implementations_load_no_numpy_attribute():
    # (numpy defines a module __getattr__ too: each ``np.name`` in these, which run once per
    # operation of every transform, was a generic look-up; they use module globals now)
    from functrans.backends import numpy_backend as nb
    fns = [nb._matmul, nb._tanh_slope, nb._reused] + [
        nb._IMPLS[k] for k in ("reduce_sum", "reduce_max", "reduce_min", "sin_cos")]
    for fn in fns:
        assert "np" not in fn.__code__.co_names, fn
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    np.testing.assert_array_equal(nb._IMPLS["sin_cos"](x), (np.sin(x), np.cos(x)))
    np.testing.assert_array_equal(nb._IMPLS["reduce_max"](x, (1,)), x.max(axis=1))
    y, s = nb._tanh_slope(x, False)
    np.testing.assert_array_equal(s, 1.0 - np.tanh(x) * np.tanh(x))
