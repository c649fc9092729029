"""The dataset on disk: hive partitions, temporary directories and moving them into place.

Layout::

    <out>/symbol=<SYMBOL>/year=<YYYY>/part-0.parquet

One symbol's files are written into a temporary directory
``<out>/.omega-tmp-<run>-<attempt>-<SYMBOL>`` (same file system, so moving it
is a rename) and renamed to ``symbol=<SYMBOL>`` only once every file of the
symbol is complete and synced. A reader therefore sees a symbol either
complete or not at all; the temporary directories of a build are removed when
it ends, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

import polars as pl

__all__ = [
    "PART_NAME",
    "TMP_PREFIX",
    "commit_symbol",
    "remove_temporaries",
    "stale_temporaries",
    "symbol_directory",
    "temporaries",
    "write_partitions",
]

#: Name prefix of every temporary directory a build makes inside ``out``.
TMP_PREFIX = ".omega-tmp-"
#: The file name of each partition.
PART_NAME = "part-0.parquet"


def symbol_directory(out: Path, symbol: str) -> Path:
    """``<out>/symbol=<SYMBOL>``, the hive partition of one symbol."""
    return out / f"symbol={symbol}"


def _fsync(path: Path) -> None:
    """Flush a directory's entries to disk (best effort: not every file system allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _year_runs(frame: pl.DataFrame) -> list[tuple[int, int, int]]:
    """``(year, offset, length)`` of each year's rows; ``frame`` is sorted by ``time``."""
    years = frame.get_column("time").dt.year().rle()
    runs: list[tuple[int, int, int]] = []
    offset = 0
    for length, year in years.struct.unnest().iter_rows():
        runs.append((int(year), offset, int(length)))
        offset += int(length)
    if len({year for year, _, _ in runs}) != len(runs):
        raise ValueError("rows are not sorted by 'time': cannot partition them by year")
    return runs


def write_partitions(frame: pl.DataFrame, directory: Path) -> list[Path]:
    """Write ``frame`` as ``<directory>/year=<YYYY>/part-0.parquet``, one file per UTC year.

    ``frame`` must be sorted by ``time`` (as every loader returns it); each
    year's rows are a zero-copy slice of it. Files are created exclusively
    and synced to disk. ``directory`` must not exist yet.

    Returns
    -------
    list of Path
        The files written, in year order.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> from pathlib import Path
    >>> import polars as pl
    >>> frame = pl.DataFrame({"time": [datetime(2024, 12, 31), datetime(2025, 1, 2)], "x": [1, 2]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = write_partitions(frame, Path(tmp) / "EURUSD")
    ...     [path.relative_to(tmp).as_posix() for path in files]
    ['EURUSD/year=2024/part-0.parquet', 'EURUSD/year=2025/part-0.parquet']
    """
    directory.mkdir()
    files: list[Path] = []
    for year, offset, length in _year_runs(frame):
        part = directory / f"year={year}"
        part.mkdir()
        path = part / PART_NAME
        with path.open("xb") as fh:
            frame.slice(offset, length).write_parquet(fh)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync(part)
        files.append(path)
    _fsync(directory)
    return files


def commit_symbol(temporary: Path, out: Path, symbol: str, *, overwrite: bool, run: str) -> Path:
    """Move a complete symbol's temporary directory into place as ``symbol=<SYMBOL>``.

    Without ``overwrite`` an existing ``symbol=<SYMBOL>`` is an error (the
    build checks that before any work; this guards against another writer).
    With ``overwrite`` the existing directory is first renamed aside, then the
    new one renamed into place, then the old one deleted; if the second
    rename fails the old directory is put back.

    Returns
    -------
    Path
        The symbol's directory.

    Raises
    ------
    FileExistsError
        When the directory exists and ``overwrite`` is false.
    """
    final = symbol_directory(out, symbol)
    if not final.exists():
        os.rename(temporary, final)
        _fsync(out)
        return final
    if not overwrite:
        raise FileExistsError(
            f"{final} appeared while the build ran (another writer?); not replaced"
        )
    aside = out / f"{TMP_PREFIX}{run}-{uuid.uuid4().hex[:12]}-replaced-{symbol}"
    os.rename(final, aside)
    try:
        os.rename(temporary, final)
    except BaseException:
        os.rename(aside, final)
        raise
    _fsync(out)
    shutil.rmtree(aside, ignore_errors=True)
    return final


def temporaries(out: Path, run: str | None = None) -> list[Path]:
    """The temporary directories in ``out``: of build ``run``, or of any build."""
    prefix = TMP_PREFIX if run is None else f"{TMP_PREFIX}{run}-"
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.name.startswith(prefix))


def remove_temporaries(paths: Iterable[Path]) -> list[Path]:
    """Delete temporary directories (what interrupted or killed attempts left); return them."""
    removed = []
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def stale_temporaries(out: Path, symbols: Iterable[str]) -> list[Path]:
    """Temporary directories that earlier, interrupted builds of ``symbols`` left in ``out``.

    Named ``.omega-tmp-<run>-<attempt>-<SYMBOL>``; only a build that was
    killed outright leaves them behind. A directory renamed aside for
    replacement (``...-replaced-<SYMBOL>``) whose symbol has no directory any
    more (the build was killed between the two renames) is renamed back
    instead: it is the last complete copy.
    """
    wanted = set(symbols)
    stale = []
    for path in temporaries(out):
        parts = path.name[len(TMP_PREFIX) :].split("-", 2)
        if len(parts) != 3:
            continue
        symbol = parts[2]
        if symbol.startswith("replaced-") and symbol.removeprefix("replaced-") in wanted:
            final = symbol_directory(out, symbol.removeprefix("replaced-"))
            if not final.exists():
                os.rename(path, final)
                continue
            stale.append(path)
        elif symbol in wanted:
            stale.append(path)
    return stale
