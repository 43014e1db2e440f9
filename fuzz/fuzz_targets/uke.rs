//! UKE (レセ電: 医科, DPC, 調剤) reader without masters: the input is the file. Besides not
//! panicking, every file-level finding must reach the iterator (a record-0 outcome or a warning
//! riding on an outcome), exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::uke::UkeReader;
use tsumugi_model::Diagnostic;

fuzz_target!(|data: &[u8]| {
    let mut reader = UkeReader::new("fuzz.UKE", data, None);
    let mut delivered: Vec<Diagnostic> = Vec::new();
    for outcome in reader.by_ref() {
        if outcome.record == 0
            && let Err(d) = &outcome.result
        {
            delivered.push(d.clone());
        }
        delivered.extend(outcome.warnings.iter().filter(|w| w.record == 0).cloned());
        std::hint::black_box(outcome);
    }
    let key = |d: &Diagnostic| (d.line, d.code.clone());
    let mut want = reader.file_diagnostics().to_vec();
    delivered.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(delivered, want, "a file-level finding did not reach the iterator");
    std::hint::black_box((reader.provider_code(), reader.billing_month()));
});
