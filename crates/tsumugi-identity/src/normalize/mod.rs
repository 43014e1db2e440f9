//! Canonical forms of Japanese identifiers for matching (rule set [`NORMALIZATION_VERSION`]).
//!
//! - Kanji names: NFKC, every kind of space removed, variant kanji folded to their common form
//!   (髙→高, 﨑→崎, 邊/邉→辺 …), and ● / 〓 (characters the source system could not write) kept
//!   as one unknown marker so they never equal a real character.
//! - Addresses and postcodes: see [`address`] (block numbers as `1-2-3`, buildings dropped).
//! - Municipality codes: see [`municipality`] (the current municipality's code, across
//!   municipal mergers, from the stated code or else the address text).
//! - Kana names: NFKC (half-width ｶﾅ → full-width), hiragana → katakana, small kana → large,
//!   spaces removed; [`kana_fuzzy`] also folds long-vowel spellings, for a weaker level.
//!
//! The variant table is `data/variant_kanji.csv` (9,600+ pairs from the 常用漢字表, 人名用漢字,
//! 表外漢字字体表 and 戸籍統一文字 variant groups; `data/README.md` names the sources and tells how to
//! extend it, and `scripts/variant_kanji.py` regenerates it). It is compiled into the binary, so
//! a running system cannot drift from its version; so are the municipality tables
//! (`data/municipalities.csv`, `data/municipality_mergers.csv`). Changing any rule or table
//! changes every digest, so every change bumps [`NORMALIZATION_VERSION`].

mod address;
mod municipality;

pub use address::{address, postcode};
pub use municipality::{designated_city, municipality};

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// Version of the normalization rules; digests of different versions never compare equal.
///
/// - `norm-v2`: variant kanji folded with the sourced table (`data/variant_kanji.csv`).
/// - `norm-v3`: municipality codes are the current municipality's: a former municipality's code
///   or name (`data/municipality_mergers.csv`) maps to the municipality that absorbed it, and an
///   address without a code takes the one its text names (see [`municipality`]). Match keys
///   with a municipality change with it.
pub const NORMALIZATION_VERSION: &str = "norm-v3";

/// Marker for a character the source could not represent (● or 〓 in Japanese systems).
const UNKNOWN: char = '\u{FFFD}';

/// The variant table, `variant,canonical,source` per line after a header.
const VARIANT_KANJI_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/variant_kanji.csv"
));

/// Variant → canonical form, parsed once from [`VARIANT_KANJI_CSV`]. A row that is not two
/// single characters would be a broken table; the unit tests check every row, so such a row
/// is skipped here rather than failing at run time.
static VARIANT_KANJI: LazyLock<HashMap<char, char>> = LazyLock::new(|| {
    VARIANT_KANJI_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            Some((single(cols.next()?)?, single(cols.next()?)?))
        })
        .collect()
});

fn single(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

fn fold_variant(c: char) -> char {
    VARIANT_KANJI.get(&c).copied().unwrap_or(c)
}

/// Variation selectors (standard U+FE00–FE0F and ideographic U+E0100–E01EF): a glyph choice,
/// not a different character, so dropped before the table is consulted.
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '・'
}

/// Canonical kanji name (family and given concatenated without spaces).
pub fn kanji(text: &str) -> String {
    text.nfkc()
        .filter(|c| !is_space(*c) && !is_variation_selector(*c))
        .map(|c| match c {
            '●' | '〓' => UNKNOWN,
            c => fold_variant(c),
        })
        .collect()
}

/// Canonical kana: full-width katakana, large kana, no spaces.
pub fn kana(text: &str) -> String {
    text.nfkc()
        .filter(|c| !is_space(*c))
        .map(|c| large_kana(hiragana_to_katakana(c)))
        .collect()
}

/// Kana with long-vowel spellings folded, for a fuzzy comparison level: `ー` and a vowel that
/// only lengthens the one before (オオタ/オータ/オウタ, ユウコ/ユーコ, エイコ/エーコ) are dropped,
/// and ヂ/ヅ/ヲ are read as ジ/ズ/オ. It conflates distinct names too (キヨコ/キョウコ), so it is
/// weaker evidence than [`kana`] equality, never a replacement for it.
pub fn kana_fuzzy(text: &str) -> String {
    let mut out = String::new();
    let mut prev_vowel = None;
    for c in kana(text).chars() {
        let c = match c {
            'ヂ' => 'ジ',
            'ヅ' => 'ズ',
            'ヲ' => 'オ',
            c => c,
        };
        let lengthens = match (prev_vowel, c) {
            (Some(_), 'ー') => true,
            (Some(v), 'ア' | 'イ' | 'ウ' | 'エ' | 'オ') => matches!(
                (v, c),
                ('a', 'ア') | ('i', 'イ') | ('u', 'ウ') | ('e', 'エ' | 'イ') | ('o', 'オ' | 'ウ')
            ),
            _ => false,
        };
        if lengthens {
            continue;
        }
        prev_vowel = vowel(c);
        out.push(c);
    }
    out
}

/// The vowel a (large) katakana ends in.
fn vowel(c: char) -> Option<char> {
    const ROWS: [(char, &str); 5] = [
        ('a', "アカガサザタダナハバパマヤラワ"),
        ('i', "イキギシジチヂニヒビピミリ"),
        ('u', "ウクグスズツヅヌフブプムユルヴ"),
        ('e', "エケゲセゼテデネヘベペメレ"),
        ('o', "オコゴソゾトドノホボポモヨロヲ"),
    ];
    ROWS.iter()
        .find(|(_, row)| row.contains(c))
        .map(|(v, _)| *v)
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        c => c,
    }
}

fn large_kana(c: char) -> char {
    match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        c => c,
    }
}

/// Digits only (postal codes, insurer numbers): NFKC then every non-digit removed.
pub fn digits(text: &str) -> String {
    text.nfkc().filter(char::is_ascii_digit).collect()
}

/// Whether `number` (6 or 8 digits) carries a valid 保険者番号 check digit.
///
/// The check digit is the last digit; the others are weighted 2,1,2,1… from the right of the
/// body, products above 9 contribute their digit sum, and the check digit brings the total to a
/// multiple of 10 (the Luhn scheme, as 保険者番号 use it).
pub fn insurer_number_is_valid(number: &str) -> bool {
    let d: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != number.len() || !(d.len() == 6 || d.len() == 8) {
        return false;
    }
    let Some((check, body)) = d.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let p = if i % 2 == 0 { x * 2 } else { x };
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10 == *check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanji_folds_variants_and_spaces() {
        assert_eq!(kanji("髙橋　太郎"), kanji("高橋 太郎"));
        assert_eq!(kanji("山﨑花子"), "山崎花子");
        assert_eq!(kanji("渡邊 一"), kanji("渡辺一"));
        assert_eq!(kanji("渡邉 一"), kanji("渡辺一"));
        assert_ne!(kanji("●田 一"), kanji("山田 一"));
        assert_ne!(kanji("佐藤 一"), kanji("佐藤 二"));
    }

    #[test]
    fn variant_table_is_whole_and_flat() {
        let rows: Vec<&str> = VARIANT_KANJI_CSV.lines().skip(1).collect();
        assert!(rows.len() > 9000, "{} rows", rows.len());
        assert_eq!(
            VARIANT_KANJI.len(),
            rows.len(),
            "every row is two single characters"
        );
        for (variant, canonical) in VARIANT_KANJI.iter() {
            assert_ne!(variant, canonical);
            assert!(
                !VARIANT_KANJI.contains_key(canonical),
                "{canonical} is both a canonical form and a variant"
            );
        }
    }

    #[test]
    fn distinct_name_characters_stay_apart() {
        for (a, b) in [
            ("斎藤", "斉藤"),
            ("乾", "干"),
            ("葉", "叶"),
            ("藝", "芸"),
            ("餘", "余"),
            ("坂", "阪"),
        ] {
            assert_ne!(kanji(a), kanji(b), "{a} / {b}");
        }
        assert_eq!(kanji("齋藤"), kanji("斎藤"));
        assert_eq!(kanji("齊藤"), kanji("斉藤"));
        assert_eq!(kanji("𠮷田"), kanji("吉田"));
        assert_eq!(kanji("葛\u{E0100}西"), kanji("葛西"));
    }

    #[test]
    fn kana_folds_scripts_and_sizes() {
        let want = kana("ヤマダ タロウ");
        assert_eq!(kana("やまだ たろう"), want);
        assert_eq!(kana("ﾔﾏﾀﾞ ﾀﾛｳ"), want);
        assert_eq!(kana("ヤマダ　タロウ"), want);
        assert_eq!(kana("キョウコ"), kana("キヨウコ"));
    }

    #[test]
    fn long_vowels_fold_at_the_fuzzy_level() {
        for (a, b) in [
            ("オオタ", "オータ"),
            ("オオタ", "オウタ"),
            ("ユウコ", "ユーコ"),
            ("えいこ", "エーコ"),
            ("ｺｰｼﾞ", "コウジ"),
            ("ミヅホ", "ミズホ"),
        ] {
            assert_eq!(kana_fuzzy(a), kana_fuzzy(b), "{a} / {b}");
            assert_ne!(kana(a), kana(b), "{a} / {b} differ at the exact level");
        }
        assert_ne!(kana_fuzzy("サトウ"), kana_fuzzy("サイトウ"));
        assert_ne!(
            kana_fuzzy("カトウ"),
            kana_fuzzy("カドウ"),
            "voicing is not folded"
        );
        assert_eq!(
            kana_fuzzy("アイ"),
            "アイ",
            "a vowel that is not a lengthening stays"
        );
    }

    #[test]
    fn insurer_check_digit() {
        // 06139979: body 0613997, check digit from the Luhn-style weights.
        let valid: Vec<String> = (0..10)
            .map(|c| format!("0613997{c}"))
            .filter(|n| insurer_number_is_valid(n))
            .collect();
        assert_eq!(valid.len(), 1, "exactly one check digit is valid");
        assert!(!insurer_number_is_valid("12345"));
        assert!(!insurer_number_is_valid("1234567a"));
    }
}
