"""Tests for omega_pl.datasets (seeded synthetic bid/ask candles).

The market-hours checks use an independent per-timestamp ``zoneinfo`` reference,
and the timeframe-consistency checks resample with Polars, so neither shares
code with the generator.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from omega_pl import datasets as ds

SYDNEY = ZoneInfo("Australia/Sydney")
SIDES = ("bid", "ask")
FIELDS = ("open", "high", "low", "close", "volume")
DECIMALS = {"EURUSD": 5, "GBPUSD": 5, "USDJPY": 3, "XAUUSD": 2}
LEVELS = {"EURUSD": (1.0, 1.2), "GBPUSD": (1.15, 1.45), "USDJPY": (130.0, 170.0)}
LEVELS["XAUUSD"] = (2000.0, 2650.0)
TF_MINUTES = {"M1": 1, "M5": 5, "M15": 15, "H1": 60, "H4": 240, "D1": 1440}
DST_END = datetime(2025, 4, 6, tzinfo=UTC)  # Sydney AEDT -> AEST (Saturday 16:00 UTC)
EXPECTED_SCHEMA: dict[str, pl.DataType] = {
    "time": pl.Datetime("us", "UTC"),
    **{f"{side}_{field}": pl.Float64() for side in SIDES for field in FIELDS},
}


def sydney_open(ts: datetime) -> bool:
    """Reference for SPEC §4.2: open Monday 07:00 to Saturday 07:00 Sydney time."""
    local = ts.astimezone(SYDNEY)
    weekday, hour = local.weekday(), local.hour
    if weekday == 6:
        return False
    if weekday == 0:
        return hour >= 7
    if weekday == 5:
        return hour < 7
    return True


def in_market(ts: datetime, timeframe: str) -> bool:
    return ts.weekday() < 5 if timeframe.startswith("D") else sydney_open(ts)


def times(frame: pl.DataFrame) -> list[datetime]:
    out: list[datetime] = frame["time"].to_list()
    return out


def assert_ohlc_consistent(frame: pl.DataFrame) -> None:
    for side in SIDES:
        o, h, lo, c, v = (frame[f"{side}_{field}"] for field in FIELDS)
        assert (h >= o).all(), side
        assert (h >= c).all(), side
        assert (lo <= o).all(), side
        assert (lo <= c).all(), side
        assert (lo > 0).all(), side
        assert (v > 0).all(), side
        assert (v == v.round(0)).all(), side  # tick counts
    for field in ("open", "high", "low", "close"):
        assert (frame[f"ask_{field}"] > frame[f"bid_{field}"]).all(), field


def aggregate(m1: pl.DataFrame, timeframe: str) -> pl.DataFrame:
    """Independent Polars resampling: epoch-anchored buckets, first/max/min/last/sum."""
    bucket_us = TF_MINUTES[timeframe] * 60_000_000
    stamp = (pl.col("time").cast(pl.Int64) // bucket_us * bucket_us).cast(pl.Datetime("us", "UTC"))
    out = (
        m1.sort("time")
        .group_by(stamp.alias("time"), maintain_order=True)
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            pl.col("volume").sum(),
        )
        .sort("time")
    )
    keep = [in_market(ts, timeframe) for ts in times(out)]
    return out.filter(pl.Series(keep, dtype=pl.Boolean))


@pytest.fixture(scope="module")
def m1() -> pl.DataFrame:
    return ds.generate_candles()


@pytest.fixture(scope="module")
def sample_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("samples")
    return {
        "parquet": ds.write_sample_data(base / "pq", fmt="parquet"),
        "csv": ds.write_sample_data(base / "csv", fmt="csv"),
    }


def read_side(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path)


def read_csv_side(path: Path) -> pl.DataFrame:
    raw = pl.read_csv(path, schema_overrides={"UTC time": pl.String})
    return raw.select(
        pl.col("UTC time")
        .str.to_datetime("%Y-%m-%d %H:%M:%S%:z", time_unit="us")
        .dt.convert_time_zone("UTC")
        .alias("time"),
        *(pl.col(name.capitalize()).cast(pl.Float64).alias(name) for name in FIELDS),
    )


# ----------------------------------------------------------------------------- basics


def test_public_constants() -> None:
    assert ds.SAMPLE_SYMBOLS == ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
    assert ds.SAMPLE_TIMEFRAMES == ("M1", "M5", "M15", "H1", "H4", "D1")
    span = (ds.SAMPLE_START, ds.SAMPLE_END)
    assert span == (datetime(2025, 3, 17, tzinfo=UTC), datetime(2025, 4, 19, tzinfo=UTC))


def test_determinism(m1: pl.DataFrame) -> None:
    assert ds.generate_candles().equals(m1)
    assert ds.generate_candles("XAUUSD", "H1", seed=3).equals(
        ds.generate_candles("XAUUSD", "H1", seed=3)
    )
    assert not ds.generate_candles(seed=1).equals(m1)
    other = ds.generate_candles("GBPUSD")
    assert not np.allclose(other["bid_close"].head(100) / 1.29, m1["bid_close"].head(100) / 1.09)
    a = ds.synthetic_candles(5000, symbol="USDJPY", missing_ratio=0.05, seed=7)
    assert a.equals(ds.synthetic_candles(5000, symbol="USDJPY", missing_ratio=0.05, seed=7))


@pytest.mark.parametrize("timeframe", ds.SAMPLE_TIMEFRAMES)
def test_schema_sorted_unique(timeframe: str) -> None:
    frame = ds.generate_candles("EURUSD", timeframe)
    assert frame.schema == pl.Schema(EXPECTED_SCHEMA)
    assert frame.height > 0
    assert frame["time"].is_sorted()
    assert frame["time"].n_unique() == frame.height
    assert frame.null_count().sum_horizontal().item() == 0
    stamps = frame["time"].cast(pl.Int64)
    assert (stamps % (TF_MINUTES[timeframe] * 60_000_000) == 0).all()
    assert times(frame)[0] >= ds.SAMPLE_START
    assert times(frame)[-1] < ds.SAMPLE_END


@pytest.mark.parametrize("symbol", [*ds.SAMPLE_SYMBOLS, "ABCXYZ"])
@pytest.mark.parametrize("timeframe", ["M1", "M15", "H4", "D1"])
def test_ohlc_spread_precision_levels(symbol: str, timeframe: str) -> None:
    frame = ds.generate_candles(symbol, timeframe)
    assert_ohlc_consistent(frame)
    decimals = DECIMALS.get(symbol, 5)
    for side in SIDES:
        for field in ("open", "high", "low", "close"):
            col = frame[f"{side}_{field}"]
            assert (col.round(decimals) == col).all(), (side, field)
    low, high = LEVELS.get(symbol, (0.75, 1.3))  # unknown symbols: generic level 1.0
    assert low < float(frame["bid_low"].min())  # type: ignore[arg-type]
    assert float(frame["bid_high"].max()) < high  # type: ignore[arg-type]


def test_bars_open_at_previous_close_mostly(m1: pl.DataFrame) -> None:
    same = (m1["bid_open"] == m1["bid_close"].shift(1)).sum()
    assert same / (m1.height - 1) > 0.99
    ask_same = (m1["ask_open"] == m1["ask_close"].shift(1)).sum()
    assert ask_same / (m1.height - 1) > 0.99


def test_spread_varies_and_widens_after_weekly_open(m1: pl.DataFrame) -> None:
    pips = ((m1["ask_close"] - m1["bid_close"]) * 10_000).round(1)
    assert pips.min() >= 0.1  # type: ignore[operator]
    assert pips.max() <= 2.0  # type: ignore[operator]
    assert pips.n_unique() >= 10
    gap = m1["time"].diff() > timedelta(hours=1)
    week_open = m1["time"].filter(gap.fill_null(True)).to_list()
    first_hour = pl.Series(
        [any(o <= t < o + timedelta(hours=1) for o in week_open) for t in times(m1)]
    )
    assert pips.filter(first_hour).mean() > 2 * pips.filter(~first_hour).mean()  # type: ignore[operator]


def test_volumes_differ_slightly_between_sides(m1: pl.DataFrame) -> None:
    diff = (m1["ask_volume"] - m1["bid_volume"]).abs()
    assert diff.max() <= 2  # type: ignore[operator]
    assert (diff > 0).mean() > 0.3  # type: ignore[operator]


# ----------------------------------------------------------------------------- sessions


@pytest.mark.parametrize("timeframe", ds.SAMPLE_TIMEFRAMES)
def test_no_bar_in_closed_market_hours(timeframe: str) -> None:
    frame = ds.generate_candles("GBPUSD", timeframe)
    stamps = times(frame)
    if timeframe == "M1":
        stamps = stamps[::7] + stamps[-50:]
    bad = [ts for ts in stamps if not in_market(ts, timeframe)]
    assert bad == []
    if timeframe == "D1":
        assert all(ts.hour == 0 and ts.minute == 0 for ts in stamps)


def test_in_session_grid_covered_apart_from_few_holes(m1: pl.DataFrame) -> None:
    expected = []
    ts = ds.SAMPLE_START
    while ts < ds.SAMPLE_END:
        if sydney_open(ts):
            expected.append(ts)
        ts += timedelta(minutes=1)
    present = set(times(m1))
    assert present <= set(expected)
    missing = 1 - len(present) / len(expected)
    assert 0.0002 < missing < 0.005


def test_dst_change_moves_weekly_open_and_close(m1: pl.DataFrame) -> None:
    stamps = times(m1)
    offsets = {ts.astimezone(SYDNEY).utcoffset() for ts in stamps}
    assert offsets == {timedelta(hours=11), timedelta(hours=10)}
    opens = [b for a, b in itertools.pairwise(stamps) if b - a > timedelta(hours=12)]
    closes = [a for a, b in itertools.pairwise(stamps) if b - a > timedelta(hours=12)]
    assert len(opens) == 4
    for ts in opens:  # Sunday 20:00 UTC under AEDT, 21:00 UTC under AEST
        assert ts.weekday() == 6
        assert ts.hour == (20 if ts < DST_END else 21)
    for ts in closes:  # last bar Friday 19:59 UTC under AEDT, 20:59 UTC under AEST
        assert ts.weekday() == 4
        assert ts.hour == (19 if ts < DST_END else 20)
    h4 = times(ds.generate_candles("EURUSD", "H4"))
    sunday_20 = [ts for ts in h4 if ts.weekday() == 6 and ts.hour == 20]
    assert sunday_20
    assert all(ts < DST_END for ts in sunday_20)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("timeframe", ["W1", "M0", "H", "1H", "MX", "", "D01", "S30", "M1.5"])
def test_bad_timeframe(timeframe: str) -> None:
    with pytest.raises(ValueError, match=r"M<n>.*H<n>.*D<n>"):
        ds.generate_candles("EURUSD", timeframe)
    with pytest.raises(ValueError, match=r"M<n>"):
        ds.synthetic_candles(10, timeframe=timeframe)


def test_timeframe_unit_is_case_insensitive(tmp_path: Path) -> None:
    assert ds.generate_candles(timeframe=" h1").equals(ds.generate_candles(timeframe="H1"))
    ds.write_sample_data(tmp_path, symbols=["EURUSD"], timeframes=["m15"], end="2025-03-18")
    assert (tmp_path / "EURUSD" / "EURUSD_M15_BID.parquet").is_file()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="before end"):
        ds.generate_candles(start="2025-03-20", end="2025-03-20")
    with pytest.raises(ValueError, match="before end"):
        ds.generate_candles(start=datetime(2025, 4, 1, tzinfo=UTC), end="2025-03-20")
    with pytest.raises(ValueError, match="ISO 8601"):
        ds.generate_candles(start="yesterday")
    with pytest.raises(ValueError, match="seed"):
        ds.generate_candles(seed=-1)
    with pytest.raises(ValueError, match="n_rows"):
        ds.synthetic_candles(-1)
    for ratio in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match="missing_ratio"):
            ds.synthetic_candles(10, missing_ratio=ratio)
    with pytest.raises(ValueError, match="fmt"):
        ds.write_sample_data(tmp_path, fmt="json")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="directory name"):
        ds.write_sample_data(tmp_path, symbols=["../EURUSD"])
    with pytest.raises(ValueError, match="M<n>"):
        ds.write_sample_data(tmp_path, timeframes=["M1", "W1"])
    assert list(tmp_path.iterdir()) == []  # nothing written on invalid arguments
    with pytest.raises(ValueError, match="fmt"):
        ds.sample_data_root("feather")  # type: ignore[arg-type]


def test_start_end_strings_and_naive_datetimes_are_utc() -> None:
    a = ds.generate_candles(start="2025-03-18", end="2025-03-19T12:00:00+00:00")
    b = ds.generate_candles(start=datetime(2025, 3, 18), end=datetime(2025, 3, 19, 12))
    assert a.equals(b)
    assert a["time"].min() == datetime(2025, 3, 18, tzinfo=UTC)
    assert a["time"].max() < datetime(2025, 3, 19, 12, tzinfo=UTC)  # type: ignore[operator]


def test_closed_span_gives_empty_frame() -> None:
    frame = ds.generate_candles(start="2025-03-22T12:00", end="2025-03-23T12:00", timeframe="H1")
    assert frame.height == 0
    assert frame.schema == pl.Schema(EXPECTED_SCHEMA)


# ----------------------------------------------------------------------------- files


def test_write_sample_data_layout(sample_dirs: dict[str, Path]) -> None:
    for fmt, root in sample_dirs.items():
        found = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        expected = {
            f"{s}/{s}_{tf}_{side}.{fmt}"
            for s in ds.SAMPLE_SYMBOLS
            for tf in ds.SAMPLE_TIMEFRAMES
            for side in ("BID", "ASK")
        }
        assert found == expected


def test_csv_header_and_timestamp_format(sample_dirs: dict[str, Path]) -> None:
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:00\+00:00$")
    for path in sample_dirs["csv"].rglob("*.csv"):
        with path.open(encoding="utf-8") as fh:
            header, first = fh.readline().rstrip("\n"), fh.readline().rstrip("\n")
        assert header == "UTC time,Open,High,Low,Close,Volume", path.name
        cells = first.split(",")
        assert len(cells) == 6, first
        assert stamp.match(cells[0]), first
    with (sample_dirs["csv"] / "EURUSD" / "EURUSD_M1_BID.csv").open(encoding="utf-8") as fh:
        assert fh.readlines()[1].startswith("2025-03-17 00:00:00+00:00,")


def test_parquet_schema(sample_dirs: dict[str, Path]) -> None:
    columns: dict[str, pl.DataType] = {"time": pl.Datetime("us", "UTC")}
    columns.update(dict.fromkeys(FIELDS, pl.Float64()))
    schema = pl.Schema(columns)
    for path in sample_dirs["parquet"].rglob("*.parquet"):
        assert pl.read_parquet_schema(path) == dict(schema), path.name


def test_csv_and_parquet_hold_identical_values(sample_dirs: dict[str, Path]) -> None:
    for path in sorted(sample_dirs["parquet"].rglob("*.parquet")):
        csv_path = sample_dirs["csv"] / path.parent.name / path.with_suffix(".csv").name
        from_csv = read_csv_side(csv_path)
        from_parquet = read_side(path)
        assert from_csv.schema == from_parquet.schema
        assert from_csv.equals(from_parquet), path.name


@pytest.mark.parametrize("symbol", ds.SAMPLE_SYMBOLS)
def test_higher_timeframe_files_equal_m1_aggregated(
    sample_dirs: dict[str, Path], symbol: str
) -> None:
    root = sample_dirs["parquet"] / symbol
    for side in ("BID", "ASK"):
        m1 = read_side(root / f"{symbol}_M1_{side}.parquet")
        for timeframe in ("M5", "M15", "H1", "H4", "D1"):
            stored = read_side(root / f"{symbol}_{timeframe}_{side}.parquet")
            assert stored.equals(aggregate(m1, timeframe)), (side, timeframe)


def test_bid_and_ask_files_differ_in_a_handful_of_bars(sample_dirs: dict[str, Path]) -> None:
    for symbol in ds.SAMPLE_SYMBOLS:
        root = sample_dirs["parquet"] / symbol
        bid = set(times(read_side(root / f"{symbol}_M1_BID.parquet")))
        ask = set(times(read_side(root / f"{symbol}_M1_ASK.parquet")))
        assert 1 <= len(bid ^ ask) <= 40, symbol
        h1_bid = read_side(root / f"{symbol}_H1_BID.parquet")
        h1_ask = read_side(root / f"{symbol}_H1_ASK.parquet")
        assert h1_bid["time"].equals(h1_ask["time"])


@pytest.mark.parametrize("timeframe", ["M1", "H1", "D1"])
def test_generate_candles_equals_inner_join_of_files(
    sample_dirs: dict[str, Path], timeframe: str
) -> None:
    root = sample_dirs["parquet"] / "USDJPY"
    bid = read_side(root / f"USDJPY_{timeframe}_BID.parquet")
    ask = read_side(root / f"USDJPY_{timeframe}_ASK.parquet")
    joined = (
        bid.rename({f: f"bid_{f}" for f in FIELDS})
        .join(ask.rename({f: f"ask_{f}" for f in FIELDS}), on="time", how="inner")
        .sort("time")
    )
    generated = ds.generate_candles("USDJPY", timeframe)
    assert generated.equals(joined)
    if timeframe == "M1":
        assert generated.height < min(bid.height, ask.height)


def test_write_sample_data_subset_and_return_value(tmp_path: Path) -> None:
    root = ds.write_sample_data(
        str(tmp_path / "out"), symbols=["NZDUSD"], timeframes=["M30"], fmt="csv", seed=5
    )
    assert root == tmp_path / "out"
    assert sorted(p.name for p in (root / "NZDUSD").iterdir()) == [
        "NZDUSD_M30_ASK.csv",
        "NZDUSD_M30_BID.csv",
    ]


# ----------------------------------------------------------------------------- synthetic


@pytest.mark.parametrize("timeframe", ["M1", "M5", "H1", "H4", "D1"])
def test_synthetic_candles_shape_grid_and_hours(timeframe: str) -> None:
    n = 4000
    frame = ds.synthetic_candles(n, timeframe=timeframe, symbol="XAUUSD", seed=2)
    assert frame.height == n
    assert frame.schema == pl.Schema(EXPECTED_SCHEMA)
    assert frame["time"].is_sorted()
    assert frame["time"].n_unique() == n
    assert (frame["time"].cast(pl.Int64) % (TF_MINUTES[timeframe] * 60_000_000) == 0).all()
    assert frame["time"].min() >= datetime(2015, 1, 5, tzinfo=UTC)  # type: ignore[operator]
    assert [ts for ts in times(frame) if not in_market(ts, timeframe)] == []
    assert_ohlc_consistent(frame)


def test_synthetic_candles_holes_and_prefix_stability() -> None:
    full = ds.synthetic_candles(12_000, timeframe="M5")
    holes = ds.synthetic_candles(8_000, timeframe="M5", missing_ratio=0.25)
    assert holes.height == 8_000
    in_span = full.filter(pl.col("time") <= holes["time"].max())
    assert in_span.height > holes.height
    assert 0.2 < 1 - holes.height / in_span.height < 0.3
    # Holes only remove bars: the remaining bars are unchanged.
    assert in_span.join(holes.select("time"), on="time", how="semi").equals(holes)
    # The first k rows do not depend on n_rows.
    assert ds.synthetic_candles(3_000, timeframe="M5").equals(full.head(3_000))
    assert ds.synthetic_candles(0).schema == pl.Schema(EXPECTED_SCHEMA)
    assert ds.synthetic_candles(0).height == 0


def test_synthetic_candles_start_is_ceiled_to_grid() -> None:
    frame = ds.synthetic_candles(5, timeframe="H1", start="2024-01-02T10:30:00")
    assert frame["time"][0] == datetime(2024, 1, 2, 11, tzinfo=UTC)


def test_synthetic_candles_one_million_rows() -> None:
    frame = ds.synthetic_candles(1_000_000)
    assert frame.height == 1_000_000
    assert frame["time"].is_sorted()
    assert frame["time"].n_unique() == 1_000_000
    assert (frame["ask_close"] > frame["bid_close"]).all()
    assert (frame["bid_high"] >= frame["bid_close"]).all()


# ----------------------------------------------------------------------------- cache


def test_sample_data_root_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_PL_CACHE", str(tmp_path))
    root = ds.sample_data_root()
    assert root == tmp_path / "sample-parquet-v1"
    assert len(list(root.rglob("*.parquet"))) == 2 * 4 * 6
    assert (root / "EURUSD" / "EURUSD_M1_BID.parquet").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["sample-parquet-v1"]  # no temp dirs left

    def fail(*args: Any, **kwargs: Any) -> Path:
        raise AssertionError("sample data regenerated")

    monkeypatch.setattr(ds, "write_sample_data", fail)
    assert ds.sample_data_root() == root


def test_sample_data_root_interrupted_run_leaves_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMEGA_PL_CACHE", str(tmp_path / "cache"))

    def interrupted(root: Path, **kwargs: Any) -> Path:
        (Path(root) / "EURUSD").mkdir()
        raise KeyboardInterrupt

    monkeypatch.setattr(ds, "write_sample_data", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ds.sample_data_root("csv")
    assert list((tmp_path / "cache").iterdir()) == []


def test_sample_data_root_concurrent_winner_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMEGA_PL_CACHE", str(tmp_path))
    final = tmp_path / "sample-csv-v1"

    def slow_loser(root: Path, **kwargs: Any) -> Path:
        (Path(root) / "mine.txt").write_text("loser")
        final.mkdir()  # another process renames its finished copy into place first
        (final / "winner.txt").write_text("winner")
        return Path(root)

    monkeypatch.setattr(ds, "write_sample_data", slow_loser)
    assert ds.sample_data_root("csv") == final
    assert sorted(p.name for p in final.iterdir()) == ["winner.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["sample-csv-v1"]


def test_sample_data_root_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMEGA_PL_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    calls: list[Path] = []
    real: Callable[..., Path] = ds.write_sample_data

    def tiny(root: Path, **kwargs: Any) -> Path:
        calls.append(Path(root))
        return real(root, symbols=["EURUSD"], timeframes=["D1"], fmt=kwargs["fmt"])

    monkeypatch.setattr(ds, "write_sample_data", tiny)
    root = ds.sample_data_root("csv")
    assert root == tmp_path / ".cache" / "omega_pl" / "sample-csv-v1"
    assert (root / "EURUSD" / "EURUSD_D1_ASK.csv").is_file()
    assert len(calls) == 1
    assert calls[0].parent == root.parent
