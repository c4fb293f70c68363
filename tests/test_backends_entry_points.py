"""Third-party backends through the ``functrans.backends`` entry-point group.

The toy package in ``tests/fake_backend_pkg`` is made importable and given a real
``.dist-info`` (METADATA + entry_points.txt written from its pyproject.toml) in a temporary
folder on ``sys.path``: importlib.metadata then finds its entry point exactly as it would for
a pip-installed package.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import functrans as ft
import functrans.backends as fb
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError, UnsupportedBackendError

PKG = Path(__file__).parent / "fake_backend_pkg"


def _install_dist_info(site: Path, name: str, version: str, entry_points: dict[str, str]):
    dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"{k} = {v}" for k, v in entry_points.items()]
    (dist / "entry_points.txt").write_text("[functrans.backends]\n" + "\n".join(lines) + "\n")


def _cleanup(names):
    for n in names:
        fb.unregister(n)
    for m in [m for m in sys.modules if m.startswith("functrans_fake_backend")]:
        del sys.modules[m]
    importlib.invalidate_caches()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake backend package, installed as far as importlib.metadata can tell."""
    meta = tomllib.loads((PKG / "pyproject.toml").read_text())["project"]
    eps = meta["entry-points"]["functrans.backends"]
    assert eps == {"fake": "functrans_fake_backend:make_backend"}
    _install_dist_info(tmp_path, meta["name"], meta["version"], eps)
    monkeypatch.syspath_prepend(str(PKG / "src"))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    _cleanup(["fake"])
    import functrans_fake_backend
    yield functrans_fake_backend
    _cleanup(["fake"])


def test_entry_point_is_visible(fake):
    assert "fake" in fb.available_backends()
    assert "fake" not in fb._by_name  # nothing is loaded before it is needed


def test_loaded_lazily_when_its_array_type_is_seen(fake):
    x = fake.asarray([0.5, -1.0, 2.0])
    g = ft.grad(lambda x: fnp.sum(fnp.sin(x) * x))(x)  # the first FakeArray functrans sees
    assert type(g) is fake.FakeArray
    xn = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(g._a, np.cos(xn) * xn + np.sin(xn), rtol=1e-13)
    b = fb.backend_of(x)
    assert b.name == "fake" and fb.get_backend("fake") is b


def test_every_transform_through_it(fake):
    x = fake.asarray([0.5, -1.0, 2.0])

    def f(x):
        return fnp.sum(fnp.tanh(x) * x)
    h = ft.hessian(f)(x)
    assert type(h) is fake.FakeArray and h.shape == (3, 3)
    hr = ft.jacrev(ft.jacfwd(f))(x)
    np.testing.assert_allclose(h._a, hr._a, rtol=1e-12)
    y, ty = ft.jvp(fnp.sin, (x,), (x,))
    assert type(y) is type(ty) is fake.FakeArray
    _, vjp_fun = ft.vjp(fnp.sin, x)
    assert type(vjp_fun(x)[0]) is fake.FakeArray


def test_loaded_by_name_and_as_default(fake):
    b = fb.get_backend("fake")
    with ft.default_backend("fake"):
        g = ft.grad(fnp.sin)(0.0)
        assert type(g) is fake.FakeArray and float(g._a) == 1.0
    assert fb.default().name == "numpy"
    assert b.extra("scatter_add").func.__module__ == "functrans.backends.generic"
    out = b.extra("scatter_add")(fake.asarray([0.0, 0.0, 0.0]), fake.asarray([2, 0, 2]),
                                 fake.asarray([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out._a, [2.0, 0.0, 4.0])
    np.testing.assert_allclose(b.extra("erf")(fake.asarray([0.5]))._a, [0.5204998778130465])


def test_mixing_with_numpy_is_an_error(fake):
    x = fake.asarray([1.0, 2.0])
    with pytest.raises(BackendMismatchError, match="'fake'.*'numpy'"):
        ft.grad(lambda x: fnp.sum(x * np.ones(2)))(x)


def test_broken_entry_points(tmp_path, monkeypatch):
    _install_dist_info(tmp_path, "broken-backend", "1.0",
                       {"broken": "no_such_module_for_functrans:make",
                        "notabackend": "math:pi"})
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    try:
        with pytest.raises(UnsupportedBackendError,
                           match="Loading backend 'broken'.*ModuleNotFoundError"):
            fb.get_backend("broken")
        with pytest.raises(UnsupportedBackendError, match="must name a functrans Backend"):
            fb.get_backend("notabackend")

        class Unknown:
            pass
        # An unknown array type: the broken plugins are skipped with a warning, and the
        # error says that no backend owns the type.
        fb._loaded_eps.difference_update({"broken", "notabackend"})
        with pytest.warns(RuntimeWarning, match="skipping backend entry point"):
            with pytest.raises(UnsupportedBackendError, match="belong to no functrans"):
                fb.backend_of(Unknown())
    finally:
        _cleanup(["broken", "notabackend"])
