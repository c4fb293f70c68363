"""functrans.lax.linalg's eig, schur, qdwh, hessenberg, tridiagonal, householder_product,
ormqr, cholesky_update and symmetric_product: values against LAPACK (through SciPy) and
NumPy, the packed conventions against JAX's where it is installed, derivatives checked
numerically, on every backend that has the underlying operations (a clear error where not)."""

from __future__ import annotations


import numpy as np
import pytest
import scipy.linalg as sla
import scipy.linalg.lapack as lapack

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import UnsupportedBackendError
from functrans.lax import linalg as L
from functrans.testing import check_grads

try:
    import jax as _jax_module  # noqa: F401
    HAS_JAX = True
except ImportError:
    HAS_JAX = False
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed")

RNG = np.random.default_rng(7)
# the libraries with a general eigensolver (the others raise UnsupportedBackendError)
EIG_BACKENDS = ("numpy", "torch", "cupy")


def _mat(n, m=None, cplx=False):
    m = n if m is None else m
    a = RNG.standard_normal((n, m))
    return a + 1j * RNG.standard_normal((n, m)) if cplx else a


def _put(backend, x):
    x = np.asarray(x)
    return backend.asarray(x, dtype=x.dtype.name)


def _np(backend, x):
    return backend.to_numpy(x)


def _close(got, want, tol=1e-10):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


# -- the packed Householder forms, against LAPACK -------------------------------------------

@pytest.mark.parametrize("cplx", [False, True])
def test_hessenberg_is_lapack_gehrd(backend, cplx):
    a = _mat(5, cplx=cplx)
    out, taus = L.hessenberg(_put(backend, a))
    ref = (lapack.zgehrd if cplx else lapack.dgehrd)(a)
    _close(_np(backend, out), ref[0])
    _close(_np(backend, taus), ref[1][:4])
    # the reflectors rebuild Q, and a = Q H Q^H
    q = _np(backend, L.householder_product(out[..., 1:, :-1], taus))
    qfull = np.eye(5, dtype=a.dtype)
    qfull[1:, 1:] = q
    h = np.triu(_np(backend, out), -1)
    _close(qfull @ h @ qfull.conj().T, a)


@pytest.mark.parametrize("cplx", [False, True])
@pytest.mark.parametrize("lower", [True, False])
def test_tridiagonal_is_lapack_sytrd(backend, cplx, lower):
    a = _mat(5, cplx=cplx)
    out, d, e, taus = L.tridiagonal(_put(backend, a), lower=lower)
    ref = (lapack.zhetrd if cplx else lapack.dsytrd)(a, lower=int(lower))
    for got, want in zip((out, d, e, taus), ref[:4]):
        _close(_np(backend, got), want)
    d, e = _np(backend, d), _np(backend, e)
    assert d.dtype == e.dtype == np.float64
    # T's eigenvalues are those of the Hermitian matrix the triangle defines
    tri = np.tril(a, -1) if lower else np.triu(a, 1)
    herm = tri + tri.conj().T + np.diag(a.diagonal().real)
    t = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
    _close(np.linalg.eigvalsh(t), np.linalg.eigvalsh(herm))


def test_tridiagonal_batched_and_vmapped(backend):
    a = RNG.standard_normal((3, 4, 4))
    outs = L.tridiagonal(_put(backend, a))
    mapped = ft.vmap(L.tridiagonal)(_put(backend, a))
    for i in range(3):
        ref = lapack.dsytrd(a[i], lower=1)
        for got, again, want in zip(outs, mapped, ref[:4]):
            _close(_np(backend, got)[i], want)
            _close(_np(backend, again)[i], want)


@pytest.mark.parametrize("cplx", [False, True])
def test_householder_product_is_lapack_orgqr(backend, cplx):
    a = _mat(6, 4, cplx=cplx)
    qr, tau = (lapack.zgeqrf if cplx else lapack.dgeqrf)(a)[:2]
    q = L.householder_product(_put(backend, qr), _put(backend, tau[:3]))
    want = (lapack.zungqr if cplx else lapack.dorgqr)(qr[:, :4], tau[:3])[0]
    _close(_np(backend, q), want)
    # with every reflector, Q R is a again
    q = _np(backend, L.householder_product(_put(backend, qr), _put(backend, tau)))
    _close(q @ np.triu(qr[:4]), a)


@pytest.mark.parametrize("cplx", [False, True])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_is_lapack_ormqr(backend, cplx, left, transpose):
    a = _mat(5, 3, cplx=cplx)
    qr, tau = (lapack.zgeqrf if cplx else lapack.dgeqrf)(a)[:2]
    c = _mat(5, 2, cplx=cplx) if left else _mat(2, 5, cplx=cplx)
    got = L.ormqr(_put(backend, qr), _put(backend, tau), _put(backend, c), left=left,
                  transpose=transpose)
    trans = ("C" if cplx else "T") if transpose else "N"
    want = (lapack.zunmqr if cplx else lapack.dormqr)("L" if left else "R", trans, qr, tau, c,
                                                      lwork=64)[0]
    _close(_np(backend, got), want)


# -- cholesky_update, symmetric_product ---------------------------------------------------

def test_cholesky_update_values(backend):
    a = _mat(5)
    r = np.linalg.cholesky(a @ a.T + np.eye(5)).T
    w = RNG.standard_normal(5)
    got = _np(backend, L.cholesky_update(_put(backend, r), _put(backend, w)))
    _close(got, np.linalg.cholesky(r.T @ r + np.outer(w, w)).T)
    assert np.allclose(np.tril(got, -1), 0)


def test_symmetric_product_values(backend):
    a, c = _mat(4, 3), _mat(4)
    c = c + c.T
    got = L.symmetric_product(_put(backend, a), _put(backend, c), alpha=0.5, beta=-2.0,
                              symmetrize_output=True)
    _close(_np(backend, got), 0.5 * a @ a.T - 2.0 * c)


# -- qdwh ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cplx", [False, True])
def test_qdwh_is_the_polar_decomposition(backend, cplx):
    x = _mat(6, 4, cplx=cplx)
    u, h, k, ok = L.qdwh(_put(backend, x))
    pu, ph = sla.polar(x)
    _close(_np(backend, u), pu, 1e-9)
    _close(_np(backend, h), ph, 1e-9)
    assert bool(_np(backend, ok)) and 1 <= int(_np(backend, k)) <= 10


def test_qdwh_stops_at_max_iterations():
    x = _mat(5, 5)
    u, h, k, ok = L.qdwh(x, max_iterations=1)
    assert int(k) == 1 and not bool(ok)
    # (one step is not the polar factor yet)
    assert np.abs(np.asarray(u) - sla.polar(x)[0]).max() > 1e-3


def test_qdwh_under_jit_and_vmap():
    xs = RNG.standard_normal((3, 5, 3))
    us, hs, ks, oks = ft.vmap(ft.jit(L.qdwh))(xs)
    for i in range(3):
        pu, ph = sla.polar(xs[i])
        _close(us[i], pu, 1e-9)
        _close(hs[i], ph, 1e-9)
    assert np.all(np.asarray(oks))


def test_qdwh_derivatives(backend):
    x = _put(backend, _mat(4, 3))
    check_grads(lambda x: L.qdwh(x)[:2], (x,), order=2)


# -- eig -----------------------------------------------------------------------------------

def _eig_matrix():
    # well-separated eigenvalues, some complex
    return np.array([[2.0, 1.0, 0.3, 0.0], [-1.5, 2.2, 0.1, 0.4], [0.2, 0.0, -1.0, 0.5],
                     [0.0, 0.3, 0.2, 0.5]])


@pytest.mark.parametrize("cplx", [False, True])
def test_eig_values_and_vectors(backend, cplx):
    a = _eig_matrix() + (0.3j * _mat(4) if cplx else 0)
    x = _put(backend, a)
    if backend.name not in EIG_BACKENDS:
        with pytest.raises(UnsupportedBackendError):
            L.eig(x)
        return
    w, vl, vr = (_np(backend, t) for t in L.eig(x))
    _close(np.sort_complex(w), np.sort_complex(np.linalg.eigvals(a)))
    _close(a @ vr, vr * w)
    _close(vl.conj().T @ a, w[:, None] * vl.conj().T)
    for v in (vl, vr):
        _close(np.linalg.norm(v, axis=0), np.ones(4))
        big = v[np.abs(v).argmax(axis=0), range(4)]
        _close(big.imag, np.zeros(4))
    assert len(L.eig(x, compute_left_eigenvectors=False)) == 2
    only = L.eig(x, compute_left_eigenvectors=False, compute_right_eigenvectors=False)
    assert len(only) == 1
    _close(_np(backend, only[0]), w)


def test_eig_derivatives(backend):
    if backend.name not in EIG_BACKENDS:
        pytest.skip(f"{backend.name} has no eig (test_eig_values_and_vectors checks the error)")
    x = _put(backend, _eig_matrix())

    def values(x):
        (w,) = L.eig(x, compute_left_eigenvectors=False, compute_right_eigenvectors=False)
        return fnp.real(w), fnp.imag(w)
    check_grads(values, (x,), order=2)

    def vectors(x):   # phase-free functions of the eigenvectors
        w, vl, vr = L.eig(x, enable_eigvec_derivs=True)
        return fnp.abs(vl) ** 2, fnp.abs(vr) ** 2, fnp.real(w)
    check_grads(vectors, (x,), order=1)


def test_eig_vector_derivatives_need_the_flag():
    x = _eig_matrix()
    with pytest.raises(NotImplementedError, match="enable_eigvec_derivs"):
        ft.grad(lambda x: fnp.sum(fnp.abs(L.eig(x)[2])))(x)
    with pytest.raises(NotImplementedError, match="enable_eigvec_derivs"):
        ft.jvp(lambda x: L.eig(x, compute_left_eigenvectors=False)[0], (x,), (x,))


# -- schur ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cplx", [False, True])
def test_schur(backend, cplx):
    a = _mat(5, cplx=cplx)
    x = _put(backend, a)
    if backend.name != "numpy":
        with pytest.raises(UnsupportedBackendError):
            L.schur(x)
        return
    t, vs = L.schur(x)
    want = sla.schur(a, output="complex" if cplx else "real")
    _close(t, want[0])
    _close(vs, want[1])
    assert np.asarray(t).dtype == a.dtype
    (t_only,) = L.schur(x, compute_schur_vectors=False)
    _close(t_only, want[0])
    with pytest.raises(NotImplementedError, match="sort"):
        L.schur(x, sort_eig_vals=True)
    with pytest.raises(NotImplementedError):
        ft.grad(lambda x: fnp.sum(L.schur(x)[0]))(a.real)


# -- derivatives of the Householder forms --------------------------------------------------

def test_householder_forms_derivatives(backend):
    a = _put(backend, _mat(4))
    check_grads(lambda a: L.hessenberg(a), (a,), order=2)
    check_grads(lambda a: L.tridiagonal(a)[1:], (a,), order=2)
    check_grads(lambda a: L.tridiagonal(a, lower=False)[1:], (a,), order=1)
    qr, tau = lapack.dgeqrf(_mat(5, 3))[:2]
    qr, tau, c = _put(backend, qr), _put(backend, tau), _put(backend, _mat(5, 2))
    check_grads(L.householder_product, (qr, tau), order=2)
    check_grads(lambda a, t, c: L.ormqr(a, t, c, transpose=True), (qr, tau, c), order=1)


def test_complex_householder_derivatives():
    # (check_grads takes real arrays: the complex matrix is re + i im, each output split)
    re, im = _mat(4), _mat(4)

    def split(f):
        def g(re, im):
            outs = f(re + 1j * im)
            return [p for o in outs for p in ((fnp.real(o), fnp.imag(o))
                                               if o.dtype.kind == "c" else (o,))]
        return g
    check_grads(split(L.hessenberg), (re, im), order=1)
    check_grads(split(lambda a: L.tridiagonal(a, lower=False)), (re, im), order=1)
    qr, tau = lapack.zgeqrf(_mat(5, 3, cplx=True))[:2]
    check_grads(lambda *p: [fnp.real(L.householder_product(p[0] + 1j * p[1],
                                                           p[2] + 1j * p[3])),
                            fnp.imag(L.ormqr(p[0] + 1j * p[1], p[2] + 1j * p[3],
                                             fnp.eye(5), transpose=True))],
                (qr.real, qr.imag, tau.real, tau.imag), order=1)
    check_grads(split(lambda x: L.qdwh(x)[:2]), (_mat(4, 3), _mat(4, 3)), order=1)


def test_update_and_product_derivatives(backend):
    a = _mat(4)
    r = _put(backend, np.linalg.cholesky(a @ a.T + np.eye(4)).T)
    w, c = _put(backend, RNG.standard_normal(4)), _put(backend, a + a.T)
    check_grads(L.cholesky_update, (r, w), order=2)
    check_grads(lambda a, c: L.symmetric_product(a, c, alpha=2.0, beta=0.5),
                (_put(backend, _mat(4, 3)), c), order=2)


# -- errors --------------------------------------------------------------------------------

def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="m >= n"):
        L.qdwh(_mat(3, 5))
    with pytest.raises(NotImplementedError, match="dynamic_shape"):
        L.qdwh(_mat(5, 3), dynamic_shape=(4, 3))
    with pytest.raises(ValueError, match="max_iterations"):
        L.qdwh(_mat(5, 3), max_iterations=0)
    with pytest.raises(ValueError, match="at least as many rows"):
        L.householder_product(_mat(3, 5), np.ones(2))
    with pytest.raises(ValueError, match="reflectors"):
        L.householder_product(_mat(5, 3), np.ones(4))
    with pytest.raises(ValueError, match="rows"):
        L.ormqr(_mat(5, 3), np.ones(3), _mat(4, 2))
    with pytest.raises(TypeError, match="complex"):
        L.cholesky_update(np.eye(3) + 0j, np.ones(3))
    with pytest.raises(ValueError, match="expected R"):
        L.cholesky_update(np.eye(3), np.ones(4))
    with pytest.raises(TypeError, match="complex"):
        L.symmetric_product(np.eye(3) + 0j, np.eye(3))
    with pytest.raises(TypeError, match="floating"):
        L.hessenberg(np.eye(3, dtype=int))
    for f in (L.eig, L.schur, L.hessenberg, L.tridiagonal):
        with pytest.raises(ValueError, match="square"):
            f(_mat(3, 4))


def test_namespace_matches_jax():
    assert {"eig", "schur", "qdwh", "hessenberg", "tridiagonal", "householder_product",
            "ormqr", "cholesky_update", "symmetric_product"} <= set(L.__all__)
    for name in L.__all__:
        assert getattr(L, name).__module__ == "functrans.lax.linalg"
    assert L.SvdAlgorithm("polar") is L.SvdAlgorithm.POLAR
    if HAS_JAX:
        import jax.lax.linalg as jl
        public = {n for n in jl.__all__ if not n.endswith("_p")} if hasattr(jl, "__all__") \
            else {n for n in dir(jl) if not n.startswith("_") and not n.endswith("_p")}
        assert public <= set(L.__all__), sorted(public - set(L.__all__))
        for enum_name in ("EigImplementation", "EighImplementation", "SvdAlgorithm"):
            assert ({m.value for m in getattr(jl, enum_name)}
                    == {m.value for m in getattr(L, enum_name)})


# -- side by side with JAX ------------------------------------------------------------------

@needs_jax
@pytest.mark.parametrize("cplx", [False, True])
def test_same_as_jax(cplx):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.lax.linalg as jl
    a = _mat(5, cplx=cplx)
    for got, want in zip(L.hessenberg(a), jl.hessenberg(a)):
        _close(got, want)
    for lower in (True, False):
        for got, want in zip(L.tridiagonal(a, lower=lower), jl.tridiagonal(a, lower=lower)):
            _close(got, want)
    qr, tau = L.hessenberg(a)
    _close(L.householder_product(qr, tau), jl.householder_product(qr, tau))
    c = _mat(5, 2, cplx=cplx)
    for left, transpose in ((True, False), (True, True)):
        _close(L.ormqr(qr, tau, c, left=left, transpose=transpose),
               jl.ormqr(qr, tau, c, left=left, transpose=transpose))
    _close(L.ormqr(qr, tau, c.T, left=False), jl.ormqr(qr, tau, c.T, left=False))
    for got, want in zip(L.schur(a), jl.schur(a)):
        _close(got, want)
    x = _mat(5, 3, cplx=cplx)
    u, h, k, ok = L.qdwh(x)
    ju, jh, jk, jok = jl.qdwh(x)
    _close(u, ju, 1e-9)
    _close(h, jh, 1e-9)
    assert abs(int(k) - int(jk)) <= 1 and bool(ok) == bool(jok)
    w, vl, vr = L.eig(a)
    jw, jvl, jvr = jl.eig(a)
    order, jorder = np.argsort(np.asarray(w)), np.argsort(np.asarray(jw))
    _close(np.asarray(w)[order], np.asarray(jw)[jorder])
    for v, jv in ((vl, jvl), (vr, jvr)):   # equal up to each column's phase
        _close(np.abs(np.asarray(v)[:, order]), np.abs(np.asarray(jv)[:, jorder]))
    if not cplx:
        r = np.linalg.cholesky(a @ a.T + np.eye(5)).T
        w = RNG.standard_normal(5)
        _close(L.cholesky_update(r, w), jl.cholesky_update(r, w))
        _close(L.symmetric_product(a, a + a.T, alpha=2.0, beta=3.0),
               jl.symmetric_product(a, a + a.T, alpha=2.0, beta=3.0))


def test_float32_and_small_sizes():
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    u, h, k, ok = L.qdwh(x)
    assert np.asarray(u).dtype == np.asarray(h).dtype == np.float32 and bool(ok)
    pu, ph = sla.polar(x.astype(np.float64))
    _close(u, pu, 1e-5)
    _close(h, ph, 1e-5)
    for n in (1, 2):
        a = RNG.standard_normal((n, n))
        out, taus = L.hessenberg(a)
        ref = lapack.dgehrd(a)
        _close(out, ref[0])
        assert np.asarray(taus).shape == (n - 1,)
        for got, want in zip(L.tridiagonal(a), lapack.dsytrd(a, lower=1)[:4]):
            _close(got, want)
    q = L.householder_product(RNG.standard_normal((4, 2)), np.zeros(0))
    _close(q, np.eye(4, 2))


def test_reflector_products_under_jit_and_vmap(backend):
    a = RNG.standard_normal((3, 5, 3))
    taus = RNG.standard_normal((3, 3))
    c = RNG.standard_normal((3, 5, 2))
    args = [_put(backend, v) for v in (a, taus, c)]
    q = _np(backend, ft.vmap(ft.jit(L.householder_product))(*args[:2]))
    prod = _np(backend, ft.jit(lambda a, t, c: L.ormqr(a, t, c, transpose=True))(*args))
    for i in range(3):
        _close(q[i], lapack.dorgqr(a[i], taus[i])[0])
        _close(prod[i], lapack.dormqr("L", "T", a[i], taus[i], c[i], lwork=64)[0])
