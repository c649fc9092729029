"""One symbol's job: its plan (load → window → market hours → alignment → indicators),
run and written to a temporary directory.

A :class:`SymbolTask` holds only paths, names and specs, so it is cheap to
pickle and ship to a Ray worker: the worker opens the symbol's files itself.
:func:`run_task` builds the same lazy plan the single-symbol API builds
(:func:`~omega_pl.scan_symbol`, or :func:`~omega_pl.scan_aligned` when there
are higher timeframes, then :func:`~omega_pl.with_indicators`), collects it and
writes the frame hive-partitioned by year into a fresh temporary directory
inside the dataset's output directory. It never raises for a problem of the
symbol: the error is in the returned :class:`~omega_pl.universe.report.SymbolReport`,
and the temporary directory is gone. Moving the directory into place is the
driver's part (:mod:`omega_pl.universe.writer`).
"""

from __future__ import annotations

import contextlib
import shutil
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from omega_pl.alignment import scan_aligned
from omega_pl.errors import OmegaError, TimelineError
from omega_pl.indicators import with_indicators
from omega_pl.io import PARQUET_SUFFIXES, TimeBound, candle_files, scan_symbol
from omega_pl.universe.report import SymbolReport, error_text
from omega_pl.universe.writer import TMP_PREFIX, write_partitions

__all__ = ["SymbolTask", "run_task", "symbol_plan"]


@dataclass(frozen=True)
class SymbolTask:
    """What one symbol's build needs: paths, names and specs, never a frame.

    Attributes
    ----------
    root
        The data root (absolute), ``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<ext>``.
    symbol
        The symbol, spelled as its directory.
    timeframe
        The primary timeframe's name (``"M1"``).
    higher
        Names of the higher timeframes to align (``("H1",)``), or empty.
    indicators
        Indicator specs as :func:`~omega_pl.with_indicators` takes them (spec
        files already read into their tables).
    start, end
        The window bounds as given to :func:`~omega_pl.scan_symbol`.
    market_hours
        ``True``: the loaders' default filters (Sydney market hours for
        intraday timeframes, the daily cleanup for ``D*``); ``False``: every bar.
    out
        The dataset's output directory (absolute): the temporary directory is
        made inside it.
    run
        The build's id; it names the temporary directory, so the driver can
        remove what a killed attempt left behind.
    """

    root: str
    symbol: str
    timeframe: str
    higher: tuple[str, ...]
    indicators: tuple[Any, ...]
    start: TimeBound | None
    end: TimeBound | None
    market_hours: bool
    out: str
    run: str


def symbol_plan(task: SymbolTask) -> pl.LazyFrame:
    """The lazy plan of one symbol: what the single-symbol API builds for the task's options.

    :func:`~omega_pl.scan_aligned` when the task has higher timeframes, else
    :func:`~omega_pl.scan_symbol`, then :func:`~omega_pl.with_indicators`.
    Only file metadata is read here.

    Examples
    --------
    >>> import tempfile
    >>> import omega_pl
    >>> from omega_pl.universe.task import SymbolTask, symbol_plan
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = omega_pl.datasets.write_sample_data(
    ...         tmp, symbols=["EURUSD"], timeframes=["M5"], start="2025-03-17", end="2025-03-18"
    ...     )
    ...     task = SymbolTask(
    ...         str(root), "EURUSD", "M5", (), ("ema:20",), None, None, True, tmp, "example"
    ...     )
    ...     frame = symbol_plan(task).collect()
    >>> frame.height, frame.columns[-1]
    (288, 'bid_close_ema_20')
    """
    hours = None if task.market_hours else False
    options: dict[str, Any] = {
        "start": task.start,
        "end": task.end,
        "market_hours": hours,
        "clean_daily": hours,
    }
    if task.higher:
        lf = scan_aligned(
            task.root, task.symbol, task.timeframe, higher=list(task.higher), **options
        ).frame
    else:
        lf = scan_symbol(task.root, task.symbol, task.timeframe, **options)
    if task.indicators:
        lf = with_indicators(lf, list(task.indicators))
    return lf


def temp_directory(task: SymbolTask) -> Path:
    """A fresh name for one attempt's temporary directory inside ``task.out``."""
    name = f"{TMP_PREFIX}{task.run}-{uuid.uuid4().hex[:12]}-{task.symbol}"
    return Path(task.out) / name


def _window_text(start: TimeBound | None, end: TimeBound | None) -> str:
    if start is None and end is None:
        return "in its files"
    return f"in the window start={start!s}, end={end!s}"


def input_files(task: SymbolTask) -> list[Path]:
    """The candle files the task's plan reads (primary and higher timeframes, both sides)."""
    files: list[Path] = []
    for tf in (task.timeframe, *task.higher):
        with contextlib.suppress(OmegaError):
            files += candle_files(task.root, task.symbol, tf, missing_ok=True).values()
    return list(dict.fromkeys(files))


def _culprit(task: SymbolTask, error: str) -> str:
    """`` (in FILE)`` for the first input file that is not readable, else the input files.

    Polars' own errors (a corrupt or truncated Parquet file, say) do not name
    the file; a nightly log should.
    """
    files = input_files(task)
    for path in files:
        try:
            if path.suffix.lower() in PARQUET_SUFFIXES:
                pl.read_parquet_schema(path)
            else:
                with path.open("rb") as fh:
                    fh.read(1)
        except Exception as exc:
            reason = error_text(exc)
            return f" (in {path})" if reason == error else f" (in {path}: {reason})"
    return f" (input files: {', '.join(map(str, files))})" if files else ""


def run_task(task: SymbolTask) -> SymbolReport:
    """Build one symbol into a temporary directory; never raises for the symbol's own problems.

    Returns
    -------
    SymbolReport
        On success: rows, first and last bar, the files written (inside
        ``temporary``, which the driver then moves into place) and the time
        spent. On failure: ``error`` (and ``details``, the traceback), and
        nothing of the symbol is left on disk.
    """
    started = time.perf_counter()
    tmp = temp_directory(task)
    try:
        plan = symbol_plan(task)
        frame = plan.collect()
        computed = time.perf_counter()
        if frame.height == 0:
            raise TimelineError(
                f"{task.symbol} {task.timeframe}: no bars {_window_text(task.start, task.end)}"
            )
        times = frame.get_column("time")
        first, last = times[0], times[-1]
        files = write_partitions(frame, tmp)
        rows = frame.height
        del frame, times
        done = time.perf_counter()
        return SymbolReport(
            task.symbol,
            rows=rows,
            first=first,
            last=last,
            files=tuple(files),
            seconds=done - started,
            compute_seconds=computed - started,
            write_seconds=done - computed,
            temporary=tmp,
        )
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        error = error_text(exc)
        if not isinstance(exc, OmegaError):  # omega_pl's own errors name their file already
            error += _culprit(task, error)
        return SymbolReport(
            task.symbol,
            seconds=time.perf_counter() - started,
            error=error,
            error_type=type(exc).__name__,
            details="".join(traceback.format_exception(exc)),
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def failed(symbol: str, exc: BaseException, seconds: float = 0.0) -> SymbolReport:
    """The report of a symbol whose task did not return (e.g. its worker died every attempt)."""
    return SymbolReport(
        symbol,
        seconds=seconds,
        error=error_text(exc),
        error_type=type(exc).__name__,
        details="".join(traceback.format_exception(exc)),
    )


def symbols_text(symbols: Sequence[str]) -> str:
    """``EURUSD, GBPUSD and 3 more`` for log lines."""
    shown = ", ".join(symbols[:8])
    return shown if len(symbols) <= 8 else f"{shown} and {len(symbols) - 8} more"
