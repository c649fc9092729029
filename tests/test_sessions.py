"""Market-hours mask (SPEC §4.2) and daily cleanup (SPEC §4.3)."""

from __future__ import annotations

import os
import time as time_module
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_pl

SYDNEY = ZoneInfo("Australia/Sydney")


def reference_open(instant: datetime) -> bool:
    """SPEC §4.2 written per timestamp with zoneinfo: local weekday and hour."""
    local = instant.astimezone(SYDNEY)
    wd, hour = local.weekday(), local.hour
    if wd == 0:
        return hour >= 7
    if 1 <= wd <= 4:
        return True
    if wd == 5:
        return hour < 7
    return False


def mask_of(instants: list[datetime], dtype: pl.DataType | None = None) -> list[bool | None]:
    s = pl.Series("time", instants, dtype=pl.Datetime("us", "UTC"))
    if dtype is not None:
        s = (
            s.cast(dtype)
            if getattr(dtype, "time_zone", None)
            else s.dt.replace_time_zone(None).cast(dtype)
        )
    return (
        pl.DataFrame({"time": s})
        .select(omega_pl.market_hours_mask("time"))["market_hours"]
        .to_list()
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Week of the DST end (2025-04-06 03:00 AEDT -> 02:00 AEST).
        (utc(2025, 4, 4, 19, 59), True),  # Friday, AEDT: closes 20:00 UTC
        (utc(2025, 4, 4, 20, 0), False),
        (utc(2025, 4, 6, 20, 0), False),  # Sunday, now AEST: opens 21:00 UTC
        (utc(2025, 4, 6, 20, 59, 59), False),
        (utc(2025, 4, 6, 21, 0), True),
        # Week of the DST start (2025-10-05 02:00 AEST -> 03:00 AEDT).
        (utc(2025, 10, 3, 20, 30), True),  # Friday, AEST: closes 21:00 UTC
        (utc(2025, 10, 3, 21, 0), False),
        (utc(2025, 10, 5, 19, 59), False),  # Sunday, now AEDT: opens 20:00 UTC
        (utc(2025, 10, 5, 20, 0), True),
        # Midweek and weekend.
        (utc(2025, 7, 9, 12, 0), True),
        (utc(2025, 7, 12, 12, 0), False),
        (utc(2025, 7, 13, 12, 0), False),
    ],
)
def test_dst_weeks_both_directions(instant: datetime, expected: bool) -> None:
    assert reference_open(instant) is expected  # the reference agrees with the SPEC table
    assert mask_of([instant]) == [expected]


def test_h4_bar_at_sunday_20_utc_dropped_in_aest() -> None:
    # SPEC §8.1: during AEST an H4 bar opening Sunday 20:00 UTC is dropped whole.
    assert mask_of([utc(2025, 6, 15, 20, 0)]) == [False]
    assert mask_of([utc(2025, 1, 12, 20, 0)]) == [True]  # AEDT: that is the open


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1990, 1, 1),
            max_value=datetime(2050, 12, 31),
            timezones=st.just(UTC),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_mask_equals_zoneinfo_reference(instants: list[datetime]) -> None:
    assert mask_of(instants) == [reference_open(t) for t in instants]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=60 * 24 * 366 * 60))
def test_mask_near_transitions(minutes: int) -> None:
    # Dense sampling on both sides of every DST switch in 1990-2050.
    base = utc(1990, 1, 1) + timedelta(minutes=minutes)
    instants = [base + timedelta(minutes=k) for k in range(0, 24 * 60, 37)]
    assert mask_of(instants) == [reference_open(t) for t in instants]


def test_independent_of_machine_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    instants = [utc(2025, 4, 6, 20, 30) + timedelta(hours=h) for h in range(-200, 200, 3)]
    expected = [reference_open(t) for t in instants]
    for zone in ("America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"):
        monkeypatch.setenv("TZ", zone)
        if hasattr(time_module, "tzset"):
            time_module.tzset()
        assert mask_of(instants) == expected
    monkeypatch.delenv("TZ")
    if hasattr(time_module, "tzset"):
        time_module.tzset()
    assert os.environ.get("TZ") is None


@pytest.mark.parametrize(
    "dtype",
    [
        pl.Datetime("ns", "UTC"),
        pl.Datetime("ms", "UTC"),
        pl.Datetime("us", "Europe/Berlin"),
        pl.Datetime("us"),  # naive = UTC
        pl.Datetime("ns"),
    ],
)
def test_any_unit_and_zone(dtype: pl.DataType) -> None:
    instants = [utc(2025, 4, 4, 19, 59), utc(2025, 4, 4, 20, 0), utc(2025, 4, 6, 21, 0)]
    assert mask_of(instants, dtype) == [True, False, True]


def test_null_and_empty() -> None:
    df = pl.DataFrame({"time": [utc(2025, 7, 9), None]}, schema={"time": pl.Datetime("us", "UTC")})
    assert df.select(omega_pl.market_hours_mask("time"))["market_hours"].to_list() == [True, None]
    empty = df.clear()
    assert empty.select(omega_pl.market_hours_mask("time")).height == 0


def test_mask_works_lazily_in_filter() -> None:
    times = pl.datetime_range(utc(2025, 4, 1), utc(2025, 4, 15), "1h", eager=True, time_zone="UTC")
    lf = pl.LazyFrame({"time": times})
    got = lf.filter(omega_pl.market_hours_mask()).collect()["time"].to_list()
    assert got == [t for t in times.to_list() if reference_open(t)]


def test_daily_clean_mask() -> None:
    df = pl.DataFrame(
        {
            "time": [
                utc(2025, 4, 4),
                utc(2025, 4, 5),
                utc(2025, 4, 6),
                utc(2025, 4, 7),
                utc(2025, 4, 8),
                utc(2025, 4, 9),
                utc(1969, 12, 27),
            ],
            "open": [1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.0],
            "high": [1.1, 1.1, 1.1, 1.0, 1.0, 1.2, 1.1],
            "low": [0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 0.9],
            "close": [1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.0],
            "volume": [5.0, 5.0, 5.0, 0.0, 3.0, 0.0, 1.0],
        }
    )
    got = df.select(omega_pl.daily_clean_mask())["daily_clean"].to_list()
    # Fri kept, Sat/Sun dropped, flat zero-volume Mon dropped, flat with volume kept,
    # moving zero-volume kept, a pre-1970 Saturday dropped.
    assert got == [True, False, False, False, True, True, False]
    prefixed = df.rename({c: f"bid_{c}" for c in omega_pl.OHLCV})
    assert prefixed.select(omega_pl.daily_clean_mask(prefix="bid_")).to_series().to_list() == got
