//! Text variants sources produce: kana scripts (hiragana, full-width and half-width katakana),
//! variant kanji (異体字) and the separator between family and given name.

/// Hiragana to full-width katakana (other characters pass through).
pub(crate) fn to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

const HALF_BASE: [(char, &str); 87] = [
    ('ァ', "ｧ"),
    ('ア', "ｱ"),
    ('ィ', "ｨ"),
    ('イ', "ｲ"),
    ('ゥ', "ｩ"),
    ('ウ', "ｳ"),
    ('ェ', "ｪ"),
    ('エ', "ｴ"),
    ('ォ', "ｫ"),
    ('オ', "ｵ"),
    ('カ', "ｶ"),
    ('ガ', "ｶﾞ"),
    ('キ', "ｷ"),
    ('ギ', "ｷﾞ"),
    ('ク', "ｸ"),
    ('グ', "ｸﾞ"),
    ('ケ', "ｹ"),
    ('ゲ', "ｹﾞ"),
    ('コ', "ｺ"),
    ('ゴ', "ｺﾞ"),
    ('サ', "ｻ"),
    ('ザ', "ｻﾞ"),
    ('シ', "ｼ"),
    ('ジ', "ｼﾞ"),
    ('ス', "ｽ"),
    ('ズ', "ｽﾞ"),
    ('セ', "ｾ"),
    ('ゼ', "ｾﾞ"),
    ('ソ', "ｿ"),
    ('ゾ', "ｿﾞ"),
    ('タ', "ﾀ"),
    ('ダ', "ﾀﾞ"),
    ('チ', "ﾁ"),
    ('ヂ', "ﾁﾞ"),
    ('ッ', "ｯ"),
    ('ツ', "ﾂ"),
    ('ヅ', "ﾂﾞ"),
    ('テ', "ﾃ"),
    ('デ', "ﾃﾞ"),
    ('ト', "ﾄ"),
    ('ド', "ﾄﾞ"),
    ('ナ', "ﾅ"),
    ('ニ', "ﾆ"),
    ('ヌ', "ﾇ"),
    ('ネ', "ﾈ"),
    ('ノ', "ﾉ"),
    ('ハ', "ﾊ"),
    ('バ', "ﾊﾞ"),
    ('パ', "ﾊﾟ"),
    ('ヒ', "ﾋ"),
    ('ビ', "ﾋﾞ"),
    ('ピ', "ﾋﾟ"),
    ('フ', "ﾌ"),
    ('ブ', "ﾌﾞ"),
    ('プ', "ﾌﾟ"),
    ('ヘ', "ﾍ"),
    ('ベ', "ﾍﾞ"),
    ('ペ', "ﾍﾟ"),
    ('ホ', "ﾎ"),
    ('ボ', "ﾎﾞ"),
    ('ポ', "ﾎﾟ"),
    ('マ', "ﾏ"),
    ('ミ', "ﾐ"),
    ('ム', "ﾑ"),
    ('メ', "ﾒ"),
    ('モ', "ﾓ"),
    ('ャ', "ｬ"),
    ('ヤ', "ﾔ"),
    ('ュ', "ｭ"),
    ('ユ', "ﾕ"),
    ('ョ', "ｮ"),
    ('ヨ', "ﾖ"),
    ('ラ', "ﾗ"),
    ('リ', "ﾘ"),
    ('ル', "ﾙ"),
    ('レ', "ﾚ"),
    ('ロ', "ﾛ"),
    ('ワ', "ﾜ"),
    ('ヲ', "ｦ"),
    ('ン', "ﾝ"),
    ('ヴ', "ｳﾞ"),
    ('ー', "ｰ"),
    ('ヮ', "ﾜ"),
    ('ヰ', "ｲ"),
    ('ヱ', "ｴ"),
    ('　', " "),
    ('・', "･"),
];

/// Full-width katakana to half-width katakana (ｶﾀｶﾅ, voiced marks split off).
pub(crate) fn to_halfwidth_katakana(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match HALF_BASE.iter().find(|(f, _)| *f == c) {
            Some((_, h)) => out.push_str(h),
            None => out.push(c),
        }
    }
    out
}

/// Standard ↔ variant kanji pairs seen in Japanese registers (standard first).
/// Each variant folds to its standard form in `data/variant_kanji.csv` (斉 and 斎 are distinct
/// characters there, each with its own variants).
pub(crate) const VARIANTS: [(char, &[char]); 14] = [
    ('高', &['髙']),
    ('崎', &['﨑']),
    ('辺', &['邊', '邉']),
    ('斉', &['齊']),
    ('斎', &['齋']),
    ('沢', &['澤']),
    ('浜', &['濱']),
    ('桜', &['櫻']),
    ('島', &['嶋', '嶌']),
    ('富', &['冨']),
    ('徳', &['德']),
    ('真', &['眞']),
    ('広', &['廣']),
    ('国', &['國']),
];

/// Whether any character of `s` has a variant form.
pub(crate) fn has_variant(s: &str) -> bool {
    s.chars().any(|c| {
        VARIANTS
            .iter()
            .any(|(std, vars)| *std == c || vars.contains(&c))
    })
}

/// Swaps each variant-capable character: standard → a variant (chosen by `pick`), variant →
/// standard. Returns the input unchanged when nothing can be swapped.
pub(crate) fn swap_variants(s: &str, pick: usize) -> String {
    s.chars()
        .map(|c| {
            for (std, vars) in VARIANTS.iter() {
                if *std == c {
                    return vars.get(pick % vars.len()).copied().unwrap_or(c);
                }
                if vars.contains(&c) {
                    return *std;
                }
            }
            c
        })
        .collect()
}

/// Full-width digits (for 記号 written as ０１２).
pub(crate) fn to_fullwidth_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_fold_back_in_the_linkage_table() {
        let table = include_str!("../../../data/variant_kanji.csv");
        for (std, vars) in VARIANTS {
            for v in vars {
                let row = format!("\n{v},{std},");
                assert!(
                    table.contains(&row),
                    "{v} → {std} is not in data/variant_kanji.csv"
                );
            }
        }
    }

    #[test]
    fn kana_scripts() {
        assert_eq!(to_katakana("たかはし じゅん"), "タカハシ ジュン");
        assert_eq!(to_halfwidth_katakana("ガッコウ　パン"), "ｶﾞｯｺｳ ﾊﾟﾝ");
    }

    #[test]
    fn variants_swap_both_ways() {
        assert_eq!(swap_variants("高橋", 0), "髙橋");
        assert_eq!(swap_variants("髙橋", 0), "高橋");
        assert_eq!(swap_variants("渡辺", 1), "渡邉");
        assert!(has_variant("山﨑") && !has_variant("佐藤"));
    }
}
