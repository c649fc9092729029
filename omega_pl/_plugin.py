"""The one place that turns a Rust ``#[polars_expr]`` into a Polars expression."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
from polars.plugins import register_plugin_function

from omega_pl.errors import ParameterError

#: Directory holding the compiled library ``omega_pl/_plugins.*.so``.
PLUGIN_PATH = Path(__file__).parent


def plugin_expr(
    name: str,
    args: Sequence[pl.Expr],
    kwargs: dict[str, Any] | None = None,
    *,
    elementwise: bool = False,
    returns_scalar: bool = False,
) -> pl.Expr:
    """Call the plugin function ``name`` on ``args``.

    Indicators are never elementwise (each row depends on earlier rows), which
    is the default: Polars then hands every group of ``.over(...)`` to the
    kernel whole and never splits a column into batches.
    """
    return register_plugin_function(
        plugin_path=PLUGIN_PATH,
        function_name=name,
        args=list(args),
        kwargs=kwargs,
        is_elementwise=elementwise,
        returns_scalar=returns_scalar,
    )


def to_expr(value: str | pl.Expr) -> pl.Expr:
    """A column name or an expression, as an expression."""
    return pl.col(value) if isinstance(value, str) else value


def positive_int(name: str, value: object) -> int:
    """``value`` as a positive ``int``, or :class:`ParameterError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"parameter '{name}' must be a positive integer, got {value!r}")
    return value


def plugin_message(exc: BaseException) -> str:
    """The kernel's own message from a Polars error raised by one of our plugins.

    Polars wraps a plugin's error text in its own prose and a dump of the
    plan; this returns just the line the kernel wrote (without its ``omega:``
    tag), or the whole text if there is no such line.
    """
    text = str(exc)
    for line in text.splitlines():
        _, tag, message = line.partition("omega: ")
        if tag:
            return message.strip()
    return text.strip()
