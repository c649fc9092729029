"""Independent pandas reconstruction of the original engine's data layer.

Written from /work/shared/ENGINE-API.md (names, parameter order, defaults and
return shapes) and SPEC-indicators.md §2 (semantics) the way the original
pandas ``IndicatorCache`` is described: ``ewm(..., adjust=False)`` and
``rolling(...)`` where the original used pandas, plain Python loops where the
SPEC describes a recursion (ATR seed, Kalman filter, GARCH(1,1), the ``_local``
windows), and stepwise evaluation over higher-timeframe bars detected by candle
identity (``c is not prev``, SPEC P4). It imports nothing from omega_pl, so the
acceptance test (tests/test_engine_strategy.py) can run one strategy through
``omega_pl.engine`` and through this module and compare every step.

Conventions (mirroring ``omega_pl.engine``): every Series is float64 with a
RangeIndex of the primary length, except ``garch_volatility_local``, which
returns the window's σ vector indexed by the window's row positions; a
timeframe or side absent from the data package gives empty results; invalid
parameters raise ``ValueError`` naming the parameter.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

__all__ = [
    "CandleSet",
    "IndicatorCache",
    "SymbolDataSlice",
    "clear_indicator_cache_pool",
    "get_cached_indicator_cache",
    "indicator_cache_pool_size",
]

FIELDS = ("open", "high", "low", "close", "volume")

Package = Mapping[str, Mapping[str, Sequence[Any]]]
Tuple2 = tuple[pd.Series, pd.Series]
Tuple3 = tuple[pd.Series, pd.Series, pd.Series]


# --- helpers ------------------------------------------------------------------


def _positive(name: str, value: Any) -> int:
    """Periods and windows are positive integers (error names the parameter)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _field(candle: Any, name: str) -> float:
    value = candle[name] if isinstance(candle, Mapping) else getattr(candle, name)
    return math.nan if value is None else float(value)


def _empty() -> pd.Series:
    return pd.Series([], dtype="float64", index=pd.RangeIndex(0))


def _nan_series(n: int) -> pd.Series:
    return pd.Series(np.full(n, np.nan), index=pd.RangeIndex(n), dtype="float64")


def _true_range(df: pd.DataFrame) -> pd.Series:
    """SPEC P3: max of the three terms, missing terms skipped (pandas skipna)."""
    prev_close = df["close"].shift(1)
    terms = pd.concat(
        [
            (df["high"] - df["low"]).abs(),
            (df["high"] - prev_close).abs(),
            (df["low"] - prev_close).abs(),
        ],
        axis=1,
    )
    return terms.max(axis=1, skipna=True)


def _kalman_loop(closes: Sequence[float], r: float, q: float) -> list[float]:
    """SPEC 2.12 as the original's Python loop (only NaN is missing)."""
    n = len(closes)
    out = [math.nan] * n
    first = next((k for k in range(n) if not math.isnan(closes[k])), -1)
    if first < 0:
        return out
    x = closes[first]
    p = r
    out[first] = x
    for k in range(first + 1, n):
        prior = (p if not math.isnan(p) else r) + q
        c = closes[k]
        if math.isnan(c):
            x = math.nan
            p = math.nan
        else:
            gain = prior / (prior + r)
            x = x + gain * (c - x)
            p = (1.0 - gain) * prior
        out[k] = x
    return out


def _returns(window: np.ndarray, use_log_returns: bool, scale: float) -> list[float]:
    """r_0 missing, r_j = scale · ln(p_j / p_{j-1}) or scale · (p_j / p_{j-1} - 1)."""
    with np.errstate(all="ignore"):
        ratio = window[1:] / window[:-1]
        core = np.log(ratio) if use_log_returns else ratio - 1.0
        return [math.nan, *(scale * core).tolist()] if len(window) else []


def _garch_variance(
    r: Sequence[float],
    *,
    alpha: float,
    beta: float,
    omega: float | None,
    sigma_floor: float,
    first_finite: bool,
    mu_back: int,
) -> tuple[int, list[float]]:
    """SPEC 2.16 recursion: (f, V) with V NaN before f; f = -1 when no valid return.

    ``first_finite``: f is the first finite return (2.18/2.20) instead of the
    first non-NaN one (2.16).
    """
    n = len(r)
    if first_finite:
        f = next((t for t in range(n) if math.isfinite(r[t])), -1)
    else:
        f = next((t for t in range(n) if not math.isnan(r[t])), -1)
    if f < 0:
        return -1, []
    lrv_slice = [v for v in r[max(0, f - 1000) : f + 1] if not math.isnan(v)]
    mu_slice = [v for v in r[max(0, f - mu_back) : f + 1] if not math.isnan(v)]
    with np.errstate(all="ignore"):
        lrv = float(np.var(np.asarray(lrv_slice, dtype=np.float64)))
        mu = float(np.mean(np.asarray(mu_slice, dtype=np.float64)))
    if not math.isfinite(lrv) or lrv <= 0:
        lrv = 1e-6
    om = omega if omega is not None else lrv * max(1e-6, 1.0 - alpha - beta)
    om = max(om, 0.0)
    floor2 = sigma_floor * sigma_floor
    e2 = (r[f] - mu) ** 2
    v = max(lrv, e2, floor2)
    var = [math.nan] * n
    var[f] = v
    for t in range(f + 1, n):
        rt = r[t]
        if not math.isfinite(rt):
            var[t] = var[t - 1]
            continue
        vt = max(om + alpha * e2 + beta * v, floor2)
        e2 = (rt - mu) ** 2
        v = vt
        var[t] = vt
    return f, var


# --- IndicatorCache -----------------------------------------------------------


class IndicatorCache:
    """The original's vectorised, memoizing indicator cache over one data package."""

    def __init__(self, multi_candle_data: Package) -> None:
        self.multi_candle_data = multi_candle_data
        self._df: dict[tuple[str, str], pd.DataFrame] = {}
        self._memo: dict[tuple[Any, ...], Any] = {}

    # -- data access ----------------------------------------------------------

    def _candles(self, tf: str, price_type: str) -> Sequence[Any] | None:
        sides = self.multi_candle_data.get(tf)
        if sides is None:
            return None
        return sides.get(price_type)

    def get_df(self, tf: str, price_type: str = "bid") -> pd.DataFrame:
        key = (tf, price_type)
        if key not in self._df:
            candles = self._candles(tf, price_type)
            if candles is None:
                df = pd.DataFrame({f: pd.Series([], dtype="float64") for f in FIELDS})
            else:
                cols: dict[str, list[float]] = {f: [] for f in FIELDS}
                for c in candles:
                    for f in FIELDS:
                        cols[f].append(math.nan if c is None else _field(c, f))
                df = pd.DataFrame(cols, index=pd.RangeIndex(len(candles)), dtype="float64")
            self._df[key] = df
        return self._df[key]

    def get_closes(self, tf: str, price_type: str = "bid") -> pd.Series:
        return self.get_df(tf, price_type)["close"]

    def _new_bar_rows(self, tf: str, price_type: str) -> list[int]:
        """SPEC P4 step 1 by candle identity: ``c is not prev`` over present candles."""
        rows: list[int] = []
        prev: Any = None
        for t, c in enumerate(self._candles(tf, price_type) or ()):
            if c is None:
                continue
            if prev is None or c is not prev:
                rows.append(t)
            prev = c
        return rows

    def _stepwise(
        self, tf: str, price_type: str, f: Callable[[pd.Series], tuple[pd.Series, ...]]
    ) -> tuple[pd.Series, ...]:
        """SPEC P4: reduce to new-bar closes, compute, scatter, forward-fill."""
        closes = self.get_closes(tf, price_type)
        n = len(closes)
        rows = self._new_bar_rows(tf, price_type)
        reduced = pd.Series(closes.to_numpy()[rows], dtype="float64")
        outs = []
        for part in f(reduced):
            full = _nan_series(n)
            full.iloc[rows] = part.to_numpy()
            outs.append(full.ffill())
        return tuple(outs)

    def _memoized(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- EWM / rolling indicators ------------------------------------------------

    @staticmethod
    def _ema_of(x: pd.Series, period: int) -> pd.Series:
        return x.ewm(span=period, adjust=False).mean()

    def ema(self, tf: str, price_type: str, period: int) -> pd.Series:
        p = _positive("period", period)
        return self._memoized(
            ("ema", tf, price_type, p), lambda: self._ema_of(self.get_closes(tf, price_type), p)
        )

    def ema_stepwise(self, tf: str, price_type: str, period: int) -> pd.Series:
        p = _positive("period", period)
        return self._memoized(
            ("ema_stepwise", tf, price_type, p),
            lambda: self._stepwise(tf, price_type, lambda s: (self._ema_of(s, p),))[0],
        )

    def sma(self, tf: str, price_type: str, period: int) -> pd.Series:
        p = _positive("period", period)
        return self._memoized(
            ("sma", tf, price_type, p),
            lambda: self.get_closes(tf, price_type).rolling(p, min_periods=p).mean(),
        )

    def rsi(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        p = _positive("period", period)

        def compute() -> pd.Series:
            delta = self.get_closes(tf, price_type).diff()
            gain = delta.where(~(delta < 0), 0.0)
            loss = (-delta).where(~((-delta) < 0), 0.0)
            avg_gain = gain.ewm(alpha=1.0 / p, adjust=False).mean()
            avg_loss = loss.ewm(alpha=1.0 / p, adjust=False).mean()
            return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)

        return self._memoized(("rsi", tf, price_type, p), compute)

    def macd(
        self,
        tf: str,
        price_type: str,
        fast_period: int = 12,
        slow_period: int = 26,
        signal_period: int = 9,
    ) -> Tuple2:
        fp = _positive("fast_period", fast_period)
        sp = _positive("slow_period", slow_period)
        gp = _positive("signal_period", signal_period)

        def compute() -> Tuple2:
            closes = self.get_closes(tf, price_type)
            line = self._ema_of(closes, fp) - self._ema_of(closes, sp)
            return line, self._ema_of(line, gp)

        return self._memoized(("macd", tf, price_type, fp, sp, gp), compute)

    def roc(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        # SPEC 2.6: the period is not validated (0 gives 0, negative looks forward).
        def compute() -> pd.Series:
            closes = self.get_closes(tf, price_type)
            prev = closes.shift(period)
            return ((closes - prev) / prev) * 100.0

        return self._memoized(("roc", tf, price_type, period), compute)

    def dmi(self, tf: str, price_type: str, period: int = 14) -> Tuple3:
        p = _positive("period", period)

        def compute() -> Tuple3:
            df = self.get_df(tf, price_type)
            up = df["high"] - df["high"].shift(1)
            dn = df["low"].shift(1) - df["low"]
            plus_dm = pd.Series(np.where((up > dn) & (up > 0), up, 0.0), index=df.index)
            minus_dm = pd.Series(np.where((dn > up) & (dn > 0), dn, 0.0), index=df.index)
            a = 1.0 / p
            atr_d = _true_range(df).ewm(alpha=a, adjust=False).mean()
            plus_di = 100.0 * plus_dm.ewm(alpha=a, adjust=False).mean() / atr_d
            minus_di = 100.0 * minus_dm.ewm(alpha=a, adjust=False).mean() / atr_d
            dx = (plus_di - minus_di).abs() / (plus_di + minus_di) * 100.0
            adx = dx.ewm(alpha=a, adjust=False).mean()
            return plus_di, minus_di, adx

        return self._memoized(("dmi", tf, price_type, p), compute)

    @staticmethod
    def _bands(x: pd.Series, period: int, std_factor: float) -> Tuple3:
        mid = x.rolling(period, min_periods=period).mean()
        sd = x.rolling(period, min_periods=period).std()
        return mid + std_factor * sd, mid, mid - std_factor * sd

    def bollinger(
        self, tf: str, price_type: str, period: int = 20, std_factor: float = 2.0
    ) -> Tuple3:
        p = _positive("period", period)
        k = float(std_factor)
        return self._memoized(
            ("bollinger", tf, price_type, p, k),
            lambda: self._bands(self.get_closes(tf, price_type), p, k),
        )

    def bollinger_stepwise(
        self, tf: str, price_type: str, period: int = 20, std_factor: float = 2.0
    ) -> Tuple3:
        p = _positive("period", period)
        k = float(std_factor)

        def compute() -> Tuple3:
            upper, mid, lower = self._stepwise(tf, price_type, lambda s: self._bands(s, p, k))
            return upper, mid, lower

        return self._memoized(("bollinger_stepwise", tf, price_type, p, k), compute)

    # -- loops -------------------------------------------------------------------

    def atr(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        p = _positive("period", period)

        def compute() -> pd.Series:
            tr = _true_range(self.get_df(tf, price_type)).to_numpy()
            n = len(tr)
            out = np.full(n, np.nan)
            present = ~np.isnan(tr)
            first = int(np.argmax(present)) if present.any() else 0
            if first + p <= n and present[first : first + p].all():
                value = float(np.mean(tr[first : first + p]))
                out[first + p - 1] = value
                for t in range(first + p, n):
                    if present[t]:
                        value = (value * (p - 1) + float(tr[t])) / p
                    out[t] = value
            return pd.Series(out, index=pd.RangeIndex(n), dtype="float64")

        return self._memoized(("atr", tf, price_type, p), compute)

    def choppiness(self, tf: str, price_type: str, period: int = 14) -> pd.Series:
        p = _positive("period", period)

        def compute() -> pd.Series:
            df = self.get_df(tf, price_type)
            total = _true_range(df).rolling(p, min_periods=p).sum()
            rng = (
                df["high"].rolling(p, min_periods=p).max()
                - df["low"].rolling(p, min_periods=p).min()
            )
            rng = rng.where(rng != 0)
            with np.errstate(all="ignore"):
                return (100.0 * np.log10(total / rng)) / np.log10(p)

        return self._memoized(("choppiness", tf, price_type, p), compute)

    def kalman_mean(self, tf: str, price_type: str, R: float = 0.01, Q: float = 1.0) -> pd.Series:  # noqa: N803
        def compute() -> pd.Series:
            closes = self.get_closes(tf, price_type)
            est = _kalman_loop(closes.tolist(), float(R), float(Q))
            return pd.Series(est, index=closes.index, dtype="float64")

        return self._memoized(("kalman_mean", tf, price_type, R, Q), compute)

    @staticmethod
    def _z(num: pd.Series, sd: pd.Series) -> pd.Series:
        z = num / sd
        return z.where(~sd.isna())

    def _kalman_z_of(self, closes: pd.Series, window: int, r: float, q: float) -> pd.Series:
        est = pd.Series(_kalman_loop(closes.tolist(), r, q), index=closes.index, dtype="float64")
        res = closes - est
        return self._z(res, res.rolling(window, min_periods=window).std())

    def kalman_zscore(
        self,
        tf: str,
        price_type: str,
        window: int = 100,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
    ) -> pd.Series:
        w = _positive("window", window)
        return self._memoized(
            ("kalman_zscore", tf, price_type, w, R, Q),
            lambda: self._kalman_z_of(self.get_closes(tf, price_type), w, float(R), float(Q)),
        )

    def kalman_zscore_stepwise(
        self,
        tf: str,
        price_type: str,
        window: int = 100,
        R: float = 0.01,  # noqa: N803
        Q: float = 1.0,  # noqa: N803
    ) -> pd.Series:
        w = _positive("window", window)
        return self._memoized(
            ("kalman_zscore_stepwise", tf, price_type, w, R, Q),
            lambda: self._stepwise(
                tf, price_type, lambda s: (self._kalman_z_of(s, w, float(R), float(Q)),)
            )[0],
        )

    def zscore(
        self,
        tf: str,
        price_type: str,
        window: int = 100,
        mean_source: str = "rolling",
        ema_period: int | None = None,
    ) -> pd.Series:
        w = _positive("window", window)
        if mean_source == "ema":
            if ema_period is None:
                raise ValueError("ema_period is required when mean_source='ema'")
            e = _positive("ema_period", ema_period)
        elif mean_source == "rolling":
            e = None
        else:
            raise ValueError(f"mean_source must be 'rolling' or 'ema', got {mean_source!r}")

        def compute() -> pd.Series:
            closes = self.get_closes(tf, price_type)
            mean = closes.rolling(w, min_periods=w).mean() if e is None else self._ema_of(closes, e)
            dev = closes - mean
            return self._z(dev, dev.rolling(w, min_periods=w).std())

        return self._memoized(("zscore", tf, price_type, w, mean_source, e), compute)

    # -- GARCH -------------------------------------------------------------------

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
        key = ("garch_volatility", tf, price_type, alpha, beta, omega, use_log_returns, scale)
        key += (min_periods, sigma_floor)

        def compute() -> pd.Series:
            closes = self.get_closes(tf, price_type)
            n = len(closes)
            out = _nan_series(n)
            if alpha + beta >= 1 or n == 0:
                return out
            if use_log_returns:
                r = scale * np.log(closes / closes.shift(1))
            else:
                padded = closes.ffill()  # pandas 2.x pct_change pads first (SPEC §7.3)
                r = scale * (padded / padded.shift(1) - 1.0)
            f, var = _garch_variance(
                r.tolist(),
                alpha=alpha,
                beta=beta,
                omega=omega,
                sigma_floor=sigma_floor,
                first_finite=False,
                mu_back=2000,
            )
            if f < 0:
                return out
            sigma = np.sqrt(np.asarray(var, dtype=np.float64)) / scale
            begin = f + max(0, min_periods)
            out.iloc[begin:] = sigma[begin:]
            return out

        return self._memoized(key, compute)

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
        garch = (alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor)

        def compute() -> pd.Series:
            closes = self.get_closes(tf, price_type)
            km = self.kalman_mean(tf, price_type, R, Q)
            sigma = self.garch_volatility(tf, price_type, *garch)
            sp = closes.abs() * sigma
            sp = sp.where(sp != 0)
            z = (closes - km) / sp
            return z.where(~(sp.isna() | km.isna()))

        return self._memoized(("kalman_garch_zscore", tf, price_type, R, Q, *garch), compute)

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
        """SPEC 2.18: σ of a GARCH run on rows max(0, idx-L+1) … idx (idx clamped)."""
        closes = self.get_closes(tf, price_type)
        n = len(closes)
        if n == 0 or idx < 0 or alpha + beta >= 1:
            return _empty()
        idx = min(int(idx), n - 1)
        start = max(0, idx - max(1, int(lookback)) + 1)
        window = closes.to_numpy()[start : idx + 1]
        m = len(window)
        sigma = np.full(m, np.nan)
        r = _returns(window, use_log_returns, scale)
        f, var = _garch_variance(
            r,
            alpha=alpha,
            beta=beta,
            omega=omega,
            sigma_floor=sigma_floor,
            first_finite=True,
            mu_back=2000,
        )
        if f >= 0:
            begin = f + max(0, min_periods)
            if begin < m:
                sigma[begin:] = np.sqrt(np.asarray(var[begin:], dtype=np.float64)) / scale
        return pd.Series(sigma, index=pd.RangeIndex(start, idx + 1), dtype="float64")

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
        """SPEC 2.19: "atr_points" → the full ATR series, else the GARCH window (None if empty)."""
        if str(feature or "").strip().lower() == "atr_points":
            return self.atr(tf, price_type, atr_length)
        window = self.garch_volatility_local(
            tf,
            price_type,
            idx,
            lookback=garch_lookback,
            alpha=garch_alpha,
            beta=garch_beta,
            omega=garch_omega,
            use_log_returns=garch_use_log_returns,
            scale=garch_scale,
            min_periods=garch_min_periods,
            sigma_floor=garch_sigma_floor,
        )
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
        """SPEC 2.20: the z of the last row of a window restarted at idx-lookback+1."""
        if alpha + beta >= 1:
            return None
        closes = self.get_closes(tf, price_type)
        n = len(closes)
        if idx < 0 or idx >= n:
            return None
        seg = closes.to_numpy()[max(0, idx - int(lookback) + 1) : idx + 1]
        if len(seg) < 2:
            return None
        km_last = _kalman_loop(seg.tolist(), float(R), float(Q))[-1]
        if math.isnan(km_last):
            return None
        last = float(seg[-1])
        res = last - km_last
        r = _returns(seg, use_log_returns, scale)
        f, var = _garch_variance(
            r,
            alpha=alpha,
            beta=beta,
            omega=omega,
            sigma_floor=sigma_floor,
            first_finite=True,
            mu_back=1000,
        )
        if f < 0 or (len(seg) - 1) - f < min_periods:
            return None
        sigma = math.sqrt(var[-1]) / scale
        if not math.isfinite(sigma) or sigma <= 0:
            return None
        sp = abs(last) * sigma
        if not math.isfinite(sp) or sp == 0:
            return None
        z = res / sp
        return float(z) if math.isfinite(z) else None

    # -- access ------------------------------------------------------------------

    def at(self, series: Any, index: int) -> float | None:
        """Positional read: the float (±inf included), None out of bounds or for NaN.

        Works unbound (``IndicatorCache.at(strategy, series, i)``): ``self`` is unused.
        """
        if series is None or index < 0 or index >= len(series):
            return None
        values = series.to_numpy() if isinstance(series, pd.Series) else np.asarray(series)
        value = float(values[index])
        return None if math.isnan(value) else value

    # -- batch ---------------------------------------------------------------------

    _BATCH_OUTPUTS: ClassVar[dict[str, tuple[str, ...]]] = {
        "ema": ("ema",),
        "ema_stepwise": ("ema_stepwise",),
        "sma": ("sma",),
        "rsi": ("rsi",),
        "macd": ("macd_line", "macd_signal", "macd_histogram"),
        "roc": ("roc",),
        "dmi": ("dmi_plus_di", "dmi_minus_di", "dmi_adx"),
        "bollinger": ("bollinger_upper", "bollinger_middle", "bollinger_lower"),
        "bollinger_stepwise": (
            "bollinger_stepwise_upper",
            "bollinger_stepwise_middle",
            "bollinger_stepwise_lower",
        ),
        "atr": ("atr",),
        "choppiness": ("choppiness",),
        "kalman_mean": ("kalman_mean",),
        "kalman_zscore": ("kalman_zscore",),
        "kalman_zscore_stepwise": ("kalman_zscore_stepwise",),
        "zscore": ("zscore",),
        "garch_volatility": ("garch_volatility",),
        "kalman_garch_zscore": ("kalman_garch_zscore",),
    }

    def compute_batch(
        self, indicators: Sequence[Mapping[str, Any]], tf: str, price_type: str
    ) -> dict[str, np.ndarray]:
        """Several indicators at once: {key: values} (seed doc 003 §4.1).

        A spec is ``{"name": method, <method parameters by name>..., "key": optional}``;
        single outputs are stored under the method name (or ``key``), multi-output ones
        under ``<name or key>_<part>`` (macd: line/signal/histogram, dmi:
        plus_di/minus_di/adx, bollinger: upper/middle/lower).
        """
        results: dict[str, np.ndarray] = {}
        for spec in indicators:
            params = dict(spec)
            name = params.pop("name", None)
            if name not in self._BATCH_OUTPUTS:
                raise ValueError(f"compute_batch: unknown indicator name {name!r}")
            key = params.pop("key", None)
            out = getattr(self, name)(tf, price_type, **params)
            parts = out if isinstance(out, tuple) else (out,)
            if name == "macd":
                parts = (*parts, parts[0] - parts[1])
            names = self._BATCH_OUTPUTS[name]
            if key is not None:
                names = tuple(str(key) + n[len(name) :] for n in names)
            for out_name, part in zip(names, parts, strict=True):
                if out_name in results:
                    raise ValueError(f"compute_batch: duplicate result key {out_name!r}")
                results[out_name] = part.to_numpy(dtype=np.float64)
        return results


# --- pool -----------------------------------------------------------------------

_POOL: dict[int, tuple[Package, IndicatorCache]] = {}


def get_cached_indicator_cache(multi_candle_data: Package) -> IndicatorCache:
    """Same data package (the same object) → the same IndicatorCache."""
    entry = _POOL.get(id(multi_candle_data))
    if entry is None or entry[0] is not multi_candle_data:
        entry = (multi_candle_data, IndicatorCache(multi_candle_data))
        _POOL[id(multi_candle_data)] = entry
    return entry[1]


def indicator_cache_pool_size() -> int:
    return len(_POOL)


def clear_indicator_cache_pool() -> None:
    _POOL.clear()


# --- slices ---------------------------------------------------------------------


class SymbolDataSlice:
    """One symbol's view of an aligned data package at a primary row ``index``."""

    def __init__(
        self,
        multi_candle_data: Package,
        index: int,
        indicator_cache: IndicatorCache | None = None,
    ) -> None:
        self.multi_candle_data = multi_candle_data
        self.index = index
        self.indicators = (
            indicator_cache
            if indicator_cache is not None
            else get_cached_indicator_cache(multi_candle_data)
        )
        self._histories: dict[tuple[str, str, int], tuple[int, deque[Any]]] = {}

    def set_index(self, index: int) -> None:
        self.index = index

    def get(self, timeframe: str, price_type: str = "bid") -> list[Any]:
        sides = self.multi_candle_data.get(timeframe)
        if sides is None:
            return []
        candles = sides.get(price_type)
        return [] if candles is None else candles  # type: ignore[return-value]

    def series_ref(self, timeframe: str, price_type: str = "bid") -> list[Any]:
        return self.get(timeframe, price_type)

    def latest(self, timeframe: str, price_type: str = "bid") -> Any:
        candles = self.get(timeframe, price_type)
        if 0 <= self.index < len(candles):
            return candles[self.index]
        return None

    def history_view(self, timeframe: str, price_type: str = "bid", length: int = 20) -> deque[Any]:
        key = (timeframe, price_type, length)
        candles = self.get(timeframe, price_type)
        entry = self._histories.get(key)
        i = self.index
        if entry is not None and entry[0] == i:
            return entry[1]
        if entry is not None and entry[0] == i - 1 and 0 <= i < len(candles):
            buf = entry[1]
            buf.append(candles[i])
        else:
            buf = deque(candles[max(0, i - length + 1) : i + 1], maxlen=max(0, length))
        self._histories[key] = (i, buf)
        return buf

    def history(self, timeframe: str, price_type: str = "bid", length: int = 20) -> list[Any]:
        return list(self.history_view(timeframe, price_type, length))

    def __getitem__(self, timeframe: str) -> list[Any]:
        return self.get(timeframe, "bid")


class CandleSet:
    """Bid and ask candle lists per timeframe."""

    def __init__(
        self,
        tf_bid_candles: Mapping[str, Sequence[Any]],
        tf_ask_candles: Mapping[str, Sequence[Any]],
    ) -> None:
        self.bid = tf_bid_candles
        self.ask = tf_ask_candles

    def get_all(self, timeframe: str, price_type: str = "bid") -> list[Any]:
        source = self.bid if price_type == "bid" else self.ask
        return list(source.get(timeframe, []))

    def get_latest(self, timeframe: str, index: int, price_type: str = "bid") -> Any:
        candles = self.get_all(timeframe, price_type)
        return candles[index] if 0 <= index < len(candles) else None
