"""``omega dataset``: build many symbols' candles + indicators as one Parquet dataset.

A thin front end of :func:`omega_pl.build_dataset`: the options map one to one
onto its arguments, a Rich progress bar follows the symbols (done, failed,
running, rows written) and a table sums up what was written. Every option is
checked before any work (exit code 2 with one ``error:`` line); a symbol that
fails does not stop the others, and any failure makes the exit code 1.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

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
from omega_cli.errors import CliError, one_line
from omega_cli.options import End, NoMarketHours, indicator_option, start_option, timeframe_option
from omega_cli.output import print_table
from omega_pl import SAMPLE_SYMBOLS, Timeframe
from omega_pl.universe import BuildEvent, DatasetReport

__all__ = ["EPILOG", "EXIT_FAILED", "Engine", "dataset"]

EPILOG = f"""\
[bold]Examples[/bold]

  omega dataset -o dataset  [dim]# sample data: {", ".join(SAMPLE_SYMBOLS)} M1[/dim]

  omega dataset data -o dataset -s EURUSD,GBPUSD -t M1 --higher H1,D1 -i atr:14 -i ema:20

  omega dataset data -o dataset --spec examples/indicators.toml --start 2024-01-01

  omega dataset data -o dataset --engine ray --workers 8 --overwrite

  omega dataset /shared/data -o /shared/dataset --engine ray --ray-address auto

[bold]Layout[/bold]: OUT/symbol=SYMBOL/year=YYYY/part-0.parquet, one row per bar
of -t with the bid/ask candles, the aligned --higher columns (h1_bid_close,
h1_bid_time, ...) and the indicator columns. Read it with
pl.scan_parquet(OUT, hive_partitioning=True), which skips the files of the
symbols and years a query filters out.

[bold]Safety[/bold]: each symbol is written into a temporary directory inside
OUT and renamed into place when complete; a failed symbol leaves nothing
behind, and the others go on. Symbols OUT already holds are an error unless
--overwrite. Exit codes: 0 all written, 1 a symbol failed, 2 bad input.

[bold]Ray[/bold] (pip install "omega-pl\\[ray]"): one task per symbol, on a
local Ray instance of --workers CPUs or on the cluster at --ray-address.
On a cluster, ROOT and OUT must be paths every node can read and write.
"""

_LOGGER = "omega_pl.dataset"
#: Exit code when a symbol failed (the others were written).
EXIT_FAILED = 1


class Engine(StrEnum):
    """The engine of ``omega dataset --engine``."""

    LOCAL = "local"
    RAY = "ray"


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


def _check_engine_options(engine: Engine, ray_address: str | None, workers: int | None) -> None:
    if engine is Engine.LOCAL:
        if ray_address is not None:
            raise CliError("--ray-address needs --engine ray")
        if workers is not None:
            raise CliError(
                "--workers needs --engine ray (the local engine builds one symbol at a time, "
                "each on every core)"
            )


# ---------------------------------------------------------------------------
# progress and logging


class _ConsoleHandler(logging.Handler):
    """Log records as ``level: message`` lines on a Rich console (above a live progress bar)."""

    def __init__(self, console: Console, level: int) -> None:
        super().__init__(level)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.levelname.lower()}: {record.getMessage()}"
            if record.levelno > logging.DEBUG:  # a traceback keeps its lines
                text = one_line(text)
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        except Exception:  # pragma: no cover - logging must never break the build
            self.handleError(record)


@contextmanager
def _logging_to(console: Console, verbose: bool) -> Iterator[None]:
    """Route the ``omega_pl.dataset`` logger to ``console`` for the command's duration.

    Failures (ERROR) always show; ``--verbose`` adds a line per symbol (INFO);
    ``OMEGA_DEBUG=1`` adds the tracebacks of failed symbols (DEBUG).
    """
    logger = logging.getLogger(_LOGGER)
    level = logging.DEBUG if os.environ.get("OMEGA_DEBUG") else logging.INFO
    handler = _ConsoleHandler(console, level if verbose else logging.WARNING)
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(min(handler.level, logger.getEffectiveLevel()))
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


class _Tracker:
    """Follows the build's events on a Rich progress bar (drawn only on a terminal)."""

    def __init__(self, console: Console, total: int) -> None:
        self.running: list[str] = []
        self.done = 0
        self.failed = 0
        self.rows = 0
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]Building[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task("symbols", total=total, status="")

    def __call__(self, event: BuildEvent) -> None:
        if event.status == "running":
            self.running.append(event.symbol)
        else:
            if event.symbol in self.running:
                self.running.remove(event.symbol)
            if event.status == "done":
                self.done += 1
                self.rows += event.report.rows if event.report is not None else 0
            else:
                self.failed += 1
            self.progress.advance(self.task)
        shown = ", ".join(self.running[:4]) + (" …" if len(self.running) > 4 else "")
        status = f"done {self.done} · failed {self.failed} · {self.rows:,} rows"
        status += f" · running: {escape(shown)}" if shown else ""
        self.progress.update(self.task, status=status)


# ---------------------------------------------------------------------------
# output


def _fmt_time(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _symbols_table(report: DatasetReport) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("symbol", no_wrap=True)
    table.add_column("rows", justify="right")
    table.add_column("first (UTC)", no_wrap=True)
    table.add_column("last (UTC)", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("status")
    for s in report.symbols:
        status = "[green]ok[/green]" if s.ok else f"[red]failed[/red]: {escape(s.error or '')}"
        table.add_row(
            escape(s.symbol),
            f"{s.rows:,}",
            _fmt_time(s.first),
            _fmt_time(s.last),
            f"{len(s.files):,}",
            f"{s.seconds:.2f}",
            status,
        )
    return table


def _summary(report: DatasetReport, source: str, specs: Sequence[Any]) -> Table:
    summary = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    summary.add_column("what", style="bold")
    summary.add_column("value", overflow="fold")
    summary.add_row("source", escape(source))
    summary.add_row("dataset", escape(f"{report.out} (symbol=SYMBOL/year=YYYY/part-0.parquet)"))
    written = len(report.succeeded)
    symbols = f"{written} of {len(report.symbols)} written"
    if report.failed:
        symbols += f", {len(report.failed)} failed ({', '.join(s.symbol for s in report.failed)})"
    summary.add_row("symbols", escape(symbols))
    summary.add_row("rows", f"{report.rows:,}")
    summary.add_row("files", f"{len(report.files):,}")
    if specs:
        summary.add_row("indicators", escape(", ".join(str(s) for s in specs)))
    columns = report.columns
    shown = ", ".join(columns[:6]) + (" ..." if len(columns) > 6 else "")
    summary.add_row("columns", escape(f"{len(columns)} + symbol, year: {shown}"))
    summary.add_row("engine", report.engine)
    summary.add_row("elapsed", f"{report.seconds:.2f} s ({report.rows_per_second:,.0f} rows/s)")
    return summary


# ---------------------------------------------------------------------------
# the command


def dataset(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="OUT",
            help=(
                "The dataset directory (created if missing): OUT/symbol=SYMBOL/year=YYYY/"
                "part-0.parquet. Symbols it already holds need --overwrite. Example: -o dataset"
            ),
            show_default=False,
        ),
    ],
    root: Annotated[
        Path | None,
        typer.Argument(
            metavar="ROOT",
            help=(
                "A data root holding ROOT/SYMBOL/SYMBOL_TF_BID.parquet and ..._ASK.parquet "
                "(or .csv) per symbol. Omitted: the cached sample data (synthetic "
                f"{', '.join(SAMPLE_SYMBOLS)}). Example: omega dataset data -o dataset"
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
                "Symbols to build, separated by commas (or the option repeated). Default: "
                "every symbol directory under ROOT. Example: -s EURUSD,GBPUSD"
            ),
            show_default=False,
        ),
    ] = None,
    timeframe: Annotated[
        str,
        timeframe_option(
            "Primary timeframe M<n>, H<n>, D<n> or W1: one row per bar of it. Example: -t M5"
        ),
    ] = "M1",
    higher: Annotated[
        list[str] | None,
        typer.Option(
            "--higher",
            metavar="LIST",
            help=(
                "Higher timeframes aligned onto every row, separated by commas: from their "
                "own files when a symbol has them, else resampled from -t; a row sees only "
                "higher bars closed by its time. Adds h1_bid_open ... h1_ask_time. "
                "Example: --higher H1,D1"
            ),
            show_default=False,
        ),
    ] = None,
    indicator: Annotated[
        list[str] | None,
        indicator_option(
            "An indicator on every symbol as NAME or NAME:V1,V2,... (positional parameters "
            "in order, as in 'omega indicators'); repeat for more. Example: -i atr:14 -i ema:20"
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            metavar="FILE",
            help=(
                "A TOML spec file with [\\[indicator]] tables (see 'omega indicators --help'); "
                "combines with -i. Example: --spec examples/indicators.toml"
            ),
            show_default=False,
        ),
    ] = None,
    start: Annotated[
        str | None,
        start_option(
            "First bar time to keep, inclusive, UTC unless an offset is given; indicators "
            "start their warm-up here. Example: --start 2024-01-01"
        ),
    ] = None,
    end: End = None,
    no_market_hours: NoMarketHours = False,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            case_sensitive=False,
            help=(
                "'local': the symbols one after the other in this process (each on every "
                "core); 'ray': one Ray task per symbol (pip install \"omega-pl\\[ray]\"). "
                "Example: --engine ray"
            ),
        ),
    ] = Engine.LOCAL,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            metavar="ADDR",
            help=(
                "With --engine ray: the Ray cluster to run on (as ray.init(address=...): "
                "'auto' for the one this machine belongs to, or ray://HEAD:10001); default a "
                "local Ray instance. Example: --ray-address auto"
            ),
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            min=1,
            help=(
                "With --engine ray: CPUs of the local Ray instance and the most symbols built "
                "at once (default: every core, or the cluster's CPUs). Example: --workers 4"
            ),
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            metavar="",
            help=(
                "Replace the symbols OUT already holds (each only once its new files are "
                "complete). Example: --overwrite"
            ),
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            metavar="",
            help=(
                "Log a line per symbol as it starts and finishes (failures are always "
                "logged). Example: -v"
            ),
        ),
    ] = False,
) -> None:
    """Build candles + indicators of many symbols as one Parquet dataset, locally or on Ray.

    Per symbol: bid and ask joined on time (market hours applied), --higher
    timeframes aligned, -i/--spec indicators added, written as
    OUT/symbol=SYMBOL/year=YYYY/part-0.parquet. Without ROOT it builds the
    bundled sample data.
    """
    out = Console()
    err = Console(stderr=True)

    # Option checks of the command line's own; build_dataset checks the rest before any work.
    _check_engine_options(engine, ray_address, workers)
    names = _names(symbols, "--symbols", "-s EURUSD,GBPUSD")
    higher_names = _names(higher, "--higher", "--higher H1,D1") or []
    specs: list[Any] = list(indicator or [])
    if spec is not None:
        specs.append(spec.expanduser())
    tf = Timeframe.parse(timeframe)
    for name in higher_names:
        if Timeframe.parse(name).minutes < tf.minutes:
            raise CliError(
                f"--higher {name} is shorter than the timeframe {tf.name}; higher timeframes "
                "must be at least as long (e.g. -t M5 --higher H1,D1)"
            )
    if start is not None:
        omega_pl.parse_time_bound(start, "--start")
    if end is not None:
        omega_pl.parse_time_bound(end, "--end", end=True)

    sample = root is None
    if root is None:
        with err.status("Preparing sample data (generated on first use) ..."):
            base = omega_pl.datasets.sample_data_root()
    else:
        base = root.expanduser()
        if not base.is_dir():
            what = "not a directory" if base.exists() else "no such directory"
            raise CliError(
                f"ROOT {base}: {what} (expected ROOT/SYMBOL/SYMBOL_TF_BID.parquet or .csv)"
            )
    total = len(names) if names is not None else len(omega_pl.candle_symbols(base))

    with _logging_to(err, verbose):
        tracker = _Tracker(err, total)
        with tracker.progress:
            report = omega_pl.build_dataset(
                base,
                output,
                symbols=names,
                timeframe=timeframe,
                higher=higher_names,
                indicators=specs,
                start=start,
                end=end,
                market_hours=not no_market_hours,
                engine=engine.value,
                ray_address=ray_address,
                workers=workers,
                overwrite=overwrite,
                progress=tracker,
            )

    if sample:
        out.print(
            f"Using sample data ({', '.join(s.symbol for s in report.symbols)} "
            f"{Timeframe.parse(timeframe).name}, synthetic) from {base}; pass ROOT to use "
            "your own data.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    print_table(out, _symbols_table(report))
    source = "sample data (synthetic)" if sample else str(base)
    out.print(_summary(report, source, [str(s) for s in specs]))
    if not report.ok:
        # Each failure has been logged on stderr as it happened, and the total at the end.
        raise typer.Exit(EXIT_FAILED)
