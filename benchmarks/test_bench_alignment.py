"""Multi-timeframe alignment: H1 and D1 onto 10M M1 rows (issue 4 target: <= 1 s).

Run: ``pytest benchmarks/test_bench_alignment.py --benchmark-only``. Groups:

* ``align H1+D1 onto M1 10M``: :func:`omega_pl.align_timeframes` (both sides,
  completed bars, automatic stale limits) against a bare Polars chain of
  ``join_asof`` on the completion time, which has neither the stale limit nor
  per-side bars — the floor for "an as-of join per timeframe";
* ``load + resample + align 10M``: :func:`omega_pl.scan_aligned` from the
  Parquet files of ``conftest.py`` (H1 and D1 resampled from M1, no files of
  their own), i.e. reading, market hours, the bid/ask join, resampling and
  alignment in one plan, against reading and joining alone
  (:func:`omega_pl.scan_symbol`).

The higher frames are prepared before timing; only building the aligned frame
(``collect()``) is measured.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import omega_pl
from omega_pl.datasets import synthetic_candles

N_ROWS = 10_000_000


@pytest.fixture(scope="module")
def m1_10m() -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    primary = synthetic_candles(N_ROWS, timeframe="M1", seed=11, missing_ratio=0.02)
    primary = primary.with_columns(pl.col("time").set_sorted())
    higher = {tf: omega_pl.resample(primary, tf) for tf in ("H1", "D1")}
    return primary, higher


def bare_join_asof(primary: pl.DataFrame, higher: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The plain-Polars floor: one backward as-of join per timeframe on the bar's end."""
    out = primary.lazy()
    for tf, frame in higher.items():
        prefix = f"{tf.lower()}_"
        right = frame.lazy().select(
            (pl.col("time") + timedelta(minutes=omega_pl.Timeframe.parse(tf).minutes)).alias(
                "__end"
            ),
            pl.all().name.prefix(prefix),
        )
        out = out.join_asof(right.set_sorted("__end"), left_on="time", right_on="__end").drop(
            "__end"
        )
    return out.collect()


@pytest.mark.parametrize("how", ["omega align_timeframes", "bare join_asof chain"])
def test_align_h1_d1_onto_10m_m1(
    benchmark: Any, m1_10m: tuple[pl.DataFrame, dict[str, pl.DataFrame]], how: str
) -> None:
    primary, higher = m1_10m
    benchmark.group = "align H1+D1 onto M1 10M"
    if how == "omega align_timeframes":
        out = benchmark(
            lambda: omega_pl.align_timeframes(primary, higher, primary_tf="M1").collect()
        )
        assert out.width == primary.width + 2 * 2 * 6
        assert out["h1_bid_close"].null_count() < 0.01 * N_ROWS
    else:
        out = benchmark(lambda: bare_join_asof(primary, higher))
    assert out.height == N_ROWS


@pytest.mark.parametrize("how", ["omega scan_aligned", "scan_symbol only"])
def test_load_resample_align(benchmark: Any, parquet_root: tuple[str, Path], how: str) -> None:
    label, root = parquet_root
    benchmark.group = f"load + resample + align {label}"
    if how == "omega scan_aligned":
        scan = omega_pl.scan_aligned(root, "EURUSD", "M1", higher=["H1", "D1"])
        assert scan.resampled == ("H1", "D1")
        out = benchmark(scan.frame.collect)
        assert "d1_ask_time" in out.columns
    else:
        benchmark(lambda: omega_pl.scan_symbol(root, "EURUSD", "M1").collect())
