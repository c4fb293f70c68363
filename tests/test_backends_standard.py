"""Any Array API library without a backend of its own: a backend is made on first sight from
the array's namespace (functrans/backends/standard_backend.py).

array-api-strict proves the mechanism without any extra dependency: in a fresh interpreter
with functrans's own strict backend withdrawn, a strict array gets a backend made from its
namespace, and transforms, derivatives (checked numerically) and the library of the results
are what the built-in backend gives. JAX (when installed) is the real case: its arrays cannot
be written in place, so values are placed with ``x.at[i].set(v)``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import functrans.backends as fb
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError, UnsupportedBackendError

# Functions whose derivatives go through every kind of implementation: elementwise, the
# transposes of slicing and of the diagonal (which place values into new arrays), gathers and
# their scatter-add, reductions, linear algebra, a special function, a scan.
PROGRAM = """
import numpy as np
import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
import functrans.backends as fb
from functrans.testing import check_grads

def f(x):
    return (fnp.sum(fnp.sin(x[1:, ::2]) ** 2)
            + fnp.sum(fnp.diagonal(x) * fsp.erf(x[0, ...])))

def g(x):
    carry, _ = ft.lax.scan(lambda c, r: (fnp.tanh(r) * c, c), fnp.ones_like(x[0, ...]), x)
    gram = fnp.matmul(x, fnp.matrix_transpose(x)) + 3 * fnp.eye(3, device=x.device)
    i = fnp.asarray([0, 2, 2], device=x.device)
    return (fnp.sum(carry) + fnp.sum(fnp.take(x, i, axis=1) ** 3)
            + fnp.linalg.slogdet(gram)[1])

x = xp.asarray(np.linspace(-0.9, 0.8, 9).reshape(3, 3))
for fun in (f, g):
    check_grads(fun, (x,), order=2)
    for res in (ft.grad(fun)(x), ft.jit(ft.grad(fun))(x), ft.jacfwd(fun)(x),
                ft.vmap(ft.grad(fun))(xp.stack([x, x * 0.5]))):
        assert isinstance(res, type(x)), type(res)
        assert np.all(np.isfinite(np.asarray(fb.backend_of(res).to_numpy(res))))
    np.testing.assert_allclose(
        np.asarray(fb.backend_of(x).to_numpy(ft.grad(fun)(x))),
        ft.grad(fun)(np.asarray(fb.backend_of(x).to_numpy(x))), rtol=1e-12)
b = fb.backend_of(x)
print(type(b).__name__, b.name)
"""


def test_a_standard_library_without_a_backend_gets_one_from_its_namespace():
    code = textwrap.dedent("""
        import functrans.backends as fb
        fb._lazy_modules.pop("array_api_strict")   # as if functrans had no backend for it
        import array_api_strict as xp
        """) + PROGRAM
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-2:] == ["StandardBackend", "array_api_strict"]


def test_jax_arrays_through_their_namespace():
    pytest.importorskip("jax")
    code = textwrap.dedent("""
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as xp
        """) + PROGRAM + textwrap.dedent("""
        import jax.numpy as jnp
        # against JAX's own derivatives
        y = jnp.asarray(np.linspace(-0.9, 0.8, 9).reshape(3, 3))
        want = jax.grad(lambda y: jnp.sum(jnp.sin(y[1:, ::2]) ** 2)
                        + jnp.sum(jnp.diagonal(y) * jax.scipy.special.erf(y[0, ...])))(y)
        np.testing.assert_allclose(np.asarray(ft.grad(f)(y)), np.asarray(want), rtol=1e-12)
        try:
            fnp.add(y, np.ones(3))
        except ft.errors.BackendMismatchError as e:
            assert "'jax'" in str(e) and "'numpy'" in str(e), e
        else:
            raise AssertionError("mixing JAX and NumPy arrays was not refused")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-2:] == ["AtSetBackend", "jax"]


def test_values_that_are_no_array_api_arrays_are_still_refused():
    class NotAnArray:
        shape, dtype = (2,), "float64"
    with pytest.raises(UnsupportedBackendError, match="belong to no functrans backend"):
        fnp.sin(NotAnArray())


def test_a_library_whose_arrays_cannot_be_written_says_what_is_missing():
    from functrans.backends.standard_backend import ReadOnlyBackend
    import array_api_strict as xp
    b = ReadOnlyBackend("readonly_lib", xp, [], [])
    with pytest.raises(UnsupportedBackendError, match="cannot be written.*set_items"):
        b.set_items(xp.zeros(3), slice(0, 1), xp.ones(1))


def test_registered_backends_come_first():
    # numpy, strict and torch arrays keep their own backends (not the standard one)
    assert type(fb.get_backend("numpy")).__name__ != "StandardBackend"
    assert fb.backend_of(np.zeros(2)).name == "numpy"
    with pytest.raises(BackendMismatchError):
        import array_api_strict as xp
        fnp.add(np.ones(2), xp.ones(2))
