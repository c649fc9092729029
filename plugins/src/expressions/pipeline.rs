//! Data-pipeline expressions: timestamp parsing and the market-hours mask.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

use super::shared::first_field;
use crate::kernels::buffer::zeroed;
use crate::kernels::csv::ZoneUse;
use crate::kernels::dedup::{keep_last_of_runs, spacing, spacing_of_chunks, Spacing};
use crate::kernels::sessions::{market_hours_mask as mask_kernel, OffsetTable};
use crate::kernels::timestamps::{floor_to_grid as floor_kernel, on_grid, parse_timestamp_zoned};

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
    let s = first(inputs, "market_hours_mask")?;
    let ca = s.i64().map_err(
        |_| polars_err!(InvalidOperation: "omega: market_hours_mask expects Int64 epoch microseconds, got {}", s.dtype()),
    )?;
    let mut chunks = Vec::with_capacity(ca.chunks().len());
    for arr in ca.downcast_iter() {
        let mut bits = vec![0u8; arr.len().div_ceil(8)];
        mask_kernel(arr.values(), table, &mut bits);
        let values = arrow::bitmap::Bitmap::from_u8_vec(bits, arr.len());
        chunks.push(arrow::array::BooleanArray::new(
            arrow::datatypes::ArrowDataType::Boolean,
            values,
            arr.validity().cloned(),
        ));
    }
    Ok(BooleanChunked::from_chunk_iter(s.name().clone(), chunks).into_series())
}

/// Keyword arguments of `floor_to_grid`: the bar length.
#[derive(Deserialize)]
struct GridKwargs {
    bar_us: i64,
}

/// The input's own type (`floor_to_grid` keeps the Datetime type and zone).
fn input_type(fields: &[Field]) -> PolarsResult<Field> {
    first_field(fields).cloned()
}

/// UTC epoch-microsecond Datetimes floored to whole multiples of `bar_us`
/// (the loader's `normalize`, equal to `dt.truncate` of a fixed duration on
/// UTC instants). Candle files are nearly always on their grid already: one
/// pass checks, and the column is then returned as it is, without a copy.
#[polars_expr(output_type_func=input_type)]
fn floor_to_grid(inputs: &[Series], kwargs: GridKwargs) -> PolarsResult<Series> {
    let s = first(inputs, "floor_to_grid")?;
    if kwargs.bar_us <= 0 {
        polars_bail!(InvalidOperation: "omega: parameter 'bar_us' must be positive, got {}", kwargs.bar_us);
    }
    let DataType::Datetime(TimeUnit::Microseconds, zone) = s.dtype() else {
        polars_bail!(InvalidOperation: "omega: floor_to_grid expects a Datetime(us) column, got {}", s.dtype());
    };
    let physical = s.to_physical_repr();
    let ca = physical.i64()?;
    if ca
        .downcast_iter()
        .all(|a| on_grid(a.values(), kwargs.bar_us))
    {
        return Ok(s.clone());
    }
    let mut chunks = Vec::with_capacity(ca.chunks().len());
    for arr in ca.downcast_iter() {
        let mut out = Vec::new();
        floor_kernel(arr.values(), kwargs.bar_us, &mut out).map_err(
            |t| polars_err!(ComputeError: "omega: timestamp {t} µs cannot be floored to a {} µs grid within the Datetime range", kwargs.bar_us),
        )?;
        chunks.push(arrow::array::PrimitiveArray::new(
            arrow::datatypes::ArrowDataType::Int64,
            out.into(),
            arr.validity().cloned(),
        ));
    }
    Ok(Int64Chunked::from_chunk_iter(s.name().clone(), chunks)
        .into_datetime(TimeUnit::Microseconds, zone.clone())
        .into_series())
}

/// Keyword arguments of `parse_timestamps`: the column name, for messages.
#[derive(Deserialize)]
struct ParseKwargs {
    column: String,
}

/// Parses timestamp text into Int64 UTC epoch microseconds (see
/// `kernels::timestamps`). The first value that does not parse is an error
/// naming the column, the row and the value; an empty cell is an error too,
/// and so is a column that mixes naive timestamps with ones that carry a zone.
#[polars_expr(output_type=Int64)]
fn parse_timestamps(inputs: &[Series], kwargs: ParseKwargs) -> PolarsResult<Series> {
    let s = first(inputs, "parse_timestamps")?;
    let ca = s.str().map_err(
        |_| polars_err!(InvalidOperation: "omega: timestamps in column '{}' must be text, got {}", kwargs.column, s.dtype()),
    )?;
    let mut out = Vec::with_capacity(ca.len());
    let mut zones = ZoneUse::default();
    for (row, value) in (1u64..).zip(ca.iter()) {
        match value.and_then(|v| parse_timestamp_zoned(v.as_bytes())) {
            Some((t, zoned)) => {
                let first_other = if zoned {
                    zones.first_naive
                } else {
                    zones.first_zoned
                };
                if let Some(other) = first_other {
                    let (this, that) = if zoned {
                        ("has a UTC offset", "has none")
                    } else {
                        ("has no UTC offset", "has one")
                    };
                    polars_bail!(ComputeError:
                        "omega: mixed time zones in column '{}': timestamp {:?} at data row {row} {this}, \
                         but the one at data row {other} {that} (naive timestamps are read as UTC, \
                         which is likely wrong next to offsets; write every timestamp the same way)",
                        kwargs.column, value.unwrap_or_default());
                }
                let mine = if zoned {
                    &mut zones.first_zoned
                } else {
                    &mut zones.first_naive
                };
                mine.get_or_insert(row);
                out.push(t);
            }
            None => {
                let shown = value.map_or_else(|| "<empty>".to_string(), |v| format!("{v:?}"));
                polars_bail!(ComputeError:
                    "omega: unparseable timestamp {shown} in column '{}' at data row {row} \
                     (accepted: 'YYYY-MM-DD HH:MM:SS[.f][±HH:MM|Z]', 'DD.MM.YYYY HH:MM:SS[.f]', \
                     'YYYY.MM.DD HH:MM', 'YYYYMMDD HHMMSS')",
                    kwargs.column);
            }
        }
    }
    Ok(Int64Chunked::from_vec(s.name().clone(), out).into_series())
}

/// Keyword arguments of `keep_last_mask`: where the rows came from (for the
/// warnings), and optionally the timeframe to check the bars' spacing against.
#[derive(Deserialize)]
struct KeepLastKwargs {
    source: String,
    #[serde(default)]
    timeframe: Option<String>,
    #[serde(default)]
    bar_us: Option<i64>,
}

/// Keep-mask over a time column sorted ascending: the last row of each run of
/// equal timestamps, and no row without a timestamp. When rows are dropped a
/// `DuplicateTimestampsWarning` saying how many is issued in Python (or, if
/// warnings are configured as errors, the collect fails with that message).
///
/// Every input (the time and further ones, the value columns) with no value
/// at all gives a `MissingValuesWarning`. With `bar_us`, a `TimeframeMismatchWarning`
/// when more than a tenth of the gaps between kept bars are shorter than 0.9
/// bar, or (from 20 bars on) none is shorter than two bars.
#[polars_expr(output_type=Boolean)]
fn keep_last_mask(inputs: &[Series], kwargs: KeepLastKwargs) -> PolarsResult<Series> {
    let time = first(inputs, "keep_last_mask")?;
    for column in inputs {
        if !column.is_empty() && column.null_count() == column.len() {
            let message = format!(
                "omega_pl: column '{}' of {} has no values (all {} row(s) are null)",
                column.name(),
                kwargs.source,
                column.len()
            );
            warn_or_fail("MissingValuesWarning", &message)?;
        }
    }
    let s = time.to_physical_repr();
    let ca = s.i64().map_err(|_| polars_err!(InvalidOperation: "omega: keep_last_mask expects a Datetime column, got {}", time.dtype()))?;
    let short_below = short_gap_below(&kwargs);
    // Common case: unique sorted timestamps. One pass (their order and their
    // spacing together), and an all-true mask that Polars' filter passes
    // through without copying.
    if ca.null_count() == 0 {
        let chunks: Vec<&[i64]> = ca.downcast_iter().map(|a| &**a.values()).collect();
        let all = spacing_of_chunks(&chunks, short_below);
        if all.strictly_increasing() {
            check_spacing(all, &kwargs)?;
            return Ok(BooleanChunked::full(s.name().clone(), true, ca.len()).into_series());
        }
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
        warn_or_fail("DuplicateTimestampsWarning", &message)?;
    }
    let kept = arr
        .values()
        .iter()
        .zip(&out)
        .filter_map(|(&t, &keep)| keep.then_some(t));
    check_spacing(spacing(kept, short_below), &kwargs)?;
    // The mask is packed here, not by BooleanChunked::from_slice (Polars'
    // core is built without optimisation, see plugins/Cargo.toml).
    let mask = arrow::array::BooleanArray::from_slice(&out);
    Ok(BooleanChunked::with_chunk(s.name().clone(), mask).into_series())
}

/// Gaps shorter than this are short for `kwargs`' timeframe: 0.9 bar (some
/// jitter in the stamps is fine); none without a timeframe.
fn short_gap_below(kwargs: &KeepLastKwargs) -> i64 {
    let bar = kwargs.bar_us.filter(|&b| b > 0).unwrap_or(i64::MAX);
    bar.saturating_mul(9) / 10
}

/// Checks the kept (sorted, unique) timestamps' spacing against the timeframe.
fn check_spacing(kept: Spacing, kwargs: &KeepLastKwargs) -> PolarsResult<()> {
    let Spacing {
        count,
        short,
        min_gap,
    } = kept;
    let (Some(bar), Some(name)) = (kwargs.bar_us.filter(|&b| b > 0), &kwargs.timeframe) else {
        return Ok(());
    };
    let gaps = count.saturating_sub(1);
    // More than a tenth of the gaps short: not a clock shift (a DST change
    // moves H4 bars by an hour twice a year), the data is finer than the
    // timeframe. No gap under two bars in 20 bars: the data is coarser.
    let too_dense = gaps > 0 && short * 10 > gaps;
    let too_sparse = count >= 20 && min_gap >= bar.saturating_mul(2);
    if too_dense || too_sparse {
        let closest = describe_span(min_gap);
        let reason = if too_dense {
            format!("{short} of its {gaps} gaps between bars shorter than one {name} bar (the shortest {closest})")
        } else {
            format!("no two of its {count} bars closer than {closest}")
        };
        let message = format!(
            "omega_pl: {} has {reason}: the data does not look like {name} (is the file {}? \
             pass the right timeframe, or rename the file)",
            kwargs.source,
            timeframe_of(min_gap)
        );
        warn_or_fail("TimeframeMismatchWarning", &message)?;
    }
    Ok(())
}

/// A duration in microseconds as `90 s`, `5 min`, `1 h`, `1 day` …
fn describe_span(us: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (604_800_000_000, "week"),
        (86_400_000_000, "day"),
        (3_600_000_000, "h"),
        (60_000_000, "min"),
    ];
    for (size, unit) in UNITS {
        if us >= size && us % size == 0 {
            let n = us / size;
            let plural = if n != 1 && unit.len() > 3 { "s" } else { "" };
            return format!("{n} {unit}{plural}");
        }
    }
    format!("{} s", us as f64 / 1e6)
}

/// The timeframe name whose bars are `us` long (`M5`, `H1`, `D1`, `W1`), or
/// the span itself when it is not a whole number of minutes.
fn timeframe_of(us: i64) -> String {
    const UNITS: [(i64, char); 4] = [
        (604_800_000_000, 'W'),
        (86_400_000_000, 'D'),
        (3_600_000_000, 'H'),
        (60_000_000, 'M'),
    ];
    for (size, unit) in UNITS {
        if us >= size && us % size == 0 {
            return format!("{unit}{}", us / size);
        }
    }
    describe_span(us)
}

/// Issues the `omega_pl.errors` warning `category`; if the user's filters
/// turn it into an error, the collect fails with the message.
fn warn_or_fail(category: &str, message: &str) -> PolarsResult<()> {
    crate::warn(category, message).map_err(|e| polars_err!(ComputeError: "{message} ({e})"))
}

/// The first input of a plugin (Polars always passes at least one).
fn first<'a>(inputs: &'a [Series], name: &str) -> PolarsResult<&'a Series> {
    inputs
        .first()
        .ok_or_else(|| polars_err!(InvalidOperation: "omega: {name} needs an input column"))
}
