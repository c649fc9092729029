"""The plugin's kept large buffers (``omega_pl.memory``): reuse gives the same
results, ``release_buffers`` hands them back, and the environment cap holds."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omega_pl as op

# Above the plugin's 4 MiB threshold for a Float64 column.
ROWS = 700_000


def _frame() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    close = 1.1 + np.cumsum(rng.normal(0, 1e-4, ROWS))
    close[rng.random(ROWS) < 0.01] = np.nan
    return pl.DataFrame({"close": close, "high": close + 1e-4, "low": close - 1e-4})


SPECS = ["ema:20", "sma:50", "macd", "bollinger:20,2", "atr:14", "dmi:14", "rolling_std:20"]


def test_reused_buffers_give_identical_results() -> None:
    df = _frame()
    op.release_buffers()
    first = op.with_indicators(df, SPECS)
    # Free the first outputs so that the second run is served from kept
    # buffers (dirty with the first run's values), then compare.
    expected = first.clone()
    del first
    again = op.with_indicators(df, SPECS)
    assert_frame_equal(again, expected)  # values and missing rows alike


def _released_after_one_ema(cap_mb: str) -> int:
    """In a fresh process with ``OMEGA_PL_BUFFER_CACHE_MB=cap_mb``: compute one
    column, drop it, and return what ``release_buffers`` released (twice)."""
    code = (
        "import numpy as np, polars as pl, omega_pl as op\n"
        f"df = pl.DataFrame({{'close': np.linspace(1.0, 2.0, {ROWS})}})\n"
        "out = df.select(pl.col('close').omega.ema(20)); del out\n"
        "print(op.release_buffers(), op.release_buffers())\n"
    )
    env = {**os.environ, "OMEGA_PL_BUFFER_CACHE_MB": cap_mb}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    first, second = (int(v) for v in done.stdout.split())
    assert second == 0
    return first


@pytest.mark.skipif(sys.platform != "linux", reason="buffers are kept on Linux only")
def test_release_buffers_returns_what_was_kept() -> None:
    assert _released_after_one_ema("256") >= ROWS * 8


def test_a_zero_cap_keeps_nothing() -> None:
    assert _released_after_one_ema("0") == 0


def test_a_cap_that_is_not_a_whole_number_is_reported() -> None:
    code = "import omega_pl"
    env = {**os.environ, "OMEGA_PL_BUFFER_CACHE_MB": "1.5"}
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "OMEGA_PL_BUFFER_CACHE_MB='1.5' is not a whole number" in done.stderr
