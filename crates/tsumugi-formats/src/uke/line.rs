//! One UKE line as columns, without allocating: the text and the offsets of its commas.
//!
//! UKE has no quoting, and no CP932 byte of a multibyte character is a comma (trail bytes are
//! 0x40 and up), so splitting the decoded text on `,` is splitting the record's columns.

use encoding_rs::{DecoderResult, SHIFT_JIS};

use crate::uke::error::UkeError;

/// A fault in one line: the error and the column it concerns.
pub(crate) type LineFault = (UkeError, Option<&'static str>);

/// The columns of one line. Column 0 is the record type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cols<'a> {
    text: &'a str,
    /// End offset (exclusive) of every column; the last is `text.len()`.
    ends: &'a [usize],
}

impl<'a> Cols<'a> {
    /// The columns of a raw CP932 `line`: the line itself when it is ASCII (codes, counts and
    /// dates: most lines), else its decoding into `scratch`; `ends` (cleared first) takes the
    /// offsets. `None` when the line is not CP932.
    pub(crate) fn of_line(
        line: &'a [u8],
        scratch: &'a mut String,
        ends: &'a mut Vec<usize>,
    ) -> Option<Cols<'a>> {
        if split_at_commas(line, ends) {
            let text = std::str::from_utf8(line).ok()?;
            return Some(Cols { text, ends });
        }
        let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
        scratch.clear();
        scratch.reserve(decoder.max_utf8_buffer_length_without_replacement(line.len())?);
        match decoder.decode_to_string_without_replacement(line, scratch, true) {
            (DecoderResult::InputEmpty, _) => {}
            _ => return None,
        }
        split_at_commas(scratch.as_bytes(), ends);
        Some(Cols {
            text: scratch,
            ends,
        })
    }

    /// The number of columns.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Column `i` as written (untrimmed); `""` past the last column.
    pub(crate) fn raw(&self, i: usize) -> &'a str {
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = match i.checked_sub(1).and_then(|p| self.ends.get(p)) {
            Some(&prev) => prev + 1,
            None => 0,
        };
        self.text.get(start..end).unwrap_or("")
    }

    /// The non-empty columns among `first ..= first + n - 1`, as (position in that range,
    /// untrimmed text); none when the range runs past the last column. `first` is at least 1
    /// (column 0 is the record type).
    pub(crate) fn filled(
        &self,
        first: usize,
        n: usize,
    ) -> impl Iterator<Item = (usize, &'a str)> + use<'a> {
        let text = self.text;
        self.ends
            .get(first.saturating_sub(1)..first + n)
            .unwrap_or_default()
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[1] > w[0] + 1)
            .map(move |(i, w)| (i, text.get(w[0] + 1..w[1]).unwrap_or("")))
    }

    /// Column `i`, trimmed; `""` past the last column.
    pub(crate) fn get(&self, i: usize) -> &'a str {
        trim(self.raw(i))
    }

    /// Column `i` trimmed, or `None` when blank.
    pub(crate) fn opt(&self, i: usize) -> Option<&'a str> {
        Some(self.get(i)).filter(|s| !s.is_empty())
    }

    /// At least `n` columns, or [`UkeError::WrongColumnCount`].
    pub(crate) fn need(&self, n: usize) -> Result<(), LineFault> {
        if self.len() < n {
            Err((UkeError::WrongColumnCount, None))
        } else {
            Ok(())
        }
    }
}

/// Puts the offset of every comma in `bytes`, then its length, into `ends` (cleared first);
/// returns whether every byte is ASCII.
///
/// Eight bytes at a time: UKE lines are mostly commas (31 day columns), so a search per column
/// (memchr) costs more than it saves, and a byte loop that pushes costs ~12 instructions a byte.
fn split_at_commas(bytes: &[u8], ends: &mut Vec<usize>) -> bool {
    const COMMAS: u64 = u64::from_ne_bytes([b','; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    ends.clear();
    let mut high = 0u64;
    let mut base = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let Some(word) = chunk.first_chunk::<8>() else {
            break;
        };
        let word = u64::from_le_bytes(*word);
        high |= word;
        // 0x80 in every byte of `v` that is zero, i.e. every byte of `word` that is a comma
        // (exact: the low seven bits cannot carry into the next byte).
        let v = word ^ COMMAS;
        let mut found = !(((v & LOW7) + LOW7) | v | LOW7);
        while found != 0 {
            ends.push(base + (found.trailing_zeros() / 8) as usize);
            found &= found - 1;
        }
        base += 8;
    }
    for (at, &b) in chunks.remainder().iter().enumerate() {
        high |= u64::from(b);
        if b == b',' {
            ends.push(base + at);
        }
    }
    ends.push(bytes.len());
    high & HIGH == 0
}

/// [`str::trim`], without its scan when both ends are visible ASCII (nearly every UKE field).
pub(crate) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x80).contains(b));
    let bytes = s.as_bytes();
    if bytes.is_empty() || (visible(bytes.first()) && visible(bytes.last())) {
        s
    } else {
        s.trim()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The eight-bytes-at-a-time split finds what a byte loop finds.
        #[test]
        fn split_matches_a_byte_loop(bytes in proptest::collection::vec(
            prop_oneof![Just(b','), Just(b'1'), any::<u8>()], 0..100,
        )) {
            let mut ends = Vec::new();
            let ascii = split_at_commas(&bytes, &mut ends);
            let mut want: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b',').collect();
            want.push(bytes.len());
            prop_assert_eq!(ends, want);
            prop_assert_eq!(ascii, bytes.is_ascii());
        }
    }

    #[test]
    fn columns_and_trimming() {
        let (mut ends, mut scratch) = (Vec::new(), String::new());
        let (line, _, _) = SHIFT_JIS.encode("SI, 11 ,,1　,ａ");
        let cols = Cols::of_line(&line, &mut scratch, &mut ends).unwrap();
        assert_eq!(cols.len(), 5);
        let got: Vec<&str> = (0..6).map(|i| cols.get(i)).collect();
        assert_eq!(got, ["SI", "11", "", "1", "ａ", ""]);
        assert_eq!(cols.raw(1), " 11 ");
        assert_eq!(cols.opt(2), None);
        assert!(cols.need(5).is_ok() && cols.need(6).is_err());
        assert_eq!(
            cols.filled(2, 3).collect::<Vec<_>>(),
            [(1, "1　"), (2, "ａ")]
        );
        assert_eq!(cols.filled(3, 9).count(), 0);
        let long = "IY,21,1,610406079,,,,,,,,,1,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,3";
        let cols = Cols::of_line(long.as_bytes(), &mut scratch, &mut ends).unwrap();
        assert_eq!(cols.len(), 44);
        let filled: Vec<_> = cols.filled(13, 31).collect();
        assert_eq!(filled, [(30, "3")]);
        assert_eq!((cols.get(3), cols.get(12)), ("610406079", "1"));
        let cols = Cols::of_line(b"", &mut scratch, &mut ends).unwrap();
        assert_eq!((cols.len(), cols.get(0)), (1, ""));
        assert!(Cols::of_line(b"RE,\x82\xff", &mut scratch, &mut ends).is_none());
    }
}
