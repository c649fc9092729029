//! omega_pl numeric kernels: pure functions over slices, no Polars types.
//!
//! Convention shared by every kernel: a missing input value is `NaN` (the
//! expression layer maps nulls to `NaN` before calling), and a missing output
//! is written as `NaN` (the expression layer maps it back to null). Kernels
//! never allocate their output; callers pass `out` of the input's length.
//! Kernels that know where their `NaN` are return a [`missing::Missing`]
//! report (warm-up length, and whether a `NaN` followed it), which spares the
//! expression layer a pass over the column to find them.

#[macro_use]
mod dispatch;

pub mod buffer;
pub mod csv;
pub mod dedup;
pub mod ewm;
pub mod filters;
pub mod missing;
pub mod momentum;
pub mod rolling;
pub mod sessions;
pub mod stepwise;
pub mod talib;
pub mod timestamps;
pub mod volatility;

/// `v` if `on`, else `0.0`, by masking the bits rather than branching.
///
/// For choices that are a coin flip on price data (up or down move, which
/// directional movement wins): a branch on them would be mispredicted every
/// other row.
#[inline(always)]
pub(crate) fn keep_if(v: f64, on: bool) -> f64 {
    f64::from_bits(v.to_bits() & u64::from(on).wrapping_neg())
}
