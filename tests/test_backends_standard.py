"""Any Array API library without a backend of its own: a backend is made on first sight from
the array's namespace (functrans/backends/standard_backend.py).

array-api-strict proves the mechanism without any extra dependency: in a fresh interpreter
with functrans's own strict backend withdrawn, a strict array gets a backend made from its
namespace, and transforms, derivatives (checked numerically) and the library of the results
are what the built-in backend gives. JAX (when installed) is the real case: its arrays cannot
be written in place, so values are placed with ``x.at[i].set(v)``.
"""

from __future__ import annotations

import os
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


def test_jax_scatter_add_is_its_own_at_add_and_keeps_the_contract():
    # an immutable library with ``x.at[i].add`` adds through it (one operation, where the
    # generic scatter-add takes dozens, each compiled anew for each shape on JAX); the same
    # sums as NumPy's add.at, for every form of index the contract allows
    pytest.importorskip("jax")
    code = textwrap.dedent("""
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import numpy as np
        import functrans.backends as fb
        from functrans.backends.generic import scatter_add as generic_scatter_add
        b = fb.backend_of(jnp.zeros(()))
        fn = b.extra("scatter_add")
        assert fn.__name__ == "_at_scatter_add", fn
        rng = np.random.default_rng(0)
        x = rng.normal(size=(4, 5, 3))
        cases = [
            (np.array([0, 3, 0, -1, 3, 3]), 0, (6, 5, 3)),
            (np.array([[4, -5], [0, 4]]), 1, (4, 2, 2, 3)),
            ((np.array([1, 1, 3]), np.array([2, -1, 2])), 0, (3, 3)),
            ((np.array([[0, 4], [4, 4]]), np.array([[2, 2], [0, 2]])), 1, (4, 2, 2)),
            (np.array([], dtype=np.int64), 2, (4, 5, 0)),
        ]
        for index, axis, vshape in cases:
            v = rng.normal(size=vshape)
            want = x.copy()
            parts = index if isinstance(index, tuple) else (index,)
            np.add.at(want, (slice(None),) * axis + parts, v)
            jindex = tuple(map(jnp.asarray, parts)) if isinstance(index, tuple) \\
                else jnp.asarray(index)
            jx = jnp.asarray(x)
            got = fn(jx, jindex, jnp.asarray(v), axis=axis)
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(np.asarray(got), np.asarray(generic_scatter_add(
                b, jx, jindex, jnp.asarray(v), axis=axis)), rtol=1e-14, atol=1e-15)
            np.testing.assert_array_equal(np.asarray(jx), x)  # the input is left as it was
        for bad_axis in (3, -4):
            try:
                fn(jnp.asarray(x), jnp.asarray([0]), jnp.zeros((1, 5, 3)), axis=bad_axis)
            except ValueError as e:
                assert "out of range" in str(e), e
            else:
                raise AssertionError(f"axis {bad_axis} was taken")
        print("ok")
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1] == "ok"


def test_jax_without_x64_keeps_its_dtypes_names():
    # JAX's default mode narrows float64 to float32 (int64 to int32...): its float32 and
    # int32 arrays are float32 and int32 for functrans too, not the wider names whose
    # requests they answer (they were float64 and int64, and tolerances went with them)
    pytest.importorskip("jax")
    code = textwrap.dedent("""
        import warnings
        warnings.simplefilter("ignore")  # (JAX's on asking for a dtype it narrows)
        import jax.numpy as jnp
        import numpy as np
        import functrans as ft
        import functrans.numpy as fnp
        x = jnp.asarray([0.5, 1.0, 2.0], dtype=jnp.float32)
        i = jnp.arange(3)
        assert fnp.result_type(x) == fnp.float32 and fnp.result_type(i) == fnp.int32
        assert fnp.sin(x).dtype == jnp.float32
        g = ft.grad(lambda v: fnp.sum(fnp.sin(v) * fnp.take(v, i)))(x)
        assert g.dtype == jnp.float32, g.dtype
        np.testing.assert_allclose(np.asarray(g), np.cos([0.5, 1, 2]) * [0.5, 1, 2]
                                   + np.sin([0.5, 1, 2]), rtol=1e-6)
        assert fnp.sum(i).dtype == jnp.int32 and int(fnp.sum(i)) == 3
        # NumPy's arrays keep theirs
        assert fnp.result_type(np.ones(2, np.float32)) == fnp.float32
        assert fnp.result_type(np.ones(2)) == fnp.float64
        print("ok")
        """)
    # (JAX's own default: importing the benchmarks package, as test_s42_perf42 does, sets
    # JAX_ENABLE_X64=1 in this process's environment, which the child would inherit)
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1] == "ok"
