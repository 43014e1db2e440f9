//! Writes [`SourceRecord`]s as one UKE file (CP932, CRLF): 医科 claims ([`write_claims`]: `IR`,
//! then per record `RE`, `HO`/`SN`/`KO`, `SY`, `SI`/`IY`/`TO`, `BU`, then `GO`) or 調剤 claims
//! ([`write_pharmacy_claims`]: `YK`, then per record `RE`, `HO`/`SN`/`KO`, one `SH` + `CZ` +
//! `IY`/`TO` per dispensing, then `GO`).
//!
//! What UKE carries, and so what reading the output gives back:
//!
//! - identity (both): the first name (kanji and kana, family and given split by a full-width
//!   space), sex, birth date, patient ID (カルテ番号等 / 調剤録番号等); the first insurance as
//!   `HO` (its 枝番 as `SN`), later ones as `KO` (insurer and number only). Addresses and death
//!   are not carried;
//! - 医科 events: diagnoses coded `receipt_disease` (`SY`, any date); procedures and encounters
//!   coded [`CodeSystem::ReceiptProcedure`] (`SI`), prescriptions coded
//!   [`CodeSystem::ReceiptDrug`] (`IY`) and procedures coded `receipt_device` (`TO`) dated in
//!   `year_month`, one line per event, the value written as the day's count (rounded; absent or
//!   < 1 → 1, capped at 999); inpatient encounters coded `dpc` (`BU`);
//! - 調剤 events: dispensings coded [`CodeSystem::ReceiptDrug`] (`IY`, the value as `CZ`
//!   調剤数量) or `receipt_device` (`TO`, the value as 使用量), dated in `year_month` (`CZ`
//!   調剤年月日), counts rounded as above.
//!
//! Other events are not written. Commas and line breaks inside values are replaced (`，`,
//! removed), since UKE has no quoting; characters outside CP932 become numeric character
//! references (encoding_rs behaviour).

use chrono::Datelike;
use encoding_rs::SHIFT_JIS;
use tsumugi_model::{
    Code, CodeSystem, Date, EncounterClass, Event, EventKind, IdentityAttributes, Sex, SourceRecord,
};

use crate::uke::records::Layout;
use crate::uke::{DPC, RECEIPT_DEVICE, RECEIPT_DISEASE};

/// Writes `records` as the 医科 claims of `provider_code` (医療機関コード, 7 digits) for the claim
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
    write_file(Layout::Medical, provider_code, year_month, records)
}

/// Writes `records` as the 調剤 claims of `pharmacy_code` (薬局コード, 7 digits) for the claim
/// month `year_month` (any day of it); returns the file's bytes.
///
/// ```
/// use chrono::NaiveDate;
/// use tsumugi_formats::uke::{UkeReader, write_pharmacy_claims};
/// use tsumugi_model::{Code, CodeSystem, Event, EventKind, IdentityAttributes, SourceRecord};
///
/// let day = NaiveDate::from_ymd_opt(2024, 4, 9).unwrap();
/// let dispensed = Event {
///     kind: EventKind::Dispensing,
///     date: day,
///     end_date: None,
///     code: Some(Code::new(CodeSystem::ReceiptDrug, "610406079")),
///     value: Some(14.0),
///     unit: None,
/// };
/// let record = SourceRecord { identity: IdentityAttributes::default(), events: vec![dispensed] };
/// let bytes = write_pharmacy_claims("4123456", day, &[record.clone()]);
/// let back: Vec<_> = UkeReader::new("w.UKE", &bytes[..], None).collect();
/// assert_eq!(back[0].result.as_ref().unwrap(), &record);
/// ```
pub fn write_pharmacy_claims(
    pharmacy_code: &str,
    year_month: Date,
    records: &[SourceRecord],
) -> Vec<u8> {
    write_file(Layout::Pharmacy, pharmacy_code, year_month, records)
}

fn write_file(layout: Layout, code: &str, year_month: Date, records: &[SourceRecord]) -> Vec<u8> {
    let ym = format!("{:04}{:02}", year_month.year(), year_month.month());
    let code = clean(code);
    let mut out = String::new();
    match layout {
        Layout::Medical => line(
            &mut out,
            &["IR", "1", "13", "1", &code, "", "", &ym, "00", ""],
        ),
        Layout::Pharmacy => line(&mut out, &["YK", "1", "13", "4", &code, "", &ym, "00", ""]),
    }
    for (idx, record) in records.iter().enumerate() {
        write_identity(&mut out, layout, idx + 1, &ym, &record.identity);
        let mut last_category = String::new();
        let mut n_rp = 0;
        for event in &record.events {
            match layout {
                Layout::Medical => write_event(&mut out, event, year_month, &mut last_category),
                Layout::Pharmacy => write_dispensing(&mut out, event, year_month, &mut n_rp),
            }
        }
    }
    let n = records.len().to_string();
    line(&mut out, &["GO", &n, "0", "99"]);
    let (bytes, _, _) = SHIFT_JIS.encode(&out);
    bytes.into_owned()
}

/// `RE`, then `HO` (+ `SN`) and `KO`.
fn write_identity(out: &mut String, layout: Layout, n: usize, ym: &str, id: &IdentityAttributes) {
    let (n_cols, pid_col, kana_col, n_ho) = match layout {
        Layout::Medical => (38, 13, 36, 15),
        Layout::Pharmacy => (42, 35, 41, 14),
    };
    let mut re = vec![String::new(); n_cols];
    re[0] = "RE".into();
    re[1] = n.to_string();
    re[2] = "1112".into();
    re[3] = ym.to_owned();
    if let Some(name) = id.names.first() {
        re[4] = join_name(name.family_kanji.as_deref(), name.given_kanji.as_deref());
        re[kana_col] = join_name(name.family_kana.as_deref(), name.given_kana.as_deref());
    }
    re[5] = match id.sex {
        Sex::Male => "1",
        Sex::Female => "2",
        Sex::Unknown => "",
    }
    .into();
    if let Some(dob) = id.birth_date {
        re[6] = ymd(dob);
    }
    re[pid_col] = clean(id.patient_id.as_deref().unwrap_or(""));
    line_owned(out, &re);
    for (i, ins) in id.insurances.iter().enumerate() {
        let f = |s: &Option<String>| clean(s.as_deref().unwrap_or(""));
        if i == 0 {
            let mut ho = vec![String::new(); n_ho];
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
}

fn ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn in_month(d: Date, month: Date) -> bool {
    d.year() == month.year() && d.month() == month.month()
}

/// An event's value as a UKE count: rounded; absent, not finite or < 1 → 1; at most 999.
fn count(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map_or(1.0, f64::round)
        .clamp(1.0, 999.0)
        .to_string()
}

fn is_other(code: &Code, name: &str) -> bool {
    matches!(&code.system, CodeSystem::Other(s) if s == name)
}

fn write_event(out: &mut String, event: &Event, month: Date, last_category: &mut String) {
    let Some(code) = &event.code else { return };
    let value = clean(&code.value);
    if event.kind == EventKind::Diagnosis && is_other(code, RECEIPT_DISEASE) {
        line(out, &["SY", &value, &ymd(event.date), "1", "", "", "", ""]);
        return;
    }
    if event.kind == EventKind::Encounter(EncounterClass::Inpatient) && is_other(code, DPC) {
        let end = event.end_date.map(ymd).unwrap_or_default();
        line(out, &["BU", &value, &ymd(event.date), &end]);
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
        (EventKind::Procedure, _) if is_other(code, RECEIPT_DEVICE) => ("TO", "80", 48, 17),
        _ => return,
    };
    if !in_month(event.date, month) {
        return;
    }
    let count = count(event.value);
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

/// One dispensing as a prescription of its own: `SH` (剤形 1 内服, 9 材料), `CZ` (処方月日 and
/// 調剤年月日 the event's date), then `IY` or `TO`.
fn write_dispensing(out: &mut String, event: &Event, month: Date, n_rp: &mut u32) {
    let Some(code) = &event.code else { return };
    let device = is_other(code, RECEIPT_DEVICE);
    if event.kind != EventKind::Dispensing
        || !(device || code.system == CodeSystem::ReceiptDrug)
        || !in_month(event.date, month)
    {
        return;
    }
    *n_rp += 1;
    let rp = format!("{:02}", *n_rp);
    let count = count(event.value);
    line(
        out,
        &[
            "SH",
            &rp,
            if device { "9" } else { "1" },
            "",
            "",
            "0",
            "",
            "",
            "",
            "",
        ],
    );
    let mut cz = vec![String::new(); 70];
    cz[0] = "CZ".into();
    cz[1] = "1".into();
    cz[2] = ymd(event.date);
    cz[3] = ymd(event.date);
    cz[4] = "1".into();
    cz[5] = if device { "1".into() } else { count.clone() };
    line_owned(out, &cz);
    let value = clean(&code.value);
    if device {
        line(out, &["TO", "1", &value, &count, "", "", ""]);
    } else {
        line(out, &["IY", "1", &value, "1", "", "", "", "", "", ""]);
    }
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
