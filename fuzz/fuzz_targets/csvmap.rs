//! Mapped CSV reader. The first byte picks the mapping: one of the shipped
//! `crates/tsumugi-formats/mappings/*.toml`, or (for the fifth choice) a mapping read from the
//! input itself as `TOML NUL CSV`. The rest is the CSV.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::csvmap::{MappedCsvReader, Mapping};

const MAPPINGS: [&str; 4] = [
    include_str!("../../crates/tsumugi-formats/mappings/juminhyo_shibou.toml"),
    include_str!("../../crates/tsumugi-formats/mappings/ninpu_kenshin.toml"),
    include_str!("../../crates/tsumugi-formats/mappings/nyuyouji_kenshin.toml"),
    include_str!("../../crates/tsumugi-formats/mappings/yobou_sesshu.toml"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (mapping, csv) = match MAPPINGS.get(usize::from(pick % 5)) {
        Some(text) => match Mapping::from_toml(text) {
            Ok(m) => (m, rest),
            Err(e) => panic!("a shipped mapping does not parse: {e}"),
        },
        None => {
            let mut halves = rest.splitn(2, |b| *b == 0);
            let toml = halves.next().unwrap_or_default();
            let csv = halves.next().unwrap_or_default();
            let Ok(text) = std::str::from_utf8(toml) else {
                return;
            };
            match Mapping::from_toml(text) {
                Ok(m) => (m, csv),
                Err(_) => return,
            }
        }
    };
    for outcome in MappedCsvReader::new("fuzz.csv", &mapping, csv) {
        std::hint::black_box(outcome);
    }
});
