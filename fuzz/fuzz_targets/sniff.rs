//! Format sniffing: the input is `name NUL head` (no NUL: the whole input is the head).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (name, head) = match data.iter().position(|b| *b == 0) {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (String::new(), data),
    };
    std::hint::black_box(tsumugi_formats::sniff(&name, head));
});
