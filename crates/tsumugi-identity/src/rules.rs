//! Deterministic match keys (rule set [`RULE_VERSION`]) computed from identity attributes.
//!
//! Each rule names a combination of normalized attributes; two records sharing a key under a
//! *link* rule are the same person. Rules are built so that twins (same family name, birth date,
//! address and insurance, different given names) share no key: every rule includes the given name
//! or the insurance branch number (枝番), which differs between household members.
//! *Opt-out* rules are looser and are used only to find the person a stop request names.

use tsumugi_model::{IdentityAttributes, PersonName};

use crate::normalize::{self, NORMALIZATION_VERSION};

/// Version of the rule set; it includes the normalization version.
pub const RULE_VERSION: &str = "det-v1+norm-v1";

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

fn full(
    family: &Option<String>,
    given: &Option<String>,
    f: fn(&str) -> String,
) -> Option<(String, String)> {
    let family = f(family.as_deref()?);
    let given = f(given.as_deref()?);
    (!family.is_empty() && !given.is_empty()).then_some((family, given))
}

fn kanji_of(n: &PersonName) -> Option<(String, String)> {
    full(&n.family_kanji, &n.given_kanji, normalize::kanji)
}

fn kana_of(n: &PersonName) -> Option<(String, String)> {
    full(&n.family_kana, &n.given_kana, normalize::kana)
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
        .filter_map(|ad| ad.municipality_code.as_deref().map(normalize::digits))
        .filter(|m| m.len() >= 5)
        .map(|m| m[..5].to_owned())
        .collect();
    for n in &a.names {
        let kanji = kanji_of(n);
        let kana = kana_of(n);
        if let (Some((f, g)), Some(dob)) = (&kanji, &dob) {
            push(
                "kanji_dob_sex",
                vec![format!("{f}{g}"), dob.clone(), sex.clone()],
            );
        }
        if let (Some((f, g)), Some(dob)) = (&kana, &dob) {
            push(
                "kana_dob_sex",
                vec![format!("{f}{g}"), dob.clone(), sex.clone()],
            );
            push("kana_dob", vec![format!("{f}{g}"), dob.clone()]);
        }
        if let (Some((_, gk)), Some((_, gr)), Some(dob)) = (&kanji, &kana, &dob) {
            for m in &munis {
                push(
                    "given_dob_sex_muni",
                    vec![gk.clone(), gr.clone(), dob.clone(), sex.clone(), m.clone()],
                );
            }
        }
        if let (Some((fk, gk)), Some((fr, gr)), Some(year)) = (&kanji, &kana, &year) {
            for m in &munis {
                push(
                    "name_year_sex_muni",
                    vec![
                        format!("{fk}{gk}"),
                        format!("{fr}{gr}"),
                        year.clone(),
                        sex.clone(),
                        m.clone(),
                    ],
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
    use tsumugi_model::{Address, Insurance, Sex};

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
