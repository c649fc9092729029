"""Helpers shared by the CLI test modules (run ``omega`` in-process, read its output)."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from omega_cli.main import app


def invoke(
    *args: str | Path, cache: Path | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run ``omega ARGS`` in-process with a wide terminal (no wrapped paths).

    ``cache`` points ``OMEGA_PL_CACHE`` at the test's sample-data cache.
    """
    full_env = {"COLUMNS": "400"}
    if cache is not None:
        full_env["OMEGA_PL_CACHE"] = str(cache)
    full_env.update(env or {})
    return CliRunner().invoke(app, [str(a) for a in args], env=full_env)


def field(stdout: str, label: str, *, indented: bool = False) -> str:
    """The value of one row of a summary table (``indented``: the row may start with blanks)."""
    lead = r"\s*" if indented else ""
    match = re.search(rf"^{lead}{re.escape(label)}\s{{2,}}(.+?)\s*$", stdout, re.MULTILINE)
    assert match is not None, f"no {label!r} row in:\n{stdout}"
    return match.group(1)


def assert_user_error(result: Result, *, contains: str = "", stdout_empty: bool = True) -> str:
    """Exit code 2, exactly one ``error: ...`` line on stderr, no traceback anywhere,
    and (``stdout_empty``) nothing on stdout. Returns the error line."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    assert contains in lines[0], lines[0]
    if stdout_empty:
        assert result.stdout == ""
    return lines[0]


def checked_help(command: str) -> tuple[str, set[str]]:
    """``omega COMMAND --help``, checked: it succeeds, every option's help has an
    example, and every option's flags appear. Returns the help text and the
    option names."""
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    names = set()
    for param in cmd.params:
        if param.name == "help":
            continue
        names.add(param.name)
        assert "Example" in (param.help or ""), param.name
        for opt in param.opts:
            if opt.startswith("-"):
                assert opt in result.stdout, opt
    return result.stdout, names
