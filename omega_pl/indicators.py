"""Technical indicators as Polars expressions backed by Rust kernels.

Each indicator exists twice with the same parameters: as a module function
(``omega_pl.ema("bid_close", 20)``, ``omega_pl.atr(high, low, close, 14)``)
and in the ``omega`` expression namespace (``pl.col("bid_close").omega.ema(20)``,
where OHLC indicators find ``bid_high``/``bid_low`` by the close column's name).

Semantics follow ``SPEC-indicators.md`` (the original engine's pandas
reference) by default: outputs are Float64 (or a Struct of Float64), null
where the SPEC says "missing", ±inf kept. Every expression depends on row
order and is registered as not elementwise, so ``.over("symbol")`` hands each
group to the kernel whole. Keyword options marked *corrected* switch off a
known defect of the reference (SPEC §8.3); they default to off so results
reproduce the reference exactly. ``convention="talib"`` gives TA-Lib's
definitions where TA-Lib has the indicator.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import polars as pl

from omega_pl._plugin import plugin_expr, positive_int, to_expr
from omega_pl.errors import ParameterError

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

IntoExpr = str | pl.Expr
Convention = Literal["reference", "talib"]


# ---------------------------------------------------------------------------
# validation


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"parameter '{name}' must be a finite number, got {value!r}")
    return float(value)


def _non_negative(name: str, value: object) -> float:
    v = _finite(name, value)
    if v < 0:
        raise ParameterError(f"parameter '{name}' must be >= 0, got {value!r}")
    return v


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"parameter '{name}' must be True or False, got {value!r}")
    return value


def _convention(value: object) -> Convention:
    if value not in ("reference", "talib"):
        raise ParameterError(
            f"parameter 'convention' must be 'reference' or 'talib', got {value!r}"
        )
    return value


def _talib(name: str, inputs: list[pl.Expr], **params: Any) -> pl.Expr:
    """The TA-Lib-convention expression for ``name`` (see :mod:`omega_pl._talib`)."""
    from omega_pl import _talib

    return _talib.talib_expr(name, inputs, **params)


def _garch(
    alpha: float,
    beta: float,
    omega: float | None,
    use_log_returns: bool,
    scale: float,
    min_periods: int,
    sigma_floor: float,
    estimate_window: int | None,
    prefix: str = "",
) -> dict[str, Any]:
    """Validated GARCH keyword arguments for the kernels."""
    p = prefix
    if isinstance(min_periods, bool) or not isinstance(min_periods, int):
        raise ParameterError(f"parameter '{p}min_periods' must be an integer, got {min_periods!r}")
    if estimate_window is not None and (
        isinstance(estimate_window, bool)
        or not isinstance(estimate_window, int)
        or estimate_window < 2
    ):
        raise ParameterError(
            f"parameter '{p}estimate_window' must be an integer >= 2 or None, "
            f"got {estimate_window!r}"
        )
    if _finite(f"{p}scale", scale) <= 0:
        raise ParameterError(f"parameter '{p}scale' must be > 0, got {scale!r}")
    return {
        "alpha": _non_negative(f"{p}alpha", alpha),
        "beta": _non_negative(f"{p}beta", beta),
        "omega": None if omega is None else _finite(f"{p}omega", omega),
        "use_log_returns": _flag(f"{p}use_log_returns", use_log_returns),
        "scale": float(scale),
        "min_periods": min_periods,
        "sigma_floor": _non_negative(f"{p}sigma_floor", sigma_floor),
        "estimate_window": estimate_window,
    }


def _kalman(r: float, q: float, carry_gaps: bool) -> dict[str, Any]:
    return {
        "r": _non_negative("r", r),
        "q": _non_negative("q", q),
        "carry_gaps": _flag("carry_gaps", carry_gaps),
    }


# ---------------------------------------------------------------------------
# single-column indicators


def ema(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Exponential moving average with gap re-weighting (SPEC 2.1, primitive P1).

    ``a = 1 / (1 + (period - 1) / 2)`` (pandas' span form). The first value is
    the first present input (no SMA seed); missing inputs (null, NaN, ±inf)
    carry the last value forward, and the next observation is weighted as if
    the gap's rows had decayed the old value: after ``g`` missing rows,
    ``m = (keep**(g+1) * m + a * x) / (keep**(g+1) + a)``. Null before the
    first observation. Reproduces pandas' ``ewm(span=period, adjust=False)``
    bit for bit. ``convention="talib"``: TA-Lib's EMA (SMA seed, ``period − 1``
    leading nulls).

    Raises
    ------
    ParameterError
        If ``period`` is not a positive integer.

    Examples
    --------
    >>> df.with_columns(omega_pl.ema("bid_close", 20).alias("ema20"))  # doctest: +SKIP
    """
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("ema", [to_expr(source)], period=period)
    return plugin_expr("ema", [to_expr(source)], {"period": period})


def sma(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Simple moving average (SPEC 2.3): null for the first ``period − 1`` rows and
    for every window that touches a missing value."""
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("sma", [to_expr(source)], period=period)
    return plugin_expr("sma", [to_expr(source)], {"period": period})


def rsi(source: IntoExpr, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
    """Relative strength index (SPEC 2.4): ``EWM(1/period)`` of gains and losses, no SMA seed.

    Defined from the first row with a price change; 100 when there have been no
    losses, null (not 50) for a flat start; gaps repeat the last value.
    """
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("rsi", [to_expr(source)], period=period)
    return plugin_expr("rsi", [to_expr(source)], {"period": period})


def roc(source: IntoExpr, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
    """Rate of change in percent (SPEC 2.6): ``((C_t − C_{t−p}) / C_{t−p}) · 100``."""
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("roc", [to_expr(source)], period=period)
    return plugin_expr("roc", [to_expr(source)], {"period": period})


def momentum(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Momentum (SPEC 3.3): ``C_t − C_{t−period}`` where both are present."""
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("momentum", [to_expr(source)], period=period)
    return plugin_expr("momentum_expr", [to_expr(source)], {"period": period})


def dema(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Double EMA (SPEC 3.1) on the original port's EMA (``a = 2/(period+1)``, gaps carried)."""
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("dema", [to_expr(source)], period=period)
    return plugin_expr("dema", [to_expr(source)], {"period": period})


def tema(source: IntoExpr, period: int, *, convention: Convention = "reference") -> pl.Expr:
    """Triple EMA (SPEC 3.2) on the original port's EMA."""
    period = positive_int("period", period)
    if _convention(convention) == "talib":
        return _talib("tema", [to_expr(source)], period=period)
    return plugin_expr("tema", [to_expr(source)], {"period": period})


def rolling_std(
    source: IntoExpr, period: int, ddof: int = 1, *, convention: Convention = "reference"
) -> pl.Expr:
    """Rolling standard deviation, plain two-pass (SPEC 3.4); null over windows with a gap.

    ``convention="talib"``: TA-Lib's STDDEV (population std; ``ddof`` is ignored).

    Raises
    ------
    ParameterError
        If ``period`` is not a positive integer or not greater than ``ddof``.
    """
    period = positive_int("period", period)
    if isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0:
        raise ParameterError(f"parameter 'ddof' must be an integer >= 0, got {ddof!r}")
    if _convention(convention) == "talib":
        return _talib("rolling_std", [to_expr(source)], period=period)
    if period <= ddof:
        raise ParameterError(f"parameter 'period' must be greater than ddof ({ddof}), got {period}")
    return plugin_expr("rolling_std", [to_expr(source)], {"period": period, "ddof": ddof})


def macd(
    source: IntoExpr,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    *,
    convention: Convention = "reference",
) -> pl.Expr:
    """MACD (SPEC 2.5) as ``Struct{macd, signal, histogram}``.

    ``macd = EMA(fast) − EMA(slow)``, ``signal = EMA(signal)`` of it,
    ``histogram = macd − signal``. Starts at the first close (macd 0 there) and is
    never null after it: both EMAs carry over gaps. ``.struct.unnest()`` or
    ``.struct.field("signal")`` take it apart.
    """
    fast = positive_int("fast", fast)
    slow = positive_int("slow", slow)
    signal = positive_int("signal", signal)
    if _convention(convention) == "talib":
        return _talib("macd", [to_expr(source)], fast=fast, slow=slow, signal=signal)
    return plugin_expr("macd", [to_expr(source)], {"fast": fast, "slow": slow, "signal": signal})


def bollinger(
    source: IntoExpr,
    period: int = 20,
    std_factor: float = 2.0,
    *,
    exact_std: bool = False,
    convention: Convention = "reference",
) -> pl.Expr:
    """Bollinger bands (SPEC 2.8) as ``Struct{upper, middle, lower}``.

    ``middle`` is the rolling mean, the bands ``middle ± std_factor · std`` with
    the sample std of pandas' streaming algorithm.

    Parameters
    ----------
    exact_std
        *Corrected*: use an exact compensated two-pass std. pandas' streaming
        std carries rounding from earlier windows (up to ~1e-9 relative right
        after flat stretches).
    convention
        ``"talib"``: TA-Lib's BBANDS (population std, ``matype=0``).
    """
    period = positive_int("period", period)
    k = _finite("std_factor", std_factor)
    if _convention(convention) == "talib":
        return _talib("bollinger", [to_expr(source)], period=period, std_factor=k)
    kwargs = {"period": period, "std_factor": k, "exact_std": _flag("exact_std", exact_std)}
    return plugin_expr("bollinger", [to_expr(source)], kwargs)


def zscore(
    source: IntoExpr,
    window: int = 100,
    mean_source: Literal["rolling", "ema"] = "rolling",
    ema_period: int | None = None,
    *,
    exact_std: bool = False,
) -> pl.Expr:
    """Z-score of the close against a rolling or EMA mean (SPEC 2.15).

    ``(C − M) / std(C − M)`` over ``window`` rows: the denominator is the std of
    the *deviations*. ``mean_source="ema"`` needs ``ema_period``.
    ``exact_std`` (*corrected*): exact std instead of pandas' streaming one.
    """
    window = positive_int("window", window)
    if mean_source not in ("rolling", "ema"):
        raise ParameterError(
            f"parameter 'mean_source' must be 'rolling' or 'ema', got {mean_source!r}"
        )
    if mean_source == "ema":
        if ema_period is None:
            raise ParameterError("parameter 'ema_period' is required when mean_source='ema'")
        ema_period = positive_int("ema_period", ema_period)
    kwargs = {
        "window": window,
        "mean_source": mean_source,
        "ema_period": ema_period,
        "exact_std": _flag("exact_std", exact_std),
    }
    return plugin_expr("zscore", [to_expr(source)], kwargs)


# ---------------------------------------------------------------------------
# OHLC indicators (inputs to the kernels are [close, high, low])


def atr(
    high: IntoExpr,
    low: IntoExpr,
    close: IntoExpr,
    period: int = 14,
    *,
    reseed: bool = False,
    convention: Convention = "reference",
) -> pl.Expr:
    """Average true range, Wilder smoothing with an SMA seed (SPEC 2.10).

    The seed is the mean of the first ``period`` true ranges from the first
    present one; later rows ``(ATR·(p−1) + TR) / p``, carried over gaps.

    Parameters
    ----------
    reseed
        *Corrected*: seed at the first run of ``period`` present true ranges.
        The reference makes the whole series null when any row of its first
        window is missing, however long the series.
    convention
        ``"talib"``: TA-Lib's ATR.
    """
    period = positive_int("period", period)
    inputs = [to_expr(close), to_expr(high), to_expr(low)]
    if _convention(convention) == "talib":
        return _talib("atr", inputs, period=period)
    return plugin_expr("atr", inputs, {"period": period, "reseed": _flag("reseed", reseed)})


def dmi(
    high: IntoExpr,
    low: IntoExpr,
    close: IntoExpr,
    period: int = 14,
    *,
    convention: Convention = "reference",
) -> pl.Expr:
    """Directional movement (SPEC 2.7) as ``Struct{plus_di, minus_di, adx}``.

    Wilder-style ``EWM(1/period)`` averages without SMA seeds; missing rows
    count as zero directional movement, so both DIs shrink during gaps.
    ``convention="talib"``: TA-Lib's PLUS_DI / MINUS_DI / ADX.
    """
    period = positive_int("period", period)
    inputs = [to_expr(close), to_expr(high), to_expr(low)]
    if _convention(convention) == "talib":
        return _talib("dmi", inputs, period=period)
    return plugin_expr("dmi", inputs, {"period": period})


def choppiness(high: IntoExpr, low: IntoExpr, close: IntoExpr, period: int = 14) -> pl.Expr:
    """Choppiness index (SPEC 2.11): ``100·log10(ΣTR / (max H − min L)) / log10(period)``.

    Null unless the whole window is present; a zero range is null; ``period = 1``
    gives ±inf (division by ``log10(1) = 0``), as the reference does.
    """
    period = positive_int("period", period)
    return plugin_expr(
        "choppiness", [to_expr(close), to_expr(high), to_expr(low)], {"period": period}
    )


def vol_cluster(
    high: IntoExpr,
    low: IntoExpr,
    close: IntoExpr,
    feature: str,
    atr_length: int,
    garch_lookback: int,
    garch_alpha: float = 0.05,
    garch_beta: float = 0.90,
    garch_omega: float | None = None,
    garch_use_log_returns: bool = True,
    garch_scale: float = 100.0,
    garch_min_periods: int = 50,
    garch_sigma_floor: float = 1e-6,
    *,
    garch_estimate_window: int | None = None,
) -> pl.Expr:
    """Volatility-cluster feature (SPEC 2.19): ``atr(atr_length)`` when ``feature`` is
    ``"atr_points"`` (trimmed, any case), otherwise ``garch_volatility_local`` with
    ``lookback = garch_lookback`` and the ``garch_*`` parameters."""
    if not isinstance(feature, str):
        raise ParameterError(f"parameter 'feature' must be a string, got {feature!r}")
    atr_points = feature.strip().lower() == "atr_points"
    kwargs = {
        "feature": feature,
        "atr_length": positive_int("atr_length", atr_length) if atr_points else 1,
        "garch_lookback": 1 if atr_points else positive_int("garch_lookback", garch_lookback),
        "garch": _garch(
            garch_alpha,
            garch_beta,
            garch_omega,
            garch_use_log_returns,
            garch_scale,
            garch_min_periods,
            garch_sigma_floor,
            garch_estimate_window,
            prefix="garch_",
        ),
    }
    return plugin_expr("vol_cluster", [to_expr(close), to_expr(high), to_expr(low)], kwargs)


# ---------------------------------------------------------------------------
# filters


def kalman_mean(
    source: IntoExpr, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False
) -> pl.Expr:
    """Scalar random-walk Kalman filter of the close (SPEC 2.12); ``r`` measurement,
    ``q`` process variance.

    Parameters
    ----------
    carry_gaps
        *Corrected*: carry the estimate over a missing close (growing its variance
        by ``q``). The reference loses the estimate for good at the first
        interior gap: every later row is null.
    """
    return plugin_expr("kalman_mean", [to_expr(source)], _kalman(r, q, carry_gaps))


def kalman_zscore(
    source: IntoExpr,
    window: int = 100,
    r: float = 0.01,
    q: float = 1.0,
    *,
    carry_gaps: bool = False,
    exact_std: bool = False,
) -> pl.Expr:
    """Residual of the Kalman mean over its rolling std (SPEC 2.13).

    ``carry_gaps`` and ``exact_std`` are the *corrected* options of
    :func:`kalman_mean` and :func:`bollinger`.
    """
    kwargs = {
        "window": positive_int("window", window),
        "kalman": _kalman(r, q, carry_gaps),
        "exact_std": _flag("exact_std", exact_std),
    }
    return plugin_expr("kalman_zscore", [to_expr(source)], kwargs)


def garch_volatility(
    source: IntoExpr,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    estimate_window: int | None = None,
) -> pl.Expr:
    """GARCH(1,1) one-step-ahead volatility with fixed parameters (SPEC 2.16), in
    return units. Null before ``min_periods`` valid returns; all null when
    ``alpha + beta >= 1`` (as the reference: no error).

    Parameters
    ----------
    estimate_window
        *Corrected*: estimate the long-run variance and mean from the first
        ``estimate_window`` valid returns; the output stays null until that many
        returns have been seen (all null if there are fewer), so no value uses
        later data. The reference's estimation slices hold a single return, so its
        long-run variance is always the 1e-6 fallback and its mean the first
        return, whatever the market.
    """
    kwargs = _garch(
        alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor, estimate_window
    )
    return plugin_expr("garch_volatility", [to_expr(source)], {"garch": kwargs})


def kalman_garch_zscore(
    source: IntoExpr,
    r: float = 0.01,
    q: float = 1.0,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    carry_gaps: bool = False,
    estimate_window: int | None = None,
) -> pl.Expr:
    """Kalman residual over ``|C| · σ_GARCH`` (SPEC 2.17). With the default ``r``/``q``
    the residual is about 1 % of a bar's move, so ``|z|`` is typically ~0.01
    (SPEC §8.3.6). Options as :func:`kalman_mean` and :func:`garch_volatility`."""
    kwargs = {
        "kalman": _kalman(r, q, carry_gaps),
        "garch": _garch(
            alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor, estimate_window
        ),
    }
    return plugin_expr("kalman_garch_zscore", [to_expr(source)], kwargs)


def garch_volatility_local(
    source: IntoExpr,
    lookback: int = 400,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    estimate_window: int | None = None,
) -> pl.Expr:
    """Per row, σ at the end of a GARCH run restarted on the last ``lookback`` closes
    (SPEC 2.18). O(rows · lookback); rows are computed in parallel."""
    kwargs = {
        "lookback": positive_int("lookback", lookback),
        "garch": _garch(
            alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor, estimate_window
        ),
    }
    return plugin_expr("garch_volatility_local", [to_expr(source)], kwargs)


def kalman_garch_zscore_local(
    source: IntoExpr,
    lookback: int = 400,
    r: float = 0.01,
    q: float = 1.0,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    carry_gaps: bool = False,
    estimate_window: int | None = None,
) -> pl.Expr:
    """Per row, the Kalman-GARCH z-score of the last ``lookback`` closes with both
    filters restarted on that segment (SPEC 2.20). Rows are computed in parallel."""
    kwargs = {
        "lookback": positive_int("lookback", lookback),
        "kalman": _kalman(r, q, carry_gaps),
        "garch": _garch(
            alpha, beta, omega, use_log_returns, scale, min_periods, sigma_floor, estimate_window
        ),
    }
    return plugin_expr("kalman_garch_zscore_local", [to_expr(source)], kwargs)


# ---------------------------------------------------------------------------
# stepwise (SPEC P4): advance once per higher-timeframe bar


def _bar(bar: object) -> pl.Expr:
    if not isinstance(bar, str | pl.Expr):
        raise ParameterError(
            "parameter 'bar' must be the higher-timeframe bar key column (name or expression), "
            f"e.g. 'h1_bid_time', got {bar!r}"
        )
    return to_expr(bar)


def ema_stepwise(source: IntoExpr, period: int, *, bar: IntoExpr) -> pl.Expr:
    """EMA that advances once per higher-timeframe bar (SPEC 2.2, P4).

    ``bar`` is the bar key (the aligned bar's open time, e.g. ``h1_bid_time``);
    a row whose key differs from the previous present key starts a new bar.
    The EMA runs on the closes of those rows; results are forward-filled.
    """
    period = positive_int("period", period)
    return plugin_expr("ema_stepwise", [to_expr(source), _bar(bar)], {"period": period})


def bollinger_stepwise(
    source: IntoExpr,
    period: int = 20,
    std_factor: float = 2.0,
    *,
    bar: IntoExpr,
    exact_std: bool = False,
) -> pl.Expr:
    """Bollinger bands advancing once per higher-timeframe bar (SPEC 2.9, P4)."""
    kwargs = {
        "period": positive_int("period", period),
        "std_factor": _finite("std_factor", std_factor),
        "exact_std": _flag("exact_std", exact_std),
    }
    return plugin_expr("bollinger_stepwise", [to_expr(source), _bar(bar)], kwargs)


def kalman_zscore_stepwise(
    source: IntoExpr,
    window: int = 100,
    r: float = 0.01,
    q: float = 1.0,
    *,
    bar: IntoExpr,
    exact_std: bool = False,
) -> pl.Expr:
    """Kalman z-score advancing once per higher-timeframe bar (SPEC 2.14, P4)."""
    kwargs = {
        "window": positive_int("window", window),
        "kalman": _kalman(r, q, False),
        "exact_std": _flag("exact_std", exact_std),
    }
    return plugin_expr("kalman_zscore_stepwise", [to_expr(source), _bar(bar)], kwargs)


# ---------------------------------------------------------------------------
# the `omega` namespace


def _siblings(
    close: pl.Expr, high: IntoExpr | None, low: IntoExpr | None
) -> tuple[pl.Expr, pl.Expr]:
    """High and low for a close expression: given, or found by the close's name."""
    if high is not None and low is not None:
        return to_expr(high), to_expr(low)
    try:
        name = close.meta.output_name()
    except pl.exceptions.PolarsError:
        name = ""
    if not name.endswith("close"):
        raise ParameterError(
            f"cannot find high/low columns for {name or 'this expression'!r}: the name does "
            "not end in 'close'; pass high= and low="
        )
    base = name[: -len("close")]
    return (
        to_expr(high) if high is not None else pl.col(f"{base}high"),
        to_expr(low) if low is not None else pl.col(f"{base}low"),
    )


@pl.api.register_expr_namespace("omega")
class OmegaExpr:
    """The ``omega`` expression namespace: ``pl.col("bid_close").omega.atr(14)``.

    Methods mirror the module functions of :mod:`omega_pl.indicators` with the
    expression as the source (the close). OHLC methods find the high and low
    columns by the close column's name (``close`` → ``high``/``low``,
    ``bid_close`` → ``bid_high``/``bid_low``) unless ``high=``/``low=`` are given.
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def ema(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.ema`."""
        return ema(self._expr, period, convention=convention)

    def sma(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.sma`."""
        return sma(self._expr, period, convention=convention)

    def rsi(self, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.rsi`."""
        return rsi(self._expr, period, convention=convention)

    def roc(self, period: int = 14, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.roc`."""
        return roc(self._expr, period, convention=convention)

    def momentum(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.momentum`."""
        return momentum(self._expr, period, convention=convention)

    def dema(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.dema`."""
        return dema(self._expr, period, convention=convention)

    def tema(self, period: int, *, convention: Convention = "reference") -> pl.Expr:
        """See :func:`omega_pl.tema`."""
        return tema(self._expr, period, convention=convention)

    def rolling_std(
        self, period: int, ddof: int = 1, *, convention: Convention = "reference"
    ) -> pl.Expr:
        """See :func:`omega_pl.rolling_std`."""
        return rolling_std(self._expr, period, ddof, convention=convention)

    def macd(
        self,
        fast: int = 12,
        slow: int = 26,
        signal: int = 9,
        *,
        convention: Convention = "reference",
    ) -> pl.Expr:
        """See :func:`omega_pl.macd`."""
        return macd(self._expr, fast, slow, signal, convention=convention)

    def bollinger(
        self,
        period: int = 20,
        std_factor: float = 2.0,
        *,
        exact_std: bool = False,
        convention: Convention = "reference",
    ) -> pl.Expr:
        """See :func:`omega_pl.bollinger`."""
        return bollinger(self._expr, period, std_factor, exact_std=exact_std, convention=convention)

    def zscore(
        self,
        window: int = 100,
        mean_source: Literal["rolling", "ema"] = "rolling",
        ema_period: int | None = None,
        *,
        exact_std: bool = False,
    ) -> pl.Expr:
        """See :func:`omega_pl.zscore`."""
        return zscore(self._expr, window, mean_source, ema_period, exact_std=exact_std)

    def atr(
        self,
        period: int = 14,
        *,
        high: IntoExpr | None = None,
        low: IntoExpr | None = None,
        reseed: bool = False,
        convention: Convention = "reference",
    ) -> pl.Expr:
        """See :func:`omega_pl.atr`."""
        h, lo = _siblings(self._expr, high, low)
        return atr(h, lo, self._expr, period, reseed=reseed, convention=convention)

    def dmi(
        self,
        period: int = 14,
        *,
        high: IntoExpr | None = None,
        low: IntoExpr | None = None,
        convention: Convention = "reference",
    ) -> pl.Expr:
        """See :func:`omega_pl.dmi`."""
        h, lo = _siblings(self._expr, high, low)
        return dmi(h, lo, self._expr, period, convention=convention)

    def choppiness(
        self, period: int = 14, *, high: IntoExpr | None = None, low: IntoExpr | None = None
    ) -> pl.Expr:
        """See :func:`omega_pl.choppiness`."""
        h, lo = _siblings(self._expr, high, low)
        return choppiness(h, lo, self._expr, period)

    def vol_cluster(
        self,
        feature: str,
        atr_length: int,
        garch_lookback: int,
        garch_alpha: float = 0.05,
        garch_beta: float = 0.90,
        garch_omega: float | None = None,
        garch_use_log_returns: bool = True,
        garch_scale: float = 100.0,
        garch_min_periods: int = 50,
        garch_sigma_floor: float = 1e-6,
        *,
        garch_estimate_window: int | None = None,
        high: IntoExpr | None = None,
        low: IntoExpr | None = None,
    ) -> pl.Expr:
        """See :func:`omega_pl.vol_cluster`."""
        h, lo = _siblings(self._expr, high, low)
        return vol_cluster(
            h,
            lo,
            self._expr,
            feature,
            atr_length,
            garch_lookback,
            garch_alpha,
            garch_beta,
            garch_omega,
            garch_use_log_returns,
            garch_scale,
            garch_min_periods,
            garch_sigma_floor,
            garch_estimate_window=garch_estimate_window,
        )

    def kalman_mean(self, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False) -> pl.Expr:
        """See :func:`omega_pl.kalman_mean`."""
        return kalman_mean(self._expr, r, q, carry_gaps=carry_gaps)

    def kalman_zscore(
        self,
        window: int = 100,
        r: float = 0.01,
        q: float = 1.0,
        *,
        carry_gaps: bool = False,
        exact_std: bool = False,
    ) -> pl.Expr:
        """See :func:`omega_pl.kalman_zscore`."""
        return kalman_zscore(self._expr, window, r, q, carry_gaps=carry_gaps, exact_std=exact_std)

    def garch_volatility(
        self,
        alpha: float = 0.05,
        beta: float = 0.90,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-6,
        *,
        estimate_window: int | None = None,
    ) -> pl.Expr:
        """See :func:`omega_pl.garch_volatility`."""
        return garch_volatility(
            self._expr,
            alpha,
            beta,
            omega,
            use_log_returns,
            scale,
            min_periods,
            sigma_floor,
            estimate_window=estimate_window,
        )

    def kalman_garch_zscore(
        self,
        r: float = 0.01,
        q: float = 1.0,
        alpha: float = 0.05,
        beta: float = 0.90,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-6,
        *,
        carry_gaps: bool = False,
        estimate_window: int | None = None,
    ) -> pl.Expr:
        """See :func:`omega_pl.kalman_garch_zscore`."""
        return kalman_garch_zscore(
            self._expr,
            r,
            q,
            alpha,
            beta,
            omega,
            use_log_returns,
            scale,
            min_periods,
            sigma_floor,
            carry_gaps=carry_gaps,
            estimate_window=estimate_window,
        )

    def garch_volatility_local(
        self,
        lookback: int = 400,
        alpha: float = 0.05,
        beta: float = 0.90,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-6,
        *,
        estimate_window: int | None = None,
    ) -> pl.Expr:
        """See :func:`omega_pl.garch_volatility_local`."""
        return garch_volatility_local(
            self._expr,
            lookback,
            alpha,
            beta,
            omega,
            use_log_returns,
            scale,
            min_periods,
            sigma_floor,
            estimate_window=estimate_window,
        )

    def kalman_garch_zscore_local(
        self,
        lookback: int = 400,
        r: float = 0.01,
        q: float = 1.0,
        alpha: float = 0.05,
        beta: float = 0.90,
        omega: float | None = None,
        use_log_returns: bool = True,
        scale: float = 100.0,
        min_periods: int = 50,
        sigma_floor: float = 1e-6,
        *,
        carry_gaps: bool = False,
        estimate_window: int | None = None,
    ) -> pl.Expr:
        """See :func:`omega_pl.kalman_garch_zscore_local`."""
        return kalman_garch_zscore_local(
            self._expr,
            lookback,
            r,
            q,
            alpha,
            beta,
            omega,
            use_log_returns,
            scale,
            min_periods,
            sigma_floor,
            carry_gaps=carry_gaps,
            estimate_window=estimate_window,
        )

    def ema_stepwise(self, period: int, *, bar: IntoExpr) -> pl.Expr:
        """See :func:`omega_pl.ema_stepwise`."""
        return ema_stepwise(self._expr, period, bar=bar)

    def bollinger_stepwise(
        self,
        period: int = 20,
        std_factor: float = 2.0,
        *,
        bar: IntoExpr,
        exact_std: bool = False,
    ) -> pl.Expr:
        """See :func:`omega_pl.bollinger_stepwise`."""
        return bollinger_stepwise(self._expr, period, std_factor, bar=bar, exact_std=exact_std)

    def kalman_zscore_stepwise(
        self,
        window: int = 100,
        r: float = 0.01,
        q: float = 1.0,
        *,
        bar: IntoExpr,
        exact_std: bool = False,
    ) -> pl.Expr:
        """See :func:`omega_pl.kalman_zscore_stepwise`."""
        return kalman_zscore_stepwise(self._expr, window, r, q, bar=bar, exact_std=exact_std)
