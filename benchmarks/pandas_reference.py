"""The speed baseline: every indicator written the way the original engine wrote it.

Straightforward pandas/NumPy implementations of SPEC-indicators.md §2/§3:
pandas ``ewm(adjust=False)`` and ``rolling`` where the definition is a
vectorisable average or window statistic, and plain Python ``for`` loops over
NumPy arrays where it is a recursion (ATR's Wilder smoothing, the Kalman
filter, the GARCH(1,1) filter, and the per-row ``_local`` windows).

These are **not** the parity reference (``tests/reference.py`` is): they are
not bit-exact (pandas' rolling std is used as is, the §3 indicators of the Rust
port, which the old engine never computed in pandas, use pandas' span EWM,
corner cases such as ±inf inputs are not treated specially), and they assume
the benchmark data (gap-free, positive prices). They exist to time what the
old engine's code path cost. Missing outputs are NaN; multi-output indicators
return a DataFrame with omega_pl's field names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
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

# GARCH defaults of SPEC 2.16, in the reference's parameter order.
GARCH_DEFAULTS: dict[str, Any] = {
    "alpha": 0.05,
    "beta": 0.90,
    "omega": None,
    "use_log_returns": True,
    "scale": 100.0,
    "min_periods": 50,
    "sigma_floor": 1e-6,
}


# ---------------------------------------------------------------------------
# EWM / rolling indicators (vectorised pandas)


def ema(close: pd.Series, period: int) -> pd.Series:
    """SPEC 2.1."""
    return close.ewm(span=period, adjust=False).mean()


def sma(close: pd.Series, period: int) -> pd.Series:
    """SPEC 2.3."""
    return close.rolling(period).mean()


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """SPEC 2.4."""
    delta = close.diff()
    gain = delta.where(~(delta < 0), 0.0)
    loss = (-delta).where(~(-delta < 0), 0.0)
    avg_gain = gain.ewm(alpha=1.0 / period, adjust=False).mean()
    avg_loss = loss.ewm(alpha=1.0 / period, adjust=False).mean()
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """SPEC 2.5 (with omega_pl's histogram)."""
    line = ema(close, fast) - ema(close, slow)
    sig = line.ewm(span=signal, adjust=False).mean()
    return pd.DataFrame({"macd": line, "signal": sig, "histogram": line - sig})


def roc(close: pd.Series, period: int = 14) -> pd.Series:
    """SPEC 2.6."""
    prev = close.shift(period)
    return ((close - prev) / prev) * 100.0


def true_range(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    """SPEC P3: the max of the three ranges, skipping missing terms."""
    prev = close.shift(1)
    ranges = pd.concat([(high - low).abs(), (high - prev).abs(), (low - prev).abs()], axis=1)
    return ranges.max(axis=1)


def dmi(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.DataFrame:
    """SPEC 2.7."""
    up = high - high.shift(1)
    down = low.shift(1) - low
    plus_dm = pd.Series(np.where((up > down) & (up > 0), up, 0.0), index=close.index)
    minus_dm = pd.Series(np.where((down > up) & (down > 0), down, 0.0), index=close.index)
    alpha = 1.0 / period
    atr_d = true_range(high, low, close).ewm(alpha=alpha, adjust=False).mean()
    plus_di = 100.0 * plus_dm.ewm(alpha=alpha, adjust=False).mean() / atr_d
    minus_di = 100.0 * minus_dm.ewm(alpha=alpha, adjust=False).mean() / atr_d
    dx = (plus_di - minus_di).abs() / (plus_di + minus_di) * 100.0
    adx = dx.ewm(alpha=alpha, adjust=False).mean()
    return pd.DataFrame({"plus_di": plus_di, "minus_di": minus_di, "adx": adx})


def bollinger(close: pd.Series, period: int = 20, std_factor: float = 2.0) -> pd.DataFrame:
    """SPEC 2.8."""
    middle = close.rolling(period).mean()
    std = close.rolling(period).std()
    return pd.DataFrame(
        {"upper": middle + std_factor * std, "middle": middle, "lower": middle - std_factor * std}
    )


def choppiness(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """SPEC 2.11."""
    tr_sum = true_range(high, low, close).rolling(period).sum()
    rng = high.rolling(period).max() - low.rolling(period).min()
    rng = rng.replace(0.0, np.nan)
    return 100.0 * np.log10(tr_sum / rng) / np.log10(period)


def zscore(close: pd.Series, window: int = 100) -> pd.Series:
    """SPEC 2.15 with ``mean_source="rolling"``."""
    dev = close - close.rolling(window).mean()
    return dev / dev.rolling(window).std()


# SPEC §3: the Rust port's indicators; the old engine had no pandas version, so the
# obvious pandas one (span EWM, equal to the port's EMA on gap-free data) stands in.


def dema(close: pd.Series, period: int) -> pd.Series:
    """SPEC 3.1."""
    e1 = close.ewm(span=period, adjust=False).mean()
    e2 = e1.ewm(span=period, adjust=False).mean()
    return 2.0 * e1 - e2


def tema(close: pd.Series, period: int) -> pd.Series:
    """SPEC 3.2."""
    e1 = close.ewm(span=period, adjust=False).mean()
    e2 = e1.ewm(span=period, adjust=False).mean()
    e3 = e2.ewm(span=period, adjust=False).mean()
    return 3.0 * e1 - 3.0 * e2 + e3


def momentum(close: pd.Series, period: int) -> pd.Series:
    """SPEC 3.3."""
    return close - close.shift(period)


def rolling_std(close: pd.Series, period: int, ddof: int = 1) -> pd.Series:
    """SPEC 3.4."""
    return close.rolling(period).std(ddof=ddof)


# ---------------------------------------------------------------------------
# recursions (Python loops over NumPy arrays, as the old engine did)


def atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """SPEC 2.10: Wilder ATR with an SMA seed, one Python step per row."""
    tr = true_range(high, low, close).to_numpy()
    n = len(tr)
    out = np.full(n, np.nan)
    present = np.flatnonzero(~np.isnan(tr))
    first = int(present[0]) if len(present) else 0
    if period <= 0 or first + period > n or np.isnan(tr[first : first + period]).any():
        return pd.Series(out, index=close.index)
    out[first + period - 1] = tr[first : first + period].mean()
    for t in range(first + period, n):
        if np.isnan(tr[t]):
            out[t] = out[t - 1]
        else:
            out[t] = (out[t - 1] * (period - 1) + tr[t]) / period
    return pd.Series(out, index=close.index)


def _kalman_loop(values: np.ndarray, r: float, q: float) -> np.ndarray:
    """SPEC 2.12 on an array (NaN = missing)."""
    n = len(values)
    out = np.full(n, np.nan)
    present = np.flatnonzero(~np.isnan(values))
    if not len(present):
        return out
    f = int(present[0])
    x = values[f]
    p = r
    out[f] = x
    for k in range(f + 1, n):
        p_prior = (r if np.isnan(p) else p) + q
        c = values[k]
        if np.isnan(c):
            x = np.nan
            p = np.nan
        else:
            gain = p_prior / (p_prior + r)
            x = x + gain * (c - x)
            p = (1.0 - gain) * p_prior
        out[k] = x
    return out


def kalman_mean(close: pd.Series, r: float = 0.01, q: float = 1.0) -> pd.Series:
    """SPEC 2.12."""
    return pd.Series(_kalman_loop(close.to_numpy(), r, q), index=close.index)


def kalman_zscore(
    close: pd.Series, window: int = 100, r: float = 0.01, q: float = 1.0
) -> pd.Series:
    """SPEC 2.13."""
    residual = close - kalman_mean(close, r, q)
    return residual / residual.rolling(window).std()


def _returns(close: np.ndarray, use_log_returns: bool, scale: float) -> np.ndarray:
    """Scaled returns with ``r_0`` missing (SPEC 2.16)."""
    r = np.full(len(close), np.nan)
    if use_log_returns:
        r[1:] = scale * np.log(close[1:] / close[:-1])
    else:
        r[1:] = scale * (close[1:] / close[:-1] - 1.0)
    return r


def _garch_loop(
    r: np.ndarray,
    alpha: float,
    beta: float,
    omega: float | None,
    sigma_floor: float,
    mean_lookback: int = 2000,
) -> tuple[np.ndarray, int]:
    """GARCH(1,1) variance per row from the first valid return ``f`` (SPEC 2.16).

    Returns the variances (NaN before ``f``) and ``f`` (``-1`` when there is none).
    """
    n = len(r)
    var = np.full(n, np.nan)
    valid = np.flatnonzero(~np.isnan(r))
    if not len(valid):
        return var, -1
    f = int(valid[0])
    lrv = float(np.nanvar(r[max(0, f - 1000) : f + 1]))
    if not math.isfinite(lrv) or lrv <= 0:
        lrv = 1e-6
    om = omega if omega is not None else lrv * max(1e-6, 1.0 - alpha - beta)
    om = max(om, 0.0)
    mu = float(np.nanmean(r[max(0, f - mean_lookback) : f + 1]))
    floor2 = sigma_floor * sigma_floor
    e2 = (r[f] - mu) ** 2
    v = max(lrv, e2, floor2)
    var[f] = v
    for t in range(f + 1, n):
        rt = r[t]
        if not np.isfinite(rt):
            var[t] = var[t - 1]
            continue
        v = max(om + alpha * e2 + beta * v, floor2)
        e2 = (rt - mu) ** 2
        var[t] = v
    return var, f


def garch_volatility(
    close: pd.Series,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
) -> pd.Series:
    """SPEC 2.16: σ in return units, one Python step per row."""
    n = len(close)
    if alpha + beta >= 1:
        return pd.Series(np.full(n, np.nan), index=close.index)
    values = close.to_numpy()
    if not use_log_returns:
        values = close.ffill().to_numpy()
    r = _returns(values, use_log_returns, scale)
    var, f = _garch_loop(r, alpha, beta, omega, sigma_floor)
    sigma = np.sqrt(var) / scale
    if f >= 0:
        sigma[: f + max(0, min_periods)] = np.nan
    return pd.Series(sigma, index=close.index)


def kalman_garch_zscore(
    close: pd.Series, r: float = 0.01, q: float = 1.0, **garch: Any
) -> pd.Series:
    """SPEC 2.17."""
    km = kalman_mean(close, r, q)
    sigma = garch_volatility(close, **{**GARCH_DEFAULTS, **garch})
    spread = (close.abs() * sigma).replace(0.0, np.nan)
    return (close - km) / spread


# ---------------------------------------------------------------------------
# per-row windows (a Python loop per row, each with its own loop over the window)


def _rows(n: int, rows: range | None) -> range:
    return range(n) if rows is None else rows


def _garch_window_sigma(
    window: np.ndarray,
    mean_lookback: int,
    alpha: float,
    beta: float,
    omega: float | None,
    use_log_returns: bool,
    scale: float,
    min_periods: int,
    sigma_floor: float,
) -> float:
    """σ at the last position of a GARCH run restarted on ``window`` (SPEC 2.18/2.20)."""
    r = _returns(window, use_log_returns, scale)
    r[~np.isfinite(r)] = np.nan
    var, f = _garch_loop(r, alpha, beta, omega, sigma_floor, mean_lookback)
    if f < 0 or (len(window) - 1) < f + max(0, min_periods):
        return math.nan
    return math.sqrt(var[-1]) / scale


def garch_volatility_local(
    close: pd.Series, lookback: int = 400, rows: range | None = None, **garch: Any
) -> pd.Series:
    """SPEC 2.18: for each row, the GARCH σ of its own trailing window.

    ``rows`` restricts the computation to those row positions (the others stay
    NaN), so the benchmark can time a slice and scale it (cost is per row).
    """
    p = {**GARCH_DEFAULTS, **garch}
    values = close.to_numpy()
    out = np.full(len(values), np.nan)
    if p["alpha"] + p["beta"] >= 1:
        return pd.Series(out, index=close.index)
    length = max(1, lookback)
    for i in _rows(len(values), rows):
        out[i] = _garch_window_sigma(values[max(0, i - length + 1) : i + 1], 2000, **p)
    return pd.Series(out, index=close.index)


def kalman_garch_zscore_local(
    close: pd.Series,
    lookback: int = 400,
    r: float = 0.01,
    q: float = 1.0,
    rows: range | None = None,
    **garch: Any,
) -> pd.Series:
    """SPEC 2.20: for each row, the Kalman-GARCH z of its own trailing segment."""
    p = {**GARCH_DEFAULTS, **garch}
    values = close.to_numpy()
    out = np.full(len(values), np.nan)
    if p["alpha"] + p["beta"] >= 1:
        return pd.Series(out, index=close.index)
    for i in _rows(len(values), rows):
        seg = values[max(0, i - lookback + 1) : i + 1]
        if len(seg) < 2:
            continue
        km = _kalman_loop(seg, r, q)[-1]
        if np.isnan(km):
            continue
        sigma = _garch_window_sigma(seg, 1000, **p)
        if not math.isfinite(sigma) or sigma <= 0:
            continue
        spread = abs(seg[-1]) * sigma
        if not math.isfinite(spread) or spread == 0:
            continue
        z = (seg[-1] - km) / spread
        out[i] = z if math.isfinite(z) else math.nan
    return pd.Series(out, index=close.index)


def vol_cluster(
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    feature: str,
    atr_length: int,
    garch_lookback: int,
    rows: range | None = None,
) -> pd.Series:
    """SPEC 2.19 (default GARCH parameters)."""
    if str(feature).strip().lower() == "atr_points":
        return atr(high, low, close, atr_length)
    return garch_volatility_local(close, garch_lookback, rows=rows)


# ---------------------------------------------------------------------------
# stepwise (SPEC P4): reduce to the first row of each higher-timeframe bar


def _stepwise(
    close: pd.Series, bar: pd.Series, fn: Callable[[pd.Series], pd.Series | pd.DataFrame]
) -> pd.Series | pd.DataFrame:
    previous = bar.ffill().shift(1)
    new_bar = bar.notna() & (previous.isna() | (bar != previous))
    reduced = fn(close[new_bar].reset_index(drop=True))
    reduced.index = close.index[new_bar.to_numpy()]
    return reduced.reindex(close.index).ffill()


def ema_stepwise(close: pd.Series, period: int, bar: pd.Series) -> pd.Series:
    """SPEC 2.2."""
    return _stepwise(close, bar, lambda c: ema(c, period))


def bollinger_stepwise(
    close: pd.Series, period: int, std_factor: float, bar: pd.Series
) -> pd.DataFrame:
    """SPEC 2.9."""
    return _stepwise(close, bar, lambda c: bollinger(c, period, std_factor))


def kalman_zscore_stepwise(
    close: pd.Series, window: int, bar: pd.Series, r: float = 0.01, q: float = 1.0
) -> pd.Series:
    """SPEC 2.14."""
    return _stepwise(close, bar, lambda c: kalman_zscore(c, window, r, q))
