//! The Python face of the streaming candle CSV reader (`kernels::csv::BatchReader`).
//!
//! Python's `omega_pl._csv.scan_candle_csv` wraps it in a Polars IO source.
//! The file is read through one reusable 2 MiB buffer and parsed straight
//! into the output columns, so memory is the rows already handed out, the
//! batch being filled, the buffer and the second parsing thread's rows of
//! half a buffer (copied in): never the file or a text column.

use std::fs::File;
use std::io::ErrorKind;
use std::path::PathBuf;

use polars::prelude::*;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::kernels::csv::{
    BatchReader, CandleColumns, CsvError, CsvErrorKind, CsvLayout, ReadError, ReaderOptions,
};

pyo3::import_exception!(omega_pl.errors, TimestampParseError);
pyo3::import_exception!(omega_pl.errors, SchemaError);
pyo3::import_exception!(omega_pl.errors, EncodingError);
pyo3::import_exception!(omega_pl.errors, FileReadError);
pyo3::import_exception!(omega_pl.errors, CandleFileNotFoundError);

/// Output column names, in the order of the kernel's slots.
const COLUMNS: [&str; 6] = ["time", "open", "high", "low", "close", "volume"];

/// Reads a candle CSV file in batches of at most `batch_rows` rows.
///
/// `CandleCsvReader(path, separator, time_index, value_indices, names,
/// batch_rows, check_utf8=True)`: `separator` is one ASCII character;
/// `time_index` and the five `value_indices` (open, high, low, close, volume)
/// are 0-based field positions; `names` are the six header names, used in
/// error messages. The header line (and a UTF-8 byte order mark) is skipped.
/// With `check_utf8`, bytes that are not UTF-8 raise `EncodingError`; without
/// it they are left to the field parsers (single-byte encodings such as
/// Windows-1252, whose non-ASCII bytes can only be in text columns).
#[pyclass(module = "omega_pl._plugins")]
pub struct CandleCsvReader {
    path: PathBuf,
    reader: BatchReader<File>,
}

#[pymethods]
impl CandleCsvReader {
    #[new]
    #[pyo3(signature = (path, separator, time_index, value_indices, names, batch_rows, check_utf8 = true))]
    fn new(
        path: PathBuf,
        separator: &str,
        time_index: usize,
        value_indices: Vec<usize>,
        names: Vec<String>,
        batch_rows: usize,
        check_utf8: bool,
    ) -> PyResult<Self> {
        let sep = match separator.as_bytes() {
            [b] if b.is_ascii() => *b,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "separator must be one ASCII character, got {separator:?}"
                )))
            }
        };
        let values: [usize; 5] = value_indices.try_into().map_err(|v: Vec<usize>| {
            PyValueError::new_err(format!("value_indices needs 5 entries, got {}", v.len()))
        })?;
        let names: [String; 6] = names.try_into().map_err(|v: Vec<String>| {
            PyValueError::new_err(format!("names needs 6 entries, got {}", v.len()))
        })?;
        if batch_rows == 0 {
            return Err(PyValueError::new_err("batch_rows must be positive"));
        }
        let layout =
            CsvLayout::new(sep, time_index, values, names).map_err(PyValueError::new_err)?;
        let file = File::open(&path).map_err(|e| io_error(&path, &e))?;
        let options = ReaderOptions {
            batch_rows,
            check_utf8,
            ..ReaderOptions::default()
        };
        Ok(Self {
            reader: BatchReader::new(file, layout, options),
            path,
        })
    }

    /// The next batch as a DataFrame (`time` Datetime(us, UTC), then open,
    /// high, low, close, volume as Float64), or `None` after the last row.
    ///
    /// Raises `TimestampParseError` / `SchemaError` (both `ValueError`s)
    /// naming the file, column, data row and value of the first bad field,
    /// `EncodingError` naming the line and byte offset of bytes that are not
    /// UTF-8, and `FileReadError` (an `OSError`) when the file cannot be
    /// read; after an error the reader is exhausted (further calls return
    /// `None`).
    fn next_batch(&mut self, py: Python<'_>) -> PyResult<Option<PyDataFrame>> {
        let result = py.detach(|| self.reader.next_batch());
        match result {
            Ok(Some(columns)) => Ok(Some(PyDataFrame(to_frame(columns)?))),
            Ok(None) => Ok(None),
            Err(ReadError::Io(e)) => Err(io_error(&self.path, &e)),
            Err(ReadError::Parse(e)) => Err(parse_error(&self.path, &e)),
            Err(ReadError::Encoding(e)) => Err(EncodingError::new_err(format!(
                "{}: {e}",
                self.path.display()
            ))),
        }
    }
}

/// The batch as a DataFrame; the vectors become its buffers without a copy.
fn to_frame(columns: CandleColumns) -> PyResult<DataFrame> {
    let CandleColumns { time, values } = columns;
    let height = time.len();
    let mut cols = Vec::with_capacity(6);
    let mut names = COLUMNS.iter();
    let time_name = names.next().copied().unwrap_or("time");
    cols.push(
        Int64Chunked::from_vec(time_name.into(), time)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column(),
    );
    for (name, v) in names.zip(values) {
        cols.push(Float64Chunked::from_vec((*name).into(), v).into_column());
    }
    DataFrame::new(height, cols).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn parse_error(path: &std::path::Path, e: &CsvError) -> PyErr {
    let message = format!("{}: {e}", path.display());
    match e.kind {
        CsvErrorKind::BadTimestamp | CsvErrorKind::MixedZones { .. } => {
            TimestampParseError::new_err(message)
        }
        _ => SchemaError::new_err(message),
    }
}

fn io_error(path: &std::path::Path, e: &std::io::Error) -> PyErr {
    let shown = path.display();
    match e.kind() {
        ErrorKind::NotFound => CandleFileNotFoundError::new_err((
            format!("no candle file at {shown}"),
            vec![path.to_path_buf()],
        )),
        _ => FileReadError::new_err(format!("{shown}: cannot read the file: {e}")),
    }
}
