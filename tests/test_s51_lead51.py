"""Session 51, the lead: what the fuzzers found.

- (transforms fuzzer, seed 51083) A derivative whose differentiated arguments hold no leaf
  (``grad(f, argnums=2)(x, 0.3, None)``, JAX's answer None) made the constants ``f`` creates
  (``fnp.sin(0.3)``, ``fnp.zeros(3)``) on the default backend (NumPy): beside an
  array-api-strict or torch ``x`` a BackendMismatchError, where the same ``f`` ran eagerly
  and under every other ``argnums``. With nothing differentiated to follow, they follow the
  call's first array (library and device).
- A differentiated Python scalar beside a torch tensor on a process's first torch call: a
  NumPy array (BackendMismatchError), right from the second call on.
"""
import subprocess
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

strict = pytest.importorskip("array_api_strict")


def _f(x, y, z):
    # (functions, not operators: a plain array-api-strict array on the left of an operator
    # refuses any other type, a known limit, docs/backends.md)
    return fnp.sum(fnp.add(fnp.add(fnp.sin(x), fnp.sin(y)), fnp.zeros(2)))


def _inputs(lib):
    if lib == "strict":
        return strict.asarray([1.5, 0.5], dtype=strict.float64)
    if lib == "strict-device1":
        return strict.asarray([1.5, 0.5], dtype=strict.float64,
                              device=strict.Device("device1"))
    torch = pytest.importorskip("torch")
    return torch.asarray([1.5, 0.5], dtype=torch.float64)


@pytest.mark.parametrize("lib", ["strict", "strict-device1", "torch"])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacfwd", "jacrev",
                                       "hessian"])
@pytest.mark.parametrize("empty", [None, {}, ()])
def test_nothing_differentiated_constants_beside_the_call(lib, transform, empty):
    x = _inputs(lib)
    want = float(np.sum(np.sin([1.5, 0.5]) + np.sin(0.3)))
    got = getattr(ft, transform)(_f, argnums=2)(x, 0.3, empty)
    if transform == "value_and_grad":
        value, got = got
        assert type(value) is type(x)
        assert float(value) == pytest.approx(want, rel=1e-15)
    assert got == empty and type(got) is type(empty)
    # (the tuple argnums: a tuple of the one empty tree)
    got = getattr(ft, transform)(_f, argnums=(2,))(x, 0.3, empty)
    assert (got[1] if transform == "value_and_grad" else got) == (empty,)


def test_nothing_differentiated_default_without_arrays():
    """No array among the arguments: the default backend, as before."""
    assert ft.grad(lambda y, z: fnp.sin(y), argnums=1)(0.3, None) is None
    v, g = ft.value_and_grad(lambda y, z: fnp.sin(y), argnums=1)(0.3, None)
    assert isinstance(v, np.ndarray) and g is None


def test_python_scalar_beside_a_torch_tensor_on_the_first_call():
    """A differentiated Python scalar beside a torch tensor is made a torch tensor (as JAX's
    scalars join the arrays); on a process's first torch call it was a NumPy array (the
    look for an array beside it skipped tensors, which have no __array_namespace__, until
    their type was registered): BackendMismatchError, then right on the second call."""
    pytest.importorskip("torch")
    code = ("import torch, functrans as ft, functrans.numpy as fnp\n"
            "x = torch.asarray([1.5, 0.5], dtype=torch.float64)\n"
            "g = ft.grad(lambda x, y: fnp.sum(fnp.sin(x) * y + fnp.zeros(2)), argnums=1)\n"
            "print(type(g(x, 0.3)).__name__, float(g(x, 0.3)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    name, value = out.stdout.split()
    assert name == "Tensor"
    assert float(value) == pytest.approx(float(np.sum(np.sin([1.5, 0.5]))), rel=1e-15)
