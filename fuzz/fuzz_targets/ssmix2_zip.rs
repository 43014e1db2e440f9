//! SS-MIX2 storage sent as a ZIP, through `open` (the hand-written central-directory walk,
//! entry caps, path order and patient grouping): the input is the archive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use tsumugi_formats::{Format, open};

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = open(Format::Ssmix2, "fuzz.zip", Box::new(Cursor::new(data.to_vec()))) {
        for outcome in records {
            std::hint::black_box(outcome);
        }
    }
});
