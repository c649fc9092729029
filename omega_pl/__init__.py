"""omega_pl: a Polars-native pipeline for FX/CFD bid/ask candles.

Load CSV/Parquet candles lazily with time-window pushdown
(:func:`scan_candles`, :func:`scan_symbol`), mask market hours
(:func:`market_hours_mask`, :func:`daily_clean_mask`), floor and resample
timeframes (:func:`floor_time`, :func:`resample`), and compute indicators as
Rust-backed Polars expressions (``pl.col("bid_close").omega.ema(20)``).
"""

from __future__ import annotations

from omega_pl import datasets
from omega_pl._plugins import __version__
from omega_pl.errors import (
    CandleFileNotFoundError,
    DuplicateTimestampsWarning,
    OmegaError,
    ParameterError,
    SchemaError,
    TimeframeError,
    TimestampParseError,
    WindowError,
)
from omega_pl.indicators import OmegaExpr, ema
from omega_pl.io import CANDLE_SCHEMA, candle_files, parse_time_bound, scan_candles, scan_symbol
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.timeframes import OHLCV, Timeframe, floor_time, resample

__all__ = [
    "CANDLE_SCHEMA",
    "OHLCV",
    "CandleFileNotFoundError",
    "DuplicateTimestampsWarning",
    "OmegaError",
    "OmegaExpr",
    "ParameterError",
    "SchemaError",
    "Timeframe",
    "TimeframeError",
    "TimestampParseError",
    "WindowError",
    "__version__",
    "candle_files",
    "daily_clean_mask",
    "datasets",
    "ema",
    "floor_time",
    "market_hours_mask",
    "parse_time_bound",
    "resample",
    "scan_candles",
    "scan_symbol",
]
