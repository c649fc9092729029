"""The seeds' array API (Wave 1.1): ``<name>_array`` methods and ``compute_batch``.

``<name>_array(...)`` takes exactly the parameters of ``<name>`` and returns
its result as float64 NumPy arrays (a tuple of them for the tuple methods):
read-only views of the cached Series, so no copy is made.

``compute_batch(indicators, tf, price_type)`` computes a list of specs as one
Polars plan (one ``select`` over the timeframe's columns, which Polars runs in
parallel) and returns ``{key: array}``; every result also lands in the cache,
so later method calls hit it. Keys follow the seeds: a single output under the
spec's ``name`` (``"ema"``, ``"atr"``, ``"zscore"``), several outputs as
``"bollinger_upper"``, ``"bollinger_middle"``, ``"bollinger_lower"``,
``"macd_line"``, ``"macd_signal"``, ``"macd_histogram"``, ``"dmi_plus_di"``,
``"dmi_minus_di"``, ``"dmi_adx"``. A spec's optional ``"key"`` replaces the
name in its keys. Parameters go by the method's names (the seeds' spellings
``std_dev``, ``fast``/``slow``/``signal`` and ``r``/``q`` are accepted too).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from omega_pl.errors import ParameterError

if TYPE_CHECKING:
    from omega_pl.engine.cache import IndicatorCache

__all__ = ["ARRAY_METHODS", "BATCH_METHODS", "TUPLES", "array_method", "compute_batch"]

F64 = npt.NDArray[np.float64]

#: Methods ``compute_batch`` takes (whole-series indicators; the ``_local`` ones take a row).
BATCH_METHODS = (
    "ema",
    "ema_stepwise",
    "sma",
    "rsi",
    "macd",
    "roc",
    "dmi",
    "bollinger",
    "bollinger_stepwise",
    "atr",
    "choppiness",
    "kalman_mean",
    "kalman_zscore",
    "kalman_zscore_stepwise",
    "zscore",
    "garch_volatility",
    "kalman_garch_zscore",
)
#: Methods with an ``<name>_array`` twin.
ARRAY_METHODS = ("get_closes", *BATCH_METHODS, "garch_volatility_local", "vol_cluster_series")

#: Struct fields of the methods that return tuples, in the original's order.
TUPLES: dict[str, tuple[str, ...]] = {
    "macd": ("macd", "signal"),
    "dmi": ("plus_di", "minus_di", "adx"),
    "bollinger": ("upper", "middle", "lower"),
    "bollinger_stepwise": ("upper", "middle", "lower"),
}
#: Key suffixes of multi-output results (the seeds' rule), in field order.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "macd": ("line", "signal", "histogram"),
    "dmi": ("plus_di", "minus_di", "adx"),
    "bollinger": ("upper", "middle", "lower"),
    "bollinger_stepwise": ("upper", "middle", "lower"),
}
_STRUCT_FIELDS: dict[str, tuple[str, ...]] = {
    "macd": ("macd", "signal", "histogram"),
    "dmi": ("plus_di", "minus_di", "adx"),
    "bollinger": ("upper", "middle", "lower"),
    "bollinger_stepwise": ("upper", "middle", "lower"),
}
#: The seeds' parameter spellings.
_ALIASES = {
    "std_dev": "std_factor",
    "fast": "fast_period",
    "slow": "slow_period",
    "signal": "signal_period",
    "r": "R",
    "q": "Q",
}


def _readonly(array: F64) -> F64:
    array.flags.writeable = False
    return array


def _array(result: Any) -> Any:
    if result is None:
        return None
    if isinstance(result, tuple):
        return tuple(_array(r) for r in result)
    if isinstance(result, pd.Series):
        return result.to_numpy()
    return result


def array_method(method: Callable[..., Any]) -> Callable[..., Any]:
    """``<name>_array``: ``method`` with the same signature, returning NumPy arrays."""

    def as_array(self: IndicatorCache, *args: Any, **kwargs: Any) -> Any:
        return _array(method(self, *args, **kwargs))

    name = method.__name__
    as_array.__name__ = as_array.__qualname__ = f"{name}_array"
    as_array.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    as_array.__doc__ = (
        f":meth:`{name}` as float64 NumPy arrays (read-only views of the cached result; "
        "a tuple of arrays where it returns a tuple)."
    )
    return as_array


def _constant(expr: pl.Expr) -> Callable[[], pl.Expr]:
    return lambda: expr


def _bind(cache: IndicatorCache, i: int, spec: object, tf: str, price_type: str) -> tuple[str, Any]:
    """The method name and bound arguments of spec ``i``."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise ParameterError(
            f"compute_batch: spec {i} must be a dict with a 'name', e.g. "
            f"{{'name': 'ema', 'period': 20}}, got {spec!r}"
        )
    name = spec["name"]
    if name not in BATCH_METHODS:
        raise ParameterError(
            f"compute_batch: spec {i}: unknown indicator {name!r}; valid names: "
            f"{', '.join(BATCH_METHODS)}"
        )
    params = {_ALIASES.get(str(k), str(k)): v for k, v in spec.items() if k not in ("name", "key")}
    signature = inspect.signature(getattr(type(cache), name))
    allowed = list(signature.parameters)[3:]
    unknown = [k for k in params if k not in allowed]
    try:
        if unknown:
            raise TypeError(f"unknown parameter(s) {', '.join(map(repr, unknown))}")
        bound = signature.bind(cache, tf, price_type, **params)
    except TypeError as exc:
        raise ParameterError(
            f"compute_batch: spec {i} ({name}): {exc}; its parameters: {', '.join(allowed)}"
        ) from None
    bound.apply_defaults()
    return name, bound


def compute_batch(
    cache: IndicatorCache, indicators: Sequence[Mapping[str, Any]], tf: str, price_type: str
) -> dict[str, F64]:
    """See the module documentation and :meth:`IndicatorCache.compute_batch`."""
    if isinstance(indicators, Mapping | str) or not isinstance(indicators, Sequence):
        raise ParameterError(
            f"compute_batch: 'indicators' must be a list of spec dicts, got {indicators!r}"
        )
    calls: list[tuple[str, tuple[Any, ...], inspect.BoundArguments, list[str]]] = []
    owners: dict[str, int] = {}
    for i, spec in enumerate(indicators):
        name, bound = _bind(cache, i, spec, tf, price_type)
        base = spec.get("key", name)
        if not isinstance(base, str) or not base:
            raise ParameterError(f"compute_batch: spec {i}: 'key' must be a non-empty string")
        names = [f"{base}_{s}" for s in _SUFFIXES[name]] if name in _SUFFIXES else [base]
        for result_key in names:
            if result_key in owners:
                raise ParameterError(
                    f"compute_batch: duplicate result key {result_key!r} (specs "
                    f"{owners[result_key]} and {i}); give one of them a 'key'"
                )
            owners[result_key] = i
        memo_key = (name, *list(bound.arguments.values())[1:])
        calls.append((name, memo_key, bound, names))
    # Collect the plan: each method records what it would compute instead of computing it.
    pending: list[tuple[tuple[Any, ...], pl.Expr]] = []
    cache._pending = pending
    try:
        for name, _, bound, _ in calls:
            getattr(type(cache), name)(*bound.args, **bound.kwargs)
    finally:
        cache._pending = None
    plan = dict(pending)  # one expression per distinct result
    structs: dict[tuple[Any, ...], pl.Series] = {}
    frame = cache._frame(tf, price_type)
    if plan and frame is not None:
        out = frame.select(expr.alias(f"_{j}") for j, expr in enumerate(plan.values()))
        for column, memo_key in zip(out.iter_columns(), plan, strict=True):
            structs[memo_key] = column
            cache._store(memo_key, cache._convert(column, TUPLES.get(memo_key[0])))
    else:
        for memo_key, expr in plan.items():
            cache._miss(memo_key, _constant(expr))
    result: dict[str, F64] = {}
    for name, memo_key, _, names in calls:
        struct = structs.get(memo_key)
        if struct is not None and name in _STRUCT_FIELDS:
            arrays = [_readonly(struct.struct.field(f).to_numpy()) for f in _STRUCT_FIELDS[name]]
        else:
            value = _array(cache._memo[memo_key])
            arrays = list(value) if isinstance(value, tuple) else [value]
            if name == "macd" and len(arrays) == 2:  # cached as the original's 2-tuple
                arrays.append(_readonly(arrays[0] - arrays[1]))
        result.update(zip(names, arrays, strict=True))
    return result
