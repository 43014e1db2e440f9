//! FHIR NDJSON / Bundle reader: the input is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::fhir::FhirReader;

fuzz_target!(|data: &[u8]| {
    for outcome in FhirReader::new("fuzz.ndjson", data) {
        std::hint::black_box(outcome);
    }
});
