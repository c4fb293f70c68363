"""``python -m functrans``: the seeds' worked example, end to end.

For f(x1, x2) = x1·x2 + exp(x1·x2) − sin(x2) at (1.5, 0.5): the evaluation trace (Wengert
list), f, ∂f/∂x1 by one forward pass, the gradient by one reverse pass, the Hessian, the
fourth derivative of tanh by nesting grad four times, and the gradient staged by jit.
"""

import math

import functrans as ft
import functrans.numpy as fnp


def f(x1, x2):
    v3 = x1 * x2
    v4 = fnp.sin(x2)
    v5 = fnp.exp(v3)
    v6 = v3 - v4
    return v5 + v6


def main():
    x1, x2 = 1.5, 0.5
    print("f(x1, x2) = x1*x2 + exp(x1*x2) - sin(x2)   at (x1, x2) = (1.5, 0.5)\n")
    print("Evaluation trace (make_graph):")
    print(ft.make_graph(f)(x1, x2))

    y, dy_dx1 = ft.jvp(f, (x1, x2), (1.0, 0.0))
    print(f"\nf(1.5, 0.5)                    = {float(y):.10f}")
    print(f"df/dx1, one forward pass (jvp) = {float(dy_dx1):.10f}")

    g1, g2 = ft.grad(f, argnums=(0, 1))(x1, x2)
    print(f"gradient, one reverse pass     = ({float(g1):.10f}, {float(g2):.10f})")
    e = math.exp(x1 * x2)
    print(f"  by hand: (x2 + x2 e^(x1 x2), x1 + x1 e^(x1 x2) - cos x2) = "
          f"({x2 + x2 * e:.10f}, {x1 + x1 * e - math.cos(x2):.10f})")

    H = ft.hessian(lambda x: f(x[0], x[1]))(fnp.asarray([x1, x2]))
    print("\nHessian (forward-over-reverse):")
    print(H)

    d4 = ft.grad(ft.grad(ft.grad(ft.grad(fnp.tanh))))(0.3)
    t = math.tanh(0.3)
    closed = 8 * t * (1 - t * t) * (2 - 3 * t * t)
    print(f"\nd^4/dx^4 tanh(x) at 0.3, grad nested four times = {float(d4):.10f}")
    print(f"  closed form 8 t (1 - t^2)(2 - 3 t^2), t = tanh x  = {closed:.10f}")

    # jit stages the gradient once: the forward and backward passes as one graph, pruned of
    # what the gradient does not return, replayed at every later call.
    df = ft.jit(ft.grad(f, argnums=(0, 1)))
    print("\nThe gradient staged once by jit (make_graph of jit(grad(f))):")
    print(ft.make_graph(df)(fnp.asarray(x1), fnp.asarray(x2)))
    j1, j2 = df(fnp.asarray(x1), fnp.asarray(x2))
    print(f"jit(grad(f))(1.5, 0.5)         = ({float(j1):.10f}, {float(j2):.10f})")


if __name__ == "__main__":
    main()
