"""What :func:`~omega_pl.build_dataset` did: a :class:`DatasetReport` of :class:`SymbolReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import polars as pl

from omega_pl.errors import OmegaError

__all__ = ["BuildEvent", "DatasetBuildError", "DatasetReport", "SymbolReport", "error_text"]

#: Where Polars starts appending its plan to an error message.
_POLARS_CONTEXT = ("\n\nThis error occurred", "\n\nResolved plan", "\n\nError originated")


def error_text(exc: BaseException) -> str:
    """A symbol's error as one line: ``ExceptionType: message`` without Polars' plan dump."""
    text = str(exc)
    for marker in _POLARS_CONTEXT:
        text = text.split(marker, 1)[0]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    head, rest = (lines[0], [line.removeprefix("- ") for line in lines[1:]]) if lines else ("", [])
    message = f"{head} {', '.join(rest)}" if rest else head
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class DatasetBuildError(OmegaError, RuntimeError):
    """Raised by :meth:`DatasetReport.raise_for_errors` when a symbol failed.

    Attributes
    ----------
    report
        The :class:`DatasetReport` of the build.
    """

    def __init__(self, report: DatasetReport) -> None:
        self.report = report
        lines = [f"  - {s.symbol}: {s.error}" for s in report.failed]
        super().__init__(
            f"{len(report.failed)} of {len(report.symbols)} symbol(s) failed "
            f"(writing {report.out}):\n" + "\n".join(lines)
        )


@dataclass(frozen=True)
class SymbolReport:
    """One symbol of a build: what was written, or why it failed.

    Attributes
    ----------
    symbol
        The symbol (its ``symbol=<S>`` partition).
    rows
        Rows written (0 when it failed).
    first, last
        Open times of the first and last bar written (``None`` when it failed).
    files
        The Parquet files written, ``<out>/symbol=<S>/year=<YYYY>/part-0.parquet``
        (empty when it failed).
    seconds
        Time spent on the symbol by its worker.
    compute_seconds, write_seconds
        Of ``seconds``: running the plan (reading, aligning, indicators) and
        writing the files.
    error
        ``None``, or one line ``ExceptionType: message`` saying why it failed.
    error_type
        The exception's class name, or ``None``.
    details
        The traceback of the failure (for logs), or ``None``.
    temporary
        While the build runs: the temporary directory holding the symbol's
        files until they are moved into place; ``None`` in a finished report.
    """

    symbol: str
    rows: int = 0
    first: datetime | None = None
    last: datetime | None = None
    files: tuple[Path, ...] = ()
    seconds: float = 0.0
    compute_seconds: float = 0.0
    write_seconds: float = 0.0
    error: str | None = None
    error_type: str | None = None
    details: str | None = field(default=None, repr=False)
    temporary: Path | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the symbol was written completely."""
        return self.error is None


@dataclass(frozen=True)
class BuildEvent:
    """A step of a build, handed to ``build_dataset(progress=...)`` as it happens.

    Attributes
    ----------
    symbol
        The symbol concerned.
    status
        ``"running"`` when its task starts (with Ray: is submitted),
        ``"done"`` when it has been written and moved into place,
        ``"failed"`` when it failed.
    report
        The symbol's :class:`SymbolReport` (``None`` for ``"running"``).
    """

    symbol: str
    status: Literal["running", "done", "failed"]
    report: SymbolReport | None = None


@dataclass(frozen=True)
class DatasetReport:
    """The result of :func:`~omega_pl.build_dataset`: per symbol what was written, plus totals.

    Attributes
    ----------
    out
        The dataset directory (absolute).
    engine
        ``"local"`` or ``"ray"``.
    symbols
        One :class:`SymbolReport` per symbol, in the order the symbols were given.
    columns
        The columns of every Parquet file (the hive keys ``symbol`` and
        ``year`` are in the paths, not in the files).
    seconds
        Wall time of the whole build.

    Examples
    --------
    >>> from pathlib import Path
    >>> from omega_pl.universe import DatasetReport, SymbolReport
    >>> report = DatasetReport(
    ...     Path("/data/out"),
    ...     "local",
    ...     (SymbolReport("EURUSD", rows=10), SymbolReport("GBPUSD", error="SchemaError: ...")),
    ...     ("time", "bid_open"),
    ...     2.0,
    ... )
    >>> report.ok, report.rows, [s.symbol for s in report.failed], report.rows_per_second
    (False, 10, ['GBPUSD'], 5.0)
    >>> report.to_frame().select("symbol", "rows", "error").rows()
    [('EURUSD', 10, None), ('GBPUSD', 0, 'SchemaError: ...')]
    """

    out: Path
    engine: str
    symbols: tuple[SymbolReport, ...]
    columns: tuple[str, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether every symbol was written."""
        return all(s.ok for s in self.symbols)

    @property
    def failed(self) -> tuple[SymbolReport, ...]:
        """The symbols that failed."""
        return tuple(s for s in self.symbols if not s.ok)

    @property
    def succeeded(self) -> tuple[SymbolReport, ...]:
        """The symbols that were written."""
        return tuple(s for s in self.symbols if s.ok)

    @property
    def rows(self) -> int:
        """Rows written over all symbols."""
        return sum(s.rows for s in self.symbols)

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file written, symbol by symbol."""
        return tuple(path for s in self.symbols for path in s.files)

    @property
    def rows_per_second(self) -> float:
        """Rows written per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_frame(self) -> pl.DataFrame:
        """One row per symbol: symbol, rows, first, last, files, seconds, error."""
        return pl.DataFrame(
            {
                "symbol": [s.symbol for s in self.symbols],
                "rows": [s.rows for s in self.symbols],
                "first": [s.first for s in self.symbols],
                "last": [s.last for s in self.symbols],
                "files": [len(s.files) for s in self.symbols],
                "seconds": [s.seconds for s in self.symbols],
                "error": [s.error for s in self.symbols],
            },
            schema={
                "symbol": pl.String,
                "rows": pl.Int64,
                "first": pl.Datetime("us", "UTC"),
                "last": pl.Datetime("us", "UTC"),
                "files": pl.Int64,
                "seconds": pl.Float64,
                "error": pl.String,
            },
        )

    def raise_for_errors(self) -> DatasetReport:
        """Return the report when every symbol was written; raise otherwise.

        Raises
        ------
        DatasetBuildError
            Listing each failed symbol and its error.
        """
        if not self.ok:
            raise DatasetBuildError(self)
        return self
