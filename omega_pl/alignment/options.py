"""The arguments of an alignment checked, and the names of the columns it adds.

:func:`auto_stale_limit` is the default stale limit ``S`` (SPEC §5.2);
:func:`aligned_column` names an aligned column (``h1_bid_close``). The private
helpers check every argument of :func:`~omega_pl.align_timeframes` and
:func:`~omega_pl.scan_aligned` with a message naming the parameter, and split
each higher frame into its sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, cast

import polars as pl

from omega_pl.errors import ParameterError, SchemaError, TimeframeError, format_names
from omega_pl.timeframes import OHLCV, Timeframe

__all__ = ["Entry", "HigherFrame", "Mode", "aligned_column", "auto_stale_limit"]

Side = Literal["bid", "ask"]
#: Decision timestamp of a primary row: its bar's open (default) or its close.
Entry = Literal["open", "close"]
#: ``carry_forward`` (SPEC default) or ``strict`` (visible only on the row it becomes current).
Mode = Literal["carry_forward", "strict"]

FrameLike: TypeAlias = pl.DataFrame | pl.LazyFrame
#: One higher timeframe: a frame (plain or ``bid_``/``ask_`` columns), or a
#: mapping ``{"bid": frame, "ask": frame}`` of one frame per side.
HigherFrame: TypeAlias = pl.DataFrame | pl.LazyFrame | Mapping[str, pl.DataFrame | pl.LazyFrame]

_SIDES: tuple[Side, ...] = ("bid", "ask")
_ENTRIES = ("open", "close")
_MODES = ("carry_forward", "strict")
_FIELDS = (*OHLCV, "time")


def auto_stale_limit(primary_tf: str | Timeframe, higher_tf: str | Timeframe) -> int:
    """The automatic stale limit ``S`` in primary rows (SPEC §5.2).

    ``max(1, 2 · max(1, htf_minutes // primary_minutes))``: e.g. 24 for H1 on
    M5, 48 for D1 on H1, 2 for M15 on M15.

    Examples
    --------
    >>> auto_stale_limit("M5", "H1")
    24
    """
    p = Timeframe.parse(primary_tf).minutes
    h = Timeframe.parse(higher_tf).minutes
    return max(1, 2 * max(1, h // p))


def aligned_column(timeframe: str | Timeframe, field: str, side: str | None = None) -> str:
    """Name of an aligned higher-timeframe column.

    Parameters
    ----------
    timeframe
        The higher timeframe, e.g. ``"H1"``.
    field
        ``open``, ``high``, ``low``, ``close``, ``volume`` or ``time`` (the bar key).
    side
        ``"bid"``, ``"ask"``, or ``None`` for a plain (side-less) higher frame.

    Examples
    --------
    >>> aligned_column("H1", "close", "bid")
    'h1_bid_close'
    >>> aligned_column("d1", "time")
    'd1_time'
    """
    tf = _parse_tf(timeframe, "timeframe")
    if field not in _FIELDS:
        raise ParameterError(
            f"parameter 'field' must be one of {format_names(_FIELDS)}, got {field!r}"
        )
    if side is not None and side not in _SIDES:
        raise ParameterError(f"parameter 'side' must be 'bid', 'ask' or None, got {side!r}")
    return f"{_prefix(tf, side)}{field}"


# ---------------------------------------------------------------------------
# validation helpers


def _parse_tf(value: object, name: str) -> Timeframe:
    if not isinstance(value, str | Timeframe):
        raise TimeframeError(
            f"parameter '{name}' must be a timeframe string such as 'H1', got {value!r}"
        )
    try:
        return Timeframe.parse(value)
    except TimeframeError as exc:
        raise TimeframeError(f"parameter '{name}': {exc}") from None


def _prefix(tf: Timeframe, side: str | None) -> str:
    base = tf.name.lower()
    return f"{base}_{side}_" if side else f"{base}_"


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ParameterError(
            f"parameter '{name}' must be one of {format_names(allowed)}, got {value!r}"
        )
    return value


def _stale(value: object) -> int | None:
    """``None``/0 = automatic (0 as in the reference's configuration), else a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(
            "parameter 'stale_limit' must be None (automatic) or a non-negative integer "
            f"number of primary rows (0 also means automatic), got {value!r}"
        )
    return value or None


def _lazy(frame: object, name: str) -> pl.LazyFrame:
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    raise ParameterError(
        f"parameter '{name}' must be a polars DataFrame or LazyFrame, got {type(frame).__name__}"
    )


@dataclass(frozen=True)
class _SideFrame:
    """One side (or the plain columns) of one higher timeframe."""

    frame: pl.LazyFrame
    side: Side | None
    columns: dict[str, str]  # field -> column in frame
    schema: pl.Schema


def _sides_of(tf: Timeframe, value: object) -> list[_SideFrame]:
    """Split the ``higher`` entry of ``tf`` into per-side column sets."""
    what = f"higher[{tf.name!r}]"
    if isinstance(value, Mapping):
        out: list[_SideFrame] = []
        for side, frame in value.items():
            if side not in _SIDES:
                raise ParameterError(
                    f"parameter 'higher': {what} maps sides to frames; the keys must be "
                    f"'bid' and/or 'ask', got {side!r}"
                )
            lf = _lazy(frame, f"higher[{tf.name!r}][{side!r}]")
            schema = lf.collect_schema()
            for prefix in ("", f"{side}_"):
                if all(f"{prefix}{c}" in schema for c in OHLCV):
                    cols = {c: f"{prefix}{c}" for c in OHLCV}
                    break
            else:
                raise SchemaError(
                    f"{what}[{side!r}]: needs open/high/low/close/volume columns "
                    f"(plain or {side}_ prefixed); found: {format_names(schema.names())}"
                )
            out.append(_SideFrame(lf, cast(Side, side), cols, schema))
        if not out:
            raise ParameterError(f"parameter 'higher': {what} is an empty mapping")
        return out
    lf = _lazy(value, f"higher[{tf.name!r}]")
    schema = lf.collect_schema()
    found: list[_SideFrame] = []
    for side in (None, *_SIDES):
        prefix = f"{side}_" if side else ""
        if all(f"{prefix}{c}" in schema for c in OHLCV):
            found.append(_SideFrame(lf, side, {c: f"{prefix}{c}" for c in OHLCV}, schema))
    if not found:
        raise SchemaError(
            f"{what}: needs open/high/low/close/volume columns (plain or bid_/ask_ prefixed); "
            f"found: {format_names(schema.names())}"
        )
    return found


@dataclass(frozen=True)
class _Options:
    primary_tf: Timeframe
    entry: Entry
    previous_completed: bool
    stale_limit: int | None
    close_stamped: frozenset[Timeframe]
    mode: Mode


def _validate(
    primary_tf: object,
    higher_keys: Iterable[object],
    entry: object,
    previous_completed: object,
    stale_limit: object,
    close_stamped: object,
    mode: object,
) -> tuple[_Options, list[Timeframe]]:
    ptf = _parse_tf(primary_tf, "primary_tf")
    tfs: list[Timeframe] = []
    for key in higher_keys:
        tf = _parse_tf(key, "higher")
        if tf in tfs:
            raise ParameterError(f"parameter 'higher': timeframe {tf.name} is given twice")
        if tf.minutes < ptf.minutes:
            raise TimeframeError(
                f"parameter 'higher': timeframe {tf.name} is shorter than "
                f"primary_tf {ptf.name}; higher timeframes must be at least as long"
            )
        tfs.append(tf)
    ent = _choice("entry", entry, _ENTRIES)
    if not isinstance(previous_completed, bool):
        raise ParameterError(
            f"parameter 'previous_completed' must be True or False, got {previous_completed!r}"
        )
    stale = _stale(stale_limit)
    if isinstance(close_stamped, str | Timeframe):
        close_stamped = (close_stamped,)
    if not isinstance(close_stamped, Iterable):
        raise ParameterError(
            "parameter 'close_stamped' must be a collection of timeframe strings, "
            f"got {close_stamped!r}"
        )
    stamped: set[Timeframe] = set()
    for item in close_stamped:
        tf = _parse_tf(item, "close_stamped")
        if tf not in tfs:
            raise ParameterError(
                f"parameter 'close_stamped': {tf.name} is not one of the higher timeframes "
                f"({', '.join(t.name for t in tfs) or 'none'})"
            )
        stamped.add(tf)
    md = _choice("mode", mode, _MODES)
    options = _Options(
        ptf, cast(Entry, ent), previous_completed, stale, frozenset(stamped), cast(Mode, md)
    )
    return options, tfs
