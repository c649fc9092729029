"""Many indicators in one plan: :func:`with_indicators`.

``with_indicators(frame, specs)`` adds every requested indicator to a
``DataFrame`` or ``LazyFrame`` in **one** ``with_columns``, so Polars plans
them together and runs them in parallel, and returns the same kind of frame.
Struct results are then unnested (a projection: nothing is computed there).
Nothing is computed for a ``LazyFrame`` until you ``collect()`` it.

Spec format
-----------
A spec names one method of the ``omega`` expression namespace
(:class:`~omega_pl.indicators.OmegaExpr`; :data:`INDICATORS` lists them,
:func:`describe_indicator` shows one's parameters) and its parameters, in one
of three forms:

* a shorthand string ``"name"`` or ``"name:v1,v2,..."`` whose values are the
  method's positional parameters in signature order: ``"atr:14"``,
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

Source
------
A spec without its own ``source`` uses the ``source=`` argument of
:func:`with_indicators`; without that, ``"close"`` when the frame has such a
column, else ``"bid_close"``, else the call fails asking for a source. OHLC
indicators (``atr``, ``dmi``, ``choppiness``, ``vol_cluster``) find high and
low by the source's name (``bid_close`` -> ``bid_high``/``bid_low``) unless
``high``/``low`` are given.

Output names
------------
``{source}_{name}_{p1}_{p2}...``: the source column, the indicator name and the
*effective* value of every positional parameter (given or default), in
signature order. Numbers are written compactly (``14``, ``2.0`` -> ``2``,
``0.01``, ``1e-06``), booleans ``true``/``false``, ``None`` as ``none``, text as
is. Keyword-only options do not appear in the name. ``"atr:14"`` on
``bid_close`` gives ``bid_close_atr_14``, ``"bollinger"`` gives
``bid_close_bollinger_20_2_upper`` ... An ``alias`` replaces the whole stem
(``{"name": "atr", "alias": "atr"}`` gives ``atr``). Indicators with a Struct
result (``macd``, ``bollinger``, ``bollinger_stepwise``, ``dmi``) are
unnested into one column per field named ``{stem}_{field}``:
``bid_close_macd_12_26_9_macd``, ``..._signal``, ``..._histogram``. Two
outputs with one name are an error (give one an ``alias``); an output named
like an existing column replaces it.

Errors
------
Every problem is found when :func:`with_indicators` is called, before anything
is computed, and raised as :class:`~omega_pl.errors.ParameterError`: an unknown
indicator (the message lists the valid names), an unknown or missing parameter
(it lists the indicator's parameters), an invalid value (the indicator names
the parameter), a referenced column the frame does not have (source,
high/low, bar, over) or a non-numeric input column, duplicate output names.

Examples
--------
>>> lf = omega_pl.scan_symbol(root, "EURUSD", "M5")  # doctest: +SKIP
>>> out = omega_pl.with_indicators(
...     lf,
...     ["ema:20", "rsi", "macd:12,26,9", {"name": "bollinger", "std_factor": 2.5, "alias": "bb"}],
... )  # doctest: +SKIP
>>> out.collect_schema().names()[-8:]  # doctest: +SKIP
['bid_close_ema_20', 'bid_close_rsi_14', 'bid_close_macd_12_26_9_macd',
 'bid_close_macd_12_26_9_signal', 'bid_close_macd_12_26_9_histogram',
 'bb_upper', 'bb_middle', 'bb_lower']
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import polars as pl

from omega_pl.errors import ParameterError, format_names
from omega_pl.indicators import OmegaExpr

__all__ = [
    "INDICATORS",
    "IndicatorPlan",
    "IndicatorSpec",
    "SpecLike",
    "describe_indicator",
    "parse_spec",
    "plan_indicators",
    "with_indicators",
]

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

#: Keys of a dict spec that are not indicator parameters.
_SPEC_KEYS = ("name", "source", "alias")
#: Keyword-only parameters that name input columns (checked against the frame).
_COLUMN_PARAMS = ("high", "low", "bar")
#: Sources tried, in order, when neither the spec nor the call names one.
_DEFAULT_SOURCES = ("close", "bid_close")
_INT = re.compile(r"^[+-]?\d+$")


# ---------------------------------------------------------------------------
# the indicators, read from the `omega` namespace


@dataclass(frozen=True)
class _Signature:
    """The parameters of one ``OmegaExpr`` method."""

    name: str
    positional: tuple[inspect.Parameter, ...]
    keyword: tuple[inspect.Parameter, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in (*self.positional, *self.keyword))

    def describe(self) -> str:
        """One line, e.g. ``bollinger: period=20, std_factor=2.0; dict only: exact_std=False``.

        Positional parameters come first, in shorthand order; a parameter
        without ``=default`` is required.
        """

        def one(p: inspect.Parameter) -> str:
            return p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"

        parts = []
        if self.positional:
            parts.append(", ".join(one(p) for p in self.positional))
        if self.keyword:
            parts.append("dict only: " + ", ".join(one(p) for p in self.keyword))
        return f"{self.name}: {'; '.join(parts)}"


@functools.cache
def _signatures() -> dict[str, _Signature]:
    """Every public method of :class:`OmegaExpr`, by name, with its parameters."""
    found: dict[str, _Signature] = {}
    for name, method in inspect.getmembers(OmegaExpr, inspect.isfunction):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(method).parameters.values())[1:]  # drop self
        found[name] = _Signature(
            name,
            tuple(p for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD),
            tuple(p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY),
        )
    return dict(sorted(found.items()))


#: Names of every indicator :func:`with_indicators` accepts (the ``omega`` namespace methods).
INDICATORS: tuple[str, ...] = tuple(_signatures())


def _signature(name: str) -> _Signature:
    sigs = _signatures()
    if name in sigs:
        return sigs[name]
    close = difflib.get_close_matches(name, list(sigs), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ParameterError(f"unknown indicator {name!r}{hint}; valid indicators: {', '.join(sigs)}")


def describe_indicator(name: str) -> str:
    """One line with the parameters of indicator ``name``, in shorthand order.

    Positional parameters come first, in the order a shorthand string takes
    them, with their defaults (none: required); keyword-only options follow
    as "dict only".

    Examples
    --------
    >>> describe_indicator("bollinger")
    "bollinger: period=20, std_factor=2.0; dict only: exact_std=False, convention='reference'"

    Raises
    ------
    ParameterError
        If ``name`` is not an indicator; the message lists the valid names.
    """
    return _signature(name).describe()


def _valid_parameters(sig: _Signature) -> str:
    return (
        f"parameters of {sig.describe()} (no '=' means required; shorthand values follow "
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
    sig = _signature(name.strip().lower())
    if not colon:
        return _checked(IndicatorSpec(sig.name), sig, text=text)
    tokens = [t.strip() for t in rest.split(",")]
    if any(t == "" for t in tokens):
        raise ParameterError(
            f"indicator {text!r}: empty value in the parameter list; {_valid_parameters(sig)}"
        )
    if len(tokens) > len(sig.positional):
        raise ParameterError(
            f"indicator {text!r}: {len(tokens)} values for {len(sig.positional)} positional "
            f"parameter(s); {_valid_parameters(sig)}"
        )
    params = {p.name: _parse_value(t) for p, t in zip(sig.positional, tokens, strict=False)}
    return _checked(IndicatorSpec(sig.name, params), sig, text=text)


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
    sig = _signature(name.strip().lower())
    params = {k: v for k, v in spec.items() if k not in _SPEC_KEYS}
    return _checked(IndicatorSpec(sig.name, params, spec.get("source"), spec.get("alias")), sig)


def _checked(spec: IndicatorSpec, sig: _Signature, *, text: str | None = None) -> IndicatorSpec:
    """``spec`` after checking its parameter names, source and alias (not the values)."""
    label = repr(text) if text is not None else spec.label()
    unknown = [k for k in spec.params if k not in sig.names]
    if unknown:
        raise ParameterError(
            f"indicator {label}: unknown parameter(s) {format_names(unknown)}; "
            f"{_valid_parameters(sig)}"
        )
    missing = [
        p.name
        for p in (*sig.positional, *sig.keyword)
        if p.default is inspect.Parameter.empty and p.name not in spec.params
    ]
    if missing:
        raise ParameterError(
            f"indicator {label}: missing required parameter(s) {format_names(missing)}; "
            f"{_valid_parameters(sig)}"
        )
    for key in ("source", "alias"):
        value = getattr(spec, key)
        if value is not None and (not isinstance(value, str) or not value):
            raise ParameterError(
                f"indicator {label}: {key!r} must be a non-empty column name, got {value!r}"
            )
    return IndicatorSpec(sig.name, dict(spec.params), spec.source, spec.alias)


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
        sig = _signature(spec.name.strip().lower())
        return _checked(IndicatorSpec(sig.name, spec.params, spec.source, spec.alias), sig)
    if isinstance(spec, str):
        return _parse_shorthand(spec)
    if isinstance(spec, Mapping):
        return _parse_mapping(spec)
    raise ParameterError(
        "an indicator spec is a string like 'atr:14', a dict like "
        f"{{'name': 'atr', 'period': 14}} or an IndicatorSpec, got {spec!r}"
    )


# ---------------------------------------------------------------------------
# naming


def _format_value(value: Any) -> str:
    """A parameter value in an output name: ``14``, ``2``, ``0.01``, ``true``, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _stem(spec: IndicatorSpec, sig: _Signature, source: str) -> str:
    if spec.alias is not None:
        return spec.alias
    values = [spec.params.get(p.name, p.default) for p in sig.positional]
    return "_".join([source, spec.name, *(_format_value(v) for v in values)])


# ---------------------------------------------------------------------------
# the plan

#: Rough time per row of each indicator relative to ``ema`` (10M-row medians
#: from ``benchmarks/``, default semantics). Only the order matters: the plan
#: starts the expensive indicators first, so that Polars' worker threads do
#: not end the ``with_columns`` with one of them running a long indicator
#: alone while the others wait (measured on two cores: a batch of ten runs
#: ~12 % faster longest-first than in the order it was written).
_RELATIVE_COST: dict[str, float] = {
    "garch_volatility_local": 1000.0,
    "kalman_garch_zscore_local": 1000.0,
    "choppiness": 10.0,
    "zscore": 7.5,
    "kalman_garch_zscore": 6.8,
    "bollinger": 6.5,
    "bollinger_stepwise": 5.7,
    "kalman_zscore": 5.6,
    "garch_volatility": 4.5,
    "kalman_zscore_stepwise": 3.9,
    "ema_stepwise": 3.4,
    "dmi": 3.2,
    "rolling_std": 2.3,
    "macd": 2.0,
    "sma": 2.0,
    "rsi": 1.5,
    "atr": 1.4,
    "vol_cluster": 1.4,
    "kalman_mean": 1.3,
    "tema": 1.25,
    "dema": 1.1,
    "ema": 1.0,
    "momentum": 0.6,
    "roc": 0.6,
}


@dataclass(frozen=True)
class IndicatorPlan:
    """The checked ``with_columns`` for a list of specs on one frame schema.

    Made by :func:`plan_indicators`; :meth:`apply` runs it.

    Attributes
    ----------
    exprs
        The expressions of the single ``with_columns``. A Struct result is one
        expression whose fields are already named ``{stem}_{field}``, under a
        temporary column name listed in ``unnest``.
    unnest
        Temporary Struct columns that :meth:`apply` unnests after the
        ``with_columns`` (a projection; no indicator is computed there).
    columns
        The output column names, in order.
    order
        The order in which :meth:`apply` hands ``exprs`` to Polars: the most
        expensive indicators first (empty: as listed). The result's columns
        are in the listed order either way.
    """

    exprs: tuple[pl.Expr, ...]
    unnest: tuple[str, ...]
    columns: tuple[str, ...]
    order: tuple[int, ...] = ()

    def apply(self, frame: FrameT) -> FrameT:
        """``frame`` with the indicator columns (use the frame the plan was made for)."""
        if not self.order or list(self.order) == sorted(self.order):
            return self._run(frame, self.exprs)
        # Column order as if the expressions ran as listed (an output that
        # replaces an input column keeps its place): from the schema alone.
        names = self._run(frame.lazy(), self.exprs).collect_schema().names()
        return self._run(frame, tuple(self.exprs[i] for i in self.order)).select(names)

    def _run(self, frame: FrameT, exprs: tuple[pl.Expr, ...]) -> FrameT:
        out = frame.with_columns(*exprs)
        return out.unnest(self.unnest) if self.unnest else out


def _schema_of(frame: pl.DataFrame | pl.LazyFrame) -> pl.Schema:
    if not isinstance(frame, pl.DataFrame | pl.LazyFrame):
        raise ParameterError(
            f"with_indicators needs a polars DataFrame or LazyFrame, got {type(frame).__name__}"
        )
    return frame.collect_schema()


def _default_source(schema: pl.Schema, source: str | None) -> str | None:
    if source is not None:
        if not isinstance(source, str) or not source:
            raise ParameterError(f"source must be a column name, got {source!r}")
        return source
    return next((c for c in _DEFAULT_SOURCES if c in schema), None)


def _missing_columns(names: Iterable[str], schema: pl.Schema) -> list[str]:
    return [n for n in dict.fromkeys(names) if n not in schema]


def _columns_hint(schema: pl.Schema) -> str:
    names = schema.names()
    shown = format_names(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    return f"the frame has: {shown or 'no columns'}"


def _roots(value: object) -> list[str]:
    """Root column names of a column option (name or expression)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, pl.Expr):
        return value.meta.root_names()
    return []


def _build(
    spec: IndicatorSpec,
    label: str,
    source: str,
    schema: pl.Schema,
    over: Sequence[str],
) -> tuple[pl.Expr, pl.DataType]:
    """The indicator expression for ``spec`` and its output type, every column it reads checked."""
    if source not in schema:
        raise ParameterError(
            f"indicator {label}: no source column {source!r}; {_columns_hint(schema)}"
        )
    for key in _COLUMN_PARAMS:
        value = spec.params.get(key)
        if value is not None and not isinstance(value, str | pl.Expr):
            raise ParameterError(
                f"indicator {label}: parameter {key!r} must be a column name, got {value!r}"
            )
    try:
        expr: pl.Expr = getattr(OmegaExpr(pl.col(source)), spec.name)(**spec.params)
    except (ParameterError, TypeError) as exc:
        raise ParameterError(f"indicator {label}: {exc}") from None
    key_roots = set(_roots(spec.params.get("bar")))
    roots = expr.meta.root_names()
    missing = _missing_columns(roots, schema)
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        hint = ""
        if "high" in _signature(spec.name).names and not {"high", "low"} <= set(spec.params):
            hint = (
                "; OHLC indicators take high/low from the source's name "
                "(bid_close -> bid_high, bid_low) unless 'high' and 'low' are given"
            )
        raise ParameterError(
            f"indicator {label} reads {what} {format_names(missing)}, which the frame does not "
            f"have ({_columns_hint(schema)}){hint}"
        )
    for name in dict.fromkeys(roots):
        col_type = schema[name]
        if name not in key_roots and not (col_type.is_numeric() or col_type == pl.Null):
            raise ParameterError(
                f"indicator {label}: input column {name!r} has type {col_type}, expected a number"
            )
    if over:
        expr = expr.over(list(over))
    # Resolve the output type on an empty frame of the same schema: no data is read.
    try:
        dtype = pl.LazyFrame(schema=schema).select(expr.alias("x")).collect_schema()["x"]
    except pl.exceptions.PolarsError as exc:
        message = str(exc).split("\n\n", 1)[0].strip()
        raise ParameterError(f"indicator {label}: {message}") from None
    return expr, dtype


def _normalize_specs(specs: SpecLike | Iterable[SpecLike]) -> list[SpecLike]:
    if isinstance(specs, str | Mapping | IndicatorSpec):
        return [specs]
    if not isinstance(specs, Iterable):
        raise ParameterError(f"specs must be a list of indicator specs, got {specs!r}")
    return list(specs)


def _temp_name(i: int, schema: pl.Schema) -> str:
    name = f"__omega_pl_struct_{i}"
    while name in schema:
        name += "_"
    return name


def plan_indicators(
    frame: pl.DataFrame | pl.LazyFrame,
    specs: SpecLike | Iterable[SpecLike],
    *,
    source: str | None = None,
    over: str | Sequence[str] | None = None,
) -> IndicatorPlan:
    """Check ``specs`` against ``frame``'s schema and build their single ``with_columns``.

    Same arguments and errors as :func:`with_indicators`, which is
    ``plan_indicators(frame, specs, ...).apply(frame)``; use this to learn the
    output column names (``.columns``) before running anything. Only the
    schema of ``frame`` is read.
    """
    schema = _schema_of(frame)
    default = _default_source(schema, source)
    groups = [over] if isinstance(over, str) else list(over or [])
    missing_keys = _missing_columns(groups, schema)
    if missing_keys:
        raise ParameterError(
            f"over: no column(s) {format_names(missing_keys)}; {_columns_hint(schema)}"
        )
    exprs: list[pl.Expr] = []
    unnest: list[str] = []
    columns: list[str] = []
    costs: list[float] = []
    for i, raw in enumerate(_normalize_specs(specs)):
        spec = parse_spec(raw)
        sig = _signature(spec.name)
        label = repr(raw) if isinstance(raw, str) else spec.label()
        src = spec.source or default
        if src is None:
            raise ParameterError(
                f"indicator {label}: no source column; the frame has neither "
                f"{' nor '.join(repr(c) for c in _DEFAULT_SOURCES)}: pass source=... "
                f"(CLI: --source) or set 'source' in the spec ({_columns_hint(schema)})"
            )
        expr, dtype = _build(spec, label, src, schema, groups)
        costs.append(_RELATIVE_COST.get(spec.name, 1.0))
        stem = _stem(spec, sig, src)
        if isinstance(dtype, pl.Struct):
            tmp = _temp_name(i, schema)
            exprs.append(expr.name.prefix_fields(f"{stem}_").alias(tmp))
            unnest.append(tmp)
            columns.extend(f"{stem}_{f.name}" for f in dtype.fields)
        else:
            exprs.append(expr.alias(stem))
            columns.append(stem)
    duplicates = [name for name, n in Counter(columns).items() if n > 1]
    if duplicates:
        raise ParameterError(
            f"duplicate output column(s) {format_names(duplicates)}: two specs give the same "
            "name (keyword-only options are not part of it); set 'alias' on one of them"
        )
    # Longest first; `sorted` is stable, so equal costs keep their order.
    order = tuple(sorted(range(len(exprs)), key=lambda i: -costs[i]))
    return IndicatorPlan(tuple(exprs), tuple(unnest), tuple(columns), order)


def with_indicators(
    frame: FrameT,
    specs: SpecLike | Iterable[SpecLike],
    *,
    source: str | None = None,
    over: str | Sequence[str] | None = None,
) -> FrameT:
    """Add many indicators to ``frame`` in one ``with_columns``.

    All indicators are planned as one ``with_columns`` (Polars evaluates its
    expressions in parallel); Struct results (``macd``, ``bollinger``, ``dmi``,
    ``bollinger_stepwise``) are then unnested into one column per field. See
    the module documentation (:mod:`omega_pl.batch`) for the spec format and
    the naming rule.

    Parameters
    ----------
    frame
        A ``DataFrame`` or ``LazyFrame``; the result is of the same kind, and a
        ``LazyFrame`` stays lazy.
    specs
        A list of specs (or a single one): shorthand strings (``"atr:14"``,
        ``"macd:12,26,9"``), dicts (``{"name": "bollinger", "period": 20,
        "std_factor": 2.0, "alias": "bb"}``) or :class:`IndicatorSpec`.
    source
        The input column of specs that do not name one. Default: ``"close"``
        if the frame has it, else ``"bid_close"``; otherwise required.
    over
        Group column(s) for long multi-symbol frames: each indicator runs per
        group (``expr.over(over)``), e.g. ``over="symbol"``.

    Returns
    -------
    DataFrame or LazyFrame
        ``frame`` with the indicator columns added (named
        ``{source}_{name}_{params}`` or after ``alias``; Struct fields as
        ``{stem}_{field}``).

    Raises
    ------
    ParameterError
        At call time, before anything is computed: unknown indicator or
        parameter, invalid value, missing or non-numeric column, duplicate
        output names.

    Examples
    --------
    >>> df = omega_pl.with_indicators(
    ...     candles, ["atr:14", "macd", {"name": "rsi", "period": 7, "alias": "rsi7"}]
    ... )  # doctest: +SKIP
    >>> # adds bid_close_atr_14, bid_close_macd_12_26_9_{macd,signal,histogram}, rsi7
    """
    return plan_indicators(frame, specs, source=source, over=over).apply(frame)
