"""The indicator catalog: one declaration per indicator, and what is derived from it.

The output column names and the indicator list are pinned here as literal
strings (not recomputed by the naming rule), so a reordered parameter or a
renamed indicator can never silently rename a user's columns.
"""

from __future__ import annotations

import inspect
from typing import Any

import polars as pl
import pytest

import omega_pl
from omega_pl.indicators.catalog import CATALOG, GARCH, KALMAN
from omega_pl.indicators.declare import REQUIRED as NO_DEFAULT
from omega_pl.indicators.stub import STUB, expected_stub

#: Every indicator, as users know them (sorted).
NAMES = (
    "atr",
    "bollinger",
    "bollinger_stepwise",
    "choppiness",
    "dema",
    "dmi",
    "ema",
    "ema_stepwise",
    "garch_volatility",
    "garch_volatility_local",
    "kalman_garch_zscore",
    "kalman_garch_zscore_local",
    "kalman_mean",
    "kalman_zscore",
    "kalman_zscore_stepwise",
    "macd",
    "momentum",
    "roc",
    "rolling_std",
    "rsi",
    "sma",
    "tema",
    "vol_cluster",
    "zscore",
)

#: Required parameters, for the indicators that have some.
REQUIRED: dict[str, dict[str, Any]] = {
    "ema": {"period": 10},
    "sma": {"period": 10},
    "momentum": {"period": 10},
    "dema": {"period": 10},
    "tema": {"period": 10},
    "rolling_std": {"period": 10},
    "ema_stepwise": {"period": 10, "bar": "h1_time"},
    "bollinger_stepwise": {"bar": "h1_time"},
    "kalman_zscore_stepwise": {"bar": "h1_time"},
    "vol_cluster": {"feature": "atr_points", "atr_length": 14, "garch_lookback": 100},
}

#: The output columns of every indicator with its defaults on ``bid_close``.
COLUMNS: dict[str, list[str]] = {
    "atr": ["bid_close_atr_14"],
    "bollinger": [
        "bid_close_bollinger_20_2_upper",
        "bid_close_bollinger_20_2_middle",
        "bid_close_bollinger_20_2_lower",
    ],
    "bollinger_stepwise": [
        "bid_close_bollinger_stepwise_20_2_upper",
        "bid_close_bollinger_stepwise_20_2_middle",
        "bid_close_bollinger_stepwise_20_2_lower",
    ],
    "choppiness": ["bid_close_choppiness_14"],
    "dema": ["bid_close_dema_10"],
    "dmi": ["bid_close_dmi_14_plus_di", "bid_close_dmi_14_minus_di", "bid_close_dmi_14_adx"],
    "ema": ["bid_close_ema_10"],
    "ema_stepwise": ["bid_close_ema_stepwise_10"],
    "garch_volatility": ["bid_close_garch_volatility_0.05_0.9_none_true_100_50_1e-06"],
    "garch_volatility_local": [
        "bid_close_garch_volatility_local_400_0.05_0.9_none_true_100_50_1e-06"
    ],
    "kalman_garch_zscore": ["bid_close_kalman_garch_zscore_0.01_1_0.05_0.9_none_true_100_50_1e-06"],
    "kalman_garch_zscore_local": [
        "bid_close_kalman_garch_zscore_local_400_0.01_1_0.05_0.9_none_true_100_50_1e-06"
    ],
    "kalman_mean": ["bid_close_kalman_mean_0.01_1"],
    "kalman_zscore": ["bid_close_kalman_zscore_100_0.01_1"],
    "kalman_zscore_stepwise": ["bid_close_kalman_zscore_stepwise_100_0.01_1"],
    "macd": [
        "bid_close_macd_12_26_9_macd",
        "bid_close_macd_12_26_9_signal",
        "bid_close_macd_12_26_9_histogram",
    ],
    "momentum": ["bid_close_momentum_10"],
    "roc": ["bid_close_roc_14"],
    "rolling_std": ["bid_close_rolling_std_10_1"],
    "rsi": ["bid_close_rsi_14"],
    "sma": ["bid_close_sma_10"],
    "tema": ["bid_close_tema_10"],
    "vol_cluster": ["bid_close_vol_cluster_atr_points_14_100_0.05_0.9_none_true_100_50_1e-06"],
    "zscore": ["bid_close_zscore_100_rolling_none"],
}


@pytest.fixture(scope="module")
def candles() -> pl.DataFrame:
    frame = omega_pl.datasets.generate_candles("EURUSD", "M5", start="2025-04-01", end="2025-04-03")
    return frame.with_columns(pl.col("time").dt.truncate("1h").alias("h1_time"))


def test_indicator_list_is_pinned() -> None:
    assert omega_pl.INDICATORS == NAMES
    assert sorted(COLUMNS) == list(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_output_column_names_are_pinned(candles: pl.DataFrame, name: str) -> None:
    spec = {"name": name, **REQUIRED.get(name, {})}
    assert list(omega_pl.plan_indicators(candles, [spec]).columns) == COLUMNS[name]
    out = omega_pl.with_indicators(candles.head(300), [spec])
    assert out.columns[-len(COLUMNS[name]) :] == COLUMNS[name]


def test_type_stub_matches_the_catalog() -> None:
    assert STUB.read_text() == expected_stub(), (
        "omega_pl/indicators/expressions.pyi is out of date: "
        "run `python -m omega_pl.indicators.stub`"
    )


@pytest.mark.parametrize("decl", CATALOG, ids=lambda d: d.name)
def test_function_and_method_share_the_declaration(decl: Any) -> None:
    """Both forms take the declared parameters, in order, with the declared defaults."""
    function = inspect.signature(getattr(omega_pl, decl.name)).parameters
    method = inspect.signature(getattr(omega_pl.OmegaExpr, decl.name)).parameters
    declared = [(p.name, p.default) for p in decl.params]

    def positional(params: Any) -> list[tuple[str, Any]]:
        return [
            (p.name, p.default)
            for p in params.values()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            and p.name not in ("self", "source", "high", "low", "close")
        ]

    expected = [(n, inspect.Parameter.empty if d is NO_DEFAULT else d) for n, d in declared]
    assert positional(function) == expected
    assert positional(method) == expected
    assert (getattr(omega_pl, decl.name).__doc__ or "").startswith(decl.summary)
    assert (getattr(omega_pl.OmegaExpr, decl.name).__doc__ or "").startswith(decl.summary)


def test_shared_groups_are_declared_once() -> None:
    """Every GARCH / Kalman parameter of every indicator is the group's own declaration."""
    garch = {p.path: p for p in GARCH}
    kalman = {p.path: p for p in KALMAN}
    uses = 0
    for decl in CATALOG:
        for p in (*decl.params, *decl.options):
            group = (
                garch if p.path[:1] == ("garch",) else kalman if p.path[:1] == ("kalman",) else {}
            )
            if p.path in group:
                shared = group[p.path]
                assert (p.default, p.check, p.doc) == (shared.default, shared.check, shared.doc)
                uses += 1
    assert uses == 7 * 5 + 2 * 5  # five GARCH users, five Kalman users


def test_describe_follows_the_declaration() -> None:
    assert omega_pl.describe_indicator("atr") == (
        "atr: period=14; dict only: high=None, low=None, reseed=False, convention='reference'"
    )
    assert omega_pl.describe_indicator("ema_stepwise") == "ema_stepwise: period; dict only: bar"
