"""``omega slice``: put several symbols on one timeline, write the wide frame or show its steps.

Each symbol is loaded as ``omega load`` loads it (:func:`omega_pl.scan_symbol`,
or :func:`omega_pl.scan_aligned` with ``--higher`` so each symbol carries its
own look-ahead-free higher-timeframe columns), gets its ``-i`` indicators on
its own history (:func:`omega_pl.with_indicators`), and all of them go into
one :class:`omega_pl.MultiSymbolSlicer`, whose wide frame is written with
``-o`` and whose first steps are printed with ``--show``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

import omega_pl
from omega_cli.errors import CliError
from omega_cli.inputs import SAMPLE_TIMEFRAME, LoadOptions, symbol_directory, timeframe_names
from omega_cli.options import (
    End,
    NoMarketHours,
    Normalize,
    indicator_option,
    output_option,
    show_option,
    start_option,
    timeframe_option,
)
from omega_cli.output import check_output_path, print_table, write_parquet_atomic
from omega_pl import SAMPLE_SYMBOLS, Timeframe
from omega_pl import How as HowLiteral

__all__ = ["EPILOG", "How", "slice_symbols"]

EPILOG = f"""\
[bold]Examples[/bold]

  omega slice  [dim]# sample data: {", ".join(SAMPLE_SYMBOLS)} on M5, first 10 steps[/dim]

  omega slice data -s EURUSD,GBPUSD,USDJPY -t M5 -o aligned.parquet

  omega slice data -s EURUSD,USDJPY -t M5 --higher H1,D1 -i atr:14 --show 5

  omega slice data -t M1 --how union --start 2025-03-01 --end 2025-03-31 -o m1.parquet

[bold]Timeline[/bold]: intersection (default) keeps the timestamps every symbol
has a bar at; union keeps those of any symbol, and a symbol without a bar at a
step is null there (never filled from an earlier bar).

[bold]Columns[/bold]: time, then per symbol SYMBOL_bid_open … SYMBOL_bid_volume,
SYMBOL_ask_open … SYMBOL_ask_volume, its higher-timeframe columns
(EURUSD_h1_bid_close, EURUSD_h1_bid_time, ...) and its indicator columns
(EURUSD_bid_close_atr_14).

[bold]Higher timeframes[/bold] are read from their own files
(ROOT/SYMBOL/SYMBOL_H1_BID.parquet ...) when a symbol has them, otherwise
resampled from the primary timeframe; the summary says which. A step at time t
sees only higher bars that had closed by t.
"""

_SHOW_DEFAULT = 10


class How(StrEnum):
    """The timeline of ``omega slice --how``."""

    INTERSECTION = "intersection"
    UNION = "union"


@dataclass
class _Run:
    """What to load: the data root, the symbols and their primary timeframe."""

    root: Path
    symbols: list[str]
    timeframe: Timeframe
    sample: bool


@dataclass
class _Loaded:
    """Each symbol's plan, and where its higher timeframes come from."""

    plans: dict[str, pl.LazyFrame] = field(default_factory=dict)
    #: Higher timeframe name -> symbol -> "file" or "resampled".
    origins: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Indicator output columns of one symbol (the same for every symbol).
    indicator_columns: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# options


def _names(values: Sequence[str] | None, option: str, example: str) -> list[str] | None:
    """Comma-separated (and/or repeated) option values, stripped and deduplicated."""
    if values is None:
        return None
    names = [part.strip() for value in values for part in value.split(",")]
    names = [name for name in names if name]
    if not names:
        raise CliError(f"{option} is empty; give names separated by commas, e.g. {example}")
    return list(dict.fromkeys(names))


def _higher(values: Sequence[str] | None) -> list[Timeframe]:
    """The ``--higher`` timeframes, parsed, in order, without repeats."""
    names = _names(values, "--higher", "--higher H1,D1") or []
    tfs = [Timeframe.parse(name) for name in names]
    return list(dict.fromkeys(tfs))


def _check_higher(higher: Iterable[Timeframe], timeframe: Timeframe) -> None:
    for tf in higher:
        if tf.minutes < timeframe.minutes:
            raise CliError(
                f"--higher {tf.name} is shorter than the timeframe {timeframe.name}; "
                "higher timeframes must be at least as long (e.g. -t M5 --higher H1,D1)"
            )


# ---------------------------------------------------------------------------
# resolving ROOT, the symbols and the timeframe


def _symbol_dir_name(root: Path, symbol: str) -> str:
    """``symbol`` as its directory under ``root`` spells it (``eurusd`` -> ``EURUSD``)."""
    return symbol_directory(root, symbol) or symbol


def _common_timeframe(root: Path, symbols: Sequence[str]) -> Timeframe:
    """The one timeframe every symbol has files for; an error naming them otherwise."""
    found = {s: set(omega_pl.candle_timeframes(root / s, s)) for s in symbols}
    common = set.intersection(*found.values())
    if len(common) == 1:
        return common.pop()
    if common:
        raise CliError(
            f"the symbols share {len(common)} timeframes under {root} "
            f"({', '.join(timeframe_names(common))}); choose one with --timeframe/-t"
        )
    listing = "; ".join(
        f"{s}: {', '.join(timeframe_names(tfs)) or 'none'}" for s, tfs in found.items()
    )
    raise CliError(
        f"the symbols share no timeframe under {root} ({listing}); "
        "choose one with --timeframe/-t or leave a symbol out"
    )


def _resolve(
    root: Path | None, symbols: list[str] | None, timeframe: Timeframe | None, err: Console
) -> _Run:
    if root is None:
        with err.status("Preparing sample data (generated on first use) ..."):
            sample_root = omega_pl.datasets.sample_data_root()
        chosen = [_symbol_dir_name(sample_root, s) for s in symbols or SAMPLE_SYMBOLS]
        tf = timeframe or Timeframe.parse(SAMPLE_TIMEFRAME)
        return _Run(sample_root, list(dict.fromkeys(chosen)), tf, sample=True)
    base = root.expanduser()
    if not base.is_dir():
        what = "not a directory" if base.exists() else "no such directory"
        raise CliError(f"ROOT {base}: {what} (expected ROOT/SYMBOL/SYMBOL_TF_BID.parquet or .csv)")
    if symbols is None:
        chosen = omega_pl.candle_symbols(base)
        if not chosen:
            raise CliError(
                f"no symbol directories with candle files under {base} "
                "(expected ROOT/SYMBOL/SYMBOL_TF_BID.parquet or .csv)"
            )
    else:
        chosen = list(dict.fromkeys(_symbol_dir_name(base, s) for s in symbols))
    tf = timeframe or _common_timeframe(base, chosen)
    return _Run(base, chosen, tf, sample=False)


# ---------------------------------------------------------------------------
# loading


def _plan(
    run: _Run, higher: Sequence[Timeframe], specs: Sequence[str], options: LoadOptions
) -> _Loaded:
    """Every symbol's lazy plan (nothing is read yet; missing files raise here)."""
    loaded = _Loaded(origins={tf.name: {} for tf in higher})
    for symbol in run.symbols:
        if higher:
            scan = omega_pl.scan_aligned(
                run.root,
                symbol,
                run.timeframe,
                higher=[tf.name for tf in higher],
                start=options.start,
                end=options.end,
                market_hours=options.market_hours,
                clean_daily=options.clean_daily,
                normalize=options.normalize,
            )
            lf = scan.frame
            for name, origin in scan.origins.items():
                loaded.origins[name][symbol] = origin
        else:
            lf = omega_pl.scan_symbol(
                run.root,
                symbol,
                run.timeframe,
                start=options.start,
                end=options.end,
                market_hours=options.market_hours,
                clean_daily=options.clean_daily,
                normalize=options.normalize,
            )
        if specs:
            before = set(lf.collect_schema().names())
            lf = omega_pl.with_indicators(lf, specs)
            added = [c for c in lf.collect_schema().names() if c not in before]
            loaded.indicator_columns = tuple(added)
        loaded.plans[symbol] = lf
    return loaded


def _collect(
    plans: Mapping[str, pl.LazyFrame], timeframe: Timeframe, err: Console
) -> dict[str, pl.DataFrame]:
    """Run each symbol's plan, with a progress bar on stderr (cleared when done).

    The bar is drawn only on a terminal: elsewhere (a pipe, a log file) rich
    would leave an empty line behind, and stderr is for the one error line.
    """
    frames: dict[str, pl.DataFrame] = {}
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task("Loading", total=len(plans))
        for symbol, lf in plans.items():
            progress.update(task, description=f"Loading {symbol} {timeframe.name}")
            frames[symbol] = lf.collect()
            progress.advance(task)
    return frames


# ---------------------------------------------------------------------------
# output


def _fmt_time(value: datetime, seconds: bool = False) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _price(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:.10g}"


def _steps_table(slicer: omega_pl.MultiSymbolSlicer, show: int) -> Table:
    """The first ``show`` steps: time and every symbol's bid and ask close."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("time (UTC)", no_wrap=True)
    for symbol in slicer.symbols:
        for side in ("bid", "ask"):
            table.add_column(f"{escape(symbol)}\n{side} close", justify="right")
    batch = next(slicer.iter_batches(batch_size=show))
    for step in islice(batch.slices(), show):
        cells = [_fmt_time(step.timestamp)]
        for symbol in slicer.symbols:
            for side in ("bid", "ask"):
                candle = step.get(symbol, side)
                cells.append("[dim]null[/dim]" if candle is None else _price(candle.close))
        table.add_row(*cells)
    return table


def _origins_text(origins: Mapping[str, Mapping[str, str]], timeframe: Timeframe) -> str:
    """``H1 from files, D1 resampled from M5`` (per symbol when symbols differ)."""
    parts = []
    for name, by_symbol in origins.items():
        kinds = {
            kind: [s for s, k in by_symbol.items() if k == kind] for kind in ("file", "resampled")
        }
        words = {"file": "from files", "resampled": f"resampled from {timeframe.name}"}
        present = [k for k, symbols in kinds.items() if symbols]
        if len(present) == 1:
            parts.append(f"{name} {words[present[0]]}")
        else:
            detail = "; ".join(f"{words[k]} for {', '.join(kinds[k])}" for k in present)
            parts.append(f"{name} {detail}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------
# the command


def slice_symbols(
    root: Annotated[
        Path | None,
        typer.Argument(
            metavar="ROOT",
            help=(
                "A data root holding ROOT/SYMBOL/SYMBOL_TF_BID.parquet and ..._ASK.parquet "
                "(or .csv) per symbol. Omitted: the cached sample data (synthetic "
                f"{', '.join(SAMPLE_SYMBOLS)}). Example: omega slice data"
            ),
            show_default=False,
        ),
    ] = None,
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbols",
            "-s",
            metavar="LIST",
            help=(
                "Symbols to align, separated by commas (or the option repeated); their "
                "order is the column order. Default: every symbol directory under ROOT "
                "(sample data: all sample symbols). Example: -s EURUSD,GBPUSD,USDJPY"
            ),
            show_default=False,
        ),
    ] = None,
    timeframe: Annotated[
        str | None,
        timeframe_option(
            "Primary timeframe M<n>, H<n>, D<n> or W1 of every symbol: the timeline is made "
            "of its bars. Optional when all symbols have files of exactly one common "
            "timeframe; sample data: M5. Example: -t M5"
        ),
    ] = None,
    higher: Annotated[
        list[str] | None,
        typer.Option(
            "--higher",
            metavar="LIST",
            help=(
                "Higher timeframes to align onto every symbol's rows, separated by commas: "
                "read from their own files when a symbol has them, else resampled from the "
                "primary timeframe; a row sees only higher bars closed by its time. Adds "
                "SYMBOL_h1_bid_open ... SYMBOL_h1_ask_time. Example: --higher H1,D1"
            ),
            show_default=False,
        ),
    ] = None,
    how: Annotated[
        How,
        typer.Option(
            "--how",
            case_sensitive=False,
            help=(
                "The timeline: 'intersection' keeps the timestamps every symbol has; 'union' "
                "those of any symbol (a symbol is null where it has no bar, never filled). "
                "Example: --how union"
            ),
        ),
    ] = How.INTERSECTION,
    start: Annotated[
        str | None,
        start_option(
            "First bar time to keep for every symbol (and higher timeframe), inclusive, UTC "
            "unless an offset is given; indicators start their warm-up here. "
            "Example: --start 2025-03-01"
        ),
    ] = None,
    end: End = None,
    no_market_hours: NoMarketHours = False,
    normalize: Normalize = False,
    indicator: Annotated[
        list[str] | None,
        indicator_option(
            "An indicator on every symbol, computed on its own rows before the alignment, "
            "as NAME or NAME:V1,V2,... (positional parameters in order, as in 'omega "
            "indicators'); repeat for more. Columns: SYMBOL_bid_close_atr_14 ... "
            "Example: -i atr:14 -i ema:20"
        ),
    ] = None,
    output: Annotated[
        Path | None,
        output_option("the wide aligned frame", "aligned.parquet"),
    ] = None,
    show: Annotated[
        int,
        show_option(
            "Steps to print from the start of the timeline: time and each symbol's bid and "
            "ask close (null: no bar at that step); 0: none. Example: --show 5"
        ),
    ] = _SHOW_DEFAULT,
) -> None:
    """Align several symbols onto one timeline; write the wide frame and/or show the first steps.

    Loads every symbol (bid and ask joined on time, market hours applied),
    optionally aligns higher timeframes and adds indicators per symbol, and
    joins all of them onto a common timeline (omega_pl.MultiSymbolSlicer):
    one row per step, columns time and SYMBOL_bid_open ... SYMBOL_ask_volume.
    Without ROOT it runs on the bundled sample data.
    """
    started = time.perf_counter()
    out = Console()
    err = Console(stderr=True)

    # Validate every option before touching data.
    tf = Timeframe.parse(timeframe) if timeframe is not None else None
    higher_tfs = _higher(higher)
    if tf is not None:
        _check_higher(higher_tfs, tf)
    if start is not None:
        omega_pl.parse_time_bound(start, "--start")
    if end is not None:
        omega_pl.parse_time_bound(end, "--end", end=True)
    target = check_output_path(output) if output is not None else None
    names = _names(symbols, "--symbols", "-s EURUSD,GBPUSD")
    specs = list(indicator or [])
    for text in specs:
        omega_pl.parse_spec(text)
    timeline: HowLiteral = "union" if how is How.UNION else "intersection"

    run = _resolve(root, names, tf, err)
    _check_higher(higher_tfs, run.timeframe)
    keep_all = False if no_market_hours else None
    loaded = _plan(run, higher_tfs, specs, LoadOptions(start, end, keep_all, keep_all, normalize))
    frames = _collect(loaded.plans, run.timeframe, err)
    with err.status(f"Aligning {len(frames)} symbol(s) on the {timeline} timeline ..."):
        slicer = omega_pl.MultiSymbolSlicer(frames, how=timeline)
        steps = len(slicer)
        wide = slicer.frame

    written = None
    if target is not None:
        with err.status(f"Writing {target} ..."):
            written = write_parquet_atomic(wide, target)

    if run.sample:
        out.print(
            f"Using sample data ({', '.join(run.symbols)} {run.timeframe.name}, synthetic) "
            f"from {run.root}; pass ROOT to use your own data.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    first, last = slicer.timeline[0], slicer.timeline[-1]
    out.print(
        f"omega slice: {steps:,} steps of {len(slicer.symbols)} symbols "
        f"({', '.join(slicer.symbols)}) {run.timeframe.name}, "
        f"{_fmt_time(first)} .. {_fmt_time(last)} UTC, timeline: {timeline}",
        style="italic",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if show:
        out.print(f"first {min(show, steps):,} of {steps:,} steps:", markup=False, highlight=False)
        print_table(out, _steps_table(slicer, show))

    summary = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    summary.add_column("what", style="bold")
    summary.add_column("value", overflow="fold")
    summary.add_row("source", escape("sample data (synthetic)" if run.sample else str(run.root)))
    if loaded.origins:
        summary.add_row("higher", escape(_origins_text(loaded.origins, run.timeframe)))
    if specs:
        summary.add_row("indicators", escape(", ".join(specs)))
        columns = ", ".join(f"SYMBOL_{c}" for c in loaded.indicator_columns)
        summary.add_row("indicator columns", escape(columns))
    rows = ", ".join(f"{s} {f.height:,}" for s, f in frames.items())
    summary.add_row("rows per symbol", escape(rows))
    per_symbol = (wide.width - 1) // len(slicer.symbols)
    example = slicer.column(slicer.symbols[0], "open")
    summary.add_row(
        "columns", escape(f"{wide.width:,}: time + {per_symbol:,} per symbol ({example} ...)")
    )
    if written is not None:
        summary.add_row("written", escape(str(written)))
    summary.add_row("elapsed", f"{time.perf_counter() - started:.2f} s")
    out.print(summary)
