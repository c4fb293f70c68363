"""``python -m functrans``, the README's first command: it runs, and the numbers it prints agree
with the closed forms it prints beside them."""

from __future__ import annotations

import math
import re

from functrans.__main__ import main


def _pair(text, label):
    m = re.search(re.escape(label) + r"\s*= \(([-\d.]+), ([-\d.]+)\)", text)
    assert m, (label, text)
    return float(m.group(1)), float(m.group(2))


def test_demo_prints_agreeing_derivatives(capsys):
    main()
    out = capsys.readouterr().out
    x1, x2 = 1.5, 0.5
    e = math.exp(x1 * x2)
    by_hand = (x2 + x2 * e, x1 + x1 * e - math.cos(x2))
    for label in ("gradient, one reverse pass", "jit(grad(f))(1.5, 0.5)"):
        got = _pair(out, label)
        assert all(abs(g - w) < 1e-9 for g, w in zip(got, by_hand)), (label, got, by_hand)
    assert "graph {" in out and "cos v2" in out  # sin_cos read for its cos alone: cos
    d4 = float(re.search(r"grad nested four times = ([-\d.]+)", out).group(1))
    t = math.tanh(0.3)
    assert abs(d4 - 8 * t * (1 - t * t) * (2 - 3 * t * t)) < 1e-9
