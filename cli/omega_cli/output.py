"""Atomic Parquet output.

The frame is written to a hidden temporary file next to the target and moved
into place with :func:`os.replace`, which is atomic on one file system: a
reader sees either the old file or the complete new one, and an interrupted
run (error, Ctrl-C, full disk) leaves no half-written output behind.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from omega_cli.errors import CliError

__all__ = ["check_output_path", "print_table", "write_parquet_atomic"]


def check_output_path(target: Path) -> Path:
    """Validate an output path before any work is done; return it with ``~`` expanded.

    Raises
    ------
    CliError
        If the path is a directory or its directory does not exist.
    """
    path = target.expanduser()
    if path.is_dir():
        raise CliError(
            f"output {path} is a directory; give a file name like {path / 'out.parquet'}"
        )
    if not path.parent.is_dir():
        raise CliError(f"output directory {path.parent} does not exist")
    return path


def write_parquet_atomic(frame: pl.DataFrame, target: Path) -> Path:
    """Write ``frame`` to ``target`` as Parquet, atomically.

    The temporary file is ``.<name>.<random>.tmp`` in the target's directory
    (same file system, so the final rename is atomic); it is removed if
    anything fails before the rename, including ``KeyboardInterrupt``.

    Returns
    -------
    Path
        The written path.
    """
    path = check_output_path(target)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with tmp.open("xb") as fh:
            frame.write_parquet(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def print_table(out: Console, table: Table) -> None:
    """Print ``table`` to ``out``: fitted to a terminal, at its natural width elsewhere.

    Off a terminal (a pipe, a file, a CI log) rich assumes 80 columns and would
    fold or cut the cells of a wide table ("1.09…"); there the table gets the
    width it needs instead.
    """
    if out.is_terminal:
        out.print(table)
    else:
        Console(file=out.file, width=100_000, no_color=out.no_color).print(table)
