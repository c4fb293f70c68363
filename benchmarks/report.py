"""Render a run: terminal tables, results.json, results.png and RESULTS.md."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import sys

STATUS_TEXT = {"failed": "FAILED", "timeout": "timeout", "n/a": "n/a", "skipped": "skipped"}
UNIT = {"ratio": "×", "us_step": " µs/step", "growth": "×", "MB": " MB"}


# Fixed colours so charts from different runs read alike.
COLORS = {"numpy-manual": "#7f7f7f", "functrans": "#d62728", "functrans-jit": "#ff9896",
          "autograd": "#2ca02c", "jax": "#1f77b4", "jax-jit": "#9ecae1",
          "torch.func": "#ff7f0e"}


def fmt_seconds(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_num(v):
    """3 significant digits, without exponents for the large ratios this table is full of."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_value(row, name, cell):
    if cell is None:
        return ""
    if cell.status != "ok":
        return STATUS_TEXT.get(cell.status, cell.status)
    if row.metric == "ratio":
        if name == "numpy":  # the floor: show its absolute time, its ratio is 1 by definition
            return fmt_seconds(cell.seconds)
        return "-" if cell.value is None else f"{fmt_num(cell.value)}×"
    if row.metric == "us_step":
        ratio = cell.extra.get("ratio")
        tail = f" ({fmt_num(ratio)}×)" if ratio is not None and name != "numpy" else ""
        return f"{fmt_num(cell.value)} µs{tail}"
    if row.metric == "growth":
        return f"{cell.value:.2f}×"
    if row.metric == "MB":
        return f"{cell.value:,.0f} MB"
    return fmt_num(cell.value)


def target_verdict(row):
    """(functrans' value in the target's terms, 'met' / 'MISSED' / '-')."""
    t = row.target
    cell = row.cells.get("functrans")
    if t is None:
        return "", ""
    if cell is None or cell.status != "ok":
        return "", "MISSED" if cell is not None and cell.status in ("failed", "timeout") else "-"
    if t.relative_to:
        other = row.cells.get(t.relative_to)
        if other is None or other.status != "ok":
            return "", "-"
        value = cell.seconds / other.seconds
        shown = f"{value:.3g}× {t.relative_to}"
    else:
        value = cell.value
        shown = fmt_num(value) + UNIT[row.metric]
    return shown, "met" if value <= t.limit else "MISSED"


# -- tables -------------------------------------------------------------------------------------

def table(run, with_target=True, absolute=False):
    """Rows of strings: the header first. ``absolute``: median seconds instead of ratios."""
    names = run["systems"]
    header = ["case"] + names + (["target", "functrans vs target"] if with_target else [])
    out = [header]
    for row in run["rows"]:
        if absolute and row.metric != "ratio":
            continue
        cells = []
        for name in names:
            cell = row.cells.get(name)
            if absolute:
                cells.append(fmt_seconds(cell.seconds) if cell and cell.status == "ok"
                             else fmt_value(row, name, cell))
            else:
                cells.append(fmt_value(row, name, cell))
        line = [row.id] + cells
        if with_target:
            shown, verdict = target_verdict(row)
            line += [row.target.text if row.target else "",
                     f"{verdict} ({shown})" if shown else verdict]
        out.append(line)
    return out


def render_text(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows):
    esc = [[c.replace("|", "\\|") for c in r] for r in rows]
    lines = ["| " + " | ".join(esc[0]) + " |",
             "|" + "|".join([":--"] + ["--:"] * (len(esc[0]) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines)


def footnotes(run):
    notes = []
    for row in run["rows"]:
        for name, cell in row.cells.items():
            if cell.status in ("failed", "timeout"):
                notes.append(f"{row.id} / {name}: {STATUS_TEXT[cell.status]}: {cell.reason}")
    na = {}
    for row in run["rows"]:
        for name, cell in row.cells.items():
            # the floor and the hand-written system are n/a by construction on most rows
            if cell.status in ("n/a", "skipped") and name not in ("numpy", "numpy-manual"):
                na.setdefault((name, cell.reason), []).append(row.id)
    for (name, reason), ids in na.items():
        notes.append(f"{name}: {reason} ({', '.join(ids)})")
    if "numpy-manual" in run["systems"]:
        notes.append("numpy-manual: hand-written NumPy: the backprop of W2, the H v of W5")
    for name, why in run["skipped"].items():
        notes.append(f"{name}: not run ({why})")
    checked = {}
    for row in run["rows"]:
        if row.note:
            checked.setdefault(row.note, []).append(row.id)
    notes.append("results compared (np.allclose) before timing: " + "; ".join(
        f"{note} ({', '.join(ids)})" for note, ids in checked.items()))
    notes.extend(run["notes"])
    return notes


def legend(run):
    mode = "quick" if run["options"]["quick"] else "full"
    return (f"{mode} run, {run['options']['rounds']} interleaved rounds, median; W1-W5/W7 cells: "
            "time over the raw-NumPy forward of the same code (numpy column: its time); "
            "W6: µs per step (× numpy forward per step); W7 growth: geometric mean of "
            "t(k+1)/t(k); W8: peak RSS above the pre-call RSS (numpy: the forward).")


def print_report(run, file=sys.stdout):
    print("\n" + legend(run), file=file)
    print(render_text(table(run)), file=file)
    abs_rows = table(run, with_target=False, absolute=True)
    if len(abs_rows) > 1:
        print("\nmedian time per call", file=file)
        print(render_text(abs_rows), file=file)
    print("", file=file)
    for note in footnotes(run):
        print("  * " + note, file=file)


# -- files --------------------------------------------------------------------------------------

def machine():
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh
                          if ln.startswith("model name")), model)
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": model, "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "blas_threads": 1,
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def write_json(run, path):
    doc = {k: v for k, v in run.items() if k != "rows"}
    doc["rows"] = [dataclasses.asdict(r) for r in run["rows"]]
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1, default=str)


def _speed_panel(ax, rows, names):
    """Grouped bars: one group per row, one bar per system, time over the NumPy forward."""
    width = 0.8 / max(1, len(names))
    for j, name in enumerate(names):
        xs, ys = [], []
        for i, row in enumerate(rows):
            cell = row.cells.get(name)
            if cell is None or cell.status != "ok":
                continue
            y = cell.value if row.metric == "ratio" else cell.extra.get("ratio")
            if y:
                xs.append(i + (j - (len(names) - 1) / 2) * width)
                ys.append(y)
        if xs:  # systems with no bar stay out of the legend
            ax.bar(xs, ys, width, label=name, color=COLORS.get(name))
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="numpy forward")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r.id for r in rows], rotation=30, ha="right")
    ax.set_ylabel("time / raw NumPy forward")
    ax.set_title("time / the same code on raw NumPy (log scale; no bar: n/a, failed or timed "
                 "out)", fontsize=10)


def _memory_panel(ax, row, names):
    """W8: one bar per system, with the forward's peak as the reference line."""
    ok = [(n, row.cells[n].value) for n in names
          if n in row.cells and row.cells[n].status == "ok"]
    ax.bar([n for n, _ in ok], [v for _, v in ok], 0.6, color=[COLORS.get(n) for n, _ in ok])
    floor = row.cells.get("numpy")
    if floor is not None and floor.status == "ok":
        ax.axhline(floor.value, color="k", lw=0.8, ls="--", label="numpy forward")
        ax.legend(fontsize=8)
    ax.set_ylabel("peak MB above baseline")
    ax.set_title(f"{row.id}: {row.title} (log scale)", fontsize=10)


def write_png(run, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    speed = [r for r in run["rows"] if r.metric in ("ratio", "us_step")]
    memory = [r for r in run["rows"] if r.metric == "MB"]
    names = [n for n in run["systems"] if n != "numpy"]
    if not speed and not memory:
        return False
    heights = ([4.5] if speed else []) + ([3.0] if memory else [])
    fig, axes = plt.subplots(len(heights), 1, squeeze=False, height_ratios=heights,
                             figsize=(max(8, 0.9 * len(speed) + 3), sum(heights)))
    axes = list(axes[:, 0])
    if speed:
        _speed_panel(axes.pop(0), speed, names)
    if memory:
        _memory_panel(axes.pop(0), memory[0], names)
    for ax in fig.axes:
        ax.set_yscale("log")
        ax.set_axisbelow(True)
        ax.grid(axis="y", which="major", alpha=0.4)
    fig.axes[0].legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_markdown(run, path, png_name):
    meta = run["meta"]
    m = meta["machine"]
    lines = [
        "# functrans benchmark results",
        "",
        f"Generated by `python -m benchmarks{' --quick' if run['options']['quick'] else ''}"
        f"{' --only ' + ','.join(run['options']['only']) if run['options']['only'] else ''}`"
        f" on {meta['date']} ({run['elapsed_s']:.0f} s).",
        "",
        f"Machine: {m['cpu']}, {m['cpu_count']} CPUs, {m['platform']}, Python {m['python']}; "
        "all BLAS/XLA/torch pools pinned to 1 thread; float64 everywhere. Load average "
        f"{run['load_start'][0]:.1f} at the start, {m['load_average'][0]:.1f} at the end: on a "
        "shared machine, compare ratios within a row (measured interleaved) rather than "
        "absolute times across runs.",
        "",
        "Versions: " + ", ".join(f"{n} {v}" for n, v in run["versions"].items()
                                 if n not in ("numpy-manual", "jax-jit")),
        "",
        legend(run),
        "",
        render_markdown(table(run)),
        "",
        "Workloads:",
        "",
    ]
    lines += [f"- **{r.id}**: {r.title}" for r in run["rows"]] + [""]
    abs_rows = table(run, with_target=False, absolute=True)
    if len(abs_rows) > 1:
        lines += ["Median time per call:", "", render_markdown(abs_rows), ""]
    if run.get("chart"):
        lines += [f"![time ratios per workload and system]({png_name})", ""]
    lines += ["Notes:", ""] + [f"- {n}" for n in footnotes(run)] + [""]
    lines += ["How to run: `pip install -r benchmarks/requirements.txt`, then "
              "`python -m benchmarks` (`--quick`, `--only W1,W3`) from the repository root; "
              "the dispatch micro-benchmark is `python -m benchmarks.dispatch`.", ""]
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


def save(run, out_dir):
    run["meta"] = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                   "machine": machine(), "argv": sys.argv[1:]}
    png = os.path.join(out_dir, "results.png")
    try:
        run["chart"] = write_png(run, png)
    except Exception as exc:  # no matplotlib, or a chart that fails: keep the numbers
        run["chart"] = False
        print(f"note: no chart ({type(exc).__name__}: {exc})")
    write_json(run, os.path.join(out_dir, "results.json"))
    write_markdown(run, os.path.join(out_dir, "RESULTS.md"), "results.png")
    return [os.path.join(out_dir, f) for f in ("results.json", "RESULTS.md")] + \
        ([png] if run["chart"] else [])
