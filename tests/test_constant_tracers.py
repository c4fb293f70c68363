"""Constants as tracers under forward mode, vmap and jit (functrans.interpreters.ConstTracer).

Inside the differentiating transforms (jvp, grad, vjp, linearize, jacfwd, jacrev, hessian),
vmap and the stagings (jit, make_jaxpr, make_graph, checkpoint), arrays that user or
third-party code makes with functrans.numpy's creation functions, and (under forward mode)
the derivative-free results of operations on tracers (comparisons, argmax), are tracers whose
namespace is functrans.numpy, so that ``array_api_compat.array_namespace(tracer, constant)``
finds one namespace. They never leave a transform: results and auxiliary data come back as
arrays of the input's library.
"""

from __future__ import annotations

import functools

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Tracer
from functrans.interpreters import ConstTracer, JVPTracer
from functrans.testing import check_grads

compat = pytest.importorskip("array_api_compat")

X = np.array([0.5, -1.25, 2.0])


def _made_inside(x):
    """Constants of every kind, next to the tracer ``x``."""
    xp = compat.array_namespace(x)
    return {"asarray": xp.asarray(0.5, dtype=x.dtype, device=compat.device(x)),
            "zeros": xp.zeros(x.shape, dtype=x.dtype, device=compat.device(x)),
            "zeros_like": xp.zeros_like(x), "full_like": xp.full_like(x, 2.0),
            "arange": xp.arange(3, device=compat.device(x)),
            "greater": x > 0.0, "argmax": xp.argmax(x), "isnan": xp.isnan(x),
            "sum_of_constants": xp.sum(xp.ones_like(x) * 3.0)}


@pytest.mark.parametrize("transform", ["grad", "jvp", "jacfwd", "jacrev", "hessian"])
def test_constants_share_the_tracers_namespace_and_leave_as_plain_arrays(backend, transform):
    seen = {}

    def f(x):
        consts = _made_inside(x)
        for name, c in consts.items():
            seen[name] = type(c)
            assert compat.array_namespace(x, c) is fnp, name  # (was: Multiple namespaces)
        s = consts["asarray"] * fnp.sum(x * x) + fnp.sum(fnp.where(consts["greater"], x, 0.0))
        return s, consts
    x = backend.asarray(X)
    run = {"grad": lambda: ft.grad(f, has_aux=True)(x),
           "jvp": lambda: ft.jvp(f, (x,), (x,), has_aux=True),
           "jacfwd": lambda: ft.jacfwd(f, has_aux=True)(x),
           "jacrev": lambda: ft.jacrev(f, has_aux=True)(x),
           "hessian": lambda: ft.hessian(f, has_aux=True)(x)}[transform]
    out = run()
    assert set(seen.values()) == {ConstTracer}, seen
    for leaf in optree.tree_leaves(out):
        assert backend.is_own(leaf) or isinstance(leaf, np.generic), type(leaf)
    # d/dx [0.5 sum x^2 + sum(x where x > 0)] = x + (x > 0)
    want = X + (X > 0)
    if transform == "grad":
        np.testing.assert_allclose(backend.to_numpy(out[0]), want, rtol=1e-15)
    if transform == "jacrev":
        np.testing.assert_allclose(backend.to_numpy(out[0]), want, rtol=1e-15)
    if transform == "hessian":
        np.testing.assert_allclose(backend.to_numpy(out[0]), np.eye(3), rtol=1e-15)
    if transform == "jvp":
        np.testing.assert_allclose(float(backend.to_numpy(out[1])), want @ X, rtol=1e-15)


def test_under_vmap_created_arrays_are_constants_too(backend):
    # (comparisons of a batch are batches there: only what is made from nothing is constant)
    kinds = []

    def f(x):
        c = fnp.zeros(x.shape, dtype=x.dtype, device=compat.device(x))
        k = fnp.arange(3, device=compat.device(x))
        kinds.append((type(c), type(k)))
        assert compat.array_namespace(x, c, k, x > 0.0) is fnp
        return x * 2.0 + c, k
    xs = backend.asarray(np.stack([X, 3 * X]))
    y, k = ft.vmap(f, out_axes=(0, None))(xs)
    assert kinds == [(ConstTracer, ConstTracer)]
    assert backend.is_own(y) and backend.is_own(k)
    np.testing.assert_array_equal(backend.to_numpy(k), [0, 1, 2])
    g = ft.grad(lambda x: fnp.sum(ft.vmap(f)(fnp.stack([x, 3.0 * x]))[0]))(backend.asarray(X))
    np.testing.assert_allclose(backend.to_numpy(g), [8.0] * 3)


def test_plain_arrays_outside_transforms(backend):
    x = backend.asarray(X)
    assert backend.is_own(fnp.zeros_like(x)) and backend.is_own(x > 0.0)
    assert backend.is_own(fnp.sum(fnp.ones_like(x)) * 2.0)


def test_constants_convert_like_their_arrays():
    def f(x):
        c = fnp.asarray([1.5, -2.0])
        m = x > 0.0
        assert float(c[0]) == 1.5 and bool(m[0]) and int(fnp.argmax(x)) == 2
        assert c.tolist() == [1.5, -2.0] and c[1].item() == -2.0
        np.testing.assert_array_equal(np.asarray(c), [1.5, -2.0])  # nothing to drop
        with pytest.raises(ft.errors.DerivativeDroppedError):
            float(x[0])                                          # (a traced value still refuses)
        return fnp.sum(x)
    ft.grad(f)(X)


def test_item_assignment_of_a_traced_value_turns_the_constant_into_that_tracer(backend):
    def f(x):
        traced = isinstance(x, Tracer)  # (check_grads also calls f on plain arrays)
        y = fnp.zeros(4, dtype=x.dtype, device=compat.device(x))
        assert not traced or type(y) is ConstTracer
        y[1:] = x * x            # (what array_api_extra.at does, and SciPy through it)
        assert not traced or type(y) is JVPTracer
        y[0] = 3.0               # a constant written into a traced array: still traced
        return fnp.sum(y * y)
    x = backend.asarray(X)
    check_grads(f, (x,), order=2)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(f)(x)), 4 * X ** 3, rtol=1e-14)

    def g(x):
        y = fnp.zeros(3)
        y[fnp.argmax(x)] = 1.0   # constants into a constant: a constant
        assert type(y) is ConstTracer
        return fnp.sum(y * x)
    np.testing.assert_allclose(ft.grad(g)(X), [0.0, 0.0, 1.0])


def test_assigning_a_tracer_of_another_transform_into_a_constant_is_refused():
    def f(x):
        y = fnp.zeros(3)

        def inner(z):
            y[0] = z[0]  # a tracer of the inner jvp into the outer grad's constant
            return fnp.sum(z)
        ft.jvp(inner, (x,), (x,))
        return fnp.sum(x)
    with pytest.raises(ft.errors.DerivativeDroppedError, match="another one"):
        ft.grad(f)(X)


def test_nested_transforms_keep_constants_of_the_outer_one():
    def inner(x):
        c = fnp.full_like(x, 3.0)
        return fnp.sum(c * x * x), c

    def outer(x):
        g, c = ft.grad(inner, has_aux=True)(x)   # c: a constant of the outer grad here
        assert compat.array_namespace(x, c) is fnp  # (a ConstTracer; under jit, staged)
        return fnp.sum(g * x)                    # sum 6 x^2
    np.testing.assert_allclose(ft.grad(outer)(X), 12 * X, rtol=1e-15)
    np.testing.assert_allclose(ft.jacfwd(ft.grad(outer))(X), 12 * np.eye(3), rtol=1e-15)
    np.testing.assert_allclose(ft.jit(ft.grad(outer))(X), 12 * X, rtol=1e-15)


# -- under jit (and the other stagings) -------------------------------------------------


def _created(x):
    """Constants made from nothing (under jit ``zeros_like(x)`` or a comparison of ``x`` is
    staged, not constant)."""
    xp = compat.array_namespace(x)
    return {"asarray": xp.asarray(0.5, dtype=x.dtype, device=compat.device(x)),
            "zeros": xp.zeros(x.shape, dtype=x.dtype, device=compat.device(x)),
            "full": xp.full(x.shape, 2.0, dtype=x.dtype, device=compat.device(x)),
            "arange": xp.arange(3, device=compat.device(x)),
            "sum_of_constants": xp.sum(xp.ones(x.shape, dtype=x.dtype,
                                               device=compat.device(x)) * 3.0)}


def test_under_jit_constants_are_tracers_and_results_plain_arrays(backend):
    traces, seen = [], {}

    def f(x):
        traces.append(1)
        consts = _created(x)
        for name, c in consts.items():
            seen[name] = type(c)
            assert compat.array_namespace(x, c) is fnp, name  # (was: Multiple namespaces)
        return consts["asarray"] * fnp.sum(x * x) + consts["sum_of_constants"], consts
    jf = ft.jit(f)
    x = backend.asarray(X)
    out1 = jf(x)
    out2 = jf(backend.asarray(2.0 * X))
    assert len(traces) == 1 and jf.cache_size() == 1   # staged once: no constant in the key
    assert set(seen.values()) == {ConstTracer}, seen
    for out in (out1, out2):
        for leaf in optree.tree_leaves(out):
            assert backend.is_own(leaf), type(leaf)
    np.testing.assert_allclose(backend.to_numpy(out1[0]), 0.5 * X @ X + 9.0, rtol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(out2[0]), 2.0 * X @ X + 9.0, rtol=1e-15)
    for consts in (out1[1], out2[1]):
        np.testing.assert_array_equal(backend.to_numpy(consts["full"]), [2.0] * 3)
        np.testing.assert_array_equal(backend.to_numpy(consts["arange"]), [0, 1, 2])
        assert float(backend.to_numpy(consts["sum_of_constants"])) == 9.0
    assert out1[1]["zeros"] is not out2[1]["zeros"]   # each call's results are its own


def test_under_jit_python_control_flow_on_constants(backend):
    traces = []

    def f(x):
        traces.append(1)
        c = fnp.asarray([1.0, 2.0], dtype=x.dtype, device=compat.device(x))
        assert type(c) is ConstTracer
        if (c > 0).all():                      # concrete: a constant's comparison
            x = x * 2.0
        n = int(fnp.sum(c))                    # 3
        for i in range(n):
            x = x + float(c[i % 2])
        k = fnp.arange(n, device=compat.device(x))
        return x[int(k[-1]) - 1] + float(c[1])
    jf = ft.jit(f)
    for scale in (1.0, 3.0):
        want = 2.0 * scale * X[1] + 4.0 + 2.0
        np.testing.assert_allclose(float(backend.to_numpy(jf(backend.asarray(scale * X)))),
                                   want, rtol=1e-15)
    assert len(traces) == 1


def test_jit_nested_with_vmap_and_grad(backend):
    kinds = []

    def f(x):
        c = fnp.full(x.shape, 3.0, dtype=x.dtype, device=compat.device(x))
        kinds.append(type(c._interp).__name__ if type(c) is ConstTracer else type(c))
        assert compat.array_namespace(x, c) is fnp
        return fnp.sum(c * x * x)             # gradient 6 x
    x = backend.asarray(X)
    xs = backend.asarray(np.stack([X, 2.0 * X]))
    want = np.array([3.0 * X @ X, 12.0 * X @ X])
    for name, run, expect, kind in [
            ("jit(vmap)", lambda: ft.jit(ft.vmap(f))(xs), want, "BatchInterpreter"),
            ("vmap(jit)", lambda: ft.vmap(ft.jit(f))(xs), want, "_Staging"),
            ("grad(jit)", lambda: ft.grad(ft.jit(f))(x), 6.0 * X, "_Staging"),
            ("jit(grad)", lambda: ft.jit(ft.grad(f))(x), 6.0 * X, "JVPInterpreter")]:
        kinds.clear()
        out = run()
        assert backend.is_own(out), (name, type(out))
        np.testing.assert_allclose(backend.to_numpy(out), expect, rtol=1e-14, err_msg=name)
        assert kinds == [kind], (name, kinds)


def test_jit_of_grad_making_constants_is_cached():
    # regression: a constant of grad's forward mode was recorded in the staged graph as the
    # tracer holding it, which made jit treat the graph as one call's only (never cached)
    traces = []

    def f(x):
        traces.append(1)
        return fnp.sum(x * fnp.ones(3) + fnp.arange(3.0))
    jg = ft.jit(ft.grad(f))
    for _ in range(3):
        np.testing.assert_allclose(jg(X), [1.0] * 3)
    assert len(traces) == 1 and jg.cache_size() == 1


def test_make_jaxpr_and_make_graph_keep_plain_constants():
    def f(x):
        c = fnp.arange(3.0)
        assert type(c) is ConstTracer and compat.array_namespace(x, c) is fnp
        return x * c + fnp.sum(fnp.ones(3)), c   # (the sum of constants is folded)
    closed = ft.make_jaxpr(f)(X)
    assert closed.consts and not any(isinstance(c, Tracer) for c in closed.consts)
    assert "ConstTracer" not in str(closed)
    y, c = ft.jaxpr.eval_jaxpr(closed.jaxpr, closed.consts, X)
    np.testing.assert_allclose(y, X * [0.0, 1.0, 2.0] + 3.0)
    np.testing.assert_array_equal(c, [0.0, 1.0, 2.0])
    graph = ft.make_graph(f)(X)
    assert not any(isinstance(o, Tracer) for o in graph.outputs)
    assert not any(isinstance(a, Tracer) for _, ins, _, _ in graph.eqns for a in ins)
    np.testing.assert_allclose(graph(X)[0], X * [0.0, 1.0, 2.0] + 3.0)


def test_checkpoint_and_eval_shape_make_constants_too(backend):
    def f(x):
        c = fnp.full_like(x, 0.5)
        assert compat.array_namespace(x, c) is fnp
        return fnp.sum(c * x * x)
    x = backend.asarray(X)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(ft.checkpoint(f))(x)), X, rtol=1e-15)
    assert ft.eval_shape(f, x).shape == ()


def test_under_jit_item_assignment_of_a_staged_value_into_a_constant_says_what_to_do():
    def f(x):
        y = fnp.zeros(3)
        y[0] = x[0]
        return y

    def g(x):
        y = fnp.zeros(3)
        return y.at[0].set(x[0])             # what to write instead
    with pytest.raises(ft.errors.DerivativeDroppedError, match=r"y\.at\[idx\]\.set"):
        ft.jit(f)(X)
    np.testing.assert_allclose(ft.jit(g)(X), [X[0], 0.0, 0.0])


def test_under_jit_a_callback_of_constants_runs_at_every_call():
    # (a constant's callback was recorded in the graph while constants were plain arrays
    # under jit; held as tracers, it must still be, not run once while staging)
    seen = []

    def f(x):
        ft.debug.callback(lambda c: seen.append(np.asarray(c).tolist()), fnp.arange(2.0))
        return x * 2.0
    jf = ft.jit(f)
    for _ in range(3):
        jf(X)
    assert seen == [[0.0, 1.0]] * 3


@pytest.mark.parametrize("transform", ["jit", "grad"])
def test_lax_arguments_that_must_be_concrete_take_constants(transform):
    # (scatter_apply's repeated indices, polygamma's order and bitcast_convert_type's operand
    # refused a constant tracer as "not concrete")
    from functrans import lax
    dn = lax.ScatterDimensionNumbers((), (0,), (0,))

    def f(x):
        idx = fnp.asarray([[1], [2], [1]])
        y = lax.scatter_apply(x, idx, lambda v: v * 2.0, dn, update_shape=(3,))
        bits = lax.bitcast_convert_type(fnp.asarray([1.0]), fnp.int64)
        return (y + lax.polygamma(fnp.asarray(1.0), x)) * fnp.sum(bits > 0)
    x = np.array([1.5, 2.0, 3.0])
    want = x * [1.0, 4.0, 2.0] + [0.9348022005446793, 0.6449340668482264,
                                  0.3949340668482264]   # trigamma(x) (SciPy's polygamma)
    if transform == "jit":
        np.testing.assert_allclose(ft.jit(f)(x), want, rtol=1e-13)
    else:
        check_grads(f, (x,), order=1, modes=("fwd", "rev"))


# -- review: constants used as NumPy users use arrays -----------------------------------------


def test_numpy_functions_and_formatting_see_the_constants_values(backend):
    def f(x):
        c = fnp.full_like(x, 0.5)
        e = np.exp(c)                    # a ufunc: functrans.numpy's, still a constant
        assert type(e) is ConstTracer
        np.testing.assert_allclose(backend.to_numpy(e.primal), np.exp(np.full(3, 0.5)))
        s = np.add(c, 1.0)
        assert compat.array_namespace(x, s) is fnp
        np.testing.assert_allclose(backend.to_numpy(s.primal), [1.5] * 3)
        if not backend.name.startswith("array_api_strict"):  # (no NumPy conversion on
            buf = np.zeros(3)                                # its device1, no format spec)
            np.multiply(c, 2.0, out=buf)  # out=: NumPy's, into the user's buffer
            np.testing.assert_allclose(buf, [1.0] * 3)
            np.testing.assert_allclose(np.add.reduce(c), 1.5)
            assert np.add(c, 1.0, dtype=np.float32).dtype == np.float32  # (keywords: NumPy's)
            k = fnp.sum(x > 0.0)
            assert f"{k:d} {fnp.sum(c):.2f}" == "2 1.50"
        assert str(c) == str(c.primal) and repr(c.primal) in repr(c)
        return fnp.sum(x * c)
    x = backend.asarray(X)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(f)(x)), [0.5] * 3)


def test_dlpack_of_a_constant_exports_its_array():
    def f(x):
        c = fnp.arange(3.0)
        np.testing.assert_array_equal(np.from_dlpack(c), [0.0, 1.0, 2.0])
        return fnp.sum(x * c)
    np.testing.assert_allclose(ft.grad(f)(X), [0.0, 1.0, 2.0])


def test_integer_constants_key_dicts_by_value():
    weights = {0: 1.0, 1: 10.0, 2: 100.0}   # (np.int64 keys as before: hash by value)

    def f(x):
        return weights[fnp.argmax(x)] * fnp.sum(x)
    np.testing.assert_allclose(ft.grad(f)(X), [100.0] * 3)
    np.testing.assert_allclose(ft.jacfwd(f)(X), [100.0] * 3)


def test_constants_are_fixed_values_for_static_and_nondiff_arguments():
    times = ft.jit(lambda y, k: y * k, static_argnums=1)

    def f(x):
        return fnp.sum(times(x, fnp.sum(x > 0.0)))   # k: 2 (was: 'a value being transformed')
    np.testing.assert_allclose(ft.grad(f)(X), [2.0] * 3)

    @functools.partial(ft.custom_jvp, nondiff_argnums=(1,))
    def scale(x, k):
        return x * k

    @scale.defjvp
    def scale_jvp(k, primals, tangents):
        return scale(primals[0], k), tangents[0] * k
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(scale(x, fnp.asarray(3.0))))(X),
                               [3.0] * 3)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(scale(x, fnp.argmax(x))))(X),
                               [2.0] * 3)
    with pytest.raises(TypeError, match="hashable"):  # an array is still no static value
        ft.grad(lambda x: fnp.sum(times(x, fnp.ones(3))))(X)


def test_rules_and_reverse_modes_graph_get_the_constants_arrays():
    # (unwrapped once by forward mode, not at every level below: also the speed of
    # where(x > 0, x, 0.1 * x) chains under grad)
    from functrans.reverse import linearize_flat

    def f(xs):
        x, = xs
        return [fnp.sum(fnp.where(x > 0.0, x, 0.1 * x) * fnp.ones(3))]
    _, graph = linearize_flat(f, [X])
    held = [type(a) for eqn in graph.eqns for a in eqn[1]]
    assert ConstTracer not in held, held


def test_a_value_of_an_enclosing_transform_written_into_an_inner_constant():
    def outer(x):
        def inner(y):
            z = fnp.zeros(3)
            z[0] = x[0]      # the outer grad's tracer: z becomes it (it outlives z)
            z[2] = 3.0
            return fnp.sum(z * y * y)
        return fnp.sum(ft.grad(inner)(x))
    # sum(2 z y) at y = x: 2 x0^2 + 6 x2, so [4 x0, 0, 6] (as JAX with .at[].set)
    for transform in (ft.grad, ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(transform(outer)(X), [4 * X[0], 0.0, 6.0], rtol=1e-15)


def test_every_creation_function_makes_constants(backend):
    # (not only zeros/arange...: logspace, the index helpers, windows, fftfreq, NumPy's random
    # numbers; tuples of arrays element by element)
    def f(x):
        # (no device: inside a transform, the library and device of the values transformed)
        made = {"logspace": fnp.logspace(0.0, 1.0, 3), "geomspace": fnp.geomspace(1.0, 4.0, 3),
                "indices": fnp.indices((3,))[0], "tril_indices": fnp.tril_indices(3)[0],
                "hanning": fnp.hanning(3), "fftfreq": fnp.fft.fftfreq(3),
                "fromfunction": fnp.fromfunction(lambda i: i, (3,), dtype=x.dtype)}
        for name, c in made.items():
            assert type(c) is ConstTracer, name
            assert compat.array_namespace(x, c) is fnp, name
        s = sum(fnp.sum(c * x) for c in made.values() if c.shape == (3,))
        return s, made
    x = backend.asarray(X)
    g, made = ft.grad(f, has_aux=True)(x)
    want = sum(backend.to_numpy(c) for c in made.values() if c.shape == (3,))
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-15)
    for c in made.values():
        assert backend.is_own(c)


def test_numpy_random_numbers_are_constants_and_shuffle_works_on_them():
    import functrans.numpy.random as npr
    data = np.arange(5.0)

    def f(x):
        npr.seed(3)
        noise = npr.randn(3)
        assert type(noise) is ConstTracer
        order = fnp.asarray(data)
        npr.shuffle(order)          # in place on the constant (was: TypeError), as NumPy
        return fnp.sum(x * noise) + fnp.sum(x * order[:3]), (noise, order)
    g, (noise, order) = ft.grad(f, has_aux=True)(X)
    np.random.seed(3)
    want_noise = np.random.randn(3)
    want_order = np.arange(5.0)
    np.random.shuffle(want_order)
    np.testing.assert_array_equal(noise, want_noise)
    np.testing.assert_array_equal(order, want_order)
    np.testing.assert_allclose(g, want_noise + want_order[:3], rtol=1e-15)
    np.testing.assert_array_equal(data, np.arange(5.0))  # the user's array: not shuffled


def test_functrans_random_samples_are_constants(backend):
    import inspect
    key = backend.asarray(np.asarray(ft.random.PRNGKey(0)), dtype="uint32")  # (its library)

    def f(x):
        noise = ft.random.normal(key, x.shape, dtype=x.dtype)
        assert type(noise) is ConstTracer
        assert compat.array_namespace(x, noise) is fnp   # (was: Multiple namespaces)
        return fnp.sum(x * noise), noise
    x = backend.asarray(X)
    g, noise = ft.grad(f, has_aux=True)(x)
    want = ft.random.normal(key, (3,), dtype=x.dtype)       # the same numbers outside
    np.testing.assert_array_equal(backend.to_numpy(g), backend.to_numpy(want))
    np.testing.assert_array_equal(backend.to_numpy(noise), backend.to_numpy(want))
    assert "shape" in inspect.signature(ft.random.normal).parameters


def test_copies_of_a_constant_never_share_the_users_array():
    import copy
    data = np.array([1.0, 2.0, 3.0])

    def f(x):
        c = fnp.asarray(data)          # (holds the user's array itself)
        b = np.array(c)                # a copy, as np.array promises
        b[0] = 99.0
        d = copy.deepcopy({"c": c})["c"]
        assert type(d) is ConstTracer and not np.shares_memory(np.asarray(d), data)
        return fnp.sum(x * c) + fnp.sum(x * d)
    np.testing.assert_allclose(ft.grad(f)(X), 2 * data)
    np.testing.assert_array_equal(data, [1.0, 2.0, 3.0])  # (was [99, 2, 3])


def test_a_constant_compared_with_none_is_false():
    def f(x):
        c = fnp.zeros(3)
        assert (c == None) is False and (c != None) is True  # noqa: E711 (was AttributeError)
        assert bool(fnp.all(c == 0.0))
        return fnp.sum(x * (c + 1.0))
    np.testing.assert_allclose(ft.grad(f)(X), [1.0] * 3)


@pytest.mark.parametrize("transform", ["grad", "jit", "vmap"])
def test_item_and_tolist_of_a_constant_on_every_library(backend, transform):
    # (array-api-strict's arrays have neither method: the constant converts through NumPy)
    seen = []

    def f(x):
        c = fnp.asarray([1.0, 2.0], device=x.device)
        assert type(c) is ConstTracer
        seen.append((c[0].item(), c.tolist(), fnp.argmax(c).item()))
        return fnp.sum(x * c[1].item())
    x = backend.asarray([1.0, 3.0])
    if transform == "vmap":
        out = ft.vmap(f)(fnp.stack([x, x]))
    else:
        out = getattr(ft, transform)(f)(x)
    assert backend.is_own(out)
    assert seen[0] == (1.0, [1.0, 2.0], 1)
    assert type(seen[0][0]) is float and type(seen[0][2]) is int
