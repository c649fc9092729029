"""Timeframe parsing, flooring (SPEC §4.4) and resampling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

import omega_pl
from omega_pl import Timeframe, TimeframeError


@pytest.mark.parametrize(
    ("text", "name", "minutes"),
    [
        ("M1", "M1", 1),
        ("m15", "M15", 15),
        ("M7", "M7", 7),
        ("H4", "H4", 240),
        (" h1 ", "H1", 60),
        ("D1", "D1", 1440),
        ("D2", "D2", 2880),
        ("W1", "W1", 10080),
    ],
)
def test_parse(text: str, name: str, minutes: int) -> None:
    tf = Timeframe.parse(text)
    assert (tf.name, tf.minutes, str(tf)) == (name, minutes, name)
    assert tf.duration == timedelta(minutes=minutes)
    assert Timeframe.parse(tf) is tf


@pytest.mark.parametrize("bad", ["", "M0", "X5", "5M", "M-1", "W2", "M1.5", "MM1", "H", "D01x"])
def test_parse_errors_list_accepted_forms(bad: str) -> None:
    with pytest.raises(TimeframeError, match=r"accepted forms: M<n> \(minutes\), H<n>"):
        Timeframe.parse(bad)


def test_kinds() -> None:
    assert Timeframe.parse("M5").is_intraday and not Timeframe.parse("M5").is_daily
    assert Timeframe.parse("D1").is_daily and not Timeframe.parse("D1").is_intraday
    w = Timeframe.parse("W1")
    assert not w.is_daily and not w.is_intraday


def epoch_floor(t: datetime, minutes: int) -> datetime:
    """SPEC §4.4: floor to a multiple of the duration counted from the Unix epoch."""
    step = minutes * 60 * 1_000_000
    us = int((t - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us - us % step)


@pytest.mark.parametrize("tf", ["M1", "M5", "M7", "M15", "H1", "H4", "D1", "D2"])
def test_floor_is_epoch_anchored(tf: str) -> None:
    times = [
        datetime(2025, 3, 30, 13, 7, 45, 123456, tzinfo=UTC) + timedelta(minutes=97 * k)
        for k in range(60)
    ]
    times.append(datetime(1969, 12, 31, 23, 59, tzinfo=UTC))
    df = pl.DataFrame({"time": times}, schema={"time": pl.Datetime("us", "UTC")})
    got = df.select(omega_pl.floor_time("time", tf))["time"].to_list()
    assert got == [epoch_floor(t, Timeframe.parse(tf).minutes) for t in times]


def frame(n: int = 300) -> pl.DataFrame:
    start = datetime(2025, 4, 3, 22, 0, tzinfo=UTC)
    times = [start + timedelta(minutes=5 * k) for k in range(n) if k % 17 != 3]
    rows = len(times)
    base = [1.1 + 0.001 * ((k * 7919) % 13 - 6) for k in range(rows)]
    return pl.DataFrame(
        {
            "time": times,
            "open": base,
            "high": [b + 0.002 for b in base],
            "low": [b - 0.002 for b in base],
            "close": [b + 0.0005 for b in base],
            "volume": [float(k % 9 + 1) for k in range(rows)],
        },
        schema_overrides={"time": pl.Datetime("us", "UTC")},
    )


def reference_resample(
    df: pl.DataFrame, minutes: int, prefix: str = ""
) -> list[tuple[object, ...]]:
    buckets: dict[datetime, list[dict[str, object]]] = {}
    for row in df.iter_rows(named=True):
        buckets.setdefault(epoch_floor(row["time"], minutes), []).append(row)
    out = []
    for key in sorted(buckets):
        rows = buckets[key]
        out.append(
            (
                key,
                rows[0][f"{prefix}open"],
                max(r[f"{prefix}high"] for r in rows),
                min(r[f"{prefix}low"] for r in rows),
                rows[-1][f"{prefix}close"],
                sum(r[f"{prefix}volume"] for r in rows),
            )
        )
    return out


@pytest.mark.parametrize("tf", ["M15", "H1", "H4", "D1"])
def test_resample_plain(tf: str) -> None:
    df = frame()
    got = omega_pl.resample(df, tf)
    assert got.columns == ["time", *omega_pl.OHLCV]
    assert got.rows() == reference_resample(df, Timeframe.parse(tf).minutes)
    lazy = omega_pl.resample(df.lazy(), tf)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(got)


def test_resample_bid_ask_and_symbols() -> None:
    a = frame()
    bidask = a.rename({c: f"bid_{c}" for c in omega_pl.OHLCV}).with_columns(
        **{
            f"ask_{c}": pl.col(f"bid_{c}") + (0.0001 if c != "volume" else 0)
            for c in omega_pl.OHLCV
        }
    )
    two = pl.concat(
        [bidask.with_columns(symbol=pl.lit("EURUSD")), bidask.with_columns(symbol=pl.lit("GBPUSD"))]
    )
    got = omega_pl.resample(two, "H1")
    assert got.columns[:2] == ["symbol", "time"]
    bid_cols = ["time", *(f"bid_{c}" for c in omega_pl.OHLCV)]
    ask_cols = ["time", *(f"ask_{c}" for c in omega_pl.OHLCV)]
    for sym in ("EURUSD", "GBPUSD"):
        part = got.filter(pl.col("symbol") == sym)
        assert part.select(bid_cols).rows() == reference_resample(bidask, 60, "bid_")
        assert part.select(ask_cols).rows() == reference_resample(bidask, 60, "ask_")


def test_resample_does_not_invent_empty_buckets() -> None:
    df = frame()
    df = df.filter(
        (pl.col("time") < datetime(2025, 4, 4, 3, tzinfo=UTC))
        | (pl.col("time") >= datetime(2025, 4, 4, 9, tzinfo=UTC))
    )
    got = omega_pl.resample(df, "H1")
    hours = {t.hour for t in got["time"].to_list() if t.date() == datetime(2025, 4, 4).date()}
    assert hours.isdisjoint({3, 4, 5, 6, 7, 8})


def test_resample_errors() -> None:
    df = frame()
    with pytest.raises(omega_pl.SchemaError, match="columns without an OHLCV aggregation: 'extra'"):
        omega_pl.resample(df.with_columns(extra=pl.lit(1)), "H1")
    with pytest.raises(omega_pl.SchemaError, match="found: 'time', 'open'"):
        omega_pl.resample(df.select("time", "open"), "H1")
    with pytest.raises(TimeframeError):
        omega_pl.resample(df, "Q1")
