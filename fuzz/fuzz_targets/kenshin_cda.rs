//! 特定健診 CDA document: the input is the XML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::kenshin::read_cda;

fuzz_target!(|data: &[u8]| {
    std::hint::black_box(read_cda("fuzz.xml", data));
});
