//! Data providers (医療情報取扱事業者) and the records they send.

use serde::{Deserialize, Serialize};

use crate::{Event, IdentityAttributes};

/// The code under which a data provider is registered with the processor, e.g. a 10-digit
/// 保険医療機関コード or a 6-digit 市区町村コード prefixed by its kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProviderId(pub String);

impl ProviderId {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of organisation a provider is; it decides which formats it usually sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// 病院: sends SS-MIX2 or FHIR.
    Hospital,
    /// 診療所: sends UKE claims or FHIR.
    Clinic,
    /// 薬局: sends 調剤 UKE claims.
    Pharmacy,
    /// 健診機関: sends 特定健診 XML.
    CheckupCentre,
    /// 介護事業所: sends 介護 claims.
    CareProvider,
    /// 市区町村: sends mapped CSV (妊婦健診, 乳幼児健診, vaccinations, deaths).
    Municipality,
}

impl ProviderKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ProviderKind; 6] = [
        ProviderKind::Hospital,
        ProviderKind::Clinic,
        ProviderKind::Pharmacy,
        ProviderKind::CheckupCentre,
        ProviderKind::CareProvider,
        ProviderKind::Municipality,
    ];

    /// A stable lowercase name, used in configuration and the registry.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Hospital => "hospital",
            ProviderKind::Clinic => "clinic",
            ProviderKind::Pharmacy => "pharmacy",
            ProviderKind::CheckupCentre => "checkup_centre",
            ProviderKind::CareProvider => "care_provider",
            ProviderKind::Municipality => "municipality",
        }
    }

    /// The inverse of [`ProviderKind::as_str`].
    pub fn parse(s: &str) -> Option<ProviderKind> {
        ProviderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One person's data as one provider sent it in one record of a submission (a FHIR Bundle, an
/// SS-MIX2 patient directory, a 特定健診 CDA document, a UKE RE block …).
///
/// The identity half goes to the vault; the events go to the research store under an opaque key.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The person's identifying attributes as this provider knows them.
    pub identity: IdentityAttributes,
    /// The canonical events the record carries, in source order.
    pub events: Vec<Event>,
}
