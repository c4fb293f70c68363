"""Review s13a: the tensordot primitive, the dispatch fast paths, AtArray and .at, and the
custom_vjp changes (closed-over values being differentiated; a custom_vjp function applied to
tangents inside a custom_jvp rule), each against JAX, NumPy or the rule's own definition."""

import copy
import pickle
from functools import partial

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError, CustomRuleError

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(13)


def _close(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12, **kw)


# -- tensordot -------------------------------------------------------------------------------

TD_CASES = [
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3), (4, 5), 0),
    ((), (3,), 0),
    ((2, 3, 4), (4, 2, 5), ((2, 0), (0, 1))),
    ((2, 3, 4), (4, 2, 5), ((-1, -3), (0, -2))),
    ((2, 0, 4), (0, 5), ((1,), (0,))),
    ((3, 4), (4, 3), ((0, 1), (1, 0))),
]


def _pair(s1, s2, complex_=False):
    x, y = RNG.normal(size=s1), RNG.normal(size=s2)
    if complex_:
        x, y = x + 1j * RNG.normal(size=s1), y + 1j * RNG.normal(size=s2)
    return x, y


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("s1,s2,axes", TD_CASES)
def test_tensordot_rules_match_jax(s1, s2, axes, complex_):
    x, y = _pair(s1, s2, complex_)
    f = lambda a, b: fnp.tensordot(a, b, axes)  # noqa: E731
    jf = lambda a, b: jnp.tensordot(a, b, axes)  # noqa: E731
    ref = np.tensordot(x, y, axes)
    _close(f(x, y), ref)
    _close(ft.jit(f)(x, y), ref)
    ct = RNG.normal(size=ref.shape) + (1j * RNG.normal(size=ref.shape) if complex_ else 0)
    for u, v in zip(ft.vjp(f, x, y)[1](ct), jax.vjp(jf, x, y)[1](ct)):
        _close(u, v)
    tx, ty = _pair(s1, s2, complex_)
    _close(ft.jvp(f, (x, y), (tx, ty))[1], jax.jvp(jf, (x, y), (tx, ty))[1])
    _close(ft.linear_transpose(lambda a: f(a, y), x)(ct)[0],
           jax.linear_transpose(lambda a: jf(a, y), x)(ct)[0])
    _close(ft.linear_transpose(lambda b: f(x, b), y)(ct)[0],
           jax.linear_transpose(lambda b: jf(x, b), y)(ct)[0])


@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0), (-1, 1), (1, -1)])
def test_tensordot_vmap_any_axis_matches_jax(in_axes):
    axes = ((2, 0), (0, 1))
    xb = RNG.normal(size=(2, 3, 4, 3))
    yb = RNG.normal(size=(4, 3, 2, 5))
    a = np.moveaxis(xb, 3, in_axes[0]) if in_axes[0] is not None else xb[..., 0]
    b = np.moveaxis(yb, 1, in_axes[1]) if in_axes[1] is not None else yb[:, 0]
    for out_axes in (0, -1):
        ref = jax.vmap(lambda p, q: jnp.tensordot(p, q, axes), in_axes, out_axes)(a, b)
        got = ft.vmap(lambda p, q: fnp.tensordot(p, q, axes), in_axes, out_axes)(a, b)
        _close(got, ref)
    f = lambda p, q: jnp.sum(jnp.sin(jnp.tensordot(p, q, axes)) ** 2)  # noqa: E731
    g = lambda p, q: fnp.sum(fnp.sin(fnp.tensordot(p, q, axes)) ** 2)  # noqa: E731
    for u, v in zip(ft.vmap(ft.grad(g, argnums=(0, 1)), in_axes)(a, b),
                    jax.vmap(jax.grad(f, argnums=(0, 1)), in_axes)(a, b)):
        _close(u, v)


def test_tensordot_hessian_matches_jax():
    x, y = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 2, 5))
    f = lambda a, b: fnp.sum(fnp.sin(fnp.tensordot(a, b, ((2, 0), (0, 1)))) ** 2)  # noqa
    jf = lambda a, b: jnp.sum(jnp.sin(jnp.tensordot(a, b, ((2, 0), (0, 1)))) ** 2)  # noqa
    h, jh = ft.hessian(f, argnums=(0, 1))(x, y), jax.hessian(jf, argnums=(0, 1))(x, y)
    for i in range(2):
        for j in range(2):
            _close(h[i][j], jh[i][j])


@pytest.mark.parametrize("d1,d2", [(np.float32, np.float64), (np.int8, np.uint8),
                                   (np.bool_, np.int32), (np.float32, np.complex64),
                                   (np.bool_, np.bool_)])
def test_tensordot_dot_inner_einsum_mixed_dtypes(d1, d2):
    a = (RNG.normal(size=(2, 3)) * 3).astype(d1)
    b = (RNG.normal(size=(3, 4)) * 3).astype(d2)
    ref = np.tensordot(a, b, 1)
    for got in (fnp.tensordot(a, b, 1), fnp.dot(a, b), fnp.inner(a, b.T),
                fnp.einsum("ij,jk->ik", a, b)):
        assert got.dtype == ref.dtype
        np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-5)


# -- dispatch fast paths ---------------------------------------------------------------------

_VALUES = {
    "f32s": np.float32(2.0), "i8s": np.int8(3), "0d": np.array(2.5), "a32": np.full(3, 1.5,
                                                                                 np.float32),
    "a64": np.full(3, 1.5), "i8": np.arange(3, dtype=np.int8), "u8": np.arange(250, 253,
                                                                           dtype=np.uint8),
    "b": np.array([True, False, True]), "py_b": True, "py_i": 3, "py_f": 0.5, "py_c": 1 + 2j,
    "at": fnp.ones(3) * 1.5,
}


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "maximum"])
def test_binary_fast_path_agrees_with_the_general_path(name):
    from functrans.numpy import _base
    prim = {"add": "add", "subtract": "sub", "multiply": "mul", "maximum": "max"}[name]
    from functrans.primitives import elementwise as ew
    p = getattr(ew, prim + "_p")
    fn = getattr(fnp, name)

    def run(f, a, b):
        try:
            r = f(a, b)
        except Exception as e:  # noqa: BLE001 - the same error both ways
            return type(e)
        return type(r), str(r.dtype), np.asarray(r).tolist()
    for a in _VALUES.values():
        for b in _VALUES.values():
            assert run(fn, a, b) == run(lambda u, v: _base._binary(p, u, v), a, b)


def test_fast_paths_keep_library_device_and_refuse_mixed_backends():
    torch = pytest.importorskip("torch")
    xps = pytest.importorskip("array_api_strict")
    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    r = fnp.add(t, t)
    assert isinstance(r, torch.Tensor) and r.requires_grad and r.dtype == torch.float64
    dev = xps.Device("device1")
    s = xps.ones(3, dtype=xps.float64, device=dev)
    for r in (fnp.add(s, s), fnp.multiply(s, 2.0), fnp.negative(s), fnp.sin(s),
              fnp.tensordot(s, s, 1)):
        assert r.device == dev
    for a, b in ((t, np.ones(3)), (np.ones(3), t), (s, np.ones(3))):
        with pytest.raises(BackendMismatchError, match="two backends"):
            fnp.add(a, b)


# -- AtArray and .at -------------------------------------------------------------------------

_BASE = np.arange(1.0, 13.0).reshape(3, 4) * 0.7 + 0.3
_IDX = {"int": 1, "neg": -1, "tuple": (1, 2), "step": slice(None, None, 2),
        "negstep": (slice(None, None, -2), 1), "ellipsis": (Ellipsis, 1), "none": (None, 1),
        "repeat": np.array([0, 2, 0]), "pairs": (np.array([0, 2, 0]), np.array([1, 1, 1])),
        "mask": _BASE > 5, "rowmask": np.array([True, False, True]),
        "arr2d": (np.array([[0, 1], [1, 0]]), 2), "ell_arr": (Ellipsis, np.array([3, 3, 0]))}
_MODES = ["set", "add", "subtract", "multiply", "divide", "power", "min", "max", "get",
          "apply"]


def _at(x, idx, mode, vals, sin):
    h = x.at[idx]
    if mode == "get":
        return h.get()
    if mode == "apply":
        return h.apply(sin)
    return getattr(h, mode)(vals)


@pytest.mark.parametrize("key", sorted(_IDX))
def test_at_modes_on_created_arrays_match_jax_and_never_mutate(key):
    idx = _IDX[key]
    shape = _BASE[idx].shape
    vals = np.arange(int(np.prod(shape))).reshape(shape) * 0.3 + 1.1
    for mode in _MODES:
        ref = np.asarray(_at(jnp.asarray(_BASE), idx, mode, vals, jnp.sin))
        x = fnp.array(_BASE)
        before = np.array(x)
        got = _at(x, idx, mode, vals, fnp.sin)
        assert type(got).__name__ == "AtArray"
        _close(got, ref)
        _close(ft.jit(lambda v: _at(fnp.array(_BASE), idx, mode, v, fnp.sin))(vals), ref)
        _close(ft.vmap(lambda b: _at(b, idx, mode, vals, fnp.sin))(np.stack([_BASE] * 2))[1],
               ref)
        np.testing.assert_array_equal(x, before)


def test_atarray_copies_pickles_and_transform_results():
    x = fnp.arange(6.0).reshape(2, 3)
    for y in (pickle.loads(pickle.dumps(x)), copy.copy(x), copy.deepcopy(x), x.copy()):
        assert type(y).__name__ == "AtArray" and not np.shares_memory(x, y)
        _close(y.at[0, 1].set(9.0), [[0, 9, 2], [3, 4, 5]])
    assert type(np.asarray(x)) is np.ndarray
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))
    f = lambda v: fnp.zeros(3).at[1].set(v)  # noqa: E731
    for r in (ft.jit(f)(2.0), ft.vmap(f)(np.array([1.0, 2.0])), ft.jacrev(f)(2.0),
              ft.jacfwd(f)(2.0), ft.grad(lambda v: fnp.sum(f(v) ** 2))(2.0)):
        assert type(r) is np.ndarray


# -- custom_vjp: closed-over values being differentiated --------------------------------------


def _closing(y, both):
    @ft.custom_vjp
    def f(x):
        return fnp.sin(x * y)
    # bwd deliberately not the derivative: a closed-over y would silently escape it
    f.defvjp(lambda x: (fnp.sin(x * y), x), lambda r, g: (g * 0.5,))
    return f(2.0) + (f(y) if both else 0.0)


@pytest.mark.parametrize("both", [False, True])
@pytest.mark.parametrize("transform", ["grad", "jacfwd", "jit_grad"])
def test_custom_vjp_closing_over_a_differentiated_value_is_refused(transform, both):
    fn = partial(_closing, both=both)
    t = {"grad": ft.grad(fn), "jacfwd": ft.jacfwd(fn), "jit_grad": ft.jit(ft.grad(fn))}
    with pytest.raises(CustomRuleError, match="closed-over value"):
        t[transform](0.3)


def test_custom_vjp_closures_that_are_not_differentiated_still_work():
    # under vmap only (nothing differentiated), a concrete closure, a stopped gradient
    _close(ft.vmap(partial(_closing, both=False))(np.array([0.3, 0.4])),
           np.sin(2 * np.array([0.3, 0.4])))

    def outer(y):
        c = ft.stop_gradient(y)

        @ft.custom_vjp
        def f(x):
            return x * c
        f.defvjp(lambda x: (x * c, None), lambda r, g: (g * c,))
        return f(y)
    _close(ft.grad(outer)(3.0), 3.0)
    c = np.array(2.0)

    @ft.custom_vjp
    def f2(x):
        return x * c
    f2.defvjp(lambda x: (x * c, None), lambda r, g: (g * 7.0,))
    _close(ft.grad(f2)(1.0), 7.0)


# -- custom_vjp applied to tangents inside a custom_jvp rule ---------------------------------


@ft.custom_vjp
def _scale_clip(a, t):  # linear in t; bwd clips t's cotangent (deliberately not the transpose)
    return a * t


_scale_clip.defvjp(lambda a, t: (a * t, a),
                   lambda a, g: (None, fnp.clip(a * g, -0.2, 0.2)))


@ft.custom_jvp
def _g(x):
    return fnp.sum(fnp.sin(x))


@_g.defjvp
def _g_jvp(p, t):
    (x,), (tx,) = p, t
    return _g(x), fnp.sum(_scale_clip(fnp.cos(x), tx))


def test_custom_vjp_in_a_custom_jvp_rule_uses_its_bwd_in_reverse_mode():
    x = np.array([0.3, -1.2, 2.0])
    expect = np.clip(np.cos(x), -0.2, 0.2)  # the transpose through bwd (was cos(x))
    _close(ft.grad(_g)(x), expect)
    _close(ft.jit(ft.grad(_g))(x), expect)
    _close(ft.vjp(_g, x)[1](1.0)[0], expect)
    _close(ft.vmap(ft.grad(_g))(np.stack([x, 0.5 * x])),
           np.stack([expect, np.clip(np.cos(0.5 * x), -0.2, 0.2)]))
    # the same linear map transposed by linear_transpose (which always honoured bwd)
    _close(ft.linear_transpose(lambda t: ft.jvp(_g, (x,), (t,))[1], x)(1.0)[0], expect)
    # forward mode and linearize's forward evaluation run the function itself
    _close(ft.jvp(_g, (x,), (np.ones(3),))[1], np.sum(np.cos(x)))
    _close(ft.linearize(_g, x)[1](np.ones(3)), np.sum(np.cos(x)))


def test_custom_vjp_with_nondiff_argnums_in_a_custom_jvp_rule():
    @partial(ft.custom_vjp, nondiff_argnums=(0,))
    def clipn(c, t):
        return t
    clipn.defvjp(lambda c, t: (t, None), lambda c, r, g: (fnp.clip(g, -c, c),))

    @ft.custom_jvp
    def k(x):
        return fnp.sin(x)

    @k.defjvp
    def k_jvp(p, t):
        return fnp.sin(p[0]), clipn(0.05, fnp.cos(p[0]) * t[0])
    _close(ft.grad(k)(0.3), 0.05 * np.cos(0.3))
    _close(ft.jvp(k, (0.3,), (1.0,))[1], np.cos(0.3))
