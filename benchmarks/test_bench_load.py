"""The load pipeline (window + market hours + floor + bid/ask join) against
bare Polars reads, a naive Polars pipeline, and the pandas path of the old engine.

Run: ``pytest benchmarks --benchmark-only``. Every test here is one row of the
README's table; the group name says what is compared with what.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from timing import interleaved_ratio  # benchmarks/ is on sys.path under pytest

import omega_pl

WINDOW = {"start": "2000-01-01", "end": "2100-01-01"}  # the full file, but through the window path


def bid(root: Path, fmt: str = "parquet") -> Path:
    return root / "EURUSD" / f"EURUSD_M1_BID.{fmt}"


def pandas_old_engine(path: Path, fmt: str) -> pd.DataFrame:
    """What the original engine did per file: read, tz-convert, vectorised Sydney mask, filter."""
    if fmt == "parquet":
        df = pd.read_parquet(path)
        ts = pd.to_datetime(df["time"], utc=True)
    else:
        df = pd.read_csv(path)
        ts = pd.to_datetime(df["UTC time"], utc=True)
    lo, hi = pd.Timestamp(WINDOW["start"], tz="UTC"), pd.Timestamp(WINDOW["end"], tz="UTC")
    keep = (ts >= lo) & (ts <= hi)
    local = ts.dt.tz_convert("Australia/Sydney")
    wd, hour = local.dt.weekday, local.dt.hour
    open_ = ((wd == 0) & (hour >= 7)) | wd.between(1, 4) | ((wd == 5) & (hour < 7))
    out = df[keep & open_].copy()
    out.index = ts[keep & open_]
    return out


def naive_polars(path: Path) -> pl.DataFrame:
    """A straightforward Polars pipeline with a Sydney convert_time_zone mask."""
    local = pl.col("time").dt.convert_time_zone("Australia/Sydney")
    wd, hour = local.dt.weekday(), local.dt.hour()
    mask = ((wd == 1) & (hour >= 7)) | wd.is_between(2, 5) | ((wd == 6) & (hour < 7))
    return pl.scan_parquet(path).filter(mask).sort("time").collect()


@pytest.mark.parametrize(
    "how", ["bare read_parquet", "omega one side", "naive polars", "pandas old engine"]
)
def test_parquet_one_side(benchmark: Any, parquet_root: tuple[str, Path], how: str) -> None:
    label, root = parquet_root
    benchmark.group = f"parquet one side {label}"
    path = bid(root)
    fn = {
        "bare read_parquet": lambda: pl.read_parquet(path),
        "omega one side": lambda: omega_pl.scan_candles(path, timeframe="M1", **WINDOW).collect(),
        "naive polars": lambda: naive_polars(path),
        "pandas old engine": lambda: pandas_old_engine(path, "parquet"),
    }[how]
    if how == "bare read_parquet":
        benchmark.extra_info["floor"] = True
    elif how == "omega one side" and label == "1M":
        benchmark.extra_info["target_s"] = 0.050  # seed Wave 4: <= 50 ms per 1M Parquet rows
    if how == "pandas old engine" and label == "10M":
        benchmark.pedantic(fn, rounds=2, iterations=1)
    else:
        benchmark(fn)


@pytest.mark.parametrize("how", ["bare read_parquet of both files", "omega scan_symbol"])
def test_parquet_both_sides(benchmark: Any, parquet_root: tuple[str, Path], how: str) -> None:
    """scan_symbol (bid and ask read in parallel, paired by time) against reading both files."""
    label, root = parquet_root
    benchmark.group = f"parquet bid+ask {label}"
    if how.startswith("bare"):
        benchmark.extra_info["floor"] = True
        files = [bid(root), bid(root).with_name("EURUSD_M1_ASK.parquet")]
        benchmark(lambda: [pl.read_parquet(f) for f in files])
        return
    benchmark.extra_info["target_ratio"] = 1.2
    fn = lambda: omega_pl.scan_symbol(root, "EURUSD", "M1").collect()  # noqa: E731
    out = benchmark(fn)
    assert out.height > 0.9 * int(label.rstrip("M")) * 1_000_000
    files = [bid(root), bid(root).with_name("EURUSD_M1_ASK.parquet")]
    benchmark.extra_info["interleaved_ratio"] = interleaved_ratio(
        lambda: [pl.read_parquet(f) for f in files], fn, 15 if label == "1M" else 5
    )


def test_parquet_normalize(benchmark: Any, parquet_root: tuple[str, Path]) -> None:
    label, root = parquet_root
    benchmark.group = f"parquet one side {label}"
    benchmark.extra_info["target_ratio"] = 1.2
    fn = lambda: omega_pl.scan_candles(bid(root), timeframe="M1", normalize=True).collect()  # noqa: E731
    benchmark(fn)
    benchmark.extra_info["interleaved_ratio"] = interleaved_ratio(
        lambda: pl.read_parquet(bid(root)), fn, 21 if label == "1M" else 5
    )


def test_market_hours_mask_10m(benchmark: Any) -> None:
    benchmark.group = "market-hours mask 10M timestamps"
    t = pl.datetime_range(
        pl.datetime(2010, 1, 1), pl.datetime(2029, 1, 1), "1m", time_zone="UTC", eager=True
    ).head(10_000_000)
    df = pl.DataFrame({"time": t})
    benchmark(lambda: df.select(omega_pl.market_hours_mask("time")))


@pytest.mark.parametrize("how", ["omega one side", "bare read_csv", "pandas old engine"])
def test_csv_1m(benchmark: Any, csv_root_1m: Path, how: str) -> None:
    benchmark.group = "csv one side 1M"
    path = bid(csv_root_1m, "csv")
    fn = {
        "omega one side": lambda: omega_pl.scan_candles(path, timeframe="M1").collect(),
        "bare read_csv": lambda: pl.read_csv(path, try_parse_dates=True),
        "pandas old engine": lambda: pandas_old_engine(path, "csv"),
    }[how]
    if how == "omega one side":
        benchmark.extra_info["target_s"] = 0.5  # seed Wave 4: <= 500 ms per 1M CSV rows
    if how == "pandas old engine":
        benchmark.pedantic(fn, rounds=3, iterations=1)
    else:
        benchmark(fn)


_MEMORY_PROBE = """
import gc, sys, threading, time, polars as pl, omega_pl
path, fmt = sys.argv[1], sys.argv[2]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

# Warm up the plugin and the zone table without touching the file (its
# buffers would stay in the allocator and hide the load's real footprint).
pl.DataFrame({"time": [0]}, schema={"time": pl.Datetime("us", "UTC")}).select(
    omega_pl.market_hours_mask("time"))
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
    fh.write("5")
rss0, anon0 = status("VmRSS:"), status("RssAnon:")
peak_anon, done = anon0, False

def sample():  # anonymous memory (allocations) has no kernel peak counter: sample it
    global peak_anon
    while not done:
        peak_anon = max(peak_anon, status("RssAnon:"))
        time.sleep(0.0005)

sampler = threading.Thread(target=sample)
sampler.start()
df = omega_pl.scan_candles(path, timeframe="M1").collect()
time.sleep(0.01)
done = True
sampler.join()
print(status("VmHWM:") - rss0, peak_anon - anon0, df.estimated_size())
"""


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_peak_memory_1m(
    benchmark: Any, data_dir: Path, fmt: str, request: pytest.FixtureRequest
) -> None:
    """Peak RSS added by loading 1M rows, against the size of the resulting frame."""
    root = request.getfixturevalue("csv_root_1m") if fmt == "csv" else data_dir / "parquet-1M"
    if fmt == "parquet" and not bid(root).exists():
        pytest.skip("needs the 1M parquet files of test_parquet_one_side")
    path = bid(root, fmt)
    benchmark.group = "peak memory 1M"

    def probe() -> tuple[int, int, int]:
        res = subprocess.run(
            [sys.executable, "-c", _MEMORY_PROBE, str(path), fmt],
            check=True,
            capture_output=True,
            text=True,
        )
        rss, anon, size = (int(v) for v in res.stdout.split())
        return rss, anon, size

    rss, anon, size = benchmark.pedantic(probe, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {
            "peak_rss_added_bytes": rss,
            "peak_anon_added_bytes": anon,
            "frame_bytes": size,
            "rss_ratio": round(rss / size, 3),
            "anon_ratio": round(anon / size, 3),
        }
    )
    print(
        f"\n{fmt}: frame {size / 2**20:.1f} MiB; peak allocations added {anon / 2**20:.1f} MiB "
        f"({anon / size:.2f}x); peak RSS added {rss / 2**20:.1f} MiB ({rss / size:.2f}x, "
        "incl. file and library pages)"
    )
    assert size == 1_000_000 * 48, "the probe must have loaded the whole 1M-row file"


_PAIR_PROBE = """
import sys, threading, time
how, root = sys.argv[1], sys.argv[2]
import polars as pl

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

if how == "pandas":
    import pandas as pd
else:
    import omega_pl
    pl.DataFrame({"time": [0]}, schema={"time": pl.Datetime("us", "UTC")}).select(
        omega_pl.market_hours_mask("time"))
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
rss0 = status("VmRSS:")
if how == "pandas":  # the original engine: read both sides, index by time, merge
    bid = pd.read_parquet(f"{root}/EURUSD/EURUSD_M1_BID.parquet").set_index("time")
    ask = pd.read_parquet(f"{root}/EURUSD/EURUSD_M1_ASK.parquet").set_index("time")
    frame = bid.merge(ask, left_index=True, right_index=True, suffixes=("_bid", "_ask"))
else:
    frame = omega_pl.scan_symbol(root, "EURUSD", "M1").collect()
print(status("VmHWM:") - rss0, len(frame))
"""


@pytest.mark.parametrize("how", ["pandas read_parquet + merge", "omega scan_symbol"])
def test_peak_memory_bid_ask_1m(benchmark: Any, data_dir: Path, how: str) -> None:
    """Peak RSS added by loading 1M bid + ask rows, omega_pl against pandas (seed: -50 %)."""
    root = data_dir / "parquet-1M"
    if not bid(root).exists():
        pytest.skip("needs the 1M parquet files of test_parquet_one_side")
    benchmark.group = "peak memory bid+ask 1M"
    tag = "pandas" if how.startswith("pandas") else "omega"

    def probe() -> tuple[int, int]:
        res = subprocess.run(
            [sys.executable, "-c", _PAIR_PROBE, tag, str(root)],
            check=True,
            capture_output=True,
            text=True,
        )
        rss, rows = (int(v) for v in res.stdout.split())
        return rss, rows

    rss, rows = benchmark.pedantic(probe, rounds=1, iterations=1)
    benchmark.extra_info["peak_rss_added_mb"] = round(rss / 2**20, 1)
    assert rows > 600_000
