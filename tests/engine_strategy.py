from omega_pl.engine import IndicatorCache  # noqa: I001

# Mean-reversion z-score strategy written the way the original backtest engine's
# strategies are written (src/strategies/mean_reversion_z_score/strategy.py in the
# seeds): per step it reads indicators through ``symbol_slice.indicators``
# (``ind.ema(tf, "bid", 20).iloc[i]``, ``ind.bollinger(...)``,
# ``ind.ema_stepwise("D1", ...)``, ``ind.kalman_garch_zscore_local(...)``,
# ``ind.vol_cluster_series(...)``), candles through ``symbol_slice.latest(tf)`` /
# ``history(...)``, scalars through ``IndicatorCache.at(self, series, i)`` called
# unbound, and precomputes its primary-timeframe indicators once with
# ``compute_batch``.
#
# The acceptance test (tests/test_engine_strategy.py) loads this source twice:
# as is (omega_pl.engine) and with the first line swapped for
# ``from tests.engine_reference import IndicatorCache`` (an independent pandas
# reconstruction). Nothing else in this file may refer to either backend.
#
# Six entry scenarios, long and short each (first match wins, in this order):
#   1  rolling z-score beyond a threshold, close beyond the Bollinger middle,
#      ADX below a ceiling (no strong trend);
#   2  EMA-mean z-score with an RSI extreme;
#   3  Kalman z-score and Kalman+GARCH z-score (global series) both extreme;
#   4  Kalman+GARCH z-score ``_local`` (per row) extreme while the local GARCH
#      volatility is not above its window's median times a factor;
#   5  vol-cluster features: GARCH-window cluster "low" (current σ at or below
#      the window's quantile), ATR points below their recent mean, EMA z extreme;
#   6  higher-timeframe EMA bias: H1 close above/below its stepwise EMA and D1
#      close above/below its stepwise EMA (a package without D1 skips the D1
#      filter: empty series → ``at`` gives None), entry on a pullback z.
# Parameters come from CONFIG["params"], overridden per timeframe by
# CONFIG["timeframe_overrides"][tf] (the primary timeframe's overrides apply to
# the entry logic, H1's/D1's to the indicators computed on those timeframes).
# The ``_local`` indicators are evaluated every ``local_every``-th bar only
# (they are per-row window computations and slow in pandas).

import math
from typing import Any

import numpy as np

CONFIG: dict[str, Any] = {
    "timeframe": "M5",
    "htf": "H1",
    "daily_tf": "D1",
    "params": {
        "window_length": 100,
        "ema_length": 20,
        "z_score_long": -2.0,
        "z_score_short": 2.0,
        "b_b_length": 20,
        "std_factor": 2.0,
        "atr_length": 14,
        "atr_sl_mult": 1.5,
        "rsi_length": 14,
        "rsi_long": 30.0,
        "rsi_short": 70.0,
        "adx_length": 14,
        "adx_max": 40.0,
        "chop_length": 14,
        "roc_length": 12,
        "sma_slow": 50,
        "kalman_window": 60,
        "kalman_r": 1.0,
        "kalman_q": 0.001,
        "kalman_z_long": -2.0,
        "kalman_z_short": 2.0,
        "kg_z_long": -3.0,
        "kg_z_short": 3.0,
        "garch_alpha": 0.06,
        "garch_beta": 0.9,
        "garch_min_periods": 40,
        "local_lookback": 200,
        "local_every": 5,
        "local_z_long": -3.0,
        "local_z_short": 3.0,
        "local_sigma_max_ratio": 1.5,
        "vol_cluster_feature": "garch_forecast",
        "vol_cluster_lookback": 150,
        "vol_cluster_alpha": 0.08,
        "vol_cluster_beta": 0.88,
        "vol_cluster_quantile": 0.6,
        "vol_cluster_z": 1.0,
        "atr_mean_length": 48,
        "htf_ema_length": 20,
        "htf_bb_length": 20,
        "pullback_z": 1.2,
        "history_length": 12,
        "htf_history_length": 36,
    },
    "timeframe_overrides": {
        "M5": {"window_length": 72, "z_score_long": -2.2, "z_score_short": 2.2},
        "H1": {"htf_ema_length": 12, "htf_bb_length": 12, "kalman_window": 24},
        "D1": {"htf_ema_length": 5},
    },
}


def _num(value: Any) -> float | None:
    """An array element as float, None for NaN (the original's ``_safe_float``)."""
    v = float(value)
    return None if math.isnan(v) else v


class MeanReversionZScoreStrategy:
    """Six-scenario mean reversion on the primary timeframe, HTF-filtered."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = config if config is not None else CONFIG
        self.timeframe = self.config["timeframe"]
        self.htf = self.config["htf"]
        self.daily_tf = self.config["daily_tf"]
        self._batches: dict[str, dict[str, dict[str, Any]]] = {}
        self.values: dict[str, dict[str, Any]] = {}

    # -- configuration ----------------------------------------------------------

    def _param(self, key: str, tf: str | None = None) -> Any:
        tf = tf or self.timeframe
        override = self.config["timeframe_overrides"].get(tf, {})
        return override.get(key, self.config["params"][key])

    # -- helpers ----------------------------------------------------------------

    def _at(self, series: Any, idx: int) -> float | None:
        return IndicatorCache.at(self, series, idx)

    def _precompute(self, symbol: str, ind: Any) -> dict[str, dict[str, Any]]:
        batch = self._batches.get(symbol)
        if batch is None:
            p = self._param
            bid = ind.compute_batch(
                [
                    {"name": "zscore", "window": p("window_length")},
                    {"name": "atr", "period": p("atr_length")},
                    {"name": "ema", "period": p("ema_length")},
                    {
                        "name": "bollinger",
                        "period": p("b_b_length"),
                        "std_factor": p("std_factor"),
                    },
                    {"name": "rsi", "period": p("rsi_length")},
                    {"name": "dmi", "period": p("adx_length")},
                    {
                        "name": "macd",
                        "fast_period": 12,
                        "slow_period": 26,
                        "signal_period": 9,
                    },
                    {"name": "choppiness", "period": p("chop_length")},
                    {"name": "roc", "period": p("roc_length")},
                    {"name": "sma", "period": p("sma_slow"), "key": "sma_slow"},
                    {"name": "kalman_mean", "R": p("kalman_r"), "Q": p("kalman_q")},
                ],
                self.timeframe,
                "bid",
            )
            ask = ind.compute_batch(
                [{"name": "ema", "period": p("ema_length")}], self.timeframe, "ask"
            )
            batch = {"bid": bid, "ask": ask}
            self._batches[symbol] = batch
        return batch

    # -- engine entry point -------------------------------------------------------

    def on_data(self, slice_map: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
        signals: dict[str, dict[str, Any] | None] = {}
        for symbol, symbol_slice in slice_map.items():
            signals[symbol] = self._evaluate(symbol, symbol_slice)
        return signals

    def _evaluate(self, symbol: str, symbol_slice: Any) -> dict[str, Any] | None:
        tf = self.timeframe
        idx = symbol_slice.index
        values: dict[str, Any] = {"index": idx}
        self.values[symbol] = values
        bid_candle = symbol_slice.latest(tf, "bid")
        ask_candle = symbol_slice.latest(tf, "ask")
        if bid_candle is None or ask_candle is None:
            values["skip"] = "missing primary candle"
            return None
        ind = symbol_slice.indicators
        batch = self._precompute(symbol, ind)
        self._collect(symbol_slice, ind, batch, idx, values)
        for direction in ("long", "short"):
            for n, check in enumerate(
                (
                    self._scenario_1,
                    self._scenario_2,
                    self._scenario_3,
                    self._scenario_4,
                    self._scenario_5,
                    self._scenario_6,
                ),
                start=1,
            ):
                if check(values, 1.0 if direction == "long" else -1.0):
                    return self._signal(symbol, direction, n, values, bid_candle, ask_candle)
        return None

    # -- reading the indicators ---------------------------------------------------

    def _collect(
        self,
        symbol_slice: Any,
        ind: Any,
        batch: dict[str, dict[str, Any]],
        idx: int,
        v: dict[str, Any],
    ) -> None:
        tf, htf, daily = self.timeframe, self.htf, self.daily_tf
        p = self._param
        bid, ask = batch["bid"], batch["ask"]
        bid_candle = symbol_slice.latest(tf, "bid")
        ask_candle = symbol_slice.latest(tf, "ask")
        v["close"] = float(bid_candle.close)
        v["ask_close"] = float(ask_candle.close)
        v["time"] = bid_candle.timestamp.tz_convert(None)

        # compute_batch arrays, direct indexing (seed doc 003 §4.4)
        for key in (
            "zscore",
            "atr",
            "ema",
            "bollinger_upper",
            "bollinger_middle",
            "bollinger_lower",
            "rsi",
            "dmi_plus_di",
            "dmi_minus_di",
            "dmi_adx",
            "macd_line",
            "macd_signal",
            "macd_histogram",
            "choppiness",
            "roc",
            "sma_slow",
            "kalman_mean",
        ):
            v[key] = _num(bid[key][idx])
        v["ask_ema"] = _num(ask["ema"][idx])

        # per-step calls as in the original strategies
        v["ema_20"] = _num(ind.ema(tf, "bid", 20).iloc[idx])
        upper, middle, lower = ind.bollinger(tf, "bid", p("b_b_length"), p("std_factor"))
        up_now, low_now = self._at(upper, idx), self._at(lower, idx)
        v["bb_width"] = None if up_now is None or low_now is None else up_now - low_now
        v["bb_mid_at"] = self._at(middle, idx)
        v["z_ema"] = self._at(
            ind.zscore(
                tf,
                "bid",
                window=p("window_length"),
                mean_source="ema",
                ema_period=p("ema_length"),
            ),
            idx,
        )
        v["kalman_z"] = self._at(
            ind.kalman_zscore(
                tf, "bid", window=p("kalman_window"), R=p("kalman_r"), Q=p("kalman_q")
            ),
            idx,
        )
        garch = {
            "alpha": p("garch_alpha"),
            "beta": p("garch_beta"),
            "min_periods": p("garch_min_periods"),
        }
        v["kalman_garch_z"] = self._at(
            ind.kalman_garch_zscore(tf, "bid", R=p("kalman_r"), Q=p("kalman_q"), **garch), idx
        )
        v["garch_sigma"] = self._at(ind.garch_volatility(tf, "bid", **garch), idx)
        v["closes_at"] = self._at(ind.get_closes(tf, "ask"), idx)

        # recent candles (history includes missing entries)
        hist = [c for c in symbol_slice.history(tf, "bid", p("history_length")) if c is not None]
        v["swing_low"] = min((c.low for c in hist), default=None)
        v["swing_high"] = max((c.high for c in hist), default=None)

        # higher timeframes
        h1 = symbol_slice.latest(htf, "bid")
        v["h1_close"] = None if h1 is None else float(h1.close)
        v["h1_ema_step"] = self._at(ind.ema_stepwise(htf, "bid", p("htf_ema_length", htf)), idx)
        v["h1_ema_plain"] = _num(ind.ema(htf, "bid", 20).iloc[idx])
        h_up, h_mid, h_low = ind.bollinger_stepwise(htf, "bid", p("htf_bb_length", htf), 2.0)
        v["h1_bb_upper"] = self._at(h_up, idx)
        v["h1_bb_middle"] = self._at(h_mid, idx)
        v["h1_bb_lower"] = self._at(h_low, idx)
        v["h1_kalman_z_step"] = self._at(
            ind.kalman_zscore_stepwise(
                htf,
                "bid",
                window=p("kalman_window", htf),
                R=p("kalman_r", htf),
                Q=p("kalman_q", htf),
            ),
            idx,
        )
        h1_hist = symbol_slice.history(htf, "bid", p("htf_history_length"))
        bars = 0
        prev = None
        for c in h1_hist:
            if c is not None and c is not prev:
                bars += 1
            if c is not None:
                prev = c
        v["h1_bars_in_history"] = bars
        d1 = symbol_slice.latest(daily, "bid")
        v["d1_close"] = None if d1 is None else float(d1.close)
        v["d1_ema_step"] = self._at(ind.ema_stepwise(daily, "bid", p("htf_ema_length", daily)), idx)

        # per-row window computations, every local_every-th bar
        v["local"] = idx % p("local_every") == 0
        if v["local"]:
            self._collect_local(ind, idx, v)

    def _collect_local(self, ind: Any, idx: int, v: dict[str, Any]) -> None:
        tf = self.timeframe
        p = self._param
        v["kalman_garch_z_local"] = ind.kalman_garch_zscore_local(
            tf,
            "bid",
            idx,
            lookback=p("local_lookback"),
            R=p("kalman_r"),
            Q=p("kalman_q"),
            alpha=p("garch_alpha"),
            beta=p("garch_beta"),
            min_periods=p("garch_min_periods"),
        )
        window = ind.garch_volatility_local(
            tf,
            "bid",
            idx,
            lookback=p("local_lookback"),
            alpha=p("garch_alpha"),
            beta=p("garch_beta"),
            min_periods=p("garch_min_periods"),
        )
        v["local_sigma"] = self._at(window, len(window) - 1)
        finite = window.to_numpy(dtype=float)
        finite = finite[~np.isnan(finite)]
        v["local_sigma_median"] = float(np.median(finite)) if finite.size else None
        v["local_window_start"] = int(window.index[0]) if len(window) else None

        cluster = ind.vol_cluster_series(
            tf,
            "bid",
            idx,
            p("vol_cluster_feature"),
            p("atr_length"),
            p("vol_cluster_lookback"),
            garch_alpha=p("vol_cluster_alpha"),
            garch_beta=p("vol_cluster_beta"),
            garch_min_periods=p("garch_min_periods"),
        )
        if cluster is None:
            v["cluster_sigma"] = v["cluster_q"] = None
        else:
            vals = cluster.to_numpy(dtype=float)
            vals = vals[~np.isnan(vals)]
            v["cluster_sigma"] = self._at(cluster, len(cluster) - 1)
            v["cluster_q"] = (
                float(np.quantile(vals, p("vol_cluster_quantile"))) if vals.size else None
            )
        atr_points = ind.vol_cluster_series(
            tf, "bid", idx, " ATR_Points ", p("atr_length"), p("vol_cluster_lookback")
        )
        v["atr_points"] = self._at(atr_points, idx)
        recent = atr_points.iloc[max(0, idx - p("atr_mean_length") + 1) : idx + 1]
        v["atr_points_mean"] = None if recent.isna().all() else float(recent.mean())

    # -- scenarios (sign = +1 long, -1 short) -------------------------------------

    @staticmethod
    def _beyond(value: float | None, threshold: float, sign: float) -> bool:
        """Long: value <= threshold (negative); short: value >= threshold."""
        if value is None:
            return False
        return value <= threshold if sign > 0 else value >= threshold

    def _scenario_1(self, v: dict[str, Any], sign: float) -> bool:
        th = self._param("z_score_long" if sign > 0 else "z_score_short")
        mid, adx = v["bollinger_middle"], v["dmi_adx"]
        if mid is None or adx is None or adx > self._param("adx_max"):
            return False
        return self._beyond(v["zscore"], th, sign) and (v["close"] - mid) * sign < 0

    def _scenario_2(self, v: dict[str, Any], sign: float) -> bool:
        th = self._param("z_score_long" if sign > 0 else "z_score_short")
        rsi_th = self._param("rsi_long" if sign > 0 else "rsi_short")
        return self._beyond(v["z_ema"], th, sign) and self._beyond(v["rsi"], rsi_th, sign)

    def _scenario_3(self, v: dict[str, Any], sign: float) -> bool:
        kz = self._param("kalman_z_long" if sign > 0 else "kalman_z_short")
        kgz = self._param("kg_z_long" if sign > 0 else "kg_z_short")
        return self._beyond(v["kalman_z"], kz, sign) and self._beyond(
            v["kalman_garch_z"], kgz, sign
        )

    def _scenario_4(self, v: dict[str, Any], sign: float) -> bool:
        if not v["local"]:
            return False
        sigma, median = v["local_sigma"], v["local_sigma_median"]
        if sigma is None or median is None:
            return False
        if sigma > median * self._param("local_sigma_max_ratio"):
            return False
        th = self._param("local_z_long" if sign > 0 else "local_z_short")
        return self._beyond(v["kalman_garch_z_local"], th, sign)

    def _scenario_5(self, v: dict[str, Any], sign: float) -> bool:
        if not v["local"]:
            return False
        sigma, q = v["cluster_sigma"], v["cluster_q"]
        atr_now, atr_mean = v["atr_points"], v["atr_points_mean"]
        if None in (sigma, q, atr_now, atr_mean) or sigma > q or atr_now > atr_mean * 1.2:
            return False
        return self._beyond(v["z_ema"], -sign * self._param("vol_cluster_z"), sign)

    def _scenario_6(self, v: dict[str, Any], sign: float) -> bool:
        h1_close, h1_ema = v["h1_close"], v["h1_ema_step"]
        if h1_close is None or h1_ema is None or (h1_close - h1_ema) * sign <= 0:
            return False
        d1_close, d1_ema = v["d1_close"], v["d1_ema_step"]
        if d1_ema is not None and d1_close is not None and (d1_close - d1_ema) * sign < 0:
            return False
        return self._beyond(v["z_ema"], -sign * self._param("pullback_z"), sign)

    # -- signal ---------------------------------------------------------------------

    def _signal(
        self,
        symbol: str,
        direction: str,
        scenario: int,
        v: dict[str, Any],
        bid_candle: Any,
        ask_candle: Any,
    ) -> dict[str, Any]:
        long = direction == "long"
        entry = float(ask_candle.close) if long else float(bid_candle.close)
        atr = v["atr"] if v["atr"] is not None else v["atr_points"] if v["local"] else None
        if atr is not None:
            stop = entry - self._param("atr_sl_mult") * atr * (1 if long else -1)
        else:
            stop = v["swing_low"] if long else v["swing_high"]
        target = v["bollinger_middle"] if v["bollinger_middle"] is not None else v["ema"]
        return {
            "symbol": symbol,
            "direction": direction,
            "scenario": f"{direction}_{scenario}",
            "index": v["index"],
            "time": v["time"],
            "entry": entry,
            "sl": stop,
            "tp": target,
        }
