//! Writes [`SourceRecord`]s as one 医科 UKE file (CP932, CRLF): `IR`, then per record `RE`,
//! `HO`/`SN`/`KO`, `SY`, `SI`/`IY`/`TO`, `BU`, then `GO`.
//!
//! What UKE carries, and so what reading the output gives back:
//!
//! - identity: the first name (kanji and kana, family and given split by a full-width space),
//!   sex, birth date, patient ID (カルテ番号等); the first insurance as `HO` (its 枝番 as `SN`),
//!   later ones as `KO` (insurer and number only). Addresses and death are not carried;
//! - events: diagnoses coded `receipt_disease` (`SY`, any date); procedures and encounters coded
//!   [`CodeSystem::ReceiptProcedure`] (`SI`), prescriptions coded [`CodeSystem::ReceiptDrug`]
//!   (`IY`) and procedures coded `receipt_device` (`TO`) dated in `year_month`, one line per
//!   event, the value written as the day's count (rounded; absent or < 1 → 1, capped at 999);
//!   inpatient encounters coded `dpc` (`BU`). Other events are not written.
//!
//! Commas and line breaks inside values are replaced (`，`, removed), since UKE has no quoting;
//! characters outside CP932 become numeric character references (encoding_rs behaviour).

use chrono::Datelike;
use encoding_rs::SHIFT_JIS;
use tsumugi_model::{
    CodeSystem, Date, EncounterClass, Event, EventKind, IdentityAttributes, Sex, SourceRecord,
};

use crate::uke::{DPC, RECEIPT_DEVICE, RECEIPT_DISEASE};

/// Writes `records` as the claims of `provider_code` (医療機関コード, 7 digits) for the claim
/// month `year_month` (any day of it); returns the file's bytes.
///
/// ```
/// use chrono::NaiveDate;
/// use tsumugi_formats::uke::{UkeReader, write_claims};
/// use tsumugi_model::{IdentityAttributes, SourceRecord};
///
/// let month = NaiveDate::from_ymd_opt(2024, 4, 1).unwrap();
/// let record = SourceRecord { identity: IdentityAttributes::default(), events: vec![] };
/// let bytes = write_claims("1234567", month, &[record.clone()]);
/// let back: Vec<_> = UkeReader::new("w.UKE", &bytes[..], None).collect();
/// assert_eq!(back[0].result.as_ref().unwrap(), &record);
/// ```
pub fn write_claims(provider_code: &str, year_month: Date, records: &[SourceRecord]) -> Vec<u8> {
    let ym = format!("{:04}{:02}", year_month.year(), year_month.month());
    let mut out = String::new();
    line(
        &mut out,
        &["IR", "1", "13", "1", provider_code, "", "", &ym, "00", ""],
    );
    for (idx, record) in records.iter().enumerate() {
        write_claim(&mut out, idx + 1, &ym, year_month, record);
    }
    let n = records.len().to_string();
    line(&mut out, &["GO", &n, "0", "99"]);
    let (bytes, _, _) = SHIFT_JIS.encode(&out);
    bytes.into_owned()
}

fn write_claim(out: &mut String, n: usize, ym: &str, month: Date, record: &SourceRecord) {
    let id: &IdentityAttributes = &record.identity;
    let mut re = vec![String::new(); 38];
    re[0] = "RE".into();
    re[1] = n.to_string();
    re[2] = "1112".into();
    re[3] = ym.to_owned();
    if let Some(name) = id.names.first() {
        re[4] = join_name(name.family_kanji.as_deref(), name.given_kanji.as_deref());
        re[36] = join_name(name.family_kana.as_deref(), name.given_kana.as_deref());
    }
    re[5] = match id.sex {
        Sex::Male => "1",
        Sex::Female => "2",
        Sex::Unknown => "",
    }
    .into();
    if let Some(dob) = id.birth_date {
        re[6] = dob.format("%Y%m%d").to_string();
    }
    re[13] = clean(id.patient_id.as_deref().unwrap_or(""));
    line_owned(out, &re);
    for (i, ins) in id.insurances.iter().enumerate() {
        let f = |s: &Option<String>| clean(s.as_deref().unwrap_or(""));
        if i == 0 {
            let mut ho = vec![String::new(); 15];
            ho[0] = "HO".into();
            ho[1] = f(&ins.insurer_number);
            ho[2] = f(&ins.symbol);
            ho[3] = f(&ins.number);
            line_owned(out, &ho);
            if ins.branch.is_some() {
                let mut sn = vec![String::new(); 9];
                sn[0] = "SN".into();
                sn[1] = "1".into();
                sn[2] = "01".into();
                sn[6] = f(&ins.branch);
                line_owned(out, &sn);
            }
        } else {
            let mut ko = vec![String::new(); 12];
            ko[0] = "KO".into();
            ko[1] = f(&ins.insurer_number);
            ko[2] = f(&ins.number);
            line_owned(out, &ko);
        }
    }
    let mut last_category = String::new();
    for event in &record.events {
        write_event(out, event, month, &mut last_category);
    }
}

fn write_event(out: &mut String, event: &Event, month: Date, last_category: &mut String) {
    let Some(code) = &event.code else { return };
    let value = clean(&code.value);
    let other = |name: &str| code.system == CodeSystem::Other(name.to_owned());
    if event.kind == EventKind::Diagnosis && other(RECEIPT_DISEASE) {
        let date = event.date.format("%Y%m%d").to_string();
        line(out, &["SY", &value, &date, "1", "", "", "", ""]);
        return;
    }
    if event.kind == EventKind::Encounter(EncounterClass::Inpatient) && other(DPC) {
        let date = event.date.format("%Y%m%d").to_string();
        let end = event
            .end_date
            .map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default();
        line(out, &["BU", &value, &date, &end]);
        return;
    }
    let (kind, category, n_cols, first_day) = match (event.kind, &code.system) {
        (EventKind::Encounter(EncounterClass::Outpatient), CodeSystem::ReceiptProcedure) => {
            ("SI", "12", 44, 13)
        }
        (EventKind::Encounter(EncounterClass::Inpatient), CodeSystem::ReceiptProcedure) => {
            ("SI", "90", 44, 13)
        }
        (EventKind::Procedure, CodeSystem::ReceiptProcedure) => ("SI", "80", 44, 13),
        (EventKind::Prescription, CodeSystem::ReceiptDrug) => ("IY", "21", 44, 13),
        (EventKind::Procedure, _) if other(RECEIPT_DEVICE) => ("TO", "80", 48, 17),
        _ => return,
    };
    if event.date.year() != month.year() || event.date.month() != month.month() {
        return;
    }
    let count = event
        .value
        .filter(|v| v.is_finite())
        .map_or(1.0, f64::round)
        .clamp(1.0, 999.0)
        .to_string();
    let mut cols = vec![String::new(); n_cols];
    cols[0] = kind.into();
    if category != last_category {
        cols[1] = category.into();
        category.clone_into(last_category);
    }
    cols[2] = "1".into();
    cols[3] = value;
    if kind != "SI" {
        cols[4] = "1".into();
    }
    cols[6] = count.clone();
    cols[first_day + event.date.day0() as usize] = count;
    line_owned(out, &cols);
}

fn join_name(family: Option<&str>, given: Option<&str>) -> String {
    match (family, given) {
        (None, None) => String::new(),
        (Some(f), None) => clean(f),
        (f, Some(g)) => format!("{}　{}", clean(f.unwrap_or("")), clean(g)),
    }
}

/// UKE has no quoting: a comma inside a value becomes a full-width comma, line breaks go.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .map(|c| if c == ',' { '，' } else { c })
        .collect()
}

fn line(out: &mut String, cols: &[&str]) {
    out.push_str(&cols.join(","));
    out.push_str("\r\n");
}

fn line_owned(out: &mut String, cols: &[String]) {
    out.push_str(&cols.join(","));
    out.push_str("\r\n");
}
