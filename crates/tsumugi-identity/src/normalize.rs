//! Canonical forms of Japanese identifiers for matching (rule set [`NORMALIZATION_VERSION`]).
//!
//! - Kanji names: NFKC, every kind of space removed, variant kanji folded to their common form
//!   (髙→高, 﨑→崎, 邊/邉→辺 …), and ● / 〓 (characters the source system could not write) kept
//!   as one unknown marker so they never equal a real character.
//! - Kana names: NFKC (half-width ｶﾅ → full-width), hiragana → katakana, small kana → large,
//!   spaces removed.
//!
//! The variant table here is the foundation's short list; the linkage issue extends it. Changing
//! any rule changes every digest, so every change bumps [`NORMALIZATION_VERSION`].

use unicode_normalization::UnicodeNormalization;

/// Version of the normalization rules; digests of different versions never compare equal.
pub const NORMALIZATION_VERSION: &str = "norm-v1";

/// Marker for a character the source could not represent (● or 〓 in Japanese systems).
const UNKNOWN: char = '\u{FFFD}';

/// Pairs of (variant, common form). Sources: the 人名用漢字 / 旧字体 pairs that appear most in
/// surnames (法務省 戸籍統一文字 correspondences), limited here to frequent ones.
const VARIANT_KANJI: &[(char, char)] = &[
    ('髙', '高'),
    ('﨑', '崎'),
    ('嵜', '崎'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('齋', '斉'),
    ('齊', '斉'),
    ('斎', '斉'),
    ('澤', '沢'),
    ('濱', '浜'),
    ('濵', '浜'),
    ('櫻', '桜'),
    ('廣', '広'),
    ('國', '国'),
    ('德', '徳'),
    ('惠', '恵'),
    ('嶋', '島'),
    ('嶌', '島'),
    ('條', '条'),
    ('槇', '槙'),
    ('眞', '真'),
    ('實', '実'),
    ('冨', '富'),
    ('藏', '蔵'),
    ('龍', '竜'),
    ('瀨', '瀬'),
    ('彌', '弥'),
    ('淺', '浅'),
    ('會', '会'),
    ('壽', '寿'),
    ('來', '来'),
    ('驛', '駅'),
    ('榮', '栄'),
    ('學', '学'),
    ('舘', '館'),
    ('圓', '円'),
    ('萬', '万'),
    ('與', '与'),
    ('黑', '黒'),
];

fn fold_variant(c: char) -> char {
    VARIANT_KANJI
        .iter()
        .find(|(v, _)| *v == c)
        .map_or(c, |(_, common)| *common)
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}' || c == '・'
}

/// Canonical kanji name (family and given concatenated without spaces).
pub fn kanji(text: &str) -> String {
    text.nfkc()
        .filter(|c| !is_space(*c))
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
    fn kana_folds_scripts_and_sizes() {
        let want = kana("ヤマダ タロウ");
        assert_eq!(kana("やまだ たろう"), want);
        assert_eq!(kana("ﾔﾏﾀﾞ ﾀﾛｳ"), want);
        assert_eq!(kana("ヤマダ　タロウ"), want);
        assert_eq!(kana("キョウコ"), kana("キヨウコ"));
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
