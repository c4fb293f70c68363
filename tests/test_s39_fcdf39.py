"""Session 39 (fcdf39): f.cdf (and special._inc_beta) at a tiny denominator df.

Where ``b = dfd/2`` is tiny, ``I_u(a, b)`` is about ``b (log(1/w) - psi(a) - gamma)`` and
``u = dfn x / (dfn x + dfd)`` rounds to 1: the subtraction ``1 - I_w(b, a)`` and the direct
form's shift lose ``eps / I`` (f.cdf(1e12, 0.01, 1e-12) was 3.6e-5 off, f.cdf(1e8, 3, 1e-8)
6.1e-10). Eagerly _inc_beta now takes those values from a series in ``b`` and ``w``
(special._inc_beta_small_b), its derivatives unchanged; jit keeps the plain forms.

References: mpmath at 60 digits (1 - betainc(b, a, 0, w) with w = dfd / (dfn x + dfd)
exact; the density in logs; the dfd slope by mp.diff), pinned below."""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats


def _rel(got, want):
    return abs(float(got) - want) / abs(want)


# (x, dfn, dfd, cdf, pdf)
_TINY_DFD = [
    (1e8, 3., 1e-8, 1.8663132328171272681e-7, 4.999999066843383446e-17),
    (300., 1e8, 1e-8, 1.2120196639702098363e-7, 1.6666664646356115989e-11),
    (1e12, 1e-2, 1e-12, 1.2532433863330282949e-10, 4.9999999993733782063e-25),
    (0.1, 100., 1e-12, 1.2727200435218296475e-11, 4.9999999999113636197e-12),
    (1e5, 0.3, 1e-6, 1.5283998129566560089e-5, 4.9999235799843522522e-12),
]


@pytest.mark.parametrize("x, n, m, cdf, pdf", _TINY_DFD)
def test_f_cdf_at_a_tiny_dfd(backend, x, n, m, cdf, pdf):
    # (before: 6.1e-10, 3.7e-10, 3.6e-5, 5e-6, 1e-12 off)
    args = [backend.asarray(v) for v in (x, n, m)]
    assert _rel(backend.to_numpy(stats.f.cdf(*args)), cdf) < 2e-15
    # sf near 1 (the direct betainc(dfd/2, dfn/2, w), unchanged: the generic backends'
    # within 8 ulp of 1, NumPy's 1)
    tol = 2.3e-16 if backend.name == "numpy" else 2e-15
    assert abs(float(backend.to_numpy(stats.f.sf(*args))) - (1.0 - cdf)) < tol


def test_f_cdf_at_a_tiny_dfd_batched():
    xs, ns, ms, cdfs, _ = (np.array(v) for v in zip(*_TINY_DFD))
    for got in (stats.f.cdf(xs, ns, ms), ft.vmap(stats.f.cdf)(xs, ns, ms)):
        assert np.all(np.abs(np.asarray(got) / cdfs - 1) < 2e-15)
    # (staged code: the series' values at evaluation since session 40; were 3.6e-5 off)
    staged = ft.jit(stats.f.cdf)(xs * 1.0, ns, ms)
    assert np.all(np.abs(np.asarray(staged) / cdfs - 1) < 2e-15)


@pytest.mark.parametrize("x, n, m, cdf, pdf", _TINY_DFD)
def test_f_cdf_at_a_tiny_dfd_x_slope(x, n, m, cdf, pdf):
    # (the values only were replaced: the derivatives are the density, eagerly and batched)
    assert _rel(ft.grad(stats.f.cdf)(x, n, m), pdf) < 1e-14
    got = ft.vmap(ft.grad(stats.f.cdf))(np.array([x, x]), np.array([n, n]), np.array([m, m]))
    assert np.all(np.abs(np.asarray(got) / pdf - 1) < 1e-14)
    assert _rel(ft.grad(stats.f.sf)(x, n, m), -pdf) < 1e-14


def test_f_cdf_at_a_tiny_dfd_all_slopes():
    gx, gn, gm = ft.grad(stats.f.cdf, argnums=(0, 1, 2))(1e8, 3., 1e-8)
    assert _rel(gx, 4.999999066843383446e-17) < 1e-14
    assert _rel(gm, 18.163130680811948779) < 1e-9


# (a, b, y, I_(1-y)(a, b)): inside the series' selection, at its edges, and just outside
@pytest.mark.parametrize("a, b, y, want", [
    (1.5, 5e-9, 2.0 ** -60, 2.0487560499545007089e-7),
    (2.5e7, 3e-13, 1e-25, 1.1985907589063382732e-11),
    (0.004, 2.0 ** -8, 2.0 ** -6, 0.50218077839365849614),
    (0.7, 1e-6, 1e-3, 7.5502339728119022225e-6),
    (3e3, 1e-10, 2.0 ** -6 / (3e3 - 1), 3.5970649012097303705e-10),
    (1.0, 1e-12, 1e-30, 6.9077552787435514898e-11),
    (3e3, 1e-10, 2.0 ** -6 / (3e3 - 1) * 1.01, 3.5872696003526123456e-10),
    (0.7, 2.0 ** -8 * 1.01, 1e-3, 0.029339914499142412879),
])
def test_inc_beta_at_a_tiny_b(backend, a, b, y, want):
    args = [backend.asarray(v) for v in (a, b, 1.0 - y, y)]
    # (just above _SMALL_B_MAX the plain forms: there the generic backends' betainc is
    # 1.5e-14 (torch) and 5.7e-14 (array-api-strict) off, NumPy's (SciPy's) exact)
    tol = 2e-15 if b <= special._SMALL_B_MAX or backend.name == "numpy" else 1e-13
    assert _rel(backend.to_numpy(special._inc_beta(*args)), want) < tol
