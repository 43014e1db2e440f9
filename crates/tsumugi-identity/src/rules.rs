//! Deterministic match keys (rule set [`RULE_VERSION`]) computed from identity attributes.
//!
//! Each rule names a combination of normalized attributes; two records sharing a key under a
//! *link* rule are the same person. Rules are built so that twins (same family name, birth date,
//! address and insurance, different given names) share no key: every rule includes the given name
//! or the insurance branch number (枝番), which differs between household members.
//! *Opt-out* rules are looser and are used only to find the person a stop request names.

use tsumugi_model::IdentityAttributes;

use crate::normalize::{self, NORMALIZATION_VERSION};

/// Version of the rule set; it includes the normalization version.
pub const RULE_VERSION: &str = "det-v1+norm-v3";

/// Rules used to link records to persons.
pub(crate) const LINK_RULES: &[&str] = &[
    "kanji_dob_sex",
    "kana_dob_sex",
    "insurance_dob",
    "given_dob_sex_muni",
    "name_year_sex_muni",
];

/// One match key before hashing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct MatchKey {
    pub(crate) rule: &'static str,
    pub(crate) parts: Vec<String>,
}

/// The normalized (family, given) parts of a name: both fields when the source split the
/// name, or the whole name split at its first space when the source wrote it whole.
fn split(
    family: &Option<String>,
    given: &Option<String>,
    f: fn(&str) -> String,
) -> Option<(String, String)> {
    let family_raw = family.as_deref().unwrap_or_default();
    let given_raw = given.as_deref().unwrap_or_default();
    let (fam, giv) = if given_raw.trim().is_empty() {
        let t = family_raw.trim();
        let at = t.find(|c: char| c.is_whitespace() || c == '\u{3000}')?;
        (&t[..at], &t[at..])
    } else {
        (family_raw, given_raw)
    };
    let (fam, giv) = (f(fam), f(giv));
    (!fam.is_empty() && !giv.is_empty()).then_some((fam, giv))
}

/// The normalized full name, however the source split or spaced it.
fn whole(family: &Option<String>, given: &Option<String>, f: fn(&str) -> String) -> Option<String> {
    let full = f(&format!(
        "{}{}",
        family.as_deref().unwrap_or_default(),
        given.as_deref().unwrap_or_default()
    ));
    (!full.is_empty()).then_some(full)
}

/// Every match key of a record or request (link and opt-out rules), sorted and deduplicated.
pub(crate) fn match_keys(a: &IdentityAttributes) -> Vec<MatchKey> {
    let mut out = Vec::new();
    let mut push = |rule: &'static str, parts: Vec<String>| {
        let mut p = vec![NORMALIZATION_VERSION.to_owned()];
        p.extend(parts);
        out.push(MatchKey { rule, parts: p });
    };
    let sex = a.sex.code().to_owned();
    let dob = a.birth_date.map(|d| d.to_string());
    let year = a.birth_date.map(|d| d.format("%Y").to_string());
    let munis: Vec<String> = a
        .addresses
        .iter()
        .filter_map(|ad| normalize::municipality(ad.municipality_code.as_deref(), None))
        .filter_map(|m| m.get(..5).map(str::to_owned))
        .collect();
    for n in &a.names {
        let kanji_full = whole(&n.family_kanji, &n.given_kanji, normalize::kanji);
        let kana_full = whole(&n.family_kana, &n.given_kana, normalize::kana);
        let kanji = split(&n.family_kanji, &n.given_kanji, normalize::kanji);
        let kana = split(&n.family_kana, &n.given_kana, normalize::kana);
        if let (Some(k), Some(dob)) = (&kanji_full, &dob) {
            push("kanji_dob_sex", vec![k.clone(), dob.clone(), sex.clone()]);
        }
        if let (Some(k), Some(dob)) = (&kana_full, &dob) {
            push("kana_dob_sex", vec![k.clone(), dob.clone(), sex.clone()]);
            push("kana_dob", vec![k.clone(), dob.clone()]);
        }
        if let (Some((_, gk)), Some((_, gr)), Some(dob)) = (&kanji, &kana, &dob) {
            for m in &munis {
                push(
                    "given_dob_sex_muni",
                    vec![gk.clone(), gr.clone(), dob.clone(), sex.clone(), m.clone()],
                );
            }
        }
        if let (Some(k), Some(r), Some(year)) = (&kanji_full, &kana_full, &year) {
            for m in &munis {
                push(
                    "name_year_sex_muni",
                    vec![k.clone(), r.clone(), year.clone(), sex.clone(), m.clone()],
                );
            }
        }
    }
    if let Some(dob) = &dob {
        for ins in &a.insurances {
            let fields = [&ins.insurer_number, &ins.symbol, &ins.number, &ins.branch];
            if fields
                .iter()
                .all(|f| f.as_deref().is_some_and(|s| !s.trim().is_empty()))
            {
                let mut parts: Vec<String> = fields
                    .iter()
                    .map(|f| normalize::kanji(f.as_deref().unwrap_or_default()))
                    .collect();
                parts.push(dob.clone());
                push("insurance_dob", parts);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsumugi_model::{Address, Insurance, PersonName, Sex};

    fn person(
        family: &str,
        given: &str,
        kana_f: &str,
        kana_g: &str,
        dob: &str,
    ) -> IdentityAttributes {
        IdentityAttributes {
            names: vec![PersonName {
                family_kanji: Some(family.into()),
                given_kanji: Some(given.into()),
                family_kana: Some(kana_f.into()),
                given_kana: Some(kana_g.into()),
            }],
            birth_date: tsumugi_model::wareki::parse_date(dob).ok(),
            sex: Sex::Female,
            addresses: vec![Address {
                municipality_code: Some("131016".into()),
                ..Address::default()
            }],
            insurances: vec![Insurance {
                insurer_number: Some("06139979".into()),
                symbol: Some("12".into()),
                number: Some("345".into()),
                branch: Some("01".into()),
            }],
            ..IdentityAttributes::default()
        }
    }

    fn shared(a: &IdentityAttributes, b: &IdentityAttributes) -> Vec<&'static str> {
        let kb = match_keys(b);
        let mut rules: Vec<&'static str> = match_keys(a)
            .into_iter()
            .filter(|k| kb.contains(k))
            .map(|k| k.rule)
            .collect();
        rules.dedup();
        rules
    }

    #[test]
    fn noise_variants_share_link_keys() {
        let a = person("髙橋", "花子", "タカハシ", "ハナコ", "1980-02-03");
        let b = person("高橋", "花子", "たかはし", "はなこ", "昭和55年2月3日");
        assert!(shared(&a, &b).contains(&"kanji_dob_sex"));
        assert!(shared(&a, &b).contains(&"kana_dob_sex"));
    }

    #[test]
    fn names_written_whole_match_split_names() {
        let a = person("山田", "花子", "ヤマダ", "ハナコ", "1980-02-03");
        let mut b = person("山田　花子", "", "ﾔﾏﾀﾞ ﾊﾅｺ", "", "1980-02-03");
        b.insurances.clear();
        let rules = shared(&a, &b);
        assert!(
            rules.contains(&"kanji_dob_sex") && rules.contains(&"given_dob_sex_muni"),
            "{rules:?}"
        );
        let mut c = person("山田花子", "", "ヤマダハナコ", "", "1980-02-03");
        c.insurances.clear();
        assert!(shared(&a, &c).contains(&"kana_dob_sex"));
    }

    #[test]
    fn twins_share_no_link_key() {
        let a = person("山田", "花子", "ヤマダ", "ハナコ", "1980-02-03");
        let mut b = person("山田", "桃子", "ヤマダ", "モモコ", "1980-02-03");
        b.insurances[0].branch = Some("02".into());
        let link: Vec<_> = shared(&a, &b)
            .into_iter()
            .filter(|r| LINK_RULES.contains(r))
            .collect();
        assert!(link.is_empty(), "twins linked by {link:?}");
    }

    #[test]
    fn marriage_links_through_given_name_and_municipality() {
        let a = person("山田", "花子", "ヤマダ", "ハナコ", "1980-02-03");
        let mut b = person("佐藤", "花子", "サトウ", "ハナコ", "1980-02-03");
        b.insurances.clear();
        assert_eq!(shared(&a, &b), vec!["given_dob_sex_muni"]);
    }
}
