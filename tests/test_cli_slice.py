"""Tests for ``omega slice`` (driven in-process with Typer's ``CliRunner``).

Expected frames come from the library: ``MultiSymbolSlicer`` over the frames
``scan_symbol`` / ``scan_aligned`` (+ ``with_indicators``) give, whose own
numbers are checked in ``test_slicer.py``, ``test_alignment.py`` and
``test_batch.py``.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from rich.console import Console
from typer.testing import Result

import omega_pl
from omega_cli.slice import _collect
from omega_pl.datasets import SAMPLE_SYMBOLS
from tests.cli_helpers import assert_user_error, checked_help, field, invoke

START, END = "2025-04-03", "2025-04-09"  # Thursday to Wednesday, over the Sydney DST weekend
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")
HOLES = range(50, 60)  # GBPUSD M5 bid rows removed: union > intersection


# ---------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three symbols, M5 and H1 (Parquet); GBPUSD's M5 bid file has a 10-bar hole."""
    base = tmp_path_factory.mktemp("root")
    omega_pl.datasets.write_sample_data(
        base, symbols=list(SYMBOLS), timeframes=["M5", "H1"], start=START, end=END
    )
    bid = base / "GBPUSD" / "GBPUSD_M5_BID.parquet"
    frame = pl.read_parquet(bid)
    frame.filter(~pl.int_range(pl.len()).is_in(list(HOLES))).write_parquet(bid)
    return base


@pytest.fixture(scope="module")
def disjoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """EURUSD in one week, GBPUSD in the next: no timestamp in common."""
    base = tmp_path_factory.mktemp("disjoint")
    write = omega_pl.datasets.write_sample_data
    write(base, symbols=["EURUSD"], timeframes=["M5"], start="2025-04-01", end="2025-04-03")
    write(base, symbols=["GBPUSD"], timeframes=["M5"], start="2025-04-08", end="2025-04-10")
    return base


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def step_rows(stdout: str) -> list[list[str]]:
    """The cells of the steps table (its rows start with a time)."""
    rows = re.findall(r"^\s+(\d{4}-\d\d-\d\d \d\d:\d\d)\s+(.*?)\s*$", stdout, re.MULTILINE)
    return [[t, *rest.split()] for t, rest in rows]


def summary_line(stdout: str) -> str:
    match = re.search(r"^omega slice: .*$", stdout, re.MULTILINE)
    assert match is not None, stdout
    return match.group(0)


def wide(
    root: Path, symbols: tuple[str, ...] = SYMBOLS, *, how: Any = "intersection", **kw: Any
) -> pl.DataFrame:
    frames = {s: omega_pl.scan_symbol(root, s, "M5", **kw) for s in symbols}
    return omega_pl.MultiSymbolSlicer(frames, how=how).frame


# ---------------------------------------------------------------------------
# successful runs


def test_sample_data_defaults(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = ok(invoke("slice", cache=cache_dir))
    monkeypatch.setenv("OMEGA_PL_CACHE", str(cache_dir))
    sample_root = omega_pl.datasets.sample_data_root()
    expected = wide(sample_root, SAMPLE_SYMBOLS)
    assert "Using sample data" in out and "pass ROOT" in out
    line = summary_line(out)
    assert f"{expected.height:,} steps of {len(SAMPLE_SYMBOLS)} symbols" in line
    assert f"({', '.join(SAMPLE_SYMBOLS)}) M5" in line
    first, last = expected["time"][0], expected["time"][-1]
    assert f"{first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC" in line
    assert line.endswith("timeline: intersection")
    rows = step_rows(out)
    assert len(rows) == 10  # --show defaults to 10
    assert field(out, "source") == "sample data (synthetic)"


def test_output_equals_slicer_frame(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "aligned.parquet"
    out = ok(invoke("slice", root, "-s", ",".join(SYMBOLS), "-t", "M5", "-o", target))
    expected = wide(root)
    assert_frame_equal(pl.read_parquet(target), expected)
    assert expected.columns[:3] == ["time", "EURUSD_bid_open", "EURUSD_bid_high"]
    assert "Using sample data" not in out
    assert field(out, "written") == str(target)
    assert field(out, "source") == str(root)
    assert [p.name for p in tmp_path.iterdir()] == ["aligned.parquet"]  # no temp file left


def test_symbols_default_to_every_directory_and_are_matched_case_insensitively(
    root: Path, tmp_path: Path
) -> None:
    everything, chosen = tmp_path / "all.parquet", tmp_path / "two.parquet"
    ok(invoke("slice", root, "-t", "M5", "-o", everything, "--show", "0"))
    assert_frame_equal(pl.read_parquet(everything), wide(root))
    # Repeated and comma-separated, lower case, with a duplicate: USDJPY then EURUSD.
    ok(
        invoke(
            "slice", root, "-t", "M5", "-s", "usdjpy", "--symbols", "EURUSD,usdjpy,", "-o", chosen
        )
    )
    assert_frame_equal(pl.read_parquet(chosen), wide(root, ("USDJPY", "EURUSD")))


def test_higher_timeframes_equal_scan_aligned(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "aligned.parquet"
    args = ("-s", "EURUSD,GBPUSD", "-t", "M5", "--higher", "H1,H4", "-o", target)
    out = ok(invoke("slice", root, *args))
    scans = {
        s: omega_pl.scan_aligned(root, s, "M5", higher=["H1", "H4"]) for s in ("EURUSD", "GBPUSD")
    }
    assert all(scan.origins == {"H1": "file", "H4": "resampled"} for scan in scans.values())
    expected = omega_pl.MultiSymbolSlicer({s: scan.frame for s, scan in scans.items()}).frame
    got = pl.read_parquet(target)
    assert_frame_equal(got, expected)
    assert {"EURUSD_h1_bid_close", "GBPUSD_h4_ask_time"} <= set(got.columns)
    assert field(out, "higher") == "H1 from files, H4 resampled from M5"


def test_how_union_keeps_every_timestamp(root: Path, tmp_path: Path) -> None:
    inter, union = tmp_path / "inter.parquet", tmp_path / "union.parquet"
    ok(invoke("slice", root, "-t", "M5", "-o", inter, "--how", "intersection"))
    out = ok(invoke("slice", root, "-t", "M5", "-o", union, "--how", "UNION"))
    got_inter, got_union = pl.read_parquet(inter), pl.read_parquet(union)
    assert_frame_equal(got_union, wide(root, how="union"))
    assert got_union.height == got_inter.height + len(HOLES)
    assert got_union["GBPUSD_bid_close"].null_count() == len(HOLES)
    assert got_union["EURUSD_bid_close"].null_count() == 0
    assert summary_line(out).endswith("timeline: union")
    assert f"{got_union.height:,} steps" in summary_line(out)


def test_indicators_per_symbol(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "aligned.parquet"
    out = ok(invoke("slice", root, "-t", "M5", "-i", "atr:14", "-i", "ema:20", "-o", target))
    frames = {
        s: omega_pl.with_indicators(omega_pl.scan_symbol(root, s, "M5"), ["atr:14", "ema:20"])
        for s in SYMBOLS
    }
    expected = omega_pl.MultiSymbolSlicer(frames).frame
    got = pl.read_parquet(target)
    assert_frame_equal(got, expected)
    for symbol in SYMBOLS:
        for column in ("bid_close_atr_14", "bid_close_ema_20"):
            assert f"{symbol}_{column}" in got.columns
    # Computed on each symbol's own rows, before the intersection drops GBPUSD's hole:
    # EURUSD's EMA equals the one of EURUSD alone at the kept steps, not an EMA over
    # the shorter aligned timeline.
    alone = omega_pl.with_indicators(omega_pl.scan_symbol(root, "EURUSD", "M5"), ["ema:20"])
    kept = alone.join(got.lazy().select("time"), on="time", how="semi").collect()
    assert got.height < alone.collect().height
    assert_frame_equal(
        got.select(pl.col("EURUSD_bid_close_ema_20").alias("ema")),
        kept.select(pl.col("bid_close_ema_20").alias("ema")),
    )
    closes = got.select("EURUSD_bid_close")
    on_timeline = omega_pl.with_indicators(closes, ["ema:20"], source="EURUSD_bid_close")
    assert not on_timeline["EURUSD_bid_close_ema_20"].equals(got["EURUSD_bid_close_ema_20"])
    assert field(out, "indicators") == "atr:14, ema:20"
    assert field(out, "indicator columns") == "SYMBOL_bid_close_atr_14, SYMBOL_bid_close_ema_20"


def test_show_prints_the_first_steps(root: Path) -> None:
    out = ok(invoke("slice", root, "-t", "M5", "--how", "union", "--show", "3"))
    expected = wide(root, how="union").head(3)
    rows = step_rows(out)
    assert len(rows) == 3
    for row, values in zip(rows, expected.iter_rows(named=True), strict=True):
        assert row[0] == f"{values['time']:%Y-%m-%d %H:%M}"
        closes = [values[f"{s}_{side}_close"] for s in SYMBOLS for side in ("bid", "ask")]
        assert row[1:] == [f"{v:.10g}" for v in closes]
    assert "first 3 of" in out


def test_show_marks_missing_candles_null(root: Path) -> None:
    frame = wide(root, how="union")
    first_hole = frame.with_row_index().filter(pl.col("GBPUSD_bid_close").is_null())["index"][0]
    out = ok(invoke("slice", root, "-t", "M5", "--how", "union", "--show", first_hole + 1))
    last = step_rows(out)[-1]
    assert last[3:5] == ["null", "null"]  # GBPUSD bid and ask: no bar at that step
    assert "null" not in " ".join(last[1:3] + last[5:])


def test_show_zero_prints_no_steps(root: Path) -> None:
    out = ok(invoke("slice", root, "-t", "M5", "--show", "0"))
    assert step_rows(out) == []
    assert "steps of 3 symbols" in summary_line(out)


def test_window_and_loader_flags(tmp_path: Path) -> None:
    """--start/--end, --no-market-hours and --normalize reach every symbol's loader."""
    base = tmp_path / "data"
    pair = ("EURUSD", "GBPUSD")
    omega_pl.datasets.write_sample_data(
        base, symbols=list(pair), timeframes=["M5"], start="2025-04-03", end="2025-04-05"
    )
    saturday = pl.datetime(2025, 4, 5, 10, 7, time_zone="UTC")  # closed market, off the grid
    for path in base.glob("*/*.parquet"):
        frame = pl.read_parquet(path)
        extra = frame.tail(1).with_columns(saturday.dt.cast_time_unit("us").alias("time"))
        pl.concat([frame, extra]).write_parquet(path)
    target = tmp_path / "aligned.parquet"
    start, end = "2025-04-04 12:00", "2025-04-06"
    args = ("--start", start, "--end", end, "--no-market-hours", "--normalize")
    ok(invoke("slice", base, "-t", "M5", *args, "-o", target))
    expected = wide(
        base, pair, start=start, end=end, market_hours=False, clean_daily=False, normalize=True
    )
    got = pl.read_parquet(target)
    assert_frame_equal(got, expected)
    assert got["time"][0] == datetime(2025, 4, 4, 12, tzinfo=UTC)
    assert got["time"][-1] == datetime(2025, 4, 5, 10, 5, tzinfo=UTC)  # kept and floored
    assert got.height == wide(base, pair, start=start, end=end).height + 1


def test_progress_bar_on_a_terminal(root: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    plans = {s: omega_pl.scan_symbol(root, s, "M5") for s in SYMBOLS}
    frames = _collect(plans, omega_pl.Timeframe.parse("M5"), console)
    assert list(frames) == list(SYMBOLS)
    assert "Loading" in buffer.getvalue() and "M5" in buffer.getvalue()


# ---------------------------------------------------------------------------
# user errors

SAMPLE_ERRORS: list[tuple[tuple[str, ...], str]] = [
    (("-s", "EURUSD,EURCHF"), "no BID file for EURCHF M5 under"),
    (("--how", "both"), "'both' is not one of 'intersection', 'union'"),
    (("-t", "X5"), "unknown timeframe 'X5'"),
    (("--higher", "H1,Q3"), "unknown timeframe 'Q3'"),
    (("--higher", "M1"), "--higher M1 is shorter than the timeframe M5"),
    (("-i", "bogus:3"), "unknown indicator 'bogus'"),
    (("-i", "atr:x"), "indicator 'atr:x': parameter 'period' must be a positive integer"),
    (("-s", " , "), "--symbols is empty"),
    (("--higher", ","), "--higher is empty"),
    (("--start", "2025-13-01"), "--start"),
    (("--start", "2025-04-08", "--end", "2025-04-04"), "is after end"),
    (("--start", "2030-01-01"), "symbol 'EURUSD' has no rows"),
    (("--show", "-1"), "--show"),
    (("-o", "/nonexistent-dir/out.parquet"), "does not exist"),
    (("--bogus",), "No such option"),
]


@pytest.mark.parametrize(("args", "message"), SAMPLE_ERRORS)
def test_option_errors(cache_dir: Path, args: tuple[str, ...], message: str) -> None:
    line = assert_user_error(invoke("slice", *args, cache=cache_dir), contains=message)
    assert "omega: " not in line


def test_unknown_symbol_lists_the_paths_tried(cache_dir: Path) -> None:
    line = assert_user_error(invoke("slice", "-s", "EURCHF", cache=cache_dir))
    assert "tried: " in line and "EURCHF_M5_BID.parquet" in line and "EURCHF_M5_bid.csv" in line


ROOT_ERRORS: list[tuple[str, tuple[str, ...], str]] = [
    ("root", (), "the symbols share 2 timeframes"),
    ("root", ("-t", "H4"), "no BID file for EURUSD H4"),
    ("root", ("-t", "H1", "--higher", "M5"), "--higher M5 is shorter than the timeframe H1"),
    ("disjoint", (), "no timestamp in common (empty intersection): EURUSD: 2025-04-01"),
    ("missing", (), "no such directory"),
    ("file", (), "not a directory"),
    ("empty", (), "no symbol directories with candle files"),
]


@pytest.mark.parametrize(("where", "args", "message"), ROOT_ERRORS)
def test_root_errors(
    where: str,
    args: tuple[str, ...],
    message: str,
    root: Path,
    disjoint: Path,
    tmp_path: Path,
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.parquet").write_bytes(b"")
    paths = {
        "root": root,
        "disjoint": disjoint,
        "missing": tmp_path / "nope",
        "file": tmp_path / "file.parquet",
        "empty": tmp_path / "empty",
    }
    line = assert_user_error(invoke("slice", paths[where], *args), contains=message)
    if where == "disjoint":
        assert "GBPUSD: 2025-04-08" in line


# ---------------------------------------------------------------------------
# help


def test_help_explains_every_option_with_an_example() -> None:
    stdout, names = checked_help("slice")
    assert names == {
        "root",
        "symbols",
        "timeframe",
        "higher",
        "how",
        "start",
        "end",
        "no_market_hours",
        "normalize",
        "indicator",
        "output",
        "show",
    }
    text = " ".join(stdout.split())
    for expected in (
        "ROOT",
        "Examples",
        "omega slice data -s EURUSD,GBPUSD,USDJPY -t M5 -o aligned.parquet",
        "--higher H1,D1",
        "intersection|union",
        "EURUSD_bid_close_atr_14",
    ):
        assert expected in text, expected


def test_listed_in_app_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    assert re.search(r"^\W*slice\s", result.stdout, re.MULTILINE), result.stdout
