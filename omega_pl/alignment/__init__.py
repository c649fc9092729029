"""Multi-timeframe alignment: higher-timeframe bars on the primary grid (SPEC §5).

:func:`align_timeframes` puts the bars of higher timeframes (``H1``, ``D1`` …)
onto the rows of a primary-timeframe frame (``M5`` …) so that a row at time
``t`` sees only higher bars that had **completed** by ``t`` — no look-ahead.
:func:`scan_aligned` does the loading too: it scans a symbol's primary files,
reads each higher timeframe from its own files or resamples it from the
primary ones, and aligns everything in one lazy plan.

One module per concern:

* :mod:`~omega_pl.alignment.options`: the arguments of an alignment checked
  (timeframes, ``entry``, ``stale_limit``, ``mode`` …, the sides of each higher
  frame), :func:`auto_stale_limit` and the names of the columns it adds
  (:func:`aligned_column`);
* :mod:`~omega_pl.alignment.asof`: the rules (SPEC §5.2) and the lazy plan of
  as-of joins that applies them, :func:`align_timeframes`;
* :mod:`~omega_pl.alignment.scan`: :func:`scan_aligned`, which finds each
  higher timeframe's files or resamples it from the primary ones.

Example
-------
>>> import polars as pl
>>> import omega_pl
>>> m5 = omega_pl.scan_symbol("data", "EURUSD", "M5")  # doctest: +SKIP
>>> h1 = omega_pl.resample(m5, "H1")  # doctest: +SKIP
>>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")  # doctest: +SKIP
>>> aligned.with_columns(  # doctest: +SKIP
...     omega_pl.ema_stepwise("h1_bid_close", 20, bar="h1_bid_time").alias("h1_ema20")
... ).collect()

or, loading and aligning in one plan (``H1`` from its files, ``D1`` resampled
from ``M5`` if it has none):

>>> scan = omega_pl.scan_aligned("data", "EURUSD", "M5", higher=["H1", "D1"])  # doctest: +SKIP
>>> scan.origins  # doctest: +SKIP
{'H1': 'file', 'D1': 'resampled'}
>>> df = scan.frame.collect()  # doctest: +SKIP
"""

from __future__ import annotations

from omega_pl.alignment.asof import align_timeframes
from omega_pl.alignment.options import (
    Entry,
    HigherFrame,
    Mode,
    aligned_column,
    auto_stale_limit,
)
from omega_pl.alignment.scan import AlignedScan, HigherSource, Origin, Source, scan_aligned
from omega_pl.errors import LookAheadWarning

__all__ = [
    "AlignedScan",
    "Entry",
    "HigherFrame",
    "HigherSource",
    "LookAheadWarning",
    "Mode",
    "Origin",
    "Source",
    "align_timeframes",
    "aligned_column",
    "auto_stale_limit",
    "scan_aligned",
]
