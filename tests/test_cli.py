"""Tests for the ``omega`` command line (omega_cli).

Most tests drive the Typer app in-process with ``typer.testing.CliRunner``;
a few run the installed ``omega`` console script in a subprocess. Expected
numbers come from the library (``scan_symbol``/``scan_candles`` +
``summarize``, whose own numbers are checked in ``test_summary.py``).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import Result

import omega_pl
from omega_pl.summary import summarize
from tests import cli_helpers
from tests.cli_helpers import checked_help, invoke

START, END = "2025-04-03", "2025-04-09"  # Thursday to Wednesday, over the Sydney DST weekend
WINDOW = {"start": "2025-04-04 12:00", "end": "2025-04-07"}


# ---------------------------------------------------------------------------
# fixtures and helpers


def field(stdout: str, label: str) -> str:
    """The value of one row of the (indented) summary table."""
    return cli_helpers.field(stdout, label, indented=True)


def assert_user_error(result: Result, *, contains: str = "") -> str:
    """Exit 2 with one ``error:`` line and no traceback; this module does not check stdout."""
    return cli_helpers.assert_user_error(result, contains=contains, stdout_empty=False)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with one symbol (EURUSD) and one timeframe (M5), Parquet."""
    root = tmp_path_factory.mktemp("root")
    omega_pl.datasets.write_sample_data(
        root, symbols=["EURUSD"], timeframes=["M5"], start=START, end=END
    )
    bid = root / "EURUSD" / "EURUSD_M5_BID.parquet"
    frame = pl.read_parquet(bid)
    frame.filter(~pl.int_range(pl.len()).is_in([100, 200, 201])).write_parquet(bid)  # 3 holes
    return root


@pytest.fixture(scope="module")
def multi_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with two symbols and two timeframes, CSV."""
    root = tmp_path_factory.mktemp("multi")
    omega_pl.datasets.write_sample_data(
        root, symbols=["EURUSD", "USDJPY"], timeframes=["M5", "H1"], fmt="csv", start=START, end=END
    )
    return root


def number(stdout: str, label: str) -> int:
    return int(field(stdout, label).split()[0].replace(",", ""))


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def check_summary_matches(stdout: str, frame: pl.DataFrame, tf: str, symbol: str) -> None:
    expected = summarize(frame, tf, symbol=symbol)
    assert number(stdout, "rows") == frame.height
    assert number(stdout, "expected bars") == expected.expected_bars
    assert number(stdout, "missing bars") == expected.missing_bars
    assert expected.first is not None
    assert field(stdout, "first bar") == expected.first.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert "elapsed" in stdout


# ---------------------------------------------------------------------------
# load: successful runs


def test_load_root_infers_symbol_and_timeframe(data_root: Path) -> None:
    result = invoke("load", data_root)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    frame = omega_pl.scan_symbol(data_root, "EURUSD", "M5").collect()
    check_summary_matches(result.stdout, frame, "M5", "EURUSD")
    assert number(result.stdout, "missing bars") == 3  # the holes made in data_root
    spread = summarize(frame, "M5", symbol="EURUSD")
    reported = field(result.stdout, "spread min / median / max")
    assert reported.startswith(f"{spread.spread_min:,.2f} / {spread.spread_median:,.2f} / ")
    assert "pips" in reported
    files = omega_pl.candle_files(data_root, "EURUSD", "M5")
    assert str(files["bid"]) in result.stdout
    assert str(files["ask"]) in result.stdout


def test_load_root_with_options(multi_root: Path) -> None:
    args = ("-s", "USDJPY", "-t", "H1", "--start", "2025-04-04", "--end", "2025-04-07")
    result = invoke("load", multi_root, *args)
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_symbol(
        multi_root, "USDJPY", "H1", start="2025-04-04", end="2025-04-07"
    ).collect()
    check_summary_matches(result.stdout, frame, "H1", "USDJPY")
    assert "(pip = 0.01)" in result.stdout


def test_load_symbol_directory(multi_root: Path) -> None:
    result = invoke("load", multi_root / "EURUSD", "-t", "M5")
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_symbol(multi_root, "EURUSD", "M5").collect()
    assert number(result.stdout, "rows") == frame.height


def test_load_one_file(data_root: Path) -> None:
    path = data_root / "EURUSD" / "EURUSD_M5_BID.parquet"
    result = invoke("load", path)
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_candles(path).collect()
    assert number(result.stdout, "rows") == frame.height
    check_summary_matches(result.stdout, frame, "M5", "EURUSD")
    assert "EURUSD M5" in result.stdout
    assert field(result.stdout, "spread").startswith("-")


def test_load_file_without_timeframe_in_name(data_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "prices.parquet"
    shutil.copy(data_root / "EURUSD" / "EURUSD_M5_BID.parquet", path)
    result = invoke("load", path, "-t", "M5", "--no-market-hours")
    assert result.exit_code == 0, result.output
    frame = omega_pl.scan_candles(path, timeframe="M5", market_hours=False).collect()
    assert number(result.stdout, "rows") == frame.height
    assert "--no-market-hours" in field(result.stdout, "filters")


def test_symbol_without_pip_rule(tmp_path: Path) -> None:
    omega_pl.datasets.write_sample_data(
        tmp_path, symbols=["US30"], timeframes=["H1"], start=START, end=END
    )
    frame = omega_pl.scan_symbol(tmp_path, "US30", "H1").collect()
    spread = summarize(frame, "H1", pip=1.0)
    result = invoke("load", tmp_path)
    assert result.exit_code == 0, result.output
    reported = field(result.stdout, "spread min / median / max")
    assert reported.startswith(f"{spread.spread_min:,.2f} / ")
    assert "price units (no pip rule for US30; see --pip)" in reported
    result = invoke("load", tmp_path, "--pip", "0.01")
    assert result.exit_code == 0, result.output
    reported = field(result.stdout, "spread min / median / max")
    assert reported.startswith(f"{spread.spread_min * 100:,.2f} / ")
    assert "pips (pip = 0.01)" in reported


def test_load_sample_data(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMEGA_PL_CACHE", str(cache_dir))
    result = invoke("load")
    assert result.exit_code == 0, result.output
    assert "Using sample data (EURUSD M5" in result.stdout
    root = omega_pl.datasets.sample_data_root()
    assert root.parent == cache_dir
    frame = omega_pl.scan_symbol(root, "EURUSD", "M5").collect()
    check_summary_matches(result.stdout, frame, "M5", "EURUSD")


# ---------------------------------------------------------------------------
# load --output


@pytest.mark.parametrize(
    ("options", "kwargs"),
    [
        ((), {}),
        (("--start", "2025-04-04 12:00", "--end", "2025-04-07"), WINDOW),
        (("--no-market-hours",), {"market_hours": False, "clean_daily": False}),
        (("--normalize",), {"normalize": True}),
    ],
)  # fmt: skip
def test_output_equals_scan_symbol(
    data_root: Path, tmp_path: Path, options: Sequence[str], kwargs: dict[str, Any]
) -> None:
    target = tmp_path / "out.parquet"
    result = invoke("load", data_root, "-s", "EURUSD", "-t", "M5", *options, "-o", target)
    assert result.exit_code == 0, result.output
    expected = omega_pl.scan_symbol(data_root, "EURUSD", "M5", **kwargs).collect()
    assert_frame_equal(pl.read_parquet(target), expected)
    assert field(result.stdout, "written") == str(target)
    assert temp_files(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_output_replaces_existing_file(data_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"old")
    result = invoke("load", data_root, "-o", target)
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(target).height == number(result.stdout, "rows")
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def failing_writer(exc: BaseException) -> Callable[..., None]:
    """A ``DataFrame.write_parquet`` that writes half a file, then fails with ``exc``."""

    def write(self: pl.DataFrame, file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PAR1 half a parquet file")
        file.flush()
        raise exc

    return write


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 2),
        (KeyboardInterrupt(), 130),
    ],
)
def test_interrupted_write_leaves_old_output_and_no_temp_file(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int
) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"old")
    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing_writer(exc))
    result = invoke("load", data_root, "-o", target)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    if code == 2:
        assert_user_error(result, contains="No space left on device")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_failed_write_of_new_file_leaves_nothing(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing_writer(OSError(errno.EIO, "I/O")))
    result = invoke("load", data_root, "-o", tmp_path / "new.parquet")
    assert_user_error(result)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# user errors: exit code 2, one line on stderr, no traceback


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bad")
    # A CSV root whose timestamps break deep in the file (found only at collect()).
    deep = base / "deep"
    omega_pl.datasets.write_sample_data(
        deep, symbols=["EURUSD"], timeframes=["M5"], fmt="csv", start=START, end=END
    )
    bid = deep / "EURUSD" / "EURUSD_M5_BID.csv"
    lines = bid.read_text().splitlines()
    assert len(lines) > 1000
    lines[900] = "not a time" + lines[900][lines[900].index(",") :]
    bid.write_text("\n".join(lines) + "\n")
    first = base / "EURUSD_M5_BID.csv"
    first.write_text("UTC time,Open,High,Low,Close,Volume\n31/02/2025 xx,1,1,1,1,1\n")
    no_time = base / "EURUSD_H1_BID.csv"
    no_time.write_text("when,Open,High,Low,Close,Volume\n2025-01-01,1,1,1,1,1\n")
    corrupt = base / "EURUSD_D1_BID.parquet"
    corrupt.write_text("this is not parquet")
    unnamed = base / "prices.parquet"
    shutil.copy(data_root / "EURUSD" / "EURUSD_M5_BID.parquet", unnamed)
    one_side = base / "oneside"
    (one_side / "EURUSD").mkdir(parents=True)
    shutil.copy(data_root / "EURUSD" / "EURUSD_M5_BID.parquet", one_side / "EURUSD")
    empty = base / "empty"
    empty.mkdir()
    return {
        "deep": deep,
        "first": first,
        "no_time": no_time,
        "corrupt": corrupt,
        "unnamed": unnamed,
        "one_side": one_side,
        "empty": empty,
    }


ERROR_CASES: list[tuple[str, tuple[str, ...], str]] = [
    ("data", ("-t", "X5"), "unknown timeframe 'X5'"),
    ("data", ("--start", "2025-13-01"), "--start"),
    ("data", ("--end", "tomorrow"), "--end"),
    ("data", ("--start", "2025-04-08", "--end", "2025-04-04"), "is after end"),
    ("data", ("--pip", "-1"), "--pip must be positive"),
    ("data", ("--pip", "abc"), "--pip"),
    ("data", ("--bogus",), "No such option"),
    ("data", ("-s",), "requires an argument"),
    ("data", ("-s", "GBPUSD"), "no symbol directory GBPUSD"),
    ("data", ("-t", "H1"), "no H1 files for EURUSD"),
    ("data", ("-o", "/nonexistent-dir/out.parquet"), "does not exist"),
    ("data", ("-o", "."), "is a directory"),
    ("multi", (), "holds 2 symbols (EURUSD, USDJPY)"),
    ("multi", ("-s", "EURUSD"), "2 timeframes"),
    ("missing", (), "no such file or directory"),
    ("deep", (), 'unparseable timestamp "not a time"'),
    ("first", (), "unparseable timestamp"),
    ("no_time", (), "no timestamp column"),
    ("corrupt", (), "parquet"),
    ("unnamed", (), "pass --timeframe/-t"),
    ("one_side", (), "no ASK file for EURUSD M5"),
    ("empty", (), "no symbol directories"),
]


@pytest.mark.parametrize(("where", "args", "message"), ERROR_CASES)
def test_user_errors(
    where: str,
    args: tuple[str, ...],
    message: str,
    data_root: Path,
    multi_root: Path,
    bad_inputs: dict[str, Path],
    tmp_path: Path,
) -> None:
    paths = {"data": data_root, "multi": multi_root, "missing": tmp_path / "nope", **bad_inputs}
    result = invoke("load", paths[where], *args)
    line = assert_user_error(result, contains=message)
    assert result.stdout == ""
    assert "omega: " not in line


def test_unknown_command_is_a_user_error() -> None:
    assert_user_error(invoke("slicer"), contains="No such command")


def test_sample_data_unknown_symbol_is_a_user_error(cache_dir: Path) -> None:
    result = invoke("load", "-s", "EURCHF", env={"OMEGA_PL_CACHE": str(cache_dir)})
    assert_user_error(result, contains="EURUSD, GBPUSD, USDJPY, XAUUSD")


# ---------------------------------------------------------------------------
# help and version


def test_app_help_and_bare_omega() -> None:
    for args in (("--help",), ("-h",), ()):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "load" in result.stdout
        assert "--version" in result.stdout
        assert "Examples" in result.stdout


def test_load_help_explains_every_option_with_an_example() -> None:
    stdout, _ = checked_help("load")
    for text in ("PATH", "Examples", "omega load data", "-o"):
        assert text in stdout


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"omega {omega_pl.__version__}"


# ---------------------------------------------------------------------------
# the installed console script


def omega_executable() -> str:
    scripts = Path(sysconfig.get_path("scripts")) / "omega"
    found = str(scripts) if scripts.is_file() else shutil.which("omega")
    if found is None:
        pytest.fail("the 'omega' console script is not installed (pip install -e ./cli)")
    return found


def run_omega(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMEGA_PL_CACHE": str(cache), "COLUMNS": "300"}
    env.pop("OMEGA_DEBUG", None)
    return subprocess.run(
        [omega_executable(), *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_console_script_help(tmp_path: Path) -> None:
    proc = run_omega("load", "--help", cache=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "--timeframe" in proc.stdout
    assert proc.stderr == ""


def test_console_script_runs_on_sample_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "eurusd.parquet"
    proc = run_omega("load", "-o", str(out), cache=tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "Using sample data" in proc.stdout
    assert proc.stderr == ""  # the spinner is silent when stderr is not a terminal
    monkeypatch.setenv("OMEGA_PL_CACHE", str(tmp_path / "cache"))
    sample = omega_pl.datasets.sample_data_root()  # the copy the subprocess generated
    assert sample.parent == tmp_path / "cache"
    expected = omega_pl.scan_symbol(sample, "EURUSD", "M5").collect()
    assert_frame_equal(pl.read_parquet(out), expected)
    assert number(proc.stdout, "rows") == expected.height


def test_console_script_user_error(tmp_path: Path) -> None:
    proc = run_omega("load", "-t", "Q1", cache=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("error: unknown timeframe 'Q1'")


def test_module_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "omega_cli.main", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"omega {omega_pl.__version__}"
