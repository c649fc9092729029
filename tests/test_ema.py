"""ema (SPEC 2.1 / P1): parity with the executable spec and with pandas, plugin mechanics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omega_pl
from tests.conftest import assert_parity, random_walk_with_gaps
from tests.reference import ema as ref_ema


@pytest.mark.parametrize("period", [1, 2, 3, 5, 14, 20, 200])
def test_parity_with_reference_on_gappy_walk(walk: list[float | None], period: int) -> None:
    got = pl.DataFrame({"c": walk}).select(pl.col("c").omega.ema(period))["c"]
    assert_parity(got, ref_ema(walk, period))


@pytest.mark.parametrize("period", [2, 3, 10, 50])
def test_bit_parity_with_pandas(walk: list[float | None], period: int) -> None:
    # SPEC §0: the normative reference is pandas 2.x ewm(span, adjust=False).
    expected = pd.Series(walk, dtype="float64").ewm(span=period, adjust=False).mean().to_numpy()
    got = pl.DataFrame({"c": walk}).select(omega_pl.ema("c", period))["c"]
    assert_parity(got, expected, rel=0.0)


@pytest.mark.parametrize("n", [0, 1, 19, 20, 21])
def test_edge_lengths(n: int) -> None:
    x = random_walk_with_gaps(n, seed=n, flat=False)
    got = pl.DataFrame({"c": x}, schema={"c": pl.Float64}).select(omega_pl.ema("c", 20))["c"]
    assert_parity(got, ref_ema(x, 20))


def test_flat_and_all_missing() -> None:
    flat = [1.23456] * 50
    got = pl.DataFrame({"c": flat}).select(omega_pl.ema("c", 7))["c"]
    assert got.to_list() == flat  # equal inputs never divide (SPEC P1 "x != m")
    missing = pl.DataFrame({"c": [None, math.nan, math.inf]}, schema={"c": pl.Float64})
    assert missing.select(omega_pl.ema("c", 3))["c"].to_list() == [None, None, None]


def test_inf_is_missing_and_carried() -> None:
    got = pl.DataFrame({"c": [1.0, math.inf, -math.inf, 2.0]}).select(omega_pl.ema("c", 5))["c"]
    assert_parity(got, ref_ema([1.0, math.nan, math.nan, 2.0], 5))


def test_float32_and_integer_input(walk: list[float | None]) -> None:
    df = pl.DataFrame({"c": walk}).with_columns(c32=pl.col("c").cast(pl.Float32))
    got = df.select(pl.col("c32").omega.ema(10))["c32"]
    expected = df.select(pl.col("c32").cast(pl.Float64).omega.ema(10))["c32"]
    assert got.dtype == pl.Float64
    assert got.equals(expected)
    ints = pl.DataFrame({"i": [1, 2, None, 4]}).select(omega_pl.ema("i", 3))["i"]
    assert_parity(ints, ref_ema([1, 2, None, 4], 3))


def test_multi_chunk_with_nulls(walk: list[float | None]) -> None:
    parts = [
        pl.Series("c", walk[:1000]),
        pl.Series("c", walk[1000:2000]),
        pl.Series("c", walk[2000:]),
    ]
    s = parts[0].append(parts[1]).append(parts[2])
    assert s.n_chunks() == 3
    got = pl.DataFrame({"c": s}).select(omega_pl.ema("c", 12))["c"]
    assert_parity(got, ref_ema(walk, 12))


def test_lazy_and_over_groups(walk: list[float | None]) -> None:
    a, b = walk[:1500], walk[1500:]
    df = pl.DataFrame({"symbol": ["A"] * len(a) + ["B"] * len(b), "c": a + b})
    got = df.lazy().with_columns(e=pl.col("c").omega.ema(9).over("symbol")).collect()
    assert_parity(got.filter(pl.col("symbol") == "A")["e"], ref_ema(a, 9))
    assert_parity(got.filter(pl.col("symbol") == "B")["e"], ref_ema(b, 9))
    # Interleaved groups: .over must hand each group to the kernel whole, in order.
    inter = (
        df.with_row_index()
        .with_columns(pos=pl.int_range(pl.len()).over("symbol"))
        .sort("pos", "symbol")  # A0 B0 A1 B1 ...: groups interleaved, order kept within each
    )
    got2 = inter.with_columns(e=pl.col("c").omega.ema(9).over("symbol")).sort("index")
    assert got2["e"].equals(got["e"])


def test_groups_shorter_than_period() -> None:
    df = pl.DataFrame({"g": [1, 2, 2, 3, 3, 3], "c": [1.0, None, 2.0, 3.0, 4.0, None]})
    got = df.with_columns(e=omega_pl.ema("c", 50).over("g"))["e"]
    expected = np.concatenate(
        [ref_ema([1.0], 50), ref_ema([None, 2.0], 50), ref_ema([3.0, 4.0, None], 50)]
    )
    assert_parity(got, expected)


def test_name_kept_and_namespace_equals_function(walk: list[float | None]) -> None:
    df = pl.DataFrame({"bid_close": walk})
    a = df.select(pl.col("bid_close").omega.ema(20))
    b = df.select(omega_pl.ema("bid_close", 20))
    c = df.select(omega_pl.ema(pl.col("bid_close"), 20))
    assert a.columns == ["bid_close"]
    assert a.equals(b) and a.equals(c)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "20", None, True])
def test_invalid_period_names_parameter(bad: object) -> None:
    with pytest.raises(omega_pl.ParameterError, match="'period' must be a positive integer"):
        pl.col("c").omega.ema(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="period"):
        omega_pl.ema("c", bad)  # type: ignore[arg-type]


def test_rust_side_rejects_bad_kwargs_without_panic() -> None:
    # Bypass the Python check: the kernel wrapper must still fail cleanly.
    from omega_pl._plugin import plugin_expr

    with pytest.raises(
        pl.exceptions.ComputeError, match="parameter 'period' must be a positive integer"
    ):
        pl.DataFrame({"c": [1.0]}).select(plugin_expr("ema", [pl.col("c")], {"period": 0}))


def test_string_input_is_a_clear_error() -> None:
    with pytest.raises(pl.exceptions.ComputeError, match="expected a numeric column"):
        pl.DataFrame({"c": ["x"]}).select(omega_pl.ema("c", 3))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(0.5, 2.0, allow_nan=False)), min_size=0, max_size=80),
    st.integers(1, 30),
    st.integers(0, 80),
)
def test_prefix_invariance_no_lookahead(values: list[float | None], period: int, t: int) -> None:
    df = pl.DataFrame({"c": values}, schema={"c": pl.Float64})
    full = df.select(omega_pl.ema("c", period))["c"]
    t = min(t, len(values))
    prefix = df.head(t).select(omega_pl.ema("c", period))["c"]
    assert prefix.equals(full.head(t))
    assert_parity(full, ref_ema(values, period))
