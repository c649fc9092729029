"""A whole universe of symbols as one Parquet dataset, locally or on a Ray cluster.

:func:`build_dataset` runs, for every symbol of a data root, the plan the
single-symbol API builds (load → window → market hours → alignment →
indicators) and writes the results as one hive-partitioned Parquet dataset::

    <out>/symbol=EURUSD/year=2025/part-0.parquet
    <out>/symbol=GBPUSD/year=2024/part-0.parquet
    ...

which ``pl.scan_parquet(out, hive_partitioning=True)`` reads with partition
pruning on ``symbol`` and ``year``. Per-symbol work is independent: the
``"local"`` engine runs the symbols one after the other in this process (each
plan on every core), the ``"ray"`` engine runs one Ray task per symbol on a
local Ray instance or an existing cluster. Both write byte-identical files.

One module per concern:

* :mod:`~omega_pl.universe.task`: a symbol's task (paths and specs, never
  frames), its plan, and running it into a temporary directory;
* :mod:`~omega_pl.universe.writer`: the layout on disk, partitions, moving a
  finished symbol into place, temporary directories;
* :mod:`~omega_pl.universe.engines`: the local and the Ray engine;
* :mod:`~omega_pl.universe.report`: :class:`DatasetReport`, :class:`SymbolReport`;
* :mod:`~omega_pl.universe.build`: :func:`build_dataset` itself.

Progress and failures are logged on the ``omega_pl.dataset`` logger (INFO per
symbol, ERROR for a failed symbol with its reason, DEBUG with its traceback).

Example
-------
>>> import logging
>>> import tempfile
>>> from pathlib import Path
>>> import polars as pl
>>> import omega_pl
>>> tmp = Path(tempfile.mkdtemp())
>>> root = omega_pl.datasets.write_sample_data(
...     tmp / "data", symbols=["EURUSD", "GBPUSD", "USDJPY"], timeframes=["M5"],
...     start="2025-03-17", end="2025-03-19",
... )
>>> (root / "GBPUSD" / "GBPUSD_M5_ASK.parquet").unlink()  # a missing side
>>> logging.getLogger("omega_pl.dataset").disabled = True  # keep this example's output short
>>> report = omega_pl.build_dataset(root, tmp / "out", timeframe="M5", indicators="rsi:14")
>>> report.ok, [s.symbol for s in report.succeeded], report.rows
(False, ['EURUSD', 'USDJPY'], 1152)
>>> print(report.failed[0].error)  # doctest: +ELLIPSIS
CandleFileNotFoundError: no ASK file for GBPUSD M5 under ...
>>> sorted(path.name for path in (tmp / "out").iterdir())  # nothing of GBPUSD
['symbol=EURUSD', 'symbol=USDJPY']
>>> pl.read_parquet(tmp / "out", hive_partitioning=True).group_by("symbol", "year").len().sort(
...     "symbol"
... ).rows()
[('EURUSD', 2025, 576), ('USDJPY', 2025, 576)]
>>> logging.getLogger("omega_pl.dataset").disabled = False
>>> import shutil; shutil.rmtree(tmp)
"""

from __future__ import annotations

from omega_pl.universe.build import Engine, build_dataset
from omega_pl.universe.engines import RayConnectionError
from omega_pl.universe.report import BuildEvent, DatasetBuildError, DatasetReport, SymbolReport
from omega_pl.universe.task import SymbolTask, symbol_plan

__all__ = [
    "BuildEvent",
    "DatasetBuildError",
    "DatasetReport",
    "Engine",
    "RayConnectionError",
    "SymbolReport",
    "SymbolTask",
    "build_dataset",
    "symbol_plan",
]
