//! Pieces every wrapper module uses: output types, single-output runners and
//! parameter checks with messages that name the parameter.

use polars::prelude::*;
use serde::Deserialize;

use super::{f64_output_with, struct_dtype, with_f64_array, with_f64_input};
use crate::kernels::buffer::zeroed;
use crate::kernels::missing::Missing;

/// What a kernel says about the `NaN` it wrote: a [`Missing`] report, or
/// nothing (`()`), in which case the output is scanned for them.
pub(crate) trait Report {
    fn missing(self) -> Missing;
}

impl Report for () {
    fn missing(self) -> Missing {
        Missing::unknown()
    }
}

impl Report for Missing {
    fn missing(self) -> Missing {
        self
    }
}

/// Keyword arguments of the indicators that take one period.
#[derive(Deserialize)]
pub(crate) struct PeriodKwargs {
    pub(crate) period: i64,
}

/// Keyword arguments of `macd`.
#[derive(Deserialize)]
pub(crate) struct MacdKwargs {
    pub(crate) fast: i64,
    pub(crate) slow: i64,
    pub(crate) signal: i64,
}

/// Field names of the Struct outputs.
pub(crate) const MACD_FIELDS: [&str; 3] = ["macd", "signal", "histogram"];
pub(crate) const BAND_FIELDS: [&str; 3] = ["upper", "middle", "lower"];
pub(crate) const DMI_FIELDS: [&str; 3] = ["plus_di", "minus_di", "adx"];

/// An invalid-parameter error: `parameter '{name}' must be {what}, got {value}`.
pub(crate) fn bad(name: &str, what: &str, value: impl std::fmt::Display) -> PolarsError {
    polars_err!(InvalidOperation: "omega: parameter '{name}' must be {what}, got {value}")
}

/// A finite float parameter, or an error naming it.
pub(crate) fn finite(name: &str, value: f64) -> PolarsResult<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(bad(name, "a finite number", value))
    }
}

// Output types: a Float64 or Struct column named after the first input.

/// The first input's field (Polars always passes at least one).
pub(crate) fn first_field(fields: &[Field]) -> PolarsResult<&Field> {
    fields
        .first()
        .ok_or_else(|| polars_err!(InvalidOperation: "omega: the expression needs an input column"))
}

/// Input `k` of a plugin, or an error saying how many it got.
pub(crate) fn input(inputs: &[Series], k: usize) -> PolarsResult<&Series> {
    inputs.get(k).ok_or_else(|| {
        polars_err!(InvalidOperation: "omega: the expression needs {} input column(s), got {}", k + 1, inputs.len())
    })
}

pub(crate) fn float_type(fields: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(
        first_field(fields)?.name().clone(),
        DataType::Float64,
    ))
}
pub(crate) fn macd_type(fields: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(
        first_field(fields)?.name().clone(),
        struct_dtype(&MACD_FIELDS),
    ))
}
pub(crate) fn band_type(fields: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(
        first_field(fields)?.name().clone(),
        struct_dtype(&BAND_FIELDS),
    ))
}
pub(crate) fn dmi_type(fields: &[Field]) -> PolarsResult<Field> {
    Ok(Field::new(
        first_field(fields)?.name().clone(),
        struct_dtype(&DMI_FIELDS),
    ))
}

/// Runs a single-output kernel that appends its results to an empty vector
/// (see `momentum::dema`) over the first input.
pub(crate) fn unary_appending<R: Report>(
    inputs: &[Series],
    kernel: impl FnOnce(&[f64], &mut Vec<f64>) -> R,
) -> PolarsResult<Series> {
    let first = input(inputs, 0)?;
    let (out, missing) = with_f64_input(first, |x| {
        let mut out = Vec::new();
        let missing = kernel(x, &mut out).missing();
        (out, missing)
    })?;
    if out.len() != first.len() {
        polars_bail!(ComputeError: "omega: internal error: a kernel wrote {} of {} rows of '{}'", out.len(), first.len(), first.name());
    }
    Ok(f64_output_with(first.name().clone(), out, missing))
}

/// Runs a single-output kernel that writes into a zeroed buffer of the
/// input's length over the first input.
pub(crate) fn unary<R: Report>(
    inputs: &[Series],
    kernel: impl FnOnce(&[f64], &mut [f64]) -> R,
) -> PolarsResult<Series> {
    unary_appending(inputs, |x, out| {
        *out = zeroed(x.len());
        kernel(x, out)
    })
}

/// The `[close, high, low]` inputs, or an error if fewer were given.
pub(crate) fn clh(inputs: &[Series]) -> PolarsResult<&[Series; 3]> {
    inputs
        .get(..3)
        .and_then(|three| three.try_into().ok())
        .ok_or_else(|| polars_err!(InvalidOperation: "omega: OHLC indicators take [close, high, low], got {} input(s)", inputs.len()))
}

/// Runs a single-output kernel over `[close, high, low]` as `(h, l, c)`.
pub(crate) fn ohlc<R: Report>(
    inputs: &[Series],
    kernel: impl FnOnce(&[f64], &[f64], &[f64], &mut [f64]) -> R,
) -> PolarsResult<Series> {
    let (out, missing) = with_f64_array(clh(inputs)?, |[c, h, l]| {
        let mut out = zeroed(c.len());
        let missing = kernel(h, l, c, &mut out).missing();
        (out, missing)
    })?;
    Ok(f64_output_with(
        input(inputs, 0)?.name().clone(),
        out,
        missing,
    ))
}

/// Three zeroed output buffers of length `n`.
pub(crate) fn three(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (zeroed(n), zeroed(n), zeroed(n))
}
