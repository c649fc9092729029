"""Type stub of the compiled extension (its expressions are loaded by Polars, not imported)."""

from os import PathLike

import polars as pl

__version__: str

class CandleCsvReader:
    """Reads a candle CSV file in batches of parsed rows (see ``omega_pl._csv``).

    ``separator`` is one ASCII character; ``time_index`` and the five
    ``value_indices`` (open, high, low, close, volume) are 0-based field
    positions; ``names`` are the six header names, for error messages. The
    header line and a UTF-8 byte order mark are skipped.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        separator: str,
        time_index: int,
        value_indices: list[int],
        names: list[str],
        batch_rows: int,
    ) -> None: ...
    def next_batch(self) -> pl.DataFrame | None:
        """The next at most ``batch_rows`` rows, ``None`` after the last.

        Columns ``time`` (Datetime(us, UTC)), ``open`` … ``volume`` (Float64).
        Raises ``TimestampParseError`` or ``SchemaError`` naming the file,
        column, data row and value of the first bad field; ``OSError`` when
        the file cannot be read.
        """
