""":func:`build_dataset`: check everything, run the symbols on an engine, move each into place."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import polars as pl

from omega_pl.alignment import align_timeframes
from omega_pl.errors import CandleFileNotFoundError, ParameterError
from omega_pl.indicators import IndicatorSpec, SpecLike, plan_indicators
from omega_pl.indicators.plan import SpecFilePath, expand_specs
from omega_pl.io import CANDLE_SCHEMA, TimeBound, candle_symbols, time_window
from omega_pl.timeframes import OHLCV, Timeframe
from omega_pl.universe import engines
from omega_pl.universe.report import BuildEvent, DatasetReport, SymbolReport, error_text
from omega_pl.universe.task import SymbolTask, symbols_text
from omega_pl.universe.writer import (
    commit_symbol,
    remove_temporaries,
    stale_temporaries,
    symbol_directory,
    temporaries,
)

__all__ = ["Engine", "build_dataset"]

#: The engines of :func:`build_dataset`.
Engine = Literal["local", "ray"]
_ENGINES = ("local", "ray")

_log = logging.getLogger("omega_pl.dataset")


# ---------------------------------------------------------------------------
# checking the arguments (before any work)


def _timeframes(higher: Sequence[str | Timeframe] | str | Timeframe) -> list[Timeframe]:
    if isinstance(higher, str | Timeframe):
        higher = [higher]
    if not isinstance(higher, Iterable):
        raise ParameterError(
            f"parameter 'higher' must be a list of timeframes such as ['H1', 'D1'], got {higher!r}"
        )
    return list(dict.fromkeys(Timeframe.parse(tf) for tf in higher))


def _empty_sides() -> dict[str, pl.LazyFrame]:
    side = pl.LazyFrame(schema=CANDLE_SCHEMA)
    return {"bid": side, "ask": side}


def _columns(tf: Timeframe, higher: Sequence[Timeframe], specs: Sequence[SpecLike]) -> list[str]:
    """The columns of every symbol's frame, from an empty frame of the loaders' schema.

    This checks the higher timeframes and every indicator spec (names,
    parameters, values, the columns each reads) without reading any file.
    """
    primary = pl.LazyFrame(
        schema={
            "time": CANDLE_SCHEMA["time"],
            **{f"{s}_{c}": pl.Float64() for s in ("bid", "ask") for c in OHLCV},
        }
    )
    lf = primary
    if higher:
        lf = align_timeframes(primary, {t.name: _empty_sides() for t in higher}, primary_tf=tf)
    if specs:
        lf = plan_indicators(lf, specs).apply(lf)
    return lf.collect_schema().names()


def _check_symbol_name(symbol: object) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise ParameterError(f"symbols: expected symbol names (text), got {symbol!r}")
    name = symbol.strip()
    if name in (".", "..") or name.startswith(".") or any(c in name for c in "/\\\0="):
        raise ParameterError(
            f"symbols: {name!r} cannot be a partition name symbol=<SYMBOL> "
            "(no leading '.', no '/', '\\' or '=')"
        )
    return name


def _symbols(root: Path, symbols: Sequence[str] | str | None) -> list[str]:
    """The symbols to build, spelled as their directories under ``root``, without repeats."""
    if symbols is None:
        found = candle_symbols(root)
        if not found:
            raise CandleFileNotFoundError(
                f"no symbol directories with candle files under {root} "
                "(expected ROOT/SYMBOL/SYMBOL_TF_BID.parquet or .csv)",
                [root],
            )
        return found
    if isinstance(symbols, str):
        symbols = [symbols]
    names = []
    for symbol in symbols:
        name = _check_symbol_name(symbol)
        if not (root / name).is_dir() and (root / name.upper()).is_dir():
            name = name.upper()
        names.append(name)
    if not names:
        raise ParameterError("symbols is empty; pass None for every symbol under root")
    return list(dict.fromkeys(names))


def _check_engine(
    engine: str, ray_address: str | None, workers: int | None
) -> Literal["local", "ray"]:
    if engine not in _ENGINES:
        raise ParameterError(f"engine must be 'local' or 'ray', got {engine!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ParameterError(f"workers must be a positive whole number, got {workers!r}")
    if engine == "local":
        if ray_address is not None:
            raise ParameterError("ray_address applies to engine='ray' only")
        if workers is not None:
            raise ParameterError(
                "workers applies to engine='ray' only (engine='local' builds one symbol at a "
                "time, each with every core)"
            )
        return "local"
    if ray_address is not None and (not isinstance(ray_address, str) or not ray_address):
        raise ParameterError(f"ray_address must be an address such as 'auto', got {ray_address!r}")
    engines.import_ray()  # MissingExtraError now, before any work
    return "ray"


def _output(
    out: str | os.PathLike[str], symbols: Sequence[str], overwrite: bool
) -> tuple[Path, list[Path]]:
    """The output directory, checked, and the leftovers of interrupted builds of ``symbols``.

    A symbol directory that an interrupted overwrite had renamed aside is put
    back first (:func:`~omega_pl.universe.writer.stale_temporaries`).
    """
    path = Path(out).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise ParameterError(f"out: {path} exists and is not a directory")
    stale = stale_temporaries(path, symbols)
    existing = [s for s in symbols if symbol_directory(path, s).exists()]
    if existing and not overwrite:
        raise ParameterError(
            f"out: {path} already holds {len(existing)} of the symbols "
            f"({symbols_text(existing)}); pass overwrite=True (CLI: --overwrite) to replace them"
        )
    return path, stale


# ---------------------------------------------------------------------------
# the build


def _commit(report: SymbolReport, out: Path, *, overwrite: bool, run: str) -> SymbolReport:
    """Move a finished symbol into place and point its report at the final files."""
    tmp = report.temporary
    if not report.ok or tmp is None:
        return replace(report, temporary=None)
    try:
        final = commit_symbol(tmp, out, report.symbol, overwrite=overwrite, run=run)
    except OSError as exc:
        remove_temporaries([tmp])
        return SymbolReport(
            report.symbol,
            seconds=report.seconds,
            error=error_text(exc),
            error_type=type(exc).__name__,
        )
    files = tuple(final / path.relative_to(tmp) for path in report.files)
    return replace(report, files=files, temporary=None)


def _log_report(report: SymbolReport) -> None:
    if report.ok:
        _log.info(
            "%s: %d rows, %d file(s), %s .. %s, %.2f s",
            report.symbol,
            report.rows,
            len(report.files),
            report.first,
            report.last,
            report.seconds,
        )
    else:
        _log.error("%s failed: %s", report.symbol, report.error)
        if report.details:
            _log.debug("%s failed:\n%s", report.symbol, report.details)


def build_dataset(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    symbols: Sequence[str] | str | None = None,
    timeframe: str | Timeframe = "M1",
    higher: Sequence[str | Timeframe] | str = (),
    indicators: SpecLike | SpecFilePath | Iterable[SpecLike | SpecFilePath] = (),
    start: TimeBound | None = None,
    end: TimeBound | None = None,
    market_hours: bool = True,
    engine: Engine = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    progress: Callable[[BuildEvent], None] | None = None,
) -> DatasetReport:
    """Build the candle + indicator dataset of many symbols as one hive-partitioned Parquet dataset.

    Per symbol this runs the plan the single-symbol API builds — load bid and
    ask and join them (:func:`~omega_pl.scan_symbol`), or with ``higher`` load
    and align the higher timeframes (:func:`~omega_pl.scan_aligned`); window;
    market hours; then the indicators (:func:`~omega_pl.with_indicators`) —
    and writes it as ``<out>/symbol=<SYMBOL>/year=<YYYY>/part-0.parquet``, so
    ``pl.scan_parquet(out, hive_partitioning=True)`` reads every symbol with
    partition pruning on ``symbol`` and ``year``.

    Nothing is half-written: a symbol's files go to a temporary directory
    inside ``out`` that is renamed to ``symbol=<SYMBOL>`` only when complete.
    A symbol that fails (a corrupt file, a missing side, an empty window)
    does not stop the others: its error is in the report and logged on the
    ``omega_pl.dataset`` logger, and nothing of it is written (with
    ``overwrite=True`` its earlier directory, if any, stays as it was). Every
    argument is checked before any work.

    Parameters
    ----------
    root
        Data root in the layout ``<root>/<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<parquet|csv>``.
        With Ray on several machines, a path every node can read.
    out
        The dataset directory (created if missing). With Ray on several
        machines, a path every node can write, under the same name.
    symbols
        The symbols to build; ``None`` = every symbol directory under
        ``root`` (:func:`~omega_pl.candle_symbols`).
    timeframe
        The primary timeframe: one row per bar of it.
    higher
        Higher timeframes aligned onto every row without look-ahead, as
        :func:`~omega_pl.scan_aligned` aligns them (from their own files, or
        resampled from ``timeframe``).
    indicators
        Whatever :func:`~omega_pl.with_indicators` takes: shorthand strings
        (``"atr:14"``), dicts, :class:`~omega_pl.IndicatorSpec`, or the path of a
        TOML spec file (:func:`~omega_pl.read_spec_file`).
    start, end
        Inclusive window of bar times (naive = UTC; a bare date as ``end``
        includes that day).
    market_hours
        ``True``: the loaders' filters (Sydney market hours for intraday
        timeframes, the weekend/flat-bar cleanup for ``D*``); ``False``: keep
        every bar.
    engine
        ``"local"`` (default): the symbols one after the other in this
        process. ``"ray"``: one Ray task per symbol (needs
        ``pip install "omega-pl[ray]"``).
    ray_address
        With ``engine="ray"``: the cluster to join (``ray.init(address=...)``,
        e.g. ``"auto"`` or ``"ray://head:10001"``); default a local Ray
        instance. A process already connected to Ray keeps its connection.
    workers
        With ``engine="ray"``: the CPUs of the local instance and the most
        tasks in flight at once (default: every core / the cluster's CPUs).
    overwrite
        Replace symbols that ``out`` already holds; without it they are an error.
    progress
        Called with a :class:`~omega_pl.universe.BuildEvent` when a symbol starts,
        is done or fails (in this process, in the order it happens).

    Returns
    -------
    DatasetReport
        Per symbol rows, first/last bar, files, seconds and the error if it
        failed; totals. ``report.raise_for_errors()`` raises if any failed.

    Raises
    ------
    ParameterError, TimeframeError, WindowError, CandleFileNotFoundError
        Before any work: bad arguments or indicator specs, a ``root`` that is
        not a directory (or holds no symbols), symbols already in ``out``
        without ``overwrite``.
    MissingExtraError
        ``engine="ray"`` without Ray installed.
    RayConnectionError
        ``engine="ray"`` and no Ray cluster answers at ``ray_address``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import polars as pl
    >>> import omega_pl
    >>> tmp = Path(tempfile.mkdtemp())
    >>> root = omega_pl.datasets.write_sample_data(
    ...     tmp / "data", symbols=["EURUSD", "USDJPY"], timeframes=["M5", "H1"],
    ...     start="2025-03-17", end="2025-03-19",
    ... )
    >>> report = omega_pl.build_dataset(
    ...     root, tmp / "dataset", timeframe="M5", higher=["H1"], indicators=["atr:14", "ema:20"]
    ... )
    >>> report.ok, report.rows, [path.relative_to(tmp).as_posix() for path in report.files]
    ... # doctest: +NORMALIZE_WHITESPACE
    (True, 1152, ['dataset/symbol=EURUSD/year=2025/part-0.parquet',
                  'dataset/symbol=USDJPY/year=2025/part-0.parquet'])
    >>> dataset = pl.scan_parquet(tmp / "dataset", hive_partitioning=True)
    >>> dataset.filter(pl.col("symbol") == "USDJPY").select(pl.len()).collect().item()
    576
    >>> dataset.collect_schema().names()[-4:]
    ['bid_close_atr_14', 'bid_close_ema_20', 'symbol', 'year']
    >>> import shutil; shutil.rmtree(tmp)
    """
    started = time.perf_counter()
    base = Path(root).expanduser().absolute()
    if not base.is_dir():
        raise CandleFileNotFoundError(f"data root {base} is not a directory", [base])
    tf = Timeframe.parse(timeframe)
    higher_tfs = _timeframes(higher)
    time_window(start, end)  # WindowError for a bad bound or start > end
    if not isinstance(market_hours, bool):
        raise ParameterError(f"market_hours must be True or False, got {market_hours!r}")
    if not isinstance(indicators, Iterable | Mapping | IndicatorSpec | os.PathLike):
        raise ParameterError(
            "indicators must be indicator specs (a list, one spec or a spec file path), "
            f"got {indicators!r}"
        )
    specs = expand_specs(indicators, None)
    columns = _columns(tf, higher_tfs, specs)
    names = _symbols(base, symbols)
    kind = _check_engine(engine, ray_address, workers)
    target, stale = _output(out, names, overwrite)
    run = uuid.uuid4().hex[:12]
    tasks = [
        SymbolTask(
            root=str(base),
            symbol=symbol,
            timeframe=tf.name,
            higher=tuple(t.name for t in higher_tfs),
            indicators=tuple(specs),
            start=start,
            end=end,
            market_hours=market_hours,
            out=str(target),
            run=run,
        )
        for symbol in names
    ]
    # Joining the cluster is the last check: a wrong address fails here, before any work.
    session = engines.connect_ray(ray_address, workers) if kind == "ray" else None
    try:
        reports = _run(
            tasks, target, stale, session, workers=workers, overwrite=overwrite, progress=progress
        )
    finally:
        if session is not None:
            session.close()
    dataset = DatasetReport(target, kind, reports, tuple(columns), time.perf_counter() - started)
    failed = [s.symbol for s in dataset.failed]
    _log.log(
        logging.ERROR if failed else logging.INFO,
        "built %d of %d symbol(s), %d rows in %.2f s%s",
        len(dataset.succeeded),
        len(names),
        dataset.rows,
        dataset.seconds,
        f"; failed: {symbols_text(failed)}" if failed else "",
    )
    return dataset


def _run(
    tasks: Sequence[SymbolTask],
    target: Path,
    stale: Sequence[Path],
    session: engines.RaySession | None,
    *,
    workers: int | None,
    overwrite: bool,
    progress: Callable[[BuildEvent], None] | None,
) -> tuple[SymbolReport, ...]:
    """Run the checked tasks, moving each finished symbol into place; reports in task order."""
    target.mkdir(parents=True, exist_ok=True)
    for path in remove_temporaries(stale):
        _log.warning("removed %s, left behind by an interrupted build", path)
    run = tasks[0].run
    names = [t.symbol for t in tasks]

    def notify(event: BuildEvent) -> None:
        if progress is not None:
            progress(event)

    def on_start(symbol: str) -> None:
        _log.info("%s: building", symbol)
        notify(BuildEvent(symbol, "running"))

    _log.info(
        "building %d symbol(s) (%s) %s into %s with engine=%s",
        len(names),
        symbols_text(names),
        tasks[0].timeframe,
        target,
        "local" if session is None else "ray",
    )
    results: dict[str, SymbolReport] = {}
    try:
        if session is None:
            stream = engines.run_local(tasks, on_start)
        else:
            stream = engines.run_ray(tasks, on_start, session=session, workers=workers)
        for raw in stream:
            report = _commit(raw, target, overwrite=overwrite, run=run)
            results[report.symbol] = report
            _log_report(report)
            notify(BuildEvent(report.symbol, "done" if report.ok else "failed", report))
    finally:
        # What killed or interrupted attempts left behind (a finished attempt's
        # directory has been renamed into place and no longer matches).
        remove_temporaries(temporaries(target, run))
    return tuple(results[s] for s in names)
