# Generated from omega_pl/indicators/catalog.py by
# `python -m omega_pl.indicators.stub`; do not edit (a test compares).
from typing import Literal

import polars as pl

IntoExpr = str | pl.Expr
Convention = Literal["reference", "talib"]

__all__ = [
    "OmegaExpr",
    "atr",
    "bollinger",
    "bollinger_stepwise",
    "choppiness",
    "dema",
    "dmi",
    "ema",
    "ema_stepwise",
    "garch_volatility",
    "garch_volatility_local",
    "kalman_garch_zscore",
    "kalman_garch_zscore_local",
    "kalman_mean",
    "kalman_zscore",
    "kalman_zscore_stepwise",
    "macd",
    "momentum",
    "roc",
    "rolling_std",
    "rsi",
    "sma",
    "tema",
    "vol_cluster",
    "zscore",
]

def ema(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Exponential moving average with gap re-weighting (SPEC 2.1, primitive P1)."""

def sma(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Simple moving average (SPEC 2.3)."""

def dema(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Double EMA (SPEC 3.1) on the original port's EMA (``a = 2/(period+1)``, gaps carried)."""

def tema(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Triple EMA (SPEC 3.2) on the original port's EMA."""

def rsi(source: IntoExpr, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
    """Relative strength index (SPEC 2.4): ``EWM(1/period)`` of gains and losses, no SMA seed."""

def roc(source: IntoExpr, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
    """Rate of change in percent (SPEC 2.6): ``((C_t − C_{t−p}) / C_{t−p}) · 100``."""

def momentum(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Momentum (SPEC 3.3): ``C_t − C_{t−period}`` where both are present."""

def macd(source: IntoExpr, fast: int = 12, slow: int = 26, signal: int = 9, *, convention: Convention = "reference") -> pl.Expr:
    """MACD (SPEC 2.5) as ``Struct{macd, signal, histogram}``."""

def rolling_std(source: IntoExpr, period: int, ddof: int = 1, *, convention: Convention = "reference") -> pl.Expr:
    """Rolling standard deviation, plain two-pass (SPEC 3.4); null over windows with a gap."""

def bollinger(source: IntoExpr, period: int = 20, std_factor: float = 2.0, *, exact_std: bool = False, convention: Convention = "reference") -> pl.Expr:
    """Bollinger bands (SPEC 2.8) as ``Struct{upper, middle, lower}``."""

def zscore(source: IntoExpr, window: int = 100, mean_source: Literal["rolling", "ema"] = "rolling", ema_period: int | None = None, *, exact_std: bool = False) -> pl.Expr:
    """Z-score of the close against a rolling or EMA mean (SPEC 2.15)."""

def atr(high: IntoExpr, low: IntoExpr, close: IntoExpr, period: int = 14, *, reseed: bool = False, convention: Convention = "reference") -> pl.Expr:
    """Average true range, Wilder smoothing with an SMA seed (SPEC 2.10)."""

def dmi(high: IntoExpr, low: IntoExpr, close: IntoExpr, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
    """Directional movement (SPEC 2.7) as ``Struct{plus_di, minus_di, adx}``."""

def choppiness(high: IntoExpr, low: IntoExpr, close: IntoExpr, period: int = 14) -> pl.Expr:
    """Choppiness index (SPEC 2.11): ``100·log10(ΣTR / (max H − min L)) / log10(period)``."""

def vol_cluster(high: IntoExpr, low: IntoExpr, close: IntoExpr, feature: str, atr_length: int, garch_lookback: int, garch_alpha: float = 0.05, garch_beta: float = 0.9, garch_omega: float | None = None, garch_use_log_returns: bool = True, garch_scale: float = 100.0, garch_min_periods: int = 50, garch_sigma_floor: float = 1e-06, *, garch_estimate_window: int | None = None) -> pl.Expr:
    """Volatility-cluster feature (SPEC 2.19): ATR or local GARCH volatility."""

def kalman_mean(source: IntoExpr, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False) -> pl.Expr:
    """Scalar random-walk Kalman filter of the close (SPEC 2.12)."""

def kalman_zscore(source: IntoExpr, window: int = 100, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False, exact_std: bool = False) -> pl.Expr:
    """Residual of the Kalman mean over its rolling std (SPEC 2.13)."""

def garch_volatility(source: IntoExpr, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, estimate_window: int | None = None) -> pl.Expr:
    """GARCH(1,1) one-step-ahead volatility with fixed parameters (SPEC 2.16)."""

def kalman_garch_zscore(source: IntoExpr, r: float = 0.01, q: float = 1.0, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, carry_gaps: bool = False, estimate_window: int | None = None) -> pl.Expr:
    """Kalman residual over ``|C| · σ_GARCH`` (SPEC 2.17)."""

def garch_volatility_local(source: IntoExpr, lookback: int = 400, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, estimate_window: int | None = None) -> pl.Expr:
    """Per row, σ at the end of a GARCH run restarted on the last ``lookback`` closes (SPEC 2.18)."""

def kalman_garch_zscore_local(source: IntoExpr, lookback: int = 400, r: float = 0.01, q: float = 1.0, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, carry_gaps: bool = False, estimate_window: int | None = None) -> pl.Expr:
    """Per row, the Kalman-GARCH z-score of the last ``lookback`` closes with both filters restarted on that segment (SPEC 2.20)."""

def ema_stepwise(source: IntoExpr, period: int, *, bar: IntoExpr) -> pl.Expr:
    """EMA that advances once per higher-timeframe bar (SPEC 2.2, P4)."""

def bollinger_stepwise(source: IntoExpr, period: int = 20, std_factor: float = 2.0, *, bar: IntoExpr, exact_std: bool = False) -> pl.Expr:
    """Bollinger bands advancing once per higher-timeframe bar (SPEC 2.9, P4)."""

def kalman_zscore_stepwise(source: IntoExpr, window: int = 100, r: float = 0.01, q: float = 1.0, *, bar: IntoExpr, exact_std: bool = False) -> pl.Expr:
    """Kalman z-score advancing once per higher-timeframe bar (SPEC 2.14, P4)."""

class OmegaExpr:
    """The ``omega`` expression namespace."""

    def __init__(self, expr: pl.Expr) -> None: ...
    def ema(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """Exponential moving average with gap re-weighting (SPEC 2.1, primitive P1)."""
    def sma(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """Simple moving average (SPEC 2.3)."""
    def dema(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """Double EMA (SPEC 3.1) on the original port's EMA (``a = 2/(period+1)``, gaps carried)."""
    def tema(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """Triple EMA (SPEC 3.2) on the original port's EMA."""
    def rsi(self, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
        """Relative strength index (SPEC 2.4): ``EWM(1/period)`` of gains and losses, no SMA seed."""
    def roc(self, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
        """Rate of change in percent (SPEC 2.6): ``((C_t − C_{t−p}) / C_{t−p}) · 100``."""
    def momentum(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """Momentum (SPEC 3.3): ``C_t − C_{t−period}`` where both are present."""
    def macd(self, fast: int = 12, slow: int = 26, signal: int = 9, *, convention: Convention = "reference") -> pl.Expr:
        """MACD (SPEC 2.5) as ``Struct{macd, signal, histogram}``."""
    def rolling_std(self, period: int, ddof: int = 1, *, convention: Convention = "reference") -> pl.Expr:
        """Rolling standard deviation, plain two-pass (SPEC 3.4); null over windows with a gap."""
    def bollinger(self, period: int = 20, std_factor: float = 2.0, *, exact_std: bool = False, convention: Convention = "reference") -> pl.Expr:
        """Bollinger bands (SPEC 2.8) as ``Struct{upper, middle, lower}``."""
    def zscore(self, window: int = 100, mean_source: Literal["rolling", "ema"] = "rolling", ema_period: int | None = None, *, exact_std: bool = False) -> pl.Expr:
        """Z-score of the close against a rolling or EMA mean (SPEC 2.15)."""
    def atr(self, period: int = 14, *, high: IntoExpr | None = None, low: IntoExpr | None = None, reseed: bool = False, convention: Convention = "reference") -> pl.Expr:
        """Average true range, Wilder smoothing with an SMA seed (SPEC 2.10)."""
    def dmi(self, period: int = 14, *, high: IntoExpr | None = None, low: IntoExpr | None = None, convention: Convention = "reference") -> pl.Expr:
        """Directional movement (SPEC 2.7) as ``Struct{plus_di, minus_di, adx}``."""
    def choppiness(self, period: int = 14, *, high: IntoExpr | None = None, low: IntoExpr | None = None) -> pl.Expr:
        """Choppiness index (SPEC 2.11): ``100·log10(ΣTR / (max H − min L)) / log10(period)``."""
    def vol_cluster(self, feature: str, atr_length: int, garch_lookback: int, garch_alpha: float = 0.05, garch_beta: float = 0.9, garch_omega: float | None = None, garch_use_log_returns: bool = True, garch_scale: float = 100.0, garch_min_periods: int = 50, garch_sigma_floor: float = 1e-06, *, high: IntoExpr | None = None, low: IntoExpr | None = None, garch_estimate_window: int | None = None) -> pl.Expr:
        """Volatility-cluster feature (SPEC 2.19): ATR or local GARCH volatility."""
    def kalman_mean(self, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False) -> pl.Expr:
        """Scalar random-walk Kalman filter of the close (SPEC 2.12)."""
    def kalman_zscore(self, window: int = 100, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False, exact_std: bool = False) -> pl.Expr:
        """Residual of the Kalman mean over its rolling std (SPEC 2.13)."""
    def garch_volatility(self, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, estimate_window: int | None = None) -> pl.Expr:
        """GARCH(1,1) one-step-ahead volatility with fixed parameters (SPEC 2.16)."""
    def kalman_garch_zscore(self, r: float = 0.01, q: float = 1.0, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, carry_gaps: bool = False, estimate_window: int | None = None) -> pl.Expr:
        """Kalman residual over ``|C| · σ_GARCH`` (SPEC 2.17)."""
    def garch_volatility_local(self, lookback: int = 400, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, estimate_window: int | None = None) -> pl.Expr:
        """Per row, σ at the end of a GARCH run restarted on the last ``lookback`` closes (SPEC 2.18)."""
    def kalman_garch_zscore_local(self, lookback: int = 400, r: float = 0.01, q: float = 1.0, alpha: float = 0.05, beta: float = 0.9, omega: float | None = None, use_log_returns: bool = True, scale: float = 100.0, min_periods: int = 50, sigma_floor: float = 1e-06, *, carry_gaps: bool = False, estimate_window: int | None = None) -> pl.Expr:
        """Per row, the Kalman-GARCH z-score of the last ``lookback`` closes with both filters restarted on that segment (SPEC 2.20)."""
    def ema_stepwise(self, period: int, *, bar: IntoExpr) -> pl.Expr:
        """EMA that advances once per higher-timeframe bar (SPEC 2.2, P4)."""
    def bollinger_stepwise(self, period: int = 20, std_factor: float = 2.0, *, bar: IntoExpr, exact_std: bool = False) -> pl.Expr:
        """Bollinger bands advancing once per higher-timeframe bar (SPEC 2.9, P4)."""
    def kalman_zscore_stepwise(self, window: int = 100, r: float = 0.01, q: float = 1.0, *, bar: IntoExpr, exact_std: bool = False) -> pl.Expr:
        """Kalman z-score advancing once per higher-timeframe bar (SPEC 2.14, P4)."""
