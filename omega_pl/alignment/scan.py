"""Loading and aligning in one plan: :func:`scan_aligned`.

Each higher timeframe comes from its own bid and ask files when they exist, or
is resampled from the primary timeframe's files; :class:`AlignedScan` says which.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from omega_pl.alignment.asof import _align
from omega_pl.alignment.options import (
    Entry,
    HigherFrame,
    Mode,
    Side,
    _choice,
    _validate,
)
from omega_pl.errors import CandleFileNotFoundError, ParameterError
from omega_pl.io import TimeBound, candle_files, join_bid_ask, parse_time_bound, scan_candles
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.timeframes import Timeframe, resample

__all__ = ["AlignedScan", "HigherSource", "Origin", "Source", "scan_aligned"]

#: Where :func:`scan_aligned` takes a higher timeframe from.
Source = Literal["auto", "file", "resample"]
#: Where a higher timeframe of :func:`scan_aligned` came from.
Origin = Literal["file", "resampled"]

_SOURCES = ("auto", "file", "resample")


@dataclass(frozen=True)
class HigherSource:
    """Where one higher timeframe of :func:`scan_aligned` comes from.

    Attributes
    ----------
    timeframe
        The higher timeframe.
    origin
        ``"file"``: read from its own bid and ask files; ``"resampled"``:
        aggregated from the primary timeframe's files with
        :func:`~omega_pl.resample`.
    files
        The files read for it: its own, or the primary ones it was resampled from.

    Examples
    --------
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()  # M1 … D1 files, no H2
    >>> window = {"start": "2025-03-18", "end": "2025-03-18"}
    >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"], **window)
    >>> h2 = scan.higher["H2"]
    >>> h2.timeframe.name, h2.origin, [path.name for path in h2.files.values()]
    ('H2', 'resampled', ['EURUSD_M5_BID.parquet', 'EURUSD_M5_ASK.parquet'])
    """

    timeframe: Timeframe
    origin: Origin
    files: dict[Side, Path]


@dataclass(frozen=True)
class AlignedScan:
    """The result of :func:`scan_aligned`: the lazy aligned frame and where its parts come from.

    Attributes
    ----------
    frame
        The lazy aligned frame (:func:`align_timeframes` output).
    timeframe
        The primary timeframe.
    files
        The primary bid and ask files.
    higher
        Per higher timeframe name (``"H1"`` …), its :class:`HigherSource`.

    Examples
    --------
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()  # M1 … D1 files, no H2
    >>> window = {"start": "2025-03-18", "end": "2025-03-18"}
    >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"], **window)
    >>> scan.timeframe.name, [path.name for path in scan.files.values()], list(scan.higher)
    ('M5', ['EURUSD_M5_BID.parquet', 'EURUSD_M5_ASK.parquet'], ['H1', 'H2'])
    """

    frame: pl.LazyFrame
    timeframe: Timeframe
    files: dict[Side, Path]
    higher: dict[str, HigherSource] = field(default_factory=dict)

    @property
    def origins(self) -> dict[str, Origin]:
        """``{"H1": "file", "D1": "resampled", …}``.

        Examples
        --------
        >>> import omega_pl
        >>> root = omega_pl.datasets.sample_data_root()  # M1 … D1 files, no H2
        >>> window = {"start": "2025-03-18", "end": "2025-03-18"}
        >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"], **window)
        >>> scan.origins
        {'H1': 'file', 'H2': 'resampled'}
        """
        return {name: src.origin for name, src in self.higher.items()}

    @property
    def resampled(self) -> tuple[str, ...]:
        """Names of the higher timeframes that were resampled from the primary one.

        Examples
        --------
        >>> import omega_pl
        >>> root = omega_pl.datasets.sample_data_root()  # M1 … D1 files, no H2
        >>> window = {"start": "2025-03-18", "end": "2025-03-18"}
        >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"], **window)
        >>> scan.resampled
        ('H2',)
        """
        return tuple(name for name, src in self.higher.items() if src.origin == "resampled")

    def collect(
        self, *, engine: Literal["auto", "in-memory", "streaming"] = "auto"
    ) -> pl.DataFrame:
        """Run the plan: ``self.frame.collect(engine=engine)``.

        Examples
        --------
        >>> import omega_pl
        >>> root = omega_pl.datasets.sample_data_root()  # M1 … D1 files, no H2
        >>> window = {"start": "2025-03-18", "end": "2025-03-18"}
        >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"], **window)
        >>> frame = scan.collect()
        >>> frame.height, frame.columns[11:13], frame.columns[-1]
        (288, ['h1_bid_open', 'h1_bid_high'], 'h2_ask_time')
        """
        return self.frame.collect(engine=engine)


def _resampled_side(
    primary_side: pl.LazyFrame,
    tf: Timeframe,
    *,
    start: TimeBound | None,
    market_hours: bool | None,
    clean_daily: bool | None,
) -> pl.LazyFrame:
    """One side's higher bars aggregated from its primary bars, as a file of ``tf`` would be.

    Buckets starting before ``start`` are incomplete and dropped (a file's bar
    with that open time would be outside the window too); the market-hours mask
    or the daily cleanup that :func:`~omega_pl.scan_candles` would apply to a
    file of ``tf`` is applied to the aggregated bars.
    """
    lf = resample(primary_side, tf)
    if start is not None:
        lo = parse_time_bound(start, "start")
        lf = lf.filter(pl.col("time") >= pl.lit(lo, dtype=pl.Datetime("us", "UTC")))
    use_hours = tf.is_intraday if market_hours is None else market_hours
    use_daily = tf.is_daily if clean_daily is None else clean_daily
    if use_hours:
        lf = lf.filter(market_hours_mask("time"))
    if use_daily:
        lf = lf.filter(daily_clean_mask("time"))
    return lf


def scan_aligned(
    root: str | os.PathLike[str],
    symbol: str,
    timeframe: str | Timeframe,
    *,
    higher: Sequence[str | Timeframe] | str,
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    market_hours: bool | None = None,
    clean_daily: bool | None = None,
    normalize: bool = False,
    source: Source = "auto",
    entry: Entry = "open",
    previous_completed: bool = True,
    stale_limit: int | None = None,
    close_stamped: Iterable[str | Timeframe] | str = (),
    mode: Mode = "carry_forward",
) -> AlignedScan:
    """Load one symbol and align higher timeframes onto it, in one lazy plan.

    The primary grid is what :func:`~omega_pl.scan_symbol` returns for
    ``timeframe`` (bid and ask inner-joined on ``time``). Each higher timeframe is loaded per side
    with :func:`~omega_pl.scan_candles` from
    ``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>`` with the same
    window and options (SPEC §4.1: one window for every file; extend ``start``
    by the warm-up you need), or, when it has no files, resampled from the
    primary timeframe's per-side bars (:func:`~omega_pl.resample`, then the
    masks a file of that timeframe would get; buckets that start before
    ``start`` are dropped as incomplete). Bid and ask are aligned separately,
    so each keeps its own holes. Nothing is read until ``collect()``.

    Parameters
    ----------
    root, symbol, timeframe, start, end, market_hours, clean_daily, normalize
        As for :func:`~omega_pl.scan_symbol`.
    higher
        Higher timeframes, e.g. ``["H1", "D1"]`` (a single string is one timeframe).
    source
        ``"auto"`` (default): a timeframe's own files when both sides exist,
        else resample. ``"file"``: files only (missing files raise
        :class:`~omega_pl.errors.CandleFileNotFoundError`). ``"resample"``:
        always resample from the primary timeframe.
    entry, previous_completed, stale_limit, close_stamped, mode
        As for :func:`align_timeframes`.

    Returns
    -------
    AlignedScan
        ``.frame`` is the lazy aligned frame; ``.origins`` says per higher
        timeframe whether it came from its ``"file"`` or was ``"resampled"``
        (``.higher`` also lists the files).

    Examples
    --------
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()  # M1 … D1 files, no H2
    >>> window = {"start": "2025-03-18", "end": "2025-03-18"}
    >>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"], **window)
    >>> scan.origins
    {'H1': 'file', 'H2': 'resampled'}
    >>> scan.frame.select("time", "bid_close", "h1_bid_close").collect().slice(12, 2)
    shape: (2, 3)
    ┌─────────────────────────┬───────────┬──────────────┐
    │ time                    ┆ bid_close ┆ h1_bid_close │
    │ ---                     ┆ ---       ┆ ---          │
    │ datetime[μs, UTC]       ┆ f64       ┆ f64          │
    ╞═════════════════════════╪═══════════╪══════════════╡
    │ 2025-03-18 01:00:00 UTC ┆ 1.0895    ┆ 1.0891       │
    │ 2025-03-18 01:05:00 UTC ┆ 1.09039   ┆ 1.0891       │
    └─────────────────────────┴───────────┴──────────────┘
    """
    if isinstance(higher, str | Timeframe):
        higher = [higher]
    if not isinstance(higher, Sequence):
        raise ParameterError(
            f"parameter 'higher' must be a list of timeframes such as ['H1', 'D1'], got {higher!r}"
        )
    options, tfs = _validate(
        timeframe, higher, entry, previous_completed, stale_limit, close_stamped, mode
    )
    src = _choice("source", source, _SOURCES)
    ptf = options.primary_tf
    opts: dict[str, Any] = {
        "start": start,
        "end": end,
        "market_hours": market_hours,
        "clean_daily": clean_daily,
        "normalize": normalize,
    }
    files = candle_files(root, symbol, ptf)
    own: dict[Timeframe, dict[Side, Path] | None] = {}
    for tf in tfs:
        own[tf] = None
        if src != "resample":
            try:
                own[tf] = candle_files(root, symbol, tf)
            except CandleFileNotFoundError:
                if src == "file":
                    raise
    sides = {side: scan_candles(path, timeframe=ptf, **opts) for side, path in files.items()}
    if any(v is None for v in own.values()):
        # Each side's file is read once and feeds both the primary grid and the
        # resampling (an explicit cache: Polars would otherwise scan it twice).
        sides = {side: lf.cache() for side, lf in sides.items()}
    primary = join_bid_ask(sides)
    frames: dict[str, HigherFrame] = {}
    sources: dict[str, HigherSource] = {}
    for tf in tfs:
        tf_files = own[tf]
        if tf_files is not None:
            frames[tf.name] = {
                side: scan_candles(path, timeframe=tf, **opts) for side, path in tf_files.items()
            }
            sources[tf.name] = HigherSource(tf, "file", tf_files)
        else:
            frames[tf.name] = {
                side: _resampled_side(
                    lf, tf, start=start, market_hours=market_hours, clean_daily=clean_daily
                )
                for side, lf in sides.items()
            }
            sources[tf.name] = HigherSource(tf, "resampled", dict(files))
    frame = _align(primary, frames, options, tfs, stacklevel=2)
    return AlignedScan(frame, ptf, dict(files), sources)
