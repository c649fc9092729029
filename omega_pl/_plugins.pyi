"""Type stub of the compiled extension (its expressions are loaded by Polars, not imported)."""

from collections.abc import Iterator, Sequence
from os import PathLike
from typing import Any, overload

import polars as pl

__version__: str

class CandleCsvReader:
    """Reads a candle CSV file in batches of parsed rows (see ``omega_pl._csv``).

    ``separator`` is one ASCII character; ``time_index`` and the five
    ``value_indices`` (open, high, low, close, volume) are 0-based field
    positions; ``names`` are the six header names, for error messages. The
    header line and a UTF-8 byte order mark are skipped. With ``check_utf8``,
    bytes that are not UTF-8 raise ``EncodingError`` (else they are left to
    the field parsers, for single-byte encodings such as cp1252).
    """

    def __init__(
        self,
        path: str | PathLike[str],
        separator: str,
        time_index: int,
        value_indices: list[int],
        names: list[str],
        batch_rows: int,
        check_utf8: bool = True,
    ) -> None: ...
    def next_batch(self) -> pl.DataFrame | None:
        """The next at most ``batch_rows`` rows, ``None`` after the last.

        Columns ``time`` (Datetime(us, UTC)), ``open`` … ``volume`` (Float64).
        Raises ``TimestampParseError`` or ``SchemaError`` naming the file,
        column, data row and value of the first bad field, ``EncodingError``
        naming the line and byte offset of bytes that are not UTF-8, and
        ``FileReadError`` (``CandleFileNotFoundError``) when the file cannot be
        read (is gone).
        """

class Candle:
    """One bid or ask bar (``omega_pl.engine.Candle``; see its documentation)."""

    open: float
    high: float
    low: float
    close: float
    volume: float
    candle_type: str
    timestamp: Any
    def __init__(
        self,
        timestamp: Any,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        candle_type: str = "bid",
    ) -> None: ...

class CandleStore(Sequence[Candle | None]):
    """A timeframe's bars as columns, candles made on first access (see ``CandleSeq``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def _load(
        self,
        time: pl.Series,
        open: pl.Series,
        high: pl.Series,
        low: pl.Series,
        close: pl.Series,
        volume: pl.Series,
        side: str,
        rows: pl.Series | None = None,
    ) -> None: ...
    def __len__(self) -> int: ...
    def __bool__(self) -> bool: ...
    @overload
    def __getitem__(self, index: int) -> Candle | None: ...
    @overload
    def __getitem__(self, index: slice) -> list[Candle | None]: ...
    def __iter__(self) -> Iterator[Candle | None]: ...
    def _made(self) -> int: ...
