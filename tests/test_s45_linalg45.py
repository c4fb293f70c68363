"""Session 45, linalg45: spectral second derivatives at ties, host reads of the linalg impls.

- eigvalsh's and svdvals' (eigh's w, svd's S) reverse-over-forward second derivatives at a
  tie: the transpose of the spectral maps' tie term is strong per matrix in the cotangent,
  no longer per entry: jacrev(jacfwd) of sum((w - w0)^2) with w0 = (1, 1, 3) at
  diag(1, 1, 2) (the tied pair's weights 0 by coincidence, the third read) was a silent 0
  where central differences give 1; now nan there, as fwd(rev). (A cotangent 0 on the whole
  matrix, w0 = w(x0), stays the known strict xfail of test_s44_linalg44: bit for bit the
  cotangent of another matrix of a stack.)
- The host reads of adjugate's (det's derivative) and eig's impls only on the host: on a
  device (torch CPU taken as one), eager and under jit, none, with the same values.
"""

import importlib.util
import itertools
import pathlib

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg

_TIED = np.diag([1.0, 1.0, 2.0])


def _fd2(g, x, a, b, step=1e-4):
    return (g(x + step * a + step * b) - g(x + step * a - step * b)
            - g(x - step * a + step * b) + g(x - step * a - step * b)) / (4 * step * step)


def _hessian_by_differences(g, x):
    n, m = x.shape
    want = np.zeros((n, m, n, m))
    for i, j, k, q in itertools.product(range(n), range(m), range(n), range(m)):
        a, b = np.zeros((n, m)), np.zeros((n, m))
        a[i, j], b[k, q] = 1.0, 1.0
        want[i, j, k, q] = _fd2(g, x, a, b)
    return want


# -- reverse over forward: the tie term's transpose strong per matrix ------------------------

_W0 = np.array([1.0, 1.0, 3.0])   # (the tied pair's targets are its values; the third is not)

_ROF = {
    "eigvalsh": (lambda x: fnp.sum((la.eigvalsh(x) - _W0) ** 2),
                 lambda x: np.sum((np.linalg.eigvalsh((x + x.T) / 2) - _W0) ** 2)),
    "eigh w": (lambda x: fnp.sum((la.eigh(x)[0] - _W0) ** 2),
               lambda x: np.sum((np.linalg.eigvalsh((x + x.T) / 2) - _W0) ** 2)),
    "svdvals": (lambda x: fnp.sum((la.svdvals(x) - _W0[::-1]) ** 2),
                lambda x: np.sum((np.linalg.svd(x)[1] - _W0[::-1]) ** 2)),
    "svd S": (lambda x: fnp.sum((la.svd(x)[1] - _W0[::-1]) ** 2),
              lambda x: np.sum((np.linalg.svd(x)[1] - _W0[::-1]) ** 2)),
}


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("name", sorted(_ROF))
def test_reverse_over_forward_at_a_tie_is_nan_not_a_silent_zero(name, jit):
    f, ref = _ROF[name]
    want = _hessian_by_differences(ref, _TIED)
    h = ft.jacrev(ft.jacfwd(f))
    got = np.asarray((ft.jit(h) if jit else h)(_TIED))
    fin = np.isfinite(got)
    # (was finite throughout, 0 at the x_01 / x_10 pairs where the differences give 1)
    np.testing.assert_allclose(got[fin], want[fin], atol=1e-6)
    assert not fin[0, 1, 0, 1] and not fin[1, 0, 1, 0]
    # (fwd(rev), the Hessian's nesting, was nan there already)
    assert np.isnan(np.asarray(ft.hessian(f)(_TIED))[0, 1, 0, 1])


def test_reverse_over_forward_leaves_the_other_matrices_of_a_stack_at_zero():
    rng = np.random.default_rng(4501)
    x = np.stack([rng.normal(size=(3, 3)), _TIED])
    w1 = np.linalg.eigvalsh((x[0] + x[0].T) / 2)
    f = lambda m: fnp.sum((la.eigvalsh(m)[0] - w1 - 0.5) ** 2)             # noqa: E731
    got = np.asarray(ft.jacrev(ft.jacfwd(f))(x)).reshape(2, 9, 2, 9)
    np.testing.assert_array_equal(got[1], 0.0)
    np.testing.assert_array_equal(got[:, :, 1], 0.0)
    want = _hessian_by_differences(
        lambda m: np.sum((np.linalg.eigvalsh((m + m.T) / 2) - w1 - 0.5) ** 2), x[0])
    np.testing.assert_allclose(got[0, :, 0], want.reshape(9, 9), atol=1e-6)


# -- host reads: adjugate's and eig's impls read-free on a device ----------------------------

def _host_reads():
    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "host_reads.py"
    spec = importlib.util.spec_from_file_location("_host_reads_s45", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _singular_stack():
    rng = np.random.default_rng(4502)
    a = rng.normal(size=(3, 4, 4))
    a[1] = np.outer([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 1.0, 2.0])   # (rank 1: adj 0)
    a[2, :, 1] = 0.0                                               # (rank 3)
    return a


_DEVICE_CASES = {
    "grad det": (lambda m: ft.grad(lambda y: fnp.sum(la.det(y)))(m), _singular_stack),
    "jit grad det": (ft.jit(ft.grad(lambda y: fnp.sum(la.det(y)))), _singular_stack),
    "eig": (lambda m: la.eig(m)[1], lambda: np.random.default_rng(4503).normal(size=(2, 3, 3))),
    "jit eig nan": (ft.jit(lambda m: la.eig(m)[0]),
                    lambda: np.where(np.arange(18).reshape(2, 3, 3) == 4, np.nan,
                                     np.random.default_rng(4504).normal(size=(2, 3, 3)))),
    "jit grad eig": (ft.jit(ft.grad(lambda y: fnp.sum(fnp.real(la.eig(y)[0])))),
                     lambda: np.random.default_rng(4505).normal(size=(2, 3, 3))),
}


@pytest.mark.parametrize("name", sorted(_DEVICE_CASES))
def test_adjugate_and_eig_read_nothing_on_a_device(monkeypatch, name):
    torch = pytest.importorskip("torch")
    from functrans.backends import torch_backend
    fn, make = _DEVICE_CASES[name]
    x = torch.tensor(make())
    on_host = fn(x).numpy()
    monkeypatch.setattr(torch_backend, "_on_host", lambda a: False)
    counter = _host_reads().counter_for("torch")
    fn(x)   # (jit: traced before the count)
    with counter.installed():
        reads, sites = counter.measure(lambda: fn(x))
    assert reads == 0, dict(sites)
    np.testing.assert_array_equal(fn(x).numpy(), on_host)
    want = np.asarray(fn(make()))   # (NumPy's)
    np.testing.assert_allclose(on_host, want, rtol=1e-10, atol=1e-12)
