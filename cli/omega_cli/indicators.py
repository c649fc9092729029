"""``omega indicators``: compute indicators on loaded candles, preview them, write Parquet.

The indicators come from ``-i`` shorthand specs (``-i atr:14 -i macd``) and/or
a TOML spec file (``--spec file.toml``, read by :func:`omega_pl.read_spec_file`); both go to
:func:`omega_pl.with_indicators`, which plans them as one ``with_columns``.
The input is loaded like ``omega load`` does (a data root, a symbol directory
or a candle file, through the same resolution code) or read as is from any
other Parquet file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import omega_pl
from omega_cli.errors import CliError
from omega_cli.inputs import SAMPLE_SYMBOL, SAMPLE_TIMEFRAME, LoadOptions, plan_file, plan_root
from omega_cli.options import (
    Encoding,
    End,
    indicator_option,
    no_market_hours_option,
    output_option,
    show_option,
    start_option,
    symbol_option,
    timeframe_option,
)
from omega_cli.output import check_output_path, print_table, write_parquet_atomic
from omega_pl import ParameterError, Timeframe
from omega_pl.io import PARQUET_SUFFIXES

__all__ = ["DEFAULT_SPECS", "EPILOG", "indicators"]

#: Indicators computed when neither ``-i`` nor ``--spec`` is given.
DEFAULT_SPECS = ("ema:20", "rsi:14", "atr:14", "macd:12,26,9")

EPILOG = f"""\
[bold]Examples[/bold]

  omega indicators  [dim]# sample data (EURUSD M5), default set {", ".join(DEFAULT_SPECS)}[/dim]

  omega indicators data -s EURUSD -t M5 -i ema:50 -i bollinger:20,2 -o out.parquet

  omega indicators eurusd_m5.parquet --spec examples/indicators.toml --show 5

  omega indicators -i atr:14 --source ask_close

[bold]Specs[/bold]: -i NAME or NAME:V1,V2,... with the indicator's positional
parameters in order (macd:12,26,9 = fast, slow, signal). Keyword-only options
(reseed, exact_std, convention, bar, high, low, ...) need the TOML file:

  source = "bid_close"        [dim]# optional default source[/dim]
  [\\[indicator]]
  name = "bollinger"
  period = 20
  std_factor = 2.0
  alias = "bb"                [dim]# columns bb_upper, bb_middle, bb_lower[/dim]

[bold]Output columns[/bold]: SOURCE_NAME_P1_P2... with every positional value
(given or default), e.g. bid_close_atr_14, bid_close_macd_12_26_9_signal; an
alias replaces the SOURCE_NAME_P1... stem.

[bold]Indicators[/bold]: {", ".join(omega_pl.INDICATORS)}.
"""


@dataclass(frozen=True)
class _Input:
    """The frame to work on and how to describe it."""

    label: str
    frame: pl.LazyFrame
    symbol: str | None = None
    timeframe: Timeframe | None = None
    sample: bool = False


# ---------------------------------------------------------------------------
# specs


def _check_each(
    frame: pl.LazyFrame, specs: Sequence[tuple[str, Any]], source: str | None, over: str | None
) -> None:
    """Plan every spec alone, so an error names where the spec came from."""
    for origin, spec in specs:
        try:
            omega_pl.plan_indicators(frame, [spec], source=source, over=over)
        except ParameterError as exc:
            if not origin:
                raise
            raise ParameterError(f"{origin}: {exc}") from None


# ---------------------------------------------------------------------------
# input


def _time_filter(lf: pl.LazyFrame, start: str | None, end: str | None, label: str) -> pl.LazyFrame:
    """``start <= time <= end`` on a frame read as is (naive ``time`` is UTC)."""
    if start is None and end is None:
        return lf
    dtype = lf.collect_schema().get("time")
    if not isinstance(dtype, pl.Datetime):
        omega_pl.time_window(start, end)  # a bad window is the error to report first
        found = f"a {dtype} 'time' column" if dtype is not None else "no 'time' column"
        raise CliError(f"--start/--end need a Datetime 'time' column; {label} has {found}")
    return lf.filter(omega_pl.time_window(start, end, dtype=dtype))


def _plain_parquet(
    path: Path,
    symbol: str | None,
    timeframe: str | None,
    no_market_hours: bool,
    start: str | None,
    end: str | None,
) -> _Input:
    """Any Parquet frame not named like a candle file, read lazily as is."""
    loader_only = {"--timeframe": timeframe is not None, "--no-market-hours": no_market_hours}
    for option, given in loader_only.items():
        if given:
            raise CliError(
                f"{option} applies to a data root or a candle file (SYMBOL_TF_BID.parquet); "
                f"{path.name} is read as is"
            )
    lf = pl.scan_parquet(path)
    schema = lf.collect_schema()
    if symbol is not None:
        if "symbol" not in schema:
            raise CliError(f"--symbol needs a 'symbol' column; {path} has none")
        lf = lf.filter(pl.col("symbol") == symbol)
    return _Input(str(path), _time_filter(lf, start, end, str(path)), symbol)


def _resolve_input(
    path: Path | None,
    symbol: str | None,
    timeframe: str | None,
    options: LoadOptions,
    no_market_hours: bool,
    err: Console,
) -> _Input:
    tf = Timeframe.parse(timeframe) if timeframe is not None else None
    if path is None:
        with err.status("Preparing sample data (generated on first use) ..."):
            root = omega_pl.datasets.sample_data_root()
        plan = plan_root(
            root,
            symbol or SAMPLE_SYMBOL,
            tf or Timeframe.parse(SAMPLE_TIMEFRAME),
            options,
            sample=True,
        )
        return _Input(str(root), plan.frame, plan.symbol, plan.timeframe, sample=True)
    source = path.expanduser()
    if source.is_dir():
        plan = plan_root(source, symbol, tf, options)
    elif source.is_file():
        suffix = source.suffix.lower()
        if suffix in PARQUET_SUFFIXES and omega_pl.parse_candle_file_name(source) is None:
            return _plain_parquet(
                source, symbol, timeframe, no_market_hours, options.start, options.end
            )
        plan = plan_file(source, symbol, tf, options)
    else:
        raise CliError(f"no such file or directory: {source}")
    return _Input(plan.source, plan.frame, plan.symbol, plan.timeframe)


# ---------------------------------------------------------------------------
# output


def _cell(value: object) -> str:
    if value is None:
        return "[dim]null[/dim]"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return escape(str(value))


def _preview(frame: pl.DataFrame, columns: Sequence[str], show: int) -> Table:
    keys = [c for c in ("symbol", "time") if c in frame.columns and c not in columns]
    tail = frame.tail(show).select(*keys, *columns)
    table = Table(box=box.SIMPLE_HEAD)
    for name in tail.columns:
        header = escape(name)
        dtype = tail.schema[name]
        if name == "time" and isinstance(dtype, pl.Datetime):
            header = f"time ({dtype.time_zone or 'UTC'})"
        if name in keys:
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, justify="right", no_wrap=True)
    for row in tail.iter_rows():
        table.add_row(*(_cell(v) for v in row))
    return table


# ---------------------------------------------------------------------------
# the command


def indicators(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="INPUT",
            help=(
                "A data root (ROOT/SYMBOL/SYMBOL_TF_BID.parquet …), a symbol directory or a "
                "candle file (EURUSD_M5_BID.csv), loaded as 'omega load' does; or any other "
                "Parquet file (e.g. written by 'omega load -o'), read as is and computed per "
                "symbol if it has a 'symbol' column. Omitted: the cached sample data (EURUSD M5). "
                "Example: omega indicators data"
            ),
            show_default=False,
        ),
    ] = None,
    indicator: Annotated[
        list[str] | None,
        indicator_option(
            "An indicator as NAME or NAME:V1,V2,... (positional parameters in order); "
            "repeat for more. Without -i and --spec: "
            f"{', '.join(DEFAULT_SPECS)}. Example: -i atr:14 -i macd:12,26,9"
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            metavar="FILE",
            help=(
                "A TOML file with [\\[indicator]] tables (name, parameters by name incl. "
                "keyword-only options, optional source and alias) and an optional top-level "
                "source; combines with -i. Example: --spec examples/indicators.toml"
            ),
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            metavar="COLUMN",
            help=(
                "Input column of specs that name none (the close for OHLC indicators, whose "
                "high/low are found by name). Default: the spec file's source, else 'close' "
                "if present, else 'bid_close'. Example: --source ask_close"
            ),
            show_default=False,
        ),
    ] = None,
    symbol: Annotated[
        str | None,
        symbol_option(
            "Symbol to load from a data root (optional when it holds one; sample data: "
            "EURUSD); for a Parquet frame with a 'symbol' column, the rows to keep. "
            "Example: -s USDJPY"
        ),
    ] = None,
    timeframe: Annotated[
        str | None,
        timeframe_option(
            "Timeframe M<n>, H<n>, D<n> or W1 of a data root or candle file (optional when "
            "there is only one, or the file name carries it; sample data: M5). Example: -t H1"
        ),
    ] = None,
    start: Annotated[
        str | None,
        start_option(
            "First bar time to keep, inclusive, UTC unless an offset is given; indicators "
            "start their warm-up here. Example: --start 2025-03-01"
        ),
    ] = None,
    end: End = None,
    no_market_hours: Annotated[
        bool,
        no_market_hours_option(
            "Keep every bar of a data root or candle file: skip the Sydney market-hours "
            "mask (intraday) and the weekend/flat-bar cleanup (D*). Example: --no-market-hours"
        ),
    ] = False,
    encoding: Encoding = "utf-8",
    show: Annotated[
        int,
        show_option("Rows of the preview (the last N rows; 0: none). Example: --show 5"),
    ] = 10,
    output: Annotated[
        Path | None,
        output_option("the frame with the indicator columns", "indicators.parquet"),
    ] = None,
) -> None:
    """Compute indicators on candles, preview the last rows and optionally write Parquet.

    All indicators run as one Polars plan (omega_pl.with_indicators). Output
    columns are named SOURCE_NAME_PARAMS (bid_close_atr_14), Struct results
    (macd, bollinger, dmi) get one column per field. Without INPUT it runs on
    the bundled sample data; without -i/--spec on a default set.
    """
    started = time.perf_counter()
    out = Console()
    err = Console(stderr=True)

    # Validate every option and spec before touching data.
    if timeframe is not None:
        Timeframe.parse(timeframe)
    if start is not None:
        omega_pl.parse_time_bound(start, "--start")
    if end is not None:
        omega_pl.parse_time_bound(end, "--end", end=True)
    target = check_output_path(output) if output is not None else None
    specs: list[tuple[str, Any]] = []
    for text in indicator or []:
        omega_pl.parse_spec(text)
        specs.append(("", text))
    file_source = None
    if spec is not None:
        spec_path = spec.expanduser()
        file_source, tables = omega_pl.read_spec_file(spec_path)
        specs += [(f"{spec_path}: [[indicator]] #{i}", t) for i, t in enumerate(tables, start=1)]
    defaults = not specs
    if defaults:
        specs = [("", text) for text in DEFAULT_SPECS]
    default_source = source or file_source

    keep_all = False if no_market_hours else None
    options = LoadOptions(start, end, keep_all, keep_all, False, encoding)
    data = _resolve_input(path, symbol, timeframe, options, no_market_hours, err)
    over = "symbol" if "symbol" in data.frame.collect_schema() else None
    _check_each(data.frame, specs, default_source, over)
    plan = omega_pl.plan_indicators(
        data.frame, [s for _, s in specs], source=default_source, over=over
    )

    if data.sample:
        out.print(
            f"Using sample data ({data.symbol} {data.timeframe.name if data.timeframe else ''}, "
            f"synthetic) from {data.label}; pass INPUT to use your own data.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if defaults:
        out.print(
            f"No -i/--spec given: computing the default set {', '.join(DEFAULT_SPECS)} "
            "(see 'omega indicators --help').",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    what = " ".join(x for x in (data.symbol, data.timeframe.name if data.timeframe else None) if x)
    with err.status(f"Computing {len(specs)} indicator(s) on {what or data.label} ..."):
        frame = plan.apply(data.frame).collect()

    written = None
    if target is not None:
        with err.status(f"Writing {target} ..."):
            written = write_parquet_atomic(frame, target)

    if show:
        shown = min(show, frame.height)
        out.print(
            f"omega indicators: {what or data.label} (last {shown:,} of {frame.height:,} rows)",
            style="italic",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        print_table(out, _preview(frame, plan.columns, show))
    summary = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    summary.add_column("what", style="bold")
    summary.add_column("value", overflow="fold")
    summary.add_row("source", "sample data (synthetic)" if data.sample else data.label)
    summary.add_row("rows", f"{frame.height:,}")
    labels = [s if isinstance(s, str) else omega_pl.parse_spec(s).label() for _, s in specs]
    summary.add_row("indicators", ", ".join(labels))
    summary.add_row("columns", ", ".join(plan.columns))
    if written is not None:
        summary.add_row("written", str(written))
    summary.add_row("elapsed", f"{time.perf_counter() - started:.2f} s")
    out.print(summary)
