"""Functions, namespace methods and the type stub, generated from declarations.

:func:`make_function` and :func:`make_method` turn an
:class:`~omega_pl.indicators.declare.Indicator` into a callable with a real
``inspect`` signature and a generated docstring; :func:`stub_text` writes the
type stub that gives mypy and IDEs the same signatures
(``python -m omega_pl.indicators.stub`` rewrites it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from omega_pl._plugin import to_expr
from omega_pl.errors import ParameterError
from omega_pl.indicators.declare import KEYWORD, Indicator, Inputs, column

__all__ = ["make_function", "make_method", "stub_text"]


def _siblings(
    close: pl.Expr, high: str | pl.Expr | None, low: str | pl.Expr | None
) -> tuple[pl.Expr, pl.Expr]:
    """High and low for a close expression: given, or found by the close's name."""
    if high is not None and low is not None:
        return to_expr(high), to_expr(low)
    try:
        name = close.meta.output_name()
    except pl.exceptions.PolarsError:
        name = ""
    if not name.endswith("close"):
        raise ParameterError(
            f"cannot find high/low columns for {name or 'this expression'!r}: the name does "
            "not end in 'close'; pass high= and low="
        )
    base = name[: -len("close")]
    return (
        to_expr(high) if high is not None else pl.col(f"{base}high"),
        to_expr(low) if low is not None else pl.col(f"{base}low"),
    )


def _kernel_inputs(decl: Indicator, values: dict[str, Any]) -> list[pl.Expr]:
    """Pop the input parameters from ``values`` and return them in kernel order."""
    if decl.inputs is Inputs.OHLC:
        close = to_expr(values.pop("close"))
        return [close, to_expr(values.pop("high")), to_expr(values.pop("low"))]
    source = to_expr(values.pop("source"))
    if decl.inputs is Inputs.STEPWISE:
        return [source, column("bar", values.pop("bar"))]
    return [source]


def make_function(decl: Indicator, module: str) -> Callable[..., pl.Expr]:
    """The module function of ``decl`` (``omega_pl.ema(source, period, ...)``)."""
    signature = decl.function_signature()

    def indicator(*args: Any, **kwargs: Any) -> pl.Expr:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        return decl.build(_kernel_inputs(decl, values), values)

    _dress(indicator, decl.name, decl.name, module, signature, decl.function_doc())
    return indicator


def make_method(decl: Indicator, module: str, owner: str) -> Callable[..., pl.Expr]:
    """The ``omega`` namespace method of ``decl`` (``pl.col(...).omega.ema(period, ...)``)."""
    signature = decl.method_signature()

    def method(self: Any, *args: Any, **kwargs: Any) -> pl.Expr:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        close: pl.Expr = values.pop("self")._expr
        if decl.inputs is Inputs.OHLC:
            values["high"], values["low"] = _siblings(close, values["high"], values["low"])
            values["close"] = close
        else:
            values["source"] = close
        return decl.build(_kernel_inputs(decl, values), values)

    _dress(method, decl.name, f"{owner}.{decl.name}", module, signature, decl.method_doc())
    return method


def _dress(
    fn: Callable[..., Any],
    name: str,
    qualname: str,
    module: str,
    signature: inspect.Signature,
    doc: str,
) -> None:
    fn.__name__ = name
    fn.__qualname__ = qualname
    fn.__module__ = module
    fn.__doc__ = doc
    fn.__signature__ = signature  # type: ignore[attr-defined]


def _literal(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _stub_signature(signature: inspect.Signature) -> str:
    parts: list[str] = []
    for p in signature.parameters.values():
        if p.kind is KEYWORD and "*" not in parts:
            parts.append("*")
        text = p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {_literal(p.default)}"
        parts.append(text)
    return ", ".join(parts)


def stub_text(catalog: Sequence[Indicator], owner: str) -> str:
    """The type stub of :mod:`omega_pl.indicators.expressions` for ``catalog``."""
    lines = [
        "# Generated from omega_pl/indicators/catalog.py by",
        "# `python -m omega_pl.indicators.stub`; do not edit (a test compares).",
        "from typing import Literal",
        "",
        "import polars as pl",
        "",
        "IntoExpr = str | pl.Expr",
        'Convention = Literal["reference", "talib"]',
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in sorted([owner, *(d.name for d in catalog)])),
        "]",
        "",
    ]
    for decl in catalog:
        lines.append(f"def {decl.name}({_stub_signature(decl.function_signature())}) -> pl.Expr:")
        lines.append(f'    """{decl.summary}"""')
        lines.append("")
    lines.append(f"class {owner}:")
    lines.append('    """The ``omega`` expression namespace."""')
    lines.append("")
    lines.append("    def __init__(self, expr: pl.Expr) -> None: ...")
    for decl in catalog:
        lines.append(f"    def {decl.name}({_stub_signature(decl.method_signature())}) -> pl.Expr:")
        lines.append(f'        """{decl.summary}"""')
    return "\n".join(lines) + "\n"
