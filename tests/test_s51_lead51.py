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
import math
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


# -- rel_entr / kl_div where x / y leaves the normal range (scipy fuzzer, seed 51000) --------

_WIDE = [(1e-300, 1e300), (1e300, 1e-300), (5e-324, 1e300), (1e-200, 1e200), (1e300, 5e-324),
         (1e-320, 1e-10)]


def _mp_rel_entr(a, b):
    import mpmath
    with mpmath.workdps(40):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        r = a * mpmath.log(a / b)
        return float(r), float(r - a + b)


def test_rel_entr_kl_div_where_the_ratio_leaves_the_range():
    """x log(x / y) where x / y underflows or overflows: rel_entr(1e-300, 1e300) was -inf
    (its value -1.38e-297: SciPy's right), (1e300, 1e-300) inf (1.38e303: SciPy's right);
    kl_div(1e-300, 1e300) -inf (its value 1e300: SciPy's -inf is wrong too). mpmath, 40
    digits; eager, jit and vmap."""
    import functrans.scipy.special as fsp
    pytest.importorskip("mpmath")
    xs = np.array([a for a, _ in _WIDE])
    ys = np.array([b for _, b in _WIDE])
    want = np.array([_mp_rel_entr(a, b) for a, b in _WIDE])
    for f, col in ((fsp.rel_entr, 0), (fsp.kl_div, 1)):
        for g in (f, ft.jit(f), ft.vmap(f)):
            np.testing.assert_allclose(np.asarray(g(xs, ys)), want[:, col], rtol=4e-16, atol=0)
        for (a, b), w in zip(_WIDE, want[:, col]):
            assert float(f(a, b)) == pytest.approx(w, rel=4e-16, abs=0)


@pytest.mark.parametrize("x, y", _WIDE + [(1e-20, 1.0), (1.0, 1e-20), (0.3, 0.7)])
def test_rel_entr_kl_div_slopes_not_nan(x, y):
    """The slopes log(x / y) + 1 and -x / y (rel_entr), log(x / y) and 1 - x / y (kl_div):
    nan at (1e-20, 1) before (log1p's form, unselected there, has an infinite slope at
    (x - y) / y = -1), and wherever x / y left the range."""
    import functrans.scipy.special as fsp
    lr = math.log(x) - math.log(y)
    q = x / y if y > 1e-300 or x < 1 else math.inf
    for jit in (False, True):
        for f, want in ((fsp.rel_entr, (lr + 1, -q)), (fsp.kl_div, (lr, 1 - q))):
            g = ft.grad(f, argnums=(0, 1))
            gx, gy = (ft.jit(g) if jit else g)(x, y)
            assert float(gx) == pytest.approx(want[0], rel=1e-13)
            assert float(gy) == pytest.approx(want[1], rel=1e-15, abs=1e-300)


def test_rel_entr_ordinary_values_and_float32():
    """Ordinary points keep SciPy's values; float32 in range and past it (1e-30 / 1e30
    underflows float32)."""
    import functrans.scipy.special as fsp
    from scipy import special
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 5, 200), rng.uniform(0, 5, 200)
    np.testing.assert_allclose(np.asarray(fsp.rel_entr(x, y)), special.rel_entr(x, y),
                               rtol=1e-15, atol=1e-300)
    got = fsp.rel_entr(np.float32(1e-30), np.float32(1e30))
    assert got.dtype == np.float32
    want = np.float32(1e-30) * (math.log(np.float32(1e-30)) - math.log(np.float32(1e30)))
    assert float(got) == pytest.approx(want, rel=1e-6)


def test_rel_entr_kl_div_infinite_x():
    """rel_entr(inf, y) is inf (SciPy's), kl_div(inf, y) nan as SciPy's; the far form's x / x
    at x = inf was nan (CI, session 51)."""
    import functrans.scipy.special as fsp
    from scipy import special
    x = np.array([np.inf, np.inf, 1.0, np.inf, 1e-300])
    y = np.array([1.0, np.inf, np.inf, 1e-300, 1e300])
    for f, g in ((fsp.rel_entr, special.rel_entr), (fsp.kl_div, special.kl_div)):
        want = g(x, y)
        want[-1] = _mp_rel_entr(1e-300, 1e300)[f is fsp.kl_div]   # (SciPy's kl_div -inf)
        np.testing.assert_allclose(np.asarray(f(x, y)), want, rtol=4e-16, equal_nan=True)
