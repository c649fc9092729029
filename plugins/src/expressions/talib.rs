//! Indicator expressions in the TA-Lib convention (`convention="talib"`).
//!
//! Each `talib_*` wrapper validates its keyword arguments against TA-Lib's
//! own parameter ranges, hands slices to `kernels::talib` and builds a
//! Float64 column or a Struct of Float64 fields. Null inputs become `NaN`
//! (TA-Lib's missing value) and `NaN` outputs become null, so TA-Lib's
//! warm-up rows are null. Every output is named after the first input. OHLC
//! indicators take their inputs as `[close, high, low]`, like the reference
//! wrappers in `indicators.rs` (TA-Lib's own argument order is high, low,
//! close; `omega_pl._talib` exposes that order).

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use super::shared::{
    band_type, clh, dmi_type, finite, float_type, input, macd_type, ohlc, three, unary, MacdKwargs,
    PeriodKwargs,
};
use super::with_f64_array;
use super::{struct_output, with_f64_input};
use crate::kernels::talib;

/// An integer period of at least `min` (TA-Lib's lower bound for `function`),
/// or an error naming the parameter.
fn period(name: &str, value: i64, min: usize, function: &str) -> PolarsResult<usize> {
    match usize::try_from(value) {
        Ok(v) if v >= min => Ok(v),
        _ => polars_bail!(
            InvalidOperation: "omega: parameter '{name}' must be an integer >= {min} ({function} in the TA-Lib convention), got {value}"
        ),
    }
}

// --- single-input indicators -------------------------------------------------------

/// `EMA(period)`: SMA-seeded EMA, first value at row `period − 1`.
#[polars_expr(output_type_func=float_type)]
fn talib_ema(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::MA_MIN_PERIOD, "EMA")?;
    unary(inputs, |x, out| talib::ema(x, p, out))
}

/// `SMA(period)`: first value at row `period − 1`.
#[polars_expr(output_type_func=float_type)]
fn talib_sma(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::MA_MIN_PERIOD, "SMA")?;
    unary(inputs, |x, out| talib::sma(x, p, out))
}

/// `RSI(period)`: Wilder smoothing, first value at row `period`.
#[polars_expr(output_type_func=float_type)]
fn talib_rsi(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::RSI_MIN_PERIOD, "RSI")?;
    unary(inputs, |x, out| talib::rsi(x, p, out))
}

/// `ROC(period)`: percent change over `period` rows (0 after a zero).
#[polars_expr(output_type_func=float_type)]
fn talib_roc(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::ROC_MIN_PERIOD, "ROC")?;
    unary(inputs, |x, out| talib::roc(x, p, out))
}

/// `MOM(period)`: difference over `period` rows.
#[polars_expr(output_type_func=float_type)]
fn talib_momentum(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::ROC_MIN_PERIOD, "MOM")?;
    unary(inputs, |x, out| talib::mom(x, p, out))
}

/// `DEMA(period)`: first value at row `2·(period − 1)`.
#[polars_expr(output_type_func=float_type)]
fn talib_dema(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::MA_MIN_PERIOD, "DEMA")?;
    unary(inputs, |x, out| talib::dema(x, p, out))
}

/// `TEMA(period)`: first value at row `3·(period − 1)`.
#[polars_expr(output_type_func=float_type)]
fn talib_tema(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::MA_MIN_PERIOD, "TEMA")?;
    unary(inputs, |x, out| talib::tema(x, p, out))
}

/// `STDDEV(period, nbdev=1)`: population standard deviation (ddof 0).
#[polars_expr(output_type_func=float_type)]
fn talib_rolling_std(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::STDDEV_MIN_PERIOD, "STDDEV")?;
    unary(inputs, |x, out| talib::stddev(x, p, 1.0, out))
}

/// `MACD(fast, slow, signal)` → Struct{macd, signal, histogram}.
#[polars_expr(output_type_func=macd_type)]
fn talib_macd(inputs: &[Series], kwargs: MacdKwargs) -> PolarsResult<Series> {
    let fast = period("fast", kwargs.fast, talib::MACD_MIN_PERIOD, "MACD")?;
    let slow = period("slow", kwargs.slow, talib::MACD_MIN_PERIOD, "MACD")?;
    let signal = period("signal", kwargs.signal, talib::MACD_MIN_SIGNAL, "MACD")?;
    let (m, s, h, missing) = with_f64_input(input(inputs, 0)?, |x| {
        let (mut m, mut s, mut h) = three(x.len());
        let missing = talib::macd(x, fast, slow, signal, &mut m, &mut s, &mut h);
        (m, s, h, missing)
    })?;
    let [mm, ms, mh] = missing;
    struct_output(
        input(inputs, 0)?.name().clone(),
        vec![("macd", m, mm), ("signal", s, ms), ("histogram", h, mh)],
    )
}

#[derive(Deserialize)]
struct BollingerKwargs {
    period: i64,
    std_factor: f64,
}

/// `BBANDS(period, std_factor, std_factor, SMA)` → Struct{upper, middle, lower}.
#[polars_expr(output_type_func=band_type)]
fn talib_bollinger(inputs: &[Series], kwargs: BollingerKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::BBANDS_MIN_PERIOD, "BBANDS")?;
    let k = finite("std_factor", kwargs.std_factor)?;
    let (u, m, l, missing) = with_f64_input(input(inputs, 0)?, |x| {
        let (mut u, mut m, mut l) = three(x.len());
        let missing = talib::bbands(x, p, k, k, &mut u, &mut m, &mut l);
        (u, m, l, missing)
    })?;
    let [mu, mm, ml] = missing;
    struct_output(
        input(inputs, 0)?.name().clone(),
        vec![("upper", u, mu), ("middle", m, mm), ("lower", l, ml)],
    )
}

// --- OHLC indicators -------------------------------------------------------------------

/// `ATR(period)` on `[close, high, low]`; `period = 1` is `TRANGE`.
#[polars_expr(output_type_func=float_type)]
fn talib_atr(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::ATR_MIN_PERIOD, "ATR")?;
    ohlc(inputs, |h, l, c, out| talib::atr(h, l, c, p, out))
}

/// `PLUS_DI`, `MINUS_DI`, `ADX` (one `period`) on `[close, high, low]` →
/// Struct{plus_di, minus_di, adx}.
#[polars_expr(output_type_func=dmi_type)]
fn talib_dmi(inputs: &[Series], kwargs: PeriodKwargs) -> PolarsResult<Series> {
    let p = period("period", kwargs.period, talib::DMI_MIN_PERIOD, "ADX")?;
    let inputs = clh(inputs)?;
    let (pdi, mdi, adx, missing) = with_f64_array(inputs, |[c, h, l]| {
        let (mut pdi, mut mdi, mut adx) = three(c.len());
        let missing = talib::dmi(h, l, c, p, &mut pdi, &mut mdi, &mut adx);
        (pdi, mdi, adx, missing)
    })?;
    let [mp, mm, ma] = missing;
    struct_output(
        input(inputs, 0)?.name().clone(),
        vec![
            ("plus_di", pdi, mp),
            ("minus_di", mdi, mm),
            ("adx", adx, ma),
        ],
    )
}
