"""The API cases of JAX's tests/api_test.py, restated for an eager library and run side by side.

Each case below is written once against a namespace (``api`` is ``functrans`` or ``jax``, ``xnp``
is ``functrans.numpy`` or ``jax.numpy``), run through both with JAX 0.10.2 in x64 mode, and the
results compared leaf by leaf and container by container (a list must stay a list, a named
tuple its own type, None where None was). The cases follow the topics of JAX's api_test.py:
grad/value_and_grad/jvp/vjp/linearize/linear_transpose/jacfwd/jacrev/hessian/eval_shape/jit
with argnums, has_aux, holomorphic, allow_int, pytrees of every kind, kwargs, partials,
methods, closures over tracers, stop_gradient, custom pytree nodes, jnp.where's nan-gradient
trap, checkpoint and custom_jvp basics. Cases where both should refuse the input are in
ERROR_CASES; bad input already probed in test_review_s17.py is not repeated. Differences kept
on purpose are pinned at the end of the file (derivatives at kinks, integer zeros for JAX's
float0, jit's static Python numbers and Python-valued results, device_put of strings).

Fixed on the way: fnp.ones/zeros/empty given a traced size under jit gave NumPy's "expected a
sequence of integers, got 'StagingTracer'" (now a ConcretizationError saying what to do), and
linear_transpose's function reported a wrong cotangent as "vjp: ..." (now names itself).
"""

from __future__ import annotations

import collections
import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

LIBS = {"functrans": (ft, fnp), "jax": (jax, jnp)}

Point = collections.namedtuple("Point", ["x", "y"])


class Pair:
    """A user class registered as a pytree node with both libraries."""

    def __init__(self, a, b):
        self.a, self.b = a, b


def _pair_flatten(p):
    return (p.a, p.b), None


def _pair_unflatten(_, children):
    return Pair(*children)


ft.tree_util.register_pytree_node(Pair, _pair_flatten, _pair_unflatten)
jax.tree_util.register_pytree_node(Pair, _pair_flatten, _pair_unflatten)


def _normal(tree):
    """A comparable form: containers by kind, leaves as NumPy arrays."""
    if tree is None:
        return ("None",)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return (type(tree).__name__, tuple(_normal(t) for t in tree))
    if isinstance(tree, (list, tuple)):
        return (type(tree).__name__, tuple(_normal(t) for t in tree))
    if isinstance(tree, dict):
        return (type(tree).__name__, tuple((k, _normal(tree[k])) for k in sorted(tree)))
    if isinstance(tree, Pair):
        return ("Pair", (_normal(tree.a), _normal(tree.b)))
    if type(tree).__name__ in ("ShapeDtypeStruct", "ShapedArray"):  # eval_shape's results
        return (f"SDS{tuple(tree.shape)}:{np.dtype(tree.dtype).name}",)
    return np.asarray(tree)


def _assert_same(got, want, path="out"):
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{path}: functrans gave {got!r}, JAX an array"
        assert got.shape == want.shape, f"{path}: shape {got.shape} vs JAX {want.shape}"
        if want.dtype == jax.dtypes.float0:
            assert got.dtype == ft.float0, f"{path}: dtype {got.dtype} vs JAX float0"
            return
        assert got.dtype == want.dtype, f"{path}: dtype {got.dtype} vs JAX {want.dtype}"
        single = want.dtype in (np.float32, np.complex64)
        np.testing.assert_allclose(got, want, rtol=1e-6 if single else 1e-10,
                                   atol=1e-7 if single else 1e-12, equal_nan=True, err_msg=path)
        return
    assert not isinstance(got, np.ndarray), f"{path}: functrans gave an array, JAX {want[0]}"
    assert got[0] == want[0], f"{path}: container {got[0]} vs JAX {want[0]}"
    assert len(got) == len(want), f"{path}: {got} vs JAX {want}"
    if len(want) > 1:
        assert len(got[1]) == len(want[1]), f"{path}: {len(got[1])} vs JAX {len(want[1])} items"
        for i, (g, w) in enumerate(zip(got[1], want[1])):
            if isinstance(w, tuple) and len(w) == 2 and isinstance(w[0], str) and \
                    want[0] not in ("tuple", "list", "Point", "Pair"):
                assert g[0] == w[0], f"{path}: key {g[0]!r} vs JAX {w[0]!r}"
                _assert_same(g[1], w[1], f"{path}[{w[0]!r}]")
            else:
                _assert_same(g, w, f"{path}[{i}]")


x3 = np.array([0.3, -1.2, 2.0])
A = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
z = np.array(1.5 + 0.5j)


def _sin_sum(api, xnp):
    return lambda x: xnp.sum(xnp.sin(x) * x)


class _Model:
    def __init__(self, xnp, w):
        self.xnp, self.w = xnp, w

    def loss(self, x):
        return self.xnp.sum(self.w * x ** 2)


def _custom_jvp_sin(api, xnp):
    @api.custom_jvp
    def f(x):
        return xnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 3.0 * xnp.cos(x) * t
    return f


def _custom_jvp_branch(api, xnp):
    @api.custom_jvp
    def f(x):
        return xnp.sin(x) if x > 0 else xnp.cos(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), (2.0 if x > 0 else 3.0) * t
    return f


def _custom_vjp_clip(api, xnp):
    @api.custom_vjp
    def f(x):
        return x * 2.0

    def fwd(x):
        return f(x), x

    def bwd(x, g):
        return (xnp.clip(g, -0.5, 0.5) * x,)
    f.defvjp(fwd, bwd)
    return f


def _trace_count(api, xnp):
    calls = []

    @api.jit
    def f(x):
        calls.append(1)
        return x * 2.0
    f(np.ones(3))
    f(np.ones(3) + 1.0)
    f(np.ones(4))
    return np.array(len(calls))


def _static_trace_count(api, xnp):
    calls = []

    @functools.partial(api.jit, static_argnums=1)
    def f(x, n):
        calls.append(n)
        return x * n
    outs = [f(np.ones(2), 2), f(np.ones(2), 2), f(np.ones(2), 3)]
    return outs, np.array(len(calls))


def _nested_closure(api, xnp):
    # d/dx [ d/dy (x*y) at y=1 ] = 1: the inner grad must not see x's perturbation.
    return api.grad(lambda x: api.grad(lambda y: x * y)(1.5))(2.0)


def _perturbation_jvp(api, xnp):
    def f(x):
        g = lambda y: x * y
        return api.jvp(g, (1.0,), (1.0,))[1]
    return api.jvp(f, (2.0,), (1.0,))


def _double_where(api, xnp):
    def safe_sqrt(x):
        pos = x > 0
        return xnp.where(pos, xnp.sqrt(xnp.where(pos, x, 1.0)), 0.0)
    return api.grad(lambda x: xnp.sum(safe_sqrt(x)))(np.array([0.0, 4.0]))


def _where_trap(api, xnp):
    return api.grad(lambda x: xnp.sum(xnp.where(x > 0, xnp.sqrt(x), 0.0)))(np.array([0.0, 4.0]))


def _where_log_trap(api, xnp):
    return api.grad(lambda x: xnp.sum(xnp.where(x > 0, xnp.log(x), x)))(np.array([0.0, 2.0, -1.0]))


def _remat_grad(api, xnp):
    f = api.checkpoint(lambda x: xnp.sin(xnp.sin(x)) * x)
    return api.grad(lambda x: xnp.sum(f(x)))(x3), api.grad(api.grad(lambda x: f(x)))(0.7)


def _remat_static(api, xnp):
    f = api.checkpoint(lambda x, n: xnp.sin(x) ** n, static_argnums=(1,))
    return api.grad(lambda x: f(x, 3))(0.4)


def _jit_pytree_io(api, xnp):
    f = api.jit(lambda d: {"s": d["a"] + d["b"][0], "l": [d["b"][1], None],
                           "p": Point(1.0, d["a"])})
    return f({"a": x3, "b": (x3, np.ones(3))})


def _jit_kwargs(api, xnp):
    f = api.jit(lambda x, y=2.0, *, scale: (x + y) * scale)
    return f(x3, scale=3.0), f(x3, y=np.ones(3), scale=0.5)


def _jit_static_names(api, xnp):
    f = api.jit(lambda x, mode: xnp.sin(x) if mode == "sin" else xnp.cos(x),
                static_argnames="mode")
    return f(x3, mode="sin"), f(x3, mode="cos")


def _jit_closure(api, xnp):
    c = np.array([1.0, 2.0, 3.0])
    f = api.jit(lambda x: x * c)
    return f(x3), api.grad(lambda x: xnp.sum(f(x)))(x3)


def _jit_none_arg(api, xnp):
    return api.jit(lambda x, y: x if y is None else x + y)(x3, None)


def _jit_returns_none(api, xnp):
    return api.jit(lambda x: (x, None))(x3)


def _linear_transpose(api, xnp):
    f = lambda x: (A @ x, 2.0 * x[0])
    t = api.linear_transpose(f, x3)
    return t((np.array([1.0, -1.0]), 3.0))


def _linear_transpose_tree(api, xnp):
    f = lambda d: {"u": d["a"] * 2.0 - d["b"], "v": d["b"][::-1]}
    t = api.linear_transpose(f, {"a": x3, "b": x3})
    return t({"u": np.ones(3), "v": np.array([1.0, 2.0, 3.0])})


def _linearize(api, xnp):
    y, f_jvp = api.linearize(lambda x: xnp.sin(x) * x, x3)
    return y, f_jvp(np.ones(3)), f_jvp(x3)


def _linearize_tree(api, xnp):
    y, f_jvp = api.linearize(lambda d, s: {"o": d["w"] * s, "p": [s ** 2]},
                             {"w": x3}, 0.5)
    return y, f_jvp({"w": np.ones(3)}, 2.0)


def _vjp_tree(api, xnp):
    y, pb = api.vjp(lambda a, b: {"p": a * b, "q": (xnp.sin(a),)}, x3, 2.0)
    return y, pb({"p": np.ones(3), "q": (x3,)})


def _vjp_aux(api, xnp):
    y, pb, aux = api.vjp(lambda a: (a ** 2, {"n": xnp.sum(a)}), x3, has_aux=True)
    return y, pb(np.ones(3)), aux


def _eval_shape(api, xnp):
    f = lambda x, y: {"m": x @ y, "s": [xnp.sum(x, axis=0)]}
    return api.eval_shape(f, np.ones((2, 3)), api.ShapeDtypeStruct((3, 4), np.float32))


def _eval_shape_kw(api, xnp):
    return api.eval_shape(lambda x, *, k: x[:, None] * k, np.ones(6), k=np.ones(2))


def _device_put(api, xnp):
    y = api.device_put(x3)
    return y, api.grad(lambda x: xnp.sum(api.device_put(x) ** 2))(x3)


def _device_put_tree(api, xnp):
    return api.device_put({"a": x3, "b": [np.int32(3), None]})


def _stop_gradient_tree(api, xnp):
    def f(d):
        s = api.lax.stop_gradient(d)
        return xnp.sum(d["a"] * s["a"]) + d["b"] * s["b"]
    return api.grad(f)({"a": x3, "b": 2.0})


def _custom_node(api, xnp):
    def f(p):
        return xnp.sum(p.a * xnp.sin(p.b))
    p = Pair(x3, np.array([1.0, 2.0, 3.0]))
    return (api.grad(f)(p), api.jit(lambda p: Pair(p.b, p.a))(p),
            api.vmap(lambda p: p.a * p.b)(p), api.jacfwd(lambda p: p.a * p.b)(p))


def _namedtuple(api, xnp):
    f = lambda p: p.x * xnp.cos(p.y)
    p = Point(0.5, 1.25)
    return api.grad(f)(p), api.jvp(lambda p: Point(p.y, p.x), (p,), (Point(1.0, 2.0),))


def _none_leaf(api, xnp):
    return api.grad(lambda d: d["a"] ** 3)({"a": 2.0, "b": None, "c": [None]})


def _ordered_dict(api, xnp):
    od = collections.OrderedDict([("z", 1.0), ("a", 2.0)])
    return api.grad(lambda d: d["z"] * d["a"] ** 2)(od)


def _list_input(api, xnp):
    return api.grad(lambda l: l[0] * l[1] + l[2])([1.0, 2.0, 3.0])


def _tuple_vs_list(api, xnp):
    return (api.grad(lambda t: t[0] * t[1])((2.0, 3.0)),
            api.grad(lambda t: t[0] * t[1])([2.0, 3.0]))


def _empty_tree(api, xnp):
    return api.grad(lambda x, e: x ** 2)(3.0, {}), api.grad(lambda x, e: x ** 2, argnums=1)(3.0, ())


CASES = {
    # grad and value_and_grad
    "grad_scalar": lambda api, xnp: api.grad(lambda x: xnp.sin(x) * x ** 2)(0.7),
    "grad_vector": lambda api, xnp: api.grad(_sin_sum(api, xnp))(x3),
    "grad_argnums_int": lambda api, xnp: api.grad(lambda a, b: a * b ** 2, argnums=1)(2.0, 3.0),
    "grad_argnums_tuple": lambda api, xnp: api.grad(lambda a, b, c: a * b * c,
                                                    argnums=(0, 2))(2.0, 3.0, 4.0),
    "grad_argnums_one_tuple": lambda api, xnp: api.grad(lambda a, b: a * b, argnums=(1,))(2.0, 3.0),
    "grad_negative_argnum": lambda api, xnp: (
        api.grad(lambda a, b: a * b ** 3, argnums=-1)(2.0, 3.0)),
    "value_and_grad": lambda api, xnp: api.value_and_grad(_sin_sum(api, xnp))(x3),
    "value_and_grad_argnums": lambda api, xnp: api.value_and_grad(
        lambda a, b: xnp.sum(a * b), argnums=(0, 1))(x3, 2.0),
    "grad_has_aux": lambda api, xnp: api.grad(
        lambda x: (xnp.sum(x ** 2), {"m": x.mean(), "l": [x]}),
                                              has_aux=True)(x3),
    "value_and_grad_has_aux": lambda api, xnp: api.value_and_grad(
        lambda x: (x ** 3, (x, None)), has_aux=True)(2.0),
    "grad_aux_of_ints": lambda api, xnp: api.grad(lambda x: (x ** 2, 7), has_aux=True)(2.0),
    "grad_kwargs": lambda api, xnp: api.grad(lambda x, scale=1.0: scale * x ** 2)(3.0, scale=5.0),
    "grad_default_args": lambda api, xnp: api.grad(lambda x, p=3: x ** p)(2.0),
    "grad_partial": lambda api, xnp: (
        api.grad(functools.partial(lambda a, x: a * xnp.exp(x), 4.0))(0.5)),
    "grad_partial_kw": lambda api, xnp: (
        api.grad(functools.partial(lambda x, a: a * x ** 2, a=3.0))(2.0)),
    "grad_method": lambda api, xnp: api.grad(_Model(xnp, x3).loss)(np.ones(3)),
    "grad_closure": lambda api, xnp: api.grad(lambda x: xnp.sum(x * x3))(np.ones(3)),
    "grad_of_grad": lambda api, xnp: api.grad(api.grad(lambda x: x ** 4 * xnp.sin(x)))(0.9),
    "grad_third_order": lambda api, xnp: api.grad(api.grad(api.grad(xnp.tanh)))(0.3),
    "grad_holomorphic": lambda api, xnp: (
        api.grad(lambda z: z ** 2 * xnp.exp(z), holomorphic=True)(z)),
    "grad_complex_input_real_output": lambda api, xnp: api.grad(lambda z: xnp.abs(z) ** 2)(z),
    "grad_python_control_flow": lambda api, xnp: (api.grad(lambda x: x ** 2 if x > 1 else -x)(2.0),
                                                  api.grad(lambda x: x ** 2 if x > 1 else -x)(0.5)),
    "grad_int_unused_arg": lambda api, xnp: api.grad(lambda x, n: x ** n)(2.0, 3),
    "grad_nested_closure": _nested_closure,
    "jvp_perturbation_confusion": _perturbation_jvp,
    "grad_list_input": _list_input,
    "grad_tuple_vs_list": _tuple_vs_list,
    "grad_namedtuple": _namedtuple,
    "grad_none_leaf": _none_leaf,
    "grad_ordered_dict": _ordered_dict,
    "grad_empty_containers": _empty_tree,
    "grad_dict_input": lambda api, xnp: api.grad(lambda d: xnp.sum(d["w"] @ d["x"]) + d["b"])(
        {"w": A, "x": x3, "b": 0.5}),
    "grad_of_vmap": lambda api, xnp: api.grad(lambda x: xnp.sum(api.vmap(xnp.sin)(x)))(x3),
    "vmap_of_grad": lambda api, xnp: api.vmap(api.grad(lambda x: x ** 3))(x3),
    "grad_of_jit": lambda api, xnp: api.grad(api.jit(lambda x: xnp.sum(xnp.exp(x))))(x3),
    "jit_of_grad": lambda api, xnp: api.jit(api.grad(lambda x: xnp.sum(xnp.exp(x))))(x3),
    # special points and the where trap
    "grad_maximum_tie": lambda api, xnp: api.grad(lambda x: xnp.maximum(x, 1.0))(1.0),
    "grad_maximum_self": lambda api, xnp: api.grad(lambda x: xnp.maximum(x, x))(1.0),
    "grad_relu_at_zero": lambda api, xnp: api.grad(lambda x: xnp.maximum(x, 0.0))(0.0),
    "grad_sqrt_at_zero": lambda api, xnp: api.grad(xnp.sqrt)(0.0),
    "grad_norm_at_zero": lambda api, xnp: api.grad(xnp.linalg.norm)(np.zeros(3)),
    "grad_x_square_at_zero": lambda api, xnp: api.grad(lambda x: x ** 2)(0.0),
    "grad_where_sqrt_trap": _where_trap,
    "grad_where_log_trap": _where_log_trap,
    "grad_double_where": _double_where,
    "grad_where_integer_cond": lambda api, xnp: api.grad(
        lambda x: xnp.sum(xnp.where(np.array([1, 0, 2]), x, -x) ** 2))(x3),
    "grad_max_reduction_ties": lambda api, xnp: api.grad(xnp.max)(np.array([1.0, 3.0, 3.0])),
    "grad_sort": lambda api, xnp: api.grad(lambda x: xnp.sort(x)[0] * 2.0 + xnp.sort(x)[-1])(x3),
    # stop_gradient
    "stop_gradient": lambda api, xnp: api.grad(lambda x: x * api.lax.stop_gradient(x) ** 2)(3.0),
    "stop_gradient_tree": _stop_gradient_tree,
    "stop_gradient_second_order": lambda api, xnp: api.grad(api.grad(
        lambda x: x ** 2 * api.lax.stop_gradient(x)))(3.0),
    # jvp, vjp, linearize, linear_transpose
    "jvp_scalar": lambda api, xnp: api.jvp(xnp.sin, (0.5,), (2.0,)),
    "jvp_tree": lambda api, xnp: api.jvp(lambda d: {"y": d["a"] * d["b"], "z": [d["a"]]},
                                         ({"a": x3, "b": 2.0},), ({"a": np.ones(3), "b": 1.0},)),
    "jvp_tuple_output": lambda api, xnp: api.jvp(lambda x, y: (x * y, x + y), (x3, 2.0), (x3, 0.5)),
    "jvp_list_primals": lambda api, xnp: api.jvp(lambda x: x ** 2, [x3], [np.ones(3)]),
    "jvp_has_aux": lambda api, xnp: (
        api.jvp(lambda x: (x ** 2, x + 1.0), (x3,), (x3,), has_aux=True)),
    "jvp_of_grad": lambda api, xnp: api.jvp(api.grad(lambda x: xnp.sum(xnp.sin(x))), (x3,),
                                            (np.ones(3),)),
    "vjp_basic": lambda api, xnp: (lambda r: (r[0], r[1](np.array([1.0, -2.0]))))(
        api.vjp(lambda x: A @ xnp.tanh(x), x3)),
    "vjp_tree": _vjp_tree,
    "vjp_has_aux": _vjp_aux,
    "linearize": _linearize,
    "linearize_tree": _linearize_tree,
    "linear_transpose": _linear_transpose,
    "linear_transpose_tree": _linear_transpose_tree,
    # jacobians and hessians
    "jacfwd_vector": lambda api, xnp: api.jacfwd(lambda x: A @ xnp.sin(x))(x3),
    "jacrev_vector": lambda api, xnp: api.jacrev(lambda x: A @ xnp.sin(x))(x3),
    "jacfwd_scalar_in": lambda api, xnp: api.jacfwd(lambda t: xnp.stack([t, t ** 2]))(1.5),
    "jacrev_scalar_out": lambda api, xnp: api.jacrev(lambda x: xnp.sum(x ** 3))(x3),
    "jacfwd_tree": lambda api, xnp: api.jacfwd(
        lambda d: {"o": d["a"] * d["b"], "s": xnp.sum(d["a"])})(
        {"a": x3, "b": 2.0}),
    "jacrev_tree": lambda api, xnp: api.jacrev(
        lambda d: {"o": d["a"] * d["b"], "s": xnp.sum(d["a"])})(
        {"a": x3, "b": 2.0}),
    "jacrev_argnums": lambda api, xnp: api.jacrev(lambda x, y: x * y, argnums=(0, 1))(x3, 2.0),
    "jacfwd_has_aux": lambda api, xnp: api.jacfwd(lambda x: (x ** 2, x.sum()), has_aux=True)(x3),
    "jacrev_has_aux": lambda api, xnp: api.jacrev(lambda x: (x ** 2, [x]), has_aux=True)(x3),
    "jacfwd_holomorphic": lambda api, xnp: api.jacfwd(lambda z: z ** 3, holomorphic=True)(
        np.array([1.0 + 1j, 2.0 - 0.5j])),
    "jacrev_holomorphic": lambda api, xnp: api.jacrev(lambda z: z ** 3, holomorphic=True)(
        np.array([1.0 + 1j, 2.0 - 0.5j])),
    "jacrev_matrix_in": lambda api, xnp: api.jacrev(lambda m: m @ x3)(A),
    "hessian": lambda api, xnp: api.hessian(lambda x: xnp.sum(xnp.sin(x) * x ** 2))(x3),
    "hessian_argnums": lambda api, xnp: api.hessian(lambda x, y: xnp.sum(x ** 2 * y ** 3),
                                                    argnums=(0, 1))(x3, 2.0),
    "hessian_tuple_input": lambda api, xnp: api.hessian(lambda t: t[0] ** 2 * t[1])((1.0, 3.0)),
    "hessian_vector_output": lambda api, xnp: api.hessian(lambda x: x ** 3 * x[0])(x3),
    "jacfwd_of_jacrev": lambda api, xnp: api.jacfwd(api.jacrev(lambda x: xnp.prod(x)))(x3),
    # eval_shape, jit, device_put, custom pytrees, checkpoint, custom rules
    "eval_shape": _eval_shape,
    "eval_shape_kwargs": _eval_shape_kw,
    "jit_static_argnums": lambda api, xnp: api.jit(lambda x, n: x ** n, static_argnums=1)(x3, 3),
    "jit_static_argnames": _jit_static_names,
    "jit_kwargs": _jit_kwargs,
    "jit_closure": _jit_closure,
    "jit_pytree_io": _jit_pytree_io,
    "jit_none_arg": _jit_none_arg,
    "jit_returns_none": _jit_returns_none,
    "jit_trace_count": _trace_count,
    "jit_static_trace_count": _static_trace_count,
    "device_put": _device_put,
    "device_put_tree": _device_put_tree,
    "custom_pytree_node": _custom_node,
    "checkpoint_grad": _remat_grad,
    "checkpoint_static": _remat_static,
    "custom_jvp_rule": lambda api, xnp: (api.grad(_custom_jvp_sin(api, xnp))(0.4),
                                         api.jvp(_custom_jvp_sin(api, xnp), (0.4,), (2.0,))),
    "custom_jvp_python_branch": lambda api, xnp: (api.grad(_custom_jvp_branch(api, xnp))(1.0),
                                                  api.grad(_custom_jvp_branch(api, xnp))(-1.0)),
    "custom_vjp_rule": lambda api, xnp: (
        api.grad(lambda x: xnp.sum(_custom_vjp_clip(api, xnp)(x)))(x3)),
}


def _run(case, lib):
    api, xnp = LIBS[lib]
    return _normal(CASES[case](api, xnp))


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_agrees_with_jax(case):
    _assert_same(_run(case, "functrans"), _run(case, "jax"))


def _leak_from_jit(api, xnp):
    kept = []

    @api.jit
    def f(x):
        kept.append(x)
        return x * 2.0
    f(x3)
    return kept[0] + 1.0


def _leak_from(transform):
    def case(api, xnp):
        kept = []

        def f(x):
            kept.append(x)
            return x * 2.0
        getattr(api, transform)(f)(x3 if transform == "vmap" else 1.0)
        return kept[0] + 1.0
    return case


def _custom_jvp_without_rule(api, xnp):
    f = api.custom_jvp(lambda x: x ** 2)
    return api.grad(f)(2.0)


ERROR_CASES = {
    "grad_of_tuple_output": lambda api, xnp: api.grad(lambda x: (x, x))(1.0),
    "grad_of_dict_output": lambda api, xnp: api.grad(lambda x: {"a": x})(1.0),
    "value_and_grad_of_vector": lambda api, xnp: api.value_and_grad(lambda x: x * 2.0)(x3),
    "grad_of_string_input": lambda api, xnp: api.grad(lambda x: 1.0)("abc"),
    "grad_with_only_kwargs": lambda api, xnp: api.grad(lambda x: x ** 2)(x=1.0),
    "jit_python_branch_on_tracer": lambda api, xnp: (
        api.jit(lambda x: x if x > 0 else -x)(1.0 * x3[0])),
    "jit_shape_from_tracer": lambda api, xnp: (
        api.jit(lambda x, n: xnp.ones(n) * x)(1.0, x3.astype(int)[2])),
    "jit_wrong_arity": lambda api, xnp: api.jit(lambda x, y: x + y)(x3),
    "eval_shape_shape_from_tracer": lambda api, xnp: api.eval_shape(
        lambda x, *, k: xnp.reshape(x, (k, -1)), np.ones(6), k=np.int64(2)),
    "jvp_primals_not_a_container": lambda api, xnp: api.jvp(xnp.sin, x3, np.ones(3)),
    "linear_transpose_wrong_cotangent_shape": lambda api, xnp: api.linear_transpose(
        lambda x: x * 2.0, x3)(np.ones(4)),
    "leaked_tracer_from_jit": _leak_from_jit,
    "custom_jvp_without_rule": _custom_jvp_without_rule,
    "leaked_tracer_from_grad": _leak_from("grad"),
    "leaked_tracer_from_vmap": _leak_from("vmap"),
    "value_and_grad_of_tuple_output": lambda api, xnp: api.value_and_grad(lambda x: (x, x))(1.0),
    "jacrev_of_integer_input": lambda api, xnp: api.jacrev(lambda x: x * 2)(np.arange(3)),
    "grad_of_bool_input": lambda api, xnp: api.grad(lambda x: x * 2)(True),
    "vmap_without_arguments": lambda api, xnp: api.vmap(lambda: 1.0)(),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_both_refuse(case):
    with pytest.raises(Exception) as want:
        ERROR_CASES[case](jax, jnp)
    with pytest.raises(Exception) as got:
        ERROR_CASES[case](ft, fnp)
    print(f"{case}: JAX {want.typename}: {str(want.value)[:150]!r}\n"
          f"  functrans {got.typename}: {str(got.value)[:300]!r}")
    # A clear refusal names what went wrong; Python's and NumPy's bare internals do not.
    assert "expected a sequence of integers" not in str(got.value), str(got.value)
    assert got.typename not in ("AttributeError", "KeyError", "IndexError", "AssertionError",
                                "UnboundLocalError", "RecursionError"), str(got.value)


def test_a_traced_size_given_to_a_creation_function_says_it_needs_a_concrete_value():
    # Before, NumPy's own "expected a sequence of integers or a single integer, got
    # 'StagingTracer<i64[]>'" came out of fnp.ones/zeros/empty under jit.
    from functrans.errors import ConcretizationError
    for make in (fnp.ones, fnp.zeros, fnp.empty):
        with pytest.raises(ConcretizationError, match="concrete value.*static_argnums"):
            ft.jit(lambda n: make((n, 2)))(np.int64(3))
        with pytest.raises(ConcretizationError, match="concrete value"):
            ft.jit(lambda n: make(n))(np.int64(3))
    # a concrete traced size (an eager transform's) is its value
    out = ft.jvp(lambda x, n: fnp.ones(n) * x, (2.0, np.int64(3)),
                 (1.0, np.zeros((), ft.float0)))
    np.testing.assert_array_equal(out[1], np.ones(3))


f32 = np.array([0.5, -1.0, 2.0], np.float32)


class _Scaler:
    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        return x * self.k

    def apply(self, x):
        return x ** 2 * self.k


MORE_CASES = {
    "float32_grad_keeps_dtype": lambda api, xnp: api.grad(lambda x: xnp.sum(xnp.sin(x)))(f32),
    "float32_jvp_keeps_dtype": lambda api, xnp: api.jvp(lambda x: x * 2.0, (f32,), (f32,)),
    "float32_vjp_keeps_dtype": lambda api, xnp: api.vjp(xnp.exp, f32)[1](f32),
    "float32_jacrev": lambda api, xnp: api.jacrev(lambda x: x ** 2)(f32),
    "float32_hessian": lambda api, xnp: api.hessian(lambda x: xnp.sum(x ** 3))(f32),
    "hessian_has_aux": lambda api, xnp: (
        api.hessian(lambda x: (xnp.sum(x ** 3), x * 2), has_aux=True)(x3)),
    "jacfwd_argnums": lambda api, xnp: api.jacfwd(lambda x, y: x * y ** 2, argnums=1)(x3, 2.0),
    "jit_of_method": lambda api, xnp: api.jit(_Scaler(3.0).apply)(x3),
    "grad_of_callable_object": lambda api, xnp: api.grad(lambda x: xnp.sum(_Scaler(2.0)(x)))(x3),
    "jit_of_partial": lambda api, xnp: api.jit(functools.partial(lambda a, x: a * x, 2.0))(x3),
    "jit_negative_static_argnum": lambda api, xnp: (
        api.jit(lambda x, n: x * n, static_argnums=-1)(x3, 4)),
    "vmap_of_jit": lambda api, xnp: api.vmap(api.jit(lambda x: xnp.sum(x ** 2)))(A),
    "jit_of_vmap": lambda api, xnp: api.jit(api.vmap(lambda x: xnp.sum(x ** 2)))(A),
    "vmap_in_axes_none": lambda api, xnp: api.vmap(lambda x, y: x * y, in_axes=(0, None))(A, x3),
    "vmap_out_axes": lambda api, xnp: api.vmap(lambda x: x * 2.0, in_axes=1, out_axes=1)(A),
    "vmap_tree": lambda api, xnp: api.vmap(lambda d: {"s": d["a"] + d["b"]},
                                           in_axes=({"a": 0, "b": None},))(
        {"a": A, "b": x3}),
    "grad_stop_gradient_in_jit": lambda api, xnp: api.grad(api.jit(
        lambda x: xnp.sum(x * api.lax.stop_gradient(x))))(x3),
    "eval_shape_closure": lambda api, xnp: api.eval_shape(lambda x: x @ A.T, np.ones((4, 3))),
    "grad_integer_pow": lambda api, xnp: api.grad(lambda x: x ** 3)(-2.0),
    "grad_through_astype": lambda api, xnp: (
        api.grad(lambda x: xnp.sum(x.astype(np.float32) * 2.0))(x3)),
    "grad_through_indexing": lambda api, xnp: api.grad(lambda x: x[1] * x[::2].sum())(x3),
    "grad_through_reshape_transpose": lambda api, xnp: api.grad(
        lambda m: xnp.sum(m.T.reshape(-1) * xnp.arange(6.0)))(A),
    "value_and_grad_tree_aux": lambda api, xnp: api.value_and_grad(
        lambda d: (d["a"] @ d["a"], [d["a"]]), has_aux=True)({"a": x3}),
    # (ones probed next, found alike)
    "hessian_of_list_input_vector_output": lambda api, xnp: api.hessian(
        lambda x: x[0] ** 2 * x[1] * np.array([1.0, 2.0]))([1.0, 2.0]),
    "grad_where_nan_unselected": lambda api, xnp: api.grad(
        lambda x: xnp.where(x > 0, x, xnp.nan))(1.0),
    "grad_none_argument": lambda api, xnp: api.grad(lambda x: 1.0)(None),
    "static_argnums_by_name": lambda api, xnp: (
        api.jit(lambda x, n: x * n if n > 2 else x, static_argnums=1)(x3, n=3)),
    "static_argnames_positional": lambda api, xnp: (
        api.jit(lambda x, n: x * n if n > 2 else x, static_argnames="n")(x3, 3)),
    "jacrev_tuple_out": lambda api, xnp: api.jacrev(lambda x: (x[0] * x, xnp.sum(x)))(x3),
    "linearize_of_jit": lambda api, xnp: api.linearize(api.jit(lambda x: xnp.sin(x)), x3)[1](x3),
    "vjp_of_jit": lambda api, xnp: api.vjp(api.jit(lambda x, y: x * y), x3, 2.0)[1](x3),
    "checkpoint_tree_out": lambda api, xnp: (
        api.grad(lambda x: api.checkpoint(
            lambda x: {"a": x ** 2, "b": [xnp.sin(x)]})(x)["b"][0] * 3.0)(0.3)),
    "checkpoint_prevent_cse": lambda api, xnp: (
        api.grad(api.checkpoint(lambda x: x ** 3, prevent_cse=False))(0.3)),
    "nested_jit_static": lambda api, xnp: (
        api.jit(lambda x: api.jit(lambda y, k: y * k, static_argnums=1)(x, 3))(x3)),
    "custom_node_none": lambda api, xnp: api.grad(lambda p: p.a ** 2)(Pair(2.0, None)),
    "grad_argnums_with_kwargs": lambda api, xnp: (
        api.grad(lambda a, b, c=1.0: a * b * c, argnums=1)(2.0, 3.0, c=4.0)),
    "where_broadcast": lambda api, xnp: (
        api.grad(lambda x: xnp.sum(xnp.where(x > 0, x, 0.0) * x3))(np.ones((2, 3)))),
    "jit_dict_kwarg": lambda api, xnp: api.jit(lambda *, d: d["a"] * 2)(d={"a": x3}),
    "grad_of_sum_of_list": lambda api, xnp: (
        api.grad(lambda xs: sum(x ** 2 for x in xs))([1.0, 2.0])),
    "jvp_python_int_primal_output": lambda api, xnp: api.jvp(lambda x: x * 2.0, (3.0,), (1.0,)),
    "eval_shape_int": lambda api, xnp: api.eval_shape(lambda x: (x > 0).sum(), x3),
    "hessian_scalar": lambda api, xnp: api.hessian(lambda x: x ** 4)(1.5),
    "jacfwd_int_arg_allow_int": lambda api, xnp: api.jacrev(lambda x: x * 2.0)(x3),
    "vmap_namedtuple": lambda api, xnp: api.vmap(lambda p: Point(p.y, p.x * 2))(Point(x3, x3 + 1)),
    "grad_tuple_argnums_tree": lambda api, xnp: (
        api.grad(lambda a, b: a["x"] * b[0], argnums=(0, 1))({"x": 2.0}, [3.0])),
}
CASES.update(MORE_CASES)


@pytest.mark.parametrize("case", sorted(MORE_CASES))
def test_more_cases_agree_with_jax(case):
    _assert_same(_run(case, "functrans"), _run(case, "jax"))


# Deliberate differences, each in docs/coming-from-jax.md: functrans's value, then JAX's.
PINNED = {
    # kinks: abs at 0 has derivative 0 (JAX 1); clip passes the derivative at a bound (JAX
    # splits it between the tied min/max); x ** 0.0 at 0 has derivative 0 (JAX nan)
    "abs_at_zero": (lambda api, xnp: api.grad(xnp.abs)(0.0), 0.0, 1.0),
    "clip_at_bounds": (lambda api, xnp: api.grad(lambda x: xnp.sum(xnp.clip(x, -1.2, 1.0)))(
        np.array([-1.2, 1.0, 0.0])), [1.0, 1.0, 1.0], [0.5, 0.5, 1.0]),
    "pow_zero_at_zero": (lambda api, xnp: api.grad(lambda x: x ** 0.0)(0.0), 0.0, np.nan),
    # a NaN maximum: derivative 0, as JAX's maximum/cummax give (JAX's max: 0/0 = nan)
    "max_at_nan": (lambda api, xnp: api.grad(xnp.max)(np.array([1.0, np.nan])), [0.0, 0.0],
                   [np.nan, np.nan]),
}


@pytest.mark.parametrize("case", sorted(PINNED))
def test_pinned_differences_at_kinks(case):
    f, ours, theirs = PINNED[case]
    np.testing.assert_array_equal(np.asarray(f(ft, fnp)), ours)
    np.testing.assert_array_equal(np.asarray(f(jax, jnp)), theirs)


def test_gradient_of_an_integer_input_is_integer_zeros_where_jax_gives_float0():
    g = ft.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(g[0]) == 3.0
    assert np.asarray(g[1]).dtype.kind == "i" and int(g[1]) == 0
    gj = jax.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert gj[1].dtype == jax.dtypes.float0


def test_linear_transpose_names_itself_for_a_cotangent_of_the_wrong_shape():
    # It said "vjp: cotangent 0 ..." (the vjp it is built on), which the caller never called.
    from functrans.errors import TangentMismatchError
    t = ft.linear_transpose(lambda x: x * 2.0, x3)
    with pytest.raises(TangentMismatchError, match=r"^linear_transpose of <lambda>: cotangent 0 "
                                                   r".*shape \(4,\).*\(3,\)"):
        t(np.ones(4))
    with pytest.raises(TangentMismatchError, match="^linear_transpose of <lambda>: "):
        t([np.ones(3)])


def test_jvp_tangent_of_an_integer_output_is_integer_zeros_where_jax_gives_float0():
    f = lambda x: (x * 2.0, (x > 0).astype(np.int32))
    _, (_, t) = ft.jvp(f, (x3,), (x3,))
    assert np.asarray(t).dtype == np.int32 and not np.any(np.asarray(t))
    _, (_, tj) = jax.jvp(f, (x3,), (x3,))
    assert tj.dtype == jax.dtypes.float0


def test_jit_python_numbers_are_static_and_constant_results_stay_python_values():
    calls = []
    f = ft.jit(lambda x, s: (calls.append(s), x * s)[1])
    f(x3, 1.0)
    f(x3, 2.0)
    assert calls == [1.0, 2.0]  # JAX traces once, with s a weakly typed scalar
    calls_j = []
    jax.jit(lambda x, s: (calls_j.append(s), x * s)[1])(x3, 1.0)
    assert len(calls_j) == 1 and not isinstance(calls_j[0], float)
    out = ft.jit(lambda l: l[0] + l[1])([1.0, 2.0])
    assert type(out) is float and out == 3.0
    assert isinstance(jax.jit(lambda l: l[0] + l[1])([1.0, 2.0]), jax.Array)
    got = ft.jit(lambda x: (x, 2))(np.ones(1))
    assert type(got[1]) is int


def test_device_put_passes_strings_through_where_jax_refuses():
    assert ft.device_put({"a": "abc", "b": None})["a"] == "abc"
    with pytest.raises(TypeError):
        jax.device_put("abc")
