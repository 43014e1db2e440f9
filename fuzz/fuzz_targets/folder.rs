//! Folder stream (`TSGDIR01` entries, as staged for SS-MIX2 folders): the input is the stream;
//! the entries read are then handed to the SS-MIX2 reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsumugi_formats::FolderEntries;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = FolderEntries::new(data) else {
        return;
    };
    let mut read = Vec::new();
    for entry in entries.take(64) {
        match entry {
            Ok(e) => read.push(e),
            Err(_) => break,
        }
    }
    for outcome in tsumugi_formats::ssmix2::from_entries("fuzz", read) {
        std::hint::black_box(outcome);
    }
});
