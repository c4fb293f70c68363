"""jax.jit's ahead-of-time API: ``jit(f).lower(*args)`` stages ``f`` for those arguments;
``.as_text()`` prints the staged graph; ``.compile()`` gives a callable that runs it for
arguments of those shapes, dtypes and devices (static arguments left out, as in JAX), and
refuses others with a TypeError naming the difference; what functrans has no equivalent
for raises NotImplementedError.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def f(x, y):
    return 2.0 * x + fnp.sin(y)


def test_lower_compile_call(backend):
    x = backend.asarray([1.0, 2.0, 3.0])
    y = backend.asarray([0.5, 0.0, -1.0])
    lowered = ft.jit(f).lower(x, y)
    compiled = lowered.compile()
    out = compiled(x, y)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), backend.to_numpy(f(x, y)))
    # other values of the same signature: the same graph
    x2 = backend.asarray([4.0, 5.0, 6.0])
    np.testing.assert_allclose(backend.to_numpy(compiled(x2, y)), backend.to_numpy(f(x2, y)))
    assert compiled(x, y) is not compiled(x, y)
    text = lowered.as_text()
    assert "sin" in text and "mul" in text and "add" in text and "f64[3]" in text
    assert compiled.as_text() == text
    assert lowered.out_info.shape == (3,) and lowered.out_info.dtype == fnp.float64


def test_compiled_refuses_other_signatures(backend):
    x = backend.asarray([1.0, 2.0, 3.0])
    compiled = ft.jit(f).lower(x, x).compile()
    with pytest.raises(TypeError, match=r"shape \(3,\).*shape \(4,\)"):
        compiled(x, backend.asarray([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(TypeError, match="float32"):
        compiled(x, backend.asarray([1.0, 2.0, 3.0], dtype="float32"))
    with pytest.raises(TypeError, match="structure"):
        compiled(x)
    with pytest.raises(TypeError, match="Python float"):
        compiled(x, 2.0)
    with pytest.raises(TypeError, match="inside transforms"):
        ft.grad(lambda v: fnp.sum(compiled(v, x)))(x)


def test_static_arguments_are_fixed_when_lowering(backend):
    x = backend.asarray([1.0, 2.0])
    g = ft.jit(lambda n, v: v * n, static_argnums=0)
    compiled = g.lower(3, x).compile()
    np.testing.assert_allclose(backend.to_numpy(compiled(x)), [3.0, 6.0])
    with pytest.raises(TypeError, match="static arguments are left out"):
        compiled(3, x)
    h = ft.jit(lambda v, *, scale: v * scale, static_argnames="scale")
    np.testing.assert_allclose(backend.to_numpy(h.lower(x, scale=4.0).compile()(x)), [4.0, 8.0])


def test_lower_shape_dtype_structs_and_pytrees():
    spec = ft.ShapeDtypeStruct((2, 3), fnp.float32)
    compiled = ft.jit(lambda d: {"s": fnp.sum(d["a"], axis=0), "n": "tag"}).lower(
        {"a": spec}).compile()
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    out = compiled({"a": a})
    np.testing.assert_allclose(out["s"], a.sum(axis=0))
    assert out["n"] == "tag"
    assert compiled.out_info["s"].shape == (3,) and compiled.out_info["s"].dtype == fnp.float32
    with pytest.raises(TypeError, match="float64"):
        compiled({"a": a.astype(np.float64)})


def test_lower_of_a_grad_matches():
    x = np.array([0.3, 1.2])
    g = ft.jit(ft.grad(lambda v: fnp.sum(fnp.sin(v) ** 2)))
    c = g.lower(x).compile()
    np.testing.assert_allclose(c(x), np.sin(2 * x), rtol=1e-14)
    assert "cos" in g.lower(x).as_text()


def test_unsupported_parts_say_so():
    x = np.ones(2)
    lowered = ft.jit(f).lower(x, x)
    compiled = lowered.compile()
    for call in (lowered.compiler_ir, lowered.cost_analysis, compiled.cost_analysis,
                 compiled.memory_analysis, compiled.runtime_executable,
                 lambda: lowered.as_text(dialect="stablehlo"),
                 lambda: lowered.compile({"xla_opt": 1})):
        with pytest.raises(NotImplementedError):
            call()
    with pytest.raises(TypeError, match="lower"):
        ft.grad(lambda v: fnp.sum(ft.jit(f).lower(v, v).compile()(x, x)))(x)


def test_trace_gives_the_jaxpr_and_lowers(backend):
    from functrans.jaxpr import eval_jaxpr
    w = backend.asarray([1.0, 2.0, 3.0])
    x = backend.asarray([0.5, -1.0, 2.0])
    g = ft.jit(lambda v: fnp.sum(fnp.sin(v) * w))  # (the tracer first: array-api-strict)
    traced = g.trace(x)
    closed = traced.jaxpr
    assert [e.primitive.name for e in closed.eqns][:1] == ["sin"]
    assert len(closed.jaxpr.invars) == 1 and len(closed.consts) == 1  # w: a constant
    (out,) = eval_jaxpr(closed.jaxpr, closed.consts, x)
    np.testing.assert_allclose(float(backend.to_numpy(out)), float(backend.to_numpy(g(x))))
    assert traced.out_info.shape == ()
    np.testing.assert_allclose(backend.to_numpy(traced.lower().compile()(x)),
                               backend.to_numpy(g(x)))
