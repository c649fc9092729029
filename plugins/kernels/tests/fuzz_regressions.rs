//! Replays every saved fuzz input (the seed corpora and the inputs that once
//! crashed a target) through the fuzz targets' checks, on stable Rust.
//!
//! A crash found by `cargo fuzz run TARGET` is fixed, then its input is saved
//! as `plugins/fuzz/regressions/TARGET/<name>` so that this test keeps it fixed.

#![allow(clippy::unwrap_used)] // a test: a missing file should fail it

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails again", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no saved inputs for {target}");
}

#[test]
fn csv_reader_inputs() {
    replay("csv_reader", harness::csv_reader);
}

#[test]
fn csv_layout_inputs() {
    replay("csv_layout", harness::csv_layout);
}

#[test]
fn timestamps_inputs() {
    replay("timestamps", harness::timestamps);
}

#[test]
fn seed_files_have_a_layout_the_sniffer_finds() {
    // Else the csv_reader target would read them with the fallback layout.
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/csv_reader");
    for entry in std::fs::read_dir(seeds).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        if data.is_empty() {
            continue;
        }
        assert!(harness::sniff_layout(&data).is_some(), "{name}");
    }
}
