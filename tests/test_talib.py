"""The TA-Lib convention (``convention="talib"``): parity with the ``talib`` package.

``talib`` (the ``ta-lib`` Python package) is the oracle. The kernels follow the
C library 0.8.1 operation for operation, so on gap-free input the results are
expected to be bit-identical; the contract tested everywhere is 1e-9 relative
with the identical missing pattern (talib NaN <-> omega null), plus one test
that pins bit-identity against TA-Lib 0.8.1 itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_pl
from omega_pl._plugin import plugin_expr
from omega_pl.errors import ParameterError
from tests.conftest import assert_parity

talib = pytest.importorskip("talib")


def _c_version() -> tuple[int, ...]:
    raw = talib.__ta_version__
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return tuple(int(part) for part in text.split()[0].split("."))


TA_VERSION = _c_version()
# The convention reproduces TA-Lib 0.8.1's definitions; older C libraries
# (0.4/0.6) compute STDDEV, BBANDS, RSI and ATR differently (classic variance
# with its fixed 1e-14 floor, unfused recursions).
pytestmark = pytest.mark.skipif(
    TA_VERSION < (0, 8, 1), reason=f"needs the TA-Lib C library >= 0.8.1, found {TA_VERSION}"
)

REL = 1e-9
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def walk(n: int, seed: int, kind: str = "price") -> Arrays:
    """Gap-free random-walk (high, low, close); ``fx`` is EURUSD-like, 5 decimals."""
    rng = np.random.default_rng(seed)
    if kind == "fx":
        close = np.round(1.1 + np.cumsum(rng.normal(0, 2e-4, n)), 5)
        spread = np.round(np.abs(rng.normal(0, 1.5e-4, n)), 5)
    else:
        close = 100.0 + np.cumsum(rng.normal(0, 1.0, n))
        spread = np.abs(rng.normal(0, 1.0, n))
    high = close + np.round(spread * rng.uniform(size=n), 5 if kind == "fx" else 12)
    low = close - np.round(spread * rng.uniform(size=n), 5 if kind == "fx" else 12)
    return high, low, close


@dataclass(frozen=True)
class Case:
    """One indicator: its omega builder and its talib counterpart."""

    name: str
    min_period: int
    lookback: Callable[[int], int]
    ours: Callable[[int], pl.Expr]
    theirs: Callable[[int, np.ndarray, np.ndarray, np.ndarray], list[np.ndarray]]
    fields: tuple[str, ...] = ()


CASES = [
    Case(
        "ema",
        1,
        lambda p: p - 1,
        lambda p: omega_pl.ema("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.EMA(c, p)],
    ),
    Case(
        "sma",
        1,
        lambda p: p - 1,
        lambda p: omega_pl.sma("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.SMA(c, p)],
    ),
    Case(
        "rsi",
        2,
        lambda p: p,
        lambda p: omega_pl.rsi("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.RSI(c, p)],
    ),
    Case(
        "roc",
        1,
        lambda p: p,
        lambda p: omega_pl.roc("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.ROC(c, p)],
    ),
    Case(
        "momentum",
        1,
        lambda p: p,
        lambda p: omega_pl.momentum("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.MOM(c, p)],
    ),
    Case(
        "dema",
        1,
        lambda p: 2 * (p - 1),
        lambda p: omega_pl.dema("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.DEMA(c, p)],
    ),
    Case(
        "tema",
        1,
        lambda p: 3 * (p - 1),
        lambda p: omega_pl.tema("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.TEMA(c, p)],
    ),
    Case(
        "rolling_std",
        2,
        lambda p: p - 1,
        lambda p: omega_pl.rolling_std("c", p, convention="talib"),
        lambda p, h, lo, c: [talib.STDDEV(c, p, 1.0)],
    ),
    Case(
        "bollinger",
        2,
        lambda p: p - 1,
        lambda p: omega_pl.bollinger("c", p, 2.0, convention="talib"),
        lambda p, h, lo, c: list(talib.BBANDS(c, p, 2.0, 2.0, 0)),
        ("upper", "middle", "lower"),
    ),
    Case(
        "bollinger_k1.5",
        2,
        lambda p: p - 1,
        lambda p: omega_pl.bollinger("c", p, 1.5, convention="talib"),
        lambda p, h, lo, c: list(talib.BBANDS(c, p, 1.5, 1.5, 0)),
        ("upper", "middle", "lower"),
    ),
    Case(
        "atr",
        1,
        lambda p: p,
        lambda p: omega_pl.atr("h", "l", "c", p, convention="talib"),
        lambda p, h, lo, c: [talib.ATR(h, lo, c, p)],
    ),
    Case(
        "dmi",
        2,
        lambda p: 2 * p - 1,
        lambda p: omega_pl.dmi("h", "l", "c", p, convention="talib"),
        lambda p, h, lo, c: [
            talib.PLUS_DI(h, lo, c, p),
            talib.MINUS_DI(h, lo, c, p),
            talib.ADX(h, lo, c, p),
        ],
        ("plus_di", "minus_di", "adx"),
    ),
]
CASE_IDS = [case.name for case in CASES]

MACD_PARAMS = [
    (12, 26, 9),
    (2, 3, 1),
    (3, 2, 1),
    (2, 2, 1),
    (5, 30, 14),
    (14, 30, 2),
    (30, 14, 3),
    (3, 14, 30),
]


def _macd_case(fast: int, slow: int, signal: int) -> Case:
    return Case(
        f"macd{fast},{slow},{signal}",
        1,
        lambda p: max(fast, slow) + signal - 2,
        lambda p: omega_pl.macd("c", fast, slow, signal, convention="talib"),
        lambda p, h, lo, c: list(talib.MACD(c, fast, slow, signal)),
        ("macd", "signal", "histogram"),
    )


MACD_CASES = [_macd_case(*params) for params in MACD_PARAMS]


def frame(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"h": high, "l": low, "c": close}, schema=dict.fromkeys("hlc", pl.Float64))


def ours(case: Case, period: int, df: pl.DataFrame) -> list[pl.Series]:
    out = df.select(case.ours(period).alias("out"))["out"]
    if case.fields:
        assert out.dtype == pl.Struct({name: pl.Float64 for name in case.fields})
        return [out.struct.field(name) for name in case.fields]
    return [out]


def check(case: Case, period: int, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> None:
    got = ours(case, period, frame(high, low, close))
    want = case.theirs(period, high, low, close)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert_parity(g, w, rel=REL)


def lengths(period: int, lookback: int) -> list[int]:
    candidates = {0, 1, period - 1, period, period + 1, lookback, lookback + 1, 500, 3000}
    return sorted(n for n in candidates if n >= 0)


# ---------------------------------------------------------------------------
# parity on gap-free random walks


# Periods 1/2/3/14/30 where TA-Lib accepts them (RSI, STDDEV, BBANDS and ADX need 2).
CASE_PERIODS = [
    pytest.param(case, p, id=f"{case.name}-{p}")
    for case in CASES
    for p in (1, 2, 3, 14, 30)
    if p >= case.min_period
]


@pytest.mark.parametrize("kind", ["price", "fx"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("case", "period"), CASE_PERIODS)
def test_parity_with_talib(case: Case, period: int, seed: int, kind: str) -> None:
    for n in lengths(period, case.lookback(period)):
        high, low, close = walk(n, seed * 1000 + n, kind)
        check(case, period, high, low, close)


@pytest.mark.parametrize("kind", ["price", "fx"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", MACD_CASES, ids=[c.name for c in MACD_CASES])
def test_macd_parity_with_talib(case: Case, seed: int, kind: str) -> None:
    lookback = case.lookback(0)
    for n in lengths(lookback + 1, lookback):
        high, low, close = walk(n, seed * 1000 + n, kind)
        check(case, 0, high, low, close)


@pytest.mark.skipif(TA_VERSION != (0, 8, 1), reason="bit-identity is pinned to TA-Lib 0.8.1")
@pytest.mark.parametrize("case", CASES + MACD_CASES, ids=CASE_IDS + [c.name for c in MACD_CASES])
def test_bit_identical_to_talib_0_8_1(case: Case) -> None:
    for kind in ("price", "fx"):
        high, low, close = walk(3000, 42, kind)
        for period in (2, 14):
            got = ours(case, period, frame(high, low, close))
            for g, w in zip(got, case.theirs(period, high, low, close), strict=True):
                assert_parity(g, w, rel=0.0)


CASE_BY_NAME = {case.name: case for case in CASES + MACD_CASES}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 400),
    period=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["price", "fx"]),
    name=st.sampled_from(CASE_IDS),
)
def test_property_parity(n: int, period: int, seed: int, kind: str, name: str) -> None:
    case = CASE_BY_NAME[name]
    period = max(period, case.min_period)
    high, low, close = walk(n, seed, kind)
    check(case, period, high, low, close)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 300),
    fast=st.integers(2, 30),
    slow=st.integers(2, 30),
    signal=st.integers(1, 15),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_macd(n: int, fast: int, slow: int, signal: int, seed: int) -> None:
    high, low, close = walk(n, seed, "fx")
    check(_macd_case(fast, slow, signal), 0, high, low, close)


# ---------------------------------------------------------------------------
# missing values: leading ones are skipped as the talib wrapper skips them;
# later ones propagate as they do in TA-Lib (the convention assumes no gaps)


def _with_missing(a: np.ndarray, rows: slice | list[int], value: float = math.nan) -> np.ndarray:
    out = a.copy()
    out[rows] = value
    return out


@pytest.mark.parametrize(
    "case", CASES + MACD_CASES[:2], ids=CASE_IDS + [c.name for c in MACD_CASES[:2]]
)
def test_leading_missing_rows_are_skipped(case: Case) -> None:
    high, low, close = walk(300, 5, "fx")
    # Nulls in the frame, NaN for talib; high, low and close start at different rows.
    h = _with_missing(high, slice(0, 3))
    lo = _with_missing(low, slice(0, 6))
    c = _with_missing(close, slice(0, 4))
    df = pl.DataFrame({"h": h, "l": lo, "c": c}).with_columns(pl.all().fill_nan(None))
    assert df["l"].null_count() == 6
    period = max(3, case.min_period)
    for g, w in zip(ours(case, period, df), case.theirs(period, h, lo, c), strict=True):
        assert_parity(g, w, rel=REL)


@pytest.mark.parametrize(
    "case", CASES + MACD_CASES[:2], ids=CASE_IDS + [c.name for c in MACD_CASES[:2]]
)
def test_interior_missing_never_raises_and_propagates_like_talib(case: Case) -> None:
    high, low, close = walk(300, 6, "price")
    h = _with_missing(high, [150])
    c = _with_missing(close, [100, 101])
    df = pl.DataFrame({"h": h, "l": low, "c": c}).with_columns(pl.all().fill_nan(None))
    period = max(3, case.min_period)
    for g, w in zip(ours(case, period, df), case.theirs(period, h, low, c), strict=True):
        assert_parity(g, w, rel=REL)


@pytest.mark.parametrize(
    "case", CASES + MACD_CASES[:2], ids=CASE_IDS + [c.name for c in MACD_CASES[:2]]
)
def test_interior_infinity_gives_talib_missing_pattern(case: Case) -> None:
    # inf - inf and inf / inf turn into NaN inside the recursions: those rows
    # must come out null exactly where TA-Lib has NaN (the kernels report
    # such rows while writing instead of the output being searched for NaN).
    high, low, close = walk(1500, 7, "price")
    h = _with_missing(high, [700], math.inf)
    c = _with_missing(_with_missing(close, [600], math.inf), [900], -math.inf)
    df = pl.DataFrame({"h": h, "l": low, "c": c})
    period = max(3, case.min_period)
    for g, w in zip(ours(case, period, df), case.theirs(period, h, low, c), strict=True):
        assert_parity(g, w, rel=REL)


@pytest.mark.parametrize(
    "case", CASES + MACD_CASES[:1], ids=CASE_IDS + [c.name for c in MACD_CASES[:1]]
)
def test_empty_and_all_missing(case: Case) -> None:
    period = max(2, case.min_period)
    empty = frame(np.array([]), np.array([]), np.array([]))
    assert all(s.len() == 0 for s in ours(case, period, empty))
    missing = pl.DataFrame({k: [None] * 50 for k in "hlc"}, schema=dict.fromkeys("hlc", pl.Float64))
    assert all(s.null_count() == 50 for s in ours(case, period, missing))


# ---------------------------------------------------------------------------
# TA-Lib's definitions and quirks, spelled out


def test_quirks() -> None:
    flat = np.full(40, 1.23456)
    df = frame(flat, flat, flat)
    # RSI of a flat stretch is 0, not 50; STDDEV/BBANDS of identical values exactly 0.
    assert (
        df.select(omega_pl.rsi("c", 14, convention="talib"))["c"].drop_nulls().to_list()
        == [0.0] * 26
    )
    assert (
        df.select(omega_pl.rolling_std("c", 5, convention="talib"))["c"].drop_nulls().to_list()
        == [0.0] * 36
    )
    # ROC after a zero is 0.
    zeros = pl.DataFrame({"c": [0.0, 1.0, 2.0, 0.0, 3.0]})
    assert zeros.select(omega_pl.roc("c", 1, convention="talib"))["c"].to_list() == [
        None,
        0.0,
        100.0,
        -100.0,
        0.0,
    ]
    # Period 1: EMA, DEMA and TEMA copy the input; ATR is the true range.
    x = [1.0, 0.3, 0.1, 5.0, 0.7]
    one = pl.DataFrame({"c": x})
    for build in (omega_pl.ema, omega_pl.dema, omega_pl.tema, omega_pl.sma):
        assert one.select(build("c", 1, convention="talib"))["c"].to_list() == x
    high, low, close = walk(50, 1)
    got = frame(high, low, close).select(omega_pl.atr("h", "l", "c", 1, convention="talib"))["c"]
    assert_parity(got, talib.TRANGE(high, low, close), rel=0.0)
    # MACD swaps fast and slow when slow < fast.
    df = frame(*walk(200, 2))
    swapped = df.select(omega_pl.macd("c", 26, 12, 9, convention="talib"))["c"]
    assert swapped.equals(df.select(omega_pl.macd("c", 12, 26, 9, convention="talib"))["c"])


def test_fine_fx_quote_keeps_a_nonzero_deviation() -> None:
    # TA-Lib 0.8 dropped the fixed 1e-14 variance floor: a sigma of ~1e-8 survives.
    rng = np.random.default_rng(3)
    close = 1.1 + np.cumsum(rng.normal(0, 1e-8, 200))
    got = pl.DataFrame({"c": close}).select(omega_pl.rolling_std("c", 20, convention="talib"))["c"]
    assert got.drop_nulls().min() > 0  # type: ignore[operator]
    assert_parity(got, talib.STDDEV(close, 20, 1.0), rel=REL)


# ---------------------------------------------------------------------------
# expression mechanics


def test_names_struct_fields_and_lazy() -> None:
    high, low, close = walk(100, 8)
    lf = pl.LazyFrame({"bid_high": high, "bid_low": low, "bid_close": close})
    out = lf.select(
        omega_pl.ema("bid_close", 5, convention="talib"),
        omega_pl.atr("bid_high", "bid_low", "bid_close", 5, convention="talib").alias("atr"),
        omega_pl.macd(pl.col("bid_close"), convention="talib").alias("macd"),
        omega_pl.bollinger("bid_close", 20, 2.0, convention="talib").alias("bb"),
        omega_pl.dmi("bid_high", "bid_low", "bid_close", 14, convention="talib").alias("dmi"),
    )
    schema = out.collect_schema()
    assert schema["bid_close"] == pl.Float64
    assert schema["atr"] == pl.Float64
    assert schema["macd"] == pl.Struct(dict.fromkeys(["macd", "signal", "histogram"], pl.Float64))
    assert schema["bb"] == pl.Struct(dict.fromkeys(["upper", "middle", "lower"], pl.Float64))
    assert schema["dmi"] == pl.Struct(dict.fromkeys(["plus_di", "minus_di", "adx"], pl.Float64))
    df = out.collect()
    assert df.schema == schema
    # OHLC outputs are named after close.
    named = lf.select(
        omega_pl.atr("bid_high", "bid_low", "bid_close", 5, convention="talib")
    ).collect()
    assert named.columns == ["bid_close"]


def test_over_groups_match_per_group_talib() -> None:
    parts = []
    for i, seed in enumerate((11, 12, 13)):
        high, low, close = walk(150 + 40 * i, seed, "fx")
        parts.append(pl.DataFrame({"sym": f"S{i}", "h": high, "l": low, "c": close}))
    df = pl.concat(parts)
    out = df.with_columns(
        rsi=omega_pl.rsi("c", 14, convention="talib").over("sym"),
        dmi=omega_pl.dmi("h", "l", "c", 7, convention="talib").over("sym"),
    )
    for _, group in out.group_by("sym", maintain_order=True):
        h, lo, c = (group[k].to_numpy() for k in "hlc")
        assert_parity(group["rsi"], talib.RSI(c, 14), rel=REL)
        assert_parity(group["dmi"].struct.field("adx"), talib.ADX(h, lo, c, 7), rel=REL)


def test_float32_and_integer_input_computed_in_float64() -> None:
    _, _, close = walk(300, 9, "fx")
    df = pl.DataFrame({"c": close}).with_columns(c32=pl.col("c").cast(pl.Float32))
    got = df.select(omega_pl.tema("c32", 10, convention="talib"))["c32"]
    assert got.dtype == pl.Float64
    assert_parity(got, talib.TEMA(df["c32"].cast(pl.Float64).to_numpy(), 10), rel=REL)
    ints = pl.DataFrame({"i": [3, 1, 4, 1, 5, 9, 2, 6]})
    assert_parity(
        ints.select(omega_pl.sma("i", 3, convention="talib"))["i"],
        talib.SMA(ints["i"].cast(pl.Float64).to_numpy(), 3),
    )


def test_literal_inputs_broadcast() -> None:
    high, _, close = walk(60, 10)
    df = pl.DataFrame({"h": high, "c": close})
    got = df.select(omega_pl.atr("h", pl.lit(90.0), "c", 5, convention="talib"))["c"]
    assert_parity(got, talib.ATR(high, np.full(60, 90.0), close, 5), rel=REL)


# ---------------------------------------------------------------------------
# parameters


@pytest.mark.parametrize(
    ("build", "param", "minimum"),
    [
        (lambda v: omega_pl.ema("c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.sma("c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.rsi("c", v, convention="talib"), "period", 2),
        (lambda v: omega_pl.roc("c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.momentum("c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.dema("c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.tema("c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.rolling_std("c", v, convention="talib"), "period", 2),
        (lambda v: omega_pl.bollinger("c", v, convention="talib"), "period", 2),
        (lambda v: omega_pl.atr("h", "l", "c", v, convention="talib"), "period", 1),
        (lambda v: omega_pl.dmi("h", "l", "c", v, convention="talib"), "period", 2),
        (lambda v: omega_pl.macd("c", fast=v, convention="talib"), "fast", 2),
        (lambda v: omega_pl.macd("c", slow=v, convention="talib"), "slow", 2),
        (lambda v: omega_pl.macd("c", signal=v, convention="talib"), "signal", 1),
    ],
)
def test_periods_below_talib_minimum_are_errors(
    build: Callable[[object], pl.Expr], param: str, minimum: int
) -> None:
    for bad in (minimum - 1, -3, 2.5, True, "5", None):
        with pytest.raises(ParameterError, match=f"parameter '{param}'"):
            build(bad)
    assert isinstance(build(minimum), pl.Expr)


def test_std_factor_must_be_finite() -> None:
    for bad in (math.nan, math.inf, "2", None, True):
        with pytest.raises(ParameterError, match="parameter 'std_factor'"):
            omega_pl.bollinger("c", 20, bad, convention="talib")  # type: ignore[arg-type]


def test_plugin_validates_its_own_parameters() -> None:
    df = pl.DataFrame({"c": [1.0, 2.0, 3.0]})
    with pytest.raises(
        pl.exceptions.PolarsError, match=r"parameter 'period' must be an integer >= 2"
    ):
        df.select(plugin_expr("talib_rsi", [pl.col("c")], {"period": 1}))
    with pytest.raises(pl.exceptions.PolarsError, match="parameter 'signal'"):
        df.select(plugin_expr("talib_macd", [pl.col("c")], {"fast": 2, "slow": 3, "signal": 0}))
    with pytest.raises(pl.exceptions.PolarsError, match="parameter 'std_factor'"):
        df.select(
            plugin_expr("talib_bollinger", [pl.col("c")], {"period": 2, "std_factor": math.inf})
        )


def test_talib_convention_in_both_forms() -> None:
    """The namespace method and the module function build the same TA-Lib expression."""
    high, low, close = walk(120, 4)
    df = frame(high, low, close)
    c, h, lo = pl.col("c"), pl.col("h"), pl.col("l")
    assert df.select(c.omega.atr(5, high=h, low=lo, convention="talib")).equals(
        df.select(omega_pl.atr(h, lo, c, 5, convention="talib"))
    )
    assert df.select(c.omega.dmi(5, high=h, low=lo, convention="talib")).equals(
        df.select(omega_pl.dmi(h, lo, c, 5, convention="talib"))
    )
    assert df.select(c.omega.macd(3, 9, 4, convention="talib")).equals(
        df.select(omega_pl.macd(c, 3, 9, 4, convention="talib"))
    )
    assert df.select(c.omega.bollinger(10, 1.5, convention="talib")).equals(
        df.select(omega_pl.bollinger(c, 10, 1.5, convention="talib"))
    )
    for name in ("ema", "sma", "rsi", "roc", "momentum", "dema", "tema", "rolling_std"):
        expected = df.select(getattr(omega_pl, name)(c, 7, convention="talib"))
        assert df.select(getattr(c.omega, name)(7, convention="talib")).equals(expected)
    # ddof has no meaning in TA-Lib's STDDEV (population std): any valid value is ignored
    assert df.select(omega_pl.rolling_std(c, 3, 2, convention="talib")).equals(
        df.select(omega_pl.rolling_std(c, 3, convention="talib"))
    )
    with pytest.raises(TypeError, match="convention"):
        omega_pl.kalman_mean(c, convention="talib")  # type: ignore[call-arg]
    with pytest.raises(ParameterError, match="convention"):
        omega_pl.with_indicators(df, [{"name": "kalman_mean", "convention": "talib"}], source="c")
