//! Column <-> slice conversion shared by every expression.

use arrow::bitmap::{Bitmap, MutableBitmap};
use polars::prelude::*;

use crate::kernels::missing::Missing;

/// Calls `f` with every input as a contiguous `f64` slice, nulls as `NaN`.
///
/// Numeric dtypes of any kind are accepted (as Polars' cast to Float64
/// converts them: `as f64`). A length-1 input (a literal) is broadcast to the
/// length of the others. Single-chunk Float64 columns without nulls are
/// borrowed without a copy; any other input is converted here, in one pass
/// into one buffer (not cast by Polars first and then copied).
pub(crate) fn with_f64_inputs<R>(
    inputs: &[Series],
    f: impl FnOnce(&[&[f64]]) -> R,
) -> PolarsResult<R> {
    let n = inputs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut owned: Vec<Option<Vec<f64>>> = Vec::with_capacity(inputs.len());
    for s in inputs {
        if !s.dtype().is_primitive_numeric() && !s.dtype().is_null() {
            polars_bail!(InvalidOperation: "omega: expected a numeric column, got '{}' of type {}", s.name(), s.dtype());
        }
        if s.len() != n && s.len() != 1 {
            polars_bail!(ShapeMismatch: "omega: input '{}' has {} rows, expected {n} (or 1 to broadcast)", s.name(), s.len());
        }
        owned.push(match borrowable(s, n) {
            Some(_) => None,
            None => Some(to_f64(s, n)?),
        });
    }
    let mut slices: Vec<&[f64]> = Vec::with_capacity(inputs.len());
    for (s, o) in inputs.iter().zip(&owned) {
        slices.push(match o {
            Some(v) => v.as_slice(),
            None => borrowable(s, n).unwrap_or_default(),
        });
    }
    Ok(f(&slices))
}

/// The values of a full-length, single-chunk Float64 column without nulls.
fn borrowable(s: &Series, n: usize) -> Option<&[f64]> {
    let ca = s.f64().ok()?;
    if ca.len() == n {
        ca.cont_slice().ok()
    } else {
        None
    }
}

/// `n` values of a numeric (or all-null) column as `f64`, nulls as `NaN`,
/// a length-1 column repeated. The common dtypes are converted here (the
/// plugin's own code); others go through Polars' cast.
fn to_f64(s: &Series, n: usize) -> PolarsResult<Vec<f64>> {
    Ok(match s.dtype() {
        DataType::Float64 => gather(s.f64()?, n, |v| v),
        DataType::Float32 => gather(s.f32()?, n, f64::from),
        DataType::Int32 => gather(s.i32()?, n, f64::from),
        DataType::UInt32 => gather(s.u32()?, n, f64::from),
        DataType::Int64 => gather(s.i64()?, n, |v| v as f64),
        DataType::UInt64 => gather(s.u64()?, n, |v| v as f64),
        DataType::Null => vec![f64::NAN; n],
        _ => gather(s.cast(&DataType::Float64)?.f64()?, n, |v| v),
    })
}

/// The values of `ca` converted by `conv`, nulls as `NaN`, a length-1
/// column repeated `n` times.
fn gather<T: PolarsNumericType>(
    ca: &ChunkedArray<T>,
    n: usize,
    conv: impl Fn(T::Native) -> f64,
) -> Vec<f64> {
    if ca.len() == 1 && n != 1 {
        return vec![ca.get(0).map_or(f64::NAN, &conv); n];
    }
    let mut v = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        match arr.validity() {
            None => v.extend(arr.values().iter().map(|x| conv(*x))),
            Some(valid) => v.extend(arr.values().iter().zip(valid.iter()).map(|(x, ok)| {
                if ok {
                    conv(*x)
                } else {
                    f64::NAN
                }
            })),
        }
    }
    v
}

/// Calls `f` with the single input as a contiguous `f64` slice (see [`with_f64_inputs`]).
pub(crate) fn with_f64_input<R>(s: &Series, f: impl FnOnce(&[f64]) -> R) -> PolarsResult<R> {
    with_f64_array(std::array::from_ref(s), |[x]| f(x))
}

/// [`with_f64_inputs`] for a fixed number of inputs, handed over as an array.
pub(crate) fn with_f64_array<const N: usize, R>(
    inputs: &[Series; N],
    f: impl FnOnce([&[f64]; N]) -> R,
) -> PolarsResult<R> {
    // with_f64_inputs hands over exactly one slice per input: `get` never misses.
    with_f64_inputs(inputs, |x| {
        f(std::array::from_fn(|i| {
            x.get(i).copied().unwrap_or_default()
        }))
    })
}

/// Builds a Float64 column from kernel output, `NaN` becoming null.
pub(crate) fn f64_output(name: PlSmallStr, out: Vec<f64>) -> Series {
    f64_output_with(name, out, Missing::unknown())
}

/// [`f64_output`] for a kernel that reported where its `NaN` are.
///
/// The vector is moved in without a copy. When the kernel saw no `NaN` after
/// its warm-up, the validity bitmap is written from the warm-up length alone;
/// otherwise it is packed from the values, eight rows per byte in one pass.
/// Either way it is dropped when nothing is missing.
pub(crate) fn f64_output_with(name: PlSmallStr, out: Vec<f64>, missing: Missing) -> Series {
    debug_assert!(
        missing.holds_for(&out),
        "kernel report {missing:?} is wrong"
    );
    let validity = if missing.interior {
        nan_validity(&out)
    } else {
        prefix_validity(missing.prefix.min(out.len()), out.len())
    };
    Float64Chunked::from_vec_validity(name, out, validity).into_series()
}

/// Validity with the first `prefix` of `len` rows null, `None` if none are.
fn prefix_validity(prefix: usize, len: usize) -> Option<Bitmap> {
    (prefix > 0).then(|| {
        let mut bits = MutableBitmap::with_capacity(len);
        bits.extend_constant(prefix, false);
        bits.extend_constant(len - prefix, true);
        bits.into()
    })
}

/// Validity with every `NaN` row null, `None` if there is none.
fn nan_validity(out: &[f64]) -> Option<Bitmap> {
    let mut bytes = Vec::with_capacity(out.len().div_ceil(8));
    let mut valid = 0usize;
    for chunk in out.chunks(8) {
        let mut byte = 0u8;
        for (i, v) in chunk.iter().enumerate() {
            byte |= u8::from(!v.is_nan()) << i;
        }
        valid += byte.count_ones() as usize;
        bytes.push(byte);
    }
    (valid < out.len()).then(|| Bitmap::from_u8_vec(bytes, out.len()))
}

/// A Struct column of Float64 fields, each built by [`f64_output_with`] from
/// its values and the kernel's report on them.
pub(crate) fn struct_output(
    name: PlSmallStr,
    fields: Vec<(&str, Vec<f64>, Missing)>,
) -> PolarsResult<Series> {
    let len = fields.first().map_or(0, |(_, v, _)| v.len());
    let series: Vec<Series> = fields
        .into_iter()
        .map(|(n, v, m)| f64_output_with(n.into(), v, m))
        .collect();
    Ok(StructChunked::from_series(name, len, series.iter())?.into_series())
}

/// The dtype of a Struct of Float64 fields.
pub(crate) fn struct_dtype(names: &[&str]) -> DataType {
    DataType::Struct(
        names
            .iter()
            .map(|n| Field::new((*n).into(), DataType::Float64))
            .collect(),
    )
}

/// Integer keys of a bar column (its physical values) and which rows have one.
pub(crate) fn bar_keys(s: &Series) -> PolarsResult<(Vec<i64>, Vec<bool>)> {
    let phys = s.to_physical_repr();
    if !phys.dtype().is_integer() {
        polars_bail!(InvalidOperation: "omega: parameter 'bar' must be a Datetime, Date or integer column, got '{}' of type {}", s.name(), s.dtype());
    }
    Ok(match phys.dtype() {
        DataType::Int64 => keys_of(phys.i64()?, |v| v),
        DataType::Int32 => keys_of(phys.i32()?, i64::from),
        DataType::UInt32 => keys_of(phys.u32()?, i64::from),
        _ => keys_of(phys.cast(&DataType::Int64)?.i64()?, |v| v),
    })
}

/// The keys of an integer column as `i64` (missing as 0) and which rows have one.
fn keys_of<T: PolarsNumericType>(
    ca: &ChunkedArray<T>,
    conv: impl Fn(T::Native) -> i64,
) -> (Vec<i64>, Vec<bool>) {
    let present: Vec<bool> = ca.iter().map(|v| v.is_some()).collect();
    let values: Vec<i64> = ca.iter().map(|v| v.map_or(0, &conv)).collect();
    (values, present)
}
