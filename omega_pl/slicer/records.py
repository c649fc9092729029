"""Candle records: the :class:`Candle` type and a batch's candles as one C array.

A candle is a :class:`Candle`: ``timestamp`` (aware UTC ``datetime``),
``open``, ``high``, ``low``, ``close``, ``volume`` (``float``) and ``side``.
Per-step access builds no dict and no Python object per field: once per batch
and (symbol, side) the five columns are interleaved into one C array of
records, and ``get`` hands out a record viewing row ``i`` of that array. Field
reads are C-level attribute reads. A candle is *missing* (``None``) when its
``close`` is null or NaN (SPEC §0: null and NaN both mean missing).
"""

from __future__ import annotations

import ctypes
import operator
import struct
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final, Literal, NoReturn, TypeVar

import numpy as np
import numpy.typing as npt

from omega_pl.errors import ParameterError
from omega_pl.timeframes import OHLCV

__all__ = ["Candle"]

I64 = npt.NDArray[np.int64]
RecordT = TypeVar("RecordT", bound=ctypes.Structure)
Side = Literal["bid", "ask"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

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

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from omega_pl import Candle
    >>> t = datetime(2025, 3, 18, 10, tzinfo=UTC)
    >>> candle = Candle.make(t, 1.0945, 1.0948, 1.0943, 1.0947, 105.0, "bid")
    >>> candle.close, candle.side
    (1.0947, 'bid')
    >>> ts, o, h, l, c, v, side = candle
    >>> str(ts), c
    ('2025-03-18 10:00:00+00:00', 1.0947)
    >>> candle == Candle.make(t, 1.0945, 1.0948, 1.0943, 1.0947, 105.0, "bid")
    True
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
        """A stand-alone candle (``timestamp``: aware/naive-UTC datetime or epoch µs).

        Examples
        --------
        >>> from omega_pl import Candle
        >>> Candle.make(  # doctest: +NORMALIZE_WHITESPACE
        ...     1_742_292_000_000_000, 1.0945, 1.0948, 1.0943, 1.0947, 105.0, "ask"
        ... )
        Candle(timestamp=2025-03-18T10:00:00+00:00, open=1.0945, high=1.0948, low=1.0943,
               close=1.0947, volume=105.0, side='ask')
        """
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
        """The bar's timestamp as an aware UTC ``datetime``.

        Examples
        --------
        >>> from omega_pl import Candle
        >>> Candle.make(1_742_292_000_000_000, 1.0, 1.0, 1.0, 1.0, 0.0).timestamp
        datetime.datetime(2025, 3, 18, 10, 0, tzinfo=datetime.timezone.utc)
        """
        return _to_datetime(self.time_us)

    def as_tuple(self) -> tuple[datetime, float, float, float, float, float, str | None]:
        """``(timestamp, open, high, low, close, volume, side)``.

        Examples
        --------
        >>> from omega_pl import Candle
        >>> candle = Candle.make(1_742_292_000_000_000, 1.0945, 1.0948, 1.0943, 1.0947, 5.0, "bid")
        >>> candle.as_tuple()  # doctest: +NORMALIZE_WHITESPACE
        (datetime.datetime(2025, 3, 18, 10, 0, tzinfo=datetime.timezone.utc),
         1.0945, 1.0948, 1.0943, 1.0947, 5.0, 'bid')
        """
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
        """The seven fields by name.

        Examples
        --------
        >>> from omega_pl import Candle
        >>> fields = Candle.make(1_742_292_000_000_000, 1.0, 1.2, 0.9, 1.1, 5.0, "bid").as_dict()
        >>> fields["close"], fields["side"], list(fields)[:2]
        (1.1, 'bid', ['timestamp', 'open'])
        """
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


def record_array(
    cls: type[RecordT], time_us: I64, fields: Sequence[npt.NDArray[Any]]
) -> ctypes.Array[RecordT]:
    """Interleave epoch microseconds and the five OHLCV columns into a C array of ``cls``.

    ``cls`` is a ``ctypes.Structure`` with the layout ``int64, 5 × double``
    (this module's :class:`Candle`, or :class:`omega_pl.engine.Candle`); the
    array owns its buffer and hands out records that view it.
    """
    n = int(time_us.shape[0])
    buf = np.empty(n, dtype=_RECORD_DTYPE)
    buf["time_us"] = time_us
    for name, values in zip(OHLCV, fields, strict=True):
        buf[name] = values
    return (cls * n).from_buffer(buf.data)


def _candle_seq(time_us: I64, fields: Sequence[npt.NDArray[Any]], side: str | None) -> _CandleSeq:
    """Interleave one row per candle into a C array; wrap it if rows are missing."""
    arr = record_array(_CANDLE_TYPES[side], time_us, fields)
    missing = np.isnan(fields[OHLCV.index("close")])
    if missing.any():
        return _HoleySeq(arr, missing.tobytes())
    return arr


def _check_side(side: object) -> Side:
    if side == "bid":
        return "bid"
    if side == "ask":
        return "ask"
    raise ParameterError(f"parameter 'side' must be 'bid' or 'ask', got {side!r}")
