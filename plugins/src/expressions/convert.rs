//! Column <-> slice conversion shared by every expression.

use std::borrow::Cow;

use arrow::bitmap::Bitmap;
use polars::prelude::*;

/// Calls `f` with the column as a contiguous `f64` slice, nulls as `NaN`.
///
/// Any numeric dtype is accepted (cast to Float64). A single-chunk column
/// without nulls is borrowed without a copy; otherwise it is gathered once.
pub(crate) fn with_f64_input<R>(s: &Series, f: impl FnOnce(&[f64]) -> R) -> PolarsResult<R> {
    if !s.dtype().is_primitive_numeric() && !s.dtype().is_null() {
        polars_bail!(InvalidOperation: "expected a numeric column, got '{}' of type {}", s.name(), s.dtype());
    }
    let s = s.cast(&DataType::Float64)?;
    let ca = s.f64()?;
    let values: Cow<'_, [f64]> = match ca.cont_slice() {
        Ok(slice) => Cow::Borrowed(slice),
        Err(_) => {
            let mut v = Vec::with_capacity(ca.len());
            for arr in ca.downcast_iter() {
                match arr.validity() {
                    None => v.extend_from_slice(arr.values()),
                    Some(valid) => v.extend(
                        arr.values()
                            .iter()
                            .zip(valid.iter())
                            .map(|(x, ok)| if ok { *x } else { f64::NAN }),
                    ),
                }
            }
            Cow::Owned(v)
        }
    };
    Ok(f(&values))
}

/// Builds a Float64 column from kernel output, `NaN` becoming null.
///
/// Without any `NaN` the vector is moved in without a copy.
pub(crate) fn f64_output(name: PlSmallStr, out: Vec<f64>) -> Series {
    let validity = if out.iter().any(|v| v.is_nan()) {
        Some(Bitmap::from_iter(out.iter().map(|v| !v.is_nan())))
    } else {
        None
    };
    Float64Chunked::from_vec_validity(name, out, validity).into_series()
}
