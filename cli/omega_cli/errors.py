"""One-line error reporting for every ``omega`` command.

A user error (bad input, bad option, missing file) ends the process with
exactly one line ``error: <message>`` on stderr and exit code 2; no traceback.
Anything else is a bug: exit code 1, one line, and the traceback only when
``OMEGA_DEBUG=1`` is set.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

import polars as pl
import typer
from typer.core import TyperGroup

from omega_pl import OmegaError

try:  # typer >= 0.29 vendors click; its errors derive from typer.TyperException
    from typer import TyperException as _ParseError
except ImportError:  # pragma: no cover - older typer, built on click
    from click import ClickException as _ParseError  # type: ignore[assignment,unused-ignore]

__all__ = ["EXIT_BUG", "EXIT_USER", "CliError", "OmegaGroup", "one_line"]

#: Exit code of a user error (bad input or options).
EXIT_USER = 2
#: Exit code of an unexpected failure (a bug).
EXIT_BUG = 1
_DEBUG_ENV = "OMEGA_DEBUG"


class CliError(Exception):
    """A user error found by the CLI itself (e.g. an ambiguous data root)."""


def one_line(message: str) -> str:
    """Fold a possibly multi-line message into one line.

    Continuation lines are joined with ``", "`` after the first line (list
    bullets ``- `` dropped), so ``"no file; tried:\\n  - a\\n  - b"`` becomes
    ``"no file; tried: a, b"``.
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    head, rest = lines[0], [line.removeprefix("- ") for line in lines[1:]]
    return f"{head} {', '.join(rest)}" if rest else head


#: Where Polars starts appending its expression/plan context to an error message.
_POLARS_CONTEXT = ("\n\nThis error occurred", "\n\nResolved plan", "\n\nError originated")
#: Boilerplate in front of a plugin's own message.
_PLUGIN_PREFIX = "the plugin failed with message: "


def _without_polars_context(text: str) -> str:
    """``text`` without the expression and plan dump Polars appends to errors."""
    for marker in _POLARS_CONTEXT:
        text = text.split(marker, 1)[0]
    return text.replace(_PLUGIN_PREFIX, "")


def _polars_message(exc: pl.exceptions.PolarsError) -> str:
    """The useful part of a Polars error: the omega message, without the plan dump."""
    text = _without_polars_context(str(exc))
    marker = "omega: "
    if marker in text:
        text = text[text.index(marker) + len(marker) :]
    return text.strip().split("\n\n", 1)[0]


def _user_message(exc: BaseException) -> str | None:
    """The one-line message of a user error, ``None`` when ``exc`` is not one."""
    if isinstance(exc, _ParseError):
        # Usage errors (unknown option, bad value, missing argument) carry the context.
        ctx = getattr(exc, "ctx", None)
        path = getattr(ctx, "command_path", None)
        hint = f" (see '{path} --help')" if path else ""
        return one_line(exc.format_message()) + hint
    if isinstance(exc, OmegaError | CliError):
        return one_line(_without_polars_context(str(exc)))
    if isinstance(exc, pl.exceptions.PolarsError):
        return one_line(_polars_message(exc))
    if isinstance(exc, OSError):
        # FileNotFoundError, PermissionError, IsADirectoryError, disk full ...
        where = f": {exc.filename}" if exc.filename else ""
        reason = exc.strerror or str(exc)
        return one_line(f"{reason}{where}")
    return None


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a warning as one ``warning: ...`` line on stderr."""
    print(f"warning: {one_line(str(message))}", file=sys.stderr)


class OmegaGroup(TyperGroup):
    """The ``omega`` command group: turns every failure into a one-line message."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the group; in standalone mode exit with 0, 1 (bug) or 2 (user error)."""
        code: int
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                result = super().main(
                    args,
                    prog_name or "omega",
                    complete_var,
                    standalone_mode=False,
                    windows_expand_args=windows_expand_args,
                    **extra,
                )
                code = result if isinstance(result, int) else 0
            except typer.Abort:
                print("error: aborted", file=sys.stderr)
                code = EXIT_BUG
            except Exception as exc:
                message = _user_message(exc)
                if message is not None:
                    code = EXIT_USER
                elif os.environ.get(_DEBUG_ENV):
                    raise
                else:
                    message = (
                        f"unexpected {type(exc).__name__}: {one_line(str(exc))} "
                        f"(set {_DEBUG_ENV}=1 to see the traceback)"
                    )
                    code = EXIT_BUG
                print(f"error: {message}", file=sys.stderr)
        if standalone_mode:
            sys.exit(code)
        return code
