"""A lazy scan of one candle CSV file through the Rust batch reader.

:func:`scan_candle_csv` registers a Polars IO source that reads the file in
batches of parsed rows (``omega_pl._plugins.CandleCsvReader``): the file is
streamed through one fixed buffer and parsed straight into the output
columns, so collecting needs little more memory than the resulting frame.
The scan honours Polars' projection, predicate and slice pushdown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

from omega_pl.errors import ParameterError
from omega_pl.timeframes import OHLCV

__all__ = ["scan_candle_csv"]

#: The largest field position the reader accepts (wider headers are not candle files).
MAX_FIELD_INDEX = 1 << 16


def scan_candle_csv(
    path: Path,
    *,
    separator: str,
    time_index: int,
    value_indices: Sequence[int],
    names: Sequence[str],
    batch_rows: int = 131_072,
    encoding: str = "utf-8",
) -> pl.LazyFrame:
    """Lazily read one candle CSV file as ``time, open, high, low, close, volume``.

    ``time`` is Datetime(µs, UTC) parsed by the same rules as the other loaders
    (naive = UTC, offsets converted); the values are Float64. Rows come in file
    order; blank lines are skipped. Nothing is read before ``collect()``, and
    each ``collect()`` reads the file anew.

    Parameters
    ----------
    path
        The CSV file. Its first line is the header and is skipped (as is a
        UTF-8 byte order mark).
    separator
        The field separator, one ASCII character (``","``, ``";"``, ``"\\t"``).
    time_index
        0-based position of the timestamp field in a line.
    value_indices
        0-based positions of open, high, low, close and volume, in that order.
    names
        The header names of the time column and of open … volume (six names,
        same order), used in error messages.
    batch_rows
        Rows per batch handed to Polars (fewer when Polars asks for smaller
        batches). Memory beyond the result is about one batch plus a 2 MiB
        read buffer.

    Raises
    ------
    ParameterError
        At call time, for a separator that is not one ASCII character (or is
        a quote or newline), wrong
        numbers of indices or names, repeated, negative or huge positions, a
        non-positive ``batch_rows`` or an encoding the reader cannot read.
    TimestampParseError, SchemaError
        At ``collect()`` (Polars passes them through unchanged), for the first
        bad line: an unreadable timestamp, or naive timestamps mixed with ones
        carrying a zone (``TimestampParseError``), an empty or non-numeric
        value, too few fields or a line longer than 16 MiB (``SchemaError``).
        The message names the file, the column, the data row (1 = the line
        after the header; blank lines count, so data row ``n`` is line
        ``n + 1``) and the value.
    EncodingError
        At ``collect()``, for bytes that are not UTF-8 (with the default
        ``encoding``), naming the file, the line and the byte offset.
    CandleFileNotFoundError, FileReadError
        At ``collect()``, when the file is gone or cannot be read.

    Examples
    --------
    ``omega_pl.io``'s header sniffing gives everything needed:

    >>> from datetime import UTC, datetime
    >>> import polars as pl
    >>> import omega_pl
    >>> path = omega_pl.datasets.sample_data_root("csv") / "EURUSD" / "EURUSD_M5_BID.csv"
    >>> header = ["UTC time", "Open", "High", "Low", "Close", "Volume"]
    >>> lf = scan_candle_csv(
    ...     path,
    ...     separator=",",
    ...     time_index=header.index("UTC time"),
    ...     value_indices=[header.index(c) for c in ("Open", "High", "Low", "Close", "Volume")],
    ...     names=header,
    ... )
    >>> df = lf.filter(pl.col("time") >= datetime(2025, 3, 24, tzinfo=UTC)).collect()
    >>> df.height, df.columns
    (5712, ['time', 'open', 'high', 'low', 'close', 'volume'])
    """
    if len(separator) != 1 or not separator.isascii() or separator in '"\r\n':
        raise ParameterError(
            f"separator must be one ASCII character other than a quote or newline, "
            f"got {separator!r}"
        )
    if len(value_indices) != len(OHLCV):
        raise ParameterError(
            f"value_indices needs {len(OHLCV)} positions (open … volume), got {len(value_indices)}"
        )
    if len(names) != 1 + len(OHLCV):
        raise ParameterError(f"names needs {1 + len(OHLCV)} entries (time, open … volume)")
    positions = [time_index, *value_indices]
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in positions):
        raise ParameterError(f"field positions must be non-negative integers, got {positions}")
    if len(set(positions)) != len(positions):
        raise ParameterError(f"field positions must be distinct, got {positions}")
    if any(i > MAX_FIELD_INDEX for i in positions):
        raise ParameterError(
            f"field positions must be at most {MAX_FIELD_INDEX}, got {max(positions)}"
        )
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows <= 0:
        raise ParameterError(f"batch_rows must be a positive integer, got {batch_rows!r}")
    # Imported here, not at the top, so that omega_pl.io can import this module.
    from omega_pl.io import CANDLE_SCHEMA, _csv_codec

    _, check_utf8 = _csv_codec(encoding)
    source = Path(path)
    value_positions = list(value_indices)
    header_names = list(names)

    def io_source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        # Imported here: `import omega_pl` does not load the compiled library.
        from omega_pl._plugins import CandleCsvReader

        rows = batch_rows if batch_size is None else max(1, min(batch_rows, batch_size))
        if n_rows is not None:
            if n_rows <= 0:
                return
            rows = min(rows, n_rows) if predicate is None else rows
        reader = CandleCsvReader(
            source, separator, time_index, value_positions, header_names, rows, check_utf8
        )
        remaining = n_rows
        while (batch := reader.next_batch()) is not None:
            if predicate is not None:
                batch = batch.filter(predicate)
            if remaining is not None:
                batch = batch.head(remaining)
                remaining -= batch.height
            if with_columns is not None:
                batch = batch.select(with_columns)
            yield batch
            if remaining is not None and remaining <= 0:
                return

    return register_io_source(
        io_source,
        schema=CANDLE_SCHEMA,
        # Pure: a plan that uses the scan twice (scan_candles' sorted/unsorted
        # branches) reads the file once, not twice.
        is_pure=True,
        explain_name="omega_pl candle CSV",
        explain_detail=str(source),
    )
