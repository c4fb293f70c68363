"""perf36: the transforms' fixed per-call cost (grad's arguments taken without a tree per call
where each is one leaf, zero cotangents made by the primitive, Python-scalar (co)tangents by the
backend's asarray, vjp's leaf names made only for a message, the identity permutation by one
look-up, the staging's and the evaluator's operand loops) gives what the generic paths give."""

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backends.numpy_backend import AtArray
from functrans.errors import (ArgnumsError, BackendMismatchError, IntegerInputError,
                              TangentMismatchError)

_X = np.asarray(0.5)


# -- grad's arguments ------------------------------------------------------------------------


def _f3(x, y, z, scale=1.0):
    return fnp.sin(x) * y + z * z * scale


@pytest.mark.parametrize("argnums", [0, 1, 2, -1, -3, (0,), (2, 0), (0, 1, 2), (-1, 1)])
def test_argnums_of_leaf_arguments(argnums):
    x, y, z = np.asarray(0.3), np.asarray(-1.2), np.asarray(2.0)
    full = (np.cos(0.3) * -1.2, np.sin(0.3), 2 * 2.0 * 0.5)
    g = ft.grad(_f3, argnums=argnums)(x, y, z, scale=0.5)
    if isinstance(argnums, int):
        assert type(g) is np.ndarray and g.shape == ()
        np.testing.assert_allclose(g, full[argnums], rtol=1e-15)
    else:
        assert type(g) is tuple and len(g) == len(argnums)
        for gi, i in zip(g, argnums):
            assert type(gi) is np.ndarray
            np.testing.assert_allclose(gi, full[i], rtol=1e-15)


def test_argnums_with_trees_and_leaves_beside():
    # a dict among the differentiated arguments: the generic path, the same values
    p = {"w": np.array([1.0, 2.0]), "b": np.asarray(0.5)}
    f = lambda p, x: fnp.sum(p["w"] * x) + p["b"] * x[0]  # noqa: E731
    x = np.array([3.0, -1.0])
    gp, gx = ft.grad(f, argnums=(0, 1))(p, x)
    np.testing.assert_array_equal(gp["w"], x)
    np.testing.assert_array_equal(gp["b"], 3.0)
    np.testing.assert_array_equal(gx, [1.5, 2.0])
    gx2 = ft.grad(f, argnums=1)(p, x)
    np.testing.assert_array_equal(gx2, gx)
    # one-leaf tuples and None beside: not the leaves' own tuple
    g = ft.grad(lambda t, n: fnp.sin(t[0]) * 2.0, argnums=0)((_X,), None)
    assert type(g) is tuple and len(g) == 1
    np.testing.assert_allclose(g[0], 2 * np.cos(0.5), rtol=1e-15)


def test_argnums_out_of_range_still_refused():
    g = ft.grad(lambda x, y: x * y, argnums=2)
    with pytest.raises(ArgnumsError, match="out of range"):
        g(_X, _X)
    with pytest.raises(ArgnumsError, match="out of range"):
        ft.grad(lambda x: x * x, argnums=1)(_X)
    with pytest.raises(ArgnumsError, match="out of range"):
        ft.grad(lambda x: x * x, argnums=-2)(_X)


def test_keyword_arguments_and_python_scalars():
    g = ft.grad(lambda x, *, k: x * k)
    np.testing.assert_array_equal(g(2.0, k=3.0), 3.0)
    v, d = ft.value_and_grad(lambda x, y: x * y, argnums=1)(2.0, 5.0)
    assert type(v) is np.ndarray and type(d) is np.ndarray
    assert float(v) == 10.0 and float(d) == 2.0
    with pytest.raises(IntegerInputError):
        ft.grad(lambda x: x * 1.0)(3)


def test_nested_grads_of_leaf_arguments():
    # d^k/dx^k tanh at 0.5 against the closed forms (s = 1 - t^2)
    t = np.tanh(0.5)
    s = 1 - t * t
    want = [s, -2 * t * s, -2 * s * (1 - 3 * t * t), 8 * t * s * (2 - 3 * t * t)]
    f = fnp.tanh
    for k in range(4):
        f = ft.grad(f)
        np.testing.assert_allclose(f(_X), want[k], rtol=1e-13)
    # grad of a two-argument function nested in both arguments
    h = ft.grad(ft.grad(lambda x, y: fnp.sin(x * y), argnums=1), argnums=0)
    x, y = 0.7, -0.4
    np.testing.assert_allclose(h(x, y), np.cos(x * y) - x * y * np.sin(x * y), rtol=1e-14)


def test_has_aux_and_holomorphic_unchanged():
    g, aux = ft.grad(lambda x: (x * x, {"v": x}), has_aux=True)(_X)
    assert float(g) == 1.0 and float(aux["v"]) == 0.5
    z = np.asarray(1.0 + 2.0j)
    np.testing.assert_allclose(ft.grad(lambda z: z * z, holomorphic=True)(z), 2 * z)
    from functrans.errors import ComplexDerivativeError
    with pytest.raises(ComplexDerivativeError, match="holomorphic=True"):
        ft.grad(lambda x: x * 1j)(_X)
    with pytest.raises(ComplexDerivativeError, match="complex inputs and outputs"):
        ft.grad(lambda x: x * x, holomorphic=True)(_X)


# -- zero cotangents -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_zero_gradients(backend, dtype):
    x = backend.asarray([1.0, 2.0], dtype)
    y = backend.asarray(3.0, dtype)
    gx, gy = ft.grad(lambda x, y: fnp.sum(x * 2.0), argnums=(0, 1))(x, y)
    assert backend.is_own(gy) and type(gy) is not AtArray
    assert backend.to_numpy(gy).dtype == np.dtype(dtype) and backend.to_numpy(gy).shape == ()
    np.testing.assert_array_equal(backend.to_numpy(gy), 0.0)
    np.testing.assert_array_equal(backend.to_numpy(gx), [2.0, 2.0])
    _, pull = ft.vjp(lambda x, y: x * 2.0, x, y)
    cx, cy = pull(backend.asarray([1.0, 1.0], dtype))
    assert backend.is_own(cy)
    np.testing.assert_array_equal(backend.to_numpy(cy), 0.0)
    if backend.name == "numpy":  # a result the caller may write into
        gy[...] = 1.0
        cy[...] = 1.0


def test_zero_gradients_of_integer_inputs_and_in_jacobians():
    g = ft.grad(lambda x, n: x * 2.0, argnums=(0, 1), allow_int=True)(_X, np.asarray(3))
    assert g[1].dtype == np.int64 and int(g[1]) == 0 and type(g[1]) is np.ndarray
    # jacrev's rows under vmap: an input the output does not depend on
    J = ft.jacrev(lambda x, y: fnp.sin(x), argnums=(0, 1))(np.array([0.1, 0.2]), np.ones(3))
    np.testing.assert_array_equal(J[1], np.zeros((2, 3)))
    np.testing.assert_allclose(J[0], np.diag(np.cos([0.1, 0.2])), rtol=1e-15)
    # the VJP of a VJP whose result does not depend on the input (autograd's suite)
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)

    def first(a):
        return ft.vjp(lambda a: fnp.dot(a, b), a)[1](np.ones((2, 4)))[0]
    _, pull = ft.vjp(first, a)
    (c,) = pull(a)
    assert type(c) is np.ndarray and c.shape == a.shape and not c.any()


def test_zero_gradient_under_outer_transforms():
    # a zero cotangent of a traced input: functrans.numpy's zeros (the generic path)
    f = lambda x: ft.grad(lambda u, v: u * 3.0, argnums=(0, 1))(x, x * x)[1]  # noqa: E731
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(f(x)))(_X), 0.0)
    np.testing.assert_array_equal(ft.vmap(f)(np.array([1.0, 2.0])), [0.0, 0.0])
    np.testing.assert_array_equal(ft.jit(f)(_X), 0.0)


# -- vjp's cotangent checks ------------------------------------------------------------------


def test_vjp_cotangent_errors_still_name_the_leaf():
    _, pull = ft.vjp(lambda x: {"a": x * 2.0, "b": x}, np.array([1.0, 2.0]))
    with pytest.raises(TangentMismatchError, match=r"cotangent 1 \(cotangent\['b'\]\)"):
        pull({"a": np.ones(2), "b": np.ones(3)})
    with pytest.raises(TangentMismatchError, match=r"cotangent 0 .*float32"):
        pull({"a": np.ones(2, np.float32), "b": np.ones(2)})
    with pytest.raises(TangentMismatchError, match="Python int"):
        ft.vjp(lambda x: x * 2.0, 1.5)[1](1)


def test_vjp_integer_outputs():
    out, pull = ft.vjp(lambda x: (x * 2.0, fnp.argmax(x)), np.array([1.0, 3.0]))
    assert out[1].dtype == np.int64
    ct_int = np.zeros((), ft.dtypes.float0) if hasattr(ft.dtypes, "float0") else 0
    (g,) = pull((np.ones(2), ct_int))
    np.testing.assert_array_equal(g, [2.0, 2.0])
    (g,) = pull((np.ones(2), np.asarray(0)))
    np.testing.assert_array_equal(g, [2.0, 2.0])
    with pytest.raises(TangentMismatchError, match="shape"):
        pull((np.ones(2), np.zeros(3, np.int64)))


def test_vjp_cotangent_against_a_traced_output():
    # inside an outer transform the output is a tracer: the cotangent is checked the slow way
    def inner(x):
        _, pull = ft.vjp(lambda u: fnp.sin(u) * x, x)
        return pull(np.asarray(2.0))[0]
    np.testing.assert_allclose(ft.grad(inner)(_X), 2 * (np.cos(0.5) - 0.5 * np.sin(0.5)),
                               rtol=1e-14)
    with pytest.raises(TangentMismatchError, match="shape"):
        ft.grad(lambda x: ft.vjp(fnp.sin, x)[1](np.ones(2))[0])(_X)


# -- Python-scalar (co)tangents --------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_python_scalar_tangents_take_the_primals_library(backend, dtype):
    x = backend.asarray(0.5, dtype)
    y, t = ft.jvp(fnp.sin, (x,), (1.0,))
    assert backend.is_own(t) and backend.is_own(y)
    assert backend.to_numpy(t).dtype == np.dtype(dtype)
    np.testing.assert_allclose(backend.to_numpy(t), np.cos(np.float32(0.5) if dtype == "float32"
                                                          else 0.5), rtol=1e-6)
    _, pull = ft.vjp(fnp.sin, x)
    (c,) = pull(2.0)
    assert backend.is_own(c) and backend.to_numpy(c).dtype == np.dtype(dtype)
    # a constant output comes back in the inputs' library
    out, tan = ft.jvp(lambda x: 3.0, (x,), (1.0,))
    assert backend.is_own(out) and float(backend.to_numpy(out)) == 3.0


def test_python_scalar_tangent_of_complex_primal():
    z = np.asarray(1.0 + 1.0j)
    y, t = ft.jvp(lambda z: z * z, (z,), (1.0 + 0.0j,))
    assert t.dtype == np.complex128
    np.testing.assert_allclose(t, 2 * z)


# -- permutations ------------------------------------------------------------------------------


def test_identity_permutations_are_no_operations():
    from functrans.primitives.structural import transpose
    x = np.arange(6.0).reshape(2, 3)
    assert transpose(x, (0, 1)) is x
    assert transpose(x, [0, 1]) is x
    assert transpose(x, np.array([0, 1])) is x
    np.testing.assert_array_equal(transpose(x, (1, 0)), x.T)
    y = np.zeros((1,) * 34)
    assert transpose(y, range(34)) is y
    assert transpose(y, tuple(range(33, -1, -1))).shape == (1,) * 34
    g = ft.make_graph(lambda x: fnp.permute_dims(x, (0, 1)) * 2.0)(x)
    assert "transpose" not in str(g)
    np.testing.assert_array_equal(ft.jacrev(lambda x: fnp.permute_dims(x, (1, 0)))(x).shape,
                                  (3, 2, 2, 3))


# -- operand loops ---------------------------------------------------------------------------


def test_mul_add_staged_with_constants_and_outer_tracers():
    from functrans.primitives.elementwise import mul_add_p
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])

    def f(x):
        c = fnp.ones(2)  # a constant made inside (a ConstTracer under jit)
        return mul_add_p.bind(x, b, a, c, x)
    want = np.array([1.0, 2.0]) * b + a + np.array([1.0, 2.0])
    np.testing.assert_array_equal(ft.jit(f)(np.array([1.0, 2.0])), want)
    g = ft.make_graph(f)(np.array([1.0, 2.0]))
    assert "mul_add" in str(g)
    # nothing of the staging's among the operands: forwarded, evaluated
    np.testing.assert_array_equal(ft.jit(lambda x: mul_add_p.bind(a, b, a, b) + x)(a),
                                  a * b + a * b + a)
    # and its derivatives, staged for reverse mode under an outer grad
    h = ft.grad(lambda x: fnp.sum(mul_add_p.bind(x, x, a, x)))
    np.testing.assert_allclose(ft.grad(lambda s: fnp.sum(h(s * b)))(2.0), 2 * fnp.sum(b))


def test_mixed_libraries_among_many_operands_still_refused():
    torch = pytest.importorskip("torch")
    from functrans.primitives.elementwise import mul_add_p
    a = np.array([1.0, 2.0])
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    with pytest.raises(BackendMismatchError, match="two backends"):
        mul_add_p.bind(a, a, t, a)
    with pytest.raises(BackendMismatchError, match="two backends"):
        mul_add_p.bind(a, a, a, t, 1.0)
    np.testing.assert_array_equal(mul_add_p.bind(a, a, np.float64(2.0), a, 1.0),
                                  a * a + 2.0 * a + 1.0)


def test_no_import_statement_per_call():
    # (an import statement inside a function runs importlib's Python at every call)
    import dis
    op = dis.opmap["IMPORT_NAME"]
    x3 = np.array([0.3, -0.2, 0.7])
    calls = [lambda: ft.grad(ft.grad(fnp.tanh))(_X),
             lambda: ft.vjp(fnp.sin, _X)[1](1.0),
             lambda: ft.jvp(fnp.sin, (_X,), (1.0,)),
             lambda: ft.jacfwd(lambda x: fnp.sin(x) * x[0])(x3),
             lambda: ft.jacrev(lambda x: fnp.sin(x) * x[0])(x3),
             lambda: ft.vmap(lambda x: fnp.sin(x) * 2.0)(x3)]
    for call in calls:
        call()
        seen = []

        def trace(frame, event, arg):
            if event == "call":
                frame.f_trace_opcodes = True
                return trace
            if event == "opcode" and frame.f_code.co_code[frame.f_lasti] == op and \
                    frame.f_globals.get("__name__", "").startswith("functrans"):
                seen.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
            return trace
        old = sys.gettrace()
        sys.settrace(trace)
        try:
            call()
        finally:
            sys.settrace(old)
        assert not seen, seen
