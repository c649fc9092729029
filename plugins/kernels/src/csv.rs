//! Candle CSV text to columns: one pass over a byte chunk of whole lines, and
//! [`BatchReader`], which streams a file through one buffer into batches.
//!
//! The reader owns the I/O and hands [`parse_chunk`] chunks that end at a line
//! boundary (or at the end of the file). Each line yields one row: the time
//! field through [`crate::timestamps::parse_timestamp_zoned`] (UTC epoch µs)
//! and the five value fields as `f64` (plain decimals on an exact fast path,
//! anything else through `str::parse::<f64>`; the result is the same). Rules:
//!
//! * lines end in `\n` or `\r\n`; the last line may lack its newline;
//! * blank lines (nothing but blanks or `\r`) are skipped; they still count
//!   in the row numbers, so data row `n` is always line `n + 1` of the file;
//! * a field in double quotes is read without its quotes, and separators
//!   inside the quotes do not split it (`""` inside quotes is skipped over, a
//!   newline inside quotes is not supported: lines are split first);
//! * blanks around a value are ignored; an empty or unreadable value, and a
//!   line with too few fields, is an error naming the row, column and value;
//! * a time column must not mix naive timestamps with ones that carry a zone
//!   (naive values are read as UTC; next to offsets that is likely wrong);
//! * with [`ReaderOptions::check_utf8`], bytes that are not UTF-8 are an error
//!   naming the line and the file's byte offset.
//!
//! Every input gives rows or a typed error, never a panic: this module reads
//! through `get`, never an index (clippy's `indexing_slicing` is denied), and
//! is fuzzed (`plugins/fuzz`, targets `csv_reader` and `csv_layout`).
//!
//! Unlike the numeric kernels this one appends to growable columns: the
//! number of rows in a chunk is not known before it is parsed.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fmt;
use std::io::{ErrorKind, Read};

use crate::timestamps::parse_timestamp_zoned;

/// The largest field index a layout may use: a line needs at most this many
/// fields before the last candle column (a header wider than this is not a
/// candle file, and the bound keeps the per-layout tables small).
pub const MAX_FIELD_INDEX: usize = 1 << 16;

/// Slot of a field the layout does not use.
const UNUSED: usize = usize::MAX;

/// Where the six candle fields are in a line, and what to call them in errors.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    /// Field separator (`b','`, `b';'`, `b'\t'` …); never `b'"'`, `b'\n'` or `b'\r'`.
    pub separator: u8,
    /// 0-based field index of the time column.
    pub time_index: usize,
    /// 0-based field indices of open, high, low, close and volume.
    pub value_indices: [usize; 5],
    /// Names of time, open, high, low, close, volume as the file spells them.
    pub names: [String; 6],
    /// Field index -> output slot (0 = time, 1..=5 = values; [`UNUSED`]), up
    /// to the last field used: its length is the number of fields a line needs.
    slot_of: Vec<usize>,
}

impl CsvLayout {
    /// The layout, or a message saying why it cannot be used.
    pub fn new(
        separator: u8,
        time_index: usize,
        value_indices: [usize; 5],
        names: [String; 6],
    ) -> Result<Self, String> {
        if matches!(separator, b'"' | b'\n' | b'\r') {
            return Err(format!(
                "the separator cannot be {:?}",
                char::from(separator)
            ));
        }
        let mut seen = vec![time_index];
        for &i in &value_indices {
            if seen.contains(&i) {
                return Err(format!("field index {i} is used for two candle columns"));
            }
            seen.push(i);
        }
        let last = seen.iter().copied().max().unwrap_or(0);
        if last > MAX_FIELD_INDEX {
            return Err(format!(
                "field index {last} is beyond the largest supported, {MAX_FIELD_INDEX}"
            ));
        }
        let mut slot_of = vec![UNUSED; last + 1];
        for (slot, &field) in seen.iter().enumerate() {
            if let Some(s) = slot_of.get_mut(field) {
                *s = slot;
            }
        }
        Ok(Self {
            separator,
            time_index,
            value_indices,
            names,
            slot_of,
        })
    }

    /// How many fields a line needs (one past the largest index used).
    fn needed(&self) -> usize {
        self.slot_of.len()
    }

    /// The header name of output slot `slot` (0 = time).
    fn name(&self, slot: usize) -> String {
        self.names.get(slot).cloned().unwrap_or_default()
    }
}

/// Output columns; rows are appended.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CandleColumns {
    /// UTC epoch microseconds.
    pub time: Vec<i64>,
    /// open, high, low, close, volume.
    pub values: [Vec<f64>; 5],
}

impl CandleColumns {
    /// Empty columns with room for `rows` rows each.
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            time: Vec::with_capacity(rows),
            values: std::array::from_fn(|_| Vec::with_capacity(rows)),
        }
    }

    /// Number of rows held.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Appends the rows of `other`.
    pub fn append(&mut self, other: &CandleColumns) {
        self.time.extend_from_slice(&other.time);
        for (dst, src) in self.values.iter_mut().zip(&other.values) {
            dst.extend_from_slice(src);
        }
    }

    /// Drops rows past the first `rows`.
    pub fn truncate(&mut self, rows: usize) {
        self.time.truncate(rows);
        self.values.iter_mut().for_each(|v| v.truncate(rows));
    }
}

/// Which kinds of timestamp a time column has shown so far: the first data
/// row of a naive one and of one with a zone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ZoneUse {
    /// First data row whose timestamp had no zone.
    pub first_naive: Option<u64>,
    /// First data row whose timestamp had a zone or offset.
    pub first_zoned: Option<u64>,
}

impl ZoneUse {
    /// Records that data row `row` is `zoned` or naive; the data row of the
    /// first timestamp of the other kind when the two are now mixed.
    #[inline]
    fn record(&mut self, row: u64, zoned: bool) -> Result<(), u64> {
        let (mine, other) = if zoned {
            (&mut self.first_zoned, self.first_naive)
        } else {
            (&mut self.first_naive, self.first_zoned)
        };
        if let Some(other) = other {
            return Err(other);
        }
        mine.get_or_insert(row);
        Ok(())
    }
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvErrorKind {
    /// The line ended before the field of `column`; it had `found` fields.
    TooFewFields { found: usize, needed: usize },
    /// The time field is not a timestamp in an accepted layout.
    BadTimestamp,
    /// The time field has a zone and an earlier one had none, or the reverse.
    MixedZones {
        /// Whether this row's timestamp is the one with the zone.
        zoned: bool,
        /// Data row of the first timestamp of the other kind.
        other_row: u64,
    },
    /// A value field is empty.
    EmptyNumber,
    /// A value field is not a number.
    BadNumber,
    /// A line longer than the reader accepts ([`ReaderOptions::max_line_bytes`]).
    LineTooLong { limit: usize },
}

/// The first bad line of a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based data row (line `row + 1` of the file, counting the header).
    pub row: u64,
    /// The column's name as in the header.
    pub column: String,
    /// The field's text (lossy UTF-8; the whole line for `TooFewFields`).
    pub value: String,
    /// What is wrong with it.
    pub kind: CsvErrorKind,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = format!(
            "at data row {} (line {} of the file)",
            self.row,
            self.row.saturating_add(1)
        );
        match &self.kind {
            CsvErrorKind::TooFewFields { found, needed } => write!(
                f,
                "line has {found} field(s) but column '{}' needs {needed}, {at}: {:?}",
                self.column, self.value
            ),
            CsvErrorKind::BadTimestamp => write!(
                f,
                "unparseable timestamp {:?} in column '{}' {at} (accepted: \
                 'YYYY-MM-DD HH:MM:SS[.f][±HH:MM|Z]', 'DD.MM.YYYY HH:MM:SS[.f]', \
                 'YYYY.MM.DD HH:MM', 'YYYYMMDD HHMMSS')",
                self.value, self.column
            ),
            CsvErrorKind::MixedZones { zoned, other_row } => {
                let (this, that) = if *zoned {
                    ("has a UTC offset", "has none")
                } else {
                    ("has no UTC offset", "has one")
                };
                write!(
                    f,
                    "mixed time zones in column '{}': timestamp {:?} {at} {this}, but the \
                     one at data row {other_row} {that} (naive timestamps are read as UTC, \
                     which is likely wrong next to offsets; write every timestamp the same way)",
                    self.column, self.value
                )
            }
            CsvErrorKind::EmptyNumber => {
                write!(f, "empty value in column '{}' {at}", self.column)
            }
            CsvErrorKind::BadNumber => {
                write!(
                    f,
                    "unparseable number {:?} in column '{}' {at}",
                    self.value, self.column
                )
            }
            CsvErrorKind::LineTooLong { limit } => write!(
                f,
                "line longer than {limit} bytes {at} (is this a candle CSV file?): {:?}",
                self.value
            ),
        }
    }
}

impl std::error::Error for CsvError {}

/// Bytes that are not valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodingError {
    /// 1-based line of the file holding the first bad byte.
    pub line: u64,
    /// 0-based byte offset of the first bad byte in the file.
    pub offset: u64,
    /// The bad bytes (the invalid sequence, at most 4 bytes).
    pub bytes: Vec<u8>,
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.bytes.iter().map(|b| format!("0x{b:02x}")).collect();
        write!(
            f,
            "not UTF-8: byte {} at line {}, byte offset {} (a Windows export? read it with \
             encoding=\"cp1252\", on the command line --encoding cp1252)",
            shown.join(" "),
            self.line,
            self.offset
        )
    }
}

impl std::error::Error for EncodingError {}

/// The first invalid UTF-8 sequence of `text`: its position and length.
pub fn invalid_utf8(text: &[u8]) -> Option<(usize, usize)> {
    match std::str::from_utf8(text) {
        Ok(_) => None,
        Err(e) => {
            let at = e.valid_up_to();
            let len = e
                .error_len()
                .unwrap_or_else(|| text.len().saturating_sub(at));
            Some((at, len.clamp(1, 4)))
        }
    }
}

/// How far [`parse_chunk`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the chunk consumed (whole lines, including their newline).
    pub bytes: usize,
    /// Lines consumed, blank ones included (advance the row counter by this).
    pub lines: u64,
    /// Rows appended to the output.
    pub rows: usize,
}

/// Parses whole lines of `chunk` into `out` until the chunk ends or
/// `max_rows` rows have been appended, whichever comes first.
///
/// `first_row` is the data row number of the chunk's first line (1 for the
/// line after the header). `chunk` should end at a line boundary; a last line
/// without newline is taken as complete. `zones` carries which kinds of
/// timestamp earlier chunks had. On error nothing is guaranteed about how many
/// rows of the chunk were appended to `out` before the bad one (the columns
/// may even differ in length by one).
pub fn parse_chunk(
    chunk: &[u8],
    layout: &CsvLayout,
    first_row: u64,
    max_rows: usize,
    zones: &mut ZoneUse,
    out: &mut CandleColumns,
) -> Result<Progress, CsvError> {
    let needed = layout.needed();
    let slot_of = layout.slot_of.as_slice();
    let mut spans = [(0usize, 0usize); 6];
    let sep = layout.separator;
    let mut pos = 0usize;
    let mut lines = 0u64;
    let mut rows = 0usize;
    while pos < chunk.len() && rows < max_rows {
        let row = first_row.saturating_add(lines);
        let (found, end) = split_line(chunk, pos, sep, slot_of, &mut spans);
        let line = chunk.get(pos..end).unwrap_or_default();
        let next = if end < chunk.len() { end + 1 } else { end };
        lines += 1;
        if found < needed {
            if line.trim_ascii().is_empty() {
                pos = next;
                continue;
            }
            let missing = slot_of
                .get(found..)
                .and_then(|rest| rest.iter().copied().find(|&s| s != UNUSED))
                .unwrap_or(0);
            return Err(CsvError {
                row,
                column: layout.name(missing),
                value: lossy(line.strip_suffix(b"\r").unwrap_or(line)),
                kind: CsvErrorKind::TooFewFields { found, needed },
            });
        }
        let [(ts, te), values @ ..] = spans;
        // Spans come from split_line within `chunk` (start <= end): `get` never fails.
        let text = chunk.get(ts..te).unwrap_or_default();
        match parse_timestamp_zoned(text) {
            Some((t, zoned)) => {
                if let Err(other_row) = zones.record(row, zoned) {
                    let kind = CsvErrorKind::MixedZones { zoned, other_row };
                    return Err(field_error(layout, row, 0, text, kind));
                }
                out.time.push(t);
            }
            None => {
                return Err(field_error(
                    layout,
                    row,
                    0,
                    text,
                    CsvErrorKind::BadTimestamp,
                ))
            }
        }
        for (k, (&(s, e), column)) in values.iter().zip(out.values.iter_mut()).enumerate() {
            let text = chunk.get(s..e).unwrap_or_default().trim_ascii();
            match parse_number(text) {
                Ok(v) => column.push(v),
                Err(kind) => return Err(field_error(layout, row, k + 1, text, kind)),
            }
        }
        rows += 1;
        pos = next;
    }
    Ok(Progress {
        bytes: pos,
        lines,
        rows,
    })
}

/// Number of `\n` bytes in `text`, at memory speed (byte-wide compares
/// summed in `u8` lanes, which the compiler vectorises; 192-byte pieces keep
/// the sums below 256).
pub fn count_newlines(text: &[u8]) -> usize {
    text.chunks(192)
        .map(|piece| usize::from(piece.iter().fold(0u8, |n, &c| n + u8::from(c == b'\n'))))
        .sum()
}

/// Byte offset just past the `n`-th newline of `chunk` (`chunk.len()` when it
/// has fewer): where a chunk of at most `n` lines ends.
pub fn end_of_lines(chunk: &[u8], n: usize) -> usize {
    const BLOCK: usize = 16 << 10;
    let mut left = n;
    let mut base = 0;
    for block in chunk.chunks(BLOCK) {
        if left == 0 {
            return base;
        }
        let count = count_newlines(block);
        if count >= left {
            let mut seen = 0;
            for (i, &c) in block.iter().enumerate() {
                if c == b'\n' {
                    seen += 1;
                    if seen == left {
                        return base + i + 1;
                    }
                }
            }
        }
        left -= count;
        base += block.len();
    }
    chunk.len()
}

/// Index of the first byte at or after `from` that `stop` accepts, or `b.len()`.
#[inline]
fn find(b: &[u8], from: usize, stop: impl Fn(u8) -> bool) -> usize {
    b.get(from..)
        .and_then(|rest| rest.iter().position(|&c| stop(c)))
        .map_or(b.len(), |k| from + k)
}

/// Splits the line starting at `i`: records the content span of every field
/// whose slot is used, up to the last needed field, then finds the line's
/// end. Returns (fields found up to `slot_of.len()`, index of the line's `\n`
/// or the chunk's end). A `\r` before the newline is left out of the last
/// field's span. Every span lies within `b`, start before end.
fn split_line(
    b: &[u8],
    mut i: usize,
    sep: u8,
    slot_of: &[usize],
    spans: &mut [(usize, usize); 6],
) -> (usize, usize) {
    let needed = slot_of.len();
    let mut field = 0usize;
    loop {
        let (start, end);
        if b.get(i) == Some(&b'"') {
            // Quoted: content runs to the closing quote; then skip to the separator.
            start = i + 1;
            let mut j = start;
            loop {
                let k = find(b, j, |c| c == b'"' || c == b'\n');
                if b.get(k) == Some(&b'"') {
                    if b.get(k + 1) == Some(&b'"') {
                        j = k + 2;
                        continue;
                    }
                    end = k;
                    i = k + 1;
                } else {
                    // Unterminated quote: the field runs to the end of the line.
                    end = trim_cr(b, start, k);
                    i = k;
                }
                break;
            }
            i = find(b, i, |c| c == sep || c == b'\n');
        } else {
            start = i;
            i = find(b, i, |c| c == sep || c == b'\n');
            end = trim_cr(b, start, i);
        }
        if let Some(span) = slot_of.get(field).and_then(|&slot| spans.get_mut(slot)) {
            *span = (start, end);
        }
        field += 1;
        if b.get(i) != Some(&sep) {
            return (field, i); // a newline or the end of the chunk
        }
        i += 1;
        if field == needed {
            return (field, find(b, i, |c| c == b'\n'));
        }
    }
}

/// `end`, less one if the span `start..end` ends in `\r` that precedes a newline or EOF.
#[inline]
fn trim_cr(b: &[u8], start: usize, end: usize) -> usize {
    let at_line_end = end == b.len() || b.get(end) == Some(&b'\n');
    if end > start && at_line_end && b.get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    }
}

/// A trimmed value field as `f64`: plain decimals through [`fast_decimal`],
/// anything else (exponents, `inf`, `NaN`, long mantissas) through `str::parse`.
#[inline]
fn parse_number(text: &[u8]) -> Result<f64, CsvErrorKind> {
    if text.is_empty() {
        return Err(CsvErrorKind::EmptyNumber);
    }
    if let Some(v) = fast_decimal(text) {
        return Ok(v);
    }
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or(CsvErrorKind::BadNumber)
}

/// Powers of ten that are exact in `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `[+-]digits[.digits]` with at most 15 digits in all, as `f64`; `None` for
/// anything else. Exact and identical to `str::parse` (Clinger's fast path:
/// the digits as an integer below 2^53 and the power of ten are both exact
/// doubles, so the one division rounds correctly).
#[inline]
fn fast_decimal(text: &[u8]) -> Option<f64> {
    let (negative, digits) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, text),
    };
    let mut mantissa = 0u64;
    let mut count = 0usize;
    let mut fraction: Option<usize> = None;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' if count < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                count += 1;
            }
            b'.' if fraction.is_none() => fraction = Some(i + 1),
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let scale = fraction.map_or(0, |start| digits.len() - start);
    // count <= 15 digits keeps mantissa < 10^15 < 2^53; scale <= count <= 15 < 23.
    #[allow(clippy::cast_precision_loss)]
    let v = mantissa as f64 / POW10.get(scale)?;
    Some(if negative { -v } else { v })
}

/// `b` as text for a message: lossy UTF-8, cut after 200 characters.
fn lossy(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b);
    if text.chars().nth(200).is_some() {
        let mut cut: String = text.chars().take(200).collect();
        cut.push('…');
        cut
    } else {
        text.into_owned()
    }
}

#[cold]
fn field_error(
    layout: &CsvLayout,
    row: u64,
    slot: usize,
    text: &[u8],
    kind: CsvErrorKind,
) -> CsvError {
    CsvError {
        row,
        column: layout.name(slot),
        value: lossy(text.trim_ascii()),
        kind,
    }
}

/// The [`CsvErrorKind::MixedZones`] error of data row `row`, line `local` (1-based) of `text`.
#[cold]
fn mixed_zones_error(
    text: &[u8],
    layout: &CsvLayout,
    row: u64,
    local: u64,
    zoned: bool,
    other_row: u64,
) -> CsvError {
    let skip = usize::try_from(local.saturating_sub(1)).unwrap_or(usize::MAX);
    let line = text.get(end_of_lines(text, skip)..).unwrap_or_default();
    let line = line.get(..end_of_lines(line, 1)).unwrap_or_default();
    // Parse the line again as if the other kind had come first: that gives the message.
    let mut probe = ZoneUse {
        first_naive: (zoned).then_some(other_row),
        first_zoned: (!zoned).then_some(other_row),
    };
    let mut scratch = CandleColumns::default();
    match parse_chunk(line, layout, row, 1, &mut probe, &mut scratch) {
        Err(e) => e,
        Ok(_) => CsvError {
            row,
            column: layout.name(0),
            value: String::new(),
            kind: CsvErrorKind::MixedZones { zoned, other_row },
        },
    }
}

// ---------------------------------------------------------------------------
// the streaming reader

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a [`BatchReader`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Rows per batch (at least 1).
    pub batch_rows: usize,
    /// Bytes read from the source at a time (grown for a longer line).
    pub buffer_bytes: usize,
    /// Longest line accepted: a longer one is an error, not an ever-growing buffer.
    pub max_line_bytes: usize,
    /// Below this many bytes of text a batch is parsed on the calling thread only.
    pub parallel_min_bytes: usize,
    /// Whether bytes that are not UTF-8 are an error (else they are left to
    /// the field parsers, for single-byte encodings such as Windows-1252).
    pub check_utf8: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            batch_rows: 131_072,
            buffer_bytes: 2 << 20,
            max_line_bytes: 16 << 20,
            parallel_min_bytes: 1 << 20,
            check_utf8: true,
        }
    }
}

/// Why a batch could not be produced.
#[derive(Debug)]
pub enum ReadError {
    /// The source could not be read.
    Io(std::io::Error),
    /// A line could not be parsed.
    Parse(CsvError),
    /// Bytes that are not UTF-8 (only with [`ReaderOptions::check_utf8`]).
    Encoding(EncodingError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Parse(e) => write!(f, "{e}"),
            Self::Encoding(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a candle CSV source in batches of at most `batch_rows` rows.
///
/// The source is read through one reusable buffer and parsed straight into
/// the output columns, so memory is the batch being filled, the buffer and,
/// for a large batch, the second parsing thread's rows of half a buffer:
/// never the file or a text column. The header line (and a UTF-8 byte order
/// mark) is skipped on the first call. After an error the reader is
/// exhausted: further calls return `Ok(None)`.
pub struct BatchReader<R> {
    source: R,
    layout: CsvLayout,
    options: ReaderOptions,
    /// `buf[start..filled]` is read but not yet parsed.
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    eof: bool,
    /// Data row number of the line at `buf[start]` (1 = the line after the header).
    next_row: u64,
    /// Byte offset in the source of `buf[start]`.
    offset: u64,
    zones: ZoneUse,
    header_done: bool,
    /// Set once the last batch was returned or an error was raised.
    done: bool,
}

impl<R: Read> BatchReader<R> {
    /// A reader of `source`; nothing is read before the first batch.
    /// `batch_rows` and `buffer_bytes` below 1 are taken as 1.
    pub fn new(source: R, layout: CsvLayout, options: ReaderOptions) -> Self {
        let options = ReaderOptions {
            batch_rows: options.batch_rows.max(1),
            buffer_bytes: options.buffer_bytes.max(1),
            max_line_bytes: options.max_line_bytes.max(1),
            ..options
        };
        Self {
            source,
            layout,
            options,
            buf: Vec::new(),
            start: 0,
            filled: 0,
            eof: false,
            next_row: 1,
            offset: 0,
            zones: ZoneUse::default(),
            header_done: false,
            done: false,
        }
    }

    /// The next batch, or `None` after the last row (or after an error).
    pub fn next_batch(&mut self) -> Result<Option<CandleColumns>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_batch();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    /// Every remaining row as one set of columns (tests and fuzzing).
    pub fn read_all(&mut self) -> Result<CandleColumns, ReadError> {
        let mut all = CandleColumns::default();
        while let Some(batch) = self.next_batch()? {
            all.append(&batch);
        }
        Ok(all)
    }

    /// The unparsed bytes in the buffer.
    fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.filled).unwrap_or_default()
    }

    /// Moves the start of the unparsed bytes `n` bytes on.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.filled - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Reads more of the source after moving the unparsed tail to the front
    /// of the buffer; doubles the buffer when the tail fills it.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            self.buf.resize(self.options.buffer_bytes, 0);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.filled, 0);
            self.filled -= self.start;
            self.start = 0;
        }
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        while let Some(space) = self.buf.get_mut(self.filled..).filter(|s| !s.is_empty()) {
            match self.source.read(space) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n.min(space.len()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The error for a line that grew past `max_line_bytes` without a newline.
    fn line_too_long(&self) -> ReadError {
        let pending = self.pending();
        ReadError::Parse(CsvError {
            row: self.next_row,
            column: self.layout.name(0),
            value: lossy(pending.get(..80).unwrap_or(pending)),
            kind: CsvErrorKind::LineTooLong {
                limit: self.options.max_line_bytes,
            },
        })
    }

    /// An encoding error for the invalid bytes at `at` (length `len`) of `text`,
    /// which starts the line numbered `first_line` at the source's `offset`.
    fn encoding_error(
        text: &[u8],
        at: usize,
        len: usize,
        first_line: u64,
        offset: u64,
    ) -> ReadError {
        let before = text.get(..at).unwrap_or_default();
        ReadError::Encoding(EncodingError {
            line: first_line + count_newlines(before) as u64,
            offset: offset + at as u64,
            bytes: text.get(at..at + len).unwrap_or_default().to_vec(),
        })
    }

    /// Skips a UTF-8 byte order mark and the header line.
    fn skip_header(&mut self) -> Result<(), ReadError> {
        self.fill().map_err(ReadError::Io)?;
        if self.pending().starts_with(UTF8_BOM) {
            self.consume(UTF8_BOM.len());
        }
        loop {
            let pending = self.pending();
            let newline = pending.iter().position(|&c| c == b'\n');
            let header = pending
                .get(..newline.unwrap_or(pending.len()))
                .unwrap_or_default();
            if self.options.check_utf8 && (newline.is_some() || self.eof) {
                if let Some((at, len)) = invalid_utf8(header) {
                    return Err(Self::encoding_error(header, at, len, 1, self.offset));
                }
            }
            if let Some(k) = newline {
                self.consume(k + 1);
                return Ok(());
            }
            if self.eof {
                self.consume(pending.len());
                return Ok(());
            }
            if pending.len() >= self.options.max_line_bytes {
                return Err(self.line_too_long());
            }
            self.fill().map_err(ReadError::Io)?;
        }
    }

    /// Parses up to `batch_rows` rows; `None` when the source has no rows left.
    fn read_batch(&mut self) -> Result<Option<CandleColumns>, ReadError> {
        if !self.header_done {
            self.header_done = true;
            self.skip_header()?;
        }
        let batch_rows = self.options.batch_rows;
        // With the rest of the source in the buffer the rows left are known to
        // be at most its lines: a small file gets small columns, and the last
        // batch of a large one needs no shrinking.
        let capacity = if self.eof {
            count_newlines(self.pending()) + 1
        } else {
            1 << 20
        };
        let mut out = CandleColumns::with_capacity(batch_rows.min(capacity));
        while out.len() < batch_rows {
            // Borrows `buf` alone, so `zones` can be lent to the parser.
            let pending = self.buf.get(self.start..self.filled).unwrap_or_default();
            let complete = if self.eof {
                pending.len()
            } else {
                pending
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |k| k + 1)
            };
            if complete > 0 {
                let want = batch_rows - out.len();
                let text = pending.get(..complete).unwrap_or_default();
                let text = text.get(..end_of_lines(text, want)).unwrap_or_default();
                if self.options.check_utf8 {
                    if let Some((at, len)) = invalid_utf8(text) {
                        // The lines before the bad one first: errors come in file order,
                        // whatever the buffer and batch sizes.
                        let before = text.get(..at).unwrap_or_default();
                        let line_start = before
                            .iter()
                            .rposition(|&c| c == b'\n')
                            .map_or(0, |k| k + 1);
                        parse_lines(
                            before.get(..line_start).unwrap_or_default(),
                            &self.layout,
                            self.next_row,
                            self.options.parallel_min_bytes,
                            &mut self.zones,
                            &mut out,
                        )
                        .map_err(ReadError::Parse)?;
                        return Err(Self::encoding_error(
                            text,
                            at,
                            len,
                            self.next_row + 1,
                            self.offset,
                        ));
                    }
                }
                let progress = parse_lines(
                    text,
                    &self.layout,
                    self.next_row,
                    self.options.parallel_min_bytes,
                    &mut self.zones,
                    &mut out,
                )
                .map_err(ReadError::Parse)?;
                self.consume(progress.bytes);
                self.next_row += progress.lines;
                if progress.bytes < complete {
                    continue; // at most `want` lines were taken; see if the batch is full
                }
            } else if !self.eof && pending.len() >= self.options.max_line_bytes {
                return Err(self.line_too_long());
            }
            if self.eof {
                break;
            }
            self.fill().map_err(ReadError::Io)?;
        }
        if out.is_empty() {
            return Ok(None);
        }
        if out.len() < batch_rows / 2 {
            // Last, short batch: give back the unused capacity.
            out.time.shrink_to_fit();
            out.values.iter_mut().for_each(Vec::shrink_to_fit);
        }
        Ok(Some(out))
    }
}

/// Parses the whole lines of `text` into `out`, on two threads when there are
/// at least `parallel_min_bytes`: the first half of the lines on this thread
/// straight into `out`, the second half on a scoped thread into its own
/// columns, appended afterwards. Row numbers in errors are the source's either
/// way, and an error in the first half wins over one in the second.
pub fn parse_lines(
    text: &[u8],
    layout: &CsvLayout,
    first_row: u64,
    parallel_min_bytes: usize,
    zones: &mut ZoneUse,
    out: &mut CandleColumns,
) -> Result<Progress, CsvError> {
    let end = text.len();
    let half = end / 2;
    let mid = half + end_of_lines(text.get(half..).unwrap_or_default(), 1);
    let split = (end >= parallel_min_bytes && mid < end)
        .then(|| text.split_at_checked(mid))
        .flatten();
    let Some((head, tail)) = split else {
        return parse_chunk(text, layout, first_row, usize::MAX, zones, out);
    };
    let mut rest = CandleColumns::with_capacity(count_newlines(tail) + 1);
    let mut tail_zones = ZoneUse::default();
    let (first, second) = std::thread::scope(|s| {
        let worker =
            s.spawn(|| parse_chunk(tail, layout, 1, usize::MAX, &mut tail_zones, &mut rest));
        let first = parse_chunk(head, layout, first_row, usize::MAX, zones, out);
        let second = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    });
    let first = first?;
    let shift = first_row - 1 + first.lines;
    let shifted = |row: Option<u64>| row.map(|r| r + shift);
    // The tail's own rows are numbered from 1: shift them to the source's.
    let tail_naive = shifted(tail_zones.first_naive);
    let tail_zoned = shifted(tail_zones.first_zoned);
    let conflict = match (zones.first_naive, zones.first_zoned, tail_naive, tail_zoned) {
        (Some(naive), None, _, Some(row)) => Some((row, true, naive)),
        (None, Some(zoned), Some(row), _) => Some((row, false, zoned)),
        _ => None,
    };
    let second = second.map_err(|mut e| {
        e.row += shift;
        if let CsvErrorKind::MixedZones { zoned, other_row } = &mut e.kind {
            // The other kind may have come first in the head.
            let head_other = if *zoned {
                zones.first_naive
            } else {
                zones.first_zoned
            };
            *other_row = head_other.unwrap_or(*other_row + shift);
        }
        e
    });
    if let Some((row, zoned, other_row)) = conflict {
        // The tail's first row of the other kind fails, unless an earlier row already did.
        if second.as_ref().err().is_none_or(|e| e.row >= row) {
            return Err(mixed_zones_error(
                tail,
                layout,
                row,
                row - shift,
                zoned,
                other_row,
            ));
        }
    }
    let second = second?;
    zones.first_naive = zones.first_naive.or(tail_naive);
    zones.first_zoned = zones.first_zoned.or(tail_zoned);
    out.append(&rest);
    Ok(Progress {
        bytes: first.bytes + second.bytes,
        lines: first.lines + second.lines,
        rows: first.rows + second.rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN1_2025: i64 = 1_735_689_600_000_000;
    const MIN: i64 = 60_000_000;

    fn native() -> CsvLayout {
        CsvLayout::new(
            b',',
            0,
            [1, 2, 3, 4, 5],
            ["UTC time", "Open", "High", "Low", "Close", "Volume"].map(String::from),
        )
        .unwrap()
    }

    fn parse(text: &str, layout: &CsvLayout) -> Result<(CandleColumns, Progress), CsvError> {
        let mut out = CandleColumns::default();
        let p = parse_chunk(
            text.as_bytes(),
            layout,
            1,
            usize::MAX,
            &mut ZoneUse::default(),
            &mut out,
        )?;
        Ok((out, p))
    }

    #[test]
    fn native_lines() {
        let text = "2025-01-01 00:00:00+00:00,1.1,1.2,1.0,1.15,10\n\
                    2025-01-01 00:01:00+00:00,1.15,1.25,1.05,1.2,20.5\n";
        let (out, p) = parse(text, &native()).unwrap();
        assert_eq!(out.time, vec![JAN1_2025, JAN1_2025 + MIN]);
        assert_eq!(out.values[0], vec![1.1, 1.15]);
        assert_eq!(out.values[3], vec![1.15, 1.2]);
        assert_eq!(out.values[4], vec![10.0, 20.5]);
        assert_eq!(
            p,
            Progress {
                bytes: text.len(),
                lines: 2,
                rows: 2
            }
        );
    }

    #[test]
    fn crlf_no_trailing_newline_blank_lines() {
        let text = "2025-01-01 00:00,1,2,0.5,1.5,3\r\n\r\n   \n2025-01-01 00:01,1,2,0.5,1.5,4";
        let (out, p) = parse(text, &native()).unwrap();
        assert_eq!(out.time, vec![JAN1_2025, JAN1_2025 + MIN]);
        assert_eq!(out.values[4], vec![3.0, 4.0]);
        assert_eq!(
            p,
            Progress {
                bytes: text.len(),
                lines: 4,
                rows: 2
            }
        );
    }

    #[test]
    fn quoted_fields_and_other_layouts() {
        let layout = CsvLayout::new(
            b';',
            1,
            [2, 3, 4, 5, 6],
            ["Gmt time", "Open", "High", "Low", "Close", "Volume"].map(String::from),
        )
        .unwrap();
        let text = "\"x;y\";\"01.01.2025 00:00:00.000\";\"1.5\"; 2 ;1;1.5;\"7\"\r\n\
                    idx;01.01.2025 00:01:00.000;1;2;1;1.5;8;extra;fields\n";
        let (out, _) = parse(text, &layout).unwrap();
        assert_eq!(out.time, vec![JAN1_2025, JAN1_2025 + MIN]);
        assert_eq!(out.values[0], vec![1.5, 1.0]);
        assert_eq!(out.values[1], vec![2.0, 2.0]);
        assert_eq!(out.values[4], vec![7.0, 8.0]);
    }

    #[test]
    fn max_rows_stops_at_a_line_boundary() {
        let line = "2025-01-01 00:00,1,2,0.5,1.5,3\n";
        let text = line.repeat(10);
        let mut out = CandleColumns::default();
        let p = parse_chunk(
            text.as_bytes(),
            &native(),
            1,
            3,
            &mut ZoneUse::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(
            p,
            Progress {
                bytes: 3 * line.len(),
                lines: 3,
                rows: 3
            }
        );
        let q = parse_chunk(
            &text.as_bytes()[p.bytes..],
            &native(),
            4,
            usize::MAX,
            &mut ZoneUse::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(q.rows, 7);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn bad_timestamp_names_row_column_value() {
        let text = "2025-01-01 00:00,1,2,0.5,1.5,3\n\n2025-13-01 00:00,1,2,0.5,1.5,3\n";
        let mut out = CandleColumns::default();
        let err = parse_chunk(
            text.as_bytes(),
            &native(),
            40,
            usize::MAX,
            &mut ZoneUse::default(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(err.row, 42);
        assert_eq!(err.column, "UTC time");
        assert_eq!(err.value, "2025-13-01 00:00");
        assert_eq!(err.kind, CsvErrorKind::BadTimestamp);
        let msg = err.to_string();
        assert!(msg.contains("data row 42 (line 43"), "{msg}");
        assert!(msg.contains("\"2025-13-01 00:00\""), "{msg}");
    }

    #[test]
    fn bad_and_empty_numbers() {
        let err = parse("2025-01-01,1,2,abc,1.5,3\n", &native()).unwrap_err();
        assert_eq!(
            (err.row, err.column.as_str(), err.value.as_str()),
            (1, "Low", "abc")
        );
        assert_eq!(err.kind, CsvErrorKind::BadNumber);
        let err = parse(
            "2025-01-01,1,2,0.5,1.5,3\r\n2025-01-01,1,2,0.5,1.5, \r\n",
            &native(),
        )
        .unwrap_err();
        assert_eq!((err.row, err.column.as_str()), (2, "Volume"));
        assert_eq!(err.kind, CsvErrorKind::EmptyNumber);
        assert!(err.to_string().contains("empty value in column 'Volume'"));
        let err = parse("2025-01-01,1,2,0.5,1.5,\"\"", &native()).unwrap_err();
        assert_eq!(err.kind, CsvErrorKind::EmptyNumber);
    }

    #[test]
    fn too_few_fields() {
        let err = parse("2025-01-01,1,2,0.5,1.5,3\n2025-01-01,1,2\r\n", &native()).unwrap_err();
        assert_eq!(err.row, 2);
        assert_eq!(err.column, "Low");
        assert_eq!(err.value, "2025-01-01,1,2");
        assert_eq!(
            err.kind,
            CsvErrorKind::TooFewFields {
                found: 3,
                needed: 6
            }
        );
    }

    #[test]
    fn unterminated_quote_and_bad_utf8() {
        let err = parse("\"2025-01-01,1,2,0.5,1.5,3\n", &native()).unwrap_err();
        assert_eq!(err.row, 1);
        assert!(matches!(err.kind, CsvErrorKind::TooFewFields { .. }));
        let mut out = CandleColumns::default();
        let err = parse_chunk(
            b"2025-01-01,1,\xff,0.5,1.5,3\n",
            &native(),
            1,
            9,
            &mut ZoneUse::default(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(
            (err.column.as_str(), err.value.as_str()),
            ("High", "\u{fffd}")
        );
    }

    #[test]
    fn fast_decimals_match_std_parse() {
        let cases = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "+1.5",
            "28.0",
            "1.09914",
            "123456789012345",
            "0.00000000000001",
            "99999.9999999999",
            "1.",
            ".5",
            "-.25",
            "3",
            "1.1234567890123",
            "0.1",
            "0.3",
            "2.675",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap();
            let got = fast_decimal(c.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
        for c in [
            "",
            ".",
            "-",
            "1e5",
            "1.2.3",
            "nan",
            "inf",
            "1,5",
            "1234567890123456",
            "12345678901234567890123",
            "--1",
        ] {
            assert_eq!(fast_decimal(c.as_bytes()), None, "{c}");
        }
        assert_eq!(parse_number(b"1e-3"), Ok(0.001));
        assert_eq!(
            parse_number(b"1234567890123456789"),
            Ok(1_234_567_890_123_456_789.0)
        );
        assert!(parse_number(b"NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_number(b"."), Err(CsvErrorKind::BadNumber));
        // Random decimals: the fast path agrees with std to the bit.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 1_000_000_000_000_000) as f64;
            let text = format!(
                "{:.*}",
                (x >> 60) as usize % 16,
                digits / 10f64.powi(((x >> 56) % 16) as i32)
            );
            let want: f64 = text.parse().unwrap();
            assert_eq!(
                parse_number(text.as_bytes()).map(f64::to_bits),
                Ok(want.to_bits()),
                "{text}"
            );
        }
    }

    #[test]
    fn end_of_lines_counts_newlines() {
        let text = "a\nbb\n\nccc\nd";
        assert_eq!(end_of_lines(text.as_bytes(), 0), 0);
        assert_eq!(end_of_lines(text.as_bytes(), 1), 2);
        assert_eq!(end_of_lines(text.as_bytes(), 3), 6);
        assert_eq!(end_of_lines(text.as_bytes(), 4), 10);
        assert_eq!(end_of_lines(text.as_bytes(), 5), text.len());
        let long = "0123456789abcde\n".repeat(5000); // 80_000 bytes, several blocks
        for n in [1, 1023, 1024, 1025, 4999, 5000] {
            assert_eq!(end_of_lines(long.as_bytes(), n), 16 * n, "{n}");
        }
        assert_eq!(end_of_lines(long.as_bytes(), 6000), long.len());
        assert_eq!(count_newlines(long.as_bytes()), 5000);
        assert_eq!(count_newlines(&[b'\n'; 1000]), 1000);
        assert_eq!(count_newlines(b""), 0);
    }

    #[test]
    fn empty_chunk_and_layout_checks() {
        let (out, p) = parse("", &native()).unwrap();
        assert!(out.is_empty());
        assert_eq!(
            p,
            Progress {
                bytes: 0,
                lines: 0,
                rows: 0
            }
        );
        let names = ["t", "o", "h", "l", "c", "v"].map(String::from);
        assert!(CsvLayout::new(b',', 0, [1, 2, 3, 4, 0], names.clone()).is_err());
        assert!(CsvLayout::new(b'"', 0, [1, 2, 3, 4, 5], names).is_err());
    }

    /// A source that hands out at most `step` bytes per read (and an
    /// `Interrupted` error now and then), to exercise the buffer refills.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        calls: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 7 == 0 {
                return Err(std::io::Error::new(ErrorKind::Interrupted, "again"));
            }
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn small(batch_rows: usize, buffer_bytes: usize) -> ReaderOptions {
        ReaderOptions {
            batch_rows,
            buffer_bytes,
            max_line_bytes: 1 << 10,
            parallel_min_bytes: 64,
            check_utf8: true,
        }
    }

    fn read_all(
        data: &[u8],
        options: ReaderOptions,
        step: usize,
    ) -> Result<CandleColumns, ReadError> {
        let source = Trickle {
            data,
            step,
            calls: 0,
        };
        BatchReader::new(source, native(), options).read_all()
    }

    fn file(rows: usize) -> String {
        let mut text = String::from("\u{feff}UTC time,Open,High,Low,Close,Volume\r\n");
        for i in 0..rows {
            text.push_str(&format!(
                "2025-01-01 {:02}:{:02}:00+00:00,1.{i},2,0.5,1.5,{i}\r\n",
                i / 60 % 24,
                i % 60
            ));
            if i % 17 == 3 {
                text.push_str("\r\n");
            }
        }
        text
    }

    #[test]
    fn batch_reader_equals_one_pass_whatever_the_buffer() {
        let text = file(500);
        let body = &text.as_bytes()[text.find('\n').unwrap() + 1..];
        let (want, _) = parse(std::str::from_utf8(body).unwrap(), &native()).unwrap();
        assert_eq!(want.len(), 500);
        for (batch_rows, buffer_bytes, step) in [
            (1, 1, 1),
            (7, 16, 5),
            (64, 100, 333),
            (1000, 4096, 10_000),
            (131_072, 2 << 20, usize::MAX),
        ] {
            let got = read_all(text.as_bytes(), small(batch_rows, buffer_bytes), step).unwrap();
            assert_eq!(got, want, "{batch_rows} {buffer_bytes} {step}");
        }
    }

    #[test]
    fn batch_reader_error_rows_are_the_files() {
        let mut text = file(300);
        text.push_str("2025-01-02 00:00:00+00:00,1,2,x,1,1\n");
        for (batch_rows, buffer_bytes) in [(1, 1), (10, 64), (1000, 1 << 16)] {
            let err = read_all(text.as_bytes(), small(batch_rows, buffer_bytes), 97).unwrap_err();
            let ReadError::Parse(e) = err else {
                panic!("{err}")
            };
            // 300 rows and 18 blank lines before it.
            assert_eq!(
                (e.row, e.column.as_str(), e.value.as_str()),
                (319, "Low", "x")
            );
        }
    }

    #[test]
    fn batch_reader_empty_header_only_and_no_newline() {
        for text in [
            "",
            "\u{feff}",
            "UTC time,Open,High,Low,Close,Volume",
            "h\n",
            "h\r\n\r\n",
        ] {
            let got = read_all(text.as_bytes(), small(5, 3), 2).unwrap();
            assert!(got.is_empty(), "{text:?}");
        }
        let got = read_all(b"h\n2025-01-01,1,2,0.5,1.5,3", small(5, 3), 2).unwrap();
        assert_eq!(got.time, vec![JAN1_2025]);
    }

    #[test]
    fn batch_reader_reports_bad_utf8_with_line_and_offset() {
        let text = b"UTC time,Open,High,Low,Close,Volume\n2025-01-01,1,2,0.5,1.5,3\n2025-01-01,1,2,0.5,1.5,3 caf\xe9\n";
        for (batch_rows, buffer_bytes) in [(1, 1), (100, 1 << 12)] {
            let err = read_all(text, small(batch_rows, buffer_bytes), 11).unwrap_err();
            let ReadError::Encoding(e) = err else {
                panic!("{err}")
            };
            assert_eq!((e.line, e.offset, e.bytes.clone()), (3, 89, vec![0xe9]));
            let msg = e.to_string();
            assert!(msg.contains("line 3, byte offset 89"), "{msg}");
        }
        let err = read_all(b"\xef\xbb\xbfUTC time,Op\xe9n\n", small(5, 4), 3).unwrap_err();
        let ReadError::Encoding(e) = err else {
            panic!("{err}")
        };
        assert_eq!((e.line, e.offset), (1, 14));
        // Without the check the byte is the field parser's business.
        let options = ReaderOptions {
            check_utf8: false,
            ..small(5, 64)
        };
        let err = read_all(text, options, 11).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Parse(CsvError {
                    row: 2,
                    kind: CsvErrorKind::BadNumber,
                    ..
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn batch_reader_refuses_endless_lines() {
        let mut text = b"UTC time,Open,High,Low,Close,Volume\n".to_vec();
        text.extend(std::iter::repeat_n(b'7', 5000));
        let err = read_all(&text, small(5, 64), 100).unwrap_err();
        let ReadError::Parse(e) = err else {
            panic!("{err}")
        };
        assert_eq!(
            (e.row, &e.kind),
            (1, &CsvErrorKind::LineTooLong { limit: 1 << 10 })
        );
        let err = read_all(&text[36..], small(5, 64), 100).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Parse(CsvError {
                    row: 1,
                    kind: CsvErrorKind::LineTooLong { .. },
                    ..
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn mixed_zones_are_an_error_offsets_alone_are_not() {
        let (out, _) = parse(
            "2025-01-01 01:00:00+01:00,1,2,0.5,1.5,3\n2025-01-01 00:05:00Z,1,2,0.5,1.5,3\n",
            &native(),
        )
        .unwrap();
        assert_eq!(out.time, vec![JAN1_2025, JAN1_2025 + 5 * MIN]);
        let err = parse(
            "2025-01-01 00:00:00,1,2,0.5,1.5,3\n\n2025-01-01 00:05:00+00:00,1,2,0.5,1.5,3\n",
            &native(),
        )
        .unwrap_err();
        assert_eq!(err.row, 3);
        assert_eq!(
            err.kind,
            CsvErrorKind::MixedZones {
                zoned: true,
                other_row: 1
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("mixed time zones in column 'UTC time'"),
            "{msg}"
        );
        assert!(
            msg.contains("\"2025-01-01 00:05:00+00:00\" at data row 3"),
            "{msg}"
        );
    }

    #[test]
    fn mixed_zones_across_the_parallel_split() {
        // Naive head, zoned tail (and the reverse): the error names the
        // tail's first row of the other kind and the head's first row.
        let naive = "2025-01-01 00:00:00,1,2,0.5,1.5,3\n";
        let zoned = "2025-01-01 00:00:00Z,1,2,0.5,1.5,3\n";
        for (a, b, zoned_flag) in [(naive, zoned, true), (zoned, naive, false)] {
            let text = format!("{}{}", a.repeat(40), b.repeat(40));
            for min in [64, 1 << 20] {
                let mut out = CandleColumns::default();
                let err = parse_lines(
                    text.as_bytes(),
                    &native(),
                    5,
                    min,
                    &mut ZoneUse::default(),
                    &mut out,
                )
                .unwrap_err();
                assert_eq!(err.row, 45, "{min}");
                assert_eq!(
                    err.kind,
                    CsvErrorKind::MixedZones {
                        zoned: zoned_flag,
                        other_row: 5
                    }
                );
                assert_eq!(err.value, b.split(',').next().unwrap());
            }
        }
        // Mixed inside the tail only: rows are the source's.
        let text = format!(
            "{}{}{}",
            naive.repeat(40),
            naive.repeat(10),
            zoned.repeat(30)
        );
        let mut out = CandleColumns::default();
        let err = parse_lines(
            text.as_bytes(),
            &native(),
            1,
            64,
            &mut ZoneUse::default(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(
            (err.row, err.kind),
            (
                51,
                CsvErrorKind::MixedZones {
                    zoned: true,
                    other_row: 1
                }
            )
        );
    }

    #[test]
    fn parallel_split_matches_one_thread() {
        let text = file(2000);
        let body = &text.as_bytes()[text.find('\n').unwrap() + 1..];
        let mut one = CandleColumns::default();
        let p1 = parse_lines(
            body,
            &native(),
            1,
            usize::MAX,
            &mut ZoneUse::default(),
            &mut one,
        )
        .unwrap();
        let mut two = CandleColumns::default();
        let p2 = parse_lines(body, &native(), 1, 64, &mut ZoneUse::default(), &mut two).unwrap();
        assert_eq!((one, p1), (two, p2));
    }

    #[test]
    fn layout_rejects_huge_indices() {
        let names = ["t", "o", "h", "l", "c", "v"].map(String::from);
        let err = CsvLayout::new(b',', usize::MAX, [1, 2, 3, 4, 5], names.clone()).unwrap_err();
        assert!(err.contains("beyond"), "{err}");
        assert!(CsvLayout::new(b',', MAX_FIELD_INDEX, [1, 2, 3, 4, 5], names).is_ok());
    }
}
