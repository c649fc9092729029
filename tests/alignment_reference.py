"""Executable spec of SPEC §5.2 (higher timeframes on the primary grid), plain Python.

Written from the text of /work/shared/SPEC-indicators.md §5.2, one row at a
time, independently of omega_pl's Polars plan; the tests compare the two.
One call handles one higher timeframe and one side: SPEC §5.2 aligns "each
additional timeframe and each side separately".

Rules implemented (quoting the SPEC where it is explicit):

* "HTF bars keyed by open timestamp (duplicates: last wins), sorted by open time."
* ``end(b) = open(b) + duration(TF)``; for a close-stamped TF ``end(b) = open(b)``.
* ``δ`` = the primary duration when ``entry = close``, else 0.
* ``S`` = the configured limit if > 0, else ``max(1, 2 · max(1, htf // primary))``.
* previous-completed (default): the current bar of row i is the latest-open bar
  with ``end(b) <= ts_i + δ``; ``s`` = the first row with ``end(b) <= ts_row + δ``;
  the row sees the bar iff ``i − s <= S``.
* not previous-completed: row i shows the bar whose open equals ``ts_i``
  exactly and keeps showing it while ``i − s <= S`` (``s`` = the row of the
  match); ``δ`` and close-stamping are ignored.
* omega_pl's ``strict`` mode (SPEC §8.3.5 corrected option, as the issue
  defines it): the bar is visible only on the row where it becomes current,
  i.e. ``i == s``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Bar:
    """One higher-timeframe bar of one side: its timestamp as stored and its OHLCV."""

    stamp: datetime
    values: tuple[float | None, ...]


def automatic_stale_limit(primary_minutes: int, htf_minutes: int) -> int:
    """SPEC §5.2: ``max(1, 2 · max(1, htf_minutes // primary_minutes))``."""
    return max(1, 2 * max(1, htf_minutes // primary_minutes))


def keyed_bars(bars: Sequence[Bar]) -> list[Bar]:
    """Key by timestamp (the last of duplicates wins), sort by timestamp."""
    by_stamp: dict[datetime, Bar] = {}
    for bar in bars:
        by_stamp[bar.stamp] = bar
    return [by_stamp[k] for k in sorted(by_stamp)]


def visible_bars(
    primary_times: Sequence[datetime],
    bars: Sequence[Bar],
    *,
    primary_minutes: int,
    htf_minutes: int,
    entry: str = "open",
    previous_completed: bool = True,
    stale_limit: int | None = None,
    close_stamped: bool = False,
    strict: bool = False,
) -> list[Bar | None]:
    """The bar each primary row sees (``None`` = missing), per SPEC §5.2.

    ``primary_times`` are the grid timestamps in row order (sorted, unique).
    """
    keyed = keyed_bars(bars)
    limit = (
        stale_limit
        if stale_limit is not None and stale_limit > 0
        else automatic_stale_limit(primary_minutes, htf_minutes)
    )
    n = len(primary_times)
    out: list[Bar | None] = [None] * n

    if not previous_completed:
        by_open = {b.stamp: b for b in keyed}
        current: Bar | None = None
        s = -1
        for i, ts in enumerate(primary_times):
            if ts in by_open:
                current, s = by_open[ts], i
            if current is None:
                continue
            if (i == s) if strict else (i - s <= limit):
                out[i] = current
        return out

    duration = timedelta(0) if close_stamped else timedelta(minutes=htf_minutes)
    delta = timedelta(minutes=primary_minutes) if entry == "close" else timedelta(0)

    def end(b: Bar) -> datetime:
        return b.stamp + duration

    def first_row(b: Bar) -> int:
        # The first row with end(b) <= ts_row + δ, i.e. ts_row >= end(b) - δ
        # (rows are in time order, so a binary search finds it).
        return bisect.bisect_left(primary_times, end(b) - delta)

    first: dict[datetime, int] = {}
    j = 0  # bars[:j] are the bars with end(b) <= ts_i + δ
    for i, ts in enumerate(primary_times):
        while j < len(keyed) and end(keyed[j]) <= ts + delta:
            j += 1
        if j == 0:
            continue
        current = keyed[j - 1]  # the latest open among the completed bars
        if current.stamp not in first:
            first[current.stamp] = first_row(current)
        s = first[current.stamp]
        if (i == s) if strict else (i - s <= limit):
            out[i] = current
    return out
