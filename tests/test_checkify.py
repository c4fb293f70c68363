"""functrans.experimental.checkify: run-time checks as values (jax.experimental.checkify).

JAX's checkify_test cases restated: user checks (eager, jit, vmap, grad, control flow), the
automatic nan/index/division checks, the error sets, formatting, get/throw/check_error. Each
is checked by its behaviour (the message, which member failed, that valid input reports
nothing, that the result is still computed); JAX side by side where it is installed (which
checks fire; user-check messages, formatted alike, compared exactly).
"""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.errors import FunctransError
from functrans.experimental import checkify as ck

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (NumPy's log(-1) etc.)


def positive_log(x):
    ck.check(x > 0, "x must be positive, got {}", x)
    return fnp.log(x)


def a(v, dtype=None):
    return fnp.asarray(v, dtype=dtype)


# -- user checks --------------------------------------------------------------------------------


def test_check_outside_checkify_raises_at_once():
    assert float(positive_log(a(np.e))) == pytest.approx(1.0)
    with pytest.raises(ck.JaxRuntimeError, match=r"x must be positive, got -1.0 \(`check` "
                                                 r"failed\)") as info:
        positive_log(a(-1.0))
    assert isinstance(info.value, ValueError) and isinstance(info.value, FunctransError)
    ck.check(True, "a Python bool that holds")
    with pytest.raises(ck.JaxRuntimeError, match="plain"):
        ck.check(False, "plain")


def test_check_staged_without_checkify_is_refused_and_debug_check_is_dropped():
    with pytest.raises(ValueError, match="not functionalized"):
        ft.jit(positive_log)(a(2.0))

    def f(x):
        ck.debug_check(x > 0, "dbg {}", x)
        return x * 2
    # not checkified: nothing, eagerly or staged
    assert float(f(a(-1.0))) == -2.0 and float(ft.jit(f)(a(-1.0))) == -2.0
    err, out = ft.jit(ck.checkify(f))(a(-1.0))
    assert err.get() == "dbg -1.0 (`check` failed)" and float(out) == -2.0


def test_check_argument_errors():
    with pytest.raises(TypeError, match="scalar boolean"):
        ck.checkify(lambda x: ck.check(x > 0, "m"))(fnp.ones(3))
    with pytest.raises(TypeError, match="scalar boolean"):
        ck.check(a(1.0), "a float is not a predicate")
    with pytest.raises(TypeError, match="pytrees of arrays"):
        ck.check(True, "{}", "a string")
    with pytest.raises(TypeError, match="errors must be a set"):
        ck.checkify(positive_log, errors="nan")


def test_get_throw_and_exception_of_checkified_function():
    checked = ck.checkify(positive_log)
    err, out = checked(a(-3.0))
    assert err.get() == "x must be positive, got -3.0 (`check` failed)"
    assert np.isnan(float(out))  # (the function ran on)
    assert isinstance(err.get_exception(), ck.FailedCheckError)
    with pytest.raises(ck.JaxRuntimeError, match="got -3.0"):
        err.throw()
    with pytest.raises(ck.JaxRuntimeError, match="got -3.0"):
        ck.check_error(err)
    err, out = checked(a(np.e))
    assert err.get() is None and err.get_exception() is None and str(err) == "Error(None)"
    err.throw()  # nothing
    assert float(out) == pytest.approx(1.0)


def test_formatting_keywords_pytrees_and_first_failure_wins():
    def f(x):
        ck.check(x < 10, "first {x} {d[a]}", x=x, d={"a": x + 1})
        ck.check(x < 5, "second {}", (x,))
        return x
    checked = ck.checkify(f)
    assert checked(a(12.0))[0].get() == "first 12.0 13.0 (`check` failed)"
    assert checked(a(7.0))[0].get() == "second (array(7.),) (`check` failed)"
    assert checked(a(1.0))[0].get() is None


def test_error_is_a_pytree_and_passes_through_jit():
    err, _ = ck.checkify(positive_log)(a(-1.0))
    leaves, tree = ft.tree.tree_flatten(err)
    assert len(leaves) == 3  # the flag, the code, the formatted argument
    again = ft.tree.tree_unflatten(tree, leaves)
    assert again.get() == err.get()
    err2, _ = ft.jit(lambda x: ck.checkify(positive_log)(x))(a(-2.0))
    assert err2.get() == "x must be positive, got -2.0 (`check` failed)"


def test_user_checks_on_every_backend(backend):
    # eager, jit, vmap: the error's arrays in the inputs' library and device
    x, bad = backend.asarray(2.0), backend.asarray(-2.0)
    xs = backend.asarray([1.0, -2.0, 3.0, -4.0])
    for run in (ck.checkify(positive_log), ft.jit(ck.checkify(positive_log))):
        err, out = run(bad)
        assert err.get() == "x must be positive, got -2.0 (`check` failed)"
        assert all(backend.is_own(v) for v in ft.tree.tree_leaves(err)) and backend.is_own(out)
        err, out = run(x)
        assert err.get() is None
        np.testing.assert_allclose(backend.to_numpy(out), np.log(2.0))
    err, out = ft.vmap(ck.checkify(positive_log))(xs)
    assert all(backend.is_own(v) for v in ft.tree.tree_leaves(err))
    assert err.get() == ("at mapped index 1: x must be positive, got -2.0 (`check` failed)\n"
                         "at mapped index 3: x must be positive, got -4.0 (`check` failed)")


# -- automatic checks ---------------------------------------------------------------------------


def test_nan_checks_name_the_primitive_that_made_the_nan():
    checked = ck.checkify(lambda x: fnp.sin(x) + fnp.log(x), errors=ck.nan_checks)
    err, out = checked(a(-1.0))
    assert err.get() == "nan generated by primitive: log." and np.isnan(float(out))
    assert isinstance(err.get_exception(), ck.NaNError)
    assert checked(a(1.0))[0].get() is None
    # 0/0 and inf - inf
    assert ck.checkify(lambda x: x / x, errors=ck.nan_checks)(a(0.0))[0].get() == \
        "nan generated by primitive: div."
    assert ck.checkify(lambda x: x - x, errors=ck.nan_checks)(a(np.inf))[0].get() == \
        "nan generated by primitive: sub."
    # not enabled: no nan check
    assert ck.checkify(lambda x: fnp.log(x))(a(-1.0))[0].get() is None


def test_nan_from_the_inputs_is_not_reported():
    # (deliberate difference: JAX blames the first of its listed primitives that meets it)
    checked = ck.checkify(lambda x: fnp.sin(x) + 1.0, errors=ck.nan_checks)
    assert checked(a(np.nan))[0].get() is None
    assert ck.checkify(lambda x: x * a([1.0, np.nan]), errors=ck.nan_checks)(
        a([1.0, 2.0]))[0].get() is None


def test_division_checks():
    xi, yi = a([1, 2]), a([1, 0])
    err, out = ck.checkify(lambda x, y: x // y, errors=ck.div_checks)(xi, yi)
    assert err.get() == "division by zero"
    assert isinstance(err.get_exception(), ck.DivisionByZeroError)
    assert out.tolist() == [1, 0]  # (NumPy's 0 where the divisor is)
    err, out = ck.checkify(lambda x, y: x / y, errors=ck.float_checks)(a([1.0, 2.0]),
                                                                      a([1.0, 0.0]))
    assert err.get() == "division by zero" and out.tolist() == [1.0, np.inf]
    # a remainder is not a division (as JAX); a nonzero divisor is fine
    assert ck.checkify(lambda x, y: x % y, errors=ck.div_checks)(xi, yi)[0].get() is None
    assert ck.checkify(lambda x, y: x // y, errors=ck.div_checks)(xi, a([1, 2]))[0].get() \
        is None
    # jitted, the divisor is a value of the graph
    err, _ = ft.jit(ck.checkify(lambda x, y: x // y, errors=ck.div_checks))(xi, yi)
    assert err.get() == "division by zero"


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_index_checks(staged):
    run = ft.jit if staged else (lambda f: f)
    x = fnp.arange(3.0)

    def checked(f):
        return run(ck.checkify(f, errors=ck.index_checks))
    err, out = checked(lambda x, i: x[i])(x, a(5))
    assert err.get() == ("out-of-bounds indexing for array of shape (3,): index 5 is out of "
                         "bounds for axis 0 with size 3 (in gather).")
    assert float(out) == 2.0  # read clamped, as JAX's
    assert isinstance(err.get_exception(), ck.OOBError)
    assert checked(lambda x, i: x[i])(x, a(-3))[0].get() is None  # (-3 is in range)
    assert "index -4 is out of bounds" in checked(lambda x, i: x[i])(x, a(-4))[0].get()
    err, _ = checked(lambda x, i: fnp.take_along_axis(x, i, axis=0))(x, a([0, 4]))
    assert "index 4 is out of bounds" in err.get()
    err, out = checked(lambda x, i: x.at[i].set(9.0))(x, a(7))
    assert "index 7 is out of bounds" in err.get() and out.tolist() == [0.0, 1.0, 2.0]
    err, out = checked(lambda x, i: lax.dynamic_slice(x, (i,), (2,)))(x, a(2))
    assert "index 2 is out of bounds" in err.get() and out.tolist() == [1.0, 2.0]
    err, out = checked(lambda x, i: x[i])(x, a(1))
    assert err.get() is None and float(out) == 1.0
    # without index_checks: eagerly NumPy's IndexError (two index arrays, which the gather
    # flattens into one, included), as without checkify; one index array staged: at run time
    x2 = fnp.reshape(fnp.arange(12.0), (3, 4))
    if not staged:
        with pytest.raises(IndexError, match="out of bounds"):
            ck.checkify(lambda x, i: x[i, a([1, 1])])(x2, a([0, 5]))
    err, out = checked(lambda x, i: x[i, a([1, 1])])(x2, a([0, 5]))
    assert "index 5 is out of bounds for axis 0 with size 3" in err.get()
    assert out.tolist() == [1.0, 9.0]
    if staged:
        with pytest.raises(IndexError, match="out of bounds"):
            ft.jit(lambda x, i: x[i])(x, a(5))


_ALL = slice(None)
_MIXED_INDEX_CASES = [  # (index, the failure: (index, axis of x, its size), clamped index)
    (([0, 5], _ALL, [1, 2]), (5, 0, 2), ([0, 1], _ALL, [1, 2])),
    (([0, 1], _ALL, [1, 7]), (7, 2, 4), ([0, 1], _ALL, [1, 3])),
    (([0, 1], _ALL, [1, -9]), (-9, 2, 4), ([0, 1], _ALL, [1, -4])),
    ((1, _ALL, [1, 4]), (4, 2, 4), (1, _ALL, [1, 3])),
    ((5, _ALL, [1, 3]), (5, 0, 2), (1, _ALL, [1, 3])),
    ((_ALL, 1, [1, 4]), (4, 2, 4), (_ALL, 1, [1, 3])),
    ((None, _ALL, [0, 3]), (3, 1, 3), (None, _ALL, [0, 2])),
    ((Ellipsis, [1, 4]), (4, 2, 4), (Ellipsis, [1, 3])),
    ((slice(1, None), [0, 4]), (4, 1, 3), (slice(1, None), [0, 2])),
    (([0, 1], None, 1, [1, 4]), (4, 2, 4), ([0, 1], None, 1, [1, 3])),
    ((_ALL, 5), (5, 1, 3), (_ALL, 2)),
]


def _key(key, asarray):
    return tuple(asarray(k) if isinstance(k, list) else k for k in key)


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_index_checks_name_the_axis_of_the_array_indexed(staged):
    # A mixed basic/advanced index is a gather of a transposed (and sliced) operand: the
    # failure is still reported in the caller's coordinates (JAX's content: its shape, the
    # index, the axis of it and its size), once, and the function reads the index clamped.
    run = ft.jit if staged else (lambda f: f)
    xn = np.arange(24.0).reshape(2, 3, 4)
    for key, (bad, axis, size), clamped in _MIXED_INDEX_CASES:
        err, out = run(ck.checkify(lambda x: x[_key(key, a)], errors=ck.index_checks))(a(xn))
        assert err.get() == (f"out-of-bounds indexing for array of shape (2, 3, 4): index "
                             f"{bad} is out of bounds for axis {axis} with size {size} (in "
                             f"gather)."), (key, err.get())
        e = err.get_exception()
        assert (e.operand_shape, e.index, e.axis, e.size) == ((2, 3, 4), bad, axis, size)
        np.testing.assert_array_equal(np.asarray(out), xn[_key(clamped, np.asarray)])


def test_index_checks_mixed_index_as_jax_reports_it():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.experimental import checkify as jck
    xn = np.arange(24.0).reshape(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, (bad, _, _), _ in _MIXED_INDEX_CASES[1::2]:  # (JAX's eager ops are slow)
            if bad < 0:
                continue  # (JAX reports a negative index counted from the end: -9 as -5)
            ours = ck.checkify(lambda x: x[_key(key, a)], errors=ck.index_checks)(
                a(xn))[0].get()
            theirs = jck.checkify(lambda x: x[_key(key, jnp.asarray)],
                                  errors=jck.index_checks)(jnp.asarray(xn))[0].get()
            assert ours.split(" (in ")[0] == theirs.strip().rstrip("."), (ours, theirs)


def test_index_checks_of_take_name_the_axis_taken_along():
    x = a(np.arange(24.0).reshape(2, 3, 4))
    err, out = ck.checkify(lambda x: fnp.take(x, a([0, 4]), axis=2),
                           errors=ck.index_checks)(x)
    assert err.get() == ("out-of-bounds indexing for array of shape (2, 3, 4): index 4 is out "
                         "of bounds for axis 2 with size 4 (in gather).")
    np.testing.assert_array_equal(np.asarray(out), np.asarray(x)[:, :, [0, 3]])
    # the same indices without index_checks: NumPy's IndexError, on the axis taken along
    # (a constant made inside the checkify included: its value is held, and checked)
    with pytest.raises(IndexError, match="take: index 4 is out of bounds for axis 2 with size 4"):
        ck.checkify(lambda x: fnp.take(x, a([0, 4]), axis=2))(x)
    with pytest.raises(IndexError, match="^index 4 is out of bounds for axis 2 with size 4$"):
        ft.jvp(lambda x: x[:, :, a([0, 4])], (x,), (x,))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 2"):
        ft.grad(lambda x: fnp.sum(x[None, 5, a([0])]))(x)  # (None counts no axis)


def _nested(inner, outer, f, *args, staged=False):
    g = ck.checkify(ck.checkify(f, errors=inner), errors=outer)
    err, (inner_err, _) = (ft.jit(g) if staged else g)(*args)
    return err.get(), inner_err.get()


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_nested_checkify_reports_as_jax(staged):
    # JAX's rule: a user check is reported by the innermost checkify only (dropped there if
    # it does not enable user checks); each checkify reports the automatic failures it
    # enables, whatever the ones inside it enable (an index clamped, or a zero divisor made
    # one, by the inner checkify is still reported by the outer)
    def f(x):
        ck.check(fnp.all(x > 0), "user: {}", x)
        return x[a([5])] + 1 / (x[0] - x[0])

    def g(x):  # take_along_axis (its own primitive) and an integer division
        ck.check(fnp.all(x > 0), "user: {}", x)
        i = a([3, 1])
        return fnp.take_along_axis(x, a([7]), axis=0) + (i // (i - i))
    x = a([-1.0, 2.0])
    user = "user: [-1.  2.] (`check` failed)"
    U, I, D, A = ck.user_checks, ck.index_checks, ck.div_checks, ck.all_checks
    for fn, oob in ((f, "index 5 is out of bounds for axis 0 with size 2 (in gather)."),
                    (g, "index 7 is out of bounds for axis 0 with size 2 (in take_along_axis).")):
        oob = "out-of-bounds indexing for array of shape (2,): " + oob
        assert _nested(I, U, fn, x, staged=staged) == (None, oob)
        assert _nested(U, I, fn, x, staged=staged) == (oob, user)
        assert _nested(A, A, fn, x, staged=staged) == (oob, user)
        assert _nested(U, U | I, fn, x, staged=staged) == (oob, user)
        assert _nested(I, I, fn, x, staged=staged) == (oob, oob)
        assert _nested(D, I, fn, x, staged=staged) == (oob, "division by zero")
    def h(x):
        ck.check(fnp.all(x > 0), "user: {}", x)
        return x
    assert _nested(U, U, h, x, staged=staged) == (None, user)
    assert _nested(U, U, h, fnp.abs(x), staged=staged) == (None, None)
    i = a([3, 1])
    for inner, outer, expected in ((D, D, ("division by zero",) * 2),
                                   (U, D, ("division by zero", None)),
                                   (D, U, (None, "division by zero"))):
        assert _nested(inner, outer, lambda i: i // (i - i), i, staged=staged) == expected
    # three deep (JAX's answers): a checkify between two that enable index checks, itself
    # without them, does not stop the outer one seeing the index the inner one clamped
    for fn in (lambda v: v[a([5])], lambda v: fnp.take_along_axis(v, a([7]), axis=0)):
        for sets, fired in (((I, U, I), [True, False, True]), ((U, U, I), [False, False, True]),
                            ((I, I, I), [True, True, True]), ((U, I, U), [False, True, False])):
            g = ck.checkify(ck.checkify(ck.checkify(fn, errors=sets[0]), errors=sets[1]),
                            errors=sets[2])
            e3, (e2, (e1, _)) = (ft.jit(g) if staged else g)(x)
            assert [e.get() is not None for e in (e1, e2, e3)] == fired, sets
    # a jit between the two
    err, (inner_err, _) = ck.checkify(ft.jit(ck.checkify(f, errors=U)), errors=I)(x)
    assert (err.get(), inner_err.get()) == (
        "out-of-bounds indexing for array of shape (2,): index 5 is out of bounds for axis 0 "
        "with size 2 (in gather).", user)


def test_error_sets():
    assert ck.all_checks - ck.user_checks == ck.automatic_checks
    assert ck.float_checks == ck.nan_checks | ck.div_checks
    assert ck.automatic_checks == ck.float_checks | ck.index_checks
    assert ck.user_checks <= ck.all_checks and not ck.user_checks & ck.automatic_checks

    def f(x, i):
        y = fnp.log(x)
        ck.check(x > 0, "negative {}", x)
        return y + fnp.arange(3.0)[i]
    x, i = a(-1.0), a(7)
    assert ck.checkify(f)(x, a(0))[0].get() == "negative -1.0 (`check` failed)"
    # the first failure in program order (JAX's order: by check kind, here the user check)
    assert ck.checkify(f, errors=ck.all_checks)(x, i)[0].get() == \
        "nan generated by primitive: log."
    assert "index 7" in ck.checkify(f, errors=ck.index_checks)(a(1.0), i)[0].get()
    # user checks left out of the set are dropped (as JAX)
    assert ck.checkify(f, errors=ck.index_checks)(x, a(0))[0].get() is None


# -- transforms -----------------------------------------------------------------------------------


def test_checkify_of_vmap_reports_the_first_failing_member():
    # (deliberate difference: JAX reports the last failing member)
    xs = a([1.0, -2.0, 3.0, -4.0])
    for run in (ck.checkify(ft.vmap(positive_log)), ft.jit(ck.checkify(ft.vmap(positive_log)))):
        err, out = run(xs)
        assert err.get() == "x must be positive, got -2.0 (`check` failed)"
        np.testing.assert_allclose(out[[0, 2]], np.log([1.0, 3.0]))
    assert ck.checkify(ft.vmap(positive_log))(a([1.0, 2.0]))[0].get() is None


def test_vmap_of_checkify_with_nan_and_index_checks():
    f = ck.checkify(lambda x, i: fnp.log(x) + fnp.arange(3.0)[i], errors=ck.automatic_checks)
    err, out = ft.vmap(f)(a([1.0, -1.0, 2.0]), a([0, 1, 3]))
    assert err.get() == (
        "at mapped index 1: nan generated by primitive: log.\n"
        "at mapped index 2: out-of-bounds indexing for array of shape (3,): index 3 is out "
        "of bounds for axis 0 with size 3 (in gather).")
    assert isinstance(err.get_exception(), ck.BatchedError)
    np.testing.assert_allclose(out[0], 0.0)
    # a batched error thrown: every failing member; checked inside checkify: the first
    with pytest.raises(ck.JaxRuntimeError, match="at mapped index 1"):
        err.throw()
    err2, _ = ck.checkify(lambda: ck.check_error(err), errors=ck.all_checks)()
    assert err2.get() == "nan generated by primitive: log."


def test_grad_and_checks():
    def f(x):
        ck.check(x > 0, "neg {}", x)
        return fnp.sin(x)
    x = a(-1.0)
    err, g = ck.checkify(ft.grad(f))(x)
    assert err.get() == "neg -1.0 (`check` failed)" and float(g) == pytest.approx(np.cos(-1))
    assert float(ft.grad(lambda x: ck.checkify(f)(x)[1])(x)) == pytest.approx(np.cos(-1))
    err, (v, g) = ck.checkify(ft.value_and_grad(f))(x)
    assert err.get() == "neg -1.0 (`check` failed)" and float(v) == pytest.approx(np.sin(-1))
    # the backward pass is checked: d/dx [sqrt(x) * 0] at 0 is 0 * inf
    err, g = ck.checkify(ft.grad(lambda x: fnp.sqrt(x) * 0.0), errors=ck.nan_checks)(a(0.0))
    assert err.get() is not None and err.get().startswith("nan generated by primitive")
    assert np.isnan(float(g))
    err, g = ft.jit(ck.checkify(ft.grad(fnp.sqrt), errors=ck.nan_checks))(a(0.0))
    assert err.get() is None and float(g) == np.inf


def test_custom_rules_keep_their_rules_under_checkify():
    @ft.custom_jvp
    def f(x):
        ck.check(x > 0, "custom {}", x)
        return fnp.log(x)
    f.defjvp(lambda p, t: (f(p[0]), t[0] * 10.0))  # (not log's derivative: the rule's)
    err, g = ck.checkify(ft.grad(f))(a(2.0))
    assert err.get() is None and float(g) == 10.0

    @ft.custom_jvp
    def h(x):
        return fnp.log(x)
    h.defjvp(lambda p, t: (h(p[0]), t[0] * 10.0))
    err, g = ft.jit(ck.checkify(ft.grad(lambda x: fnp.sqrt(x) + h(x)),
                                errors=ck.all_checks))(a(4.0))
    assert err.get() is None and float(g) == pytest.approx(10.25)
    err, v = ft.jit(ck.checkify(lambda x: fnp.sqrt(x) + h(x), errors=ck.all_checks))(a(-4.0))
    assert err.get() == "nan generated by primitive: sqrt."
    # run by checkify itself, the function is checked
    assert ck.checkify(f)(a(-1.0))[0].get() == "custom -1.0 (`check` failed)"
    assert ck.checkify(ft.grad(f))(a(-1.0))[0].get() == "custom -1.0 (`check` failed)"
    # under jit(checkify(...)) too (tests/test_gaps_s27.py has the other transforms)
    assert ft.jit(ck.checkify(f))(a(-1.0))[0].get() == "custom -1.0 (`check` failed)"


def test_checkify_of_jit_and_check_error_rechecked():
    err, out = ck.checkify(ft.jit(positive_log))(a(-3.0))
    assert err.get() == "x must be positive, got -3.0 (`check` failed)"

    def with_inner_jit(x):
        err, out = ft.jit(ck.checkify(positive_log))(x)
        ck.check_error(err)
        return out
    assert float(with_inner_jit(a(np.e))) == pytest.approx(1.0)
    with pytest.raises(ck.JaxRuntimeError, match="got -1.0"):
        with_inner_jit(a(-1.0))
    assert ck.checkify(with_inner_jit)(a(-1.0))[0].get() == \
        "x must be positive, got -1.0 (`check` failed)"


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_control_flow(staged):
    run = ft.jit if staged else (lambda f: f)

    def body(i, c):
        ck.check(c < 5, "too big at {} val {}", i, c)
        return c + 1.0
    err, out = run(ck.checkify(lambda c: lax.fori_loop(0, 10, body, c)))(a(0.0))
    # (the counter is a number eagerly, an array under jit: formatted alike)
    assert err.get() == "too big at 5 val 5.0 (`check` failed)" and float(out) == 10.0

    def cond_fun(c):
        ck.check(c < 3, "cond check {}", c)
        return c < 10
    loop = run(ck.checkify(lambda c: lax.while_loop(cond_fun, lambda c: c + 1.0, c)))
    err, out = loop(a(0.0))
    assert err.get() == "cond check 3.0 (`check` failed)" and float(out) == 10.0
    assert loop(a(-20.0))[0].get() == "cond check 3.0 (`check` failed)"
    assert loop(a(2.0 - 40.0))[1] == 10.0
    err, out = loop(a(2.5 - 40.0))  # (-37.5, ..., 1.5, 2.5, 3.5 > 3)
    assert err.get() == "cond check 3.5 (`check` failed)"
    err, out = loop(a(12.0))  # the predicate checked once: 12 fails it
    assert err.get() == "cond check 12.0 (`check` failed)" and float(out) == 12.0
    ok = run(ck.checkify(lambda c: lax.while_loop(
        lambda c: (ck.check(c < 100, "never"), c < 10)[1], lambda c: c + 1.0, c)))
    assert ok(a(0.0))[0].get() is None

    def step(c, x):
        ck.check(x > 0, "scan x {}", x)
        return c + x, c
    scanned = run(ck.checkify(lambda xs: lax.scan(step, 0.0, xs)))
    err, (c, ys) = scanned(a([1.0, 2.0, -3.0, -4.0]))
    assert err.get() == "scan x -3.0 (`check` failed)" and float(c) == -4.0
    assert scanned(a([1.0, 2.0]))[0].get() is None

    def branchy(x):
        return lax.cond(x > 0, lambda x: x,
                        lambda x: (ck.check(x > -1, "cond false {}", x), x)[1], x)
    assert run(ck.checkify(branchy))(a(-2.0))[0].get() == "cond false -2.0 (`check` failed)"
    assert run(ck.checkify(branchy))(a(2.0))[0].get() is None
    sw = run(ck.checkify(lambda i, x: lax.switch(i, [fnp.log, fnp.sin], x),
                         errors=ck.nan_checks))
    assert sw(a(0), a(-2.0))[0].get() == "nan generated by primitive: log."
    assert sw(a(1), a(-2.0))[0].get() is None  # (the branch not taken reports nothing)


def test_vmap_of_checkify_of_while_loop():
    body = lambda c: (ck.check(c < 4, "w {}", c), c + 1.0)[1]  # noqa: E731
    loop = lambda c: lax.while_loop(lambda c: c < 10, body, c)  # noqa: E731
    err, out = ft.vmap(ck.checkify(loop))(a([0.0, 8.0, 20.0]))
    assert err.get() == ("at mapped index 0: w 4.0 (`check` failed)\n"
                         "at mapped index 1: w 8.0 (`check` failed)")
    assert out.tolist() == [10.0, 10.0, 20.0]


# -- side by side with JAX ------------------------------------------------------------------------


def test_same_checks_fire_as_in_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.experimental import checkify as jck

    def user(m):
        def f(x):
            m.check(x > 0, "x must be positive, got {}", x)
            return x * 2
        return f
    cases = [  # (build(namespace, checkify module), errors name, inputs)
        (lambda np_, m: user(m), "user_checks", [-1.5, 2.0]),
        (lambda np_, m: (lambda x: np_.log(x)), "nan_checks", [-1.0, 1.0]),
        (lambda np_, m: (lambda x: x / (x - 1.0)), "div_checks", [1.0]),
        (lambda np_, m: (lambda x: np_.arange(3.0)[np_.asarray(x, dtype=np_.int64)]),
         "index_checks", [5.0, -3.0]),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for build, errors, inputs in cases:
            for v in inputs:
                ours = ck.checkify(build(fnp, ck), errors=getattr(ck, errors))(a(v))[0].get()
                theirs = jck.checkify(build(jnp, jck), errors=getattr(jck, errors))(
                    jnp.asarray(v))[0].get()
                assert (ours is None) == (theirs is None), (errors, v, ours, theirs)
                if errors in ("user_checks", "nan_checks", "div_checks"):
                    assert ours == theirs


def test_docstring_examples():
    import doctest
    result = doctest.testmod(ck, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
