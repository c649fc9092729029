//! Candle CSV text to columns: one pass over a byte chunk of whole lines.
//!
//! The caller (the file reader) owns the I/O and hands in chunks that end at a
//! line boundary (or at the end of the file). Each line yields one row: the
//! time field through [`crate::timestamps::parse_timestamp`] (UTC epoch µs)
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
//!   line with too few fields, is an error naming the row, column and value.
//!
//! Unlike the numeric kernels this one appends to growable columns: the
//! number of rows in a chunk is not known before it is parsed.

use std::fmt;

use crate::timestamps::parse_timestamp;

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
        Ok(Self {
            separator,
            time_index,
            value_indices,
            names,
        })
    }

    /// How many fields a line needs (one past the largest index used).
    fn needed(&self) -> usize {
        self.value_indices
            .iter()
            .copied()
            .fold(self.time_index, usize::max)
            + 1
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
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvErrorKind {
    /// The line ended before the field of `column`; it had `found` fields.
    TooFewFields { found: usize, needed: usize },
    /// The time field is not a timestamp in an accepted layout.
    BadTimestamp,
    /// A value field is empty.
    EmptyNumber,
    /// A value field is not a number.
    BadNumber,
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
            self.row + 1
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
        }
    }
}

impl std::error::Error for CsvError {}

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
/// without newline is taken as complete. On error nothing is guaranteed about
/// how many rows of the chunk were appended to `out` before the bad one.
pub fn parse_chunk(
    chunk: &[u8],
    layout: &CsvLayout,
    first_row: u64,
    max_rows: usize,
    out: &mut CandleColumns,
) -> Result<Progress, CsvError> {
    let needed = layout.needed();
    // Field index -> output slot (0 = time, 1..=5 = values); usize::MAX = unused.
    let mut slot_of = vec![usize::MAX; needed];
    slot_of[layout.time_index] = 0;
    for (k, &i) in layout.value_indices.iter().enumerate() {
        slot_of[i] = k + 1;
    }
    let mut spans = [(0usize, 0usize); 6];
    let sep = layout.separator;
    let mut pos = 0usize;
    let mut lines = 0u64;
    let mut rows = 0usize;
    while pos < chunk.len() && rows < max_rows {
        let row = first_row + lines;
        let (found, end) = split_line(chunk, pos, sep, &slot_of, &mut spans);
        let line = &chunk[pos..end];
        let next = if end < chunk.len() { end + 1 } else { end };
        lines += 1;
        if found < needed {
            if line.trim_ascii().is_empty() {
                pos = next;
                continue;
            }
            let missing = slot_of[found..]
                .iter()
                .copied()
                .find(|&s| s != usize::MAX)
                .unwrap_or(0);
            return Err(CsvError {
                row,
                column: layout.names[missing].clone(),
                value: lossy(line.strip_suffix(b"\r").unwrap_or(line)),
                kind: CsvErrorKind::TooFewFields { found, needed },
            });
        }
        let (ts, te) = spans[0];
        let text = &chunk[ts..te];
        match parse_timestamp(text) {
            Some(t) => out.time.push(t),
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
        for k in 0..5 {
            let (s, e) = spans[k + 1];
            let text = chunk[s..e].trim_ascii();
            match parse_number(text) {
                Ok(v) => out.values[k].push(v),
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

/// Splits the line starting at `pos`: records the content span of every
/// field whose slot is used, up to the last needed field, then finds the
/// line's end. Returns (fields found up to `slot_of.len()`, index of the
/// line's `\n` or the chunk's end). A `\r` before the newline is left out of
/// the last field's span.
fn split_line(
    b: &[u8],
    mut i: usize,
    sep: u8,
    slot_of: &[usize],
    spans: &mut [(usize, usize); 6],
) -> (usize, usize) {
    let n = b.len();
    let needed = slot_of.len();
    let mut field = 0usize;
    loop {
        let (start, end);
        if i < n && b[i] == b'"' {
            // Quoted: content runs to the closing quote; then skip to the separator.
            i += 1;
            start = i;
            loop {
                match b[i..].iter().position(|&c| c == b'"' || c == b'\n') {
                    Some(k) if b[i + k] == b'"' => {
                        if b.get(i + k + 1) == Some(&b'"') {
                            i += k + 2;
                            continue;
                        }
                        end = i + k;
                        i += k + 1;
                    }
                    Some(k) => {
                        // Unterminated quote: the field runs to the end of the line.
                        i += k;
                        end = trim_cr(b, start, i);
                    }
                    None => {
                        i = n;
                        end = trim_cr(b, start, i);
                    }
                }
                break;
            }
            while i < n && b[i] != sep && b[i] != b'\n' {
                i += 1;
            }
        } else {
            start = i;
            while i < n && b[i] != sep && b[i] != b'\n' {
                i += 1;
            }
            end = trim_cr(b, start, i);
        }
        let slot = slot_of[field];
        if slot != usize::MAX {
            spans[slot] = (start, end);
        }
        field += 1;
        if i >= n || b[i] == b'\n' {
            return (field, i);
        }
        // b[i] is the separator.
        i += 1;
        if field == needed {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(n, |k| i + k);
            return (field, end);
        }
    }
}

/// `end`, less one if the span `start..end` ends in `\r` that precedes a newline or EOF.
#[inline]
fn trim_cr(b: &[u8], start: usize, end: usize) -> usize {
    if end > start && b[end - 1] == b'\r' && (end == b.len() || b[end] == b'\n') {
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
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
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
    let v = mantissa as f64 / POW10[scale];
    Some(if negative { -v } else { v })
}

/// `b` as text for a message: lossy UTF-8, cut after 200 characters.
fn lossy(b: &[u8]) -> String {
    let text = String::from_utf8_lossy(b);
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.into_owned(),
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
        column: layout.names[slot].clone(),
        value: lossy(text.trim_ascii()),
        kind,
    }
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
        let p = parse_chunk(text.as_bytes(), layout, 1, usize::MAX, &mut out)?;
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
        let p = parse_chunk(text.as_bytes(), &native(), 1, 3, &mut out).unwrap();
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
        let err = parse_chunk(text.as_bytes(), &native(), 40, usize::MAX, &mut out).unwrap_err();
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
        let err =
            parse_chunk(b"2025-01-01,1,\xff,0.5,1.5,3\n", &native(), 1, 9, &mut out).unwrap_err();
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
}
