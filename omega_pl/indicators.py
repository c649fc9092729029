"""Technical indicators as Polars expressions backed by Rust kernels.

Each indicator exists twice, with the same parameters: as a module function
(``omega_pl.ema("bid_close", 20)``) and in the ``omega`` expression namespace
(``pl.col("bid_close").omega.ema(20)``). Outputs are Float64, null where the
SPEC says "missing"; every expression is order-dependent (not elementwise), so
it is safe under ``.over("symbol")``.
"""

from __future__ import annotations

import polars as pl

from omega_pl._plugin import plugin_expr, positive_int, to_expr

__all__ = ["OmegaExpr", "ema"]


def ema(source: str | pl.Expr, period: int) -> pl.Expr:
    """Exponential moving average with gap re-weighting (SPEC 2.1, primitive P1).

    ``a = 1 / (1 + (period - 1) / 2)`` (pandas' span form). The first value is
    the first present input (no SMA seed); missing inputs (null, NaN, ±inf)
    carry the last value forward, and the next observation is weighted as if
    the gap's rows had decayed the old value: after ``g`` missing rows,
    ``m = (keep**(g+1) * m + a * x) / (keep**(g+1) + a)``. Null before the
    first observation. Reproduces pandas' ``ewm(span=period, adjust=False)``
    bit for bit.

    Parameters
    ----------
    source
        Column name or expression (any numeric type; computed in Float64).
    period
        Span, a positive integer.

    Raises
    ------
    ParameterError
        If ``period`` is not a positive integer.

    Examples
    --------
    >>> df.with_columns(omega_pl.ema("bid_close", 20).alias("ema20"))  # doctest: +SKIP
    """
    period = positive_int("period", period)
    return plugin_expr("ema", [to_expr(source)], {"period": period})


@pl.api.register_expr_namespace("omega")
class OmegaExpr:
    """The ``omega`` expression namespace: ``pl.col("close").omega.ema(20)``."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def ema(self, period: int) -> pl.Expr:
        """Exponential moving average; see :func:`omega_pl.indicators.ema`."""
        return ema(self._expr, period)
