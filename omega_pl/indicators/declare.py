"""The vocabulary an indicator is declared in (:mod:`omega_pl.indicators.catalog` uses it).

An :class:`Indicator` lists its inputs, its parameters (:class:`Param`: name,
type as written in signatures, default, check, one line of documentation,
where the value goes in the kernel's keyword arguments), its output fields,
its documentation and one example. Everything users see is derived from that
declaration:

* the module function (``omega_pl.ema(source, period, *, convention=...)``)
  and the ``omega`` namespace method (``pl.col(...).omega.ema(period, ...)``),
  both with real signatures and generated docstrings (:func:`make_function`,
  :func:`make_method`);
* ``INDICATORS``, ``describe_indicator`` and the parameter order of shorthand
  specs and output names in :mod:`omega_pl.indicators.plan`;
* the type stub ``expressions.pyi`` (:func:`stub_text`; a test keeps it equal
  to the declarations).

Checks raise :class:`~omega_pl.errors.ParameterError` naming the parameter.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import polars as pl

from omega_pl._plugin import plugin_expr, positive_int, to_expr
from omega_pl.errors import ParameterError

__all__ = [
    "REQUIRED",
    "Example",
    "Indicator",
    "Inputs",
    "Param",
    "Talib",
    "choice",
    "finite",
    "flag",
    "integer",
    "non_negative",
    "optional",
    "positive",
    "positive_float",
]

Check = Callable[[str, Any], Any]


class _Required:
    """Marker for a parameter without a default."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a required parameter.
REQUIRED: Any = _Required()


# ---------------------------------------------------------------------------
# checks: (name, value) -> normalised value, or ParameterError naming `name`


def positive(name: str, value: object) -> int:
    """A positive ``int``."""
    return positive_int(name, value)


def integer(name: str, value: object) -> int:
    """Any ``int`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"parameter '{name}' must be an integer, got {value!r}")
    return value


def finite(name: str, value: object) -> float:
    """A finite number, as ``float``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(f"parameter '{name}' must be a finite number, got {value!r}")
    return float(value)


def non_negative(name: str, value: object) -> float:
    """A finite number ``>= 0``."""
    v = finite(name, value)
    if v < 0:
        raise ParameterError(f"parameter '{name}' must be >= 0, got {value!r}")
    return v


def positive_float(name: str, value: object) -> float:
    """A finite number ``> 0``."""
    if finite(name, value) <= 0:
        raise ParameterError(f"parameter '{name}' must be > 0, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def flag(name: str, value: object) -> bool:
    """``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ParameterError(f"parameter '{name}' must be True or False, got {value!r}")
    return value


def optional(check: Check) -> Check:
    """``None`` or what ``check`` accepts."""

    def optional_check(name: str, value: object) -> Any:
        return None if value is None else check(name, value)

    return optional_check


def choice(*allowed: str) -> Check:
    """One of ``allowed``."""
    listed = " or ".join(repr(a) for a in allowed)

    def choice_check(name: str, value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise ParameterError(f"parameter '{name}' must be {listed}, got {value!r}")
        return value

    return choice_check


def column(name: str, value: object) -> pl.Expr:
    """A column name or an expression (the higher-timeframe bar key of stepwise indicators)."""
    if not isinstance(value, str | pl.Expr):
        raise ParameterError(
            f"parameter '{name}' must be the higher-timeframe bar key column (name or "
            f"expression), e.g. 'h1_bid_time', got {value!r}"
        )
    return to_expr(value)


def _unchecked(name: str, value: object) -> object:
    return value


# ---------------------------------------------------------------------------
# declarations


@dataclass(frozen=True)
class Param:
    """One parameter of an indicator.

    Attributes
    ----------
    name
        The Python name (in signatures, dict specs and error messages).
    annotation
        Its type as written in signatures and the stub, e.g. ``"float | None"``.
    default
        :data:`REQUIRED` for a required parameter.
    check
        Validates and normalises a value; raises ``ParameterError`` naming it.
    doc
        One sentence for the generated docstrings.
    kernel
        Where the value goes in the kernel's keyword arguments: ``("period",)``
        is a top-level key, ``("garch", "alpha")`` a key of the nested
        ``garch`` table; ``()`` keeps it out of the kernel's arguments (it is
        an input column or chooses the convention). ``None``: ``(name,)``.
    """

    name: str
    annotation: str
    default: Any = REQUIRED
    check: Check = _unchecked
    doc: str = ""
    kernel: tuple[str, ...] | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return (self.name,) if self.kernel is None else self.kernel

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def renamed(self, prefix: str) -> Param:
        """The same parameter under ``prefix + name``, same kernel slot."""
        return replace(self, name=prefix + self.name, kernel=self.path)

    def describe(self) -> str:
        return self.name if self.required else f"{self.name}={self.default!r}"


class Inputs(Enum):
    """What an indicator reads, which decides the leading parameters and kernel inputs.

    * ``CLOSE``: ``f(source, ...)``; the kernel gets ``[source]``.
    * ``OHLC``: ``f(high, low, close, ...)``; the namespace method finds
      high/low by the close column's name (or ``high=``/``low=``); the kernel
      gets ``[close, high, low]``.
    * ``STEPWISE``: ``f(source, ..., *, bar, ...)``; the kernel gets
      ``[source, bar]``.
    """

    CLOSE = "close"
    OHLC = "ohlc"
    STEPWISE = "stepwise"


@dataclass(frozen=True)
class Talib:
    """The TA-Lib convention of an indicator (``convention="talib"``).

    ``function`` is TA-Lib's name; ``minimum`` maps each period parameter to
    TA-Lib's lower bound; ``params`` are the parameters the TA-Lib kernel
    ``talib_<name>`` takes (the others are ignored in this convention).
    """

    function: str
    minimum: Mapping[str, int]
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """One doctest, run in both forms (module function and namespace method).

    ``args`` is the argument text after the source (``"3"``,
    ``"14, reseed=True"``); ``output`` the expected ``to_list()`` of the result
    rounded to ``digits`` (of its field ``field`` for Struct results).
    """

    args: str
    output: str
    field: str | None = None
    digits: int = 4


@dataclass(frozen=True)
class Indicator:
    """The one declaration of an indicator.

    Attributes
    ----------
    name
        Method, function and spec name.
    summary
        First docstring line.
    body
        Further docstring paragraphs (semantics, gaps, warm-up).
    inputs
        :class:`Inputs`.
    params
        Positional-or-keyword parameters, in signature (and shorthand) order.
    options
        Keyword-only parameters (switches of the computation).
    outputs
        Field names of a Struct result; empty for a single Float64 column.
    kernel
        The plugin function (default: ``name``).
    talib
        The TA-Lib convention, if the indicator has one (adds ``convention=``).
    prepare
        Checks between parameters, after each was checked on its own; returns
        the (possibly adjusted) values.
    cost
        Relative time per row (``ema`` = 1); the batch plan starts expensive
        indicators first.
    example
        The doctest of both forms.
    """

    name: str
    summary: str
    inputs: Inputs
    params: tuple[Param, ...] = ()
    options: tuple[Param, ...] = ()
    outputs: tuple[str, ...] = ()
    body: str = ""
    kernel: str | None = None
    talib: Talib | None = None
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    cost: float = 1.0
    example: Example | None = None
    _all: tuple[Param, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_all", (*self.params, *self.keyword_params()))

    # -- signatures ----------------------------------------------------------

    def keyword_params(self) -> tuple[Param, ...]:
        """Keyword-only parameters of the namespace method, in order."""
        lead: tuple[Param, ...] = ()
        if self.inputs is Inputs.STEPWISE:
            lead = (BAR,)
        elif self.inputs is Inputs.OHLC:
            lead = (HIGH, LOW)
        tail = (CONVENTION,) if self.talib is not None else ()
        return (*lead, *self.options, *tail)

    def leading(self) -> tuple[str, ...]:
        """The input parameters that lead the module function."""
        return ("high", "low", "close") if self.inputs is Inputs.OHLC else ("source",)

    def function_signature(self) -> inspect.Signature:
        lead = [_parameter(n, POSITIONAL, "IntoExpr") for n in self.leading()]
        keyword = [p for p in self.keyword_params() if p not in (HIGH, LOW)]
        return inspect.Signature(
            [
                *lead,
                *(_parameter(p.name, POSITIONAL, p.annotation, p.default) for p in self.params),
                *(_parameter(p.name, KEYWORD, p.annotation, p.default) for p in keyword),
            ],
            return_annotation="pl.Expr",
        )

    def method_signature(self) -> inspect.Signature:
        return inspect.Signature(
            [
                _parameter("self", POSITIONAL),
                *(_parameter(p.name, POSITIONAL, p.annotation, p.default) for p in self.params),
                *(
                    _parameter(p.name, KEYWORD, p.annotation, p.default)
                    for p in self.keyword_params()
                ),
            ],
            return_annotation="pl.Expr",
        )

    def describe(self) -> str:
        """``bollinger: period=20, std_factor=2.0; dict only: exact_std=False, ...``."""
        parts = []
        if self.params:
            parts.append(", ".join(p.describe() for p in self.params))
        if self.keyword_params():
            parts.append("dict only: " + ", ".join(p.describe() for p in self.keyword_params()))
        return f"{self.name}: {'; '.join(parts)}"

    # -- building the expression -----------------------------------------------

    def build(self, inputs: Sequence[pl.Expr], values: Mapping[str, Any]) -> pl.Expr:
        """The expression for ``inputs`` (kernel order) and every parameter's value."""
        checked = {p.name: p.check(p.name, values[p.name]) for p in self._all if p.name in values}
        if self.talib is not None and checked.get("convention") == "talib":
            return self._talib_expr(inputs, checked)
        if self.prepare is not None:
            checked = self.prepare(checked)
        kwargs: dict[str, Any] = {}
        for p in self._all:
            if p.path and p.name in checked:
                table = kwargs
                for key in p.path[:-1]:
                    table = table.setdefault(key, {})
                table[p.path[-1]] = checked[p.name]
        return plugin_expr(self.kernel or self.name, inputs, kwargs)

    def _talib_expr(self, inputs: Sequence[pl.Expr], values: Mapping[str, Any]) -> pl.Expr:
        assert self.talib is not None
        function = self.talib.function
        for name, minimum in self.talib.minimum.items():
            if values[name] < minimum:
                raise ParameterError(
                    f"parameter '{name}' must be an integer >= {minimum} "
                    f"({function} in the TA-Lib convention), got {values[name]!r}"
                )
        kwargs = {name: values[name] for name in self.talib.params}
        return plugin_expr(f"talib_{self.name}", inputs, kwargs)

    # -- documentation -----------------------------------------------------------

    def function_doc(self) -> str:
        leading = [(n, _INPUT_DOCS[n]) for n in self.leading()]
        keyword = [p for p in self.keyword_params() if p not in (HIGH, LOW)]
        params = [*leading, *((p.name, p.doc) for p in (*self.params, *keyword))]
        sources = '"high", "low", "close"' if self.inputs is Inputs.OHLC else '"close"'
        return self._doc(params, f"omega_pl.{self.name}({sources}{self._example_args()})")

    def method_doc(self) -> str:
        params = [(p.name, p.doc) for p in (*self.params, *self.keyword_params())]
        args = self._example_args().removeprefix(", ")
        return self._doc(params, f'pl.col("close").omega.{self.name}({args})')

    def _example_args(self) -> str:
        assert self.example is not None
        args = f", {self.example.args}" if self.example.args else ""
        return args + (', bar="bar"' if self.inputs is Inputs.STEPWISE else "")

    def _doc(self, params: Sequence[tuple[str, str]], call: str) -> str:
        sections = [self.summary]
        if self.body:
            sections.append(textwrap.dedent(self.body).strip())
        lines = ["Parameters", "----------"]
        for name, doc in params:
            lines.append(name)
            lines.extend(textwrap.wrap(doc, 72, initial_indent="    ", subsequent_indent="    "))
        sections.append("\n".join(lines))
        if self.outputs:
            what = f"A ``Struct{{{', '.join(self.outputs)}}}`` of Float64"
        else:
            what = "A Float64 column"
        sections.append(f"Returns\n-------\npl.Expr\n    {what}, named after the (close) input.")
        sections.append(
            "Raises\n------\nParameterError\n    If a parameter is invalid; the message names it."
        )
        if self.example is not None:
            sections.append("Examples\n--------\n" + self._example_text(call))
        return "\n\n".join(sections) + "\n"

    def _example_text(self, call: str) -> str:
        assert self.example is not None
        names = {Inputs.CLOSE: ("close",), Inputs.OHLC: ("high", "low", "close")}
        columns = names.get(self.inputs, ("close", "bar"))
        data = ", ".join(f'"{c}": {EXAMPLE_DATA[c]!r}' for c in columns)
        field = f'.struct.field("{self.example.field}")' if self.example.field else ""
        lines = [">>> import polars as pl", ">>> import omega_pl"]
        lines += textwrap.wrap(
            f"df = pl.DataFrame({{{data}}})",
            88,
            initial_indent=">>> ",
            subsequent_indent="... ",
            break_on_hyphens=False,
        )
        lines.append(
            f">>> df.select({call}{field}.round({self.example.digits})).to_series().to_list()"
        )
        lines.append(self.example.output)
        return "\n".join(lines)


#: The frame of every docstring example (FX-like closes, 8 rows, 3 higher bars).
EXAMPLE_DATA: dict[str, list[float] | list[int]] = {
    "close": [1.1, 1.1012, 1.1005, 1.102, 1.1018, 1.1031, 1.1027, 1.104],
    "high": [1.1008, 1.1019, 1.1013, 1.1026, 1.1025, 1.1036, 1.1035, 1.1046],
    "low": [1.0995, 1.1003, 1.0999, 1.1008, 1.1012, 1.102, 1.1021, 1.103],
    "bar": [0, 0, 0, 1, 1, 1, 2, 2],
}


POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
KEYWORD = inspect.Parameter.KEYWORD_ONLY


def _parameter(
    name: str, kind: inspect._ParameterKind, annotation: str | None = None, default: Any = REQUIRED
) -> inspect.Parameter:
    return inspect.Parameter(
        name,
        kind,
        default=inspect.Parameter.empty if default is REQUIRED else default,
        annotation=inspect.Parameter.empty if annotation is None else annotation,
    )


_INPUT_DOCS = {
    "source": "The input column: a name or an expression (the close).",
    "high": "The high column: a name or an expression.",
    "low": "The low column: a name or an expression.",
    "close": "The close column: a name or an expression; the output is named after it.",
}

#: Parameters every declaration of a kind gets (see :meth:`Indicator.keyword_params`).
BAR = Param(
    "bar",
    "IntoExpr",
    check=column,
    kernel=(),
    doc="The higher-timeframe bar key: the aligned bar's open-time column "
    "(e.g. ``h1_bid_time``); a row whose key differs from the previous present "
    "key starts a new bar.",
)
HIGH = Param(
    "high",
    "IntoExpr | None",
    None,
    kernel=(),
    doc="The high column; default: found by the close column's name "
    "(``bid_close`` -> ``bid_high``).",
)
LOW = Param(
    "low",
    "IntoExpr | None",
    None,
    kernel=(),
    doc="The low column; default: found by the close column's name (``bid_close`` -> ``bid_low``).",
)
CONVENTION = Param(
    "convention",
    "Convention",
    "reference",
    check=choice("reference", "talib"),
    kernel=(),
    doc="``'reference'``: the original engine's semantics (SPEC); ``'talib'``: "
    "TA-Lib's definition, bit-identical to TA-Lib 0.8.1 on gap-free input.",
)
