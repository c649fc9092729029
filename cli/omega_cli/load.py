"""``omega load``: load one symbol's candles, print a summary, optionally write Parquet."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

import omega_pl
from omega_cli.errors import CliError
from omega_cli.inputs import (
    SAMPLE_SYMBOL,
    SAMPLE_TIMEFRAME,
    LoadOptions,
    LoadPlan,
    plan_file,
    plan_root,
)
from omega_cli.options import (
    Encoding,
    End,
    NoMarketHours,
    Normalize,
    Start,
    output_option,
    symbol_option,
    timeframe_option,
)
from omega_cli.output import check_output_path, write_parquet_atomic
from omega_pl import CandleSummary, ParameterError, Timeframe

__all__ = ["EPILOG", "load"]

EPILOG = """\
[bold]Examples[/bold]

  omega load  [dim]# sample data: EURUSD M5, generated once and cached[/dim]

  omega load -s USDJPY -t H1  [dim]# another symbol/timeframe of the sample data[/dim]

  omega load data -s EURUSD -t M5 --start 2025-03-01 --end 2025-03-31 -o out.parquet

  omega load data/EURUSD/EURUSD_M1_BID.csv --no-market-hours

  omega load data/EURUSD -t D1  [dim]# a symbol directory: the symbol is its name[/dim]

[bold]Data layout[/bold]: ROOT/SYMBOL/SYMBOL_TF_BID.parquet and ..._ASK.parquet
(or .csv; Parquet is preferred). A root loads bid and ask joined on time; a
single file loads one side (no spread).
"""

# ---------------------------------------------------------------------------
# output


def _fmt_time(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_pips(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _summary_table(
    plan: LoadPlan,
    summary: CandleSummary,
    *,
    filters: str,
    window: str,
    pip_note: str,
    output: Path | None,
    elapsed: float,
) -> Table:
    title = f"omega load: {plan.symbol or '?'} {plan.timeframe.name}"
    table = Table(title=title, box=box.SIMPLE_HEAD, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("source", plan.source)
    table.add_row("window", window)
    table.add_row("filters", filters)
    table.add_row("rows", f"{summary.rows:,}")
    table.add_row("first bar", _fmt_time(summary.first))
    table.add_row("last bar", _fmt_time(summary.last))
    table.add_row("expected bars", f"{summary.expected_bars:,} (inside market hours)")
    share = (
        f" ({summary.missing_bars / summary.expected_bars:.2%})" if summary.expected_bars else ""
    )
    table.add_row("missing bars", f"{summary.missing_bars:,}{share}")
    if summary.spread_median is None:
        table.add_row("spread", "- (needs bid and ask; a single file is one side)")
    else:
        spreads = " / ".join(
            _fmt_pips(v) for v in (summary.spread_min, summary.spread_median, summary.spread_max)
        )
        table.add_row("spread min / median / max", f"{spreads} {pip_note}")
    table.add_row("files read", "\n".join(str(p) for p in plan.files))
    if output is not None:
        table.add_row("written", str(output))
    table.add_row("elapsed", f"{elapsed:.2f} s")
    return table


# ---------------------------------------------------------------------------
# the command


def load(
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH",
            help=(
                "A data root (ROOT/SYMBOL/SYMBOL_TF_BID.parquet …), one symbol directory "
                "(ROOT/EURUSD) or one candle file (EURUSD_M5_BID.csv). Omitted: the cached "
                "sample data. Example: omega load data"
            ),
            show_default=False,
        ),
    ] = None,
    symbol: Annotated[
        str | None,
        symbol_option(
            "Symbol to load from a data root; optional when the root holds one symbol "
            "(sample data: EURUSD). Example: -s USDJPY"
        ),
    ] = None,
    timeframe: Annotated[
        str | None,
        timeframe_option(
            "Timeframe M<n>, H<n>, D<n> or W1. Optional when a root has one timeframe for "
            "the symbol or a file name carries it (EURUSD_M5_BID.csv); sample data: M5. "
            "Example: -t H1"
        ),
    ] = None,
    start: Start = None,
    end: End = None,
    no_market_hours: NoMarketHours = False,
    normalize: Normalize = False,
    encoding: Encoding = "utf-8",
    output: Annotated[Path | None, output_option("the loaded frame", "eurusd_m5.parquet")] = None,
    pip: Annotated[
        float | None,
        typer.Option(
            "--pip",
            metavar="SIZE",
            help=(
                "Pip size in price units for the spread statistics; default from the symbol "
                "(0.0001 FX, 0.01 JPY pairs, 0.1 XAU, 0.01 XAG). Example: --pip 1.0"
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load one symbol's candles, print a summary and optionally write Parquet.

    Reads bid and ask from a data root (joined on time) or one candle file,
    applies the time window and the market-hours filter (SPEC 4.1-4.3), and
    prints rows, time range, expected and missing bars inside market hours,
    spread in pips, the files read and the elapsed time. Without PATH it runs
    on the bundled sample data (generated once, then cached).
    """
    started = time.perf_counter()
    out = Console()
    err = Console(stderr=True)

    # Validate every option before touching data, so a bad value costs nothing.
    tf = Timeframe.parse(timeframe) if timeframe is not None else None
    if start is not None:
        omega_pl.parse_time_bound(start, "--start")
    if end is not None:
        omega_pl.parse_time_bound(end, "--end", end=True)
    if pip is not None and not pip > 0.0:
        raise ParameterError(f"--pip must be positive, got {pip}")
    target = check_output_path(output) if output is not None else None
    keep_all = False if no_market_hours else None
    options = LoadOptions(start, end, keep_all, keep_all, normalize, encoding)

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
        out.print(
            f"Using sample data ({plan.symbol} {plan.timeframe.name}, synthetic) from {root}; "
            "pass PATH to load your own files.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    else:
        source = path.expanduser()
        if source.is_dir():
            plan = plan_root(source, symbol, tf, options)
        elif source.is_file():
            plan = plan_file(source, symbol, tf, options)
        else:
            raise CliError(f"no such file or directory: {source}")

    with err.status(f"Loading {plan.symbol or plan.source} {plan.timeframe.name} ..."):
        frame = plan.frame.collect()

    pip_note = "pips"
    pip_used = pip
    if pip_used is None and plan.symbol is not None and "bid_close" in frame.columns:
        try:
            omega_pl.pip_size(plan.symbol)
        except ParameterError:
            pip_used, pip_note = 1.0, f"price units (no pip rule for {plan.symbol}; see --pip)"
    summary = omega_pl.summarize(frame, plan.timeframe, symbol=plan.symbol, pip=pip_used)
    if summary.pip is not None and pip_note == "pips":
        pip_note = f"pips (pip = {summary.pip:g})"

    written = None
    if target is not None:
        with err.status(f"Writing {target} ..."):
            written = write_parquet_atomic(frame, target)

    if no_market_hours:
        filters = "none (--no-market-hours)"
    elif plan.timeframe.is_intraday:
        filters = "market hours (Sydney session)"
    elif plan.timeframe.is_daily:
        filters = "daily cleanup (UTC weekends, flat zero-volume bars)"
    else:
        filters = "none"
    if normalize:
        filters += ", timestamps floored to the timeframe"
    window = f"{start or 'beginning'} .. {end or 'end'}"
    out.print(
        _summary_table(
            plan,
            summary,
            filters=filters,
            window=window,
            pip_note=pip_note,
            output=written,
            elapsed=time.perf_counter() - started,
        )
    )
