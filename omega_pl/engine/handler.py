"""``CSVDataHandler``: the original engine's candle loader on omega_pl's readers.

``load_candles`` reads one symbol's bid and ask files of one timeframe
(Parquet preferred over CSV) with the loading rules of
:func:`~omega_pl.scan_candles` (SPEC §4: window, market hours or the daily
cleanup, sorted with the last of duplicate timestamps, optional flooring) and
returns ``{"bid": candles, "ask": candles}``; each side is processed on its
own and a missing side file gives ``[]`` for it, as in the original.

Parsed frames are kept in two small process-wide LRU caches (by file and
window), so loading the same file and window again is served from memory;
:func:`trim_candle_build_caches` and :func:`reset_candle_build_caches` bound
and clear them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from omega_pl.engine.records import CandleSeq
from omega_pl.errors import ParameterError, SchemaError
from omega_pl.io import TimeBound, candle_files, scan_candles, time_window
from omega_pl.sessions import daily_clean_mask, market_hours_mask
from omega_pl.timeframes import OHLCV, Timeframe, floor_time

__all__ = [
    "DATA_ROOT_ENV",
    "CSVDataHandler",
    "reset_candle_build_caches",
    "trim_candle_build_caches",
]

#: The environment variable naming the data root when ``root=`` is not given.
DATA_ROOT_ENV = "OMEGA_DATA_ROOT"
#: Entries each cache keeps unless trimmed further.
DEFAULT_KEEP = 16


class _LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            self._trim()

    def trim(self, keep: int) -> None:
        with self._lock:
            self.keep = keep
            self._trim()

    def _trim(self) -> None:
        while len(self._items) > self.keep:
            self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


#: Whole files as read (by path and modification time).
_PARQUET_CACHE = _LRU(DEFAULT_KEEP)
#: Cleaned frames (by path, modification time, window and options).
_DF_CACHE = _LRU(DEFAULT_KEEP)


def trim_candle_build_caches(keep_parquet: int | None = None, keep_df: int | None = None) -> None:
    """Keep at most ``keep_parquet`` read files and ``keep_df`` cleaned frames (None: as is).

    Examples
    --------
    >>> from omega_pl.engine import trim_candle_build_caches
    >>> trim_candle_build_caches(keep_parquet=4, keep_df=4)
    """
    for name, keep, cache in (
        ("keep_parquet", keep_parquet, _PARQUET_CACHE),
        ("keep_df", keep_df, _DF_CACHE),
    ):
        if keep is None:
            continue
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
            raise ParameterError(
                f"parameter '{name}' must be an integer >= 0 or None, got {keep!r}"
            )
        cache.trim(keep)


def reset_candle_build_caches() -> None:
    """Forget every cached file and frame.

    Examples
    --------
    >>> from omega_pl.engine import reset_candle_build_caches
    >>> reset_candle_build_caches()
    """
    _PARQUET_CACHE.clear()
    _DF_CACHE.clear()


def _to_polars(frame: Any, side: str) -> pl.DataFrame:
    """A preloaded pandas or Polars frame as ``time, open … volume`` (time: µs UTC)."""
    if isinstance(frame, pd.DataFrame):
        df = frame
        if isinstance(df.index, pd.DatetimeIndex):
            df = df.rename_axis("time").reset_index()
        frame = pl.from_pandas(df)
    if not isinstance(frame, pl.DataFrame):
        raise ParameterError(
            f"preloaded_data[{side!r}] must be a pandas or Polars DataFrame, "
            f"got {type(frame).__name__}"
        )
    names = {c.lower().strip(): c for c in frame.columns}
    time_col = next(
        (names[n] for n in ("time", "utc time", "timestamp", "datetime", "date") if n in names),
        None,
    )
    missing = [f for f in OHLCV if f not in names]
    if time_col is None or missing:
        raise SchemaError(
            f"preloaded_data[{side!r}] needs a time column (or a DatetimeIndex) and "
            f"{', '.join(OHLCV)}; missing: {', '.join(missing) or 'time'}"
        )
    time = pl.col(time_col)
    dtype = frame.schema[time_col]
    if isinstance(dtype, pl.Datetime):
        time = (
            time.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else time.dt.convert_time_zone("UTC")
        )
    else:
        raise SchemaError(
            f"preloaded_data[{side!r}]: column {time_col!r} is {dtype}, expected a datetime"
        )
    return frame.select(
        time.dt.cast_time_unit("us").alias("time"),
        *(pl.col(names[f]).cast(pl.Float64).alias(f) for f in OHLCV),
    )


class CSVDataHandler:
    """Loads one symbol's bid and ask candles of one timeframe, as the original did.

    Parameters
    ----------
    symbol
        The symbol: its files are ``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>``.
    timeframe
        ``"M1"``, ``"M5"``, ``"H1"``, ``"D1"`` … (decides the market-hours mask
        or daily cleanup and the flooring grid).
    preloaded_data
        ``{"bid": frame, "ask": frame}`` (pandas or Polars; a ``time`` column
        or a DatetimeIndex and ``open … volume``) used instead of files; the
        same rules apply. A side that is absent gives ``[]``.
    normalize_to_timeframe
        Floor timestamps to the timeframe grid (SPEC §4.4).
    root
        The data root; default ``$OMEGA_DATA_ROOT``.

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import CSVDataHandler
    >>> root = omega_pl.datasets.sample_data_root()
    >>> handler = CSVDataHandler("EURUSD", "M5", root=root)
    >>> sides = handler.load_candles("2025-03-24", "2025-03-24 12:00")
    >>> c = sides["ask"][0]
    >>> len(sides["bid"]) > 0, c.candle_type, str(c.timestamp.tz)
    (True, 'ask', 'UTC')
    """

    def __init__(
        self,
        symbol: str,
        timeframe: str = "M1",
        preloaded_data: Mapping[str, Any] | None = None,
        normalize_to_timeframe: bool = False,
        *,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(symbol, str) or not symbol:
            raise ParameterError(f"parameter 'symbol' must be a non-empty string, got {symbol!r}")
        self.symbol = symbol
        self.timeframe = timeframe
        self.tf = Timeframe.parse(timeframe)
        self.preloaded_data = preloaded_data
        self.normalize_to_timeframe = bool(normalize_to_timeframe)
        if preloaded_data is None:
            if root is None:
                root = os.environ.get(DATA_ROOT_ENV)
            if root is None:
                raise ParameterError(
                    f"CSVDataHandler({symbol!r}) needs a data root: pass root=... or set "
                    f"{DATA_ROOT_ENV} to the directory holding <SYMBOL>/<SYMBOL>_<TF>_<SIDE> files"
                )
        self.root = None if root is None else Path(root)

    def _key(self, path: Path) -> tuple[Any, ...]:
        stat = path.stat()
        return (str(path), stat.st_mtime_ns, stat.st_size, self.tf.name)

    def _full(self, paths: Mapping[str, Path]) -> dict[str, pl.DataFrame]:
        """Each file whole, masked, sorted, duplicates resolved (kept in the parsed-file cache).

        Files not in the cache are read in one ``collect_all``, so bid and ask
        load in parallel.
        """
        frames = {side: _PARQUET_CACHE.get(self._key(p)) for side, p in paths.items()}
        missing = [side for side, frame in frames.items() if frame is None]
        if missing:
            scans = [scan_candles(paths[side], timeframe=self.tf) for side in missing]
            for side, frame in zip(missing, pl.collect_all(scans), strict=True):
                _PARQUET_CACHE.put(self._key(paths[side]), frame)
                frames[side] = frame
        return frames

    def _window(
        self, full: pl.DataFrame, key: Hashable, start: TimeBound | None, end: TimeBound | None
    ) -> pl.DataFrame:
        """Rows ``start <= time <= end`` of a cleaned frame, floored if asked (cached)."""
        key = (key, str(start), str(end), self.normalize_to_timeframe)
        hit = _DF_CACHE.get(key)
        if hit is None:
            hit = full if start is None and end is None else full.filter(time_window(start, end))
            if self.normalize_to_timeframe and self.tf.unit != "W":
                hit = hit.with_columns(floor_time("time", self.tf))
            _DF_CACHE.put(key, hit)
        return hit  # type: ignore[no-any-return]

    def load_candles(
        self, start_dt: TimeBound | None = None, end_dt: TimeBound | None = None
    ) -> dict[str, CandleSeq | list[Any]]:
        """``{"bid": candles, "ask": candles}`` of the window ``start_dt <= t <= end_dt``.

        The sequences behave like lists of :class:`~omega_pl.engine.Candle`
        (built when first read); a side without a file gives ``[]``.
        """
        out: dict[str, CandleSeq | list[Any]] = {}
        if self.preloaded_data is not None:
            for side in ("bid", "ask"):
                frame = self.preloaded_data.get(side)
                out[side] = [] if frame is None else self._preloaded(frame, side, start_dt, end_dt)
            return out
        assert self.root is not None
        found = candle_files(self.root, self.symbol, self.tf, missing_ok=True)
        files: dict[str, Path] = {str(side): path for side, path in found.items()}
        full = self._full(files)
        for side in ("bid", "ask"):
            if side not in files:
                out[side] = []
                continue
            frame = self._window(full[side], self._key(files[side]), start_dt, end_dt)
            out[side] = CandleSeq.from_frame(frame, side)
        return out

    def _preloaded(
        self, frame: Any, side: str, start: TimeBound | None, end: TimeBound | None
    ) -> CandleSeq:
        lf = _to_polars(frame, side).lazy()
        if self.tf.is_intraday:
            lf = lf.filter(market_hours_mask("time"))
        elif self.tf.is_daily:
            lf = lf.filter(daily_clean_mask("time"))
        full = lf.sort("time", maintain_order=True).unique("time", keep="last", maintain_order=True)
        window = full.collect().filter(time_window(start, end))
        if self.normalize_to_timeframe and self.tf.unit != "W":
            window = window.with_columns(floor_time("time", self.tf))
        return CandleSeq.from_frame(window, side)
