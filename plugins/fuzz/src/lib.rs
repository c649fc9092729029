//! What the fuzz targets check, as plain functions of the input bytes.
//!
//! Each function panics (which libFuzzer reports as a crash) when the code
//! under test panics or breaks a property; otherwise it returns. The same
//! functions replay the saved regression inputs in `cargo test -p
//! omega-kernels` (`kernels/tests/fuzz_regressions.rs` includes this file),
//! so no nightly toolchain is needed to keep a fixed crash fixed.
//!
//! * [`csv_reader`]: a whole CSV file. Its layout is found from the header
//!   the way `omega_pl.io` does it (ported below: separator, time column by
//!   name or an unnamed first column, value columns by name), then the file
//!   goes through `BatchReader` under several buffer sizes, batch sizes, read
//!   sizes and parallel thresholds, and through a one-pass reference. All must
//!   agree: the same rows bit for bit, or the same first error.
//! * [`csv_layout`]: an arbitrary layout (separator, six field positions as
//!   `u32`) from the first 25 bytes, then the file. `CsvLayout::new` must
//!   accept it or say why (a quote or newline separator, a repeated position,
//!   a position beyond `MAX_FIELD_INDEX`); an accepted one must read the file
//!   like [`csv_reader`] does, and an error must name a row within the file
//!   and a column of the layout.
//! * [`timestamps`]: one timestamp. `parse_timestamp_zoned` must give `None`
//!   or an instant that reads back the same when written as
//!   `YYYY-MM-DDTHH:MM:SS.ffffffZ`, with or without blanks around it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{ErrorKind, Read};

use omega_kernels::csv::{
    count_newlines, invalid_utf8, parse_chunk, BatchReader, CandleColumns, CsvError, CsvErrorKind,
    CsvLayout, EncodingError, ReadError, ReaderOptions, ZoneUse, MAX_FIELD_INDEX,
};
use omega_kernels::timestamps::{days_from_civil, parse_timestamp, parse_timestamp_zoned};

/// A source handing out at most `step` bytes per read, with an
/// `Interrupted` error now and then, like a slow pipe.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls % 5 == 0 {
            return Err(std::io::Error::new(ErrorKind::Interrupted, "again"));
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A result with `ReadError` made comparable (I/O errors cannot happen here).
#[derive(Debug, PartialEq)]
enum Outcome {
    Rows {
        time: Vec<i64>,
        values: [Vec<u64>; 5],
    },
    Parse(CsvError),
    Encoding(EncodingError),
}

fn outcome(result: Result<CandleColumns, ReadError>) -> Outcome {
    match result {
        Ok(c) => {
            let n = c.time.len();
            for v in &c.values {
                assert_eq!(v.len(), n, "columns of different lengths");
            }
            Outcome::Rows {
                time: c.time,
                values: c.values.map(|v| v.into_iter().map(f64::to_bits).collect()),
            }
        }
        Err(ReadError::Parse(e)) => Outcome::Parse(e),
        Err(ReadError::Encoding(e)) => Outcome::Encoding(e),
        Err(ReadError::Io(e)) => panic!("I/O error from an in-memory source: {e}"),
    }
}

/// Reads `data` with `layout` through a [`BatchReader`] fed by a [`Trickle`].
fn read(
    data: &[u8],
    layout: &CsvLayout,
    options: ReaderOptions,
    step: usize,
) -> Result<CandleColumns, ReadError> {
    let source = Trickle {
        data,
        step,
        calls: 0,
    };
    BatchReader::new(source, layout.clone(), options).read_all()
}

/// The reference: the file's rows in one [`parse_chunk`] call, with the
/// header, byte order mark and UTF-8 rules spelled out separately.
fn reference(data: &[u8], layout: &CsvLayout, check_utf8: bool) -> Outcome {
    let bom = if data.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let after_bom = &data[bom..];
    let header_len = after_bom
        .iter()
        .position(|&c| c == b'\n')
        .map_or(after_bom.len(), |k| k + 1);
    let header = after_bom[..header_len]
        .strip_suffix(b"\n")
        .unwrap_or(&after_bom[..header_len]);
    if check_utf8 {
        if let Some((at, len)) = invalid_utf8(header) {
            return Outcome::Encoding(EncodingError {
                line: 1,
                offset: (bom + at) as u64,
                bytes: header[at..(at + len).min(header.len())].to_vec(),
            });
        }
    }
    let body = &after_bom[header_len..];
    let mut out = CandleColumns::default();
    let mut zones = ZoneUse::default();
    if check_utf8 {
        if let Some((at, len)) = invalid_utf8(body) {
            // The lines before the bad one are read first: their errors come first.
            let line_start = body[..at]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |k| k + 1);
            if let Err(e) = parse_chunk(
                &body[..line_start],
                layout,
                1,
                usize::MAX,
                &mut zones,
                &mut out,
            ) {
                return Outcome::Parse(e);
            }
            return Outcome::Encoding(EncodingError {
                line: 2 + count_newlines(&body[..at]) as u64,
                offset: (bom + header_len + at) as u64,
                bytes: body[at..(at + len).min(body.len())].to_vec(),
            });
        }
    }
    outcome(
        parse_chunk(body, layout, 1, usize::MAX, &mut zones, &mut out)
            .map(|_| out)
            .map_err(ReadError::Parse),
    )
}

/// Reader settings tried on every input: (batch rows, buffer bytes, bytes per
/// read, parallel threshold). One of them splits batches between two threads
/// (from 64 bytes on); the last reads like the production defaults do for an
/// input of at most 64 KiB (whole in the buffer, one batch, one thread) but
/// without zeroing a 2 MiB buffer on every run.
const CONFIGS: [(usize, usize, usize, usize); 4] = [
    (1, 1, 1, usize::MAX),
    (3, 7, 5, usize::MAX),
    (64, 100, 333, 64),
    (131_072, 1 << 16, usize::MAX, 1 << 20),
];

/// Reads `data` with `layout` under every [`CONFIGS`] entry and checks that
/// each agrees with [`reference`].
fn agree(data: &[u8], layout: &CsvLayout, check_utf8: bool) -> Outcome {
    let want = reference(data, layout, check_utf8);
    for (batch_rows, buffer_bytes, step, parallel_min_bytes) in CONFIGS {
        let options = ReaderOptions {
            batch_rows,
            buffer_bytes,
            max_line_bytes: usize::MAX / 4,
            parallel_min_bytes,
            check_utf8,
        };
        let got = outcome(read(data, layout, options, step));
        assert_eq!(
            got, want,
            "reader with batch_rows={batch_rows} buffer_bytes={buffer_bytes} step={step} \
             parallel_min_bytes={parallel_min_bytes} differs from the one-pass reference"
        );
    }
    // A small line limit: an error or the same rows, never a panic or a hang.
    let options = ReaderOptions {
        batch_rows: 5,
        buffer_bytes: 8,
        max_line_bytes: 64,
        parallel_min_bytes: usize::MAX,
        check_utf8,
    };
    match read(data, layout, options, 9) {
        Err(ReadError::Parse(CsvError {
            kind: CsvErrorKind::LineTooLong { limit: 64 },
            ..
        })) => {}
        other => assert_eq!(
            outcome(other),
            want,
            "a small line limit changed the result"
        ),
    }
    want
}

// ---------------------------------------------------------------------------
// the header sniffing of omega_pl.io, ported

const TIME_NAMES: [&str; 6] = [
    "utc time",
    "gmt time",
    "time",
    "timestamp",
    "datetime",
    "date",
];
const INDEX_NAMES: [&str; 5] = ["", "unnamed: 0", "unnamed:0", "__index_level_0__", "index"];
const VALUE_NAMES: [&[&str]; 5] = [
    &["open"],
    &["high"],
    &["low"],
    &["close"],
    &["volume", "vol", "tick_volume", "tickvol", "tick volume"],
];

/// Splits a header line like Python's `csv.reader` does for simple quoting.
fn split_header(line: &str, sep: char) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The layout `omega_pl.io` would find in `data`'s header, if any.
pub fn sniff_layout(data: &[u8]) -> Option<CsvLayout> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let end = data.iter().position(|&c| c == b'\n').unwrap_or(data.len());
    let line = std::str::from_utf8(&data[..end]).ok()?;
    let line = line.trim_end_matches(['\r', '\n']);
    let sep = [',', ';', '\t']
        .into_iter()
        .rev()
        .max_by_key(|&s| line.matches(s).count())?;
    let header = split_header(line, sep);
    let key = |name: &str| name.trim().to_lowercase();
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| header.iter().position(|h| key(h) == *n))
    };
    let time = find(&TIME_NAMES).or_else(|| {
        header
            .first()
            .filter(|h| INDEX_NAMES.contains(&key(h).as_str()))
            .map(|_| 0)
    })?;
    let mut values = [0usize; 5];
    for (slot, names) in values.iter_mut().zip(VALUE_NAMES) {
        *slot = find(names)?;
    }
    let mut names: [String; 6] = Default::default();
    names[0] = header[time].clone();
    for (name, &i) in names[1..].iter_mut().zip(&values) {
        *name = header[i].clone();
    }
    CsvLayout::new(sep as u8, time, values, names).ok()
}

fn native() -> CsvLayout {
    let names = ["UTC time", "Open", "High", "Low", "Close", "Volume"].map(String::from);
    CsvLayout::new(b',', 0, [1, 2, 3, 4, 5], names).unwrap()
}

/// Fuzz target `csv_reader`: a CSV file through the reader under several
/// settings, checked against the one-pass reference (see the module docs).
pub fn csv_reader(data: &[u8]) {
    let layout = sniff_layout(data).unwrap_or_else(native);
    agree(data, &layout, true);
    agree(data, &layout, false);
}

/// Fuzz target `csv_layout`: an arbitrary layout from the first 25 bytes
/// (separator, then time and the five value positions as little-endian
/// `u32`), then the file.
pub fn csv_layout(data: &[u8]) {
    const HEAD: usize = 25;
    if data.len() < HEAD {
        return;
    }
    let (head, file) = data.split_at(HEAD);
    let sep = head[0];
    let pos = |k: usize| {
        let at = 1 + 4 * k;
        u32::from_le_bytes(head[at..at + 4].try_into().unwrap()) as usize
    };
    let time = pos(0);
    let values = [pos(1), pos(2), pos(3), pos(4), pos(5)];
    let names = ["t", "o", "h", "l", "c", "v"].map(String::from);
    let layout = match CsvLayout::new(sep, time, values, names.clone()) {
        Ok(layout) => layout,
        Err(message) => {
            let mut all = vec![time];
            all.extend(values);
            let distinct = (1..all.len()).all(|i| !all[..i].contains(&all[i]));
            let in_range = all.iter().all(|&p| p <= MAX_FIELD_INDEX);
            assert!(
                matches!(sep, b'"' | b'\n' | b'\r') || !distinct || !in_range,
                "layout refused for no reason: {message}"
            );
            return;
        }
    };
    assert!(!matches!(sep, b'"' | b'\n' | b'\r'));
    let lines = count_newlines(file) as u64 + 1;
    match agree(file, &layout, true) {
        Outcome::Rows { time, .. } => assert!(time.len() as u64 <= lines),
        Outcome::Parse(e) => {
            assert!(
                e.row >= 1 && e.row <= lines,
                "error row {} of {lines} lines",
                e.row
            );
            assert!(names.contains(&e.column), "unknown column {:?}", e.column);
            assert!(!e.to_string().is_empty());
        }
        Outcome::Encoding(e) => {
            assert!(e.line >= 1 && e.line <= lines && (e.offset as usize) < file.len());
            assert!(!e.bytes.is_empty() && e.bytes.len() <= 4);
        }
    }
}

/// `t` (epoch µs) as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, if its year has four digits.
fn iso(t: i64) -> Option<String> {
    let (days, us) = (t.div_euclid(86_400_000_000), t.rem_euclid(86_400_000_000));
    // Civil date from days (Hinnant), the inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    assert_eq!(days_from_civil(y, m, d), days, "civil date round trip");
    if !(0..=9999).contains(&y) {
        return None;
    }
    let s = us / 1_000_000;
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        us % 1_000_000
    ))
}

/// Fuzz target `timestamps`: one timestamp text (see the module docs).
pub fn timestamps(data: &[u8]) {
    let parsed = parse_timestamp_zoned(data);
    assert_eq!(parse_timestamp(data), parsed.map(|(t, _)| t));
    let mut padded = b" \t".to_vec();
    padded.extend_from_slice(data);
    padded.extend_from_slice(b"\t ");
    assert_eq!(
        parse_timestamp_zoned(&padded),
        parsed,
        "blanks around changed it"
    );
    let Some((t, _)) = parsed else {
        return;
    };
    // Four-digit years, shifted by at most a day by an offset.
    let lo = days_from_civil(0, 1, 1) * 86_400_000_000 - 86_400_000_000;
    let hi = days_from_civil(10_000, 1, 1) * 86_400_000_000 + 86_400_000_000;
    assert!((lo..hi).contains(&t), "{t} out of range");
    if let Some(text) = iso(t) {
        assert_eq!(
            parse_timestamp_zoned(text.as_bytes()),
            Some((t, true)),
            "{text} does not read back"
        );
    }
}
