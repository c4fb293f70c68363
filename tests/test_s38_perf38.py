"""perf38: the fixed cost of each vjp/grad level (arguments that are a tuple of leaves passed
as they are, the transform's name made only for a message, traced cotangents and outputs
checked without _check_like's frames, backward's symbolic zeros without a pass, linearize's
interpreter pushed inline, get_aval and linearize's Graph without __init__'s frames) gives
what the generic paths give: the dot-product identity, closed forms, JAX, and the errors."""

import os
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import core
from functrans.core import ShapedArray, get_aval
from functrans.errors import TangentMismatchError, UnsupportedBackendError
from functrans.reverse import backward, linearize_flat

# (the float paths' frames as in a process that has not used NumPy's bfloat16: conftest)
pytestmark = pytest.mark.usefixtures("numpy_without_bfloat16")

_RNG = np.random.default_rng(38)
# autograd's second-order VJP benchmarks (benchmarks.peer_suites): op, shapes of a, b and the
# first cotangent g, and the extra arguments
_CASES = {
    "dot": (((2, 3, 4, 5), (2, 3, 5, 4), (2, 3, 4, 2, 3, 4)), ()),
    "tensordot": (((2, 3, 5, 4), (5, 4, 2, 3), (2, 3, 2, 3)), (2,)),
}


def _data(op):
    shapes, extra = _CASES[op]
    return [_RNG.standard_normal(s) for s in shapes], extra


def _first(ns, vjp, op, extra, argnum):
    f = getattr(ns, op)

    def first(a, b, g):
        if argnum == 0:
            _, pull = vjp(lambda a: f(a, b, *extra), a)
        else:
            _, pull = vjp(lambda b: f(a, b, *extra), b)
        out = pull(g)
        return out[0] if isinstance(out, tuple) else out
    return first


def _second(first, args, second, ct):
    def h(v):
        args2 = list(args)
        args2[second] = v
        return first(*args2)
    _, pull = ft.vjp(h, args[second])
    return h, pull(ct)[0]


@pytest.mark.parametrize("op", ["dot", "tensordot"])
@pytest.mark.parametrize("argnum", [0, 1])
@pytest.mark.parametrize("second", [0, 1, 2])
def test_vjp_of_vjp_dot_product_identity(op, argnum, second):
    # first(a, b, g) is linear in g and in the operand not differentiated, and constant in
    # the one differentiated: the second vjp is the transpose of a linear map, or zero
    (a, b, g), extra = _data(op)
    first = _first(fnp, ft.vjp, op, extra, argnum)
    args = [a, b, g]
    ct = (a, b)[argnum]
    h, got = _second(first, args, second, ct)
    assert type(got) is np.ndarray and got.shape == args[second].shape
    assert got.dtype == np.float64
    if second == argnum:
        np.testing.assert_array_equal(got, 0.0)
        assert got.flags.writeable and not np.shares_memory(got, args[second])
        return
    v = _RNG.standard_normal(args[second].shape)
    lhs = np.vdot(ct, h(v))
    np.testing.assert_allclose(np.vdot(got, v), lhs, rtol=1e-12)
    # and h(v) itself is the closed form: the transpose of the product's linear map at g
    u = _RNG.standard_normal(first(a, b, g).shape)
    if second == 2:  # <u, first(a, b, g)> = <g, J u> with J the product in its argnum
        other = b if argnum == 0 else a
        jv = getattr(np, op)(u, other, *extra) if argnum == 0 else getattr(np, op)(
            other, u, *extra)
        np.testing.assert_allclose(np.vdot(u, h(g)), np.vdot(g, jv), rtol=1e-12)


@pytest.mark.parametrize("op", ["dot", "tensordot"])
def test_vjp_of_vjp_against_jax(op):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    (a, b, g), extra = _data(op)
    for argnum in (0, 1):
        for second in (0, 1, 2):
            first = _first(fnp, ft.vjp, op, extra, argnum)
            jfirst = _first(jax.numpy, jax.vjp, op, extra, argnum)
            args = [a, b, g]
            ct = (a, b)[argnum]
            _, got = _second(first, args, second, ct)

            def jh(v):
                args2 = list(args)
                args2[second] = v
                return jfirst(*args2)
            want = jax.vjp(jh, args[second])[1](ct)[0]
            np.testing.assert_allclose(got, np.asarray(want), rtol=1e-13, atol=1e-13)


def test_vjp_of_vjp_against_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    (a, b, g), extra = _data("dot")

    def ag_vjp(f, x):
        pull, out = autograd.make_vjp(f)(x)
        return out, pull
    for argnum, second in ((1, 0), (1, 2), (0, 1), (0, 2)):
        first = _first(fnp, ft.vjp, "dot", extra, argnum)
        afirst = _first(anp, ag_vjp, "dot", extra, argnum)
        args = [a, b, g]
        ct = (a, b)[argnum]
        _, got = _second(first, args, second, ct)

        def ah(v):
            args2 = list(args)
            args2[second] = v
            return afirst(*args2)
        want = ag_vjp(ah, args[second])[1](ct)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


# -- symbolic zeros --------------------------------------------------------------------------


def test_zero_cotangents_of_a_function_constant_in_its_input(backend):
    # vjp of a vjp that does not depend on the outer input: zeros of the input's library,
    # shape and dtype, writable and unshared (no backward pass runs)
    a = backend.asarray(_RNG.standard_normal((3, 4)))
    b = backend.asarray(_RNG.standard_normal((4, 2)))
    g = backend.asarray(_RNG.standard_normal((3, 2)))

    def h(v):
        return ft.vjp(lambda u: fnp.matmul(u, b), v)[1](g)[0]
    out, pull = ft.vjp(h, a)
    np.testing.assert_allclose(backend.to_numpy(out), backend.to_numpy(g)
                               @ backend.to_numpy(b).T, rtol=1e-14)
    (z,) = pull(out)
    assert backend.is_own(z) and tuple(z.shape) == (3, 4)
    np.testing.assert_array_equal(backend.to_numpy(z), 0.0)
    # grad of a constant: the seed reaches no input
    x = backend.asarray(_RNG.standard_normal(3))
    z = ft.grad(lambda x: fnp.sum(b) * 2.0)(x)
    assert backend.is_own(z)
    np.testing.assert_array_equal(backend.to_numpy(z), 0.0)


def test_backward_without_a_live_output_returns_symbolic_zeros():
    x = np.array([0.3, -1.2])
    # an equation is recorded (sin's tangent) but no output depends on it
    outs, graph = linearize_flat(lambda xs: [(fnp.sin(xs[0]), np.asarray(2.0))[1]], [x])
    assert graph.eqns and graph.outputs == [None]
    assert backward(graph, [np.asarray(1.0)]) == [None]
    assert graph.eqns  # not consumed
    assert backward(graph, [np.asarray(1.0)], consume=True) == [None]
    assert graph.eqns == []
    # a live output whose cotangent is a symbolic zero: the same
    outs, graph = linearize_flat(lambda xs: [fnp.sin(xs[0])], [x])
    assert backward(graph, [None]) == [None]
    (c,) = backward(graph, [np.ones(2)])
    np.testing.assert_array_equal(c, np.cos(x))


# -- vjp's cotangents beside traced outputs ---------------------------------------------------


def test_traced_cotangent_beside_an_array_output():
    # the inner vjp's output is a plain array, its cotangent the outer transform's tracer
    a = _RNG.standard_normal((3, 4))
    b = _RNG.standard_normal((4,))

    def inner_pull(g):
        return ft.vjp(lambda u: fnp.matmul(a, u), b)[1](g)[0]
    g = _RNG.standard_normal(3)
    out, pull = ft.vjp(inner_pull, g)
    np.testing.assert_allclose(out, a.T @ g, rtol=1e-14)
    u = _RNG.standard_normal(4)
    np.testing.assert_allclose(pull(u)[0], a @ u, rtol=1e-14)
    # a traced cotangent of another shape or dtype is refused, as an array one is
    with pytest.raises(TangentMismatchError, match="shape"):
        ft.vjp(inner_pull, np.ones(4))
    with pytest.raises(TangentMismatchError, match="float32"):
        ft.vjp(inner_pull, np.ones(3, np.float32))
    with pytest.raises(TangentMismatchError, match="shape"):
        ft.grad(lambda s: fnp.sum(inner_pull(np.ones(5) * s)))(1.0)


def test_array_cotangent_beside_a_traced_output():
    b = _RNG.standard_normal((4, 2))

    def f(x):
        _, pull = ft.vjp(lambda u: fnp.matmul(u, b), x)
        return pull(np.ones((3, 2)))[0]
    x = _RNG.standard_normal((3, 4))
    np.testing.assert_allclose(f(x), np.ones((3, 2)) @ b.T, rtol=1e-14)
    # under jvp, vmap, jit the output is a tracer of each kind: the same values
    np.testing.assert_allclose(ft.jvp(f, (x,), (x,))[0], f(x), rtol=1e-15)
    np.testing.assert_allclose(ft.jit(f)(x), f(x), rtol=1e-15)
    np.testing.assert_allclose(ft.vmap(f)(np.stack([x, x])), np.stack([f(x), f(x)]),
                               rtol=1e-15)

    def wrong(ct):
        return lambda x: ft.vjp(lambda u: fnp.matmul(u, b), x)[1](ct)[0]
    with pytest.raises(TangentMismatchError, match="shape"):
        ft.jvp(wrong(np.ones((3, 3))), (x,), (x,))
    with pytest.raises(TangentMismatchError, match="float32"):
        ft.jvp(wrong(np.ones((3, 2), np.float32)), (x,), (x,))
    with pytest.raises(TangentMismatchError, match="Python int"):
        ft.jvp(lambda x: ft.vjp(fnp.sin, x)[1](1)[0], (np.asarray(0.5),), (np.asarray(1.0),))


def test_traced_cotangent_of_another_library_still_refused():
    torch = pytest.importorskip("torch")
    # a torch cotangent for a NumPy output (the output a plain array, the cotangent traced
    # only where an outer transform's value: here plain) keeps its clear error
    _, pull = ft.vjp(lambda u: u * 2.0, np.ones(2))
    with pytest.raises(Exception, match="torch"):
        pull(torch.ones(2, dtype=torch.float64))


# -- vjp's arguments and messages -------------------------------------------------------------


def test_vjp_tuple_of_leaves_and_trees_alike():
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    f = lambda x, y: fnp.sin(x) * y  # noqa: E731
    out, pull = ft.vjp(f, x, y)
    gx, gy = pull(np.ones(2))
    np.testing.assert_array_equal(gx, np.cos(x) * y)
    np.testing.assert_array_equal(gy, np.sin(x))
    out2, pull2 = ft.vjp(lambda t: f(t["x"], t["y"]), {"x": x, "y": y})
    (g,) = pull2(np.ones(2))
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(g["x"], gx)
    np.testing.assert_array_equal(g["y"], gy)
    # a tracer and a Python scalar among the leaves (the scalar joins the tracer's library)
    h = lambda s: ft.vjp(lambda u, c: u * c, s, 3.0)[1](np.asarray(1.0))  # noqa: E731
    gu, gc = h(np.asarray(2.0))
    assert gu == 3.0 and gc == 2.0
    np.testing.assert_allclose(ft.grad(lambda s: h(s)[1])(np.asarray(2.0)), 1.0)


def test_vjp_messages_still_name_the_function():
    def my_function(x):
        return x * 2.0
    with pytest.raises(TypeError, match="vjp of my_function with has_aux=True"):
        ft.vjp(my_function, np.ones(2), has_aux=True)

    def returns_text(x):
        return "text"
    with pytest.raises(TypeError, match="vjp of returns_text: output leaf 0 is a str"):
        ft.vjp(returns_text, np.ones(2))


# -- get_aval and the interpreter stack -------------------------------------------------------


def test_get_aval_of_arrays_is_the_backends(backend):
    for dtype in ("float64", "float32", "int64", "bool"):
        x = backend.asarray(np.zeros((2, 3)), dtype)
        a = get_aval(x)
        assert type(a) is ShapedArray and a.shape == (2, 3) and not a.weak_type
        assert a.dtype is backend.backend.dtype(x)
        assert a == ShapedArray((2, 3), backend.backend.dtype(x))


def test_get_aval_of_unsupported_numpy_dtypes_still_refused():
    with pytest.raises(UnsupportedBackendError, match="dtype"):
        get_aval(np.array(["a", "b"]))
    big = np.array([1.0, 2.0], dtype=">f8")  # not the native byte order
    try:
        want = get_aval(big.astype(big.dtype.newbyteorder("=")))
        want_dtype = ft.backends.backend_of(big).dtype(big)
    except UnsupportedBackendError:
        with pytest.raises(UnsupportedBackendError):
            get_aval(big)
    else:
        assert get_aval(big).dtype is want_dtype and want.shape == (2,)


def test_interpreter_stack_restored_after_an_error_in_linearize():
    def fails(x):
        y = fnp.sin(x)
        raise ValueError("inside")
        return y
    before = core.current_interpreter()
    pushed = len(core.PUSHED)
    for transform in (ft.grad, lambda f: (lambda x: ft.vjp(f, x))):
        with pytest.raises(ValueError, match="inside"):
            transform(fails)(np.asarray(0.5))
        assert core.current_interpreter() is before and len(core.PUSHED) == pushed
    # nested: the inner level's error leaves the outer level's interpreter current there
    seen = []

    def outer(x):
        with pytest.raises(ValueError):
            ft.grad(fails)(x)
        seen.append(core.current_interpreter())
        return fnp.sin(x)
    np.testing.assert_allclose(ft.grad(outer)(np.asarray(0.5)), np.cos(0.5))
    assert seen[0] is not before and core.current_interpreter() is before


def test_graph_of_linearize_has_every_attribute():
    x = np.array([0.5, 1.5])
    _, graph = linearize_flat(lambda xs: [fnp.sin(xs[0]) * xs[0]], [x])
    assert graph.in_tree is None and graph.out_tree is None and graph.input_names is None
    assert len(graph.in_vars) == 1 and len(graph.outputs) == 1
    assert "mul" in str(graph)  # (printable: format_graph reads every attribute)


# -- fixed cost, counted ----------------------------------------------------------------------


def _functrans_calls(fn):
    """The Python calls of functrans's own functions during ``fn()``."""
    pkg = os.path.dirname(ft.__file__)
    n = 0

    def profile(frame, event, arg):
        nonlocal n
        if event == "call" and frame.f_code.co_filename.startswith(pkg):
            n += 1
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return n


def test_frames_per_level():
    # grad of tanh: 39 calls of functrans's functions before perf38, vjp of vjp of a dot
    # product (b then g) 149, one with a zero second derivative 136; after perf38 27, 111,
    # 95; after perf39 (the transposed contraction one operation, its result not copied)
    # 27, 90, 93
    x = np.asarray(0.5)
    g1 = ft.grad(fnp.tanh)
    (a, b, g), _ = _data("dot")

    def bg():
        first = lambda b, g: ft.vjp(lambda b: fnp.dot(a, b), b)[1](g)[0]  # noqa: E731
        return ft.vjp(lambda v: first(b, v), g)[1](b)[0]

    def aa():
        first = lambda a: ft.vjp(lambda a: fnp.dot(a, b), a)[1](g)[0]  # noqa: E731
        return ft.vjp(first, a)[1](a)[0]
    for f in (lambda: g1(x), bg, aa):
        f()
    assert _functrans_calls(lambda: g1(x)) <= 28
    assert _functrans_calls(bg) <= 94
    assert _functrans_calls(aa) <= 96
