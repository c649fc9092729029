"""The multi-symbol slicer: several symbols on one timeline, walked in batches (SPEC §6).

Wide frame naming
-----------------
:attr:`MultiSymbolSlicer.frame` has a ``time`` column (``Datetime("us",
"UTC")``) followed by every non-time column ``c`` of every symbol ``S`` as
``f"{S}_{c}"``, symbols in the order of the mapping, columns in the order of
each frame: ``EURUSD_bid_open … EURUSD_ask_volume, GBPUSD_bid_open …``.
Aligned higher-timeframe or indicator columns travel along in the same way
(``EURUSD_h1_bid_close``, ``EURUSD_ema_20``). :meth:`MultiSymbolSlicer.column`
returns the name for a symbol, field and side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import polars as pl

from omega_pl.errors import ParameterError, format_names
from omega_pl.slicer.batch import MultiSymbolBatch, MultiSymbolSlice, _column_name
from omega_pl.slicer.records import I64
from omega_pl.slicer.stream import _rebatch, _Stream, _stream_pieces
from omega_pl.slicer.timeline import (
    _TIME,
    Bool,
    Frame,
    How,
    Span,
    _check_how,
    _empty_intersection_error,
    _empty_symbol_error,
    _merge,
    _place,
    _positive,
    _prepare,
    _sort_unique,
    _span,
    _time_series,
)

__all__ = ["MultiSymbolSlicer"]

#: Rows per chunk pulled from a lazy input while streaming (bounds below/above).
_MIN_CHUNK: Final = 4_096
_MAX_CHUNK: Final = 32_768

# ---------------------------------------------------------------------------
# multi-symbol slicer


class MultiSymbolSlicer:
    """Several symbols on one timeline (SPEC §6), as one wide frame or in batches.

    Parameters
    ----------
    frames : mapping of str to polars.DataFrame or polars.LazyFrame
        Symbol → candle frame with a ``time`` column (Datetime; naive = UTC)
        and ``bid_open … bid_volume, ask_open … ask_volume`` (as
        :func:`omega_pl.scan_symbol` returns). Any other columns travel along.
        Rows must be one per timestamp; a DataFrame out of order is sorted,
        and of repeated timestamps the last row is kept (with a
        :class:`~omega_pl.DuplicateTimestampsWarning`).
    how : {"intersection", "union"}
        The timeline: timestamps present in every symbol (default, the
        original engine's only mode), or in any symbol.
    columns : sequence of str, optional
        Columns to carry per symbol (default: all); selecting fewer saves
        memory and, for lazy inputs, reading.

    Notes
    -----
    Every symbol is joined onto the timeline exactly (no carry-forward): on a
    union timeline a symbol without a bar at ``t`` is null at ``t``. The wide
    frame is ``time`` plus ``f"{symbol}_{column}"`` for every other column.

    With DataFrames only, input errors (an empty symbol, an empty
    intersection) are raised here; with a LazyFrame among the inputs nothing
    is read until :attr:`timeline`, :attr:`frame`, ``len()`` or
    :meth:`iter_batches` is used, and the errors surface there.

    Raises
    ------
    ParameterError
        Bad ``how``, no symbols, a symbol that is not a non-empty string, or
        two symbols whose column names collide in the wide frame.
    SchemaError
        A frame without ``time`` (or a requested column), or with null
        timestamps.
    TimelineError
        A symbol without rows (naming it), or an empty intersection (naming
        every symbol's time range).

    Examples
    --------
    >>> import omega_pl
    >>> root = omega_pl.datasets.sample_data_root()
    >>> window = {"start": "2025-03-18 10:00", "end": "2025-03-18 10:04"}
    >>> frames = {s: omega_pl.scan_symbol(root, s, "M1", **window) for s in ("EURUSD", "GBPUSD")}
    >>> slicer = omega_pl.MultiSymbolSlicer(frames)
    >>> for batch in slicer.iter_batches(batch_size=2):
    ...     closes = batch.array("EURUSD", "close")  # vectorised path
    ...     for step in batch.slices():  # per-step path
    ...         eu = step.get("EURUSD", "bid")
    ...         print(step.index, eu.timestamp.time(), eu.close, closes[step.index - batch.offset])
    0 10:00:00 1.08863 1.08863
    1 10:01:00 1.08878 1.08878
    2 10:02:00 1.0889 1.0889
    3 10:03:00 1.08905 1.08905
    4 10:04:00 1.08926 1.08926
    """

    def __init__(
        self,
        frames: Mapping[str, pl.DataFrame | pl.LazyFrame],
        *,
        how: How = "intersection",
        columns: Sequence[str] | None = None,
    ) -> None:
        self._how: How = _check_how(how)
        if not isinstance(frames, Mapping):
            raise ParameterError(
                f"frames must be a mapping of symbol to frame, got {type(frames).__name__}"
            )
        if not frames:
            raise ParameterError("frames is empty: give at least one symbol")
        if isinstance(columns, str):
            raise ParameterError("columns must be a sequence of column names, not one string")
        self._symbols: tuple[str, ...] = tuple(frames)
        self._inputs: list[Frame] = [_prepare(frames[s], s, columns) for s in self._symbols]
        self._names: list[list[str]] = [
            [f"{s}_{c}" for c in f.collect_schema().names() if c != _TIME]
            for s, f in zip(self._symbols, self._inputs, strict=True)
        ]
        seen: dict[str, str] = {}
        for symbol, names in zip(self._symbols, self._names, strict=True):
            for name in names:
                if name in seen:
                    raise ParameterError(
                        f"wide column {name!r} would come from both {seen[name]!r} and "
                        f"{symbol!r}; rename a column or a symbol"
                    )
                seen[name] = symbol
        self._lazy = any(isinstance(f, pl.LazyFrame) for f in self._inputs)
        self._timeline: pl.Series | None = None
        self._frame: pl.DataFrame | None = None
        self._eager: list[tuple[pl.DataFrame, I64]] | None = None
        self._placements: list[Bool | None] | list[I64] | None = None
        if not self._lazy:
            self._setup_eager(self._collect(None))

    # -- construction helpers

    def _collect(self, columns: list[str] | None) -> list[tuple[pl.DataFrame, I64]]:
        """The inputs (or just ``columns`` of them) collected, sorted and deduplicated.

        DataFrames out of order are sorted; a LazyFrame out of order is an
        error (the streaming path could not sort it either).
        """
        lazy = [i for i, f in enumerate(self._inputs) if isinstance(f, pl.LazyFrame)]
        collected = pl.collect_all(
            [
                (f if columns is None else f.select(columns))
                for f in self._inputs
                if isinstance(f, pl.LazyFrame)
            ]
        )
        got = dict(zip(lazy, collected, strict=True))
        out = []
        for i, (symbol, frame) in enumerate(zip(self._symbols, self._inputs, strict=True)):
            if isinstance(frame, pl.DataFrame):
                eager = frame if columns is None else frame.select(columns)
            else:
                eager = got[i]
            out.append(_sort_unique(eager, symbol, may_sort=i not in got))
        for symbol, (_, t) in zip(self._symbols, out, strict=True):
            if t.size == 0:
                raise _empty_symbol_error(symbol)
        return out

    def _set_timeline(
        self, collected: list[tuple[pl.DataFrame, I64]]
    ) -> list[Bool | None] | list[I64]:
        timeline, placements = _merge([t for _, t in collected], self._how)
        if timeline.size == 0:
            spans = {s: _span(t) for s, (_, t) in zip(self._symbols, collected, strict=True)}
            raise _empty_intersection_error(spans)
        self._timeline = _time_series(timeline)
        return placements

    def _setup_eager(self, collected: list[tuple[pl.DataFrame, I64]]) -> None:
        """Place the collected inputs on the timeline (the wide frame is built later)."""
        self._placements = self._set_timeline(collected)
        self._eager = collected

    # -- public API

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols, in the order of the input mapping.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> MultiSymbolSlicer(frames).symbols
        ('EURUSD', 'GBPUSD')
        """
        return self._symbols

    @property
    def how(self) -> How:
        """``"intersection"`` or ``"union"``.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> MultiSymbolSlicer(frames, how="union").how
        'union'
        """
        return self._how

    @property
    def timeline(self) -> pl.Series:
        """The sorted unique timestamps (``time``, ``Datetime("us", "UTC")``).

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> slicer.timeline.to_list()  # doctest: +NORMALIZE_WHITESPACE
        [datetime.datetime(2025, 3, 18, 10, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
         datetime.datetime(2025, 3, 18, 10, 1, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
         datetime.datetime(2025, 3, 18, 10, 2, tzinfo=zoneinfo.ZoneInfo(key='UTC'))]
        >>> len(slicer)
        3
        """
        if self._timeline is None:
            self._set_timeline(self._collect([_TIME]))
        assert self._timeline is not None
        return self._timeline

    def __len__(self) -> int:
        return self.timeline.len()

    @property
    def frame(self) -> pl.DataFrame:
        """The wide aligned frame: ``time`` and ``f"{symbol}_{column}"`` columns.

        Built on first access (lazy inputs are collected for it) and kept.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> slicer.frame.shape
        (3, 21)
        >>> slicer.frame.columns[:3]
        ['time', 'EURUSD_bid_open', 'EURUSD_bid_high']
        """
        if self._frame is None:
            if self._eager is None:
                self._setup_eager(self._collect(None))
            assert self._eager is not None and self._placements is not None
            assert self._timeline is not None
            n = self._timeline.len()
            columns = [self._timeline]
            for (frame, _), placement, symbol in zip(
                self._eager, self._placements, self._symbols, strict=True
            ):
                values = frame.drop(_TIME)
                values = values.rename({c: f"{symbol}_{c}" for c in values.columns})
                columns.extend(_place(values, placement, self._how, n).get_columns())
            self._frame = pl.DataFrame(columns)
            self._eager = None  # the wide frame holds everything now
            self._placements = None
        return self._frame

    def column(self, symbol: str, field: str, side: str | None = "bid") -> str:
        """Name of a wide-frame column, e.g. ``column("EURUSD", "close") == "EURUSD_bid_close"``.

        ``side=None`` gives ``f"{symbol}_{field}"`` (indicator or other columns).

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> slicer.column("GBPUSD", "close", "ask"), slicer.column("EURUSD", "ema_20", None)
        ('GBPUSD_ask_close', 'EURUSD_ema_20')
        """
        if symbol not in self._symbols:
            raise KeyError(f"unknown symbol {symbol!r}; symbols: {format_names(self._symbols)}")
        return _column_name(symbol, field, side)

    def iter_batches(self, batch_size: int = 65_536) -> Iterator[MultiSymbolBatch]:
        """Walk the timeline in batches of ``batch_size`` rows (the last may be shorter).

        With DataFrame inputs (or once :attr:`frame` was built) each batch is a
        zero-copy slice of the wide frame. With a LazyFrame among the inputs the
        rows are streamed: nothing is collected whole, and peak memory grows
        with ``batch_size`` × symbols, not with the length of history.

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> [(batch.offset, len(batch)) for batch in slicer.iter_batches(batch_size=2)]
        [(0, 2), (2, 1)]
        """
        size = _positive("batch_size", batch_size)
        if self._frame is not None or not self._lazy:
            return self._iter_frame(size)
        return self._iter_stream(size)

    def slices(self, batch_size: int = 65_536) -> Iterator[MultiSymbolSlice]:
        """Every step of the timeline, batch by batch (see :meth:`iter_batches`).

        Examples
        --------
        >>> from omega_pl import MultiSymbolSlicer
        >>> from omega_pl.datasets import generate_candles
        >>> span = {"start": "2025-03-18T10:00", "end": "2025-03-18T10:03"}
        >>> frames = {s: generate_candles(s, "M1", **span) for s in ("EURUSD", "GBPUSD")}
        >>> slicer = MultiSymbolSlicer(frames)
        >>> [str(step.timestamp.time()) for step in slicer.slices()]
        ['10:00:00', '10:01:00', '10:02:00']
        """
        for batch in self.iter_batches(batch_size):
            yield from batch.slices()

    def _iter_frame(self, size: int) -> Iterator[MultiSymbolBatch]:
        frame = self.frame
        for start in range(0, frame.height, size):
            yield MultiSymbolBatch(frame.slice(start, size), start, self._symbols)

    def _iter_stream(self, size: int) -> Iterator[MultiSymbolBatch]:
        chunk = min(max(size, _MIN_CHUNK), _MAX_CHUNK)
        streams = []
        for symbol, frame in zip(self._symbols, self._inputs, strict=True):
            if isinstance(frame, pl.DataFrame):
                frame, _ = _sort_unique(frame, symbol, may_sort=True)
                chunks: Iterator[pl.DataFrame] = frame.iter_slices(chunk)
                empty = frame.clear()
            else:
                chunks = iter(frame.collect_batches(chunk_size=chunk, lazy=True))
                empty = pl.DataFrame(schema=frame.collect_schema())
            streams.append(_Stream(symbol, chunks, empty))
        prefixes = [f"{s}_" for s in self._symbols]
        offset = 0
        try:
            pieces = _stream_pieces(streams, self._how, prefixes, chunk)
            for wide in _rebatch(pieces, size):
                yield MultiSymbolBatch(wide, offset, self._symbols)
                offset += wide.height
        finally:
            for s in streams:  # let Polars drop the queries of an abandoned walk
                s.chunks = iter(())
        if offset == 0:
            raise _empty_intersection_error(self._spans())

    def _spans(self) -> dict[str, Span]:
        """Each input's first/last timestamp and row count, by a small query."""
        t = pl.col(_TIME).to_physical()
        stats = pl.collect_all(
            [f.lazy().select(t.min(), t.max().alias("hi"), pl.len()) for f in self._inputs]
        )
        return {
            s: (int(r.item(0, 0)), int(r.item(0, 1)), int(r.item(0, 2)))
            for s, r in zip(self._symbols, stats, strict=True)
        }

    def __repr__(self) -> str:
        return (
            f"MultiSymbolSlicer(symbols={list(self._symbols)!r}, how={self._how!r}, "
            f"lazy={self._lazy})"
        )
