//! Data-pipeline expressions: timestamp parsing and the market-hours mask.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use crate::kernels::buffer::zeroed;
use crate::kernels::dedup::{keep_last_of_runs, key_order, Order};
use crate::kernels::sessions::{market_hours_mask as mask_kernel, OffsetTable};
use crate::kernels::timestamps::parse_timestamp;

/// Keyword arguments of `market_hours_mask`: the zone's offset table.
#[derive(Deserialize)]
struct MaskKwargs {
    transitions_us: Vec<i64>,
    offsets_us: Vec<i64>,
}

/// Boolean mask of the market-hours rule (SPEC 4.2) over Int64 epoch
/// microseconds (UTC). Null instants give null.
#[polars_expr(output_type=Boolean)]
fn market_hours_mask(inputs: &[Series], kwargs: MaskKwargs) -> PolarsResult<Series> {
    let table = OffsetTable {
        transitions_us: &kwargs.transitions_us,
        offsets_us: &kwargs.offsets_us,
    };
    table
        .validate()
        .map_err(|e| polars_err!(InvalidOperation: "omega: {e}"))?;
    let s = &inputs[0];
    let ca = s.i64().map_err(
        |_| polars_err!(InvalidOperation: "omega: market_hours_mask expects Int64 epoch microseconds, got {}", s.dtype()),
    )?;
    let mut chunks = Vec::with_capacity(ca.chunks().len());
    for arr in ca.downcast_iter() {
        let mut out = zeroed(arr.len());
        mask_kernel(arr.values(), table, &mut out);
        let values: arrow::bitmap::Bitmap = out.into_iter().collect();
        chunks.push(arrow::array::BooleanArray::new(
            arrow::datatypes::ArrowDataType::Boolean,
            values,
            arr.validity().cloned(),
        ));
    }
    Ok(BooleanChunked::from_chunk_iter(s.name().clone(), chunks).into_series())
}

/// Keyword arguments of `parse_timestamps`: the column name, for messages.
#[derive(Deserialize)]
struct ParseKwargs {
    column: String,
}

/// Parses timestamp text into Int64 UTC epoch microseconds (see
/// `kernels::timestamps`). The first value that does not parse is an error
/// naming the column, the row and the value; an empty cell is an error too.
#[polars_expr(output_type=Int64)]
fn parse_timestamps(inputs: &[Series], kwargs: ParseKwargs) -> PolarsResult<Series> {
    let s = &inputs[0];
    let ca = s.str().map_err(
        |_| polars_err!(InvalidOperation: "omega: timestamps in column '{}' must be text, got {}", kwargs.column, s.dtype()),
    )?;
    let mut out = Vec::with_capacity(ca.len());
    for (row, value) in ca.iter().enumerate() {
        match value.and_then(|v| parse_timestamp(v.as_bytes())) {
            Some(t) => out.push(t),
            None => {
                let shown = value.map_or_else(|| "<empty>".to_string(), |v| format!("{v:?}"));
                polars_bail!(ComputeError:
                    "omega: unparseable timestamp {shown} in column '{}' at data row {} \
                     (accepted: 'YYYY-MM-DD HH:MM:SS[.f][±HH:MM|Z]', 'DD.MM.YYYY HH:MM:SS[.f]', \
                     'YYYY.MM.DD HH:MM', 'YYYYMMDD HHMMSS')",
                    kwargs.column, row + 1);
            }
        }
    }
    Ok(Int64Chunked::from_vec(s.name().clone(), out).into_series())
}

/// Keyword arguments of `keep_last_mask`: where the rows came from, for the warning.
#[derive(Deserialize)]
struct KeepLastKwargs {
    source: String,
}

/// Keep-mask over a time column sorted ascending: the last row of each run of
/// equal timestamps, and no row without a timestamp. When rows are dropped a
/// `DuplicateTimestampsWarning` saying how many is issued in Python (or, if
/// warnings are configured as errors, the collect fails with that message).
#[polars_expr(output_type=Boolean)]
fn keep_last_mask(inputs: &[Series], kwargs: KeepLastKwargs) -> PolarsResult<Series> {
    let s = inputs[0].to_physical_repr();
    let ca = s.i64().map_err(|_| polars_err!(InvalidOperation: "omega: keep_last_mask expects a Datetime column, got {}", inputs[0].dtype()))?;
    // Common case: unique sorted timestamps. One pass, and an all-true mask
    // that Polars' filter passes through without copying.
    if ca.null_count() == 0
        && key_order(ca.downcast_iter().map(|a| a.values().as_slice())) == Order::StrictlyIncreasing
    {
        return Ok(BooleanChunked::full(s.name().clone(), true, ca.len()).into_series());
    }
    let ca = ca.rechunk();
    let arr = ca.downcast_as_array();
    let valid: Option<Vec<bool>> = arr.validity().map(|b| b.iter().collect());
    let mut out = zeroed(arr.len());
    let dropped = keep_last_of_runs(arr.values(), valid.as_deref(), &mut out);
    if dropped.duplicates > 0 || dropped.missing > 0 {
        let mut parts = Vec::new();
        if dropped.duplicates > 0 {
            parts.push(format!(
                "{} row(s) with a duplicate timestamp (kept the last of each)",
                dropped.duplicates
            ));
        }
        if dropped.missing > 0 {
            parts.push(format!("{} row(s) without a timestamp", dropped.missing));
        }
        let message = format!(
            "omega_pl: dropped {} in {}",
            parts.join(" and "),
            kwargs.source
        );
        crate::warn_duplicates(&message)
            .map_err(|e| polars_err!(ComputeError: "{message} ({e})"))?;
    }
    Ok(BooleanChunked::from_slice(s.name().clone(), &out).into_series())
}

/// Whether the timestamps are in ascending order with none missing, as one
/// Boolean (a scalar expression). One read-only pass over the keys.
#[polars_expr(output_type=Boolean)]
fn keys_sorted(inputs: &[Series]) -> PolarsResult<Series> {
    let s = inputs[0].to_physical_repr();
    let ca = s.i64().map_err(|_| polars_err!(InvalidOperation: "omega: keys_sorted expects a Datetime column, got {}", inputs[0].dtype()))?;
    let sorted = ca.null_count() == 0
        && key_order(ca.downcast_iter().map(|a| a.values().as_slice())) != Order::Unsorted;
    Ok(BooleanChunked::from_slice(s.name().clone(), &[sorted]).into_series())
}
