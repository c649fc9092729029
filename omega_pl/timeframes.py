"""Timeframes: parsing, flooring and OHLCV resampling.

A timeframe is ``M<n>`` (minutes), ``H<n>`` (hours), ``D<n>`` (days) or ``W1``
(one week); the letter is case-insensitive. Buckets are anchored at the Unix
epoch in UTC (SPEC §4.4): ``H4`` floors to 00, 04, 08 … UTC, ``M7`` to an
epoch-anchored 7-minute grid, ``D1`` to 00:00 UTC, ``W1`` to Monday 00:00 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeVar

import polars as pl

from omega_pl._plugin import to_expr
from omega_pl.errors import SchemaError, TimeframeError, format_names

__all__ = ["OHLCV", "Timeframe", "floor_time", "resample"]

#: Candle value columns, in their canonical order.
OHLCV: tuple[str, ...] = ("open", "high", "low", "close", "volume")

_ACCEPTED = (
    "M<n> (minutes), H<n> (hours), D<n> (days) with n >= 1, or W1 (one week); e.g. M5, H1, D1"
)
_PATTERN = re.compile(r"^\s*([MHDWmhdw])([1-9][0-9]{0,5})\s*$")
_MINUTES = {"M": 1, "H": 60, "D": 1440, "W": 10080}
_POLARS_UNIT = {"M": "m", "H": "h", "D": "d", "W": "w"}

Unit = Literal["M", "H", "D", "W"]
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A candle timeframe such as ``M5`` or ``H1``.

    Build one with :meth:`parse`; ``str(tf)`` gives the canonical name.

    Examples
    --------
    >>> from omega_pl import Timeframe
    >>> tf = Timeframe.parse("h4")
    >>> tf.name, tf.minutes, tf.every, tf.is_intraday
    ('H4', 240, '4h', True)
    """

    unit: Unit
    count: int

    @classmethod
    def parse(cls, value: str | Timeframe) -> Timeframe:
        """Parse ``"M5"``, ``"h1"``, ``"D1"``, ``"W1"``; raise :class:`TimeframeError` if bad."""
        if isinstance(value, Timeframe):
            return value
        match = _PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            raise TimeframeError(f"unknown timeframe {value!r}; accepted forms: {_ACCEPTED}")
        unit = match.group(1).upper()
        count = int(match.group(2))
        if unit == "W" and count != 1:
            raise TimeframeError(f"unknown timeframe {value!r}; accepted forms: {_ACCEPTED}")
        return cls(unit, count)  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``"M5"``."""
        return f"{self.unit}{self.count}"

    @property
    def minutes(self) -> int:
        """Length in minutes (SPEC §4.5)."""
        return _MINUTES[self.unit] * self.count

    @property
    def duration(self) -> timedelta:
        """Length as a :class:`~datetime.timedelta`."""
        return timedelta(minutes=self.minutes)

    @property
    def every(self) -> str:
        """The Polars duration string, e.g. ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"``."""
        return f"{self.count}{_POLARS_UNIT[self.unit]}"

    @property
    def is_intraday(self) -> bool:
        """True for minute and hour timeframes."""
        return self.unit in ("M", "H")

    @property
    def is_daily(self) -> bool:
        """True for ``D<n>`` (the daily cleanup of SPEC §4.3 applies)."""
        return self.unit == "D"

    def __str__(self) -> str:
        return self.name


def floor_time(expr: str | pl.Expr, timeframe: str | Timeframe) -> pl.Expr:
    """Floor timestamps to the start of their ``timeframe`` bucket (epoch-anchored, UTC).

    Parameters
    ----------
    expr
        A Datetime column name or expression (UTC, naive or aware).
    timeframe
        Timeframe string or :class:`Timeframe`.

    Examples
    --------
    >>> from datetime import datetime
    >>> import polars as pl
    >>> import omega_pl
    >>> df = pl.DataFrame({"time": [datetime(2025, 3, 3, 5, 59), datetime(2025, 3, 3, 9, 1)]})
    >>> df.select(omega_pl.floor_time("time", "H4")).to_series().to_list()
    [datetime.datetime(2025, 3, 3, 4, 0), datetime.datetime(2025, 3, 3, 8, 0)]
    """
    tf = Timeframe.parse(timeframe)
    return to_expr(expr).dt.truncate(tf.every)


def _ohlcv_groups(columns: list[str]) -> list[str]:
    """The column prefixes ("" or "bid_"/"ask_") that carry a full OHLCV set."""
    prefixes = [p for p in ("", "bid_", "ask_") if all(f"{p}{c}" in columns for c in OHLCV)]
    if not prefixes:
        raise SchemaError(
            "resample needs open/high/low/close/volume columns (plain or bid_/ask_ prefixed); "
            f"found: {format_names(columns)}"
        )
    return prefixes


def resample(frame: FrameT, timeframe: str | Timeframe, *, time: str = "time") -> FrameT:
    """Aggregate candles to a higher ``timeframe``.

    Open is the first, high the max, low the min, close the last and volume the
    sum of the bars in each bucket; buckets are left-closed and labelled by
    their open time (epoch-anchored UTC grid, see :func:`floor_time`). Only
    buckets that hold at least one bar appear: nothing is invented for gaps.
    Works on plain and on ``bid_``/``ask_`` prefixed frames, and per ``symbol``
    when that column exists. Rows must be in time order (per symbol), as every
    omega_pl loader returns them.

    Raises
    ------
    SchemaError
        If OHLCV columns are missing, or other columns are present (they have no
        defined aggregation; select them away first).

    Examples
    --------
    >>> import omega_pl
    >>> m5 = omega_pl.datasets.generate_candles("EURUSD", "M5", end="2025-03-17 12:00")
    >>> h1 = omega_pl.resample(m5, "H1")
    >>> h1.height, h1["time"][0].isoformat(), h1.columns[:3]
    (12, '2025-03-17T00:00:00+00:00', ['time', 'bid_open', 'bid_high'])
    >>> h1["bid_high"][0] == m5["bid_high"].head(12).max()
    True
    """
    tf = Timeframe.parse(timeframe)
    columns = frame.collect_schema().names()
    if time not in columns:
        raise SchemaError(f"resample: no time column {time!r}; found: {format_names(columns)}")
    prefixes: list[str] = _ohlcv_groups(columns)
    keys: list[str] = ["symbol"] if "symbol" in columns else []
    known = {time, *keys, *(f"{p}{c}" for p in prefixes for c in OHLCV)}
    extra = [c for c in columns if c not in known]
    if extra:
        raise SchemaError(
            f"resample: columns without an OHLCV aggregation: {format_names(extra)}; "
            "select them away (or aggregate them yourself) first"
        )
    aggs: list[pl.Expr] = []
    for p in prefixes:
        aggs += [
            pl.col(f"{p}open").first(),
            pl.col(f"{p}high").max(),
            pl.col(f"{p}low").min(),
            pl.col(f"{p}close").last(),
            pl.col(f"{p}volume").sum(),
        ]
    out = (
        frame.group_by([*keys, floor_time(time, tf).alias(time)], maintain_order=True)
        .agg(aggs)
        .sort([*keys, time])
    )
    return out
