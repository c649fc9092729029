"""Multi-symbol timeline and per-symbol slicing (SPEC §6).

:class:`MultiSymbolSlicer` puts several symbols onto one timeline and walks it;
:class:`SymbolSlicer` gives positional access to one aligned symbol frame.

Timeline
--------
The timeline is the sorted **intersection** (default) or **union** of the
symbols' timestamps. Each symbol is joined onto it *exactly*: at timestamp
``t`` a symbol shows the row stamped ``t`` or nothing. Nothing is carried
forward across timestamps, so on a union timeline a symbol without a bar at
``t`` is missing there (``null`` in frames, ``NaN`` in NumPy arrays, ``None``
as a candle), never silently filled. With the intersection nothing is missing.

Wide frame naming
-----------------
:attr:`MultiSymbolSlicer.frame` has a ``time`` column (``Datetime("us",
"UTC")``) followed by every non-time column ``c`` of every symbol ``S`` as
``f"{S}_{c}"``, symbols in the order of the mapping, columns in the order of
each frame: ``EURUSD_bid_open … EURUSD_ask_volume, GBPUSD_bid_open …``.
Aligned higher-timeframe or indicator columns travel along in the same way
(``EURUSD_h1_bid_close``, ``EURUSD_ema_20``). :meth:`MultiSymbolSlicer.column`
returns the name for a symbol, field and side.

Candles
-------
A candle is a :class:`Candle`: ``timestamp`` (aware UTC ``datetime``),
``open``, ``high``, ``low``, ``close``, ``volume`` (``float``) and ``side``.
Per-step access builds no dict and no Python object per field: once per batch
and (symbol, side) the five columns are interleaved into one C array of
records, and ``get`` hands out a record viewing row ``i`` of that array. Field
reads are C-level attribute reads. A candle is *missing* (``None``) when its
``close`` is null or NaN (SPEC §0: null and NaN both mean missing).

Streaming
---------
With any :class:`polars.LazyFrame` among the inputs,
:meth:`MultiSymbolSlicer.iter_batches` never collects the inputs: it pulls
each symbol's rows in chunks with :meth:`polars.LazyFrame.collect_batches`
and merges them as they arrive, so peak memory grows with ``batch_size`` ×
symbols (plus Polars' own read-ahead per input), not with the length of
history. That holds as far as the input plan itself streams: a plan that
must see a whole column before it can emit a row (a sort, a global
aggregate) is materialised inside Polars first.
"""

from __future__ import annotations

import ctypes
import math
import operator
import struct
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any, ClassVar, Final, Literal, NoReturn, overload

import numpy as np
import numpy.typing as npt
import polars as pl

from omega_pl.errors import (
    DuplicateTimestampsWarning,
    ParameterError,
    SchemaError,
    TimelineError,
    format_names,
)
from omega_pl.timeframes import OHLCV, Timeframe

__all__ = [
    "Candle",
    "MultiSymbolBatch",
    "MultiSymbolSlice",
    "MultiSymbolSlicer",
    "SymbolSlicer",
    "TimelineError",
]

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
How = Literal["intersection", "union"]
Side = Literal["bid", "ask"]
Frame = pl.DataFrame | pl.LazyFrame

_TIME: Final = "time"
_TIME_DTYPE: Final = pl.Datetime("us", "UTC")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: The grid path counts timestamps in a dense array of at most this many slots per row.
_GRID_SLOTS_PER_ROW: Final = 4
#: Rows per chunk pulled from a lazy input while streaming (bounds below/above).
_MIN_CHUNK: Final = 4_096
_MAX_CHUNK: Final = 32_768


# ---------------------------------------------------------------------------
# candle records

_RECORD: Final = struct.Struct("=qddddd")
_RECORD_DTYPE: Final = np.dtype(
    [("time_us", "=i8"), *((field, "=f8") for field in OHLCV)], align=False
)


def _to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _candle_from_bytes(side: str | None, raw: bytes) -> Candle:
    """Unpickle a :class:`Candle` (see :meth:`Candle.__reduce__`)."""
    return _CANDLE_TYPES[side].from_buffer_copy(raw)


class Candle(ctypes.Structure):
    """One candle: ``timestamp, open, high, low, close, volume, side``.

    Records handed out by the slicers are read-only views of a per-batch C
    array (making one costs about 50-100 ns, reading a field is a C-level
    attribute read); a record keeps that array alive. ``side`` is
    ``"bid"``, ``"ask"``, or ``None`` for a side-less (plain) frame.
    Records compare equal when all seven fields are equal, unpack like a
    7-tuple (``ts, o, h, l, c, v, side = candle``) and pickle as values.

    Build one yourself with :meth:`make`.
    """

    _fields_ = [
        ("time_us", ctypes.c_int64),
        ("open", ctypes.c_double),
        ("high", ctypes.c_double),
        ("low", ctypes.c_double),
        ("close", ctypes.c_double),
        ("volume", ctypes.c_double),
    ]
    #: Microseconds since the Unix epoch (UTC) of the bar's timestamp.
    time_us: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    #: ``"bid"``, ``"ask"`` or ``None`` (plain frame).
    side: ClassVar[str | None] = None

    @classmethod
    def make(
        cls,
        timestamp: datetime | int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        side: str | None = None,
    ) -> Candle:
        """A stand-alone candle (``timestamp``: aware/naive-UTC datetime or epoch µs)."""
        if isinstance(timestamp, datetime):
            ts = timestamp if timestamp.tzinfo is not None else timestamp.replace(tzinfo=UTC)
            us = (ts - _EPOCH) // timedelta(microseconds=1)
        else:
            us = operator.index(timestamp)
        if side not in _CANDLE_TYPES:
            raise ParameterError(f"parameter 'side' must be 'bid', 'ask' or None, got {side!r}")
        raw = _RECORD.pack(us, open, high, low, close, volume)
        return _CANDLE_TYPES[side].from_buffer_copy(raw)

    @property
    def timestamp(self) -> datetime:
        """The bar's timestamp as an aware UTC ``datetime``."""
        return _to_datetime(self.time_us)

    def as_tuple(self) -> tuple[datetime, float, float, float, float, float, str | None]:
        """``(timestamp, open, high, low, close, volume, side)``."""
        return (
            self.timestamp,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.side,
        )

    def as_dict(self) -> dict[str, object]:
        """The seven fields by name."""
        names = ("timestamp", "open", "high", "low", "close", "volume", "side")
        return dict(zip(names, self.as_tuple(), strict=True))

    def _key(self) -> tuple[int, float, float, float, float, float, str | None]:
        return (self.time_us, self.open, self.high, self.low, self.close, self.volume, self.side)

    def __iter__(self) -> Iterator[object]:
        return iter(self.as_tuple())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Candle):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Candle(timestamp={self.timestamp.isoformat()}, open={self.open!r}, "
            f"high={self.high!r}, low={self.low!r}, close={self.close!r}, "
            f"volume={self.volume!r}, side={self.side!r})"
        )

    def __init__(self, *args: object, **kwargs: object) -> None:
        if args or kwargs:
            raise TypeError("build a Candle with Candle.make(timestamp, open, …, side)")

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Candle is read-only (cannot set {name!r})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_candle_from_bytes, (self.side, bytes(self)))


class _BidCandle(Candle):
    side: ClassVar[str | None] = "bid"


class _AskCandle(Candle):
    side: ClassVar[str | None] = "ask"


_CANDLE_TYPES: Final[dict[str | None, type[Candle]]] = {
    None: Candle,
    "bid": _BidCandle,
    "ask": _AskCandle,
}


class _HoleySeq:
    """Candles of one batch column set with missing rows: ``None`` there."""

    __slots__ = ("_arr", "_miss")

    def __init__(self, arr: ctypes.Array[Candle], miss: bytes) -> None:
        self._arr = arr
        self._miss = miss

    def __getitem__(self, i: int) -> Candle | None:
        return None if self._miss[i] else self._arr[i]


_CandleSeq = ctypes.Array[Candle] | _HoleySeq


def _candle_seq(time_us: I64, fields: Sequence[npt.NDArray[Any]], side: str | None) -> _CandleSeq:
    """Interleave one row per candle into a C array; wrap it if rows are missing."""
    n = int(time_us.shape[0])
    buf = np.empty(n, dtype=_RECORD_DTYPE)
    buf["time_us"] = time_us
    for name, values in zip(OHLCV, fields, strict=True):
        buf[name] = values
    cls = _CANDLE_TYPES[side]
    arr: ctypes.Array[Candle] = (cls * n).from_buffer(buf.data)
    missing = np.isnan(buf["close"])
    if missing.any():
        return _HoleySeq(arr, missing.tobytes())
    return arr


# ---------------------------------------------------------------------------
# input preparation


def _check_side(side: object) -> Side:
    if side == "bid":
        return "bid"
    if side == "ask":
        return "ask"
    raise ParameterError(f"parameter 'side' must be 'bid' or 'ask', got {side!r}")


def _check_how(how: object) -> How:
    if how == "intersection":
        return "intersection"
    if how == "union":
        return "union"
    raise ParameterError(
        f"parameter 'how' must be 'intersection' or 'union' (SPEC §6), got {how!r}"
    )


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ParameterError(f"parameter '{name}' must be a positive integer, got {value!r}")
    return int(value)


def _time_expr(dtype: pl.DataType, what: str) -> pl.Expr | None:
    """Expression turning ``time`` into Datetime(us, UTC); ``None`` if it already is."""
    col = pl.col(_TIME)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            col = col.dt.replace_time_zone("UTC")
        elif dtype.time_zone != "UTC":
            col = col.dt.convert_time_zone("UTC")
        if dtype.time_unit != "us":
            col = col.dt.cast_time_unit("us")
        return None if dtype == _TIME_DTYPE else col
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    raise SchemaError(f"{what}: column 'time' has type {dtype}; expected Datetime or Date")


def _prepare(frame: object, symbol: object, columns: Sequence[str] | None) -> Frame:
    """Validate one input frame; select its columns and normalise ``time``."""
    if not isinstance(symbol, str) or not symbol:
        raise ParameterError(f"symbols must be non-empty strings, got {symbol!r}")
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise ParameterError(
            f"{symbol}: expected a polars DataFrame or LazyFrame, got {type(frame).__name__}"
        )
    schema = frame.collect_schema()
    if _TIME not in schema:
        raise SchemaError(f"{symbol}: no 'time' column; found: {format_names(schema.names())}")
    if columns is None:
        keep = [c for c in schema.names() if c != _TIME]
    else:
        keep = [c for c in dict.fromkeys(columns) if c != _TIME]
        missing = [c for c in keep if c not in schema]
        if missing:
            raise SchemaError(
                f"{symbol}: missing column(s) {format_names(missing)}; "
                f"found: {format_names(schema.names())}"
            )
    fix = _time_expr(schema[_TIME], symbol)
    out: Frame = frame if columns is None else frame.select(_TIME, *keep)
    if fix is not None:
        out = out.with_columns(fix.alias(_TIME))
    return out


def _time_values(frame: pl.DataFrame, symbol: str) -> I64:
    """The ``time`` column as int64 epoch microseconds (no nulls allowed)."""
    col = frame.get_column(_TIME)
    if col.null_count():
        raise SchemaError(f"{symbol}: column 'time' has {col.null_count()} null value(s)")
    values: I64 = col.to_physical().to_numpy()
    return values


def _sort_unique(frame: pl.DataFrame, symbol: str, *, may_sort: bool) -> tuple[pl.DataFrame, I64]:
    """``frame`` sorted by time with unique timestamps (last duplicate wins)."""
    t = _time_values(frame, symbol)
    if t.size < 2 or bool(np.all(t[1:] > t[:-1])):
        return frame, t
    if not bool(np.all(t[1:] >= t[:-1])):
        if not may_sort:
            raise SchemaError(
                f"{symbol}: timestamps are not in ascending order; sort the LazyFrame "
                "(lf.sort('time')) or collect it first"
            )
        order = np.argsort(t, kind="stable")
        frame = frame[pl.Series(order)]
        t = t[order]
    keep = np.empty(t.size, dtype=np.bool_)
    np.not_equal(t[1:], t[:-1], out=keep[:-1])
    keep[-1] = True
    if not bool(keep.all()):
        dropped = int(t.size - np.count_nonzero(keep))
        warnings.warn(
            f"{symbol}: {dropped} row(s) with a repeated timestamp dropped (the last one was kept)",
            DuplicateTimestampsWarning,
            stacklevel=4,
        )
        frame = frame.filter(pl.Series(keep))
        t = t[keep]
    return frame, t


# ---------------------------------------------------------------------------
# timeline construction


def _grid_step(times: Sequence[I64], lo: int) -> int:
    """Largest step ``g`` with every timestamp on the grid ``lo + k·g`` (0: one point)."""
    g = 0
    for t in times:
        g = math.gcd(g, int(t[0]) - lo)
        if t.size > 1:
            g = math.gcd(g, int(np.gcd.reduce(np.diff(t))))
        if g == 1:
            break
    return g


def _merge(times: Sequence[I64], how: How) -> tuple[I64, list[Bool | None] | list[I64]]:
    """Timeline of sorted unique int64 keys, and where each symbol's rows go.

    For ``intersection`` the placements are one boolean mask per symbol (its
    rows on the timeline; ``None`` = all of them, in order). For ``union``
    they are the timeline positions of each symbol's rows.

    Regular data (every key on a grid ``lo + k·g`` not much larger than the
    number of rows, as candle data is) is counted in a dense array; anything
    else is merged by sorting the concatenated keys.
    """
    k = len(times)
    total = sum(int(t.size) for t in times)
    nonempty = [t for t in times if t.size]
    if not nonempty:
        return np.zeros(0, dtype=np.int64), [np.zeros(0, dtype=np.int64) for _ in times]
    lo = min(int(t[0]) for t in nonempty)
    hi = max(int(t[-1]) for t in nonempty)
    g = _grid_step(nonempty, lo) or 1
    slots = (hi - lo) // g + 1
    if slots <= _GRID_SLOTS_PER_ROW * total + 1024:
        keys = [(t - lo) // g if g > 1 else t - lo for t in times]
        counts: npt.NDArray[Any] = np.zeros(slots, dtype=np.uint16 if k < 65_535 else np.uint32)
        for q in keys:
            counts[q] += 1
        if how == "intersection":
            hit = counts == k
            timeline: I64 = np.flatnonzero(hit).astype(np.int64) * g + lo
            masks: list[Bool | None] = []
            for q in keys:
                m = hit[q]
                masks.append(None if bool(m.all()) else m)
            return timeline, masks
        present = counts > 0
        rank = np.cumsum(present, dtype=np.int64) - 1
        timeline = np.flatnonzero(present).astype(np.int64) * g + lo
        return timeline, [rank[q] for q in keys]
    merged = np.sort(np.concatenate(list(times)), kind="stable")
    first = np.empty(merged.size, dtype=np.bool_)
    first[0] = True
    np.not_equal(merged[1:], merged[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    uniq = merged[starts]
    if how == "union":
        return uniq, [np.searchsorted(uniq, t).astype(np.int64) for t in times]
    runs = np.diff(np.append(starts, merged.size))
    timeline = uniq[runs == k]
    masks = []
    for t in times:
        pos = np.searchsorted(timeline, t)
        m = pos < timeline.size
        m[m] = timeline[pos[m]] == t[m]
        masks.append(None if bool(m.all()) else m)
    return timeline, masks


def _time_series(timeline: I64) -> pl.Series:
    return pl.Series(_TIME, timeline, dtype=pl.Int64).cast(_TIME_DTYPE).set_sorted()


def _place(values: pl.DataFrame, placement: Bool | I64 | None, how: How, n: int) -> pl.DataFrame:
    """One symbol's value columns on a timeline of ``n`` rows (see :func:`_merge`)."""
    # Every result is one contiguous chunk per column, so that batch columns
    # convert to NumPy without a copy (inputs read from Parquet come in chunks).
    if how == "intersection":
        if placement is None:
            return values.rechunk()
        return values.filter(pl.Series(placement, dtype=pl.Boolean)).rechunk()
    assert placement is not None
    if placement.size == n:  # present everywhere: already in timeline order
        return values.rechunk()
    if placement.size == 0:  # absent everywhere (a stretch of a streamed union)
        return values.clear(n)
    # Gather with a null-free index of Polars' index type, then null the holes:
    # both are fast paths (a gather with null indices, or with Int64 indices
    # inside an expression, is several times slower).
    gather = np.zeros(n, dtype=np.uint32 if values.height < 2**32 else np.uint64)
    gather[placement] = np.arange(placement.size, dtype=gather.dtype)
    valid = np.zeros(n, dtype=np.bool_)
    valid[placement] = True
    spread = values[pl.Series(gather)]
    return spread.select(pl.when(pl.lit(pl.Series(valid))).then(pl.all()).name.keep())


#: A symbol's first and last timestamp (epoch µs) and its number of rows.
Span = tuple[int, int, int]


def _span(t: I64) -> Span:
    return (int(t[0]), int(t[-1]), int(t.size))


def _ranges(spans: Mapping[str, Span]) -> str:
    parts = []
    for symbol, (lo, hi, rows) in spans.items():
        a, b = _to_datetime(lo).isoformat(), _to_datetime(hi).isoformat()
        parts.append(f"{symbol}: {a} … {b} ({rows} rows)")
    return "; ".join(parts)


def _empty_symbol_error(symbol: str) -> TimelineError:
    return TimelineError(
        f"symbol {symbol!r} has no rows (check its files and time window, or leave it out)"
    )


def _empty_intersection_error(spans: Mapping[str, Span]) -> TimelineError:
    return TimelineError(
        "the symbols have no timestamp in common (empty intersection): " + _ranges(spans)
    )


# ---------------------------------------------------------------------------
# batches and slices


class MultiSymbolSlice:
    """All symbols at one timeline step (built by :meth:`MultiSymbolBatch.slices`).

    Mapping-like over symbols: ``slice[symbol]`` is ``slice.get(symbol)`` (the
    bid candle), ``slice[symbol, "ask"]`` the ask candle; ``keys()``,
    ``len()``, ``in`` and iteration cover the symbols. It holds only its batch
    and a row number: no per-step dict of symbols is built, and a candle is
    made when asked for.
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
        """This step's timestamp (aware UTC ``datetime``)."""
        return _to_datetime(int(self._b._time_us[self._i]))

    @property
    def index(self) -> int:
        """This step's position on the whole timeline (0-based)."""
        return self._b.offset + self._i

    def keys(self) -> tuple[str, ...]:
        """The symbols, in the slicer's order."""
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
        """The batch's timestamps as ``datetime64[us]`` (UTC, a view of the frame)."""
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
        """One :class:`MultiSymbolSlice` per step, in time order."""
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


# ---------------------------------------------------------------------------
# streaming merge


class _Stream:
    """One symbol's rows arriving in chunks, with a buffer of rows not yet placed."""

    __slots__ = ("chunks", "done", "frame", "rows", "symbol", "times", "warned")

    def __init__(self, symbol: str, chunks: Iterator[pl.DataFrame], empty: pl.DataFrame) -> None:
        self.symbol = symbol
        self.chunks = chunks
        self.frame = empty
        self.times: I64 = np.zeros(0, dtype=np.int64)
        self.done = False
        self.rows = 0
        self.warned = False

    def fill(self, rows: int) -> None:
        """Pull chunks until the buffer holds ``rows`` rows and two distinct timestamps.

        (Or until the input ends.) Topping every buffer up to a chunk makes
        each merge round place about a chunk of rows, however the streams'
        chunk boundaries are staggered.
        """
        while not self.done and (self.times.size < rows or self.times[0] == self.times[-1]):
            try:
                chunk = next(self.chunks)
            except StopIteration:
                self.done = True
                break
            if chunk.height == 0:
                continue
            self.rows += chunk.height
            frame = pl.concat([self.frame, chunk], rechunk=False) if self.frame.height else chunk
            times = np.concatenate([self.times, _time_values(chunk, self.symbol)])
            frame, times = self._dedupe(frame, times)
            self.frame, self.times = frame, times

    def _dedupe(self, frame: pl.DataFrame, t: I64) -> tuple[pl.DataFrame, I64]:
        if t.size < 2 or bool(np.all(t[1:] > t[:-1])):
            return frame, t
        if not bool(np.all(t[1:] >= t[:-1])):
            raise SchemaError(
                f"{self.symbol}: timestamps are not in ascending order; sort the LazyFrame "
                "(lf.sort('time')) or pass a DataFrame"
            )
        keep = np.empty(t.size, dtype=np.bool_)
        np.not_equal(t[1:], t[:-1], out=keep[:-1])
        keep[-1] = True
        if not self.warned:
            self.warned = True
            warnings.warn(
                f"{self.symbol}: rows with a repeated timestamp dropped (the last one was kept)",
                DuplicateTimestampsWarning,
                stacklevel=5,
            )
        return frame.filter(pl.Series(keep)), t[keep]

    def take(self, cut: int) -> tuple[pl.DataFrame, I64]:
        """Remove and return the first ``cut`` buffered rows."""
        head, times = self.frame.slice(0, cut), self.times[:cut]
        self.frame, self.times = self.frame.slice(cut), self.times[cut:]
        return head, times


def _stream_pieces(
    streams: list[_Stream], how: How, prefixes: list[str], chunk: int
) -> Iterator[pl.DataFrame]:
    """Merge the streams; yield consecutive pieces of the wide frame.

    Each round every stream buffers at least two distinct timestamps (or
    ends). Rows before the *frontier* — the smallest last buffered timestamp
    of the streams still running — are final for every stream (later chunks
    only hold later timestamps, and the last buffered row may still be
    replaced by a duplicate), so they are placed on the timeline and
    removed from the buffers.
    """
    while True:
        for s in streams:
            s.fill(chunk)
            if s.done and s.rows == 0:
                raise _empty_symbol_error(s.symbol)
        if how == "intersection":
            if any(s.done and s.times.size == 0 for s in streams):
                return
        elif all(s.done and s.times.size == 0 for s in streams):
            return
        active = [s for s in streams if not s.done]
        if active:
            frontier = min(int(s.times[-1]) for s in active)
            cuts = [int(np.searchsorted(s.times, frontier, side="left")) for s in streams]
        else:
            cuts = [int(s.times.size) for s in streams]
        parts = [s.take(c) for s, c in zip(streams, cuts, strict=True)]
        timeline, placements = _merge([t for _, t in parts], how)
        if timeline.size == 0:
            continue
        n = int(timeline.size)
        columns = [_time_series(timeline)]
        for (values, _), placement, prefix in zip(parts, placements, prefixes, strict=True):
            named = values.drop(_TIME)
            named = named.rename({c: prefix + c for c in named.columns})
            columns.extend(_place(named, placement, how, n).get_columns())
        yield pl.DataFrame(columns)


def _rebatch(pieces: Iterable[pl.DataFrame], batch_size: int) -> Iterator[pl.DataFrame]:
    """Regroup wide pieces into contiguous frames of ``batch_size`` rows (the last: fewer)."""
    held: list[pl.DataFrame] = []
    rows = 0
    for piece in pieces:
        held.append(piece)
        rows += piece.height
        if rows < batch_size:
            continue
        wide = pl.concat(held, rechunk=True)
        full = (wide.height // batch_size) * batch_size
        for start in range(0, full, batch_size):
            yield wide.slice(start, batch_size)
        held = [wide.slice(full)] if full < wide.height else []
        rows = wide.height - full
    if held:
        yield pl.concat(held, rechunk=True)


# ---------------------------------------------------------------------------
# multi-symbol slicer


class MultiSymbolSlicer:
    """Several symbols on one timeline (SPEC §6), as one wide frame or in batches.

    Parameters
    ----------
    frames : mapping of str to polars.DataFrame or polars.LazyFrame
        Symbol → candle frame with a ``time`` column (Datetime; naive = UTC)
        and ``bid_open … bid_volume, ask_open … ask_volume`` (as
        :func:`omega_pl.scan_symbol` returns). Any other columns travel along.
        Rows must be one per timestamp; a DataFrame out of order is sorted,
        and of repeated timestamps the last row is kept (with a
        :class:`~omega_pl.DuplicateTimestampsWarning`).
    how : {"intersection", "union"}
        The timeline: timestamps present in every symbol (default, the
        original engine's only mode), or in any symbol.
    columns : sequence of str, optional
        Columns to carry per symbol (default: all); selecting fewer saves
        memory and, for lazy inputs, reading.

    Notes
    -----
    Every symbol is joined onto the timeline exactly (no carry-forward): on a
    union timeline a symbol without a bar at ``t`` is null at ``t``. The wide
    frame is ``time`` plus ``f"{symbol}_{column}"`` for every other column.

    With DataFrames only, input errors (an empty symbol, an empty
    intersection) are raised here; with a LazyFrame among the inputs nothing
    is read until :attr:`timeline`, :attr:`frame`, ``len()`` or
    :meth:`iter_batches` is used, and the errors surface there.

    Raises
    ------
    ParameterError
        Bad ``how``, no symbols, a symbol that is not a non-empty string, or
        two symbols whose column names collide in the wide frame.
    SchemaError
        A frame without ``time`` (or a requested column), or with null
        timestamps.
    TimelineError
        A symbol without rows (naming it), or an empty intersection (naming
        every symbol's time range).

    Examples
    --------
    >>> frames = {s: omega_pl.scan_symbol(root, s, "M1") for s in ("EURUSD", "GBPUSD")}
    >>> slicer = omega_pl.MultiSymbolSlicer(frames)
    >>> for batch in slicer.iter_batches():  # doctest: +SKIP
    ...     closes = batch.array("EURUSD", "close")  # vectorised path
    ...     for step in batch.slices():  # per-step path
    ...         eu = step.get("EURUSD", "bid")
    """

    def __init__(
        self,
        frames: Mapping[str, pl.DataFrame | pl.LazyFrame],
        *,
        how: How = "intersection",
        columns: Sequence[str] | None = None,
    ) -> None:
        self._how: How = _check_how(how)
        if not isinstance(frames, Mapping):
            raise ParameterError(
                f"frames must be a mapping of symbol to frame, got {type(frames).__name__}"
            )
        if not frames:
            raise ParameterError("frames is empty: give at least one symbol")
        if isinstance(columns, str):
            raise ParameterError("columns must be a sequence of column names, not one string")
        self._symbols: tuple[str, ...] = tuple(frames)
        self._inputs: list[Frame] = [_prepare(frames[s], s, columns) for s in self._symbols]
        self._names: list[list[str]] = [
            [f"{s}_{c}" for c in f.collect_schema().names() if c != _TIME]
            for s, f in zip(self._symbols, self._inputs, strict=True)
        ]
        seen: dict[str, str] = {}
        for symbol, names in zip(self._symbols, self._names, strict=True):
            for name in names:
                if name in seen:
                    raise ParameterError(
                        f"wide column {name!r} would come from both {seen[name]!r} and "
                        f"{symbol!r}; rename a column or a symbol"
                    )
                seen[name] = symbol
        self._lazy = any(isinstance(f, pl.LazyFrame) for f in self._inputs)
        self._timeline: pl.Series | None = None
        self._frame: pl.DataFrame | None = None
        self._eager: list[tuple[pl.DataFrame, I64]] | None = None
        self._placements: list[Bool | None] | list[I64] | None = None
        if not self._lazy:
            self._setup_eager(self._collect(None))

    # -- construction helpers

    def _collect(self, columns: list[str] | None) -> list[tuple[pl.DataFrame, I64]]:
        """The inputs (or just ``columns`` of them) collected, sorted and deduplicated.

        DataFrames out of order are sorted; a LazyFrame out of order is an
        error (the streaming path could not sort it either).
        """
        lazy = [i for i, f in enumerate(self._inputs) if isinstance(f, pl.LazyFrame)]
        collected = pl.collect_all(
            [
                (f if columns is None else f.select(columns))
                for f in self._inputs
                if isinstance(f, pl.LazyFrame)
            ]
        )
        got = dict(zip(lazy, collected, strict=True))
        out = []
        for i, (symbol, frame) in enumerate(zip(self._symbols, self._inputs, strict=True)):
            if isinstance(frame, pl.DataFrame):
                eager = frame if columns is None else frame.select(columns)
            else:
                eager = got[i]
            out.append(_sort_unique(eager, symbol, may_sort=i not in got))
        for symbol, (_, t) in zip(self._symbols, out, strict=True):
            if t.size == 0:
                raise _empty_symbol_error(symbol)
        return out

    def _set_timeline(
        self, collected: list[tuple[pl.DataFrame, I64]]
    ) -> list[Bool | None] | list[I64]:
        timeline, placements = _merge([t for _, t in collected], self._how)
        if timeline.size == 0:
            spans = {s: _span(t) for s, (_, t) in zip(self._symbols, collected, strict=True)}
            raise _empty_intersection_error(spans)
        self._timeline = _time_series(timeline)
        return placements

    def _setup_eager(self, collected: list[tuple[pl.DataFrame, I64]]) -> None:
        """Place the collected inputs on the timeline (the wide frame is built later)."""
        self._placements = self._set_timeline(collected)
        self._eager = collected

    # -- public API

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols, in the order of the input mapping."""
        return self._symbols

    @property
    def how(self) -> How:
        """``"intersection"`` or ``"union"``."""
        return self._how

    @property
    def timeline(self) -> pl.Series:
        """The sorted unique timestamps (``time``, ``Datetime("us", "UTC")``)."""
        if self._timeline is None:
            self._set_timeline(self._collect([_TIME]))
        assert self._timeline is not None
        return self._timeline

    def __len__(self) -> int:
        return self.timeline.len()

    @property
    def frame(self) -> pl.DataFrame:
        """The wide aligned frame: ``time`` and ``f"{symbol}_{column}"`` columns.

        Built on first access (lazy inputs are collected for it) and kept.
        """
        if self._frame is None:
            if self._eager is None:
                self._setup_eager(self._collect(None))
            assert self._eager is not None and self._placements is not None
            assert self._timeline is not None
            n = self._timeline.len()
            columns = [self._timeline]
            for (frame, _), placement, symbol in zip(
                self._eager, self._placements, self._symbols, strict=True
            ):
                values = frame.drop(_TIME)
                values = values.rename({c: f"{symbol}_{c}" for c in values.columns})
                columns.extend(_place(values, placement, self._how, n).get_columns())
            self._frame = pl.DataFrame(columns)
            self._eager = None  # the wide frame holds everything now
            self._placements = None
        return self._frame

    def column(self, symbol: str, field: str, side: str | None = "bid") -> str:
        """Name of a wide-frame column, e.g. ``column("EURUSD", "close") == "EURUSD_bid_close"``.

        ``side=None`` gives ``f"{symbol}_{field}"`` (indicator or other columns).
        """
        if symbol not in self._symbols:
            raise KeyError(f"unknown symbol {symbol!r}; symbols: {format_names(self._symbols)}")
        return _column_name(symbol, field, side)

    def iter_batches(self, batch_size: int = 65_536) -> Iterator[MultiSymbolBatch]:
        """Walk the timeline in batches of ``batch_size`` rows (the last may be shorter).

        With DataFrame inputs (or once :attr:`frame` was built) each batch is a
        zero-copy slice of the wide frame. With a LazyFrame among the inputs the
        rows are streamed: nothing is collected whole, and peak memory grows
        with ``batch_size`` × symbols, not with the length of history.
        """
        size = _positive("batch_size", batch_size)
        if self._frame is not None or not self._lazy:
            return self._iter_frame(size)
        return self._iter_stream(size)

    def slices(self, batch_size: int = 65_536) -> Iterator[MultiSymbolSlice]:
        """Every step of the timeline, batch by batch (see :meth:`iter_batches`)."""
        for batch in self.iter_batches(batch_size):
            yield from batch.slices()

    def _iter_frame(self, size: int) -> Iterator[MultiSymbolBatch]:
        frame = self.frame
        for start in range(0, frame.height, size):
            yield MultiSymbolBatch(frame.slice(start, size), start, self._symbols)

    def _iter_stream(self, size: int) -> Iterator[MultiSymbolBatch]:
        chunk = min(max(size, _MIN_CHUNK), _MAX_CHUNK)
        streams = []
        for symbol, frame in zip(self._symbols, self._inputs, strict=True):
            if isinstance(frame, pl.DataFrame):
                frame, _ = _sort_unique(frame, symbol, may_sort=True)
                chunks: Iterator[pl.DataFrame] = frame.iter_slices(chunk)
                empty = frame.clear()
            else:
                chunks = iter(frame.collect_batches(chunk_size=chunk, lazy=True))
                empty = pl.DataFrame(schema=frame.collect_schema())
            streams.append(_Stream(symbol, chunks, empty))
        prefixes = [f"{s}_" for s in self._symbols]
        offset = 0
        try:
            pieces = _stream_pieces(streams, self._how, prefixes, chunk)
            for wide in _rebatch(pieces, size):
                yield MultiSymbolBatch(wide, offset, self._symbols)
                offset += wide.height
        finally:
            for s in streams:  # let Polars drop the queries of an abandoned walk
                s.chunks = iter(())
        if offset == 0:
            raise _empty_intersection_error(self._spans())

    def _spans(self) -> dict[str, Span]:
        """Each input's first/last timestamp and row count, by a small query."""
        t = pl.col(_TIME).to_physical()
        stats = pl.collect_all(
            [f.lazy().select(t.min(), t.max().alias("hi"), pl.len()) for f in self._inputs]
        )
        return {
            s: (int(r.item(0, 0)), int(r.item(0, 1)), int(r.item(0, 2)))
            for s, r in zip(self._symbols, stats, strict=True)
        }

    def __repr__(self) -> str:
        return (
            f"MultiSymbolSlicer(symbols={list(self._symbols)!r}, how={self._how!r}, "
            f"lazy={self._lazy})"
        )


# ---------------------------------------------------------------------------
# per-symbol slicer


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
        """The whole frame."""
        return self._frame

    def __len__(self) -> int:
        return self._n

    @property
    def index(self) -> int:
        """The cursor used by :meth:`latest` and :meth:`history` (default 0)."""
        return self._index

    @index.setter
    def index(self, i: int) -> None:
        self._check(i)
        self._index = i

    @property
    def timeframes(self) -> tuple[str, ...]:
        """Aligned higher timeframes found in the frame, e.g. ``("H1", "D1")``."""
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
        """The whole column as NumPy: a read-only view when null-free, else a NaN copy (cached)."""
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
        """
        if not 0 <= i < self._n:
            raise IndexError(f"row {i!r} out of range [0, {self._n})")
        try:
            return self._seqs[(tf, side)][i]
        except KeyError:
            pass
        return self._candles(tf, side)[i]

    def get_slice(self, start: int, end: int) -> pl.DataFrame:
        """Rows ``start … end-1`` as a zero-copy frame slice (``0 <= start <= end <= len``)."""
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
        """The aligned entry of row ``i`` (default: :attr:`index`); ``None`` if missing."""
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
