"""The plugin keeps no memory of its own: it allocates through Polars'
allocator, as the pyo3-polars examples do, so the columns of a dropped batch
go back to the OS on Polars' schedule (its jemalloc returns freed pages
within about a second and a half)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROWS = 10_000_000
SLACK_MB = 50  # how far above its start the process may stay
# the batch of ten in benchmarks/test_bench_indicators.py
SPECS = [
    "ema:20",
    "sma:50",
    "rsi:14",
    "macd",
    "bollinger:20,2",
    "atr:14",
    "dmi:14",
    "roc:14",
    "rolling_std:20",
    "kalman_mean",
]
# Settings of Polars' allocator a user may have exported (POLARS_THP=1 is the
# opt-in the README documents); the child runs with the defaults.
ALLOCATOR_SETTINGS = ("POLARS_THP", "_RJEM_MALLOC_CONF", "MALLOC_CONF")

# Run as ``python -c CHILD rows specs...`` in a fresh interpreter: prints the
# anonymous RSS (MB) before the batch, right after it, and once it is dropped
# (polled for up to 20 s, until back within the slack of the start).
CHILD = """
import gc, json, sys, time
import numpy as np, polars as pl, omega_pl as op

def rss_anon_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no RssAnon in /proc/self/status")

rows, slack, specs = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
rng = np.random.default_rng(7)
close = 1.1 + np.cumsum(rng.normal(0.0, 1e-4, rows))
close[rng.random(rows) < 0.01] = np.nan
df = pl.DataFrame({"close": close, "high": close + 1e-4, "low": close - 1e-4})
del close
gc.collect()
start = rss_anon_mb()
out = op.with_indicators(df, specs)
columns = out.width - df.width
peak = rss_anon_mb()
del out
gc.collect()
deadline = time.monotonic() + 20.0
end = rss_anon_mb()
while end > start + slack and time.monotonic() < deadline:
    time.sleep(0.1)
    end = rss_anon_mb()
print(json.dumps({"start": start, "peak": peak, "end": end, "columns": columns}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads RssAnon from /proc/self/status")
def test_a_dropped_batch_gives_its_memory_back() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_SETTINGS}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROWS), str(SLACK_MB), *SPECS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    mb = json.loads(done.stdout)
    # The batch was computed and counted: 16 Float64 columns of 80 MB.
    assert mb["columns"] == 16
    assert mb["peak"] - mb["start"] >= mb["columns"] * ROWS * 8 / 2**20 * 0.9, mb
    assert mb["end"] - mb["start"] <= SLACK_MB, mb
