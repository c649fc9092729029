"""Resolving a command's input into a lazy plan: a data root, a symbol directory or a file.

``omega load``, ``omega indicators`` and ``omega slice`` read their input the
same way, through omega_pl's public layout functions
(:func:`omega_pl.candle_symbols`, :func:`omega_pl.candle_timeframes`,
:func:`omega_pl.parse_candle_file_name`, :func:`omega_pl.candle_files`) and
loaders (:func:`omega_pl.scan_symbol`, :func:`omega_pl.scan_candles`). What
is left here is the command line's own part: picking the one symbol or
timeframe when the user gave none, and errors that say which option to pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

import omega_pl
from omega_cli.errors import CliError
from omega_pl import Timeframe

__all__ = [
    "SAMPLE_SYMBOL",
    "SAMPLE_TIMEFRAME",
    "LoadOptions",
    "LoadPlan",
    "plan_file",
    "plan_root",
    "symbol_directory",
    "timeframe_names",
]

#: Symbol and timeframe used when a command runs on the sample data.
SAMPLE_SYMBOL = "EURUSD"
SAMPLE_TIMEFRAME = "M5"


@dataclass(frozen=True)
class LoadOptions:
    """The pipeline options shared by both loaders (``None`` = the loader's default)."""

    start: str | None
    end: str | None
    market_hours: bool | None
    clean_daily: bool | None
    normalize: bool
    #: Text encoding of CSV files (``encoding=`` of the loaders).
    encoding: str = "utf-8"


@dataclass
class LoadPlan:
    """What to load, resolved from PATH and the options."""

    source: str
    symbol: str | None
    timeframe: Timeframe
    frame: pl.LazyFrame
    files: list[Path] = field(default_factory=list)
    sample: bool = False


def timeframe_names(timeframes: Iterable[Timeframe]) -> list[str]:
    """The names of ``timeframes``, shortest first (as in messages that list them)."""
    return [tf.name for tf in sorted(set(timeframes), key=lambda tf: (tf.minutes, tf.name))]


def symbol_directory(root: Path, symbol: str) -> str | None:
    """The name of ``symbol``'s directory under ``root``: ``symbol`` as given, else in
    upper case (``eurusd`` -> ``EURUSD``); ``None`` when neither is a directory."""
    for name in (symbol, symbol.upper()):
        if (root / name).is_dir():
            return name
    return None


def _pick_symbol(root: Path, symbol: str | None) -> str:
    if symbol is not None:
        return symbol
    symbols = omega_pl.candle_symbols(root)
    if len(symbols) == 1:
        return symbols[0]
    if not symbols:
        raise CliError(
            f"no symbol directories with candle files under {root} "
            "(expected ROOT/SYMBOL/SYMBOL_TF_BID.parquet or .csv)"
        )
    raise CliError(
        f"{root} holds {len(symbols)} symbols ({', '.join(symbols)}); choose one with --symbol/-s"
    )


def _pick_timeframe(root: Path, symbol: str, timeframe: Timeframe | None) -> Timeframe:
    if timeframe is not None:
        return timeframe
    found = omega_pl.candle_timeframes(root / symbol, symbol)
    if len(found) == 1:
        return found[0]
    if not found:
        raise CliError(f"no candle files for {symbol} under {root} (looked in {root / symbol})")
    raise CliError(
        f"{symbol} has {len(found)} timeframes under {root} "
        f"({', '.join(timeframe_names(found))}); choose one with --timeframe/-t"
    )


def plan_root(
    root: Path,
    symbol: str | None,
    timeframe: Timeframe | None,
    options: LoadOptions,
    *,
    sample: bool = False,
) -> LoadPlan:
    """Plan one symbol of a data root (or a symbol directory): bid and ask joined on time.

    Without ``symbol`` or ``timeframe`` the root must hold exactly one;
    a symbol is matched in its own spelling first, then in upper case.

    Raises
    ------
    CliError
        When the symbol or timeframe is ambiguous or missing, naming the choices.
    omega_pl.CandleFileNotFoundError
        When a side has no file.
    """
    # A symbol directory (ROOT/EURUSD holding EURUSD_*_BID.*) stands for its root and symbol.
    if symbol is None and omega_pl.candle_timeframes(root) and not omega_pl.candle_symbols(root):
        root, symbol = root.parent, root.name
    picked = _pick_symbol(root, symbol)
    sym = symbol_directory(root, picked)
    if sym is None:
        available = ", ".join(omega_pl.candle_symbols(root)) or "none"
        raise CliError(f"no symbol directory {picked} under {root} (symbols there: {available})")
    tf = _pick_timeframe(root, sym, timeframe)
    found = {
        *omega_pl.candle_timeframes(root / sym, sym),
        *omega_pl.candle_timeframes(root / sym.upper(), sym),
    }
    if found and tf not in found:
        raise CliError(
            f"no {tf.name} files for {sym} under {root} "
            f"(timeframes there: {', '.join(timeframe_names(found))})"
        )
    files = omega_pl.candle_files(root, sym, tf)
    frame = omega_pl.scan_symbol(
        root,
        sym,
        tf,
        start=options.start,
        end=options.end,
        market_hours=options.market_hours,
        clean_daily=options.clean_daily,
        normalize=options.normalize,
        encoding=options.encoding,
    )
    label = "sample data (synthetic)" if sample else str(root)
    return LoadPlan(label, sym, tf, frame, [files["bid"], files["ask"]], sample)


def plan_file(
    path: Path, symbol: str | None, timeframe: Timeframe | None, options: LoadOptions
) -> LoadPlan:
    """Plan one candle file (one side); symbol and timeframe default to those in its name.

    Raises
    ------
    CliError
        When no timeframe is given and the file name does not carry one.
    """
    named = omega_pl.parse_candle_file_name(path)
    if timeframe is None:
        if named is None:
            raise CliError(
                f"cannot tell the timeframe of {path.name} from its name "
                "(expected SYMBOL_TF_SIDE, e.g. EURUSD_M5_BID.csv); pass --timeframe/-t"
            )
        timeframe = named.timeframe
    if symbol is None and named is not None:
        symbol = named.symbol
    frame = omega_pl.scan_candles(
        path,
        timeframe=timeframe,
        start=options.start,
        end=options.end,
        market_hours=options.market_hours,
        clean_daily=options.clean_daily,
        normalize=options.normalize,
        encoding=options.encoding,
    )
    return LoadPlan(str(path), symbol, timeframe, frame, [path])
