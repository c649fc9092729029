"""The streaming candle CSV reader (``omega_pl._csv``): layouts, pushdown, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Literal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_pl
from omega_pl import CANDLE_SCHEMA, ParameterError, SchemaError, TimestampParseError
from omega_pl import io as omega_io
from omega_pl._csv import scan_candle_csv
from omega_pl._plugins import CandleCsvReader
from omega_pl.datasets import synthetic_candles
from tests.test_io import candles, utc, write_csv_with_bad_timestamp, write_native_csv

Engine = Literal["in-memory", "streaming"]
ENGINES: list[Engine] = ["in-memory", "streaming"]
NATIVE = ["UTC time", "Open", "High", "Low", "Close", "Volume"]


def scan(path: Path, **kwargs: int) -> pl.LazyFrame:
    """The batch reader as ``omega_pl.io`` sets it up from the header, without
    its early check of the first timestamp (so the reader's own errors show)."""
    return omega_io._candle_csv_scan(path, check_first_row=False, **kwargs)


def polars_scan(path: Path) -> pl.LazyFrame:
    """The same file through Polars' CSV reader and the Rust timestamp parser.

    This was ``scan_candles``' CSV path before the batch reader; it stays here
    as an independent reference (and as the benchmarks' baseline).
    """
    header, sep, _ = omega_io._sniff_csv(path)
    layout = omega_io._find_layout(header, path)
    overrides: dict[str, pl.DataType] = {layout.time: pl.String()}
    overrides.update({raw: pl.Float64() for raw in layout.values.values()})
    lf = pl.scan_csv(path, separator=sep, schema_overrides=overrides, encoding="utf8-lossy")
    return lf.select(
        omega_io._parse_text_timestamps(layout.time).alias("time"),
        *(pl.col(layout.values[c]).alias(c) for c in omega_pl.OHLCV),
    )


def polars_reference(path: Path) -> pl.DataFrame:
    """:func:`polars_scan`, collected."""
    return polars_scan(path).collect()


def native_text(df: pl.DataFrame) -> str:
    """``df`` in the native layout as CSV text (LF line ends, trailing newline)."""
    out = df.select(
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S+00:00").alias("UTC time"),
        *(pl.col(c).alias(c.capitalize()) for c in omega_pl.OHLCV),
    )
    return out.write_csv()


DAY = candles(utc(2025, 4, 7), 288)  # one Monday of M5 bars, sorted and unique


@pytest.mark.parametrize("engine", ENGINES)
def test_native_layout_equals_polars_reader(tmp_path: Path, engine: Engine) -> None:
    frame = synthetic_candles(5000, seed=3, missing_ratio=0.05)
    bid = frame.select("time", *(pl.col(f"bid_{c}").alias(c) for c in omega_pl.OHLCV))
    path = write_native_csv(bid, tmp_path / "EURUSD_M1_BID.csv")
    got = scan(path).collect(engine=engine)
    assert got.schema == CANDLE_SCHEMA
    assert got.equals(polars_reference(path))
    assert got.equals(bid)


def test_gmt_time_layout_and_semicolons(tmp_path: Path) -> None:
    gmt = DAY.select(
        pl.col("time").dt.strftime("%d.%m.%Y %H:%M:%S.000").alias("Gmt time"),
        *(pl.col(c).alias(c.capitalize()) for c in omega_pl.OHLCV),
    )
    path = tmp_path / "dukascopy.csv"
    gmt.write_csv(path)
    assert scan(path).collect().equals(polars_reference(path))
    assert scan(path).collect().equals(DAY)
    # ';' separator, an index column first, columns in another order.
    other = DAY.select(
        pl.int_range(pl.len()).alias(""),
        pl.col("volume").alias("Vol"),
        pl.col("time").dt.strftime("%Y.%m.%d %H:%M").alias("timestamp"),
        "close",
        "open",
        "low",
        "high",
    )
    path = tmp_path / "semi.csv"
    other.write_csv(path, separator=";")
    assert scan(path).collect().equals(polars_reference(path))
    assert scan(path).collect().equals(DAY)


def _quote_all(text: str) -> str:
    return "".join(",".join(f'"{f}"' for f in line.split(",")) + "\n" for line in text.splitlines())


@pytest.mark.parametrize(
    ("transform", "polars_reads_it"),
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), True, id="crlf"),
        pytest.param(lambda t: "\ufeff" + t, True, id="bom"),
        pytest.param(lambda t: t.rstrip("\n"), True, id="no-trailing-newline"),
        pytest.param(lambda t: "\ufeff" + t.replace("\n", "\r\n").rstrip(), True, id="all"),
        pytest.param(_quote_all, True, id="quoted"),
        # Polars' CSV reader rejects " 1.1 " as a Float64; this reader trims it.
        pytest.param(lambda t: t.replace(",", " , "), False, id="blanks-around-fields"),
    ],
)
def test_text_variants_equal_polars_reader(
    tmp_path: Path, transform: Callable[[str], str], polars_reads_it: bool
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(transform(native_text(DAY)).encode())
    got = scan(path).collect()
    assert got.equals(DAY)
    if polars_reads_it:
        assert got.equals(polars_reference(path))


def test_quoted_field_with_separator_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "note,time,open,high,low,close,volume\n"
        '"a, b",2025-04-07 00:00:00,1,2,0.5,1.5,3\n'
        "\n"
        '"say ""hi""","2025-04-07 00:05:00","1.25",2,0.5,1.5,4\r\n'
        "   \n"
    )
    got = scan(path).collect()
    assert got["time"].to_list() == [utc(2025, 4, 7), utc(2025, 4, 7, 0, 5)]
    assert got["open"].to_list() == [1.0, 1.25]
    assert got["volume"].to_list() == [3.0, 4.0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("body", ["", "\n", "\n\n\r\n"])
def test_header_only_is_an_empty_frame(tmp_path: Path, engine: Engine, body: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(",".join(NATIVE) + body)
    got = scan(path).collect(engine=engine)
    assert got.schema == CANDLE_SCHEMA and got.height == 0
    if body == "\n":  # (Polars' reader takes the "\r" line of the last case for a row)
        assert polars_reference(path).schema == got.schema and polars_reference(path).height == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_batches_do_not_change_the_result(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "x.csv"
    path.write_text(native_text(DAY.head(100)))
    one = scan(path, batch_rows=1000).collect(engine=engine)
    for rows in (1, 7, 99, 100):
        assert scan(path, batch_rows=rows).collect(engine=engine).equals(one)
    reader = CandleCsvReader(path, ",", 0, [1, 2, 3, 4, 5], NATIVE, 7)
    sizes = []
    while (batch := reader.next_batch()) is not None:
        assert batch.schema == CANDLE_SCHEMA
        sizes.append(batch.height)
    assert sizes == [7] * 14 + [2]
    assert reader.next_batch() is None


@settings(max_examples=60, deadline=None)
@given(
    endings=st.lists(
        st.sampled_from(["\n", "\r\n", "\n\n", "\r\n \r\n"]), min_size=30, max_size=30
    ),
    batch_rows=st.integers(1, 40),
    separator=st.sampled_from([",", ";", "\t"]),
    last_newline=st.booleans(),
)
def test_any_line_endings_and_batches_give_the_same_rows(
    tmp_path_factory: pytest.TempPathFactory,
    endings: list[str],
    batch_rows: int,
    separator: str,
    last_newline: bool,
) -> None:
    rows = DAY.head(30)
    lines = native_text(rows).replace(",", separator).splitlines()
    text = (
        lines[0] + "\n" + "".join(line + end for line, end in zip(lines[1:], endings, strict=True))
    )
    if not last_newline:
        text = text.rstrip("\r\n ")
    path = tmp_path_factory.mktemp("endings") / "x.csv"
    path.write_text(text, newline="")
    assert scan(path, batch_rows=batch_rows).collect().equals(rows)


def test_file_larger_than_the_read_buffer(tmp_path: Path) -> None:
    # ~9 MiB: the 2 MiB read buffer is refilled several times, cutting lines at its edges.
    frame = candles(utc(2020, 1, 6), 200_000, timedelta(minutes=1))
    path = write_native_csv(frame, tmp_path / "big.csv")
    assert path.stat().st_size > 8 << 20
    assert scan(path, batch_rows=50_000).collect().equals(frame)
    # A bad value after the second refill still names its row.
    text = path.read_text().splitlines(keepends=True)
    text[190_001] = text[190_001].replace(",1", ",x1", 1)
    path.write_text("".join(text))
    with pytest.raises(SchemaError, match="at data row 190001 "):
        scan(path).collect()


def test_line_longer_than_the_read_buffer(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "time,open,high,low,close,volume,comment\n"
        "2025-04-07 00:00:00,1,2,0.5,1.5,3,short\n"
        "2025-04-07 00:05:00,1,2,0.5,1.5,4," + "x" * (9 << 20) + "\n"
        "2025-04-07 00:10:00,1,2,0.5,1.5,5,short\n"
    )
    got = scan(path).collect()
    assert got["volume"].to_list() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize("engine", ENGINES)
def test_predicate_pushdown(tmp_path: Path, engine: Engine) -> None:
    path = write_native_csv(DAY, tmp_path / "x.csv")
    lo, hi = utc(2025, 4, 7, 6), utc(2025, 4, 7, 12)
    lf = scan(path, batch_rows=10).filter(
        (pl.col("time") >= lo) & (pl.col("time") < hi) & (pl.col("volume") > 11)
    )
    want = DAY.filter((pl.col("time") >= lo) & (pl.col("time") < hi) & (pl.col("volume") > 11))
    assert want.height > 0
    assert lf.collect(engine=engine).equals(want)
    # The filter reached the source (it is not left as a separate step above it).
    plan = lf.explain()
    assert "FILTER" not in plan and "SELECTION" in plan
    # Projection of a column the predicate does not use.
    got = lf.select("close").collect(engine=engine)
    assert got.equals(want.select("close"))


@pytest.mark.parametrize("engine", ENGINES)
def test_head_and_projection(tmp_path: Path, engine: Engine) -> None:
    path = write_native_csv(DAY, tmp_path / "x.csv")
    lf = scan(path, batch_rows=16)
    assert lf.head(5).collect(engine=engine).equals(DAY.head(5))
    assert lf.head(40).collect(engine=engine).equals(DAY.head(40))
    assert lf.head(0).collect(engine=engine).schema == CANDLE_SCHEMA
    got = lf.select("volume", "time").collect(engine=engine)
    assert got.equals(DAY.select("volume", "time"))
    late = utc(2025, 4, 7, 20)
    got = lf.filter(pl.col("time") > late).head(3).collect(engine=engine)
    assert got.equals(DAY.filter(pl.col("time") > late).head(3))
    # Collecting twice reads the file twice, with the same result.
    assert lf.collect().equals(lf.collect())


def test_bad_timestamp_deep_in_a_large_file_names_its_row(tmp_path: Path) -> None:
    path = write_csv_with_bad_timestamp(tmp_path / "big.csv")
    for engine in ENGINES:
        with pytest.raises(TimestampParseError) as err:
            scan(path, batch_rows=4096).collect(engine=engine)
        assert str(err.value).startswith(
            f"{path}: unparseable timestamp \"2025-99-01 00:00:00\" in column 'time' "
            "at data row 40001 (line 40002 of the file)"
        )
    # Rows before the bad one can still be read.
    assert scan(path).head(40_000).collect().height == 40_000


@pytest.mark.parametrize(
    ("line", "exc", "message"),
    [
        (
            "2025-04-07 00:10:00,1,2,abc,1.5,1",
            SchemaError,
            "unparseable number \"abc\" in column 'Low'",
        ),
        ("2025-04-07 00:10:00,1,2,0.5,,1", SchemaError, "empty value in column 'Close'"),
        ("2025-04-07 00:10:00,1,2", SchemaError, "line has 3 field(s) but column 'Low' needs 6"),
        ("07/04/2025 00:10,1,2,0.5,1.5,1", TimestampParseError, 'timestamp "07/04/2025 00:10"'),
    ],
)
def test_bad_lines_name_file_column_row_and_value(
    tmp_path: Path, line: str, exc: type[Exception], message: str
) -> None:
    path = tmp_path / "x.csv"
    good = "2025-04-07 00:00:00,1,2,0.5,1.5,1\n"
    path.write_text("Time,Open,High,Low,Close,Volume\n" + good + "\n" + good + line + "\n" + good)
    with pytest.raises(exc) as err:
        scan(path).collect()
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text, text
    assert "at data row 4 (line 5 of the file)" in text, text
    assert isinstance(err.value, ValueError)


def test_reader_and_scan_argument_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(native_text(DAY.head(3)))
    good = {"time_index": 0, "value_indices": [1, 2, 3, 4, 5], "names": NATIVE}
    with pytest.raises(ParameterError, match="separator"):
        scan_candle_csv(path, separator=",,", **good)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="quote or newline"):
        scan_candle_csv(path, separator='"', **good)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="value_indices"):
        scan_candle_csv(path, separator=",", time_index=0, value_indices=[1, 2], names=NATIVE)
    with pytest.raises(ParameterError, match="names"):
        scan_candle_csv(path, separator=",", time_index=0, value_indices=[1, 2, 3, 4, 5], names=[])
    with pytest.raises(ParameterError, match="distinct"):
        scan_candle_csv(
            path, separator=",", time_index=0, value_indices=[1, 2, 3, 4, 0], names=NATIVE
        )
    with pytest.raises(ParameterError, match="batch_rows"):
        scan_candle_csv(path, separator=",", batch_rows=0, **good)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        CandleCsvReader(tmp_path / "nope.csv", ",", 0, [1, 2, 3, 4, 5], NATIVE, 10)
    with pytest.raises(ValueError, match="two candle columns"):
        CandleCsvReader(path, ",", 0, [1, 1, 3, 4, 5], NATIVE, 10)
    with pytest.raises(ValueError, match="one ASCII character"):
        CandleCsvReader(path, "é", 0, [1, 2, 3, 4, 5], NATIVE, 10)
    # A missing file fails at collect(), like any scan.
    lf = scan_candle_csv(tmp_path / "gone.csv", separator=",", **good)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        lf.collect()
