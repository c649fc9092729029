"""Acceptance test of ``omega_pl.engine`` (issue 16): an original-engine strategy, unchanged.

tests/engine_strategy.py is a six-scenario mean-reversion strategy written the
way the original engine's strategies are written. Its source is loaded twice —
as is (``from omega_pl.engine import IndicatorCache``) and with that first line
swapped for ``from tests.engine_reference import IndicatorCache`` (an
independent pandas reconstruction of the original from ENGINE-API.md and
SPEC-indicators.md) — and run by the same small event loop over sample data:
``{symbol: SymbolDataSlice(package, 0)}`` is built once per run, then every bar
calls ``set_index(i)`` and ``strategy.on_data(slice_map)``. Every step's signal
and every value the strategy decided on must agree (≤ 1e-12 relative, same
None pattern), on packages with H1 and D1, without D1, and with missing bars;
each run must emit at least 100 signals per symbol from all six scenarios.
"""

from __future__ import annotations

import math
import types
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import omega_pl.datasets
import omega_pl.engine
from omega_pl.engine import load_data_package
from tests import engine_reference as ref
from tests import reference as spec

STRATEGY_PATH = Path(__file__).with_name("engine_strategy.py")
ENGINE_IMPORT = "from omega_pl.engine import IndicatorCache"
REFERENCE_IMPORT = "from tests.engine_reference import IndicatorCache"

SYMBOLS = ("EURUSD", "GBPUSD")
PRIMARY = "M5"
START, END = "2025-03-17", "2025-04-07"  # three weeks, about 4600 M5 bars
REL = 1e-12
MIN_SIGNALS = 100

Package = dict[str, dict[str, Any]]
Step = dict[str, tuple[dict[str, Any] | None, dict[str, Any]]]


# --- loading the strategy twice --------------------------------------------------


def load_strategy(backend: str) -> types.ModuleType:
    """The strategy module, as is ("engine") or with its import swapped ("reference")."""
    source = STRATEGY_PATH.read_text(encoding="utf-8")
    first, rest = source.split("\n", 1)
    assert first.startswith(ENGINE_IMPORT), "the strategy must start with the engine import"
    other_imports = [
        line
        for line in rest.splitlines()
        if line.lstrip().startswith(("import ", "from ")) and "omega_pl" in line
    ]
    assert not other_imports, f"the strategy imports omega_pl elsewhere: {other_imports}"
    if backend == "reference":
        first = first.replace(ENGINE_IMPORT, REFERENCE_IMPORT, 1)
    module = types.ModuleType(f"engine_strategy_{backend}")
    module.__file__ = str(STRATEGY_PATH)
    exec(compile(f"{first}\n{rest}", str(STRATEGY_PATH), "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def strategies() -> dict[str, types.ModuleType]:
    mods = {backend: load_strategy(backend) for backend in ("engine", "reference")}
    assert mods["engine"].IndicatorCache is omega_pl.engine.IndicatorCache
    assert mods["reference"].IndicatorCache is ref.IndicatorCache
    return mods


# --- data packages ---------------------------------------------------------------

# Rows set to None in the "missing" package: (timeframe, side) -> row ranges.
# Primary gaps start late enough for the ATR seed and for the global Kalman
# filter (which never recovers from a gap, SPEC 2.12) to have fired before; H1
# gaps lie inside one bar's run (the bar re-appears: not a new bar, SPEC P4) and
# across bar boundaries (whole bars skipped); D1 loses a stretch of one bar.
HOLES: dict[tuple[str, str], tuple[range, ...]] = {
    ("M5", "bid"): (range(2600, 2601), range(3100, 3105), range(3700, 3730)),
    ("M5", "ask"): (range(2600, 2601), range(4000, 4003)),
    ("H1", "bid"): (range(500, 504), range(1500, 1531), range(3300, 3302)),
    ("H1", "ask"): (range(800, 806),),
    ("D1", "bid"): (range(2000, 2101),),
    ("D1", "ask"): (range(2200, 2210),),
}


def _with_holes(package: Mapping[str, Mapping[str, Any]]) -> Package:
    """Plain-list copy of a package with the HOLES replaced by None."""
    out: Package = {
        tf: {side: list(seq) for side, seq in sides.items()} for tf, sides in package.items()
    }
    for (tf, side), ranges in HOLES.items():
        for rows in ranges:
            for i in rows:
                out[tf][side][i] = None
    return out


@pytest.fixture(scope="module")
def packages() -> dict[str, dict[str, Package]]:
    """{variant: {symbol: package}}: "full" (H1, D1), "no_d1" (H1), "missing" (holes)."""
    root = omega_pl.datasets.sample_data_root()

    def load(symbol: str, higher: tuple[str, ...]) -> Package:
        return load_data_package(root, symbol, PRIMARY, higher, start=START, end=END)

    return {
        "full": {s: load(s, ("H1", "D1")) for s in SYMBOLS},
        "no_d1": {s: load(s, ("H1",)) for s in SYMBOLS},
        "missing": {s: _with_holes(load(s, ("H1", "D1"))) for s in SYMBOLS},
    }


# --- the event loop ----------------------------------------------------------------


def run_strategy(
    module: types.ModuleType, packages: Mapping[str, Package], slice_cls: Callable[..., Any]
) -> list[Step]:
    """Build the slice map once, then ``set_index(i)`` + ``on_data`` for every bar."""
    lengths = {len(p[PRIMARY]["bid"]) for p in packages.values()}
    assert len(lengths) == 1, f"symbols have different primary lengths: {lengths}"
    (n,) = lengths
    strategy = module.MeanReversionZScoreStrategy()
    slice_map = {symbol: slice_cls(package, 0) for symbol, package in packages.items()}
    steps: list[Step] = []
    for i in range(n):
        for symbol_slice in slice_map.values():
            symbol_slice.set_index(i)
        signals = strategy.on_data(slice_map)
        steps.append({s: (signals[s], dict(strategy.values[s])) for s in slice_map})
    return steps


# --- comparison --------------------------------------------------------------------


def _differences(a: Any, b: Any, where: str) -> Iterator[str]:
    """Every place where ``a`` (engine) and ``b`` (reference) disagree."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            yield f"{where}: keys {sorted(a.keys() ^ b.keys())} on one side only"
        for k in a.keys() & b.keys():
            yield from _differences(a[k], b[k], f"{where}.{k}")
        return
    num = (float, int, np.floating, np.integer)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool | np.bool_):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                yield f"{where}: engine {a!r} reference {b!r}"
            return
        exact = isinstance(a, int | np.integer) and isinstance(b, int | np.integer)
        if exact or math.isinf(x) or math.isinf(y):
            ok = x == y
        else:
            ok = abs(x - y) <= REL * max(abs(x), abs(y))
        if not ok:
            rel = abs(x - y) / max(abs(x), abs(y))
            yield f"{where}: engine {a!r} reference {b!r} (rel {rel:.3g})"
        return
    if type(a) is not type(b) and not (a is None or b is None) and not isinstance(a, num):
        yield f"{where}: types {type(a).__name__} / {type(b).__name__}"
    elif a != b:
        yield f"{where}: engine {a!r} reference {b!r}"


def _compare(engine: list[Step], reference: list[Step]) -> list[str]:
    assert len(engine) == len(reference)
    diffs: list[str] = []
    for i, (e, r) in enumerate(zip(engine, reference, strict=True)):
        for symbol in e:
            diffs.extend(_differences(e[symbol][0], r[symbol][0], f"step {i} {symbol} signal"))
            diffs.extend(_differences(e[symbol][1], r[symbol][1], f"step {i} {symbol} values"))
    return diffs


def _scenarios(steps: list[Step], symbol: str) -> Counter[str]:
    return Counter(s[symbol][0]["scenario"] for s in steps if s[symbol][0] is not None)


def _count(steps: list[Step], symbol: str, key: str) -> int:
    """Steps where the strategy decided on a present (non-None) ``key``."""
    return sum(1 for s in steps if s[symbol][1].get(key) is not None)


# --- the acceptance test -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["full", "no_d1", "missing"])
def test_strategy_runs_unchanged_on_the_engine(
    variant: str,
    packages: dict[str, dict[str, Package]],
    strategies: dict[str, types.ModuleType],
) -> None:
    pkgs = packages[variant]
    engine = run_strategy(strategies["engine"], pkgs, omega_pl.engine.SymbolDataSlice)
    reference = run_strategy(strategies["reference"], pkgs, ref.SymbolDataSlice)

    diffs = _compare(engine, reference)
    assert not diffs, f"{len(diffs)} differences, first ones:\n" + "\n".join(diffs[:25])

    # The comparison is not None against None: every run signals, from every scenario.
    fired: set[int] = set()
    for symbol in SYMBOLS:
        counts = _scenarios(engine, symbol)
        assert sum(counts.values()) >= MIN_SIGNALS, (symbol, counts)
        fired |= {int(name.rsplit("_", 1)[1]) for name in counts}
        # The per-row and higher-timeframe paths really produced values.
        for key in ("kalman_garch_z_local", "local_sigma", "cluster_sigma", "atr_points"):
            assert _count(engine, symbol, key) > 200, (symbol, key)
        assert _count(engine, symbol, "h1_ema_step") > 1000
        assert _count(engine, symbol, "h1_kalman_z_step") > 1000
        d1 = _count(engine, symbol, "d1_ema_step")
        assert d1 == 0 if variant == "no_d1" else d1 > 1000, (variant, d1)
        primary = pkgs[symbol][PRIMARY]
        holes = sum(
            1 for b, a in zip(primary["bid"], primary["ask"], strict=True) if b is None or a is None
        )
        assert holes == (39 if variant == "missing" else 0), (variant, holes)
        assert sum(1 for s in engine if "skip" in s[symbol][1]) == holes
    assert fired == {1, 2, 3, 4, 5, 6}, fired


# --- the API itself, method by method ---------------------------------------------


def _assert_same(a: Any, b: Any, what: str) -> None:
    """Engine result ``a`` equals reference result ``b`` (shape, index, values)."""
    if b is None or isinstance(b, float):
        diffs = list(_differences(a, b, what))
        assert not diffs, diffs
        return
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), (what, type(a))
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{what}[{k}]")
        return
    if isinstance(b, np.ndarray):
        a = pd.Series(a)
        b = pd.Series(b)
    assert isinstance(a, pd.Series), (what, type(a))
    assert a.dtype == np.float64, (what, a.dtype)
    assert list(a.index) == list(b.index), (what, a.index, b.index)
    x, y = a.to_numpy(), b.to_numpy()
    np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=f"{what}: missing pattern")
    inf = np.isinf(y)
    np.testing.assert_array_equal(x[inf], y[inf], err_msg=f"{what}: infinities")
    both = np.isfinite(y)
    denom = np.maximum(np.abs(x[both]), np.abs(y[both]))
    rel = np.abs(x[both] - y[both]) / np.where(denom == 0, 1.0, denom)
    assert rel.size == 0 or rel.max() <= REL, (what, int(np.argmax(rel)), float(rel.max()))


CALLS: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...] = (
    ("get_closes", (), {}),
    ("ema", (20,), {}),
    ("ema_stepwise", (12,), {}),
    ("sma", (30,), {}),
    ("rsi", (), {}),
    ("macd", (), {}),
    ("roc", (), {}),
    ("dmi", (), {}),
    ("bollinger", (), {}),
    ("bollinger_stepwise", (), {"period": 10, "std_factor": 1.5}),
    ("atr", (), {}),
    ("choppiness", (), {}),
    ("kalman_mean", (), {}),
    ("kalman_zscore", (), {"window": 50}),
    ("kalman_zscore_stepwise", (), {"window": 20, "R": 0.5, "Q": 0.01}),
    ("zscore", (), {}),
    ("zscore", (60, "ema", 30), {}),
    ("garch_volatility", (), {}),
    ("garch_volatility", (), {"use_log_returns": False, "min_periods": 10}),
    ("kalman_garch_zscore", (), {"R": 1.0, "Q": 0.001}),
)


@pytest.mark.parametrize("tf", ["M5", "H1", "D1"])
def test_every_method_matches_the_reference(
    tf: str, packages: dict[str, dict[str, Package]]
) -> None:
    pkg = packages["missing"]["EURUSD"]
    eng, rfc = omega_pl.engine.IndicatorCache(pkg), ref.IndicatorCache(pkg)
    for side in ("bid", "ask"):
        for name, args, kwargs in CALLS:
            what = f"{name}{args}{kwargs} {tf} {side}"
            a = getattr(eng, name)(tf, side, *args, **kwargs)
            _assert_same(a, getattr(rfc, name)(tf, side, *args, **kwargs), what)
            assert getattr(eng, name)(tf, side, *args, **kwargs) is a, f"{what}: not memoized"
    n = len(pkg[tf]["bid"])
    for idx in (-1, 0, 1, 60, 1234, 2650, n - 1, n + 5):
        kw = {"lookback": 120, "min_periods": 20}
        _assert_same(
            eng.garch_volatility_local(tf, "bid", idx, **kw),
            rfc.garch_volatility_local(tf, "bid", idx, **kw),
            f"garch_volatility_local {tf} idx {idx}",
        )
        _assert_same(
            eng.kalman_garch_zscore_local(tf, "bid", idx, 120, 1.0, 0.001, min_periods=20),
            rfc.kalman_garch_zscore_local(tf, "bid", idx, 120, 1.0, 0.001, min_periods=20),
            f"kalman_garch_zscore_local {tf} idx {idx}",
        )
        for feature in ("garch", " ATR_points", None):
            _assert_same(
                eng.vol_cluster_series(tf, "bid", idx, feature, 10, 90),
                rfc.vol_cluster_series(tf, "bid", idx, feature, 10, 90),
                f"vol_cluster_series {feature!r} {tf} idx {idx}",
            )


def test_batch_absent_timeframes_and_errors(packages: dict[str, dict[str, Package]]) -> None:
    pkg = packages["no_d1"]["GBPUSD"]
    eng, rfc = omega_pl.engine.IndicatorCache(pkg), ref.IndicatorCache(pkg)
    specs = [
        {"name": "zscore", "window": 40},
        {"name": "bollinger", "period": 15, "std_factor": 2.5, "key": "bb"},
        {"name": "macd", "fast_period": 5, "slow_period": 13, "signal_period": 4},
        {"name": "dmi", "period": 10},
        {"name": "ema_stepwise", "period": 6},
        {"name": "kalman_garch_zscore", "R": 1.0, "Q": 0.001, "min_periods": 30},
    ]
    for tf in ("M5", "H1"):
        a, b = eng.compute_batch(specs, tf, "ask"), rfc.compute_batch(specs, tf, "ask")
        assert sorted(a) == sorted(b), (sorted(a), sorted(b))
        for key in b:
            _assert_same(a[key], b[key], f"compute_batch {tf} {key}")
    with pytest.raises(Exception, match="ema"):
        eng.compute_batch([{"name": "ema", "period": 3}, {"name": "ema", "period": 4}], "M5", "bid")
    with pytest.raises(Exception, match="nope"):
        eng.compute_batch([{"name": "nope"}], "M5", "bid")

    # A timeframe (or side) the package lacks gives empty results, and at() gives None.
    for cache in (eng, rfc):
        assert cache.get_df("D1", "bid").empty
        assert len(cache.ema_stepwise("D1", "bid", 5)) == 0
        assert len(cache.ema("M5", "mid", 5)) == 0
        assert all(len(s) == 0 for s in cache.bollinger("D1", "bid"))
        assert len(cache.macd("D1", "bid")) == 2 and len(cache.dmi("D1", "bid")) == 3
        assert cache.garch_volatility_local("D1", "bid", 10).empty
        assert cache.vol_cluster_series("D1", "bid", 10, "garch", 14, 100) is None
        assert cache.kalman_garch_zscore_local("D1", "bid", 10) is None
        assert type(cache).at(object(), cache.ema_stepwise("D1", "bid", 5), 0) is None

    # at(): unbound, bounds (negative included), NaN -> None, ±inf kept.
    s = pd.Series([1.5, math.nan, math.inf, -math.inf])
    for cls in (omega_pl.engine.IndicatorCache, ref.IndicatorCache):
        got = [cls.at(object(), s, i) for i in (-1, 0, 1, 2, 3, 4)]
        assert got == [None, 1.5, None, math.inf, -math.inf, None], (cls, got)

    # Invalid parameters: an error naming the parameter, on both sides.
    bad: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
        ("ema", (0,), {}, "period"),
        ("sma", (-3,), {}, "period"),
        ("zscore", (), {"window": -5}, "window"),
        ("zscore", (), {"mean_source": "median"}, "mean_source"),
        ("zscore", (), {"mean_source": "ema"}, "ema_period"),
        ("bollinger", (), {"period": 0}, "period"),
        ("kalman_zscore", (), {"window": 0}, "window"),
    ]
    for cache in (eng, rfc):
        for name, args, kwargs, param in bad:
            with pytest.raises(Exception, match=param):
                getattr(cache, name)("M5", "bid", *args, **kwargs)


def test_slice_access_matches_the_reference(packages: dict[str, dict[str, Package]]) -> None:
    pkg = packages["missing"]["GBPUSD"]
    a = omega_pl.engine.SymbolDataSlice(pkg, 0)
    b = ref.SymbolDataSlice(pkg, 0)
    n = len(pkg["M5"]["bid"])
    for i in [*range(0, 40), *range(1490, 1540), *range(3690, 3740), n - 1, n, n + 3]:
        a.set_index(i)
        b.set_index(i)
        assert a.index == b.index == i
        for tf in ("M5", "H1", "D1", "W1"):
            for side in ("bid", "ask"):
                assert a.latest(tf, side) is b.latest(tf, side), (i, tf, side)
                if i >= n:  # history past the end is outside the contract
                    assert a.latest(tf, side) is None
                    continue
                for length in (1, 5, 30):
                    ha, hb = a.history(tf, side, length), b.history(tf, side, length)
                    assert len(ha) == len(hb) and all(x is y for x, y in zip(ha, hb, strict=True))
    for tf in ("M5", "H1", "W1"):
        assert list(a.get(tf)) == list(b.get(tf)) and list(a[tf]) == list(b[tf])
    assert a.series_ref("H1", "ask") is a.series_ref("H1", "ask")


def test_reference_agrees_with_the_numpy_spec_reading(
    packages: dict[str, dict[str, Package]],
) -> None:
    """The pandas reconstruction against tests/reference.py (the NumPy SPEC reading)."""
    pkg = packages["missing"]["EURUSD"]
    cache = ref.IndicatorCache(pkg)
    for tf in ("M5", "H1"):
        df = cache.get_df(tf, "bid")
        c, h, lo = df["close"].to_numpy(), df["high"].to_numpy(), df["low"].to_numpy()
        bars = [None if x is None else id(x) for x in pkg[tf]["bid"]]
        pairs: list[tuple[str, Any, Any]] = [
            ("ema", cache.ema(tf, "bid", 20), spec.ema(c, 20)),
            ("ema_stepwise", cache.ema_stepwise(tf, "bid", 12), spec.ema_stepwise(c, bars, 12)),
            ("sma", cache.sma(tf, "bid", 30), spec.sma(c, 30)),
            ("rsi", cache.rsi(tf, "bid"), spec.rsi(c)),
            ("macd", cache.macd(tf, "bid"), tuple(spec.macd(c).values())[:2]),
            ("roc", cache.roc(tf, "bid"), spec.roc(c)),
            ("dmi", cache.dmi(tf, "bid"), tuple(spec.dmi(h, lo, c).values())),
            ("bollinger", cache.bollinger(tf, "bid"), tuple(spec.bollinger(c).values())),
            (
                "bollinger_stepwise",
                cache.bollinger_stepwise(tf, "bid", 10, 1.5),
                tuple(spec.bollinger_stepwise(c, bars, 10, 1.5).values()),
            ),
            ("atr", cache.atr(tf, "bid"), spec.atr(h, lo, c)),
            ("choppiness", cache.choppiness(tf, "bid"), spec.choppiness(h, lo, c)),
            ("kalman_mean", cache.kalman_mean(tf, "bid"), spec.kalman_mean(c)),
            ("kalman_zscore", cache.kalman_zscore(tf, "bid", 50), spec.kalman_zscore(c, 50)),
            (
                "kalman_zscore_stepwise",
                cache.kalman_zscore_stepwise(tf, "bid", 20, 0.5, 0.01),
                spec.kalman_zscore_stepwise(c, bars, 20, 0.5, 0.01),
            ),
            ("zscore", cache.zscore(tf, "bid"), spec.zscore(c)),
            ("zscore ema", cache.zscore(tf, "bid", 60, "ema", 30), spec.zscore(c, 60, "ema", 30)),
            ("garch", cache.garch_volatility(tf, "bid"), spec.garch_volatility(c)),
            (
                "garch simple",
                cache.garch_volatility(tf, "bid", use_log_returns=False, min_periods=10),
                spec.garch_volatility(c, use_log_returns=False, min_periods=10),
            ),
            (
                "kalman_garch_zscore",
                cache.kalman_garch_zscore(tf, "bid", 1.0, 0.001),
                spec.kalman_garch_zscore(c, 1.0, 0.001),
            ),
        ]
        for name, got, want in pairs:
            _assert_same(got, want, f"{name} {tf}")
        rows = range(0, len(c), 23)
        local = spec.garch_volatility_local(c, 120, min_periods=20)
        z_local = spec.kalman_garch_zscore_local(c, 120, 1.0, 0.001, min_periods=20)
        for i in rows:
            window = cache.garch_volatility_local(tf, "bid", i, 120, min_periods=20)
            assert list(window.index) == list(range(max(0, i - 119), i + 1))
            last = float(window.iloc[-1])
            assert (math.isnan(last) and math.isnan(local[i])) or last == pytest.approx(
                local[i], rel=REL
            ), (tf, i)
            z = cache.kalman_garch_zscore_local(tf, "bid", i, 120, 1.0, 0.001, min_periods=20)
            want_z = None if math.isnan(z_local[i]) else float(z_local[i])
            assert not list(_differences(z, want_z, f"kalman_garch_zscore_local {tf} {i}"))
