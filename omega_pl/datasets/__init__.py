"""Seeded, deterministic synthetic bid/ask candles.

This package produces realistic-looking FX / metal candle data for examples, tests,
benchmarks and the CLI's "no data of my own" path. Of :mod:`omega_pl` it uses only
:class:`~omega_pl.Timeframe` (parsing) and the typed errors; its session rule and
its aggregation are its own, so that the library's masks and resampling can be
tested against it.

The package has three parts:

* :mod:`~omega_pl.datasets.simulator`: the price model: it simulates
  M1 bid and ask bars in integer ticks, and their aggregation to any timeframe;
* :mod:`~omega_pl.datasets.candles`: :func:`generate_candles` and
  :func:`synthetic_candles`, frames on demand;
* this module: :func:`write_sample_data` writes the sample files in the
  original engine's layout, :func:`sample_data_root` caches the default set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from omega_pl.datasets.candles import (
    SAMPLE_END,
    SAMPLE_START,
    _check_seed,
    _parse_timeframe,
    _side_frame,
    _span,
    generate_candles,
    synthetic_candles,
)
from omega_pl.datasets.simulator import _aggregate, _m1_sides, _profile, _Side
from omega_pl.errors import ParameterError

__all__ = [
    "SAMPLE_END",
    "SAMPLE_START",
    "SAMPLE_SYMBOLS",
    "SAMPLE_TIMEFRAMES",
    "generate_candles",
    "sample_data_root",
    "synthetic_candles",
    "write_sample_data",
]

SAMPLE_SYMBOLS: tuple[str, ...] = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
"""Symbols written by :func:`write_sample_data` by default."""

SAMPLE_TIMEFRAMES: tuple[str, ...] = ("M1", "M5", "M15", "H1", "H4", "D1")
"""Timeframes written by :func:`write_sample_data` by default."""

_CSV_HEADER: Final = ("UTC time", "Open", "High", "Low", "Close", "Volume")
_CSV_DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S%:z"
_SAMPLE_CACHE_VERSION: Final = 1  # bump whenever the generated sample data changes
_STALE_TMP_SECONDS: Final = 24 * 3600


def _check_path_symbol(symbol: str) -> None:
    _profile(symbol)
    if symbol in {".", ".."} or any(sep in symbol for sep in ("/", "\\", "\0")):
        msg = f"symbol {symbol!r} cannot be used as a directory name"
        raise ParameterError(msg)


def _check_fmt(fmt: str) -> Literal["parquet", "csv"]:
    if fmt == "parquet":
        return "parquet"
    if fmt == "csv":
        return "csv"
    msg = f"fmt must be 'parquet' or 'csv', got {fmt!r}"
    raise ParameterError(msg)


def _write_side(side: _Side, decimals: int, path: Path, fmt: Literal["parquet", "csv"]) -> None:
    frame = _side_frame(side, decimals)
    if fmt == "parquet":
        frame.write_parquet(path)
    else:
        renamed = frame.rename(dict(zip(frame.columns, _CSV_HEADER, strict=True)))
        renamed.write_csv(path, datetime_format=_CSV_DATETIME_FORMAT)


def write_sample_data(
    root: str | Path,
    *,
    symbols: Sequence[str] = SAMPLE_SYMBOLS,
    timeframes: Sequence[str] = SAMPLE_TIMEFRAMES,
    fmt: Literal["parquet", "csv"] = "parquet",
    start: datetime | str = SAMPLE_START,
    end: datetime | str = SAMPLE_END,
    seed: int = 0,
) -> Path:
    """Write sample bid and ask candle files in the original engine's layout.

    For every symbol and timeframe two files are written:
    ``<root>/<SYMBOL>/<SYMBOL>_<TF>_BID.<ext>`` and ``..._ASK.<ext>``. The M1 path
    of each symbol is simulated once and aggregated to every timeframe, so a
    higher-timeframe file equals the M1 file resampled (epoch-anchored UTC
    buckets, first/max/min/last/sum), after dropping closed-market intraday
    stamps and weekend daily stamps. Bid and ask files differ in a handful of
    M1 timestamps. Existing files are overwritten.

    Parameters
    ----------
    root : str or Path
        Output directory (created if missing).
    symbols : sequence of str
        Symbols to write (unknown names use a generic FX profile).
    timeframes : sequence of str
        Timeframes (``M<n>``/``H<n>``/``D<n>``) to write; file names use the
        canonical upper-case form (``"h1"`` writes ``..._H1_BID.<ext>``).
    fmt : {"parquet", "csv"}
        Parquet files have the columns ``time`` (``Datetime("us", "UTC")``),
        ``open``, ``high``, ``low``, ``close``, ``volume`` (``Float64``). CSV files
        have the header ``UTC time,Open,High,Low,Close,Volume`` and timestamps
        like ``2025-01-01 00:00:00+00:00``. Prices are rounded to the symbol's
        precision at generation time, so both formats hold identical values.
    start, end : datetime or str
        Half-open span of bar open times, as in :func:`generate_candles`.
    seed : int
        Non-negative seed.

    Returns
    -------
    Path
        ``Path(root)``.

    Raises
    ------
    TimeframeError, WindowError, ParameterError
        For an invalid timeframe; span; format, seed, or a symbol that is not a
        valid directory name. Nothing is written in that case.

    Examples
    --------
    >>> import tempfile
    >>> from omega_pl.datasets import write_sample_data
    >>> span = {"start": "2025-03-17", "end": "2025-03-18"}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = write_sample_data(tmp, symbols=["EURUSD"], timeframes=["M5", "H1"], **span)
    ...     sorted(path.name for path in (root / "EURUSD").iterdir())
    ... # doctest: +NORMALIZE_WHITESPACE
    ['EURUSD_H1_ASK.parquet', 'EURUSD_H1_BID.parquet',
     'EURUSD_M5_ASK.parquet', 'EURUSD_M5_BID.parquet']
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = write_sample_data(tmp, symbols=["EURUSD"], timeframes=["H1"], fmt="csv", **span)
    ...     for line in (root / "EURUSD" / "EURUSD_H1_BID.csv").read_text().splitlines()[:2]:
    ...         print(line)
    UTC time,Open,High,Low,Close,Volume
    2025-03-17 00:00:00+00:00,1.09482,1.09607,1.09432,1.09524,1893.0
    """
    fmt = _check_fmt(fmt)
    if isinstance(symbols, str) or isinstance(timeframes, str):
        msg = "symbols and timeframes must be sequences of strings, not a single string"
        raise ParameterError(msg)
    tfs = [_parse_timeframe(tf) for tf in timeframes]
    for symbol in symbols:
        _check_path_symbol(symbol)
    seed = _check_seed(seed)
    start_us, end_us = _span(start, end)
    out = Path(root)
    for symbol in symbols:
        decimals = _profile(symbol).decimals
        directory = out / symbol
        directory.mkdir(parents=True, exist_ok=True)
        bid_m1, ask_m1 = _m1_sides(symbol, start_us, end_us, seed)
        for tf in tfs:
            for side_name, side in (("BID", bid_m1), ("ASK", ask_m1)):
                path = directory / f"{symbol}_{tf.name}_{side_name}.{fmt}"
                _write_side(_aggregate(side, tf, start_us), decimals, path, fmt)
    return out


def _cache_base() -> Path:
    env = os.environ.get("OMEGA_PL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "omega_pl"


def _sweep_stale(base: Path, prefix: str) -> None:
    """Remove temporary directories left behind by killed runs (older than a day)."""
    now = time.time()
    for path in base.glob(f"{prefix}*"):
        try:
            if path.is_dir() and now - path.stat().st_mtime > _STALE_TMP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def sample_data_root(fmt: Literal["parquet", "csv"] = "parquet") -> Path:
    """Return a directory with the default sample data, generating it on first use.

    The data is :func:`write_sample_data` with its defaults, cached under
    ``$OMEGA_PL_CACHE/sample-<fmt>-v1`` (``~/.cache/omega_pl/sample-<fmt>-v1`` when
    the variable is unset). It is written into a temporary sibling directory and
    renamed into place, so concurrent or interrupted runs never expose a
    half-written cache; a process that loses a race uses the winner's copy.

    Parameters
    ----------
    fmt : {"parquet", "csv"}
        File format of the cached sample data.

    Returns
    -------
    Path
        The cache directory, containing ``<SYMBOL>/<SYMBOL>_<TF>_<BID|ASK>.<fmt>``.

    Raises
    ------
    ParameterError
        If ``fmt`` is not ``"parquet"`` or ``"csv"``.

    Examples
    --------
    >>> from omega_pl.datasets import sample_data_root
    >>> root = sample_data_root()
    >>> root.name, sorted(path.name for path in root.iterdir())
    ('sample-parquet-v1', ['EURUSD', 'GBPUSD', 'USDJPY', 'XAUUSD'])
    """
    fmt = _check_fmt(fmt)
    base = _cache_base()
    final = base / f"sample-{fmt}-v{_SAMPLE_CACHE_VERSION}"
    if final.is_dir():
        return final
    base.mkdir(parents=True, exist_ok=True)
    prefix = f".{final.name}.tmp-"
    _sweep_stale(base, prefix)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        write_sample_data(tmp, fmt=fmt)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            # Another process finished first; its data is identical.
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
