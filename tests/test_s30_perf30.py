"""Session 30, dispatch (perf30): what the namespaces' hot paths rely on.

CPython 3.11+ specializes ``module.name`` loads (LOAD_ATTR_MODULE) only for modules without a
module-level ``__getattr__`` (PEP 562); with one, every ``fnp.sin`` in user code takes the
generic look-up (~50 ns a call on the reference machine, a fifth of functrans.numpy's
dispatch overhead). The namespaces users call in loops have none."""

from __future__ import annotations

import dis
import importlib
import sys
import types

import pytest

import functrans.numpy as fnp
import functrans.scipy.special as fsp

HOT_NAMESPACES = ("functrans.numpy", "functrans.numpy.linalg", "functrans.numpy.fft",
                  "functrans.lax", "functrans.nn", "functrans.scipy.special",
                  "functrans.random")


def _specialized_module_load(module, name):
    """Whether CPython specialized ``module.name`` in a function run enough times to be
    specialized; None where the interpreter does not say (not CPython 3.11-3.13)."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info < (3, 14):
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
