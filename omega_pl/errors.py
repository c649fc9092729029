"""Exceptions and warnings raised by omega_pl.

Every error a user can cause with bad input is an :class:`OmegaError`, and
each also derives from the matching built-in (``ValueError``,
``FileNotFoundError``, ``OSError``), so existing ``except`` clauses keep
working. Data that loads but looks wrong gives a :class:`CandleDataWarning`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path


class OmegaError(Exception):
    """Base class of every omega_pl error caused by user input."""


class TimeframeError(OmegaError, ValueError):
    """A timeframe string that is not one of the accepted forms."""


class ParameterError(OmegaError, ValueError):
    """An invalid parameter value; the message names the parameter."""


class WindowError(OmegaError, ValueError):
    """An invalid time window (unparseable bound, or ``start > end``)."""


class SchemaError(OmegaError, ValueError):
    """A file whose columns cannot be mapped onto the candle schema."""


class TimestampParseError(OmegaError, ValueError):
    """A timestamp value that none of the supported layouts can read."""


class FileFormatError(OmegaError, ValueError):
    """A file whose bytes are not valid for its format: a corrupt, truncated or
    empty Parquet file, or CSV text that is not in its encoding. Names the file."""


class EncodingError(FileFormatError):
    """CSV bytes that are not valid in the file's encoding (UTF-8 unless
    ``encoding=`` says otherwise); the message names the file, the line and
    the byte offset of the first bad byte."""


class FileReadError(OmegaError, OSError):
    """A candle file that exists but cannot be read: a directory, no read
    permission, an I/O error. Names the file and the reason."""


class CandleFileNotFoundError(OmegaError, FileNotFoundError):
    """No candle file where one was expected; lists every path tried."""

    def __init__(self, what: str, tried: Sequence[Path]) -> None:
        self.tried = list(tried)
        listing = "\n".join(f"  - {p}" for p in self.tried)
        super().__init__(f"{what}; tried:\n{listing}")


class MissingExtraError(OmegaError, ImportError):
    """An optional part of omega_pl needs an extra that is not installed.

    The message names the extra and the command that installs it.
    """

    def __init__(self, feature: str, extra: str, package: str) -> None:
        self.extra = extra
        super().__init__(
            f'{feature} needs {package}, which is not installed: pip install "omega-pl[{extra}]"'
        )


class TimelineError(OmegaError, ValueError):
    """No common timeline: a symbol has no rows, or the intersection is empty."""


class CandleDataWarning(UserWarning):
    """Candle data that loads but looks wrong (base of the loaders' warnings)."""


class DuplicateTimestampsWarning(CandleDataWarning):
    """Rows with a repeated timestamp were dropped (the last one was kept)."""


class TimeframeMismatchWarning(CandleDataWarning):
    """The bars' spacing does not fit the timeframe (an H1 file named ``..._M5_...``)."""


class MissingValuesWarning(CandleDataWarning):
    """A value column of a file has no values at all (every row is null)."""


class NoCommonBarsWarning(CandleDataWarning):
    """Bid and ask both have bars but not one timestamp in common, so joining
    them gives no rows (a different timeframe, or a shifted clock, on one side)."""


class LookAheadWarning(UserWarning):
    """An alignment that lets a row see a higher bar before it completed.

    Raised by ``previous_completed=False``, which reproduces the reference's
    look-ahead behaviour (SPEC §5.2, §8.3.4).
    """


def format_names(names: Iterable[str]) -> str:
    """Quote and join column names for an error message."""
    return ", ".join(repr(n) for n in names)
