"""A universe's dataset: 16 symbols x 1M M1 rows, H1 aligned, ten indicators (issue 12).

Run: ``pytest benchmarks/test_bench_dataset.py --benchmark-only`` (needs the
``ray`` extra, installed with ``dev``). Groups:

* ``dataset 16x1M``: :func:`omega_pl.build_dataset` with ``engine="local"``
  (one symbol after the other in this process, each plan on both cores)
  against ``engine="ray"`` with 2 workers (one Ray task per symbol, two at a
  time). The Ray instance is started before timing (its start-up, ~5 s here,
  is in ``extra_info["ray_start_s"]``); every round rewrites the whole
  dataset (``overwrite=True``). ``extra_info["rows_per_s"]`` is rows written
  per second of the median round; ``compute_s``/``write_s`` are the median
  per-symbol seconds spent running the plan and writing the files.
  ``other_cpu`` (cores kept busy by processes other than this one) includes
  the Ray workers themselves on the ``ray`` row (~2 when they use both
  cores), so only the ``local`` row's tells how busy the machine was.
* ``dataset phases 1M``: one symbol's work split into its parts, for the
  scaling model: reading bid + ask and joining them (``scan_symbol``), adding
  the H1 alignment (``scan_aligned``, H1 resampled from M1), adding the ten
  indicators, and writing the result as Parquet.

The data (``<OMEGA_BENCH_DATA or tmp>/universe-16x1M``) is synthetic M1 bars
(2 % holes) with bid and ask files per symbol and no H1 files, so H1 is
resampled from M1 as for a data vendor that ships M1 only.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from timing import timed  # benchmarks/ is on sys.path under pytest

import omega_pl
from omega_pl.datasets import synthetic_candles
from omega_pl.universe.writer import write_partitions

SYMBOLS = [f"SYM{i:02d}" for i in range(16)]
ROWS = 1_000_000
ROUNDS = 3
#: The ten indicators of the indicator benchmark's batch (reference semantics).
SPECS: list[dict[str, Any]] = [
    {"name": "ema", "period": 20},
    {"name": "sma", "period": 50},
    {"name": "rsi", "period": 14},
    {"name": "macd"},
    {"name": "bollinger", "period": 20, "std_factor": 2.0},
    {"name": "atr", "period": 14},
    {"name": "dmi", "period": 14},
    {"name": "roc", "period": 14},
    {"name": "rolling_std", "period": 20},
    {"name": "kalman_mean"},
]
OPTIONS: dict[str, Any] = {"timeframe": "M1", "higher": ["H1"], "indicators": SPECS}


@pytest.fixture(scope="module")
def universe(data_dir: Path) -> Path:
    """16 symbols x 1M M1 bars, bid and ask Parquet files (written once per data dir)."""
    root = data_dir / "universe-16x1M"
    for i, symbol in enumerate(SYMBOLS):
        folder = root / symbol
        if (folder / f"{symbol}_M1_ASK.parquet").exists():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        frame = synthetic_candles(ROWS, timeframe="M1", seed=1000 + i, missing_ratio=0.02)
        for side in ("bid", "ask"):
            columns = [pl.col(f"{side}_{c}").alias(c) for c in omega_pl.OHLCV]
            frame.select("time", *columns).write_parquet(
                folder / f"{symbol}_M1_{side.upper()}.parquet"
            )
    return root


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[float]:
    """A local Ray instance of 2 CPUs; yields the seconds it took to start."""
    ray = pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[dev]'")
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield time.perf_counter() - started
    ray.shutdown()


def _record(benchmark: Any, reports: list[omega_pl.DatasetReport], **info: Any) -> None:
    last = reports[-1]
    assert last.ok, [s.error for s in last.failed]
    median = benchmark.stats.stats.median
    benchmark.extra_info.update(
        symbols=len(last.symbols),
        rows=last.rows,
        columns=len(last.columns),
        files=len(last.files),
        rows_per_s=round(last.rows / median),
        symbol_s=round(statistics.median(s.seconds for r in reports for s in r.symbols), 3),
        compute_s=round(
            statistics.median(s.compute_seconds for r in reports for s in r.symbols), 3
        ),
        write_s=round(statistics.median(s.write_seconds for r in reports for s in r.symbols), 3),
        **info,
    )


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_dataset(
    benchmark: Any, universe: Path, tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    benchmark.group = "dataset 16x1M"
    benchmark.name = f"{engine} ({'2 workers' if engine == 'ray' else 'in process'})"
    info: dict[str, Any] = {"engine": engine}
    kwargs: dict[str, Any] = dict(OPTIONS)
    if engine == "ray":
        info["ray_start_s"] = round(request.getfixturevalue("ray_instance"), 2)
        info["workers"] = kwargs["workers"] = 2
    out = tmp_path / "dataset"
    reports: list[omega_pl.DatasetReport] = []

    def build() -> None:
        reports.append(
            omega_pl.build_dataset(universe, out, engine=engine, overwrite=True, **kwargs)
        )

    timed(benchmark, build, rounds=ROUNDS)
    _record(benchmark, reports, **info)


# ---------------------------------------------------------------------------
# one symbol's phases


def _plan(universe: Path, phase: str) -> pl.LazyFrame:
    if phase == "read":
        return omega_pl.scan_symbol(universe, SYMBOLS[0], "M1")
    lf = omega_pl.scan_aligned(universe, SYMBOLS[0], "M1", higher=["H1"]).frame
    return lf if phase == "read+align" else omega_pl.with_indicators(lf, SPECS)


@pytest.mark.parametrize("phase", ["read", "read+align", "read+align+indicators", "write"])
def test_phases(benchmark: Any, universe: Path, tmp_path: Path, phase: str) -> None:
    benchmark.group = "dataset phases 1M"
    benchmark.name = phase
    if phase == "write":
        frame = _plan(universe, "read+align+indicators").collect()
        written: list[Path] = []

        def run() -> Any:  # as build_dataset writes: per year, synced, a fresh directory
            written[:] = write_partitions(frame, tmp_path / f"round{len(list(tmp_path.iterdir()))}")
            return frame
    else:
        lf = _plan(universe, phase)

        def run() -> Any:
            return lf.collect()

    result = timed(benchmark, run, rounds=5, warmup_rounds=1)
    benchmark.extra_info.update(rows=result.height, columns=result.width)
    if phase == "write":
        benchmark.extra_info["files"] = len(written)
        benchmark.extra_info["file_mb"] = round(sum(p.stat().st_size for p in written) / 2**20, 1)
