"""Candles as the original engine knows them, without a million objects up front.

:class:`Candle` has the original dataclass's fields (``timestamp, open, high,
low, close, volume, candle_type``) and behaves like it (equality by value,
``dataclasses.asdict``/``replace``, pickling, truthy, unhashable). Candles the
loaders hand out are views of one C array per sequence: a
:class:`CandleSeq` builds a candle the first time its row is read and keeps
it, so a repeated ``seq[i]`` is the *same* object, and a higher-timeframe bar
is the same object at every primary row it is carried forward to (engine code
detects a new bar with ``c is not prev``). The ``timestamp`` (a tz-aware UTC
``pandas.Timestamp``) is made when it is first read.
"""

from __future__ import annotations

import ctypes
import dataclasses
import operator
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from omega_pl.errors import ParameterError
from omega_pl.slicer.records import record_array
from omega_pl.timeframes import OHLCV

__all__ = ["Candle", "CandleLookup", "CandleSeq", "candle_lookup"]

_UTC_US = pl.Datetime("us", "UTC")


@dataclasses.dataclass
class _Fields:
    """The original ``Candle`` dataclass's fields (lends them to :class:`Candle`)."""

    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    candle_type: str = "bid"


def _epoch_us(value: object) -> int:
    """Microseconds since the epoch of a datetime-like (naive = UTC); 0 if not one."""
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return int(ts.value // 1000)
    return 0


class Candle(ctypes.Structure):
    """One bid or ask bar: ``timestamp, open, high, low, close, volume, candle_type``.

    Built like the original dataclass, ``Candle(timestamp, open, high, low,
    close, volume, candle_type="bid")``; the fields can be read and set.
    Candles from :class:`CandleSeq` are views of a shared C array and get
    their ``timestamp`` (a tz-aware UTC ``pandas.Timestamp``) on first read.

    Examples
    --------
    >>> import dataclasses
    >>> import pandas as pd
    >>> from omega_pl.engine import Candle
    >>> c = Candle(pd.Timestamp("2025-03-03 09:00", tz="UTC"), 1.1, 1.2, 1.0, 1.15, 10.0)
    >>> c.close, c.candle_type, c.timestamp.tz_convert(None)
    (1.15, 'bid', Timestamp('2025-03-03 09:00:00'))
    >>> c == dataclasses.replace(c), dataclasses.asdict(c)["close"]
    (True, 1.15)
    """

    _fields_ = [("_time_us", ctypes.c_int64), *((f, ctypes.c_double) for f in OHLCV)]
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]] = _Fields.__dataclass_fields__
    __dataclass_params__: ClassVar[Any] = _Fields.__dataclass_params__  # type: ignore[attr-defined]
    __hash__ = None  # type: ignore[assignment]  # like a dataclass with eq and not frozen

    _time_us: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    #: ``"bid"`` or ``"ask"``; set per candle when built by hand.
    candle_type: str = "bid"

    def __init__(
        self,
        timestamp: Any,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        candle_type: str = "bid",
    ) -> None:
        super().__init__(_epoch_us(timestamp), open, high, low, close, volume)
        self.__dict__["timestamp"] = timestamp
        if candle_type != type(self).candle_type:
            self.__dict__["candle_type"] = candle_type

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not set yet: the lazily made timestamp.
        if name == "timestamp":
            ts = pd.Timestamp(self._time_us, unit="us", tz="UTC")
            self.__dict__["timestamp"] = ts
            return ts
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "timestamp":
            self.__dict__["timestamp"] = value
            super().__setattr__("_time_us", _epoch_us(value))
        else:
            super().__setattr__(name, value)

    def _key(self) -> tuple[Any, ...]:
        return (
            self.timestamp,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.candle_type,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Candle):
            return NotImplemented
        return self._key() == other._key()

    def __repr__(self) -> str:
        names = ("timestamp", *OHLCV, "candle_type")
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._key(), strict=True))
        return f"Candle({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Candle, self._key())


class _BidCandle(Candle):
    candle_type: str = "bid"


class _AskCandle(Candle):
    candle_type: str = "ask"


_SIDES: dict[str, type[Candle]] = {"bid": _BidCandle, "ask": _AskCandle}


class CandleSeq(Sequence[Candle | None]):
    """A list-like sequence of candles over Polars columns, built on access.

    ``len``, indexing (negative too), slices (a ``list``) and iteration work as
    on the original's lists; ``None`` marks a row without a bar. Row ``i``
    shows bar ``rows[i]`` of the sequence's distinct bars (the identity for a
    primary timeframe; repeats for a higher timeframe carried forward).

    Build one with :meth:`from_frame`; :meth:`frame` gives the columns back
    (``open … volume`` and the bar key ``bar``) without touching a candle.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, UTC
    >>> from omega_pl.engine import CandleSeq
    >>> bars = pl.DataFrame({"time": [datetime(2025, 3, 3, 9, tzinfo=UTC)], "open": [1.0],
    ...     "high": [1.2], "low": [0.9], "close": [1.1], "volume": [5.0]})
    >>> seq = CandleSeq.from_frame(bars, "ask", rows=[None, 0, 0])
    >>> len(seq), seq[0], seq[1] is seq[-1], seq[1].close, seq[1].candle_type
    (3, None, True, 1.1, 'ask')
    """

    __slots__ = ("_bars", "_cache", "_frame", "_n", "_records", "_rows", "_side")

    def __init__(self, bars: pl.DataFrame, side: str, rows: npt.NDArray[np.int64] | None) -> None:
        self._bars = bars
        self._side = side
        self._rows = rows
        self._n = bars.height if rows is None else int(rows.shape[0])
        self._records: ctypes.Array[Candle] | None = None
        self._cache: list[Candle | None] = [None] * bars.height
        self._frame: pl.DataFrame | None = None

    @classmethod
    def from_frame(
        cls,
        bars: pl.DataFrame,
        side: str,
        rows: Sequence[int | None] | npt.NDArray[np.int64] | pl.Series | None = None,
    ) -> CandleSeq:
        """A sequence over ``bars`` (``time`` and ``open … volume``, one row a bar).

        ``rows`` maps each row of the sequence to a bar (``None``/-1: no bar);
        by default row ``i`` is bar ``i``. ``side`` is ``"bid"`` or ``"ask"``.
        """
        if side not in _SIDES:
            raise ParameterError(f"parameter 'side' must be 'bid' or 'ask', got {side!r}")
        frame = bars.select(
            pl.col("time").cast(_UTC_US), *(pl.col(f).cast(pl.Float64) for f in OHLCV)
        )
        index: npt.NDArray[np.int64] | None = None
        if rows is not None:
            series = rows if isinstance(rows, pl.Series) else pl.Series(list(rows), dtype=pl.Int64)
            index = series.cast(pl.Int64).fill_null(-1).to_numpy()
            if index.size and (index.max() >= frame.height or index.min() < -1):
                raise ParameterError("parameter 'rows' refers to bars that do not exist")
        return cls(frame, side, index)

    # -- the columns -----------------------------------------------------------

    def frame(self) -> pl.DataFrame:
        """``open … volume`` (null where no bar) and ``bar`` (the bar's number), one row a row."""
        if self._frame is None:
            bars = (
                self._bars.select(*OHLCV)
                .with_row_index("bar")
                .with_columns(pl.col("bar").cast(pl.Int64))
            )
            if self._rows is None:
                self._frame = bars.select(*OHLCV, "bar")
            else:
                take = pl.Series("bar", self._rows).replace(-1, None)
                self._frame = (
                    pl.DataFrame(take).join(bars, on="bar", how="left", maintain_order="left")
                ).select(*OHLCV, "bar")
        return self._frame

    @property
    def times_us(self) -> npt.NDArray[np.int64]:
        """Epoch microseconds of every row's bar (-1 … arbitrary where there is none)."""
        t = self._bars["time"].dt.epoch("us").to_numpy()
        return t if self._rows is None else t[np.maximum(self._rows, 0)]

    # -- the sequence ------------------------------------------------------------

    def _make(self, k: int) -> Candle:
        records = self._records
        if records is None:
            bars = self._bars
            time_us = bars["time"].dt.epoch("us").to_numpy()
            fields = [bars[f].to_numpy() for f in OHLCV]
            records = self._records = record_array(_SIDES[self._side], time_us, fields)
        candle = records[k]
        self._cache[k] = candle
        return candle

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Candle | None: ...
    @overload
    def __getitem__(self, i: slice) -> list[Candle | None]: ...
    def __getitem__(self, i: int | slice) -> Candle | list[Candle | None] | None:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        j = operator.index(i)
        if j < 0:
            j += self._n
        if not 0 <= j < self._n:
            raise IndexError("candle index out of range")
        if self._rows is not None:
            j = int(self._rows[j])
            if j < 0:
                return None
        return self._cache[j] or self._make(j)

    def __iter__(self) -> Iterator[Candle | None]:
        cache, make = self._cache, self._make
        if self._rows is None:
            for k in range(self._n):
                yield cache[k] or make(k)
        else:
            for k in self._rows.tolist():
                yield None if k < 0 else (cache[k] or make(k))

    def __bool__(self) -> bool:
        return self._n > 0

    def __repr__(self) -> str:
        return f"CandleSeq({self._side}, {self._n} rows, {self._bars.height} bars)"


class CandleLookup(Mapping[Any, Candle]):
    """``{timestamp: candle}`` over a :class:`CandleSeq`, found by binary search.

    Keys are the candles' timestamps (``pandas.Timestamp``, ``datetime`` or
    epoch microseconds, naive = UTC); what the original built as a dict,
    without building it.

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import CSVDataHandler, candle_lookup
    >>> handler = CSVDataHandler("EURUSD", "H1", root=omega_pl.datasets.sample_data_root())
    >>> bid = handler.load_candles("2025-03-24", "2025-03-25")["bid"]
    >>> lookup = candle_lookup(bid)
    >>> lookup[bid[3].timestamp] is bid[3], lookup.get("not a time"), len(lookup) == len(bid)
    (True, None, True)
    """

    __slots__ = ("_order", "_seq", "_times")

    def __init__(self, seq: CandleSeq) -> None:
        times = seq.times_us
        rows = seq._rows
        present = np.arange(len(seq)) if rows is None else np.flatnonzero(rows >= 0)
        order = present[np.argsort(times[present], kind="stable")]
        self._seq = seq
        self._order = order
        self._times = times[order]

    def _row(self, key: Any) -> int | None:
        if isinstance(key, datetime):
            us = _epoch_us(key)
        elif isinstance(key, np.datetime64):
            us = int(key.astype("datetime64[us]").astype(np.int64))
        elif isinstance(key, int | np.integer) and not isinstance(key, bool):
            us = int(key)
        else:
            return None
        pos = int(np.searchsorted(self._times, us, side="right")) - 1
        if pos < 0 or self._times[pos] != us:
            return None
        return int(self._order[pos])

    def __getitem__(self, key: Any) -> Candle:
        row = self._row(key)
        candle = None if row is None else self._seq[row]
        if candle is None:
            raise KeyError(key)
        return candle

    def __iter__(self) -> Iterator[Any]:
        for row in self._order.tolist():
            candle = self._seq[row]
            if candle is not None:
                yield candle.timestamp

    def __len__(self) -> int:
        return int(self._order.shape[0])


def candle_lookup(seq: CandleSeq) -> CandleLookup:
    """A ``{timestamp: candle}`` mapping over ``seq`` (for ``MultiSymbolSlice``'s lookups).

    See :class:`CandleLookup`.

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import CSVDataHandler, candle_lookup
    >>> handler = CSVDataHandler("EURUSD", "D1", root=omega_pl.datasets.sample_data_root())
    >>> ask = handler.load_candles("2025-03-24", "2025-03-28")["ask"]
    >>> [candle_lookup(ask)[c.timestamp].close == c.close for c in ask]
    [True, True, True, True, True]
    """
    return CandleLookup(seq)
