"""Drop-in data layer for the original backtest engine: change the imports, keep the strategy.

``from omega_pl.engine import IndicatorCache, SymbolDataSlice, ...`` gives the
original engine's data-layer classes with their exact public signatures
(``ENGINE-API.md``), computing through omega_pl's loaders and Rust kernels:

* :class:`Candle` — the original's record; :class:`CandleSeq` — list-like
  candles built on first access; :func:`candle_lookup` — ``{timestamp: candle}``.
* :class:`CSVDataHandler` — ``load_candles(start_dt, end_dt)`` →
  ``{"bid": [...], "ask": [...]}``; :func:`trim_candle_build_caches`,
  :func:`reset_candle_build_caches`.
* :func:`load_data_package` — ``{tf: {"bid": [...], "ask": [...]}}`` on the
  primary grid with aligned higher timeframes (what the original's runner built).
* :class:`IndicatorCache` — every indicator method of the original, memoized
  (a repeat returns the same object), plus ``<name>_array`` and
  ``compute_batch`` (the seeds' array API); ``IndicatorCache.from_frame``
  builds one from a ``scan_aligned`` frame without candle objects;
  :func:`get_cached_indicator_cache`, :func:`indicator_cache_pool_size`,
  :func:`clear_indicator_cache_pool`.
* :class:`SymbolDataSlice`, :class:`CandleSet`, :class:`MultiSymbolSlice`,
  :class:`SliceView` — the per-step views strategies read.

Defaults reproduce the original (SPEC-indicators.md, pandas 2.x semantics).
Needs pandas: ``pip install "omega-pl[engine]"``.
"""

from __future__ import annotations

try:
    import pandas as _pandas  # noqa: F401
except ImportError:  # pragma: no cover - exercised in a subprocess test
    from omega_pl.errors import MissingExtraError

    raise MissingExtraError("omega_pl.engine", "engine", "pandas") from None

from omega_pl.engine.cache import (
    CacheInfo,
    IndicatorCache,
    clear_indicator_cache_pool,
    get_cached_indicator_cache,
    indicator_cache_pool_size,
)
from omega_pl.engine.handler import (
    CSVDataHandler,
    reset_candle_build_caches,
    trim_candle_build_caches,
)
from omega_pl.engine.package import load_data_package, package_from_frame
from omega_pl.engine.records import Candle, CandleLookup, CandleSeq, candle_lookup
from omega_pl.engine.slices import CandleSet, MultiSymbolSlice, SliceView, SymbolDataSlice

__all__ = [
    "CSVDataHandler",
    "CacheInfo",
    "Candle",
    "CandleLookup",
    "CandleSeq",
    "CandleSet",
    "IndicatorCache",
    "MultiSymbolSlice",
    "SliceView",
    "SymbolDataSlice",
    "candle_lookup",
    "clear_indicator_cache_pool",
    "get_cached_indicator_cache",
    "indicator_cache_pool_size",
    "load_data_package",
    "package_from_frame",
    "reset_candle_build_caches",
    "trim_candle_build_caches",
]
