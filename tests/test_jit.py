"""jit: the same values and derivatives as the function itself, on every backend, under and
around every transform; staged once per signature of the arguments, and the cached graph
replayed from then on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.compiling as compiling
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError, ConcretizationError
from functrans.testing import check_grads

from .test_checkpoint import _run, block, loss, programs
from .test_namespace_grads import TABLE, _args

X = [0.5, -1.0, 2.0]


def _leaves(tree):
    import optree
    return optree.tree_leaves(tree)


def _close(a, b, backend, tol=1e-12):
    for u, v in zip(_leaves(a), _leaves(b), strict=True):
        if not isinstance(u, (int, float, str)):
            assert backend.is_own(u), type(u)
        np.testing.assert_allclose(backend.to_numpy(u), backend.to_numpy(v), rtol=tol,
                                   atol=tol)


def counted(fun):
    """``fun`` with a count of the calls that reach it (each one a staging under jit)."""
    def wrapped(*args, **kwargs):
        wrapped.calls += 1
        return fun(*args, **kwargs)
    wrapped.calls = 0
    wrapped.__name__ = fun.__name__
    return wrapped


# -- values and derivatives --------------------------------------------------------------------


def test_values_and_derivatives_match_the_function(backend):
    w, x = backend.asarray([0.3, -0.7, 1.1]), backend.asarray(X)
    f = loss(block)
    jf = ft.jit(f)
    _close(jf(w, x), f(w, x), backend)
    _close(ft.jit(block)({"w": w, "b": 0.1}, x, 2, 1.5), block({"w": w, "b": 0.1}, x, 2, 1.5),
           backend)
    for transform in (ft.grad, ft.jacfwd, ft.jacrev, ft.hessian):
        want = transform(f, argnums=(0, 1))(w, x)
        _close(ft.jit(transform(f, argnums=(0, 1)))(w, x), want, backend)  # jit outside
        _close(transform(jf, argnums=(0, 1))(w, x), want, backend)         # jit inside
        _close(ft.jit(transform(jf, argnums=(0, 1)))(w, x), want, backend)  # both
    _close(ft.jit(lambda w, x: ft.jvp(f, (w, x), (x, w)))(w, x), ft.jvp(f, (w, x), (x, w)),
           backend)
    _close(ft.jit(lambda x: ft.hvp(lambda y: f(w, y), (x,), (w,)))(x),
           ft.hvp(lambda y: f(w, y), (x,), (w,)), backend)
    (_, f_vjp), (_, j_vjp) = ft.vjp(f, w, x), ft.vjp(jf, w, x)
    one = backend.asarray(1.0)
    _close(j_vjp(one), f_vjp(one), backend)
    (_, f_lin), (_, j_lin) = ft.linearize(f, w, x), ft.linearize(jf, w, x)
    _close(j_lin(x, w), f_lin(x, w), backend)
    check_grads(jf, (w, x), order=2)


def test_under_vmap_and_around_it(backend):
    xs = backend.asarray([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]])
    w = backend.asarray([0.3, -0.7, 1.1])

    def f(x, w):
        return fnp.sum(fnp.sin(x * w) ** 2)
    want = ft.vmap(ft.grad(f), in_axes=(0, None))(xs, w)
    _close(ft.vmap(ft.jit(ft.grad(f)), in_axes=(0, None))(xs, w), want, backend)
    _close(ft.jit(ft.vmap(ft.grad(f), in_axes=(0, None)))(xs, w), want, backend)
    _close(ft.vmap(ft.grad(ft.jit(f)), in_axes=(0, None))(xs, w), want, backend)
    _close(ft.jacrev(ft.jit(ft.vmap(f, in_axes=(0, None))), argnums=1)(xs, w),
           ft.jacrev(ft.vmap(f, in_axes=(0, None)), argnums=1)(xs, w), backend)


def test_higher_order_and_nested(backend):
    x = backend.asarray(0.7)
    f = fnp.tanh
    d = f
    for k in range(1, 5):
        d = ft.grad(d)
        jd = ft.jit(d)
        _close(jd(x), d(x), backend)
    g = ft.jit(ft.grad(ft.jit(ft.grad(ft.jit(fnp.tanh)))))
    _close(g(x), ft.grad(ft.grad(fnp.tanh))(x), backend)


# Results whose shapes depend on the values of the operands cannot be staged.
DATA_DEPENDENT_SHAPES = {"repeat_array", "getitem_mask", "getitem_mask_axis", "unique_values",
                         "unique_all", "unique_counts", "unique_inverse"}


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in TABLE])
def test_every_namespace_function(backend, spec):
    """Each function of the namespace table, jitted and with its gradient jitted, gives what
    it gives eagerly (one signature each: the table's last shapes)."""
    if spec.backends is not None and backend.name not in spec.backends:
        pytest.skip(f"{spec.name} uses indexing that {backend.name} does not support")
    args = _args(spec, spec.shapes[-1], backend)

    def loss(*a):
        total = 0.0
        for leaf in _leaves(spec.fn(*a)):
            if fnp.isdtype(fnp.result_type(leaf), "real floating"):
                total = total + fnp.sum(leaf * leaf)
        return total
    # (NumPy's in-place form on a plain array of a library whose arrays cannot be written,
    # JAX's, raises: test_namespace_grads checks it; the eager values come through vjp)
    eager = (spec.fn if backend.backend.writable or not getattr(spec.fn, "writes_in_place", False)
             else lambda *a: ft.vjp(spec.fn, *a)[0])
    jf = ft.jit(spec.fn)
    if spec.name in DATA_DEPENDENT_SHAPES or spec.data_dependent:  # as under jax.jit: a clear error
        with pytest.raises(ConcretizationError, match="jit of"):
            jf(*args)
        return
    want = eager(*args)
    _close(jf(*args), want, backend, tol=1e-10)
    _close(jf(*args), want, backend, tol=1e-10)  # the cached graph
    nums = tuple(range(len(args)))
    want = ft.grad(loss, argnums=nums)(*args)
    if spec.fwd_only:
        return
    _close(ft.jit(ft.grad(loss, argnums=nums))(*args), want, backend, tol=1e-10)
    _close(ft.grad(ft.jit(loss), argnums=nums)(*args), want, backend, tol=1e-10)


@given(programs(), st.integers(0, 3))
def test_random_programs_jitted_or_not_agree(program, seed):
    rng = np.random.default_rng(seed)
    a, b, v = (rng.uniform(-1.0, 1.0, 5) for _ in range(3))

    def plain(a, b):
        return fnp.sum(fnp.sin(_run(program, a, b, True)))
    for transform in (lambda f: f,
                      lambda f: ft.grad(f, argnums=(0, 1)),
                      lambda f: lambda a, b: ft.jvp(ft.grad(f), (a, b), (v, v))[1],
                      lambda f: lambda a, b: ft.grad(lambda a: fnp.sum(ft.grad(f)(a, b) * v))(a)):
        want = transform(plain)(a, b)
        for got in (ft.jit(transform(plain))(a, b), transform(ft.jit(plain))(a, b)):
            for g, w in zip(_leaves(got), _leaves(want), strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


# -- staging once per signature ----------------------------------------------------------------


def test_staged_once_per_signature(backend):
    f = counted(lambda x, n, scale=1.0: fnp.sum(fnp.sin(x) * scale) * n)
    jf = ft.jit(f)
    x = backend.asarray(X)
    for _ in range(3):
        _close(jf(x, 2), f(x, 2), backend)
    assert f.calls == 4 and jf.cache_size() == 1  # one staging, three eager calls above
    jf(backend.asarray([1.0, 2.0, 3.0]), 2)      # other values, same signature
    assert f.calls == 4
    jf(backend.asarray([1.0, 2.0]), 2)           # another shape
    jf(backend.asarray(X, dtype="float32"), 2)   # another dtype
    jf(x, 3)                                     # another Python number
    jf(x, 2.0)                                   # 2.0 is not 2
    jf(x, 2, scale=0.5)                          # a keyword argument
    assert jf.cache_size() == 6
    jf.clear_cache()
    assert jf.cache_size() == 0
    jf(x, 2)
    assert jf.cache_size() == 1


def test_python_side_effects_happen_while_staging_only():
    seen = []

    def f(x):
        seen.append(x.shape)
        return x * 2.0
    jf = ft.jit(f)
    for _ in range(3):
        jf(np.ones(3))
    assert seen == [(3,)]


def test_least_recently_used_graphs_are_dropped(monkeypatch):
    monkeypatch.setattr(compiling, "CACHE_SIZE", 2)
    f = counted(lambda x, k: x * k)
    jf = ft.jit(f)
    x = np.ones(2)
    jf(x, 1), jf(x, 2), jf(x, 1), jf(x, 3)  # 2 is the least recently used when 3 comes
    assert jf.cache_size() == 2 and f.calls == 3
    jf(x, 1)
    assert f.calls == 3
    jf(x, 2)
    assert f.calls == 4


def test_static_argnums_and_argnames():
    f = counted(lambda x, mode, n=1: x * n if mode == "scale" else x + n)
    jf = ft.jit(f, static_argnums=1, static_argnames="n")
    x = np.ones(2)
    np.testing.assert_array_equal(jf(x, "scale", n=3), [3.0, 3.0])
    np.testing.assert_array_equal(jf(x, "shift", n=3), [4.0, 4.0])
    np.testing.assert_array_equal(jf(x, mode="shift", n=3), [4.0, 4.0])  # by keyword too
    assert f.calls == 3
    jf(x, "shift", n=3)
    assert f.calls == 3
    # A whole structure static: staged by its value, passed as it is.
    g = ft.jit(lambda x, shape: fnp.reshape(x, shape), static_argnums=(-1,))
    assert g(np.arange(6.0), (2, 3)).shape == (2, 3)
    with pytest.raises(TypeError, match="must be hashable"):
        ft.jit(lambda x, opts: x, static_argnums=1)(x, ["a"])
    with pytest.raises(TypeError, match="must be hashable"):
        ft.jit(lambda x, w: x * w, static_argnums=1)(x, np.ones(2))
    with pytest.raises(ValueError, match="out of range"):
        ft.jit(lambda x: x, static_argnums=2)
    with pytest.raises(TypeError, match="static_argnums"):
        ft.jit(lambda x: x, static_argnums="x")


def test_default_backend_is_part_of_the_signature():
    import array_api_strict as xps
    make = ft.jit(lambda n: fnp.zeros(n) + 1.0)
    assert isinstance(make(3), np.ndarray)
    with ft.default_backend("array_api_strict"):
        assert isinstance(make(3), type(xps.asarray(0.0)))
    assert isinstance(make(3), np.ndarray)


# -- what the function sees and returns --------------------------------------------------------


def test_outputs(backend):
    x = backend.asarray(X)
    jf = ft.jit(lambda x: {"same": x, "made": fnp.zeros(3) + 1.0, "name": "f", "two": 2.0,
                           "n": fnp.sum(fnp.astype(x > 0.0, fnp.int64))})
    out = jf(x)
    assert out["same"] is not x                        # results are arrays of their own
    _close(out["same"], x, backend, tol=0)
    assert out["name"] == "f" and out["two"] == 2.0
    assert int(backend.to_numpy(out["n"])) == 2
    again = jf(x)
    assert again["made"] is not out["made"]            # an array made while staging: copied


def test_constant_outputs_are_fresh_arrays():
    jf = ft.jit(lambda x: (x * 2.0, np.ones(3)))
    _, c = jf(np.ones(3))
    c[0] = 5.0
    np.testing.assert_array_equal(jf(np.ones(3))[1], [1.0, 1.0, 1.0])
    # Also through a checkpoint, whose graph returns the array it was staged with.
    ck = ft.checkpoint(lambda x: (x * 2.0, fnp.zeros(3)))
    jg = ft.jit(lambda x: ck(x)[1])
    a = jg(np.ones(3))
    a[0] = 99.0
    b = jg(np.ones(3))
    assert b is not a
    np.testing.assert_array_equal(b, [0.0, 0.0, 0.0])
    # A NumPy scalar constant comes back a 0-d array, as computed 0-d results do (apifuzz35:
    # it was the NumPy scalar itself, and so was a NumPy scalar argument passed through).
    s = np.float64(2.0)
    out = ft.jit(lambda x: (x, s))(np.ones(1))[1]
    assert type(out) is np.ndarray and out.shape == () and float(out) == 2.0


def test_results_held_by_the_caller_are_never_overwritten():
    # Large arrays: evaluation reuses the memory of values that died, never of results.
    f = lambda x: fnp.tanh(fnp.sin(x) * 2.0 + 1.0) * x  # noqa: E731
    jf = ft.jit(ft.grad(lambda x: fnp.sum(f(x))))
    xs = [np.linspace(-1.0, 1.0, 1 << 16) * k for k in (1.0, 2.0, 3.0)]
    kept = [jf(x) for x in xs]
    for x, k in zip(xs, kept):
        np.testing.assert_array_equal(k, ft.grad(lambda x: fnp.sum(f(x)))(x))


def test_arguments_are_never_written():
    x = np.linspace(-1.0, 1.0, 1 << 16)
    x.flags.writeable = False  # a write would raise
    jf = ft.jit(lambda x: fnp.sin(x) * 2.0 + x)
    jf(x), jf(x)


def test_closures_over_arrays_and_over_an_enclosing_transforms_values():
    w = np.asarray([1.0, 2.0])
    jf = ft.jit(lambda x: fnp.sum(w * fnp.sin(x)))
    x = np.asarray([0.3, 0.4])
    np.testing.assert_allclose(ft.grad(jf)(x), w * np.cos(x))

    def outer(v):
        inner = ft.jit(lambda x: fnp.sum(fnp.sin(v * x)))  # closes over grad's tracer
        return inner(x) + inner(x)
    np.testing.assert_allclose(ft.grad(outer)(w), 2 * x * np.cos(w * x))

    shared = ft.jit(lambda x: fnp.sum(fnp.sin(CLOSED[0] * x)))
    CLOSED[:] = [None]

    def outer2(v):
        CLOSED[0] = v
        return shared(x)
    for v in (w, 2.0 * w):  # each call closes over another tracer: never the cached one
        np.testing.assert_allclose(ft.grad(outer2)(v), x * np.cos(v * x))


CLOSED: list = []


def test_custom_rules_inside_are_used_by_transforms_around():
    @ft.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -1.0, 1.0),))

    def f(x):
        return fnp.sum(clip_grad(x) * 5.0)
    x = np.asarray([1.0, 2.0])
    np.testing.assert_array_equal(ft.grad(f)(x), [1.0, 1.0])
    np.testing.assert_array_equal(ft.grad(ft.jit(f))(x), [1.0, 1.0])
    np.testing.assert_array_equal(ft.jit(ft.grad(f))(x), [1.0, 1.0])
    np.testing.assert_array_equal(ft.jit(f)(x), 15.0)


def test_checkpoint_inside_and_outside(backend):
    x = backend.asarray(X)
    f = lambda x: fnp.sum(fnp.sin(fnp.sin(x)) ** 2)  # noqa: E731
    want = ft.grad(f)(x)
    _close(ft.jit(ft.grad(ft.checkpoint(f)))(x), want, backend)
    _close(ft.grad(ft.checkpoint(ft.jit(f)))(x), want, backend)


def test_large_graphs_are_evaluated_equation_by_equation(monkeypatch):
    monkeypatch.setattr(compiling, "CODEGEN_LIMIT", 3)
    f = lambda x: fnp.sum(fnp.sin(fnp.sin(x)) * x)  # noqa: E731
    x = np.asarray([0.1, 0.2])
    np.testing.assert_allclose(ft.jit(ft.grad(f))(x), ft.grad(f)(x), rtol=1e-15)


# -- errors ------------------------------------------------------------------------------------


def test_control_flow_on_array_values_is_a_clear_error():
    jf = ft.jit(lambda x: x if fnp.sum(x) > 0 else -x)
    with pytest.raises(ConcretizationError, match="jit of <lambda>.*static_argnums"):
        jf(np.ones(2))
    # A Python number may steer control flow: it is part of the signature.
    steer = ft.jit(lambda x, n: x * 2.0 if n > 0 else -x)
    np.testing.assert_array_equal(steer(np.ones(2), 1), [2.0, 2.0])
    np.testing.assert_array_equal(steer(np.ones(2), -1), [-1.0, -1.0])


def test_assigning_into_an_argument_is_an_error():
    def f(x):
        x[0] = 0.0
        return x
    with pytest.raises(TypeError, match="jit of f: the function assigns into"):
        ft.jit(f)(np.ones(2))

    def g(x):
        y = fnp.asarray(x, copy=True)
        y[0] = 0.0
        return y
    np.testing.assert_array_equal(ft.jit(g)(np.ones(2)), [0.0, 1.0])


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="jit expects a function"):
        ft.jit(3)

    class Opaque:
        __hash__ = None
    with pytest.raises(TypeError, match="neither an array, a pytree of arrays, nor a value"):
        ft.jit(lambda x, o: x)(np.ones(2), Opaque())
    with pytest.raises(ValueError, match="static_argnames 'm' is not a parameter"):
        ft.jit(lambda x, n: x * n, static_argnames="m")


def test_an_object_holding_arrays_is_refused_unless_it_is_a_pytree():
    """An object passed as it is would be a key by identity: after ``model.w = new``, the
    graph would still compute with the old array (and keep it alive)."""
    class Model:
        def __init__(self, w):
            self.w = w

    def loss(model, x):
        return fnp.sum(model.w * x)
    model, x = Model(np.ones(2)), np.ones(2)
    with pytest.raises(TypeError, match="argument of type Model.*register_pytree_node"):
        ft.jit(loss)(model, x)
    ft.register_pytree_node(Model, lambda m: ((m.w,), None), lambda _, c: Model(*c))
    jl = ft.jit(loss)
    assert float(jl(model, x)) == 2.0
    model.w = np.full(2, 3.0)
    assert float(jl(model, x)) == 6.0
    # Named static, an object is the user's promise that it does not change (as in JAX).
    assert float(ft.jit(lambda m, x: fnp.sum(m.w * x), static_argnums=0)(
        type("M", (), {"w": np.ones(2)})(), x)) == 2.0
    # Functions, dtypes and strings are values.
    apply = ft.jit(lambda fn, x, dtype, how: fnp.astype(fn(x), dtype) if how == "cast" else x)
    assert apply(fnp.sin, x, fnp.float32, "cast").dtype == np.float32


def test_results_must_be_arrays_numbers_or_plain_values():
    class Box:
        def __init__(self, val):
            self.val = val
    with pytest.raises(TypeError, match="returned a value of type Box"):
        ft.jit(lambda x: Box(x * 2.0))(np.ones(2))
    with pytest.raises(TypeError, match="returned a value of type function"):
        ft.jit(lambda x: lambda: x)(np.ones(2))
    assert ft.jit(lambda x: (x, "name", fnp.float32))(np.ones(2))[1:] == ("name", fnp.float32)


def test_static_values_are_told_apart_exactly():
    div = ft.jit(lambda x, s: x / s, static_argnums=1)
    x = np.ones(2)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(div(x, 0.0), [np.inf, np.inf])
        np.testing.assert_array_equal(div(x, -0.0), [-np.inf, -np.inf])
    full = ft.jit(lambda x, n: fnp.full(x.shape, n), static_argnums=1)
    assert full(x, 1).dtype == np.int64
    assert full(x, 1.0).dtype == np.float64
    assert full(x, True).dtype == np.bool_


def test_a_traced_static_argument_is_an_error():
    f = ft.jit(lambda x, s: x * 2.0 if s > 0 else x, static_argnums=1)
    with pytest.raises(TypeError, match="static argument .* is a value being transformed"):
        ft.grad(lambda s: fnp.sum(f(np.ones(2), s)))(1.0)


def test_closed_over_arrays_are_those_seen_while_staging(backend):
    """As in jax.jit: the graph keeps a copy of what the function closes over, so a later
    change in place is seen by no operation (not by some and not others), with and without
    a transform inside; the copies stay on the closed-over arrays' device."""
    if not backend.backend.writable:
        pytest.skip(f"{backend.name} arrays cannot be written in place: W cannot change")
    W = backend.asarray([[1.0, 2.0], [3.0, 4.0]])
    if backend.name == "numpy":
        W = np.array(W)  # writeable, to change it below
    f = lambda x: fnp.sum(x * W) + fnp.sum(W * W)  # noqa: E731
    x = backend.asarray([1.0, 2.0])
    jf, jg = ft.jit(f), ft.jit(ft.grad(f))   # the closed-over W broadcasts against x
    value, gradient = f(x), ft.grad(f)(x)
    _close(jf(x), value, backend, tol=0)
    _close(jg(x), gradient, backend, tol=0)
    W[0, 0] = 10.0
    _close(jf(x), value, backend, tol=0)
    _close(jg(x), gradient, backend, tol=0)
    jf.clear_cache()
    _close(jf(x), f(x), backend, tol=0)  # staged again: the new values


def test_made_and_closed_over_inside_the_function():
    """Arrays the function makes and changes while it is staged, constant masks, counts and
    values a custom rule closes over: as eagerly."""
    x = np.asarray([1.0, 2.0, 3.0])

    def refill(x):
        w, out = np.zeros(3), []
        for i in range(3):
            w[:] = i
            out.append(fnp.sum(fnp.sin(w)) * x)
        return fnp.stack(out)
    np.testing.assert_array_equal(ft.jit(refill)(x), refill(x))
    mask = np.asarray([True, False, True])
    masked = lambda x: fnp.sum(x[mask])  # noqa: E731
    assert float(ft.jit(masked)(x)) == 4.0
    counts = np.asarray([0, 2, 1])
    np.testing.assert_array_equal(ft.jit(lambda x: fnp.repeat(x, counts))(x),
                                  [2.0, 2.0, 3.0])
    W = np.asarray([1.0, 2.0, 3.0])

    def with_rule(x):
        c = fnp.exp(W)

        @ft.custom_jvp
        def scaled(y):
            return y * c
        scaled.defjvp(lambda p, t: (scaled(p[0]), t[0] * c))
        return fnp.sum(scaled(x))
    np.testing.assert_allclose(ft.jit(with_rule)(x), with_rule(x))
    np.testing.assert_allclose(ft.grad(ft.jit(with_rule))(x), np.exp(W))


def test_outputs_are_never_shared():
    # Pruning makes two equal zeros one value: the caller still gets two arrays.
    init = ft.jit(lambda p: (fnp.zeros_like(p), fnp.zeros_like(p)))
    m, v = init(np.ones(3))
    assert m is not v
    m += 1.0
    np.testing.assert_array_equal(v, [0.0, 0.0, 0.0])
    # A view of an array made while staging.
    h = ft.jit(lambda x: (x * 2.0, fnp.reshape(fnp.zeros(4), (2, 2))))(np.ones(2))[1]
    h += 1.0
    np.testing.assert_array_equal(
        ft.jit(lambda x: (x * 2.0, fnp.reshape(fnp.zeros(4), (2, 2))))(np.ones(2))[1], 0.0)


def test_the_order_of_dict_keys_is_part_of_the_signature():
    f = lambda d: fnp.concat(list(d.values()))  # noqa: E731
    jf = ft.jit(f)
    a, b = np.zeros(1), np.ones(2)
    np.testing.assert_array_equal(jf({"a": a, "b": b}), f({"a": a, "b": b}))
    np.testing.assert_array_equal(jf({"b": b, "a": a}), f({"b": b, "a": a}))


def test_a_closed_over_tensor_that_requires_grad_is_refused():
    torch = pytest.importorskip("torch")
    W = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    x = torch.tensor([0.5, 3.0], dtype=torch.float64)
    with pytest.raises(TypeError, match="requires grad.*pass it as an argument"):
        ft.jit(lambda x: fnp.sum(x * W))(x)
    # Passed as an argument, torch's autograd trains it through the jitted function.
    opt = torch.optim.SGD([W], lr=0.1)

    def loss(W, x):
        Wn = W / fnp.sqrt(fnp.sum(W * W))
        return fnp.sum((x * Wn - 1.0) ** 2)
    losses = {}
    for name, fn in (("eager", loss), ("jit", ft.jit(loss))):
        with torch.no_grad():
            W.copy_(torch.tensor([1.0, 2.0], dtype=torch.float64))
        for _ in range(3):
            opt.zero_grad()
            value = fn(W, x)
            value.backward()
            opt.step()
            losses.setdefault(name, []).append(float(value))
    np.testing.assert_allclose(losses["jit"], losses["eager"], rtol=1e-14)
def test_arrays_of_two_backends_are_an_error():
    import array_api_strict as xps
    jf = ft.jit(lambda x, y: x + y)
    with pytest.raises(BackendMismatchError, match="numpy.*array_api_strict|array_api_strict"
                                                   ".*numpy"):
        jf(np.ones(2), xps.ones(2))


def test_staged_graph_is_pruned():
    """Repeated work is computed once, and what the outputs do not need not at all: the
    graph a jitted function runs (which make_graph of it shows) against the function's own."""
    def f(x):
        unused = fnp.cos(x)  # noqa: F841
        return fnp.sin(x) + fnp.sin(x)
    x = np.ones(2)
    assert [e[0].name for e in ft.make_graph(f)(x).eqns] == ["cos", "sin", "sin", "add"]
    assert [e[0].name for e in ft.make_graph(ft.jit(f))(x).eqns] == ["sin", "add"]
    # A primitive with several results read for one of them computes that one alone.
    g = ft.grad(lambda x: fnp.sum(fnp.sin(x) + fnp.tanh(x)))
    names = [e[0].name for e in ft.make_graph(ft.jit(g))(x).eqns]
    assert "cos" in names and "sin_cos" not in names and "sin" not in names, names
    np.testing.assert_array_equal(ft.jit(g)(x), g(x))

    calls = []

    @ft.custom_jvp
    def logged_sin(x):
        calls.append(1)
        return fnp.sin(x)
    logged_sin.defjvp(lambda p, t: (logged_sin(p[0]), fnp.cos(p[0]) * t[0]))

    def g(x):
        unused = logged_sin(x * 3.0)  # noqa: F841
        return logged_sin(x)
    jg = ft.jit(g)
    jg(x)  # staging (and the custom function's body staged inline)
    calls.clear()
    jg(x), jg(x)
    assert calls == []  # with no transform around, its staged equations run instead
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(jg(x)))(x), np.cos(x))
    assert calls  # around a transform, the call with its rule


def test_custom_functions_inside_run_as_staged_with_no_transform_around():
    """What a custom_jvp/custom_vjp function closes over is copied at staging like the rest
    (the jitted function's values do not depend on whether a product sits inside a custom
    function); under a transform around, the call and its rule run (documented)."""
    W = np.asarray([1.0, 2.0])

    @ft.custom_vjp
    def scale(x):
        return x * W

    scale.defvjp(lambda x: (scale(x), None), lambda _, g: (g * W,))

    @ft.custom_jvp
    def outer(x):
        return scale(x) + fnp.sin(x)  # a custom call inside a custom call
    outer.defjvp(lambda p, t: (outer(p[0]), t[0] * W + fnp.cos(p[0]) * t[0]))
    f = ft.jit(lambda x: (outer(x), x * W))
    x = np.ones(2)
    before = [np.array(a) for a in f(x)]
    W[:] = [10.0, 20.0]
    for _ in range(2):  # evaluated, then compiled
        for a, b in zip(f(x), before):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ft.jit(ft.grad(lambda x: fnp.sum(outer(x))))(x),
                               ft.grad(lambda x: fnp.sum(outer(x)))(x))


def test_values_are_dropped_at_their_last_use(monkeypatch):
    """The compiled graph holds an intermediate no longer than its last use (here arrays the
    memory-reusing evaluation would take are made to count as small, so the compiled
    function runs them)."""
    import tracemalloc

    from functrans import buffers
    monkeypatch.setattr(buffers, "MIN_BYTES", 1 << 40)

    def chain(x):
        for _ in range(20):
            x = fnp.sin(x)
        return x
    x = np.linspace(0.0, 1.0, 100_000)  # 0.8 MB an array
    jf = ft.jit(chain)
    jf(x)
    tracemalloc.start()
    try:
        jf(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * x.nbytes, peak


def test_memory_order_of_reused_arrays_does_not_change_results():
    """Arrays kept for reuse are C-ordered, and written into only where NumPy's own result
    would be too: what ran before does not change a result's rounding."""
    n = 200
    f = lambda x: (fnp.reshape(fnp.sin(x) * 2.0 + x, (-1,))[:7]  # noqa: E731
                   + fnp.sum(fnp.cos(x) * x, axis=0)[:7])
    rng = np.random.default_rng(0)
    fortran = np.asfortranarray(rng.uniform(size=(n, n)))
    strided = rng.uniform(size=(n, 2 * n))[:, ::2]
    before = ft.jit(f)
    for _ in range(3):
        before(fortran)
    jf = ft.jit(f)
    for _ in range(3):
        np.testing.assert_array_equal(jf(strided), f(strided))


def test_restaging_for_new_numbers_warns_once():
    from functrans.errors import RestagingWarning
    step = ft.jit(lambda x, lr: x - lr * x)
    x = np.ones(2)
    with pytest.warns(RestagingWarning, match="staged 8 times.*fnp.asarray"):
        for k in range(8):
            step(x, 0.1 * (k + 1))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(20):
            step(x, 1.0 + k)              # warned once already
        ft.jit(lambda x: x * 2.0)(x)      # arrays that change do not stage again
        np.testing.assert_allclose(step(x, np.asarray(0.5)), [0.5, 0.5])


def test_results_never_alias_the_arguments_or_each_other(backend):
    """The graph cannot tell ``return x`` from ``return fnp.asarray(x, copy=True)``: results
    are always arrays of their own, so writing into one never changes an argument, another
    result, or what a later call returns."""
    if not backend.backend.writable:
        pytest.skip(f"{backend.name} arrays cannot be written in place: nothing to alias")
    x = backend.asarray([1.0, 2.0])
    if backend.name == "numpy":
        x = np.array(x)
    for fn in (ft.jit(lambda x: fnp.asarray(x, copy=True)),
               ft.checkpoint(lambda x: fnp.asarray(x, copy=True))):
        y = fn(x)
        y[0] = -5.0
        assert float(backend.to_numpy(x)[0]) == 1.0
    pair = ft.jit(lambda x: (fnp.sin(x), fnp.asarray(fnp.sin(x), copy=True)))
    a, b = pair(x)
    b[0] = 100.0
    assert float(backend.to_numpy(a)[0]) != 100.0


def test_static_numpy_scalars_and_dicts_inside_pytree_nodes():
    div = ft.jit(lambda x, s: x / s, static_argnums=1)
    x = np.ones(2)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(div(x, np.float64(0.0)), [np.inf, np.inf])
        np.testing.assert_array_equal(div(x, np.float64(-0.0)), [-np.inf, -np.inf])
    cast = ft.jit(lambda x, s: fnp.astype(x, fnp.float32) * s[0], static_argnums=1)
    assert cast(x, (np.float32(1.5),)).dtype == np.float32
    assert cast(x, (np.float64(1.5),)).dtype == np.float64

    class Box:
        def __init__(self, d):
            self.d = d
    ft.register_pytree_node(Box, lambda b: ((b.d,), None), lambda _, c: Box(*c))
    first = ft.jit(lambda b: fnp.concat(list(b.d.values()))[:1])
    a, c = np.ones(1), np.full(1, 2.0)
    np.testing.assert_array_equal(first(Box({"a": a, "b": c})), [1.0])
    np.testing.assert_array_equal(first(Box({"b": c, "a": a})), [2.0])


def test_only_what_the_pruned_graph_reads_is_kept(monkeypatch):
    copied = []
    real = ft.backends.get_backend("numpy").copy
    monkeypatch.setattr(type(ft.backends.get_backend("numpy")), "copy",
                        lambda self, x: copied.append(x.shape) or real(x))
    big, small = np.ones(1000), np.ones(2)
    jf = ft.jit(lambda x: (fnp.sum(big), x * small)[1])  # big's sum is dead: pruned
    jf(np.ones(2))
    assert copied == [(2,)]
    torch = pytest.importorskip("torch")
    W = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    x = torch.ones(2, dtype=torch.float64)
    # Read only by dead code: neither kept nor refused.
    assert float(ft.jit(lambda x: (fnp.sum(W), fnp.sum(x))[1])(x)) == 2.0


def test_compiled_at_the_second_call_and_keys_without_dicts(monkeypatch):
    compiled, walked = [], []
    real_compile, real_orders = compiling._compile, compiling._dict_orders
    monkeypatch.setattr(compiling, "_compile",
                        lambda *a: compiled.append(1) or real_compile(*a))
    monkeypatch.setattr(compiling, "_dict_orders",
                        lambda obj: walked.append(1) or real_orders(obj))
    jf = ft.jit(lambda x, y: fnp.sin(x) * y)
    x = np.ones(3)
    jf(x, x)
    assert compiled == []   # a graph used once is never compiled
    jf(x, x), jf(x, x)
    assert compiled == [1]
    assert walked == []     # no dict among the arguments: no walk over them
    jf(x, y=x)
    assert walked  # a keyword argument: the dict of them is walked


def test_zero_dimensional_results_are_arrays(backend):
    x = backend.asarray(X)
    g = ft.grad(lambda x: fnp.sum(fnp.sin(x)) ** 2)
    f = ft.jit(lambda x: (fnp.sum(x), ft.grad(lambda y: fnp.sum(y) ** 2)(fnp.sum(x))))
    for _ in range(2):  # evaluated, then compiled
        a, b = f(x)
        assert backend.is_own(a) and backend.is_own(b) and a.shape == () and b.shape == ()
    if backend.name == "numpy":
        assert type(ft.jit(g)(x)) is type(g(x))


def test_a_projected_equation_is_merged_with_its_repeat():
    f = lambda x: (fnp.sin(x), ft.grad(lambda y: fnp.sum(fnp.cos(y)))(x))  # noqa: E731
    names = [e[0].name for e in ft.make_graph(ft.jit(f))(np.ones(2)).eqns]
    assert names.count("sin") == 1 and "sin_cos" not in names, names
    for a, b in zip(ft.jit(f)(np.ones(2)), f(np.ones(2))):
        np.testing.assert_array_equal(a, b)


def test_fortran_ordered_operands_are_not_written_with_out():
    x = np.random.default_rng(0).uniform(size=(200, 200))
    f = lambda x: fnp.sum(fnp.sin(x) * 2.0 + x, axis=1)  # noqa: E731
    jf = ft.jit(f)
    jf(x), jf(x)  # C-ordered: arrays kept for reuse
    xf = np.asfortranarray(x)
    for _ in range(2):
        np.testing.assert_array_equal(jf(xf), f(xf))


def test_custom_functions_inside_a_checkpoint_inside_jit_run_as_staged():
    W = np.asarray([1.0, 2.0])
    ran = []

    @ft.custom_vjp
    def scale(x):
        ran.append(1)
        return x * W
    scale.defvjp(lambda x: (scale(x), None), lambda _, g: (g * W,))
    block = ft.checkpoint(lambda x: scale(x) + scale(x * 2.0))  # the same graph twice
    f = ft.jit(lambda x: block(x) + block(x + 1.0))
    x = np.ones(2)
    before = np.array(f(x))
    ran.clear()
    W[:] = [10.0, 20.0]
    for _ in range(2):
        np.testing.assert_array_equal(f(x), before)
    assert ran == []
    W[:] = [1.0, 2.0]
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(f(x)))(x),
                               ft.grad(lambda x: fnp.sum(block(x) + block(x + 1.0)))(x))


def test_a_custom_function_assigning_into_its_argument_is_a_clear_error():
    @ft.custom_jvp
    def cf(z):
        z[0] = 5.0
        return z * 2.0
    cf.defjvp(lambda p, t: (cf(p[0]), t[0] * 2.0))

    def f(x):
        z = x * 1.0
        return z + cf(z)
    for transform in (ft.jit, ft.checkpoint):
        with pytest.raises(TypeError, match="custom_jvp function 'cf'.*assigns into"):
            transform(f)(np.ones(3))


def test_jax_only_keywords_are_accepted_and_change_nothing():
    """donate_argnums & co. (jax.jit's) are accepted: the donated array is left as it was."""
    x = np.arange(3.0)
    f = ft.jit(lambda a, n: a * n, static_argnums=1, donate_argnums=(0,),
               donate_argnames=("a",), keep_unused=True, inline=True)
    np.testing.assert_array_equal(f(x, 2), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(f(x, 2), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])
