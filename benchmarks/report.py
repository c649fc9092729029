"""Turn a ``--benchmark-json`` run into ``benchmarks/README.md``.

Usage::

    python -m pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json            # writes benchmarks/README.md
    python benchmarks/report.py bench.json --stdout   # prints it instead

The document is generated, never edited by hand: a header naming the run,
the indicator table (one line per indicator and size with the medians of
omega_pl, its TA-Lib convention, TA-Lib and the pandas reference, their
ratios and the targets), one table per other benchmark group, and last the
hand-written ``notes.md`` (what the numbers mean, and their history).

Indicator targets: 10M rows, TA-Lib-comparable: ``convention="talib"`` ≤
1.25× TA-Lib (DMI/ADX: < 1×), and the reference semantics (omega) ≤ 1.25×
TA-Lib (DMI counted as +DI, −DI and ADX together), on the line with Polars'
default allocator and on the ``10M, POLARS_THP=1`` line, where both sides
ran in one worker process with Polars' opt-in huge pages; 1M rows,
loop-based pandas reference: omega ≥ 100× faster;
``kalman_garch_zscore_local(lookback=400)`` at 1M: ≤ 1 s; the batch of ten
at 10M: ≤ 250 ms. Every line with a target is also printed, with its ratio.

Other groups: a row whose ``extra_info["floor"]`` is true is what the others
are compared with (``÷ floor``, their median over its median); a row's
``extra_info["target_ratio"]`` (≤ that ratio to the floor) or
``extra_info["target_s"]`` (median ≤ that many seconds) is its target.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TALIB_LIMIT = 1.25
DMI_LIMIT = 1.0
PANDAS_SPEEDUP = 100.0
LOCAL_LIMIT_S = 1.0
BATCH_LIMIT_S = 0.250
# pandas references that are Python loops per row (the >= 100x target, at 1M)
LOOPS = {
    "atr",
    "kalman_mean",
    "kalman_zscore",
    "garch_volatility",
    "kalman_garch_zscore",
    "vol_cluster",
    "garch_volatility_local",
    "kalman_garch_zscore_local",
}
IMPLS = ("omega", "omega_talib", "talib", "pandas")
# rows timed while other processes kept more than this many cores busy get a mark
NOISY = 0.25


def fmt_time(seconds: float | None, approx: bool = False) -> str:
    if seconds is None:
        return "—"
    mark = "≈ " if approx else ""
    if seconds >= 1.0:
        return f"{mark}{seconds:.3g} s" if seconds < 1000 else f"{mark}{seconds:.0f} s"
    ms = seconds * 1e3
    return f"{mark}{ms:.3g} ms" if ms >= 1 else f"{mark}{ms:.2f} ms"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}×"
    return f"{value:.3g}×"


def div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def load(path: Path) -> tuple[list[tuple[str, str]], dict[tuple[str, str], dict[str, Any]], dict]:
    """Rows ``(indicator, size)`` in run order and ``{(indicator, size): {impl: info}}``."""
    doc = json.loads(path.read_text())
    order: list[tuple[str, str]] = []
    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for bench in doc["benchmarks"]:
        info = bench.get("extra_info", {})
        if "indicator" not in info:
            continue
        key = (info["indicator"], info["size"])
        if key not in cells:
            order.append(key)
        scale = float(info.get("scale", 1.0))
        cells[key][info["impl"]] = {
            "median": bench["stats"]["median"] * scale,
            "scaled": scale != 1.0,
            "rows_computed": info.get("rows_computed"),
            "other_cpu": float(info.get("other_cpu", 0.0)),
        }
    # each indicator's lines together (sizes in run order), the batch last
    first = {name: i for i, (name, _) in reversed(list(enumerate(order)))}
    order.sort(key=lambda k: (k[0] == "batch", first[k[0]]))
    return order, cells, doc


def judge(name: str, size: str, m: dict[str, float | None]) -> tuple[str, str]:
    """(target, met) for one line; empty when the issue sets no target there."""
    targets, verdicts = [], []
    if name == "batch":
        targets.append(f"≤ {BATCH_LIMIT_S * 1e3:.0f} ms")
        bad = []
        for impl, label in (("omega", "reference"), ("omega_talib", "talib conv.")):
            t = m[impl]
            if t is not None and t > BATCH_LIMIT_S:
                bad.append(label)
        verdicts.append("✔" if not bad else "✘ " + ", ".join(bad))
        return "; ".join(targets), "; ".join(verdicts)
    if size == "10M" and m["talib"] is not None:
        limit = DMI_LIMIT if name == "dmi" else TALIB_LIMIT
        targets.append(
            "talib conv. < 1× TA-Lib" if name == "dmi" else f"talib conv. ≤ {limit}× TA-Lib"
        )
        ratio = div(m["omega_talib"], m["talib"])
        if ratio is None:
            verdicts.append("? (talib conv. not run)")
        else:
            ok = ratio < limit if name == "dmi" else ratio <= limit
            verdicts.append("✔" if ok else f"✘ ({ratio:.2f}×)")
    if size.startswith("10M") and m["talib"] is not None:
        targets.append(f"omega ≤ {TALIB_LIMIT}× TA-Lib")
        ratio = div(m["omega"], m["talib"])
        if ratio is None:
            verdicts.append("? (omega not run)")
        else:
            verdicts.append("✔" if ratio <= TALIB_LIMIT else f"✘ ({ratio:.2f}×)")
    if size == "1M" and name in LOOPS:
        targets.append(f"≥ {PANDAS_SPEEDUP:.0f}× pandas")
        speedup = div(m["pandas"], m["omega"])
        if speedup is None:
            verdicts.append("?")
        else:
            verdicts.append("✔" if speedup >= PANDAS_SPEEDUP else f"✘ ({speedup:.0f}×)")
    if size == "1M" and name == "kalman_garch_zscore_local":
        targets.append(f"≤ {LOCAL_LIMIT_S:.0f} s")
        t = m["omega"]
        verdicts.append("?" if t is None else "✔" if t <= LOCAL_LIMIT_S else "✘")
    return "; ".join(targets), "; ".join(verdicts)


def cell(row: dict[str, Any], impl: str, approx: bool = False) -> str:
    """A median, marked † when other processes were busy while it was timed."""
    if impl not in row:
        return "—"
    text = fmt_time(row[impl]["median"], approx=approx)
    return text + "†" if row[impl]["other_cpu"] > NOISY else text


def render(path: Path) -> str:
    order, cells, doc = load(path)
    lines = [
        "| indicator | rows | omega | omega `talib` conv. | TA-Lib | pandas ref. "
        "| talib conv. ÷ TA-Lib | omega ÷ TA-Lib | pandas ÷ omega | target | met? |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    scaled_note = False
    noisy = any(c["other_cpu"] > NOISY for row in cells.values() for c in row.values())
    for name, size in order:
        row = cells[(name, size)]
        m: dict[str, float | None] = {i: row[i]["median"] if i in row else None for i in IMPLS}
        pandas_scaled = "pandas" in row and row["pandas"]["scaled"]
        scaled_note |= pandas_scaled
        target, met = judge(name, size, m)
        label = "batch of 10 (`with_indicators`)" if name == "batch" else f"`{name}`"
        pandas_cell = cell(row, "pandas", pandas_scaled) + ("¹" if pandas_scaled else "")
        cols = [
            label,
            size,
            cell(row, "omega"),
            cell(row, "omega_talib"),
            cell(row, "talib"),
            pandas_cell,
            fmt_ratio(div(m["omega_talib"], m["talib"])),
            fmt_ratio(div(m["omega"], m["talib"])),
            fmt_ratio(div(m["pandas"], m["omega"])),
            target or "—",
            met or "",
        ]
        lines.append("| " + " | ".join(cols) + " |")
    cpu = doc.get("machine_info", {}).get("cpu", {})
    builds = sorted(
        {b["extra_info"].get("plugin_built_utc", "?") for b in doc["benchmarks"]} - {"?"}
    )
    notes = [
        "",
        f"Medians; {cpu.get('count', '?')} cores ({cpu.get('brand_raw', '?')}), "
        f"Python {doc.get('machine_info', {}).get('python_version', '?')}, "
        f"run {doc.get('datetime', '?')[:16]} UTC"
        + (f", extension built {', '.join(builds)} UTC" if builds else "")
        + ". omega = `df.select(expr)` including Polars "
        "overhead; TA-Lib on the NumPy arrays of the same columns (DMI = `PLUS_DI` + "
        "`MINUS_DI` + `ADX`; the batch's TA-Lib side is the 11 calls for the first nine "
        "indicators, Kalman has no TA-Lib counterpart).",
    ]
    if scaled_note:
        notes.append(
            "¹ per-row `_local` reference: timed on the last rows only and scaled to all rows "
            "(its cost is the same for every row with a full window)."
        )
    if noisy:
        notes.append(
            f"† timed while other processes kept more than {NOISY} of a core busy on "
            'average (`extra_info["other_cpu"]`): likely slowed down.'
        )
    return "\n".join(lines + notes)


def _label(bench: dict[str, Any]) -> str:
    name = str(bench["name"]).removeprefix("test_")
    return name.replace("[", " [", 1)


def _extra(info: dict[str, Any]) -> str:
    hidden = {"floor", "target_ratio", "target_s", "other_cpu", "plugin_built_utc"}
    return ", ".join(f"{k}={v}" for k, v in info.items() if k not in hidden)


def group_target(info: dict[str, Any], median: float, ratio: float | None) -> tuple[str, str]:
    """(target, met) of a row of the other groups, from its ``extra_info``."""
    if "target_ratio" in info:
        met = "?" if ratio is None else ("✔" if ratio <= info["target_ratio"] else "✘")
        return f"≤ {info['target_ratio']}× floor", met
    if "target_s" in info:
        met = "✔" if median <= float(info["target_s"]) else "✘"
        return f"≤ {fmt_time(float(info['target_s']))}", met
    return "—", ""


def _floors(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The floor row of each group of the other benchmarks."""
    floors: dict[str, dict[str, Any]] = {}
    for bench in doc["benchmarks"]:
        if bench.get("extra_info", {}).get("floor"):
            floors.setdefault(bench.get("group") or bench["name"], bench)
    return floors


def summary(path: Path) -> str:
    """Every line with a target, its ratio and whether it is met (printed by
    ``main``): the indicator lines, then the other groups' rows."""
    order, cells, doc = load(path)
    out = []
    for name, size in order:
        row = cells[(name, size)]
        m: dict[str, float | None] = {i: row[i]["median"] if i in row else None for i in IMPLS}
        target, met = judge(name, size, m)
        if not target:
            continue
        ratios = [
            f"{label} {fmt_ratio(div(a, b))}"
            for label, a, b in (
                ("omega ÷ TA-Lib", m["omega"], m["talib"]),
                ("talib conv. ÷ TA-Lib", m["omega_talib"], m["talib"]),
                ("pandas ÷ omega", m["pandas"], m["omega"]),
            )
            if div(a, b) is not None
        ]
        times = ", ".join(f"{i} {fmt_time(m[i])}" for i in IMPLS if m[i] is not None)
        out.append(f"{name} {size}: {'; '.join([times, *ratios])} | {target}: {met}")
    floors = _floors(doc)
    for bench in doc["benchmarks"]:
        info = bench.get("extra_info", {})
        if "indicator" in info or not ({"target_ratio", "target_s"} & info.keys()):
            continue
        floor = floors.get(bench.get("group") or bench["name"])
        median = bench["stats"]["median"]
        base = None if floor is None or floor is bench else floor["stats"]["median"]
        target, met = group_target(info, median, div(median, base))
        ratio = "" if base is None else f", {fmt_ratio(div(median, base))} floor"
        out.append(f"{_label(bench)}: {fmt_time(median)}{ratio} | {target}: {met}")
    return "\n".join(out)


def render_groups(doc: dict[str, Any]) -> str:
    """One table per benchmark group that is not an indicator row."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for bench in doc["benchmarks"]:
        if "indicator" in bench.get("extra_info", {}):
            continue
        groups[bench.get("group") or bench["name"]].append(bench)
    out: list[str] = []
    floors = _floors(doc)
    for group, rows in groups.items():
        floor = floors.get(group)
        out += [
            f"### {group}",
            "",
            "| case | median | min | rounds | ÷ floor | target | met? | notes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for bench in rows:
            info = bench.get("extra_info", {})
            median, low = bench["stats"]["median"], bench["stats"]["min"]
            base = None if floor is None or bench is floor else floor["stats"]["median"]
            ratio = div(median, base)
            target, met = group_target(info, median, ratio)
            mark = "†" if float(info.get("other_cpu", 0.0)) > NOISY else ""
            label = _label(bench) + (" (floor)" if bench is floor else "")
            cols = [
                label,
                fmt_time(median) + mark,
                fmt_time(low),
                str(bench["stats"]["rounds"]),
                fmt_ratio(ratio),
                target,
                met,
                _extra(info) or "",
            ]
            out.append("| " + " | ".join(cols) + " |")
        out.append("")
    return "\n".join(out)


def document(path: Path) -> str:
    """The whole ``benchmarks/README.md`` for the run in ``path``."""
    doc = json.loads(path.read_text())
    info = doc.get("machine_info", {})
    cpu = info.get("cpu", {})
    parts = [
        "# Benchmarks",
        "",
        "<!-- Generated by benchmarks/report.py from a --benchmark-json run; do not edit. -->",
        "",
        "```bash",
        "python -m pytest benchmarks --benchmark-only --benchmark-json=bench.json",
        "python benchmarks/report.py bench.json",
        "```",
        "",
        f"Run {doc.get('datetime', '?')[:16]} UTC on {cpu.get('count', '?')} cores "
        f"({cpu.get('brand_raw', '?')}), Python {info.get('python_version', '?')}; "
        "medians unless noted. † marks rows timed while other processes kept more "
        f'than {NOISY} of a core busy (`extra_info["other_cpu"]`).',
        "",
    ]
    if any("indicator" in b.get("extra_info", {}) for b in doc["benchmarks"]):
        parts += ["## Indicators", "", render(path), ""]
    groups = render_groups(doc)
    if groups:
        parts += ["## Everything else", "", groups]
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        parts += ["", notes.read_text().replace("# Notes and history", "## Notes and history", 1)]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print("usage: python benchmarks/report.py bench.json [--stdout]", file=sys.stderr)
        return 2
    text = document(Path(args[0]))
    if "--stdout" in argv:
        print(text)
    else:
        target = Path(__file__).with_name("README.md")
        target.write_text(text)
        print(summary(Path(args[0])))
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
