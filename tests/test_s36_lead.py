"""Session 36, lead: an operator between functrans.numpy's array and another library's array
raises BackendMismatchError in both orders, without first copying the other array to NumPy."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError

torch = pytest.importorskip("torch")


@pytest.fixture
def host_copies(monkeypatch):
    count = [0]
    original = torch.Tensor.__array__

    def counted(self, *args, **kwargs):
        count[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "__array__", counted)
    return count


@pytest.mark.parametrize("expr", ["t + a", "a + t", "t * a", "a @ t", "t - a", "a == t"])
def test_operator_with_a_tensor_raises_without_a_host_copy(expr, host_copies):
    t = torch.ones(2, 2, dtype=torch.float64)
    a = fnp.eye(2)
    with pytest.raises(BackendMismatchError, match="numpy"):
        eval(expr)
    assert host_copies[0] == 0


def test_constant_beside_a_tensor_inside_a_transform_makes_no_host_copy(host_copies):
    x = torch.arange(16.0, dtype=torch.float64)
    g = ft.grad(lambda v: (fnp.reshape(v, (4, 4)) + fnp.eye(4)).sum())(x)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_array_equal(g.numpy(), np.ones(16))
    assert host_copies[0] == 0


def test_expm1_derivative_accurate_far_below_zero():
    # d/dx expm1 = exp(x): it was formed as expm1(x) + 1, which is 0 below about -37
    mp = pytest.importorskip("mpmath")
    xs = np.array([-745.0, -100.0, -40.0, -20.0, -1e-10, 0.0, 1e-10, 3.0, 700.0])
    with mp.workdps(30):
        want = np.array([float(mp.exp(mp.mpf(v))) for v in xs])
    for way in (ft.vmap(ft.grad(fnp.expm1)), ft.vmap(ft.grad(ft.grad(fnp.expm1))),
                ft.jit(ft.vmap(ft.grad(fnp.expm1))),
                lambda v: ft.jvp(fnp.expm1, (v,), (np.ones_like(v),))[1]):
        np.testing.assert_allclose(way(xs), want, rtol=2e-16, atol=0)


def test_truncnorm_branch_pruning_under_vmap_with_unaligned_masks():
    # under vmap the arrays behind the branches' masks hold the batch axis where each
    # tracer puts it (or none): statsperf36's pruning combined them elementwise (in
    # tests/test_vmap_table.py's truncnorm cases: shapes (3, 3) and (3, 2, 3)); now each
    # mask is read alone there. Each row must equal its own unbatched call.
    st = pytest.importorskip("functrans.scipy.stats")
    x = np.array([[-0.5, 0.2, 1.0], [0.1, 0.4, 2.5], [-3.0, 0.0, 0.7]])
    a = np.array([[[-1.0, -40.0, 0.5]], [[-2.0, 0.0, -9.0]]])  # (2, 1, 3): batched on axis 2
    b = np.array([1.5, 3.0, 38.0])
    for method in ("cdf", "sf", "logcdf", "logsf"):
        f = getattr(st.truncnorm, method)
        got = ft.vmap(f, in_axes=(0, 2, 0))(x, a, b)
        want = np.stack([f(x[i], a[..., i], b[i]) for i in range(3)])
        assert got.shape == (3, 2, 3)
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, equal_nan=True)
        g = ft.vmap(ft.grad(lambda xi, ai, bi: f(xi, ai, bi).sum()), in_axes=(0, 2, 0))(x, a, b)
        gw = np.stack([ft.grad(lambda xi: f(xi, a[..., i], b[i]).sum())(x[i])
                       for i in range(3)])
        np.testing.assert_allclose(g, gw, rtol=1e-14, atol=1e-300, equal_nan=True)
