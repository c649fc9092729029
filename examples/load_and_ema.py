"""Load a symbol's bid/ask candles lazily, add an EMA per side, and summarise.

Run: ``python examples/load_and_ema.py [DATA_ROOT]`` (without a root it uses
the generated sample data).
"""

from __future__ import annotations

import sys

import polars as pl

import omega_pl


def main(root: str | None = None) -> pl.DataFrame:
    data = root or omega_pl.datasets.sample_data_root()
    frame = (
        omega_pl.scan_symbol(data, "EURUSD", "M5", start="2025-03-24", end="2025-04-11")
        .with_columns(
            pl.col("bid_close").omega.ema(20).alias("bid_ema20"),
            omega_pl.ema("ask_close", 20).alias("ask_ema20"),
            ((pl.col("ask_close") - pl.col("bid_close")) / 0.0001).alias("spread_pips"),
        )
        .collect()
    )
    hourly = omega_pl.resample(
        frame.select("time", "^(bid|ask)_(open|high|low|close|volume)$"), "H1"
    )
    print(frame.tail(5))
    print(f"{frame.height} M5 bars -> {hourly.height} H1 bars")
    return frame


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
