"""The examples of docs/backends.md run, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "backends.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_backends_doc_examples_run():
    blocks = _blocks()
    assert len(blocks) >= 5
    ns = {"__name__": "docs_backends"}
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOC), "exec"), ns)
        printed = out.getvalue().splitlines()
        expected = [c.split("#", 1)[1].strip() for c in code.splitlines()
                    if c.lstrip().startswith("print(") and "#" in c]
        if any(lib in code and lib not in ns for lib in ("torch", "jax")):
            continue  # the library is not installed: that block printed nothing
        assert len(printed) == len(expected), (code, printed)
        for got, want in zip(printed, expected):
            # The comment is a prefix of the line printed: up to "...", or to ": " where an
            # explanation follows.
            want = want.split("...")[0].split(": ")[0].strip()
            assert got.startswith(want), (got, want)

if __name__ == "__main__":
    pytest.main([__file__])
