"""Tests of the executable spec itself (tests/reference.py).

Hand-computed small cases for the primitives and the indicators' edge rules
(SPEC §1-§3, Appendix A, the §8.3 corrected options), and bit equality with
pandas 2.x wherever pandas computes the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from tests import reference as ref

NAN = math.nan
INF = math.inf


def same(got: Sequence[float] | np.ndarray, expected: Sequence[float] | np.ndarray) -> None:
    """Bit equality, NaN == NaN (rel 0)."""
    np.testing.assert_array_equal(np.asarray(got, dtype=np.float64), np.asarray(expected))


def close(got: Sequence[float] | np.ndarray, expected: Sequence[float], rel: float = 1e-14) -> None:
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=rel, atol=0.0)


def gappy_walk(n: int = 3000, seed: int = 11) -> np.ndarray:
    """SPEC Appendix B-like closes: 5 decimals, leading/interior gaps, flat stretches."""
    rng = np.random.default_rng(seed)
    x = np.round(1.1 + np.cumsum(rng.normal(0, 2e-4, n)), 5)
    x[:3] = NAN
    for start, length in ((n // 5, 1), (n // 3, 5), (n // 2, 30)):
        x[start : start + length] = NAN
    for start, length in ((int(n * 0.6), 80), (int(n * 0.8), 21)):
        x[start : start + length] = x[start - 1]
    return x


def ohlc(n: int = 3000, seed: int = 11) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = gappy_walk(n, seed)
    rng = np.random.default_rng(seed + 1)
    h = np.round(c + np.abs(rng.normal(0, 1e-4, n)), 5)
    lo = np.round(c - np.abs(rng.normal(0, 1e-4, n)), 5)
    flat = np.r_[False, c[1:] == c[:-1]]
    h[flat], lo[flat] = c[flat], c[flat]  # flat stretches: H = L = C
    return h, lo, c


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    return gappy_walk()


@pytest.fixture(scope="module")
def bars() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return ohlc()


# --- P1 ---------------------------------------------------------------------------


def test_ewm_gap_reweighting_and_carry() -> None:
    a = ref.alpha_from_span(5)  # 1/3
    got = ref.ewm([None, 1.0, None, INF, 4.0, 4.0], a)
    keep3 = (1 - a) * (1 - a) * (1 - a)
    m = (keep3 * 1.0 + a * 4.0) / (keep3 + a)
    same(got, [NAN, 1.0, 1.0, 1.0, m, (((1 - a) * m + a * 4.0) / ((1 - a) + a))])
    assert (a / (keep3 + a)) == pytest.approx(9 / 17)  # "0.53 instead of 0.33"


@pytest.mark.parametrize("span", [1, 2, 3, 5, 14, 26, 200])
def test_ema_bit_equal_to_pandas(walk: np.ndarray, span: int) -> None:
    expected = pd.Series(walk).ewm(span=span, adjust=False).mean().to_numpy()
    same(ref.ema(walk, span), expected)


# --- P2 / A.1-A.2 -------------------------------------------------------------------


def test_roll_sum_mean_small() -> None:
    x = [1.0, 2.0, None, 4.0, 5.0, INF, 6.0, 7.0]
    same(ref.roll_mean(x, 2), [NAN, 1.5, NAN, NAN, 4.5, NAN, NAN, 6.5])
    same(ref.roll_sum(x, 2), [NAN, 3.0, NAN, NAN, 9.0, NAN, NAN, 13.0])
    same(ref.roll_sum(x, 1), [1.0, 2.0, NAN, 4.0, 5.0, NAN, 6.0, 7.0])
    same(ref.roll_mean([1.0, 2.0], 3), [NAN, NAN])
    with pytest.raises(ValueError, match="window"):
        ref.roll_mean(x, 0)


def test_roll_mean_identical_run_rule() -> None:
    assert (0.1 + 0.1 + 0.1) / 3 != 0.1
    same(ref.roll_mean([0.1, 0.1, 0.1], 3), [NAN, NAN, 0.1])
    same(ref.roll_sum([0.1, 0.1, 0.1], 3), [NAN, NAN, 3 * 0.1])
    # the run counts *added* values, so it survives the removal of older values
    got = ref.roll_mean([0.7, 0.3, 0.2, 0.2, 0.2], 3)
    assert got[4] == 0.2


def test_roll_mean_sign_rule() -> None:
    # window [3e-17, 0.0]: the compensated running total is -2.55e-17 (kept by the
    # sum), but no value in the window has its sign bit set, so the mean is 0.
    x = [0.1, 0.3, 3e-17, 0.0, 1e-16]
    assert ref.roll_sum(x, 2)[3] < 0
    assert ref.roll_mean(x, 2)[3] == 0.0
    neg = [-v for v in x]  # -0.0 has its sign bit set: q = k, positive total -> 0
    assert ref.roll_sum(neg, 2)[3] > 0
    assert ref.roll_mean(neg, 2)[3] == 0.0
    s = pd.Series(x).rolling(2)
    same(ref.roll_mean(x, 2), s.mean().to_numpy())
    same(ref.roll_sum(x, 2), s.sum().to_numpy())


def test_roll_var_std_small() -> None:
    same(ref.roll_var([1.0, 2.0, 3.0, 4.0], 3), [NAN, NAN, 1.0, 1.0])
    same(ref.roll_std([1.0, 2.0, 3.0, 4.0], 3, ddof=0), [NAN, NAN, *[math.sqrt(2 / 3)] * 2])
    # all-identical window after varying data: exactly 0 (pandas 2.x rule)
    got = ref.roll_std([1.3, 1.7, 1.23456, 1.23456, 1.23456], 3)
    assert got[4] == 0.0
    same(ref.roll_std([1.0, 2.0, 3.0], 1), [NAN, NAN, NAN])  # w = 1: k > ddof fails
    same(ref.roll_std([1.0, 2.0, 3.0], 1, ddof=0), [0.0, 0.0, 0.0])
    same(
        ref.roll_std([1.0, None, 3.0, 4.0, INF, 5.0, 6.0], 2),
        [NAN] * 3 + [0.5**0.5] + [NAN] * 2 + [0.5**0.5],
    )


def test_roll_max_min_small() -> None:
    x = [1.0, 3.0, 2.0, None, 5.0, 4.0, 6.0]
    same(ref.roll_max(x, 2), [NAN, 3.0, 3.0, NAN, NAN, 5.0, 6.0])
    same(ref.roll_min(x, 2), [NAN, 1.0, 2.0, NAN, NAN, 4.0, 4.0])
    same(ref.roll_max([-INF, 1.0], 1), [NAN, 1.0])


@pytest.mark.parametrize("w", [1, 2, 3, 5, 14, 20, 100])
def test_rolling_bit_equal_to_pandas(walk: np.ndarray, w: int) -> None:
    r = pd.Series(walk).rolling(w)
    same(ref.roll_mean(walk, w), r.mean().to_numpy())
    same(ref.roll_sum(walk, w), r.sum().to_numpy())
    same(ref.roll_var(walk, w), r.var().to_numpy())
    same(ref.roll_std(walk, w), r.std().to_numpy())
    same(ref.roll_max(walk, w), r.max().to_numpy())
    same(ref.roll_min(walk, w), r.min().to_numpy())


def test_rolling_bit_equal_to_pandas_signed_data_and_ddof0() -> None:
    # returns-like data around 0 (mixed signs, zeros, -0.0) exercise the sign rule
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(0, 1e-4, 2000), 5)
    x[::17] = 0.0
    x[5::23] = -0.0
    x[100:110] = NAN
    x[300] = INF
    r = pd.Series(x).rolling(7)
    same(ref.roll_mean(x, 7), r.mean().to_numpy())
    same(ref.roll_sum(x, 7), r.sum().to_numpy())
    same(ref.roll_std(x, 7), r.std().to_numpy())
    same(ref.roll_var(x, 7, ddof=0), r.var(ddof=0).to_numpy())
    same(ref.roll_max(x, 7), r.max().to_numpy())
    same(ref.roll_min(x, 7), r.min().to_numpy())


# --- P3, P4, A.4 ----------------------------------------------------------------


def test_true_range() -> None:
    h = [2.0, 3.0, None, 5.0, 6.5]
    lo = [1.0, 1.5, None, 4.0, 5.0]
    c = [1.5, 2.5, None, 4.5, 6.0]
    # row 1: max(1.5, |3-1.5|, |1.5-1.5|); row 3 after the gap: H - L only;
    # row 4: max(1.5, |6.5-4.5| = 2, |5-4.5|)
    same(ref.true_range(h, lo, c), [1.0, 1.5, NAN, 1.0, 2.0])


def test_step_new_bars_reduce_scatter_ffill() -> None:
    keys = [None, 1, 1, 2, None, 2, 3, 3, None]
    x = [NAN, 10.0, 10.0, 20.0, NAN, 20.0, 30.0, 30.0, NAN]
    # bar 2 re-appearing after a missing-key row (row 5) is not a new bar
    got = ref.step(x, keys, np.cumsum)
    same(got, [NAN, 10.0, 10.0, 30.0, 30.0, 30.0, 60.0, 60.0, 60.0])
    # a NaN produced by f is filled over, ±inf is kept and carried
    got = ref.step(x, keys, lambda s: np.array([1.0, NAN, INF]))
    same(got, [NAN, 1.0, 1.0, 1.0, 1.0, 1.0, INF, INF, INF])
    multi = ref.step(x, keys, lambda s: {"a": s, "b": -s})
    same(multi["b"], [NAN, -10.0, -10.0, -20.0, -20.0, -20.0, -30.0, -30.0, -30.0])
    same(ref.step([1.0, 2.0], [None, None], lambda s: s), [NAN, NAN])
    # the same key after a *different* key is a new bar again
    same(ref.step([1.0, 2.0, 3.0], [1, 2, 1], np.cumsum), [1.0, 3.0, 6.0])


def test_stepwise_indicators_are_step_of_the_plain_ones() -> None:
    keys = [None, None] + [i // 4 for i in range(40)]
    x = [None, None] + [1.0 + 0.01 * ((i // 4) % 5) for i in range(40)]
    reduced = [1.0 + 0.01 * (b % 5) for b in range(10)]
    rows = [2 + 4 * b for b in range(10)]
    got = ref.ema_stepwise(x, keys, 3)
    same(got[rows], ref.ema(reduced, 3))
    assert got[rows[3] + 1] == got[rows[3]]
    boll = ref.bollinger_stepwise(x, keys, 3)
    same(boll["upper"][rows], ref.bollinger(reduced, 3)["upper"])
    kz = ref.kalman_zscore_stepwise(x, keys, 3)
    same(kz[rows[4:]], ref.kalman_zscore(reduced, 3)[4:])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16, 17, 127, 128, 129, 130, 255, 300, 1000, 3000])
def test_pairwise_sum_equals_numpy(n: int) -> None:
    x = np.random.default_rng(n).normal(0, 1e3, n)
    assert ref.pairwise_sum(x) == np.add.reduce(x)
    if n:
        assert ref.pairwise_sum(x) / n == np.mean(x)


def test_pairwise_sum_small() -> None:
    assert ref.pairwise_sum([0.1, 0.2, 0.3]) == (0.1 + 0.2) + 0.3
    x = [float(i) / 10 for i in range(10)]
    r = x[:8]
    expected = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])) + x[8] + x[9]
    assert ref.pairwise_sum(x) == expected
    assert math.copysign(1.0, ref.pairwise_sum([-0.0] * 10)) == 1.0  # 0.0 identity


# --- §2 -------------------------------------------------------------------------


def test_sma() -> None:
    same(ref.sma([1.0, 2.0, 3.0, None, 5.0], 2), [NAN, 1.5, 2.5, NAN, NAN])


def test_rsi_edge_rules() -> None:
    # flat start: 0/0 -> missing until the first move (AL stays -0.0 -> AG/AL = -inf -> 100)
    same(ref.rsi([1.0, 1.0, 1.0, 2.0, 2.0], 3), [NAN, NAN, NAN, 100.0, 100.0])
    same(ref.rsi([1.0, 2.0, 3.0, 4.0], 14), [NAN, 100.0, 100.0, 100.0])
    same(ref.rsi([4.0, 3.0, 2.0, 1.0], 14), [NAN, 0.0, 0.0, 0.0])
    # gap: D missing on the gap row and the next; both averages carry
    got = ref.rsi([1.0, 2.0, 1.5, None, 1.7, 1.8], 2)
    assert got[3] == got[2] and got[4] == got[2] and got[5] != got[2]
    with pytest.raises(ValueError, match="period"):
        ref.rsi([1.0], 0)


@pytest.mark.parametrize("period", [2, 3, 14])
def test_rsi_macd_bit_equal_to_pandas(walk: np.ndarray, period: int) -> None:
    s = pd.Series(walk)
    d = s.diff()
    ag = d.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    al = (-d).clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    same(ref.rsi(walk, period), (100 - 100 / (1 + ag / al)).to_numpy())
    fast, slow, sig = period, 2 * period + 2, period + 1
    line = s.ewm(span=fast, adjust=False).mean() - s.ewm(span=slow, adjust=False).mean()
    signal = line.ewm(span=sig, adjust=False).mean()
    got = ref.macd(walk, fast, slow, sig)
    same(got["macd"], line.to_numpy())
    same(got["signal"], signal.to_numpy())
    same(got["histogram"], (line - signal).to_numpy())


def test_macd_not_missing_on_gaps() -> None:
    got = ref.macd([None, 1.0, 2.0, None, None, 3.0], 2, 4, 3)
    assert np.isnan(got["macd"][0]) and not np.isnan(got["macd"][1:]).any()
    assert got["macd"][1] == 0.0
    assert got["macd"][3] == got["macd"][4] == got["macd"][2]
    assert got["signal"][3] != got["signal"][4]  # the signal keeps moving during a gap


def test_roc() -> None:
    c = [100.0, 110.0, None, 121.0, 0.0, 5.0]
    same(ref.roc(c, 1), [NAN, 10.0, NAN, NAN, -100.0, INF])
    same(
        ref.roc(c, 2),
        [NAN, NAN, NAN, ((121.0 - 110.0) / 110.0) * 100, NAN, ((5.0 - 121.0) / 121.0) * 100],
    )
    same(ref.roc(c, -1), [((100.0 - 110.0) / 110.0) * 100, NAN, NAN, INF, -100.0, NAN])
    same(ref.roc([0.0, 0.0, 1.0], 0), [NAN, NAN, 0.0])


def test_dmi_small() -> None:
    h = [2.0, 3.0, 2.5, 2.5]
    lo = [1.0, 1.5, 0.5, 0.5]
    c = [1.5, 2.5, 1.0, 1.0]
    got = ref.dmi(h, lo, c, 1)  # a = 1: every average is the latest input
    # row 0: +DM = -DM = 0, TR = 1 -> DIs 0, DX 0/0 -> ADX missing
    # row 1: UP = 1, DN = -0.5 -> +DM 1; TR = max(1.5, 1.5, 0) = 1.5
    # row 2: UP = -0.5, DN = 1 -> -DM 1; TR = max(2, 0, 2) = 2
    # row 3: tie-free zero moves -> DMs 0, TR = 2 -> DIs 0 -> DX 0/0, ADX carries
    same(got["plus_di"], [0.0, 100.0 * 1.0 / 1.5, 0.0, 0.0])
    same(got["minus_di"], [0.0, 0.0, 100.0 * 1.0 / 2.0, 0.0])
    same(got["adx"], [NAN, 100.0, 100.0, 100.0])
    # flat start: ATRd = 0 -> DIs missing (0/0)
    flat = ref.dmi([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 14)
    same(flat["plus_di"], [NAN, NAN])


def test_dmi_bit_equal_to_pandas_and_gap_shrink(
    bars: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    h, lo, c = bars
    period = 14
    hs, ls, cs = pd.Series(h), pd.Series(lo), pd.Series(c)
    up, dn = hs.diff(), ls.shift(1) - ls
    pdm = pd.Series(np.where((up > dn) & (up > 0), up, 0.0))
    mdm = pd.Series(np.where((dn > up) & (dn > 0), dn, 0.0))
    pc = cs.shift(1)
    tr = pd.concat([(hs - ls).abs(), (hs - pc).abs(), (ls - pc).abs()], axis=1).max(axis=1)

    def ew(s: pd.Series) -> pd.Series:
        return s.ewm(alpha=1 / period, adjust=False).mean()

    atrd = ew(tr)
    pdi, mdi = 100 * ew(pdm) / atrd, 100 * ew(mdm) / atrd
    dx = (pdi - mdi).abs() / (pdi + mdi) * 100
    got = ref.dmi(h, lo, c, period)
    same(ref.true_range(h, lo, c), tr.to_numpy())
    same(got["plus_di"], pdi.to_numpy())
    same(got["minus_di"], mdi.to_numpy())
    same(got["adx"], ew(dx).to_numpy())
    g = len(c) // 2  # the 30-row gap: both DIs shrink while ATRd is frozen
    assert got["plus_di"][g + 10] < got["plus_di"][g - 1]
    assert got["minus_di"][g + 10] < got["minus_di"][g - 1]


def test_bollinger_edges() -> None:
    one = ref.bollinger([1.0, 2.0, None, 4.0], 1)
    same(one["middle"], [1.0, 2.0, NAN, 4.0])
    same(one["upper"], [NAN] * 4)
    same(one["lower"], [NAN] * 4)
    flat = ref.bollinger([1.3, 1.7, 1.23456, 1.23456, 1.23456], 3, 2.5)
    assert flat["upper"][4] == flat["middle"][4] == flat["lower"][4] == 1.23456
    with pytest.raises(ValueError, match="window"):
        ref.bollinger([1.0], 0)


@pytest.mark.parametrize(("period", "k"), [(2, 2.0), (20, 2.0), (20, 1.5)])
def test_bollinger_bit_equal_to_pandas(walk: np.ndarray, period: int, k: float) -> None:
    r = pd.Series(walk).rolling(period)
    mid, sd = r.mean(), r.std()
    got = ref.bollinger(walk, period, k)
    same(got["middle"], mid.to_numpy())
    same(got["upper"], (mid + k * sd).to_numpy())
    same(got["lower"], (mid - k * sd).to_numpy())


def test_exact_std_option(walk: np.ndarray) -> None:
    x = [1.0, 2.0, 4.0, None, 1.0, 1.0, 1.0]
    ex = ref.bollinger(x, 3, 1.0, exact_std=True)
    sd = math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    close(ex["upper"][2:3], [7 / 3 + sd])
    assert ex["upper"][6] == 1.0
    assert np.isnan(ex["upper"][3:6]).all()
    got = ref.bollinger(walk, 20, exact_std=True)["upper"]
    base = ref.bollinger(walk, 20)["upper"]
    same(np.isnan(got), np.isnan(base))
    close(got[~np.isnan(got)], list(base[~np.isnan(base)]), rel=1e-12)
    z = ref.zscore(walk, 20, exact_std=True)
    zr = ref.zscore(walk, 20)
    fin = np.isfinite(zr) & np.isfinite(z) & (np.abs(zr) > 1e-3)
    assert fin.sum() > 2000
    close(z[fin], list(zr[fin]), rel=1e-6)


def test_atr_seed_carry_gap_and_reseed() -> None:
    h = [2.0, 3.0, 4.0, 5.0, 6.0, None, 8.0]
    lo = [1.0, 1.0, 1.0, 1.0, 1.0, None, 1.0]
    c = [1.5, 1.5, 1.5, 1.5, 1.5, None, 1.5]
    # TR = [1, 2, 3, 4, 5, NaN, 7]: seed at row 2 = mean(1, 2, 3) = 2
    a1 = (2.0 * 2 + 4.0) / 3
    a2 = (a1 * 2 + 5.0) / 3
    same(ref.atr(h, lo, c, 3), [NAN, NAN, 2.0, a1, a2, a2, (a2 * 2 + 7.0) / 3])
    same(ref.atr(h, lo, c, 8), [NAN] * 7)  # f + period > n
    same(ref.atr(h, lo, c, 0), [NAN] * 7)
    # a missing row inside the seed window -> whole series missing
    hg = [None, 2.0, None, 4.0, 5.0, 6.0, 7.0, 8.0]
    lg = [None, 1.0, None, 1.0, 1.0, 1.0, 1.0, 1.0]
    cg = [None, 1.5, None, 1.5, 1.5, 1.5, 1.5, 1.5]
    same(ref.atr(hg, lg, cg, 3), [NAN] * 8)
    # reseed: TR = [NaN, 1, NaN, 3, 4, 5, 6, 7]; the first run of 3 present TRs is
    # rows 3..5 (row 3's TR is H - L, the jump across the gap is ignored)
    b6 = (4.0 * 2 + 6.0) / 3
    same(ref.atr(hg, lg, cg, 3, reseed=True), [NAN] * 5 + [4.0, b6, (b6 * 2 + 7.0) / 3])
    same(ref.atr(hg, lg, cg, 7, reseed=True), [NAN] * 8)
    # reseed without any gap equals the default
    same(ref.atr(h, lo, c, 3, reseed=True), ref.atr(h, lo, c, 3))


def test_atr_seed_is_numpy_mean(bars: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    h, lo, c = (v[1600:] for v in bars)  # first TR at row 0, gap-free seed window of 200
    tr = ref.true_range(h, lo, c)
    got = ref.atr(h, lo, c, 200)
    assert got[199] == np.mean(tr[:200])


def test_choppiness() -> None:
    h = [2.0, 3.0, 3.0]
    lo = [1.0, 1.5, 2.0]
    c = [1.5, 1.6, 2.5]
    # TR = [1, 1.5, 1.4]; period 1: log10(1) = 0 -> +inf, or 0/0 (S == RNG) -> missing
    same(ref.choppiness(h, lo, c, 1), [NAN, NAN, INF])
    same(ref.choppiness([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 2), [NAN, NAN])  # RNG = 0
    s = 1.5 + 1.4
    same(ref.choppiness(h, lo, c, 2)[2:], [(100 * np.log10(s / (3.0 - 1.5))) / np.log10(2.0)])
    same(ref.choppiness([*h, None], [*lo, None], [*c, None], 2)[3:], [NAN])


def test_choppiness_bit_equal_to_pandas(bars: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    h, lo, c = bars
    p = 14
    tr = pd.Series(ref.true_range(h, lo, c))
    s = tr.rolling(p).sum()
    rng = pd.Series(h).rolling(p).max() - pd.Series(lo).rolling(p).min()
    rng = rng.where(rng != 0)
    expected = (100 * np.log10(s / rng)) / np.log10(p)
    same(ref.choppiness(h, lo, c, p), expected.to_numpy())


def test_kalman_mean_permanent_gap_and_carry() -> None:
    r, q = 0.01, 1.0
    x = [None, 1.0, 2.0, None, 3.0, 4.0]
    pm = r + q
    k1 = pm / (pm + r)
    x1 = 1.0 + k1 * (2.0 - 1.0)
    p1 = (1 - k1) * pm
    same(ref.kalman_mean(x), [NAN, 1.0, x1, NAN, NAN, NAN])
    # carry_gaps: the estimate is carried on the gap row, P grows by Q
    p2 = p1 + q
    pm3 = p2 + q
    k3 = pm3 / (pm3 + r)
    x3 = x1 + k3 * (3.0 - x1)
    p3 = (1 - k3) * pm3
    pm4 = p3 + q
    k4 = pm4 / (pm4 + r)
    got = ref.kalman_mean(x, carry_gaps=True)
    same(got, [NAN, 1.0, x1, x1, x3, x3 + k4 * (4.0 - x3)])
    # only NaN is missing: +inf is observed (and then poisons the estimate)
    assert ref.kalman_mean([1.0, INF])[1] == INF
    same(ref.kalman_mean([None, None]), [NAN, NAN])


def test_kalman_zscore() -> None:
    x = [1.0, 1.2, 1.1, 1.3, 1.25, None, 1.4, 1.35]
    km = ref.kalman_mean(x)
    res = np.array([NAN if v is None else v for v in x]) - km
    sd = ref.roll_std(res, 3)
    got = ref.kalman_zscore(x, 3)
    same(got, np.where(np.isnan(sd), NAN, res / sd))
    assert np.isnan(got[:2]).all() and not np.isnan(got[2:5]).any()
    assert np.isnan(got[5:]).all()  # permanent gap
    carried = ref.kalman_zscore(x, 3, carry_gaps=True)
    same(np.isnan(carried), [True, True, False, False, False, True, True, True])
    longer = ref.kalman_zscore([*x, 1.3, 1.5], 3, carry_gaps=True)
    assert np.isfinite(longer[-1])  # RES missing only on the missing-close row
    # SD = 0: RES = 0 -> 0/0 missing
    same(ref.kalman_zscore([2.0] * 5, 2), [NAN] * 5)


def test_zscore_warmup_and_errors(walk: np.ndarray) -> None:
    x = [None, None, *[1.0 + 0.001 * ((i * 7) % 11) for i in range(30)]]
    f, w = 2, 5
    got = ref.zscore(x, w)
    assert np.isnan(got[: f + 2 * w - 2]).all() and np.isfinite(got[f + 2 * w - 2])
    ema_z = ref.zscore(x, w, "ema", 4)
    assert np.isnan(ema_z[: f + w - 1]).all() and np.isfinite(ema_z[f + w - 1])
    with pytest.raises(ValueError, match="ema_period"):
        ref.zscore(x, w, "ema")
    with pytest.raises(ValueError, match="mean_source"):
        ref.zscore(x, w, "median")
    # pandas: DEV / rolling std of DEV
    s = pd.Series(walk)
    dev = s - s.rolling(20).mean()
    sd = dev.rolling(20).std()
    same(ref.zscore(walk, 20), (dev / sd).where(sd.notna()).to_numpy())
    dev = s - s.ewm(span=10, adjust=False).mean()
    sd = dev.rolling(20).std()
    same(ref.zscore(walk, 20, "ema", 10), (dev / sd).where(sd.notna()).to_numpy())


def test_zscore_flat_dev() -> None:
    # constant closes: DEV = 0 everywhere -> 0/0 -> missing
    same(ref.zscore([1.1] * 6, 2), [NAN] * 6)
    # a linear trend: DEV = 1 exactly on every row -> SD = 0 -> +inf (first at f + 2w - 2)
    same(ref.zscore([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3), [NAN] * 4 + [INF, INF])


def test_garch_lrv_collapse_and_mu_is_first_return() -> None:
    c = [None, 1.0, 1.01, 1.0, 1.03, None, 1.02, 1.04]
    r = [NAN, NAN] + [
        100.0 * float(np.log(np.float64(b) / a)) for a, b in [(1.0, 1.01), (1.01, 1.0), (1.0, 1.03)]
    ]
    r += [NAN, NAN, 100.0 * float(np.log(np.float64(1.04) / 1.02))]
    got = ref.garch_volatility(c, min_periods=0)
    # f = 2; LRV -> 1e-6, mu = r_f so e2_f = 0, Omega = 1e-6 * 0.05
    omega = 1e-6 * max(1e-6, 1.0 - 0.05 - 0.90)
    v2 = 1e-6
    v3 = omega + 0.05 * 0.0 + 0.90 * v2
    e3 = (r[3] - r[2]) * (r[3] - r[2])
    v4 = omega + 0.05 * e3 + 0.90 * v3
    e4 = (r[4] - r[2]) * (r[4] - r[2])
    v5 = v4  # missing close: the returns into and out of it are missing, V carried
    v7 = omega + 0.05 * e4 + 0.90 * v4  # resumes with the pre-gap shock
    expected = [NAN, NAN, *(math.sqrt(v) / 100.0 for v in (v2, v3, v4, v5, v5, v7))]
    same(got, expected)
    assert got[2] == 1e-5
    same(ref.garch_volatility(c, min_periods=3), [NAN] * 5 + expected[5:])
    same(ref.garch_volatility(c, alpha=0.1, beta=0.9), [NAN] * 8)
    same(ref.garch_volatility([1.0, None, None]), [NAN] * 3)
    same(ref.garch_volatility([]), [])


def test_garch_given_omega_floor_and_simple_returns() -> None:
    c = [1.0, 1.0, 1.0, 1.0]
    got = ref.garch_volatility(c, omega=-5.0, min_periods=0, sigma_floor=1e-3)
    # r = 0 everywhere; Omega := max(-5, 0) = 0; V = max(1e-6, 0, 1e-6) then the floor
    v = max(1e-6, 0.0, 1e-6)
    v2 = max(0.0 + 0.0 + 0.9 * v, 1e-6)
    same(got, [NAN, math.sqrt(v) / 100, math.sqrt(v2) / 100, math.sqrt(max(0.9 * v2, 1e-6)) / 100])
    # simple returns: pandas 2.x pads the closes first (return 0 on the gap row and a
    # return across the gap); log returns stay missing there
    cg = [1.0, 1.01, None, 1.03, 1.0]
    rs = pd.Series(cg, dtype="float64").ffill().pct_change().to_numpy() * 100.0
    f = 1
    om = 1e-6 * 0.05
    v = 1e-6
    out = [NAN, math.sqrt(v) / 100]
    e2 = 0.0
    for t in range(f + 1, 5):
        v = max(om + 0.05 * e2 + 0.9 * v, 1e-12)
        e2 = (rs[t] - rs[f]) ** 2
        out.append(math.sqrt(v) / 100)
    close(ref.garch_volatility(cg, use_log_returns=False, min_periods=0), out, rel=1e-15)


def test_garch_estimate_window() -> None:
    c = [1.0, 1.01, 1.0, 1.02, 1.01, 1.03]
    ret = 100.0 * np.log(np.array(c[1:]) / np.array(c[:-1]))
    k = 3
    lrv, mu = float(np.var(ret[:k])), float(np.mean(ret[:k]))
    om = lrv * max(1e-6, 1 - 0.05 - 0.9)
    e2 = (ret[0] - mu) ** 2
    v = max(lrv, e2, 1e-12)
    exp = [NAN, math.sqrt(v)]
    for t in range(1, len(ret)):
        v = max(om + 0.05 * e2 + 0.9 * v, 1e-12)
        e2 = (ret[t] - mu) ** 2
        exp.append(math.sqrt(v))
    got = ref.garch_volatility(c, min_periods=0, estimate_window=k)
    # No look-ahead: rows before the k-th return (row k) are missing.
    close(got, [NAN] * k + [e / 100 for e in exp[k:]], rel=1e-15)
    # fewer valid returns than k: nothing can be estimated, every row is missing;
    # k = 1 is the default behaviour
    assert np.isnan(ref.garch_volatility(c, min_periods=0, estimate_window=100)).all()
    same(
        ref.garch_volatility(c, min_periods=0, estimate_window=1),
        ref.garch_volatility(c, min_periods=0),
    )
    with pytest.raises(ValueError, match="estimate_window"):
        ref.garch_volatility(c, estimate_window=0)


def test_kalman_garch_zscore() -> None:
    c = [1.0, 1.01, 1.0, 1.02, None, 1.03, 1.01]
    got = ref.kalman_garch_zscore(c, min_periods=1)
    km = ref.kalman_mean(c)
    sig = ref.garch_volatility(c, min_periods=1)
    cs = np.array([NAN if v is None else v for v in c])
    expected = (cs - km) / (np.abs(cs) * sig)
    same(got[:4], [NAN, *expected[1:4]])
    assert np.isnan(got[4:]).all()  # kalman's permanent gap
    carried = ref.kalman_garch_zscore(c, min_periods=1, carry_gaps=True)
    assert np.isnan(carried[4]) and np.isfinite(carried[5:]).all()
    km2 = ref.kalman_mean(c, carry_gaps=True)
    same(carried[5:], (cs[5:] - km2[5:]) / (np.abs(cs[5:]) * sig[5:]))
    # zero close -> SP = 0 -> missing
    assert np.isnan(ref.kalman_garch_zscore([1.0, 1.01, 0.0], min_periods=0)[2])


def test_garch_local_equals_global_on_each_window() -> None:
    c = list(gappy_walk(160, seed=5))
    c[60] = None
    for lookback, mp in ((1, 0), (2, 0), (25, 5), (40, 50), (200, 10)):
        got = ref.garch_volatility_local(c, lookback, min_periods=mp)
        for i in range(len(c)):
            win = c[max(0, i - max(1, lookback) + 1) : i + 1]
            exp = ref.garch_volatility(win, min_periods=mp)[-1]
            same(got[i : i + 1], [exp])
    assert np.isnan(ref.garch_volatility_local(c, 1, min_periods=0)).all()
    g = ref.garch_volatility_local([1.0, 1.01, 1.02], 0, min_periods=0)  # max(1, 0)
    same(g, [NAN] * 3)
    same(ref.garch_volatility_local(c, 5, alpha=0.5, beta=0.5), [NAN] * len(c))


def test_garch_local_no_forward_fill_and_estimate_window() -> None:
    # simple returns inside a window are never padded: the return out of a gap is missing
    c = [1.0, 1.01, None, 1.03, 1.02, 1.05]
    got = ref.garch_volatility_local(c, 4, use_log_returns=False, min_periods=0)
    # window at row 5: closes [None, 1.03, 1.02, 1.05]: r = [-, -, r2, r3], f = 2
    r2 = 100.0 * (1.02 / 1.03 - 1)
    r3 = 100.0 * (1.05 / 1.02 - 1)
    v = 1e-6
    v = max(1e-6 * 0.05 + 0.05 * 0.0 + 0.9 * v, 1e-12)
    assert got[5] == math.sqrt(v) / 100
    k = 2
    ew = ref.garch_volatility_local(c, 4, use_log_returns=False, min_periods=0, estimate_window=k)
    lrv, mu = float(np.var([r2, r3])), float(np.mean([r2, r3]))
    e2 = (r2 - mu) ** 2
    v0 = max(lrv, e2, 1e-12)
    v1 = max(lrv * 0.05 + 0.05 * e2 + 0.9 * v0, 1e-12)
    close(ew[5:6], [math.sqrt(v1) / 100], rel=1e-15)


def test_kalman_garch_zscore_local_is_scalar_rule_per_row() -> None:
    c = list(gappy_walk(140, seed=9))
    lookback, mp = 30, 10
    for carry in (False, True):
        got = ref.kalman_garch_zscore_local(c, lookback, min_periods=mp, carry_gaps=carry)
        for i in range(len(c)):
            seg = c[max(0, i - lookback + 1) : i + 1]
            exp = NAN
            if len(seg) >= 2 and seg[-1] is not None and not math.isnan(seg[-1]):
                km = ref.kalman_mean(seg, carry_gaps=carry)[-1]
                sig = ref.garch_volatility(seg, min_periods=mp)[-1]
                if np.isfinite(km) and np.isfinite(sig):
                    exp = (seg[-1] - km) / (abs(seg[-1]) * sig)
            same(got[i : i + 1], [exp])
        assert np.isfinite(got).sum() >= 10
    same(ref.kalman_garch_zscore_local(c, 0), [NAN] * len(c))
    same(ref.kalman_garch_zscore_local(c, 1, min_periods=0), [NAN] * len(c))


def test_vol_cluster_dispatch(bars: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    h, lo, c = (v[:200] for v in bars)
    same(ref.vol_cluster(h, lo, c, " ATR_Points ", 5, 30), ref.atr(h, lo, c, 5))
    local = ref.garch_volatility_local(c, 30, min_periods=5, estimate_window=4)
    for feature in (None, "", "garch", "atr"):
        got = ref.vol_cluster(
            h, lo, c, feature, 5, 30, garch_min_periods=5, garch_estimate_window=4
        )
        same(got, local)


# --- §3 -------------------------------------------------------------------------


def test_rema_dema_tema() -> None:
    x = [None, INF, 2.0, None, 4.0]
    a = 2.0 / 4.0
    e1 = [NAN, NAN, 2.0, 2.0, a * 4.0 + (1 - a) * 2.0]
    same(ref.rema(x, 3), e1)
    e2 = [NAN, NAN, 2.0, 2.0, a * e1[4] + (1 - a) * 2.0]
    e3 = [NAN, NAN, 2.0, 2.0, a * e2[4] + (1 - a) * 2.0]
    same(ref.dema(x, 3), [NAN, NAN, 2.0, 2.0, 2.0 * e1[4] - e2[4]])
    same(ref.tema(x, 3), [NAN, NAN, 2.0, 2.0, 3.0 * e1[4] - 3.0 * e2[4] + e3[4]])
    with pytest.raises(ValueError, match="span"):
        ref.rema(x, 0)
    with pytest.raises(ValueError, match="empty"):
        ref.dema([], 3)


def test_momentum() -> None:
    same(ref.momentum([1.0, 2.0, None, 4.0, INF, 7.0], 2), [NAN, NAN, NAN, 2.0, NAN, 3.0])
    with pytest.raises(ValueError, match="period"):
        ref.momentum([1.0], 0)


def test_rolling_std_two_pass(walk: np.ndarray) -> None:
    same(ref.rolling_std([1.0, 2.0, 3.0, None, 5.0], 2), [NAN, 0.5**0.5, 0.5**0.5, NAN, NAN])
    same(ref.rolling_std([1.0, 2.0, 4.0], 3, ddof=0), [NAN, NAN, math.sqrt(14 / 9)])
    # the left-to-right mean of 20 x 1.3 is not 1.3: a residue remains (SPEC 3.4)
    assert ref.rolling_std([1.3] * 20, 20)[-1] > 0
    assert ref.rolling_std([1.5] * 20, 20)[-1] == 0
    got = ref.rolling_std(walk, 20)
    base = ref.roll_std(walk, 20)
    same(np.isnan(got), np.isnan(base))
    ok = ~np.isnan(base) & (base > 0)
    assert np.max(np.abs(got[ok] - base[ok]) / base[ok]) < 1e-6
    for bad in ((0, 1), (1, 1), (3, 3)):
        with pytest.raises(ValueError, match="period"):
            ref.rolling_std([1.0, 2.0, 3.0], *bad)
