//! omega_pl numeric kernels: pure functions over slices, no Polars types.
//!
//! Convention shared by every kernel: a missing input value is `NaN` (the
//! expression layer maps nulls to `NaN` before calling), and a missing output
//! is written as `NaN` (the expression layer maps it back to null). Kernels
//! never allocate their output; callers pass `out` of the input's length.
//! Kernels that know where their `NaN` are return a [`missing::Missing`]
//! report (warm-up length, and whether a `NaN` followed it), which spares the
//! expression layer a pass over the column to find them.
//!
//! # No panic on user data
//!
//! The modules that read what a user's file holds — `csv`, `timestamps`,
//! `dedup`, `sessions`, `stepwise`, `missing` — deny clippy's
//! `indexing_slicing`, `unwrap_used` and `expect_used`: every access is a
//! `get`, and they are fuzzed (`plugins/fuzz`, docs/FUZZING.md). The numeric
//! kernels (`ewm`, `filters`, `momentum`, `rolling`, `talib`, `volatility`)
//! index in their hot loops, and the argument for each index is the same:
//! it is a loop counter below `n`, the input's length, and every slice it
//! indexes has that length (the expression layer allocates `out` from the
//! input and refuses inputs of different lengths; some kernels also take the
//! `min` of the lengths); the user's values never become indices; the user's
//! parameters (period, window, lookback, …) are checked by the expression
//! layer (positive, fits in memory) and only ever compared with `n` or used
//! as loop bounds capped by it. A Hypothesis
//! test drives every indicator of the catalog with any parameters on short
//! columns of nulls, NaN, infinities and huge values through the plugin
//! (`tests/test_hardening.py::test_no_indicator_input_panics_in_the_plugin`),
//! and periods up to 2^62 were tried on each integer parameter; none panics.

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
pub mod segmented;
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
