"""The current interpreter is per thread and per async task (docs/internals.md): transforms
running concurrently in threads, in asyncio tasks and in both at once never see each other's
interpreters, and contexts copied inside a transform (tasks created there, a copy run by
another thread) see that transform's. Every value is checked against its closed form."""

import asyncio
import contextvars
import math
import threading

import numpy as np

import functrans as ft
import functrans.numpy as fnp
from functrans.core import EVAL, current_interpreter


def _f(x):  # f(x) = sum(sin(x) * x^2)
    return fnp.sum(fnp.sin(x) * x * x)


def _df(x):  # f'(x) = cos(x) x^2 + 2 x sin(x)
    return np.cos(x) * x * x + 2 * x * np.sin(x)


def _d2f(x):  # the Hessian's diagonal (f is a sum of functions of one element each)
    return -np.sin(x) * x * x + 4 * x * np.cos(x) + 2 * np.sin(x)


def _check(x, errors, rounds=20):
    """Several transforms of f at x (numpy float64), each against its closed form."""
    for _ in range(rounds):
        checks = [
            (ft.grad(_f)(x), _df(x)),
            (ft.jvp(_f, (x,), (np.ones_like(x),))[1], np.sum(_df(x))),
            (np.diagonal(np.asarray(ft.hessian(_f)(x))), _d2f(x)),
            (ft.vmap(ft.grad(lambda v: fnp.sin(v) * v * v))(x), _df(x)),
            (ft.jit(ft.grad(_f))(x), _df(x)),
        ]
        for got, want in checks:
            if not np.allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12):
                errors.append((x, got, want))
        if current_interpreter() is not EVAL:  # nothing left pushed between transforms
            errors.append("an interpreter stayed current")


def test_threads_and_tasks_run_transforms_concurrently():
    errors = []

    async def task(seed):
        x = np.random.default_rng(seed).uniform(-2.0, 2.0, 3)
        for _ in range(4):
            _check(x, errors, rounds=3)
            await asyncio.sleep(0)  # the other tasks run their transforms here
            # a worker thread running in a copy of this task's context
            await asyncio.to_thread(_check, x + 1.0, errors, 3)

    def loop_thread(seed):
        try:
            async def main():
                await asyncio.gather(*[task(seed + k) for k in range(3)])
            asyncio.run(main())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def plain_thread(seed):
        try:
            _check(np.random.default_rng(seed).uniform(-2.0, 2.0, 2), errors)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=loop_thread, args=(10 * k,)) for k in range(2)]
    threads += [threading.Thread(target=plain_thread, args=(100 + k,)) for k in range(2)]
    for t in threads:
        t.start()
    _check(np.array([0.3, -0.7]), errors)  # the main thread too, meanwhile
    for t in threads:
        t.join()
    assert errors == []
    assert current_interpreter() is EVAL


def test_tasks_created_inside_a_transform_share_its_tracers():
    # asyncio tasks started inside a function being differentiated see its interpreter
    # (their contexts are copies): they compute on its tracers, interleaved at each await,
    # and run transforms of their own in between.
    inner_errors = []

    async def piece(t, k):
        y = fnp.sin(t)
        await asyncio.sleep(0)
        g = ft.grad(lambda u: fnp.sum(fnp.exp(u * k)))(np.array([0.5, 1.0]))
        if not np.allclose(np.asarray(g), k * np.exp(k * np.array([0.5, 1.0])), rtol=1e-13):
            inner_errors.append(g)
        await asyncio.sleep(0)
        return y * k

    def f(t):
        async def main():
            return await asyncio.gather(*[piece(t, k) for k in (1.0, 2.0, 3.0)])
        parts = asyncio.run(main())
        return parts[0] + parts[1] * t + parts[2] * t * t  # sin(t) (1 + 2t + 3t^2)

    t0 = 0.4
    y, dy = ft.jvp(f, (np.float64(t0),), (np.float64(1.0),))
    assert inner_errors == []
    p = 1 + 2 * t0 + 3 * t0 * t0
    assert math.isclose(float(y), math.sin(t0) * p, rel_tol=1e-14)
    assert math.isclose(float(dy), math.cos(t0) * p + math.sin(t0) * (2 + 6 * t0),
                        rel_tol=1e-14)
    assert current_interpreter() is EVAL


def test_a_context_copied_inside_a_transform_runs_in_another_thread():
    # A copy of the context made inside forward mode, entered by a worker thread (as
    # asyncio.to_thread does): the worker sees the transform's interpreter and computes on
    # its tracers, and the transform carries on correctly afterwards.
    out = {}

    def f(t):
        ctx = contextvars.copy_context()

        def work():
            try:
                out["y"] = ctx.run(lambda: fnp.exp(t) * fnp.sin(t))
                out["g"] = ctx.run(ft.grad(lambda u: u * fnp.cos(t) * u), 2.0)
            except Exception as e:  # pragma: no cover - reported below
                out["error"] = e
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        assert "error" not in out, out.get("error")
        return out["y"] * fnp.cos(t) + out["g"]  # e^t sin t cos t + 4 cos t

    t0 = 0.3
    y, dy = ft.jvp(f, (np.float64(t0),), (np.float64(1.0),))
    e, s, c = math.exp(t0), math.sin(t0), math.cos(t0)
    assert math.isclose(float(y), e * s * c + 4 * c, rel_tol=1e-14)
    want = e * s * c + e * c * c - e * s * s - 4 * s
    assert math.isclose(float(dy), want, rel_tol=1e-13)
    assert current_interpreter() is EVAL


def test_a_copied_context_entered_while_its_thread_runs_a_rule():
    # The same, the worker started from inside a custom rule, which runs with the
    # interpreter below forward mode's current: the copy (made before, in f) still sees
    # forward mode's, as a copy keeps what was current when it was made.
    out = {}

    @ft.custom_jvp
    def g(x):
        return fnp.sin(x)

    @g.defjvp
    def g_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        worker = threading.Thread(target=out["work"])
        worker.start()
        worker.join()
        return fnp.sin(x), fnp.cos(x) * dx

    def f(t):
        ctx = contextvars.copy_context()

        def work():
            try:
                out["y"] = ctx.run(lambda: fnp.exp(t) * t)
            except Exception as e:  # pragma: no cover - reported below
                out["error"] = e
        out["work"] = work
        r = g(t)
        assert "error" not in out, out.get("error")
        return r + out["y"]  # sin t + t e^t

    t0 = 0.3
    y, dy = ft.jvp(f, (np.float64(t0),), (np.float64(1.0),))
    assert math.isclose(float(y), math.sin(t0) + t0 * math.exp(t0), rel_tol=1e-14)
    assert math.isclose(float(dy), math.cos(t0) + (1 + t0) * math.exp(t0), rel_tol=1e-14)
    assert current_interpreter() is EVAL
