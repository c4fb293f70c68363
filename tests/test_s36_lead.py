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
