//! The plaintext layout of sealed vault columns (JSON before encryption).
//!
//! Identifier types in `tsumugi-model` deliberately have no `Serialize`; these private mirrors
//! are the one place that turns them into bytes, and those bytes only ever go into
//! [`FieldCipher::seal`](crate::crypto::FieldCipher).

use serde::{Deserialize, Serialize};
use tsumugi_model::{Address, Date, IdentityAttributes, Insurance, PersonName, Sex};

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct NameJ(
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct AddressJ(Option<String>, Option<String>, Option<String>);

impl AddressJ {
    /// The 6-digit municipality code, when stated: the current municipality's (a former
    /// municipality's code is that of the municipality that absorbed it).
    pub(crate) fn municipality(self) -> Option<String> {
        self.2
            .filter(|c| c.len() == 6 && c.chars().all(|c| c.is_ascii_digit()))
            .and_then(|c| crate::normalize::municipality(Some(&c), None))
    }
}

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct InsuranceJ(
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(crate) fn names(a: &IdentityAttributes) -> Vec<NameJ> {
    a.names
        .iter()
        .map(|n| {
            NameJ(
                n.family_kanji.clone(),
                n.given_kanji.clone(),
                n.family_kana.clone(),
                n.given_kana.clone(),
            )
        })
        .collect()
}

pub(crate) fn addresses(a: &IdentityAttributes) -> Vec<AddressJ> {
    a.addresses
        .iter()
        .map(|ad| {
            AddressJ(
                ad.postal_code.clone(),
                ad.text.clone(),
                ad.municipality_code.clone(),
            )
        })
        .collect()
}

pub(crate) fn insurances(a: &IdentityAttributes) -> Vec<InsuranceJ> {
    a.insurances
        .iter()
        .map(|i| {
            InsuranceJ(
                i.insurer_number.clone(),
                i.symbol.clone(),
                i.number.clone(),
                i.branch.clone(),
            )
        })
        .collect()
}

/// Rebuilds identity attributes from their sealed parts.
pub(crate) fn attributes(
    patient_id: Option<String>,
    names: Vec<NameJ>,
    birth_date: Option<Date>,
    sex: Sex,
    addresses: Vec<AddressJ>,
    insurances: Vec<InsuranceJ>,
    deceased_on: Option<Date>,
) -> IdentityAttributes {
    IdentityAttributes {
        patient_id,
        names: names
            .into_iter()
            .map(
                |NameJ(family_kanji, given_kanji, family_kana, given_kana)| PersonName {
                    family_kanji,
                    given_kanji,
                    family_kana,
                    given_kana,
                },
            )
            .collect(),
        birth_date,
        sex,
        addresses: addresses
            .into_iter()
            .map(|AddressJ(postal_code, text, municipality_code)| Address {
                postal_code,
                text,
                municipality_code,
            })
            .collect(),
        insurances: insurances
            .into_iter()
            .map(
                |InsuranceJ(insurer_number, symbol, number, branch)| Insurance {
                    insurer_number,
                    symbol,
                    number,
                    branch,
                },
            )
            .collect(),
        deceased_on,
    }
}

/// A stop request's identity part, sealed as one value.
#[derive(Serialize, Deserialize)]
pub(crate) struct RequestIdentityJ {
    pub(crate) patient_id: Option<String>,
    pub(crate) names: Vec<NameJ>,
    pub(crate) birth_date: Option<Date>,
    pub(crate) sex: Sex,
    pub(crate) addresses: Vec<AddressJ>,
    pub(crate) insurances: Vec<InsuranceJ>,
}

impl RequestIdentityJ {
    /// The request's identity as attributes.
    pub(crate) fn into_attributes(self) -> IdentityAttributes {
        attributes(
            self.patient_id,
            self.names,
            self.birth_date,
            self.sex,
            self.addresses,
            self.insurances,
            None,
        )
    }

    pub(crate) fn from_attributes(a: &IdentityAttributes) -> RequestIdentityJ {
        RequestIdentityJ {
            patient_id: a.patient_id.clone(),
            names: names(a),
            birth_date: a.birth_date,
            sex: a.sex,
            addresses: addresses(a),
            insurances: insurances(a),
        }
    }
}
