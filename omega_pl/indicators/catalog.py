"""Every indicator, declared once: the one place to add or change one.

Each :class:`~omega_pl.indicators.declare.Indicator` below gives the
indicator's parameters (in signature and shorthand order), keyword options,
outputs, documentation, TA-Lib convention, relative cost and a doctest. The
module functions, the ``omega`` namespace methods, ``INDICATORS``,
``describe_indicator``, the spec parser and the output column names are all
derived from this list; the type stub ``expressions.pyi`` is generated from
it (``python -m omega_pl.indicators.expressions``; a test compares).

Adding an indicator: write its kernel (``plugins/kernels``) and its
``#[polars_expr]`` shim (``plugins/src/expressions``), then declare it here.
Semantics are those of ``SPEC-indicators.md`` (section numbers in the docs).
"""

from __future__ import annotations

from typing import Any

from omega_pl.errors import ParameterError
from omega_pl.indicators.declare import (
    REQUIRED,
    Example,
    Indicator,
    Inputs,
    Param,
    Talib,
    choice,
    finite,
    flag,
    integer,
    non_negative,
    optional,
    positive,
    positive_float,
)

__all__ = ["CATALOG", "by_name"]

CLOSE, OHLC, STEPWISE = Inputs.CLOSE, Inputs.OHLC, Inputs.STEPWISE


# ---------------------------------------------------------------------------
# shared parameters and groups


def _period(doc: str, default: Any = REQUIRED, name: str = "period") -> Param:
    return Param(name, "int", default, positive, doc)


PERIOD_DOC = "Length in rows (> 0)."
STD_FACTOR = Param("std_factor", "float", 2.0, finite, "Band width in standard deviations.")
WINDOW = Param("window", "int", 100, positive, "Rows of the rolling standard deviation (> 0).")
LOOKBACK = Param(
    "lookback", "int", 400, positive, "Rows of each per-row window, ending at that row (> 0)."
)
EXACT_STD = Param(
    "exact_std",
    "bool",
    False,
    flag,
    "*Corrected*: an exact compensated rolling std instead of pandas' streaming "
    "one, which carries rounding from earlier windows (up to ~1e-9 relative "
    "right after flat stretches; SPEC §8.3.8).",
)

#: The Kalman pair (SPEC 2.12), in the kernel's ``kalman`` table.
KALMAN = (
    Param("r", "float", 0.01, non_negative, "Measurement variance (>= 0).", ("kalman", "r")),
    Param("q", "float", 1.0, non_negative, "Process variance (>= 0).", ("kalman", "q")),
)
CARRY_GAPS = Param(
    "carry_gaps",
    "bool",
    False,
    flag,
    "*Corrected*: carry the Kalman estimate over a missing close (its variance "
    "grows by ``q``). The reference loses the estimate for good at the first "
    "interior gap: every later row is null (SPEC §8.3.1).",
    ("kalman", "carry_gaps"),
)


def _estimate_window(name: str, value: object) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
        raise ParameterError(f"parameter '{name}' must be an integer >= 2 or None, got {value!r}")
    return value


#: The GARCH(1,1) set (SPEC 2.16), in the kernel's ``garch`` table.
GARCH = (
    Param("alpha", "float", 0.05, non_negative, "ARCH weight (>= 0).", ("garch", "alpha")),
    Param("beta", "float", 0.90, non_negative, "GARCH weight (>= 0).", ("garch", "beta")),
    Param(
        "omega",
        "float | None",
        None,
        optional(finite),
        "Constant term; None: long-run variance × (1 − alpha − beta).",
        ("garch", "omega"),
    ),
    Param(
        "use_log_returns",
        "bool",
        True,
        flag,
        "Log returns (True) or simple returns (False).",
        ("garch", "use_log_returns"),
    ),
    Param(
        "scale",
        "float",
        100.0,
        positive_float,
        "Factor on the returns (100: percent; > 0).",
        ("garch", "scale"),
    ),
    Param(
        "min_periods",
        "int",
        50,
        integer,
        "Valid returns after the first one before σ is reported.",
        ("garch", "min_periods"),
    ),
    Param(
        "sigma_floor",
        "float",
        1e-6,
        non_negative,
        "Lower bound of σ in scaled units (>= 0).",
        ("garch", "sigma_floor"),
    ),
)
ESTIMATE_WINDOW = Param(
    "estimate_window",
    "int | None",
    None,
    _estimate_window,
    "*Corrected*: estimate the long-run variance and mean from the first "
    "``estimate_window`` valid returns (null until then, so no value uses later "
    "data). The reference's estimation slices hold a single return, so its "
    "long-run variance is always the 1e-6 fallback and its mean the first "
    "return (SPEC §8.3.2).",
    ("garch", "estimate_window"),
)


# ---------------------------------------------------------------------------
# checks between parameters


def _rolling_std_prepare(values: dict[str, Any]) -> dict[str, Any]:
    if values["period"] <= values["ddof"]:
        raise ParameterError(
            f"parameter 'period' must be greater than ddof ({values['ddof']}), "
            f"got {values['period']}"
        )
    return values


def _zscore_prepare(values: dict[str, Any]) -> dict[str, Any]:
    if values["mean_source"] == "ema":
        if values["ema_period"] is None:
            raise ParameterError("parameter 'ema_period' is required when mean_source='ema'")
        values["ema_period"] = positive("ema_period", values["ema_period"])
    return values


def _vol_cluster_prepare(values: dict[str, Any]) -> dict[str, Any]:
    # Only the chosen branch's length is validated; the other is unused (SPEC 2.19).
    if values["feature"].strip().lower() == "atr_points":
        values["atr_length"] = positive("atr_length", values["atr_length"])
        values["garch_lookback"] = 1
    else:
        values["atr_length"] = 1
        values["garch_lookback"] = positive("garch_lookback", values["garch_lookback"])
    return values


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"parameter '{name}' must be a string, got {value!r}")
    return value


def _ddof(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(f"parameter '{name}' must be an integer >= 0, got {value!r}")
    return value


# ---------------------------------------------------------------------------
# the catalog, in the order of the README's table

_MACD = ("macd", "signal", "histogram")
_BANDS = ("upper", "middle", "lower")
_DMI = ("plus_di", "minus_di", "adx")
_STEP = "Advances once per higher-timeframe bar (SPEC P4); results are forward-filled."

CATALOG: tuple[Indicator, ...] = (
    Indicator(
        "ema",
        "Exponential moving average with gap re-weighting (SPEC 2.1, primitive P1).",
        CLOSE,
        (_period("Span in rows (> 0): a = 1 / (1 + (period − 1) / 2), pandas' span form."),),
        body="""
            The first value is the first present input (no SMA seed); missing
            inputs (null, NaN, ±inf) carry the last value forward, and the next
            observation is weighted as if the gap's rows had decayed the old
            value: after ``g`` missing rows,
            ``m = (keep**(g+1) * m + a * x) / (keep**(g+1) + a)``. Null before the
            first observation. Reproduces pandas' ``ewm(span=period,
            adjust=False)`` bit for bit. TA-Lib convention: SMA seed,
            ``period − 1`` leading nulls.
        """,
        talib=Talib("EMA", {"period": 1}, ("period",)),
        cost=1.0,
        example=Example("3", "[1.1, 1.1006, 1.1006, 1.1013, 1.1015, 1.1023, 1.1025, 1.1033]"),
    ),
    Indicator(
        "sma",
        "Simple moving average (SPEC 2.3).",
        CLOSE,
        (_period(PERIOD_DOC),),
        body="Null for the first ``period − 1`` rows and for every window that "
        "touches a missing value. Summed in independent segments of rows (SPEC P2 "
        "allows any accurate summation): within 4 ulp of pandas' "
        "``rolling(period).mean()``; ``omega_pl.engine.IndicatorCache.sma`` "
        "replays pandas' streaming sum bit for bit.",
        talib=Talib("SMA", {"period": 1}, ("period",)),
        cost=2.0,
        example=Example("3", "[None, None, 1.1006, 1.1012, 1.1014, 1.1023, 1.1025, 1.1033]"),
    ),
    Indicator(
        "dema",
        "Double EMA (SPEC 3.1) on the original port's EMA (``a = 2/(period+1)``, gaps carried).",
        CLOSE,
        (_period(PERIOD_DOC),),
        body="``2·E1 − E2`` where ``E2`` is the EMA of ``E1``; starts at the first "
        "finite close. TA-Lib convention: every EMA SMA-seeded, ``2·(period − 1)`` "
        "leading nulls.",
        talib=Talib("DEMA", {"period": 1}, ("period",)),
        cost=1.1,
        example=Example("3", "[1.1, 1.1009, 1.1007, 1.1017, 1.1019, 1.1029, 1.1029, 1.1038]"),
    ),
    Indicator(
        "tema",
        "Triple EMA (SPEC 3.2) on the original port's EMA.",
        CLOSE,
        (_period(PERIOD_DOC),),
        body="``3·E1 − 3·E2 + E3``; starts at the first finite close. TA-Lib "
        "convention: every EMA SMA-seeded, ``3·(period − 1)`` leading nulls.",
        talib=Talib("TEMA", {"period": 1}, ("period",)),
        cost=1.25,
        example=Example("3", "[1.1, 1.101, 1.1007, 1.1018, 1.1019, 1.103, 1.1029, 1.1039]"),
    ),
    Indicator(
        "rsi",
        "Relative strength index (SPEC 2.4): ``EWM(1/period)`` of gains and losses, no SMA seed.",
        CLOSE,
        (_period(PERIOD_DOC, 14),),
        body="""
            Defined from the first row with a price change; 100 when there have
            been no losses, null (not 50) for a flat start; gaps repeat the last
            value. TA-Lib convention (``period >= 2``): Wilder averages seeded
            with plain means, ``period`` leading nulls, 0 on a flat stretch.
        """,
        talib=Talib("RSI", {"period": 2}, ("period",)),
        cost=1.5,
        example=Example("3", "[None, 100.0, 77.42, 86.92, 80.17, 88.71, 74.0, 85.62]", digits=2),
    ),
    Indicator(
        "roc",
        "Rate of change in percent (SPEC 2.6): ``((C_t − C_{t−p}) / C_{t−p}) · 100``.",
        CLOSE,
        (_period(PERIOD_DOC, 14),),
        body="Null for the first ``period`` rows and where either close is missing.",
        talib=Talib("ROC", {"period": 1}, ("period",)),
        cost=0.6,
        example=Example("2", "[None, None, 0.045, 0.073, 0.118, 0.1, 0.082, 0.082]", digits=3),
    ),
    Indicator(
        "momentum",
        "Momentum (SPEC 3.3): ``C_t − C_{t−period}`` where both are present.",
        CLOSE,
        (_period(PERIOD_DOC),),
        kernel="momentum_expr",
        talib=Talib("MOM", {"period": 1}, ("period",)),
        cost=0.6,
        example=Example("2", "[None, None, 0.0005, 0.0008, 0.0013, 0.0011, 0.0009, 0.0009]"),
    ),
    Indicator(
        "macd",
        "MACD (SPEC 2.5) as ``Struct{macd, signal, histogram}``.",
        CLOSE,
        (
            _period("Span of the fast EMA (> 0).", 12, "fast"),
            _period("Span of the slow EMA (> 0).", 26, "slow"),
            _period("Span of the signal EMA of the MACD line (> 0).", 9, "signal"),
        ),
        outputs=_MACD,
        body="""
            ``macd = EMA(fast) − EMA(slow)``, ``signal = EMA(signal)`` of it,
            ``histogram = macd − signal``. Starts at the first close (macd 0
            there) and is never null after it: both EMAs carry over gaps.
            ``.struct.unnest()`` or ``.struct.field("signal")`` take it apart.
            TA-Lib convention: ``fast``/``slow >= 2``, SMA-seeded EMAs whose seed
            windows end on the same row, ``slow + signal − 2`` leading nulls.
        """,
        talib=Talib("MACD", {"fast": 2, "slow": 2, "signal": 1}, ("fast", "slow", "signal")),
        cost=2.0,
        example=Example(
            "2, 4, 3",
            "[0.0, 0.00032, 0.000112, 0.000441, 0.000335, 0.000572, 0.00036, 0.000568]",
            field="macd",
            digits=6,
        ),
    ),
    Indicator(
        "rolling_std",
        "Rolling standard deviation, plain two-pass (SPEC 3.4); null over windows with a gap.",
        CLOSE,
        (_period(PERIOD_DOC), Param("ddof", "int", 1, _ddof, "Delta degrees of freedom (>= 0).")),
        body="``period`` must exceed ``ddof``. TA-Lib convention: STDDEV, the "
        "population std (``ddof`` is ignored), ``period >= 2``.",
        talib=Talib("STDDEV", {"period": 2}, ("period",)),
        prepare=_rolling_std_prepare,
        cost=2.3,
        example=Example(
            "3", "[None, None, 0.000603, 0.000751, 0.000814, 0.0007, 0.000666, 0.000666]", digits=6
        ),
    ),
    Indicator(
        "bollinger",
        "Bollinger bands (SPEC 2.8) as ``Struct{upper, middle, lower}``.",
        CLOSE,
        (_period(PERIOD_DOC, 20), STD_FACTOR),
        options=(EXACT_STD,),
        outputs=_BANDS,
        body="""
            ``middle`` is the rolling mean, the bands ``middle ± std_factor · std``
            with the sample std of pandas' streaming algorithm. TA-Lib
            convention: BBANDS with the population std (``matype=0``),
            ``period >= 2``.
        """,
        talib=Talib("BBANDS", {"period": 2}, ("period", "std_factor")),
        cost=6.5,
        example=Example(
            "3", "[None, None, 1.1018, 1.1027, 1.1031, 1.1037, 1.1039, 1.1046]", field="upper"
        ),
    ),
    Indicator(
        "zscore",
        "Z-score of the close against a rolling or EMA mean (SPEC 2.15).",
        CLOSE,
        (
            WINDOW,
            Param(
                "mean_source",
                'Literal["rolling", "ema"]',
                "rolling",
                choice("rolling", "ema"),
                "``'rolling'``: the rolling mean over ``window``; ``'ema'``: ``ema(ema_period)``.",
            ),
            Param(
                "ema_period",
                "int | None",
                None,
                doc="Span of the EMA mean; required when ``mean_source='ema'``.",
            ),
        ),
        options=(EXACT_STD,),
        body="``(C − M) / std(C − M)`` over ``window`` rows: the denominator is "
        "the std of the *deviations*.",
        prepare=_zscore_prepare,
        cost=7.5,
        example=Example("3", "[None, None, None, None, 0.88, 3.318, 0.515, 2.107]", digits=3),
    ),
    Indicator(
        "atr",
        "Average true range, Wilder smoothing with an SMA seed (SPEC 2.10).",
        OHLC,
        (_period(PERIOD_DOC, 14),),
        options=(
            Param(
                "reseed",
                "bool",
                False,
                flag,
                "*Corrected*: seed at the first run of ``period`` present true "
                "ranges. The reference makes the whole series null when any row "
                "of its first window is missing, however long the series "
                "(SPEC §8.3.3).",
            ),
        ),
        body="""
            The seed is the mean of the first ``period`` true ranges from the
            first present one; later rows ``(ATR·(p−1) + TR) / p``, carried over
            gaps. TA-Lib convention: ATR, first value at row ``period``.
        """,
        talib=Talib("ATR", {"period": 1}, ("period",)),
        cost=1.4,
        example=Example(
            "3", "[None, None, 0.001533, 0.001722, 0.001581, 0.001654, 0.00157, 0.00168]", digits=6
        ),
    ),
    Indicator(
        "dmi",
        "Directional movement (SPEC 2.7) as ``Struct{plus_di, minus_di, adx}``.",
        OHLC,
        (_period(PERIOD_DOC, 14),),
        outputs=_DMI,
        body="""
            Wilder-style ``EWM(1/period)`` averages without SMA seeds; missing
            rows count as zero directional movement, so both DIs shrink during
            gaps. TA-Lib convention: PLUS_DI / MINUS_DI / ADX (``period >= 2``).
        """,
        talib=Talib("ADX", {"period": 2}, ("period",)),
        cost=3.2,
        example=Example(
            "3", "[None, 100.0, 76.47, 75.67, 75.13, 79.49, 82.41, 86.51]", field="adx", digits=2
        ),
    ),
    Indicator(
        "choppiness",
        "Choppiness index (SPEC 2.11): ``100·log10(ΣTR / (max H − min L)) / log10(period)``.",
        OHLC,
        (_period(PERIOD_DOC, 14),),
        body="Null unless the whole window is present; a zero range is null; "
        "``period = 1`` gives ±inf (division by ``log10(1) = 0``), as the "
        "reference does.",
        cost=10.0,
        example=Example("3", "[None, None, 59.22, 63.09, 52.37, 56.35, 57.22, 61.33]", digits=2),
    ),
    Indicator(
        "vol_cluster",
        "Volatility-cluster feature (SPEC 2.19): ATR or local GARCH volatility.",
        OHLC,
        (
            Param(
                "feature",
                "str",
                check=_text,
                doc="``'atr_points'`` (trimmed, any case) for ``atr(atr_length)``; "
                "anything else for ``garch_volatility_local(garch_lookback, garch_*)``.",
            ),
            Param("atr_length", "int", doc="ATR period of the ``atr_points`` feature (> 0)."),
            Param("garch_lookback", "int", doc="Window of the GARCH feature (> 0)."),
            *(p.renamed("garch_") for p in GARCH),
        ),
        options=(ESTIMATE_WINDOW.renamed("garch_"),),
        prepare=_vol_cluster_prepare,
        cost=1.4,
        example=Example(
            '"atr_points", 3, 400',
            "[None, None, 0.001533, 0.001722, 0.001581, 0.001654, 0.00157, 0.00168]",
            digits=6,
        ),
    ),
    Indicator(
        "kalman_mean",
        "Scalar random-walk Kalman filter of the close (SPEC 2.12).",
        CLOSE,
        KALMAN,
        options=(CARRY_GAPS,),
        body="With the defaults (``q`` ≫ ``r``) the gain is ≈ 0.99: the mean "
        "follows the close within about 1 % of the last bar's move.",
        cost=1.3,
        example=Example(
            "0.5, 0.1",
            "[1.1, 1.10065, 1.10059, 1.10113, 1.10138, 1.102, 1.10225, 1.10288]",
            digits=5,
        ),
    ),
    Indicator(
        "kalman_zscore",
        "Residual of the Kalman mean over its rolling std (SPEC 2.13).",
        CLOSE,
        (WINDOW, *KALMAN),
        options=(CARRY_GAPS, EXACT_STD),
        body="``z = RES / ROLL_STD(RES, window)`` with ``RES = C − kalman_mean``.",
        cost=5.6,
        example=Example(
            "3, 0.5, 0.1", "[None, None, -0.258, 1.783, 0.88, 3.192, 1.164, 2.926]", digits=3
        ),
    ),
    Indicator(
        "garch_volatility",
        "GARCH(1,1) one-step-ahead volatility with fixed parameters (SPEC 2.16).",
        CLOSE,
        GARCH,
        options=(ESTIMATE_WINDOW,),
        body="In return units. Null before ``min_periods`` valid returns; all "
        "null when ``alpha + beta >= 1`` (as the reference: no error).",
        cost=4.5,
        example=Example(
            "min_periods=2",
            "[None, None, None, 0.0003861, 0.0003713, 0.0004527, 0.00043, 0.0005215]",
            digits=7,
        ),
    ),
    Indicator(
        "kalman_garch_zscore",
        "Kalman residual over ``|C| · σ_GARCH`` (SPEC 2.17).",
        CLOSE,
        (*KALMAN, *GARCH),
        options=(CARRY_GAPS, ESTIMATE_WINDOW),
        body="With the default ``r``/``q`` the residual is about 1 % of a bar's "
        "move, so ``|z|`` is typically ~0.01 (SPEC §8.3.6).",
        cost=6.8,
        example=Example(
            "0.5, 0.1, min_periods=2",
            "[None, None, None, 2.039, 1.029, 2.196, 0.94, 1.944]",
            digits=3,
        ),
    ),
    Indicator(
        "garch_volatility_local",
        "Per row, σ at the end of a GARCH run restarted on the last ``lookback`` "
        "closes (SPEC 2.18).",
        CLOSE,
        (LOOKBACK, *GARCH),
        options=(ESTIMATE_WINDOW,),
        body="O(rows · lookback); rows are computed in parallel.",
        cost=1000.0,
        example=Example(
            "4, min_periods=2",
            "[None, None, None, 0.0003861, 0.0004469, 0.0003453, 0.0003044, 0.0003449]",
            digits=7,
        ),
    ),
    Indicator(
        "kalman_garch_zscore_local",
        "Per row, the Kalman-GARCH z-score of the last ``lookback`` closes with "
        "both filters restarted on that segment (SPEC 2.20).",
        CLOSE,
        (LOOKBACK, *KALMAN, *GARCH),
        options=(CARRY_GAPS, ESTIMATE_WINDOW),
        body="O(rows · lookback); rows are computed in parallel.",
        cost=1000.0,
        example=Example(
            "4, 0.5, 0.1, min_periods=2",
            "[None, None, None, 2.039, 0.596, 2.543, 0.536, 2.275]",
            digits=3,
        ),
    ),
    Indicator(
        "ema_stepwise",
        "EMA that advances once per higher-timeframe bar (SPEC 2.2, P4).",
        STEPWISE,
        (_period("Span in HTF bars (> 0)."),),
        body="The EMA runs on the closes of the rows that start a new bar. " + _STEP,
        cost=3.4,
        example=Example("2", "[1.1, 1.1, 1.1, 1.1013, 1.1013, 1.1013, 1.1022, 1.1022]"),
    ),
    Indicator(
        "bollinger_stepwise",
        "Bollinger bands advancing once per higher-timeframe bar (SPEC 2.9, P4).",
        STEPWISE,
        (_period("Length in HTF bars (> 0).", 20), STD_FACTOR),
        options=(EXACT_STD,),
        outputs=_BANDS,
        body=_STEP,
        cost=5.7,
        example=Example(
            "2", "[None, None, None, 1.101, 1.101, 1.101, 1.1024, 1.1024]", field="middle"
        ),
    ),
    Indicator(
        "kalman_zscore_stepwise",
        "Kalman z-score advancing once per higher-timeframe bar (SPEC 2.14, P4).",
        STEPWISE,
        (WINDOW, *KALMAN),
        options=(EXACT_STD,),
        body="Filter, residuals and rolling std run on one value per HTF bar. " + _STEP,
        cost=3.9,
        example=Example("2", "[None, None, None, 1.414, 1.414, 1.414, 0.795, 0.795]", digits=3),
    ),
)


def by_name() -> dict[str, Indicator]:
    """The catalog by name."""
    return {decl.name: decl for decl in CATALOG}
