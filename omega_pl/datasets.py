"""Seeded, deterministic synthetic bid/ask candles.

This module produces realistic-looking FX / metal candle data for examples, tests,
benchmarks and the CLI's "no data of my own" path. Of :mod:`omega_pl` it uses only
:class:`~omega_pl.Timeframe` (parsing) and the typed errors; its session rule and
its aggregation are its own, so that the library's masks and resampling can be
tested against it.

Model
-----
* **Grid and sessions.** Bars are stamped with their open time in UTC on an
  epoch-anchored grid of the timeframe. Intraday bars exist only while the market
  is open according to the Sydney-session rule of ``SPEC-indicators.md`` §4.2
  (Sydney local Monday 07:00 to Saturday 07:00, DST-aware); daily bars exist on
  UTC weekdays only (§4.3).
* **Prices.** The log mid-price follows a random walk whose per-bar volatility is
  the symbol's daily volatility scaled by ``sqrt(bar minutes / 1440)``, an
  intraday (UTC hour) profile, and day- and hour-level volatility regimes. The
  walk is reflected at +-30 % (log) around the symbol's price level so that very
  long paths stay plausible. Each bar opens at the previous close, except after
  a market closure (weekend), where a small gap is drawn. High and low extend
  beyond ``max(open, close)`` / ``min(open, close)`` by exponential amounts.
* **Ticks.** All prices are generated as integer multiples of the symbol's price
  increment (5 decimals for EURUSD/GBPUSD, 3 for USDJPY, 2 for XAUUSD), so the
  OHLC inequalities hold exactly and CSV and Parquet files hold identical values.
* **Ask side.** ``ask = bid + spread`` with a strictly positive spread in ticks
  that varies per bar, widens around the daily rollover (21-22 UTC) and strongly
  in the first hour after the weekly open. Volumes are tick counts stored as
  floats; bid and ask volumes differ slightly.
* **Holes.** :func:`generate_candles` and :func:`write_sample_data` drop about
  0.1 % of the in-session M1 bars on both sides, and a handful of M1 bars on
  one side only (so an inner bid/ask join drops something). One-sided holes are
  placed so that they never change an aggregated bar's open, high, low or close.
* **Timeframe consistency.** Higher timeframes are aggregated from the M1 path
  of the same ``(symbol, seed, start, end)`` with epoch-anchored UTC buckets
  (first / max / min / last / sum), so e.g. H1 files equal the M1 files
  resampled to H1. Aggregated intraday bars whose open time falls in closed
  market hours are dropped, as are daily bars stamped on a UTC Saturday/Sunday.
* **Determinism.** Every random quantity has its own NumPy ``Generator`` seeded
  from ``(seed, stable hash of symbol, stream id)`` (never Python's ``hash()``),
  and draws one value per bar (or per day/hour), so identical arguments give
  identical frames on every platform and run.

:func:`synthetic_candles` generates a requested number of bars directly on any
timeframe (fully vectorised, used by the benchmarks for millions of rows).
"""

from __future__ import annotations

import hashlib
import math
import operator
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from omega_pl.errors import ParameterError, TimeframeError, WindowError
from omega_pl.timeframes import Timeframe

__all__ = [
    "SAMPLE_END",
    "SAMPLE_START",
    "SAMPLE_SYMBOLS",
    "SAMPLE_TIMEFRAMES",
    "generate_candles",
    "sample_data_root",
    "synthetic_candles",
    "write_sample_data",
]

SAMPLE_SYMBOLS: tuple[str, ...] = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
"""Symbols written by :func:`write_sample_data` by default."""

SAMPLE_TIMEFRAMES: tuple[str, ...] = ("M1", "M5", "M15", "H1", "H4", "D1")
"""Timeframes written by :func:`write_sample_data` by default."""

SAMPLE_START: datetime = datetime(2025, 3, 17, tzinfo=UTC)
"""Default start (inclusive) of the sample span, a Monday."""

SAMPLE_END: datetime = datetime(2025, 4, 19, tzinfo=UTC)
"""Default end (exclusive) of the sample span; the span contains the end of
Sydney daylight saving time on 2025-04-06, which moves the weekly open/close in
UTC by one hour."""

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

_US_PER_MINUTE: Final = 60_000_000
_US_PER_HOUR: Final = 60 * _US_PER_MINUTE
_US_PER_DAY: Final = 24 * _US_PER_HOUR
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_US: Final = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // _EPOCH.resolution
_SYDNEY: Final = "Australia/Sydney"

_CSV_HEADER: Final = ("UTC time", "Open", "High", "Low", "Close", "Volume")
_CSV_DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S%:z"
_SAMPLE_CACHE_VERSION: Final = 1  # bump whenever the generated sample data changes
_STALE_TMP_SECONDS: Final = 24 * 3600

_COMMON_HOLE_RATE: Final = 1e-3  # fraction of in-session M1 bars missing on both sides
_SIDE_HOLE_RATE: Final = 2e-3  # per eligible minute (one in five); most are filtered out
_REFLECT_BAND: Final = 0.3  # log-price band around the symbol's level
_GAP_VOL_FRACTION: Final = 0.3  # weekend gap sd as a fraction of the daily volatility
_RANGE_SCALE: Final = 0.5  # mean high/low extension in units of the bar volatility
_WIDE_SPREAD_FACTOR: Final = 4.0  # spread multiplier in the first hour after the open
_WIDE_SPREAD_MINUTES: Final = 60

# Stream ids: one independent random stream per quantity (see _rng).
_S_START, _S_RETURNS, _S_GAPS, _S_HIGH, _S_LOW = 1, 2, 3, 4, 5
_S_SPREAD, _S_VOLUME, _S_VOLUME_DIFF, _S_DAY_REGIME, _S_HOUR_REGIME = 6, 7, 8, 9, 10
_S_HOLES, _S_SIDE_HOLES = 11, 12


def _by_hour(values: str) -> F64:
    """Parse 24 whitespace-separated per-UTC-hour factors (hour 0 first)."""
    out = np.array([float(v) for v in values.split()], dtype=np.float64)
    if out.shape != (24,):  # pragma: no cover - guards the constants below
        msg = f"expected 24 hourly factors, got {out.size}"
        raise ValueError(msg)
    return out


# Intraday activity profile by UTC hour (Asia quiet, London and the London/New
# York overlap busy, rollover quiet); normalised to unit mean variance.
_VOL_BY_HOUR_RAW: Final = _by_hour(
    "0.6 0.6 0.7 0.7 0.7 0.7 0.8 1.1 1.4 1.3 1.2 1.1 "  # 00-11 UTC
    "1.3 1.6 1.7 1.5 1.3 1.1 0.9 0.8 0.7 0.5 0.5 0.6"  # 12-23 UTC
)
_VOL_BY_HOUR: Final = _VOL_BY_HOUR_RAW / math.sqrt(float(np.mean(_VOL_BY_HOUR_RAW**2)))
# Spread multiplier by UTC hour: wide around the 21-22 UTC rollover, tight in
# the London and New York sessions.
_SPREAD_BY_HOUR: Final = _by_hour(
    "1.3 1.3 1.2 1.2 1.2 1.1 1.1 0.9 0.9 0.9 0.9 0.9 "  # 00-11 UTC
    "0.9 0.9 0.9 0.9 0.9 1.0 1.0 1.0 1.1 2.0 2.0 1.4"  # 12-23 UTC
)


@dataclass(frozen=True)
class _Profile:
    """Statistical profile of one symbol (prices in ticks of ``10**-decimals``)."""

    level: float
    daily_vol: float
    decimals: int
    spread_ticks: float
    min_spread_ticks: int
    max_spread_ticks: int
    ticks_per_minute: float


_PROFILES: Final[dict[str, _Profile]] = {
    "EURUSD": _Profile(1.09, 0.006, 5, 6.0, 1, 20, 60.0),
    "GBPUSD": _Profile(1.29, 0.0065, 5, 9.0, 2, 30, 50.0),
    "USDJPY": _Profile(149.5, 0.0065, 3, 8.0, 2, 30, 55.0),
    "XAUUSD": _Profile(2300.0, 0.01, 2, 25.0, 8, 100, 90.0),
}
_GENERIC_PROFILE: Final = _Profile(1.0, 0.006, 5, 10.0, 1, 40, 30.0)


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


def _bar_us(tf: Timeframe) -> int:
    """Bar duration of ``tf`` in microseconds."""
    return tf.minutes * _US_PER_MINUTE


def _profile(symbol: str) -> _Profile:
    if not isinstance(symbol, str) or not symbol:
        msg = f"symbol must be a non-empty string, got {symbol!r}"
        raise ParameterError(msg)
    return _PROFILES.get(symbol.upper(), _GENERIC_PROFILE)


def _check_path_symbol(symbol: str) -> None:
    _profile(symbol)
    if symbol in {".", ".."} or any(sep in symbol for sep in ("/", "\\", "\0")):
        msg = f"symbol {symbol!r} cannot be used as a directory name"
        raise ParameterError(msg)


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


def _check_fmt(fmt: str) -> Literal["parquet", "csv"]:
    if fmt == "parquet":
        return "parquet"
    if fmt == "csv":
        return "csv"
    msg = f"fmt must be 'parquet' or 'csv', got {fmt!r}"
    raise ParameterError(msg)


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


def _symbol_key(symbol: str) -> int:
    """Return a stable 64-bit key of the symbol (independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b(symbol.upper().encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _rng(seed: int, symbol: str, stream: int) -> np.random.Generator:
    """Return an independent generator for one random quantity of one symbol."""
    return np.random.default_rng(np.random.SeedSequence([seed, _symbol_key(symbol), stream]))


def _ceil_to(value: int, step: int) -> int:
    return -(-value // step) * step


# --------------------------------------------------------------------------- sessions
# The generator's own Sydney rule, not omega_pl.sessions: the library's mask is
# tested on this data, so the data must not be made with that mask.


def _sydney_rule(t_us: I64) -> Bool:
    """Per-timestamp SPEC §4.2 rule via a Polars time-zone conversion."""
    local = (
        pl.Series("t", t_us, dtype=pl.Int64)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone(_SYDNEY)
    )
    weekday = local.dt.weekday().to_numpy()  # Monday = 1 ... Sunday = 7
    hour = local.dt.hour().to_numpy()
    mask: Bool = (
        ((weekday >= 2) & (weekday <= 5))
        | ((weekday == 1) & (hour >= 7))
        | ((weekday == 6) & (hour < 7))
    )
    return mask


def _sydney_session_mask(t_us: I64) -> Bool:
    """Return True where an intraday bar opening at ``t_us`` is inside market hours.

    This deliberately does *not* use ``omega_pl.sessions`` (the library's fast
    mask): the generator must be an independent, obviously-correct reference, so
    it converts to Australia/Sydney with Polars ``dt.convert_time_zone`` (DST
    aware). Generation speed matters little; to keep millions of rows cheap the
    rule is evaluated once per distinct UTC hour, which is exact because Sydney
    offsets are whole hours; any hour whose start and end disagree (never for
    dates after 1895) is evaluated per timestamp.
    """
    if t_us.size == 0:
        return np.zeros(0, dtype=np.bool_)
    hours = t_us // _US_PER_HOUR
    uniq: I64
    inverse: npt.NDArray[np.intp]
    if bool(np.all(hours[1:] >= hours[:-1])):
        first = np.empty(hours.size, dtype=np.bool_)
        first[0] = True
        np.not_equal(hours[1:], hours[:-1], out=first[1:])
        uniq = hours[first]
        inverse = np.cumsum(first, dtype=np.intp) - 1
    else:
        uniq, inverse = np.unique(hours, return_inverse=True)
    at_start = _sydney_rule(uniq * _US_PER_HOUR)
    at_end = _sydney_rule(uniq * _US_PER_HOUR + (_US_PER_HOUR - 1))
    mask: Bool = at_start[inverse]
    mixed = at_start != at_end
    if bool(mixed.any()):
        rows = np.flatnonzero(mixed[inverse])
        mask[rows] = _sydney_rule(t_us[rows])
    return mask


def _weekday_mask(t_us: I64) -> Bool:
    """Return True where the UTC weekday is Monday-Friday (1970-01-01 was a Thursday)."""
    weekday = (t_us // _US_PER_DAY + 3) % 7  # Monday = 0
    mask: Bool = weekday < 5
    return mask


def _market_mask(t_us: I64, tf: Timeframe) -> Bool:
    return _sydney_session_mask(t_us) if tf.is_intraday else _weekday_mask(t_us)


# --------------------------------------------------------------------------- bars


@dataclass(frozen=True)
class _Side:
    """One side (bid or ask) of a bar series; prices in integer ticks."""

    time: I64
    open: I64
    high: I64
    low: I64
    close: I64
    volume: I64

    def take(self, index: npt.NDArray[np.intp] | Bool) -> _Side:
        return _Side(
            self.time[index],
            self.open[index],
            self.high[index],
            self.low[index],
            self.close[index],
            self.volume[index],
        )


def _regime(rng: np.random.Generator, index: I64, sigma: float) -> F64:
    """Piecewise-constant log-normal multiplier with unit mean square per index value."""
    values = np.exp(sigma * rng.standard_normal(int(index[-1]) + 1) - sigma * sigma)
    out: F64 = values[index]
    return out


def _reflect(x: F64, band: float) -> F64:
    """Fold ``x`` into ``[-band, band]`` by reflection (identity inside the band)."""
    out: F64 = band - np.abs(np.mod(x + band, 4.0 * band) - 2.0 * band)
    return out


def _to_ticks(x: F64) -> I64:
    out: I64 = np.rint(x).astype(np.int64)
    return out


def _simulate(
    t_us: I64, bar_minutes: int, profile: _Profile, seed: int, symbol: str
) -> tuple[_Side, _Side]:
    """Simulate bid and ask bars at the sorted in-session open times ``t_us``.

    ``t_us`` must be the complete in-session grid (holes are removed later, so a
    bar after a hole opens at the close of the missing bar). A gap larger than
    one bar marks a market closure: the next bar opens with a price gap and a
    wide spread.
    """
    n = int(t_us.size)
    bar_us = bar_minutes * _US_PER_MINUTE
    scale = float(10**profile.decimals)
    brk = np.ones(n, dtype=np.bool_)
    brk[1:] = np.diff(t_us) > bar_us
    # Intermediates are deleted as soon as possible: benchmarks ask for 10M rows.

    day_idx = t_us // _US_PER_DAY
    vol_f = _regime(_rng(seed, symbol, _S_DAY_REGIME), day_idx - day_idx[0], 0.3)
    del day_idx
    if bar_minutes <= 60:
        hour_idx = t_us // _US_PER_HOUR
        vol_f *= _regime(_rng(seed, symbol, _S_HOUR_REGIME), hour_idx - hour_idx[0], 0.2)
        hour_idx %= 24
        vol_f *= _VOL_BY_HOUR[hour_idx]
        spread_f = _SPREAD_BY_HOUR[hour_idx]
        del hour_idx
    else:
        spread_f = np.ones(n, dtype=np.float64)

    # Tick volumes: more ticks in active hours, volatile regimes and large moves.
    z = _rng(seed, symbol, _S_RETURNS).standard_normal(n)
    lam = np.abs(z)
    lam *= 0.5
    lam += 0.6
    lam *= vol_f
    lam *= profile.ticks_per_minute * bar_minutes
    bid_volume = _rng(seed, symbol, _S_VOLUME).poisson(lam).astype(np.int64)
    bid_volume += 1
    del lam
    ask_volume = _rng(seed, symbol, _S_VOLUME_DIFF).integers(-2, 3, size=n, dtype=np.int64)
    ask_volume += bid_volume
    np.maximum(ask_volume, 1, out=ask_volume)

    # Log-price path: close_i = close_{i-1} + gap_i + r_i, open_i = close_{i-1} + gap_i.
    sigma = vol_f
    sigma *= profile.daily_vol * math.sqrt(bar_minutes / 1440.0)
    del vol_f
    level = math.log(profile.level)
    x0 = level + 0.005 * float(_rng(seed, symbol, _S_START).standard_normal())
    gap = _rng(seed, symbol, _S_GAPS).standard_normal(n) * (profile.daily_vol * _GAP_VOL_FRACTION)
    gap[~brk] = 0.0
    gap[0] = 0.0
    z *= sigma
    z += gap
    raw_close = np.cumsum(z)
    del z
    raw_close += x0
    close_price = np.exp(level + _reflect(raw_close - level, _REFLECT_BAND))
    bid_close = np.maximum(_to_ticks(close_price * scale), 1)

    bid_open = np.empty(n, dtype=np.int64)
    bid_open[1:] = bid_close[:-1]  # open = previous close ...
    first_price = math.exp(level + float(_reflect(np.array([x0 - level]), _REFLECT_BAND)[0]))
    bid_open[0] = max(1, round(first_price * scale))
    jumps = np.flatnonzero(brk[1:]) + 1  # ... except after a market closure
    if jumps.size:
        reopen = raw_close[jumps - 1] + gap[jumps]
        reopen_price = np.exp(level + _reflect(reopen - level, _REFLECT_BAND))
        bid_open[jumps] = np.maximum(_to_ticks(reopen_price * scale), 1)
    del raw_close, gap

    extension = sigma  # mean high/low extension in ticks
    extension *= close_price
    extension *= _RANGE_SCALE * scale
    del sigma, close_price
    bid_high = _to_ticks(_rng(seed, symbol, _S_HIGH).standard_exponential(n) * extension)
    bid_high += np.maximum(bid_open, bid_close)
    bid_low = _to_ticks(_rng(seed, symbol, _S_LOW).standard_exponential(n) * extension)
    del extension
    np.subtract(np.minimum(bid_open, bid_close), bid_low, out=bid_low)
    np.maximum(bid_low, 1, out=bid_low)

    # Spread in ticks: per-bar noise, hour-of-day profile, wide after the weekly open.
    base = np.exp(0.35 * _rng(seed, symbol, _S_SPREAD).standard_normal(n))
    base *= spread_f
    base *= profile.spread_ticks
    del spread_f
    session_start = np.maximum.accumulate(np.where(brk, t_us, t_us[0]))
    wide = (t_us + bar_us - session_start) <= _WIDE_SPREAD_MINUTES * _US_PER_MINUTE
    del session_start
    lo, hi = profile.min_spread_ticks, profile.max_spread_ticks
    spread = np.clip(_to_ticks(base * np.where(wide, _WIDE_SPREAD_FACTOR, 1.0)), lo, hi)
    del wide
    open_spread = np.empty(n, dtype=np.int64)
    open_spread[1:] = spread[:-1]
    open_spread[brk] = np.clip(_to_ticks(base[brk] * _WIDE_SPREAD_FACTOR), lo, hi)
    del base, brk

    ask_open = bid_open + open_spread
    ask_close = bid_close + spread
    np.minimum(open_spread, spread, out=spread)  # inner spread, used for high/low
    del open_spread
    ask_high = bid_high + spread
    np.maximum(ask_high, ask_open, out=ask_high)
    np.maximum(ask_high, ask_close, out=ask_high)
    ask_low = bid_low + spread
    del spread
    np.minimum(ask_low, ask_open, out=ask_low)
    np.minimum(ask_low, ask_close, out=ask_low)

    bid = _Side(t_us, bid_open, bid_high, bid_low, bid_close, bid_volume)
    ask = _Side(t_us, ask_open, ask_high, ask_low, ask_close, ask_volume)
    return bid, ask


def _one_sided_holes(
    bid: _Side, ask: _Side, common: Bool, seed: int, symbol: str
) -> tuple[Bool, Bool]:
    """Pick a handful of M1 bars missing on only one side.

    Candidates are the middle minute of an epoch-anchored 5-minute bucket whose
    other four minutes are present on both sides, and whose high/low are not the
    bucket's extremes on either side. Dropping such a bar therefore never changes
    the open, high, low or close of any aggregated bar (M5 and above); only the
    volumes of the two sides differ.
    """
    t_us = bid.time
    n = int(t_us.size)
    u = _rng(seed, symbol, _S_SIDE_HOLES).random(n)
    minute = (t_us // _US_PER_MINUTE) % 5
    cand = np.flatnonzero((minute == 2) & (u < _SIDE_HOLE_RATE) & ~common)
    cand = cand[(cand >= 2) & (cand + 2 < n)]
    offsets = np.array([-2, -1, 1, 2], dtype=np.intp)
    nb = cand[:, None] + offsets[None, :]
    ok = np.all(t_us[nb] == t_us[cand][:, None] + offsets[None, :] * _US_PER_MINUTE, axis=1)
    ok &= ~np.any(common[nb], axis=1)
    for side in (bid, ask):
        ok &= side.high[cand] <= side.high[nb].max(axis=1)
        ok &= side.low[cand] >= side.low[nb].min(axis=1)
    cand = cand[ok]
    bid_missing = np.zeros(n, dtype=np.bool_)
    ask_missing = np.zeros(n, dtype=np.bool_)
    on_bid = u[cand] < _SIDE_HOLE_RATE / 2
    bid_missing[cand[on_bid]] = True
    ask_missing[cand[~on_bid]] = True
    return bid_missing, ask_missing


def _m1_sides(symbol: str, start_us: int, end_us: int, seed: int) -> tuple[_Side, _Side]:
    """Simulate the M1 bid and ask bars (with holes) of ``[start_us, end_us)``."""
    grid = np.arange(_ceil_to(start_us, _US_PER_MINUTE), end_us, _US_PER_MINUTE, dtype=np.int64)
    grid = grid[_sydney_session_mask(grid)]
    if grid.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        side = _Side(empty, empty, empty, empty, empty, empty)
        return side, side
    bid, ask = _simulate(grid, 1, _profile(symbol), seed, symbol)
    common = _rng(seed, symbol, _S_HOLES).random(grid.size) < _COMMON_HOLE_RATE
    bid_missing, ask_missing = _one_sided_holes(bid, ask, common, seed, symbol)
    return bid.take(~(common | bid_missing)), ask.take(~(common | ask_missing))


def _aggregate(side: _Side, tf: Timeframe, start_us: int) -> _Side:
    """Resample sorted bars to ``tf`` (epoch-anchored UTC buckets).

    Then apply the market-hours (intraday) or weekday (daily) rule to the bucket
    stamps and drop buckets stamped before ``start_us``.
    """
    n = int(side.time.size)
    if n == 0:
        return side
    bar_us = _bar_us(tf)
    key = side.time // bar_us * bar_us
    first = np.empty(n, dtype=np.bool_)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    last = np.empty(starts.size, dtype=np.intp)
    last[:-1] = starts[1:] - 1
    last[-1] = n - 1
    agg = _Side(
        key[starts],
        side.open[starts],
        np.maximum.reduceat(side.high, starts),
        np.minimum.reduceat(side.low, starts),
        side.close[last],
        np.add.reduceat(side.volume, starts),
    )
    keep = (agg.time >= start_us) & _market_mask(agg.time, tf)
    return agg.take(keep)


def _join(bid: _Side, ask: _Side) -> tuple[_Side, _Side]:
    """Inner join of both sides on time."""
    _, ib, ia = np.intersect1d(bid.time, ask.time, assume_unique=True, return_indices=True)
    return bid.take(ib), ask.take(ia)


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


def _write_side(side: _Side, decimals: int, path: Path, fmt: Literal["parquet", "csv"]) -> None:
    frame = _side_frame(side, decimals)
    if fmt == "parquet":
        frame.write_parquet(path)
    else:
        renamed = frame.rename(dict(zip(frame.columns, _CSV_HEADER, strict=True)))
        renamed.write_csv(path, datetime_format=_CSV_DATETIME_FORMAT)


def write_sample_data(
    root: str | Path,
    *,
    symbols: Sequence[str] = SAMPLE_SYMBOLS,
    timeframes: Sequence[str] = SAMPLE_TIMEFRAMES,
    fmt: Literal["parquet", "csv"] = "parquet",
    start: datetime | str = SAMPLE_START,
    end: datetime | str = SAMPLE_END,
    seed: int = 0,
) -> Path:
    """Write sample bid and ask candle files in the original engine's layout.

    For every symbol and timeframe two files are written:
    ``<root>/<SYMBOL>/<SYMBOL>_<TF>_BID.<ext>`` and ``..._ASK.<ext>``. The M1 path
    of each symbol is simulated once and aggregated to every timeframe, so a
    higher-timeframe file equals the M1 file resampled (epoch-anchored UTC
    buckets, first/max/min/last/sum), after dropping closed-market intraday
    stamps and weekend daily stamps. Bid and ask files differ in a handful of
    M1 timestamps. Existing files are overwritten.

    Parameters
    ----------
    root : str or Path
        Output directory (created if missing).
    symbols : sequence of str
        Symbols to write (unknown names use a generic FX profile).
    timeframes : sequence of str
        Timeframes (``M<n>``/``H<n>``/``D<n>``) to write; file names use the
        canonical upper-case form (``"h1"`` writes ``..._H1_BID.<ext>``).
    fmt : {"parquet", "csv"}
        Parquet files have the columns ``time`` (``Datetime("us", "UTC")``),
        ``open``, ``high``, ``low``, ``close``, ``volume`` (``Float64``). CSV files
        have the header ``UTC time,Open,High,Low,Close,Volume`` and timestamps
        like ``2025-01-01 00:00:00+00:00``. Prices are rounded to the symbol's
        precision at generation time, so both formats hold identical values.
    start, end : datetime or str
        Half-open span of bar open times, as in :func:`generate_candles`.
    seed : int
        Non-negative seed.

    Returns
    -------
    Path
        ``Path(root)``.

    Raises
    ------
    TimeframeError, WindowError, ParameterError
        For an invalid timeframe; span; format, seed, or a symbol that is not a
        valid directory name. Nothing is written in that case.
    """
    fmt = _check_fmt(fmt)
    if isinstance(symbols, str) or isinstance(timeframes, str):
        msg = "symbols and timeframes must be sequences of strings, not a single string"
        raise ParameterError(msg)
    tfs = [_parse_timeframe(tf) for tf in timeframes]
    for symbol in symbols:
        _check_path_symbol(symbol)
    seed = _check_seed(seed)
    start_us, end_us = _span(start, end)
    out = Path(root)
    for symbol in symbols:
        decimals = _profile(symbol).decimals
        directory = out / symbol
        directory.mkdir(parents=True, exist_ok=True)
        bid_m1, ask_m1 = _m1_sides(symbol, start_us, end_us, seed)
        for tf in tfs:
            for side_name, side in (("BID", bid_m1), ("ASK", ask_m1)):
                path = directory / f"{symbol}_{tf.name}_{side_name}.{fmt}"
                _write_side(_aggregate(side, tf, start_us), decimals, path, fmt)
    return out


def _cache_base() -> Path:
    env = os.environ.get("OMEGA_PL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "omega_pl"


def _sweep_stale(base: Path, prefix: str) -> None:
    """Remove temporary directories left behind by killed runs (older than a day)."""
    now = time.time()
    for path in base.glob(f"{prefix}*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def sample_data_root(fmt: Literal["parquet", "csv"] = "parquet") -> Path:
    """Return a directory with the default sample data, generating it on first use.

    The data is :func:`write_sample_data` with its defaults, cached under
    ``$OMEGA_PL_CACHE/sample-<fmt>-v1`` (``~/.cache/omega_pl/sample-<fmt>-v1`` when
    the variable is unset). It is written into a temporary sibling directory and
    renamed into place, so concurrent or interrupted runs never expose a
    half-written cache; a process that loses a race uses the winner's copy.

    Parameters
    ----------
    fmt : {"parquet", "csv"}
        File format of the cached sample data.

    Returns
    -------
    Path
        The cache directory, containing ``<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<fmt>``.

    Raises
    ------
    ParameterError
        If ``fmt`` is not ``"parquet"`` or ``"csv"``.
    """
    fmt = _check_fmt(fmt)
    base = _cache_base()
    final = base / f"sample-{fmt}-v{_SAMPLE_CACHE_VERSION}"
    if final.is_dir():
        return final
    base.mkdir(parents=True, exist_ok=True)
    prefix = f".{final.name}.tmp-"
    _sweep_stale(base, prefix)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        write_sample_data(tmp, fmt=fmt)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            # Another process finished first; its data is identical.
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
