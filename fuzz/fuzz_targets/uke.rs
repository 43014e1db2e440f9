//! UKE (レセ電) reader without masters: the input is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::uke::UkeReader;

fuzz_target!(|data: &[u8]| {
    let mut reader = UkeReader::new("fuzz.UKE", data, None);
    for outcome in reader.by_ref() {
        std::hint::black_box(outcome);
    }
    std::hint::black_box((
        reader.file_diagnostics(),
        reader.provider_code(),
        reader.billing_month(),
    ));
});
