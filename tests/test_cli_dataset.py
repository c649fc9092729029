"""Tests for ``omega dataset`` (driven in-process with Typer's ``CliRunner``).

Expected datasets come from the library: ``omega_pl.build_dataset``, whose own
results are checked in ``test_universe.py``. One test runs ``--engine ray``
end to end, starting (and shutting down) its own local Ray instance.
"""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from rich.console import Console
from typer.testing import Result

import omega_pl
from omega_cli.dataset import _Tracker
from omega_pl.datasets import SAMPLE_SYMBOLS
from omega_pl.universe import BuildEvent, SymbolReport
from tests.cli_helpers import assert_user_error, checked_help, field, invoke

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")
START, END = "2025-04-03", "2025-04-09"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three symbols, M5 and H1 files (Parquet)."""
    base = tmp_path_factory.mktemp("root")
    return omega_pl.datasets.write_sample_data(
        base, symbols=list(SYMBOLS), timeframes=["M5", "H1"], start=START, end=END
    )


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """EURUSD fine, GBPUSD's bid file corrupt, USDJPY without an ask file."""
    base = omega_pl.datasets.write_sample_data(
        tmp_path / "broken", symbols=list(SYMBOLS), timeframes=["M5"], start=START, end=END
    )
    (base / "GBPUSD" / "GBPUSD_M5_BID.parquet").write_bytes(b"PAR1 truncated")
    (base / "USDJPY" / "USDJPY_M5_ASK.parquet").unlink()
    return base


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert "error" not in result.stderr.lower(), result.stderr
    assert "Traceback" not in result.output
    return result.stdout


def read(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out, hive_partitioning=True).sort("symbol", "time")


def digests(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The per-symbol table: symbol -> its other cells."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if cells and cells[0] in (*SYMBOLS, *SAMPLE_SYMBOLS) and len(cells) >= 7:
            rows[cells[0]] = cells[1:]
    return rows


# ---------------------------------------------------------------------------
# successful runs


def test_sample_data_by_default(cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    stdout = ok(invoke("dataset", "-o", out, "-t", "M15", cache=cache_dir))
    assert "Using sample data" in stdout and "pass ROOT" in stdout
    assert sorted(p.name for p in out.iterdir()) == [f"symbol={s}" for s in SAMPLE_SYMBOLS]
    rows = table_rows(stdout)
    assert list(rows) == list(SAMPLE_SYMBOLS)
    frame = read(out)
    for symbol, cells in rows.items():
        assert cells[0] == f"{frame.filter(pl.col('symbol') == symbol).height:,}"
        assert cells[-1] == "ok"
    assert field(stdout, "symbols") == f"{len(SAMPLE_SYMBOLS)} of {len(SAMPLE_SYMBOLS)} written"
    assert field(stdout, "rows") == f"{frame.height:,}"
    assert field(stdout, "source") == "sample data (synthetic)"
    assert field(stdout, "engine") == "local"


def test_dataset_equals_build_dataset(root: Path, tmp_path: Path) -> None:
    spec = tmp_path / "specs.toml"
    spec.write_text('[[indicator]]\nname = "bollinger"\nperiod = 10\nalias = "bb"\n')
    args = ("-s", "EURUSD,usdjpy", "-t", "M5", "--higher", "H1", "-i", "atr:14", "-i", "ema:5")
    stdout = ok(invoke("dataset", root, "-o", tmp_path / "cli", *args, "--spec", spec))
    report = omega_pl.build_dataset(
        root, tmp_path / "api", symbols=["EURUSD", "USDJPY"], timeframe="M5", higher=["H1"],
        indicators=["atr:14", "ema:5", spec],
    )  # fmt: skip
    assert digests(tmp_path / "cli") == digests(tmp_path / "api")
    assert list(table_rows(stdout)) == ["EURUSD", "USDJPY"]
    assert field(stdout, "files") == str(len(report.files))
    assert field(stdout, "indicators") == f"atr:14, ema:5, {spec}"
    assert field(stdout, "columns").startswith(f"{len(report.columns)} + symbol, year: time, ")
    assert field(stdout, "source") == str(root)


def test_window_and_no_market_hours(root: Path, tmp_path: Path) -> None:
    args = ("-s", "GBPUSD", "-t", "H1", "--start", "2025-04-04", "--end", "2025-04-07")
    ok(invoke("dataset", root, "-o", tmp_path / "ds", *args, "--no-market-hours"))
    lf = omega_pl.scan_symbol(
        root, "GBPUSD", "H1", start="2025-04-04", end="2025-04-07",
        market_hours=False, clean_daily=False,
    )  # fmt: skip
    assert_frame_equal(read(tmp_path / "ds").drop("symbol", "year"), lf.collect())


def test_overwrite_is_needed_and_idempotent(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    args = ("dataset", root, "-o", out, "-t", "M5", "-s", "EURUSD")
    ok(invoke(*args))
    before = digests(out)
    assert_user_error(invoke(*args), contains="already holds 1 of the symbols (EURUSD)")
    ok(invoke(*args, "--overwrite"))
    assert digests(out) == before


def test_failed_symbols_exit_1_and_leave_nothing(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    result = invoke("dataset", broken, "-o", out, "-t", "M5", "-i", "rsi")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = result.stderr.splitlines()
    gbp = broken / "GBPUSD" / "GBPUSD_M5_BID.parquet"
    assert errors[0].startswith("error: GBPUSD failed: FileFormatError: ") and str(gbp) in errors[0]
    assert errors[1].startswith("error: USDJPY failed: CandleFileNotFoundError: no ASK file")
    assert errors[2].startswith("error: built 1 of 3 symbol(s)")
    assert errors[2].endswith("failed: GBPUSD, USDJPY")
    assert len(errors) == 3
    rows = table_rows(result.stdout)
    assert rows["EURUSD"][-1] == "ok"
    assert rows["GBPUSD"][5] == "failed:" and rows["USDJPY"][5] == "failed:"
    assert field(result.stdout, "symbols") == "1 of 3 written, 2 failed (GBPUSD, USDJPY)"
    assert sorted(p.name for p in out.iterdir()) == ["symbol=EURUSD"]


def test_verbose_logs_every_symbol(root: Path, tmp_path: Path) -> None:
    result = invoke("dataset", root, "-o", tmp_path / "ds", "-t", "H1", "-v")
    stdout = ok(result)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("info: building 3 symbol(s) (EURUSD, GBPUSD, USDJPY) H1 into ")
    for symbol in SYMBOLS:
        assert f"info: {symbol}: building" in lines
        assert any(line.startswith(f"info: {symbol}: ") and " rows, 1 file(s)" in line
                   for line in lines)  # fmt: skip
    assert lines[-1].startswith("info: built 3 of 3 symbol(s)")
    assert list(table_rows(stdout)) == list(SYMBOLS)


def test_progress_bar_on_a_terminal() -> None:
    buffer = io.StringIO()
    tracker = _Tracker(Console(file=buffer, force_terminal=True, width=160), total=2)
    with tracker.progress:
        tracker(BuildEvent("EURUSD", "running"))
        tracker(BuildEvent("GBPUSD", "running"))
        tracker(BuildEvent("EURUSD", "done", SymbolReport("EURUSD", rows=1234)))
        tracker.progress.refresh()
        assert "running: GBPUSD" in buffer.getvalue()
        tracker(BuildEvent("GBPUSD", "failed", SymbolReport("GBPUSD", error="x")))
        tracker.progress.refresh()
    text = buffer.getvalue()
    assert "Building" in text and "done 1 · failed 1 · 1,234 rows" in text
    assert (tracker.done, tracker.failed, tracker.rows, tracker.running) == (1, 1, 1234, [])


def test_ray_engine(root: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the dev extra installs ray")
    args = ("-t", "M5", "--higher", "H1", "-i", "atr:14")
    result = invoke("dataset", root, "-o", tmp_path / "ray", *args, "--engine", "ray",
                    "--workers", "2")  # fmt: skip
    stdout = ok(result)
    assert field(stdout, "engine") == "ray"
    ok(invoke("dataset", root, "-o", tmp_path / "local", *args))
    assert digests(tmp_path / "ray") == digests(tmp_path / "local")
    import ray

    assert not ray.is_initialized()  # the instance it started is shut down


def test_ray_engine_without_ray(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    result = invoke("dataset", root, "-o", tmp_path / "ds", "--engine", "ray")
    assert_user_error(
        result,
        contains="engine='ray' needs ray, which is not installed: pip install \"omega-pl[ray]\"",
    )
    assert not (tmp_path / "ds").exists()


# ---------------------------------------------------------------------------
# user errors: exit code 2, one line, nothing written


ERRORS: list[tuple[tuple[str, ...], str]] = [
    (("-t", "X5"), "unknown timeframe 'X5'"),
    (("-t", "H1", "--higher", "M5"), "--higher M5 is shorter than the timeframe H1"),
    (("--higher", ","), "--higher is empty"),
    (("-s", " , "), "--symbols is empty"),
    (("-s", "EURUSD/x"), "cannot be a partition name"),
    (("-i", "emaa"), "unknown indicator 'emaa' (did you mean 'ema'?)"),
    (("-i", "atr:0"), "'period' must be a positive integer"),
    (("--spec", "/nonexistent/spec.toml"), "spec file /nonexistent/spec.toml not found"),
    (("--start", "2025-13-01"), "--start"),
    (("--start", "2025-04-08", "--end", "2025-04-04"), "is after end"),
    (("--engine", "spark"), "'spark' is not one of 'local', 'ray'"),
    (("--ray-address", "auto"), "--ray-address needs --engine ray"),
    (("--workers", "2"), "--workers needs --engine ray"),
    (("--engine", "ray", "--workers", "0"), "--workers"),
    (("--bogus",), "No such option"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_option_errors(root: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = tmp_path / "ds"
    assert_user_error(invoke("dataset", root, "-o", out, *args), contains=message)
    assert not out.exists()


def test_input_and_output_errors(root: Path, tmp_path: Path) -> None:
    assert_user_error(invoke("dataset", root), contains="Missing option '--output'")
    missing = tmp_path / "missing"
    assert_user_error(invoke("dataset", missing, "-o", tmp_path / "ds"), contains=f"ROOT {missing}")
    assert_user_error(
        invoke("dataset", tmp_path, "-o", tmp_path / "ds"), contains="no symbol directories"
    )
    (tmp_path / "file").write_text("x")
    assert_user_error(
        invoke("dataset", root, "-o", tmp_path / "file"), contains="is not a directory"
    )
    spec = tmp_path / "bad.toml"
    spec.write_text('[[indicator]]\nname = "atr"\nperod = 3\n')
    assert_user_error(
        invoke("dataset", root, "-o", tmp_path / "ds", "--spec", spec),
        contains=f"{spec}: [[indicator]] #1: indicator atr(perod=3): unknown parameter(s) 'perod'",
    )
    assert not (tmp_path / "ds").exists()


# ---------------------------------------------------------------------------
# help


def test_help_explains_every_option_with_an_example() -> None:
    text, names = checked_help("dataset")
    assert names == {
        "output", "root", "symbols", "timeframe", "higher", "indicator", "spec", "start", "end",
        "no_market_hours", "engine", "ray_address", "workers", "overwrite", "verbose",
    }  # fmt: skip
    for words in ("symbol=SYMBOL/year=YYYY/part-0.parquet", "hive_partitioning=True",
                  "--engine ray --ray-address auto", 'pip install "omega-pl[ray]"',
                  "Exit codes"):  # fmt: skip
        assert words in text, words


def test_listed_in_app_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "dataset" in result.stdout and "omega dataset data -o dataset" in result.stdout
