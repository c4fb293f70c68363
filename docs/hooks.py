"""MkDocs hooks for the functrans site (registered in mkdocs.yml under ``hooks:``).

- Makes the checkout importable, so the ``exec="on"`` code blocks (run by markdown-exec during
  the build) and mkdocstrings use this source tree even without ``pip install -e .``.
- Plots are drawn with matplotlib's non-interactive Agg backend.
- The Benchmarks page includes ``benchmarks/RESULTS.md``; the images that file links to
  (``results.png``, ...) are added to the site beside the page so its links resolve.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
IMAGES = (".png", ".svg", ".jpg", ".jpeg")


def on_config(config):
    os.environ.setdefault("MPLBACKEND", "Agg")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    if BENCHMARKS.is_dir():
        for path in sorted(BENCHMARKS.iterdir()):
            if path.suffix.lower() in IMAGES and files.get_file_from_path(path.name) is None:
                files.append(File.generated(config, path.name, abs_src_path=str(path)))
    return files
