"""Review s18: the dtypes of the tangents given to jvp and linearize's function, and of the
cotangents given to vjp's pullback, against JAX 0.10.2 (x64).

Fixed (each test below failed before its fix):

- A nonzero tangent of an integer or boolean primal (``jvp(f, (n,), (ones,))``, a float one
  too, a Python ``1``) was taken and silently ignored, in ``jvp`` and in ``linearize``'s
  function; JAX refuses every tangent there but a float0 one. Now refused, naming the
  transform, the leaf's path, both dtypes and what to pass; zeros of any dtype stay accepted
  besides float0 (torch, array-api-strict and CuPy have no float0), and batched tangents
  (vmap) are checked too. ``check_grads`` passed each integer leaf itself as its tangent; it
  now passes zeros.
- A Python ``int`` (or ``bool``) tangent of a floating primal, or cotangent of a floating
  output, was cast to the float; JAX refuses it (an integer tangent of a float). A Python
  ``float`` stays accepted for every floating dtype (JAX's weak typing; JAX with x64 refuses it
  for float32, without x64 takes it). A Python ``complex`` for a real value is refused.
- The messages named a leaf by its flat index only (``tangent 3``); they now add its path
  (``tangent 3 (tangents[0]['w'])``) and say the dtype wanted.
- custom_vjp's forward-mode rule passed a Python int argument's zero tangent (an int) as the
  cotangent of bwd's floating result, which the check above now refuses: made a float there.

Left as it is: a tangent staged under jit (``jit(lambda t: jvp(f, (n,), (t,)))``) has no
values to check, and is taken unchecked for an integer primal (JAX knows its dtype, which
here may be any).
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import TangentMismatchError
from functrans.testing import check_grads


def _scale(x, n):
    return x * fnp.astype(n, x.dtype)


def test_nonzero_tangents_of_integer_primals_are_refused(backend):
    x = backend.asarray([0.5, -1.0, 2.0])
    n = backend.asarray([1, 2, 3], "int64")
    for bad, dt in ((backend.asarray([0, 1, 0], "int64"), "int64"),
                    (backend.asarray([0.0, 0.0, 0.5]), "float64")):
        with pytest.raises(TangentMismatchError,
                           match=rf"^jvp: tangent 1 \(tangents\[1\]\) is nonzero \(of dtype "
                                 rf"{dt}\), but its primal has dtype int64, which carries no "
                                 rf"derivative.*functrans\.dtypes\.float0"):
            ft.jvp(_scale, (x, n), (backend.asarray([1.0, 1.0, 1.0]), bad))
        _, f_jvp = ft.linearize(_scale, x, n)
        with pytest.raises(TangentMismatchError, match=r"^linearize: tangent 1 \(tangents\[1\]\)"
                                                       r" is nonzero"):
            f_jvp(backend.asarray([1.0, 1.0, 1.0]), bad)
    # zeros (of any dtype) are fine, and the tangent out is that of x alone
    for zero in (backend.asarray([0, 0, 0], "int64"), backend.asarray([0.0, 0.0, 0.0]),
                 backend.asarray([False, False, False], "bool")):
        y, t = ft.jvp(_scale, (x, n), (backend.asarray([1.0, 1.0, 1.0]), zero))
        np.testing.assert_allclose(backend.to_numpy(t), [1.0, 2.0, 3.0])
        assert backend.is_own(t)
        t = ft.linearize(_scale, x, n)[1](backend.asarray([1.0, 1.0, 1.0]), zero)
        np.testing.assert_allclose(backend.to_numpy(t), [1.0, 2.0, 3.0])


def test_float0_tangents_and_python_numbers_for_integer_primals():
    y, t = ft.jvp(lambda n: n * 2, (np.arange(3),), (np.zeros(3, ft.float0),))
    np.testing.assert_array_equal(t, [0, 0, 0])
    _, t = ft.jvp(lambda n: n * 2, (3,), (0,))
    assert int(t) == 0
    with pytest.raises(TangentMismatchError, match=r"tangent 0 \(tangents\[0\]\) is the Python "
                                                   r"int 1, but its primal has dtype int64"):
        ft.jvp(lambda n: n * 2, (3,), (1,))
    with pytest.raises(TangentMismatchError, match=r"is the Python float 0\.5, but its primal "
                                                   r"has dtype bool"):
        ft.jvp(lambda b: fnp.where(b, 1.0, 2.0), (np.asarray(True),), (0.5,))


def test_an_integer_tangent_is_named_by_its_path_in_a_pytree():
    params = {"w": np.ones(2), "steps": np.asarray(4)}
    tangents = {"w": np.ones(2), "steps": np.asarray(1)}

    def f(p, scale):
        return p["w"] * p["steps"] * scale
    with pytest.raises(TangentMismatchError, match=r"jvp: tangent 0 \(tangents\[0\]\['steps'\]"
                                                   r"\) is nonzero"):
        ft.jvp(f, (params, 2.0), (tangents, 0.0))
    tangents["steps"] = np.zeros((), ft.float0)
    _, t = ft.jvp(f, (params, 2.0), (tangents, 0.0))
    np.testing.assert_allclose(t, [8.0, 8.0])


def test_batched_nonzero_integer_tangents_are_refused_under_vmap():
    n = np.arange(3)

    def push(t):
        return ft.jvp(lambda n: n * 2, (n,), (t,))[1]
    np.testing.assert_array_equal(ft.vmap(push)(np.zeros((2, 3), np.int64)), np.zeros((2, 3)))
    with pytest.raises(TangentMismatchError, match="is nonzero"):
        ft.vmap(push)(np.eye(2, 3, dtype=np.int64))


def test_floating_tangents_must_have_their_primals_dtype(backend):
    x32 = backend.asarray([1.0, 2.0], "float32")
    t64 = backend.asarray([1.0, 1.0])
    with pytest.raises(TangentMismatchError,
                       match=r"^jvp: tangent 0 \(tangents\[0\]\) has dtype float64, but its "
                             r"primal has dtype float32.*astype\(t, float32\)"):
        ft.jvp(fnp.sin, (x32,), (t64,))
    with pytest.raises(TangentMismatchError, match=r"^linearize: tangent 0 \(tangents\[0\]\) "
                                                   r"has dtype float64"):
        ft.linearize(fnp.sin, x32)[1](t64)
    _, pullback = ft.vjp(fnp.sin, x32)
    with pytest.raises(TangentMismatchError,
                       match=r"^vjp: cotangent 0 \(the whole cotangent\) has dtype float64, "
                             r"but its output has dtype float32"):
        pullback(t64)
    (g,) = pullback(backend.asarray([1.0, 1.0], "float32"))
    assert backend.to_numpy(g).dtype == np.float32


def test_python_numbers_as_floating_tangents():
    x32 = np.float32(0.5)
    _, t = ft.jvp(fnp.sin, (x32,), (1.0,))  # weakly typed: takes the primal's precision
    assert np.asarray(t).dtype == np.float32
    for bad, want in ((1, "1.0"), (True, "1.0")):
        with pytest.raises(TangentMismatchError,
                           match=rf"tangent 0 \(tangents\[0\]\) is the Python "
                                 rf"{type(bad).__name__} {bad!r}, but its primal has dtype "
                                 rf"float32.*pass {want} or an array of dtype float32"):
            ft.jvp(fnp.sin, (x32,), (bad,))
    with pytest.raises(TangentMismatchError, match=r"Python complex"):
        ft.jvp(fnp.sin, (0.5,), (1j,))
    _, t = ft.jvp(fnp.exp, (np.complex128(1j),), (1j,))  # a complex one for a complex value
    np.testing.assert_allclose(t, 1j * np.exp(1j))
    _, pullback = ft.vjp(lambda x: x * 2.0, 1.0)
    with pytest.raises(TangentMismatchError, match=r"vjp: cotangent 0 \(the whole cotangent\) "
                                                   r"is the Python int 1"):
        pullback(1)
    assert float(pullback(1.0)[0]) == 2.0


def test_cotangents_of_integer_outputs_may_hold_anything_as_in_jax(backend):
    x = backend.asarray([0.5, -1.0])

    def f(x):
        return x * 3.0, fnp.astype(x > 0, fnp.int32)
    _, pullback = ft.vjp(f, x)
    for ct in (backend.asarray([5, -2], "int32"), backend.asarray([1.5, 2.0])):
        (g,) = pullback((backend.asarray([1.0, 1.0]), ct))
        np.testing.assert_allclose(backend.to_numpy(g), [3.0, 3.0])


def test_check_grads_with_integer_leaves_passes_them_zero_tangents(backend):
    x = backend.asarray([0.5, -1.0, 2.0])
    n = backend.asarray([1, 2, 3], "int64")
    check_grads(_scale, (x, n), order=2)
    check_grads(lambda p: _scale(p["x"] ** 2, p["n"]), ({"x": x, "n": n},), order=2,
                modes=("fwd",))


_CASES = {
    # name: (primal, tangent); each accepted or refused by both libraries alike
    "int primal, nonzero int": (np.arange(3), np.ones(3, np.int64)),
    "int primal, float ones": (np.arange(3), np.ones(3)),
    "int primal, float0": (np.arange(3), np.zeros(3, ft.float0)),
    "int primal, Python 1": (3, 1),
    "bool primal, True": (np.asarray(True), np.asarray(True)),
    "f32 primal, f64 tangent": (np.ones(2, np.float32), np.ones(2)),
    "f64 primal, f32 tangent": (np.ones(2), np.ones(2, np.float32)),
    "f32 primal, int32 tangent": (np.ones(2, np.float32), np.ones(2, np.int32)),
    "f64 primal, Python int": (1.0, 1),
    "f64 primal, Python float": (1.0, 1.0),
    "c128 primal, f64 tangent": (np.ones(2, complex), np.ones(2)),
    "f64 primal, f64 tangent": (np.ones(2), np.ones(2)),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_jvp_accepts_and_refuses_as_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    p, t = _CASES[case]

    def outcome(run):
        try:
            run()
        except (TypeError, ValueError):
            return "refused"
        return "accepted"
    want = outcome(lambda: jax.jvp(lambda x: x * 2, (p,), (t,)))
    got = outcome(lambda: ft.jvp(lambda x: x * 2, (p,), (t,)))
    assert got == want


def test_the_identity_checks_with_integer_leaves_pass_them_zero_tangents():
    from functrans.testing import identities as idt
    x, n = np.asarray([0.5, -1.0, 2.0]), np.arange(1, 4)
    idt.check_linearize_jvp(_scale, (x, n))
    idt.check_jvp_vjp_adjoint(_scale, (x, n))
    idt.check_jvp_linear(_scale, (x, n))
