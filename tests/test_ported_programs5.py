"""Programs written for autograd (its examples: custom gradients, Gaussian mixtures by
Newton-CG, negative-binomial maximum likelihood, neural ODEs, K-FAC's exact Fisher, character
RNNs, mixture variational inference) and for JAX's less common corners (associative_scan,
switch/while_loop with pytrees, vmap with in_axes dicts, custom_jvp'd safe functions,
straight-through estimators, checkpoint, top_k/searchsorted pipelines, mixed precision), run
with the imports swapped to functrans (round 5; see test_ported_programs.py to 4), compared
with an independent reference (closed forms, NumPy/SciPy, finite differences by
``check_grads``) and, where it is installed, with the original library.

The first part holds the regressions found while porting them: ``jax.numpy``'s ``size`` and
``fill_value`` of ``nonzero``/``where``/``argwhere``/``flatnonzero``, ``bincount(length=)``,
``take(mode='fill')``, the products' ``precision`` and ``preferred_element_type``, and
``jax.lax``'s ``select_n`` and ``Precision``; then the gaps it found in other modules (since
fixed); then the programs.
"""

from __future__ import annotations


import numpy as np
import pytest
import scipy.optimize as so
import scipy.special as sps

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.testing import check_grads

from ._ported import _autograd, close  # noqa: E402

M = np.array([[0.5, -1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0], [-2.0, 0.0, 1.5, 0.0]])


# -- regressions: nonzero & co. with jax.numpy's size / fill_value ------------------------------


def test_nonzero_size_and_fill_value(backend):
    m = backend.asarray(M)
    rows, cols = fnp.nonzero(m, size=6)
    assert backend.is_own(rows) and backend.is_own(cols)
    assert backend.to_numpy(rows).tolist() == [0, 0, 0, 1, 2, 2]
    assert backend.to_numpy(cols).tolist() == [0, 1, 3, 3, 0, 2]
    r, c = fnp.nonzero(m, size=2, fill_value=(-1, 9))          # truncated
    assert backend.to_numpy(r).tolist() == [0, 0] and backend.to_numpy(c).tolist() == [0, 1]
    r, c = fnp.where(m != 0, size=7, fill_value=-1)
    assert backend.to_numpy(c).tolist() == [0, 1, 3, 3, 0, 2, -1]
    a = fnp.argwhere(m, size=6, fill_value=-1)
    assert backend.to_numpy(a).tolist() == [[0, 0], [0, 1], [0, 3], [1, 3], [2, 0], [2, 2]]
    f = fnp.flatnonzero(m, size=7, fill_value=99)
    assert backend.to_numpy(f).tolist() == [0, 1, 3, 7, 8, 10, 99]
    assert backend.to_numpy(fnp.nonzero(m[1, :], size=0)[0]).shape == (0,)


def test_nonzero_size_under_jit_and_vmap():
    got = ft.jit(lambda m: fnp.argwhere(m > 0, size=3, fill_value=-1))(M)
    assert got.tolist() == [[0, 0], [0, 3], [1, 3]]
    got = ft.vmap(lambda row: fnp.flatnonzero(row, size=3, fill_value=-1))(M)
    assert got.tolist() == [[0, 1, 3], [3, -1, -1], [0, 2, -1]]
    assert ft.jit(lambda m: fnp.nonzero(m, size=2)[1])(M).tolist() == [0, 1]


def test_nonzero_size_against_numpy_padded():
    rs = np.random.RandomState(0)
    x = rs.randn(3, 4, 2) * (rs.rand(3, 4, 2) > 0.6)
    for size, fill in ((5, None), (30, -2), (1, (7, 8, 9))):
        full = np.nonzero(x)
        fills = (0, 0, 0) if fill is None else fill if isinstance(fill, tuple) else (fill,) * 3
        want = [np.concatenate([i[:size], np.full(max(size - i.size, 0), f)])
                for i, f in zip(full, fills)]
        close(want, fnp.nonzero(x, size=size, fill_value=fill))
        close(np.stack(want, 1), fnp.argwhere(x, size=size, fill_value=fill))
        flat = np.flatnonzero(x)[:size]
        f0 = fills[0]
        close(np.concatenate([flat, np.full(size - flat.size, f0)]),
              fnp.flatnonzero(x, size=size, fill_value=f0))


def test_nonzero_size_errors():
    with pytest.raises(ValueError, match="fill_value needs size"):
        fnp.nonzero(M, fill_value=0)
    with pytest.raises(ValueError, match="size and fill_value"):
        fnp.where(M > 0, M, 0.0, size=3)
    with pytest.raises(ValueError, match="one per axis"):
        fnp.nonzero(M, size=3, fill_value=(1, 2, 3))
    with pytest.raises(TypeError, match="size must be"):
        fnp.argwhere(M, size=2.0)


# -- regressions: bincount(length=), take(mode='fill') ------------------------------------------


def test_bincount_length(backend):
    x = backend.asarray([0, 1, 1, 3, 7], dtype="int64")
    got = fnp.bincount(x, length=4)
    assert backend.is_own(got) and backend.to_numpy(got).tolist() == [1, 2, 0, 1]
    w = backend.asarray([1.0, 2.0, 3.0, 4.0, 5.0])
    got = backend.to_numpy(fnp.bincount(x, w, length=3))
    np.testing.assert_array_equal(got, [1.0, 5.0, 0.0])  # 3 and 7 dropped
    assert fnp.bincount(np.asarray([2, 2]), length=0).shape == (0,)
    # a fixed length needs no concrete values: jit and vmap
    idx = np.asarray([[0, 2, 2], [1, 1, 1]])
    assert ft.jit(lambda i: fnp.bincount(i[0], length=3))(idx).tolist() == [1, 0, 2]
    assert ft.vmap(lambda i: fnp.bincount(i, length=3))(idx).tolist() == [[1, 0, 2], [0, 3, 0]]
    check_grads(lambda w: fnp.bincount(np.asarray([0, 1, 1, 3, 7]), w, length=4) ** 2,
                (np.arange(1.0, 6.0),), order=2)


def test_take_mode_fill(backend):
    x = backend.asarray([0.0, 1.0, 2.0, 3.0, 4.0])
    got = fnp.take(x, backend.asarray([0, -1, -5, -6, 5], dtype="int64"), mode="fill")
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), [0.0, 4.0, 0.0, np.nan, np.nan])
    got = fnp.take(x, backend.asarray([1, 9], dtype="int64"), mode="fill", fill_value=-3.0)
    np.testing.assert_array_equal(backend.to_numpy(got), [1.0, -3.0])
    m = backend.asarray(M)
    got = backend.to_numpy(fnp.take(m, backend.asarray([[3, 4]], dtype="int64"), axis=1,
                                    mode="fill", fill_value=7.0))
    np.testing.assert_array_equal(got, [[[2.0, 7.0]], [[3.0, 7.0]], [[0.0, 7.0]]])
    ints = fnp.take(np.arange(3), np.asarray([0, 5]), mode="fill")
    assert ints.tolist() == [0, np.iinfo(np.int64).min]
    g = ft.grad(lambda v: fnp.sum(fnp.take(v, np.asarray([0, 9, 1, 1]), mode="fill",
                                           fill_value=0.0)))(np.arange(5.0))
    np.testing.assert_array_equal(g, [1.0, 2.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="fill_value applies only"):
        fnp.take(np.arange(3.0), np.asarray([0]), fill_value=1.0)


# -- regressions: products' precision / preferred_element_type; lax.select_n, lax.Precision ------


def test_products_take_precision_and_preferred_element_type(backend):
    a = backend.asarray(np.arange(6.0).reshape(2, 3), dtype="float32")
    b = backend.asarray(np.arange(6.0).reshape(3, 2), dtype="float32")
    want = np.arange(6.0).reshape(2, 3) @ np.arange(6.0).reshape(3, 2)
    for f in (lambda **k: fnp.dot(a, b, **k), lambda **k: fnp.matmul(a, b, **k),
              lambda **k: fnp.einsum("ij,jk->ik", a, b, **k),
              lambda **k: fnp.tensordot(a, b, 1, **k)):
        out = f(precision=flax.Precision.HIGHEST, preferred_element_type=fnp.float64)
        assert backend.is_own(out) and out.dtype == backend.float_dtype
        np.testing.assert_array_equal(backend.to_numpy(out), want)
        assert f(precision="highest").dtype == a.dtype
    v = backend.asarray([1.0, 2.0], dtype="float32")
    assert fnp.inner(v, v, preferred_element_type="float64").dtype == backend.float_dtype
    assert fnp.vdot(v, v, precision=("high", "high")).dtype == v.dtype
    i8 = np.full(3, 100, np.int8)
    assert int(fnp.dot(i8, i8, preferred_element_type=np.int32)) == 30000  # no int8 wrap
    g = ft.grad(lambda a: fnp.sum(fnp.matmul(a, b, preferred_element_type="float64")))(a)
    assert g.dtype == a.dtype
    with pytest.raises(ValueError, match="precision must be"):
        fnp.dot(a, b, precision="bogus")


def test_lax_select_n_and_precision(backend):
    which = backend.asarray([0, 2, 1, 2], dtype="int32")
    c = [backend.asarray(np.full(4, float(k))) for k in range(3)]
    got = flax.select_n(which, *c)
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), [0.0, 2.0, 1.0, 2.0])
    pred = backend.asarray([True, False, False, True], dtype="bool")
    np.testing.assert_array_equal(backend.to_numpy(flax.select_n(pred, c[0], c[1])),
                                  [1.0, 0.0, 0.0, 1.0])
    g = ft.grad(lambda a: fnp.sum(flax.select_n(np.asarray([0, 1, 2]), a, a ** 2, a ** 3)))(
        np.asarray([2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(g, [1.0, 6.0, 48.0])
    assert ft.vmap(lambda i, x: flax.select_n(i, x, -x))(
        np.asarray([0, 1]), np.ones((2, 2))).tolist() == [[1.0, 1.0], [-1.0, -1.0]]
    with pytest.raises(TypeError, match="at most 2"):
        flax.select_n(np.asarray(True), *c)
    with pytest.raises(TypeError, match="one shape"):
        flax.select_n(np.asarray(0), np.zeros(2), np.zeros(3))
    assert flax.Precision("highest") is flax.Precision.HIGHEST
    assert flax.Precision("tensorfloat32") is flax.Precision.HIGH
    with pytest.raises(ValueError):
        flax.Precision("bogus")
    assert float(flax.dot(np.ones(3), np.ones(3), precision=flax.Precision.HIGHEST)) == 3.0


# -- gaps found in modules this round did not own (fixed since; tests/test_autograd_compat.py
# covers the autograd ones) ---------------------------------------------------------------


def test_lax_map_batch_size():
    xs = np.arange(10.0).reshape(5, 2)
    for bs in (1, 2, 3, 5, 8):  # batches of bs through vmap, then the remainder
        np.testing.assert_allclose(flax.map(lambda r: r * fnp.sum(r), xs, batch_size=bs),
                                   xs * xs.sum(1, keepdims=True))
    g = ft.grad(lambda x: fnp.sum(flax.map(fnp.sin, x, batch_size=2)))(xs)
    np.testing.assert_allclose(g, np.cos(xs))
    with pytest.raises(ValueError, match="batch_size"):
        flax.map(fnp.sin, xs, batch_size=-2)


def test_conv_takes_precision():
    out = flax.conv_general_dilated(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), (1, 1),
                                    "SAME", precision=flax.Precision.HIGHEST)
    assert float(out[0, 0, 1, 1]) == 9.0


def test_in_place_add_of_a_tracer_to_a_0d_result():
    mask = fnp.zeros((2, 3))
    total = 0.0
    total += fnp.sum(np.ones((2, 3)) * mask)   # NumPy: a float64 scalar; here a 0-d AtArray

    def f(x):
        t = total
        t += fnp.sum(x * mask + x)  # the 0-d array steps aside: t is rebound to t + ...
        t *= 2.0
        return t
    np.testing.assert_array_equal(ft.grad(f)(np.ones((2, 3))), np.full((2, 3), 2.0))
    assert float(total) == 0.0  # and the array itself is unchanged


# -- programs written for autograd (its examples/), run through functrans.autograd --------------


def _ft_autograd():
    import functrans.autograd as fag
    import functrans.autograd.numpy as fanp
    return fag, fanp


def _ag_autograd():
    ag = _autograd()
    import autograd.numpy as anp
    return ag, anp


def _define_gradient(ag, np_, primitive, defvjp):
    """autograd's examples/define_gradient.py: a primitive logsumexp with its own VJP."""
    @primitive
    def logsumexp(x):
        m = np_.max(x)
        return m + np_.log(np_.sum(np_.exp(x - m)))

    def logsumexp_vjp(ans, x):
        shape = x.shape
        return lambda g: np_.full(shape, g) * np_.exp(x - np_.full(shape, ans))
    defvjp(logsumexp, logsumexp_vjp)

    def example(y):
        return np_.sum(logsumexp(y ** 2)) + logsumexp(y) * np_.sum(y)
    return example, ag.grad(example)


def test_define_gradient_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.extend import defvjp, primitive
    y = np.random.RandomState(0).randn(6)
    f, g = _define_gradient(fag, fanp, primitive, defvjp)
    want = 2 * y * sps.softmax(y ** 2) + sps.softmax(y) * y.sum() + sps.logsumexp(y)
    close(want, g(y))
    check_grads(f, (y,), order=1, modes=("rev",))
    ag, anp = _ag_autograd()
    from autograd.extend import defvjp as adefvjp, primitive as aprimitive
    close(_define_gradient(ag, anp, aprimitive, adefvjp)[1](y), g(y))


def _gmm(np_, logsumexp, mvn, flatten_func):
    """autograd's examples/gmm.py: a Gaussian mixture's likelihood over a dict of parameters,
    flattened by flatten_func for scipy's Newton-CG."""
    rs = np.random.RandomState(0)
    params = {"log proportions": rs.randn(3) * 0.1, "means": rs.randn(3, 2),
              "lower triangles": np.zeros((3, 2, 2)) + np.eye(2)}
    data = np.random.RandomState(1).randn(25, 2) + np.array([1.0, -1.0])

    def log_likelihood(params):
        lp = params["log proportions"] - logsumexp(params["log proportions"])
        lls = [l + mvn.logpdf(data, m, np_.dot(c.T, c))
               for l, m, c in zip(lp, params["means"], params["lower triangles"])]
        return np_.sum(logsumexp(np_.vstack(lls), axis=0))
    return flatten_func(lambda p: -log_likelihood(p), params)


def _fit_newton_cg(obj, x0, grad, hvp):
    return so.minimize(obj, x0, jac=grad(obj), hessp=hvp(obj), method="Newton-CG",
                       options=dict(maxiter=4)).x


def test_gmm_by_newton_cg_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.misc.flatten import flatten_func
    from functrans.autograd.scipy.special import logsumexp
    import functrans.autograd.scipy.stats.multivariate_normal as mvn
    obj, unflatten, x0 = _gmm(fanp, logsumexp, mvn, flatten_func)
    assert x0.shape == (3 + 6 + 12,)
    assert sorted(unflatten(x0)) == ["log proportions", "lower triangles", "means"]
    check_grads(obj, (x0,), order=2, modes=("rev",))
    v = np.random.RandomState(2).randn(x0.size)
    h = 1e-5
    fd = (fag.grad(obj)(x0 + h * v) - fag.grad(obj)(x0 - h * v)) / (2 * h)
    np.testing.assert_allclose(fag.hessian_vector_product(obj)(x0, v), fd, rtol=1e-6,
                               atol=1e-6)
    x = _fit_newton_cg(obj, x0, fag.grad, fag.hessian_vector_product)
    assert obj(x) < obj(x0)
    ag, anp = _ag_autograd()
    from autograd.misc.flatten import flatten_func as aflatten_func
    from autograd.scipy.special import logsumexp as alse
    import autograd.scipy.stats.multivariate_normal as amvn
    aobj, _, ax0 = _gmm(anp, alse, amvn, aflatten_func)
    close(ax0, x0)
    close(ag.hessian_vector_product(aobj)(ax0, v), fag.hessian_vector_product(obj)(x0, v))
    close(_fit_newton_cg(aobj, ax0, ag.grad, ag.hessian_vector_product), x, 1e-8)


def _negbin_fit(grad, np_, gammaln, x):
    """autograd's examples/negative_binomial_maxlike.py: Newton's method (scipy's, with
    autograd's first and second derivatives) on the profile score in r."""
    def loglike(r, p):
        return np_.sum(gammaln(r + x) - gammaln(r) - gammaln(x + 1) + x * np_.log(p)
                       + r * np_.log(1 - p))

    def p_of(r):
        return np_.sum(x) / np_.sum(r + x)

    def rprime(r):
        return grad(loglike)(r, p_of(r))
    r = so.newton(rprime, 1.0, fprime=grad(rprime), fprime2=grad(grad(rprime)))
    return r, p_of(r), grad(lambda rp: loglike(rp[0], rp[1]))((r, p_of(r)))


def test_negative_binomial_maximum_likelihood_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.scipy.special import gammaln
    x = np.random.RandomState(0).poisson(np.random.RandomState(1).gamma(5.0, 1.0, size=300))
    r, p, g = _negbin_fit(fag.grad, fanp, gammaln, x)
    # the independent reference: the profile score's root, by SciPy's digamma and brentq
    n, mean = x.size, x.mean()
    score = lambda r: (sps.digamma(x + r).sum() - n * sps.digamma(r)  # noqa: E731
                       + n * np.log(r / (r + mean)))
    np.testing.assert_allclose(r, so.brentq(score, 0.5, 50.0, xtol=1e-14), rtol=1e-9)
    np.testing.assert_allclose(p, mean / (r + mean), rtol=1e-12)
    assert abs(g[0]) < 1e-6 and abs(g[1]) < 1e-6
    ag, anp = _ag_autograd()
    from autograd.scipy.special import gammaln as agammaln
    close(_negbin_fit(ag.grad, anp, agammaln, x)[:2], (r, p), 1e-9)


def _ode_net(np_, odeint, tuple_):
    """autograd's examples/ode_net.py: an MLP vector field fitted to a trajectory through
    odeint, its parameters passed in ``args`` as autograd.builtins.tuple."""
    rs = np.random.RandomState(0)
    params = [(rs.randn(2, 6) * 0.5, rs.randn(6) * 0.5), (rs.randn(6, 2) * 0.5,
                                                         rs.randn(2) * 0.5)]
    t = np.linspace(0.0, 1.0, 5)
    y0 = np.array([2.0, 0.0])
    A = np.array([[-0.1, 2.0], [-2.0, -0.1]])

    def mlp(y, t, params):
        for W, b in params:
            out = np_.dot(y, W) + b
            y = np_.tanh(out)
        return out
    true_y = odeint(lambda y, t, A: np_.dot(y ** 3, A), y0, t, args=(A,), rtol=1e-10,
                    atol=1e-10)

    def loss(params, it):
        pred = odeint(mlp, y0, t, tuple_((params,)), rtol=1e-10, atol=1e-10)
        return np_.mean((pred - true_y) ** 2)
    return loss, params


def test_neural_ode_through_odeint_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.builtins import tuple as ftuple
    from functrans.autograd.scipy.integrate import odeint
    loss, params = _ode_net(fanp, odeint, ftuple)
    g = fag.grad(loss)(params, 0)
    flat, unflatten = ft.tree.ravel_pytree(params)
    v = np.random.RandomState(3).randn(flat.size)
    h = 1e-5
    fd = (loss(unflatten(flat + h * v), 0) - loss(unflatten(flat - h * v), 0)) / (2 * h)
    np.testing.assert_allclose(ft.tree.ravel_pytree(g)[0] @ v, fd, rtol=1e-6)
    ag, anp = _ag_autograd()
    from autograd.builtins import tuple as atuple
    from autograd.scipy.integrate import odeint as aodeint
    aloss, aparams = _ode_net(anp, aodeint, atuple)
    # autograd integrates with LSODA, functrans with Dormand-Prince: solver-level agreement
    close(ag.grad(aloss)(aparams, 0), g, 1e-7)


def _exact_fisher(ag, np_, flatten, logsumexp, params, inputs):
    """autograd's examples/kfac_pre.py exact_fisher: J^T H J summed over inputs, with the
    last layer's parameters flattened, a jacobian of the flat MLP and the hessian of
    logsumexp."""
    def mlp(params, x):
        for W, b in params:
            out = np_.dot(x, W) + b
            x = np_.tanh(out)
        return out
    flat, unflatten = flatten(params[-1:])
    F = np_.zeros((flat.shape[0], flat.shape[0]))
    for x, z in zip(inputs, mlp(params, inputs)):
        J = ag.jacobian(lambda fp, x: mlp(params[:-1] + unflatten(fp), x))(flat, x)
        F = F + np_.dot(J.T, np_.dot(ag.hessian(logsumexp)(z), J))
    return F / inputs.shape[0], mlp(params, inputs)


def test_kfac_exact_fisher_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.misc.flatten import flatten
    from functrans.autograd.scipy.special import logsumexp
    rs = np.random.RandomState(0)
    params = [(0.5 * rs.randn(3, 4), 0.5 * rs.randn(4)), (0.5 * rs.randn(4, 3),
                                                           0.5 * rs.randn(3))]
    inputs = rs.randn(4, 3)
    F, z = _exact_fisher(fag, fanp, flatten, logsumexp, params, inputs)
    # closed form: the last layer is linear, so J = [h ⊗ I, I] and H = diag(p) - p p^T
    h = np.tanh(inputs @ params[0][0] + params[0][1])
    want = np.zeros_like(F)
    for hi, zi in zip(h, z):
        p = sps.softmax(zi)
        H = np.diag(p) - np.outer(p, p)
        J = np.hstack([np.kron(hi[None, :], np.eye(3)), np.eye(3)])
        want += J.T @ H @ J
    close(want / len(h), F)
    ag, anp = _ag_autograd()
    from autograd.misc.flatten import flatten as aflatten
    from autograd.scipy.special import logsumexp as alse
    close(_exact_fisher(ag, anp, aflatten, alse, params, inputs)[0], F)


def _char_rnn(np_, logsumexp):
    """autograd's examples/rnn.py: a character RNN over a dict of parameters, its inputs
    one-hot through ``np.array(ascii[:, None] == np.arange(k)[None, :], dtype=int)``."""
    rs = np.random.RandomState(0)
    params = {"init hiddens": rs.randn(1, 5) * 0.1, "change": rs.randn(8 + 5 + 1, 5) * 0.3,
              "predict": rs.randn(5 + 1, 8) * 0.3}

    def one_hot(s):
        codes = np_.array([ord(c) - ord("a") for c in s]).T
        return np_.array(codes[:, None] == np_.arange(8)[None, :], dtype=int)
    seqs = np_.zeros((6, 3, 8))
    for i, line in enumerate(["abcabc", "hgfedc", "aaddcc"]):
        seqs[:, i, :] = one_hot(line)

    def cat_mul(w, *args):
        return np_.dot(np_.hstack(args + (np_.ones((args[0].shape[0], 1)),)), w)

    def loss(params, it):
        h = np_.repeat(params["init hiddens"], 3, axis=0)
        total = 0.0
        for t in range(6):
            out = cat_mul(params["predict"], h)
            total += np_.sum((out - logsumexp(out, axis=1, keepdims=True)) * seqs[t])
            h = np_.tanh(cat_mul(params["change"], seqs[t], h))
        return -total / 18
    return loss, params


def test_char_rnn_trained_with_adam_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.misc.optimizers import adam
    from functrans.autograd.scipy.special import logsumexp
    loss, params = _char_rnn(fanp, logsumexp)
    check_grads(lambda p: loss(p, 0), (params,), order=1, modes=("rev",))
    trained = adam(fag.grad(loss), params, step_size=0.1, num_iters=15)
    assert loss(trained, 0) < loss(params, 0) - 0.3
    ag, anp = _ag_autograd()
    from autograd.misc.optimizers import adam as aadam
    from autograd.scipy.special import logsumexp as alse
    aloss, aparams = _char_rnn(anp, alse)
    close(aadam(ag.grad(aloss), aparams, step_size=0.1, num_iters=15), trained, 1e-9)


def _mixture_elbo(np_, logsumexp, norm, k=3, n=8):
    """autograd's examples/mixture_variational_inference.py: a mixture-of-Gaussians ELBO with
    np.stack / np.vstack of traced lists and logaddexp."""
    def unpack(mp):
        return mp[:k] - logsumexp(mp[:k]), np_.reshape(mp[k:], (k, -1))

    def comp_logq(p, x):
        return np_.sum(norm.logpdf(x, p[:2], np_.exp(p[2:])), axis=-1)

    def log_target(x):
        mu, ls = x[:, 0], x[:, 1]
        return np_.logaddexp(norm.logpdf(ls, 0, 1.35) + norm.logpdf(mu, -0.5, np_.exp(ls)),
                             norm.logpdf(ls, 0.1, 1.35) + norm.logpdf(mu, 0.5, np_.exp(ls)))

    def elbo(mp):
        lw, vp = unpack(mp)
        eps = np.random.RandomState(0).randn(k, n, 2)
        bounds = []
        for j, p in enumerate(vp):
            s = eps[j] * np_.exp(p[2:]) + p[:2]
            logq = logsumexp(np_.vstack([comp_logq(q, s) for q in vp]).T + lw, axis=1)
            bounds.append(np_.mean(log_target(s) - logq))
        return np_.sum(np_.stack(bounds) * np_.exp(lw))
    return elbo


def test_mixture_variational_inference_as_autograd():
    fag, fanp = _ft_autograd()
    from functrans.autograd.scipy.special import logsumexp
    import functrans.autograd.scipy.stats.norm as norm
    init = np.concatenate([np.ones(3)] + [np.array([-1.0 + 0.3 * i, 0.2 * i, -1.0, -0.5])
                                          for i in range(3)])
    elbo = _mixture_elbo(fanp, logsumexp, norm)
    check_grads(elbo, (init,), order=1, modes=("rev", "fwd"))
    ag, anp = _ag_autograd()
    from autograd.scipy.special import logsumexp as alse
    import autograd.scipy.stats.norm as anorm
    aelbo = _mixture_elbo(anp, alse, anorm)
    close(aelbo(init), elbo(init))
    close(ag.grad(aelbo)(init), fag.grad(elbo)(init))


# -- programs written for JAX's less common corners ----------------------------------------------


def _linear_recurrence(a, b, h0):
    """h_t = a_t h_{t-1} + b_t for every t, by lax.associative_scan over (a, b) pairs (the
    parallel form of an SSM/S5 layer) and by lax.scan."""
    def combine(left, right):
        a1, b1 = left
        a2, b2 = right
        return a1 * a2, a2 * b1 + b2
    b = fnp.concat([b[:1] + a[:1] * h0, b[1:]])  # (b.at[0].add: b may be NumPy's own)
    par = flax.associative_scan(combine, (a, b))[1]
    seq = flax.scan(lambda h, ab: (ab[0] * h + ab[1],) * 2, fnp.zeros_like(h0), (a, b))[1]
    return par, seq


def test_linear_recurrence_by_associative_scan_as_jax():
    rs = np.random.RandomState(0)
    a, b, h0 = rs.uniform(0.5, 0.95, (7, 2)), rs.randn(7, 2), np.array([0.3, -0.2])
    par, seq = _linear_recurrence(a, b, h0)
    h, want = h0, []
    for t in range(7):
        h = a[t] * h + b[t]
        want.append(h)
    close(np.array(want), par)
    close(np.array(want), seq)
    loss = lambda a, b: fnp.sum(_linear_recurrence(a, b, h0)[0] ** 2)  # noqa: E731
    check_grads(loss, (a, b), order=2)
    close(ft.jacfwd(lambda a: _linear_recurrence(a, b, h0)[0])(a),
          ft.jacrev(lambda a: _linear_recurrence(a, b, h0)[1])(a))


def _bouncing_ball(restitution, y0, v0, dt=0.01, steps=60):
    """A ball under gravity: a fori_loop over steps, each a lax.cond on a bounce and a
    lax.switch on a drag regime, the state a dict."""
    def drag(i, v):
        return flax.switch(i, [lambda v: v, lambda v: v * 0.999, lambda v: v - 0.01 * v * v],
                           v)

    def step(i, s):
        v = s["v"] - 9.81 * dt
        y = s["y"] + dt * v
        bounced = flax.cond(y < 0.0, lambda y, v: (-y * restitution, -v * restitution),
                            lambda y, v: (y, v), y, v)
        regime = fnp.where(fnp.abs(bounced[1]) > 2.0, 2, fnp.where(bounced[1] > 0, 1, 0))
        return {"y": bounced[0], "v": drag(regime, bounced[1]), "n": s["n"] + (y < 0.0)}
    return flax.fori_loop(0, steps, step, {"y": y0, "v": v0, "n": 0})


def test_bouncing_ball_with_cond_switch_and_fori_loop_as_jax():
    def reference(e, y, v, dt=0.01):
        n = 0
        for _ in range(60):
            v = v - 9.81 * dt
            y = y + dt * v
            if y < 0:
                y, v, n = -y * e, -v * e, n + 1
            v = v - 0.01 * v * v if abs(v) > 2.0 else (v * 0.999 if v > 0 else v)
        return y, v, n
    out = _bouncing_ball(0.8, 0.5, 0.0)
    y, v, n = reference(0.8, 0.5, 0.0)
    assert int(out["n"]) == n >= 1
    close((y, v), (out["y"], out["v"]))
    check_grads(lambda e, y0: _bouncing_ball(e, y0, 0.0)["y"], (0.8, 0.5), order=2)
    got = ft.jit(lambda e: _bouncing_ball(e, 0.5, 0.0)["v"])(0.8)
    close(v, got)


def _regression_with_vmap_axes(params, xs, ys):
    """A per-example model vmapped with in_axes as a dict (shared weights, per-example
    scale), None and out_axes; the loss's Hessian taken over the parameter pytree."""
    def model(p, x):
        return {"pred": fnp.tanh(x @ p["w"]) * p["s"] + p["b"], "reg": fnp.sum(p["w"] ** 2)}
    out = ft.vmap(model, in_axes=({"w": None, "s": 0, "b": None}, 0),
                  out_axes={"pred": 0, "reg": None})(params, xs)
    return fnp.mean((out["pred"] - ys) ** 2) + 0.1 * out["reg"]


def test_vmap_in_axes_dicts_jacfwd_of_vmap_and_hessian_of_a_pytree_as_jax():
    rs = np.random.RandomState(0)
    xs, ys = rs.randn(5, 3), rs.randn(5)
    params = {"w": rs.randn(3) * 0.5, "s": 1.0 + 0.1 * rs.randn(5), "b": np.asarray(0.2)}
    loss = _regression_with_vmap_axes(params, xs, ys)
    pred = np.tanh(xs @ params["w"]) * params["s"] + params["b"]
    close(np.mean((pred - ys) ** 2) + 0.1 * np.sum(params["w"] ** 2), loss)
    H = ft.hessian(_regression_with_vmap_axes)(params, xs, ys)
    assert H["w"]["s"].shape == (3, 5) and H["b"]["b"].shape == ()
    flat, unravel = ft.tree.ravel_pytree(params)
    Hflat = ft.hessian(lambda f: _regression_with_vmap_axes(unravel(f), xs, ys))(flat)
    close(Hflat[1:6, 6:], H["s"]["w"])  # ravel order: b, s, w
    check_grads(lambda f: _regression_with_vmap_axes(unravel(f), xs, ys), (flat,), order=2)
    J = ft.jacfwd(lambda w: ft.vmap(lambda x: fnp.tanh(x @ w))(xs))(params["w"])
    close((1 - np.tanh(xs @ params["w"]) ** 2)[:, None] * xs, J)


@ft.custom_jvp
def _safe_norm(v):
    return fnp.sqrt(fnp.sum(v ** 2))


@_safe_norm.defjvp
def _safe_norm_jvp(primals, tangents):
    (v,), (t,) = primals, tangents
    n = _safe_norm(v)
    return n, fnp.where(n == 0, 0.0, fnp.sum(v * t) / fnp.where(n == 0, 1.0, n))


def _ste_quantiser_loss(w, x, levels=4):
    """A straight-through estimator: rounding in the forward pass, the identity's derivative
    in the backward pass (x + stop_gradient(round(x) - x)), with a custom_jvp'd safe norm as
    the regulariser (finite at w = 0)."""
    q = w + flax.stop_gradient(fnp.round(w * levels) / levels - w)
    return fnp.sum((x @ q - 1.0) ** 2) + 0.1 * _safe_norm(w)


def test_straight_through_quantiser_and_safe_norm_as_jax():
    x = np.random.RandomState(0).randn(4, 3)
    w = np.array([0.3, -0.6, 0.1])
    q = np.round(w * 4) / 4
    g = ft.grad(_ste_quantiser_loss)(w, x)
    close(2 * x.T @ (x @ q - 1.0) + 0.1 * w / np.linalg.norm(w), g)
    g0 = ft.grad(_ste_quantiser_loss)(np.zeros(3), x)
    close(2 * x.T @ (x @ np.zeros(3) - 1.0), g0)
    assert np.all(np.isfinite(ft.hessian(_safe_norm)(np.array([3.0, 4.0]))))
    close(np.eye(2) / 5 - np.outer([3.0, 4.0], [3.0, 4.0]) / 125,
          ft.hessian(_safe_norm)(np.array([3.0, 4.0])))
    close(np.zeros(3), ft.grad(_safe_norm)(np.zeros(3)))


def _resnet(w, h, remat):
    block = lambda w, h: h + 0.5 * fnp.tanh(h @ w)  # noqa: E731
    if remat:
        block = ft.checkpoint(block)
    for _ in range(5):
        h = block(w, h)
    return fnp.sum(h ** 2)


def test_checkpointed_residual_net_as_jax():
    rs = np.random.RandomState(0)
    w, h = rs.randn(3, 3) * 0.4, rs.randn(2, 3)
    close(ft.grad(_resnet)(w, h, False), ft.grad(_resnet)(w, h, True))
    close(ft.hessian(_resnet)(w, h, False), ft.jacfwd(ft.grad(ft.remat(_resnet)),
                                                       )(w, h, True))
    check_grads(lambda w: _resnet(w, h, True), (w,), order=2)


def _knn_and_inverse_cdf(train_x, train_y, query, weights, key):
    """Integer index maths under jit: top_k nearest neighbours, a majority vote by
    bincount(length=), an inverse-CDF sampler by searchsorted, and the first k positive
    weights by nonzero(size=)."""
    d2 = fnp.sum((query[:, None, :] - train_x[None, :, :]) ** 2, axis=-1)
    _, idx = flax.top_k(-d2, 3)
    votes = ft.vmap(lambda i: fnp.bincount(fnp.take(train_y, i), length=3))(idx)
    cdf = fnp.cumsum(weights) / fnp.sum(weights)
    u = ft.random.uniform(key, (6,))
    draws = fnp.searchsorted(cdf, u, side="right")
    first = fnp.nonzero(weights > 0.5, size=3, fill_value=-1)[0]
    return fnp.argmax(votes, axis=1), draws, u, first


def test_knn_vote_and_inverse_cdf_sampling_under_jit_as_jax():
    rs = np.random.RandomState(0)
    train_x, train_y = rs.randn(12, 2), rs.randint(0, 3, 12)
    query, weights = rs.randn(4, 2), np.array([0.1, 0.7, 0.2, 0.9, 0.05])
    key = ft.random.key(0)
    got = ft.jit(_knn_and_inverse_cdf)(train_x, train_y, query, weights, key)
    eager = _knn_and_inverse_cdf(train_x, train_y, query, weights, key)
    close(eager, got)
    cls, draws, u, first = got
    nearest = np.argsort(((query[:, None] - train_x[None]) ** 2).sum(-1), axis=1)[:, :3]
    want = [np.argmax(np.bincount(train_y[n], minlength=3)) for n in nearest]
    assert cls.tolist() == want
    cdf = np.cumsum(weights) / weights.sum()
    assert draws.tolist() == np.searchsorted(cdf, np.asarray(u), side="right").tolist()
    assert first.tolist() == [1, 3, -1]


def test_mixed_float32_params_with_float64_data_as_jax():
    w32 = np.array([0.5, -0.25], np.float32)
    x64 = np.random.RandomState(0).randn(6, 2)

    def loss(w):
        return fnp.mean((x64 @ w.astype(fnp.float64) - 1.0) ** 2) + fnp.sum(w ** 2)
    g = ft.grad(loss)(w32)
    assert g.dtype == np.float32          # the gradient has its argument's dtype
    w64 = w32.astype(np.float64)
    close(2 * x64.T @ (x64 @ w64 - 1.0) / 6 + 2 * w64, g.astype(np.float64), 1e-6)
    assert (fnp.ones(2, dtype=fnp.float32) * 1.5).dtype == np.float32   # weak Python scalar
    assert ft.grad(lambda w: fnp.sum(w * np.ones(2)))(w32).dtype == np.float32
