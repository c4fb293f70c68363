"""Session 39, linalg39: second derivatives of eigvalsh and svdvals (and the norms and
condition numbers built on svdvals) at repeated eigenvalues and singular values stay within
their own matrix of a stack, and are exact for a sum over a tied cluster; where a second
derivative is undefined at a tie it is nan, never a finite wrong value."""

import zlib

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg

_NESTINGS = {
    "fwd(rev)": lambda f: ft.jacfwd(ft.jacrev(f)),
    "fwd(fwd)": lambda f: ft.jacfwd(ft.jacfwd(f)),
    "rev(rev)": lambda f: ft.jacrev(ft.jacrev(f)),
    "rev(fwd)": lambda f: ft.jacrev(ft.jacfwd(f)),
}

# the brief's stack: a matrix with a repeated eigenvalue (and singular value) beside an
# ordinary one
_TIED = np.diag([1.0, 1.0, 2.0])
_PLAIN = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
_STACK = np.stack([_TIED, _PLAIN])

_VALUES = {
    "eigvalsh": la.eigvalsh,
    "svdvals": la.svdvals,
    "matrix_norm 2": lambda x: la.matrix_norm(x, ord=2),
    "matrix_norm nuc": lambda x: la.matrix_norm(x, ord="nuc"),
}


def _blocks(h, n_out_axes):
    """(output's matrix, first derivative's matrix, second's) -> block of h."""
    out = {}
    for b in range(2):
        for c in range(2):
            for d in range(2):
                sl = (b,) + (slice(None),) * (n_out_axes - 1) + (c, slice(None), slice(None),
                                                                 d)
                out[b, c, d] = h[sl]
    return out


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
@pytest.mark.parametrize("name", sorted(_VALUES))
def test_tied_matrix_leaves_the_others_alone(name, nesting):
    f = _VALUES[name]
    h = np.asarray(_NESTINGS[nesting](f)(_STACK))
    alone = np.asarray(_NESTINGS[nesting](f)(_PLAIN[None]))
    n_out = h.ndim - 6
    for (b, c, d), block in _blocks(h, n_out).items():
        if (b, c, d) == (1, 1, 1):
            np.testing.assert_allclose(block, alone[(0,) + (slice(None),) * (n_out - 1)
                                                    + (0, slice(None), slice(None), 0)],
                                       rtol=1e-12, atol=1e-13)
        elif (b, c, d) != (0, 0, 0):
            # exactly 0: a matrix's derivatives depend on that matrix only (was nan: eigh's
            # 1 / (w_j - w_i) at the tie times the other output's zero cotangent)
            np.testing.assert_array_equal(block, 0.0, err_msg=str((b, c, d)))


def _cluster_sum_hessian():
    """The Hessian of w_0 + w_1 = tr(x) - w_2 at diag(1, 1, 2) (x symmetrized): -d^2 w_2,
    d^2 w_2 = 2 sum_{j<2} P_2j^2 / (2 - 1) with P = (dx + dx^T) / 2."""
    h = np.zeros((3, 3, 3, 3))
    for j in range(2):
        g = np.zeros((3, 3))
        g[2, j] += 0.5
        g[j, 2] += 0.5
        h -= 2.0 * np.einsum("ab,cd->abcd", g, g)
    return h


@pytest.mark.parametrize("nesting", ["fwd(rev)", "rev(rev)"])
def test_sum_over_a_tied_cluster_is_twice_differentiable(nesting):
    # w_0 + w_1 is smooth at diag(1, 1, 2) (c_0 = c_1: the cluster's projector), the rule
    # gives its Hessian exactly (JAX: nan throughout)
    h = np.asarray(_NESTINGS[nesting](lambda x: fnp.sum(la.eigvalsh(x)[:2]))(_TIED))
    np.testing.assert_allclose(h, _cluster_sum_hessian(), atol=1e-15)
    # and a simple eigenvalue of the tied matrix: finite (its own second derivative)
    h2 = np.asarray(_NESTINGS[nesting](lambda x: la.eigvalsh(x)[2])(_TIED))
    np.testing.assert_allclose(h2, -_cluster_sum_hessian(), atol=1e-15)


@pytest.mark.parametrize("nesting", sorted(_NESTINGS))
def test_tied_eigenvalue_alone_has_no_second_derivative(nesting):
    # w_0 at a tie is a kink (min of two branches): the directions that turn the pair (x_01,
    # x_10) give inf or nan, never a finite value
    h = np.asarray(_NESTINGS[nesting](lambda x: la.eigvalsh(x)[0])(_TIED))
    assert not np.isfinite(h[0, 1, 0, 1]) and not np.isfinite(h[1, 0, 0, 1])


_NEVER_WRONG = {
    # smooth functions of x whose Hessian at a tie needs the cotangent's own derivative in
    # the spectrum (Lewis and Sendov's term): the rules give nan there (the earlier ones
    # gave 0 in reverse-over-reverse and for svdvals at the zero matrix: 1 or 2 off)
    "sum (eigvalsh - 1)^2 at I": (lambda x: fnp.sum((la.eigvalsh(x) - 1.0) ** 2), np.eye(3)),
    "sum svdvals^2 at 0": (lambda x: fnp.sum(la.svdvals(x) ** 2), np.zeros((3, 3))),
}


def _symmetrized_square_hessian():
    """Hessian of ||(x + x^T) / 2 - c||_F^2 in x's entries."""
    h = np.zeros((3, 3, 3, 3))
    for a in range(3):
        for b in range(3):
            g = np.zeros((3, 3))
            g[a, b] += 0.5
            g[b, a] += 0.5
            h[a, b] = 2.0 * g
    return h


@pytest.mark.parametrize("nesting", ["fwd(rev)", "fwd(fwd)", "rev(rev)"])
@pytest.mark.parametrize("name", sorted(_NEVER_WRONG))
def test_undefined_rule_terms_are_nan_not_wrong(name, nesting):
    f, x = _NEVER_WRONG[name]
    h = np.asarray(_NESTINGS[nesting](f)(x))
    want = (_symmetrized_square_hessian() if "eigvalsh" in name
            else 2.0 * np.eye(9).reshape(3, 3, 3, 3))
    ok = np.isfinite(h)
    assert (~ok).any()
    np.testing.assert_allclose(h[ok], want[ok], atol=1e-13)


def _jvp_fd(f, x, t, h=1e-6):
    return (np.asarray(f(x + h * t)) - np.asarray(f(x - h * t))) / (2 * h)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 3)])
@pytest.mark.parametrize("kind", ["eigvalsh", "svdvals real", "svdvals complex",
                                  "cond", "nuc complex"])
def test_second_derivatives_match_finite_differences(kind, shape):
    # ordinary points: every nesting's Hessian-vector product against central differences
    # of the gradient, real and complex (through real parameters), square and rectangular
    if kind == "eigvalsh" and shape[-1] != shape[-2]:
        pytest.skip("eigvalsh needs square matrices")
    # (a seed that is the same in every process: hash() of a str is salted per process, and
    # some draws are ill-conditioned enough, cond ~1e5, for the central differences to miss)
    rng = np.random.default_rng(zlib.crc32(repr((kind, shape)).encode()))
    cplx = "complex" in kind
    base = {"eigvalsh": la.eigvalsh, "svdvals real": la.svdvals, "svdvals complex": la.svdvals,
            "cond": la.cond, "nuc complex": lambda z: la.matrix_norm(z, ord="nuc")}[kind]
    wshape = shape[:-2] + (min(shape[-2:]),) if kind in ("eigvalsh",) or "svdvals" in kind \
        else shape[:-2]
    wt = rng.standard_normal(wshape)

    def f(p):
        z = p[0] + 1j * p[1] if cplx else p
        if kind == "eigvalsh":
            z = z + fnp.matrix_transpose(z)
        return fnp.sum(base(z) * wt)
    p = rng.standard_normal(((2,) if cplx else ()) + shape)
    t = rng.standard_normal(p.shape)
    grad = ft.grad(f)
    want = _jvp_fd(lambda q: grad(q), p, t)
    for name, nest in (("fwd(rev)", ft.hessian), ("fwd(fwd)", lambda g: ft.jacfwd(
            ft.jacfwd(g))), ("rev(rev)", lambda g: ft.jacrev(ft.jacrev(g)))):
        h = np.asarray(nest(f)(p)).reshape(p.size, p.size)
        np.testing.assert_allclose(h @ t.ravel(), want.ravel(), rtol=1e-6, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("kind", ["eigvalsh", "svdvals"])
def test_second_derivatives_match_jax(kind):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    if kind == "eigvalsh":
        x = x + np.conj(np.swapaxes(x, -1, -2))
    p = np.stack([x.real, x.imag])
    ours = {"eigvalsh": la.eigvalsh, "svdvals": la.svdvals}[kind]
    theirs = {"eigvalsh": jnp.linalg.eigvalsh,
              "svdvals": lambda z: jnp.linalg.svd(z, compute_uv=False)}[kind]
    for a, b in ((ft.jacfwd, jax.jacfwd), (ft.jacrev, jax.jacrev)):
        for c, d in ((ft.jacfwd, jax.jacfwd), (ft.jacrev, jax.jacrev)):
            got = np.asarray(c(a(lambda q: ours(q[0] + 1j * q[1])))(p))
            want = np.asarray(d(b(lambda q: theirs(q[0] + 1j * q[1])))(jnp.asarray(p)))
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)


def test_spectral_tangent_under_jit_and_vmap():
    f = ft.hessian(lambda x: fnp.sum(la.eigvalsh(x)[..., :2]))
    np.testing.assert_allclose(np.asarray(ft.jit(f)(_TIED)), _cluster_sum_hessian(),
                               atol=1e-15)
    g = ft.vmap(ft.hessian(lambda x: fnp.sum(la.svdvals(x) ** 3)))
    got = np.asarray(g(_STACK))
    want = np.stack([np.asarray(ft.hessian(lambda x: fnp.sum(la.svdvals(x) ** 3))(m))
                     for m in _STACK])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_eigvalsh_hessian_on_backends(backend):
    x = backend.asarray(_STACK)
    h = ft.jacfwd(ft.jacrev(la.eigvalsh))(x)
    assert backend.is_own(h)
    h = np.asarray(backend.to_numpy(h))
    blocks = _blocks(h, 2)
    for key, block in blocks.items():
        if key not in ((0, 0, 0), (1, 1, 1)):
            np.testing.assert_array_equal(block, 0.0)
    want = np.asarray(ft.jacfwd(ft.jacrev(la.eigvalsh))(_STACK))
    np.testing.assert_allclose(blocks[1, 1, 1], _blocks(want, 2)[1, 1, 1], rtol=1e-12,
                               atol=1e-13)
