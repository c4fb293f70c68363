"""The workloads, each written once against the Array API.

Every function here takes the array namespace ``xp`` as its first argument and uses only names
that NumPy, autograd.numpy, jax.numpy, array_api_compat.torch and functrans.numpy all have. The
systems (systems.py) decide what ``xp`` is: NumPy and autograd pass their module, the others pass
``array_namespace(x)`` of the differentiated argument, which inside a functrans transform is
``functrans.numpy`` (the point of the library: the same source runs raw and differentiated).

Matrix products are written ``xp.matmul`` rather than ``@`` because the data (a NumPy array on
the left) meets a tracer on the right, and not every peer's array type wins that dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SEED = 0


# ---------------------------------------------------------------------------------------------
# The math, one definition per workload
# ---------------------------------------------------------------------------------------------

def sine_chain(xp, x, steps):
    """``steps`` repetitions of x <- sin(x)*0.9 + 0.1 (3 primitives each), then sum (W1, W8)."""
    for _ in range(steps):
        x = xp.sin(x) * 0.9 + 0.1
    return xp.sum(x)


def w1_loss(xp, x):
    return sine_chain(xp, x, 333)  # 333 * 3 + 1 ≈ 1,000 primitives


def mlp_loss(xp, params, X, Y):
    """tanh MLP, softmax cross-entropy through a stable log-sum-exp; Y is one-hot."""
    h = xp.tanh(xp.matmul(X, params["W1"]) + params["b1"])
    h = xp.tanh(xp.matmul(h, params["W2"]) + params["b2"])
    logits = xp.matmul(h, params["W3"]) + params["b3"]
    m = xp.max(logits, axis=1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(logits - m), axis=1, keepdims=True)) + m
    return xp.mean(lse - xp.sum(Y * logits, axis=1, keepdims=True))


def mlp_grad_manual(params, X, Y):
    """The gradient of ``mlp_loss`` by hand-written NumPy backprop: what a human would write."""
    h1 = np.tanh(X @ params["W1"] + params["b1"])
    h2 = np.tanh(h1 @ params["W2"] + params["b2"])
    logits = h2 @ params["W3"] + params["b3"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    d_logits = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    d_z2 = (d_logits @ params["W3"].T) * (1.0 - h2 * h2)
    d_z1 = (d_z2 @ params["W2"].T) * (1.0 - h1 * h1)
    return {
        "W1": X.T @ d_z1, "b1": d_z1.sum(axis=0),
        "W2": h1.T @ d_z2, "b2": d_z2.sum(axis=0),
        "W3": h2.T @ d_logits, "b3": d_logits.sum(axis=0),
    }


def w3_loss(xp, x, A):
    return xp.sum(xp.tanh(xp.matmul(A, x)) ** 2) + xp.sum(x ** 4)


def w4_fn(xp, x, B):
    return xp.tanh(xp.matmul(B, x))


def roll1(xp, x):
    """Cyclic shift by one; concat of slices where the namespace has no ``roll`` yet."""
    if hasattr(xp, "roll"):
        return xp.roll(x, 1)
    return xp.concat([x[-1:], x[:-1]])


def w5_loss(xp, x):
    return xp.sum(xp.sin(x) * roll1(xp, x)) + xp.sum(xp.tanh(x) ** 2)


def w5_hvp_manual(x, v):
    """H v of ``w5_loss`` worked out on paper and written in NumPy: what a human would write.

    (H v)_j = -sin x_j x_{j-1} v_j + cos x_j v_{j-1} + cos x_{j+1} v_{j+1} + (tanh^2)''(x_j) v_j,
    with (tanh^2)'' = 2 s (3 s - 2), s = 1 - tanh^2."""
    s, c = np.sin(x), np.cos(x)
    sl = 1.0 - np.tanh(x) ** 2
    out = c * np.roll(v, 1)
    out -= s * np.roll(x, 1) * v
    out += np.roll(c * v, -1)
    out += 2.0 * sl * (3.0 * sl - 2.0) * v
    return out


def logistic(xp, x, steps):
    """W6: the logistic map x <- 3x(1-x); only operators, so ``xp`` is unused."""
    for _ in range(steps):
        x = 3.0 * x * (1.0 - x)
    return x


def logistic_reference(x0, steps):
    """(x_N, d x_N / d x_0) in plain Python floats: the independent check for W6."""
    x, d = float(x0), 1.0
    for _ in range(steps):
        d *= 3.0 * (1.0 - 2.0 * x)
        x = 3.0 * x * (1.0 - x)
    return x, d


def w7_fn(xp, x):
    return xp.tanh(x)


# ---------------------------------------------------------------------------------------------
# Cases: one row of the table each
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A goal for functrans shown next to the measurement.

    ``metric`` names what the row reports (ratio to the floor, µs per step, growth factor, MB);
    with ``relative_to`` the goal is functrans' time over that system's time instead.
    """
    text: str
    limit: float
    relative_to: str | None = None


@dataclass
class Case:
    """One timed row: ``kind`` of ``loss`` w.r.t. ``args[0]``; the floor is ``loss`` itself."""
    id: str
    workload: str
    title: str
    kind: str                      # grad | jacfwd | jacrev | hessian | hvp
    loss: Callable
    args: tuple
    order: int = 1                 # nesting depth for grad (W7)
    tangent: Any = None            # the vector of an hvp
    manual: Callable | None = None  # a hand-written NumPy version of the transformed function
    target: Target | None = None

    def inputs(self):
        """Arguments of the transformed function (the hvp also takes its vector)."""
        return self.args if self.tangent is None else (self.args[0], self.tangent) + self.args[1:]


def _mlp_case(rng):
    sizes = [784, 512, 512, 10]
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params[f"b{i}"] = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((128, 784))
    Y = np.eye(10)[rng.integers(0, 10, size=128)]
    return Case("W2", "W2", "MLP 784-512-512-10, batch 128: grad", "grad", mlp_loss,
                (params, X, Y), manual=mlp_grad_manual,
                target=Target("≤1.05× numpy-manual", 1.05, relative_to="numpy-manual"))


def make_cases():
    """All in-process cases, in table order (W6 and W8 run in child processes: subproc.py)."""
    rng = np.random.default_rng(SEED)
    cases = [
        Case("W1", "W1", "per-op overhead: grad of ~1,000 primitives on 8 elements", "grad",
             w1_loss, (rng.uniform(-1.0, 1.0, 8),), target=Target("≤10×", 10.0)),
        _mlp_case(rng),
    ]
    A = rng.standard_normal((300, 200)) / np.sqrt(200)
    cases.append(Case("W3", "W3", "hessian, n=200, A 300x200", "hessian", w3_loss,
                      (0.5 * rng.standard_normal(200), A), target=Target("≤150×", 150.0)))
    for n_in, n_out in [(400, 8), (8, 400)]:
        B = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        x = rng.standard_normal(n_in)
        for kind in ("jacfwd", "jacrev"):
            cases.append(Case(f"W4 {kind} {n_in}->{n_out}", "W4",
                              f"{kind} of tanh(Bx), {n_in}->{n_out}", kind, w4_fn, (x, B)))
    n = 100_000
    cases.append(Case("W5", "W5", "hvp (forward-over-reverse), n=100,000", "hvp", w5_loss,
                      (rng.standard_normal(n),), tangent=rng.standard_normal(n),
                      manual=w5_hvp_manual, target=Target("≤3.0×", 3.0)))
    for k in range(1, 7):
        cases.append(Case(f"W7 k={k}", "W7", f"d^{k}/dx^{k} tanh(x) at 0.5 (nested grad)",
                          "grad", w7_fn, (np.asarray(0.5),), order=k))
    return cases


# The child-process workloads: their sizes and targets live here with the rest.
W6_X0 = 0.3
W6_STEPS = (10_000, 100_000)
W6_TARGET = Target("10^5 works, ≤75 µs/step", 75.0)
W7_TARGET = Target("growth ≤1.7×", 1.7)
W8_SIZE = 1_000_000
W8_STEPS = 200
W8_TARGET = Target("grad peak ≤1,650 MB", 1650.0)


def w8_input():
    return np.random.default_rng(SEED).uniform(-1.0, 1.0, W8_SIZE)


def w8_loss(xp, x):
    return sine_chain(xp, x, W8_STEPS)
