//! Identifying attributes of a person as one source record states them.
//!
//! These values are identifiers (個人情報). Only the identity zone may store them, and then only
//! encrypted. The types here therefore implement neither `Display` nor `Serialize`, and their
//! `Debug` prints no value, so an identifier cannot reach a log line or an error by accident.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Date;

/// Administrative sex as recorded (HL7 / FHIR `gender`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男性
    Male,
    /// 女性
    Female,
    /// 不明 or not stated.
    #[default]
    Unknown,
}

impl Sex {
    /// `M`, `F` or `U`, as stored in the research store.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Unknown => "U",
        }
    }

    /// The inverse of [`Sex::code`].
    pub fn from_code(s: &str) -> Sex {
        match s {
            "M" => Sex::Male,
            "F" => Sex::Female,
            _ => Sex::Unknown,
        }
    }
}

/// One name of a person: the kanji form (FHIR `IDE` representation) and the kana reading
/// (`SYL`), each as "family given" with whatever spacing the source used.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PersonName {
    /// Family name in kanji (漢字氏名の氏).
    pub family_kanji: Option<String>,
    /// Given name in kanji.
    pub given_kanji: Option<String>,
    /// Family name in kana (カナ氏名の氏), in whatever script the source used.
    pub family_kana: Option<String>,
    /// Given name in kana.
    pub given_kana: Option<String>,
}

/// An address as one source states it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// 郵便番号, with or without hyphen.
    pub postal_code: Option<String>,
    /// The address line(s) as written.
    pub text: Option<String>,
    /// 全国地方公共団体コード (6 digits with check digit, or 5 without), when the source gives it.
    pub municipality_code: Option<String>,
}

/// Health-insurance membership as one source states it (one entry of a person's insurer history).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Insurance {
    /// 保険者番号 (6 or 8 digits).
    pub insurer_number: Option<String>,
    /// 被保険者証記号.
    pub symbol: Option<String>,
    /// 被保険者証番号.
    pub number: Option<String>,
    /// 枝番 (two digits, per person within a household).
    pub branch: Option<String>,
}

/// Everything a source record says about who the person is.
///
/// Multi-valued fields keep histories: every name, address and insurance the source lists.
#[derive(Clone, Default, PartialEq)]
pub struct IdentityAttributes {
    /// The provider's own patient ID (患者ID), unique within that provider.
    pub patient_id: Option<String>,
    /// Names, current first.
    pub names: Vec<PersonName>,
    /// Birth date, when it parsed.
    pub birth_date: Option<Date>,
    /// Sex.
    pub sex: Sex,
    /// Addresses, current first.
    pub addresses: Vec<Address>,
    /// Insurances, current first.
    pub insurances: Vec<Insurance>,
    /// Date of death, when the source states one (also an event; kept here for linkage).
    pub deceased_on: Option<Date>,
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), " { <redacted> }"))
            }
        }
    )*};
}
redacted_debug!(PersonName, Address, Insurance, IdentityAttributes);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_values() {
        let attrs = IdentityAttributes {
            patient_id: Some("P-CANARY-1".into()),
            names: vec![PersonName {
                family_kanji: Some("髙橋".into()),
                ..PersonName::default()
            }],
            ..IdentityAttributes::default()
        };
        let s = format!("{attrs:?} {:?}", attrs.names[0]);
        assert!(!s.contains("CANARY") && !s.contains("髙橋"), "{s}");
    }
}
