"""Tests for omega_pl.summary (CandleSummary, summarize) and omega_pl.instruments.

Expected numbers come from an independent reference: plain Python datetimes
stepped one bar at a time and judged with ``zoneinfo`` (SPEC §4.2) or the UTC
weekday (§4.3), and spreads computed with NumPy.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

import omega_pl
from omega_pl import summary as summary_module
from omega_pl.errors import ParameterError, SchemaError, TimeframeError
from omega_pl.instruments import pip_size
from omega_pl.summary import CandleSummary, summarize

SYDNEY = ZoneInfo("Australia/Sydney")
UTC_US = pl.Datetime("us", "UTC")


def sydney_open(ts: datetime) -> bool:
    """Reference for SPEC §4.2: open Monday 07:00 to Saturday 07:00 Sydney local time."""
    local = ts.astimezone(SYDNEY)
    if local.weekday() == 6:
        return False
    if local.weekday() == 0:
        return local.hour >= 7
    if local.weekday() == 5:
        return local.hour < 7
    return True


def reference_grid(
    first: datetime, last: datetime, step: timedelta, keep: Callable[[datetime], bool]
) -> list[datetime]:
    """Every ``step`` from ``first`` to ``last`` for which ``keep(t)`` holds."""
    out = []
    t = first
    while t <= last:
        if keep(t):
            out.append(t)
        t += step
    return out


def frame_of(times: list[datetime], **columns: list[float | None] | list[float]) -> pl.DataFrame:
    return pl.DataFrame({"time": pl.Series(times, dtype=UTC_US), **columns})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------------------
# missing bars


def test_missing_bars_across_a_weekend_with_the_sydney_dst_change() -> None:
    # Sydney leaves daylight saving on Sunday 2025-04-06: the market closes
    # Friday 20:00 UTC (AEDT) and reopens Sunday 21:00 UTC (AEST).
    first, last = utc(2025, 4, 4, 10), utc(2025, 4, 7, 5)
    grid = reference_grid(first, last, timedelta(hours=1), sydney_open)
    assert grid[9] == utc(2025, 4, 4, 19)  # last bar before the close
    assert grid[10] == utc(2025, 4, 6, 21)  # first bar after the open, one hour later
    assert len(grid) == 10 + 9
    holes = {utc(2025, 4, 4, 15), utc(2025, 4, 6, 23)}
    extra = [utc(2025, 4, 5, 12), utc(2025, 4, 4, 11, 30)]  # a weekend bar and an off-grid bar
    times = sorted([t for t in grid if t not in holes] + extra)
    s = summarize(frame_of(times), "H1")
    assert s.rows == len(times)
    assert (s.first, s.last) == (first, last)
    assert s.expected_bars == len(grid)
    assert s.missing_bars == len(holes)
    assert s.present_bars == len(grid) - len(holes)
    assert (s.spread_min, s.spread_median, s.spread_max, s.pip) == (None, None, None, None)


def test_missing_bars_at_the_start_of_sydney_dst() -> None:
    # Sydney enters daylight saving on Sunday 2025-10-05: the market closes
    # Friday 21:00 UTC (AEST) and reopens Sunday 20:00 UTC (AEDT).
    first, last = utc(2025, 10, 3, 18), utc(2025, 10, 6, 2)
    grid = reference_grid(first, last, timedelta(minutes=15), sydney_open)
    assert utc(2025, 10, 3, 20, 45) in grid
    assert utc(2025, 10, 3, 21) not in grid
    assert utc(2025, 10, 5, 19, 45) not in grid
    assert utc(2025, 10, 5, 20) in grid
    rng = np.random.default_rng(7)
    keep = rng.random(len(grid)) > 0.2
    keep[0] = keep[-1] = True
    times = [t for t, k in zip(grid, keep, strict=True) if k]
    s = summarize(frame_of(times), "M15")
    assert s.expected_bars == len(grid)
    assert s.missing_bars == int((~keep).sum())


def test_missing_bars_m1_week_matches_reference() -> None:
    first, last = utc(2025, 3, 31, 3, 7), utc(2025, 4, 8, 9, 59)
    grid = reference_grid(first, last, timedelta(minutes=1), sydney_open)
    rng = np.random.default_rng(1)
    drop = set(rng.choice(np.arange(1, len(grid) - 1), size=321, replace=False).tolist())
    times = [t for i, t in enumerate(grid) if i not in drop]
    s = summarize(frame_of(times), "M1")
    assert s.expected_bars == len(grid)
    assert s.missing_bars == 321


def test_grid_chunking_gives_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    first, last = utc(2025, 4, 3, 0, 3), utc(2025, 4, 9, 17, 48)
    grid = reference_grid(first, last, timedelta(minutes=5), sydney_open)
    times = grid[::3]
    whole = summarize(frame_of(times), "M5")
    monkeypatch.setattr(summary_module, "_GRID_CHUNK", 97)
    chunked = summarize(frame_of(times), "M5")
    assert whole == chunked
    assert whole.expected_bars == len(grid)
    assert whole.missing_bars == len(grid) - len(times)


def test_daily_grid_is_utc_weekdays() -> None:
    first, last = utc(2025, 3, 3), utc(2025, 3, 18)  # Monday to Tuesday two weeks later
    grid = reference_grid(first, last, timedelta(days=1), lambda t: t.weekday() < 5)
    assert len(grid) == 12
    times = [t for t in grid if t != utc(2025, 3, 12)] + [utc(2025, 3, 8)]  # a Saturday bar
    s = summarize(frame_of(sorted(times)), "D1")
    assert s.expected_bars == 12
    assert s.missing_bars == 1


def test_weekly_grid() -> None:
    weeks = [utc(2025, 1, 6) + timedelta(weeks=k) for k in range(10)]
    s = summarize(frame_of([w for k, w in enumerate(weeks) if k not in (3, 4)]), "W1")
    assert (s.expected_bars, s.missing_bars) == (10, 2)


def test_duplicates_naive_and_zoned_times() -> None:
    grid = reference_grid(utc(2025, 4, 7, 0), utc(2025, 4, 7, 6), timedelta(hours=1), sydney_open)
    doubled = sorted(grid + grid[:3])
    s = summarize(frame_of(doubled), "H1")
    assert (s.rows, s.expected_bars, s.missing_bars) == (len(doubled), len(grid), 0)
    naive = pl.DataFrame({"time": [t.replace(tzinfo=None) for t in grid]})
    assert summarize(naive, "H1").expected_bars == len(grid)
    zoned = frame_of(grid).with_columns(pl.col("time").dt.convert_time_zone("Europe/Berlin"))
    zs = summarize(zoned, "H1")
    assert (zs.first, zs.expected_bars, zs.missing_bars) == (grid[0], len(grid), 0)
    ms = frame_of(grid).with_columns(pl.col("time").dt.cast_time_unit("ms"))
    assert summarize(ms, "h1").missing_bars == 0


def test_empty_frame() -> None:
    empty = pl.DataFrame(
        {"time": [], "bid_close": [], "ask_close": []},
        schema={"time": UTC_US, "bid_close": pl.Float64, "ask_close": pl.Float64},
    )
    s = summarize(empty, "M5", symbol="EURUSD")
    assert s == CandleSummary("EURUSD", "M5", 0, None, None, 0, 0, None, None, None, 0.0001)


def test_generated_sample_data_holes_are_counted() -> None:
    frame = omega_pl.datasets.generate_candles("EURUSD", "M1", start="2025-04-03", end="2025-04-09")
    times = frame["time"].to_list()
    grid = reference_grid(times[0], times[-1], timedelta(minutes=1), sydney_open)
    assert set(times) <= set(grid)
    s = summarize(frame, "M1", symbol="EURUSD")
    assert s.expected_bars == len(grid)
    assert s.missing_bars == len(grid) - len(times)
    assert s.missing_bars > 0


# ---------------------------------------------------------------------------
# spread


@pytest.mark.parametrize(
    ("symbol", "bid", "ask", "pips"),
    [
        ("EURUSD", [1.10000, 1.10010, 1.09990, 1.10100], [1.10012, 1.10016, 1.10010, 1.10103],
         [1.2, 0.6, 2.0, 0.3]),
        ("USDJPY", [150.000, 150.120, 149.980], [150.015, 150.128, 150.010], [1.5, 0.8, 3.0]),
    ],
)  # fmt: skip
def test_spread_in_pips(symbol: str, bid: list[float], ask: list[float], pips: list[float]) -> None:
    times = [utc(2025, 4, 8, 10) + timedelta(minutes=5 * k) for k in range(len(bid))]
    s = summarize(frame_of(times, bid_close=bid, ask_close=ask), "M5", symbol=symbol)
    reference = (np.array(ask) - np.array(bid)) / (0.01 if symbol == "USDJPY" else 0.0001)
    np.testing.assert_allclose(reference, pips, atol=1e-9)
    assert s.spread_min == pytest.approx(min(pips))
    assert s.spread_median == pytest.approx(statistics.median(pips))
    assert s.spread_max == pytest.approx(max(pips))
    assert s.pip == pip_size(symbol)
    assert s.symbol == symbol


def test_spread_pip_override_and_errors() -> None:
    times = [utc(2025, 4, 8, 10), utc(2025, 4, 8, 10, 5)]
    frame = frame_of(times, bid_close=[100.0, 101.0], ask_close=[100.5, 102.0])
    s = summarize(frame, "M5", symbol="US30", pip=0.5)
    assert s.spread_min == pytest.approx(1.0)
    assert s.spread_max == pytest.approx(2.0)
    assert s.pip == 0.5
    assert summarize(frame, "M5", pip=1.0).spread_median == pytest.approx(0.75)
    with pytest.raises(ParameterError, match="pip"):
        summarize(frame, "M5")  # bid/ask but neither symbol nor pip
    with pytest.raises(ParameterError, match="US30"):
        summarize(frame, "M5", symbol="US30")
    with pytest.raises(ParameterError, match="positive"):
        summarize(frame, "M5", symbol="EURUSD", pip=0.0)


def test_spread_ignores_nulls() -> None:
    times = [utc(2025, 4, 8, 10) + timedelta(hours=k) for k in range(3)]
    frame = frame_of(times, bid_close=[1.1, None, 1.1], ask_close=[1.1001, 1.2, 1.1003])
    s = summarize(frame, "H1", symbol="EURUSD")
    assert s.spread_min == pytest.approx(1.0)
    assert s.spread_max == pytest.approx(3.0)


def test_bad_inputs() -> None:
    frame = frame_of([utc(2025, 4, 8, 10)])
    with pytest.raises(TimeframeError):
        summarize(frame, "X5")
    with pytest.raises(SchemaError, match="no time column"):
        summarize(frame.rename({"time": "t"}), "M5")
    with pytest.raises(SchemaError, match="Datetime"):
        summarize(pl.DataFrame({"time": [1, 2]}), "M5")
    assert summarize(frame.rename({"time": "t"}), "M5", time="t").rows == 1


# ---------------------------------------------------------------------------
# pip sizes


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("EURUSD", 0.0001),
        ("gbpusd", 0.0001),
        ("EUR/USD", 0.0001),
        ("EURUSD.pro", 0.0001),
        ("USDJPY", 0.01),
        ("EUR_JPY", 0.01),
        ("XAUUSD", 0.1),
        ("XAUEUR", 0.1),
        ("XAGUSD", 0.01),
    ],
)
def test_pip_size_rule(symbol: str, expected: float) -> None:
    assert pip_size(symbol) == expected


def test_pip_size_overrides_and_unknown() -> None:
    assert pip_size("XAUUSD", overrides={"xau/usd": 0.01}) == 0.01
    assert pip_size("US30", overrides={"US30": 1.0}) == 1.0
    assert pip_size("EURUSD", overrides={"US30": 1.0}) == 0.0001
    for bad in ("US30", "GER40", "", "EURUSDX"):
        with pytest.raises(ParameterError):
            pip_size(bad)
    with pytest.raises(ParameterError, match="positive"):
        pip_size("EURUSD", overrides={"EURUSD": -1.0})
