"""Candle frames on demand: :func:`generate_candles` and :func:`synthetic_candles`.

:func:`generate_candles` aggregates the simulated M1 path exactly as the sample
files are written; :func:`synthetic_candles` generates a requested number of
bars directly on any timeframe (fully vectorised, used by the benchmarks for
millions of rows). Both check their arguments here and turn the simulator's
integer ticks into Polars frames.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Final

import numpy as np
import polars as pl

from omega_pl.datasets.simulator import (
    _S_HOLES,
    _US_PER_DAY,
    F64,
    I64,
    _aggregate,
    _bar_us,
    _ceil_to,
    _join,
    _m1_sides,
    _market_mask,
    _profile,
    _rng,
    _Side,
    _simulate,
)
from omega_pl.errors import ParameterError, TimeframeError, WindowError
from omega_pl.timeframes import Timeframe

__all__ = ["SAMPLE_END", "SAMPLE_START", "generate_candles", "synthetic_candles"]

SAMPLE_START: datetime = datetime(2025, 3, 17, tzinfo=UTC)
"""Default start (inclusive) of the sample span, a Monday."""

SAMPLE_END: datetime = datetime(2025, 4, 19, tzinfo=UTC)
"""Default end (exclusive) of the sample span; the span contains the end of
Sydney daylight saving time on 2025-04-06, which moves the weekly open/close in
UTC by one hour."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_US: Final = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // _EPOCH.resolution


def _parse_timeframe(timeframe: str) -> Timeframe:
    """Parse ``M<n>``/``H<n>``/``D<n>`` (unit case-insensitive) with :meth:`Timeframe.parse`.

    ``W1`` is refused: the generator's buckets are epoch-anchored (a Thursday),
    the library's weeks start on Monday.
    """
    try:
        tf: Timeframe | None = Timeframe.parse(timeframe)
    except TimeframeError:
        tf = None
    if tf is None or tf.unit == "W":
        msg = (
            f"unknown timeframe {timeframe!r}: accepted forms are M<n> (minutes), "
            "H<n> (hours) and D<n> (days) with n >= 1 and no leading zero, "
            "e.g. 'M1', 'M15', 'H4', 'D1'"
        )
        raise TimeframeError(msg)
    return tf


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool):
        msg = "seed must be an integer, not a bool"
        raise ParameterError(msg)
    try:
        value = operator.index(seed)
    except TypeError:
        msg = f"seed must be an integer, got {type(seed).__name__}"
        raise ParameterError(msg) from None
    if value < 0:
        msg = f"seed must be >= 0, got {value}"
        raise ParameterError(msg)
    return value


def _to_epoch_us(value: datetime | str, name: str) -> int:
    """Convert a datetime or ISO 8601 string to UTC epoch microseconds (naive = UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            msg = f"{name}: cannot parse {value!r} as an ISO 8601 date/time"
            raise WindowError(msg) from exc
    elif not isinstance(value, datetime):
        msg = f"{name} must be a datetime or an ISO 8601 string, got {type(value).__name__}"
        raise WindowError(msg)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _EPOCH.resolution


def _span(start: datetime | str, end: datetime | str) -> tuple[int, int]:
    start_us = _to_epoch_us(start, "start")
    end_us = _to_epoch_us(end, "end")
    if start_us >= end_us:
        msg = f"start must be before end, got start={start!r}, end={end!r}"
        raise WindowError(msg)
    return start_us, end_us


# --------------------------------------------------------------------------- frames

_PRICE_FIELDS: Final = ("open", "high", "low", "close")


def _time_series(t_us: I64, name: str = "time") -> pl.Series:
    return pl.Series(name, t_us, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))


def _side_columns(side: _Side, decimals: int, prefix: str = "") -> dict[str, F64]:
    scale = float(10**decimals)
    # ticks / 10**decimals is the correctly rounded double of the decimal price,
    # i.e. exactly the value a CSV reader parses back from the decimal text.
    cols: dict[str, F64] = {
        f"{prefix}{field}": getattr(side, field).astype(np.float64) / scale
        for field in _PRICE_FIELDS
    }
    cols[f"{prefix}volume"] = side.volume.astype(np.float64)
    return cols


def _side_frame(side: _Side, decimals: int) -> pl.DataFrame:
    return pl.DataFrame([_time_series(side.time), *_series(_side_columns(side, decimals))])


def _joined_frame(bid: _Side, ask: _Side, decimals: int) -> pl.DataFrame:
    columns = _side_columns(bid, decimals, "bid_") | _side_columns(ask, decimals, "ask_")
    return pl.DataFrame([_time_series(bid.time), *_series(columns)])


def _series(columns: dict[str, F64]) -> list[pl.Series]:
    return [pl.Series(name, values, dtype=pl.Float64) for name, values in columns.items()]


# --------------------------------------------------------------------------- public API


def generate_candles(
    symbol: str = "EURUSD",
    timeframe: str = "M1",
    *,
    start: datetime | str = SAMPLE_START,
    end: datetime | str = SAMPLE_END,
    seed: int = 0,
) -> pl.DataFrame:
    """Generate joined bid/ask candles for one symbol and timeframe.

    The M1 path of ``(symbol, seed, start, end)`` is simulated once and aggregated
    to ``timeframe``, exactly as :func:`write_sample_data` does, so the result
    equals the inner join on ``time`` of the bid and ask files written for the
    same arguments.

    Parameters
    ----------
    symbol : str
        Symbol name. ``EURUSD``, ``GBPUSD``, ``USDJPY`` and ``XAUUSD`` have
        realistic price levels, volatilities and spreads; any other name uses a
        generic FX profile (level 1.0, 5 decimals).
    timeframe : str
        ``M<n>``, ``H<n>`` or ``D<n>`` (``n >= 1``; ``"h1"`` is read as ``"H1"``). Bars are
        stamped with their open time on an epoch-anchored UTC grid; daily bars
        at 00:00 UTC.
    start, end : datetime or str
        Half-open span ``[start, end)`` of bar open times. Naive values and ISO
        strings without offset are UTC. Aggregated bars at an unaligned ``end``
        may be partial; bars stamped before ``start`` are not returned.
    seed : int
        Non-negative seed. Identical arguments always give identical frames.

    Returns
    -------
    polars.DataFrame
        Columns ``time`` (``Datetime("us", "UTC")``), ``bid_open``, ``bid_high``,
        ``bid_low``, ``bid_close``, ``bid_volume``, ``ask_open``, ``ask_high``,
        ``ask_low``, ``ask_close``, ``ask_volume`` (``Float64``), sorted by unique
        ``time``. Prices are rounded to the symbol's price precision.

    Raises
    ------
    TimeframeError
        If the timeframe is not ``M<n>``/``H<n>``/``D<n>``.
    WindowError
        If ``start >= end`` or a date string cannot be parsed.
    ParameterError
        If ``symbol`` is empty or ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> from omega_pl.datasets import generate_candles
    >>> h1 = generate_candles("EURUSD", "H1", start="2025-03-18", end="2025-03-18T03:00")
    >>> h1.columns  # doctest: +NORMALIZE_WHITESPACE
    ['time', 'bid_open', 'bid_high', 'bid_low', 'bid_close', 'bid_volume',
     'ask_open', 'ask_high', 'ask_low', 'ask_close', 'ask_volume']
    >>> h1.select("time", "bid_close", "ask_close")
    shape: (3, 3)
    ┌─────────────────────────┬───────────┬───────────┐
    │ time                    ┆ bid_close ┆ ask_close │
    │ ---                     ┆ ---       ┆ ---       │
    │ datetime[μs, UTC]       ┆ f64       ┆ f64       │
    ╞═════════════════════════╪═══════════╪═══════════╡
    │ 2025-03-18 00:00:00 UTC ┆ 1.09524   ┆ 1.09544   │
    │ 2025-03-18 01:00:00 UTC ┆ 1.09531   ┆ 1.09536   │
    │ 2025-03-18 02:00:00 UTC ┆ 1.09577   ┆ 1.09586   │
    └─────────────────────────┴───────────┴───────────┘

    Daily bars exist on UTC weekdays only (Friday 21 March to Tuesday 25 March):

    >>> d1 = generate_candles("EURUSD", "D1", start="2025-03-21", end="2025-03-26")
    >>> d1["time"].dt.weekday().to_list()
    [5, 1, 2]
    """
    tf = _parse_timeframe(timeframe)
    profile = _profile(symbol)
    seed = _check_seed(seed)
    start_us, end_us = _span(start, end)
    bid, ask = _m1_sides(symbol, start_us, end_us, seed)
    bid, ask = _join(_aggregate(bid, tf, start_us), _aggregate(ask, tf, start_us))
    return _joined_frame(bid, ask, profile.decimals)


def synthetic_candles(
    n_rows: int,
    *,
    symbol: str = "EURUSD",
    timeframe: str = "M1",
    start: datetime | str = datetime(2015, 1, 5, tzinfo=UTC),
    seed: int = 0,
    missing_ratio: float = 0.0,
) -> pl.DataFrame:
    """Generate exactly ``n_rows`` joined bid/ask candles, fast (for benchmarks).

    Bars are simulated directly on the ``timeframe`` grid (no M1 aggregation),
    starting at the first grid point at or after ``start``, inside market hours
    only (Sydney-session rule for intraday timeframes, UTC weekdays for daily
    ones). Everything is vectorised with NumPy: ten million M1 rows take a few
    seconds. The first ``k`` rows do not depend on ``n_rows >= k``.

    Parameters
    ----------
    n_rows : int
        Number of rows to return (``>= 0``).
    symbol : str
        Symbol name; unknown names use a generic FX profile (level 1.0).
    timeframe : str
        ``M<n>``, ``H<n>`` or ``D<n>``.
    start : datetime or str
        Earliest bar open time (naive = UTC).
    seed : int
        Non-negative seed; identical arguments give identical frames.
    missing_ratio : float
        Fraction in ``[0, 1)`` of in-session bars randomly dropped (holes),
        deterministic by seed. The bar after a hole opens at the close of the
        missing bar, as in real data.

    Returns
    -------
    polars.DataFrame
        The schema of :func:`generate_candles`, sorted by unique ``time``.

    Raises
    ------
    ParameterError
        If ``n_rows < 0``, ``missing_ratio`` is outside ``[0, 1)``, ``symbol`` is
        empty or ``seed`` is negative.
    TimeframeError
        If the timeframe is not ``M<n>``/``H<n>``/``D<n>``.
    WindowError
        If ``start`` cannot be parsed, or the rows would extend beyond the year 9999.

    Examples
    --------
    >>> from omega_pl.datasets import synthetic_candles
    >>> frame = synthetic_candles(1_000, timeframe="M5", missing_ratio=0.01)
    >>> frame.height, frame["time"].is_sorted()
    (1000, True)
    >>> str(frame["time"][0]), str(frame["time"][-1])
    ('2015-01-05 00:00:00+00:00', '2015-01-08 12:00:00+00:00')
    """
    if isinstance(n_rows, bool):
        msg = "n_rows must be an integer, not a bool"
        raise ParameterError(msg)
    try:
        n_rows = operator.index(n_rows)
    except TypeError:
        msg = f"n_rows must be an integer, got {type(n_rows).__name__}"
        raise ParameterError(msg) from None
    if n_rows < 0:
        msg = f"n_rows must be >= 0, got {n_rows}"
        raise ParameterError(msg)
    ratio = float(missing_ratio)
    if not 0.0 <= ratio < 1.0:
        msg = f"missing_ratio must be in [0, 1), got {missing_ratio!r}"
        raise ParameterError(msg)
    tf = _parse_timeframe(timeframe)
    profile = _profile(symbol)
    seed = _check_seed(seed)
    bar_us = _bar_us(tf)
    first_us = _ceil_to(_to_epoch_us(start, "start"), bar_us)
    if n_rows == 0:
        empty = np.zeros(0, dtype=np.int64)
        side = _Side(empty, empty, empty, empty, empty, empty)
        return _joined_frame(side, side, profile.decimals)

    # Markets are open 5 of 7 days; add a margin of two weeks, then grow if short.
    bars_per_week = max(1, 7 * _US_PER_DAY // bar_us)
    count = int(n_rows / ((5.0 / 7.0) * (1.0 - ratio)) * 1.01) + 2 * bars_per_week + 16
    while True:
        if first_us + count * bar_us > _MAX_US:
            msg = f"{n_rows} rows of {tf.name} starting at {start!r} extend beyond the year 9999"
            raise WindowError(msg)
        grid = first_us + np.arange(count, dtype=np.int64) * bar_us
        grid = grid[_market_mask(grid, tf)]
        if ratio > 0.0:
            keep = _rng(seed, symbol, _S_HOLES).random(grid.size) >= ratio
        else:
            keep = np.ones(grid.size, dtype=np.bool_)
        kept = np.flatnonzero(keep)
        if kept.size >= n_rows:
            break
        count *= 2
    cut = int(kept[n_rows - 1]) + 1
    grid, keep = grid[:cut], keep[:cut]
    bid, ask = _simulate(grid, tf.minutes, profile, seed, symbol)
    del grid
    if ratio > 0.0:
        bid, ask = bid.take(keep), ask.take(keep)
    return _joined_frame(bid, ask, profile.decimals)
