"""The indicator functions and the ``omega`` expression namespace, made from the catalog.

Every indicator exists in two forms with the same parameters, both generated
from its declaration in :mod:`omega_pl.indicators.catalog` (real signatures
for ``help()`` and ``inspect``; the type stub ``expressions.pyi`` next to this
file carries them for mypy and IDEs):

* a module function: ``omega_pl.ema("bid_close", 20)``,
  ``omega_pl.atr(high, low, close, 14)``;
* a method of the ``omega`` namespace: ``pl.col("bid_close").omega.ema(20)``,
  where OHLC methods find ``bid_high``/``bid_low`` by the close column's name
  unless ``high=``/``low=`` are given.

Run ``python -m omega_pl.indicators.stub`` to rewrite the stub after
changing the catalog.
"""

from __future__ import annotations

import polars as pl

from omega_pl.indicators.catalog import CATALOG
from omega_pl.indicators.generate import make_function, make_method

__all__ = ["OmegaExpr", *(decl.name for decl in CATALOG)]


class OmegaExpr:
    """The ``omega`` expression namespace: ``pl.col("bid_close").omega.atr(14)``.

    Methods mirror the module functions with the expression as the source (the
    close). OHLC methods find the high and low columns by the close column's
    name (``close`` -> ``high``/``low``, ``bid_close`` -> ``bid_high``/
    ``bid_low``) unless ``high=``/``low=`` are given.

    Examples
    --------
    >>> import polars as pl
    >>> import omega_pl
    >>> df = pl.DataFrame({"bid_high": [1.2, 1.3, 1.25], "bid_low": [1.0, 1.1, 1.15],
    ...     "bid_close": [1.1, 1.2, 1.2]})
    >>> df.select(pl.col("bid_close").omega.atr(2).round(4)).to_series().to_list()
    [None, 0.2, 0.15]
    """

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr


for _decl in CATALOG:
    globals()[_decl.name] = make_function(_decl, __name__)
    setattr(OmegaExpr, _decl.name, make_method(_decl, __name__, OmegaExpr.__name__))

pl.api.register_expr_namespace("omega")(OmegaExpr)
