"""The ``omega`` Typer application and its console-script entry point :func:`main`.

Each command is a plain function in its own module, registered here with
``app.command(...)``: ``omega load``, ``omega indicators``, ``omega slice`` and
``omega dataset``.
Options that several commands share are declared once in
:mod:`omega_cli.options`. Error handling is shared: the group class
:class:`~omega_cli.errors.OmegaGroup` turns every user error of every command
into one ``error: ...`` line on stderr and exit code 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

import omega_pl
from omega_cli import dataset as dataset_module
from omega_cli import indicators as indicators_module
from omega_cli import load as load_module
from omega_cli import slice as slice_module
from omega_cli.errors import OmegaGroup

__all__ = ["app", "main"]

APP_EPILOG = """\
[bold]Examples[/bold]

  omega load  [dim]# summary of the bundled sample data (EURUSD M5)[/dim]

  omega load data -s EURUSD -t M5 --start 2025-03-01 -o eurusd_m5.parquet

  omega slice -s EURUSD,GBPUSD -t M5 --higher H1 --show 5  [dim]# symbols on one timeline[/dim]

  omega dataset data -o dataset -i atr:14  [dim]# every symbol as one Parquet dataset[/dim]

  omega load --help  [dim]# every option of a command, with examples[/dim]

  omega --version

Exit codes: 0 success, 1 unexpected failure (set OMEGA_DEBUG=1 for the
traceback), 2 bad input or options (one 'error: ...' line on stderr).
"""

app = typer.Typer(
    name="omega",
    cls=OmegaGroup,
    help=(
        "omega: load, clean, align and add indicators to FX/CFD bid/ask candles with omega_pl "
        "(Polars + Rust). Sample data is built in: try 'omega load'."
    ),
    epilog=APP_EPILOG,
    rich_markup_mode="rich",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"omega {omega_pl.__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            callback=_print_version,
            is_eager=True,
            help="Print the omega_pl version and exit. Example: omega --version",
        ),
    ] = False,
) -> None:
    """omega: load, clean and summarize FX/CFD bid/ask candles (omega_pl)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


app.command(
    "load",
    epilog=load_module.EPILOG,
    no_args_is_help=False,
)(load_module.load)

app.command(
    "indicators",
    epilog=indicators_module.EPILOG,
    no_args_is_help=False,
)(indicators_module.indicators)

app.command(
    "slice",
    epilog=slice_module.EPILOG,
    no_args_is_help=False,
)(slice_module.slice_symbols)

app.command(
    "dataset",
    epilog=dataset_module.EPILOG,
    no_args_is_help=False,
)(dataset_module.dataset)


def main() -> None:
    """Run the ``omega`` command line (the console script's entry point)."""
    app(prog_name="omega")


if __name__ == "__main__":
    main()
