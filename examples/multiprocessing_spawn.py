"""Indicators for several symbols in parallel processes, started with ``spawn``.

Polars (and so omega_pl) is not fork-safe once its thread pool has run: a
child forked from a parent that already computed something can hang on a lock
that a parent thread held at the fork. ``multiprocessing``'s default on Linux
is ``fork``, so ask for ``spawn`` (or ``forkserver``) explicitly, as here:
each worker starts a fresh interpreter and imports omega_pl itself.

Run: ``python examples/multiprocessing_spawn.py [DATA_ROOT]`` (without a root
it uses the generated sample data).
"""

from __future__ import annotations

import multiprocessing
import sys

import polars as pl

import omega_pl


def last_bar(root: str, symbol: str) -> dict[str, object]:
    """One symbol's M5 candles with three indicators; its last row as a dict."""
    lf = omega_pl.scan_symbol(root, symbol, "M5")
    frame = omega_pl.with_indicators(lf, ["ema:20", "rsi:14", "atr:14"]).collect()
    return {"symbol": symbol, "bars": frame.height, **frame.row(-1, named=True)}


def main(root: str | None = None) -> pl.DataFrame:
    data = str(root or omega_pl.datasets.sample_data_root())
    symbols = omega_pl.candle_symbols(data)
    # Polars is not fork-safe: start the workers with "spawn", never the Linux default "fork".
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes=min(4, len(symbols))) as pool:
        rows = pool.starmap(last_bar, [(data, s) for s in symbols])
    table = pl.DataFrame(rows).select("symbol", "bars", "time", "bid_close", "bid_close_ema_20")
    with pl.Config(tbl_rows=-1, tbl_cols=-1):
        print(table)
    return table


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
