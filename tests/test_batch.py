"""Tests for the batch indicator API (``omega_pl.with_indicators``, ``omega_pl.indicators.plan``).

Expected values are the indicator expressions called directly
(``pl.col(...).omega.<name>(...)``), whose numbers are checked against the
reference elsewhere; these tests check the spec parsing, the naming rule, the
single ``with_columns`` plan and that every error comes before any work.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import omega_pl
from omega_pl import (
    INDICATORS,
    IndicatorSpec,
    ParameterError,
    parse_spec,
    plan_indicators,
    with_indicators,
)
from omega_pl.indicators.catalog import CATALOG
from tests.test_catalog import NAMES

# ---------------------------------------------------------------------------
# data


@pytest.fixture(scope="module")
def candles() -> pl.DataFrame:
    """Bid/ask M5 candles (two weeks) with an H1 bar key for the stepwise indicators."""
    frame = omega_pl.datasets.generate_candles("EURUSD", "M5", start="2025-04-01", end="2025-04-15")
    return frame.with_columns(pl.col("time").dt.truncate("1h").alias("h1_time"))


def col(name: str = "bid_close") -> omega_pl.OmegaExpr:
    """``pl.col(name).omega`` (the namespace class itself, so that mypy knows it)."""
    return omega_pl.OmegaExpr(pl.col(name))


#: Required parameters of the indicators that have some.
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

STRUCT_FIELDS = {
    "macd": ("macd", "signal", "histogram"),
    "bollinger": ("upper", "middle", "lower"),
    "bollinger_stepwise": ("upper", "middle", "lower"),
    "dmi": ("plus_di", "minus_di", "adx"),
}


# ---------------------------------------------------------------------------
# specs equal the direct expressions, and the naming rule


CASES: list[tuple[Any, dict[str, Callable[[], pl.Expr]]]] = [
    ("atr:14", {"bid_close_atr_14": lambda: col().atr(14)}),
    ("atr", {"bid_close_atr_14": lambda: col().atr()}),
    (" ATR : 7 ", {"bid_close_atr_7": lambda: col().atr(7)}),
    (
        {"name": "atr", "period": 10, "reseed": True},
        {"bid_close_atr_10": lambda: col().atr(10, reseed=True)},
    ),
    ("ema:20", {"bid_close_ema_20": lambda: col().ema(20)}),
    (
        {"name": "ema", "period": 5, "convention": "talib", "alias": "ema5_talib"},
        {"ema5_talib": lambda: col().ema(5, convention="talib")},
    ),
    ({"name": "rsi", "source": "ask_close"}, {"ask_close_rsi_14": lambda: col("ask_close").rsi()}),
    ("rolling_std:30,0", {"bid_close_rolling_std_30_0": lambda: col().rolling_std(30, 0)}),
    ("zscore:50,ema,20", {"bid_close_zscore_50_ema_20": lambda: col().zscore(50, "ema", 20)}),
    ("zscore", {"bid_close_zscore_100_rolling_none": lambda: col().zscore()}),
    (
        {"name": "kalman_mean", "q": 0.5, "carry_gaps": True},
        {"bid_close_kalman_mean_0.01_0.5": lambda: col().kalman_mean(q=0.5, carry_gaps=True)},
    ),
    (
        "garch_volatility:0.04",
        {
            "bid_close_garch_volatility_0.04_0.9_none_true_100_50_1e-06": (
                lambda: col().garch_volatility(0.04)
            )
        },
    ),
    (
        IndicatorSpec("choppiness", {"period": 20}, source="ask_close", alias="chop"),
        {"chop": lambda: col("ask_close").choppiness(20)},
    ),
    (
        {"name": "atr", "source": "bid_open", "high": "ask_high", "low": "ask_low"},
        {"bid_open_atr_14": lambda: col("bid_open").atr(high="ask_high", low="ask_low")},
    ),
]

STRUCT_CASES: list[tuple[Any, str, Callable[[], pl.Expr]]] = [
    ("macd", "bid_close_macd_12_26_9", lambda: col().macd()),
    ("macd:8,21", "bid_close_macd_8_21_9", lambda: col().macd(8, 21)),
    ("bollinger:20,2", "bid_close_bollinger_20_2", lambda: col().bollinger(20, 2.0)),
    ("bollinger:20,2.0", "bid_close_bollinger_20_2", lambda: col().bollinger(20, 2.0)),
    ("bollinger:10,2.5", "bid_close_bollinger_10_2.5", lambda: col().bollinger(10, 2.5)),
    (
        {"name": "bollinger", "period": 10, "std_factor": 2.5, "exact_std": True, "alias": "bb"},
        "bb",
        lambda: col().bollinger(10, 2.5, exact_std=True),
    ),
    ("dmi", "bid_close_dmi_14", lambda: col().dmi()),
    (
        {"name": "bollinger_stepwise", "period": 5, "bar": "h1_time"},
        "bid_close_bollinger_stepwise_5_2",
        lambda: col().bollinger_stepwise(5, bar="h1_time"),
    ),
]


@pytest.mark.parametrize(("spec", "outputs"), CASES)
def test_spec_equals_direct_expression(
    candles: pl.DataFrame, spec: Any, outputs: dict[str, Callable[[], pl.Expr]]
) -> None:
    got = with_indicators(candles, [spec])
    assert got.columns == [*candles.columns, *outputs]
    expected = candles.with_columns(make().alias(name) for name, make in outputs.items())
    assert_frame_equal(got, expected)


@pytest.mark.parametrize(("spec", "stem", "make"), STRUCT_CASES)
def test_struct_spec_is_unnested_with_field_suffix(
    candles: pl.DataFrame, spec: Any, stem: str, make: Callable[[], pl.Expr]
) -> None:
    got = with_indicators(candles, [spec])
    name = spec if isinstance(spec, str) else spec["name"]
    fields = STRUCT_FIELDS[name.split(":")[0]]
    assert got.columns == [*candles.columns, *(f"{stem}_{f}" for f in fields)]
    expected = candles.with_columns(make().alias("s")).unnest("s")
    expected = expected.select(pl.col(f).alias(f"{stem}_{f}") for f in fields)
    assert_frame_equal(got.select(expected.columns), expected)


def test_many_specs_in_order(candles: pl.DataFrame) -> None:
    specs: list[Any] = [
        "ema:20",
        "rsi",
        "macd:12,26,9",
        {"name": "bollinger", "std_factor": 2.5, "alias": "bb"},
        "atr:14",
    ]
    got = with_indicators(candles, specs)
    new = [
        "bid_close_ema_20",
        "bid_close_rsi_14",
        "bid_close_macd_12_26_9_macd",
        "bid_close_macd_12_26_9_signal",
        "bid_close_macd_12_26_9_histogram",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "bid_close_atr_14",
    ]
    assert got.columns == [*candles.columns, *new]
    assert plan_indicators(candles, specs).columns == tuple(new)
    expected = candles.with_columns(
        col().ema(20).alias("bid_close_ema_20"),
        col().rsi(14).alias("bid_close_rsi_14"),
        col().macd().struct.field("signal").alias("bid_close_macd_12_26_9_signal"),
        col().bollinger(20, 2.5).struct.field("lower").alias("bb_lower"),
        col().atr(14).alias("bid_close_atr_14"),
    )
    for name in (
        "bid_close_ema_20",
        "bid_close_macd_12_26_9_signal",
        "bb_lower",
        "bid_close_atr_14",
    ):
        assert_frame_equal(got.select(name), expected.select(name))


# ---------------------------------------------------------------------------
# every indicator by name


def test_indicators_are_the_namespace_methods_and_functions() -> None:
    methods = {n for n, _ in inspect.getmembers(omega_pl.OmegaExpr, inspect.isfunction)}
    assert {n for n in methods if not n.startswith("_")} == set(NAMES)
    assert all(callable(getattr(omega_pl, name)) for name in NAMES)
    assert INDICATORS == NAMES
    for name in INDICATORS:  # a spec's own keys must never shadow a parameter
        params = inspect.signature(getattr(omega_pl.OmegaExpr, name)).parameters
        assert not {"name", "source", "alias"} & set(params), name


def call_direct(name: str, params: dict[str, Any]) -> pl.Expr:
    expr: pl.Expr = getattr(col(), name)(**params)
    return expr


def default_stem(name: str, params: dict[str, Any]) -> str:
    """The documented name: source, indicator, every positional value (given or default)."""
    method = getattr(omega_pl.OmegaExpr, name)
    values = []
    for p in list(inspect.signature(method).parameters.values())[1:]:
        if p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            continue
        v = params.get(p.name, p.default)
        if v is None:
            values.append("none")
        elif isinstance(v, bool):
            values.append(str(v).lower())
        elif isinstance(v, float) and v.is_integer():
            values.append(str(int(v)))
        else:
            values.append(str(v))
    return "_".join(["bid_close", name, *values])


@pytest.mark.parametrize("name", INDICATORS)
def test_every_indicator_by_name_with_defaults(candles: pl.DataFrame, name: str) -> None:
    params = REQUIRED.get(name, {})
    frame = candles.head(1500)
    got = with_indicators(frame, [{"name": name, **params}])
    stem = default_stem(name, params)
    expected = frame.with_columns(call_direct(name, params).alias(stem))
    if name in STRUCT_FIELDS:
        expected = expected.with_columns(pl.col(stem).name.prefix_fields(f"{stem}_")).unnest(stem)
        assert got.columns[-3:] == [f"{stem}_{f}" for f in STRUCT_FIELDS[name]]
    else:
        assert got.columns[-1] == stem
    assert_frame_equal(got, expected)


@pytest.mark.parametrize("name", INDICATORS)
def test_shorthand_follows_the_signature_order(candles: pl.DataFrame, name: str) -> None:
    """Writing every positional default in a shorthand gives the plain name's columns."""
    method = getattr(omega_pl.OmegaExpr, name)
    positional = [
        p
        for p in list(inspect.signature(method).parameters.values())[1:]
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    required = REQUIRED.get(name, {})
    values = [required.get(p.name, p.default) for p in positional]
    text = f"{name}:" + ",".join("none" if v is None else str(v) for v in values)
    keyword = {k: v for k, v in required.items() if k not in {p.name for p in positional}}
    plain = plan_indicators(candles, [{"name": name, **required}]).columns
    if keyword:  # bar= is keyword-only, so a shorthand alone cannot give it
        with pytest.raises(ParameterError, match=r"missing required parameter\(s\) 'bar'"):
            parse_spec(text)
        return
    spec = parse_spec(text)
    assert list(spec.params) == [p.name for p in positional]
    assert plan_indicators(candles, [{**spec.params, "name": name, **keyword}]).columns == plain


# ---------------------------------------------------------------------------
# source


def test_default_source(candles: pl.DataFrame) -> None:
    assert with_indicators(candles, "ema:3").columns[-1] == "bid_close_ema_3"
    one_side = candles.select("time", pl.col("^bid_.*$").name.map(lambda c: c[4:]))
    assert with_indicators(one_side, "atr").columns[-1] == "close_atr_14"
    assert_frame_equal(
        with_indicators(one_side, "atr").select("close_atr_14"),
        one_side.select(col("close").atr().alias("close_atr_14")),
    )
    both = candles.with_columns(pl.col("ask_close").alias("close"))
    assert with_indicators(both, "ema:3").columns[-1] == "close_ema_3"  # "close" first


def test_source_argument_and_spec_source(candles: pl.DataFrame) -> None:
    got = with_indicators(
        candles, ["ema:3", {"name": "ema", "period": 3, "source": "bid_open"}], source="ask_close"
    )
    assert got.columns[-2:] == ["ask_close_ema_3", "bid_open_ema_3"]
    assert_frame_equal(
        got.select("ask_close_ema_3"),
        candles.select(col("ask_close").ema(3).alias("ask_close_ema_3")),
    )


def test_no_source_is_an_error() -> None:
    frame = pl.DataFrame({"price": [1.0, 2.0, 3.0]})
    with pytest.raises(ParameterError, match="neither 'close' nor 'bid_close'"):
        with_indicators(frame, ["ema:2"])
    assert with_indicators(frame, ["ema:2"], source="price").columns == ["price", "price_ema_2"]


# ---------------------------------------------------------------------------
# frame kinds, one with_columns, over


def test_lazy_in_lazy_out_and_eager_in_eager_out(candles: pl.DataFrame) -> None:
    specs = ["ema:20", "macd", "atr"]
    lazy = with_indicators(candles.lazy(), specs)
    assert isinstance(lazy, pl.LazyFrame)
    eager = with_indicators(candles, specs)
    assert isinstance(eager, pl.DataFrame)
    assert_frame_equal(lazy.collect(), eager)


def test_one_with_columns_for_all_indicators(candles: pl.DataFrame) -> None:
    specs: list[Any] = ["ema:20", "rsi", "macd", "bollinger", "atr", "dmi", "kalman_mean"]
    lf = with_indicators(candles.lazy(), specs)
    for plan in (lf.explain(optimizations=pl.QueryOptFlags.none()), lf.explain()):
        assert plan.count("WITH_COLUMNS") == 1, plan
        # each indicator is one plugin call, Struct results included (no per-field re-runs)
        assert plan.count("_plugins") == len(specs), plan
        with_columns = plan[plan.index("WITH_COLUMNS") :]
        for name in ("ema", "rsi", "macd", "bollinger", "atr", "dmi", "kalman_mean"):
            assert f":{name}(" in with_columns
        # what follows the with_columns is only the unnest of the three Struct results
        head = plan[: plan.index("WITH_COLUMNS")]
        assert "UNNEST" in head
        assert "_plugins" not in head


def test_over_groups(candles: pl.DataFrame) -> None:
    a = candles.head(800).with_columns(pl.lit("A").alias("symbol"))
    b = candles.tail(800).with_columns(pl.lit("B").alias("symbol"))
    long = pl.concat([a, b])
    got = with_indicators(long, ["ema:20", "macd"], over="symbol")
    per_symbol = pl.concat(
        [with_indicators(a, ["ema:20", "macd"]), with_indicators(b, ["ema:20", "macd"])]
    )
    assert_frame_equal(got, per_symbol)
    assert not got.equals(with_indicators(long, ["ema:20", "macd"]))


def test_single_spec_and_empty_list(candles: pl.DataFrame) -> None:
    assert_frame_equal(with_indicators(candles, "ema:5"), with_indicators(candles, ["ema:5"]))
    assert_frame_equal(with_indicators(candles, []), candles)


def test_alias_may_replace_an_existing_column(candles: pl.DataFrame) -> None:
    got = with_indicators(candles, {"name": "ema", "period": 5, "alias": "bid_open"})
    assert got.columns == candles.columns
    assert_frame_equal(got.select("bid_open"), candles.select(col().ema(5).alias("bid_open")))


def test_expensive_indicators_start_first_and_columns_keep_their_order(
    candles: pl.DataFrame,
) -> None:
    specs: list[Any] = [
        "ema:5",
        {"name": "sma", "period": 3, "alias": "bid_open"},  # replaces a column in place
        "macd",
        "bollinger",
        "roc",
        "dmi",
    ]
    plan = plan_indicators(candles, specs)
    names = [parse_spec(s).name for s in specs]
    ordered = [names[i] for i in plan.order]
    assert ordered[0] == "bollinger" and ordered[-1] == "roc", ordered
    cost = {decl.name: decl.cost for decl in CATALOG}
    for a, b in itertools.pairwise(plan.order):
        assert cost[names[a]] >= cost[names[b]], ordered
        if cost[names[a]] == cost[names[b]]:
            assert a < b, ordered  # equal costs keep the listed order
    as_listed = candles.with_columns(*plan.exprs).unnest(plan.unnest)
    assert_frame_equal(with_indicators(candles, specs), as_listed)
    assert_frame_equal(with_indicators(candles.lazy(), specs).collect(), as_listed)


def test_parse_spec_and_describe() -> None:
    assert parse_spec("macd:8,21") == IndicatorSpec("macd", {"fast": 8, "slow": 21})
    assert parse_spec("zscore:50,ema,20").params == {
        "window": 50,
        "mean_source": "ema",
        "ema_period": 20,
    }
    assert parse_spec("garch_volatility:0.05,0.9,none,false").params == {
        "alpha": 0.05,
        "beta": 0.9,
        "omega": None,
        "use_log_returns": False,
    }
    spec = parse_spec({"name": "Bollinger", "period": 10, "alias": "bb", "source": "ask_close"})
    assert spec == IndicatorSpec("bollinger", {"period": 10}, source="ask_close", alias="bb")
    assert parse_spec(spec) == spec
    assert omega_pl.describe_indicator("bollinger") == (
        "bollinger: period=20, std_factor=2.0; dict only: exact_std=False, convention='reference'"
    )
    assert omega_pl.describe_indicator("ema").startswith("ema: period; dict only: convention=")


# ---------------------------------------------------------------------------
# errors: at call time, before any computation


def _boom(s: pl.Series) -> pl.Series:
    raise AssertionError("the frame was collected")


@pytest.fixture
def untouchable(candles: pl.DataFrame) -> pl.LazyFrame:
    """A LazyFrame whose collection fails: an error from with_indicators proves no collect."""
    lf = (
        candles.head(100)
        .lazy()
        .with_columns(pl.col("bid_close").map_batches(_boom, return_dtype=pl.Float64))
    )
    with pytest.raises(Exception, match="collected"):
        lf.collect()
    return lf


ERRORS: list[tuple[Any, str]] = [
    ("emaa:20", "unknown indicator 'emaa' (did you mean 'ema'?); valid indicators: atr, bollinger"),
    ({"name": "foo"}, "valid indicators: atr, bollinger, bollinger_stepwise, choppiness"),
    ("ema", "missing required parameter(s) 'period'; parameters of ema: period;"),
    (
        {"name": "atr", "perod": 3},
        "unknown parameter(s) 'perod'; parameters of atr: period=14; dict only: high=None",
    ),
    (
        "macd:1,2,3,4",
        "4 values for 3 positional parameter(s); parameters of macd: fast=12, slow=26, signal=9",
    ),
    ("ema:20,", "empty value"),
    ("ema:0", "indicator 'ema:0': parameter 'period' must be a positive integer, got 0"),
    ("atr:14.5", "parameter 'period' must be a positive integer, got 14.5"),
    ("bollinger:20,x", "parameter 'std_factor' must be a finite number, got 'x'"),
    (
        {"name": "ema", "period": 3, "convention": "ta"},
        "parameter 'convention' must be 'reference' or 'talib'",
    ),
    ({"name": "zscore", "mean_source": "ema"}, "ema_period"),
    (
        {"name": "vol_cluster"},
        "missing required parameter(s) 'feature', 'atr_length', 'garch_lookback'",
    ),
    ({"name": "ema_stepwise", "period": 3}, "missing required parameter(s) 'bar'"),
    (
        {"name": "ema_stepwise", "period": 3, "bar": "h4_time"},
        "reads column 'h4_time', which the frame does not have",
    ),
    (
        {"name": "ema", "period": 3, "source": "nope"},
        "no source column 'nope'; the frame has: 'time', 'bid_open'",
    ),
    ({"name": "ema", "period": 3, "source": "time"}, "input column 'time' has type Datetime"),
    ({"name": "atr", "source": "mid_close"}, "reads columns 'mid_high', 'mid_low'"),
    ({"name": "atr", "source": "bid_open"}, "pass high= and low="),
    ({"name": "atr", "high": 5, "low": "bid_low"}, "parameter 'high' must be a column name"),
    ({"name": "ema", "period": 3, "alias": ""}, "'alias' must be a non-empty column name"),
    ({"period": 3}, "needs a 'name'"),
    (42, "an indicator spec is a string like 'atr:14'"),
    (
        ["ema:20", {"name": "ema", "period": 20, "convention": "talib"}],
        "duplicate output column(s) 'bid_close_ema_20'",
    ),
    (["macd", {"name": "ema", "period": 3, "alias": "bid_close_macd_12_26_9_signal"}], "duplicate"),
]


@pytest.mark.parametrize(("specs", "message"), ERRORS)
def test_errors_come_at_call_time(untouchable: pl.LazyFrame, specs: Any, message: str) -> None:
    frame = untouchable.with_columns(pl.col("bid_close").alias("mid_close"))
    with pytest.raises(ParameterError) as info:
        with_indicators(frame, specs if isinstance(specs, list) else [specs])
    assert message in str(info.value)


def test_valid_specs_build_without_collecting(untouchable: pl.LazyFrame) -> None:
    out = with_indicators(untouchable, ["ema:20", "macd", "atr", "dmi"])
    assert isinstance(out, pl.LazyFrame)
    assert "bid_close_dmi_14_adx" in out.collect_schema().names()


def test_over_needs_its_column(untouchable: pl.LazyFrame) -> None:
    with pytest.raises(ParameterError, match="over: no column"):
        with_indicators(untouchable, ["ema:3"], over="symbol")


def test_not_a_frame() -> None:
    with pytest.raises(ParameterError, match="DataFrame or LazyFrame"):
        with_indicators({"close": [1.0]}, ["ema:3"])  # type: ignore[type-var]
