"""Executable spec of SPEC §6 (multi-symbol timeline and slicing), in plain Python.

Written from the SPEC text only, with dicts, sets and lists, row by row, so
that the tests compare two independent readings of §6:

* common timestamps: ``intersection`` = sorted intersection of every symbol's
  timestamp set, ``union`` = sorted union, anything else is an error;
* multi-symbol slice at ``ts``: for each (symbol, side) the candle stamped
  exactly ``ts``, else missing (no carry-forward);
* per-symbol slice at row ``i``: ``latest`` = the entry of row ``i``,
  ``history(n)`` = the entries of rows ``max(0, i-n+1) … i``, missing
  entries and higher-timeframe repeats included.

A candle is ``(timestamp, open, high, low, close, volume, side)``; a missing
one is ``None`` (SPEC §0: a null or NaN close means missing). Of rows with the
same timestamp the last one counts (SPEC §5.1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

FIELDS = ("open", "high", "low", "close", "volume")
SIDES = ("bid", "ask")

RefCandle = tuple[datetime, float, float, float, float, float, str | None]
Row = Mapping[str, Any]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def candle_of(
    row: Row, side: str | None, prefix: str = "", time_key: str = "time"
) -> RefCandle | None:
    """The candle of one row (``None`` if its close is missing)."""
    base = f"{prefix}{side}_" if side else prefix
    close = row[f"{base}close"]
    if _missing(close):
        return None
    values = [row[f"{base}{f}"] for f in FIELDS]
    floats = [math.nan if v is None else float(v) for v in values]
    return (row[time_key], floats[0], floats[1], floats[2], floats[3], floats[4], side)


def by_timestamp(rows: Iterable[Row]) -> dict[datetime, Row]:
    """Rows keyed by ``time``; a later row with the same timestamp replaces an earlier one."""
    table: dict[datetime, Row] = {}
    for row in rows:
        table[row["time"]] = row
    return table


def common_timestamps(tables: Mapping[str, Mapping[datetime, Row]], how: str) -> list[datetime]:
    """SPEC §6 common timestamps of every symbol (``intersection`` or ``union``)."""
    sets = [set(t) for t in tables.values()]
    if how == "intersection":
        common = set.intersection(*sets) if sets else set()
    elif how == "union":
        common = set.union(*sets) if sets else set()
    else:
        raise ValueError(f"unknown method {how!r}")
    return sorted(common)


def multi_symbol_slice(
    tables: Mapping[str, Mapping[datetime, Row]], ts: datetime
) -> dict[str, dict[str, RefCandle | None]]:
    """SPEC §6 multi-symbol slice at ``ts``: exact timestamp or missing, per symbol and side."""
    out: dict[str, dict[str, RefCandle | None]] = {}
    for symbol, table in tables.items():
        row = table.get(ts)
        out[symbol] = {side: None if row is None else candle_of(row, side) for side in SIDES}
    return out


def wide_row(
    tables: Mapping[str, Mapping[datetime, Row]], ts: datetime, columns: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """One row of the wide frame: ``time`` and ``f"{symbol}_{column}"`` (``None`` if absent)."""
    out: dict[str, Any] = {"time": ts}
    for symbol, table in tables.items():
        row = table.get(ts)
        for c in columns[symbol]:
            out[f"{symbol}_{c}"] = None if row is None else row[c]
    return out


def entries(rows: Sequence[Row], tf: str | None, side: str | None) -> list[RefCandle | None]:
    """Per-row aligned entries of one timeframe (``tf=None``: the primary candles).

    A higher timeframe's entry is its ``<tf>_<side>_*`` columns, stamped with
    ``<tf>_<side>_time`` (the higher bar's own timestamp).
    """
    if tf is None:
        return [candle_of(r, side) for r in rows]
    prefix = f"{tf.lower()}_"
    time_key = f"{prefix}{side}_time" if side else f"{prefix}time"
    return [candle_of(r, side, prefix, time_key) for r in rows]


def latest(values: Sequence[RefCandle | None], i: int) -> RefCandle | None:
    """SPEC §6 ``latest``: the aligned entry of row ``i``."""
    if not 0 <= i < len(values):
        raise IndexError(i)
    return values[i]


def history(values: Sequence[RefCandle | None], i: int, n: int) -> list[RefCandle | None]:
    """SPEC §6 ``history``: entries of rows ``max(0, i-n+1) … i``, repeats and gaps included."""
    if not 0 <= i < len(values):
        raise IndexError(i)
    return [values[j] for j in range(max(0, i - n + 1), i + 1)]
