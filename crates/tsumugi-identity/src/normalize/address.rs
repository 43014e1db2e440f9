//! Canonical forms of Japanese addresses and postcodes for comparison.
//!
//! The same residence is written many ways: `東京都千代田区千代田一丁目1番1号`,
//! `千代田区千代田1-1-1 ○○ビル101`, `千代田1丁目1番地の1`. [`address`] brings them to one form:
//!
//! 1. NFKC (full-width digits and hyphens become ASCII), every space removed;
//! 2. the leading prefecture name dropped (sources differ in writing it; the municipality code
//!    and postcode carry the prefecture anyway), and `大字` dropped;
//! 3. ヶ/ケ/が between kanji (霞が関, 霞ヶ関) folded to ケ;
//! 4. the block part (`丁目`, `番地`, `番`, `号`, `の` and dash-like marks between numbers) written
//!    as ASCII numbers joined by `-`; kanji numerals are read as numbers there (`二十三番` → `23`)
//!    but kept as written elsewhere, because they are part of place names (三鷹, 四日市, 一番町);
//! 5. everything after the block part — a building name, a room — dropped.
//!
//! Written by hand: the open address normalizers (e.g. geolonia's) need the national town
//! table and network access; comparison needs only a stable canonical string, not geocoding.

use unicode_normalization::UnicodeNormalization;

/// `code,name,population_2020`: the prefecture names (no name is a prefix of another).
pub(super) const PREFECTURES_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/prefectures.csv"
));

/// Canonical address text for comparison (see the module docs). Empty when nothing is left.
pub fn address(text: &str) -> String {
    let cleaned: Vec<char> = text
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
    let mut s: String = cleaned.iter().collect();
    if let Some(rest) = strip_prefecture(&s) {
        s = rest.to_owned();
    }
    let s = s.replace("大字", "");
    let chars: Vec<char> = fold_ga(&s.chars().collect::<Vec<_>>());
    block_form(&chars)
}

/// Canonical postcode: its seven digits, or `None` when it does not have seven.
pub fn postcode(text: &str) -> Option<String> {
    let digits = super::digits(text);
    (digits.len() == 7).then_some(digits)
}

fn strip_prefecture(s: &str) -> Option<&str> {
    PREFECTURES_CSV
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(1))
        .find_map(|name| s.strip_prefix(name))
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々')
}

/// ヶ/ケ/が/ガ between two kanji → ケ (霞が関 = 霞ヶ関 = 霞ケ関).
pub(super) fn fold_ga(chars: &[char]) -> Vec<char> {
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_kanji = i > 0
                && chars.get(i + 1).is_some_and(|n| is_kanji(*n))
                && chars.get(i - 1).is_some_and(|p| is_kanji(*p));
            if between_kanji && matches!(c, 'ヶ' | 'ケ' | 'が' | 'ガ' | 'ヵ') {
                'ケ'
            } else {
                c
            }
        })
        .collect()
}

fn kanji_digit(c: char) -> Option<u64> {
    Some(match c {
        '〇' | '零' => 0,
        '一' | '壱' => 1,
        '二' | '弐' => 2,
        '三' | '参' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || kanji_digit(c).is_some() || matches!(c, '十' | '百' | '千')
}

/// The value of a run of ASCII digits or kanji numerals (`二十三` → 23, `一〇五` → 105).
fn numeral_value(run: &[char]) -> Option<u64> {
    if run.iter().all(char::is_ascii_digit) {
        return run.iter().collect::<String>().parse().ok();
    }
    if !run.iter().any(|c| matches!(c, '十' | '百' | '千')) {
        return run
            .iter()
            .try_fold(0u64, |acc, c| Some(acc.checked_mul(10)? + kanji_digit(*c)?));
    }
    let (mut total, mut digit) = (0u64, None::<u64>);
    for &c in run {
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            c => {
                digit = Some(kanji_digit(c)?);
                continue;
            }
        };
        total += digit.take().unwrap_or(1) * unit;
    }
    Some(total + digit.unwrap_or(0))
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' | 'ｰ' | '─' | '━'
    )
}

/// What follows a number, when it makes the number part of the block (and how many
/// characters the marker takes).
fn block_marker(rest: &[char]) -> Option<(Marker, usize)> {
    let starts = |s: &str| {
        let n = s.chars().count();
        rest.len() >= n && rest.iter().take(n).copied().eq(s.chars())
    };
    let numeral_after = |k: usize| rest.get(k).is_some_and(|c| is_numeral(*c));
    let separator_after = |k: usize| numeral_after(k) || rest.get(k).is_some_and(|c| is_dash(*c));
    if starts("丁目") || starts("番地") {
        Some((Marker::Separator, 2))
    } else if (starts("番") && separator_after(1))
        || ((starts("の") || starts("ノ")) && numeral_after(1))
        || (rest.first().is_some_and(|c| is_dash(*c)) && numeral_after(1))
    {
        Some((Marker::Separator, 1))
    } else if (starts("番") && rest.len() == 1) || starts("号") {
        Some((Marker::End, 1))
    } else {
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// The block goes on (`丁目`, `番`, `-` …).
    Separator,
    /// The block ends here (`号`).
    End,
}

/// Writes the block part as `1-2-3` and drops what follows it (see the module docs).
fn block_form(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len() * 3);
    let mut in_block = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !is_numeral(c) {
            let joins = is_dash(c)
                || (matches!(c, 'の' | 'ノ') && chars.get(i + 1).is_some_and(|n| is_numeral(*n)));
            if in_block && !joins {
                // A building name or room after the block: not part of the residence.
                break;
            }
            if !in_block {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_numeral(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        let ascii = run.iter().all(char::is_ascii_digit);
        match (block_marker(&chars[i..]), numeral_value(run)) {
            (Some((marker, len)), Some(v)) => {
                out.push_str(&v.to_string());
                i += len;
                match marker {
                    Marker::Separator => {
                        out.push('-');
                        in_block = true;
                    }
                    Marker::End => break,
                }
            }
            (None, Some(v)) if ascii || in_block => {
                // A trailing number (`…1-2-3`, `…2丁目5`) ends the block.
                out.push_str(&v.to_string());
                if in_block || i == chars.len() {
                    break;
                }
            }
            _ => out.extend(run),
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_spellings_agree() {
        let want = "千代田区千代田1-1-1";
        for text in [
            "東京都千代田区千代田一丁目1番1号",
            "東京都千代田区千代田1丁目1番1号",
            "千代田区千代田1-1-1",
            "千代田区 千代田１－１－１",
            "千代田区千代田1丁目1番地の1",
            "千代田区千代田1丁目1番地1",
            "千代田区千代田1ー1ー1 皇居ビル101号室",
            "東京都千代田区千代田一丁目一番一号",
        ] {
            assert_eq!(address(text), want, "{text}");
        }
    }

    #[test]
    fn numerals_in_place_names_stay() {
        assert_eq!(address("東京都三鷹市下連雀三丁目5番"), "三鷹市下連雀3-5");
        assert_eq!(address("三重県四日市市諏訪町1-5"), "四日市市諏訪町1-5");
        assert_eq!(address("東京都千代田区一番町10番地"), "千代田区一番町10");
        assert_eq!(
            address("北海道札幌市中央区北一条西二丁目"),
            "札幌市中央区北一条西2"
        );
    }

    #[test]
    fn kanji_numbers_read_by_place_value() {
        let v = |s: &str| numeral_value(&s.chars().collect::<Vec<_>>());
        assert_eq!(v("二十三"), Some(23));
        assert_eq!(v("十"), Some(10));
        assert_eq!(v("百五"), Some(105));
        assert_eq!(v("一〇五"), Some(105));
        assert_eq!(v("千二百"), Some(1200));
        assert_eq!(address("大阪市北区梅田二十三番地"), "大阪市北区梅田23");
    }

    #[test]
    fn ga_and_oaza_fold() {
        assert_eq!(
            address("千代田区霞が関1-2-3"),
            address("千代田区霞ヶ関一丁目2番3号")
        );
        assert_eq!(address("大字北山12番地"), address("北山12"));
        assert_ne!(
            address("千代田区霞が関1-2-3"),
            address("千代田区霞が関1-2-4")
        );
    }

    #[test]
    fn postcodes() {
        assert_eq!(postcode("100-0001").as_deref(), Some("1000001"));
        assert_eq!(postcode("〒１００－０００１").as_deref(), Some("1000001"));
        assert_eq!(postcode("1000001").as_deref(), Some("1000001"));
        assert_eq!(postcode("100-001"), None);
    }

    proptest::proptest! {
        #[test]
        fn canonical_form_is_stable(text in "[東京都千代田区一二三十百番地丁目号のノ0-9０-９ー\\- ビル霞がヶ大字]{0,30}") {
            let once = address(&text);
            proptest::prop_assert_eq!(address(&once), once.clone());
        }
    }
}
