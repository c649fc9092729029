"""The Series type of cached indicator results: pandas, with one-row reads at array speed.

Strategies of the original engine read an indicator once per bar and row:
``ind.ema(tf, "bid", 20).iloc[i]``. pandas spends about 4 µs on such a read
(it builds an indexer, checks the key, boxes the value), which made it the
largest cost of a backtest's step. :class:`CachedSeries` is a real
``pandas.Series`` (a subclass; every pandas method works and returns plain
``pandas.Series``) whose ``.iloc[i]`` and ``.iat[i]`` with one integer ``i``
read the backing array directly and return what pandas returns (a
``numpy.float64``, ``IndexError`` out of bounds); any other key goes to
pandas. Its values are read-only: the cache hands the same object to every
caller.
"""

from __future__ import annotations

import operator
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["CachedSeries", "cached_series"]


class _RowReader:
    """``series.iloc``/``series.iat``: one integer is an array read, anything else pandas'."""

    __slots__ = ("_kind", "_series", "_values")

    def __init__(self, series: CachedSeries, values: npt.NDArray[np.float64], kind: str) -> None:
        self._series = series
        self._values = values
        self._kind = kind

    def __getitem__(self, key: Any) -> Any:
        if type(key) is int:
            return self._values[key]
        if isinstance(key, np.integer):
            return self._values[operator.index(key)]
        return getattr(pd.Series, self._kind).fget(self._series)[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        getattr(pd.Series, self._kind).fget(self._series)[key] = value


class CachedSeries(pd.Series):  # type: ignore[misc]
    """A cached indicator result: a ``pandas.Series`` with array-speed ``.iloc[i]``/``.iat[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from omega_pl.engine.series import cached_series
    >>> s = cached_series(np.array([1.0, 2.0, np.nan]))
    >>> s.iloc[1], s.iat[-1], s.iloc[0:2].tolist(), type(s * 2).__name__
    (np.float64(2.0), np.float64(nan), [1.0, 2.0], 'Series')
    """

    # pandas' subclassing hooks: the readers are instance state, not metadata.
    _internal_names: ClassVar[list[str]] = [
        *pd.Series._internal_names,
        "_iloc_reader",
        "_iat_reader",
    ]
    _internal_names_set: ClassVar[set[str]] = set(_internal_names)

    @property
    def _constructor(self) -> Any:
        return pd.Series

    @property
    def iloc(self) -> Any:
        try:
            return self._iloc_reader
        except AttributeError:  # made by pandas (e.g. unpickled): pandas' own
            return pd.Series.iloc.fget(self)

    @property
    def iat(self) -> Any:
        try:
            return self._iat_reader
        except AttributeError:
            return pd.Series.iat.fget(self)


def cached_series(values: npt.NDArray[np.float64], index: pd.Index | None = None) -> CachedSeries:
    """A read-only :class:`CachedSeries` over ``values`` (no copy); ``RangeIndex`` by default."""
    values.flags.writeable = False
    series = CachedSeries(values, index=index, copy=False)
    series._iloc_reader = _RowReader(series, values, "iloc")
    series._iat_reader = _RowReader(series, values, "iat")
    return series
