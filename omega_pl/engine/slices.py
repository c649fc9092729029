"""``SymbolDataSlice``, ``CandleSet`` and ``MultiSymbolSlice``: what strategies hold per step.

Same constructors, methods and return values as the original engine's
(``ENGINE-API.md``; behaviour as in the seeds' migration runbooks and SPEC §6):
``None`` for a missing candle, ``history`` oldest first and including missing
entries and higher-timeframe repeats, and the package's own candle objects
(never copies) from ``get``/``latest``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, KeysView, Mapping, Sequence
from typing import Any

from omega_pl.engine.cache import IndicatorCache, get_cached_indicator_cache
from omega_pl.engine.package import DataPackage
from omega_pl.errors import ParameterError

__all__ = ["CandleSet", "MultiSymbolSlice", "SliceView", "SymbolDataSlice"]

_EMPTY: Sequence[Any] = ()


def _candles(package: DataPackage, timeframe: str, price_type: str) -> Sequence[Any]:
    sides = package.get(timeframe)
    candles = sides.get(price_type) if isinstance(sides, Mapping) else None
    return _EMPTY if candles is None else candles


class SymbolDataSlice:
    """One symbol's data package seen at one row (``index``) of the primary grid.

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import SymbolDataSlice, load_data_package
    >>> root = omega_pl.datasets.sample_data_root()
    >>> pkg = load_data_package(root, "EURUSD", "M5", ["H1"], start="2025-03-24", end="2025-03-25")
    >>> s = SymbolDataSlice(pkg, 30)
    >>> s.latest("M5") is pkg["M5"]["bid"][30], s.latest("D1"), len(s.history("M5", "ask", 5))
    (True, None, 5)
    >>> s.set_index(31); s.history("M5")[-1] is s.latest("M5")
    True
    """

    def __init__(
        self,
        multi_candle_data: DataPackage,
        index: int,
        indicator_cache: IndicatorCache | None = None,
    ) -> None:
        if not isinstance(multi_candle_data, Mapping):
            raise ParameterError(
                "parameter 'multi_candle_data' must be a mapping {tf: {'bid': candles, "
                f"'ask': candles}}, got {type(multi_candle_data).__name__}"
            )
        self.multi_candle_data = multi_candle_data
        self.index = index
        self.indicators = (
            indicator_cache
            if indicator_cache is not None
            else get_cached_indicator_cache(multi_candle_data)
        )
        self._seqs: dict[tuple[str, str], Sequence[Any]] = {}
        self._histories: dict[tuple[str, str, int], deque[Any]] = {}
        self._history_at: dict[tuple[str, str, int], int] = {}

    def set_index(self, index: int) -> None:
        """Move to row ``index`` (histories follow: one step extends them, a jump rebuilds)."""
        self.index = index

    def get(self, timeframe: str, price_type: str = "bid") -> Sequence[Any]:
        """All candles of ``timeframe`` and side (the package's own sequence; ``[]`` if absent)."""
        candles = _candles(self.multi_candle_data, timeframe, price_type)
        return [] if candles is _EMPTY else candles

    def series_ref(self, timeframe: str, price_type: str = "bid") -> Sequence[Any]:
        """The same sequence as :meth:`get` (no copy)."""
        return self.get(timeframe, price_type)

    def latest(self, timeframe: str, price_type: str = "bid") -> Any:
        """The candle at the current row, or None (missing bar, past the end, unknown tf)."""
        try:
            candles = self._seqs[timeframe, price_type]
        except KeyError:
            candles = _candles(self.multi_candle_data, timeframe, price_type)
            self._seqs[timeframe, price_type] = candles
        i = self.index
        return candles[i] if 0 <= i < len(candles) else None

    def history_view(self, timeframe: str, price_type: str = "bid", length: int = 20) -> deque[Any]:
        """The last ``length`` entries ending at the current row, oldest first: a live deque.

        Entries are the rows' candles (``None`` for a missing bar, repeats of a
        higher-timeframe bar). The deque is kept per (timeframe, side, length)
        and extended by one entry when the index moved one row forward.
        """
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ParameterError(f"parameter 'length' must be an integer >= 0, got {length!r}")
        key = (timeframe, price_type, length)
        candles = _candles(self.multi_candle_data, timeframe, price_type)
        i = self.index
        history = self._histories.get(key)
        at = self._history_at.get(key)
        if history is None:
            history = self._histories[key] = deque(maxlen=length)
            at = None
        if at == i:
            return history
        if at is not None and at + 1 == i and 0 <= i < len(candles):
            history.append(candles[i])
        else:
            history.clear()
            if i >= 0 and length:
                history.extend(candles[max(0, i - length + 1) : i + 1])
        self._history_at[key] = i
        return history

    def history(self, timeframe: str, price_type: str = "bid", length: int = 20) -> list[Any]:
        """A copy of :meth:`history_view` as a list."""
        return list(self.history_view(timeframe, price_type, length))

    def __getitem__(self, timeframe: str) -> Sequence[Any]:
        """The bid candles of ``timeframe`` (as :meth:`get`)."""
        return self.get(timeframe, "bid")

    def __repr__(self) -> str:
        return f"SymbolDataSlice(index={self.index}, timeframes={list(self.multi_candle_data)})"


class CandleSet:
    """Candles of several timeframes per side: ``{tf: [candles]}`` for bid and for ask.

    Examples
    --------
    >>> from omega_pl.engine import Candle, CandleSet
    >>> bid = [Candle(None, 1.0, 1.1, 0.9, 1.05, 3.0)]
    >>> cs = CandleSet({"M5": bid}, {"M5": []})
    >>> cs.get_latest("M5", 0) is bid[0], cs.get_latest("M5", 0, "ask"), cs.get_all("H1")
    (True, None, [])
    """

    def __init__(
        self,
        tf_bid_candles: Mapping[str, Sequence[Any]],
        tf_ask_candles: Mapping[str, Sequence[Any]],
    ) -> None:
        self.tf_bid_candles = tf_bid_candles
        self.tf_ask_candles = tf_ask_candles

    def _side(self, price_type: str) -> Mapping[str, Sequence[Any]]:
        return self.tf_ask_candles if price_type == "ask" else self.tf_bid_candles

    def get_latest(self, timeframe: str, index: int, price_type: str = "bid") -> Any:
        """The candle at ``index`` of ``timeframe``, or None (unknown tf, out of range)."""
        candles = self._side(price_type).get(timeframe)
        if candles is None or not 0 <= index < len(candles):
            return None
        return candles[index]

    def get_all(self, timeframe: str, price_type: str = "bid") -> Sequence[Any]:
        """Every candle of ``timeframe`` (``[]`` if unknown)."""
        candles = self._side(price_type).get(timeframe)
        return [] if candles is None else candles


class SliceView:
    """One symbol's candle(s) at the current timestamp (:meth:`MultiSymbolSlice.__getitem__`).

    Built from one candle (returned for any side) or ``{"bid": c, "ask": c}``.

    Examples
    --------
    >>> from omega_pl.engine import Candle, SliceView
    >>> bid, ask = Candle(None, 1, 1, 1, 1, 1), Candle(None, 2, 2, 2, 2, 2, "ask")
    >>> SliceView({"bid": bid, "ask": ask}).latest("M5", "ask") is ask
    True
    >>> SliceView(bid).latest() is bid
    True
    """

    __slots__ = ("_candles",)

    def __init__(self, candle: Any) -> None:
        self._candles = candle

    def latest(self, tf: str | None = None, price_type: str = "bid") -> Any:
        """The candle (of ``price_type`` when built from both sides), or None."""
        if isinstance(self._candles, Mapping):
            return self._candles.get(price_type)
        return self._candles


class MultiSymbolSlice:
    """Several symbols at one timestamp: ``candle_lookups[symbol][price_type][timestamp]``.

    ``candle_lookups`` is ``{symbol: {price_type: {timestamp: candle}}}`` (a
    dict, or :func:`~omega_pl.engine.candle_lookup` over a loaded sequence).
    A symbol without a candle at the timestamp gives None (no carry-forward).

    Examples
    --------
    >>> import omega_pl
    >>> from omega_pl.engine import CSVDataHandler, MultiSymbolSlice, candle_lookup
    >>> root = omega_pl.datasets.sample_data_root()
    >>> sides = CSVDataHandler("EURUSD", "M5", root=root).load_candles("2025-03-24", "2025-03-25")
    >>> lookups = {"EURUSD": {side: candle_lookup(seq) for side, seq in sides.items()}}
    >>> t = sides["bid"][10].timestamp
    >>> m = MultiSymbolSlice(lookups, t, "M5")
    >>> m.get("EURUSD") is sides["bid"][10]
    True
    >>> m["EURUSD"].latest(price_type="ask") is sides["ask"][10]
    True
    """

    def __init__(
        self,
        candle_lookups: Mapping[str, Mapping[str, Mapping[Any, Any]]],
        timestamp: Any,
        primary_tf: str,
    ) -> None:
        self.candle_lookups = candle_lookups
        self.timestamp = timestamp
        self.primary_tf = primary_tf
        self.index = 0

    @property
    def slices(self) -> KeysView[str]:
        """The symbols (a keys view)."""
        return self.candle_lookups.keys()

    def set_index(self, index: int) -> None:
        """Record the step's row number (lookups go by timestamp)."""
        self.index = int(index)

    def set_timestamp(self, timestamp: Any) -> None:
        """Move to ``timestamp``."""
        self.timestamp = timestamp

    def get(self, symbol: str, price_type: str = "bid") -> Any:
        """The candle of ``symbol`` and side at the current timestamp, or None."""
        sides = self.candle_lookups.get(symbol)
        lookup = sides.get(price_type) if sides is not None else None
        return None if lookup is None else lookup.get(self.timestamp)

    def keys(self) -> KeysView[str]:
        """The symbols."""
        return self.candle_lookups.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.candle_lookups)

    def __len__(self) -> int:
        return len(self.candle_lookups)

    def __getitem__(self, symbol: str) -> SliceView:
        if symbol not in self.candle_lookups:
            raise KeyError(symbol)
        return SliceView({side: self.get(symbol, side) for side in ("bid", "ask")})

    def __repr__(self) -> str:
        return f"MultiSymbolSlice({self.timestamp!s}, symbols={list(self.candle_lookups)})"
