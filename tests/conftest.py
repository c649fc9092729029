"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pytest


def random_walk_with_gaps(n: int, seed: int, *, flat: bool = True) -> list[float | None]:
    """FX-like closes rounded to 5 decimals with leading/interior gaps (null and NaN)
    and a flat stretch, as SPEC Appendix B's verification data."""
    rng = np.random.default_rng(seed)
    x = np.round(1.1 + np.cumsum(rng.normal(0, 2e-4, n)), 5)
    out: list[float | None] = [float(v) for v in x]
    if n == 0:
        return out
    for i in range(min(3, n)):
        out[i] = None
    for start, length, kind in ((n // 5, 1, "null"), (n // 3, 5, "nan"), (n // 2, 30, "null")):
        for i in range(start, min(n, start + length)):
            out[i] = None if kind == "null" else math.nan
    if flat and n > 100:
        s = int(n * 0.7)
        for i in range(s, min(n, s + 21)):
            out[i] = out[s - 1] if out[s - 1] is not None else 1.1
    return out


def assert_parity(
    got: pl.Series, expected: Sequence[float] | np.ndarray, rel: float = 1e-12
) -> None:
    """omega_pl null <-> reference NaN, ±inf equal, finite values within ``rel``."""
    exp = np.asarray(expected, dtype=np.float64)
    assert got.len() == len(exp)
    assert got.dtype == pl.Float64
    vals = got.to_numpy(allow_copy=True).astype(np.float64)
    got_missing = got.is_null().to_numpy()
    exp_missing = np.isnan(exp)
    np.testing.assert_array_equal(got_missing, exp_missing, err_msg="missing pattern differs")
    assert not np.isnan(vals[~got_missing]).any(), "NaN emitted instead of null"
    both = ~exp_missing
    g, e = vals[both], exp[both]
    inf = np.isinf(e)
    np.testing.assert_array_equal(g[inf], e[inf])
    fin = ~inf
    denom = np.maximum(np.abs(g[fin]), np.abs(e[fin]))
    diff = np.abs(g[fin] - e[fin])
    bad = diff > rel * np.where(denom == 0, 1.0, denom)
    assert not bad.any(), f"max rel diff {float((diff / np.where(denom == 0, 1, denom)).max())}"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``OMEGA_PL_CACHE`` for the sample data, shared by one module's tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def walk() -> list[float | None]:
    return random_walk_with_gaps(3000, seed=7)
