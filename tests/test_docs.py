"""The documentation cannot rot: every ```python block of docs/**/*.md and README.md runs.

Blocks of one page run in order in one namespace (as markdown-exec's per-page session does
during the site build). A failure names the page and the line of the block in it. A second
test builds the site with ``mkdocs build --strict`` (skipped when the ``docs`` extra is not
installed), which also executes the ``exec="on"`` blocks and checks every link and anchor.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown text as (line number of the first code line, code).

    Fences may carry attributes (```python exec="on" session="..."), be indented (inside
    admonitions or lists: the indentation is removed) and use ``` or ~~~ of any length.
    """
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        lang = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        j, body = i + 1, []
        while j < len(lines):
            line = lines[j]
            if line.strip() == fence or (line.strip().startswith(fence[0] * len(fence))
                                         and not line.strip().strip(fence[0])):
                break
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        if lang in ("python", "py") and 'exec="off"' not in info:
            blocks.append((i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def _id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_pages_have_examples():
    """The extractor finds the tutorial's examples (guards against a silently empty run)."""
    found = {_id(p): len(python_blocks(p.read_text(encoding="utf-8"))) for p in PAGES}
    assert found["README.md"] >= 1
    tutorial = [n for name, n in found.items() if name.startswith("docs/tutorial/")]
    assert len(tutorial) >= 8 and all(n >= 1 for n in tutorial), found


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_page_code_runs(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{_id(page)} has no python blocks")
    source = "".join(code for _, code in blocks)
    if "matplotlib" in source and importlib.util.find_spec("matplotlib") is None:
        pytest.skip(f"{_id(page)} draws plots and matplotlib is not installed "
                    f"(pip install -e \".[docs]\")")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)  # a block that writes a file writes it here
    monkeypatch.syspath_prepend(str(ROOT))
    ns = {"__name__": "__docs__"}
    try:
        for line, code in blocks:
            # Pad with blank lines so a traceback points at the line in the Markdown file.
            compiled = compile("\n" * (line - 1) + code, str(page), "exec")
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compiled, ns)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def test_errors_page_has_a_section_per_error_class():
    """Each error message links to errors/#<anchor>; the Errors page must define it."""
    import functrans.errors as errors

    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.FunctransError)
               and c is not errors.FunctransError]
    assert classes
    for cls in classes:
        assert cls.anchor == cls.__name__.lower(), cls
        assert re.search(rf"^## {cls.__name__} \{{#{cls.anchor}\}}$", text, re.M), (
            f"docs/errors.md needs a section '## {cls.__name__} {{#{cls.anchor}}}'")


_DOCS_MODULES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python",
                 "markdown_exec", "matplotlib")


def _missing_docs_modules():
    missing = []
    for name in _DOCS_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ModuleNotFoundError:
            missing.append(name)
    return missing


@pytest.mark.skipif(bool(_missing_docs_modules()),
                    reason=f"the docs extra is not installed (missing: "
                           f"{', '.join(_missing_docs_modules())}); "
                           f"pip install -e \".[docs]\" to build the site")
def test_mkdocs_build_strict(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    errors_html = (site / "errors" / "index.html").read_text(encoding="utf-8")
    for anchor in ("unexpectedtracererror", "concretizationerror", "nonscalaroutputerror"):
        assert f'id="{anchor}"' in errors_html
    for page in ("01-why-autodiff", "06-higher-order", "08-training-an-mlp"):
        html = (site / "tutorial" / page / "index.html").read_text(encoding="utf-8")
        assert "https://matplotlib.org/" in html, (  # the SVG's creator metadata
            f"the plot of tutorial/{page} was not drawn during the build")
