"""Tests for ``omega_pl.build_dataset`` (omega_pl.universe): layout, plan, engines, safety.

Expected frames come from the single-symbol API (``scan_symbol`` /
``scan_aligned`` + ``with_indicators``), whose own numbers are checked in
their own test modules. The Ray tests run on one real local Ray instance
shared by this module (no mocks); the worker-kill test really kills a Ray
worker process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omega_pl
from omega_pl import universe
from omega_pl.errors import (
    CandleFileNotFoundError,
    MissingExtraError,
    OmegaError,
    ParameterError,
    TimeframeError,
    WindowError,
)
from omega_pl.universe import BuildEvent, DatasetBuildError, DatasetReport
from omega_pl.universe import task as task_module
from omega_pl.universe.writer import TMP_PREFIX

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
START, END = "2024-12-23", "2025-01-08"  # over the new year: two year partitions
SPECS = ["atr:14", "ema:20", {"name": "bollinger", "period": 20, "alias": "bb"}, "rsi"]
OPTIONS: dict[str, Any] = {"timeframe": "M5", "higher": ["H1"], "indicators": SPECS}


# ---------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four symbols, M5 and H1 files (Parquet), over two calendar years."""
    base = tmp_path_factory.mktemp("root")
    return omega_pl.datasets.write_sample_data(
        base, symbols=list(SYMBOLS), timeframes=["M5", "H1"], start=START, end=END
    )


@pytest.fixture(scope="module")
def local(root: Path, tmp_path_factory: pytest.TempPathFactory) -> DatasetReport:
    """The reference build: every symbol, H1 aligned, indicators, engine='local'."""
    return omega_pl.build_dataset(root, tmp_path_factory.mktemp("local") / "ds", **OPTIONS)


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    """One local Ray instance (2 CPUs) for the module; build_dataset joins it."""
    ray = pytest.importorskip("ray", reason="the dev extra installs ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def broken_root(tmp: Path) -> Path:
    """GBPUSD's M5 bid file is corrupt, USDJPY has no M5 ask file; EURUSD is fine."""
    base = omega_pl.datasets.write_sample_data(
        tmp / "broken", symbols=["EURUSD", "GBPUSD", "USDJPY"], timeframes=["M5"],
        start="2025-01-06", end="2025-01-08",
    )  # fmt: skip
    (base / "GBPUSD" / "GBPUSD_M5_BID.parquet").write_bytes(b"PAR1 not really parquet")
    (base / "USDJPY" / "USDJPY_M5_ASK.parquet").unlink()
    return base


def digests(out: Path) -> dict[str, str]:
    """SHA-256 of every file under ``out``, by relative path (hidden files included)."""
    return {
        path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def leftovers(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(TMP_PREFIX)] if out.exists() else []


def expected(root: Path, symbol: str, **options: Any) -> pl.DataFrame:
    """One symbol's frame as the single-symbol API builds it."""
    scan = omega_pl.scan_aligned(root, symbol, options["timeframe"], higher=options["higher"])
    return omega_pl.with_indicators(scan.frame, options["indicators"]).collect()


# ---------------------------------------------------------------------------
# layout and content


def test_layout_is_hive_partitioned_by_symbol_and_year(local: DatasetReport) -> None:
    out = local.out
    assert local.ok and local.engine == "local"
    assert [s.symbol for s in local.symbols] == list(SYMBOLS)
    for s in local.symbols:
        names = [p.relative_to(out).as_posix() for p in s.files]
        assert names == [
            f"symbol={s.symbol}/year=2024/part-0.parquet",
            f"symbol={s.symbol}/year=2025/part-0.parquet",
        ]
        assert all(p.is_file() for p in s.files)
        assert s.rows == sum(pl.read_parquet(p).height for p in s.files) > 0
        assert s.first is not None and s.last is not None
        assert s.first.year == 2024 and s.last.year == 2025
        assert s.seconds >= s.compute_seconds > 0 and s.write_seconds > 0
        assert s.error is None and s.temporary is None
    assert sorted(p.name for p in out.iterdir()) == [f"symbol={s}" for s in SYMBOLS]
    assert local.rows == sum(s.rows for s in local.symbols)
    assert local.files == tuple(p for s in local.symbols for p in s.files)
    totals = local.to_frame()
    assert totals["symbol"].to_list() == list(SYMBOLS)
    assert totals["rows"].to_list() == [s.rows for s in local.symbols]
    assert totals["error"].null_count() == len(SYMBOLS)
    assert local.raise_for_errors() is local


def test_each_symbol_is_the_single_symbol_plan(root: Path, local: DatasetReport) -> None:
    dataset = pl.scan_parquet(local.out, hive_partitioning=True)
    for symbol in SYMBOLS:
        got = dataset.filter(pl.col("symbol") == symbol).sort("time").collect()
        want = expected(root, symbol, **OPTIONS)
        assert_frame_equal(got.drop("symbol", "year"), want)
        assert got["year"].to_list() == want["time"].dt.year().to_list()
        report = next(s for s in local.symbols if s.symbol == symbol)
        assert (report.rows, report.first, report.last) == (
            want.height,
            want["time"][0],
            want["time"][-1],
        )
    assert tuple(dataset.drop("symbol", "year").collect_schema().names()) == local.columns


def test_scan_prunes_on_symbol_and_year(local: DatasetReport) -> None:
    query = pl.scan_parquet(local.out, hive_partitioning=True).filter(
        (pl.col("symbol") == "USDJPY") & (pl.col("year") == 2025)
    )
    plan = query.explain()
    assert "symbol=USDJPY/year=2025/part-0.parquet" in plan
    assert "symbol=EURUSD" not in plan and "year=2024" not in plan
    want = pl.read_parquet(local.out / "symbol=USDJPY" / "year=2025" / "part-0.parquet")
    assert_frame_equal(query.collect().drop("symbol", "year"), want)


def test_without_higher_timeframes_and_without_market_hours(root: Path, tmp_path: Path) -> None:
    window = {"start": "2024-12-30", "end": "2025-01-03"}
    report = omega_pl.build_dataset(
        root, tmp_path / "ds", symbols="eurusd", timeframe="H1", indicators="ema:5",
        market_hours=False, **window,
    )  # fmt: skip
    assert [s.symbol for s in report.symbols] == ["EURUSD"]  # the directory's spelling
    got = pl.read_parquet(tmp_path / "ds", hive_partitioning=True).sort("time")
    lf = omega_pl.scan_symbol(root, "EURUSD", "H1", market_hours=False, clean_daily=False, **window)
    assert_frame_equal(got.drop("symbol", "year"), omega_pl.with_indicators(lf, "ema:5").collect())


def test_spec_file_is_read_like_with_indicators_reads_it(root: Path, tmp_path: Path) -> None:
    spec = tmp_path / "specs.toml"
    spec.write_text(
        'source = "ask_close"\n[[indicator]]\nname = "atr"\nperiod = 10\nreseed = true\n'
        '[[indicator]]\nname = "ema"\nperiod = 5\nsource = "bid_close"\n'
    )
    report = omega_pl.build_dataset(
        root, tmp_path / "ds", symbols=["GBPUSD"], timeframe="M5", indicators=[str(spec), "rsi"]
    )
    got = pl.read_parquet(tmp_path / "ds", hive_partitioning=True).sort("time")
    lf = omega_pl.scan_symbol(root, "GBPUSD", "M5")
    want = omega_pl.with_indicators(lf, [spec, "rsi"]).collect()
    assert want.columns[-3:] == ["ask_close_atr_10", "bid_close_ema_5", "bid_close_rsi_14"]
    assert_frame_equal(got.drop("symbol", "year"), want)
    assert report.columns == tuple(want.columns)


def test_with_indicators_takes_a_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "specs.toml"
    spec.write_text('source = "ask_close"\n[[indicator]]\nname = "ema"\nperiod = 3\n')
    frame = omega_pl.datasets.generate_candles("EURUSD", "M5", end="2025-03-18")
    by_path = omega_pl.with_indicators(frame, spec)
    by_text = omega_pl.with_indicators(frame, [str(spec)])
    by_dict = omega_pl.with_indicators(frame, {"name": "ema", "period": 3, "source": "ask_close"})
    assert_frame_equal(by_path, by_dict)
    assert_frame_equal(by_text, by_dict)
    # source= overrides the file's default source, as omega indicators --source does
    assert omega_pl.with_indicators(frame, spec, source="bid_close").columns[-1] == (
        "bid_close_ema_3"
    )
    assert omega_pl.read_spec_file(spec) == ("ask_close", [{"name": "ema", "period": 3}])
    with pytest.raises(ParameterError, match=r"spec file .*missing\.toml not found"):
        omega_pl.with_indicators(frame, tmp_path / "missing.toml")
    spec.write_text('[[indicator]]\nname = "atr"\nperod = 3\n')
    with pytest.raises(ParameterError, match=r"specs.toml: \[\[indicator\]\] #1: .*'perod'"):
        omega_pl.read_spec_file(spec)


# ---------------------------------------------------------------------------
# failures, overwrite, temporary directories


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_failing_symbol_does_not_stop_the_others(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    if engine == "ray":
        request.getfixturevalue("ray_instance")
    base = broken_root(tmp_path)
    out = tmp_path / "ds"
    events: list[BuildEvent] = []
    with caplog.at_level(logging.INFO, logger="omega_pl.dataset"):
        report = omega_pl.build_dataset(
            base, out, timeframe="M5", indicators="atr:14", engine=engine,
            progress=events.append,
        )  # fmt: skip
    assert not report.ok
    assert [s.symbol for s in report.succeeded] == ["EURUSD"]
    gbp, jpy = report.failed
    assert gbp.symbol == "GBPUSD" and gbp.rows == 0 and gbp.files == ()
    # a truncated Parquet file is omega_pl's own FileFormatError, which names the file
    assert gbp.error_type == "FileFormatError"
    assert f"{base / 'GBPUSD' / 'GBPUSD_M5_BID.parquet'}: " in (gbp.error or "")
    assert jpy.error_type == "CandleFileNotFoundError"
    assert (jpy.error or "").startswith("CandleFileNotFoundError: no ASK file for USDJPY M5")
    assert jpy.details is not None and "Traceback" in jpy.details
    # nothing of the failed symbols, no temporary directory left
    assert sorted(p.name for p in out.iterdir()) == ["symbol=EURUSD"]
    # logged: which symbol failed and why, then the total
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert sorted(errors[:-1]) == [f"GBPUSD failed: {gbp.error}", f"USDJPY failed: {jpy.error}"]
    assert errors[-1].startswith("built 1 of 3 symbol(s)")
    assert errors[-1].endswith("failed: GBPUSD, USDJPY")
    # progress: each symbol runs, then is done or failed
    for symbol, final in (("EURUSD", "done"), ("GBPUSD", "failed"), ("USDJPY", "failed")):
        statuses = [e.status for e in events if e.symbol == symbol]
        assert statuses == ["running", final], (symbol, statuses)
    with pytest.raises(DatasetBuildError, match=r"2 of 3 symbol\(s\) failed"):
        report.raise_for_errors()


def test_an_empty_window_is_a_failure_not_a_silent_skip(root: Path, tmp_path: Path) -> None:
    report = omega_pl.build_dataset(
        root, tmp_path / "ds", symbols=["EURUSD"], timeframe="M5",
        start="2024-12-28", end="2024-12-28",  # a Saturday
    )  # fmt: skip
    (only,) = report.symbols
    assert only.error == (
        "TimelineError: EURUSD M5: no bars in the window start=2024-12-28, end=2024-12-28"
    )
    assert list((tmp_path / "ds").iterdir()) == []


def test_existing_symbols_need_overwrite_and_overwrite_is_idempotent(
    root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ds"
    options: dict[str, Any] = {"symbols": ["EURUSD", "GBPUSD"], **OPTIONS}
    first = omega_pl.build_dataset(root, out, **options)
    before = digests(out)
    with pytest.raises(
        ParameterError, match=r"already holds 1 of the symbols \(EURUSD\).*overwrite"
    ):
        omega_pl.build_dataset(root, out, **{**options, "symbols": ["USDJPY", "EURUSD"]})
    assert digests(out) == before  # nothing was done, not even USDJPY
    again = omega_pl.build_dataset(root, out, overwrite=True, **options)
    assert digests(out) == before
    assert [(s.symbol, s.rows, s.files) for s in again.symbols] == [
        (s.symbol, s.rows, s.files) for s in first.symbols
    ]
    assert leftovers(out) == []


def test_overwrite_keeps_the_old_copy_when_the_symbol_fails(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    options: dict[str, Any] = {"symbols": ["EURUSD"], "timeframe": "M5"}
    omega_pl.build_dataset(root, out, **options)
    before = digests(out)
    report = omega_pl.build_dataset(root, out, overwrite=True, indicators="atr:14", **options,
                                    start="2024-12-28", end="2024-12-28")  # fmt: skip
    assert not report.ok
    assert digests(out) == before


def test_leftovers_of_an_interrupted_build_are_cleaned(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "ds"
    stale = out / f"{TMP_PREFIX}0123456789ab-cdef01234567-EURUSD" / "year=2025"
    stale.mkdir(parents=True)
    (stale / "part-0.parquet").write_bytes(b"half")
    other = out / f"{TMP_PREFIX}0123456789ab-cdef01234567-GBPUSD"  # not built now: left alone
    other.mkdir()
    with caplog.at_level(logging.WARNING, logger="omega_pl.dataset"):
        omega_pl.build_dataset(root, out, symbols=["EURUSD"], timeframe="M5")
    assert sorted(p.name for p in out.iterdir()) == [other.name, "symbol=EURUSD"]
    assert any("left behind by an interrupted build" in r.getMessage() for r in caplog.records)


def test_a_symbol_renamed_aside_is_recovered(root: Path, tmp_path: Path) -> None:
    """A build killed between the two renames of an overwrite keeps the old copy."""
    out = tmp_path / "ds"
    omega_pl.build_dataset(root, out, symbols=["EURUSD"], timeframe="M5")
    before = digests(out)
    aside = out / f"{TMP_PREFIX}0123456789ab-cdef01234567-replaced-EURUSD"
    (out / "symbol=EURUSD").rename(aside)
    with pytest.raises(ParameterError, match="already holds"):  # recovered, so it exists again
        omega_pl.build_dataset(root, out, symbols=["EURUSD"], timeframe="M5")
    assert digests(out) == before


def test_an_interrupt_leaves_completed_symbols_only(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = task_module.write_partitions

    def interrupt_on_gbpusd(frame: pl.DataFrame, directory: Path) -> list[Path]:
        files = real(frame, directory)
        if directory.name.endswith("-GBPUSD"):
            raise KeyboardInterrupt
        return files

    monkeypatch.setattr(task_module, "write_partitions", interrupt_on_gbpusd)
    out = tmp_path / "ds"
    with pytest.raises(KeyboardInterrupt):
        omega_pl.build_dataset(root, out, symbols=["EURUSD", "GBPUSD", "USDJPY"], timeframe="M5")
    assert sorted(p.name for p in out.iterdir()) == ["symbol=EURUSD"]


# ---------------------------------------------------------------------------
# argument errors: raised before any work


def _bad(root: Path, out: Path) -> list[tuple[dict[str, Any], type[OmegaError], str]]:
    spec = out.parent / "bad.toml"
    spec.write_text("[[indicator]]\nname = 3\n")
    return [
        ({"engine": "spark"}, ParameterError, "engine must be 'local' or 'ray'"),
        ({"workers": 2}, ParameterError, "workers applies to engine='ray' only"),
        ({"ray_address": "auto"}, ParameterError, "ray_address applies to engine='ray' only"),
        ({"engine": "ray", "workers": 0}, ParameterError, "workers must be a positive"),
        ({"timeframe": "X5"}, TimeframeError, "X5"),
        ({"timeframe": "H1", "higher": ["M5"]}, OmegaError, "M5"),
        ({"start": "2025-02-01", "end": "2025-01-01"}, WindowError, "is after end"),
        ({"start": "someday"}, WindowError, "start"),
        ({"indicators": ["emaa:3"]}, ParameterError, "did you mean 'ema'"),
        ({"indicators": ["ema_stepwise:3"]}, ParameterError, "missing required"),
        ({"indicators": ["atr:0"]}, ParameterError, "'period' must be a positive integer"),
        ({"indicators": [str(spec)]}, ParameterError, "bad.toml: [[indicator]] #1"),
        ({"indicators": 3}, ParameterError, "indicators"),
        ({"symbols": []}, ParameterError, "symbols is empty"),
        ({"symbols": ["../EURUSD"]}, ParameterError, "cannot be a partition name"),
        ({"market_hours": "yes"}, ParameterError, "market_hours"),
    ]


def test_argument_errors_come_before_any_work(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    for kwargs, error, message in _bad(root, out):
        with pytest.raises(error) as info:
            omega_pl.build_dataset(root, out, **kwargs)
        assert message in str(info.value), (kwargs, str(info.value))
        assert not out.exists(), kwargs
    with pytest.raises(CandleFileNotFoundError, match="is not a directory"):
        omega_pl.build_dataset(tmp_path / "nowhere", out)
    with pytest.raises(CandleFileNotFoundError, match="no symbol directories"):
        omega_pl.build_dataset(tmp_path, out)
    out.write_text("a file")
    with pytest.raises(ParameterError, match="exists and is not a directory"):
        omega_pl.build_dataset(root, out)


def test_ray_engine_without_ray_names_the_extra(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(MissingExtraError, match=r'pip install "omega-pl\[ray\]"') as info:
        omega_pl.build_dataset(root, tmp_path / "ds", engine="ray")
    assert info.value.extra == "ray"
    assert "engine='ray'" in str(info.value)
    assert not (tmp_path / "ds").exists()


# ---------------------------------------------------------------------------
# the Ray engine: a real local Ray instance


def test_ray_build_is_identical_to_the_local_build(
    ray_instance: Any, root: Path, local: DatasetReport, tmp_path: Path
) -> None:
    report = omega_pl.build_dataset(root, tmp_path / "ds", engine="ray", workers=2, **OPTIONS)
    assert report.ok and report.engine == "ray"
    assert digests(report.out) == digests(local.out)  # byte for byte
    for mine, theirs in zip(report.symbols, local.symbols, strict=True):
        assert (mine.symbol, mine.rows, mine.first, mine.last) == (
            theirs.symbol,
            theirs.rows,
            theirs.first,
            theirs.last,
        )
        assert [p.relative_to(report.out) for p in mine.files] == [
            p.relative_to(local.out) for p in theirs.files
        ]
    assert_frame_equal(
        pl.read_parquet(report.out, hive_partitioning=True),
        pl.read_parquet(local.out, hive_partitioning=True),
    )


_REAL_RUN_TASK = task_module.run_task
VICTIM = "GBPUSD"


def killed_once(task: universe.SymbolTask) -> universe.SymbolReport:
    """Runs in a Ray worker: on the victim's first attempt, the worker process kills
    itself with SIGKILL right after the symbol's first partition was written."""
    marker = Path(task.out).parent / f"killed-{task.symbol}"
    if task.symbol == VICTIM and not marker.exists():
        marker.touch()
        real_write = task_module.write_partitions

        def write_first_then_die(frame: pl.DataFrame, directory: Path) -> list[Path]:
            real_write(frame.head(1), directory)  # a partial partition on disk
            marker.write_text(str(directory))
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

        task_module.write_partitions = write_first_then_die
    return _REAL_RUN_TASK(task)


def test_a_killed_ray_worker_is_retried_and_the_dataset_is_complete(
    ray_instance: Any,
    root: Path,
    local: DatasetReport,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(task_module, "run_task", killed_once)
    out = tmp_path / "ds"
    report = omega_pl.build_dataset(root, out, engine="ray", **OPTIONS)
    # The worker really was killed once, after writing part of the symbol ...
    partial = Path((tmp_path / f"killed-{VICTIM}").read_text())
    assert partial.parent == out and partial.name.startswith(TMP_PREFIX)
    assert report.ok, [s.error for s in report.failed]
    # ... and what that attempt wrote is gone.
    assert not partial.exists() and leftovers(out) == []
    assert digests(out) == digests(local.out)


# ---------------------------------------------------------------------------
# memory: bounded by one symbol


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    import polars as pl
    import omega_pl
    from omega_pl.datasets import synthetic_candles

    root, out, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    symbols = [f"SYM{i}" for i in range(8)]
    if count == 0:  # write the data
        for i, symbol in enumerate(symbols):
            (root / symbol).mkdir(parents=True)
            frame = synthetic_candles(200_000, timeframe="M1", seed=i, missing_ratio=0.02)
            for side in ("bid", "ask"):
                columns = [pl.col(f"{side}_{c}").alias(c) for c in omega_pl.OHLCV]
                path = root / symbol / f"{symbol}_M1_{side.upper()}.parquet"
                frame.select("time", *columns).write_parquet(path)
        sys.exit(0)
    report = omega_pl.build_dataset(
        root, out, symbols=symbols[:count], higher=["H1"],
        indicators=["atr:14", "ema:20", "macd", "bollinger", "rsi"],
    )
    assert report.ok and report.rows > 0
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def test_peak_memory_is_bounded_by_one_symbol(tmp_path: Path) -> None:
    """Peak RSS of a fresh process building 8 symbols is within 1.3x of building 1.

    Polars' allocator (jemalloc) keeps freed pages for reuse for a while
    (its dirty-page decay), so the next symbol starts on top of some of the
    previous one's: 10-30 % of a symbol's peak here, by timing. That slack is
    not a frame the build holds, and it would make the ratio noisy, so the
    subprocesses purge freed pages at once (``_RJEM_MALLOC_CONF``). Holding
    every symbol's frame would then show as ~2x.
    """
    env = {**os.environ, "_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}

    def run(count: int) -> int:
        args = [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / "root")]
        args += [str(tmp_path / f"out{count}"), str(count)]
        done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.split()[-1]) if count else 0

    run(0)
    one, eight = run(1), run(8)
    assert eight <= 1.3 * one, f"peak RSS 8 symbols {eight} KiB vs 1 symbol {one} KiB"
