"""omega_pl.engine: the original engine's data layer (ENGINE-API.md) on omega_pl.

Values are checked against the project's independent SPEC readings in
``tests/reference.py`` (NumPy loops); the contract is ≤ 1e-12 relative with
the same missing pattern. The strategy-level comparison with a pandas
reconstruction lives in ``test_engine_strategy.py``.
"""

from __future__ import annotations

import dataclasses
import gc
import inspect
import math
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import omega_pl
from omega_pl.engine import (
    Candle,
    CandleSeq,
    CandleSet,
    CSVDataHandler,
    IndicatorCache,
    MultiSymbolSlice,
    SliceView,
    SymbolDataSlice,
    candle_lookup,
    clear_indicator_cache_pool,
    get_cached_indicator_cache,
    indicator_cache_pool_size,
    load_data_package,
    reset_candle_build_caches,
    trim_candle_build_caches,
)
from omega_pl.engine import handler as handler_module
from tests import reference as ref
from tests.conftest import random_walk_with_gaps

START, END = "2025-03-24", "2025-04-04"


@pytest.fixture(scope="module")
def root() -> Path:
    return omega_pl.datasets.sample_data_root()


@pytest.fixture(scope="module")
def package(root: Path) -> dict[str, dict[str, CandleSeq]]:
    return load_data_package(root, "EURUSD", "M5", ["H1", "D1"], start=START, end=END)


def candle(t: int, close: float, side: str = "bid") -> Candle:
    ts = pd.Timestamp("2025-03-03", tz="UTC") + pd.Timedelta(minutes=5 * t)
    return Candle(ts, close, close + 0.0004, close - 0.0003, close, 10.0 + t, side)


def gappy_package(n: int = 400, seed: int = 3) -> tuple[dict[str, Any], np.ndarray]:
    """A plain-list package with None bars (leading, interior runs) and a flat stretch,
    an H1 column repeating one object per bar, and no D1."""
    closes = random_walk_with_gaps(n, seed)
    bid: list[Any] = [
        None if c is None or math.isnan(c) else candle(i, c) for i, c in enumerate(closes)
    ]
    ask: list[Any] = [
        None if c is None else candle(i, c.close + 0.0002, "ask") for i, c in enumerate(bid)
    ]
    h1: list[Any] = []
    current: Any = None
    for i in range(n):
        if i % 12 == 0 and bid[i] is not None:
            current = candle(i, bid[i].close)
        h1.append(None if i < 12 else current)
    ask_h1 = [None if c is None else candle(0, c.close + 0.0002, "ask") for c in h1]
    values = np.array([np.nan if c is None else c.close for c in bid])
    return {"M5": {"bid": bid, "ask": ask}, "H1": {"bid": h1, "ask": ask_h1}}, values


def assert_series_close(got: pd.Series, expected: Any, rel: float = 1e-12) -> None:
    assert isinstance(got, pd.Series) and got.dtype == np.float64
    assert isinstance(got.index, pd.RangeIndex) and got.index.start == 0
    exp = np.asarray(expected, dtype=np.float64)
    g = got.to_numpy()
    assert g.shape == exp.shape
    np.testing.assert_array_equal(np.isnan(g), np.isnan(exp), err_msg="missing pattern differs")
    ok = ~np.isnan(exp)
    np.testing.assert_allclose(g[ok], exp[ok], rtol=rel, atol=0)


# ---------------------------------------------------------------------------
# import without pandas


def test_import_without_pandas_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "try:\n    import omega_pl.engine\nexcept Exception as e:\n"
        "    import omega_pl; print(type(e).__name__, isinstance(e, omega_pl.OmegaError), e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("MissingExtraError True"), out.stdout + out.stderr
    assert 'pip install "omega-pl[engine]"' in out.stdout


# ---------------------------------------------------------------------------
# Candle


def test_candle_is_the_original_record() -> None:
    ts = pd.Timestamp("2025-03-03 09:00", tz="UTC")
    c = Candle(ts, 1.1, 1.2, 1.0, 1.15, 5.0)
    assert (c.timestamp, c.open, c.high, c.low, c.close, c.volume, c.candle_type) == (
        ts, 1.1, 1.2, 1.0, 1.15, 5.0, "bid",
    )  # fmt: skip
    assert c == Candle(ts.to_pydatetime(), 1.1, 1.2, 1.0, 1.15, 5.0, "bid")
    assert c != Candle(ts, 1.1, 1.2, 1.0, 1.15, 5.0, "ask")
    assert bool(c) and pickle.loads(pickle.dumps(c)) == c
    assert dataclasses.is_dataclass(c) and dataclasses.asdict(c)["timestamp"] == ts
    assert dataclasses.replace(c, close=1.0).close == 1.0 and c.close == 1.15
    assert [f.name for f in dataclasses.fields(c)] == [
        "timestamp", "open", "high", "low", "close", "volume", "candle_type",
    ]  # fmt: skip
    with pytest.raises(TypeError):
        hash(c)
    c.close = 2.0
    assert c.close == 2.0


def test_loaded_candles_have_utc_pandas_timestamps(package: dict[str, Any]) -> None:
    c = package["M5"]["ask"][0]
    assert isinstance(c, Candle) and c.candle_type == "ask"
    assert isinstance(c.timestamp, pd.Timestamp) and str(c.timestamp.tz) == "UTC"
    assert c.timestamp.tz_convert(None) == c.timestamp.tz_localize(None)
    assert pickle.loads(pickle.dumps(c)) == c


# ---------------------------------------------------------------------------
# CandleSeq


def test_sequences_behave_like_lists_and_keep_identity(package: dict[str, Any]) -> None:
    seq = package["M5"]["bid"]
    n = len(seq)
    assert seq[0] is seq[0] and seq[-1] is seq[n - 1]
    assert seq[2:5] == [seq[2], seq[3], seq[4]] and isinstance(seq[2:5], list)
    assert seq[::-1][0] is seq[-1]
    assert [c.close for c in seq] == package["M5"]["bid"].frame()["close"].to_list()
    assert all(a is b for a, b in zip(seq, seq, strict=True))
    with pytest.raises(IndexError):
        seq[n]
    with pytest.raises(IndexError):
        seq[-n - 1]
    h1 = package["H1"]["bid"]
    runs = [(i, h1[i]) for i in range(1, len(h1)) if h1[i] is not None and h1[i] is h1[i - 1]]
    assert len(runs) > len(h1) // 2  # a bar is the same object on every row it is carried to
    bars = {id(c) for c in h1 if c is not None}
    assert len(bars) == h1.frame()["bar"].drop_nulls().n_unique()
    assert all(h1[i].timestamp <= seq[i].timestamp for i in range(len(h1)) if h1[i] is not None)


def test_candle_lookup_maps_timestamps(package: dict[str, Any]) -> None:
    seq = package["M5"]["bid"]
    lookup = candle_lookup(seq)
    c = seq[100]
    assert lookup[c.timestamp] is c and lookup.get(c.timestamp.to_pydatetime()) is c
    assert lookup.get(c.timestamp + pd.Timedelta(seconds=1)) is None and len(lookup) == len(seq)
    assert next(iter(lookup)) == seq[0].timestamp


# ---------------------------------------------------------------------------
# CSVDataHandler


def test_load_candles_equals_scan_candles(root: Path) -> None:
    sides = CSVDataHandler("EURUSD", "M5", root=root).load_candles(START, END)
    for side in ("bid", "ask"):
        path = omega_pl.candle_files(root, "EURUSD", "M5")[side]  # type: ignore[literal-required]
        expected = omega_pl.scan_candles(path, start=START, end=END).collect()
        seq = sides[side]
        assert len(seq) == expected.height
        assert [c.close for c in seq[:50]] == expected["close"].head(50).to_list()
        assert seq[0].timestamp == pd.Timestamp(expected["time"][0])


def test_a_missing_side_gives_an_empty_list(root: Path, tmp_path: Path) -> None:
    src = omega_pl.candle_files(root, "EURUSD", "M5")["bid"]
    (tmp_path / "EURUSD").mkdir()
    (tmp_path / "EURUSD" / src.name).write_bytes(src.read_bytes())
    sides = CSVDataHandler("EURUSD", "M5", root=tmp_path).load_candles()
    assert sides["ask"] == [] and len(sides["bid"]) > 0


def test_root_from_the_environment_or_a_clear_error(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMEGA_DATA_ROOT", raising=False)
    with pytest.raises(omega_pl.ParameterError, match="OMEGA_DATA_ROOT"):
        CSVDataHandler("EURUSD", "M5")
    monkeypatch.setenv("OMEGA_DATA_ROOT", str(root))
    assert len(CSVDataHandler("EURUSD", "M5").load_candles(START, "2025-03-25")["bid"]) > 0


def test_preloaded_pandas_and_polars_frames(root: Path) -> None:
    files = omega_pl.candle_files(root, "EURUSD", "M5")
    frame = pl.read_parquet(files["bid"])
    from_files = CSVDataHandler("EURUSD", "M5", root=root).load_candles(START, END)["bid"]
    for preloaded in (frame, frame.to_pandas().set_index("time")):
        sides = CSVDataHandler("EURUSD", "M5", {"bid": preloaded}).load_candles(START, END)
        assert sides["ask"] == []
        assert [c.close for c in sides["bid"]] == [c.close for c in from_files]


def test_second_load_is_served_from_memory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reset_candle_build_caches()
    handler = CSVDataHandler("EURUSD", "M5", root=root)
    first = handler.load_candles(START, END)
    assert len(handler_module._DF_CACHE) == 2 and len(handler_module._PARQUET_CACHE) == 2

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read again")

    monkeypatch.setattr(handler_module, "scan_candles", no_read)
    again = handler.load_candles(START, END)
    assert [c.close for c in again["ask"]] == [c.close for c in first["ask"]]
    wider = handler.load_candles(START, "2025-04-10")  # another window of a parsed file
    assert len(wider["bid"]) > len(first["bid"])
    monkeypatch.undo()
    trim_candle_build_caches(keep_parquet=1, keep_df=0)
    assert len(handler_module._DF_CACHE) == 0 and len(handler_module._PARQUET_CACHE) == 1
    with pytest.raises(omega_pl.ParameterError, match="keep_df"):
        trim_candle_build_caches(keep_df=-1)
    reset_candle_build_caches()
    assert len(handler_module._PARQUET_CACHE) == 0


# ---------------------------------------------------------------------------
# IndicatorCache: values


def _ref_values(ind: IndicatorCache, tf: str, side: str = "bid") -> tuple[np.ndarray, ...]:
    df = ind.get_df(tf, side)
    return tuple(df[c].to_numpy() for c in ("high", "low", "close"))


SINGLE: list[tuple[str, tuple[Any, ...], Callable[..., Any]]] = [
    ("ema", (7,), lambda h, lo, c, b: ref.ema(c, 7)),
    ("sma", (5,), lambda h, lo, c, b: ref.sma(c, 5)),
    ("rsi", (), lambda h, lo, c, b: ref.rsi(c, 14)),
    ("roc", (3,), lambda h, lo, c, b: ref.roc(c, 3)),
    ("atr", (5,), lambda h, lo, c, b: ref.atr(h, lo, c, 5)),
    ("choppiness", (), lambda h, lo, c, b: ref.choppiness(h, lo, c, 14)),
    ("kalman_mean", (), lambda h, lo, c, b: ref.kalman_mean(c)),
    ("kalman_zscore", (20,), lambda h, lo, c, b: ref.kalman_zscore(c, 20)),
    ("zscore", (20, "ema", 10), lambda h, lo, c, b: ref.zscore(c, 20, "ema", 10)),
    ("ema_stepwise", (3,), lambda h, lo, c, b: ref.ema_stepwise(c, b, 3)),
    ("kalman_zscore_stepwise", (5,), lambda h, lo, c, b: ref.kalman_zscore_stepwise(c, b, 5)),
]
TUPLED: list[tuple[str, tuple[Any, ...], Callable[..., Any], tuple[str, ...]]] = [
    ("macd", (), lambda h, lo, c, b: ref.macd(c), ("macd", "signal")),
    ("dmi", (5,), lambda h, lo, c, b: ref.dmi(h, lo, c, 5), ("plus_di", "minus_di", "adx")),
    (
        "bollinger",
        (10, 1.5),
        lambda h, lo, c, b: ref.bollinger(c, 10, 1.5),
        ("upper", "middle", "lower"),
    ),
    (
        "bollinger_stepwise",
        (3,),
        lambda h, lo, c, b: ref.bollinger_stepwise(c, b, 3),
        ("upper", "middle", "lower"),
    ),
]


def _bar_keys(candles: list[Any]) -> list[Any]:
    keys: list[Any] = []
    prev, k = None, -1
    for c in candles:
        if c is None:
            keys.append(None)
            continue
        if c is not prev:
            k, prev = k + 1, c
        keys.append(k)
    return keys


@pytest.mark.parametrize("tf", ["M5", "H1"])
@pytest.mark.parametrize(("name", "args", "expected"), SINGLE, ids=[s[0] for s in SINGLE])
def test_single_output_methods_match_the_reference(
    tf: str, name: str, args: tuple[Any, ...], expected: Callable[..., Any]
) -> None:
    pkg, _ = gappy_package()
    ind = IndicatorCache(pkg)
    h, lo, c = _ref_values(ind, tf)
    got = getattr(ind, name)(tf, "bid", *args)
    assert_series_close(got, expected(h, lo, c, _bar_keys(pkg[tf]["bid"])))


def test_sma_equals_pandas_bit_for_bit() -> None:
    """The engine replays pandas' streaming sum, so ties with a close decide as before."""
    pkg, _ = gappy_package(3000, seed=11)
    ind = IndicatorCache(pkg)
    close = ind.get_df("M5", "bid")["close"]
    for period in (1, 5, 30):
        got = ind.sma("M5", "bid", period).to_numpy()
        want = close.rolling(period).mean().to_numpy()
        np.testing.assert_array_equal(got, want)  # exact, NaN where pandas has NaN


@pytest.mark.parametrize(("name", "args", "expected", "fields"), TUPLED, ids=[s[0] for s in TUPLED])
def test_tuple_methods_match_the_reference(
    name: str, args: tuple[Any, ...], expected: Callable[..., Any], fields: tuple[str, ...]
) -> None:
    pkg, _ = gappy_package()
    ind = IndicatorCache(pkg)
    h, lo, c = _ref_values(ind, "H1")
    got = getattr(ind, name)("H1", "bid", *args)
    assert isinstance(got, tuple) and len(got) == len(fields)
    reference = expected(h, lo, c, _bar_keys(pkg["H1"]["bid"]))
    for g, field in zip(got, fields, strict=True):
        assert_series_close(g, reference[field])


def test_garch_family_matches_the_reference() -> None:
    pkg, _ = gappy_package(600, seed=5)
    ind = IndicatorCache(pkg)
    _, _, c = _ref_values(ind, "M5")
    assert_series_close(
        ind.garch_volatility("M5", "bid", min_periods=5), ref.garch_volatility(c, min_periods=5)
    )
    assert_series_close(
        ind.kalman_garch_zscore("M5", "bid", 0.5, 0.1, min_periods=5),
        ref.kalman_garch_zscore(c, 0.5, 0.1, min_periods=5),
    )


# ---------------------------------------------------------------------------
# IndicatorCache: the memo


CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("ema", ("M5", "bid", 20), {"tf": "M5", "price_type": "bid", "period": 20}),
    ("rsi", ("M5", "ask"), {"tf": "M5", "price_type": "ask", "period": 14}),
    ("macd", ("H1", "bid", 12, 26, 9), {"tf": "H1", "price_type": "bid", "slow_period": 26}),
    ("bollinger", ("M5", "bid"), {"tf": "M5", "price_type": "bid", "std_factor": 2.0}),
    ("kalman_zscore", ("M5", "bid", 100, 0.01, 1.0), {"tf": "M5", "price_type": "bid", "Q": 1.0}),
    ("zscore", ("M5", "bid", 100, "rolling"), {"tf": "M5", "price_type": "bid", "window": 100}),
    ("garch_volatility", ("M5", "bid"), {"tf": "M5", "price_type": "bid", "alpha": 0.05}),
    ("ema_stepwise", ("H1", "bid", 5), {"tf": "H1", "price_type": "bid", "period": 5}),
    ("get_closes", ("D1", "ask"), {"tf": "D1", "price_type": "ask"}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_positional_keyword_and_default_calls_share_one_entry(
    package: dict[str, Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    ind = IndicatorCache(package)
    first = getattr(ind, name)(*args)
    before = ind.cache_info()
    assert getattr(ind, name)(**kwargs) is first
    assert getattr(ind, name)(*args) is first
    after = ind.cache_info()
    assert (after.misses, after.entries, after.hits) == (
        before.misses,
        before.entries,
        before.hits + 2,
    )


def test_series_are_read_only_float64_with_a_range_index(package: dict[str, Any]) -> None:
    ind = IndicatorCache(package)
    s = ind.ema("M5", "bid", 20)
    assert s.dtype == np.float64 and s.index.equals(pd.RangeIndex(len(package["M5"]["bid"])))
    assert s.iloc[-1] == s.to_numpy()[-1] and len(s.dropna()) == len(s) and s.tail(2).size == 2
    with pytest.raises(ValueError, match="read-only"):
        s.to_numpy()[0] = 0.0


def test_max_bytes_evicts_the_least_recently_used(package: dict[str, Any]) -> None:
    n = len(package["M5"]["bid"])
    ind = IndicatorCache(package, max_bytes=2 * 8 * n)
    a = ind.ema("M5", "bid", 5)
    ind.ema("M5", "bid", 6)
    assert ind.ema("M5", "bid", 5) is a  # a is now the most recent
    ind.ema("M5", "bid", 7)  # evicts 6
    info = ind.cache_info()
    assert info.entries == 2 and info.bytes <= info.max_bytes  # type: ignore[operator]
    assert ind.ema("M5", "bid", 5) is a
    misses = ind.cache_info().misses
    ind.ema("M5", "bid", 6)
    assert ind.cache_info().misses == misses + 1


# ---------------------------------------------------------------------------
# absent timeframes and sides, missing and empty data


def test_absent_timeframe_or_side_gives_empty_results(package: dict[str, Any]) -> None:
    ind = IndicatorCache({k: v for k, v in package.items() if k != "D1"})
    assert len(ind.ema_stepwise("D1", "bid", 20)) == 0
    assert len(ind.ema("M5", "mid", 20)) == 0
    assert ind.get_df("D1").empty and list(ind.get_df("D1").columns) == list(omega_pl.OHLCV)
    for result in (ind.macd("D1", "bid"), ind.bollinger("W1", "ask"), ind.dmi("D1", "ask")):
        assert isinstance(result, tuple) and all(len(s) == 0 for s in result)
    assert ind.at(ind.ema("D1", "bid", 20), 0) is None
    assert ind.garch_volatility_local("D1", "bid", 10).empty
    assert ind.vol_cluster_series("D1", "bid", 10, "garch", 14, 100) is None
    assert ind.kalman_garch_zscore_local("D1", "bid", 10) is None
    assert ind.ema("D1", "bid", 20) is ind.ema("D1", "bid", 20)


def test_empty_timeframe_gives_length_zero_results() -> None:
    ind = IndicatorCache({"M5": {"bid": [], "ask": []}})
    assert len(ind.atr("M5", "bid")) == 0 and len(ind.bollinger("M5", "bid")[0]) == 0
    assert ind.compute_batch([{"name": "ema", "period": 3}], "M5", "bid")["ema"].shape == (0,)


def test_dict_candles_and_none_bars_read_like_candles() -> None:
    pkg, closes = gappy_package()
    as_dicts = {
        tf: {s: [None if c is None else dataclasses.asdict(c) for c in v] for s, v in sides.items()}
        for tf, sides in pkg.items()
    }
    a, b = IndicatorCache(pkg), IndicatorCache(as_dicts)
    np.testing.assert_array_equal(a.get_closes("M5").to_numpy(), closes)
    for name in ("ema", "atr", "kalman_mean"):
        args = (5,) if name != "kalman_mean" else ()
        np.testing.assert_array_equal(
            getattr(a, name)("M5", "bid", *args).to_numpy(),
            getattr(b, name)("M5", "bid", *args).to_numpy(),
        )
    with pytest.raises(omega_pl.ParameterError, match="candle 0"):
        IndicatorCache({"M5": {"bid": ["x"]}}).ema("M5", "bid", 3)


INVALID = [
    (lambda i: i.ema("M5", "bid", 0), "'period'"),
    (lambda i: i.sma("M5", "bid", -3), "'period'"),
    (lambda i: i.macd("M5", "bid", 12, 0), "'slow_period'"),
    (lambda i: i.kalman_mean("M5", "bid", R=-1.0), "'R'"),
    (lambda i: i.kalman_zscore("M5", "bid", window=-5), "'window'"),
    (lambda i: i.zscore("M5", "bid", 20, "median"), "'mean_source'"),
    (lambda i: i.zscore("M5", "bid", 20, "ema"), "'ema_period'"),
    (lambda i: i.bollinger("M5", "bid", 20, math.nan), "'std_factor'"),
    (lambda i: i.garch_volatility("M5", "bid", scale=0.0), "'scale'"),
    (lambda i: i.garch_volatility_local("M5", "bid", 5, lookback=2.5), "'lookback'"),
    (lambda i: i.kalman_garch_zscore_local("M5", "bid", 5, lookback=0), "'lookback'"),
    (lambda i: i.ema("D1", "bid", 0), "'period'"),  # checked even where the tf is absent
]


@pytest.mark.parametrize(("call", "name"), INVALID)
def test_invalid_parameters_name_the_parameter(
    package: dict[str, Any], call: Callable[[IndicatorCache], Any], name: str
) -> None:
    with pytest.raises(omega_pl.ParameterError, match=name):
        call(IndicatorCache({k: v for k, v in package.items() if k != "D1"}))


# ---------------------------------------------------------------------------
# _local methods and at()


def test_garch_volatility_local_is_the_window_run() -> None:
    pkg, _ = gappy_package(300, seed=8)
    ind = IndicatorCache(pkg)
    closes = ind.get_closes("M5").to_numpy()
    got = ind.garch_volatility_local("M5", "bid", 250, lookback=60, min_periods=5)
    assert list(got.index) == list(range(191, 251))
    window = closes[191:251]
    expected = ref.garch_volatility_local(window, 60, min_periods=5)
    assert got.iloc[-1] == pytest.approx(expected[-1], rel=1e-12, abs=0)
    per_row = ref.garch_volatility_local(closes, 60, min_periods=5)
    assert got.iloc[-1] == pytest.approx(per_row[250], rel=1e-12)
    assert len(ind.garch_volatility_local("M5", "bid", 10**6, lookback=30)) == 30  # clamped
    assert ind.garch_volatility_local("M5", "bid", -1).empty
    assert ind.garch_volatility_local("M5", "bid", 100, alpha=0.5, beta=0.5).empty


def test_vol_cluster_series_and_kalman_garch_zscore_local() -> None:
    pkg, _ = gappy_package(300, seed=8)
    ind = IndicatorCache(pkg)
    assert ind.vol_cluster_series("M5", "bid", 100, " ATR_Points ", 14, 50) is ind.atr(
        "M5", "bid", 14
    )
    window = ind.vol_cluster_series("M5", "bid", 280, "garch", 14, 50, garch_min_periods=5)
    assert window is not None and len(window) == 50
    closes = ind.get_closes("M5").to_numpy()
    rows = ref.kalman_garch_zscore_local(closes, 40, 0.5, 0.1, min_periods=5)
    values = [
        ind.kalman_garch_zscore_local("M5", "bid", i, 40, 0.5, 0.1, min_periods=5)
        for i in range(300)
    ]
    assert [v is None for v in values] == list(np.isnan(rows))
    assert any(v is not None for v in values)
    np.testing.assert_allclose(
        [v for v in values if v is not None], rows[~np.isnan(rows)], rtol=1e-12
    )
    assert ind.kalman_garch_zscore_local("M5", "bid", 300) is None
    assert ind.kalman_garch_zscore_local("M5", "bid", -1) is None


def test_at_bounds_nan_inf_and_unbound_use() -> None:
    s = pd.Series([1.5, math.nan, math.inf, -math.inf])
    ind = IndicatorCache({})
    assert [ind.at(s, i) for i in range(-1, 5)] == [None, 1.5, None, math.inf, -math.inf, None]
    assert IndicatorCache.at(object(), s, 0) == 1.5
    assert IndicatorCache.at(None, np.array([2.0]), 0) == 2.0 and ind.at([3.0], 0) == 3.0
    assert ind.at(pd.Series([], dtype=float), 0) is None and ind.at(None, 0) is None


# ---------------------------------------------------------------------------
# the array API


def test_array_methods_mirror_the_methods(package: dict[str, Any]) -> None:
    ind = IndicatorCache(package)
    assert inspect.signature(IndicatorCache.bollinger_array) == inspect.signature(
        IndicatorCache.bollinger
    )
    arr = ind.ema_array("M5", "bid", 20)
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64 and not arr.flags.writeable
    np.testing.assert_array_equal(arr, ind.ema("M5", "bid", 20).to_numpy())
    upper, _, lower = ind.bollinger_array("H1", "ask", 10)
    assert np.nanmax(lower - upper) <= 0
    assert ind.vol_cluster_series_array("D1", "bid", 5, "garch", 14, 30) is not None


def test_compute_batch_is_one_plan_filling_the_cache(package: dict[str, Any]) -> None:
    ind = IndicatorCache(package)
    specs = [
        {"name": "ema", "period": 20},
        {"name": "atr", "period": 14},
        {"name": "zscore", "window": 50},
        {"name": "bollinger", "period": 20, "std_dev": 2.0},
        {"name": "macd", "fast": 12, "slow": 26, "signal": 9},
        {"name": "dmi", "key": "dmi7", "period": 7},
    ]
    out = ind.compute_batch(specs, "M5", "bid")
    assert sorted(out) == sorted([
        "ema", "atr", "zscore", "bollinger_upper", "bollinger_middle", "bollinger_lower",
        "macd_line", "macd_signal", "macd_histogram", "dmi7_plus_di", "dmi7_minus_di", "dmi7_adx",
    ])  # fmt: skip
    misses = ind.cache_info().misses
    assert misses == len(specs)
    np.testing.assert_array_equal(out["ema"], ind.ema("M5", "bid", 20).to_numpy())
    macd, _ = ind.macd("M5", "bid")
    np.testing.assert_array_equal(out["macd_line"], macd.to_numpy())
    direct = omega_pl.macd(pl.col("close")).struct.field("histogram")
    expected = ind._frame("M5", "bid").select(direct).to_series().to_numpy()  # type: ignore[union-attr]
    np.testing.assert_array_equal(out["macd_histogram"], expected)
    np.testing.assert_array_equal(out["dmi7_adx"], ind.dmi("M5", "bid", 7)[2].to_numpy())
    assert ind.cache_info().misses == misses  # every later call was a hit
    again = ind.compute_batch(specs, "M5", "bid")  # all hits now
    np.testing.assert_array_equal(again["macd_histogram"], out["macd_histogram"])


@pytest.mark.parametrize(
    ("specs", "match"),
    [
        (
            [{"name": "ema", "period": 5}, {"name": "ema", "period": 9}],
            "duplicate result key 'ema'",
        ),
        ([{"name": "median"}], "unknown indicator 'median'"),
        ([{"name": "ema", "length": 5}], "length"),
        ([{"period": 5}], "needs|must be a dict"),
        ([{"name": "garch_volatility_local", "idx": 3}], "unknown indicator"),
        ([{"name": "ema", "period": 0}], "'period'"),
        ({"name": "ema"}, "list of spec dicts"),
    ],
)
def test_compute_batch_errors(package: dict[str, Any], specs: Any, match: str) -> None:
    with pytest.raises(omega_pl.ParameterError, match=match):
        IndicatorCache(package).compute_batch(specs, "M5", "bid")


# ---------------------------------------------------------------------------
# from_frame and the pool


def test_from_frame_equals_the_candle_package(root: Path, package: dict[str, Any]) -> None:
    scan = omega_pl.scan_aligned(root, "EURUSD", "M5", higher=["H1", "D1"], start=START, end=END)
    direct = IndicatorCache.from_frame(scan.frame, "M5", ["H1", "D1"])
    via = IndicatorCache(package)
    for tf in ("M5", "H1", "D1"):
        np.testing.assert_array_equal(
            direct.ema_stepwise(tf, "ask", 4).to_numpy(), via.ema_stepwise(tf, "ask", 4).to_numpy()
        )
        np.testing.assert_array_equal(
            direct.atr(tf, "bid").to_numpy(), via.atr(tf, "bid").to_numpy()
        )


def test_pool_returns_one_cache_per_package_and_forgets_it_with_the_last_reference(
    package: dict[str, Any],
) -> None:
    clear_indicator_cache_pool()
    other = dict(package)
    a = get_cached_indicator_cache(package)
    assert get_cached_indicator_cache(package) is a and indicator_cache_pool_size() == 1
    b = get_cached_indicator_cache(other)
    assert b is not a and indicator_cache_pool_size() == 2
    del b
    gc.collect()
    assert indicator_cache_pool_size() == 1
    clear_indicator_cache_pool()
    assert indicator_cache_pool_size() == 0 and a.ema("M5", "bid", 3) is a.ema("M5", "bid", 3)


# ---------------------------------------------------------------------------
# SymbolDataSlice, CandleSet, MultiSymbolSlice


def test_symbol_data_slice(package: dict[str, Any]) -> None:
    s = SymbolDataSlice(package, 0)
    assert s.indicators is get_cached_indicator_cache(package) and s.index == 0
    own = IndicatorCache(package)
    assert SymbolDataSlice(package, 0, own).indicators is own
    bid = package["M5"]["bid"]
    assert s.get("M5") is bid and s.series_ref("M5") is bid and s["M5"] is bid
    assert s.get("D7") == [] and s.latest("D7") is None
    view = s.history_view("M5", "bid", 5)
    assert list(view) == [bid[0]]
    for i in range(1, 40):
        s.set_index(i)
        assert s.latest("M5") is bid[i] and s.latest("H1", "ask") is package["H1"]["ask"][i]
        assert s.history_view("M5", "bid", 5) is view
        assert list(view) == list(bid[max(0, i - 4) : i + 1])
    assert s.history("M5", "bid", 5) == list(view) and s.history("M5", "bid", 5) is not view
    s.set_index(200)  # a jump rebuilds
    assert s.history("H1", "bid", 3) == list(package["H1"]["bid"][198:201])
    s.set_index(len(bid))
    assert s.latest("M5") is None


def test_history_includes_missing_entries() -> None:
    pkg, _ = gappy_package()
    s = SymbolDataSlice(pkg, 5)
    assert s.history("M5", "bid", 4) == pkg["M5"]["bid"][2:6] and s.history("M5")[0] is None
    assert s.latest("M5") is pkg["M5"]["bid"][5]


def test_candle_set() -> None:
    bid = [candle(0, 1.1), candle(1, 1.2)]
    cs = CandleSet({"M5": bid}, {"M5": [candle(0, 1.3, "ask")]})
    assert cs.get_latest("M5", 1) is bid[1] and cs.get_latest("M5", 1, "ask") is None
    assert cs.get_all("M5") is bid and cs.get_all("H1", "ask") == []


def test_multi_symbol_slice(package: dict[str, Any]) -> None:
    bid = package["M5"]["bid"]
    lookups = {
        "EURUSD": {"bid": candle_lookup(bid), "ask": candle_lookup(package["M5"]["ask"])},
        "USDJPY": {"bid": {bid[3].timestamp: "x"}},
    }
    m = MultiSymbolSlice(lookups, bid[3].timestamp, "M5")
    assert list(m.slices) == ["EURUSD", "USDJPY"] and list(m) == list(m.keys()) and len(m) == 2
    assert m.get("EURUSD") is bid[3] and m.get("USDJPY") == "x" and m.get("USDJPY", "ask") is None
    assert m["EURUSD"].latest("H1", "ask") is package["M5"]["ask"][3]
    m.set_timestamp(bid[4].timestamp)
    m.set_index(4)
    assert m.get("EURUSD") is bid[4] and m.get("USDJPY") is None and m.index == 4
    assert m.get("GBPUSD") is None
    with pytest.raises(KeyError):
        m["GBPUSD"]
    assert SliceView(bid[0]).latest() is bid[0]


# ---------------------------------------------------------------------------
# every method: one entry per call form, empty and absent data, bad parameters

#: (method, positional args after tf/price_type, the same call by keyword, a bad parameter)
METHODS: list[tuple[str, tuple[Any, ...], dict[str, Any], tuple[dict[str, Any], str] | None]] = [
    ("get_df", (), {}, None),
    ("get_closes", (), {}, None),
    ("ema", (10,), {"period": 10}, ({"period": 0}, "period")),
    ("ema_stepwise", (4,), {"period": 4}, ({"period": -1}, "period")),
    ("sma", (10,), {"period": 10}, ({"period": 0}, "period")),
    ("rsi", (14,), {}, ({"period": 0}, "period")),
    ("macd", (12, 26, 9), {"signal_period": 9}, ({"fast_period": 0}, "fast_period")),
    ("roc", (14,), {}, ({"period": 0}, "period")),
    ("dmi", (14,), {"period": 14}, ({"period": 0}, "period")),
    ("bollinger", (20, 2.0), {"std_factor": 2.0}, ({"std_factor": math.inf}, "std_factor")),
    ("bollinger_stepwise", (20,), {"period": 20, "std_factor": 2.0}, ({"period": 0}, "period")),
    ("atr", (14,), {}, ({"period": -2}, "period")),
    ("choppiness", (14,), {"period": 14}, ({"period": 0}, "period")),
    ("kalman_mean", (0.01, 1.0), {"Q": 1.0}, ({"R": -1.0}, "R")),
    ("kalman_zscore", (100,), {"window": 100, "R": 0.01}, ({"window": -5}, "window")),
    ("kalman_zscore_stepwise", (100, 0.01), {"Q": 1.0}, ({"Q": -1.0}, "Q")),
    ("zscore", (100, "rolling"), {"ema_period": None}, ({"mean_source": "median"}, "mean_source")),
    ("garch_volatility", (0.05,), {"beta": 0.9, "omega": None}, ({"scale": 0.0}, "scale")),
    ("kalman_garch_zscore", (0.01, 1.0, 0.05), {"min_periods": 50}, ({"alpha": -1.0}, "alpha")),
    (
        "garch_volatility_local",
        (200, 60),
        {"idx": 200, "lookback": 60},
        ({"idx": 5, "omega": math.nan}, "'omega'"),
    ),
    (
        "vol_cluster_series",
        (200, "garch", 14, 60),
        {"idx": 200, "feature": "garch", "atr_length": 14, "garch_lookback": 60},
        ({"idx": 5, "feature": "atr_points", "atr_length": 0, "garch_lookback": 6}, "'atr_length'"),
    ),
    (
        "kalman_garch_zscore_local",
        (200, 60),
        {"idx": 200, "lookback": 60, "min_periods": 50},
        ({"idx": 5, "lookback": 0}, "lookback"),
    ),
]  # fmt: skip


def test_the_method_table_covers_the_original_api() -> None:
    documented = {
        "get_df", "get_closes", "ema", "ema_stepwise", "sma", "rsi", "macd", "roc", "dmi",
        "bollinger", "bollinger_stepwise", "atr", "choppiness", "kalman_mean", "kalman_zscore",
        "kalman_zscore_stepwise", "zscore", "garch_volatility", "kalman_garch_zscore",
        "garch_volatility_local", "vol_cluster_series", "kalman_garch_zscore_local",
    }  # ENGINE-API.md's IndicatorCache table, less at()  # fmt: skip
    assert {m[0] for m in METHODS} == documented


def _length(result: Any) -> int | None:
    if result is None or isinstance(result, float):
        return None
    if isinstance(result, tuple):
        assert len({len(r) for r in result}) == 1
        return len(result[0])
    return len(result)


@pytest.mark.parametrize(("name", "args", "kwargs", "bad"), METHODS, ids=[m[0] for m in METHODS])
def test_every_method(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any], bad: tuple[dict[str, Any], str] | None
) -> None:
    pkg, _ = gappy_package(400, seed=21)  # None bars mid-series, an H1 carried over rows
    pkg["M1"] = {"bid": [], "ask": []}  # an empty timeframe
    ind = IndicatorCache(pkg)
    method = getattr(ind, name)
    first = method("M5", "bid", *args)
    before = ind.cache_info()
    # positional and keyword forms (and defaults) hit one entry: the same object, no new miss
    scalar = name == "kalman_garch_zscore_local"  # a float: equal, not the same object
    assert method(tf="M5", price_type="bid", **kwargs) is first or scalar
    assert method("M5", "bid", *args) is first or scalar
    assert ind.cache_info().misses == before.misses
    # missing bars mid-series: full length, missing rows as NaN
    n = len(pkg["M5"]["bid"])
    length = _length(first)
    if name in ("garch_volatility_local", "vol_cluster_series"):
        assert length == 60
    elif name == "kalman_garch_zscore_local":
        assert first is None or isinstance(first, float)
    else:
        assert length == n
    # an empty timeframe and an absent one (or side): empty results, at() gives None
    for tf, side in (("M1", "bid"), ("D1", "bid"), ("M5", "mid")):
        empty = method(tf, side, *args)
        assert _length(empty) in (0, None), (tf, side)
        if isinstance(empty, pd.Series):
            assert ind.at(empty, 0) is None
    # an invalid parameter names it
    if bad is not None:
        params, word = bad
        call = {**kwargs, **params} if "idx" not in params else params
        with pytest.raises(omega_pl.ParameterError, match=word):
            method("M5", "bid", **call)


def test_vol_cluster_series_names_its_own_parameters() -> None:
    pkg, _ = gappy_package(200, seed=2)
    ind = IndicatorCache(pkg)
    with pytest.raises(omega_pl.ParameterError, match="'garch_lookback'"):
        ind.vol_cluster_series("M5", "bid", 50, "garch", 14, "60")
    with pytest.raises(omega_pl.ParameterError, match="'garch_scale'"):
        ind.vol_cluster_series("M5", "bid", 50, "garch", 14, 30, garch_scale=-1.0)


def test_cached_series_reads_one_row_at_array_speed_and_is_pandas_otherwise() -> None:
    pkg, _ = gappy_package(300, seed=4)
    ind = IndicatorCache(pkg)
    s = ind.ema("M5", "bid", 10)
    plain = pd.Series(s.to_numpy().copy())
    assert isinstance(s, pd.Series)
    for key in (0, 5, -1, np.int64(7), slice(3, 9), [1, 4], plain.notna().to_numpy()):
        got, want = s.iloc[key], plain.iloc[key]
        if isinstance(want, pd.Series):
            assert type(got) is pd.Series and got.equals(want)
        else:
            assert type(got) is type(want) and (got == want or (np.isnan(got) and np.isnan(want)))
    assert s.iat[3] == plain.iat[3] and s.iat[-2] == plain.iat[-2]
    with pytest.raises(IndexError):
        s.iloc[len(s)]
    with pytest.raises(IndexError):
        s.iat[-len(s) - 1]
    for derived in (s * 2, s.copy(), s.dropna(), s.tail(3), s.shift(1), s.rolling(3).mean()):
        assert type(derived) is pd.Series
    with pytest.raises(ValueError, match="read-only"):
        s.iloc[0] = 1.0
    again = pickle.loads(pickle.dumps(s))
    assert again.equals(s) and again.iloc[4] == s.iloc[4] and again.iloc[1:3].equals(s.iloc[1:3])
