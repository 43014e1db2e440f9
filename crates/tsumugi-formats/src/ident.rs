//! Provider patient ids derived from insurance identifiers, for formats that carry no patient id
//! of their own (特定健診 CDA, 介護 claims).
//!
//! The notice log, stop requests and linkage evaluation are keyed on (provider, patient id); a
//! checkup centre or care provider knows its 受診者 / 利用者 by the insurance identifiers printed
//! on the card, so the derived id is those identifiers joined with `:`, in the order of the card.
//! Each part is folded so that spellings of one card agree: full-width ASCII (U+FF01–U+FF5E) to
//! ASCII, white space (including U+3000) dropped. The id is an identifier like any other: it is
//! sealed in the identity zone and never leaves it.

/// One identifier folded as described in the module docs.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// The parts folded and joined with `:`; `None` when a required part (`Some(true)` marks it)
/// is missing or empty after folding.
pub(crate) fn join(parts: &[(Option<&str>, bool)]) -> Option<String> {
    let mut out = Vec::with_capacity(parts.len());
    for (part, required) in parts {
        let folded = part.map(fold).unwrap_or_default();
        if *required && folded.is_empty() {
            return None;
        }
        out.push(folded);
    }
    Some(out.join(":"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn folds_full_width_and_spaces() {
        assert_eq!(super::fold(" １２ ３\u{3000}ａ"), "123a");
        assert_eq!(
            super::join(&[(Some("06139995"), true), (None, false), (Some("１"), true)]),
            Some("06139995::1".to_owned())
        );
        assert_eq!(super::join(&[(Some(" "), true)]), None);
    }
}
