"""Tests for ``omega indicators`` (driven in-process with Typer's ``CliRunner``).

Expected frames come from the library: ``omega_pl.with_indicators`` on the
frame ``scan_symbol`` (or ``pl.read_parquet``) gives, whose own numbers are
checked in ``test_batch.py``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omega_pl
from omega_cli.indicators import DEFAULT_SPECS
from tests.cli_helpers import assert_user_error, checked_help, field, invoke

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "indicators.toml"
START, END = "2025-04-03", "2025-04-09"

SPEC_FILE = """\
source = "ask_close"

[[indicator]]
name = "atr"
period = 10
reseed = true

[[indicator]]
name = "bollinger"
period = 20
std_factor = 2.5
alias = "bb"

[[indicator]]
name = "rsi"
source = "bid_close"
"""


# ---------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def sample(cache_dir: Path) -> pl.DataFrame:
    """The frame ``omega indicators`` without INPUT works on (EURUSD M5 sample data)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMEGA_PL_CACHE", str(cache_dir))
        root = omega_pl.datasets.sample_data_root()
    return omega_pl.scan_symbol(root, "EURUSD", "M5").collect()


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with two symbols and two timeframes (Parquet)."""
    root = tmp_path_factory.mktemp("root")
    omega_pl.datasets.write_sample_data(
        root, symbols=["EURUSD", "USDJPY"], timeframes=["M5", "H1"], start=START, end=END
    )
    return root


@pytest.fixture(scope="module")
def frame_file(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """A loaded frame written as Parquet (as ``omega load -o`` writes it)."""
    path = tmp_path_factory.mktemp("frame") / "eurusd_m5.parquet"
    omega_pl.scan_symbol(data_root, "EURUSD", "M5").collect().write_parquet(path)
    return path


def preview_rows(stdout: str) -> list[str]:
    """The data rows of the preview table (they start with a bar time)."""
    return re.findall(r"^\s+\d{4}-\d\d-\d\d \d\d:\d\d\s.*$", stdout, re.MULTILINE)


# ---------------------------------------------------------------------------
# successful runs


def test_sample_data_with_default_set(
    cache_dir: Path, sample: pl.DataFrame, tmp_path: Path
) -> None:
    target = tmp_path / "out.parquet"
    result = invoke("indicators", "-o", target, cache=cache_dir)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "Using sample data (EURUSD M5, synthetic)" in result.stdout
    assert "No -i/--spec given: computing the default set ema:20, rsi:14, atr:14" in result.stdout
    expected = omega_pl.with_indicators(sample, list(DEFAULT_SPECS))
    assert_frame_equal(pl.read_parquet(target), expected)
    new = [c for c in expected.columns if c not in sample.columns]
    assert new == [
        "bid_close_ema_20",
        "bid_close_rsi_14",
        "bid_close_atr_14",
        "bid_close_macd_12_26_9_macd",
        "bid_close_macd_12_26_9_signal",
        "bid_close_macd_12_26_9_histogram",
    ]
    assert field(result.stdout, "columns") == ", ".join(new)
    assert field(result.stdout, "rows") == f"{sample.height:,}"
    assert field(result.stdout, "written") == str(target)
    rows = preview_rows(result.stdout)
    assert len(rows) == 10
    last = sample.row(-1, named=True)["time"].strftime("%Y-%m-%d %H:%M")
    assert rows[-1].split()[:2] == last.split()
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]  # no temp file left


def test_indicator_options_and_spec_file_combine(
    cache_dir: Path, sample: pl.DataFrame, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_FILE)
    target = tmp_path / "out.parquet"
    args = ("-i", "ema:5", "-i", "macd:8,21", "--spec", spec, "-o", target)
    result = invoke("indicators", *args, cache=cache_dir)
    assert result.exit_code == 0, result.output
    assert "No -i/--spec given" not in result.stdout
    tables = tomllib.loads(SPEC_FILE)["indicator"]
    expected = omega_pl.with_indicators(sample, ["ema:5", "macd:8,21", *tables], source="ask_close")
    got = pl.read_parquet(target)
    assert_frame_equal(got, expected)
    assert got.columns[len(sample.columns) :] == [
        "ask_close_ema_5",
        "ask_close_macd_8_21_9_macd",
        "ask_close_macd_8_21_9_signal",
        "ask_close_macd_8_21_9_histogram",
        "ask_close_atr_10",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "bid_close_rsi_14",
    ]


def test_source_option_overrides_the_spec_file(
    cache_dir: Path, sample: pl.DataFrame, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC_FILE)
    target = tmp_path / "out.parquet"
    result = invoke(
        "indicators", "--spec", spec, "--source", "bid_close", "-o", target, cache=cache_dir
    )
    assert result.exit_code == 0, result.output
    tables = tomllib.loads(SPEC_FILE)["indicator"]
    assert_frame_equal(
        pl.read_parquet(target), omega_pl.with_indicators(sample, tables, source="bid_close")
    )
    assert "bid_close_atr_10" in field(result.stdout, "columns")


def test_shipped_example_spec_file(cache_dir: Path, sample: pl.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    result = invoke("indicators", "--spec", EXAMPLE, "-o", target, cache=cache_dir)
    assert result.exit_code == 0, result.output
    data = tomllib.loads(EXAMPLE.read_text())
    expected = omega_pl.with_indicators(sample, data["indicator"], source=data["source"])
    assert_frame_equal(pl.read_parquet(target), expected)
    for name in ("bid_close_atr_14", "bb_upper", "ask_close_ema_20", "bid_close_zscore_100_ema_50"):
        assert name in expected.columns


def test_data_root_with_options(data_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    args = ("-s", "USDJPY", "-t", "H1", "--start", "2025-04-04", "--end", "2025-04-07")
    result = invoke("indicators", data_root, *args, "-i", "atr:5", "-i", "dmi", "-o", target)
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_symbol(
        data_root, "USDJPY", "H1", start="2025-04-04", end="2025-04-07"
    ).collect()
    assert_frame_equal(pl.read_parquet(target), omega_pl.with_indicators(frame, ["atr:5", "dmi"]))
    assert "USDJPY H1" in result.stdout
    assert "Using sample data" not in result.stdout


def test_no_market_hours(data_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    args = ("-s", "EURUSD", "-t", "M5", "--no-market-hours", "-i", "ema:3", "-o", target)
    result = invoke("indicators", data_root, *args)
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_symbol(
        data_root, "EURUSD", "M5", market_hours=False, clean_daily=False
    ).collect()
    assert_frame_equal(pl.read_parquet(target), omega_pl.with_indicators(frame, "ema:3"))


def test_one_candle_file(data_root: Path, tmp_path: Path) -> None:
    path = data_root / "EURUSD" / "EURUSD_M5_ASK.parquet"
    target = tmp_path / "out.parquet"
    result = invoke("indicators", path, "-i", "atr", "-o", target)
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_candles(path).collect()
    got = pl.read_parquet(target)
    assert_frame_equal(got, omega_pl.with_indicators(frame, "atr"))
    assert got.columns[-1] == "close_atr_14"  # one side: the source is "close"


def test_parquet_frame_read_as_is_with_window(frame_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    window = ("--start", "2025-04-04 12:00", "--end", "2025-04-07")
    result = invoke("indicators", frame_file, *window, "-i", "rsi", "--show", "3", "-o", target)
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(frame_file).filter(
        pl.col("time").is_between(
            pl.datetime(2025, 4, 4, 12, time_zone="UTC"),
            pl.datetime(2025, 4, 7, 23, 59, 59, 999999, time_zone="UTC"),
        )
    )
    assert_frame_equal(pl.read_parquet(target), omega_pl.with_indicators(frame, "rsi"))
    assert len(preview_rows(result.stdout)) == 3
    assert field(result.stdout, "source") == str(frame_file)


def test_long_frame_runs_per_symbol(data_root: Path, tmp_path: Path) -> None:
    parts = {
        s: omega_pl.scan_symbol(data_root, s, "M5").collect().with_columns(symbol=pl.lit(s))
        for s in ("EURUSD", "USDJPY")
    }
    long = tmp_path / "long.parquet"
    pl.concat(parts.values()).write_parquet(long)
    target = tmp_path / "out.parquet"
    result = invoke("indicators", long, "-i", "ema:10", "-i", "macd", "-o", target)
    assert result.exit_code == 0, result.output
    expected = pl.concat(omega_pl.with_indicators(p, ["ema:10", "macd"]) for p in parts.values())
    assert_frame_equal(pl.read_parquet(target), expected)
    result = invoke("indicators", long, "-s", "USDJPY", "-i", "ema:10", "-o", target)
    assert result.exit_code == 0, result.output
    assert_frame_equal(pl.read_parquet(target), omega_pl.with_indicators(parts["USDJPY"], "ema:10"))


def test_show(cache_dir: Path, sample: pl.DataFrame) -> None:
    result = invoke("indicators", "-i", "ema:5", "--show", "3", cache=cache_dir)
    assert result.exit_code == 0, result.output
    rows = preview_rows(result.stdout)
    assert len(rows) == 3
    expected = omega_pl.with_indicators(sample, "ema:5")["bid_close_ema_5"].tail(3)
    assert [float(r.split()[-1]) for r in rows] == pytest.approx(expected.to_list(), rel=1e-5)
    assert "time (UTC)" in result.stdout and "bid_close_ema_5" in result.stdout
    result = invoke("indicators", "-i", "ema:5", "--show", "0", cache=cache_dir)
    assert result.exit_code == 0, result.output
    assert preview_rows(result.stdout) == []
    assert "time (UTC)" not in result.stdout
    assert field(result.stdout, "columns") == "bid_close_ema_5"


# ---------------------------------------------------------------------------
# user errors: exit code 2, one line on stderr, no traceback, no output file


SPEC_ERRORS: dict[str, tuple[str, str]] = {
    "syntax": ('[[indicator]]\nname = "atr"\nperiod =\n', "invalid TOML: Invalid value (at line 3"),
    "value": (
        '[[indicator]]\nname = "ema"\nperiod = 3\n\n[[indicator]]\nname = "bollinger"\n'
        'std_factor = "x"\nalias = "bb"\n',
        "[[indicator]] #2: indicator bollinger(std_factor='x', alias='bb'): "
        "parameter 'std_factor' must be a finite number",
    ),
    "param": (
        '[[indicator]]\nname = "atr"\nperod = 3\n',
        "[[indicator]] #1: indicator atr(perod=3): unknown parameter(s) 'perod'",
    ),
    "name": ('[[indicator]]\nname = "emaa"\n', "unknown indicator 'emaa' (did you mean 'ema'?)"),
    "no_name": ("[[indicator]]\nperiod = 3\n", "needs a 'name'"),
    "key": ('[[indicators]]\nname = "atr"\n', "unknown top-level key(s) 'indicators'"),
    "empty": ('source = "bid_close"\n', "no [[indicator]] tables"),
    "table": ('indicator = "atr"\n', "write each as [[indicator]]"),
    "source": ('source = 3\n[[indicator]]\nname = "atr"\n', "'source' must be a column name"),
    "column": (
        '[[indicator]]\nname = "ema_stepwise"\nperiod = 3\nbar = "h1_time"\n',
        "reads column 'h1_time', which the frame does not have",
    ),
    "binary": ("\udcff", "not a UTF-8 text file"),
}


@pytest.mark.parametrize("case", list(SPEC_ERRORS))
def test_spec_file_errors(cache_dir: Path, tmp_path: Path, case: str) -> None:
    text, message = SPEC_ERRORS[case]
    spec = tmp_path / "spec.toml"
    spec.write_bytes(text.encode("utf-8", "surrogateescape"))
    target = tmp_path / "out.parquet"
    line = assert_user_error(
        invoke("indicators", "--spec", spec, "-o", target, cache=cache_dir), contains=message
    )
    assert str(spec) in line
    assert not target.exists()


OPTION_ERRORS: list[tuple[tuple[str, ...], str]] = [
    (("-i", "emaa"), "unknown indicator 'emaa' (did you mean 'ema'?); valid indicators: atr,"),
    (("-i", "ema"), "missing required parameter(s) 'period'; parameters of ema: period"),
    (("-i", "ema:0"), "indicator 'ema:0': parameter 'period' must be a positive integer, got 0"),
    (("-i", "bollinger:20,x"), "parameter 'std_factor' must be a finite number"),
    (("-i", "macd:1,2,3,4"), "4 values for 3 positional parameter(s)"),
    (("-i", "ema:3", "-i", "ema:3"), "duplicate output column(s) 'bid_close_ema_3'"),
    (("-i", "atr", "--source", "nope"), "no source column 'nope'"),
    (("-i", "atr", "--source", "bid_open"), "pass high= and low="),
    (("--spec", "/nonexistent/spec.toml"), "spec file /nonexistent/spec.toml not found"),
    (("--show", "-1"), "--show"),
    (("-t", "X5"), "unknown timeframe 'X5'"),
    (("-s", "EURCHF"), "EURCHF"),
    (("--start", "2025-13-01"), "--start"),
    (("-o", "/nonexistent-dir/out.parquet"), "does not exist"),
    (("--bogus",), "No such option"),
]


@pytest.mark.parametrize(("args", "message"), OPTION_ERRORS)
def test_option_errors(cache_dir: Path, args: tuple[str, ...], message: str) -> None:
    line = assert_user_error(invoke("indicators", *args, cache=cache_dir), contains=message)
    assert "omega: " not in line


INPUT_ERRORS: list[tuple[str, tuple[str, ...], str]] = [
    ("missing", (), "no such file or directory"),
    ("frame", ("-t", "M5"), "--timeframe applies to a data root or a candle file"),
    ("frame", ("--no-market-hours",), "--no-market-hours applies to a data root"),
    ("frame", ("-s", "EURUSD"), "--symbol needs a 'symbol' column"),
    ("frame", ("--start", "2025-04-08", "--end", "2025-04-04"), "is after end"),
    ("root", (), "holds 2 symbols (EURUSD, USDJPY)"),
    ("root", ("-s", "EURUSD"), "2 timeframes"),
    ("no_time", ("--start", "2025-04-04", "-i", "ema:3", "--source", "x"), "'time' column"),
]


@pytest.mark.parametrize(("where", "args", "message"), INPUT_ERRORS)
def test_input_errors(
    where: str,
    args: tuple[str, ...],
    message: str,
    data_root: Path,
    frame_file: Path,
    tmp_path: Path,
) -> None:
    no_time = tmp_path / "no_time.parquet"
    pl.DataFrame({"x": [1.0, 2.0]}).write_parquet(no_time)
    paths: dict[str, Any] = {
        "missing": tmp_path / "nope",
        "frame": frame_file,
        "root": data_root,
        "no_time": no_time,
    }
    assert_user_error(invoke("indicators", paths[where], *args), contains=message)


# ---------------------------------------------------------------------------
# help


def test_help_explains_every_option_with_an_example() -> None:
    stdout, _ = checked_help("indicators")
    text = " ".join(stdout.split())
    for expected in (
        "INPUT",
        "Examples",
        "omega indicators data -s EURUSD -t M5 -i ema:50",
        "[[indicator]]",
        "macd:12,26,9 = fast, slow, signal",
        "bid_close_macd_12_26_9_signal",
        ", ".join(omega_pl.INDICATORS),
    ):
        assert expected in text, expected


def test_listed_in_app_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    assert re.search(r"^\W*indicators\s", result.stdout, re.MULTILINE), result.stdout
