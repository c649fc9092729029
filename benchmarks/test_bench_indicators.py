"""Every indicator on 1M and 10M rows: omega_pl against TA-Lib and the pandas reference.

Run: ``pytest benchmarks/test_bench_indicators.py --benchmark-only
--benchmark-json=/tmp/bench_ind.json``, then ``python benchmarks/report.py
/tmp/bench_ind.json`` for the README table. Each group (``"<indicator> <size>"``)
holds up to four rows:

* ``omega``: ``df.select(expr)`` with the reference semantics (Polars overhead
  included);
* ``omega_talib``: the same with ``convention="talib"``, where TA-Lib has the
  indicator;
* ``talib``: the ``talib`` package on the NumPy arrays of the same columns
  (DMI is ``PLUS_DI`` + ``MINUS_DI`` + ``ADX``, the three outputs omega gives);
* ``pandas``: :mod:`pandas_reference`, the old engine's way of computing it.
  Its Python-loop indicators run at 1M rows only; the per-row ``_local``
  variants (``lookback = 400``, 1M rows only) are timed on a slice of rows and
  scaled to the full size (``extra_info["scale"]``; their cost is per row).

At 10M rows every indicator with a TA-Lib counterpart also runs with
Polars' opt-in ``POLARS_THP=1`` (transparent huge pages for Polars'
allocations, so fresh output columns do not pay 4 KiB page faults, as NumPy's
arrays, and so TA-Lib's outputs, do not): omega's reference semantics and
TA-Lib side by side in a worker process (Polars reads the setting at
import), reported as size ``10M, POLARS_THP=1``.

Plus ``batch 10M``: ten common indicators in one ``with_indicators`` against
the corresponding TA-Lib calls in sequence; its omega rows also run in the
``POLARS_THP=1`` worker, reported side by side. Before anything is timed, the
module checks on a slice of the benchmark data that the omega rows agree with
TA-Lib (``convention="talib"``) and with the pandas reference, so every ratio
compares the same computation. ``extra_info`` holds the ratios of each omega
row to the baselines timed before it in its group, and ``other_cpu``: the
cores other processes kept busy while the row was timed (the machine is
shared; ``report.py`` flags rows above 0.25).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandas_reference as ref  # benchmarks/ is on sys.path under pytest
import polars as pl
import pytest
import talib
from timing import timed  # benchmarks/ is on sys.path under pytest

import omega_pl as op

SIZES = {"1M": 1_000_000, "10M": 10_000_000}
LOOKBACK = 400  # the _local variants' window
PANDAS_ROUNDS = 3  # rounds for slow rows (pandas loops, pandas at 10M, _local)
BATCH_ROUNDS = 11  # rounds for the batch of ten (after one warm-up round)
SEED = 20_240_611
# Polars' allocator setting the opt-in rows run under (see *Memory* in the
# README): jemalloc on transparent huge pages. Polars reads it when it is
# imported, so those rows run in a worker process started with it.
THP = "POLARS_THP"
# which build of the extension was timed (others rebuild it while they work)
PLUGIN_BUILT = next(
    (
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(path.stat().st_mtime))
        for path in Path(op.__file__).parent.glob("_plugins*")
    ),
    "?",
)

# ---------------------------------------------------------------------------
# data


@dataclass
class Data:
    """One benchmark frame in the three shapes the contenders take."""

    df: pl.DataFrame  # time, open, high, low, close, h1_time
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # open/high/low/close
    series: dict[str, pd.Series] = field(default_factory=dict)  # + h1_time (the bar key)

    @property
    def rows(self) -> int:
        return self.df.height


def random_walk(n: int, seed: int = SEED) -> pl.DataFrame:
    """Gap-free EURUSD-like M1 candles: a log random walk with day-long volatility
    regimes, prices on a 1e-5 tick grid, ``open`` = previous close, and high/low
    reaching out of the body by exponential amounts. ``h1_time`` is the H1 bar key."""
    rng = np.random.default_rng(seed)
    days = n // 1440 + 1
    regime = np.repeat(np.exp(rng.normal(0.0, 0.35, days)), 1440)[:n]
    steps = rng.normal(0.0, 1.2e-4, n) * regime
    close = np.round(1.10 * np.exp(np.cumsum(steps)), 5)
    open_ = np.empty(n)
    open_[0] = close[0]
    open_[1:] = close[:-1]
    wick = 0.6e-4 * regime
    high = np.round(np.maximum(open_, close) + rng.exponential(1.0, n) * wick, 5)
    low = np.round(np.minimum(open_, close) - rng.exponential(1.0, n) * wick, 5)
    stamps = np.datetime64("2015-01-01T00:00", "us") + np.arange(n) * np.timedelta64(1, "m")
    return pl.DataFrame(
        {"time": stamps, "open": open_, "high": high, "low": low, "close": close}
    ).with_columns(pl.col("time").dt.truncate("1h").alias("h1_time"))


def to_data(df: pl.DataFrame) -> Data:
    data = Data(df)
    for c in ("open", "high", "low", "close"):
        data.arrays[c] = np.ascontiguousarray(df[c].to_numpy())
        data.series[c] = pd.Series(data.arrays[c], name=c)
    data.series["h1_time"] = df["h1_time"].to_pandas()
    return data


@pytest.fixture(scope="module")
def frames() -> Callable[[str], Data]:
    """The 1M and 10M frames (same seed), made on first use and kept for the module."""
    return cache(lambda size: to_data(random_walk(SIZES[size])))


# ---------------------------------------------------------------------------
# the contenders per indicator


@dataclass(frozen=True)
class Indicator:
    name: str
    omega: Callable[[], pl.Expr]
    pandas: Callable[..., Any]  # (Data, rows: range | None) -> result
    talib_conv: Callable[[], pl.Expr] | None = None
    talib: Callable[[Data], Any] | None = None
    loop: bool = False  # the pandas reference is a Python loop per row: 1M only
    local: bool = False  # O(rows · lookback): everything at 1M only, pandas on a slice
    pandas_slice: int = 0  # rows the pandas reference computes (local only)


def _c(d: Data) -> pd.Series:
    return d.series["close"]


def _hlc(d: Data) -> tuple[pd.Series, pd.Series, pd.Series]:
    return d.series["high"], d.series["low"], d.series["close"]


def _nhlc(d: Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return d.arrays["high"], d.arrays["low"], d.arrays["close"]


def _talib_dmi(d: Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, lo, c = _nhlc(d)
    return talib.PLUS_DI(h, lo, c, 14), talib.MINUS_DI(h, lo, c, 14), talib.ADX(h, lo, c, 14)


HLC = ("high", "low", "close")
BAR = "h1_time"


def _on_close(name: str, args: tuple[Any, ...], talib_fn: Callable[..., Any]) -> Indicator:
    """An indicator of the close alone with a TA-Lib counterpart: omega and its
    pandas reference take ``args``, the TA-Lib convention too, and TA-Lib gets
    ``talib_fn(close)``."""
    omega = getattr(op, name)
    pandas = getattr(ref, name)
    return Indicator(
        name,
        lambda: omega("close", *args),
        lambda d, rows=None: pandas(_c(d), *args),
        lambda: omega("close", *args, convention="talib"),
        lambda d: talib_fn(d.arrays["close"]),
    )


INDICATORS: list[Indicator] = [
    _on_close("ema", (20,), lambda c: talib.EMA(c, 20)),
    _on_close("sma", (50,), lambda c: talib.SMA(c, 50)),
    _on_close("rsi", (14,), lambda c: talib.RSI(c, 14)),
    _on_close("macd", (12, 26, 9), lambda c: talib.MACD(c, 12, 26, 9)),
    _on_close("bollinger", (20, 2.0), lambda c: talib.BBANDS(c, 20, 2.0, 2.0, 0)),
    Indicator(
        "atr",
        lambda: op.atr(*HLC, 14),
        lambda d, rows=None: ref.atr(*_hlc(d), 14),
        lambda: op.atr(*HLC, 14, convention="talib"),
        lambda d: talib.ATR(*_nhlc(d), 14),
        loop=True,
    ),
    Indicator(
        "dmi",
        lambda: op.dmi(*HLC, 14),
        lambda d, rows=None: ref.dmi(*_hlc(d), 14),
        lambda: op.dmi(*HLC, 14, convention="talib"),
        _talib_dmi,
    ),
    _on_close("roc", (14,), lambda c: talib.ROC(c, 14)),
    _on_close("momentum", (14,), lambda c: talib.MOM(c, 14)),
    _on_close("dema", (20,), lambda c: talib.DEMA(c, 20)),
    _on_close("tema", (20,), lambda c: talib.TEMA(c, 20)),
    _on_close("rolling_std", (20,), lambda c: talib.STDDEV(c, 20, 1.0)),
    Indicator(
        "choppiness",
        lambda: op.choppiness(*HLC, 14),
        lambda d, rows=None: ref.choppiness(*_hlc(d), 14),
    ),
    Indicator(
        "zscore",
        lambda: op.zscore("close", 100),
        lambda d, rows=None: ref.zscore(_c(d), 100),
    ),
    Indicator(
        "kalman_mean",
        lambda: op.kalman_mean("close"),
        lambda d, rows=None: ref.kalman_mean(_c(d)),
        loop=True,
    ),
    Indicator(
        "kalman_zscore",
        lambda: op.kalman_zscore("close", 100),
        lambda d, rows=None: ref.kalman_zscore(_c(d), 100),
        loop=True,
    ),
    Indicator(
        "garch_volatility",
        lambda: op.garch_volatility("close"),
        lambda d, rows=None: ref.garch_volatility(_c(d)),
        loop=True,
    ),
    Indicator(
        "kalman_garch_zscore",
        lambda: op.kalman_garch_zscore("close"),
        lambda d, rows=None: ref.kalman_garch_zscore(_c(d)),
        loop=True,
    ),
    Indicator(
        "vol_cluster",  # the atr_points feature (the other one is garch_volatility_local)
        lambda: op.vol_cluster(*HLC, "atr_points", 14, LOOKBACK),
        lambda d, rows=None: ref.vol_cluster(*_hlc(d), "atr_points", 14, LOOKBACK),
        loop=True,
    ),
    Indicator(
        "ema_stepwise",
        lambda: op.ema_stepwise("close", 20, bar=BAR),
        lambda d, rows=None: ref.ema_stepwise(_c(d), 20, d.series[BAR]),
    ),
    Indicator(
        "bollinger_stepwise",
        lambda: op.bollinger_stepwise("close", 20, 2.0, bar=BAR),
        lambda d, rows=None: ref.bollinger_stepwise(_c(d), 20, 2.0, d.series[BAR]),
    ),
    Indicator(
        "kalman_zscore_stepwise",
        lambda: op.kalman_zscore_stepwise("close", 100, bar=BAR),
        lambda d, rows=None: ref.kalman_zscore_stepwise(_c(d), 100, d.series[BAR]),
    ),
    Indicator(
        "garch_volatility_local",
        lambda: op.garch_volatility_local("close", LOOKBACK),
        lambda d, rows=None: ref.garch_volatility_local(_c(d), LOOKBACK, rows=rows),
        local=True,
        pandas_slice=2_000,
    ),
    Indicator(
        "kalman_garch_zscore_local",
        lambda: op.kalman_garch_zscore_local("close", LOOKBACK),
        lambda d, rows=None: ref.kalman_garch_zscore_local(_c(d), LOOKBACK, rows=rows),
        local=True,
        pandas_slice=1_000,
    ),
]
BY_NAME = {i.name: i for i in INDICATORS}
assert len(BY_NAME) == 24


def _cases() -> list[Any]:
    """(indicator, impl, size) in run order: baselines first, so that each omega
    row can put its ratios to them into ``extra_info``."""
    out = []
    for ind in INDICATORS:
        for size in ("1M",) if ind.local else tuple(SIZES):
            impls = []
            if ind.talib is not None:
                impls.append("talib")
            if size == "1M" or not ind.loop:
                impls.append("pandas")
            impls.append("omega")
            if ind.talib_conv is not None:
                impls.append("omega_talib")
            out += [
                pytest.param(ind.name, impl, size, id=f"{ind.name}-{impl}-{size}") for impl in impls
            ]
    return out


# ---------------------------------------------------------------------------
# availability of convention="talib" and the apples-to-apples check


@cache
def talib_convention_missing() -> str | None:
    """Why ``convention="talib"`` cannot run here, or None when it can."""
    probe = pl.DataFrame({"x": [1.0, 2.0, 3.0, 2.5]})
    try:
        probe.select(op.ema("x", 2, convention="talib"))
    except Exception as exc:  # an import or plugin error of a half-built extension
        return f"convention='talib' not available yet ({type(exc).__name__}: {exc})"
    return None


def _columns(result: Any) -> list[np.ndarray]:
    """Any contender's result as a list of float arrays (null → NaN)."""
    if isinstance(result, pl.DataFrame):
        series = result.to_series()
        if series.dtype == pl.Struct:
            return [s.to_numpy().astype(np.float64) for s in series.struct.unnest()]
        return [series.to_numpy().astype(np.float64)]
    if isinstance(result, pd.DataFrame):
        return [result[c].to_numpy(np.float64) for c in result.columns]
    if isinstance(result, pd.Series):
        return [result.to_numpy(np.float64)]
    if isinstance(result, tuple | list):
        return [np.asarray(r, np.float64) for r in result]
    return [np.asarray(result, np.float64)]


def _assert_same(name: str, what: str, got: Any, want: Any, rtol: float, rows: slice) -> None:
    g, w = _columns(got), _columns(want)
    assert len(g) == len(w), f"{name}: {what}: {len(g)} outputs vs {len(w)}"
    for k, (a, b) in enumerate(zip(g, w, strict=True)):
        np.testing.assert_allclose(
            a[rows], b[rows], rtol=rtol, atol=1e-12, equal_nan=True, err_msg=f"{name} {what} #{k}"
        )


@pytest.fixture(scope="module", autouse=True)
def agreement(frames: Callable[[str], Data]) -> None:
    """Once per module: on the first rows of the benchmark data, omega's TA-Lib
    convention equals TA-Lib, and omega's reference semantics equal the pandas
    reference (loosely: the latter is a speed baseline, not bit-exact)."""
    head = to_data(frames("1M").df.head(20_000))
    if talib_convention_missing() is None:
        for ind in INDICATORS:
            if ind.talib is not None and ind.talib_conv is not None:
                got = head.df.select(ind.talib_conv())
                _assert_same(ind.name, "talib", got, ind.talib(head), 1e-9, slice(None))
    for ind in INDICATORS:
        got = head.df.select(ind.omega())
        if ind.local:  # the last 100 rows (full windows): these cost ~1 ms a row in pandas
            rows = range(head.rows - 100, head.rows)
            want = ind.pandas(head, rows)
            _assert_same(ind.name, "pandas", got, want, 1e-6, slice(rows.start, None))
        else:
            _assert_same(ind.name, "pandas", got, ind.pandas(head), 1e-6, slice(None))


# ---------------------------------------------------------------------------
# the benchmarks

MEDIANS: dict[tuple[str, str], float] = {}  # (group, impl) → median seconds


def _run(benchmark: Any, fn: Callable[[], Any], slow: bool, rounds: int = 0) -> float | None:
    """Times ``fn``; returns the median and records in ``extra_info["other_cpu"]``
    how many cores other processes kept busy meanwhile (the machine is shared).
    ``rounds``: a fixed number of rounds after one warm-up round, for rows whose
    median should not rest on pytest-benchmark's default five."""
    if slow:
        timed(benchmark, fn, rounds=PANDAS_ROUNDS)
    else:
        timed(benchmark, fn, rounds=rounds, warmup_rounds=1 if rounds else 0)
    benchmark.extra_info["plugin_built_utc"] = PLUGIN_BUILT
    stats = getattr(benchmark, "stats", None)
    return None if stats is None else float(stats.stats.median)


def _ratios(benchmark: Any, group: str, impl: str, median: float | None) -> None:
    """``extra_info`` ratios of an omega row to the baselines of its group."""
    if median is None or not impl.startswith("omega"):
        return
    talib_median = MEDIANS.get((group, "talib"))
    pandas_median = MEDIANS.get((group, "pandas"))
    if talib_median:
        benchmark.extra_info["ratio_to_talib"] = round(median / talib_median, 3)
    if pandas_median:
        benchmark.extra_info["speedup_vs_pandas"] = round(pandas_median / median, 1)


def _contender(ind: Indicator, impl: str, data: Data) -> tuple[Callable[[], Any], float]:
    """What to time for ``impl``, and the factor from its time to the full size's."""
    if impl in ("omega", "omega_talib"):
        make = ind.omega if impl == "omega" else ind.talib_conv
        assert make is not None
        expr = make()
        return (lambda: data.df.select(expr)), 1.0
    if impl == "talib":
        talib_fn = ind.talib
        assert talib_fn is not None
        return (lambda: talib_fn(data)), 1.0
    if ind.local:  # the pandas reference on the last rows, scaled to all of them
        rows = range(data.rows - ind.pandas_slice, data.rows)
        return (lambda: ind.pandas(data, rows)), data.rows / ind.pandas_slice
    return (lambda: ind.pandas(data)), 1.0


@pytest.mark.parametrize(("name", "impl", "size"), _cases())
def test_indicator(
    benchmark: Any, frames: Callable[[str], Data], name: str, impl: str, size: str
) -> None:
    ind = BY_NAME[name]
    data = frames(size)
    group = f"{name} {size}"
    benchmark.group = group
    benchmark.extra_info.update({"indicator": name, "impl": impl, "size": size, "rows": data.rows})
    if impl == "omega_talib" and (why := talib_convention_missing()):
        pytest.skip(why)
    fn, scale = _contender(ind, impl, data)
    if scale != 1.0:
        benchmark.extra_info.update({"rows_computed": ind.pandas_slice, "scale": scale})
    slow = ind.local or (impl == "pandas" and (ind.loop or size == "10M"))
    median = _run(benchmark, fn, slow)
    if median is not None:
        MEDIANS[(group, impl)] = median * scale
    _ratios(benchmark, group, impl, median)


THP_ROUNDS = 11  # rounds of the POLARS_THP=1 rows (after one warm-up round)


def _thp_cases() -> list[Any]:
    """(indicator, impl) of the ``POLARS_THP=1`` rows: the 10M indicators
    with a TA-Lib counterpart, TA-Lib first (the omega row's ratio needs it)."""
    return [
        pytest.param(ind.name, impl, id=f"{ind.name}-{impl}-10M-{THP}")
        for ind in INDICATORS
        if ind.talib is not None and not ind.local
        for impl in ("talib", "omega")
    ]


@pytest.mark.parametrize(("name", "impl"), _thp_cases())
def test_indicator_thp(
    benchmark: Any, thp_worker: Callable[[], Worker], name: str, impl: str
) -> None:
    """An indicator's reference semantics and its TA-Lib counterpart at 10M
    rows, both in the ``POLARS_THP=1`` worker (``THP_ROUNDS`` rounds each)."""
    size = f"10M, {THP}=1"
    group = f"{name} {size}"
    benchmark.group = group
    benchmark.extra_info.update(
        {"indicator": name, "impl": impl, "size": size, "rows": SIZES["10M"]}
    )
    benchmark.extra_info["allocator"] = f"{THP}=1"
    median = thp_worker().timed(benchmark, impl, name, THP_ROUNDS)
    if median is not None:
        MEDIANS[(group, impl)] = median
    _ratios(benchmark, group, impl, median)


# ---------------------------------------------------------------------------
# batch: ten common indicators in one select


def _batch(convention: str) -> list[dict[str, Any]]:
    """The ten indicators of the batch as ``with_indicators`` specs."""
    kw: dict[str, Any] = {"convention": convention}
    return [
        {"name": "ema", "period": 20, **kw},
        {"name": "sma", "period": 50, **kw},
        {"name": "rsi", "period": 14, **kw},
        {"name": "macd", **kw},
        {"name": "bollinger", "period": 20, "std_factor": 2.0, **kw},
        {"name": "atr", "period": 14, **kw},
        {"name": "dmi", "period": 14, **kw},
        {"name": "roc", "period": 14, **kw},
        {"name": "rolling_std", "period": 20, **kw},
        {"name": "kalman_mean"},  # no TA-Lib counterpart: reference always
    ]


def _talib_batch(d: Data) -> list[Any]:
    c = d.arrays["close"]
    h, lo, _ = _nhlc(d)
    return [
        talib.EMA(c, 20),
        talib.SMA(c, 50),
        talib.RSI(c, 14),
        talib.MACD(c, 12, 26, 9),
        talib.BBANDS(c, 20, 2.0, 2.0, 0),
        talib.ATR(h, lo, c, 14),
        *_talib_dmi(d),
        talib.ROC(c, 14),
        talib.STDDEV(c, 20, 1.0),
    ]


WORKER = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
import omega_pl as op
from test_bench_indicators import BY_NAME, _batch, random_walk, to_data

data = to_data(random_walk(int(sys.argv[2])))
specs = {c: _batch(c) for c in ("reference", "talib")}
print(os.environ.get("_RJEM_MALLOC_CONF", ""), flush=True)
for line in sys.stdin:
    what, arg = line.split()
    if what == "batch":
        op.with_indicators(data.df, specs[arg])
    elif what == "omega":
        data.df.select(BY_NAME[arg].omega())
    else:
        BY_NAME[arg].talib(data)
    print(time.process_time(), flush=True)
"""


class Worker:
    """A Python process with ``POLARS_THP=1`` and the 10M frame that computes,
    when asked, the batch of ten (``batch <convention>``), one indicator in
    the reference semantics (``omega <name>``) or its TA-Lib counterpart
    (``talib <name>``); a pipe round trip, ~0.1 ms, is timed with it."""

    def __init__(self, rows: int) -> None:
        env = {**os.environ, THP: "1"}
        here = str(Path(__file__).parent)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, here, str(rows)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.jemalloc_conf = self._reply()
        self.cpu = 0.0  # the worker's CPU seconds after its last batch

    def _reply(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {THP}=1 worker exited ({self.proc.wait()})")
        return line.strip()

    def run(self, what: str, arg: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{what} {arg}\n")
        self.proc.stdin.flush()
        self.cpu = float(self._reply())

    def timed(self, benchmark: Any, what: str, arg: str, rounds: int) -> float | None:
        """Times ``run(what, arg)`` like ``_run``; the worker's own CPU is
        taken out of ``other_cpu`` (it is not another process's)."""
        cpu, start = self.cpu, time.perf_counter()
        median = _run(benchmark, lambda: self.run(what, arg), slow=False, rounds=rounds)
        busy = (self.cpu - cpu) / (time.perf_counter() - start)
        other = benchmark.extra_info["other_cpu"] - busy
        benchmark.extra_info["other_cpu"] = round(max(0.0, other), 2)
        benchmark.extra_info["jemalloc_conf"] = self.jemalloc_conf
        return median

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def thp_worker() -> Iterator[Callable[[], Worker]]:
    """The ``POLARS_THP=1`` worker, started on first use, stopped with the module."""
    workers: list[Worker] = []

    def get() -> Worker:
        if not workers:
            workers.append(Worker(SIZES["10M"]))
        return workers[0]

    yield get
    for w in workers:
        w.close()


def _allocator() -> str:
    """This process's Polars allocator setting, as the rows record it."""
    return f"{THP}=1" if os.environ.get(THP) == "1" else "default"


BATCH_ROWS = [
    pytest.param("talib", False, id="talib"),
    pytest.param("omega", False, id="omega"),
    pytest.param("omega_talib", False, id="omega_talib"),
    pytest.param("omega", True, id=f"omega-{THP}"),
    pytest.param("omega_talib", True, id=f"omega_talib-{THP}"),
]


@pytest.mark.parametrize(("impl", "thp"), BATCH_ROWS)
def test_batch(
    benchmark: Any,
    frames: Callable[[str], Data],
    thp_worker: Callable[[], Worker],
    impl: str,
    thp: bool,
) -> None:
    """ema 20, sma 50, rsi 14, macd, bollinger 20/2, atr 14, dmi 14, roc 14,
    rolling_std 20 and kalman_mean added by one ``with_indicators`` (the batch
    API: one ``with_columns``) at 10M rows, against the TA-Lib calls for the
    first nine (11 calls: DMI is three) in sequence. The omega rows run twice:
    with Polars' allocator as this process has it (by default: as Polars
    sets it), and with the opt-in ``POLARS_THP=1`` in a worker process; the
    report shows the latter as size ``10M, POLARS_THP=1``."""
    data = frames("10M")
    group = "batch 10M"
    benchmark.group = group
    allocator = f"{THP}=1" if thp else _allocator()
    size = f"10M, {THP}=1" if thp else "10M"
    benchmark.extra_info.update(
        {"indicator": "batch", "impl": impl, "size": size, "allocator": allocator}
    )
    benchmark.extra_info["rows"] = data.rows
    if impl == "omega_talib" and (why := talib_convention_missing()):
        pytest.skip(why)
    convention = "talib" if impl == "omega_talib" else "reference"
    # The target row: eleven rounds after a warm-up (two threads allocating
    # ~1.3 GB of fresh pages per round vary more than one does).
    if thp:
        median = thp_worker().timed(benchmark, "batch", convention, BATCH_ROUNDS)
    else:
        if impl == "talib":
            fn: Callable[[], Any] = lambda: _talib_batch(data)  # noqa: E731
        else:
            specs = _batch(convention)
            fn = lambda: op.with_indicators(data.df, specs)  # noqa: E731
        median = _run(benchmark, fn, slow=False, rounds=BATCH_ROUNDS)
    if median is not None:
        MEDIANS[(group, impl + ("_thp" if thp else ""))] = median
    _ratios(benchmark, group, impl, median)
