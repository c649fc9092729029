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
from omega_pl.alignment import (
    AlignedScan,
    HigherSource,
    align_timeframes,
    aligned_column,
    auto_stale_limit,
    scan_aligned,
)
from omega_pl.batch import (
    INDICATORS,
    IndicatorPlan,
    IndicatorSpec,
    describe_indicator,
    parse_spec,
    plan_indicators,
    with_indicators,
)
from omega_pl.errors import (
    CandleFileNotFoundError,
    DuplicateTimestampsWarning,
    LookAheadWarning,
    OmegaError,
    ParameterError,
    SchemaError,
    TimeframeError,
    TimelineError,
    TimestampParseError,
    WindowError,
)
from omega_pl.indicators import (
    OmegaExpr,
    atr,
    bollinger,
    bollinger_stepwise,
    choppiness,
    dema,
    dmi,
    ema,
    ema_stepwise,
    garch_volatility,
    garch_volatility_local,
    kalman_garch_zscore,
    kalman_garch_zscore_local,
    kalman_mean,
    kalman_zscore,
    kalman_zscore_stepwise,
    macd,
    momentum,
    roc,
    rolling_std,
    rsi,
    sma,
    tema,
    vol_cluster,
    zscore,
)
from omega_pl.io import CANDLE_SCHEMA, candle_files, parse_time_bound, scan_candles, scan_symbol
from omega_pl.memory import release_buffers
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.slicer import (
    Candle,
    MultiSymbolBatch,
    MultiSymbolSlice,
    MultiSymbolSlicer,
    SymbolSlicer,
)
from omega_pl.timeframes import OHLCV, Timeframe, floor_time, resample

__all__ = [
    "CANDLE_SCHEMA",
    "INDICATORS",
    "OHLCV",
    "AlignedScan",
    "Candle",
    "CandleFileNotFoundError",
    "DuplicateTimestampsWarning",
    "HigherSource",
    "IndicatorPlan",
    "IndicatorSpec",
    "LookAheadWarning",
    "MultiSymbolBatch",
    "MultiSymbolSlice",
    "MultiSymbolSlicer",
    "OmegaError",
    "OmegaExpr",
    "ParameterError",
    "SchemaError",
    "SymbolSlicer",
    "Timeframe",
    "TimeframeError",
    "TimelineError",
    "TimestampParseError",
    "WindowError",
    "__version__",
    "align_timeframes",
    "aligned_column",
    "atr",
    "auto_stale_limit",
    "bollinger",
    "bollinger_stepwise",
    "candle_files",
    "choppiness",
    "daily_clean_mask",
    "datasets",
    "dema",
    "describe_indicator",
    "dmi",
    "ema",
    "ema_stepwise",
    "floor_time",
    "garch_volatility",
    "garch_volatility_local",
    "kalman_garch_zscore",
    "kalman_garch_zscore_local",
    "kalman_mean",
    "kalman_zscore",
    "kalman_zscore_stepwise",
    "macd",
    "market_hours_mask",
    "momentum",
    "parse_spec",
    "parse_time_bound",
    "plan_indicators",
    "release_buffers",
    "resample",
    "roc",
    "rolling_std",
    "rsi",
    "scan_aligned",
    "scan_candles",
    "scan_symbol",
    "sma",
    "tema",
    "vol_cluster",
    "with_indicators",
    "zscore",
]
