"""Loading candle files into clean, sorted lazy frames (SPEC §4.1).

:func:`scan_candles` reads one file of one side; :func:`scan_symbol` finds the
bid and ask files of a symbol in the on-disk layout
``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>`` and joins them.
Everything stays lazy: the time window is a filter on the scan that Polars
pushes into the Parquet reader, and nothing is read before ``collect()``.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import stat
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

import polars as pl
from polars.io.plugins import register_io_source

from omega_pl._csv import scan_candle_csv
from omega_pl._plugin import plugin_expr, plugin_message
from omega_pl.errors import (
    CandleFileNotFoundError,
    EncodingError,
    FileFormatError,
    FileReadError,
    NoCommonBarsWarning,
    ParameterError,
    SchemaError,
    TimeframeError,
    TimestampParseError,
    WindowError,
    format_names,
)
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.timeframes import OHLCV, Timeframe

__all__ = [
    "CANDLE_SCHEMA",
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "CandleFileName",
    "TimeBound",
    "candle_files",
    "candle_symbols",
    "candle_timeframes",
    "parse_candle_file_name",
    "parse_time_bound",
    "scan_candles",
    "scan_symbol",
    "time_window",
]

#: A window bound: ``"2025-01-31"``, ``"2025-01-31 12:00"``, a ``date`` or a ``datetime``.
TimeBound = str | date | datetime
Side = Literal["bid", "ask"]

_UTC_US = pl.Datetime("us", "UTC")

#: The schema of one side's candle frame.
CANDLE_SCHEMA = pl.Schema(
    {"time": _UTC_US, **{c: pl.Float64() for c in OHLCV}},
)

#: Recognised timestamp column names (case-insensitive), in order of preference.
_TIME_NAMES = ("utc time", "gmt time", "time", "timestamp", "datetime", "date")
#: Names under which pandas and others write an unnamed index column.
_INDEX_NAMES = re.compile(r"^(|unnamed: ?0|__index_level_0__|index)$")
#: Accepted spellings of the value columns (case-insensitive).
_VALUE_NAMES: dict[str, tuple[str, ...]] = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume", "vol", "tick_volume", "tickvol", "tick volume"),
}
#: File suffixes :func:`scan_candles` reads as Parquet (compared in lower case).
PARQUET_SUFFIXES = (".parquet", ".pq")
#: File suffixes :func:`scan_candles` reads as CSV (compared in lower case).
CSV_SUFFIXES = (".csv", ".txt")
#: The extensions of the on-disk layout, in order of preference (:func:`candle_files`).
_LAYOUT_SUFFIXES = (".parquet", ".csv")
#: ``<SYMBOL>_<TF>_<SIDE>``, the stem of a candle file name.
_FILE_NAME = re.compile(
    r"^(?P<symbol>.+?)_(?P<timeframe>[MHDWmhdw][0-9]+)_(?P<side>bid|ask)$", re.IGNORECASE
)


# ---------------------------------------------------------------------------
# window bounds


def parse_time_bound(value: TimeBound, name: str, *, end: bool = False) -> datetime:
    """A window bound as an aware UTC ``datetime``.

    Naive values are UTC. A ``date`` (or a date-only string) as ``end`` stands
    for the whole day, i.e. up to and including its last microsecond; as
    ``start`` it is 00:00 of that day.

    Raises
    ------
    WindowError
        If a string is not an ISO 8601 date or date-time.

    Examples
    --------
    >>> import omega_pl
    >>> omega_pl.parse_time_bound("2025-03-31", "end", end=True).isoformat()
    '2025-03-31T23:59:59.999999+00:00'
    >>> omega_pl.parse_time_bound("2025-03-31 12:00", "start").isoformat()
    '2025-03-31T12:00:00+00:00'
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
        if end:
            dt += timedelta(days=1) - timedelta(microseconds=1)
    elif isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise WindowError(
                f"{name}: cannot read {value!r} as a date or date-time "
                "(use ISO 8601, e.g. 2025-01-31, 2025-01-31 12:00 or 2025-01-31T12:00:00+00:00)"
            ) from None
        if end and len(text) <= 10:
            dt += timedelta(days=1) - timedelta(microseconds=1)
    else:
        raise WindowError(f"{name}: expected a str, date or datetime, got {type(value).__name__}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _window(
    start: TimeBound | None, end: TimeBound | None
) -> tuple[datetime | None, datetime | None]:
    lo = None if start is None else parse_time_bound(start, "start")
    hi = None if end is None else parse_time_bound(end, "end", end=True)
    if lo is not None and hi is not None and lo > hi:
        raise WindowError(f"start ({lo.isoformat()}) is after end ({hi.isoformat()})")
    return lo, hi


def _bound_literal(value: datetime, dtype: pl.Datetime) -> pl.Expr:
    """``value`` as a literal of exactly the column's Datetime dtype (for pushdown)."""
    zone = dtype.time_zone
    if zone is None:
        return pl.lit(value.replace(tzinfo=None), dtype=pl.Datetime(dtype.time_unit))
    return pl.lit(value.astimezone(ZoneInfo(zone)), dtype=dtype)


def time_window(
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    *,
    column: str = "time",
    dtype: pl.DataType = _UTC_US,
) -> pl.Expr:
    """The window predicate ``start <= column <= end`` as a Boolean expression.

    This is the filter :func:`scan_candles` puts on every scan (SPEC §4.1):
    bounds as in :func:`parse_time_bound` (naive = UTC; a bare date as
    ``end`` includes that whole day), either one may be ``None`` for an open
    side (both ``None``: ``pl.lit(True)``). The bounds become literals of
    exactly ``dtype``, the column's own Datetime type (time unit and zone;
    a naive column holds UTC), so Polars can push the filter into a Parquet
    reader's row-group statistics.

    Parameters
    ----------
    start, end
        Inclusive bounds: ``str`` (ISO 8601), ``date`` or ``datetime``.
    column
        The timestamp column to filter.
    dtype
        The column's Datetime dtype; default ``Datetime("us", "UTC")``, the
        ``time`` column of :data:`CANDLE_SCHEMA`.

    Raises
    ------
    WindowError
        If a bound cannot be read or ``start`` is after ``end``.
    SchemaError
        If ``dtype`` is not a Datetime type.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> import omega_pl
    >>> df = pl.DataFrame({"time": [datetime(2025, 3, d, 12) for d in (27, 28, 31)]})
    >>> df.filter(omega_pl.time_window("2025-03-28", "2025-03-31", dtype=pl.Datetime("us")))
    shape: (2, 1)
    ┌─────────────────────┐
    │ time                │
    │ ---                 │
    │ datetime[μs]        │
    ╞═════════════════════╡
    │ 2025-03-28 12:00:00 │
    │ 2025-03-31 12:00:00 │
    └─────────────────────┘
    """
    lo, hi = _window(start, end)
    if not isinstance(dtype, pl.Datetime):
        raise SchemaError(
            f"time window on column {column!r}: expected a Datetime dtype, got {dtype}"
        )
    col = pl.col(column)
    parts = []
    if lo is not None:
        parts.append(col >= _bound_literal(lo, dtype))
    if hi is not None:
        parts.append(col <= _bound_literal(hi, dtype))
    if not parts:
        return pl.lit(True)
    return parts[0] if len(parts) == 1 else parts[0] & parts[1]


def _filter_window(
    lf: pl.LazyFrame,
    lo: datetime | None,
    hi: datetime | None,
    column: str = "time",
    dtype: pl.DataType = _UTC_US,
) -> pl.LazyFrame:
    """``lf`` filtered by :func:`time_window`; unchanged (no filter node) for an open window."""
    if lo is None and hi is None:
        return lf
    return lf.filter(time_window(lo, hi, column=column, dtype=dtype))


# ---------------------------------------------------------------------------
# column layout


@dataclass(frozen=True)
class _Layout:
    """Where the candle columns are in a file: raw name of time and each value."""

    time: str
    values: dict[str, str]


def _find_layout(columns: Sequence[str], source: Path) -> _Layout:
    lowered = {c.strip().lower(): c for c in reversed(columns)}
    time_col = next((lowered[n] for n in _TIME_NAMES if n in lowered), None)
    if time_col is None and columns and _INDEX_NAMES.match(columns[0].strip().lower()):
        time_col = columns[0]
    if time_col is None:
        raise SchemaError(
            f"{source}: no timestamp column; expected one named 'UTC time', 'Gmt time', 'time', "
            f"'timestamp', 'datetime' or 'date' (any case), or an unnamed first index column; "
            f"found: {format_names(columns)}"
        )
    values: dict[str, str] = {}
    missing: list[str] = []
    for canonical, spellings in _VALUE_NAMES.items():
        raw = next((lowered[s] for s in spellings if s in lowered), None)
        if raw is None:
            missing.append(canonical)
        else:
            values[canonical] = raw
    if missing:
        raise SchemaError(
            f"{source}: missing required column(s) {format_names(missing)}; "
            f"found: {format_names(columns)}"
        )
    for raw in (time_col, *values.values()):
        key = raw.strip().lower()
        fields = [i + 1 for i, c in enumerate(columns) if c.strip().lower() == key]
        if len(fields) > 1:
            raise SchemaError(
                f"{source}: duplicated column name: {raw!r} appears {len(fields)} times in the "
                f"header (fields {', '.join(map(str, fields))}); rename or drop the extra one(s)"
            )
    return _Layout(time_col, values)


def _parse_text_timestamps(col: str) -> pl.Expr:
    """Timestamp text to Datetime(us, UTC) through the Rust parser."""
    # Not elementwise: the parser sees the whole column, so the row it names
    # in an error is the row in the file, not in one of Polars' batches.
    parsed = plugin_expr("parse_timestamps", [pl.col(col)], {"column": col})
    return parsed.cast(pl.Datetime("us", "UTC"))


def _check_first_timestamp(value: str, col: str, source: Path) -> None:
    """Fail early, with a typed error, when the file's first timestamp is unreadable."""
    try:
        pl.DataFrame({col: [value]}).select(_parse_text_timestamps(col))
    except pl.exceptions.ComputeError as exc:
        raise TimestampParseError(f"{source}: {plugin_message(exc)}") from None


#: How much of a CSV file is read to find its header and first data row.
_SNIFF_BYTES = 1 << 20
_UTF8_BOM = codecs.BOM_UTF8
#: Byte order marks of encodings the reader cannot read, and their names.
_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _csv_codec(encoding: str) -> tuple[str, bool]:
    """The codec name of ``encoding`` and whether it is UTF-8.

    The Rust reader takes the bytes as they are, so besides UTF-8 only
    single-byte encodings that extend ASCII can be read (Latin-1, Windows-1252,
    ISO-8859-15 …): in those, every separator, digit and newline is the ASCII
    byte, and other bytes can only be in text columns.

    Raises
    ------
    ParameterError
        For an unknown encoding, or one the reader cannot read (UTF-16 …).
    """
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ParameterError(f"encoding: unknown encoding {encoding!r}") from None
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8", True
    ascii_bytes = bytes(range(128))
    try:
        extends_ascii = ascii_bytes.decode(name) == ascii_bytes.decode("ascii") and all(
            len(bytes([b]).decode(name, errors="replace")) == 1 for b in range(128, 256)
        )
    except (UnicodeError, LookupError, TypeError):
        extends_ascii = False
    if not extends_ascii:
        raise ParameterError(
            f"encoding: {encoding!r} cannot be read; the CSV reader reads UTF-8 and single-byte "
            "encodings that extend ASCII (latin-1, cp1252, iso-8859-15 ...)"
        )
    return name, False


def _read_error(source: Path, exc: OSError) -> FileReadError:
    """A :class:`FileReadError` naming ``source`` and the reason in ``exc``."""
    if isinstance(exc, IsADirectoryError):
        return FileReadError(f"{source} is a directory, not a candle file")
    return FileReadError(f"{source}: cannot read the file: {exc.strerror or exc}")


def _decode_line(line: bytes, codec: str, source: Path, number: int, offset: int) -> str:
    """One line of the file as text; :class:`EncodingError` naming the line and
    the byte offset of the first byte ``codec`` cannot decode."""
    try:
        return line.decode(codec)
    except UnicodeDecodeError as exc:
        bad = " ".join(f"0x{b:02x}" for b in line[exc.start : min(exc.end, exc.start + 4)])
        hint = (
            'a Windows export? read it with encoding="cp1252", on the command line '
            "--encoding cp1252"
            if codec == "utf-8"
            else "is encoding= right?"
        )
        shown = "UTF-8" if codec == "utf-8" else codec
        raise EncodingError(
            f"{source}: not {shown}: byte {bad} at line {number}, byte offset "
            f"{offset + exc.start} ({hint})"
        ) from None


def _sniff_csv(source: Path, encoding: str = "utf-8") -> tuple[list[str], str, list[str] | None]:
    """Header names, separator and first data row (``None`` if there is none) of a CSV file.

    Reads at most the first MiB. A UTF-8 byte order mark is skipped; bytes
    ``encoding`` cannot decode raise :class:`EncodingError` naming the line
    and byte offset.
    """
    codec, _ = _csv_codec(encoding)
    try:
        with source.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise _read_error(source, exc) from None
    whole = len(head) < _SNIFF_BYTES
    for bom, name in _OTHER_BOMS:
        if head.startswith(bom):
            raise EncodingError(
                f"{source}: the file is {name} (byte order mark at byte offset 0); "
                "save it as UTF-8 (or a single-byte encoding such as cp1252)"
            )
    start = len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0
    end = head.find(b"\n", start)
    if end < 0 and not whole:
        raise SchemaError(
            f"{source}: no header line in the first {_SNIFF_BYTES >> 20} MiB; is this a CSV file?"
        )
    header_end = len(head) if end < 0 else end + 1
    header_text = _decode_line(head[start:header_end], codec, source, 1, start)
    if not header_text.strip():
        raise SchemaError(f"{source}: the file is empty (no header line)")
    first_end = head.find(b"\n", header_end)
    first_text = ""
    if first_end >= 0 or whole:
        first_bytes = head[header_end : len(head) if first_end < 0 else first_end + 1]
        first_text = _decode_line(first_bytes, codec, source, 2, header_end)
    sep = max((",", ";", "\t"), key=header_text.count)
    try:
        header = next(csv.reader([header_text], delimiter=sep))
        row = next(csv.reader([first_text], delimiter=sep), []) if first_text.strip() else []
    except csv.Error as exc:
        raise SchemaError(f"{source}: cannot read the header as CSV: {exc}") from None
    return header, sep, (row or None)


def _candle_csv_scan(
    source: Path, *, check_first_row: bool = True, encoding: str = "utf-8", **options: int
) -> pl.LazyFrame:
    """The Rust batch reader over a candle CSV file, its columns found by name
    in the header (``options`` go to ``scan_candle_csv``, e.g. ``batch_rows``).

    The reader streams the file through one buffer straight into the output
    columns: memory stays near the size of the result. With
    ``check_first_row``, an unreadable first timestamp fails here, before any
    batch is read.
    """
    header, sep, first_row = _sniff_csv(source, encoding)
    layout = _find_layout(header, source)
    time_index = header.index(layout.time)
    if check_first_row and first_row is not None and time_index < len(first_row):
        _check_first_timestamp(first_row[time_index], layout.time, source)
    raw_values = [layout.values[c] for c in OHLCV]
    return scan_candle_csv(
        source,
        separator=sep,
        time_index=time_index,
        value_indices=[header.index(raw) for raw in raw_values],
        names=[layout.time, *raw_values],
        encoding=encoding,
        **options,
    )


def _scan_csv(
    source: Path, lo: datetime | None, hi: datetime | None, encoding: str
) -> pl.LazyFrame:
    return _filter_window(_candle_csv_scan(source, encoding=encoding), lo, hi)


def _polars_reason(exc: BaseException) -> str:
    """The first line of a Polars error, for a message of ours."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parquet_format_error(source: Path, exc: BaseException) -> FileFormatError:
    return FileFormatError(
        f"{source}: not a readable Parquet file (corrupt, truncated or not Parquet): "
        f"{_polars_reason(exc)}"
    )


def _check_value_types(schema: pl.Schema, layout: _Layout, source: Path) -> None:
    """Every value column numeric; :class:`SchemaError` naming the first that is not."""
    for raw in layout.values.values():
        dtype = schema[raw]
        if dtype == pl.Null:
            raise SchemaError(
                f"{source}: column {raw!r} has no values (every value is null, type Null)"
            )
        if not dtype.is_numeric():
            raise SchemaError(
                f"{source}: column {raw!r} has type {dtype}; expected numbers (Float64 or "
                f"another numeric type; convert it, e.g. pl.col({raw!r}).cast(pl.Float64))"
            )


def _scan_parquet_text_time(source: Path, layout: _Layout) -> pl.LazyFrame:
    """A Parquet file whose timestamps are text, parsed at ``collect()``.

    Read through an IO source so that a bad timestamp, a mixed-zone column or
    a corrupt page raises a typed error naming the file (a window on text
    cannot be pushed into the reader anyway).
    """
    raw_columns = [layout.time, *(layout.values[c] for c in OHLCV)]

    def io_source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        try:
            raw = pl.read_parquet(source, columns=raw_columns)
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
            raise _parquet_format_error(source, exc) from None
        except OSError as exc:
            raise _read_error(source, exc) from None
        try:
            frame = raw.select(
                _parse_text_timestamps(layout.time).alias("time"),
                *(pl.col(layout.values[c]).cast(pl.Float64).alias(c) for c in OHLCV),
            )
        except pl.exceptions.ComputeError as exc:
            raise TimestampParseError(f"{source}: {plugin_message(exc)}") from None
        yield _pushed_down(frame, with_columns, predicate, n_rows)

    return register_io_source(
        io_source,
        schema=CANDLE_SCHEMA,
        is_pure=True,
        explain_name="omega_pl Parquet with text timestamps",
        explain_detail=str(source),
    )


def _scan_parquet(source: Path, lo: datetime | None, hi: datetime | None) -> pl.LazyFrame:
    lf = pl.scan_parquet(source)
    try:
        schema = lf.collect_schema()
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        raise _parquet_format_error(source, exc) from None
    except OSError as exc:
        raise _read_error(source, exc) from None
    layout = _find_layout(schema.names(), source)
    _check_value_types(schema, layout, source)
    raw = layout.time
    dtype = schema[raw]
    time_expr: pl.Expr
    if isinstance(dtype, pl.Datetime):
        # Filter on the raw column, literal in its own unit and zone: Polars then
        # evaluates the window inside the Parquet reader (row-group statistics).
        lf = _filter_window(lf, lo, hi, raw, dtype)
        t = pl.col(raw)
        t = t.dt.replace_time_zone("UTC") if dtype.time_zone is None else t
        t = t.dt.convert_time_zone("UTC") if dtype.time_zone not in (None, "UTC") else t
        time_expr = t.cast(pl.Datetime("us", "UTC")) if dtype.time_unit != "us" else t
        lf = lf.select(
            time_expr.alias("time"),
            *(pl.col(r).cast(pl.Float64).alias(c) for c, r in layout.values.items()),
        )
        return lf
    if dtype == pl.Date:
        time_expr = pl.col(raw).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif dtype == pl.String:
        return _filter_window(_scan_parquet_text_time(source, layout), lo, hi)
    elif dtype == pl.Null:
        raise SchemaError(
            f"{source}: timestamp column {raw!r} has no values (every value is null, type Null)"
        )
    else:
        raise SchemaError(
            f"{source}: timestamp column {raw!r} has type {dtype}; "
            "expected Datetime, Date or text timestamps"
        )
    lf = lf.select(
        time_expr.alias("time"),
        *(pl.col(r).cast(pl.Float64).alias(c) for c, r in layout.values.items()),
    )
    return _filter_window(lf, lo, hi)


def _sort_if_needed(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` by time: as it is when already in order (one check), else stably sorted."""
    if frame["time"].is_sorted():
        return frame
    return frame.sort("time", maintain_order=True)


def _sorted_unique(
    lf: pl.LazyFrame,
    source: str,
    timeframe: Timeframe | None = None,
    rows: pl.Expr | None = None,
) -> pl.LazyFrame:
    """Sort by time (only if needed), keep the ``rows`` (a row mask, such as
    the market-hours mask) and the last row of each timestamp.

    Sorted input, the usual case, is checked in one pass and never re-sorted.
    The sort is stable, so of equal timestamps the last row in file order is
    the one kept. The result is marked sorted.

    ``rows`` is applied after the read, never pushed into it: as a predicate
    inside Polars' Parquet reader it decoded every page through the slower
    filtered path (10M rows: +90 ms for a mask that keeps every row), while
    it cannot skip a row group (every week has open hours). The time window
    stays pushed down, where row-group statistics do skip.

    The keep-mask's pass also warns about value columns without a single
    value (:class:`~omega_pl.errors.MissingValuesWarning`) and, with
    ``timeframe``, about bars spaced unlike it
    (:class:`~omega_pl.errors.TimeframeMismatchWarning`).
    """
    checks: dict[str, object] = {"source": source}
    if timeframe is not None:
        checks.update(timeframe=timeframe.name, bar_us=_bar_us(timeframe))
    keep_last = plugin_expr("keep_last_mask", [pl.col("time"), *map(pl.col, OHLCV)], checks)
    ordered = lf.map_batches(
        _sort_if_needed,
        schema=lf.collect_schema(),
        # a row limit must not reach the rows before they are in order
        slice_pushdown=False,
        # nor `rows` the reader (see above)
        predicate_pushdown=False,
    )
    if rows is not None:
        ordered = ordered.filter(rows)
    return ordered.filter(keep_last).with_columns(pl.col("time").set_sorted())


def _check_path(path: Path) -> None:
    """Fail early, with a typed error, on a path that is not a readable file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CandleFileNotFoundError(f"no candle file at {path}", [path]) from None
    except OSError as exc:
        raise _read_error(path, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise FileReadError(f"{path} is a directory, not a candle file")
    if not stat.S_ISREG(info.st_mode):
        raise FileReadError(f"{path} is not a regular file (a pipe or a device?)")
    if not os.access(path, os.R_OK):
        raise FileReadError(f"{path}: cannot read the file: permission denied")


# ---------------------------------------------------------------------------
# public API


class CandleFileName(NamedTuple):
    """The parts of a candle file name ``<SYMBOL>_<TF>_<SIDE>.<ext>``.

    Examples
    --------
    >>> import omega_pl
    >>> name = omega_pl.parse_candle_file_name("data/EURUSD/EURUSD_M5_BID.parquet")
    >>> name.symbol, name.timeframe.name, name.side
    ('EURUSD', 'M5', 'bid')
    """

    #: The symbol as spelled in the name (``EURUSD``).
    symbol: str
    #: The timeframe (``M5``).
    timeframe: Timeframe
    #: ``"bid"`` or ``"ask"``, whatever the case in the name.
    side: Side


def parse_candle_file_name(path: str | os.PathLike[str]) -> CandleFileName | None:
    """Symbol, timeframe and side of a file named like ``EURUSD_M5_BID.parquet``.

    Only the name's stem counts (the directory and the extension are ignored);
    timeframe and side may be in any case. ``None`` when the stem is not
    ``<SYMBOL>_<TF>_<SIDE>`` with a non-empty symbol, a timeframe
    :meth:`Timeframe.parse` accepts and a side ``bid``/``ask``. This is how
    :func:`scan_candles` infers a file's timeframe.

    Examples
    --------
    >>> import omega_pl
    >>> omega_pl.parse_candle_file_name("data/EURUSD/EURUSD_m5_BID.csv")
    CandleFileName(symbol='EURUSD', timeframe=Timeframe(unit='M', count=5), side='bid')
    >>> omega_pl.parse_candle_file_name("eurusd_m5.parquet") is None
    True
    """
    match = _FILE_NAME.match(Path(path).stem)
    if match is None:
        return None
    try:
        tf = Timeframe.parse(match.group("timeframe"))
    except TimeframeError:
        return None
    side: Side = "bid" if match.group("side").lower() == "bid" else "ask"
    return CandleFileName(match.group("symbol"), tf, side)


def candle_timeframes(
    directory: str | os.PathLike[str], symbol: str | None = None
) -> list[Timeframe]:
    """The timeframes of ``symbol``'s candle files in one directory, shortest first.

    Counts every ``<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>`` file of
    ``directory`` (see :func:`parse_candle_file_name`) whose symbol is
    ``symbol`` in any case; ``symbol`` defaults to the directory's name, as in
    the layout ``<root>/<SYMBOL>/``. Empty when ``directory`` does not exist.

    Examples
    --------
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()
    >>> [tf.name for tf in omega_pl.candle_timeframes(root / "EURUSD")]
    ['M1', 'M5', 'M15', 'H1', 'H4', 'D1']
    """
    base = Path(directory)
    if not base.is_dir():
        return []
    wanted = (base.name if symbol is None else symbol).upper()
    found: set[Timeframe] = set()
    for entry in base.iterdir():
        if entry.suffix.lower() not in _LAYOUT_SUFFIXES or not entry.is_file():
            continue
        named = parse_candle_file_name(entry)
        if named is not None and named.symbol.upper() == wanted:
            found.add(named.timeframe)
    return sorted(found, key=lambda tf: (tf.minutes, tf.name))


def candle_symbols(root: str | os.PathLike[str]) -> list[str]:
    """The symbol directories of a data root, sorted: ``<root>/<SYMBOL>/`` holding
    candle files named after it (see :func:`candle_timeframes`).

    Hidden directories are skipped; a ``root`` that is not a directory has none.

    Examples
    --------
    >>> import omega_pl
    >>> omega_pl.candle_symbols(omega_pl.datasets.sample_data_root())
    ['EURUSD', 'GBPUSD', 'USDJPY', 'XAUUSD']
    """
    base = Path(root)
    if not base.is_dir():
        return []
    return sorted(
        d.name
        for d in base.iterdir()
        if d.is_dir() and not d.name.startswith(".") and candle_timeframes(d)
    )


def scan_candles(
    source: str | os.PathLike[str],
    *,
    timeframe: str | Timeframe | None = None,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    market_hours: bool | None = None,
    clean_daily: bool | None = None,
    normalize: bool = False,
    encoding: str = "utf-8",
) -> pl.LazyFrame:
    """Lazily load one candle file (one symbol, one side) as a clean frame.

    The result has the columns ``time`` (Datetime µs UTC, the bar's open time),
    ``open``, ``high``, ``low``, ``close``, ``volume`` (Float64), sorted by
    time with unique timestamps. Steps, in order (SPEC §4.1):

    1. time window ``start <= time <= end`` (pushed into the Parquet reader);
    2. market-hours mask (intraday timeframes) or daily cleanup (``D*``);
    3. sort by time; of rows sharing a timestamp the last one in the file is
       kept and a :class:`~omega_pl.errors.DuplicateTimestampsWarning` says
       how many were dropped;
    4. with ``normalize=True``, timestamps are floored to the timeframe
       (``W1`` is left unchanged, as in SPEC §4.4; duplicates made by
       flooring are kept).

    Parameters
    ----------
    source
        A ``.parquet``/``.pq`` or ``.csv``/``.txt`` file. The timestamp column
        may be named ``UTC time``, ``Gmt time`` (``dd.mm.yyyy hh:mm:ss.fff``),
        ``time``, ``timestamp``, ``datetime`` or ``date`` in any case, or be an
        unnamed first index column; value columns ``Open`` … ``Volume`` in any
        case. Naive timestamps are UTC; offsets are converted to UTC.
    timeframe
        ``M5``, ``H1``, ``D1`` …; when omitted it is read from a file name like
        ``EURUSD_M5_BID.csv``. Needed by the default masks and by ``normalize``.
    start, end
        Inclusive window bounds (``str``, ``date`` or ``datetime``; naive =
        UTC). A bare date as ``end`` includes that whole day.
    market_hours
        Apply the Sydney market-hours mask; ``None`` = yes for intraday (M/H)
        timeframes, no otherwise.
    clean_daily
        Apply the daily cleanup (weekends, flat zero-volume bars); ``None`` =
        yes for ``D*`` timeframes.
    normalize
        Floor timestamps to the timeframe grid.
    encoding
        The text encoding of a CSV file: ``"utf-8"`` (the default; a UTF-8
        byte order mark is skipped) or a single-byte encoding that extends
        ASCII, such as ``"cp1252"`` or ``"latin-1"`` for Windows exports.
        Ignored for Parquet.

    Raises
    ------
    CandleFileNotFoundError, FileReadError, FileFormatError, SchemaError, TimestampParseError
        At call time: no file at ``source`` (``CandleFileNotFoundError``); a
        directory or an unreadable file (``FileReadError``); a Parquet file
        whose footer cannot be read, or a CSV header that is not in
        ``encoding`` (``FileFormatError``, ``EncodingError``); unmappable,
        duplicated or non-numeric columns (``SchemaError``); an unreadable
        first timestamp (``TimestampParseError``).
    WindowError, TimeframeError, ParameterError
        At call time, for a bad window, timeframe or encoding.
    TimestampParseError, SchemaError, EncodingError
        At ``collect()``, for a bad value further down a CSV file (or text
        timestamps in a Parquet file), naming the file, column, data row and
        value; bytes that are not in the encoding name the line and byte
        offset. A column mixing naive timestamps with ones carrying a zone is
        a ``TimestampParseError``. (A corrupt data page inside an otherwise
        valid Parquet file is found by Polars' reader at ``collect()`` and
        raised as its ``ComputeError``.)

    Warns
    -----
    DuplicateTimestampsWarning, TimeframeMismatchWarning, MissingValuesWarning
        At ``collect()``: rows dropped for a repeated timestamp; bars spaced
        unlike the timeframe (an H1 file named ``..._M5_...``); a value column
        without a single value. All are :class:`~omega_pl.errors.CandleDataWarning`.

    Examples
    --------
    >>> import omega_pl
    >>> path = omega_pl.datasets.sample_data_root() / "EURUSD" / "EURUSD_M5_BID.parquet"
    >>> lf = omega_pl.scan_candles(path, start="2025-03-24", end="2025-03-24 09:00")
    >>> df = lf.collect()
    >>> df.height, df.columns, df["time"][0].isoformat()
    (109, ['time', 'open', 'high', 'low', 'close', 'volume'], '2025-03-24T00:00:00+00:00')
    """
    return _scan_candles(
        Path(source),
        timeframe=timeframe,
        start=start,
        end=end,
        market_hours=market_hours,
        clean_daily=clean_daily,
        normalize=normalize,
        encoding=encoding,
    )


def _scan_candles(
    path: Path,
    *,
    timeframe: str | Timeframe | None,
    start: TimeBound | None,
    end: TimeBound | None,
    market_hours: bool | None,
    clean_daily: bool | None,
    normalize: bool,
    encoding: str,
) -> pl.LazyFrame:
    """:func:`scan_candles` (its checks and scan; the loaders share it)."""
    _csv_codec(encoding)  # a bad encoding= is an error for Parquet files too
    _check_path(path)
    if timeframe is not None:
        tf: Timeframe | None = Timeframe.parse(timeframe)
    else:
        named = parse_candle_file_name(path)
        tf = None if named is None else named.timeframe
    if normalize and tf is None:
        raise SchemaError(
            f"{path}: normalize=True needs a timeframe (pass timeframe=..., "
            "or name the file like SYMBOL_M5_BID.csv)"
        )
    lo, hi = _window(start, end)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        lf = _scan_parquet(path, lo, hi)
    elif suffix in CSV_SUFFIXES:
        lf = _scan_csv(path, lo, hi, encoding)
    else:
        raise SchemaError(
            f"{path}: unsupported file type {path.suffix!r}; expected .parquet, .pq, .csv or .txt"
        )
    use_hours = (tf is not None and tf.is_intraday) if market_hours is None else market_hours
    use_daily = (tf is not None and tf.is_daily) if clean_daily is None else clean_daily
    # Rows without a timestamp pass the masks: the dedup step drops them and says so.
    no_time = pl.col("time").is_null()
    masks = [market_hours_mask("time")] if use_hours else []
    masks += [daily_clean_mask("time")] if use_daily else []
    rows = pl.all_horizontal(*masks) | no_time if masks else None
    lf = _sorted_unique(lf, str(path), tf, rows)
    if normalize and tf is not None and tf.unit != "W":
        lf = lf.with_columns(_floor_utc_time(tf))
    return lf


def _floor_utc_time(tf: Timeframe) -> pl.Expr:
    """``floor_time("time", tf)`` for the loaders' UTC µs column.

    The same instants (a fixed bar length on UTC instants, epoch-anchored),
    but a file already on its grid, the usual case, is checked in one pass
    and passed through without building a new column.
    """
    return plugin_expr("floor_to_grid", [pl.col("time")], {"bar_us": _bar_us(tf)}, elementwise=True)


def _bar_us(tf: Timeframe) -> int:
    """The length of one bar of ``tf`` in microseconds (the plugins' unit)."""
    return tf.minutes * 60_000_000


def candle_files(
    root: str | os.PathLike[str],
    symbol: str,
    timeframe: str | Timeframe,
    *,
    missing_ok: bool = False,
) -> dict[Side, Path]:
    """Resolve the bid and ask files of ``symbol`` at ``timeframe`` under ``root``.

    Looks for ``<root>/<SYMBOL>/<SYMBOL>_<TF>_<SIDE>.<ext>``: Parquet before
    CSV, the upper-case side (``BID``) before the lower-case one (``bid``).
    With ``missing_ok=True`` a side without a file is left out of the result
    instead of raising (the original engine's loader gives ``[]`` for it).

    Raises
    ------
    CandleFileNotFoundError
        Listing every path tried, when a side has no file (unless
        ``missing_ok``), or when ``root`` is not a directory.

    Examples
    --------
    >>> import omega_pl
    >>> files = omega_pl.candle_files(omega_pl.datasets.sample_data_root(), "EURUSD", "M5")
    >>> sorted(files), files["bid"].name
    (['ask', 'bid'], 'EURUSD_M5_BID.parquet')
    """
    tf = Timeframe.parse(timeframe)
    base = Path(root)
    if not base.is_dir():
        raise CandleFileNotFoundError(f"data root {base} is not a directory", [base])
    names = dict.fromkeys([symbol, symbol.upper()])
    found: dict[Side, Path] = {}
    for side in ("bid", "ask"):
        tried: list[Path] = []
        for sym in names:
            for ext in _LAYOUT_SUFFIXES:
                for side_name in (side.upper(), side):
                    candidate = base / sym / f"{sym}_{tf.name}_{side_name}{ext}"
                    tried.append(candidate)
                    if candidate.is_file():
                        found[side] = candidate
                        break
                if side in found:
                    break
            if side in found:
                break
        if side not in found and not missing_ok:
            raise CandleFileNotFoundError(
                f"no {side.upper()} file for {symbol} {tf.name} under {base}", tried
            )
    return found


def scan_symbol(
    root: str | os.PathLike[str],
    symbol: str,
    timeframe: str | Timeframe,
    *,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    market_hours: bool | None = None,
    clean_daily: bool | None = None,
    normalize: bool = False,
    encoding: str = "utf-8",
) -> pl.LazyFrame:
    """Lazily load one symbol's bid and ask candles joined on ``time``.

    Both files (see :func:`candle_files`) go through :func:`scan_candles` with
    the same options; the result is their inner join on ``time`` (a bar exists
    only where both sides have one) with columns ``time, bid_open … bid_volume,
    ask_open … ask_volume``. Nothing is read until ``collect()``. When both
    sides have bars but none in common, the frame is empty and a
    :class:`~omega_pl.errors.NoCommonBarsWarning` says so.

    Raises
    ------
    CandleFileNotFoundError
        When a side has no file, listing every path tried (a bid file
        without its ask, say).

    Everything else as :func:`scan_candles`.

    Examples
    --------
    >>> import polars as pl
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()
    >>> lf = omega_pl.scan_symbol(root, "EURUSD", "M5", start="2025-03-24", end="2025-03-24 09:00")
    >>> spread = lf.select((pl.col("ask_close") - pl.col("bid_close")).alias("spread")).collect()
    >>> spread.height, bool((spread["spread"] > 0).all())
    (109, True)
    """
    tf = Timeframe.parse(timeframe)
    files = candle_files(root, symbol, tf)
    sides = {
        side: _scan_candles(
            path,
            timeframe=tf,
            start=start,
            end=end,
            market_hours=market_hours,
            clean_daily=clean_daily,
            normalize=normalize,
            encoding=encoding,
        )
        for side, path in files.items()
    }
    return join_bid_ask(sides, label=f"{symbol} {tf.name}")


def join_bid_ask(sides: Mapping[Side, pl.LazyFrame], *, label: str | None = None) -> pl.LazyFrame:
    """Bid and ask candle frames (``time, open … volume`` each) as one frame, lazily.

    Columns are prefixed ``bid_``/``ask_`` and the sides inner-joined on
    ``time``: a bar exists only where both sides have one. Both inputs come
    sorted and unique from :func:`scan_candles`. At ``collect()`` the two
    sides are read at once (in parallel); when they carry the same
    timestamps, the usual case, they are paired by position after one
    vectorised equality check instead of a join. When both sides have bars
    but none in common, the frame is empty and a
    :class:`~omega_pl.errors.NoCommonBarsWarning` names ``label``.
    """
    bid, ask = (sides[s].rename({c: f"{s}_{c}" for c in OHLCV}) for s in ("bid", "ask"))
    bid_schema, ask_schema = bid.collect_schema(), ask.collect_schema()
    schema = pl.Schema({**bid_schema, **{k: v for k, v in ask_schema.items() if k != "time"}})

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        wanted = schema.names() if with_columns is None else with_columns
        b_cols = ["time", *(c for c in wanted if c in bid_schema and c != "time")]
        a_cols = ["time", *(c for c in wanted if c in ask_schema and c != "time")]
        b, a = pl.collect_all([bid.select(b_cols), ask.select(a_cols)])
        yield _pushed_down(_pair(b, a, label), wanted, predicate, n_rows)

    return register_io_source(
        source,
        schema=schema,
        explain_name="omega_pl bid + ask",
        explain_detail=label or "",
    )


def _pushed_down(
    frame: pl.DataFrame,
    with_columns: list[str] | None,
    predicate: pl.Expr | None,
    n_rows: int | None,
) -> pl.DataFrame:
    """What an IO source that read ``frame`` whole yields: the predicate,
    row limit and projection Polars pushed into it, applied in that order."""
    if predicate is not None:
        frame = frame.filter(predicate)
    if n_rows is not None:
        frame = frame.head(n_rows)
    return frame if with_columns is None else frame.select(with_columns)


def _pair(bid: pl.DataFrame, ask: pl.DataFrame, label: str | None) -> pl.DataFrame:
    """Bid and ask side by side: by position when their times are equal, else joined."""
    if bid.height == ask.height and bid["time"].equals(ask["time"]):
        out = pl.concat([bid, ask.drop("time")], how="horizontal")
    else:
        out = bid.join(ask, on="time", how="inner", maintain_order="left")
        if out.is_empty() and bid.height and ask.height:
            _warn_no_common_bars(bid["time"], ask["time"], label)
    return out.with_columns(pl.col("time").set_sorted())


def _warn_no_common_bars(bid: pl.Series, ask: pl.Series, label: str | None) -> None:
    def span(t: pl.Series) -> str:
        text = t.dt.strftime("%Y-%m-%d %H:%M")  # the sides are sorted
        return f"{t.len()} bar(s), {text[0]} .. {text[-1]}"

    warnings.warn(
        f"omega_pl: {label or 'bid and ask'}: bid and ask have no bar in common, so the "
        f"joined frame is empty (bid: {span(bid)}; ask: {span(ask)}); are both files the "
        "same timeframe and clock?",
        NoCommonBarsWarning,
        stacklevel=2,
    )
