//! SS-MIX2 entries: the input is `path NUL content NUL path NUL content …` (at most 16 entries;
//! a trailing path without content gets empty content).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::ssmix2::from_entries;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let mut entries = Vec::new();
    while let Some(path) = parts.next() {
        if entries.len() == 16 {
            break;
        }
        let content = parts.next().unwrap_or_default();
        entries.push((String::from_utf8_lossy(path).into_owned(), content.to_vec()));
    }
    for outcome in from_entries("fuzz", entries) {
        std::hint::black_box(outcome);
    }
});
