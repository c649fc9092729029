"""The timeline: inputs checked, sorted and de-duplicated, timestamps merged, rows placed.

The timeline is the sorted **intersection** (default) or **union** of the
symbols' timestamps. Each symbol is joined onto it *exactly*: at timestamp
``t`` a symbol shows the row stamped ``t`` or nothing. Nothing is carried
forward across timestamps, so on a union timeline a symbol without a bar at
``t`` is missing there (``null`` in frames, ``NaN`` in NumPy arrays, ``None``
as a candle), never silently filled. With the intersection nothing is missing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

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
from omega_pl.slicer.records import I64, _to_datetime

Bool = npt.NDArray[np.bool_]
How = Literal["intersection", "union"]
Frame = pl.DataFrame | pl.LazyFrame

_TIME: Final = "time"
_TIME_DTYPE: Final = pl.Datetime("us", "UTC")
#: The grid path counts timestamps in a dense array of at most this many slots per row.
_GRID_SLOTS_PER_ROW: Final = 4


# ---------------------------------------------------------------------------
# input preparation


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
