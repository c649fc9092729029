"""The streaming merge: lazy inputs pulled in chunks and merged as they arrive.

With any :class:`polars.LazyFrame` among the inputs,
:meth:`~omega_pl.MultiSymbolSlicer.iter_batches` never collects the inputs: it
pulls each symbol's rows in chunks with :meth:`polars.LazyFrame.collect_batches`
and merges them as they arrive, so peak memory grows with ``batch_size`` ×
symbols (plus Polars' own read-ahead per input), not with the length of
history. That holds as far as the input plan itself streams: a plan that
must see a whole column before it can emit a row (a sort, a global
aggregate) is materialised inside Polars first.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator

import numpy as np
import polars as pl

from omega_pl.errors import DuplicateTimestampsWarning, SchemaError
from omega_pl.slicer.records import I64
from omega_pl.slicer.timeline import (
    _TIME,
    How,
    _empty_symbol_error,
    _merge,
    _place,
    _time_series,
    _time_values,
)


class _Stream:
    """One symbol's rows arriving in chunks, with a buffer of rows not yet placed."""

    __slots__ = ("chunks", "done", "frame", "rows", "symbol", "times", "warned")

    def __init__(self, symbol: str, chunks: Iterator[pl.DataFrame], empty: pl.DataFrame) -> None:
        self.symbol = symbol
        self.chunks = chunks
        self.frame = empty
        self.times: I64 = np.zeros(0, dtype=np.int64)
        self.done = False
        self.rows = 0
        self.warned = False

    def fill(self, rows: int) -> None:
        """Pull chunks until the buffer holds ``rows`` rows and two distinct timestamps.

        (Or until the input ends.) Topping every buffer up to a chunk makes
        each merge round place about a chunk of rows, however the streams'
        chunk boundaries are staggered.
        """
        while not self.done and (self.times.size < rows or self.times[0] == self.times[-1]):
            try:
                chunk = next(self.chunks)
            except StopIteration:
                self.done = True
                break
            if chunk.height == 0:
                continue
            self.rows += chunk.height
            frame = pl.concat([self.frame, chunk], rechunk=False) if self.frame.height else chunk
            times = np.concatenate([self.times, _time_values(chunk, self.symbol)])
            frame, times = self._dedupe(frame, times)
            self.frame, self.times = frame, times

    def _dedupe(self, frame: pl.DataFrame, t: I64) -> tuple[pl.DataFrame, I64]:
        if t.size < 2 or bool(np.all(t[1:] > t[:-1])):
            return frame, t
        if not bool(np.all(t[1:] >= t[:-1])):
            raise SchemaError(
                f"{self.symbol}: timestamps are not in ascending order; sort the LazyFrame "
                "(lf.sort('time')) or pass a DataFrame"
            )
        keep = np.empty(t.size, dtype=np.bool_)
        np.not_equal(t[1:], t[:-1], out=keep[:-1])
        keep[-1] = True
        if not self.warned:
            self.warned = True
            warnings.warn(
                f"{self.symbol}: rows with a repeated timestamp dropped (the last one was kept)",
                DuplicateTimestampsWarning,
                stacklevel=5,
            )
        return frame.filter(pl.Series(keep)), t[keep]

    def take(self, cut: int) -> tuple[pl.DataFrame, I64]:
        """Remove and return the first ``cut`` buffered rows."""
        head, times = self.frame.slice(0, cut), self.times[:cut]
        self.frame, self.times = self.frame.slice(cut), self.times[cut:]
        return head, times


def _stream_pieces(
    streams: list[_Stream], how: How, prefixes: list[str], chunk: int
) -> Iterator[pl.DataFrame]:
    """Merge the streams; yield consecutive pieces of the wide frame.

    Each round every stream buffers at least two distinct timestamps (or
    ends). Rows before the *frontier* — the smallest last buffered timestamp
    of the streams still running — are final for every stream (later chunks
    only hold later timestamps, and the last buffered row may still be
    replaced by a duplicate), so they are placed on the timeline and
    removed from the buffers.
    """
    while True:
        for s in streams:
            s.fill(chunk)
            if s.done and s.rows == 0:
                raise _empty_symbol_error(s.symbol)
        if how == "intersection":
            if any(s.done and s.times.size == 0 for s in streams):
                return
        elif all(s.done and s.times.size == 0 for s in streams):
            return
        active = [s for s in streams if not s.done]
        if active:
            frontier = min(int(s.times[-1]) for s in active)
            cuts = [int(np.searchsorted(s.times, frontier, side="left")) for s in streams]
        else:
            cuts = [int(s.times.size) for s in streams]
        parts = [s.take(c) for s, c in zip(streams, cuts, strict=True)]
        timeline, placements = _merge([t for _, t in parts], how)
        if timeline.size == 0:
            continue
        n = int(timeline.size)
        columns = [_time_series(timeline)]
        for (values, _), placement, prefix in zip(parts, placements, prefixes, strict=True):
            named = values.drop(_TIME)
            named = named.rename({c: prefix + c for c in named.columns})
            columns.extend(_place(named, placement, how, n).get_columns())
        yield pl.DataFrame(columns)


def _rebatch(pieces: Iterable[pl.DataFrame], batch_size: int) -> Iterator[pl.DataFrame]:
    """Regroup wide pieces into contiguous frames of ``batch_size`` rows (the last: fewer)."""
    held: list[pl.DataFrame] = []
    rows = 0
    for piece in pieces:
        held.append(piece)
        rows += piece.height
        if rows < batch_size:
            continue
        wide = pl.concat(held, rechunk=True)
        full = (wide.height // batch_size) * batch_size
        for start in range(0, full, batch_size):
            yield wide.slice(start, batch_size)
        held = [wide.slice(full)] if full < wide.height else []
        rows = wide.height - full
    if held:
        yield pl.concat(held, rechunk=True)
