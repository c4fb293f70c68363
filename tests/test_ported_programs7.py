"""Programs of the kind written with JAX's ecosystem libraries (optax, flax/equinox, numpyro/
blackjax, diffrax, jaxopt, neural-tangents; also CLIP, PPO and diffusion training code)
restated in plain JAX, the small pieces those libraries provide written here the way users
write them, then run with the imports swapped to functrans (round 7; see
test_ported_programs.py to 6). Each program is written once against a bundle of modules
(``L.jax``, ``L.jnp``, ``L.lax``, ``L.random``, ``L.nn``, ``L.tree``, ``L.stats``...).

Each program's test checks it without JAX (closed forms, NumPy/SciPy, finite differences by
``check_grads``, the same code on NumPy arrays), so it runs and means something where JAX is
not installed; ``test_program_against_jax`` at the end runs every program's source with JAX
itself (CPU, x64; skipped without JAX) and compares values and derivatives to ~1e-10.

First the regressions found while porting them: ``nn.dot_product_attention``'s
``query_seq_lengths``, ``key_value_seq_lengths``, ``local_window_size`` and
``implementation``; ``lax.fori_loop``'s ``unroll``; ``functrans.experimental.ode``;
``numpy.finfo``'s ``tiny`` & co.; ``numpy.where`` with a Python condition on torch and
array-api-strict; ``linalg.eigh``'s ``symmetrize_input``; then the gaps, as strict xfails;
then the programs.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.optimize as so
import scipy.stats as st

import functrans as ft
import functrans.flatten_util as fflat
import functrans.lax as flax
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.random as frandom
import functrans.scipy.linalg as fsl
import functrans.scipy.stats as fstats
from functrans.ode import odeint as fodeint
from functrans.testing import check_grads

from ._ported import _jax, close

FT = SimpleNamespace(jax=ft, jnp=fnp, lax=flax, random=frandom, nn=fnn, tree=ft.tree_util,
                     stats=fstats, linalg=fsl, odeint=fodeint, Array=ft.Array,
                     ravel_pytree=fflat.ravel_pytree)


def _jax_lib():
    jax = _jax()
    import jax.flatten_util
    import jax.numpy
    import jax.scipy.linalg
    import jax.scipy.stats
    from jax.experimental.ode import odeint
    return SimpleNamespace(jax=jax, jnp=jax.numpy, lax=jax.lax, random=jax.random, nn=jax.nn,
                           tree=jax.tree_util, stats=jax.scipy.stats, linalg=jax.scipy.linalg,
                           odeint=odeint, Array=jax.Array,
                           ravel_pytree=jax.flatten_util.ravel_pytree)


def _against_jax(program, *args, tol=1e-10, whole=False):
    """The program run by functrans and by JAX (skipped where JAX is not installed): the
    results alike to ``tol``. ``whole`` jits JAX's run entire (its arguments as constants),
    sparing JAX's compiling each eager step."""
    out = program(FT, *args)
    L = _jax_lib()
    res = L.jax.jit(lambda: program(L, *args))() if whole else program(L, *args)
    close(res, out, tol)


# -- regressions found while porting (dot_product_attention's sequence lengths and local
# windows, fori_loop's unroll, functrans.experimental.ode, finfo, where, eigh), then the gaps ---


def _attention_np(q, k, v, keep, q_valid):
    """Attention by loops: a row with nothing kept attends to all keys equally; padded
    queries give zeros."""
    b, t, n, h = q.shape
    out = np.zeros_like(q)
    for bi in range(b):
        for ni in range(n):
            s = q[bi, :, ni] @ k[bi, :, ni].T / np.sqrt(h)
            for ti in range(t):
                row = keep[bi, ti]
                e = np.where(row, np.exp(s[ti] - s[ti][row].max()), 0.0) if row.any() \
                    else np.ones(len(row))
                out[bi, ti, ni] = (e / e.sum()) @ v[bi, :, ni] if q_valid[bi, ti] else 0.0
    return out


ATT = np.random.RandomState(20)
AQ, AK, AV = (ATT.randn(2, 5, 2, 3) for _ in range(3))


ATT_KWS = [
    dict(query_seq_lengths=np.array([5, 2], np.int32),
         key_value_seq_lengths=np.array([3, 5], np.int32)),
    dict(local_window_size=1),
    dict(local_window_size=(2, 0), is_causal=True, query_seq_lengths=np.array([0, 4], np.int32)),
    dict(key_value_seq_lengths=np.array([1, 2], np.int32), local_window_size=(0, 1))]
ATT_IDS = ["lengths", "window", "window_causal_empty_query", "kv_lengths_window"]


@pytest.mark.parametrize("kw", ATT_KWS, ids=ATT_IDS)
def test_dot_product_attention_sequence_lengths_and_local_window(backend, kw):
    t = np.arange(5)
    d = t[:, None] - t[None, :]
    keep = np.ones((2, 5, 5), bool)
    q_valid = np.ones((2, 5), bool)
    if "local_window_size" in kw:
        w = kw["local_window_size"]
        left, right = (w, w) if isinstance(w, int) else w
        keep &= (d <= left) & (d >= -right)
    if kw.get("is_causal"):
        keep &= d >= 0
    if "query_seq_lengths" in kw:
        q_valid = t[None, :] < kw["query_seq_lengths"][:, None]
        keep &= q_valid[:, :, None]
    if "key_value_seq_lengths" in kw:
        keep &= (t[None, :] < kw["key_value_seq_lengths"][:, None])[:, None, :]
    want = _attention_np(AQ, AK, AV, keep, q_valid)
    bkw = {n: backend.asarray(a, "int32") if isinstance(a, np.ndarray) else a
           for n, a in kw.items()}
    got = fnn.dot_product_attention(*(backend.asarray(a) for a in (AQ, AK, AV)), **bkw)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-13)
    check_grads(lambda q, k, v: fnn.dot_product_attention(q, k, v, **bkw),
                tuple(backend.asarray(a) for a in (AQ, AK, AV)), order=1, modes=("rev",))


@pytest.mark.parametrize("kw", ATT_KWS, ids=ATT_IDS)
def test_dot_product_attention_sequence_lengths_and_local_window_as_jax(kw):
    jax = _jax()      # JAX's softmax runs in float32 whatever the inputs: 1e-6
    close(jax.nn.dot_product_attention(AQ, AK, AV, **kw),
          fnn.dot_product_attention(AQ, AK, AV, **kw), 1e-6)


def test_dot_product_attention_lengths_unbatched_vmapped_and_errors():
    lens = np.array([3, 5], np.int32)
    one = fnn.dot_product_attention(AQ[0], AK[0], AV[0], query_seq_lengths=lens[:1])
    batched = fnn.dot_product_attention(AQ, AK, AV, query_seq_lengths=lens)
    np.testing.assert_allclose(np.asarray(one), np.asarray(batched)[0], atol=1e-15)
    assert not np.asarray(one)[3:].any()
    per_row = ft.vmap(lambda q, k, v, n: fnn.dot_product_attention(
        q[None], k[None], v[None], key_value_seq_lengths=n[None])[0])(AQ, AK, AV, lens)
    np.testing.assert_allclose(np.asarray(per_row), np.asarray(fnn.dot_product_attention(
        AQ, AK, AV, key_value_seq_lengths=lens)), atol=1e-15)
    with pytest.raises(ValueError, match=r"query_seq_lengths must be an integer array of "
                                         r"shape \(2,\)"):
        fnn.dot_product_attention(AQ, AK, AV, query_seq_lengths=np.array([3.0, 2.0]))
    with pytest.raises(ValueError, match="key_value_seq_lengths must .* shape"):
        fnn.dot_product_attention(AQ, AK, AV, key_value_seq_lengths=np.array([3]))
    with pytest.raises(ValueError, match="local_window_size must be"):
        fnn.dot_product_attention(AQ, AK, AV, local_window_size=(1, -1))
    with pytest.raises(ValueError, match="implementation must be None or 'xla'"):
        fnn.dot_product_attention(AQ, AK, AV, implementation="cudnn")
    np.testing.assert_array_equal(
        np.asarray(fnn.dot_product_attention(AQ, AK, AV, implementation="xla")),
        np.asarray(fnn.dot_product_attention(AQ, AK, AV)))


def test_fori_loop_takes_unroll():
    def body(i, c):
        return c * 0.5 + i
    for unroll in (None, True, False, 2, 0, np.int64(3)):  # (0 and NumPy's ints: as JAX)
        assert float(flax.fori_loop(0, 4, body, 1.0, unroll=unroll)) == 4.3125
        assert float(ft.jit(lambda c: flax.fori_loop(0, 4, body, c, unroll=unroll))(1.0)) \
            == 4.3125
    for bad in (-1, 1.5, "2"):
        with pytest.raises(ValueError, match="unroll must be None, a bool or an int >= 0"):
            flax.fori_loop(0, 4, body, 1.0, unroll=bad)


def test_experimental_ode_is_where_jax_has_it():
    import functrans.experimental
    import functrans.experimental.ode as fode
    assert fode.odeint is fodeint and functrans.experimental.ode is fode
    ys = fode.odeint(lambda y, t, k: -k * y, 1.0, fnp.array([0.0, 1.0]), 2.0)
    np.testing.assert_allclose(np.asarray(ys), [1.0, np.exp(-2.0)], rtol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_finfo_has_numpys_other_attributes(dtype):
    got, ref = fnp.finfo(getattr(fnp, dtype)), np.finfo(dtype)
    for name in ("tiny", "smallest_subnormal", "epsneg", "resolution", "precision", "nmant",
                 "nexp", "machep", "negep", "minexp", "maxexp", "eps", "max", "smallest_normal"):
        assert getattr(got, name) == getattr(ref, name), name
    assert type(got.precision) is int and type(got.tiny) is float
    # numpyro's clamp of probabilities, differentiated at both ends
    def clamp(p):
        return fnp.clip(p, fnp.finfo(p.dtype).tiny, 1.0 - fnp.finfo(p.dtype).eps)
    np.testing.assert_allclose(ft.grad(lambda p: fnp.sum(fnp.log(clamp(p))))(np.array([0.5])),
                               [2.0])


# (fixed in lax_ops: under a transform the solvers are staged and what they close over passed
# as inputs without derivatives, as JAX does)
def test_custom_root_tangent_solve_closure_as_jax():
    """JAX lets tangent_solve (and solve) close over values being differentiated: they get no
    tangent, which is right at first order since tangent_solve only inverts the root's
    Jacobian."""
    def sqrt_by_newton(c):
        return flax.custom_root(
            lambda x: x ** 2 - c, 1.0,
            lambda f, x0: flax.fori_loop(0, 30, lambda i, x: x - f(x) / (2 * x), x0),
            lambda g, y: y / (2.0 * fnp.sqrt(c)))     # the known Jacobian, closing over c
    assert abs(float(sqrt_by_newton(2.0)) - np.sqrt(2.0)) < 1e-14
    np.testing.assert_allclose(float(ft.grad(sqrt_by_newton)(2.0)), 0.5 / np.sqrt(2.0))


# (fixed as the one above)
def test_custom_linear_solve_solve_closure_as_jax():
    """jaxopt's common idiom: ``solve`` applies a factorisation of the very matrix that
    ``matvec`` multiplies by, closing over the parameters being differentiated. JAX gives
    those closed-over values no tangent through ``solve`` (it is the inverse of ``matvec``,
    whose own closure carries the derivative)."""
    A = np.array([[3.0, 1.0], [1.0, 2.0]])

    def f(a):
        m = A + a * fnp.eye(2)
        x = flax.custom_linear_solve(lambda v: m @ v, fnp.ones(2),
                                     lambda mv, b: fnp.linalg.solve(m, b), symmetric=True)
        return fnp.sum(x ** 2)
    x = np.linalg.solve(A + 0.5 * np.eye(2), np.ones(2))
    assert abs(float(f(0.5)) - x @ x) < 1e-14
    # d/da |x|^2 = -2 x^T (A + a I)^-1 x
    np.testing.assert_allclose(float(ft.grad(f)(0.5)),
                               -2 * x @ np.linalg.solve(A + 0.5 * np.eye(2), x), rtol=1e-12)


# (fixed: bits defaults to uint64, JAX's in x64)
def test_random_bits_default_dtype_as_jax_x64():
    b = frandom.bits(frandom.PRNGKey(1), (3,))
    assert b.dtype == fnp.uint64
    # pinned from JAX 0.10.2 with jax_enable_x64
    assert np.asarray(b).tolist() == [2179487362436112514, 8370371427069427784,
                                      10487943526538222699]


def test_where_with_a_python_condition_on_every_backend(backend):
    """diffrax's and flax's jnp.where(training, a, b) with a Python bool: torch's where takes
    no Python condition, so the condition becomes an array of the operands' library."""
    x = backend.asarray([1.0, -2.0])
    for cond, want in ((True, [2.0, -4.0]), (False, [1.0, -2.0]), (0, [1.0, -2.0])):
        got = fnp.where(cond, 2 * x, x)
        assert backend.is_own(got)
        np.testing.assert_array_equal(backend.to_numpy(got), want)
        got = ft.jit(lambda x: fnp.where(cond, 2 * x, x))(x)
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(fnp.where(True, 0.5, x)), [0.5, 0.5])
    np.testing.assert_array_equal(backend.to_numpy(fnp.where(False, x, 3.0)), [3.0, 3.0])
    g = ft.grad(lambda x: fnp.sum(fnp.where(True, x ** 2, 0.0)))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [2.0, -4.0])
    assert float(fnp.where(True, 1.0, 2.0)) == 1.0


def test_eigh_symmetrize_input_as_jax(backend):
    a = np.array([[2.0, 5.0], [1.0, 3.0]])              # symmetric only up to "rounding"
    x = backend.asarray(a)
    sym = np.linalg.eigh((a + a.T) / 2)
    for uplo in ("L", "U"):
        w, v = fnp.linalg.eigh(x, UPLO=uplo, symmetrize_input=True)
        np.testing.assert_allclose(backend.to_numpy(w), sym[0], rtol=1e-14)
        np.testing.assert_allclose(np.abs(backend.to_numpy(v)), np.abs(sym[1]), rtol=1e-13)
        np.testing.assert_allclose(
            backend.to_numpy(fnp.linalg.eigvalsh(x, UPLO=uplo, symmetrize_input=True)),
            sym[0], rtol=1e-14)
        np.testing.assert_allclose(   # NumPy's reading of one triangle where UPLO is given
            backend.to_numpy(fnp.linalg.eigh(x, UPLO=uplo)[0]),
            np.linalg.eigh(a, UPLO=uplo)[0], rtol=1e-14)
        np.testing.assert_allclose(   # and JAX's symmetrising where it is not
            backend.to_numpy(fnp.linalg.eigvalsh(x)), sym[0], rtol=1e-14)
    # both triangles carry the derivative: d lambda_0 / dA = v0 v0^T symmetrised, halved off
    # the diagonal onto each triangle
    g = ft.grad(lambda a: fnp.linalg.eigh(a, symmetrize_input=True)[0][0])(x)
    v0 = sym[1][:, 0]
    np.testing.assert_allclose(backend.to_numpy(g), np.outer(v0, v0), rtol=1e-12)
    check_grads(lambda a: fnp.linalg.eigvalsh(a, symmetrize_input=True), (x,), order=2)
    with pytest.raises(TypeError, match="symmetrize_input must be True or False"):
        fnp.linalg.eigh(x, symmetrize_input="yes")


def test_bfloat16_mixed_precision():
    # flax/optax mixed precision: parameters and activations in bfloat16 (NumPy's through
    # ml_dtypes, session 50), the loss in float32; the gradient in the parameters' dtype
    pytest.importorskip("ml_dtypes")
    x = fnp.ones(3, dtype=fnp.bfloat16)
    assert (x * 2).dtype == fnp.bfloat16
    rng = np.random.default_rng(7)
    p32 = {"w": rng.standard_normal((4, 3)) * 0.5, "b": rng.standard_normal(3) * 0.1}
    xs, ys = rng.standard_normal((8, 4)), rng.standard_normal((8, 3)).astype(np.float32)

    def loss(p, dtype):
        h = fnp.tanh(fnp.astype(xs, dtype) @ p["w"] + p["b"])
        return fnp.mean((fnp.astype(h, fnp.float32) - ys) ** 2)
    p16 = ft.tree.tree_map(lambda v: fnp.astype(v, fnp.bfloat16), p32)
    val, g = ft.value_and_grad(loss)(p16, fnp.bfloat16)
    assert val.dtype == fnp.float32
    assert g["w"].dtype == g["b"].dtype == fnp.bfloat16
    # against the same step in float32 on the bfloat16 values
    p_as32 = ft.tree.tree_map(lambda v: fnp.astype(v, fnp.float32), p16)
    val32, g32 = ft.value_and_grad(loss)(p_as32, fnp.float32)
    np.testing.assert_allclose(float(val), float(val32), rtol=2e-2)
    for k in g:
        np.testing.assert_allclose(np.asarray(g[k], np.float32), g32[k], rtol=5e-2,
                                   atol=2e-2 * np.abs(g32[k]).max())


def test_bfloat16_mixed_precision_on_torch():
    torch = pytest.importorskip("torch")
    x = fnp.ones(3, dtype=fnp.bfloat16, device=torch.device("cpu"))
    assert (x * 2).dtype == torch.bfloat16 == fnp.bfloat16


def test_image_resize_as_jax():
    # jax.image.resize as diffusion and vision models use it to up- and down-sample
    import functrans.image as fimage
    out = fimage.resize(np.arange(16.0).reshape(4, 4), (8, 8), "bilinear")
    assert out.shape == (8, 8)
    # bilinear interpolation of the plane 4 r + c at the output centres (clamped to the
    # input's outer centres)
    c = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, 3)
    np.testing.assert_allclose(out, 4 * c[:, None] + c[None, :], atol=1e-13)


# -- optax-style gradient transformations --------------------------------------------------------


class GradientTransformation(NamedTuple):
    init: Callable
    update: Callable


def _optax(L):
    """The optax pieces the programs use: transformations are (init, update) pairs whose states
    are pytrees (NamedTuples of arrays), chained, applied by tree_map."""
    jnp, tmap, leaves = L.jnp, L.tree.tree_map, L.tree.tree_leaves

    class AdamState(NamedTuple):
        count: Any
        mu: Any
        nu: Any

    class CountState(NamedTuple):
        count: Any

    class LionState(NamedTuple):
        mu: Any

    class LookaheadState(NamedTuple):
        inner: Any
        count: Any
        slow: Any

    def chain(*ts):
        def init(p):
            return tuple(t.init(p) for t in ts)

        def update(u, state, p=None):
            new = []
            for t, s in zip(ts, state):
                u, s = t.update(u, s, p)
                new.append(s)
            return u, tuple(new)
        return GradientTransformation(init, update)

    def stateless(fn):
        return GradientTransformation(lambda p: (), lambda u, s, p=None: (fn(u, p), s))

    def clip_by_global_norm(max_norm):
        def fn(u, p):
            g = jnp.sqrt(sum(jnp.sum(x ** 2) for x in leaves(u)))
            return tmap(lambda x: x * (max_norm / jnp.maximum(g, max_norm)), u)
        return stateless(fn)

    def scale(s):
        return stateless(lambda u, p: tmap(lambda x: s * x, u))

    def scale_by_schedule(fn):
        def update(u, state, p=None):
            return tmap(lambda x: fn(state.count) * x, u), CountState(state.count + 1)
        return GradientTransformation(lambda p: CountState(jnp.zeros([], jnp.int32)), update)

    def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8):
        def init(p):
            return AdamState(jnp.zeros([], jnp.int32), tmap(jnp.zeros_like, p),
                             tmap(jnp.zeros_like, p))

        def update(g, s, p=None):
            mu = tmap(lambda m, x: b1 * m + (1 - b1) * x, s.mu, g)
            nu = tmap(lambda v, x: b2 * v + (1 - b2) * x ** 2, s.nu, g)
            c = s.count + 1
            u = tmap(lambda m, v: (m / (1 - b1 ** c)) / (jnp.sqrt(v / (1 - b2 ** c)) + eps),
                     mu, nu)
            return u, AdamState(c, mu, nu)
        return GradientTransformation(init, update)

    def scale_by_lion(b1=0.9, b2=0.99):
        def update(g, s, p=None):
            u = tmap(lambda m, x: jnp.sign(b1 * m + (1 - b1) * x), s.mu, g)
            return u, LionState(tmap(lambda m, x: b2 * m + (1 - b2) * x, s.mu, g))
        return GradientTransformation(lambda p: LionState(tmap(jnp.zeros_like, p)), update)

    def add_decayed_weights(wd, mask=None):
        def fn(u, p):
            m = mask if mask is not None else tmap(lambda _: True, p)
            return tmap(lambda x, w, on: x + wd * w if on else x, u, p, m)
        return stateless(fn)

    def scale_by_trust_ratio():
        def ratio(x, w):
            pn, un = jnp.sqrt(jnp.sum(w ** 2)), jnp.sqrt(jnp.sum(x ** 2))
            safe = jnp.where((pn > 0) & (un > 0), pn / jnp.where(un > 0, un, 1.0), 1.0)
            return x * safe
        return stateless(lambda u, p: tmap(ratio, u, p))

    def sgd_momentum(lr, beta=0.9):
        def update(g, s, p=None):
            mu = tmap(lambda m, x: beta * m + x, s.mu, g)
            return tmap(lambda m: -lr * m, mu), LionState(mu)
        return GradientTransformation(lambda p: LionState(tmap(jnp.zeros_like, p)), update)

    def lookahead(fast, period, alpha):
        # slow weights move a fraction alpha towards the fast ones every `period` steps,
        # and the fast ones restart from there
        def init(p):
            return LookaheadState(fast.init(p), jnp.zeros([], jnp.int32), p)

        def update(g, s, p):
            u, inner = fast.update(g, s.inner, p)
            c = s.count + 1
            sync = c % period == 0
            fast_p = tmap(lambda w, x: w + x, p, u)
            slow = tmap(lambda sw, fw: jnp.where(sync, sw + alpha * (fw - sw), sw), s.slow, fast_p)
            target = tmap(lambda sw, fw: jnp.where(sync, sw, fw), slow, fast_p)
            return tmap(lambda t, w: t - w, target, p), LookaheadState(inner, c, slow)
        return GradientTransformation(init, update)

    def warmup_cosine_decay(init_value, peak, warmup, decay_steps, end=0.0):
        def sched(count):
            # JAX divides int32 by int in float32 (NumPy, and so functrans, in float64)
            count = jnp.asarray(count, jnp.float64)
            warm = init_value + (peak - init_value) * count / warmup
            t = jnp.clip((count - warmup) / (decay_steps - warmup), 0.0, 1.0)
            cos = end + (peak - end) * 0.5 * (1 + jnp.cos(jnp.pi * t))
            return jnp.where(count < warmup, warm, cos)
        return sched

    def piecewise_constant(init_value, boundaries_and_scales):
        def sched(count):
            v = init_value
            for b, s in boundaries_and_scales.items():
                v = v * jnp.where(count >= b, s, 1.0)
            return v
        return sched

    def multi_transform(transforms, labels):
        # each transformation sees the leaves of its label, the others masked out as None
        def mask(t, label):
            return tmap(lambda x, lab: x if lab == label else None, t, labels)

        def init(p):
            return {k: t.init(mask(p, k)) for k, t in transforms.items()}

        def update(u, s, p=None):
            parts, new = {}, {}
            for k, t in transforms.items():
                parts[k], new[k] = t.update(mask(u, k), s[k], None if p is None else mask(p, k))
            flat = {k: L.tree.tree_flatten(v, is_leaf=lambda x: x is None)[0]
                    for k, v in parts.items()}
            labs, treedef = L.tree.tree_flatten(labels)
            return L.tree.tree_unflatten(treedef, [flat[lab][i] for i, lab in
                                                   enumerate(labs)]), new
        return GradientTransformation(init, update)

    class MultiStepsState(NamedTuple):
        mini: Any
        inner: Any
        acc: Any

    def multi_steps(inner, k):
        # gradients averaged over k calls; the inner transformation updates on the k-th
        def init(p):
            return MultiStepsState(jnp.zeros([], jnp.int32), inner.init(p),
                                   tmap(jnp.zeros_like, p))

        def update(g, s, p=None):
            acc = tmap(lambda a, x: a + x / k, s.acc, g)

            def emit(_):
                u, st = inner.update(acc, s.inner, p)
                return u, st, tmap(jnp.zeros_like, acc)

            def hold(_):
                return tmap(jnp.zeros_like, g), s.inner, acc
            u, st, acc = L.lax.cond(s.mini == k - 1, emit, hold, None)
            return u, MultiStepsState((s.mini + 1) % k, st, acc)
        return GradientTransformation(init, update)

    def apply_updates(p, u):
        return tmap(lambda w, x: w + x, p, u)

    return SimpleNamespace(**{k: v for k, v in locals().items() if callable(v)})


def _make_optimiser(O, name):
    sched = O.warmup_cosine_decay(0.0, 0.1, 3, 12, 0.01)
    if name == "adam":
        return O.chain(O.clip_by_global_norm(1.0), O.scale_by_adam(),
                       O.scale_by_schedule(sched), O.scale(-1.0))
    if name == "adamw":
        mask = {"w": True, "b": False}
        return O.chain(O.scale_by_adam(), O.add_decayed_weights(0.05, mask),
                       O.scale_by_schedule(O.piecewise_constant(0.1, {4: 0.5, 8: 0.2})),
                       O.scale(-1.0))
    if name == "lion":
        return O.chain(O.scale_by_lion(), O.scale(-0.02))
    if name == "lamb":
        return O.chain(O.clip_by_global_norm(2.0), O.scale_by_adam(eps=1e-6),
                       O.add_decayed_weights(0.01), O.scale_by_trust_ratio(), O.scale(-0.3))
    if name == "multi_transform":
        return O.multi_transform({"fast": O.chain(O.scale_by_adam(), O.scale(-0.2)),
                                  "slow": O.sgd_momentum(0.02)}, {"w": "fast", "b": "slow"})
    if name == "multi_steps":
        return O.multi_steps(O.chain(O.scale_by_adam(), O.scale(-0.3)), 2)
    return O.lookahead(O.sgd_momentum(0.05), 3, 0.5)


RS = np.random.RandomState(7)
XLIN = RS.randn(16, 3)
YLIN = XLIN @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * RS.randn(16)


def _train_linear(L, name, steps=10):
    """A linear model fitted by an optax-style optimiser, the whole loop one jit'd scan."""
    jax, jnp, lax = L.jax, L.jnp, L.lax
    O = _optax(L)
    opt = _make_optimiser(O, name)

    def loss(p):
        return jnp.mean((XLIN @ p["w"] + p["b"] - YLIN) ** 2)

    def step(carry, _):
        p, s = carry
        v, g = jax.value_and_grad(loss)(p)
        u, s = opt.update(g, s, p)
        return (O.apply_updates(p, u), s), v

    @jax.jit
    def train(p):
        return lax.scan(step, (p, opt.init(p)), None, length=steps)
    p0 = {"w": jnp.zeros(3), "b": jnp.asarray(0.0)}
    (p, s), losses = train(p0)
    return p, s, losses


def _train_linear_numpy(name, steps=10):
    """The same optimiser code run on NumPy arrays, the gradient by hand, a Python loop."""
    cond = SimpleNamespace(cond=lambda pred, t, f, op: t(op) if pred else f(op))
    O = _optax(SimpleNamespace(jnp=np, tree=ft.tree_util, lax=cond))
    opt = _make_optimiser(O, name)
    p = {"w": np.zeros(3), "b": np.asarray(0.0)}
    s, losses = opt.init(p), []
    for _ in range(steps):
        r = XLIN @ p["w"] + p["b"] - YLIN
        losses.append(np.mean(r ** 2))
        g = {"w": 2 * XLIN.T @ r / len(r), "b": 2 * np.mean(r)}
        u, s = opt.update(g, s, p)
        p = O.apply_updates(p, u)
    return p, s, np.array(losses)


@pytest.mark.parametrize("name", ["adam", "adamw", "lion", "lamb", "lookahead",
                                  "multi_transform", "multi_steps"])
def test_optax_style_transformations_in_a_jitted_scan(name):
    out = _train_linear(FT, name)
    ref = _train_linear_numpy(name)
    close(ref, out, 1e-12)
    losses = np.asarray(out[2])
    assert losses[-1] < 0.8 * losses[0]
    if name == "multi_steps":       # every other step only accumulates
        assert losses[0] == losses[1] and losses[2] == losses[3] and losses[1] != losses[2]


# -- an L-BFGS with a zoom line search, the whole solve jit'd ------------------------------------


def _lbfgs_program(L, x0, m=4, maxiter=60, tol=1e-9):
    """L-BFGS (two-loop recursion over a ring buffer of m pairs) with a strong-Wolfe line
    search whose bracketing and zoom (bisection) phases share one while_loop."""
    jax, jnp, lax = L.jax, L.jnp, L.lax

    def rosen(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    vg = jax.value_and_grad(rosen)

    def line_search(x, fx, g, d, c1=1e-4, c2=0.9):
        dphi0 = g @ d

        def body(s):
            it, zoom, done, a_prev, f_prev, a_next, lo, hi, f_lo, a, fa, ga = s
            a = jnp.where(zoom, 0.5 * (lo + hi), a_next)
            fa, ga = vg(x + a * d)
            da = ga @ d
            armijo_fail = fa > fx + c1 * a * dphi0
            curvature = jnp.abs(da) <= -c2 * dphi0
            # bracketing: [a_prev, a] or [a, a_prev] holds a Wolfe point, or grow the step
            b_lo_prev = armijo_fail | ((it > 0) & (fa >= f_prev))
            b_lo_a = ~b_lo_prev & ~curvature & (da >= 0)
            # zoom: shrink [lo, hi] keeping sufficient decrease at lo
            z_hi = armijo_fail | (fa >= f_lo)
            z_swap = ~z_hi & ~curvature & (da * (hi - lo) >= 0)
            done = jnp.where(zoom, ~z_hi & curvature, ~b_lo_prev & curvature)
            n_lo = jnp.where(zoom, jnp.where(z_hi, lo, a),
                             jnp.where(b_lo_prev, a_prev, a))
            n_flo = jnp.where(zoom, jnp.where(z_hi, f_lo, fa),
                              jnp.where(b_lo_prev, f_prev, fa))
            n_hi = jnp.where(zoom, jnp.where(z_hi, a, jnp.where(z_swap, lo, hi)),
                             jnp.where(b_lo_prev, a, a_prev))
            keep = zoom | ~(b_lo_prev | b_lo_a)
            lo, f_lo, hi = (jnp.where(keep & ~zoom, lo, n_lo), jnp.where(keep & ~zoom, f_lo, n_flo),
                            jnp.where(keep & ~zoom, hi, n_hi))
            zoom = zoom | b_lo_prev | b_lo_a
            return (it + 1, zoom, done, a, fa, 2.0 * a, lo, hi, f_lo, a, fa, ga)

        def cond(s):
            return ~s[2] & (s[0] < 40)
        z = jnp.zeros([])
        s0 = (0, False, False, z, fx, z + 1.0, z, z, fx, z, fx, g)
        s = lax.while_loop(cond, body, s0)
        return s[9], s[10], s[11], s[0]

    def two_loop(g, S, Y, rho, k):
        n = jnp.minimum(k, m)

        def newest_first(i, c):
            q, al = c
            j = (k - 1 - i) % m
            a = jnp.where(i < n, rho[j] * (S[j] @ q), 0.0)
            return q - a * Y[j], al.at[j].set(a)
        q, al = lax.fori_loop(0, m, newest_first, (g, jnp.zeros(m)))
        j = (k - 1) % m
        yy = Y[j] @ Y[j]
        r = jnp.where(k > 0, (S[j] @ Y[j]) / jnp.where(k > 0, yy, 1.0), 1.0) * q

        def oldest_first(i, r):
            j = (k - n + i) % m
            b = rho[j] * (Y[j] @ r)
            return jnp.where(i < n, r + S[j] * (al[j] - b), r)
        return lax.fori_loop(0, m, oldest_first, r)

    def body(s):
        k, x, fx, g, S, Y, rho, nls = s
        d = -two_loop(g, S, Y, rho, k)
        a, f_new, g_new, it = line_search(x, fx, g, d)
        sv, yv = a * d, g_new - g
        j = k % m
        return (k + 1, x + sv, f_new, g_new, S.at[j].set(sv), Y.at[j].set(yv),
                rho.at[j].set(1.0 / (yv @ sv)), nls + it)

    def cond(s):
        return (s[0] < maxiter) & (jnp.sqrt(s[3] @ s[3]) > tol)

    @jax.jit
    def solve(x0):
        f0, g0 = vg(x0)
        n = x0.shape[0]
        s0 = (0, x0, f0, g0, jnp.zeros((m, n)), jnp.zeros((m, n)), jnp.zeros(m), 0)
        k, x, fx, g, *_, nls = lax.while_loop(cond, body, s0)
        return x, fx, g, k, nls
    return solve(x0)


LBFGS_X0 = np.array([-1.2, 1.0, -0.5, 0.8])


def test_lbfgs_with_zoom_line_search_jitted_whole():
    x0 = LBFGS_X0
    x, fx, g, k, nls = (np.asarray(v) for v in _lbfgs_program(FT, x0))
    ref = so.minimize(so.rosen, x0, jac=so.rosen_der, method="L-BFGS-B", tol=1e-14)
    np.testing.assert_allclose(x, ref.x, atol=1e-8)
    np.testing.assert_allclose(g, so.rosen_der(x), rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(g) <= 1e-9 and 10 < k < 60 and fx < 1e-16


# -- flax-style modules as registered dataclasses: a transformer block ---------------------------


def _modules(L):
    """Modules as dataclass pytrees (parameters as data fields, hyperparameters static), their
    forward pass as __call__, initialised from split keys."""
    jnp, nn = L.jnp, L.nn

    def register(cls, meta=()):
        names = [f.name for f in dataclasses.fields(cls)]
        L.tree.register_dataclass(cls, data_fields=[n for n in names if n not in meta],
                                  meta_fields=list(meta))
        return cls

    @dataclasses.dataclass
    class Dense:
        w: Any
        b: Any

        def __call__(self, x):
            return x @ self.w + self.b

        @staticmethod
        def init(key, n_in, n_out):
            return Dense(nn.initializers.lecun_normal()(key, (n_in, n_out)), jnp.zeros(n_out))

    @dataclasses.dataclass
    class LayerNorm:
        scale: Any
        bias: Any
        eps: float = 1e-6

        def __call__(self, x):
            mu = jnp.mean(x, axis=-1, keepdims=True)
            var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
            return (x - mu) / jnp.sqrt(var + self.eps) * self.scale + self.bias

    @dataclasses.dataclass
    class Attention:
        qkv: Dense
        out: Dense
        heads: int

        def __call__(self, x, mask):
            t, d = x.shape
            q, k, v = jnp.split(self.qkv(x), 3, axis=-1)
            q, k, v = (a.reshape(t, self.heads, d // self.heads) for a in (q, k, v))
            logits = jnp.einsum("thd,shd->hts", q, k) / math.sqrt(d // self.heads)
            logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
            w = nn.softmax(logits, axis=-1)
            return self.out(jnp.einsum("hts,shd->thd", w, v).reshape(t, d))

    @dataclasses.dataclass
    class Block:
        ln1: LayerNorm
        attn: Attention
        ln2: LayerNorm
        up: Dense
        down: Dense

        def __call__(self, x, length):
            t = x.shape[0]
            i = jnp.arange(t)
            mask = (i[:, None] >= i[None, :]) & (i[None, :] < length)   # causal and padding
            h = x + self.attn(self.ln1(x), mask)
            return h + self.down(nn.gelu(self.up(self.ln2(h))))

        @staticmethod
        def init(key, d, heads, hidden):
            k = L.random.split(key, 4)
            ln = lambda: LayerNorm(jnp.ones(d), jnp.zeros(d))  # noqa: E731
            return Block(ln(), Attention(Dense.init(k[0], d, 3 * d), Dense.init(k[1], d, d),
                                         heads),
                         ln(), Dense.init(k[2], d, hidden), Dense.init(k[3], hidden, d))

    register(Dense)
    register(LayerNorm, ("eps",))
    register(Attention, ("heads",))
    register(Block)
    return SimpleNamespace(Dense=Dense, LayerNorm=LayerNorm, Attention=Attention, Block=Block)


XS = np.random.RandomState(1).randn(3, 5, 8)
LENGTHS = np.array([5, 3, 1])


def _transformer_program(L, xs, lengths):
    jax, jnp = L.jax, L.jnp
    M = _modules(L)
    block = M.Block.init(L.random.PRNGKey(0), 8, 2, 16)
    block.ln1.scale = block.ln1.scale * 1.1            # not all-ones, so its gradient is seen

    def loss(block, xs):
        ys = jax.vmap(block, in_axes=(0, 0))(xs, lengths)
        valid = jnp.arange(xs.shape[1])[None, :] < lengths[:, None]
        return jnp.sum(jnp.where(valid[..., None], jnp.sin(ys), 0.0)) / jnp.sum(valid), ys
    (v, ys), g = jax.jit(jax.value_and_grad(loss, has_aux=True))(block, xs)
    return v, ys, g, block


def _attention_numpy(x, w_qkv, b_qkv, w_o, b_o, heads, mask):
    t, d = x.shape
    dh = d // heads
    qkv = x @ w_qkv + b_qkv
    out = np.zeros((t, d))
    for h in range(heads):
        q, k, v = (qkv[:, j * d + h * dh: j * d + (h + 1) * dh] for j in range(3))
        s = q @ k.T / np.sqrt(dh)
        s = np.where(mask, s, -np.inf)
        p = np.exp(s - s.max(1, keepdims=True))
        out[:, h * dh:(h + 1) * dh] = (p / p.sum(1, keepdims=True)) @ v
    return out @ w_o + b_o


def test_transformer_block_as_flax_style_dataclass_modules():
    v, ys, g, block = _transformer_program(FT, XS, LENGTHS)
    assert len(ft.tree_util.tree_leaves(block)) == 12     # heads and eps are static
    assert type(g) is type(block) and g.attn.heads == 2 and g.ln1.eps == 1e-6
    P = ft.tree_util.tree_map(np.asarray, block)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(x.var(-1, keepdims=True) + 1e-6) * p.scale + p.bias

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    for x, n, y in zip(XS, LENGTHS, np.asarray(ys)):
        i = np.arange(5)
        mask = (i[:, None] >= i) & (i[None, :] < n)
        h = x + _attention_numpy(ln(x, P.ln1), P.attn.qkv.w, P.attn.qkv.b, P.attn.out.w,
                                 P.attn.out.b, 2, mask)
        np.testing.assert_allclose(y, h + gelu(ln(h, P.ln2) @ P.up.w + P.up.b) @ P.down.w
                                   + P.down.b, atol=1e-12)
    # no output depends on a later position, nor one in the padding
    jac = np.asarray(ft.jacrev(lambda x: block(x, 3))(XS[1]))        # (t, d, s, d)
    dep = np.abs(jac).sum(axis=(1, 3)) > 0
    assert (dep == ((np.arange(5)[:, None] >= np.arange(5)) & (np.arange(5)[None] < 3))
            | np.eye(5, dtype=bool)).all()
    # the attention against the library's own dot_product_attention
    x = XS[0]
    q, k, vv = np.split(x @ P.attn.qkv.w + P.attn.qkv.b, 3, axis=-1)
    mask = np.tril(np.ones((5, 5), bool))
    ours = _attention_numpy(x, P.attn.qkv.w, P.attn.qkv.b, np.eye(8), np.zeros(8), 2, mask)
    lib = fnn.dot_product_attention(*(a.reshape(1, 5, 2, 4) for a in (q, k, vv)),
                                    is_causal=True)
    np.testing.assert_allclose(np.asarray(lib).reshape(5, 8), ours, atol=1e-12)
    check_grads(lambda b: _transformer_program_loss(b, XS), (block,), order=1, modes=("rev",))


def _transformer_program_loss(block, xs):
    ys = ft.vmap(block)(xs, LENGTHS)
    return fnp.sum(fnp.sin(ys[0]))


# -- equinox-style filtering: partition/combine by is_array, filter_grad, filter_jit -------------


def _equinox(L):
    jax, tree = L.jax, L.tree

    def is_array(x):
        return isinstance(x, (np.ndarray, L.Array))

    def partition(t, pred):
        return (tree.tree_map(lambda x: x if pred(x) else None, t),
                tree.tree_map(lambda x: None if pred(x) else x, t))

    def combine(a, b):
        return tree.tree_map(lambda x, y: y if x is None else x, a, b,
                             is_leaf=lambda x: x is None)

    class _Static:
        """The non-array leaves, hashable so that jit keys its cache on them."""
        def __init__(self, t):
            self.leaves, self.treedef = tree.tree_flatten(t)

        def __hash__(self):
            return hash((tuple(self.leaves), self.treedef))

        def __eq__(self, other):
            return (self.leaves, self.treedef) == (other.leaves, other.treedef)

        def value(self):
            return tree.tree_unflatten(self.treedef, self.leaves)

    def filter_value_and_grad(f):
        def wrapped(model, *args):
            diff, static = partition(model, is_array)
            return jax.value_and_grad(lambda d: f(combine(d, static), *args))(diff)
        return wrapped

    def filter_jit(f):
        # the results' non-array leaves leave by the side, kept from the trace per static key
        out_static = {}

        def inner(dyn, st):
            traces.append(st)
            out_dyn, out_static[st] = partition(f(*combine(dyn, st.value())), is_array)
            return out_dyn
        jitted = jax.jit(inner, static_argnums=1)

        def wrapped(*args):
            dyn, st = partition(args, is_array)
            st = _Static(st)
            out_dyn = jitted(dyn, st)
            return combine(out_dyn, out_static[st])
        return wrapped
    traces = []
    return SimpleNamespace(is_array=is_array, partition=partition, combine=combine,
                           filter_value_and_grad=filter_value_and_grad, filter_jit=filter_jit,
                           traces=traces)


def _equinox_program(L, x, y):
    """An MLP as one pytree mixing arrays with a function, an int and a float, trained by
    filter_jit(filter_value_and_grad) steps; the float and the int are never differentiated."""
    jnp = L.jnp
    E = _equinox(L)
    k = L.random.split(L.random.PRNGKey(3), 2)
    model = {"layers": [(L.random.normal(k[0], (2, 6)) * 0.5, jnp.zeros(6)),
                        (L.random.normal(k[1], (6, 1)) * 0.5, jnp.zeros(1))],
             "activation": jnp.tanh, "depth": 2, "out_scale": 1.5}

    def forward(m, x):
        for w, b in m["layers"][:m["depth"] - 1]:
            x = m["activation"](x @ w + b)
        w, b = m["layers"][-1]
        return m["out_scale"] * (x @ w + b)[..., 0]

    def loss(m, x, y):
        return jnp.mean((forward(m, x) - y) ** 2)

    @E.filter_jit
    def step(m, x, y, lr):
        v, g = E.filter_value_and_grad(loss)(m, x, y)
        diff, static = E.partition(m, E.is_array)
        diff = L.tree.tree_map(lambda p, q: p - lr * q, diff, g)
        return E.combine(diff, static), v, g
    losses, grads = [], []
    for lr in (0.1, 0.1, 0.05):      # lr is an array (traced); the model's non-arrays static
        model, v, g = step(model, x, y, jnp.asarray(lr))
        losses.append(v)
        grads.append(g)
    return (model["layers"], jnp.stack(losses), grads[0]["layers"], grads[0]["out_scale"],
            len(E.traces))


def _equinox_data():
    x = np.random.RandomState(2).randn(10, 2)
    return x, np.sin(x[:, 0]) * x[:, 1]


def test_equinox_style_partition_combine_filter_grad_and_jit():
    x, y = _equinox_data()
    E = _equinox(FT)
    m = {"a": np.ones(2), "f": np.tanh, "n": 3, "s": 0.5, "b": [fnp.zeros(1), None]}
    d, s = E.partition(m, E.is_array)
    assert d["f"] is None and d["n"] is None and s["a"] is None and s["n"] == 3
    assert E.combine(d, s)["f"] is np.tanh and E.combine(d, s)["a"] is m["a"]
    layers, losses, g_layers, g_scale, traces = _equinox_program(FT, x, y)
    assert g_scale is None and float(losses[2]) < float(losses[0])
    assert traces == 1                   # three steps, one trace: the static part is the key
    # the filtered gradient against the gradient over explicit array arguments
    k = frandom.split(frandom.PRNGKey(3), 2)
    w1, w2 = (np.asarray(frandom.normal(k[0], (2, 6))) * 0.5,
              np.asarray(frandom.normal(k[1], (6, 1))) * 0.5)

    def plain(w1, b1, w2, b2):
        return fnp.mean((1.5 * (fnp.tanh(x @ w1 + b1) @ w2 + b2)[:, 0] - y) ** 2)
    ref = ft.grad(plain, (0, 1, 2, 3))(w1, np.zeros(6), w2, np.zeros(1))
    close(ref, g_layers, 1e-13)
    check_grads(plain, (w1, np.zeros(6), w2, np.zeros(1)), order=2)


# -- a scan-over-layers model with dropout from split keys; batch norm's mutable statistics -----


def _scan_layers_program(L, x, n_layers=4, rate=0.25):
    """Layers' parameters stacked by vmap over split keys (flax's nn.scan / equinox's
    filter_vmap idiom), the forward pass one lax.scan with a dropout key per layer, trained
    by jit'd SGD steps with keys folded from the step number."""
    jax, jnp, lax, random, nn = L.jax, L.jnp, L.lax, L.random, L.nn
    d = x.shape[-1]

    def init_layer(k):
        k1, k2 = random.split(k)
        return {"w": nn.initializers.glorot_normal()(k1, (d, d)),
                "b": random.uniform(k2, (d,), minval=-0.1, maxval=0.1)}
    params = jax.vmap(init_layer)(random.split(random.PRNGKey(11), n_layers))

    def dropout(key, h):
        keep = random.bernoulli(key, 1.0 - rate, h.shape)
        return jnp.where(keep, h / (1.0 - rate), 0.0)

    def model(params, x, key):
        def layer(x, pk):
            p, k = pk
            return x + dropout(k, jnp.tanh(x @ p["w"] + p["b"])), None
        return lax.scan(layer, x, (params, random.split(key, n_layers)))[0]

    def loss(params, x, key):
        return jnp.mean((model(params, x, key) - 1.0) ** 2)

    @jax.jit
    def step(params, i):
        v, g = jax.value_and_grad(loss)(params, x, random.fold_in(random.PRNGKey(5), i))
        return jax.tree_util.tree_map(lambda p, q: p - 0.1 * q, params, g), v, g
    p, losses, grads = params, [], []
    for i in range(3):
        p, v, g = step(p, i)
        losses.append(v)
        grads.append(g)
    g0 = grads[0]
    return params, model(params, x, random.PRNGKey(5)), g0, p, jnp.stack(losses)


SCAN_X = np.random.RandomState(4).randn(8, 6)


def test_scan_over_layers_with_dropout_keys():
    x = SCAN_X
    params, y, g0, p, losses = _scan_layers_program(FT, x)
    assert params["w"].shape == (4, 6, 6) and float(losses[-1]) < float(losses[0])
    # the scan against a Python loop over the layers, with NumPy and the same dropout masks
    ks = frandom.split(frandom.PRNGKey(5), 4)
    h = x
    for i in range(4):
        keep = np.asarray(frandom.bernoulli(ks[i], 0.75, (8, 6)))
        h = h + np.where(keep, np.tanh(h @ np.asarray(params["w"][i])
                                       + np.asarray(params["b"][i])) / 0.75, 0.0)
    np.testing.assert_allclose(np.asarray(y), h, atol=1e-13)
    assert abs(np.mean(np.asarray(frandom.bernoulli(ks[0], 0.75, (4000,)))) - 0.75) < 0.03
    w0 = np.asarray(params["w"])
    assert abs(w0.std() * np.sqrt(6) - 1.0) < 0.3     # glorot: variance 2 / (fan_in + fan_out)

    k0 = frandom.fold_in(frandom.PRNGKey(5), 0)
    close(ft.grad(lambda p: fnp.mean((_scan_layers_apply(p["w"], p["b"], x, k0) - 1.0) ** 2))(
        params), g0, 1e-13)
    check_grads(lambda w, b: fnp.sum(_scan_layers_apply(w, b, x, k0) ** 2),
                (w0, np.asarray(params["b"])), order=2, modes=("rev",))


def _scan_layers_apply(w, b, x, key=frandom.PRNGKey(5)):
    """The model above as a plain Python loop over layers (functrans only)."""
    for i, k in enumerate(frandom.split(key, w.shape[0])):
        keep = frandom.bernoulli(k, 0.75, x.shape)
        x = x + fnp.where(keep, fnp.tanh(x @ w[i] + b[i]) / 0.75, 0.0)
    return x


def _batchnorm_program(L, x, y):
    """flax's mutable 'batch_stats': batch norm returns its updated running statistics, which
    ride out of value_and_grad as the auxiliary result; evaluation uses them."""
    jax, jnp = L.jax, L.jnp

    def bn(params, stats, x, train, momentum=0.9, eps=1e-5):
        if train:
            mean, var = jnp.mean(x, 0), jnp.var(x, 0)
            stats = {"mean": momentum * stats["mean"] + (1 - momentum) * mean,
                     "var": momentum * stats["var"] + (1 - momentum) * var}
        else:
            mean, var = stats["mean"], stats["var"]
        return (x - mean) / jnp.sqrt(var + eps) * params["scale"] + params["bias"], stats

    def loss(params, stats, x, y):
        h, stats = bn(params["bn"], stats, x @ params["w"], True)
        return jnp.mean((jnp.tanh(h) @ params["v"] - y) ** 2), stats

    @jax.jit
    def step(params, stats):
        (v, stats), g = jax.value_and_grad(loss, has_aux=True)(params, stats, x, y)
        return jax.tree_util.tree_map(lambda p, q: p - 0.2 * q, params, g), stats, v
    d = x.shape[1]
    params = {"w": jnp.eye(d, 4) + 0.1, "v": jnp.ones(4) * 0.3,
              "bn": {"scale": jnp.ones(4), "bias": jnp.zeros(4)}}
    stats = {"mean": jnp.zeros(4), "var": jnp.ones(4)}
    vs, history = [], []
    for _ in range(4):
        history.append(params)
        params, stats, v = step(params, stats)
        vs.append(v)
    pred = jnp.tanh(bn(params["bn"], stats, x @ params["w"], False)[0]) @ params["v"]
    gx = jax.grad(lambda x: jnp.sum(bn(params["bn"], stats, x, True)[0]))(x @ params["w"])
    return history, stats, jnp.stack(vs), pred, gx


BN_X = np.random.RandomState(5).randn(12, 3) * 2 + 1
BN_Y = BN_X[:, 0] - 0.5 * BN_X[:, 2]


def test_batch_norm_with_mutable_statistics_as_aux():
    x, y = BN_X, BN_Y
    history, stats, vs, pred, gx = _batchnorm_program(FT, x, y)
    assert float(vs[-1]) < float(vs[0])
    # the losses and the running statistics the aux carried, by NumPy from each step's
    # parameters
    mean, var = np.zeros(4), np.ones(4)
    for p, v in zip(ft.tree_util.tree_map(np.asarray, history), np.asarray(vs)):
        z = x @ p["w"]
        h = (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-5) * p["bn"]["scale"] + p["bn"]["bias"]
        np.testing.assert_allclose(v, np.mean((np.tanh(h) @ p["v"] - y) ** 2), rtol=1e-13)
        mean, var = 0.9 * mean + 0.1 * z.mean(0), 0.9 * var + 0.1 * z.var(0)
    close((mean, var), (stats["mean"], stats["var"]), 1e-13)
    # the normalised batch sums to the bias whatever the input: its gradient vanishes
    np.testing.assert_allclose(np.asarray(gx), 0.0, atol=1e-12)


# -- numpyro/blackjax-style inference: NUTS-lite, SVI, a Kalman filter's likelihood -------------


SCHOOLS_Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SCHOOLS_SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def _eight_schools(L):
    """The non-centred eight-schools log density over (mu, log tau, theta~), half-Cauchy tau
    with its log-Jacobian, from scipy.stats' log densities."""
    jnp, stats = L.jnp, L.stats

    def logdensity(z):
        mu, log_tau, tt = z[0], z[1], z[2:]
        tau = jnp.exp(log_tau)
        theta = mu + tau * tt
        return (stats.norm.logpdf(mu, 0.0, 5.0) + jnp.log(2.0) + stats.cauchy.logpdf(tau, 0.0, 5.0)
                + log_tau + jnp.sum(stats.norm.logpdf(tt))
                + jnp.sum(stats.norm.logpdf(SCHOOLS_Y, theta, SCHOOLS_SIGMA)))
    return logdensity


def _hmc_pieces(L, logdensity, depth=3):
    """blackjax's shape of things: a state NamedTuple, a leapfrog integrator in fori_loop, and
    a NUTS-like kernel of fixed depth: the trajectory doubles `depth` times in random
    directions, and its points are sampled by their weights exp(-H) (multinomial, progressive
    within each doubling, biased towards the new half between doublings)."""
    jax, jnp, lax, random = L.jax, L.jnp, L.lax, L.random
    vg = jax.value_and_grad(logdensity)

    class State(NamedTuple):
        position: Any
        logdensity: Any
        grad: Any

    def init(q):
        return State(q, *vg(q))

    def leapfrog(q, p, g, eps, n):
        def body(_, c):
            q, p, lp, g = c
            p = p + 0.5 * eps * g
            q = q + eps * p
            lp, g = vg(q)
            return q, p + 0.5 * eps * g, lp, g
        return lax.fori_loop(0, n, body, (q, p, logdensity(q), g))

    def pick(c, a, b):
        return jax.tree_util.tree_map(lambda x, y: jnp.where(c, x, y), a, b)

    def kernel(key, state, eps):
        k_mom, k_dir, k_sel = random.split(key, 3)
        p0 = random.normal(k_mom, state.position.shape)
        lw0 = state.logdensity - 0.5 * p0 @ p0
        ends = {"left": (state.position, p0, state.grad),
                "right": (state.position, p0, state.grad)}
        cand, logw = state, lw0
        forward = random.bernoulli(k_dir, 0.5, (depth,))
        u = random.uniform(k_sel, (depth, 2 ** (depth - 1) + 1))
        for j in range(depth):
            sign = jnp.where(forward[j], 1.0, -1.0)
            start = pick(forward[j], ends["right"], ends["left"])

            def step(i, c):
                (q, p, g), sub, sub_logw = c
                q, p, lp, g = leapfrog(q, p, g, sign * eps, 1)
                lw = lp - 0.5 * p @ p
                new_logw = jnp.logaddexp(sub_logw, lw)
                take = jnp.log(u[j, i]) < lw - new_logw
                return (q, p, g), pick(take, State(q, lp, g), sub), new_logw
            end, sub, sub_logw = lax.fori_loop(0, 2 ** j, step,
                                               (start, cand, -jnp.inf))
            take = jnp.log(u[j, -1]) < sub_logw - logw
            cand = pick(take, sub, cand)
            logw = jnp.logaddexp(logw, sub_logw)
            ends = {"left": pick(forward[j], ends["left"], end),
                    "right": pick(forward[j], end, ends["right"])}
        return cand, logw - lw0
    return SimpleNamespace(State=State, init=init, leapfrog=leapfrog, kernel=kernel)


def _nuts_program(L, n=25, eps=0.4):
    jax, lax, random = L.jax, L.lax, L.random
    H = _hmc_pieces(L, _eight_schools(L))

    @jax.jit
    def run(key, q0):
        def one(state, k):
            state, info = H.kernel(k, state, eps)
            return state, (state.position, state.logdensity, info)
        return lax.scan(one, H.init(q0), random.split(key, n))[1]
    return run(random.PRNGKey(8), L.jnp.zeros(10) + 0.1)


def test_nuts_lite_on_eight_schools():
    lp = _eight_schools(FT)
    z = np.linspace(-1, 1, 10)
    tau = np.exp(z[1])
    theta = z[0] + tau * z[2:]
    ref = (st.norm.logpdf(z[0], 0, 5) + st.halfcauchy.logpdf(tau, 0, 5) + z[1]
           + st.norm.logpdf(z[2:]).sum() + st.norm.logpdf(SCHOOLS_Y, theta, SCHOOLS_SIGMA).sum())
    np.testing.assert_allclose(lp(z), ref, rtol=1e-13)
    check_grads(lp, (z,), order=2)
    # the integrator on a standard Gaussian against its closed form, and reversed
    H = _hmc_pieces(FT, lambda q: -0.5 * fnp.sum(q ** 2))
    q0, p0, e = np.array([0.3, -1.0]), np.array([0.5, 0.2]), 0.3
    q, p, _, g = H.leapfrog(q0, p0, -q0, e, 5)
    step = np.array([[1 - e ** 2 / 2, e], [-e * (1 - e ** 2 / 4), 1 - e ** 2 / 2]])
    qp = np.linalg.matrix_power(step, 5) @ np.stack([q0, p0])
    close((qp[0], qp[1], -qp[0]), (q, p, g), 1e-13)
    qb, pb, _, _ = H.leapfrog(q, -p, g, e, 5)
    close((q0, p0), (qb, -pb), 1e-13)
    samples, lps, info = _nuts_program(FT)
    samples = np.asarray(samples)
    assert samples.shape == (25, 10) and np.isfinite(samples).all()
    assert len({tuple(s) for s in samples}) > 15       # it moves
    np.testing.assert_allclose(np.asarray(lps), [lp(s) for s in samples], rtol=1e-12)


def test_nuts_lite_samples_a_gaussian():
    cov = np.array([[1.0, 0.6], [0.6, 0.8]])
    prec = np.linalg.inv(cov)
    H = _hmc_pieces(FT, lambda q: -0.5 * q @ prec @ q)

    @ft.jit
    def run(key):
        def one(s, k):
            s, _ = H.kernel(k, s, 0.5)
            return s, s.position
        return flax.scan(one, H.init(fnp.zeros(2)), frandom.split(key, 400))[1]
    xs = np.asarray(run(frandom.PRNGKey(1)))[50:]
    np.testing.assert_allclose(xs.mean(0), 0.0, atol=0.2)
    np.testing.assert_allclose(np.cov(xs.T), cov, atol=0.25)


SVI_X = np.random.RandomState(6).randn(10, 2)
SVI_Y = SVI_X @ np.array([0.7, -1.2]) + 0.5 * np.random.RandomState(7).randn(10)


def _svi_program(L, steps=200, k=16):
    """numpyro's SVI by hand: a full-rank Gaussian guide (Cholesky factor with a log
    diagonal), the ELBO estimated by reparameterised samples, optimised by an optax-style
    adam in a jit'd scan with a fresh key each step."""
    jax, jnp, lax, random, stats = L.jax, L.jnp, L.lax, L.random, L.stats
    O = _optax(L)

    def log_joint(z):
        return (jnp.sum(stats.norm.logpdf(SVI_Y, SVI_X @ z, 0.5))
                + stats.multivariate_normal.logpdf(z, jnp.zeros(2), jnp.eye(2)))

    def neg_elbo(params, key):
        raw = params["L"]
        chol = jnp.tril(raw, -1) + jnp.diag(jnp.exp(jnp.diag(raw)))
        eps = random.normal(key, (k, 2))
        z = params["mu"] + eps @ chol.T
        entropy = jnp.sum(jnp.diag(raw)) + jnp.log(2 * jnp.pi * jnp.e)
        return -(jnp.mean(jax.vmap(log_joint)(z)) + entropy)
    opt = O.chain(O.scale_by_adam(), O.scale(-0.05))

    @jax.jit
    def fit(params, key):
        def step(c, key):
            p, s = c
            v, g = jax.value_and_grad(neg_elbo)(p, key)
            u, s = opt.update(g, s, p)
            return (O.apply_updates(p, u), s), v
        return lax.scan(step, (params, opt.init(params)), random.split(key, steps))
    p0 = {"mu": jnp.zeros(2), "L": jnp.array([[0.0, 0.0], [0.3, -0.5]])}
    g0 = jax.grad(neg_elbo)(p0, random.PRNGKey(0))
    (p, _), losses = fit(p0, random.PRNGKey(1))
    return g0, p, losses


def test_svi_with_reparameterised_gradients():
    g0, p, losses = _svi_program(FT)
    P = np.eye(2) + SVI_X.T @ SVI_X / 0.25                 # the exact posterior
    m = np.linalg.solve(P, SVI_X.T @ SVI_Y / 0.25)
    # the estimator's gradient by hand at the same noise: grad log p = -P (z - m)
    raw = np.array([[0.0, 0.0], [0.3, -0.5]])
    chol = np.tril(raw, -1) + np.diag(np.exp(np.diag(raw)))
    eps = np.asarray(frandom.normal(frandom.PRNGKey(0), (16, 2)))
    r = -(eps @ chol.T - m) @ P                            # rows: grad log p at z_k (P symmetric)
    g_chol = r.T @ eps / 16
    g_raw = np.tril(g_chol, -1) + np.diag(np.diag(g_chol) * np.exp(np.diag(raw)) + 1.0)
    close((-r.mean(0), -g_raw), (g0["mu"], g0["L"]), 1e-12)
    raw = np.asarray(p["L"])
    chol = np.tril(raw, -1) + np.diag(np.exp(np.diag(raw)))
    np.testing.assert_allclose(np.asarray(p["mu"]), m, atol=0.05)
    np.testing.assert_allclose(chol @ chol.T, np.linalg.inv(P), atol=0.02)
    assert float(np.mean(np.asarray(losses)[-20:])) < float(np.asarray(losses)[0])


KF_Y = (np.cumsum(np.random.RandomState(8).randn(12) * 0.5)
        + 0.3 * np.random.RandomState(9).randn(12))


def _kalman_program(L, grid):
    """A local-level model's marginal likelihood by a Kalman filter in lax.scan (predict,
    update, the innovations' log densities), its gradient in the log variances, and both
    vmapped over a grid of parameters under jit."""
    jax, jnp, lax, stats = L.jax, L.jnp, L.lax, L.stats

    def loglik(theta, p0=2.0):
        q, r = jnp.exp(theta[0]), jnp.exp(theta[1])

        def step(c, y):
            m, P, ll = c
            P = P + q
            S = P + r
            ll = ll + stats.norm.logpdf(y, m, jnp.sqrt(S))
            K = P / S
            return (m + K * (y - m), (1 - K) * P, ll), m
        (_, _, ll), preds = lax.scan(step, (0.0, p0, 0.0), KF_Y)
        return ll, preds
    f = jax.jit(jax.vmap(jax.value_and_grad(lambda t: loglik(t)[0])))
    v, g = f(grid)
    h = jax.hessian(lambda t: loglik(t)[0])(grid[0])
    return v, g, h, loglik(grid[0])[1]


KF_GRID = np.array([[-1.0, -2.0], [0.0, -1.0], [-2.0, 0.5]])


def test_kalman_filter_likelihood_against_the_joint_gaussian():
    grid = KF_GRID
    v, g, h, preds = _kalman_program(FT, grid)
    n = len(KF_Y)
    i = np.arange(1, n + 1)

    def direct(t):            # y ~ N(0, p0 + q min(i, j) + r I), by SciPy
        return st.multivariate_normal.logpdf(
            KF_Y, np.zeros(n), 2.0 + np.exp(t[0]) * np.minimum.outer(i, i)
            + np.exp(t[1]) * np.eye(n))

    def fd(f, t, h=1e-5):
        return np.array([(f(t + h * e) - f(t - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(np.asarray(v), [direct(t) for t in grid], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g), [fd(direct, t) for t in grid], rtol=1e-7)
    np.testing.assert_allclose(np.asarray(h), fd(lambda t: fd(direct, t, 1e-4), grid[0], 1e-4),
                               rtol=1e-5, atol=1e-6)
    assert float(np.asarray(preds)[0]) == 0.0


# -- diffrax-style ODE solving: adaptive Dormand-Prince in while_loop, gradients through it ----


_DP_C = np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1])
_DP_A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
         [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
         [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
         [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]]
_DP_B5 = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0])
_DP_B4 = np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])


def _dopri5(L, f, rtol=1e-9, atol=1e-9):
    """An adaptive Dormand-Prince 5(4) solver of y' = f(t, y, args) from t0 to t1: a PI-free
    (integral) step-size controller in a lax.while_loop (forward mode only), and diffrax's
    bounded alternative, a lax.scan of max_steps whose finished steps change nothing (reverse
    mode through it)."""
    jnp, lax = L.jnp, L.lax

    def attempt(t, y, dt, args):
        ks = []
        for c, a in zip(_DP_C, _DP_A):
            yi = y + dt * sum(aij * kj for aij, kj in zip(a, ks))
            ks.append(f(t + c * dt, yi, args))
        y5 = y + dt * sum(b * k for b, k in zip(_DP_B5, ks))
        e = dt * sum(b * k for b, k in zip(_DP_B5 - _DP_B4, ks))
        err = jnp.sqrt(jnp.mean((e / (atol + rtol * jnp.maximum(jnp.abs(y), jnp.abs(y5)))) ** 2))
        return y5, err

    def advance(t, y, dt, n, t1, args, active=True):
        last = dt >= t1 - t
        dt = jnp.minimum(dt, t1 - t)
        y5, err = attempt(t, y, dt, args)
        ok = (err <= 1.0) & active
        safe = jnp.where(err > 0, err, 1.0)                  # no inf/nan in the unused branch
        factor = jnp.where(err > 0, jnp.clip(0.9 * safe ** -0.2, 0.2, 10.0), 10.0)
        t = jnp.where(ok, jnp.where(last, t1, t + dt), t)
        return t, jnp.where(ok, y5, y), jnp.where(active, dt * factor, dt), n + ok

    def solve(y0, t0, t1, dt0, args):
        def body(s):
            return advance(*s, t1, args)
        t, y, dt, n = lax.while_loop(lambda s: s[0] < t1, body, (t0, y0, dt0, 0))
        return y, n

    def solve_bounded(y0, t0, t1, dt0, args, max_steps=128):
        def body(s, _):
            t, y, dt, n = s
            active = t < t1
            t_safe = jnp.where(active, t, t0)                   # a finished solve: dummy step
            s = advance(t_safe, y, dt, n, t1, args, active)
            return (jnp.where(active, s[0], t),) + s[1:], None
        (t, y, dt, n), _ = lax.scan(body, (t0, y0, dt0, 0), None, length=max_steps)
        return y, n, t
    return SimpleNamespace(solve=solve, solve_bounded=solve_bounded)


def _oscillator_program(L, theta):
    jax, jnp = L.jax, L.jnp

    def f(t, y, th):
        return jnp.stack([y[1], -th[0] * y[0] - th[1] * y[1]])
    S = _dopri5(L, f)
    y0 = jnp.array([1.0, 0.0])
    y, n = jax.jit(lambda th: S.solve(y0, 0.0, 5.0, 0.1, th))(theta)
    jac = jax.jit(jax.jacfwd(lambda th: S.solve(y0, 0.0, 5.0, 0.1, th)[0]))(theta)
    yb, nb, tb = jax.jit(lambda th: S.solve_bounded(y0, 0.0, 5.0, 0.1, th))(theta)
    g = jax.jit(jax.grad(lambda th: S.solve_bounded(y0, 0.0, 5.0, 0.1, th)[0][0]))(theta)
    return y, n, jac, yb, nb, tb, g


OSC_THETA = np.array([2.0, 0.3])


def test_adaptive_dopri5_and_its_gradients_discretise_then_optimise():
    theta = OSC_THETA
    y, n, jac, yb, nb, tb, g = _oscillator_program(FT, theta)
    A = np.array([[0.0, 1.0], [-2.0, -0.3]])
    y0 = np.array([1.0, 0.0])
    np.testing.assert_allclose(np.asarray(y), sla.expm(5 * A) @ y0, atol=1e-8)
    dA = [np.array([[0.0, 0.0], [-1.0, 0.0]]), np.array([[0.0, 0.0], [0.0, -1.0]])]
    exact = np.stack([sla.expm_frechet(5 * A, 5 * d, compute_expm=False) @ y0 for d in dA], 1)
    np.testing.assert_allclose(np.asarray(jac), exact, atol=1e-7)
    # the bounded scan takes the same steps, so the same numbers, and reverse mode through it
    assert 20 < int(n) == int(nb) < 128 and float(tb) == 5.0
    close(y, yb, 1e-14)
    close(np.asarray(jac)[0], g, 1e-11)
    # functrans (not JAX) also runs reverse mode through the while_loop itself, under jit
    S = _dopri5(FT, lambda t, y, th: fnp.stack([y[1], -th[0] * y[0] - th[1] * y[1]]))
    close(g, ft.jit(ft.grad(lambda th: S.solve(fnp.array([1.0, 0.0]), 0.0, 5.0, 0.1, th)[0][0]))(
        theta), 1e-11)


def _logistic_program(L, theta):
    """Optimise-then-discretise against discretise-then-optimise: odeint's adjoint gradient
    and the gradient through a fixed-step RK4 written in scan/fori_loop, for a logistic ODE."""
    jax, jnp, lax = L.jax, L.jnp, L.lax
    t = jnp.linspace(0.0, 4.0, 5)

    def f(y, t, r, K):
        return r * y * (1 - y / K)

    def loss_adjoint(th):
        ys = L.odeint(f, th[2], t, th[0], th[1], rtol=1e-11, atol=1e-11)
        return jnp.sum(ys ** 2)

    def loss_rk4(th, h=0.01):
        def rk4(_, y):
            k1 = f(y, 0.0, th[0], th[1])
            k2 = f(y + h / 2 * k1, 0.0, th[0], th[1])
            k3 = f(y + h / 2 * k2, 0.0, th[0], th[1])
            k4 = f(y + h * k3, 0.0, th[0], th[1])
            return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

        def interval(y, _):
            y = lax.fori_loop(0, 100, rk4, y)
            return y, y
        ys = lax.scan(interval, th[2], None, length=4)[1]
        return th[2] ** 2 + jnp.sum(ys ** 2)
    return (jax.value_and_grad(loss_adjoint)(theta),
            jax.jit(jax.value_and_grad(loss_rk4))(theta))


LOGISTIC_THETA = np.array([1.3, 2.0, 0.2])


def test_odeint_adjoint_against_the_discretised_gradient():
    from functrans.experimental.ode import odeint     # where jax.experimental.ode has it
    assert odeint is fodeint
    theta = LOGISTIC_THETA
    (va, ga), (vr, gr) = _logistic_program(FT, theta)

    def closed(th):
        r, K, y0 = th
        e = np.exp(r * np.linspace(0.0, 4.0, 5))
        return np.sum((K * y0 * e / (K + y0 * (e - 1))) ** 2)
    fd = np.array([(closed(theta + 1e-6 * e) - closed(theta - 1e-6 * e)) / 2e-6
                   for e in np.eye(3)])
    np.testing.assert_allclose([float(va), float(vr)], closed(theta), rtol=1e-9)
    np.testing.assert_allclose(np.asarray(ga), fd, rtol=1e-7)
    np.testing.assert_allclose(np.asarray(gr), fd, rtol=1e-7)


# -- jaxopt-style implicit differentiation ------------------------------------------------------


DEQ_W = np.random.RandomState(10).randn(4, 4) * 0.3
DEQ_X = np.random.RandomState(11).randn(3, 4)


def _deq_program(L, W, xs):
    """A fixed point z = tanh(W z + x) found by Newton in a while_loop, differentiated by
    lax.custom_root (the solver's iterations never differentiated), in both modes and
    vmapped."""
    jax, jnp, lax = L.jax, L.jnp, L.lax

    def fixed_point(W, x):
        def f(z):
            return z - jnp.tanh(W @ z + x)

        def newton(f, z0):
            def body(c):
                z, i = c
                return z - jnp.linalg.solve(jax.jacfwd(f)(z), f(z)), i + 1
            return lax.while_loop(lambda c: (jnp.max(jnp.abs(f(c[0]))) > 1e-14) & (c[1] < 30),
                                  body, (z0, 0))[0]

        def tangent_solve(g, y):
            return jnp.linalg.solve(jax.jacobian(g)(y), y)
        return lax.custom_root(f, jnp.zeros_like(x), newton, tangent_solve)

    def loss(W, x):
        return jnp.sum(fixed_point(W, x) ** 2)
    v, (gW, gx) = jax.value_and_grad(loss, (0, 1))(W, xs[0])
    jx = jax.jacfwd(fixed_point, 1)(W, xs[0])
    gWs = jax.jit(jax.vmap(jax.grad(loss), (None, 0)))(W, xs)
    return v, gW, gx, jx, gWs


def test_custom_root_fixed_point_against_the_implicit_function_theorem():
    v, gW, gx, jx, gWs = _deq_program(FT, DEQ_W, DEQ_X)
    for i, x in enumerate(DEQ_X):
        z = np.zeros(4)
        for _ in range(200):
            z = np.tanh(DEQ_W @ z + x)
        D = np.diag(1 - z ** 2)
        dz_dx = np.linalg.solve(np.eye(4) - D @ DEQ_W, D)
        u = dz_dx.T @ (2 * z)
        np.testing.assert_allclose(np.asarray(gWs[i]), np.outer(u, z), atol=1e-12)
        if i == 0:
            np.testing.assert_allclose(float(v), z @ z, rtol=1e-13)
            close((dz_dx, u, np.outer(u, z)), (jx, gx, gW), 1e-12)


RIDGE = np.random.RandomState(12)
RX, RY = RIDGE.randn(20, 4), RIDGE.randn(20)
RXV, RYV = RIDGE.randn(8, 4), RIDGE.randn(8)


def _ridge_program(L, lam):
    """Ridge regression's validation loss differentiated in the penalty two ways: the normal
    equations by lax.custom_linear_solve around a conjugate-gradient fori_loop, and jaxopt's
    decorator idiom, an implicit VJP through the optimality condition (the objective's
    gradient) of a gradient-descent solver, its linear system solved by CG on vjp products."""
    jax, jnp, lax = L.jax, L.jnp, L.lax

    def cg(matvec, b, iters=12):
        def body(_, c):
            x, r, p, rs = c
            ap = matvec(p)
            alpha = rs / jnp.where(p @ ap == 0, 1.0, p @ ap)
            x, r = x + alpha * p, r - alpha * ap
            rs_new = r @ r
            return x, r, r + rs_new / jnp.where(rs == 0, 1.0, rs) * p, rs_new
        return lax.fori_loop(0, iters, body, (jnp.zeros_like(b), b, b, b @ b))[0]

    def ridge_cls(lam, X, y):
        def matvec(w):
            return X.T @ (X @ w) + lam * w
        return lax.custom_linear_solve(matvec, X.T @ y, lambda mv, b: cg(mv, b),
                                       symmetric=True)

    def implicit_diff(optimality):
        def wrap(solver):
            @jax.custom_vjp
            def solve(theta):
                return solver(theta)

            def fwd(theta):
                w = solver(theta)
                return w, (w, theta)

            def bwd(res, g):
                w, theta = res
                _, vjp_w = jax.vjp(lambda w: optimality(w, theta), w)
                u = cg(lambda v: vjp_w(v)[0], g)
                _, vjp_theta = jax.vjp(lambda th: optimality(w, th), theta)
                return (jax.tree_util.tree_map(lambda a: -a, vjp_theta(u)[0]),)
            solve.defvjp(fwd, bwd)
            return solve
        return wrap

    def optimality(w, theta):
        lam, X, y = theta
        return jax.grad(lambda w: 0.5 * jnp.sum((X @ w - y) ** 2) + 0.5 * lam * w @ w)(w)

    @implicit_diff(optimality)
    def ridge_gd(theta):
        lam, X, y = theta
        step = 1.0 / (jnp.linalg.norm(X, 2) ** 2 + lam)
        return lax.fori_loop(0, 400, lambda _, w: w - step * optimality(w, theta),
                             jnp.zeros(X.shape[1]))

    def val(w):
        return jnp.sum((RXV @ w - RYV) ** 2)
    g1 = jax.grad(lambda lam, y: val(ridge_cls(lam, RX, y)), (0, 1))(lam, RY)
    g2 = jax.jit(jax.grad(lambda th: val(ridge_gd(th))))((lam, RX, RY))
    return ridge_cls(lam, RX, RY), ridge_gd((lam, RX, RY)), g1, g2


def test_ridge_hypergradients_by_custom_linear_solve_and_implicit_vjp():
    lam = 3.0
    w1, w2, (gl1, gy1), (gl2, gX2, gy2) = _ridge_program(FT, lam)
    A = RX.T @ RX + lam * np.eye(4)
    w = np.linalg.solve(A, RX.T @ RY)
    r2 = 2 * RXV.T @ (RXV @ w - RYV)
    u = np.linalg.solve(A, r2)
    close((w, w), (w1, w2), 1e-10)
    # dw/dlam = -A^-1 w; dw/dy = A^-1 X^T; dw/dX (u = A^-1 dV/dw): y u^T... - X (u w^T + w u^T)
    close((-u @ w, RX @ u), (gl1, gy1), 1e-10)
    close((-u @ w, np.outer(RY - RX @ w, u) - np.outer(RX @ u, w), RX @ u),
          (gl2, gX2, gy2), 1e-9)


# -- neural-tangents-style NTK, ensembles over parameter pytrees, hypernetworks, meta-learning --


NTK_X1 = np.random.RandomState(13).randn(4, 3)
NTK_X2 = np.random.RandomState(14).randn(3, 3)


def _ntk_program(L, x1, x2, h=16):
    """The empirical NTK of a one-hidden-layer network two ways: Jacobians (vmap of jacrev,
    contracted over every parameter leaf) and NTK-vector products (vjp then jvp, vmapped
    over the basis)."""
    jax, jnp, random = L.jax, L.jnp, L.random
    k = random.split(random.PRNGKey(2), 3)
    params = {"W": random.normal(k[0], (h, 3)), "b": random.normal(k[1], (h,)),
              "v": random.normal(k[2], (h,))}

    def f(p, x):
        return p["v"] @ jnp.tanh(p["W"] @ x + p["b"]) / math.sqrt(h)

    def batched(p, x):
        return jax.vmap(f, (None, 0))(p, x)

    def ntk_jacobians(x1, x2):
        j1, j2 = (jax.vmap(jax.jacrev(f), (None, 0))(params, x) for x in (x1, x2))
        return sum(a.reshape(a.shape[0], -1) @ b.reshape(b.shape[0], -1).T
                   for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)))

    def ntk_products(x1, x2):
        _, vjp2 = jax.vjp(lambda p: batched(p, x2), params)

        def column(v):
            return jax.jvp(lambda p: batched(p, x1), (params,), vjp2(v))[1]
        return jax.vmap(column, 1, 1)(jnp.eye(x2.shape[0]))
    return params, jax.jit(ntk_jacobians)(x1, x2), ntk_products(x1, x2), ntk_jacobians(x1, x1)


def test_empirical_ntk_two_ways_against_its_closed_form():
    params, k12, k12b, k11 = _ntk_program(FT, NTK_X1, NTK_X2)
    W, b, v = (np.asarray(params[n]) for n in ("W", "b", "v"))
    t1, t2 = np.tanh(NTK_X1 @ W.T + b), np.tanh(NTK_X2 @ W.T + b)
    ref = (t1 @ t2.T + ((1 - t1 ** 2) * v ** 2) @ (1 - t2 ** 2).T
           * (NTK_X1 @ NTK_X2.T + 1)) / 16
    close((ref, ref), (k12, k12b), 1e-12)
    k11 = np.asarray(k11)
    np.testing.assert_allclose(k11, k11.T, atol=1e-14)
    assert np.linalg.eigvalsh(k11).min() > -1e-12


ENS_X = np.random.RandomState(15).randn(12, 2)
ENS_Y = np.sin(ENS_X[:, 0]) + 0.5 * ENS_X[:, 1]


def _ensemble_program(L, x, y, members=4):
    """A deep ensemble: members initialised by vmap over split keys, each fitted to its own
    bootstrap resample by one jit'd vmap over the stacked parameter pytree (hyperparameters
    shared through in_axes=None), predictions' mean and spread."""
    jax, jnp, random = L.jax, L.jnp, L.random
    x, y = jnp.asarray(x), jnp.asarray(y)      # indexed by traced indices below

    def init(k):
        k1, k2 = random.split(k)
        return {"w": random.normal(k1, (2, 8)) * 0.5, "v": random.normal(k2, (8,)) * 0.3}
    params = jax.vmap(init)(random.split(random.PRNGKey(3), members))
    boot = jax.vmap(lambda k: random.choice(k, x.shape[0], (x.shape[0],)))(
        random.split(random.PRNGKey(4), members))

    def predict(p, x):
        return jnp.tanh(x @ p["w"]) @ p["v"]

    def loss(p, idx, hp):
        return jnp.mean((predict(p, x[idx]) - y[idx]) ** 2) + hp["l2"] * jnp.sum(p["w"] ** 2)

    @jax.jit
    def step(params, hp):
        g = jax.vmap(jax.grad(loss), (0, 0, None))(params, boot, hp)
        return jax.tree_util.tree_map(lambda p, q: p - hp["lr"] * q, params, g), g
    hp = {"lr": 0.2, "l2": 1e-3}
    p, g0 = step(params, hp)
    for _ in range(5):
        p, _ = step(p, hp)
    preds = jax.vmap(predict, (0, None))(p, x)
    return params, boot, g0, jnp.mean(preds, 0), jnp.std(preds, 0)


def test_deep_ensemble_by_vmap_over_parameter_pytrees():
    params, boot, g0, mean, std = _ensemble_program(FT, ENS_X, ENS_Y)
    boot = np.asarray(boot)
    assert boot.shape == (4, 12) and boot.min() >= 0 and boot.max() < 12
    assert len({tuple(b) for b in boot}) == 4            # each member its own resample
    for m in range(4):                                   # member by member, by NumPy
        w, v, idx = np.asarray(params["w"][m]), np.asarray(params["v"][m]), boot[m]
        h = np.tanh(ENS_X[idx] @ w)
        r = 2 * (h @ v - ENS_Y[idx]) / 12
        gw = ENS_X[idx].T @ (np.outer(r, v) * (1 - h ** 2)) + 2e-3 * w
        close((gw, h.T @ r), (g0["w"][m], g0["v"][m]), 1e-12)
    assert np.all(np.asarray(std) > 0) and np.asarray(mean).shape == (12,)


def _hypernet_program(L, phi, emb, xs, ys):
    """A hypernetwork: task embeddings mapped to the flat parameters of a small target
    network, unravelled by ravel_pytree, the tasks' losses vmapped and differentiated in the
    hypernetwork's parameters."""
    jax, jnp = L.jax, L.jnp
    template = {"w1": jnp.zeros((1, 5)), "b1": jnp.zeros(5), "w2": jnp.zeros((5, 1))}
    flat, unravel = L.ravel_pytree(template)

    def target(p, x):
        return (jnp.tanh(x[:, None] @ p["w1"] + p["b1"]) @ p["w2"])[:, 0]

    def task_loss(phi, e, x, y):
        return jnp.mean((target(unravel(jnp.tanh(phi["A"] @ e + phi["c"])), x) - y) ** 2)

    def loss(phi):
        return jnp.mean(jax.vmap(task_loss, (None, 0, 0, 0))(phi, emb, xs, ys))
    return flat.shape, jax.jit(jax.value_and_grad(loss))(phi), unravel(jnp.arange(15.0))


def _hypernet_data():
    rs = np.random.RandomState(16)
    phi = {"A": rs.randn(15, 3) * 0.5, "c": rs.randn(15) * 0.1}
    emb, xs = rs.randn(4, 3), rs.randn(4, 6)
    return phi, emb, xs, np.sin(xs * emb[:, :1])


def test_hypernetwork_generating_target_weights():
    phi, emb, xs, ys = _hypernet_data()
    shape, (v, g), unr = _hypernet_program(FT, phi, emb, xs, ys)
    assert tuple(shape) == (15,)
    # ravel_pytree's order: the leaves sorted by key, each flattened
    np.testing.assert_array_equal(np.asarray(unr["b1"]), np.arange(5.0))
    np.testing.assert_array_equal(np.asarray(unr["w1"]), np.arange(5.0, 10.0).reshape(1, 5))
    total = 0.0
    for e, x, y in zip(emb, xs, ys):                    # the tasks one by one, by NumPy
        t = np.tanh(phi["A"] @ e + phi["c"])
        b1, w1, w2 = t[:5], t[5:10].reshape(1, 5), t[10:].reshape(5, 1)
        total += np.mean(((np.tanh(x[:, None] @ w1 + b1) @ w2)[:, 0] - y) ** 2) / 4
    np.testing.assert_allclose(float(v), total, rtol=1e-13)
    check_grads(lambda phi: _hypernet_program(FT, phi, emb, xs, ys)[1][0], (phi,), order=1,
                modes=("rev",))


QA = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.6]])
QB = np.array([[1.0, -1.0, 0.5], [0.2, 0.4, -0.3], [-1.0, 0.0, 2.0]])
QW0 = np.array([0.5, 0.5, -1.0])


def _hypergradient_program(L, lr, bs, steps=10):
    """Meta-learning a learning rate: T steps of gradient descent unrolled in lax.scan, the
    final loss differentiated in the rate (first and second order, grad of grad), vmapped over
    tasks, and the rate itself tuned by a jit'd outer loop on the meta-gradient."""
    jax, jnp, lax = L.jax, L.jnp, L.lax

    def inner_loss(w, b):
        return 0.5 * w @ QA @ w - b @ w

    def meta_loss(lr, b):
        def step(w, _):
            return w - lr * jax.grad(inner_loss)(w, b), None
        return inner_loss(lax.scan(step, jnp.asarray(QW0), None, length=steps)[0], b)
    d1 = jax.vmap(jax.grad(meta_loss), (None, 0))(lr, bs)
    d2 = jax.vmap(jax.grad(jax.grad(meta_loss)), (None, 0))(lr, bs)
    h = jax.hessian(lambda lr: jnp.mean(jax.vmap(meta_loss, (None, 0))(lr, bs)))(lr)

    @jax.jit
    def tune(lr):
        def outer(lr, _):
            g = jnp.mean(jax.vmap(jax.grad(meta_loss), (None, 0))(lr, bs))
            return lr - 0.05 * g, g
        return lax.scan(outer, lr, None, length=20)
    return d1, d2, h, tune(lr)


def test_learning_rate_meta_gradient_through_unrolled_descent():
    lr = 0.3
    d1, d2, h, (lr_final, gs) = _hypergradient_program(FT, lr, QB)
    I = np.eye(3)
    for i, b in enumerate(QB):     # w_T - w* = M^T (w0 - w*), M = I - lr A: its derivatives
        ws = np.linalg.solve(QA, b)
        M = I - lr * QA
        e = QW0 - ws
        wT = ws + np.linalg.matrix_power(M, 10) @ e
        dw = -10 * QA @ np.linalg.matrix_power(M, 9) @ e
        d2w = 90 * QA @ QA @ np.linalg.matrix_power(M, 8) @ e
        grad_w = QA @ wT - b
        np.testing.assert_allclose(float(d1[i]), grad_w @ dw, rtol=1e-12)
        np.testing.assert_allclose(float(d2[i]), dw @ QA @ dw + grad_w @ d2w, rtol=1e-12)
    np.testing.assert_allclose(float(h), np.mean(np.asarray(d2)), rtol=1e-12)
    gs = np.asarray(gs)
    assert abs(gs[-1]) < abs(gs[0]) and 0 < float(lr_final) < 2 / np.linalg.eigvalsh(QA).max()


# -- more: a stochastic differential equation, the lasso's path by implicit differentiation ----


def _sde_program(L, theta, n_paths=32, n_steps=100, T=1.0):
    """diffrax-style SDE solving with Brownian increments from split keys: geometric Brownian
    motion by Milstein's scheme and by the exact log-scheme, in scan, vmapped over paths, a
    call option's Monte Carlo price differentiated pathwise under jit."""
    jax, jnp, lax, random = L.jax, L.jnp, L.lax, L.random
    dt = T / n_steps

    def increments(key):
        return random.normal(key, (n_steps,)) * math.sqrt(dt)

    def milstein(dw, th):
        mu, sigma = th[0], th[1]

        def step(s, w):
            return s + mu * s * dt + sigma * s * w + 0.5 * sigma ** 2 * s * (w ** 2 - dt), None
        return lax.scan(step, 1.0, dw)[0]

    def log_exact(dw, th):
        mu, sigma = th[0], th[1]
        return jnp.exp(lax.scan(lambda x, w: (x + (mu - 0.5 * sigma ** 2) * dt + sigma * w,
                                               None), 0.0, dw)[0])
    dws = jax.vmap(increments)(random.split(random.PRNGKey(0), n_paths))

    def price(th, scheme):
        return jnp.mean(jnp.maximum(jax.vmap(scheme, (0, None))(dws, th) - 1.0, 0.0))
    v, g = jax.jit(jax.value_and_grad(lambda th: price(th, log_exact)))(theta)
    s_m = jax.vmap(milstein, (0, None))(dws, theta)
    return v, g, s_m, jnp.sum(dws, axis=1)


def test_sde_milstein_and_exact_scheme_pathwise_greeks():
    theta = np.array([0.05, 0.3])
    v, g, s_m, w_T = _sde_program(FT, theta)
    w_T = np.asarray(w_T)
    s_T = np.exp((0.05 - 0.045) + 0.3 * w_T)                 # GBM's exact solution
    itm = s_T > 1.0
    np.testing.assert_allclose(float(v), np.mean(np.maximum(s_T - 1.0, 0.0)), rtol=1e-12)
    dmu, dsigma = s_T * 1.0, s_T * (w_T - 0.3)                 # dS_T/dmu, dS_T/dsigma (T = 1)
    np.testing.assert_allclose(np.asarray(g), [np.mean(itm * dmu), np.mean(itm * dsigma)],
                               rtol=1e-12)
    assert 0 < itm.sum() < 32
    np.testing.assert_allclose(np.asarray(s_m), s_T, rtol=2e-2)  # Milstein: strong order 1


LASSO = np.random.RandomState(21)
LX, LXV = LASSO.randn(30, 6), LASSO.randn(10, 6)
LW = np.array([1.5, 0.0, -2.0, 0.0, 0.3, 0.0])
LY, LYV = LX @ LW + 0.3 * LASSO.randn(30), LXV @ LW + 0.3 * LASSO.randn(10)


def _lasso_program(L, lam):
    """jaxopt's ProximalGradient for the lasso (soft-thresholding steps in a while_loop) with
    its solution differentiated implicitly through the proximal step's fixed point by
    lax.custom_root; the validation loss's hypergradient in the penalty."""
    jax, jnp, lax = L.jax, L.jnp, L.lax
    step = 1.0 / np.linalg.norm(LX, 2) ** 2

    def prox(w, t):
        return jnp.sign(w) * jnp.maximum(jnp.abs(w) - t, 0.0)

    def lasso(lam):
        def residual(w):        # zero at the solution: the proximal step's fixed point
            return prox(w - step * (LX.T @ (LX @ w - LY)), step * lam) - w

        def ista(f, w0):
            def body(c):
                w, _, i = c
                w_new = w + f(w)
                return w_new, jnp.max(jnp.abs(w_new - w)), i + 1
            return lax.while_loop(lambda c: (c[1] > 1e-15) & (c[2] < 20000), body,
                                  (w0, jnp.inf, 0))[0]

        def tangent_solve(g, y):
            return jnp.linalg.solve(jax.jacobian(g)(y), y)
        return lax.custom_root(residual, jnp.zeros(6), ista, tangent_solve)

    def val(lam):
        return jnp.sum((LXV @ lasso(lam) - LYV) ** 2)
    return lasso(lam), jax.value_and_grad(val)(lam), jax.jit(jax.vmap(jax.grad(val)))(
        jnp.array([lam, 2 * lam]))


def test_lasso_hypergradient_by_implicit_differentiation():
    lam = 8.0
    w, (v, g), gs = _lasso_program(FT, lam)
    w = np.asarray(w)
    S = np.abs(w) > 0
    assert 0 < S.sum() < 6                                   # a sparse solution
    corr = LX.T @ (LY - LX @ w)                               # KKT: |corr| <= lam, = on S
    np.testing.assert_allclose(corr[S], lam * np.sign(w[S]), atol=1e-9)
    assert np.all(np.abs(corr[~S]) < lam)
    # on the support w_S = (X_S^T X_S)^-1 (X_S^T y - lam sign w_S): its derivative in lam
    G = LX[:, S].T @ LX[:, S]
    dw = np.zeros(6)
    dw[S] = -np.linalg.solve(G, np.sign(w[S]))
    np.testing.assert_allclose(float(g), 2 * (LXV @ w - LYV) @ LXV @ dw, rtol=1e-9)
    np.testing.assert_allclose(float(gs[0]), float(g), rtol=1e-12)


# -- a data-parallel CLIP loss with all_gather; PPO with GAE by a reverse scan -----------------


CLIP_A = np.random.RandomState(22).randn(8, 5)
CLIP_B = np.random.RandomState(23).randn(8, 4)


def _clip_program(L, wa, wb, shards=4):
    """CLIP's contrastive loss data-parallel as in pmap-style training code: each shard
    embeds its slice, all_gather collects every embedding over the named axis, each shard's
    loss on its own rows (axis_index), pmean of the gradients."""
    jax, jnp, lax, nn = L.jax, L.jnp, L.lax, L.nn
    a = CLIP_A.reshape(shards, -1, 5)
    b = CLIP_B.reshape(shards, -1, 4)

    def embed(x, w):
        e = x @ w
        return e / jnp.sqrt(jnp.sum(e ** 2, axis=-1, keepdims=True))

    def shard_loss(params, xa, xb):
        wa, wb, log_t = params
        ea, eb = embed(xa, wa), embed(xb, wb)
        all_a = lax.all_gather(ea, "d").reshape(-1, ea.shape[-1])
        all_b = lax.all_gather(eb, "d").reshape(-1, eb.shape[-1])
        n = ea.shape[0]
        rows = lax.axis_index("d") * n + jnp.arange(n)
        la = nn.log_softmax(jnp.exp(log_t) * ea @ all_b.T, axis=-1)
        lb = nn.log_softmax(jnp.exp(log_t) * eb @ all_a.T, axis=-1)
        return -0.5 * (jnp.mean(la[jnp.arange(n), rows]) + jnp.mean(lb[jnp.arange(n), rows]))

    def step(params, xa, xb):
        v, g = jax.value_and_grad(shard_loss)(params, xa, xb)
        return lax.pmean(v, "d"), lax.pmean(g, "d")
    params = (wa, wb, jnp.asarray(1.0))
    return jax.vmap(step, (None, 0, 0), axis_name="d")(params, a, b)


CLIP_WA, CLIP_WB = np.random.RandomState(24).randn(5, 3), np.random.RandomState(26).randn(4, 3)


def test_clip_loss_with_all_gather_over_a_named_axis():
    wa, wb = CLIP_WA, CLIP_WB
    v, g = _clip_program(FT, wa, wb)

    def whole(params):               # the same loss on the whole batch, no named axis
        wa, wb, log_t = params
        ea, eb = (e / fnp.linalg.norm(e, axis=-1, keepdims=True) for e in (CLIP_A @ wa,
                                                                          CLIP_B @ wb))
        logits = fnp.exp(log_t) * ea @ eb.T
        i = np.arange(8)
        return -0.5 * (fnp.mean(fnn.log_softmax(logits, axis=1)[i, i])
                       + fnp.mean(fnn.log_softmax(logits.T, axis=1)[i, i]))
    params = (wa, wb, np.asarray(1.0))
    np.testing.assert_allclose(np.asarray(v), float(whole(params)), rtol=1e-13)
    ref = ft.grad(whole)(params)
    for got, want in zip(g, ref):           # every shard holds the same pmean'd gradient
        for k in range(4):
            np.testing.assert_allclose(np.asarray(got)[k], np.asarray(want), atol=1e-13)
    check_grads(whole, (params,), order=2)


def _ppo_program(L, params, obs, actions, rewards, dones, old_logp):
    """PPO's pieces: generalised advantage estimation by a reverse lax.scan, a categorical
    policy's log-probabilities by log_softmax and take_along_axis, the clipped surrogate with
    a value loss and an entropy bonus, differentiated under jit."""
    jax, jnp, lax, nn = L.jax, L.jnp, L.lax, L.nn

    def gae(values, rewards, dones, gamma=0.99, lam=0.95):
        def back(adv, t):
            r, d, v, v_next = t
            delta = r + gamma * v_next * (1 - d) - v
            adv = delta + gamma * lam * (1 - d) * adv
            return adv, adv
        _, adv = lax.scan(back, 0.0, (rewards, dones, values[:-1], values[1:]), reverse=True)
        return adv

    def loss(params):
        logits = obs @ params["pi"]
        values = jnp.tanh(obs @ params["v"])
        adv = lax.stop_gradient(gae(values, rewards, dones))
        logp_all = nn.log_softmax(logits[:-1])
        logp = jnp.take_along_axis(logp_all, actions[:, None], axis=1)[:, 0]
        ratio = jnp.exp(logp - old_logp)
        surrogate = jnp.minimum(ratio * adv, jnp.clip(ratio, 0.8, 1.2) * adv)
        returns = adv + lax.stop_gradient(values[:-1])
        entropy = -jnp.sum(jnp.exp(logp_all) * logp_all, axis=1)
        return (-jnp.mean(surrogate) + 0.5 * jnp.mean((values[:-1] - returns) ** 2)
                - 0.01 * jnp.mean(entropy))
    values = jnp.tanh(obs @ params["v"])
    return gae(values, rewards, dones), jax.jit(jax.value_and_grad(loss))(params)


def _ppo_data(T=7):
    rs = np.random.RandomState(25)
    obs = rs.randn(T + 1, 3)
    actions = rs.randint(0, 2, T)
    rewards = rs.randn(T)
    dones = np.array([0, 0, 1, 0, 0, 0, 0], float)
    params = {"pi": rs.randn(3, 2) * 0.5, "v": rs.randn(3) * 0.5}
    return params, obs, actions, rewards, dones, np.log(np.full(T, 0.5)) + 0.1 * rs.randn(T)


def test_ppo_gae_by_reverse_scan_and_clipped_surrogate():
    T = 7
    params, obs, actions, rewards, dones, old_logp = _ppo_data(T)
    adv, (v, g) = _ppo_program(FT, params, obs, actions, rewards, dones, old_logp)
    values = np.tanh(obs @ params["v"])
    ref, a = np.zeros(T), 0.0
    for t in reversed(range(T)):                 # GAE by the textbook loop
        delta = rewards[t] + 0.99 * values[t + 1] * (1 - dones[t]) - values[t]
        a = delta + 0.99 * 0.95 * (1 - dones[t]) * a
        ref[t] = a
    np.testing.assert_allclose(np.asarray(adv), ref, rtol=1e-13)
    # the policy's part holds no stop_gradient: finite differences apply
    check_grads(lambda pi: _ppo_program(FT, {"pi": pi, "v": params["v"]}, obs, actions,
                                        rewards, dones, old_logp)[1][0],
                (params["pi"],), order=1, modes=("rev",))
    # the value's: (values - sg(values) - adv)^2 / 2 moves values by -adv
    np.testing.assert_allclose(np.asarray(g["v"]), -np.mean(
        (ref * (1 - values[:-1] ** 2))[:, None] * obs[:-1], axis=0), rtol=1e-12)


# -- a linearised network trained in closed form; diffusion's loss and DDIM sampling ------------


LIN_X = np.random.RandomState(27).randn(6, 2)
LIN_Y = np.sin(LIN_X[:, 0]) - LIN_X[:, 1]


def _linearised_program(L, steps=15, lr=0.05):
    """neural-tangents' linearize: f_lin(p) = f(p0) + J(p0)(p - p0) by jvp, trained by jit'd
    gradient descent (reverse mode through the jvp), and the empirical NTK of the training
    set by vmap'd vjps."""
    jax, jnp, lax, random = L.jax, L.jnp, L.lax, L.random
    k = random.split(random.PRNGKey(9), 2)
    p0 = {"w": random.normal(k[0], (2, 10)), "v": random.normal(k[1], (10,)) / math.sqrt(10)}

    def f(p, x):
        return jnp.tanh(x @ p["w"]) @ p["v"]

    def f_lin(p, x):
        dp = jax.tree_util.tree_map(lambda a, b: a - b, p, p0)
        y0, dy = jax.jvp(lambda q: f(q, x), (p0,), (dp,))
        return y0 + dy

    def loss(p):
        return 0.5 * jnp.sum((f_lin(p, LIN_X) - LIN_Y) ** 2)

    @jax.jit
    def train(p):
        def step(p, _):
            g = jax.grad(loss)(p)
            return jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g), f_lin(p, LIN_X)
        return lax.scan(step, p, None, length=steps)
    _, preds = train(p0)
    _, vjp = jax.vjp(lambda p: f(p, LIN_X), p0)
    rows = jax.vmap(vjp)(jnp.eye(LIN_X.shape[0]))[0]
    ntk = sum(a.reshape(a.shape[0], -1) @ a.reshape(a.shape[0], -1).T
              for a in jax.tree_util.tree_leaves(rows))
    return preds, ntk


def test_linearised_network_follows_its_ntk_in_closed_form():
    preds, ntk = _linearised_program(FT)
    preds, ntk = np.asarray(preds), np.asarray(ntk)
    # gradient descent on the linear model moves its predictions by f - y <- (I - lr K)(f - y)
    M = np.eye(6) - 0.05 * ntk
    r0 = preds[0] - LIN_Y
    for t in range(15):
        np.testing.assert_allclose(preds[t] - LIN_Y, np.linalg.matrix_power(M, t) @ r0,
                                   atol=1e-12)
    assert np.linalg.eigvalsh(ntk).min() > 0


SIGMA_T = np.linspace(1e-3, 0.2, 20)
ALPHA_BAR = np.cumprod(1 - SIGMA_T)


def _diffusion_program(L, x0, steps=20):
    """DDPM's training loss (noised inputs from keys, a sinusoidal time embedding, an MLP
    predicting the noise) differentiated under jit, and DDIM's deterministic sampler in a
    reverse lax.scan, run with an oracle denoiser for data that is a single point."""
    jax, jnp, lax, random = L.jax, L.jnp, L.lax, L.random
    ab = jnp.asarray(ALPHA_BAR)

    def embed(t, dim=4):
        freqs = jnp.exp(-math.log(100.0) * jnp.arange(dim // 2) / (dim // 2))
        return jnp.concatenate([jnp.sin(t * freqs), jnp.cos(t * freqs)])

    def eps_model(p, x, t):
        h = jnp.tanh(jnp.concatenate([x, embed(t)]) @ p["w1"] + p["b1"])
        return h @ p["w2"]

    def ddpm_loss(p, key, xs):
        kt, ke = random.split(key)
        t = random.randint(kt, (xs.shape[0],), 0, steps)
        eps = random.normal(ke, xs.shape)
        xt = jnp.sqrt(ab[t])[:, None] * xs + jnp.sqrt(1 - ab[t])[:, None] * eps
        pred = jax.vmap(eps_model, (None, 0, 0))(p, xt, t.astype(xs.dtype))
        return jnp.mean((pred - eps) ** 2)
    k = random.split(random.PRNGKey(12), 3)
    p = {"w1": random.normal(k[0], (6, 8)) * 0.3, "b1": jnp.zeros(8),
         "w2": random.normal(k[1], (8, 2)) * 0.3}
    xs = x0 + 0.1 * random.normal(k[2], (5, 2))
    v, g = jax.jit(jax.value_and_grad(ddpm_loss))(p, random.PRNGKey(13), xs)

    def oracle(x, t):                            # the exact noise when the data is x0 alone
        return (x - jnp.sqrt(ab[t]) * x0) / jnp.sqrt(1 - ab[t])

    def ddim(x, t):
        eps = oracle(x, t)
        x0_hat = (x - jnp.sqrt(1 - ab[t]) * eps) / jnp.sqrt(ab[t])
        prev = jnp.where(t > 0, ab[jnp.maximum(t - 1, 0)], 1.0)
        return jnp.sqrt(prev) * x0_hat + jnp.sqrt(1 - prev) * eps, x0_hat
    x_T = random.normal(random.PRNGKey(14), (2,))
    x_final, x0_hats = lax.scan(ddim, x_T, jnp.arange(steps), reverse=True)
    return v, g, x_final, x0_hats, xs


def test_ddpm_loss_and_ddim_sampling():
    x0 = np.array([0.7, -1.1])
    v, g, x_final, x0_hats, xs = _diffusion_program(FT, x0)
    np.testing.assert_allclose(np.asarray(x_final), x0, atol=1e-12)    # DDIM is exact here
    np.testing.assert_allclose(np.asarray(x0_hats), np.broadcast_to(x0, (20, 2)), atol=1e-12)
    # the loss written again without vmap or jit, at the program's parameters and noise
    k = frandom.split(frandom.PRNGKey(12), 3)
    p = {"w1": np.asarray(frandom.normal(k[0], (6, 8))) * 0.3, "b1": np.zeros(8),
         "w2": np.asarray(frandom.normal(k[1], (8, 2))) * 0.3}
    kt, ke = frandom.split(frandom.PRNGKey(13))
    t = np.asarray(frandom.randint(kt, (5,), 0, 20))
    eps = np.asarray(frandom.normal(ke, (5, 2)))
    xs = np.asarray(xs)
    v_ref, g_ref = ft.value_and_grad(_diffusion_loss_ft)(p, xs, t, eps)
    close((v_ref, g_ref), (v, g), 1e-12)
    check_grads(lambda p: _diffusion_loss_ft(p, xs, t, eps), (p,), order=1, modes=("rev",))


def _diffusion_loss_ft(p, xs, t, eps):
    """The DDPM loss above at given times and noise, by rows (functrans only)."""
    ab = ALPHA_BAR[t]
    xt = np.sqrt(ab)[:, None] * xs + np.sqrt(1 - ab)[:, None] * eps
    freqs = np.exp(-math.log(100.0) * np.arange(2) / 2)
    emb = np.concatenate([np.sin(t[:, None] * freqs), np.cos(t[:, None] * freqs)], axis=1)
    h = fnp.tanh(fnp.concat([fnp.asarray(xt), fnp.asarray(emb)], axis=1) @ p["w1"] + p["b1"])
    return fnp.mean((h @ p["w2"] - eps) ** 2)


# -- equinox's tree_at: surgery on a module pytree; blackjax's step-size adaptation ------------


class _Marker:
    """A leaf standing for the index of the leaf it replaces (no pytree registry knows it)."""

    def __init__(self, i):
        self.i = i


def _tree_at(L, where, tree, replace=None, replace_fn=None):
    """equinox's tree_at for leaves: ``where(tree)`` picks leaves (one or a tuple), found by
    running it on a copy of ``tree`` whose leaves are markers; those leaves are replaced."""
    leaves, treedef = L.tree.tree_flatten(tree)
    picked = where(L.tree.tree_unflatten(treedef, [_Marker(i) for i in range(len(leaves))]))
    single = isinstance(picked, _Marker)
    idx = [picked.i] if single else [m.i for m in picked]
    new = [replace] if single else list(replace) if replace is not None else None
    for k, i in enumerate(idx):
        leaves[i] = replace_fn(leaves[i]) if replace_fn is not None else new[k]
    return L.tree.tree_unflatten(treedef, leaves)


def _tree_at_program(L, xs):
    jax, jnp = L.jax, L.jnp
    M = _modules(L)
    block = M.Block.init(L.random.PRNGKey(0), 8, 2, 16)
    # attention switched off (its output projection zeroed), the MLP's first layer halved
    no_attn = _tree_at(L, lambda b: b.attn.out.w, block, jnp.zeros((8, 8)))
    halved = _tree_at(L, lambda b: (b.up.w, b.up.b), no_attn, replace_fn=lambda a: a / 2)
    y = jax.vmap(halved, (0, None))(xs, 5)
    # a frozen copy for a target network, made inside the loss: gradients flow to the
    # online block only
    def loss(b):
        target = jax.tree_util.tree_map(jax.lax.stop_gradient, b)
        return jnp.sum(b(xs[0], 5) * target(xs[1], 5))
    g = jax.grad(loss)(block)
    return L.tree.tree_leaves(halved), y, L.tree.tree_leaves(g)


def test_equinox_tree_at_on_a_module():
    leaves, y, g = _tree_at_program(FT, XS)
    M = _modules(FT)
    block = M.Block.init(frandom.PRNGKey(0), 8, 2, 16)
    ref = ft.tree_util.tree_leaves(block)
    # the leaves in order: ln1 (scale, bias), attn (qkv w, b, out w, b), ln2, up, down
    np.testing.assert_array_equal(np.asarray(leaves[4]), np.zeros((8, 8)))
    np.testing.assert_array_equal(np.asarray(leaves[8]), np.asarray(ref[8]) / 2)
    np.testing.assert_array_equal(np.asarray(leaves[9]), np.asarray(ref[9]) / 2)
    for i in (0, 1, 2, 3, 5, 6, 7, 10, 11):            # the others untouched
        np.testing.assert_array_equal(np.asarray(leaves[i]), np.asarray(ref[i]))
    # with its attention off the block is x + MLP(LN(x + out bias))
    P = ft.tree_util.tree_map(np.asarray, block)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(x.var(-1, keepdims=True) + 1e-6) * p.scale + p.bias
    h = XS + P.attn.out.b
    gl = np.asarray(fnn.gelu(ln(h, P.ln2) @ (P.up.w / 2) + P.up.b / 2))
    np.testing.assert_allclose(np.asarray(y), h + gl @ P.down.w + P.down.b, atol=1e-12)
    # the target network's copy got no gradient: this equals d/d(online) with target fixed
    g_ref = ft.tree_util.tree_leaves(ft.grad(lambda b: fnp.sum(
        b(XS[0], 5) * block(XS[1], 5)))(block))
    close(g_ref, g, 1e-13)


ADAPT_PREC = np.array([[2.0, 0.9], [0.9, 1.0]])


def _adaptation_program(L, n=120, target=0.8):
    """blackjax's step-size adaptation: an HMC kernel (leapfrog in fori_loop, Metropolis on
    the energy error) whose step size follows Nesterov's dual averaging towards a target
    acceptance rate, the whole warm-up one jit'd scan over keys."""
    jax, jnp, lax, random = L.jax, L.jnp, L.lax, L.random
    H = _hmc_pieces(L, lambda q: -0.5 * q @ ADAPT_PREC @ q)

    class DualAveraging(NamedTuple):
        log_eps: Any
        log_eps_bar: Any
        h_bar: Any
        t: Any

    def da_update(s, accept, mu, gamma=0.05, t0=10.0, kappa=0.75):
        t = s.t + 1
        eta = 1.0 / (t + t0)
        h_bar = (1 - eta) * s.h_bar + eta * (target - accept)
        log_eps = mu - jnp.sqrt(t) / gamma * h_bar
        w = t ** -kappa
        return DualAveraging(log_eps, w * log_eps + (1 - w) * s.log_eps_bar, h_bar, t)

    def hmc(key, state, eps, steps=5):
        k1, k2 = random.split(key)
        p0 = random.normal(k1, state.position.shape)
        q, p, lp, g = H.leapfrog(state.position, p0, state.grad, eps, steps)
        log_ratio = (lp - 0.5 * p @ p) - (state.logdensity - 0.5 * p0 @ p0)
        accept = jnp.minimum(1.0, jnp.exp(log_ratio))
        new = H.State(q, lp, g)
        take = jnp.log(random.uniform(k2)) < log_ratio
        return jax.tree_util.tree_map(lambda a, b: jnp.where(take, a, b), new, state), accept

    @jax.jit
    def warmup(key, q0, eps0):
        mu = jnp.log(10 * eps0)

        def one(c, k):
            state, da = c
            state, accept = hmc(k, state, jnp.exp(da.log_eps))
            return (state, da_update(da, accept, mu)), (accept, jnp.exp(da.log_eps))
        da0 = DualAveraging(jnp.log(eps0), 0.0, 0.0, 0.0)
        return lax.scan(one, (H.init(q0), da0), random.split(key, n))
    (state, da), (accepts, eps) = warmup(random.PRNGKey(4), jnp.array([1.0, -1.0]), 1.0)
    return da, accepts, eps


def test_step_size_dual_averaging_reaches_its_target():
    da, accepts, eps = _adaptation_program(FT)
    accepts, eps = np.asarray(accepts), np.asarray(eps)
    # the dual averaging recursion again, by NumPy, from the acceptance statistics it saw
    log_eps, log_bar, h_bar, mu = 0.0, 0.0, 0.0, np.log(10.0)
    for t, a in enumerate(accepts, start=1):
        np.testing.assert_allclose(eps[t - 1], np.exp(log_eps), rtol=1e-13)
        h_bar = (1 - 1 / (t + 10)) * h_bar + (0.8 - a) / (t + 10)
        log_eps = mu - np.sqrt(t) / 0.05 * h_bar
        log_bar = t ** -0.75 * log_eps + (1 - t ** -0.75) * log_bar
    close((log_eps, log_bar, h_bar), (da.log_eps, da.log_eps_bar, da.h_bar), 1e-12)
    assert abs(np.mean(accepts[60:]) - 0.8) < 0.12 and 0.05 < np.exp(log_bar) < 2.0


# -- every program above, the same source run by JAX -------------------------------------------
# (apart from the tests above, which check each program without JAX, so that they run and
# mean something where JAX is not installed)


JAX_CASES = {
    **{f"optax_{n}": (_train_linear, (n,), {}) for n in
       ("adam", "adamw", "lion", "lamb", "lookahead", "multi_transform", "multi_steps")},
    # the same number of steps and line-search trials as JAX, the same path
    "lbfgs": (_lbfgs_program, (LBFGS_X0,), {}),
    "transformer": (lambda L, *a: L.tree.tree_leaves(_transformer_program(L, *a)),
                    (XS, LENGTHS), dict(whole=True)),
    "equinox": (_equinox_program, _equinox_data(), {}),
    "scan_layers_dropout": (_scan_layers_program, (SCAN_X,), {}),
    "batch_norm": (_batchnorm_program, (BN_X, BN_Y), {}),
    "nuts_eight_schools": (_nuts_program, (), dict(tol=1e-9, whole=True)),
    "svi": (_svi_program, (), dict(tol=1e-9, whole=True)),
    "kalman": (_kalman_program, (KF_GRID,), dict(whole=True)),
    "dopri5": (_oscillator_program, (OSC_THETA,), {}),
    "odeint_adjoint": (_logistic_program, (LOGISTIC_THETA,), dict(tol=1e-9)),
    "custom_root_deq": (_deq_program, (DEQ_W, DEQ_X), {}),
    "ridge_implicit": (_ridge_program, (3.0,), {}),
    "ntk": (_ntk_program, (NTK_X1, NTK_X2), {}),
    "ensemble": (_ensemble_program, (ENS_X, ENS_Y), {}),
    "hypernetwork": (_hypernet_program, _hypernet_data(), {}),
    "meta_learning_rate": (_hypergradient_program, (0.3, QB), {}),
    "sde": (_sde_program, (np.array([0.05, 0.3]),), {}),
    "lasso_implicit": (_lasso_program, (8.0,), dict(tol=1e-9)),
    "clip_all_gather": (_clip_program, (CLIP_WA, CLIP_WB), {}),
    "ppo_gae": (_ppo_program, _ppo_data(), {}),
    "linearised_network": (_linearised_program, (), {}),
    "diffusion": (_diffusion_program, (np.array([0.7, -1.1]),), {}),
    "tree_at": (_tree_at_program, (XS,), {}),
    # (dual averaging amplifies rounding: the first 25 steps only, before an accept flips)
    "step_size_adaptation": (_adaptation_program, (25,), dict(tol=1e-9)),
}


@pytest.mark.parametrize("name", list(JAX_CASES))
def test_program_against_jax(name):
    program, args, kw = JAX_CASES[name]
    _against_jax(program, *args, **kw)
