"""Candles as the original engine knows them, without a million objects up front.

:class:`Candle` has the original dataclass's fields (``timestamp, open, high,
low, close, volume, candle_type``) and behaves like it (equality by value,
``dataclasses.asdict``/``replace``, pickling, truthy, unhashable); it is a
compiled class (``plugins/src/candles.rs``), because a million Python-level
records would take seconds to make. A :class:`CandleSeq` keeps a timeframe's
bars as columns and makes a candle the first time its row is read, keeping
it, so a repeated ``seq[i]`` is the *same* object, and a higher-timeframe bar
is the same object at every primary row it is carried forward to (engine code
detects a new bar with ``c is not prev``). The ``timestamp`` (a tz-aware UTC
``pandas.Timestamp``) is made when it is first read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from omega_pl._plugins import Candle, CandleStore
from omega_pl.errors import ParameterError
from omega_pl.timeframes import OHLCV

__all__ = ["Candle", "CandleLookup", "CandleSeq", "candle_lookup"]

_UTC_US = pl.Datetime("us", "UTC")
_SIDES = ("bid", "ask")


def _epoch_us(value: object) -> int:
    """Microseconds since the epoch of a datetime-like (naive = UTC)."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1000)


class CandleSeq(CandleStore):
    """A list-like sequence of candles over Polars columns, built on access.

    ``len``, indexing (negative too), slices (a ``list``) and iteration work as
    on the original's lists (in compiled code); ``None`` marks a row without a
    bar. Row ``i`` shows bar ``rows[i]`` of the sequence's distinct bars (the
    identity for a primary timeframe; repeats for a higher timeframe carried
    forward). It is a :class:`collections.abc.Sequence`.

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

    def __init__(self, bars: pl.DataFrame, side: str, rows: npt.NDArray[np.int64] | None) -> None:
        self._bars = bars
        self._side = side
        self._rows = rows
        self._frame: pl.DataFrame | None = None
        o, h, lo, c, v = (bars[f] for f in OHLCV)
        row_map = None if rows is None else pl.Series("rows", rows, dtype=pl.Int64)
        self._load(bars["time"], o, h, lo, c, v, side, row_map)

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
            index = np.ascontiguousarray(series.cast(pl.Int64).fill_null(-1).to_numpy())
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
        """Epoch microseconds of every row's bar (arbitrary where there is none)."""
        t = self._bars["time"].dt.epoch("us").to_numpy()
        return t if self._rows is None else t[np.maximum(self._rows, 0)]

    def __repr__(self) -> str:
        return f"CandleSeq({self._side}, {len(self)} rows, {self._bars.height} bars)"


Sequence.register(CandleSeq)


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
