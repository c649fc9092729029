"""Batches and steps of a multi-symbol walk: :class:`MultiSymbolBatch`, :class:`MultiSymbolSlice`.

A batch is a run of consecutive timeline rows of the wide frame (see
:mod:`omega_pl.slicer.multi` for its column names); a slice is one step of a
batch, handing out each symbol's candle at that step.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from omega_pl.errors import ParameterError, format_names
from omega_pl.slicer.records import I64, Candle, _candle_seq, _CandleSeq, _check_side, _to_datetime
from omega_pl.slicer.timeline import _TIME
from omega_pl.timeframes import OHLCV

__all__ = ["MultiSymbolBatch", "MultiSymbolSlice"]


class MultiSymbolSlice:
    """All symbols at one timeline step (built by :meth:`MultiSymbolBatch.slices`).

    Mapping-like over symbols: ``slice[symbol]`` is ``slice.get(symbol)`` (the
    bid candle), ``slice[symbol, "ask"]`` the ask candle; ``keys()``,
    ``len()``, ``in`` and iteration cover the symbols. It holds only its batch
    and a row number: no per-step dict of symbols is built, and a candle is
    made when asked for.

    Examples
    --------
    >>> from omega_pl import MultiSymbolSlicer
    >>> from omega_pl.datasets import generate_candles
    >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
    >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
    >>> slicer = MultiSymbolSlicer(frames)
    >>> step = next(slicer.slices())
    >>> step
    MultiSymbolSlice(index=0, timestamp=2025-03-18T10:00:00+00:00, symbols=2)
    >>> step["EURUSD"].close, step["EURUSD", "ask"].close
    (1.09447, 1.09467)
    >>> list(step), "GBPUSD" in step, len(step)
    (['EURUSD', 'GBPUSD'], True, 2)
    """

    __slots__ = ("_b", "_i", "_s")

    def __init__(self, batch: MultiSymbolBatch, i: int) -> None:
        self._b = batch
        self._i = i
        self._s = batch._seqs  # one attribute hop less per get()

    def get(self, symbol: str, side: str = "bid") -> Candle | None:
        """The ``side`` candle of ``symbol`` stamped exactly at this step, else ``None``.

        Raises
        ------
        KeyError
            For a symbol that is not on the slicer.
        ParameterError
            For a side other than ``"bid"``/``"ask"``, or a frame without that side.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> step = next(slicer.slices())
        >>> step.get("GBPUSD", "ask")  # doctest: +NORMALIZE_WHITESPACE
        Candle(timestamp=2025-03-18T10:00:00+00:00, open=1.29689, high=1.2969, low=1.29681,
               close=1.29682, volume=31.0, side='ask')
        """
        try:
            return self._s[side][symbol][self._i]
        except KeyError:
            pass
        return self._b._candles(symbol, side)[self._i]

    def __getitem__(self, key: str | tuple[str, str]) -> Candle | None:
        if isinstance(key, tuple):
            return self.get(*key)
        return self.get(key)

    @property
    def timestamp(self) -> datetime:
        """This step's timestamp (aware UTC ``datetime``).

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> step = next(slicer.slices())
        >>> step.timestamp
        datetime.datetime(2025, 3, 18, 10, 0, tzinfo=datetime.timezone.utc)
        """
        return _to_datetime(int(self._b._time_us[self._i]))

    @property
    def index(self) -> int:
        """This step's position on the whole timeline (0-based).

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> [step.index for step in slicer.slices(batch_size=2)]
        [0, 1, 2]
        """
        return self._b.offset + self._i

    def keys(self) -> tuple[str, ...]:
        """The symbols, in the slicer's order.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> step = next(slicer.slices())
        >>> step.keys()
        ('EURUSD', 'GBPUSD')
        """
        return self._b.symbols

    def __iter__(self) -> Iterator[str]:
        return iter(self._b.symbols)

    def __len__(self) -> int:
        return len(self._b.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._b._symbol_set

    def __repr__(self) -> str:
        return (
            f"MultiSymbolSlice(index={self.index}, timestamp={self.timestamp.isoformat()}, "
            f"symbols={len(self)})"
        )


class MultiSymbolBatch:
    """A run of consecutive timeline steps (from :meth:`MultiSymbolSlicer.iter_batches`).

    Attributes
    ----------
    frame : polars.DataFrame
        The wide frame's rows of this batch (same columns as
        :attr:`MultiSymbolSlicer.frame`).
    offset : int
        Timeline position of the batch's first row.
    symbols : tuple of str
        The symbols, in the slicer's order.

    Examples
    --------
    >>> from omega_pl import MultiSymbolSlicer
    >>> from omega_pl.datasets import generate_candles
    >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
    >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
    >>> slicer = MultiSymbolSlicer(frames)
    >>> batch = next(slicer.iter_batches(batch_size=2))
    >>> batch
    MultiSymbolBatch(offset=0, rows=2, symbols=2)
    >>> batch.frame.select("EURUSD_bid_close", "GBPUSD_bid_close").rows()
    [(1.09447, 1.29652), (1.09466, 1.29668)]
    """

    __slots__ = (
        "_arrays",
        "_prefix",
        "_seqs",
        "_symbol_set",
        "_time_us",
        "frame",
        "offset",
        "symbols",
    )

    def __init__(self, frame: pl.DataFrame, offset: int, symbols: tuple[str, ...]) -> None:
        self.frame = frame
        self.offset = offset
        self.symbols = symbols
        self._symbol_set = frozenset(symbols)
        self._time_us: I64 = frame.get_column(_TIME).to_physical().to_numpy()
        self._arrays: dict[str, npt.NDArray[Any]] = {}
        self._seqs: dict[str, dict[str, _CandleSeq]] = {"bid": {}, "ask": {}}

    def __len__(self) -> int:
        return self.frame.height

    @property
    def timestamps(self) -> npt.NDArray[np.datetime64]:
        """The batch's timestamps as ``datetime64[us]`` (UTC, a view of the frame).

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> batch = next(slicer.iter_batches(batch_size=2))
        >>> batch.timestamps
        array(['2025-03-18T10:00:00.000000', '2025-03-18T10:01:00.000000'],
              dtype='datetime64[us]')
        """
        return self._time_us.view("datetime64[us]")

    def array(self, symbol: str, field: str, side: str | None = "bid") -> npt.NDArray[Any]:
        """Column ``f"{symbol}_{side}_{field}"`` (``f"{symbol}_{field}"`` if ``side`` is None).

        A read-only NumPy view of the batch frame's memory when the column is
        null-free (always, on an intersection timeline of complete inputs);
        otherwise a copy with nulls as NaN.

        Raises
        ------
        KeyError
            If the symbol or column does not exist.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> batch = next(slicer.iter_batches(batch_size=2))
        >>> batch.array("EURUSD", "close")
        array([1.09447, 1.09466])
        >>> batch.array("GBPUSD", "close", "ask")
        array([1.29682, 1.29698])
        """
        name = _column_name(symbol, field, side)
        try:
            return self._arrays[name]
        except KeyError:
            pass
        if symbol not in self._symbol_set:
            raise KeyError(f"unknown symbol {symbol!r}; symbols: {format_names(self.symbols)}")
        if name not in self.frame.columns:
            raise KeyError(f"no column {name!r} in the batch")
        values = self.frame.get_column(name).to_numpy()
        self._arrays[name] = values
        return values

    def slices(self) -> Iterator[MultiSymbolSlice]:
        """One :class:`MultiSymbolSlice` per step, in time order.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> batch = next(slicer.iter_batches(batch_size=2))
        >>> [(step.index, step.get("EURUSD").close) for step in batch.slices()]
        [(0, 1.09447), (1, 1.09466)]
        """
        return map(MultiSymbolSlice, repeat(self), range(self.frame.height))

    def _candles(self, symbol: str, side: str) -> _CandleSeq:
        """Build (once per batch) the candle records of ``symbol``/``side``."""
        side = _check_side(side)
        if symbol not in self._symbol_set:
            raise KeyError(f"unknown symbol {symbol!r}; symbols: {format_names(self.symbols)}")
        names = [f"{symbol}_{side}_{f}" for f in OHLCV]
        absent = [n for n in names if n not in self.frame.columns]
        if absent:
            raise ParameterError(f"{symbol}: no {side} candles (missing {format_names(absent)})")
        fields = [self.array(symbol, f, side) for f in OHLCV]
        seq = _candle_seq(self._time_us, fields, side)
        self._seqs[side][symbol] = seq
        return seq

    def __repr__(self) -> str:
        return (
            f"MultiSymbolBatch(offset={self.offset}, rows={len(self)}, symbols={len(self.symbols)})"
        )


def _column_name(symbol: str, field: str, side: str | None) -> str:
    if side is None:
        return f"{symbol}_{field}"
    return f"{symbol}_{_check_side(side)}_{field}"
