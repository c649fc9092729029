"""The streaming candle CSV reader (``omega_pl._csv``) against Polars' CSV reader.

Run: ``pytest benchmarks/test_bench_csv_reader.py --benchmark-only -s``. Time:
a full collect of 1M native-layout rows. Memory: peak anonymous RSS added by
that collect in a fresh process, sampled every 0.5 ms, against the frame.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from omega_pl import io as omega_io
from tests.test_csv_reader import polars_scan


def bid_csv(root: Path) -> Path:
    return root / "EURUSD" / "EURUSD_M1_BID.csv"


def reader_scan(path: Path) -> pl.LazyFrame:
    """The batch reader as ``omega_pl.io`` sets it up from the header."""
    return omega_io._candle_csv_scan(path)


@pytest.mark.parametrize("how", ["candle csv reader", "polars scan_csv + parse"])
def test_csv_reader_1m(benchmark: Any, csv_root_1m: Path, how: str) -> None:
    benchmark.group = "csv scan only 1M"
    path = bid_csv(csv_root_1m)
    lf = reader_scan(path) if how == "candle csv reader" else polars_scan(path)
    out = benchmark(lf.collect)
    assert out.height == 1_000_000


_PROBE = """
import sys, threading, time
from pathlib import Path
import polars as pl
sys.path.insert(0, sys.argv[3])
from benchmarks.test_bench_csv_reader import polars_scan, reader_scan

path, how = Path(sys.argv[1]), sys.argv[2]
plan = reader_scan if how == "reader" else polars_scan

def rss_anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024

tiny = Path(sys.argv[4])
tiny.write_text("UTC time,Open,High,Low,Close,Volume\\n2025-01-07 00:00:00+00:00,1,2,0.5,1.5,1\\n")
plan(tiny).collect()  # warm up plugin and thread pools on a tiny file
lf = plan(path)
base = peak = rss_anon()
done = False

def sample():
    global peak
    while not done:
        peak = max(peak, rss_anon())
        time.sleep(0.0005)

th = threading.Thread(target=sample)
th.start()
df = lf.collect()
done = True
th.join()
print(max(peak, rss_anon()) - base, df.estimated_size())
"""


@pytest.mark.parametrize("how", ["reader", "polars"])
def test_csv_reader_peak_memory_1m(
    benchmark: Any, csv_root_1m: Path, how: str, tmp_path: Path
) -> None:
    """Peak anonymous memory added by the collect, against the frame's size."""
    benchmark.group = "csv scan peak memory 1M"
    path = bid_csv(csv_root_1m)
    repo = Path(__file__).resolve().parents[1]

    def probe() -> tuple[int, int]:
        res = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path), how, str(repo), str(tmp_path / "t.csv")],
            check=True,
            capture_output=True,
            text=True,
        )
        added, size = (int(v) for v in res.stdout.split())
        return added, size

    added, size = benchmark.pedantic(probe, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"peak_anon_added_bytes": added, "frame_bytes": size, "ratio": round(added / size, 3)}
    )
    print(f"\n{how}: peak RssAnon +{added / 2**20:.1f} MiB, frame {size / 2**20:.1f} MiB")
