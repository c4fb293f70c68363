"""Every misuse raises its own error class with a message that says what to do."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import errors


def test_all_errors_derive_from_functrans_error():
    for name in dir(errors):
        obj = getattr(errors, name)
        if (isinstance(obj, type) and issubclass(obj, Exception)
                and not issubclass(obj, Warning) and obj is not errors.FunctransError):
            assert issubclass(obj, errors.FunctransError), name
    # Warnings are warnings (filtered with the warnings module), each documented too.
    assert issubclass(errors.RestagingWarning, UserWarning)


def test_leaked_tracer_used_after_its_transform_returned():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * x
    ft.grad(f)(1.0)
    with pytest.raises(errors.UnexpectedTracerError, match="after the transform that created it"):
        fnp.sin(leaked[0])
    with pytest.raises(errors.UnexpectedTracerError, match="return the values you need"):
        leaked[0] + 1.0


def test_leaked_tracer_inside_another_transform():
    leaked = []
    ft.jvp(lambda x: leaked.append(x) or x, (1.0,), (1.0,))
    with pytest.raises(errors.UnexpectedTracerError):
        ft.grad(lambda y: y * leaked[0])(2.0)


def test_concrete_value_needed_from_abstract_tracer():
    with pytest.raises(errors.ConcretizationError, match=r"float\(\) needs a concrete value"):
        ft.make_graph(lambda x: float(x))(1.0)
    with pytest.raises(errors.ConcretizationError, match="where"):
        ft.make_graph(lambda x: x if x > 0 else -x)(1.0)


def test_converting_a_tracer_to_a_numpy_array():
    with pytest.raises(errors.TracerArrayConversionError, match="functrans.numpy"):
        ft.grad(lambda x: np.asarray(x).sum())(np.ones(3))
    with pytest.raises((errors.TracerArrayConversionError, TypeError)):
        ft.grad(lambda x: np.sin(x))(1.0)


def test_concrete_conversions_work_in_eager_transforms():
    seen = []

    def f(x):
        if x > 2.0 and bool(x < 4.0):       # control flow on a concrete value is fine
            seen.append(int(x))
        seen.append(float(ft.stop_gradient(x)))  # an explicit, intended drop
        return x * 2.0
    assert float(ft.grad(f)(3.0)) == 2.0
    assert seen == [3, 3.0]


def test_float_of_a_differentiated_value_is_refused():
    with pytest.raises(errors.DerivativeDroppedError, match="drop its derivative"):
        ft.grad(lambda x: float(x) * x)(3.0)

    def write_into_numpy(x):
        y = np.zeros(3)
        y[0] = x  # NumPy calls float(x): the derivative would be lost
        return fnp.sum(y)
    # NumPy re-raises it as a ValueError whose cause is ours: loud, with the advice attached.
    for transform in (lambda: ft.grad(write_into_numpy)(1.0),
                      lambda: ft.jvp(write_into_numpy, (1.0,), (1.0,))):
        with pytest.raises((errors.DerivativeDroppedError, ValueError)) as info:
            transform()
        err = info.value
        assert isinstance(err, errors.DerivativeDroppedError) or \
            isinstance(err.__cause__, errors.DerivativeDroppedError)


def test_writing_a_tracer_into_an_array_functrans_made_points_to_at():
    def f(x):
        y = fnp.zeros(3)
        y[0] = x[0]  # a NumPy array (with .at) cannot hold the tracer
        return fnp.sum(y)
    for transform in (ft.vmap, ft.jit):
        with pytest.raises(errors.DerivativeDroppedError, match=r"y = y\.at\[idx\]\.set"):
            transform(f)(np.ones(3) if transform is not ft.vmap else np.ones((2, 3)))
    # under forward mode (grad, jvp...) the zeros are a constant tracer (ConstTracer), which
    # item assignment of a traced value turns into that tracer, as it would in NumPy
    np.testing.assert_array_equal(ft.grad(f)(np.ones(3)), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ft.jvp(f, (np.ones(3),), (np.arange(3.0) + 2,))[1], 2.0)
    y = fnp.zeros(3)
    y[[0, 2]] = [5.0, 6.0]  # plain values: written as NumPy writes them
    np.testing.assert_array_equal(y, [5.0, 0.0, 6.0])


def test_grad_of_non_scalar_output_names_the_shape_and_suggests_jacrev():
    with pytest.raises(errors.NonScalarOutputError, match=r"shape \(3,\).*jacrev"):
        ft.grad(lambda x: x * 2.0)(np.ones(3))


def test_grad_of_integer_output():
    with pytest.raises(errors.NonScalarOutputError, match="int64"):
        ft.grad(lambda x: fnp.sum(fnp.astype(x, fnp.int64)))(np.ones(3))


def test_integer_input_to_grad():
    with pytest.raises(errors.IntegerInputError, match=r"dtype int64.*1\.0, not 1"):
        ft.grad(lambda x: x * x)(3)
    with pytest.raises(errors.IntegerInputError, match="argnums"):
        ft.grad(lambda x, y: x * y, argnums=1)(2.0, np.arange(3))


def test_jvp_tangent_tree_mismatch():
    with pytest.raises(errors.TangentMismatchError, match="tree structure"):
        ft.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(errors.TangentMismatchError, match="tree structure"):
        ft.jvp(lambda p: p["a"], ({"a": 1.0},), ({"b": 1.0},))


def test_jvp_tangent_shape_mismatch():
    with pytest.raises(errors.TangentMismatchError, match=r"shape \(2,\).*shape \(3,\)"):
        ft.jvp(fnp.sin, (np.ones(3),), (np.ones(2),))


def test_jvp_tangent_dtype_mismatch():
    with pytest.raises(errors.TangentMismatchError, match="float32.*float64"):
        ft.jvp(fnp.sin, (np.ones(3),), (np.ones(3, dtype=np.float32),))


def test_jvp_primals_must_be_a_tuple():
    with pytest.raises(TypeError, match=r"write \(x,\) and \(t,\)"):
        ft.jvp(fnp.sin, np.ones(3), np.ones(3))


def test_vjp_cotangent_mismatch():
    _, vjp_fun = ft.vjp(lambda x: (x, x), np.ones(2))
    with pytest.raises(errors.TangentMismatchError, match="tree structure"):
        vjp_fun(np.ones(2))
    with pytest.raises(errors.TangentMismatchError, match="shape"):
        vjp_fun((np.ones(2), np.ones(3)))


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        ft.grad(lambda x: x, argnums=2)(1.0)


def test_unknown_value_type():
    with pytest.raises(errors.UnsupportedBackendError, match="belong to no functrans backend"):
        ft.grad(lambda x: x)("not an array")


def test_mixing_backends_is_an_error():
    xs = pytest.importorskip("array_api_strict")
    with pytest.raises(errors.BackendMismatchError, match="numpy.*array_api_strict"):
        fnp.add(np.ones(2), xs.ones(2))
    with pytest.raises(errors.BackendMismatchError):
        ft.grad(lambda x: fnp.sum(x * np.ones(2)))(xs.ones(2))


def test_assigning_an_inner_tracer_into_an_outer_one():
    # x[0] = y works (functionally) unless the result belongs to an inner transform only.
    def f(x):
        def g(y):
            x[0] = y
            return y
        ft.grad(g)(1.0)
        return fnp.sum(x)
    with pytest.raises(TypeError, match="nested inside.*functrans.numpy.where"):
        ft.grad(f)(np.ones(2))


def test_missing_namespace_function_names_it():
    # Python's own message, which names it (functrans.numpy has no module __getattr__: with
    # one, CPython never specializes ``fnp.sin`` look-ups; see functrans/numpy/__init__.py)
    with pytest.raises(AttributeError, match="has no attribute 'frobnicate'"):
        fnp.frobnicate
