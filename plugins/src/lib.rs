//! omega_pl's compiled core: numeric kernels (`kernels`, pure functions over
//! slices) and the Polars expression plugins that wrap them (`expressions`).
//!
//! Python loads this library twice over: as the extension module
//! `omega_pl._plugins` (for its version) and through Polars' plugin loader,
//! which looks up the `#[polars_expr]` symbols by name.

mod csv_reader;
pub mod expressions;
pub use omega_kernels as kernels;

use pyo3::prelude::*;

/// Allocate through Polars' own allocator, except large blocks (output
/// columns), which are mapped on huge pages and kept a few seconds after they
/// are freed, for the next column to reuse (see `omega_alloc`). Buffers handed
/// to Polars come back here to be freed, through the Arrow release callback.
#[global_allocator]
static ALLOC: omega_alloc::BlockCache<pyo3_polars::PolarsAllocator> =
    omega_alloc::BlockCache::new(pyo3_polars::PolarsAllocator::new());

/// Returns the freed large buffers the plugin keeps for reuse to the OS at
/// once, rather than when they expire; the number of bytes released.
#[pyfunction]
fn release_buffers() -> usize {
    ALLOC.release()
}

/// The extension module; the expressions are found by Polars, not through it.
#[pymodule]
fn _plugins(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<csv_reader::CandleCsvReader>()?;
    m.add_function(wrap_pyfunction!(release_buffers, m)?)?;
    Ok(())
}

/// Issues `omega_pl.errors.DuplicateTimestampsWarning(message)` in Python.
///
/// Called from a Polars worker thread while `collect()` has released the GIL
/// (the same way Polars runs Python UDFs). Fails when the warning is turned
/// into an error by the user's warning filters; the caller reports that.
pub(crate) fn warn_duplicates(message: &str) -> Result<(), String> {
    let text = std::ffi::CString::new(message.replace('\0', " ")).map_err(|e| e.to_string())?;
    Python::attach(|py| {
        let category = py
            .import("omega_pl.errors")?
            .getattr("DuplicateTimestampsWarning")?;
        PyErr::warn(py, &category, &text, 1)
    })
    .map_err(|e| e.to_string())
}
