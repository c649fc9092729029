//! Indicator expressions (reference semantics, SPEC §2–§3 and the corrected
//! options of §8.3). Each wrapper validates its keyword arguments, hands
//! slices to a kernel and builds a Float64 or Struct column named after the
//! first input. OHLC indicators take their inputs as `[close, high, low]`.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use super::shared::{
    bad, band_type, clh, dmi_type, finite, float_type, input, macd_type, ohlc, three, unary,
    unary_appending, MacdKwargs, PeriodKwargs,
};
use super::{bar_keys, f64_output, struct_output, with_f64_array, with_f64_input};
use crate::kernels::buffer::{nan_filled, zeroed};
use crate::kernels::missing::Missing;
use crate::kernels::{ewm, filters, momentum, rolling, segmented, stepwise, volatility};
use filters::Garch;
use volatility::{StdKind, ZMean};

// --- parameter validation --------------------------------------------------

/// Positive integer parameter, or an error naming it.
pub(crate) fn positive(name: &str, value: i64) -> PolarsResult<usize> {
    if value <= 0 {
        return Err(bad(name, "a positive integer", value));
    }
    usize::try_from(value).map_err(|_| bad(name, "a positive integer that fits in memory", value))
}

fn non_negative(name: &str, value: f64) -> PolarsResult<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(bad(name, "a finite number >= 0", value))
    }
}

fn std_kind(exact: bool) -> StdKind {
    if exact {
        StdKind::Exact
    } else {
        StdKind::Streaming
    }
}

fn param_err(name: &str) -> impl Fn(ewm::ParamError) -> PolarsError + '_ {
    move |e| polars_err!(InvalidOperation: "omega: parameter '{name}': {e}")
}

// --- simple indicators -------------------------------------------------------

/// `ema(period)`: SPEC 2.1, `EWM(span = period)` with gap re-weighting.
#[polars_expr(output_type_func=float_type)]
fn ema(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let a = ewm::alpha_from_span(period as f64).map_err(param_err("period"))?;
    unary(inputs, |x, out| ewm::ewm_mean(x, a, out))
}

/// `sma(period)`: SPEC 2.3, summed in independent segments (within a few
/// ulp of pandas, see `segmented`).
#[polars_expr(output_type_func=float_type)]
fn sma(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    unary_appending(inputs, |x, out| segmented::roll_mean(x, period, out))
}

/// `sma(period)` as pandas computes it, bit for bit (one streaming
/// compensated total, Appendix A.1): the engine's `IndicatorCache.sma`.
#[polars_expr(output_type_func=float_type)]
fn sma_streaming(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    unary(inputs, |x, out| rolling::roll_mean(x, period, out))
}

/// `rsi(period)`: SPEC 2.4.
#[polars_expr(output_type_func=float_type)]
fn rsi(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let mut res = Ok(());
    let s = unary(inputs, |x, out| {
        momentum::rsi(x, period, out).unwrap_or_else(|e| {
            res = Err(e);
            Missing::unknown()
        })
    })?;
    res.map_err(param_err("period"))?;
    Ok(s)
}

/// `roc(period)`: SPEC 2.6.
#[polars_expr(output_type_func=float_type)]
fn roc(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    unary_appending(inputs, |x, out| momentum::roc(x, period, out))
}

/// `momentum(period)`: SPEC 3.3.
#[polars_expr(output_type_func=float_type)]
fn momentum_expr(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    unary_appending(inputs, |x, out| momentum::momentum(x, period, out))
}

/// `dema(period)`: SPEC 3.1.
#[polars_expr(output_type_func=float_type)]
fn dema(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    unary_appending(inputs, |x, out| momentum::dema(x, period, out))
}

/// `tema(period)`: SPEC 3.2.
#[polars_expr(output_type_func=float_type)]
fn tema(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    unary_appending(inputs, |x, out| momentum::tema(x, period, out))
}

#[derive(Deserialize)]
struct RollingStdKwargs {
    period: i64,
    ddof: i64,
}

/// `rolling_std(period, ddof)`: SPEC 3.4 plain two-pass std.
#[polars_expr(output_type_func=float_type)]
fn rolling_std(inputs: &[Series], kwargs: RollingStdKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    if kwargs.ddof < 0 {
        return Err(bad("ddof", "an integer >= 0", kwargs.ddof));
    }
    let ddof = kwargs.ddof as usize;
    if period <= ddof {
        return Err(bad(
            "period",
            &format!("greater than ddof ({ddof})"),
            period,
        ));
    }
    unary(inputs, |x, out| {
        rolling::rolling_std_two_pass(x, period, ddof, out)
    })
}

/// `macd(fast, slow, signal)`: SPEC 2.5, Struct{macd, signal, histogram}.
#[polars_expr(output_type_func=macd_type)]
fn macd(inputs: &[Series], kwargs: MacdKwargs) -> PolarsResult<Series> {
    let fast = positive("fast", kwargs.fast)?;
    let slow = positive("slow", kwargs.slow)?;
    let signal = positive("signal", kwargs.signal)?;
    let ((m, s, h), [mm, ms, mh]) = with_f64_input(input(inputs, 0)?, |x| {
        let (mut m, mut s, mut h) = (Vec::new(), Vec::new(), Vec::new());
        momentum::macd(x, fast, slow, signal, (&mut m, &mut s, &mut h))
            .map(|missing| ((m, s, h), missing))
    })?
    .map_err(param_err("fast/slow/signal"))?;
    struct_output(
        input(inputs, 0)?.name().clone(),
        vec![("macd", m, mm), ("signal", s, ms), ("histogram", h, mh)],
    )
}

#[derive(Deserialize)]
struct BollingerKwargs {
    period: i64,
    std_factor: f64,
    exact_std: bool,
}

fn bollinger_parts(
    x: &[f64],
    period: usize,
    k: f64,
    std: StdKind,
) -> (Vec<Vec<f64>>, [Missing; 3]) {
    let (mut u, mut m, mut l) = (Vec::new(), Vec::new(), Vec::new());
    let missing = volatility::bollinger(x, period, k, std, (&mut u, &mut m, &mut l));
    (vec![u, m, l], missing)
}

fn band_output(
    name: PlSmallStr,
    mut parts: Vec<Vec<f64>>,
    missing: [Missing; 3],
) -> PolarsResult<Series> {
    let lower = parts.pop().unwrap_or_default();
    let middle = parts.pop().unwrap_or_default();
    let upper = parts.pop().unwrap_or_default();
    let [mu, mm, ml] = missing;
    struct_output(
        name,
        vec![
            ("upper", upper, mu),
            ("middle", middle, mm),
            ("lower", lower, ml),
        ],
    )
}

/// `bollinger(period, std_factor)`: SPEC 2.8, Struct{upper, middle, lower}.
#[polars_expr(output_type_func=band_type)]
fn bollinger(inputs: &[Series], kwargs: BollingerKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let k = finite("std_factor", kwargs.std_factor)?;
    let std = std_kind(kwargs.exact_std);
    let (parts, missing) =
        with_f64_input(input(inputs, 0)?, |x| bollinger_parts(x, period, k, std))?;
    band_output(input(inputs, 0)?.name().clone(), parts, missing)
}

#[derive(Deserialize)]
struct ZscoreKwargs {
    window: i64,
    mean_source: String,
    ema_period: Option<i64>,
    exact_std: bool,
}

/// `zscore(window, mean_source, ema_period)`: SPEC 2.15.
#[polars_expr(output_type_func=float_type)]
fn zscore(inputs: &[Series], kwargs: ZscoreKwargs) -> PolarsResult<Series> {
    let window = positive("window", kwargs.window)?;
    let mean = match (kwargs.mean_source.as_str(), kwargs.ema_period) {
        ("rolling", _) => ZMean::Rolling,
        ("ema", Some(p)) => ZMean::Ema(positive("ema_period", p)?),
        ("ema", None) => return Err(bad("ema_period", "given when mean_source is 'ema'", "None")),
        (other, _) => {
            return Err(bad(
                "mean_source",
                "'rolling' or 'ema'",
                format!("'{other}'"),
            ))
        }
    };
    let std = std_kind(kwargs.exact_std);
    let mut res = Ok(());
    let s = unary(inputs, |x, out| {
        volatility::zscore(x, window, mean, std, out).unwrap_or_else(|e| {
            res = Err(e);
            Missing::unknown()
        })
    })?;
    res.map_err(param_err("ema_period"))?;
    Ok(s)
}

// --- OHLC indicators -----------------------------------------------------------

#[derive(Deserialize)]
struct AtrKwargs {
    period: i64,
    reseed: bool,
}

/// `atr(period)`: SPEC 2.10 (Wilder, SMA seed); inputs `[close, high, low]`.
#[polars_expr(output_type_func=float_type)]
fn atr(inputs: &[Series], kwargs: AtrKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    ohlc(inputs, |h, l, c, out| {
        volatility::atr(h, l, c, period, kwargs.reseed, out)
    })
}

/// `choppiness(period)`: SPEC 2.11; inputs `[close, high, low]`.
#[polars_expr(output_type_func=float_type)]
fn choppiness(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    ohlc(inputs, |h, l, c, out| {
        volatility::choppiness(h, l, c, period, out)
    })
}

/// `dmi(period)`: SPEC 2.7, Struct{plus_di, minus_di, adx}; inputs `[close, high, low]`.
#[polars_expr(output_type_func=dmi_type)]
fn dmi(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let ((p, m, a), [mp, mm, ma]) = with_f64_array(clh(inputs)?, |[c, h, l]| {
        let (mut p, mut m, mut a) = three(c.len());
        volatility::dmi(h, l, c, period, (&mut p, &mut m, &mut a))
            .map(|missing| ((p, m, a), missing))
    })?
    .map_err(param_err("period"))?;
    struct_output(
        input(inputs, 0)?.name().clone(),
        vec![("plus_di", p, mp), ("minus_di", m, mm), ("adx", a, ma)],
    )
}

// --- filters ---------------------------------------------------------------------

#[derive(Deserialize)]
struct GarchKwargs {
    alpha: f64,
    beta: f64,
    omega: Option<f64>,
    use_log_returns: bool,
    scale: f64,
    min_periods: i64,
    sigma_floor: f64,
    estimate_window: Option<i64>,
}

impl GarchKwargs {
    /// Validated parameters; `prefix` is `"garch_"` where the Python names carry it.
    fn params(&self, prefix: &str) -> PolarsResult<Garch> {
        let name = |n: &str| format!("{prefix}{n}");
        let alpha = non_negative(&name("alpha"), self.alpha)?;
        let beta = non_negative(&name("beta"), self.beta)?;
        let omega = self.omega.map(|o| finite(&name("omega"), o)).transpose()?;
        let scale = finite(&name("scale"), self.scale)?;
        if scale <= 0.0 {
            return Err(bad(&name("scale"), "> 0", scale));
        }
        let sigma_floor = non_negative(&name("sigma_floor"), self.sigma_floor)?;
        let estimate_window = match self.estimate_window {
            None => None,
            Some(k) if k >= 2 => Some(k as usize),
            Some(k) => return Err(bad(&name("estimate_window"), "an integer >= 2 or None", k)),
        };
        Ok(Garch {
            alpha,
            beta,
            omega,
            log_returns: self.use_log_returns,
            scale,
            min_periods: self.min_periods,
            sigma_floor,
            estimate_window,
        })
    }
}

/// The Kalman pair, the `kalman` table of every Kalman indicator's kwargs;
/// `carry_gaps` is absent (false) where the indicator has no such option.
#[derive(Deserialize)]
struct KalmanKwargs {
    r: f64,
    q: f64,
    #[serde(default)]
    carry_gaps: bool,
}

impl KalmanKwargs {
    fn params(&self) -> PolarsResult<(f64, f64)> {
        Ok((non_negative("r", self.r)?, non_negative("q", self.q)?))
    }
}

#[derive(Deserialize)]
struct KalmanOnlyKwargs {
    kalman: KalmanKwargs,
}

/// `kalman_mean(r, q)`: SPEC 2.12.
#[polars_expr(output_type_func=float_type)]
fn kalman_mean(inputs: &[Series], kwargs: KalmanOnlyKwargs) -> PolarsResult<Series> {
    let (r, q) = kwargs.kalman.params()?;
    unary(inputs, |x, out| {
        filters::kalman_mean(x, r, q, kwargs.kalman.carry_gaps, out)
    })
}

#[derive(Deserialize)]
struct KalmanZKwargs {
    window: i64,
    kalman: KalmanKwargs,
    exact_std: bool,
}

/// `kalman_zscore(window, r, q)`: SPEC 2.13.
#[polars_expr(output_type_func=float_type)]
fn kalman_zscore(inputs: &[Series], kwargs: KalmanZKwargs) -> PolarsResult<Series> {
    let window = positive("window", kwargs.window)?;
    let (r, q) = kwargs.kalman.params()?;
    let (carry, std) = (kwargs.kalman.carry_gaps, std_kind(kwargs.exact_std));
    unary(inputs, |x, out| {
        filters::kalman_zscore(x, window, r, q, carry, std, out)
    })
}

#[derive(Deserialize)]
struct GarchOnlyKwargs {
    garch: GarchKwargs,
}

/// `garch_volatility(...)`: SPEC 2.16.
#[polars_expr(output_type_func=float_type)]
fn garch_volatility(inputs: &[Series], kwargs: GarchOnlyKwargs) -> PolarsResult<Series> {
    let g = kwargs.garch.params("")?;
    unary(inputs, |x, out| filters::garch_volatility(x, &g, out))
}

/// `garch_volatility_window(...)`: the σ vector of one GARCH run over the
/// whole input (SPEC 2.18's computation on one window; what the engine's
/// `garch_volatility_local(idx)` returns).
#[polars_expr(output_type_func=float_type)]
fn garch_volatility_window(inputs: &[Series], kwargs: GarchOnlyKwargs) -> PolarsResult<Series> {
    let g = kwargs.garch.params("")?;
    unary(inputs, |x, out| {
        filters::garch_volatility_window(x, &g, out)
    })
}

#[derive(Deserialize)]
struct KalmanGarchKwargs {
    kalman: KalmanKwargs,
    garch: GarchKwargs,
}

/// `kalman_garch_zscore(...)`: SPEC 2.17.
#[polars_expr(output_type_func=float_type)]
fn kalman_garch_zscore(inputs: &[Series], kwargs: KalmanGarchKwargs) -> PolarsResult<Series> {
    let (r, q) = kwargs.kalman.params()?;
    let g = kwargs.garch.params("")?;
    let carry = kwargs.kalman.carry_gaps;
    unary(inputs, |x, out| {
        filters::kalman_garch_zscore(x, r, q, carry, &g, out)
    })
}

/// Runs a per-row kernel `f(rows, out)` over all rows, split across threads
/// when the work (`rows × cost_per_row`) is large enough to pay for them.
fn per_row(
    n: usize,
    cost_per_row: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync,
) -> Vec<f64> {
    let mut out = nan_filled(n);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    if threads <= 1 || n.saturating_mul(cost_per_row) < 200_000 {
        f(0..n, &mut out);
        return out;
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|scope| {
        for (k, part) in out.chunks_mut(chunk).enumerate() {
            let f = &f;
            scope.spawn(move || {
                let start = k * chunk;
                f(start..start + part.len(), part);
            });
        }
    });
    out
}

#[derive(Deserialize)]
struct GarchLocalKwargs {
    lookback: i64,
    garch: GarchKwargs,
}

/// `garch_volatility_local(lookback, ...)`: SPEC 2.18, per row, parallel.
#[polars_expr(output_type_func=float_type)]
fn garch_volatility_local(inputs: &[Series], kwargs: GarchLocalKwargs) -> PolarsResult<Series> {
    let lookback = positive("lookback", kwargs.lookback)?;
    let g = kwargs.garch.params("")?;
    let out = with_f64_input(input(inputs, 0)?, |x| {
        per_row(x.len(), lookback, |rows, out| {
            filters::garch_volatility_local(x, lookback, &g, rows, out)
        })
    })?;
    Ok(f64_output(input(inputs, 0)?.name().clone(), out))
}

#[derive(Deserialize)]
struct KalmanGarchLocalKwargs {
    lookback: i64,
    kalman: KalmanKwargs,
    garch: GarchKwargs,
}

/// `kalman_garch_zscore_local(lookback, ...)`: SPEC 2.20, per row, parallel.
#[polars_expr(output_type_func=float_type)]
fn kalman_garch_zscore_local(
    inputs: &[Series],
    kwargs: KalmanGarchLocalKwargs,
) -> PolarsResult<Series> {
    let lookback = positive("lookback", kwargs.lookback)?;
    let (r, q) = kwargs.kalman.params()?;
    let g = kwargs.garch.params("")?;
    let carry = kwargs.kalman.carry_gaps;
    let out = with_f64_input(input(inputs, 0)?, |x| {
        per_row(x.len(), lookback, |rows, out| {
            filters::kalman_garch_zscore_local(x, lookback, r, q, carry, &g, rows, out)
        })
    })?;
    Ok(f64_output(input(inputs, 0)?.name().clone(), out))
}

#[derive(Deserialize)]
struct VolClusterKwargs {
    feature: String,
    atr_length: i64,
    garch_lookback: i64,
    garch: GarchKwargs,
}

/// `vol_cluster(feature, atr_length, garch_lookback, ...)`: SPEC 2.19; inputs `[close, high, low]`.
#[polars_expr(output_type_func=float_type)]
fn vol_cluster(inputs: &[Series], kwargs: VolClusterKwargs) -> PolarsResult<Series> {
    if kwargs.feature.trim().eq_ignore_ascii_case("atr_points") {
        let period = positive("atr_length", kwargs.atr_length)?;
        return ohlc(inputs, |h, l, c, out| {
            volatility::atr(h, l, c, period, false, out)
        });
    }
    let lookback = positive("garch_lookback", kwargs.garch_lookback)?;
    let g = kwargs.garch.params("garch_")?;
    let out = with_f64_input(input(inputs, 0)?, |x| {
        per_row(x.len(), lookback, |rows, out| {
            filters::garch_volatility_local(x, lookback, &g, rows, out)
        })
    })?;
    Ok(f64_output(input(inputs, 0)?.name().clone(), out))
}

// --- stepwise (SPEC P4) -------------------------------------------------------------

/// Applies `f` to the closes at the new-bar rows and scatters/fills each output.
fn stepwise_apply(
    inputs: &[Series],
    f: impl FnOnce(&[f64]) -> Vec<Vec<f64>>,
) -> PolarsResult<Vec<Vec<f64>>> {
    let (keys, present) = bar_keys(input(inputs, 1)?)?;
    if keys.len() != input(inputs, 0)?.len() {
        polars_bail!(ShapeMismatch: "omega: 'bar' has {} rows, the values {}", keys.len(), input(inputs, 0)?.len());
    }
    with_f64_input(input(inputs, 0)?, |x| {
        let rows = stepwise::new_bar_rows(&keys, &present);
        // new_bar_rows gives row indices of `x` (keys has its length): `get` never misses.
        let reduced: Vec<f64> = rows
            .iter()
            .map(|&r| x.get(r).copied().unwrap_or(f64::NAN))
            .collect();
        f(&reduced)
            .into_iter()
            .map(|values| {
                let mut out = zeroed(x.len());
                stepwise::scatter_fill(&values, &rows, &mut out);
                out
            })
            .collect()
    })
}

/// `ema_stepwise(period, bar)`: SPEC 2.2; inputs `[values, bar]`.
#[polars_expr(output_type_func=float_type)]
fn ema_stepwise(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let a = ewm::alpha_from_span(period as f64).map_err(param_err("period"))?;
    let mut parts = stepwise_apply(inputs, |x| {
        let mut out = zeroed(x.len());
        ewm::ewm_mean(x, a, &mut out);
        vec![out]
    })?;
    Ok(f64_output(
        input(inputs, 0)?.name().clone(),
        parts.pop().unwrap_or_default(),
    ))
}

/// `bollinger_stepwise(period, std_factor, bar)`: SPEC 2.9; inputs `[values, bar]`.
#[polars_expr(output_type_func=band_type)]
fn bollinger_stepwise(inputs: &[Series], kwargs: BollingerKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let k = finite("std_factor", kwargs.std_factor)?;
    let std = std_kind(kwargs.exact_std);
    let parts = stepwise_apply(inputs, |x| bollinger_parts(x, period, k, std).0)?;
    band_output(
        input(inputs, 0)?.name().clone(),
        parts,
        [Missing::unknown(); 3],
    )
}

/// `kalman_zscore_stepwise(window, r, q, bar)`: SPEC 2.14; inputs `[values, bar]`.
#[polars_expr(output_type_func=float_type)]
fn kalman_zscore_stepwise(inputs: &[Series], kwargs: KalmanZKwargs) -> PolarsResult<Series> {
    let window = positive("window", kwargs.window)?;
    let (r, q) = kwargs.kalman.params()?;
    let (carry, std) = (kwargs.kalman.carry_gaps, std_kind(kwargs.exact_std));
    let mut parts = stepwise_apply(inputs, |x| {
        let mut out = zeroed(x.len());
        filters::kalman_zscore(x, window, r, q, carry, std, &mut out);
        vec![out]
    })?;
    Ok(f64_output(
        input(inputs, 0)?.name().clone(),
        parts.pop().unwrap_or_default(),
    ))
}
