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
>>> root = omega_pl.datasets.sample_data_root()
>>> m5 = omega_pl.scan_symbol(root, "EURUSD", "M5", start="2025-03-18", end="2025-03-18")
>>> h1 = omega_pl.resample(m5, "H1")
>>> aligned = omega_pl.align_timeframes(m5, {"H1": h1}, primary_tf="M5")
>>> df = aligned.with_columns(
...     omega_pl.ema_stepwise("h1_bid_close", 20, bar="h1_bid_time").alias("h1_ema20")
... ).collect()
>>> df.filter(pl.col("time").dt.hour() == 10).select("time", "h1_bid_close", "h1_bid_time").head(2)
shape: (2, 3)
┌─────────────────────────┬──────────────┬─────────────────────────┐
│ time                    ┆ h1_bid_close ┆ h1_bid_time             │
│ ---                     ┆ ---          ┆ ---                     │
│ datetime[μs, UTC]       ┆ f64          ┆ datetime[μs, UTC]       │
╞═════════════════════════╪══════════════╪═════════════════════════╡
│ 2025-03-18 10:00:00 UTC ┆ 1.08877      ┆ 2025-03-18 09:00:00 UTC │
│ 2025-03-18 10:05:00 UTC ┆ 1.08877      ┆ 2025-03-18 09:00:00 UTC │
└─────────────────────────┴──────────────┴─────────────────────────┘

or, loading and aligning in one plan (``H1`` from its files, ``H2`` resampled
from ``M5``, as the sample data has no H2 files):

>>> scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "H2"])
>>> scan.origins
{'H1': 'file', 'H2': 'resampled'}
>>> df = scan.frame.collect()
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
