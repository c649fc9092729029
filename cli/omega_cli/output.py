"""Atomic Parquet output.

The frame is written to a hidden temporary file next to the target and moved
into place with :func:`os.replace`, which is atomic on one file system: a
reader sees either the old file or the complete new one, and an interrupted
run (error, Ctrl-C, full disk) leaves no half-written output behind. Two runs
writing the same target at once each write their own temporary file; the
last to finish wins, whole.

A run killed outright (SIGKILL, power loss) cannot remove its temporary file.
The name says whose it is (``.<name>.<host>.<pid>.<random>.tmp``), so the
next successful write of the same target removes the ones whose process on
this host is gone.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import socket
import uuid
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from omega_cli.errors import CliError

__all__ = ["check_output_path", "print_table", "stale_temporaries", "write_parquet_atomic"]


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


#: This host, as it appears in temporary file names (a short hash: names stay short).
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
#: Temporary names keep at most this much of the target's name (file names
#: are limited to 255 bytes).
_NAME_CHARS = 150


def _temporary_prefix(path: Path) -> str:
    """``.<name>.<host>.``: how this host's temporary files of ``path`` start."""
    return f".{path.name[:_NAME_CHARS]}.{_HOST}."


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or no such pid format): leave it be
    return True


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files of ``path`` left by writers on this host that are gone
    (killed mid-write); the files of running writers are not listed."""
    prefix = _temporary_prefix(path)
    stale = []
    for entry in path.parent.glob(glob.escape(prefix) + "*.tmp"):
        pid_text = entry.name[len(prefix) :].split(".", 1)[0]
        if (
            pid_text.isdigit()
            and int(pid_text) != os.getpid()
            and not _process_alive(int(pid_text))
        ):
            stale.append(entry)
    return stale


def write_parquet_atomic(frame: pl.DataFrame, target: Path) -> Path:
    """Write ``frame`` to ``target`` as Parquet, atomically.

    The temporary file is ``.<name>.<host>.<pid>.<random>.tmp`` in the
    target's directory (same file system, so the final rename is atomic); it
    is removed if anything fails before the rename, including
    ``KeyboardInterrupt``. After the rename, temporary files of the same
    target left by killed runs on this host are removed (see
    :func:`stale_temporaries`).

    Returns
    -------
    Path
        The written path.
    """
    path = check_output_path(target)
    tmp = path.parent / f"{_temporary_prefix(path)}{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        with tmp.open("xb") as fh:
            frame.write_parquet(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for stale in stale_temporaries(path):
        with contextlib.suppress(OSError):
            stale.unlink()
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
