//! `#[polars_expr]` wrappers: turn Polars columns into slices, validate the
//! keyword arguments, call a kernel, and build the output column. No numerics
//! live here.

mod convert;
pub mod indicators;
pub mod pipeline;
mod shared;
pub mod talib;

pub(crate) use convert::{
    bar_keys, f64_output, f64_output_with, struct_dtype, struct_output, with_f64_array,
    with_f64_input,
};
