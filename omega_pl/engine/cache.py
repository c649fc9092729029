"""``IndicatorCache``: the original engine's indicator API, memoized, on omega_pl's kernels.

Every method keeps the original's name, parameter order, defaults and return
shape (``ENGINE-API.md``; semantics SPEC §2). Results are pandas ``Series`` of
float64 with a ``RangeIndex`` of the primary length, wrapping the plugin's
output without a copy where it has no nulls (such a Series is read-only: the
cache hands the same object to every caller). A timeframe or side that the
data package does not have gives empty results, as in the original.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

import omega_pl
from omega_pl._plugin import plugin_expr, positive_int
from omega_pl.engine import batch
from omega_pl.engine.batch import TUPLES
from omega_pl.engine.package import DataPackage, package_from_frame, side_columns
from omega_pl.engine.series import cached_series
from omega_pl.errors import ParameterError
from omega_pl.indicators.catalog import by_name
from omega_pl.indicators.generate import make_function

__all__ = [
    "CacheInfo",
    "IndicatorCache",
    "clear_indicator_cache_pool",
    "get_cached_indicator_cache",
    "indicator_cache_pool_size",
]

F64 = npt.NDArray[np.float64]
CLOSE, HIGH, LOW, BAR = pl.col("close"), pl.col("high"), pl.col("low"), "bar"

#: The engine's parameter names where the expression functions use others.
_RENAMED = {
    "r": "R",
    "q": "Q",
    "fast": "fast_period",
    "slow": "slow_period",
    "signal": "signal_period",
}


#: vol_cluster_series' names for the parameters of the methods it calls.
_VOL_CLUSTER_NAMES = {
    "period": "atr_length",
    "lookback": "garch_lookback",
    **{p: f"garch_{p}" for p in ("alpha", "beta", "omega", "use_log_returns", "scale")},
    **{p: f"garch_{p}" for p in ("min_periods", "sigma_floor")},
}
#: Per-row window results kept for repeated calls at the same rows (as documented
#: in :meth:`IndicatorCache.garch_volatility_local`).
WINDOWS_KEPT = 256


def _int(name: str, value: Any) -> Any:
    """An integral float as ``int`` (the original took ``20.0`` for 20); anything else as is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _renamed(exc: ParameterError, names: Mapping[str, str]) -> ParameterError:
    """``exc`` with the parameter names it mentions replaced by ``names``."""
    text = str(exc)
    for ours, theirs in names.items():
        text = text.replace(f"parameter '{ours}'", f"parameter '{theirs}'")
    return ParameterError(text)


def _engine_error(exc: ParameterError) -> ParameterError:
    """``exc`` with the expression's parameter names replaced by the engine's."""
    return _renamed(exc, _RENAMED)


def _series(values: pl.Series) -> pd.Series:
    """A read-only float64 Series over ``values`` (no copy when it has no nulls)."""
    return cached_series(values.to_numpy())


def _empty() -> pd.Series:
    return cached_series(np.empty(0))


@dataclass(frozen=True)
class CacheInfo:
    """What :meth:`IndicatorCache.cache_info` reports.

    Examples
    --------
    >>> from omega_pl.engine import Candle, IndicatorCache
    >>> candles = [Candle(None, 1.0, 1.0, 1.0, c, 1.0) for c in (1.0, 2.0, 3.0)]
    >>> ind = IndicatorCache({"M5": {"bid": candles}}, max_bytes=1_000)
    >>> ind.ema("M5", "bid", 2) is ind.ema("M5", "bid", period=2)
    True
    >>> ind.cache_info()
    CacheInfo(hits=1, misses=1, entries=1, bytes=24, max_bytes=1000)
    """

    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int | None


def _nbytes(result: Any) -> int:
    if isinstance(result, pd.Series):
        return int(result.memory_usage(index=False, deep=False))
    if isinstance(result, pd.DataFrame):
        return int(result.memory_usage(index=False, deep=False).sum())
    if isinstance(result, tuple):
        return sum(_nbytes(r) for r in result)
    if isinstance(result, np.ndarray):
        return int(result.nbytes)
    return 0


class IndicatorCache:
    """Memoized indicators of one data package ``{tf: {"bid": candles, "ask": candles}}``.

    ``multi_candle_data`` holds equal-length sequences of candles (objects
    with ``open … volume``, dicts with those keys, or ``None`` for a missing
    bar) already on the primary grid. Every result is kept under (method,
    tf, price type, parameters as bound to the method's signature), so a
    positional and a keyword call, or a call that relies on defaults, hit the
    same entry and get the *same* object back. ``max_bytes`` bounds the kept
    results (least recently used ones go first); :meth:`cache_info` counts.

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import IndicatorCache, load_data_package
    >>> root = omega_pl.datasets.sample_data_root()
    >>> pkg = load_data_package(root, "EURUSD", "M5", ["H1"], start="2025-03-24", end="2025-03-26")
    >>> ind = IndicatorCache(pkg)
    >>> ema = ind.ema("M5", "bid", 20)
    >>> ema is ind.ema("M5", price_type="bid", period=20), len(ema) == len(pkg["M5"]["bid"])
    (True, True)
    >>> ind.at(ema, -1) is None, isinstance(ind.at(ema, 5), float)
    (True, True)
    >>> len(ind.ema_stepwise("D1", "bid", 20))  # no D1 in this package: empty, no error
    0
    """

    def __init__(self, multi_candle_data: DataPackage, *, max_bytes: int | None = None) -> None:
        if not isinstance(multi_candle_data, Mapping):
            raise ParameterError(
                "parameter 'multi_candle_data' must be a mapping {tf: {'bid': candles, "
                f"'ask': candles}}, got {type(multi_candle_data).__name__}"
            )
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0
        ):
            raise ParameterError(
                f"parameter 'max_bytes' must be an integer >= 0 or None, got {max_bytes!r}"
            )
        self.multi_candle_data = multi_candle_data
        self._max_bytes = max_bytes
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._frames: dict[tuple[str, str], pl.DataFrame | None] = {}
        self._pending: list[tuple[tuple[Any, ...], pl.Expr]] | None = None
        # Per-row windows (one Series per idx) are kept apart, last WINDOWS_KEPT only:
        # a walk over every bar would otherwise keep a window per bar.
        self._windows: OrderedDict[Hashable, pd.Series] = OrderedDict()

    @classmethod
    def from_frame(
        cls,
        frame: pl.DataFrame | pl.LazyFrame,
        primary_tf: str,
        higher: Sequence[str] = (),
        *,
        max_bytes: int | None = None,
    ) -> IndicatorCache:
        """The cache of a :func:`~omega_pl.scan_symbol` / :func:`~omega_pl.scan_aligned` frame.

        No candle object is built: the indicators read the frame's columns
        (``bid_close`` …, and ``h1_bid_close`` … with the bar key
        ``h1_bid_time`` for each higher timeframe in ``higher``). The
        package (:attr:`multi_candle_data`) is still there for code that
        reads candles; its candles are made when first read.

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.engine import IndicatorCache
        >>> root = omega_pl.datasets.sample_data_root()
        >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1"], end="2025-03-20")
        >>> ind = IndicatorCache.from_frame(scan.frame, "M5", ["H1"])
        >>> bool(ind.rsi("H1", "ask").notna().any())
        True
        """
        return cls(package_from_frame(frame, primary_tf, higher), max_bytes=max_bytes)

    # -- data ------------------------------------------------------------------

    def _frame(self, tf: str, price_type: str) -> pl.DataFrame | None:
        """The columns of (tf, side), or None when the package lacks them."""
        key = (tf, price_type)
        if key not in self._frames:
            sides = self.multi_candle_data.get(tf) if isinstance(tf, Hashable) else None
            candles = sides.get(price_type) if isinstance(sides, Mapping) else None
            self._frames[key] = None if candles is None else side_columns(candles)
        return self._frames[key]

    def _length(self, tf: str, price_type: str) -> int:
        frame = self._frame(tf, price_type)
        return 0 if frame is None else frame.height

    # -- the memo ----------------------------------------------------------------

    def _get(self, key: tuple[Any, ...], build: Callable[[], pl.Expr]) -> Any:
        hit = self._memo.get(key)
        if hit is None:
            if self._pending is not None:  # compute_batch collects the plan
                self._pending.append((key, self._checked(build)))
                return None
            return self._miss(key, build)
        self._hits += 1
        if self._max_bytes is not None:
            self._memo.move_to_end(key)
        return hit

    @staticmethod
    def _checked(build: Callable[[], pl.Expr]) -> pl.Expr:
        try:
            return build()
        except ParameterError as exc:
            raise _engine_error(exc) from None

    def _miss(self, key: tuple[Any, ...], build: Callable[[], pl.Expr]) -> Any:
        expr = self._checked(build)
        frame = self._frame(key[1], key[2])
        fields = TUPLES.get(key[0])
        if frame is None:
            result: Any = _empty() if fields is None else tuple(_empty() for _ in fields)
        else:
            out = frame.select(expr.alias("x")).to_series()
            result = self._convert(out, fields)
        return self._store(key, result)

    @staticmethod
    def _convert(out: pl.Series, fields: tuple[str, ...] | None) -> Any:
        if fields is None:
            return _series(out)
        return tuple(_series(out.struct.field(f)) for f in fields)

    def _store(self, key: Hashable, result: Any) -> Any:
        self._misses += 1
        self._memo[key] = result
        if self._max_bytes is not None:
            self._bytes += _nbytes(result)
            while self._bytes > self._max_bytes and len(self._memo) > 1:
                _, old = self._memo.popitem(last=False)
                self._bytes -= _nbytes(old)
        else:
            self._bytes += _nbytes(result)
        return result

    def _keep_window(self, key: Hashable, series: pd.Series) -> pd.Series:
        self._misses += 1
        self._windows[key] = series
        if len(self._windows) > WINDOWS_KEPT:
            self._windows.popitem(last=False)
        return series

    def cache_info(self) -> CacheInfo:
        """Hits, misses, kept entries and their bytes (``max_bytes``: the bound, or None)."""
        return CacheInfo(self._hits, self._misses, len(self._memo), self._bytes, self._max_bytes)

    def cache_clear(self) -> None:
        """Forget every kept result (the counters stay)."""
        self._memo.clear()
        self._windows.clear()
        self._bytes = 0

    # -- frames and closes -----------------------------------------------------------

    def get_df(self, tf: str, price_type: str = "bid") -> pd.DataFrame:
        """``open``, ``high``, ``low``, ``close``, ``volume`` (NaN rows for missing bars)."""
        key = ("get_df", tf, price_type)
        hit = self._memo.get(key)
        if hit is not None:
            self._hits += 1
            return hit
        frame = self._frame(tf, price_type)
        if frame is None:
            df = pd.DataFrame({f: pd.Series([], dtype="float64") for f in omega_pl.OHLCV})
        else:
            df = pd.DataFrame({f: frame[f].to_numpy() for f in omega_pl.OHLCV})
        return self._store(key, df)

    def get_closes(self, tf: str, price_type: str = "bid") -> pd.Series:
        """The closes (NaN for missing bars)."""
        return self._get(("get_closes", tf, price_type), lambda: CLOSE)

    # -- indicators (SPEC §2) -------------------------------------------------------------

    def ema(self, tf: str, price_type: str, period: int) -> pd.Series:
        """EMA with pandas' gap re-weighting (SPEC 2.1)."""
        return self._get(
            ("ema", tf, price_type, period), lambda: omega_pl.ema(CLOSE, _int("period", period))
        )

    def ema_stepwise(self, tf: str, price_type: str, period: int) -> pd.Series:
        """EMA advancing once per bar of ``tf`` (SPEC 2.2)."""
        return self._get(
            ("ema_stepwise", tf, price_type, period),
            lambda: omega_pl.ema_stepwise(CLOSE, _int("period", period), bar=BAR),
        )

    def sma(self, tf: str, price_type: str, period: int) -> pd.Series:
        """Simple moving average (SPEC 2.3), equal to pandas' bit for bit.

        ``omega_pl.sma`` sums in independent segments and lands within a few
        ulp of pandas; here the original's streaming sum is replayed exactly,
        so a strategy comparing a close with its SMA decides ties as it did.
        """
        return self._get(
            ("sma", tf, price_type, period),
            lambda: plugin_expr(
                "sma_streaming", [CLOSE], {"period": positive_int("period", _int("period", period))}
            ),
        )

    def rsi(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        """RSI without SMA seed (SPEC 2.4)."""
        return self._get(
            ("rsi", tf, price_type, period), lambda: omega_pl.rsi(CLOSE, _int("period", period))
        )

    def macd(
        self,
        tf: str,
        price_type: str,
        fast_period: int = 12,
        slow_period: int = 26,
        signal_period: int = 9,
    ) -> tuple[pd.Series, pd.Series]:
        """``(macd, signal)`` (SPEC 2.5)."""
        return self._get(  # type: ignore[no-any-return]
            ("macd", tf, price_type, fast_period, slow_period, signal_period),
            lambda: omega_pl.macd(
                CLOSE,
                _int("fast", fast_period),
                _int("slow", slow_period),
                _int("signal", signal_period),
            ),
        )

    def roc(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        """Rate of change in percent (SPEC 2.6)."""
        return self._get(
            ("roc", tf, price_type, period), lambda: omega_pl.roc(CLOSE, _int("period", period))
        )

    def dmi(
        self, tf: str, price_type: str, period: int = 14
    ) -> tuple[pd.Series, pd.Series, pd.Series]:
        """``(+DI, −DI, ADX)`` (SPEC 2.7)."""
        return self._get(  # type: ignore[no-any-return]
            ("dmi", tf, price_type, period),
            lambda: omega_pl.dmi(HIGH, LOW, CLOSE, _int("period", period)),
        )

    def bollinger(
        self, tf: str, price_type: str, period: int = 20, std_factor: float = 2.0
    ) -> tuple[pd.Series, pd.Series, pd.Series]:
        """``(upper, middle, lower)`` (SPEC 2.8)."""
        return self._get(  # type: ignore[no-any-return]
            ("bollinger", tf, price_type, period, std_factor),
            lambda: omega_pl.bollinger(CLOSE, _int("period", period), std_factor),
        )

    def bollinger_stepwise(
        self, tf: str, price_type: str, period: int = 20, std_factor: float = 2.0
    ) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Bollinger bands advancing once per bar of ``tf`` (SPEC 2.9)."""
        return self._get(  # type: ignore[no-any-return]
            ("bollinger_stepwise", tf, price_type, period, std_factor),
            lambda: omega_pl.bollinger_stepwise(CLOSE, _int("period", period), std_factor, bar=BAR),
        )

    def atr(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        """Wilder ATR with an SMA seed (SPEC 2.10)."""
        return self._get(
            ("atr", tf, price_type, period),
            lambda: omega_pl.atr(HIGH, LOW, CLOSE, _int("period", period)),
        )

    def choppiness(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        """Choppiness index (SPEC 2.11)."""
        return self._get(
            ("choppiness", tf, price_type, period),
            lambda: omega_pl.choppiness(HIGH, LOW, CLOSE, _int("period", period)),
        )

    def kalman_mean(self, tf: str, price_type: str, R: float = 0.01, Q: float = 1.0) -> pd.Series:  # noqa: N803
        """Scalar Kalman filter of the close (SPEC 2.12)."""
        return self._get(
            ("kalman_mean", tf, price_type, R, Q), lambda: omega_pl.kalman_mean(CLOSE, R, Q)
        )

    def kalman_zscore(
        self,
        tf: str,
        price_type: str,
        window: int = 100,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
    ) -> pd.Series:
        """Kalman residual over its rolling std (SPEC 2.13)."""
        return self._get(
            ("kalman_zscore", tf, price_type, window, R, Q),
            lambda: omega_pl.kalman_zscore(CLOSE, _int("window", window), R, Q),
        )

    def kalman_zscore_stepwise(
        self,
        tf: str,
        price_type: str,
        window: int = 100,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
    ) -> pd.Series:
        """Kalman z-score advancing once per bar of ``tf`` (SPEC 2.14)."""
        return self._get(
            ("kalman_zscore_stepwise", tf, price_type, window, R, Q),
            lambda: omega_pl.kalman_zscore_stepwise(CLOSE, _int("window", window), R, Q, bar=BAR),
        )

    def zscore(
        self,
        tf: str,
        price_type: str,
        window: int = 100,
        mean_source: str = "rolling",
        ema_period: int | None = None,
    ) -> pd.Series:
        """Z-score of the close against a rolling or EMA mean (SPEC 2.15)."""
        return self._get(
            ("zscore", tf, price_type, window, mean_source, ema_period),
            lambda: omega_pl.zscore(
                CLOSE,
                _int("window", window),
                mean_source,  # type: ignore[arg-type]
                _int("ema_period", ema_period),
            ),
        )

    def garch_volatility(
        self,
        tf: str,
        price_type: str,
        alpha: float = 0.05,
        beta: float = 0.9,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-06,
    ) -> pd.Series:
        """GARCH(1,1) volatility in return units (SPEC 2.16)."""
        params = (alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor)
        return self._get(
            ("garch_volatility", tf, price_type, *params),
            lambda: omega_pl.garch_volatility(CLOSE, *_garch(*params)),
        )

    def kalman_garch_zscore(
        self,
        tf: str,
        price_type: str,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
        alpha: float = 0.05,
        beta: float = 0.9,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-06,
    ) -> pd.Series:
        """Kalman residual over ``|C| · σ_GARCH`` (SPEC 2.17)."""
        params = (alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor)
        return self._get(
            ("kalman_garch_zscore", tf, price_type, R, Q, *params),
            lambda: omega_pl.kalman_garch_zscore(CLOSE, R, Q, *_garch(*params)),
        )

    # -- per-row windows (SPEC 2.18 to 2.20) ------------------------------------------

    def garch_volatility_local(
        self,
        tf: str,
        price_type: str,
        idx: int,
        lookback: int = 400,
        alpha: float = 0.05,
        beta: float = 0.9,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-06,
    ) -> pd.Series:
        """σ of a GARCH run restarted on the window ending at ``idx`` (SPEC 2.18).

        The window is rows ``max(0, idx − L + 1) … idx`` with ``L = max(1,
        lookback)``, ``idx`` clamped into the series; the result is indexed by
        those row positions. Empty for ``idx < 0``, an empty series or
        ``alpha + beta >= 1``. The last 256 results are kept (a walk over
        every row would otherwise keep one window per row).
        """
        params = (alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor)
        key = ("garch_volatility_local", tf, price_type, idx, lookback, *params)
        hit = self._windows.get(key)
        if hit is not None:
            self._hits += 1
            return hit
        garch = _garch(*params)
        length = _int("lookback", lookback)
        if isinstance(length, bool) or not isinstance(length, int):
            raise ParameterError(f"parameter 'lookback' must be an integer, got {lookback!r}")
        i = _index("idx", idx)
        closes = self._frame(tf, price_type)
        n = 0 if closes is None else closes.height
        if closes is None or i < 0 or n == 0 or alpha + beta >= 1:
            return self._keep_window(key, _empty())
        i = min(i, n - 1)
        start = max(0, i - max(1, length) + 1)
        window = closes.slice(start, i - start + 1)
        try:
            expr = _garch_window(CLOSE, *garch)
        except ParameterError as exc:
            raise _engine_error(exc) from None
        values = window.select(expr).to_series().to_numpy()
        series = cached_series(values, pd.RangeIndex(start, i + 1))
        return self._keep_window(key, series)

    def vol_cluster_series(
        self,
        tf: str,
        price_type: str,
        idx: int,
        feature: str,
        atr_length: int,
        garch_lookback: int,
        garch_alpha: float = 0.05,
        garch_beta: float = 0.9,
        garch_omega: float | None = None,
        garch_use_log_returns: bool = True,
        garch_scale: float = 100.0,
        garch_min_periods: int = 50,
        garch_sigma_floor: float = 1e-06,
    ) -> pd.Series | None:
        """The volatility feature behind vol clustering (SPEC 2.19).

        ``feature`` ``"atr_points"`` (trimmed, any case): ``atr(atr_length)``,
        the whole series. Anything else: :meth:`garch_volatility_local` at
        ``idx`` with ``lookback = garch_lookback`` and the ``garch_*``
        parameters, or None when that window is empty.
        """
        try:
            if str(feature or "").strip().lower() == "atr_points":
                return self.atr(tf, price_type, atr_length)
            window = self.garch_volatility_local(
                tf,
                price_type,
                idx,
                garch_lookback,
                garch_alpha,
                garch_beta,
                garch_omega,
                garch_use_log_returns,
                garch_scale,
                garch_min_periods,
                garch_sigma_floor,
            )
        except ParameterError as exc:  # name the parameter as this method calls it
            raise _renamed(exc, _VOL_CLUSTER_NAMES) from None
        return None if window.empty else window

    def kalman_garch_zscore_local(
        self,
        tf: str,
        price_type: str,
        idx: int,
        lookback: int = 400,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
        alpha: float = 0.05,
        beta: float = 0.9,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-06,
    ) -> float | None:
        """The Kalman-GARCH z-score of the ``lookback`` closes ending at ``idx`` (SPEC 2.20).

        None where the original returns None: ``idx`` outside the series,
        fewer than two closes, a missing Kalman mean, too few returns, a zero
        or non-finite scale. The values of every row are computed once per
        parameter set (in parallel) and kept.
        """
        rows = self.kalman_garch_zscore_local_array(
            tf, price_type, lookback, R, Q, alpha, beta, omega, use_log_returns, scale,
            min_periods, sigma_floor,
        )  # fmt: skip
        i = _index("idx", idx)
        if not 0 <= i < rows.shape[0]:
            return None
        value = float(rows[i])
        return None if math.isnan(value) else value

    def kalman_garch_zscore_local_array(
        self,
        tf: str,
        price_type: str,
        lookback: int = 400,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
        alpha: float = 0.05,
        beta: float = 0.9,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-06,
    ) -> F64:
        """:meth:`kalman_garch_zscore_local` for every ``idx`` at once (NaN where it gives None)."""
        params = (alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor)
        series: pd.Series = self._get(
            ("kalman_garch_zscore_local", tf, price_type, lookback, R, Q, *params),
            lambda: omega_pl.kalman_garch_zscore_local(
                CLOSE, _int("lookback", lookback), R, Q, *_garch(*params)
            ),
        )
        values: F64 = series.to_numpy()
        return values

    # -- the array API (seed Wave 1.1) ------------------------------------------------

    def compute_batch(
        self, indicators: Sequence[Mapping[str, Any]], tf: str, price_type: str
    ) -> dict[str, F64]:
        """Compute several indicators as one Polars plan: ``{key: array}``.

        ``indicators`` are dicts with ``name`` and the method's parameters
        (``{"name": "bollinger", "period": 20, "std_factor": 2.0}``) and an
        optional ``key``. Results are cached like the methods' own; keys and
        aliases: :mod:`omega_pl.engine.batch`.

        Raises
        ------
        ParameterError
            For an unknown name or parameter, an invalid value, or two
            results with one key.

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.engine import IndicatorCache, load_data_package
        >>> pkg = load_data_package(omega_pl.datasets.sample_data_root(), "EURUSD", "M5",
        ...     start="2025-03-24", end="2025-03-26")
        >>> ind = IndicatorCache(pkg)
        >>> out = ind.compute_batch([{"name": "ema", "period": 20}, {"name": "bollinger"},
        ...     {"name": "macd"}], "M5", "bid")
        >>> sorted(out)  # doctest: +NORMALIZE_WHITESPACE
        ['bollinger_lower', 'bollinger_middle', 'bollinger_upper', 'ema', 'macd_histogram',
         'macd_line', 'macd_signal']
        >>> bool((out["ema"] == ind.ema_array("M5", "bid", 20)).all())
        True
        """
        return batch.compute_batch(self, indicators, tf, price_type)

    get_closes_array: Callable[..., F64]
    ema_array: Callable[..., F64]
    ema_stepwise_array: Callable[..., F64]
    sma_array: Callable[..., F64]
    rsi_array: Callable[..., F64]
    macd_array: Callable[..., tuple[F64, F64]]
    roc_array: Callable[..., F64]
    dmi_array: Callable[..., tuple[F64, F64, F64]]
    bollinger_array: Callable[..., tuple[F64, F64, F64]]
    bollinger_stepwise_array: Callable[..., tuple[F64, F64, F64]]
    atr_array: Callable[..., F64]
    choppiness_array: Callable[..., F64]
    kalman_mean_array: Callable[..., F64]
    kalman_zscore_array: Callable[..., F64]
    kalman_zscore_stepwise_array: Callable[..., F64]
    zscore_array: Callable[..., F64]
    garch_volatility_array: Callable[..., F64]
    kalman_garch_zscore_array: Callable[..., F64]
    garch_volatility_local_array: Callable[..., F64]
    vol_cluster_series_array: Callable[..., F64 | None]

    # -- access ----------------------------------------------------------------------

    def at(self, series: Any, index: int) -> float | None:
        """``series[index]`` as a float, or None out of bounds (negative too) or for NaN.

        Works on a Series, a NumPy array or a list, and called unbound on any
        object: ``IndicatorCache.at(self, series, i)``; ±inf are returned as is.

        Examples
        --------
        >>> import pandas as pd
        >>> from omega_pl.engine import IndicatorCache
        >>> s = pd.Series([1.0, float("nan"), float("inf")])
        >>> at = IndicatorCache.at
        >>> at(object(), s, 0), at(None, s, 1), at(None, s, 2)
        (1.0, None, inf)
        >>> IndicatorCache.at(None, s, -1), IndicatorCache.at(None, s, 3)
        (None, None)
        """
        if series is None:
            return None
        values = series.to_numpy() if isinstance(series, pd.Series) else series
        try:
            i = int(index)
            if i < 0 or i >= len(values):
                return None
            value = float(values[i])
        except (TypeError, ValueError, IndexError):
            return None
        return None if math.isnan(value) else value


#: σ of one GARCH run over a whole window (SPEC 2.18's computation on one
#: window): the garch_volatility declaration with the window kernel.
_garch_window = make_function(
    dataclasses.replace(by_name()["garch_volatility"], kernel="garch_volatility_window"), __name__
)
_garch_window.__doc__ = "σ of one GARCH run over a whole window (SPEC 2.18)."


def _garch(
    alpha: float,
    beta: float,
    omega: float | None,
    use_log_returns: bool,
    scale: float,
    min_periods: int,
    sigma_floor: float,
) -> tuple[Any, ...]:
    return (
        alpha,
        beta,
        omega,
        use_log_returns,
        scale,
        _int("min_periods", min_periods),
        sigma_floor,
    )


def _index(name: str, value: Any) -> int:
    value = _int(name, value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"parameter '{name}' must be an integer row index, got {value!r}")
    return value


for _name in batch.ARRAY_METHODS:
    setattr(IndicatorCache, f"{_name}_array", batch.array_method(getattr(IndicatorCache, _name)))


# ---------------------------------------------------------------------------
# the pool


_POOL: weakref.WeakValueDictionary[int, IndicatorCache] = weakref.WeakValueDictionary()


def get_cached_indicator_cache(multi_candle_data: DataPackage) -> IndicatorCache:
    """The pool's cache of ``multi_candle_data``: the same package gives the same instance.

    An entry lives as long as its cache is referenced somewhere (the cache
    keeps its package alive, so the key cannot be reused meanwhile).

    Examples
    --------
    >>> from omega_pl.engine import get_cached_indicator_cache, indicator_cache_pool_size
    >>> package = {"M5": {"bid": [], "ask": []}}
    >>> cache = get_cached_indicator_cache(package)
    >>> cache is get_cached_indicator_cache(package), indicator_cache_pool_size() >= 1
    (True, True)
    """
    key = id(multi_candle_data)
    cache = _POOL.get(key)
    if cache is None or cache.multi_candle_data is not multi_candle_data:
        cache = IndicatorCache(multi_candle_data)
        _POOL[key] = cache
    return cache


def indicator_cache_pool_size() -> int:
    """How many caches the pool holds.

    Examples
    --------
    >>> from omega_pl.engine import clear_indicator_cache_pool, indicator_cache_pool_size
    >>> clear_indicator_cache_pool()
    >>> indicator_cache_pool_size()
    0
    """
    return len(_POOL)


def clear_indicator_cache_pool() -> None:
    """Drop every pooled cache (caches still referenced elsewhere keep working).

    Examples
    --------
    >>> from omega_pl.engine import clear_indicator_cache_pool, get_cached_indicator_cache
    >>> package = {"M5": {"bid": [], "ask": []}}
    >>> before = get_cached_indicator_cache(package)
    >>> clear_indicator_cache_pool()
    >>> get_cached_indicator_cache(package) is before
    False
    """
    _POOL.clear()
