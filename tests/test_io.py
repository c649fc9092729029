"""Loading (SPEC §4.1-4.4): layouts, window pushdown, masks, duplicates, errors."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import omega_pl
from omega_pl import (
    CANDLE_SCHEMA,
    CandleFileNotFoundError,
    DuplicateTimestampsWarning,
    SchemaError,
    TimeframeError,
    TimestampParseError,
    WindowError,
)
from tests.test_sessions import reference_open


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def candles(start: datetime, n: int, step: timedelta = timedelta(minutes=5)) -> pl.DataFrame:
    times = [start + k * step for k in range(n)]
    base = [1.1 + 0.0001 * (k % 17) for k in range(n)]
    return pl.DataFrame(
        {
            "time": times,
            "open": base,
            "high": [b + 0.0003 for b in base],
            "low": [b - 0.0002 for b in base],
            "close": [b + 0.0001 for b in base],
            "volume": [float(10 + k % 5) for k in range(n)],
        },
        schema=CANDLE_SCHEMA,
    )


def write_native_csv(df: pl.DataFrame, path: Path) -> Path:
    """The original engine's layout: 'UTC time,Open,High,Low,Close,Volume', '+00:00' stamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.select(
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S+00:00").alias("UTC time"),
        *(pl.col(c).alias(c.capitalize()) for c in omega_pl.OHLCV),
    )
    out.write_csv(path)
    return path


def write_csv_with_bad_timestamp(path: Path) -> Path:
    """60,000 M1 rows with plain text timestamps; data row 40001 (line 40002)
    holds the unparseable "2025-99-01 00:00:00"."""
    df = candles(utc(2025, 4, 7), 60_000, timedelta(minutes=1)).select(
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S").alias("time"),
        *omega_pl.OHLCV,
    )
    df.with_columns(
        pl.when(pl.int_range(pl.len()) == 40_000)
        .then(pl.lit("2025-99-01 00:00:00"))
        .otherwise("time")
        .alias("time")
    ).write_csv(path)
    return path


WEEK = candles(utc(2025, 4, 3, 0, 0), 12 * 24 * 6)  # Thu..Tue across the DST end, M5


def test_native_csv_equals_parquet(tmp_path: Path) -> None:
    csv = write_native_csv(WEEK, tmp_path / "EURUSD_M5_BID.csv")
    pq = tmp_path / "EURUSD_M5_BID.parquet"
    WEEK.write_parquet(pq)
    a = omega_pl.scan_candles(csv).collect()
    b = omega_pl.scan_candles(pq).collect()
    assert a.schema == CANDLE_SCHEMA
    assert a.equals(b)
    # Timeframe read from the file name -> market hours applied (SPEC §4.1 step 2).
    assert a["time"].to_list() == [t for t in WEEK["time"].to_list() if reference_open(t)]


def test_market_hours_off_and_explicit_timeframe(tmp_path: Path) -> None:
    pq = tmp_path / "data.parquet"
    WEEK.write_parquet(pq)
    assert omega_pl.scan_candles(pq).collect().height == WEEK.height  # no tf -> no mask
    masked = omega_pl.scan_candles(pq, timeframe="M5").collect()
    assert masked.height < WEEK.height
    off = omega_pl.scan_candles(pq, timeframe="M5", market_hours=False).collect()
    assert off.equals(WEEK)


@pytest.mark.parametrize(
    ("header", "fmt"),
    [
        ("Gmt time", "%d.%m.%Y %H:%M:%S%.3f"),
        ("time", "%Y-%m-%dT%H:%M:%SZ"),
        ("TIMESTAMP", "%Y-%m-%d %H:%M:%S"),
        ("Date", "%Y.%m.%d %H:%M"),
        ("datetime", "%Y-%m-%d %H:%M:%S%.6f"),
        ("", "%Y-%m-%d %H:%M:%S"),  # unnamed first index column (pandas to_csv)
    ],
)
def test_vendor_layouts(tmp_path: Path, header: str, fmt: str) -> None:
    df = WEEK.head(500).select(
        pl.col("time").dt.strftime(fmt).alias(header),
        *(
            pl.col(c).alias(c.upper() if header == "TIMESTAMP" else c.capitalize())
            for c in omega_pl.OHLCV
        ),
    )
    path = tmp_path / "x.csv"
    df.write_csv(path)
    got = omega_pl.scan_candles(path).collect()
    assert got.equals(WEEK.head(500))


def test_offsets_unsorted_rows_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "time,open,high,low,close,volume\n"
        "2025-01-07 02:00:00+01:00,1,2,0.5,1.5,3\n"  # 01:00 UTC
        "2025-01-06 20:00:00-05:00,1,2,0.5,1.5,4\n"  # 01:00 UTC again: the last one wins
        "2025-01-07T00:30:00Z,1,2,0.5,1.5,5\n"
    )
    with pytest.warns(
        DuplicateTimestampsWarning, match=r"dropped 1 row\(s\) with a duplicate timestamp"
    ):
        got = omega_pl.scan_candles(path).collect()
    assert got["time"].to_list() == [utc(2025, 1, 7, 0, 30), utc(2025, 1, 7, 1)]
    assert got["volume"].to_list() == [5.0, 4.0]


def test_no_warning_without_duplicates(tmp_path: Path) -> None:
    pq = tmp_path / "x.parquet"
    WEEK.write_parquet(pq)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        omega_pl.scan_candles(pq).collect()


def test_duplicates_warning_as_error_fails_collect(tmp_path: Path) -> None:
    pq = tmp_path / "x.parquet"
    pl.concat([WEEK.head(3), WEEK.head(3)]).write_parquet(pq)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateTimestampsWarning)
        with pytest.raises(pl.exceptions.ComputeError, match="dropped 3 row"):
            omega_pl.scan_candles(pq).collect()


@pytest.mark.parametrize(
    ("start", "end", "lo", "hi"),
    [
        ("2025-04-04 10:00", "2025-04-04 11:00", utc(2025, 4, 4, 10), utc(2025, 4, 4, 11)),
        (
            datetime(2025, 4, 4, 10),
            datetime(2025, 4, 4, 11),
            utc(2025, 4, 4, 10),
            utc(2025, 4, 4, 11),
        ),
        (utc(2025, 4, 4, 10), None, utc(2025, 4, 4, 10), None),
        (None, "2025-04-04T11:00:00+01:00", None, utc(2025, 4, 4, 10)),
        # A bare date as end includes that whole day.
        (date(2025, 4, 7), date(2025, 4, 7), utc(2025, 4, 7), utc(2025, 4, 7, 23, 55)),
        ("2025-04-07", "2025-04-07", utc(2025, 4, 7), utc(2025, 4, 7, 23, 55)),
    ],
)
def test_window_inclusive(
    tmp_path: Path, start: object, end: object, lo: datetime | None, hi: datetime | None
) -> None:
    pq = tmp_path / "x.parquet"
    WEEK.write_parquet(pq)
    for path in (pq, write_native_csv(WEEK, tmp_path / "x.csv")):
        got = omega_pl.scan_candles(path, start=start, end=end, market_hours=False).collect()  # type: ignore[arg-type]
        times = got["time"]
        assert times.min() == (lo or WEEK["time"].min())
        assert times.max() == (hi or WEEK["time"].max())


@pytest.mark.parametrize(
    "dtype", [pl.Datetime("ns"), pl.Datetime("ms", "UTC"), pl.Datetime("us", "America/New_York")]
)
def test_window_pushed_into_parquet_reader(tmp_path: Path, dtype: pl.DataType) -> None:
    raw = WEEK.with_columns(
        pl.col("time").dt.replace_time_zone(None).cast(dtype)
        if getattr(dtype, "time_zone", None) is None
        else pl.col("time").dt.convert_time_zone(dtype.time_zone).cast(dtype)  # type: ignore[attr-defined]
    )
    pq = tmp_path / "x.parquet"
    raw.write_parquet(pq, row_group_size=100)
    lf = omega_pl.scan_candles(pq, start="2025-04-04 10:00", end="2025-04-04 11:00")
    plan = lf.explain()
    scan_part = plan[plan.index("Parquet SCAN") :]
    assert "SELECTION" in scan_part and "2025-04-04" in scan_part, plan
    got = lf.collect()
    assert got.schema == CANDLE_SCHEMA
    assert got["time"].to_list() == [
        utc(2025, 4, 4, 10) + timedelta(minutes=5 * k) for k in range(13)
    ]


def test_empty_window_gives_empty_frame_with_schema(tmp_path: Path) -> None:
    pq = tmp_path / "EURUSD_M5_BID.parquet"
    WEEK.write_parquet(pq)
    got = omega_pl.scan_candles(pq, start="2030-01-01").collect()
    assert got.height == 0 and got.schema == CANDLE_SCHEMA
    sat = omega_pl.scan_candles(pq, start="2025-04-05 12:00", end="2025-04-05 13:00").collect()
    assert sat.height == 0 and sat.schema == CANDLE_SCHEMA


def test_normalize_floors_and_keeps_flooring_duplicates(tmp_path: Path) -> None:
    df = candles(utc(2025, 4, 8, 10, 1), 4, timedelta(minutes=2))  # 10:01 10:03 10:05 10:07
    pq = tmp_path / "EURUSD_M5_BID.parquet"
    df.write_parquet(pq)
    got = omega_pl.scan_candles(pq, normalize=True).collect()
    assert got["time"].to_list() == [
        utc(2025, 4, 8, 10, 0),
        utc(2025, 4, 8, 10, 0),
        utc(2025, 4, 8, 10, 5),
        utc(2025, 4, 8, 10, 5),
    ]
    plain = _copy(pq, tmp_path / "plain.parquet")  # no timeframe in the name
    with pytest.raises(SchemaError, match="normalize=True needs a timeframe"):
        omega_pl.scan_candles(plain, normalize=True)


@pytest.mark.filterwarnings("ignore::omega_pl.errors.TimeframeMismatchWarning")  # days apart
@pytest.mark.parametrize("timeframe", ["M1", "M5", "M15", "H1", "H4", "D1"])
def test_normalize_equals_floor_time_on_and_off_the_grid(tmp_path: Path, timeframe: str) -> None:
    """The loader's grid flooring gives floor_time's instants, before 1970 too,
    whether the file is already on the grid (passed through) or not."""
    rng = np.random.default_rng(len(timeframe))
    bar_us = omega_pl.Timeframe.parse(timeframe).minutes * 60_000_000
    on = np.sort(rng.integers(-40 * 365, 60 * 365, 500)) * 86_400_000_000
    off = on + rng.integers(0, bar_us, on.size)
    for n, us in enumerate((on, off)):
        time = pl.Series("time", np.unique(us)).cast(pl.Datetime("us", "UTC"))
        df = pl.DataFrame({"time": time}).with_columns(
            *(pl.lit(1.0).alias(c) for c in ("open", "high", "low", "close", "volume"))
        )
        path = tmp_path / f"EURUSD_{timeframe}_BID_{n}.parquet"
        df.write_parquet(path)
        got = omega_pl.scan_candles(
            path, timeframe=timeframe, market_hours=False, clean_daily=False, normalize=True
        ).collect()
        want = df.select(omega_pl.floor_time("time", timeframe))["time"]
        assert got["time"].equals(want)


def _copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes())
    return dst


def test_daily_cleanup_for_d1(tmp_path: Path) -> None:
    df = candles(utc(2025, 4, 3), 7, timedelta(days=1))  # Thu .. Wed
    df = df.with_columns(
        pl.when(pl.col("time") == utc(2025, 4, 8))
        .then(0.0)
        .otherwise(pl.col("volume"))
        .alias("volume"),
        *(
            pl.when(pl.col("time") == utc(2025, 4, 8)).then(1.2).otherwise(pl.col(c)).alias(c)
            for c in ("open", "high", "low", "close")
        ),
    )
    pq = tmp_path / "EURUSD_D1_BID.parquet"
    df.write_parquet(pq)
    got = omega_pl.scan_candles(pq).collect()
    assert got["time"].to_list() == [
        utc(2025, 4, 3),
        utc(2025, 4, 4),
        utc(2025, 4, 7),
        utc(2025, 4, 9),
    ]
    # No market-hours mask on D1 (SPEC §4.1): a Sunday-evening stamp is judged by the UTC day only.
    assert omega_pl.scan_candles(pq, clean_daily=False).collect().height == 7


def make_root(tmp_path: Path, *, side_case: str = "upper", fmt: str = "parquet") -> Path:
    root = tmp_path / "data"
    for side, shift in (("bid", 0.0), ("ask", 0.0002)):
        df = WEEK.with_columns(pl.col(c) + shift for c in ("open", "high", "low", "close"))
        if side == "ask":
            df = df.filter(pl.col("time") != utc(2025, 4, 4, 12, 0))  # a hole on one side only
        name = side.upper() if side_case == "upper" else side
        path = root / "EURUSD" / f"EURUSD_M5_{name}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            df.write_parquet(path)
        else:
            write_native_csv(df, path)
    return root


@pytest.mark.parametrize(("side_case", "fmt"), [("upper", "parquet"), ("lower", "csv")])
def test_scan_symbol_joins_bid_ask(tmp_path: Path, side_case: str, fmt: str) -> None:
    root = make_root(tmp_path, side_case=side_case, fmt=fmt)
    lf = omega_pl.scan_symbol(root, "EURUSD", "M5", start="2025-04-04", end="2025-04-04")
    assert isinstance(lf, pl.LazyFrame)
    got = lf.collect()
    assert got.columns == [
        "time",
        *(f"bid_{c}" for c in omega_pl.OHLCV),
        *(f"ask_{c}" for c in omega_pl.OHLCV),
    ]
    expected_times = [
        t
        for t in WEEK["time"].to_list()
        if t.date() == date(2025, 4, 4) and reference_open(t) and t != utc(2025, 4, 4, 12)
    ]
    assert got["time"].to_list() == expected_times
    assert ((got["ask_close"] - got["bid_close"]).round(10) == 0.0002).all()


def test_parquet_preferred_over_csv_and_upper_over_lower(tmp_path: Path) -> None:
    root = make_root(tmp_path, fmt="csv")
    WEEK.head(10).write_parquet(root / "EURUSD" / "EURUSD_M5_BID.parquet")
    (root / "EURUSD" / "EURUSD_M5_bid.parquet").write_bytes(b"not parquet")
    files = omega_pl.candle_files(root, "EURUSD", "M5")
    assert files["bid"].name == "EURUSD_M5_BID.parquet"
    assert files["ask"].name == "EURUSD_M5_ASK.csv"


def test_missing_files_list_every_path(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    with pytest.raises(CandleFileNotFoundError) as err:
        omega_pl.scan_symbol(root, "GBPUSD", "M5")
    msg = str(err.value)
    for name in (
        "GBPUSD_M5_BID.parquet",
        "GBPUSD_M5_bid.parquet",
        "GBPUSD_M5_BID.csv",
        "GBPUSD_M5_bid.csv",
    ):
        assert name in msg
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(CandleFileNotFoundError, match="no candle file"):
        omega_pl.scan_candles(tmp_path / "nope.csv")
    with pytest.raises(CandleFileNotFoundError, match="not a directory"):
        omega_pl.scan_symbol(tmp_path / "nothing", "EURUSD", "M5")


def test_missing_column_names_it_and_lists_found(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("time,open,high,low,close\n2025-01-07 00:00:00,1,2,0.5,1.5\n")
    with pytest.raises(
        SchemaError, match=r"missing required column\(s\) 'volume'; found: 'time', 'open'"
    ):
        omega_pl.scan_candles(path)
    path.write_text("when,open,high,low,close,volume\n2025-01-07 00:00:00,1,2,0.5,1.5,1\n")
    with pytest.raises(SchemaError, match=r"no timestamp column.*found: 'when', 'open'"):
        omega_pl.scan_candles(path)
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(SchemaError, match="unsupported file type"):
        omega_pl.scan_candles(bad)


def test_unparseable_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("time,open,high,low,close,volume\nyesterday,1,2,0.5,1.5,1\n")
    with pytest.raises(
        TimestampParseError, match="unparseable timestamp \"yesterday\" in column 'time'"
    ):
        omega_pl.scan_candles(path)
    path.write_text(
        "time,open,high,low,close,volume\n2025-01-07 00:00:00,1,2,0.5,1.5,1\n"
        "2025-01-07 00:05:00,1,2,0.5,1.5,1\n2025-13-07 00:10:00,1,2,0.5,1.5,1\n"
    )
    lf = omega_pl.scan_candles(path)  # the bad value is found while reading, at collect()
    with pytest.raises(
        TimestampParseError, match="\"2025-13-07 00:10:00\" in column 'time' at data row 3 "
    ):
        lf.collect()


def test_bad_window_and_timeframe(tmp_path: Path) -> None:
    pq = tmp_path / "x.parquet"
    WEEK.write_parquet(pq)
    with pytest.raises(WindowError, match=r"start .* is after end"):
        omega_pl.scan_candles(pq, start="2025-04-05", end="2025-04-04")
    with pytest.raises(WindowError, match="start: cannot read 'soon'"):
        omega_pl.scan_candles(pq, start="soon")
    with pytest.raises(TimeframeError, match="accepted forms"):
        omega_pl.scan_candles(pq, timeframe="5min")
    with pytest.raises(TimeframeError, match="accepted forms"):
        omega_pl.scan_symbol(tmp_path, "EURUSD", "X1")


def test_naive_and_aware_parquet_agree(tmp_path: Path) -> None:
    naive = WEEK.with_columns(pl.col("time").dt.replace_time_zone(None).cast(pl.Datetime("ns")))
    aware = WEEK.with_columns(pl.col("time").dt.convert_time_zone("Asia/Tokyo"))
    naive.write_parquet(tmp_path / "a.parquet")
    aware.write_parquet(tmp_path / "b.parquet")
    a = omega_pl.scan_candles(tmp_path / "a.parquet", timeframe="M5").collect()
    b = omega_pl.scan_candles(tmp_path / "b.parquet", timeframe="M5").collect()
    assert a.equals(b) and a.schema == CANDLE_SCHEMA


def test_text_and_date_parquet_time_columns(tmp_path: Path) -> None:
    text = WEEK.head(50).with_columns(
        pl.col("time").dt.strftime("%d.%m.%Y %H:%M:%S.000").alias("time")
    )
    text.rename({"time": "Gmt time"}).write_parquet(tmp_path / "t.parquet")
    assert omega_pl.scan_candles(tmp_path / "t.parquet").collect().equals(WEEK.head(50))
    days = candles(utc(2025, 4, 7), 3, timedelta(days=1)).with_columns(pl.col("time").dt.date())
    days.write_parquet(tmp_path / "d.parquet")
    got = omega_pl.scan_candles(tmp_path / "d.parquet").collect()
    assert got["time"].to_list() == [utc(2025, 4, 7), utc(2025, 4, 8), utc(2025, 4, 9)]
    ints = WEEK.head(3).with_columns(pl.col("time").dt.epoch("s"))
    ints.write_parquet(tmp_path / "i.parquet")
    with pytest.raises(SchemaError, match="has type Int64"):
        omega_pl.scan_candles(tmp_path / "i.parquet")


def test_bad_timestamp_deep_in_a_large_csv_names_its_file_row(tmp_path: Path) -> None:
    path = write_csv_with_bad_timestamp(tmp_path / "big.csv")
    with pytest.raises(TimestampParseError, match="at data row 40001 "):
        omega_pl.scan_candles(path, market_hours=False).collect()


def test_first_row_error_message_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("time,open,high,low,close,volume\nyesterday,1,2,0.5,1.5,1\n")
    with pytest.raises(TimestampParseError) as err:
        omega_pl.scan_candles(path)
    msg = str(err.value)
    assert "\n" not in msg and "plugin" not in msg and "plan" not in msg
    assert msg.startswith(
        f"{path}: unparseable timestamp \"yesterday\" in column 'time' at data row 1"
    )


@pytest.mark.parametrize("hole", [False, True])
def test_paired_by_position_or_joined_the_frame_is_the_join(tmp_path: Path, hole: bool) -> None:
    """Same timestamps on both sides pair by position; different ones join; same frame."""
    root = tmp_path / "data"
    for side, shift in (("bid", 0.0), ("ask", 0.0002)):
        df = WEEK.with_columns(pl.col(c) + shift for c in ("open", "high", "low", "close"))
        if hole and side == "ask":
            df = df.filter(pl.col("time") != utc(2025, 4, 4, 12, 0))
        path = root / "EURUSD" / f"EURUSD_M5_{side.upper()}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(path)
    files = omega_pl.candle_files(root, "EURUSD", "M5")
    bid, ask = (
        omega_pl.scan_candles(files[s])  # type: ignore[literal-required]
        .collect()
        .rename({c: f"{s}_{c}" for c in omega_pl.OHLCV})
        for s in ("bid", "ask")
    )
    expected = bid.join(ask, on="time", how="inner", maintain_order="left")
    lf = omega_pl.scan_symbol(root, "EURUSD", "M5")
    got = lf.collect()
    assert got.equals(expected) and got.height == bid.height - int(hole)
    assert got["time"].flags["SORTED_ASC"]
    # projection, predicate and row limit reach the source
    picked = lf.select("time", "ask_close").filter(pl.col("ask_close") > 1.0).head(5).collect()
    assert picked.equals(
        expected.select("time", "ask_close").filter(pl.col("ask_close") > 1.0).head(5)
    )
    assert lf.select(pl.len()).collect().item() == expected.height
