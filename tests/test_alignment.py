"""Multi-timeframe alignment (SPEC §5.2) and loading + aligning in one plan.

The Polars plan of :mod:`omega_pl.alignment` is compared with the row-by-row
reading of the SPEC in :mod:`tests.alignment_reference` on generated data with
holes (primary and per-side higher holes), weekends and the April 2025 Sydney
DST change; a hypothesis property checks that no row sees a bar before it
completed; and the stepwise indicators are checked end to end on files.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_pl
from omega_pl import (
    CandleFileNotFoundError,
    LookAheadWarning,
    ParameterError,
    SchemaError,
    Timeframe,
    TimeframeError,
    align_timeframes,
    scan_aligned,
)
from omega_pl.datasets import generate_candles, write_sample_data
from tests import reference as ref
from tests.alignment_reference import Bar, automatic_stale_limit, visible_bars
from tests.conftest import assert_parity

OHLCV = ("open", "high", "low", "close", "volume")
FIELDS = (*OHLCV, "time")
UTC_US = pl.Datetime("us", "UTC")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------
# helpers: bars <-> frames, reference columns


def side_bars(frame: pl.DataFrame, side: str) -> list[Bar]:
    """The bars of one side of a joined ``generate_candles`` frame, in row order."""
    cols = [f"{side}_{c}" for c in OHLCV]
    return [Bar(row[0], tuple(row[1:])) for row in frame.select("time", *cols).iter_rows()]


def bars_frame(bars: Sequence[Bar]) -> pl.DataFrame:
    """A plain candle frame holding ``bars`` in the given order."""
    data: dict[str, list[Any]] = {"time": [b.stamp for b in bars]}
    for k, c in enumerate(OHLCV):
        data[c] = [b.values[k] for b in bars]
    return pl.DataFrame(data, schema={"time": UTC_US, **dict.fromkeys(OHLCV, pl.Float64)})


def joined_frame(sides: Mapping[str, Sequence[Bar]]) -> pl.DataFrame:
    """Bid and ask bars in one frame; a side's hole is a row of nulls for that side."""
    frames = [
        bars_frame(bars).rename({c: f"{side}_{c}" for c in OHLCV}) for side, bars in sides.items()
    ]
    out = frames[0]
    for f in frames[1:]:
        out = out.join(f, on="time", how="full", coalesce=True)
    return out.sort("time")


def expected_columns(
    prefix: str, primary_times: Sequence[datetime], bars: Sequence[Bar], **kwargs: Any
) -> dict[str, list[Any]]:
    seen = visible_bars(primary_times, bars, **kwargs)
    out: dict[str, list[Any]] = {}
    for k, c in enumerate(OHLCV):
        out[f"{prefix}{c}"] = [None if b is None else b.values[k] for b in seen]
    out[f"{prefix}time"] = [None if b is None else b.stamp for b in seen]
    return out


def got_columns(df: pl.DataFrame, prefix: str) -> dict[str, list[Any]]:
    return df.select(f"{prefix}{f}" for f in FIELDS).to_dict(as_series=False)


# ---------------------------------------------------------------------------
# generated data: holes, weekends, DST

START, END = "2025-03-27", "2025-04-12"  # two weekends, Sydney DST ends 2025-04-06
HIGHER = ("M15", "H1", "H4", "D1")


def _primary(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    m5 = generate_candles("EURUSD", "M5", start=START, end=END, seed=seed)
    t = m5["time"]
    keep = rng.random(m5.height) > 0.04  # scattered holes
    # Holes exactly where bars complete (on the hour) in one stretch, and a
    # three-hour block of missing primary rows.
    on_hour = (t.dt.minute() == 0) & (t.dt.day() == 1)
    block = (t >= utc(2025, 4, 2, 9)) & (t < utc(2025, 4, 2, 12))
    return m5.filter(pl.Series(keep) & ~on_hour & ~block)


def _higher_bars(seed: int) -> dict[str, dict[str, list[Bar]]]:
    """Per timeframe and side, the bars in input order (holes differ by side)."""
    rng = np.random.default_rng(seed + 1)
    out: dict[str, dict[str, list[Bar]]] = {}
    for tf in HIGHER:
        frame = generate_candles("EURUSD", tf, start=START, end=END, seed=seed)
        sides: dict[str, list[Bar]] = {}
        for k, side in enumerate(("bid", "ask")):
            bars = side_bars(frame, side)
            keep = rng.random(len(bars)) > 0.08
            # A run of missing bars on one side only (the feed stalls: stale).
            lo = len(bars) // (3 + k)
            keep[lo : lo + 5] = False
            sides[side] = [b for b, ok in zip(bars, keep, strict=True) if ok]
        out[tf] = sides
    return out


PRIMARY = _primary(3)
BARS = _higher_bars(3)


def _with_duplicates(bars: list[Bar], seed: int) -> list[Bar]:
    """Shuffled bars plus, at the end, a changed copy of a few (the last duplicate wins)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bars))
    shuffled = [bars[i] for i in order]
    dups = [
        Bar(bars[i].stamp, tuple(v + 1.0 for v in bars[i].values))  # type: ignore[operator]
        for i in rng.choice(len(bars), 4, replace=False)
    ]
    return shuffled + dups


def _shift(bars: list[Bar], by: timedelta) -> list[Bar]:
    return [Bar(b.stamp + by, b.values) for b in bars]


@pytest.mark.parametrize("mode", ["carry_forward", "strict"])
@pytest.mark.parametrize("stale_limit", [None, 5])
@pytest.mark.parametrize("close_stamped", [(), ("H4",)])
@pytest.mark.parametrize("entry", ["open", "close"])
@pytest.mark.parametrize("previous_completed", [True, False])
def test_matches_reference(
    previous_completed: bool,
    entry: str,
    close_stamped: tuple[str, ...],
    stale_limit: int | None,
    mode: str,
) -> None:
    # Inputs: M15 and D1 as one joined frame (a side's hole = its null row),
    # H1 and H4 as per-side frames, shuffled, with duplicate stamps.
    sides = {tf: dict(BARS[tf]) for tf in HIGHER}
    if close_stamped:
        sides["H4"] = {s: _shift(b, timedelta(hours=4)) for s, b in sides["H4"].items()}
    higher: dict[str, Any] = {}
    inputs: dict[str, dict[str, list[Bar]]] = {}
    for tf in HIGHER:
        if tf in ("M15", "D1"):
            higher[tf] = joined_frame(sides[tf]).lazy()
            inputs[tf] = sides[tf]
        else:
            inputs[tf] = {s: _with_duplicates(b, len(b)) for s, b in sides[tf].items()}
            higher[tf] = {s: bars_frame(b) for s, b in inputs[tf].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LookAheadWarning)
        out = align_timeframes(
            PRIMARY,
            higher,
            primary_tf="M5",
            entry=entry,  # type: ignore[arg-type]
            previous_completed=previous_completed,
            stale_limit=stale_limit,
            close_stamped=close_stamped,
            mode=mode,  # type: ignore[arg-type]
        ).collect()
    assert out.columns[: PRIMARY.width] == PRIMARY.columns
    assert out.select(PRIMARY.columns).equals(PRIMARY)
    times = PRIMARY["time"].to_list()
    visible = 0
    for tf in HIGHER:
        for side in ("bid", "ask"):
            prefix = f"{tf.lower()}_{side}_"
            expected = expected_columns(
                prefix,
                times,
                inputs[tf][side],
                primary_minutes=5,
                htf_minutes=Timeframe.parse(tf).minutes,
                entry=entry,
                previous_completed=previous_completed,
                stale_limit=stale_limit,
                close_stamped=tf in close_stamped,
                strict=mode == "strict",
            )
            assert got_columns(out, prefix) == expected, (tf, side)
            visible += sum(v is not None for v in expected[f"{prefix}time"])
    assert visible > 0


def test_generated_data_exercises_the_rules() -> None:
    """The comparison above is only as good as its data: check that the data
    has stale stretches, weekends, different holes per side and DST."""
    higher = {tf: {s: bars_frame(b) for s, b in BARS[tf].items()} for tf in HIGHER}
    out = align_timeframes(PRIMARY, higher, primary_tf="M5").collect()
    # Stale then missing: a missing H1 bid bar in the middle of the data.
    h1_bid_missing = out["h1_bid_time"].is_null()
    assert h1_bid_missing.sum() > 24
    assert not out["h1_bid_time"].is_null().equals(out["h1_ask_time"].is_null())
    # A Friday bar still visible after the weekend (staleness counts rows).
    monday = out.filter((pl.col("time").dt.weekday() == 7) & pl.col("d1_bid_time").is_not_null())
    assert monday.height > 0
    assert (monday["d1_bid_time"].dt.weekday() == 5).all()
    # Both sides of the DST change are present.
    assert out["time"].min() < utc(2025, 4, 6) < out["time"].max()  # type: ignore[operator]


# ---------------------------------------------------------------------------
# hypothesis: no look-ahead, and the reference agrees


BASE = utc(2025, 4, 4, 18)  # a Friday evening: the weekend and the DST change follow


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    primary_minutes = draw(st.sampled_from([1, 5, 15]))
    htf = draw(st.sampled_from([tf for tf in ("M15", "H1", "H4", "D1")]))
    htf_minutes = Timeframe.parse(htf).minutes
    if htf_minutes < primary_minutes:
        htf, htf_minutes = "H1", 60
    rows = draw(st.sets(st.integers(0, 400), max_size=120))
    span = 400 * primary_minutes // htf_minutes + 3
    sides = {side: draw(st.sets(st.integers(-3, span), max_size=40)) for side in ("bid", "ask")}
    return {
        "primary_minutes": primary_minutes,
        "htf": htf,
        "htf_minutes": htf_minutes,
        "times": [BASE + timedelta(minutes=primary_minutes * k) for k in sorted(rows)],
        "bars": {
            side: [
                Bar(
                    BASE + timedelta(minutes=htf_minutes * k),
                    (1.0 + k, 2.0 + k, 0.5 + k, 1.5 + k, float(k % 7)),
                )
                for k in sorted(ks)
            ]
            for side, ks in sides.items()
        },
        "entry": draw(st.sampled_from(["open", "close"])),
        "close_stamped": draw(st.booleans()),
        "stale_limit": draw(st.one_of(st.none(), st.integers(1, 30))),
        "mode": draw(st.sampled_from(["carry_forward", "strict"])),
        "previous_completed": draw(st.booleans()),
    }


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_property_no_lookahead(sc: dict[str, Any]) -> None:
    ptf = f"M{sc['primary_minutes']}"
    primary = pl.DataFrame({"time": sc["times"], "x": range(len(sc["times"]))}).with_columns(
        pl.col("time").cast(UTC_US)
    )
    higher = {sc["htf"]: {s: bars_frame(b) for s, b in sc["bars"].items()}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LookAheadWarning)
        out = align_timeframes(
            primary.lazy(),
            higher,
            primary_tf=ptf,
            entry=sc["entry"],
            previous_completed=sc["previous_completed"],
            stale_limit=sc["stale_limit"],
            close_stamped=[sc["htf"]] if sc["close_stamped"] else [],
            mode=sc["mode"],
        ).collect()
    delta = timedelta(minutes=sc["primary_minutes"]) if sc["entry"] == "close" else timedelta(0)
    duration = timedelta(0) if sc["close_stamped"] else timedelta(minutes=sc["htf_minutes"])
    for side in ("bid", "ask"):
        prefix = f"{sc['htf'].lower()}_{side}_"
        if sc["previous_completed"]:
            # The property: the bar a row at t sees completed by t (+ δ).
            for t, stamp in zip(out["time"], out[f"{prefix}time"], strict=True):
                if stamp is not None:
                    assert stamp + duration <= t + delta
        expected = expected_columns(
            prefix,
            sc["times"],
            sc["bars"][side],
            primary_minutes=sc["primary_minutes"],
            htf_minutes=sc["htf_minutes"],
            entry=sc["entry"],
            previous_completed=sc["previous_completed"],
            stale_limit=sc["stale_limit"],
            close_stamped=sc["close_stamped"],
            strict=sc["mode"] == "strict",
        )
        assert got_columns(out, prefix) == expected


# ---------------------------------------------------------------------------
# small hand-checked cases (the SPEC's own examples)


def m5_grid(start: datetime, n: int) -> pl.DataFrame:
    times = [start + timedelta(minutes=5 * k) for k in range(n)]
    return pl.DataFrame({"time": times, "close": [float(k) for k in range(n)]}).with_columns(
        pl.col("time").cast(UTC_US)
    )


def h1_bars(start: datetime, hours: Sequence[int]) -> pl.DataFrame:
    bars = [
        Bar(start + timedelta(hours=h), (10.0 + h, 11.0 + h, 9.0 + h, 10.5 + h, 100.0))
        for h in hours
    ]
    return bars_frame(bars)


def test_completed_bar_appears_at_its_end_and_close_entry_one_row_earlier() -> None:
    day = utc(2025, 4, 8, 9)
    primary = m5_grid(day, 36)  # 09:00 .. 11:55
    h1 = h1_bars(day, [0, 1])  # 09:00 and 10:00
    out = align_timeframes(primary, {"H1": h1}, primary_tf="M5").collect()
    key = dict(zip(out["time"], out["h1_time"], strict=True))
    assert key[utc(2025, 4, 8, 9, 55)] is None
    assert key[utc(2025, 4, 8, 10, 0)] == utc(2025, 4, 8, 9)
    assert key[utc(2025, 4, 8, 10, 55)] == utc(2025, 4, 8, 9)
    assert key[utc(2025, 4, 8, 11, 0)] == utc(2025, 4, 8, 10)
    close = align_timeframes(primary, {"H1": h1}, primary_tf="M5", entry="close").collect()
    key = dict(zip(close["time"], close["h1_time"], strict=True))
    # SPEC: "H1 10:00-11:00 appears on the M5 row 10:55".
    assert key[utc(2025, 4, 8, 10, 50)] == utc(2025, 4, 8, 9)
    assert key[utc(2025, 4, 8, 10, 55)] == utc(2025, 4, 8, 10)
    assert close["h1_close"][0] is None
    assert out.columns == ["time", "close", *(f"h1_{f}" for f in FIELDS)]


def test_stale_limit_counts_rows_and_hides_the_bar_afterwards() -> None:
    day = utc(2025, 4, 8, 0)
    primary = m5_grid(day, 12 * 8)  # 8 hours of M5
    h1 = h1_bars(day, [0])  # one bar, then the feed stops
    out = align_timeframes(primary, {"H1": h1}, primary_tf="M5").collect()
    seen = out["h1_time"].is_not_null().to_list()
    # Current from row 12 (01:00); visible while row - 12 <= 24.
    assert seen == [False] * 12 + [True] * 25 + [False] * (96 - 37)
    assert automatic_stale_limit(5, 60) == omega_pl.auto_stale_limit("M5", "H1") == 24
    out3 = align_timeframes(primary, {"H1": h1}, primary_tf="M5", stale_limit=3).collect()
    assert out3["h1_time"].is_not_null().to_list() == [False] * 12 + [True] * 4 + [False] * 80
    # stale_limit=0 is the reference's "automatic".
    out0 = align_timeframes(primary, {"H1": h1}, primary_tf="M5", stale_limit=0).collect()
    assert out0.equals(out)
    strict = align_timeframes(primary, {"H1": h1}, primary_tf="M5", mode="strict").collect()
    assert strict["h1_time"].is_not_null().to_list() == [False] * 12 + [True] + [False] * 83


def test_weekend_does_not_age_a_bar() -> None:
    fri = m5_grid(utc(2025, 4, 4, 19), 12)  # Friday 19:00 .. 19:55
    sun = m5_grid(utc(2025, 4, 6, 21), 12)  # Sunday 21:00 .. 21:55
    primary = pl.concat([fri, sun])
    h1 = h1_bars(utc(2025, 4, 4, 18), [0])  # Friday 18:00, completes 19:00
    out = align_timeframes(primary, {"H1": h1}, primary_tf="M5").collect()
    assert out["h1_time"].null_count() == 0  # 24 rows, S = 24: still visible on Sunday


def test_several_bars_completing_between_rows_show_only_the_latest() -> None:
    primary = pl.concat([m5_grid(utc(2025, 4, 8, 9), 2), m5_grid(utc(2025, 4, 8, 13), 2)])
    h1 = h1_bars(utc(2025, 4, 8, 9), [0, 1, 2, 3])
    out = align_timeframes(primary, {"H1": h1}, primary_tf="M5").collect()
    assert out["h1_time"].to_list() == [None, None, utc(2025, 4, 8, 12), utc(2025, 4, 8, 12)]


def test_close_stamped_bar_completes_at_its_stamp() -> None:
    day = utc(2025, 4, 8, 9)
    primary = m5_grid(day, 24)
    h1 = h1_bars(day, [1])  # stamped 10:00 = its close
    out = align_timeframes(primary, {"H1": h1}, primary_tf="M5", close_stamped=["h1"]).collect()
    assert out["h1_time"].to_list() == [None] * 12 + [utc(2025, 4, 8, 10)] * 12
    single = align_timeframes(primary, {"H1": h1}, primary_tf="M5", close_stamped="H1").collect()
    assert single.equals(out)


def test_previous_completed_false_is_lookahead_and_warns() -> None:
    day = utc(2025, 4, 8, 9)
    primary = m5_grid(day, 24)
    h1 = h1_bars(day, [0, 1])
    with pytest.warns(LookAheadWarning, match="look-ahead"):
        lf = align_timeframes(primary, {"H1": h1}, primary_tf="M5", previous_completed=False)
    out = lf.collect()
    # The 09:00 row already sees the final close of the 09:00-10:00 bar.
    assert out["h1_time"].to_list() == [day] * 12 + [utc(2025, 4, 8, 10)] * 12
    # A bar whose open is not a primary timestamp is never shown.
    with pytest.warns(LookAheadWarning):
        gap = align_timeframes(
            primary.filter(pl.col("time") != utc(2025, 4, 8, 10)),
            {"H1": h1},
            primary_tf="M5",
            previous_completed=False,
        ).collect()
    assert gap["h1_time"].to_list() == [day] * 23


def test_default_emits_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        align_timeframes(
            m5_grid(utc(2025, 4, 8), 3), {"H1": h1_bars(utc(2025, 4, 8), [0])}, primary_tf="M5"
        ).collect()


def test_equal_timeframe_and_empty_inputs() -> None:
    day = utc(2025, 4, 8, 9)
    primary = m5_grid(day, 6)
    m5 = bars_frame(
        [Bar(day + timedelta(minutes=5 * k), (1.0, 1.0, 1.0, 1.0, 1.0)) for k in (0, 1)]
    )
    out = align_timeframes(primary, {"M5": m5}, primary_tf="M5").collect()
    # S = 2 for M5 on M5: the 09:05 bar is current from 09:10 and seen for 3 rows.
    later = day + timedelta(minutes=5)
    assert out["m5_time"].to_list() == [None, day, later, later, later, None]
    empty = align_timeframes(primary, {"H1": m5.clear()}, primary_tf="M5").collect()
    assert empty["h1_time"].null_count() == 6
    none = align_timeframes(primary.clear(), {"H1": m5}, primary_tf="M5").collect()
    assert none.height == 0 and "h1_close" in none.columns
    assert align_timeframes(primary, {}, primary_tf="M5").collect().equals(primary)


def test_lazy_in_lazy_out_and_time_dtypes() -> None:
    day = utc(2025, 4, 8, 9)
    primary = m5_grid(day, 24)
    h1 = h1_bars(day, [0])
    lf = align_timeframes(primary.lazy(), {"H1": h1.lazy()}, primary_tf="M5")
    assert isinstance(lf, pl.LazyFrame)
    eager = align_timeframes(primary, {"H1": h1}, primary_tf="M5")
    assert isinstance(eager, pl.LazyFrame)
    assert lf.collect().equals(eager.collect())
    # A naive, millisecond higher frame is UTC and comes out in the primary's dtype.
    naive = h1.with_columns(pl.col("time").dt.replace_time_zone(None).cast(pl.Datetime("ms")))
    other = align_timeframes(primary, {"H1": naive}, primary_tf="M5").collect()
    assert other.schema["h1_time"] == UTC_US
    assert other.equals(eager.collect())
    # Float32 values and extra columns pass through / are ignored.
    extra = h1.with_columns(pl.lit("EURUSD").alias("symbol"), pl.col("close").cast(pl.Float32))
    out = align_timeframes(primary, {"H1": extra}, primary_tf="M5").collect()
    assert out.schema["h1_close"] == pl.Float32 and "h1_symbol" not in out.columns


def test_aligned_column_names() -> None:
    assert omega_pl.aligned_column("H1", "close", "bid") == "h1_bid_close"
    assert omega_pl.aligned_column("d1", "time") == "d1_time"
    with pytest.raises(ParameterError, match="'field'"):
        omega_pl.aligned_column("H1", "mid")
    with pytest.raises(ParameterError, match="'side'"):
        omega_pl.aligned_column("H1", "close", "mid")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"primary_tf": "X5"}, TimeframeError, "'primary_tf'"),
        ({"higher": {"Q1": None}}, TimeframeError, "'higher'"),
        ({"higher": {"M1": "H1FRAME"}}, TimeframeError, "shorter than primary_tf M5"),
        ({"higher": {"H1": "H1FRAME", "h1": "H1FRAME"}}, ParameterError, "given twice"),
        ({"higher": ["H1"]}, ParameterError, "'higher' must map"),
        ({"higher": {"H1": 3}}, ParameterError, "'higher"),
        ({"higher": {"H1": {"mid": "H1FRAME"}}}, ParameterError, "'bid' and/or 'ask'"),
        ({"entry": "middle"}, ParameterError, "'entry'"),
        ({"mode": "strikt"}, ParameterError, "'mode'"),
        ({"previous_completed": 1}, ParameterError, "'previous_completed'"),
        ({"stale_limit": -1}, ParameterError, "'stale_limit'"),
        ({"stale_limit": 2.5}, ParameterError, "'stale_limit'"),
        ({"stale_limit": True}, ParameterError, "'stale_limit'"),
        ({"close_stamped": ["D1"]}, ParameterError, "'close_stamped': D1 is not one of"),
        ({"close_stamped": ["Z9"]}, TimeframeError, "'close_stamped'"),
        ({"close_stamped": 5}, ParameterError, "'close_stamped'"),
        ({"higher": {"H1": "NOOHLC"}}, SchemaError, "open/high/low/close/volume"),
        ({"primary": "NOTIME"}, SchemaError, "no 'time' column"),
        ({"primary": "CLASH"}, SchemaError, "h1_close"),
        ({"primary": [1, 2]}, ParameterError, "'primary'"),
    ],
)
def test_validation(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    day = utc(2025, 4, 8, 9)
    h1 = h1_bars(day, [0])
    frames = {
        "H1FRAME": h1,
        "NOOHLC": h1.drop("volume"),
        "NOTIME": m5_grid(day, 3).rename({"time": "t"}),
        "CLASH": m5_grid(day, 3).with_columns(pl.lit(1.0).alias("h1_close")),
    }

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value in frames:
            return frames[value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    args: dict[str, Any] = {"primary": m5_grid(day, 3), "higher": {"H1": h1}, "primary_tf": "M5"}
    args.update({k: resolve(v) for k, v in kwargs.items()})
    primary, higher = args.pop("primary"), args.pop("higher")
    with pytest.raises(error, match=match):
        align_timeframes(primary, higher, **args)


def test_unsorted_primary_is_an_error() -> None:
    primary = m5_grid(utc(2025, 4, 8, 9), 6).reverse()
    lf = align_timeframes(primary, {"H1": h1_bars(utc(2025, 4, 8, 8), [0])}, primary_tf="M5")
    with pytest.raises(pl.exceptions.InvalidOperationError, match="not sorted"):
        lf.collect()


# ---------------------------------------------------------------------------
# from files: scan_aligned, resampling, stepwise indicators end to end


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("aligned")
    write_sample_data(root / "full", symbols=["EURUSD"], timeframes=["M5", "H1", "D1"])
    write_sample_data(root / "m5only", symbols=["EURUSD"], timeframes=["M5"])
    return root


def _file_bars(root: Path, tf: str, side: str, **window: Any) -> list[Bar]:
    path = omega_pl.candle_files(root, "EURUSD", tf)[side]  # type: ignore[index]
    df = omega_pl.scan_candles(path, **window).collect()
    return [Bar(r[0], tuple(r[1:])) for r in df.iter_rows()]


def test_stepwise_indicators_on_aligned_files_match_p4(sample_root: Path) -> None:
    scan = scan_aligned(sample_root / "full", "EURUSD", "M5", higher=["H1"])
    assert scan.origins == {"H1": "file"}
    assert scan.resampled == ()
    assert scan.higher["H1"].files["bid"].name == "EURUSD_H1_BID.parquet"
    bar = "h1_bid_time"
    df = scan.frame.with_columns(
        omega_pl.ema_stepwise("h1_bid_close", 10, bar=bar).alias("ema"),
        omega_pl.bollinger_stepwise("h1_bid_close", 20, 2.0, bar=bar).alias("bb"),
        omega_pl.kalman_zscore_stepwise("h1_bid_close", 30, bar=bar).alias("kz"),
        pl.col("h1_ask_close").omega.ema_stepwise(10, bar="h1_ask_time").alias("ema_ask"),
    ).collect()
    # The aligned columns are SPEC §5.2 applied to the files, side by side.
    times = df["time"].to_list()
    for side in ("bid", "ask"):
        expected = expected_columns(
            f"h1_{side}_",
            times,
            _file_bars(sample_root / "full", "H1", side),
            primary_minutes=5,
            htf_minutes=60,
        )
        assert got_columns(df, f"h1_{side}_") == expected
    # ... and the stepwise indicators on them are SPEC P4.
    x, key = df["h1_bid_close"].to_list(), df[bar].to_list()
    assert_parity(df["ema"], ref.ema_stepwise(x, key, 10))
    bands = ref.bollinger_stepwise(x, key, 20, 2.0)
    for name in ("upper", "middle", "lower"):
        assert_parity(df["bb"].struct.field(name), bands[name])
    assert_parity(df["kz"], ref.kalman_zscore_stepwise(x, key, 30))
    ask = ref.ema_stepwise(df["h1_ask_close"].to_list(), df["h1_ask_time"].to_list(), 10)
    assert_parity(df["ema_ask"], ask)
    assert df["kz"].drop_nulls().len() > 0.5 * df.height
    assert df["h1_bid_time"].n_unique() > 500


@pytest.mark.parametrize("start", [None, "2025-03-18 10:30"])
def test_resampled_equals_files(sample_root: Path, start: str | None) -> None:
    window = {"start": start, "end": "2025-04-16"}
    files = scan_aligned(sample_root / "full", "EURUSD", "M5", higher=["H1", "D1"], **window)
    resampled = scan_aligned(sample_root / "m5only", "EURUSD", "M5", higher=["H1", "D1"], **window)
    assert files.origins == {"H1": "file", "D1": "file"}
    assert resampled.origins == {"H1": "resampled", "D1": "resampled"}
    assert resampled.resampled == ("H1", "D1")
    assert resampled.higher["D1"].files["ask"].name == "EURUSD_M5_ASK.parquet"
    forced = scan_aligned(sample_root / "full", "EURUSD", "M5", higher="H1", source="resample")
    assert forced.origins == {"H1": "resampled"}
    a, b = files.collect(), resampled.collect()
    assert a.columns == b.columns
    assert a.equals(b)
    # The primary grid is scan_symbol's frame, whichever way the higher ones came.
    primary = omega_pl.scan_symbol(sample_root / "full", "EURUSD", "M5", **window).collect()
    assert a.select(primary.columns).equals(primary)
    assert b.select(primary.columns).equals(primary)
    assert a["d1_bid_close"].drop_nulls().len() > 0


def test_scan_aligned_options_and_errors(sample_root: Path) -> None:
    with pytest.raises(CandleFileNotFoundError):
        scan_aligned(sample_root / "m5only", "EURUSD", "M5", higher=["H1"], source="file")
    with pytest.raises(ParameterError, match="'source'"):
        scan_aligned(sample_root / "full", "EURUSD", "M5", higher=["H1"], source="web")  # type: ignore[arg-type]
    with pytest.raises(TimeframeError, match="shorter"):
        scan_aligned(sample_root / "full", "EURUSD", "H1", higher=["M5"])
    with pytest.warns(LookAheadWarning):
        scan = scan_aligned(
            sample_root / "full", "EURUSD", "M5", higher=["H1"], previous_completed=False
        )
    assert isinstance(scan.frame, pl.LazyFrame)
    close = scan_aligned(
        sample_root / "full",
        "EURUSD",
        "M5",
        higher=["H1"],
        entry="close",
        start="2025-03-20",
        end="2025-03-21",
    ).collect()
    assert close["time"].min() >= utc(2025, 3, 20)  # type: ignore[operator]
    first = close.filter(pl.col("h1_bid_time").is_not_null())["time"][0]
    assert first == utc(2025, 3, 20, 0, 55)
