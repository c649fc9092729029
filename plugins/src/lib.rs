//! omega_pl's compiled core: numeric kernels (`kernels`, pure functions over
//! slices) and the Polars expression plugins that wrap them (`expressions`).
//!
//! Python loads this library twice over: as the extension module
//! `omega_pl._plugins` (for its version) and through Polars' plugin loader,
//! which looks up the `#[polars_expr]` symbols by name.
//!
//! No panic may cross into Python: every function here returns a typed error
//! for bad input, and clippy refuses `unwrap`, `expect` and indexing that
//! could panic anywhere in this crate (`#[polars_expr]` would turn a panic
//! into an opaque "the plugin panicked", a `#[pyclass]` into a
//! `PanicException` that `except Exception` does not catch).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod candles;
mod csv_reader;
pub mod expressions;
pub use omega_kernels as kernels;

use pyo3::prelude::*;

/// Allocate through Polars' own allocator (its `polars.polars._allocator`
/// capsule), exactly as the pyo3-polars examples do: the plugin and Polars
/// share one heap, tuned by Polars (see *Memory* in the README), and the
/// plugin keeps no memory of its own.
#[global_allocator]
static ALLOC: pyo3_polars::PolarsAllocator = pyo3_polars::PolarsAllocator::new();

/// The extension module; the expressions are found by Polars, not through it.
#[pymodule]
fn _plugins(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<csv_reader::CandleCsvReader>()?;
    m.add_class::<candles::Candle>()?;
    m.add_class::<candles::CandleStore>()?;
    Ok(())
}

/// Issues the warning `omega_pl.errors.<category>(message)` in Python.
///
/// Called from a Polars worker thread while `collect()` has released the GIL
/// (the same way Polars runs Python UDFs). Fails when the warning is turned
/// into an error by the user's warning filters; the caller reports that.
pub(crate) fn warn(category: &str, message: &str) -> Result<(), String> {
    let text = std::ffi::CString::new(message.replace('\0', " ")).map_err(|e| e.to_string())?;
    Python::attach(|py| {
        let category = py.import("omega_pl.errors")?.getattr(category)?;
        PyErr::warn(py, &category, &text, 1)
    })
    .map_err(|e| e.to_string())
}
