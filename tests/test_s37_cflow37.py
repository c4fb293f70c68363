"""Session 37 (cflow37): control flow under transforms. Python-number loop carries that a
step widens (int -> float -> complex) are arrays of the wider kind from the first step, as
JAX promotes a weak carry and as jit already did, so that eager and jit agree; a selection
of the random control-flow programs of tests/_fuzz_control_flow_jax.py (scan, fori_loop,
while_loop, cond, switch, map, associative_scan, checkpoint, custom rules in loops and
loops in custom rules) under the transforms, against central differences, the eager
transforms and JAX where it is installed."""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp

_XS32 = np.float32([1.0, 2.0, 3.0])
_XI32 = np.int32([1, 2, 3])


def _dtypes(tree):
    return [np.asarray(x).dtype for x in ft.tree.tree_leaves(tree)]


# -- a Python-number carry a step widens: an array of the wider kind from the start ------------

# (init, function of it) pairs whose carry a step turns from an int into a float (or a
# float into a complex): JAX promotes the weak carry to the wider kind's (strong) dtype
# before the loop, so c * x is float64 beside float32 / int32 values at every step.
_WIDENED = {
    "scan_f32": (1, lambda c: lax.scan(lambda c, x: (c + 1.0, c * x), c, _XS32)),
    "scan_i32": (1, lambda c: lax.scan(lambda c, x: (c + 1.0, c * x), c, _XI32)),
    "scan_complex": (1.5, lambda c: lax.scan(lambda c, x: (c + 1j, c * x), c, _XS32)),
    "scan_reverse": (1, lambda c: lax.scan(lambda c, x: (c * 0.5, c * x), c, _XS32,
                                           reverse=True)),
    "scan_one_step": (2, lambda c: lax.scan(lambda c, x: (c / 2, c * x), c, _XS32[:1])),
    "fori": (1, lambda c: lax.fori_loop(0, 3, lambda i, c: c * 2.0, c)),
    "while": (1, lambda c: lax.while_loop(lambda c: c < 10, lambda c: c * 1.5, c)),
}


@pytest.mark.parametrize("name", sorted(_WIDENED))
def test_a_widened_number_carry_gives_one_dtype_eagerly_and_under_jit(name):
    init, f = _WIDENED[name]
    eager, jitted = f(init), ft.jit(f)(init)
    assert _dtypes(eager) == _dtypes(jitted), (_dtypes(eager), _dtypes(jitted))
    for a, b in zip(ft.tree.tree_leaves(eager), ft.tree.tree_leaves(jitted)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def test_the_widened_scans_values_and_dtypes():
    # the carry 1, 2., 3., 4.: ys = c * x in float64 at every step (eager gave float32 ys,
    # the first step's c being the int 1 and the later ones Python floats)
    c, ys = _WIDENED["scan_f32"][1](1)
    assert type(c) is np.ndarray and c.dtype == np.float64 and float(c) == 4.0
    assert ys.dtype == np.float64
    np.testing.assert_array_equal(ys, [1.0, 4.0, 9.0])
    # int32 xs: the first step's int32 y and the later float64 ones were a TypeError
    c, ys = _WIDENED["scan_i32"][1](1)
    assert ys.dtype == np.float64
    np.testing.assert_array_equal(ys, [1.0, 4.0, 9.0])
    # one step: ys from the carry typed as the step types it
    c, ys = _WIDENED["scan_one_step"][1](2)
    assert c.dtype == ys.dtype == np.float64 and float(c) == 1.0
    np.testing.assert_array_equal(ys, [2.0])


def test_the_widened_scans_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jlax = jax.lax
    ref = {
        "scan_f32": lambda c: jlax.scan(lambda c, x: (c + 1.0, c * x), c, _XS32),
        "scan_i32": lambda c: jlax.scan(lambda c, x: (c + 1.0, c * x), c, _XI32),
        "scan_complex": lambda c: jlax.scan(lambda c, x: (c + 1j, c * x), c, _XS32),
        "scan_reverse": lambda c: jlax.scan(lambda c, x: (c * 0.5, c * x), c, _XS32,
                                            reverse=True),
        "scan_one_step": lambda c: jlax.scan(lambda c, x: (c / 2, c * x), c, _XS32[:1]),
        "fori": lambda c: jlax.fori_loop(0, 3, lambda i, c: c * 2.0, c),
        "while": lambda c: jlax.while_loop(lambda c: c < 10, lambda c: c * 1.5, c),
    }
    for name, (init, f) in _WIDENED.items():
        want = ref[name](init)
        for got in (f(init), ft.jit(f)(init)):
            assert _dtypes(got) == _dtypes(want), (name, _dtypes(got), _dtypes(want))
            for a, b in zip(ft.tree.tree_leaves(got), jax.tree_util.tree_leaves(want)):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


@pytest.mark.parametrize("loop", ["fori", "while"])
def test_a_widened_number_beside_a_float32_carry_is_the_error_jit_and_jax_give(loop):
    # c + 1. widens the int carry to float64 and c * x then is float64 for the float32
    # carry: JAX and jit raise; eagerly the Python float c kept c * x float32 (no error)
    def f(xs):
        if loop == "fori":
            return lax.fori_loop(0, 3, lambda i, c: (c[0] + 1.0, c[0] * xs[i]), (1, xs[0]))
        return lax.while_loop(lambda c: c[2] < 3,
                              lambda c: (c[0] + 1.0, c[0] * xs[c[2]], c[2] + 1), (1, xs[0], 0))
    for run in (f, ft.jit(f)):
        with pytest.raises(TypeError, match=r"leaf \[1\] is f32\[\] in the carry, f64\[\]"):
            run(_XS32)


def test_numbers_of_the_carrys_kind_stay_numbers():
    # an int carry given ints, a float carry given ints or floats: still weak numbers
    assert lax.fori_loop(0, 3, lambda i, c: c + i, 1) == 4
    out = lax.fori_loop(0, 3, lambda i, c: c * 2, 1.5)
    assert float(out) == 12.0 and np.asarray(out).dtype == np.float64
    c, ys = lax.scan(lambda c, x: (c, c * x), 2, _XI32)
    assert c == 2 and type(c) is int and ys.dtype == np.int32


def test_widened_carries_under_grad_and_vmap():
    def f(x):
        c, ys = lax.scan(lambda c, xi: (c + 0.5, c * xi * x), 1, _XS32.astype(np.float64))
        return fnp.sum(ys) + c
    # ys = x * [1, 3, 6] (c = 1, 1.5, 2): d/dx = 10
    for g in (ft.grad(f), ft.jit(ft.grad(f)), ft.grad(ft.jit(f))):
        np.testing.assert_allclose(g(1.5), 10.0)
    np.testing.assert_allclose(ft.vmap(f)(np.array([1.0, 2.0])), [12.5, 22.5])


# -- random control-flow programs (tests/_fuzz_control_flow_jax.py) under the transforms ---------

from tests import _fuzz_control_flow_jax as _fuzz  # noqa: E402

# seeds whose programs hold every kind of block between them (scan of every xs/carry form,
# fori_loop with int carries and empty ranges, while_loop on counters and on values, cond,
# switch with clamped indices, map with batch sizes, associative_scan, checkpoint with
# policies, custom_jvp/custom_vjp in loops and loops in their rules, a fori_loop with a
# traced bound, nested scan/cond in fori)
_SEEDS = [69, 291, 159, 17, 186, 218, 104, 135, 7]


def _inputs(prog):
    rng = prog.rng
    x = np.asarray([rng.uniform(-1.5, 1.5) for _ in range(3)])
    return x, np.float64(rng.uniform(-1.2, 1.2))


def _central(f, x, h=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("seed", _SEEDS)
def test_random_control_flow_program_under_the_transforms(seed):
    F = _fuzz.ft_lib()
    prog = _fuzz.Program(seed)
    x, s = _inputs(prog)
    f, g = prog.vec(F), prog.scalar(F)
    value = f(x, s)
    np.testing.assert_allclose(ft.jit(f)(x, s), value, rtol=1e-12, atol=1e-13)
    jac = _central(lambda y: f(y, s), x)
    for J in (ft.jacfwd(f), ft.jacrev(f), ft.jit(ft.jacrev(f))):
        np.testing.assert_allclose(J(x, s), jac, rtol=1e-6, atol=1e-7, err_msg=str(prog))
    grad = ft.grad(g)(x, s)
    np.testing.assert_allclose(grad, jac.T @ prog.w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ft.jit(ft.grad(g))(x, s), grad, rtol=1e-11, atol=1e-12)
    hess = ft.hessian(g)(x, s)
    np.testing.assert_allclose(hess, _central(lambda y: ft.grad(g)(y, s), x), rtol=1e-5,
                               atol=1e-6, err_msg=str(prog))
    for H in (ft.jacfwd(ft.jacfwd(g)), ft.jacrev(ft.jacrev(g)), ft.jit(ft.hessian(g))):
        np.testing.assert_allclose(H(x, s), hess, rtol=1e-10, atol=1e-11, err_msg=str(prog))
    # vmap (x batched, s shared / both batched) against the members one by one
    xs = np.stack([x, x * 0.5 - 0.1, -x])
    ss = np.asarray([s, -s, s * 0.3])
    for in_axes, sv in (((0, None), s), ((0, 0), ss)):
        for T in (ft.grad(g), ft.jit(ft.grad(g))):
            got = ft.vmap(T, in_axes=in_axes)(xs, sv)
            want = [ft.grad(g)(xs[b], sv if in_axes[1] is None else ss[b]) for b in range(3)]
            np.testing.assert_allclose(got, np.stack(want), rtol=1e-10, atol=1e-11,
                                       err_msg=str(prog))


@pytest.mark.parametrize("seed", [17])  # (JAX compiles each stack: seconds each)
def test_random_control_flow_program_against_jax(seed):
    pytest.importorskip("jax")
    F, J = _fuzz.ft_lib(), _fuzz.jax_lib()
    prog = _fuzz.Program(seed)
    x, s = _inputs(prog)
    for stack in ("jit_hessian", "grad_vmap", "vmap10:jit_grad"):
        assert _fuzz.run_case(F, J, prog, stack, x, s, 1e-9, 1e-11) is None, (stack, str(prog))


def test_the_staged_fori_index_beside_a_float32_carry_says_to_cast_it():
    # eagerly i is a Python int (weak): c + i * 0.1 stays float32; staged it is an int64
    # array and i * 0.1 float64 (JAX's weak index keeps float32: functrans has no weakly
    # typed arrays), so the error says to cast the index
    f = lambda x: lax.fori_loop(0, 2, lambda i, c: c + i * 0.1, x)  # noqa: E731
    assert f(np.float32([1.0])).dtype == np.float32
    with pytest.raises(TypeError, match=r"f32\[1\] in the carry, f64\[1\].*the loop index is an "
                       r"array of int64.*i \* 0.5 is then float64.*astype\(i, carry.dtype\)"):
        ft.jit(f)(np.float32([1.0]))
    g = lambda x: lax.fori_loop(0, 2, lambda i, c: c + fnp.astype(i, c.dtype) * 0.1, x)  # noqa
    np.testing.assert_allclose(ft.jit(g)(np.float32([1.0])), f(np.float32([1.0])))
