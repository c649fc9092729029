"""Technical indicators as Polars expressions backed by Rust kernels.

Each indicator is declared once, in :mod:`omega_pl.indicators.catalog`, and
exists in two forms with the same parameters (:mod:`.expressions`): a module
function (``omega_pl.ema("bid_close", 20)``, ``omega_pl.atr(high, low, close,
14)``) and a method of the ``omega`` expression namespace
(``pl.col("bid_close").omega.ema(20)``, where OHLC indicators find
``bid_high``/``bid_low`` by the close column's name). :mod:`.specs` reads
indicator specs (``"atr:14"``, dicts, TOML spec files) and :mod:`.plan` runs many
of them in one ``with_columns`` (:func:`with_indicators`).

Semantics follow ``SPEC-indicators.md`` (the original engine's pandas
reference) by default: outputs are Float64 (or a Struct of Float64), null
where the SPEC says "missing", ±inf kept. Every expression depends on row
order and is registered as not elementwise, so ``.over("symbol")`` hands each
group to the kernel whole. Keyword options marked *corrected* switch off a
known defect of the reference (SPEC §8.3); they default to off so results
reproduce the reference exactly.

TA-Lib convention
-----------------
``convention="talib"`` gives TA-Lib's definition of an indicator exactly: that of the
C library 0.8.1 inside the ``ta-lib`` 0.8 Python package, in its default
compatibility mode with every unstable period 0. The Rust kernels in
``plugins/kernels/src/talib.rs`` repeat TA-Lib's floating-point operations in
TA-Lib's order (fused multiply-adds included), so on gap-free input the
results equal ``talib``'s bit for bit.

* EMAs are seeded with the SMA of their first ``period`` values (MACD, DEMA
  and TEMA included); RSI, ATR and DMI use Wilder smoothing with TA-Lib's
  seeds; BBANDS and STDDEV use the population standard deviation (ddof 0),
  from TA-Lib 0.8's cancellation-free rolling variance (no fixed ``1e-14``
  floor: a finely quoted FX series keeps a non-zero deviation).
* TA-Lib's warm-up ("lookback") rows, where ``talib`` returns NaN, are null:
  ``period − 1`` for SMA/EMA/BBANDS/STDDEV, ``period`` for RSI/ROC/MOM/ATR and
  the DIs, ``2·period − 1`` for ADX, ``2·(period − 1)`` for DEMA,
  ``3·(period − 1)`` for TEMA, ``slow + signal − 2`` for MACD.
* Leading nulls are skipped as the ``talib`` wrapper skips leading NaNs: the
  warm-up counts from the first row where every input is present.
* TA-Lib has no gap semantics, and neither has this convention: it assumes
  gap-free input. A null (or NaN) after the first present row enters
  TA-Lib's recursions as NaN and behaves as it does in TA-Lib: mostly it
  propagates (for running sums and recursive averages, to every later row),
  but where TA-Lib guards a division with a comparison the guard's fallback
  wins (RSI reads 0 and the DIs 0 from then on). It never raises.

Periods are checked against TA-Lib's own lower bounds (1 for SMA, EMA, DEMA,
TEMA, ROC, MOM and ATR; 2 for RSI, BBANDS, STDDEV, DMI/ADX and MACD's fast
and slow; 1 for MACD's signal). TA-Lib's upper bound (100000) is not
enforced.
"""

from __future__ import annotations

from omega_pl.indicators.expressions import (
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
from omega_pl.indicators.plan import IndicatorPlan, plan_indicators, with_indicators
from omega_pl.indicators.specs import (
    INDICATORS,
    IndicatorSpec,
    SpecFile,
    SpecLike,
    describe_indicator,
    parse_spec,
    read_spec_file,
)

__all__ = [
    "INDICATORS",
    "IndicatorPlan",
    "IndicatorSpec",
    "OmegaExpr",
    "SpecFile",
    "SpecLike",
    "atr",
    "bollinger",
    "bollinger_stepwise",
    "choppiness",
    "dema",
    "describe_indicator",
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
    "parse_spec",
    "plan_indicators",
    "read_spec_file",
    "roc",
    "rolling_std",
    "rsi",
    "sma",
    "tema",
    "vol_cluster",
    "with_indicators",
    "zscore",
]
