"""The simulator: seeded M1 bid/ask bars in integer ticks, and their aggregation.

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
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from omega_pl.errors import ParameterError
from omega_pl.timeframes import Timeframe

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

_US_PER_MINUTE: Final = 60_000_000
_US_PER_HOUR: Final = 60 * _US_PER_MINUTE
_US_PER_DAY: Final = 24 * _US_PER_HOUR
_SYDNEY: Final = "Australia/Sydney"

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


def _bar_us(tf: Timeframe) -> int:
    """Bar duration of ``tf`` in microseconds."""
    return tf.minutes * _US_PER_MINUTE


def _profile(symbol: str) -> _Profile:
    if not isinstance(symbol, str) or not symbol:
        msg = f"symbol must be a non-empty string, got {symbol!r}"
        raise ParameterError(msg)
    return _PROFILES.get(symbol.upper(), _GENERIC_PROFILE)


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
