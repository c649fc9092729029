"""Typer option declarations shared by the ``omega`` commands.

An option that several commands take is declared once here, so its flags,
metavar and defaults cannot drift apart between commands:

- ``Annotated`` aliases (:data:`Start`, :data:`End`, :data:`NoMarketHours`,
  :data:`Normalize`) where the help text is the same everywhere, used as
  ``start: Start = None``;
- factories returning the :func:`typer.Option` where a command words the help
  for its own input, used as
  ``timeframe: Annotated[str | None, timeframe_option("...")] = None``.

Typer copies the option object for every parameter it builds, so one alias
can serve any number of commands. Every help text ends with an example
(``tests/test_cli*.py`` check that for every option of every command).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

__all__ = [
    "END_HELP",
    "NORMALIZE_HELP",
    "NO_MARKET_HOURS_HELP",
    "START_HELP",
    "End",
    "NoMarketHours",
    "Normalize",
    "Start",
    "end_option",
    "indicator_option",
    "no_market_hours_option",
    "normalize_option",
    "output_option",
    "show_option",
    "start_option",
    "symbol_option",
    "timeframe_option",
]

#: Help of ``--start`` where nothing command-specific needs saying.
START_HELP = (
    "First bar time to keep, inclusive, UTC unless an offset is given. "
    "Example: --start 2025-03-01 or --start '2025-03-01 08:00'"
)
#: Help of ``--end`` (the same for every command).
END_HELP = (
    "Last bar time to keep, inclusive; a bare date includes that whole day. "
    "Example: --end 2025-03-31"
)
#: Help of ``--no-market-hours`` where nothing command-specific needs saying.
NO_MARKET_HOURS_HELP = (
    "Keep every bar: skip the Sydney market-hours mask (intraday) and the "
    "weekend/flat-bar cleanup (D*). Example: --no-market-hours"
)
#: Help of ``--normalize``.
NORMALIZE_HELP = (
    "Floor timestamps to the timeframe grid (epoch-anchored UTC, e.g. 10:07 -> "
    "10:05 on M5). Example: --normalize"
)


ENCODING_HELP = (
    "Text encoding of CSV input: utf-8 (default) or a single-byte encoding such as "
    "cp1252 or latin-1 for Windows exports; Parquet ignores it. Example: --encoding cp1252"
)


def encoding_option(help: str = ENCODING_HELP) -> Any:
    """``--encoding NAME``: the text encoding of CSV input (type ``str``)."""
    return typer.Option("--encoding", metavar="NAME", help=help)


def symbol_option(help: str) -> Any:
    """``--symbol/-s SYMBOL``: one symbol of a data root (type ``str | None``)."""
    return typer.Option("--symbol", "-s", metavar="SYMBOL", help=help, show_default=False)


def timeframe_option(help: str) -> Any:
    """``--timeframe/-t TF``: ``M<n>``, ``H<n>``, ``D<n>`` or ``W1`` (type ``str | None``)."""
    return typer.Option("--timeframe", "-t", metavar="TF", help=help, show_default=False)


def start_option(help: str = START_HELP) -> Any:
    """``--start TIME``: first bar time to keep (type ``str | None``)."""
    return typer.Option("--start", metavar="TIME", help=help, show_default=False)


def end_option(help: str = END_HELP) -> Any:
    """``--end TIME``: last bar time to keep (type ``str | None``)."""
    return typer.Option("--end", metavar="TIME", help=help, show_default=False)


def no_market_hours_option(help: str = NO_MARKET_HOURS_HELP) -> Any:
    """``--no-market-hours``: a flag that turns the loaders' filters off (type ``bool``)."""
    return typer.Option("--no-market-hours", metavar="", help=help)


def normalize_option(help: str = NORMALIZE_HELP) -> Any:
    """``--normalize``: a flag that floors timestamps to the timeframe (type ``bool``)."""
    return typer.Option("--normalize", metavar="", help=help)


def output_option(what: str, example: str) -> Any:
    """``--output/-o FILE``: write ``what`` to a Parquet file, atomically (type ``Path | None``)."""
    return typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help=(
            f"Write {what} to this Parquet file (atomically: a temp file in the same "
            f"directory, then renamed). Example: -o {example}"
        ),
        show_default=False,
    )


def show_option(help: str) -> Any:
    """``--show N``: rows of a preview, 0 for none (type ``int``)."""
    return typer.Option("--show", metavar="N", min=0, help=help)


def indicator_option(help: str) -> Any:
    """``--indicator/-i SPEC``, repeatable: ``NAME`` or ``NAME:V1,V2,...``.

    Type ``list[str] | None``; the specs go to :func:`omega_pl.parse_spec`.
    """
    return typer.Option("--indicator", "-i", metavar="SPEC", help=help, show_default=False)


Start = Annotated[str | None, start_option()]
End = Annotated[str | None, end_option()]
NoMarketHours = Annotated[bool, no_market_hours_option()]
Normalize = Annotated[bool, normalize_option()]
Encoding = Annotated[str, encoding_option()]
