"""MultiSymbolSlicer and SymbolSlicer against the plain-Python reference of SPEC §6."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import omega_pl
from omega_pl import (
    Candle,
    DuplicateTimestampsWarning,
    MultiSymbolSlicer,
    ParameterError,
    SchemaError,
    SymbolSlicer,
    TimeframeError,
    TimelineError,
)
from omega_pl.datasets import generate_candles, synthetic_candles
from omega_pl.slicer import multi as slicer_module
from tests import slicer_reference as ref

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
HOWS = ("intersection", "union")


def _drop_random(frame: pl.DataFrame, seed: int, rate: float) -> pl.DataFrame:
    keep = np.random.default_rng(seed).random(frame.height) >= rate
    return frame.filter(pl.Series(keep))


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    """M5 candles over the sample span (weekends; Sydney DST ends 2025-04-06), each
    symbol with its own holes; XAUUSD starts a day later and ends two days earlier."""
    out = {}
    for i, symbol in enumerate(SYMBOLS):
        frame = _drop_random(generate_candles(symbol, "M5", seed=i), seed=100 + i, rate=0.03)
        if symbol == "XAUUSD":
            frame = frame.filter(
                pl.col("time").is_between(
                    datetime(2025, 3, 18, tzinfo=UTC), datetime(2025, 4, 16, tzinfo=UTC)
                )
            )
        out[symbol] = frame
    return out


@pytest.fixture(scope="module")
def tables(frames: dict[str, pl.DataFrame]) -> dict[str, dict[datetime, ref.Row]]:
    return {s: ref.by_timestamp(f.iter_rows(named=True)) for s, f in frames.items()}


def _as_ref(candle: Candle | None) -> ref.RefCandle | None:
    return None if candle is None else candle.as_tuple()


def _steps(slicer: MultiSymbolSlicer, batch_size: int) -> Iterator[omega_pl.MultiSymbolSlice]:
    for batch in slicer.iter_batches(batch_size):
        yield from batch.slices()


def _check_steps(
    slicer: MultiSymbolSlicer,
    tables: dict[str, dict[datetime, ref.Row]],
    expected: list[datetime],
    batch_size: int,
) -> None:
    n = 0
    for n, step in enumerate(_steps(slicer, batch_size), start=1):
        ts = expected[step.index]
        assert step.index == n - 1
        assert step.timestamp == ts
        want = ref.multi_symbol_slice(tables, ts)
        for symbol in SYMBOLS:
            for side in ref.SIDES:
                assert _as_ref(step.get(symbol, side)) == want[symbol][side], (ts, symbol, side)
    assert n == len(expected)


# ---------------------------------------------------------------------------
# timeline and wide frame against the reference


@pytest.mark.parametrize("how", HOWS)
def test_timeline_matches_reference(
    frames: dict[str, pl.DataFrame], tables: dict[str, dict[datetime, ref.Row]], how: str
) -> None:
    slicer = MultiSymbolSlicer(frames, how=how)  # type: ignore[arg-type]
    expected = ref.common_timestamps(tables, how)
    assert slicer.timeline.to_list() == expected
    assert len(slicer) == len(expected)
    assert slicer.timeline.dtype == pl.Datetime("us", "UTC")
    # the span crosses weekends and the Sydney DST change
    assert expected[0] < datetime(2025, 4, 6, tzinfo=UTC) < expected[-1]
    steps = np.diff(np.array([t.timestamp() for t in expected]))
    assert steps.max() > 40 * 3600


@pytest.mark.parametrize("how", HOWS)
def test_wide_frame_matches_reference(
    frames: dict[str, pl.DataFrame], tables: dict[str, dict[datetime, ref.Row]], how: str
) -> None:
    slicer = MultiSymbolSlicer(frames, how=how)  # type: ignore[arg-type]
    columns = {s: [c for c in f.columns if c != "time"] for s, f in frames.items()}
    expected_rows = [ref.wide_row(tables, ts, columns) for ts in ref.common_timestamps(tables, how)]
    wide = slicer.frame
    assert wide.columns[:3] == ["time", "EURUSD_bid_open", "EURUSD_bid_high"]
    assert slicer.column("GBPUSD", "close", "ask") == "GBPUSD_ask_close"
    assert slicer.column("GBPUSD", "ema", None) == "GBPUSD_ema"
    expected = pl.DataFrame(expected_rows, schema=wide.schema, orient="row")
    assert_frame_equal(wide, expected)
    if how == "intersection":
        assert wide.null_count().sum_horizontal().item() == 0
    else:  # missing is explicit: null, never carried forward
        assert wide.null_count().sum_horizontal().item() > 0


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_slices_match_reference(
    frames: dict[str, pl.DataFrame],
    tables: dict[str, dict[datetime, ref.Row]],
    how: str,
    lazy: bool,
) -> None:
    inputs = {s: f.lazy() if lazy else f for s, f in frames.items()}
    slicer = MultiSymbolSlicer(inputs, how=how)  # type: ignore[arg-type]
    _check_steps(slicer, tables, ref.common_timestamps(tables, how), 4096)


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("batch_size", [1, 7, 100_000])
def test_batch_boundaries(
    frames: dict[str, pl.DataFrame],
    tables: dict[str, dict[datetime, ref.Row]],
    how: str,
    batch_size: int,
) -> None:
    small = {s: f.head(1500) for s, f in frames.items()}
    small_tables = {s: ref.by_timestamp(f.iter_rows(named=True)) for s, f in small.items()}
    expected = ref.common_timestamps(small_tables, how)
    eager = MultiSymbolSlicer(small, how=how)  # type: ignore[arg-type]
    lazy = MultiSymbolSlicer({s: f.lazy() for s, f in small.items()}, how=how)  # type: ignore[arg-type]
    for slicer in (eager, lazy):
        batches = list(slicer.iter_batches(batch_size))
        sizes = [len(b) for b in batches]
        assert sum(sizes) == len(expected)
        assert all(size == batch_size for size in sizes[:-1])
        assert 1 <= sizes[-1] <= batch_size
        assert [b.offset for b in batches] == [batch_size * k for k in range(len(batches))]
        assert_frame_equal(pl.concat([b.frame for b in batches]), eager.frame)
        _check_steps(slicer, small_tables, expected, batch_size)


def test_lazy_streaming_with_chunks_smaller_than_history(frames: dict[str, pl.DataFrame]) -> None:
    """Several input chunks per symbol (mixed DataFrame/LazyFrame inputs) give the eager result."""
    long = {
        s: pl.concat([f] * 3).with_columns(
            pl.col("time") + pl.duration(days=pl.int_range(pl.len()) // f.height * 70)
        )
        for s, f in frames.items()
    }
    mixed = {s: f.lazy() if i % 2 else f for i, (s, f) in enumerate(long.items())}
    for how in HOWS:
        eager = MultiSymbolSlicer(long, how=how)  # type: ignore[arg-type]
        streamed = MultiSymbolSlicer(mixed, how=how)  # type: ignore[arg-type]
        got = pl.concat([b.frame for b in streamed.iter_batches(5000)])
        assert got.height > 3 * 4096
        assert_frame_equal(got, eager.frame)
        assert_frame_equal(streamed.timeline.to_frame(), eager.timeline.to_frame())


# ---------------------------------------------------------------------------
# property: any timestamps, any chunking


def _frame_from_times(times: list[int], base: float) -> pl.DataFrame:
    """Rows at ``times`` (µs, file order kept); values tell rows apart, so 'last wins' shows."""
    values = [base + k for k in range(len(times))]
    return pl.DataFrame(
        {
            "time": pl.Series(times, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            **{f"{side}_{f}": values for side in ref.SIDES for f in ref.FIELDS},
        }
    )


@st.composite
def _symbol_times(draw: st.DrawFn) -> dict[str, list[int]]:
    # a regular minute grid (dense counting path) or tick-like µs stamps (sorting path)
    unit = draw(st.sampled_from([60_000_000, 1]))
    pool = st.integers(min_value=0, max_value=draw(st.integers(5, 60)))
    count = draw(st.integers(1, 4))
    out = {}
    for k in range(count):
        keys = sorted(draw(st.lists(pool, min_size=1, max_size=40)))  # repeats = duplicates
        out[f"S{k}"] = [1_700_000_000_000_000 + v * unit * (1 if unit > 1 else 7919) for v in keys]
    return out


@settings(max_examples=150, deadline=None)
@given(_symbol_times(), st.sampled_from(HOWS), st.integers(1, 5), st.integers(1, 9))
def test_property_streaming_matches_reference(
    symbol_times: dict[str, list[int]], how: str, chunk: int, batch_size: int
) -> None:
    frames = {s: _frame_from_times(t, 10.0 * i) for i, (s, t) in enumerate(symbol_times.items())}
    tables = {s: ref.by_timestamp(f.iter_rows(named=True)) for s, f in frames.items()}
    expected = ref.common_timestamps(tables, how)
    columns = {s: [c for c in f.columns if c != "time"] for s, f in frames.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DuplicateTimestampsWarning)
        if not expected:
            with pytest.raises(TimelineError):
                MultiSymbolSlicer(frames, how=how)  # type: ignore[arg-type]
            return
        eager = MultiSymbolSlicer(frames, how=how)  # type: ignore[arg-type]
        want = pl.DataFrame(
            [ref.wide_row(tables, ts, columns) for ts in expected],
            schema=eager.frame.schema,
            orient="row",
        )
        assert_frame_equal(eager.frame, want)
        lazy = MultiSymbolSlicer({s: f.lazy() for s, f in frames.items()}, how=how)  # type: ignore[arg-type]
        with pytest.MonkeyPatch.context() as mp:  # tiny chunks: many merge rounds
            mp.setattr(slicer_module, "_MIN_CHUNK", chunk)
            mp.setattr(slicer_module, "_MAX_CHUNK", chunk)
            mixed = {s: (f if i % 2 else f.lazy()) for i, (s, f) in enumerate(frames.items())}
            for slicer in (lazy, MultiSymbolSlicer(mixed, how=how)):  # type: ignore[arg-type]
                batches = list(slicer.iter_batches(batch_size))
                assert_frame_equal(pl.concat([b.frame for b in batches]), want)
                step = next(batches[0].slices())
                got = {s: step.get(s, "ask") for s in frames}
                assert {s: _as_ref(c) for s, c in got.items()} == {
                    s: v["ask"] for s, v in ref.multi_symbol_slice(tables, expected[0]).items()
                }


# ---------------------------------------------------------------------------
# errors


def test_bad_how(frames: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(ParameterError, match="'intersection' or 'union'"):
        MultiSymbolSlicer(frames, how="outer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="how"):
        MultiSymbolSlicer(frames, how="left")  # type: ignore[arg-type]


def test_empty_intersection_names_symbols_and_ranges(frames: dict[str, pl.DataFrame]) -> None:
    march = frames["EURUSD"].filter(pl.col("time") < datetime(2025, 3, 22, tzinfo=UTC))
    april = frames["GBPUSD"].filter(pl.col("time") > datetime(2025, 4, 1, tzinfo=UTC))
    inputs = {"EURUSD": march, "GBPUSD": april}
    pattern = r"EURUSD: 2025-03-17T00:00:00\+00:00 … 2025-03-21.*GBPUSD: 2025-04-01"
    with pytest.raises(TimelineError, match=pattern):
        MultiSymbolSlicer(inputs)
    lazy = MultiSymbolSlicer({s: f.lazy() for s, f in inputs.items()})
    with pytest.raises(TimelineError, match=pattern):
        len(lazy)
    with pytest.raises(TimelineError, match=pattern):
        list(lazy.iter_batches())
    with pytest.raises(TimelineError, match=pattern):
        _ = lazy.frame
    union = MultiSymbolSlicer(inputs, how="union")
    assert len(union) == march.height + april.height


def test_symbol_without_rows_is_named(frames: dict[str, pl.DataFrame]) -> None:
    inputs = {"EURUSD": frames["EURUSD"], "GBPUSD": frames["GBPUSD"].clear()}
    for how in HOWS:
        with pytest.raises(TimelineError, match="'GBPUSD' has no rows"):
            MultiSymbolSlicer(inputs, how=how)  # type: ignore[arg-type]
        lazy = MultiSymbolSlicer({s: f.lazy() for s, f in inputs.items()}, how=how)  # type: ignore[arg-type]
        with pytest.raises(TimelineError, match="'GBPUSD' has no rows"):
            list(lazy.iter_batches())
        with pytest.raises(TimelineError, match="'GBPUSD' has no rows"):
            lazy.timeline  # noqa: B018


def test_input_validation(frames: dict[str, pl.DataFrame]) -> None:
    eu = frames["EURUSD"]
    with pytest.raises(ParameterError, match="at least one symbol"):
        MultiSymbolSlicer({})
    with pytest.raises(ParameterError, match="non-empty strings"):
        MultiSymbolSlicer({"": eu})
    with pytest.raises(SchemaError, match="no 'time' column"):
        MultiSymbolSlicer({"EURUSD": eu.drop("time")})
    with pytest.raises(SchemaError, match="type"):
        MultiSymbolSlicer({"EURUSD": eu.with_columns(pl.col("time").cast(pl.Int64))})
    with pytest.raises(SchemaError, match="missing column"):
        MultiSymbolSlicer({"EURUSD": eu}, columns=["bid_close", "mid"])
    with pytest.raises(SchemaError, match="null"):
        MultiSymbolSlicer(
            {"EURUSD": eu.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("time"))}
        )
    with pytest.raises(ParameterError, match="'A_B_x'"):
        MultiSymbolSlicer(
            {
                "A": eu.select("time", pl.col("bid_close").alias("B_x")),
                "A_B": eu.select("time", pl.col("bid_close").alias("x")),
            }
        )
    with pytest.raises(ParameterError, match="batch_size"):
        MultiSymbolSlicer({"EURUSD": eu}).iter_batches(0)


# ---------------------------------------------------------------------------
# input normalisation


def test_unsorted_and_duplicate_rows(frames: dict[str, pl.DataFrame]) -> None:
    eu, gb = frames["EURUSD"], frames["GBPUSD"]
    dup = eu.head(50).with_columns(pl.col("bid_close") + 1.0)  # later rows win
    messy = pl.concat([eu, dup]).sample(fraction=1.0, shuffle=True, seed=3)
    # rows sorted by time with duplicates: stable sort keeps file order among equals
    clean = pl.concat([eu.slice(50), dup]).sort("time")
    with pytest.warns(DuplicateTimestampsWarning, match="EURUSD: 50 row"):
        got = MultiSymbolSlicer({"EURUSD": pl.concat([eu, dup]), "GBPUSD": gb}).frame
    assert_frame_equal(got, MultiSymbolSlicer({"EURUSD": clean, "GBPUSD": gb}).frame)
    # shuffled: sorted for you (which of the equal timestamps is "last" follows the given order)
    shuffled = MultiSymbolSlicer({"EURUSD": messy.unique("time", keep="last"), "GBPUSD": gb})
    assert shuffled.timeline.is_sorted()
    # a LazyFrame is streamed and cannot be sorted on the fly
    lazy = MultiSymbolSlicer({"EURUSD": eu.reverse().lazy(), "GBPUSD": gb.lazy()})
    with pytest.raises(SchemaError, match="not in ascending order"):
        list(lazy.iter_batches())
    # duplicates in a stream: the last one wins across chunk boundaries too
    dup_lazy = pl.concat([eu, dup]).sort("time", maintain_order=True).lazy()
    with pytest.warns(DuplicateTimestampsWarning):
        streamed = pl.concat(
            [
                b.frame
                for b in MultiSymbolSlicer({"EURUSD": dup_lazy, "GBPUSD": gb.lazy()}).iter_batches(
                    1000
                )
            ]
        )
    assert_frame_equal(streamed, got)


def test_time_zones_and_units(frames: dict[str, pl.DataFrame]) -> None:
    eu, gb = frames["EURUSD"], frames["GBPUSD"]
    naive_ms = eu.with_columns(pl.col("time").dt.replace_time_zone(None).dt.cast_time_unit("ms"))
    sydney = gb.with_columns(pl.col("time").dt.convert_time_zone("Australia/Sydney"))
    got = MultiSymbolSlicer({"EURUSD": naive_ms, "GBPUSD": sydney})
    want = MultiSymbolSlicer({"EURUSD": eu, "GBPUSD": gb})
    assert_frame_equal(got.frame, want.frame)


def test_columns_selection(frames: dict[str, pl.DataFrame]) -> None:
    slicer = MultiSymbolSlicer(frames, columns=["bid_close", "bid_volume"])
    assert slicer.frame.columns[:3] == ["time", "EURUSD_bid_close", "EURUSD_bid_volume"]
    assert slicer.frame.width == 1 + 2 * len(SYMBOLS)
    step = next(next(slicer.iter_batches()).slices())
    with pytest.raises(ParameterError, match="no bid candles"):
        step.get("EURUSD")


def test_extra_columns_travel_along(frames: dict[str, pl.DataFrame]) -> None:
    with_ema = {s: f.with_columns(pl.col("bid_close").alias("ema_20")) for s, f in frames.items()}
    slicer = MultiSymbolSlicer(with_ema)
    batch = next(slicer.iter_batches())
    np.testing.assert_array_equal(
        batch.array("GBPUSD", "ema_20", side=None), batch.array("GBPUSD", "close")
    )


# ---------------------------------------------------------------------------
# batch and slice API


def test_slice_api(frames: dict[str, pl.DataFrame]) -> None:
    slicer = MultiSymbolSlicer(frames, how="union")
    batch = next(slicer.iter_batches(64))
    step = next(batch.slices())
    assert step.keys() == SYMBOLS == slicer.symbols
    assert list(step) == list(SYMBOLS)
    assert len(step) == len(SYMBOLS)
    assert "EURUSD" in step and "EURGBP" not in step
    assert step["EURUSD"] == step.get("EURUSD") == step.get("EURUSD", "bid")
    assert step["EURUSD", "ask"] == step.get("EURUSD", "ask")
    assert step.get("XAUUSD") is None  # starts a day later: explicit missing on the union
    assert step.get("EURUSD", "ask").side == "ask"  # type: ignore[union-attr]
    with pytest.raises(KeyError, match="EURGBP"):
        step.get("EURGBP")
    with pytest.raises(ParameterError, match="side"):
        step.get("EURUSD", "mid")
    assert "index=0" in repr(step)
    # no per-step dict: a slice holds its batch (and its candle tables) and a row number
    assert not hasattr(step, "__dict__")
    assert type(step).__slots__ == ("_b", "_i", "_s")


def test_batch_arrays_are_zero_copy_views(frames: dict[str, pl.DataFrame]) -> None:
    slicer = MultiSymbolSlicer(frames)
    whole = slicer.frame.get_column("GBPUSD_bid_close").to_numpy()
    batches = list(slicer.iter_batches(1000))
    for batch in batches[:3]:
        closes = batch.array("GBPUSD", "close")
        assert np.shares_memory(closes, whole)
        assert not closes.flags.owndata and not closes.flags.writeable
        assert batch.timestamps.dtype == np.dtype("datetime64[us]")
        assert np.shares_memory(batch.timestamps, slicer.frame.get_column("time").to_numpy())
        assert batch.array("GBPUSD", "close") is closes  # cached per batch
    # streamed batches: views of the batch frame's own (contiguous) buffers
    lazy = MultiSymbolSlicer({s: f.lazy() for s, f in frames.items()})
    for batch in lazy.iter_batches(1000):
        closes = batch.array("USDJPY", "close", "ask")
        assert np.shares_memory(closes, batch.frame.get_column("USDJPY_ask_close").to_numpy())
        assert not closes.flags.owndata
    with pytest.raises(KeyError, match="EURGBP"):
        batch.array("EURGBP", "close")
    with pytest.raises(KeyError, match="no column"):
        batch.array("EURUSD", "spread")


def test_union_arrays_have_nan_where_missing(
    frames: dict[str, pl.DataFrame], tables: dict[str, dict[datetime, ref.Row]]
) -> None:
    slicer = MultiSymbolSlicer(frames, how="union")
    expected = ref.common_timestamps(tables, "union")
    got = np.concatenate([b.array("XAUUSD", "close") for b in slicer.iter_batches(2000)])
    want = [
        tables["XAUUSD"][ts]["bid_close"] if ts in tables["XAUUSD"] else math.nan for ts in expected
    ]
    np.testing.assert_array_equal(got, np.array(want))


def test_bulk_path_reads_all_closes_without_python_per_step(
    frames: dict[str, pl.DataFrame],
) -> None:
    slicer = MultiSymbolSlicer(frames)
    total = sum(
        float(np.sum(batch.array(s, "close")))
        for batch in slicer.iter_batches(500)
        for s in SYMBOLS
    )
    assert total == pytest.approx(
        sum(float(slicer.frame.get_column(f"{s}_bid_close").sum()) for s in SYMBOLS)
    )


def test_slicer_slices_and_repr(frames: dict[str, pl.DataFrame]) -> None:
    slicer = MultiSymbolSlicer(frames)
    indices = [step.index for step in slicer.slices(batch_size=999)]
    assert indices == list(range(len(slicer)))
    assert "MultiSymbolSlicer" in repr(slicer)
    assert "MultiSymbolBatch" in repr(next(slicer.iter_batches()))


# ---------------------------------------------------------------------------
# candle records


def test_candle_record() -> None:
    ts = datetime(2025, 3, 17, 9, 30, tzinfo=UTC)
    c = Candle.make(ts, 1.1, 1.2, 1.0, 1.15, 42.0, "bid")
    assert (c.timestamp, c.open, c.high, c.low, c.close, c.volume, c.side) == (
        ts,
        1.1,
        1.2,
        1.0,
        1.15,
        42.0,
        "bid",
    )
    timestamp, _o, _h, _lo, close, _v, side = c
    assert (timestamp, close, side) == (ts, 1.15, "bid")
    assert c == Candle.make(ts.replace(tzinfo=None), 1.1, 1.2, 1.0, 1.15, 42.0, "bid")
    assert c != Candle.make(ts, 1.1, 1.2, 1.0, 1.15, 42.0, "ask")
    assert hash(c) == hash(pickle.loads(pickle.dumps(c)))
    assert pickle.loads(pickle.dumps(c)) == c
    assert c.as_dict()["close"] == 1.15
    assert "side='bid'" in repr(c)
    with pytest.raises(AttributeError, match="read-only"):
        c.close = 2.0
    with pytest.raises(ParameterError):
        Candle.make(ts, 1, 1, 1, 1, 1, "mid")
    assert c.time_us == int(ts.timestamp()) * 1_000_000
    with pytest.raises(TypeError, match=r"Candle\.make"):
        Candle(1, 2.0)


def test_candles_outlive_their_batch(frames: dict[str, pl.DataFrame]) -> None:
    slicer = MultiSymbolSlicer(frames)
    kept = [step.get("EURUSD") for step in next(slicer.iter_batches(10)).slices()]
    del slicer
    first = kept[0]
    assert (
        first is not None and pickle.loads(pickle.dumps(first)) == first
    )  # a view pickles as a value
    assert [c.close for c in kept if c is not None] == frames["EURUSD"].filter(
        pl.col("time").is_in([c.timestamp for c in kept if c is not None])
    )["bid_close"].to_list()


# ---------------------------------------------------------------------------
# streaming memory


_PEAK_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import polars as pl
    from omega_pl import MultiSymbolSlicer

    root = Path(sys.argv[1])
    frames = {p.stem: pl.scan_parquet(p) for p in sorted(root.glob("*.parquet"))}
    rows = 0
    for batch in MultiSymbolSlicer(frames).iter_batches(4096):
        for symbol in frames:
            batch.array(symbol, "close").sum()
        rows += len(batch)
    # VmHWM: this process's peak RSS (ru_maxrss would include the forking parent's)
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(rows, peak_kb * 1024)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_lazy_iteration_memory_does_not_grow_with_history(tmp_path: Path) -> None:
    """Peak RSS of a streamed walk: 16x the history costs far less than 16x the memory."""
    symbols = ("EURUSD", "GBPUSD", "USDJPY")
    big_rows, small_rows = 1_200_000, 75_000
    sizes = {}
    for label in ("small", "big"):
        (tmp_path / label).mkdir()
    for i, symbol in enumerate(symbols):
        frame = synthetic_candles(big_rows, symbol=symbol, seed=i, missing_ratio=0.02)
        frame.write_parquet(tmp_path / "big" / f"{symbol}.parquet", row_group_size=16_384)
        frame.head(small_rows).write_parquet(
            tmp_path / "small" / f"{symbol}.parquet", row_group_size=16_384
        )
        sizes[symbol] = frame.estimated_size()
    peaks = {}
    for label in ("small", "big"):
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(tmp_path / label)],
            capture_output=True,
            text=True,
            check=True,
            # Polars' read-ahead grows with its thread count: pin it, so the
            # bound below means the same on a many-core machine.
            env={**os.environ, "POLARS_MAX_THREADS": "2"},
        ).stdout.split()
        assert int(out[0]) > 0
        peaks[label] = int(out[1])
    materialised = sum(sizes.values())  # what collecting the big inputs alone would hold
    growth = peaks["big"] - peaks["small"]
    assert growth < 0.25 * materialised * (1 - small_rows / big_rows), (peaks, materialised)


# ---------------------------------------------------------------------------
# per-symbol slicer


@pytest.fixture(scope="module")
def aligned() -> pl.DataFrame:
    """EURUSD M5 with H1 bid/ask columns: the last completed H1 bar, and holes where
    it is missing (stale), as the alignment stage produces them."""
    start, end = datetime(2025, 4, 2, tzinfo=UTC), datetime(2025, 4, 9, tzinfo=UTC)
    m5 = generate_candles("EURUSD", "M5", start=start, end=end, seed=5)
    h1 = generate_candles("EURUSD", "H1", start=start, end=end, seed=5)
    for side in ("bid", "ask"):
        bars = h1.select(
            (pl.col("time") + timedelta(hours=1)).alias("end"),
            *(pl.col(f"{side}_{f}").alias(f"h1_{side}_{f}") for f in ref.FIELDS),
            pl.col("time").alias(f"h1_{side}_time"),
        )
        m5 = m5.join_asof(bars, left_on="time", right_on="end", strategy="backward").drop("end")
    stale = (pl.int_range(pl.len()) % 97) < 4
    htf = [c for c in m5.columns if c.startswith("h1_")]
    return m5.with_columns(pl.when(~stale).then(pl.col(c)).alias(c) for c in htf)


@pytest.mark.parametrize("tf", [None, "H1"])
@pytest.mark.parametrize("side", ["bid", "ask"])
def test_symbol_slicer_candles_match_reference(
    aligned: pl.DataFrame, tf: str | None, side: str
) -> None:
    slicer = SymbolSlicer(aligned)
    rows = aligned.to_dicts()
    want = ref.entries(rows, tf, side)
    got = [_as_ref(slicer.get_candle_at(i, side, tf)) for i in range(len(slicer))]
    assert got == want
    assert (None in got) == (tf is not None)  # stale HTF rows are missing
    for i in (0, 1, 150, len(slicer) - 1):
        slicer.index = i
        assert _as_ref(slicer.latest(tf, side)) == ref.latest(want, i)
        for n in (1, 5, 200):
            assert [_as_ref(c) for c in slicer.history(tf, side, n)] == ref.history(want, i, n)


def test_htf_history_repeats_primary_rows(aligned: pl.DataFrame) -> None:
    slicer = SymbolSlicer(aligned)
    i = 500
    hist = slicer.history("h1", "bid", 30, i=i)
    assert len(hist) == 30
    bars = {c.time_us for c in hist if c is not None}
    assert len(bars) < 30  # the last 30 primary rows, not the last 30 H1 bars
    runs = [c.timestamp for c in hist if c is not None]
    assert runs == sorted(runs) and len(runs) > len(bars)
    assert all(c is None or c.timestamp <= slicer.frame["time"][i] for c in hist)
    # tf accepts any spelling
    assert slicer.history("H1", "bid", 30, i=i) == hist
    assert slicer.history(omega_pl.Timeframe.parse("h1"), "bid", 30, i=i) == hist


def test_symbol_slicer_slices_and_lookbacks(aligned: pl.DataFrame) -> None:
    slicer = SymbolSlicer(aligned.lazy())
    n = len(slicer)
    whole = slicer.frame.get_column("bid_close").to_numpy()
    part = slicer.get_slice(100, 1100)
    assert_frame_equal(part, aligned.slice(100, 1000))
    assert np.shares_memory(part.get_column("bid_close").to_numpy(), whole)
    assert slicer.get_slice(5, 5).height == 0
    assert_frame_equal(slicer.get_lookback(700, 200), aligned.slice(501, 200))
    assert_frame_equal(slicer.get_lookback(3, 200), aligned.head(4))
    view = slicer.get_lookback(700, 200, column="bid_close")
    np.testing.assert_array_equal(view, whole[501:701])
    assert np.shares_memory(view, whole) and not view.flags.writeable
    assert slicer.array("bid_close") is slicer.array("bid_close")
    stale_view = slicer.get_lookback(700, 200, column="h1_bid_close")  # nulls: a NaN copy
    assert np.isnan(stale_view).any()
    assert slicer.timeframes == ("H1",)
    assert f"rows={n}" in repr(slicer)


def test_symbol_slicer_out_of_range(aligned: pl.DataFrame) -> None:
    slicer = SymbolSlicer(aligned)
    n = len(slicer)
    for call in (
        lambda: slicer.get_candle_at(-1),
        lambda: slicer.get_candle_at(n),
        lambda: slicer.get_candle_at(n, "ask", "H1"),
        lambda: slicer.get_slice(-1, 3),
        lambda: slicer.get_slice(5, 3),
        lambda: slicer.get_slice(0, n + 1),
        lambda: slicer.get_lookback(n, 5),
        lambda: slicer.get_lookback(-1, 5, column="bid_close"),
        lambda: slicer.latest(i=n),
        lambda: slicer.history("H1", "bid", 3, i=-1),
    ):
        with pytest.raises(IndexError, match="out of range"):
            call()
    with pytest.raises(IndexError):
        slicer.index = n
    with pytest.raises(ParameterError, match="'n'"):
        slicer.get_lookback(10, 0)
    with pytest.raises(ParameterError, match="'n'"):
        slicer.history(None, "bid", 0)
    with pytest.raises(ParameterError, match="side"):
        slicer.get_candle_at(0, "mid")
    with pytest.raises(SchemaError, match="D1"):
        slicer.get_candle_at(0, "bid", "D1")
    with pytest.raises(TimeframeError):
        slicer.get_candle_at(0, "bid", "X5")
    with pytest.raises(KeyError, match="spread"):
        slicer.array("spread")
    empty = SymbolSlicer(aligned.clear())
    with pytest.raises(IndexError):
        empty.latest()


def test_symbol_slicer_htf_time_in_other_units(aligned: pl.DataFrame) -> None:
    ms = aligned.with_columns(
        pl.col("h1_bid_time").dt.cast_time_unit("ms").dt.replace_time_zone(None)
    )
    for i in (0, 200, 1000):
        assert SymbolSlicer(ms).get_candle_at(i, "bid", "H1") == SymbolSlicer(
            aligned
        ).get_candle_at(i, "bid", "H1")


def test_symbol_slicer_plain_frame_and_validation(aligned: pl.DataFrame) -> None:
    plain = aligned.select("time", *(pl.col(f"bid_{f}").alias(f) for f in ref.FIELDS))
    slicer = SymbolSlicer(plain)
    c = slicer.get_candle_at(3, "ask")
    assert c is not None and c.side is None and c.close == plain["close"][3]
    with pytest.raises(SchemaError, match="strictly increasing"):
        SymbolSlicer(aligned.reverse())
    with pytest.raises(SchemaError, match="no 'time' column"):
        SymbolSlicer(aligned.drop("time"))
