"""Every bad input a user can hand the loaders, one row each: what it raises or warns.

Each case writes its input, loads it with :func:`omega_pl.scan_candles` (or
:func:`omega_pl.scan_symbol`) and checks the exception or warning type, when
it comes (at the call or at ``collect()``), that the message names the file,
and its key words. Inputs that are odd but well defined (stamps before 1970,
a 0-row file) load, and their row says what they load as.

The README's *Errors* table is this table: ``python -m tests.test_bad_input``
prints it as Markdown.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import polars as pl
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import omega_pl
from omega_pl import CANDLE_SCHEMA, OmegaError
from omega_pl.errors import (
    CandleFileNotFoundError,
    DuplicateTimestampsWarning,
    EncodingError,
    FileFormatError,
    FileReadError,
    MissingValuesWarning,
    NoCommonBarsWarning,
    ParameterError,
    SchemaError,
    TimeframeMismatchWarning,
    TimestampParseError,
)
from tests.cli_helpers import assert_user_error, invoke

HEADER = "UTC time,Open,High,Low,Close,Volume\n"
MONDAY = datetime(2025, 3, 24, tzinfo=UTC)  # inside market hours from 00:00 UTC on


def utc_row(t: datetime, suffix: str = "+00:00", close: str = "1.1005") -> str:
    return f"{t:%Y-%m-%d %H:%M:%S}{suffix},1.1000,1.1010,1.0990,{close},10\n"


def m5_rows(n: int, start: datetime = MONDAY, step: timedelta = timedelta(minutes=5)) -> str:
    return "".join(utc_row(start + k * step) for k in range(n))


def frame(times: list[datetime], **columns: pl.Series | list[object]) -> pl.DataFrame:
    """A candle frame at ``times``; ``columns`` replace or add columns."""
    n = len(times)
    base = {
        "time": pl.Series(times, dtype=pl.Datetime("us", "UTC")),
        **{c: [1.1] * n for c in ("open", "high", "low", "close")},
        "volume": [10.0] * n,
    }
    base.update(columns)
    return pl.DataFrame(base)


def good_parquet(path: Path, n: int = 12) -> bytes:
    frame([MONDAY + timedelta(minutes=5 * k) for k in range(n)]).write_parquet(path)
    return path.read_bytes()


# ---------------------------------------------------------------------------
# how an input is loaded

Phase = Literal["call", "collect"]


def load_file(path: Path, **kwargs: object) -> Callable[[], pl.DataFrame]:
    """``scan_candles(path)``; the returned thunk collects it."""
    lf = omega_pl.scan_candles(path, **kwargs)  # type: ignore[arg-type]
    return lf.collect


def load_symbol(root: Path) -> Callable[[], pl.DataFrame]:
    return omega_pl.scan_symbol(root, "EURUSD", "M5").collect


@dataclass(frozen=True)
class Case:
    """One row of the table.

    ``make`` writes the input under a fresh directory and returns the path to
    load and the path the message must name. ``raises``/``warns`` is what the
    load gives, at ``phase``; ``words`` must all be in the message (``{file}``
    stands for the named path). ``rows``: the rows a loading case loads.
    """

    id: str
    what: str
    make: Callable[[Path], tuple[Path, Path]]
    raises: type[BaseException] | None = None
    warns: type[Warning] | None = None
    phase: Phase = "call"
    words: tuple[str, ...] = ()
    load: Callable[[Path], Callable[[], pl.DataFrame]] = load_file
    rows: int | None = None
    check: Callable[[pl.DataFrame], None] | None = None
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


def file(name: str, data: str | bytes) -> Callable[[Path], tuple[Path, Path]]:
    def make(d: Path) -> tuple[Path, Path]:
        path = d / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path, path

    return make


def parquet(name: str, df: pl.DataFrame) -> Callable[[Path], tuple[Path, Path]]:
    def make(d: Path) -> tuple[Path, Path]:
        path = d / name
        df.write_parquet(path)
        return path, path

    return make


def mangled_parquet(how: Callable[[bytes], bytes]) -> Callable[[Path], tuple[Path, Path]]:
    def make(d: Path) -> tuple[Path, Path]:
        path = d / "EURUSD_M5_BID.parquet"
        path.write_bytes(how(good_parquet(path)))
        return path, path

    return make


def directory(d: Path) -> tuple[Path, Path]:
    path = d / "EURUSD_M5_BID.csv"
    path.mkdir()
    return path, path


def io_error_file(d: Path) -> tuple[Path, Path]:
    """A candle file whose every read fails, even for root: /proc/self/mem at offset 0."""
    path = d / "EURUSD_M5_BID.csv"
    path.symlink_to("/proc/self/mem")
    return path, path


def symbol_root(bid: str | None, ask: str | None) -> Callable[[Path], tuple[Path, Path]]:
    def make(d: Path) -> tuple[Path, Path]:
        (d / "EURUSD").mkdir()
        for side, body in (("BID", bid), ("ASK", ask)):
            if body is not None:
                (d / "EURUSD" / f"EURUSD_M5_{side}.csv").write_text(HEADER + body)
        return d, d / "EURUSD"

    return make


def rows_equal(times: list[datetime]) -> Callable[[pl.DataFrame], None]:
    def check(df: pl.DataFrame) -> None:
        assert df.schema == CANDLE_SCHEMA
        assert df["time"].to_list() == times

    return check


H1_DAY = m5_rows(24, step=timedelta(hours=1))
OLD = datetime(1969, 12, 29, 10, tzinfo=UTC)  # a Monday before the epoch
LATE = datetime(2300, 1, 2, 10, tzinfo=UTC)  # a Monday after datetime[ns] ends (2262)
UTF16 = (HEADER + m5_rows(2)).encode("utf-16")
CP1252 = (
    "time,Open,High,Low,Close,Volume,Comment\n" + "2025-03-24 00:00,1,2,0.5,1.5,3,café\n"
).encode("cp1252")
BAD_BYTE = (HEADER + m5_rows(3)).encode() + b"2025-03-24 00:15:00+00:00,1.1,1.2,1.0,1.1,10 \xe9\n"

CASES = [
    # --- text encodings -------------------------------------------------------
    Case(
        "non-utf8-row",
        "a byte that is not UTF-8 in a data row",
        file("EURUSD_M5_BID.csv", BAD_BYTE),
        EncodingError,
        phase="collect",
        words=(
            "{file}",
            "not UTF-8",
            "0xe9",
            "line 5",
            f"byte offset {len(BAD_BYTE) - 2}",
            'encoding="cp1252"',
        ),
    ),
    Case(
        "non-utf8-header",
        "a byte that is not UTF-8 in the header",
        file("EURUSD_M5_BID.csv", b"UTC time,Op\xe9n,High,Low,Close,Volume\n"),
        EncodingError,
        words=("{file}", "not UTF-8", "0xe9", "line 1, byte offset 11", "--encoding cp1252"),
    ),
    Case(
        "utf16",
        "a UTF-16 export (byte order mark FF FE)",
        file("EURUSD_M5_BID.csv", UTF16),
        EncodingError,
        words=("{file}", "UTF-16", "save it as UTF-8"),
    ),
    Case(
        "cp1252-encoding",
        "a Windows-1252 file, with encoding='cp1252'",
        file("EURUSD_M5_BID.csv", CP1252),
        load=lambda p: load_file(p, encoding="cp1252"),
        rows=1,
    ),
    Case(
        "unknown-encoding",
        "encoding= that Python does not know",
        file("EURUSD_M5_BID.csv", HEADER),
        ParameterError,
        load=lambda p: load_file(p, encoding="klingon"),
        words=("encoding", "klingon"),
    ),
    Case(
        "multibyte-encoding",
        "encoding= the reader cannot read (UTF-16)",
        file("EURUSD_M5_BID.csv", HEADER),
        ParameterError,
        load=lambda p: load_file(p, encoding="utf-16"),
        words=("encoding", "utf-16", "single-byte"),
    ),
    # --- files that are not candle files ----------------------------------------
    Case(
        "missing-file",
        "no file at the path",
        lambda d: (d / "EURUSD_M5_BID.csv",) * 2,
        CandleFileNotFoundError,
        words=("no candle file at {file}",),
    ),
    Case(
        "directory",
        "a directory where the file should be",
        directory,
        FileReadError,
        words=("{file} is a directory",),
    ),
    Case(
        "io-error",
        "a file whose reads fail (even for root)",
        io_error_file,
        FileReadError,
        words=("{file}", "cannot read the file"),
    ),
    Case(
        "unknown-suffix",
        "a suffix other than .parquet/.pq/.csv/.txt",
        file("EURUSD_M5_BID.xlsx", "x"),
        SchemaError,
        words=("{file}", "unsupported file type", ".xlsx"),
    ),
    Case(
        "empty-csv",
        "an empty CSV file (0 bytes)",
        file("EURUSD_M5_BID.csv", ""),
        SchemaError,
        words=("{file}", "empty"),
    ),
    Case(
        "binary-csv",
        "2 MiB without a newline named .csv",
        file("EURUSD_M5_BID.csv", b"\x00" * (2 << 20)),
        SchemaError,
        words=("{file}", "no header line in the first 1 MiB"),
    ),
    Case(
        "header-only",
        "a CSV file with a header only (0 rows)",
        file("EURUSD_M5_BID.csv", HEADER),
        rows=0,
        check=lambda df: None if df.schema == CANDLE_SCHEMA else pytest.fail(str(df.schema)),
    ),
    # --- columns -------------------------------------------------------------------
    Case(
        "no-time-column",
        "no column a timestamp can be in",
        file("EURUSD_M5_BID.csv", "Stamp,Open,High,Low,Close,Volume\n"),
        SchemaError,
        words=("{file}", "no timestamp column", "'Stamp'"),
    ),
    Case(
        "missing-column",
        "a value column missing",
        file("EURUSD_M5_BID.csv", "UTC time,Open,High,Low,Close\n"),
        SchemaError,
        words=("{file}", "missing required column(s) 'volume'"),
    ),
    Case(
        "duplicate-header",
        "a header naming a column twice",
        file("EURUSD_M5_BID.csv", "UTC time,Open,High,Low,Close,Volume,open\n"),
        SchemaError,
        words=("{file}", "duplicated column name", "'Open' appears 2 times", "fields 2, 7"),
    ),
    Case(
        "duplicate-parquet-case",
        "Parquet columns 'open' and 'Open'",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY], Open=[1.0])),
        SchemaError,
        words=("{file}", "duplicated column name"),
    ),
    Case(
        "too-few-fields",
        "a line with too few fields",
        file("EURUSD_M5_BID.csv", HEADER + m5_rows(2) + "2025-03-24 00:10:00+00:00,1.1,1.2\n"),
        SchemaError,
        phase="collect",
        words=("{file}", "line has 3 field(s)", "column 'Low'", "data row 3"),
    ),
    Case(
        "bad-number",
        "a value that is not a number",
        file(
            "EURUSD_M5_BID.csv",
            HEADER + m5_rows(2) + utc_row(MONDAY + timedelta(minutes=10), close="1.1O05"),
        ),
        SchemaError,
        phase="collect",
        words=("{file}", 'unparseable number "1.1O05"', "column 'Close'", "data row 3"),
    ),
    Case(
        "empty-values-csv",
        "a CSV column with no values (empty fields)",
        file("EURUSD_M5_BID.csv", HEADER + "2025-03-24 00:00:00+00:00,,1.1,1.0,1.1,10\n"),
        SchemaError,
        phase="collect",
        words=("{file}", "empty value in column 'Open'", "data row 1"),
    ),
    Case(
        "null-column-parquet",
        "a Parquet value column whose every value is null",
        parquet(
            "EURUSD_M5_BID.parquet",
            frame(
                [MONDAY, MONDAY + timedelta(minutes=5)],
                open=pl.Series([None, None], dtype=pl.Float64),
            ),
        ),
        warns=MissingValuesWarning,
        phase="collect",
        rows=2,
        words=("{file}", "column 'open'", "has no values"),
    ),
    Case(
        "null-type-parquet",
        "a Parquet column of type Null (all null, no type)",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY], high=[None])),
        SchemaError,
        words=("{file}", "column 'high' has no values", "type Null"),
    ),
    Case(
        "null-time-parquet",
        "a Parquet time column whose every value is null",
        parquet("EURUSD_M5_BID.parquet", frame([None, None])),  # type: ignore[list-item]
        warns=MissingValuesWarning,
        phase="collect",
        rows=0,
        words=("{file}", "column 'time'", "has no values"),
    ),
    Case(
        "string-prices",
        "Parquet prices stored as text",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY], open=["1.1"])),
        SchemaError,
        words=("{file}", "column 'open' has type String", "expected numbers"),
    ),
    Case(
        "bool-prices",
        "Parquet prices of type Boolean",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY], volume=[True])),
        SchemaError,
        words=("{file}", "column 'volume' has type Boolean"),
    ),
    Case(
        "integer-time",
        "Parquet time as integers (epoch seconds)",
        parquet(
            "EURUSD_M5_BID.parquet", frame([MONDAY]).with_columns(pl.col("time").dt.epoch("s"))
        ),
        SchemaError,
        words=("{file}", "timestamp column 'time' has type Int64", "expected Datetime"),
    ),
    Case(
        "text-time-parquet",
        "Parquet time as text that is not a timestamp",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY], time=["yesterday"])),
        TimestampParseError,
        phase="collect",
        words=("{file}", 'unparseable timestamp "yesterday"', "data row 1"),
    ),
    Case(
        "zone-names",
        "text stamps with time-zone names (not offsets)",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY], time=["2025-03-24 09:00 Europe/Berlin"])),
        TimestampParseError,
        phase="collect",
        words=("{file}", "Europe/Berlin", "accepted"),
    ),
    Case(
        "zoned-datetime-parquet",
        "a Parquet Datetime column in another zone",
        parquet(
            "EURUSD_M5_BID.parquet",
            frame([MONDAY]).with_columns(pl.col("time").dt.convert_time_zone("Asia/Tokyo")),
        ),
        rows=1,
        check=rows_equal([MONDAY]),
    ),
    Case(
        "0-row-parquet",
        "a Parquet file with no rows",
        parquet("EURUSD_M5_BID.parquet", frame([MONDAY]).clear()),
        rows=0,
    ),
    # --- Parquet bytes ---------------------------------------------------------------
    Case(
        "empty-parquet",
        "an empty Parquet file (0 bytes)",
        file("EURUSD_M5_BID.parquet", b""),
        FileFormatError,
        words=("{file}", "not a readable Parquet file", "12 bytes"),
    ),
    Case(
        "truncated-parquet",
        "a truncated Parquet file (first half)",
        mangled_parquet(lambda b: b[: len(b) // 2]),
        FileFormatError,
        words=("{file}", "not a readable Parquet file", "PAR1"),
    ),
    Case(
        "corrupt-footer",
        "a Parquet file with a corrupt footer",
        mangled_parquet(lambda b: b[:-40] + b"\xff" * 32 + b[-8:]),
        FileFormatError,
        words=("{file}", "not a readable Parquet file"),
    ),
    Case(
        "csv-named-parquet",
        "a CSV file named .parquet",
        file("EURUSD_M5_BID.parquet", HEADER + m5_rows(2)),
        FileFormatError,
        words=("{file}", "not a readable Parquet file"),
    ),
    # --- timestamps -------------------------------------------------------------------
    Case(
        "bad-timestamp",
        "an unreadable timestamp further down",
        file(
            "EURUSD_M5_BID.csv", HEADER + m5_rows(3) + "2025-03-24 25:00:00+00:00,1,2,0.5,1.5,3\n"
        ),
        TimestampParseError,
        phase="collect",
        words=("{file}", '"2025-03-24 25:00:00+00:00"', "column 'UTC time'", "data row 4 (line 5"),
    ),
    Case(
        "bad-first-timestamp",
        "an unreadable first timestamp",
        file("EURUSD_M5_BID.csv", HEADER + "24/03/2025 00:00,1,2,0.5,1.5,3\n"),
        TimestampParseError,
        words=("{file}", '"24/03/2025 00:00"', "accepted"),
    ),
    Case(
        "mixed-zones",
        "naive stamps and stamps with an offset in one column",
        file(
            "EURUSD_M5_BID.csv",
            HEADER + utc_row(MONDAY, "") + utc_row(MONDAY + timedelta(minutes=5)),
        ),
        TimestampParseError,
        phase="collect",
        words=("{file}", "mixed time zones", "data row 2", "data row 1", "has a UTC offset"),
    ),
    Case(
        "mixed-zones-parquet",
        "mixed naive and offset text stamps in Parquet",
        parquet(
            "EURUSD_M5_BID.parquet",
            frame([MONDAY] * 2, time=["2025-03-24 00:00+01:00", "2025-03-24 00:05"]),
        ),
        TimestampParseError,
        phase="collect",
        words=("{file}", "mixed time zones", "has no UTC offset"),
    ),
    Case(
        "mixed-offsets",
        "stamps with different offsets in one column (DST in the export)",
        file(
            "EURUSD_M5_BID.csv",
            HEADER
            + utc_row(MONDAY + timedelta(hours=1), "+01:00")
            + utc_row(MONDAY + timedelta(hours=2, minutes=5), "+02:00"),
        ),
        rows=2,
        check=rows_equal([MONDAY, MONDAY + timedelta(minutes=5)]),
    ),
    Case(
        "before-1970",
        "stamps before 1970",
        file("EURUSD_M5_BID.csv", HEADER + m5_rows(2, OLD)),
        rows=2,
        check=rows_equal([OLD, OLD + timedelta(minutes=5)]),
    ),
    Case(
        "after-2262",
        "stamps after 2262 (past datetime[ns])",
        file("EURUSD_M5_BID.csv", HEADER + m5_rows(2, LATE)),
        rows=2,
        check=rows_equal([LATE, LATE + timedelta(minutes=5)]),
    ),
    Case(
        "duplicates",
        "a timestamp twice",
        file("EURUSD_M5_BID.csv", HEADER + m5_rows(2) + m5_rows(1)),
        warns=DuplicateTimestampsWarning,
        phase="collect",
        rows=2,
        words=("{file}", "dropped 1 row(s) with a duplicate timestamp"),
    ),
    # --- timeframes -------------------------------------------------------------------
    Case(
        "h1-named-m5",
        "an H1 file named ..._M5_...",
        file("EURUSD_M5_BID.csv", HEADER + H1_DAY),
        warns=TimeframeMismatchWarning,
        phase="collect",
        rows=24,
        words=("{file}", "does not look like M5", "is the file H1?"),
    ),
    Case(
        "m1-named-m5",
        "an M1 file named ..._M5_...",
        file("EURUSD_M5_BID.csv", HEADER + m5_rows(30, step=timedelta(minutes=1))),
        warns=TimeframeMismatchWarning,
        phase="collect",
        rows=30,
        words=("{file}", "does not look like M5", "is the file M1?"),
    ),
    # --- bid and ask --------------------------------------------------------------------
    Case(
        "bid-without-ask",
        "a bid file without its ask",
        symbol_root(m5_rows(3), None),
        CandleFileNotFoundError,
        load=load_symbol,
        words=("no ASK file for EURUSD M5", "{file}/EURUSD_M5_ASK.parquet"),
    ),
    Case(
        "no-common-bar",
        "bid and ask without a common bar",
        symbol_root(m5_rows(3), m5_rows(3, MONDAY + timedelta(minutes=2))),
        warns=NoCommonBarsWarning,
        phase="collect",
        load=load_symbol,
        rows=0,
        words=(
            "EURUSD M5",
            "no bar in common",
            "bid: 3 bar(s), 2025-03-24 00:00 .. 2025-03-24 00:10",
            "ask: 3 bar(s)",
        ),
    ),
]


def run(case: Case, d: Path) -> tuple[Path, Phase, BaseException | pl.DataFrame, list[str]]:
    """Loads the case's input; returns (path named, phase reached, error or frame, warnings)."""
    path, named = case.make(d)
    phase: Phase = "call"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            thunk = case.load(path)
            phase = "collect"
            result: BaseException | pl.DataFrame = thunk()
        except Exception as exc:
            result = exc
    messages = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if issubclass(w.category, omega_pl.errors.CandleDataWarning)
    ]
    return named, phase, result, messages


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    named, phase, result, caught = run(case, tmp_path)
    words = [w.replace("{file}", str(named)) for w in case.words]
    if case.raises is not None:
        assert isinstance(result, case.raises), repr(result)
        assert isinstance(result, OmegaError)
        assert phase == case.phase, f"raised at {phase}, expected at {case.phase}"
        message = str(result)
        if case.raises is not ParameterError:
            assert str(named) in message, message
        for word in words:
            assert word in message, f"{word!r} not in {message!r}"
        return
    assert isinstance(result, pl.DataFrame), repr(result)
    assert result.schema.names()[0] == "time"
    if case.rows is not None:
        assert result.height == case.rows
    if case.check is not None:
        case.check(result)
    if case.warns is None:
        assert not caught, caught
        return
    mine = [m for m in caught if m.startswith(f"{case.warns.__name__}: ")]
    assert mine, caught
    for word in words:
        assert any(word in m for m in mine), f"{word!r} not in {mine}"


def test_unreadable_file_is_a_file_read_error(tmp_path: Path) -> None:
    """No read permission. Root reads anything, so as root the check runs in a
    child process that drops to user ``nobody`` first."""
    if os.geteuid() != 0:
        path = tmp_path / "EURUSD_M5_BID.csv"
        path.write_text(HEADER)
        path.chmod(0)
        with pytest.raises(FileReadError, match=r"cannot read the file: permission denied"):
            omega_pl.scan_candles(path)
        return
    base = Path(tempfile.mkdtemp(prefix="omega-perm-", dir="/tmp"))
    try:
        base.chmod(0o755)
        path = base / "EURUSD_M5_BID.csv"
        path.write_text(HEADER)
        path.chmod(0)
        code = textwrap.dedent(f"""
            import os, omega_pl
            os.setgid(65534); os.setuid(65534)
            try:
                omega_pl.scan_candles({str(path)!r})
            except Exception as exc:
                print(type(exc).__name__ + ": " + str(exc))
        """)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
        ).stdout.strip()
        assert out == f"FileReadError: {path}: cannot read the file: permission denied", out
    finally:
        path.unlink(missing_ok=True)
        base.rmdir()


def markdown_table() -> str:
    """The table as Markdown, for the README's *Errors* section."""
    lines = [
        "| Input | Result | When | The message says |",
        "| --- | --- | --- | --- |",
    ]
    rows = [*CASES[:9], PERMISSION, *CASES[9:]]
    for case in rows:
        if case.raises is not None:
            result = f"`{case.raises.__name__}`"
        elif case.warns is not None:
            result = f"loads, `{case.warns.__name__}`"
        else:
            result = "loads" + (f" ({case.rows} rows)" if case.rows == 0 else "")
        when = "call" if case.raises is not None and case.phase == "call" else "`collect()`"
        if case.raises is None and case.warns is None:
            when = "—"
        said = [w.replace("{file}", "the file") for w in case.words]
        says = "; ".join(f"`{w}`" if w != "the file" else w for w in said) or "—"
        lines.append(f"| {case.what} | {result} | {when} | {says} |")
    return "\n".join(lines)


#: The unreadable-file row of the table (its test is a function of its own).
PERMISSION = Case(
    "permission",
    "a file without read permission",
    directory,
    FileReadError,
    words=("{file}", "cannot read the file: permission denied"),
)


if __name__ == "__main__":
    print(markdown_table())


# ---------------------------------------------------------------------------
# any bytes: a frame or a typed error naming the file, never anything else

#: Valid files to mutate: the README's layouts, with BOM, CRLF, quotes, separators.
VALID_FILES = [
    (HEADER + m5_rows(6)).encode(),
    ("\ufeffGmt time;Open;High;Low;Close;Volume\r\n" + "".join(
        f"24.03.2025 00:{5 * k:02d}:00.000;1.1;1.2;1.0;1.1;{k}\r\n" for k in range(6)
    )).encode(),
    ('"time","open","high","low","close","volume"\n' + "".join(
        f'"2025-03-24T00:{5 * k:02d}:00Z","1.1","1.2","1.0","1.1","{k}"\n' for k in range(6)
    )).encode(),
    (",Open,High,Low,Close,Tick Volume\n" + "".join(
        f"2025.03.24 00:{5 * k:02d},1.1,1.2,1.0,1.1,{k}\n" for k in range(6)
    )).encode(),
    ("Date\tOpen\tHigh\tLow\tClose\tVolume\n" + "".join(
        f"2025-03-{24 + k}\t1.1\t1.2\t1.0\t1.1\t{k}\n" for k in range(4)
    )).encode(),
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid file with a few random edits: bytes replaced, inserted (any byte,
    UTF-8 or not), deleted, lines duplicated or cut."""
    data = bytearray(draw(st.sampled_from(VALID_FILES)))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "repeat"]))
        if op == "replace" and at < len(data):
            data[at] = draw(st.sampled_from([*b',;\t"\r\n .:-+0Z', *range(256)]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 60))]
    return bytes(data)


def assert_loads_or_names_file(make_frame: Callable[[], pl.DataFrame], path: Path) -> None:
    """``make_frame()`` gives a candle frame, or an ``OmegaError`` naming ``path``."""
    error: OmegaError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", omega_pl.errors.CandleDataWarning)
            df = make_frame()
    except OmegaError as exc:
        error = exc
    if error is not None:
        event(type(error).__name__)
        assert str(path) in str(error), repr(error)
    else:
        event(f"loaded {'no' if df.height == 0 else 'some'} rows")
        assert df.columns[0] == "time"


#: A few seconds in the normal run (fixed examples); OMEGA_FUZZ_EXAMPLES=5000 explores
#: further, with fresh random examples each run (docs/FUZZING.md).
EXAMPLES = int(os.environ.get("OMEGA_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(max_examples=EXAMPLES or 60, deadline=None, derandomize=not EXAMPLES)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=600), mutated()), suffix=st.sampled_from([".csv", ".txt"]))
def test_any_csv_bytes_load_or_raise_a_typed_error(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"EURUSD_M5_BID{suffix}"
        path.write_bytes(data)
        assert_loads_or_names_file(lambda: omega_pl.scan_candles(path).collect(), path)


@SETTINGS
@given(data=st.binary(max_size=400), cut=st.integers(0, 4000))
def test_any_parquet_bytes_load_or_raise_a_typed_error(data: bytes, cut: int) -> None:
    """Arbitrary bytes, and a valid file cut short, named .parquet."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "EURUSD_M5_BID.parquet"
        for body in (data, good_parquet(path)[:cut]):
            path.write_bytes(body)
            assert_loads_or_names_file(lambda: omega_pl.scan_candles(path).collect(), path)


@SETTINGS
@given(bid=mutated())
def test_mutated_bid_through_scan_symbol(bid: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        symbol_root(m5_rows(6), m5_rows(6))(root)
        path = root / "EURUSD" / "EURUSD_M5_BID.csv"
        path.write_bytes(bid)
        assert_loads_or_names_file(lambda: load_symbol(root)(), path)


@settings(max_examples=EXAMPLES // 10 or 30, deadline=None, derandomize=not EXAMPLES)
@given(data=st.one_of(st.binary(max_size=300), mutated()))
def test_any_bytes_through_omega_load(data: bytes) -> None:
    """The CLI: exit 0, or exit 2 with one ``error:`` line naming the file; never a bug."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "EURUSD_M5_BID.csv"
        path.write_bytes(data)
        result = invoke("load", path, "--no-market-hours")
        if result.exit_code == 0:
            return
        line = assert_user_error(result, stdout_empty=False)
        assert str(path) in line, line
