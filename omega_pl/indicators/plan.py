"""Many indicators in one plan: :func:`with_indicators` (spec format: :mod:`.specs`).

``with_indicators(frame, specs)`` adds every requested indicator to a
``DataFrame`` or ``LazyFrame`` in **one** ``with_columns``, so Polars plans
them together and runs them in parallel, and returns the same kind of frame.
Struct results are then unnested (a projection: nothing is computed there).
Nothing is computed for a ``LazyFrame`` until you ``collect()`` it.

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
>>> import omega_pl
>>> lf = omega_pl.scan_symbol(omega_pl.datasets.sample_data_root(), "EURUSD", "M5")
>>> out = omega_pl.with_indicators(
...     lf,
...     ["ema:20", "rsi", "macd:12,26,9", {"name": "bollinger", "std_factor": 2.5, "alias": "bb"}],
... )
>>> out.collect_schema().names()[-8:]  # doctest: +NORMALIZE_WHITESPACE
['bid_close_ema_20', 'bid_close_rsi_14', 'bid_close_macd_12_26_9_macd',
 'bid_close_macd_12_26_9_signal', 'bid_close_macd_12_26_9_histogram',
 'bb_upper', 'bb_middle', 'bb_lower']
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import polars as pl

from omega_pl.errors import ParameterError, format_names
from omega_pl.indicators.declare import Indicator, Inputs
from omega_pl.indicators.expressions import OmegaExpr
from omega_pl.indicators.specs import (
    IndicatorSpec,
    SpecLike,
    is_spec_file,
    lookup,
    parse_spec,
    read_spec_file,
)

__all__ = ["IndicatorPlan", "SpecFilePath", "expand_specs", "plan_indicators", "with_indicators"]

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
#: The path of a TOML spec file (:func:`~omega_pl.indicators.specs.read_spec_file`).
SpecFilePath: TypeAlias = str | os.PathLike[str]

#: Keyword-only parameters that name input columns (checked against the frame).
_COLUMN_PARAMS = ("high", "low", "bar")
#: Sources tried, in order, when neither the spec nor the call names one.
_DEFAULT_SOURCES = ("close", "bid_close")


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


def _stem(spec: IndicatorSpec, decl: Indicator, source: str) -> str:
    if spec.alias is not None:
        return spec.alias
    values = [spec.params.get(p.name, p.default) for p in decl.params]
    return "_".join([source, spec.name, *(_format_value(v) for v in values)])


# ---------------------------------------------------------------------------
# the plan


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
        expensive indicators first, by the catalog's relative costs (so that
        Polars' worker threads do not end the ``with_columns`` with one long
        indicator running alone; on two cores a batch of ten runs ~12 % faster
        longest-first). The result's columns
        are in the listed order either way.

    Examples
    --------
    >>> import omega_pl
    >>> candles = omega_pl.datasets.generate_candles("EURUSD", "M5", end="2025-03-18")
    >>> plan = omega_pl.plan_indicators(candles, ["ema:20", "bollinger"])
    >>> plan.columns  # doctest: +NORMALIZE_WHITESPACE
    ('bid_close_ema_20', 'bid_close_bollinger_20_2_upper', 'bid_close_bollinger_20_2_middle',
     'bid_close_bollinger_20_2_lower')
    >>> plan.apply(candles).columns[-4:] == list(plan.columns)
    True
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
        if lookup(spec.name).inputs is Inputs.OHLC and not {"high", "low"} <= set(spec.params):
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


def expand_specs(
    specs: SpecLike | SpecFilePath | Iterable[SpecLike | SpecFilePath], source: str | None
) -> list[SpecLike]:
    """The specs as a list, every spec file replaced by its tables (``ParameterError`` if bad).

    A table without its own ``source`` takes the file's default source, unless
    the call names one (``source=``, like ``omega indicators --source``).
    """
    if is_spec_file(specs) or isinstance(specs, str | Mapping | IndicatorSpec):
        items: list[Any] = [specs]
    elif isinstance(specs, Iterable):
        items = list(specs)
    else:
        raise ParameterError(f"specs must be a list of indicator specs, got {specs!r}")
    out: list[SpecLike] = []
    for item in items:
        if not is_spec_file(item):
            out.append(item)
            continue
        default, tables = read_spec_file(item)
        for table in tables:
            if default is not None and source is None and "source" not in table:
                table = {**table, "source": default}
            out.append(table)
    return out


def _temp_name(i: int, schema: pl.Schema) -> str:
    name = f"__omega_pl_struct_{i}"
    while name in schema:
        name += "_"
    return name


def plan_indicators(
    frame: pl.DataFrame | pl.LazyFrame,
    specs: SpecLike | SpecFilePath | Iterable[SpecLike | SpecFilePath],
    *,
    source: str | None = None,
    over: str | Sequence[str] | None = None,
) -> IndicatorPlan:
    """Check ``specs`` against ``frame``'s schema and build their single ``with_columns``.

    Same arguments and errors as :func:`with_indicators`, which is
    ``plan_indicators(frame, specs, ...).apply(frame)``; use this to learn the
    output column names (``.columns``) before running anything. Only the
    schema of ``frame`` is read.

    Examples
    --------
    >>> import omega_pl
    >>> candles = omega_pl.datasets.generate_candles("EURUSD", "M5", end="2025-03-18")
    >>> omega_pl.plan_indicators(candles.lazy(), ["atr:14", {"name": "rsi", "alias": "r"}]).columns
    ('bid_close_atr_14', 'r')
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
    for i, raw in enumerate(expand_specs(specs, source)):
        spec = parse_spec(raw)
        decl = lookup(spec.name)
        label = repr(raw) if isinstance(raw, str) else spec.label()
        src = spec.source or default
        if src is None:
            raise ParameterError(
                f"indicator {label}: no source column; the frame has neither "
                f"{' nor '.join(repr(c) for c in _DEFAULT_SOURCES)}: pass source=... "
                f"(CLI: --source) or set 'source' in the spec ({_columns_hint(schema)})"
            )
        expr, dtype = _build(spec, label, src, schema, groups)
        costs.append(decl.cost)
        stem = _stem(spec, decl, src)
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
    specs: SpecLike | SpecFilePath | Iterable[SpecLike | SpecFilePath],
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
        "std_factor": 2.0, "alias": "bb"}``), :class:`IndicatorSpec`, or the
        path of a TOML spec file (a ``str`` ending in ``.toml`` or a
        :class:`~pathlib.Path`; :func:`~omega_pl.read_spec_file`), which
        stands for its ``[[indicator]]`` tables.
    source
        The input column of specs that do not name one. Default: a spec
        file's top-level ``source`` for that file's tables, else ``"close"``
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
        output names, an unreadable or invalid spec file.

    Examples
    --------
    >>> import omega_pl
    >>> candles = omega_pl.datasets.generate_candles("EURUSD", "M5", end="2025-03-21")
    >>> df = omega_pl.with_indicators(
    ...     candles, ["atr:14", "macd", {"name": "rsi", "period": 7, "alias": "rsi7"}]
    ... )
    >>> df.columns[-5:]  # doctest: +NORMALIZE_WHITESPACE
    ['bid_close_atr_14', 'bid_close_macd_12_26_9_macd', 'bid_close_macd_12_26_9_signal',
     'bid_close_macd_12_26_9_histogram', 'rsi7']
    """
    return plan_indicators(frame, specs, source=source, over=over).apply(frame)
