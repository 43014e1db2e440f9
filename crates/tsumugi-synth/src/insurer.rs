//! 保険者番号 and 被保険者証 numbers.
//!
//! An 8-digit 保険者番号 is 法別番号 (2) + 都道府県番号 (2) + 保険者別番号 (3) + 検証番号 (1);
//! 国民健康保険 numbers are 6 digits: 都道府県番号 (2) + 保険者別番号 (3) + 検証番号 (1).
//! The 検証番号 is computed over the preceding digits from the right with weights 2, 1, 2, 1 …;
//! two-digit products contribute the sum of their digits; the check digit is
//! `(10 − sum mod 10) mod 10`. Source: the published 保険者番号 rule as implemented in
//! `hangilc/myclinic-spring` (`HokenVerifierLib.calcCheckingDigit`), found with the search tool.

/// The check digit for a string of digits (`None` if a non-digit occurs).
pub fn check_digit(body: &str) -> Option<u32> {
    let mut sum = 0;
    for (i, c) in body.chars().rev().enumerate() {
        let d = c.to_digit(10)?;
        let p = if i % 2 == 0 { d * 2 } else { d };
        sum += p / 10 + p % 10;
    }
    Some((10 - sum % 10) % 10)
}

/// Whether a 6- or 8-digit 保険者番号 carries a valid 検証番号.
pub fn insurer_number_is_valid(number: &str) -> bool {
    if !(number.len() == 6 || number.len() == 8) || !number.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (body, last) = number.split_at(number.len() - 1);
    check_digit(body) == last.parse::<u32>().ok()
}

/// Appends the check digit to `body` (digits only).
pub(crate) fn with_check_digit(body: &str) -> String {
    match check_digit(body) {
        Some(d) => format!("{body}{d}"),
        None => body.to_owned(),
    }
}

/// Kinds of health insurance a person can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Scheme {
    /// 協会けんぽ (法別 01).
    Kyokai,
    /// 組合管掌健康保険 (法別 06).
    Kumiai,
    /// 共済組合 (法別 31–34).
    Kyosai,
    /// 国民健康保険 (6 digits).
    Kokuho,
    /// 後期高齢者医療 (法別 39), from 75.
    Koki,
}

/// An insurer number for a scheme in a prefecture. `variant` selects one of several insurers
/// of that kind (組合 and 共済 have many; 協会けんぽ and 後期高齢者 one per prefecture; 国保 one per
/// municipality, keyed by `variant` = the municipality's 3-digit city code).
pub(crate) fn insurer_number(scheme: Scheme, pref: u8, variant: u32) -> String {
    match scheme {
        Scheme::Kyokai => with_check_digit(&format!("01{pref:02}001")),
        Scheme::Kumiai => with_check_digit(&format!("06{pref:02}{:03}", 100 + variant % 900)),
        Scheme::Kyosai => with_check_digit(&format!(
            "{}{pref:02}{:03}",
            31 + variant % 4,
            100 + variant % 700
        )),
        Scheme::Kokuho => with_check_digit(&format!("{pref:02}{:03}", variant % 1000)),
        Scheme::Koki => with_check_digit(&format!("39{pref:02}100")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits() {
        // 協会けんぽ 東京支部 is 01130012.
        assert_eq!(with_check_digit("0113001"), "01130012");
        assert!(insurer_number_is_valid("01130012"));
        assert!(!insurer_number_is_valid("01130013"));
        for scheme in [
            Scheme::Kyokai,
            Scheme::Kumiai,
            Scheme::Kyosai,
            Scheme::Kokuho,
            Scheme::Koki,
        ] {
            for v in [0, 7, 123, 999] {
                let n = insurer_number(scheme, 13, v);
                assert!(insurer_number_is_valid(&n), "{n}");
            }
        }
    }
}
