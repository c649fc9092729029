"""Executable spec: plain-Python/NumPy implementations of SPEC primitives.

Written from /work/shared/SPEC-indicators.md, independently of the Rust
kernels, so parity tests compare two readings of the same text. Missing
outputs are NaN here; omega_pl emits null for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def alpha_from_span(span: float) -> float:
    """SPEC P1: com = (s - 1) / 2, a = 1 / (1 + com)."""
    com = (span - 1.0) / 2.0
    return 1.0 / (1.0 + com)


def ewm(values: Sequence[float | None] | FloatArray, a: float) -> FloatArray:
    """SPEC P1 ``EWM(a)`` row by row."""
    x = [math.nan if v is None else float(v) for v in values]
    out = np.full(len(x), math.nan)
    keep = 1.0 - a
    m = math.nan
    w = 1.0
    started = False
    for t, v in enumerate(x):
        present = math.isfinite(v)
        if not started:
            if present:
                m, w, started = v, 1.0, True
                out[t] = m
            continue
        w = w * keep
        if present:
            if v != m:
                m = (w * m + a * v) / (w + a)
            w = 1.0
        out[t] = m
    return out


def ema(values: Sequence[float | None] | FloatArray, period: int) -> FloatArray:
    """SPEC 2.1."""
    return ewm(values, alpha_from_span(period))


# ---------------------------------------------------------------------------
# Everything below extends the executable spec to every indicator of SPEC §2
# and §3 (plus the corrected options of SPEC §8.3). Conventions: inputs are
# sequences (None = missing) or float arrays; outputs are float64 arrays with
# NaN for "missing" and ±inf kept. Multi-output indicators return dicts.
# ---------------------------------------------------------------------------

Values = Sequence[float | None] | FloatArray
Keys = Sequence[Any] | npt.NDArray[Any]
MultiOutput = dict[str, FloatArray]


def _floats(values: Values) -> list[float]:
    """None -> NaN, everything else to Python float (±inf kept)."""
    return [math.nan if v is None else float(v) for v in values]


def _array(values: Values) -> FloatArray:
    return np.array(_floats(values), dtype=np.float64)


def _finite_or_nan(values: Values) -> list[float]:
    """SPEC P2 cleaning: ±inf count as missing."""
    return [v if math.isfinite(v) else math.nan for v in _floats(values)]


def _shift(x: FloatArray, k: int) -> FloatArray:
    """SPEC P5 ``SHIFT_k`` (k may be negative: looks forward)."""
    n = len(x)
    out = np.full(n, math.nan)
    if 0 <= k < n:
        out[k:] = x[: n - k]
    elif -n < k < 0:
        out[: n + k] = x[-k:]
    return out


def _div(num: float, den: float) -> float:
    """IEEE division on Python floats (no ZeroDivisionError)."""
    if den == 0.0:
        if num == 0.0 or math.isnan(num):
            return math.nan
        return math.copysign(math.inf, num) * math.copysign(1.0, den)
    return num / den


def _alpha_from_alpha(alpha: float) -> float:
    """SPEC P1 alpha form: com = (1 - alpha) / alpha, a = 1 / (1 + com)."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    com = (1.0 - alpha) / alpha
    return 1.0 / (1.0 + com)


def _checked_span_alpha(span: float) -> float:
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    return alpha_from_span(span)


def _wilder_alpha(period: int) -> float:
    """RSI/DMI: EWM(alpha = 1/period)."""
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    return _alpha_from_alpha(1.0 / period)


def _check_window(w: int) -> None:
    if w < 1:
        raise ValueError(f"window must be >= 1, got {w}")


# --- P2 / Appendix A.1: rolling sum and mean --------------------------------


def _roll_sum_mean(values: Values, w: int, *, mean: bool) -> FloatArray:
    _check_window(w)
    x = _finite_or_nan(values)
    n = len(x)
    out = np.full(n, math.nan)
    k = 0  # present values in the window
    q = 0  # present values with the sign bit set
    run = 0  # L: run of identical consecutive added values
    last = math.nan  # u: last added value
    total = c_add = c_rem = 0.0

    def add(v: float) -> None:
        nonlocal k, q, run, last, total, c_add
        if math.isnan(v):
            return
        k += 1
        y = v - c_add
        s = total + y
        c_add = (s - total) - y
        total = s
        if math.copysign(1.0, v) < 0:
            q += 1
        run = run + 1 if v == last else 1
        last = v

    def remove(v: float) -> None:
        nonlocal k, q, total, c_rem
        if math.isnan(v):
            return
        k -= 1
        y = -v - c_rem
        s = total + y
        c_rem = (s - total) - y
        total = s
        if math.copysign(1.0, v) < 0:
            q -= 1

    for t in range(n):
        if t == 0 or w == 1:
            lo = max(0, t - w + 1)
            k = q = run = 0
            total = c_add = c_rem = 0.0
            last = x[lo]
            for j in range(lo, t + 1):
                add(x[j])
        else:
            if t - w >= 0:
                remove(x[t - w])
            add(x[t])
        if k >= w:
            if mean:
                r = total / k
                if run >= k:
                    r = last
                elif (q == 0 and r < 0) or (q == k and r > 0):
                    r = 0.0  # sign rule: the sum's sign contradicts every value's sign
                out[t] = r
            else:
                out[t] = last * k if run >= k else total
    return out


def roll_sum(x: Values, w: int) -> FloatArray:
    """SPEC P2 ``ROLL_SUM`` via the streaming algorithm of Appendix A.1."""
    return _roll_sum_mean(x, w, mean=False)


def roll_mean(x: Values, w: int) -> FloatArray:
    """SPEC P2 ``ROLL_MEAN`` via the streaming algorithm of Appendix A.1."""
    return _roll_sum_mean(x, w, mean=True)


# --- P2 / Appendix A.2: rolling variance (pandas 2.x) -----------------------


def roll_var(x: Values, w: int, ddof: int = 1) -> FloatArray:
    """SPEC P2 rolling variance, Appendix A.2 (pandas 2.x streaming Welford/Kahan)."""
    _check_window(w)
    xs = _finite_or_nan(x)
    n = len(xs)
    out = np.full(n, math.nan)
    k = 0
    run = 0
    last = math.nan
    mu = m2 = c_add = c_rem = 0.0

    def add(v: float) -> None:
        nonlocal k, run, last, mu, m2, c_add
        if math.isnan(v):
            return
        k += 1
        run = run + 1 if v == last else 1
        last = v
        mu0 = mu - c_add
        y = v - c_add
        d = y - mu
        c_add = (d + mu) - y
        mu = mu + d / k
        m2 = m2 + (v - mu0) * (v - mu)

    def remove(v: float) -> None:
        nonlocal k, mu, m2, c_rem
        if math.isnan(v):
            return
        k -= 1
        if k > 0:
            mu0 = mu - c_rem
            y = v - c_rem
            d = y - mu
            c_rem = (d + mu) - y
            mu = mu - d / k
            m2 = m2 - (v - mu0) * (v - mu)
        else:
            mu = 0.0
            m2 = 0.0

    for t in range(n):
        if t == 0 or w == 1:
            lo = max(0, t - w + 1)
            k = run = 0
            mu = m2 = c_add = c_rem = 0.0
            last = xs[lo]
            for j in range(lo, t + 1):
                add(xs[j])
        else:
            if t - w >= 0:
                remove(xs[t - w])
            add(xs[t])
        if k >= max(w, 1) and k > ddof:
            out[t] = 0.0 if (k == 1 or run >= k) else m2 / (k - ddof)
    return out


def _sqrt0(var: FloatArray) -> FloatArray:
    """std = sqrt(variance); a negative variance gives 0 (NaN stays NaN)."""
    with np.errstate(invalid="ignore"):
        out = np.sqrt(np.where(var < 0, 0.0, var))
    return np.asarray(out, dtype=np.float64)


def roll_std(x: Values, w: int, ddof: int = 1) -> FloatArray:
    """SPEC P2 ``ROLL_STD`` = sqrt of Appendix A.2's variance."""
    return _sqrt0(roll_var(x, w, ddof))


def _exact_roll_std(x: Values, w: int, ddof: int = 1) -> FloatArray:
    """SPEC §8.3 item 8 (omega_pl ``exact_std``): exact two-pass std via math.fsum."""
    _check_window(w)
    xs = _finite_or_nan(x)
    n = len(xs)
    out = np.full(n, math.nan)
    if w - ddof <= 0:
        return out
    for t in range(w - 1, n):
        win = xs[t - w + 1 : t + 1]
        if any(math.isnan(v) for v in win):
            continue
        mean = math.fsum(win) / w
        var = math.fsum((v - mean) * (v - mean) for v in win) / (w - ddof)
        out[t] = math.sqrt(var)
    return out


def _std(x: Values, w: int, exact: bool) -> FloatArray:
    return _exact_roll_std(x, w) if exact else roll_std(x, w)


def _roll_extreme(values: Values, w: int, *, high: bool) -> FloatArray:
    _check_window(w)
    xs = _finite_or_nan(values)
    n = len(xs)
    out = np.full(n, math.nan)
    for t in range(w - 1, n):
        win = xs[t - w + 1 : t + 1]
        if any(math.isnan(v) for v in win):
            continue
        out[t] = max(win) if high else min(win)
    return out


def roll_max(x: Values, w: int) -> FloatArray:
    """SPEC P2 ``ROLL_MAX``: exact maximum of w present values."""
    return _roll_extreme(x, w, high=True)


def roll_min(x: Values, w: int) -> FloatArray:
    """SPEC P2 ``ROLL_MIN``: exact minimum of w present values."""
    return _roll_extreme(x, w, high=False)


# --- P3: true range ---------------------------------------------------------


def true_range(h: Values, l: Values, c: Values) -> FloatArray:  # noqa: E741
    """SPEC P3: max of |H-L|, |H-C_prev|, |L-C_prev|, missing terms skipped."""
    hs, ls, cs = _floats(h), _floats(l), _floats(c)
    n = len(hs)
    if len(ls) != n or len(cs) != n:
        raise ValueError("h, l, c must have the same length")
    out = np.full(n, math.nan)
    for t in range(n):
        terms = [abs(hs[t] - ls[t])]
        if t > 0:
            terms += [abs(hs[t] - cs[t - 1]), abs(ls[t] - cs[t - 1])]
        present = [v for v in terms if not math.isnan(v)]
        if present:
            out[t] = max(present)
    return out


# --- P4: stepwise evaluation over HTF bars ----------------------------------


def _key_missing(k: Any) -> bool:
    if k is None:
        return True
    if isinstance(k, float | np.floating):
        return math.isnan(k)
    if isinstance(k, np.datetime64):
        return bool(np.isnat(k))
    return False


def _new_bar_rows(bar: Keys) -> list[int]:
    """SPEC P4 step 1 (a bar re-appearing after missing-key rows is not new)."""
    rows: list[int] = []
    seen = False
    last: Any = None
    for t, key in enumerate(bar):
        if _key_missing(key):
            continue
        if not seen or key != last:
            rows.append(t)
        seen = True
        last = key
    return rows


def _scatter_ffill(n: int, rows: list[int], vals: FloatArray) -> FloatArray:
    """SPEC P4 steps 4-5: scatter, then forward-fill NaN (never over ±inf)."""
    out = np.full(n, math.nan)
    out[rows] = vals
    carry = math.nan
    for t in range(n):
        if math.isnan(out[t]):
            out[t] = carry
        else:
            carry = float(out[t])
    return out


@overload
def step(x: Values, bar: Keys, f: Callable[[FloatArray], FloatArray]) -> FloatArray: ...


@overload
def step(x: Values, bar: Keys, f: Callable[[FloatArray], MultiOutput]) -> MultiOutput: ...


def step(
    x: Values, bar: Keys, f: Callable[[FloatArray], FloatArray | MultiOutput]
) -> FloatArray | MultiOutput:
    """SPEC P4 ``STEP(f)``: evaluate ``f`` once per new HTF bar, scatter, forward-fill."""
    xs = _array(x)
    n = len(xs)
    if len(bar) != n:
        raise ValueError("x and bar must have the same length")
    rows = _new_bar_rows(bar)
    reduced = f(xs[rows])
    if isinstance(reduced, dict):
        return {
            name: _scatter_ffill(n, rows, np.asarray(v, dtype=np.float64))
            for name, v in reduced.items()
        }
    return _scatter_ffill(n, rows, np.asarray(reduced, dtype=np.float64))


# --- Appendix A.4: NumPy pairwise summation ---------------------------------


def _pairwise(x: list[float], lo: int, n: int) -> float:
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += x[i]
        return res
    if n <= 128:
        r = x[lo : lo + 8]
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += x[lo + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for j in range(i, n):
            res += x[lo + j]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(x, lo, n2) + _pairwise(x, lo + n2, n - n2)


def pairwise_sum(x: Values) -> float:
    """SPEC A.4: NumPy's pairwise sum (as ``np.add.reduce``: identity 0.0 + pairwise)."""
    xs = _floats(x)
    return 0.0 + _pairwise(xs, 0, len(xs))


# --- §2 indicators -----------------------------------------------------------


def ema_stepwise(x: Values, bar: Keys, period: int) -> FloatArray:
    """SPEC 2.2: STEP(EMA(period))."""
    return step(x, bar, lambda s: ema(s, period))


def sma(x: Values, period: int) -> FloatArray:
    """SPEC 2.3: ROLL_MEAN(C, period)."""
    return roll_mean(x, period)


def rsi(x: Values, period: int = 14) -> FloatArray:
    """SPEC 2.4: Wilder-alpha EWM of gains/losses, no SMA seed."""
    a = _wilder_alpha(period)
    c = _array(x)
    d = c - _shift(c, 1)
    neg = -d
    gain = np.where(d < 0, 0.0, d)  # NaN and -0.0 pass through unchanged
    loss = np.where(neg < 0, 0.0, neg)
    ag = ewm(gain, a)
    al = ewm(loss, a)
    with np.errstate(all="ignore"):
        return np.asarray(100.0 - 100.0 / (1.0 + ag / al), dtype=np.float64)


def macd(x: Values, fast: int = 12, slow: int = 26, signal: int = 9) -> MultiOutput:
    """SPEC 2.5 (+ omega_pl histogram = macd - signal)."""
    line = ewm(x, _checked_span_alpha(fast)) - ewm(x, _checked_span_alpha(slow))
    sig = ewm(line, _checked_span_alpha(signal))
    return {"macd": line, "signal": sig, "histogram": line - sig}


def roc(x: Values, period: int = 14) -> FloatArray:
    """SPEC 2.6: ((C_t - C_{t-p}) / C_{t-p}) * 100; a negative period looks forward."""
    c = _array(x)
    prev = _shift(c, period)
    with np.errstate(all="ignore"):
        return np.asarray(((c - prev) / prev) * 100.0, dtype=np.float64)


def dmi(h: Values, l: Values, c: Values, period: int = 14) -> MultiOutput:  # noqa: E741
    """SPEC 2.7: +DI, -DI, ADX with EWM(alpha = 1/period) everywhere."""
    a = _wilder_alpha(period)
    hs, ls = _array(h), _array(l)
    up = hs - _shift(hs, 1)
    dn = _shift(ls, 1) - ls
    plus_dm = np.where((up > dn) & (up > 0), up, 0.0)  # NaN comparisons are False
    minus_dm = np.where((dn > up) & (dn > 0), dn, 0.0)
    atrd = ewm(true_range(h, l, c), a)
    with np.errstate(all="ignore"):
        plus_di = 100.0 * ewm(plus_dm, a) / atrd
        minus_di = 100.0 * ewm(minus_dm, a) / atrd
        dx = np.abs(plus_di - minus_di) / (plus_di + minus_di) * 100.0
    return {"plus_di": plus_di, "minus_di": minus_di, "adx": ewm(dx, a)}


def bollinger(
    x: Values, period: int = 20, std_factor: float = 2.0, *, exact_std: bool = False
) -> MultiOutput:
    """SPEC 2.8: MID +- (k * SD)."""
    mid = roll_mean(x, period)
    sd = _std(x, period, exact_std)
    band = std_factor * sd
    return {"upper": mid + band, "middle": mid, "lower": mid - band}


def bollinger_stepwise(
    x: Values, bar: Keys, period: int = 20, std_factor: float = 2.0, *, exact_std: bool = False
) -> MultiOutput:
    """SPEC 2.9: STEP(bollinger) on all three outputs."""
    return step(x, bar, lambda s: bollinger(s, period, std_factor, exact_std=exact_std))


def atr(
    h: Values,
    l: Values,  # noqa: E741
    c: Values,
    period: int = 14,
    *,
    reseed: bool = False,
) -> FloatArray:
    """SPEC 2.10: Wilder ATR with a pairwise-mean seed; ``reseed`` = SPEC §8.3 item 3."""
    tr = [float(v) for v in true_range(h, l, c)]
    n = len(tr)
    out = np.full(n, math.nan)
    if period <= 0:
        return out
    present = [not math.isnan(v) for v in tr]
    f = next((t for t in range(n) if present[t]), 0)
    start = -1
    if reseed:
        run = 0
        for t in range(f, n):
            run = run + 1 if present[t] else 0
            if run == period:
                start = t - period + 1
                break
    elif f + period <= n and all(present[f : f + period]):
        start = f
    if start < 0:
        return out
    value = pairwise_sum(tr[start : start + period]) / period
    out[start + period - 1] = value
    for t in range(start + period, n):
        if present[t]:
            value = (value * (period - 1) + tr[t]) / period
        out[t] = value
    return out


def choppiness(h: Values, l: Values, c: Values, period: int = 14) -> FloatArray:  # noqa: E741
    """SPEC 2.11: (100 * log10(S / RNG)) / log10(p)."""
    s = roll_sum(true_range(h, l, c), period)
    rng = roll_max(h, period) - roll_min(l, period)
    rng = np.where(rng == 0, math.nan, rng)
    with np.errstate(all="ignore"):
        out = (100.0 * np.log10(s / rng)) / np.log10(np.float64(period))
    return np.asarray(out, dtype=np.float64)


def kalman_mean(
    x: Values, r: float = 0.01, q: float = 1.0, *, carry_gaps: bool = False
) -> FloatArray:
    """SPEC 2.12 (only NaN/None is missing); ``carry_gaps`` = SPEC §8.3 item 1."""
    cs = _floats(x)
    n = len(cs)
    out = np.full(n, math.nan)
    f = next((t for t in range(n) if not math.isnan(cs[t])), -1)
    if f < 0:
        return out
    est, p = cs[f], r
    out[f] = est
    for k in range(f + 1, n):
        ck = cs[k]
        if carry_gaps:
            prior = p + q
            if math.isnan(ck):
                p = prior
            else:
                gain = _div(prior, prior + r)
                est = est + gain * (ck - est)
                p = (1.0 - gain) * prior
        else:
            prior = (p if not math.isnan(p) else r) + q
            if math.isnan(ck):
                est, p = math.nan, math.nan
            else:
                gain = _div(prior, prior + r)
                est = est + gain * (ck - est)
                p = (1.0 - gain) * prior
        out[k] = est
    return out


def _z_from(num: FloatArray, sd: FloatArray) -> FloatArray:
    """num / sd, missing wherever sd is missing (0/0 -> missing, x/0 -> ±inf)."""
    with np.errstate(all="ignore"):
        z = num / sd
    return np.where(np.isnan(sd), math.nan, z)


def kalman_zscore(
    x: Values,
    window: int = 100,
    r: float = 0.01,
    q: float = 1.0,
    *,
    carry_gaps: bool = False,
    exact_std: bool = False,
) -> FloatArray:
    """SPEC 2.13: RES = C - kalman_mean; Z = RES / ROLL_STD(RES, window)."""
    c = _array(x)
    with np.errstate(invalid="ignore"):
        res = c - kalman_mean(c, r, q, carry_gaps=carry_gaps)
    return _z_from(res, _std(res, window, exact_std))


def kalman_zscore_stepwise(
    x: Values,
    bar: Keys,
    window: int = 100,
    r: float = 0.01,
    q: float = 1.0,
    *,
    exact_std: bool = False,
) -> FloatArray:
    """SPEC 2.14: STEP(kalman_zscore)."""
    return step(x, bar, lambda s: kalman_zscore(s, window, r, q, exact_std=exact_std))


def zscore(
    x: Values,
    window: int = 100,
    mean_source: str = "rolling",
    ema_period: int | None = None,
    *,
    exact_std: bool = False,
) -> FloatArray:
    """SPEC 2.15: DEV = C - M; Z = DEV / ROLL_STD(DEV, window)."""
    c = _array(x)
    if mean_source == "rolling":
        m = roll_mean(c, window)
    elif mean_source == "ema":
        if ema_period is None:
            raise ValueError("mean_source='ema' requires ema_period")
        m = ema(c, ema_period)
    else:
        raise ValueError(f"unknown mean_source {mean_source!r}")
    with np.errstate(invalid="ignore"):
        dev = c - m
    return _z_from(dev, _std(dev, window, exact_std))


# --- GARCH (2.16-2.20) -------------------------------------------------------


def _returns(c: FloatArray, use_log_returns: bool, scale: float) -> FloatArray:
    """r_t = scale * ln(C_t / C_{t-1}) or scale * ((C_t / C_{t-1}) - 1); r_0 missing."""
    prev = _shift(c, 1)
    with np.errstate(all="ignore"):
        ratio = c / prev
        core = np.log(ratio) if use_log_returns else ratio - 1.0
        return np.asarray(scale * core, dtype=np.float64)


def _ffill(c: FloatArray) -> FloatArray:
    """Forward-fill NaN only (pandas ``ffill``)."""
    out = c.copy()
    for t in range(1, len(out)):
        if math.isnan(out[t]):
            out[t] = out[t - 1]
    return out


def _check_estimate_window(k: int | None) -> None:
    if k is not None and k < 1:
        raise ValueError(f"estimate_window must be None or >= 1 (2+ to estimate), got {k}")


def _garch_path(
    r: list[float],
    *,
    alpha: float,
    beta: float,
    omega: float | None,
    sigma_floor: float,
    lrv_back: int,
    mu_back: int,
    estimate_window: int | None,
    finite_f: bool,
) -> tuple[int, list[float]]:
    """SPEC 2.16 recursion on a return vector: (f, V) with V NaN before f; f = -1 if none.

    ``finite_f``: f is the first *finite* return (2.18/2.20) instead of the first
    non-NaN one (2.16); it also defines which returns are "valid" for
    ``estimate_window``.
    """
    n = len(r)

    def valid(v: float) -> bool:
        return math.isfinite(v) if finite_f else not math.isnan(v)

    f = next((t for t in range(n) if valid(r[t])), -1)
    if f < 0:
        return -1, []
    if estimate_window is None:
        lrv_vals = [v for v in r[max(0, f - lrv_back) : f + 1] if not math.isnan(v)]
        mu_vals = [v for v in r[max(0, f - mu_back) : f + 1] if not math.isnan(v)]
    else:
        lrv_vals = [v for v in r[f:] if valid(v)][:estimate_window]
        mu_vals = lrv_vals
    with np.errstate(all="ignore"):
        lrv = float(np.var(np.array(lrv_vals, dtype=np.float64)))
        mu = float(np.mean(np.array(mu_vals, dtype=np.float64)))
    if not (math.isfinite(lrv) and lrv > 0):
        lrv = 1e-6
    om = omega if omega is not None else lrv * max(1e-6, 1.0 - alpha - beta)
    om = max(om, 0.0)
    floor2 = sigma_floor * sigma_floor
    d = r[f] - mu
    e2 = d * d
    v = max(lrv, e2, floor2)
    out = [math.nan] * n
    out[f] = v
    for t in range(f + 1, n):
        rt = r[t]
        if not math.isfinite(rt):
            out[t] = out[t - 1]
            continue
        vt = max(om + alpha * e2 + beta * v, floor2)
        d = rt - mu
        e2 = d * d
        v = vt
        out[t] = vt
    return f, out


def garch_volatility(
    x: Values,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    estimate_window: int | None = None,
) -> FloatArray:
    """SPEC 2.16 (+ ``estimate_window``, SPEC §8.3 item 2)."""
    _check_estimate_window(estimate_window)
    c = _array(x)
    n = len(c)
    out = np.full(n, math.nan)
    if alpha + beta >= 1 or n == 0:
        return out
    base = c if use_log_returns else _ffill(c)  # pandas 2.x pct_change pads first (§7.3)
    r = [float(v) for v in _returns(base, use_log_returns, scale)]
    f, var = _garch_path(
        r,
        alpha=alpha,
        beta=beta,
        omega=omega,
        sigma_floor=sigma_floor,
        lrv_back=1000,
        mu_back=2000,
        estimate_window=estimate_window,
        finite_f=False,
    )
    if f < 0:
        return out
    begin = f + max(0, min_periods)
    if estimate_window is not None:
        # No look-ahead: nothing is emitted before the estimation window is complete.
        valid = [t for t in range(f, n) if not math.isnan(r[t])]
        if len(valid) < estimate_window:
            return out
        begin = max(begin, valid[estimate_window - 1])
    if begin < n:
        with np.errstate(invalid="ignore"):
            out[begin:] = np.sqrt(np.array(var[begin:])) / scale
    return out


def kalman_garch_zscore(
    x: Values,
    r: float = 0.01,
    q: float = 1.0,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    carry_gaps: bool = False,
    estimate_window: int | None = None,
) -> FloatArray:
    """SPEC 2.17: Z = (C - KM) / (|C| * sigma), SP = 0 -> missing."""
    c = _array(x)
    km = kalman_mean(c, r, q, carry_gaps=carry_gaps)
    sigma = garch_volatility(
        c,
        alpha,
        beta,
        omega,
        use_log_returns,
        scale,
        min_periods,
        sigma_floor,
        estimate_window=estimate_window,
    )
    with np.errstate(all="ignore"):
        sp = np.abs(c) * sigma
        sp = np.where(sp == 0, math.nan, sp)
        z = (c - km) / sp
    return np.where(np.isnan(sp) | np.isnan(km), math.nan, z)


def garch_volatility_local(
    x: Values,
    lookback: int = 400,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    estimate_window: int | None = None,
) -> FloatArray:
    """SPEC 2.18 per row: sigma at the last position of GARCH run on rows i-L+1 .. i."""
    _check_estimate_window(estimate_window)
    c = _array(x)
    n = len(c)
    out = np.full(n, math.nan)
    if alpha + beta >= 1 or n == 0:
        return out
    width = max(1, lookback)
    # A window's r_j (j >= 1) only involves closes j-1 and j of that window, so it is
    # the unfilled global return of the same row; r_0 of every window is missing.
    r_all = [float(v) for v in _returns(c, use_log_returns, scale)]
    for i in range(n):
        lo = max(0, i - width + 1)
        r = [math.nan, *r_all[lo + 1 : i + 1]]
        m = len(r)
        f, var = _garch_path(
            r,
            alpha=alpha,
            beta=beta,
            omega=omega,
            sigma_floor=sigma_floor,
            lrv_back=1000,
            mu_back=2000,
            estimate_window=estimate_window,
            finite_f=True,
        )
        if f >= 0 and m - 1 >= f + max(0, min_periods):
            out[i] = np.sqrt(np.float64(var[m - 1])) / scale
    return out


def vol_cluster(
    h: Values,
    l: Values,  # noqa: E741
    c: Values,
    feature: str | None,
    atr_length: int,
    garch_lookback: int,
    garch_alpha: float = 0.05,
    garch_beta: float = 0.90,
    garch_omega: float | None = None,
    garch_use_log_returns: bool = True,
    garch_scale: float = 100.0,
    garch_min_periods: int = 50,
    garch_sigma_floor: float = 1e-6,
    *,
    garch_estimate_window: int | None = None,
) -> FloatArray:
    """SPEC 2.19 (per-row form): "atr_points" -> atr, anything else -> garch_volatility_local."""
    if (feature or "").strip().lower() == "atr_points":
        return atr(h, l, c, atr_length)
    return garch_volatility_local(
        c,
        garch_lookback,
        garch_alpha,
        garch_beta,
        garch_omega,
        garch_use_log_returns,
        garch_scale,
        garch_min_periods,
        garch_sigma_floor,
        estimate_window=garch_estimate_window,
    )


def kalman_garch_zscore_local(
    x: Values,
    lookback: int = 400,
    r: float = 0.01,
    q: float = 1.0,
    alpha: float = 0.05,
    beta: float = 0.90,
    omega: float | None = None,
    use_log_returns: bool = True,
    scale: float = 100.0,
    min_periods: int = 50,
    sigma_floor: float = 1e-6,
    *,
    carry_gaps: bool = False,
    estimate_window: int | None = None,
) -> FloatArray:
    """SPEC 2.20 per row: the reference's scalar result for idx = i (None -> missing)."""
    _check_estimate_window(estimate_window)
    c = _array(x)
    cs = [float(v) for v in c]
    n = len(c)
    out = np.full(n, math.nan)
    if alpha + beta >= 1 or n == 0:
        return out
    r_all = [float(v) for v in _returns(c, use_log_returns, scale)]
    for i in range(n):
        lo = max(0, i - lookback + 1)
        m = i + 1 - lo
        if m < 2:
            continue
        km_last = float(kalman_mean(cs[lo : i + 1], r, q, carry_gaps=carry_gaps)[-1])
        if math.isnan(km_last):
            continue
        res = cs[i] - km_last
        rets = [math.nan, *r_all[lo + 1 : i + 1]]
        f, var = _garch_path(
            rets,
            alpha=alpha,
            beta=beta,
            omega=omega,
            sigma_floor=sigma_floor,
            lrv_back=1000,
            mu_back=1000,
            estimate_window=estimate_window,
            finite_f=True,
        )
        if f < 0 or (m - 1) - f < min_periods:
            continue
        sigma = float(np.sqrt(np.float64(var[m - 1]))) / scale
        if not math.isfinite(sigma) or sigma <= 0:
            continue
        sp = abs(cs[i]) * sigma
        if not math.isfinite(sp) or sp == 0:
            continue
        z = res / sp
        if math.isfinite(z):
            out[i] = z
    return out


# --- §3 Rust-only indicators ----------------------------------------------------


def rema(x: Values, span: int) -> FloatArray:
    """SPEC 3.0: the port's EMA (a = 2/(span+1), start at first finite, NaN carries)."""
    xs = _floats(x)
    if span <= 0:
        raise ValueError(f"span must be >= 1, got {span}")
    if not xs:
        raise ValueError("empty input")
    a = 2.0 / (span + 1.0)
    keep = 1.0 - a
    out = np.full(len(xs), math.nan)
    e = math.nan
    started = False
    for t, v in enumerate(xs):
        if not started:
            if math.isfinite(v):
                e, started = v, True
                out[t] = e
            continue
        if not math.isnan(v):
            e = a * v + keep * e
        out[t] = e
    return out


def dema(x: Values, span: int) -> FloatArray:
    """SPEC 3.1: 2*E1 - E2 where both are finite."""
    e1 = rema(x, span)
    e2 = rema(e1, span)
    with np.errstate(invalid="ignore"):
        out = 2.0 * e1 - e2
    return np.where(np.isfinite(e1) & np.isfinite(e2), out, math.nan)


def tema(x: Values, span: int) -> FloatArray:
    """SPEC 3.2: (3*E1 - 3*E2) + E3 where all three are finite."""
    e1 = rema(x, span)
    e2 = rema(e1, span)
    e3 = rema(e2, span)
    with np.errstate(invalid="ignore"):
        out = 3.0 * e1 - 3.0 * e2 + e3
    ok = np.isfinite(e1) & np.isfinite(e2) & np.isfinite(e3)
    return np.where(ok, out, math.nan)


def momentum(x: Values, period: int) -> FloatArray:
    """SPEC 3.3: C_t - C_{t-period} when both are finite."""
    xs = _floats(x)
    if period <= 0:
        raise ValueError(f"period must be >= 1, got {period}")
    if not xs:
        raise ValueError("empty input")
    out = np.full(len(xs), math.nan)
    for t in range(period, len(xs)):
        a, b = xs[t], xs[t - period]
        if math.isfinite(a) and math.isfinite(b):
            out[t] = a - b
    return out


def rolling_std(x: Values, period: int, ddof: int = 1) -> FloatArray:
    """SPEC 3.4: plain two-pass left-to-right std (NaN in the window -> missing)."""
    xs = _floats(x)
    if period <= 0 or period <= ddof:
        raise ValueError(f"need period >= 1 and period > ddof, got {period}, {ddof}")
    if not xs:
        raise ValueError("empty input")
    out = np.full(len(xs), math.nan)
    for t in range(period - 1, len(xs)):
        win = xs[t - period + 1 : t + 1]
        if any(math.isnan(v) for v in win):
            continue
        total = 0.0
        for v in win:
            total += v
        mean = total / period
        acc = 0.0
        for v in win:
            d = v - mean
            acc += d * d
        out[t] = math.sqrt(acc / (period - ddof))
    return out
