//! 介護 claims CSV reader: the input is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::kaigo::KaigoReader;

fuzz_target!(|data: &[u8]| {
    for outcome in KaigoReader::new("fuzz.csv", data) {
        std::hint::black_box(outcome);
    }
});
