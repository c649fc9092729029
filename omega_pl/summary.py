"""A one-look summary of a loaded candle frame: size, time range, gaps, spread.

:func:`summarize` is what ``omega load`` prints. Its gap count compares the
frame with the grid of bars the market should have produced between the first
and the last timestamp (SPEC §4.2/§4.3), so a weekend or a Sydney DST change
is never counted as missing, and a hole in the data always is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from omega_pl.errors import ParameterError, SchemaError
from omega_pl.instruments import pip_size
from omega_pl.sessions import market_hours_mask
from omega_pl.timeframes import Timeframe

__all__ = ["CandleSummary", "summarize"]

#: Grid points generated at a time while counting expected bars; bounds memory
#: (8 MiB of timestamps) for decades of M1 data.
_GRID_CHUNK = 1 << 20
_UTC_US = pl.Datetime("us", "UTC")
#: Spread statistics are rounded to this many decimals of a pip.
_SPREAD_DECIMALS = 9


@dataclass(frozen=True)
class CandleSummary:
    """Size, time range, gaps and spread of one candle frame.

    Attributes
    ----------
    symbol
        The symbol, when it was given to :func:`summarize`.
    timeframe
        Canonical timeframe name, e.g. ``"M5"``.
    rows
        Number of rows of the frame.
    first, last
        Earliest and latest bar open time (aware UTC), ``None`` for an empty frame.
    expected_bars
        Bars of the expected grid from ``first`` to ``last`` inclusive: every
        timeframe step inside market hours for ``M``/``H`` timeframes, every
        step on a UTC Monday-Friday for ``D`` timeframes, every week for ``W1``.
        The grid is anchored at ``first``.
    missing_bars
        Grid bars with no row in the frame (duplicated timestamps count once;
        rows off the grid or outside market hours are ignored).
    spread_min, spread_median, spread_max
        ``ask_close - bid_close`` in pips, rounded to 9 decimals (float noise);
        ``None`` when the frame has no ``bid_close``/``ask_close`` columns (or
        no non-null spread).
    pip
        The pip size the spreads were divided by, ``None`` without spreads.

    Examples
    --------
    >>> import omega_pl
    >>> frame = omega_pl.datasets.generate_candles("USDJPY", "H1", end="2025-03-18")
    >>> s = omega_pl.summarize(frame, "H1", symbol="USDJPY")
    >>> s.timeframe, s.rows, s.expected_bars, s.pip
    ('H1', 24, 24, 0.01)
    """

    symbol: str | None
    timeframe: str
    rows: int
    first: datetime | None
    last: datetime | None
    expected_bars: int
    missing_bars: int
    spread_min: float | None
    spread_median: float | None
    spread_max: float | None
    pip: float | None = None

    @property
    def present_bars(self) -> int:
        """Grid bars that are in the frame (``expected_bars - missing_bars``)."""
        return self.expected_bars - self.missing_bars


def _utc_times(frame: pl.DataFrame, time: str) -> pl.Series:
    """The ``time`` column as sorted, unique, non-null ``Datetime(us, UTC)``."""
    if time not in frame.columns:
        raise SchemaError(f"summarize: no time column {time!r}; found: {frame.columns}")
    series = frame.get_column(time)
    dtype = series.dtype
    if not isinstance(dtype, pl.Datetime):
        raise SchemaError(f"summarize: column {time!r} has type {dtype}; expected Datetime")
    if dtype.time_zone is None:
        series = series.dt.replace_time_zone("UTC")
    elif dtype.time_zone != "UTC":
        series = series.dt.convert_time_zone("UTC")
    return series.cast(_UTC_US).drop_nulls().unique().sort()


def _in_session(times: pl.Series, tf: Timeframe) -> pl.Series:
    """Boolean mask of the grid points of ``times`` at which the market trades."""
    if tf.is_intraday:
        return pl.DataFrame({"time": times}).select(market_hours_mask("time")).to_series()
    if tf.is_daily:
        # UTC weekday from the epoch day (1970-01-01 was a Thursday; Monday = 0).
        return ((times.dt.epoch("s") // 86_400 + 3) % 7) < 5
    return pl.repeat(True, times.len(), dtype=pl.Boolean, eager=True)


def _expected_count(first: datetime, last: datetime, tf: Timeframe) -> int:
    """Size of the market-hours grid from ``first`` to ``last`` in steps of ``tf``."""
    step = tf.duration
    last_index = (last - first) // step
    count = 0
    for lo_index in range(0, last_index + 1, _GRID_CHUNK):
        hi_index = min(lo_index + _GRID_CHUNK - 1, last_index)
        grid = pl.datetime_range(
            first + lo_index * step,
            first + hi_index * step,
            step,
            time_unit="us",
            time_zone="UTC",
            eager=True,
        )
        count += int(_in_session(grid, tf).sum())
    return count


def _present_count(times: pl.Series, first: datetime, tf: Timeframe) -> int:
    """How many of the (unique, sorted) ``times`` are grid points inside market hours."""
    step_us = tf.duration // timedelta(microseconds=1)
    first_us = (first - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    on_grid = times.filter(((times.dt.epoch("us") - first_us) % step_us) == 0)
    return int(_in_session(on_grid, tf).sum())


def _spread_pips(
    frame: pl.DataFrame, symbol: str | None, pip: float | None
) -> tuple[float | None, float | None, float | None, float | None]:
    """``(min, median, max, pip)`` of ``ask_close - bid_close`` in pips."""
    if not {"bid_close", "ask_close"} <= set(frame.columns):
        return None, None, None, None
    if pip is None:
        if symbol is None:
            raise ParameterError(
                "summarize: the frame has bid/ask columns; pass symbol= (for the pip rule) "
                "or pip= to report the spread in pips"
            )
        pip = pip_size(symbol)
    elif not pip > 0.0:
        raise ParameterError(f"summarize: pip must be positive, got {pip!r}")
    spread = frame.select(
        ((pl.col("ask_close") - pl.col("bid_close")).cast(pl.Float64) / pip).alias("spread")
    ).to_series()
    spread = spread.drop_nulls().drop_nans()
    if spread.is_empty():
        return None, None, None, pip

    def scalar(value: object) -> float:
        assert isinstance(value, float)
        # Drop the float noise of the subtraction (1.10010 - 1.10000 = 0.99999999999989 pips).
        return round(value, _SPREAD_DECIMALS)

    return scalar(spread.min()), scalar(spread.median()), scalar(spread.max()), pip


def summarize(
    frame: pl.DataFrame,
    timeframe: str | Timeframe,
    *,
    symbol: str | None = None,
    pip: float | None = None,
    time: str = "time",
) -> CandleSummary:
    """Summarize a candle frame: rows, time range, missing bars and spread in pips.

    Missing bars are bars of the expected grid between the first and the last
    timestamp that the frame does not have. The grid steps by the timeframe
    from the first timestamp (``pl.datetime_range``) and keeps only the bars
    the market produces: inside the Sydney market hours
    (:func:`~omega_pl.market_hours_mask`) for ``M``/``H`` timeframes, on UTC
    Monday-Friday for ``D`` timeframes, and every week for ``W1``. Weekends
    and DST shifts of the session are therefore not gaps. The grid is counted
    in chunks, so years of M1 data need little memory.

    Parameters
    ----------
    frame
        A candle frame with a Datetime ``time`` column (naive = UTC), e.g. the
        result of ``scan_symbol(...).collect()`` or ``scan_candles(...).collect()``.
    timeframe
        The frame's timeframe (``"M5"``, ``"H1"``, ``"D1"``, ``"W1"`` …).
    symbol
        The instrument; used for the pip size of the spread (see
        :func:`~omega_pl.instruments.pip_size`) and stored in the result.
    pip
        Pip size in price units; overrides the rule for ``symbol``.
    time
        Name of the timestamp column.

    Returns
    -------
    CandleSummary
        With spread statistics when the frame has ``bid_close`` and
        ``ask_close`` columns, ``None`` spreads otherwise.

    Raises
    ------
    SchemaError
        If the time column is missing or not a Datetime.
    ParameterError
        If the frame has bid/ask columns but neither ``pip`` nor a symbol with a
        pip rule is given, or ``pip`` is not positive.
    TimeframeError
        For an unknown timeframe.

    Examples
    --------
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()
    >>> frame = omega_pl.scan_symbol(root, "EURUSD", "M5", start="2025-03-24", end="2025-03-28")
    >>> s = omega_pl.summarize(frame.collect(), "M5", symbol="EURUSD")
    >>> s.rows, s.missing_bars, s.spread_median
    (1392, 0, 0.6)
    """
    tf = Timeframe.parse(timeframe)
    times = _utc_times(frame, time)
    spread_min, spread_median, spread_max, used_pip = _spread_pips(frame, symbol, pip)
    if times.is_empty():
        first = last = None
        expected = missing = 0
    else:
        first_value, last_value = times[0], times[-1]
        assert isinstance(first_value, datetime)
        assert isinstance(last_value, datetime)
        first, last = first_value, last_value
        expected = _expected_count(first, last, tf)
        missing = expected - _present_count(times, first, tf)
    return CandleSummary(
        symbol=symbol,
        timeframe=tf.name,
        rows=frame.height,
        first=first,
        last=last,
        expected_bars=expected,
        missing_bars=missing,
        spread_min=spread_min,
        spread_median=spread_median,
        spread_max=spread_max,
        pip=used_pip,
    )
