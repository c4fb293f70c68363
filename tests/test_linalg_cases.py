"""Linear-algebra cases run on functrans, on NumPy/SciPy with finite differences, and on JAX.

The cases follow the topics of JAX's tests/linalg_test.py (NumpyLinalgTest, ScipyLinalgTest),
restated in our own code: cholesky, det/slogdet (singular matrices and their derivatives),
eig/eigh/eigvals/eigvalsh, inv, pinv, matrix_power, matrix_rank, norms, qr, svd, solve,
lstsq, tensorsolve/tensorinv, multi_dot, cond, cross/outer/trace/vecdot/matmul; SciPy's lu,
lu_factor/lu_solve, cho_factor/cho_solve, solve_triangular, expm (+ Frechet), sqrtm, schur,
hessenberg, polar, toeplitz/hankel/circulant, block_diag, solve_sylvester, funm...

Each case is written once against a namespace ``m`` (``m.np``, ``m.la``, ``m.sp``, ``m.grad``,
``m.jvp``...) and run with three of them:

- ``FT``: functrans, its inputs made on each backend of the ``backend`` fixture;
- ``REF``: NumPy and SciPy, derivatives by central finite differences in float64 (a 4-point
  stencil, so second derivatives are accurate to ~1e-9), vmap by a Python loop: the
  reference that exists in CI;
- ``JAX``: JAX 0.10.2 with x64, where installed (skipped otherwise).

Eigenvectors, singular vectors and Q factors are unique only up to phase: cases compare
quantities that are not (projectors, products, phase-fixed columns). VJPs are checked by the
dot-product identity (real and complex, first and second order) at the end of the file.
"""

from __future__ import annotations

import functools
import importlib.util
import types

import numpy as np
import optree
import pytest
import scipy.linalg as sla

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans.lax import linalg as flax_linalg

# -- the reference namespace: NumPy/SciPy, finite differences ----------------------------------

_H = 1e-3  # 4-point stencil: truncation ~h^4, rounding ~1e-16/h


def _leaves_map(fn, *trees):
    return optree.tree_map(fn, *trees, none_is_leaf=True)


def _fd_jvp(f, primals, tangents, h=_H):
    primals = tuple(np.asarray(p) for p in primals)
    tangents = tuple(np.asarray(t) for t in tangents)

    def at(s):
        return f(*[p + s * t for p, t in zip(primals, tangents)])
    f2, f1, g1, g2 = at(2 * h), at(h), at(-h), at(-2 * h)
    d = _leaves_map(lambda a, b, c, e: (np.asarray(e) - 8 * np.asarray(c) + 8 * np.asarray(b)
                                        - np.asarray(a)) / (12 * h), f2, f1, g1, g2)
    return f(*primals), d


def _basis(x):
    x = np.asarray(x)
    for i in range(x.size):
        e = np.zeros(x.size, x.dtype)
        e[i] = 1
        yield i, e.reshape(x.shape)


def _fd_grad(f, argnums=0):
    def g(*args):
        args = [np.asarray(a) for a in args]
        nums = (argnums,) if isinstance(argnums, int) else argnums
        outs = []
        for k in nums:
            x = args[k]

            def fk(v, k=k):
                return f(*args[:k], v, *args[k + 1:])
            gr = np.zeros(x.shape, x.dtype)
            flat = gr.reshape(-1)
            for i, e in _basis(x):
                d = _fd_jvp(fk, (x,), (e,))[1]
                flat[i] = float(np.real(d))
                if np.iscomplexobj(x):  # JAX's convention: df/dx - i df/dy
                    flat[i] -= 1j * float(np.real(_fd_jvp(fk, (x,), (1j * e,))[1]))
            outs.append(gr)
        return outs[0] if isinstance(argnums, int) else tuple(outs)
    return g


def _fd_jac(f, argnums=0):
    def jac(*args):
        args = [np.asarray(a) for a in args]
        x = args[argnums]
        fx = np.asarray(f(*args))
        cols = []
        for _, e in _basis(x):
            d = _fd_jvp(lambda v: f(*args[:argnums], v, *args[argnums + 1:]), (x,), (e,))[1]
            cols.append(np.asarray(d))
        return np.stack(cols, -1).reshape(fx.shape + x.shape)
    return jac


def _fd_vjp(f, *primals):
    out = f(*primals)

    def pullback(ct):
        return tuple(np.tensordot(np.asarray(ct), _fd_jac(f, k)(*primals), np.ndim(ct))
                     for k in range(len(primals)))
    return out, pullback


def _loop_vmap(f, in_axes=0):
    def batched(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
        res = [f(*[a if ax is None else np.take(a, i, ax) for a, ax in zip(args, axes)])
               for i in range(n)]
        return _leaves_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *res)
    return batched


def _ref_triangular_solve(a, b, left_side=False, lower=False, transpose_a=False,
                          conjugate_a=False, unit_diagonal=False):
    # jax.lax.linalg.triangular_solve's meaning, by a dense solve of op(a)'s triangle
    a = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        a = a - np.diag(np.diagonal(a)) + np.eye(a.shape[-1])
    a = np.conj(a) if conjugate_a else a
    a = a.T if transpose_a else a
    return np.linalg.solve(a, b) if left_side else np.linalg.solve(a.T, b.T).T


REF = types.SimpleNamespace(
    name="reference", jax_run=False, np=np, la=np.linalg, sp=sla, arr=np.asarray,
    eig=lambda a: tuple(np.linalg.eig(a)), eigvals=np.linalg.eigvals,
    triangular_solve=_ref_triangular_solve,
    jvp=_fd_jvp, grad=_fd_grad, vjp=_fd_vjp, jacfwd=_fd_jac, jacrev=_fd_jac,
    hessian=lambda f: _fd_jac(_fd_grad(f)), vmap=_loop_vmap, jit=lambda f, **k: f)


def _ft(backend=None):
    arr = fnp.asarray if backend is None else (lambda x: backend.asarray(
        x, dtype=np.asarray(x).dtype.name))
    return types.SimpleNamespace(
        name="functrans", jax_run=False, np=fnp, la=fnp.linalg, sp=fsl, arr=arr,
        eig=lambda a: tuple(fnp.linalg.eig(a)), eigvals=fnp.linalg.eigvals,
        triangular_solve=flax_linalg.triangular_solve, jvp=ft.jvp,
        grad=ft.grad,
        vjp=ft.vjp, jacfwd=ft.jacfwd, jacrev=ft.jacrev, hessian=ft.hessian, vmap=ft.vmap,
        jit=ft.jit)


def _jax_ns():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    # JAX differentiates eigenvectors of eig only when asked (functrans always does)
    eig = functools.partial(jax.lax.linalg.eig, compute_left_eigenvectors=False,
                            enable_eigvec_derivs=True)
    return types.SimpleNamespace(
        name="jax", jax_run=True, np=jnp, la=jnp.linalg, sp=jsl, arr=jnp.asarray,
        eig=lambda a: tuple(eig(a)), eigvals=lambda a: eig(a)[0],
        triangular_solve=jax.lax.linalg.triangular_solve, jvp=jax.jvp,
        grad=jax.grad, vjp=jax.vjp, jacfwd=jax.jacfwd, jacrev=jax.jacrev,
        hessian=jax.hessian, vmap=jax.vmap, jit=jax.jit)


# -- data --------------------------------------------------------------------------------------

_RNG = [np.random.default_rng(0)]


def R(*shape, dtype="float64"):
    """Random data, the same sequence for every namespace a case runs on."""
    x = _RNG[0].normal(size=shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * _RNG[0].normal(size=shape)
    return x.astype(dtype)


def spd(n, *batch, dtype="float64"):
    a = R(*batch, n, n, dtype=dtype)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)


def T(x):
    return np.swapaxes(x, -1, -2)


# -- cases -------------------------------------------------------------------------------------

CASES = {}


_NO_EIG = {"array_api_strict": "array-api-strict has no general eigensolver (eig)"}
_SCIPY_ONLY = {"array_api_strict": "SciPy-backed (NumPy arrays only)",
               "torch": "SciPy-backed (NumPy arrays only)"}


def case(ref_tol=1e-9, jax_tol=1e-9, ref=True, backends=True, skip=None, jax=None):
    """Register ``fn(m)``. ``ref=False``: no NumPy/SciPy form (a JAX keyword...); the case
    then checks itself against a closed form. ``backends=False``: numpy backend only;
    ``skip``: {backend name: why} where functrans refuses the function (tested elsewhere);
    ``jax``: why JAX cannot run the case (functrans differs deliberately)."""
    def register(fn):
        CASES[fn.__name__] = types.SimpleNamespace(fn=fn, ref_tol=ref_tol, jax_tol=jax_tol,
                                                   ref=ref, backends=backends, skip=skip or {},
                                                   jax=jax)
        return fn
    return register


def _sym(m, x):
    return (x + m.np.conj(m.np.swapaxes(x, -1, -2))) / 2


# cholesky ---------------------------------------------------------------------------------


@case()
def cholesky_values(m):
    out = []
    for shape in [(1, 1), (4, 4), (2, 3, 3), (0, 0)]:
        for dt in ("float64", "complex128"):
            a = m.arr(spd(shape[-1], *shape[:-2], dtype=dt))
            out.append(m.la.cholesky(a))
            out.append(m.la.cholesky(a, upper=True))
    return out


@case(ref_tol=1e-4, jax_tol=1e-4)
def cholesky_float32(m):
    return m.la.cholesky(m.arr(spd(4, dtype="float32")))


@case(ref_tol=1e-7)
def cholesky_derivatives(m):
    # a parametrised SPD matrix, so every direction stays symmetric for every library
    f = lambda x: m.la.cholesky(x @ m.np.swapaxes(x, -1, -2) + 3.0 * m.np.eye(3))
    x, t = m.arr(R(3, 3)), m.arr(R(3, 3))
    g = m.grad(lambda x: m.np.sum(m.np.sin(f(x))))
    return m.jvp(f, (x,), (t,)), g(x), m.jvp(g, (x,), (t,))[1]


@case(ref_tol=1e-7)
def cholesky_complex_jvp(m):
    f = lambda x: m.la.cholesky(x @ m.np.conj(m.np.swapaxes(x, -1, -2)) + 3.0 * m.np.eye(3))
    return m.jvp(f, (m.arr(R(3, 3, dtype="complex128")),), (m.arr(R(3, 3, dtype="complex128")),))


# det / slogdet ----------------------------------------------------------------------------

@case()
def det_values(m):
    out = [m.la.det(m.arr(R(n, n, dtype=dt))) for n in (0, 1, 2, 3, 5)
           for dt in ("float64", "complex128")]
    return out + [m.la.det(m.arr(R(2, 3, 3)))]


@case(ref_tol=1e-6, jax_tol=1e-6)
def det_of_singular_float32(m):
    return m.la.det(m.arr(np.array([[-1.0, 1.5], [2 / 3, -1.0]], np.float32)))


@case(ref_tol=1e-7)
def det_derivatives_second_order_batched(m):
    f = lambda x: m.np.sum(m.la.det(x))
    x, t = m.arr(R(2, 3, 3)), m.arr(R(2, 3, 3))
    return m.grad(f)(x), m.jvp(m.grad(f), (x,), (t,))


@case(ref_tol=1e-7)
def det_grad_at_zero_and_rank_deficient(m):
    g = m.grad(lambda x: m.np.sum(m.la.det(x)))
    corank1 = np.array([[50, -30, 45], [-30, 90, -81], [45, -81, 81]], float)
    corank2 = np.array([[36, -42, 18], [-42, 49, -21], [18, -21, 9]], float)
    batch = R(3, 4, 4)
    batch[0] = 0
    return [g(m.arr(np.zeros((n, n)))) for n in (1, 2, 3)] + [
        g(m.arr(corank1)), g(m.arr(corank2)), g(m.arr(batch)), g(m.arr(np.ones((6, 1, 1))))]


@case(ref_tol=1e-6)
def det_second_derivative_at_rank_deficient(m):
    # the Hessian of det at a corank-1 and at a corank-2 matrix (both well defined)
    corank1 = np.array([[50, -30, 45], [-30, 90, -81], [45, -81, 81]], float) / 30
    corank2 = np.array([[36, -42, 18], [-42, 49, -21], [18, -21, 9]], float) / 30
    t = R(3, 3)
    g = m.grad(m.la.det)
    return [m.jvp(g, (m.arr(a),), (m.arr(t),))[1] for a in (corank1, corank2, np.zeros((3, 3)))]


@case()
def slogdet_values(m):
    out = []
    for shape in [(0, 0), (1, 1), (3, 3), (2, 2, 2), (3, 2, 2)]:
        for dt in ("float64", "complex128"):
            out.append(tuple(m.la.slogdet(m.arr(R(*shape, dtype=dt)))))
    out.append(tuple(m.la.slogdet(m.arr(np.array([np.eye(5) * -0.01] * 2)))))
    out.append(tuple(m.la.slogdet(m.arr(np.array([[1.0, 2.0], [2.0, 4.0]])))))  # singular
    return out


@case(ref_tol=1e-7)
def slogdet_derivatives(m):
    f = lambda x: m.la.slogdet(x)[1]
    x, t = m.arr(R(2, 4, 4)), m.arr(R(2, 4, 4))
    g = m.grad(lambda x: m.np.sum(f(x)))
    xc, tc = m.arr(R(3, 3, dtype="complex128")), m.arr(R(3, 3, dtype="complex128"))
    return (m.jvp(f, (x,), (t,)), m.jvp(g, (x,), (t,)), m.jvp(m.la.slogdet, (xc,), (tc,)),
            m.grad(lambda z: m.la.slogdet(z)[1])(xc))


# eig / eigvals ----------------------------------------------------------------------------

def _eig_projectors(m, a):
    # v_i v_i^H / (v_i^H v_i) for each eigenvector: independent of the eigenvectors' phases
    w, v = m.eig(a)
    n2 = m.np.sum(m.np.abs(v) ** 2, axis=-2, keepdims=True)
    vs = v / m.np.sqrt(n2)
    return m.np.einsum("...ik,...jk->...kij", vs, m.np.conj(vs))


def _sorted_eigvals(m, w):
    # by real part then imaginary part (no ties in these cases)
    return m.np.sort_complex(w)


@case(ref_tol=1e-8, jax_tol=1e-8, skip=_NO_EIG)
def eigvals_values(m):
    out = []
    for shape in [(1, 1), (4, 4), (5, 5), (2, 3, 3)]:
        for dt in ("float64", "complex128"):
            out.append(_sorted_eigvals(m, m.la.eigvals(m.arr(R(*shape, dtype=dt)))))
    return out


@case(ref_tol=1e-7, jax_tol=1e-7, skip=_NO_EIG)
def eig_projectors_and_residual(m):
    out = []
    for dt in ("float64", "complex128"):
        a = m.arr(np.diag([1.0, 2.0, 3.5, 5.0]) + 0.3 * R(4, 4, dtype=dt))
        w, v = m.eig(a)
        out.append(m.np.max(m.np.abs(m.np.matmul(a, v) - w[..., None, :] * v)) < 1e-12)
        out.append(m.np.real(m.np.sum(_eig_projectors(m, a), axis=0)))  # identity
    return out


# (ref_tol 1e-6: the reference for the JVP of the gradient is finite differences of
# finite differences through LAPACK's eig, off by up to ~2.5e-7 (seen in CI); JAX agrees
# with functrans to 1e-7)
@case(ref_tol=1e-6, jax_tol=1e-7, skip=_NO_EIG)
def eig_derivatives(m):
    a = np.diag([1.0, 2.0, 3.5, 5.0]) + 0.3 * R(4, 4)
    t = R(4, 4)
    # symmetric functions of the eigenvalues (no ordering needed): trace(A^3), det
    s3 = lambda x: m.np.real(m.np.sum(m.eigvals(x) ** 3))
    pr = lambda x: m.np.real(m.np.prod(m.eigvals(x)))
    proj = lambda x: m.np.real(_eig_projectors(m, x)[..., 0, :, :]
                               @ _eig_projectors(m, x)[..., 1, :, :].T)
    return (m.grad(s3)(m.arr(a)), m.grad(pr)(m.arr(a)),
            m.jvp(m.grad(s3), (m.arr(a),), (m.arr(t),))[1],
            m.jvp(lambda x: m.np.real(_eig_projectors(m, x)), (m.arr(a),), (m.arr(t),))[1],
            m.jvp(proj, (m.arr(a),), (m.arr(t),))[1])


@case(ref_tol=1e-7, jax_tol=1e-7, skip=_NO_EIG)
def eig_complex_derivatives(m):
    a = np.diag([1.0, 2.0 + 1j, 3.5, 5.0 - 2j]) + 0.3 * R(4, 4, dtype="complex128")
    t = R(4, 4, dtype="complex128")
    p = lambda x: _eig_projectors(m, x)
    s2 = lambda x: m.np.real(m.np.sum(m.eigvals(x) ** 2 * (1 + 2j)))
    return m.jvp(p, (m.arr(a),), (m.arr(t),))[1], m.grad(s2)(m.arr(a))


@case(ref=False, skip=_NO_EIG)
def eig_of_nan_and_inf_is_nan(m):
    w = m.la.eigvals(m.arr(np.array([[np.inf]])))
    wn, vn = m.la.eig(m.arr(np.full((3, 3), np.nan)))
    return [bool(m.np.all(m.np.isnan(x))) for x in (w, wn, vn)]


@case(ref_tol=1e-8, jax_tol=1e-8, skip=_NO_EIG)
def eig_under_vmap(m):
    a = m.arr(np.diag([1.0, 2.0, 4.0]) + 0.2 * R(5, 3, 3))
    w, v = m.vmap(m.eig)(a)
    return m.np.max(m.np.abs(m.np.matmul(a, v) - w[..., None, :] * v)) < 1e-12


# eigh / eigvalsh --------------------------------------------------------------------------

def _fix_columns(m, v):
    # each column's phase fixed by its largest-magnitude entry... by its first entry
    ph = v[..., :1, :] / m.np.abs(v[..., :1, :])
    return v * m.np.conj(ph)


@case()
def eigh_values(m):
    out = []
    for n in (1, 4, 5):
        for dt in ("float64", "complex128"):
            a = _sym(m, m.arr(R(n, n, dtype=dt)))
            w, v = m.la.eigh(a)
            out += [w, _fix_columns(m, v), m.la.eigvalsh(a)]
            out += [m.la.eigvalsh(a, UPLO="U"), m.la.eigh(a, UPLO="U")[0]]
    a = _sym(m, m.arr(R(2, 3, 3)))
    return out + [m.la.eigvalsh(a), m.vmap(m.la.eigvalsh)(a)]


@case()
def eigh_reads_one_triangle_without_symmetrising(m):
    a = R(4, 4, dtype="complex128")
    a = (a + np.conj(a.T)) / 2
    kw = {} if m.name == "reference" else {"symmetrize_input": False}
    return [m.la.eigh(m.arr(tri(a)), UPLO=u, **kw)[0]
            for tri, u in ((np.tril, "L"), (np.triu, "U"))]


@case(ref_tol=1e-7)
def eigh_derivatives(m):
    # a symmetric parametrisation, as JAX's test does: the rule is for symmetric tangents
    f = lambda x: m.la.eigh(x + x.T)
    x, t = R(4, 4), R(4, 4)
    fw = lambda x: f(x)[0]
    fv = lambda x: _fix_columns(m, f(x)[1])
    g = m.grad(lambda x: m.np.sum(m.np.sin(fw(x))) + m.np.sum(fv(x)[:, 1] ** 3))
    return (m.jvp(fw, (m.arr(x),), (m.arr(t),)), m.jvp(fv, (m.arr(x),), (m.arr(t),))[1],
            g(m.arr(x)), m.jvp(g, (m.arr(x),), (m.arr(t),))[1])


@case(ref_tol=1e-7)
def eigh_complex_hermitian_derivatives(m):
    f = lambda x: m.la.eigh(x + m.np.conj(x.T))
    x, t = R(3, 3, dtype="complex128"), R(3, 3, dtype="complex128")
    fw = lambda x: f(x)[0]
    proj = lambda x: (lambda v: v[:, :1] @ m.np.conj(v[:, :1].T))(f(x)[1])
    return (m.jvp(fw, (m.arr(x),), (m.arr(t),)), m.jvp(proj, (m.arr(x),), (m.arr(t),))[1],
            m.grad(lambda x: m.np.sum(fw(x) ** 2))(m.arr(x)))


@case(ref_tol=1e-8)
def eigh_grad_complex_identity_under_jit(m):
    # JAX issue 669: the eigenvalues of a complex Hermitian matrix are real
    f = lambda x: m.np.real(m.np.sum(m.la.eigh(x)[0]))
    return m.jit(m.grad(m.jit(f)))(m.arr(np.eye(3, dtype=complex)))


@case(ref_tol=1e-4, jax_tol=1e-7)
def eigh_third_derivative_is_finite(m):
    # JAX issue 1383: jacfwd three times through eigh
    a = np.array([[0.9, 0.3], [0.2, 0.4]])

    def f(x):
        s = (x + x.T) / 2  # every library reads the same matrix
        w, v = m.la.eigh(s)
        return v @ s @ v.T
    if m.name == "reference":
        return _fd_jac(_fd_jac(f))(a)
    d3 = m.jacfwd(m.jacfwd(m.jacfwd(f)))(m.arr(a))
    assert bool(m.np.all(m.np.isfinite(d3)))
    return m.jacfwd(m.jacfwd(f))(m.arr(a))


# inv / pinv / matrix_power / matrix_rank --------------------------------------------------

@case()
def inv_values(m):
    return [m.la.inv(m.arr(R(*s) + 3 * np.eye(s[-1])))
            for s in [(1, 1), (4, 4), (2, 3, 3), (0, 0)]] + [
        m.la.inv(m.arr(R(3, 3, dtype="complex128")))]


@case(ref_tol=1e-7)
def inv_derivatives(m):
    x, t = m.arr(R(3, 3) + 3 * np.eye(3)), m.arr(R(3, 3))
    g = m.grad(lambda x: m.np.sum(m.la.inv(x) ** 2))
    return m.jvp(m.la.inv, (x,), (t,)), g(x), m.jvp(g, (x,), (t,))[1]


@case(ref_tol=1e-8, jax_tol=1e-8)
def pinv_values(m):
    out = []
    for s in [(1, 1), (4, 4), (2, 5, 3), (3, 6), (2, 0, 0), (3, 0, 2), (1, 0)]:
        for dt in ("float64", "complex128"):
            out.append(m.la.pinv(m.arr(R(*s, dtype=dt))))
    h = _sym(m, m.arr(R(4, 4)))
    return out + [m.la.pinv(h, hermitian=True), m.la.pinv(m.arr(np.ones((3, 3))), rcond=1e-2)]


@case(ref_tol=1e-6)
def pinv_derivatives(m):
    out = []
    for s in [(4, 3), (3, 5), (4, 4)]:
        x, t = m.arr(R(*s)), m.arr(R(*s))
        g = m.grad(lambda x: m.np.sum(m.np.sin(m.la.pinv(x))))
        out += [m.jvp(m.la.pinv, (x,), (t,)), g(x), m.jvp(g, (x,), (t,))[1]]
    return out


@case(ref_tol=1e-7, jax_tol=1e-12)
def pinv_jacobian_rank_deficient(m):
    # JAX issue 2792: the rank stays 1 along the path, so pinv is smooth
    def f(p):
        rows = m.np.stack([m.np.zeros(2), m.np.stack([-p, m.np.ones(())])])
        return m.la.pinv(rows / (1 + p ** 2))
    return m.jacfwd(f)(m.arr(np.array(2.0))), m.jacrev(m.la.pinv)(m.arr(np.eye(2)))


@case(ref=False)
def pinv_rcond_and_rtol(m):
    x = m.arr(np.ones((3, 3)))
    with pytest.raises(ValueError):
        m.la.pinv(x, rcond=1e-2, rtol=1e-2)
    with pytest.raises(ValueError):
        m.la.matrix_rank(x, tol=1e-2, rtol=1e-2)
    return (m.la.pinv(x, rcond=1e-2) - m.la.pinv(x, rtol=1e-2),
            m.la.matrix_rank(x, rtol=1e-2) - m.la.matrix_rank(x, tol=1e-2))


@case(ref_tol=1e-8, jax_tol=1e-8)
def matrix_power_values(m):
    out = []
    for s in [(1, 1), (3, 3), (2, 3, 3)]:
        a = m.arr(R(*s) + 2 * np.eye(s[-1]))
        out += [m.la.matrix_power(a, n) for n in (-5, -2, -1, 0, 1, 2, 3, 10)]
    out.append(m.la.matrix_power(m.arr(R(3, 3, dtype="complex128")), 3))
    return out + [m.la.matrix_power(m.arr(np.array([[True, True], [False, True]])), 2)]


@case(ref_tol=1e-7)
def matrix_power_derivatives(m):
    x, t = m.arr(R(3, 3) + 2 * np.eye(3)), m.arr(R(3, 3))
    return [m.jvp(lambda a: m.la.matrix_power(a, n), (x,), (t,)) for n in (-2, 0, 3)]


@case()
def matrix_rank_values(m):
    out = [m.la.matrix_rank(m.arr(R(*s))) for s in [(3,), (1, 2), (8, 5), (5, 5), (3, 4, 5)]]
    low = R(6, 2) @ R(2, 5)
    out += [m.la.matrix_rank(m.arr(low)), m.la.matrix_rank(m.arr(low.astype(complex)))]
    out += [m.la.matrix_rank(m.arr(low @ low.T), hermitian=True),
            m.la.matrix_rank(m.arr(np.zeros((3, 3))))]
    return out


# norms ------------------------------------------------------------------------------------

_NORM_CASES = [
    (None, (1,)), (None, (7,)), (None, (5, 8)), (0, (9,)), (0, (4, 5)), ((1,), (10, 7, 3)),
    ((-2,), (4, 8)), (-1, (6, 3)), ((0, 2), (3, 4, 5)), ((2, 0), (7, 8, 9)), (None, (7, 8, 11))]


def _ords(axis, shape):
    if axis is None and len(shape) > 2:
        return [None]
    if ((axis is None and len(shape) == 1) or isinstance(axis, int)
            or (axis is not None and len(axis) == 1)):
        return [None, 0, 1, 2, 3, -1, -2, -3, np.inf, -np.inf, 0.5]
    return [None, "fro", 1, 2, -1, -2, np.inf, -np.inf, "nuc"]


@case(ref_tol=1e-10, jax_tol=1e-10, backends=False)
def norm_every_ord_axis_keepdims(m):
    out = []
    for axis, shape in _NORM_CASES:
        for dt in ("float64", "complex128"):
            x = m.arr(R(*shape, dtype=dt))
            for o in _ords(axis, shape):
                for kd in (False, True):
                    out.append(m.la.norm(x, ord=o, axis=axis, keepdims=kd))
    return out


@case()
def vector_and_matrix_norms(m):
    out = []
    for s in [(3,), (3, 4), (2, 3, 4, 5)]:
        x = m.arr(R(*s))
        axes = [None, 0, (-1,)] + ([1, (0, 1), (-1, 0)] if len(s) > 1 else [])
        for ax in axes:
            for o in (1, -1, 2, -2, np.inf, -np.inf):
                out.append(m.la.vector_norm(x, ord=o, axis=ax, keepdims=ax == 0))
    for s in [(2, 3), (4, 2, 3)]:
        for o in (1, -1, 2, -2, np.inf, -np.inf, "fro", "nuc"):
            out.append(m.la.matrix_norm(m.arr(R(*s, dtype="complex128")), ord=o, keepdims=True))
    for s in [(0, 2), (2, 0), (0, 0)]:
        out += [m.la.matrix_norm(m.arr(np.zeros(s)), ord=o) for o in (1, 2, np.inf, "fro", "nuc")]
    out += [m.la.vector_norm(m.arr(np.zeros(0)), ord=o) for o in (1, 2, np.inf)]
    return out


@case(ref_tol=1e-7)
def norm_derivatives(m):
    x, t = R(4, 3), R(4, 3)
    v, u = R(5), R(5)
    out = []
    for o in (None, "fro", "nuc", 2, -2, 1, np.inf):
        f = lambda a, o=o: m.la.norm(a, ord=o)
        out += [m.jvp(f, (m.arr(x),), (m.arr(t),))[1], m.grad(f)(m.arr(x))]
    for o in (None, 1, 3, 0.5, np.inf, -np.inf):
        f = lambda a, o=o: m.la.norm(a, ord=o)
        out += [m.grad(f)(m.arr(v)), m.jvp(m.grad(f), (m.arr(v),), (m.arr(u),))[1]]
    z = R(5, dtype="complex128")
    out.append(m.grad(lambda a: m.la.norm(a))(m.arr(z)))
    out.append(m.hessian(lambda a: m.la.norm(a, ord="fro"))(m.arr(x)))
    return out


@case(ref=False)
def norm_string_inf_is_refused(m):
    with pytest.raises(ValueError):
        m.la.norm(m.arr(np.array([1.0, 2.0, 3.0])), ord="inf")
    with pytest.raises(ValueError):
        m.la.cond(m.arr(R(3, 4)), 1)
    return 0


# svd --------------------------------------------------------------------------------------

def _svd_fixed(m, a):
    # reduced SVD, u's first row made real positive; vh follows
    u, s, vh = m.la.svd(a, full_matrices=False)
    ph = u[..., :1, :] / m.np.abs(u[..., :1, :])
    return u * m.np.conj(ph), s, vh * m.np.swapaxes(ph, -1, -2)


@case(ref_tol=1e-9, jax_tol=1e-9)
def svd_values(m):
    out = []
    for b in [(), (2,)]:
        for mn in [(2, 5), (5, 2), (4, 4), (0, 3), (3, 0)]:
            for dt in ("float64", "complex128"):
                a = m.arr(R(*b, *mn, dtype=dt))
                out.append(m.la.svd(a, compute_uv=False))
                if 0 in mn:
                    continue
                out += list(_svd_fixed(m, a))
                u, s, vh = m.la.svd(a, full_matrices=True)
                k = min(mn)
                out.append(m.np.matmul(u[..., :, :k] * s[..., None, :], vh[..., :k, :]))
                out.append(m.np.conj(m.np.swapaxes(u, -1, -2)) @ u)
                out.append(vh @ m.np.conj(m.np.swapaxes(vh, -1, -2)))
    h = _sym(m, m.arr(R(4, 4)))
    u, s, vh = m.la.svd(h, hermitian=True)
    out += [s, (u * s[None, :]) @ vh, m.la.svdvals(m.arr(R(3, 5)))]
    return out


@case(ref_tol=1e-7)
def svd_derivatives(m):
    out = []
    for s, dt in [((4, 4), "float64"), ((2, 5), "float64"), ((5, 2), "float64"),
                  ((2, 3, 3), "float64"), ((3, 2), "complex128"), ((3, 3), "complex128")]:
        x, t = m.arr(R(*s, dtype=dt)), m.arr(R(*s, dtype=dt))
        out.append(m.jvp(lambda a: m.la.svd(a, compute_uv=False), (x,), (t,)))
        out.append(m.jvp(lambda a: _svd_fixed(m, a), (x,), (t,))[1])
        if dt == "float64":
            g = m.grad(lambda a: m.np.sum(m.la.svd(a, compute_uv=False) ** 3)
                       + m.np.sum(_svd_fixed(m, a)[0] ** 3))
            out += [g(x), m.jvp(g, (x,), (t,))[1]]
    return out


@case(ref_tol=1e-8, jax_tol=1e-9)
def svd_reconstruction_tangent_is_the_direction(m):
    # d/dx of u s vh at a + x d is d (JAX's identity check), for full_matrices both ways
    a, d = R(3, 5, dtype="complex128"), R(3, 5, dtype="complex128")
    def f(x, fm=False):
        u, s, vh = m.la.svd(x * m.arr(d) + m.arr(a), full_matrices=fm)
        k = s.shape[-1]
        return m.np.real((u[:, :k] * s) @ vh[:k, :])
    one = m.arr(np.array(1.0))
    if m.name != "reference":  # as JAX: no derivative of a non-square full_matrices=True svd
        with pytest.raises(NotImplementedError):
            m.jvp(functools.partial(f, fm=True), (one,), (one,))
    return m.jvp(f, (one,), (one,))[1]


@case(ref_tol=1e-7, jax_tol=1e-8)
def svd_full_matrices_square_derivative(m):
    x, t = R(3, 3), R(3, 3)

    def f(a):
        u, s, vh = m.la.svd(a, full_matrices=True)
        ph = m.np.sign(u[:1, :])
        return u * ph, s, vh * ph.T
    return m.jvp(f, (m.arr(x),), (m.arr(t),))


# qr ---------------------------------------------------------------------------------------

def _qr_fixed(m, a, mode="reduced"):
    q, r = m.la.qr(a, mode=mode)
    k = min(a.shape[-2:])
    d = m.np.diagonal(r[..., :k, :k], axis1=-2, axis2=-1)
    ph = d / m.np.abs(d)
    return q[..., :, :k] * m.np.conj(ph)[..., None, :], r[..., :k, :] * ph[..., :, None]


@case(ref_tol=1e-9, jax_tol=1e-9)
def qr_modes_values(m):
    out = []
    for s in [(0, 2), (2, 0), (3, 4), (3, 3), (4, 3), (2, 5, 3)]:
        for dt in ("float64", "complex128"):
            a = m.arr(R(*s, dtype=dt))
            if 0 not in s:
                out += list(_qr_fixed(m, a))
                q, r = m.la.qr(a, mode="complete")
                out += [q @ r, m.np.conj(m.np.swapaxes(q, -1, -2)) @ q]
                out.append(m.np.abs(m.la.qr(a, mode="r")))
            else:
                q, r = m.la.qr(a, mode="complete")
                out += [tuple(q.shape), tuple(r.shape), tuple(m.la.qr(a, mode="r").shape)]
    return out


def test_qr_raw_mode_is_refused_clearly():
    # JAX has NumPy's mode='raw' (LAPACK's Householder form); functrans does not
    for f in (lambda a: fnp.linalg.qr(a, mode="raw"), lambda a: fsl.qr(a, mode="raw")):
        with pytest.raises(NotImplementedError, match="raw"):
            f(R(4, 3))


@case()
def scipy_qr_pivoting(m):
    out = []
    for s in [(3, 4), (4, 3), (5, 5), (2, 4, 3)]:
        for dt in ("float64", "complex128"):
            a = R(*s, dtype=dt)
            if len(s) == 2:
                for mode in ("full", "economic", "r"):
                    out += list(m.sp.qr(m.arr(a), mode=mode, pivoting=True))
                a = a.copy()  # (JAX's jit captures the NumPy array given, not a copy)
                a[:, 1] = 2 * a[:, 0]  # rank deficient: the pivots still follow LAPACK
                r, p = m.sp.qr(m.arr(a), mode="r", pivoting=True)
                out += [m.np.abs(r[..., :2, :]), p]  # (the rest is rounding)
            if len(s) == 3 and not m.jax_run:
                ref = m.vmap if m.name == "reference" else (lambda f: f)
                out += list(ref(lambda x: m.sp.qr(x, mode="economic", pivoting=True))(m.arr(a)))
    return out


@case(ref_tol=1e-8, jax_tol=1e-9)
def scipy_qr_pivoting_derivatives(m):
    # (q @ r)[:, argsort(p)] is the identity (JAX's check): its derivative is the direction
    out = []
    for s in [(4, 3), (3, 3), (3, 5)]:
        x, t = m.arr(R(*s)), m.arr(R(*s))
        if m.jax_run and s == (3, 5):
            continue  # JAX 0.10.2's tangent is wrong for a wide matrix (its test skips it)
        mode = "full" if s[0] <= s[1] else "economic"

        def f(a, mode=mode):
            q, r, p = m.sp.qr(a, mode=mode, pivoting=True)
            return (q @ r)[:, m.np.argsort(p)]
        out.append(m.jvp(f, (x,), (t,))[1])
    x, t = m.arr(R(5, 3)), m.arr(R(5, 3))
    out.append(m.jvp(lambda a: m.np.abs(m.sp.qr(a, mode="economic", pivoting=True)[1]), (x,), (t,)))
    return out


@case(ref_tol=1e-7)
def qr_derivatives(m):
    out = []
    for s, dt in [((4, 3), "float64"), ((3, 3), "float64"), ((3, 5), "float64"),
                  ((2, 4, 3), "float64"), ((3, 2), "complex128"), ((2, 4), "complex128")]:
        x, t = m.arr(R(*s, dtype=dt)), m.arr(R(*s, dtype=dt))
        out.append(m.jvp(lambda a: _qr_fixed(m, a), (x,), (t,))[1])
        if dt == "float64":
            g = m.grad(lambda a: m.np.sum(m.np.sin(_qr_fixed(m, a)[0]))
                       + m.np.sum(_qr_fixed(m, a)[1] ** 2))
            out += [g(x), m.jvp(g, (x,), (t,))[1]]
    return out


@case(ref_tol=1e-8, jax_tol=1e-9)
def qr_product_tangent_complete_mode(m):
    # q @ r is the identity function in every mode: its derivative is the direction
    out = []
    for s in [(4, 3), (3, 3), (3, 5)]:
        x, t = m.arr(R(*s)), m.arr(R(*s))
        for mode in ("reduced", "complete"):
            out.append(m.jvp(lambda a, mode=mode: (lambda qr: qr[0] @ qr[1])(m.la.qr(a, mode=mode)),
                             (x,), (t,))[1])
    return out


# cond / solve / lstsq / tensor functions --------------------------------------------------

@case(ref_tol=1e-8, jax_tol=1e-8)
def cond_values(m):
    out = []
    for s in [(1, 1), (4, 4), (2, 3, 3), (5, 10)]:
        for p in (None, np.inf, -np.inf, 1, -1, 2, -2, "fro"):
            if p not in (None, 2, -2) and s[-1] != s[-2]:
                continue
            out.append(m.la.cond(m.arr(R(*s, dtype="complex128")), p))
    return out


@case(ref_tol=1e-7)
def cond_derivative(m):
    x, t = m.arr(R(3, 3) + 2 * np.eye(3)), m.arr(R(3, 3))
    return [m.jvp(lambda a, p=p: m.la.cond(a, p), (x,), (t,)) for p in (None, "fro", 1)]


@case()
def solve_values_and_broadcasting(m):
    out = []
    for ls, rs in [((1, 1), (1, 1)), ((4, 4), (4,)), ((4, 4), (4, 2)), ((2, 2), (3, 2, 2)),
                   ((2, 1, 3, 3), (1, 4, 3, 4)), ((1, 0, 0), (1, 0, 2)), ((3, 2, 2), (2,)),
                   ((2, 2, 2), (2, 2))]:
        for dt in ("float64", "complex128"):
            out.append(m.la.solve(m.arr(R(*ls, dtype=dt) + 2 * np.eye(ls[-1])),
                                  m.arr(R(*rs, dtype=dt))))
    return out


@case(ref_tol=1e-7)
def solve_derivatives(m):
    a, b = m.arr(R(3, 3) + 3 * np.eye(3)), m.arr(R(3, 2))
    ta, tb = m.arr(R(3, 3)), m.arr(R(3, 2))
    g = m.grad(lambda a, b: m.np.sum(m.la.solve(a, b) ** 2), argnums=(0, 1))
    ab = m.arr(R(4, 3, 3) + 3 * np.eye(3))
    bb = m.arr(R(4, 3, 1))
    return (m.jvp(m.la.solve, (a, b), (ta, tb)), g(a, b),
            m.jvp(lambda a: g(a, b)[0], (a,), (ta,))[1],
            m.jacrev(m.la.solve, argnums=0)(ab[0, ...], bb[0, ...]),
            tuple(m.jacfwd(m.la.solve, argnums=1)(ab, bb).shape))


@case(ref_tol=1e-9, jax_tol=1e-9)
def lstsq_values(m):
    out = []
    for ls, rs in [((1, 1), (1, 1)), ((4, 6), (4,)), ((6, 6), (6, 1)), ((8, 6), (8, 4)),
                   ((3, 1), (3, 0))]:
        for rc in (-1, None, 0.5):
            for dt in ("float64", "complex128"):
                kw = {} if m.name == "reference" else {"numpy_resid": True}
                x, res, rank, sv = m.la.lstsq(m.arr(R(*ls, dtype=dt)), m.arr(R(*rs, dtype=dt)),
                                              rcond=rc, **kw)
                out += [x, res, rank, sv]
    for s in [(2, 1), (2, 2), (1, 2)]:
        kw = {} if m.name == "reference" else {"numpy_resid": True}
        out += list(m.la.lstsq(m.arr(np.zeros(s)), m.arr(np.ones(s)), **kw))
    return out


@case(ref_tol=1e-7)
def lstsq_derivatives(m):
    a, b = m.arr(R(5, 3)), m.arr(R(5, 2))
    ta, tb = m.arr(R(5, 3)), m.arr(R(5, 2))
    f = lambda a, b: m.la.lstsq(a, b)[0]
    g = m.grad(lambda a: m.np.sum(f(a, b) ** 2))
    return m.jvp(f, (a, b), (ta, tb)), g(a), m.jvp(g, (a,), (ta,))[1]


@case(ref_tol=1e-8, jax_tol=1e-8)
def tensorsolve_and_tensorinv(m):
    out = []
    for mm, (n, q) in [(1, (2, (1, 2))), (3, (4, (2, 2))), (2, (6, (1, 2, 3)))]:
        out.append(m.la.tensorsolve(m.arr(R(n, mm, *q, mm)), m.arr(R(n, mm))))
    out.append(m.la.tensorsolve(m.arr(R(2, 1, 3, 6)), m.arr(R(1, 6)), axes=(0, 2)))
    for s in [(1, 1), (4, 4), (6, 2, 3), (3, 4, 2, 6)]:
        out.append(m.la.tensorinv(m.arr(R(*s, dtype="complex128")), ind=len(s) // 2))
    return out


@case(ref_tol=1e-7)
def tensorinv_derivative(m):
    x, t = m.arr(R(6, 2, 3) + np.eye(6).reshape(6, 2, 3)), m.arr(R(6, 2, 3))
    return m.jvp(lambda a: m.la.tensorinv(a, ind=1), (x,), (t,))


@case()
def products(m):
    out = []
    for shapes in [[(3,), (3, 1)], [(1, 3), (3, 5), (5, 2)],
                   [(1, 3), (3, 5), (5, 2), (2, 7), (7,)]]:
        for dt in ("float64", "complex128"):
            out.append(m.la.multi_dot([m.arr(R(*s, dtype=dt)) for s in shapes]))
    for ls, rs, ax in [((3,), (3,), -1), ((2, 3), (2, 3), -1), ((3, 4), (3, 4), 0),
                       ((3, 5), (3, 4, 5), 0)]:
        out.append(m.la.cross(m.arr(R(*ls)), m.arr(R(*rs)), axis=ax))
    out.append(m.la.cross(m.arr(R(4, 3, dtype="complex128")), m.arr(np.arange(12).reshape(4, 3)),
                          axis=-1))
    for ls in [(0,), (3,)]:
        for rs in [(0,), (5,)]:
            out.append(m.la.outer(m.arr(R(*ls)), m.arr(R(*rs, dtype="complex128"))))
    for s in [(2, 3), (3, 3, 4), (2, 3, 4, 5)]:
        for off in range(-2, 3):
            out.append(m.la.diagonal(m.arr(R(*s)), offset=off))
            out.append(m.la.trace(m.arr(R(*s)), offset=off))
        out.append(m.la.matrix_transpose(m.arr(R(*s))))
    for ax in (0, 1, -1):
        out.append(m.la.vecdot(m.arr(R(2, 2, 2, dtype="complex128")),
                               m.arr(R(2, 2, dtype="complex128")), axis=ax))
    for ls, rs in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                   ((5, 1, 2, 3), (4, 3, 2))]:
        out.append(m.la.matmul(m.arr(R(*ls)), m.arr(R(*rs, dtype="complex128"))))
    for axes in (0, 1, 2):
        out.append(m.la.tensordot(m.arr(R(2, 2, 2)), m.arr(R(2, 2)), axes=axes))
    out.append(m.la.svdvals(m.arr(R(2, 4, 3))))
    return out


@case(ref_tol=1e-7)
def product_derivatives(m):
    a, b, c = R(2, 3), R(3, 4), R(4)
    ta, tb, tc = R(2, 3), R(3, 4), R(4)
    f = lambda a, b, c: m.la.multi_dot([a, b, c])
    u, v, tu = R(4, 3), R(4, 3), R(4, 3)
    return (m.jvp(f, tuple(map(m.arr, (a, b, c))), tuple(map(m.arr, (ta, tb, tc)))),
            m.grad(lambda u: m.np.sum(m.la.cross(u, m.arr(v)) ** 2))(m.arr(u)),
            m.jvp(lambda u: m.la.vecdot(u, m.arr(v), axis=0), (m.arr(u),), (m.arr(tu),)),
            m.grad(lambda u: m.la.trace(m.la.outer(u[0], u[1]) @ m.la.outer(u[2], u[3])))(m.arr(u)))


# -- scipy.linalg ------------------------------------------------------------------------------

@case()
def block_diag_values(m):
    args = [(), (1.0,), (7.0, -2.0), (3.0, 4.0, 5.0), (np.ones((3, 4)), 5.0, R(5, 2)),
            (R(2, 2, dtype="complex128"), R(1, 3)), (np.zeros((0, 2)), R(2, 2), np.zeros((1, 0)))]
    return [m.sp.block_diag(*[m.arr(np.asarray(a)) for a in arg]) for arg in args]


@case()
def lu_values(m):
    out = []
    for s in [(1, 1), (4, 5), (6, 4), (5, 5)]:
        for dt in ("float64", "complex128"):
            out += list(m.sp.lu(m.arr(R(*s, dtype=dt))))
    out += list(m.sp.lu(m.arr(np.array([[-1.0, 1.5], [2 / 3, -1.0]]))))
    out += list(m.sp.lu(m.arr(np.zeros((2, 2)))))
    out += list(m.sp.lu(m.arr(R(4, 3)), permute_l=True))
    return out


@case(ref_tol=1e-7)
def lu_derivatives(m):
    out = []
    for s, dt in [((4, 4), "float64"), ((4, 3), "float64"), ((3, 5), "float64"),
                  ((3, 3), "complex128")]:
        x, t = m.arr(R(*s, dtype=dt)), m.arr(R(*s, dtype=dt))
        out.append(m.jvp(lambda a: m.sp.lu(a)[1:], (x,), (t,)))
        if dt == "float64":
            g = m.grad(lambda a: m.np.sum(m.np.sin(m.sp.lu(a)[1])) + m.np.sum(m.sp.lu(a)[2] ** 3))
            out += [g(x), m.jvp(g, (x,), (t,))[1]]
    return out


@case(ref_tol=1e-9, jax_tol=1e-9)
def lu_under_vmap(m):
    return m.vmap(m.sp.lu)(m.arr(R(5, 4, 3)))


@case()
def lu_factor_and_solve(m):
    out = []
    for n in (1, 4, 5):
        for dt in ("float64", "complex128"):
            a = R(n, n, dtype=dt)
            lu, piv = m.sp.lu_factor(m.arr(a))
            out += [lu, piv]
            for rs in [(n,), (n, 3)]:
                b = m.arr(R(*rs, dtype=dt))
                out += [m.sp.lu_solve((lu, piv), b, trans=tr) for tr in (0, 1, 2)]
    return out


@case(ref_tol=1e-7)
def lu_factor_solve_derivatives(m):
    a, b, ta, tb = R(4, 4), R(4, 2), R(4, 4), R(4, 2)

    def f(a, b, tr):
        return m.sp.lu_solve(m.sp.lu_factor(a), b, trans=tr)
    return [m.jvp(lambda a, b, tr=tr: f(a, b, tr), (m.arr(a), m.arr(b)), (m.arr(ta), m.arr(tb)))
            for tr in (0, 1)]


@case()
def scipy_solve_assume_a(m):
    out = []
    for ls, rs in [((1, 1), (1, 1)), ((4, 4), (4,)), ((5, 5), (5, 3))]:
        for dt in ("float64", "complex128"):
            b = m.arr(R(*rs, dtype=dt))
            out.append(m.sp.solve(m.arr(R(*ls, dtype=dt) + 2 * np.eye(ls[0])), b))
            p = spd(ls[0], dtype=dt)
            for lower in (False, True):
                tri = np.tril(p) if lower else np.triu(p)
                out.append(m.sp.solve(m.arr(tri), b, assume_a="pos", lower=lower))
            out.append(m.sp.solve(m.arr(p), b, assume_a="her"))
            out.append(m.sp.solve(m.arr(p + p.T), b, assume_a="sym"))
    return out


@case()
def solve_triangular_values(m):
    out = []
    for ls, rs in [((4, 4), (4,)), ((4, 4), (4, 3)), ((2, 4, 4), (2, 4, 3)), ((3, 4, 4), (4,)),
                   ((4, 4), (3, 4, 2))]:
        for dt in ("float64", "complex128"):
            lo = np.tril(R(*ls, dtype=dt)) + 3 * np.eye(ls[-1])
            b = m.arr(R(*rs, dtype=dt))
            for lower in (False, True):
                a = m.arr(lo if lower else T(lo))
                for tr in (0, 1, 2):
                    for ud in (False, True):
                        out.append(m.sp.solve_triangular(a, b, trans=tr, lower=lower,
                                                         unit_diagonal=ud))
    return out


@case(ref_tol=1e-7)
def solve_triangular_derivatives(m):
    out = []
    for dt in ("float64", "complex128"):
        lo = np.tril(R(4, 4, dtype=dt)) + 3 * np.eye(4)
        ta, b, tb = np.tril(R(4, 4, dtype=dt)), R(4, 2, dtype=dt), R(4, 2, dtype=dt)
        for tr in (0, 1, 2):
            for ud in (False, True):
                f = lambda a, b, tr=tr, ud=ud: m.sp.solve_triangular(a, b, trans=tr, lower=True,
                                                                       unit_diagonal=ud)
                out.append(m.jvp(f, (m.arr(lo), m.arr(b)), (m.arr(ta), m.arr(tb))))
    b = m.arr(R(4))
    # (the gradient in the upper triangle: SciPy and functrans read that one alone)
    g = m.grad(lambda a: m.np.sum(m.sp.solve_triangular(a, b, lower=False) ** 2))
    u = np.triu(R(4, 4)) + 3 * np.eye(4)
    return out + [m.np.triu(g(m.arr(u)))]


@case()
def cho_factor_and_solve(m):
    out = []
    for ls, rs in [((1, 1), (1,)), ((4, 4), (4,)), ((4, 4), (4, 4)), ((3, 4, 4), (4, 2)),
                   ((4, 4), (3, 4, 2))]:
        for lower in (True, False):
            c = np.tril(R(*ls)) + 3 * np.eye(ls[-1])
            c = c if lower else T(c)
            out.append(m.sp.cho_solve((m.arr(c), lower), m.arr(R(*rs))))
    p = spd(4, dtype="complex128")
    for lower in (True, False):
        c, lo = m.sp.cho_factor(m.arr(p), lower=lower)
        out.append(m.sp.cho_solve((c, lo), m.arr(R(4, 2, dtype="complex128"))))
        out.append(m.np.triu(c) if not lower else m.np.tril(c))
    return out


@case(ref_tol=1e-7)
def cho_solve_derivatives(m):
    x, t, b, tb = R(3, 3), R(3, 3), R(3, 2), R(3, 2)

    def f(x, b):
        return m.sp.cho_solve(m.sp.cho_factor(x @ x.T + 3.0 * m.np.eye(3), lower=True), b)
    return m.jvp(f, (m.arr(x), m.arr(b)), (m.arr(t), m.arr(tb)))


@case(ref_tol=1e-10, jax_tol=1e-10)
def expm_values(m):
    out = []
    for n in (1, 4, 5):
        for b in [(), (2,)]:
            for dt in ("float64", "complex128"):
                a = m.arr(0.3 * R(*b, n, n, dtype=dt))
                out.append(m.sp.expm(a))
            out.append(m.sp.expm(m.arr(np.zeros((*b, n, n)))))
    out.append(m.sp.expm(m.arr(np.array([[1, 2], [0, 3]]))))  # integers
    out.append(m.sp.expm(m.arr(np.diag([30.0, -30.0]) + 5 * R(2, 2))))  # scaling and squaring
    return out


@case(ref_tol=1e-12, jax_tol=1e-12)
def expm_upper_triangular_and_max_squarings(m):
    a = np.triu(0.5 * R(4, 4))
    # a rotation by 1e6 radians: 18 squarings, a finite exponential (the nilpotent [[0, 1e6],
    # [0, 0]] needs none since linalg37's scaling, Al-Mohy and Higham's; JAX's 1-norm count
    # gives it 18 and nan)
    big = np.array([[0.0, 1e6], [-1e6, 0.0]])
    if m.name == "reference":
        return sla.expm(a), np.full((2, 2), np.nan), sla.expm(big / 1e4)
    return (m.sp.expm(m.arr(a), upper_triangular=True), m.sp.expm(m.arr(big), max_squarings=16),
            m.sp.expm(m.arr(big / 1e4), max_squarings=16))


@case(ref_tol=1e-9, jax_tol=1e-12)
def expm_frechet_values(m):
    out = []
    for n in (1, 4, 5):
        for dt in ("float64", "complex128"):
            for norm in (1e-2, 0.9, 3.0):
                a = R(n, n, dtype=dt)
                a = a / np.linalg.norm(a, 1) * norm
                e = R(n, n, dtype=dt)
                out.append(m.sp.expm_frechet(m.arr(a), m.arr(e), compute_expm=True))
                out.append(m.sp.expm_frechet(m.arr(a), m.arr(e), compute_expm=False))
    return out


@case(ref_tol=1e-7)
def expm_derivatives(m):
    out = []
    for dt in ("float64", "complex128"):
        for norm in (1e-2, 0.9, 3.0):
            a = R(4, 4, dtype=dt)
            a = a / np.linalg.norm(a, 1) * norm
            out.append(m.jvp(m.sp.expm, (m.arr(a),), (m.arr(R(4, 4, dtype=dt)),)))
    a = 0.5 * R(3, 3)
    g = m.grad(lambda a: m.np.sum(m.np.sin(m.sp.expm(a))))
    return out + [g(m.arr(a)), m.jvp(g, (m.arr(a),), (m.arr(R(3, 3)),))[1]]


@case(ref_tol=1e-8)
def sqrtm_values_and_derivative(m):
    out = []
    for n in (4, 6):
        for dt in ("float64", "complex128"):
            a = R(n, n, dtype=dt)
            out.append(m.sp.sqrtm(m.arr(a @ a.T)))
    p = spd(3)
    if not m.jax_run:  # (JAX has no derivative of sqrtm: schur has none)
        out.append(m.jvp(m.sp.sqrtm, (m.arr(p),), (m.arr(R(3, 3)),)))
    return out


@case(skip={"array_api_strict": "singular: the Denman-Beavers iteration (off NumPy) refuses it",
            "torch": "singular: the Denman-Beavers iteration (off NumPy) refuses it"})
def sqrtm_of_singular_diagonal(m):
    # JAX's zero-numerator edge cases (SciPy's Schur method takes them)
    return [m.sp.sqrtm(m.arr(np.diag(np.asarray(d, dt))))
            for d in ([1, 0, 0], [0, 4, 0], [0, 0, 0, 9], [0, 0, 9, 0, 0, 4])
            for dt in (float, complex)]


@case(ref=False)
def sqrtm_of_general_matrix_squares_back(m):
    a = R(5, 5, dtype="complex128")
    r = m.sp.sqrtm(m.arr(a))
    return m.np.max(m.np.abs(r @ r - m.arr(a))) < 1e-10


def test_sqrtm_of_real_matrix_with_negative_eigenvalue_is_refused():
    # SciPy returns a complex root (dtype from the values) and JAX returns complex always;
    # functrans keeps a real dtype for real input and refuses, saying to pass a complex matrix
    a = np.diag([-1.0, 4.0])
    with pytest.raises(ValueError, match="complex"):
        fsl.sqrtm(a)
    np.testing.assert_allclose(fsl.sqrtm(a.astype(complex)), np.diag([1j, 2.0]), atol=1e-14)


@case(ref_tol=1e-9, jax_tol=1e-9, skip=_SCIPY_ONLY)
def schur_and_rsf2csf(m):
    out = []
    for n in (4, 6):
        for dt in ("float64", "complex128"):
            a = m.arr(R(n, n, dtype=dt))
            t, z = m.sp.schur(a)
            out += [z @ t @ m.np.conj(z.T), m.np.tril(t, -2), m.np.conj(z.T) @ z]
            if dt == "float64":
                tc, zc = m.sp.schur(a, output="complex")
                out += [zc @ tc @ m.np.conj(zc.T), m.np.tril(tc, -1)]
                t2, z2 = m.sp.rsf2csf(t, z)
                out += [z2 @ t2 @ m.np.conj(z2.T), m.np.tril(t2, -1)]
    return out


@case(ref_tol=1e-9, jax_tol=1e-9, skip=_SCIPY_ONLY)
def hessenberg_values(m):
    out = []
    for s in [(1, 1), (4, 4), (6, 6)]:
        for dt in ("float64", "complex128"):
            a = m.arr(R(*s, dtype=dt))
            h = m.sp.hessenberg(a)
            h2, q = m.sp.hessenberg(a, calc_q=True)
            out += [m.np.abs(h), m.np.tril(h, -2), q @ h2 @ m.np.conj(q.T)]
    return out


@case(ref_tol=1e-8, jax_tol=1e-8)
def polar_values(m):
    out = []
    for s, side in [((4, 4), "right"), ((5, 3), "right"), ((4, 4), "left"), ((3, 5), "left")]:
        if m.jax_run and s == (4, 4) and side == "left":
            continue  # JAX's QDWH refuses a square matrix with side='left'
        for dt in ("float64", "complex128"):
            out += list(m.sp.polar(m.arr(R(*s, dtype=dt)), side=side))
    return out


@case(ref_tol=1e-7)
def polar_derivatives(m):
    x, t = m.arr(R(4, 3)), m.arr(R(4, 3))
    return m.jvp(m.sp.polar, (x,), (t,))


@case(ref_tol=1e-8, jax_tol=1e-8, skip=_SCIPY_ONLY)
def funm_values(m):
    out = []
    for n in (1, 4):
        for dt in ("float64", "complex128"):
            a = np.diag(np.arange(1.0, n + 1)) + 0.2 * R(n, n, dtype=dt)
            out.append(m.sp.funm(m.arr(a), m.np.exp))
            out.append(m.sp.funm(m.arr(a), lambda x: x ** 2 + 1))
    return out


@case()
def toeplitz_hankel_circulant(m):
    out = [m.sp.toeplitz(m.arr(np.array([1.0, 2 + 3j, 4 - 1j]))),
           m.sp.toeplitz(m.arr(np.array([1.0, 2, 3])), m.arr(np.array([1.0, 4, 5, 6])))]
    out += [m.sp.toeplitz(m.arr(R(*c)), m.arr(R(*r)))
            for c, r in [((4,), (3,)), ((2, 4), (2, 3)), ((4,), (2, 3))]]
    out += [m.sp.toeplitz(m.arr(R(*s, dtype="complex128"))) for s in [(3,), (2, 4)]]
    out += [m.sp.hankel(m.arr(R(3))), m.sp.hankel(m.arr(R(3)), m.arr(R(4)))]
    if not m.jax_run:  # SciPy 1.17 ravels n-d hankel input (so functrans); JAX batches it
        out.append(m.sp.hankel(m.arr(R(2, 3)), m.arr(R(2, 4))))
    out += [m.sp.circulant(m.arr(R(*s))) for s in [(1,), (5,), (2, 3)]]
    return out


@case(ref_tol=1e-7)
def toeplitz_derivative(m):
    c, r, tc, tr = R(4), R(3), R(4), R(3)
    return m.jvp(m.sp.toeplitz, (m.arr(c), m.arr(r)), (m.arr(tc), m.arr(tr)))


@case(ref_tol=1e-8, jax_tol=1e-8)
def solve_sylvester_values(m):
    out = []
    for mm, n in [(2, 3), (4, 6)]:
        for dt in ("float64", "complex128"):
            a, b, x = R(mm, mm, dtype=dt), R(n, n, dtype=dt), R(mm, n, dtype=dt)
            out.append(m.sp.solve_sylvester(m.arr(a), m.arr(b), m.arr(a @ x + x @ b)))
    return out


@case(ref_tol=1e-7, jax="JAX has no derivative of solve_sylvester (schur has none)")
def solve_sylvester_derivative(m):
    a, b, q = R(2, 2) + 2 * np.eye(2), R(3, 3) + 2 * np.eye(3), R(2, 3)
    ts = (R(2, 2), R(3, 3), R(2, 3))
    return m.jvp(m.sp.solve_sylvester, tuple(map(m.arr, (a, b, q))), tuple(map(m.arr, ts)))


@case(ref_tol=1e-10, jax_tol=1e-10)
def special_matrices(m):
    out = [m.sp.hilbert(n) for n in (1, 5, 10)]
    out += [m.sp.hadamard(n, dtype=d) for n in (1, 2, 8) for d in (int, float)]
    out += [m.sp.dft(n, scale=s) for n in (1, 3, 8) for s in (None, "sqrtn", "n")]
    if not m.jax_run:  # JAX 0.10.2's pascal is float32 with errors of 1e-6 even in x64
        out += [m.sp.pascal(n, kind=k, exact=False) for n in (1, 5)
                for k in ("symmetric", "lower", "upper")]
    return out


@case(ref_tol=1e-9, jax_tol=1e-9)
def eigh_tridiagonal_values(m):
    d, e = R(6), R(5)
    w = m.sp.eigh_tridiagonal(m.arr(d), m.arr(e), eigvals_only=True)
    out = [w]
    if not m.jax_run:  # JAX computes eigenvalues only
        w2, v = m.sp.eigh_tridiagonal(m.arr(d), m.arr(e))
        out += [w2, m.np.abs(v)]
    return out


@case(ref_tol=1e-9, jax_tol=1e-9)
def scipy_eigh_and_qr_modes(m):
    out = []
    for dt in ("float64", "complex128"):
        a = _sym(m, m.arr(R(4, 4, dtype=dt)))
        b = m.arr(spd(4, dtype=dt))
        out += [m.sp.eigh(a, eigvals_only=True), m.sp.eigh(a, lower=False, eigvals_only=True)]
        w, v = m.sp.eigh(a)
        out.append(m.np.abs(v))
        for s in [(3, 4), (3, 3), (4, 3)]:
            x = m.arr(R(*s, dtype=dt))
            q, r = m.sp.qr(x)
            out += [q @ r, m.np.abs(m.sp.qr(x, mode="r")[0]),
                    m.np.abs(m.sp.qr(x, mode="economic")[1])]
        if not m.jax_run:  # (JAX has no generalized problem)
            out.append(m.sp.eigh(a, b, eigvals_only=True))
    return out


@case(ref_tol=1e-9, jax_tol=1e-9)
def qr_multiply_values(m):
    out = []
    for s in [(4, 3), (4, 4)]:
        for dt in ("float64", "complex128"):
            a = m.arr(R(*s, dtype=dt))
            k = min(s)
            for mode, cs in (("right", (2, s[0])), ("left", (k, 2))):
                res, r = m.sp.qr_multiply(a, m.arr(R(*cs, dtype=dt)), mode=mode)
                out.append(m.np.abs(r))
                q, rr = m.sp.qr(a, mode="economic")
                out.append(res @ m.np.conj(q.T) if mode == "right" else m.np.conj(q.T) @ res)
    return out


# lax.linalg.triangular_solve (JAX's testTriangularSolveGrad / Batching) ---------------------

@case(ref_tol=1e-7, jax_tol=1e-9)
def lax_triangular_solve_every_option(m):
    out = []
    for dt in ("float64", "complex128"):
        for left, bs in ((True, (4, 2)), (False, (3, 4))):
            for lower in (False, True):
                for ta in (False, True):
                    for ca in ((False, True) if dt == "complex128" else (False,)):
                        for ud in (False, True):
                            a = np.tril(R(4, 4, dtype=dt)) + 5 * np.eye(4)
                            a = a if lower else T(a).copy()
                            kw = dict(left_side=left, lower=lower, transpose_a=ta,
                                      conjugate_a=ca, unit_diagonal=ud)
                            f = functools.partial(m.triangular_solve, **kw)
                            ta_ = np.tril(R(4, 4, dtype=dt))
                            b, tb = R(*bs, dtype=dt), R(*bs, dtype=dt)
                            ta_ = ta_ if lower else T(ta_).copy()
                            out.append(m.jvp(f, (m.arr(a), m.arr(b)), (m.arr(ta_), m.arr(tb))))
    return out


@case(ref_tol=1e-9, jax_tol=1e-9)
def lax_triangular_solve_under_vmap(m):
    a = np.tril(R(2, 4, 4)) + 5 * np.eye(4)
    out = []
    for left, a_, b_, axes in [(False, a[0], R(2, 3, 4), (None, 0)), (False, a, R(3, 4), (0, None)),
                               (False, a, R(2, 3, 4), (0, 0)), (True, a, R(2, 4, 3), (0, 0)),
                               (True, a, R(2, 2, 4, 3), (None, 0))]:
        f = functools.partial(m.triangular_solve, lower=True, left_side=left)
        out.append(m.vmap(f, in_axes=axes)(m.arr(a_), m.arr(b_)))
    return out


# -- batching and staging (JAX's *Batching tests) ---------------------------------------------

@case()
def vmap_with_unmapped_operands(m):
    a, b = R(4, 3, 3) + 3 * np.eye(3), R(4, 3, 2)
    lo = np.tril(R(4, 3, 3)) + 3 * np.eye(3)
    solve = m.vmap(m.la.solve, in_axes=(0, None))
    tri = lambda a, b: m.sp.solve_triangular(a, b, lower=True)
    return (solve(m.arr(a), m.arr(b[0])),
            m.vmap(m.la.solve, in_axes=(None, 0))(m.arr(a[0]), m.arr(b)),
            m.vmap(tri, in_axes=(0, None))(m.arr(lo), m.arr(b[0])),
            m.vmap(tri, in_axes=(None, 0))(m.arr(lo[0]), m.arr(b)),
            m.vmap(tri)(m.arr(lo), m.arr(b)),
            m.vmap(lambda a, b: m.la.lstsq(a, b)[0], in_axes=(0, None))(m.arr(R(4, 5, 3)),
                                                                        m.arr(R(5, 2))),
            m.vmap(lambda c, b: m.sp.cho_solve((c, True), b), in_axes=(0, None))(
                m.arr(lo), m.arr(b[0])))


@case(ref_tol=1e-8)
def vmap_and_jit_of_decompositions(m):
    x = R(3, 4, 4)
    s = _sym(m, m.arr(x)) + m.arr(4 * np.eye(4))
    f = m.jit(m.vmap(lambda a: (m.la.cholesky(a), m.la.eigvalsh(a), m.la.det(a), m.la.inv(a),
                                m.la.svd(a, compute_uv=False), m.la.slogdet(a)[1],
                                m.la.norm(a, 2), m.la.pinv(a), m.sp.expm(a / 8),
                                m.la.matrix_power(a, 3))))
    q = m.vmap(lambda a: _qr_fixed(m, a))(m.arr(x))
    lu = m.vmap(m.sp.lu_factor)(m.arr(x))
    solved = m.vmap(lambda l, p, b: m.sp.lu_solve((l, p), b))(lu[0], lu[1], m.arr(R(3, 4)))
    return f(s), q, solved


@case(ref_tol=1e-7)
def derivatives_under_vmap(m):
    x, t = R(3, 4, 4), R(3, 4, 4)
    def loss(a):
        s = a @ a.T + 4.0 * m.np.eye(4)
        return (m.la.slogdet(s)[1] + m.np.sum(m.la.eigvalsh(s) ** 2) + m.np.sum(m.la.inv(s))
                + m.np.sum(m.la.svd(a, compute_uv=False)) + m.np.sum(m.la.cholesky(s)))
    g = m.vmap(m.grad(loss))
    return g(m.arr(x)), m.vmap(lambda a, t: m.jvp(m.grad(loss), (a,), (t,))[1])(m.arr(x), m.arr(t))


# -- runners -----------------------------------------------------------------------------------

def _host(tree, backend=None):
    def one(x):
        if isinstance(x, (tuple, list)) and not x:
            return np.zeros(0)
        if backend is not None and not isinstance(x, (bool, int, float, complex, np.ndarray,
                                                      np.generic)):
            return backend.to_numpy(x)
        return np.asarray(x)
    return optree.tree_map(one, tree, none_is_leaf=True)


def _compare(got, want, tol):
    lg, lw = optree.tree_leaves(got, none_is_leaf=True), optree.tree_leaves(want, none_is_leaf=True)
    assert len(lg) == len(lw), (len(lg), len(lw))
    for i, (x, y) in enumerate(zip(lg, lw)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (i, x.shape, y.shape)
        if x.dtype == bool or y.dtype == bool:
            np.testing.assert_array_equal(x, y, err_msg=f"leaf {i}")
        else:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"leaf {i}")


def _run(c, ns, backend=None):
    _RNG[0] = np.random.default_rng(0)
    return _host(c.fn(ns), backend)


@pytest.mark.parametrize("name", list(CASES))
def test_case_matches_numpy_scipy(name, backend):
    c = CASES[name]
    if not c.backends and backend.id != "numpy":
        pytest.skip("numpy backend only (the case is long)")
    if backend.name in c.skip:
        pytest.skip(c.skip[backend.name])
    got = _run(c, _ft(backend), backend)
    if c.ref:
        _compare(got, _run(c, REF), c.ref_tol)
    else:  # its own closed-form check: every flag it returns must be True, numbers zero
        for leaf in optree.tree_leaves(got):
            leaf = np.asarray(leaf)
            assert np.all(leaf) if leaf.dtype == bool else np.all(leaf == 0), (name, leaf)


@pytest.mark.parametrize("name", list(CASES))
def test_case_matches_jax(name):
    jx = _jax_ns()
    c = CASES[name]
    if c.jax:
        pytest.skip(c.jax)
    ours = _ft()
    ours.jax_run = True
    jax = pytest.importorskip("jax")
    # JAX's side whole under jax.jit where it traces (one compilation, not one per
    # operation); cases reading values in Python run eagerly
    try:
        _RNG[0] = np.random.default_rng(0)
        theirs = _host(jax.jit(lambda: c.fn(jx))())
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
            jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError):
        theirs = _run(c, jx)
    _compare(_run(c, ours), theirs, c.jax_tol)


# -- result dtypes, against NumPy/SciPy --------------------------------------------------------

def _dtype_input(dt, kind):
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    if kind == "int":
        a = np.round(a * 2)
    if np.dtype(dt).kind == "c":
        a = a + 0.1j * np.triu(a, 1) - 0.1j * np.tril(a, -1)  # Hermitian, positive definite
    return a.astype(dt)


_DTYPE_CASES = {
    "cholesky": lambda L, S, a: L.cholesky(a), "det": lambda L, S, a: L.det(a),
    "slogdet": lambda L, S, a: tuple(L.slogdet(a)), "inv": lambda L, S, a: L.inv(a),
    "pinv": lambda L, S, a: L.pinv(a), "eigh": lambda L, S, a: tuple(L.eigh(a)),
    "eigvalsh": lambda L, S, a: L.eigvalsh(a), "svd": lambda L, S, a: tuple(L.svd(a)),
    "svdvals": lambda L, S, a: L.svdvals(a), "qr": lambda L, S, a: tuple(L.qr(a)),
    "norm": lambda L, S, a: (L.norm(a), L.norm(a, 2), L.norm(a, "nuc"), L.norm(a[0], 3)),
    "cond": lambda L, S, a: L.cond(a), "matrix_power": lambda L, S, a: (L.matrix_power(a, 3),
                                                                        L.matrix_power(a, 0)),
    "solve": lambda L, S, a: L.solve(a, a[:, 0]), "lstsq": lambda L, S, a: L.lstsq(a, a)[0],
    "trace": lambda L, S, a: L.trace(a), "outer": lambda L, S, a: L.outer(a[0], a[1]),
    "cross": lambda L, S, a: L.cross(a[0], a[1]), "vecdot": lambda L, S, a: L.vecdot(a, a),
    "tensorinv": lambda L, S, a: L.tensorinv(a, 1),
    "multi_dot": lambda L, S, a: L.multi_dot([a, a, a]),
    "vector_norm": lambda L, S, a: L.vector_norm(a, ord=3),
    "matrix_norm": lambda L, S, a: L.matrix_norm(a, ord=1),
    "sp.lu": lambda L, S, a: tuple(S.lu(a)), "sp.lu_factor": lambda L, S, a: S.lu_factor(a)[0],
    "sp.lu_solve": lambda L, S, a: S.lu_solve(S.lu_factor(a), a[0]),
    "sp.cho_solve": lambda L, S, a: S.cho_solve(S.cho_factor(a), a[0]),
    "sp.solve_triangular": lambda L, S, a: S.solve_triangular(a, a[0], lower=True),
    "sp.expm": lambda L, S, a: S.expm(a / 4), "sp.det": lambda L, S, a: S.det(a),
    "sp.inv": lambda L, S, a: S.inv(a), "sp.solve": lambda L, S, a: S.solve(a, a[0]),
    "sp.block_diag": lambda L, S, a: S.block_diag(a, a[:2]),
    "sp.toeplitz": lambda L, S, a: S.toeplitz(a[0]),
    "sp.hankel": lambda L, S, a: S.hankel(a[0], a[1]),
    "sp.circulant": lambda L, S, a: S.circulant(a[0]),
    "sp.eigh": lambda L, S, a: tuple(S.eigh(a)), "sp.svd": lambda L, S, a: tuple(S.svd(a)),
    "sp.qr": lambda L, S, a: tuple(S.qr(a)), "sp.polar": lambda L, S, a: tuple(S.polar(a)),
    "sp.expm_frechet": lambda L, S, a: tuple(S.expm_frechet(a / 4, a)),
    "sp.sqrtm": lambda L, S, a: S.sqrtm(a), "sp.schur": lambda L, S, a: tuple(S.schur(a)),
    "sp.hessenberg": lambda L, S, a: S.hessenberg(a),
    "sp.solve_sylvester": lambda L, S, a: S.solve_sylvester(a, a, a),
}


@pytest.mark.parametrize("name", list(_DTYPE_CASES))
def test_result_dtypes_match_numpy_scipy(name):
    f = _DTYPE_CASES[name]
    for dt, kind in [("float32", "float"), ("complex64", "float"), ("float64", "float"),
                     ("complex128", "float"), ("int64", "int"), ("bool", "int")]:
        a = _dtype_input(dt, kind)
        if dt == "bool":
            a = np.eye(3, dtype=bool) | (a > 2)
        try:
            want = f(np.linalg, sla, a)
        except Exception:  # NumPy/SciPy refuse this dtype: nothing to compare
            continue
        got = f(fnp.linalg, fsl, a)
        for i, (x, y) in enumerate(zip(optree.tree_leaves(got), optree.tree_leaves(want))):
            y = np.asarray(y)
            if dt == "bool" and y.dtype.kind == "f" and np.asarray(x).dtype == np.float64:
                continue  # functrans's float functions of bool give float64 (documented)
            if dt in ("int64", "bool") and y.dtype == np.float16:
                continue
            assert np.asarray(x).dtype == y.dtype, (name, dt, i, np.asarray(x).dtype, y.dtype)


# -- VJPs by the dot-product identity (real and complex) ---------------------------------------
# For JAX's (and functrans's) convention the pullback is the transpose of the JVP under the
# bilinear pairing Re(sum(u * v)) (no conjugation): Re<ct, J t> == Re<vjp(ct), t>.

def _pair(a, b):
    return float(sum(np.real(np.sum(np.asarray(x) * np.asarray(y)))
                     for x, y in zip(optree.tree_leaves(a), optree.tree_leaves(b))))


def _like_random(rng, tree):
    def one(x):
        x = np.asarray(x)
        r = rng.normal(size=x.shape)
        if x.dtype.kind == "c":
            r = r + 1j * rng.normal(size=x.shape)
        return r.astype(x.dtype)
    return optree.tree_map(one, tree)


def _eye_like(x):
    n = x.shape[-1]
    return fnp.eye(n, dtype=fnp.result_type(x), device=fnp.device(x))


_VJP_CASES = {
    "cholesky": (lambda x: fnp.linalg.cholesky(x @ fnp.conj(fnp.matrix_transpose(x))
                                               + 3.0 * _eye_like(x)), [(3, 3)]),
    "det": (fnp.linalg.det, [(2, 3, 3)]),
    "slogdet": (lambda x: fnp.linalg.slogdet(x)[1], [(3, 3)]),
    "inv": (fnp.linalg.inv, [(3, 3)]),
    "pinv": (fnp.linalg.pinv, [(4, 3)]),
    "eigh": (lambda x: fnp.linalg.eigh(x + fnp.conj(fnp.matrix_transpose(x)))[0], [(3, 3)]),
    "eigh_projector": (lambda x: (lambda v: v[:, :1] @ fnp.conj(v[:, :1].T))(
        fnp.linalg.eigh(x + fnp.conj(fnp.matrix_transpose(x)))[1]), [(3, 3)]),
    "svd": (lambda x: fnp.linalg.svd(x, compute_uv=False), [(4, 3)]),
    "svd_projector": (lambda x: (lambda u: u[:, :1] @ fnp.conj(u[:, :1].T))(
        fnp.linalg.svd(x, full_matrices=False)[0]), [(3, 4)]),
    "qr": (lambda x: (lambda q, r: q @ fnp.diag(fnp.diagonal(r)) + r[0, ...])(*fnp.linalg.qr(x)),
           [(4, 3)]),
    "solve": (fnp.linalg.solve, [(3, 3), (3, 2)]),
    "lstsq": (lambda a, b: fnp.linalg.lstsq(a, b)[0], [(5, 3), (5, 2)]),
    "matrix_power": (lambda x: fnp.linalg.matrix_power(x, -3), [(3, 3)]),
    "norm_nuc": (lambda x: fnp.linalg.norm(x, "nuc"), [(3, 4)]),
    "tensorinv": (lambda x: fnp.linalg.tensorinv(x, ind=1), [(6, 2, 3)]),
    "expm": (fsl.expm, [(3, 3)]),
    "lu": (lambda x: fsl.lu(x)[1:], [(4, 3)]),
    "lu_solve": (lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=2), [(3, 3), (3, 2)]),
    "solve_triangular": (lambda a, b: fsl.solve_triangular(a, b, lower=True, trans=2),
                         [(3, 3), (3, 2)]),
    "polar": (lambda x: fsl.polar(x), [(4, 3)]),
    "eig_projector": (lambda x: _eig_projectors(types.SimpleNamespace(
        la=fnp.linalg, np=fnp, eig=lambda a: tuple(fnp.linalg.eig(a))), x), [(3, 3)]),
}
_VJP_SHIFT = {"inv", "solve", "matrix_power", "lu_solve", "solve_triangular", "tensorinv",
              "det", "slogdet"}


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("name", list(_VJP_CASES))
def test_vjp_dot_product_identity_first_and_second_order(name, dtype, backend):
    if name == "eig_projector" and backend.name == "array_api_strict":
        pytest.skip(_NO_EIG["array_api_strict"])
    f, shapes = _VJP_CASES[name]
    rng = np.random.default_rng(1)
    xs = []
    for k, s in enumerate(shapes):
        x = rng.normal(size=s) + (1j * rng.normal(size=s) if dtype == "complex128" else 0)
        if k == 0 and name in _VJP_SHIFT:
            x = x + 3 * np.eye(s[-1]) if len(s) == 2 or s[-1] == s[-2] else x
        if name == "tensorinv":
            x = x + 3 * np.eye(6).reshape(6, 2, 3)
        if name == "solve_triangular" and k == 0:
            x = np.tril(x)
        if name == "eig_projector":
            x = np.diag([1.0, 2.5, 4.0]) + 0.3 * x
        xs.append(x.astype(dtype))
    on = [backend.asarray(x, dtype=dtype) for x in xs]
    ts = _like_random(rng, xs)
    out, pull = ft.vjp(f, *on)
    ct = _like_random(rng, _host(out, backend))
    _, jt = ft.jvp(f, tuple(on), tuple(backend.asarray(t, dtype=dtype) for t in ts))
    ct_b = optree.tree_map(lambda c: backend.asarray(c, dtype=c.dtype.name), ct)
    lhs = _pair(ct, _host(jt, backend))
    rhs = _pair(_host(pull(ct_b), backend), ts)
    assert abs(lhs - rhs) <= 1e-9 * (1 + abs(lhs)), (lhs, rhs)
    # the JVP itself against finite differences (so the pullback is right, not only adjoint)
    fd = _fd_jvp(lambda *a: _host(f(*[backend.asarray(v, dtype=dtype) for v in a]), backend),
                 xs, ts)[1]
    _compare(_host(jt, backend), fd, 1e-7)
    # second order: the pullback as a function of the primals, checked the same way
    g = lambda *a: ft.vjp(f, *a)[1](ct_b)
    outg, pullg = ft.vjp(g, *on)
    ct2 = _like_random(rng, _host(outg, backend))
    _, jt2 = ft.jvp(g, tuple(on), tuple(backend.asarray(t, dtype=dtype) for t in ts))
    ct2_b = optree.tree_map(lambda c: backend.asarray(c, dtype=c.dtype.name), ct2)
    lhs2 = _pair(ct2, _host(jt2, backend))
    rhs2 = _pair(_host(pullg(ct2_b), backend), ts)
    assert abs(lhs2 - rhs2) <= 1e-8 * (1 + abs(lhs2)), (lhs2, rhs2)


def test_a_tracer_never_becomes_a_library_of_its_own():
    # backend_of(tracer) made an Array API "standard backend" named functrans for JVPTracer
    # (tracers carry __array_namespace__) and kept it: found as the second-order pullbacks
    # above copied a borrowed cotangent that was a tracer; later vjp calls then refused
    # concrete cotangents ("belongs to a functrans array")
    import functrans.backends as fb
    from functrans.errors import UnsupportedBackendError

    def f(x):
        with pytest.raises(UnsupportedBackendError):
            fb.backend_of(x)
        return fnp.sum(x)
    ft.grad(f)(np.ones(2))
    assert not [b for b in fb._by_type.values() if b.name == "functrans"]


def test_singular_and_indefinite_matrices_raise_where_jax_gives_nan():
    # functrans keeps NumPy's errors (a batch with one bad matrix raises as a whole); JAX
    # returns NaN/inf there. det, slogdet and lu_factor of a singular matrix are values.
    sing, indef = np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[1.0, 2.0], [2.0, 1.0]])
    for f, a in [(fnp.linalg.inv, sing), (lambda x: fnp.linalg.solve(x, np.ones(2)), sing),
                 (fnp.linalg.cholesky, indef), (fsl.inv, sing),
                 (lambda x: fsl.cho_factor(x)[0], indef), (ft.jit(fnp.linalg.inv), sing),
                 (ft.vmap(fnp.linalg.inv), np.stack([np.eye(2), sing]))]:
        with pytest.raises(np.linalg.LinAlgError):
            f(a)
    assert float(fnp.linalg.det(sing)) == 0.0
    assert float(fnp.linalg.slogdet(sing)[1]) == -np.inf
    if importlib.util.find_spec("jax") is None:
        return
    jx = _jax_ns()
    assert not np.all(np.isfinite(np.asarray(jx.la.inv(sing))))
    assert np.any(np.isnan(np.asarray(jx.la.cholesky(indef))))


def test_jax_keywords_are_accepted():
    # slogdet(method=), polar(method=, eps=, max_iterations=), dft(dtype=),
    # solve_sylvester(method=), eigh_tridiagonal(key=), expm(upper_triangular=, max_squarings=)
    a = R(3, 3) + 3 * np.eye(3)
    for meth in ("lu", "qr"):
        _compare(tuple(fnp.linalg.slogdet(a, method=meth)), tuple(np.linalg.slogdet(a)), 1e-12)
    with pytest.raises(NotImplementedError, match="complex"):
        fnp.linalg.slogdet(a.astype(complex), method="qr")
    for meth in ("qdwh", "svd"):
        _compare(fsl.polar(a, method=meth, eps=1e-6, max_iterations=10), sla.polar(a), 1e-12)
        _compare(fsl.solve_sylvester(a, a.T, a, method={"qdwh": "schur", "svd": "eigen"}[meth]),
                 sla.solve_sylvester(a, a.T, a), 1e-12)
    for f in (lambda: fnp.linalg.slogdet(a, method="svd"), lambda: fsl.polar(a, method="x"),
              lambda: fsl.solve_sylvester(a, a, a, method="x"),
              lambda: fsl.dft(3, dtype="float32")):
        with pytest.raises(ValueError):
            f()
    d = fsl.dft(4, scale="n", dtype="complex64")
    assert np.asarray(d).dtype == np.complex64
    np.testing.assert_allclose(np.asarray(d), sla.dft(4, scale="n"), rtol=1e-6, atol=1e-7)
    _compare(fsl.eigh_tridiagonal(np.ones(4), np.arange(3.0), eigvals_only=True, key=None),
             sla.eigh_tridiagonal(np.ones(4), np.arange(3.0), eigvals_only=True), 1e-12)


# -- more derivatives against finite differences (NumPy inputs) ---------------------------------

def _more_derivative_cases():
    r = np.random.default_rng(3)
    n = r.normal
    w, b, a = n(size=(3, 5)), n(size=(3, 2)), n(size=(4, 4))
    wc, s = w + 1j * n(size=(3, 5)), a + a.T
    big = a / np.abs(a).sum(0).max()
    spd4 = lambda x: x @ x.T + 3 * np.eye(4)
    fix = types.SimpleNamespace(la=fnp.linalg, np=fnp)
    return {
        "lstsq_wide": (lambda a, b: fnp.linalg.lstsq(a, b)[0], [w, b]),
        "lstsq_wide_complex": (lambda a, b: fnp.linalg.lstsq(a, b)[0], [wc, b + 0j]),
        "pinv_wide_complex": (fnp.linalg.pinv, [wc]),
        "expm_30_squarings": (fsl.expm, [30 * big]),
        "expm_stack_of_mixed_norms": (fsl.expm, [np.stack([0.1 * a, 20 * big])]),
        "vmap_expm": (ft.vmap(fsl.expm), [np.stack([0.1 * a, 20 * big])]),
        "empty_cholesky_inv_det": (lambda x: (fnp.linalg.cholesky(x), fnp.linalg.inv(x),
                                              fnp.linalg.det(x)), [np.zeros((0, 0))]),
        "eigh_1x1": (fnp.linalg.eigh, [np.array([[2.0]])]),
        "eigh_upper_unsymmetrized": (lambda x: fnp.linalg.eigh(
            fnp.triu(x) + fnp.triu(x, 1).T, UPLO="U", symmetrize_input=False)[0], [s]),
        "norm_-2_complex": (lambda x: fnp.linalg.norm(x, -2), [wc[:, :3]]),
        "cond_-2": (lambda x: fnp.linalg.cond(x, -2), [a]),
        "matrix_norm_-1": (lambda x: fnp.linalg.matrix_norm(x, ord=-1), [a]),
        "svd_wide_complex_vectors": (lambda x: _svd_fixed(fix, x), [wc]),
        "qr_wide_complete_r": (lambda x: fnp.linalg.qr(x, mode="complete")[1], [w]),
        "lu_permute_l": (lambda x: fsl.lu(x, permute_l=True), [n(size=(4, 3))]),
        "cho_factor_upper": (lambda x: fnp.triu(fsl.cho_factor(spd4(x), lower=False)[0]), [a]),
        "scipy_eigh_generalized": (lambda x, y: fsl.eigh(x + x.T, spd4(y), eigvals_only=True),
                                   [a, n(size=(4, 4))]),
        "scipy_solve_pos": (lambda x, y: fsl.solve(spd4(x), y, assume_a="pos"),
                            [a, n(size=(4, 2))]),
        "scipy_solve_sym_lower": (lambda x, y: fsl.solve(x, y, assume_a="sym", lower=True),
                                  [s + 8 * np.eye(4), n(size=(4,))]),
        "scipy_inv_pos": (lambda x: fsl.inv(spd4(x), assume_a="pos"), [a]),
        "solve_banded": (lambda ab, y: fsl.solve_banded((1, 1), ab, y),
                         [n(size=(3, 5)) + np.array([[0], [4], [0]]), n(size=(5,))]),
        "continuous_lyapunov": (lambda x, q: fsl.solve_continuous_lyapunov(x - 5 * np.eye(4), q),
                                [a, s]),
        "discrete_lyapunov": (lambda x, q: fsl.solve_discrete_lyapunov(0.2 * x, q), [a, s]),
        "eigh_tridiagonal": (lambda d, e: fsl.eigh_tridiagonal(d, e, eigvals_only=True),
                             [n(size=5), n(size=4)]),
        "tensorsolve": (fnp.linalg.tensorsolve, [n(size=(2, 3, 6)) + 3 * np.eye(6).reshape(2, 3, 6),
                                                 n(size=(2, 3))]),
        "multi_dot_four": (lambda *xs: fnp.linalg.multi_dot(list(xs)),
                           [n(size=(2, 3)), n(size=(3, 4)), n(size=(4, 2)), n(size=(2,))]),
        "vector_norm_half_and_-inf": (lambda x: (fnp.linalg.vector_norm(x, ord=0.5, axis=0),
                                                 fnp.linalg.vector_norm(x, ord=-np.inf, axis=1)),
                                      [np.abs(a) + 0.5]),
    }


_MORE = _more_derivative_cases()


@pytest.mark.parametrize("name", list(_MORE))
def test_more_derivatives_against_finite_differences(name):
    f, xs = _MORE[name]
    rng = np.random.default_rng(4)
    ts = _like_random(rng, xs)
    got = _host(ft.jvp(f, tuple(xs), tuple(ts))[1])
    _compare(got, _fd_jvp(lambda *a: _host(f(*a)), xs, ts)[1], 1e-6)
    out, pull = ft.vjp(f, *xs)
    ct = _like_random(rng, _host(out))
    lhs, rhs = _pair(ct, got), _pair(_host(pull(ct)), ts)
    assert abs(lhs - rhs) <= 1e-8 * (1 + abs(lhs)), (lhs, rhs)


# -- vmap of values and of JVPs equals a loop --------------------------------------------------

_BATCHED = {**_VJP_CASES,
            **{k: (v[0], [np.shape(x) for x in v[1]]) for k, v in _MORE.items()
               if k not in ("vmap_expm", "empty_cholesky_inv_det")},
            "sqrtm": (fsl.sqrtm, [(3, 3)]),
            "qr_pivoting": (lambda x: fsl.qr(x, pivoting=True, mode="economic")[:2], [(4, 3)]),
            "solve_sylvester": (fsl.solve_sylvester, [(2, 2), (3, 3), (2, 3)]),
            "hessenberg": (lambda x: fnp.abs(fsl.hessenberg(x)), [(4, 4)])}


@pytest.mark.parametrize("name", list(_BATCHED))
def test_vmap_of_values_and_jvps_equals_a_loop(name):
    f, shapes = _BATCHED[name]
    rng = np.random.default_rng(6)
    xs = []
    for s in shapes:
        x = rng.normal(size=(3,) + tuple(s))
        if len(s) >= 2 and s[-1] == s[-2]:
            x = x + 3 * np.eye(s[-1])
        if name == "tensorinv":
            x = x + 3 * np.eye(6).reshape(6, 2, 3)
        if name == "solve_triangular" and not xs:
            x = np.tril(x)
        if name == "sqrtm":
            x = x @ np.swapaxes(x, -1, -2)
        xs.append(x)
    _compare(_host(ft.vmap(f)(*xs)), _loop_vmap(lambda *a: _host(f(*a)))(*xs), 1e-10)
    ts = [rng.normal(size=x.shape) for x in xs]
    k = len(xs)
    tangent = lambda *a: ft.jvp(f, a[:k], a[k:])[1]
    _compare(_host(ft.vmap(tangent)(*xs, *ts)), _loop_vmap(lambda *a: _host(tangent(*a)))(*xs, *ts),
             1e-9)
