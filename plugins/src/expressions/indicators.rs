//! Indicator expressions.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use super::{f64_output, with_f64_input};
use crate::kernels::ewm;

/// Keyword arguments of `ema`.
#[derive(Deserialize)]
struct EmaKwargs {
    period: i64,
}

/// Positive integer parameter, or an error naming it.
pub(crate) fn positive(name: &str, value: i64) -> PolarsResult<usize> {
    if value <= 0 {
        polars_bail!(InvalidOperation: "omega: parameter '{name}' must be a positive integer, got {value}");
    }
    usize::try_from(value)
        .map_err(|_| polars_err!(InvalidOperation: "omega: parameter '{name}' is too large: {value}"))
}

/// `ema(period)`: SPEC 2.1, `EWM(span = period)` with gap re-weighting.
#[polars_expr(output_type=Float64)]
fn ema(inputs: &[Series], kwargs: EmaKwargs) -> PolarsResult<Series> {
    let period = positive("period", kwargs.period)?;
    let a = ewm::alpha_from_span(period as f64)
        .map_err(|e| polars_err!(InvalidOperation: "omega: parameter 'period': {e}"))?;
    let s = &inputs[0];
    let out = with_f64_input(s, |x| {
        let mut out = vec![0.0; x.len()];
        ewm::ewm_mean(x, a, &mut out);
        out
    })?;
    Ok(f64_output(s.name().clone(), out))
}
