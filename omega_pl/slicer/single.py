"""The per-symbol slicer: positional access to one aligned symbol frame (SPEC §6)."""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt
import polars as pl

from omega_pl.errors import ParameterError, SchemaError, format_names
from omega_pl.slicer.records import I64, Candle, _candle_seq, _CandleSeq, _check_side
from omega_pl.slicer.timeline import _TIME, _positive, _time_expr, _time_values
from omega_pl.timeframes import OHLCV, Timeframe

__all__ = ["SymbolSlicer"]


def _epoch_us(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``name`` (Datetime of any unit/zone, or Date) as Int64 epoch microseconds."""
    col = pl.col(name)
    if dtype == pl.Date:
        col = col.cast(pl.Datetime("us"))
    elif isinstance(dtype, pl.Datetime):
        col = col.dt.cast_time_unit("us") if dtype.time_unit != "us" else col
    else:
        raise SchemaError(f"column {name!r} has type {dtype}; expected Datetime or Date")
    return col.to_physical()


def _tf_prefix(tf: str | Timeframe | None) -> str:
    if tf is None:
        return ""
    return f"{Timeframe.parse(tf).name.lower()}_"


class SymbolSlicer:
    """Positional access to one aligned symbol frame (SPEC §6, per-symbol slice).

    Parameters
    ----------
    frame : polars.DataFrame or polars.LazyFrame
        One symbol on its primary grid: ``time``, ``bid_open … ask_volume``
        (or side-less ``open … volume``) and, optionally, aligned higher
        timeframes ``h1_bid_open … h1_bid_volume, h1_bid_time`` (lower-case
        timeframe prefix; ``*_time`` is the higher bar's own timestamp), as
        :func:`omega_pl.align_timeframes` produces. A LazyFrame is collected.
        Timestamps must be strictly increasing.

    Notes
    -----
    Rows are addressed by position ``0 <= i < len(slicer)``; anything else
    raises :class:`IndexError` (negative positions are *not* counted from the
    end). :meth:`latest` and :meth:`history` read at the cursor
    :attr:`index` unless given ``i``. A candle is missing (``None``) where
    its close is null/NaN, e.g. a stale higher-timeframe bar.

    Examples
    --------
    M5 rows from 09:00 to 10:25 with the H1 bars aligned onto them: the 09:00
    H1 bar completes at 10:00, so row 12 (10:00) is the first to see it.

    >>> import omega_pl
    >>> from omega_pl.datasets import generate_candles
    >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T10:30"}
    >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
    >>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
    >>> slicer = omega_pl.SymbolSlicer(aligned)
    >>> slicer
    SymbolSlicer(rows=18, columns=23, index=0)
    >>> slicer.get_candle_at(12).timestamp.time(), slicer.get_candle_at(12, tf="H1").close
    (datetime.time(10, 0), 1.09573)
    >>> slicer.get_candle_at(11, tf="H1") is None  # no H1 bar had completed by 09:55
    True
    """

    def __init__(self, frame: pl.DataFrame | pl.LazyFrame) -> None:
        if isinstance(frame, pl.LazyFrame):
            frame = frame.collect()
        if not isinstance(frame, pl.DataFrame):
            raise ParameterError(
                f"expected a polars DataFrame or LazyFrame, got {type(frame).__name__}"
            )
        if _TIME not in frame.columns:
            raise SchemaError(f"no 'time' column; found: {format_names(frame.columns)}")
        fix = _time_expr(frame.schema[_TIME], "frame")
        if fix is not None:
            frame = frame.with_columns(fix.alias(_TIME))
        if frame.n_chunks("all") and max(frame.n_chunks("all")) > 1:
            frame = frame.rechunk()
        t = _time_values(frame, "frame")
        if t.size > 1 and not bool(np.all(t[1:] > t[:-1])):
            raise SchemaError("frame: timestamps must be strictly increasing (sorted, unique)")
        self._frame = frame
        self._n = frame.height
        self._time_us = t
        self._index = 0
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self._seqs: dict[tuple[str | Timeframe | None, str], _CandleSeq] = {}

    @property
    def frame(self) -> pl.DataFrame:
        """The whole frame.

        Examples
        --------
        >>> from omega_pl import SymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> m5 = generate_candles("EURUSD", "M5", start="2025-03-18T09:00", end="2025-03-18T10:30")
        >>> slicer = SymbolSlicer(m5)
        >>> slicer.frame.shape
        (18, 11)
        """
        return self._frame

    def __len__(self) -> int:
        return self._n

    @property
    def index(self) -> int:
        """The cursor used by :meth:`latest` and :meth:`history` (default 0).

        Examples
        --------
        >>> from omega_pl import SymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> m5 = generate_candles("EURUSD", "M5", start="2025-03-18T09:00", end="2025-03-18T10:30")
        >>> slicer = SymbolSlicer(m5)
        >>> slicer.index = 3
        >>> slicer.index, slicer.latest().timestamp.time()
        (3, datetime.time(9, 15))
        """
        return self._index

    @index.setter
    def index(self, i: int) -> None:
        self._check(i)
        self._index = i

    @property
    def timeframes(self) -> tuple[str, ...]:
        """Aligned higher timeframes found in the frame, e.g. ``("H1", "D1")``.

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T10:30"}
        >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
        >>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
        >>> slicer = omega_pl.SymbolSlicer(aligned)
        >>> slicer.timeframes
        ('H1',)
        """
        found: dict[str, None] = {}
        for name in self._frame.columns:
            head, sep, _ = name.partition("_")
            if not sep or not head[:1].isalpha():
                continue
            try:
                tf = Timeframe.parse(head)
            except ValueError:
                continue
            if head == tf.name.lower():
                found[tf.name] = None
        return tuple(found)

    def _check(self, i: int) -> None:
        if not 0 <= i < self._n:
            raise IndexError(f"row {i!r} out of range [0, {self._n})")

    def array(self, column: str) -> npt.NDArray[Any]:
        """The whole column as NumPy: a read-only view when null-free, else a NaN copy (cached).

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T10:30"}
        >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
        >>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
        >>> slicer = omega_pl.SymbolSlicer(aligned)
        >>> slicer.array("bid_close")[:3]
        array([1.09431, 1.094  , 1.09474])
        >>> slicer.array("h1_bid_close")[11:14]  # NaN until the 09:00 bar completes
        array([    nan, 1.09573, 1.09573])
        """
        try:
            return self._arrays[column]
        except KeyError:
            pass
        if column not in self._frame.columns:
            raise KeyError(f"no column {column!r}; found: {format_names(self._frame.columns)}")
        values = self._frame.get_column(column).to_numpy()
        self._arrays[column] = values
        return values

    def _candles(self, tf: str | Timeframe | None, side: str) -> _CandleSeq:
        side = _check_side(side)
        prefix = _tf_prefix(tf)
        cols = self._frame.columns
        label: str | None = side
        base = f"{prefix}{side}_"
        if not any(f"{base}{f}" in cols for f in OHLCV) and f"{prefix}close" in cols:
            base, label = prefix, None  # side-less (plain) frame
        names = [f"{base}{f}" for f in OHLCV]
        time_col = f"{base}time" if prefix else _TIME
        absent = [n for n in [*names, time_col] if n not in cols]
        if absent:
            what = f"timeframe {Timeframe.parse(tf).name}" if tf is not None else "primary"
            raise SchemaError(
                f"{what} {side} candles need column(s) {format_names(absent)}; "
                f"found: {format_names(cols)}"
            )
        if prefix:  # the higher bar's own timestamp; null where no bar is visible
            stamps = self._frame.select(_epoch_us(time_col, self._frame.schema[time_col]))
            time_us: I64 = stamps.to_series().fill_null(0).to_numpy()
        else:
            time_us = self._time_us
        fields = [self.array(n) for n in names]
        seq = _candle_seq(time_us, fields, label)
        self._seqs[(tf, side)] = seq
        return seq

    def get_candle_at(
        self, i: int, side: str = "bid", tf: str | Timeframe | None = None
    ) -> Candle | None:
        """The candle at row ``i``: primary (``tf=None``) or the aligned ``tf`` bar.

        ``None`` where the entry is missing (e.g. a stale higher-timeframe bar).

        Raises
        ------
        IndexError
            If ``i`` is not in ``[0, len)``.
        SchemaError
            If the frame has no such candle columns.

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T10:30"}
        >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
        >>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
        >>> slicer = omega_pl.SymbolSlicer(aligned)
        >>> slicer.get_candle_at(12, "ask").timestamp.time()
        datetime.time(10, 0)
        >>> slicer.get_candle_at(12, tf="H1")  # doctest: +NORMALIZE_WHITESPACE
        Candle(timestamp=2025-03-18T09:00:00+00:00, open=1.09482, high=1.09753, low=1.09373,
               close=1.09573, volume=4084.0, side='bid')
        """
        if not 0 <= i < self._n:
            raise IndexError(f"row {i!r} out of range [0, {self._n})")
        try:
            return self._seqs[(tf, side)][i]
        except KeyError:
            pass
        return self._candles(tf, side)[i]

    def get_slice(self, start: int, end: int) -> pl.DataFrame:
        """Rows ``start … end-1`` as a zero-copy frame slice (``0 <= start <= end <= len``).

        Examples
        --------
        >>> from omega_pl import SymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> m5 = generate_candles("EURUSD", "M5", start="2025-03-18T09:00", end="2025-03-18T10:30")
        >>> slicer = SymbolSlicer(m5)
        >>> slicer.get_slice(0, 2)["bid_close"].to_list()
        [1.09431, 1.094]
        """
        if not 0 <= start <= end <= self._n:
            raise IndexError(f"slice [{start!r}, {end!r}) out of range [0, {self._n}]")
        return self._frame.slice(start, end - start)

    @overload
    def get_lookback(self, i: int, n: int, column: None = None) -> pl.DataFrame: ...
    @overload
    def get_lookback(self, i: int, n: int, column: str) -> npt.NDArray[Any]: ...
    def get_lookback(
        self, i: int, n: int, column: str | None = None
    ) -> pl.DataFrame | npt.NDArray[Any]:
        """The last ``n`` rows up to and including row ``i`` (fewer near the start).

        A zero-copy frame slice, or with ``column`` a NumPy view of that column
        (a slice of :meth:`array`).

        Raises
        ------
        IndexError
            If ``i`` is not in ``[0, len)``.
        ParameterError
            If ``n`` is not a positive integer.

        Examples
        --------
        >>> from omega_pl import SymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> m5 = generate_candles("EURUSD", "M5", start="2025-03-18T09:00", end="2025-03-18T10:30")
        >>> slicer = SymbolSlicer(m5)
        >>> slicer.get_lookback(12, 3, "bid_close")
        array([1.09611, 1.09573, 1.09558])
        >>> slicer.get_lookback(1, 3).height  # only rows 0 and 1 exist
        2
        """
        if not 0 <= i < self._n:
            raise IndexError(f"row {i!r} out of range [0, {self._n})")
        if n.__class__ is not int or n <= 0:
            n = _positive("n", n)
        lo = i - n + 1 if i >= n else 0
        if column is None:
            return self._frame.slice(lo, i + 1 - lo)
        try:
            values = self._arrays[column]
        except KeyError:
            values = self.array(column)
        return values[lo : i + 1]

    def latest(
        self, tf: str | Timeframe | None = None, side: str = "bid", *, i: int | None = None
    ) -> Candle | None:
        """The aligned entry of row ``i`` (default: :attr:`index`); ``None`` if missing.

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T10:30"}
        >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
        >>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
        >>> slicer = omega_pl.SymbolSlicer(aligned)
        >>> slicer.index = 13
        >>> slicer.latest("H1").close, slicer.latest().close, slicer.latest(i=0).close
        (1.09573, 1.09547, 1.09431)
        """
        return self.get_candle_at(self._index if i is None else i, side, tf)

    def history(
        self,
        tf: str | Timeframe | None = None,
        side: str = "bid",
        n: int = 1,
        *,
        i: int | None = None,
    ) -> list[Candle | None]:
        """Entries of rows ``max(0, i-n+1) … i`` (default ``i``: :attr:`index`), oldest first.

        For a higher timeframe these are the last ``n`` *primary rows*, so a bar
        repeats on every row it is current, and missing entries are ``None``
        (SPEC §6) — not the last ``n`` distinct higher-timeframe bars.

        Examples
        --------
        >>> import omega_pl
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T09:00", "end": "2025-03-18T10:30"}
        >>> m5, h1 = (generate_candles("EURUSD", tf, **span) for tf in ("M5", "H1"))
        >>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
        >>> slicer = omega_pl.SymbolSlicer(aligned)
        >>> slicer.index = 13
        >>> [c.close for c in slicer.history(n=3)]
        [1.09573, 1.09558, 1.09547]
        >>> [None if c is None else c.close for c in slicer.history("H1", n=3)]
        [None, 1.09573, 1.09573]
        """
        row = self._index if i is None else i
        self._check(row)
        count = _positive("n", n)
        try:
            seq = self._seqs[(tf, side)]
        except KeyError:
            seq = self._candles(tf, side)
        return [seq[j] for j in range(max(0, row - count + 1), row + 1)]

    def __repr__(self) -> str:
        return f"SymbolSlicer(rows={self._n}, columns={self._frame.width}, index={self._index})"
