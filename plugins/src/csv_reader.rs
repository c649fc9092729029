//! A streaming reader of candle CSV files: fixed-size batches of parsed rows.
//!
//! Python's `omega_pl._csv.scan_candle_csv` wraps it in a Polars IO source.
//! The file is read through one reusable 2 MiB buffer and parsed straight
//! into the output columns (`kernels::csv`), so memory is the rows already
//! handed out, the batch being filled, the buffer and the second parsing
//! thread's rows of half a buffer (copied in): never the file or a text column.

use std::fs::File;
use std::io::{ErrorKind, Read};

use polars::prelude::*;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::kernels::csv::{
    count_newlines, end_of_lines, parse_chunk, CandleColumns, CsvError, CsvErrorKind, CsvLayout,
    Progress,
};

pyo3::import_exception!(omega_pl.errors, TimestampParseError);
pyo3::import_exception!(omega_pl.errors, SchemaError);

/// Bytes read from the file at a time (grown for a longer line).
const BUFFER_BYTES: usize = 2 << 20;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Output column names, in the order of the kernel's slots.
const COLUMNS: [&str; 6] = ["time", "open", "high", "low", "close", "volume"];

/// Why a batch could not be produced (turned into a Python exception with the GIL held).
enum ReadError {
    Io(std::io::Error),
    Parse(CsvError),
}

/// Reads a candle CSV file in batches of at most `batch_rows` rows.
///
/// `CandleCsvReader(path, separator, time_index, value_indices, names, batch_rows)`:
/// `separator` is one ASCII character; `time_index` and the five
/// `value_indices` (open, high, low, close, volume) are 0-based field
/// positions; `names` are the six header names, used in error messages. The
/// header line (and a UTF-8 byte order mark) is skipped.
#[pyclass(module = "omega_pl._plugins")]
pub struct CandleCsvReader {
    path: String,
    file: File,
    layout: CsvLayout,
    batch_rows: usize,
    /// `buf[start..filled]` is read but not yet parsed.
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    eof: bool,
    /// Data row number of the line at `buf[start]` (1 = the line after the header).
    next_row: u64,
    /// Set once the last batch was returned or an error was raised.
    done: bool,
}

#[pymethods]
impl CandleCsvReader {
    #[new]
    fn new(
        path: std::path::PathBuf,
        separator: &str,
        time_index: usize,
        value_indices: Vec<usize>,
        names: Vec<String>,
        batch_rows: usize,
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
        let shown = path.display().to_string();
        let file = File::open(&path).map_err(|e| io_error(&shown, e))?;
        let mut reader = Self {
            path: shown,
            file,
            layout,
            batch_rows,
            buf: vec![0; BUFFER_BYTES],
            start: 0,
            filled: 0,
            eof: false,
            next_row: 1,
            done: false,
        };
        reader
            .skip_header()
            .map_err(|e| io_error(&reader.path, e))?;
        Ok(reader)
    }

    /// The next batch as a DataFrame (`time` Datetime(us, UTC), then open,
    /// high, low, close, volume as Float64), or `None` after the last row.
    ///
    /// Raises `TimestampParseError` / `SchemaError` (both `ValueError`s)
    /// naming the file, column, data row and value of the first bad field,
    /// and `OSError` when the file cannot be read; after an error the reader
    /// is exhausted (further calls return `None`).
    fn next_batch(&mut self, py: Python<'_>) -> PyResult<Option<PyDataFrame>> {
        if self.done {
            return Ok(None);
        }
        let result = py.detach(|| self.read_batch());
        match result {
            Ok(Some(columns)) => Ok(Some(PyDataFrame(to_frame(columns)?))),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(match e {
                    ReadError::Io(e) => io_error(&self.path, e),
                    ReadError::Parse(e) => parse_error(&self.path, &e),
                })
            }
        }
    }
}

impl CandleCsvReader {
    /// Reads more of the file after moving the unparsed tail to the front of
    /// the buffer; doubles the buffer when it holds no complete line at all.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.filled, 0);
            self.filled -= self.start;
            self.start = 0;
        }
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        while self.filled < self.buf.len() {
            match self.file.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Skips a UTF-8 byte order mark and the header line.
    fn skip_header(&mut self) -> std::io::Result<()> {
        self.fill()?;
        if self.buf[..self.filled].starts_with(UTF8_BOM) {
            self.start = UTF8_BOM.len();
        }
        loop {
            if let Some(k) = self.buf[self.start..self.filled]
                .iter()
                .position(|&c| c == b'\n')
            {
                self.start += k + 1;
                return Ok(());
            }
            self.start = self.filled;
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Parses up to `batch_rows` rows; `None` when the file has no rows left.
    fn read_batch(&mut self) -> Result<Option<CandleColumns>, ReadError> {
        let mut out = CandleColumns::with_capacity(self.batch_rows);
        while out.len() < self.batch_rows {
            let pending = &self.buf[self.start..self.filled];
            let complete = if self.eof {
                pending.len()
            } else {
                pending
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |k| k + 1)
            };
            if complete > 0 {
                let want = self.batch_rows - out.len();
                let progress = parse_lines(
                    &pending[..complete],
                    &self.layout,
                    self.next_row,
                    want,
                    &mut out,
                )
                .map_err(ReadError::Parse)?;
                self.start += progress.bytes;
                self.next_row += progress.lines;
                if progress.bytes < complete {
                    continue; // at most `want` lines were taken; see if the batch is full
                }
            }
            if self.eof {
                break;
            }
            self.fill().map_err(ReadError::Io)?;
        }
        if out.is_empty() {
            return Ok(None);
        }
        if out.len() < self.batch_rows / 2 {
            // Last, short batch: give back the unused capacity.
            out.time.shrink_to_fit();
            out.values.iter_mut().for_each(Vec::shrink_to_fit);
        }
        Ok(Some(out))
    }
}

/// Below this many bytes of text a batch is parsed on the calling thread only.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Parses at most `want` lines of `text` (whole lines) into `out`, on two
/// threads when there is enough text: the first half of the lines on this
/// thread straight into `out`, the second half on a scoped thread into its
/// own columns, appended afterwards. Row numbers in errors are the file's
/// either way, and an error in the first half wins over one in the second.
fn parse_lines(
    text: &[u8],
    layout: &CsvLayout,
    first_row: u64,
    want: usize,
    out: &mut CandleColumns,
) -> Result<Progress, CsvError> {
    let end = end_of_lines(text, want);
    let text = &text[..end];
    let mid = end / 2 + end_of_lines(&text[end / 2..], 1);
    if end < PARALLEL_MIN_BYTES || mid >= end {
        return parse_chunk(text, layout, first_row, want, out);
    }
    let (head, tail) = text.split_at(mid);
    let mut rest = CandleColumns::with_capacity(count_newlines(tail) + 1);
    let (first, second) = std::thread::scope(|s| {
        let worker = s.spawn(|| parse_chunk(tail, layout, 1, usize::MAX, &mut rest));
        let first = parse_chunk(head, layout, first_row, usize::MAX, out);
        let second = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    });
    let first = first?;
    let second = second.map_err(|mut e| {
        e.row += first_row - 1 + first.lines;
        e
    })?;
    out.time.extend_from_slice(&rest.time);
    for (dst, src) in out.values.iter_mut().zip(&rest.values) {
        dst.extend_from_slice(src);
    }
    Ok(Progress {
        bytes: first.bytes + second.bytes,
        lines: first.lines + second.lines,
        rows: first.rows + second.rows,
    })
}

/// The batch as a DataFrame; the vectors become its buffers without a copy.
fn to_frame(columns: CandleColumns) -> PyResult<DataFrame> {
    let CandleColumns { time, values } = columns;
    let height = time.len();
    let time = Int64Chunked::from_vec(COLUMNS[0].into(), time)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column();
    let mut cols = Vec::with_capacity(6);
    cols.push(time);
    for (name, v) in COLUMNS[1..].iter().zip(values) {
        cols.push(Float64Chunked::from_vec((*name).into(), v).into_column());
    }
    DataFrame::new(height, cols).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn parse_error(path: &str, e: &CsvError) -> PyErr {
    let message = format!("{path}: {e}");
    match e.kind {
        CsvErrorKind::BadTimestamp => TimestampParseError::new_err(message),
        _ => SchemaError::new_err(message),
    }
}

fn io_error(path: &str, e: std::io::Error) -> PyErr {
    let message = format!("{path}: {e}");
    match e.kind() {
        ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}
