//! 特定健診 submission ZIP: the input is the archive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use tsumugi_formats::kenshin::read_submission_zip;

fuzz_target!(|data: &[u8]| {
    for outcome in read_submission_zip("fuzz.zip", Cursor::new(data)) {
        std::hint::black_box(outcome);
    }
});
