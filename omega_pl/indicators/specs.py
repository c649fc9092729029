"""Indicator specs: what :func:`~omega_pl.with_indicators` and the CLI accept.

A spec names one indicator of the catalog (:data:`INDICATORS` lists them,
:func:`describe_indicator` shows one's parameters) and its parameters, in one
of three forms:

* a shorthand string ``"name"`` or ``"name:v1,v2,..."`` whose values are the
  indicator's positional parameters in signature order: ``"atr:14"``,
  ``"macd:12,26,9"``, ``"bollinger:20,2"``, ``"zscore:50,ema,20"``. Values are
  read as int, float, ``true``/``false``, ``none``, or else as text. Trailing
  parameters may be left out (their defaults apply);
* a dict with ``"name"`` and any parameters by name, positional or
  keyword-only: ``{"name": "atr", "period": 14, "reseed": True}``. Keyword-only
  options (``convention=``, ``exact_std=``, ``reseed=``, ``carry_gaps=``,
  ``estimate_window=``, ``bar=``, ``high=``/``low=``) exist only in this form;
  column options (``bar``, ``high``, ``low``) take a column name (or a
  ``pl.Expr``);
* an :class:`IndicatorSpec`.

Dicts (and ``IndicatorSpec``) may also carry ``"source"`` (the input column,
the close for OHLC indicators) and ``"alias"`` (the output name stem).

Many specs can live in a TOML *spec file* (:func:`read_spec_file`): an optional
top-level default ``source`` and one ``[[indicator]]`` table per indicator,
each a dict spec. :func:`~omega_pl.with_indicators` takes the path of such a
file wherever it takes a spec (a ``str`` ending in ``.toml`` or any
``os.PathLike``), and so does the ``omega indicators --spec`` command.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

from omega_pl.errors import ParameterError, format_names
from omega_pl.indicators.catalog import by_name
from omega_pl.indicators.declare import Indicator

__all__ = [
    "INDICATORS",
    "IndicatorSpec",
    "SpecFile",
    "SpecLike",
    "describe_indicator",
    "is_spec_file",
    "lookup",
    "parse_spec",
    "read_spec_file",
]

#: Keys of a dict spec that are not indicator parameters.
SPEC_KEYS = ("name", "source", "alias")
_INT = re.compile(r"^[+-]?\d+$")
_CATALOG = by_name()

#: Names of every indicator (the ``omega`` namespace methods), sorted.
INDICATORS: tuple[str, ...] = tuple(sorted(_CATALOG))


def _names(decl: Indicator) -> tuple[str, ...]:
    return tuple(p.name for p in (*decl.params, *decl.keyword_params()))


def lookup(name: str) -> Indicator:
    """The declaration of indicator ``name``; ``ParameterError`` listing the valid names."""
    if name in _CATALOG:
        return _CATALOG[name]
    close = difflib.get_close_matches(name, INDICATORS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ParameterError(
        f"unknown indicator {name!r}{hint}; valid indicators: {', '.join(INDICATORS)}"
    )


def describe_indicator(name: str) -> str:
    """One line with the parameters of indicator ``name``, in shorthand order.

    Positional parameters come first, in the order a shorthand string takes
    them, with their defaults (none: required); keyword-only options follow
    as "dict only".

    Examples
    --------
    >>> from omega_pl import describe_indicator
    >>> describe_indicator("bollinger")
    "bollinger: period=20, std_factor=2.0; dict only: exact_std=False, convention='reference'"

    Raises
    ------
    ParameterError
        If ``name`` is not an indicator; the message lists the valid names.
    """
    return lookup(name).describe()


def _valid_parameters(decl: Indicator) -> str:
    return (
        f"parameters of {decl.describe()} (no '=' means required; shorthand values follow "
        "this order; any spec may also set source, alias)"
    )


# ---------------------------------------------------------------------------
# specs


@dataclass(frozen=True)
class IndicatorSpec:
    """One requested indicator: its name, the parameters given, source and alias.

    ``params`` holds only the parameters that were given, by name (a shorthand
    string's positional values are stored under their parameter names);
    defaults are filled in by the indicator. Build one directly or with
    :func:`parse_spec`; :func:`with_indicators` validates it either way.

    Examples
    --------
    >>> from omega_pl import IndicatorSpec, parse_spec
    >>> spec = IndicatorSpec("atr", {"period": 10}, source="ask_close", alias="atr10")
    >>> spec == parse_spec({"name": "atr", "period": 10, "source": "ask_close", "alias": "atr10"})
    True
    >>> spec.label()
    "atr(period=10, source='ask_close', alias='atr10')"
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    alias: str | None = None

    def label(self) -> str:
        """How the spec is named in error messages: ``bollinger(period=20, alias='bb')``."""
        parts = [f"{k}={v!r}" for k, v in self.params.items()]
        parts += [f"{k}={v!r}" for k, v in (("source", self.source), ("alias", self.alias)) if v]
        return f"{self.name}({', '.join(parts)})"


#: Anything :func:`parse_spec` accepts.
SpecLike: TypeAlias = str | Mapping[str, Any] | IndicatorSpec


def _parse_value(text: str) -> Any:
    """A shorthand value: int, float, bool, None or text."""
    lowered = text.lower()
    if _INT.match(text):
        return int(text)
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _parse_shorthand(text: str) -> IndicatorSpec:
    name, colon, rest = text.strip().partition(":")
    decl = lookup(name.strip().lower())
    if not colon:
        return _checked(IndicatorSpec(decl.name), decl, text=text)
    tokens = [t.strip() for t in rest.split(",")]
    if any(t == "" for t in tokens):
        raise ParameterError(
            f"indicator {text!r}: empty value in the parameter list; {_valid_parameters(decl)}"
        )
    if len(tokens) > len(decl.params):
        raise ParameterError(
            f"indicator {text!r}: {len(tokens)} values for {len(decl.params)} positional "
            f"parameter(s); {_valid_parameters(decl)}"
        )
    params = {p.name: _parse_value(t) for p, t in zip(decl.params, tokens, strict=False)}
    return _checked(IndicatorSpec(decl.name, params), decl, text=text)


def _parse_mapping(spec: Mapping[str, Any]) -> IndicatorSpec:
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(
            f"indicator spec {dict(spec)!r} needs a 'name' (text), e.g. "
            f"{{'name': 'atr', 'period': 14}}; valid indicators: {', '.join(INDICATORS)}"
        )
    for key in spec:
        if not isinstance(key, str):
            raise ParameterError(f"indicator spec {dict(spec)!r}: keys must be text, got {key!r}")
    decl = lookup(name.strip().lower())
    params = {k: v for k, v in spec.items() if k not in SPEC_KEYS}
    return _checked(IndicatorSpec(decl.name, params, spec.get("source"), spec.get("alias")), decl)


def _checked(spec: IndicatorSpec, decl: Indicator, *, text: str | None = None) -> IndicatorSpec:
    """``spec`` after checking its parameter names, source and alias (not the values)."""
    label = repr(text) if text is not None else spec.label()
    unknown = [k for k in spec.params if k not in _names(decl)]
    if unknown:
        raise ParameterError(
            f"indicator {label}: unknown parameter(s) {format_names(unknown)}; "
            f"{_valid_parameters(decl)}"
        )
    missing = [
        p.name
        for p in (*decl.params, *decl.keyword_params())
        if p.required and p.name not in spec.params
    ]
    if missing:
        raise ParameterError(
            f"indicator {label}: missing required parameter(s) {format_names(missing)}; "
            f"{_valid_parameters(decl)}"
        )
    for key in ("source", "alias"):
        value = getattr(spec, key)
        if value is not None and (not isinstance(value, str) or not value):
            raise ParameterError(
                f"indicator {label}: {key!r} must be a non-empty column name, got {value!r}"
            )
    return IndicatorSpec(decl.name, dict(spec.params), spec.source, spec.alias)


def parse_spec(spec: SpecLike) -> IndicatorSpec:
    """Read one spec (shorthand string, dict or :class:`IndicatorSpec`) and check it.

    Checks the indicator name, the parameter names, that required parameters
    are present and that ``source``/``alias`` are column names. Parameter
    *values* are checked by the indicator itself when :func:`with_indicators`
    builds the expression.

    Examples
    --------
    >>> parse_spec("macd:8,21")
    IndicatorSpec(name='macd', params={'fast': 8, 'slow': 21}, source=None, alias=None)
    >>> parse_spec({"name": "atr", "period": 10, "reseed": True, "alias": "atr10"}).alias
    'atr10'

    Raises
    ------
    ParameterError
        For an unknown indicator (listing the valid names), unknown or missing
        parameters (listing the indicator's parameters), or too many values.
    """
    if isinstance(spec, IndicatorSpec):
        if not isinstance(spec.name, str):
            raise ParameterError(f"IndicatorSpec.name must be text, got {spec.name!r}")
        if not isinstance(spec.params, Mapping):
            raise ParameterError(
                f"IndicatorSpec.params must be a mapping of parameter names to values, "
                f"got {spec.params!r}"
            )
        decl = lookup(spec.name.strip().lower())
        return _checked(IndicatorSpec(decl.name, spec.params, spec.source, spec.alias), decl)
    if isinstance(spec, str):
        return _parse_shorthand(spec)
    if isinstance(spec, Mapping):
        return _parse_mapping(spec)
    raise ParameterError(
        "an indicator spec is a string like 'atr:14', a dict like "
        f"{{'name': 'atr', 'period': 14}} or an IndicatorSpec, got {spec!r}"
    )


# ---------------------------------------------------------------------------
# spec files

#: Top-level keys of a spec file.
_TOML_KEYS = ("source", "indicator")


class SpecFile(NamedTuple):
    """A TOML spec file as read by :func:`read_spec_file`.

    Unpacks as ``source, indicators = read_spec_file(path)``.

    Examples
    --------
    >>> from omega_pl import SpecFile
    >>> source, indicators = SpecFile("bid_close", [{"name": "atr", "period": 14}])
    >>> source, indicators[0]["name"]
    ('bid_close', 'atr')
    """

    #: The file's default input column (its top-level ``source``), or ``None``.
    source: str | None
    #: The ``[[indicator]]`` tables, in file order, each a dict spec.
    indicators: list[dict[str, Any]]


def is_spec_file(spec: object) -> bool:
    """Whether ``spec`` names a spec file rather than one spec.

    A spec file is given as an ``os.PathLike`` (e.g. a :class:`~pathlib.Path`)
    or as a ``str`` ending in ``.toml`` (any case); no indicator shorthand
    ends like that.

    Examples
    --------
    >>> from pathlib import Path
    >>> is_spec_file("examples/indicators.toml"), is_spec_file(Path("specs"))
    (True, True)
    >>> is_spec_file("atr:14")
    False
    """
    if isinstance(spec, os.PathLike):
        return True
    return isinstance(spec, str) and spec.strip().lower().endswith(".toml")


def read_spec_file(path: str | os.PathLike[str]) -> SpecFile:
    """Read a TOML spec file: its default ``source`` and its ``[[indicator]]`` tables.

    The file holds an optional top-level ``source = "bid_close"`` (the input
    column of tables without their own ``source``) and one ``[[indicator]]``
    table per indicator: ``name``, its parameters by name (keyword-only
    options included), optionally ``source`` and ``alias``. Every table is
    checked with :func:`parse_spec` (name and parameter names); values are
    checked when the indicators are planned.

    Parameters
    ----------
    path
        The file (``~`` is expanded).

    Returns
    -------
    SpecFile
        ``(source, indicators)``: the default source (``None`` when the file
        sets none) and the tables as dicts, in file order.

    Raises
    ------
    ParameterError
        For a missing or unreadable file, invalid TOML (with line and
        column), unknown top-level keys, no tables, a table without ``name``,
        or an unknown indicator or parameter; the message names the file
        (and the table's number).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "specs.toml"
    ...     lines = [
    ...         'source = "ask_close"',
    ...         "[[indicator]]", 'name = "atr"', "period = 14", "reseed = true",
    ...         "[[indicator]]", 'name = "bollinger"', 'alias = "bb"',
    ...     ]
    ...     _ = path.write_text("\\n".join(lines))
    ...     source, indicators = read_spec_file(path)
    >>> source
    'ask_close'
    >>> indicators
    [{'name': 'atr', 'period': 14, 'reseed': True}, {'name': 'bollinger', 'alias': 'bb'}]
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ParameterError(f"spec file {file} not found")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{file}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{file}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise ParameterError(f"spec file {file}: cannot read it ({exc.strerror or exc})") from None
    unknown = [k for k in data if k not in _TOML_KEYS]
    if unknown:
        raise ParameterError(
            f"{file}: unknown top-level key(s) {', '.join(map(repr, unknown))}; expected an "
            "optional 'source = \"...\"' and [[indicator]] tables"
        )
    source = data.get("source")
    if source is not None and (not isinstance(source, str) or not source):
        raise ParameterError(f"{file}: 'source' must be a column name, got {source!r}")
    tables = data.get("indicator", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ParameterError(
            f"{file}: 'indicator' must be an array of tables: write each as [[indicator]]"
        )
    if not tables:
        raise ParameterError(f"{file}: no [[indicator]] tables (see 'omega indicators --help')")
    for i, table in enumerate(tables, start=1):
        try:
            parse_spec(table)
        except ParameterError as exc:
            raise ParameterError(f"{file}: [[indicator]] #{i}: {exc}") from None
    return SpecFile(source, tables)
