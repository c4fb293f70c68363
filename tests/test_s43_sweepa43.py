"""Session 43, helper sweepa43: what the lax, convolution, FFT and experimental fuzzers
(tests/_fuzz_lax_jax.py, _fuzz_conv_jax.py, _fuzz_fft_jax.py, _fuzz_experimental_jax.py)
found on fresh seeds. Pins:

- a batched ``cond`` staged (``jit`` of ``vmap``): a branch's nan on the members that do not
  take it no longer reaches the derivatives (its floating operands there through
  ``stop_gradient``, JAX's select trick), checked against central differences and JAX's
  values by hand;
- ``checkify`` of a staged batched ``cond`` / ``while_loop`` reports what the eager
  ``checkify(vmap(f))`` and ``vmap(checkify(f))`` report: no failure of a branch (or a
  step) whose rows are dropped (experimental fuzzer seed 74206; JAX's ``checkify(vmap(f))``
  reports a nan of the branch not taken);
- ``lax.scatter_max`` / ``scatter_min`` with ``mode='clip'`` and an index clipped into range:
  the derivatives against central differences (JAX 0.10.2's jvp is nan there, its grad inf).
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.experimental import checkify


def _cd(f, x, v, h=1e-6):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


# -- a staged batched cond: the untaken branch's nan kept out of the derivatives -------------

def _sqrt_or_double(x):
    return flax.cond(x > 0, fnp.sqrt, lambda y: y * 2.0, x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_jit_grad_of_vmapped_cond_untaken_branch_nan_free(backend):
    x = np.array([-1.0, 4.0, -0.5, 2.25])
    want = np.array([2.0, 0.25, 2.0, 1 / 3])  # d(2x) = 2, d sqrt(x) = 1 / (2 sqrt(x))

    def loss(v):
        return fnp.sum(ft.vmap(_sqrt_or_double)(v))
    for f in (ft.jit(ft.grad(loss)), ft.grad(ft.jit(loss))):
        got = backend.to_numpy(f(backend.asarray(x)))
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(_cd(lambda v: ft.jit(loss)(v), x, np.ones(4)), want.sum(),
                               rtol=1e-6)
    # the dot-product identity of the staged vjp, and the forward mode agreeing
    f = ft.jit(ft.vmap(_sqrt_or_double))
    y, vjp = ft.vjp(f, x)
    u = np.array([0.3, -1.2, 0.7, 2.0])
    (ct,) = vjp(u)
    v = np.array([1.0, -0.5, 2.0, 0.25])
    _, t = ft.jvp(f, (x,), (v,))
    assert np.all(np.isfinite(ct)) and np.all(np.isfinite(t))
    np.testing.assert_allclose(np.sum(u * t), np.sum(ct * v), rtol=1e-12)
    np.testing.assert_allclose(t, want * v, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_jit_hessian_of_vmapped_cond_untaken_branch():
    x = np.array([-1.0, 4.0])

    def loss(v):
        return fnp.sum(ft.vmap(_sqrt_or_double)(v))
    h = ft.jit(ft.hessian(loss))(x)
    np.testing.assert_allclose(h, np.diag([0.0, -0.25 * 4.0 ** -1.5]), rtol=1e-12)


@pytest.mark.xfail(strict=True, reason="an operand unbatched under vmap reaches the branch a "
                   "member does not take unmasked (JAX broadcasts it first): the branch's "
                   "nan there reaches its derivative (session 43, left)")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_jit_grad_vmapped_cond_unbatched_operand():
    x = np.array([-1.0, 4.0, 0.0])

    def loss(c, v):
        return fnp.sum(ft.vmap(lambda a: flax.cond(a > 0, lambda b: fnp.sqrt(c * b),
                                                   lambda b: b * 2.0, a))(v))
    got = ft.jit(ft.grad(loss))(1.0, x)  # d/dc sqrt(4c) = 1 at c = 1
    np.testing.assert_allclose(got, 1.0, rtol=1e-12)


# -- checkify of a staged batched cond / while_loop ------------------------------------------

def _log_or_double(x):
    return flax.cond(x[0] > 0, lambda y: fnp.log(y), lambda y: y * 2.0, x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_checkify_staged_vmapped_cond_untaken_branch_not_reported(backend):
    # fuzzer seed 74206: no member takes log where its entries are <= 0
    x = np.array([0.0, -1.0553, -0.9616])
    X = backend.asarray(np.stack([x, x[::-1], np.abs(x) + 0.5]))
    f = ft.vmap(_log_or_double)
    forms = {"checkify(vmap)": checkify.checkify(f, errors=checkify.float_checks),
             "jit(checkify(vmap))": ft.jit(checkify.checkify(f, errors=checkify.float_checks)),
             "checkify(jit(vmap))": checkify.checkify(ft.jit(f), errors=checkify.float_checks),
             "vmap(checkify)": ft.jit(ft.vmap(checkify.checkify(
                 _log_or_double, errors=checkify.float_checks)))}
    want = backend.to_numpy(f(X))
    for name, g in forms.items():
        err, out = g(X)
        assert err.get() is None, name
        np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-14)
    # a member that takes log with a negative entry: reported by every form
    Y = backend.asarray(np.array([[0.5, -1.0, 2.0], [-1.0, -2.0, 3.0]]))
    for name, g in forms.items():
        msg = g(Y)[0].get()
        assert msg is not None and "nan generated by primitive: log" in msg, name


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_checkify_staged_vmapped_cond_untaken_index_and_user_check():
    def f(x, i):
        def taken(y):
            checkify.check(y[0] < 10.0, "big {}", y[0])
            return y + y[i]
        return flax.cond(i >= 0, taken, lambda y: y * 2.0, x)
    X = np.array([[1.0, 2.0], [50.0, 1.0], [3.0, 4.0]])
    idx = np.array([1, -7, 0])  # member 1 takes the other branch: its index and value unseen
    errs = checkify.index_checks | checkify.user_checks
    for g in (checkify.checkify(ft.vmap(f), errors=errs),
              ft.jit(checkify.checkify(ft.vmap(f), errors=errs)),
              checkify.checkify(ft.jit(ft.vmap(f)), errors=errs)):
        assert g(X, idx)[0].get() is None
    idx2 = np.array([1, 0, 5])  # member 1's check and member 2's index now fail
    for g in (checkify.checkify(ft.vmap(f), errors=errs),
              ft.jit(checkify.checkify(ft.vmap(f), errors=errs))):
        assert g(X, idx2)[0].get().startswith("big 50.0")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_checkify_staged_vmapped_while_finished_members_not_reported():
    def w(c):
        return flax.while_loop(lambda c: c[0] < 3.0,
                               lambda c: fnp.stack([c[0] + 1.0, fnp.log(c[1])]), c)
    X = np.array([[2.5, 0.5], [0.5, 5.0]])  # member 0 done after one step, member 1 three
    want = np.array([[3.5, np.log(0.5)], [3.5, np.log(np.log(np.log(5.0)))]])
    for g in (checkify.checkify(ft.vmap(w), errors=checkify.nan_checks),
              ft.jit(checkify.checkify(ft.vmap(w), errors=checkify.nan_checks)),
              checkify.checkify(ft.jit(ft.vmap(w)), errors=checkify.nan_checks)):
        err, out = g(X)
        assert err.get() is None
        np.testing.assert_allclose(out, want, rtol=1e-14)
    # a member whose own steps make the nan: reported
    Z = np.array([[2.5, 0.5], [0.5, 0.5]])
    assert "log" in ft.jit(checkify.checkify(ft.vmap(w), errors=checkify.nan_checks))(Z)[0].get()


# -- scatter_max / scatter_min, mode='clip': derivatives at the clipped slot ----------------

@pytest.mark.parametrize("kind", ["scatter_max", "scatter_min"])
def test_scatter_minmax_clip_derivatives(kind):
    # JAX 0.10.2: jvp nan at the clipped slot, grad inf for its update (by hand: below)
    x = np.array([0.3, -0.2, 0.1])
    ind = np.array([[5], [1]])  # 5 clipped to 2
    u = np.array([0.7, -0.5]) if kind == "scatter_max" else np.array([-0.7, 0.5])
    dn = flax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                      scatter_dims_to_operand_dims=(0,))

    def f(a, b):
        return getattr(flax, kind)(a, ind, b, dn, mode="clip")
    tx, tu = np.array([1.0, 1.0, 1.0]), np.array([2.0, 2.0])
    y, t = ft.jvp(f, (x, u), (tx, tu))
    fd = (np.asarray(f(x + 1e-6 * tx, u + 1e-6 * tu))
          - np.asarray(f(x - 1e-6 * tx, u - 1e-6 * tu))) / 2e-6
    np.testing.assert_allclose(t, fd, rtol=1e-8)
    np.testing.assert_allclose(t, [1.0, 1.0, 2.0])  # slot 2 is the update's; slot 1 kept x's
    g = ft.grad(lambda a, b: fnp.sum(fnp.sin(f(a, b))), argnums=(0, 1))(x, u)
    np.testing.assert_allclose(g[0], [np.cos(0.3), np.cos(-0.2), 0.0], rtol=1e-14)
    np.testing.assert_allclose(g[1], [np.cos(u[0]), 0.0], rtol=1e-14)
