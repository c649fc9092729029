"""Loading candle files into clean, sorted lazy frames (SPEC §4.1).

:func:`scan_candles` reads one file of one side; :func:`scan_symbol` finds the
bid and ask files of a symbol in the on-disk layout
``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>`` and joins them.
Everything stays lazy: the time window is a filter on the scan that Polars
pushes into the Parquet reader, and nothing is read before ``collect()``.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

import polars as pl

from omega_pl._csv import scan_candle_csv
from omega_pl._plugin import plugin_expr, plugin_message
from omega_pl.errors import (
    CandleFileNotFoundError,
    SchemaError,
    TimeframeError,
    TimestampParseError,
    WindowError,
    format_names,
)
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.timeframes import OHLCV, Timeframe, floor_time

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


def _sniff_csv(source: Path) -> tuple[list[str], str, list[str] | None]:
    """Header names, separator and first data row (``None`` if there is none) of a CSV file."""
    with source.open("r", encoding="utf-8-sig", newline="") as fh:
        head = fh.readline()
        first = fh.readline()
    if not head.strip():
        raise SchemaError(f"{source}: the file is empty (no header line)")
    sep = max((",", ";", "\t"), key=head.count)
    header = next(csv.reader([head], delimiter=sep))
    row = next(csv.reader([first], delimiter=sep), []) if first.strip() else []
    return header, sep, (row or None)


def _candle_csv_scan(source: Path, *, check_first_row: bool = True, **options: int) -> pl.LazyFrame:
    """The Rust batch reader over a candle CSV file, its columns found by name
    in the header (``options`` go to ``scan_candle_csv``, e.g. ``batch_rows``).

    The reader streams the file through one buffer straight into the output
    columns: memory stays near the size of the result. With
    ``check_first_row``, an unreadable first timestamp fails here, before any
    batch is read.
    """
    header, sep, first_row = _sniff_csv(source)
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
        **options,
    )


def _scan_csv(source: Path, lo: datetime | None, hi: datetime | None) -> pl.LazyFrame:
    return _filter_window(_candle_csv_scan(source), lo, hi)


def _scan_parquet(source: Path, lo: datetime | None, hi: datetime | None) -> pl.LazyFrame:
    lf = pl.scan_parquet(source)
    schema = lf.collect_schema()
    layout = _find_layout(schema.names(), source)
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
        time_expr = _parse_text_timestamps(raw)
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


def _sorted_unique(lf: pl.LazyFrame, source: str) -> pl.LazyFrame:
    """Sort by time (only if needed) and keep the last row of each timestamp.

    Sorted input, the usual case, is checked in one pass and never re-sorted:
    the plan has two branches over one cached scan, and the scalar check
    empties the branch that does not apply. The sort is stable, so of equal
    timestamps the last row in file order is the one kept. The result is
    marked sorted, which lets Polars merge-join bid and ask.
    """
    # Cached explicitly: Polars' automatic subplan sharing does not always apply
    # (without a pushed-down filter the streaming engine read the file twice).
    lf = lf.cache()
    in_order = plugin_expr("keys_sorted", [pl.col("time")], returns_scalar=True)
    keep_last = plugin_expr("keep_last_mask", [pl.col("time")], {"source": source})
    ordered = pl.concat(
        [
            lf.filter(in_order).with_columns(pl.col("time").set_sorted()),
            lf.filter(~in_order).sort("time", maintain_order=True),
        ]
    )
    return ordered.filter(keep_last).with_columns(pl.col("time").set_sorted())


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

    Raises
    ------
    CandleFileNotFoundError, SchemaError, TimestampParseError, WindowError, TimeframeError
        At call time, for a missing file, unmappable columns, an unreadable
        first timestamp, a bad window or timeframe. A bad value further down
        a CSV file raises ``TimestampParseError`` or ``SchemaError`` at
        ``collect()``, naming the file, column, data row and value (text
        timestamps inside a Parquet file: a ``polars`` ``ComputeError`` with
        the same details).

    Examples
    --------
    >>> import omega_pl
    >>> path = omega_pl.datasets.sample_data_root() / "EURUSD" / "EURUSD_M5_BID.parquet"
    >>> lf = omega_pl.scan_candles(path, start="2025-03-24", end="2025-03-24 09:00")
    >>> df = lf.collect()
    >>> df.height, df.columns, df["time"][0].isoformat()
    (109, ['time', 'open', 'high', 'low', 'close', 'volume'], '2025-03-24T00:00:00+00:00')
    """
    path = Path(source)
    if not path.is_file():
        raise CandleFileNotFoundError(f"no candle file at {path}", [path])
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
        lf = _scan_csv(path, lo, hi)
    else:
        raise SchemaError(
            f"{path}: unsupported file type {path.suffix!r}; expected .parquet, .pq, .csv or .txt"
        )
    use_hours = (tf is not None and tf.is_intraday) if market_hours is None else market_hours
    use_daily = (tf is not None and tf.is_daily) if clean_daily is None else clean_daily
    if use_hours:
        lf = lf.filter(market_hours_mask("time"))
    if use_daily:
        lf = lf.filter(daily_clean_mask("time"))
    lf = _sorted_unique(lf, str(path))
    if normalize and tf is not None and tf.unit != "W":
        lf = lf.with_columns(floor_time("time", tf))
    return lf


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
) -> pl.LazyFrame:
    """Lazily load one symbol's bid and ask candles joined on ``time``.

    Both files (see :func:`candle_files`) go through :func:`scan_candles` with
    the same options; the result is their inner join on ``time`` (a bar exists
    only where both sides have one) with columns ``time, bid_open … bid_volume,
    ask_open … ask_volume``. Nothing is read until ``collect()``.

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
        side: scan_candles(
            path,
            timeframe=tf,
            start=start,
            end=end,
            market_hours=market_hours,
            clean_daily=clean_daily,
            normalize=normalize,
        )
        for side, path in files.items()
    }
    return join_bid_ask(sides)


def join_bid_ask(sides: Mapping[Side, pl.LazyFrame]) -> pl.LazyFrame:
    """Bid and ask candle frames (``time, open … volume`` each) as one frame.

    Columns are prefixed ``bid_``/``ask_`` and the sides inner-joined on
    ``time``: a bar exists only where both sides have one. Both inputs come
    sorted from :func:`scan_candles`, so Polars merge-joins them.
    """
    bid, ask = (sides[s].rename({c: f"{s}_{c}" for c in OHLCV}) for s in ("bid", "ask"))
    return bid.join(ask, on="time", how="inner", maintain_order="left")
