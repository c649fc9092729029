"""Data packages: ``{tf: {"bid": candles, "ask": candles}}`` and their columns.

The original engine hands every strategy a *data package*: per timeframe and
side an equal-length list of candles on the primary grid (``None`` for a
missing bar, a higher-timeframe bar repeated while it is the current one).
:func:`load_data_package` builds one from files with omega_pl's loaders and
alignment (SPEC §4 and §5); :func:`side_columns` reads any package's candles back
into columns — at once for the sequences omega_pl builds, one candle at a time
for plain lists of candles, dicts and ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from omega_pl.alignment import aligned_column, scan_aligned
from omega_pl.engine.records import CandleSeq
from omega_pl.errors import ParameterError
from omega_pl.io import TimeBound, scan_symbol
from omega_pl.timeframes import OHLCV, Timeframe

__all__ = ["DataPackage", "load_data_package", "package_from_frame", "side_columns"]

#: ``{tf: {"bid": candles, "ask": candles}}``.
DataPackage = Mapping[str, Mapping[str, Sequence[Any]]]
SIDES = ("bid", "ask")


def side_columns(candles: Sequence[Any]) -> pl.DataFrame:
    """``open … volume`` (null where no bar) and ``bar`` (a new number at each new bar).

    A row starts a new bar when its candle is not the object of the last row
    that had one (the original's ``c is not prev``, SPEC P4).

    Raises
    ------
    ParameterError
        If an element is neither a candle, a dict with the OHLCV keys nor ``None``.
    """
    if isinstance(candles, CandleSeq):
        return candles.frame()
    n = len(candles)
    values = np.full((len(OHLCV), n), np.nan)
    bars = np.full(n, -1, dtype=np.int64)
    prev: object = None
    key = -1
    for i, c in enumerate(candles):
        if c is None:
            continue
        if c is not prev:
            key += 1
            prev = c
        bars[i] = key
        try:
            if isinstance(c, Mapping):
                row = [c[f] for f in OHLCV]
            else:
                row = [getattr(c, f) for f in OHLCV]
            values[:, i] = row
        except (KeyError, AttributeError, TypeError, ValueError):
            raise ParameterError(
                f"candle {i} of the data package must be a candle with open/high/low/close/"
                f"volume (attributes or dict keys) or None, got {c!r}"
            ) from None
    columns = {f: values[j] for j, f in enumerate(OHLCV)}
    frame = pl.DataFrame(columns)
    return frame.with_columns(pl.Series("bar", bars).replace(-1, None))


def _htf_seq(frame: pl.DataFrame, tf: Timeframe, side: str) -> CandleSeq:
    """The candles of one aligned higher timeframe and side, one object per bar."""
    col = {f: aligned_column(tf, f, side) for f in ("time", *OHLCV)}
    key = pl.col(col["time"])
    rows = frame.select(key.rank("dense").cast(pl.Int64) - 1).to_series()
    bars = (
        frame.filter(key.is_not_null() & key.is_first_distinct())
        .select(*(pl.col(c).alias(f) for f, c in col.items()))
        .sort("time")
    )
    return CandleSeq.from_frame(bars, side, rows)


def package_from_frame(
    frame: pl.DataFrame | pl.LazyFrame, primary_tf: str, higher: Sequence[str] = ()
) -> dict[str, dict[str, CandleSeq]]:
    """The data package of a :func:`~omega_pl.scan_aligned` / :func:`~omega_pl.scan_symbol` frame.

    ``primary_tf`` names the frame's own bars (``bid_open`` … ``ask_volume``);
    each of ``higher`` its aligned columns (``h1_bid_open`` …, bar key
    ``h1_bid_time``). Keys are the timeframes' canonical names (``"M5"``).

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import package_from_frame
    >>> root = omega_pl.datasets.sample_data_root()
    >>> frame = omega_pl.scan_aligned(root, "GBPUSD", "M15", higher=["H4"], end="2025-03-19").frame
    >>> pkg = package_from_frame(frame, "M15", ["H4"])
    >>> sorted(pkg), pkg["H4"]["ask"][-1].timestamp <= pkg["M15"]["ask"][-1].timestamp
    (['H4', 'M15'], True)
    """
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    primary = Timeframe.parse(primary_tf)
    package: dict[str, dict[str, CandleSeq]] = {primary.name: {}}
    for side in SIDES:
        names = [f"{side}_{f}" for f in OHLCV]
        missing = [n for n in ("time", *names) if n not in df.columns]
        if missing:
            raise ParameterError(
                f"the frame has no column(s) {', '.join(map(repr, missing))}; expected a "
                "scan_symbol/scan_aligned frame (time, bid_open … ask_volume)"
            )
        bars = df.select("time", *(pl.col(n).alias(f) for n, f in zip(names, OHLCV, strict=True)))
        package[primary.name][side] = CandleSeq.from_frame(bars, side)
    for name in higher:
        tf = Timeframe.parse(name)
        package[tf.name] = {side: _htf_seq(df, tf, side) for side in SIDES}
    return package


def load_data_package(
    root: str | os.PathLike[str],
    symbol: str,
    primary_tf: str = "M1",
    higher: Sequence[str] = (),
    *,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    **align: Any,
) -> dict[str, dict[str, CandleSeq]]:
    """Load one symbol's data package: the primary bars and aligned higher timeframes.

    The primary grid is bid and ask inner-joined on time (SPEC §5.1, with the
    loading rules of SPEC §4); each higher timeframe is aligned per side
    without look-ahead (SPEC §5.2, :func:`~omega_pl.scan_aligned`, whose
    keyword options ``align`` takes). Every list has the primary length.

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import load_data_package
    >>> root = omega_pl.datasets.sample_data_root()
    >>> pkg = load_data_package(root, "EURUSD", "M5", ["H1"], start="2025-03-24", end="2025-03-25")
    >>> sorted(pkg), len(pkg["M5"]["bid"]) == len(pkg["H1"]["ask"])
    (['H1', 'M5'], True)
    >>> h1 = pkg["H1"]["bid"]
    >>> h1[20] is h1[21] or h1[20].timestamp != h1[21].timestamp
    True
    """
    if higher:
        scan = scan_aligned(
            root, symbol, primary_tf, higher=list(higher), start=start, end=end, **align
        )
        frame = scan.frame.collect()
    else:
        frame = scan_symbol(root, symbol, primary_tf, start=start, end=end, **align).collect()
    return package_from_frame(frame, primary_tf, higher)
