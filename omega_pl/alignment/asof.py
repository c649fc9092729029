"""Higher-timeframe bars on the primary grid by as-of joins, no look-ahead (SPEC §5.2).

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
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import polars as pl

from omega_pl.alignment.options import (
    _FIELDS,
    Entry,
    FrameLike,
    HigherFrame,
    Mode,
    _lazy,
    _Options,
    _prefix,
    _SideFrame,
    _sides_of,
    _validate,
    auto_stale_limit,
)
from omega_pl.errors import LookAheadWarning, ParameterError, SchemaError, format_names
from omega_pl.timeframes import OHLCV, Timeframe

__all__ = ["align_timeframes"]

# Internal column names (prefixed so they cannot clash with a user's columns).
_ROW = "__omega_align_row"
_FIRST = "__omega_align_first"
_AVAIL = "__omega_align_avail"
_GRID_T = "__omega_align_t"


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
    The 09:00 H1 bar completes at 10:00: the M5 row of 10:00 is the first to see it,
    or with ``entry="close"`` the row of 09:55 (whose bar closes at 10:00).

    >>> from omega_pl import align_timeframes
    >>> from omega_pl.datasets import generate_candles
    >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T11:00"}
    >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
    >>> aligned = align_timeframes(m5, {"H1": h1}, primary_tf="M5")
    >>> aligned.select("time", "h1_bid_close", "h1_bid_time").collect().slice(10, 4)
    shape: (4, 3)
    ┌─────────────────────────┬──────────────┬─────────────────────────┐
    │ time                    ┆ h1_bid_close ┆ h1_bid_time             │
    │ ---                     ┆ ---          ┆ ---                     │
    │ datetime[μs, UTC]       ┆ f64          ┆ datetime[μs, UTC]       │
    ╞═════════════════════════╪══════════════╪═════════════════════════╡
    │ 2025-03-18 09:50:00 UTC ┆ null         ┆ null                    │
    │ 2025-03-18 09:55:00 UTC ┆ null         ┆ null                    │
    │ 2025-03-18 10:00:00 UTC ┆ 1.09573      ┆ 2025-03-18 09:00:00 UTC │
    │ 2025-03-18 10:05:00 UTC ┆ 1.09573      ┆ 2025-03-18 09:00:00 UTC │
    └─────────────────────────┴──────────────┴─────────────────────────┘
    >>> at_close = align_timeframes(m5, {"H1": h1}, primary_tf="M5", entry="close")
    >>> at_close.select("time", "h1_bid_close").collect().slice(10, 3)["h1_bid_close"].to_list()
    [None, 1.09573, 1.09573]
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
