"""Multi-timeframe alignment: higher-timeframe bars on the primary grid (SPEC §5).

:func:`align_timeframes` puts the bars of higher timeframes (``H1``, ``D1`` …)
onto the rows of a primary-timeframe frame (``M5`` …) so that a row at time
``t`` sees only higher bars that had **completed** by ``t`` — no look-ahead.
:func:`scan_aligned` does the loading too: it scans a symbol's primary files,
reads each higher timeframe from its own files or resamples it from the
primary ones, and aligns everything in one lazy plan.

Semantics (SPEC §5.2), per higher timeframe and per side (bid and ask are
aligned independently, so each side keeps its own holes):

* a bar's **end** is ``open + duration`` (``open`` for a ``close_stamped``
  timeframe, whose stamps already are close times), and it is **available**
  at a primary row with time ``t`` once ``end <= t + δ``, where ``δ`` is one
  primary bar with ``entry="close"`` (decisions at the primary bar's close)
  and 0 with ``entry="open"``;
* the **current** bar of a row is the latest-opening available bar; if
  several complete between two rows only the latest is ever shown;
* a bar stays visible for at most ``S`` rows after the row ``s`` at which it
  became current (``row - s <= S``), then the columns are missing (null) until
  the next bar completes. ``S`` counts **primary rows**, not time, so a
  weekend does not age a bar; by default ``S = max(1, 2 · max(1, htf_minutes
  // primary_minutes))`` (H1 on M5: 24, D1 on M1: 2880).

Output columns, for ``H1`` and a bid/ask frame: ``h1_bid_open``,
``h1_bid_high``, ``h1_bid_low``, ``h1_bid_close``, ``h1_bid_volume``,
``h1_bid_time``, then the same for ``ask`` (``h1_open … h1_time`` for a plain
higher frame). ``*_time`` is the visible bar's timestamp as stored — its open
time — and is the bar key the stepwise indicators take (``bar=``); see
:func:`aligned_column`.

How it runs: everything is a lazy Polars plan of as-of joins, no per-row
Python. The primary frame gets a row index. For each (timeframe, side) the
*small* frame of higher bars learns its row ``s`` — the first primary row with
``time >= end - δ`` — from a forward as-of join onto the primary times;
of bars sharing an ``s`` the latest is kept. Then one backward as-of join of
the primary row index onto ``s`` with ``tolerance=S`` attaches to each row the
bar with the largest ``s <= row``, and only if ``row - s <= S``: the stale
limit costs nothing beyond the join itself. Both joins need sorted keys; the
loaders return frames sorted by time (and flagged sorted), and Polars raises
``InvalidOperationError`` for an unsorted primary ``time`` column. Higher
frames are sorted (and de-duplicated, the last row of a timestamp wins) here;
they are small.

Example
-------
>>> import polars as pl
>>> import omega_pl
>>> m5 = omega_pl.scan_symbol("data", "EURUSD", "M5")  # doctest: +SKIP
>>> h1 = omega_pl.resample(m5, "H1")  # doctest: +SKIP
>>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")  # doctest: +SKIP
>>> aligned.with_columns(  # doctest: +SKIP
...     omega_pl.ema_stepwise("h1_bid_close", 20, bar="h1_bid_time").alias("h1_ema20")
... ).collect()

or, loading and aligning in one plan (``H1`` from its files, ``D1`` resampled
from ``M5`` if it has none):

>>> scan = omega_pl.scan_aligned("data", "EURUSD", "M5", higher=["H1", "D1"])  # doctest: +SKIP
>>> scan.origins  # doctest: +SKIP
{'H1': 'file', 'D1': 'resampled'}
>>> df = scan.frame.collect()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeAlias, cast

import polars as pl

from omega_pl.errors import (
    CandleFileNotFoundError,
    LookAheadWarning,
    ParameterError,
    SchemaError,
    TimeframeError,
    format_names,
)
from omega_pl.io import TimeBound, candle_files, join_bid_ask, parse_time_bound, scan_candles
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.timeframes import OHLCV, Timeframe, resample

__all__ = [
    "AlignedScan",
    "Entry",
    "HigherFrame",
    "HigherSource",
    "LookAheadWarning",
    "Mode",
    "Origin",
    "Source",
    "align_timeframes",
    "aligned_column",
    "auto_stale_limit",
    "scan_aligned",
]

Side = Literal["bid", "ask"]
#: Decision timestamp of a primary row: its bar's open (default) or its close.
Entry = Literal["open", "close"]
#: ``carry_forward`` (SPEC default) or ``strict`` (visible only on the row it becomes current).
Mode = Literal["carry_forward", "strict"]
#: Where :func:`scan_aligned` takes a higher timeframe from.
Source = Literal["auto", "file", "resample"]
#: Where a higher timeframe of :func:`scan_aligned` came from.
Origin = Literal["file", "resampled"]

FrameLike: TypeAlias = pl.DataFrame | pl.LazyFrame
#: One higher timeframe: a frame (plain or ``bid_``/``ask_`` columns), or a
#: mapping ``{"bid": frame, "ask": frame}`` of one frame per side.
HigherFrame: TypeAlias = pl.DataFrame | pl.LazyFrame | Mapping[str, pl.DataFrame | pl.LazyFrame]

_SIDES: tuple[Side, ...] = ("bid", "ask")
_ENTRIES = ("open", "close")
_MODES = ("carry_forward", "strict")
_SOURCES = ("auto", "file", "resample")
_FIELDS = (*OHLCV, "time")

# Internal column names (prefixed so they cannot clash with a user's columns).
_ROW = "__omega_align_row"
_FIRST = "__omega_align_first"
_AVAIL = "__omega_align_avail"
_GRID_T = "__omega_align_t"


def auto_stale_limit(primary_tf: str | Timeframe, higher_tf: str | Timeframe) -> int:
    """The automatic stale limit ``S`` in primary rows (SPEC §5.2).

    ``max(1, 2 · max(1, htf_minutes // primary_minutes))``: e.g. 24 for H1 on
    M5, 48 for D1 on H1, 2 for M15 on M15.

    Examples
    --------
    >>> auto_stale_limit("M5", "H1")
    24
    """
    p = Timeframe.parse(primary_tf).minutes
    h = Timeframe.parse(higher_tf).minutes
    return max(1, 2 * max(1, h // p))


def aligned_column(timeframe: str | Timeframe, field: str, side: str | None = None) -> str:
    """Name of an aligned higher-timeframe column.

    Parameters
    ----------
    timeframe
        The higher timeframe, e.g. ``"H1"``.
    field
        ``open``, ``high``, ``low``, ``close``, ``volume`` or ``time`` (the bar key).
    side
        ``"bid"``, ``"ask"``, or ``None`` for a plain (side-less) higher frame.

    Examples
    --------
    >>> aligned_column("H1", "close", "bid")
    'h1_bid_close'
    >>> aligned_column("d1", "time")
    'd1_time'
    """
    tf = _parse_tf(timeframe, "timeframe")
    if field not in _FIELDS:
        raise ParameterError(
            f"parameter 'field' must be one of {format_names(_FIELDS)}, got {field!r}"
        )
    if side is not None and side not in _SIDES:
        raise ParameterError(f"parameter 'side' must be 'bid', 'ask' or None, got {side!r}")
    return f"{_prefix(tf, side)}{field}"


# ---------------------------------------------------------------------------
# validation helpers


def _parse_tf(value: object, name: str) -> Timeframe:
    if not isinstance(value, str | Timeframe):
        raise TimeframeError(
            f"parameter '{name}' must be a timeframe string such as 'H1', got {value!r}"
        )
    try:
        return Timeframe.parse(value)
    except TimeframeError as exc:
        raise TimeframeError(f"parameter '{name}': {exc}") from None


def _prefix(tf: Timeframe, side: str | None) -> str:
    base = tf.name.lower()
    return f"{base}_{side}_" if side else f"{base}_"


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ParameterError(
            f"parameter '{name}' must be one of {format_names(allowed)}, got {value!r}"
        )
    return value


def _stale(value: object) -> int | None:
    """``None``/0 = automatic (0 as in the reference's configuration), else a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(
            "parameter 'stale_limit' must be None (automatic) or a non-negative integer "
            f"number of primary rows (0 also means automatic), got {value!r}"
        )
    return value or None


def _lazy(frame: object, name: str) -> pl.LazyFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    raise ParameterError(
        f"parameter '{name}' must be a polars DataFrame or LazyFrame, got {type(frame).__name__}"
    )


def _time_dtype(schema: pl.Schema, what: str) -> pl.Datetime:
    if "time" not in schema:
        raise SchemaError(f"{what}: no 'time' column; found: {format_names(schema.names())}")
    dtype = schema["time"]
    if not isinstance(dtype, pl.Datetime):
        raise SchemaError(f"{what}: column 'time' must be a Datetime, got {dtype}")
    return dtype


def _time_as(source: pl.Datetime | pl.DataType, target: pl.Datetime, what: str) -> pl.Expr:
    """The ``time`` column of a higher frame in the primary's Datetime dtype (naive = UTC)."""
    t = pl.col("time")
    if source == pl.Date:
        source = pl.Datetime("us")
        t = t.cast(source)
    if not isinstance(source, pl.Datetime):
        raise SchemaError(f"{what}: column 'time' must be a Datetime or Date, got {source}")
    if source.time_zone != target.time_zone:
        if source.time_zone is None:
            t = t.dt.replace_time_zone("UTC")
        t = (
            t.dt.convert_time_zone(target.time_zone)
            if target.time_zone is not None
            else t.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        )
    if source.time_unit != target.time_unit:
        t = t.cast(target)
    return t


def _missing(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    return col.is_null() | col.is_nan() if dtype.is_float() else col.is_null()


@dataclass(frozen=True)
class _SideFrame:
    """One side (or the plain columns) of one higher timeframe."""

    frame: pl.LazyFrame
    side: Side | None
    columns: dict[str, str]  # field -> column in frame
    schema: pl.Schema


def _sides_of(tf: Timeframe, value: object) -> list[_SideFrame]:
    """Split the ``higher`` entry of ``tf`` into per-side column sets."""
    what = f"higher[{tf.name!r}]"
    if isinstance(value, Mapping):
        out: list[_SideFrame] = []
        for side, frame in value.items():
            if side not in _SIDES:
                raise ParameterError(
                    f"parameter 'higher': {what} maps sides to frames; the keys must be "
                    f"'bid' and/or 'ask', got {side!r}"
                )
            lf = _lazy(frame, f"higher[{tf.name!r}][{side!r}]")
            schema = lf.collect_schema()
            for prefix in ("", f"{side}_"):
                if all(f"{prefix}{c}" in schema for c in OHLCV):
                    cols = {c: f"{prefix}{c}" for c in OHLCV}
                    break
            else:
                raise SchemaError(
                    f"{what}[{side!r}]: needs open/high/low/close/volume columns "
                    f"(plain or {side}_ prefixed); found: {format_names(schema.names())}"
                )
            out.append(_SideFrame(lf, cast(Side, side), cols, schema))
        if not out:
            raise ParameterError(f"parameter 'higher': {what} is an empty mapping")
        return out
    lf = _lazy(value, f"higher[{tf.name!r}]")
    schema = lf.collect_schema()
    found: list[_SideFrame] = []
    for side in (None, *_SIDES):
        prefix = f"{side}_" if side else ""
        if all(f"{prefix}{c}" in schema for c in OHLCV):
            found.append(_SideFrame(lf, side, {c: f"{prefix}{c}" for c in OHLCV}, schema))
    if not found:
        raise SchemaError(
            f"{what}: needs open/high/low/close/volume columns (plain or bid_/ask_ prefixed); "
            f"found: {format_names(schema.names())}"
        )
    return found


# ---------------------------------------------------------------------------
# the plan


def _bars(part: _SideFrame, target: pl.Datetime, prefix: str, what: str) -> pl.LazyFrame:
    """The side's higher bars: present rows only, stably sorted by time."""
    key = f"{prefix}time"
    if "time" not in part.schema:
        raise SchemaError(f"{what}: no 'time' column; found: {format_names(part.schema.names())}")
    time_expr = _time_as(part.schema["time"], target, what)
    absent = pl.all_horizontal(
        [_missing(part.columns[c], part.schema[part.columns[c]]) for c in OHLCV]
    )
    lf = (
        part.frame.filter(pl.col("time").is_not_null() & ~absent)
        .select(
            *(pl.col(part.columns[c]).alias(f"{prefix}{c}") for c in OHLCV),
            time_expr.alias(key),
        )
        .sort(key, maintain_order=True)
    )
    # Equal timestamps stay in input order (stable sort); they share their
    # first row s, and _first_rows keeps the last bar of each s: the last wins.
    return lf.set_sorted(key)


def _first_rows(
    bars: pl.LazyFrame,
    grid: pl.LazyFrame,
    key: str,
    *,
    previous_completed: bool,
    offset: timedelta,
) -> pl.LazyFrame:
    """Attach to each bar the primary row ``s`` at which it becomes current.

    ``previous_completed``: the first row with ``time >= time_key + offset``
    (``offset = end - open - δ``). Otherwise the row whose time equals the bar's
    open exactly (bars off the grid are dropped). Bars that never become
    current (no such row) are dropped, and of bars sharing an ``s`` only the
    last (latest open) is kept: it is the one a row at ``s`` sees.
    """
    if previous_completed:
        avail = bars.with_columns((pl.col(key) + offset).alias(_AVAIL)).set_sorted(_AVAIL)
        joined = avail.join_asof(grid, left_on=_AVAIL, right_on=_GRID_T, strategy="forward")
        joined = joined.drop(_AVAIL, _GRID_T)
    else:
        joined = bars.join_asof(
            grid, left_on=key, right_on=_GRID_T, strategy="forward", coalesce=False
        )
        joined = joined.filter(pl.col(_GRID_T) == pl.col(key)).drop(_GRID_T)
    first = pl.col(_FIRST)
    return (
        joined.filter(first.is_not_null())
        .filter(first.ne_missing(first.shift(-1)))
        .set_sorted(_FIRST)
    )


@dataclass(frozen=True)
class _Options:
    primary_tf: Timeframe
    entry: Entry
    previous_completed: bool
    stale_limit: int | None
    close_stamped: frozenset[Timeframe]
    mode: Mode


def _validate(
    primary_tf: object,
    higher_keys: Iterable[object],
    entry: object,
    previous_completed: object,
    stale_limit: object,
    close_stamped: object,
    mode: object,
) -> tuple[_Options, list[Timeframe]]:
    ptf = _parse_tf(primary_tf, "primary_tf")
    tfs: list[Timeframe] = []
    for key in higher_keys:
        tf = _parse_tf(key, "higher")
        if tf in tfs:
            raise ParameterError(f"parameter 'higher': timeframe {tf.name} is given twice")
        if tf.minutes < ptf.minutes:
            raise TimeframeError(
                f"parameter 'higher': timeframe {tf.name} is shorter than "
                f"primary_tf {ptf.name}; higher timeframes must be at least as long"
            )
        tfs.append(tf)
    ent = _choice("entry", entry, _ENTRIES)
    if not isinstance(previous_completed, bool):
        raise ParameterError(
            f"parameter 'previous_completed' must be True or False, got {previous_completed!r}"
        )
    stale = _stale(stale_limit)
    if isinstance(close_stamped, str | Timeframe):
        close_stamped = (close_stamped,)
    if not isinstance(close_stamped, Iterable):
        raise ParameterError(
            "parameter 'close_stamped' must be a collection of timeframe strings, "
            f"got {close_stamped!r}"
        )
    stamped: set[Timeframe] = set()
    for item in close_stamped:
        tf = _parse_tf(item, "close_stamped")
        if tf not in tfs:
            raise ParameterError(
                f"parameter 'close_stamped': {tf.name} is not one of the higher timeframes "
                f"({', '.join(t.name for t in tfs) or 'none'})"
            )
        stamped.add(tf)
    md = _choice("mode", mode, _MODES)
    options = _Options(
        ptf, cast(Entry, ent), previous_completed, stale, frozenset(stamped), cast(Mode, md)
    )
    return options, tfs


def _align(
    primary: FrameLike,
    higher: Mapping[Any, HigherFrame],
    options: _Options,
    tfs: list[Timeframe],
    *,
    stacklevel: int,
) -> pl.LazyFrame:
    base = _lazy(primary, "primary")
    schema = base.collect_schema()
    target = _time_dtype(schema, "primary")
    if not tfs:
        return base
    if not options.previous_completed:
        warnings.warn(
            "align_timeframes(previous_completed=False) reproduces the reference's look-ahead: "
            "a primary row sees the final OHLC of the higher bar that opens at that row, "
            "before the bar has completed (SPEC §5.2, §8.3.4). Use it only to reproduce old "
            "results, never for a backtest.",
            LookAheadWarning,
            stacklevel=stacklevel + 1,
        )
    clashes = [c for c in (_ROW, _FIRST, _AVAIL, _GRID_T) if c in schema]
    plan: list[tuple[Timeframe, list[_SideFrame]]] = []
    names: list[str] = []
    for tf, key in zip(tfs, higher, strict=True):
        parts = _sides_of(tf, higher[key])
        plan.append((tf, parts))
        names += [f"{_prefix(tf, p.side)}{f}" for p in parts for f in _FIELDS]
    clashes += [c for c in names if c in schema]
    if clashes:
        raise SchemaError(
            f"primary: already has column(s) {format_names(clashes)} that alignment would add; "
            "rename or drop them first"
        )

    delta = options.primary_tf.duration if options.entry == "close" else timedelta(0)
    # The row-indexed primary feeds the main joins and the grid of primary
    # times; an explicit cache makes Polars compute it once (without it, the
    # grid branch re-runs a lazy primary's scan and bid/ask join).
    out = base.with_row_index(_ROW).cache()
    grid = out.select(pl.col("time").alias(_GRID_T), pl.col(_ROW).alias(_FIRST))
    for tf, parts in plan:
        if options.mode == "strict":
            tolerance = 0
        elif options.stale_limit is not None:
            tolerance = options.stale_limit
        else:
            tolerance = auto_stale_limit(options.primary_tf, tf)
        duration = timedelta(0) if tf in options.close_stamped else tf.duration
        for part in parts:
            prefix = _prefix(tf, part.side)
            what = f"higher[{tf.name!r}]" + (f" ({part.side})" if part.side else "")
            bars = _bars(part, target, prefix, what)
            bars = _first_rows(
                bars,
                grid,
                f"{prefix}time",
                previous_completed=options.previous_completed,
                offset=duration - delta,
            )
            out = out.join_asof(
                bars, left_on=_ROW, right_on=_FIRST, strategy="backward", tolerance=tolerance
            ).drop(_FIRST)
    return out.drop(_ROW)


def align_timeframes(
    primary: FrameLike,
    higher: Mapping[str, HigherFrame] | Mapping[Timeframe, HigherFrame],
    *,
    primary_tf: str | Timeframe,
    entry: Entry = "open",
    previous_completed: bool = True,
    stale_limit: int | None = None,
    close_stamped: Iterable[str | Timeframe] | str = (),
    mode: Mode = "carry_forward",
) -> pl.LazyFrame:
    """Join higher-timeframe bars onto the primary rows without look-ahead (SPEC §5.2).

    Each higher timeframe and each side is as-of joined on the bar's
    completion time: the row at time ``t`` sees the latest bar with
    ``end <= t + δ`` (``end = open + duration``), for at most ``S`` primary rows
    after the row where that bar became current. See the module docstring for
    the full rules and how the plan runs.

    Parameters
    ----------
    primary
        The primary-timeframe frame (lazy or eager), sorted by ``time``
        (Datetime), as the loaders return it — e.g. from
        :func:`~omega_pl.scan_symbol`. Its rows are the grid: every column is
        kept, and nothing is added or removed. Staleness counts these rows.
    higher
        Maps each higher timeframe (``"H1"``, ``"D1"`` …; case-insensitive) to
        its bars: a frame with ``time`` (the bar's open time) and plain
        ``open … volume`` columns and/or ``bid_``/``ask_`` prefixed ones, or a
        mapping ``{"bid": frame, "ask": frame}`` of per-side frames (plain or
        prefixed columns). Each side is aligned on its own bars: in a joined
        frame a row whose five values of one side are all missing (null/NaN)
        is a hole of that side only. Duplicate timestamps: the last row wins.
        Other columns (e.g. ``symbol``) are ignored; the frames must be of the
        primary's symbol. Each timeframe must be at least as long as
        ``primary_tf``.
    primary_tf
        Timeframe of ``primary`` (its duration is ``δ`` with
        ``entry="close"`` and the unit of the automatic stale limit).
    entry
        ``"open"`` (default): a row's decision time is its bar's open time.
        ``"close"``: its close, one primary bar later, so a higher bar shows
        one primary row earlier (H1 10:00-11:00 appears on the M5 10:55 row).
    previous_completed
        ``True`` (default): only completed bars are visible. ``False``
        reproduces the reference's look-ahead behaviour and emits a
        :class:`LookAheadWarning`: the row whose time equals a higher bar's
        open time sees that bar's final OHLC, and keeps seeing it for ``S``
        rows; bars whose open time is not a primary timestamp are never shown;
        ``entry`` and ``close_stamped`` are ignored.
    stale_limit
        ``S``, the number of primary rows a bar stays visible after the row at
        which it became current. ``None`` (or 0, as in the reference's
        configuration) = automatic, ``max(1, 2 · max(1, htf_minutes //
        primary_minutes))`` per timeframe (:func:`auto_stale_limit`).
    close_stamped
        Higher timeframes whose ``time`` stamps are bar **close** times: their
        bars complete at the stamp itself.
    mode
        ``"carry_forward"`` (default): a bar repeats on every row until it is
        replaced or stale. ``"strict"``: a bar is visible only on the row at
        which it becomes current (a stale limit of zero rows) and missing on
        the following rows. **Differs from the reference**, which accepts
        ``"strict"`` but ignores it and behaves as ``carry_forward`` (SPEC
        §8.3.5); to reproduce old results use the default. SPEC §8.3.5
        sketches strict as "missing unless the bar ended exactly at this row";
        here the bar is shown on the first row at or after its end (``+ δ``),
        so a bar whose end falls into a hole of the primary grid is still
        shown once, on the next row.

    Returns
    -------
    polars.LazyFrame
        The primary frame plus, per higher timeframe in the order given and per
        side, ``<tf>_<side>_open``, ``_high``, ``_low``, ``_close``,
        ``_volume`` and ``_time`` (``<tf>_open … <tf>_time`` for plain higher
        frames; see :func:`aligned_column`). ``*_time`` is the visible bar's
        timestamp (its open time; for a close-stamped timeframe the stamp as
        stored) in the primary's ``time`` dtype — the ``bar=`` key of the
        stepwise indicators. All six are null where no bar is visible.

    Raises
    ------
    TimeframeError
        An unknown timeframe (``primary_tf``, a key of ``higher``,
        ``close_stamped``), or a higher timeframe shorter than ``primary_tf``.
    ParameterError
        Any other bad argument; the message names the parameter.
    SchemaError
        Missing ``time``/OHLCV columns, or a primary column that alignment
        would overwrite.

    Examples
    --------
    >>> aligned = align_timeframes(  # doctest: +SKIP
    ...     m5, {"H1": h1, "D1": d1}, primary_tf="M5", entry="close"
    ... )
    >>> aligned.select("time", "h1_bid_close", "h1_bid_time").collect()  # doctest: +SKIP
    """
    if not isinstance(higher, Mapping):
        raise ParameterError(
            "parameter 'higher' must map timeframes to frames, e.g. {'H1': h1_frame}, "
            f"got {type(higher).__name__}"
        )
    options, tfs = _validate(
        primary_tf, higher.keys(), entry, previous_completed, stale_limit, close_stamped, mode
    )
    return _align(primary, higher, options, tfs, stacklevel=2)


# ---------------------------------------------------------------------------
# loading and aligning in one plan


@dataclass(frozen=True)
class HigherSource:
    """Where one higher timeframe of :func:`scan_aligned` comes from.

    Attributes
    ----------
    timeframe
        The higher timeframe.
    origin
        ``"file"``: read from its own bid and ask files; ``"resampled"``:
        aggregated from the primary timeframe's files with
        :func:`~omega_pl.resample`.
    files
        The files read for it: its own, or the primary ones it was resampled from.
    """

    timeframe: Timeframe
    origin: Origin
    files: dict[Side, Path]


@dataclass(frozen=True)
class AlignedScan:
    """The result of :func:`scan_aligned`: the lazy aligned frame and where its parts come from.

    Attributes
    ----------
    frame
        The lazy aligned frame (:func:`align_timeframes` output).
    timeframe
        The primary timeframe.
    files
        The primary bid and ask files.
    higher
        Per higher timeframe name (``"H1"`` …), its :class:`HigherSource`.
    """

    frame: pl.LazyFrame
    timeframe: Timeframe
    files: dict[Side, Path]
    higher: dict[str, HigherSource] = field(default_factory=dict)

    @property
    def origins(self) -> dict[str, Origin]:
        """``{"H1": "file", "D1": "resampled", …}``."""
        return {name: src.origin for name, src in self.higher.items()}

    @property
    def resampled(self) -> tuple[str, ...]:
        """Names of the higher timeframes that were resampled from the primary one."""
        return tuple(name for name, src in self.higher.items() if src.origin == "resampled")

    def collect(
        self, *, engine: Literal["auto", "in-memory", "streaming"] = "auto"
    ) -> pl.DataFrame:
        """Run the plan: ``self.frame.collect(engine=engine)``."""
        return self.frame.collect(engine=engine)


def _resampled_side(
    primary_side: pl.LazyFrame,
    tf: Timeframe,
    *,
    start: TimeBound | None,
    market_hours: bool | None,
    clean_daily: bool | None,
) -> pl.LazyFrame:
    """One side's higher bars aggregated from its primary bars, as a file of ``tf`` would be.

    Buckets starting before ``start`` are incomplete and dropped (a file's bar
    with that open time would be outside the window too); the market-hours mask
    or the daily cleanup that :func:`~omega_pl.scan_candles` would apply to a
    file of ``tf`` is applied to the aggregated bars.
    """
    lf = resample(primary_side, tf)
    if start is not None:
        lo = parse_time_bound(start, "start")
        lf = lf.filter(pl.col("time") >= pl.lit(lo, dtype=pl.Datetime("us", "UTC")))
    use_hours = tf.is_intraday if market_hours is None else market_hours
    use_daily = tf.is_daily if clean_daily is None else clean_daily
    if use_hours:
        lf = lf.filter(market_hours_mask("time"))
    if use_daily:
        lf = lf.filter(daily_clean_mask("time"))
    return lf


def scan_aligned(
    root: str | os.PathLike[str],
    symbol: str,
    timeframe: str | Timeframe,
    *,
    higher: Sequence[str | Timeframe] | str,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    market_hours: bool | None = None,
    clean_daily: bool | None = None,
    normalize: bool = False,
    source: Source = "auto",
    entry: Entry = "open",
    previous_completed: bool = True,
    stale_limit: int | None = None,
    close_stamped: Iterable[str | Timeframe] | str = (),
    mode: Mode = "carry_forward",
) -> AlignedScan:
    """Load one symbol and align higher timeframes onto it, in one lazy plan.

    The primary grid is what :func:`~omega_pl.scan_symbol` returns for
    ``timeframe`` (bid and ask inner-joined on ``time``). Each higher timeframe is loaded per side
    with :func:`~omega_pl.scan_candles` from
    ``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>`` with the same
    window and options (SPEC §4.1: one window for every file; extend ``start``
    by the warm-up you need), or, when it has no files, resampled from the
    primary timeframe's per-side bars (:func:`~omega_pl.resample`, then the
    masks a file of that timeframe would get; buckets that start before
    ``start`` are dropped as incomplete). Bid and ask are aligned separately,
    so each keeps its own holes. Nothing is read until ``collect()``.

    Parameters
    ----------
    root, symbol, timeframe, start, end, market_hours, clean_daily, normalize
        As for :func:`~omega_pl.scan_symbol`.
    higher
        Higher timeframes, e.g. ``["H1", "D1"]`` (a single string is one timeframe).
    source
        ``"auto"`` (default): a timeframe's own files when both sides exist,
        else resample. ``"file"``: files only (missing files raise
        :class:`~omega_pl.errors.CandleFileNotFoundError`). ``"resample"``:
        always resample from the primary timeframe.
    entry, previous_completed, stale_limit, close_stamped, mode
        As for :func:`align_timeframes`.

    Returns
    -------
    AlignedScan
        ``.frame`` is the lazy aligned frame; ``.origins`` says per higher
        timeframe whether it came from its ``"file"`` or was ``"resampled"``
        (``.higher`` also lists the files).

    Examples
    --------
    >>> scan = scan_aligned("data", "EURUSD", "M5", higher=["H1", "D1"])  # doctest: +SKIP
    >>> scan.origins  # doctest: +SKIP
    {'H1': 'file', 'D1': 'file'}
    >>> scan.frame.select("time", "bid_close", "h1_bid_close").collect()  # doctest: +SKIP
    """
    if isinstance(higher, str | Timeframe):
        higher = [higher]
    if not isinstance(higher, Sequence):
        raise ParameterError(
            f"parameter 'higher' must be a list of timeframes such as ['H1', 'D1'], got {higher!r}"
        )
    options, tfs = _validate(
        timeframe, higher, entry, previous_completed, stale_limit, close_stamped, mode
    )
    src = _choice("source", source, _SOURCES)
    ptf = options.primary_tf
    opts: dict[str, Any] = {
        "start": start,
        "end": end,
        "market_hours": market_hours,
        "clean_daily": clean_daily,
        "normalize": normalize,
    }
    files = candle_files(root, symbol, ptf)
    own: dict[Timeframe, dict[Side, Path] | None] = {}
    for tf in tfs:
        own[tf] = None
        if src != "resample":
            try:
                own[tf] = candle_files(root, symbol, tf)
            except CandleFileNotFoundError:
                if src == "file":
                    raise
    sides = {side: scan_candles(path, timeframe=ptf, **opts) for side, path in files.items()}
    if any(v is None for v in own.values()):
        # Each side's file is read once and feeds both the primary grid and the
        # resampling (an explicit cache: Polars would otherwise scan it twice).
        sides = {side: lf.cache() for side, lf in sides.items()}
    primary = join_bid_ask(sides)
    frames: dict[str, HigherFrame] = {}
    sources: dict[str, HigherSource] = {}
    for tf in tfs:
        tf_files = own[tf]
        if tf_files is not None:
            frames[tf.name] = {
                side: scan_candles(path, timeframe=tf, **opts) for side, path in tf_files.items()
            }
            sources[tf.name] = HigherSource(tf, "file", tf_files)
        else:
            frames[tf.name] = {
                side: _resampled_side(
                    lf, tf, start=start, market_hours=market_hours, clean_daily=clean_daily
                )
                for side, lf in sides.items()
            }
            sources[tf.name] = HigherSource(tf, "resampled", dict(files))
    frame = _align(primary, frames, options, tfs, stacklevel=2)
    return AlignedScan(frame, ptf, dict(files), sources)
