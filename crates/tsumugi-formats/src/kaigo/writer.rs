//! Writes a [`SourceRecord`] as 介護 claims CSV lines (CP932, CRLF) in the layout of
//! [`crate::kaigo`].

use std::fmt::Write as _;

use encoding_rs::SHIFT_JIS;
use tsumugi_model::{CodeSystem, EventKind, Sex, SourceRecord};

use crate::kaigo::care_level_code;

/// Writes one line per [`EventKind::CareService`] event of `record` (日数・回数 `1`, 単位数 the
/// event value, which must be a whole number of units up to `u32::MAX`; other service events are
/// left out). The 要介護状態区分コード of a line is that of the latest
/// [`EventKind::CareCertification`] before it (`01` 非該当 when there is none). Identity columns
/// come from the first insurance, birth date, sex and the first name's kana (column 10, family
/// and given joined by a space; commas become spaces). The patient id is not written: the reader
/// derives it from the insurance ([`crate::kaigo::patient_id`]).
pub fn write_kaigo(record: &SourceRecord) -> Vec<u8> {
    let id = &record.identity;
    let ins = id.insurances.first();
    let insurer = ins.and_then(|i| i.insurer_number.as_deref()).unwrap_or("");
    let insured = ins.and_then(|i| i.number.as_deref()).unwrap_or("");
    let birth = id
        .birth_date
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default();
    let sex = match id.sex {
        Sex::Male => "1",
        Sex::Female => "2",
        Sex::Unknown => "",
    };
    let kana = id
        .names
        .first()
        .map(|n| {
            [&n.family_kana, &n.given_kana]
                .into_iter()
                .flatten()
                .map(|s| s.replace([',', '"', '\r', '\n'], " "))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let mut level = "01";
    let mut out = String::new();
    for e in &record.events {
        let Some(code) = &e.code else { continue };
        match (e.kind, &code.system) {
            (EventKind::CareCertification, CodeSystem::CareLevel) => {
                level = care_level_code(&code.value).unwrap_or("01");
            }
            (EventKind::CareService, CodeSystem::CareService) => {
                let Some(units) = e
                    .value
                    .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= f64::from(u32::MAX))
                else {
                    continue;
                };
                let _ = write!(
                    out,
                    "{insurer},{insured},{birth},{sex},{},{level},{},{units},1,{kana}\r\n",
                    e.date.format("%Y%m"),
                    code.value
                );
            }
            _ => {}
        }
    }
    let (bytes, _, _) = SHIFT_JIS.encode(&out);
    bytes.into_owned()
}
