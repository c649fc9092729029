"""Indicator expressions in the TA-Lib convention (``convention="talib"``).

Each function gives TA-Lib's definition of an indicator exactly: that of the
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

import math
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from omega_pl._plugin import plugin_expr, positive_int, to_expr
from omega_pl.errors import ParameterError

__all__ = [
    "atr",
    "bollinger",
    "dema",
    "dmi",
    "ema",
    "macd",
    "momentum",
    "roc",
    "rolling_std",
    "rsi",
    "sma",
    "talib_expr",
    "tema",
]

IntoExpr = str | pl.Expr


def _period(name: str, value: object, minimum: int, function: str) -> int:
    """``value`` as an int ``>= minimum`` (TA-Lib's bound for ``function``)."""
    period = positive_int(name, value)
    if period < minimum:
        raise ParameterError(
            f"parameter '{name}' must be an integer >= {minimum} "
            f"({function} in the TA-Lib convention), got {value!r}"
        )
    return period


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"parameter '{name}' must be a finite number, got {value!r}")
    return float(value)


def _unary(name: str, function: str, source: IntoExpr, period: int, minimum: int) -> pl.Expr:
    period = _period("period", period, minimum, function)
    return plugin_expr(f"talib_{name}", [to_expr(source)], {"period": period})


def ema(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``EMA(period)``: ``k = 2 / (period + 1)``, seeded with the SMA of
    the first ``period`` values; null for the first ``period − 1`` rows."""
    return _unary("ema", "EMA", source, period, 1)


def sma(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``SMA(period)``; null for the first ``period − 1`` rows."""
    return _unary("sma", "SMA", source, period, 1)


def rsi(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``RSI(period)`` (``period >= 2``): Wilder averages of gains and
    losses seeded with their plain means over the first ``period`` changes;
    null for the first ``period`` rows. ``0`` (not 50) where average gain plus
    average loss is not positive (a flat stretch)."""
    return _unary("rsi", "RSI", source, period, 2)


def roc(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``ROC(period)``: ``(x / x[-period] − 1) · 100``, ``0`` where
    ``x[-period] == 0``; null for the first ``period`` rows."""
    return _unary("roc", "ROC", source, period, 1)


def momentum(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``MOM(period)``: ``x − x[-period]``; null for the first ``period`` rows."""
    return _unary("momentum", "MOM", source, period, 1)


def dema(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``DEMA(period)``: ``2·EMA − EMA(EMA)``, every EMA SMA-seeded; null
    for the first ``2·(period − 1)`` rows. ``period = 1`` returns the input."""
    return _unary("dema", "DEMA", source, period, 1)


def tema(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``TEMA(period)``: ``EMA3 + (3·EMA1 − 3·EMA2)``, every EMA
    SMA-seeded; null for the first ``3·(period − 1)`` rows. ``period = 1``
    returns the input."""
    return _unary("tema", "TEMA", source, period, 1)


def rolling_std(source: IntoExpr, period: int) -> pl.Expr:
    """TA-Lib ``STDDEV(period, nbdev=1)`` (``period >= 2``): the *population*
    standard deviation (divisor ``period``, i.e. ``ddof = 0``; there is no
    ``ddof`` in this convention, whatever omega's own default), computed as
    TA-Lib 0.8 does from running sums of deviations from a shift that is
    re-anchored on the window mean (exactly ``0`` on identical values); null
    for the first ``period − 1`` rows."""
    return _unary("rolling_std", "STDDEV", source, period, 2)


def macd(source: IntoExpr, fast: int = 12, slow: int = 26, signal: int = 9) -> pl.Expr:
    """TA-Lib ``MACD(fast, slow, signal)`` as ``Struct{macd, signal, histogram}``
    (TA-Lib's ``macd``, ``macdsignal``, ``macdhist``).

    ``fast`` and ``slow`` must be ``>= 2``, ``signal >= 1``; if ``slow < fast``
    TA-Lib swaps them, and so does this. Both price EMAs are SMA-seeded and
    their seed windows *end on the same row* (``slow − 1``): the fast EMA is
    seeded with the mean of rows ``slow − fast … slow − 1``, not of the first
    ``fast`` rows. The signal EMA is seeded with the mean of the first
    ``signal`` MACD values. All three fields are null for the first
    ``slow + signal − 2`` rows.
    """
    kwargs = {
        "fast": _period("fast", fast, 2, "MACD"),
        "slow": _period("slow", slow, 2, "MACD"),
        "signal": _period("signal", signal, 1, "MACD"),
    }
    return plugin_expr("talib_macd", [to_expr(source)], kwargs)


def bollinger(source: IntoExpr, period: int = 20, std_factor: float = 2.0) -> pl.Expr:
    """TA-Lib ``BBANDS(period, nbdevup=nbdevdn=std_factor, matype=SMA)`` as
    ``Struct{upper, middle, lower}`` (TA-Lib's upper, middle, lower band).

    ``middle`` is the SMA; the bands are ``middle ± std_factor · σ`` with σ the
    population standard deviation (ddof 0) of :func:`rolling_std`.
    ``period >= 2``; null for the first ``period − 1`` rows.
    """
    kwargs = {
        "period": _period("period", period, 2, "BBANDS"),
        "std_factor": _finite("std_factor", std_factor),
    }
    return plugin_expr("talib_bollinger", [to_expr(source)], kwargs)


def atr(high: IntoExpr, low: IntoExpr, close: IntoExpr, period: int = 14) -> pl.Expr:
    """TA-Lib ``ATR(high, low, close, period)``: the first value (row ``period``)
    is the mean of the true ranges of rows ``1 … period``, then Wilder's step,
    which TA-Lib 0.8 writes as ``fma(b, ATR, a·TR)`` with ``b = (p − 1)/p``,
    ``a = 1 − b``. ``period = 1`` gives the true range (TA-Lib's ``TRANGE``).
    The first row has no true range (it needs the previous close). Named after
    ``close``."""
    period = _period("period", period, 1, "ATR")
    inputs = [to_expr(close), to_expr(high), to_expr(low)]
    return plugin_expr("talib_atr", inputs, {"period": period})


def dmi(high: IntoExpr, low: IntoExpr, close: IntoExpr, period: int = 14) -> pl.Expr:
    """TA-Lib ``PLUS_DI``, ``MINUS_DI`` and ``ADX`` (one ``period >= 2``) as
    ``Struct{plus_di, minus_di, adx}``, named after ``close``.

    Directional movement and true range are summed over rows ``1 … period − 1``
    and then Wilder-smoothed (``s − s/p + today``); the DIs start at row
    ``period``. ADX is the mean of the first ``period`` DX values (rows
    ``period … 2·period − 1``), then Wilder-smoothed: null for the first
    ``2·period − 1`` rows.
    """
    period = _period("period", period, 2, "ADX")
    inputs = [to_expr(close), to_expr(high), to_expr(low)]
    return plugin_expr("talib_dmi", inputs, {"period": period})


_SINGLE: dict[str, Callable[..., pl.Expr]] = {
    "ema": ema,
    "sma": sma,
    "rsi": rsi,
    "roc": roc,
    "momentum": momentum,
    "dema": dema,
    "tema": tema,
    "rolling_std": rolling_std,
    "macd": macd,
    "bollinger": bollinger,
}
_OHLC: dict[str, Callable[..., pl.Expr]] = {"atr": atr, "dmi": dmi}


def talib_expr(name: str, inputs: Sequence[IntoExpr], **params: Any) -> pl.Expr:
    """The TA-Lib-convention expression for omega indicator ``name``.

    ``inputs`` is ``[source]`` for single-column indicators and
    ``[close, high, low]`` (omega's kernel order) for ``atr`` and ``dmi``;
    ``params`` are the indicator's keyword parameters under omega's names
    (``period``; ``fast``/``slow``/``signal`` for ``macd``;
    ``period``/``std_factor`` for ``bollinger``).

    Raises
    ------
    ParameterError
        For an unknown indicator, a wrong number of inputs, or an invalid or
        unknown parameter.
    """
    if name in _OHLC:
        if len(inputs) != 3:
            raise ParameterError(
                f"TA-Lib '{name}' takes [close, high, low], got {len(inputs)} input(s)"
            )
        close, high, low = inputs
        function, args = _OHLC[name], [high, low, close]
    elif name in _SINGLE:
        if len(inputs) != 1:
            raise ParameterError(f"TA-Lib '{name}' takes one input, got {len(inputs)}")
        function, args = _SINGLE[name], [inputs[0]]
    else:
        known = ", ".join(sorted([*_SINGLE, *_OHLC]))
        raise ParameterError(f"no TA-Lib convention for indicator '{name}' (available: {known})")
    try:
        return function(*args, **params)
    except TypeError as exc:
        raise ParameterError(f"TA-Lib '{name}': {exc}") from None
