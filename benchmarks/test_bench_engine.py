"""omega_pl.engine (issue 16) against a reconstruction of the original pandas data layer.

Run: ``pytest benchmarks/test_bench_engine.py --benchmark-only``. Groups
(each pair timed in the same run; the ratio is in ``extra_info``):

* ``engine load 1M`` — ``CSVDataHandler("EURUSD", "M1").load_candles()`` of
  1M M1 rows a side from Parquet, then reading every candle's ``close`` (both
  sides), with the handler's caches reset each round; against the original's
  path: pandas ``read_parquet`` + UTC + the vectorised Sydney mask, then a
  list of ``Candle`` dataclasses with pandas ``Timestamp``s. Target ≤ 1/10.
* ``engine repeat call`` — a memoized ``ind.ema(tf, "bid", 20)``; target ≤ 2 µs.
* ``engine compute_batch 1M`` — the seed's five specs (ema, atr, zscore,
  bollinger, macd) on a fresh cache, against the five pandas calls of the
  original (``pandas_reference``). Target ≤ 1/5.
* ``engine walk 500k`` — per step ``set_index(i)``, ``latest(tf)`` and a cached
  indicator's ``.iloc[i]``, against the same walk over the original's shapes
  (a list of dataclass candles and a dict-memoized pandas Series). Target: ≤
  the original's per-step time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandas_reference as pdr  # benchmarks/ is on sys.path under pytest
import pytest
from timing import timed

import omega_pl
from omega_pl.engine import (
    CSVDataHandler,
    IndicatorCache,
    SymbolDataSlice,
    reset_candle_build_caches,
)


@dataclass
class OriginalCandle:
    """The original engine's record."""

    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    candle_type: str = "bid"


def original_load(root: Path) -> dict[str, list[OriginalCandle]]:
    """The original loader's path for both sides: pandas read, mask, list of candles."""
    out = {}
    for side in ("bid", "ask"):
        df = pd.read_parquet(root / "EURUSD" / f"EURUSD_M1_{side.upper()}.parquet")
        ts = pd.to_datetime(df["time"], utc=True)
        local = ts.dt.tz_convert("Australia/Sydney")
        wd, hour = local.dt.weekday, local.dt.hour
        keep = ((wd == 0) & (hour >= 7)) | wd.between(1, 4) | ((wd == 5) & (hour < 7))
        df, ts = df[keep.to_numpy()], ts[keep.to_numpy()]
        out[side] = [
            OriginalCandle(t, o, h, lo, c, v, side)
            for t, o, h, lo, c, v in zip(
                ts, df["open"], df["high"], df["low"], df["close"], df["volume"], strict=True
            )
        ]
    return out


def read_closes(sides: dict[str, Any]) -> float:
    total = 0.0
    for seq in sides.values():
        for c in seq:
            total += c.close
    return total


@pytest.fixture(scope="module")
def root_1m(parquet_root: tuple[str, Path]) -> Path:
    label, root = parquet_root
    if label != "1M":
        pytest.skip("the engine benchmarks run on the 1M-row files")
    return root


@pytest.mark.parametrize("how", ["omega_pl.engine", "original (pandas + list of Candle)"])
def test_load_candles_and_read_every_close(benchmark: Any, root_1m: Path, how: str) -> None:
    benchmark.group = "engine load 1M"

    def omega() -> float:
        reset_candle_build_caches()
        return read_closes(CSVDataHandler("EURUSD", "M1", root=root_1m).load_candles())

    if how == "omega_pl.engine":
        fn, benchmark.extra_info["target_ratio"] = omega, 0.1
    else:
        fn, benchmark.extra_info["floor"] = (lambda: read_closes(original_load(root_1m))), True
    total = timed(benchmark, fn, rounds=3, warmup_rounds=1)
    assert total > 0


def test_repeated_indicator_call(benchmark: Any, root_1m: Path) -> None:
    benchmark.group = "engine repeat call"
    ind = IndicatorCache({"M1": CSVDataHandler("EURUSD", "M1", root=root_1m).load_candles()})
    first = ind.ema("M1", "bid", 20)
    n = 100_000

    def calls() -> None:
        for _ in range(n):
            ind.ema("M1", "bid", 20)

    benchmark.extra_info["target_s"] = n * 2e-6  # 2 µs a call
    timed(benchmark, calls, rounds=5)
    benchmark.extra_info["per_call_us"] = round(benchmark.stats.stats.median / n * 1e6, 3)
    assert ind.ema("M1", price_type="bid", period=20) is first


SEED_SPECS = [
    {"name": "ema", "period": 14},
    {"name": "atr", "period": 14},
    {"name": "zscore", "window": 100},
    {"name": "bollinger", "period": 20, "std_dev": 2.0},
    {"name": "macd", "fast": 12, "slow": 26, "signal": 9},
]


@pytest.mark.parametrize("how", ["omega_pl.engine", "original (pandas)"])
def test_compute_batch_seed_specs(benchmark: Any, root_1m: Path, how: str) -> None:
    benchmark.group = "engine compute_batch 1M"
    frame = omega_pl.scan_symbol(root_1m, "EURUSD", "M1").collect()
    if how == "omega_pl.engine":
        caches: list[IndicatorCache] = []

        def setup() -> tuple[tuple[()], dict[str, Any]]:
            caches.append(IndicatorCache.from_frame(frame, "M1"))
            caches[-1].get_closes("M1")  # the columns are read before the clock starts
            return (), {}

        def run() -> dict[str, Any]:
            return caches[-1].compute_batch(SEED_SPECS, "M1", "bid")

        benchmark.extra_info["target_ratio"] = 0.2
        out = benchmark.pedantic(run, setup=setup, rounds=7, warmup_rounds=1)
        assert len(out) == 9
        return
    h, lo, c = (frame[f"bid_{f}"].to_pandas() for f in ("high", "low", "close"))

    def original() -> list[Any]:
        return [
            pdr.ema(c, 14),
            pdr.atr(h, lo, c, 14),
            pdr.zscore(c, 100),
            pdr.bollinger(c, 20, 2.0),
            pdr.macd(c, 12, 26, 9),
        ]

    benchmark.extra_info["floor"] = True
    timed(benchmark, original, rounds=3)


STEPS = 500_000


@pytest.mark.parametrize("how", ["omega_pl.engine", "original shapes"])
def test_walk_latest_and_cached_indicator(benchmark: Any, root_1m: Path, how: str) -> None:
    benchmark.group = "engine walk 500k"
    sides = CSVDataHandler("EURUSD", "M1", root=root_1m).load_candles()
    if how == "omega_pl.engine":
        package: dict[str, Any] = {"M1": sides}
        s = SymbolDataSlice(package, 0, IndicatorCache(package))
    else:
        candles = {k: list(v) for k, v in sides.items()}  # a list of the original's records
        package = {"M1": candles}
        s = _OriginalSlice(package)
    s.indicators.ema("M1", "bid", 20)
    steps = min(STEPS, len(sides["bid"]))
    benchmark.extra_info["floor" if how == "original shapes" else "target_ratio"] = (
        True if how == "original shapes" else 1.0
    )

    def walk() -> float:
        acc = 0.0
        for i in range(steps):
            s.set_index(i)
            c = s.latest("M1")
            e = s.indicators.ema("M1", "bid", 20).iloc[i]
            acc += c.close - e
        return acc

    timed(benchmark, walk, rounds=3)
    benchmark.extra_info["per_step_us"] = round(benchmark.stats.stats.median / steps * 1e6, 3)


class _OriginalCache:
    """The original IndicatorCache's memo for one indicator: a dict of pandas Series."""

    def __init__(self, package: dict[str, Any]) -> None:
        self._package = package
        self._cache: dict[tuple[Any, ...], pd.Series] = {}

    def ema(self, tf: str, price_type: str, period: int) -> pd.Series:
        key = ("ema", tf, price_type, period)
        if key not in self._cache:
            closes = pd.Series(
                [np.nan if c is None else c.close for c in self._package[tf][price_type]]
            )
            self._cache[key] = closes.ewm(span=period, adjust=False).mean()
        return self._cache[key]


class _OriginalSlice:
    """The original SymbolDataSlice's per-step surface (index, latest, indicators)."""

    def __init__(self, package: dict[str, Any]) -> None:
        self.multi_candle_data = package
        self.index = 0
        self.indicators = _OriginalCache(package)

    def set_index(self, index: int) -> None:
        self.index = index

    def latest(self, timeframe: str, price_type: str = "bid") -> Any:
        candles = self.multi_candle_data.get(timeframe, {}).get(price_type, [])
        return candles[self.index] if 0 <= self.index < len(candles) else None
