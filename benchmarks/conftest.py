"""Benchmark data: synthetic bid/ask M1 files of 1M and 10M rows, made once per session."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

import omega_pl
from omega_pl.datasets import synthetic_candles

SIZES = {"1M": 1_000_000, "10M": 10_000_000}


def _write(root: Path, n: int, fmt: str) -> Path:
    """``<root>/EURUSD/EURUSD_M1_{BID,ASK}.<fmt>`` with ``n`` rows per side."""
    sym = root / "EURUSD"
    bid = sym / f"EURUSD_M1_BID.{fmt}"
    if bid.exists():
        return root
    sym.mkdir(parents=True, exist_ok=True)
    frame = synthetic_candles(n, timeframe="M1", seed=11, missing_ratio=0.02)
    for side in ("bid", "ask"):
        out = frame.select("time", *(pl.col(f"{side}_{c}").alias(c) for c in omega_pl.OHLCV))
        path = sym / f"EURUSD_M1_{side.upper()}.{fmt}"
        if fmt == "parquet":
            out.write_parquet(path)
        else:
            out.select(
                pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S+00:00").alias("UTC time"),
                *(pl.col(c).alias(c.capitalize()) for c in omega_pl.OHLCV),
            ).write_csv(path)
    return root


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where benchmark files live; set OMEGA_BENCH_DATA to reuse them across runs."""
    env = os.environ.get("OMEGA_BENCH_DATA")
    return Path(env) if env else tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="session", params=list(SIZES))
def parquet_root(request: pytest.FixtureRequest, data_dir: Path) -> tuple[str, Path]:
    label = str(request.param)
    return label, _write(data_dir / f"parquet-{label}", SIZES[label], "parquet")


@pytest.fixture(scope="session")
def csv_root_1m(data_dir: Path) -> Path:
    return _write(data_dir / "csv-1M", SIZES["1M"], "csv")
