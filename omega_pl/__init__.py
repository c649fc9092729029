"""omega_pl: a Polars-native pipeline for FX/CFD bid/ask candles.

Load CSV/Parquet candles lazily with time-window pushdown
(:func:`scan_candles`, :func:`scan_symbol`), mask market hours
(:func:`market_hours_mask`, :func:`daily_clean_mask`), floor and resample
timeframes (:func:`floor_time`, :func:`resample`), compute indicators as
Rust-backed Polars expressions (``pl.col("bid_close").omega.ema(20)``), and
build a whole universe's dataset locally or on Ray (:func:`build_dataset`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from omega_pl.alignment import (
    AlignedScan,
    HigherSource,
    align_timeframes,
    aligned_column,
    auto_stale_limit,
    scan_aligned,
)
from omega_pl.errors import (
    CandleDataWarning,
    CandleFileNotFoundError,
    DuplicateTimestampsWarning,
    EncodingError,
    FileFormatError,
    FileReadError,
    LookAheadWarning,
    MissingExtraError,
    MissingValuesWarning,
    NoCommonBarsWarning,
    OmegaError,
    ParameterError,
    SchemaError,
    TimeframeError,
    TimeframeMismatchWarning,
    TimelineError,
    TimestampParseError,
    WindowError,
)
from omega_pl.indicators import (
    INDICATORS,
    IndicatorPlan,
    IndicatorSpec,
    OmegaExpr,
    SpecFile,
    atr,
    bollinger,
    bollinger_stepwise,
    choppiness,
    dema,
    describe_indicator,
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
    parse_spec,
    plan_indicators,
    read_spec_file,
    roc,
    rolling_std,
    rsi,
    sma,
    tema,
    vol_cluster,
    with_indicators,
    zscore,
)
from omega_pl.instruments import pip_size
from omega_pl.io import (
    CANDLE_SCHEMA,
    CandleFileName,
    candle_files,
    candle_symbols,
    candle_timeframes,
    parse_candle_file_name,
    parse_time_bound,
    scan_candles,
    scan_symbol,
    time_window,
)
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.summary import CandleSummary, summarize
from omega_pl.timeframes import OHLCV, Timeframe, floor_time, resample
from omega_pl.universe import DatasetReport, build_dataset

if TYPE_CHECKING:
    from omega_pl import datasets
    from omega_pl._plugins import __version__
    from omega_pl.datasets import SAMPLE_SYMBOLS
    from omega_pl.slicer import (
        Candle,
        How,
        MultiSymbolBatch,
        MultiSymbolSlice,
        MultiSymbolSlicer,
        SymbolSlicer,
    )

#: Names imported on first use, not at ``import omega_pl``, so that importing
#: the package starts no thread and maps no large buffer: the datasets and
#: slicer modules import NumPy, whose import starts a BLAS thread pool, and
#: the compiled library's relocations take 4 MB (Polars loads it anyway when
#: the first omega expression runs).
_LAZY = {
    "__version__": ("omega_pl._plugins", "__version__"),
    "datasets": ("omega_pl.datasets", None),
    "SAMPLE_SYMBOLS": ("omega_pl.datasets", "SAMPLE_SYMBOLS"),
    **{
        name: ("omega_pl.slicer", name)
        for name in (
            "Candle",
            "How",
            "MultiSymbolBatch",
            "MultiSymbolSlice",
            "MultiSymbolSlicer",
            "SymbolSlicer",
        )
    },
}


def __getattr__(name: str) -> Any:
    """The lazily imported names of :data:`_LAZY` (PEP 562)."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'omega_pl' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "CANDLE_SCHEMA",
    "INDICATORS",
    "OHLCV",
    "SAMPLE_SYMBOLS",
    "AlignedScan",
    "Candle",
    "CandleDataWarning",
    "CandleFileName",
    "CandleFileNotFoundError",
    "CandleSummary",
    "DatasetReport",
    "DuplicateTimestampsWarning",
    "EncodingError",
    "FileFormatError",
    "FileReadError",
    "HigherSource",
    "How",
    "IndicatorPlan",
    "IndicatorSpec",
    "LookAheadWarning",
    "MissingExtraError",
    "MissingValuesWarning",
    "MultiSymbolBatch",
    "MultiSymbolSlice",
    "MultiSymbolSlicer",
    "NoCommonBarsWarning",
    "OmegaError",
    "OmegaExpr",
    "ParameterError",
    "SchemaError",
    "SpecFile",
    "SymbolSlicer",
    "Timeframe",
    "TimeframeError",
    "TimeframeMismatchWarning",
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
    "build_dataset",
    "candle_files",
    "candle_symbols",
    "candle_timeframes",
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
    "parse_candle_file_name",
    "parse_spec",
    "parse_time_bound",
    "pip_size",
    "plan_indicators",
    "read_spec_file",
    "resample",
    "roc",
    "rolling_std",
    "rsi",
    "scan_aligned",
    "scan_candles",
    "scan_symbol",
    "sma",
    "summarize",
    "tema",
    "time_window",
    "vol_cluster",
    "with_indicators",
    "zscore",
]
